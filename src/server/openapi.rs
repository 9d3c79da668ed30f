//! `GET /api/v1/openapi.json`: the API described by hand as OpenAPI 3.1.
//!
//! Written by hand (no codegen crate) from [`crate::protocol`]; a test walks
//! the router's paths and checks each one is listed here with its statuses,
//! and its unit tests check the request schemas against the types themselves:
//! every action's required fields are exactly those serde cannot do without,
//! unknown fields are refused by both, and the page bounds are the server's.
//! CI also runs schemathesis against the real binary (`tests/it/schemathesis.rs`).
//!
//! Schema-valid input may still be refused with 422 or 409 by the policy,
//! which is data (an unknown severity id, a role the policy does not have, a
//! resolve before the stability window): no static schema can say that.

use crate::domain::command::Access;
use crate::ingest::MAX_INGEST_BODY;
use crate::protocol::{ErrorCode, MAX_BODY_BYTES, MAX_PAGE, SERVER_TIME_HEADER};
use serde_json::{Value, json};

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn json_body(schema: Value, description: &str) -> Value {
    json!({
        "description": description,
        "headers": { SERVER_TIME_HEADER: { "$ref": "#/components/headers/ServerTime" } },
        "content": { "application/json": { "schema": schema } }
    })
}

fn error(description: &str) -> Value {
    json_body(schema_ref("ErrorBody"), description)
}

/// The error answers every authenticated endpoint can give.
fn auth_errors() -> Vec<(&'static str, Value)> {
    vec![
        ("401", error("missing, unknown or revoked bearer token")),
        (
            "429",
            json!({
                "description": "over the per-token rate; retry after `Retry-After` seconds",
                "headers": {
                    "Retry-After": { "schema": { "type": "integer" } },
                    SERVER_TIME_HEADER: { "$ref": "#/components/headers/ServerTime" }
                },
                "content": { "application/json": { "schema": schema_ref("ErrorBody") } }
            }),
        ),
        ("500", error("internal error (logged); code `internal`")),
    ]
}

fn responses(list: Vec<(&'static str, Value)>) -> Value {
    let mut map = serde_json::Map::new();
    for (status, v) in list {
        map.insert(status.to_string(), v);
    }
    Value::Object(map)
}

fn op(
    summary: &str,
    secured: bool,
    params: Value,
    body: Option<Value>,
    list: Vec<(&'static str, Value)>,
) -> Value {
    let mut all = list;
    if secured {
        all.extend(auth_errors());
    }
    let mut o = json!({
        "summary": summary,
        "parameters": params,
        "responses": responses(all),
    });
    if !secured {
        o["security"] = json!([]);
    }
    if let Some(b) = body {
        o["requestBody"] = b;
    }
    o
}

/// A seq on the wire: any unsigned 64-bit integer (a seq past the log's end
/// means "after everything").
fn seq_schema() -> Value {
    json!({ "type": "integer", "minimum": 0, "maximum": u64::MAX })
}

fn page_params() -> Value {
    json!([
        { "name": "after", "in": "query", "schema": seq_schema(), "description": "only events with a larger seq" },
        { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": MAX_PAGE }, "description": format!("page size, 1 to {MAX_PAGE}; anything else is a 400 naming `limit`") }
    ])
}

/// A required text the domain refuses when empty (after sanitising).
fn text(max: usize) -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": max })
}

fn optional_string() -> Value {
    json!({ "type": ["string", "null"] })
}

fn enum_of(values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values })
}

