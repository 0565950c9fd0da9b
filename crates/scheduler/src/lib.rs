//! abilene's scheduler: topology-aware gang scheduling with tenant quotas.
//!
//! A functional core: no I/O and no clock. The caller passes the time and
//! [`Command`]s and gets back [`Event`]s and one [`CommandResult`] per
//! command; the same sequence always yields the same events. The twin and
//! the server drive the same code. Commands and events speak stable names
//! (trays as `B3/H2/R0417/T05`, tenants, reservations); dense indices stay
//! inside.
//!
//! - [`command`], [`event`], [`reject`], [`job`]: the interface.
//! - [`snapshot`] and [`log`]: state that outlives the process.
//! - [`views`]: what the server and dashboard read.
//! - [`Scheduler`] (`scheduler`): the state and the dispatch of commands.
//! - [`tenant`] and `tenancy`: operator -> lessee -> tenant -> project.
//! - [`topo`] (only its limits are public), `free`, `placement`: the campus
//!   as placement walks it.
//! - `queue`, `preempt`: the pass, backfill, preemption.
//! - `lifecycle`, `failure`, `power`, `ledger`, `reservation`, `locate`:
//!   command handling by topic.
//! - `invariants`: [`Scheduler::check_invariants`], what must hold after
//!   every step.

pub mod command;
pub mod config;
pub mod event;
mod failure;
mod free;
mod invariants;
pub mod job;
mod ledger;
mod lifecycle;
mod locate;
pub mod log;
mod placement;
mod power;
mod preempt;
mod queue;
pub mod reject;
mod reservation;
mod scheduler;
pub mod snapshot;
mod spares;
mod tenancy;
pub mod tenant;
pub mod topo;
pub mod views;
mod waiting;

pub use command::{Command, PowerScope, ReservationSpec, TenantUpdate};
pub use config::{Config, ConfigError};
pub use event::{Event, Outcome, PendingReason, Placement, Recovery};
pub use job::{JobId, JobKind, JobSpec, Priority, Time};
pub use locate::MAX_TARGETS;
pub use log::{LOG_FORMAT, LogError, LogHeader, LogRecord, replay};
pub use power::MAX_CAP_KW;
pub use reject::{Reject, ShapeProblem};
pub use reservation::MAX_RESERVATIONS;
pub use scheduler::{CommandResult, JobState, Scheduler, SetupError, StepOutput};
pub use snapshot::{SNAPSHOT_FORMAT, SnapshotError, SnapshotHeader};
pub use tenant::{Contract, TenantError, TenantSpec};
pub use views::{
    CampusRollup, History, HistoryEntry, JobDetail, JobFilter, JobPage, JobView, KindFilter,
    PlacementSummary, RackView, Rollup, SkuUsage, TenantUsage, Transition, TrayCondition, TrayView,
};
