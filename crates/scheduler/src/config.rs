//! Knobs of the scheduler, with the reasoning behind each default.

use serde::{Deserialize, Serialize};

use crate::job::Time;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// A setting outside its range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("config.{field} = {value}: must be {range}")]
pub struct ConfigError {
    pub field: &'static str,
    pub value: String,
    pub range: &'static str,
}

impl Config {
    /// Checks every setting against its range:
    /// `queue_depth` 1..=1,000,000; `preemption_attempts` 0..=10,000;
    /// `lemon_failures` 1..=1,000; `lemon_window` 1 s..=365 days;
    /// `idle_fraction` and `throttle_clock` 0..=1 (finite);
    /// `fairshare_period` 1 s..=7 days.
    pub fn check(&self) -> Result<(), ConfigError> {
        fn within<T: PartialOrd + std::fmt::Display>(
            field: &'static str,
            v: T,
            lo: T,
            hi: T,
            range: &'static str,
        ) -> Result<(), ConfigError> {
            if lo <= v && v <= hi {
                Ok(())
            } else {
                Err(ConfigError {
                    field,
                    value: v.to_string(),
                    range,
                })
            }
        }
        const DAY: Time = 86_400;
        within(
            "queue_depth",
            self.queue_depth,
            1,
            1_000_000,
            "1 to 1,000,000",
        )?;
        within(
            "preemption_attempts",
            self.preemption_attempts,
            0,
            10_000,
            "0 to 10,000",
        )?;
        within(
            "lemon_failures",
            self.lemon_failures,
            1,
            1_000,
            "1 to 1,000",
        )?;
        within(
            "lemon_window",
            self.lemon_window,
            1,
            365 * DAY,
            "1 s to 365 days",
        )?;
        within("idle_fraction", self.idle_fraction, 0.0, 1.0, "from 0 to 1")?;
        within(
            "throttle_clock",
            self.throttle_clock,
            0.0,
            1.0,
            "from 0 to 1",
        )?;
        within(
            "fairshare_period",
            self.fairshare_period,
            1,
            7 * DAY,
            "1 s to 7 days",
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_in_range_and_each_bound_is_checked() {
        Config::default().check().unwrap();
        let bad = [
            Config {
                queue_depth: 0,
                ..Config::default()
            },
            Config {
                lemon_failures: 0,
                ..Config::default()
            },
            Config {
                lemon_window: 0,
                ..Config::default()
            },
            Config {
                idle_fraction: f64::NAN,
                ..Config::default()
            },
            Config {
                throttle_clock: 1.5,
                ..Config::default()
            },
            Config {
                fairshare_period: 0,
                ..Config::default()
            },
            Config {
                preemption_attempts: 10_001,
                ..Config::default()
            },
        ];
        for c in bad {
            let e = c.check().unwrap_err();
            assert!(
                e.to_string().starts_with(&format!("config.{}", e.field)),
                "{e}"
            );
        }
    }
}
