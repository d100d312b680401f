//! The submit side: calls arrive one at a time; the collector groups them until the group is
//! full or the batch timeout has passed since its first call, then runs the group.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot};

use mocopr_client::ClientError;
use mocopr_core::types::CallToolResult;

use crate::processor::{Core, ToolCall};

/// A submitted call and where its result goes.
pub(crate) struct Queued {
    pub(crate) call: ToolCall,
    pub(crate) answer: oneshot::Sender<Result<CallToolResult, ClientError>>,
}

/// Groups queued calls and runs each group, until every sender is gone.
pub(crate) async fn collect(
    core: Arc<Core>,
    mut queue: mpsc::Receiver<Queued>,
    max_batch_size: usize,
    batch_timeout: Duration,
) {
    // Groups running at once: each holds at least one call, and calls are bounded by the
    // concurrency limit, so more groups than that would only wait.
    let groups = Arc::new(Semaphore::new(core.concurrency_limit));
    while let Some(first) = queue.recv().await {
        let deadline = tokio::time::Instant::now() + batch_timeout;
        let mut group = vec![first];
        while group.len() < max_batch_size {
            match tokio::time::timeout_at(deadline, queue.recv()).await {
                Ok(Some(next)) => group.push(next),
                Ok(None) | Err(_) => break,
            }
        }
        let Ok(slot) = groups.clone().acquire_owned().await else { return };
        let core = core.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let (calls, answers): (Vec<ToolCall>, Vec<_>) = group.into_iter().map(|q| (q.call, q.answer)).unzip();
            let results = core.execute(&calls).await;
            for (answer, result) in answers.into_iter().zip(results) {
                // A submitter that stopped waiting no longer needs its result.
                let _ = answer.send(result);
            }
        });
    }
}
