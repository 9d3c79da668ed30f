//! Pins a policy problem to a line of its TOML source and names the field.
//!
//! The toml crate reports syntax and type errors with a byte span but no field
//! path, and [`Policy::validate`] reports cross-reference errors with a field
//! path (`escalations[2].severities`) but no position. Both are mapped through
//! the same spanned parse tree ([`DeTable`]), so every message a policy author
//! sees has a line *and* a field.

use crate::domain::policy::{Policy, PolicyError};
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A problem in a policy file, pinned to a place in its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// Field path such as `severities[0].acknowledge`, when one could be found.
    pub field: Option<String>,
    pub message: String,
}

/// Parses and validates `text`; on failure says where and which field.
pub fn parse(text: &str) -> Result<Policy, Located> {
    let policy: Policy = match toml::from_str(text) {
        Ok(p) => p,
        Err(e) => {
            // Syntax errors leave a partial tree, which still names the key near the error.
            let (tree, _) = DeTable::parse_recoverable(text);
            let offset = e.span().map_or(0, |s| s.start);
            let field = e.span().and_then(|s| {
                field_at(tree.get_ref(), &s).or_else(|| key_on_line(tree.get_ref(), text, s.start))
            });
            let (line, column) = line_col(text, offset);
            return Err(Located {
                line,
                column,
                field,
                message: e.message().trim().to_string(),
            });
        }
    };
    match policy.validate() {
        Ok(()) => Ok(policy),
        Err(PolicyError::Invalid { field, message }) => {
            let (tree, _) = DeTable::parse_recoverable(text);
            let offset = match span_of(tree.get_ref(), &field) {
                // Point at the offending token inside the value when the message quotes
                // it (`unknown severity "P9"`, `{placeholder}`): in a multi-line
                // template that is lines below the key.
                Some((key, Some(value))) => culprit(&message)
                    .and_then(|token| text.get(value.clone())?.find(token.as_str()))
                    .map_or(key.start, |i| value.start + i),
                Some((key, None)) => key.start,
                None => 0,
            };
            let (line, column) = line_col(text, offset);
            Err(Located {
                line,
                column,
                field: Some(field),
                message,
            })
        }
        Err(PolicyError::Parse(message)) => Err(Located {
            line: 1,
            column: 1,
            field: None,
            message,
        }),
    }
}

/// 1-based line and column of a byte offset (clamped to the text).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// One step of a field path.
#[derive(Debug, PartialEq, Eq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// `escalations[2].severities` → `[Key(escalations), Index(2), Key(severities)]`.
fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Step::Key(key));
        }
        while let Some(inner) = rest.strip_prefix('[') {
            let Some(close) = inner.find(']') else { break };
            if let Ok(i) = inner[..close].parse() {
                out.push(Step::Index(i));
            }
            rest = &inner[close + 1..];
        }
    }
    out
}

/// What a validation message quotes: the first `"…"` or `{…}` in it.
fn culprit(message: &str) -> Option<String> {
    let open = message.find(['"', '{'])?;
    let close = if message[open..].starts_with('"') {
        '"'
    } else {
        '}'
    };
    let end = message[open + 1..].find(close)? + open + 1;
    let token = &message[open..=end];
    // A quoted id appears in TOML as written; a placeholder as `{name}`.
    Some(token.to_string())
}

/// The span of the deepest part of `path` present in the tree: the key of a
/// key/value pair (its line is where the author looks), an array element
/// otherwise; and the span of the value found there, if any.
fn span_of(root: &DeTable<'_>, path: &str) -> Option<(Range<usize>, Option<Range<usize>>)> {
    let mut best = None;
    let mut table = Some(root);
    let mut value: Option<&Spanned<DeValue<'_>>> = None;
    for step in steps(path) {
        match step {
            Step::Key(k) => {
                let t = match value.map(Spanned::get_ref) {
                    None => table,
                    Some(DeValue::Table(t)) => Some(t),
                    Some(_) => None,
                };
                let Some((key, v)) = t.and_then(|t| t.iter().find(|(key, _)| key.get_ref() == k))
                else {
                    break;
                };
                best = Some((key.span(), Some(v.span())));
                table = None;
                value = Some(v);
            }
            Step::Index(i) => {
                let Some(DeValue::Array(items)) = value.map(Spanned::get_ref) else {
                    break;
                };
                let Some(item) = items.get(i) else { break };
                best = Some((item.span(), Some(item.span())));
                value = Some(item);
            }
        }
    }
    best
}

/// The path of the innermost key or value whose span contains `at`.
fn field_at(root: &DeTable<'_>, at: &Range<usize>) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    walk_table(root, String::new(), at, &mut best);
    best.map(|(_, path)| path)
}

