//! Alert storm bench (`cargo bench --bench alert_storm`): 10,000 alerts in 100
//! groups within 10 s, posted to `POST /api/v1/ingest/alertmanager` the way
//! Alertmanager sends them — each notification carries every alert of its
//! group so far (1 to 100 alerts), so most of an alert's content arrives many
//! times and only the new alert is a change.
//!
//! The real server (library API) on a temporary SQLite file (WAL,
//! `synchronous=FULL`) on loopback, on its own tokio runtime; the senders (32
//! concurrent, paced at 1,000 notifications/s) on another. Meanwhile a scribe
//! posts a note to an open incident every 20 ms: the war room must stay live.
//!
//! Budget (DESIGN.md): p99 ingest answer < 20 ms; 100 incidents or triage
//! items, not 10,000. Knobs: `WARROOM_STORM_ALERTS` (default 10000),
//! `WARROOM_STORM_GROUPS` (100), `WARROOM_STORM_SECS` (10).

use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use warroom::domain::command::Access;
use warroom::server::{self, ServerConfig};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn alert(group: u64, n: u64) -> Value {
    json!({
        "status": "firing",
        "labels": {
            "alertname": format!("Storm{group}"),
            "severity": "critical",
            "service": format!("svc-{group}"),
            "instance": format!("host-{n}.example:9100"),
            "job": "node",
        },
        "annotations": {"summary": format!("storm alert {n} of group {group}")},
        "startsAt": "2026-11-23T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example/graph?g0.expr=up",
        "fingerprint": format!("{group:04x}{n:08x}"),
    })
}

