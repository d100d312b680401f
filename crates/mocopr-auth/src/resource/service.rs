//! [`RequireBearer`]: the service the [`ResourceServer`](super::ResourceServer) layer makes.
//!
//! In order: the metadata paths are answered (without a token); a CORS preflight passes (a
//! browser sends it without credentials); the bearer token is taken from the one
//! `Authorization` header (never from the query string or the body) and checked; the scopes
//! every request needs are checked; when methods or tools have scopes of their own and the
//! token lacks one of them, the body is read (bounded in size and time) to find what the
//! request calls; then the principal goes into the request's extensions, the header comes off,
//! and the request goes on.
//!
//! Nearly every request repeats the token its connection's last request had accepted, and
//! needs no look at its body: that one is passed on at once, in `call`, and its future is the
//! inner service's own (no boxed future, no state machine of the layer's). Everything else
//! takes the checking future.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::header::{ACCESS_CONTROL_REQUEST_METHOD, AUTHORIZATION, CONTENT_LENGTH, ORIGIN};
use http::{HeaderMap, Method, Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Either, Full, LengthLimitError, Limited};
use mocopr_core::connection::ConnectionState;
use mocopr_core::principal::Principal;
use tower_service::Service;

use super::Inner;
use super::challenge::{Refusal, refusal_response};
use super::last_token;
use super::tokens::Accepted;

/// Requires a valid bearer token with the scopes a request needs; made by the
/// [`ResourceServer`](super::ResourceServer) layer.
#[derive(Debug, Clone)]
pub struct RequireBearer<S> {
    auth: Arc<Inner>,
    inner: S,
}

impl<S> RequireBearer<S> {
    pub(super) fn new(auth: Arc<Inner>, inner: S) -> Self {
        RequireBearer { auth, inner }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`RequireBearer`]: the inner service's future `F` (whose
    /// response has body `B` and error `E`) for a request let through at once, the layer's
    /// checks and then the inner service's for any other.
    pub struct RequireBearerFuture<F, B, E> {
        #[pin]
        state: State<F, B, E>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProjection]
    enum State<F, B, E> {
        Passed { #[pin] inner: F },
        Checking { checks: BoxFuture<'static, Result<Response<Either<B, Full<Bytes>>>, E>> },
    }
}

impl<F, B, E> std::fmt::Debug for RequireBearerFuture<F, B, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequireBearerFuture")
    }
}

impl<F, B, E> Future for RequireBearerFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<Either<B, Full<Bytes>>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProjection::Passed { inner } => inner.poll(cx).map(|answer| answer.map(|r| r.map(Either::Left))),
            StateProjection::Checking { checks } => checks.as_mut().poll(cx),
        }
    }
}

/// The bearer token of `headers`: `Ok(None)` when there is none (or another scheme), an
/// error when there is more than one `Authorization` header or the token is malformed.
fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, Refusal> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(Refusal::InvalidRequest("more than one Authorization header"));
    }
    let value = value.to_str().map_err(|_| Refusal::InvalidToken("malformed token"))?;
    let Some((scheme, token)) = value.split_once(' ') else { return Ok(None) };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = token.trim_matches(' ');
    // RFC 6750's b64token is visible ASCII without spaces: the header value is visible ASCII
    // already (`to_str`), so a space is all there is left to look for (a SIMD search; a token
    // is a few hundred bytes on every request). Anything else malformed fails verification.
    let body = token.trim_end_matches('=');
    if body.is_empty() || body.contains(' ') {
        return Err(Refusal::InvalidToken("malformed token"));
    }
    Ok(Some(token))
}

/// Whether `request` is a CORS preflight: an `OPTIONS` from a browser (`Origin` and
/// `Access-Control-Request-Method`) that carries no credentials. Those pass unchecked, as the
/// browser sends no token with them; any other `OPTIONS` needs a token like every request.
fn is_preflight<B>(request: &Request<B>) -> bool {
    let headers = request.headers();
    request.method() == Method::OPTIONS
        && headers.contains_key(ORIGIN)
        && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
        && !headers.contains_key(AUTHORIZATION)
}

