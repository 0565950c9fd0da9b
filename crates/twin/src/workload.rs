//! Turns a scenario's workload section into jobs with arrival times: the
//! frontier runs it lists, research jobs replayed from the openb trace, and
//! inference services shaped after the DLRM trace.

use abilene_scheduler::{JobSpec, Priority};
use rand::RngExt;

use crate::engine::{DAY, Stream, Time, rng};
use crate::job::{JobStats, Kind, Progress, TwinJob};
use crate::scenario::{RuntimeSource, Scenario};
use crate::trace;

pub struct Generated {
    /// The frontier runs and inference services, in id order. A job's id
    /// is its index in the run plus one: frontier runs first, then the
    /// research jobs (`research_count` of them, from `research`), then the
    /// services.
    pub jobs: Vec<TwinJob>,
    /// The research jobs, made as the run reaches their arrival, so a
    /// long run does not hold years of jobs that have not arrived yet.
    pub research: Option<ResearchStream>,
    /// How many research jobs `research` will give.
    pub research_count: u64,
    /// The trace files replayed, for the report.
    pub traces: Vec<String>,
    /// Inference load by hour of day, mean 1.
    pub inference_cycle: [f64; 24],
}

/// The research jobs of a run, replayed from the openb trace again and
/// again until the scenario ends, made in arrival order on demand.
pub struct ResearchStream {
    base: Vec<trace::TraceJob>,
    span: Time,
    end: Time,
    /// Start of the current replay, and the next trace job in it.
    offset: Time,
    next: usize,
    done: bool,
    philly: Option<trace::RuntimeDistribution>,
    rng: rand_chacha::ChaCha8Rng,
    /// (SKU key, GPUs per tray, GPUs of that SKU on the campus).
    skus: Vec<(String, u32, u64)>,
    total: u64,
    project: String,
    gpu_scale: u32,
    checkpoint_interval: Time,
    next_id: u64,
}

impl ResearchStream {
    /// The arrival of the next job, if there is one before the run ends.
    fn peek(&mut self) -> Option<Time> {
        loop {
            if self.done {
                return None;
            }
            match self.base.get(self.next) {
                Some(t) => {
                    let arrival = self.offset + t.arrival_s;
                    if arrival >= self.end {
                        self.done = true;
                        return None;
                    }
                    return Some(arrival);
                }
                None if self.span == 0 || self.base.is_empty() => self.done = true,
                None => {
                    self.offset += self.span;
                    self.next = 0;
                }
            }
        }
    }

    /// The next research job if it arrives before `until`.
    pub fn next_before(&mut self, until: Time) -> Option<TwinJob> {
        let arrival = self.peek().filter(|&a| a < until)?;
        let t = &self.base[self.next];
        self.next += 1;
        let runtime = match &self.philly {
            Some(d) => d.sample(self.rng.random::<f64>()),
            None => t.runtime_s as f64,
        }
        .max(60.0);
        let skus = &self.skus;
        let (sku, per_tray) = if skus.len() == 1 {
            (skus[0].0.as_str(), skus[0].1)
        } else {
            let mut x = self.rng.random_range(0..self.total);
            let pick = skus.iter().find(|s| {
                let hit = x < s.2;
                x = x.saturating_sub(s.2);
                hit
            });
            pick.map_or((skus[0].0.as_str(), skus[0].1), |s| (s.0.as_str(), s.1))
        };
        let gpus = valid_shape(
            trace::map_to_blackwell(t, per_tray).saturating_mul(self.gpu_scale),
            per_tray,
        );
        let mut spec = JobSpec::training(self.next_id, &self.project, sku, gpus);
        self.next_id += 1;
        spec.priority = Priority::Normal;
        spec.checkpoint_interval = self.checkpoint_interval;
        spec.runtime_estimate = (runtime * 1.5) as Time;
        spec.runtime_limit = (runtime * 3.0) as Time + 3600;
        Some(twin(
            spec,
            Kind::Research,
            arrival,
            runtime,
            RESEARCH_CHECKPOINT_S,
            RESEARCH_RESTART_S,
        ))
    }
}

