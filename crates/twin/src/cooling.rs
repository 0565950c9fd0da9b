//! Facility overhead and thermal limits of a liquid-cooled hall as a function
//! of the outdoor (dry-bulb) temperature.
//!
//! The plant, after `crates/model/src/cooling.rs`: CDUs carry the liquid
//! share of rack heat into the facility water loop, air handlers (CRAHs) the
//! rest; dry coolers reject it all outside, with trim chillers for the
//! hottest hours. The loop is closed and non-evaporative (domain.md §1).
//!
//! Model, per hall and hour:
//! - Dry coolers are rated at the hall's design ambient. Their capacity with
//!   fans at full speed falls linearly with ambient and is zero at
//!   [`CoolingSettings::dry_cooler_cutoff_c`], the temperature of the hottest
//!   water the loop may return to them: the rejection rate is proportional to
//!   water-in minus air-in. In cool air it rises above the rating.
//! - Fans modulate to hold the coolant at [`CoolingSettings::coolant_supply_c`]
//!   while ambient plus the approach is below it; above that the loop runs
//!   warm (domain.md §2: "45 C design allows dry coolers without chillers")
//!   and the fans run flat out. Fan power goes as the cube of speed.
//! - Trim chillers take the heat the dry coolers cannot reject, up to their
//!   rating, at [`CoolingSettings::chiller_cop`].
//! - Heat that neither the CDUs and loop, the air handlers, nor the heat
//!   rejection can carry is the shortfall: the twin throttles racks by it.
//! - Pumps, air handlers and electrical losses scale with the heat or IT
//!   power they carry and do not depend on the weather.

use abilene_model::cooling::CoolingCapacity;
use abilene_model::diagnostic::{Diagnostic, FieldPath};
use abilene_model::spec::CoolingSpec;
use abilene_model::{Campus, Hall, HallId};
use serde::{Deserialize, Serialize};

/// How the cooling plant behaves; every field can be set in a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoolingSettings {
    /// Coolant supply to the cold plates that the plant holds while the
    /// weather allows, C.
    pub coolant_supply_c: f64,
    /// Water leaving a dry cooler at full fan speed is this much warmer than
    /// the air, C.
    pub dry_cooler_approach_c: f64,
    /// Ambient at which dry coolers can reject no heat without chillers, C.
    pub dry_cooler_cutoff_c: f64,
    /// CDU and facility-loop pump power per MW of liquid heat carried, kW.
    pub pump_kw_per_mw: f64,
    /// Dry-cooler fan power at full speed per MW of rated dry-cooler
    /// capacity (rated at the hall's design ambient), kW.
    pub dry_cooler_fan_kw_per_mw: f64,
    /// Heat removed per unit of electricity by the trim chillers.
    pub chiller_cop: f64,
    /// Air-handler (CRAH) fan power per MW of air heat carried, kW.
    pub crah_kw_per_mw: f64,
    /// Transformer, switchgear and distribution losses, as a share of IT power.
    pub electrical_loss_share: f64,
    /// Lighting, controls, offices and make-up air, as a share of IT power.
    pub auxiliary_share: f64,
}

impl Default for CoolingSettings {
    fn default() -> Self {
        CoolingSettings {
            // domain.md §2: GB200 coolant ~25 C supply (NVIDIA).
            coolant_supply_c: 25.0,
            // Assumed: large dry coolers are selected for a 4-6 C approach;
            // 5 C with the abilene preset's 40 C design ambient gives 45 C
            // water, the warm-water limit of domain.md §2.
            dry_cooler_approach_c: 5.0,
            // domain.md §2 (derived): loop supply may float up to 45 C ("45 C
            // design allows dry coolers without chillers"), returning 10 C
            // warmer ("1.35-1.5 L/min per kW for a <=10 C rise"): 55 C water
            // reaches the dry coolers, which reject nothing into 55 C air.
            dry_cooler_cutoff_c: 55.0,
            // domain.md §2 (derived): 1.5 L/min per kW is 25 L/s per MW; at an
            // assumed 250 kPa per loop and 70% pump efficiency that is ~9 kW
            // per loop, two loops (CDU secondary and facility water) ~18 kW.
            pump_kw_per_mw: 18.0,
            // Assumed: 1 MW with an 8 C air rise moves ~110 m^3/s; at ~160 Pa
            // through coil and fan and 50% EC-fan efficiency that is ~35 kW.
            dry_cooler_fan_kw_per_mw: 35.0,
            // Assumed: air-cooled trim chiller lifting warm (~45-55 C) water
            // on a 40+ C day: a small lift, but a hot condenser.
            chiller_cop: 4.0,
            // Assumed: 1 MW of air heat at a 12 C air rise is ~69 m^3/s; at
            // ~500 Pa and 60% fan efficiency that is ~57 kW, rounded to 60.
            crah_kw_per_mw: 60.0,
            // Assumed: MV and LV transformers ~2%, switchgear and busway ~1%;
            // no UPS, as racks ride through on their shelves (presets/abilene.toml).
            electrical_loss_share: 0.03,
            // Assumed: lighting, controls, offices, security and hall make-up
            // air, ~1.5% of IT in a hyperscale building.
            auxiliary_share: 0.015,
        }
    }
}

