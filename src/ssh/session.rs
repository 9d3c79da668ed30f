//! One SSH session channel: its pty and environment requests, then either
//! the war room TUI (a shell request) or a one-shot command (exec).
//!
//! The TUI runs the local TUI's own `Model`, `update` and `view`, drawing
//! into a buffer whose bytes go to the client through the SSH channel (which
//! respects the client's window: output nobody reads waits rather than piles
//! up, and a client that stops reading for `write_stall` is closed). Input
//! bytes are decoded by [`super::input`]; data comes from [`super::feed`].

use super::feed;
use super::input::Decoder;
use super::server::{Shared, Slot};
use crate::client::Replica;
use crate::client::sync::SyncMsg;
use crate::domain::Command;
use crate::server::auth::Caller;
use crate::server::streams::{Principal, StreamTicket};
use crate::store::KeyRecord;
use crate::tui::keymap::Keymap;
use crate::tui::{Effect, Identity, Model, Msg, Theme, update, view};
use chrono::Utc;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use russh::server::Msg as ServerMsg;
use russh::{Channel, ChannelMsg, ChannelReadHalf, ChannelWriteHalf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use uuid::Uuid;

/// The largest screen a seat draws; a bigger pty request (a 10,000-column
/// window) is drawn at this size rather than allocating for every cell asked.
pub const MAX_COLS: u16 = 1000;
pub const MAX_ROWS: u16 = 500;

/// How long a new channel may take to ask for a shell or a command.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the client asked for before its shell or command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Requested {
    /// `TERM` from the pty request.
    pub term: String,
    /// Columns × rows, when a pty was asked for.
    pub size: Option<(u16, u16)>,
    /// `COLORTERM`, when the client sends it (`ssh -o SetEnv=COLORTERM=truecolor`,
    /// or `SendEnv COLORTERM`).
    pub colorterm: Option<String>,
}

impl Requested {
    /// Whether the client's terminal takes 24-bit colour (else: 256 colours).
    pub fn truecolor(&self) -> bool {
        let ct = self.colorterm.as_deref().unwrap_or("").to_ascii_lowercase();
        let term = self.term.to_ascii_lowercase();
        ct == "truecolor"
            || ct == "24bit"
            || term.contains("truecolor")
            || term.contains("24bit")
            || term.ends_with("-direct")
    }

    /// The theme `name`, fitted to the client's colours.
    pub fn theme(&self, name: &str) -> (Theme, Option<String>) {
        let (theme, warning) = Theme::load(name, None);
        let theme = if self.truecolor() {
            theme
        } else {
            theme.for_256_colours()
        };
        (theme, warning)
    }
}

/// A pty size as asked, clamped to what a seat draws (at least 1×1).
pub fn clamp_size(cols: u32, rows: u32) -> (u16, u16) {
    let c = cols.clamp(1, u32::from(MAX_COLS)) as u16;
    let r = rows.clamp(1, u32::from(MAX_ROWS)) as u16;
    (c, r)
}

enum Start {
    Shell,
    Exec(Vec<u8>),
}

/// Serves one session channel to its end.
pub async fn run(shared: Arc<Shared>, user: KeyRecord, channel: Channel<ServerMsg>) {
    let (mut read, write) = channel.split();
    let mut req = Requested::default();
    let start = loop {
        let msg = match tokio::time::timeout(REQUEST_TIMEOUT, read.wait()).await {
            Ok(Some(m)) => m,
            Ok(None) | Err(_) => return,
        };
        match msg {
            ChannelMsg::RequestPty {
                term,
                col_width,
                row_height,
                ..
            } => {
                req.term = term;
                req.size = Some(clamp_size(col_width, row_height));
                if col_width > u32::from(MAX_COLS) || row_height > u32::from(MAX_ROWS) {
                    tracing::info!(
                        name = %user.name, col_width, row_height,
                        "ssh: pty larger than a seat draws; clamped to {MAX_COLS}×{MAX_ROWS}"
                    );
                }
            }
            ChannelMsg::SetEnv {
                variable_name,
                variable_value,
                ..
            } if variable_name == "COLORTERM" => req.colorterm = Some(variable_value),
            ChannelMsg::RequestShell { .. } => break Start::Shell,
            ChannelMsg::Exec { command, .. } => break Start::Exec(command),
            ChannelMsg::Eof | ChannelMsg::Close => return,
            _ => {}
        }
    };
    let Some(slot) = shared.take_slot() else {
        let line = format!(
            "warroom: the SSH seat is full: its limit is {} sessions at once; try again in a minute, or use `warroom --server URL`",
            shared.config.max_sessions
        );
        finish(&write, req.size.is_some(), &line, 1).await;
        return;
    };
    let code = match start {
        Start::Exec(command) => {
            let caller = Caller {
                name: user.name.clone(),
                role: user.role,
            };
            let out = super::exec::run(&shared.state, &caller, &command).await;
            let mut stdout = out.stdout;
            let mut stderr = out.stderr;
            if req.size.is_some() {
                // A pty turns \n into \r\n on a terminal; this one is ours to do.
                stdout = crlf(&stdout);
                stderr = crlf(&stderr);
            }
            if !stdout.is_empty() {
                let _ = write.data_bytes(stdout).await;
            }
            if !stderr.is_empty() {
                let _ = write.extended_data_bytes(1, stderr).await;
            }
            out.code
        }
        Start::Shell if req.size.is_none() => {
            let _ = write
                .extended_data_bytes(
                    1,
                    "warroom: the war room needs a terminal: connect with `ssh -t`, or name a command (`ssh HOST incidents`, `ssh HOST help`)\n"
                        .as_bytes()
                        .to_vec(),
                )
                .await;
            1
        }
        Start::Shell => tui(&shared, &user, &req, read, &write, slot).await,
    };
    let _ = write.exit_status(code).await;
    let _ = write.eof().await;
    let _ = write.close().await;
}

