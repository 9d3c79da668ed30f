//! The public status page: HTML, Statuspage v2 JSON, an Atom feed and a
//! public live stream, all read-only and unauthenticated, served by
//! `warroom serve` under `/status` and optionally on a listener of its own.
//!
//! Why a projection of its own: the page must never show anything internal,
//! so it is folded from the log into a model that only *holds* public facts
//! ([`projection`]). The follower keeps it current from the server's live
//! broadcast (catching up from the store when it lags), and after each public
//! change renders every document once into an immutable [`Snapshot`]: a
//! request is a pointer copy and an ETag comparison, never a fold of the log
//! nor a render, which is how the page takes 10,000+ requests/s without
//! slowing the API's commands.
//!
//! Module map:
//! - [`projection`]: the pure fold of events into public incidents.
//! - [`model`]: components, their status, 90-day history and uptime; the indicator.
//! - [`html`], [`v2`], [`atom`]: the three renderings of the model.
//! - [`http`]: the routes, conditional GET, cache headers, the public stream.

pub mod atom;
pub mod html;
pub mod http;
pub mod model;
pub mod projection;
pub mod v2;

use crate::domain::policy::Policy;
use crate::server::state::{AppState, Live};
use crate::store::{EventLog, StoredEvent};
use axum::body::Bytes;
use axum::http::HeaderValue;
use base64::Engine;
use chrono::{DateTime, Utc};
use projection::{Change, Projection};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

pub use http::router;

/// A snapshot older than this is rebuilt on the next request, so the
/// uptime bars and today's minutes move on even when nothing is posted.
pub const MAX_SNAPSHOT_AGE: Duration = Duration::from_secs(60);

/// One rendered document with its validator.
#[derive(Clone, Debug)]
pub struct Doc {
    pub body: Bytes,
    pub etag: HeaderValue,
    pub content_type: &'static str,
}

impl Doc {
    fn new(body: impl Into<Bytes>, content_type: &'static str) -> Doc {
        let body: Bytes = body.into();
        let digest = Sha256::digest(&body);
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        Doc {
            etag: HeaderValue::from_str(&format!("\"{hex}\""))
                .unwrap_or_else(|_| HeaderValue::from_static("\"0\"")),
            body,
            content_type,
        }
    }

    fn json<T: serde::Serialize>(value: &T) -> Doc {
        let body = serde_json::to_vec(value).unwrap_or_else(|e| {
            // Serialising plain structs of strings cannot fail; if it ever
            // did, say so in the body rather than serve a broken document.
            format!("{{\"error\":\"serialising the status failed: {e}\"}}").into_bytes()
        });
        Doc::new(body, "application/json")
    }
}

/// Every document of the page at one moment.
#[derive(Debug)]
pub struct Snapshot {
    pub built_at: DateTime<Utc>,
    pub version: u64,
    pub html: Doc,
    pub summary: Doc,
    pub status: Doc,
    pub components: Doc,
    pub incidents: Doc,
    pub unresolved: Doc,
    pub maintenances: Doc,
    pub atom: Doc,
}

impl Snapshot {
    fn render(page: &model::Page, built_at: DateTime<Utc>) -> Snapshot {
        Snapshot {
            built_at,
            version: page.version,
            html: Doc::new(html::render(page), "text/html; charset=utf-8"),
            summary: Doc::json(&v2::summary(page)),
            status: Doc::json(&v2::StatusDoc {
                page: v2::page(page),
                status: v2::status(page),
            }),
            components: Doc::json(&v2::ComponentsDoc {
                page: v2::page(page),
                components: v2::components(page),
            }),
            incidents: Doc::json(&v2::incidents(page)),
            unresolved: Doc::json(&v2::unresolved(page)),
            maintenances: Doc::json(&v2::maintenances(page)),
            atom: Doc::new(atom::render(page), "application/atom+xml; charset=utf-8"),
        }
    }
}

