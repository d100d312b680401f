//! Change notifications: what `subscriptions/listen` streams deliver (list changes, resource
//! updates), fanned out from one bounded broadcast channel per server.

use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

/// How many changes a slow listener may fall behind before it skips to the newest.
pub(crate) const CHANGE_QUEUE: usize = 256;

/// Something that changed on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// The tool list changed.
    Tools,
    /// The prompt list changed.
    Prompts,
    /// The resource list changed.
    Resources,
    /// A resource's contents changed.
    ResourceUpdated(String),
}

impl Change {
    /// The legacy notification announcing this change (no `_meta`).
    pub fn to_notification(&self) -> Vec<u8> {
        let message = match self {
            Change::Tools => serde_json::json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}),
            Change::Prompts => serde_json::json!({"jsonrpc": "2.0", "method": "notifications/prompts/list_changed"}),
            Change::Resources => {
                serde_json::json!({"jsonrpc": "2.0", "method": "notifications/resources/list_changed"})
            }
            Change::ResourceUpdated(uri) => serde_json::json!({
                "jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": uri}
            }),
        };
        serde_json::to_vec(&message).unwrap_or_default()
    }

    /// The change a notification made by [`to_notification`](Self::to_notification)
    /// announces; `None` for any other message.
    pub fn from_notification(message: &[u8]) -> Option<Change> {
        #[derive(serde::Deserialize)]
        struct Notification {
            method: String,
            params: Option<Updated>,
        }
        #[derive(serde::Deserialize)]
        struct Updated {
            uri: String,
        }
        let notification: Notification = serde_json::from_slice(message).ok()?;
        match notification.method.as_str() {
            "notifications/tools/list_changed" => Some(Change::Tools),
            "notifications/prompts/list_changed" => Some(Change::Prompts),
            "notifications/resources/list_changed" => Some(Change::Resources),
            "notifications/resources/updated" => Some(Change::ResourceUpdated(notification.params?.uri)),
            _ => None,
        }
    }
}

/// A function told of each change before it is announced.
type Hook = Arc<dyn Fn(&Change) + Send + Sync>;

/// A log changes are shared through, not kept alive by the notifier.
#[cfg(feature = "http")]
type SharedLog = std::sync::Weak<dyn mocopr_transport::http::EventStore>;

/// Announces changes to every open listen stream. Cheap to clone.
#[derive(Clone)]
pub struct ChangeNotifier {
    tx: broadcast::Sender<Change>,
    /// Only the changes made in this process (what a shared log is told).
    local: broadcast::Sender<Change>,
    hooks: Arc<Mutex<Vec<Hook>>>,
    /// The event logs this notifier feeds (each is fed once).
    #[cfg(feature = "http")]
    shared: Arc<Mutex<Vec<SharedLog>>>,
}

impl std::fmt::Debug for ChangeNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeNotifier").field("listeners", &self.tx.receiver_count()).finish_non_exhaustive()
    }
}

impl Default for ChangeNotifier {
    fn default() -> Self {
        ChangeNotifier {
            tx: broadcast::channel(CHANGE_QUEUE).0,
            local: broadcast::channel(CHANGE_QUEUE).0,
            hooks: Arc::default(),
            #[cfg(feature = "http")]
            shared: Arc::default(),
        }
    }
}

impl ChangeNotifier {
    /// Announces `change`; a no-op when nobody listens. Hooks run first, synchronously, so
    /// what they do (e.g. a cache dropping stale entries) is done before any client hears.
    pub fn notify(&self, change: Change) {
        let _ = self.local.send(change.clone());
        self.announce(change);
    }

    /// Announces a change made by another server process (read from a shared log): like
    /// [`notify`](Self::notify), but not passed on to shared logs again.
    pub fn receive(&self, change: Change) {
        self.announce(change);
    }

    fn announce(&self, change: Change) {
        let hooks = self.hooks.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        for hook in hooks {
            hook(&change);
        }
        let _ = self.tx.send(change);
    }

