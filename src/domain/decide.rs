//! `decide`: validates a command against the projection and the policy and
//! returns the events to append, or a precise reason why not.

use super::command::{Action, Command};
use super::event::{Event, EventBody, Impact, NewActionItem, Status};
use super::policy::Policy;
use super::sanitize::{sanitize, sanitize_line};
use super::state::{Incident, World};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest note or update text, in characters.
pub const MAX_TEXT: usize = 16_000;
/// Longest name of a person (a role holder, someone paged), in characters.
pub const MAX_PERSON: usize = 100;

/// Why a command was refused. `kind()` maps it onto an HTTP status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("unknown incident {0:?}")]
    UnknownIncident(String),
    #[error("unknown triage item {0:?}")]
    UnknownTriage(String),
    #[error("this command needs an incident (field `incident`)")]
    MissingIncident,
    #[error("{key} is closed; reopen it first")]
    Closed { key: String },
    #[error("{key} is resolved; reopen it first")]
    Resolved { key: String },
    #[error("{key} was already acknowledged by {by}")]
    AlreadyAcknowledged { key: String, by: String },
    #[error("{key} is already contained")]
    AlreadyContained { key: String },
    #[error("{key} is not resolved, so it cannot be {what}")]
    NotResolved { key: String, what: &'static str },
    #[error("unknown severity {given:?}; the policy defines {known}")]
    UnknownSeverity { given: String, known: String },
    #[error("unknown role {given:?}; the policy defines {known}")]
    UnknownRole { given: String, known: String },
    #[error("unknown incident kind {given:?}; the policy defines {known}")]
    UnknownKind { given: String, known: String },
    #[error("unknown checklist item {checklist}/{item}")]
    UnknownChecklistItem { checklist: String, item: String },
    #[error("unknown action item {0}")]
    UnknownActionItem(Uuid),
    #[error("unknown review field {given:?}; the review template's fields to write are {known}")]
    UnknownReviewField { given: String, known: String },
    #[error("review field {field}: {message}")]
    BadReviewValue { field: String, message: String },
    #[error("unknown action item priority {given:?}; the policy's priorities are {known}")]
    UnknownPriority { given: String, known: String },
    #[error("nobody holds the role {0}")]
    RoleVacant(String),
    #[error("{person} already holds {role}")]
    AlreadyHolds { role: String, person: String },
    #[error("nobody has been offered {role}")]
    NoOffer { role: String },
    #[error("{role} was offered to {to}; only {to} can accept or decline it")]
    OfferedToOther { role: String, to: String },
    #[error("{key} is already {what}")]
    NoChange { key: String, what: String },
    #[error("status `resolved` is set by resolving the incident, not by a status change")]
    ResolveViaStatus,
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is {len} characters; the limit is {max}")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error(
        "{key} has been monitoring for {elapsed}; the policy's stability window is {window} (resolve with force to override)"
    )]
    StabilityWindow {
        key: String,
        elapsed: String,
        window: String,
    },
    #[error(
        "{key} cannot be resolved yet, resolution criteria unmet: {unmet} (override: resolve with force and a reason, which is recorded)"
    )]
    CriteriaUnmet { key: String, unmet: String },
    #[error("{key} is not done: {missing}")]
    NotDone { key: String, missing: String },
    #[error("no escalation target: give `to`, or define escalation_path in the policy")]
    NoEscalationTarget,
    #[error("a command with id {0} was already used for a different incident")]
    IdReused(Uuid),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{field}: {message}")]
    BadTime {
        field: &'static str,
        message: String,
    },
    #[error("{key} has no delivery {delivery}")]
    UnknownDelivery { key: String, delivery: Uuid },
}

/// How a [`DomainError`] maps onto HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// 404
    NotFound,
    /// 409: the incident's state does not allow it now.
    Conflict,
    /// 422: the command itself is wrong for this policy.
    Unprocessable,
}

