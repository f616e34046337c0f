//! `tower-sessions-cookie-store` with private cookies (`cookie`'s private
//! jar: AES-256-GCM), through the same code as `cookie_store`.

use axum::Router;
use http::HeaderValue;
use tower_sessions_cookie_store::CookieSessionManagerLayer;

use super::cookie_store::http_in;
use crate::common::Scenario;

pub(super) fn http(scenario: Scenario) -> (Router, Option<HeaderValue>) {
    http_in(CookieSessionManagerLayer::private, scenario)
}
