//! `abilene serve` over HTTP and through the CLI client: bad input gets a
//! 4xx with a stable code (and the field it is about), and the ordinary
//! paths work: submit, list with filters and paging, show, cancel, tray
//! operations, the event stream and its resumption, readiness, the demo.
//!
//! Each test runs its own server on the tiny campus, on a free port, with
//! its own data folder. Nothing here asserts on timing.

mod common;

use std::collections::HashSet;
use std::io::BufRead;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{API_JOB_BASE, Server, Temp, bin, get, json, list_all, post, send};
use serde_json::Value;

/// Speed 1: a job of an hour stays live for the whole test.
const ARGS: &[&str] = &["--campus", "tiny", "--speed", "1"];
const TRAY: &str = "B1/H1/R0001/T01";
const JOB: &str = r#"{"project":"research","gpus":8,"runtime_s":3600}"#;

fn server(name: &str) -> (Temp, Server) {
    let data = Temp::new(name);
    let s = Server::start(&data.path().join("data"), ARGS);
    (data, s)
}

/// A 4xx with this status, code and (if given) field; returns the body.
#[track_caller]
fn refused(answer: (u16, Value), status: u16, code: &str, field: Option<&str>) -> Value {
    let (st, v) = answer;
    assert_eq!(st, status, "expected {status} {code}, got: {v}");
    assert_eq!(v["code"], code, "{v}");
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "no message: {v}"
    );
    if let Some(f) = field {
        assert_eq!(v["field"], f, "{v}");
    }
    v
}

fn raw(
    a: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, Value) {
    let (st, t) = send(a, method, url, headers, body).unwrap_or_else(|e| panic!("{url}: {e}"));
    (st, json(&t))
}

const JSON: (&str, &str) = ("Content-Type", "application/json");

