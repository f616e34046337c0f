//! Load with nothing lost: the axum example app (`examples/axum/`) on a
//! real loopback port, 64 concurrent clients, each with its own cookie jar,
//! each counting its own visits for a bounded time. Every answer must show
//! the client's own count, every request must succeed, and the process's
//! memory must stay flat: the sessions live in the cookies, not on the
//! server.
//!
//! `many_clients_lose_no_writes_with_revocation_through_redis` (feature
//! `redis`) runs the same load with revocation on through a real
//! `redis-server`, while some clients sign in on two devices and log out
//! of one or everywhere: each checks that it, a copy of its signed-in
//! cookie and (after "everywhere") its other device are anonymous
//! afterwards.
//!
//! `LOAD_SECONDS` sets how long the clients run (default 12), in each
//! test.
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
#[cfg(feature = "redis")]
#[path = "../examples/axum/settings.rs"]
pub mod settings;

#[cfg(feature = "redis")]
use std::ffi::OsString;
use std::{
    convert::identity,
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{Router, body::Body, http::Request, response::Html, routing::get};
use http_body_util::BodyExt;
use hyper::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use hyper_util::rt::TokioIo;
use reqwest::cookie::{CookieStore as _, Jar};
use tokio::net::TcpStream;
use tower::util::MapRequestLayer;
use tower_cookie_session::{Session, SessionLayer};

#[cfg(feature = "redis")]
use common::redis::RedisServer;
use common::{
    cookies::cookie_pair,
    pages::{csrf_token, find_visits},
    server::serve,
};

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

/// A browser: its own cookie jar, how many visits its session has
/// counted, how many it made in all, and, for one that signs in and out,
/// its account.
struct Visitor {
    client: reqwest::Client,
    jar: Arc<Jar>,
    requests: u64,
    visits: u64,
    account: Option<Account>,
}

/// A user who signs in on two devices (this visitor's and one more),
/// then logs out of this one alone or, every other time, everywhere.
struct Account {
    user: String,
    /// The other device: a cookie jar of its own.
    other: reqwest::Client,
    /// Logouts done, and how many of them were "everywhere".
    logouts: u64,
    everywhere: u64,
}

/// The count at which a visitor with an account signs in again.
const VISITS_SIGNED_OUT: u64 = 4;

impl Visitor {
    fn new(user: Option<String>) -> Self {
        let (client, jar) = jar_client();
        Self {
            client,
            jar,
            requests: 0,
            visits: 0,
            account: user.map(|user| Account {
                user,
                other: jar_client().0,
                logouts: 0,
                everywhere: 0,
            }),
        }
    }

    /// Loads the start page once; the page must show this visitor's own
    /// count.
    async fn visit(&mut self, base: &str) -> Result<(), String> {
        let body = fetch(self.client.get(base)).await?;
        self.counted(&body)
    }

    /// `body` is the start page after one more visit of this session.
    fn counted(&mut self, body: &str) -> Result<(), String> {
        self.requests += 1;
        self.visits += 1;
        match find_visits(body) {
            Some(n) if n == self.requests => Ok(()),
            n => Err(format!("request {} showed the count {n:?}", self.requests)),
        }
    }

    /// Visits until `until`; stops at the first failure. A visitor with
    /// an account signs in and out between its visits.
    async fn run(mut self, base: String, until: Instant) -> (Self, Result<(), String>) {
        while Instant::now() < until {
            let result = if self.account.is_some() && self.requests == VISITS_SIGNED_OUT {
                self.sign_in_and_out(&base).await
            } else {
                self.visit(&base).await
            };
            if let Err(e) = result {
                return (self, Err(e));
            }
        }
        (self, Ok(()))
    }

    /// Signs in on both devices, visits, then logs this device out, of
    /// itself alone or everywhere in turn. Afterwards this device and a
    /// copy of its signed-in cookie are anonymous; the other device is
    /// too after "everywhere", and still signed in otherwise.
    async fn sign_in_and_out(&mut self, base: &str) -> Result<(), String> {
        let account = self.account.as_ref().ok_or("no account")?;
        let (user, other) = (account.user.clone(), account.other.clone());
        let everywhere = account.logouts % 2 == 1;
        // The login keeps the counter, and its redirect counts a visit.
        let page = log_in(&self.client, base, &user).await?;
        self.counted(&page)?;
        expect_signed_in(&page, &user, "after login")?;
        let page = log_in(&other, base, &user).await?;
        expect_signed_in(&page, &user, "on the other device")?;
        let page = fetch(self.client.get(base)).await?;
        self.counted(&page)?;
        let url = reqwest::Url::parse(base).map_err(|e| e.to_string())?;
        let copy = self.jar.cookies(&url).ok_or("no cookie after login")?;

        let path = if everywhere {
            "logout-everywhere"
        } else {
            "logout"
        };
        let page = fetch(
            self.client
                .post(format!("{base}{path}"))
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(format!("csrf_token={}", csrf_token(&page))),
        )
        .await?;
        // A fresh session, which counts anew.
        self.requests = 0;
        self.counted(&page)?;
        expect_anonymous(&page, "after logging out")?;
        // The copy taken before the logout: its id (or its subject) is
        // revoked, so it opens a fresh session.
        let replayed = fetch(reqwest::Client::new().get(base).header(COOKIE, copy)).await?;
        expect_anonymous(&replayed, "the signed-in cookie, replayed")?;
        if find_visits(&replayed) != Some(1) {
            return Err("the replayed cookie's session was not a fresh one".to_owned());
        }
        let page = fetch(other.get(base)).await?;
        if everywhere {
            expect_anonymous(&page, "the other device, after logging out everywhere")?;
        } else {
            expect_signed_in(&page, &user, "the other device, after logging out here")?;
        }
        let account = self.account.as_mut().ok_or("no account")?;
        account.logouts += 1;
        account.everywhere += u64::from(everywhere);
        Ok(())
    }
}

/// A client with a cookie jar of its own, which follows redirects with
/// it, as a browser does.
fn jar_client() -> (reqwest::Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(Arc::clone(&jar))
        .build()
        .unwrap();
    (client, jar)
}

/// Sends `request`; the body of its answer, which must be a 200.
async fn fetch(request: reqwest::RequestBuilder) -> Result<String, String> {
    let response = request
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| format!("body failed: {e}"))?;
    if status != 200 {
        return Err(format!("status {status}: {body}"));
    }
    Ok(body)
}

