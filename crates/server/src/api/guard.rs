//! The guard in front of every /v1 route: who is calling (bearer token),
//! whether they are within their rate, whether the server has room, and an
//! audit record for every call that was refused before a handler sent it
//! to the writer (the writer audits the rest, in the same commit).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::AppState;
use super::error::ApiError;
use crate::audit::AuditDraft;
use crate::auth::{Action, Role, TokenRecord, bearer};
use crate::clock::wall_ms;

/// Limits every server applies, each with its range (SECURITY.md).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Requests per second one token (or, without a token, one address)
    /// may make, sustained: 1 to 1,000,000.
    pub rate_per_s: u32,
    /// Requests one token may make at once before the rate applies (the
    /// bucket's size): 1 to 1,000,000.
    pub burst: u32,
    /// Requests being handled at once, over all callers; beyond, a 503
    /// `overloaded` at once: 1 to 100,000.
    pub max_in_flight: usize,
    /// Longest a request may take before a 503 `timeout`: 1 s to 300 s.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            rate_per_s: 5_000,
            burst: 10_000,
            max_in_flight: 1_024,
            request_timeout: Duration::from_secs(60),
        }
    }
}

impl Limits {
    pub const RATE: std::ops::RangeInclusive<u32> = 1..=1_000_000;
    pub const IN_FLIGHT: std::ops::RangeInclusive<usize> = 1..=100_000;
    pub const TIMEOUT: std::ops::RangeInclusive<Duration> =
        Duration::from_secs(1)..=Duration::from_secs(300);

    /// The first setting out of its range, named.
    pub fn check(&self) -> Result<(), String> {
        if !Self::RATE.contains(&self.rate_per_s) {
            return Err(format!(
                "rate-limit {}: must be 1 to 1000000 requests a second",
                self.rate_per_s
            ));
        }
        if !Self::RATE.contains(&self.burst) {
            return Err(format!(
                "rate-burst {}: must be 1 to 1000000 requests",
                self.burst
            ));
        }
        if !Self::IN_FLIGHT.contains(&self.max_in_flight) {
            return Err(format!(
                "max-in-flight {}: must be 1 to 100000 requests",
                self.max_in_flight
            ));
        }
        if !Self::TIMEOUT.contains(&self.request_timeout) {
            return Err(format!(
                "request-timeout {:?}: must be 1 s to 300 s",
                self.request_timeout
            ));
        }
        Ok(())
    }
}

/// The limits as they run.
pub struct LimitState {
    rate: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    in_flight: tokio::sync::Semaphore,
    timeout: Duration,
    /// The second (wall) in which each key was last audited as rate
    /// limited: one record a key a second, not one per refused call.
    limited_audited: Mutex<HashMap<String, u64>>,
}

/// Keys remembered for the one-a-second audit of rate-limited callers;
/// the map is cleared past this, so it stays bounded under a flood.
const MAX_LIMITED_KEYS: usize = 100_000;

impl LimitState {
    pub fn new(l: &Limits) -> LimitState {
        let rate = NonZeroU32::new(l.rate_per_s.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(l.burst.max(1)).unwrap_or(NonZeroU32::MIN);
        LimitState {
            rate: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            clock: DefaultClock::default(),
            in_flight: tokio::sync::Semaphore::new(l.max_in_flight),
            timeout: l.request_timeout,
            limited_audited: Mutex::new(HashMap::new()),
        }
    }

    /// Ok, or how long until `key` may call again.
    fn check(&self, key: &str) -> Result<(), Duration> {
        // The keyed map grows with distinct keys; drop idle ones now and
        // then (governor's own housekeeping).
        if self.rate.len() > MAX_LIMITED_KEYS {
            self.rate.retain_recent();
        }
        self.rate
            .check_key(&key.to_string())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Whether this refusal of `key` is the first of its second.
    fn first_this_second(&self, key: &str) -> bool {
        let second = wall_ms() / 1_000;
        let mut m = self
            .limited_audited
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if m.len() > MAX_LIMITED_KEYS {
            m.clear();
        }
        match m.insert(key.to_string(), second) {
            Some(s) => s != second,
            None => true,
        }
    }
}

/// Where a call came from and what it asked, for its audit record.
#[derive(Debug, Clone)]
pub struct Call {
    pub source: Option<String>,
    pub method: String,
    pub path: String,
    pub at_ms: u64,
}

/// Who is asking: the token's identity, role and scope. Every handler
/// takes one; lists filter by [`Caller::scope`].
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's id; idempotency keys are private to it.
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The tenant node whose subtree the caller reaches; None: the whole
    /// campus.
    pub scope: Option<String>,
    pub call: Call,
}

impl Caller {
    fn new(t: &TokenRecord, root: &str, call: Call) -> Caller {
        Caller {
            id: t.id.clone(),
            name: t.name.clone(),
            role: t.role,
            // A token scoped to the root reaches what the operator's does.
            scope: t.scope.clone().filter(|s| s != root),
            call,
        }
    }

