//! The client's local copy of the log: every recorded event, the folded
//! [`World`], and per-incident timelines as indices (no copies), so a
//! 100,000-event timeline costs one `Vec` of events plus one `u32` per entry.

use crate::domain::event::Recorded;
use crate::domain::state::World;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Default)]
pub struct Replica {
    pub world: World,
    events: Vec<Recorded>,
    by_incident: HashMap<Uuid, Vec<u32>>,
    last_seq: u64,
    /// Every author's name once: the events share it instead of each holding
    /// a copy (a 100,000-event log has a handful of authors; 4 MB saved).
    authors: HashSet<Arc<str>>,
}

impl Replica {
    /// Highest seq applied; catch-up resumes after it.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Applies events in seq order; ones at or below `last_seq` are skipped, so
    /// overlapping catch-up pages and stream deliveries are harmless.
    pub fn apply(&mut self, mut rec: Recorded) -> bool {
        if rec.seq <= self.last_seq {
            return false;
        }
        match self.authors.get(&*rec.event.actor) {
            Some(known) => rec.event.actor = known.clone(),
            None => {
                self.authors.insert(rec.event.actor.clone());
            }
        }
        self.last_seq = rec.seq;
        self.world.apply(&rec.event);
        let idx = u32::try_from(self.events.len()).unwrap_or(u32::MAX);
        self.by_incident
            .entry(rec.event.incident)
            .or_default()
            .push(idx);
        self.events.push(rec);
        true
    }

    /// Makes room for a batch about to be applied. Exact, not doubling: the log
    /// only grows, a 100,000-event replica must stay small, and glibc grows
    /// large buffers in place (mremap), so this costs no copying.
    pub fn reserve(&mut self, additional: usize) {
        self.events.reserve_exact(additional);
    }

    /// Every event, oldest first.
    pub fn events(&self) -> &[Recorded] {
        &self.events
    }

    /// Number of timeline entries of one incident.
    pub fn timeline_len(&self, incident: &Uuid) -> usize {
        self.by_incident.get(incident).map_or(0, Vec::len)
    }

    /// The `i`-th event of an incident's timeline (oldest first).
    pub fn timeline_entry(&self, incident: &Uuid, i: usize) -> Option<&Recorded> {
        let idx = *self.by_incident.get(incident)?.get(i)?;
        self.events.get(idx as usize)
    }

    /// An incident's timeline, oldest first.
    pub fn timeline<'a>(
        &'a self,
        incident: &Uuid,
    ) -> impl DoubleEndedIterator<Item = &'a Recorded> + 'a {
        self.by_incident
            .get(incident)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .filter_map(|&i| self.events.get(i as usize))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::command::Action;
    use crate::domain::event::NoteKind;
    use crate::domain::testkit::{Harness, POLICY};

    fn note(text: &str) -> Action {
        Action::Note {
            kind: NoteKind::Note,
            text: text.into(),
        }
    }

    /// Events arrive with an author's name each (parsed from JSON); the
    /// replica keeps one copy of every name, shared by that author's events.
    #[test]
    fn events_by_one_author_share_one_name() {
        let mut h = Harness::new(crate::domain::policy::Policy::from_toml(POLICY).unwrap());
        let key = h.declare("db down", "P2");
        h.run("alice", &key, note("first"));
        h.run("bob", &key, note("second"));
        h.run("alice", &key, note("third"));
        let mut replica = Replica::default();
        for (i, ev) in h.log.iter().enumerate() {
            // As from the wire: every event its own allocation.
            let mut ev = ev.clone();
            ev.actor = Arc::from(ev.actor.to_string());
            replica.apply(Recorded {
                seq: i as u64 + 1,
                recorded_at: ev.occurred_at,
                event: ev,
            });
        }
        let by = |name: &str| -> Vec<&Arc<str>> {
            replica
                .events()
                .iter()
                .map(|r| &r.event.actor)
                .filter(|a| &***a == name)
                .collect()
        };
        let alice = by("alice");
        assert!(alice.len() >= 3, "{alice:?}");
        assert!(alice.iter().all(|a| Arc::ptr_eq(a, alice[0])));
        assert!(!Arc::ptr_eq(alice[0], by("bob")[0]));
        assert_eq!(replica.authors.len(), 2, "{:?}", replica.authors);
    }
}
