//! When two decisions made concurrently on two replicas can both stand.
//!
//! Every replica decides against its own copy of the model, which lags the
//! log by whatever the others committed since it last caught up. Refusing
//! every append that was decided before the latest foreign commit is correct
//! but, with several busy replicas, refuses almost everything (and a replica
//! that rebuilds its model on every foreign commit decides one command per
//! round trip). This module says, per event, what part of the model a
//! decision that produced it depends on (its [`Scope`]s), and which events
//! commute with each other, so that:
//!
//! - the store refuses an append only when a foreign event committed after the
//!   append's base touches one of its scopes ([`Touched`]), and
//! - a replica folds foreign events into its decision model in arrival order,
//!   on top of its own not-yet-committed appends, unless one touches a scope
//!   those appends depend on ([`Pending`]) — then it rebuilds instead.
//!
//! Both use [`conflicts`], so the rule is stated once.
//!
//! Why per incident is enough: `decide` reads the incident a command names,
//! and the event it writes changes only that incident — except for what is
//! numbered or shared across incidents (incident numbers follow the order of
//! declarations; the alert groups and the triage queue are one structure),
//! which is [`Scope::Global`]. Two notes commute: folding a note only counts
//! it and moves the incident's last activity (a maximum), and who has acted
//! since a page keeps the earliest time, so any order gives the same model.

use super::event::{Event, EventBody};
use std::collections::HashMap;
use uuid::Uuid;

/// A part of the model a decision reads and its events change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// One incident (or triage item): its state and timeline.
    Incident(Uuid),
    /// What spans incidents: the numbering of declarations, the alert groups
    /// and the triage queue.
    Global,
}

/// The scopes of one event: its incident, and [`Scope::Global`] when it
/// numbers a declaration or moves the alert side.
pub fn scopes(ev: &Event) -> impl Iterator<Item = Scope> {
    let global = matches!(
        ev.body,
        EventBody::Declared { .. }
            | EventBody::AlertTriaged { .. }
            | EventBody::AlertsFiring { .. }
            | EventBody::AlertsResolved { .. }
            | EventBody::TriageDismissed { .. }
    );
    std::iter::once(Scope::Incident(ev.incident)).chain(global.then_some(Scope::Global))
}

/// Whether folding this event commutes with folding any other commuting
/// event of the same scope (and a decision producing it depends on no such
/// event): notes.
pub fn commutes(ev: &Event) -> bool {
    matches!(ev.body, EventBody::Note { .. })
}

/// The latest seqs at which events of one scope were committed by others:
/// `(any event, a non-commuting event)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Marks {
    any: u64,
    changed: u64,
}

/// The rule: an event decided against the model at `base` still stands when
/// no foreign event after `base` touched its scopes — or when it and every
/// such event commute.
fn conflicts(marks: Marks, base: u64, ev: &Event) -> bool {
    if commutes(ev) {
        marks.changed > base
    } else {
        marks.any > base
    }
}

/// What others committed, per scope (the store's writer keeps one, fed under
/// the head lock with every foreign event).
#[derive(Debug, Default)]
pub struct Touched {
    marks: HashMap<Scope, Marks>,
}

impl Touched {
    /// Records a foreign event committed at `seq`.
    pub fn record(&mut self, seq: u64, ev: &Event) {
        let changed = !commutes(ev);
        for scope in scopes(ev) {
            let m = self.marks.entry(scope).or_default();
            m.any = m.any.max(seq);
            if changed {
                m.changed = m.changed.max(seq);
            }
        }
    }

    /// The seq of a foreign commit after `base` that makes a decision which
    /// produced `events` stale, if there is one.
    pub fn stale(&self, base: u64, events: &[Event]) -> Option<u64> {
        events
            .iter()
            .flat_map(|ev| scopes(ev).map(move |s| (s, ev)))
            .filter_map(|(s, ev)| {
                let m = *self.marks.get(&s)?;
                conflicts(m, base, ev).then_some(if commutes(ev) { m.changed } else { m.any })
            })
            .max()
    }
}

