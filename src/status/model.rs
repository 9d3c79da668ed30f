//! The page as data: components with their current status and 90 days of
//! history, the overall indicator, and the incidents to show. Computed once
//! per change from the [`Projection`] (and the clock, passed in); the HTML,
//! the Statuspage JSON and the Atom feed are all rendered from this one model,
//! so they cannot disagree.

use super::projection::{Projection, PublicIncident};
use crate::domain::policy::Policy;
use crate::domain::status_page::{ComponentStatus, PublicImpact, component_status};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

/// How far back the history and the uptime bars go.
pub const HISTORY_DAYS: i64 = 90;

/// One day of one component.
#[derive(Clone, Debug, PartialEq)]
pub struct Day {
    pub date: NaiveDate,
    /// The worst status the component had that day.
    pub worst: ComponentStatus,
    /// Weighted minutes of downtime (see [`ComponentStatus::downtime_weight`]).
    pub downtime_minutes: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Component {
    pub id: String,
    pub service: String,
    pub name: String,
    pub description: String,
    pub status: ComponentStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Oldest first, [`HISTORY_DAYS`] of them, today last.
    pub days: Vec<Day>,
    /// Percent over the days shown.
    pub uptime: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Incident {
    pub inc: PublicIncident,
    pub impact: PublicImpact,
    /// Indexes into [`Page::components`].
    pub components: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub id: String,
    pub name: String,
    /// Absolute public URL (ends with `/`), or empty.
    pub url: String,
    pub updated_at: DateTime<Utc>,
    pub indicator: PublicImpact,
    pub components: Vec<Component>,
    /// Public incidents unresolved or declared within [`HISTORY_DAYS`], newest first.
    pub incidents: Vec<Incident>,
    /// How many public changes the page has seen: its version for the live stream.
    pub version: u64,
}

impl Page {
    pub fn unresolved(&self) -> impl Iterator<Item = &Incident> {
        self.incidents.iter().filter(|i| i.inc.is_unresolved())
    }

    pub fn resolved(&self) -> impl Iterator<Item = &Incident> {
        self.incidents.iter().filter(|i| !i.inc.is_unresolved())
    }
}

/// A stable opaque id from a name (Statuspage ids are opaque strings).
pub fn stable_id(kind: &str, name: &str) -> String {
    Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("warroom:{kind}:{name}").as_bytes(),
    )
    .simple()
    .to_string()
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_time(chrono::NaiveTime::MIN))
}

/// What one incident does to one service over time: `(from, to, status)`
/// intervals, `to` capped at `now` for the segment still running.
fn intervals<'a>(
    inc: &'a PublicIncident,
    service: &'a str,
    policy: &'a Policy,
    now: DateTime<Utc>,
) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>, ComponentStatus)> + 'a {
    inc.history.iter().enumerate().filter_map(move |(i, seg)| {
        if !seg.services.iter().any(|s| s == service) {
            return None;
        }
        let end = inc.history.get(i + 1).map_or(now, |next| next.at).min(now);
        let status = component_status(policy.public_impact(&seg.severity), seg.status);
        (end > seg.at && status != ComponentStatus::Operational).then_some((seg.at, end, status))
    })
}

