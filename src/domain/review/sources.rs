//! What the record fills a template field with (`from = "…"`, one of
//! [`super::template::SOURCES`]). Each source returns `None` when nothing was
//! recorded, so the field shows the `[to be completed]` prompt instead of
//! something invented.

use crate::domain::clocks::{ClockKind, ClockState, clocks};
use crate::domain::duration::humanize;
use crate::domain::event::{Channel, Event, EventBody, NoteKind};
use crate::domain::policy::Policy;
use crate::domain::state::Incident;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

use super::TODO;

/// A field's content before layout: the renderer writes it as a line, a cell or a block.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// One line.
    Inline(String),
    /// Free text, possibly several paragraphs.
    Text(String),
    /// Bullet items, and what to say when there are none (`None`: the prompt).
    List {
        items: Vec<String>,
        empty: Option<String>,
    },
    Numbered(Vec<String>),
    /// A table, and a paragraph after it (e.g. missed update deadlines).
    Table {
        head: Vec<String>,
        rows: Vec<Vec<String>>,
        after: String,
    },
}

/// What every source reads: the incident, its events in occurrence order,
/// the policy and the moment the review is rendered.
pub struct Ctx<'a> {
    pub inc: &'a Incident,
    pub events: Vec<&'a Event>,
    pub policy: &'a Policy,
    pub now: DateTime<Utc>,
    outcomes: Vec<Outcome>,
}

/// One judged target, for SLA results and "went well / could be improved".
struct Outcome {
    kind: ClockKind,
    label: String,
    target: String,
    actual: Option<chrono::Duration>,
    state: ClockState,
    overdue_secs: i64,
}

impl<'a> Ctx<'a> {
    pub fn new(
        inc: &'a Incident,
        events: &[&'a Event],
        policy: &'a Policy,
        now: DateTime<Utc>,
    ) -> Ctx<'a> {
        let mut events: Vec<&Event> = events
            .iter()
            .copied()
            .filter(|e| e.incident == inc.id)
            .collect();
        // Offline authors and the scheduler's backdated escalations arrive late: order by when it happened.
        events.sort_by_key(|e| e.occurred_at);
        let sev = policy.severity(&inc.severity);
        let outcomes = clocks(inc, policy, now)
            .into_iter()
            .filter_map(|c| {
                let target = match (c.kind, sev) {
                    (ClockKind::Acknowledge, Some(s)) => s.acknowledge,
                    (ClockKind::Contain, Some(s)) => s.contain,
                    (ClockKind::Resolve, Some(s)) => s.resolve,
                    (ClockKind::Review, Some(s)) => s.review.due,
                    _ => return None,
                };
                Some(Outcome {
                    kind: c.kind,
                    label: c.label.clone(),
                    target: target.map_or_else(|| "-".into(), |t| t.to_string()),
                    actual: c.done_at.map(|d| d - c.started_at),
                    state: c.state,
                    overdue_secs: -c.remaining_secs,
                })
            })
            .collect();
        Ctx {
            inc,
            events,
            policy,
            now,
            outcomes,
        }
    }
}

pub fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// One list line: line breaks become spaces so the item stays one bullet.
pub fn line(s: &str) -> String {
    s.replace('\n', " ")
}

fn inline(s: impl Into<String>) -> Option<Value> {
    Some(Value::Inline(s.into()))
}

fn list(items: Vec<String>, empty: Option<&str>) -> Option<Value> {
    if items.is_empty() && empty.is_none() {
        return None;
    }
    Some(Value::List {
        items,
        empty: empty.map(str::to_string),
    })
}

