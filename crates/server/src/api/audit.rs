//! `GET /v1/audit`: the audit log, for operators and auditors, filtered to
//! the caller's subtree.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::{AppState, Caller};
use crate::audit::AuditRecord;
use crate::auth::Action;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// Records read from the store for one page at most: a page of a narrow
/// filter may come back short (or empty) with a `next` to go on from.
const MAX_SCAN: usize = 10_000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// The cursor: records after this seq (the `next` of the page before).
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub after: Option<u64>,
    /// Records per page, 1 to 1000; 100 if left out.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// Only calls made with this token id.
    pub token: Option<String>,
    /// Only refused calls (status 400 and above).
    pub refused: Option<bool>,
}

/// A page of the audit log.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    /// Pass as `after` for the next page; absent at the end of the log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
}

/// The audit log
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "Records in log order", body = AuditPage), super::ReadErrors))]
async fn list(
    State(st): State<AppState>,
    caller: Caller,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    caller.may(Action::Audit)?;
    let Query(q) = q.map_err(ApiError::from)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad(
            "bad_value",
            "limit",
            format!("limit {limit}: must be 1 to 1000"),
        ));
    }
    let after = q.after.unwrap_or(0);
    if after > i64::MAX as u64 {
        return Err(ApiError::bad(
            "bad_value",
            "after",
            "after: at most 9223372036854775807",
        ));
    }
    let reader = st.audit.clone();
    let scanned = tokio::task::spawn_blocking(move || {
        let mut r = reader.lock().unwrap_or_else(|p| p.into_inner());
        r.page(after, MAX_SCAN)
    })
    .await
    .map_err(|_| unreadable())?
    .map_err(|e| {
        tracing::error!("audit log: {e}");
        unreadable()
    })?;
    let full_scan = scanned.len() == MAX_SCAN;
    let e = st.read();
    let visible = |r: &AuditRecord| caller.reaches(&e, r.scope.as_deref());
    let mut records = Vec::new();
    let mut last = after;
    let mut more = full_scan;
    for r in scanned {
        if records.len() == limit {
            more = true;
            break;
        }
        last = r.seq;
        if visible(&r)
            && q.token
                .as_deref()
                .is_none_or(|t| r.token.as_deref() == Some(t))
            && q.refused.is_none_or(|want| (r.status >= 400) == want)
        {
            records.push(r);
        }
    }
    Ok(Json(AuditPage {
        records,
        next: more.then_some(last),
    }))
}

fn unreadable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "audit_unreadable",
        "the audit log could not be read just now; retry",
    )
}
