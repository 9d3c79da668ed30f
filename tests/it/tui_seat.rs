//! `update` tests for issue 8's seat defects and friction: the window that
//! hosts the embedded server, refused commands, role checks before forms,
//! the board's cursor and filter, the command line's history.
#![allow(clippy::unwrap_used)]

use crate::support::tui::*;
use crossterm::event::KeyCode;
use warroom::domain::command::{Access, Action};
use warroom::tui::model::{Level, Overlay, Place};
use warroom::tui::msg::{Effect, LinkState, Msg, SyncMsg};
use warroom::tui::{Model, update};

fn confirm_text(m: &Model) -> String {
    match &m.overlay {
        Some(Overlay::Confirm(c)) => c.lines.join("\n"),
        other => panic!("expected a question, got {other:?}"),
    }
}

fn seat(m: &mut Model, joined_others: usize) {
    let server_url = m.server_url.clone();
    update(
        m,
        Msg::Seat {
            server_url,
            joined_others,
        },
    );
}

// ------------------------------------------------------- hosting window

#[test]
fn the_hosting_window_warns_before_quitting_while_others_are_joined() {
    let f = war_room_fixture();
    let mut m = f.model("alice", Access::Commander);
    seat(&mut m, 2);
    assert!(ctrl(&mut m, 'c').is_empty(), "quit without asking");
    let q = confirm_text(&m);
    assert!(q.contains("2 other windows are joined"), "{q}");
    assert!(q.contains("Quit anyway? (y/n)"), "{q}");
    chr(&mut m, 'n');
    assert!(m.overlay.is_none());
    assert_eq!(m.screen.place(), Place::Board);
    ctrl(&mut m, 'c');
    assert_eq!(chr(&mut m, 'y'), vec![Effect::Quit]);
    // Alone again: quits at once.
    let mut m = war_room_fixture().model("alice", Access::Commander);
    seat(&mut m, 0);
    assert_eq!(ctrl(&mut m, 'c'), vec![Effect::Quit]);
}

#[test]
fn the_status_bar_follows_a_takeover_to_the_new_address() {
    let f = war_room_fixture();
    let mut m = f.model("alice", Access::Commander);
    update(
        &mut m,
        Msg::Seat {
            server_url: "http://127.0.0.1:40123".into(),
            joined_others: 0,
        },
    );
    assert_eq!(m.server_url, "http://127.0.0.1:40123");
}

// ------------------------------------------------ refusals keep the text

fn in_room(role: Access) -> (Model, uuid::Uuid) {
    let f = war_room_fixture();
    let id = f.id_of("INC-1");
    let mut m = f.model("bob", role);
    update(&mut m, Msg::Resize(160, 48));
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.screen.place(), Place::WarRoom(id));
    (m, id)
}

fn error_text(m: &Model) -> String {
    match &m.message {
        Some(msg) if msg.level == Level::Error => msg.text.clone(),
        other => panic!("expected an error message, got {other:?}"),
    }
}

fn sent(fx: Vec<Effect>) -> warroom::domain::Command {
    fx.into_iter()
        .find_map(|e| match e {
            Effect::Submit(c) => Some(c),
            _ => None,
        })
        .expect("a command was sent")
}

#[test]
fn a_note_refused_by_the_server_comes_back_into_the_composer() {
    let (mut m, id) = in_room(Access::Responder);
    chr(&mut m, 'i');
    typ(&mut m, "Rolled back build 4411");
    let cmd = sent(press(&mut m, KeyCode::Enter));
    assert!(
        !m.composer.as_ref().unwrap().has_draft(),
        "sent: composer empty"
    );
    // A newer draft is being written when the refusal arrives.
    typ(&mut m, "and the cache");
    update(
        &mut m,
        Msg::Sync(SyncMsg::Rejected {
            id: cmd.id,
            error: "this token has been revoked (401)".into(),
        }),
    );
    let c = m.composer.as_ref().unwrap();
    assert_eq!(c.incident, id);
    assert_eq!(c.text(), "Rolled back build 4411\nand the cache");
    let e = error_text(&m);
    assert!(
        e.starts_with("note refused by the server: this token has been revoked"),
        "{e}"
    );
    assert!(e.contains("back in the composer"), "{e}");
    assert!(m.pending.is_empty());
}

