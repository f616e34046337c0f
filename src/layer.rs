//! [`SessionLayer`]: the builder that configures sessions and wraps services.

use std::{sync::Arc, time::Duration};

use cookie::SameSite;
use tower_layer::Layer;

use crate::{
    config::{Config, MIN_SECRET_LEN, Secret},
    error::ConfigError,
    format::Format,
    service::SessionService,
};

/// A [`Layer`] that gives every request a [`Session`](crate::Session) kept
/// in an HMAC-signed cookie.
///
/// Setters never panic and their order does not matter; the whole
/// configuration is checked by [`validate`](Self::validate), and
/// [`Layer::layer`] panics with that error's message, so a bad
/// configuration fails at start-up, never on a request. Cloning the layer
/// is one `Arc` clone; its `Debug` output shows no secret.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use tower_cookie_session::{SameSite, SessionLayer};
///
/// let secret = [42u8; 64]; // use real random bytes, e.g. from `openssl rand -hex 32`
/// let layer = SessionLayer::new(secret)
///     .cookie_name("__Host-session")
///     .secure(true)
///     .same_site(SameSite::Strict)
///     .timeout(Some(Duration::from_secs(30 * 60)))
///     .max_lifetime(Some(Duration::from_secs(12 * 3600)));
/// layer.validate()?; // fail at start-up, with a message that says what to fix
///
/// let app = axum::Router::new()
///     .route("/", axum::routing::get(|| async { "hi" }))
///     .layer(layer);
/// # let _: axum::Router = app;
/// # Ok::<(), tower_cookie_session::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct SessionLayer {
    config: Arc<Config>,
}

