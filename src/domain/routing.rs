//! Which committed event becomes which notification: a pure function of
//! (event, incident, policy). The delivery worker stores what this returns
//! and sends it; nothing here knows about HTTP or SMTP.
//!
//! Three sources of deliveries:
//! - the policy's routes (`[[notify.routes]]`), filtered by event kind,
//!   severity, incident kind and, for updates, the update channel;
//! - pages and escalations to someone in the directory, who is reached over
//!   every contact method they have (their PagerDuty key, their address, a
//!   Slack mention), routes or not; a route naming people (`to`) reaches them
//!   the same way (the runbooks' "Executive notification");
//! - acknowledging, resolving or reopening an incident, which tells every
//!   PagerDuty key triggered for it, so a page does not ring on after the
//!   incident is handled.
//!
//! Each delivery's id is derived (keyed) from the event id, the channel and
//! the target, so the same event always yields the same deliveries: that id
//! is the `webhook-id`, and PagerDuty's `dedup_key` is stable per incident and
//! target, which is how a target deduplicates a resend after a crash.

use super::event::{Event, EventBody};
use super::ids::SystemIds;
use super::notify::{ChannelConfig, ChannelKind, Contact};
use super::policy::Policy;
use super::state::Incident;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The Events API v2 `event_action`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PdAction {
    Trigger,
    Acknowledge,
    Resolve,
}

impl PdAction {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The PagerDuty action an event kind maps to, if any.
pub fn pagerduty_action(kind: &str) -> Option<PdAction> {
    match kind {
        "declared" | "reopened" | "escalated" | "paged" => Some(PdAction::Trigger),
        "acknowledged" => Some(PdAction::Acknowledge),
        "resolved" | "closed" => Some(PdAction::Resolve),
        _ => None,
    }
}

/// Whether a route to PagerDuty may name this event kind.
pub fn pagerduty_maps(kind: &str) -> bool {
    pagerduty_action(kind).is_some()
}

/// One notification to send: everything the channel needs, fixed at routing time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Intent {
    /// Derived from (event, channel, target): the idempotency key (`webhook-id`).
    pub id: Uuid,
    /// The event this notifies about.
    pub about: Uuid,
    pub incident: Uuid,
    /// A key of `[notify.channels]`.
    pub channel: String,
    pub kind: ChannelKind,
    /// The directory contact reached, or empty for the channel's own target.
    pub target: String,
    /// The event kind (`declared`…).
    pub what: String,
    #[serde(default)]
    pub pd_action: Option<PdAction>,
    /// PagerDuty's `dedup_key`: one per incident and target.
    #[serde(default)]
    pub dedup_key: Option<String>,
    /// Deliveries with the same key leave in log order (a resolve never overtakes its trigger).
    pub order_key: String,
    /// `INC-3`
    pub incident_key: String,
    pub title: String,
    pub severity: String,
    /// PagerDuty's payload severity: critical / error / warning / info.
    pub pd_severity: String,
    /// One line: `[INC-3 P1] API down — declared P1 availability incident: API down`.
    pub summary: String,
    /// The whole text (an update's body, or the summary again).
    pub text: String,
    /// A Slack mention for the person paged.
    #[serde(default)]
    pub mention: Option<String>,
    /// Email recipients.
    #[serde(default)]
    pub to: Vec<String>,
    /// The event itself (the webhook body carries it).
    pub event: Event,
}

impl Intent {
    /// `Slack (chat)` / `PagerDuty → alice`, for the timeline and the TUI.
    pub fn label(&self) -> String {
        if self.target.is_empty() {
            format!("{} ({})", self.kind.label(), self.channel)
        } else {
            format!("{} → {}", self.kind.label(), self.target)
        }
    }
}

/// PagerDuty's `dedup_key` for an incident and target (`""` is the service).
pub fn dedup_key(incident: Uuid, target: &str) -> String {
    if target.is_empty() {
        format!("warroom-{incident}")
    } else {
        format!(
            "warroom-{incident}-{}",
            target
                .trim_start_matches('@')
                .to_lowercase()
                .replace(' ', "-")
        )
    }
}

