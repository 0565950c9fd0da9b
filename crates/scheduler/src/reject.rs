//! Why the scheduler refused a command. A refused command changes nothing.
//!
//! Each variant carries what a caller needs to fix its request, so that a
//! server can answer precisely (with [`Reject::code`] as a stable code and
//! [`Reject::field`] naming the offending field) and the twin can report a
//! scenario error.

use serde::{Deserialize, Serialize};

use crate::job::JobId;

/// Why a job's shape can never run on this campus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum ShapeProblem {
    #[error("a job needs at least 1 GPU")]
    NoGpus,
    #[error("a service needs 1 <= min_available <= replicas, got {min_available} of {replicas}")]
    Replicas { replicas: u32, min_available: u32 },
    #[error("spare trays need a job of at least one whole tray")]
    SparesNeedWholeTrays,
    #[error("{gpus} GPUs is not a whole number of {per_tray}-GPU trays of {sku}")]
    NotWholeTrays {
        gpus: u32,
        per_tray: u32,
        sku: String,
    },
    #[error("tensor-parallel group of {tp_gpus} GPUs is not whole trays of {per_tray}")]
    GroupNotWholeTrays { tp_gpus: u32, per_tray: u32 },
    #[error(
        "a tensor-parallel group or segment of {group_trays} trays does not fit an NVLink domain of {domain_trays} trays"
    )]
    GroupTooLarge { group_trays: u32, domain_trays: u32 },
    #[error("{trays} trays do not divide into groups of {group_trays} trays")]
    Indivisible { trays: u32, group_trays: u32 },
    #[error("needs {gpus} {sku} GPUs; the campus has {capacity}")]
    LargerThanCampus {
        gpus: u64,
        sku: String,
        capacity: u64,
    },
    #[error("a service runs for ever: its runtime limit must not be 0")]
    ZeroRuntimeLimit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "code")]
pub enum Reject {
    #[error("{job} was already submitted")]
    DuplicateJob { job: JobId },
    #[error("{job} is not known or has finished")]
    UnknownJob { job: JobId },
    #[error("unknown tenant or project `{name}`")]
    UnknownTenant { name: String },
    #[error("tenant `{name}` already exists")]
    DuplicateTenant { name: String },
    #[error("tenant `{name}` is retired")]
    RetiredTenant { name: String },
    #[error("tenant `{name}` still has {jobs} live jobs and {children} live children")]
    TenantInUse {
        name: String,
        jobs: u64,
        children: u64,
    },
    #[error("unknown SKU `{sku}`; the campus has {known}")]
    UnknownSku { sku: String, known: String },
    /// A location name that does not resolve, or names the wrong level.
    #[error("{field}: {why}")]
    UnknownName {
        field: String,
        name: String,
        why: String,
    },
    #[error("unknown reservation `{id}`")]
    UnknownReservation { id: String },
    #[error("reservation `{id}` already exists")]
    DuplicateReservation { id: String },
    #[error("reservation `{id}`: {why}")]
    BadReservation { id: String, why: String },
    #[error(
        "needs {want} {sku} GPUs; the quota chain allows at most {ceiling} (limited by `{node}`)"
    )]
    OverQuota {
        node: String,
        sku: String,
        want: u64,
        ceiling: u64,
    },
    #[error("{job}: {problem}")]
    Shape { job: JobId, problem: ShapeProblem },
    #[error("{field} = {value}: {why}")]
    BadValue {
        field: String,
        value: String,
        why: String,
    },
    /// A tenancy change that would break the tree's rules.
    #[error("{0}")]
    Tenancy(String),
}

impl Reject {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Reject::DuplicateJob { .. } => "duplicate_job",
            Reject::UnknownJob { .. } => "unknown_job",
            Reject::UnknownTenant { .. } => "unknown_tenant",
            Reject::DuplicateTenant { .. } => "duplicate_tenant",
            Reject::RetiredTenant { .. } => "retired_tenant",
            Reject::TenantInUse { .. } => "tenant_in_use",
            Reject::UnknownSku { .. } => "unknown_sku",
            Reject::UnknownName { .. } => "unknown_name",
            Reject::UnknownReservation { .. } => "unknown_reservation",
            Reject::DuplicateReservation { .. } => "duplicate_reservation",
            Reject::BadReservation { .. } => "bad_reservation",
            Reject::OverQuota { .. } => "over_quota",
            Reject::Shape { .. } => "shape_impossible",
            Reject::BadValue { .. } => "bad_value",
            Reject::Tenancy(_) => "tenancy",
        }
    }

    /// The request field the refusal is about, where there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Reject::UnknownName { field, .. } | Reject::BadValue { field, .. } => Some(field),
            Reject::UnknownSku { .. } => Some("sku"),
            Reject::UnknownTenant { .. } => Some("project"),
            Reject::DuplicateJob { .. } | Reject::UnknownJob { .. } => Some("id"),
            Reject::Shape { problem, .. } => Some(match problem {
                ShapeProblem::Replicas { .. } => "kind",
                ShapeProblem::SparesNeedWholeTrays => "spare_trays",
                ShapeProblem::GroupNotWholeTrays { .. } | ShapeProblem::GroupTooLarge { .. } => {
                    "tp_gpus"
                }
                ShapeProblem::ZeroRuntimeLimit => "runtime_limit",
                _ => "gpus",
            }),
            Reject::OverQuota { .. } => Some("gpus"),
            _ => None,
        }
    }
}