/// Logs in as `user` through the form; the start page it leads to.
async fn log_in(client: &reqwest::Client, base: &str, user: &str) -> Result<String, String> {
    let url = format!("{base}login");
    let token = csrf_token(&fetch(client.get(&url)).await?);
    // Every value is URL-safe as it is: a user name of letters, digits
    // and `-`, the password, and a hex token.
    let form = format!("username={user}&password=secret&csrf_token={token}");
    fetch(
        client
            .post(&url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form),
    )
    .await
}

fn expect_signed_in(page: &str, user: &str, when: &str) -> Result<(), String> {
    if page.contains(&format!("Signed in as <strong>{user}</strong>")) {
        Ok(())
    } else {
        Err(format!("{when}: not signed in as {user}"))
    }
}

fn expect_anonymous(page: &str, when: &str) -> Result<(), String> {
    if page.contains("You are not signed in") && !page.contains("Signed in as") {
        Ok(())
    } else {
        Err(format!("{when}: not anonymous"))
    }
}

/// Runs every visitor until `until`, concurrently; panics if any failed.
async fn run_all(visitors: Vec<Visitor>, base: &str, until: Instant) -> Vec<Visitor> {
    let tasks: Vec<_> = visitors
        .into_iter()
        .map(|v| tokio::spawn(v.run(base.to_owned(), until)))
        .collect();
    let mut visitors = Vec::with_capacity(tasks.len());
    for (i, task) in tasks.into_iter().enumerate() {
        let (visitor, result) = task.await.unwrap();
        if let Err(e) = result {
            panic!("client {i} failed after {} visits: {e}", visitor.visits);
        }
        visitors.push(visitor);
    }
    visitors
}

