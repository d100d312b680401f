//! Params of the notifications both eras share: cancellation, progress, logging, list changes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::LoggingLevel;
use crate::jsonrpc::{ProgressToken, RequestId};
use crate::meta::Meta;

/// Params of `notifications/cancelled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CancelledNotificationParams {
    /// The request to cancel (required except for 2025-11-25 task cancellation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
    /// Why, for logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl CancelledNotificationParams {
    /// Cancels `request_id`.
    pub fn new(request_id: RequestId, reason: Option<String>) -> Self {
        CancelledNotificationParams { request_id: Some(request_id), reason, meta: None }
    }
}

/// Params of `notifications/progress`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProgressNotificationParams {
    /// The token from the request's `_meta`.
    pub progress_token: ProgressToken,
    /// Progress so far; increases with every notification (integer or float, kept as sent).
    pub progress: serde_json::Number,
    /// Total, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<serde_json::Number>,
    /// Human-readable status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl ProgressNotificationParams {
    /// Progress `progress` of the request that sent `token`. A value JSON cannot carry (NaN,
    /// infinity) is sent as 0.
    ///
    /// ```
    /// use mocopr_core::types::ProgressNotificationParams;
    /// use mocopr_core::RequestId;
    ///
    /// let params = ProgressNotificationParams::new(RequestId::from(7), 50.0).with_total(100.0);
    /// assert_eq!(params.total.and_then(|t| t.as_f64()), Some(100.0));
    /// ```
    pub fn new(token: ProgressToken, progress: f64) -> Self {
        ProgressNotificationParams {
            progress_token: token,
            progress: number(progress),
            total: None,
            message: None,
            meta: None,
        }
    }

    /// Sets the total.
    pub fn with_total(mut self, total: f64) -> Self {
        self.total = Some(number(total));
        self
    }

    /// Sets the status message.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// A float as a JSON number: whole values as integers (so `50.0` is sent as `50`), others as
/// floats; NaN and infinities as 0.
fn number(value: f64) -> serde_json::Number {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        return serde_json::Number::from(value as i64);
    }
    serde_json::Number::from_f64(value).unwrap_or_else(|| serde_json::Number::from(0))
}

/// Params of `notifications/message` (deprecated logging).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LoggingMessageNotificationParams {
    /// Severity.
    pub level: LoggingLevel,
    /// Logger name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logger: Option<String>,
    /// Any JSON.
    pub data: Value,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl LoggingMessageNotificationParams {
    /// A log message of `level` carrying `data`.
    pub fn new(level: LoggingLevel, data: Value) -> Self {
        LoggingMessageNotificationParams { level, logger: None, data, meta: None }
    }

    /// Sets the logger name.
    pub fn with_logger(mut self, logger: impl Into<String>) -> Self {
        self.logger = Some(logger.into());
        self
    }
}

/// Params of notifications that carry only `_meta` (list changes, `initialized`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NotificationParams {
    /// Metadata (`subscriptionId` on a listen stream).
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}
