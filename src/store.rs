//! The store, in two halves: the append-only log every incident is folded
//! from ([`EventLog`]), and the credentials ([`TokenStore`]: API tokens, keys).
//!
//! They are separate contracts because their users are: the command pipeline,
//! the live stream and the status page only need the log; authentication only
//! needs the tokens. A test double or another backend implements just the half
//! it is about. [`sqlite::SqliteStore`] is the embedded implementation of both
//! (WAL, `synchronous=FULL`, group commit); [`Store`] carries both halves of
//! one database to the server.
//!
//! Why appends are *queued* rather than called: the server decides a command
//! under a lock that also fixes the order of appends, but it must not hold that
//! lock across an fsync, or every command would pay for its own fsync and
//! throughput would collapse to the disk's sync rate. So [`EventLog::enqueue`]
//! only puts the batch in line (cheap, never blocks on I/O) and returns a
//! [`Ticket`]; the writer commits everything that is waiting in one
//! transaction and answers every ticket after the fsync. An answered ticket
//! means the events are on disk.

pub mod location;
pub mod migrations;
pub mod postgres;
pub mod sqlite;

use crate::domain::command::Access;
use crate::domain::event::{Event, Recorded};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio::sync::oneshot;
use uuid::Uuid;

pub use location::Location;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// One committed event: the parsed record and its JSON, serialised once at
/// commit time and shared (not re-serialised) by every reader and subscriber.
#[derive(Debug)]
pub struct StoredEvent {
    /// The command the event was appended for (its idempotency key).
    pub command: Uuid,
    pub recorded: Recorded,
    /// `serde_json` text of [`Self::recorded`].
    pub json: Arc<str>,
}

impl StoredEvent {
    pub fn new(command: Uuid, recorded: Recorded, json: Arc<str>) -> StoredEvent {
        StoredEvent {
            command,
            recorded,
            json,
        }
    }

    pub fn seq(&self) -> u64 {
        self.recorded.seq
    }
}

/// The answer to one append.
#[derive(Clone, Debug)]
pub struct Appended {
    /// The events as stored: new ones, or for a duplicate the ones stored the first time.
    pub events: Vec<Arc<StoredEvent>>,
    /// True when the command (or all of its event ids) was already in the log.
    pub duplicate: bool,
}

/// Why the store failed. Never the client's fault: the server maps every one
/// of these to `internal` (500/503) and logs it, except [`StoreError::NameTaken`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// Several servers share the log (PostgreSQL replicas) and another one
    /// committed after this append was decided: it was decided against a
    /// stale model, so nothing was written and the server decides it again.
    #[error(
        "the log moved on: decided against seq {base}, but another server has since committed a conflicting event at seq {foreign}"
    )]
    Raced { base: u64, foreign: u64 },
    #[error("stored event is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("a token named {0:?} already exists")]
    NameTaken(String),
    #[error("this key is already registered as {0:?}")]
    KeyTaken(String),
    #[error("database schema version {found} is newer than this build understands ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("another warroom server is already using {0}")]
    InUse(String),
    #[error("the store's writer has stopped")]
    Closed,
    #[error("{0}")]
    Corrupt(String),
}

/// One command's events on their way into the log.
#[derive(Clone, Debug)]
pub struct Append {
    /// The command id: the idempotency key.
    pub command: Uuid,
    /// The digest of the request the id was first used for (see
    /// [`EventLog::command_digest`]); `None` for the system's own events.
    pub digest: Option<String>,
    pub events: Vec<Event>,
    /// The seq of the log the decision was made against, when other servers
    /// may write the same log: if another server has committed past it an
    /// event that conflicts with these ([`crate::domain::conflict`]: the same
    /// incident, unless both are notes; any declaration or alert for a
    /// declaration or alert), the append is refused with
    /// [`StoreError::Raced`] rather than written blindly. `None`: write whatever the log holds (a single writer, or
    /// events that do not depend on the model, like copied ones).
    pub base: Option<u64>,
}

/// Resolves when the append is durable (or failed).
pub type Ticket = oneshot::Receiver<Result<Appended, StoreError>>;

