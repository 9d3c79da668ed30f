//! Message templates with `{field}` placeholders, filled from an incident.

use super::duration::humanize;
use super::policy::{PolicyError, Templates};
use std::collections::BTreeMap;

/// Every placeholder a template may use.
pub const FIELDS: &[&str] = &[
    "id",
    "title",
    "severity",
    "severity_name",
    "status",
    "kind",
    "impact",
    "services",
    "customers",
    "declared_at",
    "now",
    "duration",
    "next_update",
    "ic",
    "tech_lead",
    "comms",
    "roles",
    "actions_taken",
    "escalation_reason",
    "requested_action",
    "bridge",
];

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder {{{name}}} (known: {known})")]
    Unknown { name: String, known: String },
    #[error("unclosed placeholder starting at byte {0}")]
    Unclosed(usize),
}

/// The placeholders used in `text`, in order.
pub fn placeholders(text: &str) -> Result<Vec<&str>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or(TemplateError::Unclosed(offset + open))?;
        out.push(&after[..close]);
        offset += open + close + 2;
        rest = &after[close + 1..];
    }
    Ok(out)
}

/// Checks one template uses only known placeholders.
pub fn validate(text: &str) -> Result<(), TemplateError> {
    for name in placeholders(text)? {
        if !FIELDS.contains(&name) {
            return Err(TemplateError::Unknown {
                name: name.to_string(),
                known: FIELDS.join(", "),
            });
        }
    }
    Ok(())
}

pub(crate) fn validate_all(t: &Templates) -> Result<(), PolicyError> {
    let all = [
        (
            "templates.status_page.investigating",
            &t.status_page.investigating,
        ),
        (
            "templates.status_page.identified",
            &t.status_page.identified,
        ),
        (
            "templates.status_page.monitoring",
            &t.status_page.monitoring,
        ),
        ("templates.status_page.resolved", &t.status_page.resolved),
        ("templates.internal", &t.internal),
        ("templates.escalation", &t.escalation),
        ("templates.customer", &t.customer),
    ];
    for (field, text) in all {
        validate(text).map_err(|e| PolicyError::Invalid {
            field: field.to_string(),
            message: e.to_string(),
        })?;
    }
    Ok(())
}

/// Fills `{field}`s from `values`; a field with no value becomes a visible
/// `[field?]` hint for the author to complete, never a raw placeholder.
pub fn render(text: &str, values: &BTreeMap<&str, String>) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match values.get(name) {
                    Some(v) if !v.is_empty() => out.push_str(v),
                    _ => {
                        out.push('[');
                        out.push_str(name);
                        out.push_str("?]");
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Formats a duration for templates.
pub fn duration_words(d: chrono::Duration) -> String {
    humanize(d)
}
