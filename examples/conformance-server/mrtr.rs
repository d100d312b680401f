//! The multi round-trip request fixtures (SEP-2322): `test_input_required_result_*` tools and
//! the `test_input_required_result_prompt` prompt.
//!
//! Each asks through `RequestCtx`, so each also works over a legacy session (real
//! server-to-client requests, answered on the same call). On the 2026-07-28 wire a missing
//! answer makes the handler return an `InputRequiredResult`; fixtures that carry state put their
//! own string in `requestState`, which the server signs (HMAC) and verifies on the retry, so a
//! tampered state never reaches the handler.

use mocopr_core::types::{ElicitRequestParams, GetPromptResult, InputCall, InputResponse, MetaOnlyParams, Prompt};
use mocopr_server::{HandlerError, McpServerBuilder, RequestCtx};
use serde_json::json;

use crate::client_input::{describe, field, form, sampled_text, sampling, summary};
use crate::tools::{definition, no_arguments};

type Requests = Vec<(String, InputCall)>;

/// Asks for `requests`; when an answer is still missing, the `InputRequiredResult` carries
/// `state` for the retry.
async fn ask(ctx: &RequestCtx, requests: Requests, state: &str) -> Result<Vec<InputResponse>, HandlerError> {
    match ctx.inputs(requests).await {
        Err(HandlerError::InputRequired(mut result)) => {
            result.request_state = Some(state.to_owned());
            Err(HandlerError::InputRequired(result))
        }
        other => other,
    }
}

/// Like [`ask`], and on the 2026-07-28 wire also insists that the retry echoed `state`: answers
/// that come without it are asked for again.
async fn ask_with_state(
    ctx: &RequestCtx,
    requests: impl Fn() -> Result<Requests, HandlerError>,
    state: &str,
) -> Result<Vec<InputResponse>, HandlerError> {
    let answers = ask(ctx, requests()?, state).await?;
    if ctx.protocol_version().is_modern() && ctx.request_state() != Some(state) {
        return Err(ctx.input_required(requests()?, Some(state.to_owned())));
    }
    Ok(answers)
}

/// A form asking for one required field of JSON type `kind`.
fn question(message: &str, field_name: &str, kind: &str) -> Result<ElicitRequestParams, HandlerError> {
    form(message, json!({ field_name: { "type": kind } }), &[field_name])
}

/// [`question`] under `key`, as one of several input requests.
fn elicit(key: &str, message: &str, field_name: &str, kind: &str) -> Result<(String, InputCall), HandlerError> {
    Ok((key.to_owned(), InputCall::Elicit(question(message, field_name, kind)?)))
}

fn confirm() -> Result<Requests, HandlerError> {
    Ok(vec![elicit("confirm", "Please confirm", "ok", "boolean")?])
}

pub(crate) fn register(builder: McpServerBuilder) -> McpServerBuilder {
    let tool = |name: &str, description: &str| definition(name, description, no_arguments());
    let prompt = Prompt::new("test_input_required_result_prompt")
        .with_description("MRTR: a prompt that first asks the user for context.");
    builder
        .tool(tool("test_input_required_result_elicitation", "MRTR: asks for the user's name."), elicitation)
        .tool(tool("test_input_required_result_sampling", "MRTR: asks the client's model a question."), sample)
        .tool(tool("test_input_required_result_list_roots", "MRTR: asks for the client's roots."), list_roots)
        .tool(tool("test_input_required_result_request_state", "MRTR: carries requestState."), request_state)
        .tool(
            tool("test_input_required_result_multiple_inputs", "MRTR: elicitation, sampling and roots at once."),
            multiple_inputs,
        )
        .tool(tool("test_input_required_result_multi_round", "MRTR: two rounds of questions."), multi_round)
        .tool(
            tool("test_input_required_result_tampered_state", "MRTR: signed requestState; tampering is refused."),
            tampered_state,
        )
        .tool(
            tool("test_input_required_result_capabilities", "MRTR: asks only for what the client supports."),
            capabilities,
        )
        .prompt(prompt, context_prompt)
}

async fn elicitation(ctx: RequestCtx) -> Result<String, HandlerError> {
    let answer = ctx.elicit("user_name", question("What is your name?", "name", "string")?).await?;
    Ok(match field(&answer, "name") {
        Some(name) => format!("Hello, {name}!"),
        None => format!("Hello, stranger! ({})", describe(&answer)),
    })
}

async fn sample(ctx: RequestCtx) -> Result<String, HandlerError> {
    let answer = ctx.sample("capital_question", sampling("What is the capital of France?", 100)).await?;
    Ok(format!("Sampling result: {}", sampled_text(&answer)))
}

