//! What the caller tells the scheduler.
//!
//! Commands speak stable names (`B3/H2/R0417/T05`, tenant and project names,
//! reservation names, job ids chosen by the caller); the scheduler resolves
//! them to its dense indices and refuses a name it does not know with a
//! typed [`Reject`](crate::Reject). A command log of these values replays on
//! any build of the same campus file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::job::{JobId, JobSpec, Time};
use crate::tenant::TenantSpec;

/// Where a power cap applies.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum PowerScope {
    Campus,
    /// A building by its name, e.g. `B3`.
    Building(String),
}

/// Trays set aside from `start` to `end`: for a tenant's contracted
/// capacity (`owner`), or for maintenance (`owner` None), which clears them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReservationSpec {
    /// The caller's name for it, unique for the scheduler's lifetime.
    pub id: String,
    /// Tray, rack, hall or building names; each stands for its trays.
    pub targets: Vec<String>,
    pub start: Time,
    pub end: Time,
    pub owner: Option<String>,
}

/// Changes to a tenant node; fields left `None` stay as they are.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantUpdate {
    pub name: String,
    #[serde(default)]
    pub guarantee: Option<BTreeMap<String, u64>>,
    #[serde(default)]
    pub borrow_limit: Option<BTreeMap<String, u64>>,
    #[serde(default)]
    pub weight: Option<u32>,
    #[serde(default)]
    pub contracts: Option<Vec<crate::tenant::Contract>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Command {
    Submit(JobSpec),
    Cancel(JobId),
    /// The job's work is done.
    Complete(JobId),
    TrayFailed {
        tray: String,
    },
    TrayRepaired {
        tray: String,
    },
    /// No new work on these trays (tray, rack, hall or building names);
    /// running jobs finish.
    Drain {
        targets: Vec<String>,
        #[serde(default)]
        reason: String,
    },
    Resume {
        targets: Vec<String>,
    },
    /// An operator clears a tray quarantined as a repeat offender.
    ClearQuarantine {
        tray: String,
    },
    /// Cap the draw of the campus or one building, in kW; None lifts it.
    SetPowerCap {
        scope: PowerScope,
        kw: Option<f64>,
    },
    Reserve(ReservationSpec),
    /// A new tenant node under an existing parent.
    CreateTenant(TenantSpec),
    UpdateTenant(TenantUpdate),
    /// Retires a node with no live jobs and no live children; its name is
    /// never reused.
    RetireTenant {
        name: String,
    },
}

impl Command {
    /// A short stable name of the command's kind, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Command::Submit(_) => "submit",
            Command::Cancel(_) => "cancel",
            Command::Complete(_) => "complete",
            Command::TrayFailed { .. } => "tray_failed",
            Command::TrayRepaired { .. } => "tray_repaired",
            Command::Drain { .. } => "drain",
            Command::Resume { .. } => "resume",
            Command::ClearQuarantine { .. } => "clear_quarantine",
            Command::SetPowerCap { .. } => "set_power_cap",
            Command::Reserve(_) => "reserve",
            Command::CreateTenant(_) => "create_tenant",
            Command::UpdateTenant(_) => "update_tenant",
            Command::RetireTenant { .. } => "retire_tenant",
        }
    }
}
