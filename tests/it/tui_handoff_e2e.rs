//! Issue 8: a hand-off between two real terminals on a team server. The
//! outgoing IC offers the role; both are shown until the incoming person,
//! told on their own screen, takes it with one key.
#![allow(clippy::unwrap_used)]

use crate::support::pty::{Tui, serve, token};

#[test]
fn the_incoming_ic_takes_the_role_from_their_own_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("team.db");
    let (alice, bob) = (
        token(&db, "alice", "commander"),
        token(&db, "bob", "responder"),
    );
    let (mut server, url) = serve(&db, "127.0.0.1:0");
    let (home_a, home_b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&home_a).unwrap();
    std::fs::create_dir_all(&home_b).unwrap();
    let start = |home, token: &str| {
        Tui::start_with(
            home,
            48,
            160,
            &[("WARROOM_SERVER", &url), ("WARROOM_TOKEN", token)],
        )
    };
    let mut a = start(&home_a, &alice);
    let mut b = start(&home_b, &bob);
    a.wait_for("LIVE");
    b.wait_for("bob (responder)");

    a.keys(":");
    a.keys("incident declare \"Login failures in eu-west\" severity=P1");
    a.keys("\r");
    a.wait_for("INC-1 Login failures in eu-west");
    b.wait_for("Login failures in eu-west");

    // Alice hands IC to bob: Role (IC), Do, Person.
    a.keys("r");
    a.wait_for("Hand-off note");
    a.keys("\t\t");
    a.keys("bob");
    a.keys("\r");
    a.wait_for("Incident Commander offered to bob; alice keeps it until bob takes it");
    a.wait_for("alice → bob (pending)");

    // Bob is told on his board, opens the war room, and takes it.
    b.wait_for("INC-1: alice is handing you ic; in its war room T takes it, X declines");
    b.keys("\r");
    b.wait_for("INCIDENT COMMANDER HANDED TO YOU by alice: T takes it, X declines");
    b.keys("T");
    b.wait_for("you take Incident Commander from alice");

    // Alice's roles panel follows: bob holds it, nothing pending.
    a.wait_for("ic handed off alice → bob");
    let screen = a.contents();
    assert!(!screen.contains("(pending)"), "{screen}");
    assert!(
        screen
            .lines()
            .any(|l| l.contains("Incident Commander") && l.contains("bob")),
        "{screen}"
    );

    for t in [&mut a, &mut b] {
        t.keys("\x1b");
        t.keys("q");
        t.keys("y");
        assert_eq!(t.wait_exit(), 0);
    }
    server.kill().unwrap();
    server.wait().unwrap();
}
