//! Revocation ("log out everywhere"): the [`Revocations`] store the layer
//! asks before the inner service, what it asks about a session
//! ([`SessionIdentity`]), and the [`Revoker`] that records a revocation.
//!
//! A signed cookie cannot be recalled by itself; a small record on the
//! server can. With [`SessionLayer::revocation`](crate::SessionLayer::revocation),
//! every session the layer writes carries a random id (`"_id_"`) and may
//! carry a subject (`"_sub_"`, e.g. a user id). `invalidate()` records its
//! old id as revoked, and [`Revoker::revoke_subject`] refuses every session
//! of a subject issued before that moment. Each record expires by itself
//! once no cookie it covers can still be valid, which `max_lifetime`
//! bounds: the layer refuses revocation without it.

use std::{
    error::Error,
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::session::MAX_CLOCK_SKEW;

mod memory;
#[cfg(feature = "redis")]
mod redis;
mod settings;

#[cfg(feature = "redis")]
pub use self::redis::RedisRevocations;
pub use memory::MemoryRevocations;

/// What a [`Revocations`] store's calls return: a boxed future, so that the
/// store can be kept as a trait object and its calls awaited from the
/// layer's response future.
pub type RevocationFuture<T> = Pin<Box<dyn Future<Output = Result<T, RevocationError>> + Send>>;

/// Where revocations are kept: [`MemoryRevocations`] for one process,
/// [`RedisRevocations`] (feature `redis`) for instances that share one
/// Redis.
///
/// A store keeps two kinds of record, each for as long as the `ttl` it is
/// given (after which no cookie it covers can still be valid):
/// - a revoked **session**: [`is_revoked`](Self::is_revoked) is true for
///   a session with that id;
/// - a revoked **subject**, with the moment it was revoked: `is_revoked`
///   is true for a session of that subject issued strictly before it. A
///   later revocation of the same subject moves the moment forward, never
///   back.
///
/// The layer calls `is_revoked` once per request that carries a session
/// cookie with an id or a subject, before the inner service, and awaits
/// it: a store that talks to a server must bound the time it takes
/// ([`RedisRevocations::timeout`]) and answer [`RevocationError`] when it
/// cannot, never hang. What the layer does then is
/// [`SessionLayer::when_revocations_unavailable`](crate::SessionLayer::when_revocations_unavailable).
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use tower_cookie_session::{MemoryRevocations, Revocations};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_cookie_session::RevocationError> {
/// let store = MemoryRevocations::new();
/// let day = Duration::from_secs(86_400);
/// store.revoke_subject("ada", SystemTime::now(), day).await?;
/// # Ok(())
/// # }
/// ```
///
/// [`RedisRevocations`]: crate::RedisRevocations
/// [`RedisRevocations::timeout`]: crate::RedisRevocations::timeout
pub trait Revocations: fmt::Debug + Send + Sync + 'static {
    /// Whether the session's id has a record, or its subject has one from
    /// after the session was issued.
    fn is_revoked(&self, session: &SessionIdentity) -> RevocationFuture<bool>;

    /// Records the session's id as revoked, for `ttl`. A session without
    /// an id has nothing to record.
    fn revoke_session(&self, session: &SessionIdentity, ttl: Duration) -> RevocationFuture<()>;

    /// Records that every session of `subject` issued before `at` is
    /// revoked, for `ttl` (or until a later revocation of it).
    fn revoke_subject(&self, subject: &str, at: SystemTime, ttl: Duration) -> RevocationFuture<()>;
}

/// What a store is told of a session: its id, its subject, and when it
/// was issued (to the millisecond, from its id; to the second, from its
/// `created` time, for a session written without an id).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionIdentity {
    /// The session's id (`"_id_"`), if it has one.
    pub id: Option<String>,
    /// The session's subject (`"_sub_"`), if it has one.
    pub subject: Option<String>,
    /// When the session was issued.
    pub issued: SystemTime,
}

impl SessionIdentity {
    /// An identity, for testing a [`Revocations`] store.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use tower_cookie_session::SessionIdentity;
    ///
    /// let session = SessionIdentity::new(Some("1.abc".into()), Some("ada".into()), SystemTime::now());
    /// assert_eq!(session.subject.as_deref(), Some("ada"));
    /// ```
    #[must_use]
    pub fn new(id: Option<String>, subject: Option<String>, issued: SystemTime) -> Self {
        Self {
            id,
            subject,
            issued,
        }
    }

    /// Whether there is anything to ask a store about.
    pub(crate) fn is_checkable(&self) -> bool {
        self.id.is_some() || self.subject.is_some()
    }
}

/// Why a [`Revocations`] store could not answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum RevocationError {
    /// No answer within the store's time limit.
    TimedOut(Duration),
    /// The store failed (e.g. the connection to Redis was refused).
    Store(Box<dyn Error + Send + Sync>),
}

impl fmt::Display for RevocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TimedOut(limit) => write!(
                f,
                "the revocation store did not answer within {} ms",
                limit.as_millis()
            ),
            Self::Store(e) => write!(f, "the revocation store failed: {e}"),
        }
    }
}