/// Serves `app` and runs [`CLIENTS`] visitors against it for
/// [`run_time`], the first `signing_in` of them signing in and out
/// between their visits; checks that nothing was lost and that memory
/// stayed flat. Returns the visitors.
async fn load(app: Router, signing_in: usize) -> Vec<Visitor> {
    let base = format!("http://{}/", serve(app).await);
    let total = run_time();
    let warm_up = total / 4;
    let start = Instant::now();

    // Warm up: connections, the allocator and the runtime reach their
    // working size.
    let visitors = (0..CLIENTS)
        .map(|i| Visitor::new((i < signing_in).then(|| format!("user-{i}"))))
        .collect();
    let visitors = run_all(visitors, &base, start + warm_up).await;
    let warm_requests: u64 = visitors.iter().map(|v| v.visits).sum();
    let warm = memory_kib();

    let mut visitors = run_all(visitors, &base, start + total).await;
    let elapsed = start.elapsed();
    let after = memory_kib();

    // One more visit each: the count in every cookie is the number of
    // requests its client made, nothing lost, nothing mixed up.
    for (i, v) in visitors.iter_mut().enumerate() {
        if let Err(e) = v.visit(&base).await {
            panic!("client {i}, final check: {e}");
        }
    }
    let requests: u64 = visitors.iter().map(|v| v.visits).sum();
    let fewest = visitors.iter().map(|v| v.visits).min().unwrap();
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
    visitors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_lose_no_writes() {
    load(app::app(SECRET), 0).await;
}

/// The same load with revocation on through a real Redis, configured as
/// the demo is (`SESSION_REVOCATION=redis://...`): every request with a
/// cookie asks Redis about its id (and subject) before the handler. An
/// eighth of the clients sign in on two devices and log out of one or
/// everywhere, in turn, so that ids and subjects are revoked during the
/// load; each checks that it, a copy of its signed-in cookie and (after
/// "everywhere") its other device are anonymous afterwards.
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_lose_no_writes_with_revocation_through_redis() {
    let redis = RedisServer::start();
    let url = redis.url();
    // Redis is given 2 s a call rather than the default 100 ms: a call
    // that takes longer counts as revoked (the default
    // `SESSION_REVOCATION_UNAVAILABLE`), which starts a fresh session,
    // and a debug build on a busy 2-core machine sometimes takes that
    // long. What is checked here is that nothing is lost while Redis
    // answers.
    let layer = settings::session_layer(|name| match name {
        "SESSION_SECRET" => Some(OsString::from(std::str::from_utf8(SECRET).unwrap())),
        "SESSION_REVOCATION" => Some(OsString::from(&url)),
        "SESSION_REVOCATION_TIMEOUT_MS" => Some(OsString::from("2000")),
        _ => None,
    })
    .unwrap();
    let visitors = load(app::app_with(layer), CLIENTS / 8).await;

    let accounts: Vec<&Account> = visitors.iter().filter_map(|v| v.account.as_ref()).collect();
    let logouts: u64 = accounts.iter().map(|a| a.logouts).sum();
    let everywhere: u64 = accounts.iter().map(|a| a.everywhere).sum();
    println!(
        "{} clients signed in and out: {logouts} logouts, {everywhere} of them everywhere",
        accounts.len()
    );
    assert!(
        accounts
            .iter()
            .all(|a| a.everywhere >= 1 && a.logouts > a.everywhere),
        "every client with an account logged out both ways"
    );
    // The revocations are in Redis: a subject record for each account,
    // and an id record for each session logged out (and each one a
    // login replaced).
    let keys = |pattern: &str| {
        let reply = redis.command(&format!("KEYS {pattern}"));
        reply.lines().filter(|l| l.starts_with('$')).count() as u64
    };
    assert_eq!(keys("tower-cookie-session:sub:*"), accounts.len() as u64);
    let ids = keys("tower-cookie-session:id:*");
    assert!(ids >= logouts, "{ids} revoked ids for {logouts} logouts");
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
