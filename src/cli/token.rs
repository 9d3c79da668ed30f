//! `warroom token create|list|revoke`: token administration straight on the
//! server's database (works whether or not the server is running; a running
//! server notices a CLI revocation within its token cache time, 5 s).

use super::TokenCmd;
use crate::domain::command::Access;
use crate::server::auth::validate_token_name;
use crate::store::{
    Location, PgStore, SqliteStore, StoreError, TokenStore, hash_token, new_secret,
};
use anyhow::Context;
use std::path::Path;

/// `--db` as a location: a SQLite file, or the PostgreSQL database replicas
/// share (`postgres://…`), whose tokens every replica reads.
fn location(db: &Path) -> anyhow::Result<Location> {
    match db.to_str() {
        Some(text) => Location::parse(text).map_err(|e| anyhow::anyhow!("--db: {e}")),
        None => Ok(Location::Sqlite(db.to_path_buf())),
    }
}

pub(crate) fn open(db: &Path) -> anyhow::Result<Box<dyn TokenStore>> {
    let at = location(db)?;
    Ok(match &at {
        Location::Sqlite(path) => {
            Box::new(SqliteStore::open(path).with_context(|| format!("opening the database {at}"))?)
        }
        Location::Postgres(url) => {
            Box::new(PgStore::open(url).with_context(|| format!("opening the database {at}"))?)
        }
    })
}

/// Listing or revoking on a file that does not exist is a typo, not a new database.
pub(crate) fn open_existing(db: &Path) -> anyhow::Result<Box<dyn TokenStore>> {
    if let Location::Sqlite(path) = location(db)?
        && !path.exists()
    {
        anyhow::bail!(
            "no database at {} (pass --db with the server's file)",
            path.display()
        );
    }
    open(db)
}

/// The database as it may be printed (a URL's password hidden).
pub(crate) fn shown(db: &Path) -> String {
    location(db).map_or_else(|_| db.display().to_string(), |l| l.redacted())
}

/// `--db` if given; else `./warroom.db` when it exists (a team server started
/// here with the default); else the embedded store `warroom` itself runs on,
/// so `token list` on a laptop finds it without knowing the XDG path.
pub(crate) fn database(db: Option<std::path::PathBuf>) -> anyhow::Result<std::path::PathBuf> {
    if let Some(db) = db {
        return Ok(db);
    }
    let here = std::path::PathBuf::from("warroom.db");
    if here.exists() {
        return Ok(here);
    }
    let dirs = crate::config::Dirs::discover().map_err(|e| anyhow::anyhow!(e))?;
    Ok(dirs.data.join("warroom.db"))
}

pub fn run(cmd: TokenCmd) -> anyhow::Result<i32> {
    match cmd {
        TokenCmd::Create { name, role, db } => {
            let db = database(db)?;
            if let Err(e) = validate_token_name(&name) {
                eprintln!("warroom token create: --name: {e}");
                return Ok(2);
            }
            let store = open(&db)?;
            let secret = new_secret();
            match store.create_token(&name, role, &hash_token(&secret)) {
                Ok(_) => {
                    println!("{secret}");
                    eprintln!(
                        "warroom: created {} token {name:?}; the secret above is shown only once (only its hash is stored)",
                        role.as_str()
                    );
                    if role == Access::Integration {
                        eprintln!(
                            "warroom: it may only send alerts: as the bearer token of an Alertmanager webhook (POST /api/v1/ingest/alertmanager), or as the routing_key of PagerDuty Events v2 senders (POST /api/v1/ingest/events/v2)"
                        );
                    }
                    Ok(0)
                }
                Err(StoreError::NameTaken(n)) => {
                    eprintln!("warroom token create: a token named {n:?} already exists");
                    Ok(1)
                }
                Err(e) => Err(e.into()),
            }
        }
        TokenCmd::List { db } => {
            let db = database(db)?;
            let store = open_existing(&db)?;
            let tokens = store.list_tokens()?;
            if tokens.is_empty() {
                eprintln!("warroom: no tokens in {}", shown(&db));
            }
            for t in tokens {
                println!(
                    "{:<24} {:<10} {}{}",
                    t.name,
                    t.role.as_str(),
                    t.created_at.format("%Y-%m-%d %H:%M:%SZ"),
                    if t.revoked { "  revoked" } else { "" }
                );
            }
            Ok(0)
        }
        TokenCmd::Revoke { name, db } => {
            let db = database(db)?;
            let store = open_existing(&db)?;
            if store.revoke_token(&name)? {
                eprintln!("warroom: revoked token {name:?}");
                Ok(0)
            } else {
                eprintln!("warroom token revoke: no live token named {name:?}");
                Ok(1)
            }
        }
    }
}
