//! The failure model against the Llama 3 pre-training run (Meta, "The Llama
//! 3 Herd of Models", 2024): 16,384 H100 GPUs for 54 days, 419 unexpected
//! interruptions (domain.md §3). scenarios/llama3.toml re-creates it.

mod common;

use std::time::Instant;

use abilene_twin::failure::LLAMA3_GPU_HOURS;
use abilene_twin::metrics::{JobRecord, RunOutput};
use abilene_twin::run::run_replicas;
use common::{load, mean, opts};

/// Meta's count of unexpected interruptions.
const META_INTERRUPTIONS: f64 = 419.0;

/// The run's one frontier job.
fn the_job(r: &RunOutput) -> &JobRecord {
    let frontier: Vec<&JobRecord> = r.jobs.iter().filter(|j| j.kind == "frontier").collect();
    assert_eq!(frontier.len(), 1, "one frontier job");
    assert_eq!(frontier[0].gpus, 16_384);
    frontier[0]
}

#[test]
fn llama3_interruptions_and_ettr() {
    let sc = load("llama3.toml");
    // The settings the prediction below assumes.
    let f = &sc.spec.workload.frontier;
    assert_eq!(f.len(), 1);
    assert_eq!((sc.spec.days, f[0].gpus), (54.0, 16_384));
    let i = f[0].checkpoint_interval_min * 60.0;
    let r = f[0].restart_overhead_min * 60.0;
    let c = f[0].checkpoint_cost_s;
    assert_eq!((i, r, c), (1800.0, 600.0, 60.0));

    let started = Instant::now();
    let runs = run_replicas(&sc, &opts(None, None), 3, 2, &|_, _| {}).unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "3 x 54-day runs in {elapsed:.1} s ({:.1} s each measured by the twin)",
        mean(
            &runs
                .iter()
                .map(|r| r.summary.wall_seconds)
                .collect::<Vec<_>>()
        )
    );

    let mut counts = Vec::new();
    for run in &runs {
        let job = the_job(run);
        let n = f64::from(job.interruptions);
        let t = job.wall_s as f64;
        assert!(
            t > 50.0 * 86_400.0,
            "the job ran most of the 54 days: {t} s"
        );
        let measured = job.ettr().expect("the job ran");
        let predicted = (1.0 - n * (i / 2.0 + r) / t) * i / (i + c);
        println!(
            "seed {}: {} interruptions, ETTR measured {measured:.4}, predicted {predicted:.4} \
             (diff {:+.4}); {} failures campus-wide",
            run.summary.seed,
            job.interruptions,
            measured - predicted,
            run.summary.failures
        );
        assert!(
            (measured - predicted).abs() <= 0.03,
            "seed {}: ETTR {measured:.4} vs predicted {predicted:.4}",
            run.summary.seed
        );
        counts.push(n);
    }
    let m = mean(&counts);
    println!("mean interruptions over 3 seeds: {m:.1} (Meta: {META_INTERRUPTIONS})");
    assert!(
        (m - META_INTERRUPTIONS).abs() <= 60.0,
        "mean interruptions {m:.1}, Meta reports {META_INTERRUPTIONS}"
    );
}

#[test]
fn llama3_failure_rate_per_gpu_hour() {
    // Ten days, three seeds: failures per GPU-hour, campus-wide and as the
    // job sees them, against 419 over Llama 3's GPU-hours.
    let sc = load("llama3.toml");
    let rate = META_INTERRUPTIONS / LLAMA3_GPU_HOURS;
    assert!((sc.spec.failures.rate_per_gpu_hour() - rate).abs() < 1e-15);
    let runs = run_replicas(&sc, &opts(Some(10.0), None), 3, 2, &|_, _| {}).unwrap();
    let mut campus = Vec::new();
    let mut job = Vec::new();
    for run in &runs {
        let online_gpu_h: f64 = run.hourly.iter().map(|h| h.gpus_online as f64).sum();
        assert_eq!(run.hourly.len(), 240);
        campus.push(f64::from(run.summary.failures) / online_gpu_h);
        let j = the_job(run);
        job.push(f64::from(j.interruptions) / (16_384.0 * j.wall_s as f64 / 3600.0));
    }
    let (campus, job) = (mean(&campus), mean(&job));
    println!("failures per GPU-hour: campus {campus:.3e}, job {job:.3e}, calibrated {rate:.3e}");
    // ~70 interruptions a run, ~210 in all: a Poisson sd of ~7%.
    assert!(
        (campus / rate - 1.0).abs() < 0.2,
        "campus rate {campus:.3e}"
    );
    assert!((job / rate - 1.0).abs() < 0.2, "job rate {job:.3e}");
}
