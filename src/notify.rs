//! Notifications out: the channels (Slack, PagerDuty, signed webhooks,
//! email) and the durable delivery worker.
//!
//! Module map:
//! - [`worker`]: walks the log, sends, retries with backoff and jitter, records outcomes.
//! - [`ledger`]: the worker's progress in the server's SQLite file;
//!   [`ledger_pg`]: the same in the shared PostgreSQL database.
//! - [`channels`]: the HTTP channels' requests and answers; [`email`]: SMTP.
//! - [`secrets`]: reads the secrets a policy names (environment or file).
//!
//! Which event goes where is decided in the pure domain
//! ([`crate::domain::routing`]); this module only carries it out.

pub mod channels;
pub mod email;
pub mod ledger;
pub mod ledger_pg;
pub mod secrets;
pub mod worker;
