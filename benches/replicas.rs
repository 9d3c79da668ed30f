//! Replicas bench (`cargo bench --bench replicas`): durable commands/s at 64
//! writers on SQLite, on one PostgreSQL replica and on three replicas of one
//! PostgreSQL database, measured in one run; then the p99 from commit on one
//! replica to receipt by 1,000 SSE subscribers spread over three.
//!
//! Real servers (library API) on loopback, real HTTP; PostgreSQL is
//! `WARROOM_TEST_PG` or a throwaway cluster (see `tests/it/support/pg.rs`), with
//! its default durability (`synchronous_commit = on`, fsync on). A 2xx means
//! committed in every row. The servers run on one runtime, the load on
//! another, in one process, on the same cores as PostgreSQL: on a small
//! machine the figures understate a deployment where each has its own.
//!
//! Budgets (DESIGN.md): ≥ 5,000 commands/s with three replicas at 64
//! writers; commit on A → SSE receipt on B p99 < 50 ms. Knobs:
//! `WARROOM_BENCH_SECS` (writer phase, default 3), `WARROOM_BENCH_EVENTS`
//! (fan-out events, default 100).

#[path = "../tests/it/support/pg.rs"]
mod pg_support;

use chrono::{DateTime, Utc};
use serde_json::json;
use std::time::{Duration, Instant};
use uuid::Uuid;
use warroom::domain::command::Access;
use warroom::server::{self, RunningServer, ServerConfig};
use warroom::store::{Location, PgStore, TokenStore, hash_token};

const TOKEN: &str = "wr_bench";

fn config(db: Location) -> ServerConfig {
    let mut config = ServerConfig::new(db, "127.0.0.1:0");
    config.rate_limit = None;
    config.broadcast_capacity = 16_384;
    config.max_streams_per_token = 4096;
    config
}

/// `n` replicas on a fresh PostgreSQL database with the bench token.
async fn pg_replicas(n: usize) -> anyhow::Result<Option<Vec<RunningServer>>> {
    let Some(url) = pg_support::fresh_db("bench replicas") else {
        return Ok(None);
    };
    let u = url.clone();
    tokio::task::spawn_blocking(move || {
        PgStore::open(&u)?.create_token("bench", Access::Admin, &hash_token(TOKEN))
    })
    .await??;
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(server::start(config(Location::Postgres(url.clone()))).await?);
    }
    Ok(Some(out))
}

async fn sqlite_server(dir: &std::path::Path) -> anyhow::Result<RunningServer> {
    let path = dir.join("bench.db");
    let p = path.clone();
    tokio::task::spawn_blocking(move || {
        let s = warroom::store::SqliteStore::open(&p)?;
        s.create_token("bench", Access::Admin, &hash_token(TOKEN))
    })
    .await??;
    server::start(config(Location::Sqlite(path))).await
}

fn http() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(2048)
        .tcp_nodelay(true)
        .build()?)
}

async fn post(http: &reqwest::Client, url: &str, body: &serde_json::Value) -> anyhow::Result<()> {
    let resp = http
        .post(format!("{url}/api/v1/commands"))
        .bearer_auth(TOKEN)
        .json(body)
        .send()
        .await?;
    let status = resp.status();
    let text = resp.text().await?;
    anyhow::ensure!(status.is_success(), "{status}: {text}");
    Ok(())
}

async fn declare(http: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let resp: serde_json::Value = http
        .post(format!("{url}/api/v1/commands"))
        .bearer_auth(TOKEN)
        .json(&json!({ "id": Uuid::new_v4(), "action": { "type": "declare", "title": "bench", "severity": "P2" } }))
        .send()
        .await?
        .json()
        .await?;
    resp["events"][0]["incident"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("declare failed: {resp}"))
}

