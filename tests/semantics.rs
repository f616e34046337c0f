//! The request and response rules of the session layer, one test each,
//! through an axum `Router`; every `Set-Cookie` is fed back the way a
//! browser does.
#![cfg(feature = "axum")]

mod common;

use std::{
    collections::BTreeMap,
    convert::Infallible,
    time::{Duration, UNIX_EPOCH},
};

use axum::{
    Router,
    body::Body,
    http::{HeaderValue, Request, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use cookie::Cookie;
use http_body_util::BodyExt;
use serde_json::{Map, Value, json, value::RawValue};
use tower::{Layer, ServiceExt, service_fn};
use tower_cookie_session::{
    ConfigError, MAX_CLOCK_SKEW, MAX_COOKIE_VALUE_LEN, SameSite, Session, SessionError,
    SessionLayer, signed_deserialize, signed_serialize,
};

use common::{
    cookies::{cookie_at, now},
    pages::Page as Reply,
};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef primary";
const OLD_SECRET: &[u8] = b"0123456789abcdef0123456789abcdef previous";

fn layer() -> SessionLayer {
    SessionLayer::new(SECRET)
}

/// 10^20 + 1: beyond 64 bits, and rounded to the same `f64` as 10^20
/// (a balance in wei, say). `/wei` and `/flash-wei` store it.
const WEI_PLUS_ONE: u128 = 100_000_000_000_000_000_001;

/// The routes the tests use; each exercises one part of the API.
fn app(layer: SessionLayer) -> Router {
    Router::new()
        .route("/untouched", get(|| async { "hello" }))
        .route(
            "/count",
            get(|s: Session| async move {
                let n: u64 = s.get("n").unwrap().unwrap_or(0);
                s.insert("n", n + 1).unwrap();
                format!("{}", n + 1)
            }),
        )
        .route(
            "/read",
            get(|s: Session| async move {
                json!({
                    "n": s.get_value("n").unwrap(),
                    "new": s.is_new(),
                    "created": s.created().duration_since(UNIX_EPOCH).unwrap().as_secs(),
                })
                .to_string()
            }),
        )
        .route(
            "/touch",
            get(|s: Session| async move {
                s.changed();
                "touched"
            }),
        )
        .route(
            "/invalidate",
            get(|s: Session| async move {
                s.invalidate();
                "bye"
            }),
        )
        .route(
            "/relogin",
            get(|s: Session| async move {
                s.invalidate();
                s.insert("user", "ada").unwrap();
                json!({"new": s.is_new()}).to_string()
            }),
        )
        .route(
            "/fail",
            get(|s: Session| async move {
                s.insert("failed", true).unwrap();
                StatusCode::INTERNAL_SERVER_ERROR
            }),
        )
        .route(
            "/not-found",
            get(|s: Session| async move {
                s.insert("missing", true).unwrap();
                StatusCode::NOT_FOUND
            }),
        )
        .route(
            "/vary",
            get(|s: Session| async move {
                let _ = s.is_new();
                ([(header::VARY, "Accept-Encoding, COOKIE")], "v")
            }),
        )
        .route(
            "/flash",
            get(|s: Session| async move {
                s.flash("saved").unwrap();
                "queued"
            }),
        )
        .route(
            "/pop",
            get(|s: Session| async move { s.pop_flash::<String>("").unwrap().join(",") }),
        )
        .route(
            "/big",
            get(|s: Session| async move {
                match s.insert("big", "x".repeat(MAX_COOKIE_VALUE_LEN)) {
                    Err(SessionError::TooLarge { size, limit }) => {
                        format!("too large: {size} > {limit}; keys {:?}", s.keys())
                    }
                    other => format!("unexpected {other:?}"),
                }
            }),
        )
        .route("/csrf", get(|s: Session| async move { s.get_csrf_token() }))
        .route(
            "/wei",
            get(|s: Session| async move {
                s.insert("wei", WEI_PLUS_ONE).unwrap();
            }),
        )
        .route(
            "/flash-wei",
            get(|s: Session| async move {
                s.flash_to("", WEI_PLUS_ONE, false).unwrap();
            }),
        )
        .layer(layer)
}

impl Reply {
    /// The one session cookie set, if any.
    fn session_cookie(&self) -> Option<Cookie<'static>> {
        let mut cookies = self.set_cookies();
        assert!(cookies.len() <= 1, "at most one Set-Cookie: {cookies:?}");
        cookies.pop()
    }

    fn vary(&self) -> Vec<&str> {
        self.headers
            .get_all(header::VARY)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

async fn send(app: &Router, path: &str, cookie: Option<&str>) -> Reply {
    let cookies: Vec<String> = cookie.map(str::to_owned).into_iter().collect();
    send_cookie_headers(app, path, &cookies).await
}

/// A browser: keeps the session cookie it is given and sends it back.
struct Browser {
    app: Router,
    cookie: Option<String>,
}

impl Browser {
    fn new(app: Router) -> Self {
        Self { app, cookie: None }
    }

    async fn get(&mut self, path: &str) -> Reply {
        let header = self.cookie.as_ref().map(|v| format!("session={v}"));
        let reply = send(&self.app, path, header.as_deref()).await;
        if let Some(c) = reply.session_cookie() {
            let removed = c.max_age() == Some(cookie::time::Duration::ZERO);
            self.cookie = (!removed).then(|| c.value().to_owned());
        }
        reply
    }
}

type Payload = (u64, u64, Map<String, Value>);

fn decode(value: &str) -> Payload {
    signed_deserialize(value, SECRET).unwrap()
}

#[tokio::test]
async fn untouched_session_leaves_the_response_alone() {
    let app = app(layer());
    let valid = cookie_at(now(), now(), json!({"n": 1}), SECRET);
    for cookie in [
        None,
        Some(format!("session={valid}")),
        Some("session=garbage".into()),
    ] {
        let reply = send(&app, "/untouched", cookie.as_deref()).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.set_cookies().is_empty(), "{cookie:?}");
        assert!(reply.vary().is_empty(), "{cookie:?}");
    }
}

#[tokio::test]
async fn counter_survives_round_trips() {
    let mut browser = Browser::new(app(layer()));
    for expected in ["1", "2", "3"] {
        assert_eq!(browser.get("/count").await.body, expected);
    }
}

#[tokio::test]
async fn used_session_adds_vary_cookie_once() {
    let app = app(layer());
    let reply = send(&app, "/read", None).await;
    assert_eq!(reply.vary(), ["cookie"]);
    let reply = send(&app, "/vary", None).await;
    assert_eq!(reply.vary(), ["Accept-Encoding, COOKIE"]);
}

#[tokio::test]
async fn new_session_that_is_only_read_writes_no_cookie() {
    let reply = send(&app(layer()), "/read", None).await;
    assert_eq!(reply.json()["new"], true);
    assert!(
        reply.session_cookie().is_none(),
        "nothing to keep, so no cookie"
    );
    assert_eq!(reply.vary(), ["cookie"], "read, so it varies on Cookie");
}

#[tokio::test]
async fn refused_cookie_that_is_only_read_writes_no_cookie() {
    let value = cookie_at(
        now(),
        now(),
        json!({"n": 7}),
        b"another secret, also 32 bytes long!",
    );
    let reply = send(&app(layer()), "/read", Some(&format!("session={value}"))).await;
    assert_eq!(reply.json()["new"], true);
    assert!(reply.session_cookie().is_none());
    assert_eq!(reply.vary(), ["cookie"]);
}

#[tokio::test]
async fn new_session_is_written_once_it_holds_something_or_is_marked_changed() {
    let app = app(layer());
    let reply = send(&app, "/count", None).await;
    let cookie = reply.session_cookie().expect("it holds a value");
    assert_eq!(Value::Object(decode(cookie.value()).2), json!({"n": 1}));

    let reply = send(&app, "/touch", None).await;
    let cookie = reply.session_cookie().expect("changed() forces the write");
    let (accessed, created, state) = decode(cookie.value());
    assert!(state.is_empty());
    assert!(accessed.abs_diff(now()) <= 2 && created == accessed);
}

#[tokio::test]
async fn unchanged_recent_session_is_not_rewritten() {
    let app = app(layer());
    let value = cookie_at(now(), now() - 50, json!({"n": 7}), SECRET);
    let reply = send(&app, "/read", Some(&format!("session={value}"))).await;
    assert_eq!(reply.json()["n"], 7);
    assert_eq!(reply.json()["new"], false);
    assert!(reply.session_cookie().is_none());
    assert_eq!(
        reply.vary(),
        ["cookie"],
        "read, so it still varies on Cookie"
    );
}

#[tokio::test]
async fn changed_session_is_written_with_accessed_now() {
    let app = app(layer());
    let created = now() - 100;
    let value = cookie_at(now() - 10, created, json!({"n": 7}), SECRET);
    let reply = send(&app, "/count", Some(&format!("session={value}"))).await;
    assert_eq!(reply.body, "8");
    let (accessed, kept_created, state) = decode(reply.session_cookie().unwrap().value());
    assert!(accessed.abs_diff(now()) <= 2);
    assert_eq!(kept_created, created, "created is kept across writes");
    assert_eq!(state["n"], 8);
}

#[tokio::test]
async fn session_due_for_reissue_is_written_again() {
    let app = app(layer()); // reissue after 120 s by default
    let old = now() - 121;
    let value = cookie_at(old, old, json!({"n": 1}), SECRET);
    let reply = send(&app, "/read", Some(&format!("session={value}"))).await;
    assert_eq!(reply.json()["new"], false);
    let (accessed, created, state) = decode(reply.session_cookie().expect("reissued").value());
    assert!(accessed > old, "accessed moves forward");
    assert_eq!(created, old);
    assert_eq!(state["n"], 1);

    let app = crate::app(layer().reissue_time(None));
    let reply = send(&app, "/read", Some(&format!("session={value}"))).await;
    assert!(reply.session_cookie().is_none(), "reissue disabled");
    let app = crate::app(layer().reissue_time(Some(Duration::ZERO)));
    let fresh = cookie_at(now(), now(), json!({}), SECRET);
    let reply = send(&app, "/read", Some(&format!("session={fresh}"))).await;
    assert!(
        reply.session_cookie().is_some(),
        "zero reissue time writes every time"
    );
}

#[tokio::test]
async fn expired_session_starts_fresh_with_a_new_created() {
    let app = app(layer().timeout(Some(Duration::from_secs(60))));
    let old = now() - 61;
    let value = cookie_at(old, old - 1000, json!({"n": 5}), SECRET);
    let reply = send(&app, "/read", Some(&format!("session={value}"))).await;
    let body = reply.json();
    assert_eq!(body["new"], true);
    assert_eq!(body["n"], Value::Null);
    assert!(body["created"].as_u64().unwrap().abs_diff(now()) <= 2);

    let just_in_time = cookie_at(now() - 59, old - 1000, json!({"n": 5}), SECRET);
    let reply = send(&app, "/read", Some(&format!("session={just_in_time}"))).await;
    assert_eq!(reply.json()["n"], 5);

    let app = crate::app(layer().timeout(None));
    let ancient = cookie_at(1_000_000, 1_000_000, json!({"n": 5}), SECRET);
    let reply = send(&app, "/read", Some(&format!("session={ancient}"))).await;
    assert_eq!(reply.json()["n"], 5, "no timeout, no expiry");
}

#[tokio::test]
async fn session_past_max_lifetime_starts_fresh_however_active() {
    let app = app(layer().max_lifetime(Some(Duration::from_secs(3600))));
    let value = cookie_at(now(), now() - 3601, json!({"n": 5}), SECRET);
    let reply = send(&app, "/read", Some(&format!("session={value}"))).await;
    assert_eq!(reply.json()["new"], true);
    assert_eq!(reply.json()["n"], Value::Null);
    let value = cookie_at(now(), now() - 3500, json!({"n": 5}), SECRET);
    let reply = send(&app, "/read", Some(&format!("session={value}"))).await;
    assert_eq!(reply.json()["n"], 5);
}

#[tokio::test]
async fn session_from_the_future_beyond_the_skew_allowance_starts_fresh() {
    let skew = MAX_CLOCK_SKEW.as_secs();
    // With a day's max_lifetime, a cookie a year ahead would otherwise stay
    // valid for a year.
    let app = app(layer().max_lifetime(Some(Duration::from_secs(86_400))));
    let ahead = now() + skew + 5;
    for (case, accessed, created) in [
        ("accessed ahead", ahead, now() - 10),
        ("created ahead", now(), ahead),
        ("both ahead", ahead, ahead),
        ("a year ahead", now() + 365 * 86_400, now() + 365 * 86_400),
    ] {
        let value = cookie_at(accessed, created, json!({"n": 5}), SECRET);
        let reply = send(&app, "/read", Some(&format!("session={value}"))).await;
        assert_eq!(reply.json()["new"], true, "{case}");
        assert_eq!(reply.json()["n"], Value::Null, "{case}");
    }
}

#[tokio::test]
async fn session_from_the_future_within_the_allowance_is_kept_at_now() {
    let app = app(layer());
    let ahead = now() + MAX_CLOCK_SKEW.as_secs() - 5;
    let value = cookie_at(ahead, ahead, json!({"n": 5}), SECRET);
    let cookie = format!("session={value}");
    let reply = send(&app, "/read", Some(&cookie)).await;
    assert_eq!(
        reply.json()["new"],
        false,
        "a few seconds of skew still work"
    );
    assert_eq!(reply.json()["n"], 5);
    assert!(
        reply.json()["created"].as_u64().unwrap() <= now(),
        "a future created is taken as now"
    );
    let reply = send(&app, "/count", Some(&cookie)).await;
    let written = reply.session_cookie().expect("changed, so written");
    let (accessed, created, state) = decode(written.value());
    assert_eq!(state["n"], 6);
    let after = now();
    assert!(
        created <= after && accessed <= after,
        "no future time is carried forward: {accessed} {created}"
    );
}

#[tokio::test]
async fn fallback_secret_verifies_and_is_resigned_with_the_primary() {
    let app = app(layer().fallback_secrets([OLD_SECRET]));
    let value = cookie_at(now(), now(), json!({"n": 3}), OLD_SECRET);
    let reply = send(&app, "/read", Some(&format!("session={value}"))).await;
    assert_eq!(reply.json()["n"], 3);
    let cookie = reply.session_cookie().expect("re-signed");
    let (_, _, state) = decode(cookie.value());
    assert_eq!(state["n"], 3);

    let reply = send(
        &crate::app(layer()),
        "/read",
        Some(&format!("session={value}")),
    )
    .await;
    assert_eq!(
        reply.json()["n"],
        Value::Null,
        "without the fallback it is refused"
    );
}

#[tokio::test]
async fn first_verifying_cookie_of_the_name_wins() {
    let app = app(layer());
    let a = cookie_at(now(), now(), json!({"n": 10}), SECRET);
    let b = cookie_at(now(), now(), json!({"n": 20}), SECRET);
    let header = format!("session=bogus; other={a}; session={a}; session={b}");
    assert_eq!(send(&app, "/read", Some(&header)).await.json()["n"], 10);
    let header = format!("session={b}; session={a}");
    assert_eq!(send(&app, "/read", Some(&header)).await.json()["n"], 20);
}

#[tokio::test]
async fn server_error_saves_nothing_without_cookie_on_exception() {
    let reply = send(&app(layer().cookie_on_exception(false)), "/fail", None).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.session_cookie().is_none());
    assert_eq!(reply.vary(), ["cookie"]);

    let reply = send(&app(layer().cookie_on_exception(false)), "/not-found", None).await;
    assert!(reply.session_cookie().is_some(), "only 5xx is suppressed");

    let reply = send(&app(layer()), "/fail", None).await;
    let (_, _, state) = decode(reply.session_cookie().expect("saved by default").value());
    assert_eq!(state["failed"], true);
}

#[tokio::test]
async fn inner_service_error_passes_through_unchanged() {
    let failing = service_fn(|req: Request<Body>| async move {
        req.extensions()
            .get::<Session>()
            .unwrap()
            .insert("x", 1)
            .unwrap();
        Err::<Response, _>("boom")
    });
    let result = layer()
        .layer(failing)
        .oneshot(Request::new(Body::empty()))
        .await;
    assert_eq!(result.unwrap_err(), "boom");
}

/// The cookie a layer configured as `configured` sends when a handler
/// invalidates the session that arrived in cookie `name`.
async fn removal_cookie(configured: SessionLayer, name: &str) -> Cookie<'static> {
    let app = Router::new()
        .route(
            "/invalidate",
            get(|s: Session| async move {
                s.invalidate();
            }),
        )
        .layer(configured);
    let value = cookie_at(now(), now(), json!({"user": "ada"}), SECRET);
    let reply = send(&app, "/invalidate", Some(&format!("{name}={value}"))).await;
    let removal = reply.session_cookie().expect("removal cookie");
    assert_eq!(removal.name(), name);
    assert_eq!(removal.value(), "");
    assert_eq!(removal.max_age(), Some(cookie::time::Duration::ZERO));
    removal
}

