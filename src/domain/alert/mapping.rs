//! The `[ingest]` policy section: how a foreign alert becomes an incident.
//!
//! Which labels mean which severity differs per team (Alertmanager rules say
//! `severity="critical"`, PagerDuty senders say `critical/error/warning/info`,
//! some teams page on `team="payments"`), so the mapping is data, like the rest
//! of the process: ordered rules of label matchers, the first match wins.

use super::Alert;
use crate::domain::policy::PolicyError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What happens when every alert of an incident's group has cleared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnClear {
    /// "All alerts clear" shows on the board and in the war room; the IC decides.
    #[default]
    Note,
    /// The incident moves to `monitoring`, starting the stability window.
    Monitoring,
    /// The incident is resolved (for teams that trust their alerts' recovery).
    Resolve,
}

/// What happens when an alert joining a live incident maps to a more severe
/// level than the incident has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnMoreSevere {
    /// The incident's severity is raised (written by the integration, with the reason).
    #[default]
    Raise,
    /// The war room shows the level as a suggestion; the IC changes the severity.
    Suggest,
}

/// The `[ingest]` section of a policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestPolicy {
    /// Severity of an alert no rule gives one to; the least severe when absent.
    #[serde(default)]
    pub severity: Option<String>,
    /// Kind of an alert no rule gives one to; the policy's first kind when absent.
    #[serde(default)]
    pub kind: Option<String>,
    /// Title of the incident, from the first alert: `{name}` is a label, or an
    /// annotation when no label has that name.
    #[serde(default = "default_title")]
    pub title: String,
    /// Severities declared as incidents at once; every other one lands in the
    /// triage queue for a human to declare or dismiss.
    #[serde(default)]
    pub declare: Vec<String>,
    /// What "all alerts clear" does.
    #[serde(default)]
    pub on_clear: OnClear,
    /// What a more severe alert joining a live incident does.
    #[serde(default)]
    pub on_more_severe: OnMoreSevere,
    /// Tried in order; the first rule whose matchers all hold applies.
    #[serde(default)]
    pub rules: Vec<AlertRule>,
}

fn default_title() -> String {
    "{alertname}: {summary}".into()
}

impl Default for IngestPolicy {
    fn default() -> Self {
        IngestPolicy {
            severity: None,
            kind: None,
            title: default_title(),
            declare: Vec::new(),
            on_clear: OnClear::Note,
            on_more_severe: OnMoreSevere::Raise,
            rules: Vec::new(),
        }
    }
}

/// One mapping rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// Label name → accepted values separated by `|` (`"critical|page"`), or
    /// `"*"` for any non-empty value. Every matcher must hold.
    #[serde(rename = "match", default)]
    pub matchers: BTreeMap<String, String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    /// Affected services; `{label}` placeholders are filled from the alert.
    #[serde(default)]
    pub services: Vec<String>,
    /// Overrides the section's title template.
    #[serde(default)]
    pub title: Option<String>,
}

impl AlertRule {
    pub fn matches(&self, alert: &Alert) -> bool {
        self.matchers.iter().all(|(label, accepted)| {
            let value = alert.labels.get(label).map(String::as_str).unwrap_or("");
            if accepted == "*" {
                return !value.is_empty();
            }
            accepted.split('|').any(|a| a == value)
        })
    }
}

/// What the mapping made of one alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped {
    pub severity: String,
    pub kind: String,
    pub services: Vec<String>,
    pub title: String,
}

