//! `abilene serve --check-replay`: does the state a restart restores equal
//! the whole log replayed from empty?
//!
//! A server restores from the newest snapshot that reads and the log's
//! tail ([`crate::serve`]). This builds that state the same way, and
//! again from the log's header alone by applying every record, and
//! compares the two by [`Scheduler::snapshot`] bytes (the same state
//! always gives the same bytes). On the way through the log, every
//! snapshot file the store would use is compared with the replayed state
//! at its record too. Meant for a store no server is running on (after a
//! crash, in tests); it writes nothing.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use abilene_scheduler::Scheduler;
use abilene_twin::scenario::Scenario;

use crate::engine::Engine;
use crate::serve::{ServeError, restore};
use crate::store::{SqliteStore, Store};

/// What a check compared, and what differed (nothing, when all is well).
#[derive(Debug, Clone, Default)]
pub struct ReplayCheck {
    /// The last record of the log.
    pub seq: u64,
    /// The snapshot the restore started from, if any.
    pub from_snapshot: Option<u64>,
    /// Records the restore replayed after it.
    pub tail: u64,
    /// Snapshot files compared with the replay at their record.
    pub snapshots_checked: usize,
    pub finished_jobs: usize,
    pub differences: Vec<String>,
}

impl ReplayCheck {
    pub fn ok(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Where two byte strings first differ, with some context from each.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let around = |s: &[u8]| {
        let from = at.saturating_sub(120);
        let to = (at + 120).min(s.len());
        String::from_utf8_lossy(&s[from..to]).into_owned()
    };
    format!(
        "{} vs {} bytes, first difference at byte {at}:\n  restored: …{}…\n  replayed: …{}…",
        a.len(),
        b.len(),
        around(a),
        around(b)
    )
}

/// Checks the store in `data` (made by a server on `sc`'s campus).
pub fn check_replay(sc: &'static Scenario, data: &Path) -> Result<ReplayCheck, ServeError> {
    // Opening a store creates it; a check must not.
    let db = data.join(crate::store::DB_FILE);
    if !db.is_file() {
        return Err(ServeError::Setup(format!(
            "{}: no store there (no {})",
            data.display(),
            crate::store::DB_FILE
        )));
    }
    let campus = Arc::new(sc.campus.clone());
    let mut store = SqliteStore::open(data)?;
    let rec = store.recover()?;
    let Some(header) = rec.header.clone() else {
        return Err(ServeError::Setup(format!(
            "{}: the store holds no log yet",
            data.display()
        )));
    };
    let snapshots = rec.snapshots;

    // The state as a restart restores it: the server's own code.
    let (restored, _, info, _) = restore(
        &mut store,
        sc,
        campus.clone(),
        &mut crate::serve::Held::default(),
    )?;

    // The state from empty: every record through the engine, as a server
    // that never stopped applied them.
    let start = header
        .start(campus)
        .map_err(|e| ServeError::Setup(e.to_string()))?;
    let mut replayed = Engine::new(start, 0, 0);
    let mut report = ReplayCheck {
        seq: info.seq,
        from_snapshot: info.from_snapshot,
        tail: info.replayed,
        ..ReplayCheck::default()
    };
    let mut gap = None;
    let mut bad_snapshots = Vec::new();
    store.read_log(0, &mut |r| {
        if r.seq != replayed.seq + 1 {
            gap = Some((replayed.seq, r.seq));
            return false;
        }
        replayed.apply(&r);
        for (seq, bytes) in &snapshots {
            if *seq == replayed.seq {
                report.snapshots_checked += 1;
                let now = replayed.sched.snapshot();
                if &now != bytes {
                    bad_snapshots.push(format!(
                        "the snapshot after record {seq} differs from the log replayed to it: {}",
                        first_difference(bytes, &now)
                    ));
                }
            }
        }
        true
    })?;
    report.differences.extend(bad_snapshots);
    if let Some((after, found)) = gap {
        report
            .differences
            .push(format!("the log skips from record {after} to {found}"));
    }
    if replayed.seq != restored.seq {
        report.differences.push(format!(
            "restored to record {}, replayed to record {}",
            restored.seq, replayed.seq
        ));
    }
    let a = restored.sched.snapshot();
    let b = replayed.sched.snapshot();
    if a != b {
        report.differences.push(format!(
            "the restored scheduler differs from the replayed one: {}",
            first_difference(&a, &b)
        ));
    }
    let ids = |e: &Engine| -> BTreeSet<u64> {
        e.finished_jobs(|_| true, None, None, usize::MAX)
            .iter()
            .map(|f| f.id)
            .collect()
    };
    let (fa, fb) = (ids(&restored), ids(&replayed));
    report.finished_jobs = fa.len();
    if fa != fb {
        let only_restored: Vec<_> = fa.difference(&fb).take(10).collect();
        let only_replayed: Vec<_> = fb.difference(&fa).take(10).collect();
        report.differences.push(format!(
            "finished jobs differ: {} restored, {} replayed; only restored (first 10): {only_restored:?}; only replayed: {only_replayed:?}",
            fa.len(),
            fb.len()
        ));
    }
    // Ids handed out must stay ahead of every id in the log (refused
    // submissions use ids too, so the stored counter may be further on).
    if restored.next_job_id < replayed.next_job_id {
        report.differences.push(format!(
            "the restored next job id {} is behind the log's {}",
            restored.next_job_id, replayed.next_job_id
        ));
    }
    // Scheduler::snapshot is what the comparison rests on: it must read back.
    if let Err(e) = Scheduler::restore(Arc::new(sc.campus.clone()), &a) {
        report.differences.push(format!(
            "the restored state's snapshot does not read back: {e}"
        ));
    }
    Ok(report)
}
