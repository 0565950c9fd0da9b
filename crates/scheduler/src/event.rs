//! What the scheduler tells its caller.

use serde::{Deserialize, Serialize};

use crate::job::{JobId, Time};

/// Why a job waits, in words a user understands (compare Slurm's squeue
/// reasons).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingReason {
    /// Starting it would push `node` over its guarantee plus borrowing limit.
    Quota { node: String },
    /// Not enough free GPUs in the shape it needs (NVLink domains of the
    /// right size, in one place).
    Resources,
    /// It would fit, but would delay a higher-priority job that holds the
    /// backfill reservation.
    Priority { behind: JobId },
    /// Starting it would exceed a power cap.
    PowerCap,
    /// Its reservation has not started, or has no room.
    Reservation { id: String },
    /// Not yet considered: the pass stopped at its depth limit.
    QueueDepth,
}

impl std::fmt::Display for PendingReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PendingReason::Quota { node } => write!(f, "waiting for quota of {node}"),
            PendingReason::Resources => write!(f, "waiting for free NVLink domains"),
            PendingReason::Priority { behind } => write!(f, "behind higher priority {behind}"),
            PendingReason::PowerCap => write!(f, "over the power cap"),
            PendingReason::Reservation { id } => write!(f, "waiting for reservation {id}"),
            PendingReason::QueueDepth => write!(f, "not yet considered (queue depth)"),
        }
    }
}

/// How a job got over a failed tray.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recovery {
    /// Swapped in a warm spare and restarted from its last checkpoint.
    Spare,
    /// Released its trays and went back to the front of the queue.
    Requeued,
    /// A service lost one replica and will replace it.
    ReplicaLost,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Completed,
    Cancelled,
    TimedOut,
}

/// Where a gang landed, by tray names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    pub trays: Vec<String>,
    pub gpus: u32,
    pub spares: Vec<String>,
    /// Trays per hall (hall name, trays), in campus order.
    pub halls: Vec<(String, u32)>,
    /// How many NVLink domains, leaf groups and buildings it spans.
    pub domains: u32,
    pub leaf_groups: u32,
    pub buildings: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Started {
        job: JobId,
        placement: Placement,
        borrowed: bool,
    },
    /// A service gained a replica beyond its first start.
    ReplicaStarted {
        job: JobId,
        trays: Vec<String>,
    },
    /// A pending job's reason changed. Sent when the kind of reason (or
    /// the quota node) changes; a `priority` reason whose head only moved
    /// to another job is kept current in the job's state, not sent again.
    Pending {
        job: JobId,
        reason: PendingReason,
    },
    /// Taken off its GPUs and queued again; `by` is the job that needed
    /// them, None for a maintenance window.
    Preempted {
        job: JobId,
        by: Option<JobId>,
        lost_work: Time,
    },
    Interrupted {
        job: JobId,
        tray: String,
        lost_work: Time,
        recovery: Recovery,
    },
    Finished {
        job: JobId,
        outcome: Outcome,
    },
    /// Power-capped clocks: the job runs at `clock` of its normal speed.
    Throttled {
        job: JobId,
        clock: f64,
    },
    /// Checkpointed and suspended to meet a power cap; queued again.
    Suspended {
        job: JobId,
    },
    TrayQuarantined {
        tray: String,
        failures: u32,
    },
    ReservationStarted {
        id: String,
    },
    ReservationEnded {
        id: String,
    },
    /// A running job got warm spares back (from free capacity, which a
    /// repaired tray rejoins).
    SpareAdded {
        job: JobId,
        trays: Vec<String>,
    },
    /// A job that asked for warm spares runs with none left: its next
    /// failure requeues it.
    SparesExhausted {
        job: JobId,
    },
    /// A contract date moved a tenant's guarantee of one SKU.
    GuaranteeChanged {
        tenant: String,
        sku: String,
        gpus: u64,
    },
}

impl Event {
    /// The job the event is about, if any.
    pub fn job(&self) -> Option<JobId> {
        match self {
            Event::Started { job, .. }
            | Event::ReplicaStarted { job, .. }
            | Event::Pending { job, .. }
            | Event::Preempted { job, .. }
            | Event::Interrupted { job, .. }
            | Event::Finished { job, .. }
            | Event::Throttled { job, .. }
            | Event::Suspended { job }
            | Event::SpareAdded { job, .. }
            | Event::SparesExhausted { job } => Some(*job),
            Event::TrayQuarantined { .. }
            | Event::ReservationStarted { .. }
            | Event::ReservationEnded { .. }
            | Event::GuaranteeChanged { .. } => None,
        }
    }
}
