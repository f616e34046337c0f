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
    HeaderMap, HeaderValue, Request, Response,
    header::Entry,
    header::{SET_COOKIE, VARY},
};
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::{
    codec::ascii_string,
    config::Config,
    rare::Rare,
    revocation::{RevocationError, RevocationFuture, WhenUnavailable},
    session::{CookieAction, Session},
};

pin_project! {
    /// The response future of [`SessionService`](crate::SessionService).
    ///
    /// When the inner service answers `Ok(response)` and the session was
    /// used, it adds `Vary: Cookie` and, when the session must be saved,
    /// `Set-Cookie`. An `Err` passes through unchanged.
    ///
    /// With revocation on, it first asks the store whether the request's
    /// session cookie was revoked, then calls the inner service; and when
    /// the handler invalidated a session, it records the revocation of the
    /// old one before handing the response on.
    pub struct ResponseFuture<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        // `None` only while the revocation check runs.
        #[pin]
        inner: Option<S::Future>,
        session: Session,
        // With revocation on, the step before or after the inner service;
        // boxed, so that a request without revocation carries one empty
        // field.
        revocation: Rare<Revocation<S, ReqBody>>,
    }
}

/// A step of revocation around the inner service.
#[allow(
    clippy::large_enum_variant,
    reason = "the future keeps it boxed, whichever the variant"
)]
enum Revocation<S, ReqBody>
where
    S: Service<Request<ReqBody>>,
{
    /// The check of the request's cookie, and what the inner service is
    /// called with once it is done.
    Checking {
        check: RevocationFuture<bool>,
        service: S,
        request: Request<ReqBody>,
    },
    /// The revocation `invalidate` left, and the response that waits for
    /// it.
    Recording {
        record: RevocationFuture<()>,
        response: S::Response,
    },
}

impl<S, ReqBody> std::fmt::Debug for ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let step = match self.revocation.as_deref() {
            Some(Revocation::Checking { .. }) => "checking revocation",
            Some(Revocation::Recording { .. }) => "recording a revocation",
            None => "calling the inner service",
        };
        f.debug_struct("ResponseFuture")
            .field("step", &step)
            .field("session", &self.session)
            .finish()
    }
}

impl<S, ReqBody> ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>>,
{
    pub(crate) fn new(future: S::Future, session: Session) -> Self {
        Self {
            inner: Some(future),
            session,
            revocation: Rare::none(),
        }
    }

    /// Waits for `check` before calling `service` (ready) with `request`.
    pub(crate) fn checking(
        check: RevocationFuture<bool>,
        service: S,
        request: Request<ReqBody>,
        session: Session,
    ) -> Self {
        Self {
            inner: None,
            session,
            revocation: Rare::some(Revocation::Checking {
                check,
                service,
                request,
            }),
        }
    }
}

impl<S, ReqBody, B> Future for ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>, Response = Response<B>>,
{
    type Output = Result<S::Response, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let mut this = self.as_mut().project();
            match this.revocation.as_deref_mut() {
                None => {}
                Some(Revocation::Checking { check, .. }) => {
                    let outcome = ready!(check.as_mut().poll(cx));
                    if let Some(Revocation::Checking {
                        mut service,
                        request,
                        ..
                    }) = this.revocation.take()
                    {
                        apply_check(this.session, outcome);
                        this.inner.set(Some(service.call(request)));
                    }
                }
                Some(Revocation::Recording { record, .. }) => {
                    let _outcome = ready!(record.as_mut().poll(cx));
                    #[cfg(feature = "tracing")]
                    if let Err(e) = &_outcome {
                        tracing::error!(error = %e, "could not record the revocation of an invalidated session; the copies of its cookie stay valid until they expire");
                    }
                    if let Some(Revocation::Recording { response, .. }) = this.revocation.take() {
                        return Poll::Ready(Ok(response));
                    }
                }
            }
            // Only the check leaves it empty, and the check is over.
            let Some(inner) = this.inner.as_pin_mut() else {
                return Poll::Pending;
            };
            // The response is written where the inner service left it, and
            // passed on unmoved; an error passes through, and so does the
            // response when the handler never used the session.
            let mut poll = inner.poll(cx);
            let record = match &mut poll {
                Poll::Ready(Ok(response)) if this.session.used() => save(this.session, response),
                _ => None,
            };
            // Only a revocation to record holds the response back.
            let Some(record) = record else {
                return poll;
            };
            match poll {
                Poll::Ready(Ok(response)) => {
                    this.revocation
                        .set(Revocation::Recording { record, response });
                }
                poll => return poll,
            }
        }
    }
}

/// Acts on the store's answer: a revoked session, or an unanswered check
/// under [`WhenUnavailable::Revoked`], becomes a fresh one.
fn apply_check(session: &Session, outcome: Result<bool, RevocationError>) {
    let refuse = match outcome {
        Ok(revoked) => {
            #[cfg(feature = "tracing")]
            if revoked {
                tracing::debug!(cookie = %session.config().cookie_name, "session revoked; starting fresh");
            }
            revoked
        }
        Err(_e) => {
            let when = session.config().when_unavailable;
            #[cfg(feature = "tracing")]
            tracing::warn!(
                cookie = %session.config().cookie_name,
                error = %_e,
                treated_as = ?when,
                "revocation store unavailable"
            );
            when == WhenUnavailable::Revoked
        }
    };
    if refuse {
        session.refuse();
    }
}

/// Writes the session into the response; returns the revocation that
/// `invalidate` left, if the response carries out the session's changes.
fn save<B>(session: &Session, response: &mut Response<B>) -> Option<RevocationFuture<()>> {
    let config = session.config();
    let may_write = !response.status().is_server_error() || config.cookie_on_exception;
    // `None`: the handler never used the session, and the response does
    // not depend on it.
    let action = session.cookie_action(may_write)?;
    add_vary_cookie(response.headers_mut());
    let revoke = if may_write && config.revocation.is_some() {
        session.take_revocation()
    } else {
        None
    };
    let header = match action {
        CookieAction::Keep => return revoke,
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
    revoke
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
