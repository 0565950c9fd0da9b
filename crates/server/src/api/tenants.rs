//! Tenancy: the tree with usage against guarantees, and its changes.

use std::collections::BTreeMap;

use abilene_scheduler::views::TenantUsage;
use abilene_scheduler::{Command, Contract, TenantSpec, TenantUpdate};
use axum::Json;
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
use crate::auth::Action;
use crate::engine::Engine;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tree, create))
        .routes(routes!(show, update))
        .routes(routes!(retire))
}

/// The tree under the caller's scope, each node with its usage per SKU.
#[utoipa::path(get, path = "/v1/tenants", tag = "tenancy",
    responses((status = 200, description = "Nodes in tree order", body = Vec<TenantUsage>), super::ReadErrors))]
async fn tree(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TenantUsage>>, ApiError> {
    caller.may(Action::Read)?;
    let e = st.read();
    let root = match &caller.scope {
        Some(s) => s.clone(),
        None => e.sched.tenant_names().first().cloned().unwrap_or_default(),
    };
    e.sched
        .tenant_usage(&root)
        .map(Json)
        .map_err(|r| ApiError::from_reject(&r))
}

/// A node and its subtree, with usage vs guarantee vs borrowed per SKU
#[utoipa::path(get, path = "/v1/tenants/{name}", tag = "tenancy",
    params(("name" = String, Path, description = "A tenant node")),
    responses((status = 200, description = "The node first, then its subtree", body = Vec<TenantUsage>), super::ReadErrors))]
async fn show(
    State(st): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Vec<TenantUsage>>, ApiError> {
    caller.may(Action::Read)?;
    let e = st.read();
    super::jobs::check_scope(&e, &caller, &name).map_err(|x| x.field("name"))?;
    e.sched
        .tenant_usage(&name)
        .map(Json)
        .map_err(|r| ApiError::from_reject(&r).field("name"))
}

/// A scoped admin changes the nodes below its own, never its own (it
/// cannot raise its own guarantee); outside its subtree a node is unknown.
fn below_scope(st: &AppState, caller: &Caller, name: &str) -> Result<(), ApiError> {
    let Some(scope) = &caller.scope else {
        return Ok(());
    };
    let e = st.read();
    super::jobs::check_scope(&e, caller, name).map_err(|x| x.field("name"))?;
    if name == scope {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "a token scoped to `{scope}` may change the nodes below it, not `{scope}` itself"
            ),
        )
        .field("name"));
    }
    Ok(())
}

fn tenant_reply(
    name: String,
) -> impl FnOnce(&[Command], &[abilene_scheduler::CommandResult], &Engine) -> crate::writer::Reply {
    move |_, results, e| {
        if let Some(r) = first_reject(results) {
            return r;
        }
        match e.sched.tenant_usage(&name) {
            Ok(u) => json_reply(StatusCode::OK, &u.into_iter().next()),
            Err(r) => ApiError::from_reject(&r).reply(),
        }
    }
}

/// Create a tenant node under an existing parent
#[utoipa::path(post, path = "/v1/tenants", tag = "tenancy",
    request_body = TenantSpec,
    params(super::IdempotencyHeader),
    responses((status = 200, description = "Created", body = TenantUsage), super::CommandErrors))]
async fn create(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.may(Action::Tenancy)?;
    let idem = idempotency(&headers, "POST", "/v1/tenants", &body)?;
    let spec: TenantSpec = parse_json(&headers, &body)?;
    // A new node goes at or below the caller's own.
    if caller.scope.is_some() {
        let e = st.read();
        match &spec.parent {
            Some(p) => super::jobs::check_scope(&e, &caller, p).map_err(|x| x.field("parent"))?,
            None => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "only the operator may create a root",
                )
                .field("parent"));
            }
        }
    }
    let name = spec.name.clone();
    Ok(execute(
        &st,
        &caller,
        idem,
        vec![Command::CreateTenant(spec)],
        Box::new(tenant_reply(name)),
    )
    .await)
}

/// Changes to a node; fields left out stay as they are.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    /// Guaranteed GPUs per SKU.
    pub guarantee: Option<BTreeMap<String, u64>>,
    /// Most GPUs per SKU above the guarantee; a SKU not listed borrows
    /// without limit.
    pub borrow_limit: Option<BTreeMap<String, u64>>,
    pub weight: Option<u32>,
    pub contracts: Option<Vec<Contract>>,
}

/// Set a node's quotas, weight or contracts
#[utoipa::path(patch, path = "/v1/tenants/{name}", tag = "tenancy",
    request_body = TenantPatch,
    params(("name" = String, Path, description = "A tenant node"),
           super::IdempotencyHeader),
    responses((status = 200, description = "Updated", body = TenantUsage), super::CommandErrors))]
async fn update(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(name): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.may(Action::Tenancy)?;
    below_scope(&st, &caller, &name)?;
    let idem = idempotency(&headers, "PATCH", &format!("/v1/tenants/{name}"), &body)?;
    let p: TenantPatch = parse_json(&headers, &body)?;
    let update = TenantUpdate {
        name: name.clone(),
        guarantee: p.guarantee,
        borrow_limit: p.borrow_limit,
        weight: p.weight,
        contracts: p.contracts,
    };
    Ok(execute(
        &st,
        &caller,
        idem,
        vec![Command::UpdateTenant(update)],
        Box::new(tenant_reply(name)),
    )
    .await)
}

/// Retire a node with no live jobs and no live children
#[utoipa::path(post, path = "/v1/tenants/{name}/retire", tag = "tenancy",
    params(("name" = String, Path, description = "A tenant node"),
           super::IdempotencyHeader),
    responses((status = 200, description = "Retired", body = super::ops::Done), super::CommandErrors))]
async fn retire(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    caller.may(Action::Tenancy)?;
    below_scope(&st, &caller, &name)?;
    let idem = idempotency(&headers, "POST", &format!("/v1/tenants/{name}/retire"), b"")?;
    Ok(execute(
        &st,
        &caller,
        idem,
        vec![Command::RetireTenant { name }],
        Box::new(super::ops::done),
    )
    .await)
}
