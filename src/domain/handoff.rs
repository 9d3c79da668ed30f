//! Hand-offs: a role changes hands only when the incoming person takes it.
//!
//! Handing the IC role to someone who is not at the keyboard, or who never
//! saw the message, leaves an incident with a commander nobody is being. So
//! assigning a role someone else holds only *offers* it: the holder keeps it,
//! both are shown ("IC: alice → bob (pending)"), and the role moves when the
//! incoming person accepts. They may decline instead; the holder keeps it.
//!
//! The rules, in one place:
//! - Assigning a vacant role assigns it at once (nobody is handing anything over).
//! - Assigning a held role to yourself is taking it: the hand-off is immediate.
//! - Assigning a held role to someone else offers it; a later offer replaces
//!   an earlier one, and offering it again to the same person changes nothing.
//! - Only the person offered the role may accept or decline it.
//! - Releasing the role, or any change of holder, withdraws the offer.

use super::decide::{DomainError, Out, optional_text};
use super::event::{EventBody, RoleChange, RoleRefusal};
use super::state::Incident;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A role offered to someone, waiting for their answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoleOffer {
    /// Who holds the role now (and keeps it until `to` accepts).
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub note: String,
    /// Who offered it, and when.
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Whether `actor` is `person` (handles are compared without case: `@Bob` is bob).
pub fn same_person(a: &str, b: &str) -> bool {
    a.trim_start_matches('@')
        .eq_ignore_ascii_case(b.trim_start_matches('@'))
}

/// `AssignRole` of a known `role` to `who` (both already cleaned).
pub(crate) fn assign(
    inc: &Incident,
    out: &mut Out,
    role: String,
    who: String,
    note: &str,
) -> Result<(), DomainError> {
    let Some(holder) = inc.roles.get(&role) else {
        out.push(EventBody::RoleAssigned { role, person: who });
        return Ok(());
    };
    if same_person(holder, &who) {
        return Err(DomainError::AlreadyHolds { role, person: who });
    }
    let note = optional_text("note", note)?;
    if same_person(&who, &out.actor) {
        out.push(EventBody::RoleHandedOff(Box::new(RoleChange {
            role,
            from: holder.clone(),
            to: who,
            note,
        })));
        return Ok(());
    }
    if let Some(offer) = inc.offers.get(&role)
        && same_person(&offer.to, &who)
    {
        return Err(DomainError::NoChange {
            key: inc.key(),
            what: format!("offering {role} to {}", offer.to),
        });
    }
    out.push(EventBody::RoleOffered(Box::new(RoleChange {
        role,
        from: holder.clone(),
        to: who,
        note,
    })));
    Ok(())
}

/// `AcceptRole` (`accept`) or `DeclineRole` of a known `role` by `out.actor`.
pub(crate) fn answer(
    inc: &Incident,
    out: &mut Out,
    role: String,
    accept: bool,
    reason: &str,
) -> Result<(), DomainError> {
    let Some(offer) = inc.offers.get(&role) else {
        return Err(DomainError::NoOffer { role });
    };
    if !same_person(&offer.to, &out.actor) {
        return Err(DomainError::OfferedToOther {
            role,
            to: offer.to.clone(),
        });
    }
    let (from, to) = (offer.from.clone(), offer.to.clone());
    if accept {
        out.push(EventBody::RoleHandedOff(Box::new(RoleChange {
            role,
            from,
            to,
            note: offer.note.clone(),
        })));
    } else {
        out.push(EventBody::RoleDeclined(Box::new(RoleRefusal {
            role,
            from,
            to,
            reason: optional_text("reason", reason)?,
        })));
    }
    Ok(())
}

/// Folds a role event into the incident's roles and open offers.
pub(crate) fn fold(inc: &mut Incident, body: &EventBody, by: &str, at: DateTime<Utc>) {
    match body {
        EventBody::RoleAssigned { role, person } => {
            inc.offers.remove(role);
            inc.roles.insert(role.clone(), person.clone());
        }
        EventBody::RoleHandedOff(c) => {
            inc.offers.remove(&c.role);
            inc.roles.insert(c.role.clone(), c.to.clone());
        }
        EventBody::RoleReleased { role, .. } => {
            inc.offers.remove(role);
            inc.roles.remove(role);
        }
        EventBody::RoleOffered(c) => {
            inc.offers.insert(
                c.role.clone(),
                RoleOffer {
                    from: c.from.clone(),
                    to: c.to.clone(),
                    note: c.note.clone(),
                    by: by.to_string(),
                    at,
                },
            );
        }
        EventBody::RoleDeclined(d) if inc.offers.get(&d.role).is_some_and(|o| o.to == d.to) => {
            inc.offers.remove(&d.role);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
