//! Revocation end to end: the axum example (`examples/axum/`) on real
//! loopback servers, one `reqwest` client (cookie jar) per device, and,
//! for a fleet, a real `redis-server` (tests/common/redis.rs) that two
//! instances of the app share.
//!
//! A "thief" is a client whose jar holds a copy of another's cookie, taken
//! while it was valid. A refused cookie is replaced by a fresh session's
//! on the next page, so each check uses a new copy of the stolen one.

#![cfg(feature = "axum")]

#[path = "../examples/axum/app.rs"]
pub mod app;
mod common;
#[path = "../examples/axum/settings.rs"]
pub mod settings;

use std::{
    ffi::OsString,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use reqwest::{Client, Url, cookie::CookieStore, cookie::Jar, redirect::Policy};
use tower::Layer;
use tower_cookie_session::{
    MemoryRevocations, RevocationError, RevocationFuture, Revocations, Session, SessionIdentity,
    SessionLayer, WhenUnavailable,
};

use common::{client::Browser, server::serve};

const SECRET: &str = "the revocation tests' secret, at least 32 bytes";

/// The example's layer for these settings (and `SESSION_SECRET`).
fn layer(env: &[(&str, &str)]) -> SessionLayer {
    settings::session_layer(|name| {
        if name == "SESSION_SECRET" {
            return Some(OsString::from(SECRET));
        }
        env.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| OsString::from(v))
    })
    .unwrap()
}

/// An instance of the example app with `layer`; its base URL.
async fn instance(layer: SessionLayer) -> String {
    format!("http://{}", serve(app::app_with(layer)).await)
}

/// A device: one cookie jar, used on any instance (cookies do not depend
/// on the port, so every instance on 127.0.0.1 gets the same cookie).
struct Device {
    jar: Arc<Jar>,
    client: Client,
}

impl Device {
    fn new() -> Self {
        let jar = Arc::new(Jar::default());
        let client = Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .redirect(Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Self { jar, client }
    }

    /// This device on the instance at `base`.
    fn on(&self, base: &str) -> Browser {
        Browser {
            client: self.client.clone(),
            base: base.to_owned(),
        }
    }

    /// A new device holding a copy of this one's cookie.
    fn copy(&self) -> Self {
        let url = Url::parse("http://127.0.0.1/").unwrap();
        let cookies = self.jar.cookies(&url).expect("a cookie to copy");
        let thief = Self::new();
        for pair in cookies.to_str().unwrap().split("; ") {
            thief.jar.add_cookie_str(&format!("{pair}; Path=/"), &url);
        }
        thief
    }

    async fn log_in(&self, base: &str, user: &str) {
        let answer = self.on(base).log_in(user, "secret").await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        assert!(self.signed_in_as(base, user).await, "{user} logged in");
    }

    async fn log_out(&self, base: &str, path: &str) {
        let browser = self.on(base);
        let home = browser.get("/").await;
        let token = common::client::csrf_token(&home.body);
        let answer = browser.post(path, &[("csrf_token", &token)]).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
    }

    /// Whether the start page of `base` shows this device signed in as
    /// `user`.
    async fn signed_in_as(&self, base: &str, user: &str) -> bool {
        let page = self.on(base).get("/").await;
        assert_eq!(page.status, 200, "{}", page.body);
        if page.is_anonymous() {
            return false;
        }
        assert!(
            page.body
                .contains(&format!("Signed in as <strong>{user}</strong>")),
            "{}",
            page.body
        );
        true
    }
}

#[tokio::test]
async fn a_copy_of_the_cookie_stops_working_at_logout() {
    let app = instance(layer(&[("SESSION_REVOCATION", "memory")])).await;
    let ada = Device::new();
    ada.log_in(&app, "ada").await;
    let thief = ada.copy();
    assert!(
        thief.copy().signed_in_as(&app, "ada").await,
        "the copy works"
    );

    ada.log_out(&app, "/logout").await;
    assert!(
        !thief.copy().signed_in_as(&app, "ada").await,
        "revoked at logout"
    );
    assert!(!ada.signed_in_as(&app, "ada").await);

    ada.log_in(&app, "ada").await;
    assert!(!thief.copy().signed_in_as(&app, "ada").await);
    assert!(ada.signed_in_as(&app, "ada").await, "a new login works");
}

/// What revocation is for: without it, logging out ends nothing but the
/// cookie in one browser.
#[tokio::test]
async fn without_revocation_a_copy_outlives_logout() {
    let app = instance(layer(&[])).await;
    let ada = Device::new();
    ada.log_in(&app, "ada").await;
    let thief = ada.copy();
    ada.log_out(&app, "/logout").await;
    assert!(thief.copy().signed_in_as(&app, "ada").await);
}

#[tokio::test]
async fn logging_out_everywhere_ends_every_session_of_that_user_only() {
    let app = instance(layer(&[("SESSION_REVOCATION", "memory")])).await;
    let (laptop, phone, bob) = (Device::new(), Device::new(), Device::new());
    laptop.log_in(&app, "ada").await;
    phone.log_in(&app, "ada").await;
    bob.log_in(&app, "bob").await;
    let thief = phone.copy();

    laptop.log_out(&app, "/logout-everywhere").await;
    for device in [&laptop, &phone, &thief.copy()] {
        assert!(!device.signed_in_as(&app, "ada").await);
    }
    assert!(bob.signed_in_as(&app, "bob").await, "other users stay");

    phone.log_in(&app, "ada").await;
    assert!(phone.signed_in_as(&app, "ada").await, "a new login works");
    assert!(!thief.copy().signed_in_as(&app, "ada").await);
}

/// A store that counts the checks, around a memory store.
#[derive(Debug, Default)]
struct Counting {
    inner: MemoryRevocations,
    checks: Arc<AtomicUsize>,
}

impl Revocations for Counting {
    fn is_revoked(&self, session: &SessionIdentity) -> RevocationFuture<bool> {
        self.checks.fetch_add(1, Ordering::SeqCst);
        self.inner.is_revoked(session)
    }

