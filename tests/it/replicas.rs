//! Several `warroom serve` replicas on one PostgreSQL database (a real one:
//! see `tests/pg_support`), each a real server on 127.0.0.1:0 with real
//! HTTP and SSE: every subscriber of every replica sees every event once, in
//! seq order; decisions stay correct across replicas; one scheduler runs and
//! another takes over when it stops.
#![allow(clippy::unwrap_used)]

use crate::support::server::{Sse, cmd, cmd_with_id, http, policy};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;
use warroom::domain::command::Access;
use warroom::server::{self, RunningServer, ServerConfig};
use warroom::store::{Location, PgStore, TokenStore, hash_token};

/// A database with a commander token `alice` and a second commander `bob`.
fn database(test: &str) -> Option<String> {
    let url = crate::support::pg::fresh_db(test)?;
    let store = PgStore::open(&url).unwrap();
    store
        .create_token("alice", Access::Commander, &hash_token("wr_alice"))
        .unwrap();
    store
        .create_token("bob", Access::Commander, &hash_token("wr_bob"))
        .unwrap();
    Some(url)
}

async fn replica(url: &str, fast_rule: bool) -> RunningServer {
    let mut config = ServerConfig::new(Location::Postgres(url.to_string()), "127.0.0.1:0");
    config.policy = policy(fast_rule);
    config.heartbeat = Duration::from_millis(200);
    config.rate_limit = None;
    server::start(config).await.unwrap()
}

