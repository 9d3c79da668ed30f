//! Alert grouping, triage and all-clear: examples for each rule, and property
//! tests over random alert storms.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::domain::command::Action;
use crate::domain::testkit::{Harness, at, policy};
use proptest::prelude::*;

fn ids() -> SystemIds {
    SystemIds::new([7; 32])
}

/// The test policy with an `[ingest]` section: critical declares P1, warning is a P3 triage item.
fn ingest_policy(on_clear: OnClear) -> Policy {
    let mut p = policy();
    p.ingest = IngestPolicy {
        severity: Some("P4".into()),
        kind: None,
        title: "{alertname}: {summary}".into(),
        declare: vec!["P1".into()],
        on_clear,
        on_more_severe: OnMoreSevere::Raise,
        rules: vec![
            AlertRule {
                matchers: [("severity".to_string(), "critical|page".to_string())].into(),
                severity: Some("P1".into()),
                kind: None,
                services: vec!["{service}".into()],
                title: None,
            },
            AlertRule {
                matchers: [("severity".to_string(), "warning".to_string())].into(),
                severity: Some("P3".into()),
                kind: Some("security".into()),
                services: vec![],
                title: None,
            },
        ],
    };
    // Closing needs nothing here: these tests are about alerts.
    p.closure = Default::default();
    p.resolution = Default::default();
    p.validate().unwrap();
    p
}

fn alert(fp: &str, firing: bool, severity: &str) -> Alert {
    Alert {
        fingerprint: fp.into(),
        firing,
        labels: [
            ("alertname".to_string(), format!("Alert{fp}")),
            ("severity".to_string(), severity.to_string()),
            ("service".to_string(), "api".to_string()),
        ]
        .into(),
        annotations: [("summary".to_string(), format!("summary of {fp}"))].into(),
        starts_at: Some(at(0)),
        url: None,
    }
}

fn batch(group: &str, alerts: Vec<Alert>) -> AlertBatch {
    AlertBatch {
        source: AlertSource::Alertmanager,
        group: group.into(),
        alerts,
        acknowledge: false,
    }
}

/// Decides and applies one payload; returns its events.
fn ingest(h: &mut Harness, b: &AlertBatch) -> Vec<Event> {
    validate(b).unwrap();
    let events = decide_alerts(&h.world, &h.policy, &ids(), b, "alertmanager", h.now);
    h.apply(&events);
    events
}

fn kinds(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.body.kind_name()).collect()
}

#[test]
fn a_critical_alert_declares_an_incident_mapped_by_the_first_matching_rule() {
    let mut h = Harness::new(ingest_policy(OnClear::Note));
    let ev = ingest(&mut h, &batch("g1", vec![alert("a", true, "critical")]));
    assert_eq!(kinds(&ev), ["declared", "alerts_firing"]);
    let inc = h.inc("INC-1");
    assert_eq!(inc.severity, "P1");
    assert_eq!(inc.title, "Alerta: summary of a");
    assert_eq!(inc.impact.services, ["api"]);
    assert_eq!(inc.alerts.as_ref().unwrap().firing, 1);
    assert!(
        crate::domain::ids::is_system_id(ev[0].id)
            && crate::domain::ids::is_system_id(ev[0].incident)
    );
    assert_eq!(&*ev[0].actor, "alertmanager");
}

