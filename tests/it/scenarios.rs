//! Runs every scenario in `tests/scenarios/*.toml`: a runbook's incident as
//! timed commands, with the states, clocks and escalations expected along the way.
//!
//! Format (all times are offsets from `start`, like `+6m`, `+1h30m`, `+2d`, or
//! RFC 3339 instants):
//!
//! ```toml
//! policy = "002"                      # a preset's short name (`warroom policy list`)
//! start = "2026-11-23T10:00:00Z"
//!
//! [[step]]
//! at = "+0m"
//! actor = "alice"                     # default "responder"
//! incident = "INC-1"                  # default: the incident the scenario declared last
//! command = { type = "declare", title = "API down", severity = "P1" }   # any `Action`
//! reject = "already acknowledged"     # the command must be refused with this in the message
//! expect = { status = "investigating", clocks = { acknowledge = "breached" } }
//! ```
//!
//! Before and after each step's command the scheduler runs exactly as the
//! server's does: it wakes at every `escalation::next_wakeup` up to the step's
//! time and writes `escalation::due_events`, so automatic escalations and
//! overdue marks appear at the moment they fall due.
//!
//! `expect` keys: `status`, `severity`, `acknowledged_by`, `contained`,
//! `resolved`, `forced` (the last resolution was forced), `closed`, `roles`
//! (role → person), `escalations` (every escalation target so far, in order),
//! `overdue` (every channel marked overdue so far, in order), `clocks` (clock →
//! state, or `{ state, due, remaining, from, warroom_default }`; clocks are `acknowledge`,
//! `contain`, `resolve`, `status_page`, `internal`, `customer`, `escalation`,
//! `stability`, `review`, and `"checklist:ID"` for a time-boxed checklist;
//! state `absent` means no such clock), `timeline`
//! (lines that must appear in the incident's timeline, in this order) and
//! `review` (text the post-incident review must contain), `follow_ups`
//! (text the list of overdue or unreviewed action items of closed incidents
//! must contain, one entry per item; `[]`: the list is empty), `unfinished`
//! (the checklist items the war room shows undone, as `checklist/item`) and
//! `notifications` (every notification routed for the incident so far, as
//! `Email → CEO`; the scenario's `deploy` gives the channels and contact methods)
//! and `backups` (the backups the escalation and hand-off dialogs offer, as
//! `Role (holder) → Backup`).
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use uuid::Uuid;
use warroom::domain::clocks::{self, ClockKind, ClockState, clocks};
use warroom::domain::event::{Channel, Event, EventBody, Status};
use warroom::domain::notify::NotifyPolicy;
use warroom::domain::policy::presets;
use warroom::domain::{Action, Command, Policy, World, decide, escalation, review, routing};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    policy: String,
    start: DateTime<Utc>,
    /// The deploying team's `[notify]` additions (channels, contact methods):
    /// channels and routes are added, a directory entry of the same name
    /// replaces the preset's. Presets name who must be told; how to reach them
    /// is the team's.
    #[serde(default)]
    deploy: Option<String>,
    #[serde(rename = "step")]
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    at: String,
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    incident: Option<String>,
    #[serde(default)]
    command: Option<Action>,
    #[serde(default)]
    reject: Option<String>,
    #[serde(default)]
    expect: Option<Expect>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    status: Option<Status>,
    severity: Option<String>,
    acknowledged_by: Option<String>,
    contained: Option<bool>,
    resolved: Option<bool>,
    forced: Option<bool>,
    closed: Option<bool>,
    roles: Option<BTreeMap<String, String>>,
    escalations: Option<Vec<String>>,
    overdue: Option<Vec<String>>,
    clocks: Option<BTreeMap<String, toml::Value>>,
    timeline: Option<Vec<String>>,
    review: Option<Vec<String>>,
    /// Every notification routed for the incident so far, as labels
    /// (`Email → CEO`, `Slack (chat)`), in order.
    notifications: Option<Vec<String>>,
    /// The unfinished items the war room's checklist panel shows now, as
    /// `checklist/item` (earlier phases' unfinished time-boxed items included).
    unfinished: Option<Vec<String>>,
    /// The triage item (a report) the step names or made last: `{ queued,
    /// state, due, label }`, state of its acknowledge clock or `absent`.
    triage: Option<TriageExpect>,
    follow_ups: Option<Vec<String>>,
    /// The backups the war room offers (escalation and hand-off dialogs), in
    /// order, as `Role (holder) → Backup`, `— did not answer in time` after
    /// a primary called who did not answer.
    backups: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TriageExpect {
    /// Still waiting in the queue.
    queued: Option<bool>,
    state: Option<String>,
    due: Option<String>,
    label: Option<String>,
}

