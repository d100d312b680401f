//! Change notifications: what `subscriptions/listen` streams deliver (list changes, resource
//! updates), fanned out from one bounded broadcast channel per server.

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

/// Announces changes to every open listen stream. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ChangeNotifier {
    tx: broadcast::Sender<Change>,
}

impl Default for ChangeNotifier {
    fn default() -> Self {
        ChangeNotifier { tx: broadcast::channel(CHANGE_QUEUE).0 }
    }
}

impl ChangeNotifier {
    /// Announces `change`; a no-op when nobody listens.
    pub fn notify(&self, change: Change) {
        let _ = self.tx.send(change);
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
