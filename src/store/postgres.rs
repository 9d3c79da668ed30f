//! The PostgreSQL store: one log shared by several `warroom serve` replicas.
//!
//! # One gap-free seq, in commit order, with several writers
//!
//! A PostgreSQL `SEQUENCE` gives neither property: a rolled-back transaction
//! burns its numbers (gaps), and two transactions can commit in the opposite
//! order of their numbers (a reader polling `seq > n` would skip the lower
//! one if it became visible later). So seqs come from a one-row table,
//! `log_head`, and every append transaction starts with
//! `SELECT seq FROM log_head FOR UPDATE`:
//!
//! - The row lock serialises appends across every connection of every
//!   replica: the next writer cannot read the head until the previous one has
//!   committed or rolled back, so the seqs it assigns (`head + 1 …`) follow the
//!   previous commit with nothing in between (gap-free), and a rolled-back
//!   transaction never moved the head (no hole either).
//! - PostgreSQL makes a transaction visible before it releases its locks, so
//!   by the time a writer can take the row, every lower seq is visible to every
//!   new snapshot: seqs are in commit order, and a follower reading
//!   `seq > n` always gets a gap-free prefix of the log.
//!
//! The lock is held for one round of inserts, not across a decision: group
//! commit puts every append waiting on this replica into one transaction
//! (one WAL flush), as the SQLite writer does.
//!
//! # Replicas follow the log
//!
//! Each replica's writer task hands every committed event to the commit hook
//! in seq order, its own and the others': after its own commits, and when
//! woken by `NOTIFY warroom_log` (sent inside every append transaction,
//! delivered on commit) or, should a notification be lost, by a poll every
//! [`POLL`]. Either way it reads `seq > last handed`, so a lost notification
//! delays an event and never drops it.
//!
//! # Decisions across replicas
//!
//! An [`Append`] carries the seq its decision was made against (`base`).
//! Under the head lock the writer knows every event committed so far; if one
//! that another replica wrote lies beyond `base` *and touches what the
//! decision depends on* (its incident, or the numbering and alert side for
//! declarations and alerts; notes commute with notes — the rule is
//! [`crate::domain::conflict`]), the decision did not see it and the append is
//! refused with [`StoreError::Raced`] — nothing written — so the server
//! decides it again against the fresh model. Busy replicas working on other
//! incidents (or all writing notes) therefore never refuse each other.
//! Idempotency is
//! checked under the same lock: the same command id sent to two replicas at
//! once is stored once.
//!
//! # Leases
//!
//! [`EventLog::lease`] is a session-level advisory lock on a connection of its
//! own: held while that connection lives, released by PostgreSQL the moment
//! the replica's process dies (its socket closes), so another replica takes
//! over at its next attempt.
//!
//! The store runs its own small tokio runtime: the blocking trait methods
//! hand their query to it and wait, so they are callable from any thread, as
//! the SQLite store's are.

mod import;
mod schema;
mod tls;
mod tokens;
mod write;

pub use import::Imported;
pub use schema::MIGRATIONS;

use write::writer_conn;

use super::{Append, Appended, CommitHook, EventLog, StoreError, StoredEvent, Ticket};
use crate::domain::conflict::Touched;
use crate::domain::event::Recorded;
use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::Client;
use uuid::Uuid;

/// Most appends committed in one transaction.
const MAX_BATCH: usize = 1024;
/// Reader connections (each pipelines concurrent queries).
const READERS: usize = 4;
/// The longest a replica goes without looking for others' commits, should a
/// notification be lost.
pub const POLL: Duration = Duration::from_secs(1);
/// The notification channel every append transaction notifies.
const CHANNEL: &str = "warroom_log";
/// Events read per query when following the log.
const FOLLOW_PAGE: i64 = 10_000;
/// The name of the system-id key in `secrets`.
const SYSTEM_KEY: &str = "system_ids";

enum Msg {
    Append(Append, oneshot::Sender<Result<Appended, StoreError>>),
    Flush(oneshot::Sender<()>),
    /// Follow the log now, then answer.
    CatchUp(oneshot::Sender<()>),
    Close(oneshot::Sender<()>),
}

/// What the runtime's tasks share.
struct Inner {
    config: tokio_postgres::Config,
    readers: Vec<tokio::sync::Mutex<Option<Arc<Client>>>>,
    next_reader: AtomicUsize,
    hook: OnceLock<CommitHook>,
    /// See [`EventLog::foreign_head`].
    foreign: AtomicU64,
    /// The lease connection and the leases it holds.
    leases: tokio::sync::Mutex<Option<(Client, HashSet<i64>)>>,
}

