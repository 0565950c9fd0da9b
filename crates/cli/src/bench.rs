//! `abilene bench ...`: the figures each capability promises, measured here.

use std::process::ExitCode;
use std::time::Instant;

use abilene_model::{Campus, TrayId};
use anyhow::{Context, Result};
use clap::Subcommand;

use crate::out::outln;

/// Most timed loads of `bench campus`: the times are kept to sort, and
/// 10,000 loads of the Abilene preset already take minutes.
const MAX_RUNS: i64 = 10_000;

/// Exit status of a bench that missed a target: distinct from 1, an error,
/// so that scripts can tell a slow run from a broken one.
pub const MISSED: u8 = 3;

/// Success when every target was met, [`MISSED`] otherwise.
pub fn exit_code(all_met: bool) -> ExitCode {
    if all_met {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(MISSED)
    }
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Load, validate and index a campus; time topology queries; report peak memory
    Campus {
        /// Preset to measure
        #[arg(long, default_value = "abilene")]
        preset: String,
        /// Timed repetitions of the load, 1 to 10,000
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=MAX_RUNS))]
        runs: u32,
    },
    /// Place jobs of 8 to 100,000 GPUs on a campus 85% busy with 10,000
    /// pending; sustained small-job throughput; scheduler memory
    Sched {
        #[arg(long, default_value = "abilene")]
        preset: String,
        /// Seed of the background workload
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Fewer samples, for a smoke test
        #[arg(long)]
        quick: bool,
        /// Only issue 12's saturation case (to profile it alone)
        #[arg(long)]
        saturation_only: bool,
    },
    /// The API server on loopback: durable submissions and reads from 64
    /// closed-loop clients, the rate and in-flight limits under a flood,
    /// restart from a long log, memory with a million finished jobs
    Api {
        /// Full sizes: 15 s per load case, a log of 1,000,000 commands
        /// (quick: 3 s, 50,000; restart and memory not judged)
        #[arg(long)]
        full: bool,
        /// Concurrent clients, each with its own connection
        #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1024))]
        clients: u16,
        /// The load generator: `wrk` (Debian's, when installed) or
        /// `threads` (one ureq client thread per connection)
        #[arg(long, default_value = "auto")]
        generator: String,
        /// Keep the stores and server logs (their folder is printed)
        #[arg(long)]
        keep: bool,
    },
    /// Simulate 30 days and a year of the whole Abilene campus, and replay
    /// the openb trace on its own cluster; wall time and peak memory
    Twin {
        /// Shorter runs, for a smoke test (targets not checked)
        #[arg(long)]
        quick: bool,
    },
}

pub fn run(cmd: BenchCommand) -> Result<ExitCode> {
    match cmd {
        BenchCommand::Campus { preset, runs } => campus(&preset, runs),
        BenchCommand::Sched {
            preset,
            seed,
            quick,
            saturation_only,
        } => crate::bench_sched::run(&preset, seed, quick, saturation_only),
        BenchCommand::Twin { quick } => crate::bench_twin::run_bench(quick),
        BenchCommand::Api {
            full,
            clients,
            generator,
            keep,
        } => crate::bench_api::run(&crate::bench_api::ApiArgs {
            full,
            wrk: match generator.as_str() {
                "wrk" => true,
                "threads" => false,
                "auto" => crate::bench_wrk::available(),
                other => anyhow::bail!("--generator {other}: wrk, threads or auto"),
            },
            clients: clients.into(),
            keep,
        }),
    }
}

fn campus(name: &str, runs: u32) -> Result<ExitCode> {
    let p = crate::presets::find(name)?;
    let mut times = Vec::with_capacity(runs as usize);
    let mut campus = None;
    for _ in 0..runs {
        let start = Instant::now();
        let c = Campus::load(p.file, p.toml).map_err(|e| anyhow::anyhow!("{e}"))?;
        times.push(start.elapsed().as_secs_f64());
        campus = Some(c);
    }
    let campus = campus.context("at least one run")?;
    times.sort_by(f64::total_cmp);
    outln!(
        "campus.load_validate_index preset={name} gpus={} trays={}: median {:.1} ms, min {:.1} ms, max {:.1} ms ({runs} runs)",
        campus.gpu_count(),
        campus.tray_count(),
        times[times.len() / 2] * 1e3,
        times[0] * 1e3,
        times[times.len() - 1] * 1e3
    );
    let queries = 10_000_000u64;
    let n = u64::from(campus.tray_count());
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        // xorshift64*: cheap, seeded, and enough to defeat the cache.
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut histogram = [0u64; 5];
    let start = Instant::now();
    for _ in 0..queries {
        let a = TrayId((next() % n) as u32);
        let b = TrayId((next() % n) as u32);
        histogram[campus.proximity(a, b) as usize] += 1;
    }
    let ns = start.elapsed().as_secs_f64() * 1e9 / queries as f64;
    outln!(
        "campus.proximity random tray pairs: {ns:.1} ns/query ({queries} queries; levels {histogram:?})"
    );
    match peak_rss_mb() {
        Some(mb) => outln!("campus.peak_rss: {mb:.1} MB (whole process, VmHWM)"),
        None => outln!("campus.peak_rss: unavailable (needs /proc/self/status)"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Peak resident memory of this process, from Linux's /proc.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missed_target_fails_the_command() {
        let code = |met| format!("{:?}", exit_code(met));
        assert_eq!(code(true), format!("{:?}", ExitCode::SUCCESS));
        assert_eq!(code(false), format!("{:?}", ExitCode::from(MISSED)));
        assert_ne!(code(false), format!("{:?}", ExitCode::FAILURE));
    }
}
