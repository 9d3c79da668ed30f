//! The escalation scheduler: a task that writes what the policy owes on its
//! own (automatic escalations, overdue update marks) through the same
//! pipeline as people's commands.
//!
//! It evaluates after startup and after every commit (any event can move a
//! deadline), then sleeps until the next deadline — never a polling loop. The
//! events it writes have ids derived from the incident and the rule, so they
//! are stored exactly once, across restarts too.
//!
//! Exactly one runs per deployment: it works only while its replica holds
//! the log's [`LEASE`] ([`crate::store::EventLog::lease`]; always granted on
//! SQLite, a PostgreSQL advisory lock with replicas). The others ask again
//! every [`LEASE_RETRY`], so when the holder dies another takes over within
//! seconds; the derived ids keep escalations exactly-once across the hand-over
//! (an overlap writes the same ids, stored once).

use super::commands::escalate_due;
use super::state::AppState;
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Wake-ups caused by commits are coalesced over this long, so a burst of
/// thousands of commands costs a handful of evaluations, not thousands.
const COALESCE: Duration = Duration::from_millis(25);
/// Re-evaluate at least this often even with nothing due (the wall clock may jump).
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// After a failed append, retry this much later.
const RETRY: Duration = Duration::from_secs(1);
/// The lease the scheduler runs under.
pub const LEASE: &str = "scheduler";
/// How often a replica without the lease asks for it (and the holder
/// re-checks it holds it).
pub const LEASE_RETRY: Duration = Duration::from_secs(1);

/// Whether this replica holds `name` now (a database error counts as no).
pub async fn holds_lease(state: &Arc<AppState>, name: &'static str) -> bool {
    let store = state.store.clone();
    match tokio::task::spawn_blocking(move || store.lease(name)).await {
        Ok(Ok(held)) => held,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, lease = name, "cannot ask for the lease");
            false
        }
        Err(_) => false,
    }
}

pub async fn run(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let mut leading = false;
    loop {
        if *stop.borrow() {
            break;
        }
        let held = holds_lease(&state, LEASE).await;
        if held != leading {
            leading = held;
            if held {
                tracing::info!("scheduler: this server holds the lease and runs the scheduler");
            } else {
                tracing::info!("scheduler: another server runs the scheduler");
            }
        }
        if !held {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => break,
                _ = tokio::time::sleep(LEASE_RETRY) => continue,
            }
        }
        let now = Utc::now();
        let sleep = match escalate_due(&state, now).await {
            Ok((stored, next)) => {
                if stored > 0 {
                    tracing::info!(stored, "scheduler wrote escalations");
                }
                next.map_or(MAX_SLEEP.min(lease_check(&state)), |at| {
                    // A millisecond past the deadline, so `now >= at` on waking.
                    (at - Utc::now())
                        .to_std()
                        .unwrap_or(Duration::ZERO)
                        .saturating_add(Duration::from_millis(1))
                        .min(MAX_SLEEP)
                        .min(lease_check(&state))
                })
            }
            Err(e) => {
                tracing::warn!(error = %e.body.error, "scheduler could not write; retrying");
                RETRY
            }
        };
        let woken = tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = tokio::time::sleep(sleep) => false,
            _ = state.wake_scheduler.notified() => true,
        };
        if woken {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => break,
                _ = tokio::time::sleep(COALESCE) => {}
            }
        }
    }
}

/// The longest the scheduler sleeps: with other replicas, it re-checks its
/// lease this often (PostgreSQL may have handed it on after a lost connection).
fn lease_check(state: &AppState) -> Duration {
    if state.shared_log() {
        LEASE_RETRY
    } else {
        MAX_SLEEP
    }
}
