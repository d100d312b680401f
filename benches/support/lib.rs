//! Fixtures shared by the criterion benchmarks: realistic MCP messages of a chosen size.

use serde_json::{Value, json};

/// The message sizes the performance guide asks about: 1 KB, 10 KB, 100 KB.
pub const SIZES: [(&str, usize); 3] = [("1KB", 1024), ("10KB", 10 * 1024), ("100KB", 100 * 1024)];

/// A modern `tools/call` request of about `target` bytes: nested arguments with a list of
/// records, as an agent passing a document or a table would send. Records are added until the
/// message reaches `target`; its length is counted as they go (serializing the whole message
/// after each record would take minutes at 10 MB).
pub fn tools_call_request(target: usize) -> Vec<u8> {
    let mut records: Vec<Value> = Vec::new();
    // Serialized, `[a,b,…]` is the empty array's two bytes, each record and a comma between two.
    let mut len = build(&records).len();
    let mut n = 0u64;
    while len < target {
        let next = json!({
            "id": n,
            "name": format!("record-{n}"),
            "tags": ["alpha", "beta"],
            "score": 0.5 + n as f64,
            "active": n.is_multiple_of(2),
        });
        len += serde_json::to_vec(&next).map_or(0, |v| v.len()) + usize::from(!records.is_empty());
        records.push(next);
        n += 1;
    }
    let message = build(&records);
    assert_eq!(message.len(), len, "the length was counted right");
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

/// The text payload of the throughput benchmarks: 100 bytes, as in the performance guide.
pub fn payload_100() -> String {
    "x".repeat(100)
}

/// A modern `tools/call` of the `echo` tool, as one newline-terminated line.
pub fn echo_call_line(id: u64, text: &str) -> String {
    format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"echo\",\"arguments\":{{\"text\":\"{text}\"}},\"_meta\":{{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{{}}}}}}}}\n"
    )
}

/// The path of a release example of the workspace, built first (`cargo build --release`).
pub fn example_binary(name: &str) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = std::process::Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "-p", "mocopr-examples", "--example", name])
        .current_dir(&root)
        .status();
    assert!(status.is_ok_and(|s| s.success()), "could not build example {name}");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| root.join("target"));
    target.join("release").join("examples").join(name)
}

/// Peak resident set size of process `pid`, in KiB (`VmHWM`), on Linux.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The CPU time a process has used: in its own code (user) and in the kernel's on its behalf
/// (system: for a server, mostly the TCP stack).
#[derive(Debug, Clone, Copy)]
pub struct CpuTime {
    /// Time in the process's own code.
    pub user: std::time::Duration,
    /// Time in the kernel for it.
    pub system: std::time::Duration,
}

/// The CPU time process `pid` has used so far, on Linux; `None` elsewhere. Beside throughput,
/// a server's CPU time per request is the figure a noisy machine disturbs least: time stolen
/// from a busy virtual machine slows the server down, but does not make each request cost it
/// more. Its user part is the server's own code alone.
pub fn cpu_time(pid: u32) -> Option<CpuTime> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces, so after its closing parenthesis):
    // state is field 3, utime 14 and stime 15, in clock ticks.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    // `/proc` counts in USER_HZ, which the kernel fixes at 100 on x86 and ARM.
    let mut ticks = || fields.next()?.parse::<u64>().ok().map(|t| std::time::Duration::from_millis(t * 10));
    Some(CpuTime { user: ticks()?, system: ticks()? })
}

/// A `resources/read` result of about `target` bytes (JSON text contents, as a server returns).
pub fn read_result(target: usize) -> Vec<u8> {
    let mut lines = String::new();
    let mut n = 0u64;
    while lines.len() < target {
        lines.push_str(&format!("{{\"row\":{n},\"city\":\"city-{n}\",\"temperature\":{}.5}}\n", n % 40));
        n += 1;
    }
    serde_json::to_vec(&json!({
        "contents": [{ "uri": "mem://table", "mimeType": "application/x-ndjson", "text": lines }],
        "ttlMs": 60_000,
        "cacheScope": "public",
    }))
    .unwrap_or_default()
}

/// Criterion's configuration for every MoCoPr bench: the defaults, with a CPU profiler that
/// writes `flamegraph.svg` in each benchmark's directory when run with `--profile-time N`.
pub fn criterion() -> criterion::Criterion {
    criterion::Criterion::default().with_profiler(FlamegraphProfiler::default())
}

/// Samples the CPU (in process, no `perf` needed) while criterion profiles a benchmark.
#[derive(Debug, Default)]
pub struct FlamegraphProfiler {
    running: Option<mocopr_profiling::CpuSampler>,
}

impl criterion::profiler::Profiler for FlamegraphProfiler {
    fn start_profiling(&mut self, benchmark_id: &str, _dir: &std::path::Path) {
        match mocopr_profiling::CpuSampler::start(997) {
            Ok(sampler) => self.running = Some(sampler),
            Err(e) => eprintln!("{benchmark_id}: no CPU profile: {e}"),
        }
    }

    fn stop_profiling(&mut self, benchmark_id: &str, dir: &std::path::Path) {
        let Some(sampler) = self.running.take() else { return };
        let written = sampler
            .stop()
            .and_then(|profile| profile.flamegraph_svg(benchmark_id))
            .map_err(|e| e.to_string())
            .and_then(|svg| {
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
                std::fs::write(dir.join("flamegraph.svg"), svg).map_err(|e| e.to_string())
            });
        match written {
            Ok(()) => eprintln!("{benchmark_id}: flamegraph in {}", dir.join("flamegraph.svg").display()),
            Err(e) => eprintln!("{benchmark_id}: no flamegraph: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_is_the_smallest_message_that_reaches_its_size() {
        for target in [0, 300, 1024, 10 * 1024] {
            let message = tools_call_request(target);
            assert!(message.len() >= target);
            let value: Value = serde_json::from_slice(&message).expect("json");
            let mut records = value["params"]["arguments"]["records"].as_array().expect("records").clone();
            if records.pop().is_some() {
                assert!(build(&records).len() < target, "one record fewer falls short of {target}");
            }
        }
    }
}
