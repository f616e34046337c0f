//! A lifetime chosen per session ("remember me"): each rule of `Expiry`
//! through the layer, with cookies crafted at chosen times and every
//! `Set-Cookie` read as a browser reads it.
#![cfg(feature = "axum")]

mod common;

use std::time::Duration;

use axum::{
    Router,
    body::Body,
    http::{Request, header},
    routing::get,
};
use cookie::Cookie;
use serde_json::{Value, json};
use tower::ServiceExt;
use tower_cookie_session::{Expiry, Session, SessionLayer, signed_deserialize};

use common::{
    cookies::{cookie_at, now, session_set_cookie},
    pages::Page,
};

const SECRET: &[u8] = b"the expiry tests' secret, of 32 bytes or more";
const DAY: u64 = 86_400;
const MONTH: u64 = 30 * DAY;

/// The default layer: a browser-session cookie, a 20-minute timeout.
fn layer() -> SessionLayer {
    SessionLayer::new(SECRET)
}

fn app(layer: SessionLayer) -> Router {
    Router::new()
        .route(
            "/remember",
            get(|s: Session| async move {
                s.insert("user", "ada").unwrap();
                s.set_expiry(Expiry::Persistent(Duration::from_secs(MONTH)))
                    .unwrap();
            }),
        )
        .route(
            "/browser-session",
            get(|s: Session| async move {
                s.insert("user", "ada").unwrap();
                s.set_expiry(Expiry::BrowserSession).unwrap();
            }),
        )
        .route(
            "/default",
            get(|s: Session| async move {
                s.insert("user", "ada").unwrap();
                s.set_expiry(Expiry::Default).unwrap();
            }),
        )
        .route(
            "/logout",
            get(|s: Session| async move {
                s.invalidate();
                s.insert("flash", "bye").unwrap();
                format!("{:?}", s.expiry())
            }),
        )
        .route(
            "/read",
            get(|s: Session| async move {
                json!({
                    "user": s.get::<String>("user").unwrap(),
                    "new": s.is_new(),
                    "expiry": format!("{:?}", s.expiry()),
                })
                .to_string()
            }),
        )
        .layer(layer)
}

