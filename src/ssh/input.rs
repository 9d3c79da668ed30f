//! The bytes an SSH client's terminal sends, decoded into the TUI's input
//! messages — keys, SGR mouse reports, bracketed paste.
//!
//! The parser is `terminput`'s (a maintained port of crossterm's own ANSI
//! input parser, with converters to crossterm 0.29's event types): the local
//! TUI gets its keys from crossterm, so an SSH seat decoding with the same
//! grammar into the same types needs no change anywhere in `update`. (termwiz
//! parses as well, but into its own key types, which would need a hand-made
//! mapping of every key and modifier.)

use crate::tui::Msg;

/// Input held while a bracketed paste is incomplete; a paste that never
/// ends is cut off here rather than buffered without bound.
const MAX_PENDING: usize = 64 * 1024;

/// The longest escape sequence (other than a paste) waited for; longer is garbage.
const MAX_SEQUENCE: usize = 256;

const PASTE_START: &[u8] = b"\x1b[200~";

/// A stateful decoder: an escape sequence split across two packets is
/// completed by the second.
#[derive(Debug, Default)]
pub struct Decoder {
    pending: Vec<u8>,
    /// Input bytes dropped as undecodable, total (for the logs and tests).
    pub dropped: usize,
}

impl Decoder {
    /// Decodes one chunk of client input into messages, in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Msg> {
        let mut out = Vec::new();
        for (i, &b) in bytes.iter().enumerate() {
            // ESC cancels a sequence in progress (as in a terminal's own
            // parser): a key typed after garbage is never swallowed by it.
            if b == 0x1b && !self.pending.is_empty() && !self.pasting() {
                self.dropped += self.pending.len();
                self.pending.clear();
            }
            self.pending.push(b);
            // A lone ESC with more input right behind it starts a sequence
            // (or is Alt+key); only at the end of a chunk is it the Esc key.
            if self.pending == [0x1b] && i + 1 < bytes.len() {
                continue;
            }
            match parse(&self.pending) {
                Ok(Some(ev)) => {
                    self.pending.clear();
                    if let Some(msg) = to_msg(ev) {
                        out.push(msg);
                    }
                }
                Ok(None) if self.pending.len() < self.limit() => {}
                Ok(None) | Err(_) => {
                    self.dropped += self.pending.len();
                    self.pending.clear();
                }
            }
        }
        out
    }
}

impl Decoder {
    /// Whether the input so far is (the start of) a bracketed paste.
    fn pasting(&self) -> bool {
        self.pending.starts_with(PASTE_START) || PASTE_START.starts_with(&self.pending)
    }

    fn limit(&self) -> usize {
        if self.pasting() {
            MAX_PENDING
        } else {
            MAX_SEQUENCE
        }
    }
}

/// `terminput`'s parser, guarded: a mouse report at column or row 0 makes it
/// subtract past zero (a panic in a debug build, a wrapped coordinate in a
/// release one), so such reports are refused before it sees them; and any
/// other panic inside it is taken as garbage input, never as the end of the
/// session's input task.
fn parse(buf: &[u8]) -> std::io::Result<Option<terminput::Event>> {
    if zero_mouse_coordinate(buf) {
        return Err(std::io::Error::other("mouse report at column or row 0"));
    }
    std::panic::catch_unwind(|| terminput::Event::parse_from(buf))
        .unwrap_or_else(|_| Err(std::io::Error::other("the input parser failed")))
}

/// Whether `buf` is a complete SGR (`ESC [ < b ; x ; y M`) or rxvt
/// (`ESC [ b ; x ; y M`) mouse report whose column or row is 0 (they count from 1).
fn zero_mouse_coordinate(buf: &[u8]) -> bool {
    let Some(body) = buf.strip_prefix(b"\x1b[") else {
        return false;
    };
    let Some((&last, body)) = body.split_last() else {
        return false;
    };
    if last != b'M' && last != b'm' {
        return false;
    }
    let body = body.strip_prefix(b"<").unwrap_or(body);
    let fields: Vec<&[u8]> = body.split(|&b| b == b';').collect();
    fields.len() == 3
        && fields
            .iter()
            .all(|f| !f.is_empty() && f.iter().all(u8::is_ascii_digit))
        && fields[1..].iter().any(|f| f.iter().all(|&b| b == b'0'))
}

