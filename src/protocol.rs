//! Wire types shared by server and client (JSON under `/api/v1`).
//!
//! Endpoints (all need `Authorization: Bearer TOKEN`; every response carries
//! the header [`SERVER_TIME_HEADER`] so clients can correct their clock):
//!
//! | method | path | body / query | answer |
//! |---|---|---|---|
//! | POST | /api/v1/commands | [`crate::domain::Command`] | 201 [`CommandResult`] (200 + `duplicate: true` for a repeated id) |
//! | GET | /api/v1/incidents | `?all=true` includes closed | [`IncidentList`] |
//! | GET | /api/v1/incidents/{ref} | `?after=SEQ&limit=N` timeline page | [`IncidentDetail`] |
//! | GET | /api/v1/events | `?after=SEQ&limit=N` | [`EventsPage`] |
//! | GET | /api/v1/stream | `Last-Event-ID` or `?after=SEQ` | SSE, see [`sse`] |
//! | GET | /api/v1/policy | | [`crate::domain::Policy`] |
//! | GET | /api/v1/me | | [`Me`] |
//! | GET/POST/DELETE | /api/v1/tokens[/{name}] | admin only | [`TokenInfo`] (live tokens) / 201 [`NewToken`] / 204 |
//! | GET | /api/v1/openapi.json | no auth | OpenAPI 3.1 |
//! | GET | /healthz | no auth | `ok` |
//! | GET | /readyz | no auth | `{"ready": true, "latest_seq": N}`; 503 when the database does not answer or the server is catching up |
//!
//! Errors are [`ErrorBody`] with 400/401/403/404/409/413/422/429, plus (added
//! by the server, compatible) 405 `method_not_allowed` for a known path with
//! the wrong method and 503 `internal` when the store could not commit (nothing
//! was stored; retry with the same command id). 401 carries `WWW-Authenticate`,
//! 429 and 503 carry `Retry-After` (seconds). `limit` above [`MAX_PAGE`] is
//! served [`MAX_PAGE`] at a time; `limit=0` is a 400. The body's
//! `Content-Type` is not required to be JSON (so `curl -d` works).
//!
//! The stream's first frame is always a `heartbeat` (server time and the head
//! of the log); without `Last-Event-ID`/`after` it starts at the head (live only).

use crate::domain::clocks::Clock;
use crate::domain::command::Access;
use crate::domain::event::Recorded;
use crate::domain::state::Incident;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Response header with the server's time (RFC 3339, milliseconds), on every response.
pub const SERVER_TIME_HEADER: &str = "x-warroom-server-time";

/// Largest accepted request body. Large enough that every command the
/// document calls valid fits however it is written: the longest text an
/// action takes ([`crate::domain::decide::MAX_TEXT`] characters), each one
/// a JSON-escaped surrogate pair (`\ud83d\ude00`, 12 bytes), is ~190 KB.
/// At 64 KiB a schema-valid note was refused 413 (schemathesis, issue 15).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Most events in one page of catch-up.
pub const MAX_PAGE: usize = 1000;

/// A seq as a parameter: any unsigned 64-bit integer (a seq past the log's
/// end means "after everything"), so the document's bound is the parser's.
pub fn seq_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .minimum(Some(0))
        // usize is u64 on every target warroom builds for (64-bit).
        .maximum(Some(utoipa::Number::UInt(usize::MAX)))
        .build()
}

/// A page size: 1 to [`MAX_PAGE`] (anything else is a 400 naming `limit`).
pub fn page_limit_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .minimum(Some(1))
        .maximum(Some(MAX_PAGE))
        .build()
}

/// `GET /readyz` when ready (otherwise a 503 [`ErrorBody`] saying why).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ready {
    /// Always true: a server that is not ready answers 503.
    pub ready: bool,
    /// The seq this server's read model has reached.
    pub latest_seq: u64,
}

/// The answer to a command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CommandResult {
    /// The events the command produced, with their seqs.
    pub events: Vec<Recorded>,
    /// True when the command id had been seen before: nothing new was stored.
    pub duplicate: bool,
}

/// Every error answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Human-readable and precise: names the field, the limit, the incident.
    pub error: String,
    /// Machine-readable.
    pub code: ErrorCode,
    /// The offending field, when one is to blame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The machine-readable kind of an error answer: the one list the server
