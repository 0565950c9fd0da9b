//! A job as the twin sees it: the scheduler's spec plus the work it really
//! has to do, and how far it has got.
//!
//! Progress is counted in seconds of work at full speed on an ideal
//! placement. A running job progresses at `rate` per wall second once its
//! restart overhead has passed: slowed by its placement and power-capped
//! clocks, and by the pauses to write checkpoints. Checkpoints fall every
//! `checkpoint_interval` wall seconds from the start of a run, as the
//! scheduler counts them, so both agree on what an interruption loses.

use abilene_scheduler::JobSpec;

use crate::engine::Time;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Frontier,
    Research,
    Inference,
    /// A training job the twin did not make: a server's user submitted it
    /// to the scheduler (a foreign service is `Inference`).
    Foreign,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Frontier => "frontier",
            Kind::Research => "research",
            Kind::Inference => "inference",
            Kind::Foreign => "foreign",
        }
    }
}

#[derive(Debug, Clone)]
pub struct TwinJob {
    pub spec: JobSpec,
    pub kind: Kind,
    pub arrival: Time,
    /// Seconds of work at full speed; infinite for services.
    pub work: f64,
    pub checkpoint_cost_s: f64,
    /// Training pauses to write a checkpoint; else the write runs beside
    /// it and the checkpoint counts once written.
    pub checkpoint_blocking: bool,
    pub restart_s: f64,
    pub state: Progress,
    pub stats: JobStats,
}

/// Where a job's work stands.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Work kept by checkpoints of earlier runs.
    pub saved: f64,
    pub running: bool,
    /// When the current run started.
    pub run_start: Time,
    /// Work done in this run up to `bank_time`, when the rate last changed.
    pub bank_time: Time,
    pub bank_work: f64,
    /// Work per wall second after the restart overhead.
    pub rate: f64,
    pub slowdown: f64,
    pub clock: f64,
    /// Bumped on every start and stop, so stale completion events are ignored.
    pub epoch: u32,
    /// GPUs held, and trays per hall.
    pub gpus: u32,
    pub halls: Vec<(u16, u32)>,
}

#[derive(Debug, Clone, Default)]
pub struct JobStats {
    pub first_start: Option<Time>,
    pub end: Option<Time>,
    pub completed: bool,
    pub interruptions: u32,
    /// Wall seconds spent holding GPUs.
    pub wall_s: f64,
    /// Slowdown weighted by wall time, to report a mean.
    pub slowdown_wall: f64,
    pub max_buildings: u32,
    /// Work kept by closed runs, in ideal GPU-seconds (goodput's
    /// numerator; see `metrics::GOODPUT`): a training run adds its kept
    /// work times its GPUs, a service its GPUs times the time it served.
    pub kept_gpu_s: f64,
}

impl TwinJob {
    /// Share of wall time left for work after checkpoint pauses (none
    /// when checkpoints are written beside training).
    pub fn checkpoint_efficiency(&self) -> f64 {
        let i = self.spec.checkpoint_interval as f64;
        if i <= 0.0 || !self.checkpoint_blocking {
            1.0
        } else {
            i / (i + self.checkpoint_cost_s)
        }
    }

    /// Work done in the current run by `t`.
    pub fn run_work(&self, t: Time) -> f64 {
        let p = &self.state;
        if !p.running {
            return 0.0;
        }
        let useful_from = (p.run_start as f64 + self.restart_s).max(p.bank_time as f64);
        p.bank_work + p.rate * (t as f64 - useful_from).max(0.0)
    }

    /// Work of the open run in ideal GPU-seconds by `t`, not yet in
    /// `stats.kept_gpu_s` (and, for training, not yet safe: an interruption
    /// may take it back).
    pub fn open_gpu_s(&self, t: Time) -> f64 {
        let p = &self.state;
        if !p.running {
            return 0.0;
        }
        match self.kind {
            Kind::Inference => f64::from(p.gpus) * t.saturating_sub(p.bank_time) as f64,
            _ => f64::from(self.spec.gpus) * self.run_work(t),
        }
    }

