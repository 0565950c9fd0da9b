//! Money: what the campus costs to own and run over a period, and what the
//! GPU-hours it delivers earn. Energy is costed hour by hour in
//! [`crate::grid::dispatch`], not here.
//!
//! Every default cites `docs/domain.md` (§1 the campus, §5 economics) or says
//! it is assumed. "(derived)" marks arithmetic on published figures.

use abilene_model::diagnostic::{Diagnostic, FieldPath};
use serde::{Deserialize, Serialize};

use crate::bounds::Bound;

/// Hours in a year of 365 days, the year that per-year rates are divided by.
pub const HOURS_PER_YEAR: f64 = 8_760.0;

/// Which rental price the delivered GPU-hours earn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Contract {
    /// A long reservation of GB200 capacity, as Oracle leases to OpenAI.
    #[default]
    Reserved,
    /// On-demand capacity on a specialist cloud.
    OnDemand,
    /// Spot capacity.
    Spot,
}

/// Rental price per GPU-hour by contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GpuHourRates {
    /// GB200 ~$4.5 per GPU-hour (domain.md §5).
    pub reserved_usd: f64,
    /// B200 $3.75-6 per hour on specialist clouds (domain.md §5); the low
    /// end is taken.
    pub on_demand_usd: f64,
    /// B200 $2.25 per hour spot (domain.md §5).
    pub spot_usd: f64,
}

impl Default for GpuHourRates {
    fn default() -> Self {
        GpuHourRates {
            reserved_usd: 4.5,
            on_demand_usd: 3.75,
            spot_usd: 2.25,
        }
    }
}

impl GpuHourRates {
    pub fn rate(&self, contract: Contract) -> f64 {
        match contract {
            Contract::Reserved => self.reserved_usd,
            Contract::OnDemand => self.on_demand_usd,
            Contract::Spot => self.spot_usd,
        }
    }
}

/// What the campus costs and earns. Ranges: prices and costs from 0 to
/// [`MAX_USD`]; lives from 1 to 100 years (GPUs 1 to 30); shares and rates
/// from 0 to 1; GPU-hour rates from 0 to $1,000.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MoneySettings {
    /// Build cost per MW of capacity: $15B / 1.2 GW = $12.5M per MW
    /// (derived, domain.md §1). Phase 1 alone, $3.4B / 206 MW, is ~$16.5M;
    /// the industry average is ~$10.7M and AI-optimised halls $20M+ (§5).
    pub build_usd_per_mw: f64,
    /// One rack of GPUs: GB200 NVL72 ~$2-3M (domain.md §5); the top is taken.
    /// Oracle's reported ~$40B for ~400k GB200 (§1) would be ~$7.2M per
    /// 72-GPU rack (derived), so this may well be low.
    pub rack_usd: f64,
    /// Liquid-cooling parts per rack, ~$50k (domain.md §5); depreciated with
    /// the rack.
    pub rack_cooling_usd: f64,
    /// Buildings and their power and cooling plant. Assumed: 20 years; the
    /// campus lease is 15 years (domain.md §1) and such plant is commonly
    /// written off over 15-39 years.
    pub building_life_years: f64,
    /// GPUs and racks: hyperscalers 5-6 years, CoreWeave 6, Lambda 5,
    /// Nebius 4 (domain.md §5); 5 is taken.
    pub gpu_life_years: f64,
    /// Share of the build cost that is financed: $11.6B of debt and equity
    /// raised of $15B in all for phase 2 (domain.md §1) = 0.773 (derived).
    pub financed_share: f64,
    /// Yearly cost of that finance. Assumed: 8%, a blend of a construction
    /// loan at a floating rate a few points over SOFR (the $7.1B JPMorgan
    /// loan, §1; its rate is not published) and equity that expects more.
    pub financing_rate: f64,
    /// Operating cost per MW-year other than energy: staff, maintenance,
    /// insurance, property tax. Assumed: 3% of the build cost a year
    /// (0.03 × $12.5M = $375k); not published for Abilene.
    pub opex_usd_per_mw_year: f64,
    /// Which rate delivered GPU-hours earn.
    pub contract: Contract,
    pub usd_per_gpu_hour: GpuHourRates,
}

impl Default for MoneySettings {
    fn default() -> Self {
        MoneySettings {
            build_usd_per_mw: 15.0e9 / 1_200.0,
            rack_usd: 3.0e6,
            rack_cooling_usd: 50_000.0,
            building_life_years: 20.0,
            gpu_life_years: 5.0,
            financed_share: 11.6 / 15.0,
            financing_rate: 0.08,
            opex_usd_per_mw_year: 375_000.0,
            contract: Contract::Reserved,
            usd_per_gpu_hour: GpuHourRates::default(),
        }
    }
}

