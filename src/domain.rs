//! The rules of incident response, pure: no I/O, no clock (`now` is always a
//! parameter), no async. Server and client share every function here.

pub mod alert;
pub mod backup;
pub mod checklist;
pub mod clocks;
pub mod command;
pub mod conflict;
pub mod decide;
pub mod duration;
pub mod escalation;
pub mod event;
pub mod flowchart;
pub mod handoff;
pub mod ids;
pub mod metrics;
pub mod notify;
pub mod policy;
pub mod review;
pub mod routing;
pub mod sanitize;
pub mod schema;
pub mod state;
pub mod status_page;
pub mod template;
#[cfg(test)]
pub(crate) mod testkit;

pub use command::{Access, Action, Command};
pub use decide::{DomainError, decide};
pub use event::{Channel, Event, EventBody, NoteKind, Recorded, Status};
pub use policy::Policy;
pub use state::{Incident, World};

/// strum's `VARIANTS` as a fixed-size array, for the enums' `ALL` constants
/// (callers iterate them by value and `map` them). Checked at compile time:
/// a variant added without changing `N` stops the build.
pub(crate) const fn all_variants<T: Copy, const N: usize>(variants: &'static [T]) -> [T; N] {
    assert!(variants.len() == N, "ALL must list every variant");
    match variants.first_chunk::<N>() {
        Some(all) => *all,
        None => panic!("ALL must list every variant"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod wire_name_tests {
    //! strum derives the names that serde also derives: for every enum whose
    //! `as_str` comes from strum, each variant's name is exactly its JSON, and
    //! `parse` (where there is one) reads it back.

    use super::alert::AlertSource;
    use super::event::{ActionState, DetectionMethod};
    use super::routing::PdAction;
    use super::status_page::{ComponentStatus, PublicImpact};
    use super::*;
    use serde::Serialize;
    use strum::VariantArray;

    fn same_as_serde<T: Serialize + Copy + std::fmt::Debug>(
        all: &[T],
        name: fn(T) -> &'static str,
    ) {
        for &v in all {
            assert_eq!(
                serde_json::to_value(v).unwrap(),
                serde_json::json!(name(v)),
                "{v:?}"
            );
        }
    }

    #[test]
    fn strum_names_are_the_wire_names() {
        same_as_serde(&Status::ALL, Status::as_str);
        same_as_serde(&Channel::ALL, Channel::as_str);
        same_as_serde(&NoteKind::ALL, NoteKind::as_str);
        same_as_serde(&DetectionMethod::ALL, DetectionMethod::as_str);
        same_as_serde(ActionState::VARIANTS, ActionState::as_str);
        same_as_serde(&Access::ALL, Access::as_str);
        same_as_serde(PublicImpact::VARIANTS, PublicImpact::as_str);
        same_as_serde(ComponentStatus::VARIANTS, ComponentStatus::as_str);
        same_as_serde(PdAction::VARIANTS, PdAction::as_str);
        same_as_serde(AlertSource::VARIANTS, AlertSource::as_str);
        assert_eq!(Channel::StatusPage.as_str(), "status_page");
        assert_eq!(ActionState::InProgress.as_str(), "in_progress");
        assert_eq!(
            ComponentStatus::DegradedPerformance.as_str(),
            "degraded_performance"
        );
        assert_eq!(AlertSource::EventsV2.as_str(), "events_v2");
    }

    #[test]
    fn parse_reads_the_wire_names_in_any_case() {
        for s in Status::ALL {
            assert_eq!(Status::parse(&s.as_str().to_uppercase()), Some(s));
            assert_eq!(s.to_string(), s.as_str());
        }
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        assert_eq!(Channel::parse("Status Page"), Some(Channel::StatusPage));
        assert_eq!(Channel::parse("status-page"), Some(Channel::StatusPage));
        for k in NoteKind::ALL {
            assert_eq!(NoteKind::parse(k.as_str()), Some(k));
        }
        for a in ActionState::VARIANTS {
            assert_eq!(ActionState::parse(a.as_str()), Some(*a));
        }
        assert_eq!(
            ActionState::parse("In Progress"),
            Some(ActionState::InProgress)
        );
        for a in Access::ALL {
            assert_eq!(Access::parse(&a.as_str().to_uppercase()), Some(a));
        }
        assert_eq!(Access::parse("root"), None);
        assert_eq!(Status::parse("resolve"), None);
        // A width does not pad a status (columns were laid out without it).
        assert_eq!(format!("{:>12}|", Status::Resolved), "resolved|");
    }

    #[test]
    fn action_and_event_names_are_their_type_tags() {
        let action: Action = serde_json::from_value(
            serde_json::json!({ "type": "set_checklist_item", "checklist": "c", "item": "i" }),
        )
        .unwrap();
        assert_eq!(action.name(), "set_checklist_item");
        let json = serde_json::to_value(&action).unwrap();
        assert_eq!(json["type"], action.name());
        let body: EventBody = serde_json::from_value(
            serde_json::json!({ "type": "delivery_retry_requested", "delivery": "0b1c5d1e-7a64-4b6c-9a51-6a1c1b2f9e10" }),
        )
        .unwrap();
        assert_eq!(body.kind_name(), "delivery_retry_requested");
    }
}
