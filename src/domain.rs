//! The rules of incident response, pure: no I/O, no clock (`now` is always a
//! parameter), no async. Server and client share every function here.

pub mod alert;
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
