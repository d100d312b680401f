//! proptest strategies for the shared vocabulary: names, URIs, base64, JSON, `_meta`,
//! implementation info, icons, annotations and capabilities. Each takes the revision and
//! generates only what exists in it, asking `ProtocolVersion`'s predicates where there is one.
//!
//! Many of our types are `#[non_exhaustive]`: those without a constructor are built by
//! deserializing a JSON object assembled from generated parts ([`Obj`]), and [`Obj::build`]
//! checks that the value serializes back to exactly that object, so a member our type drops
//! fails here instead of vanishing from the test.

use std::fmt::Debug;

use base64::Engine as _;
use mocopr_core::meta::{Meta, RequestMeta, SERVER_INFO_KEY, SUBSCRIPTION_ID_KEY};
use mocopr_core::*;
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::LazyJust;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value, json};

/// A boxed strategy.
pub type Strat<T> = BoxedStrategy<T>;

/// `_meta` on objects other than results, and `Annotations.lastModified`: 2025-06-18 and later
/// (no `ProtocolVersion` predicate names this).
pub fn has_object_meta(v: ProtocolVersion) -> bool {
    v >= ProtocolVersion::V2025_06_18
}

/// Titled and multi-select enums, defaults in form fields, string-list answers, `_meta` on
/// sampling messages: 2025-11-25 and later (no predicate names these).
pub fn since_2025_11_25(v: ProtocolVersion) -> bool {
    v >= ProtocolVersion::V2025_11_25
}

/// An optional member that exists only when `exists`.
pub fn maybe<T: Debug + 'static>(exists: bool, s: impl Strategy<Value = T> + 'static) -> Strat<Option<T>> {
    if exists { option::of(s).boxed() } else { LazyJust::new(|| None).boxed() }
}

/// A member that is required exactly when `required` and absent otherwise.
pub fn when<T: Debug + 'static>(required: bool, s: impl Strategy<Value = T> + 'static) -> Strat<Option<T>> {
    if required { s.prop_map(Some).boxed() } else { LazyJust::new(|| None).boxed() }
}

/// A JSON object under construction, read into one of our types at the end.
#[derive(Debug, Default)]
pub struct Obj(pub Map<String, Value>);

impl Obj {
    /// An empty object.
    pub fn new() -> Self {
        Obj(Map::new())
    }

    /// An object with `"type": tag` (content blocks).
    pub fn tagged(tag: &str) -> Self {
        Obj::new().set("type", tag)
    }

    /// Sets `key`.
    pub fn set(mut self, key: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).expect("test values serialize");
        self.0.insert(key.to_owned(), value);
        self
    }

    /// Sets `key` when `value` is `Some`.
    pub fn opt<T: Serialize>(self, key: &str, value: Option<T>) -> Self {
        match value {
            Some(value) => self.set(key, value),
            None => self,
        }
    }

    /// The object as a JSON value.
    pub fn value(self) -> Value {
        Value::Object(self.0)
    }

    /// Reads the object as `T`, which must serialize back to exactly this object.
    pub fn build<T: DeserializeOwned + Serialize>(self) -> T {
        build(self.value())
    }
}

/// Reads `json` as `T`, which must serialize back to exactly `json`.
pub fn build<T: DeserializeOwned + Serialize>(json: Value) -> T {
    let name = std::any::type_name::<T>();
    let t: T = serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{name} cannot read {json}: {e}"));
    let back = serde_json::to_value(&t).expect("serializes");
    assert_eq!(back, json, "{name} does not keep what it read");
    t
}

/// A programmatic name.
pub fn name() -> Strat<String> {
    "[a-z][a-z0-9_]{0,10}".boxed()
}

/// Free text (any printable Unicode).
pub fn text() -> Strat<String> {
    "\\PC{0,20}".boxed()
}

/// A lowercase path segment.
pub fn segment() -> Strat<String> {
    "[a-z0-9]{1,8}".boxed()
}

/// An absolute URI of a few schemes.
pub fn uri() -> Strat<String> {
    prop_oneof![
        segment().prop_map(|s| format!("file:///tmp/{s}")),
        https_uri(),
        segment().prop_map(|s| format!("urn:mocopr:{s}")),
    ]
    .boxed()
}

