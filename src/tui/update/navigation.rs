//! Moving between screens and within them: opening a war room or review,
//! going back, cursors, paging, follow mode, the timeline filter and search,
//! and the invariants every cursor keeps after a change of data or size.

use super::{set_error, set_info};
use crate::tui::layout;
use crate::tui::model::{
    Filter, HistoryState, Model, Pane, Place, ReviewState, RoomState, Screen, TimelineState,
    ensure_visible, entry_matches, phase_items,
};
use uuid::Uuid;

/// Shows `next`; a war room left behind is parked, to be found as it was
/// when its incident is opened again.
pub(super) fn show(m: &mut Model, next: Screen) {
    if let Screen::WarRoom(room) = std::mem::replace(&mut m.screen, next) {
        m.parked_room = Some(room);
    }
}

/// Shows a war room: catches its timeline up with what arrived while it was
/// parked, and puts every cursor back in range.
fn enter_room(m: &mut Model, room: RoomState) {
    m.screen = Screen::WarRoom(room);
    m.refresh_timeline();
    follow(m);
}

pub(super) fn open_room(m: &mut Model, id: Uuid) {
    if m.incident(&id).is_none() {
        return;
    }
    if m.room().is_none_or(|r| r.incident != id) {
        let room = match m.parked_room.take() {
            Some(parked) if parked.incident == id => parked,
            // Another incident's room is forgotten, as the one shown is.
            _ => RoomState {
                incident: id,
                focus: Pane::Timeline,
                timeline: TimelineState::default(),
                check_sel: 0,
                action_sel: 0,
            },
        };
        enter_room(m, room);
    }
    if let Some(pos) = m.board.order.iter().position(|x| *x == id) {
        m.board.selected = pos;
    }
    follow(m);
}

pub(super) fn open_review(m: &mut Model, id: Uuid) {
    show(
        m,
        Screen::Review(ReviewState {
            incident: id,
            text: String::new(),
            scroll: 0,
        }),
    );
    refresh_review(m);
}

/// Regenerates the review text (on entering the screen and when its incident changes).
pub(super) fn refresh_review(m: &mut Model) {
    let Some(r) = m.review() else { return };
    let id = r.incident;
    let Some(inc) = m.incident(&id) else { return };
    let events: Vec<&crate::domain::Event> = m.replica.timeline(&id).map(|r| &r.event).collect();
    let text = crate::domain::review::render(inc, &events, &m.policy, m.server_now());
    if let Some(r) = m.review_mut() {
        r.text = text;
    }
}

/// The history: closed incidents, reviews coming due first.
pub(super) fn open_history(m: &mut Model) {
    show(m, Screen::History(HistoryState::default()));
    m.refresh_history();
    clamp_all(m);
}

/// The board, refreshed (its order is not kept up to date while away).
pub(super) fn to_board(m: &mut Model) {
    m.refresh_board();
    show(m, Screen::Board);
}

/// Esc: the review goes back to its incident's war room if that is where it
/// was opened from; anything else goes to the board.
pub(super) fn back(m: &mut Model) {
    if let Place::Review(id) = m.screen.place()
        && let Some(room) = m.parked_room.take_if(|r| r.incident == id)
    {
        m.refresh_board();
        enter_room(m, room);
        return;
    }
    to_board(m);
    clamp_all(m);
}

/// Rows one page moves, for the screen shown.
pub(super) fn page_rows(m: &Model) -> usize {
    let body = layout::screen_bands(m).body;
    let rows = match m.screen.place() {
        Place::Board => {
            layout::board(body, m.replica.world.alerts.queue().count())
                .list
                .height as usize
        }
        Place::WarRoom(_) => layout::room(m, body).timeline_rows(),
        Place::Review(_) => body.height as usize,
        Place::History => layout::history_rows(body),
    };
    rows.saturating_sub(1).max(1)
}

pub(super) fn step(pos: usize, delta: i64, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let p = pos as i64 + delta;
    p.clamp(0, len as i64 - 1) as usize
}