#[tokio::test]
async fn invalidated_session_is_removed_with_matching_attributes() {
    let configured = layer()
        .cookie_name("__Host-sid")
        .secure(true)
        .same_site(SameSite::Strict)
        .partitioned(true);
    let removal = removal_cookie(configured, "__Host-sid").await;
    assert_eq!(removal.path(), Some("/"));
    assert_eq!(removal.secure(), Some(true));
    assert_eq!(removal.same_site(), Some(SameSite::Strict));
    assert_eq!(removal.partitioned(), Some(true));
}

#[tokio::test]
async fn invalidating_removes_a_cookie_only_if_one_was_sent() {
    let app = app(layer());
    let reply = send(&app, "/invalidate", None).await;
    assert!(reply.session_cookie().is_none(), "nothing to remove");
    let reply = send(&app, "/invalidate", Some("session=not-even-valid")).await;
    let removal = reply
        .session_cookie()
        .expect("invalid cookies are removed too");
    assert_eq!(removal.max_age(), Some(cookie::time::Duration::ZERO));

    let mut browser = Browser::new(app);
    browser.get("/count").await;
    browser.get("/invalidate").await;
    assert!(browser.cookie.is_none(), "the browser dropped the cookie");
    assert_eq!(browser.get("/count").await.body, "1");
}

