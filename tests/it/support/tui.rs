//! Shared fixtures for the TUI tests: incidents built through the real
//! `decide` + `Replica::apply` on a fixed clock, a model at a fixed `now`, and
//! rendering into a `TestBackend`.
#![allow(dead_code, clippy::unwrap_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use uuid::Uuid;
use warroom::client::Replica;
use warroom::domain::command::{Access, Action, Command};
use warroom::domain::event::{Impact, NoteKind, Recorded, Status};
use warroom::domain::{Policy, decide};
use warroom::tui::msg::{Effect, Msg, SyncMsg};
use warroom::tui::update::key;
use warroom::tui::{Identity, Model, Theme, update, view};

/// 2026-03-14 09:00:00 UTC, a Saturday morning nobody wanted.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 14, 9, 0, 0).single().unwrap()
}

pub fn policy() -> Policy {
    Policy::builtin_default()
}

/// Builds a log through the domain's own rules.
pub struct Fixture {
    pub policy: Policy,
    pub replica: Replica,
    pub now: DateTime<Utc>,
    seq: u64,
    n: u64,
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture {
            policy: policy(),
            replica: Replica::default(),
            now: t0(),
            seq: 0,
            n: 0,
        }
    }

    /// Moves the clock to `t0 + secs`.
    pub fn at_secs(&mut self, secs: i64) -> &mut Self {
        self.now = t0() + Duration::seconds(secs);
        self
    }

    pub fn at(&mut self, minutes: i64) -> &mut Self {
        self.at_secs(minutes * 60)
    }

    pub fn events(&mut self, actor: &str, incident: Option<&str>, action: Action) -> Vec<Recorded> {
        self.n += 1;
        let cmd = Command {
            id: Uuid::new_v5(
                &Uuid::NAMESPACE_OID,
                format!("fixture-{}", self.n).as_bytes(),
            ),
            incident: incident.map(str::to_string),
            action,
            occurred_at: None,
        };
        let events = decide(&self.replica.world, &self.policy, &cmd, actor, self.now)
            .unwrap_or_else(|e| panic!("fixture command {cmd:?} refused: {e}"));
        events
            .into_iter()
            .map(|event| {
                self.seq += 1;
                Recorded {
                    seq: self.seq,
                    recorded_at: self.now,
                    event,
                }
            })
            .collect()
    }

    pub fn run(&mut self, actor: &str, incident: &str, action: Action) {
        for rec in self.events(actor, Some(incident), action) {
            self.replica.apply(rec);
        }
    }

    /// Declares and returns the key (`INC-n`).
    pub fn declare(
        &mut self,
        actor: &str,
        title: &str,
        severity: &str,
        kind: &str,
        impact: &str,
    ) -> String {
        let recs = self.events(
            actor,
            None,
            Action::Declare {
                title: title.into(),
                severity: severity.into(),
                kind: Some(kind.into()),
                impact: Some(Impact {
                    summary: impact.into(),
                    services: vec![],
                    customers: String::new(),
                    data_exposure: false,
                    bridge: String::new(),
                }),
                commander: None,
            },
        );
        let id = recs[0].event.incident;
        for r in recs {
            self.replica.apply(r);
        }
        self.replica.world.get(&id).unwrap().key()
    }

    pub fn note(&mut self, actor: &str, inc: &str, kind: NoteKind, text: &str) {
        self.run(
            actor,
            inc,
            Action::Note {
                kind,
                text: text.into(),
            },
        );
    }

    /// Applies an event as a server stored it, without `decide` (so without
    /// its sanitising): a log written by an older or a foreign server.
    pub fn inject(&mut self, actor: &str, key: &str, body: warroom::domain::event::EventBody) {
        self.n += 1;
        self.seq += 1;
        let incident = self.id_of(key);
        self.replica.apply(Recorded {
            seq: self.seq,
            recorded_at: self.now,
            event: warroom::domain::event::Event {
                id: Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("raw-{}", self.n).as_bytes()),
                incident,
                actor: actor.into(),
                occurred_at: self.now,
                body,
            },
        });
    }

    pub fn id_of(&self, key: &str) -> Uuid {
        self.replica.world.resolve(key).unwrap().id
    }

    /// A model of this log, as `name` with `role`, at the fixture's clock.
    pub fn model(self, name: &str, role: Access) -> Model {
        let mut m = Model::new(
            self.replica,
            self.policy,
            Identity {
                name: name.into(),
                role,
            },
            "https://warroom.example.net",
            self.now,
            Uuid::NAMESPACE_URL,
        );
        m.link = warroom::tui::msg::LinkState::Live;
        m.offset = Duration::milliseconds(300);
        m.now = self.now - m.offset;
        m.refresh_board();
        m
    }
}

