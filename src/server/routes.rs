//! The router and the handlers of [`crate::protocol`]'s endpoint table.

use super::auth::{Caller, validate_token_name};
use super::commands::submit_as;
use super::error::ApiError;
use super::extract::{ApiBody, ApiPath, ApiQuery};
use super::ingest;
use super::openapi;
use super::state::AppState;
use crate::domain::clocks::clocks;
use crate::domain::command::{Access, Command};
use crate::domain::policy::Policy;
use crate::domain::state::Incident;
use crate::ingest::MAX_INGEST_BODY;
use crate::protocol::{
    CommandResult, CreateToken, ErrorBody, ErrorCode, EventsPage, IncidentDetail, IncidentList,
    IncidentView, MAX_BODY_BYTES, MAX_PAGE, Me, NewToken, Ready, SERVER_TIME_HEADER, TokenInfo,
};
use crate::store::{StoreError, StoredEvent, TokenRecord, hash_token, new_secret};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

/// Every documented route: the router and the OpenAPI document in one value
/// (utoipa-axum), so a route cannot be served without its operation and
/// schemas in the document ([`openapi::build`] reads it from here).
pub fn api_router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(openapi_json))
        .routes(routes!(post_command))
        .routes(routes!(list_incidents))
        .routes(routes!(get_incident))
        .routes(routes!(get_events))
        .routes(routes!(super::stream::stream))
        .routes(routes!(get_policy))
        .routes(routes!(get_me))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(metrics))
        .routes(routes!(ingest::alertmanager).layer(DefaultBodyLimit::max(MAX_INGEST_BODY)))
        .routes(routes!(ingest::events_v2).layer(DefaultBodyLimit::max(MAX_INGEST_BODY)))
}

pub fn router(state: Arc<AppState>) -> Router {
    let body_timeout = state.config.conn_limits.body_timeout;
    let (routes, _document) = api_router().split_for_parts();
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(move |req, next| {
            super::listen::body_deadline(body_timeout, req, next)
        }))
        .layer(middleware::from_fn(stamp))
        // Method, path, status and latency of each request, at DEBUG
        // (`RUST_LOG=tower_http=debug`): tower-http's standard spans.
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Puts the server's clock on every response (errors too).
async fn stamp(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    if let Ok(v) = HeaderValue::from_str(&now) {
        res.headers_mut().insert(SERVER_TIME_HEADER, v);
    }
    res
}

async fn not_found(req: Request) -> ApiError {
    ApiError::not_found(format!("no such endpoint: {}", req.uri().path()))
}

async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        format!("{} is not allowed on {}", req.method(), req.uri().path()),
    )
}

#[utoipa::path(
    get,
    path = "/healthz",
    summary = "liveness probe",
    security(()),
    responses((status = 200, description = "`ok`", content_type = "text/plain", body = String)),
)]
async fn healthz() -> &'static str {
    "ok"
}

/// How long `/readyz` waits for the read model to reach the log's head.
const READY_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// For load balancers: 200 when the database answers and this server's read
/// model has caught up with the log's head (within [`READY_WAIT`]: a replica
/// follows the others' commits a few milliseconds behind); 503 otherwise,
/// saying which.
#[utoipa::path(
    get,
    path = "/readyz",
    summary = "readiness probe: the database answers and this server has caught up with the log",
    security(()),
    responses(
        (status = 200, description = "ready", body = Ready),
        (status = 503, description = "the database does not answer, or this server is still catching up", body = ErrorBody),
    ),
)]
async fn readyz(State(state): State<Arc<AppState>>) -> Result<Json<Ready>, ApiError> {
    let not_ready = |why: String| ApiError::busy(1, why);
    let store = state.store.clone();
    let head = tokio::task::spawn_blocking(move || {
        store.ping()?;
        store.latest_seq()
    })
    .await
    .map_err(|e| not_ready(format!("the readiness check failed: {e}")))?
    .map_err(|e| not_ready(format!("the database does not answer: {e}")))?;
    let deadline = tokio::time::Instant::now() + READY_WAIT;
    loop {
        let seen = state.latest_seq();
        if seen >= head {
            return Ok(Json(Ready {
                ready: true,
                latest_seq: seen,
            }));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(not_ready(format!(
                "catching up with the log: at seq {seen} of {head}"
            )));
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// The Prometheus exposition. Unauthenticated, like most exporters: it holds
/// counts only (no titles, names or text), and Prometheus scrapes it.
#[utoipa::path(
    get,
    path = "/metrics",
    security(()),
    summary = "Prometheus metrics (text format 0.0.4)",
    description = "Open incidents by severity and status, breached clocks, time-to-acknowledge/contain/resolve histograms, ingest and delivery counters, commit latency, live stream subscribers. No token: counts only.",
    responses((status = 200, description = "the exposition", content_type = "text/plain", body = String)),
)]
async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let now = Utc::now();
    let text = state.read_view(|v| state.metrics.render(&v.world, &state.policy, now));
    (
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static(super::metrics::CONTENT_TYPE),
        )],
        text,
    )
        .into_response()
}

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    summary = "this document",
    security(()),
    responses((status = 200, description = "OpenAPI 3.1", body = openapi::ApiDoc)),
)]
async fn openapi_json() -> Json<&'static serde_json::Value> {
    Json(openapi::document())
}

