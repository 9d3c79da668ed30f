//! End to end: the real binary in a pseudo-terminal, with its embedded server
//! on a SQLite file in a temporary directory. Keys are typed, the screen is
//! read back through a terminal emulator (vt100).
#![allow(clippy::unwrap_used)]

use crate::support::pty::{Tui, serve, token};

#[test]
fn declare_note_and_quit_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Tui::start(dir.path(), 30, 100);
    t.wait_for("No open incidents.");
    t.wait_for("LIVE");
    t.keys("d");
    t.wait_for("Declare an incident");
    t.keys("Payments API down");
    t.keys("\r");
    // The war room opens when the declaration comes back on the stream.
    t.wait_for("INC-1 Payments API down");
    t.wait_for("NOT ACKNOWLEDGED");
    t.keys("a");
    t.wait_for("acked");
    t.keys("i");
    t.keys("Rolled back the 14:02 deploy");
    t.keys("\r");
    t.wait_for("Rolled back the 14:02 deploy");
    // Esc hides the (now empty) composer, q goes to the board, q quits.
    t.keys("\x1b");
    t.keys("q");
    t.wait_for("1 open incident");
    t.keys("q");
    t.keys("y");
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn the_log_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Tui::start(dir.path(), 30, 100);
    t.wait_for("LIVE");
    t.keys(":");
    t.keys("incident declare \"Disk full on db-2\" severity=P2");
    t.keys("\r");
    t.wait_for("INC-1 Disk full on db-2");
    t.keys("q");
    t.keys("q");
    t.keys("y");
    assert_eq!(t.wait_exit(), 0);
    // Same data directory, new process: the incident is on the board.
    let mut t = Tui::start(dir.path(), 30, 100);
    t.wait_for("Disk full on db-2");
    t.wait_for("1 open incident");
    t.keys("q");
    t.keys("y");
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn a_tiny_terminal_says_so_instead_of_crashing() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Tui::start(dir.path(), 10, 40);
    t.wait_for("terminal too small: 40×10, need 60×16");
    t.keys("q");
    t.keys("y");
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn a_note_typed_offline_is_delivered_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("team.db");
    let token = token(&db, "alice", "commander");
    let (mut server, url) = serve(&db, "127.0.0.1:0");
    let start = |home: &std::path::Path| {
        let mut t = Tui::start_with(
            home,
            30,
            100,
            &[("WARROOM_SERVER", &url), ("WARROOM_TOKEN", &token)],
        );
        t.wait_for("LIVE");
        t.keys("");
        t
    };
    let mut t = start(dir.path());
    t.keys(":");
    t.keys("incident declare \"Queue backlog\" severity=P3");
    t.keys("\r");
    t.wait_for("INC-1 Queue backlog");
    // The server goes away; the scribe keeps writing.
    server.kill().unwrap();
    server.wait().unwrap();
    t.wait_for("OFFLINE");
    t.keys("i");
    t.keys("Consumers restarted while the server was down");
    t.keys("\r");
    t.wait_for("PENDING");
    t.wait_for("1 queued");
    t.keys("\x1b");
    t.keys("q");
    t.keys("q");
    t.keys("y");
    assert_eq!(t.wait_exit(), 0);
    // Started while the server is still down: it opens from the last session's
    // identity and policy, and shows the note as still queued.
    let mut t = Tui::start_with(
        dir.path(),
        30,
        100,
        &[("WARROOM_SERVER", &url), ("WARROOM_TOKEN", &token)],
    );
    t.wait_for("working offline");
    t.wait_for("1 queued");
    t.keys("q");
    t.keys("y");
    assert_eq!(t.wait_exit(), 0);
    // The server comes back on the same address; a new session delivers the note.
    let listen = url.trim_start_matches("http://").to_string();
    let (mut server, _) = serve(&db, &listen);
    let mut t = start(dir.path());
    t.keys("\r");
    t.wait_for("Consumers restarted while the server");
    t.wait_for("LIVE");
    assert!(!t.contents().contains("PENDING"), "{}", t.contents());
    assert!(!t.contents().contains("queued"), "{}", t.contents());
    t.keys("q");
    t.keys("q");
    t.keys("y");
    assert_eq!(t.wait_exit(), 0);
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn a_second_client_sees_the_declaration_the_note_and_the_acknowledgement() {
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
    let mut a = Tui::start_with(
        &home_a,
        30,
        120,
        &[("WARROOM_SERVER", &url), ("WARROOM_TOKEN", &alice)],
    );
    let mut b = Tui::start_with(
        &home_b,
        30,
        120,
        &[("WARROOM_SERVER", &url), ("WARROOM_TOKEN", &bob)],
    );
    a.wait_for("LIVE");
    b.wait_for("LIVE");
    b.wait_for("bob (responder)");

    // Alice declares with the runbook's own syntax, writes a note, acknowledges.
    a.keys(":");
    a.keys("incident declare \"Login failures in eu-west\" severity=P1");
    a.keys("\r");
    a.wait_for("INC-1 Login failures in eu-west");
    b.wait_for("Login failures in eu-west");
    a.keys("i");
    a.keys("Auth pods OOMKilled since 09:12");
    a.keys("\r");
    a.wait_for("Auth pods OOMKilled since 09:12");
    a.keys("\x1b");
    a.keys("a");
    a.wait_for("acked");

    // Bob, on his own terminal, opens it and sees all three, pushed live.
    b.keys("\r");
    b.wait_for("INC-1 Login failures in eu-west");
    b.wait_for("Auth pods OOMKilled since 09:12");
    b.wait_for("acked");
    let screen = b.contents();
    assert!(screen.contains("alice"), "the actor is shown:\n{screen}");

    for t in [&mut a, &mut b] {
        t.keys("q");
        t.keys("q");
        t.keys("y");
        assert_eq!(t.wait_exit(), 0);
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    for signal in ["-TERM", "-HUP"] {
        let dir = tempfile::tempdir().unwrap();
        let mut t = Tui::start(dir.path(), 30, 100);
        t.wait_for("LIVE");
        assert!(
            t.alternate_screen(),
            "the TUI draws on the alternate screen"
        );
        let pid = t.pid().unwrap().to_string();
        let status = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(t.wait_exit(), 0, "{signal} is a clean exit");
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(
            !t.alternate_screen(),
            "{signal}: the terminal was not restored"
        );
    }
}

#[test]
fn a_second_terminal_joins_the_embedded_server() {
    // Two `warroom`s on one machine and one data dir: the second joins the
    // server the first runs (its address is in the status bar of both) and
    // sees what the first does, live.
    let dir = tempfile::tempdir().unwrap();
    let mut first = Tui::start(dir.path(), 30, 120);
    first.wait_for("LIVE");
    let mut second = Tui::start(dir.path(), 30, 120);
    second.wait_for("LIVE");
    let url = |t: &Tui| {
        t.contents()
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .map(str::to_string)
    };
    assert!(url(&first).is_some(), "{}", first.contents());
    assert_eq!(url(&first), url(&second), "both talk to one server");
    first.keys(":");
    first.keys("incident declare \"Cache stampede on sessions\" severity=P2");
    first.keys("\r");
    second.wait_for("Cache stampede on sessions");
    for t in [&mut second, &mut first] {
        t.keys("q");
        t.keys("q");
        t.keys("y");
        assert_eq!(t.wait_exit(), 0);
    }
}

#[test]
fn ctrl_z_then_fg_restores_the_screen_and_the_draft() {
    // Job control needs a shell: a process whose group has no parent shell
    // (an orphaned group) ignores SIGTSTP.
    let dir = tempfile::tempdir().unwrap();
    let mut t = Tui::start_shell(dir.path(), 30, 100, &[]);
    t.wait_for("shell$");
    t.keys("\"$WARROOM\"\r");
    t.wait_for("LIVE");
    t.keys(":");
    t.keys("incident declare \"Checkout latency\" severity=P2");
    t.keys("\r");
    t.wait_for("INC-1 Checkout latency");
    t.keys("i");
    t.keys("half a thought about the cache");
    t.wait_for("half a thought about the cache");
    t.keys("\x1a");
    t.wait_for("Stopped");
    assert!(!t.alternate_screen(), "the shell got its screen back");
    t.keys("fg\r");
    t.wait_for("INC-1 Checkout latency");
    t.wait_for("half a thought about the cache");
    t.wait_for("LIVE");
    assert!(t.alternate_screen());
    // Still alive and still taking keys: the draft is sent.
    t.keys("\r");
    t.wait_for("Checkout latency");
    t.keys("\x1b");
    t.keys("q");
    t.keys("q");
    t.keys("y");
    t.wait_for("shell$");
    t.keys("echo exit=$?\r");
    t.wait_for("exit=0");
    t.keys("exit\r");
}

/// `q` on the board, answering "y" if this window hosts the embedded server
/// and is warned that others are joined to it.
fn quit_from_board(t: &mut Tui) {
    t.keys("q");
    std::thread::sleep(std::time::Duration::from_millis(300));
    if t.contents().contains("(y/n)") {
        t.keys("y");
    }
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn joined_windows_carry_on_when_the_hosting_window_quits() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = Tui::start(dir.path(), 30, 120);
    host.wait_for("LIVE");
    let mut a = Tui::start(dir.path(), 30, 120);
    a.wait_for("LIVE");
    let mut b = Tui::start(dir.path(), 30, 120);
    b.wait_for("LIVE");
    host.keys(":");
    host.keys("incident declare \"Search index stale\" severity=P3");
    host.keys("\r");
    host.wait_for("INC-1 Search index stale");
    a.wait_for("Search index stale");
    a.keys("\r");
    a.wait_for("INC-1 Search index stale");

    // The host is warned that two windows depend on it, then quits.
    host.keys("\x1b");
    host.keys("q");
    host.wait_for("2 other windows are joined");
    host.keys("y");
    assert_eq!(host.wait_exit(), 0);

    // A note typed at once is not lost: it waits in the outbox and is
    // replayed on the server one of the joined windows takes over.
    a.keys("i");
    a.keys("Written while the host was quitting");
    a.keys("\r");
    b.keys("\r");
    b.wait_for("Written while the host was quitting");
    a.wait_for("LIVE");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while a.contents().contains("PENDING") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(!a.contents().contains("PENDING"), "{}", a.contents());
    assert!(!a.contents().contains("OFFLINE"), "{}", a.contents());

    // Both carry on together: what one writes, the other sees.
    b.keys("i");
    b.keys("Reindex started from the scribe seat");
    b.keys("\r");
    a.wait_for("Reindex started from the scribe seat");

    // A window started now joins whichever took over.
    let mut c = Tui::start(dir.path(), 30, 120);
    c.wait_for("LIVE");
    c.keys("\r");
    c.wait_for("Reindex started from the scribe seat");
    for t in [&mut c, &mut a, &mut b] {
        t.keys("\x1b");
        t.keys("\x1b");
        t.keys("q");
        quit_from_board(t);
    }
}

/// The demo's temporary stores under `tmp`.
fn demo_dirs(tmp: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("warroom-demo-"))
        .collect()
}

