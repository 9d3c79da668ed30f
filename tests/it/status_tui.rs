//! The status page seen from the terminal: the real binary in a
//! pseudo-terminal, its screen read the way a person sees it.
//!
//! - A status-page post typed in the TUI appears in the public JSON and page
//!   within a second.
//! - `warroom demo` shows where its status page is, and the page answers.
#![allow(clippy::unwrap_used)]

use crate::support::pty::{Tui, serve, token};
use std::time::{Duration, Instant};

#[test]
fn a_post_typed_in_the_tui_is_on_the_public_page_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("team.db");
    let secret = token(&db, "carol", "commander");
    let (mut server, url) = serve(&db, "127.0.0.1:0");
    let mut t = Tui::start_with(
        dir.path(),
        30,
        120,
        &[("WARROOM_SERVER", &url), ("WARROOM_TOKEN", &secret)],
    );
    t.wait_for("LIVE");
    t.keys(":");
    t.keys("incident declare \"Checkout failing\" severity=P1");
    t.keys("\r");
    t.wait_for("INC-1 Checkout failing");
    t.keys(":");
    t.keys("note the db password is on the wiki");
    t.keys("\r");
    t.keys(":");
    t.keys("status update \"Checkout - Investigating Issues\" state=investigating");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    t.keys_now("\r");
    let summary: serde_json::Value = rt.block_on(async {
        let http = reqwest::Client::new();
        loop {
            let v: serde_json::Value = http
                .get(format!("{url}/status/api/v2/summary.json"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if v["incidents"][0]["incident_updates"][0]["body"] == "Checkout - Investigating Issues"
            {
                return v;
            }
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "not on the page within a second: {v}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let elapsed = started.elapsed();
    assert_eq!(summary["incidents"][0]["name"], "Checkout failing");
    assert_eq!(summary["incidents"][0]["status"], "investigating");
    let html = rt.block_on(async {
        reqwest::get(format!("{url}/status/"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert!(html.contains("Checkout - Investigating Issues"));
    assert!(
        !html.contains("password") && !html.contains("carol"),
        "internal text on the page"
    );
    eprintln!("TUI Enter → on the public page: {elapsed:?}");
    t.keys("\x1b");
    t.keys("q");
    t.keys("q");
    t.keys("y"); // q on the board asks
    assert_eq!(t.wait_exit(), 0);
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn the_demo_shows_its_status_page_url_and_the_page_answers() {
    let home = tempfile::tempdir().unwrap();
    let mut t = Tui::start_args(home.path(), 40, 180, &["demo"], &[]);
    t.wait_for("Public status page: http://127.0.0.1:");
    let screen = t.contents();
    let url = screen
        .split("Public status page: ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert!(url.ends_with("/status/"), "{url}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let summary: serde_json::Value = rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = reqwest::get(format!("{url}api/v2/summary.json")).await;
            if let Ok(r) = r
                && r.status() == reqwest::StatusCode::OK
            {
                return r.json().await.unwrap();
            }
            assert!(Instant::now() < deadline, "the status page never answered");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    assert_eq!(summary["page"]["name"], "Example Shop Status");
    let names: Vec<&str> = summary["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Checkout",
            "Payments",
            "Search",
            "Webhooks",
            "API documentation"
        ]
    );
    let html = rt.block_on(async { reqwest::get(&url).await.unwrap().text().await.unwrap() });
    assert!(html.contains("Example Shop Status"));
    t.keys("q");
    t.keys("y"); // q on the board asks
    assert_eq!(t.wait_exit(), 0);
}
