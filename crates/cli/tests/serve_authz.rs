//! The authorization matrix: every endpoint of the OpenAPI document x every
//! role x every caller position in the tenancy tree (root, parent, own,
//! child holding the target, child beside it, sibling, unrelated) plus no
//! token, an expired one and a revoked one, against a real server.
//!
//! The endpoints come from `/v1/openapi.json`, which is generated from the
//! route table: an endpoint without a rule here fails the test, so a new
//! one cannot be forgotten. Each case's status is computed from the rule
//! (the security model of SECURITY.md) and compared with the server's; then
//! lists are checked for leaks, and the audit log for proof that no refused
//! call reached the writer.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use common::{Server, Temp, agent, agent_with, get, json, send};
use serde_json::{Value, json};

/// The default tree of `abilene serve` (crates/twin/src/tenancy.rs), plus
/// `u`, an unrelated tenant under the operator, made by the test.
const TREE: &[(&str, &str)] = &[
    ("oracle", "crusoe"),
    ("openai", "oracle"),
    ("frontier", "openai"),
    ("research", "openai"),
    ("inference", "openai"),
    ("tenant-b", "oracle"),
    ("b-train", "tenant-b"),
    ("u", "crusoe"),
];
const ROOT: &str = "crusoe";
/// The target's tenant and project: jobs run in `frontier`.
const TENANT: &str = "openai";
const PROJECT: &str = "frontier";
/// Caller positions relative to the target (by the scope of the token).
const POSITIONS: &[(&str, &str)] = &[
    ("root", ROOT),
    ("parent", "oracle"),
    ("own", "openai"),
    ("child-holding", "frontier"),
    ("child-beside", "research"),
    ("sibling", "tenant-b"),
    ("unrelated", "u"),
];
const ROLES: &[&str] = &[
    "operator-admin",
    "lessee-admin",
    "tenant-admin",
    "submitter",
    "viewer",
    "auditor",
];

fn parent(n: &str) -> Option<&'static str> {
    TREE.iter().find(|(c, _)| *c == n).map(|(_, p)| *p)
}

/// `n` is `scope` or below it.
fn under(n: &str, scope: &str) -> bool {
    let mut at = Some(n);
    for _ in 0..16 {
        match at {
            Some(x) if x == scope => return true,
            Some(x) => at = parent(x),
            None => return false,
        }
    }
    false
}

fn can(role: &str, action: &str) -> bool {
    match role {
        "operator-admin" => true,
        "lessee-admin" | "tenant-admin" => {
            matches!(action, "read" | "submit" | "tenancy" | "tokens")
        }
        "submitter" => matches!(action, "read" | "submit"),
        "viewer" => action == "read",
        "auditor" => action == "audit",
        _ => false,
    }
}

fn rank(role: &str) -> u8 {
    match role {
        "operator-admin" => 5,
        "lessee-admin" => 4,
        "tenant-admin" => 3,
        "submitter" => 2,
        _ => 1,
    }
}

fn may_grant(creator: &str, role: &str) -> bool {
    can(creator, "tokens")
        && rank(role) <= rank(creator)
        && ["read", "submit", "tenancy", "tokens", "hardware", "audit"]
            .iter()
            .all(|a| !can(role, a) || can(creator, a))
}

/// A token of the matrix: its role and scope; None for the invalid ones.
#[derive(Clone)]
struct Who {
    label: String,
    token: String,
    id: String,
    /// (role, scope): None for no token, expired, revoked.
    holder: Option<(String, String)>,
}

/// What one call should answer: a status, or "any 2xx".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Ok,
    Status(u16),
}

struct Ctx {
    s: Server,
    admin: ureq::Agent,
    /// A running job of PROJECT, and the tray it runs on.
    tray: String,
    n: u64,
}

impl Ctx {
    fn admin_post(&self, path: &str, body: &Value) -> Value {
        let (st, t) = send(
            &self.admin,
            "POST",
            &self.s.url(path),
            &[("Content-Type", "application/json")],
            Some(&body.to_string()),
        )
        .unwrap();
        assert!(st < 300, "{path}: {st} {t}");
        json(&t)
    }