    /// 403 unless the role may do `a`.
    pub fn may(&self, a: Action) -> Result<(), ApiError> {
        if self.role.can(a) {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("a {} token may not do this", self.role.name()),
        ))
    }

    /// Whether the caller reaches something scoped to tenant node `node`
    /// (None: the whole campus, which only a whole-campus caller reaches).
    pub fn reaches(&self, e: &crate::engine::Engine, node: Option<&str>) -> bool {
        match (&self.scope, node) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(scope), Some(n)) => e.sched.tenant_is_under(n, scope),
        }
    }

    /// Whether the caller reaches the whole campus (its inventory too).
    pub fn whole_campus(&self) -> bool {
        self.scope.is_none()
    }

    /// May read `what`, the campus's own state: a whole-campus reader's,
    /// 403 to anyone scoped below the root (a tenant sees its own jobs).
    pub fn reads_whole_campus(&self, what: &str) -> Result<(), ApiError> {
        self.may(Action::Read)?;
        if self.whole_campus() {
            return Ok(());
        }
        Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "{what} is the operator's; a tenant sees its own jobs and the trays they run on"
            ),
        ))
    }

    /// The audit record of this call, its `what` named.
    pub fn draft(&self, what: String) -> AuditDraft {
        AuditDraft {
            at_ms: self.call.at_ms,
            token: Some(self.id.clone()),
            token_name: Some(self.name.clone()),
            role: Some(self.role.name().to_string()),
            scope: self.scope.clone(),
            source: self.call.source.clone(),
            method: self.call.method.clone(),
            path: self.call.path.clone(),
            what,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Caller, ApiError> {
        // Put there by `guard`, which runs before every /v1 handler and
        // keeps its own copy: taken, not cloned a second time.
        parts.extensions.remove::<Caller>().ok_or_else(|| {
            unauthenticated("unauthenticated", "send `Authorization: Bearer <token>`")
        })
    }
}

/// Marks a response whose call the writer audited already.
#[derive(Debug, Clone, Copy)]
pub struct Audited;

/// The stable code of an error response, for its audit record.
#[derive(Debug, Clone)]
pub struct ErrorCode(pub String);

fn unauthenticated(code: &str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

fn with_retry_after(mut r: Response, wait: Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// Whether a call changes something (and so is always audited).
fn mutating(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Paths that answer without a token: health answers load balancers,
/// which hold none.
fn public(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

/// The middleware: times the request for `/metrics`, then [`guarded`].
pub async fn guard(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(no route)", |r| r.as_str())
        .to_string();
    let method = req.method().to_string();
    let metrics = st.metrics.clone();
    let response = guarded(st, req, next).await;
    metrics
        .requests
        .get_or_create(&crate::metrics::RequestLabels {
            route,
            method,
            status: response.status().as_u16(),
        })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Authenticate, limit, run, audit what the writer did not.
async fn guarded(st: AppState, mut req: Request, next: Next) -> Response {
    if public(req.uri().path()) {
        return next.run(req).await;
    }
    let method = req.method().clone();
    // The route template, for audit records only: kept as the cheap
    // `MatchedPath` and written out only when a record is made.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let call = Call {
        source: req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.to_string()),
        method: method.to_string(),
        path: req.uri().path().to_string(),
        at_ms: wall_ms(),
    };
    let what = || match &route {
        Some(r) => format!("{method} {}", r.as_str()),
        None => format!("{method} (no route)"),
    };
    let auth = {
        let tokens = st.tokens.read().unwrap_or_else(|p| p.into_inner());
        bearer(
            req.headers()
                .get(header::AUTHORIZATION)
                .map(|v| v.as_bytes()),
        )
        .and_then(|t| tokens.authenticate(t, call.at_ms).cloned())
    };
    let caller = match auth {
        Ok(t) => Caller::new(&t, &st.root, call),
        Err(refused) => {
            // Without a token the address is the key: a flood of bad
            // tokens is limited like a flood of good ones.
            let key = format!(
                "addr:{}",
                call.source
                    .as_deref()
                    .and_then(|s| s.rsplit_once(':'))
                    .map_or("", |x| x.0)
            );
            let draft = AuditDraft {
                at_ms: call.at_ms,
                token: None,
                token_name: None,
                role: None,
                scope: None,
                source: call.source,
                method: call.method,
                path: call.path,
                what: what(),
            };
            if let Err(wait) = st.limits.check(&key) {
                if st.limits.first_this_second(&key) {
                    st.writer.refused(draft, 429, Some("rate_limited".into()));
                }
                return refuse(req, rate_limited(wait)).await;
            }
            st.writer
                .refused(draft, 401, Some(refused.code().to_string()));
            let mut r = unauthenticated(refused.code(), refused.message()).into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"abilene\""),
            );
            return refuse(req, r).await;
        }
    };
    if let Err(wait) = st.limits.check(&caller.id) {
        if st.limits.first_this_second(&caller.id) {
            st.writer.refused(
                caller.draft(format!("{} (rate limited; one record a second)", what())),
                429,
                Some("rate_limited".into()),
            );
        }
        return refuse(req, rate_limited(wait)).await;
    }
    let Ok(permit) = st.limits.in_flight.try_acquire() else {
        // Shedding load: not audited one by one (that would add to the
        // load being shed); the count is in the server's log.
        tracing::debug!("request shed: max-in-flight reached");
        let r = with_retry_after(
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "the server is at its limit of requests in flight; retry shortly",
            )
            .into_response(),
            Duration::from_secs(1),
        );
        return refuse(req, r).await;
    };
    req.extensions_mut().insert(caller.clone());
    let response = match tokio::time::timeout(st.limits.timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took longer than the server's request timeout; retry (commands with the same Idempotency-Key)",
        )
        .into_response(),
    };
    drop(permit);
    let status = response.status();
    if response.extensions().get::<Audited>().is_none()
        && (mutating(&method) || status.is_client_error())
    {
        let code = response
            .extensions()
            .get::<ErrorCode>()
            .map(|c| c.0.clone());
        st.writer
            .refused(caller.draft(what()), status.as_u16(), code);
    }
    response
}

