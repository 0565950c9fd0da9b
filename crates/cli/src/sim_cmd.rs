//! `abilene sim` and the twin half of `abilene demo`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use abilene_twin::metrics::RunOutput;
use abilene_twin::report;
use abilene_twin::run::{MAX_REPLICAS, run, run_replicas, spreads};
use abilene_twin::scenario::{Scenario, ScenarioError};
use abilene_twin::sim::RunOptions;
use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::out::outln;

/// The 30-day whole-campus scenario, shipped in the binary for `abilene
/// demo` and `abilene bench twin`.
pub const ABILENE_30D: &str = include_str!("../../../scenarios/abilene-30d.toml");

#[derive(Args)]
pub struct SimArgs {
    /// Scenario TOML file (see scenarios/)
    pub scenario: PathBuf,
    /// Simulate this many days instead of the scenario's (above 0, at most 3,660)
    #[arg(long)]
    pub days: Option<f64>,
    /// Seed instead of the scenario's
    #[arg(long)]
    pub seed: Option<u64>,
    /// Folder for summary.json, hourly.csv, jobs.csv and report.html
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Run this many seeds (on all cores) and report means with 90% intervals; 1 to 1,000
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_REPLICAS)))]
    pub replicas: u32,
    /// No progress bar
    #[arg(long)]
    pub quiet: bool,
}

pub fn sim(args: &SimArgs) -> Result<ExitCode> {
    let sc = match Scenario::load_file(&args.scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    simulate(&sc, args)
}

/// Runs a loaded scenario and writes its outputs: the files first, so that
/// a closed or full standard output cannot lose them.
pub fn simulate(sc: &Scenario, args: &SimArgs) -> Result<ExitCode> {
    if let Some(d) = args.days {
        abilene_twin::scenario::check_days(d).map_err(|e| anyhow::anyhow!("--days {e}"))?;
    }
    // A bad --out is found now, not after the whole run.
    report::prepare_dir(&args.out)?;
    let opts = RunOptions {
        days: args.days,
        seed: args.seed,
    };
    let days = args.days.unwrap_or(sc.spec.days);
    let bar = progress_bar(args.quiet, days * f64::from(args.replicas.max(1)));
    let started = std::time::Instant::now();
    let tick = |done: u64, _total: u64| bar.set_position(done / 3600);
    let runs: Vec<RunOutput> = if args.replicas <= 1 {
        vec![run(sc, &opts, &mut |d, t| tick(d, t)).map_err(anyhow::Error::msg)?]
    } else {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        run_replicas(sc, &opts, args.replicas, threads, &tick).map_err(anyhow::Error::msg)?
    };
    bar.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();
    let spread = if runs.len() > 1 {
        spreads(&runs)
    } else {
        Vec::new()
    };
    let first = runs.first().context("at least one run")?;
    let written = report::write_outputs(&args.out, first, &spread)?;
    outln!("{}", report::summary_text(&first.summary, &spread));
    outln!(
        "Simulated {:.0} days x {} seed(s) in {:.1} s ({:.0} simulated days per second).",
        days,
        runs.len(),
        wall,
        days * runs.len() as f64 / wall.max(1e-9)
    );
    for p in written {
        outln!("wrote {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn progress_bar(quiet: bool, days: f64) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new((days * 24.0) as u64);
    let style = ProgressStyle::with_template(
        "{spinner} simulated {pos}/{len} h [{bar:40}] {per_sec} sim-h/s, eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar
}

/// The 30-day whole-campus scenario from the binary.
pub fn abilene_30d() -> Result<Scenario> {
    Scenario::load(
        "scenarios/abilene-30d.toml",
        ABILENE_30D,
        Path::new("scenarios"),
    )
    .map_err(|e| match e {
        ScenarioError::Invalid(p) => anyhow::anyhow!("{p}"),
        other => anyhow::anyhow!("{other}"),
    })
}
