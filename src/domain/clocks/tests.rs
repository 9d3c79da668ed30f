//! The clocks' acceptance criteria, under the shipped default policy where the
//! criterion is about it, and a property test tying `remaining_secs` to `now`.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::domain::command::Action;
use crate::domain::duration::Span;
use crate::domain::event::Status;
use crate::domain::testkit::{Harness, at, policy, t0};
use chrono::{Duration, TimeZone};
use proptest::prelude::*;

fn default_policy() -> Policy {
    let p = Policy::builtin_default();
    assert_eq!(p.name, "default", "the embedded default policy must load");
    p
}

fn clock_at(h: &Harness, key: &str, kind: ClockKind, now: DateTime<Utc>) -> Option<Clock> {
    clocks(h.inc(key), &h.policy, now)
        .into_iter()
        .find(|c| c.kind == kind)
}

fn clock(h: &Harness, key: &str, kind: ClockKind) -> Clock {
    clock_at(h, key, kind, h.now).unwrap_or_else(|| panic!("no {kind:?} clock at {}", h.now))
}

fn secs(d: Duration) -> i64 {
    d.num_seconds()
}

/// When a P1 declared at `t0` must be acknowledged, per the harness's policy.
fn p1_ack_due(h: &Harness) -> DateTime<Utc> {
    h.policy
        .severity("P1")
        .unwrap()
        .acknowledge
        .unwrap()
        .after(t0())
}

#[test]
fn p1_acknowledge_clock_under_the_default_policy() {
    let mut h = Harness::new(default_policy());
    let span = h.policy.severity("P1").unwrap().acknowledge.unwrap();
    let due = span.after(t0());
    let key = h.declare("API down", "P1");

    let c = clock(&h, &key, ClockKind::Acknowledge);
    assert_eq!((c.started_at, c.due_at), (t0(), due));
    assert_eq!(c.from, "declared");
    assert_eq!(c.state, ClockState::Pending);
    assert_eq!(c.remaining_secs, secs(span.nominal()));
    assert_eq!(c.state.word(), "OK");

    // The last quarter of the span is "due soon".
    let quarter = span.nominal() / 4;
    let c = clock_at(
        &h,
        &key,
        ClockKind::Acknowledge,
        due - quarter - Duration::seconds(1),
    )
    .unwrap();
    assert_eq!(c.state, ClockState::Pending);
    let c = clock_at(&h, &key, ClockKind::Acknowledge, due - quarter).unwrap();
    assert_eq!(c.state, ClockState::DueSoon);
    assert_eq!(c.state.word(), "DUE SOON");
    let c = clock_at(&h, &key, ClockKind::Acknowledge, due - Duration::seconds(1)).unwrap();
    assert_eq!((c.state, c.remaining_secs), (ClockState::DueSoon, 1));

    // At the deadline and after it: breached, counting negative, saying OVERDUE.
    let c = clock_at(&h, &key, ClockKind::Acknowledge, due).unwrap();
    assert_eq!((c.state, c.remaining_secs), (ClockState::Breached, 0));
    let c = clock_at(
        &h,
        &key,
        ClockKind::Acknowledge,
        due + Duration::seconds(61),
    )
    .unwrap();
    assert_eq!(c.state, ClockState::Breached);
    assert_eq!(c.remaining_secs, -61);
    assert_eq!(c.state.word(), "OVERDUE");
    assert!(c.is_running());
    assert_eq!(
        crate::domain::duration::countdown(c.remaining_secs),
        "-1:01"
    );
}

#[test]
fn acknowledged_in_time_is_met_and_frozen() {
    let mut h = Harness::new(default_policy());
    let key = h.declare("API down", "P1");
    let due = p1_ack_due(&h);
    h.now = due - Duration::seconds(30);
    h.run("bob", &key, Action::Acknowledge);
    for later in [h.now, due, due + Duration::hours(5)] {
        let c = clock_at(&h, &key, ClockKind::Acknowledge, later).unwrap();
        assert_eq!(c.state, ClockState::Met);
        assert_eq!(c.state.word(), "MET");
        assert_eq!(c.remaining_secs, 30, "frozen at completion");
        assert_eq!(c.done_at, Some(due - Duration::seconds(30)));
        assert!(!c.is_running());
    }
}

