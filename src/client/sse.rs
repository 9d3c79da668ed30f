//! A small, strict Server-Sent Events parser (the subset the server speaks:
//! `id`, `event`, `data`, comments), fed with arbitrary byte chunks.

/// One dispatched SSE message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    pub id: Option<String>,
    pub event: String,
    pub data: String,
}

/// Accumulates bytes and yields complete messages; chunk boundaries may fall anywhere,
/// even inside a UTF-8 sequence.
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
    current: Message,
    has_data: bool,
}

/// Lines longer than this mean a broken or hostile server; the stream is dropped.
const MAX_LINE: usize = 4 * 1024 * 1024;

impl Parser {
    /// Feeds a chunk; returns the messages it completed, or an error if a line is absurdly long.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Message>, String> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8_lossy(&line);
            self.line(&line, &mut out);
        }
        if self.buf.len() > MAX_LINE {
            return Err(format!("stream line longer than {MAX_LINE} bytes"));
        }
        Ok(out)
    }

    fn line(&mut self, line: &str, out: &mut Vec<Message>) {
        if line.is_empty() {
            if self.has_data || !self.current.event.is_empty() {
                let mut msg = std::mem::take(&mut self.current);
                if msg.event.is_empty() {
                    msg.event = "message".into();
                }
                out.push(msg);
            }
            self.has_data = false;
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "id" => self.current.id = Some(value.to_string()),
            "event" => self.current.event = value.to_string(),
            "data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.has_data = true;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_split_chunks() {
        let mut p = Parser::default();
        let mut all = Vec::new();
        let text = "id: 7\nevent: event\ndata: {\"a\":\ndata: 1}\n\n: comment\nevent: heartbeat\ndata: x\n\n";
        for chunk in text.as_bytes().chunks(3) {
            all.extend(p.feed(chunk).unwrap_or_default());
        }
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].id.as_deref(), Some("7"));
        assert_eq!(all[0].event, "event");
        assert_eq!(all[0].data, "{\"a\":\n1}");
        assert_eq!(all[1].event, "heartbeat");
    }

    #[test]
    fn handles_crlf_and_multibyte_split() {
        let mut p = Parser::default();
        let bytes = "data: é\r\n\r\n".as_bytes();
        let mut all = p.feed(&bytes[..7]).unwrap_or_default();
        all.extend(p.feed(&bytes[7..]).unwrap_or_default());
        assert_eq!(
            all,
            vec![Message {
                id: None,
                event: "message".into(),
                data: "é".into()
            }]
        );
    }
}
