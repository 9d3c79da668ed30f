//! Issue 8, friction: the history of closed incidents (reviews coming due,
//! reopen from there), hand-offs the incoming person accepts or declines, and
//! keys marked for what the window's role may do. Update tests and snapshots
//! at a fixed `now`.
#![allow(clippy::unwrap_used)]

use crate::support::tui::*;
use crossterm::event::KeyCode;
use warroom::domain::command::{Access, Action};
use warroom::tui::model::{Overlay, Place};
use warroom::tui::{Model, update};

fn message(m: &Model) -> String {
    m.message
        .as_ref()
        .map(|x| x.text.clone())
        .unwrap_or_default()
}

fn resolve_and_close(f: &mut Fixture, key: &str) {
    f.run(
        "alice",
        key,
        Action::Resolve {
            summary: "fixed".into(),
            force: false,
            reason: String::new(),
        },
    );
    f.run("alice", key, Action::Close);
}

/// The morning's board, and four incidents closed since: a P1 whose review is
/// overdue, a P2 whose review is due in days, a P2 reviewed, and a P4 that
/// needs none. Three days later.
fn history_fixture() -> Fixture {
    let mut f = war_room_fixture();
    // Closing needs nothing here: these tests are about what happens after.
    f.policy.closure = Default::default();
    f.policy.resolution = Default::default();
    f.at(30);
    let p2 = f.declare(
        "erin",
        "Login latency spike in eu-west",
        "P2",
        "availability",
        "",
    );
    let p1 = f.declare(
        "alice",
        "Status page certificate expired",
        "P1",
        "availability",
        "",
    );
    let p4 = f.declare(
        "frank",
        "Typo on the pricing page",
        "P4",
        "availability",
        "",
    );
    let done = f.declare("bob", "Webhook retries doubled", "P2", "availability", "");
    f.at(40);
    resolve_and_close(&mut f, &p2);
    f.at(45);
    resolve_and_close(&mut f, &p4);
    f.at(50);
    resolve_and_close(&mut f, &p1);
    f.at(55);
    f.run(
        "bob",
        &done,
        Action::Resolve {
            summary: "backoff fixed".into(),
            force: false,
            reason: String::new(),
        },
    );
    f.run(
        "bob",
        &done,
        Action::CompleteReview {
            summary: "retry budget per target".into(),
        },
    );
    f.at(60);
    f.run("bob", &done, Action::Close);
    // 72 h and 10 min after INC-5 was resolved.
    f.at(50 + 72 * 60 + 10);
    f
}

#[test]
fn history_lists_closed_incidents_reviews_due_first() {
    let mut m = history_fixture().model("alice", Access::Commander);
    // The board says reviews are owed, and which key shows them.
    let board = screen(&mut m, 160, 48);
    let title = board.lines().next().unwrap();
    assert!(
        title.contains("  ·  2 reviews to do, 1 OVERDUE (h)  ·  policy default"),
        "{title}"
    );
    press(&mut m, KeyCode::Char('h'));
    assert_eq!(m.screen.place(), Place::History);
    let keys: Vec<String> = match &m.screen {
        warroom::tui::model::Screen::History(h) => h
            .order
            .iter()
            .map(|id| m.incident(id).unwrap().key())
            .collect(),
        other => panic!("{other:?}"),
    };
    // Overdue review, review due in days, then the rest newest closed first.
    assert_eq!(keys, ["INC-5", "INC-4", "INC-7", "INC-6"]);
    assert_eq!(m.focused_incident().unwrap().key(), "INC-5");
    for (w, h) in [(160, 48), (80, 24)] {
        let shot = screen(&mut m, w, h);
        insta::assert_snapshot!(format!("history_{w}x{h}"), shot);
    }
}

#[test]
fn history_opens_a_war_room_reopens_and_goes_back() {
    let mut m = history_fixture().model("alice", Access::Commander);
    press(&mut m, KeyCode::Char('h'));
    press(&mut m, KeyCode::Char('j'));
    assert_eq!(m.focused_incident().unwrap().key(), "INC-4");

    // O: the reopen dialog for the selected incident; Enter sends it.
    press(&mut m, KeyCode::Char('O'));
    assert!(
        matches!(m.overlay, Some(Overlay::Form(_))),
        "{:?}",
        m.overlay
    );
    typ(&mut m, "latency back after the cache flush");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::Reopen {
            reason: "latency back after the cache flush".into()
        }
    );
    assert_eq!(
        cmd.incident.as_deref(),
        Some(
            m.replica
                .world
                .resolve("INC-4")
                .unwrap()
                .id
                .to_string()
                .as_str()
        )
    );

    // Enter opens the war room of the selected one; Esc goes to the board.
    press(&mut m, KeyCode::Enter);
    assert_eq!(
        m.screen.place(),
        Place::WarRoom(m.replica.world.resolve("INC-4").unwrap().id)
    );
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.screen.place(), Place::Board);
    // h, then Esc (or h again) returns to the board.
    press(&mut m, KeyCode::Char('h'));
    press(&mut m, KeyCode::Char('h'));
    assert_eq!(m.screen.place(), Place::Board);
}

