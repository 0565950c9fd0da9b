//! The size of the scale-out fabric that a campus's NICs call for.

use serde::Serialize;

use crate::campus::Campus;
use crate::spec::SwitchTierSpec;

/// Switch counts per tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FabricSize {
    pub leaves: u64,
    pub spines: u64,
    pub super_spines: u64,
}

/// Ports of a switch facing down, given its radix and oversubscription
/// (down:up bandwidth).
pub fn down_ports(tier: &SwitchTierSpec) -> u64 {
    let radix = f64::from(tier.radix);
    let down = (radix * tier.oversubscription / (1.0 + tier.oversubscription)).floor() as u64;
    down.clamp(1, u64::from(tier.radix.saturating_sub(1)).max(1))
}

impl Campus {
    /// Switches each tier needs: leaves per scalable unit for its NICs,
    /// spines per building for its leaves' uplinks, and a campus super-spine
    /// for the spines' uplinks.
    pub fn fabric_size(&self) -> FabricSize {
        let f = &self.spec.fabric;
        let (leaf_down, spine_down) = (down_ports(&f.leaf), down_ports(&f.spine));
        let leaf_up = u64::from(f.leaf.radix) - leaf_down;
        let spine_up = u64::from(f.spine.radix) - spine_down;
        let mut size = FabricSize::default();
        for b in &self.buildings {
            let mut building_leaves = 0;
            for h in b.halls.clone() {
                for u in self.halls[usize::from(h)].units.clone() {
                    let unit = &self.units[u as usize];
                    let racks = u64::from(unit.racks.end - unit.racks.start);
                    let nics = racks * self.sku(unit.sku).nics_per_rack();
                    building_leaves += nics.div_ceil(leaf_down);
                }
            }
            let spines = (building_leaves * leaf_up).div_ceil(spine_down);
            size.leaves += building_leaves;
            size.spines += spines;
        }
        if self.buildings.len() > 1 {
            size.super_spines = (size.spines * spine_up).div_ceil(u64::from(f.super_spine.radix));
        }
        size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_ports_split_by_oversubscription() {
        let t = |radix, o| SwitchTierSpec {
            radix,
            oversubscription: o,
        };
        assert_eq!(down_ports(&t(64, 1.0)), 32);
        assert_eq!(down_ports(&t(64, 3.0)), 48);
    }
}