/// One field of an action: its name, its schema, whether it is required.
pub type Field = (&'static str, Value, bool);

/// Every action: its wire name, its fields with their schemas, and which
/// fields are required. Mirrors [`crate::domain::command::Action`]; the tests
/// check the two agree.
pub fn action_fields() -> Vec<(&'static str, Vec<Field>)> {
    use crate::domain::decide::{MAX_TEXT, MAX_TITLE};
    let status = enum_of(&["investigating", "identified", "monitoring", "resolved"]);
    let channel = enum_of(&["status_page", "internal", "customer"]);
    let note_kind = enum_of(&["note", "decision", "action", "observation"]);
    let action_state = enum_of(&["open", "in_progress", "done", "cancelled"]);
    let date = json!({ "type": ["string", "null"], "format": "date" });
    let impact = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "summary": { "type": "string" },
            "services": { "type": "array", "items": { "type": "string" } },
            "customers": { "type": "string" },
            "data_exposure": { "type": "boolean" }
        }
    });
    let long = || text(MAX_TEXT);
    // An id the policy defines (severity, role, checklist, item): the policy
    // decides which exist.
    let id = || json!({ "type": "string", "minLength": 1 });
    let person = || text(100);
    let free = || json!({ "type": "string", "maxLength": MAX_TEXT });
    vec![
        (
            "declare",
            vec![
                ("title", text(MAX_TITLE), true),
                ("severity", id(), true),
                ("kind", optional_string(), false),
                (
                    "impact",
                    json!({ "oneOf": [impact.clone(), { "type": "null" }] }),
                    false,
                ),
                ("commander", optional_string(), false),
            ],
        ),
        ("acknowledge", vec![]),
        (
            "set_severity",
            vec![("severity", id(), true), ("reason", long(), true)],
        ),
        ("set_status", vec![("status", status.clone(), true)]),
        (
            "record_detection",
            vec![
                (
                    "impact_started",
                    json!({ "type": ["string", "null"], "format": "date-time" }),
                    false,
                ),
                (
                    "detected_at",
                    json!({ "type": ["string", "null"], "format": "date-time" }),
                    false,
                ),
                (
                    "method",
                    json!({ "type": ["string", "null"], "enum": [
                        "alert", "customer_report", "internal_report", "security_tool",
                        "responsible_disclosure", null
                    ] }),
                    false,
                ),
            ],
        ),
        (
            "set_kind",
            vec![("kind", id(), true), ("reason", long(), true)],
        ),
        ("contain", vec![("note", free(), false)]),
        (
            "resolve",
            vec![
                ("summary", free(), false),
                ("force", json!({ "type": "boolean" }), false),
                ("reason", free(), false),
            ],
        ),
        ("reopen", vec![("reason", long(), true)]),
        ("close", vec![]),
        (
            "assign_role",
            vec![
                ("role", id(), true),
                ("person", person(), true),
                ("note", free(), false),
            ],
        ),
        ("release_role", vec![("role", id(), true)]),
        // The person a role was offered to (`assign_role` of a held role) answers.
        ("accept_role", vec![("role", id(), true)]),
        (
            "decline_role",
            vec![("role", id(), true), ("reason", free(), false)],
        ),
        (
            "note",
            vec![("kind", note_kind, false), ("text", long(), true)],
        ),
        (
            "post_update",
            vec![
                ("channel", channel, true),
                (
                    "state",
                    json!({ "oneOf": [status, { "type": "null" }] }),
                    false,
                ),
                ("text", long(), true),
            ],
        ),
        (
            "escalate",
            vec![("to", optional_string(), false), ("reason", long(), true)],
        ),
        (
            "page",
            vec![("who", person(), true), ("reason", long(), true)],
        ),
        ("update_impact", vec![("impact", impact, true)]),
        (
            "set_checklist_item",
            vec![
                ("checklist", id(), true),
                ("item", id(), true),
                ("done", json!({ "type": "boolean" }), false),
            ],
        ),
        (
            "add_action_item",
            vec![
                ("text", long(), true),
                ("owner", optional_string(), false),
                ("due", date.clone(), false),
                ("priority", optional_string(), false),
            ],
        ),
        (
            "update_action_item",
            vec![
                (
                    "action",
                    json!({ "type": "string", "format": "uuid" }),
                    true,
                ),
                ("state", action_state, true),
                ("owner", optional_string(), false),
                ("due", date, false),
                ("priority", optional_string(), false),
            ],
        ),
        ("complete_review", vec![("summary", free(), false)]),
        // A human field of the policy's review template (`warroom policy show`).
        (
            "set_review_field",
            vec![("field", id(), true), ("value", free(), false)],
        ),
        (
            "retry_delivery",
            vec![(
                "delivery",
                json!({ "type": "string", "format": "uuid" }),
                true,
            )],
        ),
        // The triage queue (`incident` is `TRI-n` or the item's id).
        (
            "declare_triaged",
            vec![("severity", optional_string(), false)],
        ),
        ("dismiss_triaged", vec![("reason", free(), false)]),
    ]
}

