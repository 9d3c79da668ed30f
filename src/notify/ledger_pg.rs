//! The delivery ledger on PostgreSQL: the same two tables and the same
//! contract as the SQLite [`super::ledger`], in the shared database (created
//! by the store's migration 3), so that whichever replica holds the delivery
//! lease continues exactly where the previous holder stopped.
//!
//! Why a hand-over neither loses nor duplicates a delivery:
//! - New intents and the routed position move in ONE transaction, so a
//!   replica that dies mid-page leaves either both or neither; the next holder
//!   re-routes the page, and the intents' ids (HMAC-derived from event,
//!   channel and target under the database's key) are the same on every
//!   replica, so `ON CONFLICT DO NOTHING` stores each once.
//! - A row stays `pending` until its outcome event is durable. A delivery the
//!   dead replica had sent but not yet recorded is sent again by the next
//!   holder under the same id (`webhook-id`, `dedup_key`, `Message-ID`), which
//!   is what lets the target fold it.
//!
//! One connection of its own (not the store's, but under the store's TLS
//! rules): it is used only by the lease holder's worker, a transaction needs
//! the connection to itself, and it is reopened when PostgreSQL drops it.

use super::ledger::{Row, State};
use crate::domain::routing::Intent;
use chrono::{DateTime, TimeZone, Utc};
use tokio_postgres::Client;
use uuid::Uuid;

/// The ledger in the shared PostgreSQL database.
pub struct PgLedger {
    url: String,
    client: tokio::sync::Mutex<Option<Client>>,
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(v).single().unwrap_or_default()
}

fn parse_state(s: &str) -> State {
    s.parse().unwrap_or(State::Pending)
}

impl PgLedger {
    /// Connects to the database at `url` (a `postgres://` URL or libpq
    /// key=value string). The tables must exist: the store's migrations,
    /// run when the server opened its store, create them.
    pub async fn open(url: &str) -> anyhow::Result<PgLedger> {
        let ledger = PgLedger {
            url: url.to_string(),
            client: tokio::sync::Mutex::new(None),
        };
        // Fail now (and clearly) rather than on the first delivery.
        ledger.position().await?;
        Ok(ledger)
    }