/// Research jobs of the openb trace, scaled, replayed from 0 until `end`.
fn count_research(base: &[trace::TraceJob], span: Time, end: Time) -> u64 {
    if span == 0 {
        return base.iter().filter(|j| j.arrival_s < end).count() as u64;
    }
    let (whole, rest) = (end / span, end % span);
    let partial = base.iter().filter(|j| j.arrival_s < rest).count() as u64;
    (base.len() as u64)
        .saturating_mul(whole)
        .saturating_add(partial)
}

/// The research `sku` that means "any SKU of the campus".
pub const ANY_SKU: &str = "*";

/// Restart overhead of a research job (assumed: smaller models reload fast).
const RESEARCH_RESTART_S: f64 = 120.0;

/// Seconds a research job takes to write a checkpoint (assumed: small
/// models), beside training, as frontier runs do by default.
const RESEARCH_CHECKPOINT_S: f64 = 10.0;

fn twin(spec: JobSpec, kind: Kind, arrival: Time, work: f64, ckpt: f64, restart: f64) -> TwinJob {
    TwinJob {
        spec,
        kind,
        arrival,
        work,
        checkpoint_cost_s: ckpt,
        checkpoint_blocking: false,
        restart_s: restart,
        state: Progress::default(),
        stats: JobStats::default(),
    }
}

/// A GPU count the scheduler accepts: part of one tray, or whole trays.
/// Never 0; a count too large to round up to whole trays is rounded down,
/// as no campus has that many GPUs anyway.
pub fn valid_shape(gpus: u32, gpus_per_tray: u32) -> u32 {
    let per_tray = gpus_per_tray.max(1);
    if gpus < per_tray {
        gpus.max(1)
    } else {
        match gpus.div_ceil(per_tray).checked_mul(per_tray) {
            Some(n) => n,
            None => gpus / per_tray * per_tray,
        }
    }
}

/// The scheduler's job for a frontier run of the scenario.
pub fn frontier_spec(f: &crate::scenario::FrontierRun, id: u64) -> JobSpec {
    let work = f.work_days * DAY as f64;
    let mut spec = JobSpec::training(id, &f.project, &f.sku, f.gpus);
    spec.priority = f.priority;
    spec.preemptible = false;
    spec.checkpoint_interval = (f.checkpoint_interval_min * 60.0).round() as Time;
    spec.runtime_estimate = (work * 1.2) as Time;
    spec.runtime_limit = ((work * 4.0) as Time).saturating_add(30 * DAY);
    spec.tp_gpus = f.tp_gpus;
    spec.segment_trays = f.segment_trays;
    spec.spare_trays = f.spare_trays;
    spec
}

/// Most research jobs a run may replay: 8,000,000, enough for ten years of
/// `abilene-2026` (~685,000 a year). A job is made when it arrives and only
/// its record is kept once it ends: ten years of `abilene-2026` (6.9 million
/// jobs) peak at 1,295 MB (BENCHMARKS.md); jobs waiting in the queue hold
/// more while they wait.
pub const MAX_RESEARCH_JOBS: u64 = 8_000_000;

/// The openb jobs and the span of one replay of them, arrivals scaled.
fn openb_base(arrival_scale: f64) -> Result<(Vec<trace::TraceJob>, Time), String> {
    let pods = trace::parse_openb_pods(trace::OPENB_PODS_FILE, trace::OPENB_PODS)
        .map_err(|e| e.to_string())?;
    let mut base = trace::openb_jobs(&pods);
    trace::scale_arrivals(&mut base, arrival_scale);
    let span = base.iter().map(|j| j.arrival_s).max().unwrap_or(0) + 1;
    Ok((base, span))
}