/// Parses a JSON body, naming the path of the offending field on error.
/// Content-Type is not insisted upon: `curl -d` works.
fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(ApiError::from_json)?;
    de.end().map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadJson,
            format!("malformed JSON: {e}"),
        )
    })?;
    Ok(value)
}

/// [`parse_body`] for a [`Command`], naming the field inside `action` too.
///
/// `action` is an internally tagged enum, which serde buffers before picking
/// the variant, so its errors lose the path below `action`. On such an error
/// the culprit is found by elimination: the field whose removal makes the
/// command parse (or only complain that this very field is missing).
fn parse_command(bytes: &[u8]) -> Result<Command, ApiError> {
    parse_body::<Command>(bytes).map_err(|e| blame_action_field(bytes, e))
}

/// Most keys of `action` tried one by one to name the culprit.
const MAX_BLAMED_KEYS: usize = 16;

fn blame_action_field(bytes: &[u8], err: ApiError) -> ApiError {
    if err.body.field.as_deref() != Some("action") {
        return err;
    }
    let Ok(serde_json::Value::Object(top)) = serde_json::from_slice::<serde_json::Value>(bytes)
    else {
        return err;
    };
    let Some(serde_json::Value::Object(action)) = top.get("action") else {
        return err;
    };
    // Each trial re-parses the whole body: with thousands of keys (a 256 KiB
    // body holds ~24,000) that is seconds of CPU on a runtime thread for one
    // request. No action has more than a handful of fields, so past this
    // many the error is answered as serde gave it.
    if action.len() > MAX_BLAMED_KEYS {
        return err;
    }
    let rename = |err: ApiError, key: &str| {
        let message = match err.body.error.strip_prefix("action: ") {
            Some(rest) => format!("action.{key}: {rest}"),
            None => err.body.error.clone(),
        };
        let status = err.status;
        ApiError::new(status, err.body.code, message).with_field(format!("action.{key}"))
    };
    if let Some(name) = err
        .body
        .error
        .strip_prefix("action: unknown field `")
        .and_then(|rest| rest.split('`').next())
    {
        let name = name.to_string();
        return rename(err, &name);
    }
    for key in action.keys().filter(|k| k.as_str() != "type") {
        let mut trial = serde_json::Value::Object(top.clone());
        if let Some(a) = trial.get_mut("action").and_then(|a| a.as_object_mut()) {
            a.remove(key);
        }
        let culprit = match serde_json::from_value::<Command>(trial) {
            Ok(_) => true,
            Err(e) => e.to_string().starts_with(&format!("missing field `{key}`")),
        };
        if culprit {
            return rename(err, key);
        }
    }
    err
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("store task failed: {e}")))?
        .map_err(ApiError::internal)
}