impl DomainError {
    pub fn kind(&self) -> ErrorKind {
        use DomainError::*;
        match self {
            UnknownIncident(_) | UnknownDelivery { .. } | UnknownTriage(_) => ErrorKind::NotFound,
            Closed { .. }
            | Resolved { .. }
            | AlreadyAcknowledged { .. }
            | AlreadyContained { .. }
            | NotResolved { .. }
            | RoleVacant(_)
            | AlreadyHolds { .. }
            | NoOffer { .. }
            | OfferedToOther { .. }
            | NoChange { .. }
            | StabilityWindow { .. }
            | CriteriaUnmet { .. }
            | NotDone { .. }
            | IdReused(_) => ErrorKind::Conflict,
            _ => ErrorKind::Unprocessable,
        }
    }
}

/// Validates `cmd`, issued by `actor` at `now`, and returns the events it produces.
///
/// Event ids are derived from the command id (the first event takes it as is),
/// so retrying a command yields the very same events. Text is sanitised here, so
/// whatever reaches the log is safe to print.
pub fn decide(
    world: &World,
    policy: &Policy,
    cmd: &Command,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, DomainError> {
    let occurred_at = cmd
        .occurred_at
        .map_or(now, |t| t.clamp(now - chrono::Duration::hours(24), now));
    let mut out = Out {
        cmd_id: cmd.id,
        actor: sanitize_line(actor),
        occurred_at,
        events: Vec::new(),
        incident: cmd.id,
    };
    if let Action::Declare {
        title,
        severity,
        kind,
        impact,
        commander,
    } = &cmd.action
    {
        if world.get(&cmd.id).is_some() {
            return Err(DomainError::IdReused(cmd.id));
        }
        let title = title_text(title)?;
        let sev = known_severity(policy, severity)?;
        let kind = match kind {
            Some(k) => known_kind(policy, k)?,
            None => policy
                .kinds
                .first()
                .cloned()
                .unwrap_or_else(|| "availability".into()),
        };
        out.push(EventBody::Declared {
            title,
            severity: sev,
            kind,
            impact: Box::new(clean_impact(impact.clone().unwrap_or_default())),
        });
        let ic = commander
            .as_deref()
            .map(person)
            .transpose()?
            .unwrap_or_else(|| out.actor.clone());
        out.push(EventBody::RoleAssigned {
            role: "ic".into(),
            person: ic,
        });
        return Ok(out.events);
    }

    if let Action::Report { .. } = &cmd.action {
        return super::alert::triage::report(world, policy, cmd, out);
    }

    let reference = cmd
        .incident
        .as_deref()
        .ok_or(DomainError::MissingIncident)?;
    if let Action::DeclareTriaged { .. } | Action::DismissTriaged { .. } = &cmd.action {
        return super::alert::triage::decide(world, policy, cmd, reference, out);
    }
    let inc = world
        .resolve(reference)
        .ok_or_else(|| DomainError::UnknownIncident(sanitize_line(reference)))?;
    out.incident = inc.id;
    let key = inc.key();

    // Everything but reopen, the review and its follow-up action items (tracked to
    // completion after closing: 002 §8.4, 004 "Follow-up") needs an incident that is not closed.
    let allowed_when_closed = matches!(
        cmd.action,
        Action::Reopen { .. }
            | Action::UpdateActionItem { .. }
            | Action::AddActionItem { .. }
            | Action::RetryDelivery { .. }
            | Action::CompleteReview { .. }
            | Action::SetReviewField { .. }
    );
    if inc.closed.is_some() && !allowed_when_closed {
        return Err(DomainError::Closed { key });
    }
    let resolved = inc.resolved.is_some();
    let live_only = || -> Result<(), DomainError> {
        if resolved {
            Err(DomainError::Resolved { key: key.clone() })
        } else {
            Ok(())
        }
    };

    match &cmd.action {
        Action::Declare { .. }
        | Action::Report { .. }
        | Action::DeclareTriaged { .. }
        | Action::DismissTriaged { .. } => {}
        Action::RetryDelivery { delivery } => {
            let Some(d) = inc.deliveries.get(delivery) else {
                return Err(DomainError::UnknownDelivery {
                    key,
                    delivery: *delivery,
                });
            };
            if !d.failing() {
                return Err(DomainError::NoChange {
                    key,
                    what: format!("delivered ({})", d.label),
                });
            }
            if d.retry_requested {
                return Err(DomainError::NoChange {
                    key,
                    what: format!("queued for a retry ({})", d.label),
                });
            }
            out.push(EventBody::DeliveryRetryRequested {
                delivery: *delivery,
            });
        }
        Action::Acknowledge => {
            live_only()?;
            if let Some(s) = &inc.acknowledged {
                return Err(DomainError::AlreadyAcknowledged {
                    key,
                    by: s.by.clone(),
                });
            }
            out.push(EventBody::Acknowledged);
        }
        Action::SetSeverity { severity, reason } => {
            live_only()?;
            let to = known_severity(policy, severity)?;
            if to == inc.severity {
                return Err(DomainError::NoChange {
                    key,
                    what: format!("severity {to}"),
                });
            }
            let reason = required_text("reason", reason)?;
            let upgrade = is_upgrade(policy, inc, &to);
            out.push(EventBody::SeverityChanged {
                from: inc.severity.clone(),
                to,
                reason,
                upgrade,
            });
        }
        Action::SetStatus { status } => {
            live_only()?;
            if *status == Status::Resolved {
                return Err(DomainError::ResolveViaStatus);
            }
            if *status == inc.status {
                return Err(DomainError::NoChange {
                    key,
                    what: format!("{status}"),
                });
            }
            out.push(EventBody::StatusChanged {
                from: inc.status,
                to: *status,
            });
        }
        Action::RecordDetection {
            impact_started,
            detected_at,
            method,
        } => {
            if impact_started.is_none() && detected_at.is_none() && method.is_none() {
                return Err(DomainError::Empty {
                    field: "impact_started, detected_at or method",
                });
            }
            check_detection(inc, *impact_started, *detected_at, now)?;
            out.push(EventBody::DetectionRecorded {
                impact_started: *impact_started,
                detected_at: *detected_at,
                method: *method,
            });
        }
        Action::SetKind { kind, reason } => {
            live_only()?;
            let to = known_kind(policy, kind)?;
            if to == inc.kind {
                return Err(DomainError::NoChange {
                    key,
                    what: format!("kind {to}"),
                });
            }
            out.push(EventBody::KindChanged {
                from: inc.kind.clone(),
                to,
                reason: required_text("reason", reason)?,
            });
        }
        Action::Contain { note } => {
            live_only()?;
            if inc.contained.is_some() {
                return Err(DomainError::AlreadyContained { key });
            }
            out.push(EventBody::Contained {
                note: optional_text("note", note)?,
            });
        }
        Action::Resolve {
            summary,
            force,
            reason,
        } => {
            live_only()?;
            let reason = optional_text("reason", reason)?;
            // 002 §7.4: resolved when every criterion holds and the IC declares it;
            // otherwise only by an explicit override, recorded with who and why.
            let mut unmet = Vec::new();
            if policy.resolution.gate {
                unmet = super::checklist::unmet_criteria(inc, policy, now);
            }
            // A vacant role declares nothing: then anyone may resolve.
            if let Some(role) = policy.resolution.by_role.as_deref()
                && let Some(holder) = inc.roles.get(role)
                && *holder != out.actor
            {
                let name = policy.role(role).map_or(role, |r| r.name.as_str());
                unmet.push(format!("{name} declares resolved ({holder} holds {role})"));
            }
            if !unmet.is_empty() && (!force || reason.is_empty()) {
                return Err(DomainError::CriteriaUnmet {
                    key,
                    unmet: unmet.join("; "),
                });
            }
            let mut forced = false;
            if let Some(window) = policy.resolution.stability_window {
                let stable_since = inc
                    .monitoring_since
                    .filter(|_| inc.status == Status::Monitoring);
                let ok = stable_since.is_some_and(|since| window.after(since) <= now);
                if !ok && !force {
                    let elapsed = stable_since
                        .map(|s| super::duration::humanize(now - s))
                        .unwrap_or_else(|| "no time (status is not monitoring)".into());
                    return Err(DomainError::StabilityWindow {
                        key,
                        elapsed,
                        window: window.to_string(),
                    });
                }
                forced = !ok;
            }
            out.push(EventBody::Resolved {
                summary: optional_text("summary", summary)?,
                forced,
                override_reason: if unmet.is_empty() {
                    String::new()
                } else {
                    reason
                },
                unmet,
            });
        }
        Action::Reopen { reason } => {
            if !resolved {
                return Err(DomainError::NotResolved {
                    key,
                    what: "reopened",
                });
            }
            out.push(EventBody::Reopened {
                reason: required_text("reason", reason)?,
            });
        }
        Action::Close => {
            if !resolved {
                return Err(DomainError::NotResolved {
                    key,
                    what: "closed",
                });
            }
            let missing = closure_missing(inc, policy, now);
            if !missing.is_empty() {
                return Err(DomainError::NotDone {
                    key,
                    missing: missing.join("; "),
                });
            }
            out.push(EventBody::Closed);
        }
        Action::AssignRole {
            role,
            person: who,
            note,
        } => {
            let role = known_role(policy, role)?;
            let who = person(who)?;
            super::handoff::assign(inc, &mut out, role, who, note)?;
        }
        Action::AcceptRole { role } => {
            let role = known_role(policy, role)?;
            super::handoff::answer(inc, &mut out, role, true, "")?;
        }
        Action::DeclineRole { role, reason } => {
            let role = known_role(policy, role)?;
            super::handoff::answer(inc, &mut out, role, false, reason)?;
        }
        Action::ReleaseRole { role } => {
            let role = known_role(policy, role)?;
            let holder = inc
                .roles
                .get(&role)
                .ok_or_else(|| DomainError::RoleVacant(role.clone()))?;
            out.push(EventBody::RoleReleased {
                role,
                person: holder.clone(),
            });
        }
        Action::Note { kind, text } => {
            out.push(EventBody::Note {
                kind: *kind,
                text: required_text("text", text)?,
            });
        }
        Action::PostUpdate {
            channel,
            state,
            text,
        } => {
            let text = required_text("text", text)?;
            if let Some(st) = state {
                if *st == Status::Resolved && !resolved {
                    return Err(DomainError::ResolveViaStatus);
                }
                if *st != inc.status && *st != Status::Resolved {
                    live_only()?;
                    out.push(EventBody::StatusChanged {
                        from: inc.status,
                        to: *st,
                    });
                }
            }
            out.push(EventBody::UpdatePosted {
                channel: *channel,
                state: *state,
                text,
            });
        }
        Action::Escalate { to, reason } => {
            live_only()?;
            let to = match to {
                Some(t) => person(t)?,
                None => next_escalation_step(inc, policy)
                    .ok_or(DomainError::NoEscalationTarget)?
                    .to_string(),
            };
            out.push(EventBody::Escalated {
                to,
                reason: required_text("reason", reason)?,
                rule: None,
            });
        }
        Action::Page { who, reason } => {
            live_only()?;
            out.push(EventBody::Paged {
                who: person(who)?,
                reason: required_text("reason", reason)?,
            });
        }
        Action::UpdateImpact { impact } => {
            out.push(EventBody::ImpactUpdated {
                impact: Box::new(clean_impact(impact.clone())),
            });
        }
        Action::SetChecklistItem {
            checklist,
            item,
            done,
            waive,
        } => {
            let known = policy
                .checklist(checklist)
                .is_some_and(|c| c.items.iter().any(|i| &i.id == item));
            if !known {
                return Err(DomainError::UnknownChecklistItem {
                    checklist: sanitize_line(checklist),
                    item: sanitize_line(item),
                });
            }
            let waived = match waive {
                None => None,
                Some(_) if !*done => {
                    return Err(DomainError::Invalid {
                        field: "waive",
                        message: "an item is waived, or marked not done, not both".into(),
                    });
                }
                Some(r) => Some(required_text("waive", r)?),
            };
            if inc.is_checked(checklist, item) == *done {
                return Err(DomainError::NoChange {
                    key,
                    what: format!(
                        "{} {checklist}/{item}",
                        if *done { "done:" } else { "not done:" }
                    ),
                });
            }
            out.push(EventBody::ChecklistItemSet {
                checklist: checklist.clone(),
                item: item.clone(),
                done: *done,
                waived,
            });
        }
        Action::AddActionItem {
            text,
            owner,
            due,
            priority,
        } => {
            out.push(EventBody::ActionItemAdded(Box::new(NewActionItem {
                action: cmd.id,
                text: required_text("text", text)?,
                owner: owner.as_deref().map(person).transpose()?,
                due: *due,
                priority: known_priority(policy, priority.as_deref())?,
            })));
        }
        Action::UpdateActionItem {
            action,
            state,
            owner,
            due,
            priority,
        } => {
            if !inc.actions.iter().any(|a| a.id == *action) {
                return Err(DomainError::UnknownActionItem(*action));
            }
            out.push(EventBody::ActionItemUpdated {
                action: *action,
                state: *state,
                owner: owner.as_deref().map(person).transpose()?,
                due: *due,
                priority: known_priority(policy, priority.as_deref())?,
            });
        }
        Action::SetReviewField { field, value } => {
            super::review::fields::set(inc, policy, &mut out, field, value)?;
        }
        Action::CompleteReview { summary } => {
            if !resolved {
                return Err(DomainError::NotResolved {
                    key,
                    what: "reviewed",
                });
            }
            out.push(EventBody::ReviewCompleted {
                summary: optional_text("summary", summary)?,
            });
        }
    }
    Ok(out.events)
}

/// Whether moving `inc` to severity `to` restarts its SLA clocks: `to` is
/// stricter than the severity the clocks now run under. A raise back after a
/// downgrade keeps the original origin (and targets), so lowering and raising
/// again never gives back time.
pub fn is_upgrade(policy: &Policy, inc: &Incident, to: &str) -> bool {
    let peak = inc.sla_severity.as_deref().unwrap_or(&inc.severity);
    policy.severity_rank(to) < policy.severity_rank(&inc.severity)
        && policy.severity_rank(to) < policy.severity_rank(peak)
}

/// Impact start ≤ detection ≤ now, and the impact starts no later than the
/// declaration; a part not given is taken from what was recorded before.
fn check_detection(
    inc: &Incident,
    impact_started: Option<DateTime<Utc>>,
    detected_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let t = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let bad = |field, message| Err(DomainError::BadTime { field, message });
    if let Some(s) = impact_started
        && s > inc.declared.at
    {
        return bad(
            "impact_started",
            format!(
                "{} is after the declaration ({}); the impact starts before an incident is declared",
                t(s),
                t(inc.declared.at)
            ),
        );
    }
    if let Some(d) = detected_at
        && d > now
    {
        return bad(
            "detected_at",
            format!("{} is in the future (now {})", t(d), t(now)),
        );
    }
    let start = impact_started.or(inc.impact_started);
    let detected = detected_at.or(inc.detected);
    if let (Some(s), Some(d)) = (start, detected)
        && s > d
    {
        let field = if impact_started.is_some() {
            "impact_started"
        } else {
            "detected_at"
        };
        return bad(
            field,
            format!("the impact start {} is after the detection {}", t(s), t(d)),
        );
    }
    Ok(())
}

/// What the definition of done still lacks, one entry per unmet condition.
pub fn closure_missing(inc: &Incident, policy: &Policy, now: DateTime<Utc>) -> Vec<String> {
    let mut missing = Vec::new();
    if inc.resolved.is_none() {
        missing.push("not resolved".to_string());
    }
    if policy.closure.require_contained && inc.contained.is_none() {
        missing.push("containment not marked".to_string());
    }
    for id in &policy.closure.require_checklists {
        if let Some(list) = policy.checklist(id) {
            let open: Vec<&str> = list
                .items
                .iter()
                .filter(|i| super::checklist::item_done(inc, policy, id, i, now).is_none())
                .map(|i| i.text.as_str())
                .collect();
            if !open.is_empty() {
                missing.push(format!("{} unticked: {}", list.title, open.join(", ")));
            }
        }
    }
    let review_required = policy
        .severity(&inc.severity)
        .is_some_and(|s| s.review.required);
    if policy.closure.require_review && review_required && inc.review.is_none() {
        missing.push("post-incident review not completed".to_string());
    }
    missing
}

/// Where a manual escalation goes when nobody names a target: escalation goes
/// up, never down. The step the escalation clock shows (the next automatic
/// rule's target) when it is not at or below the highest step already reached;
/// otherwise the rung of the escalation path just above the highest reached.
/// `None` once the top of the path has been reached and no clock runs.
pub fn next_escalation_step<'p>(inc: &Incident, policy: &'p Policy) -> Option<&'p str> {
    let highest = highest_escalation_step(inc, policy);
    let above = |to: &str| match (path_rank(policy, to), highest) {
        (Some(rank), Some(top)) => rank > top,
        _ => true,
    };
    let reached = |to: &str| {
        inc.escalations
            .iter()
            .any(|e| e.to.eq_ignore_ascii_case(to))
    };
    if let Some((rule, _)) = super::clocks::next_escalation(inc, policy)
        && above(&rule.to)
        && !reached(&rule.to)
    {
        return Some(rule.to.as_str());
    }
    let from = highest.map_or(0, |top| top + 1);
    policy.escalation_path.get(from).map(String::as_str)
}

