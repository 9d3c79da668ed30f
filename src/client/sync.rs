//! Keeping a client in step with the server: catch-up in pages, then the live
//! SSE stream (resumed from the last seq after any drop or `resync`), and the
//! outbox replayed in order whenever the server can be reached. Everything is
//! reported as [`SyncMsg`]s on one channel, which the TUI's loop drains.

use super::api::{Api, ClientError};
use super::outbox::Outbox;
use crate::domain::{Command, Recorded};
use crate::protocol::{MAX_PAGE, Resync, sse};
use futures_util::{FutureExt, StreamExt};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;
use tokio::sync::{Notify, mpsc};
use uuid::Uuid;

/// The connection as the status bar shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Live,
    Reconnecting {
        attempt: u32,
    },
    Offline,
    /// The server answers but no longer accepts this client's token (revoked,
    /// or never valid there): retrying will not help until someone acts.
    Refused,
}

/// What the sync tasks report.
// Each message is moved once through a channel into `update`; boxing the
// command-carrying variants would cost an allocation per message for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum SyncMsg {
    /// New events in seq order (catch-up page or live), for `Replica::apply`.
    Events(Vec<Recorded>),
    Link(LinkState),
    /// `server time − local time`.
    Offset(chrono::Duration),
    /// On disk in the outbox: show as pending at once.
    Queued {
        cmd: Command,
    },
    /// The server stored it; its events arrive through `Events`.
    Accepted {
        id: Uuid,
    },
    /// The server refused it: the reason, to show; the command is dropped.
    Rejected {
        id: Uuid,
        error: String,
    },
    /// Commands still waiting in the outbox.
    Pending(usize),
}

/// After this many failed attempts in a row the link reads OFFLINE rather than RECONNECTING.
const OFFLINE_AFTER: u32 = 3;
/// No byte (not even a heartbeat) for this long means the stream is dead.
const STREAM_SILENCE: StdDuration = StdDuration::from_secs(20);

/// The wait before retry `attempt` (the stream's reconnects and the outbox's
/// resends): doubling from 250 ms to 5 s, each wait drawn at random from the
/// upper half of its step, so the thousand clients one server restart drops
/// do not all come back in the same instant.
fn backoff(attempt: u32) -> StdDuration {
    use rand::Rng as _;
    let ms = 250u64.saturating_mul(1 << attempt.min(5)).min(5_000);
    StdDuration::from_millis(rand::rng().random_range(ms / 2..=ms))
}

/// The handle the TUI keeps: submit commands; dropping it does not stop the tasks
/// (they end when the receiving side of the channel is dropped).
#[derive(Clone)]
pub struct Sync {
    outbox: Arc<Mutex<Outbox>>,
    submit: mpsc::UnboundedSender<Command>,
    out: mpsc::UnboundedSender<SyncMsg>,
}

impl Sync {
    /// Opens the outbox at `outbox_path`, starts the stream and outbox tasks on the
    /// current tokio runtime, and resumes the stream after `after`.
    pub fn start(
        api: Api,
        outbox_path: &Path,
        after: u64,
        out: mpsc::UnboundedSender<SyncMsg>,
    ) -> std::io::Result<Sync> {
        let outbox = Outbox::open(outbox_path)?;
        let queue: VecDeque<Command> = outbox.pending().iter().cloned().collect();
        for cmd in &queue {
            let _ = out.send(SyncMsg::Queued { cmd: cmd.clone() });
        }
        let _ = out.send(SyncMsg::Pending(queue.len()));
        let outbox = Arc::new(Mutex::new(outbox));
        let link_up = Arc::new(Notify::new());
        let (submit, rx) = mpsc::unbounded_channel();
        tokio::spawn(stream_task(
            api.clone(),
            after,
            out.clone(),
            link_up.clone(),
        ));
        tokio::spawn(outbox_task(
            api,
            outbox.clone(),
            queue,
            rx,
            out.clone(),
            link_up,
        ));
        Ok(Sync {
            outbox,
            submit,
            out,
        })
    }

