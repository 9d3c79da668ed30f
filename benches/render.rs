//! Frame budget (DESIGN.md: ≤ 2 ms): one 200×50 frame of the war room with a
//! 100,000-event timeline, and of the board with 1,000 incidents, drawn into a
//! `TestBackend` (layout, widgets, buffer diff — everything but the terminal).
//!
//! Also the idle work of one 1 s tick on the board (budget: < 1 % of a core,
//! i.e. well under 10 ms per tick).
//!
//! Run: `cargo bench --bench render`.

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use uuid::Uuid;
use warroom::client::Replica;
use warroom::domain::command::{Access, Action, Command};
use warroom::domain::event::{NoteKind, Recorded};
use warroom::domain::{Policy, decide};
use warroom::tui::msg::{LinkState, Msg};
use warroom::tui::update::key;
use warroom::tui::{Identity, Model, Theme, update, view};

/// 1,000 incidents; the first has a 100,000-event timeline.
fn model() -> Model {
    let policy = Policy::builtin_default();
    let mut replica = Replica::default();
    let t0 = Utc
        .with_ymd_and_hms(2026, 3, 14, 9, 0, 0)
        .single()
        .unwrap_or_default();
    let mut seq = 0;
    let mut n = 0u64;
    let mut run = |replica: &mut Replica, incident: Option<String>, action: Action, at| {
        n += 1;
        let cmd = Command {
            id: Uuid::new_v5(&Uuid::NAMESPACE_OID, &n.to_be_bytes()),
            incident,
            action,
            occurred_at: None,
        };
        let events = decide(&replica.world, &policy, &cmd, "bench", at).unwrap_or_default();
        for event in events {
            seq += 1;
            replica.apply(Recorded {
                seq,
                recorded_at: at,
                event,
            });
        }
    };
    let sevs = ["P1", "P2", "P3", "P4"];
    for i in 0..1000 {
        run(
            &mut replica,
            None,
            Action::Declare {
                title: format!(
                    "Incident number {i}: something is on fire in region {}",
                    i % 7
                ),
                severity: sevs[i % 4].into(),
                kind: None,
                impact: None,
                commander: None,
            },
            t0 + Duration::seconds(i as i64),
        );
    }
    for i in 0..100_000 {
        run(
            &mut replica,
            Some("INC-1".into()),
            Action::Note {
                kind: if i % 10 == 0 {
                    NoteKind::Decision
                } else {
                    NoteKind::Note
                },
                text: format!("timeline entry {i}: observed error rate {}%", i % 100),
            },
            t0 + Duration::seconds(1000 + i / 10),
        );
    }
    let now = t0 + Duration::hours(3);
    let mut m = Model::new(
        replica,
        policy,
        Identity {
            name: "alice".into(),
            role: Access::Commander,
        },
        "https://warroom.example.net",
        now,
        Uuid::NAMESPACE_URL,
    );
    m.link = LinkState::Live;
    update(&mut m, Msg::Resize(200, 50));
    m
}

fn bench(c: &mut Criterion) {
    let mut m = model();
    let theme = Theme::embedded("dark").unwrap_or_else(|| Theme::load("dark", None).0);
    let mut term = match Terminal::new(TestBackend::new(200, 50)) {
        Ok(t) => t,
        Err(e) => panic!("test backend: {e}"),
    };
    c.bench_function("board 200x50, 1000 incidents", |b| {
        b.iter(|| {
            term.draw(|f| view(black_box(&m), &theme, f))
                .map(|_| ())
                .unwrap_or(());
        })
    });
    // The idle work: one 1 s tick on the board (re-sorts 1,000 incidents by their clocks).
    let mut t = m.now;
    c.bench_function("tick on the board, 1000 incidents", |b| {
        b.iter(|| {
            t += Duration::seconds(1);
            black_box(update(&mut m, Msg::Tick(t)));
        })
    });
    // The war room of INC-1 (100,000 entries), scrolled to the middle.
    let inc1 = m.replica.world.resolve("INC-1").map(|i| i.id);
    if let Some(pos) = m.board.order.iter().position(|id| Some(*id) == inc1) {
        m.board.selected = pos;
    }
    update(&mut m, key(crossterm::event::KeyCode::Enter));
    for _ in 0..1000 {
        update(&mut m, key(crossterm::event::KeyCode::PageUp));
    }
    let len = m.room().map_or(0, |r| m.replica.timeline_len(&r.incident));
    assert!(
        len > 100_000,
        "the war room shows the 100k timeline ({len})"
    );
    c.bench_function("war room 200x50, 100k timeline", |b| {
        b.iter(|| {
            term.draw(|f| view(black_box(&m), &theme, f))
                .map(|_| ())
                .unwrap_or(());
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
