//! Which committed event becomes which notification: a pure function of
//! (event, incident, policy). The delivery worker stores what this returns
//! and sends it; nothing here knows about HTTP or SMTP.
//!
//! Three sources of deliveries:
//! - the policy's routes (`[[notify.routes]]`), filtered by event kind,
//!   severity, incident kind and, for updates, the update channel;
//! - pages and escalations to someone in the directory, who is reached over
//!   every contact method they have (their PagerDuty key, their address, a
//!   Slack mention), routes or not;
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PdAction {
    Trigger,
    Acknowledge,
    Resolve,
}

impl PdAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PdAction::Trigger => "trigger",
            PdAction::Acknowledge => "acknowledge",
            PdAction::Resolve => "resolve",
        }
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

    for r in &notify.routes {
        let Some(cfg) = notify.channels.get(&r.channel) else {
            continue;
        };
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
    if let Some(contact) = reached {
        reach(&mut out, contact, ev, inc, policy, ids);
    }

    // Acknowledge / resolve / re-trigger every PagerDuty key paged for this incident.
    if let Some(action @ (PdAction::Acknowledge | PdAction::Resolve)) = pagerduty_action(kind)
        .filter(|_| {
            !matches!(
                ev.body,
                EventBody::Paged { .. } | EventBody::Escalated { .. }
            )
        })
        .or(matches!(ev.body, EventBody::Reopened { .. }).then_some(PdAction::Trigger))
        .filter(|a| *a != PdAction::Trigger)
    {
        if let Some((channel, cfg)) = notify.first_of(ChannelKind::Pagerduty) {
            for contact in paged_contacts(inc, policy).filter(|c| c.pagerduty.is_some()) {
                let mut intent = base(channel, cfg, &contact.name);
                intent.pd_action = Some(action);
                intent.dedup_key = Some(dedup_key(inc.id, &contact.name));
                push(&mut out, intent);
            }
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
