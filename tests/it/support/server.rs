//! Shared helpers for the server tests: a real server on 127.0.0.1:0 over a
//! real SQLite file in a tempdir, a reqwest client, and a small SSE reader.
#![allow(dead_code, clippy::unwrap_used)]

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use tempfile::TempDir;
use uuid::Uuid;
use warroom::domain::command::Access;
use warroom::domain::policy::Policy;
use warroom::server::{self, RunningServer, ServerConfig};

/// A small policy: P1–P3, roles ic/scribe, one triage checklist. With `fast_rule`,
/// a P1 left unacknowledged for 2 s escalates automatically to "Backup on-call".
pub fn policy_toml(fast_rule: bool) -> String {
    let rule = if fast_rule {
        r#"
[[escalations]]
id = "p1-unacked"
when = "unacknowledged"
after = "2s"
severities = ["P1"]
to = "Backup on-call"
"#
    } else {
        ""
    };
    format!(
        r#"
name = "test-policy"
source = "tests"
kinds = ["availability", "security"]
escalation_path = ["Team lead", "CTO"]

[[severities]]
id = "P1"
label = "P1"
name = "Critical"
acknowledge = "5m"
resolve = "1h"

[[severities]]
id = "P2"
label = "P2"
name = "High"
acknowledge = "15m"
resolve = "4h"

[[severities]]
id = "P3"
label = "P3"
name = "Medium"
acknowledge = "1h"
resolve = "24h"

[[roles]]
id = "ic"
name = "Incident Commander"

[[roles]]
id = "scribe"
name = "Scribe"
{rule}
[[checklists]]
id = "triage"
title = "Triage"
phase = "triage"
items = [{{ id = "assess", text = "Assess the impact" }}]

[templates]
internal = "{{id}} {{title}}"
escalation = "ESCALATION {{id}}"
customer = "{{title}}"

[templates.status_page]
investigating = "{{title}}: investigating"
identified = "{{title}}: identified"
monitoring = "{{title}}: monitoring"
resolved = "{{title}}: resolved"
"#
    )
}

pub fn policy(fast_rule: bool) -> Policy {
    Policy::from_toml(&policy_toml(fast_rule)).unwrap()
}

pub struct Srv {
    pub server: Option<RunningServer>,
    pub dir: TempDir,
    pub url: String,
    /// The bootstrap admin's secret (name `admin`).
    pub admin: String,
    pub http: reqwest::Client,
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A server with the test policy (no fast rule), fast heartbeats, no rate limit
/// unless `tweak` sets one, and an admin token.
pub async fn start(tweak: impl FnOnce(&mut ServerConfig)) -> Srv {
    let dir = tempfile::tempdir().unwrap();
    start_in(dir, tweak).await
}

pub async fn start_in(dir: TempDir, tweak: impl FnOnce(&mut ServerConfig)) -> Srv {
    let mut config = ServerConfig::new(dir.path().join("warroom.db"), "127.0.0.1:0");
    config.policy = policy(false);
    config.heartbeat = Duration::from_millis(200);
    config.rate_limit = None;
    config.bootstrap_token = Some(("admin".into(), Access::Admin));
    tweak(&mut config);
    let server = server::start(config).await.unwrap();
    Srv {
        url: server.url(),
        admin: server.local_token().unwrap().to_string(),
        server: Some(server),
        dir,
        http: http(),
    }
}

impl Srv {
    /// Shuts down and returns the tempdir, to restart on the same database.
    pub async fn stop(mut self) -> TempDir {
        if let Some(s) = self.server.take() {
            s.shutdown().await.unwrap();
        }
        self.dir
    }

