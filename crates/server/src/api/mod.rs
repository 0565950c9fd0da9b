//! The REST API under `/v1`: thin handlers over the engine (reads) and the
//! writer (commands). The OpenAPI document is built from the same route
//! table and types as the handlers, so the two cannot drift.

pub mod audit;
pub mod campus;
pub mod dashboard;
pub mod error;
pub mod events;
pub mod guard;
pub mod health;
pub mod jobs;
pub mod map;
pub mod metrics;
pub mod ops;
pub mod tenants;
pub mod tokens;

pub use guard::{Caller, LimitState, Limits};

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tokio::sync::{broadcast, oneshot};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::engine::{Engine, StreamEvent};
use crate::writer::{Idempotency, Reply, Request, Responder, SendError, WriterHandle};
use abilene_scheduler::Command;
use error::ApiError;

/// Largest request body: a submission is well under 1 KiB; a reservation
/// of [`abilene_scheduler::MAX_TARGETS`] names stays under this.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Longest `Idempotency-Key` (Stripe allows 255 characters).
pub const MAX_IDEMPOTENCY_KEY: usize = 255;
/// How long a command may wait for the writer before the client is told.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler shares, behind one `Arc`: the guard and the handler
/// each take a copy per request, one reference count, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct Shared {
    pub engine: Arc<RwLock<Engine>>,
    pub writer: WriterHandle,
    pub events: broadcast::Sender<StreamEvent>,
    /// False until the state is restored; false again once the writer stops.
    pub ready: Arc<AtomicBool>,
    pub writer_stopped: Arc<AtomicBool>,
    pub campus_name: Arc<str>,
    /// The SKU of a submission that names none (the campus's first rack's).
    pub default_sku: Arc<str>,
    pub speed: f64,
    /// Turns true when the server shuts down: event streams end.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Job pages already written for the state as of one log record.
    pub pages: Arc<std::sync::Mutex<PageCache>>,
    /// Every token, read by the guard; the writer changes it after commit.
    pub tokens: Arc<RwLock<crate::auth::Tokens>>,
    /// The audit log, read beside the writer.
    pub audit: Arc<std::sync::Mutex<Box<dyn crate::store::AuditReader>>>,
    pub limits: Arc<LimitState>,
    /// The root of the tenancy tree: a token scoped to it reaches the
    /// whole campus.
    pub root: Arc<str>,
    /// The server's own instruments, for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The fleet's GPU telemetry, for the per-rack endpoints.
    pub telemetry: Arc<crate::metrics::dcgm::Telemetry>,
    /// Served over TLS: discovery documents say `https`.
    pub tls: bool,
}

/// Pages of jobs already written, valid while the state stays at `seq`:
/// between two writer rounds the same query gives the same bytes, and a
/// dashboard or a script polls the same few pages. Cleared by the first
/// read after the state moves on; at most [`PageCache::MAX`] pages.
#[derive(Default)]
pub struct PageCache {
    seq: u64,
    pages: std::collections::HashMap<String, Bytes>,
}

impl PageCache {
    pub const MAX: usize = 256;

    /// The page for `key` at `seq`, if written.
    pub fn get(&mut self, seq: u64, key: &str) -> Option<Bytes> {
        if self.seq != seq {
            self.seq = seq;
            self.pages.clear();
            return None;
        }
        self.pages.get(key).cloned()
    }

    pub fn put(&mut self, seq: u64, key: String, page: Bytes) {
        if self.seq != seq {
            self.seq = seq;
            self.pages.clear();
        }
        if self.pages.len() >= Self::MAX {
            self.pages.clear();
        }
        self.pages.insert(key, page);
    }
}

impl Shared {
    pub fn read(&self) -> RwLockReadGuard<'_, Engine> {
        // A writer that panicked left the state as it was before the round.
        self.engine.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// Parses a JSON body: the right content type, within the size limit,
/// unknown fields refused, and the failing field named.
pub fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let v = v.split(';').next().unwrap_or("").trim();
            v.eq_ignore_ascii_case("application/json")
        });
    if !json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "bad_content_type",
            "the body must be JSON: send `Content-Type: application/json`",
        )
        .field("Content-Type"));
    }
    parse_json_bytes(body)
}

/// Parses JSON already known to be JSON by its content type (or a body
/// the server supplies, such as `{}` for an empty one): unknown fields
/// refused, the failing field named.
pub fn parse_json_bytes<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let code = if inner.is_data() {
            "bad_field"
        } else {
            "bad_json"
        };
        // A missing field is reported at its parent's path ("." at the
        // top); the field to name is the one missing (fixed in the
        // api-tests branch: it said `body`).
        let missing = inner
            .to_string()
            .strip_prefix("missing field `")
            .and_then(|m| m.split_once('`'))
            .map(|(name, _)| name.to_string());
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => name,
            (".", None) => "body".to_string(),
            (p, Some(name)) => format!("{p}.{name}"),
            (p, None) => p.to_string(),
        };
        ApiError::bad(code, &field, format!("{field}: {inner}"))
    })?;
    Ok(value)
}

