//! Lays the template out as Markdown: sections as `##` headings, fields as
//! header lines, bullets, table rows or blocks. Record text was sanitised by
//! `decide`; here it is only escaped so it cannot break a table.

use super::sources::{Ctx, Value, fill, line};
use super::template::{Field, Input, Layout, Section};
use super::{TODO, parse_table};
use crate::domain::event::Event;
use crate::domain::policy::Policy;
use crate::domain::state::Incident;
use chrono::{DateTime, Utc};
use std::fmt::Write;

/// Renders the review of `inc` with its policy's template, from its recorded
/// `events` (events of other incidents are ignored), judging clocks at `now`.
pub fn render(inc: &Incident, events: &[&Event], policy: &Policy, now: DateTime<Utc>) -> String {
    let ctx = Ctx::new(inc, events, policy, now);
    let t = &policy.review;
    let mut md = String::new();
    let _ = writeln!(md, "# {}: {}\n", line(&t.title), line(&inc.title));
    for s in &t.sections {
        section(&mut md, s, &ctx);
    }
    md
}

/// What a field shows: what a human wrote, else what the record says, else the prompt.
enum Shown {
    Value(Value),
    Todo(String),
}

fn shown(f: &Field, c: &Ctx<'_>) -> Shown {
    if let (Some(input), Some(v)) = (f.input, c.inc.review_fields.get(&f.id)) {
        return Shown::Value(match input {
            Input::Text => Value::Text(v.clone()),
            Input::Number | Input::Choice => Value::Inline(v.clone()),
            Input::Table => Value::Table {
                head: f.columns.clone(),
                rows: parse_table(v),
                after: String::new(),
            },
        });
    }
    match f.from.as_deref().and_then(|src| fill(src, &f.prompt, c)) {
        Some(v) => Shown::Value(v),
        None => Shown::Todo(f.prompt.clone()),
    }
}

fn section(md: &mut String, s: &Section, c: &Ctx<'_>) {
    if !s.title.is_empty() {
        let _ = writeln!(md, "## {}\n", line(&s.title));
    }
    match s.layout {
        Layout::Header => {
            for f in &s.fields {
                let _ = writeln!(md, "**{}:** {}  ", f.label, inline(&shown(f, c), "; "));
            }
            md.push('\n');
        }
        Layout::Bullets => {
            for f in &s.fields {
                let _ = writeln!(md, "- **{}:** {}", f.label, inline(&shown(f, c), "; "));
            }
            md.push('\n');
        }
        Layout::Table => {
            let cols: Vec<String> = s.columns.iter().map(|h| cell(h)).collect();
            let _ = writeln!(md, "| {} |\n|---|---|", cols.join(" | "));
            for f in &s.fields {
                let _ = writeln!(
                    md,
                    "| {} | {} |",
                    cell(&f.label),
                    cell(&inline(&shown(f, c), "\n"))
                );
            }
            md.push('\n');
        }
        Layout::Blocks => {
            let alone = s.fields.len() == 1;
            for f in &s.fields {
                if !alone {
                    let _ = writeln!(md, "### {}\n", line(&f.label));
                }
                block(md, &shown(f, c));
            }
        }
    }
}

fn todo(prompt: &str) -> String {
    if prompt.is_empty() {
        TODO.to_string()
    } else {
        format!("{TODO}: {prompt}")
    }
}

/// The field on one line (header, bullet) or in one cell (`sep` = `\n`,
/// which the cell turns into `<br>`).
fn inline(v: &Shown, sep: &str) -> String {
    let v = match v {
        Shown::Todo(p) if p.is_empty() => return TODO.to_string(),
        Shown::Todo(p) => return format!("{TODO} ({p})"),
        Shown::Value(v) => v,
    };
    let joined = match v {
        Value::Inline(s) => s.clone(),
        Value::Text(s) => s
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(sep),
        Value::List { items, empty } if items.is_empty() => {
            empty.clone().unwrap_or_else(|| TODO.to_string())
        }
        Value::List { items, .. } => items.join(sep),
        Value::Numbered(items) => items
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}. {s}", i + 1))
            .collect::<Vec<_>>()
            .join(sep),
        Value::Table { rows, .. } => rows
            .iter()
            .map(|r| r.join(", "))
            .collect::<Vec<_>>()
            .join(sep),
    };
    if sep == "\n" { joined } else { line(&joined) }
}

/// The field as a block under its heading.
fn block(md: &mut String, v: &Shown) {
    let v = match v {
        Shown::Todo(p) => {
            let _ = writeln!(md, "{}\n", todo(p));
            return;
        }
        Shown::Value(v) => v,
    };
    match v {
        Value::Inline(s) => {
            let _ = writeln!(md, "{}\n", line(s));
        }
        Value::Text(s) => {
            let _ = writeln!(md, "{}\n", s.trim());
        }
        Value::List { items, empty } if items.is_empty() => {
            let _ = writeln!(md, "{}\n", empty.as_deref().unwrap_or(TODO));
        }
        Value::List { items, .. } => {
            for i in items {
                let _ = writeln!(md, "- {}", line(i));
            }
            md.push('\n');
        }
        Value::Numbered(items) => {
            for (n, i) in items.iter().enumerate() {
                let _ = writeln!(md, "{}. {}", n + 1, line(i));
            }
            md.push('\n');
        }
        Value::Table { head, rows, after } => {
            // An empty cell stays a cell: `| x | |`.
            let row = |r: &[String], width: usize| {
                let mut s = String::from("|");
                for i in 0..width.max(r.len()) {
                    match r.get(i).filter(|c| !c.is_empty()) {
                        Some(c) => {
                            let _ = write!(s, " {} |", cell(c));
                        }
                        None => s.push_str(" |"),
                    }
                }
                s
            };
            let _ = writeln!(md, "{}", row(head, head.len()));
            let _ = writeln!(md, "|{}", "---|".repeat(head.len().max(1)));
            for r in rows {
                let _ = writeln!(md, "{}", row(r, head.len()));
            }
            md.push('\n');
            if !after.is_empty() {
                let _ = writeln!(md, "{after}\n");
            }
        }
    }
}

/// Escapes a table cell: pipes, and line breaks as `<br>`.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
}
