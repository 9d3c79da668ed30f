//! Modal layers: help (generated from the keymap), dialogs, yes/no questions
//! and the `:` / `/` prompts.

use super::{clean, fit, pad, panel};
use crate::domain::checklist::{Done, item_done};
use crate::domain::clocks::{ClockKind, ClockState, clocks};
use crate::domain::command::Access;
use crate::domain::decide::closure_missing;
use crate::domain::duration::countdown;
use crate::domain::flowchart::{self, Outcome};
use crate::tui::command_line::VERBS;
use crate::tui::form::{Form, FormKind, Input};
use crate::tui::keymap::{Act, Keymap, MOUSE};
use crate::tui::layout::centered;
use crate::tui::model::{Confirm, Model, Prompt, PromptKind};
use crate::tui::prefill;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

/// One line of the help screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HelpLine {
    Heading(String),
    Row(String, String),
    /// A key this window's token role may not use: shown dimmed, with the role it needs.
    Barred(String, String),
    Blank,
}

/// The help screen's content: every binding of the keymap by context, the
/// mouse, and the command line's verbs.
pub fn help_lines(keymap: &Keymap) -> Vec<HelpLine> {
    help_lines_for(keymap, Access::Admin)
}

/// [`help_lines`] for a token `role`: keys it may not use are [`HelpLine::Barred`].
pub fn help_lines_for(keymap: &Keymap, role: Access) -> Vec<HelpLine> {
    let mut out = vec![
        HelpLine::Row(
            "[keys]".into(),
            "action names (before each description) bind keys in the config: \"ctrl-n\" = \"note\""
                .into(),
        ),
        HelpLine::Blank,
    ];
    for (ctx, rows) in keymap.help() {
        out.push(HelpLine::Heading(ctx.title().to_string()));
        for (keys, desc, name) in rows {
            let need = Act::from_name(name).and_then(|a| a.needs(ctx));
            match need {
                Some(need) if role < need => out.push(HelpLine::Barred(
                    keys,
                    format!("{name}: {desc} (needs the {} role)", need.as_str()),
                )),
                _ => out.push(HelpLine::Row(keys, format!("{name}: {desc}"))),
            }
        }
        out.push(HelpLine::Blank);
    }
    out.push(HelpLine::Heading("Mouse".into()));
    for (k, d) in MOUSE {
        out.push(HelpLine::Row((*k).to_string(), (*d).to_string()));
    }
    out.push(HelpLine::Blank);
    out.push(HelpLine::Heading("Command line (:)".into()));
    for (_, syntax, desc) in VERBS {
        out.push(HelpLine::Row((*syntax).to_string(), (*desc).to_string()));
    }
    out
}

pub fn help(m: &Model, theme: &Theme, f: &mut Frame<'_>, body: Rect, scroll: usize) {
    let r = centered(body, body.width.saturating_sub(4).max(20), body.height);
    f.render_widget(Clear, r);
    let block = panel(
        theme,
        " Help · every key · j/k PgUp/PgDn scroll · Esc close ",
        true,
    );
    let inner = block.inner(r);
    f.render_widget(block, r);
    let lines = help_lines_for(&m.keymap, m.me.role);
    let key_w = (inner.width as usize / 3).clamp(12, 28);
    let text: Vec<Line> = lines
        .iter()
        .skip(scroll)
        .take(inner.height as usize)
        .map(|l| match l {
            HelpLine::Heading(t) => Line::styled(
                t.clone(),
                Style::default()
                    .fg(theme.title)
                    .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            ),
            HelpLine::Row(k, d) => {
                // Long command syntaxes take the whole line with the description after.
                let (kw, dw) = if super::width(k) + 1 > key_w {
                    (super::width(k) + 2, inner.width as usize)
                } else {
                    (key_w, inner.width as usize)
                };
                Line::from(vec![
                    Span::styled(
                        format!("  {}", pad(k, kw)),
                        Style::default()
                            .fg(theme.focus)
                            .add_modifier(Modifier::BOLD),
                    ),
                    Span::styled(fit(d, dw), Style::default().fg(theme.text)),
                ])
            }
            HelpLine::Barred(k, d) => Line::from(vec![
                Span::styled(
                    format!("✗ {}", pad(k, key_w)),
                    Style::default().fg(theme.muted),
                ),
                Span::styled(
                    fit(d, inner.width as usize),
                    Style::default()
                        .fg(theme.muted)
                        .add_modifier(Modifier::CROSSED_OUT),
                ),
            ]),
            HelpLine::Blank => Line::default(),
        })
        .collect();
    f.render_widget(Paragraph::new(text), inner);
}

