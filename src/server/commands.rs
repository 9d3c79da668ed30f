//! The command pipeline: one place where events enter the log, for people
//! (`POST /api/v1/commands`) and for the scheduler alike.
//!
//! Under the decision lock: check the command id, `decide`, fold the events
//! into the decision model, queue them for the writer. Outside it: wait for
//! the group commit. So decisions are serialised (and ordered like their
//! seqs) while fsyncs are shared by everyone waiting.
//!
//! Idempotency: a command id seen before is never decided again. If its append
//! is still in flight the retry waits for that very append; otherwise it is
//! answered with the events stored the first time. Either way `duplicate: true`.
//! An idempotency key means one request: the digest of the actor and the
//! canonical command is stored with the id, and a reuse of the id for another
//! request (another text, incident or action, or another token) is refused
//! with 422 naming `id` — never answered as a success, and never with the
//! first request's events, which may be another user's.
//!
//! A failed commit (disk full, I/O error) leaves the decision model ahead of
//! the disk, so the next decision first waits for the writer to settle and
//! rebuilds the model from the log.

use super::auth::Caller;
use super::error::ApiError;
use super::state::{AppState, Inflight, Shared};
use crate::domain::alert::{self, AlertBatch};
use crate::domain::command::Command;
use crate::domain::decide::decide;
use crate::domain::escalation;
use crate::domain::event::Event;
use crate::domain::ids::is_system_id;
use crate::domain::state::World;
use crate::store::{Append, Appended, StoreError};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::watch;
use uuid::Uuid;

