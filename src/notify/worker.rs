//! The delivery worker: one per deployment, like the scheduler. It works only
//! while its replica holds the log's [`LEASE`] (always granted on SQLite,
//! where the server's exclusive lock on the database makes it one; a
//! PostgreSQL advisory lock with replicas, released by PostgreSQL the moment
//! the holder's process dies). It walks the log from its stored position,
//! sends, retries, and writes each outcome as an event.
//!
//! Exactly once where the target can deduplicate: a delivery is marked sent
//! only after its outcome event is durable, so a crash between sending and
//! recording sends it again on restart — or on the replica that takes the
//! lease over — under the same `webhook-id`, `dedup_key` and `Message-ID`,
//! which is how the target folds the repeat. Nothing is lost: intents are
//! recorded (with the position) before anything is sent, and a pending row
//! survives any crash. The ledger lives beside the log (the SQLite file, or
//! the shared PostgreSQL database), so every replica sees the same one.
//!
//! Order: deliveries that share an order key (channel + incident + target)
//! leave in log order, one at a time, so a resolve never overtakes the
//! trigger it resolves, even while the trigger is being retried.

use super::channels::{self, Sent};
use super::email;
use super::ledger::{Ledger, Row, State};
use super::ledger_pg::PgLedger;
use crate::domain::event::{DeliveryAttempt, DeliveryOutcome, Event, EventBody};
use crate::domain::ids::SystemIds;
use crate::domain::notify::{ChannelConfig, DeliverySettings};
use crate::domain::routing::{self, Intent};
use crate::server::commands::append_system;
use crate::server::scheduler::{LEASE_RETRY, holds_lease};
use crate::server::state::AppState;
use crate::store::Location;
use backon::BackoffBuilder;
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

/// Deliveries in flight at once (across all channels).
const MAX_IN_FLIGHT: usize = 64;
/// Log events routed per ledger transaction.
const PAGE: usize = 1000;
/// Re-check at least this often with nothing due.
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// After a ledger or log error, try again this much later.
const ERROR_PAUSE: Duration = Duration::from_secs(1);
/// The actor of the worker's events.
pub const ACTOR: &str = "notify";
/// The lease the worker delivers under (one delivering replica).
pub const LEASE: &str = "notify";

/// A span as a std duration (nominal: business days count as days here).
fn std_span(s: crate::domain::duration::Span) -> Duration {
    s.nominal().to_std().unwrap_or(Duration::ZERO)
}

/// The wait before try `attempt + 1`: exponential from `backoff`, doubling,
/// with jitter (backon), never beyond `max_backoff`.
pub fn backoff_delay(settings: &DeliverySettings, attempt: u32) -> Duration {
    let min = std_span(settings.backoff);
    let max = std_span(settings.max_backoff).max(min);
    backon::ExponentialBuilder::default()
        .with_min_delay(min)
        .with_max_delay(max)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build()
        .nth(attempt.saturating_sub(1) as usize)
        .unwrap_or(max)
        .min(max)
}

/// Where the worker keeps its progress: the server's SQLite file, or the
/// shared PostgreSQL database (so the next lease holder continues from it).
enum Book {
    Sqlite(Arc<Mutex<Ledger>>),
    Pg(Box<PgLedger>),
}

fn lock(m: &Mutex<Ledger>) -> std::sync::MutexGuard<'_, Ledger> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs a SQLite ledger call off the async threads.
async fn blocking<T: Send + 'static>(
    ledger: &Arc<Mutex<Ledger>>,
    f: impl FnOnce(&mut Ledger) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let ledger = ledger.clone();
    tokio::task::spawn_blocking(move || f(&mut lock(&ledger))).await?
}

impl Book {
    async fn open(location: &Location) -> anyhow::Result<Book> {
        match location {
            Location::Sqlite(path) => {
                let path = path.clone();
                let ledger = tokio::task::spawn_blocking(move || Ledger::open(&path)).await??;
                Ok(Book::Sqlite(Arc::new(Mutex::new(ledger))))
            }
            Location::Postgres(url) => Ok(Book::Pg(Box::new(PgLedger::open(url).await?))),
        }
    }

    async fn position(&self) -> anyhow::Result<u64> {
        match self {
            Book::Sqlite(l) => blocking(l, |l| l.position()).await,
            Book::Pg(l) => l.position().await,
        }
    }

    async fn record(
        &self,
        intents: Vec<(u64, Intent)>,
        retries: Vec<Uuid>,
        through: u64,
        max_attempts: u32,
    ) -> anyhow::Result<()> {
        let now = Utc::now();
        match self {
            Book::Sqlite(l) => {
                blocking(l, move |l| {
                    l.record(&intents, &retries, through, max_attempts, now)
                })
                .await
            }
            Book::Pg(l) => {
                l.record(&intents, &retries, through, max_attempts, now)
                    .await
            }
        }
    }

    async fn pending(&self, limit: usize) -> anyhow::Result<Vec<Row>> {
        match self {
            Book::Sqlite(l) => blocking(l, move |l| l.pending(limit)).await,
            Book::Pg(l) => l.pending(limit).await,
        }
    }