/// The morning: a P1 API outage with a long history, a P2 and a P3 beside it.
pub fn war_room_fixture() -> Fixture {
    let mut f = Fixture::new();
    let api = f.declare(
        "alice",
        "API returns 503 for all customers",
        "P1",
        "availability",
        "All API calls fail; dashboards and CLI unusable",
    );
    f.at(1);
    f.note(
        "bob",
        &api,
        NoteKind::Observation,
        "Error rate jumped from 0.1% to 98% at 08:58 on every region",
    );
    f.at(2);
    f.run(
        "alice",
        &api,
        Action::AssignRole {
            role: "tech_lead".into(),
            person: "bob".into(),
            note: String::new(),
        },
    );
    f.run(
        "alice",
        &api,
        Action::AssignRole {
            role: "scribe".into(),
            person: "carol".into(),
            note: String::new(),
        },
    );
    f.at(7);
    f.run(
        "carol",
        &api,
        Action::SetChecklistItem {
            checklist: "triage".into(),
            item: "verified".into(),
            done: true,
            waive: None,
        },
    );
    f.note(
        "bob",
        &api,
        NoteKind::Note,
        "Load balancer health checks failing: upstream pool api-v2 has 0/12 healthy",
    );
    f.at(9);
    f.note(
        "alice",
        &api,
        NoteKind::Decision,
        "Roll back deploy 2026.03.14-1 on api-v2",
    );
    f.at(12);
    f.run(
        "alice",
        &api,
        Action::Escalate {
            to: None,
            reason: "Need DB on-call for connection pool limits".into(),
        },
    );
    f.run(
        "alice",
        &api,
        Action::Page {
            who: "dana".into(),
            reason: "DB on-call: connection pool exhausted".into(),
        },
    );
    f.at(14);
    f.note(
        "dana",
        &api,
        NoteKind::Note,
        "Primary DB at max_connections=500; new pods cannot connect",
    );
    f.run(
        "alice",
        &api,
        Action::AddActionItem {
            text: "Alert on DB connection saturation above 80%".into(),
            owner: Some("dana".into()),
            due: chrono::NaiveDate::from_ymd_opt(2026, 3, 20),
            priority: None,
        },
    );
    f.at(18);
    f.note(
        "bob",
        &api,
        NoteKind::Action,
        "Rollback started on api-v2 (3 of 12 pods replaced)",
    );
    let db = f.declare(
        "erin",
        "Replication lag on reporting replica",
        "P2",
        "data_integrity",
        "Reports up to 40 minutes stale",
    );
    f.at(20);
    f.run("erin", &db, Action::Acknowledge);
    f.run(
        "erin",
        &db,
        Action::SetStatus {
            status: Status::Identified,
        },
    );
    let low = f.declare(
        "frank",
        "Typo in the billing e-mail footer",
        "P4",
        "availability",
        "",
    );
    f.at(21);
    f.run("frank", &low, Action::Acknowledge);
    f.at(26);
    f
}

/// Renders the model into a `w`×`h` buffer with `theme`.
pub fn render(m: &Model, theme: &Theme, w: u16, h: u16) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| view(m, theme, f)).unwrap();
    term.backend().buffer().clone()
}

/// The buffer's text, one line per row, trailing spaces trimmed.
pub fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        let mut skip = 0;
        for x in 0..area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let cell = &buf[(x, y)];
            let sym = cell.symbol();
            line.push_str(sym);
            let w = ratatui::text::Span::raw(sym).width();
            if w > 1 {
                skip = w - 1;
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn dark() -> Theme {
    Theme::embedded("dark").unwrap()
}

/// Resizes the model (as the runtime would) and renders.
pub fn screen(m: &mut Model, w: u16, h: u16) -> String {
    warroom::tui::update(m, warroom::tui::Msg::Resize(w, h));
    text(&render(m, &dark(), w, h))
}

// ------------------------------------------------------------------ keys

/// One key press, as the terminal would deliver it.
pub fn press(m: &mut Model, code: KeyCode) -> Vec<Effect> {
    update(m, key(code))
}

/// One character key.
pub fn chr(m: &mut Model, c: char) -> Vec<Effect> {
    press(m, KeyCode::Char(c))
}

/// Ctrl + a character.
pub fn ctrl(m: &mut Model, c: char) -> Vec<Effect> {
    update(
        m,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    )
}

/// Types text into whatever has focus; typing must never act by itself.
pub fn typ(m: &mut Model, s: &str) {
    for c in s.chars() {
        assert!(chr(m, c).is_empty(), "typing {c:?} had an effect");
    }
}

/// The one command among `fx`.
pub fn submitted(fx: Vec<Effect>) -> Command {
    let cmds: Vec<Command> = fx
        .into_iter()
        .filter_map(|e| match e {
            Effect::Submit(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(cmds.len(), 1, "expected exactly one command, got {cmds:?}");
    cmds.into_iter().next().unwrap()
}

/// Applies a command's events as the server would (through `decide`, as
/// `actor`), as if they came back on the stream.
pub fn echo_as(m: &mut Model, cmd: &Command, actor: &str) {
    let now = m.server_now();
    let events = decide(&m.replica.world, &m.policy, cmd, actor, now).unwrap();
    let seq = m.replica.last_seq();
    let recs: Vec<Recorded> = events
        .into_iter()
        .enumerate()
        .map(|(i, event)| Recorded {
            seq: seq + 1 + i as u64,
            recorded_at: now,
            event,
        })
        .collect();
    update(m, Msg::Sync(SyncMsg::Events(recs)));
}