fn days_of(
    incidents: &[&PublicIncident],
    service: &str,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Vec<Day> {
    let today = now.date_naive();
    let first = today - Duration::days(HISTORY_DAYS - 1);
    let mut days: Vec<Day> = (0..HISTORY_DAYS)
        .map(|d| Day {
            date: first + Duration::days(d),
            worst: ComponentStatus::Operational,
            downtime_minutes: 0.0,
        })
        .collect();
    for inc in incidents {
        for (from, to, status) in intervals(inc, service, policy, now) {
            let mut day = from.date_naive().max(first);
            while day <= to.date_naive() && day <= today {
                let start = from.max(midnight(day));
                let end = to.min(midnight(day + Duration::days(1)));
                if end > start {
                    let idx = (day - first).num_days();
                    if let Some(d) = usize::try_from(idx).ok().and_then(|i| days.get_mut(i)) {
                        d.worst = d.worst.max(status);
                        let minutes = (end - start).num_seconds() as f64 / 60.0;
                        // Overlapping incidents must not count a minute twice.
                        d.downtime_minutes =
                            (d.downtime_minutes + minutes * status.downtime_weight()).min(1440.0);
                    }
                }
                day += Duration::days(1);
            }
        }
    }
    days
}

/// Percent up over the days, counting today only up to `now`.
fn uptime(days: &[Day], now: DateTime<Utc>) -> f64 {
    let today_minutes = (now - midnight(now.date_naive())).num_seconds() as f64 / 60.0;
    let total = (days.len().saturating_sub(1)) as f64 * 1440.0 + today_minutes.max(1.0);
    let down: f64 = days.iter().map(|d| d.downtime_minutes).sum();
    ((total - down).max(0.0) / total * 100.0).clamp(0.0, 100.0)
}

/// What an incident does right now to a service it names.
fn current(inc: &PublicIncident, policy: &Policy) -> ComponentStatus {
    component_status(policy.public_impact(&inc.severity), inc.status)
}

/// Builds the page model at `now`.
pub fn build(projection: &Projection, policy: &Policy, now: DateTime<Utc>) -> Page {
    let config = &policy.status_page;
    let horizon = now - Duration::days(HISTORY_DAYS);
    let shown: Vec<&PublicIncident> = projection
        .public()
        .filter(|i| i.is_unresolved() || i.declared_at >= horizon || i.updated_at >= horizon)
        .collect();
    let started = projection
        .started
        .or(projection.setup)
        .unwrap_or(now)
        .min(now);

    // Configured components, or the services the shown incidents name.
    let mut wanted: Vec<(String, String, String)> = config
        .components
        .iter()
        .map(|c| (c.service.clone(), c.name.clone(), c.description.clone()))
        .collect();
    if wanted.is_empty() {
        let mut names: Vec<&str> = shown
            .iter()
            .flat_map(|i| i.history.iter().flat_map(|s| s.services.iter()))
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names.dedup();
        wanted = names
            .into_iter()
            .map(|s| (s.to_string(), s.to_string(), String::new()))
            .collect();
    }

    let components: Vec<Component> = wanted
        .into_iter()
        .map(|(service, name, description)| {
            let naming: Vec<&PublicIncident> = shown
                .iter()
                .copied()
                .filter(|i| i.history.iter().any(|s| s.services.contains(&service)))
                .collect();
            let status = naming
                .iter()
                .filter(|i| i.is_unresolved() && i.services.contains(&service))
                .map(|i| current(i, policy))
                .max()
                .unwrap_or(ComponentStatus::Operational);
            let updated_at = naming
                .iter()
                .flat_map(|i| i.history.iter())
                .filter(|s| s.at <= now)
                .map(|s| s.at)
                .max()
                .unwrap_or(started);
            let days = days_of(&naming, &service, policy, now);
            Component {
                id: stable_id("component", &service),
                uptime: uptime(&days, now),
                created_at: started,
                updated_at: updated_at.max(started),
                service,
                name,
                description,
                status,
                days,
            }
        })
        .collect();

    let incidents: Vec<Incident> = shown
        .iter()
        .map(|inc| Incident {
            impact: policy.public_impact(&inc.severity),
            components: components
                .iter()
                .enumerate()
                .filter(|(_, c)| inc.services.contains(&c.service))
                .map(|(i, _)| i)
                .collect(),
            inc: (*inc).clone(),
        })
        .collect();

    let indicator = incidents
        .iter()
        .filter(|i| i.inc.is_unresolved())
        .map(|i| match current(&i.inc, policy) {
            ComponentStatus::MajorOutage => PublicImpact::Critical,
            ComponentStatus::PartialOutage => PublicImpact::Major,
            // An open incident is never "all operational", even in monitoring.
            ComponentStatus::DegradedPerformance | ComponentStatus::Operational => {
                PublicImpact::Minor
            }
        })
        .max()
        .unwrap_or(PublicImpact::None);

    let updated_at = incidents
        .iter()
        .map(|i| i.inc.updated_at)
        .max()
        .unwrap_or(started);
    let url = match config.url.trim() {
        "" => String::new(),
        u if u.ends_with('/') => u.to_string(),
        u => format!("{u}/"),
    };
    let name = config.title(policy).to_string();
    Page {
        id: stable_id("page", &name),
        name,
        url,
        updated_at,
        indicator,
        components,
        incidents,
        version: projection.changes,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::event::{Channel, Event, EventBody, Impact};
    use crate::domain::status_page::ComponentConfig;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn ev(inc: Uuid, at: &str, body: EventBody) -> Event {
        Event {
            id: Uuid::new_v4(),
            incident: inc,
            actor: "alice".into(),
            occurred_at: t(at),
            body,
        }
    }

    fn policy() -> Policy {
        let mut p = Policy::builtin_default();
        p.status_page.components = vec![
            ComponentConfig {
                service: "checkout-api".into(),
                name: "Checkout".into(),
                description: String::new(),
            },
            ComponentConfig {
                service: "search".into(),
                name: "Search".into(),
                description: String::new(),
            },
        ];
        p
    }

    /// A P1 on checkout from 22:00 to 02:00 the next day: two days with a major
    /// outage of two hours each, search untouched, and the page back to
    /// operational once it is resolved.
    #[test]
    fn an_outage_across_midnight_marks_both_days() {
        let p = policy();
        let mut proj = Projection::default();
        let a = Uuid::new_v4();
        let declared = EventBody::Declared {
            title: "Checkout down".into(),
            severity: "P1".into(),
            kind: "availability".into(),
            impact: Box::new(Impact {
                services: vec!["checkout-api".into()],
                ..Default::default()
            }),
        };
        proj.apply(1, &ev(a, "2026-11-22T22:00:00Z", declared), &p.status_page);
        let post = EventBody::UpdatePosted {
            channel: Channel::StatusPage,
            state: None,
            text: "Investigating".into(),
        };
        proj.apply(2, &ev(a, "2026-11-22T22:05:00Z", post), &p.status_page);
        let during = build(&proj, &p, t("2026-11-23T01:00:00Z"));
        assert_eq!(during.components[0].status, ComponentStatus::MajorOutage);
        assert_eq!(during.components[1].status, ComponentStatus::Operational);
        assert_eq!(during.indicator, PublicImpact::Critical);
        let resolved = EventBody::Resolved {
            summary: String::new(),
            forced: false,
            override_reason: String::new(),
            unmet: Vec::new(),
        };
        proj.apply(3, &ev(a, "2026-11-23T02:00:00Z", resolved), &p.status_page);
        let page = build(&proj, &p, t("2026-11-23T12:00:00Z"));
        assert_eq!(page.indicator, PublicImpact::None);
        let checkout = &page.components[0];
        assert_eq!(checkout.status, ComponentStatus::Operational);
        assert_eq!(checkout.days.len(), 90);
        let last_two: Vec<(ComponentStatus, i64)> = checkout.days[88..]
            .iter()
            .map(|d| (d.worst, d.downtime_minutes.round() as i64))
            .collect();
        assert_eq!(
            last_two,
            [
                (ComponentStatus::MajorOutage, 120),
                (ComponentStatus::MajorOutage, 120)
            ]
        );
        assert!(
            checkout.days[..88]
                .iter()
                .all(|d| d.worst == ComponentStatus::Operational)
        );
        assert!(
            checkout.uptime < 100.0 && checkout.uptime > 99.0,
            "{}",
            checkout.uptime
        );
        assert_eq!(page.components[1].uptime, 100.0);
        assert_eq!(page.incidents.len(), 1);
        assert_eq!(page.incidents[0].components, [0]);
    }
}