    /// A service's GPUs change at `now`: bank what it served until now.
    pub fn bank_service(&mut self, now: Time) {
        if self.kind == Kind::Inference && self.state.running {
            self.stats.kept_gpu_s += self.open_gpu_s(now);
            self.state.bank_time = now;
        }
    }

    /// Starts a run at `now` (closing one still open, so its time counts).
    pub fn start(&mut self, now: Time, slowdown: f64, gpus: u32, halls: Vec<(u16, u32)>) {
        if self.state.running {
            self.stop(now, 0);
        }
        let eff = self.checkpoint_efficiency();
        let p = &mut self.state;
        p.running = true;
        p.run_start = now;
        p.bank_time = now;
        p.bank_work = 0.0;
        p.slowdown = slowdown;
        p.clock = 1.0;
        p.rate = eff / slowdown;
        p.epoch += 1;
        p.gpus = gpus;
        p.halls = halls;
        self.stats.first_start.get_or_insert(now);
    }

    /// A new rate from `now` (power-capped clocks).
    pub fn set_clock(&mut self, now: Time, clock: f64) {
        if !self.state.running || self.kind == Kind::Inference {
            // A service's served time is banked by `bank_service`; its
            // clock does not change what it holds.
            if self.state.running {
                self.state.clock = clock;
            }
            return;
        }
        let done = self.run_work(now);
        let eff = self.checkpoint_efficiency();
        let p = &mut self.state;
        p.bank_work = done;
        p.bank_time = now.max(p.run_start + self.restart_s as Time);
        p.clock = clock;
        p.rate = eff * clock / p.slowdown;
        p.epoch += 1;
    }

    /// Ends the run at `now`, keeping the work up to `lost_wall` seconds ago
    /// (the last checkpoint). Returns the work lost.
    pub fn stop(&mut self, now: Time, lost_wall: Time) -> f64 {
        if !self.state.running {
            return 0.0;
        }
        let done = self.run_work(now);
        // A checkpoint written beside training counts once written: struck
        // during the write, the job falls back to the one before.
        let writing = !self.checkpoint_blocking
            && lost_wall > 0
            && (lost_wall as f64) < self.checkpoint_cost_s
            && self.spec.checkpoint_interval > 0;
        let lost_wall = if writing {
            lost_wall.saturating_add(self.spec.checkpoint_interval)
        } else {
            lost_wall
        };
        let kept = if lost_wall == 0 {
            done
        } else {
            self.run_work(now.saturating_sub(lost_wall).max(self.state.run_start))
                .min(done)
        };
        self.stats.kept_gpu_s += match self.kind {
            Kind::Inference => self.open_gpu_s(now),
            _ => f64::from(self.spec.gpus) * kept,
        };
        let wall = now.saturating_sub(self.state.run_start) as f64;
        self.stats.wall_s += wall;
        self.stats.slowdown_wall += wall * self.state.slowdown;
        self.state.saved += kept;
        self.state.running = false;
        self.state.epoch += 1;
        self.state.gpus = 0;
        self.state.halls.clear();
        done - kept
    }

    /// When the work will be done if nothing changes.
    pub fn finish_time(&self, now: Time) -> Option<Time> {
        if !self.state.running || !self.work.is_finite() || self.state.rate <= 0.0 {
            return None;
        }
        let left = (self.work - self.state.saved - self.run_work(now)).max(0.0);
        let useful_from = (self.state.run_start as f64 + self.restart_s).max(now as f64);
        Some((useful_from + left / self.state.rate).ceil() as Time)
    }

    /// Work kept so far, counting the current run to `now`.
    pub fn kept_work(&self, now: Time) -> f64 {
        self.state.saved + self.run_work(now)
    }

