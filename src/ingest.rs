//! Ingest adapters: a foreign payload in, an [`AlertBatch`] out.
//!
//! Each adapter only translates; what a batch *means* (a new incident, a
//! triage item, a repeat, an all-clear) is decided by the pure rules in
//! [`crate::domain::alert`]. Errors name the offending field in the sender's
//! own terms, so its operator can fix the sender.
//!
//! - [`alertmanager`]: the Prometheus Alertmanager webhook, version 4.
//! - [`events_v2`]: the PagerDuty Events API v2 shape (`routing_key`, `event_action`…).

pub mod alertmanager;
pub mod events_v2;

pub use crate::domain::alert::{AlertBatch, AlertError};

/// Largest ingest body: Alertmanager sends every alert of a group in one
/// payload (up to its `max_alerts`), which outgrows the API's 256 KiB quickly.
pub const MAX_INGEST_BODY: usize = 4 * 1024 * 1024;

/// Parses JSON into `T`, naming the path of the offending field.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AlertError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." { String::new() } else { path };
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("malformed JSON: {inner}")
        } else {
            inner.to_string()
        };
        AlertError::new(field, message)
    })?;
    de.end()
        .map_err(|e| AlertError::new("", format!("malformed JSON: {e}")))?;
    Ok(value)
}
