//! Resources read as streams: a handler hands out the bytes piece by piece and the server
//! encodes the `resources/read` result incrementally (base64 for blobs, escaped JSON for text),
//! so a resource of any size passes through a few pieces of memory.

use std::io;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};

use mocopr_core::service::ResultStream;

/// The largest slice of input encoded in one step (48 KiB becomes 64 KiB of base64).
const SLICE: usize = 48 * 1024;

/// How a streamed resource's bytes appear in its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamEncoding {
    /// `blob`: base64 of the bytes.
    Blob,
    /// `text`: the bytes are UTF-8 text.
    Text,
}

/// The contents of one resource, as a stream of bytes.
pub struct ResourceStream {
    pub(crate) uri: String,
    pub(crate) mime_type: Option<String>,
    pub(crate) encoding: StreamEncoding,
    pub(crate) chunks: BoxStream<'static, io::Result<Bytes>>,
}

impl std::fmt::Debug for ResourceStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceStream").field("uri", &self.uri).field("encoding", &self.encoding).finish()
    }
}

impl ResourceStream {
    /// Binary contents of `uri` (sent as base64 `blob`).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use mocopr_server::ResourceStream;
    ///
    /// let chunks = futures_util::stream::iter([Ok(Bytes::from_static(b"\x89PNG"))]);
    /// let stream = ResourceStream::blob("files://logo.png", chunks).with_mime_type("image/png");
    /// # let _ = stream;
    /// ```
    pub fn blob(
        uri: impl Into<String>,
        chunks: impl futures_util::Stream<Item = io::Result<Bytes>> + Send + 'static,
    ) -> Self {
        ResourceStream { uri: uri.into(), mime_type: None, encoding: StreamEncoding::Blob, chunks: chunks.boxed() }
    }

    /// UTF-8 text contents of `uri` (sent as escaped `text`); invalid UTF-8 ends the stream with
    /// an error.
    pub fn text(
        uri: impl Into<String>,
        chunks: impl futures_util::Stream<Item = io::Result<Bytes>> + Send + 'static,
    ) -> Self {
        ResourceStream { uri: uri.into(), mime_type: None, encoding: StreamEncoding::Text, chunks: chunks.boxed() }
    }

    /// Sets the MIME type.
    pub fn with_mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.mime_type = Some(mime_type.into());
        self
    }
}

enum Stage {
    Head,
    Body,
    Tail,
    Done,
}

struct Encoder {
    stage: Stage,
    head: Vec<u8>,
    tail: Vec<u8>,
    encoding: StreamEncoding,
    input: BoxStream<'static, io::Result<Bytes>>,
    /// Input not yet encoded: the rest of a large chunk.
    pending: Bytes,
    /// Bytes held back across pieces: up to 2 for base64, an incomplete UTF-8 sequence for text.
    carry: Vec<u8>,
}

impl Encoder {
    /// Encodes `data` (after the carry), keeping back what cannot be encoded yet.
    fn encode(&mut self, data: &[u8]) -> io::Result<Vec<u8>> {
        let mut joined = std::mem::take(&mut self.carry);
        joined.extend_from_slice(data);
        match self.encoding {
            StreamEncoding::Blob => {
                let whole = joined.len() / 3 * 3;
                self.carry = joined[whole..].to_vec();
                Ok(STANDARD.encode(&joined[..whole]).into_bytes())
            }
            _ => {
                let valid = match std::str::from_utf8(&joined) {
                    Ok(_) => joined.len(),
                    Err(e) if e.error_len().is_none() => e.valid_up_to(),
                    Err(_) => return Err(io::Error::new(io::ErrorKind::InvalidData, "text resource is not UTF-8")),
                };
                self.carry = joined[valid..].to_vec();
                escape(&joined[..valid])
            }
        }
    }

    fn finish(&mut self) -> io::Result<Vec<u8>> {
        let carry = std::mem::take(&mut self.carry);
        match self.encoding {
            StreamEncoding::Blob => Ok(STANDARD.encode(carry).into_bytes()),
            _ if carry.is_empty() => Ok(Vec::new()),
            _ => Err(io::Error::new(io::ErrorKind::InvalidData, "text resource ends inside a UTF-8 sequence")),
        }
    }