/// The record's value for `source`; `prompt` completes the summary's draft.
pub fn fill(source: &str, prompt: &str, c: &Ctx<'_>) -> Option<Value> {
    let inc = c.inc;
    let i = &inc.impact;
    match source {
        "incident_id" => inline(format!("{} ({})", inc.key(), inc.id)),
        "title" => inline(line(&inc.title)),
        "date" => inline(inc.declared.at.format("%Y-%m-%d").to_string()),
        "duration" => inline(duration(inc, c.now)),
        "start_end" => {
            let start = match inc.impact_started {
                Some(s) => format!("{} (impact start)", ts(s)),
                None => format!("{} (declared)", ts(inc.declared.at)),
            };
            let end = inc
                .resolved
                .as_ref()
                .map_or_else(|| "ongoing".to_string(), |r| ts(r.at));
            inline(format!("{start} / {end}"))
        }
        "impact_start" => inc.impact_started.map(|t| Value::Inline(ts(t))),
        "detection" => {
            let method = inc
                .detection_method()
                .map_or_else(|| TODO.to_string(), |m| m.label().to_string());
            let ttd = inc
                .time_to_detect()
                .map_or_else(|| TODO.to_string(), humanize);
            inline(format!(
                "{} by {method} (time to detect: {ttd})",
                ts(inc.detected_at())
            ))
        }
        "detection_method" => inc.detection_method().map(|m| {
            let ttd = inc
                .time_to_detect()
                .map(|d| format!(", time to detect {}", humanize(d)))
                .unwrap_or_default();
            Value::Inline(format!(
                "{}, detected {}{ttd}",
                m.label(),
                ts(inc.detected_at())
            ))
        }),
        "severity" => inline(match c.policy.severity(&inc.severity) {
            Some(s) if s.name != s.label => format!("{} ({})", s.label, s.name),
            Some(s) => s.label.clone(),
            None => inc.severity.clone(),
        }),
        "kind" => inline(inc.kind.clone()),
        "status" => inline(if inc.closed.is_some() {
            "closed".to_string()
        } else if inc.resolved.is_some() {
            "resolved".to_string()
        } else {
            format!("{} (ongoing)", inc.status)
        }),
        "author" => {
            let ic = c
                .policy
                .role("ic")
                .map_or("Incident Commander", |r| &r.name);
            let who = inc.roles.get("ic").unwrap_or(&inc.declared.by);
            inline(format!("{who} ({ic})"))
        }
        "review_date" => inc
            .review
            .as_ref()
            .map(|r| Value::Inline(r.at.format("%Y-%m-%d").to_string())),
        "pir" => c.policy.severity(&inc.severity).map(|s| {
            Value::Inline(match (s.review.required, s.review.due, &inc.resolved) {
                (false, _, _) => "not required for this severity".to_string(),
                (true, Some(due), Some(r)) => format!(
                    "required, due {} ({due} after resolution)",
                    ts(due.after(r.at))
                ),
                (true, Some(due), None) => format!("required, due {due} after resolution"),
                (true, None, _) => "required".to_string(),
            })
        }),
        "summary" => summary(c, prompt),
        "impact_summary" => Some(i.summary.trim())
            .filter(|s| !s.is_empty())
            .map(|s| Value::Text(s.to_string())),
        "services" => Some(i.services.join(", "))
            .filter(|s| !s.is_empty())
            .map(Value::Inline),
        "customers" => Some(i.customers.trim())
            .filter(|s| !s.is_empty())
            .map(|s| Value::Inline(s.to_string())),
        "customer_impact" => {
            let mut parts = Vec::new();
            if !i.summary.trim().is_empty() {
                parts.push(line(i.summary.trim()));
            }
            if !i.customers.trim().is_empty() {
                parts.push(format!("customers: {}", i.customers.trim()));
            }
            if !i.services.is_empty() {
                parts.push(format!("services: {}", i.services.join(", ")));
            }
            if i.data_exposure {
                parts.push("customer data exposed".into());
            }
            Some(parts.join("; "))
                .filter(|s| !s.is_empty())
                .map(Value::Inline)
        }
        "data_exposure" => inline(if i.data_exposure {
            "YES: data was exposed"
        } else {
            "none recorded"
        }),
        "downtime" => inline(match &inc.resolved {
            Some(r) => format!(
                "{} from declaration to resolution",
                humanize(r.at - inc.declared.at)
            ),
            None => format!(
                "ongoing, {} since declaration",
                humanize(c.now - inc.declared.at)
            ),
        }),
        "timeline" => Some(Value::Table {
            head: vec!["Time (UTC)".into(), "Actor".into(), "Event".into()],
            rows: c
                .events
                .iter()
                .map(|e| {
                    vec![
                        e.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                        e.actor.to_string(),
                        e.body.describe(),
                    ]
                })
                .collect(),
            after: String::new(),
        }),
        "decisions" => list(
            notes(c, NoteKind::Decision),
            Some("No decisions were recorded."),
        ),
        "escalations" => list(
            escalations(c),
            Some("No escalations, pages or severity changes."),
        ),
        "clock_results" => Some(clock_results(c)),
        "observations" => list(notes(c, NoteKind::Observation), None),
        "actions_taken" => list(actions_taken(c, None), None),
        "containment" => list(
            actions_taken(c, Some(inc.contained.as_ref().map_or(c.now, |s| s.at))),
            None,
        ),
        "action_items" => Some(action_items(c)),
        "owners_due" => list(
            inc.actions
                .iter()
                .map(|a| {
                    format!(
                        "{}: {}, due {} ({})",
                        line(&a.text),
                        a.owner.as_deref().unwrap_or(TODO),
                        a.due
                            .map_or_else(|| TODO.to_string(), |d| d.format("%Y-%m-%d").to_string()),
                        a.state.as_str()
                    )
                })
                .collect(),
            None,
        ),
        "went_well" => list(judged(c).0, None),
        "could_improve" => list(judged(c).1, None),
        "agenda" => Some(c.policy.review.agenda.clone())
            .filter(|a| !a.is_empty())
            .map(Value::Numbered),
        "expected_attendees" => expected_attendees(c),
        "appendix" => Some(appendix(c)),
        _ => None,
    }
}