    /// A new token through the admin API.
    pub async fn token(&self, name: &str, role: &str) -> String {
        let (status, body) = self
            .post_json(
                &self.admin,
                "/api/v1/tokens",
                json!({ "name": name, "role": role }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn post_json(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn command(&self, token: &str, cmd: Value) -> (StatusCode, Value) {
        self.post_json(token, "/api/v1/commands", cmd).await
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Declares an incident as `token` and returns its key (`INC-n`).
    pub async fn declare(&self, token: &str, title: &str, severity: &str) -> String {
        let (status, body) = self
            .command(
                token,
                cmd(
                    None,
                    json!({ "type": "declare", "title": title, "severity": severity }),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["events"][0]["incident"].as_str().unwrap().to_string();
        let (_, detail) = self.get(token, &format!("/api/v1/incidents/{id}")).await;
        format!("INC-{}", detail["incident"]["incident"]["number"])
    }

    pub async fn note(&self, token: &str, incident: &str, text: &str) -> (StatusCode, Value) {
        self.command(
            token,
            cmd(Some(incident), json!({ "type": "note", "text": text })),
        )
        .await
    }

    /// Every event in the log, following pages.
    pub async fn all_events(&self, token: &str) -> Vec<Value> {
        all_events(&self.http, &self.url, token).await
    }

    pub async fn stream(&self, token: &str, last_event_id: Option<u64>) -> Sse {
        Sse::open(&self.http, &self.url, token, last_event_id, None).await
    }
}

pub async fn all_events(http: &reqwest::Client, url: &str, token: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page: Value = http
            .get(format!("{url}/api/v1/events?after={after}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let events = page["events"].as_array().unwrap().clone();
        out.extend(events);
        after = page["next_after"].as_u64().unwrap();
        if !page["more"].as_bool().unwrap() {
            return out;
        }
    }
}

/// A command body with a fresh id.
/// Posts a note from a spawned task (which cannot borrow a [`Srv`]); returns the status.
pub async fn post_note(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    incident: &str,
    text: &str,
) -> StatusCode {
    let body = cmd(Some(incident), json!({ "type": "note", "text": text }));
    http.post(format!("{url}/api/v1/commands"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

pub fn cmd(incident: Option<&str>, action: Value) -> Value {
    cmd_with_id(Uuid::new_v4(), incident, action)
}

pub fn cmd_with_id(id: Uuid, incident: Option<&str>, action: Value) -> Value {
    let mut c = json!({ "id": id, "action": action });
    if let Some(i) = incident {
        c["incident"] = json!(i);
    }
    c
}

/// One SSE message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Frame {
    pub id: Option<u64>,
    pub event: String,
    pub data: String,
}

impl Frame {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap()
    }
}

/// An SSE reader over a real HTTP response, with the client's own parser.
pub struct Sse {
    pub status: StatusCode,
    stream: futures_util::stream::BoxStream<'static, Result<warroom::client::sse::Event, String>>,
}

impl Sse {
    pub async fn open(
        http: &reqwest::Client,
        url: &str,
        token: &str,
        last_event_id: Option<u64>,
        query_after: Option<u64>,
    ) -> Sse {
        let mut req = http
            .get(match query_after {
                Some(a) => format!("{url}/api/v1/stream?after={a}"),
                None => format!("{url}/api/v1/stream"),
            })
            .bearer_auth(token)
            .timeout(Duration::from_secs(3600));
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let resp = req.send().await.unwrap();
        Sse {
            status: resp.status(),
            stream: warroom::client::sse::events(resp.bytes_stream()).boxed(),
        }
    }

    /// The next message, or `None` when the stream ended; panics after `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Frame> {
        tokio::time::timeout(wait, self.next())
            .await
            .expect("no SSE message in time")
    }

    /// The next message, or `None` when the stream ended (or broke).
    pub async fn next(&mut self) -> Option<Frame> {
        let ev = self.stream.next().await?.ok()?;
        Some(Frame {
            // The SSE "last event id" carries over; only frames that set one have it here.
            id: ev.id.parse().ok(),
            event: ev.event,
            data: ev.data,
        })
    }

    /// The next `event` frame, skipping heartbeats.
    pub async fn next_event(&mut self, wait: Duration) -> Option<Frame> {
        loop {
            let f = self.next_within(wait).await?;
            if f.event != "heartbeat" {
                return Some(f);
            }
        }
    }
}

/// A port free on 127.0.0.1 now (for a program that must be told its port).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `url` answers `/healthz`, failing the test after `within`.
pub async fn wait_healthy(url: &str, within: Duration) {
    let deadline = std::time::Instant::now() + within;
    while http().get(format!("{url}/healthz")).send().await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "{url} did not come up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Posts a command until a server answers 2xx — the same id every time, so
/// a retry is idempotent — moving on to the next of `urls` when one refuses
/// the connection. A 4xx fails the test: only a 5xx or no answer is retried.
pub async fn post_until_committed(urls: &[String], token: &str, body: &Value) {
    let http = http();
    let mut i = 0;
    loop {
        let url = &urls[i % urls.len()];
        match http
            .post(format!("{url}/api/v1/commands"))
            .bearer_auth(token)
            .json(body)
            .timeout(Duration::from_secs(3))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => return,
            Ok(r) => assert!(
                r.status().is_server_error(),
                "{} {}",
                r.status(),
                r.text().await.unwrap_or_default()
            ),
            Err(_) => i += 1,
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
