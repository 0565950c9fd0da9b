//! State that outlives the process: a versioned snapshot of everything the
//! scheduler decides from, and `restore`, which rebuilds the indices.
//!
//! What is kept: the tenancy as specs (and which nodes are retired), tray
//! flags, failure histories, every job slot (so slot numbers, which break
//! ties, stay the same), reservations, caps, counters and the free index's
//! bucket order. The free index is kept as it is, not rebuilt, because
//! placement takes the first domain of a bucket and the order of a bucket
//! follows history; `restore` checks it against a rebuild from the trays
//! (`check_invariants`) and refuses a snapshot whose parts disagree. Owner
//! map, quota usage, draw, queue, deadlines and the per-tenant job index
//! are rebuilt. Power is kept in whole watts, so the rebuilt draw is exact.
//!
//! A snapshot names the campus it was taken on by its fingerprint, and is
//! refused on any other campus, never silently applied.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use abilene_model::Campus;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::free::FreeIndex;
use crate::job::{JobId, JobKind, Time};
use crate::power::PowerLedger;
use crate::scheduler::{
    Gang, Head, Job, JobState, NO_JOB, RETIRED, Reservation, Scheduler, TrayState,
};
use crate::tenant::{TenantSpec, TenantTree};
use crate::topo::Topology;

/// The snapshot format this build writes and reads.
/// Format 2: tray flags are kept only for trays that have any.
pub const SNAPSHOT_FORMAT: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot format {found}; this build reads format {SNAPSHOT_FORMAT}")]
    Format { found: u32 },
    #[error(
        "snapshot was taken on campus {expected}, but the campus given is {found}: the campus file has changed since"
    )]
    CampusChanged { expected: String, found: String },
    #[error("snapshot does not decode: {0}")]
    Decode(String),
    #[error("snapshot is inconsistent: {0}")]
    Inconsistent(String),
}

/// The serialised header every snapshot starts with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotHeader {
    pub format: u32,
    pub campus_fingerprint: String,
    pub config: Config,
}

#[derive(Serialize)]
struct StateRef<'a> {
    header: SnapshotHeader,
    tenants: &'a [TenantSpec],
    retired: &'a [bool],
    pools: &'a [FreeIndex],
    /// Trays with a flag set (down, drained, quarantined, reserved), by
    /// index; every other tray is plain.
    trays: Vec<(u32, &'a TrayState)>,
    drain_reasons: &'a BTreeMap<u32, String>,
    failures: &'a BTreeMap<u32, Vec<Time>>,
    jobs: &'a [Job],
    ids: Vec<(JobId, u32)>,
    free_slots: &'a [u32],
    fresh: &'a [u32],
    dirty: bool,
    heads: &'a [Option<Head>],
    reservations: &'a [Reservation],
    cap_w: &'a [Option<i64>],
    campus_cap_w: Option<i64>,
    next_seq: u64,
    last_fairshare: Time,
    now: Time,
}

#[derive(Deserialize)]
struct State {
    header: SnapshotHeader,
    tenants: Vec<TenantSpec>,
    retired: Vec<bool>,
    pools: Vec<FreeIndex>,
    trays: Vec<(u32, TrayState)>,
    drain_reasons: BTreeMap<u32, String>,
    failures: BTreeMap<u32, Vec<Time>>,
    jobs: Vec<Job>,
    ids: Vec<(JobId, u32)>,
    free_slots: Vec<u32>,
    fresh: Vec<u32>,
    dirty: bool,
    heads: Vec<Option<Head>>,
    reservations: Vec<Reservation>,
    cap_w: Vec<Option<i64>>,
    campus_cap_w: Option<i64>,
    next_seq: u64,
    last_fairshare: Time,
    now: Time,
}

