//! `abilene job|tray|rack|tenant|events`: the control plane's CLI client.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::client::{Answer, Client, DEFAULT_SERVER, next_event};
use crate::format::table;
use crate::out::{out, outln};

/// Where and how: shared by every client command.
#[derive(Args, Debug, Clone)]
pub struct Conn {
    /// The server's URL
    #[arg(long, env = "ABILENE_SERVER", default_value = DEFAULT_SERVER, global = true)]
    pub server: String,
    /// `table` for people, `json` for scripts
    #[arg(long, value_enum, default_value_t = Output::Table, global = true)]
    pub output: Output,
    /// The bearer token (`abilene admin token create`); best given by the
    /// environment, so it stays out of shell history
    #[arg(long, env = "ABILENE_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
}

impl Conn {
    pub fn client(&self) -> Result<Client> {
        Client::new(&self.server, self.token.as_deref())
    }
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Table,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum JobCommand {
    /// Submit a training gang or an inference service
    Submit {
        /// The project (a tenant node) that pays
        #[arg(long)]
        project: String,
        #[arg(long)]
        gpus: u32,
        /// Seconds of work
        #[arg(long)]
        runtime: u64,
        #[arg(long, default_value = "training")]
        kind: String,
        /// Services: replicas
        #[arg(long)]
        replicas: Option<u32>,
        #[arg(long)]
        sku: Option<String>,
        /// low, normal, high or critical
        #[arg(long, default_value = "normal")]
        priority: String,
        #[arg(long)]
        preemptible: bool,
        /// Seconds between checkpoints
        #[arg(long, default_value_t = 0)]
        checkpoint_interval: u64,
    },
    /// List jobs
    List {
        #[arg(long)]
        tenant: Option<String>,
        /// pending, running or finished
        #[arg(long)]
        state: Option<String>,
        /// training or service
        #[arg(long)]
        kind: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// The `next` cursor of the page before
        #[arg(long)]
        after: Option<u64>,
    },
    /// A job in full
    Show { id: u64 },
    /// Cancel a job
    Cancel { id: u64 },
    /// Follow a job's events until it finishes
    Watch { id: u64 },
}

#[derive(Subcommand, Debug)]
pub enum TrayCommand {
    /// No new work on a tray (B1/H1/R0001/T01); running jobs finish
    Drain {
        name: String,
        #[arg(long)]
        reason: String,
    },
    /// Take work again
    Resume { name: String },
    /// A failed tray is repaired
    Repaired { name: String },
}

#[derive(Subcommand, Debug)]
pub enum RackCommand {
    /// No new work on a rack's trays (B1/H1/R0001)
    Drain {
        name: String,
        #[arg(long)]
        reason: String,
    },
    Resume {
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TenantCommand {
    /// The tenant tree with usage per SKU
    List,
    /// A node and its subtree
    Show { name: String },
    /// Set a node's guarantee (and borrowing limit) for one SKU
    SetQuota {
        name: String,
        #[arg(long)]
        sku: String,
        #[arg(long)]
        guarantee: u64,
        #[arg(long)]
        borrow_limit: Option<u64>,
    },
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Start after this event id (from an earlier run); from now if left out
    #[arg(long)]
    pub after: Option<String>,
    /// Stop after this many events
    #[arg(long)]
    pub count: Option<u64>,
}

fn print(
    conn: &Conn,
    a: &Answer,
    human: impl FnOnce(&Value) -> Result<String>,
) -> Result<ExitCode> {
    if !a.ok() {
        let (code, msg) = a.refusal();
        eprintln!("error: {msg}");
        return Ok(code);
    }
    match conn.output {
        Output::Json => outln!("{}", serde_json::to_string_pretty(&a.body)?),
        Output::Table => {
            let text = human(&a.body)?;
            out!("{text}");
            if !text.ends_with('\n') {
                outln!();
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn s(v: &Value, k: &str) -> String {
    match v.get(k) {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(x)) => x.clone(),
        Some(x) => x.to_string(),
    }
}

fn job_rows(jobs: &[Value]) -> String {
    let rows = jobs
        .iter()
        .map(|j| {
            vec![
                s(j, "id"),
                s(j, "project"),
                s(j, "kind"),
                s(j, "gpus"),
                s(j, "state"),
                j.get("pending_reason")
                    .and_then(Value::as_str)
                    .or_else(|| j.get("outcome").and_then(Value::as_str))
                    .unwrap_or("-")
                    .to_string(),
            ]
        })
        .collect();
    table(
        &["id", "project", "kind", "gpus", "state", "why / outcome"],
        rows,
        6,
    )
}

fn job_text(j: &Value) -> Result<String> {
    let mut t = format!(
        "job {}  {}  {} GPUs {}  {}\n",
        s(j, "id"),
        s(j, "project"),
        s(j, "gpus"),
        s(j, "sku"),
        s(j, "state")
    );
    if let Some(r) = j.get("pending_reason").and_then(Value::as_str) {
        t.push_str(&format!("waiting: {r}\n"));
    }
    if let Some(o) = j.get("outcome").and_then(Value::as_str) {
        t.push_str(&format!("outcome: {o} at t={}\n", s(j, "finished")));
    }
    if let Some(p) = j.get("placement").filter(|p| !p.is_null()) {
        t.push_str(&format!(
            "placed: {} GPUs on {} trays in {} buildings\n",
            s(p, "gpus"),
            s(p, "trays"),
            p.get("buildings")
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
        ));
    }
    if let Some(h) = j.pointer("/history/entries").and_then(Value::as_array) {
        for e in h {
            let mut e = e.clone();
            let at = e
                .as_object_mut()
                .and_then(|o| o.remove("at"))
                .unwrap_or_default();
            t.push_str(&format!("  t={at}  {e}\n"));
        }
    }
    Ok(t)
}

pub fn job(conn: &Conn, c: JobCommand) -> Result<ExitCode> {
    let cl = conn.client()?;
    match c {
        JobCommand::Submit {
            project,
            gpus,
            runtime,
            kind,
            replicas,
            sku,
            priority,
            preemptible,
            checkpoint_interval,
        } => {
            let mut body = json!({
                "project": project, "gpus": gpus, "runtime_s": runtime, "kind": kind,
                "priority": priority, "preemptible": preemptible,
                "checkpoint_interval_s": checkpoint_interval,
            });
            if let Some(r) = replicas {
                body["replicas"] = json!(r);
            }
            if let Some(sk) = sku {
                body["sku"] = json!(sk);
            }
            let a = cl.send("POST", "/v1/jobs", &body)?;
            print(conn, &a, |j| {
                Ok(format!(
                    "submitted job {} ({}{})\n",
                    s(j, "id"),
                    s(j, "state"),
                    j.get("pending_reason")
                        .and_then(Value::as_str)
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                ))
            })
        }
        JobCommand::List {
            tenant,
            state,
            kind,
            limit,
            after,
        } => {
            let mut q = vec![format!("limit={limit}")];
            for (k, v) in [("tenant", tenant), ("state", state), ("kind", kind)] {
                if let Some(v) = v {
                    q.push(format!("{k}={}", encode(&v)));
                }
            }
            if let Some(a) = after {
                q.push(format!("after={a}"));
            }
            let a = cl.get(&format!("/v1/jobs?{}", q.join("&")))?;
            print(conn, &a, |p| {
                let jobs = p
                    .get("jobs")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let mut t = job_rows(&jobs);
                if let Some(n) = p.get("next").filter(|n| !n.is_null()) {
                    t.push_str(&format!("more: --after {n}\n"));
                }
                Ok(t)
            })
        }
        JobCommand::Show { id } => {
            let a = cl.get(&format!("/v1/jobs/{id}"))?;
            print(conn, &a, job_text)
        }
        JobCommand::Cancel { id } => {
            let a = cl.send("POST", &format!("/v1/jobs/{id}/cancel"), &json!({}))?;
            print(conn, &a, |j| {
                Ok(format!("job {} {}\n", s(j, "id"), s(j, "outcome")))
            })
        }
        JobCommand::Watch { id } => watch(conn, &cl, id),
    }
}

/// Percent-encodes a query value (names hold `/` and may hold spaces).
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn watch(conn: &Conn, cl: &Client, id: u64) -> Result<ExitCode> {
    // Open the stream first, then read the state: nothing falls between.
    let mut stream = cl.events(None)?;
    let a = cl.get(&format!("/v1/jobs/{id}"))?;
    if !a.ok() {
        let (code, msg) = a.refusal();
        eprintln!("error: {msg}");
        return Ok(code);
    }
    if a.body.get("state").and_then(Value::as_str) == Some("finished") {
        return print(conn, &a, job_text);
    }
    outln!(
        "job {id} is {}; following its events (Ctrl-C to stop)",
        s(&a.body, "state")
    );
    while let Some(e) = next_event(&mut stream)? {
        let Ok(v) = serde_json::from_str::<Value>(&e.data) else {
            continue;
        };
        let about = v
            .get(&e.kind)
            .and_then(|x| x.get("job"))
            .and_then(Value::as_u64);
        if about != Some(id) {
            continue;
        }
        match conn.output {
            Output::Json => outln!("{}", e.data),
            Output::Table => outln!("t={}  {}  {}", s(&v, "at"), e.kind, v[&e.kind]),
        }
        if e.kind == "finished" {
            return Ok(ExitCode::SUCCESS);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn path_of(name: &str) -> String {
    name.split('/').map(encode).collect::<Vec<_>>().join("/")
}

fn done_text(v: &Value) -> Result<String> {
    Ok(format!(
        "{} done (log record {})\n",
        s(v, "command"),
        s(v, "seq")
    ))
}

pub fn tray(conn: &Conn, c: TrayCommand) -> Result<ExitCode> {
    let cl = conn.client()?;
    let (path, body) = match c {
        TrayCommand::Drain { name, reason } => (
            format!("/v1/trays/{}/drain", path_of(&name)),
            json!({ "reason": reason }),
        ),
        TrayCommand::Resume { name } => (format!("/v1/trays/{}/resume", path_of(&name)), json!({})),
        TrayCommand::Repaired { name } => {
            (format!("/v1/trays/{}/repaired", path_of(&name)), json!({}))
        }
    };
    let a = cl.send("POST", &path, &body)?;
    print(conn, &a, done_text)
}

pub fn rack(conn: &Conn, c: RackCommand) -> Result<ExitCode> {
    let cl = conn.client()?;
    let (path, body) = match c {
        RackCommand::Drain { name, reason } => (
            format!("/v1/racks/{}/drain", path_of(&name)),
            json!({ "reason": reason }),
        ),
        RackCommand::Resume { name } => (format!("/v1/racks/{}/resume", path_of(&name)), json!({})),
    };
    let a = cl.send("POST", &path, &body)?;
    print(conn, &a, done_text)
}

fn tenant_rows(v: &Value) -> Result<String> {
    let mut rows = Vec::new();
    for t in v.as_array().cloned().unwrap_or_default() {
        let depth = t.get("depth").and_then(Value::as_u64).unwrap_or(0) as usize;
        for u in t
            .get("skus")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            rows.push(vec![
                format!("{}{}", "  ".repeat(depth), s(&t, "name")),
                s(&u, "sku"),
                s(&u, "usage"),
                s(&u, "guarantee"),
                s(&u, "borrowed"),
                s(&u, "borrow_limit"),
                s(&t, "live_jobs"),
            ]);
        }
    }
    Ok(table(
        &[
            "tenant",
            "sku",
            "using",
            "guaranteed",
            "borrowed",
            "borrow limit",
            "live jobs",
        ],
        rows,
        2,
    ))
}

pub fn tenant(conn: &Conn, c: TenantCommand) -> Result<ExitCode> {
    let cl = conn.client()?;
    match c {
        TenantCommand::List => print(conn, &cl.get("/v1/tenants")?, tenant_rows),
        TenantCommand::Show { name } => print(
            conn,
            &cl.get(&format!("/v1/tenants/{}", encode(&name)))?,
            tenant_rows,
        ),
        TenantCommand::SetQuota {
            name,
            sku,
            guarantee,
            borrow_limit,
        } => {
            // The node's other SKUs keep their figures: read, change one, write.
            let now = cl.get(&format!("/v1/tenants/{}", encode(&name)))?;
            if !now.ok() {
                let (code, msg) = now.refusal();
                eprintln!("error: {msg}");
                return Ok(code);
            }
            let node = now.body.get(0).cloned().unwrap_or_default();
            let mut g = serde_json::Map::new();
            let mut b = serde_json::Map::new();
            for u in node
                .get("skus")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                let k = s(&u, "sku");
                g.insert(k.clone(), u.get("guarantee").cloned().unwrap_or(json!(0)));
                if let Some(l) = u.get("borrow_limit").filter(|l| !l.is_null()) {
                    b.insert(k, l.clone());
                }
            }
            g.insert(sku.clone(), json!(guarantee));
            if let Some(l) = borrow_limit {
                b.insert(sku, json!(l));
            }
            let body = json!({ "guarantee": g, "borrow_limit": b });
            let a = cl.send("PATCH", &format!("/v1/tenants/{}", encode(&name)), &body)?;
            print(conn, &a, |v| tenant_rows(&json!([v])))
        }
    }
}

/// At most `n` characters of `s`, with an ellipsis if cut (a start event
/// names every tray of its job).
fn clip(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

pub fn events(conn: &Conn, a: &EventsArgs) -> Result<ExitCode> {
    let cl = conn.client()?;
    let mut stream = cl.events(a.after.as_deref())?;
    let mut n = 0u64;
    while a.count.is_none_or(|c| n < c) {
        let Some(e) = next_event(&mut stream)? else {
            break;
        };
        n += 1;
        match conn.output {
            Output::Json => outln!("{}", e.data),
            Output::Table => outln!("{:>12}  {:<18} {}", e.id, e.kind, clip(&e.data, 160)),
        }
        if e.kind == "events_lost" {
            eprintln!(
                "error: the server no longer keeps the events asked for: {}",
                e.data
            );
            return Ok(ExitCode::from(crate::client::exit::NOT_FOUND));
        }
    }
    Ok(ExitCode::SUCCESS)
}
