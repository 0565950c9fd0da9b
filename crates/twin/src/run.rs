//! Running scenarios: one seed, or several seeds on all cores with each
//! metric reported as a mean and a 90% interval.

use crate::engine::Time;
use crate::metrics::{RunOutput, Spread, Summary};
use crate::scenario::Scenario;
use crate::sim::{RunOptions, Sim};

/// Runs one seed; `progress` hears (simulated seconds done, total).
pub fn run(
    sc: &Scenario,
    opts: &RunOptions,
    progress: &mut dyn FnMut(Time, Time),
) -> Result<RunOutput, String> {
    Sim::new(sc, opts)?.run(progress)
}

/// Most seeds one call may run: each keeps its whole hourly record until all
/// are done, and 1,000 seeds give the 5th and 95th percentiles to 0.1%.
pub const MAX_REPLICAS: u32 = 1_000;

/// Runs `replicas` seeds (from 1 to [`MAX_REPLICAS`]: the scenario's seed,
/// then the next ones) on up to
/// `threads` threads. Each seed's run is deterministic, so the outputs do not
/// depend on the threads. `progress` hears the total simulated time over all
/// replicas.
pub fn run_replicas(
    sc: &Scenario,
    opts: &RunOptions,
    replicas: u32,
    threads: usize,
    progress: &(dyn Fn(Time, Time) + Sync),
) -> Result<Vec<RunOutput>, String> {
    let base = opts.seed.unwrap_or(sc.spec.seed);
    if !(1..=MAX_REPLICAS).contains(&replicas) {
        return Err(format!(
            "replicas must be from 1 to {MAX_REPLICAS}, got {replicas}"
        ));
    }
    // Seeds past u64::MAX wrap round to 0: still distinct, never a panic.
    let seeds: Vec<u64> = (0..u64::from(replicas))
        .map(|i| base.wrapping_add(i))
        .collect();
    let done = std::sync::atomic::AtomicU64::new(0);
    let per_run_total = std::sync::atomic::AtomicU64::new(0);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<Result<RunOutput, String>>> =
        (0..seeds.len()).map(|_| None).collect();
    let slots: Vec<std::sync::Mutex<Option<Result<RunOutput, String>>>> = (0..seeds.len())
        .map(|_| std::sync::Mutex::new(None))
        .collect();
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, seeds.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(&seed) = seeds.get(i) else { break };
                    let o = RunOptions {
                        seed: Some(seed),
                        ..opts.clone()
                    };
                    let mut last = 0;
                    let out = run(sc, &o, &mut |t, total| {
                        per_run_total.store(total, std::sync::atomic::Ordering::Relaxed);
                        let d = done.fetch_add(t - last, std::sync::atomic::Ordering::Relaxed) + t
                            - last;
                        last = t;
                        progress(d, total * seeds.len() as u64);
                    });
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(out);
                    }
                }
            });
        }
    });
    for (r, slot) in results.iter_mut().zip(slots) {
        *r = slot.into_inner().ok().flatten();
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("a replica did not finish".into())))
        .collect()
}

/// Each headline metric over the replicas: mean, 5th and 95th percentile.
pub fn spreads(runs: &[RunOutput]) -> Vec<Spread> {
    type Metric = (&'static str, fn(&Summary) -> f64);
    let metrics: [Metric; 12] = [
        ("utilisation", |s| s.utilisation),
        ("goodput", |s| s.goodput),
        ("ettr_mean", |s| s.ettr_mean.unwrap_or(0.0)),
        ("interruptions", |s| f64::from(s.interruptions)),
        ("energy_mwh", |s| s.energy_mwh),
        ("peak_facility_mw", |s| s.peak_facility_mw),
        ("pue_mean", |s| s.pue_mean),
        ("energy_cost_usd", |s| s.energy_cost_usd),
        ("revenue_usd", |s| s.revenue_usd),
        ("cost_per_delivered_gpu_hour_usd", |s| {
            s.cost_per_delivered_gpu_hour_usd.unwrap_or(0.0)
        }),
        ("emissions_t", |s| s.emissions_t),
        ("mean_slowdown", |s| s.mean_slowdown),
    ];
    metrics
        .iter()
        .map(|(name, f)| {
            let mut xs: Vec<f64> = runs.iter().map(|r| f(&r.summary)).collect();
            xs.sort_by(f64::total_cmp);
            let pick = |p: f64| {
                if xs.is_empty() {
                    0.0
                } else {
                    // Nearest rank, so a few replicas still give an interval.
                    let i = ((p * (xs.len() - 1) as f64).round() as usize).min(xs.len() - 1);
                    xs[i]
                }
            };
            Spread {
                name: (*name).to_string(),
                mean: if xs.is_empty() {
                    0.0
                } else {
                    xs.iter().sum::<f64>() / xs.len() as f64
                },
                p5: pick(0.05),
                p95: pick(0.95),
            }
        })
        .collect()
}
