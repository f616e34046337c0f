//! [`ResponseFuture`]: waits for the inner service, then writes the
//! session cookie and `Vary: Cookie` into the response.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
    time::Duration,
};

use cookie::Cookie;
use http::{
    HeaderMap, HeaderValue, Response,
    header::Entry,
    header::{SET_COOKIE, VARY},
};
use pin_project_lite::pin_project;

use crate::{
    codec::ascii_string,
    config::Config,
    session::{CookieAction, Session},
};

pin_project! {
    /// The response future of [`SessionService`](crate::SessionService).
    ///
    /// When the inner service answers `Ok(response)` and the session was
    /// used, it adds `Vary: Cookie` and, when the session must be saved,
    /// `Set-Cookie`. An `Err` passes through unchanged.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        session: Option<Session>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, session: Session) -> Self {
        Self {
            inner,
            session: Some(session),
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        if let Some(session) = this.session.take() {
            save(&session, &mut response);
        }
        Poll::Ready(Ok(response))
    }
}

fn save<B>(session: &Session, response: &mut Response<B>) {
    let config = session.config();
    let may_write = !response.status().is_server_error() || config.cookie_on_exception;
    // `None`: the handler never used the session, and the response does
    // not depend on it.
    let Some(action) = session.cookie_action(may_write) else {
        return;
    };
    add_vary_cookie(response.headers_mut());
    let header = match action {
        CookieAction::Keep => return,
        CookieAction::Write { pair, max_age } if max_age == config.max_age => {
            set_cookie_header(config, pair)
        }
        // A session with its own expiry: formatted whole, as it is rare.
        CookieAction::Write { pair, max_age } => {
            let value = pair.get(config.cookie_name.len() + 1..).unwrap_or_default();
            set_cookie(config, ascii_string(value), max_age)
                .to_string()
                .into_bytes()
        }
        CookieAction::Remove => {
            let mut cookie = set_cookie(config, String::new(), config.max_age);
            cookie.make_removal();
            cookie.to_string().into_bytes()
        }
    };
    // The name and attributes were validated with the configuration, and
    // every format's value is base64 or hex, so the header is always valid.
    if let Ok(value) = HeaderValue::try_from(header) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// The cookie `pair` (`name=value`) and the configured attributes, written
/// after it (the session left room for them). The cookie crate formats the
/// attributes once per configuration; each response copies them.
fn set_cookie_header(config: &Config, mut pair: Vec<u8>) -> Vec<u8> {
    let attributes = config.set_cookie_attributes.get_or_init(|| {
        let formatted = set_cookie(config, String::new(), config.max_age).to_string();
        // `name=` and nothing else comes before the attributes.
        formatted
            .get(config.cookie_name.len() + 1..)
            .unwrap_or_default()
            .to_owned()
    });
    pair.extend_from_slice(attributes.as_bytes());
    pair
}

fn set_cookie(config: &Config, value: String, max_age: Option<Duration>) -> Cookie<'_> {
    let mut cookie = Cookie::build((config.cookie_name.as_str(), value))
        .path(config.path.as_str())
        .secure(config.secure)
        .http_only(config.http_only)
        .same_site(config.same_site)
        .partitioned(config.partitioned)
        .build();
    if let Some(domain) = &config.domain {
        cookie.set_domain(domain.as_str());
    }
    if let Some(max_age) = max_age {
        let secs = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        cookie.set_max_age(cookie::time::Duration::seconds(secs));
    }
    cookie
}

/// Caches must not serve one user's session-dependent page to another.
fn add_vary_cookie(headers: &mut HeaderMap) {
    let cookie = HeaderValue::from_static("cookie");
    // One look-up of `Vary`, whether or not the response has one.
    match headers.entry(VARY) {
        Entry::Vacant(entry) => {
            entry.insert(cookie);
        }
        Entry::Occupied(mut entry) => {
            let covered = entry
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .any(|v| v == "*" || v.eq_ignore_ascii_case("cookie"));
            if !covered {
                entry.append(cookie);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cookie_header_is_what_the_cookie_crate_formats() {
        let base = Config::new(&[7; 32]);
        let configs = [
            Config::new(&[7; 32]),
            Config {
                cookie_name: "__Host-s".to_owned(),
                secure: true,
                partitioned: true,
                same_site: cookie::SameSite::None,
                max_age: Some(Duration::from_secs(86_400)),
                ..base.clone()
            },
            Config {
                domain: Some("example.com".to_owned()),
                path: "/app".to_owned(),
                http_only: false,
                same_site: cookie::SameSite::Strict,
                ..base
            },
        ];
        for config in &configs {
            let value = "0123abcd+/==";
            let expected = set_cookie(config, value.to_owned(), config.max_age).to_string();
            let pair = format!("{}={value}", config.cookie_name);
            assert_eq!(
                set_cookie_header(config, pair.clone().into()),
                expected.as_bytes()
            );
            // Cached, and still right.
            assert_eq!(set_cookie_header(config, pair.into()), expected.as_bytes());
        }
    }

    #[test]
    fn vary_is_added_once() {
        for (existing, added) in [
            (&[][..], true),
            (&["accept-encoding"][..], true),
            (&["Accept-Encoding, Cookie"][..], false),
            (&["COOKIE"][..], false),
            (&["*"][..], false),
            (&["origin", " cookie "][..], false),
            (&["cookies"][..], true),
        ] {
            let mut headers = HeaderMap::new();
            for v in existing {
                headers.append(VARY, HeaderValue::from_static(v));
            }
            add_vary_cookie(&mut headers);
            assert_eq!(
                headers.get_all(VARY).iter().count(),
                existing.len() + usize::from(added),
                "{existing:?}"
            );
        }
    }
}