/// One timeline entry in full, wrapped: who, when (as written and as recorded), what.
pub fn entry(m: &Model, theme: &Theme, f: &mut Frame<'_>, body: Rect, row: usize) {
    let Some(room) = m.room() else { return };
    let Some(rec) = m.timeline_row(room, row) else {
        return;
    };
    let ev = &rec.event;
    let muted = Style::default().fg(theme.muted);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                format!("{} ", clean(&ev.actor)),
                Style::default()
                    .fg(theme.title)
                    .add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                match &ev.body {
                    crate::domain::EventBody::Note { kind, .. } => kind.as_str().to_string(),
                    other => other.kind_name().replace('_', " "),
                },
                Style::default().fg(theme.info),
            ),
        ]),
        Line::styled(
            format!(
                "at {} · recorded {} · seq {}",
                ev.occurred_at.format("%Y-%m-%d %H:%M:%S UTC"),
                rec.recorded_at.format("%H:%M:%S"),
                rec.seq
            ),
            muted,
        ),
        Line::default(),
    ];
    let text = match &ev.body {
        crate::domain::EventBody::Note { text, .. } => text.clone(),
        crate::domain::EventBody::UpdatePosted {
            text,
            channel,
            state,
        } => format!(
            "{} update{}\n\n{text}",
            channel.label(),
            state.map(|s| format!(" ({s})")).unwrap_or_default()
        ),
        other => other.describe(),
    };
    for l in crate::domain::sanitize::sanitize(&text).lines() {
        lines.push(Line::styled(l.to_string(), Style::default().fg(theme.text)));
    }
    let w = body.width.saturating_sub(8).clamp(20, 100);
    let h = (lines.len() as u16 + 4).min(body.height);
    let r = centered(body, w, h.max(8));
    f.render_widget(Clear, r);
    let block = panel(theme, " Timeline entry · Esc close ", true);
    let inner = block.inner(r);
    f.render_widget(block, r);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

