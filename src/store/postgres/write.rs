//! The append transaction, in two round trips.
//!
//! The head lock (see the parent module) serialises every replica's appends,
//! so the time it is held bounds the whole deployment's throughput: every
//! round trip inside the transaction is paid once per batch by everybody.
//! Hence the statements are prepared once per connection (a query by text
//! costs a parse round trip of its own) and sent pipelined: `BEGIN`, the
//! lock, the foreign events and the idempotency lookups go in one flight
//! (PostgreSQL runs them in order, so the reads run under the lock); the
//! inserts, the head update, the notification and `COMMIT` in a second. A
//! statement that fails aborts the transaction, and the `COMMIT` after it
//! then rolls back: every answer is checked, and nothing of the batch is
//! reported stored unless all of them succeeded.

use super::{CHANNEL, Job, Writer, connect, rows_to_stored, seq_param, to_stored};
use crate::domain::event::Recorded;
use crate::store::{Appended, StoreError, StoredEvent};
use chrono::Utc;
use futures_util::join;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio_postgres::{Client, Statement};

/// The writer's connection and its prepared statements.
pub(super) struct Conn {
    pub(super) client: Client,
    lock: Statement,
    foreign: Statement,
    by_command: Statement,
    by_id: Statement,
    insert: Statement,
    digests: Statement,
    head: Statement,
    notify: Statement,
    /// A page of the log after a seq: what a replica woken by a notification
    /// reads (prepared too: it is on the path from another replica's commit
    /// to this one's subscribers).
    pub(super) follow: Statement,
}

impl Conn {
    async fn open(config: &tokio_postgres::Config) -> Result<Conn, StoreError> {
        Conn::prepare(connect(config).await?).await
    }

    /// Prepares the writer's statements on `client` (a migrated database).
    pub(super) async fn prepare(client: Client) -> Result<Conn, StoreError> {
        let (lock, foreign, by_command, by_id, insert, digests, head, notify, follow) = join!(
            client.prepare("SELECT seq FROM log_head FOR UPDATE"),
            client.prepare("SELECT command_id, data FROM events WHERE seq > $1 ORDER BY seq"),
            client.prepare(
                "SELECT command_id, data FROM events WHERE command_id = ANY($1) ORDER BY seq"
            ),
            client.prepare("SELECT command_id, data, id FROM events WHERE id = ANY($1)"),
            client.prepare(
                "INSERT INTO events (seq, id, command_id, incident, recorded_at, data)
                 SELECT s, i, c, n, $5, d FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $6::text[])
                     AS t(s, i, c, n, d)"
            ),
            client.prepare(
                "INSERT INTO command_digests (command_id, digest)
                 SELECT * FROM UNNEST($1::text[], $2::text[]) ON CONFLICT (command_id) DO NOTHING"
            ),
            client.prepare("UPDATE log_head SET seq = $1"),
            client.prepare("SELECT pg_notify($1, $2)"),
            client.prepare(
                "SELECT command_id, data FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"
            ),
        );
        Ok(Conn {
            lock: lock?,
            foreign: foreign?,
            by_command: by_command?,
            by_id: by_id?,
            insert: insert?,
            digests: digests?,
            head: head?,
            notify: notify?,
            follow: follow?,
            client,
        })
    }
}

/// The writer's connection, reconnecting (and preparing again) one that died.
pub(super) async fn writer_conn<'a>(
    slot: &'a mut Option<Conn>,
    config: &tokio_postgres::Config,
) -> Result<&'a mut Conn, StoreError> {
    if slot.as_ref().is_none_or(|c| c.client.is_closed()) {
        *slot = None;
        *slot = Some(Conn::open(config).await?);
    }
    slot.as_mut()
        .ok_or_else(|| StoreError::Corrupt("no writer connection".into()))
}

/// What one append transaction found and did: the foreign events it read
/// under the head lock, each job's answer, and the newly stored events in
/// seq order.
pub(super) type Written = (
    Vec<Arc<StoredEvent>>,
    Vec<Result<Appended, StoreError>>,
    Vec<Arc<StoredEvent>>,
);

impl Writer {
    /// One transaction for all `jobs` (see the module docs). On an error the
    /// transaction is rolled back, or the connection dropped if even that fails.
    pub(super) async fn write(&mut self, jobs: &[Job]) -> Result<Written, StoreError> {
        let result = self.write_once(jobs).await;
        if result.is_err()
            && let Some(conn) = self.conn.as_ref()
            && conn.client.batch_execute("ROLLBACK").await.is_err()
        {
            self.conn = None;
        }
        result
    }

