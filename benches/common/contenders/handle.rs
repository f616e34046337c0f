//! The handle layer: the least any session layer must do (DESIGN.md §7).
//! It wraps the service and puts a fresh per-request handle, an `Arc`,
//! into the request's extensions, and does nothing else: no header is
//! read, no future wrapped. The same router, handler and `Cookie` header
//! as bare, so `handle` minus `bare` is the price of the handle alone.

use std::{
    convert::Infallible,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use axum::{Router, routing::get};
use http::{HeaderValue, Request};
use tower::{Layer, Service, ServiceExt, service_fn};

use super::{ignore, ours};
use crate::common::{Scenario, drive::block_on};

/// What a session handle holds at the least: state that the handler
/// loads on first use, behind a lock because the handle is shared.
#[derive(Default)]
struct Handle {
    _state: Mutex<Option<Vec<u8>>>,
}

/// Holds an `Arc` as a real layer holds its configuration, as bare's
/// no-op layer does.
#[derive(Clone)]
struct HandleLayer(Arc<u64>);

impl<S> Layer<S> for HandleLayer {
    type Service = HandleService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HandleService {
            inner,
            _config: Arc::clone(&self.0),
        }
    }
}

#[derive(Clone)]
struct HandleService<S> {
    inner: S,
    _config: Arc<u64>,
}

impl<S: Service<Request<B>>, B> Service<Request<B>> for HandleService<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> S::Future {
        request.extensions_mut().insert(Arc::new(Handle::default()));
        self.inner.call(request)
    }
}

pub(super) fn http(scenario: Scenario) -> (Router, Option<HeaderValue>) {
    let layer = HandleLayer(Arc::new(0));
    // The handler ignores the handle, so check once that it is there.
    let probe = service_fn(|request: Request<()>| async move {
        Ok::<_, Infallible>(request.extensions().get::<Arc<Handle>>().is_some())
    });
    let seen = block_on(layer.layer(probe).oneshot(Request::new(())));
    assert_eq!(seen, Ok(true), "the handle layer adds a handle");
    let router = Router::new()
        .route("/", get(ignore))
        .layer(layer)
        .with_state(());
    (router, ours::cookie(scenario))
}
