//! The presets against their runbooks, and policy validation.
#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn builtin_default_is_the_embedded_default_preset() {
    let parsed = Policy::from_toml(presets::DEFAULT).unwrap();
    assert_eq!(Policy::builtin_default(), parsed);
    assert_eq!(parsed.name, "default");
    assert_eq!(presets::find("default"), Some(presets::DEFAULT));
}

#[test]
fn every_preset_parses_and_is_found_by_both_names() {
    for (short, stem, text) in presets::ALL {
        let p = Policy::from_toml(text).unwrap_or_else(|e| panic!("preset {stem}: {e}"));
        assert!(p.role("ic").is_some(), "{stem}");
        assert_eq!(presets::find(short), Some(*text));
        assert_eq!(presets::find(stem), Some(*text));
    }
    assert_eq!(presets::ALL.len(), 6);
}

/// The default is runbook 002 with generic wording: every number, role,
/// rule and checklist must stay the same as in the 002 preset.
#[test]
fn default_keeps_the_numbers_of_runbook_002() {
    let d = Policy::from_toml(presets::DEFAULT).unwrap();
    let t = Policy::from_toml(presets::find("002").unwrap()).unwrap();
    // The default's own additions, marked as warroom defaults, are not 002's.
    let numbers = |p: &Policy| {
        p.severities
            .iter()
            .map(without_warroom_defaults)
            .map(|s| {
                (
                    s.id.clone(),
                    s.acknowledge,
                    s.contain,
                    s.resolve,
                    s.updates.clone(),
                    s.review.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(numbers(&d), numbers(&t));
    assert_eq!(d.roles, t.roles);
    assert_eq!(d.escalations, t.escalations);
    assert_eq!(d.escalation_path, t.escalation_path);
    assert_eq!(d.checklists, t.checklists);
    assert_eq!(d.resolution, t.resolution);
    assert_eq!(d.closure, t.closure);
    assert_eq!(d.kinds, t.kinds);
    let shape = |p: &Policy| {
        p.flowchart.as_ref().map(|f| {
            f.questions
                .iter()
                .map(|q| (q.id.clone(), q.answers.clone()))
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(shape(&d), shape(&t));
}

/// A severity with every clock warroom added (its `warroom_defaults`) taken out.
fn without_warroom_defaults(s: &Severity) -> Severity {
    let mut s = s.clone();
    for name in std::mem::take(&mut s.warroom_defaults) {
        match name.as_str() {
            "acknowledge" => s.acknowledge = None,
            "contain" => s.contain = None,
            "resolve" => s.resolve = None,
            "status_page" => s.updates.status_page = Cadence::default(),
            "internal" => s.updates.internal = Cadence::default(),
            "customer" => s.updates.customer = Cadence::default(),
            "review" => s.review.due = None,
            _ => {}
        }
    }
    s
}

/// A preset follows its runbook: no clock warroom invented; only the
/// `default` policy marks additions of its own.
#[test]
fn only_the_default_policy_adds_clocks() {
    for (short, stem, text) in presets::ALL {
        let p = Policy::from_toml(text).unwrap();
        let marked: Vec<_> = p
            .severities
            .iter()
            .flat_map(|s| s.warroom_defaults.iter().map(|d| format!("{}.{d}", s.id)))
            .collect();
        if *short == "default" {
            assert_eq!(marked, ["P2.customer"], "{stem}");
        } else {
            assert!(marked.is_empty(), "{stem} invents clocks: {marked:?}");
        }
        // No clock line of a preset says it is warroom's own.
        for (n, line) in text.lines().enumerate() {
            let clock_line = [
                "acknowledge",
                "contain",
                "resolve",
                "updates.",
                "review.due",
            ]
            .iter()
            .any(|k| line.trim_start().starts_with(k));
            if clock_line && *short != "default" {
                assert!(
                    !line.contains("warroom default"),
                    "{stem}.toml line {}: {line}",
                    n + 1
                );
            }
        }
    }
    // 004's "Provide regular updates" and 003's update promises state no cadence.
    for (preset, channel) in [
        ("004", "status_page"),
        ("004", "internal"),
        ("003", "internal"),
    ] {
        let p = Policy::from_toml(presets::find(preset).unwrap()).unwrap();
        for s in &p.severities {
            let every = match channel {
                "status_page" => s.updates.status_page.every,
                _ => s.updates.internal.every,
            };
            assert_eq!(every, None, "{preset} {} {channel}", s.id);
        }
    }
    let t = Policy::from_toml(presets::find("002").unwrap()).unwrap();
    let p2 = t.severity("P2").unwrap();
    assert!(
        !p2.has_clock("customer"),
        "§6.3: P2 customer email at end of incident"
    );
    assert!(p2.notes["customer"].contains("within 30 minutes"));
}

/// Each runbook's own message: 002 §6.1's internal status update in 002 and
/// the default; 003's "Internal Update (Short)" one-liner only in 003.
#[test]
fn internal_update_is_the_runbooks_own() {
    for preset in ["002", "default"] {
        let p = Policy::from_toml(presets::find(preset).unwrap()).unwrap();
        let t = p.templates.internal.trim();
        let headings: Vec<&str> = t
            .lines()
            .filter(|l| {
                l.ends_with(':')
                    || l.contains("STATUS UPDATE")
                    || l.starts_with("Current State")
                    || l.starts_with("Next Update")
            })
            .collect();
        assert_eq!(
            headings,
            [
                "{now} STATUS UPDATE",
                "Current State: {status}",
                "Summary:",
                "Actions Taken:",
                "Next Steps:",
                "Customer Impact:",
                "Next Update: {next_update}"
            ],
            "{preset}"
        );
    }
    let one_liner = |p: &Policy| p.templates.internal.starts_with("Incident {id} | ");
    for (short, stem, text) in presets::ALL {
        let p = Policy::from_toml(text).unwrap();
        assert_eq!(one_liner(&p), *short == "003", "{stem}");
    }
}

/// The manual escalation criteria are the runbooks' own (002 §5.2, 004
/// "When to Escalate", 001 Medium/Low); 003 states none.
#[test]
fn manual_escalation_criteria_are_the_runbooks() {
    let criteria = |preset: &str| {
        Policy::from_toml(presets::find(preset).unwrap())
            .unwrap()
            .escalation_criteria
    };
    assert_eq!(criteria("002").len(), 5);
    assert_eq!(
        criteria("002").last().unwrap(),
        "Resolution taking longer than target"
    );
    assert_eq!(criteria("default"), criteria("002"));
    assert_eq!(criteria("004")[3], "Security incident involved");
    assert!(
        criteria("001")
            .iter()
            .any(|c| c.contains("a customer is blocked"))
    );
    assert!(criteria("003").is_empty());
}

/// 002 §3.4 "Scribe: not the IC or Technical Lead" is a warning.
#[test]
fn scribe_who_is_also_ic_is_a_warning() {
    let p = Policy::from_toml(presets::find("002").unwrap()).unwrap();
    let roles: BTreeMap<String, String> =
        [("ic", "alice"), ("tech_lead", "bob"), ("scribe", "alice")]
            .into_iter()
            .map(|(r, p)| (r.to_string(), p.to_string()))
            .collect();
    assert_eq!(
        p.role_conflicts(&roles),
        ["Scribe alice is also Incident Commander (the policy keeps them apart)"]
    );
    let mut ok = roles.clone();
    ok.insert("scribe".into(), "dana".into());
    assert!(p.role_conflicts(&ok).is_empty());
    let bad = presets::find("002").unwrap().replace(
        "not_with = [\"ic\", \"tech_lead\"]",
        "not_with = [\"chef\"]",
    );
    let e = Policy::from_toml(&bad).unwrap_err().to_string();
    assert_eq!(e, "roles[3].not_with: unknown role \"chef\"");
}

#[test]
fn warroom_defaults_and_notes_name_real_clocks() {
    let base = presets::find("002").unwrap();
    let bad = base.replace(
        "review.due = \"72h\"                 # 002 §8.1 P1",
        "warroom_defaults = [\"pager\"]\nreview.due = \"72h\" #",
    );
    assert_ne!(bad, base);
    let e = Policy::from_toml(&bad).unwrap_err().to_string();
    assert!(
        e.starts_with("severities[0].warroom_defaults[0]: unknown clock \"pager\""),
        "{e}"
    );
    let bad = base.replace(
        "review.due = \"72h\"                 # 002 §8.1 P1",
        "warroom_defaults = [\"contain\"]\nreview.due = \"72h\" #",
    );
    let e = Policy::from_toml(&bad).unwrap_err().to_string();
    assert_eq!(
        e,
        "severities[0].warroom_defaults[0]: severity P1 sets no contain clock to mark"
    );
    let bad = base.replace("notes.customer =", "notes.email =");
    let e = Policy::from_toml(&bad).unwrap_err().to_string();
    assert!(
        e.starts_with("severities[1].notes.email: unknown clock"),
        "{e}"
    );
}

#[test]
fn runbook_002_numbers_are_in_the_default() {
    let p = Policy::builtin_default();
    let p1 = p.severity("P1").unwrap();
    assert_eq!(p1.acknowledge, Some(Span::minutes(5)));
    assert_eq!(p1.resolve, Some(Span::hours(2)));
    assert_eq!(p1.updates.status_page.first, Some(Span::minutes(10)));
    assert_eq!(p1.updates.status_page.every, Some(Span::minutes(30)));
    assert_eq!(p1.updates.internal.every, Some(Span::minutes(15)));
    assert_eq!(p1.updates.customer.first, Some(Span::minutes(15)));
    assert_eq!(p1.updates.customer.every, Some(Span::hours(1)));
    assert_eq!(
        p.severity("P2").unwrap().acknowledge,
        Some(Span::minutes(15))
    );
    let rules: Vec<(&str, Trigger, String, &str)> = p
        .escalations
        .iter()
        .map(|r| (r.id.as_str(), r.when, r.after.to_string(), r.to.as_str()))
        .collect();
    assert_eq!(
        rules,
        [
            (
                "p1-unacked-5m",
                Trigger::Unacknowledged,
                "5m".into(),
                "Backup on-call"
            ),
            (
                "p1-unacked-10m",
                Trigger::Unacknowledged,
                "10m".into(),
                "Engineering Manager"
            ),
            (
                "p2-unacked-15m",
                Trigger::Unacknowledged,
                "15m".into(),
                "Backup on-call"
            ),
            ("p1-open-30m", Trigger::Open, "30m".into(), "VP Engineering"),
            ("p1-open-1h", Trigger::Open, "1h".into(), "CTO"),
            ("security-lead", Trigger::Open, "0m".into(), "Security Lead"),
        ]
    );
    assert_eq!(p.escalations[5].kinds, ["security"]);
    let ids: Vec<&str> = p.roles.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["ic", "tech_lead", "comms", "scribe", "sme"]);
    assert_eq!(p.resolution.stability_window, Some(Span::minutes(15)));
    assert_eq!(p.checklist("triage").map(|c| c.items.len()), Some(7));
    assert_eq!(p.checklist("resolution").map(|c| c.items.len()), Some(6));
}
