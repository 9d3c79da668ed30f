//! The embedded SQLite store: WAL, `synchronous=FULL`, and group commit.
//!
//! One dedicated writer thread owns the only connection that appends. It
//! takes every append waiting in its queue, writes them in ONE transaction
//! (one fsync of the WAL for the lot), runs the commit hook, then answers each
//! caller. `seq` is the head of the log read inside that write transaction,
//! plus one: gap-free, and a failed transaction takes its seqs with it.
//!
//! A server opens the file with [`SqliteStore::open_exclusive`], which holds
//! an OS lock on `<db>.server-lock` for as long as the store lives: two
//! servers on one file would each keep their own in-memory model and live
//! feed, and neither would see the other's events. Tools (the token CLI) use
//! [`SqliteStore::open`] and may run beside a server.
//!
//! Readers use a small pool of other connections; WAL lets them read while
//! the writer writes.

use super::migrations;
use super::{
    Append, Appended, CommitHook, EventLog, KeyRecord, StoreError, StoredEvent, Ticket,
    TokenRecord, TokenStore,
};
use crate::domain::command::Access;
use crate::domain::event::{Event, Recorded};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use tokio::sync::oneshot;
use uuid::Uuid;

/// Most appends committed in one transaction. Large enough that 64 busy
/// writers share an fsync, small enough that one transaction stays short.
const MAX_BATCH: usize = 1024;
/// Idle reader connections kept open.
const READ_POOL: usize = 8;

enum Msg {
    Append {
        command: Uuid,
        digest: Option<String>,
        events: Vec<Event>,
        reply: oneshot::Sender<Result<Appended, StoreError>>,
    },
    Flush(oneshot::Sender<()>),
    Close,
}

/// See the module docs.
pub struct SqliteStore {
    path: PathBuf,
    /// Held until [`EventLog::close`] (see [`SqliteStore::open_exclusive`]).
    server_lock: Mutex<Option<std::fs::File>>,
    tx: Mutex<Option<mpsc::Sender<Msg>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    hook: Arc<OnceLock<CommitHook>>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // WAL: readers never block the writer. FULL: a commit is on disk before we answer.
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "{}: could not switch to WAL mode (got {mode})",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating the file and its directory if missing) and migrates the
    /// database, then starts the writer thread.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Corrupt(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let mut conn = connect(&path)?;
        migrations::migrate(&mut conn)?;
        ensure_system_key(&conn)?;
        let (tx, rx) = mpsc::channel();
        let hook: Arc<OnceLock<CommitHook>> = Arc::new(OnceLock::new());
        let writer = {
            let hook = hook.clone();
            std::thread::Builder::new()
                .name("warroom-store-writer".into())
                .spawn(move || Writer::new(conn, hook).run(rx))
                .map_err(|e| StoreError::Corrupt(format!("cannot start the writer thread: {e}")))?
        };
        Ok(SqliteStore {
            path,
            server_lock: Mutex::new(None),
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            hook,
            readers: Mutex::new(Vec::new()),
        })
    }

    /// Like [`SqliteStore::open`], for the one server that serves this file;
    /// fails if another process (or store in this one) already does.
    pub fn open_exclusive(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Corrupt(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".server-lock");
        let lock_path = PathBuf::from(lock_path);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| {
                StoreError::Corrupt(format!("cannot open {}: {e}", lock_path.display()))
            })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::InUse(path.display().to_string()));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(StoreError::Corrupt(format!(
                    "cannot lock {}: {e}",
                    lock_path.display()
                )));
            }
        }
        let store = SqliteStore::open(path)?;
        *store.server_lock.lock().unwrap_or_else(|p| p.into_inner()) = Some(lock);
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn send(&self, msg: Msg) -> Result<(), Msg> {
        let guard = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some(tx) => tx.send(msg).map_err(|e| e.0),
            None => Err(msg),
        }
    }

    /// Runs `f` on a pooled reader connection.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => connect(&self.path)?,
        };
        let out = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < READ_POOL {
            pool.push(conn);
        }
        out
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

