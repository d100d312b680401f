//! Generators of every request and notification, as full JSON-RPC messages of our types
//! (`JsonRpcRequest<ClientRequest>`, `JsonRpcNotification<ServerNotification>`, ...), and of
//! the 2026-07-28 MRTR input requests on their own.

use mocopr_core::jsonrpc::{JsonRpcNotification, JsonRpcRequest};
use mocopr_core::*;
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;

use super::input::*;
use super::objects::*;
use super::sample::{Gen, Plain, sampled};
use super::strategies::*;

fn client(body: impl Strategy<Value = ClientRequest> + 'static) -> Gen {
    sampled((request_id(), body).prop_map(|(id, body)| JsonRpcRequest { id, body }))
}

fn server(body: impl Strategy<Value = ServerRequest> + 'static) -> Gen {
    sampled((request_id(), body).prop_map(|(id, body)| JsonRpcRequest { id, body }))
}

fn client_note(body: impl Strategy<Value = ClientNotification> + 'static) -> Gen {
    sampled(body.prop_map(|body| JsonRpcNotification { body }))
}

fn server_note(body: impl Strategy<Value = ServerNotification> + 'static) -> Gen {
    sampled(body.prop_map(|body| JsonRpcNotification { body }))
}

/// `inputResponses` and `requestState` of a retried request (2026-07-28 only).
fn retry(v: ProtocolVersion) -> Strat<(Option<InputResponses>, Option<String>)> {
    (maybe(v.is_modern(), input_responses(v)), maybe(v.is_modern(), "[A-Za-z0-9+/=]{1,24}")).boxed()
}

// ---- params shared by several requests ----

fn request_params(v: ProtocolVersion) -> Strat<RequestParams> {
    request_meta(v)
        .prop_map(|meta| {
            let mut p = RequestParams::default();
            p.meta = meta;
            p
        })
        .boxed()
}

fn paginated(v: ProtocolVersion) -> Strat<PaginatedRequestParams> {
    (option::of("[A-Za-z0-9]{1,12}"), request_meta(v))
        .prop_map(|(cursor, meta)| {
            let mut p = PaginatedRequestParams::default();
            p.cursor = cursor;
            p.meta = meta;
            p
        })
        .boxed()
}

fn task_id_params(v: ProtocolVersion) -> Strat<TaskIdParams> {
    (name(), request_meta(v)).prop_map(|(id, meta)| Obj::new().set("taskId", id).opt("_meta", meta).build()).boxed()
}

fn resource_uri_params(v: ProtocolVersion) -> Strat<ResourceUriParams> {
    (uri(), request_meta(v)).prop_map(|(u, meta)| Obj::new().set("uri", u).opt("_meta", meta).build()).boxed()
}

fn subscription_filter() -> Strat<SubscriptionFilter> {
    let lists = (option::of(any::<bool>()), option::of(any::<bool>()), option::of(any::<bool>()));
    (lists, option::of(vec(uri(), 0..3)))
        .prop_map(|((tools, prompts, resources), uris)| {
            let mut f = SubscriptionFilter::default();
            f.tools_list_changed = tools;
            f.prompts_list_changed = prompts;
            f.resources_list_changed = resources;
            f.resource_subscriptions = uris;
            f
        })
        .boxed()
}

// ---- client requests ----

/// `initialize` (legacy).
pub fn initialize(v: ProtocolVersion) -> Gen {
    let params = (client_capabilities(v), implementation(v), object_meta(v)).prop_map(move |(caps, info, meta)| {
        let o = Obj::new().set("protocolVersion", v.as_str());
        let o = o.set("capabilities", caps).set("clientInfo", info);
        o.opt("_meta", meta).build()
    });
    client(params.prop_map(ClientRequest::Initialize))
}

/// `ping` from the client (legacy).
pub fn client_ping(v: ProtocolVersion) -> Gen {
    client(request_params(v).prop_map(ClientRequest::Ping))
}

/// `server/discover` (modern).
pub fn discover(v: ProtocolVersion) -> Gen {
    client(request_params(v).prop_map(ClientRequest::Discover))
}

/// `tools/list`.
pub fn list_tools(v: ProtocolVersion) -> Gen {
    client(paginated(v).prop_map(ClientRequest::ListTools))
}

