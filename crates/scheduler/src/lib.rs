//! abilene's scheduler: topology-aware gang scheduling with tenant quotas.
//!
//! A functional core: no I/O and no clock. The caller passes the time and
//! [`Command`]s and gets back [`Event`]s; the same sequence always yields the
//! same events. The twin and the server drive the same code.
//!
//! - [`topo`]: the campus as domains, leaf groups and buildings.
//! - [`free`]: free capacity, bucketed for O(1) best fit.
//! - [`placement`]: where a gang goes, NVLink domain first.
//! - [`tenant`]: operator -> lessee -> tenant -> project quotas.
//! - [`queue`]: the pass: priority, fair share, EASY backfill.
//! - [`preempt`]: reclaiming guaranteed quota and priority preemption.
//! - [`invariants`]: checks that must hold after every step.
//! - [`workload`]: seeded synthetic tenancies and job mixes for benches and demos.

pub mod command;
pub mod config;
pub mod event;
pub mod free;
pub mod invariants;
pub mod job;
pub mod placement;
pub mod preempt;
pub mod queue;
pub mod scheduler;
pub mod tenant;
pub mod topo;
pub mod workload;

pub use command::{Command, CommandError, PowerScope, ReservationSpec};
pub use config::Config;
pub use event::{Event, Outcome, PendingReason, Placement, Recovery};
pub use job::{JobId, JobKind, JobSpec, Priority, Time};
pub use scheduler::{JobState, Scheduler, SetupError};
pub use tenant::{TenantError, TenantSpec};