/// A seq bound as SQLite's signed integer. Seqs never reach `i64::MAX`, so a
/// larger `after` (a client's `?after=18446744073709551615`) means "after
/// everything"; a plain `as i64` would wrap it to -1, "after nothing", and
/// serve the log from the start.
fn seq_param(after: u64) -> i64 {
    i64::try_from(after).unwrap_or(i64::MAX)
}

/// The name of the system-id key in `secrets`.
const SYSTEM_KEY: &str = "system_ids";

/// Creates the database's system-id key the first time it is opened. `OR
/// IGNORE`: a second process opening the same new file concurrently keeps the
/// first one's key.
fn ensure_system_key(conn: &Connection) -> Result<(), StoreError> {
    let key: [u8; 32] = rand::random();
    conn.execute(
        "INSERT OR IGNORE INTO secrets (name, value) VALUES (?1, ?2)",
        params![SYSTEM_KEY, &key[..]],
    )?;
    Ok(())
}

fn stored_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String)> {
    Ok((row.get(0)?, row.get(1)?))
}

fn to_stored((command, data): (String, String)) -> Result<Arc<StoredEvent>, StoreError> {
    let recorded: Recorded = serde_json::from_str(&data)?;
    let command = Uuid::parse_str(&command)
        .map_err(|e| StoreError::Corrupt(format!("bad command id {command:?}: {e}")))?;
    Ok(Arc::new(StoredEvent::new(
        command,
        recorded,
        Arc::from(data),
    )))
}

fn query_stored(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, stored_from_row)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(to_stored(row?)?);
    }
    Ok(out)
}

