//! Tokens: create (shown once), list and revoke, each within the caller's
//! scope and role; and `whoami`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::{AppState, Caller, RawBody, execute_with, idempotency, json_reply, parse_json};
use crate::auth::{Action, MAX_EXPIRES_S, MAX_TOKEN_NAME, MAX_TOKENS, Role, TokenRecord, mint};
use crate::engine::Engine;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
        .routes(routes!(whoami))
}

/// A token as the API shows it: never its secret or hash.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenOut {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The tenant node it reaches; absent: the whole campus.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub created_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

impl From<&TokenRecord> for TokenOut {
    fn from(t: &TokenRecord) -> TokenOut {
        TokenOut {
            id: t.id.clone(),
            name: t.name.clone(),
            role: t.role,
            tenant: t.scope.clone(),
            created_ms: t.created_ms,
            expires_ms: t.expires_ms,
            revoked_ms: t.revoked_ms,
            created_by: t.created_by.clone(),
        }
    }
}

/// A new token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// For people: who or what holds it, 1 to 128 characters.
    #[schema(min_length = 1, max_length = 128)]
    pub name: String,
    pub role: Role,
    /// The tenant node it reaches, at or below the caller's; the caller's
    /// own if left out.
    pub tenant: Option<String>,
    /// Seconds until it expires, 1 to 316,224,000 (ten years); never if
    /// left out.
    #[schema(minimum = 1, maximum = 316_224_000)]
    pub expires_in_s: Option<u64>,
}

/// A new token with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: TokenOut,
    /// `Authorization: Bearer <token>`. Not kept anywhere: keep it now.
    pub token: String,
}

/// Whether token `t` lies within what `caller` reaches.
fn within(e: &Engine, caller: &Caller, t: &TokenRecord) -> bool {
    caller.reaches(e, t.scope.as_deref())
}

fn unknown_token(id: &str) -> ApiError {
    ApiError::not_found("unknown_token", format!("unknown token `{id}`")).field("id")
}

/// Tokens within the caller's scope
#[utoipa::path(get, path = "/v1/tokens", tag = "tokens",
    responses((status = 200, description = "Tokens, oldest first, revoked ones too", body = Vec<TokenOut>), super::ReadErrors))]
async fn list(State(st): State<AppState>, caller: Caller) -> Result<Json<Vec<TokenOut>>, ApiError> {
    caller.may(Action::Tokens)?;
    let e = st.read();
    let tokens = st.tokens.read().unwrap_or_else(|p| p.into_inner());
    let mut out: Vec<TokenOut> = tokens
        .all()
        .filter(|t| within(&e, &caller, t))
        .map(TokenOut::from)
        .collect();
    out.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    Ok(Json(out))
}

/// Create a token at or below the caller's scope and role
#[utoipa::path(post, path = "/v1/tokens", tag = "tokens",
    request_body = CreateToken,
    params(super::IdempotencyHeader),
    responses((status = 201, description = "Created; the secret is shown this once", body = CreatedToken), super::CommandErrors))]
