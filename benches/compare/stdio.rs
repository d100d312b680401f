//! Driving a subject over stdio: one child process per subject and era, one session for all
//! its cells.

use std::time::{Duration, Instant};

use bytes::Bytes;
use mocopr_benches::peak_rss_kib;
use mocopr_core::jsonrpc::recover_id;
use mocopr_transport::child::{ChildProcess, Stderr};
use mocopr_transport::{FramingConfig, Inbound};
use tokio::process::Command;

use crate::subject::{self, Era, Kind, Subject};
use crate::{IN_FLIGHT, Mode, Sample};

/// A subject's stdio server, greeted and ready for `tools/call`.
pub(crate) struct Server {
    pub(crate) subject: Subject,
    pub(crate) era: Era,
    child: ChildProcess,
    pid: u32,
    next_id: u64,
    batch: Vec<Inbound>,
}

impl Server {
    /// Starts the subject's program and, for a legacy session, runs the handshake.
    pub(crate) async fn start(subject: &Subject, era: Era) -> Result<Self, String> {
        let mut command = Command::new(&subject.stdio);
        if subject.kind == Kind::Sdk {
            command.arg("stdio");
        }
        // 10 KB payloads and their answers stay far below the default frame limit.
        let child = ChildProcess::spawn(command, Stderr::Null, &FramingConfig::default())
            .map_err(|e| format!("{}: {e}", subject.stdio.display()))?;
        let pid = child.id().ok_or("the child has no pid")?;
        let mut server = Server { subject: subject.clone(), era, child, pid, next_id: 1, batch: Vec::new() };
        if era == Era::Legacy && subject.kind == Kind::Sdk {
            server.send(subject::initialize(era)).await?;
            let answer = server.next_frame().await?;
            if subject::negotiated_version(&answer).is_none() {
                return Err(format!("{}: no initialize result: {}", subject.name, String::from_utf8_lossy(&answer)));
            }
            server.send(subject::INITIALIZED.to_owned()).await?;
        }
        Ok(server)
    }

    async fn send(&self, mut line: String) -> Result<(), String> {
        line.push('\n');
        self.child.sink.send(Bytes::from(line)).await.map_err(|e| format!("{}: {e}", self.subject.name))
    }

    /// Reads until at least one frame has arrived; the frames are in `self.batch`.
    async fn read(&mut self) -> Result<(), String> {
        self.batch.clear();
        while !self.batch.iter().any(|item| matches!(item, Inbound::Frame(_))) {
            let read = tokio::time::timeout(ANSWER_TIMEOUT, self.child.reader.read_batch(&mut self.batch));
            match read.await {
                Ok(Ok(true)) => {}
                Ok(Ok(false)) => return Err(format!("{} closed its output", self.subject.name)),
                Ok(Err(e)) => return Err(format!("{}: {e}", self.subject.name)),
                Err(_) => return Err(format!("{} stopped answering", self.subject.name)),
            }
        }
        Ok(())
    }

    async fn next_frame(&mut self) -> Result<Bytes, String> {
        let frames: Vec<Bytes> = loop {
            self.read().await?;
            let frames: Vec<Bytes> = self.frames().collect();
            if !frames.is_empty() {
                break frames;
            }
        };
        match <[Bytes; 1]>::try_from(frames) {
            Ok([frame]) => Ok(frame),
            Err(frames) => Err(format!("{}: {} answers to one request", self.subject.name, frames.len())),
        }
    }

    /// The answers read (frames with an id: a notification the server sends is no answer).
    fn frames(&self) -> impl Iterator<Item = Bytes> + '_ {
        self.batch.iter().filter_map(|item| match item {
            Inbound::Frame(frame) if recover_id(frame).is_some() => Some(frame.clone()),
            _ => None,
        })
    }

    /// Calls `echo` with `payload` bytes for `duration`, one at a time or [`IN_FLIGHT`] at once.
    pub(crate) async fn run(&mut self, mode: Mode, payload: usize, duration: Duration) -> Result<Sample, String> {
        let text = subject::text(payload);
        let era = self.era;
        let call = |id: u64| subject::echo_call(era, id, &text);
        let started = Instant::now();
        let deadline = started + duration;
        let mut sample = Sample { elapsed: duration, ..Sample::default() };
        match mode {
            Mode::Serial => {
                while Instant::now() < deadline {
                    let line = call(self.next_id);
                    self.next_id += 1;
                    let sent = Instant::now();
                    self.send(line).await?;
                    let answer = self.next_frame().await?;
                    sample.latencies.push(sent.elapsed().as_nanos() as u64);
                    subject::check_answer(&self.subject, &answer, (sample.requests == 0).then_some(&*text))?;
                    sample.requests += 1;
                }
            }
            Mode::Concurrent => {
                let mut outstanding = 0;
                let mut lines = String::new();
                while outstanding < IN_FLIGHT {
                    lines.push_str(&call(self.next_id));
                    lines.push('\n');
                    self.next_id += 1;
                    outstanding += 1;
                }
                while outstanding > 0 {
                    if !lines.is_empty() {
                        let frames = Bytes::from(std::mem::take(&mut lines));
                        self.child.sink.send(frames).await.map_err(|e| format!("{}: {e}", self.subject.name))?;
                    }
                    self.read().await?;
                    let open = Instant::now() < deadline;
                    let answers: Vec<Bytes> = self.frames().collect();
                    for answer in answers {
                        subject::check_answer(&self.subject, &answer, (sample.requests == 0).then_some(&*text))?;
                        outstanding -= 1;
                        if open {
                            sample.requests += 1;
                            lines.push_str(&call(self.next_id));
                            lines.push('\n');
                            self.next_id += 1;
                            outstanding += 1;
                        }
                    }
                }
            }
        }
        Ok(sample)
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Stops the process; its peak RSS in KiB.
    pub(crate) async fn stop(self) -> Option<u64> {
        let peak = peak_rss_kib(self.pid);
        let _ = self.child.shutdown().await;
        peak
    }
}

/// How long the driver waits for an answer before it gives the subject up.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