pub fn confirm(theme: &Theme, f: &mut Frame<'_>, body: Rect, c: &Confirm) {
    let w = c
        .lines
        .iter()
        .map(|l| super::width(l))
        .max()
        .unwrap_or(20)
        .max(super::width(&c.title) + 4) as u16
        + 4;
    let h = c.lines.len() as u16 + 2;
    let r = centered(body, w.min(body.width), h);
    f.render_widget(Clear, r);
    let block = panel(theme, format!(" {} ", c.title), true);
    let inner = block.inner(r);
    f.render_widget(block, r);
    let lines: Vec<Line> = c
        .lines
        .iter()
        .map(|l| Line::styled(format!(" {l}"), Style::default().fg(theme.text)))
        .collect();
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// The prompt docked above the status bar, with its error or completions.
pub fn prompt(_m: &Model, theme: &Theme, f: &mut Frame<'_>, area: Rect, p: &Prompt) {
    let extra = u16::from(p.error.is_some() || p.completion.is_some());
    let h = 1 + extra;
    let y = area.y + area.height.saturating_sub(1 + h);
    let r = Rect::new(area.x, y, area.width, h);
    f.render_widget(Clear, r);
    f.buffer_mut()
        .set_style(r, Style::default().bg(theme.background).fg(theme.text));
    let lead = match p.kind {
        PromptKind::Command => ":",
        PromptKind::Search => "/",
    };
    let line_r = Rect::new(r.x, r.y, r.width, 1);
    f.render_widget(
        Paragraph::new(Span::styled(
            lead,
            Style::default()
                .fg(theme.focus)
                .add_modifier(Modifier::BOLD),
        )),
        line_r,
    );
    let edit_r = Rect::new(r.x + 1, r.y, r.width.saturating_sub(1), 1);
    f.render_widget(&p.editor, edit_r);
    if extra == 1 {
        let info_r = Rect::new(r.x, r.y + 1, r.width, 1);
        let line = if let Some(e) = &p.error {
            Line::from(vec![
                Span::styled(
                    " ERROR ",
                    Style::default()
                        .fg(theme.error)
                        .add_modifier(Modifier::BOLD | Modifier::REVERSED),
                ),
                Span::styled(format!(" {}", clean(e)), Style::default().fg(theme.error)),
            ])
        } else if let Some((cands, i)) = &p.completion {
            let mut spans = vec![Span::styled(" Tab: ", Style::default().fg(theme.muted))];
            for (k, c) in cands.iter().enumerate() {
                let word = c.trim_end().rsplit(' ').next().unwrap_or(c).to_string();
                let st = if k == *i {
                    Style::default()
                        .fg(theme.selection_text)
                        .bg(theme.selection)
                } else {
                    Style::default().fg(theme.text)
                };
                spans.push(Span::styled(word, st));
                spans.push(Span::raw(" "));
            }
            Line::from(spans)
        } else {
            Line::default()
        };
        f.render_widget(Paragraph::new(line), info_r);
    }
}

/// The read-only part of a dialog: what the author should see before submitting.
fn info(m: &Model, theme: &Theme, form: &Form) -> Vec<Line<'static>> {
    let now = m.server_now();
    let inc = form.incident.and_then(|id| m.incident(&id));
    let muted = Style::default().fg(theme.muted);
    let text = Style::default().fg(theme.text);
    let head = Style::default()
        .fg(theme.title)
        .add_modifier(Modifier::BOLD);
    let mut out = Vec::new();
    if let Some(inc) = inc {
        out.push(Line::styled(
            format!("{} · {}", inc.key(), clean(&inc.title)),
            head,
        ));
    }
    match form.kind {
        FormKind::Declare | FormKind::Severity => {
            if let Some(answers) = &form.flow
                && let Some(flow) = &m.policy.flowchart
            {
                out.push(Line::styled("Severity flowchart", head));
                if let Ok(Outcome::Ask(q)) = flowchart::classify(flow, answers) {
                    out.push(Line::styled(
                        clean(&q.text),
                        text.add_modifier(Modifier::BOLD),
                    ));
                    for (i, a) in q.answers.iter().enumerate() {
                        let to = a
                            .severity
                            .as_deref()
                            .map(|s| format!("  → {s}"))
                            .unwrap_or_default();
                        out.push(Line::styled(
                            format!("  {}. {}{to}", i + 1, clean(&a.label)),
                            text,
                        ));
                    }
                }
                out.push(Line::styled(
                    "1…9 answer · Backspace previous question · Esc back to the form",
                    muted,
                ));
                return out;
            }
            let sel = form.value("severity");
            if let Some(sev) = m.policy.severity(&sel) {
                let rank = m.policy.severity_rank(&sev.id);
                out.push(Line::from(vec![
                    Span::styled(
                        format!(" {} ", clean(&sev.label)),
                        Style::default()
                            .fg(theme.severity(rank))
                            .add_modifier(Modifier::BOLD | Modifier::REVERSED),
                    ),
                    Span::styled(format!(" {} — any of:", clean(&sev.name)), text),
                ]));
                for c in sev.criteria.iter().take(5) {
                    out.push(Line::styled(format!("  • {}", clean(c)), muted));
                }
                let mut targets = Vec::new();
                for (w, s) in [
                    ("ack", sev.acknowledge),
                    ("contain", sev.contain),
                    ("resolve", sev.resolve),
                ] {
                    if let Some(s) = s {
                        targets.push(format!("{w} {s}"));
                    }
                }
                if !targets.is_empty() {
                    out.push(Line::styled(
                        format!("  targets: {}", targets.join(" · ")),
                        muted,
                    ));
                }
            }
        }
        FormKind::Update => {
            if let Some(inc) = inc {
                for c in clocks(inc, &m.policy, now) {
                    if let ClockKind::Update(_) = c.kind {
                        out.push(clock_line(theme, &c));
                    }
                }
                // Where the runbook's sections disagree, the other reading is shown
                // (a channel without a clock included: the note says why).
                if let Some(sev) = m.policy.severity(&inc.severity) {
                    for ch in crate::domain::event::Channel::ALL {
                        if let Some(note) = sev.notes.get(ch.as_str()) {
                            out.push(Line::styled(
                                format!("  {}: {}", ch.label(), clean(note)),
                                muted,
                            ));
                        }
                    }
                }
            }
        }
        FormKind::Escalate => {
            if let Some(inc) = inc {
                // The runbook's backups first (003's Backup column; 001 "escalate
                // to the next defined backup"), a primary who did not answer on top.
                let backups = crate::domain::backup::offers(inc, &m.policy, now);
                if !backups.is_empty() {
                    out.push(Line::styled("Backups (runbook):", muted));
                    for b in &backups {
                        let st = if b.unanswered {
                            Style::default()
                                .fg(theme.timer_warn)
                                .add_modifier(Modifier::BOLD)
                        } else {
                            text
                        };
                        out.push(Line::styled(format!("  {}", clean(&b.describe())), st));
                    }
                }
                // The runbook's manual escalation criteria, and which one the clocks say applies.
                if !m.policy.escalation_criteria.is_empty() {
                    out.push(Line::styled("When to escalate (runbook):", muted));
                    for c in &m.policy.escalation_criteria {
                        out.push(Line::styled(format!("  - {}", clean(c)), text));
                    }
                }
                for c in clocks(inc, &m.policy, now) {
                    let applies = match c.kind {
                        ClockKind::Resolve => "resolution is taking longer than target",
                        ClockKind::Acknowledge => "the incident exceeds its response time",
                        ClockKind::Contain => "containment is taking longer than target",
                        _ => continue,
                    };
                    if c.state == ClockState::Breached && c.is_running() {
                        out.push(Line::styled(
                            format!("HINT: escalation applies — {applies} ({} OVERDUE)", c.label),
                            Style::default()
                                .fg(theme.timer_warn)
                                .add_modifier(Modifier::BOLD),
                        ));
                    }
                }
                let preview = prefill::escalation(
                    inc,
                    &m.policy,
                    &form.value("reason"),
                    &form.value("requested"),
                    now,
                );
                out.push(Line::styled(
                    "Escalation request (Ctrl-Y copies it):",
                    muted,
                ));
                for l in preview.lines() {
                    out.push(Line::styled(format!("  {}", clean(l)), text));
                }
            }
        }
        FormKind::Resolve => {
            if let Some(inc) = inc {
                if let Some(list) = m
                    .policy
                    .resolution
                    .checklist
                    .as_deref()
                    .and_then(|id| m.policy.checklist(id))
                {
                    // The policy's title may already say so ("Resolution criteria (§7.4)").
                    let title = clean(&list.title);
                    let heading = if title.to_lowercase().contains("resolution criteria") {
                        title
                    } else {
                        format!("Resolution criteria: {title}")
                    };
                    out.push(Line::styled(heading, head));
                    for it in &list.items {
                        let done = item_done(inc, &m.policy, &list.id, it, now);
                        let proof = match &done {
                            Some(Done::Proven(e)) => format!(" — {}", clean(e)),
                            _ => String::new(),
                        };
                        out.push(Line::styled(
                            format!(
                                "  [{}] {}{proof}",
                                if done.is_some() { "x" } else { " " },
                                clean(&it.text)
                            ),
                            if done.is_some() { muted } else { text },
                        ));
                    }
                    if m.policy.resolution.gate {
                        let unmet = crate::domain::checklist::unmet_criteria(inc, &m.policy, now);
                        if !unmet.is_empty() {
                            out.push(Line::styled(
                                "Unmet criteria need an override: give the reason below (recorded with your name).",
                                Style::default().fg(theme.timer_warn).add_modifier(Modifier::BOLD),
                            ));
                        }
                    }
                }
                match m.policy.resolution.stability_window {
                    Some(window) => {
                        match clocks(inc, &m.policy, now)
                            .into_iter()
                            .find(|c| c.kind == ClockKind::Stability)
                        {
                            Some(c) => out.push(clock_line(theme, &c)),
                            None => out.push(Line::styled(
                                format!("stable for {window}: not monitoring yet — the window starts when the status is monitoring"),
                                Style::default().fg(theme.timer_warn).add_modifier(Modifier::BOLD),
                            )),
                        }
                    }
                    None => out.push(Line::styled("the policy sets no stability window", muted)),
                }
            }
        }
        FormKind::Close => {
            if let Some(inc) = inc {
                out.push(Line::styled("Definition of done", head));
                let missing = closure_missing(inc, &m.policy, now);
                if missing.is_empty() {
                    out.push(Line::styled(
                        "  ✓ everything the policy requires is done — Enter closes",
                        Style::default()
                            .fg(theme.timer_met)
                            .add_modifier(Modifier::BOLD),
                    ));
                } else {
                    for item in missing {
                        out.push(Line::styled(
                            format!("  ✗ {}", clean(&item)),
                            Style::default().fg(theme.timer_breached),
                        ));
                    }
                }
            }
        }
        FormKind::Role => {
            if let Some(inc) = inc {
                for r in &m.policy.roles {
                    let holder = inc.roles.get(&r.id).map_or("—".to_string(), |p| clean(p));
                    // The runbook's backup is offered as the person (pre-filled).
                    let backup = r
                        .backup
                        .as_deref()
                        .map_or_else(String::new, |b| format!("   backup: {}", clean(b)));
                    out.push(Line::styled(
                        format!("  {:<12} {holder}{backup}", clean(&r.id)),
                        muted,
                    ));
                }
            }
        }
        _ => {}
    }
    out
}

