//! `update` unit tests: for every action, the key presses in and the command
//! (or state change) out. Fixtures are built through the real `decide`.
#![allow(clippy::unwrap_used)]

use crate::support::tui::*;
use chrono::{Duration, NaiveDate};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use warroom::domain::command::{Access, Action, Command};
use warroom::domain::event::{ActionState, Channel, NoteKind, Status};
use warroom::tui::model::{Filter, Level, Overlay, Pane, Place};
use warroom::tui::msg::{Effect, LinkState, Msg, SyncMsg};
use warroom::tui::{Model, update};

fn alt_enter(m: &mut Model) -> Vec<Effect> {
    update(
        m,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)),
    )
}

fn error_text(m: &Model) -> String {
    match &m.message {
        Some(msg) if msg.level == Level::Error => msg.text.clone(),
        other => panic!("expected an error message, got {other:?}"),
    }
}

/// The war room fixture, as alice (commander), with INC-1 open (160×48).
fn in_room() -> (Model, uuid::Uuid) {
    let f = war_room_fixture();
    let id = f.id_of("INC-1");
    let mut m = f.model("alice", Access::Commander);
    update(&mut m, Msg::Resize(160, 48));
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    assert_eq!(m.screen.place(), Place::WarRoom(id));
    (m, id)
}

// ------------------------------------------------------------------ board

#[test]
fn board_is_sorted_worst_first_and_navigable() {
    let f = war_room_fixture();
    let mut m = f.model("alice", Access::Commander);
    let keys: Vec<String> = m
        .board
        .order
        .iter()
        .map(|id| m.incident(id).unwrap().key())
        .collect();
    assert_eq!(keys, ["INC-1", "INC-2", "INC-3"]);
    chr(&mut m, 'j');
    assert_eq!(m.board.selected, 1);
    press(&mut m, KeyCode::Down);
    press(&mut m, KeyCode::Down);
    assert_eq!(m.board.selected, 2, "stops at the last row");
    chr(&mut m, 'g');
    assert_eq!(m.board.selected, 0);
    press(&mut m, KeyCode::End);
    assert_eq!(m.board.selected, 2);
    chr(&mut m, 'k');
    assert_eq!(m.board.selected, 1);
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.screen.place(), Place::WarRoom(m.board.order[1]));
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.screen.place(), Place::Board);
}

#[test]
fn board_selection_follows_the_incident_when_the_order_changes() {
    let f = war_room_fixture();
    let low = f.id_of("INC-3");
    let mut m = f.model("alice", Access::Commander);
    press(&mut m, KeyCode::End);
    assert_eq!(m.board.order[m.board.selected], low);
    // INC-3 becomes the worst: raised to P1.
    let cmd = Command {
        id: uuid::Uuid::new_v4(),
        incident: Some("INC-3".into()),
        action: Action::SetSeverity {
            severity: "P1".into(),
            reason: "billing e-mails bounce".into(),
        },
        occurred_at: None,
    };
    echo_as(&mut m, &cmd, "frank");
    assert_eq!(m.board.order[m.board.selected], low);
}

#[test]
fn quit_from_the_board() {
    let f = war_room_fixture();
    let mut m = f.model("alice", Access::Commander);
    // q asks (q q out of a war room is a habit); Ctrl-C does not.
    assert!(chr(&mut m, 'q').is_empty());
    assert!(matches!(m.overlay, Some(Overlay::Confirm(_))));
    assert_eq!(chr(&mut m, 'y'), vec![Effect::Quit]);
    assert_eq!(ctrl(&mut m, 'c'), vec![Effect::Quit]);
    assert_eq!(ctrl(&mut m, 'z'), vec![Effect::Suspend]);
}

#[test]
fn declare_form_submits_a_declare_and_opens_the_war_room_when_it_arrives() {
    let f = war_room_fixture();
    let mut m = f.model("alice", Access::Commander);
    chr(&mut m, 'd');
    assert!(matches!(m.overlay, Some(Overlay::Form(_))));
    typ(&mut m, "Checkout fails with 500");
    press(&mut m, KeyCode::Tab); // severity
    press(&mut m, KeyCode::Right); // P2
    press(&mut m, KeyCode::Tab); // kind
    press(&mut m, KeyCode::Right); // security
    press(&mut m, KeyCode::Tab); // impact
    typ(&mut m, "EU shoppers cannot pay");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(cmd.incident, None);
    match &cmd.action {
        Action::Declare {
            title,
            severity,
            kind,
            impact,
            commander,
        } => {
            assert_eq!(title, "Checkout fails with 500");
            assert_eq!(severity, "P2");
            assert_eq!(kind.as_deref(), Some("security"));
            assert_eq!(impact.as_ref().unwrap().summary, "EU shoppers cannot pay");
            assert_eq!(commander, &None);
        }
        other => panic!("{other:?}"),
    }
    assert!(m.overlay.is_none());
    assert_eq!(m.pending.len(), 1);
    echo_as(&mut m, &cmd, "alice");
    assert_eq!(m.screen.place(), Place::WarRoom(cmd.id));
    assert!(m.pending.is_empty(), "the declaration arrived");
}

#[test]
fn declare_form_refuses_an_empty_title_in_the_form() {
    let f = war_room_fixture();
    let mut m = f.model("alice", Access::Commander);
    chr(&mut m, 'd');
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    match &m.overlay {
        Some(Overlay::Form(f)) => assert_eq!(f.error.as_deref(), Some("title must not be empty")),
        other => panic!("{other:?}"),
    }
    press(&mut m, KeyCode::Esc);
    assert!(m.overlay.is_none());
}

