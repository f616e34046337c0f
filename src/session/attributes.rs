//! Pyramid's `ISession` attributes of the session's life: whether it is
//! new, when it was created and last written, and the two calls that
//! change its fate, `changed` and `invalidate`.

use std::time::SystemTime;

use super::{Session, lifecycle::Loaded, lifecycle::system_time};

impl Session {
    /// Whether the session was created by this request: there was no
    /// valid, unexpired cookie, or it was invalidated.
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// assert!(Session::detached().is_new());
    /// ```
    #[must_use]
    pub fn is_new(&self) -> bool {
        self.with(|loaded| loaded.new)
    }

    /// When the session was created.
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// # use std::time::{Duration, SystemTime};
    /// let session = Session::detached();
    /// assert!(SystemTime::now().duration_since(session.created()).unwrap() < Duration::from_secs(5));
    /// ```
    #[must_use]
    pub fn created(&self) -> SystemTime {
        self.with(|loaded| system_time(loaded.created))
    }

    /// When the session was last written before this request (now, for a
    /// new session).
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// assert!(session.accessed() >= session.created());
    /// ```
    #[must_use]
    pub fn accessed(&self) -> SystemTime {
        self.with(|loaded| system_time(loaded.accessed))
    }

    /// Marks the session as changed, so the cookie is written on this
    /// response even if no value changed (e.g. to slide the timeout forward
    /// now). It does not save edits to a value you read: insert the value
    /// again.
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.changed();
    /// ```
    pub fn changed(&self) {
        self.with(|loaded| loaded.changed = true);
    }

    /// Ends the session: every key is dropped and, unless something is
    /// inserted afterwards, the response removes the session cookie
    /// (`Max-Age=0`, same attributes; sent only if the request carried
    /// one). Anything inserted afterwards in the same request starts a
    /// brand-new session with a fresh `created` time. Call it at login and
    /// logout, so that a session planted in the browser before login does
    /// not carry over.
    ///
    /// With [revocation](crate::SessionLayer::revocation) on, the old
    /// session's id is also revoked, before the response is handed on, so
    /// that a copy of its cookie stops working on every instance (unless
    /// the response is a server error and `cookie_on_exception` is off:
    /// then nothing of the request's session changes is carried out).
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.insert("user", "ada")?;
    /// session.invalidate();
    /// assert!(session.is_new());
    /// assert!(session.is_empty());
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    pub fn invalidate(&self) {
        self.with(Loaded::invalidate);
    }
}
