//! What the racks of a hall add up to: counts, power draw and heat.

use crate::catalog::Catalog;
use crate::spec::UnitGroupSpec;

/// Totals of a hall's racks; unknown SKUs are left out (validation reports them).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HallLoad {
    pub units: u64,
    pub racks: u64,
    pub trays: u64,
    pub gpus: u64,
    pub nics: u64,
    /// IT draw with every rack at its maximum.
    pub it_max_kw: f64,
    pub it_typical_kw: f64,
    /// Heat at maximum draw, split by how it leaves the rack.
    pub liquid_kw: f64,
    pub air_kw: f64,
    pub fp8_pflops: f64,
}

impl HallLoad {
    pub fn of(groups: &[UnitGroupSpec], catalog: &Catalog) -> HallLoad {
        let mut load = HallLoad::default();
        for g in groups {
            let Some(id) = catalog.lookup(&g.sku) else {
                continue;
            };
            let sku = catalog.get(id);
            // Saturating: absurd counts must reach validation's size
            // limits as huge numbers, not overflow.
            let racks = u64::from(g.count) * u64::from(g.racks_per_unit);
            let gpus = racks.saturating_mul(sku.gpus_per_rack());
            load.units = load.units.saturating_add(u64::from(g.count));
            load.racks = load.racks.saturating_add(racks);
            load.trays = load
                .trays
                .saturating_add(racks.saturating_mul(u64::from(sku.trays_per_rack)));
            load.gpus = load.gpus.saturating_add(gpus);
            load.nics = load
                .nics
                .saturating_add(gpus.saturating_mul(u64::from(sku.nics_per_gpu)));
            let kw = racks as f64 * sku.rack_kw_max;
            load.it_max_kw += kw;
            load.it_typical_kw += racks as f64 * sku.rack_kw_typical;
            load.liquid_kw += kw * sku.liquid_cooled_share;
            load.air_kw += kw * (1.0 - sku.liquid_cooled_share);
            load.fp8_pflops += gpus as f64 * sku.fp8_pflops;
        }
        load
    }

    pub fn add(&mut self, o: &HallLoad) {
        self.units = self.units.saturating_add(o.units);
        self.racks = self.racks.saturating_add(o.racks);
        self.trays = self.trays.saturating_add(o.trays);
        self.gpus = self.gpus.saturating_add(o.gpus);
        self.nics = self.nics.saturating_add(o.nics);
        self.it_max_kw += o.it_max_kw;
        self.it_typical_kw += o.it_typical_kw;
        self.liquid_kw += o.liquid_kw;
        self.air_kw += o.air_kw;
        self.fp8_pflops += o.fp8_pflops;
    }
}
