//! The post-incident review as a Markdown draft, laid out like runbook 002
//! §8.2 ("PIR Document Template"), filled from what the war room recorded.
//!
//! Everything that was recorded goes in (timeline, decisions, escalations,
//! clock results, action items, observations); everything only people can
//! write (root cause, lessons) is left as a visible `[to be completed]`
//! prompt, never invented. The text in the log was sanitised by `decide`;
//! here it is only escaped so it cannot break a Markdown table.

use super::clocks::{ClockKind, ClockState, clocks};
use super::duration::humanize;
use super::event::{Channel, Event, EventBody, NoteKind};
use super::policy::Policy;
use super::state::Incident;
use chrono::{DateTime, Utc};
use std::fmt::Write;

/// The prompt left wherever nothing was recorded.
pub const TODO: &str = "[to be completed]";

/// Renders the review of `inc` from its recorded `events` (events of other
/// incidents are ignored), judging running clocks at `now`.
pub fn render(inc: &Incident, events: &[&Event], policy: &Policy, now: DateTime<Utc>) -> String {
    let mut events: Vec<&Event> = events
        .iter()
        .copied()
        .filter(|e| e.incident == inc.id)
        .collect();
    // Offline authors and the scheduler's backdated escalations arrive late: order by when it happened.
    events.sort_by_key(|e| e.occurred_at);

    let mut md = String::new();
    header(&mut md, inc, policy, now);
    summary(&mut md, inc, &events);
    impact(&mut md, inc, now);
    timeline(&mut md, &events);
    decisions(&mut md, &events);
    escalations(&mut md, &events);
    let results = sla_results(&mut md, inc, policy, now, &events);
    action_items(&mut md, inc);
    analysis(&mut md, inc, &events, &results);
    appendix(&mut md, inc, policy, now, events.len());
    md
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Escapes a table cell: pipes, and line breaks as `<br>`.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
}

/// One list line: line breaks become spaces so the item stays one bullet.
fn line(s: &str) -> String {
    s.replace('\n', " ")
}

fn or_todo(s: &str) -> String {
    if s.trim().is_empty() {
        TODO.to_string()
    } else {
        line(s)
    }
}

fn header(md: &mut String, inc: &Incident, policy: &Policy, now: DateTime<Utc>) {
    let sev = policy.severity(&inc.severity);
    let sev_text = match sev {
        Some(s) if s.name != s.label => format!("{} ({})", s.label, s.name),
        Some(s) => s.label.clone(),
        None => inc.severity.clone(),
    };
    let start = inc.declared.at;
    let duration = match &inc.resolved {
        Some(r) => format!("{} to {} ({})", ts(start), ts(r.at), humanize(r.at - start)),
        None => format!(
            "{} to ongoing ({} so far)",
            ts(start),
            humanize(now - start)
        ),
    };
    let status = if inc.closed.is_some() {
        "closed".to_string()
    } else if inc.resolved.is_some() {
        "resolved".to_string()
    } else {
        format!("{} (ongoing)", inc.status)
    };
    let author = inc.roles.get("ic").unwrap_or(&inc.declared.by);
    let review_date = inc
        .review
        .as_ref()
        .map_or_else(|| TODO.to_string(), |r| r.at.format("%Y-%m-%d").to_string());
    let _ = writeln!(md, "# Post-Incident Review: {}\n", line(&inc.title));
    let _ = writeln!(md, "**Incident ID:** {} ({})  ", inc.key(), inc.id);
    let _ = writeln!(md, "**Date:** {}  ", start.format("%Y-%m-%d"));
    let _ = writeln!(md, "**Duration:** {duration}  ");
    let _ = writeln!(
        md,
        "**Impact Start:** {}  ",
        inc.impact_started.map_or_else(|| TODO.to_string(), ts)
    );
    let method = inc
        .detection_method()
        .map_or_else(|| TODO.to_string(), |m| m.label().to_string());
    let ttd = inc
        .time_to_detect()
        .map_or_else(|| TODO.to_string(), humanize);
    let _ = writeln!(
        md,
        "**Detected:** {} by {method} (time to detect: {ttd})  ",
        ts(inc.detected_at())
    );
    let _ = writeln!(md, "**Severity:** {sev_text}  ");
    let _ = writeln!(md, "**Kind:** {}  ", inc.kind);
    let _ = writeln!(md, "**Status:** {status}  ");
    let _ = writeln!(md, "**Author:** {author} (Incident Commander)  ");
    let _ = writeln!(md, "**Review Date:** {review_date}  ");
    if let Some(s) = sev {
        let pir = match (s.review.required, s.review.due, &inc.resolved) {
            (false, _, _) => "not required for this severity".to_string(),
            (true, Some(due), Some(r)) => format!(
                "required, due {} ({due} after resolution)",
                ts(due.after(r.at))
            ),
            (true, Some(due), None) => format!("required, due {due} after resolution"),
            (true, None, _) => "required".to_string(),
        };
        let _ = writeln!(md, "**PIR:** {pir}  ");
    }
    md.push('\n');
}