fn duration(inc: &Incident, now: DateTime<Utc>) -> String {
    let start = inc.declared.at;
    match &inc.resolved {
        Some(r) => format!("{} to {} ({})", ts(start), ts(r.at), humanize(r.at - start)),
        None => format!(
            "{} to ongoing ({} so far)",
            ts(start),
            humanize(now - start)
        ),
    }
}

/// The review's own summary, else the latest resolution's (unless the
/// incident was reopened since: that one described a resolution that did not
/// hold), else the impact as recorded followed by the prompt.
fn summary(c: &Ctx<'_>, prompt: &str) -> Option<Value> {
    let from_review = c.events.iter().rev().find_map(|e| match &e.body {
        EventBody::ReviewCompleted { summary } if !summary.trim().is_empty() => Some(summary),
        _ => None,
    });
    let from_resolution = c
        .events
        .iter()
        .rev()
        .find_map(|e| match &e.body {
            EventBody::Resolved { summary, .. } => Some(Some(summary)),
            EventBody::Reopened { .. } => Some(None),
            _ => None,
        })
        .flatten()
        .filter(|s| !s.trim().is_empty());
    if let Some(s) = from_review.or(from_resolution) {
        return Some(Value::Text(s.trim().to_string()));
    }
    let impact = c.inc.impact.summary.trim();
    if impact.is_empty() {
        return None;
    }
    let todo = if prompt.is_empty() {
        TODO.to_string()
    } else {
        format!("{TODO}: {prompt}")
    };
    Some(Value::Text(format!("{impact}\n\n{todo}")))
}

fn notes(c: &Ctx<'_>, kind: NoteKind) -> Vec<String> {
    c.events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Note { kind: k, text } if *k == kind => Some(format!(
                "{} ({}): {}",
                ts(e.occurred_at),
                e.actor,
                line(text)
            )),
            _ => None,
        })
        .collect()
}

fn escalations(c: &Ctx<'_>) -> Vec<String> {
    c.events
        .iter()
        .filter_map(|e| {
            let text = match &e.body {
                EventBody::Escalated {
                    to,
                    reason,
                    rule: Some(rule),
                } => format!("→ {to}, automatic (rule {rule}): {reason}"),
                EventBody::Escalated {
                    to,
                    reason,
                    rule: None,
                } => format!("→ {to}, by {}: {reason}", e.actor),
                EventBody::Paged { who, reason } => {
                    format!("paged {who}, by {}: {reason}", e.actor)
                }
                EventBody::SeverityChanged {
                    from, to, reason, ..
                } => format!("severity {from} → {to}, by {}: {reason}", e.actor),
                EventBody::KindChanged { from, to, reason } => {
                    format!("kind {from} → {to}, by {}: {reason}", e.actor)
                }
                _ => return None,
            };
            Some(format!("{}: {}", ts(e.occurred_at), line(&text)))
        })
        .collect()
}

