//! The request/response vocabulary of MoCoPr's tower services.
//!
//! A transport turns each incoming JSON-RPC request into an [`McpRequest`] and hands it to a
//! `tower::Service<McpRequest, Response = McpResponse>`: the server's dispatcher, wrapped in any
//! layers (cache, metrics, profiling, limits). Params and results travel as raw JSON slices of
//! shared buffers ([`RawJson`]): a layer can read the method, id and era without decoding
//! anything, and only the handler decodes its params into its own type.
//!
//! This crate defines the types only; it depends on no runtime. Runtime pieces a request carries
//! (its cancellation token, the channel its notifications go to) travel in [`Extensions`].

use std::any::{Any, TypeId};
use std::fmt;
use std::ops::Range;

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::error::{ErrorObject, ProtocolError};
use crate::jsonrpc::{RawRequest, RequestId};
use crate::version::{Era, ProtocolVersion};

/// A slice of a shared buffer holding one JSON value, exactly as received or produced.
#[derive(Clone, PartialEq, Eq)]
pub struct RawJson {
    buf: Bytes,
}

impl RawJson {
    /// Wraps bytes that hold one JSON value. The caller vouches for validity (they come out of
    /// a decoder or a serializer).
    pub fn from_bytes(buf: Bytes) -> Self {
        RawJson { buf }
    }

    /// The slice `range` of `frame`, which must be the text of a value decoded from `frame`.
    pub fn from_frame(frame: &Bytes, range: Range<usize>) -> Self {
        RawJson { buf: frame.slice(range) }
    }

    /// Serializes `value`.
    pub fn serialize<T: serde::Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::to_vec(value).map(|v| RawJson { buf: Bytes::from(v) })
    }

    /// The JSON text.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The JSON text as a string (always UTF-8: it came from a JSON decoder or serializer).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf).unwrap_or("null")
    }

    /// The underlying buffer.
    pub fn into_bytes(self) -> Bytes {
        self.buf
    }

    /// Decodes as `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.buf)
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether the text is empty (never, for a valid value).
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.as_str();
        if text.len() > 256 {
            write!(f, "RawJson({}…)", &text[..text.floor_char_boundary(256)])
        } else {
            write!(f, "RawJson({text})")
        }
    }
}

/// Where `inner` lies within `outer`, when it is a sub-slice of it.
pub fn subslice_range(outer: &[u8], inner: &str) -> Option<Range<usize>> {
    let start = (inner.as_ptr() as usize).checked_sub(outer.as_ptr() as usize)?;
    let end = start.checked_add(inner.len())?;
    (end <= outer.len()).then_some(start..end)
}

/// A type map for what transports and layers attach to a request or response.
///
/// A request carries a handful of entries (its session, its notifier, its cancellation token,
/// what a layer adds), and one of each type at most: a short list searched in order costs less
/// than hashing, and the list is one allocation (each value still boxed), not a table's buckets.
#[derive(Default)]
pub struct Extensions {
    entries: Vec<(TypeId, Box<dyn Any + Send + Sync>)>,
}

impl Extensions {
    /// An empty map (allocates nothing until the first insert).
    pub fn new() -> Self {
        Extensions { entries: Vec::new() }
    }

    /// Inserts `value`, returning the previous value of that type.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) -> Option<T> {
        let id = TypeId::of::<T>();
        match self.entries.iter_mut().find(|(key, _)| *key == id) {
            Some((_, old)) => std::mem::replace(old, Box::new(value)).downcast::<T>().ok().map(|b| *b),
            None => {
                if self.entries.capacity() == 0 {
                    self.entries.reserve_exact(EXTENSIONS_USUALLY);
                }
                self.entries.push((id, Box::new(value)));
                None
            }
        }
    }

    /// The value of type `T`.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.entries.iter().find(|(key, _)| *key == id)?.1.downcast_ref()
    }

    /// Removes and returns the value of type `T`.
    pub fn remove<T: Send + Sync + 'static>(&mut self) -> Option<T> {
        let id = TypeId::of::<T>();
        let at = self.entries.iter().position(|(key, _)| *key == id)?;
        self.entries.swap_remove(at).1.downcast::<T>().ok().map(|b| *b)
    }
}

