//! End to end: the SSH seat of `warroom serve --ssh`, entered with the real
//! OpenSSH client (`ssh -tt` in a pseudo-terminal, its screen read through a
//! VT100 emulator), keys made with `ssh-keygen` and registered with `warroom
//! key add`. Under `CI=true` a missing OpenSSH client fails these tests.
#![allow(clippy::unwrap_used)]

use crate::support::pty::{Tui, token};
use crate::support::ssh::{Served, key_add, keygen, openssh, serve_ssh, ssh_options, ssh_run};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A served seat with alice (commander) registered.
struct World {
    dir: tempfile::TempDir,
    ssh: PathBuf,
    keygen: PathBuf,
    served: Served,
    alice: PathBuf,
}

impl World {
    fn start() -> Option<World> {
        World::start_with(&[])
    }

    fn start_with(extra: &[&str]) -> Option<World> {
        let (ssh, kg) = openssh()?;
        let dir = tempfile::tempdir().unwrap();
        let alice = keygen(&kg, dir.path(), "alice");
        key_add(&dir.path().join("warroom.db"), "alice", "commander", &alice);
        let served = serve_ssh(&dir.path().join("warroom.db"), extra);
        Some(World {
            dir,
            ssh,
            keygen: kg,
            served,
            alice,
        })
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("warroom.db")
    }

    /// Another registered person.
    fn person(&self, name: &str, role: &str) -> PathBuf {
        let key = keygen(&self.keygen, self.dir.path(), name);
        key_add(&self.db(), name, role, &key);
        key
    }

    /// `ssh -tt` into the seat in a terminal of `rows`×`cols`.
    fn seat(&self, key: &Path, rows: u16, cols: u16) -> Tui {
        self.seat_with(key, rows, cols, true, &[])
    }

