//! Restart after a crash with a long history (`cargo bench --bench restart`,
//! issue 15 item 7): the release `warroom serve` binary on a log of
//! `WARROOM_BENCH_EVENTS` events (default 1,000,000 over 10,000 incidents),
//! killed with SIGKILL and started again, timed from the spawn to
//!
//! - the "listening" line (store opened, read model loaded, port bound),
//! - the first `GET /healthz` answered,
//! - the first durable note answered 201 (the decision model is ready and
//!   the writer commits).
//!
//! The log is built once and cached under `target/tmp/` (seeding a million
//! events takes a while); each run works on a copy. Before the timed
//! restarts, one start folds the whole log and writes the first checkpoint,
//! and between restarts `WARROOM_BENCH_AFTER` notes (default 5,000; a
//! checkpoint is written every 10,000) are posted, so every restart reads a
//! checkpoint *and* folds events after it — the usual state after a crash.
//!
//! Budget (issue 15): restart to serving under 300 ms with 1,000,000 events.

use chrono::Utc;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;
use warroom::domain::event::{Event, EventBody, NoteKind};
use warroom::store::{EventLog, SqliteStore};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `events` events over `events / 100` incidents, written straight into the store.
fn seed(db: &Path, events: usize) -> anyhow::Result<()> {
    let store = SqliteStore::open(db)?;
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    let incidents: Vec<Uuid> = (0..(events / 100).max(1)).map(|_| Uuid::new_v4()).collect();
    let at = Utc::now() - chrono::Duration::days(30);
    let mut tickets = Vec::new();
    let flush = |tickets: &mut Vec<warroom::store::Ticket>| -> anyhow::Result<()> {
        for t in tickets.drain(..) {
            rt.block_on(t)??;
        }
        Ok(())
    };
    for (i, inc) in incidents.iter().enumerate() {
        let ev = Event {
            id: *inc,
            incident: *inc,
            actor: "seed".into(),
            occurred_at: at,
            body: EventBody::Declared {
                title: format!("Seeded incident {i}"),
                severity: ["P1", "P2", "P3", "P4"][i % 4].into(),
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
            occurred_at: at,
            body: EventBody::Note {
                kind: NoteKind::Note,
                text: format!("history note {i}: checked the shard and the connection pool"),
            },
        };
        tickets.push(store.enqueue(id, vec![ev]));
        if tickets.len() >= 20_000 {
            flush(&mut tickets)?;
        }
        if i % 100_000 == 0 {
            eprintln!("restart: seeded {i} events…");
        }
    }
    flush(&mut tickets)?;
    store.close();
    Ok(())
}

/// The cached seeded log (built on first use).
fn cached_log(events: usize) -> anyhow::Result<PathBuf> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("restart-bench");
    std::fs::create_dir_all(&dir)?;
    let db = dir.join(format!("log-{events}.db"));
    if !db.exists() {
        let partial = dir.join(format!("log-{events}.partial.db"));
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", partial.display()));
        }
        eprintln!(
            "restart: seeding {events} events once (cached in {})…",
            dir.display()
        );
        seed(&partial, events)?;
        std::fs::rename(&partial, &db)?;
    }
    Ok(db)
}

struct Server {
    child: Child,
    url: String,
    listening: Duration,
}

fn spawn(db: &Path) -> anyhow::Result<Server> {
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "0",
            "--db",
        ])
        .arg(db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
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
            .ok_or_else(|| anyhow::anyhow!("serve exited before listening"))??;
        if let Some(u) = line.strip_prefix("warroom: listening on ") {
            break u.trim().to_string();
        }
    };
    let listening = started.elapsed();
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    Ok(Server {
        child,
        url,
        listening,
    })
}

/// The blocking calls the bench makes, on a small runtime of its own.
struct Client {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl Client {
    fn note(&self, url: &str, token: &str, text: &str) -> bool {
        let body = serde_json::json!({
            "id": Uuid::new_v4(), "incident": "INC-1",
            "action": { "type": "note", "text": text },
        });
        let req = self
            .http
            .post(format!("{url}/api/v1/commands"))
            .bearer_auth(token)
            .json(&body);
        self.rt
            .block_on(req.send())
            .is_ok_and(|r| r.status() == reqwest::StatusCode::CREATED)
    }

    fn healthy(&self, url: &str) -> bool {
        let req = self.http.get(format!("{url}/healthz"));
        self.rt
            .block_on(req.send())
            .is_ok_and(|r| r.status().is_success())
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn range(v: &[f64]) -> String {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    format!(
        "{:.0}–{:.0} ms (median {:.0})",
        s[0],
        s[s.len() - 1],
        s[s.len() / 2]
    )
}

fn main() -> anyhow::Result<()> {
    let events = env("WARROOM_BENCH_EVENTS", 1_000_000);
    let after = env("WARROOM_BENCH_AFTER", 5_000);
    let runs = env("WARROOM_BENCH_RUNS", 5).max(1);
    let cached = cached_log(events)?;
    let work = tempfile::tempdir_in(Path::new(env!("CARGO_TARGET_TMPDIR")))?;
    let db = work.path().join("warroom.db");
    std::fs::copy(&cached, &db)?;
    let out = Command::new(BIN)
        .args([
            "token", "create", "--name", "bench", "--role", "admin", "--db",
        ])
        .arg(&db)
        .output()?;
    anyhow::ensure!(out.status.success(), "token create failed");
    let token = String::from_utf8(out.stdout)?.trim().to_string();
    let http = Client {
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?,
    };

    // The first start after the seeding folds everything and checkpoints.
    let first = spawn(&db)?;
    println!(
        "first start, no checkpoint, {events} events: listening after {:.0} ms",
        ms(first.listening)
    );
    let mut server = first;
    let mut listening = Vec::new();
    let mut healthy = Vec::new();
    let mut serving = Vec::new();
    for run in 0..=runs {
        // History after the checkpoint, then a crash.
        for i in 0..after {
            anyhow::ensure!(
                http.note(
                    &server.url,
                    &token,
                    &format!("after the checkpoint {run}/{i}")
                ),
                "note {i} of run {run} failed"
            );
        }
        // Let the checkpointer (every 10,000 events, looked at each second)
        // catch up on the first round, as a running server would have.
        std::thread::sleep(Duration::from_millis(1500));
        server.child.kill()?;
        server.child.wait()?;
        let started = Instant::now();
        let next = spawn(&db)?;
        let url = next.url.clone();
        while !http.healthy(&url) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let healthz = started.elapsed();
        anyhow::ensure!(
            http.note(&url, &token, "first after the crash"),
            "first note failed"
        );
        let noted = started.elapsed();
        if run > 0 {
            // Run 0 only brings the checkpoint up to date.
            listening.push(ms(next.listening));
            healthy.push(ms(healthz));
            serving.push(ms(noted));
        }
        eprintln!(
            "restart {run}: listening {:.0} ms, healthz {:.0} ms, first note {:.0} ms",
            ms(next.listening),
            ms(healthz),
            ms(noted)
        );
        server = next;
    }
    let _ = server.child.kill();
    let _ = server.child.wait();
    println!(
        "\n### Restart after kill -9, {events} events in the log, {after} after the last checkpoint ({runs} runs)\n"
    );
    println!("| spawn → | range |");
    println!("|---|---:|");
    println!(
        "| listening (store open, models loaded) | {} |",
        range(&listening)
    );
    println!("| `GET /healthz` answered | {} |", range(&healthy));
    println!(
        "| first durable note answered 201 | {} (budget < 300 ms) |",
        range(&serving)
    );
    Ok(())
}
