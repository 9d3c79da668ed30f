//! The public status page over real HTTP: a real server on 127.0.0.1:0 with a
//! real SQLite file, no token on any status request. Checks the Statuspage v2
//! JSON field by field, the Atom feed with a real feed parser (`feed-rs`),
//! escaping, conditional GET, the live stream's latency, the separate
//! listener, and that nothing internal ever reaches a public document.
#![allow(clippy::unwrap_used)]

use crate::support::server::{Srv, cmd, start};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use warroom::domain::policy::Policy;

/// The test policy plus a `[status_page]`: two components, P3 not public.
fn policy() -> Policy {
    let text = format!(
        "{}\n{}",
        crate::support::server::policy_toml(false),
        r#"
[status_page]
name = "Acme Status"
url = "https://status.acme.test"
public_severities = ["P1", "P2"]

[[status_page.components]]
service = "checkout-api"
name = "Checkout"
description = "Paying for things"

[[status_page.components]]
service = "search"
name = "Search"
"#
    );
    Policy::from_toml(&text).unwrap()
}

async fn server() -> Srv {
    start(|c| c.policy = policy()).await
}

const XSS_TITLE: &str = "Checkout <script>alert('title')</script> & \"friends\"";
const XSS_POST: &str = "We are investigating.\n<img src=x onerror=alert('post')> <b>bold</b>";
const SECRET_NOTE: &str = "db password is hunter2";
const SECRET_CUSTOMER: &str = "Dear bigcustomer@example.com";
const SECRET_INTERNAL: &str = "internal: blame the intern";
const SECRET_SUMMARY: &str = "internal impact summary";

