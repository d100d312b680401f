//! Change notifications: what `subscriptions/listen` streams deliver (list changes, resource
//! updates), fanned out from one bounded broadcast channel per server.

use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

/// How many changes a slow listener may fall behind before it skips to the newest.
pub const CHANGE_QUEUE: usize = 256;

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

/// A function told of each change before it is announced.
type Hook = Arc<dyn Fn(&Change) + Send + Sync>;

/// Announces changes to every open listen stream. Cheap to clone.
#[derive(Clone)]
pub struct ChangeNotifier {
    tx: broadcast::Sender<Change>,
    hooks: Arc<Mutex<Vec<Hook>>>,
}

impl std::fmt::Debug for ChangeNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeNotifier").field("listeners", &self.tx.receiver_count()).finish_non_exhaustive()
    }
}

impl Default for ChangeNotifier {
    fn default() -> Self {
        ChangeNotifier { tx: broadcast::channel(CHANGE_QUEUE).0, hooks: Arc::default() }
    }
}

impl ChangeNotifier {
    /// Announces `change`; a no-op when nobody listens. Hooks run first, synchronously, so
    /// what they do (e.g. a cache dropping stale entries) is done before any client hears.
    pub fn notify(&self, change: Change) {
        let hooks = self.hooks.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        for hook in hooks {
            hook(&change);
        }
        let _ = self.tx.send(change);
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

    /// Every change from now on (a receiver that falls more than [`CHANGE_QUEUE`] behind skips
    /// to the newest).
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.tx.subscribe()
    }
}
