//! Mouse and paste: clicks select and open, the wheel scrolls, pasted text
//! goes to whatever is being typed in.

use super::navigation::{clamp_all, move_cursor, open_room, step};
use crate::tui::form::Input;
use crate::tui::layout;
use crate::tui::model::{
    CheckRow, Model, Overlay, Pane, Place, Screen, checklist_rows, list_offset, selected_row,
};
use crate::tui::msg::Effect;
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

pub(super) fn paste(m: &mut Model, text: &str) {
    let clean = crate::domain::sanitize::sanitize(text);
    match m.overlay.as_mut() {
        Some(Overlay::Form(f)) => {
            if let Some(Input::Text { editor, multiline }) = f.focused_mut().map(|x| &mut x.input) {
                let t = if *multiline {
                    clean
                } else {
                    clean.replace('\n', " ")
                };
                editor.insert_str(t);
            }
        }
        Some(Overlay::Prompt(p)) => {
            p.editor.insert_str(clean.replace('\n', " "));
        }
        Some(_) => {}
        None => {
            if let Some(c) = m.composer.as_mut().filter(|c| c.open) {
                c.editor.insert_str(clean);
            }
        }
    }
}

pub(super) fn inside(r: ratatui::layout::Rect, col: u16, row: u16) -> bool {
    r.width > 0 && col >= r.x && col < r.x + r.width && row >= r.y && row < r.y + r.height
}

pub(super) fn on_mouse(m: &mut Model, ev: MouseEvent) -> Vec<Effect> {
    let (col, row) = (ev.column, ev.row);
    let wheel = match ev.kind {
        MouseEventKind::ScrollDown => 3,
        MouseEventKind::ScrollUp => -3,
        MouseEventKind::Down(MouseButton::Left) => 0,
        _ => return vec![],
    };
    m.dirty = true;
    if let Some(Overlay::Help { scroll }) = m.overlay.as_mut() {
        if wheel != 0 {
            let lines = crate::tui::view::help_lines(&m.keymap).len();
            *scroll = step(*scroll, wheel, lines);
        }
        return vec![];
    }
    if m.overlay.is_some() {
        return vec![];
    }
    let body = layout::screen_bands(m).body;
    match m.screen.place() {
        Place::Board => {
            let list = layout::board(body, m.replica.world.alerts.queue().count()).list;
            if wheel != 0 {
                move_cursor(m, wheel);
            } else if inside(list, col, row) {
                let i = m.board.offset + usize::from(row - list.y);
                if i < m.board.order.len() {
                    if i == m.board.selected {
                        // A click on the selected row opens it.
                        if let Some(id) = m.board.order.get(i).copied() {
                            open_room(m, id);
                        }
                    } else {
                        m.board.selected = i;
                    }
                }
            }
        }
        Place::History => {
            let list_y = body.y + layout::HISTORY_HEAD;
            if wheel != 0 {
                move_cursor(m, wheel);
            } else if row >= list_y
                && let Screen::History(h) = &mut m.screen
            {
                let i = h.offset + usize::from(row - list_y);
                match h.order.get(i).copied() {
                    // A click on the selected row opens it.
                    Some(id) if i == h.selected => open_room(m, id),
                    Some(_) => h.selected = i,
                    None => {}
                }
            }
        }
        Place::WarRoom(_) => {
            let a = layout::room(m, body);
            let pane = if inside(a.timeline, col, row) {
                Some(Pane::Timeline)
            } else if inside(a.checklist, col, row) {
                Some(Pane::Checklist)
            } else if inside(a.actions, col, row) {
                Some(Pane::Actions)
            } else {
                None
            };
            let Some(pane) = pane else { return vec![] };
            if let Some(room) = m.room_mut() {
                room.focus = pane;
            }
            if wheel != 0 {
                move_cursor(m, wheel);
                return vec![];
            }
            let rect = match pane {
                Pane::Timeline => a.timeline,
                Pane::Checklist => a.checklist,
                Pane::Actions => a.actions,
            };
            // Inside the border: row 0 of the list is rect.y + 1.
            if row <= rect.y || row >= rect.y + rect.height - 1 {
                return vec![];
            }
            let line = usize::from(row - rect.y - 1);
            let rows = m.timeline_rows();
            let height = usize::from(rect.height.saturating_sub(2));
            if pane == Pane::Checklist {
                let i = line_to_item(m, line, height);
                if let Some(room) = m.room_mut() {
                    room.check_sel = i;
                }
            }
            if let Some(room) = m.room_mut() {
                match pane {
                    Pane::Timeline => {
                        let i = room.timeline.offset + line;
                        if i < rows {
                            room.timeline.selected = i;
                            room.timeline.follow = i + 1 == rows;
                        }
                    }
                    Pane::Checklist => {}
                    Pane::Actions => {
                        room.action_sel = list_offset(room.action_sel, height) + line;
                    }
                }
            }
            clamp_all(m);
        }
        Place::Review(_) => {
            if wheel != 0 {
                move_cursor(m, wheel);
            }
        }
    }
    vec![]
}

/// Maps a clicked row of the checklist panel to an item (headings pick their first item).
pub(super) fn line_to_item(m: &Model, line: usize, height: usize) -> usize {
    let Some(room) = m.room() else { return 0 };
    let Some(inc) = m.incident(&room.incident) else {
        return 0;
    };
    let rows = checklist_rows(&m.policy, inc, m.server_now());
    let offset = list_offset(selected_row(&rows, room.check_sel), height);
    rows.iter()
        .skip(offset + line)
        .find_map(|r| match r {
            CheckRow::Item(i, _) => Some(*i),
            CheckRow::Heading(_) => None,
        })
        .unwrap_or(room.check_sel)
}
