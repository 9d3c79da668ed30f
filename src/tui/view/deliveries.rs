//! The deliveries list of one incident: every notification sent (or being
//! retried, or given up) for it, newest first, with the key that retries one.
//! What the timeline says line by line ("→ Slack ✓", "PagerDuty failed 3×,
//! retrying in 40 s"), gathered per delivery.

use super::{clean, fit, panel};
use crate::domain::event::DeliveryOutcome;
use crate::domain::state::{Delivery, Incident};
use crate::tui::keymap::{Act, Context};
use crate::tui::layout::centered;
use crate::tui::model::Model;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use uuid::Uuid;

/// The rows of the list: failing ones first, then newest first.
pub fn delivery_rows(inc: &Incident) -> Vec<&Delivery> {
    let mut rows: Vec<&Delivery> = inc.deliveries.values().collect();
    rows.sort_by(|a, b| {
        b.failing()
            .cmp(&a.failing())
            .then(b.at.cmp(&a.at))
            .then(a.id.cmp(&b.id))
    });
    rows
}

/// The state word: never colour alone.
fn word(d: &Delivery) -> &'static str {
    match d.outcome {
        _ if d.retry_requested => "RETRY ASKED",
        DeliveryOutcome::Sent => "SENT",
        DeliveryOutcome::Failed => "RETRYING",
        DeliveryOutcome::GaveUp => "FAILED",
    }
}

pub fn render(
    m: &Model,
    theme: &Theme,
    f: &mut Frame<'_>,
    body: Rect,
    incident: Uuid,
    selected: usize,
) {
    let Some(inc) = m.incident(&incident) else {
        return;
    };
    let r = centered(body, body.width.saturating_sub(4).max(20), body.height);
    f.render_widget(Clear, r);
    let retry = m.keymap.keys_for(Context::Deliveries, Act::RetryDelivery);
    let close = m.keymap.keys_for(Context::Deliveries, Act::Back);
    let block = panel(
        theme,
        format!(
            " {} deliveries · {} retry · {} close ",
            inc.key(),
            retry,
            close
        ),
        true,
    );
    let inner = block.inner(r);
    f.render_widget(block, r);
    let rows = delivery_rows(inc);
    let w = inner.width as usize;
    let mut lines = Vec::new();
    if rows.is_empty() {
        lines.push(Line::styled(
            "No notifications for this incident (the policy's [notify] routes decide which events are sent).",
            Style::default().fg(theme.muted),
        ));
    }
    let height = inner.height as usize;
    let offset = selected.saturating_sub(height.saturating_sub(1));
    let now = m.server_now();
    for (i, d) in rows.iter().enumerate().skip(offset).take(height) {
        let sel = i == selected;
        let base = if sel {
            Style::default()
                .fg(theme.selection_text)
                .bg(theme.selection)
        } else {
            Style::default().fg(theme.text)
        };
        let state_style = match d.outcome {
            DeliveryOutcome::Sent => base.fg(theme.timer_ok),
            DeliveryOutcome::Failed => base.fg(theme.timer_warn),
            DeliveryOutcome::GaveUp => base.fg(theme.timer_breached),
        }
        .add_modifier(Modifier::BOLD);
        let tries = if d.attempts == 1 {
            "1 try".to_string()
        } else {
            format!("{} tries", d.attempts)
        };
        let when = match (d.outcome, d.retry_at) {
            (DeliveryOutcome::Failed, Some(at)) if at > now => {
                format!("next {}", at.format("%H:%M:%S"))
            }
            _ => d.at.format("%H:%M:%S").to_string(),
        };
        let state = format!("{}{:<12}", if sel { "▶" } else { " " }, word(d));
        let middle = format!(
            "{:<26}{:<14}{:<9}{:<14}",
            fit(&clean(&d.label), 25),
            fit(&clean(&d.what), 13),
            tries,
            when
        );
        let used = super::width(&state) + super::width(&middle);
        lines.push(Line::from(vec![
            Span::styled(state, state_style),
            Span::styled(middle, base),
            Span::styled(
                fit(&clean(&d.detail), w.saturating_sub(used)),
                base.fg(if sel {
                    theme.selection_text
                } else {
                    theme.muted
                }),
            ),
        ]));
    }
    f.render_widget(Paragraph::new(lines), inner);
}
