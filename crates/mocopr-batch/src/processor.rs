//! [`BatchProcessor`]: runs tool calls as batch arrays (2025-03-26) or bounded pipelined
//! requests, and hands each caller its own result.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, oneshot};

use mocopr_client::{ClientError, McpClient};
use mocopr_core::jsonrpc::DEFAULT_MAX_BATCH_LEN;
use mocopr_core::types::CallToolResult;
use mocopr_core::{ErrorCode, ErrorObject};

use crate::collector::{Queued, collect};

/// One tool call: the tool's name and its arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// The tool.
    pub name: String,
    /// Its arguments (a JSON object).
    pub arguments: Value,
}

impl ToolCall {
    /// A call of `name` with `arguments`.
    pub fn new(name: impl Into<String>, arguments: Value) -> Self {
        ToolCall { name: name.into(), arguments }
    }
}

/// Builds a [`BatchProcessor`].
#[derive(Debug, Clone)]
pub struct BatchProcessorBuilder {
    max_batch_size: usize,
    batch_timeout: Duration,
    concurrency_limit: usize,
}

impl BatchProcessorBuilder {
    /// Most calls in one batch array, and in one group collected by [`BatchProcessor::submit`]
    /// (default 100; at most the core's batch limit of 1,024).
    pub fn with_max_batch_size(mut self, size: usize) -> Self {
        self.max_batch_size = size.clamp(1, DEFAULT_MAX_BATCH_LEN);
        self
    }

    /// How long [`BatchProcessor::submit`] waits for more calls after the first of a group
    /// (default 5 ms).
    pub fn with_batch_timeout(mut self, timeout: Duration) -> Self {
        self.batch_timeout = timeout;
        self
    }

    /// Most calls in flight at once, across all batches of this processor (default 64).
    pub fn with_concurrency_limit(mut self, limit: usize) -> Self {
        self.concurrency_limit = limit.clamp(1, Semaphore::MAX_PERMITS);
        self
    }

    /// A processor sending through `client`. Starts the submit side's collector, so it must
    /// be called inside a Tokio runtime.
    pub fn build(self, client: McpClient) -> BatchProcessor {
        let core = Arc::new(Core {
            client,
            in_flight: Arc::new(Semaphore::new(self.concurrency_limit)),
            max_batch_size: self.max_batch_size,
            concurrency_limit: self.concurrency_limit,
        });
        // Room for two groups: submitters wait beyond that (the queue is bounded).
        let (queue, receiver) = mpsc::channel(self.max_batch_size * 2);
        tokio::spawn(collect(core.clone(), receiver, self.max_batch_size, self.batch_timeout));
        BatchProcessor { core, queue }
    }
}

/// What the processor's tasks share.
pub(crate) struct Core {
    client: McpClient,
    /// One permit per call in flight.
    in_flight: Arc<Semaphore>,
    max_batch_size: usize,
    pub(crate) concurrency_limit: usize,
}

/// Runs many tool calls through one client. Cheap to clone; the submit side's collector stops
/// when the last clone is dropped (after finishing what it holds).
#[derive(Clone)]
pub struct BatchProcessor {
    core: Arc<Core>,
    queue: mpsc::Sender<Queued>,
}

impl std::fmt::Debug for BatchProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchProcessor")
            .field("max_batch_size", &self.core.max_batch_size)
            .field("concurrency_limit", &self.core.concurrency_limit)
            .finish_non_exhaustive()
    }
}

impl BatchProcessor {
    /// Starts building a processor.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use mocopr_batch::{BatchProcessor, ToolCall};
    ///
    /// # async fn run(client: mocopr_client::McpClient) {
    /// let batch = BatchProcessor::builder()
    ///     .with_max_batch_size(100)
    ///     .with_batch_timeout(Duration::from_millis(5))
    ///     .with_concurrency_limit(16)
    ///     .build(client);
    /// let calls: Vec<_> = (0..10).map(|n| ToolCall::new("square", serde_json::json!({ "n": n }))).collect();
    /// for result in batch.execute_batch(&calls).await {
    ///     println!("{:?}", result.map(|r| r.text_content()));
    /// }
    /// # }
    /// ```
    pub fn builder() -> BatchProcessorBuilder {
        BatchProcessorBuilder { max_batch_size: 100, batch_timeout: Duration::from_millis(5), concurrency_limit: 64 }
    }

    /// Runs `calls` and returns one result per call, in input order.
    pub async fn execute_batch(&self, calls: &[ToolCall]) -> Vec<Result<CallToolResult, ClientError>> {
        self.core.execute(calls).await
    }

    /// Queues one call; it runs with the calls submitted around it, grouped by size and time.
    pub async fn submit(&self, call: ToolCall) -> Result<CallToolResult, ClientError> {
        let (answer, result) = oneshot::channel();
        self.queue.send(Queued { call, answer }).await.map_err(|_| ClientError::Closed)?;
        result.await.map_err(|_| ClientError::Closed)?
    }
}

impl Core {
    pub(crate) async fn execute(&self, calls: &[ToolCall]) -> Vec<Result<CallToolResult, ClientError>> {
        let batches = self.client.server().is_some_and(|facts| facts.version.allows_batches());
        if batches {
            let chunks = calls.chunks(self.max_batch_size).map(|chunk| self.array(chunk));
            futures_util::future::join_all(chunks).await.into_iter().flatten().collect()
        } else {
            futures_util::future::join_all(calls.iter().map(|call| self.pipelined(call))).await
        }
    }

    async fn pipelined(&self, call: &ToolCall) -> Result<CallToolResult, ClientError> {
        let _permit = self.in_flight.acquire().await.map_err(|_| ClientError::Closed)?;
        self.client.call_tool(&call.name, call.arguments.clone()).await
    }

    /// One batch array; its calls take their share of the concurrency limit.
    async fn array(&self, chunk: &[ToolCall]) -> Vec<Result<CallToolResult, ClientError>> {
        let permits = u32::try_from(chunk.len().min(self.concurrency_limit)).unwrap_or(u32::MAX);
        let Ok(_permits) = self.in_flight.acquire_many(permits).await else {
            return chunk.iter().map(|_| Err(ClientError::Closed)).collect();
        };
        let requests: Vec<(&str, Value)> = chunk
            .iter()
            .map(|call| ("tools/call", json!({ "name": call.name, "arguments": call.arguments })))
            .collect();
        match self.client.request_batch(&requests).await {
            Ok(results) => results.into_iter().map(|r| Ok(serde_json::from_value(r?)?)).collect(),
            Err(error) => chunk.iter().map(|_| Err(same_error(&error))).collect(),
        }
    }
}

/// A copy of `error` for each call of a batch that failed as a whole.
fn same_error(error: &ClientError) -> ClientError {
    match error {
        ClientError::Server(object) => ClientError::Server(object.clone()),
        ClientError::Timeout(after) => ClientError::Timeout(*after),
        ClientError::Closed => ClientError::Closed,
        other => ClientError::Server(ErrorObject::new(ErrorCode::INTERNAL_ERROR, other.to_string())),
    }
}
