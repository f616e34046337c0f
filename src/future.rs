//! [`ResponseFuture`]: waits for the inner service, then writes the
//! session cookie and `Vary: Cookie` into the response.

use std::{
    fmt::Write as _,
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
};

use cookie::Cookie;
use http::{
    HeaderMap, HeaderValue, Response,
    header::{SET_COOKIE, VARY},
};
use pin_project_lite::pin_project;

use crate::{
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
    if !session.was_used() {
        return;
    }
    add_vary_cookie(response.headers_mut());
    let config = session.config();
    if response.status().is_server_error() && !config.cookie_on_exception {
        return;
    }
    let cookie = match session.cookie_action() {
        CookieAction::Keep => return,
        CookieAction::Write(value) => set_cookie(config, value),
        CookieAction::Remove => {
            let mut cookie = set_cookie(config, String::new());
            cookie.make_removal();
            cookie
        }
    };
    // Room for the attributes too, so the header is written without
    // growing (from nothing, `to_string` grows it four or five times).
    let mut header = String::with_capacity(
        config.cookie_name.len()
            + cookie.value().len()
            + config.path.len()
            + config.domain.as_ref().map_or(0, String::len)
            + ATTRIBUTES_LEN,
    );
    let _ = write!(header, "{cookie}");
    // The name and attributes were validated with the configuration, and
    // the value is hex and base64 (URL-safe in Pyramid 2's format), so
    // the header is always valid.
    if let Ok(value) = HeaderValue::try_from(header) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// The longest the fixed parts of a `Set-Cookie` header can be: `=`, and
/// `; HttpOnly; SameSite=Strict; Partitioned; Secure; Path=; Domain=;
/// Max-Age=` with a 19-digit number, and a removal cookie's `; Expires=`
/// with its date.
const ATTRIBUTES_LEN: usize = 160;

fn set_cookie(config: &Config, value: String) -> Cookie<'_> {
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
    if let Some(max_age) = config.max_age {
        let secs = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
        cookie.set_max_age(cookie::time::Duration::seconds(secs));
    }
    cookie
}

/// Caches must not serve one user's session-dependent page to another.
fn add_vary_cookie(headers: &mut HeaderMap) {
    let covered = headers
        .get_all(VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|v| v == "*" || v.eq_ignore_ascii_case("cookie"));
    if !covered {
        headers.append(VARY, HeaderValue::from_static("cookie"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
