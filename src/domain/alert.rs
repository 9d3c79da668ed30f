//! Alerts in: grouping, "declare or triage", repeats, storms and all-clear, as
//! pure rules over the projection.
//!
//! The ingest adapters (`crate::ingest`) only translate a foreign payload
//! (Alertmanager v4, PagerDuty Events v2) into an [`AlertBatch`]; everything a
//! team would argue about — which alerts are one incident, which severities
//! open an incident at once and which wait in the triage queue, what a repeat
//! is — is decided here, against the log, under ids nobody else can compute.
//!
//! The rules:
//! - Alerts are grouped by the sender's key (`groupKey`, `dedup_key`); a group
//!   points at one *target*: an incident or a triage item.
//! - A repeat adds nothing: only an alert not already firing in the group (by
//!   fingerprint and start time) or one that stops firing is a change, and each
//!   batch's changes become one timeline entry each way (coalesced).
//! - When the target is closed (or the triage item dismissed), the next *new*
//!   firing alert opens a new target that links the old one; an alert that just
//!   keeps firing does not (Alertmanager re-sends every `repeat_interval`).
//! - When the last alert clears, the entry says "all alerts clear"; the policy's
//!   `on_clear` says whether anything more happens (by default the IC decides).
//! - A new alert that maps to a more severe level than its live target has
//!   raises it: an incident's severity changes (an upgrade restarts the SLA
//!   clocks), or, with `on_more_severe = "suggest"`, the war room shows the
//!   level as a suggestion for the IC. A triage item takes the new level, and
//!   is declared at once when the policy declares that level automatically.

pub mod mapping;
#[cfg(test)]
mod tests;
pub(crate) mod triage;

use super::event::{Event, EventBody, Impact, Report, Status, TriagedAlert};
use super::ids::SystemIds;
use super::policy::Policy;
use super::sanitize::sanitize_line;
use super::state::{Stamp, World};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

pub use mapping::{AlertRule, IngestPolicy, OnClear, OnMoreSevere};

/// Most alerts one payload may carry (Alertmanager's `max_alerts` truncates beyond its own limit).
pub const MAX_ALERTS: usize = 1_000;
/// Most labels plus annotations one alert may carry.
pub const MAX_LABELS: usize = 128;
/// Longest label name, group key or fingerprint, in bytes.
pub const MAX_KEY: usize = 1_024;
/// Longest label or annotation value, in bytes.
pub const MAX_VALUE: usize = 16_384;
/// Longest alert name or summary kept on the timeline, in characters.
const MAX_LINE: usize = 300;

/// Who sent an alert; part of the group key, so two senders never share a group.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AlertSource {
    Alertmanager,
    EventsV2,
}

impl AlertSource {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One alert as the adapters hand it over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable identity of the alert within its group (Alertmanager's
    /// `fingerprint`, PagerDuty's `dedup_key`).
    pub fingerprint: String,
    pub firing: bool,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// When it started firing; a new start time on a known fingerprint means it fired again.
    pub starts_at: Option<DateTime<Utc>>,
    pub url: Option<String>,
}

/// One payload: alerts of one group, and for Events v2 maybe an acknowledgement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertBatch {
    pub source: AlertSource,
    pub group: String,
    pub alerts: Vec<Alert>,
    /// PagerDuty `event_action: acknowledge`.
    pub acknowledge: bool,
}

impl AlertBatch {
    /// The group's key in the projection: sender and its own key.
    pub fn key(&self) -> String {
        format!("{}:{}", self.source.as_str(), self.group)
    }
}

/// A payload beyond a limit; the adapters answer it in the sender's error shape.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct AlertError {
    /// Path of the offending field in the sender's payload terms (`alerts[3].labels`).
    pub field: String,
    pub message: String,
}