    /// `seat`, with OpenSSH's INFO lines shown unless `quiet`, and more options.
    fn seat_with(&self, key: &Path, rows: u16, cols: u16, quiet: bool, extra: &[&str]) -> Tui {
        let home = self.dir.path().join(format!(
            "home-{}",
            key.file_name().unwrap().to_string_lossy()
        ));
        std::fs::create_dir_all(&home).unwrap();
        let mut args = vec!["-tt".to_string()];
        args.extend(ssh_options(self.served.port, Some(key), quiet));
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push("127.0.0.1".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Tui::start_program(&home, rows, cols, self.ssh.to_str().unwrap(), &args, &[])
    }

    fn run(&self, key: &Path, args: &[&str]) -> (i32, String, String) {
        let out = ssh_run(&self.ssh, self.served.port, key, args);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// Waits until row `row` of the screen contains `text`.
fn wait_row(t: &Tui, row: usize, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if t.contents()
            .lines()
            .nth(row)
            .is_some_and(|l| l.contains(text))
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{text:?} never appeared on row {row}; the screen:\n{}",
        t.contents()
    );
}

fn quit(t: &mut Tui) -> u32 {
    t.keys("\x1b");
    t.keys("q");
    t.keys("q");
    t.keys("y");
    t.wait_exit()
}

#[test]
fn declared_by_keys_over_ssh_and_seen_live_in_a_second_seat_and_a_local_tui() {
    let Some(w) = World::start() else { return };
    let bob = w.person("bob", "responder");
    let mut a = w.seat(&w.alice, 30, 120);
    let mut b = w.seat(&bob, 30, 120);
    a.wait_for("alice (commander)");
    a.wait_for("LIVE");
    b.wait_for("bob (responder)");
    let carol = token(&w.db(), "carol", "responder");
    let home_c = w.dir.path().join("home-carol");
    std::fs::create_dir_all(&home_c).unwrap();
    let mut c = Tui::start_with(
        &home_c,
        30,
        120,
        &[("WARROOM_SERVER", &w.served.url), ("WARROOM_TOKEN", &carol)],
    );
    c.wait_for("LIVE");

    a.keys("d");
    a.wait_for("Declare an incident");
    a.keys("Payments API down");
    a.keys("\r");
    a.wait_for("INC-1 Payments API down");
    b.wait_for("Payments API down");
    c.wait_for("Payments API down");
    a.keys("a");
    a.wait_for("acked");

    // Bob opens it in his own seat: the acknowledgement arrived live, by alice.
    b.keys("\r");
    b.wait_for("INC-1 Payments API down");
    b.wait_for("acked");
    assert!(b.contents().contains("alice"), "{}", b.contents());
    // Carol's local TUI (over HTTP) has it too.
    c.keys("\r");
    c.wait_for("acked");

    // The key's name is the actor on the log.
    let (code, review, _) = w.run(&w.alice, &["review", "INC-1"]);
    assert_eq!(code, 0);
    assert!(review.contains("alice"), "{review}");

    assert_eq!(quit(&mut a), 0);
    assert_eq!(quit(&mut b), 0);
    assert_eq!(quit(&mut c), 0);
}

#[test]
fn an_unknown_key_and_a_password_are_refused_with_a_line_before_any_screen() {
    let Some(w) = World::start() else { return };
    let mallory = keygen(&w.keygen, w.dir.path(), "mallory");
    let fp = String::from_utf8(
        std::process::Command::new(&w.keygen)
            .arg("-lf")
            .arg(mallory.with_extension("pub"))
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let fp = fp.split_whitespace().nth(1).unwrap().to_string();

    let (code, out, err) = w.run(&mallory, &["incidents"]);
    assert_eq!(code, 255, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains(&format!("no seat for the SSH key {fp}")) && err.contains("warroom key add"),
        "{err}"
    );

    // A password: never asked for, refused with the reason.
    let out = std::process::Command::new(&w.ssh)
        .args(ssh_options(w.served.port, None, false))
        .args([
            "-o",
            "PubkeyAuthentication=no",
            "-o",
            "PreferredAuthentications=password,keyboard-interactive",
            "127.0.0.1",
            "incidents",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(255), "{err}");
    assert!(err.contains("passwords are not accepted"), "{err}");

    // In a terminal: the line, and never the war room's screen.
    let mut t = w.seat_with(&mallory, 24, 80, false, &[]);
    t.wait_for("no seat for the SSH key");
    assert_eq!(t.wait_exit(), 255);
    assert!(!t.contents().contains("LIVE"), "{}", t.contents());
}

#[test]
fn a_resize_re_lays_the_screen() {
    let Some(w) = World::start() else { return };
    let (code, _, err) = w.run(&w.alice, &["declare", "'Disk full on db-2'", "-s", "P2"]);
    assert_eq!(code, 0, "{err}");
    let mut t = w.seat(&w.alice, 24, 80);
    wait_row(&t, 23, "LIVE");
    t.wait_for("Disk full on db-2");
    assert!(!t.contents().contains(" AGE "), "80 columns leave AGE out");
    t.resize(40, 140);
    wait_row(&t, 39, "LIVE");
    t.wait_for(" AGE ");
    t.resize(20, 70);
    wait_row(&t, 19, "LIVE");
    assert_eq!(quit(&mut t), 0);
}

#[test]
fn revoking_a_key_ends_its_live_session_and_its_next_login() {
    let Some(w) = World::start() else { return };
    let mut t = w.seat(&w.alice, 24, 100);
    t.wait_for("LIVE");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["key", "revoke", "alice", "--db"])
        .arg(w.db())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let revoked = Instant::now();
    t.wait_for("SSH key \"alice\" was revoked; the session has ended");
    assert_eq!(t.wait_exit(), 1);
    assert!(
        revoked.elapsed() < Duration::from_secs(5),
        "{:?}",
        revoked.elapsed()
    );
    assert!(!t.alternate_screen(), "the terminal is given back");
    let (code, _, err) = w.run(&w.alice, &["incidents"]);
    assert_eq!(code, 255, "{err}");
    assert!(err.contains("not registered, or revoked"), "{err}");
}

#[test]
fn one_shot_actions_run_and_print_with_the_key_s_role() {
    let Some(w) = World::start() else { return };
    let vic = w.person("vic", "viewer");
    let (code, out, err) = w.run(
        &w.alice,
        &["declare", "'Checkout 500s'", "--severity", "P1"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("INC-1 #1: declared P1") && out.contains("Checkout 500s"),
        "{out}"
    );
    let (code, out, _) = w.run(&w.alice, &["note", "INC-1", "'rolled back 14:02'"]);
    assert_eq!(code, 0);
    assert!(out.contains("rolled back 14:02"), "{out}");

    let (code, out, _) = w.run(&vic, &["incidents"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("INC-1") && out.contains("Checkout 500s") && out.contains("IC alice"),
        "{out}"
    );
    let (code, _, err) = w.run(&vic, &["ack", "INC-1"]);
    assert_eq!(code, 1);
    assert!(err.contains("needs the responder role"), "{err}");

    let (code, out, _) = w.run(&w.alice, &["help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("declare") && out.contains("incidents"),
        "{out}"
    );
    let (code, _, err) = w.run(&w.alice, &["frobnicate"]);
    assert_eq!(code, 2);
    assert!(err.contains("frobnicate"), "{err}");
    let (code, _, err) = w.run(&w.alice, &["note", "INC-1", "\"unclosed"]);
    assert_eq!(code, 2);
    assert!(err.contains("unclosed quote"), "{err}");
    let (code, _, err) = w.run(&w.alice, &["review", "INC-9"]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown incident \"INC-9\""), "{err}");

    // Without a terminal and without a command: told how to get one.
    let (code, _, err) = w.run(&w.alice, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("needs a terminal"), "{err}");
}

#[test]
fn garbage_bytes_do_not_break_the_seat() {
    let Some(w) = World::start() else { return };
    let mut t = w.seat(&w.alice, 24, 100);
    t.wait_for("LIVE");
    let mut junk: Vec<u8> = Vec::new();
    junk.extend_from_slice(b"\xff\xfe\xc3\x28\xe2\x82");
    junk.extend_from_slice(b"\x1b[99999999999999999999;;;;;M");
    junk.extend_from_slice(b"\x1b[<999999;99999;99999M\x1b[<0;0;0m");
    junk.extend_from_slice(b"\x1b]52;c;AAAA\x07\x1bP+q544e\x1b\\");
    junk.extend_from_slice(b"\x1b[200~");
    junk.extend(std::iter::repeat_n(b'x', 100_000));
    junk.extend_from_slice(b"\x1b[201~");
    let mut x: u32 = 0x9e37_79b9;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        // High bytes and escapes only: no printable key is a command here.
        junk.push(if x.is_multiple_of(5) {
            0x1b
        } else {
            0x80 | (x >> 8) as u8
        });
    }
    t.raw(&junk);
    t.keys("\x1b");
    t.keys("\x1b");
    t.keys("?");
    t.wait_for("Help · every key");
    t.keys("\x1b");
    // The server still serves everyone.
    let (code, out, _) = w.run(&w.alice, &["incidents"]);
    assert_eq!(code, 0);
    assert!(out.contains("no incidents"), "{out}");
    assert_eq!(quit(&mut t), 0);
}

#[test]
fn a_ten_thousand_column_terminal_gets_a_seat() {
    let Some(w) = World::start() else { return };
    let mut t = w.seat(&w.alice, 30, 10_000);
    t.wait_for("LIVE");
    t.wait_for("No open incidents.");
    assert_eq!(quit(&mut t), 0);
}

#[test]
fn a_session_that_never_reads_holds_up_nobody() {
    let Some(w) = World::start() else { return };
    // `ssh -tt` whose output nobody reads: its pipe fills, then its window.
    let mut args = vec!["-tt".to_string()];
    args.extend(ssh_options(w.served.port, Some(&w.alice), true));
    args.push("127.0.0.1".into());
    let mut stuck = std::process::Command::new(&w.ssh)
        .args(&args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut watcher = w.seat(&w.alice, 30, 120);
    watcher.wait_for("LIVE");
    for i in 1..=30 {
        let started = Instant::now();
        let (code, _, err) = w.run(
            &w.alice,
            &["declare", &format!("'Incident number {i}'"), "-s", "P3"],
        );
        assert_eq!(code, 0, "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "declare {i} took {:?}",
            started.elapsed()
        );
    }
    watcher.wait_for("30 open incidents");
    assert_eq!(quit(&mut watcher), 0);
    let _ = stuck.kill();
    let _ = stuck.wait();
}

#[test]
fn an_idle_seat_is_closed_saying_why_and_the_session_cap_says_so() {
    let Some(w) = World::start_with(&["--ssh-idle", "2", "--ssh-max-sessions", "1"]) else {
        return;
    };
    let mut t = w.seat(&w.alice, 24, 100);
    t.wait_for("LIVE");
    // The one slot is taken: the next session is told, before any screen.
    let (code, out, err) = w.run(&w.alice, &["incidents"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("the SSH seat is full: its limit is 1 sessions"),
        "{err}"
    );
    // No key for 2 s: closed, with the reason, the terminal given back.
    t.wait_for("no input for 2 s; the session was closed");
    assert_eq!(t.wait_exit(), 1);
    assert!(!t.alternate_screen());
    // The slot came back.
    let (code, _, err) = w.run(&w.alice, &["incidents"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn colours_follow_the_client_terminal() {
    let Some(w) = World::start() else { return };
    let (code, _, err) = w.run(&w.alice, &["declare", "'Slow checkout'", "-s", "P2"]);
    assert_eq!(code, 0, "{err}");
    // TERM=xterm-256color and no COLORTERM: the theme's #rrggbb roles come as
    // 256-palette colours.
    let mut t = w.seat(&w.alice, 24, 100);
    t.wait_for("Slow checkout");
    let (rgb, idx) = t.colour_cells();
    assert_eq!(rgb, 0, "no 24-bit colour for a 256-colour terminal");
    assert!(idx > 0, "the palette colours are there");
    assert_eq!(quit(&mut t), 0);
    // COLORTERM=truecolor sent along: the theme as written.
    let mut t = w.seat_with(
        &w.alice,
        24,
        100,
        true,
        &["-o", "SetEnv=COLORTERM=truecolor"],
    );
    t.wait_for("Slow checkout");
    let (rgb, _) = t.colour_cells();
    assert!(rgb > 0, "24-bit colours for a truecolor terminal");
    assert_eq!(quit(&mut t), 0);
}

#[test]
fn key_administration_names_what_is_wrong_and_the_fingerprint_matches() {
    let Some(w) = World::start() else { return };
    let warroom = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
            .args(args)
            .arg("--db")
            .arg(w.db())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // The fingerprint printed at start is the one `warroom ssh fingerprint` prints.
    let (code, out, _) = warroom(&["ssh", "fingerprint"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), w.served.fingerprint);
    assert!(out.starts_with("SHA256:"), "{out}");

    let private = w.alice.display().to_string();
    let (code, _, err) = warroom(&["key", "add", "--name", "eve", &private]);
    assert_eq!(code, 2);
    assert!(err.contains("this is a private key"), "{err}");
    let public = w.alice.with_extension("pub").display().to_string();
    let (code, _, err) = warroom(&["key", "add", "--name", "alice2", &public]);
    assert_eq!(code, 1);
    assert!(err.contains("already registered as \"alice\""), "{err}");
    let (code, _, err) = warroom(&[
        "key",
        "add",
        "--name",
        "bob",
        "--role",
        "integration",
        &public,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--role integration"), "{err}");
    let (code, _, err) = warroom(&["key", "add", "--name", "bad name", &public]);
    assert_eq!(code, 2);
    assert!(err.contains("--name"), "{err}");
    let (code, out, _) = warroom(&["key", "list"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("alice") && out.contains("commander") && out.contains("SHA256:"),
        "{out}"
    );
    let (code, _, err) = warroom(&["key", "revoke", "nobody"]);
    assert_eq!(code, 1);
    assert!(err.contains("no live SSH key named \"nobody\""), "{err}");
}
