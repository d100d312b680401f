//! [`HttpBody`]: the response bodies of the endpoint: empty, one JSON message, or a stream of
//! server-sent events fed by a bounded channel.
//!
//! Dropping a stream body (the client went away) cancels the request it belongs to: on
//! Streamable HTTP, closing the response stream *is* cancellation.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;
use tokio_util::sync::DropGuard;

/// A response body.
#[derive(Debug)]
pub struct HttpBody {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Full(Option<Bytes>),
    Stream { rx: mpsc::Receiver<Bytes>, _cancel_on_drop: Option<DropGuard> },
}

impl HttpBody {
    /// No body.
    pub fn empty() -> Self {
        HttpBody { kind: Kind::Full(None) }
    }

    /// One chunk.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        HttpBody { kind: Kind::Full((!bytes.is_empty()).then_some(bytes)) }
    }

    /// Chunks from a channel; `guard` (if any) fires when the body is dropped.
    pub(crate) fn stream(rx: mpsc::Receiver<Bytes>, guard: Option<DropGuard>) -> Self {
        HttpBody { kind: Kind::Stream { rx, _cancel_on_drop: guard } }
    }
}

impl Body for HttpBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut self.get_mut().kind {
            Kind::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Stream { rx, .. } => rx.poll_recv(cx).map(|chunk| chunk.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.kind, Kind::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            Kind::Full(None) => SizeHint::with_exact(0),
            Kind::Stream { .. } => SizeHint::default(),
        }
    }
}

/// Formats one JSON-RPC message as a server-sent event.
pub(crate) fn sse_event(message: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(message.len() + 16);
    out.extend_from_slice(b"event: message\ndata: ");
    // Compact JSON holds no raw newlines, so one `data:` line carries the whole message.
    out.extend_from_slice(message);
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}