/// Entries a served request usually ends up with (over legacy HTTP: its headers, session, event
/// log, token, notifier and the dispatcher's own; with authorization, the principal and the
/// HTTP parts too), room made for them at the first insert.
const EXTENSIONS_USUALLY: usize = 8;

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extensions").field("len", &self.entries.len()).finish()
    }
}

/// The MCP request headers of an HTTP request (2026-07-28), as received, for the dispatcher to
/// check against the body once it has decoded it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct McpHeaders {
    /// `MCP-Protocol-Version`.
    pub protocol_version: Option<String>,
    /// `Mcp-Method`.
    pub method: Option<String>,
    /// `Mcp-Name`, surrounding whitespace trimmed, still encoded.
    pub name: Option<String>,
    /// `Mcp-Param-*`: the suffix (lower-cased) and the raw value.
    pub params: Vec<(String, String)>,
}

/// Marks a response whose handler asked the client for input on the way (a legacy
/// server-to-client request): the result depends on that exchange, so no cache may keep it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InputWasRequested;

/// A request on its way through the service stack.
#[derive(Debug)]
#[non_exhaustive]
pub struct McpRequest {
    /// The JSON-RPC id.
    pub id: RequestId,
    /// The method.
    pub method: Method,
    /// The params, undecoded (`None` when absent).
    pub params: Option<RawJson>,
    /// The revision the request is served under, once known.
    pub version: Option<ProtocolVersion>,
    /// Runtime attachments (cancellation, notification channel, session, auth context, ...).
    pub extensions: Extensions,
}

impl McpRequest {
    /// A request with no attachments.
    pub fn new(id: RequestId, method: Method, params: Option<RawJson>) -> Self {
        McpRequest { id, method, params, version: None, extensions: Extensions::new() }
    }

    /// Builds an owned request from a decoded envelope and the frame it was decoded from,
    /// sharing the frame's buffer instead of copying the params.
    pub fn from_raw(raw: &RawRequest<'_>, frame: &Bytes) -> Self {
        let params = raw.params.map(|p| match subslice_range(frame, p.get()) {
            Some(range) => RawJson::from_frame(frame, range),
            None => RawJson::from_bytes(Bytes::copy_from_slice(p.get().as_bytes())),
        });
        McpRequest::new(raw.id.clone(), Method::new(&raw.method), params)
    }

    /// Decodes the params as `P` (absent params decode as `{}`).
    pub fn params<P: DeserializeOwned>(&self) -> Result<P, ProtocolError> {
        crate::messages::decode_params_text(self.method.as_str(), self.params.as_ref().map(RawJson::as_str))
    }

    /// The era of the request, once its version is known.
    pub fn era(&self) -> Option<Era> {
        self.version.map(ProtocolVersion::era)
    }
}

/// A result produced piece by piece: the chunks, concatenated, are the result's JSON text (no
/// raw newlines). Transports write them as they come, so a large resource never sits in memory
/// whole.
pub struct ResultStream {
    chunks: std::pin::Pin<Box<dyn futures_core::Stream<Item = Result<Bytes, std::io::Error>> + Send>>,
}

impl ResultStream {
    /// A result streamed from `chunks`.
    pub fn new(chunks: impl futures_core::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static) -> Self {
        ResultStream { chunks: Box::pin(chunks) }
    }
}

impl fmt::Debug for ResultStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResultStream")
    }
}

impl futures_core::Stream for ResultStream {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.chunks.as_mut().poll_next(cx)
    }
}

/// A result: whole, or streamed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ResultBody {
    /// The whole result JSON.
    Json(RawJson),
    /// The result JSON in pieces.
    Stream(ResultStream),
}