/// `Action` as a `oneOf`, one closed object per action, told apart by `type`.
fn action_schema() -> Value {
    let variants: Vec<Value> = action_fields()
        .into_iter()
        .map(|(name, fields)| {
            let mut props = serde_json::Map::new();
            props.insert("type".into(), json!({ "const": name }));
            let mut required = vec![json!("type")];
            for (field, schema, req) in fields {
                props.insert(field.into(), schema);
                if req {
                    required.push(json!(field));
                }
            }
            // serde ignores unknown keys of a variant without fields
            // (`acknowledge`, `close`), so only the others are closed.
            let closed = props.len() > 1;
            let mut v = json!({
                "title": name,
                "type": "object",
                "required": required,
                "properties": props
            });
            if closed {
                v["additionalProperties"] = json!(false);
            }
            v
        })
        .collect();
    json!({ "oneOf": variants })
}

/// The whole document.
pub fn document() -> Value {
    let too_large = error(&format!("body over {MAX_BODY_BYTES} bytes"));
    let bad_json = error("malformed JSON or a bad query parameter");
    let invalid = error(
        "unknown field, wrong type or bad value (`field` names it), or refused by the policy",
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "warroom",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Incident war room: commands in, events out (catch-up pages and a live SSE stream). Every response carries the server's time in `x-warroom-server-time`."
        },
        "security": [ { "bearer": [] } ],
        "paths": {
            "/healthz": {
                "get": op("liveness probe", false, json!([]), None, vec![
                    ("200", json!({ "description": "`ok`", "content": { "text/plain": { "schema": { "type": "string" } } } })),
                ])
            },
            "/readyz": {
                "get": op("readiness probe: the database answers and this server has caught up with the log", false, json!([]), None, vec![
                    ("200", json_body(json!({
                        "type": "object",
                        "required": ["ready", "latest_seq"],
                        "properties": {
                            "ready": { "type": "boolean" },
                            "latest_seq": { "type": "integer", "minimum": 0 }
                        }
                    }), "ready")),
                    ("503", error("the database does not answer, or this server is still catching up")),
                ])
            },
            "/api/v1/openapi.json": {
                "get": op("this document", false, json!([]), None, vec![
                    ("200", json_body(json!({ "type": "object" }), "OpenAPI 3.1")),
                ])
            },
            "/api/v1/commands": {
                "post": op("run a command (idempotent by command id)", true, json!([]),
                    Some(json!({ "required": true, "content": { "application/json": { "schema": schema_ref("Command") } } })),
                    vec![
                        ("201", json_body(schema_ref("CommandResult"), "stored; `events` with their seqs")),
                        ("200", json_body(schema_ref("CommandResult"), "a repeated command id: the events stored the first time, `duplicate: true`")),
                        ("400", bad_json.clone()),
                        ("403", error("the token's role is below what the action needs")),
                        ("404", error("unknown incident")),
                        ("409", error("the incident's state does not allow it now")),
                        ("413", too_large.clone()),
                        ("422", invalid.clone()),
                        ("503", error("the store could not commit; retry with the same id")),
                    ])
            },
            "/api/v1/incidents": {
                "get": op("incidents with clocks at server time, worst first", true,
                    json!([{ "name": "all", "in": "query", "schema": { "type": "boolean" }, "description": "include closed incidents" }]),
                    None,
                    vec![
                        ("200", json_body(schema_ref("IncidentList"), "open incidents, worst first")),
                        ("400", bad_json.clone()),
                    ])
            },
            "/api/v1/incidents/{reference}": {
                "get": op("one incident and a page of its timeline", true,
                    {
                        let mut p = page_params();
                        if let Some(a) = p.as_array_mut() {
                            a.insert(0, json!({ "name": "reference", "in": "path", "required": true, "schema": { "type": "string" }, "description": "`INC-3`, `3` or the incident's UUID" }));
                        }
                        p
                    },
                    None,
                    vec![
                        ("200", json_body(schema_ref("IncidentDetail"), "the incident")),
                        ("400", bad_json.clone()),
                        ("404", error("unknown incident")),
                    ])
            },
            "/api/v1/events": {
                "get": op("events after a seq, in pages", true, page_params(), None, vec![
                    ("200", json_body(schema_ref("EventsPage"), "one page, oldest first")),
                    ("400", bad_json.clone()),
                ])
            },
            "/api/v1/stream": {
                "get": op("live events as Server-Sent Events (`event`, `heartbeat`, `resync`, `shutdown`, `revoked`); at most a number of streams per token (429) and in all (503)", true,
                    json!([
                        { "name": "Last-Event-ID", "in": "header", "schema": seq_schema(), "description": "resume after this seq" },
                        { "name": "after", "in": "query", "schema": seq_schema(), "description": "resume after this seq (the header wins)" }
                    ]),
                    None,
                    vec![
                        ("200", json!({
                            "description": "`id:` is the seq; `data:` a Recorded, Heartbeat or Resync as JSON",
                            "content": { "text/event-stream": { "schema": { "type": "string" } } }
                        })),
                        ("400", bad_json.clone()),
                        ("503", error("the server's limit of live streams is reached; retry after `Retry-After` seconds (code `busy`)")),
                    ])
            },
            "/api/v1/policy": {
                "get": op("the server's policy", true, json!([]), None, vec![
                    ("200", json_body(schema_ref("Policy"), "the policy")),
                ])
            },
            "/api/v1/me": {
                "get": op("who the token belongs to", true, json!([]), None, vec![
                    ("200", json_body(schema_ref("Me"), "name, role, server time, policy name")),
                ])
            },
            "/api/v1/tokens": {
                "get": op("live tokens (admin)", true, json!([]), None, vec![
                    ("200", json_body(json!({ "type": "array", "items": schema_ref("TokenInfo") }), "names and roles, never secrets")),
                    ("403", error("needs the admin role")),
                ]),
                "post": op("create a token (admin); the secret is shown once", true, json!([]),
                    Some(json!({ "required": true, "content": { "application/json": { "schema": schema_ref("CreateToken") } } })),
                    vec![
                        ("201", json_body(schema_ref("NewToken"), "the new token")),
                        ("400", bad_json),
                        ("403", error("needs the admin role")),
                        ("409", error("the name is taken")),
                        ("413", too_large),
                        ("422", invalid),
                    ])
            },
            "/api/v1/tokens/{name}": {
                "delete": op("revoke a token (admin)", true,
                    json!([{ "name": "name", "in": "path", "required": true, "schema": { "type": "string" } }]),
                    None,
                    vec![
                        ("204", json!({ "description": "revoked" })),
                        ("403", error("needs the admin role")),
                        ("404", error("no live token of that name")),
                    ])
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics (text format 0.0.4): open incidents by severity and status, breached clocks, time-to-acknowledge/contain/resolve histograms, ingest and delivery counters, commit latency, live stream subscribers. No token: counts only.",
                    "security": [],
                    "parameters": [],
                    "responses": {
                        "200": { "description": "the exposition", "content": { "text/plain": { "schema": { "type": "string" } } } }
                    }
                }
            },
            "/api/v1/ingest/alertmanager": {
                "post": {
                    "summary": "Prometheus Alertmanager webhook, payload version 4 (a webhook_configs receiver with http_config.authorization set to an integration token). Groups by groupKey; repeats store nothing.",
                    "parameters": [],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": schema_ref("AlertmanagerWebhook") } } },
                    "responses": {
                        "200": json_body(schema_ref("Ingested"), "accepted: `changed` says whether anything was stored; `target` is the incident (INC-n) or triage item (TRI-n) of the group"),
                        "400": error("malformed JSON, a wrong field (named in `field`), or over a limit (128 labels and annotations per alert, 1,000 alerts, 16 KiB per value)"),
                        "401": error("no bearer token, or not a live integration (or admin) token"),
                        "413": error(&format!("body over the ingest limit of {MAX_INGEST_BODY} bytes")),
                        "503": error("the store could not commit; Alertmanager retries")
                    }
                }
            },
            "/api/v1/ingest/events/v2": {
                "post": {
                    "summary": "PagerDuty Events API v2 (trigger / acknowledge / resolve), answered like PagerDuty. No header: the routing_key is an integration token's secret. Groups by dedup_key.",
                    "security": [],
                    "parameters": [],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": schema_ref("EventsV2") } } },
                    "responses": {
                        "202": { "description": "accepted", "content": { "application/json": { "schema": schema_ref("EventsV2Accepted") } } },
                        "400": { "description": "invalid event (every problem in `errors`), or an unknown routing_key", "content": { "application/json": { "schema": schema_ref("EventsV2Refused") } } },
                        "413": { "description": "body over the ingest limit", "content": { "application/json": { "schema": schema_ref("EventsV2Refused") } } },
                        "503": { "description": "the store could not commit; retry", "content": { "application/json": { "schema": schema_ref("EventsV2Refused") } } }
                    }
                }
            }
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "headers": {
                "ServerTime": { "description": "the server's time, RFC 3339 with milliseconds", "schema": { "type": "string", "format": "date-time" } }
            },
            "schemas": schemas()
        }
    })
}

