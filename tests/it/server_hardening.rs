//! What a black-box attack on the server found (issue 15), each reproduced
//! against a real server on 127.0.0.1:0 over a real SQLite file:
//! scheduler ids a client could take first, idempotency keys reused for
//! another request, and the smaller ones.
#![allow(clippy::unwrap_used)]

use crate::support::server::{Srv, cmd_with_id, policy, start, start_in};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;
use warroom::domain::ids::is_system_id;
use warroom::store::EventLog;

async fn fast(dir: Option<tempfile::TempDir>) -> Srv {
    let tweak = |c: &mut warroom::server::ServerConfig| c.policy = policy(true);
    match dir {
        Some(d) => start_in(d, tweak).await,
        None => start(tweak).await,
    }
}

async fn incident_id(srv: &Srv, key: &str) -> Uuid {
    let (_, detail) = srv
        .get(&srv.admin, &format!("/api/v1/incidents/{key}"))
        .await;
    serde_json::from_value(detail["incident"]["incident"]["id"].clone()).unwrap()
}

async fn escalations_of(srv: &Srv, incident: Uuid) -> Vec<Value> {
    srv.all_events(&srv.admin)
        .await
        .into_iter()
        .filter(|e| e["type"] == "escalated" && e["incident"] == json!(incident))
        .collect()
}