/// `prompts/list`.
pub fn list_prompts(v: ProtocolVersion) -> Gen {
    client(paginated(v).prop_map(ClientRequest::ListPrompts))
}

/// `resources/list`.
pub fn list_resources(v: ProtocolVersion) -> Gen {
    client(paginated(v).prop_map(ClientRequest::ListResources))
}

/// `resources/templates/list`.
pub fn list_resource_templates(v: ProtocolVersion) -> Gen {
    client(paginated(v).prop_map(ClientRequest::ListResourceTemplates))
}

/// `tools/call`.
pub fn call_tool(v: ProtocolVersion) -> Gen {
    let task = maybe(v.has_core_tasks(), task_metadata());
    let params = (name(), option::of(json_object()), retry(v), task, request_meta(v)).prop_map(
        |(n, arguments, (responses, state), task, meta)| {
            let mut p = CallToolRequestParams::new(n, arguments);
            p.input_responses = responses;
            p.request_state = state;
            p.task = task;
            p.meta = meta;
            p
        },
    );
    client(params.prop_map(ClientRequest::CallTool))
}

/// `prompts/get`.
pub fn get_prompt(v: ProtocolVersion) -> Gen {
    let arguments = option::of(btree_map(name(), text(), 0..3));
    let params = (name(), arguments, retry(v), request_meta(v)).prop_map(|(n, arguments, (responses, state), meta)| {
        let o = Obj::new().set("name", n).opt("arguments", arguments);
        let o = o.opt("inputResponses", responses).opt("requestState", state);
        o.opt("_meta", meta).build()
    });
    client(params.prop_map(ClientRequest::GetPrompt))
}

/// `resources/read`.
pub fn read_resource(v: ProtocolVersion) -> Gen {
    let params = (uri(), retry(v), request_meta(v)).prop_map(|(u, (responses, state), meta)| {
        let o = Obj::new().set("uri", u).opt("inputResponses", responses);
        o.opt("requestState", state).opt("_meta", meta).build()
    });
    client(params.prop_map(ClientRequest::ReadResource))
}

/// `resources/subscribe` (legacy).
pub fn subscribe(v: ProtocolVersion) -> Gen {
    client(resource_uri_params(v).prop_map(ClientRequest::Subscribe))
}

/// `resources/unsubscribe` (legacy).
pub fn unsubscribe(v: ProtocolVersion) -> Gen {
    client(resource_uri_params(v).prop_map(ClientRequest::Unsubscribe))
}

/// `subscriptions/listen` (modern).
pub fn listen(v: ProtocolVersion) -> Gen {
    let params = (subscription_filter(), request_meta(v)).prop_map(|(filter, meta)| {
        let o = Obj::new().set("notifications", filter);
        o.opt("_meta", meta).build()
    });
    client(params.prop_map(ClientRequest::Listen))
}

/// `completion/complete`.
pub fn complete(v: ProtocolVersion) -> Gen {
    let reference = prop_oneof![
        (name(), title(v)).prop_map(|(n, t)| { Obj::tagged("ref/prompt").set("name", n).opt("title", t).value() }),
        uri_template().prop_map(|u| Obj::tagged("ref/resource").set("uri", u).value()),
    ];
    let context = option::of(btree_map(name(), text(), 0..3))
        .prop_map(|arguments| Obj::new().opt("arguments", arguments).value());
    let context = maybe(v.has_structured_output(), context);
    let params = (reference, name(), text(), context, request_meta(v)).prop_map(|(r, arg, value, context, meta)| {
        let argument = serde_json::json!({"name": arg, "value": value});
        let o = Obj::new().set("ref", r).set("argument", argument);
        o.opt("context", context).opt("_meta", meta).build()
    });
    client(params.prop_map(ClientRequest::Complete))
}

/// `logging/setLevel` (legacy).
pub fn set_level(v: ProtocolVersion) -> Gen {
    let params = (log_level(), object_meta(v))
        .prop_map(|(level, meta)| Obj::new().set("level", level).opt("_meta", meta).build());
    client(params.prop_map(ClientRequest::SetLevel))
}