/// `+6m`, `+1h30m`, `-2d`, or an RFC 3339 instant.
fn instant(text: &str, start: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if t.starts_with('+') || t.starts_with('-') {
        offset(t).map(|d| start + d)
    } else {
        DateTime::parse_from_rfc3339(t)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| {
                format!("{text:?} is neither an offset like +6m nor an RFC 3339 instant: {e}")
            })
    }
}

/// A signed duration such as `+1h30m`, `-45s`, `0s`.
fn offset(text: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {text:?}: expected e.g. +6m, -1m30s, +2d");
    let (sign, rest) = match text.trim().as_bytes().first() {
        Some(b'-') => (-1, &text.trim()[1..]),
        Some(b'+') => (1, &text.trim()[1..]),
        _ => (1, text.trim()),
    };
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::zero();
    let mut number = String::new();
    for c in rest.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number.parse().map_err(|_| bad())?;
        number.clear();
        total += match c {
            'd' => Duration::days(n),
            'h' => Duration::hours(n),
            'm' => Duration::minutes(n),
            's' => Duration::seconds(n),
            _ => return Err(bad()),
        };
    }
    if !number.is_empty() {
        return Err(bad());
    }
    Ok(total * sign)
}

fn clock_kind(name: &str) -> Option<ClockKind> {
    Some(match name {
        "acknowledge" => ClockKind::Acknowledge,
        "contain" => ClockKind::Contain,
        "resolve" => ClockKind::Resolve,
        "status_page" => ClockKind::Update(Channel::StatusPage),
        "internal" => ClockKind::Update(Channel::Internal),
        "customer" => ClockKind::Update(Channel::Customer),
        "escalation" => ClockKind::Escalation,
        "stability" => ClockKind::Stability,
        "review" => ClockKind::Review,
        _ => return None,
    })
}

fn clock_state(name: &str) -> Option<ClockState> {
    Some(match name.to_ascii_lowercase().replace(' ', "_").as_str() {
        "pending" | "ok" => ClockState::Pending,
        "due_soon" => ClockState::DueSoon,
        "breached" | "overdue" => ClockState::Breached,
        "met" => ClockState::Met,
        _ => return None,
    })
}

/// One scenario being played.
struct Run {
    policy: Policy,
    start: DateTime<Utc>,
    world: World,
    log: Vec<Event>,
    now: DateTime<Utc>,
    /// The incident the scenario declared last.
    current: Option<Uuid>,
    /// The key the scheduler's ids are derived under.
    ids: warroom::domain::ids::SystemIds,
    /// `(incident, label)` of every notification routed, in log order.
    routed: Vec<(Uuid, String)>,
}

impl Run {
    fn apply(&mut self, events: Vec<Event>) {
        for e in events {
            self.world.apply(&e);
            if let Some(inc) = self.world.get(&e.incident) {
                for i in routing::route(&e, inc, &self.policy, &self.ids) {
                    self.routed.push((e.incident, i.label()));
                }
            }
            self.log.push(e);
        }
    }

    /// The server's scheduler, from `self.now` up to `until`: wakes at every
    /// `next_wakeup` and writes what is due then.
    fn schedule_until(&mut self, until: DateTime<Utc>) -> Result<(), String> {
        loop {
            let due = escalation::due_events(&self.world, &self.policy, &self.ids, self.now);
            if let Some(e) = due.iter().find(|e| e.occurred_at > self.now) {
                return Err(format!("scheduler wrote an event from the future: {e:?}"));
            }
            self.apply(due);
            match escalation::next_wakeup(&self.world, &self.policy, self.now) {
                Some(t) if t <= until => {
                    if t <= self.now {
                        return Err(format!("next_wakeup {t} is not after now {}", self.now));
                    }
                    self.now = t;
                }
                _ => break,
            }
        }
        self.now = until;
        let due = escalation::due_events(&self.world, &self.policy, &self.ids, self.now);
        self.apply(due);
        Ok(())
    }

