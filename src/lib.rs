//! warroom: a terminal war room for incident response.
//!
//! Module map:
//! - [`domain`]: the pure rules — events, commands, `decide`/`apply`, policy, clocks.
pub mod domain;
pub mod cli;
