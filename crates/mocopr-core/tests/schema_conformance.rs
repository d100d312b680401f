//! For each revision, what we serialize validates against that revision's official
//! `schema.json`, for every message, result and error type, and reads back to the same value.
//!
//! [`table`] has one row per (revision, schema definition): a proptest strategy generating our
//! Rust value (only what is legal in that revision), serialized with serde, validated against
//! the definition (and against the JSON-RPC envelope definition of its kind), then decoded as a
//! peer of that revision would (`jsonrpc::decode` + `ClientRequest::decode_for`, ...; serde for
//! plain results) and compared with the original. A coverage test reads the unions of every
//! schema, so a message type missing from the table fails; a control test shows the validator
//! and the round trip do reject broken values.

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};

use mocopr_core::ProtocolVersion::{self, V2025_03_26, V2025_06_18, V2025_11_25, V2026_07_28};
use mocopr_core::jsonrpc::{JsonRpcErrorResponse, JsonRpcResponse};
use mocopr_core::{ErrorObject, RequestId};
use proptest::prelude::ProptestConfig;
use proptest::test_runner::{TestCaseError, TestRunner};

use support::messages as m;
use support::results as r;
use support::sample::Gen;
use support::schema;

/// What a row's values are, which decides the JSON-RPC envelope definition they must also
/// satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A request from client to server (`ClientRequest` union).
    CReq,
    /// A request from server to client (`ServerRequest` union, legacy).
    SReq,
    /// A notification from client to server (`ClientNotification` union).
    CNote,
    /// A notification from server to client (`ServerNotification` union).
    SNote,
    /// A result object on its own (checked again inside a JSON-RPC response).
    Res,
    /// A whole JSON-RPC result response (2026-07-28 `*ResultResponse`).
    Resp,
    /// An error object on its own (checked again inside a JSON-RPC error response).
    ErrObj,
    /// A whole JSON-RPC error response.
    ErrResp,
    /// A 2026-07-28 MRTR input request or answer (`InputRequest`, `InputResponse` unions):
    /// embedded in a result or a retried request, never a JSON-RPC message of its own.
    Embedded,
    /// A 2025-03-26 JSON-RPC batch.
    Batch,
}

use Kind::*;

/// One (revision, definition) and the strategy generating values for it.
struct Case {
    version: ProtocolVersion,
    definition: &'static str,
    kind: Kind,
    generate: fn(ProtocolVersion) -> Gen,
}

fn row(version: ProtocolVersion, definition: &'static str, kind: Kind, generate: fn(ProtocolVersion) -> Gen) -> Case {
    Case { version, definition, kind, generate }
}

