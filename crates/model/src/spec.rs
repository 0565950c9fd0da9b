//! The campus as a user writes it: the TOML schema, one struct per table.
//!
//! These types are plain data that round-trip through TOML unchanged. They
//! are checked by [`crate::validate`] and turned into the indexed
//! [`crate::Campus`] by [`crate::Campus::build`]; nothing here is derived.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::SkuSpec;

/// A whole campus file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampusSpec {
    pub site: SiteSpec,
    pub fabric: FabricSpec,
    /// Rack types added to (or replacing) the built-in catalogue, by key.
    #[serde(default, rename = "sku", skip_serializing_if = "BTreeMap::is_empty")]
    pub skus: BTreeMap<String, SkuSpec>,
    /// Hall bodies that many halls share; a hall names one with `template`.
    #[serde(
        default,
        rename = "hall_template",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub hall_templates: BTreeMap<String, HallBody>,
    #[serde(rename = "building")]
    pub buildings: Vec<BuildingSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    pub name: String,
    pub location: String,
    /// Hourly weather year (TMY3) that drives the cooling model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub climate_file: Option<String>,
    /// Firm import capacity from the grid.
    pub grid_interconnect_mw: f64,
    /// Facility power / IT power at design conditions, for sizing checks.
    pub design_pue: f64,
    /// Real power per apparent power, to turn MVA ratings into MW.
    pub power_factor: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_turbines: Option<GasTurbinesSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery: Option<BatterySpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GasTurbinesSpec {
    pub count: u32,
    pub mw_each: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatterySpec {
    pub mw: f64,
    pub mwh: f64,
}

/// The scale-out fabric: a rail-optimised fat tree with three tiers. A
/// scalable unit hangs under one group of leaf switches, the spine tier joins
/// the leaf groups of a building, the super-spine joins the buildings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FabricSpec {
    pub leaf: SwitchTierSpec,
    /// Its oversubscription is toward the super-spine: it sets how much
    /// slower traffic between buildings is than traffic inside one.
    pub spine: SwitchTierSpec,
    pub super_spine: SuperSpineSpec,
}

/// The top tier: all its ports face the spines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuperSpineSpec {
    pub radix: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchTierSpec {
    /// Ports per switch at the NIC speed.
    pub radix: u32,
    /// Downlink to uplink bandwidth ratio: 1.0 is non-blocking.
    pub oversubscription: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildingSpec {
    pub id: String,
    pub phase: u32,
    /// ISO date, `YYYY-MM-DD`, on which the building takes load.
    pub commissioned: String,
    #[serde(rename = "hall")]
    pub halls: Vec<HallSpec>,
}

/// A data hall: either a `template` or inline parts; an inline part
/// overrides the template's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HallSpec {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalable_units: Option<Vec<UnitGroupSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooling: Option<CoolingSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power: Option<PowerSpec>,
}

/// The parts of a hall, as a template holds them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HallBody {
    pub scalable_units: Vec<UnitGroupSpec>,
    pub cooling: CoolingSpec,
    pub power: PowerSpec,
}

/// `count` scalable units of `racks_per_unit` racks of one SKU, each unit
/// under its own group of leaf switches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitGroupSpec {
    pub sku: String,
    pub count: u32,
    pub racks_per_unit: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoolingSpec {
    pub cdu: CduSpec,
    /// Heat the facility water loop can carry from the CDUs to heat rejection.
    pub facility_loop_mw: f64,
    /// Air handlers for the share of rack heat that is not liquid-cooled.
    pub air_handlers_mw: f64,
    pub heat_rejection: HeatRejectionSpec,
}

/// Coolant distribution units: `count` installed, of which `redundant` are
/// spares (N+`redundant`), so `count - redundant` carry the design load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CduSpec {
    pub count: u32,
    pub capacity_kw: f64,
    pub redundant: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeatRejectionSpec {
    pub dry_coolers: u32,
    /// Capacity of one dry cooler at `design_ambient_c`.
    pub dry_cooler_mw: f64,
    /// Trim chillers for hot hours; 0 for none.
    pub chillers_mw: f64,
    pub design_ambient_c: f64,
}

/// The hall's power chain, utility to rack; its capacity is its weakest stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerSpec {
    pub utility_feed_mw: f64,
    pub substation_mva: f64,
    pub switchgear_mva: f64,
    pub transformers: TransformersSpec,
    /// Battery UPS rating; absent when racks ride through on their own shelves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ups_mw: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformersSpec {
    pub count: u32,
    pub mva_each: f64,
    pub redundant: u32,
}

impl HallSpec {
    /// The hall's parts with the template filled in; `None` for a part that
    /// neither the hall nor its template gives.
    pub fn resolve<'a>(&'a self, templates: &'a BTreeMap<String, HallBody>) -> ResolvedHall<'a> {
        let template = self.template.as_ref().and_then(|t| templates.get(t));
        ResolvedHall {
            scalable_units: self
                .scalable_units
                .as_deref()
                .or(template.map(|t| t.scalable_units.as_slice())),
            cooling: self.cooling.as_ref().or(template.map(|t| &t.cooling)),
            power: self.power.as_ref().or(template.map(|t| &t.power)),
        }
    }
}

/// A hall's parts after templates are applied.
#[derive(Debug, Clone, Copy)]
pub struct ResolvedHall<'a> {
    pub scalable_units: Option<&'a [UnitGroupSpec]>,
    pub cooling: Option<&'a CoolingSpec>,
    pub power: Option<&'a PowerSpec>,
}