fn token_from_row(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<(String, String, String, String, bool)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn to_token(
    (name, role, hash, created_at, revoked): (String, String, String, String, bool),
) -> Result<TokenRecord, StoreError> {
    let role = Access::parse(&role)
        .ok_or_else(|| StoreError::Corrupt(format!("token {name:?} has unknown role {role:?}")))?;
    let created_at = DateTime::parse_from_rfc3339(&created_at)
        .map_err(|e| StoreError::Corrupt(format!("token {name:?}: bad created_at: {e}")))?
        .with_timezone(&Utc);
    Ok(TokenRecord {
        name,
        role,
        hash,
        created_at,
        revoked,
    })
}

const TOKEN_COLUMNS: &str = "SELECT name, role, hash, created_at, revoked FROM tokens";

const KEY_COLUMNS: &str =
    "SELECT name, role, fingerprint, public_key, created_at, revoked FROM ssh_keys";

fn key_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<KeyRecord, StoreError>> {
    let name: String = row.get(0)?;
    let role: String = row.get(1)?;
    let created_at: String = row.get(4)?;
    let fingerprint: String = row.get(2)?;
    let public_key: String = row.get(3)?;
    let revoked: bool = row.get(5)?;
    let Some(role) = Access::parse(&role) else {
        return Ok(Err(StoreError::Corrupt(format!(
            "SSH key {name:?} has unknown role {role:?}"
        ))));
    };
    let created_at = match DateTime::parse_from_rfc3339(&created_at) {
        Ok(t) => t.with_timezone(&Utc),
        Err(e) => {
            return Ok(Err(StoreError::Corrupt(format!(
                "SSH key {name:?}: bad created_at: {e}"
            ))));
        }
    };
    Ok(Ok(KeyRecord {
        name,
        role,
        fingerprint,
        public_key,
        created_at,
        revoked,
    }))
}

impl EventLog for SqliteStore {
    /// `base` is not checked: the file has one server (see
    /// [`SqliteStore::open_exclusive`]), so no one else can move the log.
    fn submit(&self, append: Append) -> Ticket {
        let Append {
            command,
            digest,
            events,
            base: _,
        } = append;
        let (reply, ticket) = oneshot::channel();
        if let Err(Msg::Append { reply, .. }) = self.send(Msg::Append {
            command,
            digest,
            events,
            reply,
        }) {
            let _ = reply.send(Err(StoreError::Closed));
        }
        ticket
    }

    fn flush(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        if let Err(Msg::Flush(tx)) = self.send(Msg::Flush(tx)) {
            let _ = tx.send(());
        }
        rx
    }

    fn set_commit_hook(&self, hook: CommitHook) -> Result<(), StoreError> {
        self.hook
            .set(hook)
            .map_err(|_| StoreError::Corrupt("the commit hook is already set".into()))
    }

    fn events_after(&self, after: u64, limit: usize) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        self.read(|c| {
            query_stored(
                c,
                "SELECT command_id, data FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                params![seq_param(after), limit.min(i64::MAX as usize) as i64],
            )
        })
    }

    fn incident_events(
        &self,
        incident: Uuid,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        self.read(|c| {
            query_stored(
                c,
                "SELECT command_id, data FROM events WHERE incident = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                params![incident.to_string(), seq_param(after), limit.min(i64::MAX as usize) as i64],
            )
        })
    }

    fn command_events(&self, command: Uuid) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        self.read(|c| {
            query_stored(
                c,
                "SELECT command_id, data FROM events WHERE command_id = ?1 ORDER BY seq",
                params![command.to_string()],
            )
        })
    }

    fn command_digest(&self, command: Uuid) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT digest FROM command_digests WHERE command_id = ?1")?
                    .query_row([command.to_string()], |r| r.get(0))
                    .optional()?,
            )
        })
    }

    fn system_key(&self) -> Result<[u8; 32], StoreError> {
        self.read(|c| {
            let value: Vec<u8> = c.query_row(
                "SELECT value FROM secrets WHERE name = ?1",
                [SYSTEM_KEY],
                |r| r.get(0),
            )?;
            value.try_into().map_err(|v: Vec<u8>| {
                StoreError::Corrupt(format!("the system-id key is {} bytes, not 32", v.len()))
            })
        })
    }

    fn save_checkpoint(&self, seq: u64, event_id: Uuid, data: &[u8]) -> Result<(), StoreError> {
        self.read(|c| {
            let tx = c.unchecked_transaction()?;
            tx.execute(
                "INSERT OR REPLACE INTO checkpoints (seq, event_id, data) VALUES (?1, ?2, ?3)",
                params![seq_param(seq), event_id.to_string(), data],
            )?;
            tx.execute("DELETE FROM checkpoints WHERE seq < ?1", [seq_param(seq)])?;
            tx.commit()?;
            Ok(())
        })
    }

    fn load_checkpoint(&self) -> Result<Option<(u64, Uuid, Vec<u8>)>, StoreError> {
        self.read(|c| {
            let row: Option<(i64, String, Vec<u8>)> = c
                .query_row(
                    "SELECT seq, event_id, data FROM checkpoints ORDER BY seq DESC LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            // The event at that seq must still be the one the checkpoint
            // folded last: a restored or rewritten log invalidates it.
            let Some((seq, id, data)) = row else {
                return Ok(None);
            };
            let at: Option<String> = c
                .query_row("SELECT id FROM events WHERE seq = ?1", [seq], |r| r.get(0))
                .optional()?;
            if at.as_deref() != Some(id.as_str()) {
                tracing::warn!(
                    seq,
                    "the checkpoint does not match the log; folding from the start"
                );
                return Ok(None);
            }
            let id = Uuid::parse_str(&id)
                .map_err(|e| StoreError::Corrupt(format!("checkpoint event id {id:?}: {e}")))?;
            Ok(Some((seq as u64, id, data)))
        })
    }

    fn command_ids_through(&self, seq: u64) -> Result<Option<Vec<Uuid>>, StoreError> {
        self.read(|c| {
            // The command index alone (it holds the seq as its rowid): a
            // tenth of the table's bytes, which carry every event's JSON.
            let mut stmt = c.prepare(
                "SELECT command_id FROM events INDEXED BY events_command WHERE seq <= ?1",
            )?;
            let mut rows = stmt.query([seq_param(seq)])?;
            let mut ids = Vec::new();
            let mut last = String::new();
            while let Some(row) = rows.next()? {
                let text = row
                    .get_ref(0)?
                    .as_str()
                    .map_err(|e| StoreError::Corrupt(format!("command id: {e}")))?;
                // In index order: a command's events are adjacent.
                if text == last {
                    continue;
                }
                last.clear();
                last.push_str(text);
                ids.push(
                    Uuid::parse_str(text).map_err(|e| {
                        StoreError::Corrupt(format!("bad command id {text:?}: {e}"))
                    })?,
                );
            }
            Ok(Some(ids))
        })
    }

    fn latest_seq(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            let seq: i64 =
                c.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?;
            Ok(seq as u64)
        })
    }

    fn close(&self) {
        let _ = self.send(Msg::Close);
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        let handle = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            // Never join from the writer itself (the commit hook may drop the
            // last handle to whatever owns this store).
            if h.thread().id() == std::thread::current().id() {
                return;
            }
            if h.join().is_err() {
                tracing::error!("the store writer thread panicked");
            }
        }
        // Nothing more will be written: another server may take the file now.
        self.server_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }
}