async fn send(app: &Router, path: &str, cookie: Option<&str>) -> Page {
    let mut request = Request::get(path);
    if let Some(value) = cookie {
        request = request.header(header::COOKIE, format!("session={value}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    Page::collect(response).await
}

fn written(page: &Page) -> Cookie<'static> {
    session_set_cookie(&page.headers).expect("the session is written")
}

fn state(cookie: &Cookie<'_>) -> Value {
    let (_, _, state): (f64, f64, Value) = signed_deserialize(cookie.value(), SECRET).unwrap();
    state
}

fn read(page: &Page) -> Value {
    serde_json::from_str(&page.body).unwrap()
}

/// A signed-in session last written `idle` seconds ago, with `_exp_` as
/// given (`None`: not set).
fn session_idle_for(idle: u64, exp: Option<u64>) -> String {
    let mut state = json!({"user": "ada"});
    if let Some(exp) = exp {
        state["_exp_"] = json!(exp);
    }
    cookie_at(now() - idle, now() - idle, state, SECRET)
}

#[tokio::test]
async fn persistent_writes_max_age_and_stores_seconds_in_the_session() {
    let page = send(&app(layer()), "/remember", None).await;
    let cookie = written(&page);
    assert_eq!(
        cookie.max_age(),
        Some(cookie::time::Duration::seconds(MONTH as i64))
    );
    assert_eq!(state(&cookie), json!({"user": "ada", "_exp_": MONTH}));
}

#[tokio::test]
async fn browser_session_writes_no_max_age_even_when_the_layer_sets_one() {
    let app = app(layer().max_age(Duration::from_secs(7 * DAY)));
    let cookie = written(&send(&app, "/browser-session", None).await);
    assert_eq!(cookie.max_age(), None);
    assert_eq!(cookie.expires(), None);
    assert_eq!(state(&cookie)["_exp_"], 0);
    let cookie = written(&send(&app, "/default", None).await);
    assert_eq!(
        cookie.max_age(),
        Some(cookie::time::Duration::seconds(7 * DAY as i64)),
        "the default follows the layer"
    );
    assert_eq!(state(&cookie).get("_exp_"), None);
}

#[tokio::test]
async fn a_persistent_session_outlives_the_layers_timeout_and_a_default_one_does_not() {
    let app = app(layer());
    // Last seen an hour ago, with the layer's 20-minute timeout.
    let remembered = session_idle_for(3600, Some(MONTH));
    let body = read(&send(&app, "/read", Some(&remembered)).await);
    assert_eq!(body["user"], "ada", "{body}");
    assert_eq!(body["expiry"], "Persistent(2592000s)");
    let default = session_idle_for(3600, None);
    let body = read(&send(&app, "/read", Some(&default)).await);
    assert_eq!(body["user"], Value::Null);
    assert_eq!(body["new"], true);
    let browser = session_idle_for(3600, Some(0));
    let body = read(&send(&app, "/read", Some(&browser)).await);
    assert_eq!(
        body["new"], true,
        "a browser session keeps the layer's timeout"
    );
}

#[tokio::test]
async fn a_persistent_session_times_out_after_its_own_timeout() {
    let app = app(layer());
    let stale = session_idle_for(MONTH + 10, Some(MONTH));
    let body = read(&send(&app, "/read", Some(&stale)).await);
    assert_eq!(body["new"], true);
}

#[tokio::test]
async fn max_lifetime_still_bounds_a_persistent_session() {
    let app = app(layer().max_lifetime(Duration::from_secs(7 * DAY)));
    let state = json!({"user": "ada", "_exp_": MONTH});
    let old = cookie_at(now() - 60, now() - 8 * DAY, state, SECRET);
    let body = read(&send(&app, "/read", Some(&old)).await);
    assert_eq!(body["new"], true);
}

#[tokio::test]
async fn reissue_keeps_the_max_age_and_uses_the_sessions_own_timeout() {
    let app = app(layer());
    // A tenth of a month is three days: an hour-old persistent session is
    // not due, though the layer's default (two minutes) would be.
    let page = send(&app, "/read", Some(&session_idle_for(3600, Some(MONTH)))).await;
    assert!(session_set_cookie(&page.headers).is_none(), "not yet due");
    let page = send(&app, "/read", Some(&session_idle_for(4 * DAY, Some(MONTH)))).await;
    let cookie = written(&page);
    assert_eq!(
        cookie.max_age(),
        Some(cookie::time::Duration::seconds(MONTH as i64)),
        "the reissued cookie carries the same Max-Age"
    );
    assert_eq!(state(&cookie)["_exp_"], MONTH);
    // A default session five minutes old is past the layer's two minutes,
    // and is reissued with no Max-Age.
    let page = send(&app, "/read", Some(&session_idle_for(300, None))).await;
    assert_eq!(written(&page).max_age(), None);
}

#[tokio::test]
async fn invalidate_resets_the_expiry() {
    let app = app(layer());
    let page = send(&app, "/logout", Some(&session_idle_for(60, Some(MONTH)))).await;
    assert_eq!(page.body, "Default");
    let cookie = written(&page);
    assert_eq!(cookie.max_age(), None);
    assert_eq!(state(&cookie).get("_exp_"), None);
}

#[tokio::test]
async fn setting_the_same_expiry_again_is_no_change() {
    let app = app(layer());
    // Written a minute ago, so not due for reissue.
    let remembered = session_idle_for(60, Some(MONTH));
    let page = send(&app, "/remember", Some(&remembered)).await;
    assert!(session_set_cookie(&page.headers).is_none());
    let page = send(&app, "/browser-session", Some(&remembered)).await;
    assert_eq!(state(&written(&page))["_exp_"], 0, "a different one is");
}
