//! The power chain of a hall (utility feed -> substation -> MV switchgear ->
//! transformers -> UPS -> rack power shelves) and what it can deliver.

use std::fmt;

use crate::spec::PowerSpec;

/// A stage of the power chain, named for error messages and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    UtilityFeed,
    Substation,
    Switchgear,
    Transformers,
    Ups,
}

impl Stage {
    /// The field in `[power]` that rates this stage.
    pub fn field(self) -> &'static str {
        match self {
            Stage::UtilityFeed => "utility_feed_mw",
            Stage::Substation => "substation_mva",
            Stage::Switchgear => "switchgear_mva",
            Stage::Transformers => "transformers",
            Stage::Ups => "ups_mw",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::UtilityFeed => "utility feed",
            Stage::Substation => "substation",
            Stage::Switchgear => "MV switchgear",
            Stage::Transformers => "transformers (N)",
            Stage::Ups => "UPS",
        })
    }
}

/// Real power each stage can pass, in MW, with N+R transformers counted at N.
pub fn stage_ratings_mw(power: &PowerSpec, power_factor: f64) -> Vec<(Stage, f64)> {
    let t = &power.transformers;
    let mut stages = vec![
        (Stage::UtilityFeed, power.utility_feed_mw),
        (Stage::Substation, power.substation_mva * power_factor),
        (Stage::Switchgear, power.switchgear_mva * power_factor),
        (
            Stage::Transformers,
            f64::from(t.count.saturating_sub(t.redundant)) * t.mva_each * power_factor,
        ),
    ];
    if let Some(ups) = power.ups_mw {
        stages.push((Stage::Ups, ups));
    }
    stages
}

/// The chain's capacity: its weakest stage.
pub fn capacity_mw(power: &PowerSpec, power_factor: f64) -> (Stage, f64) {
    stage_ratings_mw(power, power_factor).into_iter().fold(
        (Stage::UtilityFeed, f64::INFINITY),
        |best, s| {
            if s.1 < best.1 { s } else { best }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::TransformersSpec;

    #[test]
    fn weakest_stage_limits_the_chain() {
        let p = PowerSpec {
            utility_feed_mw: 30.0,
            substation_mva: 40.0,
            switchgear_mva: 40.0,
            transformers: TransformersSpec {
                count: 4,
                mva_each: 10.0,
                redundant: 1,
            },
            ups_mw: None,
        };
        let (stage, mw) = capacity_mw(&p, 0.95);
        assert_eq!(stage, Stage::Transformers);
        assert!((mw - 28.5).abs() < 1e-9);
    }
}
