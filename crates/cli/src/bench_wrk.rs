//! wrk (Debian's `wrk`, an event-loop HTTP load generator in C) as the load
//! of `abilene bench api`: two of its threads cost a fraction of what one
//! OS thread per client does, so on two cores the server, not the client,
//! sets the figure.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// One load's figures, as wrk reports them.
#[derive(Debug, Clone, PartialEq)]
pub struct WrkFigures {
    pub rate: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub requests: u64,
    /// Answers that were not 2xx or 3xx, plus socket errors.
    pub failed: u64,
    pub wall: Duration,
}

/// A Lua script that POSTs `body` to `path` with `authorization` (the
/// whole header value, `Bearer <token>`), each request with its own
/// Idempotency-Key (`run`, wrk's thread and a counter make it unique).
pub fn submit_script(
    dir: &Path,
    run: u64,
    path: &str,
    body: &str,
    authorization: &str,
) -> Result<std::path::PathBuf> {
    // The value goes into a Lua string literal as it is.
    if !authorization
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
    {
        bail!("an Authorization value wrk's script cannot quote");
    }
    let file = dir.join(format!("wrk-submit-{run}.lua"));
    let lua = format!(
        r#"local counter = 0
local tid = 0
setup = function(thread)
  tid = tid + 1
  thread:set("tid", tid)
end
request = function()
  counter = counter + 1
  local headers = {{}}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "{authorization}"
  headers["Idempotency-Key"] = "wrk-{run}-" .. tid .. "-" .. counter
  return wrk.format("POST", "{path}", headers, '{body}')
end
"#
    );
    std::fs::write(&file, lua).with_context(|| format!("write {}", file.display()))?;
    Ok(file)
}

/// Whether `wrk` runs here.
pub fn available() -> bool {
    Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok_and(|o| !o.stdout.is_empty() || !o.stderr.is_empty())
}

/// Runs wrk against `url` with `clients` connections for `secs`, each
/// request with `Authorization: <authorization>` (a script's requests
/// set it themselves: wrk.format with headers of its own drops `-H`'s).
pub fn run(
    url: &str,
    clients: usize,
    secs: u64,
    script: Option<&Path>,
    authorization: &str,
) -> Result<WrkFigures> {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{clients}"),
        &format!("-d{secs}s"),
        "--timeout",
        "10s",
        "--latency",
        "-H",
        &format!("Authorization: {authorization}"),
    ]);
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    cmd.arg(url);
    let out = cmd.output().context("run wrk (Debian package `wrk`)")?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        bail!(
            "wrk failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    parse(&text).with_context(|| format!("read wrk's report:\n{text}"))
}

fn duration(s: &str) -> Option<Duration> {
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "us" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

/// Reads wrk's `--latency` report.
pub fn parse(text: &str) -> Result<WrkFigures> {
    let mut f = WrkFigures {
        rate: 0.0,
        p50: Duration::ZERO,
        p99: Duration::ZERO,
        max: Duration::ZERO,
        requests: 0,
        failed: 0,
        wall: Duration::ZERO,
    };
    let mut seen_rate = false;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Latency", _avg, _stdev, max, ..] => {
                f.max = duration(max).context("Latency max")?;
            }
            ["50%", v] => f.p50 = duration(v).context("50%")?,
            ["99%", v] => f.p99 = duration(v).context("99%")?,
            [n, "requests", "in", wall, ..] => {
                f.requests = n.parse().context("requests")?;
                f.wall = duration(wall.trim_end_matches(',')).context("wall")?;
            }
            ["Non-2xx", "or", "3xx", "responses:", n] => f.failed += n.parse::<u64>()?,
            ["Socket", "errors:", rest @ ..] => {
                for w in rest.iter().map(|w| w.trim_end_matches(',')) {
                    if let Ok(n) = w.parse::<u64>() {
                        f.failed += n;
                    }
                }
            }
            ["Requests/sec:", r] => {
                f.rate = r.parse().context("Requests/sec")?;
                seen_rate = true;
            }
            _ => {}
        }
    }
    if !seen_rate || f.requests == 0 {
        bail!("no requests reported");
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_wrk_report() {
        let report = "Running 10s test @ http://127.0.0.1:7485/v1/jobs
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.87ms    2.77ms  53.32ms   75.92%
    Req/Sec     6.60k     2.14k   13.33k    72.50%
  Latency Distribution
     50%    4.33ms
     75%    6.17ms
     90%    8.12ms
     99%   14.20ms
  131972 requests in 10.06s, 51.96MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:  13121.80
Transfer/sec:      5.17MB
";
        let f = parse(report).unwrap();
        assert_eq!(f.requests, 131_972);
        assert_eq!(f.failed, 8);
        assert!((f.rate - 13_121.8).abs() < 1e-6);
        assert_eq!(f.p99, Duration::from_micros(14_200));
        assert_eq!(f.max, Duration::from_micros(53_320));
        assert_eq!(f.wall, Duration::from_millis(10_060));
        assert!(parse("nothing").is_err());
    }
}
