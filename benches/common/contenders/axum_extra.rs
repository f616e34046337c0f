//! `axum-extra`'s `SignedCookieJar` holding a hand-rolled session: a JSON
//! object in one signed cookie. No layer of its own: the no-op layer
//! stands in its place, as for bare.

use axum::{Router, routing::get};
use axum_extra::extract::cookie::{Cookie, Key, SameSite, SignedCookieJar};
use http::HeaderValue;
use serde_json::{Map, Value};

use super::{COOKIE_KEY, bare::Noop, ignore};
use crate::common::{
    Scenario,
    drive::seed,
    scenario::{COUNTER, NEW_KEY, NEW_VALUE, READ_KEY},
};

const NAME: &str = "session";

fn load(jar: &SignedCookieJar) -> Map<String, Value> {
    jar.get(NAME)
        .and_then(|cookie| serde_json::from_str(cookie.value()).ok())
        .unwrap_or_default()
}

fn store(jar: SignedCookieJar, session: &Map<String, Value>) -> SignedCookieJar {
    let json = serde_json::to_string(session).unwrap();
    jar.add(
        Cookie::build((NAME, json))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax),
    )
}

async fn read(jar: SignedCookieJar) -> String {
    let session = load(&jar);
    let id = session
        .get(READ_KEY)
        .and_then(Value::as_u64)
        .unwrap_or_default();
    id.to_string()
}

async fn write(jar: SignedCookieJar) -> (SignedCookieJar, String) {
    let mut session = load(&jar);
    let n = session
        .get(COUNTER)
        .and_then(Value::as_u64)
        .unwrap_or_default()
        + 1;
    session.insert(COUNTER.to_owned(), n.into());
    (store(jar, &session), n.to_string())
}

async fn new(jar: SignedCookieJar) -> (SignedCookieJar, String) {
    let mut session = load(&jar);
    session.insert(NEW_KEY.to_owned(), NEW_VALUE.into());
    (store(jar, &session), NEW_VALUE.to_string())
}

pub(super) fn http(scenario: Scenario) -> (Router, Option<HeaderValue>) {
    let key = Key::from(&COOKIE_KEY);
    let cookie = scenario.state().map(|state| {
        seed(
            Router::new()
                .route(
                    "/",
                    get(move |jar: SignedCookieJar| async move { (store(jar, &state), ()) }),
                )
                .with_state(key.clone()),
        )
    });
    let route = match scenario {
        Scenario::Untouched => get(ignore),
        Scenario::Read => get(read),
        Scenario::Write | Scenario::Write3k => get(write),
        Scenario::New => get(new),
    };
    let router = Router::new()
        .route("/", route)
        .layer(Noop::new())
        .with_state(key);
    (router, cookie)
}
