//! A run depends only on its scenario and seed: the same seed twice writes
//! byte-identical outputs, another seed writes others, and replicas do not
//! depend on how many threads run them.

mod common;

use abilene_twin::metrics::RunOutput;
use abilene_twin::report::write_outputs;
use abilene_twin::run::{run, run_replicas};
use common::{TempDir, load, opts, read_bytes, run_zeroed};

/// The files `write_outputs` writes, compared byte for byte.
const FILES: [&str; 4] = ["summary.json", "hourly.csv", "jobs.csv", "report.html"];

fn write(dir: &TempDir, out: &RunOutput) {
    let paths = write_outputs(dir.path(), out, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(paths.len(), FILES.len());
}

/// Runs `file` twice with `seed` and compares the outputs on disk.
fn same_seed_twice(file: &str, days: Option<f64>, seed: u64, test: &str) {
    let sc = load(file);
    let mut a = run(&sc, &opts(days, Some(seed)), &mut |_, _| {}).unwrap();
    let mut b = run(&sc, &opts(days, Some(seed)), &mut |_, _| {}).unwrap();
    // Measured time, not simulated: the one figure allowed to differ.
    assert!(a.summary.wall_seconds > 0.0, "wall_seconds is measured");
    a.summary.wall_seconds = 0.0;
    b.summary.wall_seconds = 0.0;
    // The runs must have something in them for the comparison to mean much.
    assert!(
        !a.hourly.is_empty() && !a.jobs.is_empty(),
        "{file}: empty run"
    );
    assert!(a.summary.failures > 0, "{file}: no failures to randomise");

    let da = TempDir::new(&format!("{test}-a"));
    let db = TempDir::new(&format!("{test}-b"));
    write(&da, &a);
    write(&db, &b);
    for f in FILES {
        let (x, y) = (
            read_bytes(&da.path().join(f)),
            read_bytes(&db.path().join(f)),
        );
        assert!(!x.is_empty(), "{file}: {f} is empty");
        assert!(x == y, "{file} seed {seed}: {f} differs between two runs");
    }
    assert_eq!(a, b, "{file} seed {seed}: RunOutput differs");
}

#[test]
fn same_seed_gives_identical_files_on_small() {
    same_seed_twice("small.toml", None, 1, "det-small");
}

#[test]
fn same_seed_gives_identical_files_on_the_whole_campus() {
    // Eight buildings, three frontier runs, the openb replay and inference.
    same_seed_twice("abilene-30d.toml", Some(1.0), 2026, "det-abilene");
}

#[test]
fn another_seed_gives_other_results() {
    let sc = load("small.toml");
    let a = run_zeroed(&sc, None, Some(1));
    let mut b = run_zeroed(&sc, None, Some(2));
    assert_eq!((a.summary.seed, b.summary.seed), (1, 2));
    assert_ne!(a.hourly, b.hourly, "hourly rows do not depend on the seed");
    // Not only the seed field: the figures themselves differ.
    b.summary.seed = a.summary.seed;
    assert_ne!(a.summary, b.summary, "summary does not depend on the seed");

    let da = TempDir::new("det-seed-a");
    let db = TempDir::new("det-seed-b");
    write(&da, &a);
    write(&db, &b);
    for f in ["summary.json", "hourly.csv"] {
        assert_ne!(
            read_bytes(&da.path().join(f)),
            read_bytes(&db.path().join(f)),
            "{f} is the same for seeds 1 and 2"
        );
    }
}

#[test]
fn replicas_do_not_depend_on_threads() {
    let sc = load("small.toml");
    let replicas = |threads: usize| {
        let mut runs = run_replicas(&sc, &opts(None, Some(5)), 3, threads, &|_, _| {})
            .unwrap_or_else(|e| panic!("{e}"));
        for r in &mut runs {
            r.summary.wall_seconds = 0.0;
        }
        runs
    };
    let one = replicas(1);
    let three = replicas(3);
    assert_eq!(one.len(), 3);
    let seeds: Vec<u64> = one.iter().map(|r| r.summary.seed).collect();
    assert_eq!(
        seeds,
        [5, 6, 7],
        "replicas run the given seed, then the next"
    );
    for (i, (x, y)) in one.iter().zip(&three).enumerate() {
        assert!(x == y, "replica {i} (seed {}) differs by threads", seeds[i]);
        // And each is the same as running that seed alone.
        let alone = run_zeroed(&sc, None, Some(seeds[i]));
        assert!(
            *x == alone,
            "replica of seed {} differs from run()",
            seeds[i]
        );
    }
    assert_ne!(one[0].hourly, one[1].hourly, "replicas all the same");
}

#[test]
fn replicas_start_at_the_scenario_seed_by_default() {
    let sc = load("small.toml");
    let runs = run_replicas(&sc, &opts(Some(1.0), None), 2, 2, &|_, _| {}).unwrap();
    let seeds: Vec<u64> = runs.iter().map(|r| r.summary.seed).collect();
    assert_eq!(seeds, [sc.spec.seed, sc.spec.seed + 1]);
}
