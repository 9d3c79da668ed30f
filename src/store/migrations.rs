//! Embedded schema migrations, applied in order at open time.
//!
//! `schema_version` holds one row: how many entries of [`MIGRATIONS`] have been
//! applied. A database written by a newer build (a higher version than this
//! list knows) is refused rather than silently misread.

use super::StoreError;
use rusqlite::{Connection, OptionalExtension};

/// Each entry is one migration; never edit a released one, append a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: the event log and the tokens.
    "
    CREATE TABLE events (
        -- Global, gap-free order, assigned by the single writer inside the transaction.
        seq          INTEGER PRIMARY KEY,
        -- The event's client-made id: the idempotency key.
        id           TEXT NOT NULL UNIQUE,
        -- The command the event came from (its first event carries the same id).
        command_id   TEXT NOT NULL,
        incident     TEXT NOT NULL,
        recorded_at  TEXT NOT NULL,
        -- The whole `Recorded` as JSON, exactly as served.
        data         TEXT NOT NULL
    );
    CREATE INDEX events_command ON events(command_id);
    CREATE INDEX events_incident ON events(incident, seq);

    CREATE TABLE tokens (
        name        TEXT PRIMARY KEY,
        role        TEXT NOT NULL,
        -- SHA-256 of the secret, hex; the secret itself is never stored.
        hash        TEXT NOT NULL UNIQUE,
        created_at  TEXT NOT NULL,
        revoked     INTEGER NOT NULL DEFAULT 0
    );
    ",
    // 2: the per-database secret system ids are derived under, and what each
    // command id was first used for (so a reused idempotency key with another
    // request is refused instead of answered as a duplicate).
    "
    CREATE TABLE secrets (
        name   TEXT PRIMARY KEY,
        -- Never served by any endpoint nor exported: it only lives here.
        value  BLOB NOT NULL
    );

    CREATE TABLE command_digests (
        command_id  TEXT PRIMARY KEY,
        -- SHA-256 of the actor and the canonical command, hex.
        digest      TEXT NOT NULL
    );
    ",
    // 3: read-model checkpoints, so a restart folds only the events after one.
    "
    CREATE TABLE checkpoints (
        -- The last event folded into it.
        seq       INTEGER PRIMARY KEY,
        -- That event's id: a checkpoint is used only if the log still has it at `seq`.
        event_id  TEXT NOT NULL,
        data      BLOB NOT NULL
    );
    ",
    // 4: SSH public keys for the SSH seat (beside the tokens: same names and roles).
    "
    CREATE TABLE ssh_keys (
        name         TEXT PRIMARY KEY,
        role         TEXT NOT NULL,
        -- SHA256:... of the public key, as `ssh-keygen -l` prints it.
        fingerprint  TEXT NOT NULL UNIQUE,
        -- The public key in OpenSSH form (only public material is stored).
        public_key   TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        revoked      INTEGER NOT NULL DEFAULT 0
    );
    ",
];

/// Brings the schema up to date inside one transaction; returns the version.
pub fn migrate(conn: &mut Connection) -> Result<i64, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);")?;
    let current: Option<i64> = tx
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .optional()?;
    let known = MIGRATIONS.len() as i64;
    let current = match current {
        Some(v) => v,
        None => {
            tx.execute("INSERT INTO schema_version (version) VALUES (0)", [])?;
            0
        }
    };
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql)?;
        tx.execute("UPDATE schema_version SET version = ?1", [i as i64 + 1])?;
    }
    tx.commit()?;
    Ok(known)
}
