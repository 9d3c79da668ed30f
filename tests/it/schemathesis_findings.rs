//! What schemathesis found where the published contract and the server
//! disagreed (issue 15, item 4), each pinned by hand so it cannot come back
//! between fuzzing runs: the document and the server must agree on over-long
//! text, on body size, and on the times an Alertmanager payload may carry.
#![allow(clippy::unwrap_used)]

use crate::support::server::{cmd, cmd_with_id, start};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;
use warroom::domain::decide::MAX_TEXT;

/// An over-long `page.reason` is refused with 422 naming `action.reason`,
/// whatever the characters and however they are written in JSON, and also
/// when its id is one a valid page already used (once answered as a 2xx
/// "duplicate"); a reason of exactly the documented length is accepted.
#[tokio::test]
async fn an_over_long_page_reason_is_a_422_naming_the_field() {
    let srv = start(|_| {}).await;
    let inc = srv.declare(&srv.admin, "API down", "P1").await;
    let before = srv.all_events(&srv.admin).await.len();

    let page = |reason: String| json!({ "type": "page", "who": "@bob", "reason": reason });
    for (what, reason) in [
        ("ascii", "r".repeat(MAX_TEXT + 1)),
        (
            "C1 controls (6-byte JSON escapes)",
            "\u{91}".repeat(MAX_TEXT + 1),
        ),
        ("astral (surrogate pairs)", "😀".repeat(MAX_TEXT + 1)),
    ] {
        let (status, out) = srv.command(&srv.admin, cmd(Some(&inc), page(reason))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {out}");
        assert_eq!(out["field"], "action.reason", "{what}: {out}");
        assert!(
            out["error"]
                .as_str()
                .unwrap()
                .contains(&format!("the limit is {MAX_TEXT}")),
            "{what}: {out}"
        );
    }

    // The id of a page already stored, reused with an over-long reason.
    let id = Uuid::new_v4();
    let (status, out) = srv
        .command(
            &srv.admin,
            cmd_with_id(id, Some(&inc), page("first".into())),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let (status, out) = srv
        .command(
            &srv.admin,
            cmd_with_id(id, Some(&inc), page("r".repeat(MAX_TEXT + 1))),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    assert!(out.get("events").is_none(), "{out}");

    // Exactly the limit, in the widest JSON form: within the body limit too.
    let body = serde_json::to_string(&cmd(Some(&inc), page("😀".repeat(MAX_TEXT)))).unwrap();
    let escaped = body.replace('😀', "\\ud83d\\ude00");
    let resp = srv
        .http
        .post(format!("{}/api/v1/commands", srv.url))
        .bearer_auth(&srv.admin)
        .header("content-type", "application/json")
        .body(escaped)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(
        srv.all_events(&srv.admin).await.len(),
        before + 2,
        "the two valid pages only"
    );
}

/// Alertmanager's webhook as the document states it: `startsAt`/`endsAt` are
/// optional times, and an empty one is "unknown", like Alertmanager's own
/// zero time — not a 400; a `null` `generatorURL` is no link (the document
/// says so since schemathesis found the server accepting it).
#[tokio::test]
async fn an_empty_alert_time_is_unknown_not_a_400() {
    let srv = start(|_| {}).await;
    let am = srv.token("am", "integration").await;
    let alert = |fp: &str, starts: Value, ends: Value| {
        json!({
            "status": "firing", "fingerprint": fp, "labels": { "alertname": "Disk" },
            "annotations": {}, "generatorURL": "", "startsAt": starts, "endsAt": ends,
        })
    };
    let mut no_link = alert("b", json!(null), json!(null));
    no_link["generatorURL"] = json!(null);
    let body = json!({
        "version": "4", "groupKey": "g", "status": "firing", "truncatedAlerts": 0,
        "alerts": [
            alert("a", json!(""), json!("")),
            no_link,
            alert("c", json!("2026-11-23T10:00:00Z"), json!("0001-01-01T00:00:00Z")),
        ],
    });
    let (status, out) = srv
        .post_json(&am, "/api/v1/ingest/alertmanager", body)
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (_, board) = srv.get(&srv.admin, "/api/v1/incidents").await;
    assert_eq!(board["triage"][0]["alerts"]["firing"], 3, "{board}");

    // A time that is not one is still refused, naming the field.
    let bad = json!({
        "version": "4", "groupKey": "g", "status": "firing",
        "alerts": [alert("d", json!("yesterday"), json!(null))],
    });
    let (status, out) = srv.post_json(&am, "/api/v1/ingest/alertmanager", bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert_eq!(out["field"], "alerts[0].startsAt", "{out}");
}
