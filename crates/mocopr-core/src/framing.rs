//! Newline-delimited JSON framing for the stdio transport.
//!
//! MCP's stdio transport sends one JSON-RPC message per line; messages MUST
//! NOT contain embedded newlines (revision 2026-07-28, `basic/transports/
//! stdio.mdx`; byte-stream custom transports SHOULD reuse the same framing).
//! This module is the sans-I/O core of that framing: it only moves bytes
//! between [`BytesMut`] buffers, so the same code serves blocking and async
//! transports and can be tested exhaustively without pipes or runtimes.
//!
//! The decoder is built for hostile peers: it never rescans bytes it already
//! searched, it caps frame size, and after an oversized line it reports one
//! error and then resynchronises at the next newline instead of tearing the
//! whole stream down.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use memchr::{memchr, memchr2};

/// Default cap on a single frame, excluding its line terminator.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 16 * 1024 * 1024;

/// Why a frame could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A line is longer than the frame size limit.
    ///
    /// When the decoder detects this before the line's newline has arrived,
    /// `size` is the number of bytes buffered so far, a lower bound.
    #[error("frame of {size} bytes exceeds the limit of {limit} bytes")]
    FrameTooLarge {
        /// Size of the frame (or lower bound, see above) in bytes.
        size: usize,
        /// The configured limit in bytes.
        limit: usize,
    },
    /// A message handed to [`encode_frame`] contains a raw CR or LF, which
    /// would split it into several frames on the wire.
    #[error("message contains a raw line break at byte offset {offset}")]
    EmbeddedNewline {
        /// Byte offset of the first CR or LF.
        offset: usize,
    },
    /// A message handed to [`encode_frame`] is empty or whitespace-only; the
    /// decoder skips such lines, so it would silently vanish.
    #[error("message is empty or whitespace-only")]
    EmptyFrame,
}

/// Whitespace-only lines carry no message; skipping them tolerates peers that
/// emit blank keep-alive lines or CRLF line endings.
fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'))
}

/// Incremental decoder that splits a byte stream into newline-terminated
/// frames.
///
/// Feed it the same [`BytesMut`] every time, appending new input to the end;
/// it remembers how far it has searched so each byte is scanned once.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    max_frame_size: usize,
    /// Bytes at the front of the buffer already known to hold no newline.
    scanned: usize,
    /// Set after an oversized partial line was reported: everything up to
    /// and including the next newline belongs to it and is dropped.
    discarding: bool,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME_SIZE)
    }
}

impl FrameDecoder {
    /// Creates a decoder that rejects frames longer than `max_frame_size`
    /// bytes (not counting the line terminator).
    pub fn new(max_frame_size: usize) -> Self {
        Self { max_frame_size, scanned: 0, discarding: false }
    }

    /// The frame size limit this decoder enforces.
    pub fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// Forgets scan progress and any oversized line being discarded; call it
    /// after clearing or replacing the buffer this decoder was fed.
    pub fn reset(&mut self) {
        self.scanned = 0;
        self.discarding = false;
    }

    /// Takes the next complete frame out of `buf`, if there is one.
    ///
    /// Returns the line without its `\n` and without one trailing `\r`;
    /// whitespace-only lines are skipped. `Ok(None)` means more input is
    /// needed. An oversized line yields [`FrameError::FrameTooLarge`] exactly
    /// once; calling `decode` again continues with the following line.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        loop {
            if self.discarding {
                self.scanned = 0;
                match memchr(b'\n', buf) {
                    Some(newline) => {
                        buf.advance(newline + 1);
                        self.discarding = false;
                    }
                    None => {
                        // Dropping now keeps memory bounded while the rest
                        // of the oversized line trickles in.
                        buf.clear();
                        return Ok(None);
                    }
                }
            }
            // Clamped so a caller that shrank the buffer without `reset`
            // gets missed frames at worst, never a panic.
            let start = self.scanned.min(buf.len());
            let Some(offset) = buf.get(start..).and_then(|rest| memchr(b'\n', rest)) else {
                self.scanned = buf.len();
                self.check_partial(buf)?;
                return Ok(None);
            };
            self.scanned = 0;
            let newline = start + offset;
            let mut line = buf.split_to(newline + 1);
            line.truncate(newline);
            if line.last() == Some(&b'\r') {
                line.truncate(newline - 1);
            }
            if line.len() > self.max_frame_size {
                return Err(FrameError::FrameTooLarge { size: line.len(), limit: self.max_frame_size });
            }
            if !is_blank(&line) {
                return Ok(Some(line.freeze()));
            }
        }
    }

    /// Like [`decode`](Self::decode), but treats the end of input as the end
    /// of the last line, so a final unterminated line is returned as a frame.
    ///
    /// Call repeatedly until it returns `Ok(None)`.
    pub fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        // The stream is over, so an oversized line being discarded has ended.
        self.discarding = false;
        self.scanned = 0;
        let mut line = buf.split();
        if line.last() == Some(&b'\r') {
            line.truncate(line.len() - 1);
        }
        if line.len() > self.max_frame_size {
            return Err(FrameError::FrameTooLarge { size: line.len(), limit: self.max_frame_size });
        }
        Ok((!is_blank(&line)).then(|| line.freeze()))
    }

    /// Fails early once an unterminated line can no longer fit, so a peer
    /// cannot make us buffer an unbounded line.
    fn check_partial(&mut self, buf: &mut BytesMut) -> Result<(), FrameError> {
        // A trailing '\r' may turn out to be half of a CRLF terminator.
        let pending = match buf.last() {
            Some(b'\r') => buf.len() - 1,
            _ => buf.len(),
        };
        if pending <= self.max_frame_size {
            return Ok(());
        }
        buf.clear();
        self.scanned = 0;
        self.discarding = true;
        Err(FrameError::FrameTooLarge { size: pending, limit: self.max_frame_size })
    }
}