impl TokenStore for SqliteStore {
    fn create_token(
        &self,
        name: &str,
        role: Access,
        hash: &str,
    ) -> Result<TokenRecord, StoreError> {
        let created_at = Utc::now();
        self.read(|c| {
            let res = c.execute(
                "INSERT INTO tokens (name, role, hash, created_at, revoked) VALUES (?1, ?2, ?3, ?4, 0)",
                params![name, role.as_str(), hash, created_at.to_rfc3339()],
            );
            match res {
                Ok(_) => Ok(()),
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Err(StoreError::NameTaken(name.to_string()))
                }
                Err(e) => Err(e.into()),
            }
        })?;
        Ok(live_token(name, role, hash, created_at))
    }

    fn put_token(&self, name: &str, role: Access, hash: &str) -> Result<TokenRecord, StoreError> {
        let created_at = Utc::now();
        self.read(|c| {
            c.execute(
                "INSERT INTO tokens (name, role, hash, created_at, revoked) VALUES (?1, ?2, ?3, ?4, 0)
                 ON CONFLICT(name) DO UPDATE SET role = excluded.role, hash = excluded.hash,
                     created_at = excluded.created_at, revoked = 0",
                params![name, role.as_str(), hash, created_at.to_rfc3339()],
            )?;
            Ok(())
        })?;
        Ok(live_token(name, role, hash, created_at))
    }

    fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.read(|c| {
            let row = c
                .prepare_cached(&format!("{TOKEN_COLUMNS} WHERE hash = ?1"))?
                .query_row([hash], token_from_row)
                .optional()?;
            row.map(to_token).transpose()
        })
    }

    fn token_by_name(&self, name: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.read(|c| {
            let row = c
                .prepare_cached(&format!("{TOKEN_COLUMNS} WHERE name = ?1"))?
                .query_row([name], token_from_row)
                .optional()?;
            row.map(to_token).transpose()
        })
    }

    fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached(&format!("{TOKEN_COLUMNS} ORDER BY created_at, name"))?;
            let rows = stmt.query_map([], token_from_row)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(to_token(row?)?);
            }
            Ok(out)
        })
    }

    fn revoke_token(&self, name: &str) -> Result<bool, StoreError> {
        self.read(|c| {
            let n = c.execute(
                "UPDATE tokens SET revoked = 1 WHERE name = ?1 AND revoked = 0",
                [name],
            )?;
            Ok(n > 0)
        })
    }

    fn create_key(
        &self,
        name: &str,
        role: Access,
        fingerprint: &str,
        public_key: &str,
    ) -> Result<KeyRecord, StoreError> {
        let created_at = Utc::now();
        self.read(|c| {
            let holder: Option<String> = c
                .query_row(
                    "SELECT name FROM ssh_keys WHERE fingerprint = ?1",
                    [fingerprint],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(holder) = holder {
                return Err(StoreError::KeyTaken(holder));
            }
            let res = c.execute(
                "INSERT INTO ssh_keys (name, role, fingerprint, public_key, created_at, revoked)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0)",
                params![
                    name,
                    role.as_str(),
                    fingerprint,
                    public_key,
                    created_at.to_rfc3339()
                ],
            );
            match res {
                Ok(_) => Ok(()),
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Err(StoreError::NameTaken(name.to_string()))
                }
                Err(e) => Err(e.into()),
            }
        })?;
        Ok(KeyRecord {
            name: name.to_string(),
            role,
            fingerprint: fingerprint.to_string(),
            public_key: public_key.to_string(),
            created_at,
            revoked: false,
        })
    }

    fn key_by_fingerprint(&self, fingerprint: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!("{KEY_COLUMNS} WHERE fingerprint = ?1"))?
                .query_row([fingerprint], key_from_row)
                .optional()?
                .transpose()
        })
    }

    fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!("{KEY_COLUMNS} ORDER BY created_at, name"))?;
            let rows = stmt.query_map([], key_from_row)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(row??);
            }
            Ok(out)
        })
    }

    fn revoke_key(&self, name: &str) -> Result<bool, StoreError> {
        self.read(|c| {
            let n = c.execute(
                "UPDATE ssh_keys SET revoked = 1 WHERE name = ?1 AND revoked = 0",
                [name],
            )?;
            Ok(n > 0)
        })
    }
}