    fn revoke_session(&self, session: &SessionIdentity, ttl: Duration) -> RevocationFuture<()> {
        self.inner.revoke_session(session, ttl)
    }

    fn revoke_subject(
        &self,
        subject: &str,
        at: std::time::SystemTime,
        ttl: Duration,
    ) -> RevocationFuture<()> {
        self.inner.revoke_subject(subject, at, ttl)
    }
}

#[tokio::test]
async fn only_requests_with_a_session_cookie_ask_the_store() {
    let store = Counting::default();
    let checks = Arc::clone(&store.checks);
    let app = instance(
        layer(&[])
            .max_lifetime(Duration::from_secs(3600))
            .revocation(store),
    )
    .await;
    let device = Device::new();
    let stranger = device.on(&app);

    stranger.get("/").await;
    assert_eq!(checks.load(Ordering::SeqCst), 0, "no cookie: no check");
    let other = Client::new();
    other
        .get(format!("{app}/"))
        .header("cookie", "theme=dark")
        .send()
        .await
        .unwrap();
    assert_eq!(checks.load(Ordering::SeqCst), 0, "another cookie: no check");
    stranger.get("/").await;
    assert_eq!(checks.load(Ordering::SeqCst), 1, "one check per request");
    stranger.get("/").await;
    assert_eq!(checks.load(Ordering::SeqCst), 2);
}

/// A store that cannot be reached.
#[derive(Debug)]
struct Unreachable;

impl Revocations for Unreachable {
    fn is_revoked(&self, _: &SessionIdentity) -> RevocationFuture<bool> {
        Box::pin(async { Err(RevocationError::TimedOut(Duration::from_millis(1))) })
    }

    fn revoke_session(&self, _: &SessionIdentity, _: Duration) -> RevocationFuture<()> {
        Box::pin(async { Err(RevocationError::Store("down".into())) })
    }

