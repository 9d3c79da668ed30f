//! Message templates with `{field}` placeholders, filled from an incident.
//!
//! [`values`] computes every field the incident itself knows (id, severity,
//! roles, the next update due…); fields only a person can supply (what was
//! done, why escalate, the bridge link) stay empty so [`render`] shows a
//! visible `[field?]` for the author to complete instead of inventing text.

use super::clocks::{ClockKind, clocks, update_due};
use super::duration::humanize;
use super::event::{Channel, Status};
use super::policy::{Policy, PolicyError, Templates};
use super::state::Incident;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Every placeholder a template may use.
pub const FIELDS: &[&str] = &[
    "id",
    "title",
    "severity",
    "severity_name",
    "status",
    "kind",
    "impact",
    "services",
    "customers",
    "declared_at",
    "now",
    "duration",
    "next_update",
    "ic",
    "tech_lead",
    "comms",
    "roles",
    "actions_taken",
    "escalation_reason",
    "requested_action",
    "bridge",
    "workaround",
    "mitigation",
    "resolved_at",
    "summary",
    "next_steps",
];

/// The fields [`values`] leaves empty: only the author of a message knows them.
pub const HUMAN_FIELDS: &[&str] = &[
    "actions_taken",
    "escalation_reason",
    "requested_action",
    "workaround",
    "summary",
    "next_steps",
];

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder {{{name}}} (known: {known})")]
    Unknown { name: String, known: String },
    #[error("unclosed placeholder starting at byte {0}")]
    Unclosed(usize),
}

/// The placeholders used in `text`, in order.
pub fn placeholders(text: &str) -> Result<Vec<&str>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or(TemplateError::Unclosed(offset + open))?;
        out.push(&after[..close]);
        offset += open + close + 2;
        rest = &after[close + 1..];
    }
    Ok(out)
}

/// The `[field?]` hints [`render`] left in `text` for known fields, in
/// order, each once: a message about to go out with these is not finished.
pub fn unfilled(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        if let Some(close) = after.find("?]") {
            let name = &after[..close];
            if FIELDS.contains(&name) && !out.contains(&name) {
                out.push(name);
            }
        }
        rest = after;
    }
    out
}

/// Checks one template uses only known placeholders.
pub fn validate(text: &str) -> Result<(), TemplateError> {
    for name in placeholders(text)? {
        if !FIELDS.contains(&name) {
            return Err(TemplateError::Unknown {
                name: name.to_string(),
                known: FIELDS.join(", "),
            });
        }
    }
    Ok(())
}

pub(crate) fn validate_all(t: &Templates) -> Result<(), PolicyError> {
    let all = [
        (
            "templates.status_page.investigating",
            &t.status_page.investigating,
        ),
        (
            "templates.status_page.identified",
            &t.status_page.identified,
        ),
        (
            "templates.status_page.monitoring",
            &t.status_page.monitoring,
        ),
        ("templates.status_page.resolved", &t.status_page.resolved),
        ("templates.internal", &t.internal),
        ("templates.escalation", &t.escalation),
        ("templates.customer", &t.customer),
    ];
    for (field, text) in all {
        validate(text).map_err(|e| PolicyError::Invalid {
            field: field.to_string(),
            message: e.to_string(),
        })?;
    }
    Ok(())
}

/// Fills `{field}`s from `values`; a field with no value becomes a visible
/// `[field?]` hint for the author to complete, never a raw placeholder.
pub fn render(text: &str, values: &BTreeMap<&str, String>) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match values.get(name) {
                    Some(v) if !v.is_empty() => out.push_str(v),
                    _ => {
                        out.push('[');
                        out.push_str(name);
                        out.push_str("?]");
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// How templates print an instant: `2026-02-03 14:05 UTC` (one zone for everyone on the bridge).
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Every field of [`FIELDS`] for `inc` at `now`; `next_update` is the soonest
/// due time of any running update clock. Fields in [`HUMAN_FIELDS`] are
/// empty, and so are `next_update` when no update clock runs and
/// `resolved_at` while the incident is open: [`render`] marks them `[field?]`.
pub fn values(
    inc: &Incident,
    policy: &Policy,
    now: DateTime<Utc>,
) -> BTreeMap<&'static str, String> {
    fill(inc, policy, now, None)
}

/// [`values`] for a message posted on `channel` at `now`: `next_update` is when
/// that channel's next post falls due once this one is out — `every` after
/// `now`, the very clock the war room will run — so a status page never
/// promises the internal cadence, nor a time already past when the post is
/// late. Empty when the channel has no recurring cadence or the incident is
/// no longer open.
pub fn values_for(
    inc: &Incident,
    policy: &Policy,
    channel: Channel,
    now: DateTime<Utc>,
) -> BTreeMap<&'static str, String> {
    fill(inc, policy, now, Some(channel))
}

