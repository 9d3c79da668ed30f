//! The immutable facts an incident is made of. The incident you see is a fold
//! over these (see [`super::state`]); nothing is updated in place, so the
//! timeline is the audit log and sync is "events after seq N".

use super::alert::AlertLine;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use strum::VariantArray;
use uuid::Uuid;

/// An incident's lifecycle status (the public states of a status page).
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
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumString,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case", ascii_case_insensitive)]
pub enum Status {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl Status {
    pub const ALL: [Status; 4] = super::all_variants(Status::VARIANTS);

    /// The wire name (`investigating`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The wire name in any case.
    pub fn parse(s: &str) -> Option<Status> {
        s.parse().ok()
    }
}

/// The wire name, written as is: a width in the format string does not pad
/// it (strum's `Display` would), so aligned columns stay as they were.
impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a status update is posted.
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
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumString,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case", ascii_case_insensitive)]
pub enum Channel {
    StatusPage,
    Internal,
    Customer,
}

impl Channel {
    pub const ALL: [Channel; 3] = super::all_variants(Channel::VARIANTS);

    /// The wire name (`status_page`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Human label: "status page".
    pub fn label(self) -> &'static str {
        match self {
            Channel::StatusPage => "status page",
            Channel::Internal => "internal",
            Channel::Customer => "customer",
        }
    }

    /// The wire name in any case, with `-` or a space for `_` (`status page`).
    pub fn parse(s: &str) -> Option<Channel> {
        s.replace(['-', ' '], "_").parse().ok()
    }
}

/// What sort of timeline entry a note is; the scribe picks one per line.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumString,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case", ascii_case_insensitive)]
pub enum NoteKind {
    #[default]
    Note,
    Decision,
    Action,
    Observation,
}

impl NoteKind {
    pub const ALL: [NoteKind; 4] = super::all_variants(NoteKind::VARIANTS);

    /// The wire name (`decision`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The wire name in any case.
    pub fn parse(s: &str) -> Option<NoteKind> {
        s.parse().ok()
    }
}

/// What the incident affects.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Impact {
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub customers: String,
    #[serde(default)]
    pub data_exposure: bool,
    /// Where responders meet (a call link, a channel); the templates' `{bridge}`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bridge: String,
}

impl Impact {
    /// One line: the summary, then whichever details are set.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.summary.is_empty() {
            parts.push(self.summary.clone());
        }
        if !self.services.is_empty() {
            parts.push(format!("services: {}", self.services.join(", ")));
        }
        if !self.customers.is_empty() {
            parts.push(format!("customers: {}", self.customers));
        }
        if self.data_exposure {
            parts.push("customer data exposed".to_string());
        }
        if !self.bridge.is_empty() {
            parts.push(format!("bridge: {}", self.bridge));
        }
        if parts.is_empty() {
            "(cleared)".to_string()
        } else {
            parts.join("; ")
        }
    }

    /// Services as a person types them: `checkout-api, payments` (commas; blanks dropped).
    pub fn parse_services(text: &str) -> Vec<String> {
        text.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// How an incident was detected (runbook 002 §4.1 "Detection Sources", 003's
/// postmortem "Detection Method", 001's "Detection and reporting").
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DetectionMethod {
    /// Automated monitoring or a health check (002: Prometheus/Grafana, status checks).
    Alert,
    /// Support tickets and emails from customers.
    CustomerReport,
    /// A colleague reported it (002: Slack #incidents).
    InternalReport,
    /// SIEM, WAF, secret scanning, CodeQL and the like.
    SecurityTool,
    /// A security researcher's report (001 "Responsible disclosure").
    ResponsibleDisclosure,
}

impl DetectionMethod {
    pub const ALL: [DetectionMethod; 5] = super::all_variants(DetectionMethod::VARIANTS);

    /// The wire name (`customer_report`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// In words: `customer report`.
    pub fn label(self) -> &'static str {
        match self {
            DetectionMethod::Alert => "monitoring alert",
            DetectionMethod::CustomerReport => "customer report",
            DetectionMethod::InternalReport => "internal report",
            DetectionMethod::SecurityTool => "security tool",
            DetectionMethod::ResponsibleDisclosure => "responsible disclosure",
        }
    }

    /// `customer_report`, `customer-report`, `customer report` or `customer`.
    pub fn parse(s: &str) -> Option<DetectionMethod> {
        let s = s.trim().replace(['-', ' '], "_").to_ascii_lowercase();
        DetectionMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == s || m.as_str().split('_').next() == Some(s.as_str()))
    }
}

