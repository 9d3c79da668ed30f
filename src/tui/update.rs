//! `update(&mut Model, Msg) -> Vec<Effect>`: every state change of the TUI,
//! pure (no I/O, no clock: time arrives as `Msg::Tick`), so each key can be
//! unit-tested as "key in, command or state out".

use super::command_line::{self, CompleteCtx, Ctx, Parsed};
use super::form::{Form, FormKind, Input};
use super::keymap::{Act, Context};
use super::layout;
use super::model::{
    CheckRow, Composer, Confirm, Level, Message, Model, OnYes, Overlay, Pane, Pending, Prompt,
    PromptKind, ReviewState, RoomState, Screen, TimelineState, checklist_rows, list_offset,
    phase_items, selected_row,
};
use super::msg::{Effect, Msg, SyncMsg};
use super::prefill;
use crate::domain::command::{Action, Command};
use crate::domain::decide::{DomainError, ErrorKind, decide, next_escalation_step};
use crate::domain::event::{ActionState, Channel, EventBody, NoteKind, Status};
use crate::domain::flowchart::{self, Outcome};
use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use uuid::Uuid;

/// How long an informational message stays on the message line.
const INFO_SECS: i64 = 8;

/// Applies one message. Sets `m.dirty` when the screen must be redrawn.
pub fn update(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Tick(now) => {
            m.now = now;
            if m.message.as_ref().is_some_and(|msg| {
                msg.level == Level::Info && (now - msg.at).num_seconds() >= INFO_SECS
            }) {
                m.message = None;
            }
            // Deadlines move the board's order; it is only seen on the board
            // (and refreshed on the way back to it).
            if m.screen == Screen::Board {
                m.refresh_board();
            }
            m.dirty = true;
            vec![]
        }
        Msg::Resize(w, h) => {
            m.size = (w, h);
            clamp_all(m);
            m.dirty = true;
            vec![]
        }
        Msg::Sync(s) => {
            on_sync(m, s);
            m.dirty = true;
            vec![]
        }
        Msg::Key(k) if k.kind != KeyEventKind::Release => {
            m.dirty = true;
            on_key(m, k)
        }
        Msg::Key(_) => vec![],
        Msg::Mouse(ev) => on_mouse(m, ev),
        Msg::Paste(text) => {
            paste(m, &text);
            m.dirty = true;
            vec![]
        }
        Msg::Notice { text, error } => {
            if error {
                set_error(m, text);
            } else {
                set_info(m, text);
            }
            m.dirty = true;
            vec![]
        }
        Msg::ThemeChanged(name) => {
            m.theme_name = name;
            m.dirty = true;
            vec![]
        }
    }
}

fn set_info(m: &mut Model, text: impl Into<String>) {
    m.message = Some(Message {
        text: text.into(),
        level: Level::Info,
        at: m.now,
    });
}

fn set_error(m: &mut Model, text: impl Into<String>) {
    m.message = Some(Message {
        text: text.into(),
        level: Level::Error,
        at: m.now,
    });
}

// ---------------------------------------------------------------- sync

fn on_sync(m: &mut Model, s: SyncMsg) {
    match s {
        SyncMsg::Events(events) => {
            let mut touched_review = false;
            m.replica.reserve(events.len());
            for rec in events {
                let ev_id = rec.event.id;
                let incident = rec.event.incident;
                let declared = matches!(rec.event.body, EventBody::Declared { .. });
                if m.replica.apply(rec) {
                    m.pending.retain(|p| p.cmd.id != ev_id);
                    if declared && m.open_on_arrival == Some(incident) {
                        m.open_on_arrival = None;
                        open_room(m, incident);
                    }
                    if m.review.as_ref().is_some_and(|r| r.incident == incident) {
                        touched_review = true;
                    }
                }
            }
            m.refresh_board();
            m.refresh_timeline();
            follow(m);
            if touched_review {
                refresh_review(m);
            }
        }
        SyncMsg::Link(l) => m.link = l,
        SyncMsg::Offset(d) => {
            m.offset = d;
            m.refresh_board();
        }
        SyncMsg::Queued { cmd } => {
            if !m.pending.iter().any(|p| p.cmd.id == cmd.id) {
                m.pending.push(Pending { cmd, at: m.now });
            }
            follow(m);
        }
        SyncMsg::Accepted { id } => m.pending.retain(|p| p.cmd.id != id),
        SyncMsg::Rejected { id, error } => {
            let what = m
                .pending
                .iter()
                .find(|p| p.cmd.id == id)
                .map(|p| p.cmd.action.name())
                .unwrap_or("command");
            let text = format!("{what} refused by the server: {error}");
            m.pending.retain(|p| p.cmd.id != id);
            set_error(m, text);
            clamp_all(m);
        }
        SyncMsg::Pending(n) => m.outbox = n,
    }
}

