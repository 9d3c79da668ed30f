//! Where everything goes on screen, as pure functions of the terminal size and
//! the model. `view` draws into these rectangles and `update` uses the very
//! same ones to page the timeline and to hit-test mouse clicks, so the two can
//! never disagree.

use super::model::{Model, Pane, Place};
use crate::domain::clocks::clocks;
use ratatui::layout::Rect;

/// Below this the screen only says it is too small.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

pub fn too_small(area: Rect) -> bool {
    area.width < MIN_WIDTH || area.height < MIN_HEIGHT
}

/// The three horizontal bands of every screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bands {
    pub body: Rect,
    /// Messages, prompts, completions.
    pub message: Rect,
    pub status: Rect,
}

/// The bands for `area`; the message band grows (up to three rows) so a long
/// message wraps rather than being cut.
pub fn bands(area: Rect, message_rows: u16) -> Bands {
    let h = area.height;
    let msg = message_rows.clamp(1, 3).min(h.saturating_sub(1));
    let row = |y: u16, height: u16| Rect::new(area.x, area.y + y, area.width, height);
    Bands {
        body: row(0, h.saturating_sub(1 + msg)),
        message: row(h.saturating_sub(1 + msg), msg.min(h)),
        status: row(h.saturating_sub(1), 1.min(h)),
    }
}

/// The screen's bands as the model's size and message make them.
pub fn screen_bands(m: &Model) -> Bands {
    bands(m.area(), message_rows(m))
}

/// Rows the message line needs at the current width (1 to 3).
pub fn message_rows(m: &Model) -> u16 {
    let Some(msg) = &m.message else { return 1 };
    // " ERROR " + " " + the text, as the view draws it.
    let len = msg.text.chars().count() + 8;
    let w = usize::from(m.size.0.max(1));
    u16::try_from(len.div_ceil(w)).unwrap_or(3).clamp(1, 3)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoardAreas {
    pub title: Rect,
    /// The triage queue above the incidents (zero-sized when it is empty):
    /// a heading, up to [`TRIAGE_ROWS`] items, a blank line.
    pub triage: Rect,
    pub header: Rect,
    /// One row per incident.
    pub list: Rect,
}

/// Most triage items listed on the board; the heading counts the rest.
pub const TRIAGE_ROWS: usize = 3;

/// The board's areas, with `triage` alert groups waiting.
pub fn board(body: Rect, triage: usize) -> BoardAreas {
    let row = |y: u16, h: u16| Rect::new(body.x, body.y + y, body.width, h);
    let t = if triage == 0 {
        0
    } else {
        // Never squeeze the incident list below three rows.
        (triage.min(TRIAGE_ROWS) as u16 + 2).min(body.height.saturating_sub(5))
    };
    BoardAreas {
        title: row(0, 1),
        triage: row(1, t),
        header: row(1 + t, 1),
        list: row(2 + t, body.height.saturating_sub(2 + t)),
    }
}

/// Rows above the history's list: its title and the column headings.
pub const HISTORY_HEAD: u16 = 2;

/// Rows of closed incidents the history shows at once.
pub fn history_rows(body: Rect) -> usize {
    usize::from(body.height.saturating_sub(HISTORY_HEAD))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoomAreas {
    /// Severity, title, status, times, impact.
    pub header: Rect,
    pub clocks: Rect,
    pub roles: Rect,
    pub checklist: Rect,
    pub actions: Rect,
    /// The timeline panel, border included.
    pub timeline: Rect,
    /// The docked composer (zero-sized when closed).
    pub composer: Rect,
}

impl RoomAreas {
    /// Rows of timeline entries visible at once.
    pub fn timeline_rows(&self) -> usize {
        usize::from(self.timeline.height.saturating_sub(2))
    }
}

/// The war room's panels for the incident on screen.
pub fn room(m: &Model, body: Rect) -> RoomAreas {
    let zero = Rect::new(body.x, body.y, 0, 0);
    let Some(room) = m.room() else {
        return RoomAreas {
            header: zero,
            clocks: zero,
            roles: zero,
            checklist: zero,
            actions: zero,
            timeline: body,
            composer: zero,
        };
    };
    let inc = m.incident(&room.incident);
    let n_clocks = inc.map_or(0, |i| clocks(i, &m.policy, m.server_now()).len()) as u16;
    let n_roles = m.policy.roles.len() as u16;
    let n_check = inc.map_or(0, |i| {
        super::model::checklist_rows(&m.policy, i, m.server_now()).len()
    }) as u16;
    let n_actions = inc.map_or(0, |i| i.actions.len()) as u16;

    let header = Rect::new(body.x, body.y, body.width, 3.min(body.height));
    let rest_y = body.y + header.height;
    let rest_h = body.height.saturating_sub(header.height);
    let left_w = (body.width * 2 / 5).clamp(30, 56).min(body.width / 2);
    let left = Rect::new(body.x, rest_y, left_w, rest_h);
    let right = Rect::new(body.x + left_w, rest_y, body.width - left_w, rest_h);

    // The left column, in priority order: clocks, roles, then the checklist
    // and action items sharing what is left (the focused one first).
    let mut y = left.y;
    let mut avail = left.height;
    let mut take = |want: u16| {
        let h = want.min(avail);
        let r = Rect::new(left.x, y, left.width, if h >= 3 { h } else { 0 });
        y += r.height;
        avail -= r.height;
        r
    };
    let clocks_r = take(n_clocks.max(1) + 2);
    let roles_r = take(n_roles + 2);
    let (y, avail) = (y, avail);
    let actions_first = room.focus == Pane::Actions;
    let want_first = if actions_first {
        n_actions.max(1) + 2
    } else {
        n_check.max(1) + 2
    };
    // The focused list gets what it needs while leaving the other a
    // three-row panel when both fit; the other takes the rest of the column.
    let keep = if avail >= 6 { 3 } else { 0 };
    let first = want_first.min(avail.saturating_sub(keep)).max(avail.min(3));
    let second = avail - first;
    let (check_h, actions_h) = if actions_first {
        (second, first)
    } else {
        (first, second)
    };
    let check_h = if check_h >= 3 { check_h } else { 0 };
    let actions_h = if actions_h >= 3 { actions_h } else { 0 };
    let checklist_r = Rect::new(left.x, y, left.width, check_h);
    let actions_r = Rect::new(left.x, y + check_h, left.width, actions_h);

    let composer_h = match &m.composer {
        Some(c) if c.open && c.incident == room.incident => {
            // Soft-wrapped rows of the draft, plus the border.
            let iw = usize::from(right.width.saturating_sub(2)).max(1);
            let rows: usize = c
                .editor
                .lines()
                .iter()
                .map(|l| {
                    ratatui::text::Span::raw(l.as_str())
                        .width()
                        .div_ceil(iw)
                        .max(1)
                })
                .sum();
            (rows.min(64) as u16 + 2).clamp(4, 10).min(right.height / 2)
        }
        _ => 0,
    };
    let timeline = Rect::new(right.x, right.y, right.width, right.height - composer_h);
    let composer = Rect::new(right.x, right.y + timeline.height, right.width, composer_h);
    RoomAreas {
        header,
        clocks: clocks_r,
        roles: roles_r,
        checklist: checklist_r,
        actions: actions_r,
        timeline,
        composer,
    }
}

/// The areas for the screen currently shown, at the model's terminal size.
pub fn current_room(m: &Model) -> Option<RoomAreas> {
    match m.screen.place() {
        Place::WarRoom(_) => Some(room(m, screen_bands(m).body)),
        _ => None,
    }
}

/// Centred rectangle of at most `w`×`h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