    async fn settle(
        &self,
        id: Uuid,
        attempts: u32,
        state: State,
        next_at: Option<DateTime<Utc>>,
        error: String,
    ) -> anyhow::Result<()> {
        match self {
            Book::Sqlite(l) => {
                blocking(l, move |l| l.settle(id, attempts, state, next_at, &error)).await
            }
            Book::Pg(l) => l.settle(id, attempts, state, next_at, &error).await,
        }
    }
}

struct Shared {
    state: Arc<AppState>,
    ledger: Book,
    ids: SystemIds,
    http: reqwest::Client,
    /// The seq routed so far, when ahead of the stored position ([`UNKNOWN`]:
    /// read the ledger). A page that makes no delivery (the worker's own
    /// outcome events, most of a busy log) moves only this, not the ledger:
    /// one durable write less per notification, and a restart or the next
    /// lease holder merely re-reads events that make nothing.
    routed: AtomicU64,
}

/// [`Shared::routed`] before the ledger has been read.
const UNKNOWN: u64 = u64::MAX;

/// Runs until `stop` flips. Does nothing (and returns) when the policy has no
/// channels; delivers only while this replica holds [`LEASE`].
pub async fn run(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    if state.policy.notify.is_empty() {
        return;
    }
    let ledger = match Book::open(&state.config.db).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "delivery ledger cannot open; notifications are off");
            return;
        }
    };
    // Delivery and outcome ids are derived under the database's own key, like
    // the scheduler's: stable across restarts, unforgeable by clients.
    let ids = state.system_ids().clone();
    let settings = &state.policy.notify.delivery;
    let http = match reqwest::Client::builder()
        .timeout(std_span(settings.timeout))
        .connect_timeout(std_span(settings.timeout))
        .user_agent(concat!("warroom/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the HTTP client; notifications are off");
            return;
        }
    };
    let shared = Arc::new(Shared {
        state: state.clone(),
        ledger,
        ids,
        http,
        routed: AtomicU64::new(UNKNOWN),
    });
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Uuid>();
    let mut inflight: HashSet<Uuid> = HashSet::new();
    tracing::info!(
        channels = state.policy.notify.channels.len(),
        "delivery worker running"
    );
    // `None` until the first answer, so a replica says where it stands at start.
    let mut leading: Option<bool> = None;
    loop {
        if *stop.borrow() {
            break;
        }
        let held = holds_lease(&state, LEASE).await;
        if leading != Some(held) {
            leading = Some(held);
            // Another replica may have moved the ledger on meanwhile.
            shared.routed.store(UNKNOWN, Ordering::Release);
            if held {
                tracing::info!("notifications: this server holds the lease and delivers");
            } else {
                tracing::info!("notifications: another server delivers");
            }
        }
        if !held {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => break,
                _ = tokio::time::sleep(LEASE_RETRY) => continue,
            }
        }
        // With other replicas, re-check the lease at least this often
        // (PostgreSQL may have handed it on after a lost connection).
        let longest = if state.shared_log() {
            LEASE_RETRY
        } else {
            MAX_SLEEP
        };
        let sleep = match step(&shared, &mut inflight, &done_tx).await {
            Ok(next) => next.map_or(longest, |at| {
                (at - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(longest)
            }),
            Err(e) => {
                tracing::warn!(error = %e, "delivery worker step failed; retrying");
                ERROR_PAUSE
            }
        };
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = tokio::time::sleep(sleep) => {}
            _ = state.wake_notifier.notified() => {}
            Some(id) = done_rx.recv() => {
                inflight.remove(&id);
                while let Ok(id) = done_rx.try_recv() {
                    inflight.remove(&id);
                }
            }
        }
    }
}

/// Routes what is new in the log, then starts every delivery that is due.
/// Returns when the next waiting one falls due.
async fn step(
    shared: &Arc<Shared>,
    inflight: &mut HashSet<Uuid>,
    done: &mpsc::UnboundedSender<Uuid>,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    materialise(shared).await?;
    let rows = shared.ledger.pending(4 * MAX_IN_FLIGHT).await?;
    let now = Utc::now();
    let mut blocked: HashSet<String> = HashSet::new();
    let mut next: Option<DateTime<Utc>> = None;
    for row in rows {
        let key = row.intent.order_key.clone();
        if blocked.contains(&key) {
            continue;
        }
        blocked.insert(key);
        if inflight.contains(&row.intent.id) {
            continue;
        }
        if row.next_at > now {
            next = Some(next.map_or(row.next_at, |n: DateTime<Utc>| n.min(row.next_at)));
            continue;
        }
        if inflight.len() >= MAX_IN_FLIGHT {
            // Full: the next completion wakes the loop.
            continue;
        }
        inflight.insert(row.intent.id);
        let sh = shared.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let id = row.intent.id;
            if let Err(e) = deliver(&sh, row).await {
                tracing::warn!(delivery = %id, error = %e, "delivery not recorded; it will be tried again");
                tokio::time::sleep(ERROR_PAUSE).await;
            }
            let _ = done.send(id);
        });
    }
    Ok(next)
}

