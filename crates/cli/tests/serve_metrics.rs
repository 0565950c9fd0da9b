//! `/metrics` and the per-rack dcgm-exporter endpoints, checked by the real
//! Prometheus tools: `promtool check metrics` lints both, and a Prometheus
//! server, started here on a free loopback port, scrapes a running server
//! through its file service-discovery document; PromQL then finds the
//! campus's GPU count and a failed GPU's XID.
//!
//! Prometheus and promtool come from Debian's `prometheus` package, which
//! `.ci/run` installs. Without them the tests say SKIP and pass, except
//! under CI (`CI` set), where a missing tool is a failure.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, Temp, free_port, send};
use serde_json::Value;

/// A tool from the `prometheus` package, or None (after saying why) when
/// it is missing outside CI.
fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "`{name}` is not installed: CI must install Debian's `prometheus` package (.ci/run does)"
        );
        eprintln!("SKIP: `{name}` is not installed (apt-get install prometheus); not under CI");
    }
    found
}

fn promtool_check(promtool: &Path, what: &str, text: &str) {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start promtool");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("promtool ran");
    assert!(
        out.status.success(),
        "promtool check metrics on {what}: {}\n{}\n--- first lines:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        text.lines().take(20).collect::<Vec<_>>().join("\n")
    );
}

fn get(s: &Server, path: &str) -> (u16, String) {
    send(&s.agent(), "GET", &s.url(path), &[], None).expect("the server answers")
}

/// The small scenario (the tiny campus, failures at 20x) at 20,000 campus
/// seconds a wall second: its week in about 30 s, with dozens of failures.
fn start_small(data: &Temp) -> Server {
    Server::start(
        &data.path().join("data"),
        &["--workload", "scenarios/small.toml", "--speed", "20000"],
    )
}

#[test]
fn promtool_passes_the_server_metrics_and_a_rack_endpoint() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let data = Temp::new("metrics-lint");
    let s = start_small(&data);
    // A few campus hours: the plant has reported, jobs run, trays fail.
    std::thread::sleep(Duration::from_secs(2));
    let (status, text) = get(&s, "/metrics");
    assert_eq!(status, 200, "{text}");
    for name in [
        "abilene_campus_gpus 992",
        "abilene_http_request_duration_seconds_bucket",
        "abilene_scheduler_pass_duration_seconds_count",
        "abilene_log_commit_duration_seconds_count",
        "abilene_gpus{building=\"B1\",state=\"busy\"}",
        "abilene_hall_it_power_watts{building=\"B1\",hall=\"B1/H1\"}",
        "abilene_pue_ratio",
        "abilene_grid_power_watts",
        "abilene_coolant_return_celsius",
        "abilene_cdu_load_ratio",
        "abilene_four_cp",
        "abilene_energy_price_dollars_per_joule",
        "abilene_jobs{state=\"running\"",
        "abilene_twin_speed_ratio 20000",
    ] {
        assert!(text.contains(name), "/metrics lacks `{name}`:\n{text}");
    }
    promtool_check(&promtool, "/metrics", &text);

    let (status, rack) = get(&s, "/fleet/racks/B1/H1/R0001/metrics");
    assert_eq!(status, 200, "{rack}");
    for name in [
        "DCGM_FI_DEV_GPU_TEMP",
        "DCGM_FI_DEV_POWER_USAGE",
        "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_XID_ERRORS",
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
    ] {
        // 18 trays of 4 GPUs: one series each.
        let n = rack
            .lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .count();
        assert_eq!(n, 72, "{name}: {n} series, not 72:\n{rack}");
    }
    assert!(rack.contains("Hostname=\"b1-h1-r0001-t01\""), "{rack}");
    assert!(rack.contains("model_name=\"NVIDIA B200\""), "{rack}");
    promtool_check(&promtool, "a rack endpoint", &rack);

    // Energy only grows.
    let energy = |text: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    std::thread::sleep(Duration::from_millis(500));
    let (_, again) = get(&s, "/fleet/racks/B1/H1/R0001/metrics");
    assert!(
        energy(&again) > energy(&rack),
        "{} then {}",
        energy(&rack),
        energy(&again)
    );

    // An unknown rack is a 404 that names it.
    let (status, body) = get(&s, "/fleet/racks/B1/H1/R9999/metrics");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("R9999"), "{body}");
    // A time past the documented int64 is refused (Schemathesis found it).
    let (status, body) = get(&s, "/v1/campus/plant?after=9223372036854775808");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"field\":\"after\""), "{body}");
    let (status, body) = get(&s, "/v1/campus/plant?after=0");
    assert_eq!(status, 200, "{body}");
}

