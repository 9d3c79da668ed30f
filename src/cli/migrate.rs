//! `warroom migrate --from warroom.db --to postgres://…`: moving a team from
//! the embedded SQLite store to PostgreSQL (and several replicas). The copy
//! itself is [`crate::store::PgStore::import_sqlite`]: one transaction, then
//! verified by count, seq and the last event's bytes.

use super::MigrateArgs;
use crate::store::{Location, PgStore};
use anyhow::Context;

pub fn run(args: MigrateArgs) -> anyhow::Result<i32> {
    let url = match Location::parse(&args.to) {
        Ok(Location::Postgres(url)) => url,
        Ok(Location::Sqlite(_)) => {
            eprintln!(
                "warroom migrate: --to must be a PostgreSQL URL (postgres://USER@HOST/DB), not a file"
            );
            return Ok(2);
        }
        Err(e) => {
            eprintln!("warroom migrate: --to: {e}");
            return Ok(2);
        }
    };
    if !args.from.exists() {
        eprintln!(
            "warroom migrate: --from: no SQLite database at {}",
            args.from.display()
        );
        return Ok(2);
    }
    let target = Location::Postgres(url.clone());
    let store = PgStore::open(&url).with_context(|| format!("opening the database {target}"))?;
    let done = store
        .import_sqlite(&args.from)
        .with_context(|| format!("copying {} into {target}", args.from.display()))?;
    println!(
        "copied {} events (seq 1..{}), {} tokens, {} SSH keys, {} command digests, {} notification deliveries from {} to {target}; verified by count, seq and the last event",
        done.events,
        done.last_seq,
        done.tokens,
        done.keys,
        done.digests,
        done.deliveries,
        args.from.display()
    );
    Ok(0)
}
