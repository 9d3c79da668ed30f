//! Pre-filled messages: the policy's templates filled from the incident, so a
//! status update starts from the runbook's wording for the current state
//! rather than from a blank page. Fields the incident cannot supply stay as
//! visible `[field?]` hints for the author.

use crate::domain::clocks::update_due;
use crate::domain::duration::humanize;
use crate::domain::event::{Channel, Status};
use crate::domain::policy::Policy;
use crate::domain::state::Incident;
use crate::domain::template;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Extra values only the author knows (escalation reason, requested action…).
pub type Extra<'a> = &'a [(&'static str, &'a str)];

/// The values every template may use, at `now` (server time).
pub fn values(
    inc: &Incident,
    policy: &Policy,
    state: Status,
    channel: Option<Channel>,
    now: DateTime<Utc>,
    extra: Extra<'_>,
) -> BTreeMap<&'static str, String> {
    let sev = policy.severity(&inc.severity);
    let mut v = BTreeMap::new();
    v.insert("id", inc.key());
    v.insert("title", inc.title.clone());
    v.insert(
        "severity",
        sev.map_or(inc.severity.clone(), |s| s.label.clone()),
    );
    v.insert(
        "severity_name",
        sev.map_or(String::new(), |s| s.name.clone()),
    );
    v.insert("status", state.as_str().to_string());
    v.insert("kind", inc.kind.clone());
    v.insert("impact", inc.impact.summary.clone());
    v.insert("services", inc.impact.services.join(", "));
    v.insert("customers", inc.impact.customers.clone());
    v.insert(
        "declared_at",
        inc.declared.at.format("%Y-%m-%d %H:%M UTC").to_string(),
    );
    v.insert("now", now.format("%Y-%m-%d %H:%M UTC").to_string());
    v.insert("duration", humanize(now - inc.declared.at));
    if let (Some(sev), Some(ch)) = (sev, channel) {
        // After this post, the next one on the channel is due `every` later.
        let cadence = sev.updates.for_channel(ch);
        if let Some(every) = cadence.every {
            v.insert("next_update", format!("{} ({every})", (every.after(now)).format("%H:%M UTC")));
        } else if let Some((_, due, _)) = update_due(inc, cadence, ch) {
            v.insert("next_update", due.format("%H:%M UTC").to_string());
        }
    }
    for role in ["ic", "tech_lead", "comms"] {
        if let Some(holder) = inc.roles.get(role) {
            v.insert(role, holder.clone());
        }
    }
    let roles: Vec<String> = policy
        .roles
        .iter()
        .filter_map(|r| inc.roles.get(&r.id).map(|h| format!("{}: {h}", r.name)))
        .collect();
    v.insert("roles", roles.join(", "));
    for (k, val) in extra {
        v.insert(k, (*val).to_string());
    }
    v
}

/// The status page message for `state`.
pub fn status_page(inc: &Incident, policy: &Policy, state: Status, now: DateTime<Utc>) -> String {
    let t = &policy.templates.status_page;
    let text = match state {
        Status::Investigating => &t.investigating,
        Status::Identified => &t.identified,
        Status::Monitoring => &t.monitoring,
        Status::Resolved => &t.resolved,
    };
    let v = values(inc, policy, state, Some(Channel::StatusPage), now, &[]);
    template::render(text, &v)
}

/// The message for a channel in a state: the status page's template per
/// state, the internal and customer templates otherwise.
pub fn for_channel(
    inc: &Incident,
    policy: &Policy,
    channel: Channel,
    state: Status,
    now: DateTime<Utc>,
) -> String {
    match channel {
        Channel::StatusPage => status_page(inc, policy, state, now),
        Channel::Internal => template::render(
            &policy.templates.internal,
            &values(inc, policy, state, Some(channel), now, &[]),
        ),
        Channel::Customer => template::render(
            &policy.templates.customer,
            &values(inc, policy, state, Some(channel), now, &[]),
        ),
    }
}

/// The escalation request, with the author's reason and requested action.
pub fn escalation(
    inc: &Incident,
    policy: &Policy,
    reason: &str,
    requested: &str,
    now: DateTime<Utc>,
) -> String {
    let v = values(
        inc,
        policy,
        inc.status,
        None,
        now,
        &[("escalation_reason", reason), ("requested_action", requested)],
    );
    template::render(&policy.templates.escalation, &v)
}
