//! The review rendered with the fallback template (002 §8.2 with the record).
#![allow(clippy::unwrap_used)]
use super::*;
use crate::domain::command::Action;
use crate::domain::event::{EventBody, NoteKind};
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
            priority: None,
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
        "## Root Cause Analysis",
        "## What Went Well",
        "## What Could Be Improved",
        // 002 §8.2's order: the action items come after the evaluation, not before the analysis.
        "## Action Items",
        "## Lessons Learned",
        "## PIR Meeting",
        "## Appendix",
    ];
    let positions: Vec<usize> = order.iter().map(|s| md.find(s).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{md}");

    assert!(section(&md, "Summary").contains("Release 4.2 leaked connections; rolled back."));
    let impact = section(&md, "Impact");
    assert!(impact.contains("- **Services Affected:** api, auth"));
    assert!(impact.contains("- **SLA Impact:** 41m from declaration to resolution"));
    assert!(
        section(&md, "Decisions").contains("- 2026-11-23 10:14 UTC (alice): roll back release 4.2")
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
            .contains("| Alert on pool saturation | bob | [to be completed] | 2026-12-01 | open |")
    );
    let rca = section(&md, "Root Cause Analysis");
    assert!(rca.contains("- 2026-11-23 10:12 UTC (dana): connection pool exhausted on every node"));
    assert!(rca.contains("- 2026-11-23 10:20 UTC (bob): contained: rolled back"));
    assert!(rca.contains("### What Happened\n\n[to be completed]"));
    assert!(section(&md, "What Went Well").contains("- Contained within target: 20m (target 1h)."));
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
    assert!(section(&md, "Action Items").contains("| [to be completed] | | | | |"));
    assert!(section(&md, "What Went Well").contains("\n[to be completed]\n"));
    assert!(section(&md, "What Could Be Improved").contains("\n[to be completed]\n"));
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

#[test]
fn a_written_field_replaces_its_prompt_and_survives_closing() {
    let (mut h, key) = incident();
    let md = render(h.inc(&key), &h.events_of(&key), &h.policy, at(61));
    assert!(
        md.contains("- **Requests Failed:** [to be completed]"),
        "{md}"
    );
    h.at(62).run(
        "alice",
        &key,
        Action::SetReviewField {
            field: "requests_failed".into(),
            value: "12,400".into(),
        },
    );
    h.at(63).run(
        "alice",
        &key,
        Action::SetReviewField {
            field: "why".into(),
            value: "Pool size was never load-tested.".into(),
        },
    );
    let err = h.at(64).try_run(
        "alice",
        Some(&key),
        Action::SetReviewField {
            field: "requests_failed".into(),
            value: "lots".into(),
        },
    );
    assert_eq!(
        err.unwrap_err().to_string(),
        "review field requests_failed: \"lots\" is not a number (write e.g. 12400 or 12,400)"
    );
    let err = h.try_run(
        "alice",
        Some(&key),
        Action::SetReviewField {
            field: "timeline".into(),
            value: "x".into(),
        },
    );
    assert!(
        err.unwrap_err()
            .to_string()
            .starts_with("unknown review field \"timeline\"; the review template's fields to write are summary, customers"),
    );
    let md = render(h.inc(&key), &h.events_of(&key), &h.policy, at(65));
    assert!(md.contains("- **Requests Failed:** 12,400"), "{md}");
    assert!(md.contains("### Why It Happened\n\nPool size was never load-tested.\n"));
    assert!(md.contains("| 2026-11-23 11:02:00 | alice | review: requests_failed = 12,400 |"));
}

/// The incident of [`incident`], closed at 10:95 with its review completed.
fn closed() -> (Harness, String) {
    let (mut h, key) = incident();
    for item in ["baseline", "no_impact"] {
        h.at(90).run(
            "alice",
            &key,
            Action::SetChecklistItem {
                checklist: "resolution".into(),
                item: item.into(),
                done: true,
                waive: None,
            },
        );
    }
    h.at(92).run(
        "alice",
        &key,
        Action::CompleteReview {
            summary: String::new(),
        },
    );
    h.at(95).run("alice", &key, Action::Close);
    (h, key)
}

#[test]
fn the_review_and_its_action_items_are_written_after_closing() {
    let (mut h, key) = closed();
    h.at(120).run(
        "alice",
        &key,
        Action::SetReviewField {
            field: "attendees".into(),
            value: "alice, bob, dana, Engineering Manager".into(),
        },
    );
    h.run(
        "alice",
        &key,
        Action::AddActionItem {
            text: "Load-test the pool".into(),
            owner: Some("dana".into()),
            due: chrono::NaiveDate::from_ymd_opt(2026, 11, 25),
            priority: Some("p1".into()),
        },
    );
    let refused = h.refuse(
        "alice",
        &key,
        Action::AddActionItem {
            text: "x".into(),
            owner: None,
            due: None,
            priority: Some("P9".into()),
        },
    );
    assert_eq!(
        refused.to_string(),
        "unknown action item priority \"P9\"; the policy's priorities are P1, P2, P3"
    );
    let md = render(h.inc(&key), &h.events_of(&key), &h.policy, at(121));
    assert!(
        md.contains("### Attendees\n\nalice, bob, dana, Engineering Manager\n"),
        "{md}"
    );
    assert!(
        md.contains("| Load-test the pool | dana | P1 | 2026-11-25 | open |"),
        "{md}"
    );
    assert!(md.contains("**Status:** closed"));
    // Still refused after closing: what belongs to the live incident.
    let refused = h.refuse(
        "alice",
        &key,
        Action::Note {
            kind: NoteKind::Note,
            text: "late".into(),
        },
    );
    assert_eq!(refused.to_string(), "INC-1 is closed; reopen it first");
}

#[test]
fn overdue_and_unreviewed_action_items_of_closed_incidents_are_listed() {
    let (mut h, key) = closed();
    h.at(120).run(
        "alice",
        &key,
        Action::AddActionItem {
            text: "Load-test the pool".into(),
            owner: Some("dana".into()),
            due: chrono::NaiveDate::from_ymd_opt(2026, 11, 25),
            priority: Some("P1".into()),
        },
    );
    h.run(
        "alice",
        &key,
        Action::AddActionItem {
            text: "Document the rollback".into(),
            owner: None,
            due: None,
            priority: Some("P3".into()),
        },
    );
    // 2026-11-24: nothing due yet (the first item, "Alert on pool saturation", is due 12-01).
    assert!(follow_up::list(&h.world, &h.policy, at(24 * 60)).is_empty());
    // 2026-11-27: two days past the due date.
    let list = follow_up::list(&h.world, &h.policy, at(4 * 24 * 60));
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].why(), "overdue by 2 days");
    // 2026-12-02: P1 items are reviewed weekly (002 §8.4); P3 has no cadence.
    let list = follow_up::list(&h.world, &h.policy, at(9 * 24 * 60));
    let lines = follow_up::lines(&list, &h.policy);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_eq!(
        lines[1],
        "INC-1 P1 | Load-test the pool | owner dana | priority P1 | due 2026-11-25 | open — \
         overdue by 7 days; not changed for 8d 22h; P1 actions are reviewed every 7d by Engineering Manager"
    );
    // Done items drop off.
    let id = h.inc(&key).actions[1].id;
    h.run(
        "dana",
        &key,
        Action::UpdateActionItem {
            action: id,
            state: crate::domain::event::ActionState::Done,
            owner: None,
            due: None,
            priority: None,
        },
    );
    let list = follow_up::list(&h.world, &h.policy, at(9 * 24 * 60));
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].item.text, "Alert on pool saturation");
}
