//! Durability with the real binary: `warroom serve` is SIGKILLed in the middle
//! of a stream of concurrent commands and restarted on the same file. Every
//! command that got a 2xx must be there, at the seq it was given, and the log
//! must be gap-free. Also: SIGTERM shuts down cleanly, and the token CLI.
#![allow(clippy::unwrap_used)]

use crate::support::server::{all_events, cmd, http};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

/// Starts `warroom serve` on port 0 and returns the child and its URL, read
/// from the "listening on" line; the rest of stderr is collected in the background.
fn serve(db: &Path) -> (Child, String, Arc<std::sync::Mutex<String>>) {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "0",
            "--db",
        ])
        .arg(db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        if let Some(url) = line.strip_prefix("warroom: listening on ") {
            break url.trim().to_string();
        }
    };
    let log = Arc::new(std::sync::Mutex::new(String::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let mut l = sink.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
    (child, url, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_no_acknowledged_command_and_seqs_stay_gap_free() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warroom.db");
    let token = crate::support::pty::token(&db, "ops", "commander");
    let (mut child, url, _log) = serve(&db);
    let http = http();

    let declare = cmd(
        None,
        json!({ "type": "declare", "title": "Crash test", "severity": "P2" }),
    );
    let resp = http
        .post(format!("{url}/api/v1/commands"))
        .bearer_auth(&token)
        .json(&declare)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);

    // 16 writers post notes as fast as they can; each remembers what was acknowledged.
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..16 {
        let (http, url, token, stop) = (http.clone(), url.clone(), token.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut acked: Vec<(Uuid, Vec<Value>)> = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let id = Uuid::new_v4();
                let body = crate::support::server::cmd_with_id(
                    id,
                    Some("INC-1"),
                    json!({ "type": "note", "text": format!("writer {w} note {i}") }),
                );
                i += 1;
                let sent = http
                    .post(format!("{url}/api/v1/commands"))
                    .bearer_auth(&token)
                    .json(&body)
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await;
                let Ok(resp) = sent else { break };
                if !resp.status().is_success() {
                    panic!("unexpected {}", resp.status());
                }
                // A 2xx whose body is cut off by the kill never reached the client: not counted.
                let Ok(result) = resp.json::<Value>().await else {
                    break;
                };
                acked.push((id, result["events"].as_array().unwrap().clone()));
            }
            acked
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    child.kill().unwrap(); // SIGKILL: no chance to flush anything
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    eprintln!("{} commands acknowledged before the kill", acked.len());
    assert!(
        acked.len() > 50,
        "only {} commands acknowledged before the kill",
        acked.len()
    );

    // Restart on the same file.
    let (mut child, url, log) = serve(&db);
    let events = all_events(&http, &url, &token).await;
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "gap-free from 1"
    );
    let by_id: BTreeMap<String, &Value> = events
        .iter()
        .map(|e| (e["id"].as_str().unwrap().to_string(), e))
        .collect();
    for (id, stored) in &acked {
        for ev in stored {
            let found = by_id
                .get(ev["id"].as_str().unwrap())
                .unwrap_or_else(|| panic!("acknowledged command {id} lost"));
            assert_eq!(found["seq"], ev["seq"], "same seq after the restart");
            assert_eq!(found["text"], ev["text"]);
        }
    }

    // A retry of an acknowledged command after the restart is a duplicate.
    let (id, stored) = &acked[acked.len() / 2];
    let retry = crate::support::server::cmd_with_id(
        *id,
        Some("INC-1"),
        json!({ "type": "note", "text": stored[0]["text"].clone() }),
    );
    let resp = http
        .post(format!("{url}/api/v1/commands"))
        .bearer_auth(&token)
        .json(&retry)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["duplicate"], true);
    assert_eq!(body["events"][0]["seq"], stored[0]["seq"]);

    // SIGTERM: a clean exit.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = wait_with_timeout(&mut child, Duration::from_secs(10));
    assert!(
        exit.success(),
        "serve exited with {exit:?}; log:\n{}",
        log.lock().unwrap()
    );
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("the server did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn token_cli_creates_lists_and_revokes_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let secret = crate::support::pty::token(&db, "alice", "admin");
    assert_eq!(secret.len(), 67);
    // Only the hash is stored.
    let raw = std::fs::read(&db).unwrap();
    let needle = secret.as_bytes();
    assert!(
        !raw.windows(needle.len()).any(|w| w == needle),
        "secret found in the database"
    );

    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .arg("--db")
            .arg(&db)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, _, err) = run(&["token", "create", "--name", "alice", "--role", "viewer"]);
    assert_ne!(code, 0);
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = run(&["token", "create", "--name", "bob", "--role", "overlord"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("[possible values: integration, viewer, responder, commander, admin]"),
        "{err}"
    );
    let (code, _, err) = run(&["token", "create", "--name", "bad name", "--role", "viewer"]);
    assert_eq!(code, 2);
    assert!(err.contains("--name"), "{err}");

    let (code, _, _) = run(&["token", "create", "--name", "bob", "--role", "responder"]);
    assert_eq!(code, 0);
    let (code, out, _) = run(&["token", "list"]);
    assert_eq!(code, 0);
    assert!(out.contains("alice") && out.contains("admin"), "{out}");
    assert!(out.contains("bob") && out.contains("responder"), "{out}");
    assert!(!out.contains("wr_"), "secrets never listed");

    let (code, _, _) = run(&["token", "revoke", "bob"]);
    assert_eq!(code, 0);
    let (code, out, _) = run(&["token", "list"]);
    assert_eq!(code, 0);
    let bob = out.lines().find(|l| l.starts_with("bob")).unwrap();
    assert!(bob.contains("revoked"), "{out}");
    let (code, _, err) = run(&["token", "revoke", "bob"]);
    assert_eq!(code, 1);
    assert!(err.contains("no live token"), "{err}");

    // A mistyped --db is not silently created.
    let missing = dir.path().join("typo.db");
    let out = Command::new(BIN)
        .args(["token", "list", "--db"])
        .arg(&missing)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no database at"));
    assert!(!missing.exists());
}
