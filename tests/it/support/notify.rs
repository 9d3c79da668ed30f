//! Loopback stand-ins for Slack's and PagerDuty's clouds (which cannot run
//! here), a signed-webhook receiver, and a real SMTP server (aiosmtpd).
//!
//! A [`Receiver`] is a real HTTP server (axum on 127.0.0.1:0) that records
//! every request it gets and answers as told: by default like the real
//! service (Slack `200 ok`, PagerDuty `202 {"status":"success",…}`), or,
//! for the next requests, with a scripted failure (500, 429 + Retry-After, a
//! hang past the client's timeout, a slow body).
#![allow(dead_code, clippy::unwrap_used)]

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;

/// How the receiver answers one request.
#[derive(Clone, Debug)]
pub enum Answer {
    Ok,
    Status(u16),
    /// 429 with this `Retry-After` value.
    TooMany(String),
    /// Sleeps this long before answering (past the client's timeout: a timeout).
    Hang(Duration),
    /// Answers 200 at once but trickles the body over this long.
    SlowBody(Duration),
}

/// One request as received.
#[derive(Clone, Debug)]
pub struct Req {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
    /// What it was answered with.
    pub answer: String,
}

impl Req {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    Slack,
    PagerDuty,
    Webhook,
}

#[derive(Default)]
struct Inner {
    log: Vec<Req>,
    script: VecDeque<Answer>,
    /// Answer every request with this once the script is empty (default: Ok).
    always: Option<Answer>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub port: u16,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    pub async fn start(flavour: Flavour) -> Receiver {
        Self::start_on(flavour, 0).await
    }

    /// On a given port (0: any) — to bring a refused port to life.
    pub async fn start_on(flavour: Flavour, port: u16) -> Receiver {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let inner = Arc::new(Mutex::new(Inner::default()));
        let state = inner.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move { answer(flavour, state, headers, body).await }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            port,
            inner,
        }
    }

    /// The next requests get these answers, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.inner.lock().unwrap().script.extend(answers);
    }

    /// Every request after the script gets this (None: the default success).
    pub fn always(&self, a: Option<Answer>) {
        self.inner.lock().unwrap().always = a;
    }

    pub fn requests(&self) -> Vec<Req> {
        self.inner.lock().unwrap().log.clone()
    }

    /// Waits until `pred` holds for the requests received, or panics after `within`.
    pub async fn wait_for(
        &self,
        within: Duration,
        what: &str,
        pred: impl Fn(&[Req]) -> bool,
    ) -> Vec<Req> {
        let deadline = Instant::now() + within;
        loop {
            let reqs = self.requests();
            if pred(&reqs) {
                return reqs;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what}; received {} requests: {:#?}",
                    reqs.len(),
                    reqs.iter()
                        .map(|r| (r.answer.clone(), r.json()))
                        .collect::<Vec<_>>()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn answer(
    flavour: Flavour,
    state: Arc<Mutex<Inner>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (a, idx) = {
        let mut s = state.lock().unwrap();
        let a = s
            .script
            .pop_front()
            .or_else(|| s.always.clone())
            .unwrap_or(Answer::Ok);
        s.log.push(Req {
            headers,
            body: body.clone(),
            at: Instant::now(),
            answer: format!("{a:?}"),
        });
        (a, s.log.len() - 1)
    };
    let _ = idx;
    match a {
        Answer::Ok => ok(flavour, &body),
        Answer::Status(code) => (
            StatusCode::from_u16(code).unwrap(),
            match flavour {
                Flavour::PagerDuty if code == 400 => json!({"status": "invalid event", "message": "Event object is invalid", "errors": ["'routing_key' invalid"]}).to_string(),
                _ => "internal_error".to_string(),
            },
        )
            .into_response(),
        Answer::TooMany(after) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", after)],
            "rate_limited",
        )
            .into_response(),
        Answer::Hang(d) => {
            tokio::time::sleep(d).await;
            ok(flavour, &body)
        }
        Answer::SlowBody(d) => {
            let stream = futures_util::stream::unfold(0u32, move |i| async move {
                if i >= 10 {
                    return None;
                }
                tokio::time::sleep(d / 10).await;
                Some((Ok::<_, std::io::Error>(Bytes::from_static(b" ")), i + 1))
            });
            Response::new(Body::from_stream(stream))
        }
    }
}

fn ok(flavour: Flavour, body: &Bytes) -> Response {
    match flavour {
        Flavour::Slack => (StatusCode::OK, "ok").into_response(),
        Flavour::PagerDuty => {
            let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            (
                StatusCode::ACCEPTED,
                axum::Json(json!({"status": "success", "message": "Event processed", "dedup_key": v["dedup_key"]})),
            )
                .into_response()
        }
        Flavour::Webhook => StatusCode::NO_CONTENT.into_response(),
    }
}

/// Verifies a Standard Webhooks signature with an independent implementation
/// (Python's standard `hmac`, `hashlib` and `base64`), not warroom's code.
pub fn verify_with_python(secret: &str, req: &Req) -> bool {
    let id = req.header("webhook-id").unwrap();
    let ts = req.header("webhook-timestamp").unwrap();
    let sig = req.header("webhook-signature").unwrap();
    let script = r#"
import base64, hashlib, hmac, sys
secret, msg_id, ts, sig = sys.argv[1:5]
body = sys.stdin.buffer.read()
key = base64.b64decode(secret.split("_", 1)[1])
want = base64.b64encode(hmac.new(key, msg_id.encode() + b"." + ts.encode() + b"." + body, hashlib.sha256).digest()).decode()
ok = any(s.split(",", 1) == ["v1", want] for s in sig.split(" "))
sys.exit(0 if ok else 1)
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script, secret, &id, &ts, &sig])
        .stdin(Stdio::piped())
        .spawn()
        .expect("python3 is needed to verify webhook signatures independently");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&req.body).unwrap();
    child.wait().unwrap().success()
}