#[tokio::test]
async fn insert_after_invalidate_starts_a_brand_new_session() {
    let app = app(layer());
    let created = now() - 500;
    let value = cookie_at(now(), created, json!({"n": 9, "secret": "x"}), SECRET);
    let reply = send(&app, "/relogin", Some(&format!("session={value}"))).await;
    assert_eq!(reply.json()["new"], true);
    let (_, new_created, state) = decode(reply.session_cookie().unwrap().value());
    assert!(new_created.abs_diff(now()) <= 2, "fresh created");
    assert_eq!(Value::Object(state), json!({"user": "ada"}));
}

#[tokio::test]
async fn flash_is_shown_once_and_popping_nothing_writes_nothing() {
    let mut browser = Browser::new(app(layer()));
    browser.get("/flash").await;
    assert_eq!(browser.get("/pop").await.body, "saved");
    let reply = browser.get("/pop").await;
    assert_eq!(reply.body, "");
    assert!(reply.session_cookie().is_none(), "empty pop is no change");
}

#[tokio::test]
async fn csrf_token_is_stable_across_requests() {
    let mut browser = Browser::new(app(layer()));
    let token = browser.get("/csrf").await.body;
    assert_eq!(token.len(), 40);
    assert_eq!(browser.get("/csrf").await.body, token);
}

