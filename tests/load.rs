//! Load with nothing lost: the axum example app (`examples/axum/`) on a
//! real loopback port, 64 concurrent clients, each with its own cookie jar,
//! each counting its own visits for a bounded time. Every answer must show
//! the client's own count, every request must succeed, and the process's
//! memory must stay flat: the sessions live in the cookies, not on the
//! server.
//!
//! `LOAD_SECONDS` sets how long the clients run (default 12).
//!
//! `throughput_with_and_without_the_layer` is ignored by default: it
//! measures requests per second (BENCHMARKS.md, "Load") and means
//! something only in a release build:
//!
//! ```text
//! cargo test --release --all-features --test load -- --ignored --nocapture
//! ```

#![cfg(feature = "axum")]

#[path = "../examples/axum/app.rs"]
pub mod app;
mod common;

use std::{
    convert::identity,
    net::SocketAddr,
    time::{Duration, Instant},
};

use axum::{Router, body::Body, http::Request, response::Html, routing::get};
use http_body_util::BodyExt;
use hyper::header::{COOKIE, SET_COOKIE};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower::util::MapRequestLayer;
use tower_cookie_session::{Session, SessionLayer};

use common::{cookies::cookie_pair, pages::find_visits, server::serve};

const SECRET: &[u8] = b"the load test's secret, at least 32 bytes long";
const CLIENTS: usize = 64;

/// How long the clients run, warm-up included.
fn run_time() -> Duration {
    let secs = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    Duration::from_secs(secs)
}

/// This process's resident memory and its peak, in KiB (Linux only).
fn memory_kib() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// CPU time this process has used, user and system (Linux only). It
/// counts what the server and the clients do, whatever else the machine
/// runs, so it is steadier than a rate on a shared machine.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses: utime and
    // stime are the 12th and 13th, in clock ticks (USER_HZ, 100 on Linux).
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// A browser: its own cookie jar, and how many times it has loaded the
/// start page.
struct Visitor {
    client: reqwest::Client,
    requests: u64,
}

impl Visitor {
    fn new() -> Self {
        Self {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap(),
            requests: 0,
        }
    }

    /// Loads the start page once; the page must show this visitor's own
    /// count.
    async fn visit(&mut self, url: &str) -> Result<(), String> {
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| format!("body failed: {e}"))?;
        if status != 200 {
            return Err(format!("status {status}"));
        }
        self.requests += 1;
        match find_visits(&body) {
            Some(n) if n == self.requests => Ok(()),
            n => Err(format!("request {} showed the count {n:?}", self.requests)),
        }
    }

    /// Visits until `until`; stops at the first failure.
    async fn run(mut self, url: String, until: Instant) -> (Self, Result<(), String>) {
        while Instant::now() < until {
            if let Err(e) = self.visit(&url).await {
                return (self, Err(e));
            }
        }
        (self, Ok(()))
    }
}

