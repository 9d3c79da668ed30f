//! The request formats of the two alert senders, as their schemas: other
//! vendors' contracts (Prometheus Alertmanager's webhook payload version 4,
//! PagerDuty's Events API v2), which [`crate::ingest`] parses leniently so a
//! refusal can name every problem at once. These schemas publish what the
//! adapters accept; the tests check each one survives utoipa's types intact.

use crate::ingest::alertmanager::Webhook;
use crate::ingest::events_v2::EventV2;
use serde_json::{Value, json};
use std::borrow::Cow;
use utoipa::openapi::{RefOr, schema::Schema};

/// A time as the senders write it: absent, null, empty or Alertmanager's
/// zero time all mean "unknown".
fn time() -> Value {
    json!({ "type": ["string", "null"], "format": "date-time", "description": "RFC 3339; null, empty or Alertmanager's zero time means unknown" })
}

pub(super) fn alertmanager() -> Value {
    let labels = json!({ "type": "object", "additionalProperties": { "type": "string" } });
    json!({
        "type": "object",
        "description": "Prometheus Alertmanager's webhook payload, version 4",
        "required": ["version", "groupKey", "status", "alerts"],
        "properties": {
            "version": { "type": "string", "enum": ["4"] },
            "groupKey": { "type": "string", "minLength": 1, "pattern": "\\S" },
            "status": { "type": "string", "enum": ["firing", "resolved"] },
            "truncatedAlerts": { "type": "integer", "minimum": 0, "maximum": 9007199254740991_u64 },
            "alerts": { "type": "array", "maxItems": crate::domain::alert::MAX_ALERTS, "items": {
                "type": "object",
                "required": ["status", "fingerprint"],
                "properties": {
                    "status": { "type": "string", "enum": ["firing", "resolved"] },
                    "labels": labels, "annotations": labels,
                    "startsAt": time(), "endsAt": time(),
                    "generatorURL": { "type": ["string", "null"] },
                    "fingerprint": { "type": "string", "minLength": 1 }
                }
            } }
        }
    })
}

pub(super) fn events_v2() -> Value {
    json!({
        "type": "object",
        "description": "PagerDuty Events API v2. A trigger needs `payload` with `summary`, `source` and `severity`; acknowledge and resolve need `dedup_key` (refused 400 otherwise, naming each missing field).",
        "required": ["routing_key", "event_action"],
        "properties": {
            "routing_key": { "type": "string", "minLength": 1, "pattern": "\\S" },
            "event_action": { "type": "string", "enum": ["trigger", "acknowledge", "resolve"] },
            "dedup_key": { "type": "string", "minLength": 1, "maxLength": 255 },
            "payload": { "type": "object", "properties": {
                "summary": { "type": "string", "minLength": 1, "maxLength": 1024 },
                "source": { "type": "string", "minLength": 1 },
                "severity": { "type": "string", "enum": ["critical", "error", "warning", "info"] },
                "timestamp": time(),
                "component": { "type": "string" }, "group": { "type": "string" }, "class": { "type": "string" },
                "custom_details": { "type": "object" }
            } },
            "links": { "type": "array", "items": { "type": "object", "properties": { "href": { "type": "string" }, "text": { "type": "string" } } } }
        }
    })
}

/// A schema written as JSON in utoipa's types (tested to lose nothing).
fn schema(v: Value) -> RefOr<Schema> {
    serde_json::from_value(v).expect("a sender schema is a valid OpenAPI schema (tested)")
}

impl utoipa::PartialSchema for Webhook {
    fn schema() -> RefOr<Schema> {
        schema(alertmanager())
    }
}

impl utoipa::ToSchema for Webhook {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("AlertmanagerWebhook")
    }
}

impl utoipa::PartialSchema for EventV2 {
    fn schema() -> RefOr<Schema> {
        schema(events_v2())
    }
}

impl utoipa::ToSchema for EventV2 {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("EventsV2")
    }
}
