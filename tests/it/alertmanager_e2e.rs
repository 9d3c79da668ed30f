//! The real Prometheus Alertmanager (Debian `prometheus-alertmanager`) in
//! front of a real warroom: alerts posted to Alertmanager's API open, update
//! and clear incidents end to end, through both a `webhook_configs` receiver
//! (bearer token) and a `pagerduty_configs` receiver whose `url:` points at
//! warroom's Events v2 endpoint.
//!
//! Needs `/usr/bin/prometheus-alertmanager` (or `WARROOM_ALERTMANAGER`);
//! `.ci/run` installs it. Under `CI=true` a missing binary fails the test;
//! elsewhere it is skipped with a message.
#![allow(clippy::unwrap_used)]

use crate::support::server::{Srv, free_port, start};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use warroom::domain::policy::Policy;

fn alertmanager_binary() -> Option<PathBuf> {
    let path = std::env::var_os("WARROOM_ALERTMANAGER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/prometheus-alertmanager"));
    if path.exists() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{} is missing: .ci/run installs the Debian package prometheus-alertmanager",
            path.display()
        );
    }
    eprintln!(
        "SKIPPED: {} not found (apt-get install prometheus-alertmanager, or set WARROOM_ALERTMANAGER)",
        path.display()
    );
    None
}

