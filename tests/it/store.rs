//! The store suite: one set of tests, run against both implementations —
//! SQLite on real files and PostgreSQL on a real server (see
//! `tests/pg_support`: `WARROOM_TEST_PG`, or a throwaway cluster; under
//! `CI=true` a missing PostgreSQL fails these tests, elsewhere they say what
//! they skipped). Seqs, idempotency, group commit, reads, tokens, migrations
//! and reopening; then what only one backend has (SQLite's file lock and WAL,
//! PostgreSQL's several writers on one log).
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tempfile::TempDir;
use uuid::Uuid;
use warroom::domain::command::Access;
use warroom::domain::event::{Event, EventBody, NoteKind};
use warroom::store::{
    Append, EventLog, PgStore, SqliteStore, StoreError, TokenStore, append, hash_token,
};

/// Both halves of one store, as one value.
trait Both: EventLog + TokenStore {}
impl<T: EventLog + TokenStore> Both for T {}

/// Where a test's database lives; `open` may be called again to reopen it.
enum Db {
    Sqlite(#[allow(dead_code)] TempDir, PathBuf),
    Postgres(String),
}

impl Db {
    fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/w.db");
        Db::Sqlite(dir, path)
    }

    fn postgres(test: &str) -> Option<Db> {
        crate::support::pg::fresh_db(test).map(Db::Postgres)
    }

    fn open(&self) -> Arc<dyn Both> {
        match self {
            Db::Sqlite(_, path) => Arc::new(SqliteStore::open(path).unwrap()),
            Db::Postgres(url) => Arc::new(PgStore::open(url).unwrap()),
        }
    }
}

/// Runs each listed suite test (an `async fn(Db)`) once per backend.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Db::sqlite()).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::Db::postgres(stringify!($name)) else {
                        return;
                    };
                    super::$name(db).await;
                }
            )*
        }
    };
}

suite!(
    appends_get_gap_free_seqs_and_repeats_are_stored_once,
    concurrent_appends_share_commits_and_every_caller_is_answered_in_order,
    reads_page_by_seq_and_by_incident_and_survive_reopening,
    tokens_are_stored_by_hash_and_names_are_unique,
    ssh_keys_are_found_by_fingerprint_and_revoked_by_name,
    the_system_id_key_survives_reopening,
    checkpoints_are_kept_only_while_the_log_still_has_their_event,
    command_digests_are_kept_with_the_first_append,
);

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

