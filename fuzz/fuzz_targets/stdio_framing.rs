//! The stdio frame decoder over arbitrary bytes, fed in arbitrary pieces: every frame it
//! returns is within the limit and holds no newline, an oversized line is refused and the
//! decoder goes on with the next, and nothing makes it panic. A message that encodes decodes
//! back to itself.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mocopr_core::framing::{FrameDecoder, encode_frame};

const LIMIT: usize = 256;

fuzz_target!(|input: (Vec<u8>, Vec<u8>)| {
    let (data, cuts) = input;
    let mut decoder = FrameDecoder::new(LIMIT);
    let mut buf = BytesMut::new();
    let mut rest = &data[..];
    let mut cuts = cuts.iter().map(|&c| usize::from(c) + 1);
    while !rest.is_empty() {
        let take = cuts.next().unwrap_or(rest.len()).min(rest.len());
        buf.extend_from_slice(&rest[..take]);
        rest = &rest[take..];
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => {
                    assert!(frame.len() <= LIMIT, "a frame over the limit");
                    assert!(!frame.contains(&b'\n'), "a frame holding a newline");
                }
                Ok(None) => break,
                // Refused once; the next call goes on after the oversized line.
                Err(_) => continue,
            }
        }
    }
    while let Ok(Some(frame)) = decoder.decode_eof(&mut buf) {
        assert!(frame.len() <= LIMIT, "a last frame over the limit");
    }

    let mut out = BytesMut::new();
    if encode_frame(&data, &mut out, LIMIT * 4).is_ok() {
        let mut decoder = FrameDecoder::new(LIMIT * 4);
        let frame = decoder.decode(&mut out).expect("an encoded frame is within the limit");
        assert_eq!(frame.as_deref(), Some(&data[..]), "an encoded message decodes to itself");
    }
});