fn fill(
    inc: &Incident,
    policy: &Policy,
    now: DateTime<Utc>,
    channel: Option<Channel>,
) -> BTreeMap<&'static str, String> {
    let sev = policy.severity(&inc.severity);
    let holder = |role: &str| {
        inc.roles
            .get(role)
            .cloned()
            .unwrap_or_else(|| "unassigned".to_string())
    };
    // Policy order (IC first), then any role held that the policy no longer defines.
    let mut roles: Vec<String> = policy
        .roles
        .iter()
        .filter_map(|r| inc.roles.get(&r.id).map(|p| format!("{}: {p}", r.name)))
        .collect();
    roles.extend(
        inc.roles
            .iter()
            .filter(|(id, _)| policy.role(id).is_none())
            .map(|(id, p)| format!("{id}: {p}")),
    );
    let next_update = match channel {
        // The message being written is the post: the next one is due from it.
        Some(ch) => sev.filter(|_| inc.is_open()).and_then(|s| {
            let mut posted = inc.clone();
            posted.last_update.insert(ch, now);
            update_due(&posted, s.updates.for_channel(ch), ch).map(|(_, due, _)| due)
        }),
        None => clocks(inc, policy, now)
            .into_iter()
            .filter(|c| matches!(c.kind, ClockKind::Update(_)) && c.is_running())
            .map(|c| c.due_at)
            .min(),
    };
    // An incident's duration ends when it is resolved; an open one is still running.
    let end = inc.resolved.as_ref().map_or(now, |r| r.at);
    let mitigation = match &inc.contained {
        Some(c) => format!("contained at {}", timestamp(c.at)),
        None => "not yet contained".to_string(),
    };
    let mut v = BTreeMap::new();
    for field in FIELDS {
        let value = match *field {
            "id" => inc.key(),
            "title" => inc.title.clone(),
            "severity" => sev.map_or_else(|| inc.severity.clone(), |s| s.label.clone()),
            "severity_name" => sev.map_or_else(|| inc.severity.clone(), |s| s.name.clone()),
            "status" => inc.status.as_str().to_string(),
            "kind" => inc.kind.clone(),
            "impact" => inc.impact.summary.clone(),
            "services" => inc.impact.services.join(", "),
            "customers" => inc.impact.customers.clone(),
            "bridge" => inc.impact.bridge.clone(),
            "declared_at" => timestamp(inc.declared.at),
            "now" => timestamp(now),
            "duration" => humanize(end - inc.declared.at),
            "next_update" => next_update.map(timestamp).unwrap_or_default(),
            "ic" => holder("ic"),
            "tech_lead" => holder("tech_lead"),
            "comms" => holder("comms"),
            "roles" => {
                if roles.is_empty() {
                    "none assigned".to_string()
                } else {
                    roles.join(", ")
                }
            }
            "mitigation" => mitigation.clone(),
            "resolved_at" => inc
                .resolved
                .as_ref()
                .map(|r| timestamp(r.at))
                .unwrap_or_default(),
            // HUMAN_FIELDS and anything added to FIELDS without a computed value.
            _ => String::new(),
        };
        v.insert(*field, value);
    }
    v
}

/// The status page post for `state`, filled from `inc` (`next_update`: the status page's).
pub fn status_page(inc: &Incident, policy: &Policy, state: Status, now: DateTime<Utc>) -> String {
    let t = &policy.templates.status_page;
    let text = match state {
        Status::Investigating => &t.investigating,
        Status::Identified => &t.identified,
        Status::Monitoring => &t.monitoring,
        Status::Resolved => &t.resolved,
    };
    render(
        text.trim(),
        &values_for(inc, policy, Channel::StatusPage, now),
    )
}

/// The internal update, filled from `inc` (`next_update`: the internal channel's).
pub fn internal(inc: &Incident, policy: &Policy, now: DateTime<Utc>) -> String {
    render(
        policy.templates.internal.trim(),
        &values_for(inc, policy, Channel::Internal, now),
    )
}

/// The escalation request, filled from `inc` (reason and requested action are the author's;
/// `next_update` is the soonest on any channel).
pub fn escalation(inc: &Incident, policy: &Policy, now: DateTime<Utc>) -> String {
    render(
        policy.templates.escalation.trim(),
        &values(inc, policy, now),
    )
}

/// The customer email, filled from `inc` (`next_update`: the customer channel's).
pub fn customer(inc: &Incident, policy: &Policy, now: DateTime<Utc>) -> String {
    render(
        policy.templates.customer.trim(),
        &values_for(inc, policy, Channel::Customer, now),
    )
}

