//! Generators of every result type (alone, and in the 2026-07-28 `*ResultResponse` envelopes),
//! of error objects and error responses built from `ProtocolError::to_error_object()`, and of
//! 2025-03-26 batches.

use std::fmt::Debug;

use mocopr_core::error::HeaderProblem;
use mocopr_core::jsonrpc::{JsonRpcErrorResponse, JsonRpcResponse};
use mocopr_core::meta::{CLIENT_CAPABILITIES_KEY, PROTOCOL_VERSION_KEY, SUBSCRIPTION_ID_KEY};
use mocopr_core::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::input::{self, create_message_result, elicit_result, list_roots_result};
use super::messages;
use super::objects::*;
use super::sample::{Batch, Gen, Plain, sampled};
use super::strategies::*;

/// A result on its own, read back with serde.
fn plain<T>(s: Strat<T>) -> Gen
where
    T: Serialize + DeserializeOwned + PartialEq + Debug + 'static,
{
    sampled(s.prop_map(Plain))
}

/// A result in its JSON-RPC response, read back through the envelope decoder.
fn response<T>(s: Strat<T>) -> Gen
where
    T: Serialize + DeserializeOwned + PartialEq + Debug + 'static,
{
    sampled((request_id(), s).prop_map(|(id, r)| JsonRpcResponse::new(id, r)))
}

/// `resultType: "complete"` where the revision has it.
fn complete(v: ProtocolVersion) -> Option<ResultType> {
    v.has_result_type().then_some(ResultType::Complete)
}

/// `ttlMs` and `cacheScope`: required on cacheable modern results, absent before.
fn caching(v: ProtocolVersion) -> Strat<(Option<u64>, Option<CacheScope>)> {
    let scope = select(vec![CacheScope::Public, CacheScope::Private]);
    (when(v.has_result_type(), 0u64..86_400_000), when(v.has_result_type(), scope)).boxed()
}

