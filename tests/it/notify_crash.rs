//! Exactly once across kill -9: the real `warroom serve` binary is SIGKILLed
//! twice during a storm of incidents (declare, page, escalate, update,
//! acknowledge, resolve) whose notifications go to a signed webhook (which
//! deduplicates by `webhook-id`), PagerDuty (by `dedup_key`) and Slack. The
//! receivers answer slowly, so kills land while deliveries are in flight.
//!
//! Afterwards: no notification is lost (every event reached every channel it
//! routes to), and none is sent twice to a deduplicating target under a
//! different key — a resend after a crash carries the same `webhook-id` /
//! `dedup_key`, which is what lets the target fold it.
#![allow(clippy::unwrap_used)]

use crate::support::notify::{
    Answer, Flavour, Receiver, assert_one_webhook_id_per_event, assert_pd_lifecycles, secret_file,
    wait_delivered,
};
use crate::support::server::{
    all_events, cmd_with_id, http, policy_toml, post_until_committed, wait_healthy,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_warroom");
const INCIDENTS: usize = 12;

fn serve(db: &Path, policy: &Path, port: u16) -> Child {
    Command::new(BIN)
        .args([
            "serve",
            "--rate-limit",
            "0",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--db",
        ])
        .arg(db)
        .arg("--policy")
        .arg(policy)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_delivery_storm_loses_nothing_and_sends_nothing_twice() {
    let hook = Receiver::start(Flavour::Webhook).await;
    let pd = Receiver::start(Flavour::PagerDuty).await;
    let slack = Receiver::start(Flavour::Slack).await;
    for r in [&hook, &pd, &slack] {
        r.always(Some(Answer::Hang(Duration::from_millis(25))));
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let policy = format!(
        r#"{base}
[notify.channels.audit]
type = "webhook"
url = "{hook}"
secret = {{ file = "{hook_secret}" }}
[notify.channels.pager]
type = "pagerduty"
url = "{pd}"
routing_key = {{ file = "{pd_key}" }}
[notify.channels.chat]
type = "slack"
webhook_url = {{ file = "{slack_url}" }}
[[notify.routes]]
channel = "audit"
[[notify.routes]]
channel = "pager"
events = ["declared", "acknowledged", "resolved"]
[[notify.routes]]
channel = "chat"
events = ["escalated", "paged", "update_posted"]
[[notify.directory]]
name = "alice"
pagerduty = {{ file = "{alice}" }}
[notify.delivery]
backoff = "1s"
max_backoff = "2s"
timeout = "2s"
"#,
        base = policy_toml(false),
        hook = hook.url,
        hook_secret = secret_file(d, "hook", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        pd = pd.url,
        pd_key = secret_file(d, "pd", "SERVICEKEY"),
        slack_url = secret_file(d, "slack", &slack.url),
        alice = secret_file(d, "alice", "ALICEKEY"),
    );
    let policy_path = d.join("policy.toml");
    std::fs::write(&policy_path, policy).unwrap();
    let db = d.join("warroom.db");
    let token = crate::support::pty::token(&db, "ops", "commander");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = serve(&db, &policy_path, port);
    wait_healthy(&url, Duration::from_secs(20)).await;

    // The storm: each incident's life, posted by its own task, retried across crashes.
    let mut tasks = Vec::new();
    for n in 0..INCIDENTS {
        let (url, token) = (url.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let inc = Uuid::new_v4();
            let incident = inc.to_string();
            let steps = [
                json!({"type": "declare", "title": format!("Storm {n}"), "severity": "P1"}),
                json!({"type": "page", "who": "@alice", "reason": "owner"}),
                json!({"type": "escalate", "to": "CTO", "reason": "storm"}),
                json!({"type": "post_update", "channel": "internal", "text": format!("update {n}")}),
                json!({"type": "acknowledge"}),
                json!({"type": "resolve", "summary": "done"}),
            ];
            for (i, action) in steps.into_iter().enumerate() {
                let (id, target) = if i == 0 { (inc, None) } else { (Uuid::new_v4(), Some(incident.as_str())) };
                post_until_committed(std::slice::from_ref(&url), &token, &cmd_with_id(id, target, action)).await;
            }
        }));
    }
    // Two kill -9 while deliveries are in flight, each followed by a restart.
    for _ in 0..2 {
        let deadline = Instant::now() + Duration::from_secs(20);
        let before = hook.requests().len();
        while hook.requests().len() < before + 8 {
            assert!(Instant::now() < deadline, "no deliveries before the kill");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        child = serve(&db, &policy_path, port);
        wait_healthy(&url, Duration::from_secs(20)).await;
    }
    for t in tasks {
        t.await.unwrap();
    }

    // Everything the log owes must arrive; wait for it.
    let events = all_events(&http(), &url, &token).await;
    let facts: Vec<&Value> = events
        .iter()
        .filter(|e| !e["type"].as_str().unwrap().starts_with("delivery"))
        .collect();
    let want_hooks: BTreeSet<String> = facts
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    wait_delivered(&hook, &pd, &want_hooks, INCIDENTS * 6, String::new).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Webhook: one webhook-id per event (a resend reuses it), valid signatures.
    let resent_hooks = assert_one_webhook_id_per_event(&hook);
    let hooks = hook.requests();

    // PagerDuty: per incident, exactly trigger/acknowledge/resolve on the
    // service key and on alice's — nothing else, nothing missing.
    assert_pd_lifecycles(&pd, INCIDENTS * 2);
    let pd_reqs = pd.requests();

    // Slack (no deduplication on its side): every page, escalation and update
    // arrived; resends after a crash are counted, not hidden.
    let slack_reqs = slack.requests();
    let texts: BTreeSet<String> = slack_reqs
        .iter()
        .map(|r| r.json()["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        texts.len(),
        INCIDENTS * 3,
        "pages, escalations, updates: {texts:#?}"
    );

    // The log: each delivery has exactly one "sent" outcome.
    let events = all_events(&http(), &url, &token).await;
    let mut sent: BTreeMap<String, usize> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e["type"] == "delivery_attempted" && e["outcome"] == "sent")
    {
        *sent
            .entry(e["delivery"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert!(sent.values().all(|n| *n == 1));
    assert_eq!(sent.len(), want_hooks.len() + INCIDENTS * 6 + INCIDENTS * 3);
    eprintln!(
        "kill -9 ×2: {} webhooks ({} resent under the same webhook-id), {} pagerduty requests ({} resent under the same dedup_key), {} slack posts ({} resent)",
        hooks.len(),
        resent_hooks,
        pd_reqs.len(),
        pd_reqs.len() - INCIDENTS * 6,
        slack_reqs.len(),
        slack_reqs.len() - texts.len()
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
