//! The SQLite event store on real files: seqs, idempotency, group commit,
//! reads, tokens, migrations and reopening.
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use std::sync::{Arc, Mutex};
use uuid::Uuid;
use warroom::domain::command::Access;
use warroom::domain::event::{Event, EventBody, NoteKind};
use warroom::store::{EventLog, SqliteStore, StoreError, TokenStore, append, hash_token};

fn note(incident: Uuid, id: Uuid, text: &str) -> Event {
    Event {
        id,
        incident,
        actor: "alice".into(),
        occurred_at: Utc::now(),
        body: EventBody::Note {
            kind: NoteKind::Note,
            text: text.into(),
        },
    }
}

fn declared(incident: Uuid) -> Event {
    Event {
        id: incident,
        incident,
        actor: "alice".into(),
        occurred_at: Utc::now(),
        body: EventBody::Declared {
            title: "t".into(),
            severity: "P1".into(),
            kind: "availability".into(),
            impact: Default::default(),
        },
    }
}

#[tokio::test]
async fn appends_get_gap_free_seqs_and_repeats_are_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("nested/dir/w.db")).unwrap();
    assert_eq!(store.latest_seq().unwrap(), 0);
    let inc = Uuid::new_v4();
    let first = append(&store, inc, vec![declared(inc)]).await.unwrap();
    assert!(!first.duplicate);
    assert_eq!(first.events[0].seq(), 1);

    let cmd = Uuid::new_v4();
    let two = vec![
        note(inc, cmd, "a"),
        note(inc, Uuid::new_v5(&cmd, b"1"), "b"),
    ];
    let stored = append(&store, cmd, two.clone()).await.unwrap();
    assert_eq!(
        stored.events.iter().map(|e| e.seq()).collect::<Vec<_>>(),
        vec![2, 3]
    );
    // Same command id again: the original events, nothing new.
    let again = append(&store, cmd, two).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(
        again.events.iter().map(|e| e.seq()).collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert_eq!(again.events[0].recorded, stored.events[0].recorded);
    // A different command id carrying an already stored event id: also a duplicate.
    let dup = append(&store, Uuid::new_v4(), vec![note(inc, cmd, "a")])
        .await
        .unwrap();
    assert!(dup.duplicate);
    assert_eq!(store.latest_seq().unwrap(), 3);

    // JSON stored is exactly what is served.
    let page = store.events_after(0, 10).unwrap();
    assert_eq!(page.len(), 3);
    for ev in &page {
        let back: warroom::domain::Recorded = serde_json::from_str(&ev.json).unwrap();
        assert_eq!(back, ev.recorded);
        let frame = String::from_utf8(warroom::server::stream::event_frame(ev).to_vec()).unwrap();
        assert!(frame.starts_with(&format!("id: {}\nevent: event\ndata: {{", ev.seq())));
        assert!(frame.ends_with("}\n\n"));
    }
    assert_eq!(store.command_events(cmd).unwrap().len(), 2);
    assert!(store.command_events(Uuid::new_v4()).unwrap().is_empty());
    store.close();
}

#[tokio::test]
async fn concurrent_appends_share_commits_and_every_caller_is_answered_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("w.db")).unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let batches = Arc::new(Mutex::new(0usize));
    {
        let (seen, batches) = (seen.clone(), batches.clone());
        store
            .set_commit_hook(Box::new(move |events| {
                *batches.lock().unwrap() += 1;
                seen.lock().unwrap().extend(events.iter().map(|e| e.seq()));
            }))
            .unwrap();
    }
    assert!(
        store.set_commit_hook(Box::new(|_| {})).is_err(),
        "one hook only"
    );
    let inc = Uuid::new_v4();
    // 500 appends queued at once: they commit in far fewer transactions.
    let tickets: Vec<_> = (0..500)
        .map(|i| {
            let id = Uuid::new_v4();
            (id, store.enqueue(id, vec![note(inc, id, &format!("n{i}"))]))
        })
        .collect();
    let mut seqs = Vec::new();
    for (id, t) in tickets {
        let a = t.await.unwrap().unwrap();
        assert_eq!(a.events[0].command, id);
        seqs.push(a.events[0].seq());
    }
    // Queued order is seq order.
    assert_eq!(seqs, (1..=500).collect::<Vec<_>>());
    // The hook saw every event once, in seq order, before the callers were answered.
    assert_eq!(*seen.lock().unwrap(), seqs);
    let batches = *batches.lock().unwrap();
    assert!(
        batches < 500,
        "group commit: {batches} transactions for 500 appends"
    );
    // flush resolves once everything before it is answered.
    let t = store.enqueue(Uuid::new_v4(), vec![note(inc, Uuid::new_v4(), "last")]);
    store.flush().await.unwrap();
    assert_eq!(store.latest_seq().unwrap(), 501);
    assert!(t.await.unwrap().is_ok());
    store.close();
    // After close, appends fail cleanly.
    let err = append(
        &*store,
        Uuid::new_v4(),
        vec![note(inc, Uuid::new_v4(), "x")],
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Closed), "{err}");
}