/// Every (revision, type) we check.
#[rustfmt::skip]
fn table() -> Vec<Case> {
    let legacy_error = |v| r::error_response(true, r::legacy_error(v));
    vec![
        // ---- 2025-03-26 ----
        row(V2025_03_26, "InitializeRequest", CReq, m::initialize),
        row(V2025_03_26, "PingRequest", CReq, m::client_ping),
        row(V2025_03_26, "ListResourcesRequest", CReq, m::list_resources),
        row(V2025_03_26, "ListResourceTemplatesRequest", CReq, m::list_resource_templates),
        row(V2025_03_26, "ReadResourceRequest", CReq, m::read_resource),
        row(V2025_03_26, "SubscribeRequest", CReq, m::subscribe),
        row(V2025_03_26, "UnsubscribeRequest", CReq, m::unsubscribe),
        row(V2025_03_26, "ListPromptsRequest", CReq, m::list_prompts),
        row(V2025_03_26, "GetPromptRequest", CReq, m::get_prompt),
        row(V2025_03_26, "ListToolsRequest", CReq, m::list_tools),
        row(V2025_03_26, "CallToolRequest", CReq, m::call_tool),
        row(V2025_03_26, "SetLevelRequest", CReq, m::set_level),
        row(V2025_03_26, "CompleteRequest", CReq, m::complete),
        row(V2025_03_26, "PingRequest", SReq, m::server_ping),
        row(V2025_03_26, "CreateMessageRequest", SReq, m::create_message),
        row(V2025_03_26, "ListRootsRequest", SReq, m::list_roots),
        row(V2025_03_26, "CancelledNotification", CNote, m::client_cancelled),
        row(V2025_03_26, "InitializedNotification", CNote, m::initialized),
        row(V2025_03_26, "ProgressNotification", CNote, m::client_progress),
        row(V2025_03_26, "RootsListChangedNotification", CNote, m::roots_list_changed),
        row(V2025_03_26, "CancelledNotification", SNote, m::server_cancelled),
        row(V2025_03_26, "ProgressNotification", SNote, m::server_progress),
        row(V2025_03_26, "ResourceListChangedNotification", SNote, m::resource_list_changed),
        row(V2025_03_26, "ResourceUpdatedNotification", SNote, m::resource_updated),
        row(V2025_03_26, "PromptListChangedNotification", SNote, m::prompt_list_changed),
        row(V2025_03_26, "ToolListChangedNotification", SNote, m::tool_list_changed),
        row(V2025_03_26, "LoggingMessageNotification", SNote, m::logging_message),
        row(V2025_03_26, "EmptyResult", Res, r::empty),
        row(V2025_03_26, "InitializeResult", Res, r::initialize),
        row(V2025_03_26, "ListResourcesResult", Res, r::list_resources),
        row(V2025_03_26, "ListResourceTemplatesResult", Res, r::list_resource_templates),
        row(V2025_03_26, "ReadResourceResult", Res, r::read_resource),
        row(V2025_03_26, "ListPromptsResult", Res, r::list_prompts),
        row(V2025_03_26, "GetPromptResult", Res, r::get_prompt),
        row(V2025_03_26, "ListToolsResult", Res, r::list_tools),
        row(V2025_03_26, "CallToolResult", Res, r::call_tool),
        row(V2025_03_26, "CompleteResult", Res, r::complete_result),
        row(V2025_03_26, "CreateMessageResult", Res, r::create_message),
        row(V2025_03_26, "ListRootsResult", Res, r::list_roots),
        row(V2025_03_26, "JSONRPCError", ErrResp, legacy_error),
        row(V2025_03_26, "JSONRPCBatchRequest", Batch, r::request_batch),
        row(V2025_03_26, "JSONRPCBatchResponse", Batch, r::response_batch),
        // ---- 2025-06-18 ----
        row(V2025_06_18, "InitializeRequest", CReq, m::initialize),
        row(V2025_06_18, "PingRequest", CReq, m::client_ping),
        row(V2025_06_18, "ListResourcesRequest", CReq, m::list_resources),
        row(V2025_06_18, "ListResourceTemplatesRequest", CReq, m::list_resource_templates),
        row(V2025_06_18, "ReadResourceRequest", CReq, m::read_resource),
        row(V2025_06_18, "SubscribeRequest", CReq, m::subscribe),
        row(V2025_06_18, "UnsubscribeRequest", CReq, m::unsubscribe),
        row(V2025_06_18, "ListPromptsRequest", CReq, m::list_prompts),
        row(V2025_06_18, "GetPromptRequest", CReq, m::get_prompt),
        row(V2025_06_18, "ListToolsRequest", CReq, m::list_tools),
        row(V2025_06_18, "CallToolRequest", CReq, m::call_tool),
        row(V2025_06_18, "SetLevelRequest", CReq, m::set_level),
        row(V2025_06_18, "CompleteRequest", CReq, m::complete),
        row(V2025_06_18, "PingRequest", SReq, m::server_ping),
        row(V2025_06_18, "CreateMessageRequest", SReq, m::create_message),
        row(V2025_06_18, "ListRootsRequest", SReq, m::list_roots),
        row(V2025_06_18, "ElicitRequest", SReq, m::elicit),
        row(V2025_06_18, "CancelledNotification", CNote, m::client_cancelled),
        row(V2025_06_18, "InitializedNotification", CNote, m::initialized),
        row(V2025_06_18, "ProgressNotification", CNote, m::client_progress),
        row(V2025_06_18, "RootsListChangedNotification", CNote, m::roots_list_changed),
        row(V2025_06_18, "CancelledNotification", SNote, m::server_cancelled),
        row(V2025_06_18, "ProgressNotification", SNote, m::server_progress),
        row(V2025_06_18, "ResourceListChangedNotification", SNote, m::resource_list_changed),
        row(V2025_06_18, "ResourceUpdatedNotification", SNote, m::resource_updated),
        row(V2025_06_18, "PromptListChangedNotification", SNote, m::prompt_list_changed),
        row(V2025_06_18, "ToolListChangedNotification", SNote, m::tool_list_changed),
        row(V2025_06_18, "LoggingMessageNotification", SNote, m::logging_message),
        row(V2025_06_18, "EmptyResult", Res, r::empty),
        row(V2025_06_18, "InitializeResult", Res, r::initialize),
        row(V2025_06_18, "ListResourcesResult", Res, r::list_resources),
        row(V2025_06_18, "ListResourceTemplatesResult", Res, r::list_resource_templates),
        row(V2025_06_18, "ReadResourceResult", Res, r::read_resource),
        row(V2025_06_18, "ListPromptsResult", Res, r::list_prompts),
        row(V2025_06_18, "GetPromptResult", Res, r::get_prompt),
        row(V2025_06_18, "ListToolsResult", Res, r::list_tools),
        row(V2025_06_18, "CallToolResult", Res, r::call_tool),
        row(V2025_06_18, "CompleteResult", Res, r::complete_result),
        row(V2025_06_18, "CreateMessageResult", Res, r::create_message),
        row(V2025_06_18, "ListRootsResult", Res, r::list_roots),
        row(V2025_06_18, "ElicitResult", Res, r::elicit),
        row(V2025_06_18, "JSONRPCError", ErrResp, legacy_error),
        // ---- 2025-11-25 ----
        row(V2025_11_25, "InitializeRequest", CReq, m::initialize),
        row(V2025_11_25, "PingRequest", CReq, m::client_ping),
        row(V2025_11_25, "ListResourcesRequest", CReq, m::list_resources),
        row(V2025_11_25, "ListResourceTemplatesRequest", CReq, m::list_resource_templates),
        row(V2025_11_25, "ReadResourceRequest", CReq, m::read_resource),
        row(V2025_11_25, "SubscribeRequest", CReq, m::subscribe),
        row(V2025_11_25, "UnsubscribeRequest", CReq, m::unsubscribe),
        row(V2025_11_25, "ListPromptsRequest", CReq, m::list_prompts),
        row(V2025_11_25, "GetPromptRequest", CReq, m::get_prompt),
        row(V2025_11_25, "ListToolsRequest", CReq, m::list_tools),
        row(V2025_11_25, "CallToolRequest", CReq, m::call_tool),
        row(V2025_11_25, "GetTaskRequest", CReq, m::client_get_task),
        row(V2025_11_25, "GetTaskPayloadRequest", CReq, m::client_get_task_payload),
        row(V2025_11_25, "CancelTaskRequest", CReq, m::client_cancel_task),
        row(V2025_11_25, "ListTasksRequest", CReq, m::client_list_tasks),
        row(V2025_11_25, "SetLevelRequest", CReq, m::set_level),
        row(V2025_11_25, "CompleteRequest", CReq, m::complete),
        row(V2025_11_25, "PingRequest", SReq, m::server_ping),
        row(V2025_11_25, "GetTaskRequest", SReq, m::server_get_task),
        row(V2025_11_25, "GetTaskPayloadRequest", SReq, m::server_get_task_payload),
        row(V2025_11_25, "CancelTaskRequest", SReq, m::server_cancel_task),
        row(V2025_11_25, "ListTasksRequest", SReq, m::server_list_tasks),
        row(V2025_11_25, "CreateMessageRequest", SReq, m::create_message),
        row(V2025_11_25, "ListRootsRequest", SReq, m::list_roots),
        row(V2025_11_25, "ElicitRequest", SReq, m::elicit),
        row(V2025_11_25, "CancelledNotification", CNote, m::client_cancelled),
        row(V2025_11_25, "InitializedNotification", CNote, m::initialized),
        row(V2025_11_25, "ProgressNotification", CNote, m::client_progress),
        row(V2025_11_25, "TaskStatusNotification", CNote, m::client_task_status),
        row(V2025_11_25, "RootsListChangedNotification", CNote, m::roots_list_changed),
        row(V2025_11_25, "CancelledNotification", SNote, m::server_cancelled),
        row(V2025_11_25, "ProgressNotification", SNote, m::server_progress),
        row(V2025_11_25, "ResourceListChangedNotification", SNote, m::resource_list_changed),
        row(V2025_11_25, "ResourceUpdatedNotification", SNote, m::resource_updated),
        row(V2025_11_25, "PromptListChangedNotification", SNote, m::prompt_list_changed),
        row(V2025_11_25, "ToolListChangedNotification", SNote, m::tool_list_changed),
        row(V2025_11_25, "TaskStatusNotification", SNote, m::server_task_status),
        row(V2025_11_25, "LoggingMessageNotification", SNote, m::logging_message),
        row(V2025_11_25, "ElicitationCompleteNotification", SNote, m::elicitation_complete),
        row(V2025_11_25, "EmptyResult", Res, r::empty),
        row(V2025_11_25, "InitializeResult", Res, r::initialize),
        row(V2025_11_25, "ListResourcesResult", Res, r::list_resources),
        row(V2025_11_25, "ListResourceTemplatesResult", Res, r::list_resource_templates),
        row(V2025_11_25, "ReadResourceResult", Res, r::read_resource),
        row(V2025_11_25, "ListPromptsResult", Res, r::list_prompts),
        row(V2025_11_25, "GetPromptResult", Res, r::get_prompt),
        row(V2025_11_25, "ListToolsResult", Res, r::list_tools),
        row(V2025_11_25, "CallToolResult", Res, r::call_tool),
        row(V2025_11_25, "CompleteResult", Res, r::complete_result),
        row(V2025_11_25, "CreateMessageResult", Res, r::create_message),
        row(V2025_11_25, "ListRootsResult", Res, r::list_roots),
        row(V2025_11_25, "ElicitResult", Res, r::elicit),
        row(V2025_11_25, "GetTaskResult", Res, r::legacy_task_result),
        row(V2025_11_25, "GetTaskPayloadResult", Res, r::task_payload),
        row(V2025_11_25, "CancelTaskResult", Res, r::legacy_task_result),
        row(V2025_11_25, "ListTasksResult", Res, r::list_tasks),
        row(V2025_11_25, "CreateTaskResult", Res, r::create_task),
        row(V2025_11_25, "JSONRPCErrorResponse", ErrResp, |v| r::error_response(false, r::legacy_error(v))),
        row(V2025_11_25, "URLElicitationRequiredError", ErrResp, r::url_elicitation_required),
        // ---- 2026-07-28 ----
        row(V2026_07_28, "DiscoverRequest", CReq, m::discover),
        row(V2026_07_28, "ListResourcesRequest", CReq, m::list_resources),
        row(V2026_07_28, "ListResourceTemplatesRequest", CReq, m::list_resource_templates),
        row(V2026_07_28, "ReadResourceRequest", CReq, m::read_resource),
        row(V2026_07_28, "SubscriptionsListenRequest", CReq, m::listen),
        row(V2026_07_28, "ListPromptsRequest", CReq, m::list_prompts),
        row(V2026_07_28, "GetPromptRequest", CReq, m::get_prompt),
        row(V2026_07_28, "ListToolsRequest", CReq, m::list_tools),
        row(V2026_07_28, "CallToolRequest", CReq, m::call_tool),
        row(V2026_07_28, "CompleteRequest", CReq, m::complete),
        row(V2026_07_28, "CancelledNotification", CNote, m::client_cancelled),
        row(V2026_07_28, "CancelledNotification", SNote, m::server_cancelled),
        row(V2026_07_28, "ProgressNotification", SNote, m::server_progress),
        row(V2026_07_28, "ResourceListChangedNotification", SNote, m::resource_list_changed),
        row(V2026_07_28, "SubscriptionsAcknowledgedNotification", SNote, m::subscriptions_acknowledged),
        row(V2026_07_28, "ResourceUpdatedNotification", SNote, m::resource_updated),
        row(V2026_07_28, "PromptListChangedNotification", SNote, m::prompt_list_changed),
        row(V2026_07_28, "ToolListChangedNotification", SNote, m::tool_list_changed),
        row(V2026_07_28, "LoggingMessageNotification", SNote, m::logging_message),
        row(V2026_07_28, "CreateMessageRequest", Embedded, m::embedded_create_message),
        row(V2026_07_28, "ElicitRequest", Embedded, m::embedded_elicit),
        row(V2026_07_28, "ListRootsRequest", Embedded, m::embedded_list_roots),
        row(V2026_07_28, "EmptyResult", Res, r::empty),
        row(V2026_07_28, "InputRequiredResult", Res, r::input_required),
        row(V2026_07_28, "DiscoverResult", Res, r::discover),
        row(V2026_07_28, "ListResourcesResult", Res, r::list_resources),
        row(V2026_07_28, "ListResourceTemplatesResult", Res, r::list_resource_templates),
        row(V2026_07_28, "ReadResourceResult", Res, r::read_resource),
        row(V2026_07_28, "SubscriptionsListenResult", Res, r::listen),
        row(V2026_07_28, "ListPromptsResult", Res, r::list_prompts),
        row(V2026_07_28, "GetPromptResult", Res, r::get_prompt),
        row(V2026_07_28, "ListToolsResult", Res, r::list_tools),
        row(V2026_07_28, "CallToolResult", Res, r::call_tool),
        row(V2026_07_28, "CompleteResult", Res, r::complete_result),
        row(V2026_07_28, "CreateMessageResult", Embedded, r::create_message),
        row(V2026_07_28, "ElicitResult", Embedded, r::elicit),
        row(V2026_07_28, "ListRootsResult", Embedded, r::list_roots),
        row(V2026_07_28, "CallToolResultResponse", Resp, r::call_tool_response),
        row(V2026_07_28, "CompleteResultResponse", Resp, r::complete_response),
        row(V2026_07_28, "DiscoverResultResponse", Resp, r::discover_response),
        row(V2026_07_28, "GetPromptResultResponse", Resp, r::get_prompt_response),
        row(V2026_07_28, "ListPromptsResultResponse", Resp, r::list_prompts_response),
        row(V2026_07_28, "ListResourceTemplatesResultResponse", Resp, r::list_resource_templates_response),
        row(V2026_07_28, "ListResourcesResultResponse", Resp, r::list_resources_response),
        row(V2026_07_28, "ListToolsResultResponse", Resp, r::list_tools_response),
        row(V2026_07_28, "ReadResourceResultResponse", Resp, r::read_resource_response),
        row(V2026_07_28, "SubscriptionsListenResultResponse", Resp, r::listen_response),
        row(V2026_07_28, "ParseError", ErrObj, |_| r::error_object(r::parse_error())),
        row(V2026_07_28, "InvalidRequestError", ErrObj, |v| r::error_object(r::invalid_request(v))),
        row(V2026_07_28, "MethodNotFoundError", ErrObj, |v| r::error_object(r::method_not_found(v))),
        row(V2026_07_28, "InvalidParamsError", ErrObj, |_| r::error_object(r::invalid_params())),
        row(V2026_07_28, "InternalError", ErrObj, |_| r::error_object(r::internal_error())),
        row(V2026_07_28, "HeaderMismatchError", ErrResp, |_| r::error_response(false, r::header_mismatch())),
        row(V2026_07_28, "MissingRequiredClientCapabilityError", ErrResp, |v| r::error_response(false, r::missing_capability(v))),
        row(V2026_07_28, "UnsupportedProtocolVersionError", ErrResp, |_| r::error_response(false, r::unsupported_version())),
        row(V2026_07_28, "JSONRPCErrorResponse", ErrResp, |v| r::error_response(false, r::legacy_error(v))),
    ]
}