    fn fresh_job(&mut self) -> u64 {
        self.n += 1;
        let v = self.admin_post(
            "/v1/jobs",
            &json!({"project": PROJECT, "gpus": 1, "runtime_s": 86_400}),
        );
        v["id"].as_u64().expect("a job id")
    }

    fn fresh_token(&mut self, role: &str, tenant: &str) -> (String, String) {
        self.n += 1;
        let v = self.admin_post(
            "/v1/tokens",
            &json!({"name": format!("m{}", self.n), "role": role, "tenant": tenant}),
        );
        (
            v["id"].as_str().unwrap().to_string(),
            v["token"].as_str().unwrap().to_string(),
        )
    }

    fn fresh_leaf(&mut self) -> String {
        self.n += 1;
        let name = format!("leaf-{}", self.n);
        self.admin_post("/v1/tenants", &json!({"name": name, "parent": PROJECT}));
        name
    }
}

/// One endpoint's rule: the request to make and what each caller should
/// get. Checked in the order the server checks: token (401), role (403),
/// reach (404), then the endpoint's own.
struct Rule {
    /// The request: method is the route's; path and body for this case.
    make: fn(&mut Ctx) -> (String, Option<Value>),
    expect: fn(role: &str, scope: &str) -> Expect,
}

fn ok_if(b: bool, otherwise: u16) -> Expect {
    if b {
        Expect::Ok
    } else {
        Expect::Status(otherwise)
    }
}