/// Says `line` and ends the channel with `code`.
async fn finish(write: &ChannelWriteHalf<ServerMsg>, tty: bool, line: &str, code: u32) {
    let text = if tty {
        format!("{line}\r\n")
    } else {
        format!("{line}\n")
    };
    let _ = write.extended_data_bytes(1, text.into_bytes()).await;
    let _ = write.exit_status(code).await;
    let _ = write.eof().await;
    let _ = write.close().await;
}

fn crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 16);
    for &b in bytes {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// What the seat's loop waits on, besides the TUI's own messages.
enum Input {
    Tui(Msg),
    /// A key, mouse or paste from the person (resets the idle clock).
    Person(Msg),
    /// The client closed the channel.
    Gone,
}

/// Why a TUI session ended: said on the client's terminal after the screen
/// is given back.
enum End {
    Quit,
    Said(String),
    /// Nothing more can be written (the client is gone or stalled).
    Silent,
}

/// The terminal a seat draws into: ratatui's crossterm backend writing to
/// memory, sent to the channel after each frame.
type SeatTerminal = Terminal<CrosstermBackend<Sink>>;

/// The bytes a frame wrote, shared with the loop that sends them.
#[derive(Clone, Default)]
struct Sink(Arc<std::sync::Mutex<Vec<u8>>>);

impl Sink {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn enter_sequence() -> Vec<u8> {
    use crossterm::event::{EnableBracketedPaste, EnableMouseCapture};
    let mut out = Vec::new();
    let _ = crossterm::queue!(
        out,
        crossterm::terminal::EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste,
        crossterm::cursor::Hide,
        crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
    );
    out
}

fn leave_sequence() -> Vec<u8> {
    use crossterm::event::{DisableBracketedPaste, DisableMouseCapture};
    let mut out = Vec::new();
    let _ = crossterm::queue!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    out
}

/// Sends `bytes`, waiting at most `stall` for the client to make room.
async fn send(
    write: &ChannelWriteHalf<ServerMsg>,
    bytes: Vec<u8>,
    stall: Duration,
) -> Result<(), End> {
    if bytes.is_empty() {
        return Ok(());
    }
    match tokio::time::timeout(stall, write.data_bytes(bytes)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(End::Silent),
        Err(_) => {
            tracing::info!("ssh: a client left its output unread for {stall:?}; closing");
            Err(End::Silent)
        }
    }
}

/// The war room TUI for one person; returns the exit status.
async fn tui(
    shared: &Arc<Shared>,
    user: &KeyRecord,
    req: &Requested,
    read: ChannelReadHalf,
    write: &ChannelWriteHalf<ServerMsg>,
    _slot: Slot,
) -> u32 {
    let state = &shared.state;
    let mut ticket: StreamTicket = match state.streams.open(Principal::SshKey(user.name.clone())) {
        Ok(t) => t,
        Err(e) => {
            finish(write, true, &format!("warroom: {e}"), 1).await;
            return 1;
        }
    };
    let caller = Caller {
        name: user.name.clone(),
        role: user.role,
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<Input>();

    // Input: the client's bytes and window changes.
    let input = tokio::spawn(read_input(read, tx.clone()));
    // Data: the log, in-process.
    let (sync_tx, mut sync_rx) = mpsc::unbounded_channel::<SyncMsg>();
    let follower = tokio::spawn(feed::follow(state.clone(), sync_tx));
    let fwd_tx = tx.clone();
    let forwarder = tokio::spawn(async move {
        while let Some(s) = sync_rx.recv().await {
            if fwd_tx.send(Input::Tui(Msg::Sync(s))).is_err() {
                break;
            }
        }
    });
    // Commands: one at a time, in the order typed (as the outbox sends them).
    let (cmd_tx, mut cmd_rx) = mpsc::unbounded_channel::<Command>();
    let submitter = {
        let (state, tx, caller) = (state.clone(), tx.clone(), caller.clone());
        tokio::spawn(async move {
            while let Some(cmd) = cmd_rx.recv().await {
                let result = feed::submit(&state, &caller, cmd).await;
                if tx.send(Input::Tui(Msg::Sync(result))).is_err() {
                    break;
                }
            }
        })
    };
    // The 1 s tick.
    let tick_tx = tx.clone();
    let ticker = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            every.tick().await;
            if tick_tx.send(Input::Tui(Msg::Tick(Utc::now()))).is_err() {
                break;
            }
        }
    });
    drop(tx);

    let end = seat_loop(
        shared,
        user,
        req,
        &caller,
        &mut rx,
        &cmd_tx,
        write,
        &mut ticket,
    )
    .await;
    for task in [input, follower, forwarder, submitter, ticker] {
        task.abort();
    }
    let (code, line) = match end {
        End::Quit => (0, None),
        End::Said(line) => (1, Some(line)),
        End::Silent => return 1,
    };
    let mut out = leave_sequence();
    if let Some(line) = line {
        out.extend_from_slice(format!("warroom: {line}\r\n").as_bytes());
    }
    let _ = send(write, out, Duration::from_secs(2)).await;
    code
}

