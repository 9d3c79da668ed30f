//! The review view writes the review: `e` picks a human field of the policy's
//! template and edits it in the dialog, the command goes through `decide`,
//! and the written value is in the export (`w`) — `[to be completed]` before.
#![allow(clippy::unwrap_used)]

use crate::support::tui::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use warroom::domain::command::{Access, Action};
use warroom::tui::form::FormKind;
use warroom::tui::model::{Overlay, Place};
use warroom::tui::msg::{Effect, Msg};
use warroom::tui::update;

fn back_tab(m: &mut warroom::tui::Model) {
    update(
        m,
        Msg::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)),
    );
}

fn export(m: &mut warroom::tui::Model) -> String {
    match chr(m, 'w').as_slice() {
        [Effect::ExportReview { text, .. }] => text.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_field_written_in_the_review_view_is_in_the_export() {
    let f = war_room_fixture();
    let id = f.id_of("INC-1");
    let mut m = f.model("alice", Access::Commander);
    update(&mut m, Msg::Resize(160, 48));
    press(&mut m, KeyCode::Enter);
    chr(&mut m, 'v');
    assert_eq!(m.screen.place(), Place::Review(id));
    assert!(export(&mut m).contains("- **Requests Failed:** [to be completed]"));

    chr(&mut m, 'e');
    let Some(Overlay::Form(form)) = &m.overlay else {
        panic!("no dialog: {:?}", m.overlay)
    };
    assert_eq!(form.kind, FormKind::ReviewField);
    // The first field not written yet is chosen, and the value is focused.
    assert_eq!(form.value("field"), "summary");
    assert_eq!(form.focus, 1);
    // Back to the field choice, two along to Requests Failed, on to its value.
    back_tab(&mut m);
    press(&mut m, KeyCode::Right);
    press(&mut m, KeyCode::Right);
    press(&mut m, KeyCode::Tab);
    typ(&mut m, "18,250");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::SetReviewField {
            field: "requests_failed".into(),
            value: "18,250".into(),
        }
    );
    echo_as(&mut m, &cmd, "alice");
    let text = export(&mut m);
    assert!(text.contains("- **Requests Failed:** 18,250"), "{text}");
    assert_eq!(
        text,
        m.review().unwrap().text,
        "the view shows what is exported"
    );

    // Opened again on that field, the dialog holds what was written.
    chr(&mut m, 'e');
    back_tab(&mut m);
    press(&mut m, KeyCode::Right);
    press(&mut m, KeyCode::Right);
    let Some(Overlay::Form(form)) = &m.overlay else {
        panic!("no dialog")
    };
    assert_eq!(form.value("field"), "requests_failed");
    assert_eq!(form.value("value"), "18,250");
}

#[test]
fn a_viewer_cannot_write_the_review() {
    let f = war_room_fixture();
    let mut m = f.model("victor", Access::Viewer);
    update(&mut m, Msg::Resize(160, 48));
    press(&mut m, KeyCode::Enter);
    chr(&mut m, 'v');
    chr(&mut m, 'e');
    assert!(m.overlay.is_none(), "{:?}", m.overlay);
}

/// After closing (issue 11 item 11): the history lists the action item that
/// fell overdue, and the review of the closed incident is still written from
/// the `:` line.
#[test]
fn after_closing_the_history_lists_overdue_action_items_and_the_review_is_written() {
    let mut f = war_room_fixture();
    f.policy.closure = Default::default();
    f.policy.resolution = Default::default();
    f.at(40);
    f.run(
        "alice",
        "INC-1",
        Action::Resolve {
            summary: "rolled back".into(),
            force: false,
            reason: String::new(),
        },
    );
    f.run("alice", "INC-1", Action::Close);
    // A week on: the item due 2026-03-20 is a day late.
    f.at(7 * 24 * 60);
    let id = f.id_of("INC-1");
    let mut m = f.model("alice", Access::Commander);
    let board = screen(&mut m, 160, 48);
    assert!(
        board
            .lines()
            .next()
            .unwrap()
            .contains("  ·  1 review to do, 1 OVERDUE, 1 action to follow up (h)"),
        "{board}"
    );
    chr(&mut m, 'h');
    assert_eq!(m.screen.place(), Place::History);
    let shot = screen(&mut m, 160, 48);
    assert!(
        shot.lines()
            .next()
            .unwrap()
            .contains("1 action item to follow up"),
        "{shot}"
    );
    assert!(
        shot.contains("Action items to follow up (1): past due, or not changed within their priority's review cadence"),
        "{shot}"
    );
    assert!(
        shot.contains("INC-1 P1 | Alert on DB connection saturation above 80% | owner dana | priority none | due 2026-03-20 | open — overdue by 1 day"),
        "{shot}"
    );

    chr(&mut m, 'v');
    assert_eq!(m.screen.place(), Place::Review(id));
    chr(&mut m, ':');
    typ(&mut m, "field lessons \"Alert before the pool is full.\"");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::SetReviewField {
            field: "lessons".into(),
            value: "Alert before the pool is full.".into(),
        }
    );
    echo_as(&mut m, &cmd, "alice");
    assert!(
        export(&mut m).contains("## Lessons Learned\n\nAlert before the pool is full.\n"),
        "{}",
        m.review().unwrap().text
    );
    // The item is marked done from the `:` line: the list is empty again.
    chr(&mut m, ':');
    typ(&mut m, "item 1 done priority=P2");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    echo_as(&mut m, &cmd, "alice");
    chr(&mut m, 'h');
    let shot = screen(&mut m, 160, 48);
    assert!(!shot.contains("to follow up"), "{shot}");
}