impl Scheduler {
    /// The scheduler's whole state as bytes (JSON, format
    /// [`SNAPSHOT_FORMAT`]). The same state always gives the same bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        let state = StateRef {
            header: SnapshotHeader {
                format: SNAPSHOT_FORMAT,
                campus_fingerprint: self.campus.fingerprint(),
                config: self.config.clone(),
            },
            tenants: &self.tenants.specs,
            retired: &self.tenants.retired,
            pools: &self.pools,
            trays: self
                .trays
                .iter()
                .enumerate()
                .filter(|(_, t)| **t != TrayState::default())
                .map(|(i, t)| (i as u32, t))
                .collect(),
            drain_reasons: &self.drain_reasons,
            failures: &self.failures,
            jobs: &self.jobs,
            ids: self.ids.iter().map(|(&k, &v)| (k, v)).collect(),
            free_slots: &self.free_slots,
            fresh: &self.fresh,
            dirty: self.dirty,
            heads: &self.heads,
            reservations: &self.reservations,
            cap_w: &self.power.cap_w,
            campus_cap_w: self.power.campus_cap_w,
            next_seq: self.next_seq,
            last_fairshare: self.last_fairshare,
            now: self.now,
        };
        // Sized up front from the tables (about 2x the bytes a busy
        // campus needs per entry), so the buffer is not regrown and copied
        // while it is written.
        let estimate = self.trays.len() * 96 + self.jobs.len() * 768 + self.ids.len() * 24;
        let mut out = Vec::with_capacity(estimate);
        // Serialising plain data into memory cannot fail.
        let _ = serde_json::to_writer(&mut out, &state);
        out
    }

    /// Rebuilds a scheduler from [`Scheduler::snapshot`] bytes on `campus`.
    pub fn restore(campus: Arc<Campus>, bytes: &[u8]) -> Result<Scheduler, SnapshotError> {
        // One parse of the whole snapshot; only when it fails is the header
        // read alone, to say precisely why (another format or campus).
        let st: State = match serde_json::from_slice(bytes) {
            Ok(st) => st,
            Err(e) => {
                let header = serde_json::from_slice::<HeaderOnly>(bytes)
                    .map_err(|_| SnapshotError::Decode(e.to_string()))?;
                check_header(&header.header, &campus)?;
                return Err(SnapshotError::Decode(e.to_string()));
            }
        };
        check_header(&st.header, &campus)?;
        let s = Self::rebuild(campus, st)?;
        s.check_invariants().map_err(SnapshotError::Inconsistent)?;
        Ok(s)
    }

    fn rebuild(campus: Arc<Campus>, st: State) -> Result<Scheduler, SnapshotError> {
        let bad = |why: String| SnapshotError::Inconsistent(why);
        let topo = Topology::new(&campus).map_err(|e| bad(e.to_string()))?;
        let config = st.header.config;
        config.check().map_err(|e| bad(e.to_string()))?;
        let tenants = TenantTree::build(
            &st.tenants,
            &st.retired,
            &topo.sku_keys,
            topo.capacity(),
            st.now,
        )
        .map_err(|e| bad(e.to_string()))?;
        let trays = expand_trays(&topo, st.trays)?;
        check_lengths(&topo, &st.pools, &trays, &st.heads)?;
        let mut power = PowerLedger::new(&topo, config.idle_fraction);
        if st.cap_w.len() != power.cap_w.len() {
            return Err(bad("power caps are for another number of buildings".into()));
        }
        power.cap_w = st.cap_w;
        power.campus_cap_w = st.campus_cap_w;
        let skus = topo.skus;
        let nodes = tenants.len();
        let mut s = Scheduler {
            campus,
            gpu_owner: vec![NO_JOB; topo.gpus as usize],
            trays,
            drain_reasons: st.drain_reasons,
            failures: st.failures,
            jobs: st.jobs,
            ids: st.ids.into_iter().collect(),
            free_slots: st.free_slots,
            pending: BTreeSet::new(),
            unreasoned: BTreeSet::new(),
            reference_pass: false,
            fresh: st.fresh,
            dirty: st.dirty,
            heads: st.heads,
            running_by_end: vec![BTreeSet::new(); skus],
            deadlines: BTreeSet::new(),
            services_short: BTreeSet::new(),
            spares_short: BTreeSet::new(),
            reservations: st.reservations,
            power,
            borrowed_gpus: vec![0; skus],
            borrowed_preemptible_gpus: vec![0; skus],
            preemptible_gpus: vec![0; nodes * skus * crate::scheduler::PRIORITIES],
            by_node: vec![BTreeSet::new(); nodes],
            next_seq: st.next_seq,
            last_fairshare: st.last_fairshare,
            next_tenancy_change: tenants.next_change(st.now),
            now: st.now,
            waiting: Vec::new(),
            waiting_index: Default::default(),
            verdict_epoch: 0,
            pools: st.pools,
            config,
            topo,
            tenants,
        };
        s.rebuild_indices()?;
        Ok(s)
    }

    /// Rebuilds everything derived from the jobs: owners, charges, draw,
    /// queue, deadlines, end times, short services, the per-node index.
    /// Checks every index the snapshot carries before anything uses one, so
    /// that a damaged snapshot is refused rather than panicking later.
    fn check_indices(&self) -> Result<(), SnapshotError> {
        let bad = |why: String| Err(SnapshotError::Inconsistent(why));
        let (trays, buildings) = (self.trays.len(), self.topo.buildings());
        let (reservations, pools) = (self.reservations.len(), self.pools.len());
        if pools != reservations + 1 {
            return bad(format!("{pools} pools for {reservations} reservations"));
        }
        if let Some(t) = self
            .trays
            .iter()
            .position(|t| t.reservation.is_some_and(|r| r as usize >= reservations))
        {
            return bad(format!("tray {t} names a reservation that does not exist"));
        }
        for (i, r) in self.reservations.iter().enumerate() {
            if r.pool != i + 1 || r.trays.iter().any(|&t| t as usize >= trays) {
                return bad(format!(
                    "reservation `{}` has a bad pool or tray",
                    r.spec.id
                ));
            }
            if r.owner.is_some_and(|o| o as usize >= self.tenants.len()) {
                return bad(format!("reservation `{}` has an unknown owner", r.spec.id));
            }
        }
        let mut free = vec![false; self.jobs.len()];
        for &slot in &self.free_slots {
            let j = self.jobs.get(slot as usize);
            if j.is_none_or(|j| j.state != JobState::Done) || free[slot as usize] {
                return bad(format!(
                    "free slot {slot} is not a finished job's, or repeats"
                ));
            }
            free[slot as usize] = true;
        }
        if self.fresh.iter().any(|&s| s as usize >= self.jobs.len())
            || self
                .heads
                .iter()
                .flatten()
                .any(|h| h.job as usize >= self.jobs.len())
        {
            return bad("a queue entry points past the job table".into());
        }
        for j in self.jobs.iter().filter(|j| j.state != JobState::Done) {
            let clock_ok = j.clock.is_finite() && (0.0..=1.0).contains(&j.clock);
            let draw_ok = j.draw.iter().all(|&(b, w)| {
                usize::from(b) < buildings && (0..=i64::from(u32::MAX)).contains(&w)
            });
            let pool_ok = j.pool < pools;
            if !(clock_ok && draw_ok && pool_ok) {
                return bad(format!("{} has a bad clock, draw or pool", j.spec.id));
            }
        }
        Ok(())
    }

    fn rebuild_indices(&mut self) -> Result<(), SnapshotError> {
        self.check_indices()?;
        let bad = |why: String| SnapshotError::Inconsistent(why);
        let trays = self.trays.len() as u32;
        for slot in 0..self.jobs.len() as u32 {
            let j = &self.jobs[slot as usize];
            if j.state == JobState::Done {
                continue;
            }
            if j.node as usize >= self.tenants.len() || usize::from(j.sku) >= self.topo.skus {
                return Err(bad(format!(
                    "{} names a tenant or SKU that does not exist",
                    j.spec.id
                )));
            }
            let held: Vec<u32> = j
                .gangs
                .iter()
                .flat_map(|g| g.trays.iter().copied())
                .chain(j.spares.iter().copied())
                .collect();
            if held.iter().any(|&t| t >= trays) {
                return Err(bad(format!("{} holds a tray beyond the campus", j.spec.id)));
            }
            if self.ids.get(&j.spec.id) != Some(&slot) {
                return Err(bad(format!("{} is not filed under its slot", j.spec.id)));
            }
            let (node, id, state) = (j.node, j.spec.id, j.state);
            self.index_job(node, id, true);
            match state {
                JobState::Pending => {
                    let key = self.jobs[slot as usize].key;
                    self.pending.insert((key, slot));
                    if self.jobs[slot as usize].reason.is_none() {
                        self.unreasoned.insert(slot);
                    }
                    self.note_waiting(slot);
                }
                JobState::Running => self.rebuild_running(slot),
                JobState::Done => {}
            }
        }
        if self
            .ids
            .values()
            .any(|&s| s != RETIRED && s as usize >= self.jobs.len())
        {
            return Err(bad("a job id points past the job table".into()));
        }
        Ok(())
    }

    fn rebuild_running(&mut self, slot: u32) {
        let j = &self.jobs[slot as usize];
        let (sku, charged, deadline, est_end) = (j.sku, j.charged, j.deadline, j.est_end);
        let gangs: Vec<Gang> = j.gangs.clone();
        let spares = Gang {
            trays: j.spares.clone(),
            mask: 0,
        };
        for g in gangs.iter().chain(std::iter::once(&spares)) {
            for &t in &g.trays {
                let mask = g.tray_mask(&self.topo, t);
                let first = self.topo.tray_first_gpu[t as usize];
                for i in 0..64u32 {
                    if mask & (1 << i) != 0
                        && let Some(o) = self.gpu_owner.get_mut((first + i) as usize)
                    {
                        *o = slot;
                    }
                }
            }
        }
        self.jobs[slot as usize].charged = 0;
        self.charge(slot, charged);
        let j = &self.jobs[slot as usize];
        self.power.apply(&j.draw, j.clock, 1);
        self.deadlines.insert((deadline, slot));
        self.running_by_end[usize::from(sku)].insert((est_end, slot));
        if let JobKind::Service { replicas, .. } = j.spec.kind
            && (j.gangs.len() as u32) < replicas
        {
            self.services_short.insert(slot);
        }
        let j = &self.jobs[slot as usize];
        if j.spec.kind == JobKind::Training && (j.spares.len() as u32) < j.spec.spare_trays {
            self.spares_short.insert(slot);
        }
    }
}