/// An `https:` URL.
pub fn https_uri() -> Strat<String> {
    (segment(), segment()).prop_map(|(a, b)| format!("https://example.com/{a}/{b}")).boxed()
}

/// An RFC 6570 URI template.
pub fn uri_template() -> Strat<String> {
    prop_oneof![
        segment().prop_map(|s| format!("file:///{s}/{{name}}")),
        segment().prop_map(|s| format!("https://example.com/{s}{{?q,page}}")),
    ]
    .boxed()
}

/// Standard base64 (`format: byte`).
pub fn base64() -> Strat<String> {
    vec(any::<u8>(), 0..24).prop_map(|b| base64::engine::general_purpose::STANDARD.encode(b)).boxed()
}

/// A MIME type.
pub fn mime() -> Strat<String> {
    select(vec!["text/plain", "image/png", "audio/wav", "application/json"]).prop_map(str::to_owned).boxed()
}

/// An ISO 8601 timestamp.
pub fn timestamp() -> Strat<String> {
    (2020u32..2031, 1u32..13, 1u32..29, 0u32..24, 0u32..60)
        .prop_map(|(y, mo, d, h, mi)| format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:07Z"))
        .boxed()
}

/// A request id or progress token: an integer or a string.
pub fn request_id() -> Strat<RequestId> {
    prop_oneof![any::<i64>().prop_map(RequestId::from), "[A-Za-z0-9-]{1,12}".prop_map(RequestId::from),].boxed()
}

/// A JSON number: an integer or a fraction that prints exactly.
pub fn number() -> Strat<Number> {
    prop_oneof![
        (0u64..100_000).prop_map(Number::from),
        (0u32..4000).prop_map(|n| Number::from_f64(f64::from(n) / 4.0).expect("finite")),
    ]
    .boxed()
}

/// A priority between 0 and 1.
pub fn priority() -> Strat<f64> {
    select(vec![0.0, 0.25, 0.5, 0.75, 1.0]).boxed()
}

/// A role.
pub fn role() -> Strat<Role> {
    prop_oneof![Just(Role::User), Just(Role::Assistant)].boxed()
}

/// A log level.
pub fn log_level() -> Strat<LoggingLevel> {
    select(vec![
        LoggingLevel::Debug,
        LoggingLevel::Info,
        LoggingLevel::Notice,
        LoggingLevel::Warning,
        LoggingLevel::Error,
        LoggingLevel::Critical,
        LoggingLevel::Alert,
        LoggingLevel::Emergency,
    ])
    .boxed()
}

fn key() -> Strat<String> {
    "[a-z]{1,6}".boxed()
}

fn object_of(values: impl Strategy<Value = Value> + 'static) -> Strat<Value> {
    btree_map(key(), values, 0..3).prop_map(|m| Value::Object(m.into_iter().collect())).boxed()
}

/// Any JSON value, `null` and fractions included, a few levels deep.
pub fn json_value() -> Strat<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u32..4000).prop_map(|n| json!(f64::from(n) / 8.0)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![vec(inner.clone(), 0..3).prop_map(Value::Array), object_of(inner),]
    })
    .boxed()
}

/// A JSON object of any values (`arguments`, `input`).
pub fn json_object() -> Strat<JsonObject> {
    btree_map(key(), json_value(), 0..4).prop_map(|m| m.into_iter().collect()).boxed()
}

/// A JSON object whose values are what 2026-07-28's `JSONValue` allows everywhere (strings,
/// integers, booleans, arrays and objects of those): capability settings, sampling metadata.
pub fn json_object_strict() -> Strat<JsonObject> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![vec(inner.clone(), 0..3).prop_map(Value::Array), object_of(inner),]
    });
    btree_map(key(), value, 0..3).prop_map(|m| m.into_iter().collect()).boxed()
}

const META_KEYS: [&str; 4] = ["com.example/trace", "example.org/flag", "note", "com.example.app/run-id"];