/// Called by the writer after each commit with the newly stored events, in
/// seq order, before any caller of that batch is answered — so whatever the
/// hook updates (the read model, the live broadcast) already shows an event by
/// the time its author gets a 2xx.
pub type CommitHook = Box<dyn Fn(&[Arc<StoredEvent>]) + Send + Sync>;

/// A stored API token (never the secret, only its SHA-256).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    pub name: String,
    pub role: Access,
    pub hash: String,
    pub created_at: DateTime<Utc>,
    pub revoked: bool,
}

/// A registered SSH public key: whoever proves they hold its private half
/// signs in to the SSH seat as `name`, with `role` — the same names and roles
/// as tokens, so the key's name is the actor of every event its sessions write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRecord {
    pub name: String,
    pub role: Access,
    /// `SHA256:…` (base64, unpadded), as `ssh-keygen -l` prints it: what
    /// a login is looked up by.
    pub fingerprint: String,
    /// The public key in OpenSSH form (`ssh-ed25519 AAAA… comment`).
    pub public_key: String,
    pub created_at: DateTime<Utc>,
    pub revoked: bool,
}

/// The event log. Reads are blocking calls (run them on a blocking thread
/// from async code); appends go through [`EventLog::enqueue`].
pub trait EventLog: Send + Sync + 'static {
    /// Queues one command's events for the next group commit. Idempotent: when
    /// the command id (or every event id) is already stored, the ticket answers
    /// with the stored events and `duplicate: true`, and nothing is written.
    /// `seq` and `recorded_at` are assigned inside the write transaction.
    fn enqueue(&self, command: Uuid, events: Vec<Event>) -> Ticket {
        self.enqueue_digested(command, None, events)
    }

    /// [`EventLog::enqueue`], also storing (in the same transaction) the
    /// digest of the request the command id was first used for, so a later
    /// reuse of the id can be compared with it ([`EventLog::command_digest`]).
    fn enqueue_digested(
        &self,
        command: Uuid,
        digest: Option<String>,
        events: Vec<Event>,
    ) -> Ticket {
        self.submit(Append {
            command,
            digest,
            events,
            base: None,
        })
    }

    /// Queues one append (the general form of [`EventLog::enqueue`]).
    fn submit(&self, append: Append) -> Ticket;

    /// The highest seq committed by *another* server on the same log that
    /// this store has handed to its commit hook (0 when the log has one
    /// writer, as SQLite does). A model built from the hook is stale for
    /// deciding while this is above the seq it was built at.
    fn foreign_head(&self) -> u64 {
        0
    }

    /// Resolves once every event committed (by anyone) before the call has
    /// been handed to the commit hook. With one writer that is already so.
    fn catch_up(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        let _ = tx.send(());
        rx
    }

    /// Whether other servers may write this log too (PostgreSQL replicas).
    fn shared(&self) -> bool {
        false
    }

    /// Whether this process holds the log-wide lease `name` now, taking it if
    /// it is free. Work that must run once per deployment (the scheduler, the
    /// delivery worker) runs only while its lease is held. A log with a single
    /// server always grants it.
    fn lease(&self, name: &str) -> Result<bool, StoreError> {
        let _ = name;
        Ok(true)
    }

    /// Whether the database answers now (for `/readyz`).
    fn ping(&self) -> Result<(), StoreError> {
        self.latest_seq().map(|_| ())
    }

    /// The digest stored with a command id (`None`: never stored, or stored
    /// without one — by the scheduler, or before digests were kept).
    fn command_digest(&self, command: Uuid) -> Result<Option<String>, StoreError>;

    /// The per-database secret system ids are derived under
    /// ([`crate::domain::ids::SystemIds`]); created with the database, never
    /// served by any endpoint.
    fn system_key(&self) -> Result<[u8; 32], StoreError>;

    /// Resolves once every append queued before it has been answered.
    fn flush(&self) -> oneshot::Receiver<()>;

    /// Installs the hook called after every commit (once; a second call fails).
    fn set_commit_hook(&self, hook: CommitHook) -> Result<(), StoreError>;

    /// Up to `limit` events with `seq > after`, oldest first.
    fn events_after(&self, after: u64, limit: usize) -> Result<Vec<Arc<StoredEvent>>, StoreError>;

    /// Up to `limit` events of one incident with `seq > after`, oldest first.
    fn incident_events(
        &self,
        incident: Uuid,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Arc<StoredEvent>>, StoreError>;

    /// The events stored for a command id (empty when it was never stored).
    fn command_events(&self, command: Uuid) -> Result<Vec<Arc<StoredEvent>>, StoreError>;

    /// The highest seq committed (0 for an empty log).
    fn latest_seq(&self) -> Result<u64, StoreError>;

    /// Every command id with an event at or below `seq` (repeats possible),
    /// or `None` when this log cannot list them cheaply. A server started
    /// from a checkpoint reads them in the background, so that deciding a
    /// command soon no longer needs a store lookup of its id.
    fn command_ids_through(&self, seq: u64) -> Result<Option<Vec<Uuid>>, StoreError> {
        let _ = seq;
        Ok(None)
    }

    /// Stores a checkpoint of the read model as of `seq` (whose event has
    /// id `event_id`), replacing older ones. The default keeps none.
    fn save_checkpoint(&self, seq: u64, event_id: Uuid, data: &[u8]) -> Result<(), StoreError> {
        let _ = (seq, event_id, data);
        Ok(())
    }

    /// The newest checkpoint, if any: `(seq, event id, data)`.
    fn load_checkpoint(&self) -> Result<Option<(u64, Uuid, Vec<u8>)>, StoreError> {
        Ok(None)
    }

    /// Commits what is queued and stops the writer; later appends fail with [`StoreError::Closed`].
    fn close(&self);
}

