//! `abilene serve`'s transport: HTTPS with a certificate and key, clear
//! errors for a bad pair, no plain HTTP off loopback without `--insecure`,
//! slow clients cut off after `--header-timeout`, `--max-connections`
//! held, and a request in flight at shutdown answered.
//!
//! Certificates are made here with the `openssl` command; HTTPS requests
//! go through `curl --cacert`. Only /healthz and /readyz are asked (they
//! need no token). Every wait is bounded in count and time; servers are
//! stopped through their own `Child`, by pid.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{Temp, bin, free_port};

const OPENSSL: &str = "/usr/bin/openssl";
const CURL: &str = "/usr/bin/curl";
/// How long a server may take to come up.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// A self-signed certificate for 127.0.0.1 and localhost, and its key
/// (EC P-256), written into `dir` as `NAME.crt` and `NAME.key`.
fn make_cert(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    let out = Command::new(OPENSSL)
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:P-256", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {OPENSSL} (install openssl): {e}"));
    assert!(
        out.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

/// `curl` GET of `url`: the HTTP status ("000" when there was no HTTP
/// answer) and the body.
fn curl(url: &str, cacert: Option<&Path>) -> (String, String) {
    let mut c = Command::new(CURL);
    c.args(["-s", "--max-time", "10", "-w", "\n%{http_code}"]);
    if let Some(ca) = cacert {
        c.arg("--cacert").arg(ca);
    }
    let out = c
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {CURL} (install curl): {e}"));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.to_string(), body.to_string())
}

/// A server this test started; killed (SIGKILL) on drop.
struct Srv {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Srv {
    /// `abilene serve --campus tiny --data DIR/data --listen
    /// 127.0.0.1:PORT ARGS...` on a free port, once /readyz answers 200
    /// (over HTTPS, trusting `cacert`, when given). Retries a few ports
    /// when the one picked was taken meanwhile.
    fn start(dir: &Path, args: &[&str], cacert: Option<&Path>) -> Srv {
        for attempt in 0..10 {
            let port = free_port();
            let log = dir.join(format!("stderr-{port}.log"));
            let err = std::fs::File::create(&log).expect("create the server's log");
            let child = bin()
                .args(["serve", "--campus", "tiny", "--speed", "1", "--data"])
                .arg(dir.join("data"))
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"))
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(err)
                .spawn()
                .expect("start abilene");
            let mut s = Srv { child, port, log };
            match s.wait_ready(cacert) {
                Ok(()) => return s,
                Err(why) if why.contains("Address already in use") && attempt < 9 => continue,
                Err(why) => panic!("the server did not come up: {why}"),
            }
        }
        unreachable!("the loop returns or panics")
    }

    fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://127.0.0.1:{}{path}", self.port)
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_ready(&mut self, cacert: Option<&Path>) -> Result<(), String> {
        let scheme = if cacert.is_some() { "https" } else { "http" };
        let url = self.url(scheme, "/readyz");
        let started = Instant::now();
        for _ in 0..10_000 {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("it exited ({status}): {}", self.stderr()));
            }
            if curl(&url, cacert).0 == "200" {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Err(format!(
            "no 200 from {url} within {READY_TIMEOUT:?}: {}",
            self.stderr()
        ))
    }

    fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s
    }
}

impl Drop for Srv {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `abilene serve ARGS...` that must fail at once: its exit status
/// and standard error. Killed if it is still running after 60 s.
fn must_fail(args: &[&str]) -> (ExitStatus, String) {
    let mut child = bin()
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start abilene");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("abilene serve {args:?} still runs after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status, err)
}

/// Reads what the server sends until it closes the connection (or resets
/// it), at most 30 s: the bytes and how long it took.
fn read_to_close(s: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("still open after {:?}", started.elapsed())
            }
            // Reset: closed too.
            Err(_) => break,
        }
    }
    (String::from_utf8_lossy(&got).to_string(), started.elapsed())
}

