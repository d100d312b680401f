//! A generated value and how a peer reads it back: messages through the JSON-RPC envelope
//! decoder and the typed method enums, plain results through serde.

use std::fmt::Debug;

use mocopr_core::jsonrpc::{
    DecodeOptions, Envelope, Frame, JsonRpcErrorResponse, JsonRpcNotification, JsonRpcRequest, JsonRpcResponse, decode,
};
use mocopr_core::{ClientNotification, ClientRequest, ProtocolVersion, ServerNotification, ServerRequest};
use proptest::strategy::{BoxedStrategy, Strategy};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A generated protocol value of one of our types.
pub trait Sample: Debug {
    /// What we put on the wire.
    fn to_json(&self) -> Value;

    /// Reads the message `envelope` back as a `version` peer does; `Err` unless it equals `self`.
    fn check_envelope(&self, version: ProtocolVersion, envelope: Envelope<'_>) -> Result<(), String> {
        let _ = (version, envelope);
        Err(format!("{self:?} is not a JSON-RPC message"))
    }

    /// Reads the wire `bytes` back as a `version` peer does; `Err` unless it equals `self`.
    fn reparse(&self, version: ProtocolVersion, bytes: &[u8]) -> Result<(), String> {
        let frame = decode(bytes, &DecodeOptions::for_version(version)).map_err(|e| e.to_string())?;
        match frame {
            Frame::Single(envelope) => self.check_envelope(version, envelope),
            Frame::Batch(_) => Err("a single message decoded as a batch".into()),
        }
    }
}

/// A strategy for samples of one (revision, type).
pub type Gen = BoxedStrategy<Box<dyn Sample>>;

/// Boxes the samples of `s`.
pub fn sampled<S: Sample + 'static>(s: impl Strategy<Value = S> + 'static) -> Gen {
    s.prop_map(|x| Box::new(x) as Box<dyn Sample>).boxed()
}

/// `Ok` when `back` serializes like `original` and equals it.
pub fn same<T: Serialize + PartialEq + Debug>(original: &T, back: &T) -> Result<(), String> {
    let want = serde_json::to_value(original).map_err(|e| e.to_string())?;
    let got = serde_json::to_value(back).map_err(|e| e.to_string())?;
    if want != got {
        return Err(format!("round trip changed the JSON\n  sent: {want}\n  read: {got}"));
    }
    if original != back {
        return Err(format!("round trip changed the value\n  sent: {original:?}\n  read: {back:?}"));
    }
    Ok(())
}

fn to_json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).expect("our types serialize")
}

impl Sample for JsonRpcRequest<ClientRequest> {
    fn to_json(&self) -> Value {
        to_json(self)
    }

    fn check_envelope(&self, version: ProtocolVersion, envelope: Envelope<'_>) -> Result<(), String> {
        let Envelope::Request(raw) = envelope else {
            return Err(format!("not read as a request: {envelope:?}"));
        };
        let body = ClientRequest::decode_for(version, &raw.method, raw.params).map_err(|e| e.to_string())?;
        if version.is_modern() {
            let meta = body.request_meta().ok_or("a modern request without `_meta`")?;
            meta.validate_modern(&[version]).map_err(|e| e.to_string())?;
        }
        same(self, &JsonRpcRequest { id: raw.id, body })
    }
}

impl Sample for JsonRpcRequest<ServerRequest> {
    fn to_json(&self) -> Value {
        to_json(self)
    }

    fn check_envelope(&self, version: ProtocolVersion, envelope: Envelope<'_>) -> Result<(), String> {
        let Envelope::Request(raw) = envelope else {
            return Err(format!("not read as a request: {envelope:?}"));
        };
        let body = ServerRequest::decode_for(version, &raw.method, raw.params).map_err(|e| e.to_string())?;
        same(self, &JsonRpcRequest { id: raw.id, body })
    }
}

impl Sample for JsonRpcNotification<ClientNotification> {
    fn to_json(&self) -> Value {
        to_json(self)
    }

    fn check_envelope(&self, version: ProtocolVersion, envelope: Envelope<'_>) -> Result<(), String> {
        let Envelope::Notification(raw) = envelope else {
            return Err(format!("not read as a notification: {envelope:?}"));
        };
        let body = ClientNotification::decode_for(version, &raw.method, raw.params).map_err(|e| e.to_string())?;
        same(self, &JsonRpcNotification { body })
    }
}

impl Sample for JsonRpcNotification<ServerNotification> {
    fn to_json(&self) -> Value {
        to_json(self)
    }

    fn check_envelope(&self, version: ProtocolVersion, envelope: Envelope<'_>) -> Result<(), String> {
        let Envelope::Notification(raw) = envelope else {
            return Err(format!("not read as a notification: {envelope:?}"));
        };
        let body = ServerNotification::decode_for(version, &raw.method, raw.params).map_err(|e| e.to_string())?;
        same(self, &JsonRpcNotification { body })
    }
}

impl<T> Sample for JsonRpcResponse<T>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    fn to_json(&self) -> Value {
        to_json(self)
    }

    fn check_envelope(&self, _: ProtocolVersion, envelope: Envelope<'_>) -> Result<(), String> {
        let Envelope::Response(raw) = envelope else {
            return Err(format!("not read as a response: {envelope:?}"));
        };
        let result: T = raw.result().map_err(|e| e.to_string())?;
        same(self, &JsonRpcResponse::new(raw.id, result))
    }
}

impl Sample for JsonRpcErrorResponse {
    fn to_json(&self) -> Value {
        to_json(self)
    }

    fn check_envelope(&self, _: ProtocolVersion, envelope: Envelope<'_>) -> Result<(), String> {
        let Envelope::Error(raw) = envelope else {
            return Err(format!("not read as an error response: {envelope:?}"));
        };
        same(self, &JsonRpcErrorResponse::new(raw.id, raw.error))
    }
}

/// A value that is not a message (a result or error object on its own): read back with serde.
#[derive(Debug)]
pub struct Plain<T>(pub T);

impl<T> Sample for Plain<T>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    fn to_json(&self) -> Value {
        to_json(&self.0)
    }

    fn reparse(&self, _: ProtocolVersion, bytes: &[u8]) -> Result<(), String> {
        let back: T = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        same(&self.0, &back)
    }
}

/// A 2025-03-26 JSON-RPC batch: decoded as one frame, each entry read back on its own.
#[derive(Debug)]
pub struct Batch(pub Vec<Box<dyn Sample>>);

impl Sample for Batch {
    fn to_json(&self) -> Value {
        Value::Array(self.0.iter().map(|s| s.to_json()).collect())
    }

    fn reparse(&self, version: ProtocolVersion, bytes: &[u8]) -> Result<(), String> {
        let frame = decode(bytes, &DecodeOptions::for_version(version)).map_err(|e| e.to_string())?;
        let Frame::Batch(entries) = frame else {
            return Err("a batch decoded as a single message".into());
        };
        if entries.len() != self.0.len() {
            return Err(format!("{} entries read back as {}", self.0.len(), entries.len()));
        }
        for (sample, entry) in self.0.iter().zip(entries) {
            let envelope = entry.map_err(|e| e.to_string())?;
            sample.check_envelope(version, envelope)?;
        }
        Ok(())
    }
}
