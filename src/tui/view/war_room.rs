//! One incident's war room: header, clocks, roles, the phase checklist,
//! action items, the (virtualised) timeline and the docked composer.

use super::{clean, fit, pad, panel, rpad, width};
use crate::domain::clocks::{ClockState, clocks};
use crate::domain::duration::{countdown, humanize};
use crate::domain::event::{ActionState, EventBody, NoteKind, Recorded};
use crate::domain::state::Incident;
use crate::tui::keymap::{Act, Context};
use crate::tui::layout;
use crate::tui::model::entry_matches;
use crate::tui::model::{
    CheckRow, Model, Pane, RoomState, checklist_rows, list_offset, selected_row,
};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn render(m: &Model, theme: &Theme, f: &mut Frame<'_>, body: Rect) {
    let Some(room) = m.room() else { return };
    let Some(inc) = m.incident(&room.incident) else {
        f.render_widget(
            Paragraph::new("This incident is not in the local replica yet."),
            body,
        );
        return;
    };
    let a = layout::room(m, body);
    header(m, theme, f, a.header, inc);
    clocks_panel(m, theme, f, a.clocks, inc);
    roles_panel(m, theme, f, a.roles, inc);
    checklist_panel(m, theme, f, a.checklist, inc, room);
    actions_panel(theme, f, a.actions, inc, room);
    timeline_panel(m, theme, f, a.timeline, room);
    if a.composer.height > 0 {
        composer(m, theme, f, a.composer);
    }
}

fn header(m: &Model, theme: &Theme, f: &mut Frame<'_>, r: Rect, inc: &Incident) {
    if r.height == 0 {
        return;
    }
    let now = m.server_now();
    let rank = m.policy.severity_rank(&inc.severity);
    let sev = m.policy.severity(&inc.severity);
    let sev_text = sev.map_or_else(
        || clean(&inc.severity),
        |s| format!("{} {}", clean(&s.label), clean(&s.name)),
    );
    let status = if inc.closed.is_some() {
        "CLOSED".to_string()
    } else {
        inc.status.as_str().to_uppercase()
    };
    let right = format!(" {status} ");
    let left_w = (r.width as usize).saturating_sub(width(&right) + 1);
    let title_w = left_w.saturating_sub(width(&sev_text) + width(&inc.key()) + 5);
    let line0 = Line::from(vec![
        Span::styled(
            format!(" {sev_text} "),
            Style::default()
                .fg(theme.severity(rank))
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ),
        Span::styled(
            format!(" {} ", inc.key()),
            Style::default()
                .fg(theme.title)
                .add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            pad(&clean(&inc.title), title_w + 1),
            Style::default()
                .fg(theme.title)
                .add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            right,
            Style::default()
                .fg(theme.info)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ),
    ]);
    let end = inc.resolved.as_ref().map_or(now, |s| s.at);
    let mut facts = vec![
        match &inc.acknowledged {
            Some(s) => format!("acked {} by {}", s.at.format("%H:%M"), clean(&s.by)),
            None => "NOT ACKNOWLEDGED".to_string(),
        },
        format!("duration {}", humanize(end - inc.declared.at)),
        format!(
            "declared {} by {}",
            inc.declared.at.format("%Y-%m-%d %H:%M UTC"),
            clean(&inc.declared.by)
        ),
        format!("kind {}", clean(&inc.kind)),
    ];
    if inc.impact_started.is_some() || inc.detected.is_some() || inc.detection.is_some() {
        let mut d = String::new();
        if let Some(s) = inc.impact_started {
            d.push_str(&format!("impact from {} · ", s.format("%H:%M")));
        }
        d.push_str(&format!("detected {}", inc.detected_at().format("%H:%M")));
        if let Some(m) = inc.detection_method() {
            d.push_str(&format!(" by {}", m.label()));
        }
        if let Some(ttd) = inc.time_to_detect() {
            d.push_str(&format!(" (TTD {})", humanize(ttd)));
        }
        facts.push(d);
    }
    if let Some(s) = &inc.contained {
        facts.push(format!("contained {}", s.at.format("%H:%M")));
    }
    if inc.reopened > 0 {
        facts.push(format!("reopened ×{}", inc.reopened));
    }
    // A role handed to me waits for my answer: the header says how to give it.
    for role in &m.policy.roles {
        if let Some(offer) = inc.offers.get(&role.id)
            && crate::domain::handoff::same_person(&offer.to, &m.me.name)
        {
            let keys = |act| m.keymap.keys_for(Context::WarRoom, act);
            facts.insert(
                0,
                format!(
                    "{} HANDED TO YOU by {}: {} takes it, {} declines",
                    clean(&role.name).to_uppercase(),
                    clean(&offer.from),
                    keys(Act::AcceptRole),
                    keys(Act::DeclineRole)
                ),
            );
        }
    }
    if let Some(sug) = &inc.suggested {
        // The policy leaves a more severe level from the alerts to the IC.
        facts.insert(
            0,
            format!(
                "ALERTS SUGGEST {} ({} changes severity)",
                clean(&sug.severity),
                m.keymap.keys_for(Context::WarRoom, Act::Severity)
            ),
        );
    }
    if let Some(a) = &inc.alerts {
        facts.push(match a.firing {
            0 => "ALL ALERTS CLEAR (IC decides about resolving)".to_string(),
            1 => "1 alert firing".to_string(),
            n => format!("{n} alerts firing"),
        });
        if let Some(prev) = a.previous.and_then(|p| m.incident(&p)) {
            facts.push(format!("follows {}", prev.key()));
        }
    }
    let line1 = Line::from(vec![Span::styled(
        format!(" {}", facts.join(" · ")),
        Style::default().fg(theme.muted),
    )]);
    let impact = if inc.impact.summary.is_empty() {
        Span::styled(
            "none recorded yet (:impact \"…\")",
            Style::default().fg(theme.muted),
        )
    } else {
        Span::styled(clean(&inc.impact.summary), Style::default().fg(theme.text))
    };
    let mut line2 = vec![
        Span::styled(" impact: ", Style::default().fg(theme.muted)),
        impact,
    ];
    if !inc.impact.services.is_empty() {
        line2.push(Span::styled(
            format!("  services: {}", clean(&inc.impact.services.join(", "))),
            Style::default().fg(theme.muted),
        ));
    }
    f.render_widget(Paragraph::new(vec![line0, line1, Line::from(line2)]), r);
}

