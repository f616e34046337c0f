//! The layer driven in process: one request, a handler that runs a closure
//! on the session, the response.

use std::{cell::RefCell, convert::Infallible, future::ready, rc::Rc};

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
    // Shared, so that the service is `Clone`, as the layer requires.
    let handler = Rc::new(RefCell::new(Some(handler)));
    let out = Rc::new(RefCell::new(None));
    let (handler_in, out_in) = (Rc::clone(&handler), Rc::clone(&out));
    let service = layer.layer(service_fn(move |req: Request<()>| {
        let session = req
            .extensions()
            .get::<Session>()
            .expect("the layer puts a Session into the request");
        let handler = handler_in.borrow_mut().take();
        *out_in.borrow_mut() = handler.map(|handler| handler(session));
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
    let out = out.borrow_mut().take();
    (out.expect("the handler ran"), response)
}