/// The state of a follow-up action item.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::EnumString,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case", ascii_case_insensitive)]
pub enum ActionState {
    #[default]
    Open,
    InProgress,
    Done,
    Cancelled,
}

impl ActionState {
    /// The wire name (`in_progress`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The wire name in any case, with `-` or a space for `_` (`in progress`).
    pub fn parse(s: &str) -> Option<ActionState> {
        s.replace(['-', ' '], "_").parse().ok()
    }
}

/// One immutable fact about one incident.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// Client-made idempotency key: sending the same event twice stores it once.
    pub id: Uuid,
    pub incident: Uuid,
    /// Who did it: a token's name, or `scheduler` for automatic escalations.
    /// Shared, not owned: a log of 100,000 events has a handful of authors,
    /// and a client interns them (`client::replica`), so each event holds a
    /// pointer instead of a copy of the name.
    #[schema(value_type = String)]
    pub actor: Arc<str>,
    /// When the author says it happened (kept for events written offline).
    pub occurred_at: DateTime<Utc>,
    #[serde(flatten)]
    pub body: EventBody,
}

/// An event as the server stored it: with its global sequence number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recorded {
    /// Global, gap-free, strictly increasing; assigned inside the write transaction.
    pub seq: u64,
    pub recorded_at: DateTime<Utc>,
    #[serde(flatten)]
    pub event: Event,
}

/// The payload of an [`Event`].
#[derive(
    Clone, Debug, PartialEq, Serialize, Deserialize, strum::IntoStaticStr, utoipa::ToSchema,
)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum EventBody {
    Declared {
        title: String,
        severity: String,
        #[serde(default = "default_kind")]
        kind: String,
        /// Boxed: the largest payload, rare in a log of mostly notes, so every
        /// other event stays small in memory (a 100,000-event timeline).
        #[serde(default)]
        impact: Box<Impact>,
    },
    Acknowledged,
    SeverityChanged {
        from: String,
        to: String,
        reason: String,
        /// More severe than before: the SLA clocks restart from this moment.
        #[serde(default)]
        upgrade: bool,
    },
    StatusChanged {
        from: Status,
        to: Status,
    },
    /// When the impact began and when and how it was detected (any part may be
    /// given alone; later records replace the parts they give).
    DetectionRecorded {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        impact_started: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detected_at: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        method: Option<DetectionMethod>,
    },
    /// The incident was reclassified (e.g. availability → security).
    KindChanged {
        from: String,
        to: String,
        reason: String,
    },
    Contained {
        #[serde(default)]
        note: String,
    },
    Resolved {
        #[serde(default)]
        summary: String,
        /// Resolved before the stability window elapsed, by the commander's decision.
        #[serde(default)]
        forced: bool,
        /// Why the resolver overrode unmet resolution criteria (or resolved
        /// without holding the role that declares resolved); who is the actor.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        override_reason: String,
        /// The criteria unmet at that moment.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        unmet: Vec<String>,
    },
    Reopened {
        reason: String,
    },
    Closed,
    RoleAssigned {
        role: String,
        person: String,
    },
    RoleHandedOff(Box<RoleChange>),
    RoleReleased {
        role: String,
        person: String,
    },
    /// A role held by `from` is offered to `to`; `from` keeps it until `to`
    /// accepts (then [`EventBody::RoleHandedOff`]) or declines.
    RoleOffered(Box<RoleChange>),
    /// `to` turned the offered role down; `from` keeps it.
    RoleDeclined(Box<RoleRefusal>),
    /// Alerts joining the incident map to a more severe level than it has, and
    /// the policy leaves the change to a human (`ingest.on_more_severe = "suggest"`).
    SeveritySuggested {
        severity: String,
        reason: String,
    },
    Note {
        kind: NoteKind,
        text: String,
    },
    UpdatePosted {
        channel: Channel,
        #[serde(default)]
        state: Option<Status>,
        text: String,
    },
    Escalated {
        to: String,
        reason: String,
        /// The policy rule that fired, for automatic escalations.
        #[serde(default)]
        rule: Option<String>,
    },
    Paged {
        who: String,
        reason: String,
    },
    ImpactUpdated {
        impact: Box<Impact>,
    },
    ChecklistItemSet {
        checklist: String,
        item: String,
        done: bool,
        /// Set when the item was waived rather than done: why it is not
        /// needed (it then counts as done, with the reason on record).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        waived: Option<String>,
    },
    ActionItemAdded(Box<NewActionItem>),
    ActionItemUpdated {
        action: Uuid,
        #[serde(default)]
        owner: Option<String>,
        #[serde(default)]
        due: Option<NaiveDate>,
        state: ActionState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        priority: Option<String>,
    },
    /// An update channel fell overdue; written once per missed deadline by the scheduler.
    UpdateOverdue {
        channel: Channel,
        due_at: DateTime<Utc>,
    },
    ReviewCompleted {
        #[serde(default)]
        summary: String,
    },
    /// A human field of the review template was written (empty: cleared).
    ReviewFieldSet {
        field: String,
        value: String,
    },

    // ---- Alerts in (rules in `super::alert`) ----
    /// An alert group opened a triage item, not an incident: `incident` is the
    /// item's id, which becomes the incident's id if a human declares it.
    AlertTriaged(Box<TriagedAlert>),
    /// A report that is not an alert opened a triage item: `incident` is the
    /// item's id, which becomes the incident's id if a human declares it.
    ReportReceived(Box<Report>),
    /// Alerts of `group` started firing (one entry per payload, however many).
    AlertsFiring {
        group: String,
        alerts: Vec<AlertLine>,
        /// The closed incident (or dismissed item) of the same group this one follows.
        #[serde(default)]
        previous: Option<Uuid>,
    },
    /// Alerts of `group` stopped firing; `clear` when none is left.
    AlertsResolved {
        group: String,
        alerts: Vec<AlertLine>,
        clear: bool,
    },
    /// A human decided a triage item is not an incident.
    TriageDismissed {
        #[serde(default)]
        reason: String,
    },
    /// One try to deliver a notification, written by the delivery worker.
    DeliveryAttempted(Box<DeliveryAttempt>),
    /// Someone asked for a failed delivery to be tried again.
    DeliveryRetryRequested {
        delivery: Uuid,
    },
}