#[test]
fn declare_flowchart_picks_the_severity() {
    let f = war_room_fixture();
    let mut m = f.model("alice", Access::Commander);
    chr(&mut m, 'd');
    typ(&mut m, "Inference down");
    ctrl(&mut m, 'f');
    // Not all users down (2), but a core feature is (1) → P2.
    chr(&mut m, '2');
    chr(&mut m, '1');
    match &m.overlay {
        Some(Overlay::Form(f)) => {
            assert!(f.flow.is_none(), "the flowchart ended");
            assert_eq!(f.value("severity"), "P2");
        }
        other => panic!("{other:?}"),
    }
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert!(matches!(cmd.action, Action::Declare { ref severity, .. } if severity == "P2"));
}

#[test]
fn flowchart_backspace_and_bad_answers() {
    let f = war_room_fixture();
    let mut m = f.model("alice", Access::Commander);
    chr(&mut m, 'd');
    ctrl(&mut m, 'f');
    chr(&mut m, '2');
    press(&mut m, KeyCode::Backspace);
    chr(&mut m, '9');
    match &m.overlay {
        Some(Overlay::Form(f)) => {
            assert_eq!(f.flow.as_deref(), Some(&[][..]));
            assert!(
                f.error
                    .as_deref()
                    .unwrap()
                    .contains("no answer 9 (it has 2)"),
                "{:?}",
                f.error
            );
        }
        other => panic!("{other:?}"),
    }
    chr(&mut m, '1');
    match &m.overlay {
        Some(Overlay::Form(f)) => assert_eq!(f.value("severity"), "P1"),
        other => panic!("{other:?}"),
    }
}

// ------------------------------------------------------------------ war room: one-key actions

#[test]
fn acknowledge_is_one_key_and_refused_twice() {
    let (mut m, id) = in_room();
    let cmd = submitted(chr(&mut m, 'a'));
    assert_eq!(cmd.action, Action::Acknowledge);
    assert_eq!(cmd.incident, Some(id.to_string()));
    assert_eq!(cmd.occurred_at, Some(m.server_now()));
    echo_as(&mut m, &cmd, "alice");
    assert!(chr(&mut m, 'a').is_empty());
    assert_eq!(error_text(&m), "INC-1 was already acknowledged by alice");
}

#[test]
fn a_viewer_is_told_before_anything_is_sent() {
    let f = war_room_fixture();
    let mut m = f.model("vic", Access::Viewer);
    press(&mut m, KeyCode::Enter);
    assert!(chr(&mut m, 'a').is_empty());
    assert_eq!(
        error_text(&m),
        "acknowledging needs the responder role; you (vic) are a viewer"
    );
    assert!(m.pending.is_empty());
}

#[test]
fn command_ids_are_unique_and_predictable() {
    let (mut m, _) = in_room();
    let expected = m.peek_command_id();
    let first = submitted(chr(&mut m, 'a'));
    assert_eq!(first.id, expected);
    chr(&mut m, 'i');
    typ(&mut m, "x");
    let second = submitted(press(&mut m, KeyCode::Enter));
    assert_ne!(first.id, second.id);
}

// ------------------------------------------------------------------ composer

#[test]
fn scribe_fast_path_i_type_enter() {
    let (mut m, id) = in_room();
    chr(&mut m, 'i');
    typ(&mut m, "Pool raised to 800; errors falling");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::Note {
            kind: NoteKind::Note,
            text: "Pool raised to 800; errors falling".into()
        }
    );
    assert_eq!(cmd.incident, Some(id.to_string()));
    let c = m.composer.as_ref().unwrap();
    assert!(c.open, "the composer stays open for the next note");
    assert_eq!(c.text(), "");
    // The note shows at once as pending at the bottom of the timeline, selected (follow).
    assert_eq!(m.pending.len(), 1);
    let room = m.room().unwrap();
    assert_eq!(room.timeline.selected + 1, m.timeline_rows());
}

#[test]
fn composer_kinds_newlines_and_decision_key() {
    let (mut m, _) = in_room();
    chr(&mut m, 'i');
    press(&mut m, KeyCode::Tab);
    assert_eq!(m.composer.as_ref().unwrap().kind, NoteKind::Decision);
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Tab);
    assert_eq!(m.composer.as_ref().unwrap().kind, NoteKind::Observation);
    press(&mut m, KeyCode::Tab);
    assert_eq!(m.composer.as_ref().unwrap().kind, NoteKind::Note);
    typ(&mut m, "line one");
    alt_enter(&mut m);
    typ(&mut m, "line two");
    ctrl(&mut m, 'j');
    typ(&mut m, "three");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::Note {
            kind: NoteKind::Note,
            text: "line one\nline two\nthree".into()
        }
    );
    // Esc hides; D opens it as a decision.
    press(&mut m, KeyCode::Esc);
    assert!(m.composer.is_none(), "an empty composer closes");
    chr(&mut m, 'D');
    typ(&mut m, "Fail over to eu-west");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::Note {
            kind: NoteKind::Decision,
            text: "Fail over to eu-west".into()
        }
    );
}

#[test]
fn composer_draft_survives_hiding_and_quitting_asks_first() {
    let (mut m, _) = in_room();
    chr(&mut m, 'i');
    typ(&mut m, "half a thought");
    press(&mut m, KeyCode::Esc);
    assert!(!m.composer.as_ref().unwrap().open);
    assert!(m.has_unsent_text());
    // Keys reach the war room again…
    assert!(chr(&mut m, 'j').is_empty());
    // …and quitting asks.
    assert!(chr(&mut m, 'q').is_empty(), "q goes back to the board");
    assert_eq!(m.screen.place(), Place::Board);
    assert!(chr(&mut m, 'q').is_empty());
    assert!(matches!(m.overlay, Some(Overlay::Confirm(_))));
    assert!(chr(&mut m, 'n').is_empty());
    assert!(m.overlay.is_none());
    ctrl(&mut m, 'c');
    assert_eq!(chr(&mut m, 'y'), vec![Effect::Quit]);
    // Reopening the war room and pressing i brings the draft back.
    let (mut m2, _) = in_room();
    chr(&mut m2, 'i');
    typ(&mut m2, "kept");
    press(&mut m2, KeyCode::Esc);
    chr(&mut m2, 'i');
    assert_eq!(m2.composer.as_ref().unwrap().text(), "kept");
    // Ctrl-C inside the composer asks too.
    assert!(ctrl(&mut m2, 'c').is_empty());
    assert!(matches!(m2.overlay, Some(Overlay::Confirm(_))));
}