/// Runs every visitor until `until`, concurrently; panics if any failed.
async fn run_all(visitors: Vec<Visitor>, url: &str, until: Instant) -> Vec<Visitor> {
    let tasks: Vec<_> = visitors
        .into_iter()
        .map(|v| tokio::spawn(v.run(url.to_owned(), until)))
        .collect();
    let mut visitors = Vec::with_capacity(tasks.len());
    for (i, task) in tasks.into_iter().enumerate() {
        let (visitor, result) = task.await.unwrap();
        if let Err(e) = result {
            panic!("client {i} failed after {} requests: {e}", visitor.requests);
        }
        visitors.push(visitor);
    }
    visitors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_lose_no_writes() {
    let url = format!("http://{}/", serve(app::app(SECRET)).await);
    let total = run_time();
    let warm_up = total / 4;
    let start = Instant::now();

    // Warm up: connections, the allocator and the runtime reach their
    // working size.
    let visitors = (0..CLIENTS).map(|_| Visitor::new()).collect();
    let visitors = run_all(visitors, &url, start + warm_up).await;
    let warm_requests: u64 = visitors.iter().map(|v| v.requests).sum();
    let warm = memory_kib();

    let mut visitors = run_all(visitors, &url, start + total).await;
    let elapsed = start.elapsed();
    let after = memory_kib();

    // One more visit each: the count in every cookie is the number of
    // requests its client made, nothing lost, nothing mixed up.
    for (i, v) in visitors.iter_mut().enumerate() {
        if let Err(e) = v.visit(&url).await {
            panic!("client {i}, final check: {e}");
        }
    }
    let requests: u64 = visitors.iter().map(|v| v.requests).sum();
    let fewest = visitors.iter().map(|v| v.requests).min().unwrap();
    println!(
        "{CLIENTS} clients, {requests} requests in {:.1} s ({:.0} requests/s), \
         {fewest} at least per client",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64()
    );
    assert!(
        fewest >= 10,
        "every client made real progress (fewest: {fewest})"
    );

    if let (Some((warm_rss, warm_hwm)), Some((rss, hwm))) = (warm, after) {
        println!(
            "memory: after {warm_requests} warm-up requests VmRSS {warm_rss} KiB \
             (peak {warm_hwm}); after {requests} requests VmRSS {rss} KiB (peak {hwm})"
        );
        // Generous, so that allocator noise never fails it: it catches
        // state that grows with the requests (a server-side copy of each
        // session would), not a few stray kilobytes. The clients live in
        // this process too; their memory is part of both readings.
        let bound = warm_hwm + 48 * 1024;
        assert!(
            rss <= bound && hwm <= bound,
            "memory grew: VmRSS {warm_rss} -> {rss} KiB, peak {warm_hwm} -> {hwm} KiB"
        );
    }
}

/// A page the size of the app's start page, showing `visits`.
fn page(visits: u64) -> Html<String> {
    Html(format!(
        "<!doctype html><p>You have visited this page <strong>{visits}</strong> times.</p>{}",
        "x".repeat(2900)
    ))
}

async fn plain_page() -> Html<String> {
    page(1)
}

/// The same page, with the visit counter kept in the session.
async fn counter_page(session: Session) -> Html<String> {
    let visits = session.get::<u64>("visits").ok().flatten().unwrap_or(0) + 1;
    let _ = session.insert("visits", visits);
    page(visits)
}

/// Drives `addr` with `CLIENTS` keep-alive HTTP/1.1 connections for
/// `time`, each sending back the last session cookie it was given (or
/// `cookie`, where no route sets one); returns the number of requests.
async fn drive(addr: SocketAddr, cookie: &str, time: Duration) -> u64 {
    let until = Instant::now() + time;
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (host, mut cookie) = (addr.to_string(), cookie.to_owned());
            tokio::spawn(async move {
                let stream = TcpStream::connect(addr).await.unwrap();
                let (mut sender, connection) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream))
                        .await
                        .unwrap();
                tokio::spawn(connection);
                let mut count = 0u64;
                while Instant::now() < until {
                    let request = Request::get("/")
                        .header("host", &host)
                        .header(COOKIE, &cookie)
                        .body(Body::empty())
                        .unwrap();
                    let response = sender.send_request(request).await.unwrap();
                    assert_eq!(response.status(), 200);
                    if let Some(set) = response.headers().get(SET_COOKIE) {
                        cookie = cookie_pair(set.to_str().unwrap());
                    }
                    response.into_body().collect().await.unwrap();
                    count += 1;
                }
                count
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run it in release mode, see the module docs"]
async fn throughput_with_and_without_the_layer() {
    const ROUNDS: u32 = 9;
    let round = run_time() / ROUNDS;
    // The same request everywhere: a cookie header of a session's size.
    let dummy = format!("session={}", "0".repeat(120));
    // A no-op layer that is not zero-sized, where the session layer goes.
    let noop = MapRequestLayer::new(identity::<Request<Body>> as fn(_) -> _);
    let configs = [
        (
            "no session layer (a no-op layer in its place)",
            serve(Router::new().route("/", get(plain_page)).layer(noop)).await,
        ),
        (
            "session layer, session not used",
            serve(
                Router::new()
                    .route("/", get(plain_page))
                    .layer(SessionLayer::new(SECRET)),
            )
            .await,
        ),
        (
            "session layer, counter read and written",
            serve(
                Router::new()
                    .route("/", get(counter_page))
                    .layer(SessionLayer::new(SECRET)),
            )
            .await,
        ),
        (
            "the example app's start page (examples/axum)",
            serve(app::app(SECRET)).await,
        ),
    ];
    for (_, addr) in &configs {
        drive(*addr, &dummy, Duration::from_millis(500)).await;
    }
    // Short rounds, taken in turn, so that a change in the machine's load
    // weighs on every configuration alike.
    let mut requests = vec![0u64; configs.len()];
    let mut cpu = vec![Duration::ZERO; configs.len()];
    for _ in 0..ROUNDS {
        for (i, (_, addr)) in configs.iter().enumerate() {
            let before = cpu_time();
            requests[i] += drive(*addr, &dummy, round).await;
            if let (Some(before), Some(after)) = (before, cpu_time()) {
                cpu[i] += after - before;
            }
        }
    }
    let secs = (round * ROUNDS).as_secs_f64();
    let base_rps = requests[0] as f64 / secs;
    let base_cpu = cpu[0].as_secs_f64() / requests[0] as f64;
    println!("{CLIENTS} connections, {secs:.0} s a configuration in {ROUNDS} rounds:");
    for (i, (name, _)) in configs.iter().enumerate() {
        let rps = requests[i] as f64 / secs;
        let cpu_us = cpu[i].as_secs_f64() / requests[i] as f64 * 1e6;
        println!(
            "{name}: {rps:.0} requests/s ({:.0}% of the rate without the layer); \
             {cpu_us:.1} us of CPU a request, client and server ({:+.1} us)",
            100.0 * rps / base_rps,
            cpu_us - base_cpu * 1e6,
        );
    }
}
