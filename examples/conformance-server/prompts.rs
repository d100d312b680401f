//! Prompts (`test_simple_prompt`, `test_prompt_with_arguments`,
//! `test_prompt_with_embedded_resource`, `test_prompt_with_image`) and argument completion.

use std::collections::BTreeMap;

use mocopr_core::types::{
    CompleteRequestParams, Completion, CompletionReference, ContentBlock, GetPromptResult, Prompt, PromptArgument,
    PromptMessage,
};
use mocopr_server::{Args, HandlerError, McpServerBuilder};

use crate::media;
use crate::tools::embedded_text;

/// A prompt's arguments as the client sent them.
type PromptArgs = BTreeMap<String, String>;

/// The values `completion/complete` offers for `test_prompt_with_arguments`.
const SUGGESTIONS: [&str; 3] = ["testValue1", "testValue2", "test value with spaces"];

fn prompt(name: &str, title: &str, description: &str, arguments: &[(&str, &str)]) -> Prompt {
    let prompt = Prompt::new(name).with_title(title).with_description(description);
    arguments.iter().fold(prompt, |prompt, (name, description)| {
        prompt.argument(PromptArgument::new(*name).with_description(*description).with_required(true))
    })
}

/// A prompt result of user messages.
fn user_messages(blocks: Vec<ContentBlock>) -> GetPromptResult {
    GetPromptResult::from(blocks.into_iter().map(PromptMessage::user).collect::<Vec<_>>())
}

fn argument<'a>(args: &'a PromptArgs, name: &str) -> Result<&'a str, HandlerError> {
    args.get(name).map(String::as_str).ok_or_else(|| HandlerError::invalid_params(format!("missing argument `{name}`")))
}

pub(crate) fn register(builder: McpServerBuilder) -> McpServerBuilder {
    builder
        .prompt(
            prompt("test_simple_prompt", "Simple Test Prompt", "A simple prompt without arguments", &[]),
            || async { user_messages(vec![ContentBlock::text("This is a simple prompt for testing.")]) },
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
            || async {
                user_messages(vec![
                    ContentBlock::image(media::png_base64(), "image/png"),
                    ContentBlock::text("Please analyze the image above."),
                ])
            },
        )
        .completion(complete)
}

async fn with_arguments(Args(args): Args<PromptArgs>) -> Result<GetPromptResult, HandlerError> {
    let (arg1, arg2) = (argument(&args, "arg1")?, argument(&args, "arg2")?);
    Ok(user_messages(vec![ContentBlock::text(format!("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"))]))
}

async fn with_embedded_resource(Args(args): Args<PromptArgs>) -> Result<GetPromptResult, HandlerError> {
    let uri = argument(&args, "resourceUri")?;
    Ok(user_messages(vec![
        embedded_text(uri, "text/plain", "Embedded resource content for testing."),
        ContentBlock::text("Please process the embedded resource above."),
    ]))
}

/// Suggests [`SUGGESTIONS`] starting with what was typed, for the arguments of
/// `test_prompt_with_arguments`; nothing for anything else.
async fn complete(params: CompleteRequestParams) -> Completion {
    let ours = matches!(&params.reference, CompletionReference::Prompt { name, .. } if name == "test_prompt_with_arguments")
        && ["arg1", "arg2"].contains(&params.argument.name.as_str());
    let values: Vec<&str> = if ours {
        SUGGESTIONS.into_iter().filter(|v| v.starts_with(params.argument.value.as_str())).collect()
    } else {
        Vec::new()
    };
    let total = values.len() as u64;
    Completion::new(values).with_total(total).with_has_more(false)
}
