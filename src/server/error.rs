//! Every error answer is an [`ErrorBody`] with a precise message and an
//! [`ErrorCode`](crate::protocol::ErrorCode); which status goes with which code:
//!
//! | status | code | when |
//! |---|---|---|
//! | 400 | `bad_json` | the body is not JSON (syntax, truncated) |
//! | 400 | `invalid_field` | a query parameter is malformed or unknown |
//! | 401 | `unauthorized` | no bearer token, or an unknown / revoked one |
//! | 403 | `forbidden` | the token's role is below what the action needs |
//! | 404 | `not_found` | unknown incident, token or path |
//! | 405 | `method_not_allowed` | a known path with the wrong method |
//! | 409 | `conflict` | the incident's state does not allow it now; a token name taken |
//! | 413 | `too_large` | body over [`MAX_BODY_BYTES`] |
//! | 422 | `invalid_field` | JSON of the wrong shape: unknown field, wrong type, bad value |
//! | 422 | `unprocessable` | the domain refused the command for this policy |
//! | 429 | `rate_limited` | over the per-token rate; `Retry-After` says when to retry |
//! | 500 | `internal` | a bug or a store failure (logged) |
//! | 503 | `internal` | the store could not commit (logged); safe to retry with the same id |

use crate::domain::decide::{DomainError, ErrorKind};
use crate::protocol::ErrorCode;
use crate::protocol::{ErrorBody, MAX_BODY_BYTES};
use axum::Json;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::fmt::Display;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ErrorBody {
                error: message.into(),
                code,
                field: None,
            },
            retry_after: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        let f = field.into();
        if !f.is_empty() && f != "." {
            self.body.field = Some(f);
        }
        self
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidField,
            message,
        )
        .with_field(field)
    }

    /// 503 with Retry-After: the server is at a capacity limit, not broken.
    pub fn busy(retry_after_secs: u64, message: impl Into<String>) -> ApiError {
        let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy, message);
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }

    pub fn rate_limited(retry_after_secs: u64, message: impl Into<String>) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            message,
        );
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }

    /// A server-side failure: logged here, answered without internals a client can't act on.
    pub fn internal(detail: impl Display) -> ApiError {
        tracing::error!(error = %detail, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            format!("internal server error: {detail}"),
        )
    }

    /// The store could not commit; the command was not stored and may be retried as is.
    pub fn unavailable(detail: impl Display) -> ApiError {
        tracing::error!(error = %detail, "store unavailable");
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal,
            format!(
                "the event store could not commit ({detail}); nothing was stored, retry with the same command id"
            ),
        );
        e.retry_after = Some(1);
        e
    }

    /// A rejected body: over the size limit, or unreadable.
    pub fn from_bytes_rejection(r: BytesRejection) -> ApiError {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::TooLarge,
                format!(
                    "request body is larger than the limit of {MAX_BODY_BYTES} bytes ({} KiB)",
                    MAX_BODY_BYTES / 1024
                ),
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadJson,
                format!("cannot read the request body: {}", r.body_text()),
            )
        }
    }

    /// A JSON body that failed to parse, naming the path of the offending field.
    pub fn from_json(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = if path == "." {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        };
        match inner.classify() {
            serde_json::error::Category::Data => ApiError::invalid(&path, msg),
            _ => ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadJson,
                format!("malformed JSON: {msg}"),
            ),
        }
    }

    pub fn from_query(r: QueryRejection) -> ApiError {
        let text = r.body_text();
        let detail = text
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&text)
            .to_string();
        let field = detail.split_once(": ").map(|(f, _)| f.to_string());
        let mut e = ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidField,
            format!("bad query string: {detail}"),
        );
        if let Some(f) = field.filter(|f| !f.contains(' ')) {
            e = e.with_field(f);
        }
        e
    }

    pub fn from_path(r: PathRejection) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidField,
            format!("bad path: {}", r.body_text()),
        )
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> ApiError {
        let (status, code) = match e.kind() {
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            ErrorKind::Conflict => (StatusCode::CONFLICT, ErrorCode::Conflict),
            ErrorKind::Unprocessable => {
                (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Unprocessable)
            }
        };
        let field = match &e {
            DomainError::MissingIncident | DomainError::UnknownIncident(_) => {
                Some("incident".to_string())
            }
            // The domain names the field inside the action (`text`, `title`…).
            DomainError::Empty { field }
            | DomainError::TooLong { field, .. }
            | DomainError::Invalid { field, .. } => Some(format!("action.{field}")),
            DomainError::UnknownSeverity { .. } => Some("action.severity".into()),
            DomainError::UnknownRole { .. } => Some("action.role".into()),
            DomainError::UnknownKind { .. } => Some("action.kind".into()),
            _ => None,
        };
        let mut err = ApiError::new(status, code, e.to_string());
        if let Some(f) = field {
            err = err.with_field(f);
        }
        err
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"warroom\""),
            );
        }
        res
    }
}