/// One queued append waiting for the next commit.
struct Job {
    command: Uuid,
    digest: Option<String>,
    events: Vec<Event>,
    reply: oneshot::Sender<Result<Appended, StoreError>>,
}

struct Writer {
    conn: Connection,
    hook: Arc<OnceLock<CommitHook>>,
}

impl Writer {
    fn new(conn: Connection, hook: Arc<OnceLock<CommitHook>>) -> Writer {
        Writer { conn, hook }
    }

    /// Takes whatever is queued, commits it as one transaction, answers; repeats.
    fn run(mut self, rx: mpsc::Receiver<Msg>) {
        let mut jobs: Vec<Job> = Vec::new();
        while let Ok(first) = rx.recv() {
            let mut next = Some(first);
            let mut closing = false;
            while let Some(msg) = next.take() {
                match msg {
                    Msg::Append {
                        command,
                        digest,
                        events,
                        reply,
                    } => jobs.push(Job {
                        command,
                        digest,
                        events,
                        reply,
                    }),
                    Msg::Flush(done) => {
                        // Everything queued before the flush is answered first.
                        self.commit(std::mem::take(&mut jobs));
                        let _ = done.send(());
                    }
                    Msg::Close => {
                        closing = true;
                        break;
                    }
                }
                if jobs.len() >= MAX_BATCH {
                    break;
                }
                next = rx.try_recv().ok();
            }
            self.commit(std::mem::take(&mut jobs));
            if closing {
                break;
            }
        }
        // Answer anything that raced with the close.
        while let Ok(msg) = rx.try_recv() {
            match msg {
                Msg::Append { reply, .. } => {
                    let _ = reply.send(Err(StoreError::Closed));
                }
                Msg::Flush(done) => {
                    let _ = done.send(());
                }
                Msg::Close => {}
            }
        }
    }

