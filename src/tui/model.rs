//! All UI state: the replica of the log, the policy, who we are, the link, the
//! screen and its cursors, open dialogs, and commands still pending.
//!
//! Derived data that would be too slow to recompute on every frame (the
//! board's sort order over thousands of incidents, the filtered index of a
//! 100,000-entry timeline) is kept here and refreshed by `update`, so `view`
//! only ever touches the rows it draws.

use super::form::Form;
use super::keymap::Keymap;
use super::msg::LinkState;
use crate::client::Replica;
use crate::domain::clocks::{ReviewDue, board_rank, clocks};
use crate::domain::command::{Access, Action};
use crate::domain::event::{EventBody, NoteKind, Recorded};
use crate::domain::state::Incident;
use crate::domain::{Command, Policy};
use chrono::{DateTime, Utc};
use ratatui_textarea::TextArea;
use uuid::Uuid;

/// Who this client acts as (from `GET /api/v1/me`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub role: Access,
}

/// The top-level screen, owning its state: the war room's cursors and the
/// review's text exist only while their screen is shown (a war room left for
/// the board or the review waits in [`Model::parked_room`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Screen {
    Board,
    WarRoom(RoomState),
    Review(ReviewState),
    /// Closed incidents: reviews coming due, reopen.
    History(HistoryState),
}

/// Where the screen is, without its state: what tests and the view branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Board,
    WarRoom(Uuid),
    Review(Uuid),
    /// Closed incidents: reviews coming due, reopen.
    History,
}

impl Screen {
    pub fn place(&self) -> Place {
        match self {
            Screen::Board => Place::Board,
            Screen::WarRoom(r) => Place::WarRoom(r.incident),
            Screen::Review(r) => Place::Review(r.incident),
            Screen::History(_) => Place::History,
        }
    }
}

/// The war room's focusable panels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    Timeline,
    Checklist,
    Actions,
}

impl Pane {
    pub fn next(self) -> Pane {
        match self {
            Pane::Timeline => Pane::Checklist,
            Pane::Checklist => Pane::Actions,
            Pane::Actions => Pane::Timeline,
        }
    }

    pub fn prev(self) -> Pane {
        self.next().next()
    }
}

/// Which timeline entries are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Filter {
    #[default]
    All,
    /// Notes, observations and action notes.
    Notes,
    Decisions,
    /// Lifecycle: declared, status, severity, ack, contain, resolve, updates, escalations.
    Status,
}

impl Filter {
    pub fn next(self) -> Filter {
        match self {
            Filter::All => Filter::Notes,
            Filter::Notes => Filter::Decisions,
            Filter::Decisions => Filter::Status,
            Filter::Status => Filter::All,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Filter::All => "all",
            Filter::Notes => "notes",
            Filter::Decisions => "decisions",
            Filter::Status => "status",
        }
    }

    pub fn parse(s: &str) -> Option<Filter> {
        [
            Filter::All,
            Filter::Notes,
            Filter::Decisions,
            Filter::Status,
        ]
        .into_iter()
        .find(|f| f.label().eq_ignore_ascii_case(s))
    }

    pub fn matches(self, body: &EventBody) -> bool {
        match self {
            Filter::All => true,
            Filter::Notes => matches!(
                body,
                EventBody::Note { kind, .. } if *kind != NoteKind::Decision
            ),
            Filter::Decisions => matches!(
                body,
                EventBody::Note {
                    kind: NoteKind::Decision,
                    ..
                }
            ),
            Filter::Status => matches!(
                body,
                EventBody::Declared { .. }
                    | EventBody::Acknowledged
                    | EventBody::SeverityChanged { .. }
                    | EventBody::KindChanged { .. }
                    | EventBody::SeveritySuggested { .. }
                    | EventBody::StatusChanged { .. }
                    | EventBody::Contained { .. }
                    | EventBody::Resolved { .. }
                    | EventBody::Reopened { .. }
                    | EventBody::Closed
                    | EventBody::UpdatePosted { .. }
                    | EventBody::Escalated { .. }
                    | EventBody::Paged { .. }
                    | EventBody::UpdateOverdue { .. }
            ),
        }
    }
}

