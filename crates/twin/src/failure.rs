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

/// Checks the settings a user can get wrong.
pub fn check(s: &FailureSettings, path: &FieldPath) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let nonneg = [
        ("rate_scale", s.rate_scale),
        ("detection_min", s.detection_min),
        ("reboot_min", s.reboot_min),
        ("repair_sigma", s.repair_sigma),
        ("restock_days", s.restock_days),
        ("lemon_factor", s.lemon_factor),
        ("quarantine_days", s.quarantine_days),
    ];
    for (field, v) in nonneg {
        if !(v.is_finite() && v >= 0.0) {
            d.push(Diagnostic::new(
                path.key(field),
                format!("must be a number of 0 or more, got {v}"),
            ));
        }
    }
    if !(0.0..=1.0).contains(&s.lemon_share) {
        d.push(Diagnostic::new(
            path.key("lemon_share"),
            format!("must be between 0 and 1, got {}", s.lemon_share),
        ));
    }
    if s.repair_crews == 0 {
        d.push(Diagnostic::new(
            path.key("repair_crews"),
            "must be 1 or more",
        ));
    }
    for (i, c) in s.causes.iter().enumerate() {
        let p = path.key("causes").index(i);
        if !(c.llama3_count.is_finite() && c.llama3_count >= 0.0) {
            d.push(Diagnostic::new(
                p.key("llama3_count"),
                format!("must be 0 or more, got {}", c.llama3_count),
            ));
        }
        if c.hardware && !(c.repair_hours.is_finite() && c.repair_hours > 0.0) {
            d.push(Diagnostic::new(
                p.key("repair_hours"),
                format!(
                    "a hardware cause needs repair hours above 0, got {}",
                    c.repair_hours
                ),
            ));
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

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
