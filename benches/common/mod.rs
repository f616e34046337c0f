//! The scenarios and contenders that `sessions` times and `allocations`
//! counts, built the same way for both.
//!
//! Every HTTP contender is an axum `Router` with one route, driven in
//! process with `ServiceExt::oneshot` on a clone, as `axum::serve` would
//! call it (`with_state` first, so layers are applied once, not per
//! request). Each contender makes its own cookie through its own write
//! path, and [`Case::check`] proves the timed path does what it claims
//! before (and after) it is timed.

use std::{
    future::Future,
    pin::pin,
    sync::Arc,
    task::{Context, Poll, Waker},
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    Extension, Router,
    body::{Body, Bytes},
    extract::Request,
    response::Response,
    routing::get,
};
use axum_extra::extract::cookie::SignedCookieJar;
use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use hmac::{Hmac, Mac};
use http::{
    HeaderValue,
    header::{COOKIE, SET_COOKIE},
};
use http_body_util::BodyExt;
use serde_json::{Map, Value, json};
use sha1::Sha1;
use tower::{Layer, Service, ServiceExt};

/// What the handler does with the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scenario {
    /// A valid cookie arrives; the handler ignores the session.
    Untouched,
    /// A ~200-byte session; the handler reads one key.
    Read,
    /// The same session; the handler increments a counter.
    Write,
    /// The same with ~3 KB of state.
    Write3k,
    /// No cookie; the handler inserts one key.
    New,
}

impl Scenario {
    pub(crate) const ALL: [Self; 5] = [
        Self::Untouched,
        Self::Read,
        Self::Write,
        Self::Write3k,
        Self::New,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Untouched => "untouched",
            Self::Read => "read",
            Self::Write => "write",
            Self::Write3k => "write_3k",
            Self::New => "new",
        }
    }

    /// The state the request's cookie carries, if it carries one.
    fn state(self) -> Option<Map<String, Value>> {
        match self {
            Self::New => None,
            Self::Untouched | Self::Read | Self::Write => Some(small_state()),
            Self::Write3k => Some(large_state()),
        }
    }

    /// What the handler answers.
    fn expected_body(self) -> &'static str {
        match self {
            Self::Untouched => "ok",
            Self::Read => "12345",
            Self::Write | Self::Write3k | Self::New => "42",
        }
    }

    /// Whether the response must carry `Set-Cookie`; when `false`, it must
    /// not.
    fn writes(self) -> bool {
        matches!(self, Self::Write | Self::Write3k | Self::New)
    }
}

/// Who handles the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Contender {
    /// The floor: the same router and Cookie header, a no-op layer holding
    /// an `Arc` in the session layer's place, and a handler that ignores
    /// the cookie.
    Bare,
    /// `tower_cookie_session::SessionLayer`, default settings but the
    /// timeout (see `our_layer`).
    Ours,
    /// `tower-sessions` with its `MemoryStore`.
    TowerSessions,
    /// `tower-sessions-cookie-store`, signed cookies.
    CookieStore,
    /// `axum-extra`'s `SignedCookieJar` holding a JSON object.
    AxumExtra,
    /// HMAC-SHA1, base64 and `serde_json::Value` alone, no HTTP: the floor
    /// for the codec work. No case for `untouched`, which needs none.
    Primitives,
}

impl Contender {
    pub(crate) const ALL: [Self; 6] = [
        Self::Bare,
        Self::Primitives,
        Self::Ours,
        Self::TowerSessions,
        Self::CookieStore,
        Self::AxumExtra,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Bare => "bare",
            Self::Ours => "ours",
            Self::TowerSessions => "tower-sessions",
            Self::CookieStore => "cookie-store",
            Self::AxumExtra => "axum-extra",
            Self::Primitives => "primitives",
        }
    }
}

/// The key `read` reads, and its value.
const READ_KEY: &str = "user_id";
/// The counter `write` increments (41 in the fixtures, so 42 is written).
const COUNTER: &str = "count";
/// The key `new` inserts, and its value.
const NEW_KEY: &str = "user_id";
const NEW_VALUE: u64 = 42;

