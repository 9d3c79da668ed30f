//! JSON Schemas for the command fields whose bounds are rules of
//! [`super::decide`], built from the same constants so the OpenAPI document
//! (derived from the types with utoipa) states exactly the limits `decide`
//! enforces. Used through `#[schema(schema_with = …)]` on [`super::Action`].
//!
//! A text that is only whitespace passes `minLength` yet is refused by the
//! domain after sanitising (422): no static schema can say "not blank".

use super::decide::{MAX_PERSON, MAX_TEXT, MAX_TITLE};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

fn string(min: usize, max: Option<usize>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length((min > 0).then_some(min))
        .max_length(max)
        .build()
}

/// An incident title: required, at most [`MAX_TITLE`] characters.
pub fn title() -> Object {
    string(1, Some(MAX_TITLE))
}

/// A required text (a reason, a note): at most [`MAX_TEXT`] characters.
pub fn text() -> Object {
    string(1, Some(MAX_TEXT))
}

/// An optional text (empty when absent): at most [`MAX_TEXT`] characters.
pub fn free_text() -> Object {
    string(0, Some(MAX_TEXT))
}

/// A person's name: at most [`MAX_PERSON`] characters.
pub fn person() -> Object {
    string(1, Some(MAX_PERSON))
}

/// An id the policy defines (severity, role, checklist, item): which exist
/// is the policy's to say (an unknown one is a 422), so only "not empty".
pub fn policy_id() -> Object {
    string(1, None)
}
