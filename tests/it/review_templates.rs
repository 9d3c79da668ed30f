//! Each preset's post-incident document is its runbook's own template (issue
//! 11 item 6): one incident run through every preset, with a few fields
//! written by hand, snapshotted at a fixed time. Unwritten human fields show
//! `[to be completed]`, never something invented.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use uuid::Uuid;
use warroom::domain::event::{Impact, NoteKind};
use warroom::domain::policy::presets;
use warroom::domain::{Action, Command, Policy, World, decide, review};

struct Run {
    world: World,
    policy: Policy,
    log: Vec<warroom::domain::Event>,
    n: u32,
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

impl Run {
    fn new(preset: &str) -> Run {
        Run {
            world: World::default(),
            policy: Policy::from_toml(presets::find(preset).unwrap()).unwrap(),
            log: Vec::new(),
            n: 0,
        }
    }

    fn try_at(&mut self, minutes: i64, actor: &str, action: Action) -> Result<(), String> {
        self.n += 1;
        let cmd = Command {
            id: Uuid::new_v5(
                &Uuid::NAMESPACE_OID,
                format!("review-{}", self.n).as_bytes(),
            ),
            incident: (!matches!(action, Action::Declare { .. })).then(|| "INC-1".to_string()),
            action,
            occurred_at: None,
        };
        let now = start() + Duration::minutes(minutes);
        let events =
            decide(&self.world, &self.policy, &cmd, actor, now).map_err(|e| e.to_string())?;
        for e in &events {
            self.world.apply(e);
        }
        self.log.extend(events);
        Ok(())
    }

    fn at(&mut self, minutes: i64, actor: &str, action: Action) {
        let what = action.name();
        self.try_at(minutes, actor, action)
            .unwrap_or_else(|e| panic!("{what} at +{minutes}m refused: {e}"));
    }

    fn field(&mut self, minutes: i64, field: &str, value: &str) {
        self.at(
            minutes,
            "alice",
            Action::SetReviewField {
                field: field.into(),
                value: value.into(),
            },
        );
    }

    fn review(&self, minutes: i64) -> String {
        let inc = self.world.resolve("INC-1").unwrap();
        let events: Vec<_> = self.log.iter().collect();
        review::render(
            inc,
            &events,
            &self.policy,
            start() + Duration::minutes(minutes),
        )
    }
}

/// One incident, the same in every preset: declared at the worst severity,
/// acknowledged, contained, resolved (overriding whatever criteria the
/// preset has), with one action item.
fn incident(preset: &str, priority: Option<&str>) -> Run {
    let mut r = Run::new(preset);
    let worst = r.policy.severities[0].id.clone();
    r.at(
        0,
        "alice",
        Action::Declare {
            title: "Checkout API returns 500".into(),
            severity: worst,
            kind: None,
            impact: Some(Impact {
                summary: "Every order fails at payment".into(),
                services: vec!["checkout".into()],
                customers: "all shoppers".into(),
                data_exposure: false,
                bridge: String::new(),
            }),
            commander: None,
        },
    );
    r.at(3, "bob", Action::Acknowledge);
    r.at(
        6,
        "alice",
        Action::RecordDetection {
            impact_started: Some(start() - Duration::minutes(4)),
            detected_at: None,
            method: Some(warroom::domain::event::DetectionMethod::Alert),
        },
    );
    r.at(
        9,
        "bob",
        Action::Note {
            kind: NoteKind::Action,
            text: "rolled back release 8.1".into(),
        },
    );
    r.at(
        12,
        "alice",
        Action::Contain {
            note: "payments on the previous release".into(),
        },
    );
    r.at(
        30,
        "alice",
        Action::Resolve {
            summary: "Release 8.1 broke the payment client; rolled back.".into(),
            force: true,
            reason: "snapshot run".into(),
        },
    );
    r.at(
        60,
        "alice",
        Action::AddActionItem {
            text: "Contract test for the payment client".into(),
            owner: Some("bob".into()),
            due: NaiveDate::from_ymd_opt(2026, 12, 4),
            priority: priority.map(str::to_string),
        },
    );
    r
}

#[test]
fn preset_002_is_the_pir_of_section_8_2() {
    let mut r = incident("002", Some("P1"));
    r.field(70, "requests_failed", "18,250");
    r.field(71, "why", "The client was never run against the sandbox.");
    r.field(72, "attendees", "alice, bob, Engineering Manager");
    insta::assert_snapshot!("review_002", r.review(80));
}

#[test]
fn preset_003_is_the_postmortem_table() {
    let mut r = incident("003", None);
    r.field(70, "root_cause", "Release 8.1 broke the payment client.");
    r.field(
        71,
        "permanent_fix",
        "PR 412: pin the client\nworkflow run 9981",
    );
    insta::assert_snapshot!("review_003", r.review(80));
}

#[test]
fn preset_000_is_the_post_mortem_with_the_risk_register() {
    let mut r = incident("000", None);
    r.field(
        70,
        "risks",
        "Payment client upgrades are untested | RR-17\nNo canary for checkout | RR-18",
    );
    r.field(71, "shared_externally", "Not Applicable");
    insta::assert_snapshot!("review_000", r.review(80));
}

#[test]
fn preset_004_is_the_incident_report() {
    let mut r = incident("004", None);
    r.field(70, "lessons", "Test the payment path before every release.");
    insta::assert_snapshot!("review_004", r.review(80));
}

#[test]
fn preset_001_is_the_post_mortem_along_its_workflow() {
    let mut r = incident("001", None);
    r.field(70, "customer_communication", "sent");
    insta::assert_snapshot!("review_001", r.review(80));
}

#[test]
fn default_is_002s_pir_with_what_warroom_records() {
    let mut r = incident("default", Some("P2"));
    r.field(70, "lessons", "Canary the payment path.");
    insta::assert_snapshot!("review_default", r.review(80));
}

#[test]
fn human_values_are_checked_against_the_field() {
    let mut r = incident("000", None);
    let e = r
        .try_at(
            70,
            "alice",
            Action::SetReviewField {
                field: "shared_externally".into(),
                value: "maybe".into(),
            },
        )
        .unwrap_err();
    assert_eq!(
        e,
        "review field shared_externally: \"maybe\" is not one of yes, no, not applicable"
    );
    let e = r
        .try_at(
            70,
            "alice",
            Action::SetReviewField {
                field: "risks".into(),
                value: "a | b | c".into(),
            },
        )
        .unwrap_err();
    assert_eq!(
        e,
        "review field risks: row 1 has 3 cells; the table has 2 columns (Risk | Risk register entry)"
    );
    // A field the record fills is not written by hand.
    let e = r
        .try_at(
            70,
            "alice",
            Action::SetReviewField {
                field: "timeline".into(),
                value: "x".into(),
            },
        )
        .unwrap_err();
    assert!(e.starts_with("unknown review field \"timeline\""), "{e}");
}
