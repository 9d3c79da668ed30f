//! The triage queue in the TUI: alert groups waiting above the incidents on
//! the board, one key to declare the oldest, one to dismiss it; "all clear"
//! and "N firing" on the board and in the war room.
#![allow(clippy::unwrap_used)]

use crate::support::tui::{Fixture, chr, echo_as, screen, submitted, war_room_fixture};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;
use warroom::domain::alert::{Alert, AlertBatch, AlertSource, decide_alerts};
use warroom::domain::command::{Access, Action, Command};
use warroom::domain::event::Recorded;
use warroom::domain::ids::SystemIds;
use warroom::tui::{Msg, update};

fn alert(fp: &str, firing: bool, severity: &str, name: &str) -> Alert {
    Alert {
        fingerprint: fp.into(),
        firing,
        labels: BTreeMap::from([
            ("alertname".to_string(), name.to_string()),
            ("severity".to_string(), severity.to_string()),
        ]),
        annotations: BTreeMap::from([("summary".to_string(), format!("{name} summary"))]),
        starts_at: None,
        url: None,
    }
}

/// Feeds one Alertmanager payload through the real rules into the fixture's replica.
fn ingest(f: &mut Fixture, group: &str, alerts: Vec<Alert>) {
    let batch = AlertBatch {
        source: AlertSource::Alertmanager,
        group: group.into(),
        alerts,
        acknowledge: false,
    };
    let ids = SystemIds::new([9; 32]);
    let events = decide_alerts(
        &f.replica.world,
        &f.policy,
        &ids,
        &batch,
        "alertmanager",
        f.now,
    );
    for event in events {
        let seq = f.replica.last_seq() + 1;
        f.replica.apply(Recorded {
            seq,
            recorded_at: f.now,
            event,
        });
    }
}

fn fixture_with_triage() -> Fixture {
    let mut f = war_room_fixture();
    // The default policy (runbook 002 §4.2) declares nothing itself: both are triage items.
    ingest(
        &mut f,
        "g-disk",
        vec![alert("d1", true, "critical", "DiskFull")],
    );
    f.at(27);
    ingest(
        &mut f,
        "g-latency",
        vec![
            alert("l1", true, "warning", "LatencyHigh"),
            alert("l2", true, "warning", "LatencyHigh"),
        ],
    );
    f.at(30);
    f
}

#[test]
fn the_board_shows_the_triage_queue_above_the_incidents() {
    let mut m = fixture_with_triage().model("alice", Access::Commander);
    let text = screen(&mut m, 120, 20);
    insta::assert_snapshot!("board_with_triage_queue", text);
    let triage_at = text.find("TRIAGE 2").unwrap();
    let incidents_at = text.find("INC-1").unwrap();
    assert!(triage_at < incidents_at, "{text}");
}

#[test]
fn one_key_declares_the_oldest_and_one_dismisses_the_next() {
    let mut m = fixture_with_triage().model("alice", Access::Commander);
    screen(&mut m, 120, 30);
    let oldest = m.replica.world.alerts.queue().next().unwrap().id;
    let cmd = submitted(chr(&mut m, 't'));
    assert_eq!(cmd.action, Action::DeclareTriaged { severity: None });
    assert_eq!(cmd.incident, Some(oldest.to_string()));
    echo_as(&mut m, &cmd, "alice");
    let inc = m.replica.world.get(&oldest).unwrap();
    assert_eq!(inc.title, "DiskFull: DiskFull summary");
    assert_eq!(inc.severity, "P1");
    // The war room of the new incident opens, with its alerts in the header.
    let text = screen(&mut m, 120, 30);
    assert!(text.contains("1 alert firing"), "{text}");

    update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    let cmd = submitted(chr(&mut m, 'x'));
    assert!(matches!(cmd.action, Action::DismissTriaged { .. }));
    echo_as(&mut m, &cmd, "alice");
    assert_eq!(m.replica.world.alerts.queue().count(), 0);
    let text = screen(&mut m, 120, 30);
    assert!(!text.contains("TRIAGE"), "{text}");
    assert!(text.contains("[1 firing] DiskFull"), "{text}");
    assert!(chr(&mut m, 't').is_empty(), "nothing left to declare");
}

#[test]
fn all_clear_shows_on_the_board_and_in_the_war_room() {
    let mut f = fixture_with_triage();
    let id = f.replica.world.alerts.queue().next().unwrap().id;
    // Through `decide` and the replica, as the server would (seqs after the alerts').
    let cmd = Command {
        id: uuid::Uuid::new_v4(),
        incident: Some(id.to_string()),
        action: Action::DeclareTriaged { severity: None },
        occurred_at: None,
    };
    for event in warroom::domain::decide(&f.replica.world, &f.policy, &cmd, "alice", f.now).unwrap()
    {
        let seq = f.replica.last_seq() + 1;
        f.replica.apply(Recorded {
            seq,
            recorded_at: f.now,
            event,
        });
    }
    ingest(
        &mut f,
        "g-disk",
        vec![alert("d1", false, "critical", "DiskFull")],
    );
    let key_of = f.replica.world.get(&id).unwrap().key();
    let mut m = f.model("alice", Access::Commander);
    let text = screen(&mut m, 120, 30);
    assert!(text.contains("[all clear] DiskFull"), "{text}");
    assert_eq!(key_of, "INC-4");
    m.board.selected = m.board.order.iter().position(|i| *i == id).unwrap();
    update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let text = screen(&mut m, 120, 30);
    assert!(text.contains("ALL ALERTS CLEAR"), "{text}");
}

/// Issue 11 item 12: a report that is not an alert, typed on the `:` line,
/// waits in the triage queue with its acknowledge clock (default policy: a P1
/// customer report, 5 minutes), and one key declares it as for alerts.
#[test]
fn a_report_typed_on_the_command_line_waits_with_its_clock() {
    let mut m = war_room_fixture().model("alice", Access::Commander);
    screen(&mut m, 120, 30);
    chr(&mut m, ':');
    for c in "report customer \"Checkout fails for acme\" severity=P1 reporter=acme".chars() {
        chr(&mut m, c);
    }
    let cmd = submitted(update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    ));
    assert_eq!(
        cmd.action,
        Action::Report {
            intake: "customer".into(),
            title: "Checkout fails for acme".into(),
            severity: Some("P1".into()),
            reporter: "acme".into(),
            details: String::new(),
        }
    );
    assert_eq!(cmd.incident, None);
    echo_as(&mut m, &cmd, "alice");
    let text = screen(&mut m, 120, 30);
    insta::assert_snapshot!("board_with_a_report", text);
    assert!(text.contains("TRIAGE 1"), "{text}");
    assert!(text.contains("alerts and reports waiting"), "{text}");
    assert!(
        text.contains("P1   customer ") && text.contains("acknowledge customer report 5:00 OK"),
        "{text}"
    );
    let cmd = submitted(chr(&mut m, 't'));
    assert_eq!(cmd.action, Action::DeclareTriaged { severity: None });
    echo_as(&mut m, &cmd, "alice");
    assert_eq!(m.replica.world.alerts.queue().count(), 0);
}
