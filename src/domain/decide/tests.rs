//! `decide` + `World::apply`: one test per refusal `decide` can produce, and
//! property tests over random command sequences.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::domain::command::Action;
use crate::domain::escalation;
use crate::domain::event::{ActionState, Channel, NoteKind};
use crate::domain::testkit::{Harness, at, policy};
use proptest::prelude::*;

fn ack() -> Action {
    Action::Acknowledge
}

fn status(s: Status) -> Action {
    Action::SetStatus { status: s }
}

fn resolve(force: bool) -> Action {
    Action::Resolve {
        summary: "done".into(),
        force,
        reason: String::new(),
    }
}

fn note(text: &str) -> Action {
    Action::Note {
        kind: NoteKind::Note,
        text: text.into(),
    }
}

fn tick(checklist: &str, item: &str) -> Action {
    Action::SetChecklistItem {
        checklist: checklist.into(),
        item: item.into(),
        done: true,
        waive: None,
    }
}

fn declare(title: &str, severity: &str, kind: Option<&str>) -> Action {
    Action::Declare {
        title: title.into(),
        severity: severity.into(),
        kind: kind.map(str::to_string),
        impact: None,
        commander: None,
    }
}

/// An incident that is monitoring since +10 and resolved at +25 (after the 15m window).
fn resolved() -> (Harness, String) {
    let mut h = Harness::new(policy());
    let key = h.declare("API down", "P1");
    h.at(10).run("alice", &key, status(Status::Monitoring));
    h.at(25).run("alice", &key, resolve(false));
    (h, key)
}

#[test]
fn unknown_incident_is_not_found() {
    let mut h = Harness::new(policy());
    let e = h.refuse("alice", "INC-9", ack());
    assert_eq!(e, DomainError::UnknownIncident("INC-9".into()));
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.to_string(), "unknown incident \"INC-9\"");
}

#[test]
fn a_command_without_incident_is_refused() {
    let mut h = Harness::new(policy());
    let e = h.try_run("alice", None, ack()).unwrap_err();
    assert_eq!(e, DomainError::MissingIncident);
    assert_eq!(e.kind(), ErrorKind::Unprocessable);
}

#[test]
fn closed_incidents_take_only_reopen_and_follow_ups() {
    let (mut h, key) = resolved();
    h.run("alice", &key, tick("resolution", "baseline"));
    h.run("alice", &key, tick("resolution", "no_impact"));
    h.run(
        "alice",
        &key,
        Action::CompleteReview {
            summary: "ok".into(),
        },
    );
    h.run("alice", &key, Action::Close);
    for action in [ack(), note("late"), resolve(true), Action::Close] {
        let e = h.refuse("alice", &key, action);
        assert_eq!(
            e,
            DomainError::Closed {
                key: "INC-1".into()
            }
        );
        assert_eq!(e.to_string(), "INC-1 is closed; reopen it first");
        assert_eq!(e.kind(), ErrorKind::Conflict);
    }
    // Follow-up action items are tracked to completion after closure.
    h.run(
        "alice",
        &key,
        Action::AddActionItem {
            text: "add alert".into(),
            owner: None,
            due: None,
            priority: None,
        },
    );
    h.run(
        "alice",
        &key,
        Action::Reopen {
            reason: "it came back".into(),
        },
    );
    let inc = h.inc(&key);
    assert!(inc.closed.is_none() && inc.resolved.is_none());
    assert_eq!(inc.status, Status::Investigating);
    assert_eq!(inc.reopened, 1);
}

#[test]
fn resolved_incidents_refuse_live_actions() {
    let (mut h, key) = resolved();
    for action in [
        ack(),
        Action::Contain {
            note: String::new(),
        },
        resolve(true),
        status(Status::Identified),
        Action::Escalate {
            to: Some("CTO".into()),
            reason: "why".into(),
        },
        Action::Page {
            who: "bob".into(),
            reason: "why".into(),
        },
    ] {
        let e = h.refuse("alice", &key, action);
        assert_eq!(e.to_string(), "INC-1 is resolved; reopen it first");
    }
    // The record can still be written.
    h.run("alice", &key, note("afterthought"));
}

#[test]
fn acknowledging_twice_names_who_did_it() {
    let mut h = Harness::new(policy());
    let key = h.declare("API down", "P1");
    h.at(1).run("bob", &key, ack());
    let e = h.refuse("carol", &key, ack());
    assert_eq!(
        e,
        DomainError::AlreadyAcknowledged {
            key: "INC-1".into(),
            by: "bob".into()
        }
    );
    assert_eq!(e.to_string(), "INC-1 was already acknowledged by bob");
    assert_eq!(e.kind(), ErrorKind::Conflict);
}