/// Alertmanager on 127.0.0.1, killed on drop.
struct Alertmanager {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_alertmanager(bin: &PathBuf, warroom: &str, token: &str) -> Alertmanager {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"
route:
  receiver: warroom
  group_by: ['alertname']
  group_wait: 200ms
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['via="pagerduty"']
      receiver: warroom-events-v2
receivers:
  - name: warroom
    webhook_configs:
      - url: {warroom}/api/v1/ingest/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: {token}
  - name: warroom-events-v2
    pagerduty_configs:
      - routing_key: {token}
        url: {warroom}/api/v1/ingest/events/v2
        send_resolved: true
"#
    );
    let config_file = dir.path().join("alertmanager.yml");
    std::fs::write(&config_file, config).unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("alertmanager.log")).unwrap();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", config_file.display()))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        // No gossip cluster: one instance, no port 9094.
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let am = Alertmanager {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = http.get(format!("{}/-/ready", am.url)).send().await
            && r.status().is_success()
        {
            break;
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(am._dir.path().join("alertmanager.log"))
                .unwrap_or_default();
            panic!("Alertmanager did not become ready in 20 s:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    am
}

impl Alertmanager {
    /// Posts alerts to Alertmanager's own API, as Prometheus does.
    async fn post(&self, alerts: Value) {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v2/alerts", self.url))
            .json(&alerts)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("alertmanager.log")).unwrap_or_default()
    }
}

fn alert(
    name: &str,
    instance: &str,
    severity: &str,
    extra: &[(&str, &str)],
    ends: Option<&str>,
) -> Value {
    let mut labels = json!({"alertname": name, "instance": instance, "severity": severity, "service": "checkout"});
    for (k, v) in extra {
        labels[*k] = json!(v);
    }
    let mut a = json!({
        "labels": labels,
        "annotations": {"summary": format!("{name} on {instance}")},
        "generatorURL": "http://prometheus.example/graph",
    });
    if let Some(t) = ends {
        a["endsAt"] = json!(t);
    }
    a
}

/// Polls warroom's board until `check` holds (or fails after 15 s, showing Alertmanager's log).
async fn until(
    srv: &Srv,
    am: &Alertmanager,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> (Value, Duration) {
    let started = Instant::now();
    loop {
        let (_, board) = srv.get(&srv.admin, "/api/v1/incidents?all=true").await;
        if check(&board) {
            return (board, started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(15) {
            panic!(
                "{what}: not seen within 15 s; board: {board}\nAlertmanager log:\n{}",
                am.log()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn incident<'a>(board: &'a Value, title_prefix: &str) -> Option<&'a Value> {
    board["incidents"]
        .as_array()?
        .iter()
        .map(|v| &v["incident"])
        .find(|i| {
            i["title"]
                .as_str()
                .is_some_and(|t| t.starts_with(title_prefix))
        })
}

fn firing(board: &Value, title_prefix: &str) -> Option<u64> {
    incident(board, title_prefix)?["alerts"]["firing"].as_u64()
}

#[tokio::test]
async fn alerts_posted_to_the_real_alertmanager_open_update_and_clear_incidents() {
    let Some(bin) = alertmanager_binary() else {
        return;
    };
    let srv = start(|c| {
        let mut p = Policy::builtin_default();
        p.ingest.declare = vec!["P1".into(), "P2".into()];
        c.policy = p;
    })
    .await;
    let token = srv.token("alertmanager", "integration").await;
    let am = start_alertmanager(&bin, &srv.url, &token).await;

    // Webhook receiver: one alert opens an incident.
    am.post(json!([alert(
        "CheckoutErrors",
        "web-1",
        "critical",
        &[],
        None
    )]))
    .await;
    let (board, took) = until(&srv, &am, "the first alert", |b| {
        firing(b, "CheckoutErrors") == Some(1)
    })
    .await;
    eprintln!(
        "alert posted to Alertmanager → on the warroom board in {took:?} (group_wait 200 ms)"
    );
    let inc = incident(&board, "CheckoutErrors").unwrap();
    assert_eq!(inc["severity"], "P1");
    assert_eq!(inc["title"], "CheckoutErrors: CheckoutErrors on web-1");
    assert_eq!(inc["declared"]["by"], "alertmanager");
    assert_eq!(inc["impact"]["services"], json!(["checkout"]));

    // A second alert of the same group updates the same incident.
    am.post(json!([
        alert("CheckoutErrors", "web-1", "critical", &[], None),
        alert("CheckoutErrors", "web-2", "critical", &[], None),
    ]))
    .await;
    until(&srv, &am, "the second alert", |b| {
        firing(b, "CheckoutErrors") == Some(2)
    })
    .await;

    // Both end: all clear, one entry, the incident stays open for the IC.
    let past = (chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339();
    am.post(json!([
        alert("CheckoutErrors", "web-1", "critical", &[], Some(&past)),
        alert("CheckoutErrors", "web-2", "critical", &[], Some(&past)),
    ]))
    .await;
    let (board, _) = until(&srv, &am, "all clear", |b| {
        firing(b, "CheckoutErrors") == Some(0)
    })
    .await;
    let inc = incident(&board, "CheckoutErrors").unwrap();
    assert_eq!(inc["status"], "investigating");
    assert!(inc["resolved"].is_null());
    let (_, detail) = srv.get(&srv.admin, "/api/v1/incidents/INC-1").await;
    let kinds: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "declared",
            "alerts_firing",
            "alerts_firing",
            "alerts_resolved"
        ]
    );
    assert_eq!(detail["timeline"][3]["clear"], true);

    // The pagerduty_configs receiver (Events v2 with `url:`): Alertmanager's
    // default severity for it is "error", which the default rules map to P2.
    am.post(json!([alert(
        "DiskFull",
        "db-1",
        "critical",
        &[("via", "pagerduty")],
        None
    )]))
    .await;
    let (board, _) = until(&srv, &am, "the Events v2 trigger", |b| {
        incident(b, "[FIRING:1] DiskFull").is_some()
    })
    .await;
    let inc = incident(&board, "[FIRING:1] DiskFull").unwrap();
    assert_eq!(inc["severity"], "P2", "{inc}");
    assert_eq!(inc["alerts"]["firing"], 1);
    let past = (chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339();
    am.post(json!([alert(
        "DiskFull",
        "db-1",
        "critical",
        &[("via", "pagerduty")],
        Some(&past)
    )]))
    .await;
    until(&srv, &am, "the Events v2 resolve", |b| {
        firing(b, "[FIRING:1] DiskFull") == Some(0)
    })
    .await;

    // Two groups, two incidents: nothing else was opened.
    let (_, board) = srv.get(&srv.admin, "/api/v1/incidents?all=true").await;
    assert_eq!(board["incidents"].as_array().unwrap().len(), 2, "{board}");
}

/// Issue 9: a more severe alert joining a group raises its incident, through
/// the real Alertmanager (grouped by alertname).
#[tokio::test]
async fn a_critical_alert_joining_through_the_real_alertmanager_raises_the_incident() {
    let Some(bin) = alertmanager_binary() else {
        return;
    };
    let srv = start(|c| {
        let mut p = Policy::builtin_default();
        p.ingest.declare = vec!["P1".into(), "P2".into(), "P3".into()];
        c.policy = p;
    })
    .await;
    let token = srv.token("alertmanager", "integration").await;
    let am = start_alertmanager(&bin, &srv.url, &token).await;

    am.post(json!([alert("ApiLatency", "web-1", "warning", &[], None)]))
        .await;
    let (board, _) = until(&srv, &am, "the warning", |b| {
        firing(b, "ApiLatency") == Some(1)
    })
    .await;
    assert_eq!(incident(&board, "ApiLatency").unwrap()["severity"], "P3");

    am.post(json!([
        alert("ApiLatency", "web-1", "warning", &[], None),
        alert("ApiLatency", "web-2", "critical", &[], None),
    ]))
    .await;
    let (board, _) = until(&srv, &am, "the critical alert", |b| {
        firing(b, "ApiLatency") == Some(2)
    })
    .await;
    let inc = incident(&board, "ApiLatency").unwrap();
    assert_eq!(inc["severity"], "P1", "{inc}");
    let (_, detail) = srv.get(&srv.admin, "/api/v1/incidents/INC-1").await;
    let raised = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "severity_changed")
        .cloned()
        .unwrap();
    assert_eq!(
        (raised["from"].as_str(), raised["to"].as_str()),
        (Some("P3"), Some("P1"))
    );
    assert_eq!(raised["actor"], "alertmanager");
    // One incident: the group stayed one.
    let (_, board) = srv.get(&srv.admin, "/api/v1/incidents?all=true").await;
    assert_eq!(board["incidents"].as_array().unwrap().len(), 1, "{board}");
}
