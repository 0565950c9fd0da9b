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
                && self.live(id).is_none()
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

#[cfg(test)]
mod tests {
    use abilene_control::{Controller, Fleet, Observation};
    use abilene_scheduler::{Command, Event, JobId, JobSpec, JobState, Outcome, Scheduler};

    use super::super::testing::{command, drive_log, quiet};
    use super::super::{RunOptions, TwinFleet, Workload};
    use crate::engine::{DAY, HOUR, Time};
    use crate::metrics::JobRecord;
    use crate::scenario::Scenario;

    /// A server's job id: from 2^40 up, never one of the twin's.
    const ID: JobId = JobId(1 << 40);

    /// One tray of a user's training: 10 hours of work, a checkpoint an hour.
    fn training() -> JobSpec {
        let mut spec = JobSpec::training(ID.0, "research", "gb200-nvl72", 4);
        spec.runtime_estimate = 10 * HOUR;
        spec.runtime_limit = 2 * DAY;
        spec.checkpoint_interval = HOUR;
        spec
    }

    /// A user's service of two one-tray replicas.
    fn service() -> JobSpec {
        JobSpec::service(ID.0, "inference", "gb200-nvl72", 4, 2, 1)
    }

    /// A fleet with no workload of its own, run to `t0`, where the user
    /// submits `spec`; it must start at once.
    fn submitted_at<'a>(
        sc: &'a Scenario,
        t0: Time,
        spec: JobSpec,
    ) -> (
        TwinFleet<'a>,
        Scheduler,
        Controller,
        Vec<(Time, Observation)>,
    ) {
        let opts = RunOptions {
            days: Some(3.0),
            seed: None,
        };
        let (mut fleet, mut sched) = TwinFleet::new_with(sc, &opts, Workload::Off).expect("fleet");
        let mut control = Controller::new();
        let mut log = Vec::new();
        drive_log(&mut fleet, &mut control, &mut sched, t0, &mut log);
        let events = command(&mut fleet, &mut sched, t0, Command::Submit(spec));
        assert!(started(&events), "{events:?}");
        (fleet, sched, control, log)
    }

    fn started(events: &[Event]) -> bool {
        events
            .iter()
            .any(|e| matches!(e, Event::Started { job, .. } if *job == ID))
    }

    fn exits(log: &[(Time, Observation)]) -> Vec<Time> {
        log.iter()
            .filter(|(_, o)| matches!(o, Observation::JobExited { job } if *job == ID))
            .map(|(t, _)| *t)
            .collect()
    }

    fn record(fleet: &mut TwinFleet<'_>) -> JobRecord {
        let end = fleet.end;
        let records = fleet.jobs.records(end);
        records
            .into_iter()
            .find(|r| r.id == ID.0)
            .expect("a record of the foreign job")
    }

    /// GPU-seconds busy and productive over the fleet's hourly rows.
    fn hourly_gpu_s(fleet: &TwinFleet<'_>) -> (f64, f64) {
        let h = HOUR as f64;
        let busy = fleet.hourly.iter().map(|r| r.gpus_busy).sum::<f64>() * h;
        let productive = fleet.hourly.iter().map(|r| r.gpus_productive).sum::<f64>() * h;
        (busy, productive)
    }

    /// A job the twin did not make does its estimate of work on the GPUs it
    /// was given, then exits; its GPUs and work count in the hourly rows.
    #[test]
    fn a_foreign_training_job_does_its_estimate_and_exits() {
        let sc = quiet();
        let t0 = 2 * HOUR + 17;
        let (mut fleet, mut sched, mut control, mut log) = submitted_at(&sc, t0, training());
        drive_log(&mut fleet, &mut control, &mut sched, 3 * DAY, &mut log);
        assert_eq!(exits(&log), vec![t0 + 10 * HOUR]);
        assert_eq!(sched.job_state(ID), Some(JobState::Done));
        assert!(fleet.running.is_empty() && fleet.jobs.is_empty());
        let r = record(&mut fleet);
        assert_eq!(r.kind, "foreign");
        assert!(r.completed);
        assert_eq!(r.first_start_s, Some(t0));
        let work = 4.0 * (10 * HOUR) as f64;
        assert_eq!(r.kept_gpu_s, work);
        let (busy, productive) = hourly_gpu_s(&fleet);
        assert_eq!(busy, work, "utilisation counts its GPUs");
        assert!(
            (productive - work).abs() < 1e-6 * work,
            "goodput {productive}"
        );
    }

    /// Failed under it 30 minutes after a checkpoint, the job loses those
    /// 30 minutes, starts again from the checkpoint and exits that much later.
    #[test]
    fn a_foreign_job_loses_the_work_since_its_checkpoint() {
        let sc = quiet();
        let t0 = 3600;
        let (mut fleet, mut sched, mut control, mut log) = submitted_at(&sc, t0, training());
        let t1 = t0 + 2 * HOUR + 1800;
        drive_log(&mut fleet, &mut control, &mut sched, t1, &mut log);
        let tray = sched.job_trays(ID).remove(0);
        let events = command(&mut fleet, &mut sched, t1, Command::TrayFailed { tray });
        assert!(
            events.iter().any(|e| matches!(
                e,
                Event::Interrupted { job, lost_work: 1800, .. } if *job == ID
            )),
            "{events:?}"
        );
        assert!(started(&events), "restarts at once on another tray");
        drive_log(&mut fleet, &mut control, &mut sched, 3 * DAY, &mut log);
        // Two hours kept, eight to go.
        assert_eq!(exits(&log), vec![t1 + 8 * HOUR]);
        let r = record(&mut fleet);
        assert_eq!(r.interruptions, 1);
        assert_eq!(r.held_s, 2 * HOUR + 1800 + 8 * HOUR);
        assert_eq!(
            r.kept_gpu_s,
            4.0 * (10 * HOUR) as f64,
            "the lost half hour is not kept"
        );
        let (_, productive) = hourly_gpu_s(&fleet);
        assert!((productive - r.kept_gpu_s).abs() < 1e-6 * r.kept_gpu_s);
    }

    /// A user's service serves until it is cancelled, and never exits on
    /// its own.
    #[test]
    fn a_foreign_service_serves_until_cancelled() {
        let sc = quiet();
        let t0 = HOUR;
        let (mut fleet, mut sched, mut control, mut log) = submitted_at(&sc, t0, service());
        let t1 = t0 + 5 * HOUR + 600;
        drive_log(&mut fleet, &mut control, &mut sched, t1, &mut log);
        assert_eq!(sched.job_trays(ID).len(), 2, "both replicas run");
        command(&mut fleet, &mut sched, t1, Command::Cancel(ID));
        drive_log(&mut fleet, &mut control, &mut sched, 3 * DAY, &mut log);
        assert!(exits(&log).is_empty());
        let r = record(&mut fleet);
        assert_eq!(r.kind, "inference");
        assert_eq!(r.end_s, Some(t1));
        let served = 8.0 * (t1 - t0) as f64;
        assert_eq!(r.kept_gpu_s, served);
        let (busy, productive) = hourly_gpu_s(&fleet);
        assert_eq!(busy, served);
        assert!((productive - served).abs() < 1e-6 * served);
    }

    /// A service with a time limit stops there: the scheduler ends it and
    /// the fleet stops running it.
    #[test]
    fn a_foreign_service_stops_at_its_runtime_limit() {
        let sc = quiet();
        let mut spec = service();
        spec.runtime_limit = 3 * HOUR;
        let t0 = HOUR;
        let (mut fleet, mut sched, mut control, mut log) = submitted_at(&sc, t0, spec);
        drive_log(&mut fleet, &mut control, &mut sched, 3 * DAY, &mut log);
        assert_eq!(sched.job_state(ID), Some(JobState::Done));
        assert!(fleet.running.is_empty());
        let r = record(&mut fleet);
        assert_eq!(r.end_s, Some(t0 + 3 * HOUR));
        assert!(!r.completed);
        let (busy, _) = hourly_gpu_s(&fleet);
        assert_eq!(busy, 8.0 * (3 * HOUR) as f64);
    }

    /// Cancelled before the fleet could look it up, a job is not run.
    #[test]
    fn a_job_ended_before_the_fleet_met_it_is_not_run() {
        let sc = quiet();
        let t0 = HOUR;
        let (mut fleet, mut sched, mut control, mut log) = submitted_at(&sc, t0, training());
        let out = sched.step(t0, [Command::Cancel(ID)]);
        assert!(out.events.iter().any(|e| matches!(
            e,
            Event::Finished {
                outcome: Outcome::Cancelled,
                ..
            }
        )));
        fleet.hear(t0, &out.events);
        drive_log(&mut fleet, &mut control, &mut sched, DAY, &mut log);
        assert!(fleet.jobs.is_empty() && fleet.running.is_empty());
        assert!(exits(&log).is_empty());
        assert!(fleet.jobs.records(DAY).is_empty());
    }
}