#[cfg(test)]
mod unfilled_tests {
    use super::unfilled;

    #[test]
    fn finds_each_known_hint_once_and_ignores_other_brackets() {
        let text = "[services?] - Investigating\nImpact: [impact?] [x?] [see notes] [services?]";
        assert_eq!(unfilled(text), ["services", "impact"]);
        assert!(unfilled("All clear [sic]").is_empty());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::domain::command::Action;
    use crate::domain::event::{Channel, Impact};
    use crate::domain::policy::presets;
    use crate::domain::testkit::{Harness, at};

    /// A P1-ish incident 20 minutes in: acknowledged, roles staffed, identified,
    /// contained, one status page post. Uses the policy's worst severity.
    fn realistic(policy: Policy) -> (Harness, String) {
        let worst = policy.severities[0].id.clone();
        let roles: Vec<String> = policy.roles.iter().map(|r| r.id.clone()).collect();
        let mut h = Harness::new(policy);
        let key = h.declare("Checkout API returning 500s", &worst);
        h.at(2).run("alice", &key, Action::Acknowledge);
        h.run(
            "alice",
            &key,
            Action::UpdateImpact {
                impact: Impact {
                    summary: "checkout fails for about 40% of requests".into(),
                    services: vec!["checkout-api".into(), "payments".into()],
                    customers: "all EU tenants".into(),
                    data_exposure: false,
                    bridge: "https://meet.example.net/inc".into(),
                },
            },
        );
        for (role, person) in [("tech_lead", "bob"), ("comms", "carol"), ("scribe", "dave")] {
            if roles.iter().any(|r| r == role) {
                h.run(
                    "alice",
                    &key,
                    Action::AssignRole {
                        role: role.into(),
                        person: person.into(),
                        note: String::new(),
                    },
                );
            }
        }
        h.at(8).run(
            "carol",
            &key,
            Action::PostUpdate {
                channel: Channel::StatusPage,
                state: Some(Status::Identified),
                text: "We have identified the cause.".into(),
            },
        );
        h.at(15).run(
            "bob",
            &key,
            Action::Contain {
                note: "rolled back".into(),
            },
        );
        h.at(20);
        (h, key)
    }

    /// The `[field?]` hints left in `text`.
    fn hints(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('[') {
            let after = &rest[open + 1..];
            match after.find("?]") {
                Some(close) if !after[..close].contains([' ', '[', '\n']) => {
                    out.push(after[..close].to_string());
                    rest = &after[close + 2..];
                }
                _ => rest = after,
            }
        }
        out
    }

    fn assert_filled(preset: &str, what: &str, text: &str, may_be_open: &[&str]) {
        assert!(
            !text.contains('{') && !text.contains('}'),
            "{preset} {what}: raw placeholder left in\n{text}"
        );
        for hint in hints(text) {
            assert!(
                HUMAN_FIELDS.contains(&hint.as_str()) || may_be_open.contains(&hint.as_str()),
                "{preset} {what}: [{hint}?] should have been filled from the incident\n{text}"
            );
        }
    }

    #[test]
    fn every_preset_template_renders_without_raw_placeholders() {
        for (short, _, text) in presets::ALL {
            let policy = Policy::from_toml(text).unwrap();
            let (mut h, key) = realistic(policy.clone());
            let now = h.now;
            let inc = h.inc(&key).clone();
            // A channel without a cadence in this policy (all of them in 000 and
            // 001) has no next update to name; the author writes one in.
            let open = |channel: Option<Channel>| -> &'static [&'static str] {
                let due = match channel {
                    Some(ch) => values_for(&inc, &policy, ch, now),
                    None => values(&inc, &policy, now),
                };
                if due["next_update"].is_empty() {
                    &["resolved_at", "next_update"]
                } else {
                    &["resolved_at"]
                }
            };
            for state in [
                Status::Investigating,
                Status::Identified,
                Status::Monitoring,
            ] {
                let out = status_page(&inc, &policy, state, now);
                assert_filled(short, state.as_str(), &out, open(Some(Channel::StatusPage)));
            }
            let out = internal(&inc, &policy, now);
            assert_filled(short, "internal", &out, open(Some(Channel::Internal)));
            let out = escalation(&inc, &policy, now);
            assert_filled(short, "escalation", &out, open(None));
            let out = customer(&inc, &policy, now);
            assert_filled(short, "customer", &out, open(Some(Channel::Customer)));
            // 003's one-liner names the incident; 002 §6.1's form is posted in the
            // incident's own channel and opens with the time instead.
            let out = internal(&inc, &policy, now);
            assert!(
                out.contains("INC-1") || out.starts_with("2026-11-23 10:20 UTC STATUS UPDATE"),
                "{short}: {out}"
            );

            h.at(40).run(
                "alice",
                &key,
                Action::Resolve {
                    summary: "fixed".into(),
                    force: true,
                    reason: "criteria checked in the review".into(),
                },
            );
            let now = h.now;
            let inc = h.inc(&key).clone();
            let out = status_page(&inc, &policy, Status::Resolved, now);
            assert_filled(short, "resolved", &out, &["next_update"]);
            assert!(out.contains("2026-11-23 10:40 UTC"), "{short}: {out}");
        }
    }

