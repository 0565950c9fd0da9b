//! `abilene serve` and `abilene demo`: the control plane, and the same in
//! dev mode on the Abilene campus with an accelerated twin.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use abilene_server::api::Limits;
use abilene_server::transport::{HEADER_TIMEOUT_RANGE, MAX_CONNECTIONS, MAX_CONNECTIONS_RANGE};
use abilene_server::{ServeOptions, Server, TransportOptions};
use abilene_twin::scenario::{Scenario, ScenarioError};
use anyhow::{Context, Result};
use clap::Args;

/// Where a server listens unless told.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7480";

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// A shipped preset (abilene, abilene-phase1, tiny) or a campus TOML file
    #[arg(long, default_value = "abilene")]
    pub campus: String,
    /// A scenario file whose workload, tenancy, weather and failure model
    /// the twin fleet runs; its campus replaces --campus
    #[arg(long)]
    pub workload: Option<PathBuf>,
    /// The store's directory (SQLite log and snapshots)
    #[arg(long, default_value = "abilene-data")]
    pub data: PathBuf,
    #[arg(long, default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// The fleet under the server; `twin` is the only one until Redfish
    #[arg(long, default_value = "twin")]
    pub fleet: String,
    /// Campus seconds per wall second, 0.001 to 86400 (60: a minute a second)
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// The twin's seed; the scenario's if left out
    #[arg(long)]
    pub seed: Option<u64>,
    /// Commands between snapshots (100 to 100,000,000)
    #[arg(long, default_value_t = abilene_server::serve::SNAPSHOT_EVERY)]
    pub snapshot_every: u64,
    /// Stop by itself after this long (`90s`, `5m`, `1h`); until Ctrl-C if left out
    #[arg(long = "for", value_parser = parse_duration)]
    pub run_for: Option<Duration>,
    /// When the store is new, write the operator's first admin token to
    /// this file (mode 0600) instead of showing it
    #[arg(long)]
    pub admin_token_file: Option<PathBuf>,
    /// Requests a second one token (or one address without a token) may
    /// make, sustained, 1 to 1,000,000; beyond, 429 with Retry-After
    #[arg(long, default_value_t = Limits::default().rate_per_s)]
    pub rate_limit: u32,
    /// Requests one token may make at once before the rate applies (the
    /// bucket's size), 1 to 1,000,000
    #[arg(long, default_value_t = Limits::default().burst)]
    pub rate_burst: u32,
    /// Requests handled at once over all callers, 1 to 100,000; beyond,
    /// 503 `overloaded` at once
    #[arg(long, default_value_t = Limits::default().max_in_flight)]
    pub max_in_flight: usize,
    /// Longest a request may take, 1s to 300s; beyond, 503 `timeout`
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub request_timeout: Duration,
    #[command(flatten)]
    pub transport: TransportArgs,
    /// Serve nothing: check that the state a restart restores from --data
    /// equals the whole log replayed from empty (tests, after a crash)
    #[arg(long, hide = true)]
    pub check_replay: bool,
}

/// How the server meets the network: TLS, plain HTTP, and the limits on
/// clients. Shared by `serve` and `demo`.
#[derive(Args, Debug, Clone)]
pub struct TransportArgs {
    /// Serve HTTPS with this PEM certificate chain (the server's
    /// certificate first); needs --tls-key
    #[arg(long, value_name = "PATH", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key (PKCS#8, RSA or EC) of --tls-cert
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on an address other than loopback (e.g. behind a
    /// TLS proxy); without TLS only 127.0.0.0/8 and ::1 are served
    #[arg(long, conflicts_with = "tls_cert")]
    pub insecure: bool,
    /// How long a client may take to send a request's line and headers,
    /// and to finish the TLS handshake; also how long an idle keep-alive
    /// connection stays open. 1 s to 300 s
    #[arg(long, value_parser = parse_header_timeout, default_value = "10s")]
    pub header_timeout: Duration,
    /// Connections open at once, 1 to 1,000,000; one more is closed as soon
    /// as it is accepted
    #[arg(long, default_value_t = MAX_CONNECTIONS, value_parser = parse_max_connections)]
    pub max_connections: usize,
}

impl TransportArgs {
    pub fn options(&self) -> TransportOptions {
        TransportOptions {
            tls: self.tls_cert.clone().zip(self.tls_key.clone()),
            insecure: self.insecure,
            header_timeout: self.header_timeout,
            max_connections: self.max_connections,
        }
    }

