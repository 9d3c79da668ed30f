//! The board: every incident not closed, worst first, one row each. Only the
//! rows on screen are built (the sort order is kept by `update`).

use super::{clean, fit, pad, rpad, width};
use crate::domain::clocks::{ReviewDue, clocks, most_urgent};
use crate::domain::duration::{countdown, humanize};
use crate::tui::layout;
use crate::tui::model::Model;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Column widths for a given screen width, each including one space of gap:
/// (key, sev, status, ic, age, next). The title takes what is left.
fn columns(w: u16, sev_w: usize, key_w: usize) -> (usize, usize, usize, usize, usize, usize) {
    let ic = if w >= 90 { 12 } else { 0 };
    let age = if w >= 110 { 8 } else { 0 };
    let next = if w >= 120 { 36 } else { 29 };
    (key_w.max(8), sev_w.max(3) + 1, 14, ic, age, next)
}

/// `s` in a column of `w` cells: cut to `w - 1` and followed by a space.
fn col(s: &str, w: usize) -> String {
    format!("{} ", pad(s, w.saturating_sub(1)))
}

pub fn render(m: &Model, theme: &Theme, f: &mut Frame<'_>, body: Rect) {
    let a = layout::board(body, m.replica.world.alerts.queue().count());
    render_triage(m, theme, f, a.triage);
    let now = m.server_now();
    let live = m
        .board
        .order
        .iter()
        .filter(|id| m.incident(id).is_some_and(|i| i.resolved.is_none()))
        .count();
    let resolved = m.board.order.len() - live;
    let title = Line::from(vec![
        Span::styled(
            " warroom ",
            Style::default()
                .fg(theme.title)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ),
        Span::styled(
            format!(
                "  {live} open incident{}{}",
                if live == 1 { "" } else { "s" },
                if resolved > 0 {
                    format!(", {resolved} resolved awaiting close")
                } else {
                    String::new()
                }
            ),
            Style::default()
                .fg(theme.title)
                .add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            match &m.board.filter {
                Some(q) => format!(
                    "  ·  filter /{}: {} shown (Esc clears)",
                    clean(q),
                    m.board.order.len()
                ),
                None => String::new(),
            },
            Style::default()
                .fg(theme.focus)
                .add_modifier(Modifier::BOLD),
        ),
        reviews_span(m, theme, now),
        Span::styled(
            format!(
                "  ·  policy {}  ·  {}",
                clean(&m.policy.name),
                now.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            Style::default().fg(theme.muted),
        ),
    ]);
    f.render_widget(Paragraph::new(title), a.title);

    let sev_w = m
        .policy
        .severities
        .iter()
        .map(|s| width(&s.label))
        .max()
        .unwrap_or(2)
        .clamp(2, 8);
    // Wide enough for the longest key ("INC-10000" and a space).
    let key_w = format!("INC-{}", m.replica.world.order.len()).len() + 1;
    let (kw, sw, stw, icw, agew, nw) = columns(body.width, sev_w, key_w);
    let fixed = kw + sw + stw + icw + agew + nw + 2;
    let avail = (body.width as usize).saturating_sub(fixed);
    // On the narrowest screens the title keeps a few cells by taking them from
    // the deadline's label, never from its end: the row must still fit, so the
    // OK / DUE SOON / OVERDUE word stays on screen (colour is never the only signal).
    let tw = avail.max(5);
    let nw = nw.saturating_sub(tw - avail);
    let mut header = format!(
        " {}{}{}{}",
        col("KEY", kw),
        col("SEV", sw),
        col("TITLE", tw),
        col("STATUS", stw)
    );
    if icw > 0 {
        header.push_str(&col("IC", icw));
    }
    if agew > 0 {
        header.push_str(&col("AGE", agew));
    }
    header.push_str(&pad("NEXT DEADLINE", nw));
    f.render_widget(
        Paragraph::new(Span::styled(
            header,
            Style::default()
                .fg(theme.muted)
                .add_modifier(Modifier::BOLD),
        )),
        a.header,
    );

    if m.board.order.is_empty()
        && let Some(q) = &m.board.filter
    {
        let msg = vec![
            Line::default(),
            Line::styled(
                format!("No incident matches /{}.", clean(q)),
                Style::default()
                    .fg(theme.title)
                    .add_modifier(Modifier::BOLD),
            ),
            Line::styled("Esc clears the filter.", Style::default().fg(theme.muted)),
        ];
        f.render_widget(Paragraph::new(msg).alignment(Alignment::Center), a.list);
        return;
    }
    if m.board.order.is_empty() {
        let msg = vec![
            Line::default(),
            Line::styled(
                "No open incidents.",
                Style::default()
                    .fg(theme.title)
                    .add_modifier(Modifier::BOLD),
            ),
            Line::styled(
                format!(
                    "{} declares one; : opens the command line (:incident declare \"API down\" severity={}).",
                    m.keymap.keys_for(
                        crate::tui::keymap::Context::Board,
                        crate::tui::keymap::Act::Declare
                    ),
                    m.policy.severities.first().map_or("P1", |s| s.id.as_str())
                ),
                Style::default().fg(theme.muted),
            ),
        ];
        f.render_widget(Paragraph::new(msg).alignment(Alignment::Center), a.list);
        return;
    }

    let rows = a.list.height as usize;
    let start = m.board.offset.min(m.board.order.len());
    for (i, id) in m.board.order.iter().enumerate().skip(start).take(rows) {
        let Some(inc) = m.incident(id) else { continue };
        let selected = i == m.board.selected;
        let base = if selected {
            Style::default()
                .fg(theme.selection_text)
                .bg(theme.selection)
        } else {
            Style::default().fg(theme.text)
        };
        let rank = m.policy.severity_rank(&inc.severity);
        let sev_label = m
            .policy
            .severity(&inc.severity)
            .map_or_else(|| clean(&inc.severity), |s| clean(&s.label));
        let mut spans = vec![
            Span::styled(if selected { "▶" } else { " " }, base.fg(theme.focus)),
            Span::styled(col(&inc.key(), kw), base.add_modifier(Modifier::BOLD)),
            Span::styled(
                col(&sev_label, sw),
                base.fg(theme.severity(rank)).add_modifier(Modifier::BOLD),
            ),
        ];
        // A failing notification is a badge before the title: ✉✗ and a count.
        let title = alerts_marker(inc) + &clean(&inc.title);
        let failing = inc.failing_deliveries();
        if failing > 0 && tw > 8 {
            let badge = format!("✉✗{failing} ");
            let bw = width(&badge);
            spans.push(Span::styled(
                badge,
                base.fg(theme.timer_breached).add_modifier(Modifier::BOLD),
            ));
            spans.push(Span::styled(col(&title, tw - bw), base));
        } else {
            spans.push(Span::styled(col(&title, tw), base));
        }
        let status = if inc.resolved.is_some() {
            "RESOLVED".to_string()
        } else {
            inc.status.as_str().to_uppercase()
        };
        let status = if inc.acknowledged.is_none() && inc.resolved.is_none() {
            "UNACKED".to_string()
        } else {
            status
        };
        let status_style = if inc.acknowledged.is_none() && inc.resolved.is_none() {
            base.fg(theme.timer_breached).add_modifier(Modifier::BOLD)
        } else {
            base
        };
        spans.push(Span::styled(col(&status, stw), status_style));
        if icw > 0 {
            let ic = inc.roles.get("ic").map_or("—".to_string(), |p| clean(p));
            spans.push(Span::styled(col(&ic, icw), base));
        }
        if agew > 0 {
            spans.push(Span::styled(
                col(&humanize(now - inc.declared.at), agew),
                base.fg(if selected {
                    theme.selection_text
                } else {
                    theme.muted
                }),
            ));
        }
        let cl = clocks(inc, &m.policy, now);
        match most_urgent(&cl) {
            Some(c) => {
                let word = c.state.word();
                let cd = countdown(c.remaining_secs);
                let label_w = nw.saturating_sub(width(word) + 10);
                spans.push(Span::styled(
                    col(&short_label(&c.label, label_w), label_w),
                    base,
                ));
                spans.push(Span::styled(
                    format!("{} {}", rpad(&cd, 8), word),
                    base.fg(theme.clock(c.state)).add_modifier(Modifier::BOLD),
                ));
            }
            None => spans.push(Span::styled(
                fit(
                    if inc.resolved.is_some() {
                        "all clocks stopped"
                    } else {
                        "no running clock"
                    },
                    nw,
                ),
                base.fg(theme.muted),
            )),
        }
        let y = a.list.y + (i - start) as u16;
        let r = Rect::new(a.list.x, y, a.list.width, 1);
        if selected {
            f.buffer_mut().set_style(r, base);
        }
        f.render_widget(Paragraph::new(Line::from(spans)), r);
    }
}

/// `  ·  2 reviews to do (h)` when closed incidents still owe their
/// post-incident review (OVERDUE named when one is late), and `1 action to
/// follow up` when an action item of a closed one is late or due for review;
/// nothing otherwise.
fn reviews_span(m: &Model, theme: &Theme, now: chrono::DateTime<chrono::Utc>) -> Span<'static> {
    let (mut to_do, mut overdue) = (0, 0);
    for inc in m.replica.world.incidents.values() {
        if inc.closed.is_none() {
            continue;
        }
        let due = ReviewDue::of(inc, &m.policy, now);
        to_do += usize::from(due.pending());
        overdue += usize::from(matches!(due, ReviewDue::Due { left, .. } if left < 0));
    }
    let follow_ups = crate::domain::review::follow_up::list(&m.replica.world, &m.policy, now).len();
    if to_do == 0 && follow_ups == 0 {
        return Span::raw("");
    }
    let keys = m.keymap.keys_for(
        crate::tui::keymap::Context::Board,
        crate::tui::keymap::Act::History,
    );
    let mut parts = Vec::new();
    if to_do > 0 {
        parts.push(format!(
            "{to_do} review{} to do{}",
            if to_do == 1 { "" } else { "s" },
            if overdue > 0 {
                format!(", {overdue} OVERDUE")
            } else {
                String::new()
            }
        ));
    }
    if follow_ups > 0 {
        parts.push(format!(
            "{follow_ups} action{} to follow up",
            if follow_ups == 1 { "" } else { "s" }
        ));
    }
    let text = format!("  ·  {} ({keys})", parts.join(", "));
    let colour = if overdue > 0 || follow_ups > 0 {
        theme.timer_breached
    } else {
        theme.timer_warn
    };
    Span::styled(
        text,
        Style::default().fg(colour).add_modifier(Modifier::BOLD),
    )
}