fn schemas() -> Value {
    let obj = json!({ "type": "object" });
    let seq = seq_schema();
    // Absent or null: the sender did not say (both shapes allow it).
    let time = json!({ "type": ["string", "null"], "format": "date-time", "description": "RFC 3339; null, empty or Alertmanager's zero time means unknown" });
    let role = json!({ "type": "string", "enum": Access::ALL.map(Access::as_str) });
    let error_codes: Vec<&str> = ErrorCode::served().map(ErrorCode::as_str).collect();
    let labels = json!({ "type": "object", "additionalProperties": { "type": "string" } });
    json!({
        "AlertmanagerWebhook": {
            "type": "object",
            "required": ["version", "groupKey", "status", "alerts"],
            "properties": {
                "version": { "const": "4" },
                "groupKey": { "type": "string", "minLength": 1, "pattern": "\\S" },
                "status": { "enum": ["firing", "resolved"] },
                "truncatedAlerts": { "type": "integer", "minimum": 0, "maximum": 9007199254740991_u64 },
                "alerts": { "type": "array", "maxItems": 1000, "items": {
                    "type": "object",
                    "required": ["status", "fingerprint"],
                    "properties": {
                        "status": { "enum": ["firing", "resolved"] },
                        "labels": labels, "annotations": labels,
                        "startsAt": time, "endsAt": time,
                        "generatorURL": { "type": ["string", "null"] },
                        "fingerprint": { "type": "string", "minLength": 1 }
                    }
                } }
            }
        },
        "Ingested": {
            "type": "object",
            "required": ["status", "changed", "events"],
            "properties": {
                "status": { "const": "ok" },
                "changed": { "type": "boolean" },
                "events": { "type": "integer", "minimum": 0 },
                "target": { "type": ["string", "null"] }
            }
        },
        "EventsV2": {
            "type": "object",
            "required": ["routing_key", "event_action"],
            // A trigger carries what the alert is; acknowledge and resolve
            // name the alert they are about.
            "if": { "properties": { "event_action": { "const": "trigger" } } },
            "then": {
                "required": ["payload"],
                "properties": { "payload": { "required": ["summary", "source", "severity"] } }
            },
            "else": { "required": ["dedup_key"] },
            "properties": {
                "routing_key": { "type": "string", "minLength": 1, "pattern": "\\S" },
                "event_action": { "enum": ["trigger", "acknowledge", "resolve"] },
                "dedup_key": { "type": "string", "minLength": 1, "maxLength": 255 },
                "payload": { "type": "object", "properties": {
                    "summary": { "type": "string", "minLength": 1, "maxLength": 1024 },
                    "source": { "type": "string", "minLength": 1 },
                    "severity": { "enum": ["critical", "error", "warning", "info"] },
                    "timestamp": time,
                    "component": { "type": "string" }, "group": { "type": "string" }, "class": { "type": "string" },
                    "custom_details": obj
                } },
                "links": { "type": "array", "items": { "type": "object", "properties": { "href": { "type": "string" }, "text": { "type": "string" } } } }
            }
        },
        "EventsV2Accepted": {
            "type": "object",
            "required": ["status", "message", "dedup_key"],
            "properties": { "status": { "const": "success" }, "message": { "type": "string" }, "dedup_key": { "type": "string" } }
        },
        "EventsV2Refused": {
            "type": "object",
            "required": ["status", "message", "errors"],
            "properties": { "status": { "type": "string" }, "message": { "type": "string" }, "errors": { "type": "array", "items": { "type": "string" } } }
        },
        "ErrorBody": {
            "type": "object",
            "required": ["error", "code"],
            "properties": {
                "error": { "type": "string" },
                "code": { "type": "string", "enum": error_codes, "description": "machine-readable (protocol::ErrorCode)" },
                "field": { "type": "string" }
            }
        },
        "Command": {
            "type": "object",
            "required": ["id", "action"],
            "additionalProperties": false,
            "properties": {
                "id": { "type": "string", "format": "uuid", "description": "idempotency key" },
                "incident": { "type": ["string", "null"], "description": "`INC-3` or UUID; absent only for `declare`" },
                "occurred_at": { "type": ["string", "null"], "format": "date-time" },
                "action": action_schema()
            }
        },
        "Recorded": {
            "type": "object",
            "required": ["seq", "recorded_at", "id", "incident", "actor", "occurred_at", "type"],
            "properties": {
                "seq": seq, "recorded_at": time,
                "id": { "type": "string", "format": "uuid" },
                "incident": { "type": "string", "format": "uuid" },
                "actor": { "type": "string" },
                "occurred_at": time,
                "type": { "type": "string" }
            }
        },
        "CommandResult": {
            "type": "object",
            "required": ["events", "duplicate"],
            "properties": { "events": { "type": "array", "items": schema_ref("Recorded") }, "duplicate": { "type": "boolean" } }
        },
        "IncidentView": {
            "type": "object",
            "required": ["incident", "clocks"],
            "properties": { "incident": obj, "clocks": { "type": "array", "items": obj } }
        },
        "IncidentList": {
            "type": "object",
            "required": ["server_time", "latest_seq", "incidents"],
            "properties": { "server_time": time, "latest_seq": seq, "incidents": { "type": "array", "items": schema_ref("IncidentView") } }
        },
        "IncidentDetail": {
            "type": "object",
            "required": ["server_time", "incident", "timeline", "next_after", "more"],
            "properties": {
                "server_time": time, "incident": schema_ref("IncidentView"),
                "timeline": { "type": "array", "items": schema_ref("Recorded") },
                "next_after": seq, "more": { "type": "boolean" }
            }
        },
        "EventsPage": {
            "type": "object",
            "required": ["events", "next_after", "more", "latest_seq"],
            "properties": {
                "events": { "type": "array", "items": schema_ref("Recorded") },
                "next_after": seq, "more": { "type": "boolean" }, "latest_seq": seq
            }
        },
        "Heartbeat": {
            "type": "object",
            "required": ["server_time", "latest_seq"],
            "properties": { "server_time": time, "latest_seq": seq }
        },
        "Resync": {
            "type": "object",
            "required": ["reason", "latest_seq"],
            "properties": { "reason": { "type": "string" }, "latest_seq": seq }
        },
        "Policy": obj,
        "Me": {
            "type": "object",
            "required": ["name", "role", "server_time", "policy"],
            "properties": { "name": { "type": "string" }, "role": role, "server_time": time, "policy": { "type": "string" } }
        },
        "TokenInfo": {
            "type": "object",
            "required": ["name", "role", "created_at"],
            "properties": { "name": { "type": "string" }, "role": role, "created_at": time }
        },
        "CreateToken": {
            "type": "object",
            "required": ["name", "role"],
            "additionalProperties": false,
            "properties": { "name": { "type": "string", "pattern": "^[A-Za-z0-9._@-]{1,64}$" }, "role": role }
        },
        "NewToken": {
            "type": "object",
            "required": ["name", "role", "token"],
            "properties": { "name": { "type": "string" }, "role": role, "token": { "type": "string" } }
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::command::{Action, Command};

    /// A value the schema accepts (the first enum value, a UUID for a UUID…).
    fn sample(schema: &Value) -> Value {
        if let Some(v) = schema.get("enum").and_then(|e| e.get(0)) {
            return v.clone();
        }
        if let Some(first) = schema.get("oneOf").and_then(|o| o.get(0)) {
            return sample(first);
        }
        let ty = match &schema["type"] {
            Value::Array(types) => types[0].as_str().unwrap_or("string").to_string(),
            Value::String(t) => t.clone(),
            _ => "string".into(),
        };
        match (ty.as_str(), schema["format"].as_str()) {
            ("string", Some("uuid")) => json!("0b1c5d1e-7a64-4b6c-9a51-6a1c1b2f9e10"),
            ("string", Some("date")) => json!("2026-03-14"),
            ("string", Some("date-time")) => json!("2026-03-14T09:26:00Z"),
            ("string", _) => json!("x"),
            ("boolean", _) => json!(true),
            ("object", _) => json!({}),
            (other, _) => panic!("no sample for {other}"),
        }
    }

    fn command(action: Value) -> Result<Command, serde_json::Error> {
        serde_json::from_value(json!({
            "id": "6f1f3a56-3c4e-4a55-8d1e-2b8f5b1c0a77",
            "incident": "INC-1",
            "action": action
        }))
    }

    fn full(name: &str, fields: &[(&str, Value, bool)], only_required: bool) -> Value {
        let mut a = json!({ "type": name });
        for (f, schema, req) in fields {
            if *req || !only_required {
                a[*f] = sample(schema);
            }
        }
        a
    }

    /// The third finding: `text` of a note was not marked required,
    /// yet the server refused a note without it. Now every action's
    /// `required` is checked against serde itself.
    #[test]
    fn every_actions_required_fields_are_exactly_what_serde_needs() {
        for (name, fields) in action_fields() {
            command(full(name, &fields, false))
                .unwrap_or_else(|e| panic!("{name} with every field: {e}"));
            command(full(name, &fields, true))
                .unwrap_or_else(|e| panic!("{name} with the required fields only: {e}"));
            for (field, _, required) in &fields {
                let mut a = full(name, &fields, false);
                a.as_object_mut().unwrap().remove(*field);
                assert_eq!(
                    command(a).is_err(),
                    *required,
                    "{name}.{field}: the document says required={required}"
                );
            }
            let mut a = full(name, &fields, false);
            a["not_a_field"] = json!(1);
            assert_eq!(
                command(a).is_err(),
                !fields.is_empty(),
                "{name}: unknown fields must be refused exactly when the document closes the object"
            );
        }
    }

    #[test]
    fn the_document_lists_every_action_and_no_other() {
        let err = serde_json::from_value::<Action>(json!({ "type": "no_such_action" }))
            .unwrap_err()
            .to_string();
        let listed = err.split("expected one of ").nth(1).unwrap();
        let mut actual: Vec<String> = listed
            .split(", ")
            .map(|s| {
                s.trim_matches(|c: char| c == '`' || c.is_whitespace())
                    .to_string()
            })
            .map(|s| s.split('`').next().unwrap_or("").to_string())
            .collect();
        let mut documented: Vec<String> = action_fields()
            .into_iter()
            .map(|(n, _)| n.to_string())
            .collect();
        actual.sort();
        documented.sort();
        assert_eq!(documented, actual);
    }

    #[test]
    fn page_bounds_are_the_servers() {
        let doc = document();
        let params = &doc["paths"]["/api/v1/events"]["get"]["parameters"];
        let limit = params
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "limit")
            .unwrap();
        assert_eq!(limit["schema"]["maximum"], json!(MAX_PAGE));
        assert_eq!(limit["schema"]["minimum"], json!(1));
        let after = params
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "after")
            .unwrap();
        assert_eq!(after["schema"]["maximum"], json!(u64::MAX));
    }
}