/// The board: incidents in urgency order, and a cursor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BoardState {
    /// Every incident not closed, worst first (refreshed on events and ticks).
    pub order: Vec<Uuid>,
    pub selected: usize,
    pub offset: usize,
    /// `/` filter (lowercase): only incidents whose key or title contain it.
    pub filter: Option<String>,
    /// Whether the person has moved the cursor: until then it stays on the
    /// top row (the worst incident) as incidents arrive and re-sort.
    pub moved: bool,
}

/// The history: closed incidents, reviews still to do first (soonest due
/// first), then the rest newest closed first; and a cursor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryState {
    pub order: Vec<Uuid>,
    pub selected: usize,
    pub offset: usize,
}

/// The war room's timeline: a virtual list over the replica's per-incident index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineState {
    pub filter: Filter,
    /// Positions in the incident's timeline that pass the filter (unused for `All`).
    pub indices: Vec<u32>,
    /// How much of the incident's timeline `indices` covers.
    pub scanned: usize,
    /// Selected row (an index into the visible list, pending entries last).
    pub selected: usize,
    /// First row drawn.
    pub offset: usize,
    /// Stick to the newest entry as entries arrive.
    pub follow: bool,
    /// The last `/` search, lowercased.
    pub search: Option<String>,
}

impl Default for TimelineState {
    fn default() -> Self {
        TimelineState {
            filter: Filter::All,
            indices: Vec::new(),
            scanned: 0,
            selected: 0,
            offset: 0,
            follow: true,
            search: None,
        }
    }
}

/// One open war room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomState {
    pub incident: Uuid,
    pub focus: Pane,
    pub timeline: TimelineState,
    pub check_sel: usize,
    pub action_sel: usize,
}

/// The note composer, docked under the timeline. Its draft survives hiding.
#[derive(Clone, Debug)]
pub struct Composer {
    pub incident: Uuid,
    pub kind: NoteKind,
    pub editor: TextArea<'static>,
    pub open: bool,
}

impl Composer {
    pub fn new(incident: Uuid, kind: NoteKind) -> Composer {
        Composer {
            incident,
            kind,
            editor: new_editor(""),
            open: true,
        }
    }

    /// The draft, trimmed.
    pub fn text(&self) -> String {
        self.editor.lines().join("\n").trim().to_string()
    }

    pub fn has_draft(&self) -> bool {
        !self.text().is_empty()
    }
}

/// A text editor with the house defaults (soft wrap, no underline on the cursor line).
pub fn new_editor(text: &str) -> TextArea<'static> {
    let mut t = TextArea::new(text.split('\n').map(str::to_string).collect());
    t.set_cursor_line_style(ratatui::style::Style::default());
    t.set_wrap_mode(ratatui_textarea::WrapMode::WordOrGlyph);
    t.move_cursor(ratatui_textarea::CursorMove::Bottom);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
}

/// The one-line prompts at the bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    /// `:` command line.
    Command,
    /// `/` timeline search.
    Search,
}

#[derive(Clone, Debug)]
pub struct Prompt {
    pub kind: PromptKind,
    pub editor: TextArea<'static>,
    /// Why the last Enter was refused.
    pub error: Option<String>,
    /// Tab completion in progress: the candidates and which one is shown.
    pub completion: Option<(Vec<String>, usize)>,
    /// Up/Down through the command history: the entry shown (from the
    /// newest), and the line as typed before the first Up.
    pub recall: Option<(usize, String)>,
}

impl Prompt {
    pub fn new(kind: PromptKind) -> Prompt {
        let mut editor = new_editor("");
        editor.set_wrap_mode(ratatui_textarea::WrapMode::None);
        Prompt {
            kind,
            editor,
            error: None,
            completion: None,
            recall: None,
        }
    }