#[test]
fn containing_twice_is_refused() {
    let mut h = Harness::new(policy());
    let key = h.declare("API down", "P1");
    let contain = || Action::Contain {
        note: "rolled back".into(),
    };
    h.run("bob", &key, contain());
    let e = h.refuse("bob", &key, contain());
    assert_eq!(e.to_string(), "INC-1 is already contained");
}

#[test]
fn reopen_close_and_review_need_a_resolved_incident() {
    let mut h = Harness::new(policy());
    let key = h.declare("API down", "P1");
    let e = h.refuse("alice", &key, Action::Reopen { reason: "x".into() });
    assert_eq!(
        e.to_string(),
        "INC-1 is not resolved, so it cannot be reopened"
    );
    let e = h.refuse("alice", &key, Action::Close);
    assert_eq!(
        e.to_string(),
        "INC-1 is not resolved, so it cannot be closed"
    );
    let e = h.refuse(
        "alice",
        &key,
        Action::CompleteReview {
            summary: String::new(),
        },
    );
    assert_eq!(
        e.to_string(),
        "INC-1 is not resolved, so it cannot be reviewed"
    );
    assert_eq!(e.kind(), ErrorKind::Conflict);
}

#[test]
fn unknown_severity_role_kind_and_checklist_item_list_what_is_known() {
    let mut h = Harness::new(policy());
    let e = h
        .try_run("alice", None, declare("x", "P9", None))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown severity \"P9\"; the policy defines P1, P2, P3, P4"
    );
    assert_eq!(e.kind(), ErrorKind::Unprocessable);
    let e = h
        .try_run("alice", None, declare("x", "P1", Some("weather")))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown incident kind \"weather\"; the policy defines availability, security"
    );
    assert!(h.world.incidents.is_empty());

    let key = h.declare("API down", "p1"); // severity ids match case-insensitively
    assert_eq!(h.inc(&key).severity, "P1");
    let e = h.refuse(
        "alice",
        &key,
        Action::AssignRole {
            role: "captain".into(),
            person: "bob".into(),
            note: String::new(),
        },
    );
    assert_eq!(
        e.to_string(),
        "unknown role \"captain\"; the policy defines ic, tech_lead, comms, scribe"
    );
    let e = h.refuse("alice", &key, tick("triage", "coffee"));
    assert_eq!(e.to_string(), "unknown checklist item triage/coffee");
    let e = h.refuse("alice", &key, tick("nope", "verified"));
    assert!(matches!(e, DomainError::UnknownChecklistItem { .. }));
    let e = h.refuse(
        "alice",
        &key,
        Action::SetSeverity {
            severity: "sev0".into(),
            reason: "worse".into(),
        },
    );
    assert!(matches!(e, DomainError::UnknownSeverity { .. }));
}

#[test]
fn unknown_action_item_is_refused() {
    let mut h = Harness::new(policy());
    let key = h.declare("API down", "P1");
    let missing = uuid::Uuid::nil();
    let e = h.refuse(
        "alice",
        &key,
        Action::UpdateActionItem {
            action: missing,
            state: ActionState::Done,
            owner: None,
            due: None,
            priority: None,
        },
    );
    assert_eq!(e, DomainError::UnknownActionItem(missing));
    // A known one is updated.
    let added = h.run(
        "alice",
        &key,
        Action::AddActionItem {
            text: "add alert".into(),
            owner: Some("@bob".into()),
            due: None,
            priority: None,
        },
    );
    let EventBody::ActionItemAdded(a) = &added[0].body else {
        panic!("{added:?}");
    };
    let (action, owner) = (&a.action, &a.owner);
    assert_eq!(owner.as_deref(), Some("bob"));
    h.run(
        "alice",
        &key,
        Action::UpdateActionItem {
            action: *action,
            state: ActionState::Done,
            owner: None,
            due: None,
            priority: None,
        },
    );
    assert_eq!(h.inc(&key).actions[0].state, ActionState::Done);
    assert_eq!(h.inc(&key).actions[0].owner.as_deref(), Some("bob"));
}

