//! Test support for the domain's unit tests: a small policy written inline (so
//! the tests do not move when the shipped presets are re-tuned) and a harness
//! that runs commands through `decide` + `World::apply` on a manual clock.

use super::command::{Action, Command};
use super::decide::{DomainError, decide};
use super::escalation;
use super::event::Event;
use super::policy::Policy;
use super::state::{Incident, World};
use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

/// A runbook-002-shaped policy with round numbers that are easy to compute by hand.
pub(crate) const POLICY: &str = r#"
name = "test"
source = "unit tests"
kinds = ["availability", "security"]
escalation_path = ["Engineering Manager", "VP Engineering", "CTO"]

[[severities]]
id = "P1"
label = "P1"
name = "Critical"
acknowledge = "5m"
contain = "1h"
resolve = "2h"
updates.status_page = { first = "10m", every = "30m" }
updates.internal = { every = "15m" }
updates.customer = { first = "15m", every = "1h" }
review = { required = true, due = "72h" }

[[severities]]
id = "P2"
label = "P2"
name = "Major"
acknowledge = "15m"
contain = "2h"
resolve = "4h"
updates.status_page = { first = "15m", every = "1h" }
updates.internal = { every = "30m" }
review = { required = true, due = "7d" }

[[severities]]
id = "P3"
label = "P3"
name = "Minor"
acknowledge = "1bd"
resolve = "3bd"

[[severities]]
id = "P4"
label = "P4"
name = "Low"

[[roles]]
id = "ic"
name = "Incident Commander"

[[roles]]
id = "tech_lead"
name = "Technical Lead"

[[roles]]
id = "comms"
name = "Communications Lead"

[[roles]]
id = "scribe"
name = "Scribe"

[[escalations]]
id = "p1-unack-5m"
when = "unacknowledged"
after = "5m"
severities = ["P1"]
to = "Backup on-call"

[[escalations]]
id = "p1-unack-10m"
when = "unacknowledged"
after = "10m"
severities = ["P1"]
to = "Engineering Manager"

[[escalations]]
id = "p2-unack-15m"
when = "unacknowledged"
after = "15m"
severities = ["P2"]
to = "Backup on-call"

[[escalations]]
id = "p1-open-30m"
when = "open"
after = "30m"
severities = ["P1"]
to = "VP Engineering"

[[escalations]]
id = "security"
when = "open"
after = "0m"
kinds = ["security"]
to = "Security Lead"

[[checklists]]
id = "triage"
title = "Triage"
phase = "triage"
items = [
  { id = "verified", text = "Issue verified" },
  { id = "severity", text = "Severity assessed" },
]

[[checklists]]
id = "resolution"
title = "Resolution criteria"
phase = "resolution"
items = [
  { id = "baseline", text = "Error rates back to baseline" },
  { id = "no_impact", text = "No ongoing customer impact" },
]

[resolution]
stability_window = "15m"
checklist = "resolution"

[closure]
require_checklists = ["resolution"]
require_review = true

[templates]
internal = "{id} | {severity} | {status}"
escalation = "ESCALATION {id}"
customer = "{title}"

[templates.status_page]
investigating = "{title}: investigating"
identified = "{title}: identified"
monitoring = "{title}: monitoring"
resolved = "{title}: resolved"
"#;

pub(crate) fn policy() -> Policy {
    Policy::from_toml(POLICY).expect("the test policy is valid")
}

/// Monday 2026-11-23 10:00:00 UTC: the start of every test's clock.
pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
        .single()
        .expect("a valid instant")
}

/// `t0` plus whole minutes.
pub(crate) fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

/// A world, a policy and a manual clock; every accepted command is applied and logged.
pub(crate) struct Harness {
    pub world: World,
    pub policy: Policy,
    pub now: DateTime<Utc>,
    pub log: Vec<Event>,
    /// The key the scheduler derives its ids under (fixed, for repeatable tests).
    pub ids: crate::domain::ids::SystemIds,
    commands: u64,
}

impl Harness {
    pub fn new(policy: Policy) -> Self {
        Harness {
            world: World::default(),
            policy,
            now: t0(),
            log: Vec::new(),
            ids: crate::domain::ids::SystemIds::new([7; 32]),
            commands: 0,
        }
    }

    /// Sets the clock to `t0 + minutes`.
    pub fn at(&mut self, minutes: i64) -> &mut Self {
        self.now = at(minutes);
        self
    }

    /// A command with a fresh, reproducible id.
    pub fn command(&mut self, incident: Option<&str>, action: Action) -> Command {
        self.commands += 1;
        Command {
            id: Uuid::new_v5(
                &Uuid::NAMESPACE_OID,
                format!("test-command-{}", self.commands).as_bytes(),
            ),
            incident: incident.map(str::to_string),
            action,
            occurred_at: None,
        }
    }

    /// Decides and, when accepted, applies.
    pub fn try_run(
        &mut self,
        actor: &str,
        incident: Option<&str>,
        action: Action,
    ) -> Result<Vec<Event>, DomainError> {
        let cmd = self.command(incident, action);
        let events = decide(&self.world, &self.policy, &cmd, actor, self.now)?;
        self.apply(&events);
        Ok(events)
    }

    /// Like [`Self::try_run`], failing the test when the command is refused.
    pub fn run(&mut self, actor: &str, incident: &str, action: Action) -> Vec<Event> {
        let what = action.name();
        self.try_run(actor, Some(incident), action)
            .unwrap_or_else(|e| panic!("{what} on {incident} refused: {e}"))
    }

    /// The refusal of a command that must be refused.
    pub fn refuse(&mut self, actor: &str, incident: &str, action: Action) -> DomainError {
        let what = action.name();
        match self.try_run(actor, Some(incident), action) {
            Ok(events) => panic!("{what} on {incident} was accepted: {events:?}"),
            Err(e) => e,
        }
    }

    /// Declares an incident of `kind` (the policy's first kind when `None`); returns its key.
    pub fn declare_kind(&mut self, title: &str, severity: &str, kind: Option<&str>) -> String {
        let events = self
            .try_run(
                "alice",
                None,
                Action::Declare {
                    title: title.into(),
                    severity: severity.into(),
                    kind: kind.map(str::to_string),
                    impact: None,
                    commander: None,
                },
            )
            .unwrap_or_else(|e| panic!("declare refused: {e}"));
        let id = events.first().map(|e| e.incident).expect("declare emits");
        self.world.get(&id).expect("declared").key()
    }

    pub fn declare(&mut self, title: &str, severity: &str) -> String {
        self.declare_kind(title, severity, None)
    }

    pub fn apply(&mut self, events: &[Event]) {
        for e in events {
            self.world.apply(e);
            self.log.push(e.clone());
        }
    }

    /// Runs the scheduler at the current time and applies what it writes.
    pub fn tick(&mut self) -> Vec<Event> {
        let events = escalation::due_events(&self.world, &self.policy, &self.ids, self.now);
        self.apply(&events);
        events
    }

    pub fn inc(&self, key: &str) -> &Incident {
        self.world
            .resolve(key)
            .unwrap_or_else(|| panic!("no incident {key}"))
    }

    /// The recorded events of one incident, in log order.
    pub fn events_of(&self, key: &str) -> Vec<&Event> {
        let id = self.inc(key).id;
        self.log.iter().filter(|e| e.incident == id).collect()
    }
}