#[tokio::test]
async fn too_large_insert_is_an_error_and_keeps_the_session() {
    let mut browser = Browser::new(app(layer()));
    browser.get("/count").await;
    let reply = browser.get("/big").await;
    assert!(reply.body.starts_with("too large: "), "{}", reply.body);
    assert!(
        reply.body.ends_with(r#"> 4064; keys ["n"]"#),
        "{}",
        reply.body
    );
    assert!(
        reply.session_cookie().is_none(),
        "nothing changed, nothing written"
    );
    assert_eq!(browser.get("/count").await.body, "2");
}

#[tokio::test]
async fn session_that_outgrew_its_cookie_keeps_the_old_one() {
    // 4000 bytes of state fit; a CSRF token on top does not.
    let filler = "y".repeat(2950);
    let value = cookie_at(now(), now(), json!({"fill": filler}), SECRET);
    assert!(value.len() <= MAX_COOKIE_VALUE_LEN);
    let app = app(layer());
    let reply = send(&app, "/csrf", Some(&format!("session={value}"))).await;
    assert_eq!(reply.body.len(), 40);
    assert!(reply.session_cookie().is_none(), "never an oversize cookie");
}

#[tokio::test]
async fn cookie_attributes_follow_the_configuration() {
    let configured = layer()
        .cookie_name("sid")
        .path("/app")
        .domain(Some("example.com".into()))
        .secure(true)
        .http_only(false)
        .same_site(SameSite::Strict)
        .max_age(Some(Duration::from_secs(3600)));
    let reply = send(&app(configured), "/count", None).await;
    let c = reply.session_cookie().unwrap();
    assert_eq!(c.name(), "sid");
    assert_eq!(c.path(), Some("/app"));
    assert_eq!(c.domain(), Some("example.com"));
    assert_eq!(c.secure(), Some(true));
    assert_eq!(c.http_only(), None);
    assert_eq!(c.same_site(), Some(SameSite::Strict));
    assert_eq!(c.max_age(), Some(cookie::time::Duration::seconds(3600)));

    let reply = send(&app(layer()), "/count", None).await;
    let c = reply.session_cookie().unwrap();
    assert_eq!(c.name(), "session");
    assert_eq!(c.path(), Some("/"));
    assert_eq!(c.http_only(), Some(true));
    assert_eq!(c.same_site(), Some(SameSite::Lax));
    assert_eq!(c.secure(), None);
    assert_eq!(c.max_age(), None, "a browser-session cookie by default");
    assert_eq!(c.partitioned(), None);
}

#[tokio::test]
async fn extractor_without_the_layer_is_a_500_naming_the_layer() {
    let app: Router = Router::new()
        .route("/", get(|_s: Session| async { "unreachable" }))
        .route(
            "/optional",
            get(|s: Option<Session>| async move { format!("{}", s.is_some()) }),
        );
    let reply = send(&app, "/", None).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.body.contains("SessionLayer"), "{}", reply.body);
    assert_eq!(send(&app, "/optional", None).await.body, "false");
    let app = app.layer(layer());
    assert_eq!(send(&app, "/optional", None).await.body, "true");
}

