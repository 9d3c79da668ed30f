//! What the server's scheduler writes on its own: automatic escalations when a
//! policy rule's condition has held long enough, and an "update overdue" mark
//! when a channel misses its cadence.
//!
//! Both are derived from `(world, policy, now)` and the database's
//! [`SystemIds`] key alone. Every event gets an id derived (keyed, so no client
//! can compute and take it first) from the incident and what fired, and is
//! stamped with the instant it
//! became due rather than the instant the scheduler noticed: a restart, a late
//! wake-up or two server replicas racing each other therefore write the very
//! same events, and the store (which dedups by event id) keeps one copy.

use super::clocks::{rule_fire_at, update_due};
use super::event::{Channel, Event, EventBody};
use super::ids::SystemIds;
use super::policy::{EscalationRule, Policy, Trigger};
use super::state::{Incident, World};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The actor of every event the scheduler writes: no token may take this
/// name, and people lists (`@` completion) leave it out.
pub const ACTOR: &str = "scheduler";

/// Every event the scheduler owes at `now`: fired escalation rules and newly
/// overdue update channels of open incidents, oldest first.
///
/// Applying the result and calling again at the same `now` yields nothing:
/// a fired rule is recorded on the incident, an overdue deadline in
/// `overdue_marked`.
pub fn due_events(
    world: &World,
    policy: &Policy,
    ids: &SystemIds,
    now: DateTime<Utc>,
) -> Vec<Event> {
    let mut out = Vec::new();
    for inc in world.open().filter(|i| i.is_open()) {
        for (rule, at) in pending_rules(inc, policy) {
            if at <= now {
                out.push(Event {
                    id: rule_event_id(ids, inc.id, &rule.id),
                    incident: inc.id,
                    actor: ACTOR.into(),
                    occurred_at: at,
                    body: EventBody::Escalated {
                        to: rule.to.clone(),
                        reason: reason(rule, inc, policy),
                        rule: Some(rule.id.clone()),
                    },
                });
            }
        }
        for (channel, due_at) in pending_overdue(inc, policy) {
            if due_at <= now {
                out.push(Event {
                    id: overdue_event_id(ids, inc.id, channel, due_at),
                    incident: inc.id,
                    actor: ACTOR.into(),
                    occurred_at: due_at,
                    body: EventBody::UpdateOverdue { channel, due_at },
                });
            }
        }
    }
    // Stable: within one instant, incidents stay in number order.
    out.sort_by_key(|e| e.occurred_at);
    out
}

/// The earliest instant after `now` at which [`due_events`] would return
/// something new, given the world as it is; `None` when nothing is pending.
///
/// The scheduler writes `due_events(now)`, then sleeps until this instant or
/// until a new event arrives (any event can move a deadline), instead of polling.
pub fn next_wakeup(world: &World, policy: &Policy, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    world
        .open()
        .filter(|i| i.is_open())
        .flat_map(|inc| {
            let rules = pending_rules(inc, policy).map(|(_, at)| at);
            let overdue = pending_overdue(inc, policy).map(|(_, at)| at);
            rules.chain(overdue).collect::<Vec<_>>()
        })
        .filter(|at| *at > now)
        .min()
}

/// The id of the escalation `rule` writes for `incident`: one per rule and incident.
pub fn rule_event_id(ids: &SystemIds, incident: Uuid, rule: &str) -> Uuid {
    ids.derive("rule", &[incident.as_bytes(), rule.as_bytes()])
}

/// The id of the overdue mark for one missed deadline of one channel.
pub fn overdue_event_id(
    ids: &SystemIds,
    incident: Uuid,
    channel: Channel,
    due_at: DateTime<Utc>,
) -> Uuid {
    ids.derive(
        "overdue",
        &[
            incident.as_bytes(),
            channel.as_str().as_bytes(),
            &due_at.timestamp_micros().to_be_bytes(),
        ],
    )
}

