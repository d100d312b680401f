//! What the in-process fuzz targets share: one runtime and one server with a tool of each
//! kind (typed arguments, a task, structured output), a prompt, a resource and a template, so
//! that arbitrary requests reach every part of the dispatcher.

use std::sync::OnceLock;
use std::time::Duration;

use mocopr_server::{Args, McpServer, TaskSupport};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Text {
    text: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Name {
    name: String,
}

/// The server the targets send to; built once.
pub fn server() -> McpServer {
    static SERVER: OnceLock<McpServer> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            McpServer::builder()
                .with_name("fuzz")
                .with_request_state_key(vec![7; 32])
                .tool("echo", |Args(t): Args<Text>| async move { t.text })
                .task_tool(
                    "slow",
                    || async {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        "done"
                    },
                    TaskSupport::Optional,
                )
                .prompt("greet", |Args(n): Args<Name>| async move { format!("Hello, {}!", n.name) })
                .resource("mem://hello", || async { "hello" })
                .resource("mem://users/{name}", |Args(n): Args<Name>| async move { n.name })
                .build()
                .expect("the fuzz server builds")
        })
        .clone()
}

/// The runtime the targets run on: one thread, timers on.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime")
    })
}
