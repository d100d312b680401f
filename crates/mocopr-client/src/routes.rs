//! Where the server's notifications go: progress to the call that asked for it, listen-stream
//! notifications to their subscription (by `subscriptionId`), and legacy change notifications
//! to every legacy listener whose filter matches.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::mpsc;

use mocopr_core::jsonrpc::ProgressToken;
use mocopr_core::types::{ProgressNotificationParams, SubscriptionFilter};
use mocopr_core::{RequestId, ServerNotification};

/// A progress callback.
pub(crate) type ProgressFn = Arc<dyn Fn(ProgressNotificationParams) + Send + Sync>;

/// Notifications a subscription may hold before the newest are dropped (change notifications
/// are idempotent: the next one says the same).
pub(crate) const LISTEN_BUFFER: usize = 256;

/// The routing tables.
#[derive(Default)]
pub(crate) struct Routes {
    progress: Mutex<HashMap<ProgressToken, ProgressFn>>,
    /// Modern listen streams, by their request id (the `subscriptionId`).
    listeners: Mutex<HashMap<RequestId, mpsc::Sender<ServerNotification>>>,
    legacy: Mutex<Vec<LegacyListener>>,
    next_key: AtomicU64,
}

struct LegacyListener {
    key: u64,
    filter: SubscriptionFilter,
    sender: mpsc::Sender<ServerNotification>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Routes {
    pub(crate) fn add_progress(&self, token: ProgressToken, callback: ProgressFn) {
        lock(&self.progress).insert(token, callback);
    }

    pub(crate) fn remove_progress(&self, token: &ProgressToken) {
        lock(&self.progress).remove(token);
    }

    pub(crate) fn add_listener(&self, id: RequestId, sender: mpsc::Sender<ServerNotification>) {
        lock(&self.listeners).insert(id, sender);
    }

    pub(crate) fn remove_listener(&self, id: &RequestId) {
        lock(&self.listeners).remove(id);
    }

    /// Registers a legacy listener; returns its key.
    pub(crate) fn add_legacy(&self, filter: SubscriptionFilter, sender: mpsc::Sender<ServerNotification>) -> u64 {
        let key = self.next_key.fetch_add(1, Ordering::Relaxed);
        lock(&self.legacy).push(LegacyListener { key, filter, sender });
        key
    }

    /// Removes a legacy listener; returns the resource URIs no other listener still wants.
    pub(crate) fn remove_legacy(&self, key: u64) -> Vec<String> {
        let mut legacy = lock(&self.legacy);
        let Some(at) = legacy.iter().position(|l| l.key == key) else { return Vec::new() };
        let removed = legacy.swap_remove(at);
        let still_wanted = |uri: &String| {
            legacy.iter().any(|l| l.filter.resource_subscriptions.as_ref().is_some_and(|uris| uris.contains(uri)))
        };
        removed.filter.resource_subscriptions.unwrap_or_default().into_iter().filter(|uri| !still_wanted(uri)).collect()
    }

    /// Sends `notification` where it belongs.
    pub(crate) fn deliver(&self, notification: ServerNotification) {
        if let ServerNotification::Progress(progress) = &notification {
            let callback = lock(&self.progress).get(&progress.progress_token).cloned();
            if let Some(callback) = callback {
                callback(progress.clone());
            }
            return;
        }
        if let Some(id) = subscription_id(&notification) {
            if let Some(sender) = lock(&self.listeners).get(&id) {
                let _ = sender.try_send(notification);
            }
            return;
        }
        for listener in lock(&self.legacy).iter().filter(|l| wants(&l.filter, &notification)) {
            let _ = listener.sender.try_send(notification.clone());
        }
    }
}

/// The listen request a modern notification belongs to.
fn subscription_id(notification: &ServerNotification) -> Option<RequestId> {
    let meta = match notification {
        ServerNotification::ToolListChanged(p)
        | ServerNotification::PromptListChanged(p)
        | ServerNotification::ResourceListChanged(p) => p.meta.as_ref(),
        ServerNotification::ResourceUpdated(p) => p.meta.as_ref(),
        ServerNotification::SubscriptionsAcknowledged(p) => p.meta.as_ref(),
        _ => None,
    };
    meta.and_then(|m| m.subscription_id())
}

/// Whether a legacy listener asked for `notification`.
fn wants(filter: &SubscriptionFilter, notification: &ServerNotification) -> bool {
    match notification {
        ServerNotification::ToolListChanged(_) => filter.tools_list_changed == Some(true),
        ServerNotification::PromptListChanged(_) => filter.prompts_list_changed == Some(true),
        ServerNotification::ResourceListChanged(_) => filter.resources_list_changed == Some(true),
        ServerNotification::ResourceUpdated(p) => filter
            .resource_subscriptions
            .as_ref()
            .is_some_and(|uris| uris.iter().any(|u| p.uri.starts_with(u.as_str()))),
        _ => false,
    }
}
