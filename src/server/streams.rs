//! Who holds which live stream: so that revoking a credential ends its
//! streams at once, and so that nobody can hold more streams than the server
//! can afford.
//!
//! Every live stream registers under the [`Principal`] that opened it and
//! holds a [`StreamTicket`] for as long as it runs (dropping the ticket gives
//! the slot back). [`Streams::end`] tells every stream of a principal to stop
//! now: a revoked token's streams do not wait for their next request (there is
//! none) nor for a cache to expire. A principal is a kind and a name, so an SSH
//! session fed in-process registers (and is ended) exactly like an HTTP stream.
//!
//! Caps: at most `per_principal` streams per principal and `total` in all. A
//! stream over a cap is refused before it starts, with the limit named.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Whom a stream belongs to: `Token("alice")`, later `SshKey("alice-laptop")`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Principal {
    Token(String),
    SshKey(String),
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Principal::Token(n) => write!(f, "token {n:?}"),
            Principal::SshKey(n) => write!(f, "SSH key {n:?}"),
        }
    }
}

/// Why a stream could not be opened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StreamRefused {
    #[error(
        "{who} already has {limit} live streams, the most one credential may hold; close one first"
    )]
    PerPrincipal { who: String, limit: usize },
    #[error("the server already serves {limit} live streams, its limit; retry later")]
    Total { limit: usize },
}

#[derive(Debug)]
struct Entry {
    open: usize,
    /// Set to the reason when the principal's streams must end.
    end: watch::Sender<Option<String>>,
}

#[derive(Debug, Default)]
struct Inner {
    by: HashMap<Principal, Entry>,
    total: usize,
}

/// The registry; cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct Streams {
    inner: Arc<Mutex<Inner>>,
    per_principal: usize,
    total: usize,
}

impl Streams {
    pub fn new(per_principal: usize, total: usize) -> Streams {
        Streams {
            inner: Arc::new(Mutex::new(Inner::default())),
            per_principal: per_principal.max(1),
            total: total.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a slot for a new stream of `who`, or says which cap is full.
    pub fn open(&self, who: Principal) -> Result<StreamTicket, StreamRefused> {
        let mut inner = self.lock();
        if inner.total >= self.total {
            return Err(StreamRefused::Total { limit: self.total });
        }
        let entry = inner.by.entry(who.clone()).or_insert_with(|| Entry {
            open: 0,
            end: watch::channel(None).0,
        });
        if entry.open >= self.per_principal {
            return Err(StreamRefused::PerPrincipal {
                who: who.to_string(),
                limit: self.per_principal,
            });
        }
        entry.open += 1;
        let ended = entry.end.subscribe();
        inner.total += 1;
        Ok(StreamTicket {
            streams: self.clone(),
            who,
            ended,
        })
    }

    /// Ends every live stream of `who` now, telling each `reason`. Streams
    /// opened afterwards are not affected (a revoked token cannot open one).
    pub fn end(&self, who: &Principal, reason: &str) -> usize {
        let mut inner = self.lock();
        let Some(entry) = inner.by.get_mut(who) else {
            return 0;
        };
        let old = std::mem::replace(&mut entry.end, watch::channel(None).0);
        old.send_replace(Some(reason.to_string()));
        entry.open
    }

    /// Live streams open now, of everyone.
    pub fn total(&self) -> usize {
        self.lock().total
    }

    /// Every principal with a live stream.
    pub fn principals(&self) -> Vec<Principal> {
        self.lock().by.keys().cloned().collect()
    }

    /// Live streams of `who`, and in all.
    pub fn count(&self, who: &Principal) -> (usize, usize) {
        let inner = self.lock();
        (inner.by.get(who).map_or(0, |e| e.open), inner.total)
    }

    fn release(&self, who: &Principal) {
        let mut inner = self.lock();
        inner.total = inner.total.saturating_sub(1);
        if let Some(e) = inner.by.get_mut(who) {
            e.open = e.open.saturating_sub(1);
            if e.open == 0 {
                inner.by.remove(who);
            }
        }
    }
}

/// Ends the streams of tokens revoked behind the server's back (`warroom
/// token revoke` writes the database directly, maybe from another process):
/// every `period`, while any stream is open, one read of the token table.
/// A revocation through the API ends the streams at once without this.
pub async fn sweep_revoked(
    state: Arc<super::state::AppState>,
    period: std::time::Duration,
    mut stop: watch::Receiver<bool>,
) {
    let period = period.max(std::time::Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(period) => {}
        }
        let holders: Vec<String> = state
            .streams
            .principals()
            .into_iter()
            .filter_map(|p| match p {
                Principal::Token(n) => Some(n),
                Principal::SshKey(_) => None,
            })
            .collect();
        if holders.is_empty() {
            continue;
        }
        let store = state.token_store.clone();
        let Ok(Ok(tokens)) = tokio::task::spawn_blocking(move || store.list_tokens()).await else {
            continue;
        };
        for t in tokens
            .iter()
            .filter(|t| t.revoked && holders.contains(&t.name))
        {
            state.tokens.forget(&t.name);
            let n = state.streams.end(
                &Principal::Token(t.name.clone()),
                &format!("token {:?} was revoked", t.name),
            );
            tracing::info!(name = %t.name, streams = n, "ended the revoked token's live streams");
        }
    }
}

/// One live stream's slot; given back when dropped.
#[derive(Debug)]
pub struct StreamTicket {
    streams: Streams,
    who: Principal,
    ended: watch::Receiver<Option<String>>,
}

impl StreamTicket {
    /// Resolves with the reason once the stream must end ([`Streams::end`]).
    pub async fn ended(&mut self) -> String {
        if let Ok(r) = self.ended.wait_for(Option::is_some).await
            && let Some(reason) = r.clone()
        {
            return reason;
        }
        // The sender is only dropped after it said why, or with the server.
        self.ended_now()
            .unwrap_or_else(|| "the server stopped serving this stream".into())
    }

