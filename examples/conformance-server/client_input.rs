//! Tools that ask the client for input: `test_sampling`, `test_elicitation`, and the
//! elicitation schema checks of SEP-1034 (defaults) and SEP-1330 (enums); plus the helpers the
//! MRTR fixtures share. Through `RequestCtx` each works in both eras: a legacy session gets a
//! real `sampling/createMessage` or `elicitation/create` request on the call's stream, a
//! 2026-07-28 request gets an `InputRequiredResult` and is retried with the answer.

use std::collections::BTreeMap;

use mocopr_core::types::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult, InputResponse, OneOrMany,
    PrimitiveSchema, RequestedSchema, SamplingContent, SamplingMessage,
};
use mocopr_server::{Args, HandlerError, McpServerBuilder, RequestCtx};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::tools::{definition, no_arguments};

/// A form elicitation: `message` and a flat object schema of `properties`, written as the
/// conformance suite writes them: JSON Schema fragments (untyped JSON, decoded here once into
/// the typed form fields).
pub(crate) fn form(message: &str, properties: Value, required: &[&str]) -> Result<ElicitRequestParams, HandlerError> {
    let fields: BTreeMap<String, PrimitiveSchema> = serde_json::from_value(properties)?;
    let schema = fields.into_iter().fold(RequestedSchema::new(), |schema, (name, field)| {
        if required.contains(&name.as_str()) {
            schema.required_property(name, field)
        } else {
            schema.property(name, field)
        }
    });
    Ok(ElicitRequestParams::form(message, schema))
}

/// A sampling request of one user text message.
pub(crate) fn sampling(text: &str, max_tokens: u64) -> CreateMessageRequestParams {
    CreateMessageRequestParams::new(vec![SamplingMessage::user_text(text)], max_tokens)
}

/// `action=…, content={…}` of an elicitation answer.
pub(crate) fn describe(result: &ElicitResult) -> String {
    let action = serde_json::to_value(result.action).unwrap_or(Value::Null);
    let content = result.content.clone().map(Value::Object).unwrap_or_else(|| json!({}));
    format!("action={}, content={content}", action.as_str().unwrap_or("unknown"))
}

/// The string field `name` of an accepted elicitation, if there is one.
pub(crate) fn field(result: &ElicitResult, name: &str) -> Option<String> {
    result.content.as_ref()?.get(name)?.as_str().map(str::to_owned)
}

/// The first text block of a sampling answer.
pub(crate) fn sampled_text(result: &CreateMessageResult) -> String {
    let first_text = |content: &SamplingContent| match content {
        SamplingContent::Text(text) => Some(text.text.clone()),
        _ => None,
    };
    let text = match &result.content {
        OneOrMany::One(content) => first_text(content),
        OneOrMany::Many(contents) => contents.iter().find_map(first_text),
    };
    text.unwrap_or_else(|| "(no text)".to_owned())
}

/// A one-line summary of any answer.
pub(crate) fn summary(answer: &InputResponse) -> String {
    match answer {
        InputResponse::Elicit(result) => describe(result),
        InputResponse::CreateMessage(result) => format!("sampled \"{}\"", sampled_text(result)),
        InputResponse::ListRoots(result) => format!("{} root(s)", result.roots.len()),
        _ => "an unrecognised answer".to_owned(),
    }
}

pub(crate) fn register(builder: McpServerBuilder) -> McpServerBuilder {
    let prompt_schema = json!({
        "type": "object",
        "properties": { "prompt": { "type": "string", "description": "The prompt to send to the LLM" } },
        "required": ["prompt"]
    });
    let message_schema = json!({
        "type": "object",
        "properties": { "message": { "type": "string", "description": "The message to show the user" } },
        "required": ["message"]
    });
    builder
        .tool(definition("test_sampling", "Asks the client's model to answer `prompt`.", prompt_schema), sample)
        .tool(definition("test_elicitation", "Asks the user for a username and an email.", message_schema), elicit)
        .tool(
            definition(
                "test_elicitation_sep1034_defaults",
                "Elicitation whose fields all have defaults (SEP-1034).",
                no_arguments(),
            ),
            sep1034_defaults,
        )
        .tool(
            definition(
                "test_elicitation_sep1330_enums",
                "Elicitation with the five enum field shapes (SEP-1330).",
                no_arguments(),
            ),
            sep1330_enums,
        )
}

#[derive(Deserialize, schemars::JsonSchema)]
struct PromptArgs {
    prompt: String,
}

async fn sample(Args(args): Args<PromptArgs>, ctx: RequestCtx) -> Result<String, HandlerError> {
    let result = ctx.sample("llm_response", sampling(&args.prompt, 100)).await?;
    Ok(format!("LLM response: {}", sampled_text(&result)))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct MessageArgs {
    message: String,
}

async fn elicit(Args(args): Args<MessageArgs>, ctx: RequestCtx) -> Result<String, HandlerError> {
    let properties = json!({
        "username": { "type": "string", "description": "User's response" },
        "email": { "type": "string", "description": "User's email address" }
    });
    let result = ctx.elicit("user_response", form(&args.message, properties, &["username", "email"])?).await?;
    Ok(format!("User response: {}", describe(&result)))
}

async fn sep1034_defaults(ctx: RequestCtx) -> Result<String, HandlerError> {
    let properties = json!({
        "name": { "type": "string", "description": "User name", "default": "John Doe" },
        "age": { "type": "integer", "description": "User age", "default": 30 },
        "score": { "type": "number", "description": "User score", "default": 95.5 },
        "status": {
            "type": "string",
            "description": "User status",
            "enum": ["active", "inactive", "pending"],
            "default": "active"
        },
        "verified": { "type": "boolean", "description": "Verification status", "default": true }
    });
    let params = form("Please review and update the form fields with defaults", properties, &[])?;
    let result = ctx.elicit("defaults", params).await?;
    Ok(format!("Elicitation completed: {}", describe(&result)))
}

async fn sep1330_enums(ctx: RequestCtx) -> Result<String, HandlerError> {
    let properties = json!({
        "untitledSingle": {
            "type": "string",
            "description": "Select one option",
            "enum": ["option1", "option2", "option3"]
        },
        "titledSingle": {
            "type": "string",
            "description": "Select one option with titles",
            "oneOf": [
                { "const": "value1", "title": "First Option" },
                { "const": "value2", "title": "Second Option" },
                { "const": "value3", "title": "Third Option" }
            ]
        },
        "legacyEnum": {
            "type": "string",
            "description": "Select one option (legacy)",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"]
        },
        "untitledMulti": {
            "type": "array",
            "description": "Select multiple options",
            "minItems": 1,
            "maxItems": 3,
            "items": { "type": "string", "enum": ["option1", "option2", "option3"] }
        },
        "titledMulti": {
            "type": "array",
            "description": "Select multiple options with titles",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "anyOf": [
                    { "const": "value1", "title": "First Choice" },
                    { "const": "value2", "title": "Second Choice" },
                    { "const": "value3", "title": "Third Choice" }
                ]
            }
        }
    });
    let result = ctx.elicit("enums", form("Please select options from the enum fields", properties, &[])?).await?;
    Ok(format!("Elicitation completed: {}", describe(&result)))
}
