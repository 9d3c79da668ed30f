//! Every deadline of an incident as a pure function of `(incident, policy, now)`.
//!
//! How a severity change re-derives the clocks: the acknowledge / contain /
//! resolve targets always come from the *current* severity and run from
//! [`Incident::sla_origin`] — the declaration, moved to the moment of the
//! change when severity goes *up* (the stricter target starts then; it would be
//! unfair and useless to show a P3-turned-P1 as breached an hour ago) and left
//! alone when it goes down (a downgrade never buys back time already used).
//! Update cadences: the first post on a channel is due `first` after the SLA
//! origin, each later one `every` after the last post on that channel.

use super::duration::humanize;
use super::event::Channel;
use super::policy::{EscalationRule, Policy, Trigger};
use super::state::Incident;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

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
#[serde(rename_all = "snake_case", tag = "kind", content = "channel")]
pub enum ClockKind {
    Acknowledge,
    Contain,
    Resolve,
    Update(Channel),
    Escalation,
    Stability,
    Review,
    /// A paged or escalated-to contact's expected response time (the directory's `respond_within`).
    Answer,
    /// A time-boxed checklist (002 Appendix A "FIRST 5 MINUTES", 003 "0-15
    /// Minutes"): every item due by the end of the box; the clock's
    /// `checklist` names which.
    Checklist,
}

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
pub enum ClockState {
    /// Running with time to spare.
    Pending,
    /// Running, in the last quarter of its span.
    DueSoon,
    /// Past due (and not done), or done late.
    Breached,
    /// Done in time.
    Met,
}

impl ClockState {
    /// The word shown beside the colour.
    pub fn word(self) -> &'static str {
        match self {
            ClockState::Pending => "OK",
            ClockState::DueSoon => "DUE SOON",
            ClockState::Breached => "OVERDUE",
            ClockState::Met => "MET",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Clock {
    pub kind: ClockKind,
    /// `acknowledge`, `status page update`, `escalate → VP Engineering`…
    pub label: String,
    pub started_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// Seconds left (negative once breached); frozen at completion when done.
    pub remaining_secs: i64,
    pub state: ClockState,
    /// What it runs from, in words: `declared`, `last status page update`…
    pub from: String,
    pub done_at: Option<DateTime<Utc>>,
    /// Warroom added this clock; the runbook did not ask for it (the policy's
    /// `warroom_defaults`). The TUI labels it so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warroom_default: bool,
    /// What another section of the runbook says about this clock (the policy's `notes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The checklist id of a [`ClockKind::Checklist`] clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checklist: Option<String>,
}

impl ClockKind {
    /// The clock's name in a severity's `warroom_defaults` and `notes`
    /// (see [`super::policy::CLOCK_NAMES`]); `None` for clocks no severity sets.
    pub fn policy_name(self) -> Option<&'static str> {
        Some(match self {
            ClockKind::Acknowledge => "acknowledge",
            ClockKind::Contain => "contain",
            ClockKind::Resolve => "resolve",
            ClockKind::Update(ch) => ch.as_str(),
            ClockKind::Review => "review",
            ClockKind::Escalation
            | ClockKind::Stability
            | ClockKind::Answer
            | ClockKind::Checklist => return None,
        })
    }
}

impl Clock {
    /// The word shown beside the clock. A stability window counting down is
    /// good news (the fix is holding), not a deadline coming due: it reads
    /// SETTLING, never DUE SOON or OVERDUE.
    pub fn word(&self) -> &'static str {
        if self.kind == ClockKind::Stability && self.is_running() {
            return "SETTLING";
        }
        // Done, but after its deadline: not still OVERDUE.
        if self.done_at.is_some() && self.state == ClockState::Breached {
            return "MET LATE";
        }
        self.state.word()
    }

    /// The state whose colour the clock is drawn in (a running stability
    /// window in the calm colour, as [`Clock::word`] explains).
    pub fn tone(&self) -> ClockState {
        if self.kind == ClockKind::Stability && self.is_running() {
            return ClockState::Pending;
        }
        self.state
    }

    /// How long it took to meet the clock, once done (on time or late).
    pub fn took(&self) -> Option<chrono::Duration> {
        self.done_at.map(|d| d - self.started_at)
    }

    /// Whether it still ticks (not done).
    pub fn is_running(&self) -> bool {
        self.done_at.is_none() && self.state != ClockState::Met
    }

    /// Fraction of the span used, 0.0–1.0, for gauges.
    pub fn used(&self, now: DateTime<Utc>) -> f64 {
        let total = (self.due_at - self.started_at).num_milliseconds().max(1) as f64;
        let end = self.done_at.unwrap_or(now);
        ((end - self.started_at).num_milliseconds() as f64 / total).clamp(0.0, 1.0)
    }
}

