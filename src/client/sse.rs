//! The live stream's Server-Sent Events, parsed by `eventsource-stream` (the
//! whole of the SSE grammar: CR, LF and CRLF line ends, comments, multi-line
//! data, chunks split anywhere, even inside a UTF-8 sequence), with one limit
//! of our own: an event that grows past [`MAX_EVENT`] bytes means a broken or
//! hostile server, and the stream is dropped rather than buffered.

use futures_util::{Stream, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use eventsource_stream::Event;
use eventsource_stream::Eventsource as _;

/// Bytes an event may take before it is complete.
pub const MAX_EVENT: usize = 4 * 1024 * 1024;

/// The events of a byte stream (an HTTP body), or why the stream is unusable.
pub fn events<S, B, E>(bytes: S) -> impl Stream<Item = Result<Event, String>>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    // Bytes received since the last event came out: counted on the way in,
    // reset on the way out.
    let pending = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pending);
    bytes
        .map(move |chunk| {
            let chunk = chunk.map_err(|e| e.to_string())?;
            let n = chunk.as_ref().len();
            if counter.fetch_add(n, Ordering::Relaxed) + n > MAX_EVENT {
                return Err(format!("stream event longer than {MAX_EVENT} bytes"));
            }
            Ok(chunk)
        })
        .eventsource()
        .map(move |ev| {
            pending.store(0, Ordering::Relaxed);
            ev.map_err(|e| e.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;

    fn parse(chunks: Vec<&[u8]>) -> Vec<Result<Event, String>> {
        let s = stream::iter(chunks.into_iter().map(Ok::<_, String>));
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(events(s).collect())
    }

    fn ok(evs: Vec<Result<Event, String>>) -> Vec<(String, String, String)> {
        evs.into_iter()
            .map(|e| e.expect("a valid event"))
            .map(|e| (e.id, e.event, e.data))
            .collect()
    }

    #[test]
    fn parses_split_chunks_comments_and_multi_line_data() {
        let text = "id: 7\nevent: event\ndata: {\"a\":\ndata: 1}\n\n: comment\nevent: heartbeat\ndata: x\n\n";
        let got = ok(parse(text.as_bytes().chunks(3).collect()));
        assert_eq!(
            got,
            vec![
                ("7".into(), "event".into(), "{\"a\":\n1}".into()),
                ("7".into(), "heartbeat".into(), "x".into()),
            ]
        );
    }

    #[test]
    fn handles_crlf_and_a_multibyte_character_split_across_chunks() {
        let bytes = "data: é\r\n\r\n".as_bytes();
        let got = ok(parse(vec![&bytes[..7], &bytes[7..]]));
        assert_eq!(got, vec![(String::new(), "message".into(), "é".into())]);
    }

    /// The hand-written parser this replaced only split lines on LF. (A CR
    /// waits for the next byte, which may make it a CRLF: here the stream goes
    /// on with a comment, as a live one does with its heartbeats.)
    #[test]
    fn handles_cr_only_line_endings() {
        let text = "id: 3\revent: event\rdata: {}\r\revent: heartbeat\rdata: y\r\r: more\r";
        let got = ok(parse(text.as_bytes().chunks(4).collect()));
        assert_eq!(
            got,
            vec![
                ("3".into(), "event".into(), "{}".into()),
                ("3".into(), "heartbeat".into(), "y".into()),
            ]
        );
    }

    #[test]
    fn an_endless_event_ends_the_stream_with_an_error() {
        let big = vec![b'x'; 1024 * 1024];
        let mut chunks: Vec<&[u8]> = vec![b"data: "];
        chunks.extend(std::iter::repeat_n(big.as_slice(), 5));
        let got = parse(chunks);
        let err = got
            .into_iter()
            .find_map(Result::err)
            .expect("the stream is refused");
        assert!(err.contains("longer than"), "{err}");
    }
}