/// What became of a command.
#[derive(Debug)]
pub struct Submitted {
    pub appended: Appended,
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What an idempotency key stands for: SHA-256 (hex) of the actor and the
/// command as the server parsed it, serialised again (so whitespace, key order
/// or an explicit default in the client's JSON make no difference).
pub fn request_digest(cmd: &Command, actor: &str) -> String {
    let mut h = Sha256::new();
    h.update((actor.len() as u64).to_be_bytes());
    h.update(actor.as_bytes());
    // Serialising a plain struct of strings, numbers and enums cannot fail.
    h.update(serde_json::to_vec(cmd).unwrap_or_default());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs a person's command — from `POST /api/v1/commands` or an SSH seat —
/// after the checks every client's command passes: its id is not one the
/// server reserves, and the caller's role allows the action.
pub async fn submit_as(
    state: &Arc<AppState>,
    cmd: Command,
    caller: &Caller,
) -> Result<Submitted, ApiError> {
    if is_system_id(cmd.id) {
        // Only the server derives version-8 ids (keyed, see `domain::ids`): a
        // client's command can never take one of its scheduler's, ingest's or
        // delivery's ids, not even by chance.
        return Err(ApiError::invalid(
            "id",
            format!(
                "command id {} is a version-8 UUID, which the server reserves for its own events; use a random (version 4) id",
                cmd.id
            ),
        ));
    }
    caller.require(
        cmd.action.required_access(),
        &format!("the action {}", cmd.action.name()),
    )?;
    submit(state, cmd, &caller.name).await
}

/// Runs one command for `actor` (a token's name) at server time.
pub async fn submit(
    state: &Arc<AppState>,
    cmd: Command,
    actor: &str,
) -> Result<Submitted, ApiError> {
    let digest = request_digest(&cmd, actor);
    run(
        state,
        |_| cmd.id,
        digest,
        actor,
        |world, now| Ok(decide(world, &state.policy, &cmd, actor, now)?),
    )
    .await
}

/// Runs one alert payload from the integration `actor`: the same pipeline as
/// a command, under a keyed id derived from the payload and its group's state
/// ([`alert::batch_id`]). Nothing changed: no events, nothing queued. The
/// digest leaves the actor out: two Alertmanagers of an HA pair (two tokens)
/// sending the same notification are one notification, not a reused key.
pub async fn submit_alerts(
    state: &Arc<AppState>,
    batch: AlertBatch,
    actor: &str,
) -> Result<Submitted, ApiError> {
    // Outside the decision lock: sanitising, hashing the payload.
    let prepared = alert::Prepared::owned(batch);
    let digest: String = prepared.digest.iter().map(|b| format!("{b:02x}")).collect();
    run(
        state,
        |world| alert::batch_id(world, state.system_ids(), &prepared),
        digest,
        actor,
        |world, now| {
            Ok(alert::decide_prepared(
                world,
                &state.policy,
                state.system_ids(),
                &prepared,
                actor,
                now,
            ))
        },
    )
    .await
}

/// How many times a command is decided again after losing a race with
/// another replica before the author is told to retry.
const MAX_RACES: usize = 50;

/// One try of the pipeline: its answer, or "decided against a stale model,
/// nothing written" (another replica committed first).
enum Attempt {
    Done(Result<Submitted, ApiError>),
    Raced(String),
}

/// The pipeline: under the decision lock, the id check, `decide`, the fold
/// into the decision model and the queueing; then the wait for the commit.
/// A decision another replica's commit made stale is decided again against
/// the fresh model, never appended blindly.
async fn run(
    state: &Arc<AppState>,
    id_of: impl Fn(&World) -> Uuid,
    digest: String,
    actor: &str,
    decide_at: impl Fn(&World, DateTime<Utc>) -> Result<Vec<Event>, ApiError>,
) -> Result<Submitted, ApiError> {
    let mut raced = String::new();
    for _ in 0..MAX_RACES {
        match attempt(state, &id_of, &digest, actor, &decide_at).await {
            Attempt::Done(result) => return result,
            Attempt::Raced(why) => {
                state.metrics.raced();
                raced = why;
            }
        }
    }
    Err(ApiError::unavailable(format!(
        "the log kept moving under this command ({raced}); retry"
    )))
}

/// Brings the decision model up to the committed log when it may be behind
/// it: after a failed commit it is rebuilt; on a log other replicas write, the
/// events committed since it was last brought up are folded in one by one
/// ([`fold_tail`]), and it is rebuilt only when that cannot be done safely.
async fn ensure_fresh(
    state: &Arc<AppState>,
    decider: &mut super::state::Decider,
) -> Result<(), ApiError> {
    if state.needs_recovery.load(Ordering::Acquire) || !fold_tail(state, decider) {
        recover(state, decider).await?;
    }
    Ok(())
}

/// Folds the committed events the decision model has not seen, in seq order.
/// This replica's own are in it already (folded when decided: skipped by
/// event id); another replica's are folded on top of this replica's appends
/// still in flight — unless one clashes with them (`domain::conflict`): the
/// store will refuse those appends, and the model, holding their events, must
/// be rebuilt. False when it must be rebuilt (also after a gap, or when the
/// tail overflowed).
fn fold_tail(state: &AppState, decider: &mut super::state::Decider) -> bool {
    if !state.shared_log() {
        return true;
    }
    let (events, overflowed) = {
        let mut tail = lock(&state.tail);
        (
            std::mem::take(&mut tail.events),
            std::mem::take(&mut tail.overflowed),
        )
    };
    if overflowed {
        return false;
    }
    let pending = lock(&state.pending);
    for stored in events {
        let seq = stored.seq();
        if seq <= decider.base {
            continue;
        }
        if seq != decider.base + 1 {
            tracing::warn!(
                seq,
                base = decider.base,
                "gap in the committed tail; rebuilding the decision model"
            );
            return false;
        }
        let ev = &stored.recorded.event;
        if !decider.world.has_applied(&ev.id) {
            if pending.clashes(ev) {
                return false;
            }
            decider.world.apply(ev);
        }
        decider.known.insert(stored.command);
        decider.base = seq;
    }
    true
}

/// Puts decided events in line for the writer, counted as in flight for
/// [`fold_tail`] until [`released`].
fn queue(
    state: &AppState,
    decider: &super::state::Decider,
    command: Uuid,
    digest: Option<String>,
    events: Vec<Event>,
) -> (crate::store::Ticket, Vec<Event>) {
    lock(&state.pending).add(&events);
    let held = events.clone();
    let ticket = state.store.submit(Append {
        command,
        digest,
        events,
        base: Some(decider.base),
    });
    (ticket, held)
}

/// The store answered an append [`queue`]d: it is no longer in flight. An
/// answer other than "stored" leaves its events in the decision model
/// without a place in the log, so the model is marked for rebuilding first —
/// before [`fold_tail`] could fold a clashing foreign event over them.
fn released(state: &AppState, held: &[Event], result: &Result<Appended, StoreError>) {
    if !matches!(result, Ok(a) if !a.duplicate) {
        state.needs_recovery.store(true, Ordering::Release);
    }
    lock(&state.pending).remove(held);
}

async fn attempt(
    state: &Arc<AppState>,
    id_of: &impl Fn(&World) -> Uuid,
    digest: &str,
    actor: &str,
    decide_at: &impl Fn(&World, DateTime<Utc>) -> Result<Vec<Event>, ApiError>,
) -> Attempt {
    let mut decider = state.decider.lock().await;
    // Read the clock under the lock, so decision time runs in seq order.
    let now = Utc::now();
    if let Err(e) = ensure_fresh(state, &mut decider).await {
        return Attempt::Done(Err(e));
    }
    let id = id_of(&decider.world);
    if decider.known.contains(&id) {
        let waiting = lock(&state.inflight).get(&id).cloned();
        drop(decider);
        return Attempt::Done(repeat(state, id, digest, actor, waiting).await);
    }
    if decider.partial_known {
        // Started from a checkpoint: commands before it are only in the
        // store. Look there (outside the lock), then decide under it again.
        drop(decider);
        let store = state.store.clone();
        let stored = match tokio::task::spawn_blocking(move || store.command_events(id)).await {
            Ok(Ok(stored)) => stored,
            Ok(Err(e)) => return Attempt::Done(Err(ApiError::internal(e))),
            Err(e) => {
                return Attempt::Done(Err(ApiError::internal(format!("lookup task failed: {e}"))));
            }
        };
        if !stored.is_empty() {
            return Attempt::Done(repeat(state, id, digest, actor, None).await);
        }
        decider = state.decider.lock().await;
        if let Err(e) = ensure_fresh(state, &mut decider).await {
            return Attempt::Done(Err(e));
        }
        if decider.known.contains(&id) {
            let waiting = lock(&state.inflight).get(&id).cloned();
            drop(decider);
            return Attempt::Done(repeat(state, id, digest, actor, waiting).await);
        }
    }
    // The clock is read again if the lock was given up above.
    let now = if decider.partial_known {
        Utc::now()
    } else {
        now
    };
    let events = match decide_at(&decider.world, now) {
        Ok(events) => events,
        Err(e) if state.shared_log() => {
            // A refusal is not checked at commit as an append is, and another
            // replica's commit we have not heard of yet may be what makes the
            // command valid (the incident it names, say): catch up with the
            // log's head, and decide again if anything came in.
            let base = decider.base;
            drop(decider);
            let _ = state.store.catch_up().await;
            if state.store.foreign_head() > base {
                return Attempt::Raced(format!("refused at seq {base}; the log has moved on"));
            }
            return Attempt::Done(Err(e));
        }
        Err(e) => return Attempt::Done(Err(e)),
    };
    if events.is_empty() {
        return Attempt::Done(Ok(Submitted {
            appended: Appended {
                events: Vec::new(),
                duplicate: false,
            },
        }));
    }
    for ev in &events {
        decider.world.apply(ev);
    }
    decider.known.insert(id);
    let queued_at = std::time::Instant::now();
    let (ticket, held) = queue(state, &decider, id, Some(digest.to_string()), events);
    let (done, waiting) = watch::channel(None);
    lock(&state.inflight).insert(
        id,
        Inflight {
            digest: Some(digest.to_string()),
            outcome: waiting,
        },
    );
    drop(decider);

    // The rest runs in its own task: a client hanging up must not leave the
    // in-flight entry behind (retries wait on it).
    let st = state.clone();
    let digest = digest.to_string();
    let actor = actor.to_string();
    let settled = tokio::spawn(async move {
        let result = ticket.await.unwrap_or(Err(StoreError::Closed));
        released(&st, &held, &result);
        st.metrics.commit_latency(queued_at.elapsed());
        match result {
            Err(StoreError::Raced { base, foreign }) => {
                // Nothing was written: forget the decision and make it again.
                let mut decider = st.decider.lock().await;
                decider.known.remove(&id);
                lock(&st.inflight).remove(&id);
                drop(decider);
                drop(done);
                Attempt::Raced(format!(
                    "decided at seq {base}, another replica at {foreign}"
                ))
            }
            Ok(a) if a.duplicate && a.events.first().is_some_and(|e| e.command == id) => {
                Attempt::Done(stored_elsewhere(&st, id, &digest, &actor, a, &done).await)
            }
            Ok(a) if a.duplicate => Attempt::Done(Err(collided(&st, id, &a, &done).await)),
            result => Attempt::Done(
                settle(&st, id, result, &done)
                    .await
                    .map(|appended| Submitted { appended }),
            ),
        }
    });
    match settled.await {
        Ok(a) => a,
        Err(e) => Attempt::Done(Err(ApiError::internal(format!("command task failed: {e}")))),
    }
}

/// The store says this very command id is already stored, though this
/// server had not seen it: another replica stored it meanwhile (the same
/// command sent to two replicas at once). It is a repeat — if it is the same
/// request. The events this server folded into its decision model were never
/// stored, so the model is rebuilt before the next decision.
async fn stored_elsewhere(
    state: &Arc<AppState>,
    id: Uuid,
    digest: &str,
    actor: &str,
    appended: Appended,
    done: &watch::Sender<Option<Shared>>,
) -> Result<Submitted, ApiError> {
    state.needs_recovery.store(true, Ordering::Release);
    lock(&state.inflight).remove(&id);
    let _ = done.send(Some(Ok(appended.clone())));
    let store = state.store.clone();
    let stored = tokio::task::spawn_blocking(move || store.command_digest(id))
        .await
        .map_err(|e| ApiError::internal(format!("lookup task failed: {e}")))?
        .map_err(ApiError::internal)?;
    match stored {
        Some(d) if d != digest => return Err(reused(id)),
        None if appended
            .events
            .iter()
            .any(|e| *e.recorded.event.actor != *actor) =>
        {
            return Err(reused(id));
        }
        _ => {}
    }
    Ok(Submitted { appended })
}

/// A command decided afresh that the store nonetheless calls a duplicate: its
/// id is not a stored command's, yet one of its event ids belongs to another
/// command's events (a client reusing a derived event id as a command id). The
/// events were folded into the decision model but never stored, so the model
/// is rebuilt before the next decision (or a phantom incident would take the
/// next number), and the client is told the id is taken rather than handed
/// another command's events as if they were its own.
async fn collided(
    state: &Arc<AppState>,
    id: Uuid,
    appended: &Appended,
    done: &watch::Sender<Option<Shared>>,
) -> ApiError {
    let owner = appended.events.first().map_or_else(
        || "another command".to_string(),
        |e| format!("command {}", e.command),
    );
    let message =
        format!("command id {id} is already the id of an event of {owner}; use a fresh id");
    tracing::warn!(command = %id, "{message}");
    state.needs_recovery.store(true, Ordering::Release);
    let mut decider = state.decider.lock().await;
    decider.known.remove(&id);
    lock(&state.inflight).remove(&id);
    drop(decider);
    let _ = done.send(Some(Err(message.clone())));
    ApiError::conflict(message).with_field("id")
}

/// The scheduler's half of the pipeline: under the decision lock, computes
/// the events the policy owes at `now` (automatic escalations, overdue
/// marks), folds them in and queues each under its own (deterministic) id, so
/// a repeat — after a restart, say — is stored once. Returns how many were
/// newly stored and when the next one falls due.
pub async fn escalate_due(
    state: &Arc<AppState>,
    now: DateTime<Utc>,
) -> Result<(usize, Option<DateTime<Utc>>), ApiError> {
    let mut decider = state.decider.lock().await;
    ensure_fresh(state, &mut decider).await?;
    let due = escalation::due_events(&decider.world, &state.policy, state.system_ids(), now);
    let mut pending = Vec::new();
    for ev in due {
        if !decider.known.insert(ev.id) {
            continue;
        }
        decider.world.apply(&ev);
        let id = ev.id;
        let (ticket, held) = queue(state, &decider, id, None, vec![ev]);
        let (done, waiting) = watch::channel(None);
        lock(&state.inflight).insert(
            id,
            Inflight {
                digest: None,
                outcome: waiting,
            },
        );
        pending.push((id, ticket, held, done));
    }
    let next = escalation::next_wakeup(&decider.world, &state.policy, now);
    drop(decider);
    let mut stored = 0;
    for (id, ticket, held, done) in pending {
        let result = ticket.await.unwrap_or(Err(StoreError::Closed));
        released(state, &held, &result);
        if let Ok(a) = settle(state, id, result, &done).await
            && !a.duplicate
        {
            stored += 1;
        }
    }
    Ok((stored, next))
}

/// Appends one event the system writes on its own (the delivery worker's
/// outcomes) under its derived id, through the decision model like any other:
/// a repeat (after a restart) is stored once. True when newly stored.
pub async fn append_system(
    state: &Arc<AppState>,
    ev: crate::domain::event::Event,
) -> Result<bool, ApiError> {
    let mut decider = state.decider.lock().await;
    ensure_fresh(state, &mut decider).await?;
    let id = ev.id;
    if decider.known.contains(&id) {
        // Stored already, or on its way: wait for that append's outcome.
        let waiting = lock(&state.inflight).get(&id).map(|w| w.outcome.clone());
        drop(decider);
        if let Some(mut rx) = waiting
            && let Ok(outcome) = rx.wait_for(Option::is_some).await
            && let Some(Err(e)) = outcome.clone()
        {
            return Err(ApiError::unavailable(e));
        }
        return Ok(false);
    }
    if decider.partial_known {
        // Started from a checkpoint: an id written before it is only in the
        // store, and applying its event again would count it twice.
        drop(decider);
        let store = state.store.clone();
        let stored = tokio::task::spawn_blocking(move || store.command_events(id))
            .await
            .map_err(|e| ApiError::internal(format!("lookup task failed: {e}")))?
            .map_err(ApiError::internal)?;
        if !stored.is_empty() {
            return Ok(false);
        }
        decider = state.decider.lock().await;
        ensure_fresh(state, &mut decider).await?;
        if decider.known.contains(&id) {
            return Ok(false);
        }
    }
    decider.known.insert(id);
    decider.world.apply(&ev);
    let (ticket, held) = queue(state, &decider, id, None, vec![ev]);
    let (done, waiting) = watch::channel(None);
    lock(&state.inflight).insert(
        id,
        Inflight {
            digest: None,
            outcome: waiting,
        },
    );
    drop(decider);
    let result = ticket.await.unwrap_or(Err(StoreError::Closed));
    released(state, &held, &result);
    settle(state, id, result, &done).await.map(|a| !a.duplicate)
}

/// Records the outcome of an append for everyone waiting on it.
async fn settle(
    state: &Arc<AppState>,
    id: Uuid,
    result: Result<Appended, StoreError>,
    done: &watch::Sender<Option<Shared>>,
) -> Result<Appended, ApiError> {
    if let Ok(a) = &result
        && a.duplicate
    {
        // Stored already (by another replica): whatever this server folded
        // for it in its decision model is a second copy.
        state.needs_recovery.store(true, Ordering::Release);
    }
    let raced = matches!(result, Err(StoreError::Raced { .. }));
    let shared: Shared = result.map_err(|e| e.to_string());
    if let Err(e) = &shared {
        if raced {
            tracing::debug!(command = %id, error = %e, "append raced another replica");
        } else {
            tracing::error!(command = %id, error = %e, "append failed");
        }
        state.needs_recovery.store(true, Ordering::Release);
        // Forget the id so that a retry is decided afresh once recovered.
        let mut decider = state.decider.lock().await;
        decider.known.remove(&id);
        lock(&state.inflight).remove(&id);
        drop(decider);
    } else {
        lock(&state.inflight).remove(&id);
    }
    let _ = done.send(Some(shared.clone()));
    shared.map_err(ApiError::unavailable)
}

/// The answer to an id reused for another request. The same words whether the
/// request differs or the actor does, so it reveals nothing of the first one.
fn reused(id: Uuid) -> ApiError {
    ApiError::invalid(
        "id",
        format!(
            "command id {id} was already used for a different request; \
             an id stands for one request, so send a new command with a fresh id"
        ),
    )
}

/// Answers a command id seen before — if it is the same request.
async fn repeat(
    state: &Arc<AppState>,
    id: Uuid,
    digest: &str,
    actor: &str,
    waiting: Option<Inflight>,
) -> Result<Submitted, ApiError> {
    let waiting = match waiting {
        Some(w) if w.digest.as_deref() != Some(digest) => return Err(reused(id)),
        Some(w) => Some(w.outcome),
        None => {
            let store = state.store.clone();
            let stored = tokio::task::spawn_blocking(move || store.command_digest(id))
                .await
                .map_err(|e| ApiError::internal(format!("lookup task failed: {e}")))?
                .map_err(ApiError::internal)?;
            match stored {
                Some(d) if d != digest => return Err(reused(id)),
                _ => None,
            }
        }
    };
    if let Some(mut rx) = waiting
        && let Ok(outcome) = rx.wait_for(Option::is_some).await
        && let Some(result) = outcome.clone()
    {
        return result
            .map(|a| Submitted {
                appended: Appended {
                    events: a.events,
                    duplicate: true,
                },
            })
            .map_err(ApiError::unavailable);
    }
    let store = state.store.clone();
    let events = tokio::task::spawn_blocking(move || store.command_events(id))
        .await
        .map_err(|e| ApiError::internal(format!("lookup task failed: {e}")))?
        .map_err(ApiError::internal)?;
    if events.is_empty() {
        // Known but neither in flight nor stored: its append failed a moment ago.
        return Err(ApiError::unavailable(
            "the first attempt of this command failed to commit; retry",
        ));
    }
    // Stored without a digest (the scheduler's, or written before digests
    // were kept): at least never hand one actor's events to another.
    if events.iter().any(|e| *e.recorded.event.actor != *actor) {
        return Err(reused(id));
    }
    Ok(Submitted {
        appended: Appended {
            events,
            duplicate: true,
        },
    })
}

/// Rebuilds the decision model from the committed read model: after a
/// failed commit (the decision model holds events that never reached the
/// disk), or when another replica has committed past it. Everything queued
/// before is answered first, so the read model then holds every event this
/// server's appends stored, and the commits of others it has followed.
async fn recover(
    state: &Arc<AppState>,
    decider: &mut super::state::Decider,
) -> Result<(), ApiError> {
    let _ = state.store.flush().await;
    let (world, seq) = state.read_view(|v| (v.world.clone(), v.latest_seq));
    decider.world = world;
    decider.base = seq;
    if state.needs_recovery.swap(false, Ordering::AcqRel) {
        tracing::warn!(seq, "decision model rebuilt from the committed log");
    }
    Ok(())
}
