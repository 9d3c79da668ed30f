//! The TUI as a user runs it: the real binary in a pseudo-terminal, measured
//! from outside. `cargo bench --bench terminal`.
//!
//! 1. Cold start to first frame with 10,000 incidents in the store (embedded
//!    server folding the log included): spawn → first byte drawn, and spawn →
//!    the board showing all 10,000.
//! 2. Memory: RSS of a TUI holding a 100,000-event timeline (against a separate
//!    `warroom serve`, so the number is the client's alone).
//! 3. Key press → frame flushed: Down keys on that board; time from writing
//!    the key to the next bytes on the terminal; p50 / p99 over 300 presses.
//! 4. Idle: CPU time (utime+stime from /proc) over 20 s with clocks ticking,
//!    and how many separate redraw bursts reached the terminal per second.
//!
//! Budgets (DESIGN.md): cold start < 300 ms; < 50 MB RSS; p99 < 16 ms;
//! idle < 1 % of a core and ≤ 1 draw/s.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/it/support/pty.rs"]
mod pty;

use chrono::{Duration as ChronoDuration, Utc};
use pty::{Tui, serve, token};
use std::path::Path;
use std::time::{Duration, Instant};
use uuid::Uuid;
use warroom::domain::{Action, Command, NoteKind, Policy, World, decide};
use warroom::store::{EventLog, SqliteStore};

/// Writes `incidents` declared incidents, and `notes` notes on the first one, straight into a store.
fn seed(db: &Path, incidents: usize, notes: usize) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = SqliteStore::open(db).unwrap();
    let policy = Policy::builtin_default();
    let mut world = World::default();
    // Recent and acknowledged, as a busy but healthy store is: nothing falls due
    // during the run, so the embedded scheduler has no backlog to write.
    let t0 = Utc::now() - ChronoDuration::minutes(2);
    let sevs = ["P1", "P2", "P3", "P4"];
    let mut tickets = Vec::new();
    let push = |world: &mut World, cmd: Command, at, tickets: &mut Vec<_>| {
        let events = decide(world, &policy, &cmd, "seed", at).unwrap();
        for e in &events {
            world.apply(e);
        }
        tickets.push(store.enqueue(cmd.id, events));
    };
    for i in 0..incidents {
        let cmd = Command {
            id: Uuid::new_v4(),
            incident: None,
            action: Action::Declare {
                title: format!("Synthetic incident {i} in region {}", i % 17),
                severity: sevs[i % 4].into(),
                kind: None,
                impact: None,
                commander: None,
            },
            occurred_at: None,
        };
        let at = t0 + ChronoDuration::milliseconds(i as i64);
        let inc = cmd.id.to_string();
        push(&mut world, cmd, at, &mut tickets);
        let ack = Command {
            id: Uuid::new_v4(),
            incident: Some(inc),
            action: Action::Acknowledge,
            occurred_at: None,
        };
        push(&mut world, ack, at, &mut tickets);
    }
    for n in 0..notes {
        let cmd = Command {
            id: Uuid::new_v4(),
            incident: Some("INC-1".into()),
            action: Action::Note {
                kind: NoteKind::Note,
                text: format!(
                    "Timeline entry {n}: checked shard {} and the connection pool",
                    n % 64
                ),
            },
            occurred_at: None,
        };
        push(
            &mut world,
            cmd,
            t0 + ChronoDuration::milliseconds(n as i64 * 50),
            &mut tickets,
        );
    }
    rt.block_on(async {
        for t in tickets {
            t.await.unwrap().unwrap();
        }
    });
    store.close();
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// utime + stime of a process, in clock ticks (100 per second on Linux).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let get = |i: usize| {
        f.get(i - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(14) + get(15)
}

