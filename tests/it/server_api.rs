//! The HTTP API of `warroom serve` against a real server on 127.0.0.1:0:
//! every endpoint, every error answer, roles, idempotency and rate limits.
#![allow(clippy::unwrap_used)]

use crate::support::server::{cmd, cmd_with_id, start};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;
use uuid::Uuid;
use warroom::protocol::{MAX_BODY_BYTES, MAX_PAGE, SERVER_TIME_HEADER};
use warroom::server::RateLimit;

#[tokio::test]
async fn health_and_openapi_need_no_token_and_the_spec_lists_every_endpoint() {
    let srv = start(|_| {}).await;
    let resp = srv
        .http
        .get(format!("{}/healthz", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().contains_key(SERVER_TIME_HEADER));
    assert_eq!(resp.text().await.unwrap(), "ok");

    let resp = srv
        .http
        .get(format!("{}/readyz", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let ready: Value = resp.json().await.unwrap();
    assert_eq!(ready["ready"], true, "{ready}");

    let resp = srv
        .http
        .get(format!("{}/api/v1/openapi.json", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let spec: Value = resp.json().await.unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let expected: &[(&str, &str, &[&str])] = &[
        ("/healthz", "get", &["200"]),
        ("/readyz", "get", &["200", "503"]),
        ("/api/v1/openapi.json", "get", &["200"]),
        (
            "/api/v1/commands",
            "post",
            &[
                "200", "201", "400", "401", "403", "404", "409", "413", "422", "429", "503",
            ],
        ),
        ("/api/v1/incidents", "get", &["200", "400", "401", "429"]),
        (
            "/api/v1/incidents/{reference}",
            "get",
            &["200", "400", "401", "404"],
        ),
        ("/api/v1/events", "get", &["200", "400", "401"]),
        ("/api/v1/stream", "get", &["200", "400", "401"]),
        ("/api/v1/policy", "get", &["200", "401"]),
        ("/api/v1/me", "get", &["200", "401"]),
        ("/api/v1/tokens", "get", &["200", "401", "403"]),
        (
            "/api/v1/tokens",
            "post",
            &["201", "401", "403", "409", "422"],
        ),
        (
            "/api/v1/tokens/{name}",
            "delete",
            &["204", "401", "403", "404"],
        ),
        ("/metrics", "get", &["200"]),
        (
            "/api/v1/ingest/alertmanager",
            "post",
            &["200", "400", "401", "413", "503"],
        ),
        (
            "/api/v1/ingest/events/v2",
            "post",
            &["202", "400", "413", "503"],
        ),
    ];
    for (path, method, statuses) in expected {
        let op = &spec["paths"][path][method];
        assert!(op.is_object(), "{method} {path} missing from the spec");
        for s in *statuses {
            assert!(
                op["responses"][s].is_object(),
                "{method} {path} does not list {s}"
            );
        }
    }
    // Every schema referenced is defined.
    let text = spec.to_string();
    for piece in text.split("#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap();
        assert!(
            spec["components"]["schemas"][name].is_object(),
            "schema {name} undefined"
        );
    }
    srv.stop().await;
}

#[tokio::test]
async fn auth_missing_bad_and_revoked_tokens_are_401_with_server_time() {
    let srv = start(|_| {}).await;
    let url = format!("{}/api/v1/incidents", srv.url);

    let resp = srv.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().contains_key(SERVER_TIME_HEADER));
    assert!(resp.headers().contains_key("www-authenticate"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
    assert!(body["error"].as_str().unwrap().contains("Bearer"), "{body}");

    let resp = srv
        .http
        .get(&url)
        .bearer_auth("wr_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let resp = srv
        .http
        .get(&url)
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // A token works until it is revoked, then at once no more.
    let bob = srv.token("bob", "viewer").await;
    assert_eq!(srv.get(&bob, "/api/v1/incidents").await.0, StatusCode::OK);
    let resp = srv
        .http
        .delete(format!("{}/api/v1/tokens/bob", srv.url))
        .bearer_auth(&srv.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (status, body) = srv.get(&bob, "/api/v1/incidents").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    srv.stop().await;
}

#[tokio::test]
async fn roles_gate_actions_and_403_names_the_needed_role() {
    let srv = start(|_| {}).await;
    let viewer = srv.token("vera", "viewer").await;
    let responder = srv.token("rick", "responder").await;
    let commander = srv.token("cora", "commander").await;

    // Viewer: reads, nothing else.
    assert_eq!(
        srv.get(&viewer, "/api/v1/incidents").await.0,
        StatusCode::OK
    );
    let (status, body) = srv
        .command(
            &viewer,
            cmd(
                None,
                json!({ "type": "declare", "title": "x", "severity": "P1" }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "forbidden");
    assert!(
        body["error"].as_str().unwrap().contains("commander"),
        "{body}"
    );

    let inc = srv.declare(&commander, "Checkout down", "P1").await;
    let (status, body) = srv.note(&viewer, &inc, "hello").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"].as_str().unwrap().contains("responder"),
        "{body}"
    );

    // Responder: note, acknowledge, checklist — not severity.
    assert_eq!(
        srv.note(&responder, &inc, "looking").await.0,
        StatusCode::CREATED
    );
    let (status, _) = srv
        .command(
            &responder,
            cmd(Some(&inc), json!({ "type": "acknowledge" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = srv
        .command(
            &responder,
            cmd(
                Some(&inc),
                json!({ "type": "set_checklist_item", "checklist": "triage", "item": "assess" }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = srv
        .command(
            &responder,
            cmd(
                Some(&inc),
                json!({ "type": "set_severity", "severity": "P2", "reason": "smaller" }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"].as_str().unwrap().contains("commander"),
        "{body}"
    );

    // Commander: everything on incidents, but not tokens.
    let (status, _) = srv
        .command(
            &commander,
            cmd(
                Some(&inc),
                json!({ "type": "set_severity", "severity": "P2", "reason": "smaller" }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = srv.get(&commander, "/api/v1/tokens").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["error"].as_str().unwrap().contains("admin"), "{body}");

    // The actor is always the token's name.
    let events = srv.all_events(&srv.admin).await;
    let actors: Vec<&str> = events
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert!(
        actors.iter().all(|a| ["cora", "rick"].contains(a)),
        "{actors:?}"
    );
    // ...and cannot be set from the body.
    let mut forged = cmd(Some(&inc), json!({ "type": "note", "text": "hi" }));
    forged["actor"] = json!("mallory");
    let (status, body) = srv.command(&responder, forged).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "actor");
    srv.stop().await;
}

#[tokio::test]
async fn a_repeated_command_id_is_stored_once_sequentially_and_concurrently() {
    let srv = start(|_| {}).await;
    let inc = srv.declare(&srv.admin, "DB failover", "P2").await;

    // Sequential retries.
    let id = Uuid::new_v4();
    let body = cmd_with_id(id, Some(&inc), json!({ "type": "acknowledge" }));
    let (s1, first) = srv.command(&srv.admin, body.clone()).await;
    assert_eq!(s1, StatusCode::CREATED);
    assert_eq!(first["duplicate"], false);
    let (s2, again) = srv.command(&srv.admin, body.clone()).await;
    assert_eq!(s2, StatusCode::OK, "{again}");
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["events"], first["events"]);

    // 16 concurrent copies of one new command.
    let id = Uuid::new_v4();
    let body = cmd_with_id(id, Some(&inc), json!({ "type": "note", "text": "once" }));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (http, url, token, body) = (
            srv.http.clone(),
            srv.url.clone(),
            srv.admin.clone(),
            body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let resp = http
                .post(format!("{url}/api/v1/commands"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = resp.status();
            (status, resp.json::<Value>().await.unwrap())
        }));
    }
    let mut created = 0;
    let mut seqs = BTreeSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::OK => assert_eq!(body["duplicate"], true),
            other => panic!("unexpected {other}: {body}"),
        }
        seqs.insert(body["events"][0]["seq"].as_u64().unwrap());
    }
    assert_eq!(created, 1, "exactly one attempt stores it");
    assert_eq!(seqs.len(), 1, "every attempt sees the same seq");
    let events = srv.all_events(&srv.admin).await;
    let copies = events.iter().filter(|e| e["id"] == json!(id)).count();
    assert_eq!(copies, 1);
    srv.stop().await;
}

#[tokio::test]
async fn a_command_id_taken_by_another_commands_event_is_409_and_leaves_no_phantom() {
    let srv = start(|_| {}).await;
    // A declaration with a commander makes two events; the second has a derived id.
    let (status, first) = srv
        .command(
            &srv.admin,
            cmd(
                None,
                json!({ "type": "declare", "title": "API down", "severity": "P1", "commander": "alice" }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let derived: Uuid = serde_json::from_value(first["events"][1]["id"].clone()).unwrap();

    // A command reusing that id is not "the same command again": answering it
    // 200 with another command's events would make a client drop it as stored.
    let (status, body) = srv
        .command(
            &srv.admin,
            cmd_with_id(
                derived,
                None,
                json!({ "type": "declare", "title": "Phantom", "severity": "P2" }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["field"], "id", "{body}");

    // The decision model holds nothing of the refused command: the next
    // declaration is INC-2 for everyone, and a note on INC-2 lands on it.
    let inc = srv.declare(&srv.admin, "Real second", "P2").await;
    assert_eq!(inc, "INC-2");
    let (status, noted) = srv.note(&srv.admin, "INC-2", "on the real one").await;
    assert_eq!(status, StatusCode::CREATED, "{noted}");
    let (_, detail) = srv.get(&srv.admin, "/api/v1/incidents/INC-2").await;
    assert_eq!(
        noted["events"][0]["incident"], detail["incident"]["incident"]["id"],
        "the note went to an incident that was never stored"
    );
    srv.stop().await;
}

#[tokio::test]
async fn a_wrong_action_padded_with_thousands_of_keys_is_refused_at_once() {
    let srv = start(|_| {}).await;
    let inc = srv.declare(&srv.admin, "Login errors", "P2").await;
    // A type error first, then ~6,000 extra keys (under the body limit):
    // finding the culprit by removing one key at a time would cost 6,000
    // re-parses of the whole body, seconds of CPU on a runtime thread.
    let mut action = serde_json::Map::new();
    action.insert("type".into(), json!("note"));
    action.insert("text".into(), json!(5));
    for i in 0..6000 {
        action.insert(format!("z{i}"), json!(0));
    }
    let body = cmd(Some(&inc), Value::Object(action));
    let started = std::time::Instant::now();
    let (status, b) = srv.command(&srv.admin, body).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(
        took < Duration::from_secs(3),
        "one 60 KB request kept the server busy for {took:?}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_precise_4xx_never_a_500() {
    let srv = start(|_| {}).await;
    let inc = srv.declare(&srv.admin, "Login errors", "P2").await;
    let post_raw = |body: Vec<u8>| {
        let (http, url, token) = (srv.http.clone(), srv.url.clone(), srv.admin.clone());
        async move {
            let resp = http
                .post(format!("{url}/api/v1/commands"))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = resp.status();
            assert!(resp.headers().contains_key(SERVER_TIME_HEADER));
            (status, resp.json::<Value>().await.unwrap())
        }
    };

    // Over the body limit: 413 naming the limit.
    let big = json!({ "id": Uuid::new_v4(), "incident": inc, "action": { "type": "note", "text": "x".repeat(MAX_BODY_BYTES) } });
    let (status, body) = post_raw(serde_json::to_vec(&big).unwrap()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "too_large");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains(&MAX_BODY_BYTES.to_string()),
        "{body}"
    );

    // Not JSON.
    let (status, body) = post_raw(b"{\"id\": ".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "bad_json");

    // Unknown top-level field.
    let mut c = cmd(Some(&inc), json!({ "type": "note", "text": "x" }));
    c["foo"] = json!(1);
    let (status, body) = post_raw(serde_json::to_vec(&c).unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "foo");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("unknown field `foo`"),
        "{body}"
    );

    // Unknown field inside the action.
    let c = cmd(
        Some(&inc),
        json!({ "type": "note", "text": "x", "colour": "red" }),
    );
    let (status, body) = post_raw(serde_json::to_vec(&c).unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "action.colour", "{body}");

    // Wrong type inside the action.
    let c = cmd(
        Some(&inc),
        json!({ "type": "set_severity", "severity": 1, "reason": "r" }),
    );
    let (status, body) = post_raw(serde_json::to_vec(&c).unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "invalid_field");
    assert_eq!(body["field"], "action.severity", "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("action.severity: invalid type"),
        "{body}"
    );

    // Unknown action type; a bad id.
    let c = cmd(Some(&inc), json!({ "type": "explode" }));
    let (status, body) = post_raw(serde_json::to_vec(&c).unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "action.type");
    let (status, body) =
        post_raw(br#"{"id":"nope","action":{"type":"acknowledge"}}"#.to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "id");

    // Unknown incident: 404.
    let (status, body) = srv.note(&srv.admin, "INC-99", "x").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
    assert!(body["error"].as_str().unwrap().contains("INC-99"));

    // Domain refusals: 409 (state) and 422 (policy), with the domain's reason.
    let ack = cmd(Some(&inc), json!({ "type": "acknowledge" }));
    assert_eq!(srv.command(&srv.admin, ack).await.0, StatusCode::CREATED);
    let (status, body) = srv
        .command(
            &srv.admin,
            cmd(Some(&inc), json!({ "type": "acknowledge" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "conflict");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("already acknowledged by admin"),
        "{body}"
    );
    let (status, body) = srv
        .command(
            &srv.admin,
            cmd(
                Some(&inc),
                json!({ "type": "set_severity", "severity": "SEV0", "reason": "r" }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "unprocessable");
    assert_eq!(body["field"], "action.severity");
    assert!(
        body["error"].as_str().unwrap().contains("P1, P2, P3"),
        "{body}"
    );
    let (status, body) = srv.note(&srv.admin, &inc, "   ").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "action.text");

    // Bad query strings name the parameter.
    let (status, body) = srv.get(&srv.admin, "/api/v1/events?after=soon").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "after");
    let (status, body) = srv.get(&srv.admin, "/api/v1/events?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "limit");
    let (status, body) = srv.get(&srv.admin, "/api/v1/incidents?colour=red").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let resp = srv
        .http
        .get(format!("{}/api/v1/stream", srv.url))
        .bearer_auth(&srv.admin)
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["field"], "Last-Event-ID");

    // Unknown path and wrong method.
    let (status, body) = srv.get(&srv.admin, "/api/v1/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
    let resp = srv
        .http
        .delete(format!("{}/api/v1/incidents", srv.url))
        .bearer_auth(&srv.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(resp.headers().contains_key(SERVER_TIME_HEADER));
    srv.stop().await;
}

#[tokio::test]
async fn a_burst_over_the_per_token_rate_gets_429_with_retry_after() {
    let srv = start(|c| {
        c.rate_limit = Some(RateLimit {
            per_sec: 1.0,
            burst: 5.0,
        })
    })
    .await;
    let other = srv.token("other", "viewer").await; // the admin's 1st request
    let mut codes = Vec::new();
    for _ in 0..6 {
        let resp = srv
            .http
            .get(format!("{}/api/v1/me", srv.url))
            .bearer_auth(&srv.admin)
            .send()
            .await
            .unwrap();
        codes.push(resp.status());
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry: u64 = resp.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=2).contains(&retry), "retry-after {retry}");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["code"], "rate_limited");
            assert!(
                body["error"].as_str().unwrap().contains("per second"),
                "{body}"
            );
        }
    }
    assert_eq!(&codes[..4], &[StatusCode::OK; 4]);
    assert_eq!(codes[4], StatusCode::TOO_MANY_REQUESTS);
    // Each token has its own bucket.
    assert_eq!(srv.get(&other, "/api/v1/me").await.0, StatusCode::OK);
    srv.stop().await;
}

#[tokio::test]
async fn incidents_are_listed_worst_first_with_clocks_and_paged_timelines() {
    let srv = start(|_| {}).await;
    let admin = srv.admin.clone();
    let p3 = srv.declare(&admin, "Slow reports", "P3").await;
    let p1 = srv.declare(&admin, "Checkout down", "P1").await;
    let p2a = srv.declare(&admin, "Search flaky", "P2").await;
    let p2b = srv.declare(&admin, "Emails late", "P2").await;
    // p2b's acknowledge clock is done, so p2a (still running) is more urgent.
    srv.command(&admin, cmd(Some(&p2b), json!({ "type": "acknowledge" })))
        .await;

    let (status, list) = srv.get(&admin, "/api/v1/incidents").await;
    assert_eq!(status, StatusCode::OK);
    let keys: Vec<String> = list["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| format!("INC-{}", v["incident"]["number"]))
        .collect();
    assert_eq!(keys, vec![p1.clone(), p2a.clone(), p2b, p3.clone()]);
    assert!(list["server_time"].is_string());
    assert_eq!(list["latest_seq"], 9);
    let clocks = list["incidents"][0]["clocks"].as_array().unwrap();
    let ack = clocks
        .iter()
        .find(|c| c["kind"]["kind"] == "acknowledge")
        .unwrap();
    let left = ack["remaining_secs"].as_i64().unwrap();
    assert!(
        (295..=300).contains(&left),
        "P1 acknowledge clock: {left}s left"
    );

    // One incident by key and by UUID, with a paged timeline.
    for i in 0..5 {
        srv.note(&admin, &p1, &format!("note {i}")).await;
    }
    let (status, d) = srv
        .get(&admin, &format!("/api/v1/incidents/{p1}?limit=3"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(d["incident"]["incident"]["title"], "Checkout down");
    assert_eq!(d["timeline"].as_array().unwrap().len(), 3);
    assert_eq!(d["more"], true);
    let after = d["next_after"].as_u64().unwrap();
    assert_eq!(after, d["timeline"][2]["seq"].as_u64().unwrap());
    let uuid = d["incident"]["incident"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, d2) = srv
        .get(
            &admin,
            &format!("/api/v1/incidents/{uuid}?after={after}&limit=3"),
        )
        .await;
    let texts: Vec<&str> = d2["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, vec!["note 1", "note 2", "note 3"]);
    assert_eq!(d2["more"], true);
    let (status, body) = srv.get(&admin, "/api/v1/incidents/INC-42").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].as_str().unwrap().contains("INC-42"));

    // Closed incidents only with ?all=true.
    for action in [
        json!({ "type": "resolve", "summary": "fixed", "force": true }),
        json!({ "type": "close" }),
    ] {
        let (s, b) = srv.command(&admin, cmd(Some(&p3), action)).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let (_, open) = srv.get(&admin, "/api/v1/incidents").await;
    assert_eq!(open["incidents"].as_array().unwrap().len(), 3);
    let (_, all) = srv.get(&admin, "/api/v1/incidents?all=true").await;
    assert_eq!(all["incidents"].as_array().unwrap().len(), 4);
    srv.stop().await;
}

#[tokio::test]
async fn events_are_paged_gap_free_and_policy_and_me_answer() {
    let srv = start(|_| {}).await;
    let admin = srv.admin.clone();
    let inc = srv.declare(&admin, "Queue backlog", "P2").await;
    for i in 0..20 {
        srv.note(&admin, &inc, &format!("n{i}")).await;
    }
    let (status, page) = srv.get(&admin, "/api/v1/events?after=5&limit=10").await;
    assert_eq!(status, StatusCode::OK);
    let seqs: Vec<u64> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (6..=15).collect::<Vec<_>>());
    assert_eq!(page["next_after"], 15);
    assert_eq!(page["more"], true);
    assert_eq!(page["latest_seq"], 22);
    let (_, last) = srv.get(&admin, "/api/v1/events?after=15&limit=10").await;
    assert_eq!(last["events"].as_array().unwrap().len(), 7);
    assert_eq!(last["more"], false);
    // A limit over MAX_PAGE is refused, as the OpenAPI document's `maximum`
    // says (issue 15: it used to be served MAX_PAGE at a time).
    let (status, body) = srv
        .get(&admin, &format!("/api/v1/events?limit={}", MAX_PAGE * 10))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "limit", "{body}");
    let (status, _) = srv
        .get(&admin, &format!("/api/v1/events?limit={MAX_PAGE}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let all = srv.all_events(&admin).await;
    let seqs: Vec<u64> = all.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=22).collect::<Vec<_>>());

    let (status, policy) = srv.get(&admin, "/api/v1/policy").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(policy["name"], "test-policy");
    let (status, me) = srv.get(&admin, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["name"], "admin");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["policy"], "test-policy");
    srv.stop().await;
}

#[tokio::test]
async fn admins_manage_tokens_and_secrets_are_shown_once() {
    let srv = start(|_| {}).await;
    let (status, created) = srv
        .post_json(
            &srv.admin,
            "/api/v1/tokens",
            json!({ "name": "ci-bot", "role": "responder" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = created["token"].as_str().unwrap();
    assert!(secret.starts_with("wr_") && secret.len() == 67, "{secret}");
    let (_, me) = srv.get(secret, "/api/v1/me").await;
    assert_eq!(me["name"], "ci-bot");
    assert_eq!(me["role"], "responder");

    let (status, body) = srv
        .post_json(
            &srv.admin,
            "/api/v1/tokens",
            json!({ "name": "ci-bot", "role": "viewer" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["field"], "name");
    let (status, body) = srv
        .post_json(
            &srv.admin,
            "/api/v1/tokens",
            json!({ "name": "two words", "role": "viewer" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "name");
    let (status, body) = srv
        .post_json(
            &srv.admin,
            "/api/v1/tokens",
            json!({ "name": "x", "role": "overlord" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "role");

    let (status, list) = srv.get(&srv.admin, "/api/v1/tokens").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["admin", "ci-bot"]);
    assert!(!list.to_string().contains("wr_"), "secrets never listed");

    let del = |name: &str| {
        srv.http
            .delete(format!("{}/api/v1/tokens/{name}", srv.url))
            .bearer_auth(&srv.admin)
            .send()
    };
    assert_eq!(
        del("ci-bot").await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(del("ci-bot").await.unwrap().status(), StatusCode::NOT_FOUND);
    let (_, list) = srv.get(&srv.admin, "/api/v1/tokens").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    srv.stop().await;
}

#[tokio::test]
async fn the_embedded_local_token_is_reused_across_restarts_and_private() {
    let srv = start(|_| {}).await;
    let first = srv.admin.clone();
    let dir = srv.stop().await;
    let file = dir.path().join("local.token");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), first);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let srv = crate::support::server::start_in(dir, |_| {}).await;
    assert_eq!(srv.admin, first);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "tightened again on start");
    }
    assert_eq!(srv.get(&first, "/api/v1/me").await.0, StatusCode::OK);
    srv.stop().await;

    // Never on a non-loopback address.
    let dir = tempfile::tempdir().unwrap();
    let mut config = warroom::server::ServerConfig::new(dir.path().join("w.db"), "0.0.0.0:0");
    config.bootstrap_token = Some(("me".into(), warroom::domain::command::Access::Admin));
    let err = warroom::server::start(config).await.unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");
    assert!(!dir.path().join("local.token").exists());
}

#[tokio::test]
async fn a_second_server_on_the_same_database_is_refused() {
    let srv = start(|_| {}).await;
    let mut config =
        warroom::server::ServerConfig::new(srv.dir.path().join("warroom.db"), "127.0.0.1:0");
    config.rate_limit = None;
    let err = warroom::server::start(config).await.unwrap_err();
    assert!(format!("{err:#}").contains("already using"), "{err:#}");
    srv.stop().await;
}

/// Issue 12: the document is generated with the router (utoipa-axum), and
/// every operation it lists is served: asked with the admin token, none gets
/// the unknown-path 404 or the wrong-method 405, and every error answer is in
/// the operation's documented statuses.
#[tokio::test]
async fn every_documented_operation_is_routed_and_answers_a_documented_status() {
    let srv = start(|_| {}).await;
    let spec: Value = srv
        .http
        .get(format!("{}/api/v1/openapi.json", srv.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut asked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let url = format!(
                "{}{}",
                srv.url,
                path.replace("{reference}", "INC-999")
                    .replace("{name}", "nobody")
            );
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut req = srv
                .http
                .request(method.clone(), &url)
                .bearer_auth(&srv.admin);
            if op.get("requestBody").is_some() {
                req = req.body("{}");
            }
            let resp = req.send().await.unwrap();
            let status = resp.status();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            let documented = op["responses"]
                .as_object()
                .unwrap()
                .contains_key(status.as_str());
            assert!(
                documented,
                "{method} {path} answered {status}, not documented"
            );
            if status == StatusCode::NOT_FOUND {
                let body: Value = resp.json().await.unwrap();
                assert!(
                    !body["error"]
                        .as_str()
                        .unwrap_or("")
                        .starts_with("no such endpoint"),
                    "{method} {path} is documented but not routed: {body}"
                );
            }
            asked += 1;
        }
    }
    assert_eq!(asked, 16);
    srv.stop().await;
}
