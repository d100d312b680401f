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

use serde_json::{Map, Number, Value};

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

/// Keywords whose value is one subschema.
const SINGLE_SUBSCHEMA: &[&str] = &[
    "items",
    "additionalItems",
    "additionalProperties",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
    "contentSchema",
];

/// Keywords whose value is an array of subschemas (`items` in draft 4-7).
const SUBSCHEMA_ARRAY: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems", "items"];

/// Keywords whose value maps names to subschemas.
const SUBSCHEMA_MAP: &[&str] = &[
    "$defs",
    "definitions",
    "patternProperties",
    "dependentSchemas",
    "dependencies",
];

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
    let found = schema.get("type").ok_or(ParamHeaderError::MissingType {
        pointer: pointer.to_owned(),
    })?;
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
    kind.ok_or_else(|| ParamHeaderError::UnsupportedType {
        pointer: pointer.to_owned(),
        found: found.clone(),
    })
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
            return Err(ParamHeaderError::SchemaTooDeep {
                pointer: self.pointer.clone(),
                limit: MAX_SCHEMA_DEPTH,
            });
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
                Value::Array(subs) if SUBSCHEMA_ARRAY.contains(&keyword) => {
                    for (i, sub) in subs.iter().enumerate() {
                        self.descend(&[keyword, &i.to_string()], sub, depth, false)?;
                    }
                }
                Value::Object(subs) if SUBSCHEMA_MAP.contains(&keyword) => {
                    for (name, sub) in subs {
                        self.descend(&[keyword, name], sub, depth, false)?;
                    }
                }
                _ if SINGLE_SUBSCHEMA.contains(&keyword) => {
                    self.descend(&[keyword], value, depth, false)?;
                }
                // Other keywords (const, default, enum, examples, unknown
                // vendor keywords) hold data, not schemas.
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
            self.pointer
                .push_str(&segment.replace('~', "~0").replace('/', "~1"));
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
            return Err(ParamHeaderError::InvalidNameCharacter {
                pointer: pointer(),
                offset,
                character,
            });
        }
        let kind = param_kind(schema, &self.pointer)?;
        if self.headers.iter().any(|h| h.name.eq_ignore_ascii_case(name)) {
            return Err(ParamHeaderError::DuplicateName {
                name: name.clone(),
                pointer: pointer(),
            });
        }
        if self.headers.len() >= MAX_PARAM_HEADERS {
            return Err(ParamHeaderError::TooManyHeaders {
                limit: MAX_PARAM_HEADERS,
            });
        }
        self.headers.push(ParamHeader {
            name: name.clone(),
            path: self.path.clone(),
            kind,
        });
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

/// Why a JSON number cannot be mirrored as an integer parameter.
enum IntegerProblem {
    NotAnInteger,
    OutOfRange,
}

/// Interprets a JSON number as a safe integer.
fn safe_integer(n: &Number) -> Result<i64, IntegerProblem> {
    if let Some(i) = n.as_i64() {
        return if i.abs() <= MAX_SAFE_INTEGER {
            Ok(i)
        } else {
            Err(IntegerProblem::OutOfRange)
        };
    }
    if n.is_u64() {
        return Err(IntegerProblem::OutOfRange);
    }
    // JSON Schema counts 42.0 as an integer.
    let f = n.as_f64().unwrap_or(f64::NAN);
    if f.is_nan() || f.fract() != 0.0 {
        Err(IntegerProblem::NotAnInteger)
    } else if f.abs() <= MAX_SAFE_INTEGER as f64 {
        Ok(f as i64)
    } else {
        Err(IntegerProblem::OutOfRange)
    }
}

