//! `warroom declare` through a proxy that loses the answer: the command is
//! retried under the same id, so one run declares exactly one incident.
#![allow(clippy::unwrap_used)]

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use warroom::cli::act::{ActCmd, run};
use warroom::client::Api;
use warroom::domain::command::Access;
use warroom::server::{self, ServerConfig};

struct Proxy {
    upstream: String,
    http: reqwest::Client,
    /// Commands forwarded so far; the first one's answer is replaced by a 502.
    commands: AtomicUsize,
}

async fn forward(State(p): State<Arc<Proxy>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let path = parts.uri.path_and_query().unwrap().as_str().to_string();
    let mut up = p
        .http
        .request(parts.method.clone(), format!("{}{path}", p.upstream))
        .body(body);
    for (k, v) in &parts.headers {
        if k != "host" && k != "content-length" {
            up = up.header(k, v);
        }
    }
    let resp = up.send().await.unwrap();
    let status = resp.status();
    let bytes = resp.bytes().await.unwrap();
    if path == "/api/v1/commands" && p.commands.fetch_add(1, Ordering::SeqCst) == 0 {
        // The server stored it; the gateway gave up waiting for the answer.
        return (StatusCode::BAD_GATEWAY, "upstream timed out").into_response();
    }
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(bytes))
        .unwrap()
}

#[tokio::test]
async fn a_declare_whose_answer_is_lost_is_retried_once_and_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(dir.path().join("warroom.db"), "127.0.0.1:0");
    config.bootstrap_token = Some(("alice".into(), Access::Admin));
    let srv = server::start(config).await.unwrap();
    let token = srv.local_token().unwrap().to_string();

    let proxy = Arc::new(Proxy {
        upstream: srv.url(),
        http: reqwest::Client::new(),
        commands: AtomicUsize::new(0),
    });
    let app = axum::Router::new()
        .fallback(forward)
        .with_state(proxy.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let api = Api::new(&format!("http://{addr}"), &token).unwrap();
    let code = run(
        &api,
        ActCmd::Declare {
            title: "Checkout down".into(),
            severity: "P1".into(),
            kind: None,
            impact: Default::default(),
        },
    )
    .await
    .unwrap();
    assert_eq!(code, 0, "the lost answer was reported as a failure");
    assert_eq!(proxy.commands.load(Ordering::SeqCst), 2);

    let direct = Api::new(&srv.url(), &token).unwrap();
    let list = direct.incidents(true).await.unwrap();
    assert_eq!(list.incidents.len(), 1, "one run, one incident");
    srv.shutdown().await.unwrap();
}
