//! Snapshots of every screen at 80×24 and 160×48, rendered from fixture
//! events (built through `decide`) at a fixed `now` into a `TestBackend`.
//! Themes are snapshotted with their colours: a dump of the style runs.
#![allow(clippy::unwrap_used)]

use crate::support::tui::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use warroom::domain::command::{Access, Action};
use warroom::domain::event::{NoteKind, Status};
use warroom::tui::{Model, Msg, Theme, update};

fn both(name: &str, mut setup: impl FnMut(&mut Model)) {
    for (w, h) in [(80, 24), (160, 48)] {
        let f = war_room_fixture();
        let mut m = f.model("alice", Access::Commander);
        update(&mut m, Msg::Resize(w, h));
        setup(&mut m);
        let shot = screen(&mut m, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), shot);
    }
}

fn open_inc1(m: &mut Model) {
    press(m, KeyCode::Enter);
}

#[test]
fn board() {
    both("board", |_| {});
}

/// At the narrowest width the board allows, every row still ends with its
/// clock's word: colour is never the only signal.
#[test]
fn board_at_the_minimum_width_keeps_every_clock_word() {
    let f = war_room_fixture();
    let mut m = f.model("alice", Access::Commander);
    for w in 60..=66 {
        let shot = screen(&mut m, w, 16);
        let rows: Vec<&str> = shot.lines().filter(|l| l.contains("INC-")).collect();
        assert!(!rows.is_empty(), "{shot}");
        for row in rows {
            assert!(
                [
                    "OK",
                    "DUE SOON",
                    "OVERDUE",
                    "MET",
                    "no running clock",
                    "all clocks stopped"
                ]
                .iter()
                .any(|w| row.ends_with(w)),
                "at {w} columns the deadline's word is cut: {row:?}\n{shot}"
            );
        }
    }
}

#[test]
fn war_room_with_breached_clocks() {
    both("war_room", open_inc1);
}

#[test]
fn help() {
    both("help", |m| {
        open_inc1(m);
        press(m, KeyCode::Char('?'));
    });
}

#[test]
fn composer_open() {
    both("composer", |m| {
        open_inc1(m);
        press(m, KeyCode::Char('i'));
        typ(m, "Pool raised to 800; error rate falling in eu-west");
        update(
            m,
            Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)),
        );
        typ(m, "watching for 15 minutes");
    });
}

#[test]
fn declare_form() {
    both("declare", |m| {
        press(m, KeyCode::Char('d'));
        typ(m, "Checkout fails with HTTP 500");
        press(m, KeyCode::Tab);
        press(m, KeyCode::Right);
    });
}

#[test]
fn declare_flowchart() {
    both("flowchart", |m| {
        press(m, KeyCode::Char('d'));
        typ(m, "Inference slow");
        update(
            m,
            Msg::Key(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL)),
        );
        press(m, KeyCode::Char('2'));
    });
}

#[test]
fn command_line_with_an_error() {
    both("command_error", |m| {
        open_inc1(m);
        press(m, KeyCode::Char(':'));
        typ(m, "incident declare \"API down\" severity=P9");
        press(m, KeyCode::Enter);
    });
}

#[test]
fn status_update_dialog() {
    both("update", |m| {
        open_inc1(m);
        press(m, KeyCode::Char('u'));
    });
}

#[test]
fn resolve_dialog() {
    both("resolve", |m| {
        open_inc1(m);
        press(m, KeyCode::Char('R'));
        typ(m, "Rolled back 2026.03.14-1");
    });
}

#[test]
fn review() {
    both("review", |m| {
        open_inc1(m);
        press(m, KeyCode::Char('v'));
    });
}

#[test]
fn offline_with_pending_note_and_error() {
    both("offline", |m| {
        open_inc1(m);
        update(
            m,
            Msg::Sync(warroom::tui::msg::SyncMsg::Link(
                warroom::tui::msg::LinkState::Offline,
            )),
        );
        press(m, KeyCode::Char('i'));
        typ(m, "Written while the server is unreachable");
        press(m, KeyCode::Enter);
        press(m, KeyCode::Esc);
        update(
            m,
            Msg::Notice {
                text: "could not write INC-1-review.md: permission denied".into(),
                error: true,
            },
        );
    });
}

#[test]
fn long_timeline_scrolled() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut f = Fixture::new();
        let inc = f.declare(
            "alice",
            "Search index corrupt",
            "P2",
            "data_integrity",
            "Search returns stale results",
        );
        let people = ["bob", "carol", "dana", "erin"];
        for i in 0..2000 {
            f.at_secs(10 + i);
            let kind = if i % 50 == 0 {
                NoteKind::Decision
            } else {
                NoteKind::Note
            };
            f.note(
                people[i as usize % 4],
                &inc,
                kind,
                &format!("reindex batch {i} of 2000 done"),
            );
        }
        f.at_secs(2100);
        f.run(
            "alice",
            &inc,
            Action::SetStatus {
                status: Status::Identified,
            },
        );
        let mut m = f.model("carol", Access::Responder);
        update(&mut m, Msg::Resize(w, h));
        press(&mut m, KeyCode::Enter);
        press(&mut m, KeyCode::Home);
        for _ in 0..30 {
            press(&mut m, KeyCode::PageDown);
        }
        press(&mut m, KeyCode::Char('k'));
        let shot = screen(&mut m, w, h);
        insta::assert_snapshot!(format!("long_timeline_{w}x{h}"), shot);
    }
}

#[test]
fn tiny_terminal() {
    let f = war_room_fixture();
    let mut m = f.model("alice", Access::Commander);
    open_inc1(&mut m);
    insta::assert_snapshot!("tiny_20x5", screen(&mut m, 20, 5));
    insta::assert_snapshot!("tiny_59x24", screen(&mut m, 59, 24));
}

