//! `abilene bench api`: issue 9's targets for the API server, measured
//! against the real binary on loopback.
//!
//! Each case starts `abilene serve` (this executable) on a free port over a
//! fresh store and loads it with a closed-loop generator, as wrk is: N
//! client threads, each with its own keep-alive connection (a `ureq`
//! agent), each sending its next request as soon as the last is answered.
//! Every latency is kept and sorted; a case counts only if every answer
//! was 2xx. The restart and memory cases run the server over a store that
//! [`abilene_server::fill`] wrote through the writer (1,000,000 submissions
//! with `--full`).
//!
//! Every /v1 request carries the store's admin token (`Authorization:
//! Bearer ...`): a fresh store's is written by `serve --admin-token-file`,
//! a filled store's by [`abilene_server::serve::init_admin`] before the
//! fill. One token drives all 64 clients, past the default per-token rate,
//! so the load servers run with `--rate-limit 1000000 --rate-burst
//! 1000000`: the limiter runs on every request (its cost is in the
//! figures) but refuses none.
//!
//! The limits case (issue 10) starts its own servers: one at a low
//! per-token rate, where a hostile token floods at 15x its rate beside a
//! well-behaved one (tokens made through POST /v1/tokens), and one with a
//! small bound on requests in flight under 64 closed-loop clients. Its
//! clients are threads whatever the generator: it counts answers by
//! status and code, which wrk does not report.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use crate::client::agent;
use crate::format::count;
use crate::out::outln;

/// Issue 9's targets.
const SUBMIT_TARGET: f64 = 10_000.0;
const SUBMIT_P99_TARGET: Duration = Duration::from_millis(20);
const READ_TARGET: f64 = 20_000.0;
const RESTART_TARGET: Duration = Duration::from_secs(5);
/// 1 GB, in MB of 10^6 bytes.
const MEMORY_TARGET_MB: f64 = 1_000.0;
/// The restart and memory targets are for a log of this many commands.
const FULL_LOG: u64 = 1_000_000;

/// What a submission asks: small and short, so that at `--speed 60` a job
/// ends a second after it starts and the campus never fills up.
const SUBMIT_BODY: &str = r#"{"project":"research","gpus":8,"runtime_s":60}"#;
/// Jobs that stay, so that a listed page holds 100 of them.
const LONG_BODY: &str = r#"{"project":"research","gpus":8,"runtime_s":86400}"#;
const LIST_PATH: &str = "/v1/jobs?tenant=research&limit=100";
const SPEED: &str = "60";
const CAMPUS: &str = "abilene";
/// The per-token limits of the load servers: the limiter runs, and one
/// token may go faster than any of these loads.
const LOAD_LIMITS: [&str; 4] = ["--rate-limit", "1000000", "--rate-burst", "1000000"];
/// The file in a store's folder holding its admin token.
const TOKEN_FILE: &str = "admin.token";

pub struct ApiArgs {
    pub full: bool,
    /// Load with wrk (else one client thread per connection).
    pub wrk: bool,
    pub clients: usize,
    pub keep: bool,
}