/// Prometheus' HTTP API: the result vector of an instant query.
fn query(port: u16, promql: &str) -> Vec<Value> {
    let url = format!(
        "http://127.0.0.1:{port}/api/v1/query?query={}",
        promql
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            })
            .collect::<String>()
    );
    let (status, text) =
        send(&common::agent(), "GET", &url, &[], None).expect("prometheus answers");
    assert_eq!(status, 200, "{promql}: {text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_real_prometheus_scrapes_the_campus_through_file_sd() {
    let Some(prometheus) = tool("prometheus") else {
        return;
    };
    let data = Temp::new("metrics-prom");
    let s = start_small(&data);
    let dir = data.path().join("prometheus");
    std::fs::create_dir_all(&dir).unwrap();
    let (status, targets) = get(&s, "/fleet/targets");
    assert_eq!(status, 200, "{targets}");
    let groups: Value = serde_json::from_str(&targets).unwrap();
    assert_eq!(
        groups.as_array().unwrap().len(),
        16,
        "the tiny campus's racks"
    );
    std::fs::write(dir.join("racks.json"), &targets).unwrap();
    let token_file = dir.join("token");
    std::fs::write(&token_file, &s.token).unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         scrape_configs:\n\
         \x20 - job_name: abilene\n\
         \x20   authorization: {{ credentials_file: {token} }}\n\
         \x20   static_configs: [{{ targets: ['127.0.0.1:{port}'] }}]\n\
         \x20 - job_name: dcgm\n\
         \x20   authorization: {{ credentials_file: {token} }}\n\
         \x20   file_sd_configs: [{{ files: ['{sd}'], refresh_interval: 5s }}]\n",
        token = token_file.display(),
        port = s.port,
        sd = dir.join("racks.json").display(),
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let mut prom = None;
    let mut web = 0;
    for _ in 0..5 {
        web = free_port();
        let log = std::fs::File::create(dir.join(format!("prometheus-{web}.log"))).unwrap();
        let mut child = Command::new(&prometheus)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{web}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus");
        std::thread::sleep(Duration::from_millis(500));
        if child.try_wait().ok().flatten().is_none() {
            prom = Some(child);
            break;
        }
    }
    let mut prom = prom.expect("prometheus started on one of 5 ports");
    // Alive is not yet listening: on a busy 2-core CI machine Prometheus
    // took longer than the half second above to open its port. Wait (at
    // most 60 s) until it says it is ready.
    let ready_by = Instant::now() + Duration::from_secs(60);
    loop {
        let url = format!("http://127.0.0.1:{web}/-/ready");
        if let Ok((200, _)) = send(&common::agent(), "GET", &url, &[], None) {
            break;
        }
        if let Ok(Some(exit)) = prom.try_wait() {
            panic!("prometheus exited with {exit}; see {}", dir.display());
        }
        if Instant::now() >= ready_by {
            let _ = prom.kill();
            let _ = prom.wait();
            panic!("prometheus not ready within 60 s; see {}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Scrape for 30 s (about the scenario's whole week of campus time).
    let started = Instant::now();
    let up = loop {
        let up = query(web, "sum(up{job=\"dcgm\"})");
        let n = up
            .first()
            .and_then(|r| r["value"][1].as_str())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        if started.elapsed() >= Duration::from_secs(30) {
            break n;
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    let gpus = query(web, "abilene_campus_gpus");
    let xids = query(web, "max_over_time(DCGM_FI_DEV_XID_ERRORS[1m]) > 0");
    let power_of_failed = query(
        web,
        "min_over_time(DCGM_FI_DEV_POWER_USAGE[1m]) == 0 and on(UUID) max_over_time(DCGM_FI_DEV_XID_ERRORS[1m]) > 0",
    );
    let _ = prom.kill();
    let _ = prom.wait();
    assert_eq!(up, 16.0, "all 16 rack targets up");
    let count = gpus
        .first()
        .and_then(|r| r["value"][1].as_str())
        .unwrap_or("none");
    assert_eq!(
        count, "992",
        "the campus GPU count through Prometheus: {gpus:?}"
    );
    assert!(!xids.is_empty(), "no failed GPU's XID was scraped");
    for x in &xids {
        let code = x["value"][1].as_str().unwrap_or("");
        assert!(
            ["13", "48", "79", "95", "119"].contains(&code),
            "an XID the twin's causes leave: {x}"
        );
        assert!(x["metric"]["tray"].as_str().is_some(), "{x}");
    }
    assert!(
        !power_of_failed.is_empty(),
        "a failed GPU read 0 W at some scrape: {xids:?}"
    );
    eprintln!(
        "prometheus: {} GPUs reported an XID within 30 s; campus GPUs {count}",
        xids.len()
    );
}
