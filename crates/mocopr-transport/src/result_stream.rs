//! Writing a response whose result is streamed ([`ResultStream`](mocopr_core::service::ResultStream)): the JSON-RPC envelope, then
//! the result's pieces as they come, then the closing brace, into a bounded channel, so memory
//! holds a few pieces at a time however large the result.
//!
//! A stream that fails part-way cannot take back what was sent: the message is closed as is
//! (invalid JSON the client rejects) so the framing after it stays intact.

use bytes::Bytes;
use futures_util::StreamExt;
use mocopr_core::service::McpResponse;
use tokio::sync::mpsc;

/// How many pieces of one streamed result may wait in its channel.
pub const STREAM_CHUNKS_QUEUED: usize = 4;

/// Sends `response` as one message into `tx`, between `before` and `after` (the SSE `data:`
/// prefix and blank line, or the stdio newline). Returns `false` when the receiver is gone.
pub async fn send_response(mut response: McpResponse, before: &[u8], after: &[u8], tx: &mpsc::Sender<Bytes>) -> bool {
    let Some(mut stream) = response.take_stream() else {
        let mut out = Vec::with_capacity(before.len() + response.message_size_hint() + after.len());
        out.extend_from_slice(before);
        response.write_message(&mut out);
        out.extend_from_slice(after);
        return tx.send(Bytes::from(out)).await.is_ok();
    };
    let mut head = before.to_vec();
    head.extend_from_slice(&response.stream_prefix());
    if tx.send(Bytes::from(head)).await.is_err() {
        return false;
    }
    while let Some(piece) = stream.next().await {
        match piece {
            Ok(piece) => {
                if tx.send(piece).await.is_err() {
                    return false;
                }
            }
            Err(_) => break,
        }
    }
    let mut tail = b"}".to_vec();
    tail.extend_from_slice(after);
    tx.send(Bytes::from(tail)).await.is_ok()
}

/// The whole message of `response`, collecting a streamed result (for the rare places that
/// need one buffer, such as a 2025-03-26 batch).
pub async fn response_bytes(response: McpResponse) -> Vec<u8> {
    let (tx, mut rx) = mpsc::channel(STREAM_CHUNKS_QUEUED);
    let sender = async move {
        send_response(response, b"", b"", &tx).await;
    };
    let mut out = Vec::new();
    let collect = async {
        while let Some(piece) = rx.recv().await {
            out.extend_from_slice(&piece);
        }
    };
    tokio::join!(sender, collect);
    out
}