/// The answer to an [`McpRequest`].
#[derive(Debug)]
#[non_exhaustive]
pub struct McpResponse {
    /// The id of the request answered.
    pub id: RequestId,
    /// The result, or the error.
    pub outcome: Result<ResultBody, ErrorObject>,
    /// The revision the request was served under, when the dispatcher got that far (for
    /// layers: a legacy request's revision is known only to its session). `None` for answers
    /// made outside the dispatcher: cache hits, timeouts, `initialize` and `ping`.
    pub version: Option<ProtocolVersion>,
    /// Attachments for layers below (e.g. cache hints decided by the handler).
    pub extensions: Extensions,
}

impl McpResponse {
    /// A successful response carrying `result`.
    pub fn result(id: RequestId, result: RawJson) -> Self {
        McpResponse { id, outcome: Ok(ResultBody::Json(result)), version: None, extensions: Extensions::new() }
    }

    /// A successful response whose result is streamed.
    pub fn stream(id: RequestId, result: ResultStream) -> Self {
        McpResponse { id, outcome: Ok(ResultBody::Stream(result)), version: None, extensions: Extensions::new() }
    }

    /// The whole result JSON, when the result is not streamed.
    pub fn result_json(&self) -> Option<&RawJson> {
        match &self.outcome {
            Ok(ResultBody::Json(json)) => Some(json),
            _ => None,
        }
    }

    /// Takes the streamed result out, leaving an empty result behind.
    pub fn take_stream(&mut self) -> Option<ResultStream> {
        match std::mem::replace(&mut self.outcome, Ok(ResultBody::Json(RawJson::from_bytes(Bytes::from_static(b"{}")))))
        {
            Ok(ResultBody::Stream(stream)) => Some(stream),
            other => {
                self.outcome = other;
                None
            }
        }
    }

    /// The text that goes before a streamed result: `{"jsonrpc":"2.0","id":…,"result":`. The
    /// message is complete after the stream's chunks and one `}`.
    pub fn stream_prefix(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(48);
        out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
        let _ = serde_json::to_writer(&mut out, &self.id);
        out.extend_from_slice(b",\"result\":");
        out
    }

    /// An error response.
    pub fn error(id: RequestId, error: ErrorObject) -> Self {
        McpResponse { id, outcome: Err(error), version: None, extensions: Extensions::new() }
    }

    /// About how many bytes [`McpResponse::write_message`] writes: the result's length and room
    /// for the envelope. A buffer made with this capacity is not regrown for a large result
    /// (`benches/codec_alternatives.rs`: a 10 KB message is written in half the time of one
    /// into a buffer grown from 256 bytes).
    ///
    /// ```
    /// use mocopr_core::RequestId;
    /// use mocopr_core::service::{McpResponse, RawJson};
    ///
    /// let response = McpResponse::result(RequestId::from(7), RawJson::serialize(&"x".repeat(10_000)).unwrap());
    /// let mut out = Vec::with_capacity(response.message_size_hint());
    /// response.write_message(&mut out);
    /// assert!(out.len() <= response.message_size_hint());
    /// ```
    pub fn message_size_hint(&self) -> usize {
        const ENVELOPE: usize = 64;
        match &self.outcome {
            Ok(ResultBody::Json(result)) => ENVELOPE + result.len(),
            Ok(ResultBody::Stream(_)) => ENVELOPE,
            Err(error) => 2 * ENVELOPE + error.message.len(),
        }
    }

    /// Writes the whole JSON-RPC response message into `out`, without re-encoding the result.
    /// A streamed result must be written by the transport (see [`McpResponse::stream_prefix`]);
    /// here it is written as an empty object.
    pub fn write_message(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
        // Ids are strings or integers: serializing them into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, &self.id);
        match &self.outcome {
            Ok(ResultBody::Json(result)) => {
                out.extend_from_slice(b",\"result\":");
                out.extend_from_slice(result.as_bytes());
            }
            Ok(ResultBody::Stream(_)) => out.extend_from_slice(b",\"result\":{}"),
            Err(error) => {
                out.extend_from_slice(b",\"error\":");
                let _ = serde_json::to_writer(&mut *out, error);
            }
        }
        out.push(b'}');
    }
}

