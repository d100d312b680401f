//! An in-memory connection pair for tests and embedding: two ends joined by bounded byte pipes,
//! using the same framing as stdio, so what passes here passes over a real pipe.

use tokio::io::{DuplexStream, ReadHalf, WriteHalf};

use crate::config::FramingConfig;
use crate::framed::{FrameReader, FrameSink, spawn_writer};

/// One end of an in-memory connection: a frame reader and a frame sink.
#[derive(Debug)]
pub struct MemoryEnd {
    /// Frames from the other end.
    pub reader: FrameReader<ReadHalf<DuplexStream>>,
    /// Frames to the other end.
    pub sink: FrameSink,
}

/// Two connected ends. Each direction buffers at most `config.read_buffer_size` bytes in the
/// pipe before the writer waits.
///
/// ```
/// use mocopr_transport::memory::pair;
/// use mocopr_transport::{FramingConfig, Inbound};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (mut a, mut b) = pair(&FramingConfig::default());
/// a.sink.send("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":1}\n".into()).await.unwrap();
/// let Some(Ok(Inbound::Frame(frame))) = b.reader.next().await else { panic!("no frame") };
/// assert!(frame.starts_with(b"{\"jsonrpc\""));
/// # }
/// ```
pub fn pair(config: &FramingConfig) -> (MemoryEnd, MemoryEnd) {
    let (a, b) = tokio::io::duplex(config.read_buffer_size);
    (end(a, config), end(b, config))
}

fn end(stream: DuplexStream, config: &FramingConfig) -> MemoryEnd {
    let (read, write): (ReadHalf<DuplexStream>, WriteHalf<DuplexStream>) = tokio::io::split(stream);
    let (sink, _writer) = spawn_writer(write, config);
    MemoryEnd { reader: FrameReader::new(read, config), sink }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::framed::Inbound;

    #[tokio::test]
    async fn frames_cross_in_both_directions() {
        let config = FramingConfig::default();
        let (mut a, mut b) = pair(&config);
        a.sink.send(Bytes::from_static(b"{\"to\":\"b\"}\n")).await.unwrap();
        b.sink.send(Bytes::from_static(b"{\"to\":\"a\"}\n")).await.unwrap();
        assert_eq!(b.reader.next().await.unwrap().unwrap(), Inbound::Frame(Bytes::from_static(b"{\"to\":\"b\"}")));
        assert_eq!(a.reader.next().await.unwrap().unwrap(), Inbound::Frame(Bytes::from_static(b"{\"to\":\"a\"}")));
        drop(a);
        assert!(b.reader.next().await.is_none(), "closing one end ends the other's input");
    }
}