    /// The reason, if the stream must already have ended (never waits).
    pub fn ended_now(&self) -> Option<String> {
        self.ended.borrow().clone()
    }

    pub fn principal(&self) -> &Principal {
        &self.who
    }
}

impl Drop for StreamTicket {
    fn drop(&mut self) {
        self.streams.release(&self.who);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_principal_and_in_all_and_slots_come_back() {
        let s = Streams::new(2, 3);
        let alice = Principal::Token("alice".into());
        let bob = Principal::Token("bob".into());
        let a1 = s.open(alice.clone()).unwrap();
        let _a2 = s.open(alice.clone()).unwrap();
        assert!(matches!(
            s.open(alice.clone()),
            Err(StreamRefused::PerPrincipal { limit: 2, .. })
        ));
        let _b1 = s.open(bob.clone()).unwrap();
        assert_eq!(
            s.open(bob.clone()).unwrap_err(),
            StreamRefused::Total { limit: 3 }
        );
        drop(a1);
        assert_eq!(s.count(&alice), (1, 2));
        assert!(s.open(bob).is_ok());
    }

    #[tokio::test]
    async fn ending_a_principal_ends_only_its_streams() {
        let s = Streams::new(4, 10);
        let alice = Principal::Token("alice".into());
        let mut a = s.open(alice.clone()).unwrap();
        let mut b = s.open(Principal::SshKey("alice".into())).unwrap();
        assert_eq!(s.end(&alice, "revoked by admin"), 1);
        assert_eq!(a.ended().await, "revoked by admin");
        let waited = tokio::time::timeout(std::time::Duration::from_millis(50), b.ended()).await;
        assert!(waited.is_err(), "another principal's stream must go on");
        // A stream opened after the end is not ended by it.
        let mut later = s.open(alice).unwrap();
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(50), later.ended()).await;
        assert!(waited.is_err());
    }
}
