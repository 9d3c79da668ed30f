//! Bearer tokens and roles.
//!
//! A token is `wr_` + 32 random bytes in hex, shown once when created; the
//! store keeps only its SHA-256. Its *name* is the actor of every event the
//! token writes — never a name taken from the request body. Roles are the
//! domain's [`Access`] levels: viewer reads; responder also notes, acknowledges
//! and ticks checklists; commander does everything on incidents; admin also
//! manages tokens.
//!
//! The embedded single-user default ([`bootstrap_local_token`]): when the TUI
//! starts its own server on loopback, there is no admin to mint a token, so the
//! server creates one for the local user (or reuses it) and keeps the secret in
//! `local.token` next to the database, readable only by its owner (0600). It is
//! used only on loopback binds ([`super::start`] refuses otherwise); a team
//! server started with `warroom serve` never creates a token by itself.

use super::error::ApiError;
use super::state::AppState;
use crate::domain::command::Access;
use crate::store::{TokenRecord, TokenStore, hash_token, new_secret};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Name of the file holding the embedded server's local token.
pub const LOCAL_TOKEN_FILE: &str = "local.token";

/// The caller of a request, from its verified bearer token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Access,
}

impl Caller {
    /// 403 naming the role the request needs, unless the caller has it.
    pub fn require(&self, needed: Access, what: &str) -> Result<(), ApiError> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "{what} needs the {} role; {:?} has the {} role",
                needed.as_str(),
                self.name,
                self.role.as_str()
            )))
        }
    }
}

/// Verified tokens, remembered for a short while so that a busy client costs
/// one hash and one map lookup per request instead of a database read.
#[derive(Debug)]
pub struct TokenCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (TokenRecord, Instant)>>,
}

impl TokenCache {
    pub fn new(ttl: Duration) -> TokenCache {
        TokenCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (TokenRecord, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live token with this hash, if any.
    pub async fn lookup(
        &self,
        hash: &str,
        store: &Arc<dyn TokenStore>,
    ) -> Result<Option<TokenRecord>, ApiError> {
        if let Some((rec, at)) = self.entries().get(hash)
            && at.elapsed() < self.ttl
        {
            return Ok(Some(rec.clone()));
        }
        let store = store.clone();
        let key = hash.to_string();
        let found = tokio::task::spawn_blocking(move || store.token_by_hash(&key))
            .await
            .map_err(|e| ApiError::internal(format!("token lookup task failed: {e}")))?
            .map_err(ApiError::internal)?
            .filter(|t| !t.revoked);
        let mut entries = self.entries();
        match &found {
            Some(rec) => {
                entries.insert(hash.to_string(), (rec.clone(), Instant::now()));
            }
            None => {
                entries.remove(hash);
            }
        }
        Ok(found)
    }

    /// Forgets a token at once (after a revocation through the API).
    pub fn forget(&self, name: &str) {
        self.entries().retain(|_, (rec, _)| rec.name != name);
    }
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("missing bearer token: send `Authorization: Bearer TOKEN`")
        })?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::unauthorized("the Authorization header is not valid text"))?;
        let secret = bearer_secret(value).ok_or_else(|| {
            ApiError::unauthorized("the Authorization header must be `Bearer TOKEN`")
        })?;
        let record = state
            .tokens
            .lookup(&hash_token(secret), &state.token_store)
            .await?
            .ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))?;
        if record.role == Access::Integration {
            return Err(ApiError::forbidden(format!(
                "token {:?} has the integration role, which may only send alerts (POST /api/v1/ingest/alertmanager, /api/v1/ingest/events/v2)",
                record.name
            )));
        }
        if let Some(limiter) = &state.limiter
            && let Err(wait) = limiter.check(&record.name, Instant::now())
        {
            let limit = limiter.limit();
            let secs = wait.as_secs_f64().ceil() as u64;
            return Err(ApiError::rate_limited(
                secs,
                format!(
                    "too many requests for token {:?}: the limit is {} per second (bursts of {}); retry in {secs} s",
                    record.name, limit.per_sec, limit.burst
                ),
            ));
        }
        Ok(Caller {
            name: record.name,
            role: record.role,
        })
    }
}