/// Each row's runs of equally styled cells: `x0-x1 fg/bg/mods "text"`, for
/// the rows that hold anything.
fn style_dump(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut runs: Vec<(u16, u16, String, String)> = Vec::new();
        for x in 0..buf.area.width {
            let c = &buf[(x, y)];
            let style = format!("{:?}/{:?}/{:?}", c.fg, c.bg, c.modifier);
            match runs.last_mut() {
                Some(r) if r.2 == style => {
                    r.1 = x;
                    r.3.push_str(c.symbol());
                }
                _ => runs.push((x, x, style, c.symbol().to_string())),
            }
        }
        let runs: Vec<String> = runs
            .into_iter()
            .filter(|r| !r.3.trim().is_empty() || r.2.contains("REVERSED"))
            .map(|(a, b, s, t)| format!("  {a}-{b} {s} {:?}", t.trim_end()))
            .collect();
        if !runs.is_empty() {
            out.push_str(&format!("row {y}\n{}\n", runs.join("\n")));
        }
    }
    out
}

#[test]
fn themes_with_colours() {
    for name in Theme::names() {
        let theme = Theme::embedded(name).unwrap();
        let f = war_room_fixture();
        let mut m = f.model("alice", Access::Commander);
        update(&mut m, Msg::Resize(80, 24));
        let board = render(&m, &theme, 80, 24);
        open_inc1(&mut m);
        let room = render(&m, &theme, 80, 24);
        // The board whole; the war room's header and clocks.
        let mut room_top = Buffer::empty(ratatui::layout::Rect::new(0, 0, 80, 11));
        for y in 0..11 {
            for x in 0..80 {
                room_top[(x, y)] = room[(x, y)].clone();
            }
        }
        let dump = format!(
            "theme {name}\n== board\n{}\n== war room (top)\n{}",
            style_dump(&board),
            style_dump(&room_top)
        );
        insta::assert_snapshot!(format!("theme_{name}"), dump);
    }
}

#[test]
fn timeline_entry_in_full() {
    both("entry", |m| {
        open_inc1(m);
        press(m, KeyCode::Home);
        press(m, KeyCode::Char('j'));
        press(m, KeyCode::Char('j'));
        press(m, KeyCode::Enter);
    });
}

/// The escalation request never stops silently: the labels keep a gap before
/// their values, and what does not fit says so and where the whole text is.
#[test]
fn escalate_dialog() {
    both("escalate", |m| {
        open_inc1(m);
        press(m, KeyCode::Char('e'));
        typ(m, "rollback did not help");
        press(m, KeyCode::Tab);
        typ(m, "Need DBA to approve the failover");
    });
}

/// The definition of done, wrapped.
#[test]
fn close_dialog() {
    both("close", |m| {
        open_inc1(m);
        press(m, KeyCode::Char('C'));
    });
}

/// A long error (an unknown theme, with the list of known ones) wraps on the
/// message line instead of being cut; a refused token says so in the status bar.
#[test]
fn long_error_message_and_refused_token() {
    both("long_error", |m| {
        update(
            m,
            Msg::Notice {
                text: "unknown theme \"solarized\": not embedded and no solarized.toml in ~/.config/warroom/themes; known themes: dark, light, high-contrast, colorblind".into(),
                error: true,
            },
        );
        update(
            m,
            Msg::Sync(warroom::tui::msg::SyncMsg::Link(
                warroom::tui::msg::LinkState::Refused,
            )),
        );
    });
}

/// `?` lists the action names the README and the config's error point to.
#[test]
fn help_lists_the_action_names() {
    let f = war_room_fixture();
    let m = f.model("alice", Access::Commander);
    let lines = warroom::tui::view::help_lines(&m.keymap);
    let text: Vec<String> = lines.iter().map(|l| format!("{l:?}")).collect();
    let text = text.join("\n");
    for name in [
        "post_update",
        "acknowledge",
        "note",
        "command_line",
        "impact",
    ] {
        assert!(
            text.contains(&format!("{name}: ")),
            "{name} missing:\n{text}"
        );
    }
}

/// Issue 15, item 3: invisible characters in text from others never reach
/// the screen, even from a log the server did not clean (an older build): on
/// the roles panel `al\u{200b}ice` must not draw as a look-alike of `alice`,
/// and U+2028 must not break the line.
#[test]
fn invisible_and_line_breaking_characters_are_not_drawn() {
    let mut f = war_room_fixture();
    f.inject(
        "al\u{200b}ice",
        "INC-1",
        warroom::domain::event::EventBody::RoleAssigned {
            role: "scribe".into(),
            person: "ma\u{3164}llory\u{e0041}".into(),
        },
    );
    f.inject(
        "bob",
        "INC-1",
        warroom::domain::event::EventBody::Note {
            kind: NoteKind::Note,
            text: "split\u{2028}here\u{feff} and\u{2060}there".into(),
        },
    );
    let mut m = f.model("alice", Access::Commander);
    update(&mut m, Msg::Resize(160, 48));
    open_inc1(&mut m);
    let shot = screen(&mut m, 160, 48);
    assert!(shot.contains("mallory"), "{shot}");
    assert!(shot.contains("split here andthere"), "{shot}");
    for bad in [
        '\u{200b}',
        '\u{3164}',
        '\u{e0041}',
        '\u{2028}',
        '\u{feff}',
        '\u{2060}',
    ] {
        assert!(!shot.contains(bad), "{bad:?} drawn:\n{shot}");
    }
}
