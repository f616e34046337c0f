//! `axum-extra`'s `SignedCookieJar` holding a hand-rolled session: a JSON
//! object in one signed cookie. No layer of its own: the no-op layer
//! stands in its place, as for bare. `axum_extra_private` is the same
//! session in a `PrivateCookieJar`, through the same code.

use axum::{Router, extract::FromRequestParts, response::IntoResponseParts, routing::get};
use axum_extra::extract::cookie::{Cookie, Key, SameSite, SignedCookieJar};
use http::HeaderValue;
use serde_json::{Map, Value};

use super::{COOKIE_KEY, bare::Noop, route};
use crate::common::{
    Scenario,
    drive::seed,
    scenario::{COUNTER, NEW_KEY, NEW_VALUE, READ_KEY},
};

const NAME: &str = "session";

/// A jar of axum-extra's that the session can be kept in: the signed one
/// here, the private one in `axum_extra_private`. Each method is the
/// jar's own method of the same name.
pub(super) trait Jar: FromRequestParts<Key> + IntoResponseParts + Send + 'static {
    fn get(&self, name: &str) -> Option<Cookie<'static>>;
    #[must_use]
    fn add(self, cookie: Cookie<'static>) -> Self;
}

impl Jar for SignedCookieJar {
    fn get(&self, name: &str) -> Option<Cookie<'static>> {
        Self::get(self, name)
    }

    fn add(self, cookie: Cookie<'static>) -> Self {
        Self::add(self, cookie)
    }
}

fn load<J: Jar>(jar: &J) -> Map<String, Value> {
    jar.get(NAME)
        .and_then(|cookie| serde_json::from_str(cookie.value()).ok())
        .unwrap_or_default()
}

fn store<J: Jar>(jar: J, session: &Map<String, Value>) -> J {
    let json = serde_json::to_string(session).unwrap();
    jar.add(
        Cookie::build((NAME, json))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .build(),
    )
}

async fn read<J: Jar>(jar: J) -> String {
    let session = load(&jar);
    let id = session
        .get(READ_KEY)
        .and_then(Value::as_u64)
        .unwrap_or_default();
    id.to_string()
}

async fn write<J: Jar>(jar: J) -> (J, String) {
    let mut session = load(&jar);
    let n = session
        .get(COUNTER)
        .and_then(Value::as_u64)
        .unwrap_or_default()
        + 1;
    session.insert(COUNTER.to_owned(), n.into());
    (store(jar, &session), n.to_string())
}

async fn new<J: Jar>(jar: J) -> (J, String) {
    let mut session = load(&jar);
    session.insert(NEW_KEY.to_owned(), NEW_VALUE.into());
    (store(jar, &session), NEW_VALUE.to_string())
}

pub(super) fn http(scenario: Scenario) -> (Router, Option<HeaderValue>) {
    http_in::<SignedCookieJar>(scenario)
}

/// The router and cookie of the session kept in the jar `J`.
pub(super) fn http_in<J: Jar>(scenario: Scenario) -> (Router, Option<HeaderValue>) {
    let key = Key::from(&COOKIE_KEY);
    let cookie = scenario.state().map(|state| {
        seed(
            Router::new()
                .route(
                    "/",
                    get(move |jar: J| async move { (store(jar, &state), ()) }),
                )
                .with_state(key.clone()),
        )
    });
    let route = route(scenario, get(read::<J>), get(write::<J>), get(new::<J>));
    let router = Router::new()
        .route("/", route)
        .layer(Noop::new())
        .with_state(key);
    (router, cookie)
}