/// Checks settings read from a scenario; `at` is where they sit in it.
pub fn check(s: &CoolingSettings, at: &FieldPath) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    for (field, v) in [
        ("coolant_supply_c", s.coolant_supply_c),
        ("dry_cooler_cutoff_c", s.dry_cooler_cutoff_c),
    ] {
        if !(v.is_finite() && (-20.0..=90.0).contains(&v)) {
            d.push(Diagnostic::new(
                at.key(field),
                format!("must be a temperature from -20 to 90 C, got {v}"),
            ));
        }
    }
    for (field, v) in [
        ("dry_cooler_approach_c", s.dry_cooler_approach_c),
        ("chiller_cop", s.chiller_cop),
    ] {
        if !(v.is_finite() && v > 0.0) {
            d.push(Diagnostic::new(
                at.key(field),
                format!("must be a number above 0, got {v}"),
            ));
        }
    }
    for (field, v) in [
        ("pump_kw_per_mw", s.pump_kw_per_mw),
        ("dry_cooler_fan_kw_per_mw", s.dry_cooler_fan_kw_per_mw),
        ("crah_kw_per_mw", s.crah_kw_per_mw),
    ] {
        if !(v.is_finite() && (0.0..=1000.0).contains(&v)) {
            d.push(Diagnostic::new(
                at.key(field),
                format!("must be from 0 to 1000 kW per MW, got {v}"),
            ));
        }
    }
    for (field, v) in [
        ("electrical_loss_share", s.electrical_loss_share),
        ("auxiliary_share", s.auxiliary_share),
    ] {
        if !(v.is_finite() && (0.0..1.0).contains(&v)) {
            d.push(Diagnostic::new(
                at.key(field),
                format!("must be a share from 0 to below 1, got {v}"),
            ));
        }
    }
    if s.dry_cooler_cutoff_c.is_finite()
        && s.coolant_supply_c.is_finite()
        && s.dry_cooler_cutoff_c <= s.coolant_supply_c
    {
        d.push(Diagnostic::new(
            at.key("dry_cooler_cutoff_c"),
            format!(
                "must be above coolant_supply_c ({} C): the loop returns warmer than it supplies",
                s.coolant_supply_c
            ),
        ));
    }
    d
}

/// One hall as the cooling model sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct HallThermal {
    /// IT power drawn by the racks (all of it ends up as heat), kW.
    pub it_kw: f64,
    /// Share of rack heat taken by liquid (0..=1); the rest goes to air.
    pub liquid_share: f64,
    pub capacity: CoolingCapacity,
    /// Ambient at which the dry coolers deliver `dry_cooler_mw`, C.
    pub design_ambient_c: f64,
    /// All the hall's dry coolers at design ambient, MW.
    pub dry_cooler_mw: f64,
    /// Trim chillers, MW of heat; 0 for none.
    pub chillers_mw: f64,
}

/// Design ambient assumed by [`HallThermal::of`] for a hall whose cooling
/// spec cannot be found (a validated campus always has it): the abilene
/// preset's figure.
const FALLBACK_DESIGN_AMBIENT_C: f64 = 40.0;

