//! Failures and repairs, calibrated to the Llama 3 pre-training run.
//!
//! Meta reports 419 unexpected interruptions in 54 days on 16,384 H100 GPUs
//! (domain.md §3). Each cause's count over those 16,384 x 54 x 24 GPU-hours
//! is its rate per GPU-hour; failures strike a GPU of the online campus at
//! random, so a job sees them in proportion to its GPUs. A few "lemon" trays
//! fail far more often, as Meta found (HPCA 2025, domain.md §3), which the
//! scheduler's quarantine catches.

use abilene_model::diagnostic::{Diagnostic, FieldPath};
use serde::{Deserialize, Serialize};

use crate::bounds::Bound;

/// GPU-hours of the Llama 3 run: 16,384 GPUs x 54 days x 24 h (domain.md §3).
pub const LLAMA3_GPU_HOURS: f64 = 16_384.0 * 54.0 * 24.0;

/// One cause of unexpected interruptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cause {
    pub name: String,
    /// Interruptions it caused in the Llama 3 run (domain.md §3); the rate
    /// is this over the run's GPU-hours.
    pub llama3_count: f64,
    /// Whether the tray must be repaired (else a reboot clears it).
    pub hardware: bool,
    /// Median hours to repair once a crew starts (log-normal).
    pub repair_hours: f64,
}