pub fn run(a: &ApiArgs) -> Result<ExitCode> {
    let root = std::env::temp_dir().join(format!("abilene-bench-api-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).with_context(|| format!("create {}", root.display()))?;
    let result = cases(a, &root);
    if a.keep {
        outln!("api.data: kept in {}", root.display());
    } else {
        let _ = std::fs::remove_dir_all(&root);
    }
    result
}

fn cases(a: &ApiArgs, root: &Path) -> Result<ExitCode> {
    let (secs, fill) = if a.full {
        (15.0, FULL_LOG)
    } else {
        (3.0, 50_000)
    };
    let mut all_met = true;
    outln!(
        "api.setup: `abilene serve --campus {CAMPUS} --speed {SPEED} {}` on loopback (the rate \
         limiter runs but refuses none of the one admin token's requests); every /v1 request sends \
         `Authorization: Bearer <token>`; closed-loop load (each client sends its next request when \
         the last is answered) from {}, {} clients, one keep-alive connection each; {}",
        LOAD_LIMITS.join(" "),
        if a.wrk {
            "wrk (2 threads)"
        } else {
            "one thread per client (ureq)"
        },
        a.clients,
        if a.full { "full sizes" } else { "quick sizes" }
    );

    // Submissions and reads, on a fresh store.
    let server = ServerProc::start(&root.join("load"), &LOAD_LIMITS)?;
    outln!(
        "api.start fresh store: ready in {:.0} ms",
        ms(server.ready_after)
    );
    let warm = load(&server, a.clients, Duration::from_millis(500), Req::Submit)?;
    ensure!(warm.count > 0, "the warm-up made no request");
    let (s, s_cpu, c_cpu) = with_cpu(&server, || measure(a, root, &server, secs, Req::Submit))?;
    let met = s.rate >= SUBMIT_TARGET && s.p99 <= SUBMIT_P99_TARGET && s.non_2xx == 0;
    all_met &= met;
    outln!(
        "api.submit durable (POST /v1/jobs {SUBMIT_BODY}, unique Idempotency-Key): {} /s, p50 {:.2} ms, \
         p99 {:.2} ms, max {:.2} ms, {} requests in {:.1} s, {} non-2xx (target >= {} /s, p99 <= {} ms, \
         0 non-2xx) {}",
        count(s.rate as u64),
        ms(s.p50),
        ms(s.p99),
        ms(s.max),
        count(s.count),
        s.wall.as_secs_f64(),
        s.non_2xx,
        count(SUBMIT_TARGET as u64),
        SUBMIT_P99_TARGET.as_millis(),
        verdict(met)
    );
    cpu_line("submit", &s, s_cpu, c_cpu)?;
    // Jobs that stay, so that each page read is a full one.
    let seeded = load_n(&server, 1_000, Req::Long)?;
    ensure!(
        seeded.non_2xx == 0,
        "seeding long jobs: {} non-2xx",
        seeded.non_2xx
    );
    let page = get_text(&server, LIST_PATH)?;
    let v: serde_json::Value = serde_json::from_str(&page).context("the job list's JSON")?;
    let jobs = v
        .get("jobs")
        .and_then(|j| j.as_array())
        .map_or(0, |j| j.len());
    ensure!(jobs == 100, "GET {LIST_PATH} returned {jobs} jobs, not 100");
    let (r, r_s_cpu, r_c_cpu) = with_cpu(&server, || measure(a, root, &server, secs, Req::List))?;
    let met = r.rate >= READ_TARGET && r.non_2xx == 0;
    all_met &= met;
    outln!(
        "api.list (GET {LIST_PATH}, 100 jobs, {} bytes a page): {} /s, p50 {:.2} ms, p99 {:.2} ms, \
         max {:.2} ms, {} requests in {:.1} s, {} non-2xx (target >= {} /s, 0 non-2xx) {}",
        count(page.len() as u64),
        count(r.rate as u64),
        ms(r.p50),
        ms(r.p99),
        ms(r.max),
        count(r.count),
        r.wall.as_secs_f64(),
        r.non_2xx,
        count(READ_TARGET as u64),
        verdict(met)
    );
    cpu_line("list", &r, r_s_cpu, r_c_cpu)?;
    let (rss, hwm) = server.memory_mb()?;
    outln!("api.memory after the load: VmRSS {rss:.0} MB, VmHWM {hwm:.0} MB (not a target)");
    server.stop()?;

    // The per-token rate and the bound on requests in flight, flooded.
    all_met &= limits_case(root, secs)?;

    // A long log, written through the writer, then a restart over it.
    let data = root.join("long");
    std::fs::create_dir_all(&data).with_context(|| format!("create {}", data.display()))?;
    // The store's first admin token, before any server: the one the
    // restarted server is called with.
    abilene_server::serve::init_admin(&data, Some(&data.join(TOKEN_FILE)))
        .map_err(|e| anyhow::anyhow!("the filled store's admin token: {e}"))?;
    let sc: &'static abilene_twin::scenario::Scenario =
        Box::leak(Box::new(crate::serve_cmd::campus_scenario(CAMPUS)?));
    let f = abilene_server::fill::fill(&abilene_server::fill::FillOptions {
        scenario: sc,
        data: data.clone(),
        // An hour a second: each 60 s job ends within milliseconds.
        speed: 3_600.0,
        snapshot_every: abilene_server::serve::SNAPSHOT_EVERY,
        submissions: fill,
        project: "research".into(),
        gpus: 8,
        runtime_s: 60,
        in_flight: 8_192,
    })
    .map_err(|e| anyhow::anyhow!("fill the store: {e}"))?;
    ensure!(f.refused == 0, "filling: {} submissions refused", f.refused);
    outln!(
        "api.fill: {} submissions through the writer in {:.1} s ({} /s); the log holds {} records, \
         {} commands; {} jobs finished; snapshots after records {:?}; store {} MB",
        count(f.submissions),
        f.wall.as_secs_f64(),
        count((f.submissions as f64 / f.wall.as_secs_f64()) as u64),
        count(f.records),
        count(f.commands),
        count(f.finished),
        f.snapshots,
        dir_mb(&data)
    );
    let server = ServerProc::start(&data, &LOAD_LIMITS)?;
    let judged = f.commands >= FULL_LOG;
    let met = server.ready_after <= RESTART_TARGET;
    if judged {
        all_met &= met;
    }
    outln!(
        "api.restart from {} commands: spawn -> /readyz 200 in {:.2} s ({}) (target <= {} s) {}",
        count(f.commands),
        server.ready_after.as_secs_f64(),
        server.restored_line(),
        RESTART_TARGET.as_secs(),
        if judged {
            verdict(met)
        } else {
            "[not judged: quick size]"
        }
    );
    // Let the server settle (the twin resumes, the last jobs end).
    std::thread::sleep(Duration::from_secs(2));
    let _ = get_text(&server, LIST_PATH)?;
    let (rss, hwm) = server.memory_mb()?;
    let judged = f.finished >= FULL_LOG - FULL_LOG / 100;
    let met = rss <= MEMORY_TARGET_MB && hwm <= MEMORY_TARGET_MB;
    if judged {
        all_met &= met;
    }
    outln!(
        "api.memory campus {CAMPUS} with {} finished jobs: VmRSS {rss:.0} MB, VmHWM {hwm:.0} MB \
         (target <= {MEMORY_TARGET_MB:.0} MB) {}",
        count(f.finished),
        if judged {
            verdict(met)
        } else {
            "[not judged: quick size]"
        }
    );
    server.stop()?;
    outln!(
        "api.summary: {}",
        if all_met {
            "all targets met"
        } else {
            "some targets MISSED"
        }
    );
    Ok(crate::bench::exit_code(all_met))
}

/// CPU per request: what the figures would be on cores of their own.
fn cpu_line(case: &str, f: &Measured, server: f64, clients: f64) -> Result<()> {
    let per = |cpu: f64| cpu * 1e6 / f.count.max(1) as f64;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    outln!(
        "api.{case}.cpu: server {server:.2} s ({:.0} us a request, {:.2} cores), clients {clients:.2} s \
         ({:.0} us a request) over {:.1} s wall; load average {}",
        per(server),
        server / f.wall.as_secs_f64(),
        per(clients),
        f.wall.as_secs_f64(),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(())
}

fn verdict(met: bool) -> &'static str {
    if met { "[met]" } else { "[MISSED]" }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn dir_mb(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let bytes: u64 = entries
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    bytes / 1_000_000
}

/// `abilene serve` as a child process.
struct ServerProc {
    child: Child,
    base: String,
    /// `Bearer <the store's admin token>`.
    auth: String,
    ready_after: Duration,
    log: PathBuf,
}

impl ServerProc {
    /// Starts a server over `data` with `extra` flags. Its admin token is
    /// read from `data`/admin.token: `serve` writes it there when the store
    /// is new; a store with tokens must have it there already.
    fn start(data: &Path, extra: &[&str]) -> Result<ServerProc> {
        let port = free_port()?;
        let exe = std::env::current_exe().context("find this executable")?;
        std::fs::create_dir_all(data)?;
        let log = data.with_extension("log");
        let err = File::create(&log).with_context(|| format!("create {}", log.display()))?;
        let listen = format!("127.0.0.1:{port}");
        let data_arg = data.display().to_string();
        let token_file = data.join(TOKEN_FILE);
        let token_arg = token_file.display().to_string();
        let mut args = vec![
            "serve",
            "--campus",
            CAMPUS,
            "--speed",
            SPEED,
            "--data",
            &data_arg,
            "--listen",
            &listen,
            "--admin-token-file",
            &token_arg,
        ];
        args.extend_from_slice(extra);
        let started = Instant::now();
        let child = Command::new(&exe)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(err))
            .spawn()
            .with_context(|| format!("start {} serve", exe.display()))?;
        let mut s = ServerProc {
            child,
            base: format!("http://{listen}"),
            auth: String::new(),
            ready_after: Duration::ZERO,
            log,
        };
        let agent = agent(Duration::from_secs(120));
        let url = format!("{}/readyz", s.base);
        loop {
            if let Some(status) = s.child.try_wait()? {
                bail!(
                    "the server exited ({status}) before it was ready: {}",
                    std::fs::read_to_string(&s.log).unwrap_or_default().trim()
                );
            }
            if let Ok(resp) = agent.get(&url).call()
                && resp.status().as_u16() == 200
            {
                break;
            }
            if started.elapsed() > Duration::from_secs(300) {
                bail!("the server was not ready within 300 s");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        s.ready_after = started.elapsed();
        let token = std::fs::read_to_string(&token_file)
            .with_context(|| format!("read the admin token from {}", token_file.display()))?;
        let token = token.trim();
        ensure!(
            token.starts_with("abl_"),
            "{} holds no token",
            token_file.display()
        );
        s.auth = format!("Bearer {token}");
        Ok(s)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// VmRSS and VmHWM of the server, in MB (10^6 bytes).
    fn memory_mb(&self) -> Result<(f64, f64)> {
        let path = format!("/proc/{}/status", self.pid());
        let status = std::fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
        let field = |name: &str| -> Result<f64> {
            let line = status
                .lines()
                .find(|l| l.starts_with(name))
                .with_context(|| format!("{path} has no {name}"))?;
            let kb: f64 = line
                .split_whitespace()
                .nth(1)
                .context("a size in kB")?
                .parse()?;
            Ok(kb * 1024.0 / 1e6)
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// The server's line about what it restored.
    fn restored_line(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .find_map(|l| {
                let i = l.find("(state: ")?;
                Some(l[i + 1..].trim_end_matches(')').to_string())
            })
            .unwrap_or_default()
    }

    /// Stops the server by its pid (SIGTERM: a clean shutdown), SIGKILL
    /// if it has not stopped within 30 s.
    fn stop(mut self) -> Result<()> {
        let pid = self.pid().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.kill()?;
        self.child.wait()?;
        bail!("the server did not stop within 30 s of SIGTERM; killed")
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// User + system CPU seconds a process has used, from /proc/PID/stat.
fn cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name (which may hold spaces) come the state, ...;
    // utime and stime are the 14th and 15th fields of the whole line.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(ticks / 100.0)
}

/// CPU used by the server and by this process (the clients) during `f`.
fn with_cpu<T>(server: &ServerProc, f: impl FnOnce() -> Result<T>) -> Result<(T, f64, f64)> {
    let pid = server.pid().to_string();
    let (s0, c0) = (cpu_secs(&pid), cpu_secs("self"));
    let out = f()?;
    let (s1, c1) = (cpu_secs(&pid), cpu_secs("self"));
    let d = |a: Option<f64>, b: Option<f64>| a.zip(b).map_or(0.0, |(a, b)| b - a);
    Ok((out, d(s0, s1), d(c0, c1)))
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("find a free port")?;
    Ok(l.local_addr()?.port())
}

fn get_text(server: &ServerProc, path: &str) -> Result<String> {
    let resp = agent(Duration::from_secs(30))
        .get(&format!("{}{path}", server.base))
        .header("Authorization", &server.auth)
        .call()
        .with_context(|| format!("GET {path}"))?;
    let status = resp.status().as_u16();
    let text = resp.into_body().read_to_string()?;
    ensure!(status == 200, "GET {path}: {status} {text}");
    Ok(text)
}

#[derive(Clone, Copy)]
enum Req {
    Submit,
    Long,
    List,
}

/// One load's figures, whichever generator made them.
struct Measured {
    rate: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
    count: u64,
    non_2xx: u64,
    wall: Duration,
}

impl From<&Figures> for Measured {
    fn from(f: &Figures) -> Measured {
        Measured {
            rate: f.rate(),
            p50: f.percentile(0.5),
            p99: f.percentile(0.99),
            max: f.max(),
            count: f.count,
            non_2xx: f.non_2xx,
            wall: f.wall,
        }
    }
}

impl From<crate::bench_wrk::WrkFigures> for Measured {
    fn from(f: crate::bench_wrk::WrkFigures) -> Measured {
        Measured {
            rate: f.rate,
            p50: f.p50,
            p99: f.p99,
            max: f.max,
            count: f.requests,
            non_2xx: f.failed,
            wall: f.wall,
        }
    }
}

/// One load: wrk when it is here (and asked for), else client threads.
fn measure(a: &ApiArgs, root: &Path, server: &ServerProc, secs: f64, req: Req) -> Result<Measured> {
    let base = &server.base;
    if a.wrk {
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (url, script) = match req {
            Req::List => (format!("{base}{LIST_PATH}"), None),
            Req::Submit | Req::Long => {
                let body = if matches!(req, Req::Submit) {
                    SUBMIT_BODY
                } else {
                    LONG_BODY
                };
                (
                    format!("{base}/v1/jobs"),
                    Some(crate::bench_wrk::submit_script(
                        root,
                        run,
                        "/v1/jobs",
                        body,
                        &server.auth,
                    )?),
                )
            }
        };
        let secs = secs.round().max(1.0) as u64;
        return Ok(
            crate::bench_wrk::run(&url, a.clients, secs, script.as_deref(), &server.auth)?.into(),
        );
    }
    Ok((&load(server, a.clients, Duration::from_secs_f64(secs), req)?).into())
}

/// One case's figures.
struct Figures {
    /// Every latency, sorted.
    latencies: Vec<Duration>,
    count: u64,
    non_2xx: u64,
    wall: Duration,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.count as f64 / self.wall.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        let n = self.latencies.len();
        if n == 0 {
            return Duration::ZERO;
        }
        let i = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
        self.latencies[i]
    }

    fn max(&self) -> Duration {
        self.latencies.last().copied().unwrap_or_default()
    }
}

/// One client's connection and counter of keys.
struct Client {
    agent: ureq::Agent,
    base: String,
    /// The Authorization header's value.
    auth: Arc<str>,
    /// Which load this is: keys are unique across loads too.
    run: u64,
    id: usize,
    sent: u64,
}

/// Loads started so far.
static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// What one answer was, for the limits case.
struct Answer {
    status: u16,
    /// The error body's `code`, or empty.
    code: String,
    retry_after: bool,
}

impl Client {
    /// Sends one request; its status, or an error if there was no answer.
    fn send(&mut self, req: Req) -> Result<u16> {
        Ok(self.answer(req)?.status)
    }

    /// Sends one request; its status, error code and whether it said
    /// Retry-After, or an error if there was no answer.
    fn answer(&mut self, req: Req) -> Result<Answer> {
        self.sent += 1;
        let resp = match req {
            Req::Submit | Req::Long => {
                let key = format!(
                    "bench-{}-{}-{}-{}",
                    std::process::id(),
                    self.run,
                    self.id,
                    self.sent
                );
                let body = if matches!(req, Req::Submit) {
                    SUBMIT_BODY
                } else {
                    LONG_BODY
                };
                self.agent
                    .post(&format!("{}/v1/jobs", self.base))
                    .header("Idempotency-Key", &key)
                    .header("Authorization", &*self.auth)
                    .content_type("application/json")
                    .send(body)
            }
            Req::List => self
                .agent
                .get(&format!("{}{LIST_PATH}", self.base))
                .header("Authorization", &*self.auth)
                .call(),
        }
        .context("request")?;
        let status = resp.status().as_u16();
        let retry_after = resp.headers().contains_key("retry-after");
        // Read the whole body, so the connection is kept for the next one.
        let body = resp
            .into_body()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .context("read the answer")?;
        let code = if status >= 400 {
            serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("code")?.as_str().map(str::to_string))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Answer {
            status,
            code,
            retry_after,
        })
    }
}

/// `clients` closed-loop clients for `dur`.
fn load(server: &ServerProc, clients: usize, dur: Duration, req: Req) -> Result<Figures> {
    run_clients(server, clients, req, Stop::After(dur))
}

/// `n` requests in all over 64 clients.
fn load_n(server: &ServerProc, n: u64, req: Req) -> Result<Figures> {
    let clients = 64usize;
    run_clients(server, clients, req, Stop::Each(n.div_ceil(clients as u64)))
}

#[derive(Clone, Copy)]
enum Stop {
    After(Duration),
    Each(u64),
}

fn run_clients(server: &ServerProc, clients: usize, req: Req, stop: Stop) -> Result<Figures> {
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let auth: Arc<str> = Arc::from(server.auth.as_str());
    let barrier = Arc::new(Barrier::new(clients + 1));
    let mut threads = Vec::with_capacity(clients);
    for id in 0..clients {
        let barrier = barrier.clone();
        let base = server.base.clone();
        let auth = auth.clone();
        threads.push(
            std::thread::Builder::new()
                .name(format!("bench-client-{id}"))
                .stack_size(256 * 1024)
                .spawn(move || -> Result<(Vec<Duration>, u64)> {
                    let mut c = Client {
                        agent: agent(Duration::from_secs(60)),
                        base,
                        auth,
                        run,
                        id,
                        sent: 0,
                    };
                    let mut times = Vec::with_capacity(1 << 16);
                    let mut non_2xx = 0u64;
                    barrier.wait();
                    let start = Instant::now();
                    loop {
                        match stop {
                            Stop::After(d) if start.elapsed() >= d => break,
                            Stop::Each(n) if times.len() as u64 >= n => break,
                            _ => {}
                        }
                        let t = Instant::now();
                        let status = c.send(req)?;
                        times.push(t.elapsed());
                        if !(200..300).contains(&status) {
                            non_2xx += 1;
                        }
                    }
                    Ok((times, non_2xx))
                })
                .context("start a client thread")?,
        );
    }
    barrier.wait();
    let start = Instant::now();
    let mut latencies = Vec::new();
    let mut non_2xx = 0;
    let mut failed = None;
    for t in threads {
        match t.join() {
            Ok(Ok((times, n))) => {
                latencies.extend(times);
                non_2xx += n;
            }
            Ok(Err(e)) => failed = Some(e),
            Err(_) => failed = Some(anyhow::anyhow!("a client thread panicked")),
        }
    }
    let wall = start.elapsed();
    if let Some(e) = failed {
        return Err(e.context("a client got no answer"));
    }
    latencies.sort_unstable();
    Ok(Figures {
        count: latencies.len() as u64,
        latencies,
        non_2xx,
        wall,
    })
}

// ---- The limits case (issue 10) ----

/// Issue 10's load target: the rate and concurrency limits hold under a
/// load at 10x the limit without a 5xx, and without slowing the other
/// tokens' p99 by more than 2x.
const LIMIT_RATE: u32 = 200;
const FLOOD_FACTOR: f64 = 10.0;
const FLOOD_P99_FACTOR: f64 = 2.0;
/// The well-behaved token: this many clients, each pacing to this rate
/// (150/s in all, under its 200/s).
const STEADY_CLIENTS: usize = 3;
const STEADY_EACH: f64 = 50.0;
/// The hostile token: 24 clients pacing to 3,000/s in all, 15x its rate.
const FLOOD_CLIENTS: usize = 24;
const FLOOD_EACH: f64 = 125.0;
/// The shed-load check's server: this many requests in flight at most,
/// under this many closed-loop clients.
const SHED_IN_FLIGHT: usize = 8;
const SHED_CLIENTS: usize = 64;
/// An answer slower than this counts as a hang.
const HANG: Duration = Duration::from_secs(10);

/// How one group of clients' answers came out.
#[derive(Default)]
struct Tally {
    /// Latencies of the 2xx answers, sorted.
    ok: Vec<Duration>,
    /// 429 `rate_limited`; and how many of them lacked Retry-After.
    rate_limited: u64,
    no_retry_after: u64,
    /// 503 `overloaded`, and their latencies, sorted.
    overloaded: Vec<Duration>,
    /// Any other 5xx (a 503 `timeout` too).
    other_5xx: u64,
    /// Any other answer (a 4xx other than 429 `rate_limited`).
    other: u64,
    /// No answer within [`HANG`], or the connection failed.
    no_answer: u64,
    /// The first of those failures, as the client saw it.
    first_failure: Option<String>,
    wall: Duration,
}

impl Tally {
    fn attempts(&self) -> u64 {
        self.ok.len() as u64
            + self.rate_limited
            + self.overloaded.len() as u64
            + self.other_5xx
            + self.other
            + self.no_answer
    }

    fn rate(&self) -> f64 {
        self.attempts() as f64 / self.wall.as_secs_f64()
    }

    fn p99(&self) -> Duration {
        pct(&self.ok, 0.99)
    }

    fn statuses(&self) -> String {
        format!(
            "{} 2xx, {} 429 rate_limited ({} without Retry-After), {} 503 overloaded, {} other 5xx, \
             {} other, {} no answer{}",
            count(self.ok.len() as u64),
            count(self.rate_limited),
            self.no_retry_after,
            count(self.overloaded.len() as u64),
            self.other_5xx,
            self.other,
            self.no_answer,
            self.first_failure
                .as_ref()
                .map(|f| format!(" (the first: {f})"))
                .unwrap_or_default()
        )
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let n = sorted.len();
    if n == 0 {
        return Duration::ZERO;
    }
    sorted[((n as f64 * p).ceil() as usize).clamp(1, n) - 1]
}

/// A group of clients of one token: paced (each to `each` requests a
/// second, on a fixed schedule, catching up at once when behind) or
/// closed-loop (`each` None).
struct Group {
    auth: String,
    clients: usize,
    each: Option<f64>,
    req: Req,
}

/// Runs `groups` at once for `dur`; each group's tally.
fn run_groups(base: &str, groups: &[Group], dur: Duration) -> Result<Vec<Tally>> {
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let total: usize = groups.iter().map(|g| g.clients).sum();
    let barrier = Arc::new(Barrier::new(total + 1));
    let mut threads = Vec::with_capacity(groups.len());
    let mut id = 0usize;
    for g in groups {
        let mut mine = Vec::with_capacity(g.clients);
        for i in 0..g.clients {
            let barrier = barrier.clone();
            let mut c = Client {
                agent: agent(HANG),
                base: base.to_string(),
                auth: Arc::from(g.auth.as_str()),
                run,
                id,
                sent: 0,
            };
            id += 1;
            let (each, req, clients) = (g.each, g.req, g.clients);
            mine.push(
                std::thread::Builder::new()
                    .name(format!("bench-limits-{id}"))
                    .stack_size(256 * 1024)
                    .spawn(move || -> Tally {
                        let mut t = Tally::default();
                        let interval = each.map(|r| Duration::from_secs_f64(1.0 / r));
                        barrier.wait();
                        let start = Instant::now();
                        // Clients of a group spread over one interval.
                        let mut next = interval.map(|iv| start + iv * i as u32 / clients as u32);
                        loop {
                            let now = Instant::now();
                            if now.duration_since(start) >= dur {
                                break;
                            }
                            if let (Some(n), Some(iv)) = (next.as_mut(), interval) {
                                if *n > now {
                                    std::thread::sleep(*n - now);
                                }
                                *n += iv;
                            }
                            let sent = Instant::now();
                            let answer = c.answer(req);
                            let took = sent.elapsed();
                            match answer {
                                Err(e) => {
                                    t.no_answer += 1;
                                    t.first_failure
                                        .get_or_insert(format!("`{e:#}` after {:.0} ms", ms(took)));
                                }
                                Ok(a) if (200..300).contains(&a.status) => t.ok.push(took),
                                Ok(a) if a.status == 429 && a.code == "rate_limited" => {
                                    t.rate_limited += 1;
                                    t.no_retry_after += u64::from(!a.retry_after);
                                }
                                Ok(a) if a.status == 503 && a.code == "overloaded" => {
                                    t.overloaded.push(took)
                                }
                                Ok(a) if a.status >= 500 => t.other_5xx += 1,
                                Ok(_) => t.other += 1,
                            }
                        }
                        t.wall = start.elapsed();
                        t
                    })
                    .context("start a client thread")?,
            );
        }
        threads.push(mine);
    }
    barrier.wait();
    let mut out = Vec::with_capacity(groups.len());
    for mine in threads {
        let mut g = Tally::default();
        for th in mine {
            let t = th
                .join()
                .map_err(|_| anyhow::anyhow!("a client thread panicked"))?;
            g.ok.extend(t.ok);
            g.rate_limited += t.rate_limited;
            g.no_retry_after += t.no_retry_after;
            g.overloaded.extend(t.overloaded);
            g.other_5xx += t.other_5xx;
            g.other += t.other;
            g.no_answer += t.no_answer;
            if g.first_failure.is_none() {
                g.first_failure = t.first_failure;
            }
            g.wall = g.wall.max(t.wall);
        }
        g.ok.sort_unstable();
        g.overloaded.sort_unstable();
        out.push(g);
    }
    Ok(out)
}

/// A token made through POST /v1/tokens with the server's admin token.
fn create_token(server: &ServerProc, name: &str, role: &str, tenant: &str) -> Result<String> {
    let body = serde_json::json!({"name": name, "role": role, "tenant": tenant}).to_string();
    let resp = agent(Duration::from_secs(30))
        .post(&format!("{}/v1/tokens", server.base))
        .header("Authorization", &server.auth)
        .content_type("application/json")
        .send(&body)
        .context("POST /v1/tokens")?;
    let status = resp.status().as_u16();
    let text = resp.into_body().read_to_string()?;
    ensure!(status == 201, "POST /v1/tokens {body}: {status} {text}");
    let v: serde_json::Value = serde_json::from_str(&text).context("the new token's JSON")?;
    let token = v
        .get("token")
        .and_then(|t| t.as_str())
        .context("the new token's secret")?;
    Ok(format!("Bearer {token}"))
}

/// Issue 10's load target for the limits: a per-token rate, and the
/// server's bound on requests in flight. Whether every target was met.
fn limits_case(root: &Path, secs: f64) -> Result<bool> {
    let dur = Duration::from_secs_f64(secs);
    let rate = LIMIT_RATE.to_string();
    let server = ServerProc::start(
        &root.join("limits"),
        &["--rate-limit", &rate, "--rate-burst", &rate],
    )?;
    let steady = create_token(&server, "bench-steady", "submitter", "research")?;
    let hostile = create_token(&server, "bench-flood", "submitter", "research")?;
    let steady_group = || Group {
        auth: steady.clone(),
        clients: STEADY_CLIENTS,
        each: Some(STEADY_EACH),
        req: Req::Submit,
    };
    // A short warm-up, then the well-behaved token alone.
    run_groups(&server.base, &[steady_group()], Duration::from_millis(500))?;
    let alone = run_groups(&server.base, &[steady_group()], dur)?.remove(0);
    // Its bucket full again, then the same beside the flood.
    std::thread::sleep(Duration::from_secs(1));
    let (mut both, flood_server_cpu, flood_client_cpu) = with_cpu(&server, || {
        run_groups(
            &server.base,
            &[
                steady_group(),
                Group {
                    auth: hostile.clone(),
                    clients: FLOOD_CLIENTS,
                    each: Some(FLOOD_EACH),
                    req: Req::Submit,
                },
            ],
            dur,
        )
    })?;
    let flood = both.remove(1);
    let beside = both.remove(0);
    server.stop()?;

    // The flood: at 10x the rate or more, refused with 429 past it.
    let limit = f64::from(LIMIT_RATE);
    let factor = flood.rate() / limit;
    // What the token bucket lets through: the burst, then the rate.
    let allowed = (limit + limit * flood.wall.as_secs_f64()) * 1.05 + 10.0;
    let flood_5xx = flood.overloaded.len() as u64 + flood.other_5xx;
    let met_flood = factor >= FLOOD_FACTOR
        && flood.rate_limited > 0
        && flood.no_retry_after == 0
        && (flood.ok.len() as f64) <= allowed
        && flood_5xx == 0
        && flood.other == 0
        && flood.no_answer == 0;
    outln!(
        "api.limits.flood (a submitter token at --rate-limit {LIMIT_RATE} --rate-burst {LIMIT_RATE}, \
         {FLOOD_CLIENTS} paced client threads, POST /v1/jobs): {} attempts in {:.1} s, {} /s ({factor:.1}x \
         its rate): {}; {} admitted (the bucket allows {:.0}) (target >= {FLOOD_FACTOR:.0}x, only 2xx and \
         429 with Retry-After, 2xx within the rate, 0 5xx) {}",
        count(flood.attempts()),
        flood.wall.as_secs_f64(),
        count(flood.rate() as u64),
        flood.statuses(),
        count(flood.ok.len() as u64),
        allowed,
        verdict(met_flood)
    );
    // The other token: its p99 beside the flood against alone.
    let ratio = ms(beside.p99()) / ms(alone.p99()).max(1e-3);
    let clean = |t: &Tally| t.ok.len() as u64 == t.attempts();
    let met_p99 = ratio <= FLOOD_P99_FACTOR && clean(&alone) && clean(&beside);
    outln!(
        "api.limits.p99 (another submitter token, {STEADY_CLIENTS} client threads pacing to {:.0} /s in \
         all, POST /v1/jobs): alone p99 {:.2} ms ({} /s, {}); beside the flood p99 {:.2} ms ({} /s, {}): \
         {ratio:.2}x; during the flood the server used {:.2} cores, the clients (this process) {:.2}, \
         load average {} (target <= {FLOOD_P99_FACTOR:.0}x, every answer 2xx) {}",
        STEADY_EACH * STEADY_CLIENTS as f64,
        ms(alone.p99()),
        count(alone.rate() as u64),
        alone.statuses(),
        ms(beside.p99()),
        count(beside.rate() as u64),
        beside.statuses(),
        flood_server_cpu / flood.wall.as_secs_f64(),
        flood_client_cpu / flood.wall.as_secs_f64(),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        verdict(met_p99)
    );

    // The bound on requests in flight: past it, 503 `overloaded` at once.
    let in_flight = SHED_IN_FLIGHT.to_string();
    let server = ServerProc::start(
        &root.join("shed"),
        &[
            LOAD_LIMITS[0],
            LOAD_LIMITS[1],
            LOAD_LIMITS[2],
            LOAD_LIMITS[3],
            "--max-in-flight",
            &in_flight,
        ],
    )?;
    let shed = run_groups(
        &server.base,
        &[Group {
            auth: server.auth.clone(),
            clients: SHED_CLIENTS,
            each: None,
            req: Req::Submit,
        }],
        dur,
    )?
    .remove(0);
    server.stop()?;
    let met_shed = !shed.ok.is_empty()
        && !shed.overloaded.is_empty()
        && shed.other_5xx == 0
        && shed.other == 0
        && shed.no_answer == 0;
    outln!(
        "api.limits.in_flight (--max-in-flight {SHED_IN_FLIGHT}, {SHED_CLIENTS} closed-loop client threads, \
         POST /v1/jobs): {} attempts in {:.1} s, {} /s: {}; 2xx p99 {:.2} ms, 503 overloaded p99 {:.2} ms, \
         max {:.2} ms (target: the bound reached, only 2xx and 503 overloaded, 0 other 5xx, every answer \
         within {} s) {}",
        count(shed.attempts()),
        shed.wall.as_secs_f64(),
        count(shed.rate() as u64),
        shed.statuses(),
        ms(shed.p99()),
        ms(pct(&shed.overloaded, 0.99)),
        ms(shed.overloaded.last().copied().unwrap_or_default()),
        HANG.as_secs(),
        verdict(met_shed)
    );
    Ok(met_flood && met_p99 && met_shed)
}