impl HallThermal {
    /// A hall at its typical IT draw (every rack at its SKU's typical kW).
    pub fn new(hall: &Hall, spec: &CoolingSpec) -> HallThermal {
        let hr = &spec.heat_rejection;
        HallThermal {
            it_kw: hall.load.it_typical_kw,
            liquid_share: liquid_share(hall),
            capacity: hall.cooling,
            design_ambient_c: hr.design_ambient_c,
            dry_cooler_mw: f64::from(hr.dry_coolers) * hr.dry_cooler_mw,
            chillers_mw: hr.chillers_mw,
        }
    }

    /// Hall `id` of a built campus (`hall` is `&campus.halls[id]`), at its
    /// typical IT draw; its cooling spec is looked up through the templates.
    pub fn of(campus: &Campus, id: HallId, hall: &Hall) -> HallThermal {
        let spec = campus
            .buildings
            .get(hall.building.index())
            .zip(campus.spec.buildings.get(hall.building.index()))
            .and_then(|(b, bspec)| {
                let local = id.index().checked_sub(usize::from(b.halls.start))?;
                bspec.halls.get(local)
            })
            .and_then(|h| h.resolve(&campus.spec.hall_templates).cooling);
        match spec {
            Some(spec) => HallThermal::new(hall, spec),
            None => HallThermal {
                it_kw: hall.load.it_typical_kw,
                liquid_share: liquid_share(hall),
                capacity: hall.cooling,
                design_ambient_c: FALLBACK_DESIGN_AMBIENT_C,
                dry_cooler_mw: hall.cooling.rejection_mw,
                chillers_mw: 0.0,
            },
        }
    }

    /// The same hall drawing `it_kw`.
    pub fn at_load(&self, it_kw: f64) -> HallThermal {
        HallThermal {
            it_kw,
            ..self.clone()
        }
    }
}

fn liquid_share(hall: &Hall) -> f64 {
    let total = hall.load.liquid_kw + hall.load.air_kw;
    if total > 0.0 {
        (hall.load.liquid_kw / total).clamp(0.0, 1.0)
    } else {
        1.0
    }
}

/// A hall's cooling in one hour. Powers are electrical, heats thermal, kW.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct CoolingState {
    /// All non-IT facility power for this hall: pumps, dry-cooler fans,
    /// chillers, air handlers, electrical losses and auxiliaries, at the
    /// demanded IT load.
    pub overhead_kw: f64,
    /// Electrical power of the trim chillers (part of `overhead_kw`); above 0
    /// exactly when the chillers run.
    pub chiller_kw: f64,
    /// Dry coolers at this ambient (full fan speed) plus chillers: the heat
    /// the hall can reject outside.
    pub rejection_capacity_kw: f64,
    /// CDUs at N and the facility loop behind them.
    pub liquid_capacity_kw: f64,
    /// Rack heat to remove: the demanded IT power.
    pub heat_kw: f64,
    /// Heat that cannot be removed: the twin throttles racks by this much.
    pub shortfall_kw: f64,
}

/// Heat the hall's dry coolers can reject at `ambient_c` with fans at full
/// speed, kW: the rating at design ambient, scaled by water-in minus air-in.
pub fn dry_cooler_capacity_kw(
    settings: &CoolingSettings,
    hall: &HallThermal,
    ambient_c: f64,
) -> f64 {
    let rated = hall.dry_cooler_mw.max(0.0) * 1000.0;
    let cutoff = settings.dry_cooler_cutoff_c;
    let span = cutoff - hall.design_ambient_c;
    let factor = if span > 0.0 {
        (cutoff - ambient_c) / span
    } else if ambient_c < cutoff {
        // Rated at or past the cutoff: take the rating until the cutoff.
        1.0
    } else {
        0.0
    };
    // `max` also turns a NaN ambient into no capacity.
    rated * factor.max(0.0)
}

