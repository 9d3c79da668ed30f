//! Notifications out, end to end: a real server on a real SQLite file sends to
//! loopback receivers standing in for Slack's and PagerDuty's clouds and to a
//! signed-webhook receiver; what they receive is checked field by field, and
//! the outcome is on the incident's timeline.
#![allow(clippy::unwrap_used)]

use crate::support::notify::{
    Answer, Flavour, Receiver, pd_actions, secret_file, verify_with_python,
};
use crate::support::server::{Srv, cmd, policy_toml, start};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use warroom::domain::policy::Policy;

const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const WAIT: Duration = Duration::from_secs(15);

struct World {
    srv: Srv,
    slack: Receiver,
    pd: Receiver,
    hook: Receiver,
    _secrets: tempfile::TempDir,
}

/// The test policy plus a `[notify]` section pointing at the receivers.
async fn world(delivery: &str) -> World {
    let slack = Receiver::start(Flavour::Slack).await;
    let pd = Receiver::start(Flavour::PagerDuty).await;
    let hook = Receiver::start(Flavour::Webhook).await;
    let secrets = tempfile::tempdir().unwrap();
    let d = secrets.path();
    let text = format!(
        r#"{base}
[notify.channels.chat]
type = "slack"
webhook_url = {{ file = "{slack_url}" }}

[notify.channels.pager]
type = "pagerduty"
url = "{pd_url}"
routing_key = {{ file = "{pd_key}" }}

[notify.channels.audit]
type = "webhook"
url = "{hook_url}"
secret = {{ file = "{hook_secret}" }}

[[notify.routes]]
channel = "chat"
events = ["declared", "acknowledged", "resolved", "update_posted", "escalated", "paged"]

[[notify.routes]]
channel = "pager"
events = ["declared", "acknowledged", "resolved"]
severities = ["P1"]

[[notify.routes]]
channel = "audit"

[[notify.directory]]
name = "alice"
aliases = ["Team lead"]
pagerduty = {{ file = "{alice_key}" }}
slack = "<@U024BE7LH>"
respond_within = "10m"

[notify.delivery]
{delivery}
"#,
        base = policy_toml(false),
        slack_url = secret_file(d, "slack", &slack.url),
        pd_url = pd.url,
        pd_key = secret_file(d, "pd", "R0UTINGKEYSERVICE00000000000000"),
        hook_url = hook.url,
        hook_secret = secret_file(d, "hook", WEBHOOK_SECRET),
        alice_key = secret_file(d, "alice", "R0UTINGKEYALICE0000000000000000"),
    );
    let policy = Policy::from_toml(&text).unwrap();
    let srv = start(|c| c.policy = policy).await;
    World {
        srv,
        slack,
        pd,
        hook,
        _secrets: secrets,
    }
}

fn deliveries(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["type"] == "delivery_attempted")
        .collect()
}