/// Generated values per row: enough to vary every optional member, few enough for a debug
/// build on two cores.
const CASES: u32 = 32;

/// The definition a whole message of `kind` must also satisfy, as `version` names it.
fn envelope(version: ProtocolVersion, kind: Kind) -> Option<&'static str> {
    let newer =
        |new: &'static str, old: &'static str| Some(if schema::has_definition(version, new) { new } else { old });
    match kind {
        CReq | SReq => Some("JSONRPCRequest"),
        CNote | SNote => Some("JSONRPCNotification"),
        Res | Resp => newer("JSONRPCResultResponse", "JSONRPCResponse"),
        ErrObj | ErrResp => newer("JSONRPCErrorResponse", "JSONRPCError"),
        Embedded | Batch => None,
    }
}

/// Checks one generated value: its definition, its envelope, and its round trip.
fn check_value(case: &Case, sample: &dyn support::sample::Sample) -> Result<(), String> {
    let version = case.version;
    let json = sample.to_json();
    schema::check(version, case.definition, &json)?;
    if let Some(name) = envelope(version, case.kind) {
        let whole = match case.kind {
            Res => serde_json::to_value(JsonRpcResponse::new(RequestId::from(1), &json)),
            ErrObj => serde_json::from_value::<ErrorObject>(json.clone())
                .and_then(|e| serde_json::to_value(JsonRpcErrorResponse::new(Some(RequestId::from(1)), e))),
            _ => Ok(json.clone()),
        };
        schema::check(version, name, &whole.map_err(|e| e.to_string())?)?;
    }
    let bytes = serde_json::to_vec(&json).map_err(|e| e.to_string())?;
    sample.reparse(version, &bytes).map_err(|e| format!("read back from {json}: {e}"))
}

