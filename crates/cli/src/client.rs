//! The HTTP client under `abilene job|tray|rack|tenant|events`: one agent,
//! errors that say what to fix, and exit codes that scripts can rely on.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::Value;

/// Where the CLI finds a server when neither `--server` nor
/// `ABILENE_SERVER` says.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:7480";

/// Exit codes of the client commands, beside 0 (the server did it), 1 (the
/// client could not ask: no server there, or a broken answer) and 2 (bad
/// usage, from clap).
pub mod exit {
    /// The server does not know what was named (HTTP 404).
    pub const NOT_FOUND: u8 = 3;
    /// The server refused the request as given (another 4xx).
    pub const REFUSED: u8 = 4;
    /// The server could not do it now (5xx, busy): retry later.
    pub const UNAVAILABLE: u8 = 5;
}

/// An agent that answers HTTP statuses as values, gives up on a request
/// after `timeout`, and takes an address written as an IP literal as it is.
///
/// ureq's default resolver looks every request's host up again and, when
/// a timeout is set, does so on a new thread so that the lookup can be
/// abandoned: one thread spawned per request, even on a kept-alive
/// connection. Under `abilene bench api` that cost the load generator more
/// CPU than the requests themselves and showed up as the server's latency.
pub fn agent(timeout: Duration) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build();
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::default(),
        LiteralResolver::default(),
    )
}

/// Resolves a host given as an IP literal (`127.0.0.1`, `[::1]`) without a
/// lookup; any other name goes to ureq's default resolver.
#[derive(Debug, Default)]
struct LiteralResolver {
    names: ureq::unversioned::resolver::DefaultResolver,
}

impl ureq::unversioned::resolver::Resolver for LiteralResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let literal = uri.host().and_then(|h| {
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .ok()
        });
        let port = uri.port_u16().or(match uri.scheme_str() {
            Some("http") => Some(80),
            Some("https") => Some(443),
            _ => None,
        });
        match (literal, port) {
            (Some(ip), Some(port)) => {
                let mut addrs = self.empty();
                addrs.push(std::net::SocketAddr::new(ip, port));
                Ok(addrs)
            }
            _ => self.names.resolve(uri, config, timeout),
        }
    }
}

/// An answer: status and JSON body.
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The exit code and a message for a refusal: `code: message (field)`.
    pub fn refusal(&self) -> (ExitCode, String) {
        let code = self
            .body
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or("error");
        let message = self
            .body
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message");
        let field = self
            .body
            .get("field")
            .and_then(Value::as_str)
            .map(|f| format!(" [field: {f}]"))
            .unwrap_or_default();
        let exit = match self.status {
            404 => exit::NOT_FOUND,
            400..=499 if self.status != 429 => exit::REFUSED,
            _ => exit::UNAVAILABLE,
        };
        (
            ExitCode::from(exit),
            format!("server said {} {code}: {message}{field}", self.status),
        )
    }
}

pub struct Client {
    base: String,
    agent: ureq::Agent,
    /// `Bearer <token>`, sent with every request.
    auth: Option<String>,
}

impl Client {
    pub fn new(server: &str, token: Option<&str>) -> Result<Client> {
        let base = server.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            anyhow::bail!("--server {server}: give a URL such as {DEFAULT_SERVER}");
        }
        let agent = agent(Duration::from_secs(60));
        Ok(Client {
            base,
            agent,
            auth: token.map(|t| format!("Bearer {}", t.trim())),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn read(&self, resp: ureq::http::Response<ureq::Body>) -> Result<Answer> {
        let status = resp.status().as_u16();
        let text = resp
            .into_body()
            .read_to_string()
            .context("reading the server's answer")?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .with_context(|| format!("the server's answer is not JSON: {text}"))?
        };
        Ok(Answer { status, body })
    }

    fn unreachable(&self, e: ureq::Error) -> anyhow::Error {
        anyhow::anyhow!(
            "no answer from {} ({e}); is `abilene serve` running there? Set --server or ABILENE_SERVER",
            self.base
        )
    }

    fn authed<B>(&self, r: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.auth {
            Some(a) => r.header("Authorization", a),
            None => r,
        }
    }

    pub fn get(&self, path: &str) -> Result<Answer> {
        let resp = self
            .authed(self.agent.get(&self.url(path)))
            .call()
            .map_err(|e| self.unreachable(e))?;
        self.read(resp)
    }

    /// POSTs (or PATCHes) `body` with an idempotency key, retrying a few
    /// times with the same key when no answer came or the server was busy:
    /// the server acts once whatever happened to the earlier tries.
    pub fn send(&self, method: &str, path: &str, body: &Value) -> Result<Answer> {
        let key = idempotency_key();
        let text = body.to_string();
        let mut last_err = None;
        for attempt in 0..4u32 {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(200 << attempt));
            }
            let req = match method {
                "PATCH" => self.agent.patch(&self.url(path)),
                _ => self.agent.post(&self.url(path)),
            };
            let r = self
                .authed(req)
                .header("Idempotency-Key", &key)
                .header("Content-Type", "application/json")
                .send(text.as_str());
            match r {
                Ok(resp) => {
                    let a = self.read(resp)?;
                    if a.status == 429 || a.status == 503 {
                        last_err = Some(anyhow::anyhow!("{}", a.refusal().1));
                        continue;
                    }
                    return Ok(a);
                }
                Err(e) => last_err = Some(self.unreachable(e)),
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("no answer")))
    }

    /// Opens the event stream after `after` (None: from now).
    pub fn events(&self, after: Option<&str>) -> Result<impl std::io::BufRead> {
        let mut req = self
            .authed(self.agent.get(&self.url("/v1/events")))
            .config()
            .timeout_global(None)
            .build();
        if let Some(a) = after {
            req = req.header("Last-Event-ID", a);
        }
        let resp = req.call().map_err(|e| self.unreachable(e))?;
        if resp.status().as_u16() != 200 {
            let a = self.read(resp)?;
            anyhow::bail!("{}", a.refusal().1);
        }
        Ok(std::io::BufReader::new(resp.into_body().into_reader()))
    }
}

/// A key unique to this invocation: the clock and the process id, enough
/// to tell one person's commands apart (the server scopes keys by caller).
fn idempotency_key() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("cli-{}-{nanos}", std::process::id())
}

/// One event of a stream: (id, kind, data).
pub struct StreamItem {
    pub id: String,
    pub kind: String,
    pub data: String,
}

/// Reads the next event from an SSE stream; None at its end.
pub fn next_event(r: &mut impl std::io::BufRead) -> Result<Option<StreamItem>> {
    let (mut id, mut kind, mut data) = (String::new(), String::new(), String::new());
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).context("reading the event stream")? == 0 {
            return Ok(None);
        }
        let l = line.trim_end_matches(['\n', '\r']);
        if l.is_empty() {
            if !data.is_empty() || !kind.is_empty() {
                return Ok(Some(StreamItem { id, kind, data }));
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
}