/// See the module docs.
pub struct PgStore {
    inner: Arc<Inner>,
    handle: tokio::runtime::Handle,
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
    tx: Mutex<Option<mpsc::UnboundedSender<Msg>>>,
    location: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// A connection of its own to the database at `url` (on the caller's
/// runtime), under the store's TLS rules: for the delivery ledger
/// (`notify::ledger_pg`), whose transactions need a connection to themselves.
pub async fn connect_url(url: &str, application: &str) -> Result<Client, StoreError> {
    let location = super::Location::Postgres(url.to_string()).redacted();
    let mut config: tokio_postgres::Config = tls::prepare(url)?
        .parse()
        .map_err(|e| StoreError::Corrupt(format!("{location}: {e}")))?;
    config.application_name(application);
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    config.keepalives(true);
    config.keepalives_idle(Duration::from_secs(10));
    connect(&config).await
}

async fn connect(config: &tokio_postgres::Config) -> Result<Client, StoreError> {
    let (client, connection) = config
        .connect(tls::connector())
        .await
        .map_err(tls::explain)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "postgres connection ended");
        }
    });
    Ok(client)
}

fn seq_param(after: u64) -> i64 {
    i64::try_from(after).unwrap_or(i64::MAX)
}

fn to_stored(command: &str, data: String) -> Result<Arc<StoredEvent>, StoreError> {
    let recorded: Recorded = serde_json::from_str(&data)?;
    let command = Uuid::parse_str(command)
        .map_err(|e| StoreError::Corrupt(format!("bad command id {command:?}: {e}")))?;
    Ok(Arc::new(StoredEvent::new(
        command,
        recorded,
        Arc::from(data),
    )))
}

fn rows_to_stored(rows: Vec<tokio_postgres::Row>) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
    rows.into_iter()
        .map(|r| to_stored(r.get::<_, &str>(0), r.get(1)))
        .collect()
}

/// The advisory-lock key of a lease name: stable across builds and replicas.
fn lease_key(name: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("warroom lease {name}").as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_be_bytes(b)
}

impl Inner {
    /// A reader connection, reconnecting a slot whose connection died.
    async fn reader(&self) -> Result<Arc<Client>, StoreError> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        let mut slot = self.readers[i].lock().await;
        if let Some(c) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        let c = Arc::new(connect(&self.config).await?);
        *slot = Some(c.clone());
        Ok(c)
    }

    async fn query_stored(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        let c = self.reader().await?;
        rows_to_stored(c.query(sql, params).await?)
    }

    async fn lease(&self, name: &str) -> Result<bool, StoreError> {
        let key = lease_key(name);
        let mut guard = self.leases.lock().await;
        if guard.as_ref().is_none_or(|(c, _)| c.is_closed()) {
            // A new session holds nothing: whatever the old one held is
            // released by the server when it noticed the old one gone.
            *guard = Some((connect(&self.config).await?, HashSet::new()));
        }
        let Some((client, held)) = guard.as_mut() else {
            return Ok(false);
        };
        if held.contains(&key) {
            return Ok(true);
        }
        let got: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .await?
            .get(0);
        if got {
            held.insert(key);
        }
        Ok(got)
    }
}

/// The first connection: migrates, creates the system-id key, reads the head.
async fn opened(inner: &Inner) -> Result<(write::Conn, u64), StoreError> {
    let mut client = connect(&inner.config).await?;
    schema::migrate(&mut client).await?;
    let key: [u8; 32] = rand::random();
    client
        .execute(
            "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&SYSTEM_KEY, &&key[..]],
        )
        .await?;
    let head: i64 = client
        .query_one("SELECT seq FROM log_head", &[])
        .await?
        .get(0);
    Ok((write::Conn::prepare(client).await?, head as u64))
}

