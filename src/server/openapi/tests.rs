//! The generated document against the types and the server's own bounds.

use super::*;
use crate::domain::command::{Action, Command};
use crate::protocol::MAX_PAGE;
use serde_json::{Value, json};

fn doc() -> &'static Value {
    document()
}

/// A `$ref`'d component, or the schema itself.
fn resolve(schema: &Value) -> &Value {
    match schema["$ref"].as_str() {
        Some(r) => &doc()["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        None => schema,
    }
}

/// A value the schema accepts (the first enum value, a UUID for a UUID…).
fn sample(schema: &Value) -> Value {
    let schema = resolve(schema);
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

/// A field of an action: its name, its schema, whether it is required.
type Field = (String, Value, bool);

/// Each action's wire name, its fields, and whether the object is closed, as
/// the document states them.
fn actions() -> Vec<(String, Vec<Field>, bool)> {
    let variants = doc()["components"]["schemas"]["Action"]["oneOf"]
        .as_array()
        .unwrap();
    variants
        .iter()
        .map(|v| {
            let name = v["properties"]["type"]["enum"][0]
                .as_str()
                .unwrap()
                .to_string();
            let required: Vec<&str> = v["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            let fields = v["properties"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| k.as_str() != "type")
                .map(|(k, s)| (k.clone(), s.clone(), required.contains(&k.as_str())))
                .collect();
            let closed = v["additionalProperties"] == json!(false);
            (name, fields, closed)
        })
        .collect()
}

fn command(action: Value) -> Result<Command, serde_json::Error> {
    serde_json::from_value(json!({
        "id": "6f1f3a56-3c4e-4a55-8d1e-2b8f5b1c0a77",
        "incident": "INC-1",
        "action": action
    }))
}

fn full(name: &str, fields: &[Field], only_required: bool) -> Value {
    let mut a = json!({ "type": name });
    for (f, schema, req) in fields {
        if *req || !only_required {
            a[f] = sample(schema);
        }
    }
    a
}

/// Every action's `required` is exactly what serde cannot do without, and
/// the document closes a variant exactly when serde refuses unknown keys.
#[test]
fn every_actions_required_fields_are_exactly_what_serde_needs() {
    for (name, fields, closed) in actions() {
        let every = command(full(&name, &fields, false))
            .unwrap_or_else(|e| panic!("{name} with every field: {e}"));
        assert_eq!(every.action.name(), name, "strum's name is the wire name");
        command(full(&name, &fields, true))
            .unwrap_or_else(|e| panic!("{name} with the required fields only: {e}"));
        for (field, _, required) in &fields {
            let mut a = full(&name, &fields, false);
            a.as_object_mut().unwrap().remove(field);
            assert_eq!(
                command(a).is_err(),
                *required,
                "{name}.{field}: the document says required={required}"
            );
        }
        let mut a = full(&name, &fields, false);
        a["not_a_field"] = json!(1);
        assert_eq!(
            command(a).is_err(),
            closed,
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
                .split('`')
                .next()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let mut documented: Vec<String> = actions().into_iter().map(|(n, _, _)| n).collect();
    actual.sort();
    documented.sort();
    assert_eq!(documented, actual);
}

/// The text bounds are `decide`'s own constants.
#[test]
fn text_bounds_are_the_domains() {
    use crate::domain::decide::{MAX_PERSON, MAX_TEXT, MAX_TITLE};
    let by_name: std::collections::HashMap<String, Vec<Field>> =
        actions().into_iter().map(|(n, f, _)| (n, f)).collect();
    let field = |action: &str, name: &str| {
        by_name[action]
            .iter()
            .find(|(f, _, _)| f == name)
            .map(|(_, s, _)| s.clone())
            .unwrap()
    };
    assert_eq!(field("declare", "title")["maxLength"], json!(MAX_TITLE));
    assert_eq!(field("note", "text")["maxLength"], json!(MAX_TEXT));
    assert_eq!(field("note", "text")["minLength"], json!(1));
    assert_eq!(field("page", "who")["maxLength"], json!(MAX_PERSON));
    assert_eq!(field("contain", "note").get("minLength"), None);
}

#[test]
fn page_bounds_are_the_servers() {
    let params = doc()["paths"]["/api/v1/events"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let param = |name: &str| params.iter().find(|p| p["name"] == name).unwrap();
    assert_eq!(param("limit")["schema"]["maximum"], json!(MAX_PAGE));
    assert_eq!(param("limit")["schema"]["minimum"], json!(1));
    assert_eq!(param("after")["schema"]["maximum"], json!(u64::MAX));
    assert_eq!(param("after")["schema"]["minimum"], json!(0));
}

/// The hand-written sender schemas go through utoipa's types unchanged
/// (nothing it does not model, such as `if`/`then`, silently dropped).
#[test]
fn sender_schemas_survive_utoipa_intact() {
    for v in [senders::alertmanager(), senders::events_v2()] {
        let through: RefOr<Schema> = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(through).unwrap(), v);
    }
    let served = &doc()["components"]["schemas"];
    assert_eq!(served["AlertmanagerWebhook"], senders::alertmanager());
    assert_eq!(served["EventsV2"], senders::events_v2());
}

/// The error codes the document lists are the ones a server answers with.
#[test]
fn error_codes_are_the_served_ones() {
    let listed: Vec<&str> = doc()["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let served: Vec<&str> = crate::protocol::ErrorCode::served()
        .map(crate::protocol::ErrorCode::as_str)
        .collect();
    assert_eq!(listed, served);
}

/// An object schema that says nothing of its contents.
fn bare(schema: &Value) -> bool {
    let says = [
        "properties",
        "additionalProperties",
        "oneOf",
        "allOf",
        "anyOf",
        "$ref",
        "enum",
    ];
    let typed = schema.get("type").is_some();
    let object = schema["type"] == "object" || !typed;
    object && !says.iter().any(|k| schema.get(*k).is_some())
}

/// Issue 12: every operation (the router's routes: utoipa-axum builds the
/// router and the document as one value) has its responses and request body
/// with schemas that say what is inside, every `$ref` resolves, and no
/// component is a bare `object`; free-form only where a sender's format is.
#[test]
fn every_route_is_in_the_document_with_real_schemas() {
    let doc = doc();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let at = format!("{method} {path}");
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{at}: no responses");
            let mut bodies: Vec<(String, &Value)> = responses
                .iter()
                .flat_map(|(status, r)| {
                    r["content"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(move |(ty, c)| (format!("{status} {ty}"), &c["schema"]))
                })
                .collect();
            if let Some(body) = op.get("requestBody") {
                let content = body["content"].as_object().unwrap();
                assert!(!content.is_empty(), "{at}: a request body without content");
                bodies.extend(
                    content
                        .iter()
                        .map(|(ty, c)| (format!("request {ty}"), &c["schema"])),
                );
            }
            for (what, schema) in bodies {
                assert!(schema.is_object(), "{at} {what}: no schema");
                assert!(!bare(resolve(schema)), "{at} {what}: a bare object");
            }
        }
    }
    assert_eq!(operations, 16, "the router's operations");
    let text = doc.to_string();
    for piece in text.split("#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "schema {name} undefined"
        );
    }
    fn walk(v: &Value, at: &str, found: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if (m.get("type") == Some(&json!("object"))) && bare(v) {
                    found.push(at.to_string());
                }
                for (k, x) in m {
                    walk(x, &format!("{at}/{k}"), found);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, &format!("{at}/{i}"), found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(&doc["components"]["schemas"], "", &mut found);
    // Free-form by design: PagerDuty's custom_details, and the path items
    // of this document's own shape (OpenAPI's, not ours to restate).
    assert_eq!(
        found,
        [
            "/EventsV2/properties/payload/properties/custom_details",
            "/OpenApiDocument/properties/paths/additionalProperties"
        ],
        "bare objects"
    );
}

/// Every operation behind the bearer token documents 401, 429 and 500;
/// the ones without a token say so.
#[test]
fn security_is_stated_per_operation() {
    let doc = doc();
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let open = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/openapi.json",
        "/api/v1/ingest/events/v2",
    ];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let public = op.get("security") == Some(&json!([{}]));
            assert_eq!(public, open.contains(&path.as_str()), "{method} {path}");
            if !public {
                for status in ["401", "500"] {
                    assert!(
                        op["responses"][status].is_object(),
                        "{method} {path} {status}"
                    );
                }
            }
            for r in op["responses"].as_object().unwrap().values() {
                assert!(
                    r["headers"][SERVER_TIME_HEADER].is_object(),
                    "{method} {path}"
                );
            }
        }
    }
}
