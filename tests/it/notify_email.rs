//! The email channel against a real SMTP server (aiosmtpd from PyPI, on
//! loopback): customer updates go to the customer list, an escalation to the
//! executives, and a page to the person's own address — each once, with a
//! Message-ID derived from the delivery id.
#![allow(clippy::unwrap_used)]

use crate::support::server::{cmd, policy_toml, start};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use warroom::domain::policy::Policy;

#[tokio::test]
async fn customer_updates_escalations_and_pages_arrive_by_email() {
    let Some(smtp) = crate::support::notify::smtp().await else {
        return;
    };
    let text = format!(
        r#"{base}
[notify.channels.customers]
type = "email"
smtp = "127.0.0.1:{port}"
tls = "none"
from = "Status <status@example.com>"
to = ["customers@example.com"]

[notify.channels.execs]
type = "email"
smtp = "127.0.0.1:{port}"
tls = "none"
from = "warroom@example.com"
to = ["cto@example.com", "vp@example.com"]

[[notify.routes]]
channel = "customers"
updates = ["customer"]

[[notify.routes]]
channel = "execs"
events = ["escalated"]

[[notify.directory]]
name = "bob"
email = "bob@example.com"
"#,
        base = policy_toml(false),
        port = smtp.port,
    );
    let policy = Policy::from_toml(&text).unwrap();
    let srv = start(|c| c.policy = policy).await;
    let admin = srv.admin.clone();
    let inc = srv.declare(&admin, "Checkout down", "P1").await;
    let update = "We are seeing failed payments.\nNext update in 30 minutes.";
    for action in [
        json!({"type": "post_update", "channel": "customer", "text": update}),
        json!({"type": "post_update", "channel": "internal", "text": "not for customers"}),
        json!({"type": "escalate", "to": "CTO", "reason": "revenue impact"}),
        json!({"type": "page", "who": "@bob", "reason": "payments owner"}),
    ] {
        let (s, b) = srv.command(&admin, cmd(Some(&inc), action)).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let got = smtp.wait_for(3, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got_after = smtp.messages();
    assert_eq!(got_after.len(), 3, "exactly three messages: {got_after:#?}");

    let find = |needle: &str| {
        got.iter()
            .find(|m| m.contains(needle))
            .unwrap_or_else(|| panic!("no message with {needle:?}: {got:#?}"))
            .clone()
    };
    let customer = find("To: customers@example.com");
    assert!(
        customer.contains("Subject: [INC-1 P1] Checkout down: customer update"),
        "{customer}"
    );
    assert!(
        customer.contains("From: Status <status@example.com>"),
        "{customer}"
    );
    assert!(
        customer.contains("We are seeing failed payments."),
        "{customer}"
    );
    assert!(!customer.contains("not for customers"));
    let execs = find("To: cto@example.com, vp@example.com");
    assert!(execs.contains("escalation"), "{execs}");
    assert!(execs.contains("revenue impact"), "{execs}");
    let bob = find("To: bob@example.com");
    assert!(bob.contains("you are paged"), "{bob}");

    // The Message-ID is the delivery's id, which the timeline shows as sent.
    let events: Vec<Value> = srv.all_events(&admin).await;
    let message_id = customer
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: <"))
        .unwrap()
        .trim_end_matches('>')
        .trim_end_matches("@warroom")
        .to_string();
    let sent = events
        .iter()
        .find(|e| e["type"] == "delivery_attempted" && e["delivery"] == message_id.as_str())
        .unwrap_or_else(|| panic!("no outcome for {message_id}"));
    assert_eq!(sent["outcome"], "sent");
    assert!(
        sent["detail"].as_str().unwrap().starts_with("SMTP 250"),
        "{sent}"
    );
}
