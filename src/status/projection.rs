//! The public read model: what the status page may know about incidents,
//! folded from the same event log as everything else but keeping only
//! public facts — status-page posts, the title, severity, status, the
//! services named in the impact, and when each of these changed.
//!
//! Nothing else is kept, so nothing else can leak: no notes, no names (no
//! actors at all), no customer emails or internal updates. The fold is pure
//! (no clock, no I/O): the follower in [`super`] feeds it committed events.

use crate::domain::event::{Channel, Event, EventBody, Status};
use crate::domain::status_page::StatusPageConfig;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use uuid::Uuid;

/// One status-page post, as the public reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Post {
    /// The event's id: stable, so feed readers and JSON consumers de-duplicate.
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The state the post announces (the incident's status when it gave none).
    pub state: Status,
    pub body: String,
}

/// From `at` on, the incident had this severity, status and services.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub at: DateTime<Utc>,
    pub severity: String,
    pub status: Status,
    pub services: Vec<String>,
}

/// One incident as the public model knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicIncident {
    pub id: Uuid,
    pub title: String,
    pub severity: String,
    pub status: Status,
    pub services: Vec<String>,
    pub declared_at: DateTime<Utc>,
    /// The last public change (post, status, severity, services).
    pub updated_at: DateTime<Utc>,
    pub monitoring_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Oldest first.
    pub posts: Vec<Post>,
    /// Oldest first; a resolved incident ends with a `resolved` segment.
    pub history: Vec<Segment>,
    /// Set by the first status-page post made while the severity was public;
    /// never unset (a later downgrade does not unpublish what was said).
    pub public: bool,
}

impl PublicIncident {
    pub fn is_unresolved(&self) -> bool {
        self.resolved_at.is_none()
    }

    fn mark(&mut self, at: DateTime<Utc>) {
        self.updated_at = self.updated_at.max(at);
        let seg = Segment {
            at,
            severity: self.severity.clone(),
            status: self.status,
            services: self.services.clone(),
        };
        match self.history.last_mut() {
            // Several changes at one instant: the last one holds.
            Some(last) if last.at == at => *last = seg,
            _ => self.history.push(seg),
        }
    }
}

/// What an applied event changed, for the live stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Nothing public.
    None,
    /// A new public post.
    Post { incident: Uuid, post: Post },
    /// A public incident changed otherwise (status, severity, services, title).
    Other,
}

/// Every incident's public facts, plus the seq of the last event folded.
#[derive(Clone, Debug, Default)]
pub struct Projection {
    incidents: HashMap<Uuid, PublicIncident>,
    /// Declaration order.
    order: Vec<Uuid>,
    /// The last seq applied: the follower skips anything at or below it.
    pub seq: u64,
    /// When the page began to have history: the earliest event's time.
    pub started: Option<DateTime<Utc>>,
    /// When the page was set up: stands in for [`Self::started`] while the
    /// log is empty, so an empty page keeps one `ETag`.
    pub setup: Option<DateTime<Utc>>,
    /// How many public changes were folded: the page's version.
    pub changes: u64,
}

impl Projection {
    /// Public incidents, newest declaration first.
    pub fn public(&self) -> impl Iterator<Item = &PublicIncident> {
        self.order
            .iter()
            .rev()
            .filter_map(|id| self.incidents.get(id))
            .filter(|i| i.public)
    }

    pub fn get(&self, id: &Uuid) -> Option<&PublicIncident> {
        self.incidents.get(id)
    }

    /// Folds one committed event in. Total: unknown incidents and repeats
    /// (an event at or below [`Self::seq`]) change nothing.
    pub fn apply(&mut self, seq: u64, ev: &Event, config: &StatusPageConfig) -> Change {
        let change = self.fold(seq, ev, config);
        if change != Change::None {
            self.changes += 1;
        }
        change
    }