impl AlertError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> AlertError {
        AlertError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Checks the limits; nothing past them is decided, so nothing is stored half.
pub fn validate(batch: &AlertBatch) -> Result<(), AlertError> {
    if batch.group.trim().is_empty() {
        return Err(AlertError::new("group", "the group key must not be empty"));
    }
    if batch.group.len() > MAX_KEY {
        return Err(AlertError::new(
            "group",
            format!(
                "the group key is {} bytes; the limit is {MAX_KEY}",
                batch.group.len()
            ),
        ));
    }
    if batch.alerts.len() > MAX_ALERTS {
        return Err(AlertError::new(
            "alerts",
            format!(
                "{} alerts in one payload; the limit is {MAX_ALERTS} (set max_alerts on the receiver)",
                batch.alerts.len()
            ),
        ));
    }
    for (i, a) in batch.alerts.iter().enumerate() {
        if a.fingerprint.is_empty() || a.fingerprint.len() > MAX_KEY {
            return Err(AlertError::new(
                format!("alerts[{i}].fingerprint"),
                format!("must be 1 to {MAX_KEY} bytes"),
            ));
        }
        let count = a.labels.len() + a.annotations.len();
        if count > MAX_LABELS {
            return Err(AlertError::new(
                format!("alerts[{i}].labels"),
                format!("{count} labels and annotations; the limit is {MAX_LABELS} per alert"),
            ));
        }
        for (what, map) in [("labels", &a.labels), ("annotations", &a.annotations)] {
            for (k, v) in map {
                if k.len() > MAX_KEY {
                    return Err(AlertError::new(
                        format!("alerts[{i}].{what}"),
                        format!("a name is {} bytes; the limit is {MAX_KEY}", k.len()),
                    ));
                }
                if v.len() > MAX_VALUE {
                    return Err(AlertError::new(
                        format!("alerts[{i}].{what}.{}", sanitize_line(k)),
                        format!("the value is {} bytes; the limit is {MAX_VALUE}", v.len()),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// One alert as the timeline keeps it: sanitised, short.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertLine {
    pub fingerprint: String,
    /// `alertname` (or the PagerDuty summary).
    pub name: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub url: Option<String>,
}

impl AlertLine {
    fn of(a: &Alert) -> AlertLine {
        let pick = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| a.labels.get(*k).or_else(|| a.annotations.get(*k)))
                .map(|v| short(v))
                .unwrap_or_default()
        };
        AlertLine {
            fingerprint: a.fingerprint.clone(),
            name: pick(&["alertname", "summary"]),
            summary: pick(&["summary", "description", "message"]),
            starts_at: a.starts_at,
            url: a.url.as_deref().map(short),
        }
    }
}

/// Sanitised, one line, at most [`MAX_LINE`] characters.
fn short(s: &str) -> String {
    let s = sanitize_line(s);
    let s = s.trim();
    if s.chars().count() > MAX_LINE {
        let mut t: String = s.chars().take(MAX_LINE - 1).collect();
        t.push('…');
        t
    } else {
        s.to_string()
    }
}

/// The alerts behind an incident, as the board and the war room show them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertLink {
    pub group: String,
    /// Alerts of the group firing now; 0 is "all alerts clear".
    pub firing: usize,
    /// The closed incident (or dismissed triage item) this one follows.
    #[serde(default)]
    pub previous: Option<Uuid>,
}

/// An alert group waiting for a human: declare it an incident, or dismiss it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TriageItem {
    pub id: Uuid,
    /// `TRI-n`: the n-th triage item.
    pub number: u64,
    pub title: String,
    pub severity: String,
    pub kind: String,
    pub services: Vec<String>,
    pub opened: Stamp,
    pub alerts: AlertLink,
    pub dismissed: Option<Stamp>,
    /// Declared as an incident (under the same id).
    pub declared: bool,
    /// A report that is not an alert: the policy's intake kind (`disclosure`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intake: Option<String>,
    /// Who reported it, for a report.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reporter: String,
    /// What the reporter wrote, for a report.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub details: String,
}

impl TriageItem {
    pub fn key(&self) -> String {
        format!("TRI-{}", self.number)
    }

    /// Still in the queue.
    pub fn pending(&self) -> bool {
        self.dismissed.is_none() && !self.declared
    }
}

/// One alert group: where it points now and what of it is firing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertGroup {
    pub target: Uuid,
    /// How many targets the group has had; part of the next target's id.
    pub generation: u32,
    /// Firing alerts: fingerprint → start time.
    pub firing: BTreeMap<String, Option<DateTime<Utc>>>,
    /// Entries written for the group so far: part of the next payload's id,
    /// so the group's state never repeats (fire, clear, fire again is three
    /// different commands even when the payloads are byte for byte the same).
    #[serde(default)]
    pub changes: u64,
}

/// What the alert side of the projection holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Alerts {
    pub groups: BTreeMap<String, AlertGroup>,
    pub triage: BTreeMap<Uuid, TriageItem>,
    /// Triage item ids by number - 1.
    pub triage_order: Vec<Uuid>,
}

impl Alerts {
    /// `INC-n` or `TRI-n` of the group's current target.
    pub fn target_key(&self, world: &World, group: &str) -> Option<String> {
        let target = self.groups.get(group)?.target;
        world
            .get(&target)
            .map(|i| i.key())
            .or_else(|| self.triage.get(&target).map(TriageItem::key))
    }

