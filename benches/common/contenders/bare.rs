//! The floor: the same router and `Cookie` header as ours, a no-op layer
//! in the session layer's place, and a handler that ignores the cookie.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use axum::{Router, routing::get};
use http::HeaderValue;
use tower::{Layer, Service};

use super::{ignore, ours};
use crate::common::Scenario;

/// A layer that does nothing, holding an `Arc` as a real layer holds its
/// configuration, so that the router clones and boxes a service of the
/// same shape as the session layer's.
#[derive(Clone)]
pub(super) struct Noop(Arc<u64>);

impl Noop {
    pub(super) fn new() -> Self {
        Self(Arc::new(0))
    }
}

impl<S> Layer<S> for Noop {
    type Service = NoopService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        NoopService {
            inner,
            _config: Arc::clone(&self.0),
        }
    }
}

#[derive(Clone)]
pub(super) struct NoopService<S> {
    inner: S,
    _config: Arc<u64>,
}

impl<S: Service<R>, R> Service<R> for NoopService<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        self.inner.call(request)
    }
}

pub(super) fn http(scenario: Scenario) -> (Router, Option<HeaderValue>) {
    let router = Router::new()
        .route("/", get(ignore))
        .layer(Noop::new())
        .with_state(());
    (router, ours::cookie(scenario))
}
