//! The headline figures are exactly what their labels say (issue 8):
//! goodput is the integral of kept work, ETTR counts the waits after an
//! interruption, and the time between a failure and its detection is lost.

mod common;

use abilene_twin::metrics::RunOutput;
use common::{load, load_variant, run_zeroed};

/// Goodput x online GPU-hours = the sum over jobs of kept work x GPUs, and
/// the hourly rows (an independent running total) add up to the same.
#[track_caller]
fn assert_goodput_identity(out: &RunOutput) {
    let online_gpu_h: f64 = out.hourly.iter().map(|h| h.gpus_online as f64).sum();
    let kept_gpu_h: f64 = out.jobs.iter().map(|j| j.kept_gpu_s).sum::<f64>() / 3600.0;
    let hourly_gpu_h: f64 = out.hourly.iter().map(|h| h.gpus_productive).sum();
    assert!(kept_gpu_h > 0.0, "some work was kept");
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0);
    assert!(
        close(out.summary.goodput * online_gpu_h, kept_gpu_h),
        "goodput {} x {online_gpu_h} online GPU-h != {kept_gpu_h} kept GPU-h",
        out.summary.goodput
    );
    assert!(
        close(hourly_gpu_h, kept_gpu_h),
        "hourly rows sum to {hourly_gpu_h} GPU-h, jobs kept {kept_gpu_h}"
    );
    assert!(
        out.summary.goodput <= out.summary.utilisation + 1e-9,
        "goodput {} above utilisation {}",
        out.summary.goodput,
        out.summary.utilisation
    );
}

#[test]
fn goodput_is_the_integral_of_kept_work_on_several_scenarios() {
    // Whole days, so that the last hourly row closes the run.
    assert_goodput_identity(&run_zeroed(&load("small.toml"), Some(3.0), None));
    assert_goodput_identity(&run_zeroed(&load("llama3.toml"), Some(4.0), None));
    assert_goodput_identity(&run_zeroed(&load("abilene-30d.toml"), Some(2.0), None));
}

/// A 131,072-GPU run with hourly checkpoints on a campus failing ten times
/// as often as Llama 3's: a failure every few minutes, so it almost never
/// reaches a checkpoint. Goodput must say so, not clamp lost hours at zero.
#[test]
fn a_run_that_almost_never_checkpoints_has_almost_no_goodput() {
    let sc = load_variant(
        "abilene-30d.toml",
        &[
            ("gpus = 100000", "gpus = 131072"),
            (
                "checkpoint_interval_min = 30",
                "checkpoint_interval_min = 60",
            ),
            (
                "lemon_share = 0.002",
                "lemon_share = 0.002\nrate_scale = 10.0",
            ),
        ],
    );
    let out = run_zeroed(&sc, Some(2.0), None);
    assert_goodput_identity(&out);
    let big = out
        .jobs
        .iter()
        .find(|j| j.gpus == 131_072)
        .expect("the big run is recorded");
    assert!(big.interruptions >= 20, "{big:?}");
    let held_gpu_s = big.held_s as f64 * 131_072.0;
    assert!(
        big.kept_gpu_s < 0.25 * held_gpu_s,
        "the run kept {} of {} GPU-s it held",
        big.kept_gpu_s,
        held_gpu_s
    );
}

/// Work an interruption takes back is debited in the hour it is lost: with
/// one run on the campus failing often, some hours lose more than they do.
#[test]
fn lost_work_is_debited_in_the_hour_it_is_lost() {
    let sc = load_variant(
        "llama3.toml",
        &[
            (
                "checkpoint_interval_min = 30",
                "checkpoint_interval_min = 120",
            ),
            (
                "restart_overhead_min = 10",
                "restart_overhead_min = 10\n\n[failures]\nrate_scale = 4.0",
            ),
        ],
    );
    let out = run_zeroed(&sc, Some(4.0), None);
    assert_goodput_identity(&out);
    assert!(
        out.hourly.iter().any(|h| h.gpus_productive < 0.0),
        "an hour in which interruptions took back more than was done is debited"
    );
}

/// Detection time is lost work: the same failures detected an hour later
/// cost the Llama 3 run more of its work.
#[test]
fn detection_time_is_lost_work() {
    let quick = run_zeroed(&load("llama3.toml"), Some(6.0), None);
    let slow = load_variant(
        "llama3.toml",
        &[(
            "restart_overhead_min = 10",
            "restart_overhead_min = 10\n\n[failures]\ndetection_min = 60",
        )],
    );
    let slow = run_zeroed(&slow, Some(6.0), None);
    let kept = |o: &RunOutput| o.jobs.iter().map(|j| j.kept_gpu_s).sum::<f64>();
    assert!(quick.summary.interruptions >= 20);
    assert!(
        kept(&slow) < kept(&quick) * 0.97,
        "an hour's detection kept {} GPU-s, against {} at the default",
        kept(&slow),
        kept(&quick)
    );
}

/// ETTR's wall time runs from first start to the end of the run: a job
/// interrupted and left waiting reads its waits.
#[test]
fn ettr_counts_the_time_waiting_to_be_placed_again() {
    let out = run_zeroed(&load("llama3.toml"), Some(4.0), None);
    let run = out
        .jobs
        .iter()
        .find(|j| j.kind == "frontier")
        .expect("the Llama 3 run");
    let start = run.first_start_s.expect("it started");
    assert_eq!(
        run.wall_s,
        4 * 86_400 - start,
        "first start to the run's end"
    );
    assert!(run.held_s <= run.wall_s);
    let ettr = run.ettr().expect("defined");
    assert!((0.0..=1.0).contains(&ettr));
    let weighted = out.summary.ettr.expect("one training job: defined");
    assert!(
        (weighted - ettr).abs() < 1e-9,
        "one job: weighted = its own"
    );
}

/// Spares are kept up as operators keep them: the Llama 3 run asking for
/// 256 warm spares on its 2,304-node campus (all of it) gets back each
/// spare it uses, from the repaired trays, so it keeps holding the whole
/// campus (before, used spares were gone for good: 96.9% after 20 days).
#[test]
fn a_run_with_many_spares_keeps_them() {
    let sc = load_variant(
        "llama3.toml",
        &[(
            "restart_overhead_min = 10",
            "restart_overhead_min = 10\nspare_trays = 256",
        )],
    );
    let out = run_zeroed(&sc, Some(20.0), None);
    let run = out
        .jobs
        .iter()
        .find(|j| j.kind == "frontier")
        .expect("the Llama 3 run");
    assert!(run.interruptions >= 100, "{run:?}");
    assert_eq!(run.held_s, run.wall_s, "it never stalls: {run:?}");
    assert!(
        out.summary.utilisation >= 0.99,
        "gang and spares hold {:.3} of the campus",
        out.summary.utilisation
    );
}