/// The largest cost a setting may name, $1e15: a thousand times the whole
/// $500B Stargate programme (domain.md §1), so no figure is cut short.
pub const MAX_USD: f64 = 1e15;

/// Checks settings read from a scenario; `at` is where they sit in it.
pub fn check(s: &MoneySettings, at: &FieldPath) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let usd = Bound::closed(0.0, MAX_USD).unit(" USD");
    usd.check(&mut d, at, "build_usd_per_mw", s.build_usd_per_mw);
    usd.check(&mut d, at, "rack_usd", s.rack_usd);
    usd.check(&mut d, at, "rack_cooling_usd", s.rack_cooling_usd);
    usd.check(&mut d, at, "opex_usd_per_mw_year", s.opex_usd_per_mw_year);
    // A life of zero would write the whole cost off in no time.
    let life = |hi| Bound::closed(1.0, hi).unit(" years");
    life(100.0).check(&mut d, at, "building_life_years", s.building_life_years);
    life(30.0).check(&mut d, at, "gpu_life_years", s.gpu_life_years);
    let share = Bound::closed(0.0, 1.0);
    share.check(&mut d, at, "financed_share", s.financed_share);
    share.check(&mut d, at, "financing_rate", s.financing_rate);
    let rates = at.key("usd_per_gpu_hour");
    let rate = Bound::closed(0.0, 1_000.0).unit(" USD per GPU-hour");
    let r = &s.usd_per_gpu_hour;
    rate.check(&mut d, &rates, "reserved_usd", r.reserved_usd);
    rate.check(&mut d, &rates, "on_demand_usd", r.on_demand_usd);
    rate.check(&mut d, &rates, "spot_usd", r.spot_usd);
    d
}

/// The cost of owning and running the campus over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PeriodCosts {
    /// Straight-line depreciation of the buildings and of the racks.
    pub capex_depreciation_usd: f64,
    pub financing_usd: f64,
    pub opex_usd: f64,
}

impl PeriodCosts {
    pub fn total_usd(&self) -> f64 {
        self.capex_depreciation_usd + self.financing_usd + self.opex_usd
    }
}

/// The cost of `hours` of a campus with `it_mw_installed` of capacity and
/// `racks` racks of GPUs:
///
/// - depreciation: `it_mw × build_usd_per_mw / building_life_years` plus
///   `racks × (rack_usd + rack_cooling_usd) / gpu_life_years`, per year;
/// - financing: simple interest, `it_mw × build_usd_per_mw × financed_share
///   × financing_rate` per year, on the build cost only (racks are charged
///   through depreciation);
/// - opex: `it_mw × opex_usd_per_mw_year`;
///
/// each times `hours / 8,760`. A life of zero years or less charges nothing
/// rather than dividing by zero.
pub fn period_costs(
    settings: &MoneySettings,
    it_mw_installed: f64,
    racks: u64,
    hours: f64,
) -> PeriodCosts {
    let years = hours / HOURS_PER_YEAR;
    let per_year = |cost: f64, life: f64| if life > 0.0 { cost / life } else { 0.0 };
    let build = it_mw_installed * settings.build_usd_per_mw;
    let rack_capex = racks as f64 * (settings.rack_usd + settings.rack_cooling_usd);
    PeriodCosts {
        capex_depreciation_usd: years
            * (per_year(build, settings.building_life_years)
                + per_year(rack_capex, settings.gpu_life_years)),
        financing_usd: years * build * settings.financed_share * settings.financing_rate,
        opex_usd: years * it_mw_installed * settings.opex_usd_per_mw_year,
    }
}

/// What `gpu_hours_delivered` earn at the rate of the settings' contract.
pub fn revenue(settings: &MoneySettings, gpu_hours_delivered: f64) -> f64 {
    gpu_hours_delivered * settings.usd_per_gpu_hour.rate(settings.contract)
}