    async fn write_once(&mut self, jobs: &[Job]) -> Result<Written, StoreError> {
        let handed = self.handed;
        let hooked = self.inner.hook.get().is_some();
        let known_foreign = self.inner.foreign.load(Ordering::Acquire);
        let conn = writer_conn(&mut self.conn, &self.inner.config).await?;
        let c = &conn.client;

        // Flight 1. Idempotency under the lock: everything already stored for
        // these command ids and event ids.
        let commands: Vec<String> = jobs.iter().map(|j| j.append.command.to_string()).collect();
        let ids: Vec<String> = jobs
            .iter()
            .flat_map(|j| j.append.events.iter().map(|e| e.id.to_string()))
            .collect();
        let after = seq_param(handed);
        let foreign_rows = async {
            // Whatever was committed since we last handed events over was
            // written by someone else: this writer hands its own over at
            // once. Without a hook nobody wants them.
            if hooked {
                c.query(&conn.foreign, &[&after]).await.map(Some)
            } else {
                Ok(None)
            }
        };
        // The reads are planned for the ids at hand: a prepared statement
        // switches to a generic plan after five runs, made with the
        // statistics of that moment, and on a young log that plan is a
        // sequential scan of `events`, kept until autovacuum next analyses
        // it — the lookups then read the whole log under the head lock
        // (3 ms a batch at 11,000 events, measured). The inserts after them
        // keep their generic plans (nothing to look up).
        let (begun, custom, head, foreign_rows, by_command_rows, by_id_rows, generic) = join!(
            c.batch_execute("BEGIN"),
            c.batch_execute("SET LOCAL plan_cache_mode = force_custom_plan"),
            c.query_one(&conn.lock, &[]),
            foreign_rows,
            async { c.query(&conn.by_command, &[&commands]).await },
            async { c.query(&conn.by_id, &[&ids]).await },
            c.batch_execute("SET LOCAL plan_cache_mode = auto"),
        );
        begun?;
        custom?;
        generic?;
        let head = head?.get::<_, i64>(0) as u64;
        let foreign = match foreign_rows? {
            Some(rows) => rows_to_stored(rows)?,
            None => Vec::new(),
        };
        for ev in &foreign {
            self.touched.record(ev.seq(), &ev.recorded.event);
        }
        let mut by_command: HashMap<String, Vec<Arc<StoredEvent>>> = HashMap::new();
        for row in by_command_rows? {
            let command: String = row.get(0);
            let ev = to_stored(&command, row.get(1))?;
            by_command.entry(command).or_default().push(ev);
        }
        let mut by_id: HashMap<String, Arc<StoredEvent>> = HashMap::new();
        for row in by_id_rows? {
            let ev = to_stored(row.get::<_, &str>(0), row.get(1))?;
            by_id.insert(row.get(2), ev);
        }

        let recorded_at = Utc::now();
        let recorded_at_text = recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let mut next_seq = head + 1;
        let mut outcomes = Vec::with_capacity(jobs.len());
        let mut fresh: Vec<Arc<StoredEvent>> = Vec::new();
        let (mut seqs, mut ev_ids, mut cmd_ids, mut incidents, mut datas) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut digest_cmds, mut digests) = (Vec::new(), Vec::new());
        for job in jobs {
            let a = &job.append;
            let command = a.command.to_string();
            let mut existing = by_command.get(&command).cloned().unwrap_or_default();
            if existing.is_empty() {
                existing = a
                    .events
                    .iter()
                    .filter_map(|e| by_id.get(&e.id.to_string()).cloned())
                    .collect();
            }
            if !existing.is_empty() {
                outcomes.push(Ok(Appended {
                    events: existing,
                    duplicate: true,
                }));
                continue;
            }
            // Stale only if another replica's commit since `base` touched
            // what this decision depends on (`domain::conflict`). Without a
            // hook nothing foreign is read, so any foreign commit counts.
            let stale = match a.base {
                Some(base) if hooked => self.touched.stale(base, &a.events).map(|f| (base, f)),
                Some(base) => (known_foreign > base).then_some((base, known_foreign)),
                None => None,
            };
            if let Some((base, foreign)) = stale {
                outcomes.push(Err(StoreError::Raced { base, foreign }));
                continue;
            }
            let mut seen = HashSet::new();
            if !a.events.iter().all(|e| seen.insert(e.id)) {
                outcomes.push(Err(StoreError::Corrupt(format!(
                    "command {command} carries the same event id twice"
                ))));
                continue;
            }
            let mut stored = Vec::with_capacity(a.events.len());
            for ev in &a.events {
                let recorded = Recorded {
                    seq: next_seq,
                    recorded_at,
                    event: ev.clone(),
                };
                let json: Arc<str> = Arc::from(serde_json::to_string(&recorded)?);
                seqs.push(next_seq as i64);
                ev_ids.push(ev.id.to_string());
                cmd_ids.push(command.clone());
                incidents.push(ev.incident.to_string());
                datas.push(json.to_string());
                next_seq += 1;
                let s = Arc::new(StoredEvent::new(a.command, recorded, json));
                by_id.insert(ev.id.to_string(), s.clone());
                stored.push(s);
            }
            // A second append of the same id in this very batch is its duplicate.
            by_command.insert(command.clone(), stored.clone());
            if let Some(d) = &a.digest {
                digest_cmds.push(command);
                digests.push(d.clone());
            }
            fresh.extend(stored.iter().cloned());
            outcomes.push(Ok(Appended {
                events: stored,
                duplicate: false,
            }));
        }

        // Flight 2: the writes and COMMIT (or, with nothing to write, COMMIT alone).
        if seqs.is_empty() {
            c.batch_execute("COMMIT").await?;
            return Ok((foreign, outcomes, fresh));
        }
        let new_head = (next_seq - 1) as i64;
        let new_head_text = new_head.to_string();
        let digests_insert = async {
            if digests.is_empty() {
                Ok(0)
            } else {
                c.execute(&conn.digests, &[&digest_cmds, &digests]).await
            }
        };
        let (inserted, digested, moved, notified, committed) = join!(
            async {
                c.execute(
                    &conn.insert,
                    &[
                        &seqs,
                        &ev_ids,
                        &cmd_ids,
                        &incidents,
                        &recorded_at_text,
                        &datas,
                    ],
                )
                .await
            },
            digests_insert,
            async { c.execute(&conn.head, &[&new_head]).await },
            async { c.execute(&conn.notify, &[&CHANNEL, &new_head_text]).await },
            c.batch_execute("COMMIT"),
        );
        // Any failure before COMMIT made COMMIT a rollback: report the first.
        inserted?;
        digested?;
        moved?;
        notified?;
        committed?;
        Ok((foreign, outcomes, fresh))
    }
}
