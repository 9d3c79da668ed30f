//! Makes text that other people wrote safe to put on a terminal.
//!
//! A note, a title or an alert label can carry escape sequences that move the
//! cursor, retitle the window, or (OSC 52) write the clipboard, and bidi
//! overrides that make text read differently from what it is. Everything that
//! reaches the log goes through here first, and the TUI runs it again on render.
//!
//! Invisible characters are the other spoof: `al\u{200B}ice` draws exactly
//! like `alice` on the roles panel. The rule for format characters:
//!
//! - dropped everywhere: zero-width space (U+200B), word joiner and the
//!   invisible operators (U+2060–U+2064), the deprecated format controls
//!   (U+206A–U+206F), BOM/ZWNBSP (U+FEFF), soft hyphen (U+00AD), Mongolian
//!   vowel separator (U+180E), combining grapheme joiner (U+034F), interlinear
//!   annotations (U+FFF9–U+FFFB), shorthand and musical format controls, every
//!   Unicode tag character (U+E0000–U+E007F; subdivision flags fall back to
//!   the plain black flag), and the Hangul fillers (U+115F, U+1160, U+3164,
//!   U+FFA0), which draw as blanks;
//! - U+2028 / U+2029 (line / paragraph separator) become `\n`, the break they
//!   mean, so no terminal breaks a line the layout does not know about;
//! - kept only where real text needs them: ZWJ / ZWNJ (U+200D / U+200C)
//!   between two visible characters outside Latin (emoji sequences such as
//!   👩‍💻, Indic half forms, Persian joining) — next to ASCII or Latin letters
//!   they are dropped; emoji/text presentation selectors (U+FE0E / U+FE0F)
//!   right after a character at or above U+00A9 or a keycap base (`0-9#*`);
//!   ideographic variation selectors (U+E0100–U+E01EF) right after a CJK
//!   ideograph. Other variation selectors are dropped.

/// Removes ESC sequences (CSI, OSC, DCS, SOS, PM, APC and two-byte escapes),
/// C0 controls except newline and tab, DEL, C1 controls, and bidi controls.
/// `\r\n` and lone `\r` become `\n`.
pub fn sanitize(input: &str) -> String {
    let out = strip(input);
    if out.chars().any(is_contextual) {
        keep_in_context(&out)
    } else {
        out
    }
}

/// The context-free part of [`sanitize`].
fn strip(input: &str) -> String {
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
            '\u{2028}' | '\u{2029}' => out.push('\n'),
            c if is_forbidden(c) || is_invisible(c) => {}
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

/// Format and filler characters that draw as nothing (or as a blank) and that
/// no real text needs; see the module docs.
fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00ad | 0x034f | 0x115f | 0x1160 | 0x180e | 0x200b | 0x2060..=0x2064
        | 0x206a..=0x206f | 0x3164 | 0xfeff | 0xffa0 | 0xfff9..=0xfffb
        | 0x1bca0..=0x1bca3 | 0x1d173..=0x1d17a | 0xe0000..=0xe007f
        // Variation selectors other than the emoji/text ones.
        | 0xfe00..=0xfe0d
        // Whatever Unicode adds to the other Cf ranges is not in use yet.
        | 0x2065)
}

/// Kept or dropped depending on the neighbours: joiners and selectors.
fn is_contextual(c: char) -> bool {
    matches!(
        c as u32,
        0x200c | 0x200d | 0xfe0e | 0xfe0f | 0xe0100..=0xe01ef
    )
}

/// A visible character outside ASCII and Latin, which a joiner may join.
fn joinable(c: char) -> bool {
    (c as u32) >= 0x0370 && !c.is_whitespace() && !is_contextual(c)
}

fn is_cjk_ideograph(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xf900..=0xfaff | 0x20000..=0x3ffff)
}

/// Decides each joiner and selector against the character already kept
/// before it and the (always visible, always kept) one after it, so that a
/// second pass decides the same: [`sanitize`] is idempotent.
fn keep_in_context(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut prev: Option<char> = None;
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let keep = match c as u32 {
            0x200c | 0x200d => {
                // After an emoji with its presentation selector (🏳️‍🌈) too.
                let left =
                    prev.is_some_and(|p| joinable(p) || matches!(p, '\u{fe0e}' | '\u{fe0f}'));
                left && next.is_some_and(joinable)
            }
            0xfe0e | 0xfe0f => prev.is_some_and(|p| {
                (p as u32 >= 0xa9 && !is_contextual(p) && !p.is_whitespace())
                    || matches!(p, '0'..='9' | '#' | '*')
            }),
            0xe0100..=0xe01ef => prev.is_some_and(is_cjk_ideograph),
            _ => true,
        };
        if keep {
            out.push(c);
            prev = Some(c);
        }
    }
    out
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

    #[test]
    fn invisible_characters_are_dropped_and_separators_become_breaks() {
        for spoof in [
            "al\u{200b}ice",
            "al\u{200c}ice",
            "al\u{200d}ice",
            "\u{feff}alice",
            "ali\u{2060}ce",
            "alice\u{e0041}\u{e0042}\u{e007f}",
            "al\u{3164}ice",
            "\u{115f}alice",
            "al\u{ad}ice",
            "al\u{fe0f}ice",
            "al\u{34f}ice",
        ] {
            assert_eq!(sanitize_line(spoof), "alice", "{spoof:?}");
        }
        assert_eq!(sanitize("one\u{2028}two\u{2029}three"), "one\ntwo\nthree");
        assert_eq!(sanitize_line("one\u{2028}two"), "one two");
    }

    #[test]
    fn real_text_keeps_its_joiners_and_selectors() {
        for real in [
            "👩\u{200d}💻 on it",
            "🏳\u{fe0f}\u{200d}🌈",
            "❤\u{fe0f} thanks",
            "1\u{fe0f}\u{20e3} first",
            "क्\u{200d}ष",
            "می\u{200c}خواهم",
            "葛\u{e0100}城",
        ] {
            assert_eq!(sanitize(real), real, "{real:?}");
        }
    }

    proptest! {
        #[test]
        fn output_has_no_controls(s in "\\PC*|[\\x00-\\x{ff}\\x{202a}-\\x{202e}\\x{2066}-\\x{2069}]*") {
            let out = sanitize(&s);
            prop_assert!(out.chars().all(|c| c == '\n' || c == '\t' || !is_forbidden(c)));
        }

        #[test]
        fn no_invisible_character_survives_and_joiners_only_join(
            s in "[a-z \u{200b}-\u{200f}\u{2028}\u{2029}\u{2060}-\u{2064}\u{feff}\u{3164}\u{115f}\u{e0000}-\u{e007f}\u{fe00}-\u{fe0f}👩💻❤葛क्ष\u{e0100}]*"
        ) {
            let out = sanitize(&s);
            prop_assert!(!out.chars().any(|c| is_invisible(c) || matches!(c, '\u{2028}' | '\u{2029}')), "{:?}", out);
            let chars: Vec<char> = out.chars().collect();
            for (i, c) in chars.iter().enumerate() {
                if matches!(c, '\u{200c}' | '\u{200d}') {
                    prop_assert!(i > 0 && i + 1 < chars.len(), "{:?}", out);
                    prop_assert!(!chars[i - 1].is_ascii() && joinable(chars[i + 1]), "{:?}", out);
                }
            }
            prop_assert_eq!(sanitize(&out), out.clone());
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
