//! `view(&Model, &Theme, &mut Frame)`: pure rendering. It reads the model and
//! never changes it; it builds only what is visible (the board's visible rows,
//! the timeline's visible window), so a frame costs the same with ten
//! incidents or ten thousand.
//!
//! Everything written by others (titles, notes, names) goes through
//! `sanitize_line` again here, whatever the server already did.

mod board;
mod deliveries;
mod history;
mod overlay;
mod review;
mod war_room;
mod wrap;

pub use deliveries::delivery_rows;
pub use overlay::{HelpLine, help_lines, help_lines_for};

use super::layout::{self, MIN_HEIGHT, MIN_WIDTH};
use super::model::{Level, Model, Overlay, Place, Screen};
use super::msg::LinkState;
use super::theme::Theme;
use crate::domain::sanitize::sanitize_line;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

/// Draws the whole screen.
pub fn view(m: &Model, theme: &Theme, f: &mut Frame<'_>) {
    let area = f.area();
    let base = Style::default().fg(theme.text).bg(theme.background);
    f.buffer_mut().set_style(area, base);
    if layout::too_small(area) {
        too_small(m, theme, f, area);
        return;
    }
    let bands = layout::bands(area, layout::message_rows(m));
    match &m.screen {
        Screen::Board => board::render(m, theme, f, bands.body),
        Screen::WarRoom(_) => war_room::render(m, theme, f, bands.body),
        Screen::Review(_) => review::render(m, theme, f, bands.body),
        Screen::History(h) => history::render(m, theme, f, bands.body, h),
    }
    message_line(m, theme, f, bands.message);
    status_bar(m, theme, f, bands.status);
    match &m.overlay {
        Some(Overlay::Help { scroll }) => overlay::help(m, theme, f, bands.body, *scroll),
        Some(Overlay::Entry { row }) => overlay::entry(m, theme, f, bands.body, *row),
        Some(Overlay::Deliveries { incident, selected }) => {
            deliveries::render(m, theme, f, bands.body, *incident, *selected)
        }
        Some(Overlay::Form(form)) => overlay::form(m, theme, f, bands.body, form),
        Some(Overlay::Confirm(c)) => overlay::confirm(theme, f, bands.body, c),
        Some(Overlay::Prompt(p)) => overlay::prompt(m, theme, f, area, p),
        None => {}
    }
}

/// Only this shows below the minimum size, and only quitting acts (see
/// `update`): keys typed blind must not declare what nobody can see. A
/// question about quitting (a draft would be lost) is shown so it can be answered.
fn too_small(m: &Model, theme: &Theme, f: &mut Frame<'_>, area: Rect) {
    let mut text = format!(
        "terminal too small: {}×{}, need {MIN_WIDTH}×{MIN_HEIGHT}; enlarge it (q quits)",
        area.width, area.height
    );
    if let Some(Overlay::Confirm(c)) = &m.overlay {
        for line in &c.lines {
            text.push(' ');
            text.push_str(line);
        }
    }
    let lines = (text.chars().count() as u16).div_ceil(area.width.max(1));
    let y = area.y + area.height.saturating_sub(lines) / 2;
    let r = Rect::new(area.x, y, area.width, area.height - (y - area.y));
    f.render_widget(
        Paragraph::new(text)
            .style(
                Style::default()
                    .fg(theme.error)
                    .add_modifier(Modifier::BOLD),
            )
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        r,
    );
}

/// Text from others, made safe and single-line.
pub(crate) fn clean(s: &str) -> String {
    sanitize_line(s)
}

/// Display width of a string (terminal cells).
pub(crate) fn width(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        Span::raw(s).width()
    }
}

/// Cuts `s` to at most `w` cells, ending in `…` when cut.
pub(crate) fn fit(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    let mut buf = [0u8; 4];
    for c in s.chars() {
        let cw = Span::raw(&*c.encode_utf8(&mut buf)).width();
        if used + cw > w - 1 {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out
}

/// `s` cut or padded to exactly `w` cells.
pub(crate) fn pad(s: &str, w: usize) -> String {
    let t = fit(s, w);
    let n = w.saturating_sub(width(&t));
    format!("{t}{}", " ".repeat(n))
}

/// `s` right-aligned in `w` cells.
pub(crate) fn rpad(s: &str, w: usize) -> String {
    let t = fit(s, w);
    let n = w.saturating_sub(width(&t));
    format!("{}{t}", " ".repeat(n))
}

/// A bordered panel; focused panels get the focus colour.
pub(crate) fn panel<'a>(theme: &Theme, title: impl Into<Line<'a>>, focused: bool) -> Block<'a> {
    let border = if focused { theme.focus } else { theme.border };
    Block::bordered()
        .border_style(Style::default().fg(border))
        .title(
            title.into().style(
                Style::default()
                    .fg(if focused { theme.focus } else { theme.title })
                    .add_modifier(Modifier::BOLD),
            ),
        )
}

/// Formats the clock offset: `+0.3s`, `-1.2s`, `+2m 05s`.
pub fn offset_words(d: chrono::Duration) -> String {
    let ms = d.num_milliseconds();
    let sign = if ms < 0 { "-" } else { "+" };
    let ms = ms.unsigned_abs();
    if ms >= 60_000 {
        format!("{sign}{}m {:02}s", ms / 60_000, (ms % 60_000) / 1000)
    } else {
        format!("{sign}{}.{}s", ms / 1000, (ms % 1000) / 100)
    }
}

