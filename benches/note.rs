//! One scribe's durable note (`cargo bench --bench note`), beside the raw
//! fsync time of the same disk (issue 15, item 8).
//!
//! A single keep-alive client on loopback posts notes to the real server (its
//! own runtime, as if another process) on a SQLite file in the same
//! directory whose fsync is timed first: `write` + `fdatasync` of a small
//! record, the floor any durable answer pays. Runs:
//!
//! - back to back: the next note as soon as the last is answered;
//! - paced: one note every 20 ms (a fast typist), so every note finds the
//!   server idle — threads parked, caches cold — as a real scribe's does;
//! - both again on a log with history (`WARROOM_BENCH_HISTORY` events,
//!   default 100,000, over 1,000 open incidents), on a server restarted
//!   from its checkpoint, which also times that restart: open + checkpoint
//!   load until the server answers.
//!
//! Budget: p50 ≤ 1 ms for a single client. `WARROOM_BENCH_NOTES` sets the
//! notes per run (default 2,000).

use chrono::Utc;
use serde_json::json;
use std::io::Write;
use std::time::{Duration, Instant};
use uuid::Uuid;
use warroom::domain::command::Access;
use warroom::domain::event::{Event, EventBody, NoteKind};
use warroom::server::{self, ServerConfig};
use warroom::store::{EventLog, SqliteStore};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// p50 / p99 of `write` + `fdatasync` of 256 bytes in `dir`, in ms.
fn fsync_times(dir: &std::path::Path, n: usize) -> anyhow::Result<(f64, f64)> {
    let path = dir.join("fsync.probe");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    let record = [b'x'; 256];
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f.write_all(&record)?;
        f.sync_data()?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    std::fs::remove_file(&path)?;
    lat.sort_by(f64::total_cmp);
    Ok((percentile(&lat, 0.5), percentile(&lat, 0.99)))
}

/// Writes `events` events over 1,000 incidents straight into the store.
fn seed(db: &std::path::Path, events: usize) -> anyhow::Result<()> {
    let store = SqliteStore::open(db)?;
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    let incidents: Vec<Uuid> = (0..1000).map(|_| Uuid::new_v4()).collect();
    let mut tickets = Vec::new();
    for (i, inc) in incidents.iter().enumerate() {
        let ev = Event {
            id: *inc,
            incident: *inc,
            actor: "seed".into(),
            occurred_at: Utc::now(),
            body: EventBody::Declared {
                title: format!("Seeded incident {i}"),
                severity: "P3".into(),
                kind: "availability".into(),
                impact: Default::default(),
            },
        };
        tickets.push(store.enqueue(*inc, vec![ev]));
    }
    for i in incidents.len()..events {
        let inc = incidents[i % incidents.len()];
        let id = Uuid::new_v4();
        let ev = Event {
            id,
            incident: inc,
            actor: "seed".into(),
            occurred_at: Utc::now(),
            body: EventBody::Note {
                kind: NoteKind::Note,
                text: format!("history note {i}"),
            },
        };
        tickets.push(store.enqueue(id, vec![ev]));
        if tickets.len() >= 20_000 {
            for t in tickets.drain(..) {
                rt.block_on(t)??;
            }
        }
    }
    for t in tickets {
        rt.block_on(t)??;
    }
    store.close();
    Ok(())
}

struct Row {
    what: String,
    p50: f64,
    p90: f64,
    p99: f64,
}

async fn notes(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    incident: &str,
    n: usize,
    pace: Option<Duration>,
) -> anyhow::Result<Vec<f64>> {
    let mut lat = Vec::with_capacity(n);
    for i in 0..n + 50 {
        if let Some(p) = pace {
            tokio::time::sleep(p).await;
        }
        let body = json!({ "id": Uuid::new_v4(), "incident": incident, "action": { "type": "note", "text": format!("note {i}") } });
        let t = Instant::now();
        let resp = http
            .post(format!("{url}/api/v1/commands"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        let status = resp.status();
        resp.bytes().await?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        anyhow::ensure!(status == reqwest::StatusCode::CREATED, "note: {status}");
        if i >= 50 {
            lat.push(ms); // the first 50 warm the connection and the caches
        }
    }
    lat.sort_by(f64::total_cmp);
    Ok(lat)
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("WARROOM_BENCH_NOTES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let history: usize = std::env::var("WARROOM_BENCH_HISTORY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let dir =
        tempfile::tempdir_in(std::env::var("WARROOM_BENCH_DIR").unwrap_or_else(|_| ".".into()))?;
    let (fs50, fs99) = fsync_times(dir.path(), 500)?;
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("warroom-server")
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("note-client")
        .enable_all()
        .build()?;
    let http = reqwest::Client::builder().tcp_nodelay(true).build()?;
    let mut rows = Vec::new();
    let mut restart = None;
    for (label, events) in [("empty log", 0usize), ("history", history)] {
        let db = dir.path().join(format!("note-{events}.db"));
        if events > 0 {
            eprintln!("note: seeding {events} events…");
            seed(&db, events)?;
        }
        let mut config = ServerConfig::new(&db, "127.0.0.1:0");
        config.rate_limit = None;
        config.bootstrap_token = Some(("bench".into(), Access::Admin));
        if events > 0 {
            // A server that has run before: it starts from a checkpoint, as
            // every restart does (written here by a clean shutdown).
            server_rt.block_on(async {
                let first = server::start(config.clone()).await?;
                first.shutdown().await
            })?;
        }
        let started = Instant::now();
        let server = server_rt.block_on(server::start(config))?;
        let url = server.url();
        let token = server.local_token().unwrap_or_default().to_string();
        client_rt.block_on(async {
            let resp = http.get(format!("{url}/healthz")).send().await?;
            anyhow::ensure!(resp.status().is_success());
            Ok(())
        })?;
        if events > 0 {
            restart = Some((events, started.elapsed().as_secs_f64() * 1000.0));
        }
        let declare = json!({ "id": Uuid::new_v4(), "action": { "type": "declare", "title": "Scribe bench", "severity": "P2" } });
        let incident = client_rt.block_on(async {
            let resp = http
                .post(format!("{url}/api/v1/commands"))
                .bearer_auth(&token)
                .json(&declare)
                .send()
                .await?;
            let v: serde_json::Value = resp.json().await?;
            Ok::<_, anyhow::Error>(
                v["events"][0]["incident"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })?;
        for (how, pace) in [
            ("back to back", None),
            ("paced 20 ms", Some(Duration::from_millis(20))),
        ] {
            let n = if pace.is_some() { n / 4 } else { n };
            eprintln!("note: {label}, {how}, {n} notes…");
            let lat = client_rt.block_on(notes(&http, &url, &token, &incident, n, pace))?;
            rows.push(Row {
                what: format!("{label}, {how}"),
                p50: percentile(&lat, 0.5),
                p90: percentile(&lat, 0.9),
                p99: percentile(&lat, 0.99),
            });
        }
        server_rt.block_on(server.shutdown())?;
    }
    println!("\n### One client's durable note (keep-alive, loopback)\n");
    println!("| run | p50 | p90 | p99 |");
    println!("|---|---:|---:|---:|");
    println!(
        "| raw `write`+`fdatasync` of 256 B, same disk | {fs50:.3} ms | | {fs99:.3} ms (p99) |"
    );
    for r in &rows {
        println!(
            "| {} | {:.3} ms | {:.3} ms | {:.3} ms |",
            r.what, r.p50, r.p90, r.p99
        );
    }
    if let Some((events, ms)) = restart {
        println!("\nrestart (open + load + first answer) with {events} events: {ms:.0} ms");
    }
    Ok(())
}