/// A real SMTP server (aiosmtpd) on loopback, printing what it receives.
pub struct Smtp {
    pub port: u16,
    child: tokio::process::Child,
    pub received: Arc<Mutex<Vec<String>>>,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Starts aiosmtpd; None (with a note) when it is not installed — a failure under CI=true.
pub async fn smtp() -> Option<Smtp> {
    let have = std::process::Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("aiosmtpd is missing: .ci/run installs it with `pip install aiosmtpd`");
        }
        eprintln!("SKIPPED: the email test needs a real SMTP server: pip install aiosmtpd");
        return None;
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = tokio::process::Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .env("PYTHONUNBUFFERED", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let out = child.stdout.take().unwrap();
    let sink = received.clone();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(out).lines();
        let mut current: Option<String> = None;
        while let Ok(Some(line)) = lines.next_line().await {
            if line.starts_with("---------- MESSAGE FOLLOWS") {
                current = Some(String::new());
            } else if line.starts_with("------------ END MESSAGE") {
                if let Some(m) = current.take() {
                    sink.lock().unwrap().push(m);
                }
            } else if let Some(m) = current.as_mut() {
                m.push_str(&line);
                m.push('\n');
            }
        }
    });
    // Wait until it accepts connections.
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "aiosmtpd did not start on {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some(Smtp {
        port,
        child,
        received,
    })
}

impl Smtp {
    pub fn messages(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }

    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        loop {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "SMTP server got {} of {n} messages: {m:#?}",
                m.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A file holding `value` (secrets are named by file in these tests: the
/// process environment is shared by tests running in parallel).
pub fn secret_file(dir: &std::path::Path, name: &str, value: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, value).unwrap();
    p.display().to_string()
}

/// A PagerDuty Events v2 request as (dedup_key, event_action).
pub fn pd_key(v: &Value) -> (String, String) {
    (
        v["dedup_key"].as_str().unwrap().to_string(),
        v["event_action"].as_str().unwrap().to_string(),
    )
}

/// The log event a webhook delivery carries.
fn hooked_event(r: &Req) -> String {
    r.json()["data"]["event"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Waits (up to a minute) until the webhook receiver has had every event of
/// `want_hooks` and PagerDuty `pd_actions` distinct (key, action) pairs;
/// the failure says how many are missing, then `context()`.
pub async fn wait_delivered(
    hook: &Receiver,
    pd: &Receiver,
    want_hooks: &std::collections::BTreeSet<String>,
    pd_actions: usize,
    context: impl Fn() -> String,
) {
    use std::collections::BTreeSet;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got: BTreeSet<String> = hook.requests().iter().map(hooked_event).collect();
        let pd_got: BTreeSet<(String, String)> =
            pd.requests().iter().map(|r| pd_key(&r.json())).collect();
        if &got == want_hooks && pd_got.len() == pd_actions {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "lost: {} of {} webhooks, {} of {pd_actions} pagerduty actions{}",
            want_hooks.difference(&got).count(),
            want_hooks.len(),
            pd_actions - pd_got.len().min(pd_actions),
            context()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Asserts that every event went out under one `webhook-id` (a resend reuses
/// it, so a receiver deduplicates it); returns how many requests were resends.
pub fn assert_one_webhook_id_per_event(hook: &Receiver) -> usize {
    use std::collections::{BTreeMap, BTreeSet};
    let hooks = hook.requests();
    let mut ids_per_event: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &hooks {
        ids_per_event
            .entry(hooked_event(r))
            .or_default()
            .insert(r.header("webhook-id").unwrap());
    }
    for (ev, ids) in &ids_per_event {
        assert_eq!(
            ids.len(),
            1,
            "event {ev} went out under several webhook-ids: {ids:?}"
        );
    }
    hooks.len() - ids_per_event.len()
}

/// Asserts that PagerDuty saw `keys` dedup keys, each with exactly trigger,
/// acknowledge and resolve — nothing else, nothing missing.
pub fn assert_pd_lifecycles(pd: &Receiver, keys: usize) {
    use std::collections::{BTreeMap, BTreeSet};
    let per_key: BTreeMap<String, BTreeSet<String>> = pd
        .requests()
        .iter()
        .map(|r| pd_key(&r.json()))
        .fold(BTreeMap::new(), |mut m, (k, a)| {
            m.entry(k).or_default().insert(a);
            m
        });
    assert_eq!(per_key.len(), keys, "{per_key:#?}");
    let want: BTreeSet<String> = ["acknowledge", "resolve", "trigger"]
        .map(String::from)
        .into();
    for (k, actions) in &per_key {
        assert_eq!(actions, &want, "{k}");
    }
}

/// The PagerDuty requests as (event_action, dedup_key), in arrival order.
pub fn pd_actions(reqs: &[Req]) -> Vec<(String, String)> {
    reqs.iter()
        .map(|r| {
            let (key, action) = pd_key(&r.json());
            (action, key)
        })
        .collect()
}
