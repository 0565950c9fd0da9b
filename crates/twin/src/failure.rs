//! Failures and repairs, calibrated to the Llama 3 pre-training run.
//!
//! Meta reports 419 unexpected interruptions in 54 days on 16,384 H100 GPUs
//! (domain.md §3). Each cause's count over those 16,384 x 54 x 24 GPU-hours
//! is its rate per GPU-hour; failures strike a GPU of the online campus at
//! random, so a job sees them in proportion to its GPUs. A few "lemon" trays
//! fail far more often, as Meta found (HPCA 2025, domain.md §3), which the
//! scheduler's quarantine catches.
//!
//! Operators publish rates in other units too, so a cause may be given as
//! its Llama 3 count, per GPU-hour or per node-day (with the GPUs of the
//! publisher's node), and `all_causes` may set the total in either unit,
//! the causes then giving only the mix.

use abilene_model::diagnostic::{Diagnostic, FieldPath};
use serde::{Deserialize, Serialize};

use crate::bounds::Bound;

/// GPU-hours of the Llama 3 run: 16,384 GPUs x 54 days x 24 h (domain.md §3).
pub const LLAMA3_GPU_HOURS: f64 = 16_384.0 * 54.0 * 24.0;

/// A failure rate in the units operators publish: exactly one of the two.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Interruptions per GPU-hour: from 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_gpu_hour: Option<f64>,
    /// Interruptions per node-day, a node being `failures.node_gpus` GPUs:
    /// from 0 to 1,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_node_day: Option<f64>,
}

/// Range of a rate per GPU-hour.
const PER_GPU_HOUR: Bound = Bound::closed(0.0, 1.0);
/// Range of a rate per node-day.
const PER_NODE_DAY: Bound = Bound::closed(0.0, 1_000.0);
/// Range of a Llama 3 count.
const LLAMA3_COUNT: Bound = Bound::closed(0.0, 1e6);

/// One cause of unexpected interruptions, with its rate in one of three
/// units: exactly one of `llama3_count`, `per_gpu_hour`, `per_node_day`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cause {
    pub name: String,
    /// Interruptions it caused in the Llama 3 run (domain.md §3); the rate
    /// is this over the run's GPU-hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llama3_count: Option<f64>,
    /// Interruptions per GPU-hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_gpu_hour: Option<f64>,
    /// Interruptions per node-day of `failures.node_gpus` GPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_node_day: Option<f64>,
    /// Whether the tray must be repaired (else a reboot clears it).
    pub hardware: bool,
    /// Median hours to repair once a crew starts (log-normal).
    pub repair_hours: f64,
}