#[test]
fn roles_assign_hand_off_and_release() {
    let mut h = Harness::new(policy());
    let key = h.declare("API down", "P1");
    let assign = |role: &str, person: &str| Action::AssignRole {
        role: role.into(),
        person: person.into(),
        note: String::new(),
    };
    let e = h.refuse("alice", &key, assign("ic", "alice"));
    assert_eq!(e.to_string(), "alice already holds ic");
    // bob takes it himself (an offer to someone else waits for them: see `handoff`).
    let ev = h.run("bob", &key, assign("IC", "@bob"));
    assert_eq!(
        ev[0].body,
        EventBody::RoleHandedOff(Box::new(crate::domain::event::RoleChange {
            role: "ic".into(),
            from: "alice".into(),
            to: "bob".into(),
            note: String::new()
        }))
    );
    let e = h.refuse(
        "bob",
        &key,
        Action::ReleaseRole {
            role: "comms".into(),
        },
    );
    assert_eq!(e, DomainError::RoleVacant("comms".into()));
    assert_eq!(e.to_string(), "nobody holds the role comms");
    h.run("bob", &key, assign("comms", "carol"));
    h.run(
        "bob",
        &key,
        Action::ReleaseRole {
            role: "comms".into(),
        },
    );
    assert_eq!(h.inc(&key).roles.get("comms"), None);
    assert_eq!(h.inc(&key).roles.get("ic").map(String::as_str), Some("bob"));
}

#[test]
fn no_change_is_refused() {
    let mut h = Harness::new(policy());
    let key = h.declare("API down", "P1");
    let e = h.refuse(
        "alice",
        &key,
        Action::SetSeverity {
            severity: "P1".into(),
            reason: "same".into(),
        },
    );
    assert_eq!(e.to_string(), "INC-1 is already severity P1");
    let e = h.refuse("alice", &key, status(Status::Investigating));
    assert_eq!(e.to_string(), "INC-1 is already investigating");
    h.run("alice", &key, tick("triage", "verified"));
    let e = h.refuse("alice", &key, tick("triage", "verified"));
    assert_eq!(e.to_string(), "INC-1 is already done: triage/verified");
    assert_eq!(e.kind(), ErrorKind::Conflict);
}

#[test]
fn resolved_is_not_a_status_change() {
    let mut h = Harness::new(policy());
    let key = h.declare("API down", "P1");
    let e = h.refuse("alice", &key, status(Status::Resolved));
    assert_eq!(e, DomainError::ResolveViaStatus);
    let e = h.refuse(
        "alice",
        &key,
        Action::PostUpdate {
            channel: Channel::StatusPage,
            state: Some(Status::Resolved),
            text: "all good".into(),
        },
    );
    assert_eq!(e, DomainError::ResolveViaStatus);
    // Once resolved, the status page may say so.
    h.at(1).run("alice", &key, resolve(true));
    let ev = h.run(
        "carol",
        &key,
        Action::PostUpdate {
            channel: Channel::StatusPage,
            state: Some(Status::Resolved),
            text: "all good".into(),
        },
    );
    assert_eq!(ev.len(), 1);
}

#[test]
fn a_status_page_post_with_a_state_moves_the_status() {
    let mut h = Harness::new(policy());
    let key = h.declare("API down", "P1");
    let ev = h.run(
        "carol",
        &key,
        Action::PostUpdate {
            channel: Channel::StatusPage,
            state: Some(Status::Identified),
            text: "found it".into(),
        },
    );
    assert_eq!(ev.len(), 2);
    assert_eq!(
        ev[0].body,
        EventBody::StatusChanged {
            from: Status::Investigating,
            to: Status::Identified
        }
    );
    assert_eq!(ev[1].id, event_id(ev[0].id, 1));
    assert_eq!(h.inc(&key).status, Status::Identified);
    assert_eq!(
        h.inc(&key).last_update.get(&Channel::StatusPage),
        Some(&at(0))
    );
}

#[test]
fn empty_and_too_long_text_name_the_field() {
    let mut h = Harness::new(policy());
    let e = h
        .try_run("alice", None, declare(" \t ", "P1", None))
        .unwrap_err();
    assert_eq!(e.to_string(), "title must not be empty");
    let long = "x".repeat(MAX_TITLE + 1);
    let e = h
        .try_run("alice", None, declare(&long, "P1", None))
        .unwrap_err();
    assert_eq!(e.to_string(), "title is 201 characters; the limit is 200");
    assert_eq!(e.kind(), ErrorKind::Unprocessable);

    let key = h.declare("API down", "P1");
    let e = h.refuse("alice", &key, note("\u{1b}[2J  "));
    assert_eq!(e, DomainError::Empty { field: "text" });
    let e = h.refuse("alice", &key, note(&"y".repeat(MAX_TEXT + 1)));
    assert_eq!(
        e,
        DomainError::TooLong {
            field: "text",
            len: MAX_TEXT + 1,
            max: MAX_TEXT
        }
    );
    let e = h.refuse(
        "alice",
        &key,
        Action::Page {
            who: "@".into(),
            reason: "help".into(),
        },
    );
    assert_eq!(e, DomainError::Empty { field: "person" });
    let e = h.refuse(
        "alice",
        &key,
        Action::SetSeverity {
            severity: "P2".into(),
            reason: "".into(),
        },
    );
    assert_eq!(e, DomainError::Empty { field: "reason" });
}

