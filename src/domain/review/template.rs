//! The review template as policy data (`[review]`): each runbook writes its
//! post-incident document differently (002 §8.2's PIR, 003's postmortem
//! table, 000's post-mortem, 004's incident report), so the sections and
//! their fields are data, not code.
//!
//! A field is filled from the record (`from = "timeline"`), by a human
//! (`input = "text" | "number" | "choice" | "table"`), or both: then what a
//! human wrote wins and the record is the draft shown until then. Human
//! values are `review_field_set` events (see [`super::fields`]).

use crate::domain::duration::Span;
use crate::domain::policy::PolicyError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The `[review]` section of a policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewTemplate {
    /// The document's heading, before the incident title: `Post-Incident Review`.
    #[serde(default = "default_title")]
    pub title: String,
    /// The review meeting's agenda (002 §8.3), shown by the `agenda` source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agenda: Vec<String>,
    /// The priorities an action item may carry (002 §8.2 "P1/P2/P3"); empty:
    /// action items carry no priority.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub action_priorities: Vec<String>,
    /// How often open action items of each priority are reviewed (002 §8.4
    /// "P1 actions reviewed weekly by Engineering Manager"): an open item not
    /// changed for that long is listed as due for review.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub action_review: Vec<ActionReview>,
    pub sections: Vec<Section>,
}

fn default_title() -> String {
    "Post-Incident Review".into()
}

/// One review cadence for open action items.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionReview {
    /// The action items' priority (one of `action_priorities`), or `*` for
    /// every item (003 "Track all preventive tasks … in weekly security review").
    pub priority: String,
    pub every: Span,
    /// Who reviews them, in the runbook's words.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub by: String,
}

/// One section of the document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// The `##` heading; empty for the header block under the title.
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub layout: Layout,
    /// Column headings for the `table` layout (003: `Field`, `Details`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    pub fields: Vec<Field>,
}

/// How a section lays its fields out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Each field under its own `###` heading (or directly, for a section of one field).
    #[default]
    Blocks,
    /// `**Label:** value` lines (002's header block).
    Header,
    /// `- **Label:** value` bullets (002's Impact).
    Bullets,
    /// A two-column table, one row per field (003's postmortem table).
    Table,
}

/// One field of a section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Stable id, unique in the template: what `review_field_set` names.
    pub id: String,
    pub label: String,
    /// Filled from the record: one of [`SOURCES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Filled by a human: `text`, `number`, `choice` or `table`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Input>,
    /// The options of a `choice`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// The column headings of a `table`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// What to write, shown after `[to be completed]` while empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prompt: String,
}

/// What a human types into a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    Text,
    Number,
    Choice,
    /// Rows, one a line, cells separated by `|`.
    Table,
}

impl Input {
    pub fn as_str(self) -> &'static str {
        match self {
            Input::Text => "text",
            Input::Number => "number",
            Input::Choice => "choice",
            Input::Table => "table",
        }
    }
}

/// What the record can fill a field with (see `super::sources`).
pub const SOURCES: &[&str] = &[
    "incident_id",
    "title",
    "date",
    "duration",
    "start_end",
    "impact_start",
    "detection",
    "detection_method",
    "severity",
    "kind",
    "status",
    "author",
    "review_date",
    "pir",
    "summary",
    "impact_summary",
    "services",
    "customers",
    "customer_impact",
    "data_exposure",
    "downtime",
    "timeline",
    "decisions",
    "escalations",
    "clock_results",
    "observations",
    "actions_taken",
    "containment",
    "action_items",
    "owners_due",
    "went_well",
    "could_improve",
    "agenda",
    "expected_attendees",
    "appendix",
];

impl Field {
    /// A field a human writes (possibly over a draft from the record).
    pub fn is_human(&self) -> bool {
        self.input.is_some()
    }
}

