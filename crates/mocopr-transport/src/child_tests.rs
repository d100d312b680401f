//! Unit tests of `child.rs`.

use bytes::Bytes;

use super::*;
use crate::framed::Inbound;

#[tokio::test]
async fn a_child_echoes_frames_and_exits_when_its_stdin_closes() {
    let config = FramingConfig::default();
    let mut child = ChildProcess::spawn(Command::new("cat"), Stderr::Null, &config).unwrap();
    child.sink.send(Bytes::from_static(b"{\"a\":1}\n{\"b\":2}\n")).await.unwrap();
    assert_eq!(child.reader.next().await.unwrap().unwrap(), Inbound::Frame(Bytes::from_static(b"{\"a\":1}")));
    assert_eq!(child.reader.next().await.unwrap().unwrap(), Inbound::Frame(Bytes::from_static(b"{\"b\":2}")));
    let status = child.shutdown().await.unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn a_child_that_ignores_stdin_is_terminated() {
    let config = FramingConfig::default();
    let mut command = Command::new("sleep");
    command.arg("30");
    let child =
        ChildProcess::spawn(command, Stderr::Null, &config).unwrap().with_shutdown_grace(Duration::from_millis(100));
    let status = child.shutdown().await.unwrap();
    assert!(!status.success(), "sleep was stopped by a signal");
}

#[tokio::test]
async fn a_missing_program_is_a_spawn_error() {
    let err = ChildProcess::spawn(Command::new("/nonexistent/mcp-server"), Stderr::Null, &FramingConfig::default());
    assert!(matches!(err, Err(TransportError::Spawn { .. })));
}
