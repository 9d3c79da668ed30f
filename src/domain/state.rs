//! The projection: incidents as a fold over events. One [`World::apply`] serves
//! server and client alike, so both always agree on what an incident looks like.

use super::alert::{self, AlertLink, Alerts};
use super::event::{
    ActionState, Channel, DeliveryOutcome, DetectionMethod, Event, EventBody, Impact, Status,
};
use super::handoff::{self, RoleOffer};
use super::policy::Phase;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use uuid::Uuid;

/// Who did something, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Stamp {
    pub at: DateTime<Utc>,
    pub by: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EscalationRecord {
    pub at: DateTime<Utc>,
    pub to: String,
    pub reason: String,
    pub rule: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActionItem {
    pub id: Uuid,
    pub text: String,
    pub owner: Option<String>,
    pub due: Option<NaiveDate>,
    pub state: ActionState,
    pub added_at: DateTime<Utc>,
    /// 002 §8.2's Priority column; its review cadence is the policy's `review.action_review`.
    #[serde(default)]
    pub priority: Option<String>,
    /// When it last changed (state, owner, due date or priority).
    #[serde(default)]
    pub changed_at: Option<DateTime<Utc>>,
}

/// A page or an escalation, and who acted in the incident after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Call {
    pub who: String,
    pub at: DateTime<Utc>,
    /// Actor → first time they acted after the call. Policy-free: which actor
    /// answers for which directory contact is decided with the policy.
    pub acted: BTreeMap<String, DateTime<Utc>>,
}

/// Where one notification stands, as its outcome events tell it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: Uuid,
    /// `Slack (chat)` / `PagerDuty → alice`.
    pub label: String,
    pub what: String,
    pub attempts: u32,
    pub outcome: DeliveryOutcome,
    pub detail: String,
    pub at: DateTime<Utc>,
    pub retry_at: Option<DateTime<Utc>>,
    /// A retry was asked for and has not been tried yet.
    pub retry_requested: bool,
}

impl Delivery {
    pub fn failing(&self) -> bool {
        self.outcome != DeliveryOutcome::Sent
    }
}

