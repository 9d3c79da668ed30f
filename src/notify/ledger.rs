//! The delivery ledger: where the worker keeps its progress, in the server's
//! own SQLite file (so a backup of the database is a backup of the ledger).
//!
//! - `notify_position` holds the seq up to which the log has been turned into
//!   deliveries, so a restart resumes where it stopped instead of re-reading
//!   (and re-sending) everything.
//! - `notify_deliveries` holds one row per delivery: the intent as routed,
//!   its state (`pending`, `sent`, `gave_up`), how many tries it has had and
//!   when the next is due.
//!
//! New intents and the position move in ONE transaction: a crash can never
//! leave the position past an event whose deliveries were not recorded.
//!
//! The tables are created with `IF NOT EXISTS` on the worker's own connection
//! rather than as a numbered store migration: the ledger belongs to the
//! delivery worker (a PostgreSQL deployment keeps it there, beside the log),
//! and the event store's schema stays the store's business.

use crate::domain::routing::Intent;
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use uuid::Uuid;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS notify_position (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    seq     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS notify_deliveries (
    id          TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL,
    incident    TEXT NOT NULL,
    order_key   TEXT NOT NULL,
    intent      TEXT NOT NULL,
    -- pending | sent | gave_up
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    -- The try after which it is given up (a manual retry grants another budget).
    give_up_at  INTEGER NOT NULL,
    -- Unix milliseconds.
    next_at     INTEGER NOT NULL,
    last_error  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS notify_deliveries_pending ON notify_deliveries(state, order_key, seq);
";

/// One delivery row.
#[derive(Clone, Debug)]
pub struct Row {
    pub intent: Intent,
    pub seq: u64,
    pub attempts: u32,
    pub give_up_at: u32,
    pub next_at: DateTime<Utc>,
}

/// A delivery's state, as the ledger reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum State {
    Pending,
    Sent,
    GaveUp,
}

impl State {
    fn as_str(self) -> &'static str {
        self.into()
    }
}

pub struct Ledger {
    conn: Connection,
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(v).single().unwrap_or_default()
}

impl Ledger {
    /// Opens (and creates) the ledger in the server's database file.
    pub fn open(db: &Path) -> anyhow::Result<Ledger> {
        let conn = Connection::open(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        conn.execute(
            "INSERT OR IGNORE INTO notify_position (id, seq) VALUES (1, 0)",
            [],
        )?;
        Ok(Ledger { conn })
    }

    /// The seq up to which the log has been routed.
    pub fn position(&self) -> anyhow::Result<u64> {
        let seq: i64 =
            self.conn
                .query_row("SELECT seq FROM notify_position WHERE id = 1", [], |r| {
                    r.get(0)
                })?;
        Ok(u64::try_from(seq).unwrap_or(0))
    }

    /// Records new intents (each once) and retry requests, and moves the
    /// position to `through` — all in one transaction.
    pub fn record(
        &mut self,
        intents: &[(u64, Intent)],
        retries: &[Uuid],
        through: u64,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO notify_deliveries
                 (id, seq, incident, order_key, intent, state, attempts, give_up_at, next_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6, ?7)",
            )?;
            for (seq, intent) in intents {
                insert.execute(params![
                    intent.id.to_string(),
                    *seq as i64,
                    intent.incident.to_string(),
                    intent.order_key,
                    serde_json::to_string(intent)?,
                    max_attempts,
                    ms(now),
                ])?;
            }
            let mut retry = tx.prepare_cached(
                "UPDATE notify_deliveries
                 SET state = 'pending', next_at = ?2,
                     give_up_at = CASE WHEN state = 'gave_up' THEN attempts + ?3 ELSE give_up_at END
                 WHERE id = ?1 AND state != 'sent'",
            )?;
            for id in retries {
                retry.execute(params![id.to_string(), ms(now), max_attempts])?;
            }
        }
        tx.execute(
            "UPDATE notify_position SET seq = ?1 WHERE id = 1 AND seq < ?1",
            params![through as i64],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The first pending delivery of each order key (the only one that may
    /// leave now: the rest of its key waits behind it), soonest due first, at
    /// most `limit`. One row per key, so a storm on one incident cannot hide
    /// another incident's deliveries behind a page of its own.
    pub fn pending(&self, limit: usize) -> anyhow::Result<Vec<Row>> {
        // SQLite: with MIN() the bare columns come from the row holding the minimum.
        let mut stmt = self.conn.prepare_cached(
            "SELECT intent, MIN(seq), attempts, give_up_at, next_at FROM notify_deliveries
             WHERE state = 'pending' GROUP BY order_key ORDER BY next_at, 2 LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (intent, seq, attempts, give_up_at, next_at) = row?;
            out.push(Row {
                intent: serde_json::from_str(&intent)?,
                seq: u64::try_from(seq).unwrap_or(0),
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                give_up_at: u32::try_from(give_up_at).unwrap_or(u32::MAX),
                next_at: from_ms(next_at),
            });
        }
        Ok(out)
    }

    /// Stores the outcome of try number `attempts`.
    pub fn settle(
        &self,
        id: Uuid,
        attempts: u32,
        state: State,
        next_at: Option<DateTime<Utc>>,
        error: &str,
    ) -> anyhow::Result<()> {
        self.conn.execute(
            "UPDATE notify_deliveries SET state = ?2, attempts = ?3, next_at = COALESCE(?4, next_at),
             last_error = ?5 WHERE id = ?1",
            params![
                id.to_string(),
                state.as_str(),
                attempts,
                next_at.map(ms),
                error
            ],
        )?;
        Ok(())
    }

    /// A delivery's state and tries (for tests and tools).
    pub fn state(&self, id: Uuid) -> anyhow::Result<Option<(State, u32)>> {
        let row: Option<(String, i64)> = self
            .conn
            .query_row(
                "SELECT state, attempts FROM notify_deliveries WHERE id = ?1",
                params![id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.map(|(s, a)| {
            let st = s.parse().unwrap_or(State::Pending);
            (st, u32::try_from(a).unwrap_or(0))
        }))
    }
}