/// A method name: the known ones as static strings (no allocation), others owned.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Method(MethodRepr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum MethodRepr {
    Known(&'static str),
    Other(Box<str>),
}

impl Method {
    /// Interns `name` when it is a method of any supported revision.
    pub fn new(name: &str) -> Self {
        match KNOWN_METHODS.iter().find(|m| **m == name) {
            Some(known) => Method(MethodRepr::Known(known)),
            None => Method(MethodRepr::Other(name.into())),
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            MethodRepr::Known(s) => s,
            MethodRepr::Other(s) => s,
        }
    }

    /// Whether the method belongs to some supported revision.
    pub fn is_known(&self) -> bool {
        matches!(self.0, MethodRepr::Known(_))
    }
}

impl fmt::Debug for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every request method of every supported revision (client and server side).
const KNOWN_METHODS: &[&str] = &[
    "tools/call",
    "tools/list",
    "resources/read",
    "resources/list",
    "resources/templates/list",
    "prompts/get",
    "prompts/list",
    "completion/complete",
    "server/discover",
    "subscriptions/listen",
    "initialize",
    "ping",
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
    "tasks/result",
    "tasks/list",
    "sampling/createMessage",
    "roots/list",
    "elicitation/create",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonrpc::{DecodeOptions, Envelope, Frame, decode};

    #[test]
    fn requests_share_the_frame_and_responses_embed_results_verbatim() {
        let frame = Bytes::from_static(br#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"x"}}"#);
        let Ok(Frame::Single(Envelope::Request(raw))) = decode(&frame, &DecodeOptions::default()) else { panic!() };
        let request = McpRequest::from_raw(&raw, &frame);
        assert!(request.method.is_known());
        assert_eq!(request.params.as_ref().map(RawJson::as_str), Some(r#"{"name":"x"}"#));
        let params: crate::CallToolRequestParams = request.params().unwrap();
        assert_eq!(params.name, "x");

        let response = McpResponse::result(request.id, RawJson::from_bytes(Bytes::from_static(br#"{"ok":true}"#)));
        let mut out = Vec::new();
        response.write_message(&mut out);
        assert_eq!(out, br#"{"jsonrpc":"2.0","id":"a","result":{"ok":true}}"#);
    }

    #[test]
    fn extensions_hold_one_value_per_type() {
        let mut ext = Extensions::new();
        assert_eq!(ext.insert(5u32), None);
        assert_eq!(ext.insert(6u32), Some(5));
        assert_eq!(ext.get::<u32>(), Some(&6));
        assert_eq!(ext.remove::<u32>(), Some(6));
        assert!(ext.get::<u32>().is_none());
        // More types than room was made for, removed out of order: each finds its own.
        ext.insert(1u8);
        ext.insert(2u16);
        ext.insert(3u32);
        ext.insert(4u64);
        ext.insert("five");
        ext.insert(String::from("six"));
        ext.insert(7i8);
        assert_eq!(ext.remove::<u16>(), Some(2));
        assert_eq!(ext.insert(8u64), Some(4));
        assert_eq!((ext.get::<u8>(), ext.get::<u32>(), ext.get::<u64>()), (Some(&1), Some(&3), Some(&8)));
        assert_eq!((ext.get::<&str>(), ext.get::<String>().map(String::as_str)), (Some(&"five"), Some("six")));
        assert_eq!((ext.get::<i8>(), ext.get::<u16>()), (Some(&7), None));
        assert_eq!(format!("{ext:?}"), "Extensions { len: 6 }");
    }
}
