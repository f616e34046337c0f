//! Ours with `Format::sealed()`: the session encrypted with
//! XChaCha20-Poly1305 under a key HKDF derives from the secret, and bound
//! to the cookie name. The same layer, settings, handlers and state as
//! `ours`; only the wire format differs, so `sealed` minus `ours` is the
//! price of encryption. Needs the crate's `sealed` feature.

use axum::Router;
use http::HeaderValue;
use tower_cookie_session::Format;

use super::ours;
use crate::common::Scenario;

pub(super) fn http(scenario: Scenario) -> (Router, Option<HeaderValue>) {
    ours::http_in(&Format::sealed(), scenario)
}
