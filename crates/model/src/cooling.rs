//! A hall's cooling: CDUs take the liquid share of rack heat into the
//! facility loop, air handlers take the rest, and dry coolers with trim
//! chillers reject it all outside.

use crate::spec::CoolingSpec;

/// What a hall's cooling can remove at design conditions, in MW.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoolingCapacity {
    /// CDUs counted at N: the redundant units are spares.
    pub cdu_mw: f64,
    pub facility_loop_mw: f64,
    pub air_mw: f64,
    /// Dry coolers at design ambient plus chillers.
    pub rejection_mw: f64,
}

impl CoolingCapacity {
    pub fn of(c: &CoolingSpec) -> Self {
        let n = c.cdu.count.saturating_sub(c.cdu.redundant);
        CoolingCapacity {
            cdu_mw: f64::from(n) * c.cdu.capacity_kw / 1000.0,
            facility_loop_mw: c.facility_loop_mw,
            air_mw: c.air_handlers_mw,
            rejection_mw: f64::from(c.heat_rejection.dry_coolers) * c.heat_rejection.dry_cooler_mw
                + c.heat_rejection.chillers_mw,
        }
    }

    /// Liquid heat the hall can remove: CDUs and the loop behind them.
    pub fn liquid_mw(&self) -> f64 {
        self.cdu_mw.min(self.facility_loop_mw)
    }

    /// Total rack heat the hall can remove at design conditions.
    pub fn total_mw(&self) -> f64 {
        (self.liquid_mw() + self.air_mw).min(self.rejection_mw)
    }
}