    /// Writes `cmd` to the outbox on disk, then hands it to the sender task.
    /// When this returns `Ok`, the command survives a crash or a closed TUI.
    pub fn submit(&self, cmd: Command) -> std::io::Result<()> {
        {
            let mut outbox = self
                .outbox
                .lock()
                .map_err(|_| std::io::Error::other("outbox lock poisoned"))?;
            outbox.push(&cmd)?;
        }
        let _ = self.out.send(SyncMsg::Queued { cmd: cmd.clone() });
        self.submit
            .send(cmd)
            .map_err(|_| std::io::Error::other("sync task stopped"))
    }
}

async fn stream_task(
    api: Api,
    mut last: u64,
    out: mpsc::UnboundedSender<SyncMsg>,
    link_up: Arc<Notify>,
) {
    let mut attempt: u32 = 0;
    let mut last_offset = None;
    if out.send(SyncMsg::Link(LinkState::Connecting)).is_err() {
        return;
    }
    loop {
        let result = async {
            catch_up(&api, &mut last, &out).await?;
            api.stream(last).await
        }
        .await;
        report_offset(&api, &out, &mut last_offset);
        let resp = match result {
            Ok(resp) => resp,
            Err(ClientError::Rejected { status: 401, .. }) => {
                tracing::warn!("sync: the server refuses this token");
                if out.send(SyncMsg::Link(LinkState::Refused)).is_err() {
                    return;
                }
                // Still retried, slowly: the takeover of an embedded server
                // (a new local token) or an admin may make it good again.
                attempt = attempt.max(OFFLINE_AFTER);
                tokio::time::sleep(backoff(10)).await;
                continue;
            }
            Err(e) => {
                attempt += 1;
                tracing::warn!("sync: {e}");
                let state = if attempt >= OFFLINE_AFTER {
                    LinkState::Offline
                } else {
                    LinkState::Reconnecting { attempt }
                };
                if out.send(SyncMsg::Link(state)).is_err() {
                    return;
                }
                tokio::time::sleep(backoff(attempt)).await;
                continue;
            }
        };
        if out.send(SyncMsg::Link(LinkState::Live)).is_err() {
            return;
        }
        link_up.notify_one();
        let mut stream = std::pin::pin!(super::sse::events(resp.bytes_stream()));
        loop {
            let first = match tokio::time::timeout(STREAM_SILENCE, stream.next()).await {
                Ok(Some(Ok(msg))) => msg,
                Ok(Some(Err(e))) => {
                    tracing::warn!("sync: stream broke: {e}");
                    break;
                }
                Ok(None) => break,
                Err(_) => {
                    tracing::warn!("sync: stream silent for {STREAM_SILENCE:?}; reconnecting");
                    break;
                }
            };
            // Everything already received goes out as one batch: the TUI
            // re-sorts once per batch, not once per event of a burst.
            let mut messages = vec![first];
            let mut broken = false;
            while let Some(Some(next)) = stream.next().now_or_never() {
                match next {
                    Ok(msg) => messages.push(msg),
                    Err(e) => {
                        tracing::warn!("sync: stream broke: {e}");
                        broken = true;
                        break;
                    }
                }
            }
            let mut batch = Vec::new();
            // Set when the stream must be left (resync, shutdown, garbage); the
            // batch gathered so far is delivered first, since `last` already counts it.
            let mut leave = false;
            for msg in messages {
                match msg.event.as_str() {
                    sse::EVENT => match serde_json::from_str::<Recorded>(&msg.data) {
                        Ok(rec) if rec.seq > last => {
                            last = rec.seq;
                            batch.push(rec);
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!("sync: undecodable event: {e}");
                            leave = true;
                        }
                    },
                    sse::RESYNC => {
                        let why = serde_json::from_str::<Resync>(&msg.data)
                            .map(|r| r.reason)
                            .unwrap_or_default();
                        tracing::info!("sync: server asked to resync: {why}");
                        leave = true;
                    }
                    sse::SHUTDOWN => leave = true,
                    _ => {}
                }
                if leave {
                    break;
                }
            }
            if !batch.is_empty() && out.send(SyncMsg::Events(batch)).is_err() {
                return;
            }
            if leave || broken {
                break;
            }
        }
        attempt = 1;
        if out
            .send(SyncMsg::Link(LinkState::Reconnecting { attempt }))
            .is_err()
        {
            return;
        }
        tokio::time::sleep(backoff(0)).await;
    }
}

