//! The integration tests, one crate: one binary to link, shared helpers in
//! `support`. Each module was once a test binary of its own; `cargo test`
//! runs them all, `cargo test --test it <filter>` some.
#![allow(clippy::unwrap_used)]

mod support;

mod alertmanager_e2e;
mod cli_act;
mod cli_act_retry;
mod cli_history;
mod client_sync;
mod ingest_api;
mod metrics;
mod notify_crash;
mod notify_delivery;
mod notify_email;
mod notify_tui_e2e;
mod pg_tls;
mod policy;
mod policy_notify;
mod replicas;
mod review_templates;
mod scenarios;
mod schemathesis;
mod schemathesis_findings;
mod serve_db;
mod server_api;
mod server_durability;
mod server_failures;
mod server_hardening;
mod server_roles;
mod server_scheduler;
mod server_stream;
mod session;
mod ssh_seat;
mod status_browser;
mod status_page;
mod status_tui;
mod store;
mod tui_backups;
mod tui_command_line;
mod tui_deliveries;
mod tui_e2e;
mod tui_handoff_e2e;
mod tui_history;
mod tui_review;
mod tui_seat;
mod tui_snapshots;
mod tui_triage;
mod tui_update;
