//! The live stream (`GET /api/v1/stream`) over real HTTP: fan-out to several
//! subscribers, resume with `Last-Event-ID` without gap or duplicate,
//! heartbeats, explicit resync, and the end of streams on shutdown.
#![allow(clippy::unwrap_used)]

use crate::support::server::{Frame, Sse, start};
use reqwest::StatusCode;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

fn seq_of(f: &Frame) -> u64 {
    assert_eq!(f.event, "event", "{f:?}");
    let json = f.json();
    assert_eq!(f.id, json["seq"].as_u64(), "id: is the seq");
    f.id.unwrap()
}

/// Reads `n` events (skipping heartbeats) and returns their seqs.
async fn take(sse: &mut Sse, n: usize) -> Vec<u64> {
    let mut out = Vec::new();
    while out.len() < n {
        let f = sse.next_event(WAIT).await.expect("stream ended early");
        out.push(seq_of(&f));
    }
    out
}

#[tokio::test]
async fn two_subscribers_and_a_reconnect_gets_exactly_what_it_missed() {
    let srv = start(|_| {}).await;
    let admin = srv.admin.clone();
    let inc = srv.declare(&admin, "Payments failing", "P1").await; // seqs 1, 2

    // Both resume from seq 0: the backlog first, then live.
    let mut a = srv.stream(&admin, Some(0)).await;
    let mut b = srv.stream(&admin, Some(0)).await;
    assert_eq!(a.status, StatusCode::OK);
    // First frame is a heartbeat with the head of the log.
    let hb = a.next_within(WAIT).await.unwrap();
    assert_eq!(hb.event, "heartbeat");
    assert_eq!(hb.json()["latest_seq"], 2);
    assert!(hb.json()["server_time"].is_string());

    for i in 0..3 {
        srv.note(&admin, &inc, &format!("live {i}")).await; // seqs 3..=5
    }
    assert_eq!(take(&mut a, 5).await, vec![1, 2, 3, 4, 5]);
    assert_eq!(take(&mut b, 5).await, vec![1, 2, 3, 4, 5]);

    // B hangs up; events keep coming.
    drop(b);
    for i in 0..4 {
        srv.note(&admin, &inc, &format!("while away {i}")).await; // 6..=9
    }
    assert_eq!(take(&mut a, 4).await, vec![6, 7, 8, 9]);

    // B comes back with the last id it saw and gets exactly 6..=9, then live.
    let mut b = srv.stream(&admin, Some(5)).await;
    assert_eq!(take(&mut b, 4).await, vec![6, 7, 8, 9]);
    srv.note(&admin, &inc, "after reconnect").await; // 10
    assert_eq!(take(&mut b, 1).await, vec![10]);
    assert_eq!(take(&mut a, 1).await, vec![10]);
    let f = {
        // Nothing else is pending for B: the next frame is a heartbeat, not a repeat.
        let f = b.next_within(WAIT).await.unwrap();
        assert_eq!(f.event, "heartbeat", "{f:?}");
        f
    };
    assert_eq!(f.json()["latest_seq"], 10);

    // `?after=` works like the header.
    let mut c = Sse::open(&srv.http, &srv.url, &admin, None, Some(8)).await;
    assert_eq!(take(&mut c, 2).await, vec![9, 10]);
    srv.stop().await;
}