async fn wait_events(srv: &Srv, within: Duration, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = std::time::Instant::now() + within;
    loop {
        let events = srv.all_events(&srv.admin).await;
        if pred(&events) {
            return events;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out; events: {:#?}",
            deliveries(&events)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn declare_acknowledge_resolve_reach_slack_pagerduty_and_a_signed_webhook() {
    let w = world("").await;
    let admin = w.srv.admin.clone();
    let inc = w.srv.declare(&admin, "Checkout down", "P1").await;

    // Slack: Block Kit with a plain-text fallback naming the incident.
    let slack = w
        .slack
        .wait_for(WAIT, "the slack post", |r| !r.is_empty())
        .await;
    let body = slack[0].json();
    let text = body["text"].as_str().unwrap();
    assert!(text.contains("[INC-1 P1] Checkout down"), "{text}");
    assert_eq!(body["blocks"][0]["type"], "section");
    assert_eq!(body["blocks"][0]["text"]["type"], "mrkdwn");
    assert!(
        body["blocks"][0]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("*INC-1 P1* Checkout down")
    );

    // PagerDuty: a trigger with a dedup_key stable for the incident.
    let pd = w.pd.wait_for(WAIT, "the trigger", |r| !r.is_empty()).await;
    let trigger = pd[0].json();
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["routing_key"], "R0UTINGKEYSERVICE00000000000000");
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["source"], "warroom");
    assert!(
        trigger["payload"]["summary"]
            .as_str()
            .unwrap()
            .contains("Checkout down")
    );
    let dedup = trigger["dedup_key"].as_str().unwrap().to_string();
    let incident_id = trigger["payload"]["custom_details"]["incident_id"]
        .as_str()
        .unwrap();
    assert_eq!(
        dedup,
        format!("warroom-{incident_id}"),
        "one key per incident"
    );

    // Webhook: every event (declared + the IC assignment), signed per Standard
    // Webhooks, verified by Python's hmac, not by warroom's code.
    let hooks = w
        .hook
        .wait_for(WAIT, "two webhooks", |r| r.len() >= 2)
        .await;
    for h in &hooks {
        assert!(
            verify_with_python(WEBHOOK_SECRET, h),
            "signature of {:?}",
            h.json()
        );
        let ts: i64 = h.header("webhook-timestamp").unwrap().parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - ts).abs() < 60);
    }
    let types: Vec<String> = hooks
        .iter()
        .map(|h| h.json()["type"].as_str().unwrap().to_string())
        .collect();
    assert!(
        types.contains(&"incident.declared".to_string()),
        "{types:?}"
    );
    assert_eq!(hooks[0].json()["data"]["incident"], inc.as_str());
    assert_eq!(hooks[0].json()["data"]["event"]["incident"], incident_id);
    // A tampered body does not verify (the check can fail).
    let mut forged = hooks[0].clone();
    forged.body = axum::body::Bytes::from(
        String::from_utf8_lossy(&forged.body).replace("Checkout", "Checkin"),
    );
    assert!(!verify_with_python(WEBHOOK_SECRET, &forged));

    // Acknowledge and resolve: the matching Events v2 actions, same dedup_key.
    let (s, _) = w
        .srv
        .command(&admin, cmd(Some(&inc), json!({"type": "acknowledge"})))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, b) = w
        .srv
        .command(
            &admin,
            cmd(
                Some(&inc),
                json!({"type": "resolve", "summary": "rolled back", "force": true}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let pd =
        w.pd.wait_for(WAIT, "acknowledge and resolve", |r| r.len() >= 3)
            .await;
    let actions = pd_actions(&pd);
    assert_eq!(
        actions,
        [
            ("trigger".into(), dedup.clone()),
            ("acknowledge".into(), dedup.clone()),
            ("resolve".into(), dedup.clone())
        ]
    );
    assert!(
        pd[1].json().get("payload").is_none(),
        "acknowledge carries no payload"
    );

    // The outcome of each is on the timeline: "→ Slack (chat) ✓".
    let events = wait_events(&w.srv, WAIT, |ev| {
        // Slack and PagerDuty 3 each, the webhook every event.
        let facts = ev
            .iter()
            .filter(|e| !e["type"].as_str().unwrap().starts_with("delivery"))
            .count();
        deliveries(ev)
            .iter()
            .filter(|d| d["outcome"] == "sent")
            .count()
            >= 3 + 3 + facts
    })
    .await;
    let sent = deliveries(&events);
    assert!(sent.iter().all(|d| d["actor"] == "notify"));
    assert!(
        sent.iter()
            .any(|d| d["channel"] == "pager" && d["what"] == "resolve")
    );
    // Every webhook-id is a delivery id on the timeline.
    for h in w.hook.requests() {
        let id = h.header("webhook-id").unwrap();
        assert!(sent.iter().any(|d| d["delivery"] == id.as_str()), "{id}");
    }
    // Nothing was sent twice.
    assert_eq!(w.slack.requests().len(), 3);
    assert_eq!(w.pd.requests().len(), 3);
}

#[tokio::test]
async fn a_page_reaches_the_person_and_resolving_ends_their_page_too() {
    let w = world("").await;
    let admin = w.srv.admin.clone();
    let inc = w.srv.declare(&admin, "Search slow", "P2").await; // P2: no service trigger
    let (s, b) = w
        .srv
        .command(
            &admin,
            cmd(
                Some(&inc),
                json!({"type": "page", "who": "@alice", "reason": "search owner"}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let pd =
        w.pd.wait_for(WAIT, "alice's trigger", |r| !r.is_empty())
            .await;
    let page = pd[0].json();
    assert_eq!(page["event_action"], "trigger");
    assert_eq!(page["routing_key"], "R0UTINGKEYALICE0000000000000000");
    let alice_key = page["dedup_key"].as_str().unwrap().to_string();
    assert!(alice_key.ends_with("-alice"), "{alice_key}");
    // The Slack post of the page mentions her.
    let slack = w
        .slack
        .wait_for(WAIT, "the page on slack", |r| {
            r.iter()
                .any(|q| q.json()["text"].as_str().unwrap().contains("paged"))
        })
        .await;
    let post = slack
        .iter()
        .find(|q| q.json()["text"].as_str().unwrap().contains("paged"))
        .unwrap();
    assert!(
        post.json()["text"]
            .as_str()
            .unwrap()
            .starts_with("<@U024BE7LH> "),
        "{}",
        post.json()
    );

    // An escalation to one of her aliases reaches her under the same key.
    let (s, _) = w
        .srv
        .command(
            &admin,
            cmd(
                Some(&inc),
                json!({"type": "escalate", "to": "Team lead", "reason": "no progress"}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = w
        .srv
        .command(
            &admin,
            cmd(Some(&inc), json!({"type": "resolve", "force": true})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let pd =
        w.pd.wait_for(WAIT, "trigger, trigger, resolve", |r| r.len() >= 3)
            .await;
    let actions = pd_actions(&pd);
    assert_eq!(
        actions,
        [
            ("trigger".into(), alice_key.clone()),
            ("trigger".into(), alice_key.clone()),
            ("resolve".into(), alice_key.clone())
        ]
    );
}

#[tokio::test]
async fn a_failing_target_is_retried_with_backoff_honouring_retry_after() {
    let w = world("backoff = \"1s\"\nmax_backoff = \"2s\"\ntimeout = \"2s\"").await;
    w.slack
        .script([Answer::Status(500), Answer::TooMany("2".into())]);
    let admin = w.srv.admin.clone();
    w.srv.declare(&admin, "Checkout down", "P2").await;
    let reqs = w
        .slack
        .wait_for(WAIT, "the third try", |r| r.len() >= 3)
        .await;
    // The 429 asked for 2 s; backoff alone would be 1-2 s after the 2nd try.
    let gap = reqs[2].at - reqs[1].at;
    assert!(
        gap >= Duration::from_millis(1900),
        "Retry-After honoured: {gap:?}"
    );
    let gap = reqs[1].at - reqs[0].at;
    assert!(gap >= Duration::from_millis(900), "backoff: {gap:?}");
    assert_eq!(reqs[0].json(), reqs[2].json(), "the same message each time");

    let events = wait_events(&w.srv, WAIT, |ev| {
        deliveries(ev)
            .iter()
            .any(|d| d["channel"] == "chat" && d["outcome"] == "sent")
    })
    .await;
    let chat: Vec<&Value> = deliveries(&events)
        .into_iter()
        .filter(|d| d["channel"] == "chat")
        .collect();
    let outcomes: Vec<(&str, u64)> = chat
        .iter()
        .map(|d| {
            (
                d["outcome"].as_str().unwrap(),
                d["attempt"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(outcomes, [("failed", 1), ("failed", 2), ("sent", 3)]);
    assert_eq!(chat[1]["retry_in"], 2, "Retry-After: 2");
    assert!(chat[1]["detail"].as_str().unwrap().contains("HTTP 429"));
    assert!(chat[0]["detail"].as_str().unwrap().contains("HTTP 500"));
    assert_eq!(w.slack.requests().len(), 3, "not sent again once delivered");
    // The attempts are counted by channel type and outcome in GET /metrics.
    let text = w
        .srv
        .http
        .get(format!("{}/metrics", w.srv.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#"warroom_deliveries_total{channel="slack",outcome="failed"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"warroom_deliveries_total{channel="slack",outcome="sent"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn timeouts_slow_bodies_and_refused_connections_are_retried() {
    let w = world("backoff = \"1s\"\nmax_backoff = \"1s\"\ntimeout = \"1s\"").await;
    w.slack.script([
        Answer::Hang(Duration::from_secs(3)),
        Answer::SlowBody(Duration::from_secs(3)),
    ]);
    let admin = w.srv.admin.clone();
    w.srv.declare(&admin, "Checkout down", "P2").await;
    w.slack.wait_for(WAIT, "two tries", |r| r.len() >= 2).await;
    let events = wait_events(&w.srv, WAIT, |ev| {
        deliveries(ev)
            .iter()
            .any(|d| d["channel"] == "chat" && d["outcome"] == "sent")
    })
    .await;
    let chat: Vec<&Value> = deliveries(&events)
        .into_iter()
        .filter(|d| d["channel"] == "chat")
        .collect();
    // A hang past the timeout is a failed try, retried.
    assert_eq!(chat[0]["outcome"], "failed");
    assert_eq!(chat[0]["detail"], "timed out");
    // A 200 whose body trickles past the timeout: the target said yes, so it is
    // delivered (sending it again would duplicate it), and the detail says so.
    assert_eq!(chat[1]["outcome"], "sent");
    assert!(
        chat[1]["detail"].as_str().unwrap().contains("body unread"),
        "{}",
        chat[1]
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(w.slack.requests().len(), 2);
}

#[tokio::test]
async fn a_dead_target_is_given_up_after_n_tries_shown_failing_and_retried_by_command() {
    // The webhook target's port refuses connections.
    let w = world("backoff = \"1s\"\nmax_backoff = \"1s\"\nmax_attempts = 2").await;
    w.hook.always(Some(Answer::Status(503)));
    let admin = w.srv.admin.clone();
    let inc = w.srv.declare(&admin, "Checkout down", "P2").await;
    let events = wait_events(&w.srv, WAIT, |ev| {
        deliveries(ev)
            .iter()
            .filter(|d| d["channel"] == "audit" && d["outcome"] == "gave_up")
            .count()
            >= 2
    })
    .await;
    let gave_up: Vec<&Value> = deliveries(&events)
        .into_iter()
        .filter(|d| d["channel"] == "audit" && d["outcome"] == "gave_up")
        .collect();
    assert_eq!(gave_up[0]["attempt"], 2);
    // The incident shows the failing deliveries.
    let (s, body) = w.srv.get(&admin, &format!("/api/v1/incidents/{inc}")).await;
    assert_eq!(s, StatusCode::OK);
    let failing: Vec<&Value> = body["incident"]["incident"]["deliveries"]
        .as_object()
        .unwrap()
        .values()
        .filter(|d| d["outcome"] != "sent")
        .collect();
    assert_eq!(failing.len(), 2, "{body}");
    let tries_before = w.hook.requests().len();
    assert_eq!(tries_before, 4, "2 events × 2 tries, then given up");

    // Retry one by its id: the target is back, it goes out once more and succeeds.
    w.hook.always(None);
    let id = gave_up[0]["delivery"].as_str().unwrap();
    let (s, b) = w
        .srv
        .command(
            &admin,
            cmd(
                Some(&inc),
                json!({"type": "retry_delivery", "delivery": id}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let reqs = w
        .hook
        .wait_for(WAIT, "the retried webhook", |r| r.len() > tries_before)
        .await;
    assert_eq!(reqs.last().unwrap().header("webhook-id").unwrap(), id);
    wait_events(&w.srv, WAIT, |ev| {
        deliveries(ev)
            .iter()
            .any(|d| d["delivery"] == id && d["outcome"] == "sent" && d["attempt"] == 3)
    })
    .await;
    // Retrying a delivered one is refused with the reason.
    let (s, b) = w
        .srv
        .command(
            &admin,
            cmd(
                Some(&inc),
                json!({"type": "retry_delivery", "delivery": id}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert!(b["error"].as_str().unwrap().contains("delivered"), "{b}");
    // An unknown id is a 404 naming it.
    let bogus = uuid::Uuid::new_v4();
    let (s, b) = w
        .srv
        .command(
            &admin,
            cmd(
                Some(&inc),
                json!({"type": "retry_delivery", "delivery": bogus}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    assert!(
        b["error"].as_str().unwrap().contains(&bogus.to_string()),
        "{b}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried_until_the_target_comes_up() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let secrets = tempfile::tempdir().unwrap();
    let text = format!(
        r#"{base}
[notify.channels.chat]
type = "slack"
webhook_url = {{ file = "{url}" }}
[[notify.routes]]
channel = "chat"
events = ["declared"]
[notify.delivery]
backoff = "1s"
max_backoff = "1s"
"#,
        base = policy_toml(false),
        url = secret_file(
            secrets.path(),
            "slack",
            &format!("http://127.0.0.1:{port}/hook")
        ),
    );
    let policy = Policy::from_toml(&text).unwrap();
    let srv = start(|c| c.policy = policy).await;
    srv.declare(&srv.admin, "Checkout down", "P2").await;
    let events = wait_events(&srv, WAIT, |ev| !deliveries(ev).is_empty()).await;
    let first = deliveries(&events)[0].clone();
    assert_eq!(first["outcome"], "failed");
    assert_eq!(first["detail"], "connection refused or unreachable");
    let slack = Receiver::start_on(Flavour::Slack, port).await;
    slack
        .wait_for(WAIT, "the post once the port listens", |r| r.len() == 1)
        .await;
    wait_events(&srv, WAIT, |ev| {
        deliveries(ev).iter().any(|d| d["outcome"] == "sent")
    })
    .await;
}
