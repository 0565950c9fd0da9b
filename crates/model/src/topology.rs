//! How close two trays are in the fabric, answered in O(1) from the index.

use serde::Serialize;

use crate::campus::Campus;
use crate::ids::TrayId;

/// The nearest level of the network that two trays share, closest first.
/// Traffic between them crosses nothing above that level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Proximity {
    /// The same tray: traffic stays on its board.
    Tray,
    /// The same NVLink domain (an NVL72 rack, or an HGX node).
    NvlinkDomain,
    /// The same scalable unit, under one group of leaf switches.
    LeafGroup,
    /// The same building, through its spine tier.
    Building,
    /// Different buildings, through the super-spine.
    Campus,
}

impl Proximity {
    pub const ALL: [Proximity; 5] = [
        Proximity::Tray,
        Proximity::NvlinkDomain,
        Proximity::LeafGroup,
        Proximity::Building,
        Proximity::Campus,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Proximity::Tray => "same tray",
            Proximity::NvlinkDomain => "same NVLink domain",
            Proximity::LeafGroup => "same leaf group",
            Proximity::Building => "same building",
            Proximity::Campus => "across buildings",
        }
    }
}

impl Campus {
    /// The closest network level that trays `a` and `b` share.
    #[inline]
    pub fn proximity(&self, a: TrayId, b: TrayId) -> Proximity {
        let (ta, tb) = (self.tray(a), self.tray(b));
        if a == b {
            Proximity::Tray
        } else if ta.domain == tb.domain {
            Proximity::NvlinkDomain
        } else if ta.unit == tb.unit {
            Proximity::LeafGroup
        } else if ta.building == tb.building {
            Proximity::Building
        } else {
            Proximity::Campus
        }
    }
}