#[tokio::test]
async fn resume_under_concurrent_writes_has_no_gap_and_no_duplicate() {
    let srv = start(|_| {}).await;
    let admin = srv.admin.clone();
    let inc = srv.declare(&admin, "Cache stampede", "P2").await;
    // Writers keep committing while a subscriber connects mid-way.
    let writer = {
        let (http, url, token, inc) = (
            srv.http.clone(),
            srv.url.clone(),
            admin.clone(),
            inc.clone(),
        );
        tokio::spawn(async move {
            for i in 0..150 {
                let status =
                    crate::support::server::post_note(&http, &url, &token, &inc, &format!("w{i}"))
                        .await;
                assert_eq!(status, StatusCode::CREATED);
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut sub = srv.stream(&admin, Some(1)).await;
    writer.await.unwrap();
    let seqs = take(&mut sub, 151).await;
    assert_eq!(seqs, (2..=152).collect::<Vec<_>>());
    srv.stop().await;
}

#[tokio::test]
async fn resuming_from_a_seq_the_server_does_not_have_gets_resync() {
    let srv = start(|_| {}).await;
    let admin = srv.admin.clone();
    srv.declare(&admin, "Disk full", "P3").await;
    let mut s = srv.stream(&admin, Some(500)).await;
    let f = s.next_event(WAIT).await.unwrap();
    assert_eq!(f.event, "resync");
    assert_eq!(f.json()["latest_seq"], 2);
    assert!(f.json()["reason"].as_str().unwrap().contains("500"));
    assert!(
        s.next_within(WAIT).await.is_none(),
        "the stream ends after resync"
    );
    srv.stop().await;
}

#[tokio::test]
async fn a_subscriber_that_lags_the_broadcast_is_told_to_resync_never_skipped() {
    let srv = start(|c| c.broadcast_capacity = 16).await;
    let admin = srv.admin.clone();
    let inc = srv.declare(&admin, "Log flood", "P3").await;
    let mut slow = srv.stream(&admin, None).await;
    let hb = slow.next_within(WAIT).await.unwrap();
    assert_eq!(hb.event, "heartbeat");
    // The slow subscriber reads nothing while ~12 MB of events are committed,
    // more than the sockets buffer, so the server side falls behind the broadcast.
    let text = "x".repeat(15_000);
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (http, url, token, inc, text) = (
            srv.http.clone(),
            srv.url.clone(),
            admin.clone(),
            inc.clone(),
            text.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0..100 {
                let status = crate::support::server::post_note(
                    &http,
                    &url,
                    &token,
                    &inc,
                    &format!("{w}/{i} {text}"),
                )
                .await;
                assert_eq!(status, StatusCode::CREATED);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Now read: a contiguous run of events from seq 3, then an explicit resync, then the end.
    let mut expect = 3;
    loop {
        let f = slow
            .next_event(WAIT)
            .await
            .expect("stream ended without resync");
        if f.event == "resync" {
            let r = f.json();
            assert_eq!(r["latest_seq"], 802);
            assert!(r["reason"].as_str().unwrap().contains("behind"), "{r}");
            break;
        }
        assert_eq!(seq_of(&f), expect, "no gap before the resync");
        expect += 1;
    }
    assert!(expect < 803, "the subscriber did lag");
    assert!(slow.next_within(WAIT).await.is_none());
    srv.stop().await;
}

#[tokio::test]
async fn shutdown_ends_open_streams_with_a_shutdown_event() {
    let srv = start(|c| c.heartbeat = Duration::from_secs(60)).await;
    let admin = srv.admin.clone();
    let mut s1 = srv.stream(&admin, None).await;
    let mut s2 = srv.stream(&admin, None).await;
    assert_eq!(s1.next_within(WAIT).await.unwrap().event, "heartbeat");
    assert_eq!(s2.next_within(WAIT).await.unwrap().event, "heartbeat");
    let stopping = tokio::spawn(srv.stop());
    for s in [&mut s1, &mut s2] {
        let f = s.next_event(WAIT).await.unwrap();
        assert_eq!(f.event, "shutdown");
        assert!(s.next_within(WAIT).await.is_none(), "the stream closes");
    }
    // Graceful shutdown completes although the streams had been open.
    tokio::time::timeout(WAIT, stopping).await.unwrap().unwrap();
}

#[tokio::test]
async fn heartbeats_arrive_on_schedule_with_server_time() {
    let srv = start(|c| c.heartbeat = Duration::from_millis(100)).await;
    let mut s = srv.stream(&srv.admin, None).await;
    let started = std::time::Instant::now();
    let mut beats = 0;
    while beats < 4 {
        let f = s.next_within(WAIT).await.unwrap();
        assert_eq!(f.event, "heartbeat");
        let t = chrono::DateTime::parse_from_rfc3339(f.json()["server_time"].as_str().unwrap())
            .unwrap();
        let skew = (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
            .num_milliseconds()
            .abs();
        assert!(skew < 1000, "server_time is now-ish ({skew} ms)");
        beats += 1;
    }
    // One immediately, then three at ~100 ms.
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "{took:?}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn shutdown_is_not_held_hostage_by_a_client_that_stalls_mid_request() {
    use tokio::io::AsyncWriteExt;
    let srv = start(|c| c.heartbeat = Duration::from_secs(60)).await;
    // Headers promising a body that never comes (a client frozen, or suspended
    // with Ctrl-Z, in the middle of a request).
    let addr = srv.url.trim_start_matches("http://").to_string();
    let mut stalled = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/commands HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
        srv.admin
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // SIGTERM on `warroom serve` must still end the process.
    tokio::time::timeout(Duration::from_secs(20), srv.stop())
        .await
        .expect("shutdown waited forever for a stalled request");
    drop(stalled);
}
