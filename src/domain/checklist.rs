//! When a checklist item counts as done: ticked by hand, or proven by what the
//! log already shows (runbook 002 Appendix A's "Acknowledge alert" once the
//! incident is acknowledged, §7.4's "Monitoring confirms stability (15+
//! minutes)" once the stability window is met). A proven item ticks itself and
//! names its evidence, so nobody ticks twice what the war room already knows.

use super::event::Channel;
use super::policy::{ChecklistItem, Policy};
use super::state::Incident;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The fact that proves an item (a checklist item's `proven_by`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Proof {
    /// The incident is declared (it exists).
    Declared,
    /// Someone acknowledged it.
    Acknowledged,
    /// Someone holds the incident commander role.
    IcAssigned,
    /// A status page update was posted.
    StatusPagePosted,
    /// Containment (mitigation) was marked.
    Contained,
    /// The policy's stability window was met in monitoring.
    StabilityWindow,
    /// The incident commander resolved it ("IC declares resolved").
    IcResolves,
}

/// How an item came to be done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Done {
    /// Ticked by hand.
    Ticked,
    /// Proven by the log; the evidence in words (`acknowledged 10:07 by bob`).
    Proven(String),
}

fn hm(t: DateTime<Utc>) -> String {
    t.format("%H:%M").to_string()
}

/// The evidence for `proof` in `inc` at `now`, if it holds.
pub fn evidence(
    inc: &Incident,
    policy: &Policy,
    proof: Proof,
    now: DateTime<Utc>,
) -> Option<String> {
    match proof {
        Proof::Declared => Some(format!(
            "declared {} by {}",
            hm(inc.declared.at),
            inc.declared.by
        )),
        Proof::Acknowledged => inc
            .acknowledged
            .as_ref()
            .map(|s| format!("acknowledged {} by {}", hm(s.at), s.by)),
        Proof::IcAssigned => inc.roles.get("ic").map(|p| format!("IC {p}")),
        Proof::StatusPagePosted => inc
            .last_update
            .get(&Channel::StatusPage)
            .map(|t| format!("status page update {}", hm(*t))),
        Proof::Contained => inc
            .contained
            .as_ref()
            .map(|s| format!("contained {} by {}", hm(s.at), s.by)),
        Proof::StabilityWindow => {
            let window = policy.resolution.stability_window?;
            if inc.resolved.is_some() {
                return inc
                    .resolved_stable
                    .then(|| format!("stable for {window} before resolving"));
            }
            let since = inc.monitoring_since?;
            (window.after(since) <= now).then(|| format!("stable since {} ({window})", hm(since)))
        }
        Proof::IcResolves => inc
            .resolved
            .as_ref()
            .filter(|_| inc.resolved_by_ic)
            .map(|s| format!("resolved {} by the IC {}", hm(s.at), s.by)),
    }
}

/// When `proof` came to hold in `inc`, if it holds (a time-boxed checklist's
/// clock is met when its last item was).
pub fn proven_at(
    inc: &Incident,
    policy: &Policy,
    proof: Proof,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    evidence(inc, policy, proof, now)?;
    match proof {
        Proof::Declared => Some(inc.declared.at),
        Proof::Acknowledged => inc.acknowledged.as_ref().map(|s| s.at),
        Proof::IcAssigned => inc.role_since.get("ic").copied().or(Some(inc.declared.at)),
        Proof::StatusPagePosted => inc.first_update.get(&Channel::StatusPage).copied(),
        Proof::Contained => inc.contained.as_ref().map(|s| s.at),
        Proof::StabilityWindow => match (&inc.resolved, inc.monitoring_since) {
            (Some(r), _) => Some(r.at),
            (None, since) => policy
                .resolution
                .stability_window
                .zip(since)
                .map(|(w, s)| w.after(s)),
        },
        Proof::IcResolves => inc.resolved.as_ref().map(|s| s.at),
    }
}

/// When `item` of `checklist` was done — ticked, waived or proven — if it is.
pub fn done_at(
    inc: &Incident,
    policy: &Policy,
    checklist: &str,
    item: &ChecklistItem,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if inc.is_checked(checklist, &item.id) {
        let ticked = inc
            .ticked_at
            .get(&format!("{checklist}/{}", item.id))
            .copied();
        // A tick from before `ticked_at` was kept counts from the declaration.
        return Some(ticked.unwrap_or(inc.declared.at));
    }
    item.proven_by.and_then(|p| proven_at(inc, policy, p, now))
}

/// Why `item` of `checklist` was waived, if it was.
pub fn waiver<'i>(inc: &'i Incident, checklist: &str, item: &str) -> Option<&'i str> {
    inc.waived
        .get(&format!("{checklist}/{item}"))
        .map(String::as_str)
}

/// Where a time-boxed checklist stands: items still open, and when the last
/// one was done once none is.
pub fn box_progress(
    inc: &Incident,
    policy: &Policy,
    list: &super::policy::Checklist,
    now: DateTime<Utc>,
) -> (usize, Option<DateTime<Utc>>) {
    let done: Vec<Option<DateTime<Utc>>> = list
        .items
        .iter()
        .map(|i| done_at(inc, policy, &list.id, i, now))
        .collect();
    let open = done.iter().filter(|d| d.is_none()).count();
    let last = if open == 0 {
        done.into_iter().flatten().max()
    } else {
        None
    };
    (open, last)
}

/// Whether `item` of `checklist` is done, and how.
pub fn item_done(
    inc: &Incident,
    policy: &Policy,
    checklist: &str,
    item: &ChecklistItem,
    now: DateTime<Utc>,
) -> Option<Done> {
    if inc.is_checked(checklist, &item.id) {
        return Some(Done::Ticked);
    }
    item.proven_by
        .and_then(|p| evidence(inc, policy, p, now))
        .map(Done::Proven)
}

/// The resolution criteria (the policy's `resolution.checklist`) not met when
/// `actor` resolves at `now`, as item texts. Items proven by the stability
/// window have their own gate (the window), and "IC declares resolved" is met
/// by the IC resolving: both are left out here.
pub fn unmet_criteria(inc: &Incident, policy: &Policy, now: DateTime<Utc>) -> Vec<String> {
    let Some(list) = policy
        .resolution
        .checklist
        .as_deref()
        .and_then(|id| policy.checklist(id))
    else {
        return Vec::new();
    };
    list.items
        .iter()
        .filter(|i| {
            !matches!(
                i.proven_by,
                Some(Proof::StabilityWindow | Proof::IcResolves)
            )
        })
        .filter(|i| item_done(inc, policy, &list.id, i, now).is_none())
        .map(|i| i.text.clone())
        .collect()
}
