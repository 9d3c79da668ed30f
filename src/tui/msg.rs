//! What flows into `update` ([`Msg`]) and what comes out of it ([`Effect`]).
//!
//! Every input — keys, mouse, resizes, the 1 s tick, the sync task's reports —
//! is a `Msg`; every outside action `update` wants (send a command, quit, write
//! a file) is an `Effect` the runtime carries out. That keeps `update` pure.

use crate::domain::Command;
use chrono::{DateTime, Utc};
use crossterm::event::{KeyEvent, MouseEvent};
use std::path::PathBuf;

pub use crate::client::sync::{LinkState, SyncMsg};

/// One input to [`super::update::update`].
// Messages are moved once from the channel into `update`; boxing the sync
// variant would cost an allocation per message for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// Text pasted into the terminal (bracketed paste).
    Paste(String),
    Resize(u16, u16),
    /// The 1 s tick: the only place the TUI learns the time.
    Tick(DateTime<Utc>),
    Sync(SyncMsg),
    /// The runtime's report on an effect (file written, theme loaded…).
    Notice {
        text: String,
        error: bool,
    },
    /// The runtime switched to a theme.
    ThemeChanged(String),
    /// Where this window is connected (it changes when the embedded server's
    /// host quits and another window takes over) and how many other windows
    /// are joined to the embedded server this one hosts.
    Seat {
        server_url: String,
        joined_others: usize,
    },
}

/// Something `update` wants done outside the model.
// Moved once from `update` to the runtime (as `Msg` is the other way).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Send a command (through the outbox).
    Submit(Command),
    Quit,
    /// Suspend the process (Ctrl-Z): restore the terminal, stop, redraw on resume.
    Suspend,
    /// Write the post-incident review to a file.
    ExportReview {
        path: PathBuf,
        text: String,
    },
    /// Put text on the clipboard (OSC 52).
    CopyToClipboard(String),
    /// Load and switch to a theme by name.
    LoadTheme(String),
    /// Append a `:` command line to the history file.
    RememberCommand(String),
    /// Ring the terminal bell (BEL).
    Bell,
}