fn granted(principal: &Principal, needed: &std::collections::BTreeSet<&str>) -> bool {
    needed.iter().all(|scope| principal.has_scope(scope))
}

/// The scope a step-up challenge names: every scope the request needs, those the token has
/// among them too (all in one challenge, as both the 2025-11-25 and 2026-07-28 revisions ask;
/// scopes the request does not need are the client's to keep).
fn step_up_scope(needed: &std::collections::BTreeSet<&str>) -> String {
    needed.iter().copied().collect::<Vec<_>>().join(" ")
}

/// Whether a `method` request of `principal` needs a look at its body: the policy names scopes
/// of methods or tools, the token lacks one of them, and the request has a body to name one.
fn reads_body(auth: &Inner, principal: &Principal, method: &Method) -> bool {
    auth.policy.reads_bodies()
        && method == Method::POST
        && !auth.every_scope.iter().all(|scope| principal.has_scope(scope))
}

/// Whether `principal` may make a `method` request without a look at its body: it needs none,
/// and the token holds every scope the policy asks of every request.
fn allowed_unread(auth: &Inner, principal: &Principal, method: &Method) -> bool {
    !reads_body(auth, principal, method) && auth.policy.always.iter().all(|scope| principal.has_scope(scope))
}

/// The verdict on a request's token when its connection had this resource server accept it
/// last and the verdict still holds.
fn remembered<B>(auth: &Inner, request: &Request<B>) -> Option<Accepted> {
    let server = auth.verifier.id()?;
    let connection = request.extensions().get::<ConnectionState>()?;
    let token = bearer_token(request.headers()).ok()??;
    last_token::recall(connection, server, token, Instant::now())
}

impl<S, B, ResBody> Service<Request<B>> for RequireBearer<S>
where
    S: Service<Request<Either<B, Full<Bytes>>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResBody: Send + 'static,
{
    type Response = Response<Either<ResBody, Full<Bytes>>>;
    type Error = S::Error;
    type Future = RequireBearerFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let checking = |checks| RequireBearerFuture { state: State::Checking { checks } };
        // The metadata is answered here; the inner service, ready, stays ready for the next call.
        if let Some(answer) = self.auth.metadata_answer(&request) {
            return checking(Box::pin(std::future::ready(Ok(answer.map(Either::Right)))));
        }
        let known = remembered(&self.auth, &request);
        if let Some(accepted) = known.as_ref().filter(|a| allowed_unread(&self.auth, &a.principal, request.method())) {
            request.headers_mut().remove(AUTHORIZATION);
            request.extensions_mut().insert(accepted.principal.clone());
            return RequireBearerFuture { state: State::Passed { inner: self.inner.call(request.map(Either::Left)) } };
        }
        // The clone that was made ready serves this request; the fresh one waits for the next.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        checking(Box::pin(check(self.auth.clone(), inner, request, known)))
    }
}