fn clocks_panel(m: &Model, theme: &Theme, f: &mut Frame<'_>, r: Rect, inc: &Incident) {
    if r.height == 0 {
        return;
    }
    let now = m.server_now();
    let cl = clocks(inc, &m.policy, now);
    let breached = cl
        .iter()
        .filter(|c| c.state == ClockState::Breached && c.is_running())
        .count();
    let title = if breached > 0 {
        Line::from(vec![
            Span::raw(" Clocks "),
            Span::styled(
                format!("{breached} OVERDUE "),
                Style::default()
                    .fg(theme.timer_breached)
                    .add_modifier(Modifier::BOLD),
            ),
        ])
    } else {
        Line::from(" Clocks ")
    };
    let block = panel(theme, title, false);
    let inner = block.inner(r);
    f.render_widget(block, r);
    if cl.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled(
                "no deadlines for this severity",
                Style::default().fg(theme.muted),
            )),
            inner,
        );
        return;
    }
    let w = inner.width as usize;
    // label | countdown | word | gauge
    let word_w = 8;
    let cd_w = 8;
    let gauge_w = if w >= 40 { (w - 40).clamp(4, 12) } else { 0 };
    let label_w = w.saturating_sub(word_w + cd_w + gauge_w + 2);
    let lines: Vec<Line> = cl
        .iter()
        .take(inner.height as usize)
        .map(|c| {
            let color = theme.clock(c.tone());
            let st = Style::default().fg(color);
            // A met clock says when it was met and how fast, not a frozen
            // countdown that reads like a duration.
            let (when, took) = match (c.done_at, c.took()) {
                (Some(at), Some(took)) => (
                    format!("at {}", at.format("%H:%M")),
                    Some(format!("in {}", countdown(took.num_seconds()))),
                ),
                _ => (countdown(c.remaining_secs), None),
            };
            let mut spans = vec![
                Span::styled(
                    pad(&clock_label(c, label_w), label_w),
                    Style::default().fg(theme.text),
                ),
                Span::styled(rpad(&when, cd_w), st.add_modifier(Modifier::BOLD)),
                Span::raw(" "),
                Span::styled(
                    pad(c.word(), word_w),
                    st.add_modifier(if c.state == ClockState::Breached {
                        Modifier::BOLD | Modifier::REVERSED
                    } else {
                        Modifier::BOLD
                    }),
                ),
            ];
            if let Some(took) = took.filter(|_| gauge_w > 0) {
                spans.push(Span::raw(" "));
                spans.push(Span::styled(fit(&took, gauge_w), st));
            } else if gauge_w > 0 {
                let used = (c.used(now) * gauge_w as f64).round() as usize;
                spans.push(Span::raw(" "));
                spans.push(Span::styled("█".repeat(used.min(gauge_w)), st));
                spans.push(Span::styled(
                    "░".repeat(gauge_w - used.min(gauge_w)),
                    Style::default().fg(theme.border),
                ));
            }
            Line::from(spans)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

/// A clock's label in `w` columns; one warroom added (the policy's
/// `warroom_defaults`: the runbook did not ask for it) says so in words.
fn clock_label(c: &crate::domain::clocks::Clock, w: usize) -> String {
    let label = super::board::short_label(&c.label, w);
    if !c.warroom_default {
        return label;
    }
    let full = clean(&c.label);
    let short = full.strip_suffix(" update").unwrap_or(&full).to_string();
    [" (warroom default)", " (default)"]
        .iter()
        .flat_map(|mark| [format!("{full}{mark}"), format!("{short}{mark}")])
        .find(|l| width(l) <= w)
        .unwrap_or_else(|| format!("{short}*"))
}

fn roles_panel(m: &Model, theme: &Theme, f: &mut Frame<'_>, r: Rect, inc: &Incident) {
    if r.height == 0 {
        return;
    }
    let block = panel(theme, " Roles ", false);
    let inner = block.inner(r);
    f.render_widget(block, r);
    let longest = m
        .policy
        .roles
        .iter()
        .map(|r| width(&r.name))
        .max()
        .unwrap_or(0);
    // Full role names when they fit beside a name, the short ids otherwise.
    let full = longest + 12 <= inner.width as usize;
    let name_w = if full {
        longest + 2
    } else {
        m.policy
            .roles
            .iter()
            .map(|r| width(&r.id))
            .max()
            .unwrap_or(0)
            + 2
    };
    let mut lines: Vec<Line> = m
        .policy
        .roles
        .iter()
        .map(|role| {
            let holder = inc.roles.get(&role.id);
            let name = if full { &role.name } else { &role.id };
            let mut spans = vec![
                Span::styled(pad(&clean(name), name_w), Style::default().fg(theme.muted)),
                match holder {
                    Some(p) => Span::styled(
                        clean(p),
                        Style::default().fg(theme.text).add_modifier(Modifier::BOLD),
                    ),
                    None => Span::styled("—", Style::default().fg(theme.muted)),
                },
            ];
            // A hand-off not yet accepted: both are shown until the incoming person answers.
            if let Some(offer) = inc.offers.get(&role.id) {
                let pending = Style::default()
                    .fg(theme.pending)
                    .add_modifier(Modifier::BOLD);
                spans.push(Span::styled(" → ", pending));
                spans.push(Span::styled(clean(&offer.to), pending));
                spans.push(Span::styled(" (pending)", pending));
            }
            // The runbook's backup for the role (003's Backup column).
            if let Some(b) = &role.backup {
                spans.push(Span::styled(
                    format!("  backup: {}", clean(b)),
                    Style::default().fg(theme.muted),
                ));
            }
            Line::from(spans)
        })
        .collect();
    // Roles the policy keeps apart held by one person (002 §3.4): a warning in words.
    for w in m.policy.role_conflicts(&inc.roles).into_iter().rev() {
        lines.insert(
            0,
            Line::styled(
                format!("WARNING {}", clean(&w)),
                Style::default()
                    .fg(theme.timer_warn)
                    .add_modifier(Modifier::BOLD),
            ),
        );
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn checklist_panel(
    m: &Model,
    theme: &Theme,
    f: &mut Frame<'_>,
    r: Rect,
    inc: &Incident,
    room: &RoomState,
) {
    if r.height == 0 {
        return;
    }
    let focused = room.focus == Pane::Checklist;
    let rows = checklist_rows(&m.policy, inc, m.server_now());
    let items = rows
        .iter()
        .filter(|r| matches!(r, CheckRow::Item(..)))
        .count();
    let done = rows
        .iter()
        .filter(|r| matches!(r, CheckRow::Item(_, it) if it.done || it.proof.is_some()))
        .count();
    let phase = format!("{:?}", inc.phase()).to_lowercase();
    let block = panel(
        theme,
        format!(
            " {}Checklist · {phase} phase · {done}/{items} ",
            focus_mark(focused)
        ),
        focused,
    );
    let inner = block.inner(r);
    f.render_widget(block, r);
    if rows.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled(
                format!("the policy has no {phase} checklist"),
                Style::default().fg(theme.muted),
            )),
            inner,
        );
        return;
    }
    let h = inner.height as usize;
    let offset = list_offset(selected_row(&rows, room.check_sel), h);
    let w = inner.width as usize;
    let lines: Vec<Line> = rows
        .iter()
        .skip(offset)
        .take(h)
        .map(|row| match row {
            CheckRow::Heading(t) => Line::styled(
                fit(&clean(t), w),
                Style::default()
                    .fg(theme.title)
                    .add_modifier(Modifier::BOLD),
            ),
            CheckRow::Item(i, it) => {
                let sel = focused && *i == room.check_sel;
                // Proven by the log: done, with the event as the evidence.
                let done = it.done || it.proof.is_some();
                let st = if sel {
                    Style::default()
                        .fg(theme.selection_text)
                        .bg(theme.selection)
                } else if done {
                    Style::default().fg(theme.muted)
                } else {
                    Style::default().fg(theme.text)
                };
                // ▶: the selection without colour.
                let mark = match (done, it.waived.is_some(), sel) {
                    (true, true, false) => "[~] ",
                    (true, true, true) => "[~]▶",
                    (true, false, false) => "[x] ",
                    (true, false, true) => "[x]▶",
                    (false, _, false) => "[ ] ",
                    (false, _, true) => "[ ]▶",
                };
                let mark_st = if done { st.fg(theme.timer_met) } else { st };
                let text = match (&it.proof, it.done, &it.waived) {
                    (_, true, Some(why)) => {
                        format!("{} — waived: {}", clean(it.text), clean(why))
                    }
                    (Some(e), false, _) => format!("{} — {}", clean(it.text), clean(e)),
                    _ => clean(it.text),
                };
                Line::from(vec![
                    Span::styled(mark, mark_st.add_modifier(Modifier::BOLD)),
                    Span::styled(pad(&text, w.saturating_sub(4)), st),
                ])
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

fn actions_panel(theme: &Theme, f: &mut Frame<'_>, r: Rect, inc: &Incident, room: &RoomState) {
    if r.height == 0 {
        return;
    }
    let focused = room.focus == Pane::Actions;
    let open = inc
        .actions
        .iter()
        .filter(|a| matches!(a.state, ActionState::Open | ActionState::InProgress))
        .count();
    let block = panel(
        theme,
        format!(
            " {}Action items · {open} open of {} ",
            focus_mark(focused),
            inc.actions.len()
        ),
        focused,
    );
    let inner = block.inner(r);
    f.render_widget(block, r);
    if inc.actions.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled(
                "none yet (A adds one)",
                Style::default().fg(theme.muted),
            )),
            inner,
        );
        return;
    }
    let h = inner.height as usize;
    let offset = list_offset(room.action_sel, h);
    let w = inner.width as usize;
    let lines: Vec<Line> = inc
        .actions
        .iter()
        .enumerate()
        .skip(offset)
        .take(h)
        .map(|(i, a)| {
            let sel = focused && i == room.action_sel;
            let (mark, color) = match a.state {
                ActionState::Open => ("[ ] ", theme.text),
                ActionState::InProgress => ("[~] ", theme.timer_warn),
                ActionState::Done => ("[x] ", theme.timer_met),
                ActionState::Cancelled => ("[-] ", theme.muted),
            };
            // ▶: the selection without colour.
            let mark = if sel {
                mark.replace("] ", "]▶")
            } else {
                mark.to_string()
            };
            let mut tail = String::new();
            if let Some(o) = &a.owner {
                tail.push_str(&format!(" @{}", clean(o)));
            }
            if let Some(d) = a.due {
                tail.push_str(&format!(" due {d}"));
            }
            let st = if sel {
                Style::default()
                    .fg(theme.selection_text)
                    .bg(theme.selection)
            } else {
                Style::default().fg(theme.text)
            };
            let text_w = w.saturating_sub(4 + width(&tail));
            Line::from(vec![
                Span::styled(
                    mark,
                    st.fg(if sel { theme.selection_text } else { color })
                        .add_modifier(Modifier::BOLD),
                ),
                Span::styled(pad(&clean(&a.text), text_w), st),
                Span::styled(
                    tail,
                    st.fg(if sel {
                        theme.selection_text
                    } else {
                        theme.muted
                    }),
                ),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

/// The focused panel's title starts with ▶: focus is not shown by colour alone.
fn focus_mark(focused: bool) -> &'static str {
    if focused { "▶ " } else { "" }
}

/// Colour and tag of a timeline entry.
fn entry_style(theme: &Theme, body: &EventBody) -> (Color, bool) {
    match body {
        EventBody::Note {
            kind: NoteKind::Decision,
            ..
        } => (theme.title, true),
        EventBody::Note { .. } => (theme.text, false),
        EventBody::Escalated { .. } | EventBody::Paged { .. } | EventBody::UpdateOverdue { .. } => {
            (theme.timer_breached, true)
        }
        EventBody::SeverityChanged { .. }
        | EventBody::KindChanged { .. }
        | EventBody::Declared { .. }
        | EventBody::Reopened { .. } => (theme.timer_warn, true),
        EventBody::Resolved { .. } | EventBody::Contained { .. } | EventBody::Closed => {
            (theme.timer_met, true)
        }
        _ => (theme.info, false),
    }
}

fn timeline_panel(m: &Model, theme: &Theme, f: &mut Frame<'_>, r: Rect, room: &RoomState) {
    let tl = &room.timeline;
    let focused = room.focus == Pane::Timeline;
    let logged = m.timeline_logged(room);
    let pending: Vec<_> = m.pending_for(&room.incident).collect();
    let total = logged + pending.len();
    let mut title = vec![Span::raw(format!(
        " Timeline · {total} entr{} ",
        if total == 1 { "y" } else { "ies" }
    ))];
    if tl.filter != crate::tui::model::Filter::All {
        title.push(Span::styled(
            format!("· filter: {} ", tl.filter.label()),
            Style::default().fg(theme.timer_warn),
        ));
    }
    if tl.follow {
        title.push(Span::styled(
            "· FOLLOW ",
            Style::default().fg(theme.status_live),
        ));
    }
    if let Some(q) = &tl.search {
        title.push(Span::styled(
            format!("· /{} ", clean(q)),
            Style::default().fg(theme.info),
        ));
    }
    if focused {
        title.insert(0, Span::styled(" ▶", Style::default().fg(theme.focus)));
    }
    let block = panel(theme, Line::from(title), focused);
    let inner = block.inner(r);
    f.render_widget(block, r);
    if total == 0 {
        let msg = if tl.filter == crate::tui::model::Filter::All {
            "nothing recorded yet".to_string()
        } else {
            format!("no {} entries (f changes the filter)", tl.filter.label())
        };
        f.render_widget(
            Paragraph::new(Span::styled(msg, Style::default().fg(theme.muted))),
            inner,
        );
        return;
    }
    let h = inner.height as usize;
    // The offset kept by `update`, made safe for this height.
    let mut offset = tl.offset.min(total.saturating_sub(1));
    crate::tui::model::ensure_visible(tl.selected.min(total - 1), &mut offset, h);
    let w = inner.width as usize;
    let actor_w = if w >= 70 { 12 } else { 8 };
    let time_fmt = if w >= 60 { "%H:%M:%S" } else { "%H:%M" };
    let time_w = if w >= 60 { 9 } else { 6 };
    let text_w = w.saturating_sub(time_w + actor_w + 1);
    for row in 0..h.min(total - offset) {
        let i = offset + row;
        let selected = i == tl.selected;
        let y = inner.y + row as u16;
        let area = Rect::new(inner.x, y, inner.width, 1);
        let line = if i < logged {
            match m.timeline_row(room, i) {
                Some(rec) => entry_line(
                    theme,
                    rec,
                    tl.search.as_deref(),
                    (time_fmt, actor_w, text_w),
                    selected && focused,
                ),
                None => Line::default(),
            }
        } else {
            let p = pending[i - logged];
            let text = match &p.cmd.action {
                crate::domain::Action::Note { kind, text } => {
                    if *kind == NoteKind::Note {
                        clean(text)
                    } else {
                        format!("{}: {}", kind.as_str().to_uppercase(), clean(text))
                    }
                }
                other => other.name().replace('_', " "),
            };
            let st = Style::default().fg(theme.pending);
            Line::from(vec![
                Span::styled(
                    pad(
                        &p.cmd
                            .occurred_at
                            .unwrap_or(p.at)
                            .format(time_fmt)
                            .to_string(),
                        time_w,
                    ),
                    st,
                ),
                Span::styled(pad(&clean(&m.me.name), actor_w + 1), st),
                Span::styled(
                    "PENDING ",
                    st.add_modifier(Modifier::BOLD | Modifier::REVERSED),
                ),
                Span::styled(
                    fit(&format!(" {text}"), text_w.saturating_sub(8)),
                    st.add_modifier(Modifier::ITALIC),
                ),
            ])
        };
        if selected && focused {
            f.buffer_mut().set_style(
                area,
                Style::default()
                    .fg(theme.selection_text)
                    .bg(theme.selection),
            );
        } else if selected {
            f.buffer_mut()
                .set_style(area, Style::default().add_modifier(Modifier::UNDERLINED));
        }
        f.buffer_mut().set_line(area.x, area.y, &line, area.width);
        if selected && focused {
            // ▶ in the gap after the time: the selection without colour.
            let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
            let gap = text.find(' ').map_or(0, |i| text[..i].chars().count());
            let x = area.x + u16::try_from(gap).unwrap_or(0);
            if x < area.x + area.width
                && let Some(cell) = f.buffer_mut().cell_mut((x, area.y))
            {
                cell.set_symbol("▶");
            }
        }
    }
}

fn entry_line<'a>(
    theme: &Theme,
    rec: &Recorded,
    search: Option<&str>,
    (time_fmt, actor_w, text_w): (&str, usize, usize),
    selected: bool,
) -> Line<'a> {
    let ev = &rec.event;
    let (color, bold) = entry_style(theme, &ev.body);
    let text = fit(&clean(&ev.body.describe()), text_w);
    let mut st = Style::default().fg(if selected {
        theme.selection_text
    } else {
        color
    });
    if bold {
        st = st.add_modifier(Modifier::BOLD);
    }
    let mut spans = vec![
        Span::styled(
            format!("{} ", ev.occurred_at.format(time_fmt)),
            Style::default().fg(if selected {
                theme.selection_text
            } else {
                theme.muted
            }),
        ),
        Span::styled(
            pad(&clean(&ev.actor), actor_w) + " ",
            Style::default().fg(if selected {
                theme.selection_text
            } else {
                theme.muted
            }),
        ),
    ];
    // Highlight the search match (when lowercasing keeps byte offsets).
    let hit = search
        .filter(|q| !q.is_empty() && entry_matches(rec, q))
        .and_then(|q| {
            let lower = text.to_lowercase();
            (lower.len() == text.len())
                .then(|| lower.find(q).map(|s| (s, s + q.len())))
                .flatten()
        });
    match hit {
        Some((s, e)) if text.is_char_boundary(s) && text.is_char_boundary(e) => {
            spans.push(Span::styled(text[..s].to_string(), st));
            spans.push(Span::styled(
                text[s..e].to_string(),
                st.bg(theme.search).add_modifier(Modifier::BOLD),
            ));
            spans.push(Span::styled(text[e..].to_string(), st));
        }
        _ => spans.push(Span::styled(text, st)),
    }
    Line::from(spans)
}

fn composer(m: &Model, theme: &Theme, f: &mut Frame<'_>, r: Rect) {
    let Some(c) = &m.composer else { return };
    let kind_color = match c.kind {
        NoteKind::Note => theme.text,
        NoteKind::Decision => theme.title,
        NoteKind::Action => theme.timer_warn,
        NoteKind::Observation => theme.info,
    };
    let title = Line::from(vec![
        Span::raw(" "),
        Span::styled(
            format!(" {} ", c.kind.as_str().to_uppercase()),
            Style::default()
                .fg(kind_color)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ),
        Span::styled(
            " Enter send · Alt-Enter newline · Tab kind · Esc hide ",
            Style::default().fg(theme.muted),
        ),
    ]);
    let block = panel(theme, title, true);
    let inner = block.inner(r);
    f.render_widget(block, r);
    f.render_widget(&c.editor, inner);
}