#[tokio::test]
async fn quoted_cookie_value_is_accepted() {
    let value = cookie_at(now(), now(), json!({"n": 6}), SECRET);
    let reply = send(
        &app(layer()),
        "/read",
        Some(&format!("session=\"{value}\"")),
    )
    .await;
    assert_eq!(reply.json()["n"], 6);
}

#[tokio::test]
async fn multiple_cookie_headers_are_all_searched() {
    let value = cookie_at(now(), now(), json!({"n": 4}), SECRET);
    let req = Request::get("/read")
        .header(header::COOKIE, "a=1")
        .header(
            header::COOKIE,
            HeaderValue::from_str(&format!("b=2; session={value}")).unwrap(),
        )
        .body(Body::empty())
        .unwrap();
    let res = app(layer()).oneshot(req).await.unwrap();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["n"], 4);
}

#[test]
fn bad_configurations_are_refused_with_what_to_fix() {
    let cases: Vec<(SessionLayer, &str)> = vec![
        (layer().cookie_name(""), "not a valid cookie name"),
        (layer().cookie_name("a b"), "not a valid cookie name"),
        (layer().cookie_name("__Host-x"), "secure(true)"),
        (
            layer().cookie_name("__Host-x").secure(true).path("/a"),
            "path(\"/\")",
        ),
        (
            layer()
                .cookie_name("__Host-x")
                .secure(true)
                .domain(Some("a.com".into())),
            "domain(None)",
        ),
        (layer().cookie_name("__secure-x"), "`__Secure-`"),
        (layer().partitioned(true), "partitioned"),
        (layer().same_site(SameSite::None), "SameSite=None"),
        (
            layer().reissue_time(Some(Duration::from_secs(1200))),
            "shorter than timeout",
        ),
        (
            layer().fallback_secrets([b"short"]),
            "fallback secret #0 is 5 bytes",
        ),
        (layer().path("/a;b"), "path contains"),
    ];
    for (layer, message) in cases {
        let err = layer.validate().unwrap_err();
        assert!(err.to_string().contains(message), "{err} lacks {message:?}");
    }
    assert!(matches!(
        SessionLayer::try_new([0; 31]),
        Err(ConfigError::SecretTooShort {
            len: 31,
            fallback: None
        })
    ));
}

