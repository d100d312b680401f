//! Unit tests of `framed.rs`.

use super::*;

#[tokio::test]
async fn frames_split_across_reads_come_out_whole_and_in_order() {
    let (client, mut server) = tokio::io::duplex(7);
    let config = FramingConfig::default();
    let mut reader = FrameReader::new(client, &config);
    let writer = tokio::spawn(async move {
        for i in 0..100 {
            server.write_all(format!("{{\"n\":{i}}}\n").as_bytes()).await.unwrap();
        }
    });
    let mut got = Vec::new();
    let mut batch = Vec::new();
    while reader.read_batch(&mut batch).await.unwrap() {
        got.append(&mut batch);
    }
    writer.await.unwrap();
    let expected: Vec<_> = (0..100).map(|i| Inbound::Frame(Bytes::from(format!("{{\"n\":{i}}}")))).collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn an_oversized_line_is_reported_and_the_stream_goes_on() {
    let (client, mut server) = tokio::io::duplex(1024);
    let config = FramingConfig::builder().with_max_frame_size(8).build().expect("valid framing");
    let mut reader = FrameReader::new(client, &config);
    server.write_all(b"0123456789abcdef\n{\"a\":1}\n").await.unwrap();
    drop(server);
    let mut items = Vec::new();
    while let Some(item) = reader.next().await {
        items.push(item.unwrap());
    }
    assert!(matches!(items[0], Inbound::Invalid(FrameError::FrameTooLarge { .. })));
    assert_eq!(items[1], Inbound::Frame(Bytes::from_static(b"{\"a\":1}")));
    assert_eq!(items.len(), 2);
}

#[tokio::test]
async fn the_read_buffer_shrinks_back_after_an_oversized_line() {
    let (client, mut server) = tokio::io::duplex(64 * 1024);
    let config = FramingConfig::builder().with_max_frame_size(2 * 1024 * 1024).build().expect("valid framing");
    let mut reader = FrameReader::new(client, &config);
    let writer = tokio::spawn(async move {
        server.write_all("x".repeat(8 * 1024 * 1024).as_bytes()).await.unwrap();
        server.write_all(b"\n{\"a\":1}\n").await.unwrap();
        server
    });
    assert!(matches!(reader.next().await.unwrap().unwrap(), Inbound::Invalid(FrameError::FrameTooLarge { .. })));
    let next = reader.next().await.unwrap().unwrap();
    assert_eq!(next, Inbound::Frame(Bytes::from_static(b"{\"a\":1}")));
    // The skipped line grew the buffer towards the limit; that memory is given back.
    assert!(reader.buf.capacity() <= SHRINK_ABOVE, "kept {} bytes after the line", reader.buf.capacity());
    drop(writer.await.unwrap());
}

#[tokio::test]
async fn a_streamed_frame_is_written_whole_between_other_frames() {
    let (client, server) = tokio::io::duplex(64);
    let config = FramingConfig::default();
    let (sink, handle) = spawn_writer(server, &config);
    let (chunks_tx, chunks_rx) = mpsc::channel(2);
    sink.send(Bytes::from_static(b"before\n")).await.unwrap();
    sink.send_stream(chunks_rx).await.unwrap();
    sink.send(Bytes::from_static(b"after\n")).await.unwrap();
    let producer = tokio::spawn(async move {
        for piece in ["st", "re", "am", "ed\n"] {
            chunks_tx.send(Bytes::from(piece)).await.unwrap();
            tokio::task::yield_now().await;
        }
    });
    drop(sink);
    let mut reader = FrameReader::new(client, &config);
    let mut got = Vec::new();
    while let Some(item) = reader.next().await {
        got.push(item.unwrap());
    }
    producer.await.unwrap();
    handle.await.unwrap().unwrap();
    let frame = |s: &'static str| Inbound::Frame(Bytes::from_static(s.as_bytes()));
    assert_eq!(got, [frame("before"), frame("streamed"), frame("after")]);
}

#[tokio::test]
async fn the_writer_delivers_everything_queued_then_closes() {
    let (client, server) = tokio::io::duplex(64);
    let config = FramingConfig::builder().with_outbound_queue(4).build().expect("valid framing");
    let (sink, handle) = spawn_writer(server, &config);
    let producer = tokio::spawn(async move {
        for i in 0..1000 {
            sink.send(Bytes::from(format!("{i}\n"))).await.unwrap();
        }
    });
    let mut reader = FrameReader::new(client, &config);
    let mut n = 0;
    while let Some(item) = reader.next().await {
        assert_eq!(item.unwrap(), Inbound::Frame(Bytes::from(n.to_string())));
        n += 1;
    }
    producer.await.unwrap();
    handle.await.unwrap().unwrap();
    assert_eq!(n, 1000);
}
