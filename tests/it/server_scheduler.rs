//! The escalation scheduler inside the server, with a policy whose P1 rule
//! fires after 2 s unacknowledged: it fires once, at the due instant, is
//! still there (once) after a restart, and fires on startup for a deadline
//! that passed while the server was down.
#![allow(clippy::unwrap_used)]

use crate::support::server::{Srv, cmd, policy, start, start_in};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

fn escalations(events: &[Value]) -> Vec<&Value> {
    events.iter().filter(|e| e["type"] == "escalated").collect()
}

async fn fast(dir: Option<tempfile::TempDir>) -> Srv {
    let tweak = |c: &mut warroom::server::ServerConfig| c.policy = policy(true);
    match dir {
        Some(d) => start_in(d, tweak).await,
        None => start(tweak).await,
    }
}

fn at(v: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc)
}

#[tokio::test]
async fn an_unacknowledged_p1_escalates_once_and_stays_once_across_a_restart() {
    let srv = fast(None).await;
    let admin = srv.admin.clone();
    let mut live = srv.stream(&admin, Some(0)).await;
    let p1 = srv.declare(&admin, "Checkout down", "P1").await;
    let acked = srv.declare(&admin, "Search slow", "P1").await;
    let (status, _) = srv
        .command(&admin, cmd(Some(&acked), json!({ "type": "acknowledge" })))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    srv.declare(&admin, "Reports late", "P2").await; // the rule is for P1 only

    // The escalation arrives on the live stream, written by the scheduler.
    let escalated = loop {
        let f = live.next_event(Duration::from_secs(6)).await.unwrap();
        let ev = f.json();
        if ev["type"] == "escalated" {
            break ev;
        }
    };
    assert_eq!(escalated["actor"], "scheduler");
    assert_eq!(escalated["rule"], "p1-unacked");
    assert_eq!(escalated["to"], "Backup on-call");
    let events = srv.all_events(&admin).await;
    let declared = events
        .iter()
        .find(|e| e["type"] == "declared" && e["title"] == "Checkout down")
        .unwrap();
    assert_eq!(escalated["incident"], declared["incident"]);
    // Stamped with the instant it fell due, not when the scheduler noticed.
    let due = at(&declared["occurred_at"]) + chrono::Duration::seconds(2);
    assert_eq!(at(&escalated["occurred_at"]), due);

    // Still exactly one a while later, and none for the acknowledged P1 or the P2.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let events = srv.all_events(&admin).await;
    assert_eq!(escalations(&events).len(), 1, "{:#?}", escalations(&events));
    let (_, detail) = srv.get(&admin, &format!("/api/v1/incidents/{p1}")).await;
    assert_eq!(
        detail["incident"]["incident"]["escalations"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Restart on the same database: still one, and no duplicate written.
    let before = events.len();
    let dir = srv.stop().await;
    let srv = fast(Some(dir)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let events = srv.all_events(&srv.admin).await;
    assert_eq!(events.len(), before);
    assert_eq!(escalations(&events).len(), 1);
    srv.stop().await;
}

#[tokio::test]
async fn a_deadline_that_passed_while_the_server_was_down_fires_on_startup_once() {
    let srv = fast(None).await;
    let admin = srv.admin.clone();
    srv.declare(&admin, "Queue stuck", "P1").await;
    let dir = srv.stop().await; // stopped before the 2 s were up
    tokio::time::sleep(Duration::from_millis(2300)).await;

    let srv = fast(Some(dir)).await;
    let mut found = Vec::new();
    for _ in 0..50 {
        found = escalations(&srv.all_events(&srv.admin).await)
            .into_iter()
            .cloned()
            .collect();
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(found.len(), 1, "fired on startup");
    let events = srv.all_events(&srv.admin).await;
    let declared = events.iter().find(|e| e["type"] == "declared").unwrap();
    assert_eq!(
        at(&found[0]["occurred_at"]),
        at(&declared["occurred_at"]) + chrono::Duration::seconds(2)
    );
    // A second restart changes nothing.
    let dir = srv.stop().await;
    let srv = fast(Some(dir)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(escalations(&srv.all_events(&srv.admin).await).len(), 1);
    srv.stop().await;
}