    /// Pending triage items, oldest first.
    pub fn queue(&self) -> impl Iterator<Item = &TriageItem> {
        self.triage_order
            .iter()
            .filter_map(|id| self.triage.get(id))
            .filter(|t| t.pending())
    }

    /// Finds a triage item by `TRI-3`, `3` or UUID.
    pub fn resolve(&self, reference: &str) -> Option<&TriageItem> {
        let r = reference.trim();
        let digits = r
            .strip_prefix("TRI-")
            .or_else(|| r.strip_prefix("tri-"))
            .unwrap_or(r);
        if let Ok(n) = digits.parse::<usize>() {
            return n
                .checked_sub(1)
                .and_then(|i| self.triage_order.get(i))
                .and_then(|id| self.triage.get(id));
        }
        Uuid::parse_str(r).ok().and_then(|id| self.triage.get(&id))
    }
}

/// The batch with its keys (group, fingerprints) made safe to print: they are
/// stored in events and compared with what is stored.
fn normalize(b: &mut AlertBatch) {
    b.group = sanitize_line(&b.group);
    for a in &mut b.alerts {
        a.fingerprint = sanitize_line(&a.fingerprint);
    }
}

/// The id a payload is stored under: the same payload against the same group
/// state gives the same id (a retry is stored once), only the server can
/// compute it, and a payload that comes again after the group changed (an
/// Events v2 trigger after a resolve) is a new command.
///
/// The group's state enters as (target, generation, changes): `changes` only
/// grows, so that triple never repeats, and it is cheap to hash under the
/// decision lock (the payload's own digest is taken before, see [`Prepared`]).
pub fn command_id(ids: &SystemIds, prepared: &Prepared, group: Option<&AlertGroup>) -> Uuid {
    let (target, generation, changes) =
        group.map_or((Uuid::nil(), 0, 0), |g| (g.target, g.generation, g.changes));
    ids.derive(
        "ingest",
        &[
            prepared.key.as_bytes(),
            &prepared.digest,
            target.as_bytes(),
            &generation.to_be_bytes(),
            &changes.to_be_bytes(),
        ],
    )
}

/// A payload made ready for deciding: keys sanitised, its group key, and the
/// SHA-256 of its content. All of it is work on the payload alone, done
/// before the decision lock is taken.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub batch: AlertBatch,
    pub key: String,
    pub digest: [u8; 32],
}

impl Prepared {
    pub fn new(batch: &AlertBatch) -> Prepared {
        Prepared::owned(batch.clone())
    }

    /// [`Prepared::new`] for a batch the caller no longer needs (the server's
    /// path): normalised in place and hashed as it is serialised, so a storm's
    /// payloads (up to hundreds of alerts, each repeated in every later
    /// notification of its group) are neither copied nor buffered again.
    pub fn owned(mut batch: AlertBatch) -> Prepared {
        use sha2::Digest;
        normalize(&mut batch);
        let key = batch.key();
        let mut hasher = HashWriter(sha2::Sha256::new());
        // Serialising plain data into a writer that cannot fail cannot fail.
        let _ = serde_json::to_writer(&mut hasher, &batch);
        Prepared {
            batch,
            key,
            digest: hasher.0.finalize().into(),
        }
    }
}

