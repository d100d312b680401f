//! Hello, MCP client: connects to a server over HTTP or starts one over stdio, and calls its
//! `greet` tool (the third program of the README).
//!
//! Run with `cargo run -p mocopr-examples --example hello-client -- http://127.0.0.1:8080/mcp`
//! (with `hello-http` running), or `... --example hello-client -- target/debug/examples/hello-stdio`.
//! Prints `Hello, world!`.

use mocopr::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (client, _child) = match args.first() {
        Some(url) if url.starts_with("http") => (McpClient::builder().connect_http(url).await?, None),
        Some(program) => {
            let mut command = tokio::process::Command::new(program);
            command.args(&args[1..]);
            let (client, child) = McpClient::builder().connect_child(command).await?;
            (client, Some(child))
        }
        None => return Err("usage: hello-client URL | COMMAND [ARGS...]".into()),
    };
    let result = client.call_tool("greet", serde_json::json!({ "name": "world" })).await?;
    println!("{}", result.text_content());
    Ok(())
}