/// The index in the escalation path of the highest step this incident has
/// been escalated to (by hand or by a rule), if any.
pub fn highest_escalation_step(inc: &Incident, policy: &Policy) -> Option<usize> {
    inc.escalations
        .iter()
        .filter_map(|e| path_rank(policy, &e.to))
        .max()
}

/// Where `to` stands on the escalation path (names compared without case).
fn path_rank(policy: &Policy, to: &str) -> Option<usize> {
    policy
        .escalation_path
        .iter()
        .position(|step| step.eq_ignore_ascii_case(to.trim()))
}

pub(crate) struct Out {
    pub(crate) cmd_id: Uuid,
    pub(crate) actor: String,
    pub(crate) occurred_at: DateTime<Utc>,
    pub(crate) incident: Uuid,
    pub(crate) events: Vec<Event>,
}

impl Out {
    pub(crate) fn push(&mut self, body: EventBody) {
        let id = event_id(self.cmd_id, self.events.len());
        self.events.push(Event {
            id,
            incident: self.incident,
            actor: self.actor.as_str().into(),
            occurred_at: self.occurred_at,
            body,
        });
    }
}

/// The id of the `index`-th event a command produces: the command id itself,
/// then name-based UUIDs derived from it, so retries produce identical events.
pub fn event_id(command: Uuid, index: usize) -> Uuid {
    if index == 0 {
        command
    } else {
        Uuid::new_v5(&command, index.to_string().as_bytes())
    }
}

