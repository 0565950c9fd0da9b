//! A fleet started over a scheduler that has already run: a server
//! restarted from its snapshot and log. What the scheduler knows (jobs,
//! failed, drained and quarantined trays, its clock) is taken as it is;
//! what only the old fleet knew is remade from the seed, or assumed.
//!
//! Assumed, since the scheduler does not hold it: a tray it holds down is
//! waiting for a hardware repair (a reboot takes minutes, so a tray caught
//! down most likely needs a crew), of a cause drawn by weight from the
//! hardware causes; every crew is free and the stock of spare parts full; a
//! quarantined tray serves its whole quarantine from now; the battery is
//! as charged as at the start of a run; lemon trays are the seed's lemons,
//! including those a quarantine cleared before. The first plant report
//! comes at the first whole hour at or after the resume, and the hour the
//! fleet resumed in is no row (it ran only part of it).

use abilene_control::{NOT_COMMISSIONED, Observation};
use abilene_model::{Building, HallId, TrayId};
use abilene_scheduler::views::MAX_PAGE;
use abilene_scheduler::{JobFilter, JobState, Scheduler, TrayCondition};
use rand::RngExt;

use super::foreign::{foreign_job, keep_committed};
use super::{Ev, RunOptions, TwinFleet, Workload, run_span};
use crate::engine::{DAY, HOUR, Stream, Time, rng_from};
use crate::job::TwinJob;
use crate::scenario::Scenario;

