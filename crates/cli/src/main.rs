//! `abilene`: the control plane and digital twin of a gigawatt AI campus.

mod bench;
mod bench_sched;
mod bench_twin;
mod campus_cmd;
mod format;
mod out;
mod presets;
mod sched_cmd;
mod sim_cmd;

use std::process::ExitCode;

/// The scheduler and the twin allocate many small, short-lived values (names
/// in events, job records); mimalloc serves those faster than the system
/// allocator (measured in BENCHMARKS.md, issue 7).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "abilene",
    version,
    about = "Control plane and digital twin for gigawatt AI campuses",
    long_about = "abilene plans, runs and simulates an AI campus like the one in Abilene, Texas:\n\
                  its buildings, halls, NVL72 racks, power chain, cooling and fabric.\n\n\
                  Start with `abilene demo`, or `abilene campus show --preset abilene`."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the Abilene campus, then simulate 30 days of it in the twin
    Demo,
    /// Inspect, validate and export campus models
    #[command(subcommand)]
    Campus(campus_cmd::CampusCommand),
    /// Simulate a scenario: the digital twin
    Sim(sim_cmd::SimArgs),
    /// Run the scheduler on a campus
    #[command(subcommand)]
    Sched(sched_cmd::SchedCommand),
    /// Measure abilene on this machine and print one line per figure
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo => campus_cmd::demo(),
        Command::Campus(c) => campus_cmd::run(c),
        Command::Sim(a) => sim_cmd::sim(&a),
        Command::Sched(c) => sched_cmd::run(c),
        Command::Bench(b) => bench::run(b),
    };
    match result {
        Ok(code) => code,
        // The reader of our output has gone (`| head`): done, as Unix tools.
        Err(e) if e.downcast_ref::<out::Closed>().is_some() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
