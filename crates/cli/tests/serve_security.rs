//! Tokens, the audit log and the limits, end to end through the real
//! binary: the first admin token, create / use / revoke / expire, secrets
//! kept nowhere, rate limits with Retry-After, and `admin audit verify`
//! naming the first record edited or deleted in the database.

mod common;

use std::time::Duration;

use common::{Server, Temp, agent, agent_with, bin, get, post};
use serde_json::Value;

const ARGS: &[&str] = &["--campus", "tiny", "--speed", "1"];

fn run(args: &[&str], token: &str, server: &str) -> std::process::Output {
    bin()
        .args(args)
        .env("ABILENE_TOKEN", token)
        .env("ABILENE_SERVER", server)
        .output()
        .expect("abilene runs")
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn tokens_are_made_used_revoked_and_expire_and_their_secrets_are_kept_nowhere() {
    let d = Temp::new("sec-tokens");
    let data = d.path().join("data");
    let s = Server::start(&data, ARGS);
    let admin = s.agent();

    // No token, a malformed one, a wrong secret: 401 with a stable code.
    let (st, v) = get(&agent(), &s.url("/v1/jobs"));
    assert_eq!(
        (st, v["code"].as_str()),
        (401, Some("unauthenticated")),
        "{v}"
    );
    let wrong = format!("{}0", &s.token[..s.token.len() - 1]);
    let wrong = if wrong == s.token {
        format!("{}1", &s.token[..s.token.len() - 1])
    } else {
        wrong
    };
    let (st, v) = get(&agent_with(&wrong), &s.url("/v1/jobs"));
    assert_eq!((st, v["code"].as_str()), (401, Some("bad_token")), "{v}");

    // A viewer of openai, made by the CLI.
    let out = run(
        &[
            "admin", "token", "create", "--tenant", "openai", "--role", "viewer", "--name", "ci",
        ],
        &s.token,
        &s.base,
    );
    assert!(out.status.success(), "{}", text(&out));
    let viewer = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(viewer.starts_with("abl_"), "{viewer}");
    let v_agent = agent_with(&viewer);
    let (st, who) = get(&v_agent, &s.url("/v1/whoami"));
    assert_eq!(st, 200, "{who}");
    assert_eq!(
        (who["role"].as_str(), who["tenant"].as_str()),
        (Some("viewer"), Some("openai"))
    );
    let (st, _) = get(&v_agent, &s.url("/v1/jobs?tenant=research"));
    assert_eq!(st, 200);
    // A viewer may not submit: the client exits 4 (refused).
    let out = run(
        &[
            "job",
            "submit",
            "--project",
            "research",
            "--gpus",
            "8",
            "--runtime",
            "60",
        ],
        &viewer,
        &s.base,
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    // Nor make tokens, nor make one above its role through an admin of a tenant.
    let (st, v) = post(
        &v_agent,
        &s.url("/v1/tokens"),
        r#"{"name":"x","role":"viewer"}"#,
        None,
    );
    assert_eq!((st, v["code"].as_str()), (403, Some("forbidden")), "{v}");

    // Revoked: refused at once.
    let id = who["id"].as_str().unwrap().to_string();
    let out = run(&["admin", "token", "revoke", &id], &s.token, &s.base);
    assert!(out.status.success(), "{}", text(&out));
    let (st, v) = get(&v_agent, &s.url("/v1/jobs"));
    assert_eq!(
        (st, v["code"].as_str()),
        (401, Some("token_revoked")),
        "{v}"
    );

    // Expired: refused once its time has passed.
    let (st, v) = post(
        &admin,
        &s.url("/v1/tokens"),
        r#"{"name":"short","role":"viewer","tenant":"openai","expires_in_s":1}"#,
        None,
    );
    assert_eq!(st, 201, "{v}");
    let short = agent_with(v["token"].as_str().unwrap());
    std::thread::sleep(Duration::from_millis(1_200));
    let (st, v) = get(&short, &s.url("/v1/jobs"));
    assert_eq!(
        (st, v["code"].as_str()),
        (401, Some("token_expired")),
        "{v}"
    );

    // A token made with an Idempotency-Key: a retry does not show the
    // secret again (it is not kept) and makes no second token.
    let body = r#"{"name":"retry","role":"viewer","tenant":"openai"}"#;
    let (st, first) = post(&admin, &s.url("/v1/tokens"), body, Some("tok-1"));
    assert_eq!(st, 201, "{first}");
    let (st, again) = post(&admin, &s.url("/v1/tokens"), body, Some("tok-1"));
    assert_eq!(
        (st, again["code"].as_str()),
        (409, Some("token_shown_once")),
        "{again}"
    );
    let (_, list) = get(&admin, &s.url("/v1/tokens"));
    let named = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["name"] == "retry")
        .count();
    assert_eq!(named, 1, "{list}");
    // The list shows no secret and no hash.
    for t in list.as_array().unwrap() {
        assert!(t.get("token").is_none() && t.get("hash").is_none(), "{t}");
    }

    // No secret is in the store or the server's log.
    let secrets = [
        s.token.clone(),
        viewer.clone(),
        first["token"].as_str().unwrap().to_string(),
    ];
    let mut stored = Vec::new();
    for e in std::fs::read_dir(&data).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().is_some_and(|n| n == "admin.token") {
            continue;
        }
        if p.is_file() {
            stored.extend(std::fs::read(&p).unwrap());
        }
    }
    let stored = String::from_utf8_lossy(&stored);
    let log = s.stderr();
    for secret in &secrets {
        let tail = secret.rsplit('_').next().unwrap();
        assert!(!stored.contains(tail), "a secret is in the store");
        assert!(!log.contains(tail), "a secret is in the server's log");
    }
}

