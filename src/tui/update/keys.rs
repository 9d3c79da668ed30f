//! Keys on a screen (no overlay, no composer): the keymap's lookup by
//! context, then the act; quitting and suspending from anywhere.

use super::commands::{answer_offer, open_declare, open_form, submit_now, toggle_item, triage};
use super::forms::composer_key;
use super::navigation::{
    back, follow, move_cursor, open_history, open_review, open_room, page_rows, search, set_filter,
};
use super::overlays::overlay_key;
use super::{set_error, set_info};
use crate::domain::command::Action;
use crate::domain::event::NoteKind;
use crate::tui::keymap::{Act, Context};
use crate::tui::layout;
use crate::tui::model::{
    Composer, Confirm, Model, OnYes, Overlay, Pane, Place, Prompt, PromptKind, Screen,
};
use crate::tui::msg::Effect;
use crossterm::event::KeyEvent;

pub(super) fn on_key(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    if m.overlay.is_some() {
        return overlay_key(m, k);
    }
    if let Some(c) = &m.composer
        && c.open
        && m.screen.place() == Place::WarRoom(c.incident)
    {
        return composer_key(m, k);
    }
    let contexts: Vec<Context> = match m.screen.place() {
        Place::Board => vec![Context::Board, Context::Global],
        Place::WarRoom(_) => {
            let pane = match m.room().map(|r| r.focus) {
                Some(Pane::Checklist) => Context::Checklist,
                Some(Pane::Actions) => Context::Actions,
                _ => Context::Timeline,
            };
            vec![pane, Context::WarRoom, Context::Global]
        }
        Place::Review(_) => vec![Context::Review, Context::Global],
        Place::History => vec![Context::History, Context::Global],
    };
    match m.keymap.lookup(&contexts, &k) {
        Some(act) => screen_act(m, act),
        None => {
            m.dirty = false;
            vec![]
        }
    }
}

pub(super) fn clear_board_filter(m: &mut Model) {
    if m.board.filter.take().is_some() {
        m.board.moved = false;
        m.refresh_board();
        set_info(m, "filter cleared");
    }
}

/// `q` on the board: quitting by habit (`q q` out of a war room) must not
/// end the session, so it asks — unless `quit` would ask anyway.
pub(super) fn ask_quit(m: &mut Model) -> Vec<Effect> {
    if m.has_unsent_text() || m.joined_others > 0 {
        return quit(m);
    }
    m.overlay = Some(Overlay::Confirm(Box::new(Confirm {
        title: "Quit?".into(),
        lines: vec!["Leave the war room? (y/n)".into()],
        on_yes: OnYes::Quit,
        back: None,
    })));
    vec![]
}

/// Below the minimum size the screen shows nothing to act on.
pub(super) fn too_small(m: &Model) -> bool {
    layout::too_small(ratatui::layout::Rect::new(0, 0, m.size.0, m.size.1))
}

/// On the "terminal too small" screen only quitting (and suspending) acts,
/// whatever the screen underneath: keys typed blind act on nothing. The
/// question quitting may ask is shown there, so it can be answered.
pub(super) fn small_key(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    if matches!(m.overlay, Some(Overlay::Confirm(_))) {
        return overlay_key(m, k);
    }
    match m.keymap.lookup(&[Context::Board, Context::Global], &k) {
        Some(Act::Quit) => quit(m),
        Some(Act::AskQuit) => ask_quit(m),
        Some(Act::Suspend) => vec![Effect::Suspend],
        _ => vec![],
    }
}

/// Quitting asks first when a draft would be lost (the composer's, or text
/// typed into an open dialog, which the question returns to on "no").
pub(super) fn quit(m: &mut Model) -> Vec<Effect> {
    let unsent = m.has_unsent_text();
    if !unsent && m.joined_others == 0 {
        return vec![Effect::Quit];
    }
    let back = match m.overlay.take() {
        Some(Overlay::Form(f)) => Some(f),
        _ => None,
    };
    let mut lines = Vec::new();
    if unsent {
        lines.push(if back.is_some() {
            "The open dialog holds text that was not submitted.".to_string()
        } else {
            "The note composer holds an unsent draft.".to_string()
        });
    }
    if m.joined_others > 0 {
        let n = m.joined_others;
        let windows = if n == 1 {
            "1 other window is".to_string()
        } else {
            format!("{n} other windows are")
        };
        lines.push(format!(
            "{windows} joined to the war room this window serves; they go offline for a moment and one of them takes over."
        ));
    }
    lines.push(if unsent {
        "Quit and lose it? (y/n)".into()
    } else {
        "Quit anyway? (y/n)".into()
    });
    m.overlay = Some(Overlay::Confirm(Box::new(Confirm {
        title: "Quit?".into(),
        lines,
        on_yes: OnYes::Quit,
        back,
    })));
    vec![]
}