/// Cost per GPU-hour delivered; `None` when no GPU-hours were delivered.
pub fn cost_per_gpu_hour(total_cost: f64, gpu_hours: f64) -> Option<f64> {
    (gpu_hours > 0.0 && gpu_hours.is_finite() && total_cost.is_finite())
        .then(|| total_cost / gpu_hours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} != {b}");
    }

    #[test]
    fn defaults_are_the_sourced_figures() {
        let s = MoneySettings::default();
        close(s.build_usd_per_mw, 12_500_000.0);
        close(s.financed_share, 0.773_333_333);
        assert_eq!(s.usd_per_gpu_hour.rate(Contract::Reserved), 4.5);
        assert_eq!(s.usd_per_gpu_hour.rate(Contract::OnDemand), 3.75);
        assert_eq!(s.usd_per_gpu_hour.rate(Contract::Spot), 2.25);
    }

    #[test]
    fn one_megawatt_for_a_year() {
        let c = period_costs(&MoneySettings::default(), 1.0, 0, 8_760.0);
        // $12.5M / 20 years.
        close(c.capex_depreciation_usd, 625_000.0);
        // $12.5M × 11.6/15 = $9,666,666.67, at 8%.
        close(c.financing_usd, 773_333.333_333);
        close(c.opex_usd, 375_000.0);
        close(c.total_usd(), 1_773_333.333_333);
    }

    #[test]
    fn racks_depreciate_over_the_gpu_life() {
        // 10 racks × ($3M + $50k) / 5 years = $6.1M a year; half a year.
        let c = period_costs(&MoneySettings::default(), 0.0, 10, 4_380.0);
        close(c.capex_depreciation_usd, 3_050_000.0);
        assert_eq!(c.financing_usd, 0.0);
        assert_eq!(c.opex_usd, 0.0);
    }

    #[test]
    fn the_whole_campus_for_a_day() {
        // 1,200 MW and 8 × 165 MW / 0.132 MW ≈ 9,090 racks: a day is 24/8760.
        let s = MoneySettings::default();
        let c = period_costs(&s, 1_200.0, 9_090, 24.0);
        let day = 24.0 / 8_760.0;
        // Buildings $15B / 20 = $750M a year; racks 9,090 × $3.05M / 5 = $5,544.9M.
        close(c.capex_depreciation_usd, day * (750.0e6 + 5_544.9e6));
        // $11.6B at 8% = $928M a year.
        close(c.financing_usd, day * 928.0e6);
        // 1,200 × $375k = $450M a year.
        close(c.opex_usd, day * 450.0e6);
    }

    #[test]
    fn settings_out_of_range_are_refused() {
        let at = FieldPath::root().key("money");
        assert!(check(&MoneySettings::default(), &at).is_empty());
        let mut bad = MoneySettings {
            gpu_life_years: 0.0,
            rack_usd: f64::NAN,
            financed_share: 1.5,
            ..MoneySettings::default()
        };
        bad.usd_per_gpu_hour.spot_usd = -1.0;
        let d = check(&bad, &at);
        let fields: Vec<String> = d.iter().map(|d| d.path.to_string()).collect();
        assert_eq!(
            fields,
            [
                "money.rack_usd",
                "money.gpu_life_years",
                "money.financed_share",
                "money.usd_per_gpu_hour.spot_usd"
            ]
        );
        assert_eq!(d[1].message, "must be from 1 to 30 years, got 0");
    }

    #[test]
    fn zero_life_charges_nothing() {
        let s = MoneySettings {
            building_life_years: 0.0,
            gpu_life_years: -1.0,
            ..MoneySettings::default()
        };
        let c = period_costs(&s, 1.0, 1, 8_760.0);
        assert_eq!(c.capex_depreciation_usd, 0.0);
        assert!(c.total_usd().is_finite());
    }

    #[test]
    fn revenue_by_contract() {
        let mut s = MoneySettings::default();
        // 72 GPUs for a day at $4.5.
        close(revenue(&s, 72.0 * 24.0), 7_776.0);
        s.contract = Contract::Spot;
        close(revenue(&s, 1_000.0), 2_250.0);
        s.contract = Contract::OnDemand;
        close(revenue(&s, 1_000.0), 3_750.0);
    }

    #[test]
    fn cost_per_gpu_hour_needs_hours() {
        assert_eq!(cost_per_gpu_hour(1_000.0, 400.0), Some(2.5));
        assert_eq!(cost_per_gpu_hour(1_000.0, 0.0), None);
        assert_eq!(cost_per_gpu_hour(1_000.0, -1.0), None);
        assert_eq!(cost_per_gpu_hour(1_000.0, f64::NAN), None);
        assert_eq!(cost_per_gpu_hour(f64::INFINITY, 1.0), None);
    }

    #[test]
    fn settings_round_trip_and_reject_unknown_fields() {
        let s = MoneySettings::default();
        let text = toml::to_string(&s).unwrap();
        assert_eq!(toml::from_str::<MoneySettings>(&text).unwrap(), s);
        assert_eq!(toml::from_str::<MoneySettings>("").unwrap(), s);
        let spot: MoneySettings =
            toml::from_str("contract = \"spot\"\n[usd_per_gpu_hour]\nspot_usd = 2.0\n").unwrap();
        assert_eq!(revenue(&spot, 10.0), 20.0);
        assert_eq!(spot.usd_per_gpu_hour.reserved_usd, 4.5);
        assert!(toml::from_str::<MoneySettings>("rack_cost = 1.0").is_err());
        assert!(toml::from_str::<MoneySettings>("[usd_per_gpu_hour]\nb200 = 1.0").is_err());
        assert!(toml::from_str::<MoneySettings>("contract = \"lease\"").is_err());
    }
}
