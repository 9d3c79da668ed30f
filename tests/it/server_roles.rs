//! Hand-offs over real HTTP: assigning a held role offers it, the person
//! offered it (even with a responder token) accepts or declines, and nobody
//! else can answer for them.
#![allow(clippy::unwrap_used)]

use crate::support::server::{cmd, start};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn incident(srv: &crate::support::server::Srv, token: &str, key: &str) -> Value {
    let (status, detail) = srv.get(token, &format!("/api/v1/incidents/{key}")).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    detail["incident"]["incident"].clone()
}

#[tokio::test]
async fn a_hand_off_waits_for_the_incoming_person_who_accepts_or_declines() {
    let srv = start(|_| {}).await;
    let alice = srv.token("alice", "commander").await;
    let bob = srv.token("bob", "responder").await;
    let carol = srv.token("carol", "commander").await;
    let key = srv.declare(&alice, "API down", "P1").await;
    let offer = |to: &str| {
        cmd(
            Some(&key),
            json!({"type": "assign_role", "role": "ic", "person": to, "note": "shift ends"}),
        )
    };

    let (status, out) = srv.command(&alice, offer("bob")).await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    assert_eq!(out["events"][0]["type"], "role_offered");
    let inc = incident(&srv, &alice, &key).await;
    assert_eq!(
        inc["roles"]["ic"], "alice",
        "alice keeps it until bob accepts"
    );
    assert_eq!(inc["offers"]["ic"]["to"], "bob");

    // Nobody but bob answers: 409 with the reason in words.
    let accept = cmd(Some(&key), json!({"type": "accept_role", "role": "ic"}));
    let (status, out) = srv.command(&carol, accept.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{out}");
    assert_eq!(
        out["error"],
        "ic was offered to bob; only bob can accept or decline it"
    );

    // bob declines: alice keeps it; offered again, he accepts (a responder token may).
    let (status, out) = srv
        .command(
            &bob,
            cmd(
                Some(&key),
                json!({"type": "decline_role", "role": "ic", "reason": "on another bridge"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let inc = incident(&srv, &alice, &key).await;
    assert_eq!(
        (inc["roles"]["ic"].as_str(), &inc["offers"]),
        (Some("alice"), &json!({}))
    );

    srv.command(&alice, offer("bob")).await;
    let (status, out) = srv.command(&bob, accept.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    assert_eq!(out["events"][0]["type"], "role_handed_off");
    assert_eq!(out["events"][0]["note"], "shift ends");
    let inc = incident(&srv, &alice, &key).await;
    assert_eq!(inc["roles"]["ic"], "bob");

    // A new command (the same id again would be the stored answer, 200).
    let again = cmd(Some(&key), json!({"type": "accept_role", "role": "ic"}));
    let (status, out) = srv.command(&bob, again).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(out["error"], "nobody has been offered ic");
}