fn status_bar(m: &Model, theme: &Theme, f: &mut Frame<'_>, area: Rect) {
    let (word, color) = match m.link {
        LinkState::Connecting => ("… CONNECTING".to_string(), theme.status_reconnecting),
        LinkState::Live => ("● LIVE".to_string(), theme.status_live),
        LinkState::Reconnecting { attempt } => (
            format!("◌ RECONNECTING (attempt {attempt})"),
            theme.status_reconnecting,
        ),
        LinkState::Offline => ("○ OFFLINE".to_string(), theme.status_offline),
        LinkState::Refused => ("⊘ TOKEN REFUSED".to_string(), theme.status_offline),
    };
    let queued = m.outbox.max(m.pending.len());
    let mut spans = vec![Span::styled(
        format!(" {word}"),
        Style::default().fg(color).add_modifier(Modifier::BOLD),
    )];
    if queued > 0 {
        spans.push(Span::styled(
            format!(" {queued} queued"),
            Style::default()
                .fg(theme.pending)
                .add_modifier(Modifier::BOLD),
        ));
    }
    let sep = || Span::styled(" │ ", Style::default().fg(theme.border));
    spans.push(sep());
    spans.push(Span::styled(
        format!("server clock {}", offset_words(m.offset)),
        Style::default().fg(theme.muted),
    ));
    spans.push(sep());
    spans.push(Span::styled(
        clean(&m.me.name),
        Style::default().fg(theme.text).add_modifier(Modifier::BOLD),
    ));
    spans.push(Span::styled(
        format!(" ({})", m.me.role.as_str()),
        Style::default().fg(theme.muted),
    ));
    spans.push(sep());
    let used: usize = spans.iter().map(Span::width).sum();
    let room = (area.width as usize).saturating_sub(used);
    spans.push(Span::styled(
        fit(&clean(&m.server_url), room),
        Style::default().fg(theme.muted),
    ));
    let left = Line::from(spans);
    let hints = hints(m);
    let hint_w = width(&hints) as u16;
    let left_w = left.width() as u16;
    f.render_widget(Paragraph::new(left), area);
    if left_w + 2 + hint_w <= area.width {
        let r = Rect::new(area.x + area.width - hint_w - 1, area.y, hint_w, 1);
        f.render_widget(
            Paragraph::new(Span::styled(hints, Style::default().fg(theme.muted))),
            r,
        );
    }
}

/// The few keys that matter most on the current screen, from the keymap,
/// and only those this window's token role may use: a viewer is not shown
/// "d declare" to be refused after filling in the form.
fn hints(m: &Model) -> String {
    use super::keymap::{Act, Context};
    let offered_to_me = m.focused_incident().is_some_and(|inc| {
        inc.offers
            .values()
            .any(|o| crate::domain::handoff::same_person(&o.to, &m.me.name))
    });
    // The screen's two most useful keys this role may use, then the command line and help.
    let pick: &[(Context, Act, &str)] = match m.screen.place() {
        Place::Board => &[
            (Context::Board, Act::Open, "open"),
            (Context::Board, Act::Declare, "declare"),
            (Context::Board, Act::History, "history"),
        ],
        Place::WarRoom(_) if offered_to_me => &[
            (Context::WarRoom, Act::AcceptRole, "take role"),
            (Context::WarRoom, Act::DeclineRole, "decline"),
        ],
        Place::WarRoom(_) => &[
            (Context::WarRoom, Act::Note, "note"),
            (Context::WarRoom, Act::PostUpdate, "update"),
            (Context::WarRoom, Act::Acknowledge, "ack"),
            (Context::WarRoom, Act::Review, "review"),
        ],
        Place::History => &[
            (Context::History, Act::Open, "open"),
            (Context::History, Act::Reopen, "reopen"),
            (Context::History, Act::Review, "review"),
        ],
        Place::Review(_) => &[
            (Context::Review, Act::Export, "export"),
            (Context::Review, Act::Back, "back"),
        ],
    };
    let global: &[(Context, Act, &str)] = match m.screen.place() {
        Place::Review(_) => &[(Context::Global, Act::Help, "help")],
        _ => &[
            (Context::Global, Act::CommandLine, "command"),
            (Context::Global, Act::Help, "help"),
        ],
    };
    pick.iter()
        .filter(|(c, a, _)| a.needs(*c).is_none_or(|need| m.me.role >= need))
        .take(2)
        .chain(global)
        .map(|(c, a, w)| {
            let keys = m.keymap.keys_for(*c, *a);
            let first = keys.split(" / ").next().unwrap_or_default().to_string();
            format!("{first} {w}")
        })
        .collect::<Vec<_>>()
        .join("  ")
}

fn message_line(m: &Model, theme: &Theme, f: &mut Frame<'_>, area: Rect) {
    let line = match &m.message {
        Some(msg) if msg.level == Level::Error => Line::from(vec![
            Span::styled(
                " ERROR ",
                Style::default()
                    .fg(theme.error)
                    .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            ),
            Span::styled(
                format!(" {}", clean(&msg.text)),
                Style::default().fg(theme.error),
            ),
        ]),
        Some(msg) => Line::from(Span::styled(
            format!(" {}", clean(&msg.text)),
            Style::default().fg(theme.info),
        )),
        None => match &m.composer {
            Some(c) if !c.open && c.has_draft() => Line::from(Span::styled(
                format!(
                    " unsent {} draft kept — {} to continue it",
                    c.kind.as_str(),
                    m.keymap
                        .keys_for(super::keymap::Context::WarRoom, super::keymap::Act::Note)
                ),
                Style::default().fg(theme.pending),
            )),
            _ => Line::default(),
        },
    };
    f.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), area);
}
