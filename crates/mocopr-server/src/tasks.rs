//! The tasks extension (`io.modelcontextprotocol/tasks`): a `tools/call` of a task-capable tool
//! whose handler does not finish on its first poll becomes a task; the client polls
//! `tasks/get`, answers input requests with `tasks/update`, and may `tasks/cancel`.
//!
//! Tasks live in a bounded in-process store until their TTL runs out; a task still running
//! then is cancelled and its handler dropped. Each task belongs to the caller that made it (the
//! principal's subject, or nobody's for anonymous callers): another caller is told it does not
//! exist. A full store (in total, or for one caller) makes room by dropping the oldest finished
//! task, else refuses the new one. A task handler asks for input with the same `RequestCtx`
//! calls as any handler; inside a task they park the task in `input_required` until
//! `tasks/update` brings the answers.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use mocopr_core::meta::TASKS_EXTENSION;
use mocopr_core::types::{InputCall, InputRequest, InputRequests, InputResponse, ResultType, Task, TaskStatus};
use mocopr_core::{ClientRequest, ErrorCode, ErrorObject, ProtocolError};

use crate::context::RequestCtx;
use crate::dispatch::{Outcome, empty_result};
use crate::server::McpServer;

/// Default polling interval suggested to clients.
pub(crate) const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(200);

