//! A bare hyper 1 server (no axum) that counts each visitor's requests in a
//! session cookie.
//!
//! `SessionLayer` wraps a plain `tower::service_fn`; hyper-util's
//! `TowerToHyperService` adapts the result to hyper, and each connection is
//! served with hyper-util's `auto::Builder` (HTTP/1 and HTTP/2). The
//! handler finds the `Session` in the request extensions.
//!
//! ```text
//! cargo run --example hyper
//! curl -c jar -b jar http://127.0.0.1:3001/    # visits: 1, 2, 3, ...
//! ```
//!
//! `PORT` sets the port (default 3001); `SESSION_SECRET` the signing secret
//! (at least 32 bytes; without it a fixed demo secret is used, with a
//! warning).

use std::{convert::Infallible, error::Error, net::SocketAddr};

use http::{Request, Response, StatusCode, header::CONTENT_TYPE};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto,
    service::TowerToHyperService,
};
use tokio::net::TcpListener;
use tower::{Layer, Service, service_fn};
use tower_cookie_session::{Session, SessionLayer};

/// Only for trying the example out: anyone who reads it can forge cookies.
const DEMO_SECRET: &[u8] = b"demo secret: never use this one in production!";

/// The whole application: the handler wrapped by the session layer, as a
/// tower service over hyper's request body.
pub fn app(
    layer: &SessionLayer,
) -> impl Service<
    Request<Incoming>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ 'static {
    layer.layer(service_fn(handler))
}

/// Counts the visitor's requests in the session and answers `visits: N`.
async fn handler(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let Some(session) = req.extensions().get::<Session>() else {
        return Ok(text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "no session: is SessionLayer installed?\n".to_owned(),
        ));
    };
    let visits = session.get::<u64>("visits").map(|n| n.unwrap_or(0) + 1);
    let stored = visits.and_then(|n| session.insert("visits", n).map(|()| n));
    Ok(match stored {
        Ok(n) => text(StatusCode::OK, format!("visits: {n}\n")),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("session error: {e}\n"),
        ),
    })
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Accepts connections on `listener` forever, serving each on its own task
/// with [`app`].
///
/// # Errors
///
/// When accepting a connection fails.
pub async fn serve(listener: TcpListener, layer: SessionLayer) -> std::io::Result<()> {
    let service = TowerToHyperService::new(app(&layer));
    loop {
        let (stream, peer) = listener.accept().await?;
        let service = service.clone();
        tokio::spawn(async move {
            let connection = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(e) = connection {
                eprintln!("connection from {peer} failed: {e}");
            }
        });
    }
}

/// The session layer for `secret`, or the demo secret with a warning when
/// there is none.
///
/// # Errors
///
/// When the secret is shorter than 32 bytes.
pub fn session_layer(secret: Option<Vec<u8>>) -> Result<SessionLayer, Box<dyn Error>> {
    let secret = secret.unwrap_or_else(|| {
        eprintln!(
            "warning: SESSION_SECRET is not set; using a demo secret anyone can forge cookies with"
        );
        DEMO_SECRET.to_vec()
    });
    let layer = SessionLayer::try_new(secret)?;
    // Fail here, with a message, rather than when the layer wraps the service.
    layer.validate()?;
    Ok(layer)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let layer = session_layer(std::env::var_os("SESSION_SECRET").map(|s| s.into_encoded_bytes()))?;
    let port = match std::env::var("PORT") {
        Ok(port) => port.parse()?,
        Err(_) => 3001,
    };
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    println!("listening on http://{}/", listener.local_addr()?);
    serve(listener, layer).await?;
    Ok(())
}
