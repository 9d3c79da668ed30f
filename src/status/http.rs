//! The status page's routes: public, read-only, no authentication.
//!
//! Every document is served from the current [`Snapshot`](super::Snapshot)
//! with a strong `ETag` (a `304` when `If-None-Match` matches) and a short
//! `Cache-Control`, so browsers, CDNs and pollers revalidate cheaply. The
//! live stream carries only public changes: each new status-page post
//! (`event: post`) and "something else public changed" (`event: change`).

use super::projection::{Change, Projection};
use super::{Doc, StatusService};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use futures_util::StreamExt;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

/// Documents may be cached this long; the ETag makes a revalidation cheap.
pub const CACHE_CONTROL: &str = "public, max-age=5";

/// How long a request made while the first fold of the log is running waits.
const READY_WAIT: Duration = Duration::from_secs(5);

/// One public change, ready to send on the stream.
#[derive(Clone, Debug)]
pub struct Frame {
    pub kind: &'static str,
    pub version: u64,
    pub data: Arc<str>,
}

impl Frame {
    /// The frame for a change; posts carry only what the page shows.
    pub fn of(change: &Change, projection: &Projection, version: u64) -> Option<Frame> {
        let (kind, data) = match change {
            Change::None => return None,
            Change::Post { incident, post } => {
                let name = projection
                    .get(incident)
                    .map(|i| i.title.clone())
                    .unwrap_or_default();
                let data = serde_json::json!({
                    "id": post.id.simple().to_string(),
                    "incident_id": incident.simple().to_string(),
                    "incident_name": name,
                    "status": post.state.as_str(),
                    "body": post.body,
                    "created_at": post.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                });
                ("post", data.to_string())
            }
            Change::Other => (
                "change",
                serde_json::json!({ "version": version }).to_string(),
            ),
        };
        Some(Frame {
            kind,
            version,
            data: data.into(),
        })
    }

    fn event(&self) -> Event {
        Event::default()
            .event(self.kind)
            .id(self.version.to_string())
            .data(&*self.data)
    }
}

/// The routes under `prefix` (`/status` on the API's listener, empty on a
/// listener of its own). Links in the page are relative, so the page lives
/// at `{prefix}/`; `{prefix}` redirects there.
pub fn router(svc: Arc<StatusService>, prefix: &str) -> Router {
    let p = prefix.trim_end_matches('/');
    let mut r = Router::new()
        .route(&format!("{p}/"), get(page))
        .route(&format!("{p}/index.html"), get(page))
        .route(&format!("{p}/api/v2/summary.json"), get(summary))
        .route(&format!("{p}/api/v2/status.json"), get(status))
        .route(&format!("{p}/api/v2/components.json"), get(components))
        .route(&format!("{p}/api/v2/incidents.json"), get(incidents))
        .route(
            &format!("{p}/api/v2/incidents/unresolved.json"),
            get(unresolved),
        )
        .route(
            &format!("{p}/api/v2/scheduled-maintenances.json"),
            get(maintenances),
        )
        .route(
            &format!("{p}/api/v2/scheduled-maintenances/upcoming.json"),
            get(maintenances),
        )
        .route(
            &format!("{p}/api/v2/scheduled-maintenances/active.json"),
            get(maintenances),
        )
        .route(&format!("{p}/feed.atom"), get(atom))
        .route(&format!("{p}/history.atom"), get(atom))
        .route(&format!("{p}/stream"), get(stream));
    if !p.is_empty() {
        let to = format!("{p}/");
        r = r.route(p, get(move || async move { Redirect::permanent(&to) }));
    }
    r.with_state(svc)
}

/// Whether `If-None-Match` names this ETag (or `*`); weak tags compare too.
fn matches(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(mine) = etag.to_str() else {
        return false;
    };
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == mine)
}

enum Kind {
    Html,
    Data,
}

async fn respond(
    svc: &StatusService,
    headers: &HeaderMap,
    kind: Kind,
    pick: impl FnOnce(&super::Snapshot) -> Doc,
) -> Response {
    if !svc.is_ready() && !svc.wait_ready(READY_WAIT).await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            "the status page is still loading; retry in a second\n",
        )
            .into_response();
    }
    let snap = svc.current();
    let doc = pick(&snap);
    let mut res = if matches(headers, &doc.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = doc.body.clone().into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(doc.content_type),
        );
        r
    };
    let h = res.headers_mut();
    h.insert(header::ETAG, doc.etag.clone());
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    match kind {
        Kind::Html => {
            h.insert(header::CONTENT_SECURITY_POLICY, svc.csp.clone());
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
        }
        // Statuspage's public API is readable from any origin (widgets, dashboards).
        Kind::Data => {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
    }
    res
}

async fn page(State(svc): State<Arc<StatusService>>, headers: HeaderMap) -> Response {
    respond(&svc, &headers, Kind::Html, |s| s.html.clone()).await
}

async fn summary(State(svc): State<Arc<StatusService>>, headers: HeaderMap) -> Response {
    respond(&svc, &headers, Kind::Data, |s| s.summary.clone()).await
}

async fn status(State(svc): State<Arc<StatusService>>, headers: HeaderMap) -> Response {
    respond(&svc, &headers, Kind::Data, |s| s.status.clone()).await
}

async fn components(State(svc): State<Arc<StatusService>>, headers: HeaderMap) -> Response {
    respond(&svc, &headers, Kind::Data, |s| s.components.clone()).await
}

async fn incidents(State(svc): State<Arc<StatusService>>, headers: HeaderMap) -> Response {
    respond(&svc, &headers, Kind::Data, |s| s.incidents.clone()).await
}

async fn unresolved(State(svc): State<Arc<StatusService>>, headers: HeaderMap) -> Response {
    respond(&svc, &headers, Kind::Data, |s| s.unresolved.clone()).await
}

async fn maintenances(State(svc): State<Arc<StatusService>>, headers: HeaderMap) -> Response {
    respond(&svc, &headers, Kind::Data, |s| s.maintenances.clone()).await
}

async fn atom(State(svc): State<Arc<StatusService>>, headers: HeaderMap) -> Response {
    respond(&svc, &headers, Kind::Data, |s| s.atom.clone()).await
}

/// `GET …/stream`: `hello` with the page's version first (a page older than
/// that refreshes at once), then every public change; a subscriber that
/// falls behind gets a `change` (refresh) rather than a silent gap. Ends on
/// shutdown.
async fn stream(State(svc): State<Arc<StatusService>>) -> Response {
    let rx = svc.live.subscribe();
    let mut stop = svc.stop.clone();
    if *stop.borrow() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    let hello = Event::default()
        .event("hello")
        .data(svc.version().to_string());
    let changes = BroadcastStream::new(rx).map(|r| match r {
        Ok(frame) => frame.event(),
        Err(BroadcastStreamRecvError::Lagged(_)) => Event::default().event("change").data("{}"),
    });
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    let events = futures_util::stream::once(async move { hello })
        .chain(changes)
        .map(Ok::<_, Infallible>)
        .take_until(stopped);
    let mut res = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    res
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists_weak_tags_and_star() {
        let etag = HeaderValue::from_static("\"abc\"");
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_NONE_MATCH, HeaderValue::from_static(v));
            matches(&h, &etag)
        };
        assert!(with("\"abc\""));
        assert!(with("W/\"abc\""));
        assert!(with("\"x\", \"abc\""));
        assert!(with("*"));
        assert!(!with("\"abcd\""));
        assert!(!with("abc"));
        assert!(!matches(&HeaderMap::new(), &etag));
    }
}
