//! Delivery bench (`cargo bench --bench notify`): the real server (library
//! API) on a temporary SQLite file, its delivery worker sending to loopback
//! receivers that stand in for Slack, PagerDuty and a webhook endpoint (and
//! to a real SMTP server, aiosmtpd, when installed).
//!
//! Per channel: N notes are posted by 16 concurrent writers across
//! `incidents` incidents, each note routed to that one channel. Reported:
//! - throughput: notes delivered per second, from the first POST to the last
//!   arrival at the receiver;
//! - latency p50/p99 from the command's 2xx (the event is durable and
//!   committed) to the notification arriving at the receiver — i.e. leaving
//!   warroom, plus a loopback hop.
//!
//! Deliveries sharing an order key (channel + incident + target) leave one at
//! a time, in log order, so a single busy incident is bounded by one round
//! trip + the outcome's commit per notification; many incidents go in
//! parallel (up to 64 in flight). Both shapes are measured.
//!
//! Then the steady state: one writer posting a note every 50 ms (20/s) over
//! 16 incidents, nothing queued — the p99 from commit to a notification
//! leaving that a budget can be set on.
//!
//! Knobs: `WARROOM_BENCH_NOTES` (default 2000), `WARROOM_BENCH_STEADY` (notes
//! in the steady run, default 300), `WARROOM_BENCH_ONLY` (`burst` or
//! `steady`: run only those shapes; the bursts take minutes, the steady run
//! about 15 s per channel).

use axum::body::Bytes;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;
use warroom::domain::command::Access;
use warroom::domain::policy::Policy;
use warroom::server::{self, ServerConfig};

type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;
/// What the SMTP server printed: (tag, when).
type SmtpLog = Arc<Mutex<Vec<(String, Instant)>>>;

/// A loopback receiver answering like the real service; records when each note arrived.
async fn receiver(status: u16) -> anyhow::Result<(String, Arrivals)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let arrivals: Arrivals = Arc::new(Mutex::new(HashMap::new()));
    let sink = arrivals.clone();
    let app = axum::Router::new().fallback(move |body: Bytes| {
        let sink = sink.clone();
        async move {
            let now = Instant::now();
            let text = String::from_utf8_lossy(&body);
            if let Some(i) = text.find("bench-note-") {
                let tag: String = text[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                if let Ok(mut m) = sink.lock() {
                    m.entry(tag).or_insert(now);
                }
            }
            axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::OK)
        }
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, arrivals))
}

const BASE: &str = include_str!("../assets/policies/default.toml");