#[test]
fn a_token_over_its_rate_gets_429_with_retry_after_and_others_go_on() {
    let d = Temp::new("sec-rate");
    let mut args = ARGS.to_vec();
    args.extend(["--rate-limit", "5", "--rate-burst", "5"]);
    let s = Server::start(&d.path().join("data"), &args);
    let a = s.agent();
    let mut limited = 0;
    let mut retry_after = None;
    for _ in 0..40 {
        let r = a.get(&s.url("/v1/whoami")).call().unwrap();
        if r.status().as_u16() == 429 {
            limited += 1;
            retry_after = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
        } else {
            assert_eq!(r.status().as_u16(), 200);
        }
    }
    assert!(
        limited >= 30,
        "40 calls at once, 5 allowed: {limited} refused"
    );
    assert!(
        retry_after.is_some_and(|s| (1..=2).contains(&s)),
        "{retry_after:?}"
    );
    // Another token has its own budget.
    let (st, v) = post(
        &agent_with(&s.token),
        &s.url("/v1/tokens"),
        r#"{"name":"other","role":"viewer"}"#,
        None,
    );
    // The admin token may itself be limited by now; wait out its second.
    let v = if st == 429 {
        std::thread::sleep(Duration::from_millis(1_100));
        let (st, v) = post(
            &a,
            &s.url("/v1/tokens"),
            r#"{"name":"other","role":"viewer"}"#,
            None,
        );
        assert_eq!(st, 201, "{v}");
        v
    } else {
        assert_eq!(st, 201, "{v}");
        v
    };
    let (st, _) = get(
        &agent_with(v["token"].as_str().unwrap()),
        &s.url("/v1/whoami"),
    );
    assert_eq!(st, 200);
}

#[test]
fn the_first_admin_token_is_made_once_and_audit_verify_names_a_tampered_record() {
    let d = Temp::new("sec-audit");
    let data = d.path().join("data");
    let data_s = data.display().to_string();
    // `admin init` on a new store shows the token once; a second refuses.
    let out = bin()
        .args(["admin", "init", "--data", &data_s])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(token.starts_with("abl_"));
    let out = bin()
        .args(["admin", "init", "--data", &data_s])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("already has a live operator-admin token"),
        "{}",
        text(&out)
    );

    // A server on that store takes it and makes no other.
    let mut s = Server::start(&data, ARGS);
    assert!(!data.join("admin.token").exists(), "no second first token");
    let a = agent_with(&token);
    for i in 0..5 {
        let (st, v) = post(
            &a,
            &s.url("/v1/jobs"),
            r#"{"project":"research","gpus":8,"runtime_s":60}"#,
            Some(&format!("k{i}")),
        );
        assert_eq!(st, 201, "{v}");
    }
    let (st, _) = get(&agent(), &s.url("/v1/tenants"));
    assert_eq!(st, 401);
    // The audit log as the API shows it: the init, five submissions, the
    // refused read. A refused call is audited in the writer's next round,
    // after its answer: wait for it, at most 5 s.
    let mut records = Vec::new();
    for _ in 0..250 {
        let (st, page) = get(&a, &s.url("/v1/audit?limit=100"));
        assert_eq!(st, 200, "{page}");
        records = page["records"].as_array().unwrap().clone();
        if records.iter().any(|r| r["status"] == 401) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let whats: Vec<&str> = records
        .iter()
        .map(|r| r["what"].as_str().unwrap())
        .collect();
    assert_eq!(
        whats.iter().filter(|w| **w == "submit").count(),
        5,
        "{whats:?}"
    );
    let refused: Vec<&Value> = records.iter().filter(|r| r["status"] == 401).collect();
    assert!(
        refused.iter().any(|r| r["path"] == "/v1/tenants"
            && r["source"]
                .as_str()
                .is_some_and(|s| s.starts_with("127.0.0.1:"))),
        "{records:?}"
    );
    s.kill();

    let verify = || {
        bin()
            .args(["admin", "audit", "verify", "--data", &data_s])
            .output()
            .unwrap()
    };
    let out = verify();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("intact: {} records", records.len())),
        "{}",
        text(&out)
    );

    // Edit record 3 in the database: named.
    let db = rusqlite::Connection::open(data.join("abilene.db")).unwrap();
    let changed = db
        .execute(
            // Record 3's time, wherever its round's block holds it.
            "UPDATE audit_blocks SET rows = replace(rows, '{\"seq\":3,\"at_ms\":', '{\"seq\":3,\"at_ms\":1') WHERE instr(rows, '{\"seq\":3,') > 0",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let out = verify();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("audit record 3:"), "{}", text(&out));
    // Delete record 2 as well: the first broken record is now 2's gap.
    let (block, rows): (i64, String) = db
        .query_row(
            "SELECT seq, rows FROM audit_blocks WHERE seq <= 2 AND last >= 2",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let without: String = rows
        .lines()
        .filter(|l| !l.contains("{\"seq\":2,"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(without, rows);
    db.execute(
        "UPDATE audit_blocks SET rows = ?1 WHERE seq = ?2",
        rusqlite::params![without, block],
    )
    .unwrap();
    let out = verify();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("expected record 2"), "{}", text(&out));
}
