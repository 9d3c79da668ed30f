//! Who covers for whom: runbook 003's Backup column ("Incident Commander —
//! Backup: Engineering lead") and 001's "If the incident lead is unavailable,
//! escalate to the next defined backup". An escalation lists the backups
//! first and, when a primary was called and did not answer in time, offers
//! that primary's backup as the target; a hand-off offers the role's backup
//! as the incoming person.

use super::policy::{Policy, Role};
use super::routing::answer_clocks;
use super::state::Incident;
use chrono::{DateTime, Utc};

/// One backup the war room offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupOffer {
    /// The role's name (`Incident Commander`).
    pub role: String,
    /// Who holds the role now, if anyone.
    pub holder: Option<String>,
    /// The runbook's backup for it (`Engineering lead`).
    pub backup: String,
    /// The holder (or the role, by name) was called and did not answer in
    /// time: escalate to the backup.
    pub unanswered: bool,
}

impl BackupOffer {
    /// `Incident Commander (alice) → Engineering lead`, with `— did not answer`
    /// when the primary did not.
    pub fn describe(&self) -> String {
        let holder = self
            .holder
            .as_deref()
            .map_or_else(String::new, |h| format!(" ({h})"));
        let late = if self.unanswered {
            " — did not answer in time"
        } else {
            ""
        };
        format!("{}{holder} → {}{late}", self.role, self.backup)
    }
}

/// Whether a call to `who` is a call to the holder of `role` (by the
/// holder's name) or to the role itself (by its name, e.g. an escalation
/// rule's "Incident lead (on-call or engineering lead)" for the role
/// "Incident Lead").
fn calls_role(who: &str, role: &Role, holder: Option<&str>) -> bool {
    let who = who.trim().trim_start_matches('@').to_lowercase();
    holder.is_some_and(|h| h.trim_start_matches('@').eq_ignore_ascii_case(&who))
        || who.starts_with(&role.name.to_lowercase())
}

/// The backups of every role that has one, those whose primary did not
/// answer first. A primary did not answer when a page or escalation to them
/// has an answer clock (the directory's `respond_within`) that ran out
/// unanswered.
pub fn offers(inc: &Incident, policy: &Policy, now: DateTime<Utc>) -> Vec<BackupOffer> {
    let late: Vec<String> = answer_clocks(inc, policy)
        .into_iter()
        .filter(|a| a.answered_at.is_none() && a.due_at <= now)
        .map(|a| a.who)
        .collect();
    let mut out: Vec<BackupOffer> = policy
        .roles
        .iter()
        .filter_map(|r| {
            let backup = r.backup.clone()?;
            let holder = inc.roles.get(&r.id).cloned();
            let unanswered = late.iter().any(|w| calls_role(w, r, holder.as_deref()));
            Some(BackupOffer {
                role: r.name.clone(),
                holder,
                backup,
                unanswered,
            })
        })
        .collect();
    out.sort_by_key(|o| !o.unanswered);
    out
}

/// The escalation target to pre-fill: the backup of a primary who did not
/// answer, if any (otherwise the escalation path's next step applies).
pub fn escalation_target(inc: &Incident, policy: &Policy, now: DateTime<Utc>) -> Option<String> {
    offers(inc, policy, now)
        .into_iter()
        .find(|o| o.unanswered)
        .map(|o| o.backup)
}

/// The person a hand-off of `role` offers first: the runbook's backup.
pub fn handoff_target<'p>(policy: &'p Policy, role: &str) -> Option<&'p str> {
    policy.role(role).and_then(|r| r.backup.as_deref())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::command::Action;
    use crate::domain::policy::presets;
    use crate::domain::testkit::{Harness, at};

    /// 003's Backup column, listed; nothing pressing while nobody was called.
    #[test]
    fn every_role_with_a_backup_is_offered() {
        let mut h = Harness::new(Policy::from_toml(presets::find("003").unwrap()).unwrap());
        let key = h.declare("Leaked key", "critical");
        let o = offers(h.inc(&key), &h.policy, h.now);
        let lines: Vec<String> = o.iter().map(BackupOffer::describe).collect();
        assert_eq!(
            lines,
            [
                "Incident Commander (alice) → Engineering lead",
                "Mitigation Owner → Senior engineer",
                "Communications Owner → PM",
                "Security Owner → Security reviewer",
            ]
        );
        assert_eq!(escalation_target(h.inc(&key), &h.policy, h.now), None);
        assert_eq!(handoff_target(&h.policy, "ic"), Some("Engineering lead"));
        assert_eq!(handoff_target(&h.policy, "nobody"), None);
    }

    /// 001 "If the incident lead is unavailable, escalate to the next defined
    /// backup": a lead paged who does not answer within their response time
    /// makes the backup the escalation's target, listed first.
    #[test]
    fn a_primary_who_does_not_answer_makes_the_backup_the_target() {
        let text = format!(
            "{}\n[[notify.directory]]\nname = \"dana\"\nrespond_within = \"10m\"\n",
            presets::find("001").unwrap()
        );
        let mut h = Harness::new(Policy::from_toml(&text).unwrap());
        let key = h.declare("Tenant data exposed", "high");
        h.run("alice", &key, Action::ReleaseRole { role: "ic".into() });
        h.run(
            "alice",
            &key,
            Action::AssignRole {
                role: "ic".into(),
                person: "dana".into(),
                note: String::new(),
            },
        );
        h.run(
            "alice",
            &key,
            Action::Page {
                who: "dana".into(),
                reason: "you lead this one".into(),
            },
        );
        h.at(9);
        assert_eq!(escalation_target(h.inc(&key), &h.policy, h.now), None);
        h.at(11);
        let o = offers(h.inc(&key), &h.policy, h.now);
        assert_eq!(
            o[0].describe(),
            "Incident Lead (dana) → The next defined backup — did not answer in time"
        );
        assert_eq!(
            escalation_target(h.inc(&key), &h.policy, h.now).as_deref(),
            Some("The next defined backup")
        );
        // Once she acts in the incident she has answered (late): nothing pressing.
        h.run(
            "dana",
            &key,
            Action::Note {
                kind: crate::domain::event::NoteKind::Note,
                text: "on it".into(),
            },
        );
        assert_eq!(escalation_target(h.inc(&key), &h.policy, at(12)), None);
    }
}
