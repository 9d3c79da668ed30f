//! Alerts in over real HTTP: the Alertmanager webhook and the PagerDuty
//! Events v2 endpoint on a real server and SQLite file — grouping, triage,
//! repeats, all-clear, the integration role, and bad input answered in each
//! sender's own error shape with nothing stored.
#![allow(clippy::unwrap_used)]

use crate::support::server::{Srv, cmd, start};
use reqwest::StatusCode;
use serde_json::{Value, json};
use warroom::domain::policy::Policy;

/// A server on the default policy (every alert a triage item), or with
/// `declare` severities opened at once.
async fn server(declare: &[&str]) -> Srv {
    let declare: Vec<String> = declare.iter().map(|s| s.to_string()).collect();
    start(move |c| {
        let mut p = Policy::builtin_default();
        p.ingest.declare = declare;
        c.policy = p;
    })
    .await
}

fn am_alert(fp: &str, status: &str, severity: &str) -> Value {
    json!({
        "status": status,
        "labels": {"alertname": format!("Alert_{fp}"), "severity": severity, "service": "checkout"},
        "annotations": {"summary": format!("summary {fp}")},
        "startsAt": "2026-11-23T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": fp,
    })
}

fn webhook(group: &str, alerts: Vec<Value>) -> Value {
    let firing = alerts.iter().any(|a| a["status"] == "firing");
    json!({
        "version": "4",
        "groupKey": group,
        "status": if firing { "firing" } else { "resolved" },
        "receiver": "warroom",
        "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "truncatedAlerts": 0,
        "alerts": alerts,
    })
}

