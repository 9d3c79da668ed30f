//! What people ask for. A [`Command`] is validated by [`super::decide::decide`]
//! against the current projection and turns into zero or more events.

use super::event::{ActionState, Channel, DetectionMethod, Impact, NoteKind, Status};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A request to change an incident, with the client-made idempotency key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Command {
    /// Idempotency key; also the id of the first resulting event (and of the incident, for `declare`).
    pub id: Uuid,
    /// `INC-3` or the incident's UUID; absent only for `declare`.
    #[serde(default)]
    pub incident: Option<String>,
    pub action: Action,
    /// When the author acted, for commands written offline and replayed later.
    /// The events keep it (clamped to the last 24 h and never in the future),
    /// while the server still records its own `recorded_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Every action the war room offers, from the keyboard, the `:` line, the CLI or HTTP.
#[derive(
    Clone, Debug, PartialEq, Serialize, Deserialize, strum::IntoStaticStr, utoipa::ToSchema,
)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    Declare {
        #[schema(schema_with = super::schema::title)]
        title: String,
        #[schema(schema_with = super::schema::policy_id)]
        severity: String,
        #[serde(default)]
        kind: Option<String>,
        #[serde(default)]
        impact: Option<Impact>,
        /// Who takes the IC role; the declarer when absent.
        #[serde(default)]
        commander: Option<String>,
    },
    Acknowledge,
    SetSeverity {
        #[schema(schema_with = super::schema::policy_id)]
        severity: String,
        #[schema(schema_with = super::schema::text)]
        reason: String,
    },
    SetStatus {
        status: Status,
    },
    /// Records when the impact began (before the declaration) and when and how
    /// the incident was detected: time to detect = detection − impact start.
    RecordDetection {
        #[serde(default)]
        impact_started: Option<chrono::DateTime<chrono::Utc>>,
        /// The declaration's time when never given.
        #[serde(default)]
        detected_at: Option<chrono::DateTime<chrono::Utc>>,
        #[serde(default)]
        method: Option<DetectionMethod>,
    },
    /// Reclassifies the incident (availability → security); rules keyed on
    /// the new kind apply from this moment.
    SetKind {
        #[schema(schema_with = super::schema::policy_id)]
        kind: String,
        #[schema(schema_with = super::schema::text)]
        reason: String,
    },
    Contain {
        #[serde(default)]
        #[schema(schema_with = super::schema::free_text)]
        note: String,
    },
    Resolve {
        #[serde(default)]
        #[schema(schema_with = super::schema::free_text)]
        summary: String,
        /// Resolve although the stability window has not elapsed (or, with a
        /// `reason`, although resolution criteria are unmet).
        #[serde(default)]
        force: bool,
        /// Why the criteria are overridden; recorded with the resolution.
        #[serde(default)]
        #[schema(schema_with = super::schema::free_text)]
        reason: String,
    },
    Reopen {
        #[schema(schema_with = super::schema::text)]
        reason: String,
    },
    Close,
    /// Assigns a role. When someone else holds it this offers a hand-off, which
    /// the incoming person accepts or declines (`AcceptRole`/`DeclineRole`);
    /// taking a role yourself needs no acceptance.
    AssignRole {
        #[schema(schema_with = super::schema::policy_id)]
        role: String,
        #[schema(schema_with = super::schema::person)]
        person: String,
        #[serde(default)]
        #[schema(schema_with = super::schema::free_text)]
        note: String,
    },
    ReleaseRole {
        #[schema(schema_with = super::schema::policy_id)]
        role: String,
    },
    /// The person a role was offered to takes it (see `AssignRole`).
    AcceptRole {
        #[schema(schema_with = super::schema::policy_id)]
        role: String,
    },
    /// The person a role was offered to turns it down; the holder keeps it.
    DeclineRole {
        #[schema(schema_with = super::schema::policy_id)]
        role: String,
        #[serde(default)]
        #[schema(schema_with = super::schema::free_text)]
        reason: String,
    },
    Note {
        #[serde(default)]
        kind: NoteKind,
        #[schema(schema_with = super::schema::text)]
        text: String,
    },
    PostUpdate {
        channel: Channel,
        /// For the status page: the public state; also moves the incident's status.
        #[serde(default)]
        state: Option<Status>,
        #[schema(schema_with = super::schema::text)]
        text: String,
    },
    Escalate {
        /// Who to escalate to; the next step of the policy's escalation path when absent.
        #[serde(default)]
        to: Option<String>,
        #[schema(schema_with = super::schema::text)]
        reason: String,
    },
    Page {
        #[schema(schema_with = super::schema::person)]
        who: String,
        #[schema(schema_with = super::schema::text)]
        reason: String,
    },
    UpdateImpact {
        impact: Impact,
    },
    SetChecklistItem {
        #[schema(schema_with = super::schema::policy_id)]
        checklist: String,
        #[schema(schema_with = super::schema::policy_id)]
        item: String,
        #[serde(default = "yes")]
        done: bool,
        /// Waives the item instead of ticking it: why it is not needed. A
        /// time-boxed item stays in view until it is done or waived.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        waive: Option<String>,
    },
    AddActionItem {
        #[schema(schema_with = super::schema::text)]
        text: String,
        #[serde(default)]
        owner: Option<String>,
        #[serde(default)]
        due: Option<NaiveDate>,
        /// One of the review template's `action_priorities` (002: P1/P2/P3).
        #[serde(default)]
        priority: Option<String>,
    },
    /// Changes an action item's state, and its owner, due date or priority when given.
    UpdateActionItem {
        action: Uuid,
        state: ActionState,
        #[serde(default)]
        owner: Option<String>,
        #[serde(default)]
        due: Option<NaiveDate>,
        #[serde(default)]
        priority: Option<String>,
    },
    CompleteReview {
        #[serde(default)]
        #[schema(schema_with = super::schema::free_text)]
        summary: String,
    },
    /// Writes a human field of the review template (`field` is its id; an
    /// empty `value` clears it). Allowed before and after closing.
    SetReviewField {
        field: String,
        #[serde(default)]
        value: String,
    },
    /// Try a failed notification delivery again (its id from the deliveries list).
    RetryDelivery {
        delivery: Uuid,
    },
    /// A report that is not an alert (a customer's, a researcher's) becomes a
    /// triage item with its own acknowledge clock; no `incident`.
    Report {
        /// An intake kind of the policy (`disclosure`, `customer`).
        #[schema(schema_with = super::schema::policy_id)]
        intake: String,
        #[schema(schema_with = super::schema::title)]
        title: String,
        /// Overrides the intake kind's severity.
        #[serde(default)]
        severity: Option<String>,
        /// Who reported it (a customer, a researcher's address).
        #[serde(default)]
        #[schema(schema_with = super::schema::free_text)]
        reporter: String,
        /// What they wrote: description, steps to reproduce, impact.
        #[serde(default)]
        #[schema(schema_with = super::schema::free_text)]
        details: String,
    },
    /// Declares a triage item (`incident` = `TRI-n`) an incident, under its id.
    DeclareTriaged {
        /// Overrides the severity the alert mapping gave it.
        #[serde(default)]
        severity: Option<String>,
    },
    /// Dismisses a triage item (`incident` = `TRI-n`): not real, or not an incident.
    DismissTriaged {
        #[serde(default)]
        #[schema(schema_with = super::schema::free_text)]
        reason: String,
    },
}