/// Item 1. The scheduler's ids used to be `v5(incident, "rule:<id>")`: a
/// client that posted a note under that id first made the escalation a
/// "duplicate", and Backup on-call was never escalated to.
#[tokio::test]
async fn a_client_cannot_silence_an_escalation_by_taking_its_id_first() {
    let srv = fast(None).await;
    let key = srv.declare(&srv.admin, "Checkout down", "P1").await;
    let incident = incident_id(&srv, &key).await;
    let guessed = Uuid::new_v5(&incident, b"rule:p1-unacked");
    let (status, body) = srv
        .command(
            &srv.admin,
            cmd_with_id(
                guessed,
                Some(&key),
                json!({ "type": "note", "text": "gotcha" }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let deadline = std::time::Instant::now() + Duration::from_secs(8);
    let escalated = loop {
        let found = escalations_of(&srv, incident).await;
        if !found.is_empty() || std::time::Instant::now() > deadline {
            break found;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        escalated.len(),
        1,
        "the rule must still fire: {escalated:?}"
    );
    assert_eq!(escalated[0]["to"], "Backup on-call");
    assert_eq!(escalated[0]["actor"], "scheduler");
    let id: Uuid = serde_json::from_value(escalated[0]["id"].clone()).unwrap();
    assert!(is_system_id(id), "scheduler ids are keyed system ids: {id}");
    assert_ne!(id, guessed);
    let (_, detail) = srv
        .get(&srv.admin, &format!("/api/v1/incidents/{key}"))
        .await;
    assert_eq!(
        detail["incident"]["incident"]["escalations"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{detail}"
    );
    srv.stop().await;
}

/// Item 1. A client command can never take a system id, whatever it guesses:
/// version-8 ids are the server's.
#[tokio::test]
async fn a_client_command_under_a_system_id_is_refused_naming_the_id() {
    let srv = start(|_| {}).await;
    let key = srv.declare(&srv.admin, "API down", "P2").await;
    let v8 = uuid::Builder::from_custom_bytes([9; 16]).into_uuid();
    let (status, body) = srv
        .command(
            &srv.admin,
            cmd_with_id(v8, Some(&key), json!({ "type": "note", "text": "hi" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], "id", "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("version-8"),
        "{body}"
    );
    let events = srv.all_events(&srv.admin).await;
    assert!(events.iter().all(|e| e["id"] != json!(v8)));
    srv.stop().await;
}

/// Item 1. The ids are stable across restarts (so a fired rule is not fired
/// again) — the key is kept in the database, not made up per process.
#[tokio::test]
async fn scheduler_ids_are_the_same_after_a_restart_so_nothing_fires_twice() {
    let srv = fast(None).await;
    let key = srv.declare(&srv.admin, "Checkout down", "P1").await;
    let incident = incident_id(&srv, &key).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(8);
    while escalations_of(&srv, incident).await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "never escalated");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let first = escalations_of(&srv, incident).await;
    let dir = srv.stop().await;
    let srv = fast(Some(dir)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(escalations_of(&srv, incident).await, first);
    srv.stop().await;
}

/// Item 2. One id, one request: the same id with another text, another
/// incident, another action or from another token is refused (422, `id`),
/// and the refusal carries nothing of the first request.
#[tokio::test]
async fn an_idempotency_key_reused_for_another_request_is_refused() {
    let srv = start(|_| {}).await;
    let bob = srv.token("bob", "commander").await;
    let one = srv.declare(&srv.admin, "API down", "P2").await;
    let two = srv.declare(&srv.admin, "DB slow", "P2").await;
    let id = Uuid::new_v4();
    let first = cmd_with_id(
        id,
        Some(&one),
        json!({ "type": "note", "text": "secret plan" }),
    );
    let (status, stored) = srv.command(&srv.admin, first.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");

    let reuses = [
        (
            "another text",
            srv.admin.clone(),
            cmd_with_id(id, Some(&one), json!({ "type": "note", "text": "other" })),
        ),
        (
            "another incident",
            srv.admin.clone(),
            cmd_with_id(
                id,
                Some(&two),
                json!({ "type": "note", "text": "secret plan" }),
            ),
        ),
        (
            "another action",
            srv.admin.clone(),
            cmd_with_id(id, Some(&one), json!({ "type": "resolve", "force": true })),
        ),
        ("another token", bob.clone(), first.clone()),
    ];
    for (what, token, body) in reuses {
        let (status, answer) = srv.command(&token, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {answer}");
        assert_eq!(answer["field"], "id", "{what}: {answer}");
        assert!(answer.get("events").is_none(), "{what}: {answer}");
        assert!(
            !answer.to_string().contains("secret plan"),
            "{what}: {answer}"
        );
    }
    // The incident was not resolved behind a "duplicate".
    let (_, detail) = srv
        .get(&srv.admin, &format!("/api/v1/incidents/{one}"))
        .await;
    assert!(
        detail["incident"]["incident"]["resolved"].is_null(),
        "{detail}"
    );

    // The very same request is still the duplicate it was, also after a restart.
    let (status, again) = srv.command(&srv.admin, first.clone()).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["events"], stored["events"]);
    let admin = srv.admin.clone();
    let dir = srv.stop().await;
    let srv = start_in(dir, |_| {}).await;
    assert_eq!(srv.admin, admin);
    let (status, again) = srv.command(&srv.admin, first).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    let (status, answer) = srv
        .command(
            &bob,
            cmd_with_id(
                id,
                Some(&one),
                json!({ "type": "note", "text": "secret plan" }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    srv.stop().await;
}

/// Item 3, on the way in: invisible characters never reach the log.
#[tokio::test]
async fn invisible_characters_are_dropped_before_they_are_stored() {
    let srv = start(|_| {}).await;
    let key = srv
        .declare(&srv.admin, "Lo\u{200b}gin\u{2028}down", "P2")
        .await;
    let (status, body) = srv
        .command(
            &srv.admin,
            crate::support::server::cmd(
                Some(&key),
                json!({ "type": "assign_role", "role": "scribe", "person": "al\u{200b}ice\u{e0041}" }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = srv.note(&srv.admin, &key, "one\u{2028}two\u{feff}").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, detail) = srv
        .get(&srv.admin, &format!("/api/v1/incidents/{key}"))
        .await;
    let inc = &detail["incident"]["incident"];
    assert_eq!(inc["title"], "Login down", "{inc}");
    let text = detail.to_string();
    assert!(text.contains("\"alice\""), "{text}");
    assert!(text.contains("one\\ntwo"), "{text}");
    for bad in ["\u{200b}", "\u{2028}", "\u{feff}", "\u{e0041}"] {
        assert!(!text.contains(bad), "{bad:?} stored: {text}");
    }
    srv.stop().await;
}

/// Item 6. Revoking a token ends its live streams at once: the stream says
/// `revoked` and ends, and receives nothing written afterwards. Another
/// token's stream goes on.
#[tokio::test]
async fn revoking_a_token_ends_its_live_streams_at_once() {
    let srv = start(|c| c.heartbeat = Duration::from_secs(30)).await;
    let bob = srv.token("bob", "responder").await;
    let carol = srv.token("carol", "responder").await;
    let key = srv.declare(&srv.admin, "API down", "P2").await;
    let mut bobs = srv.stream(&bob, None).await;
    let mut carols = srv.stream(&carol, None).await;
    assert_eq!(bobs.status, StatusCode::OK);
    assert_eq!(
        bobs.next_within(Duration::from_secs(5))
            .await
            .unwrap()
            .event,
        "heartbeat"
    );
    assert_eq!(
        carols
            .next_within(Duration::from_secs(5))
            .await
            .unwrap()
            .event,
        "heartbeat"
    );

    let started = std::time::Instant::now();
    let resp = srv
        .http
        .delete(format!("{}/api/v1/tokens/bob", srv.url))
        .bearer_auth(&srv.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    srv.note(&srv.admin, &key, "after the revocation").await;
    let f = bobs.next_within(Duration::from_secs(2)).await.unwrap();
    assert_eq!(f.event, "revoked", "{f:?}");
    assert!(
        f.json()["reason"].as_str().unwrap().contains("bob"),
        "{f:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        bobs.next_within(Duration::from_secs(2)).await,
        None,
        "the stream ends"
    );
    let f = carols.next_event(Duration::from_secs(5)).await.unwrap();
    assert_eq!(f.json()["text"], "after the revocation");
    srv.stop().await;
}

/// Item 6, the other way tokens are revoked: `warroom token revoke` writes the
/// database directly; the server notices within the token cache time.
#[tokio::test]
async fn a_token_revoked_behind_the_servers_back_loses_its_stream_too() {
    let srv = start(|c| {
        c.heartbeat = Duration::from_secs(30);
        c.token_cache_ttl = Duration::from_millis(300);
    })
    .await;
    let bob = srv.token("bob", "responder").await;
    let mut bobs = srv.stream(&bob, None).await;
    assert_eq!(
        bobs.next_within(Duration::from_secs(5))
            .await
            .unwrap()
            .event,
        "heartbeat"
    );
    let store = srv.server.as_ref().unwrap().token_store();
    assert!(store.revoke_token("bob").unwrap());
    let f = bobs.next_within(Duration::from_secs(3)).await.unwrap();
    assert_eq!(f.event, "revoked", "{f:?}");
    srv.stop().await;
}

/// Item 5. Streams are capped per token and in all, with a refusal naming
/// the limit; a closed stream gives its slot back.
#[tokio::test]
async fn live_streams_are_capped_per_token_and_in_all() {
    let srv = start(|c| {
        c.max_streams_per_token = 2;
        c.max_streams = 3;
    })
    .await;
    let bob = srv.token("bob", "viewer").await;
    let one = srv.stream(&bob, None).await;
    let _two = srv.stream(&bob, None).await;
    let resp = srv
        .http
        .get(format!("{}/api/v1/stream", srv.url))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("2 live streams"),
        "{body}"
    );
    let _three = srv.stream(&srv.admin, None).await;
    let resp = srv
        .http
        .get(format!("{}/api/v1/stream", srv.url))
        .bearer_auth(&srv.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().contains_key("retry-after"));
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("3 live streams"),
        "{body}"
    );
    drop(one);
    // The slot comes back once the server sees the connection close.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let s = srv.stream(&bob, None).await;
        if s.status == StatusCode::OK {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "slot never came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    srv.stop().await;
}

/// Item 9. `BEARER x` is the same credential as `Bearer x` (RFC 9110).
#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let srv = start(|_| {}).await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let resp = srv
            .http
            .get(format!("{}/api/v1/me", srv.url))
            .header("authorization", format!("{scheme} {}", srv.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{scheme}");
    }
    srv.stop().await;
}

/// Item 9. `warroom serve 2>server.log`: the log file carries no ANSI codes.
#[test]
fn the_server_log_has_no_colour_codes_when_it_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("w.db"))
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("listening on") || std::time::Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(text.contains("serving"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "ANSI codes in the log file: {text:?}"
    );
}

/// A connection that sends a request head one byte at a time, every `gap`,
/// until the server closes it; resolves with how long it was held open.
async fn slowloris(addr: String, gap: Duration, give_up: Duration) -> Option<Duration> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let started = std::time::Instant::now();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
    let head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut buf = [0u8; 512];
    for b in head.iter().cycle() {
        if started.elapsed() > give_up {
            return None;
        }
        if tcp.write_all(&[*b]).await.is_err() {
            return Some(started.elapsed());
        }
        // Closed by the server: a read returns 0 (or an error) at once.
        if let Ok(r) = tokio::time::timeout(gap, tcp.read(&mut buf)).await {
            match r {
                Ok(n) if n > 0 => {} // an error answer before closing
                _ => return Some(started.elapsed()),
            }
        }
    }
    None
}

/// Item 5. Slow and idle connections are closed by the server, and while
/// hundreds of them are open legitimate requests are still answered at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_timed_out_and_others_are_still_answered() {
    let srv = start(|c| {
        c.conn_limits.header_timeout = Duration::from_secs(1);
    })
    .await;
    let addr = srv.url.trim_start_matches("http://").to_string();
    let mut slow = Vec::new();
    for _ in 0..300 {
        slow.push(tokio::spawn(slowloris(
            addr.clone(),
            Duration::from_millis(200),
            Duration::from_secs(10),
        )));
    }
    // An idle connection (sends nothing) is closed too.
    let idle = tokio::spawn({
        let addr = addr.clone();
        async move {
            use tokio::io::AsyncReadExt;
            let started = std::time::Instant::now();
            let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            let mut buf = [0u8; 64];
            let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf)).await;
            started.elapsed()
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..20 {
        let asked = std::time::Instant::now();
        let (status, _) = srv.get(&srv.admin, "/api/v1/me").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            asked.elapsed() < Duration::from_secs(1),
            "{:?}",
            asked.elapsed()
        );
    }
    for s in slow {
        let held = s
            .await
            .unwrap()
            .expect("a slow connection was never closed");
        assert!(held < Duration::from_secs(4), "held {held:?}");
    }
    let held = idle.await.unwrap();
    assert!(
        held < Duration::from_secs(4),
        "idle connection held {held:?}"
    );
    srv.stop().await;
}

/// Item 5. Past the connection cap a new connection gets a clear 503 at
/// once (not a hang), and once the slots free up requests succeed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_refused_with_a_clear_503() {
    let srv = start(|c| {
        c.conn_limits.header_timeout = Duration::from_secs(1);
        c.conn_limits.max_connections = 20;
    })
    .await;
    let addr = srv.url.trim_start_matches("http://").to_string();
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let asked = std::time::Instant::now();
    let resp = crate::support::server::http()
        .get(format!("{}/healthz", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().contains_key("retry-after"));
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("20 open connections"),
        "{body}"
    );
    assert!(asked.elapsed() < Duration::from_secs(1));
    // The idle ones time out; the slots come back.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let resp = crate::support::server::http()
        .get(format!("{}/healthz", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    drop(held);
    srv.stop().await;
}

/// Item 5. A body trickling in is cut off with 408 naming the limit.
#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_a_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let srv = start(|c| c.conn_limits.body_timeout = Duration::from_millis(500)).await;
    let addr = srv.url.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/commands HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
        srv.admin
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive within 0.5 s"), "{answer}");
    srv.stop().await;
}

/// Item 7. A restart reads the read-model checkpoint and folds only the
/// events after it, and serves exactly what a fold from the start would.
#[tokio::test]
async fn a_restart_folds_only_the_events_after_the_checkpoint() {
    let srv = start(|c| c.checkpoint_every = 1_000_000).await;
    let key = srv.declare(&srv.admin, "API down", "P1").await;
    for i in 0..30 {
        srv.note(&srv.admin, &key, &format!("note {i}")).await;
    }
    let (_, before) = srv.get(&srv.admin, "/api/v1/incidents?all=true").await;
    // Shutdown writes a last checkpoint: the next start folds nothing.
    let dir = srv.stop().await;
    let store = warroom::store::SqliteStore::open(dir.path().join("warroom.db")).unwrap();
    let (decider, view, loaded) = warroom::server::state::load_models(&store).unwrap();
    assert_eq!(loaded.checkpoint, Some(view.latest_seq), "{loaded:?}");
    assert_eq!(loaded.folded, 0);
    assert!(decider.partial_known);
    drop(store);

    // Events after the checkpoint are folded on top of it.
    let srv = start_in(dir, |c| c.checkpoint_every = 1_000_000).await;
    let (_, same) = srv.get(&srv.admin, "/api/v1/incidents?all=true").await;
    assert_eq!(
        same["incidents"][0]["incident"],
        before["incidents"][0]["incident"]
    );
    srv.note(&srv.admin, &key, "after the checkpoint").await;
    let (status, _) = srv
        .command(
            &srv.admin,
            crate::support::server::cmd(Some(&key), json!({ "type": "acknowledge" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, now) = srv.get(&srv.admin, "/api/v1/incidents?all=true").await;
    assert_eq!(
        now["incidents"][0]["incident"]["acknowledged"]["by"],
        "admin"
    );
    assert_eq!(
        now["incidents"][0]["incident"]["event_count"],
        before["incidents"][0]["incident"]["event_count"]
            .as_u64()
            .unwrap()
            + 2
    );
    srv.stop().await;
}

/// Item 7. A checkpoint that does not match the log (the log was restored
/// from a backup, say) is ignored: the log is folded from the start.
#[tokio::test]
async fn a_checkpoint_that_does_not_match_the_log_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let store = warroom::store::SqliteStore::open(dir.path().join("w.db")).unwrap();
    let incident = Uuid::new_v4();
    let ev = warroom::domain::event::Event {
        id: incident,
        incident,
        actor: "alice".into(),
        occurred_at: chrono::Utc::now(),
        body: warroom::domain::event::EventBody::Declared {
            title: "Real".into(),
            severity: "P2".into(),
            kind: "availability".into(),
            impact: Default::default(),
        },
    };
    warroom::store::append(&store, incident, vec![ev])
        .await
        .unwrap();
    let bogus = warroom::server::checkpoint::encode(&Default::default()).unwrap();
    store.save_checkpoint(1, Uuid::new_v4(), &bogus).unwrap();
    let (_, view, loaded) = warroom::server::state::load_models(&store).unwrap();
    assert_eq!(loaded.checkpoint, None);
    assert_eq!(loaded.folded, 1);
    assert_eq!(view.world.order, vec![incident]);
}

/// Items 7 and 8. After a start from a checkpoint the command ids before it
/// are read in the background (so a command no longer pays a store lookup of
/// its id); before, during and after that, an id used before the checkpoint
/// is still the duplicate it was, and its reuse for another request refused.
#[tokio::test]
async fn ids_from_before_the_checkpoint_stay_known_after_a_restart() {
    let srv = start(|c| c.checkpoint_every = 1_000_000).await;
    let key = srv.declare(&srv.admin, "API down", "P1").await;
    let id = Uuid::new_v4();
    let first = cmd_with_id(id, Some(&key), json!({ "type": "note", "text": "before" }));
    let (status, stored) = srv.command(&srv.admin, first.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");
    let dir = srv.stop().await;

    let srv = start_in(dir, |c| c.checkpoint_every = 1_000_000).await;
    // At once (the background read may not have finished) and after it.
    for round in 0..2 {
        let (status, again) = srv.command(&srv.admin, first.clone()).await;
        assert_eq!(status, StatusCode::OK, "round {round}: {again}");
        assert_eq!(again["events"], stored["events"], "round {round}");
        let other = cmd_with_id(id, Some(&key), json!({ "type": "note", "text": "other" }));
        let (status, refused) = srv.command(&srv.admin, other).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "round {round}: {refused}"
        );
        let (status, _) = srv.note(&srv.admin, &key, &format!("fresh {round}")).await;
        assert_eq!(status, StatusCode::CREATED);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let notes = srv
        .all_events(&srv.admin)
        .await
        .into_iter()
        .filter(|e| e["type"] == "note")
        .count();
    assert_eq!(notes, 3, "one before, two fresh; nothing twice");
    srv.stop().await;
}
