//! The HTTP client for `/api/v1`: one method per endpoint, errors that keep
//! the server's reason, and the clock offset measured on every response.

use crate::domain::{Command, Policy};
use crate::protocol::{
    CommandResult, ErrorBody, ErrorCode, EventsPage, IncidentDetail, IncidentList, Me,
    SERVER_TIME_HEADER,
};
use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;
use std::sync::{Arc, Mutex};

/// Why a request failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// No answer: connection refused, timed out, reset. Worth retrying.
    #[error("server unreachable: {0}")]
    Unreachable(String),
    /// The server answered with an error status and a reason.
    #[error("{} ({status})", body.error)]
    Rejected { status: u16, body: ErrorBody },
    /// The server answered something this client does not understand.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    /// The server's address cannot be used as given (the message says how to fix it).
    #[error("{0}")]
    BadAddress(String),
}

/// A transport failure in words a person can act on: reqwest's own message
/// ("error sending request") names no cause, so the chain of sources is
/// walked for it, and the usual causes get a hint.
fn unreachable(base: &str, e: reqwest::Error) -> ClientError {
    let mut causes: Vec<String> = Vec::new();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let text = s.to_string();
        if !causes.iter().any(|c| c.contains(&text)) {
            causes.push(text);
        }
        source = s.source();
    }
    let all = causes.join(": ").to_lowercase();
    let hint = if all.contains("refused") {
        "; nothing listens there: is the server (`warroom serve`) running, and are the host and port right?"
    } else if all.contains("dns") || all.contains("lookup") || all.contains("name or service") {
        "; the host name does not resolve: check its spelling"
    } else if e.is_timeout() || all.contains("timed out") {
        "; no answer in time: is the host reachable (VPN, firewall)?"
    } else if all.contains("certificate") || all.contains("tls") {
        "; the TLS handshake failed: is it https:// with a valid certificate, or plain http://?"
    } else {
        ""
    };
    let cause = causes
        .last()
        .cloned()
        .unwrap_or_else(|| e.without_url().to_string());
    ClientError::Unreachable(format!("cannot reach {base}: {cause}{hint}"))
}

/// Checks a server address before any request: the scheme is required
/// (`localhost:7777` parses as scheme "localhost"), and only http(s) works.
fn check_base(base: &str) -> Result<(), ClientError> {
    let fix = |why: &str| {
        let bare = base.split("://").last().unwrap_or(base);
        ClientError::BadAddress(format!(
            "server address {base:?} {why}; write it with the scheme, e.g. http://{bare}"
        ))
    };
    if !base.contains("://") {
        return Err(fix("has no scheme"));
    }
    match reqwest::Url::parse(base) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        Ok(u) if !matches!(u.scheme(), "http" | "https") => Err(ClientError::BadAddress(format!(
            "server address {base:?}: scheme {}:// is not supported; use http:// or https://",
            u.scheme()
        ))),
        Ok(_) => Err(fix("names no host")),
        Err(e) => Err(ClientError::BadAddress(format!(
            "server address {base:?} is not a URL ({e}); e.g. http://127.0.0.1:7777"
        ))),
    }
}

impl ClientError {
    /// Whether sending again later may succeed (network trouble, overload, server fault)
    /// rather than the request itself being wrong.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Unreachable(_) => true,
            ClientError::Rejected { status, .. } => {
                *status == 429 || *status == 408 || *status >= 500
            }
            ClientError::Protocol(_) | ClientError::BadAddress(_) => false,
        }
    }
}

/// Where requests go and as whom.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Endpoint {
    /// The server in use now.
    base: String,
    token: String,
    /// Every server given (`--server http://a:7777,http://b:7777`: replicas
    /// of one deployment); a connection refused by `base` moves to the next.
    all: Vec<String>,
}

/// A handle on one server; cheap to clone. Clones share the endpoint, so
/// [`Api::redirect`] moves every task using this handle (the stream, the
/// outbox) to another server at once.
#[derive(Clone, Debug)]
pub struct Api {
    endpoint: Arc<Mutex<Endpoint>>,
    http: reqwest::Client,
    /// Best clock-offset estimate: `server time − local time`, from the round trip
    /// with the smallest delay seen so far (the NTP rule: least delay, least error).
    offset: Arc<Mutex<Option<(Duration, Duration)>>>,
}

