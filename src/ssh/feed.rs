//! An SSH seat's data, in-process: the same [`SyncMsg`]s the local TUI's
//! sync task produces from HTTP and SSE, made here from the server's own
//! store and live broadcast, and its commands run through the server's
//! command path ([`commands::submit_as`]) — no HTTP loop to itself, no token,
//! no outbox (the server is right here: a command is decided at once).

use crate::client::sync::{LinkState, SyncMsg};
use crate::domain::Command;
use crate::protocol::MAX_PAGE;
use crate::server::auth::Caller;
use crate::server::commands;
use crate::server::state::{AppState, Live};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

/// Follows the log for one seat until the server stops or the seat goes
/// away (its receiver dropped): every committed event once, in seq order.
///
/// Subscribes to the broadcast *before* reading the store, so nothing
/// committed in between is missed (what arrives twice is dropped by seq);
/// a seat that falls behind the broadcast reads what it missed from the
/// store — it is never silently skipped.
pub async fn follow(state: Arc<AppState>, out: mpsc::UnboundedSender<SyncMsg>) {
    let mut live = state.live.subscribe();
    let mut last = 0u64;
    if out.send(SyncMsg::Link(LinkState::Connecting)).is_err() {
        return;
    }
    if catch_up(&state, &mut last, &out).await.is_err() {
        return;
    }
    if out.send(SyncMsg::Link(LinkState::Live)).is_err() {
        return;
    }
    loop {
        let first = live.recv().await;
        let mut batch = Vec::new();
        let mut next = Some(first);
        while let Some(item) = next.take() {
            match item {
                Ok(Live::Event(ev)) => {
                    if ev.event.seq() > last {
                        last = ev.event.seq();
                        batch.push(ev.event.recorded.clone());
                    }
                }
                Ok(Live::Shutdown) | Err(RecvError::Closed) => {
                    if !batch.is_empty() {
                        let _ = out.send(SyncMsg::Events(batch));
                    }
                    let _ = out.send(SyncMsg::Link(LinkState::Offline));
                    return;
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::info!(
                        missed = n,
                        "ssh seat fell behind the broadcast; reading the log"
                    );
                    if !batch.is_empty()
                        && out
                            .send(SyncMsg::Events(std::mem::take(&mut batch)))
                            .is_err()
                    {
                        return;
                    }
                    if catch_up(&state, &mut last, &out).await.is_err() {
                        return;
                    }
                }
            }
            // Whatever else is already queued goes in the same batch.
            next = match live.try_recv() {
                Ok(v) => Some(Ok(v)),
                Err(tokio::sync::broadcast::error::TryRecvError::Lagged(n)) => {
                    Some(Err(RecvError::Lagged(n)))
                }
                Err(_) => None,
            };
        }
        if !batch.is_empty() && out.send(SyncMsg::Events(batch)).is_err() {
            return;
        }
    }
}

/// Why following stopped early.
#[derive(Debug)]
struct Gone;

/// Pages through the store from `last` to its end.
async fn catch_up(
    state: &Arc<AppState>,
    last: &mut u64,
    out: &mpsc::UnboundedSender<SyncMsg>,
) -> Result<(), Gone> {
    loop {
        let store = state.store.clone();
        let after = *last;
        let page = tokio::task::spawn_blocking(move || store.events_after(after, MAX_PAGE))
            .await
            .map_err(|_| Gone)?;
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                tracing::error!("ssh seat: cannot read the log: {e}");
                let _ = out.send(SyncMsg::Link(LinkState::Offline));
                return Err(Gone);
            }
        };
        let full = page.len() >= MAX_PAGE;
        let events: Vec<_> = page
            .iter()
            .filter(|e| e.seq() > *last)
            .map(|e| e.recorded.clone())
            .collect();
        if let Some(r) = events.last() {
            *last = r.seq;
        }
        if !events.is_empty() && out.send(SyncMsg::Events(events)).is_err() {
            return Err(Gone);
        }
        if !full {
            return Ok(());
        }
    }
}

/// Runs one command of the seat's person through the server's command path
/// and says what became of it, as the sync task would.
pub async fn submit(state: &Arc<AppState>, caller: &Caller, cmd: Command) -> SyncMsg {
    let id = cmd.id;
    match commands::submit_as(state, cmd, caller).await {
        Ok(_) => SyncMsg::Accepted { id },
        Err(e) => SyncMsg::Rejected {
            id,
            error: match &e.body.field {
                Some(field) if !e.body.error.contains(field.as_str()) => {
                    format!("{field}: {}", e.body.error)
                }
                _ => e.body.error.clone(),
            },
        },
    }
}
