//! `:item` and `:field`: the follow-up after the incident, from the command
//! line — an action item's state, owner, due date and priority, and the
//! human fields of the post-incident review. Both work on closed incidents.

use super::{date, rest_after};
use crate::domain::command::Action;
use crate::domain::event::ActionState;
use crate::domain::policy::Policy;
use crate::domain::state::Incident;

/// `:item 2 done @bob 2026-12-01 priority=P1`: changes the 2nd action item.
pub(super) fn item(
    inc: Option<&Incident>,
    pos: &[&str],
    priority: Option<&str>,
) -> Result<Action, String> {
    let usage = ":item needs the item's number: :item 1 done [@owner] [YYYY-MM-DD] [priority=P1]";
    let inc = inc.ok_or(usage)?;
    let n: usize = pos
        .first()
        .ok_or(usage)?
        .trim_start_matches('#')
        .parse()
        .map_err(|_| usage.to_string())?;
    let Some(a) = n.checked_sub(1).and_then(|i| inc.actions.get(i)) else {
        return Err(format!(
            "{} has no action item {n} (it has {})",
            inc.key(),
            inc.actions.len()
        ));
    };
    let mut state = a.state;
    let mut owner = None;
    let mut due = None;
    for w in &pos[1..] {
        if let Some(o) = w.strip_prefix('@') {
            owner = Some(o.to_string());
        } else if let Some(s) = ActionState::parse(w) {
            state = s;
        } else if w.len() == 10 && w.as_bytes().get(4) == Some(&b'-') {
            due = Some(date(w)?);
        } else {
            return Err(format!(
                "{w}: not a state (open, in_progress, done, cancelled), @owner or YYYY-MM-DD date"
            ));
        }
    }
    Ok(Action::UpdateActionItem {
        action: a.id,
        state,
        owner,
        due,
        priority: priority.map(str::to_string),
    })
}

/// `:field requests_failed 12400`: writes a human field of the review
/// template; `\n` in the value starts a new line (a table's next row).
pub(super) fn field(policy: &Policy, pos: &[&str], line: &str) -> Result<Action, String> {
    let known = || {
        policy
            .review
            .fields()
            .filter(|f| f.is_human())
            .map(|f| f.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(id) = pos.first() else {
        return Err(format!(
            ":field needs a field and a value: :field ID \"value\"; fields: {}",
            known()
        ));
    };
    let Some(f) = policy.review.human_field(id) else {
        return Err(format!(
            "{id}: not a field of this review to write; fields: {}",
            known()
        ));
    };
    Ok(Action::SetReviewField {
        field: f.id.clone(),
        value: rest_after(line, 2).replace("\\n", "\n"),
    })
}