fn yes() -> bool {
    true
}

/// What a token must be allowed to do to run an action.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
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
pub enum Access {
    /// Monitoring that sends alerts: may only ingest (`/api/v1/ingest/…`),
    /// not even read. Lowest, so `require` never lets it past anything else.
    Integration,
    Viewer,
    Responder,
    Commander,
    Admin,
}

impl Access {
    pub const ALL: [Access; 5] = super::all_variants(<Access as strum::VariantArray>::VARIANTS);

    /// The wire name (`commander`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The wire name in any case.
    pub fn parse(s: &str) -> Option<Access> {
        s.parse().ok()
    }
}

impl Action {
    /// Responders write the timeline, acknowledge and tick checklists; everything else is the commander's.
    pub fn required_access(&self) -> Access {
        match self {
            Action::Note { .. }
            | Action::Acknowledge
            | Action::SetChecklistItem { .. }
            | Action::RetryDelivery { .. }
            | Action::AcceptRole { .. }
            | Action::DeclineRole { .. }
            | Action::Report { .. } => Access::Responder,
            _ => Access::Commander,
        }
    }

    /// What the action is, in the words a person uses ("status update"), for
    /// messages such as "status update sent"; never the wire name.
    pub fn noun(&self) -> &'static str {
        match self {
            Action::Declare { .. } => "declaration",
            Action::Acknowledge => "acknowledgement",
            Action::SetSeverity { .. } => "severity change",
            Action::SetStatus { .. } => "status change",
            Action::SetKind { .. } => "kind change",
            Action::RecordDetection { .. } => "detection record",
            Action::Contain { .. } => "containment",
            Action::Resolve { .. } => "resolution",
            Action::Reopen { .. } => "reopening",
            Action::Close => "closing",
            Action::AssignRole { .. } => "role assignment",
            Action::ReleaseRole { .. } => "role release",
            Action::AcceptRole { .. } => "hand-off acceptance",
            Action::DeclineRole { .. } => "hand-off refusal",
            Action::Note {
                kind: NoteKind::Decision,
                ..
            } => "decision",
            Action::Note { .. } => "note",
            Action::PostUpdate { .. } => "status update",
            Action::Escalate { .. } => "escalation",
            Action::Page { .. } => "page",
            Action::UpdateImpact { .. } => "impact update",
            Action::SetChecklistItem { .. } => "checklist tick",
            Action::AddActionItem { .. } => "action item",
            Action::UpdateActionItem { .. } => "action item change",
            Action::CompleteReview { .. } => "review",
            Action::SetReviewField { .. } => "review field",
            Action::RetryDelivery { .. } => "delivery retry",
            Action::Report { .. } => "report",
            Action::DeclareTriaged { .. } => "triage declaration",
            Action::DismissTriaged { .. } => "triage dismissal",
        }
    }

    /// The action as something one does ("posting a status update"), for
    /// "… needs the commander role".
    pub fn doing(&self) -> &'static str {
        match self {
            Action::Declare { .. } => "declaring an incident",
            Action::Acknowledge => "acknowledging",
            Action::SetSeverity { .. } => "changing the severity",
            Action::SetStatus { .. } => "changing the status",
            Action::SetKind { .. } => "changing the kind",
            Action::RecordDetection { .. } => "recording the detection",
            Action::Contain { .. } => "marking it contained",
            Action::Resolve { .. } => "resolving",
            Action::Reopen { .. } => "reopening",
            Action::Close => "closing",
            Action::AssignRole { .. } => "assigning a role",
            Action::ReleaseRole { .. } => "releasing a role",
            Action::AcceptRole { .. } => "accepting a role",
            Action::DeclineRole { .. } => "declining a role",
            Action::Note { .. } => "writing on the timeline",
            Action::PostUpdate { .. } => "posting a status update",
            Action::Escalate { .. } => "escalating",
            Action::Page { .. } => "paging someone",
            Action::UpdateImpact { .. } => "changing the impact",
            Action::SetChecklistItem { .. } => "ticking the checklist",
            Action::AddActionItem { .. } => "adding an action item",
            Action::UpdateActionItem { .. } => "changing an action item",
            Action::CompleteReview { .. } => "completing the review",
            Action::SetReviewField { .. } => "writing the review",
            Action::RetryDelivery { .. } => "retrying a notification delivery",
            Action::Report { .. } => "recording a report",
            Action::DeclareTriaged { .. } => "declaring an alert group an incident",
            Action::DismissTriaged { .. } => "dismissing an alert group",
        }
    }

    /// The wire name (`declare`, `note`…), used in messages and the `:` line.
    pub fn name(&self) -> &'static str {
        self.into()
    }
}
