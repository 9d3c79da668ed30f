//! `warroom demo` tells a person where the public status page is, and the
//! page is there: the real binary in a pseudo-terminal, its screen read the
//! way a person sees it, and the URL on that screen fetched over HTTP.
#![allow(clippy::unwrap_used)]

mod pty;

use pty::Tui;
use std::time::{Duration, Instant};

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
    assert_eq!(t.wait_exit(), 0);
}