/// Runs a row's property; `Err` names the failure and the smallest failing value.
fn run(case: &Case, cases: u32) -> Result<(), String> {
    let mut config = ProptestConfig::with_cases(cases);
    config.failure_persistence = None;
    let strategy = (case.generate)(case.version);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        TestRunner::new(config).run(&strategy, |sample| check_value(case, sample.as_ref()).map_err(TestCaseError::fail))
    }));
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(format!(
            "panicked: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        )),
    }
}

fn check_revision(version: ProtocolVersion) {
    let rows: Vec<Case> = table().into_iter().filter(|c| c.version == version).collect();
    assert!(!rows.is_empty(), "{version}: no rows");
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|case| {
            run(case, CASES).err().map(|e| format!("{version} {} ({:?}): {e}", case.definition, case.kind))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} rows of {version} fail:\n\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n\n")
    );
}

#[test]
fn values_of_2025_03_26_validate_and_round_trip() {
    check_revision(V2025_03_26);
}

#[test]
fn values_of_2025_06_18_validate_and_round_trip() {
    check_revision(V2025_06_18);
}

#[test]
fn values_of_2025_11_25_validate_and_round_trip() {
    check_revision(V2025_11_25);
}

#[test]
fn values_of_2026_07_28_validate_and_round_trip() {
    check_revision(V2026_07_28);
}

