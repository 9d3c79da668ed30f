//! The runtime: terminal setup and restore, and the single message loop.
//!
//! Three tasks feed one channel — terminal input (crossterm's `EventStream`),
//! a 1 s tick (the only place the TUI reads the clock) and the sync task —
//! and the loop drains whatever is queued, runs `update` on each message,
//! carries out the effects, and draws once if anything changed. It sleeps
//! in `recv` otherwise: no polling, no busy loop.

use super::keymap::Keymap;
use super::model::{Identity, Model};
use super::msg::{Effect, Msg, SyncMsg};
use super::theme::Theme;
use super::{update, view};
use crate::client::Replica;
use crate::client::api::Api;
use crate::client::sync::Sync;
use crate::domain::Policy;
use crate::protocol::Me;
use anyhow::Context as _;
use chrono::Utc;
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
    EventStream,
};
use futures_util::StreamExt;
use ratatui::DefaultTerminal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;
use uuid::Uuid;

/// What the TUI needs from the command line and the config file.
#[derive(Clone, Debug)]
pub struct Options {
    pub api: Api,
    /// The outbox journal (one per server: commands typed offline wait here).
    pub outbox: PathBuf,
    /// Theme name (`dark`, `light`, `high-contrast`, `colorblind`, or a user theme).
    pub theme: String,
    /// The user's themes directory, whose files override the embedded themes.
    pub themes_dir: Option<PathBuf>,
    /// `[keys]` from the config file: key → action name.
    pub keys: BTreeMap<String, String>,
    /// How many other windows are joined to the embedded server this window
    /// hosts (read on every tick, for the warning before quitting).
    pub joined: Option<JoinedCount>,
    /// Shown on the message line at start (e.g. the demo's status page URL).
    pub info: Vec<String>,
    /// Errors to show on screen as soon as it opens (a demo that could not start).
    pub startup_errors: Vec<String>,
    /// Ring the bell / flash the message line when something needs attention.
    pub bell: bool,
    pub flash: bool,
}

/// Counts the other windows joined to this window's embedded server.
#[derive(Clone)]
pub struct JoinedCount(pub std::sync::Arc<dyn Fn() -> usize + Send + std::marker::Sync>);

impl std::fmt::Debug for JoinedCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JoinedCount")
    }
}

/// `me` and the policy as last fetched, so a TUI started while the server is
/// unreachable can still open (showing the outbox, taking notes offline).
#[derive(Serialize, Deserialize)]
struct SessionCache {
    server: String,
    me: Me,
    policy: Policy,
}

fn cache_path(outbox: &Path) -> PathBuf {
    outbox.with_extension("session.json")
}

/// The `:` command history, one line each, beside the outbox (per server and identity).
fn history_path(outbox: &Path) -> PathBuf {
    outbox.with_extension("history")
}

/// The last command lines saved, oldest first (none when there is no file yet).
fn load_history(outbox: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(history_path(outbox)).unwrap_or_default();
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let skip = lines.len().saturating_sub(200);
    lines.into_iter().skip(skip).collect()
}

/// Who we are and the policy: from the server, else from the last session's cache.
async fn session(api: &Api, outbox: &Path) -> anyhow::Result<(Me, Policy, Option<String>)> {
    let fetched =
        async { Ok::<_, crate::client::api::ClientError>((api.me().await?, api.policy().await?)) }
            .await;
    let path = cache_path(outbox);
    match fetched {
        Ok((me, policy)) => {
            let cache = SessionCache {
                server: api.base(),
                me: me.clone(),
                policy: policy.clone(),
            };
            if let Ok(json) = serde_json::to_vec(&cache) {
                // The cache only helps a later offline start; failing to write it is not fatal.
                if let Some(dir) = path.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                let _ = std::fs::write(&path, json);
            }
            Ok((me, policy, None))
        }
        Err(e) if e.is_retryable() => {
            let cached = std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<SessionCache>(&b).ok())
                .filter(|c| c.server == api.base());
            match cached {
                Some(c) => Ok((
                    c.me,
                    c.policy,
                    Some(format!(
                        "{e}; working offline with the policy and identity of the last session"
                    )),
                )),
                None => Err(anyhow::anyhow!(
                    "{e} (and no earlier session to work offline from)"
                )),
            }
        }
        Err(e @ crate::client::api::ClientError::Rejected { .. }) => {
            Err(anyhow::anyhow!("{}: {e}", api.base()))
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

/// The terminal, taken for the TUI and given back when dropped, whatever happened.
///
/// Not `ratatui::init`/`restore`: their panic hook and `restore` report
/// failures with `eprintln!`, which itself panics when the terminal has gone
/// away (a closed window: every write fails with EIO) — a panic inside the
/// panic hook aborts the process, skipping every cleanup (the demo's
/// temporary store was left behind that way). Here every step of giving the
/// terminal back is best effort and silent.
struct Tty(Option<DefaultTerminal>);

impl Tty {
    fn enter() -> anyhow::Result<Tty> {
        let terminal = take_terminal().context("cannot set up the terminal")?;
        let tty = Tty(Some(terminal));
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            give_back_terminal();
            previous(info);
        }));
        Ok(tty)
    }
}