/// Refuses a snapshot of another format or another campus.
fn check_header(h: &SnapshotHeader, campus: &Campus) -> Result<(), SnapshotError> {
    if h.format != SNAPSHOT_FORMAT {
        return Err(SnapshotError::Format { found: h.format });
    }
    let found = campus.fingerprint();
    if h.campus_fingerprint != found {
        return Err(SnapshotError::CampusChanged {
            expected: h.campus_fingerprint.clone(),
            found,
        });
    }
    Ok(())
}

/// The full tray table from the flagged trays of a snapshot.
fn expand_trays(
    topo: &Topology,
    flagged: Vec<(u32, TrayState)>,
) -> Result<Vec<TrayState>, SnapshotError> {
    let mut trays = vec![TrayState::default(); topo.tray_domain.len()];
    for (t, state) in flagged {
        let slot = trays
            .get_mut(t as usize)
            .ok_or_else(|| SnapshotError::Inconsistent(format!("tray {t} is beyond the campus")))?;
        *slot = state;
    }
    Ok(trays)
}

#[derive(Deserialize)]
struct HeaderOnly {
    header: SnapshotHeader,
}

fn check_lengths(
    topo: &Topology,
    pools: &[FreeIndex],
    trays: &[TrayState],
    heads: &[Option<Head>],
) -> Result<(), SnapshotError> {
    let bad = |why: &str| Err(SnapshotError::Inconsistent(why.to_string()));
    if trays.len() != topo.tray_domain.len() {
        return bad("tray table is not the campus's size");
    }
    if heads.len() != topo.skus {
        return bad("backfill heads are for another number of SKUs");
    }
    let empty = FreeIndex::empty(topo);
    if pools.is_empty() || pools.iter().any(|p| !p.same_shape(&empty)) {
        return bad("free index is not the campus's shape");
    }
    Ok(())
}
