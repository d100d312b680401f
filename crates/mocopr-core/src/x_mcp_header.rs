//! The `x-mcp-header` annotation on tool input schemas.
//!
//! A server MAY mark primitive tool parameters with `"x-mcp-header": "Name"`
//! so that, on Streamable HTTP, clients mirror the argument into an
//! `Mcp-Param-Name` header and intermediaries can route on it (revision
//! 2026-07-28, `basic/transports/streamable-http.mdx` and
//! `server/tools.mdx`). Clients MUST support the feature and MUST drop tool
//! definitions whose annotations break the rules; servers MUST check that the
//! headers match the body. This module extracts and validates the
//! annotations once per tool definition, then converts or compares argument
//! values per call, so client and server share a single reading of the rules.
//!
//! Schemas come from the peer, so the walk is bounded in depth and in the
//! number of headers it accepts.

use serde_json::{Map, Value};

/// The schema keyword carrying the annotation.
pub const ANNOTATION_KEYWORD: &str = "x-mcp-header";

/// Prefix of every header produced from an annotation.
pub const PARAM_HEADER_PREFIX: &str = "Mcp-Param-";

/// Deepest schema nesting the walk follows; deeper schemas are rejected
/// because an annotation hidden below the limit could not be ruled out.
pub const MAX_SCHEMA_DEPTH: usize = 32;

/// Most annotations accepted in one input schema.
pub const MAX_PARAM_HEADERS: usize = 64;

/// Largest integer magnitude allowed in a mirrored value (2^53 - 1), the
/// range a double-precision float represents exactly.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Keywords holding one subschema, an array of subschemas (`items` is
/// either, depending on the dialect), or a map of named subschemas.
/// Everything else (`const`, `default`, `enum`, vendor keywords) is data.
const SINGLE_SUBSCHEMA: &str = "items additionalItems additionalProperties unevaluatedItems \
    unevaluatedProperties contains propertyNames not if then else contentSchema";
const SUBSCHEMA_ARRAY: &str = "allOf anyOf oneOf prefixItems items";
const SUBSCHEMA_MAP: &str = "$defs definitions patternProperties dependentSchemas dependencies";

fn listed(list: &str, keyword: &str) -> bool {
    list.split_whitespace().any(|k| k == keyword)
}

/// JSON type of an annotated parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParamKind {
    /// `"type": "string"`; mirrored as-is.
    String,
    /// `"type": "integer"`; mirrored in decimal, within ±(2^53 - 1).
    Integer,
    /// `"type": "boolean"`; mirrored as `true` or `false`.
    Boolean,
}

/// One validated `x-mcp-header` annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamHeader {
    /// The header suffix after `Mcp-Param-`, exactly as the schema wrote it.
    pub name: String,
    /// Property names from the schema root through nested `properties`.
    pub path: Vec<String>,
    /// The declared type of the property.
    pub kind: ParamKind,
}

/// Why an input schema's annotations or an argument value were rejected.
///
/// `pointer` fields are JSON Pointers (RFC 6901) into the input schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamHeaderError {
    /// The input schema is not a JSON object.
    #[error("input schema is not a JSON object")]
    RootNotObject,
    /// An annotation sits somewhere other than a property reached purely
    /// through `properties` keywords (including on the root itself).
    #[error("x-mcp-header at {pointer:?} is not statically reachable through `properties`")]
    NotStaticallyReachable {
        /// Location of the annotated schema.
        pointer: String,
    },
    /// The annotation's value is not a JSON string.
    #[error("x-mcp-header at {pointer:?} is not a string")]
    AnnotationNotString {
        /// Location of the annotated schema.
        pointer: String,
    },
    /// The annotation's value is the empty string.
    #[error("x-mcp-header at {pointer:?} is empty")]
    EmptyName {
        /// Location of the annotated schema.
        pointer: String,
    },
    /// The annotation's value has a character outside RFC 9110 `tchar`.
    #[error("x-mcp-header at {pointer:?} contains {character:?} at byte offset {offset}")]
    InvalidNameCharacter {
        /// Location of the annotated schema.
        pointer: String,
        /// Byte offset of the character in the header name.
        offset: usize,
        /// The offending character.
        character: char,
    },
    /// Two annotations differ only in letter case (or not at all).
    #[error("x-mcp-header {name:?} at {pointer:?} duplicates an earlier one")]
    DuplicateName {
        /// The later of the two names.
        name: String,
        /// Location of the later annotation.
        pointer: String,
    },
    /// The annotated schema has no `type` keyword.
    #[error("x-mcp-header at {pointer:?} is on a schema without `type`")]
    MissingType {
        /// Location of the annotated schema.
        pointer: String,
    },
    /// The annotated schema's `type` is not string, integer or boolean.
    #[error("x-mcp-header at {pointer:?} is on a schema of type {found}")]
    UnsupportedType {
        /// Location of the annotated schema.
        pointer: String,
        /// The `type` value found.
        found: Value,
    },
    /// The schema nests deeper than [`MAX_SCHEMA_DEPTH`].
    #[error("input schema nests deeper than {limit} levels at {pointer:?}")]
    SchemaTooDeep {
        /// Location of the first schema beyond the limit.
        pointer: String,
        /// The depth limit.
        limit: usize,
    },
    /// The schema has more than [`MAX_PARAM_HEADERS`] annotations.
    #[error("input schema has more than {limit} x-mcp-header annotations")]
    TooManyHeaders {
        /// The header count limit.
        limit: usize,
    },
    /// An argument has a JSON type other than the declared one.
    #[error("argument for header {name:?} is not of type {expected:?}")]
    ArgumentTypeMismatch {
        /// The header name of the parameter.
        name: String,
        /// The declared kind.
        expected: ParamKind,
    },
    /// An integer argument lies outside ±(2^53 - 1).
    #[error("integer argument for header {name:?} is outside ±(2^53 - 1)")]
    IntegerOutOfRange {
        /// The header name of the parameter.
        name: String,
    },
}