#[test]
fn a_refused_status_update_reopens_its_dialog_with_the_text() {
    let (mut m, _) = in_room(Access::Commander);
    chr(&mut m, 'u');
    assert!(matches!(m.overlay, Some(Overlay::Form(_))));
    press(&mut m, KeyCode::Enter);
    // The template still has [services?]: confirmed.
    let cmd = sent(chr(&mut m, 'y'));
    assert!(m.overlay.is_none());
    let Action::PostUpdate { text, .. } = &cmd.action else {
        panic!("{cmd:?}")
    };
    update(
        &mut m,
        Msg::Sync(SyncMsg::Rejected {
            id: cmd.id,
            error: "commander role needed (403)".into(),
        }),
    );
    match &m.overlay {
        Some(Overlay::Form(f)) => {
            assert_eq!(&f.value("text"), text);
            assert!(f.has_text(), "Esc asks before dropping it");
        }
        other => panic!("{other:?}"),
    }
    assert!(error_text(&m).starts_with("status update refused by the server"));
}

#[test]
fn a_refused_token_is_said_plainly() {
    let (mut m, _) = in_room(Access::Responder);
    update(&mut m, Msg::Sync(SyncMsg::Link(LinkState::Refused)));
    let e = error_text(&m);
    assert!(e.contains("no longer accepts this window's token"), "{e}");
    assert!(e.contains("new token"), "{e}");
}

// ------------------------------------------------------- refuse early

#[test]
fn dialogs_the_role_may_not_submit_are_refused_before_they_open() {
    let (mut m, _) = in_room(Access::Responder);
    for (key, words) in [
        (
            'u',
            "posting a status update needs the commander role; you (bob) are a responder",
        ),
        ('s', "changing the severity needs the commander role"),
        ('r', "assigning a role needs the commander role"),
    ] {
        chr(&mut m, key);
        assert!(m.overlay.is_none(), "{key}: the form opened");
        assert!(
            error_text(&m).starts_with(words),
            "{key}: {}",
            error_text(&m)
        );
    }
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.screen.place(), Place::Board);
    chr(&mut m, 'd');
    assert!(m.overlay.is_none());
    assert_eq!(
        error_text(&m),
        "declaring an incident needs the commander role; you (bob) are a responder"
    );
}

#[test]
fn offline_a_command_reads_as_queued_not_sent() {
    let (mut m, _) = in_room(Access::Commander);
    chr(&mut m, 'a');
    assert_eq!(m.message.as_ref().unwrap().text, "acknowledgement sent");
    let (mut m, _) = in_room(Access::Commander);
    update(&mut m, Msg::Sync(SyncMsg::Link(LinkState::Offline)));
    chr(&mut m, 'a');
    assert_eq!(
        m.message.as_ref().unwrap().text,
        "acknowledgement queued: offline, it goes out when the server is back"
    );
}

// ------------------------------------------------------ too small

#[test]
fn on_the_too_small_screen_only_quit_acts() {
    let f = war_room_fixture();
    let mut m = f.model("alice", Access::Commander);
    update(&mut m, Msg::Resize(20, 5));
    for c in ['d', 'j', ':', '?', '\n'] {
        assert!(chr(&mut m, c).is_empty(), "{c:?} acted");
    }
    press(&mut m, KeyCode::Enter);
    assert!(m.overlay.is_none(), "{:?}", m.overlay.is_some());
    assert_eq!(m.screen.place(), Place::Board);
    assert_eq!(m.board.selected, 0);
    update(&mut m, Msg::Paste("blind".into()));
    // q asks there too (the question is shown on the small screen); y quits.
    assert!(chr(&mut m, 'q').is_empty());
    assert_eq!(chr(&mut m, 'y'), vec![Effect::Quit]);
    // With a draft: the question is asked (and shown) and answered there.
    let (mut m, _) = in_room(Access::Commander);
    chr(&mut m, 'i');
    typ(&mut m, "half a note");
    press(&mut m, KeyCode::Esc);
    update(&mut m, Msg::Resize(20, 5));
    chr(&mut m, 'x');
    assert!(ctrl(&mut m, 'c').is_empty());
    assert!(confirm_text(&m).contains("unsent draft"));
    assert_eq!(chr(&mut m, 'y'), vec![Effect::Quit]);
}