    /// Replaces the line (the cursor at its end).
    pub fn set_text(&mut self, text: &str) {
        let mut editor = new_editor(text);
        editor.set_wrap_mode(ratatui_textarea::WrapMode::None);
        self.editor = editor;
    }

    pub fn text(&self) -> String {
        self.editor.lines().join(" ")
    }
}

/// What a yes/no question does on yes.
#[derive(Clone, Debug, PartialEq)]
pub enum OnYes {
    Quit,
    /// Send `action` on `incident` (through the same checks as any command).
    Submit {
        incident: Option<Uuid>,
        action: Box<Action>,
    },
    /// Close the dialog, dropping what was typed in it.
    Discard,
}

#[derive(Clone, Debug)]
pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    pub on_yes: OnYes,
    /// The dialog to return to on no.
    pub back: Option<Box<Form>>,
}

/// A modal layer over the screen; one at a time.
#[derive(Clone, Debug)]
pub enum Overlay {
    Help {
        scroll: usize,
    },
    /// One timeline entry in full: the `row`-th of the war room's timeline.
    Entry {
        row: usize,
    },
    Form(Box<Form>),
    Confirm(Box<Confirm>),
    Prompt(Box<Prompt>),
    /// The notification deliveries of one incident, the `selected`-th highlighted.
    Deliveries {
        incident: Uuid,
        selected: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// The message line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub level: Level,
    pub at: DateTime<Utc>,
}

/// A command sent but not yet seen in the log.
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    pub cmd: Command,
    pub at: DateTime<Utc>,
}

/// The review screen's text, regenerated when the incident changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewState {
    pub incident: Uuid,
    pub text: String,
    pub scroll: usize,
}

/// Everything the TUI knows.
pub struct Model {
    pub replica: Replica,
    pub policy: Policy,
    pub me: Identity,
    pub server_url: String,
    /// `:` command lines run, oldest first (loaded from and saved to disk by the runtime).
    pub history: Vec<String>,
    /// Ring the bell / flash the message line when something needs attention.
    pub bell: bool,
    pub flash: bool,
    /// Running clocks seen OVERDUE (incident, clock label), so each is announced
    /// once; `None` until the first tick sets the baseline.
    pub overdue_seen: Option<std::collections::BTreeSet<(Uuid, String)>>,
    /// Other windows joined to the embedded server this window hosts: quitting warns first.
    pub joined_others: usize,
    pub link: LinkState,
    /// `server_time - local_time`.
    pub offset: chrono::Duration,
    pub pending: Vec<Pending>,
    /// Commands in the on-disk outbox, as the sync task reports.
    pub outbox: usize,
    /// Local time of the last tick.
    pub now: DateTime<Utc>,
    pub screen: Screen,
    pub board: BoardState,
    /// The war room last left for the board or the review: opening its
    /// incident again (or going back from the review) returns to it as it was.
    pub parked_room: Option<RoomState>,
    pub composer: Option<Composer>,
    pub overlay: Option<Overlay>,
    pub message: Option<Message>,
    pub keymap: Keymap,
    pub theme_name: String,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
    /// Open this incident's war room as soon as its declaration arrives.
    pub open_on_arrival: Option<Uuid>,
    /// Set by `update` when the screen must be redrawn; the runtime clears it.
    pub dirty: bool,
    session: Uuid,
    issued: u64,
}

impl Model {
    /// A model at `now` (local time). `session` seeds command ids: each
    /// command's id is derived from it and a counter, so ids are unique per
    /// run and tests can predict them.
    pub fn new(
        replica: Replica,
        policy: Policy,
        me: Identity,
        server_url: impl Into<String>,
        now: DateTime<Utc>,
        session: Uuid,
    ) -> Model {
        let mut m = Model {
            replica,
            policy,
            me,
            server_url: server_url.into(),
            history: Vec::new(),
            bell: false,
            flash: true,
            overdue_seen: None,
            joined_others: 0,
            link: LinkState::Connecting,
            offset: chrono::Duration::zero(),
            pending: Vec::new(),
            outbox: 0,
            now,
            screen: Screen::Board,
            board: BoardState::default(),
            parked_room: None,
            composer: None,
            overlay: None,
            message: None,
            keymap: Keymap::default(),
            theme_name: super::theme::DEFAULT_THEME.to_string(),
            size: (80, 24),
            open_on_arrival: None,
            dirty: true,
            session,
            issued: 0,
        };
        m.refresh_board();
        m
    }