impl ReviewTemplate {
    /// Every field, in document order.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.sections.iter().flat_map(|s| s.fields.iter())
    }

    /// The field a human may set, by id (case-insensitive).
    pub fn human_field(&self, id: &str) -> Option<&Field> {
        self.fields()
            .find(|f| f.is_human() && f.id.eq_ignore_ascii_case(id.trim()))
    }

    /// The review cadence of an action item of `priority`: its own, else the `*` one.
    pub fn cadence(&self, priority: Option<&str>) -> Option<&ActionReview> {
        priority
            .and_then(|p| {
                self.action_review
                    .iter()
                    .find(|r| r.priority.eq_ignore_ascii_case(p))
            })
            .or_else(|| self.action_review.iter().find(|r| r.priority == "*"))
    }

    /// Unknown sources or inputs, duplicate ids, choices without options,
    /// tables without columns: each error names `review.sections[i].fields[j].…`,
    /// which `policy check` pins to a line.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let invalid = |field: String, message: String| Err(PolicyError::Invalid { field, message });
        if self.sections.is_empty() {
            return invalid(
                "review.sections".into(),
                "at least one section is required".into(),
            );
        }
        let mut ids = BTreeSet::new();
        for (i, s) in self.sections.iter().enumerate() {
            if s.layout == Layout::Table && s.columns.len() != 2 {
                return invalid(
                    format!("review.sections[{i}].columns"),
                    "a table section needs two column headings (e.g. [\"Field\", \"Details\"])"
                        .into(),
                );
            }
            for (j, f) in s.fields.iter().enumerate() {
                let at = |k: &str| format!("review.sections[{i}].fields[{j}].{k}");
                if f.id.trim().is_empty() || f.id.contains(char::is_whitespace) {
                    return invalid(at("id"), "must be a non-empty word without spaces".into());
                }
                if !ids.insert(f.id.to_ascii_lowercase()) {
                    return invalid(at("id"), format!("duplicate field id {:?}", f.id));
                }
                if let Some(src) = &f.from
                    && !SOURCES.contains(&src.as_str())
                {
                    return invalid(
                        at("from"),
                        format!("unknown source {src:?} (sources: {})", SOURCES.join(", ")),
                    );
                }
                if f.from.is_none() && f.input.is_none() {
                    return invalid(
                        at("id"),
                        format!(
                            "field {:?} has neither `from` (filled from the record) nor `input` (filled by a human)",
                            f.id
                        ),
                    );
                }
                if f.input == Some(Input::Choice) && f.choices.is_empty() {
                    return invalid(at("choices"), "a choice needs at least one option".into());
                }
                if f.input == Some(Input::Table) && f.columns.is_empty() {
                    return invalid(at("columns"), "a table needs its column headings".into());
                }
            }
        }
        for (i, r) in self.action_review.iter().enumerate() {
            if r.priority != "*"
                && !self.action_priorities.is_empty()
                && !self
                    .action_priorities
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(&r.priority))
            {
                return invalid(
                    format!("review.action_review[{i}].priority"),
                    format!(
                        "unknown priority {:?} (action_priorities: {})",
                        r.priority,
                        self.action_priorities.join(", ")
                    ),
                );
            }
        }
        Ok(())
    }
}

/// The template of a policy without a `[review]` section: runbook 002 §8.2's
/// PIR, with what the war room recorded filled in.
pub const FALLBACK: &str = include_str!("fallback.toml");

impl Default for ReviewTemplate {
    fn default() -> Self {
        // Checked by a test; a broken fallback still yields a usable document.
        toml::from_str(FALLBACK).unwrap_or_else(|_| ReviewTemplate {
            title: default_title(),
            agenda: vec![],
            action_priorities: vec![],
            action_review: vec![],
            sections: vec![Section {
                title: "Timeline".into(),
                layout: Layout::Blocks,
                columns: vec![],
                fields: vec![Field {
                    id: "timeline".into(),
                    label: "Timeline".into(),
                    from: Some("timeline".into()),
                    input: None,
                    choices: vec![],
                    columns: vec![],
                    prompt: String::new(),
                }],
            }],
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ReviewTemplate, PolicyError> {
        let t: ReviewTemplate =
            toml::from_str(text).map_err(|e| PolicyError::Parse(e.to_string()))?;
        t.validate()?;
        Ok(t)
    }

    #[test]
    fn the_fallback_parses_and_is_valid() {
        let t: ReviewTemplate = toml::from_str(FALLBACK).unwrap();
        t.validate().unwrap();
        assert_eq!(t, ReviewTemplate::default());
        assert!(t.human_field("lessons").is_some());
    }

    #[test]
    fn unknown_sources_and_duplicate_ids_name_the_field() {
        let e = parse(
            "[[sections]]\ntitle = \"A\"\nfields = [{ id = \"x\", label = \"X\", from = \"nope\" }]\n",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("review.sections[0].fields[0].from: unknown source \"nope\""),
            "{e}"
        );
        let e = parse(
            "[[sections]]\nfields = [{ id = \"x\", label = \"X\", input = \"text\" }]\n\
             [[sections]]\nfields = [{ id = \"X\", label = \"Y\", from = \"title\" }]\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "review.sections[1].fields[0].id: duplicate field id \"X\""
        );
        let e =
            parse("[[sections]]\nfields = [{ id = \"c\", label = \"C\", input = \"choice\" }]\n")
                .unwrap_err();
        assert!(e.to_string().contains("fields[0].choices"), "{e}");
        let e = parse("[[sections]]\nfields = [{ id = \"c\", label = \"C\" }]\n").unwrap_err();
        assert!(e.to_string().contains("neither `from`"), "{e}");
    }
}