/// answers with, the OpenAPI document publishes and the client reads.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not JSON (syntax, truncated), or a query string is unreadable.
    BadJson,
    /// The body could not be read (it broke off, or is not what the route takes).
    BadBody,
    /// A field is malformed, unknown or of the wrong type (`field` names it).
    InvalidField,
    /// The body is over its limit.
    TooLarge,
    /// No bearer token, or an unknown or revoked one.
    Unauthorized,
    /// The token's role is below what the action needs.
    Forbidden,
    /// Unknown incident, token or path.
    NotFound,
    /// A known path with the wrong method.
    MethodNotAllowed,
    /// The incident's state does not allow it now; a name taken.
    Conflict,
    /// The domain refused the command under this policy.
    Unprocessable,
    /// Over the per-token rate; `Retry-After` says when to retry.
    RateLimited,
    /// The token holds as many live streams as it may.
    TooManyStreams,
    /// The server is at a capacity limit; `Retry-After` says when to retry.
    Busy,
    /// The request (its body) took too long to arrive.
    Timeout,
    /// A bug or a store failure (logged).
    Internal,
    /// Client side only: the answer was not an error body (a proxy's page).
    #[serde(skip_serializing)]
    Http,
    /// Client side only: a code this client does not know (a newer server).
    #[serde(other, skip_serializing)]
    Unknown,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The codes a server answers with.
    pub fn served() -> impl Iterator<Item = ErrorCode> {
        <ErrorCode as strum::VariantArray>::VARIANTS
            .iter()
            .copied()
            .filter(|c| !matches!(c, ErrorCode::Http | ErrorCode::Unknown))
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An incident with its clocks computed at server time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IncidentView {
    pub incident: Incident,
    pub clocks: Vec<Clock>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IncidentList {
    pub server_time: DateTime<Utc>,
    pub latest_seq: u64,
    pub incidents: Vec<IncidentView>,
    /// Alert groups waiting for a human to declare or dismiss, oldest first.
    #[serde(default)]
    pub triage: Vec<crate::domain::alert::TriageItem>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IncidentDetail {
    pub server_time: DateTime<Utc>,
    pub incident: IncidentView,
    /// One page of the incident's events, oldest first.
    pub timeline: Vec<Recorded>,
    /// Pass as `after` to get the next page.
    pub next_after: u64,
    pub more: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventsPage {
    pub events: Vec<Recorded>,
    /// Pass as `after` to get the next page.
    pub next_after: u64,
    pub more: bool,
    pub latest_seq: u64,
}

/// Who the token belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Me {
    pub name: String,
    pub role: Access,
    pub server_time: DateTime<Utc>,
    /// The policy's name, so a client can tell when it must refetch it.
    pub policy: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub name: String,
    pub role: Access,
    pub created_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/tokens`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// Letters, digits, `.`, `_`, `@` and `-`; at most 64.
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$")]
    pub name: String,
    pub role: Access,
}

/// Answer of `POST /api/v1/tokens`: the secret, shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewToken {
    pub name: String,
    pub role: Access,
    pub token: String,
}

/// The live stream (`GET /api/v1/stream`, Server-Sent Events).
///
/// - `event: event` — `id:` is the seq, `data:` a [`crate::domain::Recorded`].
/// - `event: heartbeat` — every few seconds, `data:` a [`Heartbeat`].
/// - `event: resync` — the subscriber fell behind (or asked to resume from a seq
///   the server no longer streams); `data:` a [`Resync`]. The client must catch
///   up with `GET /api/v1/events?after=` and reconnect. Never a silent gap.
/// - `event: shutdown` — the server is stopping; reconnect later.
pub mod sse {
    pub const EVENT: &str = "event";
    pub const HEARTBEAT: &str = "heartbeat";
    pub const RESYNC: &str = "resync";
    pub const SHUTDOWN: &str = "shutdown";
    /// The stream's credential was revoked; the stream ends and a reconnect
    /// with it is refused (401). Data: `{"reason": "..."}`.
    pub const REVOKED: &str = "revoked";
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Heartbeat {
    pub server_time: DateTime<Utc>,
    pub latest_seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Resync {
    pub reason: String,
    pub latest_seq: u64,
}

#[cfg(test)]
mod error_code_tests {
    use super::*;

    #[test]
    fn codes_are_their_snake_case_names_and_unknown_ones_still_decode() {
        for code in ErrorCode::served() {
            let json = serde_json::to_value(code).expect("a code serializes");
            assert_eq!(json, serde_json::json!(code.as_str()));
            assert_eq!(serde_json::from_value::<ErrorCode>(json).ok(), Some(code));
        }
        assert_eq!(ErrorCode::TooManyStreams.as_str(), "too_many_streams");
        let body: ErrorBody =
            serde_json::from_str(r#"{"error":"x","code":"from_the_future"}"#).expect("decodes");
        assert_eq!(body.code, ErrorCode::Unknown);
        assert!(!ErrorCode::served().any(|c| c == ErrorCode::Http));
    }
}