async fn post_raw(
    srv: &Srv,
    token: Option<&str>,
    path: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut req = srv
        .http
        .post(format!("{}{path}", srv.url))
        .header("content-type", "application/json")
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn am(srv: &Srv, token: &str, body: Value) -> (StatusCode, Value) {
    srv.post_json(token, "/api/v1/ingest/alertmanager", body)
        .await
}

async fn pd(srv: &Srv, body: Value) -> (StatusCode, Value) {
    post_raw(
        srv,
        None,
        "/api/v1/ingest/events/v2",
        serde_json::to_vec(&body).unwrap(),
    )
    .await
}

async fn board(srv: &Srv) -> Value {
    srv.get(&srv.admin, "/api/v1/incidents").await.1
}

async fn log_len(srv: &Srv) -> usize {
    srv.all_events(&srv.admin).await.len()
}

#[tokio::test]
async fn an_alert_group_is_one_triage_item_repeats_add_nothing_and_one_command_declares_it() {
    let srv = server(&[]).await;
    let am_token = srv.token("alertmanager", "integration").await;
    let body = webhook("g1", vec![am_alert("a", "firing", "critical")]);
    let (status, out) = am(&srv, &am_token, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(
        out,
        json!({"status": "ok", "changed": true, "events": 2, "target": "TRI-1"})
    );
    // The same notification again (Alertmanager's repeat_interval): nothing new.
    let (status, out) = am(&srv, &am_token, body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(out["changed"], false);
    assert_eq!(out["target"], "TRI-1");

    let b = board(&srv).await;
    assert_eq!(b["incidents"].as_array().unwrap().len(), 0);
    let item = &b["triage"][0];
    assert_eq!(item["severity"], "P1");
    assert_eq!(item["title"], "Alert_a: summary a");
    assert_eq!(item["services"], json!(["checkout"]));
    assert_eq!(item["alerts"]["firing"], 1);

    // More alerts of the group join the item, coalesced into one entry.
    let (_, out) = am(
        &srv,
        &am_token,
        webhook(
            "g1",
            vec![
                am_alert("a", "firing", "critical"),
                am_alert("b", "firing", "critical"),
                am_alert("c", "firing", "critical"),
            ],
        ),
    )
    .await;
    assert_eq!(out["events"], 1);

    let (status, out) = srv
        .command(
            &srv.admin,
            cmd(Some("TRI-1"), json!({"type": "declare_triaged"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let b = board(&srv).await;
    assert_eq!(b["triage"], json!([]));
    let inc = &b["incidents"][0]["incident"];
    assert_eq!(inc["title"], "Alert_a: summary a");
    assert_eq!(inc["alerts"]["firing"], 3);
    assert_eq!(inc["roles"]["ic"], "admin");

    // All three clear: one entry saying so; the incident stays open for the IC.
    let (_, out) = am(
        &srv,
        &am_token,
        webhook(
            "g1",
            vec![
                am_alert("a", "resolved", "critical"),
                am_alert("b", "resolved", "critical"),
                am_alert("c", "resolved", "critical"),
            ],
        ),
    )
    .await;
    assert_eq!(out["events"], 1);
    let (_, detail) = srv.get(&srv.admin, "/api/v1/incidents/INC-1").await;
    let last = detail["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["type"], "alerts_resolved");
    assert_eq!(last["clear"], true);
    assert_eq!(last["actor"], "alertmanager");
    assert_eq!(detail["incident"]["incident"]["alerts"]["firing"], 0);
    assert_eq!(detail["incident"]["incident"]["status"], "investigating");
}

#[tokio::test]
async fn an_alert_storm_in_a_few_groups_is_a_few_incidents() {
    let srv = server(&["P1", "P2", "P3", "P4"]).await;
    let t = srv.token("alertmanager", "integration").await;
    for g in 0..5 {
        for wave in 0..4 {
            let alerts = (0..=wave * 10)
                .map(|i| am_alert(&format!("{g}-{i}"), "firing", "warning"))
                .collect();
            let (status, _) = am(&srv, &t, webhook(&format!("group-{g}"), alerts)).await;
            assert_eq!(status, StatusCode::OK);
        }
    }
    let b = board(&srv).await;
    let incidents = b["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 5);
    for inc in incidents {
        assert_eq!(inc["incident"]["alerts"]["firing"], 31);
        assert_eq!(inc["incident"]["severity"], "P3");
    }
}

#[tokio::test]
async fn events_v2_is_answered_like_pagerduty_and_the_routing_key_is_an_integration_secret() {
    let srv = server(&["P1"]).await;
    let key = srv.token("grafana", "integration").await;
    let viewer = srv.token("vic", "viewer").await;
    let trigger = json!({
        "routing_key": key, "event_action": "trigger", "dedup_key": "disk-full-db1",
        "payload": {"summary": "Disk 95% on db1", "source": "db1", "severity": "critical",
                    "component": "postgres", "custom_details": {"service": "billing"}},
        "links": [{"href": "https://grafana.example/d/disk", "text": "dashboard"}],
    });
    let (status, out) = pd(&srv, trigger.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{out}");
    assert_eq!(
        out,
        json!({"status": "success", "message": "Event processed", "dedup_key": "disk-full-db1"})
    );
    let (status, _) = pd(&srv, trigger.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let b = board(&srv).await;
    assert_eq!(b["incidents"].as_array().unwrap().len(), 1);
    let inc = &b["incidents"][0]["incident"];
    assert_eq!(inc["severity"], "P1");
    assert_eq!(inc["impact"]["services"], json!(["billing"]));
    assert_eq!(inc["declared"]["by"], "grafana");

    let ack =
        json!({"routing_key": key, "event_action": "acknowledge", "dedup_key": "disk-full-db1"});
    assert_eq!(pd(&srv, ack).await.0, StatusCode::ACCEPTED);
    let resolve =
        json!({"routing_key": key, "event_action": "resolve", "dedup_key": "disk-full-db1"});
    assert_eq!(pd(&srv, resolve.clone()).await.0, StatusCode::ACCEPTED);
    let inc = &board(&srv).await["incidents"][0]["incident"];
    assert_eq!(inc["acknowledged"]["by"], "grafana");
    assert_eq!(inc["alerts"]["firing"], 0);

    // Triggered again after the resolve: the same incident (still open) hears it.
    assert_eq!(pd(&srv, trigger.clone()).await.0, StatusCode::ACCEPTED);
    assert_eq!(
        board(&srv).await["incidents"][0]["incident"]["alerts"]["firing"],
        1
    );

    let before = log_len(&srv).await;
    for bad_key in ["wr_0000", viewer.as_str(), ""] {
        let mut t = trigger.clone();
        t["routing_key"] = json!(bad_key);
        let (status, out) = pd(&srv, t).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
        assert_eq!(out["status"], "invalid event");
        assert_eq!(out["message"], "Event object is invalid");
        assert!(
            out["errors"][0].as_str().unwrap().contains("routing_key"),
            "{out}"
        );
    }
    assert_eq!(
        log_len(&srv).await,
        before,
        "nothing stored for refused events"
    );
}

#[tokio::test]
async fn an_integration_token_may_only_ingest() {
    let srv = server(&[]).await;
    let t = srv.token("am", "integration").await;
    let (status, out) = srv.get(&t, "/api/v1/incidents").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{out}");
    assert!(
        out["error"].as_str().unwrap().contains("integration role"),
        "{out}"
    );
    let (status, _) = srv
        .command(
            &t,
            cmd(
                None,
                json!({"type": "declare", "title": "x", "severity": "P1"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A responder token is refused by the ingest endpoints.
    let r = srv.token("rita", "responder").await;
    let (status, out) = am(
        &srv,
        &r,
        webhook("g", vec![am_alert("a", "firing", "critical")]),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{out}");
    assert!(
        out["error"].as_str().unwrap().contains("integration token"),
        "{out}"
    );
    let (status, _) = post_raw(&srv, None, "/api/v1/ingest/alertmanager", b"{}".to_vec()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_in_the_senders_shape_and_nothing_is_stored() {
    let srv = server(&["P1"]).await;
    let t = srv.token("am", "integration").await;
    let before = log_len(&srv).await;

    // Malformed JSON and wrong shapes name the field.
    let (status, out) = post_raw(
        &srv,
        Some(&t),
        "/api/v1/ingest/alertmanager",
        b"{\"version\":".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert!(
        out["error"].as_str().unwrap().contains("malformed JSON"),
        "{out}"
    );
    let mut wrong = webhook("g", vec![am_alert("a", "firing", "critical")]);
    wrong["alerts"][0]["labels"] = json!(["not", "a", "map"]);
    let (status, out) = am(&srv, &t, wrong).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(out["field"], "alerts[0].labels", "{out}");
    let mut v3 = webhook("g", vec![]);
    v3["version"] = json!("3");
    let (status, out) = am(&srv, &t, v3).await;
    assert_eq!(
        (status, out["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("version"))
    );

    // A huge label set: refused whole, naming the limit.
    let mut huge = am_alert("a", "firing", "critical");
    for i in 0..5_000 {
        huge["labels"][format!("label_{i}")] = json!("v");
    }
    let (status, out) = am(
        &srv,
        &t,
        webhook("g", vec![am_alert("ok", "firing", "critical"), huge]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert_eq!(out["field"], "alerts[1].labels");
    assert!(
        out["error"].as_str().unwrap().contains("the limit is 128"),
        "{out}"
    );

    // A 10 MB body: 413 on both endpoints, each in its own shape.
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(10 * 1024 * 1024));
    let (status, out) = post_raw(
        &srv,
        Some(&t),
        "/api/v1/ingest/alertmanager",
        big.clone().into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        out["error"].as_str().unwrap().contains("4194304 bytes"),
        "{out}"
    );
    let (status, out) = post_raw(&srv, None, "/api/v1/ingest/events/v2", big.into_bytes()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(out["status"], "invalid event");
    assert!(
        out["errors"][0].as_str().unwrap().contains("4194304 bytes"),
        "{out}"
    );

    // Events v2: every problem listed.
    let (status, out) = pd(&srv, json!({"routing_key": t, "event_action": "explode"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        out["errors"][0].as_str().unwrap().contains("event_action"),
        "{out}"
    );
    let (status, out) = post_raw(
        &srv,
        None,
        "/api/v1/ingest/events/v2",
        b"{\"routing_key\": ".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        out["errors"][0]
            .as_str()
            .unwrap()
            .contains("malformed JSON"),
        "{out}"
    );

    assert_eq!(log_len(&srv).await, before, "nothing stored half");

    // Escape sequences in labels: accepted, stored clean.
    let mut evil = am_alert("e", "firing", "critical");
    evil["labels"]["alertname"] = json!("Pwn\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\u{202e}ed");
    evil["annotations"]["summary"] = json!("a\u{9b}31mb\nc");
    let (status, _) = am(&srv, &t, webhook("evil\u{1b}[5m", vec![evil])).await;
    assert_eq!(status, StatusCode::OK);
    let events = srv.all_events(&srv.admin).await;
    let text = serde_json::to_string(&events).unwrap();
    for bad in ["\\u001b", "\\u0007", "\u{9b}", "\u{202e}"] {
        assert!(!text.contains(bad), "{bad:?} stored: {text}");
    }
    let inc = &board(&srv).await["incidents"][0]["incident"];
    assert_eq!(inc["title"], "Pwned: ab c");
}

#[tokio::test]
async fn a_more_severe_alert_joining_raises_the_incident_or_suggests_it() {
    // Raise (the presets' default): a P3 incident from a warning; a critical
    // alert of the same group makes it P1, with the reason on the timeline.
    let srv = server(&["P1", "P3"]).await;
    let t = srv.token("alertmanager", "integration").await;
    let (status, out) = am(
        &srv,
        &t,
        webhook("g1", vec![am_alert("a", "firing", "warning")]),
    )
    .await;
    assert_eq!(
        (status, out["target"].as_str()),
        (StatusCode::OK, Some("INC-1"))
    );
    assert_eq!(
        board(&srv).await["incidents"][0]["incident"]["severity"],
        "P3"
    );
    let (_, out) = am(
        &srv,
        &t,
        webhook(
            "g1",
            vec![
                am_alert("a", "firing", "warning"),
                am_alert("b", "firing", "critical"),
            ],
        ),
    )
    .await;
    assert_eq!(out["events"], 2, "{out}");
    let inc = &board(&srv).await["incidents"][0]["incident"];
    assert_eq!(inc["severity"], "P1");
    let (_, detail) = srv.get(&srv.admin, "/api/v1/incidents/INC-1").await;
    let last = detail["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["type"], "severity_changed", "{last}");
    assert_eq!(
        (
            last["from"].as_str(),
            last["to"].as_str(),
            last["upgrade"].as_bool()
        ),
        (Some("P3"), Some("P1"), Some(true))
    );
    assert_eq!(
        last["reason"],
        "Alert_b is firing and maps to P1 (policy: [ingest] rules)"
    );
    assert_eq!(last["actor"], "alertmanager");

    // Suggest: the same through Events v2, and the IC decides.
    let srv = start(|c| {
        let mut p = Policy::builtin_default();
        p.ingest.declare = vec!["P1".into(), "P2".into(), "P3".into()];
        p.ingest.on_more_severe = warroom::domain::alert::OnMoreSevere::Suggest;
        c.policy = p;
    })
    .await;
    let key = srv.token("grafana", "integration").await;
    let event = |severity: &str, summary: &str| {
        json!({
            "routing_key": key, "event_action": "trigger", "dedup_key": "db1",
            "payload": {"summary": summary, "source": "db1", "severity": severity},
        })
    };
    assert_eq!(
        pd(&srv, event("warning", "replication lag")).await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        board(&srv).await["incidents"][0]["incident"]["severity"],
        "P3"
    );
    // Events v2 has one alert per dedup_key, and a trigger of a firing key is a
    // repeat (PagerDuty adds it to the open alert's log): the alert fires anew
    // after a resolve, now critical.
    let resolve = json!({"routing_key": key, "event_action": "resolve", "dedup_key": "db1"});
    assert_eq!(pd(&srv, resolve).await.0, StatusCode::ACCEPTED);
    assert_eq!(
        pd(&srv, event("critical", "db1 down")).await.0,
        StatusCode::ACCEPTED
    );
    let inc = &board(&srv).await["incidents"][0]["incident"];
    assert_eq!(inc["severity"], "P3", "a human decides: {inc}");
    assert_eq!(inc["suggested"]["severity"], "P1", "{inc}");
    let (status, out) = srv
        .command(
            &srv.admin,
            cmd(
                Some("INC-1"),
                json!({"type": "set_severity", "severity": "P1", "reason": "as the alerts say"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let inc = &board(&srv).await["incidents"][0]["incident"];
    assert_eq!(inc["suggested"], Value::Null);
}

#[tokio::test]
async fn an_alert_firing_again_after_its_incident_closed_opens_a_new_one_linking_the_old() {
    let srv = start(|c| {
        let mut p = Policy::builtin_default();
        p.ingest.declare = vec!["P1".into()];
        // Closing needs nothing here: this test is about what comes after.
        p.closure = Default::default();
        p.resolution = Default::default();
        c.policy = p;
    })
    .await;
    let t = srv.token("alertmanager", "integration").await;
    let (_, out) = am(
        &srv,
        &t,
        webhook("g1", vec![am_alert("a", "firing", "critical")]),
    )
    .await;
    assert_eq!(out["target"], "INC-1");
    for action in [
        json!({"type": "resolve", "summary": "pool raised"}),
        json!({"type": "close"}),
    ] {
        let (status, out) = srv.command(&srv.admin, cmd(Some("INC-1"), action)).await;
        assert_eq!(status, StatusCode::CREATED, "{out}");
    }
    // Alertmanager re-sends the still-firing alert: a repeat, no new incident.
    let (_, out) = am(
        &srv,
        &t,
        webhook("g1", vec![am_alert("a", "firing", "critical")]),
    )
    .await;
    assert_eq!(out["changed"], false, "{out}");
    // It clears, then fires again (a new start): a new incident that links the old.
    am(
        &srv,
        &t,
        webhook("g1", vec![am_alert("a", "resolved", "critical")]),
    )
    .await;
    let mut again = am_alert("a", "firing", "critical");
    again["startsAt"] = json!("2026-11-23T12:00:00Z");
    let (status, out) = am(&srv, &t, webhook("g1", vec![again])).await;
    assert_eq!(
        (status, out["target"].as_str()),
        (StatusCode::OK, Some("INC-2")),
        "{out}"
    );
    let (_, first) = srv.get(&srv.admin, "/api/v1/incidents/INC-1").await;
    let (_, second) = srv.get(&srv.admin, "/api/v1/incidents/INC-2").await;
    assert_eq!(
        second["incident"]["incident"]["alerts"]["previous"],
        first["incident"]["incident"]["id"]
    );
    assert!(first["incident"]["incident"]["closed"].is_object());
    let firing = second["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "alerts_firing")
        .cloned()
        .unwrap();
    assert_eq!(firing["previous"], first["incident"]["incident"]["id"]);
}