    fn revoke_subject(
        &self,
        _: &str,
        _: std::time::SystemTime,
        _: Duration,
    ) -> RevocationFuture<()> {
        Box::pin(async { Err(RevocationError::Store("down".into())) })
    }
}

#[tokio::test]
async fn when_the_store_cannot_answer_the_session_is_as_configured() {
    let working = instance(layer(&[("SESSION_REVOCATION", "memory")])).await;
    let down = |when| {
        layer(&[])
            .max_lifetime(Duration::from_secs(3600))
            .revocation(Unreachable)
            .when_revocations_unavailable(when)
    };
    let refusing = instance(down(WhenUnavailable::Revoked)).await;
    let accepting = instance(down(WhenUnavailable::Valid)).await;
    let ada = Device::new();
    ada.log_in(&working, "ada").await;

    assert!(ada.copy().signed_in_as(&accepting, "ada").await);
    assert!(!ada.copy().signed_in_as(&refusing, "ada").await);
    assert!(
        !ada.copy()
            .signed_in_as(&instance(down(WhenUnavailable::default())).await, "ada")
            .await,
        "the default treats the session as revoked"
    );
}

#[tokio::test]
async fn a_session_written_without_an_id_gets_one_and_can_then_be_revoked() {
    let layer = layer(&[]).max_lifetime(Duration::from_secs(3600));
    let app = instance(layer.clone().revocation(MemoryRevocations::new())).await;
    // Signed in before revocation was turned on: no id in the cookie.
    let before = instance(layer).await;
    let ada = Device::new();
    ada.log_in(&before, "ada").await;
    assert!(!cookie_text(&ada).contains("_id_"));

    assert!(ada.signed_in_as(&app, "ada").await, "still signed in");
    assert!(cookie_text(&ada).contains("_id_"), "{}", cookie_text(&ada));
    let thief = ada.copy();
    ada.log_out(&app, "/logout").await;
    assert!(!thief.copy().signed_in_as(&app, "ada").await);
}

/// The device's session as JSON text (the default format is readable).
fn cookie_text(device: &Device) -> String {
    let url = Url::parse("http://127.0.0.1/").unwrap();
    let cookies = device.jar.cookies(&url).unwrap();
    let value = cookies
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|pair| pair.strip_prefix("session="))
        .unwrap()
        .to_owned();
    let state: serde_json::Value =
        tower_cookie_session::signed_deserialize(&value, SECRET.as_bytes()).unwrap();
    state.to_string()
}

#[tokio::test]
async fn clear_keeps_the_id_and_invalidate_replaces_it() {
    let layer = SessionLayer::new(SECRET)
        .max_lifetime(Duration::from_secs(3600))
        .revocation(MemoryRevocations::new());
    let id_of = |response: &http::Response<()>| {
        let header = response.headers()["set-cookie"].to_str().unwrap();
        let value = header.split(';').next().unwrap()["session=".len()..].to_owned();
        let (_, _, state): (f64, f64, serde_json::Value) =
            tower_cookie_session::signed_deserialize(&value, SECRET.as_bytes()).unwrap();
        (
            format!("session={value}"),
            state["_id_"].as_str().unwrap().to_owned(),
        )
    };
    let (id, first) = common::service::call(&layer, None, |s: &Session| {
        s.insert("n", 1).unwrap();
        s.id()
    })
    .await;
    let (cookie, written) = id_of(&first);
    assert_eq!(
        id.as_deref(),
        Some(written.as_str()),
        "id() is what is written"
    );

    let (_, cleared) = common::service::call(&layer, Some(cookie.as_bytes()), |s: &Session| {
        s.clear();
        s.insert("n", 2).unwrap();
    })
    .await;
    assert_eq!(id_of(&cleared).1, written, "the same session after clear");

    let (_, renewed) = common::service::call(&layer, Some(cookie.as_bytes()), |s: &Session| {
        s.invalidate();
        s.insert("n", 3).unwrap();
    })
    .await;
    assert_ne!(id_of(&renewed).1, written, "a new session after invalidate");
}

#[tokio::test]
async fn the_layer_refuses_revocation_without_max_lifetime() {
    let layer = SessionLayer::new(SECRET).revocation(MemoryRevocations::new());
    let message = layer.validate().unwrap_err().to_string();
    assert!(message.contains("max_lifetime"), "{message}");
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        layer.layer(tower::service_fn(|_: http::Request<()>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(()))
        }))
    }));
    assert!(panic.is_err(), "layer() refuses it too");
}

#[cfg(feature = "redis")]
mod redis {
    use std::time::Instant;

    use super::*;
    use crate::common::redis::RedisServer;

