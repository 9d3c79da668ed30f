//! The SSH seat from the outside: `warroom serve --ssh` as its own process,
//! keys made with `ssh-keygen` in a tempdir and registered with `warroom key
//! add`, and the real OpenSSH client — in a pseudo-terminal for the TUI, or
//! plain for one-shot commands. Shared by `tests/ssh_seat.rs` and
//! `benches/ssh_seat.rs`.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// OpenSSH's `ssh` and `ssh-keygen`, or `None` when they are not installed
/// (the caller skips, saying so). Under `CI=true` a missing client fails.
pub fn openssh() -> Option<(PathBuf, PathBuf)> {
    let find = |name: &str| -> Option<PathBuf> {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    };
    match (find("ssh"), find("ssh-keygen")) {
        (Some(ssh), Some(keygen)) => Some((ssh, keygen)),
        _ => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "CI=true and OpenSSH's client (`ssh`, `ssh-keygen`) is not installed: apt-get install openssh-client"
                );
            }
            eprintln!(
                "SKIPPED: OpenSSH's client (`ssh`, `ssh-keygen`) is not installed (apt-get install openssh-client)"
            );
            None
        }
    }
}

/// `warroom serve --ssh 127.0.0.1:0` on `db`: the child, the HTTP URL, the SSH
/// port and the host key fingerprint, read from its start lines.
pub struct Served {
    pub child: Child,
    pub url: String,
    pub port: u16,
    pub fingerprint: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn serve_ssh(db: &Path, extra: &[&str]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args([
            "serve",
            "--rate-limit",
            "0",
            "--listen",
            "127.0.0.1:0",
            "--ssh",
            "127.0.0.1:0",
        ])
        .args(extra)
        .arg("--db")
        .arg(db)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stderr).lines();
    let mut url = None;
    let (port, fingerprint) = loop {
        let line = lines.next().expect("serve ended early").unwrap();
        if let Some(u) = line.strip_prefix("warroom: listening on ") {
            url = Some(u.trim().to_string());
        }
        if let Some(rest) = line.strip_prefix("warroom: ssh seat on ") {
            // `127.0.0.1:PORT (host key SHA256:…)`
            let (addr, fp) = rest.split_once(" (host key ").unwrap();
            let port = addr.rsplit_once(':').unwrap().1.parse().unwrap();
            break (port, fp.trim_end_matches(')').to_string());
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Served {
        child,
        url: url.expect("the HTTP line comes first"),
        port,
        fingerprint,
    }
}

/// A new ed25519 key pair `dir/NAME` (+ `.pub`), no passphrase.
pub fn keygen(keygen: &Path, dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let out = Command::new(keygen)
        .args(["-q", "-t", "ed25519", "-N", "", "-C"])
        .arg(format!("{name}@test"))
        .arg("-f")
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    path
}

/// `warroom key add --name NAME --role ROLE KEY.pub --db DB`.
pub fn key_add(db: &Path, name: &str, role: &str, key: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["key", "add", "--name", name, "--role", role, "--db"])
        .arg(db)
        .arg(key.with_extension("pub"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The options every test connection uses: no config files, no agent, no
/// known_hosts, this key only. `quiet` hides OpenSSH's own INFO lines (which
/// is also where a refusal's explanation is printed).
pub fn ssh_options(port: u16, key: Option<&Path>, quiet: bool) -> Vec<String> {
    let mut args: Vec<String> = [
        "-F",
        "/dev/null",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "IdentityAgent=none",
        "-o",
        "ConnectTimeout=10",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if quiet {
        args.extend(["-o".into(), "LogLevel=ERROR".into()]);
    }
    args.extend(["-p".into(), port.to_string()]);
    if let Some(k) = key {
        args.extend(["-i".into(), k.display().to_string()]);
    }
    args
}

/// `ssh … 127.0.0.1 ARGS` without a terminal; its output.
pub fn ssh_run(ssh: &Path, port: u16, key: &Path, args: &[&str]) -> Output {
    Command::new(ssh)
        .args(ssh_options(port, Some(key), false))
        .arg("127.0.0.1")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}
