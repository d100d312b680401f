//! proptest strategies for the objects messages carry: content blocks, sampling content, tools,
//! resources, prompts, roots and 2025-11-25 tasks, each legal in the revision it is given.

use mocopr_core::*;
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

use super::strategies::*;

/// The contents of a resource: text or base64 blob.
pub fn resource_contents(v: ProtocolVersion) -> Strat<ResourceContents> {
    let text_contents = (uri(), text(), option::of(mime()), object_meta(v)).prop_map(|(u, t, m, meta)| {
        Obj::new().set("uri", u).set("text", t).opt("mimeType", m).opt("_meta", meta).build()
    });
    let blob = (uri(), base64(), option::of(mime()), object_meta(v)).prop_map(|(u, b, m, meta)| {
        Obj::new().set("uri", u).set("blob", b).opt("mimeType", m).opt("_meta", meta).build()
    });
    prop_oneof![text_contents, blob].boxed()
}

fn text_json(v: ProtocolVersion) -> Strat<Value> {
    (text(), option::of(annotations(v)), object_meta(v))
        .prop_map(|(t, a, meta)| {
            let o = Obj::tagged("text").set("text", t);
            o.opt("annotations", a).opt("_meta", meta).value()
        })
        .boxed()
}

fn media_json(v: ProtocolVersion, kind: &'static str) -> Strat<Value> {
    (base64(), mime(), option::of(annotations(v)), object_meta(v))
        .prop_map(move |(data, m, a, meta)| {
            let o = Obj::tagged(kind).set("data", data).set("mimeType", m);
            o.opt("annotations", a).opt("_meta", meta).value()
        })
        .boxed()
}

/// A content block of a tool result or prompt message (`resource_link` from 2025-06-18).
pub fn content_block(v: ProtocolVersion) -> Strat<ContentBlock> {
    let embedded = (resource_contents(v), option::of(annotations(v)), object_meta(v)).prop_map(|(r, a, meta)| {
        let o = Obj::tagged("resource").set("resource", r);
        o.opt("annotations", a).opt("_meta", meta).value()
    });
    let link_details = (option::of(text()), option::of(mime()), option::of(0u64..1 << 40));
    let link_extras = (icons(v), option::of(annotations(v)), object_meta(v));
    let link = (uri(), name(), title(v), link_details, link_extras).prop_map(
        |(u, n, t, (description, m, size), (icons, a, meta))| {
            let o = Obj::tagged("resource_link").set("uri", u).set("name", n);
            let o = o.opt("title", t).opt("description", description);
            let o = o.opt("mimeType", m).opt("size", size).opt("icons", icons);
            o.opt("annotations", a).opt("_meta", meta).value()
        },
    );
    let blocks = if v.has_structured_output() {
        prop_oneof![text_json(v), media_json(v, "image"), media_json(v, "audio"), embedded, link,].boxed()
    } else {
        prop_oneof![text_json(v), media_json(v, "image"), media_json(v, "audio"), embedded,].boxed()
    };
    blocks.prop_map(build::<ContentBlock>).boxed()
}

/// `structuredContent`: an object before 2026-07-28, any JSON value (even `null`) since.
pub fn structured_content(v: ProtocolVersion) -> Strat<Value> {
    if v.structured_content_any_value() { json_value() } else { json_object().prop_map(Value::Object).boxed() }
}

/// A content block of a sampling message (`tool_use` / `tool_result` from 2025-11-25).
pub fn sampling_content(v: ProtocolVersion) -> Strat<SamplingContent> {
    let plain = prop_oneof![text_json(v), media_json(v, "image"), media_json(v, "audio")];
    if !v.has_icons() {
        return plain.prop_map(build::<SamplingContent>).boxed();
    }
    let tool_use = (name(), name(), json_object(), object_meta(v)).prop_map(|(id, n, input, meta)| {
        let o = Obj::tagged("tool_use").set("id", id).set("name", n);
        o.set("input", input).opt("_meta", meta).value()
    });
    let result_parts = (option::of(structured_content(v)), option::of(any::<bool>()), object_meta(v));
    let tool_result =
        (name(), vec(content_block(v), 0..3), result_parts).prop_map(|(id, content, (structured, is_error, meta))| {
            let o = Obj::tagged("tool_result").set("toolUseId", id).set("content", content);
            let o = o.opt("structuredContent", structured).opt("isError", is_error);
            o.opt("_meta", meta).value()
        });
    prop_oneof![plain, tool_use, tool_result].prop_map(build::<SamplingContent>).boxed()
}

/// One sampling block or, from 2025-11-25, a list of them.
pub fn sampling_body(v: ProtocolVersion) -> Strat<OneOrMany<SamplingContent>> {
    let one = sampling_content(v).prop_map(OneOrMany::One);
    if v.has_icons() {
        prop_oneof![one, vec(sampling_content(v), 1..3).prop_map(OneOrMany::Many)].boxed()
    } else {
        one.boxed()
    }
}

/// A tool's input or output schema: an object schema of a few typed properties.
pub fn object_schema() -> Strat<JsonObject> {
    let kinds = select(vec!["string", "integer", "number", "boolean"]);
    (btree_map(name(), kinds, 0..3), any::<bool>())
        .prop_map(|(props, require_first)| {
            let required: Vec<&String> = props.keys().take(usize::from(require_first)).collect();
            let properties: Map<String, Value> = props.iter().map(|(n, t)| (n.clone(), json!({ "type": t }))).collect();
            let mut schema = Obj::new().set("type", "object").set("properties", properties);
            if !required.is_empty() {
                schema = schema.set("required", required);
            }
            schema.0
        })
        .boxed()
}