impl PgStore {
    /// Connects, migrates (refusing a schema newer than this build), creates
    /// the system-id key on first use, and starts the writer and the
    /// notification listener. `url` is a `postgres://` URL or a libpq
    /// key=value string.
    pub fn open(url: &str) -> Result<PgStore, StoreError> {
        let location = super::Location::Postgres(url.to_string()).redacted();
        let url = tls::prepare(url)?;
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("{location}: {e}")))?;
        if config.get_application_name().is_none() {
            config.application_name("warroom");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(10));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("warroom-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Corrupt(format!("cannot start the postgres runtime: {e}")))?;
        let handle = runtime.handle().clone();
        let inner = Arc::new(Inner {
            config,
            readers: (0..READERS)
                .map(|_| tokio::sync::Mutex::new(None))
                .collect(),
            next_reader: AtomicUsize::new(0),
            hook: OnceLock::new(),
            foreign: AtomicU64::new(0),
            leases: tokio::sync::Mutex::new(None),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let opened = {
            let inner = inner.clone();
            // Not `runtime.block_on`: that panics when called from async code.
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            handle.spawn(async move {
                let _ = tx.send(opened(&inner).await);
            });
            rx.recv().unwrap_or(Err(StoreError::Closed))
        };
        let (client, head) = match opened {
            Ok(v) => v,
            Err(e) => {
                runtime.shutdown_background();
                return Err(e);
            }
        };
        let (wake_tx, wake_rx) = mpsc::unbounded_channel();
        handle.spawn(listen(inner.config.clone(), wake_tx));
        handle.spawn(
            Writer {
                inner: inner.clone(),
                conn: Some(client),
                handed: head,
                touched: Touched::default(),
            }
            .run(rx, wake_rx),
        );
        Ok(PgStore {
            inner,
            handle,
            runtime: Mutex::new(Some(runtime)),
            tx: Mutex::new(Some(tx)),
            location,
        })
    }

    /// The database, password hidden.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Runs `fut` on the store's runtime and waits for it (from any thread).
    fn block<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().map_err(|_| StoreError::Closed)?
    }

    fn send(&self, msg: Msg) -> Result<(), Msg> {
        let guard = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some(tx) => tx.send(msg).map_err(|e| e.0),
            None => Err(msg),
        }
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.close();
        if let Some(rt) = self
            .runtime
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            // Never blocks, so a store dropped inside async code is fine.
            rt.shutdown_background();
        }
    }
}

