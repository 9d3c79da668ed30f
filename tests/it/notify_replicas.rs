//! Notification delivery with two `warroom serve` replicas on one PostgreSQL
//! database (a real one: see `tests/it/support/pg.rs`): exactly one replica
//! delivers (the `notify` lease), the ledger lives in the shared database,
//! and when the delivering replica is SIGKILLed in the middle of a storm the
//! other takes the lease over and continues from the shared ledger.
//!
//! Afterwards: every event reached the signed webhook (nothing lost), no
//! event went out under two `webhook-id`s and no PagerDuty action under two
//! `dedup_key`s (a resend after the hand-over carries the same key, which is
//! what lets the target fold it), and each delivery has one "sent" outcome.

use crate::support::notify::{
    Answer, Flavour, Receiver, assert_one_webhook_id_per_event, assert_pd_lifecycles, secret_file,
    wait_delivered,
};
use crate::support::pg;
use crate::support::server::{
    all_events, cmd_with_id, free_port, http, policy_toml, post_until_committed, wait_healthy,
};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;
use warroom::domain::command::Access;
use warroom::store::{PgStore, TokenStore, hash_token};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");
const INCIDENTS: usize = 12;
const TOKEN: &str = "wr_ops_replicas";

fn serve(db: &str, policy: &Path, port: u16, log: &Path) -> Child {
    Command::new(BIN)
        .args([
            "serve",
            "--rate-limit",
            "0",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--db",
            db,
        ])
        .arg("--policy")
        .arg(policy)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_delivering_replica_mid_storm_loses_nothing_and_sends_nothing_twice() {
    let Some(db) = pg::fresh_db(
        "killing_the_delivering_replica_mid_storm_loses_nothing_and_sends_nothing_twice",
    ) else {
        return;
    };
    {
        let store = PgStore::open(&db).unwrap();
        store
            .create_token("ops", Access::Commander, &hash_token(TOKEN))
            .unwrap();
    }
    let hook = Receiver::start(Flavour::Webhook).await;
    let pd = Receiver::start(Flavour::PagerDuty).await;
    // Slow answers, so the kill lands while deliveries are in flight.
    for r in [&hook, &pd] {
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
[[notify.routes]]
channel = "audit"
[[notify.routes]]
channel = "pager"
events = ["declared", "acknowledged", "resolved"]
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
    );
    let policy_path = d.join("policy.toml");
    std::fs::write(&policy_path, policy).unwrap();

    // A starts first and takes the delivery lease; B waits for it.
    let (pa, pb) = (free_port(), free_port());
    let (a_url, b_url) = (
        format!("http://127.0.0.1:{pa}"),
        format!("http://127.0.0.1:{pb}"),
    );
    let mut a = serve(&db, &policy_path, pa, &d.join("a.log"));
    wait_healthy(&a_url, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut b = serve(&db, &policy_path, pb, &d.join("b.log"));
    wait_healthy(&b_url, Duration::from_secs(30)).await;

    // The storm: each incident's life, half of them posted to A first, all
    // moving to B when A is gone.
    let mut tasks = Vec::new();
    for n in 0..INCIDENTS {
        let urls = if n % 2 == 0 {
            vec![a_url.clone(), b_url.clone()]
        } else {
            vec![b_url.clone(), a_url.clone()]
        };
        tasks.push(tokio::spawn(async move {
            let inc = Uuid::new_v4();
            let incident = inc.to_string();
            let steps = [
                json!({"type": "declare", "title": format!("Storm {n}"), "severity": "P2"}),
                json!({"type": "note", "text": format!("looking {n}")}),
                json!({"type": "post_update", "channel": "internal", "text": format!("update {n}")}),
                json!({"type": "acknowledge"}),
                json!({"type": "note", "text": format!("fixed {n}")}),
                json!({"type": "resolve", "summary": "done"}),
            ];
            for (i, action) in steps.into_iter().enumerate() {
                let (id, target) = if i == 0 {
                    (inc, None)
                } else {
                    (Uuid::new_v4(), Some(incident.as_str()))
                };
                post_until_committed(&urls, TOKEN, &cmd_with_id(id, target, action)).await;
            }
        }));
    }
    // Kill -9 the delivering replica once deliveries are flowing.
    let deadline = Instant::now() + Duration::from_secs(30);
    while hook.requests().len() < 10 {
        assert!(Instant::now() < deadline, "no deliveries before the kill");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    a.kill().unwrap(); // SIGKILL
    a.wait().unwrap();
    let at_kill = hook.requests().len();
    for t in tasks {
        t.await.unwrap();
    }

    // Everything the log owes must arrive, from B alone now.
    let events = all_events(&http(), &b_url, TOKEN).await;
    let want_hooks: BTreeSet<String> = events
        .iter()
        .filter(|e| !e["type"].as_str().unwrap().starts_with("delivery"))
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert!(want_hooks.len() >= INCIDENTS * 6, "{}", want_hooks.len());
    wait_delivered(&hook, &pd, &want_hooks, INCIDENTS * 3, || {
        format!(
            "; B's log:\n{}",
            std::fs::read_to_string(d.join("b.log")).unwrap_or_default()
        )
    })
    .await;
    assert!(
        hook.requests().len() > at_kill,
        "B delivered nothing after A died"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Webhook: one webhook-id per event (a resend reuses it).
    let resent = assert_one_webhook_id_per_event(&hook);
    let hooks = hook.requests();
    // PagerDuty: per incident one dedup_key with exactly trigger, acknowledge, resolve.
    assert_pd_lifecycles(&pd, INCIDENTS);
    // The log: each delivery has exactly one "sent" outcome.
    let events = all_events(&http(), &b_url, TOKEN).await;
    let mut sent: BTreeMap<String, usize> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e["type"] == "delivery_attempted" && e["outcome"] == "sent")
    {
        *sent
            .entry(e["delivery"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert!(sent.values().all(|n| *n == 1), "{sent:#?}");
    assert_eq!(sent.len(), want_hooks.len() + INCIDENTS * 3);
    // Only A delivered before the kill: B's log says it took the lease over.
    let b_log = std::fs::read_to_string(d.join("b.log")).unwrap_or_default();
    assert!(
        b_log.contains("another server delivers") && b_log.contains("holds the lease and delivers"),
        "{b_log}"
    );
    eprintln!(
        "hand-over: {} webhooks for {} events ({} at the kill, {} resent under the same webhook-id), {} pagerduty requests",
        hooks.len(),
        hooks.len() - resent,
        at_kill,
        resent,
        pd.requests().len()
    );
    b.kill().unwrap();
    b.wait().unwrap();
}
