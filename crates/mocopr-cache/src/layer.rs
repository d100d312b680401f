//! [`CacheLayer`]: answers what is safe to cache from a [`MultiLevelCache`] and passes
//! everything else through. The service below never knows.
//!
//! Only complete results are kept: never an error, a streamed result, an `input_required`
//! (MRTR) result, a result whose handler asked the client for input (legacy), or a tool
//! result with `isError`. The server's hints bound what is kept: no longer than `ttlMs` (a
//! result with `ttlMs` 0 is not kept), and `private` results only per [`CachePartition`](crate::CachePartition). A result served from the cache carries a
//! `ttlMs` no longer than the time its entry has left, so a client never holds it fresher
//! than the server does.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use serde_json::value::RawValue;
use tower_layer::Layer;
use tower_service::Service;

use mocopr_core::service::{InputWasRequested, McpRequest, McpResponse, RawJson};
use mocopr_core::{ErrorCode, ErrorObject};

use crate::cache::{Computed, Lookup, MultiLevelCache};
use crate::policy::{CachePolicy, Plan};

/// Wraps a service with the cache.
#[derive(Debug, Clone)]
pub struct CacheLayer {
    cache: MultiLevelCache,
    policy: Arc<CachePolicy>,
}

impl CacheLayer {
    /// Caches what `policy` allows in `cache`.
    pub fn new(cache: MultiLevelCache, policy: CachePolicy) -> Self {
        CacheLayer { cache, policy: Arc::new(policy) }
    }
}

impl<S> Layer<S> for CacheLayer {
    type Service = CacheService<S>;

    fn layer(&self, inner: S) -> CacheService<S> {
        CacheService { inner, cache: self.cache.clone(), policy: self.policy.clone() }
    }
}

/// The service [`CacheLayer`] makes.
#[derive(Debug, Clone)]
pub struct CacheService<S> {
    inner: S,
    cache: MultiLevelCache,
    policy: Arc<CachePolicy>,
}

impl<S> CacheService<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The cache.
    pub fn cache(&self) -> &MultiLevelCache {
        &self.cache
    }
}

impl<S> Service<McpRequest> for CacheService<S>
where
    S: Service<McpRequest, Response = McpResponse, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = McpResponse;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<McpResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        let Some(plan) = self.policy.plan(&request, &self.cache) else {
            return Box::pin(self.inner.call(request));
        };
        // The ready service handles this request; the clone takes its place for the next.
        let service = self.inner.clone();
        let service = std::mem::replace(&mut self.inner, service);
        let cache = self.cache.clone();
        let ttl = self.policy.ttl.unwrap_or(cache.config().default_ttl);
        Box::pin(async move {
            let id = request.id.clone();
            // The work runs at most once per caller; the slot hands it the request.
            let slot = Mutex::new(Some((service, request)));
            let planned = &plan;
            let work = || {
                let taken = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
                let id = id.clone();
                async move {
                    let Some((mut service, request)) = taken else {
                        // The cache runs a caller's work at most once; answer rather than panic.
                        let error = ErrorObject::new(ErrorCode::INTERNAL_ERROR, "cache work ran twice");
                        return Computed { cache: None, output: McpResponse::error(id, error) };
                    };
                    let Ok(response) = service.call(request).await;
                    let cache = cacheable(&response, planned, ttl);
                    Computed { cache, output: response }
                }
            };
            match cache.get_or_compute(&plan.key, plan.tag.as_deref(), work).await {
                Lookup::Computed(response) => Ok(response),
                Lookup::Hit(hit) => {
                    let result = with_ttl_at_most(hit.value.clone(), hit.remaining().as_millis());
                    Ok(McpResponse::result(id, RawJson::from_bytes(result)))
                }
            }
        })
    }
}

/// The bytes to keep and for how long, when `response` is a complete result that may be
/// shared. The server's own hints bound it: `ttlMs` caps the lifetime (0 or less: not kept).
/// The cache fails closed: entries are keyed by the caller's partition (a
/// [`CachePartition`](crate::CachePartition) or a principal); for a caller without one only a
/// result marked `cacheScope: public` is kept, and a tool the user vouched for has one entry
/// for everyone.
fn cacheable(
    response: &McpResponse,
    plan: &Plan,
    ttl: std::time::Duration,
) -> Option<(Bytes, Option<std::time::Duration>)> {
    // A legacy handler that asked the client for input made a result for this exchange only.
    if response.extensions.get::<InputWasRequested>().is_some() {
        return None;
    }
    let raw = response.result_json()?;
    #[derive(serde::Deserialize)]
    struct Shape<'a> {
        #[serde(rename = "resultType", borrow, default)]
        result_type: Option<&'a str>,
        #[serde(rename = "isError", default)]
        is_error: Option<bool>,
        #[serde(rename = "ttlMs", default)]
        ttl_ms: Option<f64>,
        #[serde(rename = "cacheScope", borrow, default)]
        cache_scope: Option<&'a str>,
    }
    let shape: Shape<'_> = serde_json::from_slice(raw.as_bytes()).ok()?;
    if shape.result_type.is_some_and(|t| t != "complete") || (plan.is_tool_call && shape.is_error == Some(true)) {
        return None;
    }
    if shape.cache_scope != Some("public") && !plan.shared && !plan.partitioned {
        return None;
    }
    let ttl = match shape.ttl_ms {
        Some(ms) if ms <= 0.0 => return None,
        Some(ms) => ttl.min(std::time::Duration::try_from_secs_f64(ms / 1000.0).unwrap_or(ttl)),
        None => ttl,
    };
    Some((raw.clone().into_bytes(), Some(ttl)))
}

/// `result` with its top-level `ttlMs` lowered to `remaining_ms` when it was higher (nested
/// values are not parsed, only carried as raw text).
fn with_ttl_at_most(result: Bytes, remaining_ms: u128) -> Bytes {
    let Ok(mut fields) = serde_json::from_slice::<BTreeMap<String, Box<RawValue>>>(&result) else { return result };
    let stated = fields.get("ttlMs").and_then(|raw| raw.get().parse::<u128>().ok());
    if stated.is_none_or(|ttl| ttl <= remaining_ms) {
        return result;
    }
    let Ok(lowered) = RawValue::from_string(remaining_ms.to_string()) else { return result };
    fields.insert("ttlMs".to_owned(), lowered);
    serde_json::to_vec(&fields).map_or(result, Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_is_lowered_to_what_the_entry_has_left_and_nothing_else_changes() {
        let result =
            Bytes::from_static(br#"{"tools":[{"name":"a","ttlMs":999999}],"ttlMs":60000,"cacheScope":"public"}"#);
        let lowered = with_ttl_at_most(result.clone(), 1500);
        let value: serde_json::Value = serde_json::from_slice(&lowered).expect("JSON");
        assert_eq!(value["ttlMs"], 1500);
        assert_eq!(value["tools"][0]["ttlMs"], 999_999, "nested fields untouched");
        assert_eq!(value["cacheScope"], "public");
        assert_eq!(with_ttl_at_most(result.clone(), 90_000), result, "never raised");
        let call = Bytes::from_static(br#"{"content":[]}"#);
        assert_eq!(with_ttl_at_most(call.clone(), 10), call, "no ttlMs, no change");
    }
}
