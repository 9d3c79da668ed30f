//! `update(&mut Model, Msg) -> Vec<Effect>`: every state change of the TUI,
//! pure (no I/O, no clock: time arrives as `Msg::Tick`), so each key can be
//! unit-tested as "key in, command or state out".
//!
//! By concern: `keys` (screen keys, quitting), `overlays` (help, prompts,
//! questions), `forms` (dialogs and the composer), `navigation` (screens,
//! cursors, search), `commands` (local checks, then `send`: the one place a
//! submission's outcome becomes a message), `sync` (the sync task's
//! reports, attention), `mouse` (clicks, wheel, paste).

mod commands;
mod forms;
mod keys;
mod mouse;
mod navigation;
mod overlays;
mod sync;

use super::model::{Level, Message, Model, Screen};
use super::msg::{Effect, Msg, SyncMsg};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use keys::{on_key, small_key, too_small};
use mouse::{on_mouse, paste};
use navigation::clamp_all;
use sync::{attention, calls_for_me, newly_overdue, on_sync};

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
            // Reviews come due as time passes; a no-op on other screens.
            m.refresh_history();
            m.dirty = true;
            newly_overdue(m)
        }
        Msg::Resize(w, h) => {
            m.size = (w, h);
            clamp_all(m);
            m.dirty = true;
            vec![]
        }
        Msg::Sync(s) => {
            // Before applying: only events this replica has not seen call for attention.
            let calls: Vec<String> = match &s {
                SyncMsg::Events(evs) => evs.iter().filter_map(|r| calls_for_me(m, r)).collect(),
                _ => vec![],
            };
            on_sync(m, s);
            m.dirty = true;
            match calls.into_iter().last() {
                Some(why) => attention(m, why),
                None => vec![],
            }
        }
        Msg::Key(k) if k.kind != KeyEventKind::Release => {
            m.dirty = true;
            if too_small(m) {
                return small_key(m, k);
            }
            on_key(m, k)
        }
        Msg::Key(_) => vec![],
        Msg::Mouse(_) | Msg::Paste(_) if too_small(m) => vec![],
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
        Msg::Seat {
            server_url,
            joined_others,
        } => {
            m.dirty |= m.server_url != server_url;
            m.server_url = server_url;
            m.joined_others = joined_others;
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

/// A key with no modifiers, for tests and the runtime.
pub fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}