/// The integration token whose secret is `secret` (a bearer token or an
/// Events v2 routing key), or why not. Integration tokens are not rate
/// limited per token: an alert storm must be answered, not refused, and the
/// grouping rules keep it from becoming a storm of incidents. Admin tokens may
/// ingest too (for trying a receiver out by hand).
pub async fn integration(state: &Arc<AppState>, secret: &str) -> Result<Caller, String> {
    let record = state
        .tokens
        .lookup(&hash_token(secret.trim()), &state.token_store)
        .await
        .map_err(|e| e.body.error)?
        .ok_or_else(|| "unknown or revoked token".to_string())?;
    if !matches!(record.role, Access::Integration | Access::Admin) {
        return Err(format!(
            "token {:?} has the {} role; sending alerts needs an integration token (warroom token create --role integration)",
            record.name,
            record.role.as_str()
        ));
    }
    Ok(Caller {
        name: record.name,
        role: record.role,
    })
}

/// The credentials of `Bearer TOKEN`. The scheme is case-insensitive (RFC
/// 9110 §11.1: `BEARER x` and `bearer x` are the same), separated from the
/// token by one or more spaces or tabs.
pub(crate) fn bearer_secret(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim_start().split_once([' ', '\t'])?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    Some(rest.trim()).filter(|s| !s.is_empty())
}

/// A token name becomes the actor on the timeline: a short, printable handle.
pub fn validate_token_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 64 {
        return Err("name must be 1 to 64 characters".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')))
    {
        return Err(format!(
            "name may only contain letters, digits, '.', '_', '-' and '@' (found {c:?})"
        ));
    }
    if name.eq_ignore_ascii_case(crate::domain::escalation::ACTOR) {
        return Err(format!(
            "name {:?} is reserved for automatic escalations",
            crate::domain::escalation::ACTOR
        ));
    }
    Ok(())
}

/// Creates or reuses the embedded server's token for the local user (see
/// the module docs) and returns its secret.
pub fn bootstrap_local_token(
    store: &dyn TokenStore,
    dir: &Path,
    name: &str,
    role: Access,
) -> anyhow::Result<String> {
    validate_token_name(name).map_err(|e| anyhow::anyhow!("local token: {e}"))?;
    let file = dir.join(LOCAL_TOKEN_FILE);
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(&file) {
        use std::os::unix::fs::PermissionsExt;
        // Someone loosened it (or copied it around): the secret stays the owner's.
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    if let Ok(text) = std::fs::read_to_string(&file) {
        let secret = text.trim().to_string();
        if !secret.is_empty() {
            let hash = hash_token(&secret);
            if let Some(rec) = store.token_by_hash(&hash)?
                && rec.name == name
                && !rec.revoked
            {
                if rec.role != role {
                    store.put_token(name, role, &hash)?;
                }
                return Ok(secret);
            }
        }
    }
    let secret = new_secret();
    write_private(&file, &secret)?;
    store.put_token(name, role, &hash_token(&secret))?;
    Ok(secret)
}

/// Writes `secret` to `file` readable by its owner only, replacing it atomically.
fn write_private(file: &Path, secret: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let tmp = file.with_extension("token.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&tmp)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
    f.write_all(secret.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    std::fs::rename(&tmp, file)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", file.display()))?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn token_names() {
        assert!(validate_token_name("alice").is_ok());
        assert!(validate_token_name("ci-bot_2@ops.example").is_ok());
        assert!(validate_token_name("").is_err());
        assert!(validate_token_name("a b").unwrap_err().contains("' '"));
        assert!(
            validate_token_name("Scheduler")
                .unwrap_err()
                .contains("reserved")
        );
        assert!(validate_token_name(&"x".repeat(65)).is_err());
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for ok in [
            "Bearer wr_x",
            "bearer wr_x",
            "BEARER wr_x",
            "bEaReR \t wr_x ",
        ] {
            assert_eq!(bearer_secret(ok), Some("wr_x"), "{ok:?}");
        }
        for bad in ["Bearerwr_x", "Basic wr_x", "Bearer ", "wr_x", ""] {
            assert_eq!(bearer_secret(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn caller_roles() {
        let c = Caller {
            name: "bob".into(),
            role: Access::Responder,
        };
        assert!(c.require(Access::Viewer, "reading").is_ok());
        assert!(c.require(Access::Responder, "a note").is_ok());
        let e = c.require(Access::Commander, "set_severity").unwrap_err();
        assert_eq!(e.status, axum::http::StatusCode::FORBIDDEN);
        assert!(e.body.error.contains("commander"), "{}", e.body.error);
    }
}
