//! `GET /api/v1/stream`: the live feed as Server-Sent Events.
//!
//! Resuming without a gap or a duplicate: the subscriber joins the broadcast
//! *before* it reads the backlog from the store, then replays the backlog,
//! then forwards the broadcast skipping every seq it already sent. Anything
//! committed while the backlog was being read is in the broadcast; anything
//! committed before is in the backlog; overlap is dropped by seq.
//!
//! Falling behind is never silent: a subscriber that lags the broadcast (its
//! buffer overflowed), asks to resume from a seq the server does not have, or
//! is too far behind to replay, gets `event: resync` and the stream ends; the
//! client catches up with `GET /api/v1/events` and reconnects.
//!
//! A stream holds a slot in [`super::streams::Streams`] under its token for
//! as long as it runs: over the per-token or the overall cap it is refused
//! before it starts, and when the token is revoked it gets `event: revoked`
//! and ends at once.
//!
//! Every live event's frame is built once ([`LiveEvent::frame`]) and the
//! same bytes go to every subscriber. The frame is this module's business, not
//! the store's: the store hands out events, the stream decides their encoding.

use super::auth::Caller;
use super::error::ApiError;
use super::state::{AppState, Live};
use super::streams::{Principal, StreamRefused, StreamTicket};
use crate::protocol::{ErrorBody, ErrorCode};
use crate::protocol::{Heartbeat, MAX_PAGE, Resync, sse};
use crate::store::StoredEvent;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::broadcast;
use tokio::time::{Instant, Interval, MissedTickBehavior, interval_at};

/// A subscriber further behind than this is told to catch up with
/// `GET /api/v1/events` (pages) instead of replaying through the stream.
pub const MAX_REPLAY: u64 = 10 * MAX_PAGE as u64;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Resume after this seq (same as the `Last-Event-ID` header, which wins).
    #[serde(default)]
    #[param(schema_with = crate::protocol::seq_schema)]
    pub after: Option<u64>,
}

/// The `Last-Event-ID` header as the document states it (the handler reads
/// it from the headers itself, to answer a bad one with a precise 400).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct ResumeHeader {
    /// Resume after this seq (wins over `after`).
    #[serde(rename = "Last-Event-ID")]
    #[param(schema_with = crate::protocol::seq_schema)]
    pub last_event_id: Option<u64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/stream",
    summary = "live events as Server-Sent Events",
    description = "Frames `event` (`id:` is the seq, `data:` a Recorded), `heartbeat` (a Heartbeat), `resync` (a Resync), `shutdown` and `revoked`. At most a number of streams per token (429) and in all (503).",
    params(
        ResumeHeader,
        StreamQuery,
    ),
    responses(
        (status = 200, description = "the stream; `data:` is JSON", content_type = "text/event-stream", body = String),
        (status = 400, description = "a bad `after` or `Last-Event-ID`", body = ErrorBody),
        (status = 503, description = "the server's limit of live streams is reached; retry after `Retry-After` seconds (code `busy`)", body = ErrorBody),
    )
)]
pub async fn stream(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    super::extract::ApiQuery(query): super::extract::ApiQuery<StreamQuery>,
) -> Result<Response, ApiError> {
    let last_event_id = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::new(
                        axum::http::StatusCode::BAD_REQUEST,
                        ErrorCode::InvalidField,
                        "Last-Event-ID must be a seq (a whole number)",
                    )
                    .with_field("Last-Event-ID")
                })?,
        ),
        None => None,
    };
    let ticket = state
        .streams
        .open(Principal::Token(caller.name))
        .map_err(|e| match e {
            StreamRefused::PerPrincipal { .. } => ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::TooManyStreams,
                e.to_string(),
            ),
            StreamRefused::Total { .. } => ApiError::busy(5, e.to_string()),
        })?;
    // Join the broadcast before looking at the log (see the module docs).
    let rx = state.live.subscribe();
    let latest = state.latest_seq();
    // Checked after subscribing: a shutdown announced before that is seen here.
    let stopping = state.stopping();
    let after = last_event_id.or(query.after).unwrap_or(latest);
    let period = state
        .config
        .heartbeat
        .max(std::time::Duration::from_millis(10));
    let mut heartbeat = interval_at(Instant::now() + period, period);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);

    let mut sub = Subscriber {
        state: state.clone(),
        ticket,
        rx,
        heartbeat,
        last_sent: after,
        backlog: VecDeque::new(),
        replaying: true,
        queued: VecDeque::new(),
        finished: false,
        _counted: state.metrics.sse_connected(),
    };
    // First frame: a heartbeat, so the client learns server time and the head at once.
    sub.queued.push_back(heartbeat_frame(latest));
    if stopping {
        sub.end_with_shutdown();
    } else if after > latest {
        sub.end_with_resync(
            format!("asked to resume after seq {after}, but this server's log ends at {latest}"),
            latest,
        );
    } else if latest - after > MAX_REPLAY {
        sub.end_with_resync(
            format!(
                "{} events behind, more than the stream replays ({MAX_REPLAY}); catch up with GET /api/v1/events?after={after}",
                latest - after
            ),
            latest,
        );
    }

    let body = Body::from_stream(futures_util::stream::unfold(sub, |mut sub| async move {
        sub.next_frame()
            .await
            .map(|frame| (Ok::<Bytes, Infallible>(frame), sub))
    }));
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(res)
}