/// Feeds serialised bytes straight into the digest.
struct HashWriter(sha2::Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        sha2::Digest::update(&mut self.0, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The key the projection files `batch`'s group under.
pub fn group_key(batch: &AlertBatch) -> String {
    format!("{}:{}", batch.source.as_str(), sanitize_line(&batch.group))
}

/// The id [`decide_prepared`] would store the payload under, against `world`.
pub fn batch_id(world: &World, ids: &SystemIds, prepared: &Prepared) -> Uuid {
    command_id(ids, prepared, world.alerts.groups.get(&prepared.key))
}

/// Whether the group's target still takes alerts: an open incident, a pending triage item.
fn live(world: &World, target: Uuid) -> bool {
    if let Some(inc) = world.get(&target) {
        return inc.closed.is_none();
    }
    world
        .alerts
        .triage
        .get(&target)
        .is_some_and(|t| t.pending())
}

/// The events a payload makes, at `now`, written by `actor` (the integration
/// token's name). Empty when nothing changed. Call [`validate`] first.
pub fn decide_alerts(
    world: &World,
    policy: &Policy,
    ids: &SystemIds,
    batch: &AlertBatch,
    actor: &str,
    now: DateTime<Utc>,
) -> Vec<Event> {
    decide_prepared(world, policy, ids, &Prepared::new(batch), actor, now)
}

/// [`decide_alerts`] for a payload [`Prepared`] beforehand (the server's path).
pub fn decide_prepared(
    world: &World,
    policy: &Policy,
    ids: &SystemIds,
    prepared: &Prepared,
    actor: &str,
    now: DateTime<Utc>,
) -> Vec<Event> {
    let batch = &prepared.batch;
    let key = prepared.key.clone();
    let group = world.alerts.groups.get(&key);
    let firing_now = group.map(|g| &g.firing);
    let is_new = |a: &Alert| match firing_now.and_then(|f| f.get(&a.fingerprint)) {
        None => true,
        Some(started) => a.starts_at.is_some() && *started != a.starts_at,
    };
    // Each fingerprint once per payload: the last word on it counts.
    let mut latest: BTreeMap<&str, &Alert> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for a in &batch.alerts {
        if latest.insert(&a.fingerprint, a).is_none() {
            order.push(&a.fingerprint);
        }
    }
    let alerts: Vec<&Alert> = order
        .iter()
        .filter_map(|f| latest.get(f).copied())
        .collect();
    let new_firing: Vec<&Alert> = alerts
        .iter()
        .copied()
        .filter(|a| a.firing && is_new(a))
        .collect();
    let resolved: Vec<&Alert> = alerts
        .iter()
        .copied()
        .filter(|a| !a.firing && firing_now.is_some_and(|f| f.contains_key(&a.fingerprint)))
        .collect();

    let cmd = command_id(ids, prepared, group);
    let mut out = Vec::new();
    let mut push = |incident: Uuid, body: EventBody| {
        let id = if out.is_empty() {
            cmd
        } else {
            ids.derive("ingest-event", &[cmd.as_bytes(), &out.len().to_be_bytes()])
        };
        out.push(Event {
            id,
            incident,
            actor: sanitize_line(actor).into(),
            occurred_at: now,
            body,
        });
    };

    let current = group.map(|g| g.target).filter(|t| live(world, *t));
    let target = match current {
        Some(t) => t,
        None if !new_firing.is_empty() => {
            let generation = group.map_or(0, |g| g.generation) + 1;
            let target = ids.derive("alert-target", &[key.as_bytes(), &generation.to_be_bytes()]);
            let severities: Vec<String> = policy.severities.iter().map(|s| s.id.clone()).collect();
            let first = new_firing[0];
            let m = policy.ingest.map(first, &severities, &policy.kinds);
            let mut title = short(&m.title);
            if title.is_empty() {
                title = short(&format!("alert group {}", batch.group));
            }
            let title: String = title.chars().take(super::decide::MAX_TITLE).collect();
            let services: Vec<String> = m.services.iter().map(|s| short(s)).collect();
            if policy.ingest.declares(&m.severity) {
                push(
                    target,
                    EventBody::Declared {
                        title,
                        severity: m.severity,
                        kind: m.kind,
                        impact: Box::new(Impact {
                            services,
                            ..Impact::default()
                        }),
                    },
                );
            } else {
                push(
                    target,
                    EventBody::AlertTriaged(Box::new(TriagedAlert {
                        title,
                        severity: m.severity,
                        kind: m.kind,
                        services,
                    })),
                );
            }
            target
        }
        None => {
            // Nothing new firing for a closed target: only keep the firing set true.
            if !resolved.is_empty()
                && let Some(g) = group
            {
                let left = g.firing.len() - resolved.len();
                push(
                    g.target,
                    EventBody::AlertsResolved {
                        group: key,
                        alerts: resolved.iter().map(|a| AlertLine::of(a)).collect(),
                        clear: left == 0,
                    },
                );
            }
            return out;
        }
    };

    // A more severe alert joining a live target raises it (or suggests it).
    let mut after_firing = None;
    if let Some(t) = current
        && let Some((severity, reason)) = more_severe(world, policy, t, &new_firing)
    {
        if let Some(item) = world.alerts.triage.get(&t).filter(|i| i.pending()) {
            if policy.ingest.declares(&severity) {
                push(
                    t,
                    EventBody::Declared {
                        title: item.title.clone(),
                        severity,
                        kind: item.kind.clone(),
                        impact: Box::new(Impact {
                            services: item.services.clone(),
                            ..Impact::default()
                        }),
                    },
                );
            } else {
                after_firing = Some(EventBody::SeverityChanged {
                    from: item.severity.clone(),
                    to: severity,
                    reason,
                    upgrade: false,
                });
            }
        } else if let Some(inc) = world.get(&t) {
            after_firing = Some(match policy.ingest.on_more_severe {
                OnMoreSevere::Raise => EventBody::SeverityChanged {
                    from: inc.severity.clone(),
                    upgrade: super::decide::is_upgrade(policy, inc, &severity),
                    to: severity,
                    reason,
                },
                OnMoreSevere::Suggest => EventBody::SeveritySuggested { severity, reason },
            });
        }
    }
    if !new_firing.is_empty() {
        let previous = match (current, group) {
            (None, Some(g)) => Some(g.target),
            _ => None,
        };
        push(
            target,
            EventBody::AlertsFiring {
                group: key.clone(),
                alerts: new_firing.iter().map(|a| AlertLine::of(a)).collect(),
                previous,
            },
        );
    }
    if let Some(body) = after_firing {
        push(target, body);
    }
    if !resolved.is_empty() {
        let before = firing_now.map_or(0, |f| f.len());
        let refired = new_firing
            .iter()
            .filter(|a| !firing_now.is_some_and(|f| f.contains_key(&a.fingerprint)))
            .count();
        let left = before + refired - resolved.len();
        push(
            target,
            EventBody::AlertsResolved {
                group: key.clone(),
                alerts: resolved.iter().map(|a| AlertLine::of(a)).collect(),
                clear: left == 0,
            },
        );
        if left == 0
            && let Some(inc) = world.get(&target)
            && inc.is_open()
        {
            match policy.ingest.on_clear {
                OnClear::Note => {}
                OnClear::Monitoring if inc.status != Status::Monitoring => push(
                    target,
                    EventBody::StatusChanged {
                        from: inc.status,
                        to: Status::Monitoring,
                    },
                ),
                OnClear::Monitoring => {}
                OnClear::Resolve => push(
                    target,
                    EventBody::Resolved {
                        summary: "all alerts cleared (policy: ingest.on_clear = \"resolve\")"
                            .into(),
                        forced: false,
                        override_reason: String::new(),
                        unmet: Vec::new(),
                    },
                ),
            }
        }
    }
    if batch.acknowledge
        && let Some(inc) = world.get(&target)
        && inc.is_open()
        && inc.acknowledged.is_none()
    {
        push(target, EventBody::Acknowledged);
    }
    out
}

/// The most severe level `alerts` map to, and why, when it is more severe
/// than the live target `target` has now: an open incident's severity (or a
/// pending suggestion of at least that level), or a triage item's.
fn more_severe(
    world: &World,
    policy: &Policy,
    target: Uuid,
    alerts: &[&Alert],
) -> Option<(String, String)> {
    let severities: Vec<String> = policy.severities.iter().map(|s| s.id.clone()).collect();
    let (severity, alert) = alerts
        .iter()
        .map(|a| (policy.ingest.map(a, &severities, &policy.kinds).severity, a))
        .min_by_key(|(s, _)| policy.severity_rank(s))?;
    let current = if let Some(item) = world.alerts.triage.get(&target).filter(|i| i.pending()) {
        item.severity.clone()
    } else {
        let inc = world.get(&target).filter(|i| i.is_open())?;
        match &inc.suggested {
            Some(s) if policy.severity_rank(&s.severity) < policy.severity_rank(&inc.severity) => {
                s.severity.clone()
            }
            _ => inc.severity.clone(),
        }
    };
    if policy.severity_rank(&severity) >= policy.severity_rank(&current) {
        return None;
    }
    let line = AlertLine::of(alert);
    let name = if line.name.is_empty() {
        "an alert".to_string()
    } else {
        line.name
    };
    let reason = format!("{name} is firing and maps to {severity} (policy: [ingest] rules)");
    Some((severity, reason))
}

/// Folds an alert event into the alert side of the projection and the
/// incident it concerns. Called by [`World::apply`] for every event.
pub(crate) fn fold(world: &mut World, ev: &Event) {
    let at = ev.occurred_at;
    match &ev.body {
        EventBody::AlertTriaged(t) => {
            let TriagedAlert {
                title,
                severity,
                kind,
                services,
            } = &**t;
            let a = &mut world.alerts;
            if a.triage.contains_key(&ev.incident) || world.incidents.contains_key(&ev.incident) {
                return;
            }
            a.triage_order.push(ev.incident);
            a.triage.insert(
                ev.incident,
                TriageItem {
                    id: ev.incident,
                    number: a.triage_order.len() as u64,
                    title: title.clone(),
                    severity: severity.clone(),
                    kind: kind.clone(),
                    services: services.clone(),
                    opened: Stamp {
                        at,
                        by: ev.actor.to_string(),
                    },
                    alerts: AlertLink::default(),
                    dismissed: None,
                    declared: false,
                    intake: None,
                    reporter: String::new(),
                    details: String::new(),
                },
            );
        }
        EventBody::ReportReceived(r) => {
            let Report {
                intake,
                title,
                severity,
                kind,
                reporter,
                details,
            } = &**r;
            let a = &mut world.alerts;
            if a.triage.contains_key(&ev.incident) || world.incidents.contains_key(&ev.incident) {
                return;
            }
            a.triage_order.push(ev.incident);
            a.triage.insert(
                ev.incident,
                TriageItem {
                    id: ev.incident,
                    number: a.triage_order.len() as u64,
                    title: title.clone(),
                    severity: severity.clone(),
                    kind: kind.clone(),
                    services: Vec::new(),
                    opened: Stamp {
                        at,
                        by: ev.actor.to_string(),
                    },
                    alerts: AlertLink::default(),
                    dismissed: None,
                    declared: false,
                    intake: Some(intake.clone()),
                    reporter: reporter.clone(),
                    details: details.clone(),
                },
            );
        }
        EventBody::AlertsFiring {
            group,
            alerts,
            previous,
        } => {
            let g = world.alerts.groups.entry(group.clone()).or_default();
            if g.target != ev.incident {
                g.target = ev.incident;
                g.generation += 1;
            }
            g.changes += 1;
            for a in alerts {
                g.firing.insert(a.fingerprint.clone(), a.starts_at);
            }
            let firing = g.firing.len();
            link(world, ev.incident, group, firing, *previous);
        }
        EventBody::AlertsResolved { group, alerts, .. } => {
            let Some(g) = world.alerts.groups.get_mut(group) else {
                return;
            };
            g.changes += 1;
            for a in alerts {
                g.firing.remove(&a.fingerprint);
            }
            let firing = g.firing.len();
            if g.target == ev.incident {
                link(world, ev.incident, group, firing, None);
            }
        }
        EventBody::SeverityChanged { to, .. } => {
            if let Some(t) = world.alerts.triage.get_mut(&ev.incident) {
                t.severity.clone_from(to);
            }
        }
        EventBody::TriageDismissed { .. } => {
            if let Some(t) = world.alerts.triage.get_mut(&ev.incident) {
                t.dismissed = Some(Stamp {
                    at,
                    by: ev.actor.to_string(),
                });
            }
        }
        EventBody::Declared { .. } => {
            if let Some(t) = world.alerts.triage.get_mut(&ev.incident) {
                t.declared = true;
                let carried = t.alerts.clone();
                if let Some(inc) = world.incidents.get_mut(&ev.incident)
                    && !carried.group.is_empty()
                {
                    inc.alerts = Some(carried);
                }
            }
        }
        _ => {}
    }
}

/// Points the incident or triage item `target` at its group's firing count.
fn link(world: &mut World, target: Uuid, group: &str, firing: usize, previous: Option<Uuid>) {
    let update = |l: &mut AlertLink| {
        l.group = group.to_string();
        l.firing = firing;
        if previous.is_some() {
            l.previous = previous;
        }
    };
    if let Some(inc) = world.incidents.get_mut(&target) {
        update(inc.alerts.get_or_insert_with(AlertLink::default));
    } else if let Some(t) = world.alerts.triage.get_mut(&target) {
        update(&mut t.alerts);
    }
}
