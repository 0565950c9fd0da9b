//! abilene's campus model: the campus as data.
//!
//! A campus is written as TOML ([`spec`]), checked with every problem
//! reported against its file, line and field ([`validate`], [`diagnostic`]),
//! and built into a [`Campus`] whose flat arrays address every building,
//! hall, scalable unit, rack, tray and GPU by a dense id ([`ids`]).
//! Topology questions between trays are O(1) ([`topology`]). Every location
//! also has a stable name, `B3/H2/R0417/T05/G2`, that survives racks added
//! elsewhere ([`names`]).
//!
//! This crate does no I/O and reads no clock: callers hand it text.

pub mod campus;
pub mod catalog;
pub mod cooling;
pub mod date;
pub mod diagnostic;
pub mod fabric;
pub mod hall;
pub mod ids;
pub mod names;
pub mod power;
pub mod preset;
pub mod spec;
pub mod summary;
pub mod topology;
pub mod validate;

pub use campus::{Building, Campus, Hall, Rack, Tray, Unit};
pub use catalog::{Catalog, SkuSpec};
pub use date::Date;
pub use diagnostic::{Diagnostic, FieldPath, LoadError, Problem};
pub use ids::*;
pub use names::{Level, Location, NameError};
pub use spec::CampusSpec;
pub use topology::Proximity;
pub use validate::Limits;
