//! Jobs as users submit them: training gangs and inference services.

use serde::{Deserialize, Serialize};

/// Seconds on the caller's clock; the scheduler never reads one.
pub type Time = u64;

/// The caller's name for a job; unique for the scheduler's lifetime.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub u64);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "job {}", self.0)
    }
}

/// Priority classes, lowest first; a higher class may preempt a lower one.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Scavenger work that fills gaps.
    Low,
    Normal,
    High,
    /// Contracted frontier runs and production inference.
    Critical,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum JobKind {
    /// One gang: all of its GPUs run together or not at all.
    Training,
    /// Long-running replicas of `gpus` GPUs each; the service starts when
    /// `min_available` replicas can run and grows to `replicas`.
    Service { replicas: u32, min_available: u32 },
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    pub id: JobId,
    /// Tenant node (usually a project) that pays for it.
    pub project: String,
    /// SKU key from the campus catalogue, e.g. "gb200-nvl72".
    pub sku: String,
    pub kind: JobKind,
    /// GPUs of the gang (training) or of one replica (service).
    pub gpus: u32,
    /// Tensor-parallel group: GPUs that must share one NVLink domain.
    /// 0 means one tray.
    pub tp_gpus: u32,
    /// Trays per segment that must share one NVLink domain, like Slurm's
    /// `--segment`; 0 for none. 16 keeps racks with drained trays usable.
    pub segment_trays: u32,
    pub priority: Priority,
    pub preemptible: bool,
    /// Wall time after which the run is stopped.
    pub runtime_limit: Time,
    /// The user's estimate of the work, for backfill.
    pub runtime_estimate: Time,
    /// Seconds between checkpoints; 0 if it never checkpoints.
    pub checkpoint_interval: Time,
    /// Extra trays kept warm to restart on after a failure.
    pub spare_trays: u32,
    /// Run only inside this reservation (by its name).
    pub reservation: Option<String>,
}

impl JobSpec {
    /// A training gang with the defaults of a typical run.
    pub fn training(id: u64, project: &str, sku: &str, gpus: u32) -> JobSpec {
        JobSpec {
            id: JobId(id),
            project: project.to_string(),
            sku: sku.to_string(),
            kind: JobKind::Training,
            gpus,
            tp_gpus: 0,
            segment_trays: 0,
            priority: Priority::Normal,
            preemptible: true,
            runtime_limit: 7 * 24 * 3600,
            runtime_estimate: 3600,
            checkpoint_interval: 0,
            spare_trays: 0,
            reservation: None,
        }
    }

    pub fn service(
        id: u64,
        project: &str,
        sku: &str,
        gpus_per_replica: u32,
        replicas: u32,
        min_available: u32,
    ) -> JobSpec {
        JobSpec {
            kind: JobKind::Service {
                replicas,
                min_available,
            },
            preemptible: false,
            priority: Priority::High,
            runtime_limit: Time::MAX,
            runtime_estimate: Time::MAX,
            ..JobSpec::training(id, project, sku, gpus_per_replica)
        }
    }
}
