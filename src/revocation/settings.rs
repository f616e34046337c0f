//! The layer's revocation settings.

use std::sync::Arc;

use super::{Revocations, Revoker, WhenUnavailable};
use crate::{ConfigError, SessionLayer};

impl SessionLayer {
    /// Turns on revocation ("log out everywhere"), with `store` keeping
    /// the records: [`MemoryRevocations`](crate::MemoryRevocations) for one
    /// process, [`RedisRevocations`](crate::RedisRevocations) for a fleet.
    ///
    /// Every session the layer writes then carries a random id
    /// ([`Session::id`](crate::Session::id)) and may carry a subject
    /// ([`Session::set_subject`](crate::Session::set_subject)).
    /// [`invalidate`](crate::Session::invalidate) revokes the old id, so a
    /// copy of the cookie taken before a logout stops working everywhere,
    /// and a [`Revoker`] revokes every session of a subject.
    ///
    /// Before the inner service, each request that carries a valid session
    /// cookie with an id or a subject costs one call to the store (for
    /// Redis, one round trip); a revoked session becomes a fresh one, as a
    /// bad cookie does. Requests without a cookie cost nothing more.
    ///
    /// Needs [`max_lifetime`](Self::max_lifetime): records expire once no
    /// cookie they cover can be valid, and without a longest lifetime a
    /// session in use never stops being valid. [`validate`](Self::validate)
    /// refuses the layer without it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_cookie_session::{ConfigError, MemoryRevocations, SessionLayer};
    ///
    /// let layer = SessionLayer::new([7; 32]).revocation(MemoryRevocations::new());
    /// assert_eq!(layer.validate(), Err(ConfigError::RevocationWithoutMaxLifetime));
    /// let layer = layer.max_lifetime(Duration::from_secs(30 * 86_400));
    /// assert_eq!(layer.validate(), Ok(()));
    /// ```
    pub fn revocation(self, store: impl Revocations) -> Self {
        let store: Arc<dyn Revocations> = Arc::new(store);
        self.with(|c| c.revocation = Some(store))
    }

    /// What a request's session is when the revocation store cannot
    /// answer in time: [`WhenUnavailable::Revoked`] (the default: a fresh
    /// session, so that no revoked cookie ever works) or
    /// [`WhenUnavailable::Valid`] (nobody is signed out while the store is
    /// down). Either way the request goes on, and a `warn!` event (with the
    /// `tracing` feature) says what happened.
    ///
    /// ```
    /// use tower_cookie_session::{SessionLayer, WhenUnavailable};
    ///
    /// let layer = SessionLayer::new([7; 32]).when_revocations_unavailable(WhenUnavailable::Valid);
    /// ```
    pub fn when_revocations_unavailable(self, outcome: WhenUnavailable) -> Self {
        self.with(|c| c.when_unavailable = outcome)
    }

    /// What records revocations with this layer's store and lifetimes,
    /// for a task with no request at hand (an admin tool, a password
    /// reset job). Handlers can use [`Session::revoker`](crate::Session::revoker).
    ///
    /// # Errors
    ///
    /// [`ConfigError::RevocationOff`] without [`revocation`](Self::revocation),
    /// or the error of [`validate`](Self::validate).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_cookie_session::{MemoryRevocations, SessionLayer};
    ///
    /// let layer = SessionLayer::new([7; 32])
    ///     .max_lifetime(Duration::from_secs(86_400))
    ///     .revocation(MemoryRevocations::new());
    /// let revoker = layer.revoker()?;
    /// assert!(SessionLayer::new([7; 32]).revoker().is_err());
    /// # Ok::<(), tower_cookie_session::ConfigError>(())
    /// ```
    pub fn revoker(&self) -> Result<Revoker, ConfigError> {
        self.validate()?;
        self.config().revoker().ok_or(ConfigError::RevocationOff)
    }
}