#[test]
fn acknowledged_late_stays_breached() {
    let mut h = Harness::new(default_policy());
    let key = h.declare("API down", "P1");
    let due = p1_ack_due(&h);
    h.now = due + Duration::minutes(2);
    h.run("bob", &key, Action::Acknowledge);
    let c = clock_at(&h, &key, ClockKind::Acknowledge, due + Duration::hours(1)).unwrap();
    assert_eq!(c.state, ClockState::Breached);
    assert_eq!(c.remaining_secs, -120);
    assert!(!c.is_running());
}

#[test]
fn a_status_page_post_resets_that_channel_only() {
    let mut h = Harness::new(default_policy());
    let key = h.declare("API down", "P1");
    let cadence = h.policy.severity("P1").unwrap().updates.status_page.clone();
    let (first, every) = (cadence.first.unwrap(), cadence.every.unwrap());
    let page = clock(&h, &key, ClockKind::Update(Channel::StatusPage));
    assert_eq!(page.due_at, first.after(t0()));
    assert_eq!(page.from, "declared");
    let internal_before = clock(&h, &key, ClockKind::Update(Channel::Internal));

    h.at(8).run(
        "carol",
        &key,
        Action::PostUpdate {
            channel: Channel::StatusPage,
            state: Some(Status::Investigating),
            text: "We are investigating".into(),
        },
    );
    let page = clock(&h, &key, ClockKind::Update(Channel::StatusPage));
    assert_eq!(page.started_at, at(8));
    assert_eq!(page.due_at, every.after(at(8)));
    assert_eq!(page.from, "last status page update");
    assert_eq!(page.state, ClockState::Pending);
    let internal = clock(&h, &key, ClockKind::Update(Channel::Internal));
    assert_eq!(internal.due_at, internal_before.due_at);

    // Missed: the next post is overdue until someone posts again.
    h.now = every.after(at(8)) + Duration::minutes(3);
    let page = clock(&h, &key, ClockKind::Update(Channel::StatusPage));
    assert_eq!(
        (page.state, page.remaining_secs),
        (ClockState::Breached, -180)
    );
}

#[test]
fn severity_upgrade_restarts_the_sla_clocks_from_the_change() {
    let mut h = Harness::new(default_policy());
    let key = h.declare("Search slow", "P2");
    h.at(20).run(
        "alice",
        &key,
        Action::SetSeverity {
            severity: "P1".into(),
            reason: "all regions now".into(),
        },
    );
    let p1 = h.policy.severity("P1").unwrap().clone();
    assert_eq!(h.inc(&key).sla_origin, at(20));
    let ack = clock(&h, &key, ClockKind::Acknowledge);
    assert_eq!(ack.started_at, at(20));
    assert_eq!(ack.due_at, p1.acknowledge.unwrap().after(at(20)));
    assert_eq!(ack.from, "severity raised");
    assert_eq!(ack.state, ClockState::Pending, "not breached an hour ago");
    let resolve = clock(&h, &key, ClockKind::Resolve);
    assert_eq!(resolve.due_at, p1.resolve.unwrap().after(at(20)));
    // Update clocks with no post yet run from the upgrade too.
    let page = clock(&h, &key, ClockKind::Update(Channel::StatusPage));
    assert_eq!(
        page.due_at,
        p1.updates.status_page.first.unwrap().after(at(20))
    );
}

#[test]
fn severity_downgrade_keeps_the_origin() {
    let mut h = Harness::new(default_policy());
    let key = h.declare("API down", "P1");
    h.at(3).run(
        "alice",
        &key,
        Action::SetSeverity {
            severity: "P2".into(),
            reason: "one region only".into(),
        },
    );
    assert_eq!(h.inc(&key).sla_origin, t0());
    let p2 = h.policy.severity("P2").unwrap().clone();
    let ack = clock(&h, &key, ClockKind::Acknowledge);
    assert_eq!(ack.started_at, t0());
    assert_eq!(ack.due_at, p2.acknowledge.unwrap().after(t0()));
    assert_eq!(ack.from, "declared");
    let resolve = clock(&h, &key, ClockKind::Resolve);
    assert_eq!(resolve.due_at, p2.resolve.unwrap().after(t0()));
}