fn note(incident: &str, text: String) -> serde_json::Value {
    json!({ "id": Uuid::new_v4(), "incident": incident, "action": { "type": "note", "text": text } })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// 64 writers spread round-robin over `urls`, posting notes for `secs`.
/// Returns (commands/s, p50 ms, p99 ms).
async fn writers(urls: &[String], n: usize, secs: f64) -> anyhow::Result<(f64, f64, f64)> {
    let http = http()?;
    let incident = declare(&http, &urls[0]).await?;
    // Every replica has followed the declaration before the load starts.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..n {
        let (http, url, incident) = (http.clone(), urls[w % urls.len()].clone(), incident.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = 0u64;
            while Instant::now() < until {
                let t = Instant::now();
                post(&http, &url, &note(&incident, format!("w{w} n{i}"))).await?;
                i += 1;
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let per_sec = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    Ok((per_sec, percentile(&all, 0.5), percentile(&all, 0.99)))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn recorded_at(frame: &[u8]) -> Option<DateTime<Utc>> {
    const KEY: &[u8] = b"\"recorded_at\":\"";
    let start = find(frame, KEY)? + KEY.len();
    let end = start + frame[start..].iter().position(|&b| b == b'"')?;
    let text = std::str::from_utf8(&frame[start..end]).ok()?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// One SSE subscriber on a raw socket (light, so 1,000 of them distort
/// little); resumes after `after`. Returns commit → receipt in ms per event.
async fn subscriber(
    addr: String,
    after: u64,
    events: usize,
    ready: tokio::sync::mpsc::Sender<()>,
) -> anyhow::Result<Vec<f64>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(&addr).await?;
    sock.set_nodelay(true)?;
    let request = format!(
        "GET /api/v1/stream HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nLast-Event-ID: {after}\r\nAccept: text/event-stream\r\n\r\n"
    );
    sock.write_all(request.as_bytes()).await?;
    let (mut buf, mut chunk) = (Vec::with_capacity(16 * 1024), vec![0u8; 64 * 1024]);
    let mut lat = Vec::with_capacity(events);
    let (mut in_body, mut announced) = (false, false);
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
        while let Some(len) = find(&buf[start..], b"\n\n") {
            let frame = &buf[start..start + len];
            start += len + 2;
            if let Some(at) = recorded_at(frame) {
                lat.push((now - at).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0);
            } else if find(frame, b"event: heartbeat").is_some() && !announced {
                announced = true;
                let _ = ready.send(()).await;
            } else if find(frame, b"event: resync").is_some() {
                anyhow::bail!("told to resync: {}", String::from_utf8_lossy(frame));
            }
        }
        buf.drain(..start);
    }
    Ok(lat)
}

/// 1,000 subscribers over the replicas; one writer on the first replica at
/// 20 notes/s. Returns (received, p50, p99, max) of receipts on the OTHER
/// replicas (commit on A → receipt on B).
async fn fanout(
    servers: &[RunningServer],
    subscribers: usize,
    events: usize,
) -> anyhow::Result<(usize, f64, f64, f64)> {
    let http = http()?;
    let incident = declare(&http, &servers[0].url()).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = 2; // the declaration's two events
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(subscribers);
    let mut subs = Vec::new();
    for i in 0..subscribers {
        let replica = 1 + i % (servers.len() - 1).max(1);
        let addr = servers[replica.min(servers.len() - 1)].addr().to_string();
        subs.push(tokio::spawn(subscriber(
            addr,
            after,
            events,
            ready_tx.clone(),
        )));
    }
    for _ in 0..subscribers {
        ready_rx.recv().await;
    }
    let writer_url = servers[0].url();
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    for i in 0..events {
        tick.tick().await;
        post(&http, &writer_url, &note(&incident, format!("fan-out {i}"))).await?;
    }
    let mut all = Vec::new();
    for s in subs {
        all.extend(s.await??);
    }
    all.sort_by(f64::total_cmp);
    Ok((
        all.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.last().copied().unwrap_or(f64::NAN),
    ))
}

fn main() -> anyhow::Result<()> {
    let secs: f64 = std::env::var("WARROOM_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let events: usize = std::env::var("WARROOM_BENCH_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let servers_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let load_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let writers_n = 64;
    println!("durable commands/s at {writers_n} writers, {secs} s each (2xx = committed):");
    println!("| store | commands/s | p50 ms | p99 ms |");
    println!("|---|---|---|---|");

    let dir = tempfile::tempdir()?;
    let sqlite = servers_rt.block_on(sqlite_server(dir.path()))?;
    let (rate, p50, p99) = load_rt.block_on(writers(&[sqlite.url()], writers_n, secs))?;
    println!("| SQLite, one server | {rate:.0} | {p50:.2} | {p99:.2} |");
    servers_rt.block_on(sqlite.shutdown())?;

    for n in [1usize, 3] {
        let Some(replicas) = servers_rt.block_on(pg_replicas(n))? else {
            println!("| PostgreSQL | skipped: no PostgreSQL | | |");
            return Ok(());
        };
        let urls: Vec<String> = replicas.iter().map(|r| r.url()).collect();
        let (rate, p50, p99) = load_rt.block_on(writers(&urls, writers_n, secs))?;
        let label = if n == 1 {
            "PostgreSQL, one replica".to_string()
        } else {
            format!("PostgreSQL, {n} replicas")
        };
        println!("| {label} | {rate:.0} | {p50:.2} | {p99:.2} |");
        for r in replicas {
            servers_rt.block_on(r.shutdown())?;
        }
    }

    let subscribers = 1000;
    let Some(replicas) = servers_rt.block_on(pg_replicas(3))? else {
        return Ok(());
    };
    let (received, p50, p99, max) = load_rt.block_on(fanout(&replicas, subscribers, events))?;
    println!();
    println!(
        "commit on replica A → SSE receipt on replicas B and C, {subscribers} subscribers, {events} events at 20/s:"
    );
    println!(
        "received {received} of {}; p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms",
        subscribers * events
    );
    for r in replicas {
        servers_rt.block_on(r.shutdown())?;
    }
    Ok(())
}