impl std::ops::Deref for Tty {
    type Target = DefaultTerminal;
    fn deref(&self) -> &DefaultTerminal {
        self.0.as_ref().expect("only drop takes the terminal out")
    }
}

impl std::ops::DerefMut for Tty {
    fn deref_mut(&mut self) -> &mut DefaultTerminal {
        self.0.as_mut().expect("only drop takes the terminal out")
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        if let Some(mut terminal) = self.0.take()
            && terminal.show_cursor().is_err()
        {
            // The terminal is gone; `Terminal`'s own drop would retry and
            // `eprintln!` the failure (a panic on a closed terminal). Nothing
            // is left to release but memory, and the process is ending.
            std::mem::forget(terminal);
        }
        give_back_terminal();
    }
}

/// Raw mode, the alternate screen, mouse and bracketed paste.
fn take_terminal() -> std::io::Result<DefaultTerminal> {
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(
        std::io::stdout(),
        crossterm::terminal::EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste
    )?;
    ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))
}

/// Undoes [`take_terminal`], each step tried even when the one before failed.
fn give_back_terminal() {
    let _ = crossterm::execute!(
        std::io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste
    );
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Runs the TUI until the user quits. Call it on a tokio runtime.
pub async fn run(opts: Options) -> anyhow::Result<()> {
    let (me, policy, offline_note) = session(&opts.api, &opts.outbox).await?;
    let (keymap, key_warnings) = Keymap::with_overrides(&opts.keys);
    let (mut theme, theme_warning) = Theme::load(&opts.theme, opts.themes_dir.as_deref());

    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let (sync_tx, mut sync_rx) = mpsc::unbounded_channel::<SyncMsg>();
    let sync = Sync::start(opts.api.clone(), &opts.outbox, 0, sync_tx)
        .with_context(|| format!("cannot open the outbox {}", opts.outbox.display()))?;

    let mut model = Model::new(
        Replica::default(),
        policy,
        Identity {
            name: me.name.clone(),
            role: me.role,
        },
        opts.api.base(),
        Utc::now(),
        Uuid::new_v4(),
    );
    model.keymap = keymap;
    model.history = load_history(&opts.outbox);
    model.bell = opts.bell;
    model.flash = opts.flash;
    model.theme_name = theme.name.clone();
    if let Some(offset) = opts.api.clock_offset() {
        model.offset = offset;
    }
    let mut notices: Vec<String> = key_warnings;
    notices.extend(theme_warning);
    notices.extend(offline_note);
    // Last, so it is the one left on the message line.
    notices.extend(opts.startup_errors.iter().cloned());

    let mut terminal = Tty::enter()?;
    let size = terminal.size().context("cannot read the terminal size")?;
    update(&mut model, Msg::Resize(size.width, size.height));
    // Notes first: an error, if any, is what stays on the message line.
    for n in &opts.info {
        update(
            &mut model,
            Msg::Notice {
                text: n.clone(),
                error: false,
            },
        );
    }
    for n in notices {
        update(
            &mut model,
            Msg::Notice {
                text: n,
                error: true,
            },
        );
    }

    // Terminal input.
    let input_tx = tx.clone();
    tokio::spawn(async move {
        let mut events = EventStream::new();
        while let Some(ev) = events.next().await {
            let msg = match ev {
                Ok(Event::Key(k)) => Msg::Key(k),
                Ok(Event::Mouse(m)) => Msg::Mouse(m),
                Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                Ok(Event::Paste(s)) => Msg::Paste(s),
                Ok(_) => continue,
                Err(_) => break,
            };
            if input_tx.send(msg).is_err() {
                break;
            }
        }
    });
    // The 1 s tick.
    let tick_tx = tx.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            every.tick().await;
            if tick_tx.send(Msg::Tick(Utc::now())).is_err() {
                break;
            }
        }
    });
    // The sync task's reports.
    let sync_fwd = tx.clone();
    tokio::spawn(async move {
        while let Some(s) = sync_rx.recv().await {
            if sync_fwd.send(Msg::Sync(s)).is_err() {
                break;
            }
        }
    });
    drop(tx);

    terminal.draw(|f| view(&model, &theme, f))?;
    model.dirty = false;
    // SIGTERM / SIGHUP end the loop like a quit: the guard restores the
    // terminal and the caller shuts the embedded server down cleanly; the
    // outbox on disk keeps anything not yet delivered.
    let mut stop = std::pin::pin!(termination());
    loop {
        let first = tokio::select! {
            msg = rx.recv() => match msg {
                Some(m) => m,
                None => break,
            },
            name = &mut stop => {
                tracing::info!("{name}: leaving the war room");
                return Ok(());
            }
        };
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let mut effects = Vec::new();
        for msg in coalesce(batch) {
            effects.extend(update(&mut model, msg));
        }
        for effect in effects {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Submit(cmd) => {
                    if let Err(e) = sync.submit(cmd) {
                        update(
                            &mut model,
                            Msg::Notice {
                                text: format!("could not write the outbox: {e}"),
                                error: true,
                            },
                        );
                    }
                }
                Effect::Suspend => {
                    suspend(&mut terminal)?;
                    // The window may have been resized while we were stopped.
                    if let Ok(size) = terminal.size() {
                        update(&mut model, Msg::Resize(size.width, size.height));
                    }
                    model.dirty = true;
                }
                Effect::ExportReview { path, text } => {
                    let msg = match std::fs::write(&path, text) {
                        Ok(()) => Msg::Notice {
                            text: format!(
                                "review written to {}",
                                std::fs::canonicalize(&path).unwrap_or(path).display()
                            ),
                            error: false,
                        },
                        Err(e) => Msg::Notice {
                            text: format!("could not write {}: {e}", path.display()),
                            error: true,
                        },
                    };
                    update(&mut model, msg);
                }
                Effect::Bell => {
                    let mut out = std::io::stdout();
                    let _ = out.write_all(b"\x07").and_then(|()| out.flush());
                }
                Effect::RememberCommand(line) => {
                    // History is a convenience: failing to save it is only logged.
                    let path = history_path(&opts.outbox);
                    let saved = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)
                        .and_then(|mut f| writeln!(f, "{}", line.replace('\n', " ")));
                    if let Err(e) = saved {
                        tracing::warn!("cannot save the command history {}: {e}", path.display());
                    }
                }
                Effect::CopyToClipboard(text) => {
                    // OSC 52: the terminal puts it on the clipboard, over SSH too.
                    let seq = osc52(&text);
                    let mut out = std::io::stdout();
                    let _ = out.write_all(seq.as_bytes()).and_then(|()| out.flush());
                }
                Effect::LoadTheme(name) => {
                    let (t, warning) = Theme::load(&name, opts.themes_dir.as_deref());
                    let known = warning.is_none();
                    theme = t;
                    update(&mut model, Msg::ThemeChanged(theme.name.clone()));
                    let text = warning.unwrap_or_else(|| format!("theme {name}"));
                    update(
                        &mut model,
                        Msg::Notice {
                            text,
                            error: !known,
                        },
                    );
                }
            }
        }
        let (server_url, joined_others) = (
            opts.api.base(),
            opts.joined.as_ref().map_or(0, |count| (count.0)()),
        );
        if server_url != model.server_url || joined_others != model.joined_others {
            update(
                &mut model,
                Msg::Seat {
                    server_url,
                    joined_others,
                },
            );
        }
        if model.dirty {
            terminal.draw(|f| view(&model, &theme, f))?;
            model.dirty = false;
        }
    }
    Ok(())
}