#[test]
fn a_viewer_is_refused_before_the_reopen_dialog_and_not_shown_the_key() {
    let mut m = history_fixture().model("vic", Access::Viewer);
    press(&mut m, KeyCode::Char('h'));
    let fx = press(&mut m, KeyCode::Char('O'));
    assert!(fx.is_empty());
    assert!(m.overlay.is_none(), "no dialog to fill in vain");
    assert_eq!(
        message(&m),
        "reopening needs the commander role; you (vic) are a viewer"
    );
    let shot = screen(&mut m, 160, 48);
    let status = shot.lines().nth(47).unwrap();
    assert!(
        status.ends_with("Enter open  v review  : command  ? help"),
        "{status}"
    );
}

#[test]
fn an_empty_history_says_how_incidents_get_there() {
    let mut m = war_room_fixture().model("alice", Access::Commander);
    press(&mut m, KeyCode::Char('h'));
    let shot = screen(&mut m, 100, 24);
    assert!(shot.contains("No closed incidents yet."), "{shot}");
    assert!(shot.contains("0 closed incidents"), "{shot}");
}

// ---- Hand-off: accept or decline ----

/// INC-1 with its IC role offered by alice to bob.
fn offered() -> Fixture {
    let mut f = war_room_fixture();
    f.run(
        "alice",
        "INC-1",
        Action::AssignRole {
            role: "ic".into(),
            person: "bob".into(),
            note: "going off shift".into(),
        },
    );
    f
}

#[test]
fn the_roles_panel_shows_both_until_the_incoming_person_takes_the_role() {
    let mut m = offered().model("bob", Access::Responder);
    press(&mut m, KeyCode::Enter);
    let shot = screen(&mut m, 160, 48);
    insta::assert_snapshot!("handoff_pending_for_bob_160x48", shot);
    assert!(shot.contains("alice → bob (pending)"), "{shot}");
    assert!(
        shot.contains("INCIDENT COMMANDER HANDED TO YOU by alice: T takes it, X declines"),
        "{shot}"
    );

    let cmd = submitted(press(&mut m, KeyCode::Char('T')));
    assert_eq!(cmd.action, Action::AcceptRole { role: "ic".into() });
    assert_eq!(message(&m), "you take Incident Commander from alice");
}

#[test]
fn the_incoming_person_declines_and_others_cannot_answer_for_them() {
    let mut m = offered().model("bob", Access::Responder);
    press(&mut m, KeyCode::Enter);
    let cmd = submitted(press(&mut m, KeyCode::Char('X')));
    assert_eq!(
        cmd.action,
        Action::DeclineRole {
            role: "ic".into(),
            reason: String::new()
        }
    );
    assert_eq!(
        message(&m),
        "you declined Incident Commander; alice keeps it"
    );

    // carol sees the pending hand-off, without the keys, and cannot take it.
    let mut m = offered().model("carol", Access::Commander);
    press(&mut m, KeyCode::Enter);
    let shot = screen(&mut m, 160, 48);
    assert!(shot.contains("alice → bob (pending)"), "{shot}");
    assert!(!shot.contains("HANDED TO YOU"), "{shot}");
    assert!(press(&mut m, KeyCode::Char('T')).is_empty());
    assert_eq!(
        message(&m),
        "no role of INC-1 is being handed to you (offered: ic to bob)"
    );
}

#[test]
fn the_board_tells_the_incoming_person_about_the_offer() {
    use warroom::domain::event::EventBody;
    let mut f = war_room_fixture();
    let recs = f.events(
        "alice",
        Some("INC-1"),
        Action::AssignRole {
            role: "ic".into(),
            person: "bob".into(),
            note: String::new(),
        },
    );
    assert!(matches!(recs[0].event.body, EventBody::RoleOffered { .. }));
    let mut m = f.model("bob", Access::Responder);
    update(
        &mut m,
        warroom::tui::Msg::Sync(warroom::tui::msg::SyncMsg::Events(recs)),
    );
    assert_eq!(
        message(&m),
        "⚑ INC-1: alice is handing you ic; in its war room T takes it, X declines"
    );
}