fn summary(md: &mut String, inc: &Incident, events: &[&Event]) {
    let from_review = events.iter().rev().find_map(|e| match &e.body {
        EventBody::ReviewCompleted { summary } if !summary.trim().is_empty() => Some(summary),
        _ => None,
    });
    // The latest resolution's summary, unless the incident was reopened
    // since: that summary described a resolution that did not hold.
    let from_resolution = events
        .iter()
        .rev()
        .find_map(|e| match &e.body {
            EventBody::Resolved { summary, .. } => Some(Some(summary)),
            EventBody::Reopened { .. } => Some(None),
            _ => None,
        })
        .flatten()
        .filter(|s| !s.trim().is_empty());
    md.push_str("## Summary\n\n");
    match from_review.or(from_resolution) {
        Some(s) => {
            md.push_str(s.trim());
            md.push_str("\n\n");
        }
        None if !inc.impact.summary.trim().is_empty() => {
            let _ = writeln!(
                md,
                "{}\n\n{TODO}: 2-3 paragraph executive summary.\n",
                inc.impact.summary.trim()
            );
        }
        None => {
            let _ = writeln!(md, "{TODO}: 2-3 paragraph executive summary.\n");
        }
    }
}

fn impact(md: &mut String, inc: &Incident, now: DateTime<Utc>) {
    let i = &inc.impact;
    let services = if i.services.is_empty() {
        TODO.to_string()
    } else {
        i.services.join(", ")
    };
    let exposure = if i.data_exposure {
        "YES: data was exposed"
    } else {
        "none recorded"
    };
    let downtime = match &inc.resolved {
        Some(r) => format!(
            "{} from declaration to resolution",
            humanize(r.at - inc.declared.at)
        ),
        None => format!(
            "ongoing, {} since declaration",
            humanize(now - inc.declared.at)
        ),
    };
    md.push_str("## Impact\n\n");
    let _ = writeln!(md, "- **Summary:** {}", or_todo(&i.summary));
    let _ = writeln!(md, "- **Services Affected:** {services}");
    let _ = writeln!(md, "- **Customers Affected:** {}", or_todo(&i.customers));
    let _ = writeln!(md, "- **Data Exposure:** {exposure}");
    let _ = writeln!(md, "- **SLA Impact:** {downtime}");
    md.push('\n');
}

fn timeline(md: &mut String, events: &[&Event]) {
    md.push_str("## Timeline\n\n| Time (UTC) | Actor | Event |\n|---|---|---|\n");
    for e in events {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            e.occurred_at.format("%Y-%m-%d %H:%M:%S"),
            cell(&e.actor),
            cell(&e.body.describe())
        );
    }
    md.push('\n');
}

fn decisions(md: &mut String, events: &[&Event]) {
    md.push_str("## Decisions\n\n");
    let mut any = false;
    for e in events {
        if let EventBody::Note {
            kind: NoteKind::Decision,
            text,
        } = &e.body
        {
            any = true;
            let _ = writeln!(md, "- {} ({}): {}", ts(e.occurred_at), e.actor, line(text));
        }
    }
    if !any {
        md.push_str("No decisions were recorded.\n");
    }
    md.push('\n');
}

