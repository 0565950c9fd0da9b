//! The seam between the control plane and the physical campus.
//!
//! - [`fleet`]: the [`Fleet`] trait: what the control plane hears from the
//!   campus ([`Observation`]s: trays down and up, commissioning, plant
//!   readings, alarms, jobs whose processes ended) and tells it (the
//!   scheduler's events). The twin is one implementation (`TwinFleet` in
//!   `abilene-twin`); a Redfish fleet will be another.
//! - [`policy`]: the [`Controller`], the one place that turns observations
//!   into scheduler commands: a failed tray is taken out of service, a
//!   building short of cooling sheds that load, a 4CP hour caps the campus
//!   at what gas and battery carry.
//! - [`drive`]: the loop that runs a fleet, the policy and a scheduler
//!   together, used by the twin's batch runs and, later, by the server.
//!
//! Like the scheduler, this crate does no I/O and reads no clock.

pub mod drive;
pub mod fleet;
pub mod policy;

pub use drive::{DriveError, drive};
pub use fleet::{Alarm, AlarmKind, Fleet, HallReading, Observation, PlantReading, SupplyReading};
pub use policy::{Controller, NOT_COMMISSIONED};
