//! The history: closed incidents, one row each, with where each one's
//! post-incident review stands. Reviews still to do come first (the soonest
//! due first), so the list doubles as "reviews coming due"; the rest follow,
//! newest closed first. Only the rows on screen are built.

use super::{clean, pad, width};
use crate::domain::clocks::{ClockState, ReviewDue};
use crate::domain::duration::humanize;
use crate::tui::keymap::{Act, Context};
use crate::tui::model::{HistoryState, Model};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// `s` in a column of `w` cells: cut to `w - 1` and followed by a space.
fn col(s: &str, w: usize) -> String {
    format!("{} ", pad(s, w.saturating_sub(1)))
}

/// The REVIEW column's text and the clock state its colour comes from.
pub fn review_cell(due: ReviewDue) -> (String, Option<ClockState>) {
    let state = match due {
        ReviewDue::NotRequired => None,
        ReviewDue::Done(_) => Some(ClockState::Met),
        ReviewDue::Open => Some(ClockState::Pending),
        ReviewDue::Due { left, .. } if left < 0 => Some(ClockState::Breached),
        ReviewDue::Due { .. } if due.soon() => Some(ClockState::DueSoon),
        ReviewDue::Due { .. } => Some(ClockState::Pending),
    };
    (due.words(), state)
}

