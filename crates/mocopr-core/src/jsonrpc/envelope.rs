//! The JSON-RPC envelope, decoded once with borrowed parts.
//!
//! [`decode`] reads a message's members as raw JSON slices of the input and classifies it
//! (request, notification, response, error, or a 2025-03-26 batch of those). Params and results
//! stay raw ([`RawValue`]) until a handler asks for its type, so routing, validation and
//! forwarding never pay for a full parse.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::id::RequestId;
use crate::error::{ErrorObject, JsonKind, ProtocolError, Rejection};
use crate::messages::decode_params;
use crate::version::ProtocolVersion;

/// Default largest message accepted by [`decode`]: 16 MiB, the stdio frame default.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;
/// Default largest batch accepted (2025-03-26 only).
pub const DEFAULT_MAX_BATCH_LEN: usize = 1024;

/// Limits and policy for [`decode`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// Largest message in bytes.
    pub max_message_size: usize,
    /// Whether a JSON-RPC batch array is acceptable (only with 2025-03-26 peers).
    pub allow_batch: bool,
    /// Largest batch.
    pub max_batch_len: usize,
    /// The revision in force, when known (used in error messages).
    pub version: Option<ProtocolVersion>,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            allow_batch: false,
            max_batch_len: DEFAULT_MAX_BATCH_LEN,
            version: None,
        }
    }
}

impl DecodeOptions {
    /// Options for a peer on `version`: batches allowed exactly when that revision has them.
    pub fn for_version(version: ProtocolVersion) -> Self {
        DecodeOptions { allow_batch: version.allows_batches(), version: Some(version), ..Self::default() }
    }

    /// Sets the largest message size.
    pub fn with_max_message_size(mut self, limit: usize) -> Self {
        self.max_message_size = limit;
        self
    }

    /// Allows or forbids batches.
    pub fn with_batches(mut self, allow: bool) -> Self {
        self.allow_batch = allow;
        self
    }
}

/// A request: it has an id and expects a response.
#[derive(Debug, Clone)]
pub struct RawRequest<'a> {
    /// The id.
    pub id: RequestId,
    /// The method.
    pub method: Cow<'a, str>,
    /// The params, undecoded.
    pub params: Option<&'a RawValue>,
}

/// A notification: no id, no response.
#[derive(Debug, Clone)]
pub struct RawNotification<'a> {
    /// The method.
    pub method: Cow<'a, str>,
    /// The params, undecoded.
    pub params: Option<&'a RawValue>,
}

/// A successful response.
#[derive(Debug, Clone)]
pub struct RawResponse<'a> {
    /// The id of the request answered.
    pub id: RequestId,
    /// The result, undecoded.
    pub result: &'a RawValue,
}

/// An error response.
#[derive(Debug, Clone)]
pub struct RawErrorResponse {
    /// The id of the request answered; absent when it could not be read.
    pub id: Option<RequestId>,
    /// The error.
    pub error: ErrorObject,
}

