//! Makes text that other people wrote safe to put on a terminal.
//!
//! A note, a title or an alert label can carry escape sequences that move the
//! cursor, retitle the window, or (OSC 52) write the clipboard, and bidi
//! overrides that make text read differently from what it is. Everything that
//! reaches the log goes through here first, and the TUI runs it again on render.

/// Removes ESC sequences (CSI, OSC, DCS, SOS, PM, APC and two-byte escapes),
/// C0 controls except newline and tab, DEL, C1 controls, and bidi controls.
/// `\r\n` and lone `\r` become `\n`.
pub fn sanitize(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // 8-bit CSI: parameters and a final byte follow.
            '\u{9b}' => skip_csi(&mut chars),
            // 8-bit OSC, DCS, SOS, PM, APC: a string up to ST (ESC \ or 0x9C) or BEL.
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\n' | '\t' => out.push(c),
            c if is_forbidden(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// [`sanitize`], then newlines and tabs become spaces: for titles and names.
pub fn sanitize_line(input: &str) -> String {
    sanitize(input).replace(['\n', '\t'], " ")
}

fn is_forbidden(c: char) -> bool {
    let u = c as u32;
    u < 0x20
        || u == 0x7f
        || (0x80..=0x9f).contains(&u)
        // Bidi embeddings, overrides and isolates; LRM/RLM/ALM marks.
        || matches!(u, 0x202a..=0x202e | 0x2066..=0x2069 | 0x200e | 0x200f | 0x061c)
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']') | Some('P') | Some('X') | Some('^') | Some('_') => skip_string(chars),
        // nF escapes: intermediates 0x20..=0x2F then one final byte.
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            while let Some(&n) = chars.peek() {
                chars.next();
                if !('\u{20}'..='\u{2f}').contains(&n) {
                    break;
                }
            }
        }
        // Two-byte escapes (ESC 7, ESC c, …) consume one char; a lone ESC at the end nothing.
        _ => {}
    }
}

fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    // Parameter bytes 0x30–0x3F, intermediates 0x20–0x2F, final byte 0x40–0x7E.
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            return;
        }
        if !('\u{20}'..='\u{3f}').contains(&c) {
            // Malformed: stop consuming at anything that cannot be part of a CSI.
            return;
        }
    }
}

fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn strips_common_attacks() {
        assert_eq!(sanitize("a\u{1b}[31mred\u{1b}[0m b"), "ared b");
        assert_eq!(sanitize("x\u{1b}]52;c;ZXZpbA==\u{7}y"), "xy");
        assert_eq!(sanitize("x\u{1b}]0;title\u{1b}\\y"), "xy");
        assert_eq!(sanitize("x\u{1b}P1;2|data\u{1b}\\y"), "xy");
        assert_eq!(sanitize("x\u{1b}_apc\u{1b}\\y"), "xy");
        assert_eq!(sanitize("a\u{202e}evil\u{202c}b"), "aevilb");
        assert_eq!(sanitize("bell\u{7}\u{8}\u{7f}\u{85}"), "bell");
        assert_eq!(sanitize("one\r\ntwo\rthree\tfour"), "one\ntwo\nthree\tfour");
        assert_eq!(sanitize("\u{9b}2Jclear"), "clear");
        assert_eq!(sanitize("ünïcødé ✓ 漢字"), "ünïcødé ✓ 漢字");
        assert_eq!(sanitize_line("a\nb\tc"), "a b c");
    }

    proptest! {
        #[test]
        fn output_has_no_controls(s in "\\PC*|[\\x00-\\x{ff}\\x{202a}-\\x{202e}\\x{2066}-\\x{2069}]*") {
            let out = sanitize(&s);
            prop_assert!(out.chars().all(|c| c == '\n' || c == '\t' || !is_forbidden(c)));
        }

        #[test]
        fn idempotent(s in any::<String>()) {
            let once = sanitize(&s);
            prop_assert_eq!(sanitize(&once), once.clone());
        }

        #[test]
        fn plain_text_is_untouched(s in "[a-zA-Z0-9 .,:;!?'\"()\\n-]*") {
            prop_assert_eq!(sanitize(&s), s);
        }
    }
}