pub fn render(m: &Model, theme: &Theme, f: &mut Frame<'_>, body: Rect, h: &HistoryState) {
    if body.height < 3 {
        return;
    }
    let now = m.server_now();
    let dues: Vec<ReviewDue> = h
        .order
        .iter()
        .filter_map(|id| m.incident(id))
        .map(|inc| ReviewDue::of(inc, &m.policy, now))
        .collect();
    let overdue = dues
        .iter()
        .filter(|d| matches!(d, ReviewDue::Due { left, .. } if *left < 0))
        .count();
    let to_do = dues
        .iter()
        .filter(|d| matches!(d, ReviewDue::Due { .. } | ReviewDue::Open))
        .count();
    let follow_ups = crate::domain::review::follow_up::list(&m.replica.world, &m.policy, now);
    let keys = |act| m.keymap.keys_for(Context::History, act);
    let mut title = Line::from(vec![
        Span::styled(
            " history ",
            Style::default()
                .fg(theme.title)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ),
        Span::styled(
            format!(
                "  {} closed incident{}",
                h.order.len(),
                if h.order.len() == 1 { "" } else { "s" }
            ),
            Style::default()
                .fg(theme.title)
                .add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!(
                "  ·  {to_do} review{} to do{}",
                if to_do == 1 { "" } else { "s" },
                if overdue > 0 {
                    format!(", {overdue} OVERDUE")
                } else {
                    String::new()
                }
            ),
            Style::default()
                .fg(if overdue > 0 {
                    theme.timer_breached
                } else {
                    theme.muted
                })
                .add_modifier(Modifier::BOLD),
        ),
    ]);
    if !follow_ups.is_empty() {
        title.spans.push(Span::styled(
            format!(
                "  ·  {} action item{} to follow up",
                follow_ups.len(),
                if follow_ups.len() == 1 { "" } else { "s" }
            ),
            Style::default()
                .fg(theme.timer_breached)
                .add_modifier(Modifier::BOLD),
        ));
    }
    let key_words = format!(
        "  ·  {} reopen  {} review  {} board",
        keys(Act::Reopen),
        keys(Act::Review),
        keys(Act::Back).split(" / ").next().unwrap_or_default()
    );
    if title.width() + width(&key_words) <= body.width as usize {
        title
            .spans
            .push(Span::styled(key_words, Style::default().fg(theme.muted)));
    }
    f.render_widget(
        Paragraph::new(title),
        Rect::new(body.x, body.y, body.width, 1),
    );

    // KEY, SEV, TITLE, CLOSED, LASTED, ACTIONS, REVIEW.
    let key_w = format!("INC-{}", m.replica.world.order.len()).len().max(7) + 1;
    let sev_w = m
        .policy
        .severities
        .iter()
        .map(|s| width(&s.label))
        .max()
        .unwrap_or(2)
        .clamp(3, 8)
        + 1;
    let closed_w = 12;
    let lasted_w = if body.width >= 110 { 9 } else { 0 };
    let actions_w = if body.width >= 100 { 9 } else { 0 };
    let review_w = 38;
    let fixed = key_w + sev_w + closed_w + lasted_w + actions_w + review_w + 2;
    let title_w = (body.width as usize).saturating_sub(fixed).max(5);
    let mut header = format!(
        " {}{}{}{}",
        col("KEY", key_w),
        col("SEV", sev_w),
        col("TITLE", title_w),
        col("CLOSED", closed_w)
    );
    if lasted_w > 0 {
        header.push_str(&col("LASTED", lasted_w));
    }
    if actions_w > 0 {
        header.push_str(&col("ACTIONS", actions_w));
    }
    header.push_str("REVIEW");
    f.render_widget(
        Paragraph::new(Span::styled(
            header,
            Style::default()
                .fg(theme.muted)
                .add_modifier(Modifier::BOLD),
        )),
        Rect::new(body.x, body.y + 1, body.width, 1),
    );
    let head = crate::tui::layout::HISTORY_HEAD;
    let list = Rect::new(body.x, body.y + head, body.width, body.height - head);

    if h.order.is_empty() {
        let msg = vec![
            Line::default(),
            Line::styled(
                "No closed incidents yet.",
                Style::default()
                    .fg(theme.title)
                    .add_modifier(Modifier::BOLD),
            ),
            Line::styled(
                "An incident lands here once it is closed; its review is tracked here until done.",
                Style::default().fg(theme.muted),
            ),
        ];
        f.render_widget(Paragraph::new(msg).alignment(Alignment::Center), list);
        return;
    }

    let rows = list.height as usize;
    let start = h.offset.min(h.order.len());
    for (i, id) in h.order.iter().enumerate().skip(start).take(rows) {
        let Some(inc) = m.incident(id) else { continue };
        let selected = i == h.selected;
        let base = if selected {
            Style::default()
                .fg(theme.selection_text)
                .bg(theme.selection)
        } else {
            Style::default().fg(theme.text)
        };
        let muted = if selected { base } else { base.fg(theme.muted) };
        let rank = m.policy.severity_rank(&inc.severity);
        let sev = m
            .policy
            .severity(&inc.severity)
            .map_or_else(|| clean(&inc.severity), |s| clean(&s.label));
        let closed_at = inc
            .closed
            .as_ref()
            .map_or_else(String::new, |c| c.at.format("%m-%d %H:%M").to_string());
        let mut spans = vec![
            Span::styled(if selected { "▶" } else { " " }, base.fg(theme.focus)),
            Span::styled(col(&inc.key(), key_w), base.add_modifier(Modifier::BOLD)),
            Span::styled(
                col(&sev, sev_w),
                base.fg(theme.severity(rank)).add_modifier(Modifier::BOLD),
            ),
            Span::styled(col(&clean(&inc.title), title_w), base),
            Span::styled(col(&closed_at, closed_w), muted),
        ];
        if lasted_w > 0 {
            let end = inc.resolved.as_ref().map_or(now, |r| r.at);
            spans.push(Span::styled(
                col(&humanize(end - inc.declared.at), lasted_w),
                muted,
            ));
        }
        if actions_w > 0 {
            let open = inc
                .actions
                .iter()
                .filter(|a| a.state == crate::domain::event::ActionState::Open)
                .count();
            let text = if inc.actions.is_empty() {
                "—".to_string()
            } else {
                format!("{open} open")
            };
            spans.push(Span::styled(col(&text, actions_w), muted));
        }
        let (text, state) = review_cell(ReviewDue::of(inc, &m.policy, now));
        spans.push(Span::styled(
            pad(&text, review_w),
            match state {
                Some(s) => base.fg(theme.clock(s)).add_modifier(Modifier::BOLD),
                None => muted,
            },
        ));
        let y = list.y + (i - start) as u16;
        let r = Rect::new(list.x, y, list.width, 1);
        if selected {
            f.buffer_mut().set_style(r, base);
        }
        f.render_widget(Paragraph::new(Line::from(spans)), r);
    }
    // Below the rows, where there is room: the action items to follow up.
    let used = h.order.len().saturating_sub(start).min(rows);
    let spare = rows.saturating_sub(used + 1);
    if !follow_ups.is_empty() && spare >= 2 {
        let y = list.y + (used + 1) as u16;
        let area = Rect::new(list.x, y, list.width, spare as u16);
        follow_up_panel(theme, f, area, &follow_ups, &m.policy);
    }
}

/// Open action items of closed incidents past due or due for review (002 §8.4).
fn follow_up_panel(
    theme: &Theme,
    f: &mut Frame<'_>,
    area: Rect,
    list: &[crate::domain::review::follow_up::FollowUp<'_>],
    policy: &crate::domain::policy::Policy,
) {
    let mut lines = vec![Line::styled(
        format!(
            " Action items to follow up ({}): past due, or not changed within their priority's review cadence",
            list.len()
        ),
        Style::default()
            .fg(theme.title)
            .add_modifier(Modifier::BOLD),
    )];
    let shown = (area.height as usize).saturating_sub(1);
    for line in crate::domain::review::follow_up::lines(list, policy)
        .iter()
        .take(shown)
    {
        lines.push(Line::styled(
            format!("  {}", clean(line)),
            Style::default().fg(theme.timer_breached),
        ));
    }
    f.render_widget(Paragraph::new(lines), area);
}