/// One decoded JSON-RPC message.
/// JSON-RPC has exactly these four kinds, so the enum is closed.
#[derive(Debug, Clone)]
pub enum Envelope<'a> {
    /// A request.
    Request(RawRequest<'a>),
    /// A notification.
    Notification(RawNotification<'a>),
    /// A successful response.
    Response(RawResponse<'a>),
    /// An error response.
    Error(RawErrorResponse),
}

/// What one frame (a stdio line, an HTTP body) held.
#[derive(Debug)]
pub enum Frame<'a> {
    /// One message.
    Single(Envelope<'a>),
    /// A 2025-03-26 batch: each entry decoded on its own, so one bad entry does not spoil the
    /// others.
    Batch(Vec<Result<Envelope<'a>, Rejection>>),
}

impl<'a> RawRequest<'a> {
    /// Decodes the params as `P` (absent params decode as `{}`).
    pub fn params<P: DeserializeOwned>(&self) -> Result<P, ProtocolError> {
        decode_params(&self.method, self.params)
    }
}

impl<'a> RawNotification<'a> {
    /// Decodes the params as `P` (absent params decode as `{}`).
    pub fn params<P: DeserializeOwned>(&self) -> Result<P, ProtocolError> {
        decode_params(&self.method, self.params)
    }
}

impl<'a> RawResponse<'a> {
    /// Decodes the result as `T`.
    pub fn result<T: DeserializeOwned>(&self) -> Result<T, ProtocolError> {
        serde_json::from_str(self.result.get()).map_err(|source| ProtocolError::InvalidResult { source })
    }
}

impl Envelope<'_> {
    /// The id, for requests and responses.
    pub fn id(&self) -> Option<&RequestId> {
        match self {
            Envelope::Request(r) => Some(&r.id),
            Envelope::Response(r) => Some(&r.id),
            Envelope::Error(e) => e.id.as_ref(),
            Envelope::Notification(_) => None,
        }
    }

    /// The method, for requests and notifications.
    pub fn method(&self) -> Option<&str> {
        match self {
            Envelope::Request(r) => Some(&r.method),
            Envelope::Notification(n) => Some(&n.method),
            _ => None,
        }
    }
}

/// Every member read raw: wrong types are reported per member instead of as one opaque serde
/// error, and `"id": null` stays distinguishable from a missing id.
#[derive(Deserialize)]
struct WireMessage<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    jsonrpc: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    method: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    params: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    error: Option<&'a RawValue>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&'de RawValue>::deserialize(d).map(Some)
}

/// Decodes one frame: a message or, where `options` allow, a batch.
pub fn decode<'a>(bytes: &'a [u8], options: &DecodeOptions) -> Result<Frame<'a>, Rejection> {
    if bytes.len() > options.max_message_size {
        return Err(ProtocolError::MessageTooLarge { size: bytes.len(), limit: options.max_message_size }.into());
    }
    match JsonKind::sniff(bytes) {
        Some(JsonKind::Object) => decode_object(bytes).map(Frame::Single),
        // Refused before it is parsed: a batch where none is allowed costs nothing to refuse.
        Some(JsonKind::Array) if !options.allow_batch => {
            Err(ProtocolError::BatchNotAllowed { version: options.version }.into())
        }
        Some(JsonKind::Array) => decode_batch(bytes, options),
        _ => Err(not_a_message(bytes).into()),
    }
}

/// Decodes one message; a batch array is always rejected.
pub fn decode_single<'a>(bytes: &'a [u8], options: &DecodeOptions) -> Result<Envelope<'a>, Rejection> {
    match decode(bytes, &options.with_batches(false))? {
        Frame::Single(envelope) => Ok(envelope),
        Frame::Batch(_) => Err(ProtocolError::BatchNotAllowed { version: options.version }.into()),
    }
}

fn not_a_message(bytes: &[u8]) -> ProtocolError {
    match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        Err(e) => ProtocolError::from_json(e),
        Ok(_) => ProtocolError::NotAnObject { found: JsonKind::sniff(bytes).unwrap_or(JsonKind::Null) },
    }
}

fn decode_batch<'a>(bytes: &'a [u8], options: &DecodeOptions) -> Result<Frame<'a>, Rejection> {
    let limit = options.max_batch_len;
    let too_large = || ProtocolError::BatchTooLarge { len: limit + 1, limit };
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let full = std::cell::Cell::new(false);
    let items = match serde::Deserializer::deserialize_seq(&mut reader, BoundedSeq { limit, full: &full }) {
        Ok(items) => {
            reader.end().map_err(ProtocolError::from_json)?;
            items
        }
        // Reading stopped one past the limit: the rest is never parsed.
        Err(_) if full.get() => return Err(too_large().into()),
        Err(error) => return Err(ProtocolError::from_json(error).into()),
    };
    if items.is_empty() {
        return Err(ProtocolError::EmptyBatch.into());
    }
    let entries = items
        .into_iter()
        .map(|item| {
            let text = item.get();
            match JsonKind::sniff(text.as_bytes()) {
                Some(JsonKind::Object) => decode_object(text.as_bytes()),
                Some(found) => Err(ProtocolError::NotAnObject { found }.into()),
                None => Err(ProtocolError::UnclassifiableMessage.into()),
            }
        })
        .collect();
    Ok(Frame::Batch(entries))
}

/// A JSON array of raw members, read up to `limit` members and no further (then `full` is set,
/// so the caller can tell the stop from bad JSON).
struct BoundedSeq<'f> {
    limit: usize,
    full: &'f std::cell::Cell<bool>,
}

impl<'de> serde::de::Visitor<'de> for BoundedSeq<'_> {
    type Value = Vec<&'de RawValue>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a JSON-RPC batch")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            if items.len() == self.limit {
                // Leaving the array unread makes serde_json fail; `full` says why.
                self.full.set(true);
                return Err(serde::de::Error::custom("a batch over its limit"));
            }
            items.push(item);
        }
        Ok(items)
    }
}

