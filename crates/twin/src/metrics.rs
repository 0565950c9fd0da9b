//! What a simulation run measures: an hourly time series, per-job records
//! and the summary, all plain data that serialises to the run's outputs.

use serde::{Deserialize, Serialize};

use crate::name::Name;

/// The run's headline figures, defined once; report.html prints these.
pub const UTILISATION: &str = "Utilisation: GPU-hours held by running jobs (gangs and warm spares) over GPU-hours online (GPUs in commissioned buildings).";
pub const GOODPUT: &str = "Goodput: the integral of productive work over the run, in ideal GPU-hours (work at full speed on an ideal placement), over GPU-hours online. A training run is credited its work as it does it and debited what an interruption takes back (everything since the last checkpoint written before the failure, including the time until the failure is detected); a service is credited its GPUs for the time it serves. So goodput x online GPU-hours = the sum over jobs of kept work x GPUs.";
pub const ETTR: &str = "ETTR (effective training time ratio, as Meta defines it, Kokolis et al., HPCA 2025): a training job's productive time (the wall time its kept work took at its placement's speed) over its wall time from first start to its end or the end of the run, including time spent waiting to be placed again after an interruption. The headline weights jobs by GPUs x wall time; the job mean is given beside it. Jobs that ran less than an hour are left out.";

/// One simulated hour of the campus.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HourRow {
    /// Hours since the scenario start.
    pub hour: u32,
    /// ISO date and hour, e.g. "2026-07-14T15:00".
    pub time: String,
    pub ambient_c: f64,
    /// GPUs in commissioned buildings.
    pub gpus_online: u64,
    /// GPUs held by running jobs (mean over the hour).
    pub gpus_busy: f64,
    /// The hour's share of the goodput integral ([`GOODPUT`]), in GPUs:
    /// ideal GPU-seconds of work done this hour less work lost this hour,
    /// over 3,600. Negative in an hour when an interruption takes back more
    /// than was done.
    pub gpus_productive: f64,
    pub it_mw: f64,
    pub cooling_mw: f64,
    pub facility_mw: f64,
    pub pue: f64,
    pub grid_mw: f64,
    pub gas_mw: f64,
    pub battery_mw: f64,
    pub battery_soc_mwh: f64,
    pub price_usd_per_mwh: f64,
    /// A coincident-peak (4CP) hour of ERCOT, when the campus curtails.
    pub four_cp: bool,
    pub energy_cost_usd: f64,
    pub revenue_usd: f64,
    pub emissions_t: f64,
    pub failures: u32,
    pub jobs_running: u32,
    pub jobs_pending: u32,
    pub trays_down: u32,
    /// Racks throttled or tripped because cooling could not keep up.
    pub racks_throttled: u32,
}

/// One job's life, written when it ends or when the run stops.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub id: u64,
    /// "frontier", "research", "inference" or "foreign" (a training job
    /// the twin did not make; see `sim::TwinFleet`).
    pub kind: Name,
    pub tenant: Name,
    pub gpus: u32,
    pub submitted_s: u64,
    pub first_start_s: Option<u64>,
    pub end_s: Option<u64>,
    /// Seconds from submission to first start.
    pub queue_wait_s: Option<u64>,
    /// Wall seconds between first start and end (or the run's end): the
    /// ETTR denominator.
    pub wall_s: u64,
    /// Wall seconds spent holding GPUs.
    pub held_s: u64,
    /// Productive wall seconds: the ETTR numerator ([`ETTR`]).
    pub productive_s: u64,
    /// Work kept, in ideal GPU-seconds: this job's part of goodput.
    pub kept_gpu_s: f64,
    pub interruptions: u32,
    /// Mean step-time slowdown from its placement (1.0 = none).
    pub slowdown: f64,
    pub buildings_spanned: u32,
    pub completed: bool,
}

impl JobRecord {
    /// Effective training time ratio: productive time over wall time.
    pub fn ettr(&self) -> Option<f64> {
        (self.wall_s > 0).then(|| self.productive_s as f64 / self.wall_s as f64)
    }
}

/// Mean time to failure (interruption) for jobs of a size range.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SizeBucket {
    /// "1-8", "9-1024", ...
    pub gpus: String,
    pub jobs: u32,
    pub interruptions: u32,
    pub job_hours: f64,
    /// Job hours per interruption; None without interruptions.
    pub mttf_hours: Option<f64>,
    pub ettr_mean: Option<f64>,
}

/// Queue waits of one tenant, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TenantWaits {
    pub tenant: String,
    pub jobs: u32,
    pub p50_s: f64,
    pub p90_s: f64,
    pub p99_s: f64,
}

/// The headline figures of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub scenario: String,
    pub campus: String,
    pub seed: u64,
    pub start: String,
    pub days: f64,
    /// Which real traces were replayed, by file.
    pub traces: Vec<String>,
    pub utilisation: f64,
    pub goodput: f64,
    /// ETTR weighted by GPUs x wall time ([`ETTR`]): the headline.
    pub ettr: Option<f64>,
    /// The mean of jobs' ETTRs, unweighted.
    pub ettr_mean: Option<f64>,
    pub interruptions: u32,
    pub failures: u32,
    /// Times a job that asked for warm spares ran with none left.
    pub spare_exhaustions: u32,
    pub by_size: Vec<SizeBucket>,
    pub waits: Vec<TenantWaits>,
    pub energy_mwh: f64,
    pub peak_facility_mw: f64,
    pub peak_it_mw: f64,
    pub pue_mean: f64,
    pub pue_min: f64,
    pub pue_max: f64,
    pub grid_mwh: f64,
    pub gas_mwh: f64,
    pub energy_cost_usd: f64,
    pub capex_depreciation_usd: f64,
    pub financing_usd: f64,
    pub opex_usd: f64,
    pub revenue_usd: f64,
    pub cost_per_delivered_gpu_hour_usd: Option<f64>,
    pub emissions_t: f64,
    pub four_cp_hours_curtailed: u32,
    pub mean_slowdown: f64,
    pub wall_seconds: f64,
}

/// Everything a run produces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunOutput {
    pub summary: Summary,
    pub hourly: Vec<HourRow>,
    pub jobs: Vec<JobRecord>,
}

/// A metric over several seeds: mean and a 90% interval (5th to 95th
/// percentile of the replicas). A figure undefined in a seed (no ETTR
/// without jobs, no cost per GPU-hour without delivered GPU-hours) is left
/// out of it, never counted as 0; undefined in every seed, it has no mean
/// and no interval (shown as n/a).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub name: String,
    pub mean: Option<f64>,
    pub p5: Option<f64>,
    pub p95: Option<f64>,
    /// Seeds in which the figure is defined.
    pub seeds: u32,
}