/// `tasks/get` from the client (2025-11-25).
pub fn client_get_task(v: ProtocolVersion) -> Gen {
    client(task_id_params(v).prop_map(ClientRequest::GetTask))
}

/// `tasks/result` from the client (2025-11-25).
pub fn client_get_task_payload(v: ProtocolVersion) -> Gen {
    client(task_id_params(v).prop_map(ClientRequest::GetTaskPayload))
}

/// `tasks/cancel` from the client (2025-11-25).
pub fn client_cancel_task(v: ProtocolVersion) -> Gen {
    client(task_id_params(v).prop_map(ClientRequest::CancelTask))
}

/// `tasks/list` from the client (2025-11-25).
pub fn client_list_tasks(v: ProtocolVersion) -> Gen {
    client(paginated(v).prop_map(ClientRequest::ListTasks))
}

// ---- server requests (legacy) ----

/// `ping` from the server.
pub fn server_ping(v: ProtocolVersion) -> Gen {
    server(request_params(v).prop_map(ServerRequest::Ping))
}

/// `sampling/createMessage`.
pub fn create_message(v: ProtocolVersion) -> Gen {
    server(create_message_params(v).prop_map(ServerRequest::CreateMessage))
}

/// `roots/list`.
pub fn list_roots(v: ProtocolVersion) -> Gen {
    server(list_roots_params(v).prop_map(ServerRequest::ListRoots))
}

/// `elicitation/create`.
pub fn elicit(v: ProtocolVersion) -> Gen {
    server(elicit_params(v).prop_map(ServerRequest::Elicit))
}

/// `tasks/get` from the server (2025-11-25).
pub fn server_get_task(v: ProtocolVersion) -> Gen {
    server(task_id_params(v).prop_map(ServerRequest::GetTask))
}

/// `tasks/result` from the server (2025-11-25).
pub fn server_get_task_payload(v: ProtocolVersion) -> Gen {
    server(task_id_params(v).prop_map(ServerRequest::GetTaskPayload))
}

/// `tasks/cancel` from the server (2025-11-25).
pub fn server_cancel_task(v: ProtocolVersion) -> Gen {
    server(task_id_params(v).prop_map(ServerRequest::CancelTask))
}

/// `tasks/list` from the server (2025-11-25).
pub fn server_list_tasks(v: ProtocolVersion) -> Gen {
    server(paginated(v).prop_map(ServerRequest::ListTasks))
}

// ---- notifications ----

/// `requestId` is required except in 2025-11-25, whose tasks are cancelled with `tasks/cancel`
/// and whose schema makes it optional.
/// The server cancels only to end a listen stream (2026-07-28, stdio).
fn cancelled_params(v: ProtocolVersion, from_server: bool) -> Strat<CancelledNotificationParams> {
    let id = if v.has_core_tasks() { option::of(request_id()).boxed() } else { when(true, request_id()) };
    (id, option::of(text()), notification_meta(v, from_server))
        .prop_map(|(id, reason, meta)| {
            let o = Obj::new().opt("requestId", id).opt("reason", reason);
            o.opt("_meta", meta).build()
        })
        .boxed()
}

fn progress_params(v: ProtocolVersion) -> Strat<ProgressNotificationParams> {
    let parts = (number(), option::of(number()), option::of(text()));
    (request_id(), parts, notification_meta(v, false))
        .prop_map(|(token, (progress, total, message), meta)| {
            let o = Obj::new().set("progressToken", token).set("progress", progress);
            let o = o.opt("total", total).opt("message", message);
            o.opt("_meta", meta).build()
        })
        .boxed()
}

fn notification_params(v: ProtocolVersion, on_listen_stream: bool) -> Strat<NotificationParams> {
    notification_meta(v, on_listen_stream)
        .prop_map(|meta| {
            let mut p = NotificationParams::default();
            p.meta = meta;
            p
        })
        .boxed()
}

/// `notifications/cancelled` from the client.
pub fn client_cancelled(v: ProtocolVersion) -> Gen {
    client_note(cancelled_params(v, false).prop_map(ClientNotification::Cancelled))
}

/// `notifications/initialized` (legacy).
pub fn initialized(v: ProtocolVersion) -> Gen {
    client_note(notification_params(v, false).prop_map(ClientNotification::Initialized))
}

