//! `tower-sessions` with its `MemoryStore`: the cookie holds an id, the
//! state is on the server.

use axum::{Router, routing::get};
use http::HeaderValue;
use tower_sessions::{MemoryStore, Session, SessionManagerLayer};

use super::route;
use crate::common::{
    Scenario,
    drive::seed,
    scenario::{COUNTER, NEW_KEY, NEW_VALUE, READ_KEY},
};

async fn read(session: Session) -> String {
    let id: u64 = session.get(READ_KEY).await.unwrap().unwrap_or_default();
    id.to_string()
}

async fn write(session: Session) -> String {
    let n = session
        .get::<u64>(COUNTER)
        .await
        .unwrap()
        .unwrap_or_default()
        + 1;
    session.insert(COUNTER, n).await.unwrap();
    n.to_string()
}

async fn new(session: Session) -> String {
    session.insert(NEW_KEY, NEW_VALUE).await.unwrap();
    NEW_VALUE.to_string()
}

pub(super) fn http(scenario: Scenario) -> (Router, Option<HeaderValue>) {
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
    let route = route(scenario, get(read), get(write), get(new));
    let router = Router::new()
        .route("/", route)
        .layer(layer())
        .with_state(());
    (router, cookie)
}
