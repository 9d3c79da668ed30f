//! End to end: the real binary in a pseudo-terminal, with its embedded server
//! on a SQLite file in a temporary directory. Keys are typed, the screen is
//! read back through a terminal emulator (vt100).
#![allow(clippy::unwrap_used)]

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Tui {
    screen: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Tui {
    /// Starts `warroom` with its XDG directories under `home`.
    fn start(home: &std::path::Path, rows: u16, cols: u16) -> Tui {
        Tui::start_with(home, rows, cols, &[])
    }

    fn start_with(home: &std::path::Path, rows: u16, cols: u16, env: &[(&str, &str)]) -> Tui {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_warroom"));
        cmd.env("HOME", home);
        cmd.env("XDG_DATA_HOME", home.join("data"));
        cmd.env("XDG_CONFIG_HOME", home.join("config"));
        cmd.env("XDG_STATE_HOME", home.join("state"));
        cmd.env("USER", "alice");
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("WARROOM_SERVER");
        cmd.env_remove("WARROOM_TOKEN");
        cmd.env_remove("WARROOM_CONFIG");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(rows).unwrap(),
            std::num::NonZeroU16::new(cols).unwrap(),
            0,
        )));
        let sink = screen.clone();
        std::thread::spawn(move || {
            let _master = pair.master;
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().process(&buf[..n]);
            }
        });
        Tui {
            screen,
            writer,
            child,
        }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.contents().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{text:?} never appeared; the screen:\n{}", self.contents());
    }

    fn keys(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // Let each burst be read as its own keys.
        std::thread::sleep(Duration::from_millis(150));
    }

    fn wait_exit(&mut self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.exit_code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the TUI did not exit; the screen:\n{}", self.contents());
    }
}

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
    assert_eq!(t.wait_exit(), 0);
    // Same data directory, new process: the incident is on the board.
    let mut t = Tui::start(dir.path(), 30, 100);
    t.wait_for("Disk full on db-2");
    t.wait_for("1 open incident");
    t.keys("q");
    assert_eq!(t.wait_exit(), 0);
}

#[test]
fn a_tiny_terminal_says_so_instead_of_crashing() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Tui::start(dir.path(), 10, 40);
    t.wait_for("terminal too small: 40×10, need 60×16");
    t.keys("q");
    assert_eq!(t.wait_exit(), 0);
}

/// `warroom serve` as its own process; returns it and its URL.
fn serve(db: &std::path::Path, listen: &str) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["serve", "--listen", listen, "--db"])
        .arg(db)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stderr).lines();
    let url = loop {
        let line = lines.next().expect("serve ended early").unwrap();
        if let Some(u) = line.strip_prefix("warroom: listening on ") {
            break u.trim().to_string();
        }
    };
    // Keep draining so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

#[test]
fn a_note_typed_offline_is_delivered_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("team.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args([
            "token",
            "create",
            "--name",
            "alice",
            "--role",
            "commander",
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
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
    assert_eq!(t.wait_exit(), 0);
    server.kill().unwrap();
    server.wait().unwrap();
}