/// Refuses a query number above the int64 the document gives every id
/// and campus time (`u64` in Rust, so serde alone accepts up to 2^64-1).
pub fn at_most_int64(field: &str, v: Option<u64>) -> Result<(), ApiError> {
    match v {
        Some(v) if v > i64::MAX as u64 => Err(ApiError::bad(
            "bad_value",
            field,
            format!("{field} = {v}: at most {}", i64::MAX),
        )),
        _ => Ok(()),
    }
}

/// The `Idempotency-Key` of a request, if it has one, with the hash of
/// what it asks.
pub fn idempotency(
    headers: &HeaderMap,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<Option<Idempotency>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let bad = |why: &str| ApiError::bad("bad_idempotency_key", "Idempotency-Key", why.to_string());
    let bytes = v.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_IDEMPOTENCY_KEY {
        return Err(bad("Idempotency-Key must be 1 to 255 characters"));
    }
    // Visible ASCII without spaces: the documented pattern `^[!-~]{1,255}$`.
    if !bytes.iter().all(|b| (b'!'..=b'~').contains(b)) {
        return Err(bad(
            "Idempotency-Key must be visible ASCII characters, no spaces",
        ));
    }
    let key = String::from_utf8_lossy(bytes);
    Ok(Some(Idempotency {
        key: key.to_string(),
        request_hash: request_hash(method, path, body),
    }))
}

/// SHA-256 of a request's method, path and body, in hex: what an
/// idempotent reply is kept against.
pub fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b" ");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(body);
    crate::auth::hex(&h.finalize())
}

/// Sends commands to the writer and waits for the durable answer.
pub async fn execute(
    st: &AppState,
    caller: &Caller,
    idem: Option<Idempotency>,
    commands: Vec<Command>,
    respond: Responder,
) -> Response {
    execute_with(st, caller, idem, commands, Vec::new(), true, respond).await
}

/// [`execute`], with token changes, and whether the reply may be kept for
/// a retry (not one that shows a secret).
pub async fn execute_with(
    st: &AppState,
    caller: &Caller,
    idem: Option<Idempotency>,
    commands: Vec<Command>,
    tokens: Vec<crate::auth::TokenRecord>,
    keep_reply: bool,
    respond: Responder,
) -> Response {
    let (tx, rx) = oneshot::channel();
    let what = command_kinds(&commands, &tokens);
    let req = Request {
        caller: caller.id.clone(),
        idempotency: idem,
        commands,
        tokens,
        keep_reply,
        audit: Some(caller.draft(what)),
        respond,
        reply: tx,
    };
    if let Err(e) = st.writer.send(req) {
        return match e {
            SendError::Busy => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "busy",
                "the server's command queue is full; retry with the same Idempotency-Key",
            )
            .into_response(),
            SendError::Stopped => stopped(),
        };
    }
    match tokio::time::timeout(COMMAND_TIMEOUT, rx).await {
        Ok(Ok(reply)) => {
            let mut r = reply_response(reply);
            r.extensions_mut().insert(guard::Audited);
            r
        }
        // The writer dropped the request: it stopped before committing.
        Ok(Err(_)) => stopped(),
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "no durable answer within 30 s; retry with the same Idempotency-Key",
        )
        .into_response(),
    }
}

/// What a request does, for its audit record: its command kinds.
fn command_kinds(commands: &[Command], tokens: &[crate::auth::TokenRecord]) -> String {
    let mut what: Vec<&str> = commands.iter().map(Command::kind).collect();
    what.dedup();
    if !tokens.is_empty() {
        what.push("token");
    }
    let mut s = what.join(",");
    if commands.len() > 1 {
        s.push_str(&format!(" x{}", commands.len()));
    }
    s
}

fn stopped() -> Response {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "stopped",
        "the server is not taking commands (shutting down, or its store failed)",
    )
    .into_response()
}

pub fn reply_response(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        reply.body,
    )
        .into_response()
}

/// A reply with a JSON body.
pub fn json_reply<T: serde::Serialize>(status: StatusCode, value: &T) -> Reply {
    Reply {
        status: status.as_u16(),
        body: serde_json::to_string(value).unwrap_or_default(),
    }
}

