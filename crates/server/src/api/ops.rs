//! Operations: drain, resume and mark repaired trays and racks, power
//! caps, reservations. Each is a command, durable when answered.

use abilene_scheduler::{Command, CommandResult, PowerScope, ReservationSpec};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::{
    AppState, Caller, RawBody, execute, first_reject, idempotency, json_reply, parse_json,
};
use crate::engine::Engine;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tray_drain))
        .routes(routes!(tray_resume))
        .routes(routes!(tray_repaired))
        .routes(routes!(rack_drain))
        .routes(routes!(rack_resume))
        .routes(routes!(power_cap))
        .routes(routes!(reserve))
}

/// Longest reason an operator may give.
pub const MAX_REASON: usize = 1_000;

/// Why trays are drained.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrainBody {
    /// Why, for the people who will look (at most 1,000 characters).
    pub reason: String,
}

/// A command that takes no arguments.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// What an operation did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Done {
    /// The command's kind: `drain`, `resume`, `tray_repaired`, ...
    pub command: String,
    /// The log record that holds it.
    pub seq: u64,
}

pub(super) fn done(
    commands: &[Command],
    results: &[CommandResult],
    e: &Engine,
) -> crate::writer::Reply {
    if let Some(r) = first_reject(results) {
        return r;
    }
    json_reply(
        StatusCode::OK,
        &Done {
            command: commands.first().map_or("", Command::kind).to_string(),
            seq: e.seq,
        },
    )
}

/// An operation: the body parsed (an empty body reads as `{}`), the key
/// checked, the command sent.
async fn operate<T: serde::de::DeserializeOwned>(
    st: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
    make: impl FnOnce(T) -> Result<Command, ApiError>,
) -> Result<Response, ApiError> {
    operator_only(caller)?;
    let idem = idempotency(headers, "POST", path, body)?;
    let value: T = if body.is_empty() {
        // An empty body reads as `{}`; what it lacks is a field error, as
        // for any other body (it was `bad_json` on `body`, fixed in the
        // api-tests branch).
        super::parse_json_bytes(b"{}")?
    } else {
        parse_json(headers, &axum::body::Bytes::copy_from_slice(body))?
    };
    let command = make(value)?;
    Ok(execute(st, caller, idem, vec![command], Box::new(done)).await)
}

/// Campus operations are the operator's.
pub fn operator_only(caller: &Caller) -> Result<(), ApiError> {
    caller.may(crate::auth::Action::Hardware)
}

fn reason(r: String) -> Result<String, ApiError> {
    if r.chars().count() > MAX_REASON {
        return Err(ApiError::bad(
            "bad_value",
            "reason",
            format!("reason: at most {MAX_REASON} characters"),
        ));
    }
    Ok(r)
}

/// Drain a tray: no new work; running jobs finish
#[utoipa::path(post, path = "/v1/trays/{building}/{hall}/{rack}/{tray}/drain", tag = "operations",
    request_body = DrainBody,
    params(("building" = String, Path), ("hall" = String, Path), ("rack" = String, Path), ("tray" = String, Path),
           super::IdempotencyHeader),
    responses((status = 200, description = "Drained", body = Done), super::CommandErrors))]
async fn tray_drain(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((b, h, r, t)): Path<(String, String, String, String)>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let name = format!("{b}/{h}/{r}/{t}");
    let path = format!("/v1/trays/{name}/drain");
    operate(&st, &caller, &headers, &path, &body, |d: DrainBody| {
        Ok(Command::Drain {
            targets: vec![name],
            reason: reason(d.reason)?,
        })
    })
    .await
}

/// Resume a drained tray
#[utoipa::path(post, path = "/v1/trays/{building}/{hall}/{rack}/{tray}/resume", tag = "operations",
    request_body(content = Option<Empty>, description = "Nothing, or `{}`"),
    params(("building" = String, Path), ("hall" = String, Path), ("rack" = String, Path), ("tray" = String, Path),
           super::IdempotencyHeader),
    responses((status = 200, description = "Resumed", body = Done), super::CommandErrors))]
