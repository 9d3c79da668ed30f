//! The client side of sync: the HTTP API, the SSE parser, the live
//! subscription with resume, the offline outbox and the local replica.

pub mod api;
pub mod outbox;
pub mod replica;
pub mod sse;
pub mod sync;

pub use api::{Api, ClientError};
pub use replica::Replica;
pub use sync::{LinkState, Sync, SyncMsg};
