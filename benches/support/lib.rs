//! Fixtures shared by the criterion benchmarks: realistic MCP messages of a chosen size.

use serde_json::{Value, json};

/// The message sizes the performance guide asks about: 1 KB, 10 KB, 100 KB.
pub const SIZES: [(&str, usize); 3] = [("1KB", 1024), ("10KB", 10 * 1024), ("100KB", 100 * 1024)];

/// A modern `tools/call` request of about `target` bytes: nested arguments with a list of
/// records, as an agent passing a document or a table would send.
pub fn tools_call_request(target: usize) -> Vec<u8> {
    let mut records = Vec::new();
    let mut message = build(&records);
    let mut n = 0u64;
    while message.len() < target {
        records.push(json!({
            "id": n,
            "name": format!("record-{n}"),
            "tags": ["alpha", "beta"],
            "score": 0.5 + n as f64,
            "active": n.is_multiple_of(2),
        }));
        n += 1;
        message = build(&records);
    }
    message
}

fn build(records: &[Value]) -> Vec<u8> {
    let message = json!({
        "jsonrpc": "2.0",
        "id": 42,
        "method": "tools/call",
        "params": {
            "name": "ingest",
            "arguments": { "dataset": "bench", "records": records },
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": { "elicitation": {} },
                "io.modelcontextprotocol/clientInfo": { "name": "bench", "version": "1.0.0" },
                "progressToken": "p-1"
            }
        }
    });
    serde_json::to_vec(&message).unwrap_or_default()
}