#[test]
fn a_warning_lands_in_triage_and_one_key_declares_or_dismisses_it() {
    let mut h = Harness::new(ingest_policy(OnClear::Note));
    let ev = ingest(&mut h, &batch("g1", vec![alert("a", true, "warning")]));
    assert_eq!(kinds(&ev), ["alert_triaged", "alerts_firing"]);
    assert!(h.world.order.is_empty(), "no incident yet");
    let item = h.world.alerts.queue().next().unwrap().clone();
    assert_eq!(
        (item.key().as_str(), item.severity.as_str()),
        ("TRI-1", "P3")
    );
    assert_eq!(item.kind, "security");

    let ev = h.run("bob", "TRI-1", Action::DeclareTriaged { severity: None });
    assert_eq!(kinds(&ev), ["declared", "role_assigned"]);
    let inc = h.inc("INC-1");
    assert_eq!(inc.id, item.id, "the incident keeps the triage item's id");
    assert_eq!(inc.roles.get("ic").map(String::as_str), Some("bob"));
    assert_eq!(inc.alerts.as_ref().unwrap().firing, 1);
    assert_eq!(h.world.alerts.queue().count(), 0);

    // A second alert in the same group joins the incident now.
    let ev = ingest(&mut h, &batch("g1", vec![alert("b", true, "warning")]));
    assert_eq!(kinds(&ev), ["alerts_firing"]);
    assert_eq!(ev[0].incident, item.id);
    assert_eq!(h.inc("INC-1").alerts.as_ref().unwrap().firing, 2);

    // Dismissing: a second group.
    ingest(&mut h, &batch("g2", vec![alert("c", true, "warning")]));
    let e = h.run(
        "bob",
        "TRI-2",
        Action::DismissTriaged {
            reason: "flapping probe".into(),
        },
    );
    assert_eq!(kinds(&e), ["triage_dismissed"]);
    assert_eq!(h.world.alerts.queue().count(), 0);
    let again = h.refuse("bob", "TRI-2", Action::DeclareTriaged { severity: None });
    assert_eq!(again.to_string(), "TRI-2 is already dismissed");
    let unknown = h.refuse("bob", "TRI-9", Action::DeclareTriaged { severity: None });
    assert_eq!(unknown.to_string(), "unknown triage item \"TRI-9\"");
}

#[test]
fn a_resent_group_adds_nothing_and_changes_coalesce_into_one_entry_each() {
    let mut h = Harness::new(ingest_policy(OnClear::Note));
    let three = vec![
        alert("a", true, "critical"),
        alert("b", true, "critical"),
        alert("c", true, "critical"),
    ];
    assert_eq!(ingest(&mut h, &batch("g", three.clone())).len(), 2);
    assert!(ingest(&mut h, &batch("g", three.clone())).is_empty());
    let mut next = three.clone();
    next.push(alert("d", true, "critical"));
    next.push(alert("e", true, "critical"));
    next[0].firing = false;
    next[1].firing = false;
    let ev = ingest(&mut h, &batch("g", next));
    assert_eq!(kinds(&ev), ["alerts_firing", "alerts_resolved"]);
    assert_eq!(
        ev[0].body.describe(),
        "2 alerts firing: Alertd (summary of d), Alerte (summary of e)"
    );
    assert_eq!(h.inc("INC-1").alerts.as_ref().unwrap().firing, 3);
}

#[test]
fn all_clear_is_said_once_and_the_ic_decides_unless_the_policy_says_otherwise() {
    for (on_clear, expect, status) in [
        (
            OnClear::Note,
            vec!["alerts_resolved"],
            Status::Investigating,
        ),
        (
            OnClear::Monitoring,
            vec!["alerts_resolved", "status_changed"],
            Status::Monitoring,
        ),
        (
            OnClear::Resolve,
            vec!["alerts_resolved", "resolved"],
            Status::Resolved,
        ),
    ] {
        let mut h = Harness::new(ingest_policy(on_clear));
        ingest(&mut h, &batch("g", vec![alert("a", true, "critical")]));
        let ev = ingest(&mut h, &batch("g", vec![alert("a", false, "critical")]));
        assert_eq!(kinds(&ev), expect, "{on_clear:?}");
        assert!(ev[0].body.describe().ends_with("all alerts clear"));
        assert_eq!(h.inc("INC-1").status, status);
        assert_eq!(h.inc("INC-1").alerts.as_ref().unwrap().firing, 0);
        assert!(ingest(&mut h, &batch("g", vec![alert("a", false, "critical")])).is_empty());
    }
}

