//! The keymap as data: every binding is `(key, context, action, description)`.
//!
//! `update` looks keys up here rather than matching on them, and the `?` help
//! screen is generated from the same table, so help can never drift from what
//! the keys really do. Actions have stable snake_case names so a config file
//! can rebind them by name.

use crate::domain::command::{Access, Action};
use crate::domain::event::{ActionState, Channel};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt;

/// Where a binding applies. The war-room panel contexts stack on `WarRoom`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Context {
    /// Everywhere except while typing.
    Global,
    Board,
    /// Anywhere in an incident's war room.
    WarRoom,
    /// The war room with the timeline focused.
    Timeline,
    /// The war room with the checklist focused.
    Checklist,
    /// The war room with the action items focused.
    Actions,
    Review,
    Help,
    /// The note composer.
    Composer,
    /// Any dialog (declare, severity, update…).
    Form,
    /// The flowchart questions inside the declare form.
    Flowchart,
    /// The `:` command line and the `/` search prompt.
    Prompt,
    /// A yes/no question.
    Confirm,
    /// The notification deliveries of an incident.
    Deliveries,
    /// Closed incidents.
    History,
}

impl Context {
    /// Heading in the help screen.
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::Board => "Board",
            Context::WarRoom => "War room",
            Context::Timeline => "War room: timeline focused",
            Context::Checklist => "War room: checklist focused",
            Context::Actions => "War room: action items focused",
            Context::Review => "Review",
            Context::Help => "Help",
            Context::Composer => "Note composer",
            Context::Form => "Dialogs",
            Context::Flowchart => "Severity flowchart",
            Context::Prompt => "Command line and search",
            Context::Confirm => "Questions",
            Context::Deliveries => "Notification deliveries",
            Context::History => "History (closed incidents)",
        }
    }

    pub const ALL: [Context; 15] = [
        Context::Global,
        Context::Board,
        Context::WarRoom,
        Context::Timeline,
        Context::Checklist,
        Context::Actions,
        Context::Composer,
        Context::Form,
        Context::Flowchart,
        Context::Prompt,
        Context::Confirm,
        Context::Review,
        Context::Deliveries,
        Context::History,
        Context::Help,
    ];
}

macro_rules! acts {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        /// Everything a key can do.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Act { $($variant),+ }

        impl Act {
            /// Stable name, for rebinding in a config file.
            pub fn name(self) -> &'static str {
                match self { $(Act::$variant => $name),+ }
            }

            pub fn from_name(name: &str) -> Option<Act> {
                match name { $($name => Some(Act::$variant),)+ _ => None }
            }
        }
    };
}

acts! {
    Quit => "quit",
    AskQuit => "ask_quit",
    Suspend => "suspend",
    Help => "help",
    CommandLine => "command_line",
    Back => "back",
    Up => "up",
    Down => "down",
    PageUp => "page_up",
    PageDown => "page_down",
    Top => "top",
    Bottom => "bottom",
    Open => "open",
    Declare => "declare",
    Acknowledge => "acknowledge",
    Severity => "severity",
    Roles => "roles",
    Note => "note",
    Decision => "decision",
    PostUpdate => "post_update",
    Escalate => "escalate",
    Page => "page",
    Contain => "contain",
    Resolve => "resolve",
    Reopen => "reopen",
    Close => "close",
    AddActionItem => "add_action_item",
    Impact => "impact",
    Review => "review",
    FocusNext => "focus_next",
    FocusPrev => "focus_prev",
    ToggleItem => "toggle_item",
    Search => "search",
    SearchNext => "search_next",
    SearchPrev => "search_prev",
    CycleFilter => "cycle_filter",
    Follow => "follow",
    Export => "export",
    Copy => "copy",
    Send => "send",
    Newline => "newline",
    CycleKind => "cycle_kind",
    Cancel => "cancel",
    NextField => "next_field",
    PrevField => "prev_field",
    ChoicePrev => "choice_prev",
    ChoiceNext => "choice_next",
    Flowchart => "flowchart",
    Answer => "answer",
    StepBack => "step_back",
    Complete => "complete",
    Yes => "yes",
    ClearLine => "clear_line",
    No => "no",
    Deliveries => "deliveries",
    RetryDelivery => "retry_delivery",
    TriageDeclare => "triage_declare",
    TriageDismiss => "triage_dismiss",
    History => "history",
    AcceptRole => "accept_role",
    DeclineRole => "decline_role",
    ReviewField => "review_field",
}

