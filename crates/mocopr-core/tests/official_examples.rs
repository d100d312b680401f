//! Every official 2026-07-28 example decodes into our type for it and encodes back to the same
//! JSON (compared as values). The folder name is the schema type; the table below maps each to
//! the way MoCoPr reads that type off the wire.

mod support;

use mocopr_core::jsonrpc::{
    DecodeOptions, Envelope, Frame, JsonRpcErrorResponse, JsonRpcNotification, JsonRpcRequest, JsonRpcResponse, decode,
};
use mocopr_core::messages::MethodCall;
use mocopr_core::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

type Check = fn(&Value) -> Result<Value, String>;

/// A plain object: serde both ways.
fn plain<T: DeserializeOwned + Serialize>(v: &Value) -> Result<Value, String> {
    let t: T = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(&t).map_err(|e| e.to_string())
}

fn envelope(v: &Value) -> Result<(Vec<u8>, ()), String> {
    Ok((serde_json::to_vec(v).map_err(|e| e.to_string())?, ()))
}

fn single<'a>(bytes: &'a [u8]) -> Result<Envelope<'a>, String> {
    match decode(bytes, &DecodeOptions::default()).map_err(|e| e.to_string())? {
        Frame::Single(e) => Ok(e),
        Frame::Batch(_) => Err("unexpected batch".into()),
    }
}

/// A full JSON-RPC request whose body decodes as `R` with method `method`.
fn request<R: MethodCall>(
    v: &Value,
    decode_body: fn(&str, Option<&serde_json::value::RawValue>) -> Result<R, ProtocolError>,
) -> Result<Value, String> {
    let (bytes, ()) = envelope(v)?;
    let Envelope::Request(raw) = single(&bytes)? else {
        return Err("not a request".into());
    };
    let body = decode_body(&raw.method, raw.params).map_err(|e| e.to_string())?;
    serde_json::to_value(JsonRpcRequest { id: raw.id, body }).map_err(|e| e.to_string())
}

fn notification<N: MethodCall>(
    v: &Value,
    decode_body: fn(&str, Option<&serde_json::value::RawValue>) -> Result<N, ProtocolError>,
) -> Result<Value, String> {
    let (bytes, ()) = envelope(v)?;
    let Envelope::Notification(raw) = single(&bytes)? else {
        return Err("not a notification".into());
    };
    let body = decode_body(&raw.method, raw.params).map_err(|e| e.to_string())?;
    serde_json::to_value(JsonRpcNotification { body }).map_err(|e| e.to_string())
}

fn client_request(v: &Value) -> Result<Value, String> {
    request(v, ClientRequest::decode)
}

fn client_notification(v: &Value) -> Result<Value, String> {
    notification(v, ClientNotification::decode)
}

fn server_notification(v: &Value) -> Result<Value, String> {
    notification(v, ServerNotification::decode)
}

/// A full JSON-RPC success response whose result decodes as `T`.
fn response<T: DeserializeOwned + Serialize>(v: &Value) -> Result<Value, String> {
    let (bytes, ()) = envelope(v)?;
    let Envelope::Response(raw) = single(&bytes)? else {
        return Err("not a response".into());
    };
    let result: T = raw.result().map_err(|e| e.to_string())?;
    serde_json::to_value(JsonRpcResponse::new(raw.id, result)).map_err(|e| e.to_string())
}

fn error_response(v: &Value) -> Result<Value, String> {
    let (bytes, ()) = envelope(v)?;
    let Envelope::Error(raw) = single(&bytes)? else {
        return Err("not an error response".into());
    };
    serde_json::to_value(JsonRpcErrorResponse::new(raw.id, raw.error)).map_err(|e| e.to_string())
}

/// An embedded MRTR request: round-trips as received, and its typed view decodes.
fn input_request(v: &Value) -> Result<Value, String> {
    let request: InputRequest = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    request.call().map_err(|e| e.to_string())?;
    serde_json::to_value(&request).map_err(|e| e.to_string())
}

fn input_requests(v: &Value) -> Result<Value, String> {
    let requests: InputRequests = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    for request in requests.values() {
        request.call().map_err(|e| e.to_string())?;
    }
    serde_json::to_value(&requests).map_err(|e| e.to_string())
}