fn rules() -> BTreeMap<&'static str, Rule> {
    let mut r: BTreeMap<&'static str, Rule> = BTreeMap::new();
    let whole = |role: &str, scope: &str, hidden: u16| {
        if !can(role, "read") {
            Expect::Status(403)
        } else {
            ok_if(scope == ROOT, hidden)
        }
    };
    let _ = whole;
    r.insert(
        "GET /v1/audit",
        Rule {
            make: |_| ("/v1/audit?limit=5".into(), None),
            expect: |role, _| ok_if(can(role, "audit"), 403),
        },
    );
    r.insert(
        "GET /v1/campus",
        Rule {
            make: |_| ("/v1/campus".into(), None),
            expect: |role, scope| {
                if !can(role, "read") {
                    Expect::Status(403)
                } else {
                    ok_if(scope == ROOT, 403)
                }
            },
        },
    );
    // The rack map is the campus's state, like /v1/campus.
    r.insert(
        "GET /v1/campus/map",
        Rule {
            make: |_| ("/v1/campus/map".into(), None),
            expect: |role, scope| {
                if !can(role, "read") {
                    Expect::Status(403)
                } else {
                    ok_if(scope == ROOT, 403)
                }
            },
        },
    );
    for (k, p) in [
        ("GET /v1/buildings/{building}", "/v1/buildings/B1"),
        ("GET /v1/halls/{building}/{hall}", "/v1/halls/B1/H1"),
        (
            "GET /v1/racks/{building}/{hall}/{rack}",
            "/v1/racks/B1/H1/R0001",
        ),
    ] {
        let _ = p;
        r.insert(
            k,
            Rule {
                make: match k {
                    "GET /v1/buildings/{building}" => |_| ("/v1/buildings/B1".into(), None),
                    "GET /v1/halls/{building}/{hall}" => |_| ("/v1/halls/B1/H1".into(), None),
                    _ => |_| ("/v1/racks/B1/H1/R0001".into(), None),
                },
                expect: |role, scope| {
                    if !can(role, "read") {
                        Expect::Status(403)
                    } else {
                        ok_if(scope == ROOT, 404)
                    }
                },
            },
        );
    }
    r.insert(
        "GET /v1/trays/{building}/{hall}/{rack}/{tray}",
        Rule {
            make: |c| (format!("/v1/trays/{}", c.tray), None),
            expect: |role, scope| {
                if !can(role, "read") {
                    Expect::Status(403)
                } else {
                    ok_if(under(PROJECT, scope), 404)
                }
            },
        },
    );
    r.insert(
        "GET /v1/events",
        Rule {
            make: |_| ("/v1/events".into(), None),
            expect: |role, _| ok_if(can(role, "read"), 403),
        },
    );
    r.insert(
        "POST /v1/jobs",
        Rule {
            make: |_| {
                (
                    "/v1/jobs".into(),
                    Some(json!({"project": PROJECT, "gpus": 1, "runtime_s": 60})),
                )
            },
            expect: |role, scope| {
                if !can(role, "submit") {
                    Expect::Status(403)
                } else {
                    ok_if(under(PROJECT, scope), 404)
                }
            },
        },
    );
    r.insert(
        "GET /v1/jobs",
        Rule {
            make: |_| ("/v1/jobs?limit=5".into(), None),
            expect: |role, _| ok_if(can(role, "read"), 403),
        },
    );
    r.insert(
        "GET /v1/jobs/{id}",
        Rule {
            make: |c| (format!("/v1/jobs/{}", c.fresh_job()), None),
            expect: |role, scope| {
                if !can(role, "read") {
                    Expect::Status(403)
                } else {
                    ok_if(under(PROJECT, scope), 404)
                }
            },
        },
    );
    r.insert(
        "POST /v1/jobs/{id}/cancel",
        Rule {
            make: |c| (format!("/v1/jobs/{}/cancel", c.fresh_job()), None),
            expect: |role, scope| {
                if !can(role, "submit") {
                    Expect::Status(403)
                } else {
                    ok_if(under(PROJECT, scope), 404)
                }
            },
        },
    );
    let hardware = |role: &str, _: &str| ok_if(can(role, "hardware"), 403);
    r.insert(
        "POST /v1/trays/{building}/{hall}/{rack}/{tray}/drain",
        Rule {
            make: |_| {
                (
                    "/v1/trays/B1/H1/R0002/T01/drain".into(),
                    Some(json!({"reason": "matrix"})),
                )
            },
            expect: hardware,
        },
    );
    r.insert(
        "POST /v1/trays/{building}/{hall}/{rack}/{tray}/resume",
        Rule {
            make: |_| ("/v1/trays/B1/H1/R0002/T01/resume".into(), Some(json!({}))),
            expect: hardware,
        },
    );
    r.insert(
        "POST /v1/trays/{building}/{hall}/{rack}/{tray}/repaired",
        Rule {
            make: |_| ("/v1/trays/B1/H1/R0002/T02/repaired".into(), Some(json!({}))),
            expect: hardware,
        },
    );
    r.insert(
        "POST /v1/racks/{building}/{hall}/{rack}/drain",
        Rule {
            make: |_| {
                (
                    "/v1/racks/B1/H1/R0003/drain".into(),
                    Some(json!({"reason": "matrix"})),
                )
            },
            expect: hardware,
        },
    );
    r.insert(
        "POST /v1/racks/{building}/{hall}/{rack}/resume",
        Rule {
            make: |_| ("/v1/racks/B1/H1/R0003/resume".into(), Some(json!({}))),
            expect: hardware,
        },
    );
    r.insert(
        "POST /v1/power-caps",
        Rule {
            make: |_| {
                (
                    "/v1/power-caps".into(),
                    Some(json!({"scope": "campus", "kw": null})),
                )
            },
            expect: hardware,
        },
    );
    r.insert("POST /v1/reservations", Rule {
        make: |c| {
            c.n += 1;
            (
                "/v1/reservations".into(),
                Some(json!({"id": format!("r{}", c.n), "targets": ["B1/H1/R0004/T01"], "start": 1_000_000, "end": 1_000_060})),
            )
        },
        expect: hardware,
    });
    r.insert(
        "GET /v1/tenants",
        Rule {
            make: |_| ("/v1/tenants".into(), None),
            expect: |role, _| ok_if(can(role, "read"), 403),
        },
    );
    r.insert(
        "GET /v1/tenants/{name}",
        Rule {
            make: |_| (format!("/v1/tenants/{TENANT}"), None),
            expect: |role, scope| {
                if !can(role, "read") {
                    Expect::Status(403)
                } else {
                    ok_if(under(TENANT, scope), 404)
                }
            },
        },
    );
    r.insert(
        "POST /v1/tenants",
        Rule {
            make: |c| {
                c.n += 1;
                (
                    "/v1/tenants".into(),
                    Some(json!({"name": format!("new-{}", c.n), "parent": PROJECT})),
                )
            },
            expect: |role, scope| {
                if !can(role, "tenancy") {
                    Expect::Status(403)
                } else {
                    ok_if(under(PROJECT, scope), 404)
                }
            },
        },
    );
    r.insert(
        "PATCH /v1/tenants/{name}",
        Rule {
            make: |c| {
                (
                    format!("/v1/tenants/{}", c.fresh_leaf()),
                    Some(json!({"weight": 2})),
                )
            },
            // The leaf is below PROJECT: strictly below every scope that
            // reaches PROJECT.
            expect: |role, scope| {
                if !can(role, "tenancy") {
                    Expect::Status(403)
                } else {
                    ok_if(under(PROJECT, scope), 404)
                }
            },
        },
    );
    r.insert(
        "POST /v1/tenants/{name}/retire",
        Rule {
            make: |c| (format!("/v1/tenants/{}/retire", c.fresh_leaf()), None),
            expect: |role, scope| {
                if !can(role, "tenancy") {
                    Expect::Status(403)
                } else {
                    ok_if(under(PROJECT, scope), 404)
                }
            },
        },
    );
    r.insert(
        "GET /v1/tokens",
        Rule {
            make: |_| ("/v1/tokens".into(), None),
            expect: |role, _| ok_if(can(role, "tokens"), 403),
        },
    );
    r.insert(
        "POST /v1/tokens",
        Rule {
            make: |c| {
                c.n += 1;
                (
                    "/v1/tokens".into(),
                    Some(json!({"name": format!("v{}", c.n), "role": "viewer", "tenant": PROJECT})),
                )
            },
            expect: |role, scope| {
                if !can(role, "tokens") || !may_grant(role, "viewer") {
                    Expect::Status(403)
                } else {
                    ok_if(under(PROJECT, scope), 404)
                }
            },
        },
    );
    r.insert(
        "POST /v1/tokens/{id}/revoke",
        Rule {
            make: |c| {
                let (id, _) = c.fresh_token("viewer", PROJECT);
                (format!("/v1/tokens/{id}/revoke"), None)
            },
            expect: |role, scope| {
                if !can(role, "tokens") {
                    Expect::Status(403)
                } else if !under(PROJECT, scope) {
                    Expect::Status(404)
                } else {
                    ok_if(may_grant(role, "viewer"), 403)
                }
            },
        },
    );
    // The campus's metrics and plant: whole-campus readers only, 403 to
    // the rest (as /v1/campus).
    for k in [
        "GET /metrics",
        "GET /fleet/targets",
        "GET /fleet/racks/{building}/{hall}/{rack}/metrics",
        "GET /v1/campus/plant",
    ] {
        r.insert(
            k,
            Rule {
                make: match k {
                    "GET /metrics" => |_| ("/metrics".into(), None),
                    "GET /fleet/targets" => |_| ("/fleet/targets".into(), None),
                    "GET /v1/campus/plant" => |_| ("/v1/campus/plant".into(), None),
                    _ => |_| ("/fleet/racks/B1/H1/R0001/metrics".into(), None),
                },
                expect: |role, scope| {
                    if !can(role, "read") {
                        Expect::Status(403)
                    } else {
                        ok_if(scope == ROOT, 403)
                    }
                },
            },
        );
    }
    r.insert(
        "GET /v1/whoami",
        Rule {
            make: |_| ("/v1/whoami".into(), None),
            expect: |_, _| Expect::Ok,
        },
    );
    r
}