impl IngestPolicy {
    /// Maps `alert` by the first matching rule, falling back to the section's defaults.
    /// `severities` are the policy's, worst first; `kinds` its incident kinds.
    pub fn map(&self, alert: &Alert, severities: &[String], kinds: &[String]) -> Mapped {
        let rule = self.rules.iter().find(|r| r.matches(alert));
        let severity = rule
            .and_then(|r| r.severity.clone())
            .or_else(|| self.severity.clone())
            .or_else(|| severities.last().cloned())
            .unwrap_or_default();
        let kind = rule
            .and_then(|r| r.kind.clone())
            .or_else(|| self.kind.clone())
            .or_else(|| kinds.first().cloned())
            .unwrap_or_else(|| "availability".into());
        let services = rule
            .map(|r| {
                r.services
                    .iter()
                    .map(|s| fill(s, alert))
                    .filter(|s| !s.trim().is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let template = rule.and_then(|r| r.title.as_deref()).unwrap_or(&self.title);
        Mapped {
            severity,
            kind,
            services,
            title: fill(template, alert),
        }
    }

    /// Whether alerts of this severity become incidents at once (else triage items).
    pub fn declares(&self, severity: &str) -> bool {
        self.declare
            .iter()
            .any(|s| s.eq_ignore_ascii_case(severity))
    }

    /// Checks every severity and kind the section names exists, and every template closes.
    pub fn validate(&self, severities: &[String], kinds: &[String]) -> Result<(), PolicyError> {
        let invalid = |field: String, message: String| Err(PolicyError::Invalid { field, message });
        let known_sev = |s: &str| severities.iter().any(|k| k.eq_ignore_ascii_case(s));
        let known_kind = |k: &str| kinds.iter().any(|x| x == k);
        let mut severity_fields: Vec<(String, &str)> = Vec::new();
        if let Some(s) = &self.severity {
            severity_fields.push(("ingest.severity".into(), s));
        }
        for (i, s) in self.declare.iter().enumerate() {
            severity_fields.push((format!("ingest.declare[{i}]"), s));
        }
        for (i, r) in self.rules.iter().enumerate() {
            if let Some(s) = &r.severity {
                severity_fields.push((format!("ingest.rules[{i}].severity"), s));
            }
        }
        for (field, s) in severity_fields {
            if !known_sev(s) {
                return invalid(
                    field,
                    format!(
                        "unknown severity {s:?}; the policy defines {}",
                        severities.join(", ")
                    ),
                );
            }
        }
        let mut kind_fields: Vec<(String, &str)> = Vec::new();
        if let Some(k) = &self.kind {
            kind_fields.push(("ingest.kind".into(), k));
        }
        for (i, r) in self.rules.iter().enumerate() {
            if let Some(k) = &r.kind {
                kind_fields.push((format!("ingest.rules[{i}].kind"), k));
            }
        }
        for (field, k) in kind_fields {
            if !known_kind(k) {
                return invalid(
                    field,
                    format!(
                        "unknown kind {k:?}; the policy defines {}",
                        kinds.join(", ")
                    ),
                );
            }
        }
        let mut templates = vec![("ingest.title".to_string(), self.title.as_str())];
        for (i, r) in self.rules.iter().enumerate() {
            if let Some(t) = &r.title {
                templates.push((format!("ingest.rules[{i}].title"), t));
            }
            for (j, s) in r.services.iter().enumerate() {
                templates.push((format!("ingest.rules[{i}].services[{j}]"), s));
            }
            if r.matchers.is_empty() {
                return invalid(
                    format!("ingest.rules[{i}].match"),
                    "a rule needs at least one label matcher".into(),
                );
            }
        }
        for (field, t) in templates {
            if let Err(e) = crate::domain::template::placeholders(t) {
                return invalid(field, e.to_string());
            }
        }
        Ok(())
    }
}

/// Fills `{name}` from the alert's labels, then annotations; unknown names
/// become empty, and the separators they leave dangling are trimmed.
pub fn fill(template: &str, alert: &Alert) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let name = &after[..close];
        if let Some(v) = alert
            .labels
            .get(name)
            .or_else(|| alert.annotations.get(name))
        {
            out.push_str(v);
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out.trim_matches(|c: char| c.is_whitespace() || c == ':' || c == '-')
        .to_string()
}