/// The example's type name, and how to round-trip it.
const TABLE: &[(&str, Check)] = &[
    ("AudioContent", plain::<ContentBlock>),
    ("BlobResourceContents", plain::<BlobResourceContents>),
    ("BooleanSchema", plain::<BooleanSchema>),
    ("CallToolRequest", client_request),
    ("CallToolRequestParams", plain::<CallToolRequestParams>),
    ("CallToolResult", plain::<CallToolResult>),
    ("CallToolResultResponse", response::<CallToolOutcome>),
    ("CancelledNotification", client_notification),
    ("CancelledNotificationParams", plain::<CancelledNotificationParams>),
    ("ClientCapabilities", plain::<ClientCapabilities>),
    ("CompleteRequest", client_request),
    ("CompleteRequestParams", plain::<CompleteRequestParams>),
    ("CompleteResult", plain::<CompleteResult>),
    ("CompleteResultResponse", response::<CompleteResult>),
    ("CreateMessageRequest", input_request),
    ("CreateMessageRequestParams", plain::<CreateMessageRequestParams>),
    ("CreateMessageResult", plain::<CreateMessageResult>),
    ("DiscoverRequest", client_request),
    ("DiscoverResult", plain::<DiscoverResult>),
    ("DiscoverResultResponse", response::<DiscoverResult>),
    ("ElicitRequest", input_request),
    ("ElicitRequestFormParams", plain::<ElicitRequestParams>),
    ("ElicitRequestURLParams", plain::<ElicitRequestParams>),
    ("ElicitResult", plain::<ElicitResult>),
    ("EmbeddedResource", plain::<ContentBlock>),
    ("GetPromptRequest", client_request),
    ("GetPromptRequestParams", plain::<GetPromptRequestParams>),
    ("GetPromptResult", plain::<GetPromptResult>),
    ("GetPromptResultResponse", response::<Outcome<GetPromptResult>>),
    ("HeaderMismatchError", error_response),
    ("ImageContent", plain::<ContentBlock>),
    ("InputRequests", input_requests),
    ("InputRequiredResult", plain::<InputRequiredResult>),
    ("InputResponses", plain::<InputResponses>),
    ("InternalError", plain::<ErrorObject>),
    ("InvalidParamsError", plain::<ErrorObject>),
    ("ListPromptsRequest", client_request),
    ("ListPromptsResult", plain::<ListPromptsResult>),
    ("ListPromptsResultResponse", response::<ListPromptsResult>),
    ("ListResourceTemplatesRequest", client_request),
    ("ListResourceTemplatesResult", plain::<ListResourceTemplatesResult>),
    ("ListResourceTemplatesResultResponse", response::<ListResourceTemplatesResult>),
    ("ListResourcesRequest", client_request),
    ("ListResourcesResult", plain::<ListResourcesResult>),
    ("ListResourcesResultResponse", response::<ListResourcesResult>),
    ("ListRootsRequest", input_request),
    ("ListRootsResult", plain::<ListRootsResult>),
    ("ListToolsRequest", client_request),
    ("ListToolsResult", plain::<ListToolsResult>),
    ("ListToolsResultResponse", response::<ListToolsResult>),
    ("LoggingMessageNotification", server_notification),
    ("LoggingMessageNotificationParams", plain::<LoggingMessageNotificationParams>),
    ("MethodNotFoundError", plain::<ErrorObject>),
    ("MissingRequiredClientCapabilityError", error_response),
    ("ModelPreferences", plain::<ModelPreferences>),
    ("NumberSchema", plain::<NumberSchema>),
    ("PaginatedRequestParams", plain::<PaginatedRequestParams>),
    ("ParseError", plain::<ErrorObject>),
    ("ProgressNotification", server_notification),
    ("ProgressNotificationParams", plain::<ProgressNotificationParams>),
    ("PromptListChangedNotification", server_notification),
    ("ReadResourceRequest", client_request),
    ("ReadResourceResult", plain::<ReadResourceResult>),
    ("ReadResourceResultResponse", response::<Outcome<ReadResourceResult>>),
    ("Resource", plain::<Resource>),
    ("ResourceLink", plain::<ContentBlock>),
    ("ResourceListChangedNotification", server_notification),
    ("ResourceUpdatedNotification", server_notification),
    ("ResourceUpdatedNotificationParams", plain::<ResourceUpdatedNotificationParams>),
    ("Root", plain::<Root>),
    ("SamplingMessage", plain::<SamplingMessage>),
    ("ServerCapabilities", plain::<ServerCapabilities>),
    ("StringSchema", plain::<StringSchema>),
    ("SubscriptionsAcknowledgedNotification", server_notification),
    ("SubscriptionsListenRequest", client_request),
    ("SubscriptionsListenResult", plain::<SubscriptionsListenResult>),
    ("SubscriptionsListenResultResponse", response::<SubscriptionsListenResult>),
    ("TextContent", plain::<ContentBlock>),
    ("TextResourceContents", plain::<TextResourceContents>),
    ("TitledMultiSelectEnumSchema", plain::<MultiSelectEnumSchema>),
    ("TitledSingleSelectEnumSchema", plain::<TitledSingleSelectEnumSchema>),
    ("Tool", plain::<Tool>),
    ("ToolListChangedNotification", server_notification),
    ("ToolResultContent", plain::<SamplingContent>),
    ("ToolUseContent", plain::<SamplingContent>),
    ("UnsupportedProtocolVersionError", error_response),
    ("UntitledMultiSelectEnumSchema", plain::<MultiSelectEnumSchema>),
    ("UntitledSingleSelectEnumSchema", plain::<UntitledSingleSelectEnumSchema>),
];

#[test]
fn every_official_example_round_trips() {
    let root = support::spec_dir().join("2026-07-28/examples");
    let mut folders: Vec<_> = std::fs::read_dir(&root)
        .expect("examples folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();

    let mut checked = 0;
    let mut failures = Vec::new();
    for folder in &folders {
        let name = folder.file_name().and_then(|n| n.to_str()).expect("utf-8 folder name");
        let Some((_, check)) = TABLE.iter().find(|(n, _)| *n == name) else {
            failures.push(format!("{name}: no type mapped for this example folder"));
            continue;
        };
        let mut files: Vec<_> = std::fs::read_dir(folder).expect("folder").map(|e| e.expect("entry").path()).collect();
        files.sort();
        for file in files.iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
            let original: Value = serde_json::from_slice(&std::fs::read(file).expect("read")).expect("valid JSON");
            match check(&original) {
                Ok(back) if back == original => checked += 1,
                Ok(back) => failures.push(format!(
                    "{}: round trip differs\n  original: {original}\n  ours:     {back}",
                    file.display()
                )),
                Err(e) => failures.push(format!("{}: {e}", file.display())),
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(folders.len(), 88, "expected the 88 official example folders");
    assert_eq!(checked, 129, "expected the 129 official example files");
    assert_eq!(TABLE.len(), folders.len(), "every table entry has a folder");
}
