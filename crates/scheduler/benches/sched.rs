//! Scheduler benchmarks (issue 3) on the full `abilene` preset: 85% of its
//! GB200 GPUs busy with the seeded Abilene mix and 10,000 jobs pending
//! (`abilene_fixtures::workload::busy_campus`, seed 1), the set-up of `abilene bench sched`.
//!
//! - `sched/place/{8,1024,16384}`: submit one training job for `frontier`
//!   and run one pass. Only that step is timed; cancelling the job and the
//!   pass after it are not.
//! - `sched/place/100000`: a Critical 100,000-GPU job, which preempts; each
//!   iteration starts from a copy of the fixture made outside the timing.
//! - `sched/throughput/submit_1000_small`: 1,000 jobs of 1 to 8 GPUs
//!   submitted in one step and completed in the next; both steps are timed.
//!
//! Run with `cargo bench -p abilene-scheduler --bench sched`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use abilene_fixtures::workload::{GB200, busy_campus};
use abilene_scheduler::{Command, Event, JobId, JobSpec, Priority, Scheduler};
use criterion::{
    BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

/// The time of every measured step: an hour after the fixture's fill ended.
/// The fixture's own clock, where its fill ended: the scheduler's time
/// never goes back, and a later time would time jobs out in the first pass.
static NOW: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

fn now() -> u64 {
    *NOW.get().expect("the fixture sets the clock")
}

/// Jobs per throughput batch.
const BATCH: usize = 1_000;

/// Done jobs keep their slot for the scheduler's lifetime, so a long run
/// grows the state; the benches start again from the fixture after this
/// many submissions (outside the timing).
const RESET_AFTER_JOBS: u64 = 200_000;

fn fixture() -> (Scheduler, u64) {
    let campus = abilene_fixtures::campus("abilene").expect("shipped preset");
    let fixture = busy_campus(&campus, 0.85, 10_000, 1).expect("Abilene tenancy is valid");
    NOW.get_or_init(|| fixture.0.now());
    fixture
}

fn frontier_job(id: u64, gpus: u32) -> JobSpec {
    let mut spec = JobSpec::training(id, "frontier", GB200, gpus);
    spec.runtime_estimate = 3600;
    spec.priority = if gpus >= 16_384 {
        Priority::Critical
    } else {
        Priority::Normal
    };
    spec
}

/// Panics unless `id` started; returns how many jobs it preempted.
fn check_started(events: &[Event], id: JobId, gpus: u32) -> usize {
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Started { job, .. } if *job == id)),
        "the {gpus}-GPU job did not start: {events:?}"
    );
    events
        .iter()
        .filter(|e| matches!(e, Event::Preempted { .. }))
        .count()
}

fn sched(c: &mut Criterion) {
    let (base, fixture_id) = fixture();
    // Above every id the fixture used (it returns the last one), never reused.
    let mut next_id = fixture_id + 1;
    let mut group = c.benchmark_group("sched");

    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    for gpus in [8u32, 1_024, 16_384] {
        let mut s = base.clone();
        let mut since_reset = 0u64;
        group.bench_function(BenchmarkId::new("place", gpus), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    if since_reset >= RESET_AFTER_JOBS {
                        s = base.clone();
                        since_reset = 0;
                    }
                    let id = next_id;
                    next_id += 1;
                    since_reset += 1;
                    let spec = frontier_job(id, gpus);
                    let t = Instant::now();
                    let out = s.step(black_box(now()), [Command::Submit(black_box(spec))]);
                    timed += t.elapsed();
                    let (events, errors) = black_box(out).into_parts();
                    assert!(errors.is_empty(), "submit refused: {errors:?}");
                    // Cancelling restores the state only if nothing moved.
                    let preempted = check_started(&events, JobId(id), gpus);
                    assert_eq!(preempted, 0, "the {gpus}-GPU job preempted");
                    let (_, errors) = s.step(now(), [Command::Cancel(JobId(id))]).into_parts();
                    assert!(errors.is_empty(), "cancel refused: {errors:?}");
                }
                timed
            })
        });
    }

    // Preempts about two hundred jobs, so every iteration needs a fresh copy
    // (about 0.1 s to make and drop, untimed). One untimed run first checks
    // that the job starts.
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.measurement_time(Duration::from_secs(3));
    {
        let mut s = base.clone();
        let out = s.step(now(), [Command::Submit(frontier_job(next_id, 100_000))]);
        let (events, errors): (Vec<Event>, Vec<_>) = (
            out.events,
            out.results.into_iter().filter_map(Result::err).collect(),
        );
        assert!(errors.is_empty(), "submit refused: {errors:?}");
        check_started(&events, JobId(next_id), 100_000);
        next_id += 1;
    }
    group.bench_function(BenchmarkId::new("place", 100_000), |b| {
        b.iter_batched(
            || {
                let id = next_id;
                next_id += 1;
                (base.clone(), frontier_job(id, 100_000))
            },
            // Returns the copy, so that dropping it is not timed either.
            |(mut s, spec)| {
                let out = s.step(black_box(now()), [Command::Submit(spec)]);
                (s, out)
            },
            BatchSize::LargeInput,
        )
    });

    group.sample_size(20);
    group.sampling_mode(SamplingMode::Auto);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(BATCH as u64));
    let sizes = [1u32, 2, 4, 4, 8, 8];
    let mut s = base.clone();
    let mut since_reset = 0u64;
    group.bench_function(BenchmarkId::new("throughput", "submit_1000_small"), |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                if since_reset >= RESET_AFTER_JOBS {
                    s = base.clone();
                    since_reset = 0;
                }
                let first = next_id;
                next_id += BATCH as u64;
                since_reset += BATCH as u64;
                let submits: Vec<Command> = (0..BATCH)
                    .map(|i| {
                        let mut spec = JobSpec::training(
                            first + i as u64,
                            "frontier",
                            GB200,
                            sizes[i % sizes.len()],
                        );
                        spec.runtime_estimate = 600;
                        Command::Submit(spec)
                    })
                    .collect();
                let completes: Vec<Command> = (0..BATCH as u64)
                    .map(|i| Command::Complete(JobId(first + i)))
                    .collect();
                let t = Instant::now();
                let submitted = s.step(black_box(now()), submits);
                let completed = s.step(black_box(now()), completes);
                timed += t.elapsed();
                let (submitted, completed) = black_box((submitted, completed));
                let ((events, errors), (_, done_errors)) =
                    (submitted.into_parts(), completed.into_parts());
                assert!(errors.is_empty(), "submit refused: {errors:?}");
                assert!(done_errors.is_empty(), "complete refused: {done_errors:?}");
                let started = events
                    .iter()
                    .filter(|e| matches!(e, Event::Started { .. }))
                    .count();
                assert_eq!(started, BATCH, "not every small job started");
            }
            timed
        })
    });
    group.finish();
}

criterion_group!(benches, sched);
criterion_main!(benches);