fn cause(name: &str, llama3_count: f64, hardware: bool, repair_hours: f64) -> Cause {
    Cause {
        name: name.into(),
        llama3_count: Some(llama3_count),
        per_gpu_hour: None,
        per_node_day: None,
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
    /// The rate of all causes together; the causes' rates then only give
    /// the mix. None: the causes' rates add up to the total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all_causes: Option<Rate>,
    /// GPUs in the node a per-node-day rate counts (the publisher's node,
    /// e.g. 8 for an HGX host): from 1 to 1,024. No default: it must be
    /// given with any per-node-day rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_gpus: Option<u32>,
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
            all_causes: None,
            node_gpus: None,
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

/// Per GPU-hour of a rate given per GPU-hour or per node-day of
/// `node_gpus` GPUs (0 if that is missing: the check refuses it).
fn gpu_hour(per_gpu_hour: Option<f64>, per_node_day: Option<f64>, node_gpus: Option<u32>) -> f64 {
    match (per_gpu_hour, per_node_day) {
        (Some(r), _) => r,
        (None, Some(r)) => node_gpus.map_or(0.0, |g| r / (24.0 * f64::from(g.max(1)))),
        (None, None) => 0.0,
    }
}

impl Cause {
    /// This cause's own rate per GPU-hour, whatever unit it was given in.
    pub fn rate_per_gpu_hour(&self, node_gpus: Option<u32>) -> f64 {
        match self.llama3_count {
            Some(n) => n / LLAMA3_GPU_HOURS,
            None => gpu_hour(self.per_gpu_hour, self.per_node_day, node_gpus),
        }
    }
}

impl FailureSettings {
    /// Interruptions per GPU-hour, all causes, before lemons.
    pub fn rate_per_gpu_hour(&self) -> f64 {
        let total = match &self.all_causes {
            Some(r) => gpu_hour(r.per_gpu_hour, r.per_node_day, self.node_gpus),
            None => self.causes_sum(),
        };
        total * self.rate_scale
    }

    /// The causes' own rates per GPU-hour, added up.
    fn causes_sum(&self) -> f64 {
        self.causes
            .iter()
            .map(|c| c.rate_per_gpu_hour(self.node_gpus))
            .sum()
    }

    /// How much cause `cause` weighs in the mix (its own rate per
    /// GPU-hour); its share is this over [`FailureSettings::cause_weights_total`].
    pub fn cause_weight(&self, cause: usize) -> f64 {
        self.causes[cause].rate_per_gpu_hour(self.node_gpus)
    }

    /// The sum of [`FailureSettings::cause_weight`] over the causes.
    pub fn cause_weights_total(&self) -> f64 {
        self.causes_sum()
    }
}

/// Checks that exactly one of a rate's units is given, and its range.
fn check_rate(
    d: &mut Vec<Diagnostic>,
    p: &FieldPath,
    given: &[(&str, Option<f64>, Bound)],
    node_gpus: Option<u32>,
    node_gpus_at: &FieldPath,
) {
    let set: Vec<&str> = given
        .iter()
        .filter(|g| g.1.is_some())
        .map(|g| g.0)
        .collect();
    if set.len() != 1 {
        let names: Vec<String> = given.iter().map(|g| format!("`{}`", g.0)).collect();
        d.push(Diagnostic::new(
            p.clone(),
            format!(
                "give exactly one of {}, got {}",
                names.join(", "),
                if set.is_empty() {
                    "none".to_string()
                } else {
                    set.join(" and ")
                }
            ),
        ));
    }
    for (field, v, bound) in given {
        if let Some(v) = v {
            bound.check(d, p, field, *v);
            if *field == "per_node_day" && node_gpus.is_none() {
                // Placed at the rate, where the user wrote it.
                d.push(Diagnostic::new(
                    p.key(field),
                    format!(
                        "needs `{node_gpus_at}`, the GPUs of the node the rate counts \
                         (from 1 to 1,024)"
                    ),
                ));
            }
        }
    }
}

/// Checks the settings a user can get wrong. Ranges: `rate_scale` from 0
/// to 1,000; minutes from 0 to 1,440 (a day); days from 0 to 3,660 (the
/// longest scenario); `repair_sigma` from 0 to 5; `repair_crews` from 1 to
/// 1,000,000; `lemon_share` from 0 to 1; `lemon_factor` from 0 to 1,000; a
/// cause's rate as exactly one of `llama3_count` (from 0 to 1,000,000),
/// `per_gpu_hour` (from 0 to 1) or `per_node_day` (from 0 to 1,000, with
/// `node_gpus` from 1 to 1,024) and, for hardware, repair hours above 0 and
/// at most 8,760 (a year); at most [`MAX_CAUSES`] causes; `all_causes` as one
/// of `per_gpu_hour` or `per_node_day`, and then some cause with a rate
/// above 0 to give the mix.
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
    if let Some(g) = s.node_gpus {
        Bound::closed(1.0, 1_024.0).check_int(&mut d, path, "node_gpus", u64::from(g));
    }
    let node_at = path.key("node_gpus");
    if let Some(r) = &s.all_causes {
        let p = path.key("all_causes");
        let given = [
            ("per_gpu_hour", r.per_gpu_hour, PER_GPU_HOUR),
            ("per_node_day", r.per_node_day, PER_NODE_DAY),
        ];
        check_rate(&mut d, &p, &given, s.node_gpus, &node_at);
        if s.causes_sum().partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            d.push(Diagnostic::new(
                path.key("causes"),
                "with `all_causes`, some cause must have a rate above 0 to give the mix",
            ));
        }
    }
    for (i, c) in s.causes.iter().enumerate() {
        let p = path.key("causes").index(i);
        let given = [
            ("llama3_count", c.llama3_count, LLAMA3_COUNT),
            ("per_gpu_hour", c.per_gpu_hour, PER_GPU_HOUR),
            ("per_node_day", c.per_node_day, PER_NODE_DAY),
        ];
        check_rate(&mut d, &p, &given, s.node_gpus, &node_at);
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
        let total: f64 = s.causes.iter().filter_map(|c| c.llama3_count).sum();
        assert_eq!(total, 419.0);
        let hw: f64 = s
            .causes
            .iter()
            .filter(|c| c.hardware)
            .filter_map(|c| c.llama3_count)
            .sum();
        let share = hw / total;
        assert!((0.74..0.82).contains(&share), "hardware share {share}");
        // 419 over the run's GPU-hours.
        assert!((s.rate_per_gpu_hour() * LLAMA3_GPU_HOURS - 419.0).abs() < 1e-6);
    }

    /// Llama 3 as an operator would publish it: 419 unexpected
    /// interruptions over 2,048 eight-GPU nodes for 54 days (domain.md §3).
    const LLAMA3_PER_NODE_DAY: f64 = 419.0 / (2_048.0 * 54.0);

    #[test]
    fn a_per_node_day_total_gives_the_llama3_rate() {
        let s = FailureSettings {
            all_causes: Some(Rate {
                per_node_day: Some(LLAMA3_PER_NODE_DAY),
                per_gpu_hour: None,
            }),
            node_gpus: Some(8),
            ..FailureSettings::default()
        };
        assert!(check(&s, &FieldPath::root()).is_empty());
        let want = FailureSettings::default().rate_per_gpu_hour();
        assert!((s.rate_per_gpu_hour() - want).abs() < 1e-15 * want.max(1.0));
        // Twice the nodes' GPUs, the same node rate: half the GPU rate.
        let wide = FailureSettings {
            node_gpus: Some(16),
            ..s.clone()
        };
        assert!((wide.rate_per_gpu_hour() * 2.0 - want).abs() < 1e-15);
        // The causes still give the mix: a faulty GPU is 148 of 419.
        let share = s.cause_weight(0) / s.cause_weights_total();
        assert!((share - 148.0 / 419.0).abs() < 1e-12);
    }

    #[test]
    fn causes_may_be_given_per_gpu_hour_or_per_node_day() {
        let mut s = FailureSettings::default();
        s.causes.truncate(2);
        s.causes[0].llama3_count = None;
        s.causes[0].per_gpu_hour = Some(1e-4);
        s.causes[1].llama3_count = None;
        s.causes[1].per_node_day = Some(0.0048);
        s.node_gpus = Some(4);
        assert!(check(&s, &FieldPath::root()).is_empty());
        // 1e-4 + 0.0048 / (24 x 4) = 1.5e-4 per GPU-hour.
        assert!((s.rate_per_gpu_hour() - 1.5e-4).abs() < 1e-15);
    }

    #[test]
    fn a_rate_in_no_unit_or_two_or_without_its_node_is_refused() {
        let at = FieldPath::root().key("failures");
        let mut s = FailureSettings::default();
        s.causes.truncate(3);
        s.causes[0].per_gpu_hour = Some(1e-5); // and its Llama 3 count
        s.causes[1].llama3_count = None; // nothing
        s.causes[2].llama3_count = None;
        s.causes[2].per_node_day = Some(2.0); // without node_gpus
        s.all_causes = Some(Rate {
            per_gpu_hour: Some(2.0), // above 1
            per_node_day: None,
        });
        let d = check(&s, &at);
        let got: Vec<String> = d
            .iter()
            .map(|d| format!("{}: {}", d.path, d.message))
            .collect();
        assert_eq!(
            got,
            [
                "failures.all_causes.per_gpu_hour: must be from 0 to 1, got 2",
                "failures.causes[0]: give exactly one of `llama3_count`, `per_gpu_hour`, \
                 `per_node_day`, got llama3_count and per_gpu_hour",
                "failures.causes[1]: give exactly one of `llama3_count`, `per_gpu_hour`, \
                 `per_node_day`, got none",
                "failures.causes[2].per_node_day: needs `failures.node_gpus`, the GPUs of \
                 the node the rate counts (from 1 to 1,024)",
            ]
        );
        // A total with no cause to give the mix.
        let none = FailureSettings {
            causes: Vec::new(),
            all_causes: Some(Rate {
                per_gpu_hour: Some(1e-5),
                per_node_day: None,
            }),
            ..FailureSettings::default()
        };
        let d = check(&none, &at);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path.to_string(), "failures.causes");
    }
}