    /// The server's idea of now: the authority for every deadline.
    pub fn server_now(&self) -> DateTime<Utc> {
        self.now + self.offset
    }

    /// The id for the next command this client issues.
    pub fn next_command_id(&mut self) -> Uuid {
        self.issued += 1;
        Uuid::new_v5(&self.session, &self.issued.to_be_bytes())
    }

    /// The id the next command will get.
    pub fn peek_command_id(&self) -> Uuid {
        Uuid::new_v5(&self.session, &(self.issued + 1).to_be_bytes())
    }

    pub fn incident(&self, id: &Uuid) -> Option<&Incident> {
        self.replica.world.get(id)
    }

    /// The war room shown, if any.
    pub fn room(&self) -> Option<&RoomState> {
        match &self.screen {
            Screen::WarRoom(r) => Some(r),
            _ => None,
        }
    }

    pub fn room_mut(&mut self) -> Option<&mut RoomState> {
        match &mut self.screen {
            Screen::WarRoom(r) => Some(r),
            _ => None,
        }
    }

    /// The review shown, if any.
    pub fn review(&self) -> Option<&ReviewState> {
        match &self.screen {
            Screen::Review(r) => Some(r),
            _ => None,
        }
    }

    pub fn review_mut(&mut self) -> Option<&mut ReviewState> {
        match &mut self.screen {
            Screen::Review(r) => Some(r),
            _ => None,
        }
    }

    /// The incident in focus: the war room's, the review's, or the board's selection.
    pub fn focused_incident(&self) -> Option<&Incident> {
        match self.screen.place() {
            Place::WarRoom(id) | Place::Review(id) => self.incident(&id),
            Place::Board => self
                .board
                .order
                .get(self.board.selected)
                .and_then(|id| self.incident(id)),
            Place::History => match &self.screen {
                Screen::History(h) => h.order.get(h.selected).and_then(|id| self.incident(id)),
                _ => None,
            },
        }
    }

    /// Re-sorts the history (closed incidents) when it is shown; the cursor
    /// stays on its incident.
    pub fn refresh_history(&mut self) {
        let now = self.server_now();
        let Screen::History(h) = &mut self.screen else {
            return;
        };
        let selected = h.order.get(h.selected).copied();
        // (review rank, newest closed first), then the id for a stable order.
        type Key = ((u8, i64), std::cmp::Reverse<DateTime<Utc>>);
        let mut keyed: Vec<(Key, Uuid)> = self
            .replica
            .world
            .incidents
            .values()
            .filter_map(|inc| {
                let closed = inc.closed.as_ref()?.at;
                let due = ReviewDue::of(inc, &self.policy, now);
                Some(((due.rank(), std::cmp::Reverse(closed)), inc.id))
            })
            .collect();
        keyed.sort_unstable_by_key(|(k, id)| (*k, *id));
        h.order = keyed.into_iter().map(|(_, id)| id).collect();
        if let Some(sel) = selected
            && let Some(pos) = h.order.iter().position(|id| *id == sel)
        {
            h.selected = pos;
        }
        h.selected = h.selected.min(h.order.len().saturating_sub(1));
    }