fn main() -> anyhow::Result<()> {
    let total = env("WARROOM_STORM_ALERTS", 10_000);
    let groups = env("WARROOM_STORM_GROUPS", 100).max(1);
    let secs = env("WARROOM_STORM_SECS", 10).max(1);

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    let mut config = ServerConfig::new(dir.path().join("storm.db"), "127.0.0.1:0");
    config.rate_limit = None;
    config.bootstrap_token = Some(("bench".into(), Access::Admin));
    let server = server_rt.block_on(server::start(config))?;
    let url = server.url();
    let admin = server.local_token().unwrap_or_default().to_string();

    client_rt.block_on(async move {
        let http = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
        let token: Value = http
            .post(format!("{url}/api/v1/tokens"))
            .bearer_auth(&admin)
            .json(&json!({"name": "alertmanager", "role": "integration"}))
            .send()
            .await?
            .json()
            .await?;
        let am_token = token["token"].as_str().unwrap_or_default().to_string();
        let declared: Value = http
            .post(format!("{url}/api/v1/commands"))
            .bearer_auth(&admin)
            .json(&json!({"id": uuid::Uuid::new_v4(), "action": {"type": "declare", "title": "the war room during the storm", "severity": "P1"}}))
            .send()
            .await?
            .json()
            .await?;
        let room = declared["events"][0]["incident"].as_str().unwrap_or_default().to_string();

        // Pre-built bodies: the senders measure the server, not serde.
        let per_group = total.div_ceil(groups);
        let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
            (0..total)
                .map(|i| {
                    let g = i % groups;
                    let upto = i / groups;
                    let alerts: Vec<Value> = (0..=upto.min(per_group - 1)).map(|n| alert(g, n)).collect();
                    serde_json::to_vec(&json!({
                        "version": "4", "groupKey": format!("{{}}:{{alertname=\"Storm{g}\"}}"),
                        "status": "firing", "receiver": "warroom", "truncatedAlerts": 0,
                        "groupLabels": {"alertname": format!("Storm{g}")}, "commonLabels": {},
                        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
                        "alerts": alerts,
                    }))
                    .unwrap_or_default()
                })
                .collect(),
        );
        let bytes: usize = bodies.iter().map(Vec::len).sum();

        let senders = 32u64;
        let gap = Duration::from_secs(secs).as_secs_f64() / total as f64;
        let start = Instant::now() + Duration::from_millis(200);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let scribe = {
            let (http, url, admin, room, stop) = (http.clone(), url.clone(), admin.clone(), room.clone(), stop.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                tokio::time::sleep_until(start.into()).await;
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let t = Instant::now();
                    let r = http
                        .post(format!("{url}/api/v1/commands"))
                        .bearer_auth(&admin)
                        .json(&json!({"id": uuid::Uuid::new_v4(), "incident": room, "action": {"type": "note", "text": format!("scribe note {n}")}}))
                        .send()
                        .await;
                    if r.is_ok_and(|r| r.status().is_success()) {
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                lat
            })
        };
        let mut tasks = Vec::new();
        for s in 0..senders {
            let (http, url, token, bodies) = (http.clone(), url.clone(), am_token.clone(), bodies.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut failed = 0u64;
                let mut why = std::collections::BTreeMap::<String, u64>::new();
                let mut i = s;
                while i < total {
                    let due = start + Duration::from_secs_f64(gap * i as f64);
                    tokio::time::sleep_until(due.into()).await;
                    let t = Instant::now();
                    let r = http
                        .post(format!("{url}/api/v1/ingest/alertmanager"))
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(bodies[i as usize].clone())
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().is_success() => lat.push(t.elapsed().as_secs_f64() * 1000.0),
                        Ok(r) => {
                            failed += 1;
                            let status = r.status();
                            let body = r.text().await.unwrap_or_default();
                            *why.entry(format!("{status} {}", body.chars().take(120).collect::<String>())).or_default() += 1;
                        }
                        Err(e) => {
                            failed += 1;
                            *why.entry(format!("transport: {e}")).or_default() += 1;
                        }
                    }
                    i += senders;
                }
                (lat, failed, why)
            }));
        }
        let mut all = Vec::new();
        let mut failed = 0;
        let mut why = std::collections::BTreeMap::<String, u64>::new();
        for t in tasks {
            let (lat, f, w) = t.await?;
            all.extend(lat);
            failed += f;
            for (k, v) in w {
                *why.entry(k).or_default() += v;
            }
        }
        for (k, v) in &why {
            eprintln!("failed ×{v}: {k}");
        }
        let took = start.elapsed();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut notes = scribe.await?;
        all.sort_by(f64::total_cmp);
        notes.sort_by(f64::total_cmp);

        let board: Value = http
            .get(format!("{url}/api/v1/incidents"))
            .bearer_auth(&admin)
            .send()
            .await?
            .json()
            .await?;
        let triage = board["triage"].as_array().map_or(0, Vec::len);
        let incidents = board["incidents"].as_array().map_or(0, Vec::len) - 1;
        let firing: u64 = board["triage"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| t["alerts"]["firing"].as_u64().unwrap_or(0))
            .sum();

        let p99 = percentile(&all, 0.99);
        println!("alert storm: {total} alerts in {groups} groups, {} notifications ({:.1} MB of JSON) in {:.2} s, {failed} failed", all.len() + failed as usize, bytes as f64 / 1e6, took.as_secs_f64());
        println!();
        println!("| notifications | alerts | groups | wall s | ingest p50 ms | ingest p99 ms | max ms | incidents + triage items | alerts firing | scribe note p50 / p99 ms | budget |");
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
        println!(
            "| {} | {total} | {groups} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {firing} | {:.2} / {:.2} | p99 < 20 ms, {groups} items: {} |",
            all.len(),
            took.as_secs_f64(),
            percentile(&all, 0.5),
            p99,
            all.last().copied().unwrap_or(f64::NAN),
            incidents + triage,
            percentile(&notes, 0.5),
            percentile(&notes, 0.99),
            if p99 < 20.0 && incidents + triage == groups as usize && failed == 0 { "met" } else { "MISSED" },
        );
        anyhow::Ok(())
    })?;
    server_rt.block_on(server.shutdown())?;
    Ok(())
}
