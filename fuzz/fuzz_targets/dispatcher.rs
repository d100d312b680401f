//! The dispatcher fed arbitrary input in process, over the stdio transport's own path (frames,
//! envelopes, legacy sessions opened by `initialize`, modern requests with `_meta`, batches,
//! cancellations): the connection ends once its input has, within the drain timeout, whatever
//! the input was, and nothing panics.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use mocopr_fuzz::{runtime, server};
use mocopr_server::{StdioConfig, serve_connection};
use mocopr_transport::{FrameReader, FramingConfig, spawn_writer};

fuzz_target!(|data: &[u8]| {
    runtime().block_on(async {
        let framing = FramingConfig::default();
        let reader = FrameReader::new(data, &framing);
        let (sink, writer) = spawn_writer(tokio::io::sink(), &framing);
        let served = serve_connection(server(), reader, sink, StdioConfig::default());
        let ended = tokio::time::timeout(Duration::from_secs(30), served).await;
        assert!(ended.is_ok(), "the connection did not end after its input did");
        let _ = writer.await;
    });
});