const OUR_SECRET: [u8; 32] = *b"bench-secret-0123456789abcdefghi";
const COOKIE_KEY: [u8; 64] = [42; 64];

/// About 200 bytes of JSON: who is logged in, preferences, a CSRF token.
fn small_state() -> Map<String, Value> {
    let Value::Object(map) = json!({
        "user_id": 12345,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "roles": ["admin", "editor"],
        "theme": "dark",
        "locale": "en-GB",
        "count": 41,
        "_csrft_": "0123456789abcdef0123456789abcdef01234567",
    }) else {
        unreachable!()
    };
    map
}

/// About 2.9 KB of JSON: the small state plus a cart and a history, as
/// large as a session cookie of ours can be with room to spare.
fn large_state() -> Map<String, Value> {
    let mut map = small_state();
    let cart: Vec<Value> = (0..20)
        .map(|i| {
            json!({
                "sku": format!("SKU-{:06}", 1000 + i),
                "name": format!("Item number {i}"),
                "qty": i % 3 + 1,
                "price_cents": 1299 + i * 10,
            })
        })
        .collect();
    let history: Vec<Value> = (0..14)
        .map(|i| Value::String(format!("/catalogue/category/{i}/page/{}", i * 7)))
        .collect();
    map.insert("cart".into(), Value::Array(cart));
    map.insert("history".into(), Value::Array(history));
    map
}

/// One request (or, for [`Contender::Primitives`], the codec work of one),
/// set up and checked, ready to be timed.
pub(crate) enum Case {
    Http {
        router: Router,
        cookie: Option<HeaderValue>,
        scenario: Scenario,
        contender: Contender,
    },
    Primitives(Primitives),
}

impl Case {
    /// Whether the contender has anything to do in the scenario.
    pub(crate) fn applies(scenario: Scenario, contender: Contender) -> bool {
        !(scenario == Scenario::Untouched && contender == Contender::Primitives)
    }

    /// Builds the case and checks it once; `None` if the contender has
    /// nothing to do in this scenario.
    ///
    /// # Panics
    ///
    /// If the contender's path does not do what the scenario says.
    pub(crate) fn new(scenario: Scenario, contender: Contender) -> Option<Self> {
        if !Self::applies(scenario, contender) {
            return None;
        }
        let mut case = match contender {
            Contender::Primitives => Self::Primitives(Primitives::new(scenario)),
            _ => {
                let (router, cookie) = http_contender(scenario, contender);
                Self::Http {
                    router,
                    cookie,
                    scenario,
                    contender,
                }
            }
        };
        case.check();
        Some(case)
    }

    /// One request; returns something of the response so that the work
    /// cannot be optimised away.
    #[inline]
    pub(crate) fn run(&mut self) -> usize {
        match self {
            Self::Http { router, cookie, .. } => {
                let response = block_on(router.clone().oneshot(request(cookie.as_ref())));
                match response {
                    Ok(response) => response.headers().len(),
                    Err(infallible) => match infallible {},
                }
            }
            Self::Primitives(p) => p.run(),
        }
    }

    /// Runs the path once and checks what it answers.
    ///
    /// # Panics
    ///
    /// If the read does not return the value, the write produces no
    /// `Set-Cookie`, or an untouched or read-only request writes one.
    pub(crate) fn check(&mut self) {
        match self {
            Self::Http {
                router,
                cookie,
                scenario,
                contender,
            } => {
                let what = format!("{}/{}", scenario.name(), contender.name());
                let response = call(router, cookie.as_ref());
                assert_eq!(response.status(), 200, "{what}");
                let writes = response.headers().contains_key(SET_COOKIE);
                let body = body_text(response);
                if *contender == Contender::Bare {
                    assert_eq!(body, "ok", "{what}");
                    assert!(!writes, "{what}: wrote a cookie");
                    return;
                }
                // tower-sessions keeps the counter on the server, so every
                // request counts one higher.
                if scenario.writes()
                    && *scenario != Scenario::New
                    && *contender == Contender::TowerSessions
                {
                    assert!(body.parse::<u64>().is_ok_and(|n| n >= 42), "{what}: {body}");
                } else {
                    assert_eq!(body, scenario.expected_body(), "{what}");
                }
                assert_eq!(writes, scenario.writes(), "{what}: Set-Cookie");
            }
            Self::Primitives(p) => p.check(),
        }
    }
}

