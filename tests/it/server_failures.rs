//! When the store cannot commit: the author gets a 503 (`internal`, with
//! Retry-After), nothing is stored, and the server's decision model forgets
//! the failed events, so the same command succeeds when retried.
#![allow(clippy::unwrap_used)]

use crate::support::server::{Srv, cmd_with_id, http, policy};
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::oneshot;
use uuid::Uuid;
use warroom::domain::command::Access;
use warroom::store::{
    Append, CommitHook, EventLog, SqliteStore, Store, StoreError, StoredEvent, Ticket,
};

/// The real SQLite log, whose next append can be made to fail like a full
/// disk. Only the log: the tokens are the real store's, untouched.
struct Flaky {
    inner: Arc<SqliteStore>,
    fail_next: AtomicBool,
}

impl EventLog for Flaky {
    fn submit(&self, append: Append) -> Ticket {
        if self.fail_next.swap(false, Ordering::SeqCst) {
            let (tx, rx) = oneshot::channel();
            let _ = tx.send(Err(StoreError::Corrupt(
                "disk I/O error (simulated)".into(),
            )));
            return rx;
        }
        self.inner.submit(append)
    }
    fn command_digest(&self, command: Uuid) -> Result<Option<String>, StoreError> {
        self.inner.command_digest(command)
    }
    fn system_key(&self) -> Result<[u8; 32], StoreError> {
        self.inner.system_key()
    }
    fn flush(&self) -> oneshot::Receiver<()> {
        self.inner.flush()
    }
    fn set_commit_hook(&self, hook: CommitHook) -> Result<(), StoreError> {
        self.inner.set_commit_hook(hook)
    }
    fn events_after(&self, after: u64, limit: usize) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        self.inner.events_after(after, limit)
    }
    fn incident_events(
        &self,
        incident: Uuid,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        self.inner.incident_events(incident, after, limit)
    }
    fn command_events(&self, command: Uuid) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        self.inner.command_events(command)
    }
    fn latest_seq(&self) -> Result<u64, StoreError> {
        self.inner.latest_seq()
    }
    fn close(&self) {
        self.inner.close()
    }
}

#[tokio::test]
async fn a_failed_commit_is_a_503_stores_nothing_and_the_retry_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Arc::new(SqliteStore::open(dir.path().join("w.db")).unwrap());
    let store = Arc::new(Flaky {
        inner: sqlite.clone(),
        fail_next: AtomicBool::new(false),
    });
    let mut config = warroom::server::ServerConfig::new(dir.path().join("w.db"), "127.0.0.1:0");
    config.policy = policy(false);
    config.rate_limit = None;
    config.bootstrap_token = Some(("admin".into(), Access::Admin));
    let server = warroom::server::start_with_store(
        config,
        Store {
            log: store.clone(),
            tokens: sqlite,
        },
    )
    .await
    .unwrap();
    let srv = Srv {
        url: server.url(),
        admin: server.local_token().unwrap().to_string(),
        server: Some(server),
        dir,
        http: http(),
    };
    let admin = srv.admin.clone();
    let inc = srv.declare(&admin, "Disk trouble", "P1").await;

    store.fail_next.store(true, Ordering::SeqCst);
    let id = Uuid::new_v4();
    let ack = cmd_with_id(id, Some(&inc), json!({ "type": "acknowledge" }));
    let resp = srv
        .http
        .post(format!("{}/api/v1/commands", srv.url))
        .bearer_auth(&admin)
        .json(&ack)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "1");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "internal");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("nothing was stored"),
        "{body}"
    );
    assert_eq!(
        srv.all_events(&admin).await.len(),
        2,
        "only the declaration"
    );

    // The retry is decided afresh: not "already acknowledged", not a duplicate.
    let (status, body) = srv.command(&admin, ack).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["events"][0]["seq"], 3);
    let (_, detail) = srv.get(&admin, &format!("/api/v1/incidents/{inc}")).await;
    assert_eq!(
        detail["incident"]["incident"]["acknowledged"]["by"],
        "admin"
    );
    srv.stop().await;
}