/// Action notes and the containment in the order they happened, up to `until`.
fn actions_taken(c: &Ctx<'_>, until: Option<DateTime<Utc>>) -> Vec<String> {
    c.events
        .iter()
        .filter(|e| until.is_none_or(|u| e.occurred_at <= u))
        .filter_map(|e| {
            let what = match &e.body {
                EventBody::Note {
                    kind: NoteKind::Action,
                    text,
                } => line(text),
                EventBody::Contained { note } if note.is_empty() => "marked contained".to_string(),
                EventBody::Contained { note } => format!("contained: {}", line(note)),
                _ => return None,
            };
            Some(format!("{} ({}): {what}", ts(e.occurred_at), e.actor))
        })
        .collect()
}

fn missed_updates(c: &Ctx<'_>) -> Vec<(Channel, usize)> {
    Channel::ALL
        .into_iter()
        .map(|ch| {
            let n = c
                .events
                .iter()
                .filter(
                    |e| matches!(e.body, EventBody::UpdateOverdue { channel, .. } if channel == ch),
                )
                .count();
            (ch, n)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn clock_results(c: &Ctx<'_>) -> Value {
    let missed = missed_updates(c);
    let mut after = if missed.is_empty() {
        "No update deadline was missed.".to_string()
    } else {
        let list: Vec<String> = missed
            .iter()
            .map(|(ch, n)| format!("{} {n}", ch.label()))
            .collect();
        format!("Update deadlines missed: {}.", list.join(", "))
    };
    if c.outcomes.is_empty() {
        return Value::Text(format!(
            "The policy sets no acknowledge, contain, resolve or review target for {}.\n\n{after}",
            c.inc.severity
        ));
    }
    if c.inc.sla_origin != c.inc.declared.at {
        after = format!(
            "Targets are those of {}, counted from the severity upgrade at {}.\n\n{after}",
            c.inc.severity,
            ts(c.inc.sla_origin)
        );
    }
    let rows = c
        .outcomes
        .iter()
        .map(|o| {
            let actual = match o.actual {
                Some(d) => humanize(d),
                None if o.state == ClockState::Breached => format!(
                    "not reached ({} overdue)",
                    humanize(chrono::Duration::seconds(o.overdue_secs))
                ),
                None => "not reached yet".into(),
            };
            let result = match o.state {
                ClockState::Met => "MET",
                ClockState::Breached => "MISSED",
                ClockState::Pending | ClockState::DueSoon => "RUNNING",
            };
            vec![o.label.clone(), o.target.clone(), actual, result.into()]
        })
        .collect();
    Value::Table {
        head: ["Clock", "Target", "Actual", "Result"]
            .map(String::from)
            .to_vec(),
        rows,
        after,
    }
}

/// The action items, with a Priority column when the policy has priorities.
fn action_items(c: &Ctx<'_>) -> Value {
    let prioritised = !c.policy.review.action_priorities.is_empty();
    let mut head = vec!["Action".to_string(), "Owner".into()];
    if prioritised {
        head.push("Priority".into());
    }
    head.extend(["Due Date".to_string(), "Status".into()]);
    let mut rows: Vec<Vec<String>> = c
        .inc
        .actions
        .iter()
        .map(|a| {
            let mut row = vec![
                a.text.clone(),
                a.owner.clone().unwrap_or_else(|| TODO.into()),
            ];
            if prioritised {
                row.push(a.priority.clone().unwrap_or_else(|| TODO.into()));
            }
            row.push(
                a.due
                    .map_or_else(|| TODO.to_string(), |d| d.format("%Y-%m-%d").to_string()),
            );
            row.push(a.state.as_str().into());
            row
        })
        .collect();
    if rows.is_empty() {
        let mut row = vec![TODO.to_string()];
        row.resize(head.len(), String::new());
        rows.push(row);
    }
    Value::Table {
        head,
        rows,
        after: String::new(),
    }
}

/// "What went well" and "what could be improved", judged from the clocks and the log.
fn judged(c: &Ctx<'_>) -> (Vec<String>, Vec<String>) {
    let mut well = Vec::new();
    let mut improve = Vec::new();
    for o in &c.outcomes {
        match (o.state, o.actual) {
            (ClockState::Met, Some(d)) => well.push(format!(
                "{} within target: {} (target {}).",
                past(o.kind),
                humanize(d),
                o.target
            )),
            (ClockState::Breached, Some(d)) => improve.push(format!(
                "{} late: {} (target {}).",
                past(o.kind),
                humanize(d),
                o.target
            )),
            (ClockState::Breached, None) => improve.push(format!(
                "{} target missed: not reached, {} overdue (target {}).",
                capitalised(&o.label),
                humanize(chrono::Duration::seconds(o.overdue_secs)),
                o.target
            )),
            _ => {}
        }
    }
    for (ch, n) in missed_updates(c) {
        improve.push(format!(
            "{} update deadline missed {n} time{}.",
            capitalised(ch.label()),
            if n == 1 { "" } else { "s" }
        ));
    }
    for e in &c.events {
        if let EventBody::Resolved { forced: true, .. } = e.body {
            improve.push(format!(
                "Resolved at {} before the stability window had elapsed.",
                ts(e.occurred_at)
            ));
        }
    }
    if c.inc.reopened > 0 {
        improve.push(format!(
            "Reopened {} time{} after being resolved.",
            c.inc.reopened,
            if c.inc.reopened == 1 { "" } else { "s" }
        ));
    }
    (well, improve)
}

/// "Acknowledged within target", "Contained late"…
fn past(kind: ClockKind) -> &'static str {
    match kind {
        ClockKind::Acknowledge => "Acknowledged",
        ClockKind::Contain => "Contained",
        ClockKind::Resolve => "Resolved",
        ClockKind::Review => "Review completed",
        _ => "Done",
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Who the runbook says attends (002 §8.1 "All involved + management") and
/// who was involved: everyone who acted in the incident, the scheduler aside.
fn expected_attendees(c: &Ctx<'_>) -> Option<Value> {
    let who = c
        .policy
        .severity(&c.inc.severity)
        .and_then(|s| s.review.attendees.clone());
    let involved: BTreeSet<&str> = c
        .events
        .iter()
        .filter(|e| {
            &*e.actor != crate::domain::escalation::ACTOR
                && !matches!(
                    e.body,
                    EventBody::AlertsFiring { .. }
                        | EventBody::AlertsResolved { .. }
                        | EventBody::DeliveryAttempted(_)
                        | EventBody::UpdateOverdue { .. }
                )
        })
        .map(|e| &*e.actor)
        .chain(c.inc.roles.values().map(String::as_str))
        .collect();
    let involved = involved.into_iter().collect::<Vec<_>>().join(", ");
    match who {
        Some(w) => inline(format!(
            "{w} ({} per the policy); involved: {involved}",
            c.inc.severity
        )),
        None if involved.is_empty() => None,
        None => inline(format!("involved: {involved}")),
    }
}

fn appendix(c: &Ctx<'_>) -> Value {
    let source = if c.policy.source.is_empty() {
        String::new()
    } else {
        format!(" ({})", c.policy.source)
    };
    let mut items = vec![
        format!("Policy: {}{source}", c.policy.name),
        format!("Events recorded: {}", c.events.len()),
    ];
    if !c.inc.roles.is_empty() {
        let roles: Vec<String> = c
            .inc
            .roles
            .iter()
            .map(|(role, who)| {
                let name = c
                    .policy
                    .role(role)
                    .map_or(role.as_str(), |r| r.name.as_str());
                format!("{name}: {who}")
            })
            .collect();
        items.push(format!("Roles at the end: {}", roles.join("; ")));
    }
    items.push(format!("Generated by warroom at {}", ts(c.now)));
    Value::List { items, empty: None }
}