fn clock_line(theme: &Theme, c: &crate::domain::clocks::Clock) -> Line<'static> {
    let st = Style::default()
        .fg(theme.clock(c.tone()))
        .add_modifier(Modifier::BOLD);
    let label = if c.warroom_default {
        format!("{} (warroom default)", c.label)
    } else {
        c.label.clone()
    };
    Line::from(vec![
        Span::styled(
            format!("  {} ", pad(&clean(&label), 22.max(label.chars().count()))),
            Style::default().fg(theme.text),
        ),
        Span::styled(format!("{:>9} ", countdown(c.remaining_secs)), st),
        Span::styled(c.word(), st),
    ])
}

pub fn form(m: &Model, theme: &Theme, f: &mut Frame<'_>, body: Rect, form: &Form) {
    let w = body.width.saturating_sub(4).min(84);
    let info = super::wrap::wrap(info(m, theme, form), usize::from(w.saturating_sub(2)));
    let fields_h: u16 = form.fields.iter().map(|x| x.height()).sum();
    let h = (info.len() as u16
        + u16::from(!info.is_empty())
        + fields_h
        + 4
        + u16::from(form.error.is_some()))
    .min(body.height);
    let r = centered(body, w, h);
    f.render_widget(Clear, r);
    let block = panel(theme, format!(" {} ", form.title()), true);
    let inner = block.inner(r);
    f.render_widget(block, r);
    let mut y = inner.y;
    let bottom = inner.y + inner.height;
    // The fields, the error and the hint always show; the information above
    // them gets what is left.
    let reserved = fields_h + 1 + u16::from(form.error.is_some()) + u16::from(!info.is_empty());
    let info_rows = inner.height.saturating_sub(reserved) as usize;
    let hidden = info.len().saturating_sub(info_rows);
    let shown = if hidden > 0 {
        info_rows.saturating_sub(1)
    } else {
        info_rows
    };
    for line in info.iter().take(shown) {
        f.buffer_mut().set_line(inner.x, y, line, inner.width);
        y += 1;
    }
    if hidden > 0 && info_rows > 0 {
        // Never cut silently: say how much is not shown, and where it is.
        let more = hidden + 1;
        let whole = if form.kind == FormKind::Escalate {
            " — Ctrl-Y copies the whole request"
        } else {
            " — a taller terminal shows them"
        };
        let note = Line::styled(
            format!("  … {more} more lines{whole}"),
            Style::default().fg(theme.muted),
        );
        f.buffer_mut().set_line(inner.x, y, &note, inner.width);
        y += 1;
    }
    if !info.is_empty() {
        y += 1;
    }
    // The mark, the longest label ("Requested action") and one space before the value.
    let label_w: u16 = 20;
    for (i, field) in form.fields.iter().enumerate() {
        let fh = field.height();
        if y + fh > bottom {
            break;
        }
        let focused = i == form.focus && form.flow.is_none();
        let label_st = if focused {
            Style::default()
                .fg(theme.focus)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(theme.muted)
        };
        let mark = if focused { "▶ " } else { "  " };
        f.buffer_mut().set_line(
            inner.x,
            y,
            &Line::styled(
                format!("{mark}{}", fit(field.label, usize::from(label_w) - 3)),
                label_st,
            ),
            label_w - 1,
        );
        let input_r = Rect::new(
            inner.x + label_w,
            y,
            inner.width.saturating_sub(label_w),
            fh,
        );
        match &field.input {
            Input::Text { editor, .. } => {
                let bg = Style::default()
                    .bg(theme.selection)
                    .fg(theme.selection_text);
                if focused {
                    f.buffer_mut().set_style(input_r, bg);
                    f.render_widget(&**editor, input_r);
                } else {
                    let text: Vec<Line> = editor
                        .lines()
                        .iter()
                        .take(fh as usize)
                        .map(|l| Line::styled(l.clone(), Style::default().fg(theme.text)))
                        .collect();
                    f.buffer_mut().set_style(
                        input_r,
                        Style::default().fg(theme.text).bg(theme.background),
                    );
                    f.render_widget(Paragraph::new(text), input_r);
                    if editor.lines().iter().all(|l| l.trim().is_empty()) {
                        f.buffer_mut().set_line(
                            input_r.x,
                            input_r.y,
                            &Line::styled(
                                "·".repeat(input_r.width.min(30) as usize),
                                Style::default().fg(theme.border),
                            ),
                            input_r.width,
                        );
                    }
                }
            }
            Input::Choice { options, selected } => {
                let label = options.get(*selected).map_or("", |o| o.label.as_str());
                let color = if field.name == "severity" {
                    let v = options.get(*selected).map_or("", |o| o.value.as_str());
                    theme.severity(m.policy.severity_rank(v))
                } else {
                    theme.text
                };
                let st = Style::default().fg(color).add_modifier(Modifier::BOLD);
                let arrows = Style::default().fg(if focused { theme.focus } else { theme.border });
                let count = format!("  {}/{}", selected + 1, options.len());
                f.buffer_mut().set_line(
                    input_r.x,
                    input_r.y,
                    &Line::from(vec![
                        Span::styled("‹ ", arrows),
                        Span::styled(clean(label), st),
                        Span::styled(" ›", arrows),
                        Span::styled(count, Style::default().fg(theme.muted)),
                    ]),
                    input_r.width,
                );
            }
        }
        y += fh;
    }
    if let Some(e) = &form.error
        && y < bottom
    {
        f.buffer_mut().set_line(
            inner.x,
            y,
            &Line::from(vec![
                Span::styled(
                    " ERROR ",
                    Style::default()
                        .fg(theme.error)
                        .add_modifier(Modifier::BOLD | Modifier::REVERSED),
                ),
                Span::styled(format!(" {}", clean(e)), Style::default().fg(theme.error)),
            ]),
            inner.width,
        );
    }
    let mut hint = vec!["Enter submit", "Tab next field", "←/→ choose", "Esc cancel"];
    match form.kind {
        FormKind::Declare if m.policy.flowchart.is_some() => hint.insert(3, "Ctrl-F flowchart"),
        FormKind::Update => hint.insert(1, "Alt-Enter newline"),
        FormKind::Escalate => hint.insert(3, "Ctrl-Y copy"),
        _ => {}
    }
    if form.fields.is_empty() {
        hint = vec!["Enter submit", "Esc cancel"];
    }
    if form.flow.is_some() {
        hint = vec!["answer with the number keys"];
    }
    f.buffer_mut().set_line(
        inner.x,
        bottom.saturating_sub(1),
        &Line::styled(
            fit(&hint.join(" · "), inner.width as usize),
            Style::default().fg(theme.muted),
        ),
        inner.width,
    );
}
