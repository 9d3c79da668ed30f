//! Role backups in the war room (issue 11 item 14): 003's Backup column is
//! offered as the incoming person of a hand-off, and 001's "If the incident
//! lead is unavailable, escalate to the next defined backup" makes the backup
//! the escalation's target once the lead was paged and did not answer.

use crate::support::tui::*;
use crossterm::event::KeyCode;
use warroom::domain::Policy;
use warroom::domain::command::{Access, Action};
use warroom::domain::policy::presets;
use warroom::tui::model::Overlay;
use warroom::tui::msg::Msg;
use warroom::tui::{Model, update};

fn form_value(m: &Model, name: &str) -> String {
    match &m.overlay {
        Some(Overlay::Form(f)) => f.value(name),
        other => panic!("no form: {other:?}"),
    }
}

fn room(f: Fixture) -> Model {
    let mut m = f.model("alice", Access::Commander);
    update(&mut m, Msg::Resize(160, 48));
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    m
}

#[test]
fn a_hand_off_offers_the_roles_backup() {
    let mut f = Fixture::new();
    f.policy = Policy::from_toml(presets::find("003").unwrap()).unwrap();
    f.declare(
        "alice",
        "Leaked deploy key",
        "critical",
        "security",
        "keys exposed",
    );
    let mut m = room(f);
    chr(&mut m, 'r');
    assert_eq!(form_value(&m, "role"), "ic");
    assert_eq!(form_value(&m, "person"), "Engineering lead");
    let s = screen(&mut m, 160, 48);
    insta::assert_snapshot!("roles_dialog_offers_the_backup", s);
    assert!(
        s.contains("ic           alice   backup: Engineering lead"),
        "{s}"
    );
    // Another role: its own backup replaces the offer.
    press(&mut m, KeyCode::Right);
    assert_eq!(form_value(&m, "person"), "Senior engineer");
    let cmd = submitted(press(&mut m, KeyCode::Enter));
    assert_eq!(
        cmd.action,
        Action::AssignRole {
            role: "mitigation".into(),
            person: "Senior engineer".into(),
            note: String::new()
        }
    );
    // A name typed over the offer is kept when the role changes.
    chr(&mut m, 'r');
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Tab);
    for _ in 0.."Engineering lead".len() {
        press(&mut m, KeyCode::Backspace);
    }
    typ(&mut m, "bob");
    press(&mut m, KeyCode::BackTab);
    press(&mut m, KeyCode::BackTab);
    press(&mut m, KeyCode::Right);
    assert_eq!(form_value(&m, "person"), "bob");
}

#[test]
fn an_unanswered_lead_makes_the_backup_the_escalation_target() {
    let mut f = Fixture::new();
    let text = format!(
        "{}\n[[notify.directory]]\nname = \"dana\"\nrespond_within = \"10m\"\n",
        presets::find("001").unwrap()
    );
    f.policy = Policy::from_toml(&text).unwrap();
    let key = f.declare(
        "alice",
        "Tenant data exposed",
        "high",
        "security",
        "exports",
    );
    f.run("alice", &key, Action::ReleaseRole { role: "ic".into() });
    f.run(
        "alice",
        &key,
        Action::AssignRole {
            role: "ic".into(),
            person: "dana".into(),
            note: String::new(),
        },
    );
    f.run(
        "alice",
        &key,
        Action::Page {
            who: "dana".into(),
            reason: "you lead this one".into(),
        },
    );
    f.at(12);
    let mut m = room(f);
    chr(&mut m, 'e');
    assert_eq!(form_value(&m, "to"), "The next defined backup");
    let s = screen(&mut m, 160, 48);
    insta::assert_snapshot!("escalate_dialog_offers_the_backup", s);
    assert!(s.contains("Backups (runbook):"), "{s}");
    assert!(
        s.contains("Incident Lead (dana) → The next defined backup — did not answer in time"),
        "{s}"
    );
}