impl Act {
    /// The command a key ends in (in `context`), with its fields empty:
    /// enough to ask the domain who may do it ([`Action::required_access`]),
    /// so a key can be refused before its dialog opens and marked in the
    /// hints and the help. `None` for keys that change no incident.
    pub fn command(self, context: Context) -> Option<Action> {
        let text = String::new;
        Some(match self {
            Act::Declare => Action::Declare {
                title: text(),
                severity: text(),
                kind: None,
                impact: None,
                commander: None,
            },
            Act::Acknowledge => Action::Acknowledge,
            Act::Severity => Action::SetSeverity {
                severity: text(),
                reason: text(),
            },
            Act::Roles => Action::AssignRole {
                role: text(),
                person: text(),
                note: text(),
            },
            Act::AcceptRole => Action::AcceptRole { role: text() },
            Act::ReviewField => Action::SetReviewField {
                field: text(),
                value: text(),
            },
            Act::DeclineRole => Action::DeclineRole {
                role: text(),
                reason: text(),
            },
            Act::Note | Act::Decision => Action::Note {
                kind: Default::default(),
                text: text(),
            },
            Act::PostUpdate => Action::PostUpdate {
                channel: Channel::StatusPage,
                state: None,
                text: text(),
            },
            Act::Escalate => Action::Escalate {
                to: None,
                reason: text(),
            },
            Act::Page => Action::Page {
                who: text(),
                reason: text(),
            },
            Act::Contain => Action::Contain { note: text() },
            Act::Resolve => Action::Resolve {
                summary: text(),
                force: false,
                reason: text(),
            },
            Act::Reopen => Action::Reopen { reason: text() },
            Act::Close => Action::Close,
            Act::AddActionItem => Action::AddActionItem {
                text: text(),
                owner: None,
                due: None,
                priority: None,
            },
            Act::Impact => Action::UpdateImpact {
                impact: Default::default(),
            },
            Act::ToggleItem if context == Context::Actions => Action::UpdateActionItem {
                action: uuid::Uuid::nil(),
                state: ActionState::Done,
                owner: None,
                due: None,
                priority: None,
            },
            Act::ToggleItem => Action::SetChecklistItem {
                checklist: text(),
                item: text(),
                done: true,
                waive: None,
            },
            Act::TriageDeclare => Action::DeclareTriaged { severity: None },
            Act::TriageDismiss => Action::DismissTriaged { reason: text() },
            Act::RetryDelivery => Action::RetryDelivery {
                delivery: uuid::Uuid::nil(),
            },
            _ => return None,
        })
    }

    /// The token role this key needs in `context`, when it changes an incident.
    pub fn needs(self, context: Context) -> Option<Access> {
        self.command(context).map(|a| a.required_access())
    }
}

/// A key pattern: one key with modifiers, or any digit 1–9.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyPat {
    Key(KeyCode, KeyModifiers),
    /// `1`…`9` (the flowchart's answers).
    Digit,
}

impl KeyPat {
    /// Does this pattern match the event? Shift is ignored for characters
    /// (it is already in the character), Ctrl and Alt must agree.
    pub fn matches(&self, ev: &KeyEvent) -> bool {
        let mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        match *self {
            KeyPat::Digit => {
                mods.is_empty() && matches!(ev.code, KeyCode::Char(c) if ('1'..='9').contains(&c))
            }
            KeyPat::Key(code, want) => {
                let want_cmp = want & (KeyModifiers::CONTROL | KeyModifiers::ALT);
                let code_eq = match (code, ev.code) {
                    (KeyCode::Char(a), KeyCode::Char(b)) => {
                        // Ctrl-letters may arrive upper-cased on some terminals.
                        a == b || (!want_cmp.is_empty() && a.eq_ignore_ascii_case(&b))
                    }
                    (a, b) => a == b,
                };
                let shift_ok = match code {
                    // BackTab is Shift-Tab already; terminals differ on also reporting Shift.
                    KeyCode::Char(_) | KeyCode::BackTab => true,
                    _ => (want & KeyModifiers::SHIFT) == (ev.modifiers & KeyModifiers::SHIFT),
                };
                code_eq && mods == want_cmp && shift_ok
            }
        }
    }
}