/// How one delivery try ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    Sent,
    /// Failed; another try is scheduled at `retry_at`.
    Failed,
    /// Failed for the last time (the retry budget is spent, or the target refused for good).
    GaveUp,
}

// The payloads of the larger, rarer variants are boxed: a client holds every
// event of the log in memory, and an enum is as large as its largest variant
// (four strings inline make every note 16 bytes larger; see the size test).

/// The payload of [`EventBody::RoleHandedOff`] and [`EventBody::RoleOffered`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoleChange {
    pub role: String,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub note: String,
}

/// The payload of [`EventBody::RoleDeclined`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoleRefusal {
    pub role: String,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub reason: String,
}

/// The payload of [`EventBody::ActionItemAdded`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewActionItem {
    pub action: Uuid,
    pub text: String,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub due: Option<NaiveDate>,
    /// The review template's Priority column (002 §8.2 "P1/P2/P3").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
}

/// The payload of [`EventBody::AlertTriaged`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TriagedAlert {
    pub title: String,
    pub severity: String,
    pub kind: String,
    #[serde(default)]
    pub services: Vec<String>,
}

/// The payload of [`EventBody::ReportReceived`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Report {
    /// The policy's intake kind (`disclosure`).
    pub intake: String,
    pub title: String,
    pub severity: String,
    pub kind: String,
    #[serde(default)]
    pub reporter: String,
    #[serde(default)]
    pub details: String,
}

/// The payload of [`EventBody::DeliveryAttempted`] (boxed: rare and large).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeliveryAttempt {
    /// The delivery's id (the intent's: also its `webhook-id`).
    pub delivery: Uuid,
    /// The policy's channel name.
    pub channel: String,
    pub kind: crate::domain::notify::ChannelKind,
    /// The directory contact reached, or empty.
    #[serde(default)]
    pub target: String,
    /// The event notified about, and its kind.
    pub about: Uuid,
    pub what: String,
    /// 1-based, counted across the whole delivery (retries included).
    pub attempt: u32,
    pub outcome: DeliveryOutcome,
    /// The error, or the target's answer in a few words.
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub retry_at: Option<DateTime<Utc>>,
    /// Seconds from this try to the next, for "retrying in 40 s".
    #[serde(default)]
    pub retry_in: Option<u64>,
}

impl DeliveryAttempt {
    /// `Slack (chat)` / `PagerDuty → alice`.
    pub fn label(&self) -> String {
        if self.target.is_empty() {
            format!("{} ({})", self.kind.label(), self.channel)
        } else {
            format!("{} → {}", self.kind.label(), self.target)
        }
    }
}

/// `1 alert`, `3 alerts`.
fn plural(n: usize) -> String {
    if n == 1 {
        "1 alert".into()
    } else {
        format!("{n} alerts")
    }
}