pub(crate) fn known_severity(policy: &Policy, given: &str) -> Result<String, DomainError> {
    policy
        .severity(given.trim())
        .map(|s| s.id.clone())
        .ok_or_else(|| DomainError::UnknownSeverity {
            given: sanitize_line(given),
            known: policy
                .severities
                .iter()
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

fn known_role(policy: &Policy, given: &str) -> Result<String, DomainError> {
    policy
        .role(given.trim())
        .map(|r| r.id.clone())
        .ok_or_else(|| DomainError::UnknownRole {
            given: sanitize_line(given),
            known: policy
                .roles
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// An action item's priority in the policy's spelling; any short word when
/// the policy lists no priorities; `None` (or blank) is no priority.
fn known_priority(policy: &Policy, given: Option<&str>) -> Result<Option<String>, DomainError> {
    let Some(given) = given.map(str::trim).filter(|g| !g.is_empty()) else {
        return Ok(None);
    };
    let known = &policy.review.action_priorities;
    if known.is_empty() {
        check_len("priority", given, 40)?;
        return Ok(Some(sanitize_line(given)));
    }
    known
        .iter()
        .find(|p| p.eq_ignore_ascii_case(given))
        .cloned()
        .map(Some)
        .ok_or_else(|| DomainError::UnknownPriority {
            given: sanitize_line(given),
            known: known.join(", "),
        })
}

fn known_kind(policy: &Policy, given: &str) -> Result<String, DomainError> {
    policy
        .kinds
        .iter()
        .find(|k| k.eq_ignore_ascii_case(given.trim()))
        .cloned()
        .ok_or_else(|| DomainError::UnknownKind {
            given: sanitize_line(given),
            known: policy.kinds.join(", "),
        })
}

// Lengths are checked on the text as sent (the limit the API document
// states), and again after cleaning: text that sanitising shortens is no way
// around the limit, and the document and the server agree on every input.
pub(crate) fn title_text(title: &str) -> Result<String, DomainError> {
    check_len("title", title, MAX_TITLE)?;
    let t = sanitize_line(title);
    let t = t.trim();
    if t.is_empty() {
        return Err(DomainError::Empty { field: "title" });
    }
    check_len("title", t, MAX_TITLE)?;
    Ok(t.to_string())
}

/// A person's handle: one line, `@` prefix dropped.
fn person(p: &str) -> Result<String, DomainError> {
    check_len("person", p, MAX_PERSON)?;
    let p = sanitize_line(p);
    let p = p.trim().trim_start_matches('@').trim();
    if p.is_empty() {
        return Err(DomainError::Empty { field: "person" });
    }
    check_len("person", p, MAX_PERSON)?;
    Ok(p.to_string())
}

fn required_text(field: &'static str, text: &str) -> Result<String, DomainError> {
    let t = optional_text(field, text)?;
    if t.is_empty() {
        return Err(DomainError::Empty { field });
    }
    Ok(t)
}

pub(crate) fn optional_text(field: &'static str, text: &str) -> Result<String, DomainError> {
    check_len(field, text, MAX_TEXT)?;
    let t = sanitize(text);
    let t = t.trim();
    check_len(field, t, MAX_TEXT)?;
    Ok(t.to_string())
}

fn check_len(field: &'static str, t: &str, max: usize) -> Result<(), DomainError> {
    let len = t.chars().count();
    if len > max {
        return Err(DomainError::TooLong { field, len, max });
    }
    Ok(())
}

fn clean_impact(i: Impact) -> Impact {
    Impact {
        summary: sanitize(&i.summary).trim().to_string(),
        services: i
            .services
            .iter()
            .map(|s| sanitize_line(s).trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        customers: sanitize_line(&i.customers).trim().to_string(),
        data_exposure: i.data_exposure,
        bridge: sanitize_line(&i.bridge).trim().to_string(),
    }
}

#[cfg(test)]
mod tests;