#[test]
fn empty_note_is_not_sent_and_paste_is_sanitised() {
    let (mut m, _) = in_room();
    chr(&mut m, 'i');
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    update(&mut m, Msg::Paste("evil\u{1b}]52;c;AAAA\u{7} paste".into()));
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::Note {
            kind: NoteKind::Note,
            text: "evil paste".into()
        }
    );
}

// ------------------------------------------------------------------ dialogs

fn form_value(m: &Model, name: &str) -> String {
    match &m.overlay {
        Some(Overlay::Form(f)) => f.value(name),
        other => panic!("no form: {other:?}"),
    }
}

#[test]
fn change_severity_with_a_reason() {
    let (mut m, id) = in_room();
    chr(&mut m, 's');
    assert_eq!(form_value(&m, "severity"), "P1");
    press(&mut m, KeyCode::Right);
    assert_eq!(form_value(&m, "severity"), "P2");
    press(&mut m, KeyCode::Tab);
    typ(&mut m, "rollback restored half the pods");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(cmd.incident, Some(id.to_string()));
    assert_eq!(
        cmd.action,
        Action::SetSeverity {
            severity: "P2".into(),
            reason: "rollback restored half the pods".into()
        }
    );
}

#[test]
fn change_severity_without_a_reason_is_refused_in_the_form() {
    let (mut m, _) = in_room();
    chr(&mut m, 's');
    press(&mut m, KeyCode::Right);
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    match &m.overlay {
        Some(Overlay::Form(f)) => assert_eq!(f.error.as_deref(), Some("reason must not be empty")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn assign_hand_off_and_release_roles() {
    let (mut m, _) = in_room();
    chr(&mut m, 'r');
    press(&mut m, KeyCode::Right);
    press(&mut m, KeyCode::Right); // comms
    assert_eq!(form_value(&m, "role"), "comms");
    press(&mut m, KeyCode::Tab); // mode
    press(&mut m, KeyCode::Tab); // person
    typ(&mut m, "@gina");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::AssignRole {
            role: "comms".into(),
            person: "@gina".into(),
            note: String::new()
        }
    );
    // Hand-off of the IC role with a note.
    chr(&mut m, 'r');
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Tab);
    typ(&mut m, "bob");
    press(&mut m, KeyCode::Tab);
    typ(&mut m, "shift change");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::AssignRole {
            role: "ic".into(),
            person: "bob".into(),
            note: "shift change".into()
        }
    );
    // Release the tech lead.
    chr(&mut m, 'r');
    press(&mut m, KeyCode::Right); // tech_lead
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Right); // release
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::ReleaseRole {
            role: "tech_lead".into()
        }
    );
}

#[test]
fn status_update_is_prefilled_from_the_template_and_refilled_on_state_change() {
    let (mut m, id) = in_room();
    chr(&mut m, 'u');
    let text = form_value(&m, "text");
    assert!(text.contains("We are currently investigating"), "{text}");
    assert!(text.contains("All API calls fail"), "{text}");
    // State → identified: the untouched text follows the template.
    press(&mut m, KeyCode::BackTab); // state
    press(&mut m, KeyCode::Right);
    assert_eq!(form_value(&m, "state"), "identified");
    let text = form_value(&m, "text");
    assert!(text.contains("We have identified the cause"), "{text}");
    // Channel → internal: runbook 002 §6.1's internal status update.
    press(&mut m, KeyCode::BackTab);
    press(&mut m, KeyCode::Right);
    assert_eq!(form_value(&m, "channel"), "internal");
    let text = form_value(&m, "text");
    assert!(
        text.starts_with("2026-03-14 09:26 UTC STATUS UPDATE\n\nCurrent State: identified\n\nSummary:\n[summary?]"),
        "{text}"
    );
    // The summary, actions and next steps are the author's: asked before sending.
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    let cmd = submitted(chr(&mut m, 'y'));
    assert_eq!(cmd.incident, Some(id.to_string()));
    assert_eq!(
        cmd.action,
        Action::PostUpdate {
            channel: Channel::Internal,
            state: Some(Status::Identified),
            text
        }
    );
}

#[test]
fn edited_update_text_is_not_overwritten() {
    let (mut m, _) = in_room();
    chr(&mut m, 'u');
    typ(&mut m, "Mine: ");
    press(&mut m, KeyCode::BackTab);
    press(&mut m, KeyCode::Right);
    assert!(form_value(&m, "text").starts_with("Mine: "));
    // The template names no services yet ([services?]): asked, and confirmed.
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    let cmd = submitted(chr(&mut m, 'y'));
    assert!(matches!(
        cmd.action,
        Action::PostUpdate { channel: Channel::StatusPage, state: Some(Status::Identified), ref text } if text.starts_with("Mine: ")
    ));
}