/// Listens on [`CHANNEL`] and pokes the writer for every notification;
/// reconnects (poking once, to catch up) when the connection drops.
async fn listen(config: tokio_postgres::Config, wake: mpsc::UnboundedSender<()>) {
    use futures_util::StreamExt;
    let mut pause = Duration::from_millis(100);
    loop {
        if wake.is_closed() {
            return;
        }
        match config.connect(tls::connector()).await {
            Ok((client, mut connection)) => {
                let (note_tx, mut note_rx) = mpsc::unbounded_channel();
                let driver = tokio::spawn(async move {
                    let mut messages =
                        futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                    while let Some(m) = messages.next().await {
                        match m {
                            Ok(tokio_postgres::AsyncMessage::Notification(_)) => {
                                let _ = note_tx.send(());
                            }
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "postgres listener connection failed");
                                break;
                            }
                        }
                    }
                });
                if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
                    tracing::warn!(error = %e, "postgres LISTEN failed");
                } else {
                    pause = Duration::from_millis(100);
                    // Anything committed while we were not listening.
                    let _ = wake.send(());
                    while note_rx.recv().await.is_some() {
                        if wake.send(()).is_err() {
                            driver.abort();
                            return;
                        }
                    }
                }
                driver.abort();
            }
            Err(e) => tracing::warn!(error = %e, "postgres listener cannot connect"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// One queued append.
struct Job {
    append: Append,
    reply: oneshot::Sender<Result<Appended, StoreError>>,
}

/// The replica's writer: group commits its appends and follows the log.
struct Writer {
    inner: Arc<Inner>,
    /// `None` until first needed, and after the connection failed.
    conn: Option<write::Conn>,
    /// The last seq handed to the commit hook (or, before the hook is set,
    /// the head at open: the server reads the log itself up to then).
    handed: u64,
    /// Which scopes others' commits touched, and when: what makes an
    /// append's decision stale (see the module docs).
    touched: Touched,
}

impl Writer {
    async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Msg>,
        mut wake: mpsc::UnboundedReceiver<()>,
    ) {
        let mut jobs: Vec<Job> = Vec::new();
        loop {
            let first = tokio::select! {
                biased;
                m = rx.recv() => match m {
                    Some(m) => m,
                    None => break,
                },
                Some(()) = wake.recv() => {
                    while wake.try_recv().is_ok() {}
                    self.follow().await;
                    continue;
                }
                _ = tokio::time::sleep(POLL) => {
                    self.follow().await;
                    continue;
                }
            };
            let mut next = Some(first);
            let mut closing = None;
            while let Some(msg) = next.take() {
                match msg {
                    Msg::Append(append, reply) => jobs.push(Job { append, reply }),
                    Msg::Flush(done) => {
                        self.commit(std::mem::take(&mut jobs)).await;
                        let _ = done.send(());
                    }
                    Msg::CatchUp(done) => {
                        self.commit(std::mem::take(&mut jobs)).await;
                        self.follow().await;
                        let _ = done.send(());
                    }
                    Msg::Close(done) => {
                        closing = Some(done);
                        break;
                    }
                }
                if jobs.len() >= MAX_BATCH {
                    break;
                }
                next = rx.try_recv().ok();
            }
            self.commit(std::mem::take(&mut jobs)).await;
            if let Some(done) = closing {
                while let Ok(msg) = rx.try_recv() {
                    match msg {
                        Msg::Append(_, reply) => {
                            let _ = reply.send(Err(StoreError::Closed));
                        }
                        Msg::Flush(d) | Msg::CatchUp(d) | Msg::Close(d) => {
                            let _ = d.send(());
                        }
                    }
                }
                let _ = done.send(());
                return;
            }
        }
    }

    /// Hands what others committed to the hook. Nothing while no hook is set:
    /// the server reads the log itself before setting it.
    async fn follow(&mut self) {
        if self.inner.hook.get().is_none() {
            return;
        }
        loop {
            let after = self.handed;
            let page = async {
                let c = writer_conn(&mut self.conn, &self.inner.config).await?;
                rows_to_stored(
                    c.client
                        .query(&c.follow, &[&seq_param(after), &FOLLOW_PAGE])
                        .await?,
                )
            }
            .await;
            match page {
                Ok(page) if page.is_empty() => return,
                Ok(page) => {
                    let full = page.len() as i64 == FOLLOW_PAGE;
                    self.hand_foreign(page);
                    if !full {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "following the log failed; retrying");
                    return;
                }
            }
        }
    }

    /// Hands events others wrote to the hook, stopping at a gap (which
    /// cannot happen, see the module docs, but would be a lost event).
    fn hand_foreign(&mut self, events: Vec<Arc<StoredEvent>>) {
        let mut run = Vec::with_capacity(events.len());
        for ev in events {
            if ev.seq() <= self.handed + run.len() as u64 {
                continue;
            }
            if ev.seq() != self.handed + run.len() as u64 + 1 {
                tracing::error!(
                    seq = ev.seq(),
                    after = self.handed,
                    "gap while following the log; will read again"
                );
                break;
            }
            run.push(ev);
        }
        let Some(last) = run.last().map(|e| e.seq()) else {
            return;
        };
        for ev in &run {
            self.touched.record(ev.seq(), &ev.recorded.event);
        }
        if let Some(hook) = self.inner.hook.get() {
            hook(&run);
        }
        self.handed = last;
        // After the hook: whoever sees the new foreign head finds the read
        // model already showing it.
        self.inner.foreign.fetch_max(last, Ordering::AcqRel);
    }

    async fn commit(&mut self, jobs: Vec<Job>) {
        if jobs.is_empty() {
            return;
        }
        match self.write(&jobs).await {
            Ok((foreign, outcomes, fresh)) => {
                self.hand_foreign(foreign);
                if let Some(last) = fresh.last().map(|e| e.seq())
                    && let Some(hook) = self.inner.hook.get()
                {
                    hook(&fresh);
                    self.handed = last;
                }
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let _ = job.reply.send(outcome);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, appends = jobs.len(), "commit failed; nothing of this batch was stored");
                // The connection may be the culprit: start the next batch on a new one.
                if self.conn.as_ref().is_some_and(|c| c.client.is_closed()) {
                    self.conn = None;
                }
                let msg = e.to_string();
                for job in jobs {
                    let _ = job
                        .reply
                        .send(Err(StoreError::Corrupt(format!("commit failed: {msg}"))));
                }
            }
        }
    }
}

impl EventLog for PgStore {
    fn submit(&self, append: Append) -> Ticket {
        let (reply, ticket) = oneshot::channel();
        if let Err(Msg::Append(_, reply)) = self.send(Msg::Append(append, reply)) {
            let _ = reply.send(Err(StoreError::Closed));
        }
        ticket
    }

    fn foreign_head(&self) -> u64 {
        self.inner.foreign.load(Ordering::Acquire)
    }

    fn shared(&self) -> bool {
        true
    }

    fn catch_up(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        if let Err(Msg::CatchUp(tx)) = self.send(Msg::CatchUp(tx)) {
            let _ = tx.send(());
        }
        rx
    }

    fn lease(&self, name: &str) -> Result<bool, StoreError> {
        let inner = self.inner.clone();
        let name = name.to_string();
        self.block(async move { inner.lease(&name).await })
    }

