//! Job records against the hourly series: the two views of the same run
//! must agree.

mod common;

use common::{load, run_zeroed};

#[test]
fn summary_totals_match_the_job_records() {
    let sc = load("small.toml");
    for seed in [1, 2] {
        let run = run_zeroed(&sc, None, Some(seed));
        let s = &run.summary;
        let from_jobs: u32 = run.jobs.iter().map(|j| j.interruptions).sum();
        assert_eq!(s.interruptions, from_jobs, "seed {seed}");
        let by_size: u32 = s.by_size.iter().map(|b| b.interruptions).sum();
        let training: u32 = run
            .jobs
            .iter()
            .filter(|j| j.kind != "inference")
            .map(|j| j.interruptions)
            .sum();
        assert_eq!(by_size, training, "seed {seed}: size buckets");
        let failures: u32 = run.hourly.iter().map(|h| h.failures).sum();
        assert_eq!(s.failures, failures, "seed {seed}: failures by hour");
        assert!(
            0.0 < s.goodput && s.goodput <= s.utilisation && s.utilisation <= 1.0,
            "seed {seed}: goodput {} utilisation {}",
            s.goodput,
            s.utilisation
        );
        for j in &run.jobs {
            assert!(j.productive_s <= j.wall_s, "job {}: {j:?}", j.id);
            if let (Some(start), Some(end)) = (j.first_start_s, j.end_s) {
                assert!(j.wall_s <= end - start, "job {}: {j:?}", j.id);
            }
        }
    }
}

#[test]
fn inference_services_are_credited_with_the_time_they_held_gpus() {
    // Inference alone on the small scenario's campus, failures doubled.
    let mut sc = load("small.toml");
    sc.spec.workload.frontier.clear();
    sc.spec.workload.research = None;
    sc.spec.failures.rate_scale *= 2.0;
    let inf = sc
        .spec
        .workload
        .inference
        .clone()
        .expect("small has inference");
    let run = run_zeroed(&sc, None, Some(1));
    let services: Vec<_> = run.jobs.iter().filter(|j| j.kind == "inference").collect();
    assert_eq!(services.len(), run.jobs.len());
    // One replica each, so a record's GPUs are all the service held.
    assert_eq!(
        services.len() as u32 * inf.gpus_per_replica,
        inf.gpus,
        "one replica per service"
    );
    let interruptions: u32 = services.iter().map(|j| j.interruptions).sum();
    assert!(interruptions > 0, "no service lost a replica");
    // The scheduler had every service's GPUs busy in every hour: lost
    // replicas came back at once on the half-empty campus.
    for h in &run.hourly {
        assert_eq!(h.gpus_busy, f64::from(inf.gpus), "hour {}", h.hour);
    }
    let busy_gpu_h: f64 = run.hourly.iter().map(|h| h.gpus_busy).sum();
    let record_gpu_h: f64 = services
        .iter()
        .map(|j| j.wall_s as f64 * f64::from(j.gpus) / 3600.0)
        .sum();
    println!(
        "{} services, {interruptions} replicas lost: {busy_gpu_h:.0} GPU-hours busy by the \
         hour, {record_gpu_h:.0} in the job records",
        services.len()
    );
    let end = (run.summary.days * 86_400.0) as u64;
    for j in &services {
        assert!(
            j.wall_s + 3_600 >= end,
            "service {} held GPUs all {end} s but its record says {} s ({} interruptions)",
            j.id,
            j.wall_s,
            j.interruptions
        );
    }
    assert!((record_gpu_h / busy_gpu_h - 1.0).abs() < 0.01);
}
