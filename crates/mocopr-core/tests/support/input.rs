//! What a server asks of a client (sampling, elicitation, roots) and the client's answers:
//! the params of legacy server requests, and the MRTR input requests and responses the modern
//! era embeds in results and retries.

use mocopr_core::*;
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

use super::objects::*;
use super::strategies::*;

/// `sampling/createMessage` params.
pub fn create_message_params(v: ProtocolVersion) -> Strat<CreateMessageRequestParams> {
    let hints = vec(option::of(name()), 0..3);
    let preferences = (option::of(hints), option::of(priority()), option::of(priority()), option::of(priority()))
        .prop_map(|(hints, cost, speed, intelligence)| {
            let hints = hints.map(|h| {
                let h = h.into_iter().map(|n| Obj::new().opt("name", n).value());
                h.collect::<Vec<_>>()
            });
            let o = Obj::new().opt("hints", hints).opt("costPriority", cost);
            let o = o.opt("speedPriority", speed);
            o.opt("intelligencePriority", intelligence).value()
        });
    let context = select(vec!["none", "thisServer", "allServers"]);
    let tuning = (
        option::of(preferences),
        option::of(text()),
        option::of(context),
        option::of((0u32..8).prop_map(|t| f64::from(t) / 4.0)),
        1u64..8192,
        option::of(vec(text(), 0..3)),
        option::of(json_object_strict()),
    );
    let tool_choice = select(vec!["auto", "required", "none"]);
    let tool_choice = option::of(tool_choice).prop_map(|m| Obj::new().opt("mode", m).value());
    let newer = (
        maybe(v.has_icons(), vec(tool(v), 0..2)),
        maybe(v.has_icons(), tool_choice),
        maybe(v.has_core_tasks(), task_metadata()),
        maybe(!v.is_modern() && has_object_meta(v), meta_object()),
    );
    let messages = vec((role(), sampling_body(v), maybe(since_2025_11_25(v), meta_object())), 1..3);
    (messages, tuning, newer)
        .prop_map(|(messages, (prefs, system, ctx, temp, max, stop, metadata), newer)| {
            let messages: Vec<_> = messages
                .into_iter()
                .map(|(r, content, meta)| {
                    let m = Obj::new().set("role", r).set("content", content);
                    m.opt("_meta", meta).value()
                })
                .collect();
            let (tools, choice, task, meta) = newer;
            let o = Obj::new().set("messages", messages).opt("modelPreferences", prefs);
            let o = o.opt("systemPrompt", system).opt("includeContext", ctx);
            let o = o.opt("temperature", temp).set("maxTokens", max);
            let o = o.opt("stopSequences", stop).opt("metadata", metadata);
            let o = o.opt("tools", tools).opt("toolChoice", choice);
            o.opt("task", task).opt("_meta", meta).build()
        })
        .boxed()
}

fn primitive_schema(v: ProtocolVersion) -> Strat<Value> {
    let newer = since_2025_11_25(v);
    let labels = || (option::of(text()), option::of(text()));
    let label = |o: Obj, (title, description): (Option<String>, Option<String>)| {
        o.opt("title", title).opt("description", description)
    };
    let formats = select(vec!["email", "uri", "date", "date-time"]);
    let lengths = (option::of(0u64..8), option::of(8u64..64), option::of(formats));
    let string = (labels(), lengths, maybe(newer, text())).prop_map(move |(l, (min, max, format), default)| {
        let o = label(Obj::new().set("type", "string"), l);
        let o = o.opt("minLength", min).opt("maxLength", max).opt("format", format);
        o.opt("default", default).value()
    });
    let bounds = (option::of(-1000i64..0), option::of(0i64..1000), maybe(newer, 0i64..10));
    let kind = select(vec!["number", "integer"]);
    let number = (kind, labels(), bounds).prop_map(move |(k, l, (min, max, default))| {
        let o = label(Obj::new().set("type", k), l);
        let o = o.opt("minimum", min).opt("maximum", max);
        o.opt("default", default).value()
    });
    let boolean = (labels(), option::of(any::<bool>())).prop_map(move |(l, default)| {
        let o = label(Obj::new().set("type", "boolean"), l);
        o.opt("default", default).value()
    });
    let choices = || vec(name(), 1..4);
    let untitled =
        (choices(), any::<bool>(), labels(), any::<bool>()).prop_map(move |(values, titled, l, with_default)| {
            let names: Vec<String> = values.iter().map(|n| n.to_uppercase()).collect();
            let default = values.first().cloned().filter(|_| newer && with_default);
            let o = Obj::new().set("type", "string").set("enum", &values);
            let o = label(o.opt("enumNames", Some(names).filter(|_| titled)), l);
            o.opt("default", default).value()
        });
    if !newer {
        return prop_oneof![string, number, boolean, untitled].boxed();
    }
    let titled_values = || {
        choices().prop_map(|values| {
            let titled = values.iter().map(|n| serde_json::json!({"const": n, "title": n.to_uppercase()}));
            titled.collect::<Vec<_>>()
        })
    };
    let titled = (titled_values(), labels(), option::of(name())).prop_map(move |(one_of, l, d)| {
        let o = label(Obj::new().set("type", "string").set("oneOf", one_of), l);
        o.opt("default", d).value()
    });
    let items = prop_oneof![
        choices().prop_map(|values| serde_json::json!({"type": "string", "enum": values})),
        titled_values().prop_map(|any_of| serde_json::json!({ "anyOf": any_of })),
    ];
    let counts = (option::of(0u64..2), option::of(2u64..5), option::of(vec(name(), 0..2)));
    let multi = (items, labels(), counts).prop_map(move |(items, l, (min, max, default))| {
        let o = label(Obj::new().set("type", "array").set("items", items), l);
        let o = o.opt("minItems", min).opt("maxItems", max);
        o.opt("default", default).value()
    });
    prop_oneof![string, number, boolean, untitled, titled, multi].boxed()
}

