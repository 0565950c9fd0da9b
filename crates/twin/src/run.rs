//! Running scenarios: one seed, or several seeds on all cores with each
//! metric reported as a mean and a 90% interval.

use crate::engine::Time;
use crate::metrics::{RunOutput, Spread};
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

/// Every figure of the summary over the replicas, named by its `Summary`
/// field: mean, 5th and 95th percentile over the seeds in which it is
/// defined (see [`Spread`]).
pub fn spreads(runs: &[RunOutput]) -> Vec<Spread> {
    crate::report::format::METRICS
        .iter()
        .map(|m| {
            let mut xs: Vec<f64> = runs
                .iter()
                .filter_map(|r| crate::report::format::metric_value(&r.summary, m.key))
                .collect();
            xs.sort_by(f64::total_cmp);
            // Nearest rank, so a few replicas still give an interval.
            let pick = |p: f64| {
                let last = xs.len().checked_sub(1)?;
                xs.get(((p * last as f64).round() as usize).min(last))
                    .copied()
            };
            Spread {
                name: m.key.to_string(),
                mean: (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64),
                p5: pick(0.05),
                p95: pick(0.95),
                seeds: xs.len() as u32,
            }
        })
        .collect()
}