/// A severity the incident's alerts suggest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub severity: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// One incident as the fold of its events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Incident {
    pub id: Uuid,
    /// Human number: the n-th incident declared, in seq order (`INC-n`).
    pub number: u64,
    pub title: String,
    pub kind: String,
    pub severity: String,
    pub status: Status,
    pub impact: Impact,
    pub declared: Stamp,
    /// When the SLA clocks (acknowledge / contain / resolve) start: the
    /// declaration, or the moment of the last severity *upgrade*.
    pub sla_origin: DateTime<Utc>,
    /// The severity whose targets started at `sla_origin` (the declared one, or
    /// the last upgrade's). Only a change to something stricter than this is an
    /// upgrade: lowering and raising again must not give back time.
    #[serde(default)]
    pub sla_severity: Option<String>,
    /// When the current kind took effect, if it was changed after the
    /// declaration: rules keyed on a kind fire no earlier than this.
    #[serde(default)]
    pub kind_since: Option<DateTime<Utc>>,
    /// When the impact began, if someone recorded it (before the declaration).
    #[serde(default)]
    pub impact_started: Option<DateTime<Utc>>,
    /// When it was detected, if recorded; see [`Incident::detected_at`].
    #[serde(default)]
    pub detected: Option<DateTime<Utc>>,
    /// How it was detected, if recorded; see [`Incident::detection_method`].
    #[serde(default)]
    pub detection: Option<DetectionMethod>,
    /// The last resolution came after the stability window (not forced, from monitoring).
    #[serde(default)]
    pub resolved_stable: bool,
    /// The last resolution was by the incident commander.
    #[serde(default)]
    pub resolved_by_ic: bool,
    /// Why the last resolution overrode unmet criteria (empty: none needed).
    #[serde(default)]
    pub resolve_override: Option<String>,
    pub acknowledged: Option<Stamp>,
    pub contained: Option<Stamp>,
    pub resolved: Option<Stamp>,
    pub closed: Option<Stamp>,
    /// Set while the status is `monitoring`: when monitoring began.
    pub monitoring_since: Option<DateTime<Utc>>,
    /// role id → person.
    pub roles: BTreeMap<String, String>,
    /// role id → a hand-off offered and not yet answered (see [`super::handoff`]).
    #[serde(default)]
    pub offers: BTreeMap<String, RoleOffer>,
    /// Last post per channel.
    pub last_update: BTreeMap<Channel, DateTime<Utc>>,
    pub escalations: Vec<EscalationRecord>,
    pub pages: usize,
    /// `(checklist, item)` pairs ticked (or waived).
    pub checked: BTreeSet<(String, String)>,
    /// `checklist/item` → when it was ticked or waived, for time-boxed
    /// checklists' clocks.
    #[serde(default)]
    pub ticked_at: BTreeMap<String, DateTime<Utc>>,
    /// `checklist/item` → why it was waived instead of done.
    #[serde(default)]
    pub waived: BTreeMap<String, String>,
    /// role id → since when its holder holds it.
    #[serde(default)]
    pub role_since: BTreeMap<String, DateTime<Utc>>,
    /// First post per channel.
    #[serde(default)]
    pub first_update: BTreeMap<Channel, DateTime<Utc>>,
    pub actions: Vec<ActionItem>,
    pub review: Option<Stamp>,
    /// The review template's human fields as written: field id → value.
    #[serde(default)]
    pub review_fields: BTreeMap<String, String>,
    /// Overdue reminders already written, so each missed deadline is written once.
    pub overdue_marked: BTreeSet<(Channel, DateTime<Utc>)>,
    pub reopened: u32,
    /// Pages and escalations, each with who acted in the incident since (answer clocks).
    #[serde(default)]
    pub calls: Vec<Call>,
    /// Every notification delivery of this incident, by delivery id.
    #[serde(default)]
    pub deliveries: BTreeMap<Uuid, Delivery>,
    /// A more severe level its alerts map to, for the IC to decide on
    /// (`ingest.on_more_severe = "suggest"`); gone once the severity changes.
    #[serde(default)]
    pub suggested: Option<Suggestion>,
    /// The alert group behind it, when alerts opened it (see [`super::alert`]).
    #[serde(default)]
    pub alerts: Option<AlertLink>,
    pub event_count: u64,
    pub last_activity: DateTime<Utc>,
}

impl Incident {
    /// `INC-7`.
    pub fn key(&self) -> String {
        format!("INC-{}", self.number)
    }

    pub fn is_open(&self) -> bool {
        self.resolved.is_none() && self.closed.is_none()
    }

    /// When the incident was detected: as recorded, else its declaration.
    pub fn detected_at(&self) -> DateTime<Utc> {
        self.detected.unwrap_or(self.declared.at)
    }

    /// How it was detected: as recorded, else a monitoring alert when alerts opened it.
    pub fn detection_method(&self) -> Option<DetectionMethod> {
        self.detection
            .or_else(|| self.alerts.as_ref().map(|_| DetectionMethod::Alert))
    }

    /// Time to detect (runbook 002 §1.3 TTD): impact start to detection, once
    /// the impact start is recorded.
    pub fn time_to_detect(&self) -> Option<chrono::Duration> {
        self.impact_started
            .map(|s| (self.detected_at() - s).max(chrono::Duration::zero()))
    }

    /// Which checklists apply now.
    pub fn phase(&self) -> Phase {
        if self.closed.is_some() || self.resolved.is_some() {
            Phase::Closure
        } else if self.status == Status::Monitoring || self.contained.is_some() {
            Phase::Resolution
        } else if self.acknowledged.is_some() {
            Phase::Response
        } else {
            Phase::Triage
        }
    }

