//! The terminal UI, Elm style: a [`Model`] of all UI state, a [`Msg`] for
//! every input, a pure [`update()`] that returns [`Effect`]s for the runtime to
//! carry out, and a pure [`view()`] that draws the model with a [`Theme`].
//!
//! Module map:
//! - [`model`]: the state (each screen owns its own); [`msg`]: inputs and effects.
//! - [`update`](mod@update): the transitions, by concern — keys, overlays, forms, navigation,
//!   commands (the one path from intent to a sent command), sync, mouse.
//! - [`keymap`]: bindings as data (feeds `?` help); [`command_line`]: the `:` parser.
//! - [`form`]: dialogs as data; [`prefill`]: messages from the policy's templates.
//! - [`layout`]: where panels go (shared by `view` and mouse hit-testing); [`view`](mod@view): drawing.
//! - [`theme`]: colour roles from TOML.
//! - [`run`]: the runtime — terminal setup and the one message loop.

pub mod command_line;
pub mod form;
pub mod keymap;
pub mod layout;
pub mod model;
pub mod msg;
pub mod prefill;
pub mod run;
pub mod theme;
pub mod update;
pub mod view;

pub use model::{Identity, Model};
pub use msg::{Effect, Msg};
pub use theme::Theme;
pub use update::update;
pub use view::view;
