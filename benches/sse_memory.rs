//! Does the server's memory level off after rounds of live streams?
//! (`cargo bench --bench sse_memory`, issue 15 item 9.)
//!
//! The attack saw the resident set grow from 66 to 94 MB over six rounds of
//! 2,000 SSE streams opened and closed. This runs the release `warroom serve`
//! binary as its own process (so its RSS is its own), and for each of
//! `WARROOM_BENCH_ROUNDS` rounds (default 10) opens `WARROOM_BENCH_STREAMS`
//! streams (default 2,000) on raw sockets, waits for each one's first
//! heartbeat, closes them all, waits a second, and reads `VmRSS` from
//! `/proc/PID/status`. A store with some history is used so that streams
//! replay events, as real ones do.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

fn rss_kb(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS for {pid}"))
}

async fn open_stream(addr: &str, token: &str) -> anyhow::Result<tokio::net::TcpStream> {
    let mut tcp = tokio::net::TcpStream::connect(addr).await?;
    let req = format!(
        "GET /api/v1/stream?after=0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(9).any(|w| w == b"heartbeat") {
        let n = tcp.read(&mut buf).await?;
        anyhow::ensure!(n > 0, "stream closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    Ok(tcp)
}

fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::var("WARROOM_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let streams: usize = std::env::var("WARROOM_BENCH_STREAMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("mem.db");
    let out = Command::new(BIN)
        .args([
            "token", "create", "--name", "mem", "--role", "admin", "--db",
        ])
        .arg(&db)
        .output()?;
    anyhow::ensure!(out.status.success(), "token create failed");
    let token = String::from_utf8(out.stdout)?.trim().to_string();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--rate-limit", "0"])
        .args(["--max-streams-per-token", &(streams + 10).to_string()])
        .args(["--max-streams", &(streams + 10).to_string()])
        .arg("--db")
        .arg(&db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let mut lines = BufReader::new(
        child
            .stderr
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stderr"))?,
    )
    .lines();
    let url = loop {
        let line = lines
            .next()
            .ok_or_else(|| anyhow::anyhow!("serve exited"))??;
        if let Some(u) = line.strip_prefix("warroom: listening on ") {
            break u.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    let addr = url.trim_start_matches("http://").to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Some history for the streams to replay.
    rt.block_on(async {
        let http = reqwest::Client::new();
        let declare = serde_json::json!({ "id": uuid::Uuid::new_v4(), "action": { "type": "declare", "title": "Memory", "severity": "P3" } });
        http.post(format!("{url}/api/v1/commands")).bearer_auth(&token).json(&declare).send().await?;
        for i in 0..200 {
            let note = serde_json::json!({ "id": uuid::Uuid::new_v4(), "incident": "INC-1", "action": { "type": "note", "text": format!("history {i}") } });
            http.post(format!("{url}/api/v1/commands")).bearer_auth(&token).json(&note).send().await?;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    let base = rss_kb(pid)?;
    println!("\n### Server RSS after rounds of {streams} SSE streams opened and closed\n");
    println!("| round | RSS with streams open | RSS after they close | open time |");
    println!("|---:|---:|---:|---:|");
    println!("| 0 | | {:.1} MB | |", base as f64 / 1024.0);
    for round in 1..=rounds {
        let started = Instant::now();
        let open: Vec<tokio::net::TcpStream> = rt.block_on(async {
            let mut tasks = Vec::with_capacity(streams);
            for _ in 0..streams {
                let (addr, token) = (addr.clone(), token.clone());
                tasks.push(tokio::spawn(
                    async move { open_stream(&addr, &token).await },
                ));
            }
            let mut open = Vec::with_capacity(streams);
            for t in tasks {
                open.push(t.await??);
            }
            Ok::<_, anyhow::Error>(open)
        })?;
        let took = started.elapsed();
        let during = rss_kb(pid)?;
        drop(open);
        std::thread::sleep(Duration::from_secs(2));
        let after = rss_kb(pid)?;
        println!(
            "| {round} | {:.1} MB | {:.1} MB | {:.2} s |",
            during as f64 / 1024.0,
            after as f64 / 1024.0,
            took.as_secs_f64()
        );
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok(())
}