async fn post(url: &str, token: &str, body: &Value) -> (StatusCode, Value) {
    let resp = http()
        .post(format!("{url}/api/v1/commands"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn declare(url: &str, severity: &str) -> String {
    let (status, body) = post(
        url,
        "wr_alice",
        &cmd(
            None,
            json!({ "type": "declare", "title": "API down", "severity": severity }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["events"][0]["incident"].as_str().unwrap().to_string()
}

/// The events of the whole log, as one replica serves them.
async fn log(url: &str) -> Vec<Value> {
    crate::support::server::all_events(&http(), url, "wr_alice").await
}

/// Reads `n` events from a stream, returning their seqs.
async fn collect(mut sse: Sse, n: usize) -> Vec<u64> {
    let mut seqs = Vec::new();
    while seqs.len() < n {
        let f = sse
            .next_event(Duration::from_secs(20))
            .await
            .expect("the stream ended early");
        assert_eq!(f.event, "event", "{f:?}");
        seqs.push(f.id.unwrap());
    }
    seqs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_every_subscriber_sees_every_event_once_in_order() {
    let Some(db) = database("three_replicas_every_subscriber_sees_every_event_once_in_order")
    else {
        return;
    };
    let replicas = vec![
        replica(&db, false).await,
        replica(&db, false).await,
        replica(&db, false).await,
    ];
    let urls: Vec<String> = replicas.iter().map(|r| r.url()).collect();
    let incident = declare(&urls[0], "P2").await;
    // Every replica has the declaration before the notes: a note decided on a
    // replica that has not yet heard of its incident is rightly decided again.
    for url in &urls {
        ready(url).await;
    }
    // Two subscribers on each replica, from the start of the log.
    let mut subs = Vec::new();
    for url in &urls {
        for _ in 0..2 {
            subs.push(Sse::open(&http(), url, "wr_alice", Some(0), None).await);
        }
    }
    // 90 notes spread over the three replicas, 30 writers at once.
    let notes = 90;
    let mut writers = Vec::new();
    for i in 0..notes {
        let url = urls[i % 3].clone();
        let incident = incident.clone();
        writers.push(tokio::spawn(async move {
            let (status, body) = post(
                &url,
                "wr_alice",
                &cmd(
                    Some(&incident),
                    json!({ "type": "note", "text": format!("note {i}") }),
                ),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    // The declaration is two events (declared, and the declarer as commander).
    let total = notes + 2;
    let readers: Vec<_> = subs
        .into_iter()
        .map(|s| tokio::spawn(collect(s, total)))
        .collect();
    for r in readers {
        let seqs = r.await.unwrap();
        assert_eq!(seqs, (1..=total as u64).collect::<Vec<_>>());
    }
    // Every replica serves the same log, gap-free.
    for url in &urls {
        let seqs: Vec<u64> = log(url)
            .await
            .iter()
            .map(|e| e["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(seqs, (1..=total as u64).collect::<Vec<_>>(), "{url}");
    }
    // Notes commute: however stale a replica's model, none was decided again.
    for url in &urls {
        assert_eq!(raced(url).await, 0, "{url}");
    }
    // Changes to different incidents, at once on different replicas, neither.
    let mut incidents = Vec::new();
    for url in &urls {
        incidents.push((url.clone(), declare(url, "P2").await));
    }
    let before: Vec<u64> = futures_util::future::join_all(urls.iter().map(|u| raced(u))).await;
    let acks: Vec<_> = incidents
        .into_iter()
        .map(|(url, incident)| {
            tokio::spawn(async move {
                post(
                    &url,
                    "wr_alice",
                    &cmd(Some(&incident), json!({ "type": "acknowledge" })),
                )
                .await
            })
        })
        .collect();
    for a in acks {
        let (status, body) = a.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let after: Vec<u64> = futures_util::future::join_all(urls.iter().map(|u| raced(u))).await;
    assert_eq!(before, after, "acknowledging three incidents raced");
    for r in replicas {
        r.shutdown().await.unwrap();
    }
}

/// `warroom_commands_raced_total` of one replica: commands decided again
/// because another replica's commit made the decision stale.
/// Waits until `/readyz` says the replica has caught up with the log's head.
async fn ready(url: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let status = http()
            .get(format!("{url}/readyz"))
            .send()
            .await
            .map(|r| r.status());
        if matches!(status, Ok(s) if s == StatusCode::OK) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{url} never caught up: {status:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn raced(url: &str) -> u64 {
    let text = http()
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("warroom_commands_raced_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no raced counter in {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_commanders_acknowledging_on_two_replicas_make_one_acknowledgement() {
    let Some(db) = database("two_commanders_acknowledging_on_two_replicas") else {
        return;
    };
    let (a, b) = (replica(&db, false).await, replica(&db, false).await);
    for round in 0..5 {
        let incident = declare(&a.url(), "P1").await;
        // Let B hear of the incident, then both acknowledge at once.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let ack = |url: String, token: &'static str, incident: String| async move {
            post(
                &url,
                token,
                &cmd(Some(&incident), json!({ "type": "acknowledge" })),
            )
            .await
        };
        let (ra, rb) = tokio::join!(
            ack(a.url(), "wr_alice", incident.clone()),
            ack(b.url(), "wr_bob", incident.clone())
        );
        let created = [ra.0, rb.0]
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count();
        assert_eq!(created, 1, "round {round}: {ra:?} {rb:?}");
        let refused = if ra.0 == StatusCode::CREATED { rb } else { ra };
        assert_eq!(refused.0, StatusCode::CONFLICT, "{refused:?}");
        let acks = log(&b.url())
            .await
            .iter()
            .filter(|e| e["incident"] == incident.as_str() && e["type"] == "acknowledged")
            .count();
        assert_eq!(acks, 1, "round {round}");
    }
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_command_id_sent_to_two_replicas_at_once_is_stored_once() {
    let Some(db) = database("the_same_command_id_sent_to_two_replicas_at_once") else {
        return;
    };
    let (a, b) = (
        Arc::new(replica(&db, false).await),
        Arc::new(replica(&db, false).await),
    );
    let incident = declare(&a.url(), "P2").await;
    let (url_a, url_b) = (a.url(), b.url());
    for _ in 0..10 {
        let body = cmd_with_id(
            Uuid::new_v4(),
            Some(&incident),
            json!({ "type": "note", "text": "once" }),
        );
        let (ra, rb) = tokio::join!(
            post(&url_a, "wr_alice", &body),
            post(&url_b, "wr_alice", &body)
        );
        for (status, answer) in [&ra, &rb] {
            assert!(
                *status == StatusCode::CREATED || *status == StatusCode::OK,
                "{status} {answer}"
            );
        }
        // Both answers name the same stored event.
        assert_eq!(ra.1["events"][0]["seq"], rb.1["events"][0]["seq"]);
    }
    let notes = log(&a.url())
        .await
        .iter()
        .filter(|e| e["type"] == "note")
        .count();
    assert_eq!(notes, 10);
    // The replica whose decision model held a copy rebuilt it: the incident
    // counts 12 events (declared, commander assigned, 10 notes) on both.
    for r in [&a, &b] {
        let (_, detail) = {
            let resp = http()
                .get(format!("{}/api/v1/incidents/{incident}", r.url()))
                .bearer_auth("wr_alice")
                .send()
                .await
                .unwrap();
            (resp.status(), resp.json::<Value>().await.unwrap())
        };
        assert_eq!(
            detail["incident"]["incident"]["event_count"], 12,
            "{detail}"
        );
    }
    for r in [a, b] {
        Arc::into_inner(r).unwrap().shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_scheduler_runs_and_another_takes_over_when_it_stops() {
    let Some(db) = database("one_scheduler_runs_and_another_takes_over") else {
        return;
    };
    let first = replica(&db, true).await;
    // The first replica takes the lease before the others start.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = replica(&db, true).await;
    let third = replica(&db, true).await;
    // P1 unacknowledged for 2 s escalates, once, however many replicas run.
    let incident = declare(&second.url(), "P1").await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let escalations = |events: Vec<Value>, incident: String| {
        events
            .into_iter()
            .filter(|e| e["incident"] == incident.as_str() && e["type"] == "escalated")
            .count()
    };
    assert_eq!(escalations(log(&third.url()).await, incident.clone()), 1);
    // The holder goes; another replica takes the lease and escalates the next one.
    first.shutdown().await.unwrap();
    let next = declare(&third.url(), "P1").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let n = escalations(log(&second.url()).await, next.clone());
        if n == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no escalation after the scheduler's replica stopped"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(escalations(log(&second.url()).await, next), 1);
    assert_eq!(escalations(log(&second.url()).await, incident), 1);
    second.shutdown().await.unwrap();
    third.shutdown().await.unwrap();
}

/// Waits for the first sync message `pick` accepts, failing after 15 s.
async fn next_msg<T>(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<warroom::client::SyncMsg>,
    mut pick: impl FnMut(&warroom::client::SyncMsg) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let msg = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("no such sync message in time")
            .expect("sync ended");
        if let Some(t) = pick(&msg) {
            return t;
        }
    }
}

fn note_of(text: &str) -> warroom::domain::Command {
    warroom::domain::Command {
        id: Uuid::new_v4(),
        incident: Some("INC-1".into()),
        action: warroom::domain::Action::Note {
            text: text.into(),
            kind: Default::default(),
        },
        occurred_at: None,
    }
}

/// A client given two replicas (`--server A,B`) keeps working when A stops:
/// its stream resumes on B after the last seq it had, its command goes to B,
/// and nothing is seen twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_fails_over_to_another_replica_and_resumes_from_its_last_seq() {
    use warroom::client::{Api, LinkState, Sync, SyncMsg};
    use warroom::domain::EventBody;
    let Some(db) = database("a_client_fails_over_to_another_replica") else {
        return;
    };
    let (a, b) = (replica(&db, false).await, replica(&db, false).await);
    declare(&a.url(), "P1").await;
    let dir = tempfile::tempdir().unwrap();
    let api = Api::new(&format!("{},{}", a.url(), b.url()), "wr_alice").unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let sync = Sync::start(api.clone(), &dir.path().join("outbox.jsonl"), 0, tx).unwrap();
    let mut seqs = Vec::new();
    next_msg(&mut rx, |m| {
        (*m == SyncMsg::Link(LinkState::Live)).then_some(())
    })
    .await;
    let first = note_of("on A");
    sync.submit(first.clone()).unwrap();
    let texts = |m: &SyncMsg, seqs: &mut Vec<u64>, want: &str| match m {
        SyncMsg::Events(evs) => {
            seqs.extend(evs.iter().map(|r| r.seq));
            evs.iter()
                .any(|r| matches!(&r.event.body, EventBody::Note { text, .. } if text == want))
                .then_some(())
        }
        _ => None,
    };
    next_msg(&mut rx, |m| texts(m, &mut seqs, "on A")).await;
    assert_eq!(api.base(), a.url());

    a.shutdown().await.unwrap();
    let second = note_of("after A stopped");
    sync.submit(second.clone()).unwrap();
    next_msg(&mut rx, |m| texts(m, &mut seqs, "after A stopped")).await;
    assert_eq!(api.base(), b.url(), "the client moved to B");
    // Every seq once, in order, across the move.
    let mut sorted = seqs.clone();
    sorted.dedup();
    assert_eq!(sorted, seqs, "nothing twice");
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    assert_eq!(seqs.len(), 2, "{seqs:?}");
    drop(sync);
    b.shutdown().await.unwrap();
}

/// A real `warroom serve` replica on `db`, port 0: the child and its URL
/// (read from the "listening on" line; the rest of stderr is drained).
fn serve_binary(db: &str, policy: &std::path::Path) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["serve", "--listen", "127.0.0.1:0", "--rate-limit", "0"])
        .arg("--policy")
        .arg(policy)
        .env("DATABASE_URL", db)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        if let Some(url) = line.strip_prefix("warroom: listening on ") {
            break url.trim().to_string();
        }
    };
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
    (child, url)
}

/// Kills (SIGKILL) and reaps a child when dropped, so a failing test leaves no replica behind.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What one writer sent and what was acknowledged (2xx with a body).
#[derive(Default)]
struct Written {
    sent: Vec<String>,
    acked: Vec<(String, u64)>,
}

/// One writer: notes on INC-1 as fast as it can, starting on replica `first`
/// of `urls`; a connection error moves it to the next replica, where it sends
/// the same command (same id) again — as a client does.
async fn write_notes(
    token: Arc<str>,
    urls: Arc<Vec<String>>,
    first: usize,
    w: usize,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Written {
    let http = http();
    let mut out = Written::default();
    let mut at = first;
    let mut i = 0;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let text = format!("writer {w} note {i}");
        i += 1;
        let body = cmd_with_id(
            Uuid::new_v4(),
            Some("INC-1"),
            json!({ "type": "note", "text": text }),
        );
        out.sent.push(text.clone());
        let mut tries = 0;
        loop {
            tries += 1;
            assert!(tries < 20, "writer {w}: no replica answered");
            let sent = http
                .post(format!("{}/api/v1/commands", urls[at % urls.len()]))
                .bearer_auth(&*token)
                .json(&body)
                .timeout(Duration::from_secs(5))
                .send()
                .await;
            let answer = match sent {
                Ok(resp) => {
                    let status = resp.status();
                    resp.json::<Value>().await.map(|v| (status, v))
                }
                Err(e) => Err(e),
            };
            match answer {
                Ok((status, v)) => {
                    assert!(status.is_success(), "writer {w}: {status} {v}");
                    let seq = v["events"][0]["seq"].as_u64().unwrap();
                    out.acked.push((text, seq));
                    break;
                }
                // The replica died under this request: another one, same id.
                Err(_) => {
                    at += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    out
}

/// kill -9 of a replica under load: three real `warroom serve` processes on
/// one database, writers spread over them, a `--server a,b,c` client on the
/// victim, which also holds the scheduler's lease. After the SIGKILL: every
/// acknowledged command is in the log exactly once, the log is gap-free, the
/// client resumes on another replica from its last seq (nothing missed,
/// nothing twice) and its next command goes there, and the scheduler moves
/// (the P1 declared just before the kill escalates, once).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_of_a_replica_under_load_loses_nothing_and_everyone_moves_on() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use warroom::client::{Api, LinkState, Sync, SyncMsg};
    use warroom::domain::EventBody;
    let Some(db) = database("kill_9_of_a_replica_under_load") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, crate::support::server::policy_toml(true)).unwrap();
    // The writers' token, made by the CLI on the shared database (as the README shows).
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args([
            "token",
            "create",
            "--name",
            "carol",
            "--role",
            "responder",
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let token: Arc<str> = String::from_utf8(made.stdout).unwrap().trim().into();
    // The victim starts first and takes the scheduler's lease.
    let (victim, victim_url) = serve_binary(&db, &policy);
    let mut victim = Reaped(victim);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (b, b_url) = serve_binary(&db, &policy);
    let (c, c_url) = serve_binary(&db, &policy);
    let _others = (Reaped(b), Reaped(c));
    declare(&b_url, "P2").await; // INC-1, for the notes

    // The client, on the victim first.
    let api = Api::new(&format!("{victim_url},{b_url},{c_url}"), "wr_alice").unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let sync = Sync::start(api.clone(), &dir.path().join("outbox.jsonl"), 0, tx).unwrap();
    let mut seqs: Vec<u64> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let take = |m: &SyncMsg, seqs: &mut Vec<u64>, texts: &mut Vec<String>| {
        if let SyncMsg::Events(evs) = m {
            for r in evs {
                seqs.push(r.seq);
                if let EventBody::Note { text, .. } = &r.event.body {
                    texts.push(text.clone());
                }
            }
        }
    };
    next_msg(&mut rx, |m| {
        take(m, &mut seqs, &mut texts);
        (*m == SyncMsg::Link(LinkState::Live)).then_some(())
    })
    .await;
    assert_eq!(api.base(), victim_url);

    let urls = Arc::new(vec![victim_url.clone(), b_url.clone(), c_url.clone()]);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..12)
        .map(|w| tokio::spawn(write_notes(token.clone(), urls.clone(), w, w, stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    // A P1 nobody acknowledges: due for escalation 2 s from now, after the kill.
    let p1 = declare(&c_url, "P1").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    victim.0.kill().unwrap(); // SIGKILL
    victim.0.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut sent = Vec::new();
    let mut acked = Vec::new();
    for w in writers {
        let written = w.await.unwrap();
        sent.extend(written.sent);
        acked.extend(written.acked);
    }
    let after_victim = acked.len();
    assert!(
        after_victim > 50,
        "only {after_victim} commands acknowledged"
    );

    // The client moved on: its next command is stored through another replica.
    let last = note_of("the client after the kill");
    sync.submit(last.clone()).unwrap();
    let head_text = "the client after the kill".to_string();
    next_msg(&mut rx, |m| {
        take(m, &mut seqs, &mut texts);
        texts.contains(&head_text).then_some(())
    })
    .await;
    assert_ne!(api.base(), victim_url, "the client left the dead replica");

    // The scheduler moved: the P1 escalates, once.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let escalations = |events: &[Value]| {
        events
            .iter()
            .filter(|e| e["incident"] == p1.as_str() && e["type"] == "escalated")
            .count()
    };
    loop {
        if escalations(&log(&b_url).await) > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no escalation: the scheduler's lease did not move"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let events = log(&c_url).await;
    assert_eq!(escalations(&events), 1, "escalated once");

    // Gap-free, and every acknowledged command exactly once at its seq.
    let log_seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        log_seqs,
        (1..=log_seqs.len() as u64).collect::<Vec<_>>(),
        "gap-free"
    );
    let mut by_text: std::collections::HashMap<&str, Vec<u64>> = Default::default();
    for e in &events {
        if let Some(t) = e["text"].as_str() {
            by_text
                .entry(t)
                .or_default()
                .push(e["seq"].as_u64().unwrap());
        }
    }
    for (text, seq) in &acked {
        assert_eq!(
            by_text.get(text.as_str()),
            Some(&vec![*seq]),
            "acknowledged {text:?} at seq {seq}: once, there"
        );
    }
    for text in &sent {
        assert!(
            by_text.get(text.as_str()).is_none_or(|s| s.len() == 1),
            "{text:?} stored twice"
        );
    }

    // The client saw the log from the start, each seq once, in order, across the move.
    let head = *log_seqs.last().unwrap();
    if seqs.last() != Some(&head) {
        next_msg(&mut rx, |m| {
            take(m, &mut seqs, &mut texts);
            (seqs.last() == Some(&head)).then_some(())
        })
        .await;
    }
    assert_eq!(seqs, (1..=head).collect::<Vec<_>>(), "the client's stream");
    eprintln!(
        "{after_victim} commands acknowledged by three replicas, one killed; log head {head}"
    );
    drop(sync);
}