/// A `_meta` object of unreserved keys.
pub fn meta_object() -> Strat<Meta> {
    btree_map(select(META_KEYS.to_vec()), json_value(), 0..3)
        .prop_map(|m| Meta(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
        .boxed()
}

/// `_meta` of an object that is not a result (absent before 2025-06-18).
pub fn object_meta(v: ProtocolVersion) -> Strat<Option<Meta>> {
    maybe(has_object_meta(v), meta_object())
}

fn insert(meta: &mut Meta, key: &str, value: Option<impl Serialize>) {
    if let Some(value) = value {
        meta.insert(key, serde_json::to_value(value).expect("serializes"));
    }
}

/// `_meta` of a notification: one sent on a modern `subscriptions/listen` stream may carry
/// the stream's `subscriptionId`.
pub fn notification_meta(v: ProtocolVersion, on_listen_stream: bool) -> Strat<Option<Meta>> {
    let subscription = maybe(v.is_modern() && on_listen_stream, request_id());
    option::of((meta_object(), subscription))
        .prop_map(|m| {
            m.map(|(mut meta, subscription)| {
                insert(&mut meta, SUBSCRIPTION_ID_KEY, subscription);
                meta
            })
        })
        .boxed()
}

/// `_meta` of a result: modern servers may name themselves in it.
pub fn result_meta(v: ProtocolVersion) -> Strat<Option<Meta>> {
    option::of((meta_object(), maybe(v.is_modern(), implementation(v))))
        .prop_map(|m| {
            m.map(|(mut meta, server)| {
                insert(&mut meta, SERVER_INFO_KEY, server);
                meta
            })
        })
        .boxed()
}

/// `_meta` of a request: required (version and capabilities) in the modern era, an optional
/// progress token before.
pub fn request_meta(v: ProtocolVersion) -> Strat<Option<RequestMeta>> {
    if v.is_modern() {
        let optional = (option::of(implementation(v)), option::of(log_level()), option::of(request_id()));
        (client_capabilities(v), optional, meta_object())
            .prop_map(move |(caps, (info, level, token), other)| {
                let mut meta = RequestMeta::modern(v, caps);
                meta.client_info = info.map(Box::new);
                meta.log_level = level;
                meta.progress_token = token;
                meta.other = other;
                Some(meta)
            })
            .boxed()
    } else {
        option::of((option::of(request_id()), object_meta(v)))
            .prop_map(|m| {
                m.map(|(token, other)| {
                    let mut meta = RequestMeta::default();
                    meta.progress_token = token;
                    meta.other = other.unwrap_or_default();
                    meta
                })
            })
            .boxed()
    }
}

/// An icon (2025-11-25 and later).
pub fn icon() -> Strat<Icon> {
    let src = prop_oneof![
        https_uri().prop_map(|u| format!("{u}.png")),
        base64().prop_map(|b| format!("data:image/png;base64,{b}")),
    ];
    let sizes = vec(select(vec!["16x16", "48x48", "any"]).prop_map(str::to_owned), 1..3);
    let theme = select(vec![IconTheme::Light, IconTheme::Dark]);
    (src, option::of(mime()), option::of(sizes), option::of(theme))
        .prop_map(|(src, mime_type, sizes, theme)| {
            let mut icon = Icon::new(src);
            icon.mime_type = mime_type;
            icon.sizes = sizes;
            icon.theme = theme;
            icon
        })
        .boxed()
}

/// Icons, where the revision has them.
pub fn icons(v: ProtocolVersion) -> Strat<Option<Vec<Icon>>> {
    maybe(v.has_icons(), vec(icon(), 0..3))
}

/// A display title, where the revision has them.
pub fn title(v: ProtocolVersion) -> Strat<Option<String>> {
    maybe(v.has_structured_output(), text())
}

/// Client or server implementation info.
pub fn implementation(v: ProtocolVersion) -> Strat<Implementation> {
    let newer = (maybe(v.has_icons(), text()), icons(v), maybe(v.has_icons(), https_uri()));
    (name(), "[0-9]\\.[0-9]{1,2}\\.[0-9]", title(v), newer)
        .prop_map(|(name, version, title, (description, icons, website))| {
            let mut info = Implementation::new(name, version);
            info.title = title;
            info.description = description;
            info.icons = icons;
            info.website_url = website;
            info
        })
        .boxed()
}

/// Display hints.
pub fn annotations(v: ProtocolVersion) -> Strat<Annotations> {
    let audience = vec(role(), 0..3);
    let modified = maybe(has_object_meta(v), timestamp());
    (option::of(audience), option::of(priority()), modified)
        .prop_map(|(audience, priority, last_modified)| {
            let mut a = Annotations::default();
            a.audience = audience;
            a.priority = priority;
            a.last_modified = last_modified;
            a
        })
        .boxed()
}

fn flag_object() -> Strat<Option<JsonObject>> {
    option::of(json_object_strict()).boxed()
}

fn flags(keys: &'static [&'static str]) -> Strat<Value> {
    vec(flag_object(), keys.len())
        .prop_map(move |values| {
            let mut o = Obj::new();
            for (key, value) in keys.iter().zip(values) {
                o = o.opt(key, value);
            }
            o.value()
        })
        .boxed()
}

/// Client capabilities, with only the members the revision defines.
pub fn client_capabilities(v: ProtocolVersion) -> Strat<ClientCapabilities> {
    let experimental = option::of(btree_map(name(), json_object_strict(), 0..2));
    let roots = option::of(maybe(!v.is_modern(), any::<bool>()));
    let sampling = if v.has_icons() { flags(&["context", "tools"]) } else { Just(json!({})).boxed() };
    let elicitation = if v.has_icons() { flags(&["form", "url"]) } else { Just(json!({})).boxed() };
    let requests =
        (option::of(flags(&["create"])), option::of(flags(&["createMessage"]))).prop_map(|(elicit, sample)| {
            let o = Obj::new().opt("elicitation", elicit);
            o.opt("sampling", sample).value()
        });
    let tasks = (flags(&["list", "cancel"]), option::of(requests)).prop_map(|(mut t, r)| {
        if let Some(r) = r {
            t["requests"] = r;
        }
        t
    });
    let extensions = maybe(
        v.is_modern(),
        btree_map(select(vec!["io.modelcontextprotocol/tasks", "com.example/ext"]), json_object_strict(), 0..2),
    );
    let members = (
        option::of(sampling),
        maybe(v.has_structured_output(), elicitation),
        maybe(v.has_core_tasks(), tasks),
        extensions,
    );
    (experimental, roots, members)
        .prop_map(|(experimental, roots, (sampling, elicitation, tasks, ext))| {
            let roots = roots.map(|list_changed| Obj::new().opt("listChanged", list_changed));
            let o = Obj::new().opt("experimental", experimental);
            let o = o.opt("roots", roots.map(Obj::value)).opt("sampling", sampling);
            let o = o.opt("elicitation", elicitation).opt("tasks", tasks);
            o.opt("extensions", ext).build()
        })
        .boxed()
}

/// Server capabilities, with only the members the revision defines.
pub fn server_capabilities(v: ProtocolVersion) -> Strat<ServerCapabilities> {
    let list_changed = || option::of(option::of(any::<bool>()));
    let resources = option::of((option::of(any::<bool>()), option::of(any::<bool>())));
    let tools_requests = option::of(flags(&["call"]).prop_map(|call| json!({ "tools": call })));
    let tasks = (flags(&["list", "cancel"]), tools_requests).prop_map(|(mut t, r)| {
        if let Some(r) = r {
            t["requests"] = r;
        }
        t
    });
    let settings = (option::of(btree_map(name(), json_object_strict(), 0..2)), flag_object(), flag_object());
    let lists = (list_changed(), resources, list_changed());
    let newer = (
        maybe(v.has_core_tasks(), tasks),
        maybe(
            v.is_modern(),
            btree_map(select(vec!["io.modelcontextprotocol/tasks", "com.example/ext"]), json_object_strict(), 0..2),
        ),
    );
    (settings, lists, newer)
        .prop_map(|((experimental, logging, completions), (prompts, resources, tools), (tasks, ext))| {
            let changed = |c: Option<bool>| Obj::new().opt("listChanged", c).value();
            let resources = resources.map(|(subscribe, changed)| {
                let o = Obj::new().opt("subscribe", subscribe);
                o.opt("listChanged", changed).value()
            });
            let o = Obj::new().opt("experimental", experimental);
            let o = o.opt("logging", logging).opt("completions", completions);
            let o = o.opt("prompts", prompts.map(changed)).opt("resources", resources);
            let o = o.opt("tools", tools.map(changed)).opt("tasks", tasks);
            o.opt("extensions", ext).build()
        })
        .boxed()
}
