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
//!
//! On a log other replicas write too, the hook also queues every committed
//! event in the [`Tail`]; the next decision folds the tail into the decision
//! model event by event instead of rebuilding it from the read model (a clone
//! of the whole world, after waiting for this replica's queue to commit),
//! which under load from several replicas would happen on every command.

use super::ServerConfig;
use super::auth::TokenCache;
use super::metrics::Metrics;
use super::rate::RateLimiter;
use super::stream::LiveEvent;
use super::streams::Streams;
use crate::domain::conflict::Pending;
use crate::domain::ids::SystemIds;
use crate::domain::policy::Policy;
use crate::domain::state::World;
use crate::store::{EventLog, Store, StoreError, StoredEvent, TokenStore};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock, Weak};
use tokio::sync::{Notify, broadcast, watch};
use uuid::Uuid;

/// The state commands are decided against (committed + queued).
#[derive(Debug, Default)]
pub struct Decider {
    pub world: World,
    /// Command ids committed or queued: a repeat is answered from the store
    /// (or from the in-flight append) instead of being decided again.
    pub known: HashSet<Uuid>,
    /// Whether `known` holds every command of the log. Not after a start from
    /// a checkpoint (only those after it are read): then an id not in `known`
    /// is looked up in the store before it is decided, until
    /// [`fill_known`] has read the ids before the checkpoint.
    pub partial_known: bool,
    /// The seq of the committed log `world` was built from (plus this
    /// server's own appends since). Appends carry it, so that on a log other
    /// replicas write too, one decided without seeing their commits is
    /// refused and decided again ([`crate::store::Append::base`]).
    pub base: u64,
    /// The checkpoint's seq when `known` is partial: the ids missing are those
    /// of events at or below it.
    pub known_missing_through: Option<u64>,
}

/// Most events the [`Tail`] keeps for the decision model; past this (a
/// replica that decides nothing while others write), it gives them up and
/// the next decision rebuilds the model from the read model once.
pub const TAIL_MAX: usize = 65_536;

/// Committed events, in seq order, not yet folded into the decision model
/// (only on a shared log; see the module docs).
#[derive(Debug, Default)]
pub struct Tail {
    pub events: Vec<Arc<StoredEvent>>,
    /// Events were dropped (more than [`TAIL_MAX`]): the model must be rebuilt.
    pub overflowed: bool,
}

/// How the models were built at start (or after a failed commit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// The checkpoint's seq, when one was used.
    pub checkpoint: Option<u64>,
    /// Events read from the log and folded.
    pub folded: u64,
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
    Event(Arc<LiveEvent>),
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
    /// The event log every command is appended to.
    pub store: Arc<dyn EventLog>,
    /// API tokens (and keys), for authentication.
    pub token_store: Arc<dyn TokenStore>,
    pub policy: Arc<Policy>,
    pub config: ServerConfig,
    pub decider: tokio::sync::Mutex<Decider>,
    /// Appends queued but not yet answered, by command id.
    pub inflight: Mutex<HashMap<Uuid, Inflight>>,
    /// See [`Tail`].
    pub tail: Mutex<Tail>,
    /// This replica's appends decided but not yet answered, per scope: a
    /// foreign event that clashes with one is not folded over it (see
    /// [`crate::domain::conflict`]).
    pub pending: Mutex<Pending>,
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
    /// How the models were built at start.
    pub loaded: Loaded,
}

