//! `tower_cookie_session::SessionLayer`, and the cookie it writes, which
//! bare and primitives get too. `sealed` is the same in another format,
//! `revocation-memory` and `revocation-redis` the same with revocation on.
//!
//! The handlers take `Extension<Session>` rather than `Session` so that
//! the benchmarks need no feature: with `axum`, the `Session` extractor
//! does the same clone out of the extensions.

use axum::{Extension, Router, routing::get};
use http::HeaderValue;
use tower_cookie_session::{Format, Session, SessionLayer};

use super::route;
use crate::common::{
    Scenario,
    drive::seed,
    scenario::{COUNTER, NEW_KEY, NEW_VALUE, READ_KEY},
};

pub(super) const SECRET: [u8; 32] = *b"bench-secret-0123456789abcdefghi";

async fn read(Extension(session): Extension<Session>) -> String {
    let id: u64 = session.get(READ_KEY).unwrap().unwrap_or_default();
    id.to_string()
}

async fn write(Extension(session): Extension<Session>) -> String {
    let n = session.get::<u64>(COUNTER).unwrap().unwrap_or_default() + 1;
    session.insert(COUNTER, n).unwrap();
    n.to_string()
}

async fn new(Extension(session): Extension<Session>) -> String {
    session.insert(NEW_KEY, NEW_VALUE).unwrap();
    NEW_VALUE.to_string()
}

/// Default settings but a one-day timeout: with the default 20 minutes,
/// a cookie is reissued two minutes after it was written, and a long
/// measurement would turn reads into writes. The checks cost the same.
pub(super) fn layer(format: &Format) -> SessionLayer {
    let layer = SessionLayer::new(SECRET)
        .timeout(Some(std::time::Duration::from_secs(86_400)))
        .format(format.clone());
    layer.validate().expect("valid settings");
    layer
}

pub(super) fn http(scenario: Scenario) -> (Router, Option<HeaderValue>) {
    http_in(&Format::default(), scenario)
}

/// Ours in `format`, the settings otherwise the same: the router, and
/// the cookie the same layer writes for the scenario's state.
pub(super) fn http_in(format: &Format, scenario: Scenario) -> (Router, Option<HeaderValue>) {
    http_with(&layer(format), scenario)
}

/// Ours with `layer` (ours' settings and one more): the router, and the
/// cookie the same layer writes for the scenario's state.
pub(super) fn http_with(layer: &SessionLayer, scenario: Scenario) -> (Router, Option<HeaderValue>) {
    let route = route(scenario, get(read), get(write), get(new));
    let router = Router::new()
        .route("/", route)
        .layer(layer.clone())
        .with_state(());
    (router, cookie_with(layer, scenario))
}

/// The cookie our layer writes for the scenario's state, made by our
/// layer; bare and primitives get the same one.
pub(super) fn cookie(scenario: Scenario) -> Option<HeaderValue> {
    cookie_with(&layer(&Format::default()), scenario)
}

/// The cookie `layer` writes for the scenario's state. With revocation
/// on, the session also has an id (every session written has one) and,
/// as a signed-in user's does, a subject: its `user_id`.
fn cookie_with(layer: &SessionLayer, scenario: Scenario) -> Option<HeaderValue> {
    let state = scenario.state()?;
    let seeder = Router::new()
        .route(
            "/",
            get(move |Extension(session): Extension<Session>| async move {
                if session.revoker().is_some() {
                    session.set_subject(state[READ_KEY].to_string()).unwrap();
                }
                for (key, value) in state {
                    session.insert(key, value).unwrap();
                }
            }),
        )
        .layer(layer.clone());
    Some(seed(seeder))
}