/// RFC 9110 `tchar`; excludes every control character by construction.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Reads `type`, accepting one primitive type optionally unioned with
/// `"null"`, since a null argument simply omits the header.
fn param_kind(schema: &Map<String, Value>, pointer: &str) -> Result<ParamKind, ParamHeaderError> {
    let kind_of = |t: &str| match t {
        "string" => Some(ParamKind::String),
        "integer" => Some(ParamKind::Integer),
        "boolean" => Some(ParamKind::Boolean),
        _ => None,
    };
    let found = schema.get("type").ok_or(ParamHeaderError::MissingType { pointer: pointer.to_owned() })?;
    let kind = match found {
        Value::String(t) => kind_of(t),
        Value::Array(types) => match types.as_slice() {
            [Value::String(t)] => kind_of(t),
            [Value::String(a), Value::String(b)] if b == "null" => kind_of(a),
            [Value::String(a), Value::String(b)] if a == "null" => kind_of(b),
            _ => None,
        },
        _ => None,
    };
    kind.ok_or_else(|| ParamHeaderError::UnsupportedType { pointer: pointer.to_owned(), found: found.clone() })
}

/// Depth-first walk that tracks whether the current schema is still on a
/// pure `properties` chain.
#[derive(Default)]
struct Walker {
    headers: Vec<ParamHeader>,
    pointer: String,
    path: Vec<String>,
}