/// Joins runs of event batches into one (the SSH seat's loop too), so a burst (a long catch-up, the
/// scheduler writing many escalations) re-sorts the board once per drain of
/// the channel rather than once per network chunk.
pub(crate) fn coalesce(msgs: Vec<Msg>) -> Vec<Msg> {
    let mut out: Vec<Msg> = Vec::with_capacity(msgs.len());
    for msg in msgs {
        match (out.last_mut(), msg) {
            (Some(Msg::Sync(SyncMsg::Events(acc))), Msg::Sync(SyncMsg::Events(more))) => {
                acc.extend(more);
            }
            (_, msg) => out.push(msg),
        }
    }
    out
}

/// Resolves on SIGTERM or SIGHUP (a closed terminal window or SSH session).
async fn termination() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(mut term), Ok(mut hup)) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = hup.recv() => "SIGHUP",
            },
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        std::future::pending().await
    }
}

/// Ctrl-Z: give the terminal back, stop, and take it again on `fg`.
fn suspend(terminal: &mut DefaultTerminal) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let _ = terminal.show_cursor();
        give_back_terminal();
        // SIGTSTP to ourselves; `kill` returns once we have been continued.
        let _ = std::process::Command::new("kill")
            .args(["-TSTP", &std::process::id().to_string()])
            .status();
        *terminal = take_terminal()?;
        // Not `terminal.clear()`: it asks the terminal for the cursor position
        // and waits for the answer, which the input task (still reading stdin)
        // swallows — the read times out and the TUI died on every `fg`. A
        // fresh `Terminal` has empty buffers, so clearing the screen here and
        // drawing once redraws everything.
        crossterm::execute!(
            std::io::stdout(),
            crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
        )?;
    }
    #[cfg(not(unix))]
    {
        let _ = terminal;
    }
    Ok(())
}

