//! `axum-extra`'s `PrivateCookieJar` (AES-256-GCM, from the `cookie`
//! crate) holding the same hand-rolled session as `axum_extra`: a JSON
//! object in one encrypted cookie, through the same code. No layer of its
//! own: the no-op layer stands in its place, as for bare.

use axum::Router;
use axum_extra::extract::cookie::{Cookie, PrivateCookieJar};
use http::HeaderValue;

use super::axum_extra::{Jar, http_in};
use crate::common::Scenario;

impl Jar for PrivateCookieJar {
    fn get(&self, name: &str) -> Option<Cookie<'static>> {
        Self::get(self, name)
    }

    fn add(self, cookie: Cookie<'static>) -> Self {
        Self::add(self, cookie)
    }
}

pub(super) fn http(scenario: Scenario) -> (Router, Option<HeaderValue>) {
    http_in::<PrivateCookieJar>(scenario)
}