/// Polls a future that never waits: every contender here completes in
/// one poll, with no runtime needed, so the executor adds nothing.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a contender waited; it needs a runtime"),
    }
}

fn request(cookie: Option<&HeaderValue>) -> Request {
    let mut request = Request::new(Body::empty());
    if let Some(cookie) = cookie {
        request.headers_mut().insert(COOKIE, cookie.clone());
    }
    request
}

fn call(router: &Router, cookie: Option<&HeaderValue>) -> Response {
    match block_on(router.clone().oneshot(request(cookie))) {
        Ok(response) => response,
        Err(infallible) => match infallible {},
    }
}

fn body_text(response: Response) -> String {
    let bytes = block_on(response.into_body().collect())
        .expect("in-memory body")
        .to_bytes();
    String::from_utf8(bytes.to_vec()).expect("UTF-8 body")
}

/// The `Cookie` header a browser would send back after `response`.
fn cookie_from(response: &Response) -> HeaderValue {
    let set_cookie = response
        .headers()
        .get(SET_COOKIE)
        .expect("the seed request sets a cookie")
        .to_str()
        .expect("ASCII Set-Cookie");
    let pair = set_cookie.split(';').next().unwrap_or_default();
    // As hyper does: header values share the request buffer, so cloning
    // one is a reference count, not a copy.
    let shared = Bytes::copy_from_slice(pair.as_bytes());
    let value = HeaderValue::from_maybe_shared(shared).expect("valid header");
    drop(value.clone());
    value
}

/// Sends a request through `seeder` that stores `state` in a new session,
/// and returns the cookie it sets.
fn seed(seeder: Router) -> HeaderValue {
    let response = call(&seeder, None);
    assert_eq!(response.status(), 200, "seeding");
    cookie_from(&response)
}

fn http_contender(scenario: Scenario, contender: Contender) -> (Router, Option<HeaderValue>) {
    match contender {
        Contender::Bare => (bare(), our_cookie(scenario)),
        Contender::Ours => (ours(scenario), our_cookie(scenario)),
        Contender::TowerSessions => tower_sessions(scenario),
        Contender::CookieStore => cookie_store(scenario),
        Contender::AxumExtra => axum_extra(scenario),
        Contender::Primitives => unreachable!("not over HTTP"),
    }
}

async fn ignore() -> String {
    "ok".to_owned()
}

// --- bare -------------------------------------------------------------

/// A layer that does nothing, holding an `Arc` as a real layer holds its
/// configuration, so that the router clones and boxes a service of the
/// same shape as the session layer's.
#[derive(Clone)]
struct Noop(Arc<u64>);

impl Noop {
    fn new() -> Self {
        Self(Arc::new(0))
    }
}

impl<S> Layer<S> for Noop {
    type Service = NoopService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        NoopService {
            inner,
            _config: Arc::clone(&self.0),
        }
    }
}

#[derive(Clone)]
struct NoopService<S> {
    inner: S,
    _config: Arc<u64>,
}

impl<S: Service<R>, R> Service<R> for NoopService<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        self.inner.call(request)
    }
}

fn bare() -> Router {
    Router::new()
        .route("/", get(ignore))
        .layer(Noop::new())
        .with_state(())
}

// --- ours -------------------------------------------------------------

/// The handlers take `Extension<Session>` rather than `Session` so that
/// the benchmarks need no feature: with `axum`, the `Session` extractor
/// does the same clone out of the extensions.
mod ours {
    use super::{COUNTER, NEW_KEY, NEW_VALUE, READ_KEY};
    use axum::Extension;
    use tower_cookie_session::Session;

