//! What the server tests share: a temporary data folder, a free port, a
//! real `abilene serve` started and stopped by its pid, and plain HTTP.
//!
//! Every loop here is bounded in count and time; a server is only ever
//! stopped through its own `Child` (SIGKILL), never by name.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// API-submitted job ids start above this.
pub const API_JOB_BASE: u64 = 1 << 40;

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_abilene"));
    c.current_dir(workspace());
    c
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A folder unique to this test and process, removed on drop.
pub struct Temp(pub PathBuf);

impl Temp {
    pub fn new(name: &str) -> Temp {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("abilene-srv-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Temp(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A port nothing listens on just now: bind port 0, read it, let it go.
/// Another process may take it before the server binds it; the caller
/// retries on a collision.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

/// An agent without a token.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// An agent that sends `token` as its bearer on every request that does
/// not carry its own `Authorization`.
pub fn agent_with(token: &str) -> ureq::Agent {
    let auth: ureq::http::HeaderValue = format!("Bearer {token}").parse().expect("a header value");
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .middleware(
            move |mut req: ureq::http::Request<ureq::SendBody>,
                  next: ureq::middleware::MiddlewareNext| {
                if !req.headers().contains_key("authorization") {
                    req.headers_mut().insert("authorization", auth.clone());
                }
                next.handle(req)
            },
        )
        .build()
        .into()
}

/// A server process this test started.
pub struct Server {
    child: Child,
    pub port: u16,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// Its standard error (the startup line, any error).
    pub log: PathBuf,
    /// The operator's admin token of its store.
    pub token: String,
}

/// How long a server may take to answer `/readyz`.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

impl Server {
    /// `abilene serve --data DATA --listen 127.0.0.1:PORT ARGS...` on a
    /// free port, once `/readyz` answers 200. Retries a few ports when the
    /// one picked was taken meanwhile.
    pub fn start(data: &Path, args: &[&str]) -> Server {
        let mut cmd = vec!["serve".to_string(), "--data".into()];
        cmd.push(data.display().to_string());
        cmd.extend(args.iter().map(|s| s.to_string()));
        Server::spawn(&cmd, data)
    }

    /// Any subcommand that takes `--listen` (serve, demo); `log_dir` holds
    /// its standard error.
    pub fn spawn(args: &[String], log_dir: &Path) -> Server {
        // `serve` writes the first admin token of a new store into it (the
        // log_dir of `start` is the data folder); a restart on the same
        // store finds it there from the first start.
        let token_file = log_dir.join("admin.token");
        let mut args = args.to_vec();
        if args.first().is_some_and(|a| a == "serve") {
            args.push("--admin-token-file".into());
            args.push(token_file.display().to_string());
        }
        for attempt in 0..10 {
            let port = free_port();
            let log = log_dir.with_extension(format!("stderr-{port}.log"));
            let err = std::fs::File::create(&log).expect("create the server's log");
            let child = bin()
                .args(&args)
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(err)
                .spawn()
                .expect("start abilene");
            let mut s = Server {
                child,
                port,
                base: format!("http://127.0.0.1:{port}"),
                log,
                token: String::new(),
            };
            match s.wait_ready() {
                Ok(()) => {
                    s.token = match std::fs::read_to_string(&token_file) {
                        Ok(t) => t.trim().to_string(),
                        // `demo` shows it in its instructions instead.
                        Err(_) => s
                            .stderr()
                            .lines()
                            .find_map(|l| l.trim().strip_prefix("export ABILENE_TOKEN="))
                            .unwrap_or_default()
                            .to_string(),
                    };
                    return s;
                }
                Err(why) if why.contains("Address already in use") && attempt < 9 => {
                    let _ = std::fs::remove_file(&s.log);
                    continue;
                }
                Err(why) => panic!("the server did not come up: {why}"),
            }
        }
        unreachable!("the loop returns or panics")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An agent carrying this server's admin token.
    pub fn agent(&self) -> ureq::Agent {
        agent_with(&self.token)
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for `/readyz` to answer 200, or the process to exit.
    fn wait_ready(&mut self) -> Result<(), String> {
        let a = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .new_agent();
        let started = Instant::now();
        for _ in 0..100_000 {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("it exited ({status}): {}", self.stderr()));
            }
            if let Ok(r) = a.get(&self.url("/readyz")).call()
                && r.status().as_u16() == 200
            {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                self.kill();
                return Err(format!(
                    "no 200 from /readyz within {READY_TIMEOUT:?}: {}",
                    self.stderr()
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.kill();
        Err("no 200 from /readyz".into())
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reap it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit by itself, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Status and body text, or the transport error.
pub fn send(
    a: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<(u16, String), ureq::Error> {
    let resp = match (method, body) {
        ("DELETE", _) => {
            let mut r = a.delete(url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call()
        }
        ("GET", _) => {
            let mut r = a.get(url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call()
        }
        (m, b) => {
            let mut r = match m {
                "POST" => a.post(url),
                "PATCH" => a.patch(url),
                "PUT" => a.put(url),
                other => panic!("method {other}"),
            };
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            match b {
                Some(b) => r.send(b),
                None => r.send_empty(),
            }
        }
    }?;
    let status = resp.status().as_u16();
    let text = resp.into_body().read_to_string()?;
    Ok((status, text))
}

/// A GET that must get an answer, as JSON.
pub fn get(a: &ureq::Agent, url: &str) -> (u16, Value) {
    let (s, t) = send(a, "GET", url, &[], None).unwrap_or_else(|e| panic!("GET {url}: {e}"));
    (s, json(&t))
}

/// A JSON POST that must get an answer.
pub fn post(a: &ureq::Agent, url: &str, body: &str, key: Option<&str>) -> (u16, Value) {
    let mut h = vec![("Content-Type", "application/json")];
    if let Some(k) = key {
        h.push(("Idempotency-Key", k));
    }
    let (s, t) = send(a, "POST", url, &h, Some(body)).unwrap_or_else(|e| panic!("POST {url}: {e}"));
    (s, json(&t))
}

pub fn json(t: &str) -> Value {
    if t.is_empty() {
        return Value::Null;
    }
    serde_json::from_str(t).unwrap_or_else(|e| panic!("not JSON ({e}): {t}"))
}

/// Every job the server lists: the live ones, then the finished ones, each
/// list walked page by page with the `next` cursor. Returns (live,
/// finished) in the order listed.
pub fn list_all(a: &ureq::Agent, s: &Server, query: &str) -> (Vec<Value>, Vec<Value>) {
    let walk = |state: &str| {
        let mut out = Vec::new();
        let mut after: Option<u64> = None;
        for _ in 0..100_000 {
            let mut q = format!("/v1/jobs?limit=1000{state}{query}");
            if let Some(n) = after {
                q.push_str(&format!("&after={n}"));
            }
            let (st, page) = get(a, &s.url(&q));
            assert_eq!(st, 200, "{q}: {page}");
            out.extend(page["jobs"].as_array().expect("jobs").iter().cloned());
            match page.get("next").and_then(Value::as_u64) {
                Some(n) => after = Some(n),
                None => return out,
            }
        }
        panic!("more than 100,000 pages");
    };
    (walk(""), walk("&state=finished"))
}

/// A small seeded generator (SplitMix64): the tests' randomness repeats.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in lo..=hi.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}