/// For syntax errors past the end of a key's value (an unterminated string):
/// the last key that starts on the error's line before it.
fn key_on_line(root: &DeTable<'_>, text: &str, at: usize) -> Option<String> {
    let line = line_col(text, at).0;
    let mut keys = Vec::new();
    collect_keys(root, String::new(), &mut keys);
    keys.into_iter()
        .filter(|(span, _)| span.start <= at && line_col(text, span.start).0 == line)
        .max_by_key(|(span, _)| span.start)
        .map(|(_, path)| path)
}

fn collect_keys(table: &DeTable<'_>, prefix: String, out: &mut Vec<(Range<usize>, String)>) {
    for (key, value) in table.iter() {
        let path = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        out.push((key.span(), path.clone()));
        match value.get_ref() {
            DeValue::Table(t) => collect_keys(t, path, out),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let DeValue::Table(t) = item.get_ref() {
                        collect_keys(t, format!("{path}[{i}]"), out);
                    }
                }
            }
            _ => {}
        }
    }
}

fn contains(span: &Range<usize>, at: &Range<usize>) -> bool {
    span.start <= at.start && at.start < span.end.max(span.start + 1)
}

/// Keeps the narrowest containing span seen so far.
fn consider(span: Range<usize>, path: &str, at: &Range<usize>, best: &mut Option<(usize, String)>) {
    if contains(&span, at) {
        let width = span.end.saturating_sub(span.start);
        if best.as_ref().is_none_or(|(w, _)| width <= *w) {
            *best = Some((width, path.to_string()));
        }
    }
}

fn walk_table(
    table: &DeTable<'_>,
    prefix: String,
    at: &Range<usize>,
    best: &mut Option<(usize, String)>,
) {
    for (key, value) in table.iter() {
        let path = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        consider(key.span(), &path, at, best);
        walk_value(value, path, at, best);
    }
}

fn walk_value(
    value: &Spanned<DeValue<'_>>,
    path: String,
    at: &Range<usize>,
    best: &mut Option<(usize, String)>,
) {
    match value.get_ref() {
        DeValue::Table(t) => walk_table(t, path, at, best),
        DeValue::Array(items) => {
            consider(value.span(), &path, at, best);
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                consider(item.span(), &p, at, best);
                walk_value(item, p, at, best);
            }
        }
        _ => consider(value.span(), &path, at, best),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn splits_field_paths() {
        assert_eq!(
            steps("flowchart.questions[1].answers[0].next"),
            [
                Step::Key("flowchart"),
                Step::Key("questions"),
                Step::Index(1),
                Step::Key("answers"),
                Step::Index(0),
                Step::Key("next"),
            ]
        );
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_col("ab\ncdé f", 0), (1, 1));
        assert_eq!(line_col("ab\ncdé f", 3), (2, 1));
        assert_eq!(line_col("ab\ncdé f", 7), (2, 4));
        assert_eq!(line_col("ab", 99), (1, 3));
    }

    const DOC: &str = r#"name = "x"

[[severities]]
id = "P1"

[[severities]]
id = "P2"
acknowledge = "5m"

[[rules]]
tags = [
  "a",
  "b",
]
"#;

    #[test]
    fn finds_the_line_of_a_field_path() {
        let (tree, _) = DeTable::parse_recoverable(DOC);
        let line =
            |path: &str| span_of(tree.get_ref(), path).map(|(s, _)| line_col(DOC, s.start).0);
        assert_eq!(line("name"), Some(1));
        assert_eq!(line("severities[1].id"), Some(7));
        assert_eq!(line("severities[1].acknowledge"), Some(8));
        assert_eq!(line("rules[0].tags"), Some(11));
        assert_eq!(line("rules[0].tags[1]"), Some(13));
        // Only part of the path exists: the deepest part found.
        assert_eq!(line("severities[1].missing"), line("severities[1]"));
    }

    #[test]
    fn quoted_tokens_in_messages() {
        assert_eq!(
            culprit("unknown severity \"P9\"").as_deref(),
            Some("\"P9\"")
        );
        assert_eq!(
            culprit("unknown placeholder {foo} (known: id)").as_deref(),
            Some("{foo}")
        );
        assert_eq!(culprit("must not be empty"), None);
    }

    #[test]
    fn names_the_field_at_an_offset() {
        let (tree, _) = DeTable::parse_recoverable(DOC);
        let at = DOC.find("\"5m\"").unwrap();
        assert_eq!(
            field_at(tree.get_ref(), &(at..at + 4)).as_deref(),
            Some("severities[1].acknowledge")
        );
        let at = DOC.find("\"b\"").unwrap();
        assert_eq!(
            field_at(tree.get_ref(), &(at..at + 3)).as_deref(),
            Some("rules[0].tags[1]")
        );
    }
}