/// A replica's own appends that are decided (folded into its decision model)
/// but not yet answered by the store, counted per scope.
#[derive(Debug, Default)]
pub struct Pending {
    /// `(appends, appends with a non-commuting event)` per scope.
    counts: HashMap<Scope, (usize, usize)>,
}

impl Pending {
    /// Counts an append's events as in flight.
    pub fn add(&mut self, events: &[Event]) {
        for ev in events {
            let changed = usize::from(!commutes(ev));
            for s in scopes(ev) {
                let c = self.counts.entry(s).or_default();
                c.0 += 1;
                c.1 += changed;
            }
        }
    }

    /// Forgets an answered append (the same events [`Pending::add`] counted).
    pub fn remove(&mut self, events: &[Event]) {
        for ev in events {
            let changed = usize::from(!commutes(ev));
            for s in scopes(ev) {
                if let Some(c) = self.counts.get_mut(&s) {
                    c.0 = c.0.saturating_sub(1);
                    c.1 = c.1.saturating_sub(changed);
                    if c.0 == 0 {
                        self.counts.remove(&s);
                    }
                }
            }
        }
    }

    /// Whether folding the foreign event `ev` now, on top of the appends in
    /// flight, could give a model the log will not have: it touches a scope
    /// of one of them and they do not commute.
    pub fn clashes(&self, ev: &Event) -> bool {
        let commuting = commutes(ev);
        scopes(ev).any(|s| {
            self.counts
                .get(&s)
                .is_some_and(|&(any, changed)| if commuting { changed > 0 } else { any > 0 })
        })
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::NoteKind;
    use chrono::Utc;

    fn ev(incident: Uuid, body: EventBody) -> Event {
        Event {
            id: Uuid::new_v4(),
            incident,
            actor: "ic".into(),
            occurred_at: Utc::now(),
            body,
        }
    }

    fn note(incident: Uuid) -> Event {
        ev(
            incident,
            EventBody::Note {
                kind: NoteKind::Note,
                text: "x".into(),
            },
        )
    }

    fn ack(incident: Uuid) -> Event {
        ev(incident, EventBody::Acknowledged)
    }

    fn declared(incident: Uuid) -> Event {
        ev(
            incident,
            EventBody::Declared {
                title: "t".into(),
                severity: "P2".into(),
                kind: "outage".into(),
                impact: Default::default(),
            },
        )
    }

    #[test]
    fn another_incident_never_makes_a_decision_stale() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut t = Touched::default();
        t.record(10, &ack(b));
        assert_eq!(t.stale(5, &[ack(a)]), None);
        assert_eq!(t.stale(5, &[ack(b)]), Some(10));
        // Decided after seeing it: stands.
        assert_eq!(t.stale(10, &[ack(b)]), None);
    }

    #[test]
    fn notes_commute_with_notes_but_not_with_changes() {
        let a = Uuid::new_v4();
        let mut t = Touched::default();
        t.record(7, &note(a));
        assert_eq!(t.stale(5, &[note(a)]), None);
        assert_eq!(t.stale(5, &[ack(a)]), Some(7));
        t.record(8, &ack(a));
        assert_eq!(t.stale(5, &[note(a)]), Some(8));
    }

    #[test]
    fn declarations_are_numbered_globally() {
        let mut t = Touched::default();
        t.record(3, &declared(Uuid::new_v4()));
        assert_eq!(t.stale(2, &[declared(Uuid::new_v4())]), Some(3));
        assert_eq!(t.stale(2, &[note(Uuid::new_v4())]), None);
    }

    #[test]
    fn pending_clashes_follow_the_same_rule() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut p = Pending::default();
        let mine = vec![note(a)];
        p.add(&mine);
        assert!(!p.clashes(&note(a)));
        assert!(p.clashes(&ack(a)));
        assert!(!p.clashes(&ack(b)));
        let change = vec![ack(b)];
        p.add(&change);
        assert!(p.clashes(&note(b)));
        p.remove(&change);
        p.remove(&mine);
        assert!(p.is_empty());
        assert!(!p.clashes(&ack(a)));
    }
}
