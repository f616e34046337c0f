//! The hyper and tonic examples, run as real servers on loopback and driven
//! by real clients: the session cookie goes back and forth the way a
//! browser (or a gRPC client keeping a cookie) would carry it.

mod common;

use std::net::SocketAddr;

use base64::{Engine, engine::general_purpose::STANDARD};
use http::{
    Request,
    header::{COOKIE, SET_COOKIE},
};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use tower_cookie_session::SessionLayer;

use common::{cookies::cookie_pair, server::spawn};

#[path = "../examples/hyper.rs"]
#[allow(dead_code, unreachable_pub)]
mod hyper_example;

#[path = "../examples/tonic.rs"]
#[allow(dead_code, unreachable_pub)]
mod tonic_example;

const SECRET: [u8; 32] = [7; 32];

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// What one visit to the hyper example saw.
struct Visit {
    visits: u64,
    /// The `name=value` part of the `Set-Cookie` header, as a browser sends it back.
    cookie: Option<String>,
}

async fn start_hyper() -> SocketAddr {
    spawn(|listener| hyper_example::serve(listener, SessionLayer::new(SECRET))).await
}

fn http1_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

async fn visit(client: &HttpClient, addr: SocketAddr, cookie: Option<&str>) -> Visit {
    let mut request = Request::get(format!("http://{addr}/"));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let response = client
        .request(request.body(Empty::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), http::StatusCode::OK);
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .map(|value| cookie_pair(value.to_str().unwrap()));
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body = std::str::from_utf8(&body).unwrap();
    let visits = body
        .trim()
        .strip_prefix("visits: ")
        .unwrap_or_else(|| panic!("unexpected body {body:?}"))
        .parse()
        .unwrap();
    Visit { visits, cookie }
}

/// Visits three times, sending back the cookie each time; returns the last one.
async fn visit_three_times(client: &HttpClient, addr: SocketAddr) -> String {
    let mut cookie = None;
    for expected in 1..=3 {
        let seen = visit(client, addr, cookie.as_deref()).await;
        assert_eq!(seen.visits, expected);
        cookie = Some(seen.cookie.expect("every visit changes the session"));
    }
    cookie.unwrap()
}

/// `session=<hex signature><base64 payload>` with the payload's count
/// changed and the old signature kept.
fn forge(cookie: &str, from: &str, to: &str) -> String {
    let (name, value) = cookie.split_once('=').unwrap();
    let (signature, payload) = value.split_at(40);
    let json = String::from_utf8(STANDARD.decode(payload).unwrap()).unwrap();
    assert!(json.contains(from), "payload {json} has no {from}");
    let forged = STANDARD.encode(json.replace(from, to));
    format!("{name}={signature}{forged}")
}

#[tokio::test]
async fn hyper_counter_goes_up_when_the_cookie_is_sent_back() {
    let addr = start_hyper().await;
    let client = http1_client();
    let cookie = visit_three_times(&client, addr).await;
    assert!(cookie.starts_with("session="), "{cookie}");
}

#[tokio::test]
async fn hyper_request_without_cookie_starts_at_one() {
    let addr = start_hyper().await;
    let client = http1_client();
    visit_three_times(&client, addr).await;

    let seen = visit(&client, addr, None).await;
    assert_eq!(seen.visits, 1);
    assert!(seen.cookie.is_some());
}

#[tokio::test]
async fn hyper_tampered_cookie_starts_at_one() {
    let addr = start_hyper().await;
    let client = http1_client();
    let cookie = visit_three_times(&client, addr).await;

    let forged = forge(&cookie, r#""visits":3"#, r#""visits":41"#);
    let seen = visit(&client, addr, Some(&forged)).await;
    assert_eq!(
        seen.visits, 1,
        "a cookie with a wrong signature must be ignored"
    );
}

#[tokio::test]
async fn hyper_serves_sessions_over_http2_too() {
    let addr = start_hyper().await;
    let client = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    visit_three_times(&client, addr).await;
}

async fn start_tonic() -> SocketAddr {
    spawn(|listener| tonic_example::serve(listener, SessionLayer::new(SECRET))).await
}

/// Calls `Increment`, sending `cookie` as metadata; returns the count and
/// the cookie to send next time.
async fn increment(
    client: &mut tonic_example::CounterClient,
    cookie: Option<&tonic::metadata::AsciiMetadataValue>,
) -> (u64, Option<tonic::metadata::AsciiMetadataValue>) {
    let response = client
        .increment(tonic_example::increment_request(cookie))
        .await
        .unwrap();
    let next = tonic_example::cookie_to_send(response.metadata());
    (response.get_ref().count, next)
}

#[tokio::test]
async fn tonic_counter_goes_up_when_the_cookie_travels_in_metadata() {
    let addr = start_tonic().await;
    let mut client = tonic_example::CounterClient::connect(addr).await.unwrap();
    let mut cookie = None;
    for expected in 1..=3 {
        let (count, next) = increment(&mut client, cookie.as_ref()).await;
        assert_eq!(count, expected);
        cookie = Some(next.expect("every call changes the session"));
    }
}

#[tokio::test]
async fn tonic_call_without_cookie_starts_at_one() {
    let addr = start_tonic().await;
    let mut client = tonic_example::CounterClient::connect(addr).await.unwrap();
    let (_, cookie) = increment(&mut client, None).await;
    let (count, _) = increment(&mut client, cookie.as_ref()).await;
    assert_eq!(count, 2);

    let (count, cookie) = increment(&mut client, None).await;
    assert_eq!(count, 1);
    assert!(cookie.is_some());
}

#[tokio::test]
async fn tonic_tampered_cookie_starts_at_one() {
    let addr = start_tonic().await;
    let mut client = tonic_example::CounterClient::connect(addr).await.unwrap();
    let (_, cookie) = increment(&mut client, None).await;
    let cookie = cookie.unwrap();

    let forged = forge(cookie.to_str().unwrap(), r#""count":1"#, r#""count":41"#);
    let (count, _) = increment(&mut client, Some(&forged.parse().unwrap())).await;
    assert_eq!(count, 1, "a cookie with a wrong signature must be ignored");
}