async fn tray_resume(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((b, h, r, t)): Path<(String, String, String, String)>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let name = format!("{b}/{h}/{r}/{t}");
    let path = format!("/v1/trays/{name}/resume");
    operate(&st, &caller, &headers, &path, &body, |_: Empty| {
        Ok(Command::Resume {
            targets: vec![name],
        })
    })
    .await
}

/// Mark a failed tray repaired
#[utoipa::path(post, path = "/v1/trays/{building}/{hall}/{rack}/{tray}/repaired", tag = "operations",
    request_body(content = Option<Empty>, description = "Nothing, or `{}`"),
    params(("building" = String, Path), ("hall" = String, Path), ("rack" = String, Path), ("tray" = String, Path),
           super::IdempotencyHeader),
    responses((status = 200, description = "Back in service", body = Done), super::CommandErrors))]
async fn tray_repaired(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((b, h, r, t)): Path<(String, String, String, String)>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let tray = format!("{b}/{h}/{r}/{t}");
    let path = format!("/v1/trays/{tray}/repaired");
    operate(&st, &caller, &headers, &path, &body, |_: Empty| {
        Ok(Command::TrayRepaired { tray })
    })
    .await
}

/// Drain a rack: all its trays
#[utoipa::path(post, path = "/v1/racks/{building}/{hall}/{rack}/drain", tag = "operations",
    request_body = DrainBody,
    params(("building" = String, Path), ("hall" = String, Path), ("rack" = String, Path),
           super::IdempotencyHeader),
    responses((status = 200, description = "Drained", body = Done), super::CommandErrors))]
async fn rack_drain(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((b, h, r)): Path<(String, String, String)>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let name = format!("{b}/{h}/{r}");
    let path = format!("/v1/racks/{name}/drain");
    operate(&st, &caller, &headers, &path, &body, |d: DrainBody| {
        Ok(Command::Drain {
            targets: vec![name],
            reason: reason(d.reason)?,
        })
    })
    .await
}

/// Resume a drained rack
#[utoipa::path(post, path = "/v1/racks/{building}/{hall}/{rack}/resume", tag = "operations",
    request_body(content = Option<Empty>, description = "Nothing, or `{}`"),
    params(("building" = String, Path), ("hall" = String, Path), ("rack" = String, Path),
           super::IdempotencyHeader),
    responses((status = 200, description = "Resumed", body = Done), super::CommandErrors))]
async fn rack_resume(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((b, h, r)): Path<(String, String, String)>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let name = format!("{b}/{h}/{r}");
    let path = format!("/v1/racks/{name}/resume");
    operate(&st, &caller, &headers, &path, &body, |_: Empty| {
        Ok(Command::Resume {
            targets: vec![name],
        })
    })
    .await
}

/// A power cap.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PowerCapBody {
    /// `campus`, or a building's name (`B3`).
    pub scope: String,
    /// The cap in kW (0 to the scheduler's limit); null lifts it.
    pub kw: Option<f64>,
}

/// Set or lift a power cap on the campus or a building
#[utoipa::path(post, path = "/v1/power-caps", tag = "operations",
    request_body = PowerCapBody,
    params(super::IdempotencyHeader),
    responses((status = 200, description = "Set", body = Done), super::CommandErrors))]
async fn power_cap(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    operate(
        &st,
        &caller,
        &headers,
        "/v1/power-caps",
        &body,
        |p: PowerCapBody| {
            let scope = if p.scope == "campus" {
                PowerScope::Campus
            } else {
                PowerScope::Building(p.scope)
            };
            Ok(Command::SetPowerCap { scope, kw: p.kw })
        },
    )
    .await
}

/// Reserve trays for maintenance (no owner) or a tenant's contract
#[utoipa::path(post, path = "/v1/reservations", tag = "operations",
    request_body = ReservationSpec,
    params(super::IdempotencyHeader),
    responses((status = 200, description = "Reserved", body = Done), super::CommandErrors))]
async fn reserve(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    operate(
        &st,
        &caller,
        &headers,
        "/v1/reservations",
        &body,
        |r: ReservationSpec| Ok(Command::Reserve(r)),
    )
    .await
}