/// The OSC 52 sequence that puts `text` on the terminal's clipboard
/// (standard base64 with padding, as terminals expect).
pub fn osc52(text: &str) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\u{1b}]52;c;{b64}\u{7}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_carries_standard_padded_base64() {
        let b64 = |t: &str| {
            osc52(t)
                .strip_prefix("\u{1b}]52;c;")
                .and_then(|s| s.strip_suffix('\u{7}'))
                .map(str::to_string)
        };
        assert_eq!(b64("").as_deref(), Some(""));
        assert_eq!(b64("f").as_deref(), Some("Zg=="));
        assert_eq!(b64("fo").as_deref(), Some("Zm8="));
        assert_eq!(b64("foobar").as_deref(), Some("Zm9vYmFy"));
        assert_eq!(b64("INC-1 ✓").as_deref(), Some("SU5DLTEg4pyT"));
    }
}

#[cfg(test)]
mod coalesce_tests {
    use super::*;

    #[test]
    fn adjacent_event_batches_merge_and_order_is_kept() {
        let rec = |seq: u64| {
            serde_json::from_value::<crate::domain::Recorded>(serde_json::json!({
                "seq": seq,
                "recorded_at": "2026-11-23T10:00:00Z",
                "id": uuid::Uuid::new_v4(),
                "incident": uuid::Uuid::nil(),
                "actor": "a",
                "occurred_at": "2026-11-23T10:00:00Z",
                "type": "acknowledged"
            }))
            .ok()
        };
        let events = |seqs: &[u64]| {
            Msg::Sync(SyncMsg::Events(
                seqs.iter().filter_map(|s| rec(*s)).collect(),
            ))
        };
        let tick = Msg::Tick(chrono::Utc::now());
        let out = coalesce(vec![events(&[1, 2]), events(&[3]), tick, events(&[4])]);
        assert_eq!(out.len(), 3);
        match &out[0] {
            Msg::Sync(SyncMsg::Events(e)) => {
                assert_eq!(e.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
            }
            other => panic!("expected events, got {other:?}"),
        }
        assert!(matches!(out[1], Msg::Tick(_)));
    }
}