fn to_msg(ev: terminput::Event) -> Option<Msg> {
    match terminput_crossterm::to_crossterm(ev).ok()? {
        crossterm::event::Event::Key(k) => Some(Msg::Key(k)),
        crossterm::event::Event::Mouse(m) => Some(Msg::Mouse(m)),
        crossterm::event::Event::Paste(s) => Some(Msg::Paste(s)),
        // A client's window size comes in SSH's window-change message, not
        // in the input stream; focus reports are not asked for.
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEventKind};

    fn keys(msgs: &[Msg]) -> Vec<(KeyCode, KeyModifiers)> {
        msgs.iter()
            .filter_map(|m| match m {
                Msg::Key(KeyEvent {
                    code, modifiers, ..
                }) => Some((*code, *modifiers)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn plain_keys_enter_ctrl_c_and_arrows() {
        let mut d = Decoder::default();
        let got = keys(&d.feed(b"n\r\x03\x1b[A"));
        assert_eq!(
            got,
            vec![
                (KeyCode::Char('n'), KeyModifiers::NONE),
                (KeyCode::Enter, KeyModifiers::NONE),
                (KeyCode::Char('c'), KeyModifiers::CONTROL),
                (KeyCode::Up, KeyModifiers::NONE),
            ]
        );
    }

    #[test]
    fn a_lone_escape_is_the_esc_key_and_a_split_sequence_is_joined() {
        let mut d = Decoder::default();
        assert_eq!(
            keys(&d.feed(b"\x1b")),
            vec![(KeyCode::Esc, KeyModifiers::NONE)]
        );
        assert!(d.feed(b"\x1b[").is_empty());
        assert_eq!(
            keys(&d.feed(b"B")),
            vec![(KeyCode::Down, KeyModifiers::NONE)]
        );
        assert_eq!(
            keys(&d.feed(b"\x1bx")),
            vec![(KeyCode::Char('x'), KeyModifiers::ALT)]
        );
    }

    #[test]
    fn utf8_paste_and_mouse() {
        let mut d = Decoder::default();
        let msgs = d.feed("é\x1b[200~two\nlines\x1b[201~\x1b[<0;10;5M".as_bytes());
        assert_eq!(msgs.len(), 3, "{msgs:?}");
        assert!(matches!(&msgs[0], Msg::Key(k) if k.code == KeyCode::Char('é')));
        assert!(matches!(&msgs[1], Msg::Paste(s) if s == "two\nlines"));
        match &msgs[2] {
            Msg::Mouse(m) => {
                assert!(matches!(m.kind, MouseEventKind::Down(_)));
                assert_eq!((m.column, m.row), (9, 4));
            }
            other => panic!("expected a mouse press, got {other:?}"),
        }
    }

    #[test]
    fn garbage_never_panics_and_never_grows_without_bound() {
        let mut d = Decoder::default();
        // Deterministic pseudo-random bytes, heavy on ESC and CSI starts.
        let mut x: u32 = 0x2545_f491;
        let mut junk = Vec::new();
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            junk.push(match x % 7 {
                0 => 0x1b,
                1 => b'[',
                _ => (x >> 8) as u8,
            });
        }
        for chunk in junk.chunks(777) {
            let _ = d.feed(chunk);
            assert!(d.pending.len() <= MAX_PENDING);
        }
        // An unterminated paste is cut off at the limit, and keys work after it.
        let mut d = Decoder::default();
        d.feed(b"\x1b[200~");
        for _ in 0..100 {
            d.feed(&[b'a'; 1024]);
        }
        assert!(d.dropped > 0);
        assert_eq!(
            keys(&d.feed(b"q")),
            vec![(KeyCode::Char('q'), KeyModifiers::NONE)]
        );
    }

    #[test]
    fn mouse_reports_at_column_or_row_zero_are_dropped_not_a_panic() {
        let mut d = Decoder::default();
        for junk in [
            &b"\x1b[<0;0;0m"[..],
            b"\x1b[<0;5;0M",
            b"\x1b[32;0;7M",
            b"\x1b[<0;00;3M",
        ] {
            assert!(d.feed(junk).is_empty(), "{junk:?}");
        }
        assert!(
            matches!(d.feed(b"\x1b[<0;1;1M").as_slice(), [Msg::Mouse(m)] if (m.column, m.row) == (0, 0))
        );
        assert_eq!(
            keys(&d.feed(b"?")),
            vec![(KeyCode::Char('?'), KeyModifiers::NONE)]
        );
    }

    #[test]
    fn a_key_after_an_unfinished_sequence_is_not_swallowed() {
        let mut d = Decoder::default();
        // A CSI that never gets its final byte, then Esc and `?` typed by a person.
        assert!(d.feed(b"\x1b[12;\xff\xfe").is_empty());
        assert_eq!(
            keys(&d.feed(b"\x1b")),
            vec![(KeyCode::Esc, KeyModifiers::NONE)]
        );
        assert_eq!(
            keys(&d.feed(b"?")),
            vec![(KeyCode::Char('?'), KeyModifiers::NONE)]
        );
        // A long run of parameter bytes is dropped at the sequence limit.
        let mut d = Decoder::default();
        let mut junk = b"\x1b[".to_vec();
        junk.extend(std::iter::repeat_n(b'1', 1000));
        d.feed(&junk);
        assert!(d.pending.len() <= MAX_SEQUENCE);
        // A paste may be long; it still arrives whole.
        let mut paste = b"\x1b[200~".to_vec();
        paste.extend(std::iter::repeat_n(b'y', 10_000));
        paste.extend_from_slice(b"\x1b[201~");
        let msgs = d.feed(&paste);
        assert!(
            matches!(msgs.last(), Some(Msg::Paste(p)) if p.len() == 10_000),
            "{msgs:?}"
        );
    }
}