// ------------------------------------------- services, customers, bridge

#[test]
fn the_declare_dialog_sets_services_customers_and_the_bridge() {
    let f = war_room_fixture();
    let mut m = f.model("alice", Access::Commander);
    chr(&mut m, 'd');
    typ(&mut m, "Checkout fails");
    for _ in 0..3 {
        press(&mut m, KeyCode::Tab);
    }
    typ(&mut m, "EU shoppers cannot pay");
    press(&mut m, KeyCode::Tab);
    typ(&mut m, "checkout-api, payments");
    press(&mut m, KeyCode::Tab);
    typ(&mut m, "EU tenants");
    press(&mut m, KeyCode::Tab);
    typ(&mut m, "https://meet.example.net/x");
    let cmd = sent(press(&mut m, KeyCode::Enter));
    let Action::Declare {
        impact: Some(i), ..
    } = &cmd.action
    else {
        panic!("{cmd:?}")
    };
    assert_eq!(i.summary, "EU shoppers cannot pay");
    assert_eq!(i.services, ["checkout-api", "payments"]);
    assert_eq!(i.customers, "EU tenants");
    assert_eq!(i.bridge, "https://meet.example.net/x");
}

#[test]
fn the_impact_dialog_opens_with_the_current_values_and_keeps_them() {
    let (mut m, id) = in_room(Access::Commander);
    chr(&mut m, 'I');
    match &m.overlay {
        Some(Overlay::Form(f)) => {
            assert_eq!(
                f.value("impact"),
                "All API calls fail; dashboards and CLI unusable"
            );
            assert!(!f.has_text(), "nothing typed yet");
        }
        other => panic!("{other:?}"),
    }
    press(&mut m, KeyCode::Tab);
    typ(&mut m, "api, dashboard");
    let cmd = sent(press(&mut m, KeyCode::Enter));
    assert_eq!(cmd.incident.as_deref(), Some(id.to_string().as_str()));
    let Action::UpdateImpact { impact } = &cmd.action else {
        panic!("{cmd:?}")
    };
    assert_eq!(
        impact.summary,
        "All API calls fail; dashboards and CLI unusable"
    );
    assert_eq!(impact.services, ["api", "dashboard"]);
    assert_eq!(m.message.as_ref().unwrap().text, "impact update sent");
}

#[test]
fn a_status_update_with_unfilled_fields_asks_before_posting() {
    let (mut m, _) = in_room(Access::Commander);
    chr(&mut m, 'u');
    // The fixture's incident names no services: the template says [services?].
    assert!(
        press(&mut m, KeyCode::Enter).is_empty(),
        "posted without asking"
    );
    let q = confirm_text(&m);
    assert!(q.contains("unfilled fields: [services?]"), "{q}");
    assert!(q.contains("set with I (or :impact)"), "{q}");
    // n: back to the message, as it was.
    chr(&mut m, 'n');
    assert!(matches!(m.overlay, Some(Overlay::Form(_))));
    press(&mut m, KeyCode::Enter);
    let cmd = sent(chr(&mut m, 'y'));
    assert!(matches!(cmd.action, Action::PostUpdate { .. }));
    assert!(m.overlay.is_none());
}

#[test]
fn esc_asks_before_dropping_hand_typed_text_in_a_dialog() {
    let (mut m, _) = in_room(Access::Commander);
    // Untouched: Esc closes at once.
    chr(&mut m, 'A');
    press(&mut m, KeyCode::Esc);
    assert!(m.overlay.is_none());
    // Typed: Esc asks; n returns to the text, y drops it.
    chr(&mut m, 'A');
    typ(&mut m, "Alert on pool exhaustion");
    press(&mut m, KeyCode::Esc);
    assert!(confirm_text(&m).contains("Close it and drop the text? (y/n)"));
    chr(&mut m, 'n');
    match &m.overlay {
        Some(Overlay::Form(f)) => assert_eq!(f.value("text"), "Alert on pool exhaustion"),
        other => panic!("{other:?}"),
    }
    press(&mut m, KeyCode::Esc);
    assert!(chr(&mut m, 'y').is_empty());
    assert!(m.overlay.is_none());
    // The update's template is not hand-typed: Esc closes it at once.
    chr(&mut m, 'u');
    press(&mut m, KeyCode::Esc);
    assert!(m.overlay.is_none());
}

