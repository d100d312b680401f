//! A 256 MiB resource read through the `streaming-server` example over stdio, with the
//! server's peak RSS checked: the result is encoded and written as it is produced.

use mocopr_testing::example_path;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use mocopr_transport::child::{ChildProcess, Stderr};
use mocopr_transport::{FramingConfig, Inbound};
use tokio::process::Command;

const MIB: usize = 256;
/// The bound the server's peak resident memory must stay under.
const RSS_LIMIT_KIB: u64 = 32 * 1024;

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("VmHWM")
}

#[tokio::test]
async fn a_256_mib_resource_streams_through_a_small_server() {
    let mut command = Command::new(example_path("streaming-server"));
    command.arg("stdio");
    // The client side holds the whole 341 MiB line; the server must not.
    let config = FramingConfig::builder()
        .with_max_frame_size(512 * 1024 * 1024)
        .with_read_buffer_size(1024 * 1024)
        .build()
        .expect("valid framing");
    let mut child = ChildProcess::spawn(command, Stderr::Inherit, &config).expect("spawn streaming-server");
    let pid = child.id().expect("pid");
    let request = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/read\",\"params\":{{\"uri\":\"blob://generated/{MIB}\",\"_meta\":{{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{{}}}}}}}}\n"
    );
    child.sink.send(Bytes::from(request)).await.expect("send");
    let frame = match tokio::time::timeout(Duration::from_secs(300), child.reader.next()).await {
        Ok(Some(Ok(Inbound::Frame(frame)))) => frame,
        other => panic!("no answer: {other:?}"),
    };
    let peak = peak_rss_kib(pid);
    eprintln!("streaming-server peak RSS after {MIB} MiB: {peak} KiB");

    // The message is `{…,"blob":"<base64>"}],…}}`: check its envelope and both ends of the data
    // without parsing 341 MiB of JSON in a debug build.
    let text = std::str::from_utf8(&frame).expect("UTF-8");
    assert!(
        text.starts_with("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"contents\":[{\"uri\":\"blob://generated/256\""),
        "{}",
        &text[..200]
    );
    let start = text.find("\"blob\":\"").expect("blob member") + 8;
    let end = start + text[start..].find('"').expect("end of blob");
    let blob = &text[start..end];
    let bytes = MIB * 1024 * 1024;
    assert_eq!(blob.len(), bytes.div_ceil(3) * 4, "base64 length of {MIB} MiB");
    let head = STANDARD.decode(&blob[..4096]).expect("base64");
    assert!(head.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));
    let tail_chars = 4096;
    let tail = STANDARD.decode(&blob[blob.len() - tail_chars..]).expect("base64");
    let tail_start = bytes - tail.len();
    assert!(tail.iter().enumerate().all(|(i, b)| *b == ((tail_start + i) % 251) as u8));
    assert!(text[end..].contains("\"resultType\":\"complete\""));
    assert!(peak < RSS_LIMIT_KIB, "server peak RSS {peak} KiB exceeds {RSS_LIMIT_KIB} KiB");

    let status = child.shutdown().await.expect("shutdown");
    assert!(status.success());
}