    fn commit(&mut self, jobs: Vec<Job>) {
        if jobs.is_empty() {
            return;
        }
        match self.write(&jobs) {
            Ok((outcomes, fresh)) => {
                if !fresh.is_empty()
                    && let Some(hook) = self.hook.get()
                {
                    hook(&fresh);
                }
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let _ = job.reply.send(outcome);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, appends = jobs.len(), "commit failed; nothing of this batch was stored");
                let msg = e.to_string();
                for job in jobs {
                    let _ = job
                        .reply
                        .send(Err(StoreError::Corrupt(format!("commit failed: {msg}"))));
                }
            }
        }
    }

    /// One transaction for all `jobs`. Returns each job's answer and the
    /// newly stored events in seq order. A job the store refuses on its own
    /// (ids repeated within it) gets an error without failing the others.
    #[allow(clippy::type_complexity)]
    fn write(
        &mut self,
        jobs: &[Job],
    ) -> Result<(Vec<Result<Appended, StoreError>>, Vec<Arc<StoredEvent>>), StoreError> {
        let recorded_at = Utc::now();
        let recorded_at_text = recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut outcomes = Vec::with_capacity(jobs.len());
        let mut fresh = Vec::new();
        // Read the head inside the write lock (BEGIN IMMEDIATE) rather than
        // trusting a counter: even another process writing the same file
        // could not make two events share a seq or leave a gap.
        let mut next_seq =
            1 + tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| {
                r.get::<_, i64>(0)
            })? as u64;
        {
            let mut by_command = tx.prepare_cached(
                "SELECT command_id, data FROM events WHERE command_id = ?1 ORDER BY seq",
            )?;
            let mut by_id =
                tx.prepare_cached("SELECT command_id, data FROM events WHERE id = ?1")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (seq, id, command_id, incident, recorded_at, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut insert_digest = tx.prepare_cached(
                "INSERT OR IGNORE INTO command_digests (command_id, digest) VALUES (?1, ?2)",
            )?;
            for job in jobs {
                let command = job.command.to_string();
                let mut existing = Vec::new();
                for row in by_command.query_map([&command], stored_from_row)? {
                    existing.push(to_stored(row?)?);
                }
                if existing.is_empty() {
                    for ev in &job.events {
                        if let Some(row) = by_id
                            .query_row([ev.id.to_string()], stored_from_row)
                            .optional()?
                        {
                            existing.push(to_stored(row)?);
                        }
                    }
                }
                if !existing.is_empty() {
                    outcomes.push(Ok(Appended {
                        events: existing,
                        duplicate: true,
                    }));
                    continue;
                }
                let mut ids = HashSet::new();
                if !job.events.iter().all(|e| ids.insert(e.id)) {
                    outcomes.push(Err(StoreError::Corrupt(format!(
                        "command {command} carries the same event id twice"
                    ))));
                    continue;
                }
                let mut stored = Vec::with_capacity(job.events.len());
                for ev in &job.events {
                    let recorded = Recorded {
                        seq: next_seq,
                        recorded_at,
                        event: ev.clone(),
                    };
                    let json: Arc<str> = Arc::from(serde_json::to_string(&recorded)?);
                    insert.execute(params![
                        next_seq as i64,
                        ev.id.to_string(),
                        command,
                        ev.incident.to_string(),
                        recorded_at_text,
                        &*json,
                    ])?;
                    next_seq += 1;
                    stored.push(Arc::new(StoredEvent::new(job.command, recorded, json)));
                }
                if let Some(digest) = &job.digest {
                    insert_digest.execute(params![command, digest])?;
                }
                fresh.extend(stored.iter().cloned());
                outcomes.push(Ok(Appended {
                    events: stored,
                    duplicate: false,
                }));
            }
        }
        tx.commit()?;
        Ok((outcomes, fresh))
    }
}

/// The record of a token just written: not revoked.
fn live_token(name: &str, role: Access, hash: &str, created_at: DateTime<Utc>) -> TokenRecord {
    TokenRecord {
        name: name.to_string(),
        role,
        hash: hash.to_string(),
        created_at,
        revoked: false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// `synchronous` is per connection, not stored in the file: every
    /// connection that may write (the writer, and the pooled ones that write
    /// tokens) must say FULL (2) itself, or a 2xx would not mean durable.
    #[test]
    fn every_connection_is_wal_and_synchronous_full() {
        let dir = tempfile::tempdir().unwrap();
        let conn = connect(&dir.path().join("w.db")).unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous must be FULL");
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