    #[test]
    fn values_fill_every_field_from_the_incident() {
        let policy = Policy::from_toml(presets::DEFAULT).unwrap();
        let (h, key) = realistic(policy.clone());
        let inc = h.inc(&key);
        let v = values(inc, &policy, h.now);
        let keys: Vec<&str> = v.keys().copied().collect();
        let mut fields = FIELDS.to_vec();
        fields.sort_unstable();
        assert_eq!(keys, fields, "values() must provide every field");
        assert_eq!(v["id"], "INC-1");
        assert_eq!(v["severity"], "P1");
        assert_eq!(v["severity_name"], "Critical");
        assert_eq!(v["status"], "identified");
        assert_eq!(v["services"], "checkout-api, payments");
        assert_eq!(v["customers"], "all EU tenants");
        assert_eq!(v["declared_at"], "2026-11-23 10:00 UTC");
        assert_eq!(v["now"], "2026-11-23 10:20 UTC");
        assert_eq!(v["duration"], "20m");
        assert_eq!(v["ic"], "alice");
        assert_eq!(v["tech_lead"], "bob");
        assert_eq!(v["comms"], "carol");
        assert_eq!(
            v["roles"],
            "Incident Commander: alice, Technical Lead: bob, Communications Lead: carol, Scribe: dave"
        );
        assert_eq!(v["mitigation"], "contained at 2026-11-23 10:15 UTC");
        // P1 internal every 15m from declaration (10:15, overdue) beats the status page
        // (10:08 + 30m) and the customer email (first within 15m → 10:15 too).
        assert_eq!(v["next_update"], "2026-11-23 10:15 UTC");
        assert_eq!(v["resolved_at"], "");
        // Per channel: the post being written at 10:20 is the status page's
        // latest, so it promises the next one 30m after it (its clock's due time).
        let sp = values_for(inc, &policy, Channel::StatusPage, h.now);
        assert_eq!(sp["next_update"], "2026-11-23 10:50 UTC");
        let out = status_page(inc, &policy, Status::Identified, h.now);
        assert!(
            out.contains("Next update by 2026-11-23 10:50 UTC."),
            "{out}"
        );
        for f in HUMAN_FIELDS {
            assert_eq!(v[f], "", "{f} is the author's to fill");
        }
    }

    #[test]
    fn a_late_post_promises_the_next_update_after_itself() {
        // 002 P2: status page first within 15m, then every hour; customer first within
        // 30m and no recurring cadence.
        let policy = Policy::from_toml(presets::DEFAULT).unwrap();
        let mut h = Harness::new(policy.clone());
        let key = h.declare("Webhooks delayed", "P2");
        // 25 minutes in, the first status page post is 10 minutes late.
        let out = status_page(h.inc(&key), &policy, Status::Investigating, at(25));
        assert!(
            out.contains("We will provide an update by 2026-11-23 11:25 UTC."),
            "a post made at 10:25 must promise the next one an hour later, not the missed 10:15: {out}"
        );
        // Without a recurring cadence there is nothing to promise: the author fills it in.
        let v = values_for(h.inc(&key), &policy, Channel::Customer, at(25));
        assert_eq!(v["next_update"], "");
        // The escalation request still names the soonest update due on any channel.
        let v = values(h.inc(&key), &policy, at(25));
        assert_eq!(v["next_update"], "2026-11-23 10:15 UTC");
    }

    #[test]
    fn unstaffed_roles_say_so() {
        let policy = Policy::from_toml(presets::DEFAULT).unwrap();
        let mut h = Harness::new(policy.clone());
        let key = h.declare("Disk full", "P3");
        h.run("alice", &key, Action::ReleaseRole { role: "ic".into() });
        let v = values(h.inc(&key), &policy, at(1));
        assert_eq!(v["ic"], "unassigned");
        assert_eq!(v["roles"], "none assigned");
        assert_eq!(v["mitigation"], "not yet contained");
        // P3 in 002: internal every 4h, from declaration.
        assert_eq!(v["next_update"], "2026-11-23 14:00 UTC");
        let out = escalation(h.inc(&key), &policy, at(1));
        assert!(out.contains("[escalation_reason?]"), "{out}");
        assert!(out.contains("- IC: unassigned"), "{out}");
    }
}
