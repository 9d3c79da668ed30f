//! `warroom incidents --all` against a real server: closed incidents are
//! listed after the others, as closed, with where their review stands.
#![allow(clippy::unwrap_used)]

use crate::support::server::{cmd, start};
use reqwest::StatusCode;
use serde_json::json;
use warroom::domain::policy::Policy;

#[tokio::test]
async fn incidents_all_lists_closed_ones_with_their_review_due() {
    let srv = start(|c| {
        let mut p = Policy::builtin_default();
        // Closing needs nothing here: the test is about what comes after.
        p.closure = Default::default();
        p.resolution = Default::default();
        c.policy = p;
    })
    .await;
    let closed = srv.declare(&srv.admin, "Checkout down", "P1").await;
    for action in [
        json!({"type": "resolve", "summary": "rolled back"}),
        json!({"type": "close"}),
    ] {
        let (status, out) = srv.command(&srv.admin, cmd(Some(&closed), action)).await;
        assert_eq!(status, StatusCode::CREATED, "{out}");
    }
    srv.declare(&srv.admin, "Disk warning", "P3").await;

    let run = |all: bool| {
        let (url, token) = (srv.url.clone(), srv.admin.clone());
        tokio::task::spawn_blocking(move || {
            let mut args = vec!["incidents", "--server", &url, "--token", &token];
            if all {
                args.push("--all");
            }
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
                .args(&args)
                .env_remove("WARROOM_SERVER")
                .env_remove("WARROOM_TOKEN")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
    };
    let open = run(false).await.unwrap();
    assert!(!open.contains("Checkout down"), "{open}");
    let all = run(true).await.unwrap();
    let line = all.lines().find(|l| l.contains("Checkout down")).unwrap();
    assert!(line.starts_with("INC-1   P1    closed"), "{line}");
    // The P1 review is due 72 h after resolving (runbook 002 §8.1).
    assert!(line.contains("review due in 2d 23h ("), "{line}");
    assert!(
        all.find("Disk warning").unwrap() < all.find("Checkout down").unwrap(),
        "closed ones last:\n{all}"
    );
}
