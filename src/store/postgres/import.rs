//! `warroom migrate`: a SQLite log copied into an empty PostgreSQL database,
//! exactly — every event with its seq, time and JSON byte for byte, the
//! command digests, the tokens and SSH keys, and the system-id key (so the
//! ids the scheduler and the integrations derive stay the same), and the
//! notification delivery ledger (so the moved deployment neither resends
//! what was delivered nor drops what was pending) — in ONE transaction under
//! the head lock, then verified by count and seq.

use super::{PgStore, connect};
use crate::store::StoreError;
use rusqlite::OptionalExtension;
use std::path::Path;

/// Rows per INSERT.
const PAGE: i64 = 5_000;

/// What was copied, as verified on the target afterwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    pub events: u64,
    pub last_seq: u64,
    pub tokens: u64,
    pub keys: u64,
    pub digests: u64,
    /// Rows of the notification delivery ledger.
    pub deliveries: u64,
}

fn sqlite_err(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e)
}

impl PgStore {
    /// Copies the SQLite log at `from` into this (empty) database. Refuses a
    /// target that already holds events, tokens or keys, rather than merge
    /// two logs.
    pub fn import_sqlite(&self, from: &Path) -> Result<Imported, StoreError> {
        if !from.exists() {
            return Err(StoreError::Corrupt(format!(
                "no SQLite database at {}",
                from.display()
            )));
        }
        // Through the SQLite store once: migrates an older file to this
        // build's schema (and refuses a newer one) before it is read.
        super::super::SqliteStore::open(from)?;
        let src =
            rusqlite::Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(sqlite_err)?;
        let (cmds, digests) = two_columns(&src, "SELECT command_id, digest FROM command_digests")
            .map_err(sqlite_err)?;
        let keys = {
            let mut stmt = src
                .prepare(
                    "SELECT name, role, fingerprint, public_key, created_at, revoked FROM ssh_keys",
                )
                .map_err(sqlite_err)?;
            stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, bool>(5)?,
                ))
            })
            .map_err(sqlite_err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sqlite_err)?
        };
        let rows = {
            let mut stmt = src
                .prepare("SELECT name, role, hash, created_at, revoked FROM tokens")
                .map_err(sqlite_err)?;
            stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, bool>(4)?,
                ))
            })
            .map_err(sqlite_err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sqlite_err)?
        };
        let key: Option<Vec<u8>> = src
            .query_row(
                "SELECT value FROM secrets WHERE name = ?1",
                [super::SYSTEM_KEY],
                |r| r.get(0),
            )
            .optional()
            .map_err(sqlite_err)?;
        let (src_count, src_max): (i64, i64) = src
            .query_row(
                "SELECT count(*), COALESCE(max(seq), 0) FROM events",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(sqlite_err)?;
        let source_last: Option<String> = src
            .query_row("SELECT data FROM events WHERE seq = ?1", [src_max], |r| {
                r.get(0)
            })
            .optional()
            .map_err(sqlite_err)?;
        let ledger = read_ledger(&src).map_err(sqlite_err)?;
        let inner = self.inner.clone();
        let from = from.to_path_buf();
        // Shared with the async block, which reads the events page by page.
        let src = std::sync::Mutex::new(src);
        self.block(async move {
            let mut client = connect(&inner.config).await?;
            let tx = client.transaction().await?;
            let head: i64 = tx
                .query_one("SELECT seq FROM log_head FOR UPDATE", &[])
                .await?
                .get(0);
            let tokens: i64 = tx
                .query_one(
                    "SELECT (SELECT count(*) FROM tokens) + (SELECT count(*) FROM ssh_keys)",
                    &[],
                )
                .await?
                .get(0);
            if head != 0 || tokens != 0 {
                return Err(StoreError::Corrupt(format!(
                    "the target database is not empty ({head} events, {tokens} tokens and keys); migrate into a new database"
                )));
            }
            let mut after = 0i64;
            let mut copied = 0u64;
            loop {
                let page = {
                    let src = src.lock().unwrap_or_else(|p| p.into_inner());
                    read_page(&src, after).map_err(sqlite_err)?
                };
                let Some(last) = page.seq.last().copied() else {
                    break;
                };
                if page.seq.first().copied() != Some(after + 1) {
                    return Err(StoreError::Corrupt(format!(
                        "{}: the log has a gap after seq {after}",
                        from.display()
                    )));
                }
                tx.execute(
                    "INSERT INTO events (seq, id, command_id, incident, recorded_at, data)
                     SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])",
                    &[&page.seq, &page.id, &page.command, &page.incident, &page.recorded_at, &page.data],
                )
                .await?;
                copied += page.seq.len() as u64;
                after = last;
            }
            tx.execute("UPDATE log_head SET seq = $1", &[&after]).await?;

            tx.execute(
                "INSERT INTO command_digests (command_id, digest) SELECT * FROM UNNEST($1::text[], $2::text[])",
                &[&cmds, &digests],
            )
            .await?;

            for (name, role, hash, created_at, revoked) in &rows {
                tx.execute(
                    "INSERT INTO tokens (name, role, hash, created_at, revoked) VALUES ($1, $2, $3, $4, $5)",
                    &[name, role, hash, created_at, revoked],
                )
                .await?;
            }
            for (name, role, fp, public, created_at, revoked) in &keys {
                tx.execute(
                    "INSERT INTO ssh_keys (name, role, fingerprint, public_key, created_at, revoked)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[name, role, fp, public, created_at, revoked],
                )
                .await?;
            }
            // The system-id key replaces the one this empty database was
            // given when it was opened: derived ids must not change.
            if let Some(key) = key {
                tx.execute(
                    "INSERT INTO secrets (name, value) VALUES ($1, $2)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    &[&super::SYSTEM_KEY, &key],
                )
                .await?;
            }
            if let Some(l) = &ledger {
                tx.execute("UPDATE notify_position SET seq = $1", &[&l.position])
                    .await?;
                tx.execute(
                    "INSERT INTO notify_deliveries
                     (id, seq, incident, order_key, intent, state, attempts, give_up_at, next_at, last_error)
                     SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[],
                                          $6::text[], $7::int[], $8::int[], $9::bigint[], $10::text[])",
                    &[&l.id, &l.seq, &l.incident, &l.order_key, &l.intent, &l.state,
                      &l.attempts, &l.give_up_at, &l.next_at, &l.last_error],
                )
                .await?;
            }
            tx.execute("SELECT pg_notify($1, $2)", &[&super::CHANNEL, &after.to_string()])
                .await?;
            tx.commit().await?;

            // Verify what is now committed against the source.
            let row = client
                .query_one(
                    "SELECT count(*), COALESCE(max(seq), 0), COALESCE(min(seq), 0) FROM events",
                    &[],
                )
                .await?;
            let (count, max, min): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
            if count != src_count || max != src_max || (count > 0 && min != 1) || count != max {
                return Err(StoreError::Corrupt(format!(
                    "verification failed: the source has {src_count} events up to seq {src_max}, the target {count} from seq {min} to {max}"
                )));
            }
            if max > 0 {
                let target_last: String = client
                    .query_one("SELECT data FROM events WHERE seq = $1", &[&max])
                    .await?
                    .get(0);
                if Some(&target_last) != source_last.as_ref() {
                    return Err(StoreError::Corrupt(format!(
                        "verification failed: event {max} differs between source and target"
                    )));
                }
            }
            Ok(Imported {
                deliveries: ledger.map_or(0, |l| l.id.len() as u64),
                events: copied,
                last_seq: after as u64,
                tokens: rows.len() as u64,
                keys: keys.len() as u64,
                digests: cmds.len() as u64,
            })
        })
    }
}

