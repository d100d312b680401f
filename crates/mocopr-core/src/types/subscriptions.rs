//! `subscriptions/listen` (2026-07-28): one long-lived request whose response stream carries
//! the change notifications the client asked for.

use serde::{Deserialize, Serialize};

use super::common::ResultType;
use crate::meta::{Meta, RequestMeta};

/// Which notifications a listen request asks for (omitted = not subscribed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SubscriptionFilter {
    /// `notifications/tools/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools_list_changed: Option<bool>,
    /// `notifications/prompts/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts_list_changed: Option<bool>,
    /// `notifications/resources/list_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_list_changed: Option<bool>,
    /// `notifications/resources/updated` for these URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_subscriptions: Option<Vec<String>>,
    /// `notifications/tasks` for these task ids (tasks extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_ids: Option<Vec<String>>,
}

impl SubscriptionFilter {
    /// Nothing subscribed yet.
    ///
    /// ```
    /// use mocopr_core::types::SubscriptionFilter;
    ///
    /// let filter = SubscriptionFilter::new().with_tools_list_changed(true).with_resource("mem://status");
    /// assert_eq!(filter.resource_subscriptions.as_deref(), Some(&["mem://status".to_owned()][..]));
    /// ```
    pub fn new() -> Self {
        SubscriptionFilter::default()
    }

    /// Asks for (or declines) `notifications/tools/list_changed`.
    pub fn with_tools_list_changed(mut self, wanted: bool) -> Self {
        self.tools_list_changed = Some(wanted);
        self
    }

    /// Asks for (or declines) `notifications/prompts/list_changed`.
    pub fn with_prompts_list_changed(mut self, wanted: bool) -> Self {
        self.prompts_list_changed = Some(wanted);
        self
    }

    /// Asks for (or declines) `notifications/resources/list_changed`.
    pub fn with_resources_list_changed(mut self, wanted: bool) -> Self {
        self.resources_list_changed = Some(wanted);
        self
    }

    /// Adds the resource `uri` to those whose updates are sent.
    pub fn with_resource(mut self, uri: impl Into<String>) -> Self {
        self.resource_subscriptions.get_or_insert_with(Vec::new).push(uri.into());
        self
    }
}

/// Params of `subscriptions/listen`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubscriptionsListenRequestParams {
    /// What to listen to.
    pub notifications: SubscriptionFilter,
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<RequestMeta>,
}

/// Params of `notifications/subscriptions/acknowledged`: the subset the server honours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubscriptionsAcknowledgedParams {
    /// What the server will send.
    pub notifications: SubscriptionFilter,
    /// Metadata (`subscriptionId`).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// The final result of a listen request the server ends gracefully.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SubscriptionsListenResult {
    /// `"complete"`.
    pub result_type: ResultType,
    /// Metadata; carries `io.modelcontextprotocol/subscriptionId`.
    #[serde(rename = "_meta")]
    pub meta: Meta,
}
