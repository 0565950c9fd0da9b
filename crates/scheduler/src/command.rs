//! What the caller tells the scheduler.

use serde::{Deserialize, Serialize};

use crate::job::{JobId, JobSpec, Time};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum PowerScope {
    Campus,
    Building(u16),
}

/// Trays set aside from `start` to `end`: for a tenant's contracted
/// capacity (`owner`), or for maintenance (`owner` None), which clears them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationSpec {
    pub id: u32,
    pub trays: Vec<u32>,
    pub start: Time,
    pub end: Time,
    pub owner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    Submit(JobSpec),
    Cancel(JobId),
    /// The job's work is done.
    Complete(JobId),
    TrayFailed {
        tray: u32,
    },
    TrayRepaired {
        tray: u32,
    },
    /// No new work on these trays; running jobs finish.
    Drain {
        trays: Vec<u32>,
    },
    Resume {
        trays: Vec<u32>,
    },
    /// An operator clears a tray quarantined as a repeat offender.
    ClearQuarantine {
        tray: u32,
    },
    /// Cap the draw of the campus or one building, in kW; None lifts it.
    SetPowerCap {
        scope: PowerScope,
        kw: Option<f64>,
    },
    Reserve(ReservationSpec),
}

/// A command the scheduler refused; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("{0} was already submitted")]
    DuplicateJob(JobId),
    #[error("{0} is not known")]
    UnknownJob(JobId),
    #[error("tray {0} does not exist")]
    UnknownTray(u32),
    #[error("building {0} does not exist")]
    UnknownBuilding(u16),
    #[error("reservation {0} already exists")]
    DuplicateReservation(u32),
    #[error("reservation {id}: {why}")]
    BadReservation { id: u32, why: String },
    #[error("power cap must be a number of kW of 0 or more, got {0}")]
    BadPowerCap(String),
}