/// The status page's state, shared by its routes and its follower.
pub struct StatusService {
    policy: Arc<Policy>,
    projection: RwLock<Projection>,
    snapshot: RwLock<Arc<Snapshot>>,
    /// One rebuild at a time (a stale snapshot under load is rebuilt once).
    rebuilding: Mutex<()>,
    /// Public changes, as SSE frames, for `GET …/stream`.
    live: broadcast::Sender<http::Frame>,
    ready: watch::Sender<bool>,
    stop: watch::Receiver<bool>,
    /// The `Content-Security-Policy` of the page: only its own inline style
    /// and script (by hash), and connections to itself.
    csp: HeaderValue,
}

impl std::fmt::Debug for StatusService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusService").finish_non_exhaustive()
    }
}

fn csp() -> HeaderValue {
    let hash = |s: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s));
    let value = format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; connect-src 'self'; \
         img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        hash(html::CSS),
        hash(html::SCRIPT)
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
}

impl StatusService {
    /// An empty page for `policy`; [`StatusService::start`] feeds it.
    pub fn new(policy: Arc<Policy>, stop: watch::Receiver<bool>) -> Arc<StatusService> {
        let now = Utc::now();
        let mut projection = Projection::default();
        projection.setup = Some(now);
        let page = model::build(&projection, &policy, now);
        let (live, _) = broadcast::channel(256);
        let (ready, _) = watch::channel(false);
        Arc::new(StatusService {
            snapshot: RwLock::new(Arc::new(Snapshot::render(&page, now))),
            projection: RwLock::new(projection),
            policy,
            rebuilding: Mutex::new(()),
            live,
            ready,
            stop,
            csp: csp(),
        })
    }

    /// Creates the service for a running server and starts following its log.
    pub fn start(state: &Arc<AppState>) -> (Arc<StatusService>, tokio::task::JoinHandle<()>) {
        let svc = StatusService::new(state.policy.clone(), state.stop.clone());
        // Join the broadcast before reading the log: nothing falls in between.
        let rx = state.live.subscribe();
        let task = tokio::spawn(follow(svc.clone(), state.store.clone(), rx));
        (svc, task)
    }

    /// The current snapshot, rebuilt first when older than [`MAX_SNAPSHOT_AGE`].
    pub fn current(&self) -> Arc<Snapshot> {
        let snap = self.read_snapshot();
        if !is_stale(&snap) {
            return snap;
        }
        // Under load many requests see the same stale snapshot: the first
        // rebuilds, the others wait for it and take its result.
        let _one = self.rebuilding.lock().unwrap_or_else(|p| p.into_inner());
        let snap = self.read_snapshot();
        if !is_stale(&snap) {
            return snap;
        }
        self.render_now()
    }

    fn read_snapshot(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits (at most `timeout`) for the first fold of the log.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let mut rx = self.ready.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|r| *r))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Renders every document from the projection as it is now.
    fn rebuild(&self) -> Arc<Snapshot> {
        let _one = self.rebuilding.lock().unwrap_or_else(|p| p.into_inner());
        self.render_now()
    }

    /// [`Self::rebuild`] for a caller already holding `rebuilding`.
    fn render_now(&self) -> Arc<Snapshot> {
        let now = Utc::now();
        let page = {
            let proj = self.projection.read().unwrap_or_else(|p| p.into_inner());
            model::build(&proj, &self.policy, now)
        };
        let snap = Arc::new(Snapshot::render(&page, now));
        *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = snap.clone();
        snap
    }

    fn apply(&self, events: &[Arc<StoredEvent>]) -> Vec<Change> {
        let mut proj = self.projection.write().unwrap_or_else(|p| p.into_inner());
        events
            .iter()
            .map(|ev| proj.apply(ev.seq(), &ev.recorded.event, &self.policy.status_page))
            .filter(|c| *c != Change::None)
            .collect()
    }

    fn publish(&self, changes: Vec<Change>, version: u64) {
        let titles = self.projection.read().unwrap_or_else(|p| p.into_inner());
        for change in changes {
            let frame = http::Frame::of(&change, &titles, version);
            if let Some(frame) = frame {
                let _ = self.live.send(frame);
            }
        }
    }

    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    pub fn version(&self) -> u64 {
        self.read_snapshot().version
    }
}