#[test]
fn text_is_sanitised_before_it_is_logged() {
    let mut h = Harness::new(policy());
    let key = h.declare("API\u{1b}]0;pwned\u{7} down\u{202e}", "P1");
    assert_eq!(h.inc(&key).title, "API down");
    let ev = h.run("evil\u{1b}[31m", &key, note("a\u{1b}[2Jb\r\nc"));
    assert_eq!(&*ev[0].actor, "evil");
    assert_eq!(
        ev[0].body,
        EventBody::Note {
            kind: NoteKind::Note,
            text: "ab\nc".into()
        }
    );
}

#[test]
fn resolving_waits_for_the_stability_window_unless_forced() {
    let mut h = Harness::new(policy());
    let key = h.declare("API down", "P1");
    let e = h.refuse("alice", &key, resolve(false));
    assert_eq!(
        e.to_string(),
        "INC-1 has been monitoring for no time (status is not monitoring); \
         the policy's stability window is 15m (resolve with force to override)"
    );
    h.at(5).run("alice", &key, status(Status::Monitoring));
    h.at(15);
    let e = h.refuse("alice", &key, resolve(false));
    assert_eq!(
        e,
        DomainError::StabilityWindow {
            key: "INC-1".into(),
            elapsed: "10m".into(),
            window: "15m".into()
        }
    );
    assert_eq!(e.kind(), ErrorKind::Conflict);
    // Forcing resolves now and says so.
    let mut forced = Harness::new(policy());
    let k = forced.declare("API down", "P1");
    forced.at(5).run("alice", &k, status(Status::Monitoring));
    let ev = forced.at(15).run("alice", &k, resolve(true));
    assert_eq!(
        ev[0].body,
        EventBody::Resolved {
            summary: "done".into(),
            forced: true,
            override_reason: String::new(),
            unmet: Vec::new(),
        }
    );
    assert!(
        ev[0]
            .body
            .describe()
            .contains("before the stability window")
    );
    // On the 15th minute of monitoring it resolves unforced, and `force` is not recorded as forcing.
    let ev = h.at(20).run("alice", &key, resolve(true));
    assert_eq!(
        ev[0].body,
        EventBody::Resolved {
            summary: "done".into(),
            forced: false,
            override_reason: String::new(),
            unmet: Vec::new(),
        }
    );
    assert_eq!(h.inc(&key).status, Status::Resolved);
    assert_eq!(h.inc(&key).monitoring_since, None);
}

#[test]
fn leaving_monitoring_restarts_the_stability_window() {
    let mut h = Harness::new(policy());
    let key = h.declare("API down", "P1");
    h.at(5).run("alice", &key, status(Status::Monitoring));
    h.at(12).run("alice", &key, status(Status::Identified));
    h.at(13).run("alice", &key, status(Status::Monitoring));
    h.at(25);
    let e = h.refuse("alice", &key, resolve(false));
    assert!(matches!(e, DomainError::StabilityWindow { ref elapsed, .. } if elapsed == "12m"));
    h.at(28).run("alice", &key, resolve(false));
}

#[test]
fn closing_before_the_definition_of_done_lists_what_is_missing() {
    let (mut h, key) = resolved();
    let e = h.refuse("alice", &key, Action::Close);
    assert_eq!(
        e.to_string(),
        "INC-1 is not done: Resolution criteria unticked: Error rates back to baseline, \
         No ongoing customer impact; post-incident review not completed"
    );
    assert_eq!(e.kind(), ErrorKind::Conflict);
    h.run("alice", &key, tick("resolution", "baseline"));
    h.run("alice", &key, tick("resolution", "no_impact"));
    let e = h.refuse("alice", &key, Action::Close);
    assert_eq!(
        e.to_string(),
        "INC-1 is not done: post-incident review not completed"
    );
    h.run(
        "alice",
        &key,
        Action::CompleteReview {
            summary: String::new(),
        },
    );
    h.run("alice", &key, Action::Close);
    assert!(h.inc(&key).closed.is_some());
}

#[test]
fn a_severity_without_required_review_closes_without_one() {
    let mut h = Harness::new(policy());
    let key = h.declare("Typo", "P4");
    h.run("alice", &key, resolve(true));
    h.run("alice", &key, tick("resolution", "baseline"));
    h.run("alice", &key, tick("resolution", "no_impact"));
    h.run("alice", &key, Action::Close);
}