/// The hall's cooling at `ambient_c` (outdoor dry bulb, C).
///
/// Overhead is for the demanded load, with the cooling machinery carrying
/// what it can; when `shortfall_kw` is above 0 the racks must shed that much,
/// and evaluating again at the lower load gives the overhead after. For a
/// fixed load, overhead never falls as ambient rises.
pub fn evaluate(settings: &CoolingSettings, hall: &HallThermal, ambient_c: f64) -> CoolingState {
    let it = hall.it_kw.max(0.0);
    let share = if hall.liquid_share >= 1.0 {
        1.0
    } else if hall.liquid_share > 0.0 {
        hall.liquid_share
    } else {
        0.0
    };
    let liquid = it * share;
    let air = it - liquid;
    let liquid_cap = hall.capacity.liquid_mw().max(0.0) * 1000.0;
    let air_cap = hall.capacity.air_mw.max(0.0) * 1000.0;

    // Share of the demand the CDUs, loop and air handlers can carry: racks
    // throttle evenly, so the tighter of the two sets it.
    let mut carry: f64 = 1.0;
    if liquid > 0.0 {
        carry = carry.min(liquid_cap / liquid);
    }
    if air > 0.0 {
        carry = carry.min(air_cap / air);
    }
    let carried = it * carry;

    let dry = dry_cooler_capacity_kw(settings, hall, ambient_c);
    let chillers = hall.chillers_mw.max(0.0) * 1000.0;
    let rejection = dry + chillers;
    let served = carried.min(rejection);
    let chiller_heat = (carried - dry).max(0.0).min(chillers);
    let chiller_kw = if chiller_heat > 0.0 {
        chiller_heat / settings.chiller_cop
    } else {
        0.0
    };

    let rated = hall.dry_cooler_mw.max(0.0) * 1000.0;
    let fan_speed = if carried <= 0.0 {
        0.0
    } else if carried >= dry {
        // At their limit (or past the cutoff): fans flat out.
        1.0
    } else {
        // Fans hold the supply temperature while the air is cool enough,
        // and turn at least fast enough for the heat.
        let load = carried / rated;
        let margin = settings.coolant_supply_c - ambient_c;
        let approach = settings.dry_cooler_approach_c * load;
        let hold = if margin > approach {
            approach / margin
        } else {
            1.0
        };
        hold.max(carried / dry).min(1.0)
    };
    let fan_kw =
        settings.dry_cooler_fan_kw_per_mw * hall.dry_cooler_mw.max(0.0) * fan_speed.powi(3);

    let pump_kw = settings.pump_kw_per_mw * liquid * carry / 1000.0;
    let crah_kw = settings.crah_kw_per_mw * air * carry / 1000.0;
    let electrical_kw = (settings.electrical_loss_share + settings.auxiliary_share) * it;

    CoolingState {
        overhead_kw: pump_kw + fan_kw + chiller_kw + crah_kw + electrical_kw,
        chiller_kw,
        rejection_capacity_kw: rejection,
        liquid_capacity_kw: liquid_cap,
        heat_kw: it,
        shortfall_kw: (it - served).max(0.0),
    }
}

