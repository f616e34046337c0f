//! `tower-sessions-cookie-store`, signed cookies. `cookie_store_private`
//! is the same with private (encrypted) cookies, through the same code.

use axum::{Extension, Router, routing::get};
use http::HeaderValue;
use tower_sessions_cookie_store::{
    CookieController, CookieSessionConfig, CookieSessionManagerLayer, Key, Session,
};

use super::{COOKIE_KEY, route};
use crate::common::{
    Scenario,
    drive::seed,
    scenario::{COUNTER, NEW_KEY, NEW_VALUE, READ_KEY},
};

async fn read(Extension(session): Extension<Session>) -> String {
    let id: u64 = session.get(READ_KEY).await.unwrap().unwrap_or_default();
    id.to_string()
}

async fn write(Extension(session): Extension<Session>) -> String {
    let n = session
        .get::<u64>(COUNTER)
        .await
        .unwrap()
        .unwrap_or_default()
        + 1;
    session.insert(COUNTER, n).await.unwrap();
    n.to_string()
}

async fn new(Extension(session): Extension<Session>) -> String {
    session.insert(NEW_KEY, NEW_VALUE).await.unwrap();
    NEW_VALUE.to_string()
}

pub(super) fn http(scenario: Scenario) -> (Router, Option<HeaderValue>) {
    http_in(CookieSessionManagerLayer::signed, scenario)
}

/// The router and cookie of the layer that `mode` makes from the key
/// (`CookieSessionManagerLayer::signed` or `::private`).
pub(super) fn http_in<C: CookieController>(
    mode: fn(Key) -> CookieSessionManagerLayer<C>,
    scenario: Scenario,
) -> (Router, Option<HeaderValue>) {
    let layer = || {
        // Its envelope and base64url make ~3 KB of state larger than the
        // default 4096-byte limit; raise it so the scenario can run.
        let config = CookieSessionConfig::default()
            .with_secure(false)
            .with_max_cookie_bytes(8192);
        mode(Key::from(&COOKIE_KEY)).with_config(config)
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
    let route = route(scenario, get(read), get(write), get(new));
    let router = Router::new()
        .route("/", route)
        .layer(layer())
        .with_state(());
    (router, cookie)
}