    pub fn is_checked(&self, checklist: &str, item: &str) -> bool {
        self.checked
            .contains(&(checklist.to_string(), item.to_string()))
    }

    /// The fired automatic rules, so the scheduler fires each once.
    pub fn fired_rules(&self) -> impl Iterator<Item = &str> {
        self.escalations.iter().filter_map(|e| e.rule.as_deref())
    }

    /// Deliveries whose last try failed (retrying or given up): the board's badge.
    pub fn failing_deliveries(&self) -> usize {
        self.deliveries.values().filter(|d| d.failing()).count()
    }
}

/// Every incident, folded from the whole log.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct World {
    pub incidents: BTreeMap<Uuid, Incident>,
    /// Incident ids by number - 1.
    pub order: Vec<Uuid>,
    /// Alert groups and the triage queue.
    #[serde(default)]
    pub alerts: Alerts,
    /// Event ids already applied: applying one twice is a no-op.
    #[serde(skip)]
    seen: HashSet<Uuid>,
}

impl World {
    pub fn get(&self, id: &Uuid) -> Option<&Incident> {
        self.incidents.get(id)
    }

    pub fn by_number(&self, n: u64) -> Option<&Incident> {
        let idx = usize::try_from(n).ok()?.checked_sub(1)?;
        self.order.get(idx).and_then(|id| self.incidents.get(id))
    }

    /// Finds an incident by `INC-3`, `3`, or UUID.
    pub fn resolve(&self, reference: &str) -> Option<&Incident> {
        let r = reference.trim();
        let digits = r
            .strip_prefix("INC-")
            .or_else(|| r.strip_prefix("inc-"))
            .unwrap_or(r);
        if let Ok(n) = digits.parse::<u64>() {
            return self.by_number(n);
        }
        Uuid::parse_str(r)
            .ok()
            .and_then(|id| self.incidents.get(&id))
    }

    /// Whether the event with this id has been folded in.
    pub fn has_applied(&self, id: &Uuid) -> bool {
        self.seen.contains(id)
    }

