//! Ids the system writes under, unforgeable by clients.
//!
//! The scheduler (and ingest, and notification delivery) must write each of
//! its events exactly once, also across restarts and replicas, so their ids
//! are deterministic: derived from what they are about (incident + rule,
//! incident + channel + due time, alert group + content …). But an id anyone
//! can compute is an id anyone can *take*: a client that posts any command
//! under the scheduler's id first turns the escalation into a "duplicate" and
//! silences it. So the derivation is keyed: HMAC-SHA256 under a secret that
//! lives in the database and never leaves the server.
//!
//! The result is a UUID of version 8 (RFC 9562, "custom"). Clients make
//! version 4 (random) or 5 (derived from their session) ids; the server
//! refuses a client command whose id is version 8, so a client command can
//! never collide with a system id even by chance.
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// The per-database key under which system ids are derived.
#[derive(Clone)]
pub struct SystemIds {
    key: [u8; 32],
}

impl std::fmt::Debug for SystemIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SystemIds(..)")
    }
}

impl SystemIds {
    pub fn new(key: [u8; 32]) -> SystemIds {
        SystemIds { key }
    }

    /// The id for `parts` in `namespace` (e.g. `"rule"`, `[incident, rule name]`).
    /// Parts are length-prefixed, so `["ab","c"]` and `["a","bc"]` differ.
    pub fn derive(&self, namespace: &str, parts: &[&[u8]]) -> Uuid {
        #[allow(clippy::expect_used)]
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        for part in std::iter::once(namespace.as_bytes()).chain(parts.iter().copied()) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        let digest = mac.finalize().into_bytes();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    }
}

/// Whether `id` is of the shape only [`SystemIds::derive`] makes (version 8).
pub fn is_system_id(id: Uuid) -> bool {
    id.get_version_num() == 8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_version_8_stable_and_keyed() {
        let a = SystemIds::new([1; 32]);
        let b = SystemIds::new([2; 32]);
        let x = a.derive("rule", &[b"inc", b"backup"]);
        assert!(is_system_id(x));
        assert_eq!(x, a.derive("rule", &[b"inc", b"backup"]));
        assert_ne!(x, b.derive("rule", &[b"inc", b"backup"]));
        assert_ne!(x, a.derive("rule", &[b"in", b"cbackup"]));
        assert_ne!(x, a.derive("overdue", &[b"inc", b"backup"]));
        assert!(!is_system_id(Uuid::new_v4()));
        assert!(!is_system_id(Uuid::new_v5(&Uuid::nil(), b"x")));
    }
}