#[test]
fn the_demo_plays_when_the_config_names_a_cast_member() {
    // The README's own example config, and $USER=alice as well.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config").join("warroom");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.toml"), "name = \"alice\"\n").unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut t = Tui::start_args(
        dir.path(),
        30,
        120,
        &["demo"],
        &[("TMPDIR", tmp.to_str().unwrap())],
    );
    t.wait_for("LIVE");
    // The scripted responders' incidents arrive.
    t.wait_for("INC-1");
    t.wait_for("INC-3");
    assert!(
        !t.contents().contains("could not start"),
        "{}",
        t.contents()
    );
    quit_from_board(&mut t);
    assert!(demo_dirs(&tmp).is_empty(), "{:?}", demo_dirs(&tmp));
}

#[test]
fn the_demo_store_is_removed_when_its_terminal_closes() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut t = Tui::start_args(
        dir.path(),
        30,
        120,
        &["demo"],
        &[("TMPDIR", tmp.to_str().unwrap())],
    );
    t.wait_for("LIVE");
    assert_eq!(demo_dirs(&tmp).len(), 1, "the demo made its store");
    // The terminal window closes under it.
    t.hang_up();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !(t.exited() && demo_dirs(&tmp).is_empty()) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        t.exited(),
        "the demo kept running after its terminal closed"
    );
    assert!(
        demo_dirs(&tmp).is_empty(),
        "left behind: {:?}",
        demo_dirs(&tmp)
    );
}

#[test]
fn keys_typed_on_the_too_small_screen_act_on_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Tui::start(dir.path(), 5, 20);
    t.wait_for("too small");
    std::thread::sleep(std::time::Duration::from_millis(500));
    // Blind: declare a P1 called "blind", then open the command line and run one.
    t.keys("d");
    t.keys("blind");
    t.keys("\r");
    t.keys(":incident declare \"blind too\" severity=P1\r");
    t.resize(30, 100);
    t.wait_for("No open incidents.");
    t.wait_for("LIVE");
    let screen = t.contents();
    assert!(!screen.contains("Declare an incident"), "{screen}");
    assert!(!screen.contains("INC-1"), "{screen}");
    // Back to small: q still quits from there.
    t.resize(5, 20);
    t.wait_for("too small");
    t.keys("q");
    t.keys("y");
    assert_eq!(t.wait_exit(), 0);
}
