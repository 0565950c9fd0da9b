//! Knobs of the scheduler, with the reasoning behind each default.

use serde::{Deserialize, Serialize};

use crate::job::Time;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Pending jobs tested per pass beyond those that start. Slurm's backfill
    /// tests `bf_max_job_test` (default 500) jobs a cycle for the same
    /// reason: a pass must stay cheap with a deep queue.
    pub queue_depth: usize,
    /// Preemption searches per pass; each copies the free index.
    pub preemption_attempts: usize,
    /// A tray that fails this often within `lemon_window` is quarantined
    /// (Meta, HPCA 2025: quarantining repeat offenders cut failures of big
    /// jobs sharply; domain.md §3). 3 in 7 days is assumed.
    pub lemon_failures: u32,
    pub lemon_window: Time,
    /// Share of a tray's typical draw it takes when idle (assumed: ~20%;
    /// domain.md gives no idle figure).
    pub idle_fraction: f64,
    /// Clock (and dynamic power) share a power-capped job runs at (assumed).
    pub throttle_clock: f64,
    /// Seconds between recomputations of fair-share order, as Slurm's
    /// PriorityCalcPeriod (default 5 minutes).
    pub fairshare_period: Time,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            queue_depth: 2000,
            preemption_attempts: 16,
            lemon_failures: 3,
            lemon_window: 7 * 24 * 3600,
            idle_fraction: 0.2,
            throttle_clock: 0.7,
            fairshare_period: 300,
        }
    }
}