    pub(super) async fn read(Extension(session): Extension<Session>) -> String {
        let id: u64 = session.get(READ_KEY).unwrap().unwrap_or_default();
        id.to_string()
    }

    pub(super) async fn write(Extension(session): Extension<Session>) -> String {
        let n = session.get::<u64>(COUNTER).unwrap().unwrap_or_default() + 1;
        session.insert(COUNTER, n).unwrap();
        n.to_string()
    }

    pub(super) async fn new(Extension(session): Extension<Session>) -> String {
        session.insert(NEW_KEY, NEW_VALUE).unwrap();
        NEW_VALUE.to_string()
    }
}

/// Default settings but a one-day timeout: with the default 20 minutes,
/// a cookie is reissued two minutes after it was written, and a long
/// measurement would turn reads into writes. The checks cost the same.
fn our_layer() -> tower_cookie_session::SessionLayer {
    let layer = tower_cookie_session::SessionLayer::new(OUR_SECRET)
        .timeout(Some(std::time::Duration::from_secs(86_400)));
    layer.validate().expect("valid settings");
    layer
}

fn ours(scenario: Scenario) -> Router {
    let route = match scenario {
        Scenario::Untouched => get(ignore),
        Scenario::Read => get(ours::read),
        Scenario::Write | Scenario::Write3k => get(ours::write),
        Scenario::New => get(ours::new),
    };
    Router::new()
        .route("/", route)
        .layer(our_layer())
        .with_state(())
}

/// The cookie our layer writes for the scenario's state, made by our
/// layer; bare and primitives get the same one.
fn our_cookie(scenario: Scenario) -> Option<HeaderValue> {
    let state = scenario.state()?;
    let seeder = Router::new()
        .route(
            "/",
            get(
                move |Extension(session): Extension<tower_cookie_session::Session>| async move {
                    for (key, value) in state {
                        session.insert(key, value).unwrap();
                    }
                },
            ),
        )
        .layer(our_layer());
    Some(seed(seeder))
}

// --- tower-sessions ----------------------------------------------------

mod tower_sessions_handlers {
    use super::{COUNTER, NEW_KEY, NEW_VALUE, READ_KEY};
    use tower_sessions::Session;

    pub(super) async fn read(session: Session) -> String {
        let id: u64 = session.get(READ_KEY).await.unwrap().unwrap_or_default();
        id.to_string()
    }

    pub(super) async fn write(session: Session) -> String {
        let n = session
            .get::<u64>(COUNTER)
            .await
            .unwrap()
            .unwrap_or_default()
            + 1;
        session.insert(COUNTER, n).await.unwrap();
        n.to_string()
    }

    pub(super) async fn new(session: Session) -> String {
        session.insert(NEW_KEY, NEW_VALUE).await.unwrap();
        NEW_VALUE.to_string()
    }
}

fn tower_sessions(scenario: Scenario) -> (Router, Option<HeaderValue>) {
    use tower_sessions::{MemoryStore, Session, SessionManagerLayer};

    let store = MemoryStore::default();
    let layer = || SessionManagerLayer::new(store.clone()).with_secure(false);
    let cookie = scenario.state().map(|state| {
        seed(
            Router::new()
                .route(
                    "/",
                    get(move |session: Session| async move {
                        for (key, value) in state {
                            session.insert(&key, value).await.unwrap();
                        }
                    }),
                )
                .layer(layer()),
        )
    });
    let route = match scenario {
        Scenario::Untouched => get(ignore),
        Scenario::Read => get(tower_sessions_handlers::read),
        Scenario::Write | Scenario::Write3k => get(tower_sessions_handlers::write),
        Scenario::New => get(tower_sessions_handlers::new),
    };
    let router = Router::new()
        .route("/", route)
        .layer(layer())
        .with_state(());
    (router, cookie)
}

// --- tower-sessions-cookie-store ---------------------------------------

mod cookie_store_handlers {
    use super::{COUNTER, NEW_KEY, NEW_VALUE, READ_KEY};
    use axum::Extension;
    use tower_sessions_cookie_store::Session;

