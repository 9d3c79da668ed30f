//! Hand-offs: one test per rule of [`super`], through `decide` + `apply`.
#![allow(clippy::unwrap_used)]

use crate::domain::command::Action;
use crate::domain::decide::DomainError;
use crate::domain::event::{EventBody, RoleChange};
use crate::domain::testkit::{Harness, policy};

fn assign(role: &str, person: &str) -> Action {
    Action::AssignRole {
        role: role.into(),
        person: person.into(),
        note: String::new(),
    }
}

fn accept(role: &str) -> Action {
    Action::AcceptRole { role: role.into() }
}

fn decline(role: &str, reason: &str) -> Action {
    Action::DeclineRole {
        role: role.into(),
        reason: reason.into(),
    }
}

/// INC-1, declared by alice, who is its IC.
fn incident() -> (Harness, String) {
    let mut h = Harness::new(policy());
    let key = h.declare("API down", "P1");
    assert_eq!(
        h.inc(&key).roles.get("ic").map(String::as_str),
        Some("alice")
    );
    (h, key)
}

#[test]
fn handing_a_held_role_to_someone_else_offers_it_and_the_holder_keeps_it() {
    let (mut h, key) = incident();
    let ev = h.run(
        "alice",
        &key,
        Action::AssignRole {
            role: "IC".into(),
            person: "@bob".into(),
            note: "shift ends".into(),
        },
    );
    assert_eq!(
        ev[0].body,
        EventBody::RoleOffered(Box::new(RoleChange {
            role: "ic".into(),
            from: "alice".into(),
            to: "bob".into(),
            note: "shift ends".into(),
        }))
    );
    assert_eq!(
        ev[0].body.describe(),
        "ic offered alice → bob (awaiting bob): shift ends"
    );
    let inc = h.inc(&key);
    assert_eq!(inc.roles.get("ic").map(String::as_str), Some("alice"));
    let offer = inc.offers.get("ic").unwrap();
    assert_eq!((offer.from.as_str(), offer.to.as_str()), ("alice", "bob"));
    assert_eq!(offer.by, "alice");
}

#[test]
fn the_incoming_person_accepts_and_the_role_moves_with_the_note() {
    let (mut h, key) = incident();
    h.run(
        "alice",
        &key,
        Action::AssignRole {
            role: "ic".into(),
            person: "bob".into(),
            note: "runbook at §5".into(),
        },
    );
    let ev = h.at(3).run("Bob", &key, accept("ic"));
    assert_eq!(
        ev[0].body,
        EventBody::RoleHandedOff(Box::new(RoleChange {
            role: "ic".into(),
            from: "alice".into(),
            to: "bob".into(),
            note: "runbook at §5".into(),
        }))
    );
    let inc = h.inc(&key);
    assert_eq!(inc.roles.get("ic").map(String::as_str), Some("bob"));
    assert!(inc.offers.is_empty());
    // Accepting twice: there is nothing left to accept.
    assert_eq!(
        h.refuse("bob", &key, accept("ic")),
        DomainError::NoOffer { role: "ic".into() }
    );
}

#[test]
fn the_incoming_person_declines_and_the_holder_keeps_the_role() {
    let (mut h, key) = incident();
    h.run("alice", &key, assign("ic", "bob"));
    let ev = h.run("bob", &key, decline("ic", "on another bridge"));
    assert_eq!(
        ev[0].body.describe(),
        "bob declined ic; alice keeps it: on another bridge"
    );
    let inc = h.inc(&key);
    assert_eq!(inc.roles.get("ic").map(String::as_str), Some("alice"));
    assert!(inc.offers.is_empty());
}