/// Every operation of the document, as `METHOD /path`, health (which
/// needs no token) left out.
fn documented(doc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        if ["/healthz", "/readyz"].contains(&path.as_str()) {
            continue;
        }
        for m in ops.as_object().unwrap().keys() {
            if ["get", "post", "patch", "put", "delete"].contains(&m.as_str()) {
                out.insert(format!("{} {path}", m.to_uppercase()));
            }
        }
    }
    out
}

fn call(
    a: &ureq::Agent,
    s: &Server,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, String) {
    if path == "/v1/events" {
        // A stream: the status is what counts; the body is not read.
        let r = a.get(&s.url(path)).call().expect("the stream answers");
        return (r.status().as_u16(), String::new());
    }
    let text = body.map(Value::to_string);
    let h: &[(&str, &str)] = if text.is_some() {
        &[("Content-Type", "application/json")]
    } else {
        &[]
    };
    send(a, method, &s.url(path), h, text.as_deref())
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

fn setup() -> (Temp, Ctx, Vec<Who>) {
    let data = Temp::new("authz");
    let s = Server::start(
        &data.path().join("data"),
        &["--campus", "tiny", "--speed", "1"],
    );
    let admin = s.agent();
    let mut c = Ctx {
        s,
        admin,
        tray: String::new(),
        n: 0,
    };
    c.admin_post("/v1/tenants", &json!({"name": "u", "parent": ROOT}));
    // A running job of PROJECT and its tray.
    let job = c.fresh_job();
    let (_, hall) = get(&c.admin, &c.s.url("/v1/halls/B1/H1"));
    let trays = hall["trays"].as_array().expect("trays").len();
    assert!(trays > 0);
    'find: for rack in hall["racks"].as_array().unwrap() {
        let (_, r) = get(
            &c.admin,
            &c.s.url(&format!("/v1/racks/{}", rack.as_str().unwrap())),
        );
        for t in r["trays"].as_array().unwrap() {
            if t["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|j| j.as_u64() == Some(job))
            {
                c.tray = t["name"].as_str().unwrap().to_string();
                break 'find;
            }
        }
    }
    assert!(!c.tray.is_empty(), "job {job} runs in B1/H1");
    assert!(
        !c.tray.starts_with("B1/H1/R0002") && !c.tray.starts_with("B1/H1/R0003"),
        "the job must not sit on the trays the matrix drains: {}",
        c.tray
    );

    let mut who = Vec::new();
    for (pos, scope) in POSITIONS {
        for role in ROLES {
            if (*role == "operator-admin") != (*scope == ROOT) {
                continue;
            }
            let (id, token) = if *role == "operator-admin" {
                let v = c.admin_post("/v1/tokens", &json!({"name": "op2", "role": role}));
                (
                    v["id"].as_str().unwrap().to_string(),
                    v["token"].as_str().unwrap().to_string(),
                )
            } else {
                c.fresh_token(role, scope)
            };
            who.push(Who {
                label: format!("{role}@{pos}"),
                token,
                id,
                holder: Some((role.to_string(), scope.to_string())),
            });
        }
    }
    let expired = c.admin_post(
        "/v1/tokens",
        &json!({"name": "expired", "role": "tenant-admin", "tenant": TENANT, "expires_in_s": 1}),
    );
    let (rid, rtoken) = c.fresh_token("tenant-admin", TENANT);
    c.admin_post(&format!("/v1/tokens/{rid}/revoke"), &json!({}));
    who.push(Who {
        label: "revoked".into(),
        token: rtoken,
        id: rid,
        holder: None,
    });
    who.push(Who {
        label: "no token".into(),
        token: String::new(),
        id: String::new(),
        holder: None,
    });
    // Past its expiry by the time the matrix runs.
    std::thread::sleep(Duration::from_millis(1_100));
    who.push(Who {
        label: "expired".into(),
        token: expired["token"].as_str().unwrap().to_string(),
        id: expired["id"].as_str().unwrap().to_string(),
        holder: None,
    });
    (data, c, who)
}

#[test]
fn every_endpoint_every_role_every_position() {
    let started = Instant::now();
    let (_data, mut c, who) = setup();
    let (st, doc) = get(&agent(), &c.s.url("/v1/openapi.json"));
    assert_eq!(st, 200);
    let rules = rules();
    let ops = documented(&doc);
    let ruled: BTreeSet<String> = rules.keys().map(|k| k.to_string()).collect();
    assert_eq!(
        ops.difference(&ruled).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "endpoints in the route table without a rule in this matrix: add one"
    );
    assert_eq!(
        ruled.difference(&ops).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "rules for endpoints the server no longer has"
    );

    let mut wrong = Vec::new();
    let mut cases = 0;
    let mut refused_paths: HashMap<String, Vec<String>> = HashMap::new();
    for (op, rule) in &rules {
        let (method, _) = op.split_once(' ').unwrap();
        for w in &who {
            let (path, body) = (rule.make)(&mut c);
            let expect = match &w.holder {
                None => Expect::Status(401),
                Some((role, scope)) => (rule.expect)(role, scope),
            };
            let a = if w.token.is_empty() {
                agent()
            } else {
                agent_with(&w.token)
            };
            let (status, text) = call(&a, &c.s, method, &path, body.as_ref());
            cases += 1;
            let fine = match expect {
                Expect::Ok => (200..300).contains(&status),
                Expect::Status(x) => status == x,
            };
            if !fine {
                wrong.push(format!(
                    "{op} as {}: expected {expect:?}, got {status} {text}",
                    w.label
                ));
            }
            if status >= 400 && !w.id.is_empty() {
                refused_paths
                    .entry(w.id.clone())
                    .or_default()
                    .push(path.clone());
            }
            assert!(status < 500, "{op} as {}: a 5xx: {status} {text}", w.label);
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {cases} cases wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    eprintln!(
        "authorization matrix: {cases} cases in {:?}",
        started.elapsed()
    );

    // Lists leak nothing beyond the caller's subtree.
    for w in &who {
        let Some((role, scope)) = &w.holder else {
            continue;
        };
        let a = agent_with(&w.token);
        if can(role, "read") {
            let (_, jobs) = get(&a, &c.s.url("/v1/jobs?limit=1000"));
            for j in jobs["jobs"].as_array().unwrap() {
                let p = j["project"].as_str().unwrap();
                assert!(
                    under(p, scope) || p.starts_with("leaf-") || p.starts_with("new-"),
                    "{} lists a job of {p}",
                    w.label
                );
            }
            let (_, tree) = get(&a, &c.s.url("/v1/tenants"));
            for n in tree.as_array().unwrap() {
                let name = n["name"].as_str().unwrap();
                let known = TREE.iter().any(|(x, _)| *x == name) || name == ROOT;
                assert!(
                    !known || under(name, scope),
                    "{} sees tenant {name}",
                    w.label
                );
            }
        }
        if can(role, "tokens") {
            let (_, toks) = get(&a, &c.s.url("/v1/tokens"));
            for t in toks.as_array().unwrap() {
                let tenant = t["tenant"].as_str().unwrap_or(ROOT);
                let known = TREE.iter().any(|(x, _)| *x == tenant) || tenant == ROOT;
                assert!(
                    !known || under(tenant, scope),
                    "{} lists a token of {tenant}",
                    w.label
                );
            }
        }
        if can(role, "audit") {
            let (_, page) = get(&a, &c.s.url("/v1/audit?limit=1000"));
            for r in page["records"].as_array().unwrap() {
                let s = r["scope"].as_str().unwrap_or(ROOT);
                assert!(
                    under(s, scope) || s.starts_with("leaf-"),
                    "{} reads an audit record of {s}",
                    w.label
                );
            }
        }
    }

    // No refused call reached the writer: its audit record is the guard's
    // (what = "METHOD /route"), never a command's.
    let mut after = 0u64;
    let mut checked = 0;
    for _ in 0..10_000 {
        let (st, page) = get(
            &c.admin,
            &c.s.url(&format!("/v1/audit?limit=1000&refused=true&after={after}")),
        );
        assert_eq!(st, 200, "{page}");
        for r in page["records"].as_array().unwrap() {
            let token = r["token"].as_str().unwrap_or("");
            if refused_paths.contains_key(token) {
                let what = r["what"].as_str().unwrap();
                assert!(
                    ["GET ", "POST ", "PATCH "]
                        .iter()
                        .any(|m| what.starts_with(m)),
                    "a refused call reached the writer: {r}"
                );
                checked += 1;
            }
        }
        match page.get("next").and_then(Value::as_u64) {
            Some(n) => after = n,
            None => break,
        }
    }
    assert!(checked > 100, "refused calls audited: {checked}");
}
