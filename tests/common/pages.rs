//! Responses read whole, and what the example app's pages show.

use axum::body::Body;
use cookie::Cookie;
use http::{HeaderMap, Response, StatusCode, header::SET_COOKIE};
use http_body_util::BodyExt;
use reqwest::{Client, redirect::Policy};

/// A response, read whole.
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Page {
    /// Reads the answer of a real server.
    pub(crate) async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        Self {
            status,
            headers,
            body,
        }
    }

    /// Reads the answer of a service called in process.
    pub(crate) async fn collect(response: Response<Body>) -> Self {
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Self {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8(body.to_vec()).unwrap(),
        }
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Every cookie the response sets, in order.
    pub(crate) fn set_cookies(&self) -> Vec<Cookie<'static>> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| Cookie::parse(v.to_str().unwrap().to_owned()).unwrap())
            .collect()
    }
}

/// A client with a cookie jar of its own that does not follow redirects,
/// so that each redirect and its `Set-Cookie` can be checked.
pub(crate) fn cookie_jar_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// The hidden `csrf_token` field of the first form in `html`.
pub(crate) fn csrf_token(html: &str) -> String {
    let (_, rest) = html
        .split_once(r#"name="csrf_token" value=""#)
        .unwrap_or_else(|| panic!("no CSRF token in:\n{html}"));
    rest.split('"').next().unwrap().to_owned()
}

/// The visit counter on the start page, of the example app or its Pyramid
/// twin.
pub(crate) fn visits(html: &str) -> u64 {
    find_visits(html).unwrap_or_else(|| panic!("no counter in:\n{html}"))
}

/// The visit counter on the start page, if `html` shows one.
pub(crate) fn find_visits(html: &str) -> Option<u64> {
    let (_, rest) = html.split_once("You have visited this page <strong>")?;
    rest.split_once('<')?.0.parse().ok()
}
