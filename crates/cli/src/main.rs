//! `abilene`: the control plane and digital twin of a gigawatt AI campus.

mod admin_cmd;
mod bench;
mod bench_api;
mod bench_sched;
mod bench_twin;
mod bench_wrk;
mod campus_cmd;
mod client;
mod client_cmd;
mod format;
mod out;
mod presets;
mod sched_cmd;
mod serve_cmd;
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
                  Start with `abilene demo` (the control plane with its twin), `abilene sim\n\
                  scenarios/abilene-30d.toml` (30 days in the twin), or `abilene campus show`."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    conn: client_cmd::Conn,
}

#[derive(Subcommand)]
enum Command {
    /// The control plane in dev mode: the Abilene campus served with its
    /// twin at a minute a second and a demo workload, until Ctrl-C
    Demo(serve_cmd::DemoArgs),
    /// Run the control plane: the API server over the campus
    Serve(serve_cmd::ServeArgs),
    /// Jobs on a server: submit, list, show, cancel, watch
    #[command(subcommand)]
    Job(client_cmd::JobCommand),
    /// Trays on a server: drain, resume, repaired
    #[command(subcommand)]
    Tray(client_cmd::TrayCommand),
    /// Racks on a server: drain, resume
    #[command(subcommand)]
    Rack(client_cmd::RackCommand),
    /// Tenants on a server: list, show, set-quota
    #[command(subcommand)]
    Tenant(client_cmd::TenantCommand),
    /// A server's event stream
    Events(client_cmd::EventsArgs),
    /// Tokens (the first one of a store; create, list, revoke on a
    /// server) and the audit log's verification
    #[command(subcommand)]
    Admin(admin_cmd::AdminCommand),
    /// A server's audit log
    Audit(admin_cmd::AuditArgs),
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
    // The server's warnings (a refused fleet command, load shed, a dropped
    // audit record) go to standard error; RUST_LOG=info shows more.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let result = match cli.command {
        Command::Demo(a) => serve_cmd::demo(a),
        Command::Serve(a) => serve_cmd::serve(a),
        Command::Job(c) => client_cmd::job(&cli.conn, c),
        Command::Tray(c) => client_cmd::tray(&cli.conn, c),
        Command::Rack(c) => client_cmd::rack(&cli.conn, c),
        Command::Tenant(c) => client_cmd::tenant(&cli.conn, c),
        Command::Events(a) => client_cmd::events(&cli.conn, &a),
        Command::Admin(c) => admin_cmd::admin(&cli.conn, c),
        Command::Audit(a) => admin_cmd::audit(&cli.conn, &a),
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