#[test]
fn lowering_and_raising_again_gives_back_no_time() {
    let mut h = Harness::new(default_policy());
    let key = h.declare("Checkout down", "P2");
    let sev = |to: &str| Action::SetSeverity {
        severity: to.into(),
        reason: "reassessed".into(),
    };
    // Unacknowledged 14 minutes in; lowered, then raised back a minute later.
    h.at(14).run("alice", &key, sev("P3"));
    h.at(15).run("alice", &key, sev("P2"));
    let inc = h.inc(&key);
    assert_eq!(
        inc.sla_origin,
        t0(),
        "the P2 clocks still run from the declaration"
    );
    h.now = at(16);
    let ack = clock(&h, &key, ClockKind::Acknowledge);
    assert_eq!(
        (ack.state, ack.from.as_str()),
        (ClockState::Breached, "declared")
    );
    // The "P2 not acknowledged in 15 min" escalation is not postponed either.
    let (rule, fire) = next_escalation(h.inc(&key), &h.policy).unwrap();
    assert_eq!((rule.id.as_str(), fire), ("p2-unacked-15m", at(15)));
    // Raising past the severity the clocks started under is an upgrade.
    h.at(20).run("alice", &key, sev("P1"));
    assert_eq!(h.inc(&key).sla_origin, at(20));
    assert_eq!(
        clock(&h, &key, ClockKind::Acknowledge).from,
        "severity raised"
    );
}

#[test]
fn an_upgrade_restarts_a_posted_channel_with_the_stricter_cadence() {
    let mut h = Harness::new(default_policy());
    let key = h.declare("Search slow", "P3");
    h.at(1).run(
        "carol",
        &key,
        Action::PostUpdate {
            channel: Channel::Internal,
            state: None,
            text: "looking".into(),
        },
    );
    let p3_every = h
        .policy
        .severity("P3")
        .unwrap()
        .updates
        .internal
        .every
        .unwrap();
    assert_eq!(
        clock(&h, &key, ClockKind::Update(Channel::Internal)).due_at,
        p3_every.after(at(1))
    );
    h.at(60).run(
        "alice",
        &key,
        Action::SetSeverity {
            severity: "P1".into(),
            reason: "customers down".into(),
        },
    );
    let p1_every = h
        .policy
        .severity("P1")
        .unwrap()
        .updates
        .internal
        .every
        .unwrap();
    let internal = clock(&h, &key, ClockKind::Update(Channel::Internal));
    assert_eq!(internal.due_at, p1_every.after(at(60)));
    assert_eq!(internal.from, "severity raised");
    assert_eq!(internal.state, ClockState::Pending);
}

#[test]
fn acknowledged_before_an_upgrade_still_counts() {
    let mut h = Harness::new(default_policy());
    let key = h.declare("Search slow", "P2");
    h.at(2).run("bob", &key, Action::Acknowledge);
    h.at(30).run(
        "alice",
        &key,
        Action::SetSeverity {
            severity: "P1".into(),
            reason: "worse".into(),
        },
    );
    let ack = clock(&h, &key, ClockKind::Acknowledge);
    assert_eq!(ack.state, ClockState::Met);
}

#[test]
fn stability_clock_runs_while_monitoring() {
    let mut h = Harness::new(default_policy());
    let window = h.policy.resolution.stability_window.unwrap();
    let key = h.declare("API down", "P1");
    assert!(clock_at(&h, &key, ClockKind::Stability, h.now).is_none());
    h.at(30).run(
        "alice",
        &key,
        Action::SetStatus {
            status: Status::Monitoring,
        },
    );
    let c = clock(&h, &key, ClockKind::Stability);
    assert_eq!((c.started_at, c.due_at), (at(30), window.after(at(30))));
    assert_eq!(c.from, "monitoring began");
    assert_eq!(c.state, ClockState::Pending);
    // Stable long enough: the window is met (not "overdue"), and it is never the most urgent.
    let done = clock_at(&h, &key, ClockKind::Stability, window.after(at(30))).unwrap();
    assert_eq!(done.state, ClockState::Met);
    // Long past the window it reads 0:00 MET, not a negative countdown.
    let later = window.after(window.after(at(30)));
    let done = clock_at(&h, &key, ClockKind::Stability, later).unwrap();
    assert_eq!((done.state, done.remaining_secs), (ClockState::Met, 0));
    let all = clocks(h.inc(&key), &h.policy, h.now);
    assert_ne!(
        most_urgent(&all).map(|c| c.kind),
        Some(ClockKind::Stability)
    );
    // Back to identified: no stability clock.
    h.at(35).run(
        "alice",
        &key,
        Action::SetStatus {
            status: Status::Identified,
        },
    );
    assert!(clock_at(&h, &key, ClockKind::Stability, h.now).is_none());
}