    /// `https` or `http`, for the startup line.
    pub fn scheme(&self) -> &'static str {
        if self.tls_cert.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

fn parse_header_timeout(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if !HEADER_TIMEOUT_RANGE.contains(&d) {
        return Err(format!(
            "`{s}`: {} s to {} s",
            HEADER_TIMEOUT_RANGE.start().as_secs(),
            HEADER_TIMEOUT_RANGE.end().as_secs()
        ));
    }
    Ok(d)
}

fn parse_max_connections(s: &str) -> Result<usize, String> {
    let n: usize = s
        .replace([',', '_'], "")
        .parse()
        .map_err(|_| format!("`{s}`: give a whole number"))?;
    if !MAX_CONNECTIONS_RANGE.contains(&n) {
        return Err(format!(
            "`{s}`: {} to {}",
            MAX_CONNECTIONS_RANGE.start(),
            MAX_CONNECTIONS_RANGE.end()
        ));
    }
    Ok(n)
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((s, "s"), |i| s.split_at(i));
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}`: give a number and a unit, e.g. 90s, 5m, 1h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3_600.0,
        _ => return Err(format!("`{s}`: the unit is s, m or h")),
    };
    if !(0.0..=30.0 * 86_400.0).contains(&secs) {
        return Err(format!("`{s}`: 0 s to 30 days"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn scenario_error(e: ScenarioError) -> anyhow::Error {
    match e {
        ScenarioError::Invalid(p) => anyhow::anyhow!("{p}"),
        other => anyhow::anyhow!("{other}"),
    }
}

/// The scenario the twin fleet runs: the workload file's, or the campus
/// alone (its plant, weather and failures, no simulated users) from the
/// campus's first full day on 2026-12-01.
fn scenario(args: &ServeArgs) -> Result<Scenario> {
    if let Some(w) = &args.workload {
        return Scenario::load_file(w).map_err(scenario_error);
    }
    campus_scenario(&args.campus)
}

/// The scenario `abilene serve --campus CAMPUS` runs without a workload.
pub fn campus_scenario(campus: &str) -> Result<Scenario> {
    let campus = if crate::presets::find(campus).is_ok() {
        format!("{{ preset = \"{campus}\" }}")
    } else {
        let abs = std::fs::canonicalize(campus)
            .with_context(|| format!("--campus {campus}: no such preset or file"))?;
        format!("{{ file = {:?} }}", abs.display().to_string())
    };
    let text = format!(
        "name = \"serve\"\ncampus = {campus}\nstart = \"2026-12-01\"\ndays = 3650\nseed = 1\n"
    );
    Scenario::load("abilene serve", &text, Path::new(".")).map_err(scenario_error)
}

async fn stop_signal(run_for: Option<Duration>) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    let timer = async {
        match run_for {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
        _ = timer => {},
    }
}

fn start(args: ServeArgs, sc: Scenario, on_ready: impl FnOnce(&Server)) -> Result<ExitCode> {
    if args.fleet != "twin" {
        anyhow::bail!(
            "--fleet {}: the only fleet so far is `twin` (Redfish comes later)",
            args.fleet
        );
    }
    // The server runs as long as the process: its scenario may live as long.
    let scenario: &'static Scenario = Box::leak(Box::new(sc));
    let opts = ServeOptions {
        scenario,
        data: args.data.clone(),
        listen: args.listen,
        speed: args.speed,
        snapshot_every: args.snapshot_every,
        seed: args.seed,
        admin_token_file: args.admin_token_file.clone(),
        limits: Limits {
            rate_per_s: args.rate_limit,
            burst: args.rate_burst,
            max_in_flight: args.max_in_flight,
            request_timeout: args.request_timeout,
        },
        transport: args.transport.options(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    let run_for = args.run_for;
    rt.block_on(abilene_server::run(opts, on_ready, stop_signal(run_for)))?;
    Ok(ExitCode::SUCCESS)
}

pub fn serve(args: ServeArgs) -> Result<ExitCode> {
    let sc = scenario(&args)?;
    if args.check_replay {
        return check_replay(sc, &args.data);
    }
    let data = args.data.display().to_string();
    let scheme = args.transport.scheme();
    start(args, sc, |s| {
        let r = &s.restored;
        eprintln!(
            "abilene serve: listening on {scheme}://{} (state: record {}, {} replayed{}, in {} ms; data in {data})",
            s.addr,
            r.seq,
            r.replayed,
            r.from_snapshot
                .map(|q| format!(" after the snapshot at {q}"))
                .unwrap_or_default(),
            r.millis
        );
        if let Some(t) = &s.first_token {
            eprintln!(
                "abilene serve: a new store; the operator's admin token, shown once (keep it):"
            );
            println!("{t}");
        }
    })
}

/// `abilene serve --check-replay`: the logic is the server's.
fn check_replay(sc: Scenario, data: &Path) -> Result<ExitCode> {
    let sc: &'static Scenario = Box::leak(Box::new(sc));
    let r = abilene_server::check::check_replay(sc, data)?;
    let from = r.from_snapshot.map_or("from empty".to_string(), |s| {
        format!("from the snapshot at {s}")
    });
    if r.ok() {
        println!(
            "replay check: equal at record {} (restored {from} + {} records; {} snapshot files checked; {} finished jobs)",
            r.seq, r.tail, r.snapshots_checked, r.finished_jobs
        );
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "replay check: the restored state differs from the log replayed from empty (restored {from} + {} records):",
        r.tail
    );
    for d in &r.differences {
        eprintln!("- {d}");
    }
    Ok(ExitCode::FAILURE)
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    #[arg(long, default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Campus seconds per wall second
    #[arg(long, default_value_t = 60.0)]
    pub speed: f64,
    /// Stop by itself after this long (`60s`); until Ctrl-C if left out
    #[arg(long = "for", value_parser = parse_duration)]
    pub run_for: Option<Duration>,
    /// Keep the store here (a fresh temporary folder if left out)
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub transport: TransportArgs,
}

/// The control plane in dev mode: the Abilene campus, the twin at a
/// minute a second, the 30-day workload (Crusoe -> Oracle -> OpenAI).
pub fn demo(a: DemoArgs) -> Result<ExitCode> {
    let sc = crate::sim_cmd::abilene_30d()?;
    let temp = a.data.is_none();
    let data = a.data.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("abilene-demo-{}", std::process::id()))
    });
    let args = ServeArgs {
        campus: "abilene".into(),
        workload: None,
        data: data.clone(),
        listen: a.listen,
        fleet: "twin".into(),
        speed: a.speed,
        seed: None,
        snapshot_every: abilene_server::serve::SNAPSHOT_EVERY,
        run_for: a.run_for,
        transport: a.transport.clone(),
        check_replay: false,
        admin_token_file: None,
        rate_limit: Limits::default().rate_per_s,
        rate_burst: Limits::default().burst,
        max_in_flight: Limits::default().max_in_flight,
        request_timeout: Limits::default().request_timeout,
    };
    let speed = a.speed;
    let scheme = a.transport.scheme();
    let code = start(args, sc, |s| {
        let url = format!("{scheme}://{}", s.addr);
        let token = s
            .first_token
            .clone()
            .unwrap_or_else(|| "<the token printed when this store was made>".to_string());
        // The fragment never reaches the server: the page reads the token
        // from it, keeps it in sessionStorage and clears it from the URL.
        let dashboard = match &s.first_token {
            Some(t) => format!("{url}/#token={t}  (opens logged in)"),
            None => format!("{url}/  (log in with the store's token)"),
        };
        eprintln!(
            "abilene demo: the Abilene campus (8 buildings, 400k GPUs) with its digital twin\n\
             running at {speed}x and the 30-day workload of scenarios/abilene-30d.toml\n\
             (Crusoe -> Oracle -> OpenAI: frontier runs, research, inference).\n\n\
             Dashboard: {dashboard}\n\
             API:      {url}/v1  (OpenAPI: {url}/v1/openapi.json)\n\
             Store:    {}\n\n\
             Try, in another terminal:\n\
             \x20 export ABILENE_SERVER={url}\n\
             \x20 export ABILENE_TOKEN={token}\n\
             \x20 abilene tenant list\n\
             \x20 abilene job submit --project research --gpus 256 --runtime 7200\n\
             \x20 abilene job list --state running --limit 10\n\
             \x20 abilene tray drain B1/H1/R0001/T01 --reason \"swap a NIC\"\n\
             \x20 abilene events --count 10\n\
             \x20 curl -s -H \"Authorization: Bearer $ABILENE_TOKEN\" {url}/v1/campus\n\n\
             The token is the operator's (admin of the whole campus); make narrower\n\
             ones with `abilene admin token create --tenant openai --role viewer --name me`.\n\n\
             The 30-day twin report is `abilene sim scenarios/abilene-30d.toml`.\n\
             Ctrl-C stops the server cleanly.",
            data.display()
        );
    })?;
    if temp {
        let _ = std::fs::remove_dir_all(&data);
    }
    eprintln!("abilene demo: stopped cleanly");
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_with_units_and_refuse_nonsense() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("x").is_err());
        assert!(parse_duration("99999h").is_err());
    }

    #[test]
    fn transport_settings_keep_to_their_ranges() {
        assert_eq!(parse_header_timeout("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_header_timeout("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_header_timeout("0.5s").is_err());
        assert!(parse_header_timeout("301s").is_err());
        assert_eq!(parse_max_connections("1"), Ok(1));
        assert_eq!(parse_max_connections("1,000,000"), Ok(1_000_000));
        assert!(parse_max_connections("0").is_err());
        assert!(parse_max_connections("1000001").is_err());
        assert!(parse_max_connections("-1").is_err());
    }
}
