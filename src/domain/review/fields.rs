//! `set_review_field`: a human writes one field of the review template. The
//! value is checked against the field's input (a number is a number, a
//! choice one of its options, a table row no wider than its columns) and
//! recorded as a `review_field_set` event; an empty value clears the field.

use super::template::{Field, Input};
use crate::domain::decide::{DomainError, Out, optional_text};
use crate::domain::event::EventBody;
use crate::domain::policy::Policy;
use crate::domain::sanitize::sanitize_line;
use crate::domain::state::Incident;

/// Checks `value` for the template field `field` and pushes the event.
pub(crate) fn set(
    inc: &Incident,
    policy: &Policy,
    out: &mut Out,
    field: &str,
    value: &str,
) -> Result<(), DomainError> {
    let Some(f) = policy.review.human_field(field) else {
        return Err(DomainError::UnknownReviewField {
            given: sanitize_line(field),
            known: policy
                .review
                .fields()
                .filter(|f| f.is_human())
                .map(|f| f.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let value = normalise(f, &optional_text("value", value)?)?;
    let current = inc.review_fields.get(&f.id).map_or("", String::as_str);
    if current == value {
        return Err(DomainError::NoChange {
            key: inc.key(),
            what: if value.is_empty() {
                format!("without a value for review field {}", f.id)
            } else {
                format!("{:?} in review field {}", value, f.id)
            },
        });
    }
    out.push(EventBody::ReviewFieldSet {
        field: f.id.clone(),
        value,
    });
    Ok(())
}

/// The value as stored: a choice in the template's spelling, table rows as
/// `a | b | c` lines; or why it does not fit the field.
fn normalise(f: &Field, value: &str) -> Result<String, DomainError> {
    let bad = |message: String| DomainError::BadReviewValue {
        field: f.id.clone(),
        message,
    };
    if value.is_empty() {
        return Ok(String::new());
    }
    match f.input {
        None | Some(Input::Text) => Ok(value.to_string()),
        Some(Input::Number) => {
            let v = sanitize_line(value).trim().to_string();
            let digits: String = v
                .chars()
                .filter(|c| !matches!(c, ',' | '_' | ' '))
                .collect();
            match digits.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(v),
                _ => Err(bad(format!(
                    "{v:?} is not a number (write e.g. 12400 or 12,400)"
                ))),
            }
        }
        Some(Input::Choice) => f
            .choices
            .iter()
            .find(|c| c.eq_ignore_ascii_case(value.trim()))
            .cloned()
            .ok_or_else(|| {
                bad(format!(
                    "{:?} is not one of {}",
                    sanitize_line(value),
                    f.choices.join(", ")
                ))
            }),
        Some(Input::Table) => {
            let rows = super::parse_table(value);
            for (n, row) in rows.iter().enumerate() {
                if row.len() > f.columns.len() {
                    return Err(bad(format!(
                        "row {} has {} cells; the table has {} columns ({})",
                        n + 1,
                        row.len(),
                        f.columns.len(),
                        f.columns.join(" | ")
                    )));
                }
            }
            Ok(rows
                .iter()
                .map(|r| r.join(" | "))
                .collect::<Vec<_>>()
                .join("\n"))
        }
    }
}
