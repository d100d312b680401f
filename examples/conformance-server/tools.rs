//! The content tools of the conformance suites: text, image, audio, embedded resource, mixed
//! content, a tool error, logging, progress, a JSON Schema 2020-12 input schema, a parameter
//! mirrored into an `Mcp-Param-*` header, and the SSE polling probe. Every one works the same in
//! both eras.

use std::time::Duration;

use mocopr_core::types::{ContentBlock, LoggingLevel, ResourceContents, Tool};
use mocopr_server::{Args, HandlerError, McpServerBuilder, RequestCtx};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::media;

/// The text of `test_error_handling`'s error result.
const ERROR_TEXT: &str = "This tool intentionally returns an error for testing";

/// A tool definition: name, description and input schema (an object schema).
pub(crate) fn definition(name: &str, description: &str, schema: Value) -> Tool {
    let schema = match schema {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Tool::new(name).with_description(description).with_input_schema(schema)
}

/// The input schema of a tool without arguments.
pub(crate) fn no_arguments() -> Value {
    json!({ "type": "object", "properties": {} })
}

/// A block embedding the text resource `uri`.
pub(crate) fn embedded_text(uri: &str, mime_type: &str, text: impl Into<String>) -> ContentBlock {
    ContentBlock::embedded_resource(ResourceContents::text(uri, text).with_mime_type(mime_type))
}

pub(crate) fn register(builder: McpServerBuilder) -> McpServerBuilder {
    builder
        .tool(definition("test_simple_text", "Returns one text block.", no_arguments()), simple_text)
        .tool(definition("test_image_content", "Returns one PNG image block.", no_arguments()), image)
        .tool(definition("test_audio_content", "Returns one WAV audio block.", no_arguments()), audio)
        .tool(
            definition("test_embedded_resource", "Returns an embedded text resource.", no_arguments()),
            embedded_resource,
        )
        .tool(
            definition("test_multiple_content_types", "Returns text, an image and a resource.", no_arguments()),
            multiple_content_types,
        )
        .tool(definition("test_error_handling", "Always fails with a tool error (isError).", no_arguments()), error)
        .tool(
            definition("test_tool_with_logging", "Logs three info messages 50 ms apart.", no_arguments()),
            with_logging,
        )
        .tool(
            definition("test_tool_with_progress", "Reports progress 0, 50 and 100 of 100.", no_arguments()),
            with_progress,
        )
        .tool(
            definition(
                "json_schema_2020_12_tool",
                "Takes an input schema using JSON Schema 2020-12 keywords (SEP-1613).",
                json_schema_2020_12(),
            ),
            echo_arguments,
        )
        .tool(
            definition(
                "test_x_mcp_header",
                "Echoes `region`, which 2026-07-28 clients mirror into the Mcp-Param-Region header \
                 (SEP-2243); the server checks that header against the body.",
                json!({
                    "type": "object",
                    "properties": {
                        "region": { "type": "string", "description": "Any text", "x-mcp-header": "Region" }
                    },
                    "required": ["region"]
                }),
            ),
            x_mcp_header,
        )
}

async fn simple_text() -> Result<String, HandlerError> {
    Ok("This is a simple text response for testing.".to_owned())
}

async fn image() -> Result<Vec<ContentBlock>, HandlerError> {
    Ok(vec![ContentBlock::image(media::png_base64(), "image/png")])
}

async fn audio() -> ContentBlock {
    ContentBlock::audio(media::wav_base64(), "audio/wav")
}

async fn embedded_resource() -> ContentBlock {
    embedded_text("test://embedded-resource", "text/plain", "This is an embedded resource content.")
}

async fn multiple_content_types() -> Vec<ContentBlock> {
    vec![
        ContentBlock::text("Multiple content types test:"),
        ContentBlock::image(media::png_base64(), "image/png"),
        embedded_text(
            "test://mixed-content-resource",
            "application/json",
            json!({ "test": "data", "value": 123 }).to_string(),
        ),
    ]
}

async fn error() -> Result<String, HandlerError> {
    Err(HandlerError::new(ERROR_TEXT))
}

/// Three log messages: only sent when the client asked for `info` or more verbose (legacy:
/// `logging/setLevel`; modern: the request's `_meta` log level).
async fn with_logging(ctx: RequestCtx) -> Result<String, HandlerError> {
    let steps = ["Tool execution started", "Tool processing data", "Tool execution completed"];
    for (i, step) in steps.into_iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ctx.log(LoggingLevel::Info, Some("conformance-server"), Value::from(step)).await;
    }
    Ok("Tool with logging executed successfully".to_owned())
}

/// Progress 0, 50, 100 of 100, 50 ms apart: only sent when the request has a progress token.
async fn with_progress(ctx: RequestCtx) -> Result<String, HandlerError> {
    for (i, step) in [0u32, 50, 100].into_iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ctx.progress(f64::from(step), Some(100.0), Some(format!("Completed step {step} of 100"))).await;
    }
    Ok("Progress reported: 0, 50 and 100 of 100".to_owned())
}

/// The schema `json-schema-2020-12` expects verbatim in `tools/list`.
fn json_schema_2020_12() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": { "street": { "type": "string" }, "city": { "type": "string" } }
            }
        },
        "properties": {
            "name": { "type": "string" },
            "address": { "$ref": "#/$defs/address" },
            "contactMethod": { "type": "string", "enum": ["phone", "email"] },
            "phone": { "type": "string" },
            "email": { "type": "string" }
        },
        "allOf": [{ "anyOf": [{ "required": ["phone"] }, { "required": ["email"] }] }],
        "if": { "properties": { "contactMethod": { "const": "phone" } }, "required": ["contactMethod"] },
        "then": { "required": ["phone"] },
        "else": { "required": ["email"] },
        "additionalProperties": false
    })
}

/// The arguments are echoed as JSON, whatever they are.
async fn echo_arguments(Args(args): Args<Map<String, Value>>) -> Result<String, HandlerError> {
    Ok(format!("JSON Schema 2020-12 tool called with: {}", Value::Object(args)))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct RegionArgs {
    region: String,
}

async fn x_mcp_header(Args(args): Args<RegionArgs>) -> Result<String, HandlerError> {
    Ok(format!("Region: {}", args.region))
}
