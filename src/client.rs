//! The client side of sync: the local replica of the event log (and, in
//! `api`/`sync`, the HTTP client, live subscription and offline outbox).

pub mod replica;

pub use replica::Replica;