fn escalations(md: &mut String, events: &[&Event]) {
    md.push_str("## Escalations\n\n");
    let mut any = false;
    for e in events {
        let text = match &e.body {
            EventBody::Escalated {
                to,
                reason,
                rule: Some(rule),
            } => format!("→ {to}, automatic (rule {rule}): {reason}"),
            EventBody::Escalated {
                to,
                reason,
                rule: None,
            } => format!("→ {to}, by {}: {reason}", e.actor),
            EventBody::Paged { who, reason } => format!("paged {who}, by {}: {reason}", e.actor),
            EventBody::SeverityChanged {
                from, to, reason, ..
            } => format!("severity {from} → {to}, by {}: {reason}", e.actor),
            EventBody::KindChanged { from, to, reason } => {
                format!("kind {from} → {to}, by {}: {reason}", e.actor)
            }
            _ => continue,
        };
        any = true;
        let _ = writeln!(md, "- {}: {}", ts(e.occurred_at), line(&text));
    }
    if !any {
        md.push_str("No escalations, pages or severity changes.\n");
    }
    md.push('\n');
}

/// One judged target, kept for the "went well / could be improved" sections.
struct Outcome {
    kind: ClockKind,
    label: String,
    target: String,
    actual: Option<chrono::Duration>,
    state: ClockState,
    overdue_secs: i64,
}

fn sla_results(
    md: &mut String,
    inc: &Incident,
    policy: &Policy,
    now: DateTime<Utc>,
    events: &[&Event],
) -> Vec<Outcome> {
    let sev = policy.severity(&inc.severity);
    let mut out = Vec::new();
    for c in clocks(inc, policy, now) {
        let target = match (c.kind, sev) {
            (ClockKind::Acknowledge, Some(s)) => s.acknowledge,
            (ClockKind::Contain, Some(s)) => s.contain,
            (ClockKind::Resolve, Some(s)) => s.resolve,
            (ClockKind::Review, Some(s)) => s.review.due,
            _ => continue,
        };
        out.push(Outcome {
            kind: c.kind,
            label: c.label.clone(),
            target: target.map_or_else(|| "-".into(), |t| t.to_string()),
            actual: c.done_at.map(|d| d - c.started_at),
            state: c.state,
            overdue_secs: -c.remaining_secs,
        });
    }
    md.push_str("## SLA Results\n\n");
    if out.is_empty() {
        let _ = writeln!(
            md,
            "The policy sets no acknowledge, contain, resolve or review target for {}.\n",
            inc.severity
        );
    } else {
        md.push_str("| Clock | Target | Actual | Result |\n|---|---|---|---|\n");
        for o in &out {
            let actual = match o.actual {
                Some(d) => humanize(d),
                None if o.state == ClockState::Breached => {
                    format!(
                        "not reached ({} overdue)",
                        humanize(chrono::Duration::seconds(o.overdue_secs))
                    )
                }
                None => "not reached yet".into(),
            };
            let result = match o.state {
                ClockState::Met => "MET",
                ClockState::Breached => "MISSED",
                ClockState::Pending | ClockState::DueSoon => "RUNNING",
            };
            let _ = writeln!(md, "| {} | {} | {actual} | {result} |", o.label, o.target);
        }
        md.push('\n');
        if inc.sla_origin != inc.declared.at {
            let _ = writeln!(
                md,
                "Targets are those of {}, counted from the severity upgrade at {}.\n",
                inc.severity,
                ts(inc.sla_origin)
            );
        }
    }
    let missed = missed_updates(events);
    if missed.is_empty() {
        md.push_str("No update deadline was missed.\n\n");
    } else {
        let list: Vec<String> = missed
            .iter()
            .map(|(ch, n)| format!("{} {n}", ch.label()))
            .collect();
        let _ = writeln!(md, "Update deadlines missed: {}.\n", list.join(", "));
    }
    out
}

