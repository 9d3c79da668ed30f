//! Load bench for `warroom serve` (`cargo bench --bench load`): the real server
//! (library API) on a temporary SQLite file (WAL, `synchronous=FULL`) on loopback.
//!
//! 1. Durable commands/s and commit latency (POST sent → 2xx received; a 2xx
//!    means on disk) with 1, 8 and 64 concurrent writers posting notes in a loop.
//! 2. Fan-out latency to 100 and 1,000 SSE subscribers while one client posts
//!    notes at a steady pace (20/s, and 100/s as a stress row): from the
//!    event's `recorded_at` (stamped inside the write transaction, *before* its
//!    fsync, so this over- rather than under-states) to its receipt by each
//!    subscriber. Subscribers are minimal HTTP/1.1 clients on raw sockets.
//!
//! The server runs on its own tokio runtime, the load generator on another,
//! in one process: on a small machine both share the cores, so the numbers
//! understate what the server does on a machine of its own.
//!
//! Budgets (DESIGN.md): ≥ 5,000 durable commands/s at 64 writers; p99 < 25 ms
//! to 1,000 subscribers. Knobs: `WARROOM_BENCH_SECS` (writer phase length,
//! default 3), `WARROOM_BENCH_ONLY=writers|fanout`,
//! `WARROOM_BENCH_FANOUT=subscribers:events:rate,…`.

use chrono::{DateTime, Utc};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;
use warroom::domain::command::Access;
use warroom::server::{self, RunningServer, ServerConfig};

/// The client side of a run: where the server is and how to talk to it.
#[derive(Clone)]
struct Bench {
    url: String,
    token: String,
    http: reqwest::Client,
}

/// The server side: its own runtime and threads, as if it were another process,
/// so profiles and CPU use separate cleanly from the load generator.
struct Served {
    server: RunningServer,
    _dir: tempfile::TempDir,
}

async fn start() -> anyhow::Result<(Served, String, String)> {
    let dir = tempfile::tempdir()?;
    let mut config = ServerConfig::new(dir.path().join("bench.db"), "127.0.0.1:0");
    // One token drives all writers here; a per-token limit would measure the limiter.
    config.rate_limit = None;
    config.bootstrap_token = Some(("bench".into(), Access::Admin));
    config.broadcast_capacity = 16_384;
    let server = server::start(config).await?;
    let token = server
        .local_token()
        .ok_or_else(|| anyhow::anyhow!("no bootstrap token"))?
        .to_string();
    let url = server.url();
    Ok((Served { server, _dir: dir }, url, token))
}

impl Bench {
    fn new(url: String, token: String) -> anyhow::Result<Bench> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(2048)
            .tcp_nodelay(true)
            .build()?;
        Ok(Bench { url, token, http })
    }
}

impl Bench {
    async fn post(&self, body: &serde_json::Value) -> anyhow::Result<reqwest::StatusCode> {
        let resp = self
            .http
            .post(format!("{}/api/v1/commands", self.url))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await?;
        let status = resp.status();
        resp.bytes().await?;
        Ok(status)
    }

    async fn declare(&self) -> anyhow::Result<()> {
        let body = json!({ "id": Uuid::new_v4(), "action": { "type": "declare", "title": "Load test", "severity": "P2" } });
        let status = self.post(&body).await?;
        anyhow::ensure!(status.is_success(), "declare failed: {status}");
        Ok(())
    }
}