// ---------------------------------------------------------------- keys

fn on_key(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    if m.overlay.is_some() {
        return overlay_key(m, k);
    }
    if let Some(c) = &m.composer
        && c.open
        && m.screen == Screen::WarRoom(c.incident)
    {
        return composer_key(m, k);
    }
    let contexts: Vec<Context> = match m.screen {
        Screen::Board => vec![Context::Board, Context::Global],
        Screen::WarRoom(_) => {
            let pane = match m.room.as_ref().map(|r| r.focus) {
                Some(Pane::Checklist) => Context::Checklist,
                Some(Pane::Actions) => Context::Actions,
                _ => Context::Timeline,
            };
            vec![pane, Context::WarRoom, Context::Global]
        }
        Screen::Review(_) => vec![Context::Review, Context::Global],
    };
    match m.keymap.lookup(&contexts, &k) {
        Some(act) => screen_act(m, act),
        None => {
            m.dirty = false;
            vec![]
        }
    }
}

/// Quitting asks first when a draft would be lost (the composer's, or text
/// typed into an open dialog, which the question returns to on "no").
fn quit(m: &mut Model) -> Vec<Effect> {
    if !m.has_unsent_text() {
        return vec![Effect::Quit];
    }
    let back = match m.overlay.take() {
        Some(Overlay::Form(f)) => Some(f),
        _ => None,
    };
    let what = if back.is_some() {
        "The open dialog holds text that was not submitted."
    } else {
        "The note composer holds an unsent draft."
    };
    m.overlay = Some(Overlay::Confirm(Box::new(Confirm {
        title: "Quit?".into(),
        lines: vec![what.into(), "Quit and lose it? (y/n)".into()],
        on_yes: OnYes::Quit,
        back,
    })));
    vec![]
}

/// Ctrl-C and Ctrl-Z work while typing too.
fn global_key(m: &mut Model, k: &KeyEvent) -> Option<Vec<Effect>> {
    match m.keymap.lookup(&[Context::Global], k) {
        Some(Act::Quit) => Some(quit(m)),
        Some(Act::Suspend) => Some(vec![Effect::Suspend]),
        _ => None,
    }
}