/// Longest a refused request's body is read for, so that its connection
/// can carry the client's next request.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// A refusal sent before the handler read the body. The body is read
/// (within the body limit and [`DRAIN_TIMEOUT`]) and dropped first: a
/// connection whose request body was left unread is closed by hyper after
/// the answer, and a keep-alive client would lose the request it sent next
/// on it. A body that cannot be read so gets `Connection: close`, so the
/// client knows.
async fn refuse(req: Request, mut r: Response) -> Response {
    let drained = tokio::time::timeout(
        DRAIN_TIMEOUT,
        axum::body::to_bytes(req.into_body(), super::MAX_BODY_BYTES),
    )
    .await;
    if !matches!(drained, Ok(Ok(_))) {
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

fn rate_limited(wait: Duration) -> Response {
    with_retry_after(
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "this token (or address) is over its rate; wait for Retry-After seconds",
        )
        .into_response(),
        wait,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_out_of_range_are_named() {
        assert!(Limits::default().check().is_ok());
        let l = Limits {
            rate_per_s: 0,
            ..Limits::default()
        };
        assert!(l.check().unwrap_err().contains("rate-limit 0"));
        let l = Limits {
            request_timeout: Duration::from_secs(301),
            ..Limits::default()
        };
        assert!(l.check().unwrap_err().contains("request-timeout"));
    }

    #[test]
    fn a_key_over_its_rate_waits_and_is_audited_once_a_second() {
        let s = LimitState::new(&Limits {
            rate_per_s: 1,
            burst: 2,
            ..Limits::default()
        });
        assert!(s.check("a").is_ok());
        assert!(s.check("a").is_ok());
        let wait = s.check("a").unwrap_err();
        assert!(wait <= Duration::from_secs(1));
        // Another key has its own budget.
        assert!(s.check("b").is_ok());
        assert!(s.first_this_second("a"));
        assert!(!s.first_this_second("a"));
    }
}
