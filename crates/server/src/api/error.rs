//! Errors as the API returns them: `{code, message, field}` with a stable
//! code, and always a 4xx for anything a client sent.

use abilene_scheduler::Reject;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::writer::Reply;

/// The body of every error.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable, for programs: `unknown_job`, `over_quota`, `bad_json`, ...
    pub code: String,
    /// For people: what is wrong and, where it helps, what to do.
    pub message: String,
    /// The request field it is about (`gpus`, `tenant`, `body`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ErrorBody {
                code: code.into(),
                message: message.into(),
                field: None,
            },
        }
    }

    pub fn field(mut self, field: impl Into<String>) -> ApiError {
        self.body.field = Some(field.into());
        self
    }

    pub fn bad(code: &str, field: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message).field(field)
    }

    pub fn not_found(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// The answer for a command the scheduler refused.
    pub fn from_reject(r: &Reject) -> ApiError {
        let status = match r {
            Reject::UnknownJob { .. }
            | Reject::UnknownReservation { .. }
            | Reject::UnknownName { .. }
            | Reject::UnknownTenant { .. } => StatusCode::NOT_FOUND,
            Reject::DuplicateJob { .. }
            | Reject::DuplicateTenant { .. }
            | Reject::DuplicateReservation { .. }
            | Reject::TenantInUse { .. }
            | Reject::RetiredTenant { .. } => StatusCode::CONFLICT,
            Reject::OverQuota { .. } | Reject::Shape { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError {
            status,
            body: ErrorBody {
                code: r.code().into(),
                message: r.to_string(),
                field: r.field().map(str::to_string),
            },
        }
    }

    pub fn reply(&self) -> Reply {
        Reply {
            status: self.status.as_u16(),
            body: serde_json::to_string(&self.body).unwrap_or_default(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = super::guard::ErrorCode(self.body.code.clone());
        let mut r = (self.status, Json(self.body)).into_response();
        r.extensions_mut().insert(code);
        r
    }
}

/// The same `Idempotency-Key` sent again with another request.
pub fn idempotency_conflict(key: &str) -> Reply {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
        format!(
            "Idempotency-Key `{key}` was first used with another request; use a new key for a new request"
        ),
    )
    .field("Idempotency-Key")
    .reply()
}

/// What a retry of a token's creation hears: the secret was shown once,
/// to the first answer, and is kept nowhere.
pub fn shown_once(key: &str) -> Reply {
    ApiError::new(
        StatusCode::CONFLICT,
        "token_shown_once",
        format!(
            "Idempotency-Key `{key}` already created a token; its secret was shown once and is not kept: revoke that token (GET /v1/tokens) and create another"
        ),
    )
    .reply()
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        let status = r.status();
        let (code, field) = match &r {
            JsonRejection::MissingJsonContentType(_) => ("bad_content_type", "Content-Type"),
            JsonRejection::BytesRejection(_) if status == StatusCode::PAYLOAD_TOO_LARGE => {
                ("body_too_large", "body")
            }
            JsonRejection::JsonDataError(_) => ("bad_field", "body"),
            _ => ("bad_json", "body"),
        };
        let message = r.body_text();
        // serde_path_to_error's message starts with the field's path.
        let field = match &r {
            JsonRejection::JsonDataError(_) => field_of(&message).unwrap_or_else(|| field.into()),
            _ => field.into(),
        };
        // A client error stays a client error whatever the extractor says.
        let status = if status.is_client_error() {
            status
        } else {
            StatusCode::BAD_REQUEST
        };
        ApiError::new(status, code, message).field(field)
    }
}

/// `Failed to deserialize the JSON body into the target type: gpus: invalid
/// type...` names `gpus`.
fn field_of(message: &str) -> Option<String> {
    let rest = message.split_once("target type: ")?.1;
    let (path, _) = rest.split_once(": ")?;
    (!path.contains(' ') && path != ".").then(|| path.to_string())
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        let message = r.body_text();
        let field = message
            .rsplit_once("query string: ")
            .map(|(_, m)| m.split(':').next().unwrap_or("query").trim().to_string())
            .filter(|f| !f.contains(' '))
            .unwrap_or_else(|| "query".into());
        ApiError::new(StatusCode::BAD_REQUEST, "bad_query", message).field(field)
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_path", r.body_text()).field("path")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_is_read_from_serdes_path() {
        let m = "Failed to deserialize the JSON body into the target type: gpus: invalid type: string \"x\", expected u32 at line 1 column 12";
        assert_eq!(field_of(m).as_deref(), Some("gpus"));
        assert_eq!(field_of("something else"), None);
    }
}
