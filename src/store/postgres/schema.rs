//! The PostgreSQL schema, as embedded migrations applied at open time.
//!
//! `warroom_schema` holds one row: how many entries of [`MIGRATIONS`] have
//! been applied. A database migrated by a newer build is refused rather than
//! misread. Replicas starting at once take a transaction-scoped advisory lock
//! first, so exactly one of them migrates and the others see its result.
//!
//! Ids and times are TEXT, as in the SQLite schema: `warroom migrate` copies
//! rows between the two unchanged, and the JSON in `data` is served byte for
//! byte as it was stored (a `jsonb` column would reorder its keys).

use crate::store::StoreError;

/// Each entry is one migration; never edit a released one, append a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: the log, its head, tokens, secrets, command digests, checkpoints.
    "
    CREATE TABLE log_head (
        -- One row: the seq of the last event committed. Every append locks it
        -- (SELECT ... FOR UPDATE) for the length of its transaction.
        only_row  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
        seq       BIGINT NOT NULL
    );
    INSERT INTO log_head (only_row, seq) VALUES (TRUE, 0);

    CREATE TABLE events (
        seq          BIGINT PRIMARY KEY,
        id           TEXT NOT NULL UNIQUE,
        command_id   TEXT NOT NULL,
        incident     TEXT NOT NULL,
        recorded_at  TEXT NOT NULL,
        data         TEXT NOT NULL
    );
    CREATE INDEX events_command ON events(command_id);
    CREATE INDEX events_incident ON events(incident, seq);

    CREATE TABLE tokens (
        name        TEXT PRIMARY KEY,
        role        TEXT NOT NULL,
        hash        TEXT NOT NULL UNIQUE,
        created_at  TEXT NOT NULL,
        revoked     BOOLEAN NOT NULL DEFAULT FALSE
    );

    CREATE TABLE secrets (
        name   TEXT PRIMARY KEY,
        value  BYTEA NOT NULL
    );

    CREATE TABLE command_digests (
        command_id  TEXT PRIMARY KEY,
        digest      TEXT NOT NULL
    );

    CREATE TABLE checkpoints (
        seq       BIGINT PRIMARY KEY,
        event_id  TEXT NOT NULL,
        data      BYTEA NOT NULL
    );
    ",
    // 2: SSH public keys for the SSH seat (beside the tokens: same names and roles).
    "
    CREATE TABLE ssh_keys (
        name         TEXT PRIMARY KEY,
        role         TEXT NOT NULL,
        fingerprint  TEXT NOT NULL UNIQUE,
        public_key   TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        revoked      BOOLEAN NOT NULL DEFAULT FALSE
    );
    ",
    // 3: the notification delivery ledger (see `notify::ledger_pg`): the seq
    // up to which the log has been routed, and one row per delivery.
    "
    CREATE TABLE notify_position (
        only_row  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
        seq       BIGINT NOT NULL
    );
    INSERT INTO notify_position (only_row, seq) VALUES (TRUE, 0);

    CREATE TABLE notify_deliveries (
        id          TEXT PRIMARY KEY,
        seq         BIGINT NOT NULL,
        incident    TEXT NOT NULL,
        order_key   TEXT NOT NULL,
        intent      TEXT NOT NULL,
        -- pending | sent | gave_up
        state       TEXT NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        -- The try after which it is given up (a manual retry grants another budget).
        give_up_at  INTEGER NOT NULL,
        -- Unix milliseconds.
        next_at     BIGINT NOT NULL,
        last_error  TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX notify_deliveries_pending ON notify_deliveries(state, order_key, seq);
    ",
];

/// The advisory lock key migrations run under (any constant unique to warroom).
const MIGRATE_LOCK: i64 = 0x7761_7272_6f6f_6d01;

/// Brings the schema up to date inside one transaction; returns the version.
pub async fn migrate(client: &mut tokio_postgres::Client) -> Result<i64, StoreError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS warroom_schema (version BIGINT NOT NULL)")
        .await?;
    let current: Option<i64> = tx
        .query_opt("SELECT version FROM warroom_schema", &[])
        .await?
        .map(|r| r.get(0));
    let known = MIGRATIONS.len() as i64;
    let current = match current {
        Some(v) => v,
        None => {
            tx.execute("INSERT INTO warroom_schema (version) VALUES (0)", &[])
                .await?;
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
        tx.batch_execute(sql).await?;
        tx.execute("UPDATE warroom_schema SET version = $1", &[&(i as i64 + 1)])
            .await?;
    }
    tx.commit().await?;
    Ok(known)
}