fn policy(channel: &str, event: &str, dir: &std::path::Path) -> anyhow::Result<Policy> {
    std::fs::write(dir.join("secret"), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
    let text = format!(
        "{BASE}\n{channel}\n[[notify.routes]]\nchannel = \"out\"\nevents = [\"{event}\"]\n[notify.delivery]\nbackoff = \"1s\"\n"
    );
    Ok(Policy::from_toml(&text)?)
}

struct Run {
    label: String,
    notes: usize,
    incidents: usize,
    /// `None` for a burst; else one note every this long.
    pace: Option<Duration>,
    throughput: f64,
    p50: Duration,
    p99: Duration,
}

/// What each posted command is: a note, or (for PagerDuty, which takes only
/// trigger/acknowledge/resolve) a page whose reason carries the tag.
#[derive(Clone, Copy)]
enum Shape {
    Note,
    Page,
}

#[allow(clippy::too_many_arguments)]
async fn run(
    label: &str,
    channel_toml: String,
    shape: Shape,
    arrivals: Arrivals,
    notes: usize,
    incidents: usize,
    smtp_log: Option<SmtpLog>,
    pace: Option<Duration>,
) -> anyhow::Result<Run> {
    let dir = tempfile::tempdir()?;
    let mut config = ServerConfig::new(dir.path().join("bench.db"), "127.0.0.1:0");
    config.rate_limit = None;
    config.bootstrap_token = Some(("bench".into(), Access::Admin));
    let event = match shape {
        Shape::Note => "note",
        Shape::Page => "paged",
    };
    config.policy = policy(
        &channel_toml.replace(
            "SECRET_FILE",
            &dir.path().join("secret").display().to_string(),
        ),
        event,
        dir.path(),
    )?;
    let srv = server::start(config).await?;
    let url = srv.url();
    let token = srv.local_token().unwrap_or_default().to_string();
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for i in 0..incidents {
        let id = Uuid::new_v4();
        let r = http
            .post(format!("{url}/api/v1/commands"))
            .bearer_auth(&token)
            .json(&json!({"id": id, "action": {"type": "declare", "title": format!("bench {i}"), "severity": "P3"}}))
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "declare: {}", r.status());
        ids.push(id);
    }
    let answered: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let start = Instant::now();
    let writers = if pace.is_some() { 1 } else { 16 };
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (http, url, token, ids, answered) = (
            http.clone(),
            url.clone(),
            token.clone(),
            ids.clone(),
            answered.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while i < notes {
                if let Some(p) = pace {
                    tokio::time::sleep(p).await;
                }
                let tag = format!("bench-note-{i}");
                let inc = ids[i % ids.len()];
                let action = match shape {
                    Shape::Note => json!({"type": "note", "text": tag}),
                    Shape::Page => json!({"type": "page", "who": "@oncall", "reason": tag}),
                };
                let body =
                    json!({"id": Uuid::new_v4(), "incident": inc.to_string(), "action": action});
                if let Ok(r) = http
                    .post(format!("{url}/api/v1/commands"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    && r.status().is_success()
                {
                    let now = Instant::now();
                    answered.lock().map(|mut m| m.insert(tag, now)).ok();
                }
                i += writers;
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let got = match &smtp_log {
            Some(log) => {
                let l = log.lock().map(|l| l.clone()).unwrap_or_default();
                let mut a = arrivals.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                for (tag, at) in l {
                    a.entry(tag).or_insert(at);
                }
                a.len()
            }
            None => arrivals.lock().map(|a| a.len()).unwrap_or(0),
        };
        if got >= notes || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let arrivals = arrivals.lock().map(|a| a.clone()).unwrap_or_default();
    let answered = answered.lock().map(|a| a.clone()).unwrap_or_default();
    anyhow::ensure!(
        arrivals.len() >= notes,
        "{label}: only {} of {notes} arrived",
        arrivals.len()
    );
    let last = arrivals.values().max().copied().unwrap_or(start);
    let mut lat: Vec<Duration> = answered
        .iter()
        .filter_map(|(tag, at)| arrivals.get(tag).map(|a| a.saturating_duration_since(*at)))
        .collect();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    srv.shutdown().await?;
    Ok(Run {
        label: label.into(),
        notes,
        incidents,
        pace,
        throughput: notes as f64 / (last - start).as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
    })
}

/// aiosmtpd on loopback, its printed messages parsed for the bench tag.
async fn smtp() -> Option<(
    u16,
    Arc<Mutex<Vec<(String, Instant)>>>,
    tokio::process::Child,
)> {
    use tokio::io::AsyncBufReadExt;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let mut child = tokio::process::Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .env("PYTHONUNBUFFERED", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let out = child.stdout.take()?;
    let log: SmtpLog = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(out).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(i) = line.find("bench-note-") {
                let tag: String = line[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                sink.lock().map(|mut l| l.push((tag, Instant::now()))).ok();
            }
        }
    });
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some((port, log, child));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let notes: usize = std::env::var("WARROOM_BENCH_NOTES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
        let mut runs = Vec::new();
        let steady: usize = std::env::var("WARROOM_BENCH_STEADY").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
        // Bursts (one busy incident, then 64), then a steady 20 notes/s over
        // 16 incidents: the latency a budget is set on, nothing queued.
        let only = std::env::var("WARROOM_BENCH_ONLY").unwrap_or_default();
        anyhow::ensure!(
            matches!(only.as_str(), "" | "burst" | "steady"),
            "WARROOM_BENCH_ONLY={only:?}: expected burst or steady"
        );
        for (incidents, pace) in [(1usize, None), (64, None), (16, Some(Duration::from_millis(50)))] {
            if (only == "burst" && pace.is_some()) || (only == "steady" && pace.is_none()) {
                continue;
            }
            let n = match (incidents, pace) {
                (_, Some(_)) => steady,
                (1, None) => notes / 4,
                _ => notes,
            };
            let (slack_url, a) = receiver(200).await?;
            std::fs::write(std::env::temp_dir().join("warroom-bench-slack"), &slack_url)?;
            let slack = format!("[notify.channels.out]\ntype = \"slack\"\nwebhook_url = {{ file = \"{}\" }}\n", std::env::temp_dir().join("warroom-bench-slack").display());
            runs.push(run("slack", slack, Shape::Note, a, n, incidents, None, pace).await?);
            let (pd_url, a) = receiver(202).await?;
            let pd = format!("[notify.channels.out]\ntype = \"pagerduty\"\nurl = \"{pd_url}\"\nrouting_key = {{ file = \"SECRET_FILE\" }}\n");
            runs.push(run("pagerduty", pd, Shape::Page, a, n, incidents, None, pace).await?);
            let (hook_url, a) = receiver(204).await?;
            let hook = format!("[notify.channels.out]\ntype = \"webhook\"\nurl = \"{hook_url}\"\nsecret = {{ file = \"SECRET_FILE\" }}\n");
            runs.push(run("webhook", hook, Shape::Note, a, n, incidents, None, pace).await?);
            match smtp().await {
                Some((port, log, _child)) => {
                    let email = format!("[notify.channels.out]\ntype = \"email\"\nsmtp = \"127.0.0.1:{port}\"\ntls = \"none\"\nfrom = \"a@example.com\"\nto = [\"b@example.com\"]\n");
                    runs.push(run("email (aiosmtpd)", email, Shape::Note, Arc::new(Mutex::new(HashMap::new())), n, incidents, Some(log), pace).await?);
                }
                None => eprintln!("email skipped: aiosmtpd is not installed (pip install aiosmtpd)"),
            }
        }
        println!("{:<18} {:>6} {:>9} {:>10} {:>12} {:>10} {:>10}", "channel", "notes", "incidents", "rate", "delivered/s", "p50", "p99");
        for r in runs {
            println!(
                "{:<18} {:>6} {:>9} {:>10} {:>12.0} {:>8.1}ms {:>8.1}ms",
                r.label,
                r.notes,
                r.incidents,
                r.pace.map_or("burst".to_string(), |p| format!("{:.0}/s", 1.0 / p.as_secs_f64())),
                r.throughput,
                r.p50.as_secs_f64() * 1e3,
                r.p99.as_secs_f64() * 1e3
            );
        }
        Ok(())
    })
}
