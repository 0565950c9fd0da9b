//! `abilene admin ...` and `abilene audit`: the first token of a store,
//! tokens on a server, the audit log and its verification.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::client_cmd::{Conn, Output};
use crate::format::table;
use crate::out::outln;

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Make an operator-admin token in a store that has no live one (a new
    /// store, or one whose operator tokens expired or were revoked; the
    /// server must be stopped), and show it once
    Init {
        /// The store's directory
        #[arg(long, default_value = "abilene-data")]
        data: PathBuf,
        /// Write the token to this file (mode 0600) instead of showing it
        #[arg(long)]
        token_file: Option<PathBuf>,
    },
    /// Tokens on a server: create, list, revoke
    #[command(subcommand)]
    Token(TokenCommand),
    /// The audit log of a store
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token at or below your own scope and role; shown once
    Create {
        /// The tenant node it reaches (yours if left out)
        #[arg(long)]
        tenant: Option<String>,
        /// operator-admin, lessee-admin, tenant-admin, submitter, viewer
        /// or auditor
        #[arg(long)]
        role: String,
        /// Lifetime (`30d`, `12h`, `90m`, `3600s`); never expires if left out
        #[arg(long)]
        expires: Option<String>,
        /// Who or what holds it
        #[arg(long)]
        name: String,
    },
    /// Tokens within your scope
    List,
    /// Revoke a token: refused at once from then on
    Revoke { id: String },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Walk the audit log's hash chain in the store: exit 0 if intact,
    /// 1 naming the first broken record
    Verify {
        #[arg(long, default_value = "abilene-data")]
        data: PathBuf,
    },
}

/// `abilene audit`: the audit log through the server.
#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Records after this seq
    #[arg(long)]
    pub after: Option<u64>,
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Only this token's calls
    #[arg(long)]
    pub token_id: Option<String>,
    /// Only refused calls
    #[arg(long)]
    pub refused: bool,
}

/// `30d`, `12h`, `90m`, `3600s` (or plain seconds) as seconds.
fn lifetime(s: &str) -> Result<u64> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| s.split_at(i));
    let n: u64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("--expires {s}: give a number and a unit, e.g. 30d"))?;
    let unit_s = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => anyhow::bail!("--expires {s}: the unit is s, m, h or d"),
    };
    n.checked_mul(unit_s)
        .ok_or_else(|| anyhow::anyhow!("--expires {s}: too long"))
}

pub fn admin(conn: &Conn, c: AdminCommand) -> Result<ExitCode> {
    match c {
        AdminCommand::Init { data, token_file } => {
            let token = abilene_server::serve::init_admin(&data, token_file.as_deref())?;
            match token_file {
                Some(f) => {
                    eprintln!(
                        "abilene admin init: the operator's admin token is in {}",
                        f.display()
                    );
                }
                None => {
                    eprintln!(
                        "abilene admin init: the operator's admin token, shown once (keep it; export ABILENE_TOKEN=...):"
                    );
                    outln!("{}", token);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Token(t) => token(conn, t),
        AdminCommand::Audit(AuditCommand::Verify { data }) => verify(&data),
    }
}

fn verify(data: &std::path::Path) -> Result<ExitCode> {
    let mut r = abilene_server::store::SqliteAudit::open(data)?;
    match r.verify()? {
        Ok((n, head)) => {
            outln!(
                "{}",
                format!(
                    "audit log intact: {n} records, head {head} (keep the head elsewhere to detect a rewrite of the whole chain)"
                )
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(broken) => {
            eprintln!("audit log broken: {broken}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn refused(a: &crate::client::Answer) -> ExitCode {
    let (code, text) = a.refusal();
    eprintln!("{text}");
    code
}

fn token(conn: &Conn, c: TokenCommand) -> Result<ExitCode> {
    let cl = conn.client()?;
    let a = match c {
        TokenCommand::Create {
            tenant,
            role,
            expires,
            name,
        } => {
            let mut body = json!({ "name": name, "role": role });
            if let Some(t) = tenant {
                body["tenant"] = json!(t);
            }
            if let Some(e) = expires {
                body["expires_in_s"] = json!(lifetime(&e)?);
            }
            let a = cl.send("POST", "/v1/tokens", &body)?;
            if !a.ok() {
                return Ok(refused(&a));
            }
            if conn.output == Output::Json {
                outln!("{}", a.body.to_string());
            } else {
                eprintln!(
                    "token {} ({}, {}), shown once:",
                    s(&a.body, "id"),
                    s(&a.body, "role"),
                    a.body
                        .get("tenant")
                        .and_then(Value::as_str)
                        .unwrap_or("the whole campus")
                );
                outln!("{}", s(&a.body, "token"));
            }
            return Ok(ExitCode::SUCCESS);
        }
        TokenCommand::List => cl.get("/v1/tokens")?,
        TokenCommand::Revoke { id } => {
            cl.send("POST", &format!("/v1/tokens/{id}/revoke"), &json!({}))?
        }
    };
    if !a.ok() {
        return Ok(refused(&a));
    }
    if conn.output == Output::Json {
        outln!("{}", a.body.to_string());
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = match a.body.as_array() {
        Some(list) => list.iter().map(token_row).collect(),
        None => vec![token_row(&a.body)],
    };
    outln!(
        "{}",
        table(
            &["id", "name", "role", "tenant", "expires", "revoked"],
            rows,
            4
        )
    );
    Ok(ExitCode::SUCCESS)
}

fn s(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "-".into(),
        Some(x) => x.to_string(),
    }
}

fn token_row(t: &Value) -> Vec<String> {
    vec![
        s(t, "id"),
        s(t, "name"),
        s(t, "role"),
        t.get("tenant")
            .and_then(Value::as_str)
            .unwrap_or("(campus)")
            .to_string(),
        s(t, "expires_ms"),
        s(t, "revoked_ms"),
    ]
}

pub fn audit(conn: &Conn, a: &AuditArgs) -> Result<ExitCode> {
    let cl = conn.client()?;
    let mut q = format!("/v1/audit?limit={}", a.limit);
    if let Some(after) = a.after {
        q.push_str(&format!("&after={after}"));
    }
    if let Some(t) = &a.token_id {
        q.push_str(&format!("&token={t}"));
    }
    if a.refused {
        q.push_str("&refused=true");
    }
    let ans = cl.get(&q)?;
    if !ans.ok() {
        return Ok(refused(&ans));
    }
    if conn.output == Output::Json {
        outln!("{}", ans.body.to_string());
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = ans.body["records"]
        .as_array()
        .map(|v| v.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            vec![
                s(r, "seq"),
                s(r, "at_ms"),
                s(r, "token_name"),
                s(r, "role"),
                s(r, "scope"),
                s(r, "source"),
                format!("{} {}", s(r, "method"), s(r, "path")),
                s(r, "what"),
                s(r, "status"),
                s(r, "code"),
            ]
        })
        .collect();
    outln!(
        "{}",
        table(
            &[
                "seq", "at_ms", "token", "role", "scope", "source", "call", "what", "status",
                "code"
            ],
            rows,
            0,
        )
    );
    if let Some(n) = ans.body.get("next") {
        eprintln!("more: --after {n}");
    }
    Ok(ExitCode::SUCCESS)
}