fn make(
    kind: ClockKind,
    label: String,
    from: &str,
    started_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Clock {
    let (remaining, state) = match done_at {
        Some(done) => {
            let r = (due_at - done).num_seconds();
            (
                r,
                if done <= due_at {
                    ClockState::Met
                } else {
                    ClockState::Breached
                },
            )
        }
        None => {
            let r = (due_at - now).num_seconds();
            let span = (due_at - started_at).num_seconds().max(0);
            let state = if now >= due_at {
                ClockState::Breached
            } else if r * 4 <= span {
                ClockState::DueSoon
            } else {
                ClockState::Pending
            };
            (r, state)
        }
    };
    Clock {
        kind,
        label,
        started_at,
        due_at,
        remaining_secs: remaining,
        state,
        from: from.to_string(),
        done_at,
        warroom_default: false,
        note: None,
        checklist: None,
    }
}

/// Every clock of `inc` at `now`, in a stable order (SLA, updates, escalation, stability, review).
pub fn clocks(inc: &Incident, policy: &Policy, now: DateTime<Utc>) -> Vec<Clock> {
    let mut out = Vec::new();
    let Some(sev) = policy.severity(&inc.severity) else {
        return out;
    };
    let origin = inc.sla_origin;
    let from_origin = if origin == inc.declared.at {
        "declared"
    } else {
        "severity raised"
    };
    // Resolving an incident also ends its acknowledge and contain clocks: whoever
    // resolved it took it on and stopped the impact, and a resolved incident must
    // not show a clock that keeps running into OVERDUE forever.
    let resolved_at = inc.resolved.as_ref().map(|s| s.at);
    let sla = [
        (
            ClockKind::Acknowledge,
            "acknowledge",
            sev.acknowledge,
            inc.acknowledged.as_ref().map(|s| s.at).or(resolved_at),
        ),
        (
            ClockKind::Contain,
            "contain",
            sev.contain,
            inc.contained.as_ref().map(|s| s.at).or(resolved_at),
        ),
        (
            ClockKind::Resolve,
            "resolve",
            sev.resolve,
            inc.resolved.as_ref().map(|s| s.at),
        ),
    ];
    for (kind, label, span, done) in sla {
        if let Some(span) = span {
            // Acknowledged before a later upgrade still counts as acknowledged.
            let done = done.map(|d| d.max(origin));
            out.push(make(
                kind,
                label.into(),
                from_origin,
                origin,
                span.after(origin),
                done,
                now,
            ));
        }
    }
    if inc.is_open() {
        for ch in Channel::ALL {
            if let Some((start, due, from)) = update_due(inc, sev.updates.for_channel(ch), ch) {
                out.push(make(
                    ClockKind::Update(ch),
                    format!("{} update", ch.label()),
                    &from,
                    start,
                    due,
                    None,
                    now,
                ));
            }
        }
        if let Some((rule, at)) = next_escalation(inc, policy) {
            out.push(make(
                ClockKind::Escalation,
                format!("escalate → {}", rule.to),
                &trigger_words(rule.when),
                at - rule.after.nominal(),
                at,
                None,
                now,
            ));
        }
        // "paged 10:02, answer due 10:12": one clock per call to a directory
        // contact with a response time, met when they act in the incident.
        for a in super::routing::answer_clocks(inc, policy) {
            out.push(make(
                ClockKind::Answer,
                format!("{} answers (paged {})", a.who, a.paged_at.format("%H:%M")),
                &format!("paged {}", a.paged_at.format("%H:%M")),
                a.paged_at,
                a.due_at,
                a.answered_at,
                now,
            ));
        }
        // A time-boxed checklist is a clock like any other: due by the end of
        // its box, counted from the declaration, met when its last item was
        // done (ticked, waived or proven by the log).
        for list in &policy.checklists {
            let Some(span) = list.due_for(&inc.severity) else {
                continue;
            };
            let (open, last) = super::checklist::box_progress(inc, policy, list, now);
            let label = if open == 0 {
                list.title.clone()
            } else {
                format!("{} · {open} open", list.title)
            };
            let mut c = make(
                ClockKind::Checklist,
                label,
                "declared",
                inc.declared.at,
                span.after(inc.declared.at),
                last.map(|t| t.max(inc.declared.at)),
                now,
            );
            c.checklist = Some(list.id.clone());
            out.push(c);
        }
        if let (Some(window), Some(since)) =
            (policy.resolution.stability_window, inc.monitoring_since)
        {
            let due = window.after(since);
            let mut c = make(
                ClockKind::Stability,
                format!("stable for {window}"),
                "monitoring began",
                since,
                due,
                None,
                now,
            );
            // Past the window is good news, not a breach: the clock is done, at 0:00.
            if now >= due {
                c.state = ClockState::Met;
                c.done_at = Some(due);
                c.remaining_secs = 0;
            }
            out.push(c);
        }
    }
    if let (Some(resolved), true, Some(due)) = (&inc.resolved, sev.review.required, sev.review.due)
    {
        out.push(make(
            ClockKind::Review,
            "post-incident review".into(),
            "resolved",
            resolved.at,
            due.after(resolved.at),
            inc.review.as_ref().map(|r| r.at),
            now,
        ));
    }
    for c in &mut out {
        if let Some(name) = c.kind.policy_name() {
            c.warroom_default = sev.is_warroom_default(name);
            c.note = sev.notes.get(name).cloned();
        }
    }
    out
}

/// A report's acknowledge clock (issue 11 item 12: intake that is not an
/// alert), while it waits in the triage queue or once dismissed: the intake
/// kind's own target, else the severity's acknowledge. Alert groups have
/// none (their incident's clocks start when declared); neither has a report
/// whose policy states no time.
pub fn triage_clock(
    item: &super::alert::TriageItem,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Option<Clock> {
    let intake = item.intake.as_deref()?;
    if item.declared {
        return None;
    }
    let span = policy.intake_acknowledge(intake, &item.severity)?;
    let name = policy
        .intake_kind(intake)
        .map_or(intake, |k| k.name.as_str());
    Some(make(
        ClockKind::Acknowledge,
        format!("acknowledge {}", name.to_lowercase()),
        "reported",
        item.opened.at,
        span.after(item.opened.at),
        item.dismissed.as_ref().map(|s| s.at),
        now,
    ))
}

/// When the next post on `ch` is due: `(runs from, due, from-words)`.
pub fn update_due(
    inc: &Incident,
    cadence: &super::policy::Cadence,
    ch: Channel,
) -> Option<(DateTime<Utc>, DateTime<Utc>, String)> {
    match inc.last_update.get(&ch) {
        // After a post, the next is due `every` later; with no `every`, only the first was required.
        // A severity upgrade restarts the cadence (the stricter one) from the upgrade, like the
        // SLA clocks: a post made under the old cadence is not instantly overdue under the new.
        Some(last) => {
            let every = cadence.every?;
            let (start, from) = if *last >= inc.sla_origin {
                (*last, format!("last {} update", ch.label()))
            } else {
                (inc.sla_origin, "severity raised".to_string())
            };
            Some((start, every.after(start), from))
        }
        None => {
            let first = cadence.first.or(cadence.every)?;
            let from = if inc.sla_origin == inc.declared.at {
                "declared"
            } else {
                "severity raised"
            };
            Some((
                inc.sla_origin,
                first.after(inc.sla_origin),
                from.to_string(),
            ))
        }
    }
}

/// Does `rule` apply to `inc` at all (severity and kind filters)?
pub fn rule_applies(rule: &EscalationRule, inc: &Incident) -> bool {
    (rule.severities.is_empty()
        || rule
            .severities
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&inc.severity)))
        && (rule.kinds.is_empty() || rule.kinds.iter().any(|k| k.eq_ignore_ascii_case(&inc.kind)))
}