fn decode_object(bytes: &[u8]) -> Result<Envelope<'_>, Rejection> {
    let wire: WireMessage<'_> = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() { ProtocolError::MalformedEnvelope { source: e } } else { ProtocolError::from_json(e) }
    })?;
    // Read the id first, so every later error can be answered to the right request.
    let id = match wire.id {
        None => None,
        Some(raw) => Some(parse_id(raw).map_err(Rejection::without_id)?),
    };
    // A notification is never answered, whatever it carries (params of the wrong kind, a name
    // no method has, a wrong `jsonrpc`).
    let notification = wire.id.is_none() && wire.method.is_some() && wire.result.is_none() && wire.error.is_none();
    let reject = |error: ProtocolError| Rejection { id: id.clone().flatten(), notification, error };

    match wire.jsonrpc {
        Some(v) if v.get() == "\"2.0\"" || serde_json::from_str::<&str>(v.get()).ok() == Some("2.0") => {}
        _ => return Err(reject(ProtocolError::InvalidJsonRpcVersion)),
    }
    if super::reserved_member::holds_reserved_member(bytes) {
        return Err(reject(ProtocolError::ReservedMemberName));
    }
    let params_ok =
        |p: &RawValue| matches!(JsonKind::sniff(p.get().as_bytes()), Some(JsonKind::Object | JsonKind::Null));
    if wire.params.is_some_and(|p| !params_ok(p)) {
        return Err(reject(ProtocolError::InvalidField { field: "params", expected: "an object" }));
    }
    let params = wire.params.filter(|p| p.get() != "null");

    match (wire.method, wire.result, wire.error) {
        (Some(method), None, None) => {
            let method = parse_method(method).map_err(reject)?;
            match id {
                None => Ok(Envelope::Notification(RawNotification { method, params })),
                Some(None) => Err(reject(ProtocolError::NullId)),
                Some(Some(id)) => Ok(Envelope::Request(RawRequest { id, method, params })),
            }
        }
        (None, Some(result), None) => match id {
            Some(Some(id)) => Ok(Envelope::Response(RawResponse { id, result })),
            Some(None) => Err(reject(ProtocolError::NullId)),
            None => Err(reject(ProtocolError::MissingResponseId)),
        },
        (None, None, Some(error)) => {
            let error: ErrorObject = serde_json::from_str(error.get())
                .map_err(|_| reject(ProtocolError::InvalidField { field: "error", expected: "an error object" }))?;
            Ok(Envelope::Error(RawErrorResponse { id: id.flatten(), error }))
        }
        (None, None, None) => Err(reject(ProtocolError::UnclassifiableMessage)),
        (Some(_), Some(_), _) => Err(reject(ProtocolError::AmbiguousMessage { first: "method", second: "result" })),
        (Some(_), None, Some(_)) => Err(reject(ProtocolError::AmbiguousMessage { first: "method", second: "error" })),
        (None, Some(_), Some(_)) => Err(reject(ProtocolError::AmbiguousMessage { first: "result", second: "error" })),
    }
}

/// `Ok(None)` is an explicit `null`.
fn parse_id(raw: &RawValue) -> Result<Option<RequestId>, ProtocolError> {
    let text = raw.get();
    match JsonKind::sniff(text.as_bytes()) {
        Some(JsonKind::Null) => Ok(None),
        Some(JsonKind::String | JsonKind::Number) => serde_json::from_str::<RequestId>(text).map(Some).map_err(|_| {
            ProtocolError::InvalidId { found: JsonKind::sniff(text.as_bytes()).unwrap_or(JsonKind::Number) }
        }),
        found => Err(ProtocolError::InvalidId { found: found.unwrap_or(JsonKind::Null) }),
    }
}

fn parse_method<'a>(raw: &'a RawValue) -> Result<Cow<'a, str>, ProtocolError> {
    let text = raw.get();
    let not_a_string = || ProtocolError::InvalidField { field: "method", expected: "a string" };
    if JsonKind::sniff(text.as_bytes()) != Some(JsonKind::String) {
        return Err(not_a_string());
    }
    // Borrow when the name has no escapes (always, in practice); decode otherwise.
    let method = match serde_json::from_str::<&'a str>(text) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(serde_json::from_str::<String>(text).map_err(|_| not_a_string())?),
    };
    crate::names::validate_method_name(&method)
        .map_err(|source| ProtocolError::InvalidMethodName { method: method.to_string(), source })?;
    Ok(method)
}

/// Extracts the id of a message that failed to decode, so its error response can still name
/// it. Only called on the error path.
pub fn recover_id(bytes: &[u8]) -> Option<RequestId> {
    #[derive(Deserialize)]
    struct IdOnly {
        id: Option<RequestId>,
    }
    serde_json::from_slice::<IdOnly>(bytes).ok().and_then(|m| m.id)
}
