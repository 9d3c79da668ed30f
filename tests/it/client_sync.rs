//! The client's sync against the real server (127.0.0.1:0, SQLite file): catch-up,
//! live events, the outbox across a server outage, and a refused command.
#![allow(clippy::unwrap_used)]

use std::time::Duration;
use tokio::sync::mpsc;
use uuid::Uuid;
use warroom::client::{Api, LinkState, Sync, SyncMsg};
use warroom::domain::command::Access;
use warroom::domain::{Action, Command, EventBody, NoteKind, Policy};
use warroom::server::{self, RunningServer, ServerConfig};

async fn start(db: &std::path::Path, listen: &str) -> RunningServer {
    let mut config = ServerConfig::new(db, listen);
    config.policy = Policy::builtin_default();
    config.rate_limit = None;
    config.heartbeat = Duration::from_millis(200);
    config.bootstrap_token = Some(("casey".into(), Access::Admin));
    server::start(config).await.unwrap()
}

/// Waits for the first message `pick` accepts, failing after 10 s.
async fn next<T>(
    rx: &mut mpsc::UnboundedReceiver<SyncMsg>,
    mut pick: impl FnMut(&SyncMsg) -> Option<T>,
) -> T {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let msg = rx.recv().await.expect("sync stopped");
            if let Some(t) = pick(&msg) {
                return t;
            }
        }
    })
    .await
    .expect("timed out waiting for a sync message")
}

/// Waits until `id` is accepted AND its note `text` has arrived on the stream,
/// in whichever order (the stream may beat the HTTP answer).
async fn delivered(rx: &mut mpsc::UnboundedReceiver<SyncMsg>, id: Uuid, text: &str) {
    let (mut accepted, mut seen) = (false, false);
    next(rx, |m| {
        accepted |= matches!(m, SyncMsg::Accepted { id: a } if *a == id);
        seen |= note_text(m).is_some_and(|t| t == text);
        (accepted && seen).then_some(())
    })
    .await;
}

fn note(incident: &str, text: &str) -> Command {
    Command {
        id: Uuid::new_v4(),
        incident: Some(incident.into()),
        action: Action::Note {
            kind: NoteKind::Note,
            text: text.into(),
        },
        occurred_at: None,
    }
}

fn note_text(msg: &SyncMsg) -> Option<String> {
    match msg {
        SyncMsg::Events(evs) => evs.iter().find_map(|r| match &r.event.body {
            EventBody::Note { text, .. } => Some(text.clone()),
            _ => None,
        }),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_live_outbox_across_an_outage_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let server = start(&db, "127.0.0.1:0").await;
    let url = server.url();
    let token = server.local_token().unwrap().to_string();
    let api = Api::new(&url, &token).unwrap();

    // Something in the log before the client starts: it arrives by catch-up.
    let declare = Command {
        id: Uuid::new_v4(),
        incident: None,
        action: Action::Declare {
            title: "Queue backlog".into(),
            severity: "P2".into(),
            kind: None,
            impact: None,
            commander: None,
        },
        occurred_at: None,
    };
    api.send(&declare).await.unwrap();

    let (tx, mut rx) = mpsc::unbounded_channel();
    let sync = Sync::start(api.clone(), &dir.path().join("outbox.jsonl"), 0, tx).unwrap();
    next(&mut rx, |m| matches!(m, SyncMsg::Events(e) if e.iter().any(|r| matches!(r.event.body, EventBody::Declared { .. }))).then_some(())).await;
    next(&mut rx, |m| {
        (*m == SyncMsg::Link(LinkState::Live)).then_some(())
    })
    .await;

    // Live: a submitted note is queued, accepted, and comes back on the stream.
    let cmd = note("INC-1", "first note");
    sync.submit(cmd.clone()).unwrap();
    delivered(&mut rx, cmd.id, "first note").await;

    // A command the domain refuses is reported with the server's reason and dropped.
    let bad = Command {
        id: Uuid::new_v4(),
        incident: Some("INC-1".into()),
        action: Action::SetSeverity {
            severity: "P9".into(),
            reason: "typo".into(),
        },
        occurred_at: None,
    };
    sync.submit(bad.clone()).unwrap();
    let error = next(&mut rx, |m| match m {
        SyncMsg::Rejected { id, error } if *id == bad.id => Some(error.clone()),
        _ => None,
    })
    .await;
    assert!(error.contains("unknown severity \"P9\""), "{error}");

    // The server goes away; a note written now waits in the outbox.
    let addr = server.addr();
    server.shutdown().await.unwrap();
    next(&mut rx, |m| {
        matches!(
            m,
            SyncMsg::Link(LinkState::Reconnecting { .. } | LinkState::Offline)
        )
        .then_some(())
    })
    .await;
    let offline = note("INC-1", "written while the server was down");
    sync.submit(offline.clone()).unwrap();
    next(&mut rx, |m| matches!(m, SyncMsg::Pending(1)).then_some(())).await;

    // It comes back on the same address: the note is delivered, once, in order.
    let server = start(&db, &addr.to_string()).await;
    delivered(&mut rx, offline.id, "written while the server was down").await;
    let page = api.events_after(0, 1000).await.unwrap();
    let copies = page
        .events
        .iter()
        .filter(|r| matches!(&r.event.body, EventBody::Note { text, .. } if text == "written while the server was down"))
        .count();
    assert_eq!(copies, 1);
    let seqs: Vec<u64> = page.events.iter().map(|r| r.seq).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "gap-free"
    );
    server.shutdown().await.unwrap();
}

/// A revoked token's window learns that its token is refused (not an endless
/// RECONNECTING/OFFLINE), and a command it sends is refused with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_reported_as_refused_not_offline() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("w.db"), "127.0.0.1:0").await;
    let url = server.url();
    let admin = server.local_token().unwrap().to_string();
    let http = reqwest::Client::new();
    let made: serde_json::Value = http
        .post(format!("{url}/api/v1/tokens"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"name": "dana", "role": "responder"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dana = made["token"].as_str().unwrap().to_string();
    let revoked = http
        .delete(format!("{url}/api/v1/tokens/dana"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success(), "{}", revoked.status());

    let (tx, mut rx) = mpsc::unbounded_channel();
    let sync = Sync::start(
        Api::new(&url, &dana).unwrap(),
        &dir.path().join("dana.jsonl"),
        0,
        tx,
    )
    .unwrap();
    next(&mut rx, |m| match m {
        SyncMsg::Link(LinkState::Refused) => Some(()),
        SyncMsg::Link(LinkState::Offline | LinkState::Live) => {
            panic!("a refused token read as {m:?}")
        }
        _ => None,
    })
    .await;
    let cmd = note("INC-1", "still typing after the revocation");
    sync.submit(cmd.clone()).unwrap();
    let error = next(&mut rx, |m| match m {
        SyncMsg::Rejected { id, error } if *id == cmd.id => Some(error.clone()),
        _ => None,
    })
    .await;
    assert!(error.contains("401"), "{error}");
    server.shutdown().await.unwrap();
}