/// When `rule` fires for `inc`, if it still can (its condition not yet cleared, not yet fired).
pub fn rule_fire_at(
    rule: &EscalationRule,
    inc: &Incident,
    policy: &Policy,
) -> Option<DateTime<Utc>> {
    if !inc.is_open() || !rule_applies(rule, inc) || inc.fired_rules().any(|r| r == rule.id) {
        return None;
    }
    // A rule filtered on the current severity cannot have fired before that
    // severity took effect: after an upgrade it fires no earlier than the upgrade.
    let fire = match rule.when {
        Trigger::Unacknowledged if inc.acknowledged.is_none() => {
            Some(rule.after.after(inc.sla_origin))
        }
        Trigger::Uncontained if inc.contained.is_none() => Some(rule.after.after(inc.sla_origin)),
        Trigger::Open => Some(rule.after.after(inc.declared.at)),
        Trigger::UpdateOverdue => {
            let sev = policy.severity(&inc.severity)?;
            Channel::ALL
                .into_iter()
                .filter_map(|ch| update_due(inc, sev.updates.for_channel(ch), ch))
                .map(|(_, due, _)| rule.after.after(due))
                .min()
        }
        // A call to the rule's own target does not fire the step to it.
        Trigger::Unanswered => super::routing::answer_clocks(inc, policy)
            .into_iter()
            .filter(|a| a.answered_at.is_none() && !a.who.eq_ignore_ascii_case(&rule.to))
            .map(|a| rule.after.after(a.due_at))
            .min(),
        _ => None,
    };
    // Likewise a rule keyed on a kind (runbook 002 "Any security incident →
    // Security Lead immediately") fires from the reclassification on, not
    // backdated to a declaration made under another kind.
    let kind_origin = inc
        .kind_since
        .filter(|_| !rule.kinds.is_empty())
        .unwrap_or(inc.sla_origin);
    fire.map(|t| t.max(inc.sla_origin).max(kind_origin))
}