#[test]
fn setter_order_does_not_matter() {
    let a = layer().secure(true).cookie_name("__Host-x");
    let b = layer().cookie_name("__Host-x").secure(true);
    assert_eq!(a.validate(), Ok(()));
    assert_eq!(b.validate(), Ok(()));
    let fixed = layer()
        .timeout(None)
        .reissue_time(Some(Duration::from_secs(5000)));
    assert_eq!(fixed.validate(), Ok(()), "no timeout, no bound on reissue");
    let fixed = layer()
        .reissue_time(Some(Duration::from_secs(5000)))
        .timeout(Some(Duration::from_secs(6000)));
    assert_eq!(fixed.validate(), Ok(()));
}

#[test]
#[should_panic(expected = "invalid SessionLayer configuration: a `__Host-` session cookie needs")]
fn layering_a_bad_configuration_panics_with_the_message() {
    let _ = layer()
        .cookie_name("__Host-x")
        .layer(service_fn(|_: Request<Body>| async {
            Ok::<_, Infallible>(().into_response())
        }));
}

#[test]
#[should_panic(expected = "session secret is 3 bytes; use at least 32 bytes")]
fn short_secret_panics_in_new() {
    let _ = SessionLayer::new(b"abc");
}

#[test]
fn debug_output_shows_no_secret() {
    let debug = format!("{:?}", layer().fallback_secrets([OLD_SECRET]));
    assert!(
        !debug.contains("primary") && !debug.contains("previous"),
        "{debug}"
    );
    assert!(debug.contains("redacted"));
}

/// Runs `f(t)` again until the clock did not tick during the request, so
/// that the layer's `now` was `t` too (both are whole Unix seconds).
async fn at_one_second<F, Fut>(mut f: F) -> Reply
where
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    loop {
        let t = now();
        let reply = f(t).await;
        if now() == t {
            return reply;
        }
    }
}