    /// Wall seconds of the current run lost when it is interrupted at
    /// `now` by a failure that happened at `failed_at` (no later than now):
    /// only checkpoints written before the failure count, so the time
    /// between the failure and its detection is lost too.
    pub fn lost_wall_since(&self, failed_at: Time, now: Time) -> Time {
        let start = self.state.run_start;
        if !self.state.running {
            return 0;
        }
        let interval = self.spec.checkpoint_interval;
        let saved = match interval {
            0 => 0,
            i => failed_at.saturating_sub(start) / i * i,
        };
        now.saturating_sub(start).saturating_sub(saved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> TwinJob {
        let mut spec = JobSpec::training(1, "p", "gb200-nvl72", 72);
        spec.checkpoint_interval = 1800;
        TwinJob {
            spec,
            kind: Kind::Frontier,
            arrival: 0,
            work: 10_000.0,
            checkpoint_cost_s: 0.0,
            checkpoint_blocking: true,
            restart_s: 600.0,
            state: Progress::default(),
            stats: JobStats::default(),
        }
    }

    #[test]
    fn progress_restart_checkpoint_and_loss() {
        let mut j = job();
        j.start(0, 1.0, 72, vec![(0, 18)]);
        assert_eq!(j.run_work(600), 0.0, "restart overhead first");
        assert_eq!(j.run_work(2000), 1400.0);
        // Interrupted at 2000: last checkpoint at 1800 (wall), so 200 s lost.
        let lost = j.stop(2000, 200);
        assert_eq!(lost, 200.0);
        assert_eq!(j.state.saved, 1200.0);
        j.start(3000, 2.0, 72, vec![]);
        // 8,800 s of work left at half speed after 600 s of restart.
        assert_eq!(j.finish_time(3000), Some(3000 + 600 + 17_600));
    }

    #[test]
    fn a_failure_loses_the_time_until_its_detection() {
        let mut j = job();
        j.start(0, 1.0, 72, vec![]);
        // Failed at 2,000 s (checkpoint at 1,800 s), detected at 4,000 s:
        // the checkpoint at 3,600 s was written by a broken job.
        assert_eq!(j.lost_wall_since(2_000, 4_000), 2_200);
        // Failed before this run started: the whole run is lost.
        j.start(5_000, 1.0, 72, vec![]);
        assert_eq!(j.lost_wall_since(4_500, 6_000), 1_000);
        let kept_before = j.stats.kept_gpu_s;
        let lost = j.stop(6_000, 1_000);
        assert_eq!(lost, 400.0, "400 s of work past the restart");
        assert_eq!(j.stats.kept_gpu_s, kept_before, "nothing kept");
    }

    #[test]
    fn clock_changes_bank_the_work_done() {
        let mut j = job();
        j.start(0, 1.0, 72, vec![]);
        j.set_clock(1600, 0.5);
        assert_eq!(j.run_work(1600), 1000.0);
        assert_eq!(j.run_work(2600), 1500.0);
    }

    /// A checkpoint written beside training costs no pause, so a short
    /// interval does not slow the job; a blocking one pauses it. Written
    /// beside training, a checkpoint struck during its write is not there.
    #[test]
    fn checkpoints_block_only_when_they_say_so() {
        let mut j = job();
        j.spec.checkpoint_interval = 60;
        j.checkpoint_cost_s = 60.0;
        assert_eq!(j.checkpoint_efficiency(), 0.5, "blocking: half the time");
        j.checkpoint_blocking = false;
        assert_eq!(j.checkpoint_efficiency(), 1.0);
        j.spec.checkpoint_interval = 1800;
        j.start(0, 1.0, 72, vec![]);
        // Struck 30 s into the write of the checkpoint at 3,600 s: the one
        // at 1,800 s is the last that counts.
        let lost = j.stop(3630, 30);
        assert_eq!(lost, 1830.0);
        assert_eq!(j.state.saved, 1200.0);
        // Struck after the write: only the time since it is lost.
        j.start(0, 1.0, 72, vec![]);
        assert_eq!(j.stop(3700, 100), 100.0);
    }
}