impl<'a> TwinFleet<'a> {
    /// The fleet of a scenario resumed over `sched`, its clock at
    /// `sched.now()`, with the scenario's background workload: what
    /// [`TwinFleet::resume_with`] does with [`Workload::Scenario`].
    pub fn resume(
        sc: &'a Scenario,
        opts: &RunOptions,
        sched: &Scheduler,
    ) -> Result<TwinFleet<'a>, String> {
        TwinFleet::resume_with(sc, opts, sched, Workload::Scenario)
    }

    /// The fleet of a scenario resumed over `sched` (restored from a
    /// snapshot and log), its clock at `sched.now()`. The jobs running in
    /// the scheduler run on, their work done since their run began counted;
    /// its failed trays get repaired, its quarantined ones requalify; the
    /// buildings it knows to be commissioned (or not) are not reported
    /// again; the background workload (if any) goes on with the jobs that
    /// arrive after `now`, those the run from 0 would make; failures go on
    /// from `now`. The same scenario, options, workload and scheduler state
    /// give the same future.
    pub fn resume_with(
        sc: &'a Scenario,
        opts: &RunOptions,
        sched: &Scheduler,
        workload: Workload,
    ) -> Result<TwinFleet<'a>, String> {
        let (seed, end) = run_span(sc, opts)?;
        let now = sched.now();
        if now >= end {
            return Err(format!(
                "the scheduler's clock ({now} s) is not before the end of the run ({end} s)"
            ));
        }
        if sched.campus().fingerprint() != sc.campus.fingerprint() {
            return Err("the scheduler runs another campus than the scenario's".into());
        }
        let mut fleet = TwinFleet::base(sc, seed, end)?;
        fleet.start_clock(now);
        if workload == Workload::Scenario {
            fleet.resume_workload(now, sched)?;
        }
        fleet.adopt_running_foreign(now, sched)?;
        fleet.resume_buildings(now, sched);
        fleet.recount_online();
        fleet.resume_trays(now, sched);
        fleet.queue.push(now, Ev::NextFailure);
        let h = now.div_ceil(HOUR);
        if h * HOUR <= end {
            fleet.queue.push(h * HOUR, Ev::Hour(h as u32));
        }
        Ok(fleet)
    }

    /// Sets the fleet's clock to `now`, and failures and repairs on streams
    /// of their own from `now` (the run from 0 would repeat its own).
    fn start_clock(&mut self, now: Time) {
        self.outbox_at = now;
        self.last_busy_at = now;
        self.rows_from = now;
        self.fail_rng = rng_from(self.seed, Stream::Failures, now);
        self.repair_rng = rng_from(self.seed, Stream::Repairs, now);
    }

    /// The scenario's jobs, as they stand at `now`: those the scheduler
    /// holds are adopted, those to come scheduled; the research stream is
    /// replayed up to `now`, so the jobs after it are those the run from 0
    /// makes.
    fn resume_workload(&mut self, now: Time, sched: &Scheduler) -> Result<(), String> {
        let (jobs, research) = self.generate_workload()?;
        for j in jobs {
            self.resume_job(now, j, sched);
        }
        if let Some(mut stream) = research {
            while let Some(j) = stream.next_before(now.saturating_add(1)) {
                self.resume_job(now, j, sched);
            }
            self.research = Some(stream);
        }
        self.queue.push_early(now, 0, Ev::Refill);
        Ok(())
    }

    /// One of the scenario's jobs at `now`. One the scheduler never had
    /// and that arrived before `now` is not made up now: no burst of
    /// arrivals from the past. One the scheduler has under its id with
    /// another spec is not this one: it is adopted as foreign.
    fn resume_job(&mut self, now: Time, mut job: TwinJob, sched: &Scheduler) {
        let id = job.spec.id;
        match sched.job_state(id) {
            None if job.arrival >= now => self.arrive_later(job),
            None | Some(JobState::Done) => {}
            Some(state) => {
                let Some(detail) = sched.job(id).filter(|d| d.spec == job.spec) else {
                    return;
                };
                keep_committed(&mut job, &detail);
                let j = self.adopt(job);
                if state == JobState::Running {
                    self.resume_running(now, j, &detail);
                }
            }
        }
    }

    /// Runs on every job running in the scheduler that is not the
    /// scenario's. Those waiting are met when they start, as any foreign job.
    fn adopt_running_foreign(&mut self, now: Time, sched: &Scheduler) -> Result<(), String> {
        let filter = JobFilter {
            state: Some(JobState::Running),
            ..JobFilter::default()
        };
        let mut after = None;
        loop {
            let page = sched
                .list_jobs(&filter, after, MAX_PAGE)
                .map_err(|e| e.to_string())?;
            for v in &page.jobs {
                if self.live(v.id).is_some() {
                    continue;
                }
                let Some(detail) = sched.job(v.id) else {
                    continue;
                };
                let j = self.adopt(foreign_job(&detail));
                self.resume_running(now, j, &detail);
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(()),
            }
        }
    }

    /// Buildings commissioned by `now` are online; the others come online
    /// on their day. Each is reported only if the scheduler does not know
    /// it yet (by its drain for commissioning).
    fn resume_buildings(&mut self, now: Time, sched: &Scheduler) {
        let campus = self.campus;
        let start_day = self.sc.start.days_since_epoch();
        for (b, building) in campus.buildings.iter().enumerate() {
            let day = building.commissioned.days_since_epoch() - start_day;
            let at = day.max(0) as Time * DAY;
            let held = held_uncommissioned(sched, building);
            let name = building.name.clone();
            if at <= now {
                self.online[b] = true;
                if held {
                    self.emit(Observation::Commissioned { building: name });
                }
            } else {
                if !held {
                    self.emit(Observation::Uncommissioned { building: name });
                }
                self.queue.push(at, Ev::Commission(b as u16));
            }
        }
    }

    /// Trays the scheduler holds down go for repair; quarantined ones
    /// requalify after a whole quarantine from `now`.
    fn resume_trays(&mut self, now: Time, sched: &Scheduler) {
        let campus = self.campus;
        for (h, hall) in campus.halls.iter().enumerate() {
            let conditions = sched.hall_trays(HallId(h as u16));
            let trays = (hall.racks.start..hall.racks.end)
                .flat_map(|r| campus.racks[r as usize].trays.clone());
            for (t, c) in trays.zip(conditions) {
                match c {
                    TrayCondition::Down => self.resume_down(now, t, sched),
                    TrayCondition::Quarantined => self.requalify_later(now, t),
                    TrayCondition::Up | TrayCondition::Drained => {}
                }
            }
        }
        self.start_repairs(now);
    }

    fn resume_down(&mut self, now: Time, tray: u32, sched: &Scheduler) {
        self.set_down(tray, true);
        if sched.is_quarantined(&self.tray_name(tray)) {
            self.requalify_later(now, tray);
        }
        match self.hardware_cause() {
            Some(cause) => self.repairs_waiting.push_back((tray, cause)),
            // No cause needs a crew: the tray is rebooting.
            None => {
                let reboot = (self.sc.spec.failures.reboot_min * 60.0).round() as Time;
                self.queue.push(now + reboot, Ev::Rebooted(tray));
            }
        }
    }

    fn requalify_later(&mut self, now: Time, tray: u32) {
        let days = self.sc.spec.failures.quarantine_days;
        self.queue
            .push(now + (days * DAY as f64) as Time, Ev::ClearQuarantine(tray));
    }

    /// A hardware cause drawn by weight; None if the scenario has none.
    fn hardware_cause(&mut self) -> Option<usize> {
        let f = &self.sc.spec.failures;
        let causes: Vec<(usize, f64)> = (0..f.causes.len())
            .filter(|&i| f.causes[i].hardware)
            .map(|i| (i, f.cause_weight(i)))
            .collect();
        let total: f64 = causes.iter().map(|c| c.1).sum();
        let mut x = self.repair_rng.random::<f64>() * total;
        for &(i, w) in &causes {
            if x < w {
                return Some(i);
            }
            x -= w;
        }
        causes.last().map(|c| c.0)
    }
}

/// Whether the scheduler holds a building drained for commissioning (its
/// first tray says for all: the drain is of the whole building).
fn held_uncommissioned(sched: &Scheduler, building: &Building) -> bool {
    if building.trays.is_empty() {
        return false;
    }
    let name = sched.campus().tray_name(TrayId(building.trays.start));
    sched
        .tray(&name)
        .is_ok_and(|t| t.drain_reason.as_deref() == Some(NOT_COMMISSIONED))
}
