//! What the scheduler tells its caller.

use serde::{Deserialize, Serialize};

use crate::job::{JobId, Time};

/// Why a job waits, in words a user understands (compare Slurm's squeue
/// reasons).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    Reservation { id: u32 },
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Recovery {
    /// Swapped in a warm spare and restarted from its last checkpoint.
    Spare,
    /// Released its trays and went back to the front of the queue.
    Requeued,
    /// A service lost one replica and will replace it.
    ReplicaLost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Completed,
    Cancelled,
    TimedOut,
}

/// Where a gang landed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    pub trays: Vec<u32>,
    pub gpus: u32,
    pub spares: Vec<u32>,
    /// How many NVLink domains, leaf groups and buildings it spans.
    pub domains: u32,
    pub leaf_groups: u32,
    pub buildings: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    Started {
        job: JobId,
        placement: Placement,
        borrowed: bool,
    },
    /// A service gained a replica beyond its first start.
    ReplicaStarted {
        job: JobId,
        trays: Vec<u32>,
    },
    Pending {
        job: JobId,
        reason: PendingReason,
    },
    Rejected {
        job: JobId,
        why: String,
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
        tray: u32,
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
        tray: u32,
        failures: u32,
    },
    ReservationStarted {
        id: u32,
    },
    ReservationEnded {
        id: u32,
    },
}