impl Api {
    /// `base` is one server URL, or several separated by commas (replicas of
    /// one deployment, tried in order when one cannot be reached). A DNS name
    /// with several addresses needs no list: each address is tried in turn
    /// when connecting.
    pub fn new(base: &str, token: &str) -> Result<Api, ClientError> {
        let all: Vec<String> = base
            .split(',')
            .map(|b| b.trim().trim_end_matches('/').to_string())
            .filter(|b| !b.is_empty())
            .collect();
        if all.is_empty() {
            check_base("")?;
        }
        for b in &all {
            check_base(b)?;
        }
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(3))
            .build()
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        Ok(Api {
            endpoint: Arc::new(Mutex::new(Endpoint {
                base: all.first().cloned().unwrap_or_default(),
                token: token.to_string(),
                all,
            })),
            http,
            offset: Arc::new(Mutex::new(None)),
        })
    }

    fn endpoint(&self) -> Endpoint {
        self.endpoint
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn base(&self) -> String {
        self.endpoint().base
    }

    /// The bearer token this handle sends.
    pub fn token(&self) -> String {
        self.endpoint().token
    }

    /// Points this handle and all its clones at another server (the embedded
    /// server was taken over by another window, or by this one). The clock
    /// offset is measured afresh there.
    pub fn redirect(&self, base: &str, token: &str) {
        let base = base.trim_end_matches('/').to_string();
        let next = Endpoint {
            all: vec![base.clone()],
            base,
            token: token.to_string(),
        };
        let mut e = self.endpoint.lock().unwrap_or_else(|p| p.into_inner());
        if *e != next {
            *e = next;
            if let Ok(mut o) = self.offset.lock() {
                *o = None;
            }
        }
    }

    /// Moves to the next server of the list when `from` (the one that could
    /// not be reached) is still the one in use; true when it moved. The
    /// stream then resumes there from its last seq, and the outbox replays
    /// there (command ids make a replay safe).
    pub fn fail_over(&self, from: &str) -> bool {
        let mut e = self.endpoint.lock().unwrap_or_else(|p| p.into_inner());
        if e.base != from || e.all.len() < 2 {
            return false;
        }
        let i = e.all.iter().position(|b| *b == e.base).unwrap_or(0);
        e.base = e.all[(i + 1) % e.all.len()].clone();
        tracing::warn!(from, to = %e.base, "server unreachable; trying the next one");
        drop(e);
        if let Ok(mut o) = self.offset.lock() {
            *o = None;
        }
        true
    }

    /// `server time − local time` as last measured, if any response has been seen.
    pub fn clock_offset(&self) -> Option<Duration> {
        self.offset.lock().ok().and_then(|o| o.map(|(off, _)| off))
    }

    /// Records one NTP-style sample: the server stamped `server` somewhere
    /// between our `sent` and `received`, so the offset is server − midpoint.
    pub fn observe_server_time(
        &self,
        sent: DateTime<Utc>,
        received: DateTime<Utc>,
        server: DateTime<Utc>,
    ) {
        let delay = received - sent;
        let offset = server - (sent + delay / 2);
        if let Ok(mut best) = self.offset.lock() {
            // Prefer the sample with the least delay, but let a much later sample in
            // (clocks drift): replace when the delay is within 50 ms of the best.
            let replace = match *best {
                None => true,
                Some((_, best_delay)) => delay <= best_delay + Duration::milliseconds(50),
            };
            if replace {
                *best = Some((offset, delay));
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.endpoint().base, path)
    }

    /// Sends a request; when its server refuses the connection (the request
    /// never left), sends it to the next server of the list, once each.
    async fn execute(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ClientError> {
        let request = req
            .bearer_auth(self.token())
            .timeout(std::time::Duration::from_secs(15))
            .build()
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let url = request.url();
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let tries = self.endpoint().all.len().max(1);
        let mut last = None;
        for _ in 0..tries {
            let base = self.base();
            let Some(mut attempt) = request.try_clone() else {
                break;
            };
            *attempt.url_mut() = reqwest::Url::parse(&format!("{base}{path}"))
                .map_err(|e| ClientError::BadAddress(e.to_string()))?;
            match self.http.execute(attempt).await {
                Ok(resp) => return Ok(resp),
                Err(e) if e.is_connect() && self.fail_over(&base) => last = Some((base, e)),
                Err(e) => return Err(unreachable(&base, e)),
            }
        }
        match last {
            Some((base, e)) => Err(unreachable(&base, e)),
            None => self
                .http
                .execute(request)
                .await
                .map_err(|e| unreachable(&self.base(), e)),
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<(T, u16), ClientError> {
        let sent = Utc::now();
        let resp = self.execute(req).await?;
        let received = Utc::now();
        self.note_time(&resp, sent, received);
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| unreachable(&self.base(), e))?;
        if status >= 400 {
            let body = serde_json::from_slice::<ErrorBody>(&bytes).unwrap_or_else(|_| ErrorBody {
                error: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                code: ErrorCode::Http,
                field: None,
            });
            return Err(ClientError::Rejected { status, body });
        }
        serde_json::from_slice(&bytes)
            .map(|v| (v, status))
            .map_err(|e| ClientError::Protocol(e.to_string()))
    }

    fn note_time(&self, resp: &reqwest::Response, sent: DateTime<Utc>, received: DateTime<Utc>) {
        if let Some(server) = resp
            .headers()
            .get(SERVER_TIME_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        {
            self.observe_server_time(sent, received, server.with_timezone(&Utc));
        }
    }

    /// Sends a command; a repeated id is answered with the original events (`duplicate`).
    pub async fn send(&self, cmd: &Command) -> Result<CommandResult, ClientError> {
        let (r, _) = self
            .call(self.http.post(self.url("/api/v1/commands")).json(cmd))
            .await?;
        Ok(r)
    }

    pub async fn events_after(&self, after: u64, limit: usize) -> Result<EventsPage, ClientError> {
        let path = format!("/api/v1/events?after={after}&limit={limit}");
        Ok(self.call(self.http.get(self.url(&path))).await?.0)
    }

    pub async fn incidents(&self, all: bool) -> Result<IncidentList, ClientError> {
        let path = format!("/api/v1/incidents?all={all}");
        Ok(self.call(self.http.get(self.url(&path))).await?.0)
    }

    pub async fn incident(&self, reference: &str) -> Result<IncidentDetail, ClientError> {
        let path = format!("/api/v1/incidents/{reference}");
        Ok(self.call(self.http.get(self.url(&path))).await?.0)
    }

    pub async fn policy(&self) -> Result<Policy, ClientError> {
        Ok(self
            .call(self.http.get(self.url("/api/v1/policy")))
            .await?
            .0)
    }

    pub async fn me(&self) -> Result<Me, ClientError> {
        Ok(self.call(self.http.get(self.url("/api/v1/me"))).await?.0)
    }

    /// Opens the live stream after `after`; the caller parses it with [`super::sse::Parser`].
    pub async fn stream(&self, after: u64) -> Result<reqwest::Response, ClientError> {
        let sent = Utc::now();
        let base = self.base();
        let resp = self
            .http
            .get(self.url("/api/v1/stream"))
            .bearer_auth(self.token())
            .header("Last-Event-ID", after.to_string())
            .header("Accept", "text/event-stream")
            .send()
            .await
            .map_err(|e| {
                // The next reconnection goes to the next server, resuming
                // after the same seq.
                if e.is_connect() {
                    self.fail_over(&base);
                }
                unreachable(&base, e)
            })?;
        self.note_time(&resp, sent, Utc::now());
        let status = resp.status().as_u16();
        if status >= 400 {
            let bytes = resp.bytes().await.unwrap_or_default();
            let body = serde_json::from_slice::<ErrorBody>(&bytes).unwrap_or_else(|_| ErrorBody {
                error: format!("stream refused with HTTP {status}"),
                code: ErrorCode::Http,
                field: None,
            });
            return Err(ClientError::Rejected { status, body });
        }
        Ok(resp)
    }
}
