//! `subscriptions/listen` (2026-07-28): the long-lived request whose response stream carries
//! the change notifications the client asked for, each tagged with its subscription id.

use serde_json::Value;

use mocopr_core::meta::SUBSCRIPTION_ID_KEY;
use mocopr_core::types::SubscriptionFilter;
use mocopr_core::{ErrorCode, ErrorObject};

use std::sync::Arc;

use mocopr_transport::{Notifier, Session};

use crate::changes::Change;
use crate::context::RequestCtx;
use crate::dispatch::{Outcome, empty_result};
use crate::server::McpServer;

/// Forwards server changes to a legacy session on a byte-stream connection (stdio): list
/// changes always, resource updates for the URIs it subscribed to. Ends when the connection's
/// output closes or the server goes away.
pub(crate) fn forward_to_session(
    mut changes: tokio::sync::broadcast::Receiver<Change>,
    session: Arc<Session>,
    stream: Notifier,
) {
    tokio::spawn(async move {
        loop {
            // Until the connection is gone: a server that outlives its connections must not
            // keep a task (and the connection's writer) per connection it ever served.
            let change = tokio::select! {
                change = changes.recv() => change,
                () = session.ended() => return,
            };
            let change = match change {
                Ok(change) => change,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            let resource = match &change {
                Change::ResourceUpdated(uri) => Some(uri.as_str()),
                _ => None,
            };
            if !session.state().is_some_and(|s| s.wants_change(resource)) {
                continue;
            }
            if !stream.send_raw(change.to_notification()).await {
                return;
            }
        }
    });
}

impl McpServer {
    /// `subscriptions/listen`: acknowledge what is honoured, then forward matching changes,
    /// each tagged with the subscription id, until the client cancels.
    pub(crate) async fn listen(&self, wanted: SubscriptionFilter, ctx: RequestCtx) -> Outcome {
        let Some(notifier) = ctx.notifier().cloned() else {
            return Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, "this transport cannot carry a listen stream"));
        };
        let inner = &self.inner;
        // What a listen stream holds for its life is bounded like a session's subscriptions.
        let uris = wanted.resource_subscriptions.as_deref().unwrap_or_default();
        if uris.len() > inner.limits.max_subscriptions {
            return Err(ErrorObject::new(
                ErrorCode::INVALID_PARAMS,
                format!("at most {} resource subscriptions per listen stream", inner.limits.max_subscriptions),
            ));
        }
        for uri in uris {
            self.check_uri(uri)?;
        }
        let caps = &inner.capabilities;
        let mut honoured = SubscriptionFilter::default();
        honoured.tools_list_changed = wanted.tools_list_changed.filter(|w| *w && caps.tools.is_some());
        honoured.prompts_list_changed = wanted.prompts_list_changed.filter(|w| *w && caps.prompts.is_some());
        honoured.resources_list_changed = wanted.resources_list_changed.filter(|w| *w && caps.resources.is_some());
        honoured.resource_subscriptions = wanted.resource_subscriptions.filter(|_| caps.resources.is_some());
        let id = serde_json::to_value(ctx.request_id()).unwrap_or(Value::Null);
        let meta = serde_json::json!({ SUBSCRIPTION_ID_KEY: id });
        let mut changes = inner.changes.subscribe();
        let ack = serde_json::json!({
            "jsonrpc": "2.0",
            "method": "notifications/subscriptions/acknowledged",
            "params": { "notifications": honoured, "_meta": meta },
        });
        if !notifier.send_raw(serde_json::to_vec(&ack).unwrap_or_default()).await {
            return Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, "the listener is gone"));
        }
        loop {
            let change = tokio::select! {
                change = changes.recv() => change,
                () = ctx.cancelled() => return Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, "cancelled")),
            };
            let (method, params) = match change {
                Ok(Change::Tools) if honoured.tools_list_changed == Some(true) => {
                    ("notifications/tools/list_changed", serde_json::json!({}))
                }
                Ok(Change::Prompts) if honoured.prompts_list_changed == Some(true) => {
                    ("notifications/prompts/list_changed", serde_json::json!({}))
                }
                Ok(Change::Resources) if honoured.resources_list_changed == Some(true) => {
                    ("notifications/resources/list_changed", serde_json::json!({}))
                }
                Ok(Change::ResourceUpdated(uri))
                    if honoured
                        .resource_subscriptions
                        .as_ref()
                        .is_some_and(|subs| subs.iter().any(|s| uri.starts_with(s.as_str()))) =>
                {
                    ("notifications/resources/updated", serde_json::json!({ "uri": uri }))
                }
                // A listener that fell behind skips what it missed and keeps listening.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                    return Ok(empty_result(true));
                }
                Ok(_) => continue,
            };
            let mut params = params;
            params["_meta"] = meta.clone();
            let message = serde_json::json!({ "jsonrpc": "2.0", "method": method, "params": params });
            if !notifier.send_raw(serde_json::to_vec(&message).unwrap_or_default()).await {
                return Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, "the listener is gone"));
            }
        }
    }
}
