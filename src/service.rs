//! [`SessionService`]: puts a [`Session`] into each request and calls the
//! inner service.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use http::{Request, Response};
use tower_service::Service;

use crate::{config::Config, future::ResponseFuture, session::Session};

/// The service made by [`SessionLayer`](crate::SessionLayer).
///
/// It puts a [`Session`] into the request extensions (undecoded: the
/// cookie is verified only if a handler uses the session, or, with
/// revocation on, to check it before the inner service) and, through
/// [`ResponseFuture`], writes the cookie back. It demands nothing of the
/// request and response bodies, so it wraps axum, hyper and tonic services
/// alike; the inner service must be `Clone` (as axum's, hyper's and
/// tonic's are), for the revocation check to run before it.
///
/// ```
/// use http::{Request, Response};
/// use std::convert::Infallible;
/// use tower::{service_fn, Layer, ServiceExt};
/// use tower_cookie_session::{Session, SessionLayer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handler = service_fn(|req: Request<()>| async move {
///     let session = req.extensions().get::<Session>().unwrap();
///     session.insert("seen", true).unwrap();
///     Ok::<_, Infallible>(Response::new(()))
/// });
/// let service = SessionLayer::new([7; 32]).layer(handler);
/// let response = service.oneshot(Request::new(())).await.unwrap();
/// assert!(response.headers().contains_key("set-cookie"));
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct SessionService<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> SessionService<S> {
    pub(crate) fn new(inner: S, config: Arc<Config>) -> Self {
        Self { inner, config }
    }

    /// The wrapped service.
    ///
    /// ```
    /// # use tower::Layer;
    /// # use tower_cookie_session::SessionLayer;
    /// let service = SessionLayer::new([7; 32]).layer(tower::service_fn(|()| async { Ok::<_, ()>(()) }));
    /// let _inner = service.get_ref();
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    ///
    /// ```
    /// # use tower::Layer;
    /// # use tower_cookie_session::SessionLayer;
    /// let mut service = SessionLayer::new([7; 32]).layer(tower::service_fn(|()| async { Ok::<_, ()>(()) }));
    /// let _inner = service.get_mut();
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The wrapped service, unwrapped.
    ///
    /// ```
    /// # use tower::Layer;
    /// # use tower_cookie_session::SessionLayer;
    /// let service = SessionLayer::new([7; 32]).layer(tower::service_fn(|()| async { Ok::<_, ()>(()) }));
    /// let _inner = service.into_inner();
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    // Out of line: inlined, it makes the axum wrappers around it too large
    // to inline into one another, and each of them then copies the future
    // once more (about 70 instructions a request under callgrind).
    #[inline(never)]
    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let session = Session::new(Arc::clone(&self.config), req.headers());
        req.extensions_mut().insert(session.clone());
        // With revocation on, a session cookie is checked before the inner
        // service: the future calls the service that `poll_ready` readied,
        // and a clone takes its place here.
        if let Some(store) = &self.config.revocation
            && let Some(identity) = session.identity_to_check()
        {
            let check = store.is_revoked(&identity);
            let clone = self.inner.clone();
            let ready = std::mem::replace(&mut self.inner, clone);
            return ResponseFuture::checking(check, ready, req, session);
        }
        ResponseFuture::new(self.inner.call(req), session)
    }
}
