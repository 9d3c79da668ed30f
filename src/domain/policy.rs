//! The incident process as data: severities, SLAs, cadences, roles, escalation
//! rules, checklists, the severity flowchart and message templates.
//!
//! Runbooks disagree on the details (P1–P4 vs Critical–Low, different SLAs and
//! roles), so nothing here is a hard-coded rule: [`Policy`] is parsed from TOML
//! (`assets/policies/`) and validated by [`Policy::validate`].

use super::duration::Span;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A whole policy file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Short name shown in the status bar, e.g. `tensafe-002`.
    pub name: String,
    /// The runbook this policy encodes.
    #[serde(default)]
    pub source: String,
    /// Incident kinds the escalation rules can filter on (e.g. `availability`, `security`).
    #[serde(default = "default_kinds")]
    pub kinds: Vec<String>,
    /// Ordered worst first: index 0 is the most severe.
    pub severities: Vec<Severity>,
    pub roles: Vec<Role>,
    #[serde(default)]
    pub escalations: Vec<EscalationRule>,
    /// Where a manual escalation goes, in order (runbook 003 "Escalation Path").
    #[serde(default)]
    pub escalation_path: Vec<String>,
    /// When to escalate by hand, in the runbook's words (002 §5.2, 001
    /// Medium/Low, 004 "When to Escalate"): shown in the escalate dialog.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalation_criteria: Vec<String>,
    #[serde(default)]
    pub checklists: Vec<Checklist>,
    #[serde(default)]
    pub resolution: Resolution,
    #[serde(default)]
    pub closure: Closure,
    #[serde(default)]
    pub flowchart: Option<Flowchart>,
    pub templates: Templates,
    /// How alerts from monitoring become incidents or triage items.
    #[serde(default)]
    pub ingest: super::alert::IngestPolicy,
    /// The public status page: name, URL, components, public severities.
    #[serde(default)]
    pub status_page: super::status_page::StatusPageConfig,
    /// Notification channels, routes and the directory (`[notify]`).
    #[serde(default)]
    pub notify: super::notify::NotifyPolicy,
    /// The post-incident document, the runbook's own template (`[review]`);
    /// without one, 002 §8.2's PIR.
    #[serde(default)]
    pub review: super::review::template::ReviewTemplate,
    /// Reports that are not alerts (001 "reported via support … or
    /// responsible disclosure"): each kind a triage item with its own
    /// acknowledge clock (`[[intake]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intake: Vec<IntakeKind>,
}

/// One kind of report that arrives by hand, not from monitoring.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntakeKind {
    /// Stable id used in commands: `disclosure`, `customer`.
    pub id: String,
    /// `Responsible disclosure`.
    pub name: String,
    /// The incident kind it becomes when declared (one of `kinds`).
    pub kind: String,
    /// The severity it is triaged at unless the reporter's is given.
    pub severity: String,
    /// How long acknowledging a report of this kind may take. Without it the
    /// severity's `acknowledge` target applies; without that, no clock (the
    /// runbook states none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge: Option<Span>,
    /// How such an incident was detected, recorded when it is declared
    /// (002 §4.1's sources; 001's responsible disclosure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection: Option<super::event::DetectionMethod>,
}

impl Policy {
    pub fn intake_kind(&self, id: &str) -> Option<&IntakeKind> {
        self.intake.iter().find(|k| k.id.eq_ignore_ascii_case(id))
    }

    /// How long a report of `intake` triaged at `severity` may wait for a
    /// human: the intake kind's own target, else the severity's acknowledge.
    pub fn intake_acknowledge(&self, intake: &str, severity: &str) -> Option<Span> {
        self.intake_kind(intake)
            .and_then(|k| k.acknowledge)
            .or_else(|| self.severity(severity).and_then(|s| s.acknowledge))
    }
}

fn default_kinds() -> Vec<String> {
    vec!["availability".into(), "security".into()]
}

/// One severity level and its targets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Severity {
    /// Stable id used in commands: `P1`, `critical`.
    pub id: String,
    /// Short label always shown beside the colour: `P1`, `CRIT`.
    pub label: String,
    /// Human name: `Critical`.
    pub name: String,
    #[serde(default)]
    pub criteria: Vec<String>,
    #[serde(default)]
    pub acknowledge: Option<Span>,
    #[serde(default)]
    pub contain: Option<Span>,
    #[serde(default)]
    pub resolve: Option<Span>,
    #[serde(default)]
    pub updates: Updates,
    #[serde(default)]
    pub review: Review,
    /// Clocks of this severity the runbook did not ask for (named as in
    /// [`CLOCK_NAMES`]): warroom added them, and the TUI says so ("warroom
    /// default"). Only the `default` policy should need any; a preset follows
    /// its runbook and leaves out what the runbook does not state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warroom_defaults: Vec<String>,
    /// Where another section of the runbook disagrees with the number this
    /// severity follows: clock name → what that section says. Shown beside the
    /// clock, so the other reading is one glance away.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notes: BTreeMap<String, String>,
}