    fn step(&mut self, file: &str, index: usize, step: &Step) -> Result<(), String> {
        let at = instant(&step.at, self.start)?;
        if at < self.now {
            return Err(format!(
                "`at` {} is before the previous step's time {}",
                at, self.now
            ));
        }
        self.schedule_until(at)?;
        if step.command.is_none() && step.expect.is_none() {
            return Err("a step needs a `command`, an `expect`, or both".into());
        }
        if step.reject.is_some() && step.command.is_none() {
            return Err("`reject` needs a `command`".into());
        }
        if let Some(action) = &step.command {
            let incident = match (&step.incident, action) {
                (Some(r), _) => Some(r.clone()),
                (None, Action::Declare { .. } | Action::Report { .. }) => None,
                (None, _) => self.current.map(|id| id.to_string()),
            };
            let cmd = Command {
                id: Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("{file}#{index}").as_bytes()),
                incident,
                action: action.clone(),
                occurred_at: None,
            };
            let actor = step.actor.as_deref().unwrap_or("responder");
            let result = decide(&self.world, &self.policy, &cmd, actor, self.now);
            match (result, &step.reject) {
                (Ok(events), None) => {
                    if matches!(action, Action::Declare { .. } | Action::Report { .. }) {
                        self.current = events.first().map(|e| e.incident);
                    }
                    self.apply(events);
                }
                (Ok(events), Some(want)) => {
                    return Err(format!(
                        "{} was accepted ({} event(s): {}), expected a refusal containing {want:?}",
                        action.name(),
                        events.len(),
                        events
                            .iter()
                            .map(|e| e.body.describe())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                }
                (Err(e), None) => {
                    return Err(format!("{} was refused: {e}", action.name()));
                }
                (Err(e), Some(want)) => {
                    if !e.to_string().contains(want.as_str()) {
                        return Err(format!(
                            "{} was refused with {:?}, expected a message containing {want:?}",
                            action.name(),
                            e.to_string()
                        ));
                    }
                }
            }
            // What was just written may be due at once (e.g. "escalate security incidents immediately").
            self.schedule_until(self.now)?;
        }
        if let Some(expect) = &step.expect {
            let target = step
                .incident
                .as_deref()
                .map(str::to_string)
                .or_else(|| self.current.map(|id| id.to_string()))
                .ok_or("`expect` before any incident was declared")?;
            if let Some(t) = &expect.triage {
                self.check_triage(&target, t)?;
            }
            // A report not (yet) declared is a triage item, not an incident.
            if self.world.resolve(&target).is_some() {
                self.check(&target, expect)?;
            }
        }
        Ok(())
    }

    fn check_triage(&self, reference: &str, want: &TriageExpect) -> Result<(), String> {
        let alerts = &self.world.alerts;
        let item = alerts
            .resolve(reference)
            .ok_or_else(|| format!("no triage item {reference}"))?;
        let mut errors = Vec::new();
        if let Some(q) = want.queued
            && q != item.pending()
        {
            errors.push(format!(
                "triage.queued: expected {q}, got {}",
                item.pending()
            ));
        }
        let clock = clocks::triage_clock(item, &self.policy, self.now);
        match (&want.state, &clock) {
            (Some(s), None) if s != "absent" => {
                errors.push(format!("triage.state: expected {s}, got no clock"));
            }
            (Some(s), Some(c)) if s == "absent" => {
                errors.push(format!("triage.state: expected no clock, got {c:?}"));
            }
            (Some(s), Some(c)) => {
                let st = clock_state(s).ok_or_else(|| format!("triage.state: unknown {s:?}"))?;
                if st != c.state {
                    errors.push(format!("triage.state: expected {s}, got {:?}", c.state));
                }
            }
            _ => {}
        }
        if let (Some(d), Some(c)) = (&want.due, &clock) {
            let d = instant(d, self.start).map_err(|e| format!("triage.due: {e}"))?;
            if d != c.due_at {
                errors.push(format!("triage.due: expected {d}, got {}", c.due_at));
            }
        }
        if let (Some(l), Some(c)) = (&want.label, &clock)
            && *l != c.label
        {
            errors.push(format!("triage.label: expected {l:?}, got {:?}", c.label));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n    "))
        }
    }

    fn check(&self, reference: &str, want: &Expect) -> Result<(), String> {
        let inc = self
            .world
            .resolve(reference)
            .ok_or_else(|| format!("no incident {reference}"))?;
        let mut errors = Vec::new();
        let mut eq = |what: &str, got: String, expected: String| {
            if got != expected {
                errors.push(format!("{what}: expected {expected}, got {got}"));
            }
        };
        if let Some(s) = want.status {
            eq("status", inc.status.to_string(), s.to_string());
        }
        if let Some(s) = &want.severity {
            eq("severity", inc.severity.clone(), s.clone());
        }
        if let Some(by) = &want.acknowledged_by {
            eq(
                "acknowledged_by",
                format!("{:?}", inc.acknowledged.as_ref().map(|s| &s.by)),
                format!("{:?}", Some(by)),
            );
        }
        if let Some(b) = want.contained {
            eq(
                "contained",
                inc.contained.is_some().to_string(),
                b.to_string(),
            );
        }
        if let Some(b) = want.resolved {
            eq(
                "resolved",
                inc.resolved.is_some().to_string(),
                b.to_string(),
            );
        }
        if let Some(b) = want.closed {
            eq("closed", inc.closed.is_some().to_string(), b.to_string());
        }
        let events: Vec<&Event> = self.log.iter().filter(|e| e.incident == inc.id).collect();
        if let Some(b) = want.forced {
            let last = events.iter().rev().find_map(|e| match e.body {
                EventBody::Resolved { forced, .. } => Some(forced),
                _ => None,
            });
            eq("forced", format!("{last:?}"), format!("{:?}", Some(b)));
        }
        if let Some(roles) = &want.roles {
            for (role, person) in roles {
                eq(
                    &format!("roles.{role}"),
                    format!("{:?}", inc.roles.get(role)),
                    format!("{:?}", Some(person)),
                );
            }
        }
        if let Some(list) = &want.escalations {
            let got: Vec<&str> = inc.escalations.iter().map(|e| e.to.as_str()).collect();
            eq("escalations", format!("{got:?}"), format!("{list:?}"));
        }
        if let Some(list) = &want.overdue {
            let got: Vec<&str> = events
                .iter()
                .filter_map(|e| match e.body {
                    EventBody::UpdateOverdue { channel, .. } => Some(channel.as_str()),
                    _ => None,
                })
                .collect();
            eq("overdue", format!("{got:?}"), format!("{list:?}"));
        }
        if let Some(expected) = &want.clocks {
            let all = clocks(inc, &self.policy, self.now);
            for (name, spec) in expected {
                // `"checklist:ID"` is the time-boxed checklist ID's clock.
                let clock = if let Some(list) = name.strip_prefix("checklist:") {
                    all.iter().find(|c| {
                        c.kind == ClockKind::Checklist && c.checklist.as_deref() == Some(list)
                    })
                } else {
                    let kind = clock_kind(name).ok_or_else(|| {
                        format!(
                            "clocks.{name}: unknown clock (known: acknowledge, contain, resolve, \
                             status_page, internal, customer, escalation, stability, review, \
                             checklist:ID)"
                        )
                    })?;
                    all.iter().find(|c| c.kind == kind)
                };
                let known = ["state", "due", "remaining", "from", "warroom_default"];
                let (state, due, remaining, from, default) = match spec {
                    toml::Value::String(s) => (Some(s.clone()), None, None, None, None),
                    toml::Value::Table(t) => {
                        for key in t.keys() {
                            if !known.contains(&key.as_str()) {
                                return Err(format!(
                                    "clocks.{name}.{key}: unknown field (known: {})",
                                    known.join(", ")
                                ));
                            }
                        }
                        let s = |k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_string);
                        let default = t.get("warroom_default").and_then(toml::Value::as_bool);
                        (s("state"), s("due"), s("remaining"), s("from"), default)
                    }
                    other => {
                        return Err(format!(
                            "clocks.{name}: expected a state or a table, got {other}"
                        ));
                    }
                };
                if state.as_deref() == Some("absent") {
                    if let Some(c) = clock {
                        errors.push(format!("clocks.{name}: expected no such clock, got {c:?}"));
                    }
                    continue;
                }
                let Some(c) = clock else {
                    errors.push(format!(
                        "clocks.{name}: no such clock at {} (clocks: {})",
                        self.now,
                        all.iter()
                            .map(|c| c.label.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    continue;
                };
                let shown = format!(
                    "{:?}, due {}, remaining {}s, from {:?}",
                    c.state, c.due_at, c.remaining_secs, c.from
                );
                if let Some(s) = &state {
                    let st = clock_state(s).ok_or_else(|| {
                        format!(
                            "clocks.{name}: unknown state {s:?} (pending, due_soon, breached, met, absent)"
                        )
                    })?;
                    if st != c.state {
                        errors.push(format!("clocks.{name}: expected {s}, got {shown}"));
                    }
                }
                if let Some(d) = &due {
                    let d =
                        instant(d, self.start).map_err(|e| format!("clocks.{name}.due: {e}"))?;
                    if d != c.due_at {
                        errors.push(format!("clocks.{name}: expected due {d}, got {shown}"));
                    }
                }
                if let Some(r) = &remaining {
                    let r = offset(r).map_err(|e| format!("clocks.{name}.remaining: {e}"))?;
                    if r.num_seconds() != c.remaining_secs {
                        errors.push(format!(
                            "clocks.{name}: expected remaining {}s, got {shown}",
                            r.num_seconds()
                        ));
                    }
                }
                if let Some(d) = default
                    && d != c.warroom_default
                {
                    errors.push(format!(
                        "clocks.{name}: expected warroom_default {d}, got {}",
                        c.warroom_default
                    ));
                }
                if let Some(f) = &from
                    && *f != c.from
                {
                    errors.push(format!("clocks.{name}: expected from {f:?}, got {shown}"));
                }
            }
        }
        if let Some(lines) = &want.timeline {
            let mut timeline: Vec<&Event> = events.clone();
            timeline.sort_by_key(|e| e.occurred_at);
            let described: Vec<String> = timeline.iter().map(|e| e.body.describe()).collect();
            let mut from = 0;
            for line in lines {
                match described[from..].iter().position(|d| d.contains(line.as_str())) {
                    Some(i) => from += i + 1,
                    None => errors.push(format!(
                        "timeline: no {line:?} after the previous expected line; timeline is:\n  {}",
                        described.join("\n  ")
                    )),
                }
            }
        }
        if let Some(list) = &want.notifications {
            let got: Vec<&str> = self
                .routed
                .iter()
                .filter(|(id, _)| *id == inc.id)
                .map(|(_, l)| l.as_str())
                .collect();
            if format!("{got:?}") != format!("{list:?}") {
                errors.push(format!("notifications: expected {list:?}, got {got:?}"));
            }
        }
        if let Some(list) = &want.unfinished {
            let got: Vec<String> = warroom::tui::model::phase_items(&self.policy, inc, self.now)
                .iter()
                .filter(|i| !i.done && i.proof.is_none())
                .map(|i| format!("{}/{}", i.checklist, i.item))
                .collect();
            if format!("{got:?}") != format!("{list:?}") {
                errors.push(format!("unfinished: expected {list:?}, got {got:?}"));
            }
        }
        if let Some(list) = &want.backups {
            let got: Vec<String> = warroom::domain::backup::offers(inc, &self.policy, self.now)
                .iter()
                .map(|o| o.describe())
                .collect();
            if format!("{got:?}") != format!("{list:?}") {
                errors.push(format!("backups: expected {list:?}, got {got:?}"));
            }
        }
        if let Some(parts) = &want.review {
            let md = review::render(inc, &events, &self.policy, self.now);
            for p in parts {
                if !md.contains(p.as_str()) {
                    errors.push(format!("review: no {p:?} in\n{md}"));
                }
            }
        }
        if let Some(parts) = &want.follow_ups {
            let list = review::follow_up::list(&self.world, &self.policy, self.now);
            let lines = review::follow_up::lines(&list, &self.policy);
            if parts.is_empty() && !lines.is_empty() {
                errors.push(format!("follow_ups: expected none, got {lines:#?}"));
            }
            for p in parts {
                if !lines.iter().any(|l| l.contains(p.as_str())) {
                    errors.push(format!("follow_ups: no {p:?} in {lines:#?}"));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n    "))
        }
    }
}

/// Plays one file; the error names the step and what did not match.
fn play(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let scenario: Scenario = toml::from_str(&text).map_err(|e| format!("invalid scenario: {e}"))?;
    let preset = presets::find(&scenario.policy).ok_or_else(|| {
        format!(
            "unknown policy {:?} (presets: {})",
            scenario.policy,
            presets::ALL
                .iter()
                .map(|(short, _, _)| *short)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let mut policy =
        Policy::from_toml(preset).map_err(|e| format!("preset {}: {e}", scenario.policy))?;
    if let Some(deploy) = &scenario.deploy {
        deploy_notify(&mut policy, deploy)?;
    }
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut run = Run {
        policy,
        start: scenario.start,
        world: World::default(),
        log: Vec::new(),
        now: scenario.start,
        current: None,
        ids: warroom::domain::ids::SystemIds::new([3; 32]),
        routed: Vec::new(),
    };
    for (i, step) in scenario.steps.iter().enumerate() {
        run.step(&file, i + 1, step)
            .map_err(|e| format!("step {} (at {}): {e}", i + 1, step.at))?;
    }
    let short = presets::ALL
        .iter()
        .find(|(short, stem, _)| *short == scenario.policy || *stem == scenario.policy)
        .map_or(scenario.policy.clone(), |(short, _, _)| short.to_string());
    Ok(short)
}

/// Adds a deployment's `[notify]` to a preset: channels and routes are
/// added, a directory entry replaces the preset's entry of the same name.
fn deploy_notify(policy: &mut Policy, text: &str) -> Result<(), String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Deploy {
        notify: NotifyPolicy,
    }
    let d: Deploy = toml::from_str(text).map_err(|e| format!("deploy: {e}"))?;
    let n = &mut policy.notify;
    n.channels.extend(d.notify.channels);
    n.routes.extend(d.notify.routes);
    for c in d.notify.directory {
        match n.directory.iter_mut().find(|o| o.name == c.name) {
            Some(o) => *o = c,
            None => n.directory.push(c),
        }
    }
    policy.validate().map_err(|e| format!("deploy: {e}"))
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_scenario_plays_as_written() {
    let files = scenario_files();
    assert!(!files.is_empty(), "no scenarios in tests/scenarios");
    let mut failures = Vec::new();
    let mut covered = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        match play(path) {
            Ok(policy) => covered.push(policy),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    let uncovered: Vec<&str> = presets::ALL
        .iter()
        .map(|(short, _, _)| *short)
        .filter(|p| !covered.iter().any(|c| c == p))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
    assert!(
        uncovered.is_empty(),
        "presets without a scenario: {}",
        uncovered.join(", ")
    );
}

/// The runner itself reports mismatches precisely (a scenario that must fail).
#[test]
fn a_wrong_expectation_names_the_step_and_the_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(
        &path,
        r#"
policy = "default"
start = "2026-11-23T10:00:00Z"

[[step]]
at = "+0m"
command = { type = "declare", title = "API down", severity = "P1" }

[[step]]
at = "+6m"
expect = { clocks = { acknowledge = "pending" }, escalations = [] }
"#,
    )
    .unwrap();
    let err = play(&path).unwrap_err();
    assert!(err.starts_with("step 2 (at +6m): "), "{err}");
    assert!(
        err.contains("clocks.acknowledge: expected pending, got Breached"),
        "{err}"
    );
    assert!(
        err.contains("escalations: expected [], got [\"Backup on-call\"]"),
        "{err}"
    );

    std::fs::write(
        &path,
        "policy = \"default\"\nstart = \"2026-11-23T10:00:00Z\"\n[[step]]\nat = \"+0m\"\nexpct = {}\n",
    )
    .unwrap();
    let err = play(&path).unwrap_err();
    assert!(err.contains("unknown field `expct`"), "{err}");
    assert!(err.contains("line 5"), "{err}");
}
