//! The post-incident review: the policy's own template (`[review]`, see
//! [`template`]) filled from what the war room recorded and from what people
//! wrote into its human fields (`review_field_set` events, see [`fields`]).
//!
//! Everything that was recorded goes in (timeline, decisions, escalations,
//! clock results, action items, observations); everything only people can
//! write (root cause, lessons) stays a visible `[to be completed]` prompt
//! until someone writes it, never invented. After the incident, open action
//! items that fell overdue or are due for review are listed by [`follow_up`].

pub mod fields;
pub mod follow_up;
mod render;
mod sources;
pub mod template;

pub use render::render;

/// The prompt left wherever nothing was recorded.
pub const TODO: &str = "[to be completed]";

/// A table field's rows as typed: one row a line, cells separated by `|`
/// (blank lines dropped, cells trimmed).
pub fn parse_table(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let l = l.trim().trim_start_matches('|').trim_end_matches('|');
            l.split('|').map(|c| c.trim().to_string()).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests;