impl Walker {
    fn walk(&mut self, schema: &Value, depth: usize, reachable: bool) -> Result<(), ParamHeaderError> {
        // Boolean schemas and malformed entries cannot carry annotations.
        let Value::Object(map) = schema else {
            return Ok(());
        };
        if depth > MAX_SCHEMA_DEPTH {
            return Err(ParamHeaderError::SchemaTooDeep { pointer: self.pointer.clone(), limit: MAX_SCHEMA_DEPTH });
        }
        if let Some(annotation) = map.get(ANNOTATION_KEYWORD) {
            self.record(map, annotation, reachable)?;
        }
        for (keyword, value) in map {
            let keyword = keyword.as_str();
            if keyword == "properties" {
                if let Value::Object(props) = value {
                    for (name, sub) in props {
                        self.path.push(name.clone());
                        self.descend(&[keyword, name], sub, depth, reachable)?;
                        self.path.pop();
                    }
                }
                continue;
            }
            match value {
                Value::Array(subs) if listed(SUBSCHEMA_ARRAY, keyword) => {
                    for (i, sub) in subs.iter().enumerate() {
                        self.descend(&[keyword, &i.to_string()], sub, depth, false)?;
                    }
                }
                Value::Object(subs) if listed(SUBSCHEMA_MAP, keyword) => {
                    for (name, sub) in subs {
                        self.descend(&[keyword, name], sub, depth, false)?;
                    }
                }
                _ if listed(SINGLE_SUBSCHEMA, keyword) => {
                    self.descend(&[keyword], value, depth, false)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn descend(
        &mut self,
        segments: &[&str],
        sub: &Value,
        depth: usize,
        reachable: bool,
    ) -> Result<(), ParamHeaderError> {
        let saved = self.pointer.len();
        for segment in segments {
            self.pointer.push('/');
            self.pointer.push_str(&segment.replace('~', "~0").replace('/', "~1"));
        }
        let result = self.walk(sub, depth + 1, reachable);
        self.pointer.truncate(saved);
        result
    }

    fn record(
        &mut self,
        schema: &Map<String, Value>,
        annotation: &Value,
        reachable: bool,
    ) -> Result<(), ParamHeaderError> {
        let pointer = || self.pointer.clone();
        // The root is the arguments object itself, not a parameter.
        if !reachable || self.path.is_empty() {
            return Err(ParamHeaderError::NotStaticallyReachable { pointer: pointer() });
        }
        let Value::String(name) = annotation else {
            return Err(ParamHeaderError::AnnotationNotString { pointer: pointer() });
        };
        if name.is_empty() {
            return Err(ParamHeaderError::EmptyName { pointer: pointer() });
        }
        if let Some((offset, character)) = name.char_indices().find(|&(_, c)| !is_tchar(c)) {
            return Err(ParamHeaderError::InvalidNameCharacter { pointer: pointer(), offset, character });
        }
        let kind = param_kind(schema, &self.pointer)?;
        if self.headers.iter().any(|h| h.name.eq_ignore_ascii_case(name)) {
            return Err(ParamHeaderError::DuplicateName { name: name.clone(), pointer: pointer() });
        }
        if self.headers.len() >= MAX_PARAM_HEADERS {
            return Err(ParamHeaderError::TooManyHeaders { limit: MAX_PARAM_HEADERS });
        }
        self.headers.push(ParamHeader { name: name.clone(), path: self.path.clone(), kind });
        Ok(())
    }
}

/// Extracts and validates every `x-mcp-header` annotation of a tool's
/// `inputSchema`.
///
/// Any violation of the specification's constraints is an error, which per
/// the specification makes the whole tool definition invalid (HTTP clients
/// MUST then drop the tool from `tools/list`). The result is ordered by
/// schema traversal; a schema without annotations yields an empty vector.
pub fn extract_param_headers(input_schema: &Value) -> Result<Vec<ParamHeader>, ParamHeaderError> {
    if !input_schema.is_object() {
        return Err(ParamHeaderError::RootNotObject);
    }
    let mut walker = Walker::default();
    walker.walk(input_schema, 0, true)?;
    Ok(walker.headers)
}

/// Parses an integer header value numerically: optional sign, leading
/// zeros and an all-zero fraction are accepted (`"+007.00"` is 7).
fn parse_integer(text: &str) -> Option<i64> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (int_part, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int_part) || !digits(fraction) || fraction.bytes().any(|b| b != b'0') {
        return None;
    }
    let magnitude: i64 = match int_part.trim_start_matches('0') {
        "" => 0,
        m => m.parse().ok()?,
    };
    Some(if text.starts_with('-') { -magnitude } else { magnitude })
}

impl ParamHeader {
    /// The full header name, `Mcp-Param-{name}`.
    pub fn header_name(&self) -> String {
        format!("{PARAM_HEADER_PREFIX}{}", self.name)
    }

    /// The header value for a call's `arguments`, before header encoding.
    ///
    /// Strings are returned as-is, integers in decimal, booleans as `true` or
    /// `false`. `None` means the header must be omitted: the value is absent,
    /// `null`, or the path runs through something that is not an object.
    /// Pass the result through `header::encode_header_value` before sending.
    pub fn value_from_arguments(&self, arguments: &Value) -> Result<Option<String>, ParamHeaderError> {
        let mut current = arguments;
        for key in &self.path {
            match current.get(key) {
                Some(next) => current = next,
                None => return Ok(None),
            }
        }
        let mismatch = || ParamHeaderError::ArgumentTypeMismatch { name: self.name.clone(), expected: self.kind };
        match (self.kind, current) {
            (_, Value::Null) => Ok(None),
            (ParamKind::String, Value::String(s)) => Ok(Some(s.clone())),
            (ParamKind::Boolean, Value::Bool(b)) => Ok(Some(b.to_string())),
            (ParamKind::Integer, Value::Number(n)) => {
                // JSON Schema counts 42.0 as an integer; f64 is exact to 2^53.
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.is_nan() || f.fract() != 0.0 {
                    return Err(mismatch());
                }
                let small_float = (f.abs() <= MAX_SAFE_INTEGER as f64).then_some(f as i64);
                match n.as_i64().or(small_float) {
                    Some(i) if i.unsigned_abs() <= MAX_SAFE_INTEGER.unsigned_abs() => Ok(Some(i.to_string())),
                    _ => Err(ParamHeaderError::IntegerOutOfRange { name: self.name.clone() }),
                }
            }
            _ => Err(mismatch()),
        }
    }

    /// Server-side check that a received, already decoded header value
    /// matches the body.
    ///
    /// False when the body has no valid value for the parameter. Integers
    /// compare numerically (`"007"` and `"42.0"` match 7 and 42); exponent
    /// notation is not accepted. A header that is missing while
    /// [`value_from_arguments`](Self::value_from_arguments) yields `Some` is
    /// also a mismatch; detecting that is up to the caller.
    pub fn matches(&self, decoded_header_value: &str, arguments: &Value) -> bool {
        let Ok(Some(expected)) = self.value_from_arguments(arguments) else {
            return false;
        };
        match self.kind {
            ParamKind::Integer => parse_integer(decoded_header_value).map(|i| i.to_string()) == Some(expected),
            ParamKind::String | ParamKind::Boolean => decoded_header_value == expected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ParamHeaderError::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn header(name: &str, path: &[&str], kind: ParamKind) -> ParamHeader {
        let path = path.iter().map(|s| s.to_string()).collect();
        let name = name.into();
        ParamHeader { name, path, kind }
    }

    /// Extracts from a schema whose only property `p` is `prop`.
    fn extract_one(prop: Value) -> Result<Vec<ParamHeader>, ParamHeaderError> {
        extract_param_headers(&json!({"type": "object", "properties": {"p": prop}}))
    }

    fn p() -> String {
        "/properties/p".into()
    }

    #[test]
    fn spec_example_extracts_region() {
        let schema = json!({"type": "object", "properties": {
            "region": {"type": "string", "description": "d", "x-mcp-header": "Region"},
            "query": {"type": "string"}}, "required": ["region", "query"]});
        let region = header("Region", &["region"], ParamKind::String);
        assert_eq!(extract_param_headers(&schema), Ok(vec![region.clone()]));
        assert_eq!(region.header_name(), "Mcp-Param-Region");
        let args = json!({"region": "us-west1", "query": "SELECT 1"});
        let value = region.value_from_arguments(&args);
        assert_eq!(value, Ok(Some("us-west1".into())));
        assert!(region.matches("us-west1", &args) && !region.matches("US-WEST1", &args));
    }

    #[test]
    fn nested_properties_chain_is_allowed() {
        let schema = json!({"properties": {"t": {"type": "object", "properties": {
            "tenant": {"type": ["integer", "null"], "x-mcp-header": "Tenant"}}}}});
        let tenant = header("Tenant", &["t", "tenant"], ParamKind::Integer);
        assert_eq!(extract_param_headers(&schema), Ok(vec![tenant.clone()]));
        let args = json!({"t": {"tenant": 7}});
        assert_eq!(tenant.value_from_arguments(&args), Ok(Some("7".into())));
        let absent = json!([{}, {"t": null}, {"t": {"tenant": null}}, {"t": 3}, null]);
        for args in absent.as_array().into_iter().flatten() {
            assert_eq!(tenant.value_from_arguments(args), Ok(None), "{args}");
            assert!(!tenant.matches("7", args), "{args}");
        }
    }

    #[test]
    fn annotations_off_the_properties_chain_are_rejected() {
        let ann = json!({"type": "string", "x-mcp-header": "X"});
        let nested = json!({"properties": {"a~": {"items": {"properties": {"b": ann}}}}});
        let mut cases = vec![
            (nested, "/properties/a~0/items/properties/b".to_string()),
            (json!({"$defs": {"a/b": ann}}), "/$defs/a~1b".into()),
            (json!({"type": "object", "x-mcp-header": "Root"}), String::new()),
        ];
        for kw in SINGLE_SUBSCHEMA.split_whitespace() {
            cases.push((json!({ kw: ann }), format!("/{kw}")));
        }
        for kw in SUBSCHEMA_ARRAY.split_whitespace() {
            cases.push((json!({ kw: [true, ann] }), format!("/{kw}/1")));
        }
        for kw in SUBSCHEMA_MAP.split_whitespace() {
            cases.push((json!({ kw: {"k": ann} }), format!("/{kw}/k")));
        }
        assert_eq!(cases.len(), 25);
        for (schema, pointer) in cases {
            let expected = NotStaticallyReachable { pointer };
            assert_eq!(extract_param_headers(&schema), Err(expected), "{schema}");
        }
    }

    #[test]
    fn annotation_lookalikes_in_data_are_ignored() {
        let schema = json!({"properties": {"x-mcp-header": {"type": "string",
            "default": {"x-mcp-header": "D"}, "const": {"x-mcp-header": "C"},
            "x-vendor": {"x-mcp-header": "V"}}}, "required": ["x-mcp-header"]});
        assert_eq!(extract_param_headers(&schema), Ok(vec![]));
    }

    #[test]
    fn name_constraints() {
        let with = |name: Value| extract_one(json!({"type": "string", "x-mcp-header": name}));
        assert_eq!(with(json!("!#$%&'*+-.^_`|~09azAZ")).map(|h| h.len()), Ok(1));
        assert_eq!(with(json!("")), Err(EmptyName { pointer: p() }));
        assert_eq!(with(json!(7)), Err(AnnotationNotString { pointer: p() }));
        let bad = [("a b", 1, ' '), ("a\r\n", 1, '\r'), ("\0", 0, '\0'), ("a:b", 1, ':')];
        let more = [("Région", 1, 'é'), ("a(b)", 1, '('), ("\"q\"", 0, '"')];
        for (name, offset, character) in bad.into_iter().chain(more) {
            let error = InvalidNameCharacter { pointer: p(), offset, character };
            assert_eq!(with(json!(name)), Err(error));
        }
        let schema = json!({"properties": {"a": {"type": "string", "x-mcp-header": "Region"},
            "b": {"type": "boolean", "x-mcp-header": "REGION"}}});
        let (name, pointer) = ("REGION".into(), "/properties/b".into());
        assert_eq!(extract_param_headers(&schema), Err(DuplicateName { name, pointer }));
    }

    #[test]
    fn only_primitive_types_are_allowed() {
        let kind = |t: &Value| extract_one(json!({"type": t, "x-mcp-header": "H"}));
        let kind = |t: &Value| kind(t).map(|h| h[0].kind);
        assert_eq!(kind(&json!("boolean")), Ok(ParamKind::Boolean));
        assert_eq!(kind(&json!(["string"])), Ok(ParamKind::String));
        assert_eq!(kind(&json!(["null", "integer"])), Ok(ParamKind::Integer));
        let bad = json!([
            "number",
            "object",
            "array",
            "null",
            ["null"],
            ["string", "integer"],
            ["string", "null", "null"],
            1
        ]);
        for found in bad.as_array().into_iter().flatten() {
            let error = UnsupportedType { pointer: p(), found: found.clone() };
            assert_eq!(kind(found), Err(error));
        }
        let untyped = extract_one(json!({"$ref": "#/$defs/R", "x-mcp-header": "H"}));
        assert_eq!(untyped, Err(MissingType { pointer: p() }));
    }

    #[test]
    fn work_is_bounded() {
        let nested = |levels: usize| {
            let mut schema = json!({"type": "string", "x-mcp-header": "Deep"});
            for _ in 0..levels {
                schema = json!({"type": "object", "properties": {"n": schema}});
            }
            extract_param_headers(&schema).map(|h| h[0].path.len())
        };
        assert_eq!(nested(MAX_SCHEMA_DEPTH), Ok(MAX_SCHEMA_DEPTH));
        let too_deep = nested(MAX_SCHEMA_DEPTH + 1);
        assert!(matches!(too_deep, Err(SchemaTooDeep { limit: 32, .. })));
        let many = |n: usize| {
            let prop = |i| json!({"type": "string", "x-mcp-header": format!("H{i}")});
            let props: Map<String, Value> = (0..n).map(|i| (format!("p{i}"), prop(i))).collect();
            extract_param_headers(&json!({"properties": props})).map(|h| h.len())
        };
        let limit = MAX_PARAM_HEADERS;
        assert_eq!(many(limit), Ok(limit));
        assert_eq!(many(limit + 1), Err(TooManyHeaders { limit }));
        assert_eq!(extract_param_headers(&json!(true)), Err(RootNotObject));
    }

    #[test]
    fn value_conversion() {
        let val = |kind, v| header("N", &["n"], kind).value_from_arguments(&json!({"n": v}));
        let int = |v| val(ParamKind::Integer, v);
        let some = |s: &str| Ok(Some(s.to_string()));
        assert_eq!(int(json!(-7)), some("-7"));
        assert_eq!(int(json!(42.0)), some("42"));
        assert_eq!(int(json!(-0.0)), some("0"));
        assert_eq!(int(json!(-MAX_SAFE_INTEGER)), some("-9007199254740991"));
        let max = MAX_SAFE_INTEGER;
        for v in [json!(max + 1), json!(-max - 1), json!(u64::MAX), json!(1e300), json!(i64::MIN), json!(-1e300)] {
            assert_eq!(int(v), Err(IntegerOutOfRange { name: "N".into() }));
        }
        let mismatch = |expected| Err(ArgumentTypeMismatch { name: "N".into(), expected });
        assert_eq!(int(json!(1.5)), mismatch(ParamKind::Integer));
        assert_eq!(int(json!("7")), mismatch(ParamKind::Integer));
        assert_eq!(val(ParamKind::Boolean, json!(false)), some("false"));
        assert_eq!(val(ParamKind::Boolean, json!("true")), mismatch(ParamKind::Boolean));
        assert_eq!(val(ParamKind::String, json!(" é\n")), some(" é\n"));
        assert_eq!(val(ParamKind::String, json!(["a"])), mismatch(ParamKind::String));
    }

    #[test]
    fn headers_compare_to_body() {
        let int = header("N", &["n"], ParamKind::Integer);
        let seven = json!({"n": 7});
        for text in ["7", "007", "+7", "7.0", "07.000"] {
            assert!(int.matches(text, &seven), "{text}");
        }
        assert!(int.matches("-0", &json!({"n": 0})) && int.matches("-42", &json!({"n": -42})));
        let bad = "7.5 7e0 - + 7. .7 8 -7 0x7 7.0.0 --7 +-7 99999999999999999999";
        for text in bad.split(' ').chain(["", " 7"]) {
            assert!(!int.matches(text, &seven), "{text}");
        }
        let boolean = header("N", &["n"], ParamKind::Boolean);
        assert!(boolean.matches("true", &json!({"n": true})));
        assert!(!boolean.matches("True", &json!({"n": true})));
        assert!(!boolean.matches("true", &json!({"n": "true"})));
    }

    fn schema_like() -> impl Strategy<Value = Value> {
        let words = "x-mcp-header properties items type anyOf $defs a B";
        let key = proptest::sample::select(words.split(' ').collect::<Vec<_>>());
        let texts = "string integer boolean number H h".split(' ').chain([""]);
        let text = proptest::sample::select(texts.collect::<Vec<_>>());
        let leaf = prop_oneof![Just(Value::Null), text.prop_map(Value::from)];
        leaf.prop_recursive(8, 128, 6, move |inner| {
            let map = proptest::collection::btree_map(key.clone(), inner.clone(), 0..6);
            let map = map.prop_map(|m| m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
            prop_oneof![proptest::collection::vec(inner, 0..4).prop_map(Value::Array), map]
        })
    }

    proptest! {
        #[test]
        fn extraction_results_respect_the_rules(schema in schema_like()) {
            if let Ok(headers) = extract_param_headers(&schema) {
                prop_assert!(headers.len() <= MAX_PARAM_HEADERS);
                for (i, h) in headers.iter().enumerate() {
                    prop_assert!(!h.name.is_empty() && h.name.chars().all(is_tchar));
                    prop_assert!(!h.path.is_empty());
                    let unique = headers[..i].iter().all(|o| !o.name.eq_ignore_ascii_case(&h.name));
                    prop_assert!(unique);
                }
            }
        }

        #[test]
        fn converted_values_match_themselves(n in -MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER,
            s in any::<String>(), b in any::<bool>()) {
            let args = json!({"i": n, "s": s, "b": b});
            let kinds = [("i", ParamKind::Integer), ("s", ParamKind::String), ("b", ParamKind::Boolean)];
            for (key, kind) in kinds {
                let h = header("H", &[key], kind);
                let value = h.value_from_arguments(&args);
                prop_assert!(matches!(&value, Ok(Some(v)) if h.matches(v, &args)), "{:?}", value);
            }
            let sign = if n < 0 { "-" } else { "+" };
            let padded = format!("{sign}{:0>3}.00", n.unsigned_abs());
            prop_assert!(header("H", &["i"], ParamKind::Integer).matches(&padded, &args));
        }
    }
}