#[test]
fn review_clock_starts_at_resolution_when_the_severity_requires_one() {
    let mut h = Harness::new(default_policy());
    let p1 = h.declare("API down", "P1");
    let p3 = h.declare("Search slow", "P3");
    let review = h.policy.severity("P1").unwrap().review.clone();
    assert!(review.required);
    assert!(!h.policy.severity("P3").unwrap().review.required);
    for key in [&p1, &p3] {
        assert!(clock_at(&h, key, ClockKind::Review, h.now).is_none());
        h.at(40).run(
            "alice",
            key,
            Action::Resolve {
                summary: "fixed".into(),
                force: true,
                reason: "criteria checked in the review".into(),
            },
        );
    }
    let c = clock(&h, &p1, ClockKind::Review);
    assert_eq!(c.started_at, at(40));
    assert_eq!(c.due_at, review.due.unwrap().after(at(40)));
    assert_eq!(c.from, "resolved");
    assert!(clock_at(&h, &p3, ClockKind::Review, h.now).is_none());
    // Resolved: no update, escalation or stability clocks any more.
    let kinds: Vec<_> = clocks(h.inc(&p1), &h.policy, h.now)
        .into_iter()
        .map(|c| c.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            ClockKind::Acknowledge,
            ClockKind::Resolve,
            ClockKind::Review
        ]
    );
    h.at(100).run(
        "alice",
        &p1,
        Action::CompleteReview {
            summary: "held".into(),
        },
    );
    assert_eq!(clock(&h, &p1, ClockKind::Review).state, ClockState::Met);
}

#[test]
fn resolution_stops_the_acknowledge_and_contain_clocks() {
    let mut h = Harness::new(policy());
    let key = h.declare("Blip", "P1");
    h.at(3).run(
        "alice",
        &key,
        Action::Resolve {
            summary: "self-healed".into(),
            force: true,
            reason: String::new(),
        },
    );
    h.at(24 * 60);
    for kind in [ClockKind::Acknowledge, ClockKind::Contain] {
        let c = clock(&h, &key, kind);
        assert_eq!(c.done_at, Some(at(3)), "{kind:?}");
        assert_eq!(c.state, ClockState::Met, "{kind:?}");
    }
}

#[test]
fn business_day_targets_skip_the_weekend() {
    // The test policy's P3: acknowledge within 1 business day, resolve within 3.
    let mut h = Harness::new(policy());
    // Friday 2026-11-27 16:00 UTC.
    let friday = Utc.with_ymd_and_hms(2026, 11, 27, 16, 0, 0).unwrap();
    h.now = friday;
    let key = h.declare("Config exposure", "P3");
    let ack = clock(&h, &key, ClockKind::Acknowledge);
    assert_eq!(
        ack.due_at,
        Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap(),
        "Monday"
    );
    let resolve = clock(&h, &key, ClockKind::Resolve);
    assert_eq!(
        resolve.due_at,
        Utc.with_ymd_and_hms(2026, 12, 2, 16, 0, 0).unwrap(),
        "Wednesday"
    );
    // Saturday noon: the acknowledge clock still has 2 days 4 hours.
    let saturday = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
    let c = clock_at(&h, &key, ClockKind::Acknowledge, saturday).unwrap();
    assert_eq!(c.remaining_secs, secs(Duration::hours(52)));
    // A declaration on a Sunday counts from Monday.
    let sunday = Utc.with_ymd_and_hms(2026, 11, 29, 9, 0, 0).unwrap();
    let span: Span = "1bd".parse().unwrap();
    assert_eq!(
        span.after(sunday),
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
    );
}

#[test]
fn escalation_clock_shows_the_next_rule() {
    let mut h = Harness::new(default_policy());
    let key = h.declare("API down", "P1");
    let c = clock(&h, &key, ClockKind::Escalation);
    assert_eq!(c.label, "escalate → Backup on-call");
    assert_eq!(c.due_at, at(5));
    assert_eq!(c.from, "unacknowledged");
    h.at(1).run("bob", &key, Action::Acknowledge);
    let c = clock(&h, &key, ClockKind::Escalation);
    assert_eq!(c.label, "escalate → VP Engineering");
    assert_eq!(c.due_at, at(30));
}