fn written(t: &Tui) -> usize {
    *t.written.lock().unwrap()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn main() {
    // `cargo bench` passes `--bench`; a plain run works too.
    let tmp = tempfile::tempdir().unwrap();
    // WARROOM_BENCH_DIR keeps the seeded stores for a closer look afterwards.
    let dir_path = std::env::var_os("WARROOM_BENCH_DIR")
        .map_or_else(|| tmp.path().to_path_buf(), std::path::PathBuf::from);
    let dir = &dir_path;
    println!("| measure | result | budget |");
    println!("|---|---|---|");

    // 1. Cold start with 10,000 incidents (embedded server on the XDG data dir).
    let home = dir.join("cold");
    seed(&home.join("data/warroom/warroom.db"), 10_000, 0);
    let mut firsts = Vec::new();
    let mut fulls = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let mut t = Tui::start_args(&home, 50, 200, &[], &[]);
        while written(&t) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        firsts.push(start.elapsed().as_secs_f64() * 1000.0);
        while !t.contents().contains("10000 open incidents") {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{}",
                t.contents()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        fulls.push(start.elapsed().as_secs_f64() * 1000.0);
        t.keys("q");
        t.keys("y");
        t.wait_exit();
    }
    firsts.sort_by(f64::total_cmp);
    fulls.sort_by(f64::total_cmp);
    println!(
        "| cold start → first frame, 10,000 incidents (median of 5) | {:.0} ms | < 300 ms |",
        firsts[2]
    );
    println!(
        "| cold start → board shows all 10,000 (median of 5) | {:.0} ms | |",
        fulls[2]
    );

    // 2–4 against a separate server holding a 100,000-event timeline.
    let db = dir.join("big.db");
    seed(&db, 1_000, 100_000);
    let token = token(&db, "bench", "commander");
    let (mut server, url) = serve(&db, "127.0.0.1:0");
    let home = dir.join("big");
    std::fs::create_dir_all(&home).unwrap();
    let mut t = Tui::start_with(
        &home,
        50,
        200,
        &[("WARROOM_SERVER", &url), ("WARROOM_TOKEN", &token)],
    );
    t.wait_for("1000 open incidents");
    t.keys(":open INC-1\r");
    t.wait_for("100003 entries");
    std::thread::sleep(Duration::from_secs(2));
    let pid = t.pid().unwrap();
    println!(
        "| TUI RSS with a 100,000-event timeline open | {:.1} MB | < 50 MB |",
        rss_kib(pid) as f64 / 1024.0
    );

    // 3. Key → frame: scroll the timeline up and down.
    t.keys("\t");
    let mut lat = Vec::new();
    for i in 0..300 {
        let before = written(&t);
        let key = if i % 2 == 0 { "k" } else { "j" };
        let start = Instant::now();
        t.keys_now(key);
        while written(&t) == before {
            if start.elapsed() > Duration::from_secs(2) {
                break;
            }
            std::hint::spin_loop();
        }
        lat.push(start.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(20));
    }
    lat.sort_by(f64::total_cmp);
    println!(
        "| key press → frame flushed, p50 / p99 (300 keys) | {:.2} / {:.2} ms | p99 < 16 ms |",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );

    // 4. Idle.
    std::thread::sleep(Duration::from_secs(2));
    let secs = 20;
    let cpu0 = cpu_ticks(pid);
    let mut bursts = 0;
    let mut last = written(&t);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_millis(50));
        let now = written(&t);
        if now != last {
            bursts += 1;
            last = now;
        }
    }
    let cpu = (cpu_ticks(pid) - cpu0) as f64 / 100.0;
    println!(
        "| idle CPU, clocks ticking, {secs} s | {:.2} % of a core | < 1 % |",
        cpu / secs as f64 * 100.0
    );
    println!(
        "| idle redraws reaching the terminal | {:.2} /s | ≤ 1 /s |",
        bursts as f64 / secs as f64
    );
    t.keys("q");
    t.keys("q");
    t.keys("y");
    t.wait_exit();
    let _ = server.kill();
    let _ = server.wait();
}
