//! Keys while an overlay is open: help, deliveries, the full entry, yes/no
//! questions and the `:` / `/` prompts with history and completion.

use super::commands::{retry_delivery, run_parsed, send};
use super::forms::form_key;
use super::keys::{global_key, quit};
use super::navigation::{page_rows, search, step};
use crate::tui::command_line;
use crate::tui::command_line::{CompleteCtx, Ctx};
use crate::tui::keymap::{Act, Context};
use crate::tui::model::{Model, OnYes, Overlay, Prompt, PromptKind, Screen, new_editor};
use crate::tui::msg::Effect;
use crossterm::event::{KeyCode, KeyEvent};

pub(super) fn overlay_key(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    let Some(overlay) = m.overlay.take() else {
        return vec![];
    };
    match overlay {
        Overlay::Help { scroll } => {
            let act = m.keymap.lookup(&[Context::Help, Context::Global], &k);
            let page = page_rows(m) as i64;
            let lines = crate::tui::view::help_lines(&m.keymap).len();
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
                .map_or(0, |i| crate::tui::view::delivery_rows(i).len());
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
                OnYes::Discard => vec![],
                OnYes::Submit { incident, action } => send(m, incident, *action),
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

pub(super) fn prompt_key(m: &mut Model, mut p: Box<Prompt>, k: KeyEvent) -> Vec<Effect> {
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
                PromptKind::Search if m.screen == Screen::Board => {
                    let q = text.trim().to_lowercase();
                    m.board.filter = Some(q).filter(|q| !q.is_empty());
                    m.board.moved = false;
                    m.refresh_board();
                    return vec![];
                }
                PromptKind::Search => {
                    let q = text.trim().to_lowercase();
                    if q.is_empty() {
                        return vec![];
                    }
                    if let Some(room) = m.room_mut() {
                        room.timeline.search = Some(q);
                    }
                    search(m, true, true);
                    return vec![];
                }
                PromptKind::Command => {
                    let mut fx = remember(m, &text);
                    let incident = m.focused_incident();
                    let ctx = Ctx {
                        policy: &m.policy,
                        world: &m.replica.world,
                        incident,
                        now: m.server_now(),
                    };
                    match command_line::parse(&text, &ctx) {
                        Ok(parsed) => {
                            fx.extend(run_parsed(m, parsed));
                            return fx;
                        }
                        Err(e) => {
                            p.error = Some(e);
                            p.recall = None;
                            m.overlay = Some(Overlay::Prompt(p));
                            return fx;
                        }
                    }
                }
            }
        }
        Some(Act::ClearLine) => {
            p.set_text("");
            p.error = None;
            p.recall = None;
        }
        Some(Act::Up | Act::Down) if p.kind == PromptKind::Command => {
            recall(m, &mut p, act == Some(Act::Up));
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
                    let themes = crate::tui::theme::Theme::names();
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
                let mut editor = new_editor(&line);
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

/// How many command lines the history keeps.
pub(super) const HISTORY: usize = 200;

/// Keeps a command line in the history (not a repeat of the last one), and
/// asks the runtime to save it — a refused line too: it is the one most
/// worth fixing with Up.
pub(super) fn remember(m: &mut Model, line: &str) -> Vec<Effect> {
    let line = line.trim();
    if line.is_empty() || m.history.last().is_some_and(|l| l == line) {
        return vec![];
    }
    m.history.push(line.to_string());
    if m.history.len() > HISTORY {
        m.history.remove(0);
    }
    vec![Effect::RememberCommand(line.to_string())]
}

/// Up (older) / Down (newer) through the history; past the newest, the line
/// as it was typed comes back.
pub(super) fn recall(m: &Model, p: &mut Prompt, older: bool) {
    let n = m.history.len();
    if n == 0 {
        return;
    }
    let next = match (p.recall.as_ref().map(|(i, _)| *i), older) {
        (None, true) => Some(0),
        (None, false) => return,
        (Some(i), true) => Some((i + 1).min(n - 1)),
        (Some(0), false) => None,
        (Some(i), false) => Some(i - 1),
    };
    match next {
        Some(i) => {
            let typed = p.recall.take().map_or_else(|| p.text(), |(_, t)| t);
            p.set_text(&m.history[n - 1 - i]);
            p.recall = Some((i, typed));
        }
        None => {
            let typed = p.recall.take().map(|(_, t)| t).unwrap_or_default();
            p.set_text(&typed);
        }
    }
    p.error = None;
}
