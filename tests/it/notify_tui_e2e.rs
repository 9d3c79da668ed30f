//! Done-when, end to end: the real TUI in a pseudo-terminal, connected to the
//! real `warroom serve`, declares, acknowledges and resolves — and the
//! loopback PagerDuty stand-in receives the matching Events v2 trigger,
//! acknowledge and resolve under one dedup_key.
#![allow(clippy::unwrap_used)]

use crate::support::notify::{Flavour, Receiver, pd_actions, secret_file};
use crate::support::pty::{Tui, token};
use std::time::Duration;

#[test]
fn acknowledging_and_resolving_in_the_tui_sends_the_events_v2_actions() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pd = rt.block_on(Receiver::start(Flavour::PagerDuty));
    let dir = tempfile::tempdir().unwrap();
    let policy = format!(
        "{}\n[notify.channels.pager]\ntype = \"pagerduty\"\nurl = \"{}\"\nrouting_key = {{ file = \"{}\" }}\n[[notify.routes]]\nchannel = \"pager\"\nevents = [\"declared\", \"acknowledged\", \"resolved\"]\n",
        crate::support::server::policy_toml(false),
        pd.url,
        secret_file(dir.path(), "pd", "SERVICEKEY"),
    );
    let policy_path = dir.path().join("policy.toml");
    std::fs::write(&policy_path, policy).unwrap();
    let db = dir.path().join("team.db");
    let secret = token(&db, "alice", "commander");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args([
            "serve",
            "--rate-limit",
            "0",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--db",
        ])
        .arg(&db)
        .arg("--policy")
        .arg(&policy_path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();

    // Wait until it serves before the TUI connects (it would start offline).
    rt.block_on(async {
        let http = reqwest::Client::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while http.get(format!("{url}/healthz")).send().await.is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "serve did not come up"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let home = tempfile::tempdir().unwrap();
    let mut t = Tui::start_with(
        home.path(),
        30,
        110,
        &[("WARROOM_SERVER", &url), ("WARROOM_TOKEN", &secret)],
    );
    t.wait_for("LIVE");
    t.keys(":");
    t.keys("incident declare \"Checkout down\" severity=P1");
    t.keys("\r");
    t.wait_for("INC-1 Checkout down");
    let wait = |n: usize| {
        rt.block_on(
            pd.wait_for(Duration::from_secs(15), "pagerduty actions", |r| {
                r.len() >= n
            }),
        )
    };
    wait(1);
    t.keys("a");
    t.wait_for("acked");
    wait(2);
    t.keys(":");
    t.keys("resolve \"rolled back\" force");
    t.keys("\r");
    let reqs = wait(3);
    let actions = pd_actions(&reqs);
    let key = actions[0].1.clone();
    assert_eq!(
        actions,
        [
            ("trigger".into(), key.clone()),
            ("acknowledge".into(), key.clone()),
            ("resolve".into(), key)
        ]
    );
    // The outcome shows on the timeline in the TUI.
    t.wait_for("→ PagerDuty (pager) ✓ resolve");
    // q back to the board, q asks, y quits.
    t.keys("q");
    t.keys("q");
    t.keys("y");
    assert_eq!(t.wait_exit(), 0);
    server.kill().unwrap();
    server.wait().unwrap();
}