/// The next automatic escalation that will fire, and when.
pub fn next_escalation<'p>(
    inc: &Incident,
    policy: &'p Policy,
) -> Option<(&'p EscalationRule, DateTime<Utc>)> {
    policy
        .escalations
        .iter()
        .filter_map(|r| rule_fire_at(r, inc, policy).map(|t| (r, t)))
        .min_by_key(|(_, t)| *t)
}

fn trigger_words(t: Trigger) -> String {
    match t {
        Trigger::Unacknowledged => "unacknowledged",
        Trigger::Open => "open",
        Trigger::Uncontained => "not contained",
        Trigger::UpdateOverdue => "update overdue",
        Trigger::Unanswered => "no answer",
    }
    .to_string()
}

/// Where an incident stands in every list of incidents — the TUI's board,
/// `GET /api/v1/incidents`, `warroom incidents` — so all three agree. In
/// order: still open before resolved-awaiting-close before closed; then the
/// most severe; then the running clock closest to breach (an overdue one
/// first, the most overdue first); then the oldest. Severity comes before the
/// clock so a P1 is never below a P3 whose update is due — the README's
/// "most severe first, worst clock first within a severity".
pub fn board_rank(inc: &Incident, policy: &Policy, clocks: &[Clock]) -> (u8, usize, i64, u64) {
    let phase = if inc.closed.is_some() {
        2
    } else if inc.resolved.is_some() {
        1
    } else {
        0
    };
    let urgent = most_urgent(clocks).map_or(i64::MAX, |c| c.remaining_secs);
    (
        phase,
        policy.severity_rank(&inc.severity),
        urgent,
        inc.number,
    )
}

/// The most urgent running clock: least time remaining. Used to sort the board.
pub fn most_urgent(clocks: &[Clock]) -> Option<&Clock> {
    clocks
        .iter()
        .filter(|c| c.is_running() && c.kind != ClockKind::Stability)
        .min_by_key(|c| c.remaining_secs)
}

/// Where an incident's post-incident review stands: the TUI's history and
/// `warroom incidents --all` show it for closed incidents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewDue {
    /// The severity needs none.
    NotRequired,
    Done(DateTime<Utc>),
    /// Still to do: due at, and seconds left (negative once overdue).
    Due {
        at: DateTime<Utc>,
        left: i64,
    },
    /// Required, with no deadline in the policy.
    Open,
}

impl ReviewDue {
    /// Cheap (no other clock is derived): the board counts it over every
    /// closed incident. The deadline is the review clock's, `review.due`
    /// after resolving.
    pub fn of(inc: &Incident, policy: &Policy, now: DateTime<Utc>) -> ReviewDue {
        if let Some(r) = &inc.review {
            return ReviewDue::Done(r.at);
        }
        let Some(sev) = policy.severity(&inc.severity).filter(|s| s.review.required) else {
            return ReviewDue::NotRequired;
        };
        match (&inc.resolved, sev.review.due) {
            (Some(resolved), Some(due)) => {
                let at = due.after(resolved.at);
                ReviewDue::Due {
                    at,
                    left: (at - now).num_seconds(),
                }
            }
            _ => ReviewDue::Open,
        }
    }

    /// Still to do.
    pub fn pending(self) -> bool {
        matches!(self, ReviewDue::Due { .. } | ReviewDue::Open)
    }

    /// In words: `OVERDUE by 10m`, `due in 3d 23h (03-21 09:40)`, `done 03-14`.
    pub fn words(self) -> String {
        match self {
            ReviewDue::NotRequired => "not required".into(),
            ReviewDue::Done(at) => format!("done {}", at.format("%m-%d")),
            ReviewDue::Open => "to do (no deadline)".into(),
            ReviewDue::Due { left, .. } if left < 0 => {
                format!("OVERDUE by {}", humanize(Duration::seconds(-left)))
            }
            ReviewDue::Due { left, at } => format!(
                "due in {} ({}){}",
                humanize(Duration::seconds(left)),
                at.format("%m-%d %H:%M"),
                if self.soon() { " DUE SOON" } else { "" }
            ),
        }
    }

    /// Due within a day: soon enough to say so.
    pub fn soon(self) -> bool {
        matches!(self, ReviewDue::Due { left, .. } if (0..24 * 3600).contains(&left))
    }

    /// Sort key: reviews to do first, the soonest due first.
    pub fn rank(self) -> (u8, i64) {
        match self {
            ReviewDue::Due { left, .. } => (0, left),
            ReviewDue::Open => (1, 0),
            ReviewDue::Done(_) | ReviewDue::NotRequired => (2, 0),
        }
    }
}

#[cfg(test)]
mod tests;