    /// The connection, reopened if PostgreSQL dropped it.
    async fn client(&self) -> anyhow::Result<tokio::sync::MutexGuard<'_, Option<Client>>> {
        let mut guard = self.client.lock().await;
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = Some(crate::store::postgres::connect_url(&self.url, "warroom-notify").await?);
        }
        Ok(guard)
    }

    /// The seq up to which the log has been routed.
    pub async fn position(&self) -> anyhow::Result<u64> {
        let guard = self.client().await?;
        let client = guard
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no connection"))?;
        let seq: i64 = client
            .query_one("SELECT seq FROM notify_position", &[])
            .await?
            .get(0);
        Ok(u64::try_from(seq).unwrap_or(0))
    }

    /// Records new intents (each once) and retry requests, and moves the
    /// position to `through` — all in one transaction.
    pub async fn record(
        &self,
        intents: &[(u64, Intent)],
        retries: &[Uuid],
        through: u64,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        // Columns as arrays: one INSERT for the whole page, not a round trip per row.
        let mut ids = Vec::with_capacity(intents.len());
        let mut seqs = Vec::with_capacity(intents.len());
        let mut incidents = Vec::with_capacity(intents.len());
        let mut keys = Vec::with_capacity(intents.len());
        let mut bodies = Vec::with_capacity(intents.len());
        for (seq, intent) in intents {
            ids.push(intent.id.to_string());
            seqs.push(i64::try_from(*seq).unwrap_or(i64::MAX));
            incidents.push(intent.incident.to_string());
            keys.push(intent.order_key.clone());
            bodies.push(serde_json::to_string(intent)?);
        }
        let retry_ids: Vec<String> = retries.iter().map(Uuid::to_string).collect();
        let max_attempts = i32::try_from(max_attempts).unwrap_or(i32::MAX);
        let through = i64::try_from(through).unwrap_or(i64::MAX);
        let mut guard = self.client().await?;
        let client = guard
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("no connection"))?;
        let tx = client.transaction().await?;
        if !ids.is_empty() {
            tx.execute(
                "INSERT INTO notify_deliveries
                 (id, seq, incident, order_key, intent, state, attempts, give_up_at, next_at)
                 SELECT id, seq, incident, order_key, intent, 'pending', 0, $6, $7
                 FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[])
                      AS t(id, seq, incident, order_key, intent)
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &ids,
                    &seqs,
                    &incidents,
                    &keys,
                    &bodies,
                    &max_attempts,
                    &ms(now),
                ],
            )
            .await?;
        }
        if !retry_ids.is_empty() {
            tx.execute(
                "UPDATE notify_deliveries
                 SET state = 'pending', next_at = $2,
                     give_up_at = CASE WHEN state = 'gave_up' THEN attempts + $3 ELSE give_up_at END
                 WHERE id = ANY($1::text[]) AND state <> 'sent'",
                &[&retry_ids, &ms(now), &max_attempts],
            )
            .await?;
        }
        tx.execute(
            "UPDATE notify_position SET seq = $1 WHERE seq < $1",
            &[&through],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The first pending delivery of each order key, soonest due first, at
    /// most `limit` (see [`super::ledger::Ledger::pending`]).
    pub async fn pending(&self, limit: usize) -> anyhow::Result<Vec<Row>> {
        let guard = self.client().await?;
        let client = guard
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no connection"))?;
        let rows = client
            .query(
                "SELECT intent, seq, attempts, give_up_at, next_at FROM (
                     SELECT DISTINCT ON (order_key) intent, seq, attempts, give_up_at, next_at
                     FROM notify_deliveries WHERE state = 'pending'
                     ORDER BY order_key, seq
                 ) AS heads ORDER BY next_at, seq LIMIT $1",
                &[&i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Row {
                    intent: serde_json::from_str(r.get::<_, &str>(0))?,
                    seq: u64::try_from(r.get::<_, i64>(1)).unwrap_or(0),
                    attempts: u32::try_from(r.get::<_, i32>(2)).unwrap_or(0),
                    give_up_at: u32::try_from(r.get::<_, i32>(3)).unwrap_or(u32::MAX),
                    next_at: from_ms(r.get(4)),
                })
            })
            .collect()
    }

    /// Stores the outcome of try number `attempts`.
    pub async fn settle(
        &self,
        id: Uuid,
        attempts: u32,
        state: State,
        next_at: Option<DateTime<Utc>>,
        error: &str,
    ) -> anyhow::Result<()> {
        let guard = self.client().await?;
        let client = guard
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no connection"))?;
        client
            .execute(
                "UPDATE notify_deliveries SET state = $2, attempts = $3,
                 next_at = COALESCE($4, next_at), last_error = $5 WHERE id = $1",
                &[
                    &id.to_string(),
                    &state.as_str(),
                    &i32::try_from(attempts).unwrap_or(i32::MAX),
                    &next_at.map(ms),
                    &error,
                ],
            )
            .await?;
        Ok(())
    }

    /// A delivery's state and tries (for tests and tools).
    pub async fn state(&self, id: Uuid) -> anyhow::Result<Option<(State, u32)>> {
        let guard = self.client().await?;
        let client = guard
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no connection"))?;
        let row = client
            .query_opt(
                "SELECT state, attempts FROM notify_deliveries WHERE id = $1",
                &[&id.to_string()],
            )
            .await?;
        Ok(row.map(|r| {
            (
                parse_state(r.get::<_, &str>(0)),
                u32::try_from(r.get::<_, i32>(1)).unwrap_or(0),
            )
        }))
    }
}
