//! The official `schema.json` of each revision, and one compiled validator per definition.
//!
//! Each document is registered (offline) under a made-up base URI and a validator is compiled
//! for `{"$ref": "<base>#/<definitions|$defs>/<Name>"}` with the document's own draft: draft-07
//! for 2025-03-26 and 2025-06-18, 2020-12 for 2025-11-25 and 2026-07-28. Validators are cached.
//!
//! `format`: jsonschema asserts formats by default only for drafts 4, 6 and 7 (so for the two
//! draft-07 revisions) and treats them as annotations under 2020-12. We turn assertion on for
//! every revision, and add the `byte` (base64) format the schemas use, which jsonschema does not
//! know; `uri` and `uri-template` are jsonschema's own checks.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use base64::Engine as _;
use jsonschema::{Draft, Registry, Validator};
use mocopr_core::ProtocolVersion;
use serde_json::{Value, json};

/// One revision's schema document and the validators compiled from it so far.
struct Revision {
    document: Value,
    registry: Registry<'static>,
    draft: Draft,
    base: String,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

static REVISIONS: LazyLock<Vec<(ProtocolVersion, Revision)>> =
    LazyLock::new(|| ProtocolVersion::ALL.into_iter().map(|version| (version, load(version))).collect());

fn load(version: ProtocolVersion) -> Revision {
    let path = super::spec_dir().join(version.as_str()).join("schema.json");
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let document: Value = serde_json::from_slice(&text).expect("schema.json is JSON");
    let draft = match document["$schema"].as_str() {
        Some("http://json-schema.org/draft-07/schema#") => Draft::Draft7,
        Some("https://json-schema.org/draft/2020-12/schema") => Draft::Draft202012,
        other => panic!("{version}: unexpected $schema {other:?}"),
    };
    let base = format!("https://mocopr.test/spec/{version}/schema.json");
    let registry = Registry::new()
        .add(&base, document.clone())
        .and_then(|builder| builder.prepare())
        .unwrap_or_else(|e| panic!("{version}: registry: {e}"));
    Revision { document, registry, draft, base, validators: Mutex::new(HashMap::new()) }
}

fn revision(version: ProtocolVersion) -> &'static Revision {
    REVISIONS.iter().find(|(v, _)| *v == version).map(|(_, r)| r).expect("every supported revision has a schema")
}

/// `definitions` (draft-07) or `$defs` (2020-12).
fn defs_key(draft: Draft) -> &'static str {
    if draft == Draft::Draft7 { "definitions" } else { "$defs" }
}

/// The definitions of `version`'s schema, by name.
pub fn definitions(version: ProtocolVersion) -> &'static serde_json::Map<String, Value> {
    let rev = revision(version);
    rev.document[defs_key(rev.draft)].as_object().expect("a definitions object")
}

/// Whether `version`'s schema defines `name`.
pub fn has_definition(version: ProtocolVersion, name: &str) -> bool {
    definitions(version).contains_key(name)
}

/// The `format: byte` check: standard base64 with padding.
fn is_base64(s: &str) -> bool {
    base64::engine::general_purpose::STANDARD.decode(s).is_ok()
}

/// The validator for definition `name` of `version`, compiled on first use.
pub fn validator(version: ProtocolVersion, name: &str) -> Arc<Validator> {
    let rev = revision(version);
    let mut cache = rev.validators.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(v) = cache.get(name) {
        return Arc::clone(v);
    }
    assert!(has_definition(version, name), "{version}: schema has no definition `{name}`");
    let root = json!({ "$ref": format!("{}#/{}/{name}", rev.base, defs_key(rev.draft)) });
    let compiled = jsonschema::options()
        .with_draft(rev.draft)
        .with_registry(&rev.registry)
        .should_validate_formats(true)
        .with_format("byte", is_base64)
        .build(&root)
        .unwrap_or_else(|e| panic!("{version}: cannot compile `{name}`: {e}"));
    let compiled = Arc::new(compiled);
    cache.insert(name.to_owned(), Arc::clone(&compiled));
    compiled
}

/// Validates `instance` against definition `name` of `version`: `Err` lists every violation
/// with its location in the instance.
pub fn check(version: ProtocolVersion, name: &str, instance: &Value) -> Result<(), String> {
    let validator = validator(version, name);
    let errors: Vec<String> =
        validator.iter_errors(instance).map(|e| format!("  at `{}`: {e}", e.instance_path())).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{version} `{name}` rejects {instance}\n{}", errors.join("\n")))
    }
}

/// The members of a union definition (`ClientRequest`, `ServerResult`, ...), read from the
/// schema: the `$ref`s of its `anyOf`, the target of a plain `$ref`, or, for a union the
/// generator collapsed to its single member's body (2026-07-28 `ClientNotification`), the
/// definitions with that same body.
pub fn union_members(version: ProtocolVersion, union: &str) -> Vec<String> {
    let defs = definitions(version);
    let Some(body) = defs.get(union) else {
        return Vec::new();
    };
    let target =
        |r: &Value| r.get("$ref").and_then(Value::as_str).and_then(|s| s.rsplit('/').next()).map(str::to_owned);
    if let Some(list) = body.get("anyOf").and_then(Value::as_array) {
        return list.iter().map(|r| target(r).unwrap_or_else(|| panic!("{version} {union}: inline member"))).collect();
    }
    if let Some(name) = target(body) {
        return vec![name];
    }
    let without_description = |v: &Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("description");
        }
        v
    };
    let wanted = without_description(body);
    let same: Vec<String> = defs
        .iter()
        .filter(|(name, def)| *name != union && without_description(def) == wanted)
        .map(|(name, _)| name.clone())
        .collect();
    assert!(!same.is_empty(), "{version} {union}: neither a union nor a copy of a definition");
    same
}

/// The definition `name` is a bare alias of (`EmptyResult` is `{"$ref": "…/Result"}`).
pub fn alias_target(version: ProtocolVersion, name: &str) -> Option<String> {
    let def = definitions(version).get(name)?.as_object()?;
    let only_ref = def.keys().all(|k| k == "$ref" || k == "description");
    def.get("$ref").and_then(Value::as_str).filter(|_| only_ref).and_then(|s| s.rsplit('/').next()).map(str::to_owned)
}
