//! `listen`: change notifications as a [`Stream`]. A modern server gets one long-lived
//! `subscriptions/listen` request whose stream carries the notifications (tagged with its
//! `subscriptionId`); a legacy server gets `resources/subscribe` for the URIs asked for, and
//! its unsolicited change notifications (stdio, or the session's GET stream) are filtered the
//! same way.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use serde_json::json;
use tokio::sync::mpsc;

use mocopr_core::types::SubscriptionFilter;
use mocopr_core::{ErrorCode, ErrorObject, RequestId, ServerNotification};

use crate::client::McpClient;
use crate::error::ClientError;
use crate::routes::LISTEN_BUFFER;

/// A stream of the change notifications a [`McpClient::listen`] asked for. Dropping it ends
/// the subscription (the listen request is cancelled, or legacy subscriptions are dropped).
pub struct Subscription {
    receiver: mpsc::Receiver<ServerNotification>,
    acknowledged: SubscriptionFilter,
    client: McpClient,
    kind: Kind,
}

enum Kind {
    /// The open `subscriptions/listen` request.
    Modern(RequestId),
    /// The legacy listener's key.
    Legacy(u64),
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").field("acknowledged", &self.acknowledged).finish_non_exhaustive()
    }
}

impl Subscription {
    /// What the server agreed to send (a subset of what was asked).
    pub fn acknowledged(&self) -> &SubscriptionFilter {
        &self.acknowledged
    }
}

impl Stream for Subscription {
    type Item = ServerNotification;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ServerNotification>> {
        self.receiver.poll_recv(cx)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let client = self.client.clone();
        let routes = &client.inner.routes;
        match &self.kind {
            Kind::Modern(id) => {
                routes.remove_listener(id);
                client.forget(id);
                #[cfg(feature = "http")]
                if let crate::client::Outbound::Http(link) = &client.inner.out {
                    // Closing the response stream is the cancellation over HTTP.
                    link.abort(id);
                    return;
                }
                let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
                let id = id.clone();
                runtime.spawn(async move { client.cancel(&id, "subscription dropped").await });
            }
            Kind::Legacy(key) => {
                let unwanted = routes.remove_legacy(*key);
                let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
                runtime.spawn(async move {
                    for uri in unwanted {
                        let _ = client.request("resources/unsubscribe", json!({ "uri": uri })).await;
                    }
                });
            }
        }
    }
}

impl McpClient {
    /// Subscribes to change notifications: list changes of tools, prompts and resources, and
    /// updates of the given resources. Returns once the server has acknowledged (modern) or the
    /// resource subscriptions are in place (legacy); [`Subscription::acknowledged`] says what
    /// the server will send. Over HTTP, a modern subscription holds one pooled connection (its
    /// response stream) while it is open.
    pub async fn listen(&self, filter: SubscriptionFilter) -> Result<Subscription, ClientError> {
        let (sender, receiver) = mpsc::channel(LISTEN_BUFFER);
        match self.modern() {
            Some(version) => self.listen_modern(filter, sender, receiver, version).await,
            None => self.listen_legacy(filter, sender, receiver).await,
        }
    }

    async fn listen_modern(
        &self,
        filter: SubscriptionFilter,
        sender: mpsc::Sender<ServerNotification>,
        receiver: mpsc::Receiver<ServerNotification>,
        version: mocopr_core::ProtocolVersion,
    ) -> Result<Subscription, ClientError> {
        let (id, mut answer) = self.register()?;
        self.inner.routes.add_listener(id.clone(), sender);
        // From here on, dropping the subscription (an error below, or the caller giving up)
        // removes the listener and cancels the request.
        let mut subscription = Subscription {
            receiver,
            acknowledged: SubscriptionFilter::default(),
            client: self.clone(),
            kind: Kind::Modern(id.clone()),
        };
        self.send_request(&id, "subscriptions/listen", json!({ "notifications": filter }), Some(version)).await?;
        // The acknowledgement comes first on the stream; an error answer means no stream.
        let first = tokio::time::timeout(self.inner.timeout, async {
            tokio::select! {
                notification = subscription.receiver.recv() => Ok(notification),
                answer = &mut answer => Err(answer),
            }
        })
        .await;
        match first {
            Ok(Ok(Some(ServerNotification::SubscriptionsAcknowledged(ack)))) => {
                subscription.acknowledged = ack.notifications;
                // When the server ends the listen request, the stream ends.
                let client = self.clone();
                tokio::spawn(async move {
                    let _ = answer.await;
                    client.inner.routes.remove_listener(&id);
                });
                Ok(subscription)
            }
            Ok(Err(Ok(Err(error)))) => Err(ClientError::Server(error)),
            Ok(Ok(None) | Err(_)) => Err(ClientError::Closed),
            Ok(Ok(Some(_))) => Err(ClientError::Server(ErrorObject::new(
                ErrorCode::INTERNAL_ERROR,
                "the listen stream did not start with an acknowledgement",
            ))),
            Err(_) => Err(ClientError::Timeout(self.inner.timeout)),
        }
    }

    async fn listen_legacy(
        &self,
        filter: SubscriptionFilter,
        sender: mpsc::Sender<ServerNotification>,
        receiver: mpsc::Receiver<ServerNotification>,
    ) -> Result<Subscription, ClientError> {
        let capabilities = self.server().map(|s| s.capabilities.clone()).unwrap_or_default();
        let list_changed = |cap: Option<bool>, wanted: Option<bool>| wanted.filter(|w| *w && cap == Some(true));
        let resources = capabilities.resources.as_ref();
        let mut honoured = SubscriptionFilter::default();
        honoured.tools_list_changed =
            list_changed(capabilities.tools.as_ref().and_then(|c| c.list_changed), filter.tools_list_changed);
        honoured.prompts_list_changed =
            list_changed(capabilities.prompts.as_ref().and_then(|c| c.list_changed), filter.prompts_list_changed);
        honoured.resources_list_changed =
            list_changed(resources.and_then(|c| c.list_changed), filter.resources_list_changed);
        if resources.and_then(|c| c.subscribe) == Some(true) {
            honoured.resource_subscriptions = filter.resource_subscriptions.clone();
        }
        let key = self.inner.routes.add_legacy(honoured.clone(), sender);
        let subscription =
            Subscription { receiver, acknowledged: honoured, client: self.clone(), kind: Kind::Legacy(key) };
        for uri in subscription.acknowledged.resource_subscriptions.iter().flatten() {
            // On failure, dropping the subscription unsubscribes what was subscribed.
            self.request("resources/subscribe", json!({ "uri": uri })).await?;
        }
        Ok(subscription)
    }
}