pub(super) fn move_cursor(m: &mut Model, delta: i64) {
    match m.screen.place() {
        Place::Board => {
            let len = m.board.order.len();
            m.board.selected = step(m.board.selected, delta, len);
            m.board.moved = true;
        }
        Place::WarRoom(_) => {
            let rows = m.timeline_rows();
            let Some(id) = m.room().map(|r| r.incident) else {
                return;
            };
            let n_check = m
                .incident(&id)
                .map_or(0, |i| phase_items(&m.policy, i, m.server_now()).len());
            let n_actions = m.incident(&id).map_or(0, |i| i.actions.len());
            let Some(room) = m.room_mut() else { return };
            match room.focus {
                Pane::Timeline => {
                    let tl = &mut room.timeline;
                    tl.selected = step(tl.selected, delta, rows);
                    // Moving up leaves follow mode; reaching the bottom resumes it.
                    tl.follow = rows == 0 || tl.selected + 1 == rows;
                }
                Pane::Checklist => room.check_sel = step(room.check_sel, delta, n_check),
                Pane::Actions => room.action_sel = step(room.action_sel, delta, n_actions),
            }
        }
        Place::Review(_) => {
            let lines = m.review().map_or(0, |r| r.text.lines().count());
            if let Some(r) = m.review_mut() {
                r.scroll = step(r.scroll, delta, lines);
            }
        }
        Place::History => {
            if let Screen::History(h) = &mut m.screen {
                h.selected = step(h.selected, delta, h.order.len());
            }
        }
    }
    clamp_all(m);
}

/// Follow mode: keep the newest entry selected.
pub(super) fn follow(m: &mut Model) {
    let rows = m.timeline_rows();
    if let Some(room) = m.room_mut()
        && room.timeline.follow
    {
        room.timeline.selected = rows.saturating_sub(1);
    }
    clamp_all(m);
}

/// Re-establishes every cursor/offset invariant after a change of data or size.
pub(super) fn clamp_all(m: &mut Model) {
    let body = layout::screen_bands(m).body;
    let list_h = layout::board(body, m.replica.world.alerts.queue().count())
        .list
        .height as usize;
    let len = m.board.order.len();
    m.board.selected = m.board.selected.min(len.saturating_sub(1));
    ensure_visible(m.board.selected, &mut m.board.offset, list_h);
    if m.board.offset + list_h > len {
        m.board.offset = len.saturating_sub(list_h);
    }
    if let Screen::History(h) = &mut m.screen {
        let height = layout::history_rows(body);
        let len = h.order.len();
        h.selected = h.selected.min(len.saturating_sub(1));
        ensure_visible(h.selected, &mut h.offset, height);
        if h.offset + height > len {
            h.offset = len.saturating_sub(height);
        }
    }
    if m.room().is_some() {
        let rows = m.timeline_rows();
        let height = layout::room(m, body).timeline_rows();
        let n_check = m
            .room()
            .and_then(|r| m.incident(&r.incident))
            .map_or(0, |i| phase_items(&m.policy, i, m.server_now()).len());
        let n_actions = m
            .room()
            .and_then(|r| m.incident(&r.incident))
            .map_or(0, |i| i.actions.len());
        if let Some(room) = m.room_mut() {
            let tl = &mut room.timeline;
            tl.selected = tl.selected.min(rows.saturating_sub(1));
            ensure_visible(tl.selected, &mut tl.offset, height);
            if tl.offset + height > rows {
                tl.offset = rows.saturating_sub(height);
            }
            room.check_sel = room.check_sel.min(n_check.saturating_sub(1));
            room.action_sel = room.action_sel.min(n_actions.saturating_sub(1));
        }
    }
}

pub(super) fn set_filter(m: &mut Model, f: Filter) {
    if let Some(room) = m.room_mut() {
        room.timeline.filter = f;
        room.timeline.indices.clear();
        room.timeline.scanned = 0;
        room.timeline.follow = true;
    }
    m.refresh_timeline();
    follow(m);
    set_info(m, format!("timeline filter: {}", f.label()));
}

/// Finds the next (or previous) entry matching the search, wrapping around.
/// `inclusive` also considers the selected entry (a fresh search).
pub(super) fn search(m: &mut Model, forward: bool, inclusive: bool) {
    let Some(room) = m.room() else { return };
    let Some(q) = room.timeline.search.clone() else {
        set_info(m, "no search yet: press / to search");
        return;
    };
    let n = m.timeline_logged(room);
    if n == 0 {
        return;
    }
    let start = room.timeline.selected.min(n - 1);
    let first = if inclusive { 0 } else { 1 };
    let found = (first..=n).find_map(|k| {
        let k = k % n;
        let i = if forward {
            (start + k) % n
        } else {
            (start + n - k) % n
        };
        m.timeline_row(room, i)
            .filter(|rec| entry_matches(rec, &q))
            .map(|_| i)
    });
    match found {
        Some(i) => {
            if let Some(room) = m.room_mut() {
                room.timeline.selected = i;
                room.timeline.follow = false;
            }
            clamp_all(m);
        }
        None => set_error(m, format!("no timeline entry matches {q:?}")),
    }
}