fn report_offset(
    api: &Api,
    out: &mpsc::UnboundedSender<SyncMsg>,
    last: &mut Option<chrono::Duration>,
) {
    if let Some(off) = api.clock_offset()
        && *last != Some(off)
    {
        *last = Some(off);
        let _ = out.send(SyncMsg::Offset(off));
    }
}

/// Pages through `GET /events?after=` until the server has nothing newer.
async fn catch_up(
    api: &Api,
    last: &mut u64,
    out: &mpsc::UnboundedSender<SyncMsg>,
) -> Result<(), ClientError> {
    loop {
        let page = api.events_after(*last, MAX_PAGE).await?;
        let events: Vec<Recorded> = page.events.into_iter().filter(|r| r.seq > *last).collect();
        if let Some(rec) = events.last() {
            *last = rec.seq;
        }
        if !events.is_empty() && out.send(SyncMsg::Events(events)).is_err() {
            return Ok(());
        }
        if !page.more {
            return Ok(());
        }
    }
}

async fn outbox_task(
    api: Api,
    outbox: Arc<Mutex<Outbox>>,
    mut queue: VecDeque<Command>,
    mut rx: mpsc::UnboundedReceiver<Command>,
    out: mpsc::UnboundedSender<SyncMsg>,
    link_up: Arc<Notify>,
) {
    let mut failures: u32 = 0;
    loop {
        if queue.is_empty() {
            match rx.recv().await {
                Some(cmd) => queue.push_back(cmd),
                None => return,
            }
        }
        while let Ok(cmd) = rx.try_recv() {
            queue.push_back(cmd);
        }
        let Some(cmd) = queue.front().cloned() else {
            continue;
        };
        let result = api.send(&cmd).await;
        let msg = match result {
            Ok(_) => SyncMsg::Accepted { id: cmd.id },
            Err(e) if e.is_retryable() => {
                failures += 1;
                let _ = out.send(SyncMsg::Pending(queue.len()));
                // Wait for the stream to come back, a back-off, or more work.
                tokio::select! {
                    _ = link_up.notified() => {}
                    _ = tokio::time::sleep(backoff(failures)) => {}
                }
                continue;
            }
            Err(e) => SyncMsg::Rejected {
                id: cmd.id,
                error: e.to_string(),
            },
        };
        failures = 0;
        queue.pop_front();
        if let Ok(mut o) = outbox.lock()
            && let Err(e) = o.remove(cmd.id)
        {
            tracing::error!("outbox: could not remove {}: {e}", cmd.id);
        }
        if out.send(msg).is_err() || out.send(SyncMsg::Pending(queue.len())).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A restart drops every client at once; the waits that bring them back
    /// must differ, or they all reconnect in the same instant.
    #[test]
    fn reconnect_waits_are_jittered_within_their_step() {
        for (attempt, step) in [(0u32, 250u64), (2, 1_000), (5, 5_000), (10, 5_000)] {
            let waits: std::collections::BTreeSet<u128> =
                (0..64).map(|_| backoff(attempt).as_millis()).collect();
            assert!(waits.len() > 1, "attempt {attempt}: always {waits:?}");
            let lo = u128::from(step / 2);
            let hi = u128::from(step);
            assert!(
                waits.iter().all(|w| (lo..=hi).contains(w)),
                "attempt {attempt}: {waits:?} outside {lo}..={hi} ms"
            );
        }
    }
}