    /// An instance of the app with revocation in `redis`, and `env`.
    async fn instance_on(redis: &RedisServer, env: &[(&str, &str)]) -> String {
        let url = redis.url();
        let mut env = env.to_vec();
        env.push(("SESSION_REVOCATION", &url));
        instance(layer(&env)).await
    }

    #[tokio::test]
    async fn a_logout_on_one_instance_ends_the_copy_on_another() {
        let redis = RedisServer::start();
        let a = instance_on(&redis, &[]).await;
        let b = instance_on(&redis, &[]).await;
        let ada = Device::new();
        ada.log_in(&a, "ada").await;
        let thief = ada.copy();
        assert!(
            thief.copy().signed_in_as(&b, "ada").await,
            "the copy works on B"
        );

        ada.log_out(&a, "/logout").await;
        assert!(!thief.copy().signed_in_as(&b, "ada").await, "revoked on B");
        assert!(!thief.copy().signed_in_as(&a, "ada").await, "and on A");

        ada.log_in(&b, "ada").await;
        assert!(
            ada.signed_in_as(&a, "ada").await,
            "a new login works everywhere"
        );
        assert!(!thief.copy().signed_in_as(&a, "ada").await);
        // One small record per revoked session (each login revoked the
        // anonymous session before it, too), each expiring by itself.
        let reply = redis.command("KEYS *");
        let keys: Vec<&str> = reply
            .lines()
            .map(str::trim_end)
            .filter(|l| l.starts_with("tower-"))
            .collect();
        assert_eq!(keys.len(), 3, "{reply}");
        let of_ada = keys
            .iter()
            .filter(|k| k.starts_with("tower-cookie-session:id:{ada}:"))
            .count();
        assert_eq!(of_ada, 1, "{reply}");
        for key in keys {
            let ttl: i64 = redis.command(&format!("PTTL {key}"))[1..]
                .trim()
                .parse()
                .unwrap();
            assert!(ttl > 0 && ttl <= (30 * 86_400 + 60) * 1000, "{key}: {ttl}");
        }
    }

    /// Keys spread over a Redis Cluster's slots: each request's keys share
    /// its subject's hash tag, so its check is one `MGET` in one slot.
    #[tokio::test]
    async fn a_redis_cluster_serves_as_one_redis() {
        let nodes = RedisServer::cluster(3);
        let client = ::redis::cluster::ClusterClient::new(
            nodes.iter().map(RedisServer::url).collect::<Vec<_>>(),
        )
        .unwrap();
        let connection = client.get_async_connection().await.unwrap();
        let fleet = |connection| {
            layer(&[])
                .max_lifetime(Duration::from_secs(3600))
                .revocation(tower_cookie_session::RedisRevocations::new(connection))
        };
        let a = instance(fleet(connection.clone())).await;
        let b = instance(fleet(connection)).await;
        // Enough users for their keys to land on every node.
        let users: Vec<String> = (0..12).map(|i| format!("user-{i}")).collect();
        for user in &users {
            let (laptop, phone) = (Device::new(), Device::new());
            laptop.log_in(&a, user).await;
            phone.log_in(&b, user).await;
            let thief = laptop.copy();
            assert!(
                thief.copy().signed_in_as(&b, user).await,
                "checked in the cluster"
            );
            laptop.log_out(&b, "/logout").await;
            assert!(
                !thief.copy().signed_in_as(&a, user).await,
                "{user}: revoked"
            );
            assert!(
                phone.signed_in_as(&a, user).await,
                "{user}: the phone stays"
            );
            phone.log_out(&a, "/logout-everywhere").await;
            assert!(!phone.signed_in_as(&b, user).await, "{user}: everywhere");
        }
        // Every user's records are on one node (one slot), and the users
        // are spread over every node. (The anonymous sessions each login
        // revoked have no subject: a slot each.)
        let mut node_of = std::collections::HashMap::new();
        for (i, node) in nodes.iter().enumerate() {
            for key in node.command("KEYS *").lines() {
                let Some((_, tag)) = key.split_once("{user-") else {
                    continue;
                };
                let tag = tag.split('}').next().unwrap().to_owned();
                let first = *node_of.entry(tag.clone()).or_insert(i);
                assert_eq!(first, i, "user-{tag}'s records are on two nodes");
            }
        }
        assert_eq!(node_of.len(), users.len(), "{node_of:?}");
        let used: std::collections::HashSet<_> = node_of.values().collect();
        assert_eq!(used.len(), nodes.len(), "records on every node");
    }

