//! The tasks extension fixtures (`io.modelcontextprotocol/tasks`, SEP-2663).
//!
//! A task-capable tool (`task_tool`) becomes a task when the client declares the extension and
//! the handler does not finish on its first poll; the client then polls `tasks/get`, answers
//! input with `tasks/update` and may `tasks/cancel` (the server drops the handler's future).
//! Without the extension the same handlers run as ordinary calls, except those registered with
//! `TaskSupport::Required`, which the server refuses with `-32021`.

use std::time::Duration;

use mocopr_core::types::{InputCall, InputResponse};
use mocopr_server::{Args, HandlerError, McpServerBuilder, RequestCtx, TaskSupport};
use serde::Deserialize;
use serde_json::json;

use crate::client_input::{describe, field, form, summary};
use crate::tools::{definition, no_arguments};

pub(crate) fn register(builder: McpServerBuilder) -> McpServerBuilder {
    let greet_schema = json!({
        "type": "object",
        "properties": { "name": { "type": "string" } },
        "required": ["name"]
    });
    let slow_schema = json!({
        "type": "object",
        "properties": {
            "seconds": { "type": "number", "minimum": 0, "maximum": 3600 },
            "label": { "type": "string" }
        },
        "required": ["seconds"]
    });
    let file_schema = json!({
        "type": "object",
        "properties": { "filename": { "type": "string" } },
        "required": ["filename"]
    });
    builder
        .tool(definition("greet", "Greets `name` at once; never a task.", greet_schema), greet)
        .task_tool(
            definition("slow_compute", "Waits `seconds`, then reports `label`; a task when it waits.", slow_schema),
            slow_compute,
            TaskSupport::Optional,
        )
        .task_tool(
            definition("failing_job", "A task that ends after a second with a tool error.", no_arguments()),
            failing_job,
            TaskSupport::Required,
        )
        .task_tool(
            definition("protocol_error_job", "A task that fails with a protocol error.", no_arguments()),
            protocol_error_job,
            TaskSupport::Optional,
        )
        .task_tool(
            definition("confirm_delete", "Asks the user to confirm deleting `filename`.", file_schema),
            confirm_delete,
            TaskSupport::Optional,
        )
        .task_tool(
            definition("multi_input", "Asks two questions at once.", no_arguments()),
            multi_input,
            TaskSupport::Optional,
        )
        .task_tool(
            definition(
                "test_tool_with_task",
                "Asks for a name (input_required, before any task), then greets it from a task.",
                no_arguments(),
            ),
            tool_with_task,
            TaskSupport::Required,
        )
}

#[derive(Deserialize, schemars::JsonSchema)]
struct GreetArgs {
    name: String,
}

async fn greet(Args(args): Args<GreetArgs>) -> Result<String, HandlerError> {
    Ok(format!("Hello, {}!", args.name))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct SlowArgs {
    seconds: f64,
    #[serde(default)]
    label: Option<String>,
}

async fn slow_compute(Args(args): Args<SlowArgs>) -> Result<String, HandlerError> {
    // The schema bounds `seconds` to [0, 3600]; zero finishes on the first poll, so it is
    // answered directly instead of becoming a task.
    if args.seconds > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(args.seconds)).await;
    }
    let label = args.label.as_deref().unwrap_or("unlabelled");
    Ok(format!("slow_compute `{label}` finished after {} s", args.seconds))
}

async fn failing_job() -> Result<String, HandlerError> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    Err(HandlerError::new("failing_job failed, as it always does"))
}

async fn protocol_error_job() -> Result<String, HandlerError> {
    // Long enough to become a task first; the error then fails the task.
    tokio::time::sleep(Duration::from_millis(200)).await;
    Err(HandlerError::internal("protocol_error_job fails at the protocol level, as it always does"))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct FileArgs {
    filename: String,
}

async fn confirm_delete(Args(args): Args<FileArgs>, ctx: RequestCtx) -> Result<String, HandlerError> {
    let message = format!("Delete {}?", args.filename);
    let answer =
        ctx.elicit("confirm", form(&message, json!({ "confirm": { "type": "boolean" } }), &["confirm"])?).await?;
    let confirmed = answer.content.as_ref().and_then(|c| c.get("confirm")).and_then(|v| v.as_bool()) == Some(true);
    Ok(if confirmed {
        format!("Deleted {} (nothing was really deleted)", args.filename)
    } else {
        format!("Kept {}: {}", args.filename, describe(&answer))
    })
}

async fn multi_input(ctx: RequestCtx) -> Result<String, HandlerError> {
    let properties = || json!({ "name": { "type": "string" }, "confirm": { "type": "boolean" } });
    let requests = vec![
        ("first".to_owned(), InputCall::Elicit(form("First question", properties(), &["name"])?)),
        ("second".to_owned(), InputCall::Elicit(form("Second question", properties(), &["name"])?)),
    ];
    let answers = ctx.inputs(requests).await?;
    let parts: Vec<String> = answers.iter().map(summary).collect();
    Ok(format!("Both answered: {}", parts.join("; ")))
}

/// Round 1 answers `input_required` synchronously (no task yet); the retry carrying the name
/// waits a little, so it becomes a task whose result greets the name.
async fn tool_with_task(ctx: RequestCtx) -> Result<String, HandlerError> {
    let name = match ctx.input_response("user_name") {
        Some(InputResponse::Elicit(answer)) => field(answer, "name"),
        _ => None,
    };
    let Some(name) = name else {
        let question = form("What is your name?", json!({ "name": { "type": "string" } }), &["name"])?;
        return Err(ctx.input_required(vec![("user_name".to_owned(), InputCall::Elicit(question))], None));
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(format!("Hello from a task, {name}!"))
}
