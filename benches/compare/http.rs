//! Driving a subject over Streamable HTTP: one process per subject; each cell opens its own
//! connections (one, or [`IN_FLIGHT`]), each a legacy session of its own or 2026-07-28 requests.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use mocopr_benches::peak_rss_kib;

use crate::subject::{self, Era, Kind, Subject};
use crate::{IN_FLIGHT, Mode, Sample};

/// A subject's HTTP server process.
pub(crate) struct Server {
    pub(crate) subject: Subject,
    child: Child,
    address: SocketAddr,
}

impl Server {
    /// Starts the subject's program and waits until it accepts connections.
    pub(crate) async fn start(subject: &Subject) -> Result<Self, String> {
        let spawned = |command: &mut Command| command.spawn().map_err(|e| format!("{}: {e}", subject.name));
        let (child, address) = match subject.kind {
            Kind::Limit => {
                let mut child = spawned(Command::new(&subject.http).stdout(Stdio::piped()).stderr(Stdio::null()))?;
                let mut line = String::new();
                let stdout = child.stdout.take().ok_or("no stdout")?;
                BufReader::new(stdout).read_line(&mut line).map_err(|e| e.to_string())?;
                let address = line.trim().parse().map_err(|e| format!("{}: address {line:?}: {e}", subject.name))?;
                (child, address)
            }
            Kind::Sdk => {
                let port = std::net::TcpListener::bind("127.0.0.1:0")
                    .and_then(|l| l.local_addr())
                    .map_err(|e| e.to_string())?
                    .port();
                let address = SocketAddr::from(([127, 0, 0, 1], port));
                let child = spawned(
                    Command::new(&subject.http)
                        .args(["http", "--bind", &address.to_string()])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null()),
                )?;
                (child, address)
            }
        };
        let server = Server { subject: subject.clone(), child, address };
        let waited = Instant::now();
        while tokio::net::TcpStream::connect(address).await.is_err() {
            if waited.elapsed() > Duration::from_secs(20) {
                return Err(format!("{} did not listen on {address}", subject.name));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(server)
    }

    /// Calls `echo` with `payload` bytes in `era` for `duration`, over one connection or over
    /// [`IN_FLIGHT`] connections at once.
    pub(crate) async fn run(&self, era: Era, mode: Mode, payload: usize, duration: Duration) -> Result<Sample, String> {
        let text: Rc<str> = subject::text(payload).into();
        let connections = if mode == Mode::Serial { 1 } else { IN_FLIGHT };
        // Connections run their halves as local tasks: the driver keeps to one thread, so the
        // machine's other core is the server's.
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let mut opened = Vec::with_capacity(connections);
                for _ in 0..connections {
                    opened.push(Connection::open(self.address, &self.subject, era).await?);
                }
                let deadline = Instant::now() + duration;
                let timed = mode == Mode::Serial;
                let runs: Vec<_> = opened
                    .into_iter()
                    .enumerate()
                    .map(|(n, connection)| {
                        tokio::task::spawn_local(connection.run(n as u64, text.clone(), deadline, timed))
                    })
                    .collect();
                let mut sample = Sample { elapsed: duration, ..Sample::default() };
                for run in runs {
                    let part = run.await.map_err(|e| e.to_string())??;
                    sample.requests += part.requests;
                    sample.latencies.extend(part.latencies);
                }
                Ok(sample)
            })
            .await
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the process; its peak RSS in KiB.
    pub(crate) fn stop(mut self) -> Option<u64> {
        let peak = peak_rss_kib(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
        peak
    }
}

/// One HTTP/1.1 connection, greeted for its era.
struct Connection {
    sender: SendRequest<Full<Bytes>>,
    subject: Subject,
    era: Era,
    host: HeaderValue,
    version: HeaderValue,
    session: Option<HeaderValue>,
}

impl Connection {
    async fn open(address: SocketAddr, subject: &Subject, era: Era) -> Result<Self, String> {
        let stream = tokio::net::TcpStream::connect(address).await.map_err(|e| format!("{}: {e}", subject.name))?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
        tokio::task::spawn_local(async move {
            let _ = connection.await;
        });
        let mut this = Connection {
            sender,
            subject: subject.clone(),
            era,
            host: HeaderValue::try_from(address.to_string()).map_err(|e| e.to_string())?,
            version: HeaderValue::from_static(era.version()),
            session: None,
        };
        if era == Era::Legacy && subject.kind == Kind::Sdk {
            let (status, headers, body) = this.post(subject::initialize(era), false).await?;
            let version = subject::negotiated_version(&json_of(&headers, &body))
                .ok_or_else(|| format!("{}: initialize answered {status}", subject.name))?;
            this.version = HeaderValue::try_from(version).map_err(|e| e.to_string())?;
            this.session = headers.get("mcp-session-id").cloned();
            let (status, _, _) = this.post(subject::INITIALIZED.to_owned(), false).await?;
            if !status.is_success() {
                return Err(format!("{}: notifications/initialized answered {status}", subject.name));
            }
        }
        Ok(this)
    }

