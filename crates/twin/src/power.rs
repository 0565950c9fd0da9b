//! What a tray draws, by what its job is doing, and how placement slows a
//! job down.

use abilene_model::diagnostic::{Diagnostic, FieldPath};
use serde::{Deserialize, Serialize};

use crate::bounds::Bound;

/// Shares of a tray's maximum draw by phase, and the network model. Range
/// of every field: a share from 0 to 1 (`comm_fraction` below 1), with
/// `inference_low` at most `inference_high`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PowerSettings {
    /// Computing: a GB200 rack is ~120 kW typical of ~132 kW max (domain.md
    /// §2), 0.91; a demanding training job averages ~75% of TDP (domain.md
    /// §4), the rest of the tray (CPUs, NICs, fans) drawing steadily.
    pub compute: f64,
    /// Waiting on the network in collectives (assumed).
    pub communication: f64,
    /// Writing a checkpoint (assumed).
    pub checkpoint: f64,
    /// Reloading after a restart (assumed).
    pub restart: f64,
    /// An idle tray (assumed ~20%; the scheduler's idle fraction).
    pub idle: f64,
    /// Inference: draw follows the daily load cycle between these (assumed).
    pub inference_low: f64,
    pub inference_high: f64,
    /// Share of a training step spent in communication on an ideal
    /// placement (assumed).
    pub comm_fraction: f64,
}

impl Default for PowerSettings {
    fn default() -> Self {
        PowerSettings {
            compute: 0.91,
            communication: 0.6,
            checkpoint: 0.35,
            restart: 0.3,
            idle: 0.2,
            inference_low: 0.35,
            inference_high: 0.75,
            comm_fraction: 0.15,
        }
    }
}

/// Checks settings read from a scenario; `at` is where they sit in it.
pub fn check(s: &PowerSettings, at: &FieldPath) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let share = Bound::closed(0.0, 1.0);
    for (field, v) in [
        ("compute", s.compute),
        ("communication", s.communication),
        ("checkpoint", s.checkpoint),
        ("restart", s.restart),
        ("idle", s.idle),
        ("inference_low", s.inference_low),
        ("inference_high", s.inference_high),
    ] {
        share.check(&mut d, at, field, v);
    }
    // All of a step in communication would make the slowdown model divide
    // the work by nothing.
    Bound::below(0.0, 1.0).check(&mut d, at, "comm_fraction", s.comm_fraction);
    if s.inference_low > s.inference_high {
        d.push(Diagnostic::new(
            at.key("inference_low"),
            format!(
                "must be at most inference_high ({}), got {}",
                s.inference_high, s.inference_low
            ),
        ));
    }
    d
}

/// How much longer a step takes when a job spans leaf groups or buildings:
/// the communication share slows by the oversubscription crossed.
pub fn slowdown(
    s: &PowerSettings,
    leaf_groups: u32,
    buildings: u32,
    leaf_oversub: f64,
    spine_oversub: f64,
) -> f64 {
    let factor = if buildings > 1 {
        leaf_oversub.max(1.0) * spine_oversub.max(1.0)
    } else if leaf_groups > 1 {
        leaf_oversub.max(1.0)
    } else {
        1.0
    };
    1.0 + s.comm_fraction * (factor - 1.0)
}

/// A training tray's mean draw share at `slowdown`: the extra time is spent
/// waiting on the network, at communication power.
pub fn training_share(s: &PowerSettings, slowdown: f64) -> f64 {
    // A step of 1 at ideal placement takes `slowdown`; all the extra is
    // communication.
    let comm = (slowdown - 1.0 + s.comm_fraction) / slowdown;
    let comm = comm.clamp(0.0, 1.0);
    s.compute * (1.0 - comm) + s.communication * comm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_and_negative_or_nan_shares_do_not() {
        let at = FieldPath::root().key("power");
        assert!(check(&PowerSettings::default(), &at).is_empty());
        let bad = PowerSettings {
            idle: -5.0,
            compute: f64::NAN,
            inference_low: 0.9,
            ..PowerSettings::default()
        };
        let d = check(&bad, &at);
        let fields: Vec<String> = d.iter().map(|d| d.path.to_string()).collect();
        assert_eq!(
            fields,
            ["power.compute", "power.idle", "power.inference_low"],
            "{d:?}"
        );
        assert_eq!(d[1].message, "must be from 0 to 1, got -5");
    }

    #[test]
    fn spanning_buildings_is_slower_than_leaf_groups() {
        let s = PowerSettings::default();
        assert_eq!(slowdown(&s, 1, 1, 1.0, 4.0), 1.0);
        assert_eq!(slowdown(&s, 3, 1, 1.0, 4.0), 1.0);
        let across = slowdown(&s, 90, 3, 1.0, 4.0);
        assert!((across - 1.45).abs() < 1e-9, "{across}");
        assert!(training_share(&s, across) < training_share(&s, 1.0));
    }
}