fn missed_updates(events: &[&Event]) -> Vec<(Channel, usize)> {
    Channel::ALL
        .into_iter()
        .map(|ch| {
            let n = events
                .iter()
                .filter(
                    |e| matches!(e.body, EventBody::UpdateOverdue { channel, .. } if channel == ch),
                )
                .count();
            (ch, n)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn action_items(md: &mut String, inc: &Incident) {
    md.push_str("## Action Items\n\n| Action | Owner | Due | Status |\n|---|---|---|---|\n");
    for a in &inc.actions {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            cell(&a.text),
            a.owner.as_deref().map_or_else(|| TODO.to_string(), cell),
            a.due
                .map_or_else(|| TODO.to_string(), |d| d.format("%Y-%m-%d").to_string()),
            a.state.as_str()
        );
    }
    if inc.actions.is_empty() {
        let _ = writeln!(md, "| {TODO} | | | |");
    }
    md.push('\n');
}

fn analysis(md: &mut String, inc: &Incident, events: &[&Event], results: &[Outcome]) {
    let notes = |kind: NoteKind| -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match &e.body {
                EventBody::Note { kind: k, text } if *k == kind => Some(format!(
                    "- {} ({}): {}",
                    ts(e.occurred_at),
                    e.actor,
                    line(text)
                )),
                _ => None,
            })
            .collect()
    };
    let list = |md: &mut String, items: &[String]| {
        if items.is_empty() {
            let _ = writeln!(md, "- {TODO}");
        } else {
            for i in items {
                let _ = writeln!(md, "{i}");
            }
        }
        md.push('\n');
    };

    md.push_str("## Root Cause Analysis\n\n### Observations recorded during the incident\n\n");
    list(md, &notes(NoteKind::Observation));
    md.push_str("### Actions taken during the incident\n\n");
    // Action notes and the containment, in the order they happened.
    let mut taken: Vec<(DateTime<Utc>, String)> = events
        .iter()
        .filter_map(|e| {
            let what = match &e.body {
                EventBody::Note {
                    kind: NoteKind::Action,
                    text,
                } => line(text),
                EventBody::Contained { note } if note.is_empty() => "marked contained".to_string(),
                EventBody::Contained { note } => format!("contained: {}", line(note)),
                _ => return None,
            };
            Some((
                e.occurred_at,
                format!("- {} ({}): {what}", ts(e.occurred_at), e.actor),
            ))
        })
        .collect();
    taken.sort_by_key(|(at, _)| *at);
    let taken: Vec<String> = taken.into_iter().map(|(_, s)| s).collect();
    list(md, &taken);
    let _ = writeln!(
        md,
        "### What Happened\n\n{TODO}: detailed technical explanation.\n\n\
         ### Why It Happened\n\n{TODO}: 5 Whys or other analysis.\n\n\
         ### Contributing Factors\n\n- {TODO}\n"
    );

    let mut well = Vec::new();
    let mut improve = Vec::new();
    for o in results {
        match (o.state, o.actual) {
            (ClockState::Met, Some(d)) => well.push(format!(
                "- {} within target: {} (target {}).",
                past(o.kind),
                humanize(d),
                o.target
            )),
            (ClockState::Breached, Some(d)) => improve.push(format!(
                "- {} late: {} (target {}).",
                past(o.kind),
                humanize(d),
                o.target
            )),
            (ClockState::Breached, None) => improve.push(format!(
                "- {} target missed: not reached, {} overdue (target {}).",
                capitalised(&o.label),
                humanize(chrono::Duration::seconds(o.overdue_secs)),
                o.target
            )),
            _ => {}
        }
    }
    for (ch, n) in missed_updates(events) {
        improve.push(format!(
            "- {} update deadline missed {n} time{}.",
            capitalised(ch.label()),
            if n == 1 { "" } else { "s" }
        ));
    }
    for e in events {
        if let EventBody::Resolved { forced: true, .. } = e.body {
            improve.push(format!(
                "- Resolved at {} before the stability window had elapsed.",
                ts(e.occurred_at)
            ));
        }
    }
    if inc.reopened > 0 {
        improve.push(format!(
            "- Reopened {} time{} after being resolved.",
            inc.reopened,
            if inc.reopened == 1 { "" } else { "s" }
        ));
    }
    md.push_str("## What Went Well\n\n");
    list(md, &well);
    md.push_str("## What Could Be Improved\n\n");
    list(md, &improve);
    let _ = writeln!(md, "## Lessons Learned\n\n{TODO}\n");
}

