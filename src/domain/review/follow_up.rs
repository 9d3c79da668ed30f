//! After the incident (002 §8.4, 004 "Follow-up: Track action items", 001
//! "Follow-up actions are tracked to completion"): the open action items of
//! closed incidents that need someone's attention — past their due date, or
//! not touched for longer than their priority's review cadence (002 §8.4:
//! "P1 actions reviewed weekly by Engineering Manager", "P2 actions reviewed
//! bi-weekly"; the cadence is keyed on the action item's own priority, the
//! template's Priority column).

use crate::domain::duration::humanize;
use crate::domain::event::ActionState;
use crate::domain::policy::Policy;
use crate::domain::state::{ActionItem, Incident, World};
use chrono::{DateTime, Utc};

/// One action item that needs attention, and why.
#[derive(Clone, Debug)]
pub struct FollowUp<'a> {
    pub incident: &'a Incident,
    pub item: &'a ActionItem,
    /// Days past its due date (1 = due yesterday).
    pub overdue_days: Option<i64>,
    /// Its priority's review cadence has passed since it last changed.
    pub review_due: Option<String>,
}

impl FollowUp<'_> {
    /// `overdue by 3 days; not changed for 8d, P1 actions are reviewed every 7d by Engineering Manager`.
    pub fn why(&self) -> String {
        let mut parts = Vec::new();
        if let Some(d) = self.overdue_days {
            parts.push(format!(
                "overdue by {d} day{}",
                if d == 1 { "" } else { "s" }
            ));
        }
        if let Some(r) = &self.review_due {
            parts.push(r.clone());
        }
        parts.join("; ")
    }
}

/// Open (or in-progress) action items of closed incidents that are past due
/// or due for review at `now`, by incident number then in the order added.
pub fn list<'a>(world: &'a World, policy: &Policy, now: DateTime<Utc>) -> Vec<FollowUp<'a>> {
    let today = now.date_naive();
    let mut out = Vec::new();
    for inc in world
        .order
        .iter()
        .filter_map(|id| world.get(id))
        .filter(|i| i.closed.is_some())
    {
        for item in &inc.actions {
            if !matches!(item.state, ActionState::Open | ActionState::InProgress) {
                continue;
            }
            let overdue_days = item
                .due
                .filter(|d| *d < today)
                .map(|d| (today - d).num_days());
            let changed = item.changed_at.unwrap_or(item.added_at);
            let review_due = policy
                .review
                .cadence(item.priority.as_deref())
                .filter(|c| c.every.after(changed) <= now)
                .map(|c| {
                    let by = if c.by.is_empty() {
                        String::new()
                    } else {
                        format!(" by {}", c.by)
                    };
                    let which = if c.priority == "*" {
                        "open".to_string()
                    } else {
                        c.priority.clone()
                    };
                    format!(
                        "not changed for {}; {which} actions are reviewed every {}{by}",
                        humanize(now - changed),
                        c.every
                    )
                });
            if overdue_days.is_some() || review_due.is_some() {
                out.push(FollowUp {
                    incident: inc,
                    item,
                    overdue_days,
                    review_due,
                });
            }
        }
    }
    out
}

/// The list as text, one line an item (for `warroom follow-ups` and the TUI).
pub fn lines(list: &[FollowUp<'_>], policy: &Policy) -> Vec<String> {
    list.iter()
        .map(|f| {
            let a = f.item;
            format!(
                "{} {} | {} | owner {} | priority {} | due {} | {} — {}",
                f.incident.key(),
                policy
                    .severity(&f.incident.severity)
                    .map_or(f.incident.severity.as_str(), |s| s.label.as_str()),
                a.text.replace('\n', " "),
                a.owner.as_deref().unwrap_or("none"),
                a.priority.as_deref().unwrap_or("none"),
                a.due
                    .map_or_else(|| "none".to_string(), |d| d.format("%Y-%m-%d").to_string()),
                a.state.as_str(),
                f.why()
            )
        })
        .collect()
}