fn cause(name: &str, llama3_count: f64, hardware: bool, repair_hours: f64) -> Cause {
    Cause {
        name: name.into(),
        llama3_count,
        hardware,
        repair_hours,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FailureSettings {
    /// Multiplies every cause's rate: 2.0 doubles failures.
    pub rate_scale: f64,
    pub causes: Vec<Cause>,
    /// Minutes from a failure to its detection and drain; the job's work in
    /// that time is lost too (assumed: health checks and NCCL timeouts
    /// take a few minutes).
    pub detection_min: f64,
    /// Minutes a reboot takes for a failure that needs no parts (assumed).
    pub reboot_min: f64,
    /// Spread of repair times: sigma of the log-normal (assumed).
    pub repair_sigma: f64,
    /// Hardware repairs that can run at once (assumed: crews on shift).
    pub repair_crews: u32,
    /// Trays' worth of parts on site; a part used is restocked after
    /// `restock_days` (assumed).
    pub spare_parts: u32,
    pub restock_days: f64,
    /// Share of trays that are lemons, and how much more often they fail
    /// (assumed; Meta reports repeat offenders but not their share).
    pub lemon_share: f64,
    pub lemon_factor: f64,
    /// Days of deep repair before an operator clears a quarantined tray.
    pub quarantine_days: f64,
}

impl Default for FailureSettings {
    fn default() -> Self {
        // Counts from the Llama 3 table (domain.md §3); hardware or not and
        // repair times are assumed: ~78% hardware, as Meta reports.
        let causes = vec![
            cause("faulty GPU", 148.0, true, 8.0),
            cause("GPU HBM3 memory", 72.0, true, 8.0),
            cause("software bug", 54.0, false, 0.0),
            cause("network switch or cable", 35.0, true, 2.0),
            cause("host maintenance", 32.0, false, 0.0),
            cause("GPU SRAM", 19.0, true, 8.0),
            cause("GPU system processor", 17.0, true, 8.0),
            cause("NIC", 7.0, true, 4.0),
            cause("NCCL watchdog timeout", 7.0, false, 0.0),
            cause("silent data corruption", 6.0, true, 8.0),
            cause("GPU thermal interface or sensor", 6.0, true, 6.0),
            cause("SSD", 3.0, true, 4.0),
            cause("power supply", 3.0, true, 2.0),
            cause("chassis, IO board, CPU, system memory", 8.0, true, 8.0),
            cause("dependency", 2.0, false, 0.0),
        ];
        FailureSettings {
            rate_scale: 1.0,
            causes,
            detection_min: 3.0,
            reboot_min: 15.0,
            repair_sigma: 0.8,
            repair_crews: 200,
            spare_parts: 2_000,
            restock_days: 14.0,
            lemon_share: 0.0,
            lemon_factor: 20.0,
            quarantine_days: 3.0,
        }
    }
}

impl FailureSettings {
    /// Interruptions per GPU-hour, all causes, before lemons.
    pub fn rate_per_gpu_hour(&self) -> f64 {
        self.causes.iter().map(|c| c.llama3_count).sum::<f64>() / LLAMA3_GPU_HOURS * self.rate_scale
    }
}

/// Checks the settings a user can get wrong. Ranges: `rate_scale` from 0
/// to 1,000; minutes from 0 to 1,440 (a day); days from 0 to 3,660 (the
/// longest scenario); `repair_sigma` from 0 to 5; `repair_crews` from 1 to
/// 1,000,000; `lemon_share` from 0 to 1; `lemon_factor` from 0 to 1,000; a
/// cause's count from 0 to 1,000,000 and, for hardware, repair hours above 0
/// and at most 8,760 (a year); at most [`MAX_CAUSES`] causes.
pub fn check(s: &FailureSettings, path: &FieldPath) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    Bound::closed(0.0, 1_000.0).check(&mut d, path, "rate_scale", s.rate_scale);
    let minutes = Bound::closed(0.0, 1_440.0).unit(" minutes");
    minutes.check(&mut d, path, "detection_min", s.detection_min);
    minutes.check(&mut d, path, "reboot_min", s.reboot_min);
    Bound::closed(0.0, 5.0).check(&mut d, path, "repair_sigma", s.repair_sigma);
    let days = Bound::closed(0.0, 3_660.0).unit(" days");
    days.check(&mut d, path, "restock_days", s.restock_days);
    days.check(&mut d, path, "quarantine_days", s.quarantine_days);
    Bound::closed(0.0, 1.0).check(&mut d, path, "lemon_share", s.lemon_share);
    Bound::closed(0.0, 1_000.0).check(&mut d, path, "lemon_factor", s.lemon_factor);
    Bound::closed(1.0, 1e6).check_int(&mut d, path, "repair_crews", u64::from(s.repair_crews));
    if s.causes.len() > MAX_CAUSES {
        d.push(Diagnostic::new(
            path.key("causes"),
            format!(
                "must list at most {MAX_CAUSES} causes, got {}",
                s.causes.len()
            ),
        ));
        return d;
    }
    for (i, c) in s.causes.iter().enumerate() {
        let p = path.key("causes").index(i);
        Bound::closed(0.0, 1e6).check(&mut d, &p, "llama3_count", c.llama3_count);
        if c.hardware {
            Bound::above(0.0, 8_760.0).unit(" hours").check(
                &mut d,
                &p,
                "repair_hours",
                c.repair_hours,
            );
        }
    }
    d
}

/// Most failure causes a scenario may list (the Llama 3 table has 15).
pub const MAX_CAUSES: usize = 1_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_minutes_past_their_range_are_refused() {
        // `now + days` in seconds would overflow the clock.
        let at = FieldPath::root().key("failures");
        assert!(check(&FailureSettings::default(), &at).is_empty());
        let bad = FailureSettings {
            quarantine_days: 1e300,
            restock_days: f64::NAN,
            reboot_min: 1e20,
            repair_crews: 0,
            ..FailureSettings::default()
        };
        let fields: Vec<String> = check(&bad, &at)
            .iter()
            .map(|d| d.path.to_string())
            .collect();
        assert_eq!(
            fields,
            [
                "failures.reboot_min",
                "failures.restock_days",
                "failures.quarantine_days",
                "failures.repair_crews"
            ]
        );
    }

    #[test]
    fn default_causes_add_up_to_the_llama3_table() {
        let s = FailureSettings::default();
        let total: f64 = s.causes.iter().map(|c| c.llama3_count).sum();
        assert_eq!(total, 419.0);
        let hw: f64 = s
            .causes
            .iter()
            .filter(|c| c.hardware)
            .map(|c| c.llama3_count)
            .sum();
        let share = hw / total;
        assert!((0.74..0.82).contains(&share), "hardware share {share}");
        // 419 over the run's GPU-hours.
        assert!((s.rate_per_gpu_hour() * LLAMA3_GPU_HOURS - 419.0).abs() < 1e-6);
    }
}