// ---- Keys a role cannot use ----

/// The status line's key hints and the help, per role: only what the role may do.
#[test]
fn key_hints_and_help_follow_the_role() {
    let mut shots = String::new();
    for (name, role) in [
        ("vic", Access::Viewer),
        ("carol", Access::Responder),
        ("alice", Access::Commander),
    ] {
        let mut m = war_room_fixture().model(name, role);
        let board = screen(&mut m, 160, 48);
        press(&mut m, KeyCode::Enter);
        let room = screen(&mut m, 160, 48);
        shots.push_str(&format!(
            "{}:\n  board:    {}\n  war room: {}\n",
            role.as_str(),
            board.lines().nth(47).unwrap().trim_start(),
            room.lines().nth(47).unwrap().trim_start()
        ));
        let help = warroom::tui::view::help_lines_for(&m.keymap, role);
        let barred: Vec<String> = help
            .iter()
            .filter_map(|l| match l {
                warroom::tui::view::HelpLine::Barred(k, d) => Some(format!("{k} {d}")),
                _ => None,
            })
            .collect();
        shots.push_str(&format!("  help, barred ({}):\n", barred.len()));
        for b in barred {
            shots.push_str(&format!("    {b}\n"));
        }
    }
    insta::assert_snapshot!("hints_per_role", shots);
}

#[test]
fn the_help_screen_marks_what_a_viewer_cannot_do() {
    let mut m = war_room_fixture().model("vic", Access::Viewer);
    press(&mut m, KeyCode::Enter);
    press(&mut m, KeyCode::Char('?'));
    let shot = screen(&mut m, 160, 48);
    insta::assert_snapshot!("help_viewer_160x48", shot);
    assert!(shot.contains("✗ i"), "{shot}");
    assert!(
        shot.contains(
            "note: write a note: i, type, Enter (the scribe's fast path) (needs the responder role)"
        ),
        "{shot}"
    );
}

// ---- Issue 9: a more severe alert, when the policy leaves it to the IC ----

#[test]
fn the_war_room_shows_the_severity_the_alerts_suggest_until_it_changes() {
    use warroom::domain::event::EventBody;
    let mut f = war_room_fixture();
    f.inject(
        "alertmanager",
        "INC-2",
        EventBody::SeveritySuggested {
            severity: "P1".into(),
            reason: "LagCritical is firing and maps to P1 (policy: [ingest] rules)".into(),
        },
    );
    let mut m = f.model("erin", Access::Commander);
    let id = m.replica.world.resolve("INC-2").unwrap().id;
    update(
        &mut m,
        warroom::tui::Msg::Sync(warroom::tui::msg::SyncMsg::Events(vec![])),
    );
    let pos = m.board.order.iter().position(|x| *x == id).unwrap();
    for _ in 0..pos {
        press(&mut m, KeyCode::Char('j'));
    }
    press(&mut m, KeyCode::Enter);
    let shot = screen(&mut m, 160, 48);
    let header = shot.lines().nth(1).unwrap();
    assert!(
        header.starts_with(" ALERTS SUGGEST P1 (s changes severity) · "),
        "{header}"
    );
    // The timeline says why.
    assert!(
        shot.contains("severity P1 suggested: LagCritical is firing and maps to P1"),
        "{shot}"
    );
}

#[test]
fn the_command_line_takes_declines_and_opens_the_history() {
    let mut m = offered().model("bob", Access::Responder);
    press(&mut m, KeyCode::Enter);
    press(&mut m, KeyCode::Char(':'));
    typ(&mut m, "take");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(cmd.action, Action::AcceptRole { role: "ic".into() });

    press(&mut m, KeyCode::Char(':'));
    typ(&mut m, "decline ic on another bridge");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::DeclineRole {
            role: "ic".into(),
            reason: "on another bridge".into()
        }
    );

    press(&mut m, KeyCode::Char(':'));
    typ(&mut m, "history");
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.screen.place(), Place::History);
}

#[test]
fn offering_a_held_role_says_it_waits_for_the_incoming_person() {
    let mut m = war_room_fixture().model("alice", Access::Commander);
    press(&mut m, KeyCode::Enter);
    press(&mut m, KeyCode::Char('r'));
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Tab);
    typ(&mut m, "bob");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert!(
        matches!(&cmd.action, Action::AssignRole { role, person, .. } if role == "ic" && person == "bob"),
        "{cmd:?}"
    );
    assert_eq!(
        message(&m),
        "Incident Commander offered to bob; alice keeps it until bob takes it"
    );
}
