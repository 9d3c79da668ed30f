//! The `:` command line parser and its completion, as pure functions.
#![allow(clippy::unwrap_used)]

use crate::support::tui::*;
use chrono::NaiveDate;
use warroom::domain::command::Action;
use warroom::domain::event::{Channel, NoteKind, Status};
use warroom::tui::command_line::{CompleteCtx, Ctx, Parsed, complete, parse};
use warroom::tui::model::Filter;

fn with_focus(line: &str) -> Result<Parsed, String> {
    let f = war_room_fixture();
    let inc = f.replica.world.resolve("INC-1").unwrap();
    parse(
        line,
        &Ctx {
            policy: &f.policy,
            world: &f.replica.world,
            incident: Some(inc),
            now: chrono::DateTime::parse_from_rfc3339("2026-03-14T09:26:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
        },
    )
}

fn action(line: &str) -> Action {
    match with_focus(line) {
        Ok(Parsed::Command { action, .. }) => action,
        other => panic!("{line}: {other:?}"),
    }
}

fn err(line: &str) -> String {
    with_focus(line).unwrap_err()
}

#[test]
fn the_runbooks_own_syntax() {
    assert_eq!(
        action(":incident declare \"API down\" severity=P1"),
        Action::Declare {
            title: "API down".into(),
            severity: "P1".into(),
            kind: None,
            impact: None,
            commander: None
        }
    );
    assert!(matches!(
        action("declare 'DB slow' sev=p2 kind=SECURITY impact=\"EU only\" ic=@bob"),
        Action::Declare { ref severity, ref kind, ref impact, ref commander, .. }
            if severity == "P2" && kind.as_deref() == Some("security")
            && impact.as_ref().unwrap().summary == "EU only" && commander.as_deref() == Some("@bob")
    ));
    assert_eq!(
        action(":status update \"Fix deployed\" state=monitoring channel=internal"),
        Action::PostUpdate {
            channel: Channel::Internal,
            state: Some(Status::Monitoring),
            text: "Fix deployed".into()
        }
    );
    assert_eq!(
        action(":status identified"),
        Action::SetStatus {
            status: Status::Identified
        }
    );
    assert_eq!(
        action(":pd page @alice \"DB on-call needed\""),
        Action::Page {
            who: "alice".into(),
            reason: "DB on-call needed".into()
        }
    );
    assert_eq!(
        action(":role ic @bob \"going off shift\""),
        Action::AssignRole {
            role: "ic".into(),
            person: "bob".into(),
            note: "going off shift".into()
        }
    );
    assert_eq!(
        action(":role release comms"),
        Action::ReleaseRole {
            role: "comms".into()
        }
    );
    assert_eq!(action(":ack"), Action::Acknowledge);
    assert_eq!(
        action(":sev P2 \"half the pods back\""),
        Action::SetSeverity {
            severity: "P2".into(),
            reason: "half the pods back".into()
        }
    );
    assert_eq!(
        action(":note db is \"slow\" again"),
        Action::Note {
            kind: NoteKind::Note,
            text: "db is \"slow\" again".into()
        }
    );
    assert_eq!(
        action(":decision \"fail over\""),
        Action::Note {
            kind: NoteKind::Decision,
            text: "fail over".into()
        }
    );
    assert_eq!(
        action(":escalate \"need approval\" to=@cto"),
        Action::Escalate {
            to: Some("cto".into()),
            reason: "need approval".into()
        }
    );
    // Runbook 002 §9.3's quick reference, pasted as is (with its slash).
    assert_eq!(
        action(r#"/pd page @username "reason""#),
        action(r#":pd page @username "reason""#)
    );
    assert_eq!(
        action(r#"/status update "message" state=investigating"#),
        Action::PostUpdate {
            channel: warroom::domain::event::Channel::StatusPage,
            state: Some(warroom::domain::event::Status::Investigating),
            text: "message".into()
        }
    );
    assert!(matches!(
        with_focus(r#":/incident declare "description" severity=P1"#),
        Ok(Parsed::Command {
            action: Action::Declare { ref title, ref severity, .. },
            ..
        }) if title == "description" && severity == "P1"
    ));
    let t = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    assert_eq!(
        action(":detect customer start=09:40 at=-5m"),
        Action::RecordDetection {
            // 09:40 today is after 09:26 (now): the latest 09:40 is yesterday's.
            impact_started: Some(t("2026-03-13T09:40:00Z")),
            detected_at: Some(t("2026-03-14T09:21:00Z")),
            method: Some(warroom::domain::event::DetectionMethod::CustomerReport),
        }
    );
    assert_eq!(
        action(":detect start=2026-03-14T08:00:00Z"),
        Action::RecordDetection {
            impact_started: Some(t("2026-03-14T08:00:00Z")),
            detected_at: None,
            method: None,
        }
    );
    assert!(err(":detect").contains(":detect needs a method"));
    assert!(err(":detect carrier-pigeon").starts_with("unknown detection method"));
    assert!(err(":detect start=noon").starts_with("start=noon: expected a UTC time"));
    assert_eq!(
        action(":kind Security \"exfiltration confirmed\""),
        Action::SetKind {
            kind: "security".into(),
            reason: "exfiltration confirmed".into()
        }
    );
    assert!(err(":kind security").contains(":kind needs a reason"));
    assert!(err(":kind fraud \"x\"").starts_with("unknown kind \"fraud\""));
    assert_eq!(
        action(":escalate \"next rung please\""),
        Action::Escalate {
            to: None,
            reason: "next rung please".into()
        }
    );
    assert_eq!(
        action(":contain traffic shed"),
        Action::Contain {
            note: "traffic shed".into()
        }
    );
    assert_eq!(
        action(":resolve \"rolled back\" force"),
        Action::Resolve {
            summary: "rolled back".into(),
            force: true,
            reason: String::new(),
        }
    );
    assert_eq!(
        action(":reopen \"errors again\""),
        Action::Reopen {
            reason: "errors again".into()
        }
    );
    assert_eq!(action(":close"), Action::Close);
    assert_eq!(
        action(":action \"Add pool alerts\" @dana 2026-12-01"),
        Action::AddActionItem {
            text: "Add pool alerts".into(),
            owner: Some("dana".into()),
            due: NaiveDate::from_ymd_opt(2026, 12, 1),
            priority: None,
        }
    );
    assert_eq!(
        action(":check triage/ack"),
        Action::SetChecklistItem {
            checklist: "triage".into(),
            item: "ack".into(),
            done: true,
            waive: None,
        }
    );
    assert_eq!(
        action(":waive ic-first-5m/channel the bridge opened with the page"),
        Action::SetChecklistItem {
            checklist: "ic-first-5m".into(),
            item: "channel".into(),
            done: true,
            waive: Some("the bridge opened with the page".into()),
        }
    );
    assert_eq!(
        err(":report fax \"x\""),
        "fax: unknown report kind; the policy defines customer, disclosure"
    );
    assert!(
        matches!(action(":impact \"EU customers\""), Action::UpdateImpact { ref impact } if impact.summary == "EU customers")
    );
}

#[test]
fn local_verbs() {
    assert_eq!(
        with_focus(":theme colorblind"),
        Ok(Parsed::Theme("colorblind".into()))
    );
    assert_eq!(with_focus(":q"), Ok(Parsed::Quit));
    assert_eq!(with_focus(":help"), Ok(Parsed::Help));
    assert_eq!(
        with_focus(":filter notes"),
        Ok(Parsed::Filter(Filter::Notes))
    );
    assert!(matches!(with_focus(":open INC-2"), Ok(Parsed::Open(_))));
}

#[test]
fn inc_names_the_incident() {
    let f = war_room_fixture();
    let inc2 = f.replica.world.resolve("INC-2").unwrap().id;
    match with_focus(":ack inc=INC-2") {
        Ok(Parsed::Command { incident, .. }) => assert_eq!(incident, Some(inc2)),
        other => panic!("{other:?}"),
    }
    assert_eq!(err(":ack inc=INC-99"), "inc=INC-99: no such incident");
}

#[test]
fn errors_say_what_to_type() {
    assert_eq!(err(":foo"), "unknown verb :foo — try :help");
    assert_eq!(
        err(":incident declare \"x\" severity=P9"),
        "severity=P9: unknown severity; the policy defines P1, P2, P3, P4"
    );
    assert_eq!(
        err(":incident declare severity=P1"),
        ":incident declare needs a title: :incident declare \"API down\" severity=P1"
    );
    assert_eq!(
        err(":incident declare \"x\""),
        ":incident declare needs severity=…; the policy defines P1, P2, P3, P4"
    );
    assert_eq!(
        err(":incident resolve"),
        "unknown :incident subcommand resolve — try :incident declare \"title\" severity=P1"
    );
    assert_eq!(
        err(":status update \"x\" state=fixed"),
        "state=fixed: unknown state; use investigating, identified, monitoring or resolved"
    );
    assert_eq!(
        err(":status update \"x\" channel=pager"),
        "channel=pager: unknown channel; use status_page, internal or customer"
    );
    assert_eq!(
        err(":status update \"x\" colour=red"),
        "unknown option colour= for :status update (options: state, channel, inc)"
    );
    assert_eq!(err(":sev P2"), ":sev needs a reason: :sev P2 \"why\"");
    assert_eq!(
        err(":sev"),
        ":sev needs a severity and a reason: :sev P2 \"reason\""
    );
    assert_eq!(
        err(":role boss @bob"),
        "boss: unknown role; the policy defines ic, tech_lead, comms, scribe, sme"
    );
    assert_eq!(err(":note"), ":note needs text: :note what happened");
    assert_eq!(
        err(":action \"x\" 2026-02-30"),
        "2026-02-30: not a date; write it as YYYY-MM-DD, e.g. 2026-12-01"
    );
    assert_eq!(
        err(":ack \"unclosed"),
        "unclosed quote starting at column 5"
    );
    assert_eq!(err(":"), "empty command — try :help");
}

#[test]
fn completion_of_verbs_roles_severities_and_people() {
    let policy = policy();
    let people = vec!["alice".to_string(), "bob".to_string(), "dana".to_string()];
    let incidents = vec!["INC-1".to_string(), "INC-2".to_string()];
    let themes = ["dark", "light", "high-contrast", "colorblind"];
    let ctx = CompleteCtx {
        policy: &policy,
        people: &people,
        incidents: &incidents,
        themes: &themes,
    };
    assert_eq!(complete(":ac", &ctx), vec![":ack ", ":action "]);
    assert_eq!(
        complete(":sev ", &ctx),
        vec![":sev P1 ", ":sev P2 ", ":sev P3 ", ":sev P4 "]
    );
    assert_eq!(complete(":role t", &ctx), vec![":role tech_lead "]);
    assert_eq!(complete(":role ic @b", &ctx), vec![":role ic @bob "]);
    assert_eq!(complete(":pd page @", &ctx).len(), 3);
    assert_eq!(
        complete(":incident declare \"x\" severity=P", &ctx),
        vec![
            ":incident declare \"x\" severity=P1 ",
            ":incident declare \"x\" severity=P2 ",
            ":incident declare \"x\" severity=P3 ",
            ":incident declare \"x\" severity=P4 "
        ]
    );
    assert_eq!(
        complete(":status update \"x\" state=m", &ctx),
        vec![":status update \"x\" state=monitoring "]
    );
    assert_eq!(complete(":theme h", &ctx), vec![":theme high-contrast "]);
    assert_eq!(
        complete(":open ", &ctx),
        vec![":open INC-1 ", ":open INC-2 "]
    );
    assert!(complete(":zzz", &ctx).is_empty());
}

#[test]
fn impact_takes_services_customers_and_the_bridge() {
    match action(
        ":impact services=checkout,payments customers=\"EU tenants\" bridge=https://meet.example.net/1",
    ) {
        Action::UpdateImpact { impact } => {
            // The summary is kept when only the details are given.
            assert_eq!(
                impact.summary,
                "All API calls fail; dashboards and CLI unusable"
            );
            assert_eq!(impact.services, ["checkout", "payments"]);
            assert_eq!(impact.customers, "EU tenants");
            assert_eq!(impact.bridge, "https://meet.example.net/1");
        }
        other => panic!("{other:?}"),
    }
    match action(":impact Logins fail in EU") {
        Action::UpdateImpact { impact } => assert_eq!(impact.summary, "Logins fail in EU"),
        other => panic!("{other:?}"),
    }
    match action(":incident declare \"API down\" severity=P1 services=api bridge=https://x.example")
    {
        Action::Declare {
            impact: Some(i), ..
        } => {
            assert_eq!(i.services, ["api"]);
            assert_eq!(i.bridge, "https://x.example");
        }
        other => panic!("{other:?}"),
    }
    assert!(err(":impact").contains("services="));
}

/// `:item` and `:field`: the follow-up and the review from the `:` line.
#[test]
fn item_and_field_write_the_follow_up_and_the_review() {
    let f = war_room_fixture();
    let item = f.replica.world.resolve("INC-1").unwrap().actions[0].id;
    assert_eq!(
        action(":item 1 done @erin 2026-12-08 priority=P2"),
        Action::UpdateActionItem {
            action: item,
            state: warroom::domain::event::ActionState::Done,
            owner: Some("erin".into()),
            due: NaiveDate::from_ymd_opt(2026, 12, 8),
            priority: Some("P2".into()),
        }
    );
    assert_eq!(
        action(":action \"Add pool alerts\" @dana priority=P1"),
        Action::AddActionItem {
            text: "Add pool alerts".into(),
            owner: Some("dana".into()),
            due: None,
            priority: Some("P1".into()),
        }
    );
    assert_eq!(
        action(":field contributing_factors \"pool too small\\nno load test\""),
        Action::SetReviewField {
            field: "contributing_factors".into(),
            value: "pool too small\nno load test".into(),
        }
    );
    assert_eq!(err(":item 5 done"), "INC-1 has no action item 5 (it has 1)");
    assert_eq!(
        err(":item 1 finished"),
        "finished: not a state (open, in_progress, done, cancelled), @owner or YYYY-MM-DD date"
    );
    assert!(
        err(":field timeline x")
            .starts_with("timeline: not a field of this review to write; fields: summary, customers, requests_failed,"),
        "{}",
        err(":field timeline x")
    );
}