/// Every notification `ev` owes, given the incident as it stands after `ev`.
pub fn route(ev: &Event, inc: &Incident, policy: &Policy, ids: &SystemIds) -> Vec<Intent> {
    let kind = ev.body.kind_name();
    if !super::notify::ROUTABLE.contains(&kind) {
        return Vec::new();
    }
    let notify = &policy.notify;
    let mut out: Vec<Intent> = Vec::new();
    let base = |channel: &str, cfg: &ChannelConfig, target: &str| {
        make(ev, inc, policy, ids, channel, cfg.kind(), target)
    };

    let mut told: Vec<&Contact> = Vec::new();
    for r in &notify.routes {
        if !r.events.is_empty() && !r.events.iter().any(|e| e == kind) {
            continue;
        }
        if !r.severities.is_empty()
            && !r
                .severities
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&inc.severity))
        {
            continue;
        }
        if !r.kinds.is_empty() && !r.kinds.contains(&inc.kind) {
            continue;
        }
        if !r.updates.is_empty() {
            match &ev.body {
                EventBody::UpdatePosted { channel, .. } if r.updates.contains(channel) => {}
                _ => continue,
            }
        }
        if !r.to.is_empty() {
            // People the runbook says must be told: reached like a page, each once.
            for c in r.to.iter().filter_map(|w| notify.contact(w)) {
                if !told.iter().any(|t| t.name == c.name) {
                    told.push(c);
                }
            }
            continue;
        }
        let Some(cfg) = notify.channels.get(&r.channel) else {
            continue;
        };
        let mut intent = base(&r.channel, cfg, "");
        match cfg {
            ChannelConfig::Pagerduty { .. } => {
                let Some(action) = pagerduty_action(kind) else {
                    continue;
                };
                intent.pd_action = Some(action);
                intent.dedup_key = Some(dedup_key(inc.id, ""));
            }
            ChannelConfig::Email { to, .. } => intent.to = to.clone(),
            _ => {}
        }
        push(&mut out, intent);
    }

    // A page or an escalation to someone in the directory reaches them.
    let reached = match &ev.body {
        EventBody::Paged { who, .. } => notify.contact(who),
        EventBody::Escalated { to, .. } => notify.contact(to),
        _ => None,
    };
    if let Some(contact) = reached
        && !told.iter().any(|t| t.name == contact.name)
    {
        told.push(contact);
    }
    for contact in told {
        reach(&mut out, contact, ev, inc, policy, ids);
    }

    // Acknowledging or resolving the incident does the same to every
    // PagerDuty key paged for it, so a page does not ring on after it is handled.
    let follow_up = match &ev.body {
        EventBody::Acknowledged => Some(PdAction::Acknowledge),
        EventBody::Resolved { .. } => Some(PdAction::Resolve),
        _ => None,
    };
    if let Some(action) = follow_up
        && let Some((channel, cfg)) = notify.first_of(ChannelKind::Pagerduty)
    {
        for contact in paged_contacts(inc, policy).filter(|c| c.pagerduty.is_some()) {
            let mut intent = base(channel, cfg, &contact.name);
            intent.pd_action = Some(action);
            intent.dedup_key = Some(dedup_key(inc.id, &contact.name));
            push(&mut out, intent);
        }
    }
    out
}

/// Directory contacts paged or escalated to in this incident, each once.
pub fn paged_contacts<'p>(inc: &Incident, policy: &'p Policy) -> impl Iterator<Item = &'p Contact> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for n in inc.calls.iter().map(|c| c.who.as_str()) {
        if let Some(c) = policy.notify.contact(n)
            && !seen.contains(&c.name.as_str())
        {
            seen.push(&c.name);
            out.push(c);
        }
    }
    out.into_iter()
}

