//! Read-model checkpoints: restart time flat in the size of the log.
//!
//! Folding the log from the first event made a restart cost 1 s at 150,000
//! events, and a company's server keeps years of them. So the read model (the
//! incidents as folded, without the per-event bookkeeping) is written to the
//! database now and then, in the background, with the seq and the id of the
//! last event folded into it. A start reads the newest checkpoint whose event
//! is still in the log at that seq, and folds only the events after it.
//!
//! A checkpoint is an optimisation, never the truth: one that does not match
//! the log, or that an older or newer build wrote ([`FORMAT`]), is ignored and
//! the log is folded from the start.

use super::state::AppState;
use crate::domain::state::World;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Bump when `World::apply` folds differently, so old checkpoints are ignored.
pub const FORMAT: &str = "warroom-read-model-1";

/// How often the writer looks at how far the log has moved.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// The whole `World` (its serde form leaves out the per-event bookkeeping),
/// so whatever the projection gains (alert groups…) is checkpointed too.
#[derive(Serialize)]
struct Out<'a> {
    format: &'a str,
    world: &'a World,
}

#[derive(Deserialize)]
struct In {
    format: String,
    world: World,
}

pub fn encode(world: &World) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&Out {
        format: FORMAT,
        world,
    })
}

pub fn decode(data: &[u8]) -> Result<World, String> {
    let read: In = serde_json::from_slice(data).map_err(|e| e.to_string())?;
    if read.format != FORMAT {
        return Err(format!(
            "written as {:?}, this build reads {FORMAT:?}",
            read.format
        ));
    }
    Ok(read.world)
}

/// Writes a checkpoint of the read model as it is now; returns its seq
/// (`None` when the log is empty).
pub async fn write(state: &Arc<AppState>) -> Result<Option<u64>, String> {
    // Encoded under the read lock (the commit hook waits for it meanwhile:
    // a few ms for thousands of incidents, once every `every` events).
    let (data, seq) = state.read_view(|v| (encode(&v.world), v.latest_seq));
    if seq == 0 {
        return Ok(None);
    }
    let data = data.map_err(|e| e.to_string())?;
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let last = store
            .events_after(seq - 1, 1)
            .map_err(|e| e.to_string())?
            .into_iter()
            .next()
            .filter(|e| e.seq() == seq)
            .ok_or_else(|| format!("event {seq} is not in the log"))?;
        store
            .save_checkpoint(seq, last.recorded.event.id, &data)
            .map_err(|e| e.to_string())?;
        Ok(Some(seq))
    })
    .await
    .map_err(|e| e.to_string())?
}

/// The background writer: a checkpoint whenever the log has moved `every`
/// events past the last one, and a last one on shutdown (so a clean restart
/// folds nothing).
pub async fn run(state: Arc<AppState>, every: u64, mut stop: watch::Receiver<bool>) {
    let mut last = state.loaded.checkpoint.unwrap_or(0);
    loop {
        let stopping = tokio::select! {
            _ = stop.wait_for(|s| *s) => true,
            _ = tokio::time::sleep(LOOK_EVERY) => false,
        };
        let latest = state.latest_seq();
        if latest > last && (stopping || latest - last >= every.max(1)) {
            match write(&state).await {
                Ok(Some(seq)) => {
                    tracing::debug!(seq, "read-model checkpoint written");
                    last = seq;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("cannot write a checkpoint: {e}"),
            }
        }
        if stopping {
            return;
        }
    }
}
