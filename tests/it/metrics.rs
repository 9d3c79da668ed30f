//! `GET /metrics` on a real server, checked by the real `promtool check
//! metrics` (Debian `prometheus`; `.ci/run` installs it). Under `CI=true` a
//! missing promtool fails the test; elsewhere that part is skipped with a message.
#![allow(clippy::unwrap_used)]

use crate::support::server::{cmd, start};
use reqwest::StatusCode;
use serde_json::json;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;
use warroom::domain::policy::Policy;

fn promtool() -> Option<String> {
    let path = std::env::var("WARROOM_PROMTOOL").unwrap_or_else(|_| "/usr/bin/promtool".into());
    if std::path::Path::new(&path).exists() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{path} is missing: .ci/run installs the Debian package prometheus (promtool)");
    }
    eprintln!(
        "SKIPPED promtool check: {path} not found (apt-get install prometheus, or set WARROOM_PROMTOOL)"
    );
    None
}

#[tokio::test]
async fn metrics_count_what_the_board_shows_and_pass_promtool() {
    let srv = start(|c| {
        let mut p = Policy::builtin_default();
        p.ingest.declare = vec!["P1".into()];
        c.policy = p;
    })
    .await;
    let t = srv.token("am", "integration").await;
    let alert = |fp: &str, sev: &str| {
        json!({"status": "firing", "labels": {"alertname": fp, "severity": sev}, "fingerprint": fp,
               "startsAt": "2026-11-23T10:00:00Z"})
    };
    let hook =
        |g: &str, a| json!({"version": "4", "groupKey": g, "status": "firing", "alerts": [a]});
    assert_eq!(
        srv.post_json(
            &t,
            "/api/v1/ingest/alertmanager",
            hook("g1", alert("a", "critical"))
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        srv.post_json(
            &t,
            "/api/v1/ingest/alertmanager",
            hook("g1", alert("a", "critical"))
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        srv.post_json(
            &t,
            "/api/v1/ingest/alertmanager",
            hook("g2", alert("b", "warning"))
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        srv.post_json(&t, "/api/v1/ingest/alertmanager", json!({"version": "9"}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    // A P2 declared by hand, acknowledged: one observation in the histogram.
    let key = srv.declare(&srv.admin, "Hand made", "P2").await;
    let (s, _) = srv
        .command(&srv.admin, cmd(Some(&key), json!({"type": "acknowledge"})))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let _stream = srv.stream(&srv.admin, None).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let resp = srv
        .http
        .get(format!("{}/metrics", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = resp.text().await.unwrap();
    for line in [
        r#"warroom_incidents_open{severity="P1",status="investigating"} 1"#,
        r#"warroom_incidents_open{severity="P2",status="investigating"} 1"#,
        r#"warroom_incidents_open{severity="P3",status="monitoring"} 0"#,
        "warroom_triage_pending 1",
        r#"warroom_ingest_payloads_total{outcome="changed",source="alertmanager"} 2"#,
        r#"warroom_ingest_payloads_total{outcome="unchanged",source="alertmanager"} 1"#,
        r#"warroom_ingest_payloads_total{outcome="rejected",source="alertmanager"} 1"#,
        r#"warroom_ingest_alerts_total{source="alertmanager"} 3"#,
        r#"warroom_time_to_acknowledge_seconds_count{severity="P2"} 1"#,
        r#"warroom_clocks_breached{clock="acknowledge"} 0"#,
        "warroom_sse_subscribers 1",
        "# TYPE warroom_commit_latency_seconds histogram",
        "# TYPE warroom_time_to_resolve_seconds histogram",
        "# TYPE warroom_time_to_contain_seconds histogram",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("warroom_commit_latency_seconds_count ") && !l.ends_with(" 0")),
        "{text}"
    );

    let Some(promtool) = promtool() else { return };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed ({}):\n{}{}\n--- exposition ---\n{text}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