// ------------------------------------------------------------ the board

#[test]
fn the_board_cursor_starts_on_the_top_row_and_q_asks() {
    let f = war_room_fixture();
    let mut m = f.model("alice", Access::Commander);
    assert_eq!(m.board.selected, 0);
    // Incidents arriving and re-sorting do not drag an untouched cursor down.
    let worst = m.board.order[0];
    m.refresh_board();
    assert_eq!(m.board.order[m.board.selected], worst);
    assert!(chr(&mut m, 'q').is_empty(), "q quit at once");
    assert!(confirm_text(&m).contains("Leave the war room? (y/n)"));
    chr(&mut m, 'n');
    assert!(m.overlay.is_none());
}

#[test]
fn slash_filters_the_board_and_esc_clears_it() {
    let f = war_room_fixture();
    let mut m = f.model("alice", Access::Commander);
    update(&mut m, Msg::Resize(160, 48));
    assert_eq!(m.board.order.len(), 3);
    chr(&mut m, '/');
    typ(&mut m, "replication");
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.board.order.len(), 1);
    assert_eq!(m.incident(&m.board.order[0]).unwrap().key(), "INC-2");
    // Enter opens the one match.
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.screen.place(), Place::WarRoom(m.board.order[0]));
    press(&mut m, KeyCode::Esc);
    assert_eq!(
        m.board.filter.as_deref(),
        Some("replication"),
        "kept on return"
    );
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.board.filter, None);
    assert_eq!(m.board.order.len(), 3);
    // By key as well.
    chr(&mut m, '/');
    typ(&mut m, "inc-3");
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.board.order.len(), 1);
}

// ------------------------------------------------------ the command line

fn prompt_text(m: &Model) -> String {
    match &m.overlay {
        Some(Overlay::Prompt(p)) => p.text(),
        other => panic!("expected the command line, got {other:?}"),
    }
}

#[test]
fn command_line_history_up_down_ctrl_u_and_saving() {
    let (mut m, _) = in_room(Access::Commander);
    m.history = vec!["filter notes".into()];
    chr(&mut m, ':');
    typ(&mut m, "ack");
    let fx = press(&mut m, KeyCode::Enter);
    assert!(
        fx.contains(&Effect::RememberCommand("ack".into())),
        "{fx:?}"
    );
    chr(&mut m, ':');
    typ(&mut m, "half typed");
    press(&mut m, KeyCode::Up);
    assert_eq!(prompt_text(&m), "ack");
    press(&mut m, KeyCode::Up);
    assert_eq!(prompt_text(&m), "filter notes");
    press(&mut m, KeyCode::Up);
    assert_eq!(prompt_text(&m), "filter notes", "stops at the oldest");
    press(&mut m, KeyCode::Down);
    press(&mut m, KeyCode::Down);
    assert_eq!(prompt_text(&m), "half typed", "back to what was typed");
    ctrl(&mut m, 'u');
    assert_eq!(prompt_text(&m), "");
    // A refused line is kept too (it is the one worth fixing with Up).
    typ(&mut m, "sev P9 oops");
    let fx = press(&mut m, KeyCode::Enter);
    assert!(fx.contains(&Effect::RememberCommand("sev P9 oops".into())));
    assert_eq!(m.history.last().map(String::as_str), Some("sev P9 oops"));
}

#[test]
fn check_completes_the_checklist_item_ids() {
    let (mut m, _) = in_room(Access::Commander);
    chr(&mut m, ':');
    typ(&mut m, "check tri");
    press(&mut m, KeyCode::Tab);
    let line = prompt_text(&m);
    assert!(line.starts_with("check triage/"), "{line}");
}

// ------------------------------------------------- colour is not the only signal