async fn read_input(mut read: ChannelReadHalf, tx: mpsc::UnboundedSender<Input>) {
    let mut decoder = Decoder::default();
    while let Some(msg) = read.wait().await {
        let sent = match msg {
            ChannelMsg::Data { data } => decoder
                .feed(&data)
                .into_iter()
                .try_for_each(|m| tx.send(Input::Person(m)).map_err(|_| ())),
            ChannelMsg::WindowChange {
                col_width,
                row_height,
                ..
            } => {
                let (c, r) = clamp_size(col_width, row_height);
                tx.send(Input::Tui(Msg::Resize(c, r))).map_err(|_| ())
            }
            ChannelMsg::Eof | ChannelMsg::Close => break,
            _ => Ok(()),
        };
        if sent.is_err() {
            return;
        }
    }
    let _ = tx.send(Input::Gone);
}

/// The message loop: drain, update, carry out effects, draw once if changed.
#[allow(clippy::too_many_arguments)]
async fn seat_loop(
    shared: &Arc<Shared>,
    user: &KeyRecord,
    req: &Requested,
    caller: &Caller,
    rx: &mut mpsc::UnboundedReceiver<Input>,
    cmd_tx: &mpsc::UnboundedSender<Command>,
    write: &ChannelWriteHalf<ServerMsg>,
    ticket: &mut StreamTicket,
) -> End {
    let state = &shared.state;
    let stall = shared.config.write_stall;
    let idle = shared.config.idle;
    let (cols, rows) = req.size.unwrap_or((80, 24));
    let mut model = Model::new(
        Replica::default(),
        (*state.policy).clone(),
        Identity {
            name: caller.name.clone(),
            role: caller.role,
        },
        format!("ssh seat ({})", user.name),
        Utc::now(),
        Uuid::new_v4(),
    );
    model.keymap = Keymap::default();
    let (mut theme, _) = req.theme(crate::tui::theme::DEFAULT_THEME);
    model.theme_name = theme.name.clone();
    update(&mut model, Msg::Resize(cols, rows));
    update(
        &mut model,
        Msg::Notice {
            text: format!(
                "signed in over SSH as {} ({}); ? for keys, q to leave",
                user.name,
                user.role.as_str()
            ),
            error: false,
        },
    );
    let sink = Sink::default();
    let mut terminal: SeatTerminal = match Terminal::with_options(
        CrosstermBackend::new(sink.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, cols, rows)),
        },
    ) {
        Ok(t) => t,
        Err(e) => return End::Said(format!("cannot set up the screen: {e}")),
    };
    let mut out = enter_sequence();
    if let Err(e) = terminal.draw(|f| view(&model, &theme, f)) {
        return End::Said(format!("cannot draw: {e}"));
    }
    out.extend(sink.take());
    model.dirty = false;
    if let Err(end) = send(write, out, stall).await {
        return end;
    }
    let mut last_input = Instant::now();
    let mut stop = state.stop.clone();
    loop {
        let first = tokio::select! {
            m = rx.recv() => match m {
                Some(m) => m,
                None => return End::Silent,
            },
            reason = ticket.ended() => return End::Said(format!("{reason}; the session has ended")),
            _ = super::server::stopped(&mut stop) => {
                return End::Said("the war room server is shutting down".into());
            }
        };
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let mut msgs = Vec::with_capacity(batch.len());
        for input in batch {
            match input {
                Input::Tui(m) => msgs.push(m),
                Input::Person(m) => {
                    last_input = Instant::now();
                    msgs.push(m);
                }
                Input::Gone => return End::Silent,
            }
        }
        if last_input.elapsed() >= idle {
            return End::Said(format!(
                "no input for {}; the session was closed (the war room goes on: reconnect any time)",
                spoken(idle)
            ));
        }
        let mut out: Vec<u8> = Vec::new();
        let mut effects = Vec::new();
        for msg in crate::tui::run::coalesce(msgs) {
            if let Msg::Resize(c, r) = msg
                && terminal.resize(Rect::new(0, 0, c, r)).is_ok()
            {
                out.extend(sink.take());
                model.dirty = true;
            }
            effects.extend(update(&mut model, msg));
        }
        for effect in effects {
            match effect {
                Effect::Quit => return End::Quit,
                Effect::Submit(cmd) => {
                    update(&mut model, Msg::Sync(SyncMsg::Queued { cmd: cmd.clone() }));
                    if cmd_tx.send(cmd).is_err() {
                        return End::Said("the command path stopped".into());
                    }
                }
                Effect::Suspend => notice(
                    &mut model,
                    "Ctrl-Z does not suspend an SSH seat; q leaves it",
                    true,
                ),
                Effect::ExportReview { .. } => notice(
                    &mut model,
                    "an SSH seat writes no files on the server; print the review with `ssh HOST review INC-n > review.md`",
                    true,
                ),
                Effect::CopyToClipboard(text) => {
                    // OSC 52: the client's terminal puts it on its clipboard.
                    out.extend_from_slice(crate::tui::run::osc52(&text).as_bytes());
                }
                Effect::LoadTheme(name) => {
                    let (t, warning) = req.theme(&name);
                    let known = warning.is_none();
                    theme = t;
                    update(&mut model, Msg::ThemeChanged(theme.name.clone()));
                    let text = warning.unwrap_or_else(|| format!("theme {name}"));
                    notice(&mut model, &text, !known);
                }
                // The history lives in the model for the session; nothing on disk.
                Effect::RememberCommand(_) => {}
                Effect::Bell => out.push(0x07),
            }
        }
        if model.dirty {
            if let Err(e) = terminal.draw(|f| view(&model, &theme, f)) {
                return End::Said(format!("cannot draw: {e}"));
            }
            out.extend(sink.take());
            model.dirty = false;
        }
        if let Err(end) = send(write, out, stall).await {
            return end;
        }
    }
}