/// Reads one HTTP/1.1 response with a Content-Length body; what came
/// (maybe nothing) if the connection closed or stalled first.
fn read_response(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    for _ in 0..10_000 {
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return text;
            }
        }
        match s.read(&mut buf) {
            Ok(0) => return String::from_utf8_lossy(&got).to_string(),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            // Reset or timed out: what came, if anything.
            Err(_) => return String::from_utf8_lossy(&got).to_string(),
        }
    }
    panic!("no whole response in 10,000 reads");
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

#[test]
fn https_answers_and_plain_http_to_its_port_does_not() {
    let dir = Temp::new("tls-ok");
    let (cert, key) = make_cert(dir.path(), "server");
    let c = cert.to_str().unwrap();
    let k = key.to_str().unwrap();
    let s = Srv::start(
        dir.path(),
        &["--tls-cert", c, "--tls-key", k, "--header-timeout", "1s"],
        Some(&cert),
    );
    assert!(
        s.stderr()
            .contains(&format!("listening on https://127.0.0.1:{}", s.port)),
        "{}",
        s.stderr()
    );

    let (code, body) = curl(&s.url("https", "/healthz"), Some(&cert));
    assert_eq!(code, "200", "{body}");
    assert!(body.contains("ok"), "{body}");

    // Plain HTTP to the TLS port: no HTTP answer at all.
    let (code, body) = curl(&s.url("http", "/healthz"), None);
    assert_ne!(code, "200", "{body}");
    let mut t = s.connect();
    t.write_all(HEALTHZ).unwrap();
    let (got, _) = read_to_close(&mut t);
    assert!(!got.contains("200 OK"), "{got}");

    // A client that opens TCP and never starts the handshake is cut off
    // after the header timeout (1 s) too.
    let mut idle = s.connect();
    let (_, took) = read_to_close(&mut idle);
    assert!(took < Duration::from_secs(6), "closed after {took:?}");

    // And the server still answers.
    assert_eq!(curl(&s.url("https", "/readyz"), Some(&cert)).0, "200");
}

#[test]
fn a_bad_certificate_or_key_is_named() {
    let dir = Temp::new("tls-bad");
    let (cert, _key) = make_cert(dir.path(), "one");
    let (_cert2, key2) = make_cert(dir.path(), "two");
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let c = cert.to_str().unwrap();
    let base = ["--campus", "tiny", "--data", d, "--listen", "127.0.0.1:0"];
    let run = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        must_fail(&args)
    };

    // The key of another certificate.
    let k2 = key2.to_str().unwrap();
    let (st, err) = run(&["--tls-cert", c, "--tls-key", k2]);
    assert!(!st.success(), "{err}");
    assert!(
        err.contains(k2) && err.contains("do not match"),
        "names neither the key nor the mismatch: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    // A key file that is not there.
    let missing = dir.path().join("missing.key");
    let m = missing.to_str().unwrap();
    let (st, err) = run(&["--tls-cert", c, "--tls-key", m]);
    assert!(!st.success(), "{err}");
    assert!(
        err.contains(&format!("--tls-key {m}")) && err.contains("cannot read"),
        "{err}"
    );

    // A certificate file that is not there.
    let missing = dir.path().join("missing.crt");
    let m = missing.to_str().unwrap();
    let (st, err) = run(&["--tls-cert", m, "--tls-key", k2]);
    assert!(!st.success(), "{err}");
    assert!(err.contains(&format!("--tls-cert {m}")), "{err}");

    // A certificate file holding a key.
    let (st, err) = run(&["--tls-cert", k2, "--tls-key", k2]);
    assert!(!st.success(), "{err}");
    assert!(
        err.contains(&format!("--tls-cert {k2}")) && err.contains("no PEM certificate"),
        "{err}"
    );

    // Nothing was opened for any of them.
    assert!(!data.exists(), "the store was created");
}

