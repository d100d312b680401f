//! Baseline for the stdio benchmark: a newline-JSON echo loop with no SDK at all. Reads each
//! request line, answers with a `tools/call`-shaped result echoing `params.arguments.text`,
//! and flushes whenever its input buffer runs dry.

use std::io::{BufRead, BufReader, BufWriter, Write};

use serde_json::Value;

fn main() -> std::io::Result<()> {
    let stdin = std::io::stdin();
    let mut input = BufReader::with_capacity(64 * 1024, stdin.lock());
    let mut output = BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return output.flush();
        }
        let Ok(request) = serde_json::from_str::<Value>(&line) else { continue };
        let text = request["params"]["arguments"]["text"].as_str().unwrap_or_default();
        let response = serde_json::json!({
            "jsonrpc": "2.0",
            "id": request["id"],
            "result": {"content": [{"type": "text", "text": text}], "resultType": "complete"},
        });
        serde_json::to_writer(&mut output, &response)?;
        output.write_all(b"\n")?;
        if input.buffer().is_empty() {
            output.flush()?;
        }
    }
}
