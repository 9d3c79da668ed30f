//! What the server keeps in memory, and why there are two worlds.
//!
//! - The **decision model** ([`Decider`], under an async mutex) is what
//!   `decide` runs against: everything committed *plus* everything already
//!   queued for the writer. Two concurrent commands on one incident are decided
//!   one after the other against the latest state (the second acknowledge is
//!   refused even if the first is not on disk yet), and the order in which they
//!   are queued is the order of their seqs.
//! - The **read model** ([`View`], under a `RwLock`) is updated by the store's
//!   commit hook, on the writer thread, in seq order, before the authors are
//!   answered. Readers (`GET /incidents`…) therefore only ever see durable
//!   events, and `latest_seq` always matches what they see.
//!
//! The hook also publishes each committed event to the live broadcast — in seq
//! order, serialised once — and wakes the scheduler.

use super::ServerConfig;
use super::auth::TokenCache;
use super::metrics::Metrics;
use super::rate::RateLimiter;
use super::streams::Streams;
use crate::domain::ids::SystemIds;
use crate::domain::policy::Policy;
use crate::domain::state::World;
use crate::store::{EventStore, StoreError, StoredEvent};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock, Weak};
use tokio::sync::{Notify, broadcast, watch};
use uuid::Uuid;

/// The state commands are decided against (committed + queued).
#[derive(Debug, Default)]
pub struct Decider {
    pub world: World,
    /// Every command id committed or queued: a repeat is answered from the
    /// store (or from the in-flight append) instead of being decided again.
    pub known: HashSet<Uuid>,
}

/// The committed state readers see.
#[derive(Debug, Default)]
pub struct View {
    pub world: World,
    pub latest_seq: u64,
}

/// What the live broadcast carries. Shutdown travels the same channel as the
/// events, so a subscriber waits on one thing only (no per-event registration
/// on a second, shared signal).
#[derive(Clone, Debug)]
pub enum Live {
    Event(Arc<StoredEvent>),
    Shutdown,
}

/// The outcome of an in-flight append, shared with retries of the same command id.
pub type Shared = Result<crate::store::Appended, String>;

/// An append queued but not yet answered.
#[derive(Clone, Debug)]
pub struct Inflight {
    /// The digest of the request (actor + command) it was queued for; `None`
    /// for the scheduler's own events.
    pub digest: Option<String>,
    pub outcome: watch::Receiver<Option<Shared>>,
}

pub struct AppState {
    pub store: Arc<dyn EventStore>,
    pub policy: Arc<Policy>,
    pub config: ServerConfig,
    pub decider: tokio::sync::Mutex<Decider>,
    /// Appends queued but not yet answered, by command id.
    pub inflight: Mutex<HashMap<Uuid, Inflight>>,
    /// Set when a commit failed: the decision model may hold events that never
    /// reached the disk and must be rebuilt before the next decision.
    pub needs_recovery: AtomicBool,
    pub view: RwLock<View>,
    pub live: broadcast::Sender<Live>,
    pub tokens: TokenCache,
    pub limiter: Option<RateLimiter>,
    /// Flips to true on shutdown; streams and the scheduler watch it.
    pub stop: watch::Receiver<bool>,
    /// Poked after every commit so the scheduler re-evaluates.
    pub wake_scheduler: Notify,
    /// Poked after every commit so the delivery worker routes what is new.
    pub wake_notifier: Notify,
    /// Counters for `GET /metrics`.
    pub metrics: Metrics,
    /// Every live stream by its principal: caps, and ending a revoked one's.
    pub streams: Streams,
    /// The database's key for system ids (see [`AppState::system_ids`]).
    system_ids: SystemIds,
}

impl AppState {
    /// Folds the whole log into both models and installs the commit hook.
    pub async fn load(
        config: ServerConfig,
        store: Arc<dyn EventStore>,
        stop: watch::Receiver<bool>,
    ) -> anyhow::Result<Arc<AppState>> {
        let (decider, view, key) = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || {
                let (decider, view) = fold_log(&*store)?;
                Ok::<_, StoreError>((decider, view, store.system_key()?))
            })
            .await??
        };
        let (live, _) = broadcast::channel(config.broadcast_capacity.max(16));
        let config_streams = (config.max_streams_per_token, config.max_streams);
        let state = Arc::new(AppState {
            store: store.clone(),
            policy: Arc::new(config.policy.clone()),
            tokens: TokenCache::new(config.token_cache_ttl),
            limiter: config.rate_limit.map(RateLimiter::new),
            config,
            decider: tokio::sync::Mutex::new(decider),
            inflight: Mutex::new(HashMap::new()),
            needs_recovery: AtomicBool::new(false),
            view: RwLock::new(view),
            live,
            stop,
            wake_scheduler: Notify::new(),
            wake_notifier: Notify::new(),
            metrics: Metrics::new(),
            system_ids: SystemIds::new(key),
            streams: Streams::new(config_streams.0, config_streams.1),
        });
        // Weak: the store owns the hook, and the state owns the store.
        let weak: Weak<AppState> = Arc::downgrade(&state);
        store.set_commit_hook(Box::new(move |events| {
            if let Some(state) = weak.upgrade() {
                state.on_commit(events);
            }
        }))?;
        Ok(state)
    }

    /// The commit hook: read model first, then the broadcast, then the scheduler.
    fn on_commit(&self, events: &[Arc<StoredEvent>]) {
        {
            let mut view = self.view.write().unwrap_or_else(|p| p.into_inner());
            for ev in events {
                view.world.apply(&ev.recorded.event);
                view.latest_seq = view.latest_seq.max(ev.seq());
            }
        }
        for ev in events {
            // No receivers is fine: nobody is watching.
            let _ = self.live.send(Live::Event(ev.clone()));
        }
        self.wake_scheduler.notify_one();
        self.wake_notifier.notify_one();
    }

    /// The key every id the system writes under is derived with — the
    /// scheduler's, ingest's, notification delivery's: deterministic (a retry or
    /// a restart writes the same id, stored once) yet unforgeable by clients,
    /// whose commands may not use such an id at all.
    pub fn system_ids(&self) -> &SystemIds {
        &self.system_ids
    }

    pub fn read_view<T>(&self, f: impl FnOnce(&View) -> T) -> T {
        f(&self.view.read().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn latest_seq(&self) -> u64 {
        self.read_view(|v| v.latest_seq)
    }

    pub fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Tells every live stream to say `shutdown` and end. Call after the stop
    /// flag is set: a stream that subscribes later sees the flag instead.
    pub fn announce_shutdown(&self) {
        let _ = self.live.send(Live::Shutdown);
    }
}

/// Reads the whole log, oldest first, into a fresh decision and read model.
pub fn fold_log(store: &dyn EventStore) -> Result<(Decider, View), StoreError> {
    let mut decider = Decider::default();
    let mut view = View::default();
    let mut after = 0;
    loop {
        let page = store.events_after(after, 10_000)?;
        let Some(last) = page.last() else { break };
        after = last.seq();
        for ev in &page {
            decider.world.apply(&ev.recorded.event);
            decider.known.insert(ev.command);
            view.world.apply(&ev.recorded.event);
            view.latest_seq = ev.seq();
        }
    }
    Ok((decider, view))
}