fn reach(
    out: &mut Vec<Intent>,
    contact: &Contact,
    ev: &Event,
    inc: &Incident,
    policy: &Policy,
    ids: &SystemIds,
) {
    let notify = &policy.notify;
    if contact.pagerduty.is_some()
        && let Some((channel, cfg)) = notify.first_of(ChannelKind::Pagerduty)
    {
        let mut intent = make(ev, inc, policy, ids, channel, cfg.kind(), &contact.name);
        intent.pd_action = Some(PdAction::Trigger);
        intent.dedup_key = Some(dedup_key(inc.id, &contact.name));
        push(out, intent);
    }
    if let Some(addr) = &contact.email
        && let Some((channel, cfg)) = notify.first_of(ChannelKind::Email)
    {
        let mut intent = make(ev, inc, policy, ids, channel, cfg.kind(), &contact.name);
        intent.to = vec![addr.clone()];
        push(out, intent);
    }
    if let Some(handle) = &contact.slack {
        // Mention them in the Slack post this event already makes, or make one.
        if let Some(existing) = out
            .iter_mut()
            .find(|i| i.kind == ChannelKind::Slack && i.target.is_empty())
        {
            existing.mention = Some(handle.clone());
        } else if let Some((channel, cfg)) = notify.first_of(ChannelKind::Slack) {
            let mut intent = make(ev, inc, policy, ids, channel, cfg.kind(), &contact.name);
            intent.mention = Some(handle.clone());
            push(out, intent);
        }
    }
}

fn push(out: &mut Vec<Intent>, intent: Intent) {
    if !out.iter().any(|i| i.id == intent.id) {
        out.push(intent);
    }
}

fn make(
    ev: &Event,
    inc: &Incident,
    policy: &Policy,
    ids: &SystemIds,
    channel: &str,
    kind: ChannelKind,
    target: &str,
) -> Intent {
    let what = ev.body.kind_name();
    let id = ids.derive(
        "notify",
        &[ev.id.as_bytes(), channel.as_bytes(), target.as_bytes()],
    );
    let describe = ev.body.describe();
    let summary = format!(
        "[{} {}] {} — {describe}",
        inc.key(),
        inc.severity,
        inc.title
    );
    let text = match &ev.body {
        EventBody::UpdatePosted { text, .. } => text.clone(),
        _ => summary.clone(),
    };
    let pd_severity = match policy.severity_rank(&inc.severity) {
        0 => "critical",
        1 => "error",
        2 => "warning",
        _ => "info",
    };
    Intent {
        id,
        about: ev.id,
        incident: inc.id,
        channel: channel.to_string(),
        kind,
        target: target.to_string(),
        what: what.to_string(),
        pd_action: None,
        dedup_key: None,
        order_key: format!("{channel}/{}/{}", inc.id, target.to_lowercase()),
        incident_key: inc.key(),
        title: inc.title.clone(),
        severity: inc.severity.clone(),
        pd_severity: pd_severity.to_string(),
        summary,
        text,
        mention: None,
        to: Vec::new(),
        event: ev.clone(),
    }
}

/// A contact's answer clock: "paged 10:02, answer due 10:12".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerClock {
    pub who: String,
    pub paged_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// When they were first seen acting in the incident after the page.
    pub answered_at: Option<DateTime<Utc>>,
}