/// The names a severity's clocks go by in `warroom_defaults` and `notes`.
pub const CLOCK_NAMES: &[&str] = &[
    "acknowledge",
    "contain",
    "resolve",
    "status_page",
    "internal",
    "customer",
    "review",
];

impl Severity {
    /// Whether the policy sets the clock named `name` (one of [`CLOCK_NAMES`]).
    pub fn has_clock(&self, name: &str) -> bool {
        let set = |c: &Cadence| c.first.is_some() || c.every.is_some();
        match name {
            "acknowledge" => self.acknowledge.is_some(),
            "contain" => self.contain.is_some(),
            "resolve" => self.resolve.is_some(),
            "status_page" => set(&self.updates.status_page),
            "internal" => set(&self.updates.internal),
            "customer" => set(&self.updates.customer),
            "review" => self.review.required && self.review.due.is_some(),
            _ => false,
        }
    }

    /// Whether warroom, not the runbook, set the clock named `name`.
    pub fn is_warroom_default(&self, name: &str) -> bool {
        self.warroom_defaults.iter().any(|d| d == name)
    }
}

/// Update cadence for each channel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Updates {
    #[serde(default)]
    pub status_page: Cadence,
    #[serde(default)]
    pub internal: Cadence,
    #[serde(default)]
    pub customer: Cadence,
}

impl Updates {
    pub fn for_channel(&self, channel: super::event::Channel) -> &Cadence {
        use super::event::Channel;
        match channel {
            Channel::StatusPage => &self.status_page,
            Channel::Internal => &self.internal,
            Channel::Customer => &self.customer,
        }
    }
}

/// When the first update on a channel is due, and how often after that.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cadence {
    /// First update due this long after the incident is declared.
    #[serde(default)]
    pub first: Option<Span>,
    /// Then every this long after the last post on the channel.
    #[serde(default)]
    pub every: Option<Span>,
}

/// Post-incident review requirement.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    #[serde(default)]
    pub required: bool,
    /// Due this long after resolution.
    #[serde(default)]
    pub due: Option<Span>,
    /// Who attends the review, in the runbook's words (002 §8.1 "All involved + management").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendees: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// Stable id used in commands: `ic`, `tech_lead`, `comms`, `scribe`.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub responsibilities: Vec<String>,
    /// Who covers when the holder is unavailable.
    #[serde(default)]
    pub backup: Option<String>,
    /// Roles the holder of this one must not also hold (runbook 002 §3.4
    /// "Scribe: not the IC or Technical Lead"): a warning, not a refusal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_with: Vec<String>,
}

impl Policy {
    /// Warnings for people holding roles the policy keeps apart, e.g.
    /// `Scribe alice is also Incident Commander (the policy keeps them apart)`.
    pub fn role_conflicts(&self, roles: &BTreeMap<String, String>) -> Vec<String> {
        let mut out = Vec::new();
        for role in &self.roles {
            let Some(holder) = roles.get(&role.id) else {
                continue;
            };
            for other in &role.not_with {
                if roles.get(other) == Some(holder) {
                    let name = self.role(other).map_or(other.as_str(), |r| r.name.as_str());
                    out.push(format!(
                        "{} {holder} is also {name} (the policy keeps them apart)",
                        role.name
                    ));
                }
            }
        }
        out
    }
}

/// What an automatic escalation waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Not acknowledged `after` the severity took effect.
    Unacknowledged,
    /// Still open (not resolved) `after` declaration.
    Open,
    /// Not contained `after` declaration.
    Uncontained,
    /// An update channel is overdue by `after`.
    UpdateOverdue,
    /// Someone paged or escalated to did not answer (act in the incident)
    /// within their response time (the directory's `respond_within`) plus
    /// `after`: the step to their backup (001 "If the incident lead is
    /// unavailable, escalate to the next defined backup").
    Unanswered,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationRule {
    /// Stable id; the scheduler fires each rule at most once per incident.
    pub id: String,
    pub when: Trigger,
    pub after: Span,
    /// Severity ids this applies to; empty means all.
    #[serde(default)]
    pub severities: Vec<String>,
    /// Incident kinds this applies to; empty means all.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Who is escalated to, e.g. `Backup on-call`.
    pub to: String,
}