impl fmt::Display for KeyPat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (code, mods) = match self {
            KeyPat::Digit => return f.write_str("1…9"),
            KeyPat::Key(c, m) => (c, m),
        };
        if mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if mods.contains(KeyModifiers::SHIFT)
            && !matches!(code, KeyCode::Char(_) | KeyCode::BackTab)
        {
            f.write_str("Shift-")?;
        }
        match code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) => {
                write!(f, "{}", c.to_ascii_uppercase())
            }
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// One row of the keymap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding {
    pub key: KeyPat,
    pub context: Context,
    pub act: Act,
    pub description: &'static str,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;
const ALT: KeyModifiers = KeyModifiers::ALT;

const fn k(c: char) -> KeyPat {
    KeyPat::Key(KeyCode::Char(c), NONE)
}
const fn ctrl(c: char) -> KeyPat {
    KeyPat::Key(KeyCode::Char(c), CTRL)
}
const fn code(c: KeyCode) -> KeyPat {
    KeyPat::Key(c, NONE)
}

macro_rules! table {
    ($($ctx:ident: [$($key:expr),+] => $act:ident, $desc:literal;)+) => {
        &[$($(Binding { key: $key, context: Context::$ctx, act: Act::$act, description: $desc },)+)+]
    };
}

/// The default bindings.
pub const DEFAULT: &[Binding] = table! {
    Global: [ctrl('c')] => Quit, "quit (asks first when a draft is unsent)";
    Global: [ctrl('z')] => Suspend, "suspend to the shell";
    Global: [k('?')] => Help, "this help";
    Global: [k(':')] => CommandLine, "command line (:help lists the verbs)";

    Board: [k('j'), code(KeyCode::Down)] => Down, "next incident";
    Board: [k('k'), code(KeyCode::Up)] => Up, "previous incident";
    Board: [code(KeyCode::PageDown)] => PageDown, "page down";
    Board: [code(KeyCode::PageUp)] => PageUp, "page up";
    Board: [k('g'), code(KeyCode::Home)] => Top, "first incident";
    Board: [k('G'), code(KeyCode::End)] => Bottom, "last incident";
    Board: [code(KeyCode::Enter)] => Open, "open the war room of the selected incident";
    Board: [k('d')] => Declare, "declare an incident";
    Board: [k('t')] => TriageDeclare, "triage: declare the oldest waiting alert group an incident";
    Board: [k('x')] => TriageDismiss, "triage: dismiss the oldest waiting alert group";
    Board: [k('v')] => Review, "post-incident review of the selected incident";
    Board: [k('l')] => Deliveries, "notification deliveries of the selected incident (✉✗ marks failing ones)";
    Board: [k('/')] => Search, "filter the board by key or title (Enter applies, empty clears)";
    Board: [code(KeyCode::Esc)] => Back, "clear the filter";
    Board: [k('h')] => History, "closed incidents: reviews coming due, reopen";
    Board: [k('q')] => AskQuit, "quit (asks first: q q from the war room does not end the session)";

    WarRoom: [k('i')] => Note, "write a note: i, type, Enter (the scribe's fast path)";
    WarRoom: [k('D')] => Decision, "record a decision";
    WarRoom: [k('a')] => Acknowledge, "acknowledge";
    WarRoom: [k('s')] => Severity, "change severity, with a reason";
    WarRoom: [k('r')] => Roles, "assign, hand off or release a role";
    WarRoom: [k('u')] => PostUpdate, "post a status update (pre-filled from the policy's template)";
    WarRoom: [k('e')] => Escalate, "escalate, with the escalation request";
    WarRoom: [k('p')] => Page, "page someone";
    WarRoom: [k('c')] => Contain, "mark contained";
    WarRoom: [k('R')] => Resolve, "resolve (shows the resolution criteria and the stability clock)";
    WarRoom: [k('O')] => Reopen, "reopen, with a reason";
    WarRoom: [k('C')] => Close, "close (shows the definition of done)";
    WarRoom: [k('A')] => AddActionItem, "add an action item";
    WarRoom: [k('I')] => Impact, "impact: summary, services, customers affected, bridge link";
    WarRoom: [k('v')] => Review, "post-incident review";
    WarRoom: [k('T')] => AcceptRole, "take the role handed to you (the roles panel shows it pending)";
    WarRoom: [k('X')] => DeclineRole, "decline the role handed to you (the holder keeps it)";
    WarRoom: [k('l')] => Deliveries, "notification deliveries: Slack, PagerDuty, webhooks, email";
    WarRoom: [code(KeyCode::Tab)] => FocusNext, "focus the next panel: timeline, checklist, action items";
    WarRoom: [KeyPat::Key(KeyCode::BackTab, KeyModifiers::SHIFT)] => FocusPrev, "focus the previous panel";
    WarRoom: [k('j'), code(KeyCode::Down)] => Down, "down in the focused panel";
    WarRoom: [k('k'), code(KeyCode::Up)] => Up, "up in the focused panel";
    WarRoom: [code(KeyCode::PageDown)] => PageDown, "page down";
    WarRoom: [code(KeyCode::PageUp)] => PageUp, "page up";
    WarRoom: [k('g'), code(KeyCode::Home)] => Top, "to the oldest entry / first item";
    WarRoom: [k('G'), code(KeyCode::End)] => Bottom, "to the newest entry (the timeline follows it)";
    WarRoom: [code(KeyCode::Esc), k('q')] => Back, "back to the board";

    Timeline: [k('/')] => Search, "search the timeline";
    Timeline: [k('n')] => SearchNext, "next match";
    Timeline: [k('N')] => SearchPrev, "previous match";
    Timeline: [k('f')] => CycleFilter, "filter: all → notes → decisions → status";
    Timeline: [k('F')] => Follow, "follow mode on/off (stick to the newest entry)";
    Timeline: [code(KeyCode::Enter)] => Open, "show the whole entry";

    Checklist: [k(' '), k('x')] => ToggleItem, "tick / untick the item";
    Actions: [k(' '), k('x')] => ToggleItem, "mark the action item done / open again";

    Composer: [code(KeyCode::Enter)] => Send, "send";
    Composer: [KeyPat::Key(KeyCode::Enter, ALT), ctrl('j')] => Newline, "new line";
    Composer: [code(KeyCode::Tab)] => CycleKind, "kind: note → decision → action → observation";
    Composer: [code(KeyCode::Esc)] => Cancel, "hide the composer (the draft is kept)";

    Form: [code(KeyCode::Tab), code(KeyCode::Down)] => NextField, "next field";
    Form: [KeyPat::Key(KeyCode::BackTab, KeyModifiers::SHIFT), code(KeyCode::Up)] => PrevField, "previous field";
    Form: [code(KeyCode::Left)] => ChoicePrev, "previous choice (on a choice field)";
    Form: [code(KeyCode::Right), k(' ')] => ChoiceNext, "next choice (on a choice field)";
    Form: [code(KeyCode::Enter)] => Send, "submit";
    Form: [KeyPat::Key(KeyCode::Enter, ALT), ctrl('j')] => Newline, "new line (in a text field)";
    Form: [ctrl('f')] => Flowchart, "find the severity with the flowchart questions (declare)";
    Form: [ctrl('y')] => Copy, "copy the message to the clipboard";
    Form: [code(KeyCode::Esc)] => Cancel, "cancel";

    Flowchart: [KeyPat::Digit] => Answer, "answer the question";
    Flowchart: [code(KeyCode::Backspace)] => StepBack, "back to the previous question";
    Flowchart: [code(KeyCode::Esc)] => Cancel, "back to the form";

    Prompt: [code(KeyCode::Enter)] => Send, "run / search";
    Prompt: [code(KeyCode::Tab)] => Complete, "complete the verb, role, severity or @person";
    Prompt: [code(KeyCode::Esc)] => Cancel, "cancel";
    Prompt: [code(KeyCode::Up)] => Up, "previous command (history, kept across sessions)";
    Prompt: [code(KeyCode::Down)] => Down, "next command (history)";
    Prompt: [ctrl('u')] => ClearLine, "clear the line";

    Confirm: [k('y')] => Yes, "yes";
    Confirm: [k('n'), code(KeyCode::Esc)] => No, "no";

    Review: [k('j'), code(KeyCode::Down)] => Down, "scroll down";
    Review: [k('k'), code(KeyCode::Up)] => Up, "scroll up";
    Review: [code(KeyCode::PageDown)] => PageDown, "page down";
    Review: [code(KeyCode::PageUp)] => PageUp, "page up";
    Review: [k('g'), code(KeyCode::Home)] => Top, "top";
    Review: [k('G'), code(KeyCode::End)] => Bottom, "bottom";
    Review: [k('e')] => ReviewField, "write a field of the review (root cause, lessons, attendees…); also after closing";
    Review: [k('A')] => AddActionItem, "add an action item (owner, due date, priority); also after closing";
    Review: [k('w')] => Export, "export to INC-n-review.md";
    Review: [k('y')] => Copy, "copy to the clipboard";
    Review: [code(KeyCode::Esc), k('q')] => Back, "back";

    Deliveries: [k('j'), code(KeyCode::Down)] => Down, "next delivery";
    Deliveries: [k('k'), code(KeyCode::Up)] => Up, "previous delivery";
    Deliveries: [k('t')] => RetryDelivery, "try the selected failed delivery again";
    Deliveries: [code(KeyCode::Esc), k('q'), k('l')] => Back, "close the list";

    History: [k('j'), code(KeyCode::Down)] => Down, "next closed incident";
    History: [k('k'), code(KeyCode::Up)] => Up, "previous closed incident";
    History: [code(KeyCode::PageDown)] => PageDown, "page down";
    History: [code(KeyCode::PageUp)] => PageUp, "page up";
    History: [k('g'), code(KeyCode::Home)] => Top, "first";
    History: [k('G'), code(KeyCode::End)] => Bottom, "last";
    History: [code(KeyCode::Enter)] => Open, "open the war room of the selected incident";
    History: [k('O')] => Reopen, "reopen the selected incident, with a reason";
    History: [k('v')] => Review, "post-incident review of the selected incident";
    History: [code(KeyCode::Esc), k('q'), k('h')] => Back, "back to the board";

    Help: [k('j'), code(KeyCode::Down)] => Down, "scroll down";
    Help: [k('k'), code(KeyCode::Up)] => Up, "scroll up";
    Help: [code(KeyCode::PageDown)] => PageDown, "page down";
    Help: [code(KeyCode::PageUp)] => PageUp, "page up";
    Help: [code(KeyCode::Esc), k('q'), k('?')] => Back, "close help / the entry";
};