    /// Re-sorts the board: live incidents before resolved ones, then severity
    /// rank, then the most urgent running clock, then number.
    pub fn refresh_board(&mut self) {
        let now = self.server_now();
        let selected = self.board.order.get(self.board.selected).copied();
        let mut keyed: Vec<((u8, usize, i64, u64), Uuid)> = self
            .replica
            .world
            .open()
            .filter(|inc| {
                self.board.filter.as_deref().is_none_or(|q| {
                    inc.key().to_lowercase().contains(q) || inc.title.to_lowercase().contains(q)
                })
            })
            .map(|inc| {
                let cl = clocks(inc, &self.policy, now);
                (board_rank(inc, &self.policy, &cl), inc.id)
            })
            .collect();
        keyed.sort_unstable_by_key(|(k, _)| *k);
        self.board.order = keyed.into_iter().map(|(_, id)| id).collect();
        if !self.board.moved {
            self.board.selected = 0;
            return;
        }
        // The cursor stays on the same incident while the order shifts under it.
        if let Some(sel) = selected
            && let Some(pos) = self.board.order.iter().position(|id| *id == sel)
        {
            self.board.selected = pos;
        }
        self.board.selected = self
            .board
            .selected
            .min(self.board.order.len().saturating_sub(1));
    }

    /// Brings the war room's filtered index up to date with the replica.
    pub fn refresh_timeline(&mut self) {
        let Screen::WarRoom(room) = &mut self.screen else {
            return;
        };
        let len = self.replica.timeline_len(&room.incident);
        let tl = &mut room.timeline;
        if tl.filter != Filter::All {
            for i in tl.scanned..len {
                if let Some(rec) = self.replica.timeline_entry(&room.incident, i)
                    && tl.filter.matches(&rec.event.body)
                {
                    tl.indices.push(u32::try_from(i).unwrap_or(u32::MAX));
                }
            }
        }
        tl.scanned = len;
    }

    /// Rows in the war room's timeline: filtered entries, then pending commands.
    pub fn timeline_rows(&self) -> usize {
        let Some(room) = self.room() else { return 0 };
        self.timeline_logged(room) + self.pending_for(&room.incident).count()
    }

    /// Logged entries that pass the filter.
    pub fn timeline_logged(&self, room: &RoomState) -> usize {
        match room.timeline.filter {
            Filter::All => self.replica.timeline_len(&room.incident),
            _ => room.timeline.indices.len(),
        }
    }

    /// The `row`-th logged entry of the filtered timeline.
    pub fn timeline_row(&self, room: &RoomState, row: usize) -> Option<&Recorded> {
        let i = match room.timeline.filter {
            Filter::All => row,
            _ => *room.timeline.indices.get(row)? as usize,
        };
        self.replica.timeline_entry(&room.incident, i)
    }

    /// Pending commands that concern `incident`, oldest first.
    pub fn pending_for<'a>(&'a self, incident: &'a Uuid) -> impl Iterator<Item = &'a Pending> {
        let id = incident.to_string();
        let key = self.incident(incident).map(Incident::key);
        self.pending.iter().filter(move |p| {
            p.cmd
                .incident
                .as_deref()
                .is_some_and(|r| r == id || Some(r) == key.as_deref())
        })
    }

    /// Everyone seen in the log (actors and role holders), for `@` completion.
    pub fn people(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |p: &str| {
            let p = crate::domain::sanitize::sanitize_line(p);
            let p = p.trim();
            if !p.is_empty() && p != crate::domain::escalation::ACTOR && !out.iter().any(|o| o == p)
            {
                out.push(p.to_string());
            }
        };
        add(&self.me.name);
        for inc in self.replica.world.incidents.values() {
            add(&inc.declared.by);
            for holder in inc.roles.values() {
                add(holder);
            }
        }
        // The last few thousand events are plenty to find who is on the call.
        for rec in self.replica.events().iter().rev().take(5000) {
            add(&rec.event.actor);
        }
        out.sort();
        out
    }

    /// Whether a draft would be lost by quitting: the composer's, or a dialog's.
    pub fn has_unsent_text(&self) -> bool {
        self.composer.as_ref().is_some_and(Composer::has_draft)
            || matches!(&self.overlay, Some(Overlay::Form(f)) if f.has_text())
    }
}

