//! Runs the real `warroom` binary: the TUI in a pseudo-terminal, its screen
//! read through a VT100 emulator the way a person would see it, and
//! `warroom serve` / `warroom token` as their own processes. Shared by the
//! end-to-end tests and the harness in `benches/terminal.rs`.
#![allow(dead_code, clippy::unwrap_used)]

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Tui {
    /// Bytes the program has written to the terminal, total (counts redraws).
    pub written: Arc<Mutex<usize>>,
    screen: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    /// Shared with the reader thread, which drops its end once `hung_up` is set.
    master: Arc<Mutex<Option<Box<dyn portable_pty::MasterPty + Send>>>>,
    hung_up: Arc<std::sync::atomic::AtomicBool>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Tui {
    /// Starts `warroom` with its XDG directories under `home`.
    pub fn start(home: &std::path::Path, rows: u16, cols: u16) -> Tui {
        Tui::start_with(home, rows, cols, &[])
    }

    pub fn start_with(home: &std::path::Path, rows: u16, cols: u16, env: &[(&str, &str)]) -> Tui {
        Tui::start_args(home, rows, cols, &[], env)
    }

    /// Starts `warroom ARGS` (e.g. `demo`) with its XDG directories under `home`.
    pub fn start_args(
        home: &std::path::Path,
        rows: u16,
        cols: u16,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Tui {
        Tui::start_program(home, rows, cols, env!("CARGO_BIN_EXE_warroom"), args, env)
    }

    /// Starts an interactive `bash` (no rc files, job control on) with the
    /// same environment; `$WARROOM` names the binary. For what only a shell
    /// can do: Ctrl-Z and `fg`, a terminal closing under a child.
    pub fn start_shell(home: &std::path::Path, rows: u16, cols: u16, env: &[(&str, &str)]) -> Tui {
        let mut env = env.to_vec();
        env.push(("WARROOM", env!("CARGO_BIN_EXE_warroom")));
        env.push(("PS1", "shell$ "));
        Tui::start_program(
            home,
            rows,
            cols,
            "bash",
            &["--norc", "--noprofile", "-i"],
            &env,
        )
    }

    /// Starts any `program ARGS` in the terminal with the TUI's environment
    /// (e.g. OpenSSH's `ssh -tt` into the SSH seat).
    pub fn start_program(
        home: &std::path::Path,
        rows: u16,
        cols: u16,
        program: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Tui {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
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
        let written = Arc::new(Mutex::new(0usize));
        let count = written.clone();
        let master = Arc::new(Mutex::new(Some(pair.master)));
        let hung_up = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = hung_up.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                sink.lock().unwrap().process(&buf[..n]);
                *count.lock().unwrap() += n;
            }
        });
        Tui {
            written,
            screen,
            writer,
            master,
            hung_up,
            child,
        }
    }

    pub fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    pub fn wait_for(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.contents().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{text:?} never appeared; the screen:\n{}", self.contents());
    }

    pub fn keys(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // Let each burst be read as its own keys.
        std::thread::sleep(Duration::from_millis(150));
    }

    pub fn wait_exit(&mut self) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.exit_code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the TUI did not exit; the screen:\n{}", self.contents());
    }
    /// Whether the program has the alternate screen up: true while the TUI
    /// runs, false again once it has restored the terminal.
    pub fn alternate_screen(&self) -> bool {
        self.screen.lock().unwrap().screen().alternate_screen()
    }

    /// Closes the terminal as a closed window does: the last descriptor of
    /// the pty's master goes away and the kernel hangs up the line (SIGHUP to
    /// the session, and every later read or write on it fails). The reader
    /// thread lets go of its descriptor at the program's next output.
    pub fn hang_up(&mut self) {
        self.hung_up
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.master.lock().unwrap().take();
        self.writer = Box::new(std::io::sink());
    }

    /// Resizes the terminal (the program gets SIGWINCH).
    pub fn resize(&mut self, rows: u16, cols: u16) {
        self.screen.lock().unwrap().set_size(
            std::num::NonZeroU16::new(rows).unwrap(),
            std::num::NonZeroU16::new(cols).unwrap(),
        );
        if let Some(master) = self.master.lock().unwrap().as_ref() {
            master
                .resize(PtySize {
                    rows,
                    cols,
                    pixel_width: 0,
                    pixel_height: 0,
                })
                .unwrap();
        }
    }

    /// Whether the program has exited (without waiting).
    pub fn exited(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// The colours on screen: how many cells have a 24-bit colour, and how
    /// many an indexed (256-palette) one, foreground or background.
    pub fn colour_cells(&self) -> (usize, usize) {
        let parser = self.screen.lock().unwrap();
        let screen = parser.screen();
        let (rows, cols) = screen.size();
        let (mut rgb, mut idx) = (0, 0);
        for r in 0..rows.get() {
            for c in 0..cols.get() {
                if let Some(cell) = screen.cell(r, c) {
                    for colour in [cell.fgcolor(), cell.bgcolor()] {
                        match colour {
                            vt100::Color::Rgb(..) => rgb += 1,
                            vt100::Color::Idx(i) if i >= 16 => idx += 1,
                            _ => {}
                        }
                    }
                }
            }
        }
        (rgb, idx)
    }

    /// Writes raw bytes (not necessarily UTF-8: garbage, for robustness tests).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Writes keys without the pause `keys` leaves after them (for latency measurements).
    pub fn keys_now(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// The child's process id, to read its CPU time from /proc.
    pub fn pid(&self) -> Option<u32> {
        self.child.process_id()
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// `warroom serve` as its own process (no rate limit); returns it and its URL,
/// read from the "listening on" line.
pub fn serve(db: &std::path::Path, listen: &str) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["serve", "--rate-limit", "0", "--listen", listen, "--db"])
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

/// `warroom token create` on `db`; returns the secret.
pub fn token(db: &std::path::Path, name: &str, role: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["token", "create", "--name", name, "--role", role, "--db"])
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(secret.starts_with("wr_"), "{secret}");
    secret
}