/// `notifications/progress` from the client (legacy).
pub fn client_progress(v: ProtocolVersion) -> Gen {
    client_note(progress_params(v).prop_map(ClientNotification::Progress))
}

/// `notifications/roots/list_changed` (legacy).
pub fn roots_list_changed(v: ProtocolVersion) -> Gen {
    client_note(notification_params(v, false).prop_map(ClientNotification::RootsListChanged))
}

/// `notifications/tasks/status` from the client (2025-11-25).
pub fn client_task_status(_: ProtocolVersion) -> Gen {
    client_note(legacy_task().prop_map(ClientNotification::TaskStatus))
}

/// `notifications/cancelled` from the server.
pub fn server_cancelled(v: ProtocolVersion) -> Gen {
    server_note(cancelled_params(v, true).prop_map(ServerNotification::Cancelled))
}

/// `notifications/progress` from the server.
pub fn server_progress(v: ProtocolVersion) -> Gen {
    server_note(progress_params(v).prop_map(ServerNotification::Progress))
}

/// `notifications/message`.
pub fn logging_message(v: ProtocolVersion) -> Gen {
    let params = (log_level(), option::of(name()), json_value(), notification_meta(v, false)).prop_map(
        |(level, logger, data, meta)| {
            let o = Obj::new().set("level", level).opt("logger", logger);
            o.set("data", data).opt("_meta", meta).build()
        },
    );
    server_note(params.prop_map(ServerNotification::LoggingMessage))
}

/// `notifications/tools/list_changed`.
pub fn tool_list_changed(v: ProtocolVersion) -> Gen {
    server_note(notification_params(v, true).prop_map(ServerNotification::ToolListChanged))
}

/// `notifications/prompts/list_changed`.
pub fn prompt_list_changed(v: ProtocolVersion) -> Gen {
    server_note(notification_params(v, true).prop_map(ServerNotification::PromptListChanged))
}

/// `notifications/resources/list_changed`.
pub fn resource_list_changed(v: ProtocolVersion) -> Gen {
    server_note(notification_params(v, true).prop_map(ServerNotification::ResourceListChanged))
}

/// `notifications/resources/updated`.
pub fn resource_updated(v: ProtocolVersion) -> Gen {
    let params =
        (uri(), notification_meta(v, true)).prop_map(|(u, meta)| Obj::new().set("uri", u).opt("_meta", meta).build());
    server_note(params.prop_map(ServerNotification::ResourceUpdated))
}

/// `notifications/subscriptions/acknowledged` (modern).
pub fn subscriptions_acknowledged(v: ProtocolVersion) -> Gen {
    let params = (subscription_filter(), notification_meta(v, true)).prop_map(|(filter, meta)| {
        let o = Obj::new().set("notifications", filter);
        o.opt("_meta", meta).build()
    });
    server_note(params.prop_map(ServerNotification::SubscriptionsAcknowledged))
}

/// `notifications/elicitation/complete` (2025-11-25).
pub fn elicitation_complete(_: ProtocolVersion) -> Gen {
    let params = name().prop_map(|id| Obj::new().set("elicitationId", id).build());
    server_note(params.prop_map(ServerNotification::ElicitationComplete))
}

/// `notifications/tasks/status` from the server (2025-11-25).
pub fn server_task_status(_: ProtocolVersion) -> Gen {
    server_note(legacy_task().prop_map(ServerNotification::TaskStatus))
}

// ---- MRTR input requests on their own (2026-07-28) ----

fn embedded(call: impl Strategy<Value = InputCall> + 'static) -> Gen {
    sampled(call.prop_map(|c| Plain(InputRequest::from(c))))
}

/// An embedded `sampling/createMessage`.
pub fn embedded_create_message(v: ProtocolVersion) -> Gen {
    embedded(create_message_params(v).prop_map(InputCall::CreateMessage))
}

/// An embedded `elicitation/create`.
pub fn embedded_elicit(v: ProtocolVersion) -> Gen {
    embedded(elicit_params(v).prop_map(InputCall::Elicit))
}

/// An embedded `roots/list`.
pub fn embedded_list_roots(v: ProtocolVersion) -> Gen {
    embedded(list_roots_params(v).prop_map(InputCall::ListRoots))
}
