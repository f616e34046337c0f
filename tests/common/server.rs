//! Servers on a free loopback port, left running until the test ends.

use std::{future::Future, net::SocketAddr};

use axum::Router;
use tokio::net::TcpListener;

/// Serves `app` with `axum::serve` on a free loopback port; returns its
/// address.
pub(crate) async fn serve(app: Router) -> SocketAddr {
    spawn(|listener| async move { axum::serve(listener, app).await.unwrap() }).await
}

/// Listens on a free loopback port and runs `serve` on the listener in a
/// task of its own; returns the address, which takes connections at once.
pub(crate) async fn spawn<F, Fut>(serve: F) -> SocketAddr
where
    F: FnOnce(TcpListener) -> Fut,
    Fut: Future<Output: Send + 'static> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener));
    addr
}