/// Automatic rules that have not fired yet for `inc`, with their fire time.
fn pending_rules<'a>(
    inc: &'a Incident,
    policy: &'a Policy,
) -> impl Iterator<Item = (&'a EscalationRule, DateTime<Utc>)> + 'a {
    policy
        .escalations
        .iter()
        .filter_map(move |rule| rule_fire_at(rule, inc, policy).map(|at| (rule, at)))
}

/// The next deadline of every channel the severity has a cadence for, unless already marked overdue.
fn pending_overdue<'a>(
    inc: &'a Incident,
    policy: &'a Policy,
) -> impl Iterator<Item = (Channel, DateTime<Utc>)> + 'a {
    let sev = policy.severity(&inc.severity);
    Channel::ALL.into_iter().filter_map(move |ch| {
        let (_, due, _) = update_due(inc, sev?.updates.for_channel(ch), ch)?;
        (!inc.overdue_marked.contains(&(ch, due))).then_some((ch, due))
    })
}

/// Why a rule fired, in the runbook's words: `P1 not acknowledged within 5m`.
fn reason(rule: &EscalationRule, inc: &Incident, policy: &Policy) -> String {
    let sev = policy
        .severity(&inc.severity)
        .map_or(inc.severity.as_str(), |s| s.label.as_str());
    let subject = if rule.kinds.is_empty() {
        sev.to_string()
    } else {
        format!("{sev} {} incident", inc.kind)
    };
    let after = rule.after;
    match rule.when {
        Trigger::Unacknowledged => format!("{subject} not acknowledged within {after}"),
        Trigger::Uncontained => format!("{subject} not contained within {after}"),
        Trigger::Open if after.amount == 0 && rule.kinds.is_empty() => {
            format!("{subject} incident: escalate immediately")
        }
        Trigger::Open if after.amount == 0 => format!("{subject}: escalate immediately"),
        Trigger::Open => format!("{subject} still open after {after}"),
        Trigger::Unanswered => {
            let who = super::routing::answer_clocks(inc, policy)
                .into_iter()
                .filter(|a| a.answered_at.is_none() && !a.who.eq_ignore_ascii_case(&rule.to))
                .min_by_key(|a| a.due_at)
                .map_or_else(|| "the person called".to_string(), |a| a.who);
            format!("{subject}: {who} did not answer within their response time")
        }
        Trigger::UpdateOverdue => {
            let channel = policy.severity(&inc.severity).and_then(|s| {
                Channel::ALL
                    .into_iter()
                    .filter_map(|ch| {
                        update_due(inc, s.updates.for_channel(ch), ch).map(|(_, due, _)| (due, ch))
                    })
                    .min()
                    .map(|(_, ch)| ch)
            });
            match channel {
                Some(ch) => format!("{subject}: {} update overdue by {after}", ch.label()),
                None => format!("{subject}: update overdue by {after}"),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::command::Action;
    use crate::domain::testkit::{Harness, at, policy};

    fn escalations(h: &Harness, key: &str) -> Vec<(String, DateTime<Utc>)> {
        h.inc(key)
            .escalations
            .iter()
            .map(|e| (e.to.clone(), e.at))
            .collect()
    }

    /// 001 "If the incident lead is unavailable, escalate to the next
    /// defined backup", as a rule: someone paged who does not act within their
    /// response time is escalated past, to the rule's target — once, and not
    /// when they answer in time.
    #[test]
    fn an_unanswered_page_steps_to_the_backup() {
        let text = format!(
            "{}\n[[escalations]]\nid = \"lead-unanswered\"\nwhen = \"unanswered\"\nafter = \"0m\"\n\
             to = \"Backup incident lead\"\n[[notify.directory]]\nname = \"dana\"\n\
             respond_within = \"10m\"\n",
            crate::domain::testkit::POLICY
        );
        let p = Policy::from_toml(&text).unwrap();
        let mut h = Harness::new(p.clone());
        let key = h.declare("Exports leaking", "P3");
        h.at(1);
        h.run(
            "alice",
            &key,
            Action::Page {
                who: "dana".into(),
                reason: "you lead this".into(),
            },
        );
        h.at(10);
        assert!(h.tick().is_empty());
        assert_eq!(next_wakeup(&h.world, &h.policy, h.now), Some(at(11)));
        h.at(12);
        let fired = h.tick();
        assert_eq!(
            fired.iter().map(|e| e.body.describe()).collect::<Vec<_>>(),
            [
                "escalated to Backup incident lead (rule lead-unanswered): P3: dana did not answer within their response time"
            ]
        );
        h.at(30);
        assert!(h.tick().is_empty(), "once per incident");

        // Answered in time: no step.
        let mut h = Harness::new(p);
        let key = h.declare("Exports leaking", "P3");
        h.run(
            "alice",
            &key,
            Action::Page {
                who: "dana".into(),
                reason: "you lead this".into(),
            },
        );
        h.at(5);
        h.run(
            "dana",
            &key,
            Action::Note {
                kind: crate::domain::event::NoteKind::Note,
                text: "on it".into(),
            },
        );
        h.at(20);
        assert!(h.tick().is_empty());
    }

    #[test]
    fn fires_at_the_rule_time_not_before_and_only_once() {
        let mut h = Harness::new(policy());
        let key = h.declare("API down", "P1");

        h.at(4);
        assert!(h.tick().is_empty(), "nothing is due 4 minutes in");
        assert_eq!(next_wakeup(&h.world, &h.policy, h.now), Some(at(5)));

        // The scheduler woke late: the event still carries the rule's fire time.
        h.at(6);
        let fired = h.tick();
        assert_eq!(fired.len(), 1, "{fired:?}");
        let e = &fired[0];
        assert_eq!(&*e.actor, "scheduler");
        assert_eq!(e.occurred_at, at(5));
        assert_eq!(
            e.body,
            EventBody::Escalated {
                to: "Backup on-call".into(),
                reason: "P1 not acknowledged within 5m".into(),
                rule: Some("p1-unack-5m".into()),
            }
        );
        assert!(h.tick().is_empty(), "a fired rule fires once");
        assert_eq!(
            escalations(&h, &key),
            vec![("Backup on-call".to_string(), at(5))]
        );
        // Next: the status page's first update (10m) and the 10m unacknowledged rule.
        assert_eq!(next_wakeup(&h.world, &h.policy, h.now), Some(at(10)));
    }

    #[test]
    fn the_same_events_come_out_twice_and_dedup_by_id() {
        let mut h = Harness::new(policy());
        h.declare("API down", "P1");
        h.at(31);
        let first = due_events(&h.world, &h.policy, &h.ids, h.now);
        let again = due_events(&h.world, &h.policy, &h.ids, h.now);
        assert_eq!(first, again, "a second replica writes identical events");
        // Woken later, the same deadlines produce the same events.
        let later = due_events(&h.world, &h.policy, &h.ids, at(32));
        assert_eq!(first, later);
        let targets: Vec<_> = first
            .iter()
            .filter_map(|e| match &e.body {
                EventBody::Escalated { to, .. } => Some(to.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            targets,
            ["Backup on-call", "Engineering Manager", "VP Engineering"]
        );
        let before = h.world.clone();
        h.apply(&first);
        let once = h.world.clone();
        assert_ne!(before, once);
        h.apply(&first);
        assert_eq!(h.world, once, "applying a replica's copy changes nothing");
        assert!(h.tick().is_empty());
        // Oldest first.
        assert!(
            first
                .windows(2)
                .all(|w| w[0].occurred_at <= w[1].occurred_at)
        );
    }

    #[test]
    fn acknowledgement_stops_unacknowledged_rules() {
        let mut h = Harness::new(policy());
        let key = h.declare("API down", "P1");
        h.at(3);
        h.run("bob", &key, Action::Acknowledge);
        h.at(29);
        assert!(
            h.tick()
                .iter()
                .all(|e| matches!(e.body, EventBody::UpdateOverdue { .. })),
            "no escalation once acknowledged"
        );
        // Only the "open 30m" rule remains.
        assert_eq!(next_wakeup(&h.world, &h.policy, at(29)), Some(at(30)));
        h.at(30);
        let fired = h.tick();
        let escalated: Vec<_> = fired
            .iter()
            .filter(|e| matches!(e.body, EventBody::Escalated { .. }))
            .collect();
        assert_eq!(escalated.len(), 1, "{fired:?}");
        assert_eq!(
            escalations(&h, &key),
            vec![("VP Engineering".to_string(), at(30))]
        );
    }

    #[test]
    fn kind_filter_escalates_security_incidents_immediately() {
        let mut h = Harness::new(policy());
        let sec = h.declare_kind("Token leaked", "P2", Some("security"));
        let avail = h.declare_kind("Slow search", "P2", Some("availability"));
        let fired = h.tick();
        assert_eq!(fired.len(), 1, "{fired:?}");
        assert_eq!(fired[0].incident, h.inc(&sec).id);
        assert_eq!(
            fired[0].body,
            EventBody::Escalated {
                to: "Security Lead".into(),
                reason: "P2 security incident: escalate immediately".into(),
                rule: Some("security".into()),
            }
        );
        assert!(h.inc(&avail).escalations.is_empty());
    }

    /// Runbook 002 "Any security incident → Security Lead immediately": an
    /// availability incident found to be a breach escalates at the
    /// reclassification, not backdated to its declaration.
    #[test]
    fn a_kind_change_fires_the_new_kinds_rules_from_then() {
        let mut h = Harness::new(policy());
        let key = h.declare_kind("Login errors", "P2", Some("availability"));
        h.at(3);
        h.run("bob", &key, Action::Acknowledge);
        h.at(20);
        h.tick(); // the status page's first update falls overdue at 15m
        let e = h.refuse(
            "alice",
            &key,
            Action::SetKind {
                kind: "availability".into(),
                reason: "same".into(),
            },
        );
        assert_eq!(e.to_string(), "INC-1 is already kind availability");
        let e = h.refuse(
            "alice",
            &key,
            Action::SetKind {
                kind: "fraud".into(),
                reason: "x".into(),
            },
        );
        assert!(
            e.to_string().starts_with("unknown incident kind \"fraud\""),
            "{e}"
        );
        let ev = h.run(
            "alice",
            &key,
            Action::SetKind {
                kind: "security".into(),
                reason: "credential stuffing confirmed".into(),
            },
        );
        assert_eq!(
            ev[0].body.describe(),
            "kind availability → security: credential stuffing confirmed"
        );
        assert_eq!(h.inc(&key).kind, "security");
        let fired = h.tick();
        assert_eq!(fired.len(), 1, "{fired:?}");
        assert_eq!(
            fired[0].occurred_at,
            at(20),
            "fires at the change, not at declaration"
        );
        assert_eq!(
            fired[0].body,
            EventBody::Escalated {
                to: "Security Lead".into(),
                reason: "P2 security incident: escalate immediately".into(),
                rule: Some("security".into()),
            }
        );
        assert!(h.tick().is_empty(), "once");
    }

    #[test]
    fn severity_filter_picks_the_rules_of_the_current_severity() {
        let mut h = Harness::new(policy());
        let p2 = h.declare("Search degraded", "P2");
        // The P1 rules (5m, 10m) do not apply to a P2.
        h.at(14);
        assert!(h.tick().is_empty());
        h.at(15);
        let fired = h.tick();
        assert_eq!(fired.len(), 2, "{fired:?}"); // the P2 rule and the status page's first update
        assert_eq!(
            escalations(&h, &p2),
            vec![("Backup on-call".to_string(), at(15))]
        );
        match &fired[0].body {
            EventBody::Escalated { reason, rule, .. } => {
                assert_eq!(reason, "P2 not acknowledged within 15m");
                assert_eq!(rule.as_deref(), Some("p2-unack-15m"));
            }
            other => panic!("expected an escalation first, got {other:?}"),
        }

        // Raised to P1 at +40: the P1 rules apply from the upgrade on, never backdated before it.
        h.at(40);
        h.run(
            "alice",
            &p2,
            Action::SetSeverity {
                severity: "P1".into(),
                reason: "all regions".into(),
            },
        );
        let fired = h.tick();
        let reasons: Vec<_> = fired
            .iter()
            .filter_map(|e| match &e.body {
                EventBody::Escalated { reason, .. } => Some((reason.as_str(), e.occurred_at)),
                _ => None,
            })
            .collect();
        // "P1 open > 30m" counts from declaration, but not from before it was a P1.
        assert_eq!(reasons, [("P1 still open after 30m", at(40))]);
        assert_eq!(next_wakeup(&h.world, &h.policy, h.now), Some(at(45)));
        h.at(51);
        h.tick();
        assert_eq!(
            escalations(&h, &p2),
            vec![
                ("Backup on-call".to_string(), at(15)),
                ("VP Engineering".to_string(), at(40)),
                ("Backup on-call".to_string(), at(45)),
                ("Engineering Manager".to_string(), at(50)),
            ]
        );
    }

    #[test]
    fn overdue_updates_are_marked_once_per_missed_deadline() {
        let mut h = Harness::new(policy());
        let key = h.declare("API down", "P1");
        h.at(2);
        h.run("bob", &key, Action::Acknowledge);
        // Internal updates every 15m from declaration; status page first at 10m.
        h.at(10);
        let fired = h.tick();
        assert_eq!(
            fired.iter().map(|e| &e.body).collect::<Vec<_>>(),
            vec![&EventBody::UpdateOverdue {
                channel: Channel::StatusPage,
                due_at: at(10),
            }]
        );
        assert_eq!(fired[0].occurred_at, at(10));
        assert!(h.tick().is_empty());
        h.at(12);
        h.run(
            "carol",
            &key,
            Action::PostUpdate {
                channel: Channel::StatusPage,
                state: None,
                text: "Investigating".into(),
            },
        );
        // The next status page post is due 30m after that one.
        assert_eq!(next_wakeup(&h.world, &h.policy, h.now), Some(at(15)));
        h.at(42);
        let channels: Vec<_> = h
            .tick()
            .into_iter()
            .filter_map(|e| match e.body {
                EventBody::UpdateOverdue { channel, due_at } => Some((channel, due_at)),
                _ => None,
            })
            .collect();
        assert_eq!(
            channels,
            vec![
                (Channel::Internal, at(15)),
                (Channel::Customer, at(15)),
                (Channel::StatusPage, at(42)),
            ]
        );
    }

    #[test]
    fn resolved_incidents_owe_nothing() {
        let mut h = Harness::new(policy());
        let key = h.declare("API down", "P1");
        h.at(1);
        h.run(
            "alice",
            &key,
            Action::Resolve {
                summary: "false alarm".into(),
                force: true,
                reason: String::new(),
            },
        );
        h.at(600);
        assert!(h.tick().is_empty());
        assert_eq!(next_wakeup(&h.world, &h.policy, h.now), None);
    }

    #[test]
    fn update_overdue_rule_names_the_channel() {
        let text = crate::domain::testkit::POLICY.replace(
            "[[checklists]]\nid = \"triage\"",
            "[[escalations]]\nid = \"late-update\"\nwhen = \"update_overdue\"\nafter = \"5m\"\n\
             severities = [\"P1\"]\nto = \"Communications Lead\"\n\n[[checklists]]\nid = \"triage\"",
        );
        let mut h = Harness::new(Policy::from_toml(&text).unwrap());
        let key = h.declare("API down", "P1");
        h.at(1);
        h.run("bob", &key, Action::Acknowledge);
        h.at(14);
        h.tick();
        let late: Vec<_> = h
            .inc(&key)
            .escalations
            .iter()
            .filter(|e| e.rule.as_deref() == Some("late-update"))
            .collect();
        assert_eq!(late.len(), 0, "status page due at 10m, +5m is 15m");
        h.at(15);
        h.tick();
        let late: Vec<_> = h
            .inc(&key)
            .escalations
            .iter()
            .filter(|e| e.rule.as_deref() == Some("late-update"))
            .map(|e| e.reason.clone())
            .collect();
        assert_eq!(late, ["P1: status page update overdue by 5m"]);
    }
}