/// The mouse, for the help screen (not rebindable).
pub const MOUSE: &[(&str, &str)] = &[
    (
        "click",
        "select a board row or a timeline entry; focus a panel",
    ),
    ("double-click", "open the incident (board)"),
    (
        "wheel",
        "scroll the list, timeline, review or help under the pointer",
    ),
];

/// The active bindings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keymap {
    pub bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap {
            bindings: DEFAULT.to_vec(),
        }
    }
}

impl Keymap {
    /// The action bound to `ev` in the first of `contexts` that binds it.
    pub fn lookup(&self, contexts: &[Context], ev: &KeyEvent) -> Option<Act> {
        contexts.iter().find_map(|ctx| {
            self.bindings
                .iter()
                .find(|b| b.context == *ctx && b.key.matches(ev))
                .map(|b| b.act)
        })
    }

    /// The keys bound to `act` in `context`, e.g. `j / ↓`.
    pub fn keys_for(&self, context: Context, act: Act) -> String {
        self.bindings
            .iter()
            .filter(|b| b.context == context && b.act == act)
            .map(|b| b.key.to_string())
            .collect::<Vec<_>>()
            .join(" / ")
    }

    /// The help screen's rows: per context, `(keys, description)` with the
    /// keys of one action joined.
    /// Per context: the keys, the description and the action name (what
    /// `[keys]` in the config file binds, e.g. `"ctrl-n" = "note"`).
    pub fn help(&self) -> Vec<(Context, Vec<HelpRow>)> {
        let mut out = Vec::new();
        for ctx in Context::ALL {
            let mut rows: Vec<(Act, String, &'static str)> = Vec::new();
            for b in self.bindings.iter().filter(|b| b.context == ctx) {
                match rows.iter_mut().find(|(a, _, _)| *a == b.act) {
                    Some(row) => {
                        row.1.push_str(" / ");
                        row.1.push_str(&b.key.to_string());
                    }
                    None => rows.push((b.act, b.key.to_string(), b.description)),
                }
            }
            if !rows.is_empty() {
                out.push((
                    ctx,
                    rows.into_iter().map(|(a, k, d)| (k, d, a.name())).collect(),
                ));
            }
        }
        out
    }
}

/// One help row: the keys, the description, the action name.
pub type HelpRow = (String, &'static str, &'static str);

/// Parses a key as written in the config file: `ctrl-n`, `alt-enter`,
/// `shift-tab`, `F5`, `pgup`, `space`, `x`, `N`.
pub fn parse_key(s: &str) -> Option<KeyPat> {
    let s = s.trim();
    let (mods_part, key) = match s.rfind('-') {
        // A trailing `-` is the minus key itself (`ctrl--`).
        Some(i) if i + 1 == s.len() && i > 0 => (&s[..i - 1], "-"),
        Some(i) if i > 0 => (&s[..i], &s[i + 1..]),
        _ => ("", s),
    };
    let mut mods = KeyModifiers::NONE;
    for m in mods_part.split('-').filter(|m| !m.is_empty()) {
        mods |= match m.to_ascii_lowercase().as_str() {
            "ctrl" | "control" | "c" => KeyModifiers::CONTROL,
            "alt" | "meta" | "m" | "a" => KeyModifiers::ALT,
            "shift" | "s" => KeyModifiers::SHIFT,
            _ => return None,
        };
    }
    let lower = key.to_ascii_lowercase();
    let code = match lower.as_str() {
        "enter" | "return" | "cr" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "space" => KeyCode::Char(' '),
        "backspace" | "bs" => KeyCode::Backspace,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "pgup" | "pageup" => KeyCode::PageUp,
        "pgdn" | "pgdown" | "pagedown" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "del" | "delete" => KeyCode::Delete,
        "ins" | "insert" => KeyCode::Insert,
        f if f.len() >= 2
            && f.starts_with('f')
            && f[1..].parse::<u8>().is_ok_and(|n| (1..=24).contains(&n)) =>
        {
            KeyCode::F(f[1..].parse().ok()?)
        }
        _ => {
            let mut chars = key.chars();
            let c = chars.next()?;
            if chars.next().is_some() {
                return None;
            }
            // Ctrl-letters are matched case-insensitively; keep them lower-case.
            if mods.contains(KeyModifiers::CONTROL) {
                KeyCode::Char(c.to_ascii_lowercase())
            } else {
                KeyCode::Char(c)
            }
        }
    };
    if matches!(code, KeyCode::Char(_)) {
        mods.remove(KeyModifiers::SHIFT);
    }
    Some(KeyPat::Key(code, mods))
}

impl Keymap {
    /// The default keymap with the config file's `[keys]` applied: each entry
    /// `"key" = "action"` binds the key to the action in every context where
    /// the action has a default binding (replacing whatever that key did
    /// there). Bad entries are skipped with a warning naming them.
    pub fn with_overrides(
        overrides: &std::collections::BTreeMap<String, String>,
    ) -> (Keymap, Vec<String>) {
        let mut km = Keymap::default();
        let mut warnings = Vec::new();
        for (key, action) in overrides {
            let Some(pat) = parse_key(key) else {
                warnings.push(format!(
                    "config [keys] {key:?}: not a key (write e.g. \"ctrl-n\", \"alt-enter\", \"F5\", \"x\")"
                ));
                continue;
            };
            let Some(act) = Act::from_name(action) else {
                warnings.push(format!(
                    "config [keys] {key:?} = {action:?}: unknown action (the names are listed in the help, e.g. note, acknowledge, post_update)"
                ));
                continue;
            };
            let targets: Vec<(Context, &'static str)> = DEFAULT
                .iter()
                .filter(|b| b.act == act)
                .map(|b| (b.context, b.description))
                .fold(Vec::new(), |mut acc, (c, d)| {
                    if !acc.iter().any(|(x, _)| *x == c) {
                        acc.push((c, d));
                    }
                    acc
                });
            for (context, description) in targets {
                km.bindings
                    .retain(|b| !(b.context == context && b.key == pat));
                km.bindings.insert(
                    0,
                    Binding {
                        key: pat,
                        context,
                        act,
                        description,
                    },
                );
            }
        }
        (km, warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn lookup_respects_context_order_and_modifiers() {
        let km = Keymap::default();
        let n = key(KeyCode::Char('n'), NONE);
        assert_eq!(
            km.lookup(&[Context::Timeline, Context::WarRoom], &n),
            Some(Act::SearchNext)
        );
        assert_eq!(km.lookup(&[Context::Board], &n), None);
        let cap_g = key(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(km.lookup(&[Context::Board], &cap_g), Some(Act::Bottom));
        let ctrl_c = key(KeyCode::Char('c'), CTRL);
        assert_eq!(
            km.lookup(&[Context::WarRoom, Context::Global], &ctrl_c),
            Some(Act::Quit)
        );
        let alt_enter = key(KeyCode::Enter, ALT);
        assert_eq!(
            km.lookup(&[Context::Composer], &alt_enter),
            Some(Act::Newline)
        );
        let enter = key(KeyCode::Enter, NONE);
        assert_eq!(km.lookup(&[Context::Composer], &enter), Some(Act::Send));
        let backtab = key(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(
            km.lookup(&[Context::WarRoom], &backtab),
            Some(Act::FocusPrev)
        );
    }

    #[test]
    fn action_names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for b in DEFAULT {
            assert_eq!(Act::from_name(b.act.name()), Some(b.act));
            seen.insert(b.act.name());
        }
        assert!(seen.len() > 40);
    }

    #[test]
    fn no_key_is_bound_twice_in_one_context() {
        for (i, a) in DEFAULT.iter().enumerate() {
            for b in &DEFAULT[i + 1..] {
                assert!(
                    !(a.context == b.context && a.key == b.key),
                    "{} bound twice in {:?}",
                    a.key,
                    a.context
                );
            }
        }
    }

    #[test]
    fn parses_config_keys() {
        assert_eq!(parse_key("ctrl-n"), Some(ctrl('n')));
        assert_eq!(parse_key("Ctrl-N"), Some(ctrl('n')));
        assert_eq!(
            parse_key("alt-enter"),
            Some(KeyPat::Key(KeyCode::Enter, ALT))
        );
        assert_eq!(
            parse_key("shift-tab"),
            Some(KeyPat::Key(KeyCode::BackTab, KeyModifiers::SHIFT))
        );
        assert_eq!(parse_key("F5"), Some(code(KeyCode::F(5))));
        assert_eq!(parse_key("N"), Some(k('N')));
        assert_eq!(parse_key("space"), Some(k(' ')));
        assert_eq!(parse_key("hyper-x"), None);
        assert_eq!(parse_key("nonsense"), None);
    }

    #[test]
    fn overrides_rebind_by_action_name_and_warn_on_mistakes() {
        let mut o = std::collections::BTreeMap::new();
        o.insert("ctrl-n".to_string(), "note".to_string());
        o.insert("x".to_string(), "acknowledge".to_string());
        o.insert("ctrl-q".to_string(), "explode".to_string());
        o.insert("hyper-q".to_string(), "quit".to_string());
        let (km, warnings) = Keymap::with_overrides(&o);
        let ev = key(KeyCode::Char('n'), CTRL);
        assert_eq!(km.lookup(&[Context::WarRoom], &ev), Some(Act::Note));
        // The old key still works; x now acknowledges in the war room.
        assert_eq!(
            km.lookup(&[Context::WarRoom], &key(KeyCode::Char('i'), NONE)),
            Some(Act::Note)
        );
        assert_eq!(
            km.lookup(&[Context::WarRoom], &key(KeyCode::Char('x'), NONE)),
            Some(Act::Acknowledge)
        );
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("\"explode\": unknown action"))
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("\"hyper-q\": not a key"))
        );
        assert!(km.keys_for(Context::WarRoom, Act::Note).contains("Ctrl-N"));
    }

    #[test]
    fn help_joins_keys_of_one_action() {
        let help = Keymap::default().help();
        let board = help
            .iter()
            .find(|(c, _)| *c == Context::Board)
            .map(|(_, r)| r);
        let down = board.and_then(|rows| rows.iter().find(|(_, d, _)| *d == "next incident"));
        assert_eq!(down.map(|(k, _, _)| k.as_str()), Some("j / ↓"));
        // The action name `[keys]` in the config binds.
        assert_eq!(down.map(|(_, _, n)| *n), Some("down"));
    }
}