/// Declares a P1 on checkout-api and fills it with internal material, then
/// one status-page post (the XSS payload). Returns the incident's UUID.
async fn p1_with_secrets(s: &Srv) -> String {
    let (st, body) = s
        .command(
            &s.admin,
            cmd(
                None,
                json!({ "type": "declare", "title": XSS_TITLE, "severity": "P1",
                        "impact": { "summary": SECRET_SUMMARY, "services": ["checkout-api"],
                                    "customers": "bigcustomer@example.com" } }),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let id = body["events"][0]["incident"].as_str().unwrap().to_string();
    for action in [
        json!({ "type": "note", "text": SECRET_NOTE }),
        json!({ "type": "post_update", "channel": "internal", "text": SECRET_INTERNAL }),
        json!({ "type": "post_update", "channel": "customer", "text": SECRET_CUSTOMER }),
        json!({ "type": "post_update", "channel": "status_page", "state": "investigating", "text": XSS_POST }),
    ] {
        let (st, body) = s.command(&s.admin, cmd(Some(&id), action)).await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
    }
    json_when(s, "/status/api/v2/summary.json", |v| {
        v["incidents"][0]["incident_updates"][0]["body"] == XSS_POST
    })
    .await;
    id
}

/// The page follows the log asynchronously (never slowing a command): poll
/// until `ready` holds, for at most a second (the budget the issue sets).
async fn json_when(s: &Srv, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let v = json_of(s, path).await;
        if ready(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{path} never got there: {v}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn get(s: &Srv, path: &str) -> reqwest::Response {
    // No bearer token: the page is public.
    s.http.get(format!("{}{path}", s.url)).send().await.unwrap()
}

async fn json_of(s: &Srv, path: &str) -> Value {
    let r = get(s, path).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    assert_eq!(r.headers()["content-type"], "application/json", "{path}");
    r.json().await.unwrap()
}

fn is_ts(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

fn check_page(page: &Value) {
    assert_eq!(page["name"], "Acme Status");
    assert_eq!(page["url"], "https://status.acme.test/");
    assert_eq!(page["time_zone"], "Etc/UTC");
    assert!(page["id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(is_ts(&page["updated_at"]), "{page}");
    let keys: Vec<&str> = page
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
}

fn check_component(c: &Value, page_id: &Value, name: &str, status: &str, position: u64) {
    assert_eq!(c["name"], name, "{c}");
    assert_eq!(c["status"], status, "{c}");
    assert_eq!(c["position"], position, "{c}");
    assert_eq!(c["page_id"], *page_id);
    assert_eq!(c["group"], false);
    assert_eq!(c["group_id"], Value::Null);
    assert_eq!(c["only_show_if_degraded"], false);
    assert!(c["showcase"].is_boolean());
    assert!(c["id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(is_ts(&c["created_at"]) && is_ts(&c["updated_at"]), "{c}");
    assert!(c.get("description").is_some() && c.get("start_date").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuspage_v2_json_field_by_field() {
    let s = server().await;
    // Before anything: operational, empty lists.
    let status = json_of(&s, "/status/api/v2/status.json").await;
    assert_eq!(status["status"]["indicator"], "none");
    assert_eq!(status["status"]["description"], "All Systems Operational");
    check_page(&status["page"]);

    let id = p1_with_secrets(&s).await;
    let simple = id.replace('-', "");
    // A P3 with a post stays private (not a public severity).
    let (_, b) = s
        .command(
            &s.admin,
            cmd(
                None,
                json!({ "type": "declare", "title": "Search slow", "severity": "P3",
                               "impact": { "services": ["search"] } }),
            ),
        )
        .await;
    let p3 = b["events"][0]["incident"].as_str().unwrap().to_string();
    s.command(
        &s.admin,
        cmd(
            Some(&p3),
            json!({ "type": "post_update", "channel": "status_page", "text": "p3 post" }),
        ),
    )
    .await;
    // Nothing public follows to wait for: give the follower its (sub-ms) moment.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let sum = json_of(&s, "/status/api/v2/summary.json").await;
    let keys: Vec<&str> = sum
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // serde_json's map is sorted: the set of keys is what matters.
    assert_eq!(
        keys,
        [
            "components",
            "incidents",
            "page",
            "scheduled_maintenances",
            "status"
        ]
    );
    check_page(&sum["page"]);
    let page_id = sum["page"]["id"].clone();
    assert_eq!(sum["status"]["indicator"], "critical");
    assert_eq!(sum["status"]["description"], "Major Service Outage");
    assert_eq!(sum["scheduled_maintenances"], json!([]));
    let comps = sum["components"].as_array().unwrap();
    assert_eq!(comps.len(), 2);
    check_component(&comps[0], &page_id, "Checkout", "major_outage", 1);
    assert_eq!(comps[0]["description"], "Paying for things");
    check_component(&comps[1], &page_id, "Search", "operational", 2);

    let incs = sum["incidents"].as_array().unwrap();
    assert_eq!(incs.len(), 1, "only the public P1: {incs:?}");
    let inc = &incs[0];
    assert_eq!(inc["id"], simple);
    assert_eq!(inc["name"], XSS_TITLE);
    assert_eq!(inc["status"], "investigating");
    assert_eq!(inc["impact"], "critical");
    assert_eq!(inc["page_id"], page_id);
    assert_eq!(inc["monitoring_at"], Value::Null);
    assert_eq!(inc["resolved_at"], Value::Null);
    assert_eq!(
        inc["shortlink"],
        format!("https://status.acme.test/#incident-{simple}")
    );
    for k in ["created_at", "updated_at", "started_at"] {
        assert!(is_ts(&inc[k]), "{k}: {inc}");
    }
    let ups = inc["incident_updates"].as_array().unwrap();
    assert_eq!(ups.len(), 1, "only the status-page post: {ups:?}");
    let up = &ups[0];
    assert_eq!(up["status"], "investigating");
    assert_eq!(up["body"], XSS_POST);
    assert_eq!(up["incident_id"], simple);
    for k in ["created_at", "updated_at", "display_at"] {
        assert!(is_ts(&up[k]), "{k}");
    }
    assert_eq!(up["custom_tweet"], Value::Null);
    assert_eq!(up["tweet_id"], Value::Null);
    assert!(up["deliver_notifications"].is_boolean());
    assert!(up.get("affected_components").is_some());
    let ic = inc["components"].as_array().unwrap();
    assert_eq!(ic.len(), 1);
    check_component(&ic[0], &page_id, "Checkout", "major_outage", 1);

    let comps_doc = json_of(&s, "/status/api/v2/components.json").await;
    assert_eq!(comps_doc["components"], sum["components"]);
    check_page(&comps_doc["page"]);
    let unresolved = json_of(&s, "/status/api/v2/incidents/unresolved.json").await;
    assert_eq!(unresolved["incidents"], sum["incidents"]);
    for path in [
        "/status/api/v2/scheduled-maintenances.json",
        "/status/api/v2/scheduled-maintenances/upcoming.json",
        "/status/api/v2/scheduled-maintenances/active.json",
    ] {
        let m = json_of(&s, path).await;
        assert_eq!(m["scheduled_maintenances"], json!([]), "{path}");
        check_page(&m["page"]);
    }

    // Monitoring: the fix is in; the component is degraded, the page minor.
    s.command(
        &s.admin,
        cmd(
            Some(&id),
            json!({ "type": "post_update", "channel": "status_page", "state": "monitoring",
                              "text": "A fix has been implemented." }),
        ),
    )
    .await;
    let sum = json_when(&s, "/status/api/v2/summary.json", |v| {
        v["incidents"][0]["incident_updates"][0]["status"] == "monitoring"
    })
    .await;
    assert_eq!(sum["status"]["indicator"], "minor");
    assert_eq!(sum["components"][0]["status"], "degraded_performance");
    let inc = &sum["incidents"][0];
    assert_eq!(inc["status"], "monitoring");
    assert!(is_ts(&inc["monitoring_at"]));
    let ups = inc["incident_updates"].as_array().unwrap();
    assert_eq!(ups.len(), 2);
    assert_eq!(ups[0]["status"], "monitoring", "newest first");

    // Resolved: everything operational, the incident only in the history.
    let (st, b) = s
        .command(
            &s.admin,
            cmd(
                Some(&id),
                json!({ "type": "resolve", "summary": "done", "force": true }),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let sum = json_when(&s, "/status/api/v2/summary.json", |v| {
        v["incidents"] == json!([])
    })
    .await;
    assert_eq!(sum["status"]["indicator"], "none");
    assert_eq!(sum["incidents"], json!([]));
    assert_eq!(sum["components"][0]["status"], "operational");
    let all = json_of(&s, "/status/api/v2/incidents.json").await;
    let all = all["incidents"].as_array().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["status"], "resolved");
    assert!(is_ts(&all[0]["resolved_at"]));
}

/// Every public document, as text.
async fn every_document(s: &Srv) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in [
        "/status/",
        "/status/feed.atom",
        "/status/api/v2/summary.json",
        "/status/api/v2/incidents.json",
        "/status/api/v2/incidents/unresolved.json",
        "/status/api/v2/components.json",
        "/status/api/v2/status.json",
    ] {
        let r = get(s, path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        out.push((path.to_string(), r.text().await.unwrap()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_internal_reaches_a_public_document_and_markup_is_text() {
    let s = server().await;
    p1_with_secrets(&s).await;
    for (path, text) in every_document(&s).await {
        for secret in [
            SECRET_NOTE,
            SECRET_CUSTOMER,
            SECRET_INTERNAL,
            SECRET_SUMMARY,
            "bigcustomer",
            "admin",
        ] {
            assert!(!text.contains(secret), "{path} leaks {secret:?}");
        }
    }
    let html = get(&s, "/status/").await.text().await.unwrap();
    assert!(!html.contains("<script>alert"), "title markup executed");
    assert!(!html.contains("<img src=x"), "post markup executed");
    assert!(!html.contains("<b>bold</b>"));
    assert!(html.contains(
        "Checkout &lt;script&gt;alert('title')&lt;/script&gt; &amp; &quot;friends&quot;"
    ));
    assert!(html.contains("&lt;img src=x onerror=alert('post')&gt; &lt;b&gt;bold&lt;/b&gt;"));
    let atom = get(&s, "/status/feed.atom").await.text().await.unwrap();
    assert!(
        !atom.contains("<img src=x") && !atom.contains("<script>"),
        "{atom}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_has_landmarks_labels_and_a_strict_csp() {
    let s = server().await;
    p1_with_secrets(&s).await;
    let r = get(&s, "/status/").await;
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'sha256-"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let html = r.text().await.unwrap();
    for needle in [
        "<html lang=\"en\">",
        "<header>",
        "<main id=\"main\"",
        "<footer>",
        "Skip to content",
        "prefers-color-scheme:dark",
        "http-equiv=\"refresh\"",
        // Text labels beside colours.
        "Major outage",
        "Operational",
        "Major Service Outage",
        "% uptime over the last 90 days",
        "Investigating",
    ] {
        assert!(html.contains(needle), "missing {needle:?}");
    }
    // The bare prefix redirects to the page (relative links need the slash).
    let r = s
        .http
        .get(format!("{}/status", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.url().path(), "/status/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etag_answers_304_until_something_public_changes() {
    let s = server().await;
    let id = p1_with_secrets(&s).await;
    for path in [
        "/status/",
        "/status/api/v2/summary.json",
        "/status/feed.atom",
    ] {
        let r = get(&s, path).await;
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        assert_eq!(r.headers()["cache-control"], "public, max-age=5", "{path}");
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
        let again = s
            .http
            .get(format!("{}{path}", s.url))
            .header("If-None-Match", format!("\"other\", W/{etag}"))
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
        assert!(again.bytes().await.unwrap().is_empty());

        // An internal note changes nothing public: still 304.
        s.note(&s.admin, &id, "just internal").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let still = s
            .http
            .get(format!("{}{path}", s.url))
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(
            still.status(),
            StatusCode::NOT_MODIFIED,
            "{path} after a note"
        );
    }
    let etag = get(&s, "/status/api/v2/summary.json").await.headers()["etag"].clone();
    s.command(
        &s.admin,
        cmd(
            Some(&id),
            json!({ "type": "post_update", "channel": "status_page", "text": "news" }),
        ),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = s
        .http
        .get(format!("{}/status/api/v2/summary.json", s.url))
        .header("If-None-Match", etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_ne!(r.headers()["etag"], etag);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atom_feed_parses_with_a_real_feed_parser() {
    let s = server().await;
    let id = p1_with_secrets(&s).await;
    s.command(
        &s.admin,
        cmd(
            Some(&id),
            json!({ "type": "post_update", "channel": "status_page", "state": "identified",
                              "text": "Cause found: a faulty deploy." }),
        ),
    )
    .await;
    json_when(&s, "/status/api/v2/summary.json", |v| {
        v["incidents"][0]["incident_updates"][0]["body"] == "Cause found: a faulty deploy."
    })
    .await;
    let r = get(&s, "/status/feed.atom").await;
    assert_eq!(
        r.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    let body = r.bytes().await.unwrap();
    let feed = feed_rs::parser::parse(&body[..]).unwrap();
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(feed.title.unwrap().content, "Acme Status");
    assert_eq!(feed.entries.len(), 2, "two status-page posts, nothing else");
    let newest = &feed.entries[0];
    assert!(
        newest
            .title
            .as_ref()
            .unwrap()
            .content
            .ends_with("Identified")
    );
    assert_eq!(
        newest.content.as_ref().unwrap().body.as_deref(),
        Some("Cause found: a faulty deploy.")
    );
    assert!(newest.updated.is_some() && newest.published.is_some());
    let oldest = &feed.entries[1];
    assert_eq!(
        oldest.title.as_ref().unwrap().content,
        format!("{XSS_TITLE} — Investigating")
    );
    assert_eq!(
        oldest.content.as_ref().unwrap().body.as_deref(),
        Some(XSS_POST)
    );
    assert!(oldest.id.starts_with("urn:uuid:"), "{}", oldest.id);
    assert_eq!(
        oldest.links[0].href,
        format!("https://status.acme.test/#incident-{}", id.replace('-', ""))
    );
}

/// Reads `event:`/`data:` pairs from a raw SSE body, with the client's parser.
struct Events {
    body: futures_util::stream::BoxStream<'static, Result<warroom::client::sse::Event, String>>,
}

impl Events {
    async fn open(url: String) -> Events {
        let r = reqwest::Client::new().get(url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "text/event-stream");
        Events {
            body: warroom::client::sse::events(r.bytes_stream()).boxed(),
        }
    }

    /// The next (event, data); keep-alive comments are not events.
    async fn next(&mut self) -> (String, String) {
        let ev = self.body.next().await.expect("stream ended").unwrap();
        (ev.event, ev.data)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_reaches_the_stream_and_the_json_within_a_second() {
    let s = server().await;
    let id = p1_with_secrets(&s).await;
    let mut events = Events::open(format!("{}/status/stream", s.url)).await;
    let (event, version) = events.next().await;
    assert_eq!(event, "hello");
    assert!(version.parse::<u64>().is_ok(), "{version}");
    // Internal things are not on the public stream: the next event is the post.
    s.note(&s.admin, &id, SECRET_NOTE).await;
    let started = Instant::now();
    let (st, _) = s
        .command(
            &s.admin,
            cmd(
                Some(&id),
                json!({ "type": "post_update", "channel": "status_page", "state": "identified",
                                  "text": "Identified: a faulty deploy." }),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (event, data) = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            let e = events.next().await;
            if e.0 == "post" {
                return e;
            }
            assert_ne!(e.0, "hello");
        }
    })
    .await
    .expect("the post was not on the stream within a second");
    assert_eq!(event, "post");
    let post: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(post["body"], "Identified: a faulty deploy.");
    assert_eq!(post["status"], "identified");
    assert_eq!(post["incident_name"], XSS_TITLE);
    assert!(!data.contains(SECRET_NOTE) && !data.contains("admin"));
    // And the JSON already has it.
    let sum = json_of(&s, "/status/api/v2/summary.json").await;
    assert_eq!(
        sum["incidents"][0]["incident_updates"][0]["body"],
        "Identified: a faulty deploy."
    );
    let html = get(&s, "/status/").await.text().await.unwrap();
    assert!(html.contains("Identified: a faulty deploy."));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_has_its_own_listener_without_the_api() {
    let s = start(|c| {
        c.policy = policy();
        c.status_listen = Some("127.0.0.1:0".into());
    })
    .await;
    let running = s.server.as_ref().unwrap();
    let base = running.status_url();
    assert!(base.ends_with('/') && !base.contains("/status"), "{base}");
    p1_with_secrets(&s).await;
    let http = reqwest::Client::new();
    let page = http.get(&base).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Acme Status"));
    let sum: Value = http
        .get(format!("{base}api/v2/summary.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sum["incidents"][0]["name"], XSS_TITLE);
    // The API is not on the public listener.
    for path in [
        "api/v1/incidents",
        "api/v1/commands",
        "healthz",
        "api/v1/stream",
    ] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_survives_a_restart_from_the_log() {
    let s = server().await;
    p1_with_secrets(&s).await;
    let before = json_of(&s, "/status/api/v2/summary.json").await;
    let dir = s.stop().await;
    let s = crate::support::server::start_in(dir, |c| c.policy = policy()).await;
    let after = json_of(&s, "/status/api/v2/summary.json").await;
    assert_eq!(before["incidents"], after["incidents"]);
    assert_eq!(before["status"], after["status"]);
}