/// The phase of an incident's life a checklist belongs to.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Triage,
    Response,
    Resolution,
    Closure,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    pub id: String,
    pub title: String,
    pub phase: Phase,
    pub items: Vec<ChecklistItem>,
    /// The time box: every item is due this long after the declaration (002
    /// Appendix A "FIRST 5 MINUTES", 003 "0-15 Minutes"). The checklist is then
    /// a clock like any other, and its unfinished items stay in view after its
    /// phase until they are done or waived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Span>,
    /// A time box per severity id, over `due` (003 "1-4 Hours (Critical) /
    /// 1-24 Hours (High)").
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub due_by_severity: BTreeMap<String, Span>,
}

impl Checklist {
    /// The time box for an incident of `severity`, if the checklist has one.
    pub fn due_for(&self, severity: &str) -> Option<Span> {
        self.due_by_severity
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(severity))
            .map(|(_, d)| *d)
            .or(self.due)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    pub id: String,
    pub text: String,
    /// The fact in the log that ticks this item by itself, with the event as
    /// its evidence (see [`super::checklist::Proof`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proven_by: Option<super::checklist::Proof>,
}

/// What must hold before an incident may be resolved.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// The incident must have been in `monitoring` this long (runbook 002 §7.4: 15+ minutes).
    #[serde(default)]
    pub stability_window: Option<Span>,
    /// The checklist shown when resolving (resolution criteria).
    #[serde(default)]
    pub checklist: Option<String>,
    /// Unmet items of `checklist` refuse resolving unless the resolver
    /// overrides, with a reason that is recorded (runbook 002 §7.4 "Incident
    /// can be resolved when …").
    #[serde(default)]
    pub gate: bool,
    /// The role that declares an incident resolved (002 §7.4 "IC declares
    /// resolved"); anyone else resolves only with a recorded override.
    #[serde(default)]
    pub by_role: Option<String>,
}

/// The definition of done for closing an incident.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    /// Checklists whose every item must be ticked before close.
    #[serde(default)]
    pub require_checklists: Vec<String>,
    /// Whether a required post-incident review must be completed before close.
    #[serde(default)]
    pub require_review: bool,
    /// Whether the incident must have been marked contained.
    #[serde(default)]
    pub require_contained: bool,
}

/// The severity-classification flowchart (runbook 002 §2.2) as questions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Flowchart {
    pub start: String,
    pub questions: Vec<Question>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub text: String,
    pub answers: Vec<Answer>,
}

/// An answer leads either to another question or to a severity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub label: String,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
}

/// Message templates with `{placeholder}` fields (see [`super::template::FIELDS`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Templates {
    pub status_page: StatusPageTemplates,
    pub internal: String,
    pub escalation: String,
    pub customer: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusPageTemplates {
    pub investigating: String,
    pub identified: String,
    pub monitoring: String,
    pub resolved: String,
}