/// A paginated, cacheable list result with its items under `key`.
fn listing<T, I>(v: ProtocolVersion, key: &'static str, items: Strat<I>) -> Strat<T>
where
    T: Serialize + DeserializeOwned + Debug + 'static,
    I: Serialize + Debug + 'static,
{
    let cursor = option::of("[A-Za-z0-9]{1,12}");
    (vec(items, 0..3), cursor, caching(v), result_meta(v))
        .prop_map(move |(items, cursor, (ttl, scope), meta)| {
            let o = Obj::new().set(key, items).opt("nextCursor", cursor);
            let o = o.opt("ttlMs", ttl).opt("cacheScope", scope);
            o.opt("resultType", complete(v)).opt("_meta", meta).build()
        })
        .boxed()
}

fn empty_value(v: ProtocolVersion) -> Strat<EmptyResult> {
    result_meta(v)
        .prop_map(move |meta| {
            let mut r = EmptyResult::default();
            r.result_type = complete(v);
            r.meta = meta;
            r
        })
        .boxed()
}

fn initialize_value(v: ProtocolVersion) -> Strat<InitializeResult> {
    let parts = (server_capabilities(v), implementation(v), option::of(text()));
    (parts, result_meta(v))
        .prop_map(move |((caps, info, instructions), meta)| {
            let o = Obj::new().set("protocolVersion", v.as_str());
            let o = o.set("capabilities", caps).set("serverInfo", info);
            o.opt("instructions", instructions).opt("_meta", meta).build()
        })
        .boxed()
}

fn discover_value(v: ProtocolVersion) -> Strat<DiscoverResult> {
    let versions: Vec<&str> = ProtocolVersion::ALL.iter().map(|v| v.as_str()).collect();
    let parts = (subsequence(versions, 1..=4), server_capabilities(v), option::of(text()));
    (parts, caching(v), result_meta(v))
        .prop_map(move |((versions, caps, instructions), (ttl, scope), meta)| {
            let o = Obj::new().set("supportedVersions", versions);
            let o = o.set("capabilities", caps).opt("instructions", instructions);
            let o = o.opt("ttlMs", ttl).opt("cacheScope", scope);
            o.opt("resultType", complete(v)).opt("_meta", meta).build()
        })
        .boxed()
}

fn read_resource_value(v: ProtocolVersion) -> Strat<ReadResourceResult> {
    (vec(resource_contents(v), 0..3), caching(v), result_meta(v))
        .prop_map(move |(contents, (ttl, scope), meta)| {
            let o = Obj::new().set("contents", contents);
            let o = o.opt("ttlMs", ttl).opt("cacheScope", scope);
            o.opt("resultType", complete(v)).opt("_meta", meta).build()
        })
        .boxed()
}

fn get_prompt_value(v: ProtocolVersion) -> Strat<GetPromptResult> {
    let message = (role(), content_block(v)).prop_map(|(r, c)| PromptMessage::new(r, c));
    (option::of(text()), vec(message, 0..3), result_meta(v))
        .prop_map(move |(description, messages, meta)| {
            let o = Obj::new().opt("description", description);
            let o = o.set("messages", messages).opt("resultType", complete(v));
            o.opt("_meta", meta).build()
        })
        .boxed()
}

fn call_tool_value(v: ProtocolVersion) -> Strat<CallToolResult> {
    let structured = maybe(v.has_structured_output(), structured_content(v));
    let parts = (structured, option::of(any::<bool>()), result_meta(v));
    (vec(content_block(v), 0..3), parts)
        .prop_map(move |(content, (structured, is_error, meta))| {
            let mut r = CallToolResult::success(content);
            r.structured_content = structured;
            r.is_error = is_error;
            r.result_type = complete(v);
            r.meta = meta;
            r
        })
        .boxed()
}

fn complete_value(v: ProtocolVersion) -> Strat<CompleteResult> {
    let completion =
        (vec(text(), 0..8), option::of(0u64..1000), option::of(any::<bool>())).prop_map(|(values, total, more)| {
            let o = Obj::new().set("values", values).opt("total", total);
            o.opt("hasMore", more).value()
        });
    (completion, result_meta(v))
        .prop_map(move |(completion, meta)| {
            let o = Obj::new().set("completion", completion);
            o.opt("resultType", complete(v)).opt("_meta", meta).build()
        })
        .boxed()
}

fn listen_value(v: ProtocolVersion) -> Strat<SubscriptionsListenResult> {
    (request_id(), result_meta(v))
        .prop_map(|(id, meta)| {
            let mut meta = meta.unwrap_or_default();
            meta.insert(SUBSCRIPTION_ID_KEY, json!(id));
            let o = Obj::new().set("resultType", ResultType::Complete);
            o.set("_meta", meta).build()
        })
        .boxed()
}

fn input_required_value(v: ProtocolVersion) -> Strat<InputRequiredResult> {
    let state = || "[A-Za-z0-9+/=]{1,24}";
    let asked = prop_oneof![
        (input::input_requests(v), option::of(state())).prop_map(|(requests, state)| (Some(requests), state)),
        state().prop_map(|state| (None, Some(state))),
    ];
    (asked, result_meta(v))
        .prop_map(|((requests, state), meta)| {
            let mut r = InputRequiredResult::new(requests, state);
            r.meta = meta;
            r
        })
        .boxed()
}

// ---- results of every revision ----

/// `EmptyResult` (`ping`, `resources/subscribe`, `logging/setLevel`, ...).
pub fn empty(v: ProtocolVersion) -> Gen {
    plain(empty_value(v))
}

/// `InitializeResult` (legacy).
pub fn initialize(v: ProtocolVersion) -> Gen {
    plain(initialize_value(v))
}

/// `DiscoverResult` (modern).
pub fn discover(v: ProtocolVersion) -> Gen {
    plain(discover_value(v))
}

/// `ListToolsResult`.
pub fn list_tools(v: ProtocolVersion) -> Gen {
    plain::<ListToolsResult>(listing(v, "tools", tool(v)))
}

/// `ListPromptsResult`.
pub fn list_prompts(v: ProtocolVersion) -> Gen {
    plain::<ListPromptsResult>(listing(v, "prompts", prompt(v)))
}

/// `ListResourcesResult`.
pub fn list_resources(v: ProtocolVersion) -> Gen {
    plain::<ListResourcesResult>(listing(v, "resources", resource(v)))
}

/// `ListResourceTemplatesResult`.
pub fn list_resource_templates(v: ProtocolVersion) -> Gen {
    let items = resource_template(v);
    plain::<ListResourceTemplatesResult>(listing(v, "resourceTemplates", items))
}

/// `ReadResourceResult`.
pub fn read_resource(v: ProtocolVersion) -> Gen {
    plain(read_resource_value(v))
}

/// `GetPromptResult`.
pub fn get_prompt(v: ProtocolVersion) -> Gen {
    plain(get_prompt_value(v))
}

/// `CallToolResult`.
pub fn call_tool(v: ProtocolVersion) -> Gen {
    plain(call_tool_value(v))
}

/// `CompleteResult`.
pub fn complete_result(v: ProtocolVersion) -> Gen {
    plain(complete_value(v))
}

/// `SubscriptionsListenResult` (modern).
pub fn listen(v: ProtocolVersion) -> Gen {
    plain(listen_value(v))
}

/// `InputRequiredResult` (modern).
pub fn input_required(v: ProtocolVersion) -> Gen {
    plain(input_required_value(v))
}

/// `CreateMessageResult`.
pub fn create_message(v: ProtocolVersion) -> Gen {
    plain(create_message_result(v))
}

/// `ListRootsResult`.
pub fn list_roots(v: ProtocolVersion) -> Gen {
    plain(list_roots_result(v))
}

/// `ElicitResult`.
pub fn elicit(v: ProtocolVersion) -> Gen {
    plain(elicit_result(v))
}

/// `GetTaskResult` / `CancelTaskResult` (2025-11-25): the task, flat.
pub fn legacy_task_result(_: ProtocolVersion) -> Gen {
    plain(legacy_task())
}

/// `ListTasksResult` (2025-11-25).
pub fn list_tasks(v: ProtocolVersion) -> Gen {
    let cursor = option::of("[A-Za-z0-9]{1,12}");
    let value = (vec(legacy_task(), 0..3), cursor, result_meta(v)).prop_map(|(tasks, c, meta)| {
        let o = Obj::new().set("tasks", tasks).opt("nextCursor", c);
        o.opt("_meta", meta).build::<LegacyListTasksResult>()
    });
    plain(value.boxed())
}

/// `CreateTaskResult` (2025-11-25).
pub fn create_task(v: ProtocolVersion) -> Gen {
    let value = (legacy_task(), result_meta(v)).prop_map(|(task, meta)| {
        let o = Obj::new().set("task", task);
        o.opt("_meta", meta).build::<LegacyCreateTaskResult>()
    });
    plain(value.boxed())
}

/// `GetTaskPayloadResult` (2025-11-25): the original request's result, here a tool result,
/// naming its task in `_meta`.
pub fn task_payload(v: ProtocolVersion) -> Gen {
    let value = (call_tool_value(v), name()).prop_map(|(mut result, task)| {
        let mut meta = result.meta.take().unwrap_or_default();
        meta.insert("io.modelcontextprotocol/related-task", json!({ "taskId": task }));
        result.meta = Some(meta);
        result
    });
    plain(value.boxed())
}

// ---- 2026-07-28 result responses ----

/// `CallToolResultResponse`: a tool result or an input request.
pub fn call_tool_response(v: ProtocolVersion) -> Gen {
    let outcome = prop_oneof![
        call_tool_value(v).prop_map(CallToolOutcome::Complete),
        input_required_value(v).prop_map(CallToolOutcome::InputRequired),
    ];
    response(outcome.boxed())
}

/// `GetPromptResultResponse`: a prompt or an input request.
pub fn get_prompt_response(v: ProtocolVersion) -> Gen {
    let outcome = prop_oneof![
        get_prompt_value(v).prop_map(Outcome::Complete),
        input_required_value(v).prop_map(Outcome::InputRequired),
    ];
    response(outcome.boxed())
}

/// `ReadResourceResultResponse`: contents or an input request.
pub fn read_resource_response(v: ProtocolVersion) -> Gen {
    let outcome = prop_oneof![
        read_resource_value(v).prop_map(Outcome::Complete),
        input_required_value(v).prop_map(Outcome::InputRequired),
    ];
    response(outcome.boxed())
}

/// `CompleteResultResponse`.
pub fn complete_response(v: ProtocolVersion) -> Gen {
    response(complete_value(v))
}

/// `DiscoverResultResponse`.
pub fn discover_response(v: ProtocolVersion) -> Gen {
    response(discover_value(v))
}

/// `SubscriptionsListenResultResponse`.
pub fn listen_response(v: ProtocolVersion) -> Gen {
    response(listen_value(v))
}

/// `ListToolsResultResponse`.
pub fn list_tools_response(v: ProtocolVersion) -> Gen {
    response::<ListToolsResult>(listing(v, "tools", tool(v)))
}

/// `ListPromptsResultResponse`.
pub fn list_prompts_response(v: ProtocolVersion) -> Gen {
    response::<ListPromptsResult>(listing(v, "prompts", prompt(v)))
}

/// `ListResourcesResultResponse`.
pub fn list_resources_response(v: ProtocolVersion) -> Gen {
    response::<ListResourcesResult>(listing(v, "resources", resource(v)))
}

/// `ListResourceTemplatesResultResponse`.
pub fn list_resource_templates_response(v: ProtocolVersion) -> Gen {
    let items = resource_template(v);
    response::<ListResourceTemplatesResult>(listing(v, "resourceTemplates", items))
}

// ---- errors, built from `ProtocolError` ----

fn json_error(text: &str) -> serde_json::Error {
    serde_json::from_str::<Value>(text).expect_err("the text is not JSON")
}

fn data_error() -> serde_json::Error {
    serde_json::from_value::<CallToolRequestParams>(json!({})).expect_err("`name` is missing")
}

/// -32700: bytes that are not JSON.
pub fn parse_error() -> Strat<ProtocolError> {
    name().prop_map(|k| ProtocolError::from_json(json_error(&format!("{{\"{k}\":")))).boxed()
}

/// -32600: JSON that is not a valid request.
pub fn invalid_request(v: ProtocolVersion) -> Strat<ProtocolError> {
    (0u8..6)
        .prop_map(move |k| match k {
            0 => ProtocolError::InvalidJsonRpcVersion,
            1 => ProtocolError::NullId,
            2 => ProtocolError::UnclassifiableMessage,
            3 => ProtocolError::MissingResponseId,
            4 => ProtocolError::BatchNotAllowed { version: Some(v) },
            _ => ProtocolError::AmbiguousMessage { first: "result", second: "error" },
        })
        .boxed()
}

/// -32601: an unknown method, or one the revision does not have.
pub fn method_not_found(v: ProtocolVersion) -> Strat<ProtocolError> {
    (name(), any::<bool>())
        .prop_map(move |(method, in_version)| {
            if in_version {
                ProtocolError::MethodNotInVersion { method, version: v }
            } else {
                ProtocolError::MethodNotFound { method }
            }
        })
        .boxed()
}

/// -32602: params that do not match, or a modern request missing its `_meta`.
pub fn invalid_params() -> Strat<ProtocolError> {
    let missing = select(vec![PROTOCOL_VERSION_KEY, CLIENT_CAPABILITIES_KEY]);
    prop_oneof![
        missing.prop_map(|key| ProtocolError::MissingMeta { key }),
        name().prop_map(|method| ProtocolError::invalid_params(&method, data_error())),
    ]
    .boxed()
}

/// -32603: a result that does not decode.
pub fn internal_error() -> Strat<ProtocolError> {
    Just(()).prop_map(|()| ProtocolError::InvalidResult { source: data_error() }).boxed()
}

/// -32020: a header that disagrees with the body.
pub fn header_mismatch() -> Strat<ProtocolError> {
    let header = select(vec!["Mcp-Method", "Mcp-Name", "Mcp-Param-Region"]);
    let problem = select(vec![HeaderProblem::Missing, HeaderProblem::Mismatch, HeaderProblem::BadEncoding]);
    (header, problem)
        .prop_map(|(header, problem)| ProtocolError::HeaderMismatch { header: header.to_owned(), problem })
        .boxed()
}

/// -32021: capabilities the request needs and the client did not declare.
pub fn missing_capability(v: ProtocolVersion) -> Strat<ProtocolError> {
    client_capabilities(v)
        .prop_map(|caps| ProtocolError::MissingRequiredClientCapability {
            required: serde_json::to_value(caps).expect("serializes"),
        })
        .boxed()
}

/// -32022: a version the server does not speak.
pub fn unsupported_version() -> Strat<ProtocolError> {
    let supported = subsequence(ProtocolVersion::ALL.to_vec(), 0..=4);
    ("[0-9]{4}-[0-9]{2}-[0-9]{2}", supported)
        .prop_map(|(requested, supported)| ProtocolError::UnsupportedProtocolVersion { requested, supported })
        .boxed()
}

/// Any error a legacy peer may send.
pub fn legacy_error(v: ProtocolVersion) -> Strat<ProtocolError> {
    prop_oneof![parse_error(), invalid_request(v), method_not_found(v), invalid_params(), internal_error(),].boxed()
}

/// An error object on its own.
pub fn error_object(errors: Strat<ProtocolError>) -> Gen {
    plain(errors.prop_map(|e| e.to_error_object()).boxed())
}

/// An error response; `id_required` where the revision's schema has no id-less errors.
pub fn error_response(id_required: bool, errors: Strat<ProtocolError>) -> Gen {
    let id = if id_required { request_id().prop_map(Some).boxed() } else { option::of(request_id()).boxed() };
    sampled((id, errors).prop_map(|(id, e)| JsonRpcErrorResponse::new(id, e.to_error_object())))
}

/// 2025-11-25's -32042: the URL elicitations the user must complete first.
pub fn url_elicitation_required(v: ProtocolVersion) -> Gen {
    let elicitations = vec(input::url_params(v), 1..3);
    let error = (text(), elicitations).prop_map(|(message, elicitations)| {
        ErrorObject::new(ErrorCode::LEGACY_URL_ELICITATION_REQUIRED, message)
            .with_data(json!({ "elicitations": elicitations }))
    });
    sampled((option::of(request_id()), error).prop_map(|(id, e)| JsonRpcErrorResponse::new(id, e)))
}

// ---- 2025-03-26 batches ----

/// A batch of client requests and notifications (`initialize` may not be batched).
pub fn request_batch(v: ProtocolVersion) -> Gen {
    assert!(v.allows_batches(), "{v} has no batches");
    let entry = prop_oneof![
        messages::call_tool(v),
        messages::list_tools(v),
        messages::read_resource(v),
        messages::complete(v),
        messages::client_ping(v),
        messages::client_cancelled(v),
        messages::client_progress(v),
        messages::roots_list_changed(v),
    ];
    sampled(vec(entry, 1..4).prop_map(Batch))
}

/// A batch of responses and error responses.
pub fn response_batch(v: ProtocolVersion) -> Gen {
    assert!(v.allows_batches(), "{v} has no batches");
    let entry = prop_oneof![
        response(call_tool_value(v)),
        response::<ListToolsResult>(listing(v, "tools", tool(v))),
        response(empty_value(v)),
        response(complete_value(v)),
        error_response(true, legacy_error(v)),
    ];
    sampled(vec(entry, 1..4).prop_map(Batch))
}
