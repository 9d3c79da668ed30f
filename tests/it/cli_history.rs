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

/// After closing, through the real binary: an action item added with a past
/// due date is listed by `warroom follow-ups`, a review field written with
/// `warroom review-field` appears in `warroom review`, and marking the item
/// done with `warroom action-item` takes it off the list.
#[tokio::test]
async fn after_closing_the_review_and_action_items_are_kept_from_the_cli() {
    let srv = start(|c| {
        let mut p = Policy::builtin_default();
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
    let run = |args: Vec<&'static str>| {
        let (url, token) = (srv.url.clone(), srv.admin.clone());
        tokio::task::spawn_blocking(move || {
            let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            all.extend(["--server".into(), url, "--token".into(), token]);
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
                .args(&all)
                .env_remove("WARROOM_SERVER")
                .env_remove("WARROOM_TOKEN")
                .output()
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
    };
    let (code, out, err) = run(vec![
        "action",
        "INC-1",
        "Alert on pool saturation",
        "--owner",
        "dana",
        "--due",
        "2026-01-05",
        "--priority",
        "P1",
    ])
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("action item: Alert on pool saturation (owner dana, priority P1)"),
        "{out}"
    );
    let (code, out, err) = run(vec!["review-field", "INC-1", "requests_failed", "18,250"])
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("review: requests_failed = 18,250"), "{out}");
    let (code, _, err) = run(vec!["review-field", "INC-1", "requests_failed", "many"])
        .await
        .unwrap();
    assert_eq!(code, Some(1));
    assert!(err.contains("\"many\" is not a number"), "{err}");

    let (_, review, _) = run(vec!["review", "INC-1"]).await.unwrap();
    assert!(review.contains("- **Requests Failed:** 18,250"), "{review}");
    assert!(
        review.contains("| Alert on pool saturation | dana | P1 | 2026-01-05 | open |"),
        "{review}"
    );
    let (_, list, _) = run(vec!["follow-ups"]).await.unwrap();
    assert!(
        list.starts_with("INC-1 P1 | Alert on pool saturation | owner dana | priority P1 | due 2026-01-05 | open — overdue by "),
        "{list}"
    );
    let (code, _, err) = run(vec!["action-item", "INC-1", "1", "--state", "done"])
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{err}");
    let (_, list, _) = run(vec!["follow-ups"]).await.unwrap();
    assert_eq!(
        list,
        "no action item of a closed incident is overdue or due for review\n"
    );
}