#[test]
fn escalate_with_the_next_step_and_copy_the_request() {
    let (mut m, _) = in_room();
    chr(&mut m, 'e');
    // Backup on-call was already escalated to; the next step is prefilled.
    assert_eq!(form_value(&m, "to"), "Engineering Manager");
    typ(&mut m, "rollback not enough");
    press(&mut m, KeyCode::Tab);
    typ(&mut m, "approve DB failover");
    let fx = ctrl(&mut m, 'y');
    match fx.as_slice() {
        [Effect::CopyToClipboard(text)] => {
            assert!(text.starts_with("ESCALATION REQUEST"), "{text}");
            assert!(text.contains("rollback not enough"), "{text}");
            assert!(text.contains("approve DB failover"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    // What was asked for is recorded with the reason, not only copied.
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::Escalate {
            to: Some("Engineering Manager".into()),
            reason: "rollback not enough — requested action: approve DB failover".into()
        }
    );
}

#[test]
fn escalate_without_a_requested_action_or_a_reason() {
    let (mut m, _) = in_room();
    chr(&mut m, 'e');
    typ(&mut m, "rollback not enough");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert!(
        matches!(cmd.action, Action::Escalate { ref reason, .. } if reason == "rollback not enough")
    );
    // A requested action alone is no reason: the dialog stays open and says so.
    chr(&mut m, 'e');
    press(&mut m, KeyCode::Tab);
    typ(&mut m, "approve DB failover");
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    match &m.overlay {
        Some(Overlay::Form(f)) => {
            assert_eq!(f.error.as_deref(), Some("reason must not be empty"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn page_someone() {
    let (mut m, _) = in_room();
    chr(&mut m, 'p');
    typ(&mut m, "@hank");
    press(&mut m, KeyCode::Tab);
    typ(&mut m, "network on-call");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::Page {
            who: "@hank".into(),
            reason: "network on-call".into()
        }
    );
}

#[test]
fn mark_contained() {
    let (mut m, _) = in_room();
    chr(&mut m, 'c');
    typ(&mut m, "traffic shed to static page");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::Contain {
            note: "traffic shed to static page".into()
        }
    );
}

/// Ticks runbook 002 §7.4's criteria that no event proves (as alice, the IC).
fn criteria_met(m: &mut Model) {
    for item in ["root-cause", "errors", "latency", "no-impact"] {
        let tick = Command {
            id: uuid::Uuid::new_v4(),
            incident: Some("INC-1".into()),
            action: Action::SetChecklistItem {
                checklist: "resolution".into(),
                item: item.into(),
                done: true,
                waive: None,
            },
            occurred_at: None,
        };
        echo_as(m, &tick, "alice");
    }
}

/// 002 §7.4: unmet criteria refuse resolving; an override reason resolves,
/// recorded with who and why.
#[test]
fn resolve_with_unmet_criteria_needs_an_override_reason() {
    let (mut m, _) = in_room();
    chr(&mut m, 'R');
    typ(&mut m, "rolled back");
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    match &m.overlay {
        Some(Overlay::Form(f)) => {
            let e = f.error.as_deref().unwrap_or_default();
            assert!(
                e.starts_with(
                    "INC-1 cannot be resolved yet, resolution criteria unmet: Root cause addressed"
                ),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    press(&mut m, KeyCode::Tab);
    typ(&mut m, "customer impact over; RCA in the PIR");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::Resolve {
            summary: "rolled back".into(),
            force: true,
            reason: "customer impact over; RCA in the PIR".into(),
        }
    );
    echo_as(&mut m, &cmd, "alice");
    let inc = m.replica.world.resolve("INC-1").unwrap();
    assert_eq!(
        inc.resolve_override.as_deref(),
        Some("customer impact over; RCA in the PIR")
    );
    assert_eq!(inc.resolved.as_ref().map(|s| s.by.as_str()), Some("alice"));
}

#[test]
fn resolve_before_the_stability_window_offers_force_with_confirmation() {
    let (mut m, _) = in_room();
    criteria_met(&mut m);
    chr(&mut m, 'R');
    typ(&mut m, "rolled back");
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    match &m.overlay {
        Some(Overlay::Confirm(c)) => {
            assert!(
                c.lines[0].contains("stability window is 15m"),
                "{:?}",
                c.lines
            );
        }
        other => panic!("{other:?}"),
    }
    // n goes back to the form, with the text kept.
    chr(&mut m, 'n');
    assert_eq!(form_value(&m, "summary"), "rolled back");
    press(&mut m, KeyCode::Enter);
    let cmd = submitted(chr(&mut m, 'y'));
    assert_eq!(
        cmd.action,
        Action::Resolve {
            summary: "rolled back".into(),
            force: true,
            reason: String::new(),
        }
    );
}

#[test]
fn resolve_after_the_stability_window_needs_no_force() {
    let (mut m, _) = in_room();
    let cmd = submitted(chr(&mut m, 'a'));
    echo_as(&mut m, &cmd, "alice");
    let mon = Command {
        id: uuid::Uuid::new_v4(),
        incident: Some("INC-1".into()),
        action: Action::SetStatus {
            status: Status::Monitoring,
        },
        occurred_at: None,
    };
    echo_as(&mut m, &mon, "alice");
    let later = m.now + Duration::minutes(16);
    update(&mut m, Msg::Tick(later));
    criteria_met(&mut m);
    chr(&mut m, 'R');
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::Resolve {
            summary: String::new(),
            force: false,
            reason: String::new(),
        }
    );
}

/// Resolves INC-1 (forced) and returns the model.
fn resolved_room() -> (Model, uuid::Uuid) {
    let (mut m, id) = in_room();
    criteria_met(&mut m);
    chr(&mut m, 'R');
    press(&mut m, KeyCode::Enter);
    let cmd = submitted(chr(&mut m, 'y'));
    echo_as(&mut m, &cmd, "alice");
    assert!(m.incident(&id).unwrap().resolved.is_some());
    (m, id)
}

#[test]
fn reopen_with_a_reason() {
    let (mut m, _) = resolved_room();
    chr(&mut m, 'O');
    typ(&mut m, "errors back at 30%");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::Reopen {
            reason: "errors back at 30%".into()
        }
    );
}

#[test]
fn close_shows_what_is_missing_then_closes() {
    let (mut m, id) = resolved_room();
    chr(&mut m, 'C');
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    match &m.overlay {
        Some(Overlay::Form(f)) => {
            let e = f.error.clone().unwrap();
            assert!(
                // Resolved by force: the stability criterion is neither proven nor ticked.
                e.starts_with(
                    "INC-1 is not done: Resolution criteria (§7.4) unticked: Monitoring confirms stability"
                ),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    press(&mut m, KeyCode::Esc);
    // Tick every required item, then close.
    for list in &m.policy.closure.require_checklists.clone() {
        for item in m.policy.checklist(list).unwrap().items.clone() {
            if m.incident(&id).unwrap().is_checked(list, &item.id) {
                continue;
            }
            let cmd = Command {
                id: uuid::Uuid::new_v4(),
                incident: Some(id.to_string()),
                action: Action::SetChecklistItem {
                    checklist: list.clone(),
                    item: item.id.clone(),
                    done: true,
                    waive: None,
                },
                occurred_at: None,
            };
            echo_as(&mut m, &cmd, "carol");
        }
    }
    chr(&mut m, 'C');
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(cmd.action, Action::Close);
}

#[test]
fn after_resolving_the_checklists_closing_needs_can_still_be_ticked() {
    // 002's definition of done requires the resolution criteria, a
    // resolution-phase list; resolved, the incident is in the closure phase.
    let (mut m, _) = resolved_room();
    press(&mut m, KeyCode::Tab);
    assert_eq!(m.room().unwrap().focus, Pane::Checklist);
    // Resolved by force: stability was not proven, so it can still be ticked.
    for _ in 0..4 {
        chr(&mut m, 'j');
    }
    let cmd = submitted(chr(&mut m, ' '));
    assert_eq!(
        cmd.action,
        Action::SetChecklistItem {
            checklist: "resolution".into(),
            item: "stable".into(),
            done: true,
            waive: None,
        }
    );
    // The closure phase's own list follows the required one.
    for _ in 0..2 {
        chr(&mut m, 'j');
    }
    let cmd = submitted(chr(&mut m, ' '));
    assert!(
        matches!(cmd.action, Action::SetChecklistItem { ref checklist, .. } if checklist == "closure"),
        "{cmd:?}"
    );
}

#[test]
fn add_an_action_item_and_refuse_a_bad_date() {
    let (mut m, _) = in_room();
    chr(&mut m, 'A');
    typ(&mut m, "Load-test the pool limits");
    press(&mut m, KeyCode::Tab);
    typ(&mut m, "dana");
    press(&mut m, KeyCode::Tab);
    typ(&mut m, "2026-13-01");
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    match &m.overlay {
        Some(Overlay::Form(f)) => assert_eq!(
            f.error.as_deref(),
            Some("due: \"2026-13-01\" is not a date; write it as YYYY-MM-DD, e.g. 2026-12-01")
        ),
        other => panic!("{other:?}"),
    }
    for _ in 0..5 {
        press(&mut m, KeyCode::Backspace);
    }
    typ(&mut m, "04-01");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::AddActionItem {
            text: "Load-test the pool limits".into(),
            owner: Some("dana".into()),
            due: NaiveDate::from_ymd_opt(2026, 4, 1),
            priority: None,
        }
    );
}

// ------------------------------------------------------------------ panels

#[test]
fn tick_checklist_items_and_action_items() {
    let (mut m, _) = in_room();
    press(&mut m, KeyCode::Tab);
    assert_eq!(m.room().unwrap().focus, Pane::Checklist);
    let cmd = submitted(chr(&mut m, ' '));
    assert_eq!(
        cmd.action,
        Action::SetChecklistItem {
            checklist: "triage".into(),
            item: "ack".into(),
            done: true,
            waive: None,
        }
    );
    // The already-ticked item is unticked.
    chr(&mut m, 'j');
    let cmd = submitted(chr(&mut m, 'x'));
    assert_eq!(
        cmd.action,
        Action::SetChecklistItem {
            checklist: "triage".into(),
            item: "verified".into(),
            done: false,
            waive: None,
        }
    );
    press(&mut m, KeyCode::Tab);
    assert_eq!(m.room().unwrap().focus, Pane::Actions);
    let item = m.incident(&m.room().unwrap().incident).unwrap().actions[0].id;
    let cmd = submitted(chr(&mut m, ' '));
    assert_eq!(
        cmd.action,
        Action::UpdateActionItem {
            action: item,
            state: ActionState::Done,
            owner: None,
            due: None,
            priority: None,
        }
    );
    press(&mut m, KeyCode::BackTab);
    press(&mut m, KeyCode::BackTab);
    assert_eq!(m.room().unwrap().focus, Pane::Timeline);
}

#[test]
fn timeline_scrolls_follows_and_filters() {
    let (mut m, _) = in_room();
    let rows = m.timeline_rows();
    assert_eq!(rows, 13);
    let tl = &m.room().unwrap().timeline;
    assert!(tl.follow);
    assert_eq!(tl.selected, 12);
    chr(&mut m, 'k');
    let tl = &m.room().unwrap().timeline;
    assert!(!tl.follow, "moving up leaves follow mode");
    assert_eq!(tl.selected, 11);
    // A new entry does not move the cursor when not following.
    let note = Command {
        id: uuid::Uuid::new_v4(),
        incident: Some("INC-1".into()),
        action: Action::Note {
            kind: NoteKind::Note,
            text: "new".into(),
        },
        occurred_at: None,
    };
    echo_as(&mut m, &note, "bob");
    assert_eq!(m.room().unwrap().timeline.selected, 11);
    press(&mut m, KeyCode::Home);
    assert_eq!(m.room().unwrap().timeline.selected, 0);
    press(&mut m, KeyCode::PageDown);
    assert!(m.room().unwrap().timeline.selected > 0);
    press(&mut m, KeyCode::End);
    let tl = &m.room().unwrap().timeline;
    assert!(tl.follow);
    assert_eq!(tl.selected, 13);
    // Following: the next entry is selected as it arrives.
    let mut note2 = note.clone();
    note2.id = uuid::Uuid::new_v4();
    echo_as(&mut m, &note2, "bob");
    assert_eq!(m.room().unwrap().timeline.selected, 14);
    // F toggles follow.
    chr(&mut m, 'F');
    assert!(!m.room().unwrap().timeline.follow);
    chr(&mut m, 'F');
    assert!(m.room().unwrap().timeline.follow);
    // f cycles the filter: notes (4 notes + observation + action + 2 "new"), decisions (1), status, all.
    chr(&mut m, 'f');
    assert_eq!(m.room().unwrap().timeline.filter, Filter::Notes);
    assert_eq!(m.timeline_rows(), 6);
    chr(&mut m, 'f');
    assert_eq!(m.room().unwrap().timeline.filter, Filter::Decisions);
    assert_eq!(m.timeline_rows(), 1);
    chr(&mut m, 'f');
    assert_eq!(m.room().unwrap().timeline.filter, Filter::Status);
    assert_eq!(m.timeline_rows(), 3, "declared, escalated, paged");
    chr(&mut m, 'f');
    assert_eq!(m.timeline_rows(), 15);
}

#[test]
fn search_jumps_between_matches_and_wraps() {
    let (mut m, _) = in_room();
    chr(&mut m, '/');
    typ(&mut m, "POOL");
    press(&mut m, KeyCode::Enter);
    assert!(m.overlay.is_none());
    let room = m.room().unwrap();
    let sel = room.timeline.selected;
    let first = m.timeline_row(room, sel).unwrap().event.body.describe();
    // From the newest entry, the search wraps to the first match: the load balancer note.
    assert!(first.contains("upstream pool"), "{first}");
    chr(&mut m, 'n');
    let room = m.room().unwrap();
    let second = m
        .timeline_row(room, room.timeline.selected)
        .unwrap()
        .event
        .body
        .describe();
    assert!(second.contains("connection pool limits"), "{second}");
    chr(&mut m, 'N');
    assert_eq!(m.room().unwrap().timeline.selected, sel);
    chr(&mut m, '/');
    typ(&mut m, "kubernetes");
    press(&mut m, KeyCode::Enter);
    assert_eq!(error_text(&m), "no timeline entry matches \"kubernetes\"");
}

// ------------------------------------------------------------------ command line

/// Runs a `:` line; the effects besides saving it to the history.
fn run_line(m: &mut Model, line: &str) -> Vec<Effect> {
    chr(m, ':');
    typ(m, line);
    let fx = press(m, KeyCode::Enter);
    assert!(
        fx.contains(&Effect::RememberCommand(line.trim().to_string()))
            || m.history.last().map(String::as_str) == Some(line.trim()),
        "{line:?} was not kept in the history"
    );
    fx.into_iter()
        .filter(|e| !matches!(e, Effect::RememberCommand(_)))
        .collect()
}

#[test]
fn command_line_submits_domain_commands() {
    let (mut m, id) = in_room();
    let cmd = submitted(run_line(&mut m, "ack"));
    assert_eq!(cmd.action, Action::Acknowledge);
    assert_eq!(cmd.incident, Some(id.to_string()));
    let cmd = submitted(run_line(&mut m, "sev P2 \"half the pods are back\""));
    assert_eq!(
        cmd.action,
        Action::SetSeverity {
            severity: "P2".into(),
            reason: "half the pods are back".into()
        }
    );
    let cmd = submitted(run_line(
        &mut m,
        "status update \"Fix rolling out\" state=identified",
    ));
    assert_eq!(
        cmd.action,
        Action::PostUpdate {
            channel: Channel::StatusPage,
            state: Some(Status::Identified),
            text: "Fix rolling out".into()
        }
    );
    let cmd = submitted(run_line(&mut m, "pd page @alice \"need DB eyes\""));
    assert_eq!(
        cmd.action,
        Action::Page {
            who: "alice".into(),
            reason: "need DB eyes".into()
        }
    );
    let cmd = submitted(run_line(
        &mut m,
        "incident declare \"API down\" severity=P1",
    ));
    assert_eq!(cmd.incident, None);
    assert!(
        matches!(cmd.action, Action::Declare { ref title, ref severity, .. } if title == "API down" && severity == "P1")
    );
}

#[test]
fn command_line_errors_stay_on_the_line() {
    let (mut m, _) = in_room();
    assert!(run_line(&mut m, "foo").is_empty());
    match &m.overlay {
        Some(Overlay::Prompt(p)) => {
            assert_eq!(p.error.as_deref(), Some("unknown verb :foo — try :help"));
            assert_eq!(p.text(), "foo");
        }
        other => panic!("{other:?}"),
    }
    // Editing clears the error; Esc leaves.
    press(&mut m, KeyCode::Backspace);
    match &m.overlay {
        Some(Overlay::Prompt(p)) => assert_eq!(p.error, None),
        other => panic!("{other:?}"),
    }
    press(&mut m, KeyCode::Esc);
    assert!(m.overlay.is_none());
    assert!(run_line(&mut m, "incident declare \"x\" severity=P9").is_empty());
    match &m.overlay {
        Some(Overlay::Prompt(p)) => assert_eq!(
            p.error.as_deref(),
            Some("severity=P9: unknown severity; the policy defines P1, P2, P3, P4")
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn command_line_local_verbs() {
    let (mut m, _) = in_room();
    assert_eq!(
        run_line(&mut m, "theme light"),
        vec![Effect::LoadTheme("light".into())]
    );
    update(&mut m, Msg::ThemeChanged("light".into()));
    assert_eq!(m.theme_name, "light");
    assert!(run_line(&mut m, "filter decisions").is_empty());
    assert_eq!(m.room().unwrap().timeline.filter, Filter::Decisions);
    assert!(run_line(&mut m, "help").is_empty());
    assert!(matches!(m.overlay, Some(Overlay::Help { .. })));
    press(&mut m, KeyCode::Esc);
    assert!(run_line(&mut m, "board").is_empty());
    assert_eq!(m.screen.place(), Place::Board);
    assert!(run_line(&mut m, "open INC-2").is_empty());
    assert_eq!(
        m.screen.place(),
        Place::WarRoom(m.replica.world.resolve("INC-2").unwrap().id)
    );
    assert_eq!(run_line(&mut m, "q"), vec![Effect::Quit]);
}

#[test]
fn command_line_tab_completion() {
    let (mut m, _) = in_room();
    chr(&mut m, ':');
    typ(&mut m, "se");
    press(&mut m, KeyCode::Tab);
    let text = |m: &Model| match &m.overlay {
        Some(Overlay::Prompt(p)) => p.text(),
        other => panic!("{other:?}"),
    };
    assert_eq!(text(&m), "sev ");
    typ(&mut m, "p");
    press(&mut m, KeyCode::Tab);
    assert_eq!(text(&m), "sev P1 ");
    press(&mut m, KeyCode::Tab);
    assert_eq!(text(&m), "sev P2 ", "Tab again cycles");
    press(&mut m, KeyCode::Esc);
    chr(&mut m, ':');
    typ(&mut m, "role tech_lead @da");
    press(&mut m, KeyCode::Tab);
    assert_eq!(text(&m), "role tech_lead @dana ");
}

#[test]
fn command_line_needs_an_incident_on_an_empty_board() {
    let f = Fixture::new();
    let mut m = f.model("alice", Access::Commander);
    assert!(run_line(&mut m, "ack").is_empty());
    match &m.overlay {
        Some(Overlay::Prompt(p)) => assert_eq!(
            p.error.as_deref(),
            Some(":ack needs an incident: open one, select one on the board, or add inc=INC-3")
        ),
        other => panic!("{other:?}"),
    }
}

// ------------------------------------------------------------------ sync

#[test]
fn sync_messages_update_link_offset_and_pending() {
    let (mut m, id) = in_room();
    update(
        &mut m,
        Msg::Sync(SyncMsg::Link(LinkState::Reconnecting { attempt: 2 })),
    );
    assert_eq!(m.link, LinkState::Reconnecting { attempt: 2 });
    update(
        &mut m,
        Msg::Sync(SyncMsg::Offset(Duration::milliseconds(-1200))),
    );
    assert_eq!(m.offset, Duration::milliseconds(-1200));
    update(&mut m, Msg::Sync(SyncMsg::Pending(3)));
    assert_eq!(m.outbox, 3);
    // A command queued by an earlier session shows as pending.
    let old = Command {
        id: uuid::Uuid::new_v4(),
        incident: Some(id.to_string()),
        action: Action::Note {
            kind: NoteKind::Note,
            text: "written offline".into(),
        },
        occurred_at: None,
    };
    update(&mut m, Msg::Sync(SyncMsg::Queued { cmd: old.clone() }));
    update(&mut m, Msg::Sync(SyncMsg::Queued { cmd: old.clone() }));
    assert_eq!(m.pending.len(), 1, "queued twice, shown once");
    assert_eq!(m.timeline_rows(), 14);
    update(&mut m, Msg::Sync(SyncMsg::Accepted { id: old.id }));
    assert!(m.pending.is_empty());
}

#[test]
fn rejected_commands_show_the_servers_reason() {
    let (mut m, _) = in_room();
    let cmd = submitted(chr(&mut m, 'a'));
    update(
        &mut m,
        Msg::Sync(SyncMsg::Rejected {
            id: cmd.id,
            error: "forbidden: alice is a viewer on this server".into(),
        }),
    );
    assert!(m.pending.is_empty());
    assert_eq!(
        error_text(&m),
        "acknowledgement refused by the server: forbidden: alice is a viewer on this server"
    );
}

#[test]
fn events_clear_their_pending_command() {
    let (mut m, _) = in_room();
    chr(&mut m, 'i');
    typ(&mut m, "on the stream soon");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(m.pending.len(), 1);
    echo_as(&mut m, &cmd, "alice");
    assert!(m.pending.is_empty());
    assert_eq!(m.timeline_rows(), 14);
}

#[test]
fn tick_moves_time_and_expires_info_messages() {
    let (mut m, _) = in_room();
    submitted(chr(&mut m, 'a'));
    assert_eq!(m.message.as_ref().unwrap().text, "acknowledgement sent");
    let t = m.now + Duration::seconds(3);
    update(&mut m, Msg::Tick(t));
    assert_eq!(m.now, t);
    assert!(m.message.is_some());
    update(&mut m, Msg::Tick(t + Duration::seconds(10)));
    assert!(m.message.is_none());
}

// ------------------------------------------------------------------ help, review, mouse

#[test]
fn help_opens_scrolls_and_closes() {
    let (mut m, _) = in_room();
    chr(&mut m, '?');
    assert!(matches!(m.overlay, Some(Overlay::Help { scroll: 0 })));
    chr(&mut m, 'j');
    press(&mut m, KeyCode::PageDown);
    assert!(matches!(m.overlay, Some(Overlay::Help { scroll }) if scroll > 1));
    chr(&mut m, '?');
    assert!(m.overlay.is_none());
}

#[test]
fn review_preview_exports_and_copies() {
    let (mut m, id) = in_room();
    chr(&mut m, 'v');
    assert_eq!(m.screen.place(), Place::Review(id));
    let text = m.review().unwrap().text.clone();
    assert!(text.contains("INC-1"), "{text}");
    assert!(text.contains("API returns 503 for all customers"));
    match chr(&mut m, 'w').as_slice() {
        [Effect::ExportReview { path, text: t }] => {
            assert_eq!(path.to_str(), Some("INC-1-review.md"));
            assert_eq!(t, &text);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(chr(&mut m, 'y'), vec![Effect::CopyToClipboard(text)]);
    chr(&mut m, 'j');
    assert_eq!(m.review().unwrap().scroll, 1);
    press(&mut m, KeyCode::Esc);
    assert_eq!(
        m.screen.place(),
        Place::WarRoom(id),
        "back to the war room it came from"
    );
}

fn click(m: &mut Model, col: u16, row: u16) {
    update(
        m,
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: col,
            row,
            modifiers: KeyModifiers::NONE,
        }),
    );
}

fn wheel(m: &mut Model, col: u16, row: u16, down: bool) {
    update(
        m,
        Msg::Mouse(MouseEvent {
            kind: if down {
                MouseEventKind::ScrollDown
            } else {
                MouseEventKind::ScrollUp
            },
            column: col,
            row,
            modifiers: KeyModifiers::NONE,
        }),
    );
}

#[test]
fn mouse_selects_and_opens_board_rows() {
    let f = war_room_fixture();
    let mut m = f.model("alice", Access::Commander);
    update(&mut m, Msg::Resize(100, 30));
    // Rows: title, header, then incidents from row 2.
    click(&mut m, 10, 3);
    assert_eq!(m.board.selected, 1);
    assert_eq!(m.screen.place(), Place::Board);
    click(&mut m, 10, 3);
    assert_eq!(m.screen.place(), Place::WarRoom(m.board.order[1]));
}

#[test]
fn mouse_selects_timeline_rows_and_wheel_scrolls() {
    let (mut m, _) = in_room();
    // 160×48: header 3 rows, the timeline panel starts at row 3 and column 56 (left column 56 wide).
    click(&mut m, 80, 5);
    let tl = &m.room().unwrap().timeline;
    assert_eq!(tl.selected, 1, "second row of the timeline");
    assert!(!tl.follow);
    wheel(&mut m, 80, 10, true);
    assert_eq!(m.room().unwrap().timeline.selected, 4);
    wheel(&mut m, 80, 10, false);
    assert_eq!(m.room().unwrap().timeline.selected, 1);
    // A click in the checklist focuses it.
    let areas = warroom::tui::layout::current_room(&m).unwrap();
    click(&mut m, areas.checklist.x + 2, areas.checklist.y + 3);
    let room = m.room().unwrap();
    assert_eq!(room.focus, Pane::Checklist);
    assert_eq!(room.check_sel, 1, "row 2 of the list is the second item");
}

#[test]
fn resize_keeps_cursors_in_range() {
    let (mut m, _) = in_room();
    update(&mut m, Msg::Resize(20, 5));
    update(&mut m, Msg::Resize(80, 24));
    let tl = &m.room().unwrap().timeline;
    assert!(tl.offset <= tl.selected);
}

#[test]
fn quitting_from_a_dialog_with_text_asks_and_no_returns_to_it() {
    let (mut m, _) = in_room();
    chr(&mut m, 'p');
    typ(&mut m, "@hank");
    assert!(ctrl(&mut m, 'c').is_empty());
    assert!(matches!(m.overlay, Some(Overlay::Confirm(_))));
    chr(&mut m, 'n');
    assert_eq!(
        form_value(&m, "who"),
        "@hank",
        "back in the dialog, text kept"
    );
    ctrl(&mut m, 'c');
    assert_eq!(chr(&mut m, 'y'), vec![Effect::Quit]);
}

#[test]
fn ctrl_c_and_ctrl_z_work_while_typing() {
    let (mut m, _) = in_room();
    chr(&mut m, ':');
    typ(&mut m, "no");
    assert_eq!(ctrl(&mut m, 'z'), vec![Effect::Suspend]);
    assert_eq!(ctrl(&mut m, 'c'), vec![Effect::Quit]);
    chr(&mut m, 'i');
    assert_eq!(ctrl(&mut m, 'z'), vec![Effect::Suspend]);
}

#[test]
fn enter_on_the_timeline_shows_the_whole_entry() {
    let (mut m, _) = in_room();
    press(&mut m, KeyCode::Home);
    chr(&mut m, 'j');
    chr(&mut m, 'j');
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    assert!(matches!(m.overlay, Some(Overlay::Entry { row: 2 })));
    // Keys do not leak to the war room underneath.
    assert!(chr(&mut m, 'a').is_empty());
    press(&mut m, KeyCode::Esc);
    assert!(m.overlay.is_none());
    assert_eq!(m.screen.place(), Place::WarRoom(m.room().unwrap().incident));
}

/// A war room left for the board or the review is found as it was — filter,
/// follow — and caught up with what was logged meanwhile.
#[test]
fn a_war_room_left_and_reopened_keeps_its_view_and_catches_up() {
    let (mut m, id) = in_room();
    chr(&mut m, 'f');
    let notes = m.timeline_rows();
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.screen.place(), Place::Board);
    assert!(m.room().is_none());
    let note = |text: &str| Command {
        id: uuid::Uuid::new_v4(),
        incident: Some("INC-1".into()),
        action: Action::Note {
            kind: warroom::domain::event::NoteKind::Note,
            text: text.into(),
        },
        occurred_at: None,
    };
    echo_as(&mut m, &note("noted while away"), "frank");
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.screen.place(), Place::WarRoom(id));
    let room = m.room().unwrap();
    assert_eq!(room.timeline.filter, Filter::Notes, "the filter was kept");
    assert_eq!(
        m.timeline_rows(),
        notes + 1,
        "the note logged meanwhile is in"
    );
    assert_eq!(
        room.timeline.selected, notes,
        "follow keeps the newest selected"
    );
    // The same from the review.
    chr(&mut m, 'v');
    echo_as(&mut m, &note("noted during the review"), "frank");
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.screen.place(), Place::WarRoom(id));
    assert_eq!(m.timeline_rows(), notes + 2);
    assert_eq!(m.room().unwrap().timeline.selected, notes + 1);
}