impl Error for RevocationError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::TimedOut(_) => None,
            Self::Store(e) => Some(&**e),
        }
    }
}

/// What a request's session is when the revocation store cannot answer
/// (see [`SessionLayer::when_revocations_unavailable`](crate::SessionLayer::when_revocations_unavailable)).
///
/// ```
/// use tower_cookie_session::WhenUnavailable;
///
/// assert_eq!(WhenUnavailable::default(), WhenUnavailable::Revoked);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum WhenUnavailable {
    /// Treat the session as revoked: the request starts a fresh session,
    /// as with a bad cookie. Nothing revoked ever works, at the price of
    /// signing everyone out while the store is down. The default.
    #[default]
    Revoked,
    /// Treat the session as valid: nobody is signed out while the store is
    /// down, and a revoked cookie works until it is back.
    Valid,
}

/// Records revocations with the layer's store and lifetimes: from a
/// handler ([`Session::revoker`](crate::Session::revoker)) or from a task
/// with no request at hand ([`SessionLayer::revoker`](crate::SessionLayer::revoker)).
///
/// ```
/// use std::time::Duration;
/// use tower_cookie_session::{MemoryRevocations, SessionLayer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let layer = SessionLayer::new([7; 32])
///     .max_lifetime(Duration::from_secs(30 * 86_400))
///     .revocation(MemoryRevocations::new());
/// let revoker = layer.revoker()?;
/// // After ada changes her password: every session of hers issued until now.
/// revoker.revoke_subject("ada").await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Revoker {
    store: Arc<dyn Revocations>,
    max_lifetime: Duration,
}

impl Revoker {
    pub(crate) fn new(store: Arc<dyn Revocations>, max_lifetime: Duration) -> Self {
        Self {
            store,
            max_lifetime,
        }
    }

    /// Revokes every session of `subject` issued until now, on every
    /// instance that shares the store. Sessions issued afterwards (a new
    /// login) are not affected. The record lives for `max_lifetime` (and
    /// [`MAX_CLOCK_SKEW`]): no session issued before it can outlive that.
    ///
    /// # Errors
    ///
    /// [`RevocationError`] if the store could not record it.
    pub async fn revoke_subject(&self, subject: &str) -> Result<(), RevocationError> {
        let ttl = self.max_lifetime.saturating_add(MAX_CLOCK_SKEW);
        self.store
            .revoke_subject(subject, SystemTime::now(), ttl)
            .await
    }

    /// The store's record of one session, for `invalidate()`: until the
    /// session's `max_lifetime` from `created` is over.
    pub(crate) fn revoke_session(
        &self,
        session: &SessionIdentity,
        created: SystemTime,
    ) -> RevocationFuture<()> {
        let end = created + self.max_lifetime + MAX_CLOCK_SKEW;
        let ttl = end
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .max(Duration::from_secs(1));
        self.store.revoke_session(session, ttl)
    }
}

/// A new session id: when it was issued, in milliseconds since the Unix
/// epoch, a dot, and 16 random bytes in base64url (22 characters). The
/// time is what a subject's revocation compares; the random part is what
/// makes it unguessable.
pub(crate) fn new_id() -> String {
    let bytes = crate::random::bytes::<16>();
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut id = format!("{millis}.");
    URL_SAFE_NO_PAD.encode_string(bytes, &mut id);
    id
}

/// When the session with this id was issued: the id's time, if it has
/// one; else `created` (a session written without an id).
pub(crate) fn issued(id: Option<&str>, created: SystemTime) -> SystemTime {
    id.and_then(|id| id.split_once('.'))
        .and_then(|(millis, _)| millis.parse::<u64>().ok())
        .map_or(created, |millis| UNIX_EPOCH + Duration::from_millis(millis))
}

/// Whether a session issued at `issued` falls under a subject revoked at
/// `revoked`: issued strictly before it. Stores compare in milliseconds.
pub(crate) fn issued_before(issued: SystemTime, revoked_millis: u64) -> bool {
    millis(issued) < revoked_millis
}

/// Milliseconds since the Unix epoch (0 before it).
pub(crate) fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_carry_their_time() {
        let before = millis(SystemTime::now());
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        let (time, random) = a.split_once('.').unwrap();
        assert_eq!(random.len(), 22);
        let time: u64 = time.parse().unwrap();
        assert!(time >= before && time <= millis(SystemTime::now()));
        assert_eq!(millis(issued(Some(&a), UNIX_EPOCH)), time);
    }

    #[test]
    fn a_session_without_a_readable_id_was_issued_when_created() {
        let created = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(issued(None, created), created);
        assert_eq!(issued(Some("no-dot"), created), created);
        assert_eq!(issued(Some("x.abc"), created), created);
    }

    #[test]
    fn only_sessions_issued_strictly_before_are_covered() {
        let t = UNIX_EPOCH + Duration::from_millis(5_000);
        assert!(issued_before(t, 5_001));
        assert!(!issued_before(t, 5_000));
        assert!(!issued_before(t, 4_999));
    }
}