/// The layer's checks of `request` (whose token's verdict is `known` when its connection
/// remembered it), then `inner`'s answer to it.
async fn check<S, B, ResBody>(
    auth: Arc<Inner>,
    mut inner: S,
    request: Request<B>,
    known: Option<Accepted>,
) -> Result<Response<Either<ResBody, Full<Bytes>>>, S::Error>
where
    S: Service<Request<Either<B, Full<Bytes>>>, Response = Response<ResBody>>,
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let refuse =
        |refusal: Refusal, scope: &str| Ok(refusal_response(refusal, &auth.metadata_url, scope).map(Either::Right));
    if is_preflight(&request) {
        return inner.call(request.map(Either::Left)).await.map(|r| r.map(Either::Left));
    }
    let token = match bearer_token(request.headers()) {
        Ok(Some(token)) => token,
        Ok(None) => return refuse(Refusal::NoToken, &auth.baseline_scope),
        Err(refusal) => return refuse(refusal, &auth.baseline_scope),
    };
    // The connection's last token (a request whose body must be read, say), or the cache's
    // verdict, which the connection then keeps.
    let memo = auth.verifier.id().zip(request.extensions().get::<ConnectionState>());
    let accepted = match known {
        Some(accepted) => accepted,
        None => match auth.verifier.verify(token).await {
            Ok(accepted) => {
                if let Some((server, connection)) = memo {
                    last_token::remember(connection, server, token, &accepted);
                }
                accepted
            }
            Err(crate::TokenError::Unavailable(why)) => return refuse(Refusal::Unavailable(why), ""),
            Err(crate::TokenError::Invalid(why)) => return refuse(Refusal::InvalidToken(why), &auth.baseline_scope),
        },
    };
    let principal = accepted.principal;
    let (mut parts, body) = request.into_parts();
    parts.headers.remove(AUTHORIZATION);
    parts.extensions.insert(principal.clone());
    // A token with every scope the policy names needs no look at the body: whatever the
    // request calls, it is allowed (the endpoint still checks the body itself).
    if allowed_unread(&auth, &principal, &parts.method) {
        let request = Request::from_parts(parts, Either::Left(body));
        return inner.call(request).await.map(|r| r.map(Either::Left));
    }
    if !reads_body(&auth, &principal, &parts.method) {
        let needed = auth.policy.always.iter().map(String::as_str).collect();
        return refuse(Refusal::InsufficientScope, &step_up_scope(&needed));
    }
    let declared = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > auth.max_body_size as u64) {
        return refuse(Refusal::TooLarge, "");
    }
    // A small body has usually arrived with the headers: read it at once, and arm the timer (a
    // timer-wheel entry per request) only when it has not.
    let mut collected = std::pin::pin!(Limited::new(body, auth.max_body_size).collect());
    let read = match futures_util::poll!(collected.as_mut()) {
        Poll::Ready(read) => Ok(read),
        Poll::Pending => tokio::time::timeout(auth.body_timeout, collected).await,
    };
    let bytes = match read {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) if error.is::<LengthLimitError>() => return refuse(Refusal::TooLarge, ""),
        Ok(Err(_)) => return refuse(Refusal::InvalidRequest("request body unreadable"), ""),
        Err(_) => return refuse(Refusal::TooSlow, ""),
    };
    let Some(needed) = auth.policy.needed(&bytes) else {
        return refuse(Refusal::InvalidRequest("request body is no JSON-RPC message"), "");
    };
    if !granted(&principal, &needed) {
        return refuse(Refusal::InsufficientScope, &step_up_scope(&needed));
    }
    let request = Request::from_parts(parts, Either::Right(Full::new(bytes)));
    inner.call(request).await.map(|r| r.map(Either::Left))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(value: &str) -> Result<Option<String>, Refusal> {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().unwrap());
        bearer_token(&headers).map(|t| t.map(str::to_owned))
    }

    #[test]
    fn only_a_browser_preflight_passes_without_a_token() {
        let options = |headers: &[(&str, &str)]| {
            let mut request = Request::builder().method(Method::OPTIONS);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            is_preflight(&request.body(()).unwrap())
        };
        assert!(options(&[("origin", "https://app.example"), ("access-control-request-method", "POST")]));
        assert!(!options(&[]));
        assert!(!options(&[("origin", "https://app.example")]));
        assert!(!options(&[
            ("origin", "https://app.example"),
            ("access-control-request-method", "POST"),
            ("authorization", "Bearer x")
        ]));
    }

    #[test]
    fn only_one_well_formed_bearer_token_is_taken() {
        assert_eq!(token("Bearer abc.def-ghi_~+/=="), Ok(Some("abc.def-ghi_~+/==".into())));
        assert_eq!(token("bearer abc"), Ok(Some("abc".into())));
        assert_eq!(token("Basic dXNlcjpwdw=="), Ok(None));
        assert_eq!(token("Bearer"), Ok(None));
        assert!(token("Bearer a b").is_err());
        assert!(token("Bearer ==").is_err());
        let mut headers = HeaderMap::new();
        headers.append(AUTHORIZATION, "Bearer a".parse().unwrap());
        headers.append(AUTHORIZATION, "Bearer b".parse().unwrap());
        assert!(bearer_token(&headers).is_err());
        assert_eq!(bearer_token(&HeaderMap::new()), Ok(None));
    }
}
