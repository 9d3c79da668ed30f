//! `warroom key add|list|revoke` and `warroom ssh fingerprint`: the SSH
//! seat's administration, straight on the server's database like `warroom
//! token` (a running server looks each login's key up as it comes, and ends a
//! revoked key's sessions within a second).

use super::token::{database, open, open_existing, shown};
use super::{KeyCmd, SshCmd};
use crate::domain::command::Access;
use crate::server::auth::validate_token_name;
use crate::ssh::{hostkey, keys};
use crate::store::StoreError;
use anyhow::Context as _;
use std::io::Read as _;

pub fn run(cmd: KeyCmd) -> anyhow::Result<i32> {
    match cmd {
        KeyCmd::Add {
            name,
            role,
            file,
            db,
        } => {
            if role == Access::Integration {
                eprintln!(
                    "warroom key add: --role integration only sends alerts, which nobody does over SSH; use viewer, responder, commander or admin"
                );
                return Ok(2);
            }
            if let Err(e) = validate_token_name(&name) {
                eprintln!("warroom key add: --name: {e}");
                return Ok(2);
            }
            let text = if file.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("reading the key from standard input")?;
                s
            } else {
                match std::fs::read(&file) {
                    Ok(bytes) if bytes.len() > 64 * 1024 => {
                        eprintln!(
                            "warroom key add: {}: {} bytes is no public key (a .pub file is one line)",
                            file.display(),
                            bytes.len()
                        );
                        return Ok(2);
                    }
                    Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Err(e) => {
                        eprintln!("warroom key add: {}: {e}", file.display());
                        return Ok(2);
                    }
                }
            };
            let parsed = match keys::parse_public_key(&text) {
                Ok(k) => k,
                Err(e) => {
                    eprintln!("warroom key add: {}: {e}", file.display());
                    return Ok(2);
                }
            };
            let db = database(db)?;
            let store = open(&db)?;
            match store.create_key(&name, role, &parsed.fingerprint, &parsed.openssh) {
                Ok(_) => {
                    println!("{}", parsed.fingerprint);
                    eprintln!(
                        "warroom: {name:?} may now sign in over SSH as a {} with this {} key",
                        role.as_str(),
                        parsed.algorithm
                    );
                    Ok(0)
                }
                Err(StoreError::NameTaken(n)) => {
                    eprintln!("warroom key add: a key named {n:?} already exists");
                    Ok(1)
                }
                Err(StoreError::KeyTaken(n)) => {
                    eprintln!("warroom key add: this key is already registered as {n:?}");
                    Ok(1)
                }
                Err(e) => Err(e.into()),
            }
        }
        KeyCmd::List { db } => {
            let db = database(db)?;
            let store = open_existing(&db)?;
            let keys = store.list_keys()?;
            if keys.is_empty() {
                eprintln!("warroom: no SSH keys in {}", shown(&db));
            }
            for k in keys {
                println!(
                    "{:<24} {:<10} {} {}{}",
                    k.name,
                    k.role.as_str(),
                    k.fingerprint,
                    k.created_at.format("%Y-%m-%d %H:%M:%SZ"),
                    if k.revoked { "  revoked" } else { "" }
                );
            }
            Ok(0)
        }
        KeyCmd::Revoke { name, db } => {
            let db = database(db)?;
            let store = open_existing(&db)?;
            if store.revoke_key(&name)? {
                eprintln!("warroom: revoked SSH key {name:?}; its live sessions end now");
                Ok(0)
            } else {
                eprintln!("warroom key revoke: no live SSH key named {name:?}");
                Ok(1)
            }
        }
    }
}

pub fn run_ssh(cmd: SshCmd) -> anyhow::Result<i32> {
    match cmd {
        SshCmd::Fingerprint { db } => {
            let path = hostkey::path_for(&database(db)?);
            let key = hostkey::load(&path)?;
            println!("{}", hostkey::fingerprint(&key));
            Ok(0)
        }
    }
}