#[test]
fn only_the_person_offered_the_role_may_answer() {
    let (mut h, key) = incident();
    h.run("alice", &key, assign("ic", "bob"));
    for actor in ["alice", "carol"] {
        let e = h.refuse(actor, &key, accept("ic"));
        assert_eq!(
            e.to_string(),
            "ic was offered to bob; only bob can accept or decline it"
        );
        assert_eq!(e.kind(), crate::domain::decide::ErrorKind::Conflict);
        h.refuse(actor, &key, decline("ic", ""));
    }
    let e = h.refuse("bob", &key, accept("scribe"));
    assert_eq!(e.to_string(), "nobody has been offered scribe");
    let e = h.refuse("bob", &key, accept("pilot"));
    assert!(matches!(e, DomainError::UnknownRole { .. }), "{e:?}");
}

#[test]
fn taking_a_role_yourself_needs_no_acceptance() {
    let (mut h, key) = incident();
    let ev = h.run("bob", &key, assign("ic", "@bob"));
    assert!(
        matches!(&ev[0].body, EventBody::RoleHandedOff(c) if c.from == "alice" && c.to == "bob"),
        "{ev:?}"
    );
    assert_eq!(h.inc(&key).roles.get("ic").map(String::as_str), Some("bob"));
}

#[test]
fn a_vacant_role_is_assigned_at_once() {
    let (mut h, key) = incident();
    let ev = h.run("alice", &key, assign("scribe", "carol"));
    assert_eq!(ev[0].body.kind_name(), "role_assigned");
    assert_eq!(
        h.inc(&key).roles.get("scribe").map(String::as_str),
        Some("carol")
    );
}

#[test]
fn a_new_offer_replaces_the_old_and_the_same_offer_again_changes_nothing() {
    let (mut h, key) = incident();
    h.run("alice", &key, assign("ic", "bob"));
    let e = h.refuse("alice", &key, assign("ic", "BOB"));
    assert_eq!(e.to_string(), "INC-1 is already offering ic to bob");
    h.run("alice", &key, assign("ic", "carol"));
    assert_eq!(h.inc(&key).offers.get("ic").unwrap().to, "carol");
    // bob's offer is gone.
    h.refuse("bob", &key, accept("ic"));
    h.run("carol", &key, accept("ic"));
    assert_eq!(
        h.inc(&key).roles.get("ic").map(String::as_str),
        Some("carol")
    );
    // Handing it back to the holder is refused as before.
    let e = h.refuse("carol", &key, assign("ic", "carol"));
    assert_eq!(e.to_string(), "carol already holds ic");
}

#[test]
fn releasing_the_role_or_reassigning_it_withdraws_the_offer() {
    let (mut h, key) = incident();
    h.run("alice", &key, assign("ic", "bob"));
    h.run("alice", &key, Action::ReleaseRole { role: "ic".into() });
    assert!(h.inc(&key).offers.is_empty());
    assert_eq!(
        h.refuse("bob", &key, accept("ic")),
        DomainError::NoOffer { role: "ic".into() }
    );
    // Vacant again: the next assignment is immediate and clears nothing it should not.
    h.run("alice", &key, assign("ic", "dana"));
    h.run("dana", &key, assign("ic", "erin"));
    h.run("frank", &key, assign("ic", "frank"));
    assert!(
        h.inc(&key).offers.is_empty(),
        "frank took it: erin's offer is gone"
    );
    assert_eq!(
        h.inc(&key).roles.get("ic").map(String::as_str),
        Some("frank")
    );
}

#[test]
fn a_closed_incident_takes_no_hand_off_answers() {
    let mut p = policy();
    p.closure = Default::default();
    p.resolution = Default::default();
    let mut h = Harness::new(p);
    let key = h.declare("API down", "P1");
    h.run("alice", &key, assign("ic", "bob"));
    h.run(
        "alice",
        &key,
        Action::Resolve {
            summary: "ok".into(),
            force: false,
            reason: String::new(),
        },
    );
    h.run("alice", &key, Action::Close);
    let e = h.refuse("bob", &key, accept("ic"));
    assert_eq!(e.to_string(), "INC-1 is closed; reopen it first");
}