    #[tokio::test]
    async fn logging_out_everywhere_reaches_every_device_on_every_instance() {
        let redis = RedisServer::start();
        let a = instance_on(&redis, &[]).await;
        let b = instance_on(&redis, &[]).await;
        let (laptop, phone) = (Device::new(), Device::new());
        laptop.log_in(&a, "ada").await;
        phone.log_in(&b, "ada").await;

        laptop.log_out(&b, "/logout-everywhere").await;
        for device in [&laptop, &phone] {
            for base in [&a, &b] {
                assert!(!device.signed_in_as(base, "ada").await);
            }
        }
        phone.log_in(&a, "ada").await;
        assert!(phone.signed_in_as(&b, "ada").await, "a new login works");
        assert!(!laptop.signed_in_as(&b, "ada").await);
    }

    /// How long a request may take while Redis is away: the configured
    /// time, with room for a loaded machine.
    const LIMIT: Duration = Duration::from_millis(200);
    const MARGIN: Duration = Duration::from_secs(2);

    async fn timed_signed_in(device: &Device, base: &str) -> bool {
        let start = Instant::now();
        let signed_in = device.signed_in_as(base, "ada").await;
        assert!(start.elapsed() < LIMIT + MARGIN, "{:?}", start.elapsed());
        signed_in
    }

    #[tokio::test]
    async fn with_redis_stopped_each_instance_answers_in_time_as_configured() {
        let mut redis = RedisServer::start();
        let timeout = LIMIT.as_millis().to_string();
        let refusing = instance_on(
            &redis,
            &[
                ("SESSION_REVOCATION_TIMEOUT_MS", &timeout),
                ("SESSION_REVOCATION_UNAVAILABLE", "revoked"),
            ],
        )
        .await;
        let accepting = instance_on(
            &redis,
            &[
                ("SESSION_REVOCATION_TIMEOUT_MS", &timeout),
                ("SESSION_REVOCATION_UNAVAILABLE", "valid"),
            ],
        )
        .await;
        let ada = Device::new();
        ada.log_in(&refusing, "ada").await;
        let thief = ada.copy();
        ada.log_out(&refusing, "/logout").await;
        ada.log_in(&refusing, "ada").await;
        assert!(!thief.copy().signed_in_as(&accepting, "ada").await);

        redis.stop();
        for _ in 0..3 {
            assert!(!timed_signed_in(&ada.copy(), &refusing).await, "revoked");
            assert!(timed_signed_in(&ada.copy(), &accepting).await, "valid");
            // The price of `valid`: a revoked copy works while Redis is away.
            assert!(timed_signed_in(&thief.copy(), &accepting).await);
            assert!(!timed_signed_in(&thief.copy(), &refusing).await);
        }

        // Back, with what its append-only file kept.
        redis.restart();
        let back = Instant::now() + Duration::from_secs(10);
        while !ada.copy().signed_in_as(&refusing, "ada").await {
            assert!(Instant::now() < back, "the instance reconnects");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            !thief.copy().signed_in_as(&accepting, "ada").await,
            "still revoked"
        );
        assert!(!thief.copy().signed_in_as(&refusing, "ada").await);
        assert!(ada.signed_in_as(&accepting, "ada").await);
    }

    #[tokio::test]
    async fn a_redis_that_never_answers_costs_at_most_the_timeout() {
        // Accepts connections and never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}/", silent.local_addr().unwrap());
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = silent.accept().await {
                held.push(stream);
            }
        });
        let timeout = LIMIT.as_millis().to_string();
        let hung = instance(layer(&[
            ("SESSION_REVOCATION", &url),
            ("SESSION_REVOCATION_TIMEOUT_MS", &timeout),
            ("SESSION_REVOCATION_UNAVAILABLE", "valid"),
        ]))
        .await;
        let working = instance(layer(&[("SESSION_REVOCATION", "memory")])).await;
        let ada = Device::new();
        ada.log_in(&working, "ada").await;
        for _ in 0..3 {
            assert!(timed_signed_in(&ada, &hung).await);
        }
    }
}
