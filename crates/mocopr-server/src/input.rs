//! Asking the client for input, in either era, through one API on [`RequestCtx`].
//!
//! Modern requests use MRTR: the answer is read from the retry's `inputResponses`; when it is
//! not there yet, the handler stops with an `InputRequiredResult` asking for it (the `?`
//! operator does this), and the client retries. Legacy sessions get a real server-to-client
//! request on the request's stream, and the handler waits for the answer.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::Value;

use mocopr_core::jsonrpc::JsonRpcRequest;
use mocopr_core::types::{
    ClientCapabilities, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult, InputCall,
    InputResponse, ListRootsResult, MetaOnlyParams,
};
use mocopr_core::{ErrorCode, ErrorObject, ProtocolError, ServerRequest};

use crate::context::RequestCtx;
use crate::error::HandlerError;

/// How long a legacy server-to-client request waits for its answer.
pub(crate) const DEFAULT_PEER_TIMEOUT: Duration = Duration::from_secs(60);

impl RequestCtx {
    /// Asks the user for input (`elicitation/create`) under `key`.
    pub async fn elicit(&self, key: &str, params: ElicitRequestParams) -> Result<ElicitResult, HandlerError> {
        match self.inputs(vec![(key.to_owned(), InputCall::Elicit(params))]).await?.pop() {
            Some(InputResponse::Elicit(result)) => Ok(result),
            _ => Err(HandlerError::internal("the client's answer is not an elicitation result")),
        }
    }