    pub(super) async fn read(Extension(session): Extension<Session>) -> String {
        let id: u64 = session.get(READ_KEY).await.unwrap().unwrap_or_default();
        id.to_string()
    }

    pub(super) async fn write(Extension(session): Extension<Session>) -> String {
        let n = session
            .get::<u64>(COUNTER)
            .await
            .unwrap()
            .unwrap_or_default()
            + 1;
        session.insert(COUNTER, n).await.unwrap();
        n.to_string()
    }

    pub(super) async fn new(Extension(session): Extension<Session>) -> String {
        session.insert(NEW_KEY, NEW_VALUE).await.unwrap();
        NEW_VALUE.to_string()
    }
}

fn cookie_store(scenario: Scenario) -> (Router, Option<HeaderValue>) {
    use tower_sessions_cookie_store::{
        CookieSessionConfig, CookieSessionManagerLayer, Key, Session,
    };

    let layer = || {
        // Its envelope and base64url make ~3 KB of state larger than the
        // default 4096-byte limit; raise it so the scenario can run.
        let config = CookieSessionConfig::default()
            .with_secure(false)
            .with_max_cookie_bytes(8192);
        CookieSessionManagerLayer::signed(Key::from(&COOKIE_KEY)).with_config(config)
    };
    let cookie = scenario.state().map(|state| {
        seed(
            Router::new()
                .route(
                    "/",
                    get(move |Extension(session): Extension<Session>| async move {
                        for (key, value) in state {
                            session.insert(&key, value).await.unwrap();
                        }
                    }),
                )
                .layer(layer()),
        )
    });
    let route = match scenario {
        Scenario::Untouched => get(ignore),
        Scenario::Read => get(cookie_store_handlers::read),
        Scenario::Write | Scenario::Write3k => get(cookie_store_handlers::write),
        Scenario::New => get(cookie_store_handlers::new),
    };
    let router = Router::new()
        .route("/", route)
        .layer(layer())
        .with_state(());
    (router, cookie)
}

// --- axum-extra SignedCookieJar ----------------------------------------

/// A hand-rolled session: a JSON object in one signed cookie.
mod axum_extra_handlers {
    use super::{COUNTER, NEW_KEY, NEW_VALUE, READ_KEY};
    use axum_extra::extract::cookie::{Cookie, SameSite, SignedCookieJar};
    use serde_json::{Map, Value};

    pub(super) const NAME: &str = "session";

    pub(super) fn load(jar: &SignedCookieJar) -> Map<String, Value> {
        jar.get(NAME)
            .and_then(|cookie| serde_json::from_str(cookie.value()).ok())
            .unwrap_or_default()
    }

    pub(super) fn store(jar: SignedCookieJar, session: &Map<String, Value>) -> SignedCookieJar {
        let json = serde_json::to_string(session).unwrap();
        jar.add(
            Cookie::build((NAME, json))
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax),
        )
    }

    pub(super) async fn read(jar: SignedCookieJar) -> String {
        let session = load(&jar);
        let id = session
            .get(READ_KEY)
            .and_then(Value::as_u64)
            .unwrap_or_default();
        id.to_string()
    }

    pub(super) async fn write(jar: SignedCookieJar) -> (SignedCookieJar, String) {
        let mut session = load(&jar);
        let n = session
            .get(COUNTER)
            .and_then(Value::as_u64)
            .unwrap_or_default()
            + 1;
        session.insert(COUNTER.to_owned(), n.into());
        (store(jar, &session), n.to_string())
    }

    pub(super) async fn new(jar: SignedCookieJar) -> (SignedCookieJar, String) {
        let mut session = load(&jar);
        session.insert(NEW_KEY.to_owned(), NEW_VALUE.into());
        (store(jar, &session), NEW_VALUE.to_string())
    }
}