/// A tool definition.
pub fn tool(v: ProtocolVersion) -> Strat<Tool> {
    let hints = (
        option::of(text()),
        option::of(any::<bool>()),
        option::of(any::<bool>()),
        option::of(any::<bool>()),
        option::of(any::<bool>()),
    )
        .prop_map(|(title, read_only, destructive, idempotent, open_world)| {
            let mut a = ToolAnnotations::default();
            a.title = title;
            a.read_only_hint = read_only;
            a.destructive_hint = destructive;
            a.idempotent_hint = idempotent;
            a.open_world_hint = open_world;
            a
        });
    let support = select(vec![TaskSupport::Forbidden, TaskSupport::Optional, TaskSupport::Required]);
    let execution = option::of(support).prop_map(|task_support| {
        let mut e = ToolExecution::default();
        e.task_support = task_support;
        e
    });
    let described = (name(), title(v), option::of(text()), object_schema());
    let extras = (
        maybe(v.has_structured_output(), object_schema()),
        option::of(hints),
        maybe(v.has_core_tasks(), execution),
        icons(v),
        object_meta(v),
    );
    (described, extras)
        .prop_map(|((n, t, d, input), (output, a, exec, icons, meta))| {
            let mut tool = Tool::new(n).with_input_schema(input);
            tool.title = t;
            tool.description = d;
            tool.output_schema = output;
            tool.annotations = a;
            tool.execution = exec;
            tool.icons = icons;
            tool.meta = meta;
            tool
        })
        .boxed()
}

/// A resource.
pub fn resource(v: ProtocolVersion) -> Strat<Resource> {
    let details = (option::of(text()), option::of(mime()), option::of(0u64..1 << 40));
    let extras = (icons(v), option::of(annotations(v)), object_meta(v));
    (uri(), name(), title(v), details, extras)
        .prop_map(|(u, n, t, (d, m, size), (icons, a, meta))| {
            let mut r = Resource::new(u, n);
            r.title = t;
            r.description = d;
            r.mime_type = m;
            r.size = size;
            r.icons = icons;
            r.annotations = a;
            r.meta = meta;
            r
        })
        .boxed()
}

/// A resource template.
pub fn resource_template(v: ProtocolVersion) -> Strat<ResourceTemplate> {
    let extras = (icons(v), option::of(annotations(v)), object_meta(v));
    let details = (title(v), option::of(text()), option::of(mime()));
    (uri_template(), name(), details, extras)
        .prop_map(|(u, n, (t, d, m), (icons, a, meta))| {
            let o = Obj::new().set("uriTemplate", u).set("name", n);
            let o = o.opt("title", t).opt("description", d).opt("mimeType", m);
            o.opt("icons", icons).opt("annotations", a).opt("_meta", meta).build()
        })
        .boxed()
}

/// A prompt.
pub fn prompt(v: ProtocolVersion) -> Strat<Prompt> {
    let argument = (name(), title(v), option::of(text()), option::of(any::<bool>())).prop_map(|(n, t, d, required)| {
        let mut a = PromptArgument::new(n);
        a.title = t;
        a.description = d;
        a.required = required;
        a
    });
    let details = (title(v), option::of(text()), option::of(vec(argument, 0..3)));
    (name(), details, icons(v), object_meta(v))
        .prop_map(|(n, (t, d, arguments), icons, meta)| {
            let mut p = Prompt::new(n);
            p.title = t;
            p.description = d;
            p.arguments = arguments;
            p.icons = icons;
            p.meta = meta;
            p
        })
        .boxed()
}

/// A filesystem root.
pub fn root(v: ProtocolVersion) -> Strat<Root> {
    (segment(), option::of(text()), object_meta(v))
        .prop_map(|(path, n, meta)| {
            let mut r = Root::new(format!("file:///home/{path}"));
            r.name = n;
            r.meta = meta;
            r
        })
        .boxed()
}

/// A 2025-11-25 task.
pub fn legacy_task() -> Strat<LegacyTask> {
    let status = select(vec!["working", "input_required", "completed", "failed", "cancelled"]);
    let times = (timestamp(), timestamp());
    let timing = (option::of(0u64..1 << 32), option::of(0u64..100_000));
    (name(), status, option::of(text()), times, timing, option::of(meta_object()))
        .prop_map(|(id, status, message, (created, updated), (ttl, poll), meta)| {
            let o = Obj::new().set("taskId", id).set("status", status);
            let o = o.opt("statusMessage", message).set("createdAt", created);
            let o = o.set("lastUpdatedAt", updated).set("ttl", ttl);
            o.opt("pollInterval", poll).opt("_meta", meta).build()
        })
        .boxed()
}

/// The `task` param of a 2025-11-25 task-augmented request.
pub fn task_metadata() -> Strat<TaskMetadata> {
    option::of(0u64..1 << 32)
        .prop_map(|ttl| {
            let mut t = TaskMetadata::default();
            t.ttl = ttl;
            t
        })
        .boxed()
}