/// Canonical decimal form of an integer header value, accepting an optional
/// sign, leading zeros and an all-zero fraction (`"+007.00"` is `"7"`).
fn canonical_integer(text: &str) -> Option<String> {
    let (negative, unsigned) = match (text.strip_prefix('-'), text.strip_prefix('+')) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => (false, text),
    };
    let (int_part, fraction) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let digits_only = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits_only(int_part) || fraction.is_some_and(|f| !digits_only(f) || f.contains(|c| c != '0')) {
        return None;
    }
    let magnitude = match int_part.trim_start_matches('0') {
        "" => "0",
        m => m,
    };
    Some(if negative && magnitude != "0" {
        format!("-{magnitude}")
    } else {
        magnitude.to_owned()
    })
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
        let mismatch = || ParamHeaderError::ArgumentTypeMismatch {
            name: self.name.clone(),
            expected: self.kind,
        };
        match (self.kind, current) {
            (_, Value::Null) => Ok(None),
            (ParamKind::String, Value::String(s)) => Ok(Some(s.clone())),
            (ParamKind::Boolean, Value::Bool(b)) => Ok(Some(b.to_string())),
            (ParamKind::Integer, Value::Number(n)) => match safe_integer(n) {
                Ok(i) => Ok(Some(i.to_string())),
                Err(IntegerProblem::OutOfRange) => Err(ParamHeaderError::IntegerOutOfRange {
                    name: self.name.clone(),
                }),
                Err(IntegerProblem::NotAnInteger) => Err(mismatch()),
            },
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
            ParamKind::Integer => canonical_integer(decoded_header_value).is_some_and(|v| v == expected),
            ParamKind::String | ParamKind::Boolean => decoded_header_value == expected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn header(name: &str, path: &[&str], kind: ParamKind) -> ParamHeader {
        let path = path.iter().map(|s| s.to_string()).collect();
        ParamHeader { name: name.into(), path, kind }
    }

    fn one_property(prop: Value) -> Value {
        json!({"type": "object", "properties": {"p": prop}})
    }

    #[test]
    fn spec_example_extracts_region() {
        let schema = json!({"type": "object", "properties": {
            "region": {"type": "string", "description": "d", "x-mcp-header": "Region"},
            "query": {"type": "string"}}, "required": ["region", "query"]});
        let headers = extract_param_headers(&schema);
        let region = header("Region", &["region"], ParamKind::String);
        assert_eq!(headers, Ok(vec![region.clone()]));
        assert_eq!(region.header_name(), "Mcp-Param-Region");
        let args = json!({"region": "us-west1", "query": "SELECT 1"});
        assert_eq!(region.value_from_arguments(&args), Ok(Some("us-west1".into())));
        assert!(region.matches("us-west1", &args));
        assert!(!region.matches("US-WEST1", &args));
    }

    #[test]
    fn nested_properties_chain_is_allowed() {
        let schema = json!({"properties": {"target": {"type": "object", "properties": {
            "tenant": {"type": ["integer", "null"], "x-mcp-header": "Tenant"}}}}});
        let tenant = header("Tenant", &["target", "tenant"], ParamKind::Integer);
        assert_eq!(extract_param_headers(&schema), Ok(vec![tenant.clone()]));
        let args = json!({"target": {"tenant": 7}});
        assert_eq!(tenant.value_from_arguments(&args), Ok(Some("7".into())));
        for (absent, why) in [(json!({}), "absent"), (json!({"target": null}), "null parent"),
            (json!({"target": {"tenant": null}}), "null"), (json!({"target": 3}), "scalar parent"),
            (Value::Null, "no arguments")] {
            assert_eq!(tenant.value_from_arguments(&absent), Ok(None), "{why}");
            assert!(!tenant.matches("7", &absent), "{why}");
        }
    }

    #[test]
    fn annotations_off_the_properties_chain_are_rejected() {
        let ann = json!({"type": "string", "x-mcp-header": "X"});
        let cases = [
            (json!({"items": ann}), "/items"),
            (json!({"items": [ann]}), "/items/0"),
            (json!({"prefixItems": [true, ann]}), "/prefixItems/1"),
            (json!({"oneOf": [ann]}), "/oneOf/0"),
            (json!({"anyOf": [ann]}), "/anyOf/0"),
            (json!({"allOf": [ann]}), "/allOf/0"),
            (json!({"not": ann}), "/not"),
            (json!({"if": ann}), "/if"),
            (json!({"then": ann}), "/then"),
            (json!({"else": ann}), "/else"),
            (json!({"$defs": {"a/b": ann}}), "/$defs/a~1b"),
            (json!({"definitions": {"d": ann}}), "/definitions/d"),
            (json!({"additionalProperties": ann}), "/additionalProperties"),
            (json!({"patternProperties": {"^x": ann}}), "/patternProperties/^x"),
            (json!({"dependentSchemas": {"a": ann}}), "/dependentSchemas/a"),
            (json!({"contains": ann}), "/contains"),
            (json!({"propertyNames": ann}), "/propertyNames"),
            (json!({"unevaluatedProperties": ann}), "/unevaluatedProperties"),
            (json!({"properties": {"a~": {"items": {"properties": {"b": ann}}}}}),
                "/properties/a~0/items/properties/b"),
            (json!({"type": "object", "x-mcp-header": "Root"}), ""),
        ];
        for (schema, pointer) in cases {
            let expected = ParamHeaderError::NotStaticallyReachable { pointer: pointer.into() };
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
        let with = |name: Value| extract_param_headers(&one_property(
            json!({"type": "string", "x-mcp-header": name})));
        let p = || "/properties/p".to_string();
        assert_eq!(with(json!("!#$%&'*+-.^_`|~09azAZ")).map(|h| h.len()), Ok(1));
        assert_eq!(with(json!("")), Err(ParamHeaderError::EmptyName { pointer: p() }));
        assert_eq!(with(json!(7)), Err(ParamHeaderError::AnnotationNotString { pointer: p() }));
        for (name, offset, character) in [("Re gion", 2, ' '), ("a\r\n", 1, '\r'), ("\0", 0, '\0'),
            ("a:b", 1, ':'), ("Région", 1, 'é'), ("a(b)", 1, '('), ("\"q\"", 0, '"')] {
            let expected = ParamHeaderError::InvalidNameCharacter { pointer: p(), offset, character };
            assert_eq!(with(json!(name)), Err(expected));
        }
    }

    #[test]
    fn names_are_case_insensitively_unique() {
        let schema = json!({"properties": {
            "a": {"type": "string", "x-mcp-header": "Region"},
            "b": {"type": "boolean", "x-mcp-header": "REGION"}}});
        let expected = ParamHeaderError::DuplicateName {
            name: "REGION".into(), pointer: "/properties/b".into() };
        assert_eq!(extract_param_headers(&schema), Err(expected));
    }

    #[test]
    fn only_primitive_types_are_allowed() {
        let kind = |t: Value| extract_param_headers(&one_property(
            json!({"type": t, "x-mcp-header": "H"}))).map(|h| h[0].kind);
        assert_eq!(kind(json!("boolean")), Ok(ParamKind::Boolean));
        assert_eq!(kind(json!(["string"])), Ok(ParamKind::String));
        assert_eq!(kind(json!(["null", "integer"])), Ok(ParamKind::Integer));
        for bad in [json!("number"), json!("object"), json!("array"), json!("null"), json!(["null"]),
            json!(["string", "integer"]), json!(["string", "null", "null"]), json!(1)] {
            let expected = ParamHeaderError::UnsupportedType {
                pointer: "/properties/p".into(), found: bad.clone() };
            assert_eq!(kind(bad), Err(expected));
        }
        let untyped = one_property(json!({"$ref": "#/$defs/R", "x-mcp-header": "H"}));
        assert_eq!(extract_param_headers(&untyped),
            Err(ParamHeaderError::MissingType { pointer: "/properties/p".into() }));
    }

    fn nested(levels: usize) -> Value {
        let mut schema = json!({"type": "string", "x-mcp-header": "Deep"});
        for _ in 0..levels {
            schema = json!({"type": "object", "properties": {"n": schema}});
        }
        schema
    }

    #[test]
    fn work_is_bounded() {
        assert_eq!(extract_param_headers(&nested(MAX_SCHEMA_DEPTH)).map(|h| h[0].path.len()),
            Ok(MAX_SCHEMA_DEPTH));
        let too_deep = extract_param_headers(&nested(MAX_SCHEMA_DEPTH + 1));
        assert!(matches!(too_deep, Err(ParamHeaderError::SchemaTooDeep { limit: 32, .. })));
        let many = |n: usize| {
            let props: Map<String, Value> = (0..n).map(|i| (format!("p{i}"),
                json!({"type": "string", "x-mcp-header": format!("H{i}")}))).collect();
            extract_param_headers(&json!({"properties": props})).map(|h| h.len())
        };
        assert_eq!(many(MAX_PARAM_HEADERS), Ok(MAX_PARAM_HEADERS));
        assert_eq!(many(MAX_PARAM_HEADERS + 1),
            Err(ParamHeaderError::TooManyHeaders { limit: MAX_PARAM_HEADERS }));
        assert_eq!(extract_param_headers(&json!(true)), Err(ParamHeaderError::RootNotObject));
    }

    #[test]
    fn value_conversion() {
        let int = header("N", &["n"], ParamKind::Integer);
        let val = |h: &ParamHeader, v: Value| h.value_from_arguments(&json!({"n": v}));
        assert_eq!(val(&int, json!(-7)), Ok(Some("-7".into())));
        assert_eq!(val(&int, json!(42.0)), Ok(Some("42".into())));
        assert_eq!(val(&int, json!(-0.0)), Ok(Some("0".into())));
        assert_eq!(val(&int, json!(MAX_SAFE_INTEGER)), Ok(Some("9007199254740991".into())));
        let out_of_range = Err(ParamHeaderError::IntegerOutOfRange { name: "N".into() });
        for big in [json!(MAX_SAFE_INTEGER + 1), json!(-MAX_SAFE_INTEGER - 1), json!(u64::MAX), json!(1e300)] {
            assert_eq!(val(&int, big), out_of_range);
        }
        let mismatch = |expected| Err(ParamHeaderError::ArgumentTypeMismatch { name: "N".into(), expected });
        assert_eq!(val(&int, json!(1.5)), mismatch(ParamKind::Integer));
        assert_eq!(val(&int, json!("7")), mismatch(ParamKind::Integer));
        let boolean = header("N", &["n"], ParamKind::Boolean);
        assert_eq!(val(&boolean, json!(false)), Ok(Some("false".into())));
        assert_eq!(val(&boolean, json!("true")), mismatch(ParamKind::Boolean));
        let string = header("N", &["n"], ParamKind::String);
        assert_eq!(val(&string, json!(" é\n")), Ok(Some(" é\n".into())));
        assert_eq!(val(&string, json!(["a"])), mismatch(ParamKind::String));
    }

    #[test]
    fn integers_compare_numerically() {
        let int = header("N", &["n"], ParamKind::Integer);
        let args = |n: i64| json!({"n": n});
        for text in ["7", "007", "+7", "7.0", "07.000"] {
            assert!(int.matches(text, &args(7)), "{text}");
        }
        assert!(int.matches("-0", &args(0)) && int.matches("-42", &args(-42)));
        for text in ["7.5", "7e0", "", "-", "7.", ".7", " 7", "8", "-7", "0x7", "7.0.0"] {
            assert!(!int.matches(text, &args(7)), "{text}");
        }
        let boolean = header("N", &["n"], ParamKind::Boolean);
        assert!(boolean.matches("true", &json!({"n": true})));
        assert!(!boolean.matches("True", &json!({"n": true})));
        assert!(!boolean.matches("true", &json!({"n": "true"})));
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let key = prop_oneof![Just("x-mcp-header"), Just("properties"), Just("items"),
            Just("type"), Just("anyOf"), Just("$defs"), Just("a"), Just("B")].prop_map(String::from);
        let leaf = prop_oneof![Just(Value::Null), any::<bool>().prop_map(Value::Bool),
            prop_oneof![Just("string"), Just("integer"), Just("boolean"), Just("number"),
                Just("H"), Just("h"), Just("")].prop_map(Value::from)];
        leaf.prop_recursive(8, 128, 6, move |inner| prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ])
    }

    proptest! {
        #[test]
        fn extraction_results_respect_the_rules(schema in json_value()) {
            if let Ok(headers) = extract_param_headers(&schema) {
                prop_assert!(headers.len() <= MAX_PARAM_HEADERS);
                for (i, h) in headers.iter().enumerate() {
                    prop_assert!(!h.name.is_empty() && h.name.chars().all(is_tchar));
                    prop_assert!(!h.path.is_empty());
                    prop_assert!(headers[..i].iter().all(|o| !o.name.eq_ignore_ascii_case(&h.name)));
                }
            }
        }

        #[test]
        fn converted_values_match_themselves(n in -MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER,
            s in any::<String>(), b in any::<bool>()) {
            let args = json!({"i": n, "s": s, "b": b});
            for (key, kind) in [("i", ParamKind::Integer), ("s", ParamKind::String), ("b", ParamKind::Boolean)] {
                let h = header("H", &[key], kind);
                let value = h.value_from_arguments(&args);
                prop_assert!(matches!(&value, Ok(Some(_))));
                if let Ok(Some(v)) = value {
                    prop_assert!(h.matches(&v, &args));
                }
            }
            prop_assert!(header("H", &["i"], ParamKind::Integer).matches(&format!("{n}.00"), &args));
        }
    }
}
