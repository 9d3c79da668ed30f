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

/// Input held while an escape sequence is incomplete; a client that sends an
/// endless unterminated sequence (a paste that never ends, garbage) is cut
/// off here rather than buffered without bound.
const MAX_PENDING: usize = 64 * 1024;

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
            self.pending.push(b);
            // A lone ESC with more input right behind it starts a sequence
            // (or is Alt+key); only at the end of a chunk is it the Esc key.
            if self.pending == [0x1b] && i + 1 < bytes.len() {
                continue;
            }
            match terminput::Event::parse_from(&self.pending) {
                Ok(Some(ev)) => {
                    self.pending.clear();
                    if let Some(msg) = to_msg(ev) {
                        out.push(msg);
                    }
                }
                Ok(None) if self.pending.len() < MAX_PENDING => {}
                Ok(None) | Err(_) => {
                    self.dropped += self.pending.len();
                    self.pending.clear();
                }
            }
        }
        out
    }
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
}