#[test]
fn escalation_walks_the_path_and_then_needs_a_target() {
    let mut h = Harness::new(policy());
    let key = h.declare("API down", "P1");
    let escalate = || Action::Escalate {
        to: None,
        reason: "need authority".into(),
    };
    let mut to = Vec::new();
    for _ in 0..4 {
        let ev = h.run("alice", &key, escalate());
        let EventBody::Escalated { to: t, rule, .. } = &ev[0].body else {
            panic!("{ev:?}");
        };
        assert_eq!(*rule, None);
        to.push(t.clone());
    }
    // First the step the escalation clock shows (the 5-minute rule's), then up the path.
    assert_eq!(
        to,
        [
            "Backup on-call",
            "Engineering Manager",
            "VP Engineering",
            "CTO"
        ]
    );
    let e = h.refuse("alice", &key, escalate());
    assert_eq!(e, DomainError::NoEscalationTarget);
    assert_eq!(e.kind(), ErrorKind::Unprocessable);
    h.run(
        "alice",
        &key,
        Action::Escalate {
            to: Some("@ceo".into()),
            reason: "P1 only".into(),
        },
    );
    assert_eq!(
        h.inc(&key).escalations.last().map(|e| e.to.as_str()),
        Some("ceo")
    );
}

/// Runbook 004's bug: after the automatic escalation to a higher step, a manual
/// escalation offered the first unused (lower) step again.
#[test]
fn escalation_never_goes_down_after_an_automatic_one() {
    let mut h = Harness::new(policy());
    let key = h.declare("API down", "P1");
    // The 10-minute rule escalates to the Engineering Manager (path step 1).
    h.at(11);
    h.tick();
    h.run("bob", &key, ack());
    assert_eq!(
        h.inc(&key)
            .escalations
            .iter()
            .map(|e| e.to.as_str())
            .collect::<Vec<_>>(),
        ["Backup on-call", "Engineering Manager"]
    );
    // The clock now shows the 30-minute rule's VP Engineering: the default is that step.
    assert_eq!(
        next_escalation_step(h.inc(&key), &h.policy),
        Some("VP Engineering")
    );
    // Once the VP is reached by hand, the clock's step is no longer above: the path goes on.
    h.run(
        "alice",
        &key,
        Action::Escalate {
            to: None,
            reason: "need authority".into(),
        },
    );
    assert_eq!(next_escalation_step(h.inc(&key), &h.policy), Some("CTO"));
    // A manual jump to the top leaves nothing above it.
    h.run(
        "alice",
        &key,
        Action::Escalate {
            to: Some("cto".into()),
            reason: "customer data".into(),
        },
    );
    assert_eq!(next_escalation_step(h.inc(&key), &h.policy), None);
    assert_eq!(highest_escalation_step(h.inc(&key), &h.policy), Some(2));
}

#[test]
fn a_declare_id_cannot_be_reused() {
    let mut h = Harness::new(policy());
    let cmd = h.command(None, declare("API down", "P1", None));
    let events = decide(&h.world, &h.policy, &cmd, "alice", h.now).unwrap();
    assert_eq!(events[0].id, cmd.id);
    assert_eq!(
        events[0].incident, cmd.id,
        "the incident takes the command id"
    );
    h.apply(&events);
    let e = decide(&h.world, &h.policy, &cmd, "alice", h.now).unwrap_err();
    assert_eq!(e, DomainError::IdReused(cmd.id));
    assert_eq!(e.kind(), ErrorKind::Conflict);
}

#[test]
fn declare_assigns_the_commander_and_takes_the_first_kind() {
    let mut h = Harness::new(policy());
    let ev = h
        .try_run(
            "alice",
            None,
            Action::Declare {
                title: "API down".into(),
                severity: "P2".into(),
                kind: None,
                impact: None,
                commander: Some("@dana".into()),
            },
        )
        .unwrap();
    let inc = h.world.get(&ev[0].incident).unwrap();
    assert_eq!(inc.kind, "availability");
    assert_eq!(inc.roles.get("ic").map(String::as_str), Some("dana"));
    assert_eq!(inc.declared.by, "alice");
    assert_eq!(inc.key(), "INC-1");
}

#[test]
fn an_offline_command_keeps_its_time_within_a_day() {
    let mut h = Harness::new(policy());
    h.at(600);
    let mut cmd = h.command(None, declare("API down", "P1", None));
    cmd.occurred_at = Some(at(590));
    let ev = decide(&h.world, &h.policy, &cmd, "alice", h.now).unwrap();
    assert!(ev.iter().all(|e| e.occurred_at == at(590)));
    cmd.occurred_at = Some(at(-2000));
    let ev = decide(&h.world, &h.policy, &cmd, "alice", h.now).unwrap();
    assert!(ev.iter().all(|e| e.occurred_at == at(600 - 24 * 60)));
    cmd.occurred_at = Some(at(700));
    let ev = decide(&h.world, &h.policy, &cmd, "alice", h.now).unwrap();
    assert!(
        ev.iter().all(|e| e.occurred_at == at(600)),
        "never in the future"
    );
}