    /// POSTs `body`; a `tools/call` carries the method headers 2026-07-28 asks for.
    async fn post(&mut self, body: String, call: bool) -> Result<(StatusCode, http::HeaderMap, Bytes), String> {
        let mut request = Request::post("/mcp")
            .header(http::header::HOST, self.host.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json, text/event-stream")
            .header("mcp-protocol-version", self.version.clone());
        if let Some(session) = &self.session {
            request = request.header("mcp-session-id", session.clone());
        }
        if call && self.era == Era::Modern {
            request = request.header("mcp-method", "tools/call").header("mcp-name", "echo");
        }
        let request = request.body(Full::new(Bytes::from(body))).map_err(|e| e.to_string())?;
        self.sender.ready().await.map_err(|e| format!("{}: {e}", self.subject.name))?;
        let response = self.sender.send_request(request).await.map_err(|e| format!("{}: {e}", self.subject.name))?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|e| format!("{}: {e}", self.subject.name))?.to_bytes();
        Ok((parts.status, parts.headers, body))
    }

    /// Calls `echo` until `deadline`; ids are `first`, then `first + IN_FLIGHT`, …
    async fn run(mut self, first: u64, text: Rc<str>, deadline: Instant, timed: bool) -> Result<Sample, String> {
        let mut sample = Sample::default();
        let mut id = first + 1;
        while Instant::now() < deadline {
            let body = subject::echo_call(self.era, id, &text);
            id += IN_FLIGHT as u64;
            let sent = Instant::now();
            let (status, headers, answer) = self.post(body, true).await?;
            let done = Instant::now();
            if status != StatusCode::OK {
                return Err(format!("{}: tools/call answered {status}", self.subject.name));
            }
            let answer = json_of(&headers, &answer);
            subject::check_answer(&self.subject, &answer, (sample.requests == 0).then_some(&*text))?;
            // An answer after the deadline is outside the measured time.
            if done < deadline {
                if timed {
                    sample.latencies.push(done.duration_since(sent).as_nanos() as u64);
                }
                sample.requests += 1;
            }
        }
        self.close().await;
        Ok(sample)
    }

    /// Ends a legacy session (`DELETE`), so sessions do not pile up in the server across cells.
    async fn close(&mut self) {
        let Some(session) = self.session.clone() else { return };
        let request = Request::delete("/mcp")
            .header(http::header::HOST, self.host.clone())
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", self.version.clone())
            .body(Full::new(Bytes::new()));
        if let Ok(request) = request
            && self.sender.ready().await.is_ok()
            && let Ok(response) = self.sender.send_request(request).await
        {
            let _ = response.into_body().collect().await;
        }
    }
}

/// The JSON-RPC message of an answer: the body itself, or the last `data:` of an SSE stream.
fn json_of(headers: &http::HeaderMap, body: &Bytes) -> Bytes {
    let sse = headers.get(http::header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if !sse {
        return body.clone();
    }
    let data = body.split(|b| *b == b'\n').filter_map(|line| line.strip_prefix(b"data:")).rfind(|d| {
        let d = d.trim_ascii();
        d.starts_with(b"{") && memchr::memmem::find(d, b"\"jsonrpc\"").is_some()
    });
    data.map(|d| body.slice_ref(d.trim_ascii())).unwrap_or_default()
}