/// The credentials: API tokens (and the keys kept beside them). Blocking
/// calls, like the log's reads.
pub trait TokenStore: Send + Sync + 'static {
    /// Stores a new token; [`StoreError::NameTaken`] when the name exists (revoked or not).
    fn create_token(&self, name: &str, role: Access, hash: &str)
    -> Result<TokenRecord, StoreError>;

    /// Creates the token, or replaces the secret and role of the one with that
    /// name (un-revoking it). Only for the embedded single-user bootstrap.
    fn put_token(&self, name: &str, role: Access, hash: &str) -> Result<TokenRecord, StoreError>;

    /// The token with this SHA-256, revoked or not.
    fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;

    fn token_by_name(&self, name: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// Every token, oldest first.
    fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;

    /// Revokes by name; false when there is no live token of that name.
    fn revoke_token(&self, name: &str) -> Result<bool, StoreError>;

    /// Registers an SSH key; [`StoreError::NameTaken`] when a key of that name
    /// exists (revoked or not), [`StoreError::KeyTaken`] when the key itself is
    /// already registered under another name.
    fn create_key(
        &self,
        name: &str,
        role: Access,
        fingerprint: &str,
        public_key: &str,
    ) -> Result<KeyRecord, StoreError>;

    /// The SSH key with this fingerprint, revoked or not.
    fn key_by_fingerprint(&self, fingerprint: &str) -> Result<Option<KeyRecord>, StoreError>;

    /// Every SSH key, oldest first.
    fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError>;

    /// Revokes an SSH key by name; false when there is no live key of that name.
    fn revoke_key(&self, name: &str) -> Result<bool, StoreError>;
}

/// Both halves of one database, as the server is given them.
#[derive(Clone)]
pub struct Store {
    pub log: Arc<dyn EventLog>,
    pub tokens: Arc<dyn TokenStore>,
}

impl Store {
    /// One value that is both halves (a real database, or a test double of both).
    pub fn of<S: EventLog + TokenStore>(store: Arc<S>) -> Store {
        Store {
            log: store.clone(),
            tokens: store,
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

/// Appends and waits until durable.
pub async fn append(
    store: &dyn EventLog,
    command: Uuid,
    events: Vec<Event>,
) -> Result<Appended, StoreError> {
    store
        .enqueue(command, events)
        .await
        .map_err(|_| StoreError::Closed)?
}

/// The SHA-256 of a token's secret, hex. Only this is stored.
pub fn hash_token(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A new secret: `wr_` and 32 random bytes in hex (64 characters).
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    let mut out = String::with_capacity(67);
    out.push_str("wr_");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}
