//! Where a request's notifications go: the stdio stream, or the request's own HTTP response
//! stream. Both are bounded queues, so a slow client slows the handler rather than growing memory.

use bytes::Bytes;
use mocopr_core::jsonrpc::JsonRpcNotification;
use mocopr_core::messages::MethodCall;
use tokio::sync::mpsc;

use crate::framed::FrameSink;

/// A channel for the notifications of one request (or one subscription).
#[derive(Debug, Clone)]
pub struct Notifier {
    target: Target,
    /// Ends the connection carrying the stream, when the transport can resume it.
    close: Option<tokio_util::sync::CancellationToken>,
}

#[derive(Debug, Clone)]
enum Target {
    /// A newline-framed byte stream (stdio, child process, in-memory pair).
    Stream(FrameSink),
    /// One message per item (an HTTP response stream).
    Messages(mpsc::Sender<Bytes>),
}

impl Notifier {
    /// Notifications written as frames to a byte stream.
    pub fn stream(sink: FrameSink) -> Self {
        Notifier { target: Target::Stream(sink), close: None }
    }

    /// Notifications delivered as whole messages on a channel.
    pub fn messages(tx: mpsc::Sender<Bytes>) -> Self {
        Notifier { target: Target::Messages(tx), close: None }
    }

    /// This notifier, whose [`close_stream`](Self::close_stream) cancels `close` (the transport
    /// then ends the connection carrying the stream, and the client resumes it).
    pub fn with_stream_close(mut self, close: tokio_util::sync::CancellationToken) -> Self {
        self.close = Some(close);
        self
    }

    /// Ends the connection that carries this request's event stream, without ending the
    /// request: the client reconnects after the server's `retry` delay and resumes the stream
    /// after its last event (legacy Streamable HTTP, 2025-11-25, SSE polling). Returns `false`
    /// where the transport cannot (stdio, 2026-07-28, a session of an earlier revision); a
    /// stream the endpoint's store does not record simply stays open.
    ///
    /// ```
    /// use mocopr_transport::Notifier;
    ///
    /// let (tx, _rx) = tokio::sync::mpsc::channel(8);
    /// assert!(!Notifier::messages(tx).close_stream());
    /// ```
    pub fn close_stream(&self) -> bool {
        match &self.close {
            Some(close) => {
                close.cancel();
                true
            }
            None => false,
        }
    }

    /// Sends a notification. Returns `false` when the receiver is gone (the client disconnected
    /// or cancelled), which handlers may take as a reason to stop.
    pub async fn send<N: MethodCall>(&self, notification: N) -> bool {
        let mut out = Vec::with_capacity(128);
        if serde_json::to_writer(&mut out, &JsonRpcNotification { body: notification }).is_err() {
            return false;
        }
        self.send_raw(out).await
    }

    /// Sends an already-serialized message (no trailing newline).
    pub async fn send_raw(&self, mut message: Vec<u8>) -> bool {
        match &self.target {
            Target::Stream(sink) => {
                message.push(b'\n');
                sink.send(Bytes::from(message)).await.is_ok()
            }
            Target::Messages(tx) => tx.send(Bytes::from(message)).await.is_ok(),
        }
    }
}