#[test]
fn focus_and_selection_are_marked_without_colour() {
    let (mut m, _) = in_room(Access::Commander);
    let shot = screen(&mut m, 160, 48);
    assert!(shot.contains("▶ Timeline"), "{shot}");
    assert!(shot.contains("▶bob"), "the selected entry:\n{shot}");
    press(&mut m, KeyCode::Tab);
    let shot = screen(&mut m, 160, 48);
    assert!(shot.contains("▶ Checklist"), "{shot}");
    assert!(!shot.contains("▶ Timeline"), "{shot}");
    assert!(shot.contains("[ ]▶") || shot.contains("[x]▶"), "{shot}");
}

// ------------------------------------------------------------ clock words

/// Applies a command as the server would and feeds the events back.
fn echo(m: &mut Model, action: Action) {
    let id = match m.screen.place() {
        Place::WarRoom(id) => id,
        other => panic!("{other:?}"),
    };
    let cmd = warroom::domain::Command {
        id: uuid::Uuid::new_v4(),
        incident: Some(id.to_string()),
        action,
        occurred_at: None,
    };
    echo_as(m, &cmd, "alice");
}

#[test]
fn a_met_clock_says_when_and_how_fast_and_stability_is_good_news() {
    let (mut m, _) = in_room(Access::Commander);
    echo(&mut m, Action::Acknowledge);
    let shot = screen(&mut m, 160, 48);
    let ack = shot
        .lines()
        .find(|l| l.contains("acknowledge"))
        .unwrap_or_else(|| panic!("{shot}"));
    // Acknowledged 26 minutes in against a 5-minute target.
    assert!(ack.contains("at 09:26 MET LATE"), "{ack}");
    assert!(ack.contains("in 26:00"), "{ack}");
    assert!(!ack.contains("OVERDUE"), "{ack}");
    echo(
        &mut m,
        Action::SetStatus {
            status: warroom::domain::Status::Monitoring,
        },
    );
    let shot = screen(&mut m, 160, 48);
    assert!(shot.contains("SETTLING"), "{shot}");
}

// -------------------------------------------------------------- attention

#[test]
fn a_clock_turning_overdue_and_a_page_for_me_flash_and_ring_when_asked() {
    let f = war_room_fixture();
    let mut m = f.model("bob", Access::Responder);
    m.bell = true;
    let t = m.now;
    // The first tick is the baseline: what is overdue already is not news.
    assert!(update(&mut m, Msg::Tick(t)).is_empty());
    assert!(m.message.is_none());
    // Eight minutes on, INC-2's status page update (due in 7:00) turns OVERDUE.
    let fx = update(&mut m, Msg::Tick(t + chrono::Duration::minutes(8)));
    assert_eq!(fx, vec![Effect::Bell]);
    let text = &m.message.as_ref().unwrap().text;
    assert!(
        text.starts_with("⚑ INC-2 status page") && text.contains("is OVERDUE"),
        "{text}"
    );
    // Announced once.
    assert!(
        update(
            &mut m,
            Msg::Tick(t + chrono::Duration::minutes(8) + chrono::Duration::seconds(1))
        )
        .is_empty()
    );
    // Bell off (the default): only the flash.
    m.bell = false;
    m.message = None;
    let inc = m.board.order[0];
    let page = warroom::domain::Command {
        id: uuid::Uuid::new_v4(),
        incident: Some(inc.to_string()),
        action: Action::Page {
            who: "bob".into(),
            reason: "DB on-call needed".into(),
        },
        occurred_at: None,
    };
    let now = m.server_now();
    let events = warroom::domain::decide(&m.replica.world, &m.policy, &page, "alice", now).unwrap();
    let seq = m.replica.last_seq();
    let recs = events
        .into_iter()
        .enumerate()
        .map(|(i, event)| warroom::domain::Recorded {
            seq: seq + 1 + i as u64,
            recorded_at: now,
            event,
        })
        .collect();
    assert!(update(&mut m, Msg::Sync(SyncMsg::Events(recs))).is_empty());
    let text = &m.message.as_ref().unwrap().text;
    assert!(
        text.contains("alice paged you: DB on-call needed"),
        "{text}"
    );
}