/// `[all clear] ` before the title of an open incident whose alerts have all
/// cleared (the IC decides about resolving), `[3 firing] ` while alerts fire.
pub(crate) fn alerts_marker(inc: &crate::domain::state::Incident) -> String {
    match &inc.alerts {
        Some(a) if inc.is_open() && a.firing == 0 => "[all clear] ".into(),
        Some(a) if inc.is_open() => format!("[{} firing] ", a.firing),
        _ => String::new(),
    }
}

/// The triage queue: alert groups waiting for a human, oldest first, with the
/// two keys that settle the oldest.
fn render_triage(m: &Model, theme: &Theme, f: &mut Frame<'_>, area: Rect) {
    if area.height == 0 {
        return;
    }
    let queue: Vec<_> = m.replica.world.alerts.queue().collect();
    let keys = |act| m.keymap.keys_for(crate::tui::keymap::Context::Board, act);
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!(" TRIAGE {} ", queue.len()),
            Style::default()
                .fg(theme.timer_warn)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ),
        Span::styled(
            format!(
                "  {} waiting · {} declares the oldest · {} dismisses it",
                if queue.iter().all(|t| t.intake.is_none()) {
                    if queue.len() == 1 {
                        "alert group"
                    } else {
                        "alert groups"
                    }
                } else {
                    "alerts and reports"
                },
                keys(crate::tui::keymap::Act::TriageDeclare),
                keys(crate::tui::keymap::Act::TriageDismiss),
            ),
            Style::default().fg(theme.muted),
        ),
    ])];
    let now = m.server_now();
    let rows = usize::from(area.height.saturating_sub(2));
    for (i, t) in queue.iter().take(rows).enumerate() {
        let rank = m.policy.severity_rank(&t.severity);
        let sev = m
            .policy
            .severity(&t.severity)
            .map_or_else(|| clean(&t.severity), |s| clean(&s.label));
        // A report says where it came from; an alert group what is firing.
        let firing = match &t.intake {
            Some(k) => k.clone(),
            None if t.alerts.firing == 0 => "all clear".to_string(),
            None => format!("{} firing", t.alerts.firing),
        };
        let clock = crate::domain::clocks::triage_clock(t, &m.policy, now);
        let head = if i == 0 { "▸" } else { " " };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{head}{} ", pad(&t.key(), 7)),
                Style::default().fg(theme.text).add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!("{} ", pad(&sev, 4)),
                Style::default()
                    .fg(theme.severity(rank))
                    .add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!("{} ", pad(&firing, 10)),
                Style::default().fg(theme.text),
            ),
            Span::styled(
                format!("{} ", rpad(&humanize(now - t.opened.at), 6)),
                Style::default().fg(theme.muted),
            ),
            Span::styled(clean(&t.title), Style::default().fg(theme.text)),
        ]));
        // Its acknowledge clock, like any clock: countdown and the word.
        if let Some(c) = clock
            && let Some(last) = lines.last_mut()
        {
            let st = Style::default()
                .fg(theme.clock(c.tone()))
                .add_modifier(Modifier::BOLD);
            last.spans.push(Span::styled(
                format!(
                    "  {} {} {}",
                    clean(&c.label),
                    countdown(c.remaining_secs),
                    c.word()
                ),
                st,
            ));
        }
    }
    if queue.len() > rows
        && let Some(first) = lines.first_mut()
    {
        first.spans.push(Span::styled(
            format!(" ({} more not shown)", queue.len() - rows),
            Style::default().fg(theme.muted),
        ));
    }
    f.render_widget(Paragraph::new(lines), area);
}

/// A clock label that fits: `status page update` becomes `status page` before being cut.
pub(crate) fn short_label(label: &str, w: usize) -> String {
    let l = clean(label);
    if width(&l) > w
        && let Some(s) = l.strip_suffix(" update")
    {
        return s.to_string();
    }
    l
}