/// Whether a row of `kinds` checks `member` of `version`: itself, through an alias
/// (`EmptyResult` is `Result`), or as the envelope its values are checked in.
fn covered(rows: &[Case], version: ProtocolVersion, member: &str, kinds: &[Kind]) -> bool {
    rows.iter().any(|c| {
        c.version == version
            && ((kinds.contains(&c.kind)
                && (c.definition == member || schema::alias_target(version, c.definition).as_deref() == Some(member)))
                || envelope(version, c.kind) == Some(member))
    })
}

#[test]
fn the_table_covers_every_union_member_result_and_error_of_every_schema() {
    let rows = table();
    let unions: [(&str, &[Kind]); 8] = [
        ("ClientRequest", &[CReq]),
        ("ServerRequest", &[SReq]),
        ("ClientNotification", &[CNote]),
        ("ServerNotification", &[SNote]),
        ("ClientResult", &[Res]),
        ("ServerResult", &[Res]),
        ("InputRequest", &[Embedded]),
        ("InputResponse", &[Embedded]),
    ];
    let mut missing = Vec::new();
    for version in ProtocolVersion::ALL {
        for (union, kinds) in unions {
            for member in schema::union_members(version, union) {
                if !covered(&rows, version, &member, kinds) {
                    missing.push(format!("{version}: {union} member `{member}`"));
                }
            }
        }
        for name in schema::definitions(version).keys() {
            let kinds: &[Kind] = if name.ends_with("ResultResponse") {
                &[Resp]
            } else if name.ends_with("Error") && name != "Error" {
                &[ErrObj, ErrResp]
            } else {
                continue;
            };
            if !covered(&rows, version, name, kinds) {
                missing.push(format!("{version}: `{name}`"));
            }
        }
    }
    assert!(missing.is_empty(), "not in the table:\n{}", missing.join("\n"));

    // Every row names a definition of its revision, once per kind.
    for (i, case) in rows.iter().enumerate() {
        assert!(schema::has_definition(case.version, case.definition), "{} has no `{}`", case.version, case.definition);
        let again = rows[..i]
            .iter()
            .any(|c| c.version == case.version && c.definition == case.definition && c.kind == case.kind);
        assert!(!again, "{} `{}` twice", case.version, case.definition);
    }
}