#[tokio::test]
async fn reads_page_by_seq_and_by_incident_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    {
        let store = SqliteStore::open(&path).unwrap();
        append(&store, a, vec![declared(a)]).await.unwrap();
        append(&store, b, vec![declared(b)]).await.unwrap();
        for i in 0..10 {
            let inc = if i % 2 == 0 { a } else { b };
            let id = Uuid::new_v4();
            append(&store, id, vec![note(inc, id, &format!("{i}"))])
                .await
                .unwrap();
        }
        store.close();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.latest_seq().unwrap(), 12);
    let page = store.events_after(4, 3).unwrap();
    assert_eq!(
        page.iter().map(|e| e.seq()).collect::<Vec<_>>(),
        vec![5, 6, 7]
    );
    // Past the head is an empty page, however large the number.
    assert!(store.events_after(12, 10).unwrap().is_empty());
    assert!(store.events_after(u64::MAX, 10).unwrap().is_empty());
    assert!(store.incident_events(a, u64::MAX, 10).unwrap().is_empty());
    // A huge limit is "everything", not "nothing".
    assert_eq!(store.events_after(0, usize::MAX).unwrap().len(), 12);
    let of_a = store.incident_events(a, 0, 100).unwrap();
    assert_eq!(of_a.len(), 6);
    assert!(of_a.iter().all(|e| e.recorded.event.incident == a));
    let of_a_later = store.incident_events(a, of_a[2].seq(), 2).unwrap();
    assert_eq!(
        of_a_later.iter().map(|e| e.seq()).collect::<Vec<_>>(),
        vec![of_a[3].seq(), of_a[4].seq()]
    );
    // Appending after reopening continues the sequence.
    let id = Uuid::new_v4();
    let more = append(&store, id, vec![note(a, id, "after reopen")])
        .await
        .unwrap();
    assert_eq!(more.events[0].seq(), 13);

    // The file is in WAL mode with a schema version.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, warroom::store::migrations::MIGRATIONS.len() as i64);
    store.close();
}

#[test]
fn a_database_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    SqliteStore::open(&path).unwrap().close();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE schema_version SET version = 999", [])
        .unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found: 999, .. }),
        "{err}"
    );
}

#[test]
fn tokens_are_stored_by_hash_and_names_are_unique() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("w.db")).unwrap();
    let h = hash_token("wr_secret");
    assert_eq!(h.len(), 64);
    assert_ne!(h, hash_token("wr_secreT"));
    let t = store.create_token("alice", Access::Admin, &h).unwrap();
    assert_eq!(t.role, Access::Admin);
    assert!(matches!(
        store.create_token("alice", Access::Viewer, &hash_token("other")),
        Err(StoreError::NameTaken(_))
    ));
    assert_eq!(store.token_by_hash(&h).unwrap().unwrap().name, "alice");
    assert!(store.token_by_hash(&hash_token("nope")).unwrap().is_none());
    store
        .create_token("bob", Access::Responder, &hash_token("b"))
        .unwrap();
    let names: Vec<String> = store
        .list_tokens()
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, vec!["alice", "bob"]);
    assert!(store.revoke_token("bob").unwrap());
    assert!(!store.revoke_token("bob").unwrap(), "already revoked");
    assert!(!store.revoke_token("carol").unwrap(), "unknown");
    assert!(store.token_by_name("bob").unwrap().unwrap().revoked);
    // put_token replaces the secret and un-revokes (the embedded bootstrap).
    store
        .put_token("bob", Access::Commander, &hash_token("b2"))
        .unwrap();
    let bob = store.token_by_name("bob").unwrap().unwrap();
    assert!(!bob.revoked);
    assert_eq!(bob.role, Access::Commander);
    assert!(store.token_by_hash(&hash_token("b")).unwrap().is_none());
    store.close();
}

#[tokio::test]
async fn two_stores_on_one_file_never_share_a_seq_and_only_one_server_may_hold_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let one = SqliteStore::open(&path).unwrap();
    let two = SqliteStore::open(&path).unwrap();
    let inc = Uuid::new_v4();
    let mut seqs = Vec::new();
    for i in 0..20 {
        let store = if i % 2 == 0 { &one } else { &two };
        let id = Uuid::new_v4();
        let a = append(store, id, vec![note(inc, id, "x")]).await.unwrap();
        seqs.push(a.events[0].seq());
    }
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());

    let server = SqliteStore::open_exclusive(&path).unwrap();
    let err = SqliteStore::open_exclusive(&path).unwrap_err();
    assert!(err.to_string().contains("already using"), "{err}");
    server.close();
    // Released on close: the next server may start.
    SqliteStore::open_exclusive(&path).unwrap().close();
    one.close();
    two.close();
}

/// The key system ids are derived under is made once per database, kept
/// across reopening, and differs between databases.
#[test]
fn the_system_id_key_is_per_database_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let key = SqliteStore::open(&a).unwrap().system_key().unwrap();
    assert_eq!(SqliteStore::open(&a).unwrap().system_key().unwrap(), key);
    let other = SqliteStore::open(dir.path().join("b.db"))
        .unwrap()
        .system_key()
        .unwrap();
    assert_ne!(other, key);
    assert_ne!(key, [0; 32]);
}