// ---------------------------------------------------------------- properties

#[derive(Clone, Debug)]
enum Move {
    Ack,
    Contain,
    Monitor,
    Post(Channel),
    Upgrade,
    Downgrade,
}

fn moves() -> impl Strategy<Value = Vec<(i64, Move)>> {
    let m = prop_oneof![
        Just(Move::Ack),
        Just(Move::Contain),
        Just(Move::Monitor),
        prop::sample::select(Channel::ALL.to_vec()).prop_map(Move::Post),
        Just(Move::Upgrade),
        Just(Move::Downgrade),
    ];
    prop::collection::vec((0i64..3 * 3600, m), 0..8)
}

proptest! {
    #[test]
    fn remaining_is_due_minus_now_for_running_clocks(
        sev in 0usize..4,
        mut moves in moves(),
        probe in 0i64..10 * 24 * 3600,
    ) {
        let mut h = Harness::new(policy());
        let ids = ["P1", "P2", "P3", "P4"];
        let key = h.declare("incident", ids[sev]);
        moves.sort_by_key(|(t, _)| *t);
        for (t, m) in moves {
            h.now = t0() + Duration::seconds(t);
            let current = h.policy.severity_rank(&h.inc(&key).severity);
            let action = match m {
                Move::Ack => Action::Acknowledge,
                Move::Contain => Action::Contain { note: String::new() },
                Move::Monitor => Action::SetStatus { status: Status::Monitoring },
                Move::Post(channel) => Action::PostUpdate { channel, state: None, text: "x".into() },
                Move::Upgrade | Move::Downgrade => {
                    let to = if matches!(m, Move::Upgrade) { current.saturating_sub(1) } else { (current + 1).min(3) };
                    Action::SetSeverity { severity: ids[to].into(), reason: "r".into() }
                }
            };
            let _ = h.try_run("alice", Some(&key), action);
        }
        let now = h.now + Duration::seconds(probe);
        for c in clocks(h.inc(&key), &h.policy, now) {
            prop_assert!(c.started_at <= c.due_at, "{:?}", c);
            match c.done_at {
                None => {
                    prop_assert_eq!(c.remaining_secs, (c.due_at - now).num_seconds(), "{:?}", c);
                    if c.kind != ClockKind::Stability {
                        prop_assert_eq!(c.state == ClockState::Breached, now >= c.due_at, "{:?}", c);
                        prop_assert!(c.is_running());
                    }
                }
                Some(done) => {
                    prop_assert_eq!(c.remaining_secs, (c.due_at - done).num_seconds());
                    prop_assert_eq!(c.state == ClockState::Met, done <= c.due_at);
                }
            }
            let used = c.used(now);
            prop_assert!((0.0..=1.0).contains(&used));
        }
    }
}

#[test]
fn review_due_says_where_the_review_stands() {
    let mut h = Harness::new(policy());
    let p1 = h.declare("API down", "P1");
    let p4 = h.declare("Typo", "P4");
    for key in [&p1, &p4] {
        h.at(10).run(
            "alice",
            key,
            Action::Resolve {
                summary: "fixed".into(),
                force: true,
                reason: String::new(),
            },
        );
    }
    let due =
        |h: &Harness, key: &str, minutes: i64| ReviewDue::of(h.inc(key), &h.policy, at(minutes));
    // P1: 72 h from resolving.
    assert_eq!(due(&h, &p1, 20).words(), "due in 2d 23h (11-26 10:10)");
    assert!(!due(&h, &p1, 20).soon());
    assert!(due(&h, &p1, 10 + 71 * 60).soon());
    assert_eq!(due(&h, &p1, 10 + 72 * 60 + 5).words(), "OVERDUE by 5m");
    assert_eq!(due(&h, &p4, 20), ReviewDue::NotRequired);
    h.at(30).run(
        "alice",
        &p1,
        Action::CompleteReview {
            summary: "done".into(),
        },
    );
    assert_eq!(due(&h, &p1, 40).words(), "done 11-23");
    // Reviews to do sort before the rest.
    assert!(due(&h, &p4, 20).rank() > ReviewDue::Due { at: at(0), left: 1 }.rank());
}

fn set_item(checklist: &str, item: &str, done: bool, waive: Option<&str>) -> Action {
    Action::SetChecklistItem {
        checklist: checklist.into(),
        item: item.into(),
        done,
        waive: waive.map(str::to_string),
    }
}