#[test]
fn bad_input_gets_a_4xx_with_a_stable_code() {
    let (_d, s) = server("bad");
    let a = s.agent();
    let jobs = s.url("/v1/jobs");

    refused(
        post(&a, &jobs, r#"{"project":"#, None),
        400,
        "bad_json",
        None,
    );
    refused(post(&a, &jobs, "not json", None), 400, "bad_json", None);
    refused(
        post(&a, &jobs, r#"{"project":"research",}"#, None),
        400,
        "bad_json",
        None,
    );
    refused(
        post(
            &a,
            &jobs,
            r#"{"project":"research","gpus":"eight","runtime_s":3600}"#,
            None,
        ),
        400,
        "bad_field",
        Some("gpus"),
    );
    refused(
        post(
            &a,
            &jobs,
            r#"{"project":"research","gpus":8,"runtime_s":-1}"#,
            None,
        ),
        400,
        "bad_field",
        Some("runtime_s"),
    );
    refused(
        post(
            &a,
            &jobs,
            r#"{"project":"research","runtime_s":3600}"#,
            None,
        ),
        400,
        "bad_field",
        Some("gpus"),
    );
    let v = refused(
        post(
            &a,
            &jobs,
            r#"{"project":"research","gpus":8,"runtime_s":3600,"colour":"red"}"#,
            None,
        ),
        400,
        "bad_field",
        Some("colour"),
    );
    assert!(v["message"].as_str().unwrap().contains("colour"), "{v}");
    // Without a content type, or with another.
    refused(
        raw(&a, "POST", &jobs, &[], Some(JOB)),
        415,
        "bad_content_type",
        Some("Content-Type"),
    );
    refused(
        raw(
            &a,
            "POST",
            &jobs,
            &[("Content-Type", "text/plain")],
            Some(JOB),
        ),
        415,
        "bad_content_type",
        Some("Content-Type"),
    );
    // Over the 256 KiB limit.
    let big = format!(
        r#"{{"project":"research","gpus":8,"runtime_s":3600,"sku":"{}"}}"#,
        "x".repeat(300 * 1024)
    );
    refused(
        post(&a, &jobs, &big, None),
        413,
        "body_too_large",
        Some("body"),
    );
    // Out of range.
    refused(
        post(
            &a,
            &jobs,
            r#"{"project":"research","gpus":8,"runtime_s":0}"#,
            None,
        ),
        400,
        "bad_value",
        Some("runtime_s"),
    );
    refused(
        get(&a, &s.url("/v1/jobs?limit=0")),
        400,
        "bad_value",
        Some("limit"),
    );
    refused(
        get(&a, &s.url("/v1/jobs?limit=5000")),
        400,
        "bad_value",
        Some("limit"),
    );
    refused(
        get(&a, &s.url("/v1/jobs?limit=many")),
        400,
        "bad_query",
        None,
    );
    refused(
        get(&a, &s.url("/v1/jobs?colour=red")),
        400,
        "bad_query",
        None,
    );
    refused(
        get(&a, &s.url("/v1/jobs?state=asleep")),
        400,
        "bad_query",
        None,
    );
    let (st, v) = post(
        &a,
        &jobs,
        r#"{"project":"research","gpus":1000000,"runtime_s":3600}"#,
        None,
    );
    assert_eq!(st, 422, "{v}");
    assert!(
        v["code"] == "shape_impossible" || v["code"] == "over_quota",
        "{v}"
    );
    // Unknown things.
    refused(
        get(&a, &s.url("/v1/jobs/12345")),
        404,
        "unknown_job",
        Some("id"),
    );
    refused(get(&a, &s.url("/v1/jobs/abc")), 400, "bad_path", None);
    refused(
        raw(&a, "POST", &s.url("/v1/jobs/abc/cancel"), &[], None),
        400,
        "bad_path",
        None,
    );
    refused(
        post(&a, &s.url("/v1/jobs/12345/cancel"), "{}", None),
        404,
        "unknown_job",
        None,
    );
    refused(
        post(
            &a,
            &s.url("/v1/trays/B9/H1/R0001/T01/drain"),
            r#"{"reason":"x"}"#,
            None,
        ),
        404,
        "unknown_name",
        None,
    );
    refused(
        post(&a, &s.url("/v1/trays/B1/H1/R0001/T99/resume"), "{}", None),
        404,
        "unknown_name",
        None,
    );
    refused(
        post(
            &a,
            &s.url("/v1/racks/B1/H1/R9999/drain"),
            r#"{"reason":"x"}"#,
            None,
        ),
        404,
        "unknown_name",
        None,
    );
    refused(
        get(&a, &s.url("/v1/tenants/nobody")),
        404,
        "unknown_tenant",
        None,
    );
    refused(
        get(&a, &s.url("/v1/jobs?tenant=nobody")),
        404,
        "unknown_tenant",
        Some("tenant"),
    );
    refused(
        post(
            &a,
            &jobs,
            r#"{"project":"nobody","gpus":8,"runtime_s":3600}"#,
            None,
        ),
        404,
        "unknown_tenant",
        None,
    );
    refused(get(&a, &s.url("/v1/nothing")), 404, "not_found", None);
    refused(get(&a, &s.url("/nothing")), 404, "not_found", None);
    refused(
        raw(&a, "DELETE", &jobs, &[], None),
        405,
        "method_not_allowed",
        None,
    );
    refused(
        raw(&a, "PUT", &s.url("/readyz"), &[JSON], Some("{}")),
        405,
        "method_not_allowed",
        None,
    );
    // A bad idempotency key.
    let long = "k".repeat(256);
    refused(
        raw(
            &a,
            "POST",
            &jobs,
            &[JSON, ("Idempotency-Key", &long)],
            Some(JOB),
        ),
        400,
        "bad_idempotency_key",
        Some("Idempotency-Key"),
    );
    // Nothing refused became a job.
    let (live, finished) = list_all(&a, &s, "");
    assert!(
        live.is_empty() && finished.is_empty(),
        "{live:?} {finished:?}"
    );
}

#[test]
fn an_idempotency_key_acts_once_and_refuses_another_request() {
    let (_d, s) = server("idem");
    let a = s.agent();
    let jobs = s.url("/v1/jobs");
    let h = [JSON, ("Idempotency-Key", "idem-1")];
    let first = send(&a, "POST", &jobs, &h, Some(JOB)).unwrap();
    assert_eq!(first.0, 201, "{}", first.1);
    for _ in 0..3 {
        let again = send(&a, "POST", &jobs, &h, Some(JOB)).unwrap();
        assert_eq!(again, first, "a retried key gets the very same reply");
    }
    let other = r#"{"project":"research","gpus":16,"runtime_s":3600}"#;
    refused(
        raw(&a, "POST", &jobs, &h, Some(other)),
        422,
        "idempotency_key_reused",
        Some("Idempotency-Key"),
    );
    // The same key on another route is another request too.
    refused(
        raw(
            &a,
            "POST",
            &s.url(&format!("/v1/trays/{TRAY}/drain")),
            &h,
            Some(r#"{"reason":"x"}"#),
        ),
        422,
        "idempotency_key_reused",
        None,
    );
    // A refusal is kept for its key like a success.
    let hb = [JSON, ("Idempotency-Key", "idem-2")];
    let bad = r#"{"project":"research","gpus":1000000,"runtime_s":3600}"#;
    let r1 = send(&a, "POST", &jobs, &hb, Some(bad)).unwrap();
    assert_eq!(r1.0, 422, "{}", r1.1);
    assert_eq!(send(&a, "POST", &jobs, &hb, Some(bad)).unwrap(), r1);
    // One job came of it all.
    let (live, _) = list_all(&a, &s, "");
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(live[0]["id"], json(&first.1)["id"]);
}

fn submit(a: &ureq::Agent, s: &Server, project: &str, gpus: u32) -> u64 {
    let body = format!(r#"{{"project":"{project}","gpus":{gpus},"runtime_s":3600}}"#);
    let (st, v) = post(a, &s.url("/v1/jobs"), &body, None);
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["project"], project);
    assert_eq!(v["gpus"], gpus);
    let id = v["id"].as_u64().unwrap();
    assert!(id > API_JOB_BASE, "{id}");
    id
}

/// Every page of `/v1/jobs?QUERY` with `limit`, checked for no repeats
/// and ids in order; the pages walked too.
fn pages(a: &ureq::Agent, s: &Server, query: &str, limit: usize) -> (Vec<Value>, usize) {
    let mut out: Vec<Value> = Vec::new();
    let mut after: Option<u64> = None;
    for n in 1..=1_000 {
        let mut q = format!("/v1/jobs?limit={limit}{query}");
        if let Some(x) = after {
            q.push_str(&format!("&after={x}"));
        }
        let (st, page) = get(a, &s.url(&q));
        assert_eq!(st, 200, "{q}: {page}");
        let jobs = page["jobs"].as_array().unwrap();
        assert!(jobs.len() <= limit, "{q}: {} jobs", jobs.len());
        out.extend(jobs.iter().cloned());
        match page.get("next").and_then(Value::as_u64) {
            Some(x) => {
                assert_eq!(
                    jobs.len(),
                    limit,
                    "{q}: a page short of the limit has a next"
                );
                assert_eq!(Some(x), jobs.last().and_then(|j| j["id"].as_u64()));
                after = Some(x)
            }
            None => return (out, n),
        }
    }
    panic!("more than 1,000 pages");
}

#[test]
fn jobs_submit_list_page_show_and_cancel() {
    let (_d, s) = server("jobs");
    let a = s.agent();
    let mut ids = Vec::new();
    let projects = ["research", "inference", "frontier", "b-train"];
    for i in 0..23 {
        ids.push(submit(&a, &s, projects[i % 4], [1, 4, 8][i % 3]));
    }
    // All of them, in pages of 5: every id once, in order, none missing.
    let (all, n) = pages(&a, &s, "", 5);
    assert_eq!(n, 5, "23 jobs in pages of 5");
    let got: Vec<u64> = all.iter().map(|j| j["id"].as_u64().unwrap()).collect();
    assert_eq!(got, ids, "pages hold every job once, in id order");
    // Filters: a project, a subtree, a kind, a state.
    let (research, _) = pages(&a, &s, "&tenant=research", 2);
    assert_eq!(research.len(), 6);
    assert!(research.iter().all(|j| j["project"] == "research"));
    let (openai, _) = pages(&a, &s, "&tenant=openai", 4);
    assert_eq!(
        openai.len(),
        18,
        "research, inference and frontier are under openai"
    );
    assert!(openai.iter().all(|j| j["project"] != "b-train"));
    let (b, _) = pages(&a, &s, "&tenant=tenant-b", 100);
    assert_eq!(b.len(), 5);
    let (training, _) = pages(&a, &s, "&kind=training", 7);
    assert_eq!(training.len(), 23);
    let (services, _) = pages(&a, &s, "&kind=service", 7);
    assert!(services.is_empty());
    let (running, _) = pages(&a, &s, "&state=running", 3);
    let (pending, _) = pages(&a, &s, "&state=pending", 3);
    assert!(running.iter().all(|j| j["state"] == "running"));
    assert!(pending.iter().all(|j| j["state"] == "pending"));
    let mut split: Vec<u64> = running
        .iter()
        .chain(&pending)
        .map(|j| j["id"].as_u64().unwrap())
        .collect();
    split.sort();
    assert_eq!(split, ids, "every live job is running or pending");
    // After the last id, nothing.
    let (st, v) = get(&a, &s.url(&format!("/v1/jobs?after={}", ids[22])));
    assert_eq!(st, 200);
    assert_eq!(v["jobs"], serde_json::json!([]));
    assert!(v.get("next").is_none(), "{v}");

    // Show.
    let (st, v) = get(&a, &s.url(&format!("/v1/jobs/{}", ids[3])));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["id"], ids[3]);
    assert_eq!(v["project"], "b-train");
    assert!(v["state"] == "running" || v["state"] == "pending", "{v}");
    assert!(v["history"].is_object(), "{v}");

    // Cancel two; they are finished and cancelled, and listed so.
    for id in [ids[3], ids[10]] {
        let (st, v) = post(&a, &s.url(&format!("/v1/jobs/{id}/cancel")), "{}", None);
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["id"], id);
        assert_eq!(v["outcome"], "cancelled", "{v}");
        let (st, v) = get(&a, &s.url(&format!("/v1/jobs/{id}")));
        assert_eq!(st, 200);
        assert_eq!(v["state"], "finished", "{v}");
        assert_eq!(v["outcome"], "cancelled", "{v}");
        // A finished job cannot be cancelled again.
        let (st, v) = post(&a, &s.url(&format!("/v1/jobs/{id}/cancel")), "{}", None);
        assert_eq!(st, 404, "{v}");
    }
    let (done, n) = pages(&a, &s, "&state=finished", 1);
    assert_eq!(n, 2);
    let done: Vec<u64> = done.iter().map(|j| j["id"].as_u64().unwrap()).collect();
    assert_eq!(done, vec![ids[3], ids[10]]);
    let (done_b, _) = pages(&a, &s, "&state=finished&tenant=tenant-b", 10);
    assert_eq!(done_b.len(), 1);
    let (live, finished) = list_all(&a, &s, "");
    assert_eq!((live.len(), finished.len()), (21, 2));
    let seen: HashSet<u64> = live
        .iter()
        .chain(&finished)
        .map(|j| j["id"].as_u64().unwrap())
        .collect();
    assert_eq!(seen, ids.iter().copied().collect::<HashSet<_>>());
}

#[test]
fn trays_drain_and_resume_by_the_api_and_the_cli() {
    let (_d, s) = server("trays");
    let a = s.agent();
    let (st, v) = get(&a, &s.url(&format!("/v1/trays/{TRAY}")));
    assert_eq!(st, 200, "{v}");
    let (st, v) = post(
        &a,
        &s.url(&format!("/v1/trays/{TRAY}/drain")),
        r#"{"reason":"swap a NIC"}"#,
        None,
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["command"], "drain", "{v}");
    assert!(v["seq"].as_u64().is_some(), "{v}");
    // A drain needs its reason, in a body or an empty one.
    refused(
        post(&a, &s.url(&format!("/v1/trays/{TRAY}/drain")), "{}", None),
        400,
        "bad_field",
        Some("reason"),
    );
    refused(
        raw(
            &a,
            "POST",
            &s.url(&format!("/v1/trays/{TRAY}/drain")),
            &[],
            None,
        ),
        400,
        "bad_field",
        Some("reason"),
    );
    let (st, v) = post(&a, &s.url(&format!("/v1/trays/{TRAY}/resume")), "{}", None);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["command"], "resume", "{v}");
    // Resume takes an empty body as well.
    let (st, v) = raw(
        &a,
        "POST",
        &s.url(&format!("/v1/trays/{TRAY}/resume")),
        &[],
        None,
    );
    assert_eq!(st, 200, "{v}");
    let (st, v) = post(
        &a,
        &s.url("/v1/racks/B1/H1/R0001/drain"),
        r#"{"reason":"rack work"}"#,
        None,
    );
    assert_eq!(st, 200, "{v}");
    let (st, v) = post(&a, &s.url("/v1/racks/B1/H1/R0001/resume"), "{}", None);
    assert_eq!(st, 200, "{v}");

    // The same through the CLI client.
    let cli = |args: &[&str]| {
        bin()
            .env("ABILENE_TOKEN", &s.token)
            .args(args)
            .args(["--server", &s.base])
            .output()
            .expect("abilene runs")
    };
    let out = cli(&["tray", "drain", TRAY, "--reason", "x"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("drain done"),
        "{out:?}"
    );
    let out = cli(&["tray", "resume", TRAY]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = cli(&["tray", "drain", "B9/H1/R0001/T01", "--reason", "x"]);
    assert_eq!(out.status.code(), Some(3), "an unknown tray: {out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown_name"),
        "{out:?}"
    );
    let out = cli(&["rack", "drain", "B1/H1/R0001", "--reason", "x"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = cli(&["rack", "resume", "B1/H1/R0001"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = cli(&["tray", "drain", TRAY]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "no --reason is a usage error: {out:?}"
    );
}

#[test]
fn the_cli_client_prints_json_and_exits_by_the_answer() {
    let (_d, s) = server("cli");
    let run = |args: &[&str]| {
        bin()
            .env("ABILENE_TOKEN", &s.token)
            .args(args)
            .env("ABILENE_SERVER", &s.base)
            .output()
            .expect("abilene runs")
    };
    let out = run(&[
        "job",
        "submit",
        "--project",
        "research",
        "--gpus",
        "8",
        "--runtime",
        "3600",
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("--output json is JSON");
    let id = v["id"].as_u64().expect("an id");
    assert!(id > API_JOB_BASE);
    assert_eq!(v["project"], "research");

    let out = run(&["job", "show", &id.to_string(), "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["id"], id);
    let out = run(&["job", "list", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["jobs"][0]["id"], id);
    let out = run(&["tenant", "list", "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["name"], "crusoe", "{v}");

    // 404: 3. Another 4xx: 4. Usage: 2. No server: 1.
    let out = run(&["job", "show", "12345"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let out = run(&["tenant", "show", "nobody"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let out = run(&[
        "job",
        "submit",
        "--project",
        "research",
        "--gpus",
        "8",
        "--runtime",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(4), "runtime 0: {out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad_value"),
        "{out:?}"
    );
    let out = run(&["job", "show", "abc"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = run(&["job", "cancel", &id.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = run(&["job", "cancel", &id.to_string()]);
    assert_eq!(out.status.code(), Some(3), "cancelled already: {out:?}");
    let nobody = format!("http://127.0.0.1:{}", common::free_port());
    let out = bin()
        .env("ABILENE_TOKEN", &s.token)
        .args(["job", "show", "1", "--server", &nobody])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

/// One event of an SSE stream: (id, kind, data); None at its end.
fn next_event(r: &mut impl BufRead) -> Option<(String, String, String)> {
    let (mut id, mut kind, mut data) = (String::new(), String::new(), String::new());
    let mut line = String::new();
    for _ in 0..10_000 {
        line.clear();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let l = line.trim_end_matches(['\n', '\r']);
        if l.is_empty() {
            if !data.is_empty() || !kind.is_empty() {
                return Some((id, kind, data));
            }
            continue;
        }
        if let Some(v) = l.strip_prefix("id:") {
            id = v.trim().to_string();
        } else if let Some(v) = l.strip_prefix("event:") {
            kind = v.trim().to_string();
        } else if let Some(v) = l.strip_prefix("data:") {
            data.push_str(v.trim_start());
        }
    }
    panic!("an event of more than 10,000 lines");
}

fn stream(s: &Server, last_event_id: &str) -> impl BufRead {
    // A stalled stream fails the test instead of hanging it.
    let a: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let resp = a
        .get(&s.url("/v1/events"))
        .header("Authorization", format!("Bearer {}", s.token))
        .header("Last-Event-ID", last_event_id)
        .call()
        .expect("the stream opens");
    assert_eq!(resp.status().as_u16(), 200);
    std::io::BufReader::new(resp.into_body().into_reader())
}

fn seq_index(id: &str) -> (u64, u32) {
    let (a, b) = id
        .split_once('-')
        .unwrap_or_else(|| panic!("event id {id}"));
    (a.parse().unwrap(), b.parse().unwrap())
}

#[test]
fn events_stream_and_resume_after_the_last_event_id() {
    let (_d, s) = server("events");
    let a = s.agent();
    // `abilene events --count 2` from now: prints two events once some
    // happen. Drains and resumes make them, until it has its two.
    let child = bin()
        .env("ABILENE_TOKEN", &s.token)
        .args(["events", "--count", "2", "--server", &s.base])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let waiter = std::thread::spawn(move || child.wait_with_output());
    let started = Instant::now();
    for i in 0..600 {
        if waiter.is_finished() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "abilene events (pid {pid}) printed no two events"
        );
        let (op, body) = if i % 2 == 0 {
            ("drain", r#"{"reason":"events test"}"#)
        } else {
            ("resume", "{}")
        };
        let (st, v) = post(&a, &s.url(&format!("/v1/trays/{TRAY}/{op}")), body, None);
        assert_eq!(st, 200, "{v}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = waiter.join().unwrap().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    for l in &lines {
        let id = l.split_whitespace().next().unwrap();
        seq_index(id);
    }

    // Make a few known events, then read the whole kept history.
    for _ in 0..3 {
        post(
            &a,
            &s.url(&format!("/v1/trays/{TRAY}/drain")),
            r#"{"reason":"x"}"#,
            None,
        );
        post(&a, &s.url(&format!("/v1/trays/{TRAY}/resume")), "{}", None);
    }
    let mut r = stream(&s, "0-0");
    let mut seen = Vec::new();
    for _ in 0..8 {
        let e = next_event(&mut r).expect("an event");
        seen.push(e);
    }
    drop(r);
    for w in seen.windows(2) {
        assert!(
            seq_index(&w[0].0) < seq_index(&w[1].0),
            "ids increase: {} then {}",
            w[0].0,
            w[1].0
        );
    }
    let kinds: Vec<&str> = seen.iter().map(|e| e.1.as_str()).collect();
    assert!(
        kinds.contains(&"drained") && kinds.contains(&"resumed"),
        "{kinds:?}"
    );
    for (id, _, data) in &seen {
        let v = json(data);
        assert_eq!(v["id"], id.as_str(), "{data}");
    }
    // Resume after the third: the fourth on, the same events, no gap.
    for from in [2usize, 5] {
        let mut r = stream(&s, &seen[from].0);
        for want in &seen[from + 1..] {
            let got = next_event(&mut r).expect("an event");
            assert_eq!(&got, want, "after {}", seen[from].0);
        }
    }
    refused(
        raw(
            &a,
            "GET",
            &s.url("/v1/events"),
            &[("Last-Event-ID", "yesterday")],
            None,
        ),
        400,
        "bad_event_id",
        Some("Last-Event-ID"),
    );
}

#[test]
fn readiness_health_and_the_openapi_document() {
    let (_d, s) = server("ready");
    let a = s.agent();
    let (st, v) = get(&a, &s.url("/readyz"));
    assert_eq!((st, v["status"].as_str()), (200, Some("ready")));
    let (st, v) = get(&a, &s.url("/healthz"));
    assert_eq!((st, v["status"].as_str()), (200, Some("ok")));
    let (st, v) = get(&a, &s.url("/v1/openapi.json"));
    assert_eq!(st, 200);
    for p in ["/v1/jobs", "/v1/jobs/{id}", "/v1/events", "/v1/tenants"] {
        assert!(v["paths"].get(p).is_some(), "{p} not in the document");
    }
    let (st, v) = get(&a, &s.url("/v1/campus"));
    assert_eq!(st, 200, "{v}");
}

#[test]
fn the_demo_answers_while_up_and_stops_by_itself() {
    let data = Temp::new("demo");
    let args: Vec<String> = ["demo", "--for", "5s", "--data"]
        .iter()
        .map(|s| s.to_string())
        .chain([data.path().join("data").display().to_string()])
        .collect();
    // Server::spawn returns once /readyz answered 200.
    let mut s = Server::spawn(&args, &data.path().join("demo"));
    let status = s
        .wait_exit(Duration::from_secs(300))
        .expect("the demo stops by itself after --for 5s");
    assert!(status.success(), "{status}: {}", s.stderr());
    assert!(s.stderr().contains("stopped cleanly"), "{}", s.stderr());
}