/// One item of a checklist that applies in the incident's current phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhaseItem<'p> {
    pub checklist: &'p str,
    pub checklist_title: &'p str,
    pub item: &'p str,
    pub text: &'p str,
    pub done: bool,
    /// Done without a tick: the log proves it (the evidence, in words).
    pub proof: Option<String>,
    /// Waived rather than done: the reason.
    pub waived: Option<String>,
}

/// The checklists of the incident's current phase, flattened. Once resolved
/// (the closure phase) this also lists the checklists the definition of done
/// requires from earlier phases — e.g. 002's resolution criteria — so what
/// blocks closing can still be seen and ticked in the panel. Unfinished items
/// of an earlier phase's time-boxed checklist (002 Appendix A "first 5
/// minutes") stay listed while the incident is open, until they are done or
/// waived: their clock runs on.
pub fn phase_items<'p>(
    policy: &'p Policy,
    inc: &Incident,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<PhaseItem<'p>> {
    let phase = inc.phase();
    let required = |id: &str| {
        phase == crate::domain::policy::Phase::Closure
            && policy.closure.require_checklists.iter().any(|r| r == id)
    };
    let earlier_box = |c: &crate::domain::policy::Checklist| {
        inc.is_open() && c.phase < phase && c.due_for(&inc.severity).is_some() && !required(&c.id)
    };
    policy
        .checklists
        .iter()
        .filter(|c| c.phase == phase || required(&c.id) || earlier_box(c))
        .flat_map(|c| {
            let only_open = earlier_box(c);
            c.items
                .iter()
                .filter(move |i| {
                    !only_open
                        || crate::domain::checklist::item_done(inc, policy, &c.id, i, now).is_none()
                })
                .map(move |i| PhaseItem {
                    checklist: &c.id,
                    checklist_title: &c.title,
                    item: &i.id,
                    text: &i.text,
                    done: inc.is_checked(&c.id, &i.id),
                    proof: match crate::domain::checklist::item_done(inc, policy, &c.id, i, now) {
                        Some(crate::domain::checklist::Done::Proven(e)) => Some(e),
                        _ => None,
                    },
                    waived: crate::domain::checklist::waiver(inc, &c.id, &i.id).map(str::to_string),
                })
        })
        .collect()
}

impl Model {
    /// The whole terminal.
    pub fn area(&self) -> ratatui::layout::Rect {
        ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1)
    }
}

/// A row of the checklist panel: a checklist's heading or one of its items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckRow<'p> {
    Heading(&'p str),
    /// `(index into phase_items, item)`.
    Item(usize, PhaseItem<'p>),
}

/// The checklist panel's rows: each phase checklist's title, then its items.
pub fn checklist_rows<'p>(
    policy: &'p Policy,
    inc: &Incident,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<CheckRow<'p>> {
    let mut out = Vec::new();
    let mut last = None;
    for (i, it) in phase_items(policy, inc, now).into_iter().enumerate() {
        if last != Some(it.checklist) {
            last = Some(it.checklist);
            out.push(CheckRow::Heading(it.checklist_title));
        }
        out.push(CheckRow::Item(i, it));
    }
    out
}

/// The row of item `sel` among `rows`.
pub fn selected_row(rows: &[CheckRow<'_>], sel: usize) -> usize {
    rows.iter()
        .position(|r| matches!(r, CheckRow::Item(i, _) if *i == sel))
        .unwrap_or(0)
}

/// First row to draw so that row `sel` is visible in `height` rows (short
/// lists that follow the cursor without state of their own).
pub fn list_offset(sel: usize, height: usize) -> usize {
    sel.saturating_sub(height.saturating_sub(1))
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

/// Whether a timeline entry matches a `/` search: case-insensitive, on the
/// entry's text and author. `q` is lowercase.
pub fn entry_matches(rec: &Recorded, q: &str) -> bool {
    rec.event.body.describe().to_lowercase().contains(q)
        || rec.event.actor.to_lowercase().contains(q)
}
