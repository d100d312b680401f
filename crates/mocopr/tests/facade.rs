//! A server written against the facade alone: prelude, macros and transports.

use mocopr::prelude::*;
use mocopr_transport::memory::pair;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Shout {
    text: String,
}

/// Upper-cases its input.
#[tool]
async fn shout(Args(p): Args<Shout>) -> Result<String, HandlerError> {
    Ok(p.text.to_uppercase())
}

#[tokio::test]
async fn the_prelude_and_macros_build_a_working_server() {
    let server = McpServer::builder().with_name("facade").register(shout_tool()).build().expect("server");
    let config = mocopr::transport::FramingConfig::default();
    let (mut client, end) = pair(&config);
    tokio::spawn(mocopr::server::serve_connection(server, end.reader, end.sink, StdioConfig::default()));
    let line = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"shout","arguments":{"text":"hi"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    client.sink.send(format!("{line}\n").into()).await.expect("send");
    let Some(Ok(mocopr::transport::Inbound::Frame(frame))) = client.reader.next().await else { panic!("no answer") };
    let response: serde_json::Value = serde_json::from_slice(&frame).expect("JSON");
    assert_eq!(response["result"]["content"][0]["text"], "HI");
}
