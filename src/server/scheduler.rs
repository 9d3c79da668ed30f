//! The escalation scheduler: a task that writes what the policy owes on its
//! own (automatic escalations, overdue update marks) through the same
//! pipeline as people's commands.
//!
//! It evaluates after startup and after every commit (any event can move a
//! deadline), then sleeps until the next deadline — never a polling loop. The
//! events it writes have ids derived from the incident and the rule, so they
//! are stored exactly once, across restarts too.

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

pub async fn run(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            break;
        }
        let now = Utc::now();
        let sleep = match escalate_due(&state, now).await {
            Ok((stored, next)) => {
                if stored > 0 {
                    tracing::info!(stored, "scheduler wrote escalations");
                }
                next.map_or(MAX_SLEEP, |at| {
                    // A millisecond past the deadline, so `now >= at` on waking.
                    (at - Utc::now())
                        .to_std()
                        .unwrap_or(Duration::ZERO)
                        .saturating_add(Duration::from_millis(1))
                        .min(MAX_SLEEP)
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