/// The revision predicates the strategies rely on say what each schema says.
#[test]
fn the_version_predicates_match_the_schemas() {
    use support::strategies::{has_object_meta, since_2025_11_25};
    for v in ProtocolVersion::ALL {
        let defs = schema::definitions(v);
        let property = |def: &str, name: &str| defs[def]["properties"].get(name).cloned();
        let structured = property("CallToolResult", "structuredContent");
        let result_required = defs["Result"]["required"].as_array().cloned();
        let facts = [
            ("allows_batches", v.allows_batches(), defs.contains_key("JSONRPCBatchRequest")),
            ("is_modern", v.is_modern(), defs.contains_key("DiscoverRequest")),
            ("has_icons", v.has_icons(), defs.contains_key("Icon")),
            ("has_core_tasks", v.has_core_tasks(), defs.contains_key("Task")),
            ("has_structured_output", v.has_structured_output(), structured.is_some()),
            (
                "structured_content_any_value",
                v.structured_content_any_value(),
                structured.is_some_and(|s| s.get("type").is_none()),
            ),
            ("has_result_type", v.has_result_type(), result_required.is_some_and(|r| r.contains(&"resultType".into()))),
            ("has_object_meta", has_object_meta(v), property("TextContent", "_meta").is_some()),
            ("since_2025_11_25", since_2025_11_25(v), defs.contains_key("TitledSingleSelectEnumSchema")),
        ];
        for (predicate, ours, schema) in facts {
            assert_eq!(ours, schema, "{v}: `{predicate}` disagrees with schema.json");
        }
    }
}