// ---------------------------------------------------------------- properties

/// One step of a random session.
#[derive(Clone, Debug)]
enum Op {
    /// Minutes pass.
    Wait(i64),
    /// The scheduler runs.
    Tick,
    Declare {
        severity: &'static str,
        kind: Option<&'static str>,
    },
    /// An action on `INC-n` (some numbers do not exist).
    On(u64, Action),
    /// Updates the first action item of `INC-n`, if it has one.
    UpdateFirstAction(u64, ActionState),
    /// Everything closing `INC-n` takes, in order: so that closed incidents do occur.
    WrapUp(u64),
}

/// Mostly usable text, sometimes empty or nothing but an escape sequence.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(String::new()),
        4 => Just("x".to_string()),
        4 => Just("rolled back\nsecond line".to_string()),
        1 => Just("\u{1b}[2J".to_string()),
    ]
}

fn status_strategy() -> impl Strategy<Value = Status> {
    prop::sample::select(Status::ALL.to_vec())
}

fn action() -> impl Strategy<Value = Action> {
    let severity = prop::sample::select(vec!["P1", "P2", "P3", "P4", "P9"]);
    let role = prop::sample::select(vec!["ic", "tech_lead", "comms", "scribe", "captain"]);
    let person = prop::sample::select(vec!["alice", "bob", "@carol", ""]);
    let checklist = prop::sample::select(vec!["triage", "resolution", "nope"]);
    let item = prop::sample::select(vec!["verified", "severity", "baseline", "no_impact"]);
    let channel = prop::sample::select(Channel::ALL.to_vec());
    prop_oneof![
        3 => Just(Action::Acknowledge),
        1 => (severity, text()).prop_map(|(s, reason)| Action::SetSeverity {
            severity: s.into(),
            reason,
        }),
        2 => status_strategy().prop_map(|status| Action::SetStatus { status }),
        1 => text().prop_map(|note| Action::Contain { note }),
        2 => (text(), any::<bool>()).prop_map(|(summary, force)| Action::Resolve { summary, force, reason: String::new() }),
        1 => text().prop_map(|reason| Action::Reopen { reason }),
        2 => Just(Action::Close),
        1 => (prop::sample::select(NoteKind::ALL.to_vec()), text())
            .prop_map(|(kind, text)| Action::Note { kind, text }),
        1 => (role.clone(), person.clone(), text()).prop_map(|(r, p, note)| Action::AssignRole {
            role: r.into(),
            person: p.into(),
            note,
        }),
        1 => role.prop_map(|r| Action::ReleaseRole { role: r.into() }),
        2 => (checklist, item, any::<bool>()).prop_map(|(c, i, done)| Action::SetChecklistItem {
            checklist: c.into(),
            item: i.into(),
            done,
            waive: None,
        }),
        1 => (channel, prop::option::of(status_strategy()), text()).prop_map(
            |(channel, state, text)| Action::PostUpdate {
                channel,
                state,
                text,
            }
        ),
        1 => (prop::option::of(person.clone()), text()).prop_map(|(to, reason)| Action::Escalate {
            to: to.map(str::to_string),
            reason,
        }),
        1 => (person.clone(), text()).prop_map(|(who, reason)| Action::Page {
            who: who.into(),
            reason,
        }),
        1 => (text(), prop::option::of(person)).prop_map(|(text, owner)| Action::AddActionItem {
            text,
            owner: owner.map(str::to_string),
            due: None,
            priority: None,
        }),
        1 => text().prop_map(|summary| Action::CompleteReview { summary }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let state = prop::sample::select(vec![
        ActionState::Open,
        ActionState::InProgress,
        ActionState::Done,
        ActionState::Cancelled,
    ]);
    prop_oneof![
        3 => (0i64..40).prop_map(Op::Wait),
        1 => Just(Op::Tick),
        2 => (
            prop::sample::select(vec!["P1", "P2", "P3", "P4"]),
            prop::option::of(prop::sample::select(vec!["availability", "security"]))
        )
            .prop_map(|(severity, kind)| Op::Declare { severity, kind }),
        12 => (1u64..=4, action()).prop_map(|(n, a)| Op::On(n, a)),
        1 => (1u64..=4, state).prop_map(|(n, s)| Op::UpdateFirstAction(n, s)),
        1 => (1u64..=4).prop_map(Op::WrapUp),
    ]
}

/// Whether `decide` must refuse `action` on a closed incident.
fn refused_when_closed(action: &Action) -> bool {
    !matches!(
        action,
        Action::Reopen { .. }
            | Action::AddActionItem { .. }
            | Action::UpdateActionItem { .. }
            | Action::CompleteReview { .. }
            | Action::SetReviewField { .. }
    )
}

/// Checks the projection's own consistency.
fn check_incident(inc: &Incident) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        inc.resolved.is_some(),
        inc.status == Status::Resolved,
        "resolved iff status resolved: {:?}",
        inc
    );
    prop_assert_eq!(
        inc.monitoring_since.is_some(),
        inc.status == Status::Monitoring
    );
    prop_assert!(
        inc.closed.is_none() || inc.resolved.is_some(),
        "closed implies resolved"
    );
    prop_assert!(
        inc.roles
            .keys()
            .all(|r| ["ic", "tech_lead", "comms", "scribe"].contains(&r.as_str()))
    );
    Ok(())
}