/// Appends `message` and a `\n` terminator to `out`.
///
/// Rejects messages longer than `max_frame_size`, messages containing a raw
/// `\n` or `\r` (serialize JSON compactly; escaped `\\n` inside strings is
/// fine), and empty or whitespace-only messages. Nothing is written on error.
pub fn encode_frame(message: &[u8], out: &mut BytesMut, max_frame_size: usize) -> Result<(), FrameError> {
    if message.len() > max_frame_size {
        return Err(FrameError::FrameTooLarge { size: message.len(), limit: max_frame_size });
    }
    if let Some(offset) = memchr2(b'\n', b'\r', message) {
        return Err(FrameError::EmbeddedNewline { offset });
    }
    if is_blank(message) {
        return Err(FrameError::EmptyFrame);
    }
    out.reserve(message.len() + 1);
    out.put_slice(message);
    out.put_u8(b'\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Outcome of one decode step with error details flattened, so results
    /// from differently chunked runs can be compared.
    #[derive(Debug, PartialEq, Eq)]
    enum Step {
        Frame(Vec<u8>),
        TooLarge,
    }

    /// Feeds `chunks` one by one, draining after each, then drains at EOF.
    fn run(max: usize, chunks: &[&[u8]]) -> Vec<Step> {
        let mut decoder = FrameDecoder::new(max);
        let mut buf = BytesMut::new();
        let mut steps = Vec::new();
        let mut push = |r: Result<Option<Bytes>, FrameError>| match r {
            Ok(Some(f)) => {
                steps.push(Step::Frame(f.to_vec()));
                true
            }
            Ok(None) => false,
            Err(FrameError::FrameTooLarge { size, limit }) => {
                assert!(size > limit && limit == max, "size {size} limit {limit}");
                steps.push(Step::TooLarge);
                true
            }
            Err(other) => panic!("unexpected decode error {other:?}"),
        };
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while push(decoder.decode(&mut buf)) {}
        }
        while push(decoder.decode_eof(&mut buf)) {}
        assert!(buf.is_empty());
        steps
    }

    fn frame(s: &str) -> Step {
        Step::Frame(s.as_bytes().to_vec())
    }

    #[test]
    fn splits_lines_and_strips_one_cr() {
        let steps = run(64, &[b"{\"a\":1}\nb\r\nc\r\r\n"]);
        assert_eq!(steps, vec![frame("{\"a\":1}"), frame("b"), frame("c\r")]);
    }

    #[test]
    fn skips_blank_lines() {
        let steps = run(64, &[b"\n \t\n\r\n{}\n\n   \r\n"]);
        assert_eq!(steps, vec![frame("{}")]);
    }

    #[test]
    fn limit_is_inclusive_and_ignores_terminator() {
        assert_eq!(run(3, &[b"abc\r\n"]), vec![frame("abc")]);
        assert_eq!(run(3, &[b"abc\r", b"\n"]), vec![frame("abc")]);
        assert_eq!(run(3, &[b"abcd\n"]), vec![Step::TooLarge]);
        assert_eq!(run(0, &[b"\n\r\nx\n"]), vec![Step::TooLarge]);
    }

    #[test]
    fn partial_reads_are_not_rescanned() {
        let mut decoder = FrameDecoder::new(64);
        let mut buf = BytesMut::from(&b"abc"[..]);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        assert_eq!(decoder.scanned, 3);
        buf.extend_from_slice(b"de\nf");
        assert_eq!(decoder.decode(&mut buf), Ok(Some(Bytes::from_static(b"abcde"))));
        assert_eq!(decoder.scanned, 0);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        assert_eq!(decoder.scanned, 1);
    }

    #[test]
    fn shrinking_the_buffer_needs_reset_but_never_panics() {
        let mut decoder = FrameDecoder::new(64);
        let mut buf = BytesMut::from(&b"abcdef"[..]);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        buf.clear();
        buf.extend_from_slice(b"x\n");
        assert!(decoder.decode(&mut buf).is_ok());
        buf.clear();
        buf.extend_from_slice(b"abcdefg");
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        buf.clear();
        decoder.reset();
        buf.extend_from_slice(b"x\n");
        assert_eq!(decoder.decode(&mut buf), Ok(Some(Bytes::from_static(b"x"))));
    }

    #[test]
    fn oversized_partial_line_reports_once_and_bounds_memory() {
        let mut decoder = FrameDecoder::new(4);
        let mut buf = BytesMut::from(&b"0123456"[..]);
        assert_eq!(decoder.decode(&mut buf), Err(FrameError::FrameTooLarge { size: 7, limit: 4 }));
        assert!(buf.is_empty());
        buf.extend_from_slice(b"789");
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        assert!(buf.is_empty());
        buf.extend_from_slice(b"x\nok\n");
        assert_eq!(decoder.decode(&mut buf), Ok(Some(Bytes::from_static(b"ok"))));
        assert_eq!(decoder.decode(&mut buf), Ok(None));
    }

    #[test]
    fn recovers_at_every_split_point() {
        let input: &[u8] = b"ok1\nXXXXXXXXXXXXXXXXXXXX\nok2\r\n\n  \nYYYYYYYYYY\r\nok3\nZZZZZZZZZZ";
        let expected = vec![frame("ok1"), Step::TooLarge, frame("ok2"), Step::TooLarge, frame("ok3"), Step::TooLarge];
        assert_eq!(run(8, &[input]), expected);
        for i in 0..=input.len() {
            for j in i..=input.len() {
                let chunks = [&input[..i], &input[i..j], &input[j..]];
                assert_eq!(run(8, &chunks), expected, "split at {i}, {j}");
            }
        }
        let bytewise: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(run(8, &bytewise), expected);
    }

    #[test]
    fn eof_returns_final_unterminated_line() {
        assert_eq!(run(8, &[b"a\nlast\r"]), vec![frame("a"), frame("last")]);
        assert_eq!(run(8, &[b"a\n  \t"]), vec![frame("a")]);
        let mut decoder = FrameDecoder::default();
        let mut buf = BytesMut::new();
        assert_eq!(decoder.decode_eof(&mut buf), Ok(None));
    }

    #[test]
    fn encode_appends_newline() {
        let mut out = BytesMut::from(&b"x\n"[..]);
        assert_eq!(encode_frame(b"{\"id\":1}", &mut out, 64), Ok(()));
        assert_eq!(&out[..], b"x\n{\"id\":1}\n");
    }

    #[test]
    fn encode_rejections_write_nothing() {
        let mut out = BytesMut::new();
        assert_eq!(encode_frame(b"{\"a\":\n1}", &mut out, 64), Err(FrameError::EmbeddedNewline { offset: 5 }));
        assert_eq!(encode_frame(b"ab\r", &mut out, 64), Err(FrameError::EmbeddedNewline { offset: 2 }));
        assert_eq!(encode_frame(b"abcde", &mut out, 4), Err(FrameError::FrameTooLarge { size: 5, limit: 4 }));
        assert_eq!(encode_frame(b"", &mut out, 4), Err(FrameError::EmptyFrame));
        assert_eq!(encode_frame(b" \t ", &mut out, 4), Err(FrameError::EmptyFrame));
        assert!(out.is_empty());
    }

    /// Splits `data` into consecutive chunks whose sizes cycle through `sizes`.
    fn chunked<'a>(data: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
        let mut chunks = Vec::new();
        let mut rest = data;
        for size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (head, tail) = rest.split_at((*size).min(rest.len()));
            chunks.push(head);
            rest = tail;
        }
        chunks
    }

    fn message() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 1..40)
            .prop_filter("no line breaks, not blank", |m| !m.contains(&b'\n') && !m.contains(&b'\r') && !is_blank(m))
    }

    proptest! {
        #[test]
        fn encoded_frames_round_trip_in_any_chunking(
            messages in proptest::collection::vec(message(), 0..20),
            sizes in proptest::collection::vec(1usize..50, 1..8),
        ) {
            let mut wire = BytesMut::new();
            for m in &messages {
                prop_assert_eq!(encode_frame(m, &mut wire, 64), Ok(()));
            }
            let decoded = run(64, &chunked(&wire, &sizes));
            let expected: Vec<Step> = messages.into_iter().map(Step::Frame).collect();
            prop_assert_eq!(decoded, expected);
        }

        #[test]
        fn chunking_never_changes_the_outcome(
            data in proptest::collection::vec(
                prop_oneof![Just(b'\n'), Just(b'\r'), Just(b' '), any::<u8>()], 0..200),
            sizes in proptest::collection::vec(1usize..30, 1..8),
            max in 0usize..16,
        ) {
            let whole = run(max, &[&data]);
            for step in &whole {
                if let Step::Frame(f) = step {
                    prop_assert!(f.len() <= max && !f.contains(&b'\n') && !is_blank(f));
                }
            }
            prop_assert_eq!(run(max, &chunked(&data, &sizes)), whole);
        }
    }
}
