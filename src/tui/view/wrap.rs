//! Word wrap for styled lines, for the read-only text of dialogs (criteria,
//! the definition of done, previews): cut text hides the very words a person
//! needs ("…starts when the status is monitori").

use super::width;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// Wraps each line to `max` columns at spaces (a word longer than a line is
/// split); continuation lines keep the line's indent plus two spaces.
pub fn wrap(lines: Vec<Line<'static>>, max: usize) -> Vec<Line<'static>> {
    let max = max.max(8);
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        if line.width() <= max {
            out.push(line);
            continue;
        }
        out.extend(wrap_one(&line, max));
    }
    out
}

fn wrap_one(line: &Line<'static>, max: usize) -> Vec<Line<'static>> {
    // Words with their style; a word keeps its trailing spaces.
    let mut words: Vec<(String, Style)> = Vec::new();
    for span in &line.spans {
        let style = line.style.patch(span.style);
        let mut word = String::new();
        for c in span.content.chars() {
            if c == ' ' {
                word.push(c);
            } else {
                if word.ends_with(' ') {
                    words.push((std::mem::take(&mut word), style));
                }
                word.push(c);
            }
        }
        if !word.is_empty() {
            words.push((word, style));
        }
    }
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let indent = " ".repeat((text.len() - text.trim_start().len()).min(max / 2) + 2);
    let mut out = Vec::new();
    let mut current: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    // Nothing but the indent on the current line yet.
    let mut fresh = true;
    for (word, style) in words {
        let mut word = word;
        loop {
            let w = width(word.trim_end());
            if !fresh && used + w > max {
                out.push(Line::from(std::mem::take(&mut current)));
                current.push(Span::raw(indent.clone()));
                used = indent.len();
                fresh = true;
                // Leading spaces of a word that starts a line are dropped.
                word = word.trim_start().to_string();
                continue;
            }
            if w > max.saturating_sub(used) && w > 0 {
                // Longer than a whole line: split it.
                let room = max.saturating_sub(used).max(1);
                let head: String = word.chars().take(room).collect();
                let tail: String = word.chars().skip(room).collect();
                current.push(Span::styled(head, style));
                out.push(Line::from(std::mem::take(&mut current)));
                current.push(Span::raw(indent.clone()));
                used = indent.len();
                fresh = true;
                word = tail;
                if word.is_empty() {
                    break;
                }
                continue;
            }
            used += width(&word);
            current.push(Span::styled(word, style));
            fresh = false;
            break;
        }
    }
    if !current.is_empty() {
        out.push(Line::from(current));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| {
                l.spans
                    .iter()
                    .map(|s| s.content.as_ref())
                    .collect::<String>()
            })
            .collect()
    }

    #[test]
    fn wraps_at_spaces_and_keeps_every_word() {
        let l = Line::from(
            "  stable for 30m: not monitoring yet — the window starts when the status is monitoring",
        );
        let out = texts(&wrap(vec![l], 40));
        assert!(out.iter().all(|l| width(l.trim_end()) <= 40), "{out:?}");
        let joined: Vec<&str> = out.iter().flat_map(|l| l.split_whitespace()).collect();
        assert_eq!(
            joined.join(" "),
            "stable for 30m: not monitoring yet — the window starts when the status is monitoring"
        );
        assert!(out[1].starts_with("    "), "{out:?}");
    }

    #[test]
    fn splits_a_word_longer_than_the_line() {
        let out = texts(&wrap(vec![Line::from("x".repeat(30))], 12));
        assert!(out.iter().all(|l| width(l) <= 12), "{out:?}");
        assert_eq!(out.concat().replace(' ', "").len(), 30);
    }
}