/// One page of events, column by column (as UNNEST takes them).
#[derive(Default)]
struct Page {
    seq: Vec<i64>,
    id: Vec<String>,
    command: Vec<String>,
    incident: Vec<String>,
    recorded_at: Vec<String>,
    data: Vec<String>,
}

fn read_page(src: &rusqlite::Connection, after: i64) -> rusqlite::Result<Page> {
    let mut stmt = src.prepare_cached(
        "SELECT seq, id, command_id, incident, recorded_at, data FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let mut page = Page::default();
    let mut rows = stmt.query(rusqlite::params![after, PAGE])?;
    while let Some(r) = rows.next()? {
        page.seq.push(r.get(0)?);
        page.id.push(r.get(1)?);
        page.command.push(r.get(2)?);
        page.incident.push(r.get(3)?);
        page.recorded_at.push(r.get(4)?);
        page.data.push(r.get(5)?);
    }
    Ok(page)
}

/// The SQLite delivery ledger (`notify::ledger`), column by column.
struct LedgerRows {
    position: i64,
    id: Vec<String>,
    seq: Vec<i64>,
    incident: Vec<String>,
    order_key: Vec<String>,
    intent: Vec<String>,
    state: Vec<String>,
    attempts: Vec<i32>,
    give_up_at: Vec<i32>,
    next_at: Vec<i64>,
    last_error: Vec<String>,
}

/// The ledger, or `None` when the file never had a delivery worker (the
/// worker creates its tables on first start).
fn read_ledger(src: &rusqlite::Connection) -> rusqlite::Result<Option<LedgerRows>> {
    let tables: i64 = src.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'
         AND name IN ('notify_position', 'notify_deliveries')",
        [],
        |r| r.get(0),
    )?;
    if tables < 2 {
        return Ok(None);
    }
    let position: i64 = src
        .query_row("SELECT seq FROM notify_position WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?
        .unwrap_or(0);
    let mut l = LedgerRows {
        position,
        id: Vec::new(),
        seq: Vec::new(),
        incident: Vec::new(),
        order_key: Vec::new(),
        intent: Vec::new(),
        state: Vec::new(),
        attempts: Vec::new(),
        give_up_at: Vec::new(),
        next_at: Vec::new(),
        last_error: Vec::new(),
    };
    let mut stmt = src.prepare(
        "SELECT id, seq, incident, order_key, intent, state, attempts, give_up_at, next_at, last_error
         FROM notify_deliveries ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        l.id.push(r.get(0)?);
        l.seq.push(r.get(1)?);
        l.incident.push(r.get(2)?);
        l.order_key.push(r.get(3)?);
        l.intent.push(r.get(4)?);
        l.state.push(r.get(5)?);
        l.attempts.push(r.get(6)?);
        l.give_up_at.push(r.get(7)?);
        l.next_at.push(r.get(8)?);
        l.last_error.push(r.get(9)?);
    }
    Ok(Some(l))
}

fn two_columns(
    src: &rusqlite::Connection,
    sql: &str,
) -> rusqlite::Result<(Vec<String>, Vec<String>)> {
    let mut stmt = src.prepare(sql)?;
    let mut rows = stmt.query([])?;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    while let Some(r) = rows.next()? {
        a.push(r.get(0)?);
        b.push(r.get(1)?);
    }
    Ok((a, b))
}