impl AppState {
    /// Folds the whole log into both models and installs the commit hook.
    pub async fn load(
        config: ServerConfig,
        backend: Store,
        stop: watch::Receiver<bool>,
    ) -> anyhow::Result<Arc<AppState>> {
        let store = backend.log;
        let (decider, view, loaded, key) = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || {
                let (decider, view, loaded) = load_models(&*store)?;
                Ok::<_, StoreError>((decider, view, loaded, store.system_key()?))
            })
            .await??
        };
        let (live, _) = broadcast::channel(config.broadcast_capacity.max(16));
        let config_streams = (config.max_streams_per_token, config.max_streams);
        let state = Arc::new(AppState {
            store: store.clone(),
            token_store: backend.tokens,
            policy: Arc::new(config.policy.clone()),
            tokens: TokenCache::new(config.token_cache_ttl),
            limiter: config.rate_limit.map(RateLimiter::new),
            config,
            decider: tokio::sync::Mutex::new(decider),
            inflight: Mutex::new(HashMap::new()),
            tail: Mutex::new(Tail::default()),
            pending: Mutex::new(Pending::default()),
            needs_recovery: AtomicBool::new(false),
            view: RwLock::new(view),
            live,
            stop,
            wake_scheduler: Notify::new(),
            wake_notifier: Notify::new(),
            metrics: Metrics::new(),
            system_ids: SystemIds::new(key),
            loaded,
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
    /// An event the model already holds is skipped: a replica's store hands
    /// over everything after the head it opened at, some of which the start
    /// may already have folded.
    fn on_commit(&self, events: &[Arc<StoredEvent>]) {
        let events = {
            let mut view = self.view.write().unwrap_or_else(|p| p.into_inner());
            let fresh = events
                .iter()
                .position(|e| e.seq() > view.latest_seq)
                .map_or(&events[..0], |i| &events[i..]);
            for ev in fresh {
                view.world.apply(&ev.recorded.event);
                view.latest_seq = view.latest_seq.max(ev.seq());
            }
            fresh
        };
        if events.is_empty() {
            return;
        }
        if self.store.shared() {
            let mut tail = lock(&self.tail);
            if tail.events.len() + events.len() > TAIL_MAX {
                tail.events.clear();
                tail.overflowed = true;
            } else {
                tail.events.extend(events.iter().cloned());
            }
        }
        for ev in events {
            // No receivers is fine: nobody is watching.
            let _ = self
                .live
                .send(Live::Event(Arc::new(LiveEvent::new(ev.clone()))));
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

    /// Whether other replicas write the same log.
    pub fn shared_log(&self) -> bool {
        self.store.shared()
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

/// Builds a fresh decision and read model: from the newest checkpoint that
/// matches the log plus the events after it, or from the whole log.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn load_models(store: &dyn EventLog) -> Result<(Decider, View, Loaded), StoreError> {
    let mut decider = Decider::default();
    let mut view = View::default();
    let mut loaded = Loaded::default();
    let mut after = 0;
    match store.load_checkpoint() {
        Ok(Some((seq, _, data))) => match super::checkpoint::decode(&data) {
            Ok(world) => {
                decider.world = world.clone();
                view.world = world;
                view.latest_seq = seq;
                decider.partial_known = true;
                decider.known_missing_through = Some(seq);
                loaded.checkpoint = Some(seq);
                after = seq;
            }
            Err(e) => tracing::warn!("ignoring the checkpoint at seq {seq}: {e}"),
        },
        Ok(None) => {}
        Err(e) => tracing::warn!("cannot read the checkpoint: {e}"),
    }
    loop {
        let page = store.events_after(after, 10_000)?;
        let Some(last) = page.last() else { break };
        after = last.seq();
        for ev in &page {
            decider.world.apply(&ev.recorded.event);
            decider.known.insert(ev.command);
            view.world.apply(&ev.recorded.event);
            view.latest_seq = ev.seq();
            loaded.folded += 1;
        }
    }
    decider.base = view.latest_seq;
    Ok((decider, view, loaded))
}

/// Reads the whole log (or a checkpoint and what follows) into a fresh
/// decision and read model.
pub fn fold_log(store: &dyn EventLog) -> Result<(Decider, View), StoreError> {
    load_models(store).map(|(d, v, _)| (d, v))
}

/// After a start from a checkpoint: reads the command ids written before it
/// (in the background: ~1 s for a million events, too long to wait for at
/// start) into the decision model's `known`, so that a command no longer
/// costs a store lookup of its id on top of its commit (issue 15, item 8).
/// If the model was rebuilt meanwhile from another checkpoint, the ids read
/// are not the ones missing and are dropped; the lookups stay correct.
pub async fn fill_known(state: std::sync::Arc<AppState>) {
    let Some(through) = state.decider.lock().await.known_missing_through else {
        return;
    };
    let store = state.store.clone();
    let started = std::time::Instant::now();
    let ids = match tokio::task::spawn_blocking(move || store.command_ids_through(through)).await {
        Ok(Ok(Some(ids))) => ids,
        Ok(Ok(None)) => return,
        Ok(Err(e)) => {
            tracing::warn!("cannot read the command ids before the checkpoint: {e}");
            return;
        }
        Err(e) => {
            tracing::warn!("the command id reader failed: {e}");
            return;
        }
    };
    let mut decider = state.decider.lock().await;
    if decider.partial_known && decider.known_missing_through == Some(through) {
        decider.known.extend(ids);
        decider.partial_known = false;
        decider.known_missing_through = None;
        tracing::debug!(through, elapsed = ?started.elapsed(), "command ids before the checkpoint read");
    }
}
