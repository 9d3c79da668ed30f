//! The front door: accepting connections without letting anyone who can
//! open a socket lock everyone else out.
//!
//! `axum::serve` has no header-read timeout (hyper's needs a timer it does
//! not set) and no connection cap, so 2,000 connections sending headers at a
//! byte a second were held forever, and with the common 1,024 open-file soft
//! limit 1,100 of them made every legitimate request time out. Here:
//!
//! - **slow or idle connections are closed**: hyper's header-read timeout,
//!   which runs from the moment a connection waits for a request's head —
//!   for the first request and between keep-alive requests alike — so it is
//!   the idle timeout too; a request body must arrive within
//!   [`ConnLimits::body_timeout`] ([`body_deadline`]);
//! - **connections are capped**: past [`ConnLimits::max_connections`] a new
//!   connection is answered `503` with `Retry-After` and closed at once —
//!   a clear refusal, not a hang — and the cap stays below the open-file
//!   limit, so `accept` itself never fails for lack of descriptors;
//! - **the open-file soft limit is raised to the hard one** at start
//!   ([`raise_open_file_limit`]).
//!
//! Live streams are capped separately, per token and in all (see
//! [`super::streams`]).

use super::error::ApiError;
use crate::protocol::ErrorCode;
use crate::protocol::MAX_BODY_BYTES;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// Descriptors kept free for the database, the log and the refusals.
const FD_RESERVE: u64 = 256;
/// Refusals (503 answers past the cap) in progress at most.
const MAX_REFUSING: usize = 128;

/// How the front door treats connections. See the module docs.
#[derive(Clone, Copy, Debug)]
pub struct ConnLimits {
    /// A request head (and the wait for it on a kept-alive connection) must
    /// arrive within this.
    pub header_timeout: Duration,
    /// A request body must arrive in full within this.
    pub body_timeout: Duration,
    /// Open connections at most (lowered to fit the open-file limit).
    pub max_connections: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_connections: 8192,
        }
    }
}

/// Raises the soft open-file limit to the hard one; returns the soft limit
/// in force afterwards (or `None` if it cannot be read).
pub fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => Some(n),
        Err(e) => {
            tracing::warn!("cannot raise the open-file limit: {e}");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

/// The connection cap that fits `open_files` descriptors.
pub fn fit_cap(wanted: usize, open_files: Option<u64>) -> usize {
    match open_files {
        Some(n) => {
            let room = n.saturating_sub(FD_RESERVE).max(16);
            wanted.min(usize::try_from(room).unwrap_or(usize::MAX))
        }
        None => wanted,
    }
    .max(1)
}

/// Serves `app` on `listener` until `stop` flips, then stops accepting and
/// lets open connections finish (streams end on the same signal).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let mut last_accept_warning: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            r = listener.accept() => r,
        };
        let (tcp, _peer) = match accepted {
            Ok(c) => c,
            Err(e) => {
                // Out of descriptors (or a connection reset before accept):
                // say so at most once a second, and keep serving.
                if last_accept_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(1)) {
                    tracing::warn!("accept error: {e}");
                    last_accept_warning = Some(Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Refusals are bounded too; past that a connection is just closed.
            if let Ok(r) = refusing.clone().try_acquire_owned() {
                tokio::spawn(async move {
                    refuse(tcp, limits.max_connections).await;
                    drop(r);
                });
            }
            continue;
        };
        // A `Router` serves hyper's `Incoming` bodies as they are.
        let service = TowerToHyperService::new(app.clone());
        let conn = http.serve_connection(TokioIo::new(tcp), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection ended: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Answers a connection over the cap with 503 and closes it. Refusals are
/// not counted against the cap; each lives at most 1.5 s, and at most
/// [`MAX_REFUSING`] at once.
async fn refuse(mut tcp: tokio::net::TcpStream, cap: usize) {
    let body = serde_json::json!({
        "error": format!("the server is at its limit of {cap} open connections; retry shortly"),
        "code": ErrorCode::Busy,
    })
    .to_string();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    // Wait (briefly) for the request head first: an HTTP client takes an
    // answer that comes before its request for a broken connection.
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        let mut head = Vec::with_capacity(1024);
        let mut buf = [0u8; 1024];
        while head.len() < 16 * 1024 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = tcp.write_all(answer.as_bytes()).await;
        let _ = tcp.shutdown().await;
    })
    .await;
}

/// Reads the whole request body (at most [`MAX_BODY_BYTES`]) within the body
/// timeout before the handler runs: a body trickling in a byte a second would
/// otherwise hold a connection (and a task) for as long as the sender likes.
///
/// Ingest endpoints take larger bodies (alert batches, with their own limit)
/// and answer in the sender's own error shape, so there the handler reads the
/// body itself and the deadline bounds the whole request instead.
pub async fn body_deadline(limit: Duration, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/api/v1/ingest/") {
        return match tokio::time::timeout(limit, next.run(req)).await {
            Ok(response) => response,
            Err(_) => too_slow(limit),
        };
    }
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(limit, axum::body::to_bytes(body, MAX_BODY_BYTES)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(e)) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if too_large {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::TooLarge,
                    format!(
                        "request body is larger than the limit of {MAX_BODY_BYTES} bytes ({} KiB)",
                        MAX_BODY_BYTES / 1024
                    ),
                )
                .into_response()
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadBody,
                    format!("cannot read the request body: {e}"),
                )
                .into_response()
            }
        }
        Err(_) => too_slow(limit),
    }
}

/// 408: the request did not arrive within the body deadline.
fn too_slow(limit: Duration) -> Response {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        ErrorCode::Timeout,
        format!(
            "the request body did not arrive within {} s",
            limit.as_secs_f64()
        ),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_fits_the_open_file_limit() {
        assert_eq!(fit_cap(8192, Some(1024)), 768);
        assert_eq!(fit_cap(100, Some(1_048_576)), 100);
        assert_eq!(fit_cap(100, None), 100);
        assert_eq!(fit_cap(8192, Some(10)), 16);
    }
}