/// 128 random bits as hex: task ids must be unguessable, so a failed random source is no id.
fn new_task_id() -> Option<String> {
    let mut bytes = [0u8; 16];
    if let Err(error) = getrandom::fill(&mut bytes) {
        tracing::error!(%error, "no task id: the OS random source failed");
        return None;
    }
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// One task.
#[derive(Debug)]
pub(crate) struct TaskEntry {
    id: String,
    /// The subject of the caller that made it.
    owner: Option<String>,
    created_at: String,
    created: Instant,
    pub(crate) expires: Instant,
    ttl: Duration,
    poll_interval: Duration,
    pub(crate) cancel: CancellationToken,
    state: Mutex<TaskState>,
}

#[derive(Debug)]
struct TaskState {
    status: TaskStatus,
    status_message: Option<String>,
    updated_at: String,
    input_requests: InputRequests,
    waiting: HashMap<String, (InputCall, oneshot::Sender<InputResponse>)>,
    result: Option<Value>,
    error: Option<ErrorObject>,
}

impl TaskEntry {
    /// A task of `owner`'s; `None` when no unguessable id can be made.
    pub(crate) fn new(ttl: Duration, poll_interval: Duration, owner: Option<String>) -> Option<Arc<Self>> {
        let created_at = now();
        let created = Instant::now();
        Some(Arc::new(TaskEntry {
            id: new_task_id()?,
            owner,
            created_at: created_at.clone(),
            created,
            // A TTL past what an `Instant` holds means never, in practice.
            expires: created.checked_add(ttl).unwrap_or(created + Duration::from_secs(100 * 365 * 86_400)),
            ttl,
            poll_interval,
            cancel: CancellationToken::new(),
            state: Mutex::new(TaskState {
                status: TaskStatus::Working,
                status_message: None,
                updated_at: created_at,
                input_requests: InputRequests::new(),
                waiting: HashMap::new(),
                result: None,
                error: None,
            }),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, TaskState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The task as a result or notification body; `result_type` is `task` on creation,
    /// `complete` from `tasks/get`.
    pub(crate) fn snapshot(&self, result_type: ResultType) -> Task {
        let state = self.lock();
        let mut task = Task::new(
            self.id.clone(),
            state.status,
            self.created_at.clone(),
            state.updated_at.clone(),
            Some(self.ttl.as_millis() as u64),
        );
        task.poll_interval_ms = Some(self.poll_interval.as_millis() as u64);
        task.status_message = state.status_message.clone();
        task.result_type = Some(result_type.clone());
        if result_type == ResultType::Complete {
            if state.status == TaskStatus::InputRequired {
                task.input_requests = Some(state.input_requests.clone());
            }
            task.result = state.result.clone();
            task.error = state.error.clone();
        }
        task
    }

    fn set_status(state: &mut TaskState, status: TaskStatus) {
        state.status = status;
        state.updated_at = now();
    }

    /// Parks the task until every request is answered through `tasks/update`.
    pub(crate) async fn ask(&self, requests: Vec<(String, InputCall)>) -> Result<Vec<InputResponse>, ErrorObject> {
        let mut receivers = Vec::with_capacity(requests.len());
        {
            let mut state = self.lock();
            if state.status.is_terminal() {
                return Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, "the task has ended"));
            }
            for (key, call) in requests {
                let (tx, rx) = oneshot::channel();
                state.input_requests.insert(key.clone(), InputRequest::from(call.clone()));
                state.waiting.insert(key, (call, tx));
                receivers.push(rx);
            }
            Self::set_status(&mut state, TaskStatus::InputRequired);
        }
        let mut answers = Vec::with_capacity(receivers.len());
        for rx in receivers {
            tokio::select! {
                answer = rx => answers.push(answer.map_err(|_| ErrorObject::new(ErrorCode::INTERNAL_ERROR, "the task ended"))?),
                () = self.cancel.cancelled() => return Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, "cancelled")),
            }
        }
        Ok(answers)
    }

    /// `tasks/update`: delivers answers for keys that are waiting; others are ignored.
    pub(crate) fn update(&self, responses: BTreeMap<String, InputResponse>) {
        let mut state = self.lock();
        for (key, response) in responses {
            let fits = state.waiting.get(&key).is_some_and(|(call, _)| crate::input::answers_call(&response, call));
            if fits && let Some((_, tx)) = state.waiting.remove(&key) {
                state.input_requests.remove(&key);
                let _ = tx.send(response);
            }
        }
        if state.waiting.is_empty() && state.status == TaskStatus::InputRequired {
            Self::set_status(&mut state, TaskStatus::Working);
        }
    }

    /// Records the outcome of the handler.
    pub(crate) fn finish(&self, outcome: Result<Value, ErrorObject>) {
        let mut state = self.lock();
        if state.status.is_terminal() {
            return;
        }
        state.waiting.clear();
        state.input_requests.clear();
        match outcome {
            Ok(result) => {
                state.result = Some(result);
                Self::set_status(&mut state, TaskStatus::Completed);
            }
            Err(error) => {
                state.status_message = Some(error.message.to_string());
                state.error = Some(error);
                Self::set_status(&mut state, TaskStatus::Failed);
            }
        }
    }

    /// `tasks/cancel`: a running task stops and ends `cancelled`; an ended one is left alone.
    pub(crate) fn cancel(&self) {
        let mut state = self.lock();
        if !state.status.is_terminal() {
            state.waiting.clear();
            state.input_requests.clear();
            Self::set_status(&mut state, TaskStatus::Cancelled);
        }
        drop(state);
        self.cancel.cancel();
    }
}

/// Every task of one server.
#[derive(Debug)]
pub(crate) struct TaskStore {
    tasks: Mutex<HashMap<String, Arc<TaskEntry>>>,
    /// Most tasks kept at once.
    pub(crate) max: usize,
    /// Most tasks one caller may have at once.
    pub(crate) max_per_caller: usize,
    pub(crate) ttl: Duration,
    pub(crate) poll_interval: Duration,
}

impl TaskStore {
    /// A store of at most `max` tasks, `max_per_caller` of them one caller's, each kept `ttl`.
    pub(crate) fn new(max: usize, max_per_caller: usize, ttl: Duration) -> Self {
        TaskStore { tasks: Mutex::new(HashMap::new()), max, max_per_caller, ttl, poll_interval: DEFAULT_POLL_INTERVAL }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<TaskEntry>>> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores a task: expired ones are dropped first (and stopped, if still running), then the
    /// oldest finished task where a bound is reached; `false` when nothing could make room.
    pub(crate) fn insert(&self, task: Arc<TaskEntry>) -> bool {
        let mut tasks = self.lock();
        let now = Instant::now();
        tasks.retain(|_, t| {
            let keep = t.expires > now;
            if !keep {
                t.cancel();
            }
            keep
        });
        let owner = task.owner.clone();
        let owned = tasks.values().filter(|t| t.owner == owner).count();
        if owned >= self.max_per_caller && !evict_oldest_finished(&mut tasks, |t| t.owner == owner) {
            return false;
        }
        if tasks.len() >= self.max && !evict_oldest_finished(&mut tasks, |_| true) {
            return false;
        }
        tasks.insert(task.id.clone(), task);
        true
    }

    /// The task `id` of `caller`, unless unknown, another caller's, or expired.
    pub(crate) fn get(&self, id: &str, caller: Option<&str>) -> Option<Arc<TaskEntry>> {
        self.lock().get(id).filter(|t| t.expires > Instant::now() && t.owner.as_deref() == caller).cloned()
    }
}

/// Drops the oldest finished task `eligible` says may go; whether there was one.
fn evict_oldest_finished(tasks: &mut HashMap<String, Arc<TaskEntry>>, eligible: impl Fn(&TaskEntry) -> bool) -> bool {
    let oldest = tasks
        .values()
        .filter(|t| eligible(t) && t.lock().status.is_terminal())
        .min_by_key(|t| t.created)
        .map(|t| t.id.clone());
    oldest.and_then(|id| tasks.remove(&id)).is_some()
}

impl McpServer {
    /// `tasks/get`, `tasks/update`, `tasks/cancel`: the client must declare the extension.
    pub(crate) fn task_request(&self, body: ClientRequest, ctx: &RequestCtx) -> Outcome {
        if !self.inner.capabilities.has_extension(TASKS_EXTENSION) {
            let method = mocopr_core::messages::MethodCall::method(&body);
            return Err(ProtocolError::MethodNotFound { method: method.into() }.to_error_object());
        }
        if !ctx.client_capabilities().supports_tasks_extension() {
            return Err(tasks_required());
        }
        let unknown = |id: &str| ErrorObject::new(ErrorCode::INVALID_PARAMS, format!("unknown task `{id}`"));
        // Another caller's task is as unknown as one that never was.
        let caller = ctx.principal().map(mocopr_core::principal::Principal::subject);
        match body {
            ClientRequest::GetTask(p) => {
                let task = self.inner.tasks.get(&p.task_id, caller).ok_or_else(|| unknown(&p.task_id))?;
                self.serialize(&task.snapshot(ResultType::Complete), true, true)
            }
            ClientRequest::UpdateTask(p) => {
                let task = self.inner.tasks.get(&p.task_id, caller).ok_or_else(|| unknown(&p.task_id))?;
                task.update(p.input_responses);
                Ok(empty_result(true))
            }
            ClientRequest::CancelTask(p) => {
                let task = self.inner.tasks.get(&p.task_id, caller).ok_or_else(|| unknown(&p.task_id))?;
                task.cancel();
                Ok(empty_result(true))
            }
            other => {
                Err(ProtocolError::MethodNotFound { method: mocopr_core::messages::MethodCall::method(&other).into() }
                    .to_error_object())
            }
        }
    }
}

/// `-32021` asking for the tasks extension.
pub(crate) fn tasks_required() -> ErrorObject {
    let required = serde_json::json!({ "extensions": { TASKS_EXTENSION: {} } });
    ProtocolError::MissingRequiredClientCapability { required }.to_error_object()
}
