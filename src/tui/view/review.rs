//! The post-incident review preview (`domain::review::render`), scrollable,
//! with export to a Markdown file.

use super::{clean, panel};
use crate::tui::model::Model;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

pub fn render(m: &Model, theme: &Theme, f: &mut Frame<'_>, body: Rect) {
    let Some(r) = m.review() else { return };
    let key = m
        .incident(&r.incident)
        .map_or("incident".into(), |i| i.key());
    let total = r.text.lines().count();
    let block = panel(
        theme,
        format!(
            " Post-incident review · {key} · line {}/{total} · e write a field · A action item · w export · y copy · Esc back ",
            (r.scroll + 1).min(total.max(1))
        ),
        true,
    );
    let inner = block.inner(body);
    f.render_widget(block, body);
    let lines: Vec<Line> = r
        .text
        .lines()
        .skip(r.scroll)
        .take(inner.height as usize)
        .map(|l| {
            let l = clean(l);
            let st = if l.starts_with('#') {
                Style::default()
                    .fg(theme.title)
                    .add_modifier(Modifier::BOLD)
            } else if l.starts_with('|') {
                Style::default().fg(theme.text)
            } else if l.contains(crate::domain::review::TODO) {
                Style::default().fg(theme.timer_warn)
            } else {
                Style::default().fg(theme.text)
            };
            Line::styled(l, st)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}