    /// Asks the client's model for a completion (`sampling/createMessage`) under `key`.
    pub async fn sample(
        &self,
        key: &str,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, HandlerError> {
        match self.inputs(vec![(key.to_owned(), InputCall::CreateMessage(params))]).await?.pop() {
            Some(InputResponse::CreateMessage(result)) => Ok(result),
            _ => Err(HandlerError::internal("the client's answer is not a sampling result")),
        }
    }

    /// Asks the client for its roots (`roots/list`) under `key`.
    pub async fn list_roots(&self, key: &str) -> Result<ListRootsResult, HandlerError> {
        match self.inputs(vec![(key.to_owned(), InputCall::ListRoots(MetaOnlyParams::default()))]).await?.pop() {
            Some(InputResponse::ListRoots(result)) => Ok(result),
            _ => Err(HandlerError::internal("the client's answer is not a roots list")),
        }
    }

    /// Asks for several inputs at once; the answers come back in the order asked. Each request
    /// needs the matching client capability (`-32021` otherwise). In the modern era, when any
    /// answer is missing or malformed, this returns the `InputRequiredResult` asking for the
    /// missing ones, carrying this request's state forward.
    pub async fn inputs(&self, requests: Vec<(String, InputCall)>) -> Result<Vec<InputResponse>, HandlerError> {
        for (_, call) in &requests {
            require_capability(self.client_capabilities(), self.protocol_version(), call)?;
        }
        if let Some(task) = self.task() {
            // Inside a task the task itself waits in `input_required` for `tasks/update`.
            return task.ask(requests).await.map_err(HandlerError::Protocol);
        }
        if self.protocol_version().is_modern() {
            let mut answers = Vec::with_capacity(requests.len());
            let mut missing = Vec::new();
            for (key, call) in requests {
                match self.input_response(&key).filter(|answer| answers_call(answer, &call)) {
                    Some(answer) => answers.push(answer.clone()),
                    None => missing.push((key, call)),
                }
            }
            if missing.is_empty() {
                return Ok(answers);
            }
            return Err(self.input_required(missing, self.request_state().map(str::to_owned)));
        }
        let asks = requests.into_iter().map(|(_, call)| self.ask_peer(call));
        join_all(asks).await.into_iter().collect()
    }

    /// A legacy server-to-client request, awaited.
    async fn ask_peer(&self, call: InputCall) -> Result<InputResponse, HandlerError> {
        // Marked first: even a failed attempt makes the result depend on this connection.
        self.mark_asked_peer();
        let (Some(session), Some(notifier)) = (self.session(), self.notifier()) else {
            return Err(HandlerError::internal("this connection cannot carry server-to-client requests"));
        };
        let Some((id, answer)) = session.register_request() else {
            return Err(HandlerError::internal("too many server-to-client requests are waiting"));
        };
        let body = match &call {
            InputCall::Elicit(p) => ServerRequest::Elicit(p.clone()),
            InputCall::CreateMessage(p) => ServerRequest::CreateMessage(p.clone()),
            InputCall::ListRoots(p) => ServerRequest::ListRoots(p.clone()),
            _ => return Err(HandlerError::internal("unsupported input request")),
        };
        let message = serde_json::to_vec(&JsonRpcRequest { id: id.clone(), body }).map_err(HandlerError::from)?;
        if !notifier.send_raw(message).await {
            session.forget_request(&id);
            return Err(HandlerError::internal("the client is gone"));
        }
        let answer = tokio::select! {
            answer = tokio::time::timeout(DEFAULT_PEER_TIMEOUT, answer) => answer,
            () = self.cancelled() => {
                session.forget_request(&id);
                return Err(HandlerError::internal("cancelled"));
            }
        };
        let value = match answer {
            Ok(Ok(Ok(value))) => value,
            Ok(Ok(Err(error))) => return Err(HandlerError::Protocol(error)),
            Ok(Err(_)) => return Err(HandlerError::internal("the session ended")),
            Err(_) => {
                session.forget_request(&id);
                return Err(HandlerError::internal("the client did not answer in time"));
            }
        };
        decode_answer(&call, value)
    }
}

fn decode_answer(call: &InputCall, value: Value) -> Result<InputResponse, HandlerError> {
    let invalid =
        |e: serde_json::Error| HandlerError::Protocol(ErrorObject::new(ErrorCode::INVALID_PARAMS, e.to_string()));
    Ok(match call {
        InputCall::Elicit(_) => InputResponse::Elicit(serde_json::from_value(value).map_err(invalid)?),
        InputCall::CreateMessage(_) => InputResponse::CreateMessage(serde_json::from_value(value).map_err(invalid)?),
        InputCall::ListRoots(_) => InputResponse::ListRoots(serde_json::from_value(value).map_err(invalid)?),
        _ => InputResponse::Other(value),
    })
}

pub(crate) fn answers_call(answer: &InputResponse, call: &InputCall) -> bool {
    matches!(
        (answer, call),
        (InputResponse::Elicit(_), InputCall::Elicit(_))
            | (InputResponse::CreateMessage(_), InputCall::CreateMessage(_))
            | (InputResponse::ListRoots(_), InputCall::ListRoots(_))
    )
}

/// The client capability `call` needs, as a `-32021` error when it is missing.
pub(crate) fn require_capability(
    caps: &ClientCapabilities,
    version: mocopr_core::ProtocolVersion,
    call: &InputCall,
) -> Result<(), HandlerError> {
    let required = match call {
        InputCall::Elicit(ElicitRequestParams::Url(_)) if !caps.supports_url_elicitation() => {
            serde_json::json!({ "elicitation": { "url": {} } })
        }
        InputCall::Elicit(ElicitRequestParams::Form(_)) if !caps.supports_form_elicitation() => {
            serde_json::json!({ "elicitation": {} })
        }
        InputCall::CreateMessage(p) if caps.sampling.is_none() => {
            if p.tools.is_some() {
                serde_json::json!({ "sampling": { "tools": {} } })
            } else {
                serde_json::json!({ "sampling": {} })
            }
        }
        InputCall::CreateMessage(p)
            if p.tools.is_some() && caps.sampling.as_ref().is_some_and(|s| s.tools.is_none()) =>
        {
            serde_json::json!({ "sampling": { "tools": {} } })
        }
        // Another server's (or this one's) context only for a client that offers it (a
        // capability since 2025-11-25; earlier clients had no way to say, so they are asked).
        InputCall::CreateMessage(p)
            if version >= mocopr_core::ProtocolVersion::V2025_11_25
                && matches!(
                    p.include_context,
                    Some(
                        mocopr_core::types::IncludeContext::ThisServer | mocopr_core::types::IncludeContext::AllServers
                    )
                )
                && caps.sampling.as_ref().is_some_and(|s| s.context.is_none()) =>
        {
            serde_json::json!({ "sampling": { "context": {} } })
        }
        InputCall::ListRoots(_) if caps.roots.is_none() => serde_json::json!({ "roots": {} }),
        _ => return Ok(()),
    };
    Err(HandlerError::Protocol(ProtocolError::MissingRequiredClientCapability { required }.to_error_object()))
}