async fn create(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.may(Action::Tokens)?;
    let idem = idempotency(&headers, "POST", "/v1/tokens", &body)?;
    let req: CreateToken = parse_json(&headers, &body)?;
    let name = req.name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_TOKEN_NAME
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::bad(
            "bad_value",
            "name",
            format!("name: 1 to {MAX_TOKEN_NAME} characters, no control characters"),
        ));
    }
    if !caller.role.may_grant(req.role) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "a {} token may not create a {} token",
                caller.role.name(),
                req.role.name()
            ),
        )
        .field("role"));
    }
    let scope = {
        let e = st.read();
        let tenant = req.tenant.clone().or_else(|| caller.scope.clone());
        match tenant {
            None => None,
            Some(t) => {
                super::jobs::check_scope(&e, &caller, &t).map_err(|x| x.field("tenant"))?;
                if !e.sched.tenant_is_under(&t, &t) {
                    return Err(ApiError::not_found(
                        "unknown_tenant",
                        format!("unknown tenant or project `{t}`"),
                    )
                    .field("tenant"));
                }
                // A token at the root reaches the whole campus.
                (t != *st.root).then_some(t)
            }
        }
    };
    if req.role == Role::OperatorAdmin && scope.is_some() {
        return Err(ApiError::bad(
            "bad_value",
            "tenant",
            "an operator-admin token reaches the whole campus: leave out tenant",
        ));
    }
    let now = crate::clock::wall_ms();
    let expires_ms = match req.expires_in_s {
        None => None,
        Some(s) if (1..=MAX_EXPIRES_S).contains(&s) => Some(now.saturating_add(s * 1_000)),
        Some(s) => {
            return Err(ApiError::bad(
                "bad_value",
                "expires_in_s",
                format!("expires_in_s {s}: must be 1 to {MAX_EXPIRES_S} seconds"),
            ));
        }
    };
    if st.tokens.read().unwrap_or_else(|p| p.into_inner()).len() >= MAX_TOKENS {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "too_many_tokens",
            format!("the server holds {MAX_TOKENS} tokens, its most"),
        ));
    }
    let minted = mint(
        name,
        req.role,
        scope,
        now,
        expires_ms,
        Some(caller.id.clone()),
    )
    .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_randomness", e))?;
    let created = CreatedToken {
        info: TokenOut::from(&minted.record),
        token: minted.token,
    };
    Ok(execute_with(
        &st,
        &caller,
        idem,
        Vec::new(),
        vec![minted.record],
        false,
        Box::new(move |_, _, _| json_reply(StatusCode::CREATED, &created)),
    )
    .await)
}

/// Revoke a token: refused at once from then on
#[utoipa::path(post, path = "/v1/tokens/{id}/revoke", tag = "tokens",
    params(("id" = String, Path, description = "The token's id"), super::IdempotencyHeader),
    responses((status = 200, description = "Revoked", body = TokenOut), super::CommandErrors))]
async fn revoke(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let idem = idempotency(&headers, "POST", &format!("/v1/tokens/{id}/revoke"), b"")?;
    let mut record = {
        let e = st.read();
        let tokens = st.tokens.read().unwrap_or_else(|p| p.into_inner());
        // A token may always revoke itself; another only with the right to
        // manage tokens (403 whatever the target), only one within reach
        // (404 otherwise, as for a token that does not exist), and only
        // one the caller could have made (403).
        let own = id == caller.id;
        if !own {
            caller.may(Action::Tokens)?;
        }
        let t = tokens
            .get(&id)
            .filter(|t| own || within(&e, &caller, t))
            .ok_or_else(|| unknown_token(&id))?;
        if !own && !caller.role.may_grant(t.role) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "a {} token may not revoke a {} token",
                    caller.role.name(),
                    t.role.name()
                ),
            ));
        }
        if t.revoked_ms.is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "already_revoked",
                format!("token `{id}` is revoked already"),
            ));
        }
        // The campus is never left without an operator: make another
        // operator-admin token first.
        if t.role == Role::OperatorAdmin && tokens.live_operators(crate::clock::wall_ms()) <= 1 {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "last_operator",
                "this is the last live operator-admin token: create another before revoking it",
            ));
        }
        t.clone()
    };
    record.revoked_ms = Some(crate::clock::wall_ms());
    let out = TokenOut::from(&record);
    Ok(execute_with(
        &st,
        &caller,
        idem,
        Vec::new(),
        vec![record],
        true,
        Box::new(move |_, _, _| json_reply(StatusCode::OK, &out)),
    )
    .await)
}

/// The caller's own token
#[utoipa::path(get, path = "/v1/whoami", tag = "tokens",
    responses((status = 200, description = "The token this request carries", body = TokenOut), super::ReadErrors))]
async fn whoami(State(st): State<AppState>, caller: Caller) -> Result<Json<TokenOut>, ApiError> {
    let tokens = st.tokens.read().unwrap_or_else(|p| p.into_inner());
    tokens
        .get(&caller.id)
        .map(|t| Json(TokenOut::from(t)))
        .ok_or_else(|| unknown_token(&caller.id))
}