/// Sends one `Cookie` header per element of `cookies`, in order.
async fn send_cookie_headers(app: &Router, path: &str, cookies: &[String]) -> Reply {
    let mut req = Request::get(path);
    for cookie in cookies {
        req = req.header(header::COOKIE, cookie.as_str());
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    Reply::collect(res).await
}

#[tokio::test]
async fn timeouts_expire_only_strictly_past_their_limit() {
    // DESIGN 4.2: expired when `now - accessed > timeout`; equal is still valid.
    let app = app(layer().timeout(Some(Duration::from_secs(60))));
    let reply = at_one_second(|t| {
        let value = cookie_at(t - 60, t - 60, json!({"n": 5}), SECRET);
        let app = app.clone();
        async move { send(&app, "/read", Some(&format!("session={value}"))).await }
    })
    .await;
    assert_eq!(reply.json()["n"], 5, "idle == timeout is not expired");
    assert_eq!(reply.json()["new"], false);

    // ... and `now - created > max_lifetime`; equal is still valid.
    let app = crate::app(layer().max_lifetime(Some(Duration::from_secs(3600))));
    let reply = at_one_second(|t| {
        let value = cookie_at(t, t - 3600, json!({"n": 6}), SECRET);
        let app = app.clone();
        async move { send(&app, "/read", Some(&format!("session={value}"))).await }
    })
    .await;
    assert_eq!(reply.json()["n"], 6, "age == max_lifetime is not expired");
    assert_eq!(reply.json()["new"], false);
}

#[tokio::test]
async fn reissue_counts_from_accessed_not_created() {
    let app = app(layer()); // timeout 1200 s, so reissue after 120 s
    let value = cookie_at(now(), now() - 1000, json!({"n": 1}), SECRET);
    let reply = send(&app, "/read", Some(&format!("session={value}"))).await;
    assert_eq!(reply.json()["n"], 1);
    assert!(
        reply.session_cookie().is_none(),
        "an old session seen just now is not due for reissue"
    );
}

#[tokio::test]
async fn removal_cookie_repeats_domain_path_and_secure() {
    // No Partitioned here: the cookie crate adds `Secure` to any
    // partitioned cookie, which hides a removal that forgot `Secure`.
    let configured = layer()
        .cookie_name("__Secure-sid")
        .secure(true)
        .path("/app")
        .domain(Some("example.com".into()));
    let removal = removal_cookie(configured, "__Secure-sid").await;
    assert_eq!(removal.path(), Some("/app"));
    assert_eq!(removal.domain(), Some("example.com"));
    assert_eq!(removal.secure(), Some(true));
    assert_eq!(removal.same_site(), Some(SameSite::Lax));
    assert_eq!(removal.partitioned(), None);
}

#[tokio::test]
async fn partitioned_is_written_on_ordinary_writes_too() {
    let reply = send(&app(layer().secure(true).partitioned(true)), "/count", None).await;
    let c = reply.session_cookie().unwrap();
    assert_eq!(c.partitioned(), Some(true));
    assert_eq!(c.secure(), Some(true));
}

#[tokio::test]
async fn an_expired_first_verifying_cookie_ends_the_search() {
    // DESIGN 4.2: the first cookie that verifies and parses is the session
    // and the timeouts apply to it alone; a later valid cookie is not used.
    let app = app(layer().timeout(Some(Duration::from_secs(60))));
    let expired = cookie_at(now() - 120, now() - 120, json!({"n": 1}), SECRET);
    let valid = cookie_at(now(), now(), json!({"n": 2}), SECRET);
    let reply = send(
        &app,
        "/read",
        Some(&format!("session={expired}; session={valid}")),
    )
    .await;
    assert_eq!(reply.json()["new"], true, "{}", reply.body);
    assert_eq!(reply.json()["n"], Value::Null, "{}", reply.body);

    // The same when the cookies come in separate `Cookie` headers, as
    // HTTP/2 clients send them.
    let reply = send_cookie_headers(
        &app,
        "/read",
        &[format!("session={expired}"), format!("session={valid}")],
    )
    .await;
    assert_eq!(reply.json()["new"], true, "{}", reply.body);
    assert_eq!(reply.json()["n"], Value::Null, "{}", reply.body);
}

#[tokio::test]
async fn a_verified_cookie_of_the_wrong_shape_does_not_end_the_search() {
    let app = app(layer());
    let wrong_shape =
        signed_serialize(&json!([now(), now(), ["not", "an", "object"]]), SECRET).unwrap();
    let not_a_triple = signed_serialize(&json!({"n": 9}), SECRET).unwrap();
    let valid = cookie_at(now(), now(), json!({"n": 3}), SECRET);
    let header = format!("session={wrong_shape}; session={not_a_triple}; session={valid}");
    let reply = send(&app, "/read", Some(&header)).await;
    assert_eq!(reply.json()["n"], 3, "{}", reply.body);
    assert_eq!(reply.json()["new"], false);
}

#[tokio::test]
async fn the_first_cookie_header_wins_over_later_ones() {
    let app = app(layer());
    let a = cookie_at(now(), now(), json!({"n": 1}), SECRET);
    let b = cookie_at(now(), now(), json!({"n": 2}), SECRET);
    let reply = send_cookie_headers(
        &app,
        "/read",
        &[format!("session={a}"), format!("session={b}")],
    )
    .await;
    assert_eq!(reply.json()["n"], 1);
    let reply = send_cookie_headers(
        &app,
        "/read",
        &[format!("session={b}"), format!("session={a}")],
    )
    .await;
    assert_eq!(reply.json()["n"], 2);
}

#[tokio::test]
async fn cookie_names_are_case_sensitive() {
    let app = app(layer());
    let value = cookie_at(now(), now(), json!({"n": 4}), SECRET);
    let reply = send(&app, "/read", Some(&format!("SESSION={value}"))).await;
    assert_eq!(reply.json()["new"], true);
    assert_eq!(reply.json()["n"], Value::Null);
    let reply = send(&app, "/invalidate", Some(&format!("Session={value}"))).await;
    assert!(
        reply.session_cookie().is_none(),
        "not our cookie: nothing to remove"
    );
}

#[tokio::test]
async fn a_primary_signed_session_is_not_resigned_because_fallbacks_exist() {
    let app = app(layer().fallback_secrets([OLD_SECRET]));
    let value = cookie_at(now(), now(), json!({"n": 3}), SECRET);
    let reply = send(&app, "/read", Some(&format!("session={value}"))).await;
    assert_eq!(reply.json()["n"], 3);
    assert!(
        reply.session_cookie().is_none(),
        "only fallback-verified sessions are re-signed"
    );
}

#[tokio::test]
async fn refused_duplicate_flash_is_no_change() {
    let app = Router::new()
        .route(
            "/once",
            get(|s: Session| async move {
                s.flash_to("info", "hi", false).unwrap();
            }),
        )
        .layer(layer());
    let value = cookie_at(now(), now(), json!({"_f_info": ["hi"]}), SECRET);
    let reply = send(&app, "/once", Some(&format!("session={value}"))).await;
    assert!(
        reply.session_cookie().is_none(),
        "the message was already queued"
    );
}

#[tokio::test]
async fn changed_and_clear_write_the_cookie() {
    let app = Router::new()
        .route("/touch", get(|s: Session| async move { s.changed() }))
        .route("/clear", get(|s: Session| async move { s.clear() }))
        .layer(layer());
    let created = now() - 30;
    let value = cookie_at(now(), created, json!({"n": 3}), SECRET);
    let cookie = format!("session={value}");

    let reply = send(&app, "/touch", Some(&cookie)).await;
    let written = reply.session_cookie().expect("changed() forces a write");
    let (_, kept_created, state) = decode(written.value());
    assert_eq!(kept_created, created);
    assert_eq!(state["n"], 3);

    let reply = send(&app, "/clear", Some(&cookie)).await;
    let written = reply
        .session_cookie()
        .expect("clearing a non-empty session writes");
    let (_, kept_created, state) = decode(written.value());
    assert!(state.is_empty());
    assert_eq!(kept_created, created, "clear keeps the session's identity");

    let empty = cookie_at(now(), now(), json!({}), SECRET);
    let reply = send(&app, "/clear", Some(&format!("session={empty}"))).await;
    assert!(
        reply.session_cookie().is_none(),
        "clearing an empty session is no change"
    );
}

#[tokio::test]
async fn server_error_without_cookie_on_exception_removes_nothing_either() {
    let app = Router::new()
        .route(
            "/logout-fails",
            get(|s: Session| async move {
                s.invalidate();
                StatusCode::INTERNAL_SERVER_ERROR
            }),
        )
        .layer(layer().cookie_on_exception(false));
    let value = cookie_at(now(), now(), json!({"user": "ada"}), SECRET);
    let reply = send(&app, "/logout-fails", Some(&format!("session={value}"))).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        reply.set_cookies().is_empty(),
        "no Set-Cookie at all on a 5xx"
    );
    assert_eq!(reply.vary(), ["cookie"]);
}

