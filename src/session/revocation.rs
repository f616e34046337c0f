//! The session's side of revocation: its id (`"_id_"`) and subject
//! (`"_sub_"`), the identity the layer checks before the inner service,
//! and what `invalidate` leaves for the response to revoke.

use std::time::SystemTime;

use super::{
    Session,
    lifecycle::{Loaded, system_time},
};
use crate::{
    codec::state::Previous,
    config::Config,
    error::SessionError,
    revocation::{RevocationFuture, Revoker, SessionIdentity, issued, new_id},
};

const ID_KEY: &str = "_id_";
const SUBJECT_KEY: &str = "_sub_";

/// What revocation needs to know of a loaded session.
#[derive(Debug)]
pub(crate) struct Revocable {
    /// The identity the request's cookie carried; `None` once invalidated.
    cookie: Option<SessionIdentity>,
    /// The cookie's `created` time.
    created: SystemTime,
    /// Left by `invalidate`: the identity to revoke, and its `created`.
    pending: Option<(SessionIdentity, SystemTime)>,
}

impl Revocable {
    /// The identity of a session just read from its cookie.
    pub(super) fn of_cookie(loaded: &Loaded) -> Self {
        let id = string(loaded, ID_KEY);
        let created = system_time(loaded.created);
        let identity = SessionIdentity::new(
            id.clone(),
            string(loaded, SUBJECT_KEY),
            issued(id.as_deref(), created),
        );
        Self {
            cookie: Some(identity),
            created,
            pending: None,
        }
    }

    /// After `invalidate`: the cookie's identity is to be revoked (the
    /// first one, if `invalidate` is called again).
    pub(super) fn invalidate(&mut self) {
        if self.pending.is_none() {
            let created = self.created;
            self.pending = self.cookie.take().map(|identity| (identity, created));
        }
        self.cookie = None;
    }
}

/// The JSON string stored under `key`, if there is one.
fn string(loaded: &Loaded, key: &str) -> Option<String> {
    loaded
        .state
        .get(key)
        .and_then(|raw| serde_json::from_str(raw).ok())
}

impl Loaded {
    /// The cookie's id, unless the session was invalidated since.
    fn cookie_id(&self) -> Option<String> {
        self.revocable.as_deref()?.cookie.as_ref()?.id.clone()
    }

    /// The id the session has, or will be written with if `clear` removed
    /// it.
    fn id(&self) -> Option<String> {
        string(self, ID_KEY).or_else(|| self.cookie_id())
    }

    /// With revocation on, gives the session an id if it has none: the
    /// cookie's (if `clear` removed it), or a new one. Returns what to
    /// restore to undo it.
    #[inline]
    pub(super) fn ensure_id(&mut self, config: &Config) -> Option<Previous> {
        config.revocation.as_ref()?;
        self.add_id()
    }

    fn add_id(&mut self) -> Option<Previous> {
        if self.state.contains_key(ID_KEY) {
            return None;
        }
        let id = self.cookie_id().unwrap_or_else(new_id);
        let raw = serde_json::to_string(&id).unwrap_or_default();
        Some(self.state.insert(ID_KEY.to_owned(), raw))
    }
}

impl Session {
    /// The session's id, with revocation on
    /// ([`SessionLayer::revocation`](crate::SessionLayer::revocation)):
    /// random, kept under `"_id_"`, given to a session when it first
    /// stores something and replaced by [`invalidate`](Self::invalidate).
    /// `None` before that, and always without revocation. Its text is
    /// opaque (it begins with the time it was issued).
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::detached();
    /// assert_eq!(session.id(), None, "no revocation here");
    /// ```
    #[must_use]
    pub fn id(&self) -> Option<String> {
        self.with(|loaded| loaded.id())
    }

    /// The session's subject, as [`set_subject`](Self::set_subject) set it.
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::detached();
    /// session.set_subject("ada")?;
    /// assert_eq!(session.subject().as_deref(), Some("ada"));
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    #[must_use]
    pub fn subject(&self) -> Option<String> {
        self.with(|loaded| string(loaded, SUBJECT_KEY))
    }

    /// Names whom the session belongs to (e.g. the user id), under
    /// `"_sub_"`, so that [`Revoker::revoke_subject`] can end every session
    /// of theirs at once. Set it at login, right after
    /// [`invalidate`](Self::invalidate), which also keeps a session id
    /// from being fixed by an attacker before login.
    ///
    /// # Errors
    ///
    /// [`SessionError::TooLarge`] if the session has no room left for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::detached();
    /// session.invalidate();
    /// session.set_subject("user-42")?;
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    pub fn set_subject(&self, subject: impl Into<String>) -> Result<(), SessionError> {
        let raw = serde_json::to_string(&subject.into()).map_err(SessionError::Serialize)?;
        self.set(SUBJECT_KEY.to_owned(), raw)
    }

    /// What records revocations for this layer, from a handler (e.g. to
    /// sign a user out everywhere after a password change); `None` without
    /// revocation.
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// async fn change_password(session: Session) {
    ///     // ... the password is changed ...
    ///     if let (Some(revoker), Some(user)) = (session.revoker(), session.subject()) {
    ///         let _ = revoker.revoke_subject(&user).await;
    ///     }
    ///     // ... and this device signs in again with a new session.
    ///     session.invalidate();
    /// }
    /// ```
    #[must_use]
    pub fn revoker(&self) -> Option<Revoker> {
        self.config().revoker()
    }

    /// For the layer with revocation on, before the inner service: the
    /// identity of the request's cookie, if it carries a valid session
    /// cookie with an id or a subject to check. Loading it here does not
    /// count as the handler using the session.
    pub(crate) fn identity_to_check(&self) -> Option<SessionIdentity> {
        let mut stage = self.lock();
        if stage.without_cookies() {
            return None;
        }
        stage
            .load(self.config())
            .revocable
            .as_deref()?
            .cookie
            .clone()
            .filter(SessionIdentity::is_checkable)
    }

    /// The cookie's session was revoked: the request gets a fresh one.
    pub(crate) fn refuse(&self) {
        self.peek(Loaded::refuse);
    }

    /// The revocation `invalidate` left, to carry out once the response is
    /// written.
    pub(crate) fn take_revocation(&self) -> Option<RevocationFuture<()>> {
        // Only a handler's `invalidate` leaves one.
        if !self.used() {
            return None;
        }
        let revoker = self.revoker()?;
        let (identity, created) =
            self.peek(|loaded| loaded.revocable.as_deref_mut()?.pending.take())?;
        Some(revoker.revoke_session(&identity, created))
    }
}
