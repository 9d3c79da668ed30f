//! `POST /api/v1/ingest/alertmanager` and `POST /api/v1/ingest/events/v2`:
//! authentication, size limits and answers in each sender's own shape around
//! the adapters of [`crate::ingest`] and the pipeline's [`submit_alerts`].
//!
//! - Alertmanager authenticates with a bearer token (`http_config.authorization`)
//!   and is answered in warroom's own error shape ([`ApiError`]): it only logs
//!   the status, retrying 5xx and giving up on 4xx.
//! - Events v2 senders cannot set headers: the `routing_key` is an integration
//!   token's secret, and every answer is PagerDuty's (202 `{status, message,
//!   dedup_key}`, 400 `{status, message, errors}`).

use super::auth::{Caller, bearer_secret, integration};
use super::commands::submit_alerts;
use super::error::ApiError;
use super::metrics::IngestOutcome;
use super::state::AppState;
use crate::domain::alert::{AlertBatch, group_key};
use crate::ingest::events_v2::{Accepted, EventV2, Refused, parse_event};
use crate::ingest::{MAX_INGEST_BODY, alertmanager};
use crate::protocol::{ErrorBody, ErrorCode};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header::AUTHORIZATION};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What an Alertmanager notification did.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Ingested {
    /// `ok`.
    #[schema(pattern = "^ok$")]
    pub status: String,
    /// Something was stored (false: a repeat, nothing new).
    pub changed: bool,
    /// Events stored.
    pub events: usize,
    /// `INC-n` or `TRI-n` the group points at now.
    pub target: Option<String>,
}

fn too_large() -> String {
    format!(
        "the body is larger than the ingest limit of {MAX_INGEST_BODY} bytes ({} MiB); lower max_alerts on the receiver",
        MAX_INGEST_BODY / (1024 * 1024)
    )
}

#[utoipa::path(
    post,
    path = "/api/v1/ingest/alertmanager",
    summary = "Prometheus Alertmanager webhook, payload version 4",
    description = "A webhook_configs receiver with http_config.authorization set to an integration token. Groups by groupKey; repeats store nothing. Answered in warroom's error shape (Alertmanager only logs the status).",
    request_body = alertmanager::Webhook,
    responses(
        (status = 200, description = "accepted: `changed` says whether anything was stored; `target` is the incident (INC-n) or triage item (TRI-n) of the group", body = Ingested),
        (status = 400, description = "malformed JSON, a wrong field (named in `field`), or over a limit (128 labels and annotations per alert, 1,000 alerts, 16 KiB per value)", body = ErrorBody),
        (status = 401, description = "no bearer token, or not a live integration (or admin) token", body = ErrorBody),
        (status = 413, description = "body over the ingest limit", body = ErrorBody),
        (status = 503, description = "the store could not commit; Alertmanager retries", body = ErrorBody),
    )
)]
pub async fn alertmanager(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Ingested>, ApiError> {
    const SOURCE: &str = "alertmanager";
    let reject = |e: ApiError| {
        state.metrics.ingest(SOURCE, IngestOutcome::Rejected, 0);
        e
    };
    let secret = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_secret)
        .ok_or_else(|| {
            reject(ApiError::unauthorized(
                "missing bearer token: set http_config.authorization.credentials on the webhook receiver to an integration token",
            ))
        })?;
    let caller = integration(&state, secret)
        .await
        .map_err(|e| reject(ApiError::unauthorized(e)))?;
    let bytes = body.map_err(|r| {
        reject(if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::TooLarge,
                too_large(),
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadJson,
                format!("cannot read the body: {}", r.body_text()),
            )
        })
    })?;
    let batch = alertmanager::parse_webhook(&bytes).map_err(|e| {
        let err = ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidField,
            e.to_string(),
        );
        reject(err.with_field(e.field))
    })?;
    let (events, target) = run(&state, &batch, &caller, SOURCE).await?;
    Ok(Json(Ingested {
        status: "ok".into(),
        changed: events > 0,
        events,
        target,
    }))
}

/// Submits `batch` and counts it; returns how many events were stored and the group's target.
async fn run(
    state: &Arc<AppState>,
    batch: &AlertBatch,
    caller: &Caller,
    source: &str,
) -> Result<(usize, Option<String>), ApiError> {
    let done = submit_alerts(state, batch, &caller.name).await?;
    let stored = if done.appended.duplicate {
        0
    } else {
        done.appended.events.len()
    };
    let outcome = if stored > 0 {
        IngestOutcome::Changed
    } else {
        IngestOutcome::Unchanged
    };
    state.metrics.ingest(source, outcome, batch.alerts.len());
    let key = group_key(batch);
    let target = state.read_view(|v| v.world.alerts.target_key(&v.world, &key));
    Ok((stored, target))
}

/// A PagerDuty-shaped refusal.
fn refused(status: StatusCode, errors: Vec<String>) -> Response {
    (status, Json(Refused::invalid(errors))).into_response()
}

#[utoipa::path(
    post,
    path = "/api/v1/ingest/events/v2",
    summary = "PagerDuty Events API v2 (trigger / acknowledge / resolve), answered like PagerDuty",
    description = "No header: the body's routing_key is an integration token's secret (OpenAPI has no security scheme for a body field). Groups by dedup_key.",
    security(()),
    request_body = EventV2,
    responses(
        (status = 202, description = "accepted", body = Accepted),
        (status = 400, description = "invalid event (every problem in `errors`), or an unknown routing_key", body = Refused),
        (status = 413, description = "body over the ingest limit", body = Refused),
        (status = 503, description = "the store could not commit; retry", body = Refused),
    )
)]
pub async fn events_v2(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    const SOURCE: &str = "events_v2";
    let reject = |status: StatusCode, errors: Vec<String>| {
        state.metrics.ingest(SOURCE, IngestOutcome::Rejected, 0);
        refused(status, errors)
    };
    let bytes = match body {
        Ok(b) => b,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return reject(StatusCode::PAYLOAD_TOO_LARGE, vec![too_large()]);
        }
        Err(r) => {
            return reject(
                StatusCode::BAD_REQUEST,
                vec![format!("cannot read the body: {}", r.body_text())],
            );
        }
    };
    let parsed = match parse_event(&bytes) {
        Ok(p) => p,
        Err(errors) => return reject(StatusCode::BAD_REQUEST, errors),
    };
    let caller = match integration(&state, &parsed.routing_key).await {
        Ok(c) => c,
        Err(e) => {
            return reject(
                StatusCode::BAD_REQUEST,
                vec![format!(
                    "'routing_key' is not a live integration token of this warroom ({e})"
                )],
            );
        }
    };
    match run(&state, &parsed.batch, &caller, SOURCE).await {
        Ok(_) => (
            StatusCode::ACCEPTED,
            Json(Accepted {
                status: "success".into(),
                message: "Event processed".into(),
                dedup_key: parsed.dedup_key,
            }),
        )
            .into_response(),
        Err(e) => {
            // The store could not commit (503) or a bug (500): the sender retries.
            let status = e.status;
            (
                status,
                Json(Refused {
                    status: "error".into(),
                    message: e.body.error,
                    errors: Vec::new(),
                }),
            )
                .into_response()
        }
    }
}
