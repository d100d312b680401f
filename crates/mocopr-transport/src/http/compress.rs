//! Response compression for [`serve_http`](super::serve_http): tower-http's `Compression`, for
//! the responses its test picks.
//!
//! tower-http's `CompressionBody` holds the state of every encoder inline, about 5.8 KB. Behind
//! `Compression`, every response carries one and is moved through the stack by value, several
//! times per response (memmove was 7–8% of an HTTP server's samples with 32 connections). Here a
//! response the test does not pick keeps its own body. One it picks, for a client that sent
//! Accept-Encoding, goes through `Compression` as before, with the compressing body boxed.

use std::convert::Infallible;
use std::future::Ready;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_RANGE, VARY};
use http::{HeaderValue, Request, Response};
use http_body_util::Either;
use tower_http::compression::{Compression, CompressionBody, Predicate, ResponseFuture};
use tower_service::Service;

/// A response's body as served: its own, or compressed.
pub(super) type ServedBody<B> = Either<B, Pin<Box<CompressionBody<B>>>>;

/// Compresses responses above a size, except server-sent event streams (their events must
/// not wait in a compressor), gRPC and images; nothing when the threshold is `None`.
#[derive(Debug, Clone, Copy)]
pub(super) struct CompressAbove(pub(super) Option<u16>);

impl Predicate for CompressAbove {
    fn should_compress<B: http_body::Body>(&self, response: &Response<B>) -> bool {
        use tower_http::compression::predicate::{NotForContentType, SizeAbove};
        self.0.is_some_and(|min| {
            SizeAbove::new(min)
                .and(NotForContentType::SSE)
                .and(NotForContentType::GRPC)
                .and(NotForContentType::IMAGES)
                .should_compress(response)
        })
    }
}

/// `inner`'s responses, those that `predicate` picks compressed as the client's
/// `Accept-Encoding` allows.
#[derive(Clone)]
pub(super) struct CompressPicked<S> {
    pub(super) inner: S,
    pub(super) predicate: CompressAbove,
}

impl<S, ReqBody, B> Service<Request<ReqBody>> for CompressPicked<S>
where
    S: Service<Request<ReqBody>, Response = Response<B>, Error = Infallible>,
    B: http_body::Body,
{
    type Response = Response<ServedBody<B>>;
    type Error = Infallible;
    type Future = Served<S::Future, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The only part of a request `Compression` reads is its Accept-Encoding. Kept as values
        // (a reference count each, and no allocation for the usual one header); a map is made
        // only for a response that is compressed.
        let mut accept = AcceptEncoding::default();
        if self.predicate.0.is_some() {
            let mut values = request.headers().get_all(ACCEPT_ENCODING).iter();
            accept.first = values.next().cloned();
            accept.more = values.cloned().collect();
        }
        Served { state: State::Calling { inner: self.inner.call(request) }, accept, predicate: self.predicate }
    }
}

pin_project_lite::pin_project! {
    /// The future of a [`CompressPicked`] response.
    pub(super) struct Served<F, B> {
        #[pin]
        state: State<F, B>,
        accept: AcceptEncoding,
        predicate: CompressAbove,
    }
}

/// A request's Accept-Encoding values.
#[derive(Default)]
struct AcceptEncoding {
    first: Option<HeaderValue>,
    more: Vec<HeaderValue>,
}

pin_project_lite::pin_project! {
    #[project = StateProjection]
    enum State<F, B> {
        Calling { #[pin] inner: F },
        Compressing { #[pin] compressing: ResponseFuture<Ready<Result<Response<B>, Infallible>>, CompressAbove> },
    }
}

impl<F, B> Future for Served<F, B>
where
    F: Future<Output = Result<Response<B>, Infallible>>,
    B: http_body::Body,
{
    type Output = Result<Response<ServedBody<B>>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProjection::Calling { inner } => {
                    let Ok(response) = std::task::ready!(inner.poll(cx));
                    // The test `Compression` makes before it compresses, so every other response
                    // is served as it would be there: as it is, its headers untouched.
                    let picked = !response.headers().contains_key(CONTENT_ENCODING)
                        && !response.headers().contains_key(CONTENT_RANGE)
                        && this.predicate.should_compress(&response);
                    if !picked {
                        return Poll::Ready(Ok(response.map(Either::Left)));
                    }
                    let Some(first) = this.accept.first.take() else {
                        // What `Compression` serves a client that sent no Accept-Encoding: the
                        // response as it is, caches told that it depends on Accept-Encoding.
                        let (mut parts, body) = response.into_parts();
                        let told = parts.headers.get_all(VARY).iter().any(|v| names_accept_encoding(v.as_bytes()));
                        if !told {
                            parts.headers.append(VARY, HeaderValue::from_static("accept-encoding"));
                        }
                        return Poll::Ready(Ok(Response::from_parts(parts, Either::Left(body))));
                    };
                    let mut carrier = Request::new(response);
                    let headers = carrier.headers_mut();
                    headers.append(ACCEPT_ENCODING, first);
                    for value in std::mem::take(&mut this.accept.more) {
                        headers.append(ACCEPT_ENCODING, value);
                    }
                    let compressing = Compression::new(Unwrap).compress_when(*this.predicate).call(carrier);
                    this.state.set(State::Compressing { compressing });
                }
                StateProjection::Compressing { compressing } => {
                    let Ok(compressed) = std::task::ready!(compressing.poll(cx));
                    return Poll::Ready(Ok(compressed.map(|body| Either::Right(Box::pin(body)))));
                }
            }
        }
    }
}

/// Whether a `Vary` value mentions Accept-Encoding, in any case: `Compression`'s own rule for not
/// adding it again.
fn names_accept_encoding(value: &[u8]) -> bool {
    const NAME: &[u8] = b"accept-encoding";
    value.windows(NAME.len()).any(|window| window.eq_ignore_ascii_case(NAME))
}

/// The service `Compression` wraps for a response already made: the request carries it as its
/// body, with the client's Accept-Encoding as its headers.
#[derive(Clone, Copy)]
struct Unwrap;

impl<B> Service<Request<Response<B>>> for Unwrap {
    type Response = Response<B>;
    type Error = Infallible;
    type Future = Ready<Result<Response<B>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Response<B>>) -> Self::Future {
        std::future::ready(Ok(request.into_body()))
    }
}

#[cfg(test)]
mod tests {
    use super::{ServedBody, names_accept_encoding};
    use crate::http::HttpBody;

    /// A served body is the response's own or a box, never tower-http's `CompressionBody`
    /// (about 5.8 KB) inline: every response is moved by value through the layers and hyper.
    #[test]
    fn a_served_body_is_about_the_size_of_the_responses_own() {
        let served = std::mem::size_of::<ServedBody<HttpBody>>();
        let own = std::mem::size_of::<HttpBody>();
        assert!(served <= own + 16, "a served body is {served} bytes, the response's own {own}");
    }

    #[test]
    fn vary_values_that_name_accept_encoding() {
        for (value, names) in [
            ("accept-encoding", true),
            ("Accept-Encoding", true),
            ("Origin, Accept-Encoding", true),
            ("origin,accept-encoding ", true),
            ("origin", false),
            ("x-accept-encoding", true),
            ("accept", false),
            ("", false),
        ] {
            assert_eq!(names_accept_encoding(value.as_bytes()), names, "{value:?}");
        }
    }
}