#[test]
fn an_alert_firing_again_after_its_incident_closed_opens_a_new_one_linking_the_old() {
    let mut h = Harness::new(ingest_policy(OnClear::Note));
    ingest(&mut h, &batch("g", vec![alert("a", true, "critical")]));
    let first = h.inc("INC-1").id;
    // Still firing when closed: repeats of it open nothing.
    h.run("alice", "INC-1", Action::Acknowledge);
    h.run(
        "alice",
        "INC-1",
        Action::Resolve {
            summary: "fixed".into(),
            force: true,
            reason: String::new(),
        },
    );
    h.run("alice", "INC-1", Action::Close);
    assert!(ingest(&mut h, &batch("g", vec![alert("a", true, "critical")])).is_empty());
    // It clears (noted on the closed incident), then fires again.
    let ev = ingest(&mut h, &batch("g", vec![alert("a", false, "critical")]));
    assert_eq!(kinds(&ev), ["alerts_resolved"]);
    assert_eq!(ev[0].incident, first);
    h.at(90);
    let mut again = alert("a", true, "critical");
    again.starts_at = Some(at(90));
    let ev = ingest(&mut h, &batch("g", vec![again]));
    assert_eq!(kinds(&ev), ["declared", "alerts_firing"]);
    let second = h.inc("INC-2");
    assert_ne!(second.id, first);
    assert_eq!(second.alerts.as_ref().unwrap().previous, Some(first));
}

#[test]
fn a_known_fingerprint_with_a_new_start_time_fired_again() {
    let mut h = Harness::new(ingest_policy(OnClear::Note));
    ingest(&mut h, &batch("g", vec![alert("a", true, "critical")]));
    let mut again = alert("a", true, "critical");
    again.starts_at = Some(at(30));
    let ev = ingest(&mut h, &batch("g", vec![again]));
    assert_eq!(kinds(&ev), ["alerts_firing"]);
}

#[test]
fn an_events_v2_acknowledge_acknowledges_the_incident_once() {
    let mut h = Harness::new(ingest_policy(OnClear::Note));
    ingest(&mut h, &batch("g", vec![alert("a", true, "critical")]));
    let mut ack = batch("g", vec![]);
    ack.acknowledge = true;
    assert_eq!(kinds(&ingest(&mut h, &ack)), ["acknowledged"]);
    assert!(ingest(&mut h, &ack).is_empty());
}

#[test]
fn label_text_is_sanitised_before_it_reaches_the_log() {
    let mut h = Harness::new(ingest_policy(OnClear::Note));
    let mut a = alert("a", true, "critical");
    a.labels.insert(
        "alertname".into(),
        "Evil\u{1b}]52;c;aGk=\u{7}\u{1b}[2J\u{202e}Name".into(),
    );
    a.annotations
        .insert("summary".into(), "line one\nline\u{9b}31m two".into());
    let ev = ingest(&mut h, &batch("g\u{1b}[31m", vec![a]));
    let all = serde_json::to_string(&ev).unwrap();
    for bad in ["\\u001b", "\\u0007", "\u{9b}", "\u{202e}", "\\n"] {
        assert!(!all.contains(bad), "{bad:?} in {all}");
    }
    assert_eq!(h.inc("INC-1").title, "EvilName: line one line two");
}

#[test]
fn limits_are_named_in_the_error() {
    let mut a = alert("a", true, "critical");
    for i in 0..MAX_LABELS {
        a.labels.insert(format!("l{i}"), "v".into());
    }
    let e = validate(&batch("g", vec![a])).unwrap_err();
    assert_eq!(e.field, "alerts[0].labels");
    assert!(e.message.contains("the limit is 128"), "{e}");
    let e = validate(&batch("", vec![])).unwrap_err();
    assert_eq!(e.field, "group");
    let many = (0..=MAX_ALERTS)
        .map(|i| alert(&i.to_string(), true, "x"))
        .collect();
    assert_eq!(validate(&batch("g", many)).unwrap_err().field, "alerts");
}

#[test]
fn the_policy_section_is_checked_against_the_severities_and_kinds() {
    let mut p = ingest_policy(OnClear::Note);
    p.ingest.rules[0].severity = Some("SEV9".into());
    let e = p.validate().unwrap_err().to_string();
    assert!(
        e.contains("ingest.rules[0].severity") && e.contains("SEV9"),
        "{e}"
    );
    let mut p = ingest_policy(OnClear::Note);
    p.ingest.declare = vec!["P7".into()];
    assert!(
        p.validate()
            .unwrap_err()
            .to_string()
            .contains("ingest.declare[0]")
    );
}

#[derive(Clone, Debug)]
struct Step {
    group: u8,
    fp: u8,
    firing: bool,
    start: u8,
}