async fn list_roots(ctx: RequestCtx) -> Result<String, HandlerError> {
    let roots = ctx.list_roots("client_roots").await?.roots;
    let uris: Vec<&str> = roots.iter().map(|r| r.uri.as_str()).collect();
    Ok(format!("Found {} root(s): {}", roots.len(), uris.join(", ")))
}

async fn request_state(ctx: RequestCtx) -> Result<String, HandlerError> {
    let answers = ask_with_state(&ctx, confirm, "request-state").await?;
    let answer = answers.first().map(summary).unwrap_or_default();
    Ok(format!("state-ok: requestState validated; {answer}"))
}

async fn multiple_inputs(ctx: RequestCtx) -> Result<String, HandlerError> {
    let requests = || {
        Ok(vec![
            elicit("user_name", "What is your name?", "name", "string")?,
            ("greeting".to_owned(), InputCall::CreateMessage(sampling("Generate a greeting", 50))),
            ("client_roots".to_owned(), InputCall::ListRoots(MetaOnlyParams::default())),
        ])
    };
    let answers = ask_with_state(&ctx, requests, "multiple-inputs").await?;
    let parts: Vec<String> = answers.iter().map(summary).collect();
    Ok(format!("All inputs received: {}", parts.join("; ")))
}

/// Round 1 asks for a name; round 2 (state `round-1`) asks for a colour and carries the name in
/// the next state; round 3 (state `round-2:<name>`) completes. A legacy session asks both
/// questions in one call.
async fn multi_round(ctx: RequestCtx) -> Result<String, HandlerError> {
    let step2 =
        || Ok::<_, HandlerError>(vec![elicit("step2", "Step 2: What is your favorite color?", "color", "string")?]);
    let name = match ctx.request_state().and_then(|s| s.strip_prefix("round-2:")) {
        Some(name) => name.to_owned(),
        None => {
            let step1 = vec![elicit("step1", "Step 1: What is your name?", "name", "string")?];
            let answers = ask(&ctx, step1, "round-1").await?;
            let name = answers.first().and_then(elicited_string("name")).unwrap_or_else(|| "friend".to_owned());
            if ctx.protocol_version().is_modern() {
                return Err(ctx.input_required(step2()?, Some(format!("round-2:{name}"))));
            }
            name
        }
    };
    let answers = ask(&ctx, step2()?, &format!("round-2:{name}")).await?;
    let color = answers.first().and_then(elicited_string("color")).unwrap_or_else(|| "no color".to_owned());
    Ok(format!("Multi-round complete for {name} who likes {color}"))
}

fn elicited_string(name: &str) -> impl Fn(&InputResponse) -> Option<String> + '_ {
    move |answer| match answer {
        InputResponse::Elicit(result) => field(result, name),
        _ => None,
    }
}

async fn tampered_state(ctx: RequestCtx) -> Result<String, HandlerError> {
    // A retry whose requestState was altered is refused by the server with -32602 before this
    // handler runs; reaching the end means the state verified.
    ask_with_state(&ctx, confirm, "tamper-test").await?;
    Ok("integrity-ok: state verified".to_owned())
}

/// Asks only for what the client declared (`_meta` client capabilities on the 2026-07-28 wire,
/// `initialize` on a legacy session).
async fn capabilities(ctx: RequestCtx) -> Result<String, HandlerError> {
    let caps = ctx.client_capabilities();
    let mut requests = Vec::new();
    if caps.supports_form_elicitation() {
        requests.push(elicit("elicit_input", "Elicitation input", "value", "string")?);
    }
    if caps.sampling.is_some() {
        requests.push(("sample_input".to_owned(), InputCall::CreateMessage(sampling("Sample request", 50))));
    }
    if caps.roots.is_some() {
        requests.push(("roots_input".to_owned(), InputCall::ListRoots(MetaOnlyParams::default())));
    }
    if requests.is_empty() {
        return Ok("No supported capabilities declared".to_owned());
    }
    let keys: Vec<String> = requests.iter().map(|(key, _)| key.clone()).collect();
    ctx.inputs(requests).await?;
    Ok(format!("capabilities-ok: received {}", keys.join(",")))
}

async fn context_prompt(ctx: RequestCtx) -> Result<GetPromptResult, HandlerError> {
    let params = question("What context should the prompt use?", "context", "string")?;
    let answer = ctx.elicit("user_context", params).await?;
    let context = field(&answer, "context").unwrap_or_else(|| "none".to_owned());
    Ok(GetPromptResult::new()
        .with_description("A prompt built from the user's context")
        .user(format!("Prompt with context: {context}")))
}
