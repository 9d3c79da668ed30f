//! Helpers shared by the integration tests: servers and the CLI on real
//! ports and files, the real binary in a pseudo-terminal, the OpenSSH client,
//! a throwaway PostgreSQL, loopback notification receivers, and the TUI's
//! model driven by keys.
pub mod notify;
pub mod pg;
pub mod pty;
pub mod server;
pub mod ssh;
pub mod tui;
