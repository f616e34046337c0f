//! A lifetime chosen per session ("remember me"): [`Expiry`], kept in the
//! session under `"_exp_"` so that every instance of the app, and a
//! Pyramid app sharing the cookie, keeps it.

use std::time::Duration;

use super::Session;
use crate::{codec::state::State, config::Config, error::SessionError};

const EXPIRY_KEY: &str = "_exp_";

/// How long a session lives, chosen per session with
/// [`Session::set_expiry`]: the "keep me signed in" box of a login form.
///
/// ```
/// use std::time::Duration;
/// use tower_cookie_session::{Expiry, Session};
///
/// let session = Session::detached();
/// assert_eq!(session.expiry(), Expiry::Default);
/// session.set_expiry(Expiry::Persistent(Duration::from_secs(30 * 86_400)))?;
/// assert_eq!(session.expiry(), Expiry::Persistent(Duration::from_secs(30 * 86_400)));
/// # Ok::<(), tower_cookie_session::SessionError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Expiry {
    /// As the layer says: its `max_age` and `timeout`.
    #[default]
    Default,
    /// A cookie that ends with the browser (no `Max-Age`), even where the
    /// layer sets `max_age`; the layer's `timeout` applies.
    BrowserSession,
    /// A cookie with this `Max-Age`, and this inactivity timeout in place
    /// of the layer's: a user who comes back within it is still signed in.
    /// Whole seconds, at least one. `max_lifetime` still bounds it.
    Persistent(Duration),
}

impl Expiry {
    /// The expiry stored in `state`; `Default` when there is none, or when
    /// what is stored is not a whole number of seconds.
    pub(super) fn of(state: &State) -> Self {
        match state.get(EXPIRY_KEY).map(str::parse::<u64>) {
            Some(Ok(0)) => Self::BrowserSession,
            Some(Ok(secs)) => Self::Persistent(Duration::from_secs(secs)),
            _ => Self::Default,
        }
    }

    /// The inactivity timeout in force for a session of this expiry.
    pub(super) fn timeout(self, config: &Config) -> Option<Duration> {
        match self {
            Self::Persistent(d) => Some(d),
            Self::Default | Self::BrowserSession => config.timeout,
        }
    }

    /// The reissue time in force: as the layer sets it, or a tenth of the
    /// session's own timeout.
    pub(super) fn reissue_time(self, config: &Config) -> Option<Duration> {
        match config.reissue_time {
            Some(explicit) => explicit,
            None => self.timeout(config).map(|t| t / 10),
        }
    }

    /// The cookie's `Max-Age` for a session of this expiry.
    pub(super) fn max_age(self, config: &Config) -> Option<Duration> {
        match self {
            Self::Default => config.max_age,
            Self::BrowserSession => None,
            Self::Persistent(d) => Some(d),
        }
    }

    /// As stored: seconds, 0 for a browser session; `None` for the default.
    fn stored(self) -> Option<u64> {
        match self {
            Self::Default => None,
            Self::BrowserSession => Some(0),
            Self::Persistent(d) => Some(d.as_secs().max(1)),
        }
    }
}

impl Session {
    /// Chooses how long this session lives: [`Expiry::Persistent`] for
    /// "keep me signed in", [`Expiry::BrowserSession`] for a cookie that
    /// ends with the browser, [`Expiry::Default`] to follow the layer. It
    /// is kept in the session (key `"_exp_"`, in seconds), across reissues
    /// and by every instance that shares the cookie; setting the same
    /// expiry again is no change, and [`invalidate`](Self::invalidate)
    /// resets it to the default.
    ///
    /// # Errors
    ///
    /// [`SessionError::TooLarge`] if the session has no room left for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_cookie_session::{Expiry, Session};
    ///
    /// let session = Session::detached();
    /// let remember_me = true; // the login form's checkbox
    /// session.invalidate();
    /// session.insert("user", "ada")?;
    /// if remember_me {
    ///     session.set_expiry(Expiry::Persistent(Duration::from_secs(30 * 86_400)))?;
    /// }
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    pub fn set_expiry(&self, expiry: Expiry) -> Result<(), SessionError> {
        match expiry.stored() {
            Some(secs) => self.set(EXPIRY_KEY.to_owned(), secs.to_string()),
            None => self.remove::<serde_json::Value>(EXPIRY_KEY).map(drop),
        }
    }

    /// The session's expiry, as set by [`set_expiry`](Self::set_expiry).
    ///
    /// ```
    /// use tower_cookie_session::{Expiry, Session};
    ///
    /// let session = Session::detached();
    /// session.set_expiry(Expiry::BrowserSession)?;
    /// assert_eq!(session.expiry(), Expiry::BrowserSession);
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    #[must_use]
    pub fn expiry(&self) -> Expiry {
        self.with(|loaded| Expiry::of(&loaded.state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reissue_is_a_tenth_of_the_sessions_own_timeout_unless_set() {
        let config = Config::new(&[7; 32]);
        let day = Duration::from_secs(86_400);
        assert_eq!(
            Expiry::Default.reissue_time(&config),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            Expiry::BrowserSession.reissue_time(&config),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            Expiry::Persistent(10 * day).reissue_time(&config),
            Some(day)
        );
        let no_timeout = Config {
            timeout: None,
            ..Config::new(&[7; 32])
        };
        assert_eq!(Expiry::Default.reissue_time(&no_timeout), None);
        assert_eq!(Expiry::Persistent(day).timeout(&no_timeout), Some(day));
        let explicit = Config {
            reissue_time: Some(Some(Duration::from_secs(5))),
            ..Config::new(&[7; 32])
        };
        assert_eq!(
            Expiry::Persistent(day).reissue_time(&explicit),
            Some(Duration::from_secs(5))
        );
    }

    #[test]
    fn expiry_is_stored_in_seconds_and_read_back() {
        let s = Session::detached();
        for expiry in [
            Expiry::BrowserSession,
            Expiry::Persistent(Duration::from_secs(86_400)),
            Expiry::Default,
        ] {
            s.set_expiry(expiry).unwrap();
            assert_eq!(s.expiry(), expiry);
        }
        assert!(!s.contains_key(EXPIRY_KEY), "the default stores nothing");
        s.set_expiry(Expiry::Persistent(Duration::from_millis(10)))
            .unwrap();
        assert_eq!(s.expiry(), Expiry::Persistent(Duration::from_secs(1)));
        s.insert(EXPIRY_KEY, "soon").unwrap();
        assert_eq!(s.expiry(), Expiry::Default, "unreadable: the default");
    }
}