#[tokio::test]
async fn reinserting_an_equal_value_from_a_python_written_cookie_is_no_change() {
    // Python's json.dumps writes `[1, 2]` with a space; the value is equal.
    let app = Router::new()
        .route(
            "/cart",
            get(|s: Session| async move {
                s.insert("cart", vec![1, 2]).unwrap();
            }),
        )
        .layer(layer());
    let t = now();
    let json = format!(r#"[{t}, {t}, {{"cart": [1, 2]}}]"#);
    let raw = serde_json::value::RawValue::from_string(json).unwrap();
    let value = signed_serialize(&raw, SECRET).unwrap();
    let reply = send(&app, "/cart", Some(&format!("session={value}"))).await;
    assert!(reply.session_cookie().is_none(), "the state did not change");
}

/// A valid cookie header (signed with `SECRET`, at now) whose state is the
/// JSON text `state`, kept as written: a `Value` would hold integers beyond
/// 64 bits as `f64`.
fn cookie_with_state_text(state: &str) -> String {
    let t = now();
    let raw = RawValue::from_string(format!("[{t}, {t}, {state}]")).unwrap();
    format!("session={}", signed_serialize(&raw, SECRET).unwrap())
}

/// The state of a cookie the layer wrote, each value as its JSON text.
fn decode_text(value: &str) -> BTreeMap<String, Box<RawValue>> {
    signed_deserialize::<(u64, u64, BTreeMap<String, Box<RawValue>>)>(value, SECRET)
        .unwrap()
        .2
}

#[tokio::test]
async fn inserting_a_different_integer_beyond_64_bits_is_a_change() {
    // 10^20 and 10^20 + 1 are one `f64`, but two values (as in Python).
    assert_eq!(WEI_PLUS_ONE as f64, 100_000_000_000_000_000_000u128 as f64);
    let app = app(layer());
    let cookie = cookie_with_state_text(r#"{"wei": 100000000000000000000}"#);
    let reply = send(&app, "/wei", Some(&cookie)).await;
    let written = reply
        .session_cookie()
        .expect("the new value must be written");
    let state = decode_text(written.value());
    assert_eq!(state["wei"].get(), "100000000000000000001");

    // The same number again is no change.
    let cookie = cookie_with_state_text(r#"{"wei": 100000000000000000001}"#);
    let reply = send(&app, "/wei", Some(&cookie)).await;
    assert!(reply.session_cookie().is_none(), "the value did not change");
}

#[tokio::test]
async fn flashing_a_different_integer_beyond_64_bits_is_not_a_duplicate() {
    let app = app(layer());
    let cookie = cookie_with_state_text(r#"{"_f_": [100000000000000000000]}"#);
    let reply = send(&app, "/flash-wei", Some(&cookie)).await;
    let written = reply
        .session_cookie()
        .expect("a message that is not queued yet is added");
    let queue: Vec<Box<RawValue>> =
        serde_json::from_str(decode_text(written.value())["_f_"].get()).unwrap();
    let queue: Vec<&str> = queue.iter().map(|m| m.get()).collect();
    assert_eq!(queue, ["100000000000000000000", "100000000000000000001"]);

    // Flashing the exactly equal number again adds nothing.
    let cookie = format!("session={}", written.value());
    let reply = send(&app, "/flash-wei", Some(&cookie)).await;
    assert!(
        reply.session_cookie().is_none(),
        "the message was already queued"
    );
}