/// Runs one command through `decide` and, when accepted, `apply`, checking the invariants.
fn step(
    h: &mut Harness,
    declared: &mut Vec<uuid::Uuid>,
    reference: Option<String>,
    action: Action,
) -> Result<(), TestCaseError> {
    let cmd = h.command(reference.as_deref(), action.clone());
    let before = h.world.clone();
    let target = reference
        .as_deref()
        .and_then(|r| before.resolve(r))
        .cloned();
    let result = decide(&h.world, &h.policy, &cmd, "tester", h.now);
    // Deterministic: the same command against the same world gives the same answer.
    prop_assert_eq!(&result, &decide(&h.world, &h.policy, &cmd, "tester", h.now));

    if let Some(inc) = &target {
        if inc.closed.is_some() && refused_when_closed(&action) {
            prop_assert_eq!(
                &result,
                &Err(DomainError::Closed { key: inc.key() }),
                "{:?} on a closed incident",
                action
            );
        }
        if matches!(action, Action::Acknowledge)
            && inc.is_open()
            && let Some(by) = inc.acknowledged.as_ref().map(|s| s.by.clone())
        {
            prop_assert_eq!(
                &result,
                &Err(DomainError::AlreadyAcknowledged { key: inc.key(), by })
            );
        }
    }
    match result {
        Err(_) => {
            // Nothing to apply; the world is as it was.
            prop_assert_eq!(&h.world, &before);
        }
        Ok(events) => {
            prop_assert!(!events.is_empty());
            prop_assert_eq!(events[0].id, cmd.id);
            for (i, e) in events.iter().enumerate() {
                prop_assert_eq!(e.id, event_id(cmd.id, i));
                prop_assert_eq!(e.occurred_at, h.now);
                prop_assert_eq!(&*e.actor, "tester");
            }
            if let Some(inc) = &target {
                prop_assert!(events.iter().all(|e| e.incident == inc.id));
            } else {
                declared.push(cmd.id);
            }
            h.apply(&events);
            let once = h.world.clone();
            prop_assert_ne!(&once, &before);
            // Applying the same events again (a retry, a replica) changes nothing.
            for e in &events {
                h.world.apply(e);
            }
            prop_assert_eq!(&h.world, &once);
            if matches!(action, Action::Acknowledge) {
                let key = target.as_ref().map(Incident::key).unwrap_or_default();
                let again = h.command(reference.as_deref(), Action::Acknowledge);
                prop_assert_eq!(
                    decide(&h.world, &h.policy, &again, "other", h.now),
                    Err(DomainError::AlreadyAcknowledged {
                        key,
                        by: "tester".into()
                    })
                );
            }
        }
    }
    for inc in h.world.incidents.values() {
        check_incident(inc)?;
        // Clocks are total over any state the log can reach.
        let _ = crate::domain::clocks::clocks(inc, &h.policy, h.now);
    }
    Ok(())
}