/// `30 min`, `90 s`: a limit as a person says it.
fn spoken(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 && s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

fn notice(model: &mut Model, text: &str, error: bool) {
    update(
        model,
        Msg::Notice {
            text: text.to_string(),
            error,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_follow_term_and_colorterm() {
        let mut r = Requested {
            term: "xterm-256color".into(),
            ..Requested::default()
        };
        assert!(!r.truecolor());
        r.colorterm = Some("truecolor".into());
        assert!(r.truecolor());
        r.colorterm = None;
        r.term = "xterm-direct".into();
        assert!(r.truecolor());
        let (t, _) = Requested::default().theme("dark");
        assert!(
            t.roles()
                .iter()
                .all(|(_, c)| !matches!(c, ratatui::style::Color::Rgb(..)))
        );
    }

    #[test]
    fn huge_or_zero_sizes_are_clamped() {
        assert_eq!(clamp_size(10_000, 50), (MAX_COLS, 50));
        assert_eq!(clamp_size(0, 0), (1, 1));
        assert_eq!(clamp_size(u32::MAX, u32::MAX), (MAX_COLS, MAX_ROWS));
    }

    #[test]
    fn limits_are_said_in_minutes_or_seconds() {
        assert_eq!(spoken(Duration::from_secs(1800)), "30 min");
        assert_eq!(spoken(Duration::from_secs(90)), "90 s");
    }

    #[test]
    fn newlines_become_crlf_for_a_pty() {
        assert_eq!(crlf(b"a\nb\n"), b"a\r\nb\r\n");
    }
}