async fn appends_get_gap_free_seqs_and_repeats_are_stored_once(db: Db) {
    let store = db.open();
    assert_eq!(store.latest_seq().unwrap(), 0);
    let inc = Uuid::new_v4();
    let first = append(&*store, inc, vec![declared(inc)]).await.unwrap();
    assert!(!first.duplicate);
    assert_eq!(first.events[0].seq(), 1);

    let cmd = Uuid::new_v4();
    let two = vec![
        note(inc, cmd, "a"),
        note(inc, Uuid::new_v5(&cmd, b"1"), "b"),
    ];
    let stored = append(&*store, cmd, two.clone()).await.unwrap();
    assert_eq!(
        stored.events.iter().map(|e| e.seq()).collect::<Vec<_>>(),
        vec![2, 3]
    );
    // Same command id again: the original events, nothing new.
    let again = append(&*store, cmd, two).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(
        again.events.iter().map(|e| e.seq()).collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert_eq!(again.events[0].recorded, stored.events[0].recorded);
    // A different command id carrying an already stored event id: also a duplicate.
    let dup = append(&*store, Uuid::new_v4(), vec![note(inc, cmd, "a")])
        .await
        .unwrap();
    assert!(dup.duplicate);
    // One command carrying one event id twice is refused, and stores nothing.
    let twice = Uuid::new_v4();
    let err = append(
        &*store,
        twice,
        vec![note(inc, twice, "x"), note(inc, twice, "y")],
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("same event id twice"), "{err}");
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

async fn concurrent_appends_share_commits_and_every_caller_is_answered_in_order(db: Db) {
    let store = db.open();
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

async fn reads_page_by_seq_and_by_incident_and_survive_reopening(db: Db) {
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    {
        let store = db.open();
        append(&*store, a, vec![declared(a)]).await.unwrap();
        append(&*store, b, vec![declared(b)]).await.unwrap();
        for i in 0..10 {
            let inc = if i % 2 == 0 { a } else { b };
            let id = Uuid::new_v4();
            append(&*store, id, vec![note(inc, id, &format!("{i}"))])
                .await
                .unwrap();
        }
        store.close();
    }
    let store = db.open();
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
    let more = append(&*store, id, vec![note(a, id, "after reopen")])
        .await
        .unwrap();
    assert_eq!(more.events[0].seq(), 13);
    store.close();
}

/// The SSH seat signs a key in by its fingerprint; a name or a key is
/// registered once; revoking is by name and happens once.
async fn ssh_keys_are_found_by_fingerprint_and_revoked_by_name(db: Db) {
    let store = db.open();
    let k = store
        .create_key(
            "alice",
            Access::Commander,
            "SHA256:aaa",
            "ssh-ed25519 AAAA a",
        )
        .unwrap();
    assert!(!k.revoked);
    assert!(matches!(
        store.create_key("alice", Access::Viewer, "SHA256:bbb", "ssh-ed25519 BBBB b"),
        Err(StoreError::NameTaken(_))
    ));
    assert!(matches!(
        store.create_key("bob", Access::Viewer, "SHA256:aaa", "ssh-ed25519 AAAA a"),
        Err(StoreError::KeyTaken(name)) if name == "alice"
    ));
    let found = store.key_by_fingerprint("SHA256:aaa").unwrap().unwrap();
    assert_eq!(
        (found.name.as_str(), found.role),
        ("alice", Access::Commander)
    );
    assert!(store.key_by_fingerprint("SHA256:zzz").unwrap().is_none());
    store
        .create_key("bob", Access::Viewer, "SHA256:bbb", "ssh-ed25519 BBBB b")
        .unwrap();
    let names: Vec<String> = store
        .list_keys()
        .unwrap()
        .into_iter()
        .map(|k| k.name)
        .collect();
    assert_eq!(names, vec!["alice", "bob"]);
    assert!(store.revoke_key("bob").unwrap());
    assert!(!store.revoke_key("bob").unwrap(), "already revoked");
    assert!(!store.revoke_key("carol").unwrap(), "unknown");
    assert!(
        store
            .key_by_fingerprint("SHA256:bbb")
            .unwrap()
            .unwrap()
            .revoked
    );
    store.close();
}

async fn tokens_are_stored_by_hash_and_names_are_unique(db: Db) {
    let store = db.open();
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

/// The key system ids are derived under is made once per database and kept
/// across reopening.
async fn the_system_id_key_survives_reopening(db: Db) {
    let key = db.open().system_key().unwrap();
    assert_ne!(key, [0; 32]);
    assert_eq!(db.open().system_key().unwrap(), key);
}

async fn checkpoints_are_kept_only_while_the_log_still_has_their_event(db: Db) {
    let store = db.open();
    assert!(store.load_checkpoint().unwrap().is_none());
    let inc = Uuid::new_v4();
    let a = append(&*store, inc, vec![declared(inc)]).await.unwrap();
    let ev = a.events[0].recorded.event.id;
    store.save_checkpoint(1, ev, b"one").unwrap();
    let id = Uuid::new_v4();
    append(&*store, id, vec![note(inc, id, "n")]).await.unwrap();
    store.save_checkpoint(2, id, b"two").unwrap();
    assert_eq!(
        store.load_checkpoint().unwrap(),
        Some((2, id, b"two".to_vec()))
    );
    // One that names another event at its seq is not used.
    store.save_checkpoint(2, Uuid::new_v4(), b"bad").unwrap();
    assert_eq!(store.load_checkpoint().unwrap(), None);
    store.close();
}

async fn command_digests_are_kept_with_the_first_append(db: Db) {
    let store = db.open();
    let inc = Uuid::new_v4();
    let id = Uuid::new_v4();
    let t = store.submit(Append {
        command: id,
        digest: Some("d1".into()),
        events: vec![note(inc, id, "x")],
        base: None,
    });
    t.await.unwrap().unwrap();
    // A repeat with another digest stores nothing and keeps the first one.
    let again = store
        .enqueue_digested(id, Some("d2".into()), vec![note(inc, id, "x")])
        .await
        .unwrap()
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(store.command_digest(id).unwrap().as_deref(), Some("d1"));
    assert_eq!(store.command_digest(Uuid::new_v4()).unwrap(), None);
    store.close();
}

// ---- SQLite only: the file, its lock, its mode ----

#[tokio::test]
async fn sqlite_files_are_wal_with_a_schema_version() {
    let db = Db::sqlite();
    let store = db.open();
    append(&*store, Uuid::new_v4(), vec![declared(Uuid::new_v4())])
        .await
        .unwrap();
    store.close();
    let Db::Sqlite(_, path) = &db else {
        unreachable!()
    };
    let conn = rusqlite::Connection::open(path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, warroom::store::migrations::MIGRATIONS.len() as i64);
}

#[test]
fn a_sqlite_database_from_a_newer_build_is_refused() {
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

#[test]
fn the_system_id_key_differs_between_databases() {
    let dir = tempfile::tempdir().unwrap();
    let a = SqliteStore::open(dir.path().join("a.db"))
        .unwrap()
        .system_key()
        .unwrap();
    let b = SqliteStore::open(dir.path().join("b.db"))
        .unwrap()
        .system_key()
        .unwrap();
    assert_ne!(a, b);
}

// ---- PostgreSQL only: several writers on one log, moving up from SQLite ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warroom_migrate_copies_a_sqlite_log_exactly_and_refuses_a_full_target() {
    let Some(Db::Postgres(url)) = Db::postgres("warroom_migrate_copies_a_sqlite_log_exactly")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let sqlite = SqliteStore::open(&path).unwrap();
    let inc = Uuid::new_v4();
    append(&sqlite, inc, vec![declared(inc)]).await.unwrap();
    for i in 0..30 {
        let id = Uuid::new_v4();
        sqlite
            .enqueue_digested(id, Some(format!("d{i}")), vec![note(inc, id, "n")])
            .await
            .unwrap()
            .unwrap();
    }
    sqlite
        .create_token("alice", Access::Commander, &hash_token("wr_a"))
        .unwrap();
    sqlite
        .create_token("bob", Access::Viewer, &hash_token("wr_b"))
        .unwrap();
    sqlite.revoke_token("bob").unwrap();
    let key = sqlite.system_key().unwrap();
    let source = sqlite.events_after(0, 1000).unwrap();
    sqlite.close();
    // The delivery ledger: routed through seq 31, one delivery sent, one pending.
    let intent = |n: u8| -> warroom::domain::routing::Intent {
        serde_json::from_value(serde_json::json!({
            "id": Uuid::from_u128(u128::from(n)), "about": Uuid::from_u128(100 + u128::from(n)), "incident": inc,
            "channel": "audit", "kind": "webhook", "target": "", "what": "note",
            "order_key": format!("audit/{inc}"), "incident_key": "INC-1", "title": "t",
            "severity": "P1", "pd_severity": "critical", "summary": "s", "text": "t",
            "event": source[0].recorded.event
        }))
        .unwrap()
    };
    {
        use warroom::notify::ledger::{Ledger, State};
        let mut ledger = Ledger::open(&path).unwrap();
        let now = chrono::Utc::now();
        ledger
            .record(&[(2, intent(1)), (3, intent(2))], &[], 31, 5, now)
            .unwrap();
        ledger
            .settle(Uuid::from_u128(1), 1, State::Sent, None, "204")
            .unwrap();
    }

    let migrate = |to: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
            .args(["migrate", "--from"])
            .arg(&path)
            .args(["--to", to])
            .output()
            .unwrap()
    };
    let out = migrate(&url);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("copied 31 events (seq 1..31), 2 tokens"),
        "{said}"
    );
    assert!(said.contains("2 notification deliveries"), "{said}");
    // The moved deployment continues the ledger: nothing resent, nothing dropped.
    {
        use warroom::notify::ledger::State;
        let ledger = warroom::notify::ledger_pg::PgLedger::open(&url)
            .await
            .unwrap();
        assert_eq!(ledger.position().await.unwrap(), 31);
        assert_eq!(
            ledger.state(Uuid::from_u128(1)).await.unwrap(),
            Some((State::Sent, 1))
        );
        let pending = ledger.pending(10).await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].intent, intent(2));
    }

    let pg = PgStore::open(&url).unwrap();
    let copied = pg.events_after(0, 1000).unwrap();
    assert_eq!(copied.len(), source.len());
    for (a, b) in source.iter().zip(&copied) {
        assert_eq!(a.json, b.json, "byte for byte");
        assert_eq!(a.command, b.command);
    }
    assert_eq!(pg.latest_seq().unwrap(), 31);
    assert_eq!(pg.system_key().unwrap(), key, "derived ids stay the same");
    let last = source.last().unwrap().command;
    assert_eq!(pg.command_digest(last).unwrap().as_deref(), Some("d29"));
    let tokens = pg.list_tokens().unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(tokens.iter().any(|t| t.name == "bob" && t.revoked));
    assert_eq!(
        pg.token_by_hash(&hash_token("wr_a")).unwrap().unwrap().name,
        "alice"
    );
    // The log continues after the copy.
    let id = Uuid::new_v4();
    let next = append(&*Arc::new(pg), id, vec![note(inc, id, "after")])
        .await
        .unwrap();
    assert_eq!(next.events[0].seq(), 32);

    // A second copy into the same database would merge two logs: refused.
    let out = migrate(&url);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the target database is not empty"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_on_one_postgres_log_share_one_gap_free_seq_and_follow_each_other() {
    let Some(Db::Postgres(url)) = Db::postgres("two_writers_on_one_postgres_log") else {
        return;
    };
    let (a, b) = (PgStore::open(&url).unwrap(), PgStore::open(&url).unwrap());
    let seen_by_b = Arc::new(Mutex::new(Vec::new()));
    {
        let seen = seen_by_b.clone();
        b.set_commit_hook(Box::new(move |events| {
            seen.lock().unwrap().extend(events.iter().map(|e| e.seq()));
        }))
        .unwrap();
    }
    let inc = Uuid::new_v4();
    let mut tickets = Vec::new();
    for i in 0..200 {
        let store = if i % 2 == 0 { &a } else { &b };
        let id = Uuid::new_v4();
        tickets.push(store.enqueue(id, vec![note(inc, id, "x")]));
    }
    let mut seqs = Vec::new();
    for t in tickets {
        seqs.extend(t.await.unwrap().unwrap().events.iter().map(|e| e.seq()));
    }
    seqs.sort();
    assert_eq!(
        seqs,
        (1..=200).collect::<Vec<_>>(),
        "gap-free, no seq twice"
    );
    // B's hook sees A's commits too (woken by NOTIFY), once each, in order.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while seen_by_b.lock().unwrap().len() < 200 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(*seen_by_b.lock().unwrap(), (1..=200).collect::<Vec<_>>());
    assert!(b.foreign_head() > 0, "B knows A wrote");

    // A change decided against a seq that A has since moved past, on an
    // incident A wrote to since, is refused, and nothing is written.
    let stale = b.foreign_head() - 1;
    let ack = |incident: Uuid, id: Uuid| Event {
        body: EventBody::Acknowledged,
        ..note(incident, id, "")
    };
    let id = Uuid::new_v4();
    let err = b
        .submit(Append {
            command: id,
            digest: None,
            events: vec![ack(inc, id)],
            base: Some(stale),
        })
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, StoreError::Raced { .. }), "{err}");
    assert!(b.command_events(id).unwrap().is_empty());
    // Decided against the head: stored.
    let fresh = b
        .submit(Append {
            command: id,
            digest: None,
            events: vec![ack(inc, id)],
            base: Some(b.foreign_head()),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fresh.events[0].seq(), 201);
    // What A's commits did not touch stands, however stale: a change to
    // another incident, and a note on this one (A wrote only notes there, and
    // notes commute with notes; the acknowledgement above is B's own).
    let other = Uuid::new_v4();
    for (id, ev) in [Uuid::new_v4(), Uuid::new_v4()].into_iter().zip([
        ack(other, Uuid::nil()),
        note(inc, Uuid::nil(), "stale note"),
    ]) {
        let stored = b
            .submit(Append {
                command: id,
                digest: None,
                events: vec![Event { id, ..ev }],
                base: Some(stale),
            })
            .await
            .unwrap()
            .unwrap();
        assert!(!stored.duplicate);
    }
    // A note decided before a foreign change to its incident is refused.
    let id = Uuid::new_v4();
    let changed = a
        .submit(Append {
            command: id,
            digest: None,
            events: vec![ack(inc, id)],
            base: None,
        })
        .await
        .unwrap()
        .unwrap();
    let before = changed.events[0].seq() - 1;
    b.catch_up().await.unwrap();
    let id = Uuid::new_v4();
    let err = b
        .submit(Append {
            command: id,
            digest: None,
            events: vec![note(inc, id, "decided before the change")],
            base: Some(before),
        })
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, StoreError::Raced { .. }), "{err}");

    // The same command id queued on both at once is stored once.
    let id = Uuid::new_v4();
    let (ta, tb) = (
        a.enqueue(id, vec![note(inc, id, "once")]),
        b.enqueue(id, vec![note(inc, id, "once")]),
    );
    let (ra, rb) = (ta.await.unwrap().unwrap(), tb.await.unwrap().unwrap());
    assert_eq!(ra.events[0].seq(), rb.events[0].seq());
    assert!(
        ra.duplicate != rb.duplicate,
        "one stored it, the other found it"
    );
    assert_eq!(a.command_events(id).unwrap().len(), 1);
    a.close();
    b.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_lease_holder_at_a_time_and_the_lease_is_free_when_it_closes() {
    let Some(Db::Postgres(url)) = Db::postgres("one_lease_holder_at_a_time") else {
        return;
    };
    let a = PgStore::open(&url).unwrap();
    let b = PgStore::open(&url).unwrap();
    assert!(a.lease("scheduler").unwrap());
    assert!(a.lease("scheduler").unwrap(), "held stays held");
    assert!(!b.lease("scheduler").unwrap());
    assert!(
        b.lease("delivery").unwrap(),
        "another lease is another lock"
    );
    drop(a);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !b.lease("scheduler").unwrap() {
        assert!(
            std::time::Instant::now() < deadline,
            "the lease never moved"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_schema_from_a_newer_build_is_refused() {
    let Some(Db::Postgres(url)) = Db::postgres("a_postgres_schema_from_a_newer_build") else {
        return;
    };
    PgStore::open(&url).unwrap().close();
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute("UPDATE warroom_schema SET version = 999")
        .await
        .unwrap();
    let err = PgStore::open(&url).unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found: 999, .. }),
        "{err}"
    );
}
