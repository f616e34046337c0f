//! A tonic gRPC service whose state lives in a session cookie.
//!
//! `counter.Counter/Increment` returns a count kept in the session. The
//! `SessionLayer` goes on tonic's `Server` like any tower layer; it puts the
//! `Session` into the HTTP request extensions, which tonic hands on as
//! `tonic::Request::extensions()`. The cookie travels as gRPC metadata: the
//! server answers with `set-cookie`, and the client sends its `name=value`
//! part back as `cookie` on the next call.
//!
//! No `protoc` is needed: the messages, server and client below are written
//! by hand, a trimmed version of what `tonic-build` would generate from
//!
//! ```proto
//! syntax = "proto3";
//! package counter;
//! service Counter { rpc Increment(IncrementRequest) returns (IncrementReply); }
//! message IncrementRequest {}
//! message IncrementReply { uint64 count = 1; }
//! ```
//!
//! ```text
//! cargo run --example tonic
//! ```
//!
//! It serves on 127.0.0.1 (`PORT`, default 50051), calls itself three times
//! with a client that carries the cookie (printing 1, 2, 3), and keeps
//! serving until stopped. `SESSION_SECRET` sets the signing secret (at
//! least 32 bytes; without it a fixed demo secret is used, with a warning).

use std::{
    convert::Infallible,
    error::Error,
    future::Future,
    net::SocketAddr,
    pin::Pin,
    task::{Context, Poll},
};

use http::uri::PathAndQuery;
use tokio::net::TcpListener;
use tonic::{
    Status,
    body::BoxBody,
    client::Grpc as GrpcClient,
    codec::ProstCodec,
    metadata::{AsciiMetadataValue, MetadataMap},
    server::{Grpc as GrpcServer, NamedService},
    transport::{Channel, Endpoint, Server, server::TcpIncoming},
};
use tower::{Service, service_fn};
use tower_cookie_session::{Session, SessionLayer};

/// Errors of the example's setup, sendable across tasks.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// Only for trying the example out: anyone who reads it can forge cookies.
const DEMO_SECRET: &[u8] = b"demo secret: never use this one in production!";

const INCREMENT_PATH: &str = "/counter.Counter/Increment";

/// The request of `counter.Counter/Increment` (no fields).
#[derive(Clone, PartialEq, prost::Message)]
pub struct IncrementRequest {}

/// The reply of `counter.Counter/Increment`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct IncrementReply {
    /// How many times this session has called `Increment`, this call included.
    #[prost(uint64, tag = "1")]
    pub count: u64,
}

/// The `counter.Counter` gRPC service.
#[derive(Clone, Copy, Debug, Default)]
pub struct CounterServer;

impl NamedService for CounterServer {
    const NAME: &'static str = "counter.Counter";
}

impl Service<http::Request<BoxBody>> for CounterServer {
    type Response = http::Response<BoxBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<BoxBody>) -> Self::Future {
        match req.uri().path() {
            INCREMENT_PATH => Box::pin(async move {
                let mut grpc = GrpcServer::new(ProstCodec::default());
                Ok(grpc.unary(service_fn(increment), req).await)
            }),
            path => {
                let status = Status::unimplemented(format!("no method at {path}"));
                Box::pin(async move { Ok(status.into_http()) })
            }
        }
    }
}

/// `Increment`: adds one to the session's count and returns it.
async fn increment(
    request: tonic::Request<IncrementRequest>,
) -> Result<tonic::Response<IncrementReply>, Status> {
    let session = request
        .extensions()
        .get::<Session>()
        .ok_or_else(|| Status::internal("no session: is SessionLayer installed?"))?;
    let count = session
        .get::<u64>("count")
        .map_err(|e| Status::internal(e.to_string()))?
        .unwrap_or(0)
        + 1;
    session
        .insert("count", count)
        .map_err(|e| Status::internal(e.to_string()))?;
    Ok(tonic::Response::new(IncrementReply { count }))
}

/// Serves [`CounterServer`], behind `layer`, on `listener` until the
/// server fails.
///
/// # Errors
///
/// When the server fails.
pub async fn serve(listener: TcpListener, layer: SessionLayer) -> Result<(), BoxError> {
    let incoming = TcpIncoming::from_listener(listener, true, None)?;
    Server::builder()
        .layer(layer)
        .add_service(CounterServer)
        .serve_with_incoming(incoming)
        .await?;
    Ok(())
}

/// A client of `counter.Counter`.
#[derive(Clone, Debug)]
pub struct CounterClient {
    inner: GrpcClient<Channel>,
}

impl CounterClient {
    /// Connects over HTTP/2 to the server at `addr`.
    ///
    /// # Errors
    ///
    /// When the connection fails.
    pub async fn connect(addr: SocketAddr) -> Result<Self, BoxError> {
        let channel = Endpoint::from_shared(format!("http://{addr}"))?
            .connect()
            .await?;
        Ok(Self {
            inner: GrpcClient::new(channel),
        })
    }

    /// Calls `Increment`.
    ///
    /// # Errors
    ///
    /// The call's status when it fails.
    pub async fn increment(
        &mut self,
        request: tonic::Request<IncrementRequest>,
    ) -> Result<tonic::Response<IncrementReply>, Status> {
        self.inner
            .ready()
            .await
            .map_err(|e| Status::unavailable(format!("service not ready: {e}")))?;
        let path = PathAndQuery::from_static(INCREMENT_PATH);
        self.inner.unary(request, path, ProstCodec::default()).await
    }
}

/// The `name=value` part of the first `set-cookie` in `metadata`: what a
/// client sends back as `cookie` metadata.
pub fn cookie_to_send(metadata: &MetadataMap) -> Option<AsciiMetadataValue> {
    let set_cookie = metadata.get("set-cookie")?.to_str().ok()?;
    let name_value = cookie::Cookie::parse(set_cookie)
        .ok()?
        .stripped()
        .to_string();
    name_value.parse().ok()
}

/// An `Increment` request carrying `cookie`, if any, as `cookie` metadata.
pub fn increment_request(cookie: Option<&AsciiMetadataValue>) -> tonic::Request<IncrementRequest> {
    let mut request = tonic::Request::new(IncrementRequest {});
    if let Some(cookie) = cookie {
        request.metadata_mut().insert("cookie", cookie.clone());
    }
    request
}

/// The session layer for `secret`, or the demo secret with a warning when
/// there is none.
///
/// # Errors
///
/// When the secret is shorter than 32 bytes.
pub fn session_layer(secret: Option<Vec<u8>>) -> Result<SessionLayer, BoxError> {
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
async fn main() -> Result<(), BoxError> {
    let layer = session_layer(std::env::var_os("SESSION_SECRET").map(|s| s.into_encoded_bytes()))?;
    let port = match std::env::var("PORT") {
        Ok(port) => port.parse()?,
        Err(_) => 50051,
    };
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    let addr = listener.local_addr()?;
    println!("gRPC server on http://{addr} (counter.Counter/Increment)");
    let server = tokio::spawn(serve(listener, layer));

    let mut client = CounterClient::connect(addr).await?;
    let mut cookie = None;
    for _ in 0..3 {
        let response = client.increment(increment_request(cookie.as_ref())).await?;
        // Like a browser, keep the last cookie the server sent.
        cookie = cookie_to_send(response.metadata()).or(cookie);
        println!("Increment -> count {}", response.get_ref().count);
    }
    println!("still serving; stop with Ctrl-C");
    server.await?
}