impl SessionLayer {
    /// A layer signing with `secret`, with every other setting at its default.
    ///
    /// # Panics
    ///
    /// If `secret` is shorter than [`MIN_SECRET_LEN`] (32) bytes. Use
    /// [`try_new`](Self::try_new) to get the error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_cookie_session::SessionLayer;
    ///
    /// let layer = SessionLayer::new(b"a secret of at least thirty-two bytes");
    /// ```
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        match Self::try_new(secret) {
            Ok(layer) => layer,
            #[allow(
                clippy::panic,
                reason = "documented: a short secret is a configuration error"
            )]
            Err(e) => panic!("{e}"),
        }
    }

    /// A layer signing with `secret`, or an error if the secret is shorter
    /// than [`MIN_SECRET_LEN`] (32) bytes.
    ///
    /// # Errors
    ///
    /// [`ConfigError::SecretTooShort`].
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_cookie_session::SessionLayer;
    ///
    /// assert!(SessionLayer::try_new([0u8; 31]).is_err());
    /// assert!(SessionLayer::try_new([0u8; 32]).is_ok());
    /// ```
    pub fn try_new(secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let secret = secret.as_ref();
        if secret.len() < MIN_SECRET_LEN {
            return Err(ConfigError::SecretTooShort {
                len: secret.len(),
                fallback: None,
            });
        }
        Ok(Self {
            config: Arc::new(Config::new(secret)),
        })
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn with(mut self, f: impl FnOnce(&mut Config)) -> Self {
        let config = Arc::make_mut(&mut self.config);
        f(config);
        // What was derived from the previous configuration.
        config.verdict = Default::default();
        config.set_cookie_attributes = Default::default();
        self
    }

    /// Name of the session cookie. Default: `"session"`.
    ///
    /// A `__Host-` name needs `secure(true)`, path `/` and no domain; a
    /// `__Secure-` name needs `secure(true)`.
    ///
    /// ```
    /// # use tower_cookie_session::SessionLayer;
    /// let layer = SessionLayer::new([1; 32]).cookie_name("__Host-sid").secure(true);
    /// assert!(layer.validate().is_ok());
    /// ```
    pub fn cookie_name(self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.with(|c| c.cookie_name = name)
    }

    /// Inactivity timeout: a session not seen for longer starts fresh.
    /// `None` disables it. Default: 20 minutes (Pyramid's 1200 seconds).
    /// Like every duration setter, it takes a `Duration` or an
    /// `Option<Duration>`.
    ///
    /// ```
    /// # use tower_cookie_session::SessionLayer;
    /// # use std::time::Duration;
    /// let layer = SessionLayer::new([1; 32]).timeout(Duration::from_secs(3600));
    /// let no_timeout = SessionLayer::new([1; 32]).timeout(None);
    /// ```
    pub fn timeout(self, timeout: impl Into<Option<Duration>>) -> Self {
        let timeout = timeout.into();
        self.with(|c| c.timeout = timeout)
    }

    /// How old the last write may be before an unchanged session is written
    /// again, to slide its timeout forward. `Some(Duration::ZERO)` writes on
    /// every request; `None` only when the session changes.
    /// Default: a tenth of the timeout (2 minutes by default; never without
    /// a timeout). Must be shorter than the timeout.
    ///
    /// ```
    /// # use tower_cookie_session::SessionLayer;
    /// # use std::time::Duration;
    /// let layer = SessionLayer::new([1; 32]).reissue_time(Duration::from_secs(60));
    /// ```
    pub fn reissue_time(self, reissue_time: impl Into<Option<Duration>>) -> Self {
        let reissue_time = reissue_time.into();
        self.with(|c| c.reissue_time = Some(reissue_time))
    }

    /// Absolute lifetime, counted from the session's creation: older
    /// sessions start fresh however active they are. Default: `None`.
    ///
    /// ```
    /// # use tower_cookie_session::SessionLayer;
    /// # use std::time::Duration;
    /// let layer = SessionLayer::new([1; 32]).max_lifetime(Duration::from_secs(86_400));
    /// ```
    pub fn max_lifetime(self, max_lifetime: impl Into<Option<Duration>>) -> Self {
        let max_lifetime = max_lifetime.into();
        self.with(|c| c.max_lifetime = max_lifetime)
    }

    /// The cookie's `Max-Age`. Default: `None`, a browser-session cookie.
    ///
    /// ```
    /// # use tower_cookie_session::SessionLayer;
    /// # use std::time::Duration;
    /// let layer = SessionLayer::new([1; 32]).max_age(Duration::from_secs(7 * 86_400));
    /// ```
    pub fn max_age(self, max_age: impl Into<Option<Duration>>) -> Self {
        let max_age = max_age.into();
        self.with(|c| c.max_age = max_age)
    }

    /// The cookie's `Path`. Default: `"/"`.
    ///
    /// ```
    /// # use tower_cookie_session::SessionLayer;
    /// let layer = SessionLayer::new([1; 32]).path("/app");
    /// ```
    pub fn path(self, path: impl Into<String>) -> Self {
        let path = path.into();
        self.with(|c| c.path = path)
    }

    /// The cookie's `Domain`. Default: `None` (this host only).
    ///
    /// ```
    /// # use tower_cookie_session::SessionLayer;
    /// let layer = SessionLayer::new([1; 32]).domain(Some("example.com".to_owned()));
    /// ```
    pub fn domain(self, domain: Option<String>) -> Self {
        self.with(|c| c.domain = domain)
    }

    /// The cookie's `Secure` flag: sent over HTTPS only. Default: `false`;
    /// turn it on behind HTTPS.
    ///
    /// ```
    /// # use tower_cookie_session::SessionLayer;
    /// let layer = SessionLayer::new([1; 32]).secure(true);
    /// ```
    pub fn secure(self, secure: bool) -> Self {
        self.with(|c| c.secure = secure)
    }

    /// The cookie's `HttpOnly` flag: hidden from JavaScript. Default:
    /// `true` (Pyramid's default is `false`).
    ///
    /// ```
    /// # use tower_cookie_session::SessionLayer;
    /// let layer = SessionLayer::new([1; 32]).http_only(false);
    /// ```
    pub fn http_only(self, http_only: bool) -> Self {
        self.with(|c| c.http_only = http_only)
    }

    /// The cookie's `SameSite` attribute. Default: [`SameSite::Lax`].
    ///
    /// ```
    /// use tower_cookie_session::{SameSite, SessionLayer};
    /// let layer = SessionLayer::new([1; 32]).same_site(SameSite::Strict);
    /// ```
    pub fn same_site(self, same_site: SameSite) -> Self {
        self.with(|c| c.same_site = same_site)
    }

    /// The cookie's `Partitioned` attribute (CHIPS); needs `secure(true)`.
    /// Default: `false`.
    ///
    /// ```
    /// # use tower_cookie_session::SessionLayer;
    /// let layer = SessionLayer::new([1; 32]).secure(true).partitioned(true);
    /// assert!(layer.validate().is_ok());
    /// ```
    pub fn partitioned(self, partitioned: bool) -> Self {
        self.with(|c| c.partitioned = partitioned)
    }

    /// Whether a 5xx response still writes the session cookie. Default:
    /// `true`. With `false`, changes made by a request that ended in a
    /// server error are not saved (like Pyramid's `cookie_on_exception`).
    /// An `Err` from the inner service always passes through untouched.
    ///
    /// ```
    /// # use tower_cookie_session::SessionLayer;
    /// let layer = SessionLayer::new([1; 32]).cookie_on_exception(false);
    /// ```
    pub fn cookie_on_exception(self, cookie_on_exception: bool) -> Self {
        self.with(|c| c.cookie_on_exception = cookie_on_exception)
    }

    /// The wire format of the cookie. Default: [`Format::signed_serialize`].
    ///
    /// With the `pyramid2` feature, [`Format::pyramid2`] reads and writes
    /// the sessions of a Pyramid application's `SignedCookieSessionFactory`
    /// that shares the secret and the cookie name. All secrets, fallbacks
    /// included, are used in this format; cookies in the other format are
    /// refused (a fresh session).
    ///
    /// ```
    /// use tower_cookie_session::{Format, SessionLayer};
    ///
    /// let layer = SessionLayer::new([1; 32]).format(Format::signed_serialize());
    /// # #[cfg(feature = "pyramid2")]
    /// let layer = SessionLayer::new([1; 32]).format(Format::pyramid2());
    /// assert!(layer.validate().is_ok());
    /// ```
    pub fn format(self, format: Format) -> Self {
        self.with(|c| {
            c.format = format;
            c.rekey();
        })
    }

    /// Older secrets still accepted, tried in order after the primary one,
    /// for key rotation. A session they verify is re-signed with the
    /// primary secret on the response. Each needs at least
    /// [`MIN_SECRET_LEN`] bytes. Replaces any earlier list.
    ///
    /// ```
    /// # use tower_cookie_session::SessionLayer;
    /// let new_secret = [2u8; 32];
    /// let old_secret = [1u8; 32];
    /// let layer = SessionLayer::new(new_secret).fallback_secrets([old_secret]);
    /// assert!(layer.validate().is_ok());
    /// ```
    pub fn fallback_secrets(self, secrets: impl IntoIterator<Item = impl AsRef<[u8]>>) -> Self {
        let secrets = secrets
            .into_iter()
            .map(|s| Secret::new(s.as_ref()))
            .collect();
        self.with(|c| {
            c.fallback_secrets = secrets;
            c.rekey();
        })
    }

    /// Checks the whole configuration; [`Layer::layer`] panics with this
    /// error's message. Call it at start-up to fail with a clear message.
    /// The verdict is computed once per configuration.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming what to fix.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tower_cookie_session::{ConfigError, SessionLayer};
    /// let layer = SessionLayer::new([1; 32]).cookie_name("__Host-sid");
    /// let err = layer.validate().unwrap_err();
    /// assert!(err.to_string().contains("secure(true)"));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.config.validate()
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    /// Wraps `inner`.
    ///
    /// # Panics
    ///
    /// With the message of [`validate`](SessionLayer::validate)'s error if
    /// the configuration is invalid.
    #[allow(
        clippy::panic,
        reason = "documented: bad configuration fails at start-up"
    )]
    fn layer(&self, inner: S) -> Self::Service {
        if let Err(e) = self.validate() {
            panic!("invalid SessionLayer configuration: {e}");
        }
        SessionService::new(inner, Arc::clone(&self.config))
    }
}