/// A committed event on its way to live subscribers, with its frame built on
/// first use and then shared (a reference-count bump per subscriber, not a copy).
#[derive(Debug)]
pub struct LiveEvent {
    pub event: Arc<StoredEvent>,
    frame: std::sync::OnceLock<Bytes>,
}

impl LiveEvent {
    pub fn new(event: Arc<StoredEvent>) -> LiveEvent {
        LiveEvent {
            event,
            frame: std::sync::OnceLock::new(),
        }
    }

    pub fn seq(&self) -> u64 {
        self.event.seq()
    }

    /// `id: SEQ / event: event / data: JSON`, built once.
    pub fn frame(&self) -> Bytes {
        self.frame.get_or_init(|| event_frame(&self.event)).clone()
    }
}

/// The frame of one stored event: its seq is the SSE `id`, so a client
/// resumes with `Last-Event-ID`.
pub fn event_frame(ev: &StoredEvent) -> Bytes {
    Bytes::from(format!(
        "id: {}\nevent: {}\ndata: {}\n\n",
        ev.recorded.seq,
        sse::EVENT,
        ev.json
    ))
}

fn frame(event: &str, data: &impl serde::Serialize) -> Bytes {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "{}".into());
    Bytes::from(format!("event: {event}\ndata: {json}\n\n"))
}

fn heartbeat_frame(latest_seq: u64) -> Bytes {
    frame(
        sse::HEARTBEAT,
        &Heartbeat {
            server_time: Utc::now(),
            latest_seq,
        },
    )
}

fn shutdown_frame() -> Bytes {
    frame(
        sse::SHUTDOWN,
        &serde_json::json!({ "reason": "the server is shutting down; reconnect later" }),
    )
}

fn revoked_frame(reason: &str) -> Bytes {
    frame(sse::REVOKED, &serde_json::json!({ "reason": reason }))
}

enum Wake {
    Live(Result<Live, broadcast::error::RecvError>),
    Beat,
    Ended(String),
}

struct Subscriber {
    state: Arc<AppState>,
    /// This stream's slot; also says when its credential was revoked.
    ticket: StreamTicket,
    rx: broadcast::Receiver<Live>,
    heartbeat: Interval,
    /// The last seq sent (or the one the client resumes after).
    last_sent: u64,
    backlog: VecDeque<Arc<StoredEvent>>,
    replaying: bool,
    /// Frames to send before anything else.
    queued: VecDeque<Bytes>,
    /// Set once the final frame (resync or shutdown) is queued.
    finished: bool,
    /// Counts this stream in `warroom_sse_subscribers` while it lives.
    _counted: super::metrics::SubscriberGuard,
}