/// Research jobs a run of `days` at `arrival_scale` replays: whole replays
/// of the trace, then the jobs of the last one that arrive before the end.
pub fn research_jobs(arrival_scale: f64, days: f64) -> Result<u64, String> {
    let (base, span) = openb_base(arrival_scale)?;
    let end = (days.max(0.0) * DAY as f64).round() as Time;
    Ok(count_research(&base, span, end))
}

fn too_many_research_jobs(arrival_scale: f64, days: f64) -> String {
    format!(
        "workload.research.arrival_scale = {arrival_scale} over {days} days replays more than \
         {MAX_RESEARCH_JOBS} openb jobs; lower arrival_scale or days"
    )
}

pub fn generate(sc: &Scenario, seed: u64, end: Time) -> Result<Generated, String> {
    let w = &sc.spec.workload;
    let mut jobs = Vec::new();
    let mut traces = Vec::new();
    let mut next_id = 1u64;
    let gpt = |sku: &str| {
        sc.campus
            .catalog
            .lookup(sku)
            .map_or(4, |id| sc.campus.sku(id).gpus_per_tray)
    };
    for f in &w.frontier {
        let spec = frontier_spec(f, next_id);
        next_id += 1;
        let work = f.work_days * DAY as f64;
        let arrival = (f.start_day * DAY as f64) as Time;
        let mut job = twin(
            spec,
            Kind::Frontier,
            arrival,
            work,
            f.checkpoint_cost_s,
            f.restart_overhead_min * 60.0,
        );
        job.checkpoint_blocking = f.checkpoint_blocking;
        jobs.push(job);
    }
    let mut research = None;
    let mut research_count = 0;
    if let Some(r) = &w.research {
        let (base, span) = openb_base(r.arrival_scale)?;
        traces.push(trace::OPENB_PODS_FILE.to_string());
        let philly = match r.runtimes {
            RuntimeSource::Philly => {
                traces.push(trace::PHILLY_RUNTIMES_FILE.to_string());
                Some(trace::RuntimeDistribution::philly().map_err(|e| e.to_string())?)
            }
            RuntimeSource::Trace => None,
        };
        // The load refuses such scenarios; a caller's own days must not
        // exhaust memory either.
        let days = end as f64 / DAY as f64;
        research_count = count_research(&base, span, end);
        if research_count > MAX_RESEARCH_JOBS {
            return Err(too_many_research_jobs(r.arrival_scale, days));
        }
        // `sku = "*"` spreads jobs over every SKU of the campus in proportion
        // to its GPUs, as a heterogeneous cluster's scheduler would.
        let skus: Vec<(String, u32, u64)> = if r.sku == ANY_SKU {
            sc.campus
                .catalog
                .iter()
                .map(|(id, key, sku)| {
                    let gpus = sc
                        .campus
                        .trays
                        .iter()
                        .filter(|t| t.sku == id)
                        .map(|t| u64::from(t.gpus))
                        .sum();
                    (key.to_string(), sku.gpus_per_tray, gpus)
                })
                .filter(|s| s.2 > 0)
                .collect()
        } else {
            vec![(r.sku.clone(), gpt(&r.sku), 1)]
        };
        let total: u64 = skus.iter().map(|s| s.2).sum::<u64>().max(1);
        research = Some(ResearchStream {
            base,
            span,
            end,
            offset: 0,
            next: 0,
            done: false,
            philly,
            rng: rng(seed, Stream::Trace),
            skus,
            total,
            project: r.project.clone(),
            gpu_scale: r.gpu_scale,
            checkpoint_interval: (r.checkpoint_interval_min * 60.0).round() as Time,
            next_id,
        });
        next_id += research_count;
    }
    let mut inference_cycle = [1.0; 24];
    if let Some(inf) = &w.inference {
        let instances = trace::dlrm_instances().map_err(|e| e.to_string())?;
        traces.push(trace::DLRM_INSTANCES_FILE.to_string());
        inference_cycle = trace::dlrm_activity_cycle(&instances);
        let apps = trace::dlrm_apps(&instances);
        let total_live: f64 = apps.iter().map(|a| f64::from(a.1)).sum::<f64>().max(1.0);
        let replica_gpus = valid_shape(inf.gpus_per_replica, gpt(&inf.sku)).max(1);
        let replicas_total = (inf.gpus / replica_gpus).max(1);
        // The largest apps of the trace become services, in proportion to
        // their peak live instances, until the GPUs are given out.
        let mut given = 0;
        for (_, live, _) in apps.iter().take(64) {
            if given >= replicas_total {
                break;
            }
            let share = (f64::from(*live) / total_live * f64::from(replicas_total)).round() as u32;
            let replicas = share.clamp(1, replicas_total - given);
            given += replicas;
            let min = (replicas * 4).div_ceil(5).max(1);
            let mut spec =
                JobSpec::service(next_id, &inf.project, &inf.sku, replica_gpus, replicas, min);
            next_id += 1;
            spec.priority = Priority::High;
            jobs.push(twin(spec, Kind::Inference, 0, f64::INFINITY, 0.0, 60.0));
        }
    }
    Ok(Generated {
        jobs,
        research,
        research_count,
        traces,
        inference_cycle,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_sub_tray_or_whole_trays() {
        assert_eq!(valid_shape(0, 4), 1);
        assert_eq!(valid_shape(3, 4), 3);
        assert_eq!(valid_shape(4, 4), 4);
        assert_eq!(valid_shape(6, 4), 8);
        assert_eq!(valid_shape(16, 8), 16);
    }

    #[test]
    fn shapes_of_huge_counts_do_not_wrap_to_zero() {
        // u32::MAX rounded up to whole trays of 4 wrapped to 0, and the
        // inference replica count then divided by it.
        assert_eq!(valid_shape(u32::MAX, 4), u32::MAX / 4 * 4);
        assert_eq!(valid_shape(u32::MAX, 0), u32::MAX);
        assert!(valid_shape(u32::MAX - 1, 8) > 0);
    }

    #[test]
    fn research_jobs_grow_with_scale_and_days() {
        let one = research_jobs(1.0, 149.0).unwrap();
        assert!((6_000..9_000).contains(&one), "{one}");
        assert!(research_jobs(1.0, 300.0).unwrap() > one);
        assert!(research_jobs(2.0, 149.0).unwrap() > one);
        assert!(research_jobs(1e6, 3_660.0).unwrap() > MAX_RESEARCH_JOBS);
        assert!(research_jobs(40.0, 365.0).unwrap() < MAX_RESEARCH_JOBS);
    }

    /// The default checkpoint is written beside training, so a run that
    /// checkpoints every minute is not slowed by a minute's write each
    /// time (it once ran at half speed); `checkpoint_blocking` pauses it.
    #[test]
    fn short_checkpoint_intervals_cost_nothing_by_default() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let text = std::fs::read_to_string(dir.join("small.toml")).expect("small.toml");
        let text = text.replace(
            "checkpoint_interval_min = 30",
            "checkpoint_interval_min = 1",
        );
        let sc = Scenario::load("small (1 min)", &text, &dir).expect("loads");
        assert_eq!(sc.spec.workload.frontier[0].checkpoint_cost_s, 60.0);
        let g = generate(&sc, 1, DAY).expect("generates");
        let frontier = g.jobs.iter().find(|j| j.kind == Kind::Frontier).unwrap();
        assert_eq!(frontier.checkpoint_efficiency(), 1.0);

        let text = text.replace(
            "checkpoint_interval_min = 1",
            "checkpoint_interval_min = 1\ncheckpoint_blocking = true",
        );
        let sc = Scenario::load("small (blocking)", &text, &dir).expect("loads");
        let g = generate(&sc, 1, DAY).expect("generates");
        let frontier = g.jobs.iter().find(|j| j.kind == Kind::Frontier).unwrap();
        assert_eq!(frontier.checkpoint_efficiency(), 0.5);
    }
}
