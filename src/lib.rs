//! warroom: a terminal war room for incident response.
//!
//! Module map:
//! - [`domain`]: the pure rules — events, commands, `decide`/`apply`, policy, clocks.
//! - [`protocol`]: serde wire types shared by server and client.
//! - [`store`]: the event log (`EventLog`) and the credentials (`TokenStore`); SQLite, and PostgreSQL for several replicas.
//! - [`server`]: `warroom serve` — HTTP API, live stream, scheduler (also embedded by the TUI).
//! - [`ingest`]: alerts in — Alertmanager webhook and PagerDuty Events v2 adapters.
//! - [`status`]: the public status page (HTML, Statuspage v2 JSON, Atom) served by the server.
//! - [`notify`]: notifications out — Slack, PagerDuty, signed webhooks, email; the delivery worker.
//! - [`tui`]: the terminal war room (Elm style: model, update, view).
//! - [`ssh`]: the SSH seat — the same TUI per SSH session, fed in-process by the team server.
//! - [`client`]: the HTTP client, SSE sync with resume, the offline outbox, replica failover.
//! - [`cli`]: the `warroom` subcommands (serve, act, token, key, migrate, policy, the TUI's start).
//! - [`config`]: the user's config file and XDG paths; [`demo`]: `warroom demo`, a scripted incident unfolding live.
pub mod cli;
pub mod client;
pub mod config;
pub mod demo;
pub mod domain;
pub mod ingest;
pub mod notify;
pub mod protocol;
pub mod server;
pub mod ssh;
pub mod status;
pub mod store;
pub mod tui;
