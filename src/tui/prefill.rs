//! Pre-filled messages: the policy's templates filled from the incident
//! (`domain::template`), so a status update starts from the runbook's wording
//! for the chosen state rather than from a blank page. Fields the incident
//! cannot supply stay as visible `[field?]` hints for the author.

use crate::domain::event::{Channel, Status};
use crate::domain::policy::Policy;
use crate::domain::sanitize::sanitize;
use crate::domain::state::Incident;
use crate::domain::template;
use chrono::{DateTime, Utc};

/// The message for a channel: the status page's template for `state`, the
/// internal and customer templates otherwise (filled as if the incident were
/// already in `state`).
pub fn for_channel(
    inc: &Incident,
    policy: &Policy,
    channel: Channel,
    state: Status,
    now: DateTime<Utc>,
) -> String {
    // The text lands in an editor that prints it as is: sanitise what others wrote.
    sanitize(&fill(inc, policy, channel, state, now))
}

fn fill(
    inc: &Incident,
    policy: &Policy,
    channel: Channel,
    state: Status,
    now: DateTime<Utc>,
) -> String {
    match channel {
        Channel::StatusPage => template::status_page(inc, policy, state, now),
        Channel::Internal | Channel::Customer => {
            let mut v = template::values_for(inc, policy, channel, now);
            v.insert("status", state.as_str().to_string());
            let text = if channel == Channel::Internal {
                &policy.templates.internal
            } else {
                &policy.templates.customer
            };
            template::render(text.trim(), &v)
        }
    }
}

/// The escalation request with the author's reason and requested action filled in.
pub fn escalation(
    inc: &Incident,
    policy: &Policy,
    reason: &str,
    requested: &str,
    now: DateTime<Utc>,
) -> String {
    let mut v = template::values(inc, policy, now);
    v.insert("escalation_reason", reason.to_string());
    v.insert("requested_action", requested.to_string());
    sanitize(&template::render(policy.templates.escalation.trim(), &v))
}
