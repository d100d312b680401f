//! Argument completion (`completion/complete`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::common::ResultType;
use crate::meta::{Meta, RequestMeta};

/// The most values a completion may return.
pub const MAX_COMPLETION_VALUES: usize = 100;

/// What is being completed: a prompt's argument or a resource template's variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum CompletionReference {
    /// `ref/prompt`
    #[serde(rename = "ref/prompt")]
    Prompt {
        /// Prompt name.
        name: String,
        /// Display name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    /// `ref/resource`: a resource template URI.
    #[serde(rename = "ref/resource")]
    Resource {
        /// The URI template.
        uri: String,
    },
}

impl CompletionReference {
    /// A prompt's argument.
    pub fn prompt(name: impl Into<String>) -> Self {
        CompletionReference::Prompt { name: name.into(), title: None }
    }

    /// A resource template's variable.
    pub fn resource(uri_template: impl Into<String>) -> Self {
        CompletionReference::Resource { uri: uri_template.into() }
    }
}

/// The argument being completed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompletionArgument {
    /// Argument name.
    pub name: String,
    /// What has been typed so far.
    pub value: String,
}

impl CompletionArgument {
    /// Argument `name`, typed so far as `value`.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        CompletionArgument { name: name.into(), value: value.into() }
    }
}

/// Already-resolved arguments (2025-06-18 and later).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompletionContext {
    /// Argument values already chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<BTreeMap<String, String>>,
}

/// Params of `completion/complete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompleteRequestParams {
    /// What is completed.
    #[serde(rename = "ref")]
    pub reference: CompletionReference,
    /// The argument.
    pub argument: CompletionArgument,
    /// Context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<CompletionContext>,
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<RequestMeta>,
}

impl CompleteRequestParams {
    /// A completion of `argument` of `reference`.
    ///
    /// ```
    /// use mocopr_core::types::{CompleteRequestParams, CompletionArgument, CompletionReference};
    ///
    /// let params = CompleteRequestParams::new(CompletionReference::prompt("greet"), CompletionArgument::new("name", "Al"));
    /// assert_eq!(params.argument.value, "Al");
    /// ```
    pub fn new(reference: CompletionReference, argument: CompletionArgument) -> Self {
        CompleteRequestParams { reference, argument, context: None, meta: None }
    }

    /// Sets the arguments already chosen.
    pub fn with_context(mut self, arguments: BTreeMap<String, String>) -> Self {
        self.context = Some(CompletionContext { arguments: Some(arguments) });
        self
    }
}

/// The completion values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Completion {
    /// At most [`MAX_COMPLETION_VALUES`] values.
    pub values: Vec<String>,
    /// Total number of matches, which may exceed `values.len()`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Whether more values exist beyond these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
}

impl Completion {
    /// The first [`MAX_COMPLETION_VALUES`] of `values`; when there were more, `total` and
    /// `hasMore` say so.
    ///
    /// ```
    /// use mocopr_core::types::Completion;
    ///
    /// let completion = Completion::new(["Alice", "Alan"]);
    /// assert_eq!(completion.values, ["Alice", "Alan"]);
    /// assert_eq!(Completion::new((0..150).map(|n| n.to_string())).has_more, Some(true));
    /// ```
    pub fn new<I, S>(values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut values: Vec<String> = values.into_iter().map(Into::into).collect();
        if values.len() > MAX_COMPLETION_VALUES {
            let total = values.len() as u64;
            values.truncate(MAX_COMPLETION_VALUES);
            return Completion { values, total: Some(total), has_more: Some(true) };
        }
        Completion { values, total: None, has_more: None }
    }

    /// Sets the total number of matches.
    pub fn with_total(mut self, total: u64) -> Self {
        self.total = Some(total);
        self
    }

    /// Says whether more matches exist than the values sent.
    pub fn with_has_more(mut self, has_more: bool) -> Self {
        self.has_more = Some(has_more);
        self
    }
}

/// Result of `completion/complete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CompleteResult {
    /// The completion.
    pub completion: Completion,
    /// `resultType` (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}
