//! The client's local copy of the log: every recorded event, the folded
//! [`World`], and per-incident timelines as indices (no copies), so a
//! 100,000-event timeline costs one `Vec` of events plus one `u32` per entry.

use crate::domain::event::Recorded;
use crate::domain::state::World;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug, Default)]
pub struct Replica {
    pub world: World,
    events: Vec<Recorded>,
    by_incident: HashMap<Uuid, Vec<u32>>,
    last_seq: u64,
}

impl Replica {
    /// Highest seq applied; catch-up resumes after it.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Applies events in seq order; ones at or below `last_seq` are skipped, so
    /// overlapping catch-up pages and stream deliveries are harmless.
    pub fn apply(&mut self, rec: Recorded) -> bool {
        if rec.seq <= self.last_seq {
            return false;
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