    /// Folds one event in. Total: events for unknown incidents and repeats are ignored.
    pub fn apply(&mut self, ev: &Event) {
        if !self.seen.insert(ev.id) {
            return;
        }
        let at = ev.occurred_at;
        if let EventBody::Declared {
            title,
            severity,
            kind,
            impact,
        } = &ev.body
        {
            if self.incidents.contains_key(&ev.incident) {
                return;
            }
            self.order.push(ev.incident);
            let number = self.order.len() as u64;
            self.incidents.insert(
                ev.incident,
                Incident {
                    id: ev.incident,
                    number,
                    title: title.clone(),
                    kind: kind.clone(),
                    severity: severity.clone(),
                    status: Status::Investigating,
                    impact: (**impact).clone(),
                    declared: Stamp {
                        at,
                        by: ev.actor.to_string(),
                    },
                    sla_origin: at,
                    sla_severity: Some(severity.clone()),
                    kind_since: None,
                    impact_started: None,
                    detected: None,
                    detection: None,
                    resolved_stable: false,
                    resolved_by_ic: false,
                    resolve_override: None,
                    acknowledged: None,
                    contained: None,
                    resolved: None,
                    closed: None,
                    monitoring_since: None,
                    roles: BTreeMap::new(),
                    offers: BTreeMap::new(),
                    last_update: BTreeMap::new(),
                    escalations: Vec::new(),
                    pages: 0,
                    checked: BTreeSet::new(),
                    ticked_at: BTreeMap::new(),
                    waived: BTreeMap::new(),
                    role_since: BTreeMap::new(),
                    first_update: BTreeMap::new(),
                    actions: Vec::new(),
                    review: None,
                    review_fields: BTreeMap::new(),
                    overdue_marked: BTreeSet::new(),
                    reopened: 0,
                    calls: Vec::new(),
                    deliveries: BTreeMap::new(),
                    suggested: None,
                    alerts: None,
                    event_count: 1,
                    last_activity: at,
                },
            );
            alert::fold(self, ev);
            return;
        }
        alert::fold(self, ev);
        let Some(inc) = self.incidents.get_mut(&ev.incident) else {
            return;
        };
        // The earliest time each person acted after a call, whatever order
        // events arrive in (see `conflict`: notes from two replicas commute).
        for call in &mut inc.calls {
            if at >= call.at {
                call.acted
                    .entry(ev.actor.to_string())
                    .and_modify(|t| *t = (*t).min(at))
                    .or_insert(at);
            }
        }
        inc.event_count += 1;
        inc.last_activity = inc.last_activity.max(at);
        let stamp = || Stamp {
            at,
            by: ev.actor.to_string(),
        };
        match &ev.body {
            EventBody::Declared { .. } => {}
            EventBody::Acknowledged => inc.acknowledged = Some(stamp()),
            EventBody::SeverityChanged { to, upgrade, .. } => {
                if *upgrade {
                    inc.sla_origin = at;
                    inc.sla_severity = Some(to.clone());
                }
                inc.severity = to.clone();
                inc.suggested = None;
            }
            EventBody::SeveritySuggested { severity, reason } => {
                inc.suggested = Some(Suggestion {
                    severity: severity.clone(),
                    reason: reason.clone(),
                    at,
                });
            }
            EventBody::StatusChanged { to, .. } => set_status(inc, *to, at),
            EventBody::DetectionRecorded {
                impact_started,
                detected_at,
                method,
            } => {
                if impact_started.is_some() {
                    inc.impact_started = *impact_started;
                }
                if detected_at.is_some() {
                    inc.detected = *detected_at;
                }
                if method.is_some() {
                    inc.detection = *method;
                }
            }
            EventBody::KindChanged { to, .. } => {
                inc.kind = to.clone();
                inc.kind_since = Some(at);
            }
            EventBody::Contained { .. } => inc.contained = Some(stamp()),
            EventBody::Resolved {
                forced,
                override_reason,
                ..
            } => {
                inc.resolved_stable = !*forced && inc.monitoring_since.is_some();
                inc.resolved_by_ic = inc.roles.get("ic").map(String::as_str) == Some(&*ev.actor);
                inc.resolve_override = Some(override_reason.clone()).filter(|r| !r.is_empty());
                inc.resolved = Some(stamp());
                inc.suggested = None;
                set_status(inc, Status::Resolved, at);
            }
            EventBody::Reopened { .. } => {
                inc.resolved = None;
                inc.closed = None;
                inc.contained = None;
                inc.reopened += 1;
                set_status(inc, Status::Investigating, at);
            }
            EventBody::Closed => inc.closed = Some(stamp()),
            EventBody::RoleAssigned { .. }
            | EventBody::RoleHandedOff { .. }
            | EventBody::RoleReleased { .. }
            | EventBody::RoleOffered { .. }
            | EventBody::RoleDeclined { .. } => {
                let before = inc.roles.clone();
                handoff::fold(inc, &ev.body, &ev.actor, at);
                for (role, person) in &inc.roles {
                    if before.get(role) != Some(person) {
                        inc.role_since.insert(role.clone(), at);
                    }
                }
                inc.role_since.retain(|r, _| inc.roles.contains_key(r));
            }
            EventBody::Note { .. } => {}
            EventBody::UpdatePosted { channel, .. } => {
                inc.last_update.insert(*channel, at);
                inc.first_update.entry(*channel).or_insert(at);
            }
            EventBody::Escalated { to, reason, rule } => {
                inc.escalations.push(EscalationRecord {
                    at,
                    to: to.clone(),
                    reason: reason.clone(),
                    rule: rule.clone(),
                });
                inc.calls.push(Call {
                    who: to.clone(),
                    at,
                    acted: BTreeMap::new(),
                });
            }
            EventBody::Paged { who, .. } => {
                inc.pages += 1;
                inc.calls.push(Call {
                    who: who.clone(),
                    at,
                    acted: BTreeMap::new(),
                });
            }
            EventBody::ImpactUpdated { impact } => inc.impact = (**impact).clone(),
            EventBody::ChecklistItemSet {
                checklist,
                item,
                done,
                waived,
            } => {
                let path = format!("{checklist}/{item}");
                let key = (checklist.clone(), item.clone());
                if *done {
                    inc.checked.insert(key);
                    inc.ticked_at.insert(path.clone(), at);
                } else {
                    inc.checked.remove(&key);
                    inc.ticked_at.remove(&path);
                }
                match waived {
                    Some(r) if *done => inc.waived.insert(path, r.clone()),
                    _ => inc.waived.remove(&path),
                };
            }
            EventBody::ActionItemAdded(a) => inc.actions.push(ActionItem {
                id: a.action,
                text: a.text.clone(),
                owner: a.owner.clone(),
                due: a.due,
                state: ActionState::Open,
                added_at: at,
                priority: a.priority.clone(),
                changed_at: Some(at),
            }),
            EventBody::ActionItemUpdated {
                action,
                owner,
                due,
                state,
                priority,
            } => {
                if let Some(a) = inc.actions.iter_mut().find(|a| a.id == *action) {
                    a.state = *state;
                    a.changed_at = Some(at);
                    if priority.is_some() {
                        a.priority.clone_from(priority);
                    }
                    if owner.is_some() {
                        a.owner.clone_from(owner);
                    }
                    if due.is_some() {
                        a.due = *due;
                    }
                }
            }
            EventBody::UpdateOverdue { channel, due_at } => {
                inc.overdue_marked.insert((*channel, *due_at));
            }
            EventBody::ReviewCompleted { .. } => inc.review = Some(stamp()),
            EventBody::ReviewFieldSet { field, value } => {
                if value.is_empty() {
                    inc.review_fields.remove(field);
                } else {
                    inc.review_fields.insert(field.clone(), value.clone());
                }
            }
            EventBody::DeliveryAttempted(d) => {
                let entry = inc
                    .deliveries
                    .entry(d.delivery)
                    .or_insert_with(|| Delivery {
                        id: d.delivery,
                        label: d.label(),
                        what: d.what.clone(),
                        attempts: 0,
                        outcome: d.outcome,
                        detail: String::new(),
                        at,
                        retry_at: None,
                        retry_requested: false,
                    });
                entry.attempts = entry.attempts.max(d.attempt);
                entry.outcome = d.outcome;
                entry.detail.clone_from(&d.detail);
                entry.at = at;
                entry.retry_at = d.retry_at;
                entry.retry_requested = false;
            }
            EventBody::DeliveryRetryRequested { delivery } => {
                if let Some(d) = inc.deliveries.get_mut(delivery) {
                    d.retry_requested = true;
                }
            }
            // Folded by `alert::fold` above.
            EventBody::AlertTriaged { .. }
            | EventBody::ReportReceived(_)
            | EventBody::AlertsFiring { .. }
            | EventBody::AlertsResolved { .. }
            | EventBody::TriageDismissed { .. } => {}
        }
    }

    /// Open incidents first by severity rank is the caller's job (it needs the policy);
    /// this yields them in number order.
    pub fn open(&self) -> impl Iterator<Item = &Incident> {
        self.order
            .iter()
            .filter_map(|id| self.incidents.get(id))
            .filter(|i| i.closed.is_none())
    }
}

fn set_status(inc: &mut Incident, to: Status, at: DateTime<Utc>) {
    if to == Status::Monitoring {
        if inc.status != Status::Monitoring {
            inc.monitoring_since = Some(at);
        }
    } else {
        inc.monitoring_since = None;
    }
    inc.status = to;
}
