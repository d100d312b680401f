//! Prompts (`test_simple_prompt`, `test_prompt_with_arguments`,
//! `test_prompt_with_embedded_resource`, `test_prompt_with_image`) and argument completion.

use mocopr_core::types::{
    CompleteRequestParams, Completion, CompletionReference, ContentBlock, GetPromptResult, Prompt, PromptArgument,
    PromptMessage, Role,
};
use mocopr_server::{McpServerBuilder, PromptArgs, RequestCtx, ToolError};
use serde_json::json;

use crate::media;
use crate::tools::block;

/// The values `completion/complete` offers for `test_prompt_with_arguments`.
const SUGGESTIONS: [&str; 3] = ["testValue1", "testValue2", "test value with spaces"];

fn prompt(name: &str, title: &str, description: &str, arguments: &[(&str, &str)]) -> Prompt {
    let mut prompt = Prompt::new(name);
    prompt.title = Some(title.to_owned());
    prompt.description = Some(description.to_owned());
    if !arguments.is_empty() {
        let arguments = arguments
            .iter()
            .map(|(name, description)| {
                let mut argument = PromptArgument::new(*name);
                argument.description = Some((*description).to_owned());
                argument.required = Some(true);
                argument
            })
            .collect();
        prompt.arguments = Some(arguments);
    }
    prompt
}

/// A prompt result of user messages.
fn user_messages(blocks: Vec<ContentBlock>) -> Result<GetPromptResult, ToolError> {
    let mut result: GetPromptResult = serde_json::from_value(json!({ "messages": [] }))?;
    result.messages = blocks.into_iter().map(|block| PromptMessage::new(Role::User, block)).collect();
    Ok(result)
}

fn argument<'a>(args: &'a PromptArgs, name: &str) -> Result<&'a str, ToolError> {
    args.get(name).map(String::as_str).ok_or_else(|| ToolError::invalid_params(format!("missing argument `{name}`")))
}

pub(crate) fn register(builder: McpServerBuilder) -> McpServerBuilder {
    builder
        .prompt(
            prompt("test_simple_prompt", "Simple Test Prompt", "A simple prompt without arguments", &[]),
            |_args, _ctx| async { user_messages(vec![ContentBlock::text("This is a simple prompt for testing.")]) },
        )
        .prompt(
            prompt(
                "test_prompt_with_arguments",
                "Prompt With Arguments",
                "A prompt with required arguments",
                &[("arg1", "First test argument"), ("arg2", "Second test argument")],
            ),
            with_arguments,
        )
        .prompt(
            prompt(
                "test_prompt_with_embedded_resource",
                "Prompt With Embedded Resource",
                "A prompt that includes an embedded resource",
                &[("resourceUri", "URI of the resource to embed")],
            ),
            with_embedded_resource,
        )
        .prompt(
            prompt("test_prompt_with_image", "Prompt With Image", "A prompt that includes image content", &[]),
            |_args, _ctx| async {
                user_messages(vec![
                    ContentBlock::image(media::png_base64(), "image/png"),
                    ContentBlock::text("Please analyze the image above."),
                ])
            },
        )
        .completion(complete)
}

async fn with_arguments(args: PromptArgs, _ctx: RequestCtx) -> Result<GetPromptResult, ToolError> {
    let (arg1, arg2) = (argument(&args, "arg1")?, argument(&args, "arg2")?);
    user_messages(vec![ContentBlock::text(format!("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"))])
}

async fn with_embedded_resource(args: PromptArgs, _ctx: RequestCtx) -> Result<GetPromptResult, ToolError> {
    let uri = argument(&args, "resourceUri")?;
    user_messages(vec![
        block(json!({
            "type": "resource",
            "resource": { "uri": uri, "mimeType": "text/plain", "text": "Embedded resource content for testing." }
        }))?,
        ContentBlock::text("Please process the embedded resource above."),
    ])
}

/// Suggests [`SUGGESTIONS`] starting with what was typed, for the arguments of
/// `test_prompt_with_arguments`; nothing for anything else.
async fn complete(params: CompleteRequestParams, _ctx: RequestCtx) -> Result<Completion, ToolError> {
    let ours = matches!(&params.reference, CompletionReference::Prompt { name, .. } if name == "test_prompt_with_arguments")
        && ["arg1", "arg2"].contains(&params.argument.name.as_str());
    let values: Vec<&str> = if ours {
        SUGGESTIONS.into_iter().filter(|v| v.starts_with(params.argument.value.as_str())).collect()
    } else {
        Vec::new()
    };
    Ok(serde_json::from_value(json!({ "values": values, "total": values.len(), "hasMore": false }))?)
}