/// One clock per page or escalation to a directory contact with a response time.
/// Answered means someone the contact answers to (name or alias) acted in the
/// incident after being paged.
pub fn answer_clocks(inc: &Incident, policy: &Policy) -> Vec<AnswerClock> {
    let mut out = Vec::new();
    for call in &inc.calls {
        let at = call.at;
        let Some(contact) = policy.notify.contact(&call.who) else {
            continue;
        };
        let Some(within) = contact.respond_within else {
            continue;
        };
        let answered_at = call
            .acted
            .iter()
            .filter(|(actor, _)| contact.answers_to(actor))
            .map(|(_, t)| *t)
            .min();
        out.push(AnswerClock {
            who: contact.name.clone(),
            paged_at: at,
            due_at: within.after(at),
            answered_at,
        });
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::command::Action;
    use crate::domain::event::{Channel, DeliveryAttempt, DeliveryOutcome};
    use crate::domain::testkit::{Harness, POLICY, at};
    use proptest::prelude::*;

    const NOTIFY: &str = r#"
[notify.channels.chat]
type = "slack"
webhook_url = { env = "X" }
[notify.channels.pager]
type = "pagerduty"
routing_key = { env = "Y" }
[notify.channels.customers]
type = "email"
smtp = "mail:25"
from = "a@b.c"
to = ["c@d.e"]
[[notify.routes]]
channel = "pager"
events = ["declared", "acknowledged", "resolved"]
severities = ["P1"]
[[notify.routes]]
channel = "chat"
events = ["declared", "note", "paged"]
[[notify.routes]]
channel = "customers"
updates = ["customer"]
[[notify.directory]]
name = "alice"
aliases = ["Engineering Manager"]
pagerduty = { env = "Z" }
slack = "<@U1>"
respond_within = "10m"
"#;

    fn harness() -> Harness {
        Harness::new(Policy::from_toml(&format!("{POLICY}{NOTIFY}")).unwrap())
    }

    fn ids() -> SystemIds {
        SystemIds::new([7; 32])
    }

    fn routed(h: &Harness, events: &[Event]) -> Vec<Intent> {
        events
            .iter()
            .flat_map(|e| route(e, h.world.get(&e.incident).unwrap(), &h.policy, &ids()))
            .collect()
    }

    fn summary(intents: &[Intent]) -> Vec<(String, String, Option<PdAction>)> {
        intents
            .iter()
            .map(|i| (i.channel.clone(), i.target.clone(), i.pd_action))
            .collect()
    }

    #[test]
    fn routes_filter_by_event_kind_severity_and_update_channel() {
        let mut h = harness();
        let p1 = h.declare("API down", "P1");
        let declared: Vec<Event> = h.log.clone();
        let got = routed(&h, &declared);
        assert_eq!(
            summary(&got),
            [
                ("pager".into(), String::new(), Some(PdAction::Trigger)),
                ("chat".into(), String::new(), None)
            ]
        );
        assert_eq!(
            got[0].dedup_key.as_deref(),
            Some(dedup_key(got[0].incident, "").as_str())
        );
        assert_eq!(got[0].pd_severity, "critical");

        let p2 = h.declare("Reports slow", "P2");
        let ev = h.log.last().cloned().unwrap();
        let _ = ev;
        let evs = h.events_of(&p2).into_iter().cloned().collect::<Vec<_>>();
        assert_eq!(
            summary(&routed(&h, &evs)),
            [("chat".into(), String::new(), None)],
            "P2: no PagerDuty"
        );

        let ack = h.run("bob", &p1, Action::Acknowledge);
        assert_eq!(
            summary(&routed(&h, &ack)),
            [("pager".into(), String::new(), Some(PdAction::Acknowledge))]
        );

        let customer = h.run(
            "bob",
            &p1,
            Action::PostUpdate {
                channel: Channel::Customer,
                state: None,
                text: "We are on it".into(),
            },
        );
        let got = routed(&h, &customer);
        assert_eq!(summary(&got), [("customers".into(), String::new(), None)]);
        assert_eq!(got[0].to, ["c@d.e"]);
        assert_eq!(got[0].text, "We are on it");
        let internal = h.run(
            "bob",
            &p1,
            Action::PostUpdate {
                channel: Channel::Internal,
                state: None,
                text: "x".into(),
            },
        );
        assert!(routed(&h, &internal).is_empty());
    }

    /// A route naming people (runbook 002 §2.1 "Executive notification")
    /// reaches them over their own contact methods when an event matches: a
    /// P1 declared, or an incident raised to P1 — never a P2 or a downgrade.
    #[test]
    fn a_route_to_people_tells_them_when_an_incident_is_or_becomes_p1() {
        let extra = r#"
[[notify.routes]]
to = ["CEO"]
events = ["declared", "severity_changed"]
severities = ["P1"]
[[notify.directory]]
name = "CEO"
email = "ceo@example.com"
slack = "<@UCEO>"
respond_within = "30m"
"#;
        let policy = Policy::from_toml(&format!("{POLICY}{NOTIFY}{extra}")).unwrap();
        let mut h = Harness::new(policy);
        let p1 = h.declare("API down", "P1");
        let got = routed(&h, &h.log.clone());
        assert_eq!(
            summary(&got),
            [
                ("pager".into(), String::new(), Some(PdAction::Trigger)),
                ("chat".into(), String::new(), None),
                ("customers".into(), "CEO".into(), None),
            ]
        );
        assert_eq!(
            got[1].mention.as_deref(),
            Some("<@UCEO>"),
            "mentioned in the post"
        );
        assert_eq!(got[2].to, ["ceo@example.com"]);
        assert_eq!(got[2].label(), "Email → CEO");

        let p2 = h.declare("Reports slow", "P2");
        let evs: Vec<Event> = h.events_of(&p2).into_iter().cloned().collect();
        assert!(
            !routed(&h, &evs).iter().any(|i| i.target == "CEO"),
            "a P2 is not the CEO's"
        );
        let up = h.run(
            "bob",
            &p2,
            Action::SetSeverity {
                severity: "P1".into(),
                reason: "payments down".into(),
            },
        );
        let got = routed(&h, &up);
        assert_eq!(
            got.iter().map(Intent::label).collect::<Vec<_>>(),
            ["Email → CEO", "Slack → CEO"]
        );
        let down = h.run(
            "bob",
            &p1,
            Action::SetSeverity {
                severity: "P2".into(),
                reason: "partial".into(),
            },
        );
        assert!(routed(&h, &down).is_empty(), "a downgrade tells nobody");

        // A route names a channel or people, and only people in the directory.
        let both = format!("{POLICY}{NOTIFY}{extra}")
            .replace("to = [\"CEO\"]", "to = [\"CEO\"]\nchannel = \"chat\"");
        let e = Policy::from_toml(&both).unwrap_err().to_string();
        assert_eq!(
            e,
            "notify.routes[3].to: a route names either a channel or people (`to`), not both"
        );
        let nobody =
            format!("{POLICY}{NOTIFY}{extra}").replace("to = [\"CEO\"]", "to = [\"Board\"]");
        let e = Policy::from_toml(&nobody).unwrap_err().to_string();
        assert_eq!(
            e,
            "notify.routes[3].to: \"Board\" is not in [[notify.directory]]"
        );
    }

    #[test]
    fn a_page_reaches_the_person_and_resolving_resolves_their_page() {
        let mut h = harness();
        let inc = h.declare("Search slow", "P2");
        let page = h.run(
            "bob",
            &inc,
            Action::Page {
                who: "@Alice".into(),
                reason: "owner".into(),
            },
        );
        let got = routed(&h, &page);
        assert_eq!(
            summary(&got),
            [
                ("chat".into(), String::new(), None),
                ("pager".into(), "alice".into(), Some(PdAction::Trigger))
            ]
        );
        assert_eq!(
            got[0].mention.as_deref(),
            Some("<@U1>"),
            "the chat post mentions her"
        );
        let alice_key = got[1].dedup_key.clone().unwrap();
        assert!(alice_key.ends_with("-alice"));
        // An escalation to her alias reaches her under the same key.
        let esc = h.run(
            "bob",
            &inc,
            Action::Escalate {
                to: Some("Engineering Manager".into()),
                reason: "r".into(),
            },
        );
        let got = routed(&h, &esc);
        // No route sends escalations to chat, so she gets her own mention there.
        assert_eq!(
            summary(&got),
            [
                ("pager".into(), "alice".into(), Some(PdAction::Trigger)),
                ("chat".into(), "alice".into(), None)
            ]
        );
        assert_eq!(got[1].mention.as_deref(), Some("<@U1>"));
        assert_eq!(got[0].dedup_key.as_deref(), Some(alice_key.as_str()));
        // Resolving (a P2: no service route) still resolves her page, once.
        let res = h.run(
            "bob",
            &inc,
            Action::Resolve {
                summary: String::new(),
                force: true,
                reason: String::new(),
            },
        );
        let got = routed(&h, &res);
        let pd: Vec<_> = got
            .iter()
            .filter(|i| i.kind == ChannelKind::Pagerduty)
            .collect();
        assert_eq!(pd.len(), 1);
        assert_eq!(pd[0].pd_action, Some(PdAction::Resolve));
        assert_eq!(pd[0].dedup_key.as_deref(), Some(alice_key.as_str()));
    }

    #[test]
    fn the_answer_clock_runs_from_the_page_and_is_met_when_they_act() {
        let mut h = harness();
        let inc = h.declare("Search slow", "P2");
        h.at(2);
        h.run(
            "bob",
            &inc,
            Action::Page {
                who: "@alice".into(),
                reason: "owner".into(),
            },
        );
        let clocks = answer_clocks(h.inc(&inc), &h.policy);
        assert_eq!(clocks.len(), 1);
        assert_eq!(clocks[0].paged_at, at(2));
        assert_eq!(clocks[0].due_at, at(12), "paged 10:02, answer due 10:12");
        assert_eq!(clocks[0].answered_at, None);
        h.at(4);
        h.run(
            "bob",
            &inc,
            Action::Note {
                kind: Default::default(),
                text: "still waiting".into(),
            },
        );
        assert_eq!(
            answer_clocks(h.inc(&inc), &h.policy)[0].answered_at,
            None,
            "bob is not alice"
        );
        h.at(5);
        h.run(
            "alice",
            &inc,
            Action::Note {
                kind: Default::default(),
                text: "on it".into(),
            },
        );
        assert_eq!(
            answer_clocks(h.inc(&inc), &h.policy)[0].answered_at,
            Some(at(5))
        );
        let all = crate::domain::clocks::clocks(h.inc(&inc), &h.policy, at(6));
        let c = all
            .iter()
            .find(|c| c.kind == crate::domain::clocks::ClockKind::Answer)
            .unwrap();
        assert_eq!(c.label, "alice answers (paged 10:02)");
        assert_eq!(c.state, crate::domain::clocks::ClockState::Met);
    }

    proptest! {
        /// Whatever happens, routing is deterministic, ids are unique per
        /// (event, channel, target), every intent names a configured channel,
        /// and the worker's own outcome events are never routed.
        #[test]
        fn routing_is_deterministic_and_never_routes_outcomes(
            steps in proptest::collection::vec(0u8..6, 1..25),
            sev in prop_oneof![Just("P1"), Just("P2"), Just("P3")],
        ) {
            let mut h = harness();
            let inc = h.declare("Prop", sev);
            let mut seen = std::collections::HashSet::new();
            let mut minute = 0;
            for s in steps {
                minute += 1;
                h.at(minute);
                let action = match s {
                    0 => Action::Note { kind: Default::default(), text: format!("n{minute}") },
                    1 => Action::Page { who: "@alice".into(), reason: "r".into() },
                    2 => Action::Acknowledge,
                    3 => Action::PostUpdate { channel: Channel::Customer, state: None, text: "u".into() },
                    4 => Action::Resolve { summary: String::new(), force: true, reason: String::new() },
                    _ => Action::Reopen { reason: "again".into() },
                };
                let Ok(events) = h.try_run("bob", Some(&inc), action) else { continue };
                for e in &events {
                    let a = route(e, h.world.get(&e.incident).unwrap(), &h.policy, &ids());
                    let b = route(e, h.world.get(&e.incident).unwrap(), &h.policy, &ids());
                    prop_assert_eq!(&a, &b);
                    for i in &a {
                        prop_assert!(h.policy.notify.channels.contains_key(&i.channel));
                        prop_assert!(seen.insert(i.id), "id reused: {:?}", i);
                        prop_assert!(crate::domain::ids::is_system_id(i.id));
                        // Its outcome is never routed again.
                        let outcome = Event {
                            id: Uuid::new_v4(),
                            incident: e.incident,
                            actor: "notify".into(),
                            occurred_at: h.now,
                            body: EventBody::DeliveryAttempted(Box::new(DeliveryAttempt {
                                delivery: i.id,
                                channel: i.channel.clone(),
                                kind: i.kind,
                                target: i.target.clone(),
                                about: e.id,
                                what: i.what.clone(),
                                attempt: 1,
                                outcome: DeliveryOutcome::Failed,
                                detail: String::new(),
                                retry_at: None,
                                retry_in: None,
                            })),
                        };
                        prop_assert!(route(&outcome, h.world.get(&e.incident).unwrap(), &h.policy, &ids()).is_empty());
                    }
                }
            }
        }
    }
}