/// The checks can fail: values broken on purpose are rejected by the validator, the round
/// trip notices a changed value, and the table runner reports a row checked against the
/// wrong definition.
#[test]
fn broken_values_are_rejected() {
    let mut config = ProptestConfig::with_cases(8);
    config.failure_persistence = None;
    let rejects = |v, name: &str, broken: &serde_json::Value| -> Result<(), TestCaseError> {
        match schema::check(v, name, broken) {
            Err(_) => Ok(()),
            Ok(()) => Err(TestCaseError::fail(format!("{v} `{name}` accepts {broken}"))),
        }
    };
    for v in ProtocolVersion::ALL {
        let mut runner = TestRunner::new(config.clone());
        let outcome = runner.run(&m::call_tool(v), |sample| {
            let json = sample.to_json();
            schema::check(v, "CallToolRequest", &json).map_err(TestCaseError::fail)?;
            let mut broken = json.clone();
            broken["params"].as_object_mut().map(|p| p.remove("name"));
            rejects(v, "CallToolRequest", &broken)?;
            if v.is_modern() {
                let mut broken = json.clone();
                broken["params"].as_object_mut().map(|p| p.remove("_meta"));
                rejects(v, "CallToolRequest", &broken)?;
                let mut broken = json.clone();
                broken["params"]["_meta"].as_object_mut().map(|m| m.remove(mocopr_core::meta::PROTOCOL_VERSION_KEY));
                rejects(v, "CallToolRequest", &broken)?;
            }
            let mut changed = json.clone();
            changed["params"]["name"] = format!("{}x", json["params"]["name"].as_str().unwrap_or("")).into();
            let bytes = serde_json::to_vec(&changed).expect("serializes");
            if sample.reparse(v, &bytes).is_ok() {
                return Err(TestCaseError::fail("the round trip missed a renamed tool"));
            }
            Ok(())
        });
        outcome.unwrap_or_else(|e| panic!("{v} tools/call: {e}"));

        let mut runner = TestRunner::new(config.clone());
        let outcome = runner.run(&r::list_tools(v), |sample| {
            let json = sample.to_json();
            schema::check(v, "ListToolsResult", &json).map_err(TestCaseError::fail)?;
            let mut broken = json.clone();
            broken["tools"] = "none".into();
            rejects(v, "ListToolsResult", &broken)?;
            if v.has_result_type() {
                for member in ["resultType", "ttlMs", "cacheScope"] {
                    let mut broken = json.clone();
                    broken.as_object_mut().map(|o| o.remove(member));
                    rejects(v, "ListToolsResult", &broken)?;
                }
            }
            Ok(())
        });
        outcome.unwrap_or_else(|e| panic!("{v} ListToolsResult: {e}"));

        // `format` is asserted in every revision: `uri`, and `byte` (base64).
        let mut runner = TestRunner::new(config.clone());
        let bytes = proptest::collection::vec(proptest::prelude::any::<u8>(), 1..16);
        let outcome = runner.run(&(m::read_resource(v), bytes), |(sample, bytes)| {
            let mut broken = sample.to_json();
            broken["params"]["uri"] = "not a uri".into();
            rejects(v, "ReadResourceRequest", &broken)?;
            use base64::Engine as _;
            let data = base64::engine::general_purpose::STANDARD.encode(bytes);
            let image = |data: String| {
                serde_json::to_value(mocopr_core::ContentBlock::image(data, "image/png")).expect("serializes")
            };
            schema::check(v, "ImageContent", &image(data.clone())).map_err(TestCaseError::fail)?;
            rejects(v, "ImageContent", &image(format!("{data}!")))
        });
        outcome.unwrap_or_else(|e| panic!("{v} formats: {e}"));
    }

    let wrong = row(V2026_07_28, "CallToolResult", Res, m::call_tool);
    let report = run(&wrong, 4).expect_err("tools/call requests are not tool results");
    assert!(report.contains("`CallToolResult` rejects"), "the report names the definition: {report}");
}