    fn fold(&mut self, seq: u64, ev: &Event, config: &StatusPageConfig) -> Change {
        if seq != 0 && seq <= self.seq {
            return Change::None;
        }
        self.seq = self.seq.max(seq);
        let at = ev.occurred_at;
        self.started = Some(self.started.map_or(at, |s| s.min(at)));
        if let EventBody::Declared {
            title,
            severity,
            impact,
            ..
        } = &ev.body
        {
            if self.incidents.contains_key(&ev.incident) {
                return Change::None;
            }
            let mut inc = PublicIncident {
                id: ev.incident,
                title: title.clone(),
                severity: severity.clone(),
                status: Status::Investigating,
                services: impact.services.clone(),
                declared_at: at,
                updated_at: at,
                monitoring_at: None,
                resolved_at: None,
                posts: Vec::new(),
                history: Vec::new(),
                public: false,
            };
            inc.mark(at);
            self.order.push(ev.incident);
            self.incidents.insert(ev.incident, inc);
            return Change::None;
        }
        let Some(inc) = self.incidents.get_mut(&ev.incident) else {
            return Change::None;
        };
        let changed = match &ev.body {
            EventBody::SeverityChanged { to, .. } => {
                inc.severity = to.clone();
                true
            }
            EventBody::StatusChanged { to, .. } => {
                set_status(inc, *to, at);
                true
            }
            EventBody::Resolved { .. } => {
                set_status(inc, Status::Resolved, at);
                true
            }
            EventBody::Closed if inc.resolved_at.is_none() => {
                set_status(inc, Status::Resolved, at);
                true
            }
            EventBody::Reopened { .. } => {
                set_status(inc, Status::Investigating, at);
                true
            }
            EventBody::ImpactUpdated { impact } => {
                inc.services = impact.services.clone();
                true
            }
            EventBody::UpdatePosted {
                channel: Channel::StatusPage,
                state,
                text,
            } => {
                let post = Post {
                    id: ev.id,
                    at,
                    state: state.unwrap_or(inc.status),
                    body: text.clone(),
                };
                inc.posts.push(post.clone());
                inc.updated_at = inc.updated_at.max(at);
                if !inc.public && config.is_public(&inc.severity) {
                    inc.public = true;
                }
                return if inc.public {
                    Change::Post {
                        incident: inc.id,
                        post,
                    }
                } else {
                    Change::None
                };
            }
            _ => false,
        };
        if !changed {
            return Change::None;
        }
        inc.mark(at);
        if inc.public {
            Change::Other
        } else {
            Change::None
        }
    }
}

