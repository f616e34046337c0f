//! [`MemoryRevocations`]: revocation records in this process's memory.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant, SystemTime},
};

use super::{RevocationFuture, Revocations, SessionIdentity, issued_before, millis};

/// Revocations kept in this process: for a single instance of an app, and
/// for tests. Every clone shares the same records; they are lost when the
/// process ends (so revoked cookies work again after a restart, until they
/// time out: use [`RedisRevocations`](crate::RedisRevocations) to keep
/// them, or to share them between instances).
///
/// Every call answers at once. Expired records are dropped as new ones are
/// added, so memory holds only records that can still matter.
///
/// ```
/// use std::time::Duration;
/// use tower_cookie_session::{MemoryRevocations, SessionLayer};
///
/// let layer = SessionLayer::new([7; 32])
///     .max_lifetime(Duration::from_secs(7 * 86_400))
///     .revocation(MemoryRevocations::new());
/// layer.validate()?;
/// # Ok::<(), tower_cookie_session::ConfigError>(())
/// ```
#[derive(Clone, Default)]
pub struct MemoryRevocations {
    records: Arc<Mutex<Records>>,
}

/// Shows how many records there are, never which (a layer's `Debug`
/// output, in a log, names no user).
impl fmt::Debug for MemoryRevocations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryRevocations")
            .field("records", &self.lock().len())
            .finish()
    }
}

#[derive(Debug, Default)]
struct Records {
    /// Revoked session ids, and when each record expires.
    sessions: HashMap<String, Instant>,
    /// Revoked subjects: the moment (Unix milliseconds), and when the
    /// record expires.
    subjects: HashMap<String, (u64, Instant)>,
    /// The number of records after the last sweep of expired ones.
    swept: usize,
}

impl Records {
    /// Drops expired records once their number has doubled since the last
    /// sweep, so that adding a record costs amortised constant time.
    fn sweep(&mut self, now: Instant) {
        if self.sessions.len() + self.subjects.len() < 2 * self.swept.max(64) {
            return;
        }
        self.sessions.retain(|_, until| *until > now);
        self.subjects.retain(|_, (_, until)| *until > now);
        self.swept = self.sessions.len() + self.subjects.len();
    }

    fn len(&self) -> usize {
        self.sessions.len() + self.subjects.len()
    }
}

impl MemoryRevocations {
    /// An empty store.
    ///
    /// ```
    /// let store = tower_cookie_session::MemoryRevocations::new();
    /// assert!(store.is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the store holds no records (expired ones may still count
    /// until they are swept).
    ///
    /// ```
    /// let store = tower_cookie_session::MemoryRevocations::new();
    /// assert!(store.is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lock().len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Records> {
        // No code that can panic runs under the lock.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn check(&self, session: &SessionIdentity) -> bool {
        let now = Instant::now();
        let records = self.lock();
        let id_revoked = session
            .id
            .as_ref()
            .and_then(|id| records.sessions.get(id))
            .is_some_and(|until| *until > now);
        let subject_revoked = session
            .subject
            .as_ref()
            .and_then(|s| records.subjects.get(s))
            .is_some_and(|(at, until)| *until > now && issued_before(session.issued, *at));
        id_revoked || subject_revoked
    }
}

impl Revocations for MemoryRevocations {
    fn is_revoked(&self, session: &SessionIdentity) -> RevocationFuture<bool> {
        let revoked = self.check(session);
        Box::pin(async move { Ok(revoked) })
    }

    fn revoke_session(&self, session: &SessionIdentity, ttl: Duration) -> RevocationFuture<()> {
        if let Some(id) = &session.id {
            let now = Instant::now();
            let until = now + ttl;
            let mut records = self.lock();
            let entry = records.sessions.entry(id.clone()).or_insert(until);
            *entry = (*entry).max(until);
            records.sweep(now);
        }
        Box::pin(async { Ok(()) })
    }

    fn revoke_subject(&self, subject: &str, at: SystemTime, ttl: Duration) -> RevocationFuture<()> {
        let now = Instant::now();
        let (at, until) = (millis(at), now + ttl);
        let mut records = self.lock();
        let entry = records
            .subjects
            .entry(subject.to_owned())
            .or_insert((at, until));
        // A live record only moves forward; an expired one is replaced.
        *entry = if entry.1 > now {
            (entry.0.max(at), entry.1.max(until))
        } else {
            (at, until)
        };
        records.sweep(now);
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    fn identity(id: &str, subject: Option<&str>, issued_ms: u64) -> SessionIdentity {
        SessionIdentity::new(
            Some(id.to_owned()),
            subject.map(str::to_owned),
            at(issued_ms),
        )
    }

    async fn revoked(store: &MemoryRevocations, s: &SessionIdentity) -> bool {
        store.is_revoked(s).await.unwrap()
    }

    #[tokio::test]
    async fn a_revoked_id_is_revoked_and_no_other() {
        let store = MemoryRevocations::new();
        let hour = Duration::from_secs(3600);
        store
            .revoke_session(&identity("a", None, 1), hour)
            .await
            .unwrap();
        assert!(revoked(&store, &identity("a", Some("ada"), 1)).await);
        assert!(!revoked(&store, &identity("b", Some("ada"), 1)).await);
    }

    #[tokio::test]
    async fn a_subject_covers_what_was_issued_before_and_only_moves_forward() {
        let store = MemoryRevocations::new();
        let hour = Duration::from_secs(3600);
        store.revoke_subject("ada", at(1_000), hour).await.unwrap();
        assert!(revoked(&store, &identity("x", Some("ada"), 999)).await);
        assert!(!revoked(&store, &identity("x", Some("ada"), 1_000)).await);
        assert!(!revoked(&store, &identity("x", Some("bob"), 999)).await);
        // An earlier moment (another clock) does not move it back.
        store.revoke_subject("ada", at(500), hour).await.unwrap();
        assert!(revoked(&store, &identity("x", Some("ada"), 999)).await);
        store.revoke_subject("ada", at(2_000), hour).await.unwrap();
        assert!(revoked(&store, &identity("x", Some("ada"), 1_999)).await);
    }

    #[tokio::test]
    async fn records_expire() {
        let store = MemoryRevocations::new();
        let s = identity("a", Some("ada"), 1);
        store.revoke_session(&s, Duration::ZERO).await.unwrap();
        store
            .revoke_subject("ada", at(2), Duration::ZERO)
            .await
            .unwrap();
        assert!(!revoked(&store, &s).await);
    }

    #[tokio::test]
    async fn debug_names_no_record() {
        let store = MemoryRevocations::new();
        let hour = Duration::from_secs(3600);
        store.revoke_subject("ada", at(1), hour).await.unwrap();
        let debug = format!("{store:?}");
        assert_eq!(debug, "MemoryRevocations { records: 1 }");
    }

    #[tokio::test]
    async fn expired_records_are_swept() {
        let store = MemoryRevocations::new();
        for i in 0..1_000 {
            store
                .revoke_session(&identity(&i.to_string(), None, 1), Duration::ZERO)
                .await
                .unwrap();
        }
        assert!(store.lock().len() < 200, "{}", store.lock().len());
    }
}