fn screen_act(m: &mut Model, act: Act) -> Vec<Effect> {
    let page = page_rows(m);
    match act {
        Act::Quit => return quit(m),
        Act::Suspend => return vec![Effect::Suspend],
        Act::Help => m.overlay = Some(Overlay::Help { scroll: 0 }),
        Act::CommandLine => {
            m.overlay = Some(Overlay::Prompt(Box::new(Prompt::new(PromptKind::Command))))
        }
        Act::Back => back(m),
        Act::Up => move_cursor(m, -1),
        Act::Down => move_cursor(m, 1),
        Act::PageUp => move_cursor(m, -(page as i64)),
        Act::PageDown => move_cursor(m, page as i64),
        Act::Top => move_cursor(m, i64::MIN / 2),
        Act::Bottom => move_cursor(m, i64::MAX / 2),
        Act::Open => match m.screen {
            Screen::WarRoom(_) => {
                if let Some(room) = &m.room
                    && room.timeline.selected < m.timeline_logged(room)
                {
                    m.overlay = Some(Overlay::Entry {
                        row: room.timeline.selected,
                    });
                }
            }
            _ => {
                if let Some(id) = m.board.order.get(m.board.selected).copied() {
                    open_room(m, id);
                }
            }
        },
        Act::Declare => m.overlay = Some(Overlay::Form(Box::new(Form::declare(&m.policy)))),
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
            if let Some(room) = m.room.as_mut() {
                room.focus = if act == Act::FocusNext {
                    room.focus.next()
                } else {
                    room.focus.prev()
                };
            }
        }
        Act::Note | Act::Decision => {
            if let Screen::WarRoom(id) = m.screen {
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
        | Act::AddActionItem => open_form(m, act),
        Act::ToggleItem => return toggle_item(m),
        Act::Search => m.overlay = Some(Overlay::Prompt(Box::new(Prompt::new(PromptKind::Search)))),
        Act::SearchNext => search(m, true, false),
        Act::SearchPrev => search(m, false, false),
        Act::CycleFilter => {
            if let Some(room) = &m.room {
                let f = room.timeline.filter.next();
                set_filter(m, f);
            }
        }
        Act::Follow => {
            if let Some(room) = m.room.as_mut() {
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
            if let Some(r) = &m.review {
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
            if let Some(text) = m.review.as_ref().map(|r| r.text.clone()) {
                set_info(m, "review copied to the clipboard");
                return vec![Effect::CopyToClipboard(text)];
            }
        }
        _ => {}
    }
    vec![]
}

// ---------------------------------------------------------------- navigation

fn open_room(m: &mut Model, id: Uuid) {
    if m.incident(&id).is_none() {
        return;
    }
    if m.room.as_ref().is_none_or(|r| r.incident != id) {
        m.room = Some(RoomState {
            incident: id,
            focus: Pane::Timeline,
            timeline: TimelineState::default(),
            check_sel: 0,
            action_sel: 0,
        });
        m.refresh_timeline();
    }
    m.screen = Screen::WarRoom(id);
    if let Some(pos) = m.board.order.iter().position(|x| *x == id) {
        m.board.selected = pos;
    }
    follow(m);
    clamp_all(m);
}

fn open_review(m: &mut Model, id: Uuid) {
    m.review = Some(ReviewState {
        incident: id,
        text: String::new(),
        scroll: 0,
    });
    refresh_review(m);
    m.screen = Screen::Review(id);
}

/// Regenerates the review text (on entering the screen and when its incident changes).
fn refresh_review(m: &mut Model) {
    let Some(r) = &m.review else { return };
    let id = r.incident;
    let Some(inc) = m.incident(&id) else { return };
    let events: Vec<&crate::domain::Event> = m.replica.timeline(&id).map(|r| &r.event).collect();
    let text = crate::domain::review::render(inc, &events, &m.policy, m.server_now());
    if let Some(r) = m.review.as_mut() {
        r.text = text;
    }
}

fn back(m: &mut Model) {
    m.refresh_board();
    m.screen = match m.screen {
        Screen::Review(id) if m.room.as_ref().is_some_and(|r| r.incident == id) => {
            Screen::WarRoom(id)
        }
        _ => Screen::Board,
    };
    clamp_all(m);
}

/// Rows one page moves, for the screen shown.
fn page_rows(m: &Model) -> usize {
    let body = layout::bands(m.area()).body;
    let rows = match m.screen {
        Screen::Board => {
            layout::board(body, m.replica.world.alerts.queue().count())
                .list
                .height as usize
        }
        Screen::WarRoom(_) => layout::room(m, body).timeline_rows(),
        Screen::Review(_) => body.height as usize,
    };
    rows.saturating_sub(1).max(1)
}

fn step(pos: usize, delta: i64, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let p = pos as i64 + delta;
    p.clamp(0, len as i64 - 1) as usize
}

/// Keeps `sel` inside `[offset, offset + height)` by moving `offset`.
pub fn ensure_visible(sel: usize, offset: &mut usize, height: usize) {
    let height = height.max(1);
    if sel < *offset {
        *offset = sel;
    } else if sel >= *offset + height {
        *offset = sel + 1 - height;
    }
}

fn move_cursor(m: &mut Model, delta: i64) {
    match m.screen {
        Screen::Board => {
            let len = m.board.order.len();
            m.board.selected = step(m.board.selected, delta, len);
        }
        Screen::WarRoom(_) => {
            let rows = m.timeline_rows();
            let Some(id) = m.room.as_ref().map(|r| r.incident) else {
                return;
            };
            let n_check = m
                .incident(&id)
                .map_or(0, |i| phase_items(&m.policy, i).len());
            let n_actions = m.incident(&id).map_or(0, |i| i.actions.len());
            let Some(room) = m.room.as_mut() else { return };
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
        Screen::Review(_) => {
            let lines = m.review.as_ref().map_or(0, |r| r.text.lines().count());
            if let Some(r) = m.review.as_mut() {
                r.scroll = step(r.scroll, delta, lines);
            }
        }
    }
    clamp_all(m);
}

/// Follow mode: keep the newest entry selected.
fn follow(m: &mut Model) {
    let rows = m.timeline_rows();
    if let Some(room) = m.room.as_mut()
        && room.timeline.follow
    {
        room.timeline.selected = rows.saturating_sub(1);
    }
    clamp_all(m);
}

/// Re-establishes every cursor/offset invariant after a change of data or size.
fn clamp_all(m: &mut Model) {
    let body = layout::bands(m.area()).body;
    let list_h = layout::board(body, m.replica.world.alerts.queue().count())
        .list
        .height as usize;
    let len = m.board.order.len();
    m.board.selected = m.board.selected.min(len.saturating_sub(1));
    ensure_visible(m.board.selected, &mut m.board.offset, list_h);
    if m.board.offset + list_h > len {
        m.board.offset = len.saturating_sub(list_h);
    }
    if m.room.is_some() {
        let rows = m.timeline_rows();
        let height = layout::room(m, body).timeline_rows();
        let n_check = m
            .room
            .as_ref()
            .and_then(|r| m.incident(&r.incident))
            .map_or(0, |i| phase_items(&m.policy, i).len());
        let n_actions = m
            .room
            .as_ref()
            .and_then(|r| m.incident(&r.incident))
            .map_or(0, |i| i.actions.len());
        if let Some(room) = m.room.as_mut() {
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

fn set_filter(m: &mut Model, f: super::model::Filter) {
    if let Some(room) = m.room.as_mut() {
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
fn search(m: &mut Model, forward: bool, inclusive: bool) {
    let Some(room) = &m.room else { return };
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
            if let Some(room) = m.room.as_mut() {
                room.timeline.selected = i;
                room.timeline.follow = false;
            }
            clamp_all(m);
        }
        None => set_error(m, format!("no timeline entry matches {q:?}")),
    }
}

/// Case-insensitive match on the entry's text and author. `q` is lowercase.
pub fn entry_matches(rec: &crate::domain::Recorded, q: &str) -> bool {
    rec.event.body.describe().to_lowercase().contains(q)
        || rec.event.actor.to_lowercase().contains(q)
}

// ---------------------------------------------------------------- commands

/// Why a command was not sent.
struct Refusal {
    text: String,
    stability: bool,
}

/// Builds, checks and sends a command. The checks are the server's own
/// (`decide` against the local replica), so the author learns at once what
/// the server would answer; only "unknown incident" is left to the server,
/// whose log may be ahead of ours.
fn try_submit(
    m: &mut Model,
    incident: Option<Uuid>,
    action: Action,
) -> Result<Vec<Effect>, Refusal> {
    let need = action.required_access();
    if m.me.role < need {
        return Err(Refusal {
            text: format!(
                "{} needs {} access; you ({}) are {}",
                action.name(),
                need.as_str(),
                m.me.name,
                m.me.role.as_str()
            ),
            stability: false,
        });
    }
    let cmd = Command {
        id: m.peek_command_id(),
        incident: incident.map(|i| i.to_string()),
        action,
        // The author's moment, kept when an offline command is replayed later.
        occurred_at: Some(m.server_now()),
    };
    match decide(
        &m.replica.world,
        &m.policy,
        &cmd,
        &m.me.name,
        m.server_now(),
    ) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Refusal {
                stability: matches!(e, DomainError::StabilityWindow { .. }),
                text: e.to_string(),
            });
        }
    }
    let id = m.next_command_id();
    debug_assert_eq!(id, cmd.id);
    if matches!(cmd.action, Action::Declare { .. }) {
        m.open_on_arrival = Some(cmd.id);
    }
    m.pending.push(Pending {
        cmd: cmd.clone(),
        at: m.now,
    });
    follow(m);
    Ok(vec![Effect::Submit(cmd)])
}

/// `t` in the deliveries list: asks the server to try the selected one again.
fn retry_delivery(m: &mut Model, incident: Uuid, selected: usize) -> Vec<Effect> {
    let Some(d) = m.incident(&incident).and_then(|i| {
        super::view::delivery_rows(i)
            .get(selected)
            .map(|d| (*d).clone())
    }) else {
        return vec![];
    };
    if !d.failing() {
        set_error(m, format!("{} was delivered; nothing to retry", d.label));
        return vec![];
    }
    match try_submit(m, Some(incident), Action::RetryDelivery { delivery: d.id }) {
        Ok(fx) => {
            set_info(m, format!("retry of {} sent", d.label));
            fx
        }
        Err(r) => {
            set_error(m, r.text.clone());
            vec![]
        }
    }
}

/// One-key actions on the focused incident: errors go to the message line.
/// The triage queue's two keys act on its head, the oldest alert group
/// waiting (runbook 002 §4.2: verify, then declare or dismiss).
fn triage(m: &mut Model, act: Act) -> Vec<Effect> {
    let Some(item) = m.replica.world.alerts.queue().next() else {
        set_info(m, "the triage queue is empty");
        return vec![];
    };
    let (id, key) = (item.id, item.key());
    let action = if act == Act::TriageDeclare {
        Action::DeclareTriaged { severity: None }
    } else {
        Action::DismissTriaged {
            reason: "dismissed from the triage queue".into(),
        }
    };
    match try_submit(m, Some(id), action) {
        Ok(fx) => {
            if act == Act::TriageDeclare {
                m.open_on_arrival = Some(id);
                set_info(m, format!("{key} declared"));
            } else {
                set_info(m, format!("{key} dismissed"));
            }
            fx
        }
        Err(r) => {
            set_error(m, r.text.clone());
            vec![]
        }
    }
}

fn submit_now(m: &mut Model, action: Action) -> Vec<Effect> {
    let Some(id) = m.focused_incident().map(|i| i.id) else {
        return vec![];
    };
    let name = action.name();
    match try_submit(m, Some(id), action) {
        Ok(fx) => {
            set_info(m, format!("{name} sent"));
            fx
        }
        Err(r) => {
            set_error(m, r.text.clone());
            vec![]
        }
    }
}

fn toggle_item(m: &mut Model) -> Vec<Effect> {
    let Some(room) = &m.room else { return vec![] };
    let Some(inc) = m.incident(&room.incident) else {
        return vec![];
    };
    let action = match room.focus {
        Pane::Checklist => {
            let items = phase_items(&m.policy, inc);
            let Some(it) = items.get(room.check_sel) else {
                return vec![];
            };
            Action::SetChecklistItem {
                checklist: it.checklist.to_string(),
                item: it.item.to_string(),
                done: !it.done,
            }
        }
        Pane::Actions => {
            let Some(a) = inc.actions.get(room.action_sel) else {
                return vec![];
            };
            Action::UpdateActionItem {
                action: a.id,
                state: if a.state == ActionState::Done {
                    ActionState::Open
                } else {
                    ActionState::Done
                },
                owner: None,
                due: None,
            }
        }
        Pane::Timeline => return vec![],
    };
    submit_now(m, action)
}

fn open_form(m: &mut Model, act: Act) {
    let Some(inc) = m.focused_incident() else {
        return;
    };
    let now = m.server_now();
    let form = match act {
        Act::Severity => Form::severity(inc, &m.policy),
        Act::Roles => Form::role(inc, &m.policy),
        Act::PostUpdate => {
            let state = inc.status;
            let text = prefill::for_channel(inc, &m.policy, Channel::StatusPage, state, now);
            Form::update(inc, &text)
        }
        Act::Escalate => Form::escalate(inc, next_escalation_step(inc, &m.policy)),
        Act::Page => Form::page(inc),
        Act::Contain => Form::contain(inc),
        Act::Resolve => Form::resolve(inc),
        Act::Reopen => Form::reopen(inc),
        Act::Close => Form::close(inc),
        Act::AddActionItem => Form::action_item(inc),
        _ => return,
    };
    m.overlay = Some(Overlay::Form(Box::new(form)));
}

fn run_parsed(m: &mut Model, p: Parsed) -> Vec<Effect> {
    match p {
        Parsed::Quit => quit(m),
        Parsed::Help => {
            m.overlay = Some(Overlay::Help { scroll: 0 });
            vec![]
        }
        Parsed::Theme(name) => vec![Effect::LoadTheme(name)],
        Parsed::Board => {
            m.refresh_board();
            m.screen = Screen::Board;
            vec![]
        }
        Parsed::Review => {
            if let Some(id) = m.focused_incident().map(|i| i.id) {
                open_review(m, id);
            }
            vec![]
        }
        Parsed::Open(id) => {
            if let Ok(id) = Uuid::parse_str(&id) {
                open_room(m, id);
            }
            vec![]
        }
        Parsed::Filter(f) => {
            if m.room.is_some() {
                set_filter(m, f);
            }
            vec![]
        }
        Parsed::Command { incident, action } => {
            let incident = incident.and_then(|s| Uuid::parse_str(&s).ok());
            let name = action.name();
            match try_submit(m, incident, action) {
                Ok(fx) => {
                    set_info(m, format!("{name} sent"));
                    fx
                }
                Err(r) => {
                    set_error(m, r.text.clone());
                    vec![]
                }
            }
        }
    }
}

// ---------------------------------------------------------------- overlays

fn overlay_key(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    let Some(overlay) = m.overlay.take() else {
        return vec![];
    };
    match overlay {
        Overlay::Help { scroll } => {
            let act = m.keymap.lookup(&[Context::Help, Context::Global], &k);
            let page = page_rows(m) as i64;
            let lines = super::view::help_lines(&m.keymap).len();
            let scroll = match act {
                Some(Act::Back) | Some(Act::Help) => return vec![],
                Some(Act::Quit) => return quit(m),
                Some(Act::Down) => step(scroll, 1, lines),
                Some(Act::Up) => step(scroll, -1, lines),
                Some(Act::PageDown) => step(scroll, page, lines),
                Some(Act::PageUp) => step(scroll, -page, lines),
                _ => scroll,
            };
            m.overlay = Some(Overlay::Help { scroll });
            vec![]
        }
        Overlay::Deliveries { incident, selected } => {
            let rows = m
                .incident(&incident)
                .map_or(0, |i| super::view::delivery_rows(i).len());
            let selected = match m.keymap.lookup(&[Context::Deliveries, Context::Global], &k) {
                Some(Act::Quit) => return quit(m),
                Some(Act::Back) => return vec![],
                Some(Act::Down) => step(selected, 1, rows),
                Some(Act::Up) => step(selected, -1, rows),
                Some(Act::RetryDelivery) => {
                    m.overlay = Some(Overlay::Deliveries { incident, selected });
                    return retry_delivery(m, incident, selected);
                }
                _ => selected,
            };
            m.overlay = Some(Overlay::Deliveries { incident, selected });
            vec![]
        }
        Overlay::Entry { row } => {
            match m.keymap.lookup(&[Context::Help, Context::Global], &k) {
                Some(Act::Quit) => return quit(m),
                Some(Act::Back) | Some(Act::Help) => {}
                _ => m.overlay = Some(Overlay::Entry { row }),
            }
            vec![]
        }
        Overlay::Confirm(c) => match m.keymap.lookup(&[Context::Confirm], &k) {
            Some(Act::Yes) => match c.on_yes {
                OnYes::Quit => vec![Effect::Quit],
                OnYes::Submit(cmd) => {
                    let name = cmd.action.name();
                    let incident = cmd
                        .incident
                        .as_deref()
                        .and_then(|s| Uuid::parse_str(s).ok());
                    match try_submit(m, incident, cmd.action) {
                        Ok(fx) => {
                            set_info(m, format!("{name} sent"));
                            fx
                        }
                        Err(r) => {
                            set_error(m, r.text.clone());
                            vec![]
                        }
                    }
                }
            },
            Some(Act::No) => {
                if let Some(form) = c.back {
                    m.overlay = Some(Overlay::Form(form));
                }
                vec![]
            }
            _ => {
                m.overlay = Some(Overlay::Confirm(c));
                vec![]
            }
        },
        Overlay::Prompt(p) => prompt_key(m, p, k),
        Overlay::Form(f) => form_key(m, f, k),
    }
}

fn prompt_key(m: &mut Model, mut p: Box<Prompt>, k: KeyEvent) -> Vec<Effect> {
    if let Some(fx) = global_key(m, &k) {
        return fx;
    }
    let act = m.keymap.lookup(&[Context::Prompt], &k);
    if act != Some(Act::Complete) {
        p.completion = None;
    }
    match act {
        Some(Act::Cancel) => return vec![],
        Some(Act::Send) => {
            let text = p.text();
            match p.kind {
                PromptKind::Search => {
                    let q = text.trim().to_lowercase();
                    if q.is_empty() {
                        return vec![];
                    }
                    if let Some(room) = m.room.as_mut() {
                        room.timeline.search = Some(q);
                    }
                    search(m, true, true);
                    return vec![];
                }
                PromptKind::Command => {
                    let incident = m.focused_incident();
                    let ctx = Ctx {
                        policy: &m.policy,
                        world: &m.replica.world,
                        incident,
                    };
                    match command_line::parse(&text, &ctx) {
                        Ok(parsed) => return run_parsed(m, parsed),
                        Err(e) => p.error = Some(e),
                    }
                }
            }
        }
        Some(Act::Complete) if p.kind == PromptKind::Command => {
            let next = match p.completion.take() {
                Some((cands, i)) if !cands.is_empty() => {
                    let i = (i + 1) % cands.len();
                    (cands, i)
                }
                _ => {
                    let people = m.people();
                    let incidents: Vec<String> = m
                        .board
                        .order
                        .iter()
                        .filter_map(|id| m.incident(id).map(|i| i.key()))
                        .collect();
                    let themes = super::theme::Theme::names();
                    let ctx = CompleteCtx {
                        policy: &m.policy,
                        people: &people,
                        incidents: &incidents,
                        themes: &themes,
                    };
                    (command_line::complete(&format!(":{}", p.text()), &ctx), 0)
                }
            };
            if let Some(line) = next.0.get(next.1) {
                let line = line.trim_start_matches(':').to_string();
                let mut editor = super::model::new_editor(&line);
                editor.set_wrap_mode(ratatui_textarea::WrapMode::None);
                p.editor = editor;
            }
            if next.0.len() > 1 {
                p.completion = Some(next);
            }
        }
        _ => {
            if k.code == KeyCode::Backspace && p.text().is_empty() {
                return vec![];
            }
            p.error = None;
            p.editor.input(k);
        }
    }
    m.overlay = Some(Overlay::Prompt(p));
    vec![]
}

fn composer_key(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    if let Some(fx) = global_key(m, &k) {
        return fx;
    }
    let act = m.keymap.lookup(&[Context::Composer], &k);
    let Some(c) = m.composer.as_mut() else {
        return vec![];
    };
    match act {
        Some(Act::Send) => {
            let text = c.text();
            if text.is_empty() {
                return vec![];
            }
            let (incident, kind) = (c.incident, c.kind);
            match try_submit(m, Some(incident), Action::Note { kind, text }) {
                Ok(fx) => {
                    if let Some(c) = m.composer.as_mut() {
                        c.editor = super::model::new_editor("");
                        // Each note is its own kind; the next starts as a plain note.
                        c.kind = NoteKind::Note;
                    }
                    clamp_all(m);
                    fx
                }
                Err(r) => {
                    set_error(m, r.text.clone());
                    vec![]
                }
            }
        }
        Some(Act::Newline) => {
            c.editor.insert_newline();
            clamp_all(m);
            vec![]
        }
        Some(Act::CycleKind) => {
            let i = NoteKind::ALL.iter().position(|k| *k == c.kind).unwrap_or(0);
            c.kind = NoteKind::ALL[(i + 1) % NoteKind::ALL.len()];
            vec![]
        }
        Some(Act::Cancel) => {
            c.open = false;
            if !c.has_draft() {
                m.composer = None;
            }
            clamp_all(m);
            vec![]
        }
        _ => {
            c.editor.input(k);
            clamp_all(m);
            vec![]
        }
    }
}

fn form_key(m: &mut Model, mut f: Box<Form>, k: KeyEvent) -> Vec<Effect> {
    if f.flow.is_some() {
        flow_key(m, &mut f, k);
        m.overlay = Some(Overlay::Form(f));
        return vec![];
    }
    if matches!(
        m.keymap.lookup(&[Context::Global], &k),
        Some(Act::Quit | Act::Suspend)
    ) {
        m.overlay = Some(Overlay::Form(f));
        return global_key(m, &k).unwrap_or_default();
    }
    let act = m.keymap.lookup(&[Context::Form], &k);
    let on_choice = matches!(f.focused().map(|x| &x.input), Some(Input::Choice { .. }));
    let on_multiline = matches!(
        f.focused().map(|x| &x.input),
        Some(Input::Text {
            multiline: true,
            ..
        })
    );
    let arrows = matches!(k.code, KeyCode::Up | KeyCode::Down);
    match act {
        Some(Act::Cancel) => return vec![],
        Some(Act::Send) => return submit_form(m, f),
        Some(Act::NextField) | Some(Act::PrevField) if !(on_multiline && arrows) => {
            let n = f.fields.len().max(1);
            f.focus = if act == Some(Act::NextField) {
                (f.focus + 1) % n
            } else {
                (f.focus + n - 1) % n
            };
        }
        Some(Act::ChoicePrev) | Some(Act::ChoiceNext) if on_choice => {
            let fwd = act == Some(Act::ChoiceNext);
            if let Some(Input::Choice { options, selected }) = f.focused_mut().map(|x| &mut x.input)
            {
                let n = options.len().max(1);
                *selected = if fwd {
                    (*selected + 1) % n
                } else {
                    (*selected + n - 1) % n
                };
            }
            refill_update(m, &mut f);
        }
        Some(Act::Newline) => {
            if let Some(Input::Text {
                editor,
                multiline: true,
            }) = f.focused_mut().map(|x| &mut x.input)
            {
                editor.insert_newline();
            }
        }
        Some(Act::Flowchart) if f.kind == FormKind::Declare => {
            if m.policy.flowchart.is_some() {
                f.flow = Some(Vec::new());
                f.error = None;
            } else {
                f.error = Some(format!(
                    "the policy {} has no severity flowchart",
                    m.policy.name
                ));
            }
        }
        Some(Act::Copy) => {
            let text = match f.kind {
                FormKind::Escalate => f
                    .incident
                    .and_then(|id| m.incident(&id))
                    .map(|inc| {
                        prefill::escalation(
                            inc,
                            &m.policy,
                            &f.value("reason"),
                            &f.value("requested"),
                            m.server_now(),
                        )
                    })
                    .unwrap_or_default(),
                _ => f.value("text"),
            };
            m.overlay = Some(Overlay::Form(f));
            if text.is_empty() {
                return vec![];
            }
            set_info(m, "copied to the clipboard");
            return vec![Effect::CopyToClipboard(text)];
        }
        _ => {
            if let Some(Input::Text { editor, .. }) = f.focused_mut().map(|x| &mut x.input) {
                editor.input(k);
                f.error = None;
            }
        }
    }
    m.overlay = Some(Overlay::Form(f));
    vec![]
}

/// Changing the channel or state of an update re-fills its text from the
/// template, unless the author has edited it.
fn refill_update(m: &Model, f: &mut Form) {
    if f.kind != FormKind::Update || f.value("text") != f.prefilled.trim() {
        return;
    }
    let Some(inc) = f.incident.and_then(|id| m.incident(&id)) else {
        return;
    };
    let channel = Channel::parse(&f.value("channel")).unwrap_or(Channel::StatusPage);
    let state = Status::parse(&f.value("state")).unwrap_or(inc.status);
    let text = prefill::for_channel(inc, &m.policy, channel, state, m.server_now());
    f.set_text("text", &text);
    f.prefilled = text;
}

fn flow_key(m: &mut Model, f: &mut Form, k: KeyEvent) {
    let Some(flow) = &m.policy.flowchart else {
        f.flow = None;
        return;
    };
    let Some(answers) = f.flow.as_mut() else {
        return;
    };
    match m.keymap.lookup(&[Context::Flowchart], &k) {
        Some(Act::Cancel) => f.flow = None,
        Some(Act::StepBack) => {
            answers.pop();
        }
        Some(Act::Answer) => {
            let KeyCode::Char(c) = k.code else { return };
            let n = c.to_digit(10).unwrap_or(1) as usize - 1;
            answers.push(n);
            match flowchart::classify(flow, answers) {
                Ok(Outcome::Ask(_)) => f.error = None,
                Ok(Outcome::Severity(sev)) => {
                    f.flow = None;
                    f.select("severity", &sev);
                    f.error = None;
                    set_info(m, format!("the flowchart says {sev}"));
                }
                Err(e) => {
                    answers.pop();
                    f.error = Some(e.to_string());
                }
            }
        }
        _ => {}
    }
}

fn submit_form(m: &mut Model, mut f: Box<Form>) -> Vec<Effect> {
    let action = match f.to_action() {
        Ok(a) => a,
        Err(e) => {
            f.error = Some(e);
            m.overlay = Some(Overlay::Form(f));
            return vec![];
        }
    };
    let name = action.name();
    match try_submit(m, f.incident, action.clone()) {
        Ok(fx) => {
            set_info(m, format!("{name} sent"));
            fx
        }
        Err(r) if r.stability => {
            // Offer force, with the server's own explanation.
            let Action::Resolve { summary, .. } = action else {
                return vec![];
            };
            let cmd = Command {
                id: m.peek_command_id(),
                incident: f.incident.map(|i| i.to_string()),
                action: Action::Resolve {
                    summary,
                    force: true,
                },
                occurred_at: None,
            };
            m.overlay = Some(Overlay::Confirm(Box::new(Confirm {
                title: "Resolve before the stability window?".into(),
                lines: vec![
                    r.text,
                    String::new(),
                    "Resolve anyway (recorded as forced)? (y/n)".into(),
                ],
                on_yes: OnYes::Submit(Box::new(cmd)),
                back: Some(f),
            })));
            vec![]
        }
        Err(r) => {
            f.error = Some(r.text);
            m.overlay = Some(Overlay::Form(f));
            vec![]
        }
    }
}

// ---------------------------------------------------------------- paste & mouse

fn paste(m: &mut Model, text: &str) {
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

fn inside(r: ratatui::layout::Rect, col: u16, row: u16) -> bool {
    r.width > 0 && col >= r.x && col < r.x + r.width && row >= r.y && row < r.y + r.height
}

fn on_mouse(m: &mut Model, ev: MouseEvent) -> Vec<Effect> {
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
            let lines = super::view::help_lines(&m.keymap).len();
            *scroll = step(*scroll, wheel, lines);
        }
        return vec![];
    }
    if m.overlay.is_some() {
        return vec![];
    }
    let body = layout::bands(m.area()).body;
    match m.screen {
        Screen::Board => {
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
        Screen::WarRoom(_) => {
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
            if let Some(room) = m.room.as_mut() {
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
                if let Some(room) = m.room.as_mut() {
                    room.check_sel = i;
                }
            }
            if let Some(room) = m.room.as_mut() {
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
        Screen::Review(_) => {
            if wheel != 0 {
                move_cursor(m, wheel);
            }
        }
    }
    vec![]
}

/// Maps a clicked row of the checklist panel to an item (headings pick their first item).
fn line_to_item(m: &Model, line: usize, height: usize) -> usize {
    let Some(room) = &m.room else { return 0 };
    let Some(inc) = m.incident(&room.incident) else {
        return 0;
    };
    let rows = checklist_rows(&m.policy, inc);
    let offset = list_offset(selected_row(&rows, room.check_sel), height);
    rows.iter()
        .skip(offset + line)
        .find_map(|r| match r {
            CheckRow::Item(i, _) => Some(*i),
            CheckRow::Heading(_) => None,
        })
        .unwrap_or(room.check_sel)
}

/// A key with no modifiers, for tests and the runtime.
pub fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}
