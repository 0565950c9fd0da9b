//! What monitoring reads: `/metrics` (the server and the campus),
//! `/fleet/racks/{..}/metrics` (a rack's GPUs in dcgm-exporter's names),
//! `/fleet/targets` (Prometheus file service discovery of those racks) and
//! `/v1/campus/plant` (the plant's recent readings, for charts). All are
//! the campus's state, so only whole-campus callers read them.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::{AppState, Caller};
use crate::engine::PlantPoint;
use crate::metrics::{self, CONTENT_TYPE};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(server_metrics))
        .routes(routes!(rack_metrics))
        .routes(routes!(targets))
        .routes(routes!(plant))
}

fn text(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        body,
    )
        .into_response()
}

/// The server's and the campus's metrics, in the Prometheus text format
#[utoipa::path(get, path = "/metrics", tag = "metrics",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String),
              super::ReadErrors))]
async fn server_metrics(State(st): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.reads_whole_campus("the campus's metrics")?;
    let mut r = Registry::default();
    st.metrics.register(&mut r);
    let cx = metrics::campus::Context {
        speed: st.speed,
        snapshot_age_s: st.metrics.snapshot_age_s(crate::clock::wall_ms()),
    };
    {
        let e = st.read();
        metrics::campus::register(&mut r, &e, &cx);
    }
    Ok(text(metrics::encode(&r)))
}

/// One rack's GPUs, shaped like dcgm-exporter's endpoint
#[utoipa::path(get, path = "/fleet/racks/{building}/{hall}/{rack}/metrics", tag = "metrics",
    params(("building" = String, Path, description = "e.g. B1"), ("hall" = String, Path, description = "e.g. H1"),
           ("rack" = String, Path, description = "e.g. R0001")),
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String),
              super::ReadErrors))]
async fn rack_metrics(
    State(st): State<AppState>,
    caller: Caller,
    Path((b, h, r)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    caller.reads_whole_campus("the campus's metrics")?;
    let name = format!("{b}/{h}/{r}");
    let e = st.read();
    let rack = e.sched.campus().resolve_rack(&name).map_err(|x| {
        ApiError::not_found("unknown_name", format!("unknown rack `{name}`: {x}")).field("rack")
    })?;
    let body = st.telemetry.rack_metrics(&e, rack);
    drop(e);
    Ok(text(body))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TargetsQuery {
    /// Only this building's racks (e.g. B1): one Prometheus server per
    /// building shares the campus's 5,632 targets.
    pub building: Option<String>,
}

/// One file-SD target group.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetGroupOut {
    pub targets: Vec<String>,
    pub labels: std::collections::BTreeMap<String, String>,
}

/// Every rack as a Prometheus file-SD target group
#[utoipa::path(get, path = "/fleet/targets", tag = "metrics",
    params(TargetsQuery),
    responses((status = 200, description = "A file_sd_configs document: each rack's metrics path on this server", body = Vec<TargetGroupOut>),
              super::ReadErrors))]
async fn targets(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    q: Result<Query<TargetsQuery>, QueryRejection>,
) -> Result<Json<Vec<TargetGroupOut>>, ApiError> {
    caller.reads_whole_campus("the campus's metrics")?;
    let Query(q) = q?;
    // The address the caller reached this server by is the one Prometheus
    // can reach it by.
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && h.len() <= 255)
        .ok_or_else(|| {
            ApiError::bad(
                "bad_header",
                "Host",
                "a Host header names the address the targets are at",
            )
        })?
        .to_string();
    let e = st.read();
    let campus = e.sched.campus();
    if let Some(b) = &q.building {
        campus.resolve_building(b).map_err(|x| {
            ApiError::not_found("unknown_name", format!("unknown building `{b}`: {x}"))
                .field("building")
        })?;
    }
    let scheme = if st.tls { "https" } else { "http" };
    Ok(Json(
        metrics::dcgm::targets(campus, &host, q.building.as_deref())
            .into_iter()
            .map(|g| {
                let mut labels = g.labels;
                labels.insert("__scheme__".into(), scheme.into());
                TargetGroupOut {
                    targets: g.targets,
                    labels,
                }
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlantQuery {
    /// Only readings after this campus time (seconds).
    pub after: Option<abilene_scheduler::Time>,
}

/// The plant's recent readings.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlantHistory {
    /// Oldest first; at most the last 720 readings.
    pub readings: Vec<PlantPoint>,
}

/// The plant's recent readings, for charts
#[utoipa::path(get, path = "/v1/campus/plant", tag = "campus",
    params(PlantQuery),
    responses((status = 200, description = "Readings oldest first", body = PlantHistory), super::ReadErrors))]
async fn plant(
    State(st): State<AppState>,
    caller: Caller,
    q: Result<Query<PlantQuery>, QueryRejection>,
) -> Result<Json<PlantHistory>, ApiError> {
    caller.reads_whole_campus("the campus's metrics")?;
    let Query(q) = q?;
    // The document says int64, as for every campus time.
    super::at_most_int64("after", q.after)?;
    let readings = st.read().plant_after(q.after);
    Ok(Json(PlantHistory { readings }))
}