/// A policy problem, naming the field path (and, for TOML syntax, the line).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("{0}")]
    Parse(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

impl Policy {
    /// The built-in default policy (runbook 002).
    pub fn builtin_default() -> Policy {
        // The embedded default is checked by a test; if it ever failed to parse
        // the error is still surfaced rather than panicking at startup.
        Self::from_toml(presets::DEFAULT).unwrap_or_else(|e| Policy::minimal(&e.to_string()))
    }

    /// Parses and validates a policy. Errors name the line (TOML syntax / types) or the field.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(text)
            .map_err(|e| PolicyError::Parse(e.to_string().trim().to_string()))?;
        policy.validate()?;
        Ok(policy)
    }

    pub fn severity(&self, id: &str) -> Option<&Severity> {
        self.severities
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(id))
    }

    /// 0 is the worst severity; unknown ids sort last.
    pub fn severity_rank(&self, id: &str) -> usize {
        self.severities
            .iter()
            .position(|s| s.id.eq_ignore_ascii_case(id))
            .unwrap_or(usize::MAX)
    }

    pub fn role(&self, id: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.id.eq_ignore_ascii_case(id))
    }

    pub fn checklist(&self, id: &str) -> Option<&Checklist> {
        self.checklists.iter().find(|c| c.id == id)
    }

    /// Checks cross-references that the type system cannot: unique ids, known
    /// severities / roles / checklists in rules, a well-formed flowchart, and
    /// templates that use only known placeholders.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let invalid = |field: String, message: String| Err(PolicyError::Invalid { field, message });
        if self.severities.is_empty() {
            return invalid(
                "severities".into(),
                "at least one severity is required".into(),
            );
        }
        if self.roles.is_empty() {
            return invalid("roles".into(), "at least one role is required".into());
        }
        let mut seen = BTreeSet::new();
        for (i, s) in self.severities.iter().enumerate() {
            if s.id.trim().is_empty() {
                return invalid(format!("severities[{i}].id"), "must not be empty".into());
            }
            if !seen.insert(s.id.to_ascii_lowercase()) {
                return invalid(
                    format!("severities[{i}].id"),
                    format!("duplicate severity id {:?}", s.id),
                );
            }
            for (j, name) in s.warroom_defaults.iter().enumerate() {
                let field = format!("severities[{i}].warroom_defaults[{j}]");
                if !CLOCK_NAMES.contains(&name.as_str()) {
                    return invalid(
                        field,
                        format!(
                            "unknown clock {name:?} (clocks: {})",
                            CLOCK_NAMES.join(", ")
                        ),
                    );
                }
                if !s.has_clock(name) {
                    return invalid(
                        field,
                        format!("severity {} sets no {name} clock to mark", s.id),
                    );
                }
            }
            for name in s.notes.keys() {
                if !CLOCK_NAMES.contains(&name.as_str()) {
                    return invalid(
                        format!("severities[{i}].notes.{name}"),
                        format!(
                            "unknown clock {name:?} (clocks: {})",
                            CLOCK_NAMES.join(", ")
                        ),
                    );
                }
            }
        }
        let mut seen = BTreeSet::new();
        for (i, r) in self.roles.iter().enumerate() {
            if r.id.trim().is_empty() || r.id.contains(char::is_whitespace) {
                return invalid(
                    format!("roles[{i}].id"),
                    "must be a non-empty word without spaces".into(),
                );
            }
            if !seen.insert(r.id.to_ascii_lowercase()) {
                return invalid(
                    format!("roles[{i}].id"),
                    format!("duplicate role id {:?}", r.id),
                );
            }
        }
        for (i, r) in self.roles.iter().enumerate() {
            for other in &r.not_with {
                if self.role(other).is_none() {
                    return invalid(
                        format!("roles[{i}].not_with"),
                        format!("unknown role {other:?}"),
                    );
                }
            }
        }
        if self.role("ic").is_none() {
            return invalid(
                "roles".into(),
                "a role with id \"ic\" (incident commander) is required".into(),
            );
        }
        let mut seen = BTreeSet::new();
        for (i, rule) in self.escalations.iter().enumerate() {
            if !seen.insert(rule.id.clone()) {
                return invalid(
                    format!("escalations[{i}].id"),
                    format!("duplicate rule id {:?}", rule.id),
                );
            }
            for sev in &rule.severities {
                if self.severity(sev).is_none() {
                    return invalid(
                        format!("escalations[{i}].severities"),
                        format!("unknown severity {sev:?}"),
                    );
                }
            }
            for kind in &rule.kinds {
                if !self.kinds.contains(kind) {
                    return invalid(
                        format!("escalations[{i}].kinds"),
                        format!("unknown kind {kind:?} (kinds are {:?})", self.kinds),
                    );
                }
            }
        }
        let mut seen = BTreeSet::new();
        for (i, c) in self.checklists.iter().enumerate() {
            if !seen.insert(c.id.clone()) {
                return invalid(
                    format!("checklists[{i}].id"),
                    format!("duplicate checklist id {:?}", c.id),
                );
            }
            for sev in c.due_by_severity.keys() {
                if self.severity(sev).is_none() {
                    return invalid(
                        format!("checklists[{i}].due_by_severity.{sev}"),
                        format!("unknown severity {sev:?}"),
                    );
                }
            }
            let mut items = BTreeSet::new();
            for (j, item) in c.items.iter().enumerate() {
                if !items.insert(item.id.clone()) {
                    return invalid(
                        format!("checklists[{i}].items[{j}].id"),
                        format!("duplicate item id {:?}", item.id),
                    );
                }
            }
        }
        let mut intake = BTreeSet::new();
        for (i, k) in self.intake.iter().enumerate() {
            if k.id.trim().is_empty() || !intake.insert(k.id.to_ascii_lowercase()) {
                return invalid(
                    format!("intake[{i}].id"),
                    format!("empty or duplicate intake id {:?}", k.id),
                );
            }
            if !self.kinds.contains(&k.kind) {
                return invalid(
                    format!("intake[{i}].kind"),
                    format!("unknown kind {:?} (kinds are {:?})", k.kind, self.kinds),
                );
            }
            if self.severity(&k.severity).is_none() {
                return invalid(
                    format!("intake[{i}].severity"),
                    format!("unknown severity {:?}", k.severity),
                );
            }
        }
        if let Some(id) = &self.resolution.checklist
            && self.checklist(id).is_none()
        {
            return invalid(
                "resolution.checklist".into(),
                format!("unknown checklist {id:?}"),
            );
        }
        if self.resolution.gate && self.resolution.checklist.is_none() {
            return invalid(
                "resolution.gate".into(),
                "gating resolution needs resolution.checklist (the criteria)".into(),
            );
        }
        if let Some(role) = &self.resolution.by_role
            && self.role(role).is_none()
        {
            return invalid(
                "resolution.by_role".into(),
                format!("unknown role {role:?}"),
            );
        }
        for (i, id) in self.closure.require_checklists.iter().enumerate() {
            if self.checklist(id).is_none() {
                return invalid(
                    format!("closure.require_checklists[{i}]"),
                    format!("unknown checklist {id:?}"),
                );
            }
        }
        if let Some(flow) = &self.flowchart {
            super::flowchart::validate(flow, self)?;
        }
        super::template::validate_all(&self.templates)?;
        let severity_ids: Vec<String> = self.severities.iter().map(|s| s.id.clone()).collect();
        self.ingest.validate(&severity_ids, &self.kinds)?;
        super::status_page::validate(self)?;
        let severities: Vec<&str> = self.severities.iter().map(|s| s.id.as_str()).collect();
        self.notify.validate(&severities, &self.kinds)?;
        self.review.validate()?;
        Ok(())
    }

    /// A last-resort policy used only if the embedded default cannot load.
    fn minimal(reason: &str) -> Policy {
        Policy {
            name: "minimal".into(),
            source: format!("embedded default failed to load: {reason}"),
            kinds: default_kinds(),
            severities: vec![Severity {
                id: "P1".into(),
                label: "P1".into(),
                name: "Critical".into(),
                criteria: vec![],
                acknowledge: None,
                contain: None,
                resolve: None,
                updates: Updates::default(),
                review: Review::default(),
                warroom_defaults: vec![],
                notes: BTreeMap::new(),
            }],
            roles: vec![Role {
                id: "ic".into(),
                name: "Incident Commander".into(),
                responsibilities: vec![],
                backup: None,
                not_with: vec![],
            }],
            escalations: vec![],
            escalation_path: vec![],
            escalation_criteria: vec![],
            checklists: vec![],
            resolution: Resolution::default(),
            closure: Closure::default(),
            flowchart: None,
            templates: Templates {
                status_page: StatusPageTemplates {
                    investigating: "{title}: investigating".into(),
                    identified: "{title}: identified".into(),
                    monitoring: "{title}: monitoring".into(),
                    resolved: "{title}: resolved".into(),
                },
                internal: "{id} | {severity} | {status}".into(),
                escalation: "ESCALATION {id}".into(),
                customer: "{title}".into(),
            },
            ingest: super::alert::IngestPolicy::default(),
            status_page: Default::default(),
            notify: Default::default(),
            intake: Vec::new(),
            review: Default::default(),
        }
    }
}

