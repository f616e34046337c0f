//! Driving a router in process: requests built as hyper builds them,
//! polled once with no runtime (or, for a contender that waits on a
//! socket, on its own Tokio runtime), and the cookie a browser would send
//! back.

use std::{
    any::Any,
    future::Future,
    pin::pin,
    task::{Context, Poll, Waker},
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::Request,
    response::Response,
};
use http::{
    HeaderValue,
    header::{COOKIE, SET_COOKIE},
};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Polls a future that never waits: every contender here completes in
/// one poll, with no runtime needed, so the executor adds nothing.
pub(super) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a contender waited; it needs a runtime"),
    }
}

/// A current-thread Tokio runtime (IO and time) for a contender whose
/// requests wait on a socket, and the server they talk to, which it
/// outlives (fields drop in order).
#[cfg_attr(
    not(feature = "redis"),
    allow(dead_code, reason = "only revocation-redis needs one")
)]
pub(crate) struct Runtime {
    tokio: tokio::runtime::Runtime,
    _server: Box<dyn Any>,
}

#[cfg_attr(
    not(feature = "redis"),
    allow(dead_code, reason = "only revocation-redis needs one")
)]
impl Runtime {
    pub(super) fn new(tokio: tokio::runtime::Runtime, server: Box<dyn Any>) -> Self {
        Self {
            tokio,
            _server: server,
        }
    }
}

/// Runs `future` to completion: polled once without a runtime, or on
/// `runtime`.
#[inline]
pub(super) fn drive<F: Future>(runtime: Option<&Runtime>, future: F) -> F::Output {
    match runtime {
        None => block_on(future),
        Some(runtime) => runtime.tokio.block_on(future),
    }
}

pub(super) fn request(cookie: Option<&HeaderValue>) -> Request {
    let mut request = Request::new(Body::empty());
    if let Some(cookie) = cookie {
        request.headers_mut().insert(COOKIE, cookie.clone());
    }
    request
}

pub(super) fn call(
    router: &Router,
    cookie: Option<&HeaderValue>,
    runtime: Option<&Runtime>,
) -> Response {
    match drive(runtime, router.clone().oneshot(request(cookie))) {
        Ok(response) => response,
        Err(infallible) => match infallible {},
    }
}

pub(super) fn body_text(response: Response) -> String {
    let bytes = block_on(response.into_body().collect())
        .expect("in-memory body")
        .to_bytes();
    String::from_utf8(bytes.to_vec()).expect("UTF-8 body")
}

/// The `Cookie` header a browser would send back after `response`.
fn cookie_from(response: &Response) -> HeaderValue {
    let set_cookie = response
        .headers()
        .get(SET_COOKIE)
        .expect("the seed request sets a cookie")
        .to_str()
        .expect("ASCII Set-Cookie");
    let pair = set_cookie.split(';').next().unwrap_or_default();
    // As hyper does: header values share the request buffer, so cloning
    // one is a reference count, not a copy.
    let shared = Bytes::copy_from_slice(pair.as_bytes());
    let value = HeaderValue::from_maybe_shared(shared).expect("valid header");
    drop(value.clone());
    value
}

/// Sends a request through `seeder` that stores `state` in a new session,
/// and returns the cookie it sets.
pub(super) fn seed(seeder: Router) -> HeaderValue {
    let response = call(&seeder, None, None);
    assert_eq!(response.status(), 200, "seeding");
    cookie_from(&response)
}