/// Turns committed events past the stored position into ledger rows. Only
/// events the read model already holds are routed (the commit hook updates it
/// just after the commit), so the incident they belong to is always known.
async fn materialise(sh: &Arc<Shared>) -> anyhow::Result<()> {
    let visible = sh.state.latest_seq();
    let settings = &sh.state.policy.notify.delivery;
    loop {
        let pos = match sh.routed.load(Ordering::Acquire) {
            UNKNOWN => {
                let stored = sh.ledger.position().await?;
                sh.routed.store(stored, Ordering::Release);
                stored
            }
            routed => routed,
        };
        if pos >= visible {
            return Ok(());
        }
        let store = sh.state.store.clone();
        let page = tokio::task::spawn_blocking(move || store.events_after(pos, PAGE)).await??;
        let page: Vec<_> = page.into_iter().filter(|e| e.seq() <= visible).collect();
        let Some(last) = page.last().map(|e| e.seq()) else {
            return Ok(());
        };
        let mut retries = Vec::new();
        let intents: Vec<(u64, Intent)> = sh.state.read_view(|v| {
            let mut out = Vec::new();
            for stored in &page {
                let ev = &stored.recorded.event;
                if let EventBody::DeliveryRetryRequested { delivery } = &ev.body {
                    retries.push(*delivery);
                    continue;
                }
                let Some(inc) = v.world.get(&ev.incident) else {
                    continue;
                };
                for intent in routing::route(ev, inc, &sh.state.policy, &sh.ids) {
                    out.push((stored.seq(), intent));
                }
            }
            out
        });
        if !intents.is_empty() || !retries.is_empty() {
            sh.ledger
                .record(intents, retries, last, settings.max_attempts)
                .await?;
        }
        sh.routed.store(last, Ordering::Release);
    }
}

/// One try: send, write the outcome event, then settle the ledger row.
async fn deliver(sh: &Arc<Shared>, row: Row) -> anyhow::Result<()> {
    let policy = &sh.state.policy;
    let settings = &policy.notify.delivery;
    let intent = &row.intent;
    let attempt = row.attempts + 1;
    let sent = match policy.notify.channels.get(&intent.channel) {
        None => Sent::Refused(format!(
            "channel {:?} is no longer in the policy",
            intent.channel
        )),
        Some(cfg @ ChannelConfig::Email { .. }) => {
            email::send(cfg, intent, std_span(settings.timeout)).await
        }
        Some(cfg) => channels::send_http(&sh.http, cfg, intent, &policy.notify, Utc::now()).await,
    };
    let now = Utc::now();
    let (outcome, detail, retry_in) = match sent {
        Sent::Ok(d) => (DeliveryOutcome::Sent, d, None),
        Sent::Refused(d) => (DeliveryOutcome::GaveUp, d, None),
        Sent::Retry { detail, .. } if attempt >= row.give_up_at => {
            (DeliveryOutcome::GaveUp, detail, None)
        }
        Sent::Retry { detail, after } => {
            // The target's own Retry-After wins over our schedule.
            let wait = after.unwrap_or_else(|| backoff_delay(settings, attempt));
            (DeliveryOutcome::Failed, detail, Some(wait))
        }
    };
    let retry_at = retry_in.and_then(|w| chrono::Duration::from_std(w).ok().map(|w| now + w));
    let event = Event {
        id: sh.ids.derive(
            "delivery-attempt",
            &[intent.id.as_bytes(), &attempt.to_be_bytes()],
        ),
        incident: intent.incident,
        actor: ACTOR.into(),
        occurred_at: now,
        body: EventBody::DeliveryAttempted(Box::new(DeliveryAttempt {
            delivery: intent.id,
            channel: intent.channel.clone(),
            kind: intent.kind,
            target: intent.target.clone(),
            about: intent.about,
            what: intent
                .pd_action
                .map_or_else(|| intent.what.clone(), |a| a.as_str().to_string()),
            attempt,
            outcome,
            detail: detail.clone(),
            retry_at,
            retry_in: retry_in.map(|w| w.as_secs().max(1)),
        })),
    };
    append_system(&sh.state, event)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.body.error))?;
    // `warroom_deliveries_total{channel, outcome}`: by channel type (bounded labels).
    let kind = match intent.kind {
        crate::domain::notify::ChannelKind::Slack => "slack",
        crate::domain::notify::ChannelKind::Pagerduty => "pagerduty",
        crate::domain::notify::ChannelKind::Webhook => "webhook",
        crate::domain::notify::ChannelKind::Email => "email",
    };
    let word = match outcome {
        DeliveryOutcome::Sent => "sent",
        DeliveryOutcome::Failed => "failed",
        DeliveryOutcome::GaveUp => "gave_up",
    };
    sh.state.metrics.delivery(kind, word);
    let state = match outcome {
        DeliveryOutcome::Sent => State::Sent,
        DeliveryOutcome::GaveUp => State::GaveUp,
        DeliveryOutcome::Failed => State::Pending,
    };
    sh.ledger
        .settle(intent.id, attempt, state, retry_at, detail)
        .await?;
    Ok(())
}
