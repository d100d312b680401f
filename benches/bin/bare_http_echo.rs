//! Baseline for the HTTP benchmark: a bare hyper HTTP/1.1 server that parses each JSON body and
//! answers with the same `tools/call`-shaped echo, with no MCP SDK. Prints its address on stdout.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;

async fn echo(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = request.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let text = request["params"]["arguments"]["text"].as_str().unwrap_or_default();
    let response = serde_json::json!({
        "jsonrpc": "2.0",
        "id": request["id"],
        "result": {"content": [{"type": "text", "text": text}], "resultType": "complete"},
    });
    let mut reply = Response::new(Full::new(Bytes::from(serde_json::to_vec(&response).unwrap_or_default())));
    reply.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
    Ok(reply)
}

fn main() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("{}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), hyper::service::service_fn(echo))
                    .await;
            });
        }
    })
}