fn step() -> impl Strategy<Value = Step> {
    (0u8..4, 0u8..6, any::<bool>(), 0u8..3).prop_map(|(group, fp, firing, start)| Step {
        group,
        fp,
        firing,
        start,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Over any storm: each group has at most one live target; every payload
    /// sent twice in a row adds nothing the second time; the firing count on
    /// the target equals the group's firing set; and replaying the log into a
    /// fresh world gives the same projection (one `apply` for server and client).
    #[test]
    fn storms_group_dedupe_and_replay(steps in prop::collection::vec(step(), 1..60), close_every in 3usize..10) {
        let mut h = Harness::new(ingest_policy(OnClear::Note));
        for (n, s) in steps.iter().enumerate() {
            h.at(n as i64);
            let mut a = alert(&s.fp.to_string(), s.firing, if s.group % 2 == 0 { "critical" } else { "warning" });
            a.starts_at = Some(at(i64::from(s.start)));
            let b = batch(&format!("g{}", s.group), vec![a]);
            ingest(&mut h, &b);
            prop_assert!(ingest(&mut h, &b).is_empty(), "a repeat changed something");
            if n % close_every == 0 {
                // A responder closes whatever is open, or dismisses the queue.
                let open: Vec<String> = h.world.open().map(|i| i.key()).collect();
                for key in open {
                    let _ = h.try_run("alice", Some(&key), Action::Resolve { summary: "x".into(), force: true, reason: String::new() });
                    let _ = h.try_run("alice", Some(&key), Action::Close);
                }
                let queued: Vec<String> = h.world.alerts.queue().map(|t| t.key()).collect();
                for key in queued {
                    h.run("alice", &key, Action::DismissTriaged { reason: String::new() });
                }
            }
        }
        for (key, g) in &h.world.alerts.groups {
            let link = h.world.get(&g.target).and_then(|i| i.alerts.clone())
                .or_else(|| h.world.alerts.triage.get(&g.target).map(|t| t.alerts.clone()));
            let link = link.expect("a group points at something");
            prop_assert_eq!(&link.group, key);
            prop_assert_eq!(link.firing, g.firing.len());
        }
        let open_targets = h.world.alerts.groups.values().filter(|g| live(&h.world, g.target)).count();
        let live_incidents = h.world.open().filter(|i| i.alerts.is_some()).count()
            + h.world.alerts.queue().count();
        prop_assert_eq!(open_targets, live_incidents);
        let mut replay = World::default();
        for e in &h.log {
            replay.apply(e);
        }
        prop_assert_eq!(&replay.alerts, &h.world.alerts);
        prop_assert_eq!(&replay.incidents, &h.world.incidents);
    }
}

// ---- A more severe alert joining a live target ----

#[test]
fn a_critical_alert_joining_a_triage_item_declares_it_when_the_policy_declares_p1() {
    let mut h = Harness::new(ingest_policy(OnClear::Note));
    ingest(&mut h, &batch("g1", vec![alert("a", true, "warning")]));
    let item = h.world.alerts.queue().next().unwrap().id;
    let ev = ingest(&mut h, &batch("g1", vec![alert("b", true, "critical")]));
    assert_eq!(kinds(&ev), ["declared", "alerts_firing"]);
    assert!(ev.iter().all(|e| e.incident == item));
    let inc = h.inc("INC-1");
    assert_eq!((inc.id, inc.severity.as_str()), (item, "P1"));
    assert_eq!(inc.alerts.as_ref().unwrap().firing, 2);
    assert_eq!(h.world.alerts.queue().count(), 0, "out of the queue");
}

#[test]
fn a_worse_alert_joining_a_triage_item_raises_its_severity_in_the_queue() {
    let mut h = Harness::new(ingest_policy(OnClear::Note));
    let mut info = alert("a", true, "info");
    info.labels.insert("severity".into(), "info".into());
    ingest(&mut h, &batch("g1", vec![info]));
    assert_eq!(h.world.alerts.queue().next().unwrap().severity, "P4");
    let ev = ingest(&mut h, &batch("g1", vec![alert("b", true, "warning")]));
    assert_eq!(kinds(&ev), ["alerts_firing", "severity_changed"]);
    let item = h.world.alerts.queue().next().unwrap();
    assert_eq!(
        (item.key().as_str(), item.severity.as_str()),
        ("TRI-1", "P3")
    );
    assert!(h.world.order.is_empty(), "P3 is not declared automatically");
}

#[test]
fn a_critical_alert_joining_a_p3_incident_raises_it_and_restarts_the_sla_clocks() {
    let mut h = Harness::new(ingest_policy(OnClear::Note));
    ingest(&mut h, &batch("g1", vec![alert("a", true, "warning")]));
    h.run("bob", "TRI-1", Action::DeclareTriaged { severity: None });
    assert_eq!(h.inc("INC-1").severity, "P3");
    h.at(20);
    let ev = ingest(&mut h, &batch("g1", vec![alert("b", true, "critical")]));
    assert_eq!(kinds(&ev), ["alerts_firing", "severity_changed"]);
    let EventBody::SeverityChanged {
        from,
        to,
        reason,
        upgrade,
    } = &ev[1].body
    else {
        panic!("{ev:?}")
    };
    assert_eq!((from.as_str(), to.as_str(), *upgrade), ("P3", "P1", true));
    assert_eq!(
        reason,
        "Alertb is firing and maps to P1 (policy: [ingest] rules)"
    );
    let inc = h.inc("INC-1");
    assert_eq!(inc.severity, "P1");
    assert_eq!(
        inc.sla_origin,
        at(20),
        "P1's clocks start when it became P1"
    );

    // The same alert again, or a less severe one, changes nothing more.
    let ev = ingest(&mut h, &batch("g1", vec![alert("b", true, "critical")]));
    assert!(ev.is_empty(), "{ev:?}");
    let ev = ingest(&mut h, &batch("g1", vec![alert("c", true, "warning")]));
    assert_eq!(kinds(&ev), ["alerts_firing"]);
    assert_eq!(h.inc("INC-1").severity, "P1");
}

#[test]
fn with_suggest_the_level_is_shown_for_the_ic_and_goes_once_the_severity_changes() {
    let mut p = ingest_policy(OnClear::Note);
    p.ingest.on_more_severe = OnMoreSevere::Suggest;
    let mut h = Harness::new(p);
    ingest(&mut h, &batch("g1", vec![alert("a", true, "warning")]));
    h.run("bob", "TRI-1", Action::DeclareTriaged { severity: None });
    let ev = ingest(&mut h, &batch("g1", vec![alert("b", true, "critical")]));
    assert_eq!(kinds(&ev), ["alerts_firing", "severity_suggested"]);
    assert_eq!(
        ev[1].body.describe(),
        "severity P1 suggested: Alertb is firing and maps to P1 (policy: [ingest] rules)"
    );
    let inc = h.inc("INC-1");
    assert_eq!(inc.severity, "P3", "a human decides");
    assert_eq!(inc.suggested.as_ref().unwrap().severity, "P1");

    // Another critical alert: the suggestion stands, nothing is repeated.
    let ev = ingest(&mut h, &batch("g1", vec![alert("c", true, "critical")]));
    assert_eq!(kinds(&ev), ["alerts_firing"]);

    h.run(
        "bob",
        "INC-1",
        Action::SetSeverity {
            severity: "P1".into(),
            reason: "the alerts are right".into(),
        },
    );
    assert_eq!(h.inc("INC-1").suggested, None);
}

#[test]
fn a_resolved_incident_is_not_raised_by_a_late_alert() {
    let mut h = Harness::new(ingest_policy(OnClear::Note));
    ingest(&mut h, &batch("g1", vec![alert("a", true, "warning")]));
    h.run("bob", "TRI-1", Action::DeclareTriaged { severity: None });
    h.run(
        "bob",
        "INC-1",
        Action::Resolve {
            summary: "fixed".into(),
            force: false,
            reason: String::new(),
        },
    );
    let ev = ingest(&mut h, &batch("g1", vec![alert("b", true, "critical")]));
    assert_eq!(kinds(&ev), ["alerts_firing"]);
    assert_eq!(h.inc("INC-1").severity, "P3");
}
