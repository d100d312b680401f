//! The programs compared, and the requests each is sent.

use std::path::PathBuf;

/// A protocol era: a legacy session (`initialize` first) or 2026-07-28 (`_meta` on each request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Era {
    Legacy,
    Modern,
}

impl Era {
    /// The revision a client asks for.
    pub(crate) fn version(self) -> &'static str {
        match self {
            Era::Legacy => "2025-11-25",
            Era::Modern => "2026-07-28",
        }
    }

    /// The label of the era in the report.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Era::Legacy => "legacy",
            Era::Modern => "2026-07-28",
        }
    }
}

/// What a subject is, which decides how it is started and greeted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A bare echo with no SDK: no handshake, any request answered with the echo.
    Limit,
    /// An MCP server started as `PROGRAM stdio` or `PROGRAM http --bind ADDRESS` (path `/mcp`).
    Sdk,
}

/// One program compared.
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    /// The stdio program (for an SDK server, also the HTTP one).
    pub(crate) stdio: PathBuf,
    /// The limit's HTTP program (it prints its address on stdout).
    pub(crate) http: PathBuf,
    /// The eras it is measured in.
    pub(crate) eras: Vec<Era>,
}

impl Subject {
    /// The bare limits. Sent 2026-07-28 requests (the larger body of the two eras).
    pub(crate) fn limit(stdio: PathBuf, http: PathBuf) -> Self {
        Subject { name: "limit".into(), kind: Kind::Limit, stdio, http, eras: vec![Era::Modern] }
    }

    /// MoCoPr's echo-server, in both eras: the build measured (`mocopr`), or another build of
    /// it under its own name (a baseline, for before/after figures from one run).
    pub(crate) fn mocopr(name: &str, program: PathBuf) -> Self {
        Subject {
            name: name.into(),
            kind: Kind::Sdk,
            http: program.clone(),
            stdio: program,
            eras: vec![Era::Legacy, Era::Modern],
        }
    }

    /// Another SDK's echo server: legacy sessions only (no peer serves 2026-07-28).
    pub(crate) fn peer(name: &str, program: PathBuf) -> Self {
        Subject { name: name.into(), kind: Kind::Sdk, http: program.clone(), stdio: program, eras: vec![Era::Legacy] }
    }
}

/// The `text` argument of `payload` bytes.
pub(crate) fn text(payload: usize) -> String {
    "x".repeat(payload)
}

/// A `tools/call` of `echo` with `text`, in `era`'s shape, without a trailing newline.
pub(crate) fn echo_call(era: Era, id: u64, text: &str) -> String {
    match era {
        Era::Legacy => format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"{text}"}}}}}}"#
        ),
        Era::Modern => format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"{text}"}},"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}}}}}}}}"#
        ),
    }
}

/// The legacy `initialize` request (id 0).
pub(crate) fn initialize(era: Era) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":0,"method":"initialize","params":{{"protocolVersion":"{}","capabilities":{{}},"clientInfo":{{"name":"bench-compare","version":"1.0.0"}}}}}}"#,
        era.version()
    )
}

/// The notification that ends a legacy handshake.
pub(crate) const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// The `protocolVersion` an `initialize` answer settled on, if `json` is one.
pub(crate) fn negotiated_version(json: &[u8]) -> Option<String> {
    let answer: serde_json::Value = serde_json::from_slice(json).ok()?;
    answer["result"]["protocolVersion"].as_str().map(str::to_owned)
}

/// Every answer counted must be a result (a server that answers with errors is not fast), and
/// the first of a run must carry `echoed` back.
pub(crate) fn check_answer(subject: &Subject, answer: &[u8], echoed: Option<&str>) -> Result<(), String> {
    let result = memchr::memmem::find(answer, b"\"result\"").is_some();
    if result && echoed.is_none_or(|text| memchr::memmem::find(answer, text.as_bytes()).is_some()) {
        return Ok(());
    }
    let shown: String = String::from_utf8_lossy(answer).chars().take(300).collect();
    Err(format!("{} did not answer with the echo: {shown}", subject.name))
}