fn box_clock(h: &Harness, key: &str, list: &str) -> Option<Clock> {
    clocks(h.inc(key), &h.policy, h.now)
        .into_iter()
        .find(|c| c.kind == ClockKind::Checklist && c.checklist.as_deref() == Some(list))
}

/// 002 Appendix A "FIRST 5 MINUTES" is a clock: due 5 minutes after the
/// declaration, DUE SOON in its last quarter, OVERDUE after, met when the last
/// item is done — ticked, waived with a reason, or proven by the log.
#[test]
fn a_time_boxed_checklist_is_a_clock() {
    let mut h = Harness::new(default_policy());
    let key = h.declare("API down", "P1");
    let c = box_clock(&h, &key, "ic-first-5m").unwrap();
    assert_eq!(c.due_at, at(5));
    // "Declare incident" is proven by the declaration; four items are open.
    assert_eq!(c.label, "First 5 minutes: commander (Appendix A) · 4 open");
    assert_eq!(c.state, ClockState::Pending);
    h.at(4);
    assert_eq!(
        box_clock(&h, &key, "ic-first-5m").unwrap().state,
        ClockState::DueSoon
    );
    h.run("bob", &key, Action::Acknowledge);
    h.run("alice", &key, set_item("ic-first-5m", "verify", true, None));
    h.run(
        "alice",
        &key,
        set_item("ic-first-5m", "severity", true, None),
    );
    h.at(6);
    let c = box_clock(&h, &key, "ic-first-5m").unwrap();
    assert_eq!((c.state, c.word()), (ClockState::Breached, "OVERDUE"));
    assert_eq!(c.label, "First 5 minutes: commander (Appendix A) · 1 open");
    // A waiver needs its reason, and is not a "not done".
    let e = h
        .try_run(
            "alice",
            Some(&key),
            set_item("ic-first-5m", "channel", true, Some(" ")),
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "waive must not be empty");
    let e = h
        .try_run(
            "alice",
            Some(&key),
            set_item("ic-first-5m", "channel", false, Some("x")),
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "waive: an item is waived, or marked not done, not both"
    );
    let ev = h.run(
        "alice",
        &key,
        set_item(
            "ic-first-5m",
            "channel",
            true,
            Some("the bridge was already open"),
        ),
    );
    assert_eq!(
        ev[0].body.describe(),
        "checklist ic-first-5m/channel waived: the bridge was already open"
    );
    let c = box_clock(&h, &key, "ic-first-5m").unwrap();
    assert_eq!(c.done_at, Some(at(6)));
    assert_eq!(c.word(), "MET LATE");
    assert_eq!(
        crate::domain::checklist::waiver(h.inc(&key), "ic-first-5m", "channel"),
        Some("the bridge was already open")
    );
    // Unticking takes the waiver back.
    h.run(
        "alice",
        &key,
        set_item("ic-first-5m", "channel", false, None),
    );
    assert!(box_clock(&h, &key, "ic-first-5m").unwrap().is_running());
    assert_eq!(
        crate::domain::checklist::waiver(h.inc(&key), "ic-first-5m", "channel"),
        None
    );
}

/// 003 "1-4 Hours (Critical) / 1-24 Hours (High)": the box depends on the
/// severity, and a severity the runbook gives none has no clock.
#[test]
fn a_time_box_can_depend_on_the_severity() {
    let p = Policy::from_toml(crate::domain::policy::presets::find("003").unwrap()).unwrap();
    let mut h = Harness::new(p);
    let crit = h.declare("Leaked key", "critical");
    let high = h.declare("Exploited CVE", "high");
    let low = h.declare("Config exposure", "low");
    assert_eq!(
        box_clock(&h, &crit, "containment").unwrap().due_at,
        at(4 * 60)
    );
    assert_eq!(
        box_clock(&h, &high, "containment").unwrap().due_at,
        at(24 * 60)
    );
    assert!(box_clock(&h, &low, "containment").is_none());
    assert_eq!(box_clock(&h, &low, "first-15m").unwrap().due_at, at(15));
    let bad = crate::domain::policy::presets::find("003")
        .unwrap()
        .replace("critical = \"4h\"", "urgent = \"4h\"");
    assert_eq!(
        Policy::from_toml(&bad).unwrap_err().to_string(),
        "checklists[2].due_by_severity.urgent: unknown severity \"urgent\""
    );
}