    /// Shares changes with other server processes through `log` (e.g. a
    /// [`RedisEventStore`](mocopr_transport::http::RedisEventStore) every process uses): this
    /// process's changes are recorded there, which also feeds legacy HTTP sessions' standalone
    /// streams, and changes recorded by other processes are announced here (to listen streams,
    /// stdio sessions and [`on_change`](Self::on_change) hooks such as a cache's
    /// invalidation, before this process's streams deliver them). Sharing the same log again
    /// does nothing; the log is not kept alive by this. Needs a Tokio runtime.
    #[cfg(feature = "http")]
    pub fn share(&self, log: Arc<dyn mocopr_transport::http::EventStore>) {
        {
            let mut shared = self.shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            shared.retain(|known| known.strong_count() > 0);
            if shared.iter().any(|known| std::ptr::addr_eq(known.as_ptr(), Arc::as_ptr(&log))) {
                return;
            }
            shared.push(Arc::downgrade(&log));
        }
        // Out: recorded in order, one at a time, while the log lives.
        let mut local = self.local.subscribe();
        let out = Arc::downgrade(&log);
        tokio::spawn(async move {
            loop {
                let changes = match local.recv().await {
                    Ok(change) => vec![change],
                    // Too many at once: what was missed is unknown, so every list may have
                    // changed (clients re-fetch).
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(
                            missed,
                            "changes came faster than the event log took them; announcing every list as changed"
                        );
                        vec![Change::Tools, Change::Prompts, Change::Resources]
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let Some(log) = out.upgrade() else { return };
                for change in changes {
                    log.append(change.to_notification().into()).await;
                }
            }
        });
        // In: other processes' changes, announced before this process's streams get them.
        let notifier = self.downgrade();
        log.on_foreign_event(Arc::new(move |event| {
            if let (Some(notifier), Some(change)) = (notifier.upgrade(), Change::from_notification(&event.message)) {
                notifier.receive(change);
            }
        }));
    }

    #[cfg(feature = "http")]
    fn downgrade(&self) -> WeakNotifier {
        WeakNotifier {
            tx: self.tx.downgrade(),
            local: self.local.downgrade(),
            hooks: Arc::downgrade(&self.hooks),
            shared: Arc::downgrade(&self.shared),
        }
    }

    /// Runs `hook` on every change, before it is announced. Keep it quick: it runs on the
    /// caller of [`notify`](Self::notify).
    pub fn on_change(&self, hook: impl Fn(&Change) + Send + Sync + 'static) {
        self.hooks.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(Arc::new(hook));
    }

    /// The tool list changed.
    pub fn tools_changed(&self) {
        self.notify(Change::Tools);
    }

    /// The prompt list changed.
    pub fn prompts_changed(&self) {
        self.notify(Change::Prompts);
    }

    /// The resource list changed.
    pub fn resources_changed(&self) {
        self.notify(Change::Resources);
    }

    /// The resource at `uri` changed.
    pub fn resource_updated(&self, uri: impl Into<String>) {
        self.notify(Change::ResourceUpdated(uri.into()));
    }

    /// Every change from now on (a receiver that falls more than 256 changes behind skips
    /// to the newest).
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.tx.subscribe()
    }
}

/// A [`ChangeNotifier`] that does not keep it alive (the shared log's reader holds one).
#[cfg(feature = "http")]
struct WeakNotifier {
    tx: broadcast::WeakSender<Change>,
    local: broadcast::WeakSender<Change>,
    hooks: std::sync::Weak<Mutex<Vec<Hook>>>,
    shared: std::sync::Weak<Mutex<Vec<SharedLog>>>,
}

#[cfg(feature = "http")]
impl WeakNotifier {
    fn upgrade(&self) -> Option<ChangeNotifier> {
        Some(ChangeNotifier {
            tx: self.tx.upgrade()?,
            local: self.local.upgrade()?,
            hooks: self.hooks.upgrade()?,
            shared: self.shared.upgrade()?,
        })
    }
}