/// "Acknowledged within target", "Contained late"…
fn past(kind: ClockKind) -> &'static str {
    match kind {
        ClockKind::Acknowledge => "Acknowledged",
        ClockKind::Contain => "Contained",
        ClockKind::Resolve => "Resolved",
        ClockKind::Review => "Review completed",
        _ => "Done",
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn appendix(md: &mut String, inc: &Incident, policy: &Policy, now: DateTime<Utc>, n: usize) {
    let source = if policy.source.is_empty() {
        String::new()
    } else {
        format!(" ({})", policy.source)
    };
    md.push_str("## Appendix\n\n");
    let _ = writeln!(md, "- Policy: {}{source}", policy.name);
    let _ = writeln!(md, "- Events recorded: {n}");
    if !inc.roles.is_empty() {
        let roles: Vec<String> = inc
            .roles
            .iter()
            .map(|(role, who)| {
                let name = policy.role(role).map_or(role.as_str(), |r| r.name.as_str());
                format!("{name}: {who}")
            })
            .collect();
        let _ = writeln!(md, "- Roles at the end: {}", roles.join("; "));
    }
    let _ = writeln!(md, "- Generated by warroom at {}", ts(now));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::command::Action;
    use crate::domain::event::{Impact, Status};
    use crate::domain::testkit::{Harness, at, policy};

    /// A P1 run from declaration to a completed review.
    fn incident() -> (Harness, String) {
        let mut h = Harness::new(policy());
        let key = h.declare("API | gateway down", "P1");
        h.at(1).run(
            "alice",
            &key,
            Action::UpdateImpact {
                impact: Impact {
                    summary: "All API calls fail".into(),
                    services: vec!["api".into(), "auth".into()],
                    customers: "all".into(),
                    data_exposure: false,
                    bridge: String::new(),
                },
            },
        );
        h.at(7);
        h.tick(); // "P1 not acknowledged within 5m" → Backup on-call
        h.run("bob", &key, Action::Acknowledge);
        h.at(8).run(
            "alice",
            &key,
            Action::AssignRole {
                role: "scribe".into(),
                person: "dana".into(),
                note: String::new(),
            },
        );
        h.at(12);
        h.tick(); // the status page's first update (due 10:10) was missed
        h.run(
            "dana",
            &key,
            Action::Note {
                kind: NoteKind::Observation,
                text: "connection pool exhausted\non every node".into(),
            },
        );
        h.at(14).run(
            "alice",
            &key,
            Action::Note {
                kind: NoteKind::Decision,
                text: "roll back release 4.2".into(),
            },
        );
        h.at(20).run(
            "bob",
            &key,
            Action::Contain {
                note: "rolled back".into(),
            },
        );
        h.at(25).run(
            "alice",
            &key,
            Action::SetStatus {
                status: Status::Monitoring,
            },
        );
        h.at(41).run(
            "alice",
            &key,
            Action::Resolve {
                summary: "Release 4.2 leaked connections; rolled back.".into(),
                force: false,
                reason: String::new(),
            },
        );
        h.at(60).run(
            "alice",
            &key,
            Action::AddActionItem {
                text: "Alert on pool saturation".into(),
                owner: Some("bob".into()),
                due: chrono::NaiveDate::from_ymd_opt(2026, 12, 1),
            },
        );
        (h, key)
    }

    fn section<'a>(md: &'a str, title: &str) -> &'a str {
        let start = md
            .find(&format!("## {title}\n"))
            .unwrap_or_else(|| panic!("no section {title} in\n{md}"));
        let rest = &md[start..];
        let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 4);
        &rest[..end]
    }

    #[test]
    fn follows_the_pir_template() {
        let (h, key) = incident();
        let events = h.events_of(&key);
        let md = render(h.inc(&key), &events, &h.policy, at(61));
        assert!(
            md.starts_with("# Post-Incident Review: API | gateway down\n"),
            "{md}"
        );
        assert!(md.contains("**Incident ID:** INC-1 ("));
        assert!(md.contains("**Date:** 2026-11-23"));
        assert!(md.contains("**Duration:** 2026-11-23 10:00 UTC to 2026-11-23 10:41 UTC (41m)"));
        assert!(md.contains("**Severity:** P1 (Critical)"));
        assert!(md.contains("**Author:** alice (Incident Commander)"));
        assert!(md.contains("**Review Date:** [to be completed]"));
        assert!(md.contains("**PIR:** required, due 2026-11-26 10:41 UTC (72h after resolution)"));
        let order = [
            "## Summary",
            "## Impact",
            "## Timeline",
            "## Decisions",
            "## Escalations",
            "## SLA Results",
            "## Action Items",
            "## Root Cause Analysis",
            "## What Went Well",
            "## What Could Be Improved",
            "## Lessons Learned",
            "## Appendix",
        ];
        let positions: Vec<usize> = order.iter().map(|s| md.find(s).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{md}");

        assert!(section(&md, "Summary").contains("Release 4.2 leaked connections; rolled back."));
        let impact = section(&md, "Impact");
        assert!(impact.contains("- **Services Affected:** api, auth"));
        assert!(impact.contains("- **SLA Impact:** 41m from declaration to resolution"));
        assert!(
            section(&md, "Decisions")
                .contains("- 2026-11-23 10:14 UTC (alice): roll back release 4.2")
        );
        assert!(section(&md, "Escalations").contains(
            "- 2026-11-23 10:05 UTC: → Backup on-call, automatic (rule p1-unack-5m): \
             P1 not acknowledged within 5m"
        ));
        let sla = section(&md, "SLA Results");
        assert!(sla.contains("| acknowledge | 5m | 7m | MISSED |"), "{sla}");
        assert!(sla.contains("| contain | 1h | 20m | MET |"), "{sla}");
        assert!(sla.contains("| resolve | 2h | 41m | MET |"), "{sla}");
        assert!(sla.contains("| post-incident review | 72h | not reached yet | RUNNING |"));
        assert!(
            sla.contains("Update deadlines missed: status page 1."),
            "{sla}"
        );
        assert!(
            section(&md, "Action Items")
                .contains("| Alert on pool saturation | bob | 2026-12-01 | open |")
        );
        let rca = section(&md, "Root Cause Analysis");
        assert!(
            rca.contains("- 2026-11-23 10:12 UTC (dana): connection pool exhausted on every node")
        );
        assert!(rca.contains("- 2026-11-23 10:20 UTC (bob): contained: rolled back"));
        assert!(rca.contains("### What Happened\n\n[to be completed]"));
        assert!(
            section(&md, "What Went Well").contains("- Contained within target: 20m (target 1h).")
        );
        let improve = section(&md, "What Could Be Improved");
        assert!(
            improve.contains("- Acknowledged late: 7m (target 5m)."),
            "{improve}"
        );
        assert!(improve.contains("- Status page update deadline missed 1 time."));
        assert!(section(&md, "Lessons Learned").contains("[to be completed]"));
    }

    #[test]
    fn timeline_rows_follow_occurrence_order_and_escape_pipes() {
        let (h, key) = incident();
        // Stored order differs from occurrence order: a replica's scheduler recorded
        // the 10:05 escalation last. The review still shows it at 10:05.
        let mut events = h.events_of(&key);
        let late = events
            .iter()
            .position(|e| matches!(e.body, EventBody::Escalated { .. }))
            .unwrap();
        let escalation = events.remove(late);
        events.push(escalation);
        let md = render(h.inc(&key), &events, &h.policy, at(61));
        let rows: Vec<&str> = section(&md, "Timeline")
            .lines()
            .filter(|l| l.starts_with("| 2026-"))
            .collect();
        assert_eq!(rows.len(), events.len());
        let times: Vec<&str> = rows.iter().map(|r| &r[2..21]).collect();
        let mut sorted = times.clone();
        sorted.sort();
        assert_eq!(times, sorted);
        assert_eq!(
            rows[0],
            "| 2026-11-23 10:00:00 | alice | declared P1 availability incident: API \\| gateway down |"
        );
        let expected_order = [
            "declared P1",
            "ic assigned to alice",
            "impact: All API calls fail",
            "escalated to Backup on-call",
            "acknowledged",
            "scribe assigned to dana",
            "OVERDUE: status page update",
            "OBSERVATION: connection pool exhausted<br>on every node",
            "DECISION: roll back release 4.2",
            "marked contained: rolled back",
            "status investigating → monitoring",
            "resolved: Release 4.2",
            "action item: Alert on pool saturation (owner bob)",
        ];
        assert_eq!(rows.len(), expected_order.len(), "{rows:#?}");
        for (row, want) in rows.iter().zip(expected_order) {
            assert!(row.contains(want), "{row} should contain {want}");
        }
    }

    #[test]
    fn prompts_where_nothing_was_recorded() {
        let mut h = Harness::new(policy());
        let key = h.declare("Quiet", "P4");
        let events = h.events_of(&key);
        let md = render(h.inc(&key), &events, &h.policy, at(30));
        assert!(md.contains("**Duration:** 2026-11-23 10:00 UTC to ongoing (30m so far)"));
        assert!(md.contains("**Status:** investigating (ongoing)"));
        assert!(md.contains("**PIR:** not required for this severity"));
        assert!(section(&md, "Summary").contains("[to be completed]: 2-3 paragraph"));
        assert!(section(&md, "Impact").contains("- **Services Affected:** [to be completed]"));
        assert!(section(&md, "Decisions").contains("No decisions were recorded."));
        assert!(
            section(&md, "SLA Results")
                .contains("sets no acknowledge, contain, resolve or review target for P4")
        );
        assert!(section(&md, "Action Items").contains("| [to be completed] | | | |"));
        assert!(section(&md, "What Went Well").contains("- [to be completed]"));
        assert!(section(&md, "What Could Be Improved").contains("- [to be completed]"));
    }

    #[test]
    fn ongoing_incident_reports_targets_not_reached() {
        let mut h = Harness::new(policy());
        let key = h.declare("Nobody home", "P1");
        let events = h.events_of(&key);
        let md = render(h.inc(&key), &events, &h.policy, at(75));
        let sla = section(&md, "SLA Results");
        assert!(
            sla.contains("| acknowledge | 5m | not reached (1h 10m overdue) | MISSED |"),
            "{sla}"
        );
        assert!(sla.contains("| contain | 1h | not reached (15m overdue) | MISSED |"));
        assert!(sla.contains("| resolve | 2h | not reached yet | RUNNING |"));
        assert!(
            section(&md, "What Could Be Improved")
                .contains("- Acknowledge target missed: not reached, 1h 10m overdue (target 5m).")
        );
    }

    #[test]
    fn actions_taken_are_in_time_order_and_a_reopen_drops_the_old_summary() {
        let (mut h, key) = incident();
        // An action note written after the containment but about before it
        // (typed offline), and one after it.
        h.at(62).run(
            "dana",
            &key,
            Action::Note {
                kind: NoteKind::Action,
                text: "drained node 3".into(),
            },
        );
        h.at(63).run(
            "alice",
            &key,
            Action::Reopen {
                reason: "errors are back".into(),
            },
        );
        let events = h.events_of(&key);
        let md = render(h.inc(&key), &events, &h.policy, at(64));
        let taken = section(&md, "Root Cause Analysis");
        let contained = taken.find("contained: rolled back").unwrap();
        let drained = taken.find("drained node 3").unwrap();
        assert!(contained < drained, "{taken}");
        let summary = section(&md, "Summary");
        assert!(!summary.contains("leaked connections"), "{summary}");
        assert!(summary.contains("All API calls fail"), "{summary}");
    }

    #[test]
    fn review_summary_wins_over_resolution_summary() {
        let (mut h, key) = incident();
        h.at(90).run(
            "alice",
            &key,
            Action::CompleteReview {
                summary: "Blameless review held; pool limits added.".into(),
            },
        );
        let events = h.events_of(&key);
        let md = render(h.inc(&key), &events, &h.policy, at(91));
        let summary = section(&md, "Summary");
        assert!(summary.contains("Blameless review held"));
        assert!(!summary.contains("leaked connections"));
        assert!(md.contains("**Review Date:** 2026-11-23"));
        assert!(section(&md, "SLA Results").contains("| post-incident review | 72h | 49m | MET |"));
    }
}
