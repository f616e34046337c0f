//! The layer driven in process: one request, a handler that runs a closure
//! on the session, the response.

use std::{convert::Infallible, future::ready};

use http::{HeaderValue, Request, Response, header::COOKIE};
use tower::{Layer, ServiceExt, service_fn};
use tower_cookie_session::{Session, SessionLayer};

/// Sends one request through `layer`, with `cookie` as its whole `Cookie`
/// header, to a handler that runs `handler` on the session; returns what
/// `handler` returned, and the response.
///
/// It never waits: the future is ready on its first poll.
pub(crate) async fn call<R>(
    layer: &SessionLayer,
    cookie: Option<&[u8]>,
    handler: impl FnOnce(&Session) -> R,
) -> (R, Response<()>) {
    let mut handler = Some(handler);
    let mut out = None;
    let service = layer.layer(service_fn(|req: Request<()>| {
        let session = req
            .extensions()
            .get::<Session>()
            .expect("the layer puts a Session into the request");
        out = handler.take().map(|handler| handler(session));
        ready(Ok::<_, Infallible>(Response::new(())))
    }));
    let mut request = Request::builder().uri("/");
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, HeaderValue::from_bytes(cookie).unwrap());
    }
    let response = service
        .oneshot(request.body(()).expect("request"))
        .await
        .expect("infallible");
    (out.expect("the handler ran"), response)
}