fn axum_extra(scenario: Scenario) -> (Router, Option<HeaderValue>) {
    use axum_extra::extract::cookie::Key;

    let key = Key::from(&COOKIE_KEY);
    let cookie = scenario.state().map(|state| {
        seed(
            Router::new()
                .route(
                    "/",
                    get(move |jar: SignedCookieJar| async move {
                        (axum_extra_handlers::store(jar, &state), ())
                    }),
                )
                .with_state(key.clone()),
        )
    });
    let route = match scenario {
        Scenario::Untouched => get(ignore),
        Scenario::Read => get(axum_extra_handlers::read),
        Scenario::Write | Scenario::Write3k => get(axum_extra_handlers::write),
        Scenario::New => get(axum_extra_handlers::new),
    };
    // No layer of its own: the no-op layer stands in its place, as for bare.
    let router = Router::new()
        .route("/", route)
        .layer(Noop::new())
        .with_state(key);
    (router, cookie)
}

// --- primitives ---------------------------------------------------------

/// The codec work alone, written directly on the crates every signed
/// cookie session needs: verify and sign with HMAC-SHA1 (a pre-keyed
/// MAC), hex, base64, and JSON into and out of a `serde_json::Value`.
pub(crate) struct Primitives {
    scenario: Scenario,
    mac: Hmac<Sha1>,
    /// The value of our cookie for the scenario (no `name=`).
    value: String,
}

impl Primitives {
    fn new(scenario: Scenario) -> Self {
        let value = our_cookie(scenario)
            .map(|cookie| {
                let pair = cookie.to_str().expect("ASCII cookie");
                pair.split_once('=').expect("name=value").1.to_owned()
            })
            .unwrap_or_default();
        Self {
            scenario,
            mac: Hmac::new_from_slice(&OUR_SECRET).expect("any key length"),
            value,
        }
    }

    #[inline]
    fn run(&self) -> usize {
        match self.scenario {
            Scenario::Untouched => 0,
            Scenario::Read => self.read() as usize,
            Scenario::Write | Scenario::Write3k => self.write().len(),
            Scenario::New => self.new_session().len(),
        }
    }

    fn decode(&self) -> Value {
        let (hex, encoded) = self.value.split_at(40);
        let mut signature = [0u8; 20];
        for (out, pair) in signature.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            *out = (hex_value(pair[0]) << 4) | hex_value(pair[1]);
        }
        let payload = BASE64.decode(encoded).expect("base64");
        let mut mac = self.mac.clone();
        mac.update(&payload);
        mac.verify_slice(&signature).expect("signature verifies");
        serde_json::from_slice(&payload).expect("JSON")
    }

    fn encode(&self, value: &Value) -> String {
        let payload = serde_json::to_vec(value).expect("JSON");
        let mut mac = self.mac.clone();
        mac.update(&payload);
        let signature = mac.finalize().into_bytes();
        let mut out = String::with_capacity(40 + payload.len().div_ceil(3) * 4);
        for byte in signature {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        BASE64.encode_string(&payload, &mut out);
        out
    }

    fn read(&self) -> u64 {
        self.decode()[2][READ_KEY].as_u64().expect("a number")
    }

    fn write(&self) -> String {
        let mut session = self.decode();
        let n = session[2][COUNTER].as_u64().expect("a number") + 1;
        session[2][COUNTER] = n.into();
        session[0] = unix_now().into();
        self.encode(&session)
    }

    fn new_session(&self) -> String {
        let now = unix_now();
        self.encode(&json!([now, now, { NEW_KEY: NEW_VALUE }]))
    }

    fn check(&self) {
        let what = format!("{}/primitives", self.scenario.name());
        match self.scenario {
            Scenario::Untouched => {}
            Scenario::Read => assert_eq!(self.read(), 12345, "{what}"),
            Scenario::Write | Scenario::Write3k | Scenario::New => {
                let written = if self.scenario == Scenario::New {
                    self.new_session()
                } else {
                    self.write()
                };
                let back: Value =
                    tower_cookie_session::signed_deserialize(&written, OUR_SECRET).expect(&what);
                let key = if self.scenario == Scenario::New {
                    NEW_KEY
                } else {
                    COUNTER
                };
                assert_eq!(back[2][key], 42, "{what}");
            }
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("not lowercase hex"),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