#[utoipa::path(
    post,
    path = "/api/v1/commands",
    summary = "run a command (idempotent by command id)",
    request_body = Command,
    responses(
        (status = 201, description = "stored; `events` with their seqs", body = CommandResult),
        (status = 200, description = "a repeated command id: the events stored the first time, `duplicate: true`", body = CommandResult),
        (status = 400, description = "malformed JSON", body = ErrorBody),
        (status = 403, description = "the token's role is below what the action needs", body = ErrorBody),
        (status = 404, description = "unknown incident", body = ErrorBody),
        (status = 409, description = "the incident's state does not allow it now", body = ErrorBody),
        (status = 413, description = "body over the limit", body = ErrorBody),
        (status = 422, description = "unknown field, wrong type or bad value (`field` names it), or refused by the policy", body = ErrorBody),
        (status = 503, description = "the store could not commit; retry with the same id", body = ErrorBody),
    ),
)]
async fn post_command(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiBody(body): ApiBody,
) -> Result<Response, ApiError> {
    let cmd: Command = parse_command(&body)?;
    let done = submit_as(&state, cmd, &caller).await?;
    let status = if done.appended.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let result = CommandResult {
        events: done
            .appended
            .events
            .iter()
            .map(|e| e.recorded.clone())
            .collect(),
        duplicate: done.appended.duplicate,
    };
    Ok((status, Json(result)).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Include closed incidents.
    #[serde(default)]
    all: bool,
}

/// Worst first, in the board's order ([`crate::domain::clocks::board_rank`]:
/// live before resolved, severity, the least time left on a running clock,
/// then the oldest).
fn sort_worst_first(views: &mut [IncidentView], policy: &Policy) {
    views.sort_by_cached_key(|v| crate::domain::clocks::board_rank(&v.incident, policy, &v.clocks));
}

fn view_of(inc: &Incident, policy: &Policy, now: DateTime<Utc>) -> IncidentView {
    IncidentView {
        incident: inc.clone(),
        clocks: clocks(inc, policy, now),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/incidents",
    summary = "incidents with clocks at server time, worst first",
    params(ListQuery),
    responses(
        (status = 200, description = "open incidents, worst first, and the triage queue", body = IncidentList),
        (status = 400, description = "a bad query parameter", body = ErrorBody),
    ),
)]
async fn list_incidents(
    State(state): State<Arc<AppState>>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<IncidentList>, ApiError> {
    let now = Utc::now();
    // Clone under the lock, compute clocks outside it: the commit hook waits
    // for this lock, and the writer waits for the hook.
    let (latest_seq, picked, triage) = state.read_view(|v| {
        let list: Vec<Incident> = v
            .world
            .order
            .iter()
            .filter_map(|id| v.world.get(id))
            .filter(|i| q.all || i.closed.is_none())
            .cloned()
            .collect();
        let triage = v.world.alerts.queue().cloned().collect();
        (v.latest_seq, list, triage)
    });
    let mut incidents: Vec<IncidentView> = picked
        .into_iter()
        .map(|incident| IncidentView {
            clocks: clocks(&incident, &state.policy, now),
            incident,
        })
        .collect();
    sort_worst_first(&mut incidents, &state.policy);
    Ok(Json(IncidentList {
        server_time: now,
        latest_seq,
        incidents,
        triage,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// Only events with a larger seq.
    #[serde(default)]
    #[param(schema_with = crate::protocol::seq_schema)]
    after: u64,
    /// Page size, 1 to 1000 (the most, when absent); anything else is a 400 naming `limit`.
    #[serde(default)]
    #[param(schema_with = crate::protocol::page_limit_schema)]
    limit: Option<usize>,
}

impl PageQuery {
    /// 1..=MAX_PAGE, as the OpenAPI document says (a larger ask used to be
    /// served MAX_PAGE at a time, contradicting the published `maximum`).
    fn limit(&self) -> Result<usize, ApiError> {
        match self.limit {
            Some(n) if n == 0 || n > MAX_PAGE => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidField,
                format!("limit must be between 1 and {MAX_PAGE} (got {n})"),
            )
            .with_field("limit")),
            Some(n) => Ok(n),
            None => Ok(MAX_PAGE),
        }
    }
}

/// Reads `limit + 1` to learn whether there is more without a second query.
fn page(
    mut events: Vec<Arc<StoredEvent>>,
    limit: usize,
    after: u64,
) -> (Vec<Arc<StoredEvent>>, u64, bool) {
    let more = events.len() > limit;
    events.truncate(limit);
    let next_after = events.last().map_or(after, |e| e.seq());
    (events, next_after, more)
}

#[utoipa::path(
    get,
    path = "/api/v1/incidents/{reference}",
    summary = "one incident and a page of its timeline",
    params(("reference" = String, Path, description = "`INC-3`, `3` or the incident's UUID"), PageQuery),
    responses(
        (status = 200, description = "the incident", body = IncidentDetail),
        (status = 400, description = "a bad query parameter (`field` names it)", body = ErrorBody),
        (status = 404, description = "unknown incident", body = ErrorBody),
    ),
)]
async fn get_incident(
    State(state): State<Arc<AppState>>,
    _caller: Caller,
    ApiPath(reference): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let limit = q.limit()?;
    let now = Utc::now();
    let view = state
        .read_view(|v| {
            v.world
                .resolve(&reference)
                .map(|i| view_of(i, &state.policy, now))
        })
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "unknown incident {:?}",
                crate::domain::sanitize::sanitize_line(&reference)
            ))
            .with_field("reference")
        })?;
    let store = state.store.clone();
    let id = view.incident.id;
    let after = q.after;
    let events = blocking(move || store.incident_events(id, after, limit + 1)).await?;
    let (events, next_after, more) = page(events, limit, after);
    Ok(Json(IncidentDetail {
        server_time: now,
        incident: view,
        timeline: events.iter().map(|e| e.recorded.clone()).collect(),
        next_after,
        more,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/events",
    summary = "events after a seq, in pages",
    params(PageQuery),
    responses(
        (status = 200, description = "one page, oldest first", body = EventsPage),
        (status = 400, description = "a bad query parameter (`field` names it)", body = ErrorBody),
    ),
)]
async fn get_events(
    State(state): State<Arc<AppState>>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<EventsPage>, ApiError> {
    let limit = q.limit()?;
    // Read the head first: the page can only be at or behind it.
    let latest = state.latest_seq();
    let store = state.store.clone();
    let after = q.after;
    let events = blocking(move || store.events_after(after, limit + 1)).await?;
    let (events, next_after, more) = page(events, limit, after);
    Ok(Json(EventsPage {
        events: events.iter().map(|e| e.recorded.clone()).collect(),
        next_after,
        more,
        latest_seq: latest.max(next_after),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/policy",
    summary = "the server's policy",
    responses((status = 200, description = "the policy", body = Policy)),
)]
async fn get_policy(State(state): State<Arc<AppState>>, _caller: Caller) -> Json<Policy> {
    Json((*state.policy).clone())
}

#[utoipa::path(
    get,
    path = "/api/v1/me",
    summary = "who the token belongs to",
    responses((status = 200, description = "name, role, server time, policy name", body = Me)),
)]
async fn get_me(State(state): State<Arc<AppState>>, caller: Caller) -> Json<Me> {
    Json(Me {
        name: caller.name,
        role: caller.role,
        server_time: Utc::now(),
        policy: state.policy.name.clone(),
    })
}

fn token_info(t: &TokenRecord) -> TokenInfo {
    TokenInfo {
        name: t.name.clone(),
        role: t.role,
        created_at: t.created_at,
    }
}

/// Live tokens (revoked ones are not listed).
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    summary = "live tokens (admin)",
    responses(
        (status = 200, description = "names and roles, never secrets", body = Vec<TokenInfo>),
        (status = 403, description = "needs the admin role", body = ErrorBody),
    ),
)]
async fn list_tokens(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    caller.require(Access::Admin, "managing tokens")?;
    let store = state.token_store.clone();
    let tokens = blocking(move || store.list_tokens()).await?;
    Ok(Json(
        tokens
            .iter()
            .filter(|t| !t.revoked)
            .map(token_info)
            .collect(),
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    summary = "create a token (admin); the secret is shown once",
    request_body = CreateToken,
    responses(
        (status = 201, description = "the new token", body = NewToken),
        (status = 400, description = "malformed JSON", body = ErrorBody),
        (status = 403, description = "needs the admin role", body = ErrorBody),
        (status = 409, description = "the name is taken", body = ErrorBody),
        (status = 413, description = "body over the limit", body = ErrorBody),
        (status = 422, description = "unknown field, wrong type or bad value (`field` names it)", body = ErrorBody),
    ),
)]
async fn create_token(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiBody(body): ApiBody,
) -> Result<(StatusCode, Json<NewToken>), ApiError> {
    caller.require(Access::Admin, "managing tokens")?;
    let req: CreateToken = parse_body(&body)?;
    validate_token_name(&req.name).map_err(|e| ApiError::invalid("name", e))?;
    let secret = new_secret();
    let store = state.token_store.clone();
    let (name, role, hash) = (req.name.clone(), req.role, hash_token(&secret));
    let res = tokio::task::spawn_blocking(move || store.create_token(&name, role, &hash))
        .await
        .map_err(|e| ApiError::internal(format!("store task failed: {e}")))?;
    match res {
        Ok(rec) => {
            tracing::info!(name = %rec.name, role = rec.role.as_str(), by = %caller.name, "token created");
            Ok((
                StatusCode::CREATED,
                Json(NewToken {
                    name: rec.name,
                    role: rec.role,
                    token: secret,
                }),
            ))
        }
        Err(StoreError::NameTaken(n)) => Err(ApiError::conflict(format!(
            "a token named {n:?} already exists (names stay taken after revocation)"
        ))
        .with_field("name")),
        Err(e) => Err(ApiError::internal(e)),
    }
}

#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{name}",
    summary = "revoke a token (admin)",
    params(("name" = String, Path, description = "the token's name")),
    responses(
        (status = 204, description = "revoked"),
        (status = 403, description = "needs the admin role", body = ErrorBody),
        (status = 404, description = "no live token of that name", body = ErrorBody),
    ),
)]
async fn revoke_token(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Access::Admin, "managing tokens")?;
    let store = state.token_store.clone();
    let n = name.clone();
    let revoked = blocking(move || store.revoke_token(&n)).await?;
    state.tokens.forget(&name);
    if revoked {
        let ended = state.streams.end(
            &super::streams::Principal::Token(name.clone()),
            &format!("token {name:?} was revoked by {}", caller.name),
        );
        if ended > 0 {
            tracing::info!(%name, streams = ended, "ended the revoked token's live streams");
        }
        tracing::info!(%name, by = %caller.name, "token revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "no live token named {:?}",
            crate::domain::sanitize::sanitize_line(&name)
        )))
    }
}