/// The policy presets embedded in the binary, one per runbook.
pub mod presets {
    pub const DEFAULT: &str = include_str!("../../assets/policies/default.toml");

    /// `(short name, file stem, toml)` for every preset, selectable with `--policy NAME`.
    pub const ALL: &[(&str, &str, &str)] = &[
        ("default", "default", DEFAULT),
        (
            "000",
            "000-tailscale",
            include_str!("../../assets/policies/000-tailscale.toml"),
        ),
        (
            "001",
            "001-saas-security",
            include_str!("../../assets/policies/001-saas-security.toml"),
        ),
        (
            "002",
            "002-tensafe",
            include_str!("../../assets/policies/002-tensafe.toml"),
        ),
        (
            "003",
            "003-security-sla",
            include_str!("../../assets/policies/003-security-sla.toml"),
        ),
        (
            "004",
            "004-generic",
            include_str!("../../assets/policies/004-generic.toml"),
        ),
    ];

    /// Finds a preset by short name (`default`, `002`) or file stem (`002-tensafe`).
    pub fn find(name: &str) -> Option<&'static str> {
        ALL.iter()
            .find(|(short, stem, _)| *short == name || *stem == name)
            .map(|(_, _, text)| *text)
    }
}

#[cfg(test)]
mod tests;