fn is_stale(snap: &Snapshot) -> bool {
    (Utc::now() - snap.built_at)
        .to_std()
        .is_ok_and(|age| age > MAX_SNAPSHOT_AGE)
}

/// Reads the log after the projection's seq until the end, folding it in.
async fn catch_up(svc: &Arc<StatusService>, store: &Arc<dyn EventLog>) -> Vec<Change> {
    let mut changes = Vec::new();
    loop {
        let after = svc.projection.read().unwrap_or_else(|p| p.into_inner()).seq;
        let store = store.clone();
        let page = tokio::task::spawn_blocking(move || store.events_after(after, 10_000)).await;
        match page {
            Ok(Ok(events)) if events.is_empty() => return changes,
            Ok(Ok(events)) => changes.extend(svc.apply(&events)),
            Ok(Err(e)) => {
                tracing::error!("status page: reading the log failed: {e}");
                return changes;
            }
            Err(e) => {
                tracing::error!("status page: the log reader failed: {e}");
                return changes;
            }
        }
    }
}

/// Keeps the projection and the snapshot current until shutdown.
async fn follow(
    svc: Arc<StatusService>,
    store: Arc<dyn EventLog>,
    mut rx: broadcast::Receiver<Live>,
) {
    catch_up(&svc, &store).await;
    svc.rebuild();
    svc.ready.send_replace(true);
    loop {
        let mut changes = Vec::new();
        let mut batch = Vec::new();
        let mut lagged = false;
        let mut done = false;
        match rx.recv().await {
            Ok(Live::Event(ev)) => batch.push(ev.event.clone()),
            Ok(Live::Shutdown) | Err(broadcast::error::RecvError::Closed) => break,
            Err(broadcast::error::RecvError::Lagged(_)) => lagged = true,
        }
        // Fold everything already waiting before rendering once.
        loop {
            match rx.try_recv() {
                Ok(Live::Event(ev)) => batch.push(ev.event.clone()),
                Ok(Live::Shutdown) | Err(broadcast::error::TryRecvError::Closed) => {
                    done = true;
                    break;
                }
                Err(broadcast::error::TryRecvError::Lagged(_)) => lagged = true,
                Err(broadcast::error::TryRecvError::Empty) => break,
            }
        }
        changes.extend(svc.apply(&batch));
        if lagged {
            changes.extend(catch_up(&svc, &store).await);
        }
        if !changes.is_empty() {
            let version = svc.rebuild().version;
            svc.publish(changes, version);
        }
        if done || *svc.stop.borrow() {
            break;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_snapshot_is_rebuilt_once_and_a_fresh_one_is_shared() {
        let (_tx, stop) = watch::channel(false);
        let svc = StatusService::new(Arc::new(Policy::builtin_default()), stop);
        let fresh = svc.current();
        assert!(
            Arc::ptr_eq(&fresh, &svc.current()),
            "a fresh snapshot is reused"
        );
        // Age it past the limit: the next request renders a new one, and the
        // one after shares it.
        let old = Utc::now() - chrono::Duration::seconds(61);
        let proj = svc.projection.read().unwrap().clone();
        let page = model::build(&proj, &svc.policy, old);
        *svc.snapshot.write().unwrap() = Arc::new(Snapshot::render(&page, old));
        let rebuilt = svc.current();
        assert!(rebuilt.built_at > old + chrono::Duration::seconds(60));
        assert!(Arc::ptr_eq(&rebuilt, &svc.current()));
        // Same content, same validator: a day's uptime at 100 % does not move.
        assert_eq!(rebuilt.summary.etag, fresh.summary.etag);
    }

    #[test]
    fn csp_allows_exactly_the_inline_style_and_script() {
        let csp = csp();
        let csp = csp.to_str().unwrap();
        let hash = |s: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s));
        assert!(csp.contains(&format!("style-src 'sha256-{}'", hash(html::CSS))));
        assert!(csp.contains(&format!("script-src 'sha256-{}'", hash(html::SCRIPT))));
        assert!(!csp.contains("unsafe"));
    }
}