fn requested_schema(v: ProtocolVersion) -> Strat<Value> {
    let dialect = maybe(since_2025_11_25(v), Just("https://json-schema.org/draft/2020-12/schema"));
    (btree_map(name(), primitive_schema(v), 0..4), any::<bool>(), dialect)
        .prop_map(|(properties, require_first, dialect)| {
            let required: Vec<String> = properties.keys().take(usize::from(require_first)).cloned().collect();
            let o = Obj::new().opt("$schema", dialect).set("type", "object");
            let o = o.set("properties", properties);
            o.opt("required", Some(required).filter(|r| !r.is_empty())).value()
        })
        .boxed()
}

/// Form-mode `elicitation/create` params.
pub fn form_params(v: ProtocolVersion) -> Strat<ElicitRequestParams> {
    (
        text(),
        requested_schema(v),
        maybe(since_2025_11_25(v), Just("form")),
        maybe(v.has_core_tasks(), task_metadata()),
        maybe(!v.is_modern(), meta_object()),
    )
        .prop_map(|(message, schema, mode, task, meta)| {
            let o = Obj::new().opt("mode", mode).set("message", message);
            let o = o.set("requestedSchema", schema).opt("task", task);
            o.opt("_meta", meta).build()
        })
        .boxed()
}

/// URL-mode `elicitation/create` params (2025-11-25 and later). The correlation id is
/// required in 2025-11-25 and removed in 2026-07-28.
pub fn url_params(v: ProtocolVersion) -> Strat<ElicitRequestParams> {
    let legacy = !v.is_modern();
    (
        text(),
        https_uri(),
        when(legacy, name()),
        maybe(v.has_core_tasks(), task_metadata()),
        maybe(legacy, meta_object()),
    )
        .prop_map(|(message, url, id, task, meta)| {
            let o = Obj::new().set("mode", "url").set("message", message);
            let o = o.set("url", url).opt("elicitationId", id).opt("task", task);
            o.opt("_meta", meta).build()
        })
        .boxed()
}

/// `elicitation/create` params: a form, or (2025-11-25 and later) a URL.
pub fn elicit_params(v: ProtocolVersion) -> Strat<ElicitRequestParams> {
    if v.has_icons() { prop_oneof![form_params(v), url_params(v)].boxed() } else { form_params(v) }
}

/// The client's answer to `elicitation/create`.
pub fn elicit_result(v: ProtocolVersion) -> Strat<ElicitResult> {
    let answer = if since_2025_11_25(v) {
        prop_oneof![
            text().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            vec(name(), 0..3).prop_map(Value::from),
        ]
        .boxed()
    } else {
        prop_oneof![
            text().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
        ]
        .boxed()
    };
    let action = select(vec!["accept", "decline", "cancel"]);
    let meta = if v.is_modern() { maybe(false, meta_object()) } else { result_meta(v) };
    (action, option::of(btree_map(name(), answer, 0..3)), meta)
        .prop_map(|(action, content, meta)| {
            let content = content.filter(|_| action == "accept");
            let o = Obj::new().set("action", action).opt("content", content);
            o.opt("_meta", meta).build()
        })
        .boxed()
}

/// The client's answer to `sampling/createMessage`.
pub fn create_message_result(v: ProtocolVersion) -> Strat<CreateMessageResult> {
    let reasons = select(vec!["endTurn", "stopSequence", "maxTokens"]).prop_map(str::to_owned);
    let meta = if v.is_modern() { option::of(meta_object()).boxed() } else { result_meta(v) };
    let stop = option::of(prop_oneof![reasons, text()]);
    (role(), sampling_body(v), name(), stop, meta)
        .prop_map(|(r, content, model, stop, meta)| {
            let o = Obj::new().set("role", r).set("content", content);
            let o = o.set("model", model).opt("stopReason", stop);
            o.opt("_meta", meta).build()
        })
        .boxed()
}

/// The client's answer to `roots/list`.
pub fn list_roots_result(v: ProtocolVersion) -> Strat<ListRootsResult> {
    let meta = maybe(!v.is_modern(), result_meta(v)).prop_map(Option::flatten);
    (vec(root(v), 0..3), meta)
        .prop_map(|(roots, meta)| Obj::new().set("roots", roots).opt("_meta", meta).build())
        .boxed()
}

/// `roots/list` params.
pub fn list_roots_params(v: ProtocolVersion) -> Strat<MetaOnlyParams> {
    option::of(meta_object())
        .prop_map(move |meta| {
            let mut p = MetaOnlyParams::default();
            p.meta = meta.filter(|_| has_object_meta(v));
            p
        })
        .boxed()
}

/// `inputRequests` of an `InputRequiredResult` (2026-07-28).
pub fn input_requests(v: ProtocolVersion) -> Strat<InputRequests> {
    let call = prop_oneof![
        elicit_params(v).prop_map(InputCall::Elicit),
        create_message_params(v).prop_map(InputCall::CreateMessage),
        list_roots_params(v).prop_map(InputCall::ListRoots),
    ];
    btree_map(name(), call.prop_map(InputRequest::from), 1..3).boxed()
}

/// `inputResponses` of a retried request (2026-07-28).
pub fn input_responses(v: ProtocolVersion) -> Strat<InputResponses> {
    let response = prop_oneof![
        elicit_result(v).prop_map(InputResponse::Elicit),
        list_roots_result(v).prop_map(InputResponse::ListRoots),
        create_message_result(v).prop_map(InputResponse::CreateMessage),
    ];
    btree_map(name(), response, 1..3).boxed()
}