/// The first few alert names of an entry, then how many more.
fn names(alerts: &[AlertLine]) -> String {
    const SHOWN: usize = 3;
    let mut s = alerts
        .iter()
        .take(SHOWN)
        .map(|a| {
            if a.summary.is_empty() || a.summary == a.name {
                a.name.clone()
            } else {
                format!("{} ({})", a.name, a.summary)
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    if alerts.len() > SHOWN {
        s.push_str(&format!(" and {} more", alerts.len() - SHOWN));
    }
    s
}

fn default_kind() -> String {
    "availability".into()
}

impl EventBody {
    /// The snake_case name of the variant, as on the wire (`declared`, `note`…).
    pub fn kind_name(&self) -> &'static str {
        self.into()
    }

    /// One line for the timeline, e.g. `severity P2 → P1: customer data exposed`.
    pub fn describe(&self) -> String {
        match self {
            EventBody::Declared {
                title,
                severity,
                kind,
                ..
            } => {
                format!("declared {severity} {kind} incident: {title}")
            }
            EventBody::Acknowledged => "acknowledged".into(),
            EventBody::SeverityChanged {
                from, to, reason, ..
            } => {
                format!("severity {from} → {to}: {reason}")
            }
            EventBody::StatusChanged { from, to } => format!("status {from} → {to}"),
            EventBody::Contained { note } if note.is_empty() => "marked contained".into(),
            EventBody::Contained { note } => format!("marked contained: {note}"),
            EventBody::Resolved {
                summary,
                forced,
                override_reason,
                unmet,
            } => {
                let mut early = if *forced {
                    " (before the stability window)".to_string()
                } else {
                    String::new()
                };
                if !override_reason.is_empty() {
                    early.push_str(&format!(" (override: {override_reason}"));
                    if !unmet.is_empty() {
                        early.push_str(&format!("; unmet: {}", unmet.join(", ")));
                    }
                    early.push(')');
                }
                if summary.is_empty() {
                    format!("resolved{early}")
                } else {
                    format!("resolved{early}: {summary}")
                }
            }
            EventBody::Reopened { reason } => format!("reopened: {reason}"),
            EventBody::DetectionRecorded {
                impact_started,
                detected_at,
                method,
            } => {
                let t = |t: &DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
                let mut parts = Vec::new();
                if let Some(s) = impact_started {
                    parts.push(format!("impact started {}", t(s)));
                }
                match (detected_at, method) {
                    (Some(d), Some(m)) => parts.push(format!("detected {} by {}", t(d), m.label())),
                    (Some(d), None) => parts.push(format!("detected {}", t(d))),
                    (None, Some(m)) => parts.push(format!("detected by {}", m.label())),
                    (None, None) => {}
                }
                format!("detection: {}", parts.join(", "))
            }
            EventBody::KindChanged { from, to, reason } => {
                format!("kind {from} → {to}: {reason}")
            }
            EventBody::Closed => "closed".into(),
            EventBody::RoleAssigned { role, person } => format!("{role} assigned to {person}"),
            EventBody::RoleHandedOff(c) => noted(
                format!("{} handed off {} → {}", c.role, c.from, c.to),
                &c.note,
            ),
            EventBody::RoleReleased { role, person } => format!("{person} released {role}"),
            EventBody::RoleOffered(c) => noted(
                format!(
                    "{} offered {} → {} (awaiting {})",
                    c.role, c.from, c.to, c.to
                ),
                &c.note,
            ),
            EventBody::RoleDeclined(d) => noted(
                format!("{} declined {}; {} keeps it", d.to, d.role, d.from),
                &d.reason,
            ),
            EventBody::SeveritySuggested { severity, reason } => {
                format!("severity {severity} suggested: {reason}")
            }
            EventBody::Note {
                kind: NoteKind::Note,
                text,
            } => text.clone(),
            EventBody::Note { kind, text } => format!("{}: {text}", kind.as_str().to_uppercase()),
            EventBody::UpdatePosted {
                channel,
                state,
                text,
            } => {
                let first = text.lines().next().unwrap_or_default();
                match state {
                    Some(s) => format!("{} update ({s}): {first}", channel.label()),
                    None => format!("{} update: {first}", channel.label()),
                }
            }
            EventBody::Escalated {
                to,
                reason,
                rule: Some(rule),
            } => {
                format!("escalated to {to} (rule {rule}): {reason}")
            }
            EventBody::Escalated {
                to,
                reason,
                rule: None,
            } => format!("escalated to {to}: {reason}"),
            EventBody::Paged { who, reason } => format!("paged {who}: {reason}"),
            EventBody::ImpactUpdated { impact } => format!("impact: {}", impact.describe()),
            EventBody::ChecklistItemSet {
                checklist,
                item,
                waived: Some(reason),
                ..
            } => format!("checklist {checklist}/{item} waived: {reason}"),
            EventBody::ChecklistItemSet {
                checklist,
                item,
                done,
                waived: None,
            } => {
                let mark = if *done { "done" } else { "undone" };
                format!("checklist {checklist}/{item} {mark}")
            }
            EventBody::ActionItemAdded(a) => {
                let NewActionItem {
                    text,
                    owner,
                    priority,
                    ..
                } = &**a;
                let mut extra = Vec::new();
                if let Some(o) = owner {
                    extra.push(format!("owner {o}"));
                }
                if let Some(p) = priority {
                    extra.push(format!("priority {p}"));
                }
                if extra.is_empty() {
                    format!("action item: {text}")
                } else {
                    format!("action item: {text} ({})", extra.join(", "))
                }
            }
            EventBody::ActionItemUpdated {
                state,
                owner,
                due,
                priority,
                ..
            } => {
                let mut s = format!("action item {}", state.as_str());
                if let Some(o) = owner {
                    s.push_str(&format!(", owner {o}"));
                }
                if let Some(p) = priority {
                    s.push_str(&format!(", priority {p}"));
                }
                if let Some(d) = due {
                    s.push_str(&format!(", due {d}"));
                }
                s
            }
            EventBody::UpdateOverdue { channel, .. } => {
                format!("OVERDUE: {} update", channel.label())
            }
            EventBody::ReviewCompleted { summary } => {
                format!("post-incident review completed: {summary}")
            }
            EventBody::ReviewFieldSet { field, value } if value.is_empty() => {
                format!("review: {field} cleared")
            }
            EventBody::ReviewFieldSet { field, value } => format!("review: {field} = {value}"),
            EventBody::DeliveryAttempted(d) => {
                let label = d.label();
                let what = &d.what;
                match d.outcome {
                    DeliveryOutcome::Sent if d.attempt <= 1 => format!("→ {label} ✓ {what}"),
                    DeliveryOutcome::Sent => {
                        format!("→ {label} ✓ {what} (after {} tries)", d.attempt)
                    }
                    DeliveryOutcome::Failed => match d.retry_in {
                        Some(s) => format!(
                            "{label} failed {}×, retrying in {s} s: {}",
                            d.attempt, d.detail
                        ),
                        None => format!("{label} failed {}×: {}", d.attempt, d.detail),
                    },
                    DeliveryOutcome::GaveUp => format!(
                        "{label} FAILED for good after {} tries ({what}): {}",
                        d.attempt, d.detail
                    ),
                }
            }
            EventBody::DeliveryRetryRequested { .. } => "delivery retry requested".into(),
            EventBody::AlertTriaged(t) => format!("alert in triage ({}): {}", t.severity, t.title),
            EventBody::ReportReceived(r) if r.reporter.is_empty() => {
                format!(
                    "{} report in triage ({}): {}",
                    r.intake, r.severity, r.title
                )
            }
            EventBody::ReportReceived(r) => format!(
                "{} report from {} in triage ({}): {}",
                r.intake, r.reporter, r.severity, r.title
            ),
            EventBody::AlertsFiring { alerts, .. } => {
                format!("{} firing: {}", plural(alerts.len()), names(alerts))
            }
            EventBody::AlertsResolved {
                alerts,
                clear: true,
                ..
            } => format!(
                "{} resolved: {} — all alerts clear",
                plural(alerts.len()),
                names(alerts)
            ),
            EventBody::AlertsResolved { alerts, .. } => {
                format!("{} resolved: {}", plural(alerts.len()), names(alerts))
            }
            EventBody::TriageDismissed { reason } if reason.is_empty() => {
                "triage item dismissed".into()
            }
            EventBody::TriageDismissed { reason } => format!("triage item dismissed: {reason}"),
        }
    }
}

/// `text`, then `: note` when there is one.
fn noted(text: String, note: &str) -> String {
    if note.is_empty() {
        text
    } else {
        format!("{text}: {note}")
    }
}

#[cfg(test)]
mod size {
    use super::*;

    /// A client holds every event of the log in memory (100,000 for a long
    /// incident, within the TUI's 50 MB): a variant whose fields take more
    /// than 80 bytes inline (three strings and a flag fit; four strings do
    /// not) grows every one of them. Box its payload instead, as the role
    /// changes, reports and delivery attempts are.
    #[test]
    fn an_event_in_memory_stays_small() {
        assert!(
            std::mem::size_of::<EventBody>() <= 88,
            "EventBody is {} bytes",
            std::mem::size_of::<EventBody>()
        );
        assert!(
            std::mem::size_of::<Recorded>() <= 176,
            "Recorded is {} bytes",
            std::mem::size_of::<Recorded>()
        );
    }
}