impl Subscriber {
    fn end_with_resync(&mut self, reason: String, latest_seq: u64) {
        tracing::debug!(%reason, "stream resync");
        self.queued
            .push_back(frame(sse::RESYNC, &Resync { reason, latest_seq }));
        self.finished = true;
    }

    fn end_with_shutdown(&mut self) {
        self.queued.push_back(shutdown_frame());
        self.finished = true;
    }

    async fn next_frame(&mut self) -> Option<Bytes> {
        if let Some(f) = self.queued.pop_front() {
            return Some(f);
        }
        if self.finished {
            return None;
        }
        while self.replaying {
            if self.state.stopping() {
                self.finished = true;
                return Some(shutdown_frame());
            }
            if let Some(reason) = self.ticket.ended_now() {
                self.finished = true;
                return Some(revoked_frame(&reason));
            }
            if let Some(ev) = self.backlog.pop_front() {
                if ev.seq() > self.last_sent {
                    self.last_sent = ev.seq();
                    return Some(event_frame(&ev));
                }
                continue;
            }
            let store = self.state.store.clone();
            let after = self.last_sent;
            let page = tokio::task::spawn_blocking(move || store.events_after(after, MAX_PAGE))
                .await
                .ok()
                .and_then(|r| {
                    r.map_err(|e| tracing::error!(error = %e, "stream backlog read failed"))
                        .ok()
                });
            match page {
                Some(page) if page.is_empty() => self.replaying = false,
                Some(page) => self.backlog.extend(page),
                None => {
                    // The store failed: say so instead of pretending to be live.
                    let latest = self.state.latest_seq();
                    self.end_with_resync("the server could not read its log".into(), latest);
                    return self.queued.pop_front();
                }
            }
        }
        loop {
            let wake = {
                let Subscriber {
                    rx,
                    heartbeat,
                    ticket,
                    ..
                } = &mut *self;
                tokio::select! {
                    biased;
                    // First: a busy feed must not keep a revoked stream going.
                    reason = ticket.ended() => Wake::Ended(reason),
                    got = rx.recv() => Wake::Live(got),
                    _ = heartbeat.tick() => Wake::Beat,
                }
            };
            match wake {
                Wake::Live(Ok(Live::Shutdown)) => {
                    self.finished = true;
                    return Some(shutdown_frame());
                }
                Wake::Beat => return Some(heartbeat_frame(self.state.latest_seq())),
                Wake::Ended(reason) => {
                    self.finished = true;
                    return Some(revoked_frame(&reason));
                }
                Wake::Live(Ok(Live::Event(ev))) => {
                    let seq = ev.seq();
                    if seq <= self.last_sent {
                        continue;
                    }
                    if seq != self.last_sent + 1 {
                        // Cannot happen by construction; never hide it if it does.
                        let latest = self.state.latest_seq();
                        self.end_with_resync(
                            format!("gap in the live feed after seq {}", self.last_sent),
                            latest,
                        );
                        return self.queued.pop_front();
                    }
                    self.last_sent = seq;
                    return Some(ev.frame());
                }
                Wake::Live(Err(broadcast::error::RecvError::Lagged(missed))) => {
                    let latest = self.state.latest_seq();
                    self.end_with_resync(
                        format!(
                            "this subscriber fell {missed} events behind the live feed; catch up with GET /api/v1/events?after={}",
                            self.last_sent
                        ),
                        latest,
                    );
                    return self.queued.pop_front();
                }
                Wake::Live(Err(broadcast::error::RecvError::Closed)) => {
                    self.end_with_shutdown();
                    return self.queued.pop_front();
                }
            }
        }
    }
}