    async fn step(&mut self) -> Option<io::Result<Bytes>> {
        loop {
            match self.stage {
                Stage::Head => {
                    self.stage = Stage::Body;
                    return Some(Ok(Bytes::from(std::mem::take(&mut self.head))));
                }
                Stage::Tail => {
                    self.stage = Stage::Done;
                    return Some(Ok(Bytes::from(std::mem::take(&mut self.tail))));
                }
                Stage::Done => return None,
                Stage::Body => {}
            }
            if self.pending.is_empty() {
                match self.input.next().await {
                    Some(Ok(chunk)) => self.pending = chunk,
                    Some(Err(error)) => {
                        self.stage = Stage::Done;
                        return Some(Err(error));
                    }
                    None => {
                        self.stage = Stage::Tail;
                        match self.finish() {
                            Ok(last) if last.is_empty() => continue,
                            Ok(last) => return Some(Ok(Bytes::from(last))),
                            Err(error) => {
                                self.stage = Stage::Done;
                                return Some(Err(error));
                            }
                        }
                    }
                }
            }
            let slice = self.pending.split_to(self.pending.len().min(SLICE));
            match self.encode(&slice) {
                Ok(encoded) if encoded.is_empty() => continue,
                Ok(encoded) => return Some(Ok(Bytes::from(encoded))),
                Err(error) => {
                    self.stage = Stage::Done;
                    return Some(Err(error));
                }
            }
        }
    }
}

/// The inside of a JSON string for `text` (valid UTF-8).
fn escape(text: &[u8]) -> io::Result<Vec<u8>> {
    let text = std::str::from_utf8(text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let mut quoted = serde_json::to_vec(text).map_err(io::Error::other)?;
    quoted.pop();
    quoted.remove(0);
    Ok(quoted)
}

/// The `resources/read` result for `resource`, as a stream: `{"contents":[{…,"blob":"` then the
/// encoded bytes then `"}]` and `extra` (already-serialized members such as `,"ttlMs":0`) and `}`.
pub(crate) fn encode_read_result(resource: ResourceStream, extra: &[u8]) -> ResultStream {
    let mut head = b"{\"contents\":[{\"uri\":".to_vec();
    let _ = serde_json::to_writer(&mut head, &resource.uri);
    if let Some(mime) = &resource.mime_type {
        head.extend_from_slice(b",\"mimeType\":");
        let _ = serde_json::to_writer(&mut head, mime);
    }
    head.extend_from_slice(match resource.encoding {
        StreamEncoding::Blob => b",\"blob\":\"",
        _ => b",\"text\":\"",
    });
    let mut tail = b"\"}]".to_vec();
    tail.extend_from_slice(extra);
    tail.push(b'}');
    let encoder = Encoder {
        stage: Stage::Head,
        head,
        tail,
        encoding: resource.encoding,
        input: resource.chunks,
        pending: Bytes::new(),
        carry: Vec::new(),
    };
    ResultStream::new(futures_util::stream::unfold(encoder, |mut encoder| async move {
        encoder.step().await.map(|piece| (piece, encoder))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect(stream: ResultStream) -> Result<Vec<u8>, io::Error> {
        let mut out = Vec::new();
        let mut stream = stream;
        while let Some(piece) = stream.next().await {
            out.extend_from_slice(&piece?);
        }
        Ok(out)
    }

    fn chunks(data: Vec<u8>, size: usize) -> impl futures_util::Stream<Item = io::Result<Bytes>> + Send + 'static {
        let pieces: Vec<io::Result<Bytes>> = data.chunks(size.max(1)).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        futures_util::stream::iter(pieces)
    }

    #[tokio::test]
    async fn blobs_encode_to_the_same_json_as_whole_contents_for_any_chunking() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(31) % 251) as u8).collect();
        let expected = serde_json::json!({"contents": [{"uri": "b://x", "mimeType": "application/octet-stream", "blob": STANDARD.encode(&data)}], "ttlMs": 0});
        for size in [1, 2, 3, 4, 1000, 65_536, 200_000] {
            let stream =
                ResourceStream::blob("b://x", chunks(data.clone(), size)).with_mime_type("application/octet-stream");
            let json = collect(encode_read_result(stream, b",\"ttlMs\":0")).await.unwrap();
            assert_eq!(serde_json::from_slice::<serde_json::Value>(&json).unwrap(), expected, "chunk size {size}");
        }
    }

    #[tokio::test]
    async fn text_is_escaped_across_split_utf8_sequences() {
        let text = "line one\nquote \" backslash \\ tab \t é ü 😀 end".repeat(50);
        for size in [1, 2, 3, 5, 7, 64] {
            let stream = ResourceStream::text("t://x", chunks(text.clone().into_bytes(), size));
            let json = collect(encode_read_result(stream, b"")).await.unwrap();
            assert!(!json.contains(&b'\n'), "no raw newline in the message");
            let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
            assert_eq!(value["contents"][0]["text"], text.as_str(), "chunk size {size}");
        }
        let broken = ResourceStream::text("t://x", chunks(vec![b'a', 0xff, b'b'], 1));
        assert!(collect(encode_read_result(broken, b"")).await.is_err());
    }
}
