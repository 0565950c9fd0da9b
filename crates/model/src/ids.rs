//! Dense indices for every level of the campus. Each is a position in the
//! matching array of [`crate::Campus`], so lookups are array reads.

use serde::{Deserialize, Serialize};

macro_rules! index_type {
    ($(#[$doc:meta])* $name:ident($int:ty)) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub $int);

        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

index_type!(/// A rack type in the [`crate::Catalog`].
    SkuId(u16));
index_type!(/// A building, in file order.
    BuildingId(u16));
index_type!(/// A data hall, campus-wide.
    HallId(u16));
index_type!(/// A scalable unit: the racks under one group of leaf switches.
    UnitId(u32));
index_type!(/// A rack, campus-wide.
    RackId(u32));
index_type!(/// A compute tray (a node), campus-wide.
    TrayId(u32));
index_type!(/// A GPU, campus-wide; the GPUs of a tray are consecutive.
    GpuId(u32));
index_type!(/// An NVLink domain, campus-wide.
    DomainId(u32));