fn run_session(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut h = Harness::new(policy());
    let mut declared = Vec::new();
    for op in ops {
        let (reference, action) = match op {
            Op::Wait(m) => {
                h.now += chrono::Duration::minutes(m);
                continue;
            }
            Op::Tick => {
                let events = escalation::due_events(&h.world, &h.policy, &h.ids, h.now);
                prop_assert!(events.iter().all(|e| e.occurred_at <= h.now));
                h.apply(&events);
                prop_assert!(escalation::due_events(&h.world, &h.policy, &h.ids, h.now).is_empty());
                continue;
            }
            Op::Declare { severity, kind } => (None, declare("incident", severity, kind)),
            Op::On(n, action) => (Some(format!("INC-{n}")), action),
            Op::WrapUp(n) => {
                let reference = Some(format!("INC-{n}"));
                for action in [
                    tick("resolution", "baseline"),
                    tick("resolution", "no_impact"),
                    resolve(true),
                    Action::CompleteReview {
                        summary: "reviewed".into(),
                    },
                    Action::Close,
                ] {
                    step(&mut h, &mut declared, reference.clone(), action)?;
                }
                continue;
            }
            Op::UpdateFirstAction(n, state) => {
                let Some(first) = h.world.by_number(n).and_then(|i| i.actions.first()) else {
                    continue;
                };
                let action = Action::UpdateActionItem {
                    action: first.id,
                    state,
                    owner: None,
                    due: None,
                    priority: None,
                };
                (Some(format!("INC-{n}")), action)
            }
        };
        step(&mut h, &mut declared, reference, action)?;
    }
    // Incident numbers are 1..n in declaration order.
    prop_assert_eq!(&h.world.order, &declared);
    for (i, id) in declared.iter().enumerate() {
        prop_assert_eq!(h.world.get(id).map(|inc| inc.number), Some(i as u64 + 1));
    }
    // The fold is a function of the log: replaying it (with every event twice) rebuilds the world.
    let mut replay = World::default();
    for e in &h.log {
        replay.apply(e);
        replay.apply(e);
    }
    prop_assert_eq!(replay, h.world);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_sessions_keep_every_invariant(ops in prop::collection::vec(op(), 1..80)) {
        run_session(ops)?;
    }
}

/// Runbook 002 §1.3 / 003 "Record start time": the impact starts before the
/// declaration, detection comes after the impact and never in the future.
#[test]
fn detection_times_are_checked_and_give_the_time_to_detect() {
    use crate::domain::event::DetectionMethod;
    let mut h = Harness::new(policy());
    let key = h.declare("API down", "P1");
    h.at(5);
    let detection = |start: Option<i64>, detected: Option<i64>| Action::RecordDetection {
        impact_started: start.map(at),
        detected_at: detected.map(at),
        method: None,
    };
    let e = h.refuse("alice", &key, detection(None, None));
    assert_eq!(
        e.to_string(),
        "impact_started, detected_at or method must not be empty"
    );
    let e = h.refuse("alice", &key, detection(Some(1), None));
    assert_eq!(
        e.to_string(),
        "impact_started: 2026-11-23 10:01:00 UTC is after the declaration (2026-11-23 10:00:00 UTC); \
         the impact starts before an incident is declared"
    );
    assert_eq!(e.kind(), ErrorKind::Unprocessable);
    let e = h.refuse("alice", &key, detection(None, Some(6)));
    assert_eq!(
        e.to_string(),
        "detected_at: 2026-11-23 10:06:00 UTC is in the future (now 2026-11-23 10:05:00 UTC)"
    );
    let e = h.refuse("alice", &key, detection(Some(-10), Some(-20)));
    assert_eq!(
        e.to_string(),
        "impact_started: the impact start 2026-11-23 09:50:00 UTC is after the detection 2026-11-23 09:40:00 UTC"
    );
    assert_eq!(h.inc(&key).time_to_detect(), None);
    h.run("alice", &key, detection(Some(-25), None));
    // Detection defaults to the declaration.
    assert_eq!(
        h.inc(&key).time_to_detect(),
        Some(chrono::Duration::minutes(25))
    );
    // A later record replaces only what it gives, and is checked against what is recorded.
    let e = h.refuse("alice", &key, detection(None, Some(-30)));
    assert!(
        e.to_string().starts_with("detected_at: the impact start"),
        "{e}"
    );
    let ev = h.run(
        "alice",
        &key,
        Action::RecordDetection {
            impact_started: None,
            detected_at: Some(at(-5)),
            method: Some(DetectionMethod::CustomerReport),
        },
    );
    assert_eq!(
        ev[0].body.describe(),
        "detection: detected 2026-11-23 09:55 UTC by customer report"
    );
    let inc = h.inc(&key);
    assert_eq!(inc.time_to_detect(), Some(chrono::Duration::minutes(20)));
    assert_eq!(
        inc.detection_method(),
        Some(DetectionMethod::CustomerReport)
    );
    assert_eq!(
        DetectionMethod::parse("customer-report"),
        Some(DetectionMethod::CustomerReport)
    );
    assert_eq!(
        DetectionMethod::parse("security"),
        Some(DetectionMethod::SecurityTool)
    );
}