/// Power usage effectiveness: facility power over IT power. NaN when there
/// is no IT load (undefined), so callers must skip idle hours.
pub fn pue(it_kw: f64, overhead_kw: f64) -> f64 {
    if it_kw > 0.0 {
        (it_kw + overhead_kw) / it_kw
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weather;
    use proptest::prelude::*;

    fn abilene() -> Campus {
        let p = abilene_model::preset::preset("abilene").expect("abilene preset");
        Campus::load(p.file, p.toml).expect("abilene preset loads")
    }

    /// The first GB200 hall of the abilene preset at typical load (the
    /// campus is built once: the proptest asks for it many times).
    fn gb200_hall() -> HallThermal {
        static HALL: std::sync::OnceLock<HallThermal> = std::sync::OnceLock::new();
        HALL.get_or_init(|| {
            let campus = abilene();
            assert_eq!(campus.halls[0].load.racks, 176);
            HallThermal::of(&campus, HallId(0), &campus.halls[0])
        })
        .clone()
    }

    #[test]
    fn hall_comes_from_the_preset() {
        let h = gb200_hall();
        // 176 racks x 120 kW typical (domain.md §2).
        assert!((h.it_kw - 21_120.0).abs() < 1e-6, "{}", h.it_kw);
        assert!((h.liquid_share - 0.85).abs() < 1e-9);
        assert_eq!(h.design_ambient_c, 40.0);
        assert!((h.dry_cooler_mw - 22.0).abs() < 1e-9);
        assert_eq!(h.chillers_mw, 4.0);
        // Every hall of the preset resolves its spec (no fallback).
        let campus = abilene();
        for (i, hall) in campus.halls.iter().enumerate() {
            let t = HallThermal::of(&campus, HallId(i as u16), hall);
            assert_eq!(t.chillers_mw, 4.0, "hall {i}");
        }
        // A hall's spec found directly agrees.
        let spec = campus.spec.hall_templates["gb200-phase1"].cooling.clone();
        assert_eq!(HallThermal::new(&campus.halls[0], &spec), h);
    }

    #[test]
    fn pue_is_in_the_published_range_and_rises_with_heat() {
        let s = CoolingSettings::default();
        let h = gb200_hall();
        let mild = evaluate(&s, &h, 15.0);
        let hot = evaluate(&s, &h, 42.0);
        let (p_mild, p_hot) = (
            pue(h.it_kw, mild.overhead_kw),
            pue(h.it_kw, hot.overhead_kw),
        );
        println!("GB200 hall at typical load: PUE {p_mild:.3} at 15 C, {p_hot:.3} at 42 C");
        for p in [p_mild, p_hot] {
            assert!((1.05..=1.2).contains(&p), "{p}");
        }
        assert!(p_hot > p_mild);
        assert_eq!(mild.shortfall_kw, 0.0);
        assert_eq!(hot.shortfall_kw, 0.0);
        assert_eq!(mild.heat_kw, h.it_kw);
        assert!((mild.liquid_capacity_kw - 20_000.0).abs() < 1e-6);
    }

    #[test]
    fn chillers_run_only_when_hot() {
        let s = CoolingSettings::default();
        let h = gb200_hall();
        for t in [-10.0, 0.0, 15.0, 25.0, 35.0, 39.0] {
            assert_eq!(evaluate(&s, &h, t).chiller_kw, 0.0, "{t} C");
        }
        let hot = evaluate(&s, &h, 43.0);
        assert!(hot.chiller_kw > 0.0);
        assert!(hot.chiller_kw <= h.chillers_mw * 1000.0 / s.chiller_cop + 1e-9);
        // At 43 C the dry coolers have lost a fifth of their rating.
        assert!((hot.rejection_capacity_kw - (22_000.0 * 12.0 / 15.0 + 4_000.0)).abs() < 1e-6);
    }

    #[test]
    fn dry_cooler_capacity_falls_with_ambient() {
        let s = CoolingSettings::default();
        let h = gb200_hall();
        assert!((dry_cooler_capacity_kw(&s, &h, 40.0) - 22_000.0).abs() < 1e-6);
        assert!(dry_cooler_capacity_kw(&s, &h, 30.0) > dry_cooler_capacity_kw(&s, &h, 35.0));
        assert_eq!(dry_cooler_capacity_kw(&s, &h, 55.0), 0.0);
        assert_eq!(dry_cooler_capacity_kw(&s, &h, 60.0), 0.0);
        assert_eq!(dry_cooler_capacity_kw(&s, &h, f64::NAN), 0.0);
        // Past the cutoff only the chillers are left, and the rest is shortfall.
        let st = evaluate(&s, &h, 56.0);
        assert!((st.rejection_capacity_kw - 4_000.0).abs() < 1e-6);
        assert!((st.shortfall_kw - (h.it_kw - 4_000.0)).abs() < 1e-6);
    }

    #[test]
    fn overload_past_the_cdus_shows_shortfall() {
        let s = CoolingSettings::default();
        let h = gb200_hall().at_load(25_000.0);
        // 85% of 25 MW is 21.25 MW of liquid heat on 20 MW of CDUs at N.
        let st = evaluate(&s, &h, 10.0);
        let expected = 25_000.0 - 20_000.0 / 0.85;
        assert!(
            (st.shortfall_kw - expected).abs() < 1e-6,
            "{}",
            st.shortfall_kw
        );
        assert_eq!(st.chiller_kw, 0.0);
        // At its maximum draw the hall sheds some heat only on a 43 C day.
        let max = gb200_hall().at_load(176.0 * 132.0);
        assert_eq!(evaluate(&s, &max, 40.0).shortfall_kw, 0.0);
        assert!(evaluate(&s, &max, 43.0).shortfall_kw > 0.0);
    }

    #[test]
    fn idle_hall_has_no_overhead_and_no_pue() {
        let s = CoolingSettings::default();
        let h = gb200_hall().at_load(0.0);
        let st = evaluate(&s, &h, 30.0);
        assert_eq!(st.overhead_kw, 0.0);
        assert_eq!(st.shortfall_kw, 0.0);
        assert!(pue(0.0, st.overhead_kw).is_nan());
        assert!((pue(1000.0, 100.0) - 1.1).abs() < 1e-12);
    }

    #[test]
    fn abilene_year_pue_and_chiller_hours() {
        let s = CoolingSettings::default();
        let h = gb200_hall();
        let w = weather::abilene();
        let mut pues = Vec::with_capacity(weather::HOURS_PER_YEAR);
        let (mut it, mut total) = (0.0, 0.0);
        let mut chiller_hours = 0;
        for hour in 0..weather::HOURS_PER_YEAR {
            let st = evaluate(&s, &h, w.at_hour(hour));
            assert_eq!(st.shortfall_kw, 0.0, "hour {hour}");
            pues.push(pue(h.it_kw, st.overhead_kw));
            it += h.it_kw;
            total += h.it_kw + st.overhead_kw;
            if st.chiller_kw > 0.0 {
                chiller_hours += 1;
            }
        }
        let mean = pues.iter().sum::<f64>() / pues.len() as f64;
        let min = pues.iter().copied().fold(f64::INFINITY, f64::min);
        let max = pues.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        println!(
            "Abilene TMY3, GB200 hall at typical load ({:.2} MW IT): hourly PUE mean {mean:.4}, \
             min {min:.4}, max {max:.4}; annual (energy) PUE {:.4}; chillers on {chiller_hours} h/yr",
            h.it_kw / 1000.0,
            total / it
        );
        assert!((1.08..=1.12).contains(&mean), "{mean}");
        assert!(min >= 1.05 && max <= 1.2, "{min} {max}");
        assert!(chiller_hours > 0 && chiller_hours < 100, "{chiller_hours}");

        // A year 3 C warmer costs more and runs the chillers longer.
        let hot = w.with_offset(3.0);
        let hot_hours = (0..weather::HOURS_PER_YEAR)
            .filter(|&hr| evaluate(&s, &h, hot.at_hour(hr)).chiller_kw > 0.0)
            .count();
        println!("... 3 C warmer year: chillers on {hot_hours} h/yr");
        assert!(hot_hours > chiller_hours);
    }

    #[test]
    fn settings_read_from_toml_with_defaults() {
        let s: CoolingSettings = toml::from_str("chiller_cop = 5.5").unwrap();
        assert_eq!(s.chiller_cop, 5.5);
        assert_eq!(s.coolant_supply_c, 25.0);
        assert!(toml::from_str::<CoolingSettings>("chiller_copp = 5.5").is_err());
        let back: CoolingSettings = toml::from_str(&toml::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        assert!(check(&CoolingSettings::default(), &FieldPath::root()).is_empty());
        let bad = CoolingSettings {
            chiller_cop: 0.0,
            electrical_loss_share: 1.5,
            dry_cooler_cutoff_c: 20.0,
            ..CoolingSettings::default()
        };
        let d = check(&bad, &FieldPath::root().key("cooling"));
        let paths: Vec<String> = d.iter().map(|d| d.path.to_string()).collect();
        assert_eq!(
            paths,
            [
                "cooling.chiller_cop",
                "cooling.electrical_loss_share",
                "cooling.dry_cooler_cutoff_c"
            ]
        );
    }

    proptest! {
        #[test]
        fn overhead_never_falls_as_it_warms(
            a in -10.0f64..48.0,
            b in -10.0f64..48.0,
            load in 0.0f64..1.2,
        ) {
            let s = CoolingSettings::default();
            let base = gb200_hall();
            let h = base.at_load(base.it_kw * load);
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let (x, y) = (evaluate(&s, &h, lo), evaluate(&s, &h, hi));
            prop_assert!(x.overhead_kw <= y.overhead_kw + 1e-9, "{} C: {} kW, {} C: {} kW", lo, x.overhead_kw, hi, y.overhead_kw);
            prop_assert!(x.chiller_kw <= y.chiller_kw + 1e-9);
            prop_assert!(x.rejection_capacity_kw >= y.rejection_capacity_kw - 1e-9);
            prop_assert!(x.shortfall_kw <= y.shortfall_kw + 1e-9);
        }
    }
}