    fn ping(&self) -> Result<(), StoreError> {
        let inner = self.inner.clone();
        self.block(async move {
            let c = inner.reader().await?;
            tokio::time::timeout(Duration::from_secs(2), c.simple_query("SELECT 1"))
                .await
                .map_err(|_| {
                    StoreError::Corrupt("the database did not answer within 2 s".into())
                })??;
            Ok(())
        })
    }

    fn flush(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        if let Err(Msg::Flush(tx)) = self.send(Msg::Flush(tx)) {
            let _ = tx.send(());
        }
        rx
    }

    fn set_commit_hook(&self, hook: CommitHook) -> Result<(), StoreError> {
        self.inner
            .hook
            .set(hook)
            .map_err(|_| StoreError::Corrupt("the commit hook is already set".into()))
    }

    fn events_after(&self, after: u64, limit: usize) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        let inner = self.inner.clone();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.block(async move {
            inner
                .query_stored(
                    "SELECT command_id, data FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
                    &[&seq_param(after), &limit],
                )
                .await
        })
    }

    fn incident_events(
        &self,
        incident: Uuid,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        let inner = self.inner.clone();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.block(async move {
            inner
                .query_stored(
                    "SELECT command_id, data FROM events WHERE incident = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                    &[&incident.to_string(), &seq_param(after), &limit],
                )
                .await
        })
    }

    fn command_events(&self, command: Uuid) -> Result<Vec<Arc<StoredEvent>>, StoreError> {
        let inner = self.inner.clone();
        self.block(async move {
            inner
                .query_stored(
                    "SELECT command_id, data FROM events WHERE command_id = $1 ORDER BY seq",
                    &[&command.to_string()],
                )
                .await
        })
    }

    fn command_digest(&self, command: Uuid) -> Result<Option<String>, StoreError> {
        let inner = self.inner.clone();
        self.block(async move {
            let c = inner.reader().await?;
            Ok(c.query_opt(
                "SELECT digest FROM command_digests WHERE command_id = $1",
                &[&command.to_string()],
            )
            .await?
            .map(|r| r.get(0)))
        })
    }

    fn system_key(&self) -> Result<[u8; 32], StoreError> {
        let inner = self.inner.clone();
        self.block(async move {
            let c = inner.reader().await?;
            let value: Vec<u8> = c
                .query_one("SELECT value FROM secrets WHERE name = $1", &[&SYSTEM_KEY])
                .await?
                .get(0);
            value.try_into().map_err(|v: Vec<u8>| {
                StoreError::Corrupt(format!("the system-id key is {} bytes, not 32", v.len()))
            })
        })
    }

    fn save_checkpoint(&self, seq: u64, event_id: Uuid, data: &[u8]) -> Result<(), StoreError> {
        let inner = self.inner.clone();
        let data = data.to_vec();
        self.block(async move {
            let c = inner.reader().await?;
            // One statement, so no transaction is needed on the shared connection.
            c.execute(
                "WITH put AS (
                     INSERT INTO checkpoints (seq, event_id, data) VALUES ($1, $2, $3)
                     ON CONFLICT (seq) DO UPDATE SET event_id = excluded.event_id, data = excluded.data
                 )
                 DELETE FROM checkpoints WHERE seq < $1",
                &[&seq_param(seq), &event_id.to_string(), &data],
            )
            .await?;
            Ok(())
        })
    }

    fn load_checkpoint(&self) -> Result<Option<(u64, Uuid, Vec<u8>)>, StoreError> {
        let inner = self.inner.clone();
        self.block(async move {
            let c = inner.reader().await?;
            let Some(row) = c
                .query_opt(
                    "SELECT k.seq, k.event_id, k.data, e.id FROM checkpoints k
                     LEFT JOIN events e ON e.seq = k.seq ORDER BY k.seq DESC LIMIT 1",
                    &[],
                )
                .await?
            else {
                return Ok(None);
            };
            let (seq, id, data, at): (i64, String, Vec<u8>, Option<String>) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
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

    fn latest_seq(&self) -> Result<u64, StoreError> {
        let inner = self.inner.clone();
        self.block(async move {
            let c = inner.reader().await?;
            let seq: i64 = c.query_one("SELECT seq FROM log_head", &[]).await?.get(0);
            Ok(seq as u64)
        })
    }

    fn close(&self) {
        let (done, closed) = oneshot::channel();
        let sent = self.send(Msg::Close(done)).is_ok();
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        if sent {
            // Waits for the writer to commit what is queued. A std channel,
            // so this works from async code too (it blocks that thread briefly).
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            self.handle.spawn(async move {
                let _ = closed.await;
                let _ = tx.send(());
            });
            let _ = rx.recv_timeout(Duration::from_secs(30));
        }
    }
}
