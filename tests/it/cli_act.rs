//! The one-shot commands through the real binary, on the embedded default:
//! each run starts the in-process server on the same SQLite file in a fresh
//! XDG data dir, so this also proves the log survives between processes.
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn warroom(home: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(args)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("USER", "casey")
        .env_remove("WARROOM_SERVER")
        .env_remove("WARROOM_TOKEN")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn declare_note_ack_list_review_on_the_embedded_store() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let (code, out, err) = warroom(h, &["declare", "Checkout down", "--severity", "P1"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("INC-1 #1: declared P1"), "{out}");
    assert!(out.contains("ic assigned to casey"), "{out}");

    let (code, out, _) = warroom(
        h,
        &[
            "note",
            "INC-1",
            "Rolling back 2026.11.23-3",
            "--kind",
            "decision",
        ],
    );
    assert_eq!(code, 0);
    assert!(out.contains("DECISION: Rolling back"), "{out}");

    let (code, _, _) = warroom(h, &["ack", "INC-1"]);
    assert_eq!(code, 0);
    let (code, _, err) = warroom(h, &["ack", "INC-1"]);
    assert_eq!(code, 1, "a second acknowledgement is refused");
    assert!(err.contains("already acknowledged by casey"), "{err}");

    let (code, out, _) = warroom(h, &["incidents"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("INC-1") && out.contains("Checkout down") && out.contains("casey"),
        "{out}"
    );

    let (code, out, _) = warroom(h, &["review", "INC-1"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("# Post-Incident Review: Checkout down"),
        "{out}"
    );
    assert!(out.contains("Rolling back 2026.11.23-3"), "{out}");

    let (code, _, err) = warroom(h, &["note", "INC-9", "x"]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown incident"), "{err}");
    let (code, _, err) = warroom(h, &["note", "INC-1", "x", "--kind", "rumour"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("invalid value 'rumour' for '--kind <KIND>'")
            && err.contains("[possible values: note, decision, action, observation]"),
        "{err}"
    );
}

#[test]
fn services_customers_and_the_bridge_are_settable_from_the_shell() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let (code, _, err) = warroom(
        h,
        &[
            "declare",
            "Checkout down",
            "--severity",
            "P1",
            "--services",
            "checkout-api, payments",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = warroom(
        h,
        &[
            "impact",
            "INC-1",
            "--impact",
            "Checkout fails for about 40% of requests",
            "--customers",
            "EU tenants",
            "--bridge",
            "https://meet.example.net/inc-1",
        ],
    );
    assert_eq!(code, 0, "{err}");
    // The services given at declaration are kept; the rest is added.
    assert!(
        out.contains(
            "impact: Checkout fails for about 40% of requests; services: checkout-api, payments; \
             customers: EU tenants; bridge: https://meet.example.net/inc-1"
        ),
        "{out}"
    );
}

#[test]
fn a_bad_server_address_says_what_is_wrong_and_how_to_fix_it() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let (code, _, err) = warroom(
        h,
        &["--server", "localhost:7777", "--token", "wr_x", "incidents"],
    );
    assert_eq!(code, 1);
    assert!(!err.contains("builder error"), "{err}");
    assert!(
        err.contains("has no scheme; write it with the scheme, e.g. http://localhost:7777"),
        "{err}"
    );
    // Nothing listens on port 1.
    let (code, _, err) = warroom(
        h,
        &[
            "--server",
            "http://127.0.0.1:1",
            "--token",
            "wr_x",
            "incidents",
        ],
    );
    assert_eq!(code, 1);
    assert!(!err.contains("error sending request"), "{err}");
    assert!(err.contains("cannot reach http://127.0.0.1:1"), "{err}");
    assert!(err.contains("refused"), "{err}");
    assert!(
        err.contains("is the server (`warroom serve`) running"),
        "{err}"
    );
}

#[test]
fn incidents_lists_a_resolved_incident_awaiting_close_in_the_board_order() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    for (title, sev) in [("Disk warning", "P3"), ("Checkout down", "P1")] {
        let (code, _, err) = warroom(h, &["declare", title, "--severity", sev]);
        assert_eq!(code, 0, "{err}");
    }
    let (code, out, _) = warroom(h, &["incidents"]);
    assert_eq!(code, 0);
    let p1 = out.find("Checkout down").unwrap();
    let p3 = out.find("Disk warning").unwrap();
    assert!(p1 < p3, "most severe first:\n{out}");
    let (code, _, err) = warroom(
        h,
        &[
            "resolve",
            "INC-2",
            "--force",
            "--reason",
            "criteria checked on the bridge",
            "--summary",
            "rolled back",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = warroom(h, &["incidents"]);
    assert_eq!(code, 0);
    assert!(!out.contains("no open incidents"), "{out}");
    let resolved = out.lines().find(|l| l.contains("Checkout down")).unwrap();
    assert!(resolved.contains("resolved"), "{out}");
    // Still open ones first, then those awaiting close.
    assert!(
        out.find("Disk warning").unwrap() < out.find("Checkout down").unwrap(),
        "{out}"
    );
    let (code, out, _) = warroom(h, &["incidents", "--all"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Checkout down") && out.contains("Disk warning"),
        "{out}"
    );
}

#[test]
fn token_list_finds_the_embedded_store_without_db() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    // Any command starts the embedded server once, which makes the local token.
    let (code, _, err) = warroom(h, &["incidents"]);
    assert_eq!(code, 0, "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["token", "list"])
        .current_dir(h)
        .env("XDG_DATA_HOME", h.join("data"))
        .env("XDG_STATE_HOME", h.join("state"))
        .env("XDG_CONFIG_HOME", h.join("config"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("casey") && stdout.contains("admin"),
        "{stdout}"
    );
}

/// Without `HOME` the XDG directories come from the user database, never
/// from the current directory: a `.config/warroom/config.toml` lying in the
/// working directory is not read (it used to be, as `./.config/…`).
#[test]
fn without_home_the_working_directory_is_not_the_home() {
    let dir = tempfile::tempdir().unwrap();
    let planted = dir.path().join(".config/warroom");
    std::fs::create_dir_all(&planted).unwrap();
    std::fs::write(planted.join("config.toml"), "not = [valid\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .current_dir(dir.path())
        .env_remove("HOME")
        .env_remove("XDG_CONFIG_HOME")
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env_remove("WARROOM_SERVER")
        .env_remove("WARROOM_TOKEN")
        .env_remove("WARROOM_CONFIG")
        .args([
            "--server",
            "http://127.0.0.1:9",
            "--token",
            "wr_x",
            "incidents",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("config.toml"),
        "the planted config was read: {stderr}"
    );
    assert!(stderr.contains("unreachable"), "{stderr}");
}

/// Issue 11 item 12: a report that is not an alert, from a shell, lands in
/// the triage queue (TRI-n); an unknown kind is refused with the known ones.
#[test]
fn a_report_from_the_shell_is_a_triage_item() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let (code, out, err) = warroom(
        h,
        &[
            "report",
            "disclosure",
            "Stored XSS in project names",
            "--reporter",
            "researcher@example.org",
            "--details",
            "steps: create a project named <script>",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "TRI-1 #1: disclosure report from researcher@example.org in triage (P3): Stored XSS in project names"
    );
    let (code, _, err) = warroom(h, &["report", "fax", "x"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("unknown intake kind \"fax\"; the policy defines customer, disclosure"),
        "{err}"
    );
}