/// The first refusal among a request's results, as its reply.
pub fn first_reject(results: &[abilene_scheduler::CommandResult]) -> Option<Reply> {
    results
        .iter()
        .find_map(|r| r.as_ref().err())
        .map(|r| ApiError::from_reject(r).reply())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "abilene",
        description = "The control plane of a gigawatt AI campus: jobs, inventory, operations, tenancy, events.",
        license(name = "Apache-2.0")
    ),
    components(schemas(error::ErrorBody, jobs::StateName, crate::engine::KindName)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// The route table: handlers and their OpenAPI operations, together.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::routes())
        .merge(jobs::routes())
        .merge(campus::routes())
        .merge(map::routes())
        .merge(ops::routes())
        .merge(tenants::routes())
        .merge(events::routes())
        .merge(tokens::routes())
        .merge(audit::routes())
        .merge(metrics::routes())
}

/// The bearer scheme in the OpenAPI document, required everywhere but
/// health.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from `abilene admin token create`"))
                    .build(),
            ),
        );
        doc.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// The whole application: routes, the OpenAPI document, limits, errors
/// as JSON for unknown routes.
pub fn app(state: AppState) -> axum::Router {
    let (router, doc) = routes().split_for_parts();
    let doc = Arc::new(doc);
    router
        // Every route so far; the OpenAPI document and the fallbacks
        // below are outside it (the guard passes health through itself).
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ))
        .route(
            "/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        // The dashboard's static files: public, outside the guard.
        .merge(dashboard::routes())
        .fallback(|| async {
            ApiError::not_found("not_found", "no such route; see /v1/openapi.json")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method; see /v1/openapi.json",
            )
        })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// The OpenAPI document, for tests and `abilene serve --openapi`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// A request body as bytes, at most [`MAX_BODY_BYTES`]; a larger one is a
/// 413 with an error body like every other.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for RawBody {
    type Rejection = ApiError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<RawBody, ApiError> {
        match Bytes::from_request(req, state).await {
            Ok(b) => Ok(RawBody(b)),
            Err(e) => {
                let status = e.status();
                let (status, code) = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    (status, "body_too_large")
                } else {
                    (StatusCode::BAD_REQUEST, "bad_body")
                };
                Err(ApiError::new(
                    status,
                    code,
                    format!("{} (the limit is {MAX_BODY_BYTES} bytes)", e.body_text()),
                )
                .field("body"))
            }
        }
    }
}

/// The `Idempotency-Key` header every command takes.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyHeader {
    /// Makes a retried request act once: 1 to 255 visible ASCII
    /// characters, private to the caller. The same key with another
    /// request is refused (422 `idempotency_key_reused`).
    #[serde(rename = "Idempotency-Key")]
    #[param(pattern = r"^[!-~]{1,255}$")]
    pub idempotency_key: Option<String>,
}

/// What any command may answer besides success.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum CommandErrors {
    /// Bad input: malformed JSON, a wrong type, an unknown field, a value
    /// out of range, a bad header
    #[response(status = 400)]
    BadRequest(error::ErrorBody),
    /// No token, or one that is unknown, expired or revoked
    #[response(status = 401)]
    Unauthenticated(error::ErrorBody),
    /// The token's role may not do this
    #[response(status = 403)]
    Forbidden(error::ErrorBody),
    /// An unknown job, tenant, tray, rack, hall or building
    #[response(status = 404)]
    NotFound(error::ErrorBody),
    /// It exists already, or is in use
    #[response(status = 409)]
    Conflict(error::ErrorBody),
    /// The body is over 256 KiB
    #[response(status = 413)]
    TooLarge(error::ErrorBody),
    /// The body is not `application/json`
    #[response(status = 415)]
    NotJson(error::ErrorBody),
    /// Understood but refused: over quota, a shape the campus cannot
    /// hold, an idempotency key reused
    #[response(status = 422)]
    Refused(error::ErrorBody),
    /// The command queue is full, or the token is over its rate: retry
    /// with the same key
    #[response(status = 429)]
    Busy(error::ErrorBody),
    /// Not taking commands (shutting down, or the store failed)
    #[response(status = 503)]
    Unavailable(error::ErrorBody),
}

/// What any read may answer besides success.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum ReadErrors {
    /// A bad query or path
    #[response(status = 400)]
    BadRequest(error::ErrorBody),
    /// No token, or one that is unknown, expired or revoked
    #[response(status = 401)]
    Unauthenticated(error::ErrorBody),
    /// The token's role may not read this
    #[response(status = 403)]
    Forbidden(error::ErrorBody),
    /// Unknown, or outside the caller's scope
    #[response(status = 404)]
    NotFound(error::ErrorBody),
    /// Over the token's rate: wait for `Retry-After`
    #[response(status = 429)]
    RateLimited(error::ErrorBody),
    /// At the server's limit of requests in flight, or too slow
    #[response(status = 503)]
    Unavailable(error::ErrorBody),
}