fn note(text: String) -> serde_json::Value {
    json!({ "id": Uuid::new_v4(), "incident": "INC-1", "action": { "type": "note", "text": text } })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

struct WriterRow {
    writers: usize,
    commands: usize,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn writers(bench: Bench, n: usize, secs: f64) -> anyhow::Result<WriterRow> {
    let bench = Arc::new(bench);
    bench.declare().await?;
    // Warm up connections.
    for _ in 0..n.min(8) {
        bench.post(&note("warm-up".into())).await?;
    }
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..n {
        let bench = bench.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = 0u64;
            while Instant::now() < until {
                let body = note(format!("writer {w} note {i}"));
                i += 1;
                let t = Instant::now();
                let status = bench.post(&body).await?;
                anyhow::ensure!(
                    status == reqwest::StatusCode::CREATED,
                    "note failed: {status}"
                );
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let row = WriterRow {
        writers: n,
        commands: all.len(),
        per_sec: all.len() as f64 / elapsed,
        p50_ms: percentile(&all, 0.50),
        p99_ms: percentile(&all, 0.99),
    };
    Ok(row)
}

struct FanoutRow {
    subscribers: usize,
    per_sec: u64,
    commit_p50_ms: f64,
    events: usize,
    received: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `"recorded_at":"…"` from an event frame, without parsing the whole JSON.
fn recorded_at(frame: &[u8]) -> Option<DateTime<Utc>> {
    const KEY: &[u8] = b"\"recorded_at\":\"";
    let start = find(frame, KEY)? + KEY.len();
    let end = start + frame[start..].iter().position(|&b| b == b'"')?;
    let text = std::str::from_utf8(&frame[start..end]).ok()?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// One SSE subscriber as a minimal HTTP/1.1 client on a raw socket: the
/// request by hand, then the (chunked) body scanned for frames. Real clients
/// run elsewhere; here they share the server's two cores, so the lighter
/// they are, the less they distort what is measured (the server's fan-out).
/// Returns the commit → receipt latency of each event, in ms.
async fn subscriber(
    addr: String,
    token: String,
    events: usize,
    ready: tokio::sync::mpsc::Sender<()>,
) -> anyhow::Result<Vec<f64>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(&addr).await?;
    sock.set_nodelay(true)?;
    let request = format!(
        "GET /api/v1/stream HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nLast-Event-ID: 2\r\nAccept: text/event-stream\r\n\r\n"
    );
    sock.write_all(request.as_bytes()).await?;
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut lat = Vec::with_capacity(events);
    let mut in_body = false;
    let mut announced = false;
    while lat.len() < events {
        let n = sock.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "stream ended after {} events", lat.len());
        let now = Utc::now();
        buf.extend_from_slice(&chunk[..n]);
        let mut start = 0;
        if !in_body {
            let Some(end) = find(&buf, b"\r\n\r\n") else {
                continue;
            };
            anyhow::ensure!(
                buf.starts_with(b"HTTP/1.1 200"),
                "stream refused: {}",
                String::from_utf8_lossy(&buf[..end])
            );
            in_body = true;
            start = end + 4;
        }
        // Each SSE frame ends with a blank line; chunk-size lines sit between frames.
        while let Some(len) = find(&buf[start..], b"\n\n") {
            let frame = &buf[start..start + len];
            start += len + 2;
            if let Some(at) = recorded_at(frame) {
                lat.push((now - at).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0);
            } else if find(frame, b"event: heartbeat").is_some() {
                if !announced {
                    announced = true;
                    let _ = ready.send(()).await;
                }
            } else if find(frame, b"event: resync").is_some() {
                anyhow::bail!("told to resync: {}", String::from_utf8_lossy(frame));
            }
        }
        buf.drain(..start);
    }
    Ok(lat)
}

async fn fanout(
    bench: Bench,
    subscribers: usize,
    events: usize,
    per_sec: u64,
) -> anyhow::Result<FanoutRow> {
    bench.declare().await?; // seqs 1, 2
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(subscribers);
    let addr = bench.url.trim_start_matches("http://").to_string();
    let mut subs = Vec::new();
    for _ in 0..subscribers {
        let (token, ready) = (bench.token.clone(), ready_tx.clone());
        subs.push(tokio::spawn(subscriber(addr.clone(), token, events, ready)));
    }
    drop(ready_tx);
    for _ in 0..subscribers {
        ready_rx
            .recv()
            .await
            .ok_or_else(|| anyhow::anyhow!("a subscriber failed to connect"))?;
    }
    // A steady pace, like a bridge call, not a flood: latency, not throughput.
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / per_sec));
    let mut commit = Vec::with_capacity(events);
    for i in 0..events {
        tick.tick().await;
        let t = Instant::now();
        let status = bench.post(&note(format!("fan-out {i}"))).await?;
        commit.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(status.is_success(), "note failed: {status}");
    }
    commit.sort_by(f64::total_cmp);
    let mut all = Vec::new();
    for s in subs {
        all.extend(tokio::time::timeout(Duration::from_secs(60), s).await???);
    }
    all.sort_by(f64::total_cmp);
    let row = FanoutRow {
        subscribers,
        per_sec,
        commit_p50_ms: percentile(&commit, 0.5),
        events,
        received: all.len(),
        p50_ms: percentile(&all, 0.50),
        p99_ms: percentile(&all, 0.99),
        max_ms: all.last().copied().unwrap_or(f64::NAN),
    };
    Ok(row)
}

fn main() -> anyhow::Result<()> {
    let secs: f64 = std::env::var("WARROOM_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    // Two runtimes, as two processes would be: the server's and the load generator's.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("warroom-server")
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("load-client")
        .enable_all()
        .build()?;
    let run = |what: &str| -> anyhow::Result<(Served, Bench)> {
        eprintln!("load: {what}…");
        let (served, url, token) = server_rt.block_on(start())?;
        let bench = client_rt.block_on(async { Bench::new(url, token) })?;
        Ok((served, bench))
    };
    // `WARROOM_BENCH_ONLY=writers|fanout` runs one half (for profiling).
    let only = std::env::var("WARROOM_BENCH_ONLY").unwrap_or_default();
    let mut rows = Vec::new();
    for n in [1, 8, 64].into_iter().filter(|_| only != "fanout") {
        let (served, bench) = run(&format!("{n} writer(s) for {secs} s"))?;
        rows.push(client_rt.block_on(writers(bench, n, secs))?);
        server_rt.block_on(served.server.shutdown())?;
    }
    let mut fan = Vec::new();
    // `WARROOM_BENCH_FANOUT=subscribers:events:rate,…` overrides the runs.
    let fan_runs: Vec<(usize, usize, u64)> = match std::env::var("WARROOM_BENCH_FANOUT") {
        Ok(spec) => spec
            .split(',')
            .filter_map(|run| {
                let mut it = run.split(':').map(str::trim);
                Some((
                    it.next()?.parse().ok()?,
                    it.next()?.parse().ok()?,
                    it.next()?.parse().ok()?,
                ))
            })
            .collect(),
        Err(_) => vec![(100, 150, 20), (1000, 150, 20), (1000, 300, 100)],
    };
    for (n, events, rate) in fan_runs.into_iter().filter(|_| only != "writers") {
        let (served, bench) = run(&format!("fan-out to {n} subscribers at {rate} commands/s"))?;
        fan.push(client_rt.block_on(fanout(bench, n, events, rate))?);
        server_rt.block_on(served.server.shutdown())?;
    }
    {
        println!("\n### Durable commands (SQLite WAL, synchronous=FULL, group commit)\n");
        println!(
            "| writers | commands | durable commands/s | p50 commit ms | p99 commit ms | budget |"
        );
        println!("|---:|---:|---:|---:|---:|---|");
        for r in &rows {
            let budget = if r.writers == 64 {
                if r.per_sec >= 5000.0 {
                    "≥ 5,000/s: met"
                } else {
                    "≥ 5,000/s: MISSED"
                }
            } else {
                ""
            };
            println!(
                "| {} | {} | {:.0} | {:.2} | {:.2} | {budget} |",
                r.writers, r.commands, r.per_sec, r.p50_ms, r.p99_ms
            );
        }
        println!("\n### Commit → receipt over SSE (loopback)\n");
        println!(
            "| subscribers | commands/s | events | deliveries | POST p50 ms | p50 ms | p99 ms | max ms | budget |"
        );
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        for r in &fan {
            let budget = if r.subscribers == 1000 && r.per_sec <= 20 {
                if r.p99_ms < 25.0 {
                    "p99 < 25 ms: met"
                } else {
                    "p99 < 25 ms: MISSED"
                }
            } else {
                ""
            };
            println!(
                "| {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {budget} |",
                r.subscribers,
                r.per_sec,
                r.events,
                r.received,
                r.commit_p50_ms,
                r.p50_ms,
                r.p99_ms,
                r.max_ms
            );
        }
    }
    Ok(())
}
