//! Jobs the fleet did not make: run as the hardware would run them, from
//! their spec in the scheduler (see [`TwinFleet`] on foreign jobs).

use abilene_scheduler::{JobDetail, JobKind, Recovery, Scheduler, Transition};

use super::{TwinFleet, job_index};
use crate::engine::Time;
use crate::job::{JobStats, Kind, Progress, TwinJob};

/// A job of the scheduler's as the twin runs it, not started. Its work is
/// the user's estimate; work its earlier runs checkpointed (under another
/// fleet, say, before a restart) is kept, taken at full speed since the
/// scheduler does not say how fast they ran.
pub(super) fn foreign_job(detail: &JobDetail) -> TwinJob {
    let spec = detail.spec.clone();
    let (kind, work) = match spec.kind {
        JobKind::Training => (Kind::Foreign, spec.runtime_estimate as f64),
        JobKind::Service { .. } => (Kind::Inference, f64::INFINITY),
    };
    let mut job = TwinJob {
        spec,
        kind,
        arrival: detail.view.submitted,
        work,
        // Unknown to the twin: taken as none.
        checkpoint_cost_s: 0.0,
        checkpoint_blocking: false,
        restart_s: 0.0,
        state: Progress::default(),
        stats: JobStats::default(),
    };
    keep_committed(&mut job, detail);
    job
}

/// Work a job's earlier runs checkpointed, as the scheduler counts it (in
/// wall seconds, taken one for one as seconds of work).
pub(super) fn keep_committed(job: &mut TwinJob, detail: &JobDetail) {
    if job.kind != Kind::Inference {
        job.state.saved = detail.committed_work as f64;
    }
}

/// When a running job's current run began: its last start, or its last
/// restart on a warm spare (the twin starts a new run there too). None if
/// the bounded history no longer holds either.
pub(super) fn run_start(detail: &JobDetail) -> Option<Time> {
    detail
        .history
        .entries
        .iter()
        .rev()
        .find(|e| {
            matches!(
                e.what,
                Transition::Started { .. }
                    | Transition::Interrupted {
                        recovery: Recovery::Spare,
                        ..
                    }
            )
        })
        .map(|e| e.at)
}

impl TwinFleet<'_> {
    /// Acts on the events heard about jobs the fleet had not met, now that
    /// the scheduler can be asked for their specs. A job that ended before
    /// it could be looked up did no work the fleet must run.
    pub(super) fn adopt_unheard(&mut self, sched: &Scheduler) {
        for (at, e) in std::mem::take(&mut self.unheard) {
            if let Some(id) = e.job()
                && !self.ids.contains_key(&id)
            {
                let Some(detail) = sched.job(id) else {
                    continue;
                };
                self.adopt(foreign_job(&detail));
            }
            self.hear_one(at, &e);
        }
    }

    /// Takes a job into the fleet's tables, not running.
    pub(super) fn adopt(&mut self, job: TwinJob) -> usize {
        let i = job_index(job.spec.id);
        self.ids.insert(job.spec.id, i);
        self.jobs.insert(i, job);
        i
    }

    /// Starts job `j` as the scheduler runs it at `now`: on its placement,
    /// its current run begun when its history says (so the work done since
    /// counts), at the clocks power caps set since.
    pub(super) fn resume_running(&mut self, now: Time, j: usize, detail: &JobDetail) {
        let Some(p) = &detail.view.placement else {
            return;
        };
        let buildings = p.buildings.len() as u32;
        let slowdown = self.slowdown(p.leaf_groups, buildings);
        let halls = self.hall_ids(&p.halls);
        let from = run_start(detail).unwrap_or(detail.view.submitted).min(now);
        let tj = &mut self.jobs[j];
        tj.stats.max_buildings = tj.stats.max_buildings.max(buildings);
        tj.start(from, slowdown, p.gpus, halls);
        for e in detail.history.entries.iter().filter(|e| e.at >= from) {
            if let Transition::Throttled { clock } = e.what {
                tj.set_clock(e.at, clock);
            }
        }
        self.running.insert(j);
        // Work that would have been done by now is done now.
        self.schedule_finish(j, now);
    }
}