fn set_status(inc: &mut PublicIncident, to: Status, at: DateTime<Utc>) {
    match to {
        Status::Monitoring if inc.status != Status::Monitoring => inc.monitoring_at = Some(at),
        Status::Monitoring => {}
        _ => inc.monitoring_at = None,
    }
    inc.resolved_at = (to == Status::Resolved).then_some(at);
    inc.status = to;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::event::{Impact, NoteKind};

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T14:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + chrono::Duration::minutes(min)
    }

    fn ev(inc: Uuid, min: i64, body: EventBody) -> Event {
        Event {
            id: Uuid::new_v4(),
            incident: inc,
            actor: "alice".into(),
            occurred_at: t(min),
            body,
        }
    }

    fn declared(sev: &str) -> EventBody {
        EventBody::Declared {
            title: "Checkout down".into(),
            severity: sev.into(),
            kind: "availability".into(),
            impact: Box::new(Impact {
                summary: "internal summary".into(),
                services: vec!["checkout-api".into()],
                customers: "acme@example.com".into(),
                data_exposure: false,
                bridge: String::new(),
            }),
        }
    }

    fn post(state: Option<Status>, text: &str) -> EventBody {
        EventBody::UpdatePosted {
            channel: Channel::StatusPage,
            state,
            text: text.into(),
        }
    }

    fn config() -> StatusPageConfig {
        StatusPageConfig {
            public_severities: Some(vec!["P1".into(), "P2".into()]),
            ..Default::default()
        }
    }

    #[test]
    fn only_status_page_posts_of_public_incidents_are_kept_and_announced() {
        let c = config();
        let mut p = Projection::default();
        let a = Uuid::new_v4();
        assert_eq!(p.apply(1, &ev(a, 0, declared("P1")), &c), Change::None);
        let note = EventBody::Note {
            kind: NoteKind::Note,
            text: "secret note".into(),
        };
        assert_eq!(p.apply(2, &ev(a, 1, note), &c), Change::None);
        let internal = EventBody::UpdatePosted {
            channel: Channel::Internal,
            state: None,
            text: "internal update".into(),
        };
        assert_eq!(p.apply(3, &ev(a, 2, internal), &c), Change::None);
        assert_eq!(p.public().count(), 0, "not public before a post");
        let change = p.apply(4, &ev(a, 3, post(None, "We are investigating")), &c);
        assert!(matches!(change, Change::Post { .. }), "{change:?}");
        let inc = p.public().next().unwrap();
        assert_eq!(inc.posts.len(), 1);
        assert_eq!(inc.posts[0].state, Status::Investigating);
        assert_eq!(inc.posts[0].body, "We are investigating");
        let status = EventBody::StatusChanged {
            from: Status::Investigating,
            to: Status::Monitoring,
        };
        assert_eq!(p.apply(5, &ev(a, 10, status), &c), Change::Other);
        assert_eq!(p.get(&a).unwrap().monitoring_at, Some(t(10)));
        // A repeat (same seq) changes nothing.
        let again = ev(a, 11, post(None, "dup"));
        assert_eq!(p.apply(5, &again, &c), Change::None);
        assert_eq!(p.get(&a).unwrap().posts.len(), 1);
    }

    #[test]
    fn a_post_at_a_private_severity_stays_private() {
        let c = config();
        let mut p = Projection::default();
        let a = Uuid::new_v4();
        p.apply(1, &ev(a, 0, declared("P4")), &c);
        assert_eq!(p.apply(2, &ev(a, 1, post(None, "x")), &c), Change::None);
        assert_eq!(p.public().count(), 0);
        let up = EventBody::SeverityChanged {
            from: "P4".into(),
            to: "P2".into(),
            reason: "r".into(),
            upgrade: true,
        };
        p.apply(3, &ev(a, 2, up), &c);
        assert!(matches!(
            p.apply(4, &ev(a, 3, post(None, "y")), &c),
            Change::Post { .. }
        ));
        assert_eq!(p.public().next().unwrap().posts.len(), 2);
    }

    #[test]
    fn history_records_each_public_change_and_resolution() {
        let c = config();
        let mut p = Projection::default();
        let a = Uuid::new_v4();
        p.apply(1, &ev(a, 0, declared("P2")), &c);
        p.apply(2, &ev(a, 1, post(Some(Status::Investigating), "x")), &c);
        let up = EventBody::SeverityChanged {
            from: "P2".into(),
            to: "P1".into(),
            reason: "r".into(),
            upgrade: true,
        };
        p.apply(3, &ev(a, 5, up), &c);
        let resolved = EventBody::Resolved {
            summary: "s".into(),
            forced: false,
            override_reason: String::new(),
            unmet: Vec::new(),
        };
        p.apply(4, &ev(a, 30, resolved), &c);
        let inc = p.get(&a).unwrap();
        let h: Vec<(DateTime<Utc>, &str, Status)> = inc
            .history
            .iter()
            .map(|s| (s.at, s.severity.as_str(), s.status))
            .collect();
        assert_eq!(
            h,
            [
                (t(0), "P2", Status::Investigating),
                (t(5), "P1", Status::Investigating),
                (t(30), "P1", Status::Resolved)
            ]
        );
        assert_eq!(inc.resolved_at, Some(t(30)));
        p.apply(
            5,
            &ev(a, 40, EventBody::Reopened { reason: "r".into() }),
            &c,
        );
        assert_eq!(p.get(&a).unwrap().resolved_at, None);
    }
}