#[test]
fn plain_http_off_loopback_needs_insecure() {
    let dir = Temp::new("tls-plain");
    let data = dir.path().join("data");
    let listen = format!("0.0.0.0:{}", free_port());
    let (st, err) = must_fail(&[
        "--campus",
        "tiny",
        "--data",
        data.to_str().unwrap(),
        "--listen",
        &listen,
    ]);
    assert!(!st.success(), "{err}");
    assert!(
        err.contains(&listen)
            && err.contains("--tls-cert")
            && err.contains("--tls-key")
            && err.contains("--insecure"),
        "{err}"
    );
    assert!(!data.exists(), "the store was created");
}

#[test]
fn a_slow_client_is_cut_off_after_the_header_timeout() {
    let dir = Temp::new("tls-slow");
    let s = Srv::start(dir.path(), &["--header-timeout", "1s"], None);

    // Half a request line, then nothing.
    let mut t = s.connect();
    let started = Instant::now();
    t.write_all(b"GET /healthz HT").unwrap();
    let (got, _) = read_to_close(&mut t);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(6),
        "closed after {took:?}"
    );
    assert!(!got.contains("200 OK"), "{got}");

    // An idle keep-alive connection is closed on the same clock.
    let mut t = s.connect();
    t.write_all(HEALTHZ).unwrap();
    let r = read_response(&mut t);
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    let (rest, took) = read_to_close(&mut t);
    assert!(rest.is_empty(), "{rest}");
    assert!(took < Duration::from_secs(6), "closed after {took:?}");
}

#[test]
fn connections_beyond_the_bound_are_closed_at_once() {
    let dir = Temp::new("tls-max");
    let s = Srv::start(
        dir.path(),
        &["--max-connections", "2", "--header-timeout", "60s"],
        None,
    );
    // Two connections, each answered once and kept alive. The readiness
    // probe's connection may not be counted out yet: retry a little.
    let answered = |s: &Srv| {
        for _ in 0..200 {
            let mut t = s.connect();
            if t.write_all(HEALTHZ).is_ok() && read_response(&mut t).starts_with("HTTP/1.1 200") {
                return t;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no connection answered in 200 tries");
    };
    let first = answered(&s);
    let _second = answered(&s);

    // A third is closed without an answer, long before the header timeout.
    let mut third = s.connect();
    let _ = third.write_all(HEALTHZ);
    let (got, took) = read_to_close(&mut third);
    assert!(got.is_empty(), "{got}");
    assert!(took < Duration::from_secs(10), "closed after {took:?}");

    // Once one closes, there is room again.
    drop(first);
    let mut again = answered(&s);
    again.write_all(HEALTHZ).unwrap();
    assert!(read_response(&mut again).starts_with("HTTP/1.1 200"));
}

#[test]
fn a_request_in_flight_at_shutdown_is_answered() {
    let dir = Temp::new("tls-stop");
    let mut s = Srv::start(dir.path(), &["--header-timeout", "30s"], None);
    // A request half sent when the server is told to stop...
    let mut t = s.connect();
    t.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(s.child.id().to_string())
        .status()
        .expect("run kill");
    assert!(killed.success());
    std::thread::sleep(Duration::from_millis(300));
    // ...no new connection is taken...
    assert!(
        TcpStream::connect(("127.0.0.1", s.port)).is_err(),
        "still accepting after SIGTERM"
    );
    // ...and once finished it is answered, and the connection closed.
    t.write_all(b"\r\n").unwrap();
    let r = read_response(&mut t);
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(r.to_ascii_lowercase().contains("connection: close"), "{r}");
    let (rest, _) = read_to_close(&mut t);
    assert!(rest.is_empty(), "{rest}");
    // Then the server exits cleanly.
    let st = s
        .wait_exit(Duration::from_secs(60))
        .expect("exit after SIGTERM");
    assert!(st.success(), "{st}: {}", s.stderr());
}