/// Ctrl-C and Ctrl-Z work while typing too.
pub(super) fn global_key(m: &mut Model, k: &KeyEvent) -> Option<Vec<Effect>> {
    match m.keymap.lookup(&[Context::Global], k) {
        Some(Act::Quit) => Some(quit(m)),
        Some(Act::Suspend) => Some(vec![Effect::Suspend]),
        _ => None,
    }
}

pub(super) fn screen_act(m: &mut Model, act: Act) -> Vec<Effect> {
    let page = page_rows(m);
    match act {
        Act::Quit => return quit(m),
        Act::AskQuit => return ask_quit(m),
        Act::Suspend => return vec![Effect::Suspend],
        Act::Help => m.overlay = Some(Overlay::Help { scroll: 0 }),
        Act::CommandLine => {
            m.overlay = Some(Overlay::Prompt(Box::new(Prompt::new(PromptKind::Command))))
        }
        Act::Back if m.screen == Screen::Board => clear_board_filter(m),
        Act::History => open_history(m),
        Act::Back => back(m),
        Act::Up => move_cursor(m, -1),
        Act::Down => move_cursor(m, 1),
        Act::PageUp => move_cursor(m, -(page as i64)),
        Act::PageDown => move_cursor(m, page as i64),
        Act::Top => move_cursor(m, i64::MIN / 2),
        Act::Bottom => move_cursor(m, i64::MAX / 2),
        Act::Open => match m.screen.place() {
            Place::WarRoom(_) => {
                if let Some(room) = m.room()
                    && room.timeline.selected < m.timeline_logged(room)
                {
                    m.overlay = Some(Overlay::Entry {
                        row: room.timeline.selected,
                    });
                }
            }
            Place::History => {
                if let Some(id) = m.focused_incident().map(|i| i.id) {
                    open_room(m, id);
                }
            }
            _ => {
                if let Some(id) = m.board.order.get(m.board.selected).copied() {
                    open_room(m, id);
                }
            }
        },
        Act::Declare => open_declare(m),
        Act::Deliveries => {
            if let Some(inc) = m.focused_incident() {
                m.overlay = Some(Overlay::Deliveries {
                    incident: inc.id,
                    selected: 0,
                });
            }
        }
        Act::Review => {
            if let Some(inc) = m.focused_incident() {
                let id = inc.id;
                open_review(m, id);
            }
        }
        Act::FocusNext | Act::FocusPrev => {
            if let Some(room) = m.room_mut() {
                room.focus = if act == Act::FocusNext {
                    room.focus.next()
                } else {
                    room.focus.prev()
                };
            }
        }
        Act::Note | Act::Decision => {
            if let Place::WarRoom(id) = m.screen.place() {
                let kind = if act == Act::Decision {
                    NoteKind::Decision
                } else {
                    NoteKind::Note
                };
                match m.composer.as_mut() {
                    Some(c) if c.incident == id => {
                        c.open = true;
                        if act == Act::Decision {
                            c.kind = kind;
                        }
                    }
                    Some(c) if c.has_draft() => {
                        set_error(
                            m,
                            "the composer holds an unsent draft for another incident; send or clear it there first",
                        );
                    }
                    _ => m.composer = Some(Composer::new(id, kind)),
                }
            }
        }
        Act::Acknowledge => return submit_now(m, Action::Acknowledge),
        Act::AcceptRole => return answer_offer(m, true),
        Act::DeclineRole => return answer_offer(m, false),
        Act::TriageDeclare | Act::TriageDismiss => return triage(m, act),
        Act::Severity
        | Act::Roles
        | Act::PostUpdate
        | Act::Escalate
        | Act::Page
        | Act::Contain
        | Act::Resolve
        | Act::Reopen
        | Act::Close
        | Act::AddActionItem
        | Act::ReviewField
        | Act::Impact => open_form(m, act),
        Act::ToggleItem => return toggle_item(m),
        Act::Search => m.overlay = Some(Overlay::Prompt(Box::new(Prompt::new(PromptKind::Search)))),
        Act::SearchNext => search(m, true, false),
        Act::SearchPrev => search(m, false, false),
        Act::CycleFilter => {
            if let Some(room) = m.room() {
                let f = room.timeline.filter.next();
                set_filter(m, f);
            }
        }
        Act::Follow => {
            if let Some(room) = m.room_mut() {
                room.timeline.follow = !room.timeline.follow;
                let on = room.timeline.follow;
                follow(m);
                set_info(
                    m,
                    if on {
                        "follow on: the timeline sticks to the newest entry"
                    } else {
                        "follow off"
                    },
                );
            }
        }
        Act::Export => {
            if let Some(r) = m.review() {
                let key = m
                    .incident(&r.incident)
                    .map_or("incident".into(), |i| i.key());
                return vec![Effect::ExportReview {
                    path: format!("{key}-review.md").into(),
                    text: r.text.clone(),
                }];
            }
        }
        Act::Copy => {
            if let Some(text) = m.review().map(|r| r.text.clone()) {
                set_info(m, "review copied to the clipboard");
                return vec![Effect::CopyToClipboard(text)];
            }
        }
        _ => {}
    }
    vec![]
}
