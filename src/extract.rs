//! The axum extractor for [`Session`] (feature `axum`).

use std::convert::Infallible;

use axum_core::{
    extract::{FromRequestParts, OptionalFromRequestParts},
    response::{IntoResponse, Response},
};
use http::{StatusCode, request::Parts};

use crate::Session;

/// Extracts the request's session. Fails with [`MissingSessionLayer`] (a
/// 500) when [`SessionLayer`](crate::SessionLayer) does not wrap the route;
/// extract `Option<Session>` to get `None` instead.
///
/// ```
/// use axum::{routing::get, Router};
/// use tower_cookie_session::{Session, SessionLayer};
///
/// async fn counter(session: Session) -> String {
///     let n: u64 = session.get("n").ok().flatten().unwrap_or(0);
///     let _ = session.insert("n", n + 1);
///     format!("visit {}", n + 1)
/// }
///
/// async fn maybe(session: Option<Session>) -> &'static str {
///     if session.is_some() { "with session" } else { "without" }
/// }
///
/// let layer = SessionLayer::new([7; 32]);
/// layer.validate().expect("valid session configuration");
/// let app: Router = Router::new()
///     .route("/", get(counter))
///     .route("/maybe", get(maybe))
///     .layer(layer);
/// ```
impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = MissingSessionLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or(MissingSessionLayer)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Session {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Session>().cloned())
    }
}

/// Rejection of the [`Session`] extractor when no
/// [`SessionLayer`](crate::SessionLayer) wraps the route: a 500 whose body
/// says so.
///
/// ```
/// use axum::response::IntoResponse;
/// use tower_cookie_session::MissingSessionLayer;
///
/// let response = MissingSessionLayer.into_response();
/// assert_eq!(response.status(), 500);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingSessionLayer;

impl std::fmt::Display for MissingSessionLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "no session for this request: add `.layer(SessionLayer::new(secret))` \
             to the router, after the routes that extract `Session`",
        )
    }
}

impl std::error::Error for MissingSessionLayer {}

impl IntoResponse for MissingSessionLayer {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}
