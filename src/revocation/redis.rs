//! [`RedisRevocations`]: revocation records in Redis, shared by every
//! instance of an app.

use std::{fmt, future::Future, sync::Arc, time::Duration};

use redis::{
    Client, Script,
    aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig},
};

use super::{
    RevocationError, RevocationFuture, Revocations, SessionIdentity, issued_before, millis,
};

/// How long a call may take by default before it is given up.
const DEFAULT_TIMEOUT: Duration = Duration::from_millis(100);

/// Moves a subject's revocation forward, never back, and never shortens
/// the record's life (two instances may revoke the same subject with
/// different clocks and lifetimes).
const REVOKE_SUBJECT: &str = r"
local old = redis.call('GET', KEYS[1])
local ttl = math.max(redis.call('PTTL', KEYS[1]), tonumber(ARGV[2]))
local at = ARGV[1]
if old and tonumber(old) and tonumber(old) > tonumber(at) then at = old end
redis.call('SET', KEYS[1], at, 'PX', ttl)
return 1
";

/// Revocations kept in Redis: any number of instances of an app share
/// them, and they outlive restarts of the app (and of Redis, if it keeps
/// its data on disk). Each revocation is one small key that Redis expires
/// by itself; nothing is stored for sessions that are not revoked.
///
/// The keys (under a prefix, `tower-cookie-session:` unless set):
/// - `{prefix}sub:{<subject>}`: a revoked subject, holding the moment in
///   Unix milliseconds;
/// - `{prefix}id:{<subject>}:<id>`: a revoked session (`{}` for a session
///   without a subject).
///
/// The subject is a Redis Cluster hash tag, so that the keys a request
/// needs are in one slot and the check is one `MGET`.
///
/// Each call gives up after [`timeout`](Self::timeout) (100 ms unless
/// set) with [`RevocationError::TimedOut`], and a refused connection fails
/// at once: a request never waits longer for Redis. What the layer does
/// then is [`SessionLayer::when_revocations_unavailable`](crate::SessionLayer::when_revocations_unavailable).
///
/// ```no_run
/// use std::time::Duration;
/// use tower_cookie_session::{RedisRevocations, SessionLayer};
///
/// # async fn app() -> Result<(), Box<dyn std::error::Error>> {
/// let revocations = RedisRevocations::open("redis://127.0.0.1:6379/")?
///     .timeout(Duration::from_millis(50));
/// let layer = SessionLayer::new([7; 32])
///     .max_lifetime(Duration::from_secs(30 * 86_400))
///     .revocation(revocations);
/// layer.validate()?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisRevocations<C = ConnectionManager> {
    connection: C,
    prefix: Arc<str>,
    timeout: Duration,
    revoke_subject: Arc<Script>,
}

impl<C> fmt::Debug for RedisRevocations<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRevocations")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisRevocations<ConnectionManager> {
    /// Revocations in the Redis at `url` (`redis://host:port/db`), through
    /// a [`ConnectionManager`] that reconnects by itself. The connection is
    /// made on first use, so the app starts even while Redis is down.
    ///
    /// # Errors
    ///
    /// [`RevocationError::Store`] if `url` is not a Redis URL, or if there
    /// is no Tokio runtime to run the connection on.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower_cookie_session::RedisRevocations;
    ///
    /// // Outside a Tokio runtime there is nothing to run the connection on.
    /// assert!(RedisRevocations::open("redis://127.0.0.1:6379/").is_err());
    /// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// runtime.block_on(async {
    ///     assert!(RedisRevocations::open("redis://127.0.0.1:6379/").is_ok());
    ///     assert!(RedisRevocations::open("not a url").is_err());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn open(url: &str) -> Result<Self, RevocationError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(RevocationError::Store(
                "RedisRevocations::open needs a Tokio runtime: call it from async code".into(),
            ));
        }
        let client = Client::open(url).map_err(store_error)?;
        // Each call's time is bounded by `timeout`, whatever the manager does.
        let config = ConnectionManagerConfig::new();
        let manager =
            ConnectionManager::new_lazy_with_config(client, config).map_err(store_error)?;
        Ok(Self::new(manager))
    }
}

impl<C> RedisRevocations<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// Revocations through a connection of your own: a
    /// [`ConnectionManager`] configured your way, or a Redis Cluster's
    /// connection (the `redis` crate's `cluster-async` feature).
    ///
    /// ```no_run
    /// # async fn app() -> redis::RedisResult<()> {
    /// let client = redis::Client::open("redis://127.0.0.1/")?;
    /// let manager = redis::aio::ConnectionManager::new(client).await?;
    /// let revocations = tower_cookie_session::RedisRevocations::new(manager);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(connection: C) -> Self {
        Self {
            connection,
            prefix: Arc::from("tower-cookie-session:"),
            timeout: DEFAULT_TIMEOUT,
            revoke_subject: Arc::new(Script::new(REVOKE_SUBJECT)),
        }
    }

    /// The longest a call may take (100 ms unless set): every request that
    /// carries a session cookie waits for one call.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tower_cookie_session::RevocationError> {
    /// let revocations = tower_cookie_session::RedisRevocations::open("redis://127.0.0.1/")?
    ///     .timeout(Duration::from_millis(20));
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The prefix of every key (`tower-cookie-session:` unless set), to
    /// share one Redis between apps.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tower_cookie_session::RevocationError> {
    /// let revocations = tower_cookie_session::RedisRevocations::open("redis://127.0.0.1/")?
    ///     .prefix("shop:revoked:");
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Arc::from(prefix.into());
        self
    }

    fn subject_key(&self, subject: &str) -> String {
        format!("{}sub:{{{subject}}}", self.prefix)
    }

    fn id_key(&self, id: &str, subject: Option<&str>) -> String {
        format!("{}id:{{{}}}:{id}", self.prefix, subject.unwrap_or_default())
    }

    /// Runs `call` on a clone of the connection, within the time limit.
    fn call<T, F>(&self, call: impl FnOnce(C) -> F) -> RevocationFuture<T>
    where
        T: Send + 'static,
        F: Future<Output = redis::RedisResult<T>> + Send + 'static,
    {
        let (limit, future) = (self.timeout, call(self.connection.clone()));
        Box::pin(async move {
            match tokio::time::timeout(limit, future).await {
                Ok(result) => result.map_err(store_error),
                Err(_) => Err(RevocationError::TimedOut(limit)),
            }
        })
    }
}

impl<C> Revocations for RedisRevocations<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    fn is_revoked(&self, session: &SessionIdentity) -> RevocationFuture<bool> {
        let subject = session.subject.as_deref();
        let id_key = session.id.as_deref().map(|id| self.id_key(id, subject));
        let subject_key = subject.map(|s| self.subject_key(s));
        let keys: Vec<&String> = id_key.iter().chain(&subject_key).collect();
        if keys.is_empty() {
            return Box::pin(async { Ok(false) });
        }
        let mut mget = redis::cmd("MGET");
        mget.arg(keys);
        let issued = session.issued;
        let has_id = id_key.is_some();
        self.call(move |mut connection| async move {
            let values: Vec<Option<String>> = mget.query_async(&mut connection).await?;
            let mut values = values.into_iter();
            let id_revoked = has_id && values.next().flatten().is_some();
            let subject_revoked = values
                .next()
                .flatten()
                .and_then(|at| at.parse::<u64>().ok())
                .is_some_and(|at| issued_before(issued, at));
            Ok(id_revoked || subject_revoked)
        })
    }

    fn revoke_session(&self, session: &SessionIdentity, ttl: Duration) -> RevocationFuture<()> {
        let Some(id) = &session.id else {
            return Box::pin(async { Ok(()) });
        };
        let mut set = redis::cmd("SET");
        // NX: the first record of a session lives longest (its lifetime
        // counts from its creation), so a second one changes nothing.
        set.arg(self.id_key(id, session.subject.as_deref()))
            .arg(1)
            .arg("PX")
            .arg(ttl_millis(ttl))
            .arg("NX");
        self.call(move |mut connection| async move {
            let _: Option<String> = set.query_async(&mut connection).await?;
            Ok(())
        })
    }

    fn revoke_subject(
        &self,
        subject: &str,
        at: std::time::SystemTime,
        ttl: Duration,
    ) -> RevocationFuture<()> {
        let key = self.subject_key(subject);
        let script = Arc::clone(&self.revoke_subject);
        let (at, ttl) = (millis(at), ttl_millis(ttl));
        self.call(move |mut connection| async move {
            let _: i64 = script
                .key(key)
                .arg(at)
                .arg(ttl)
                .invoke_async(&mut connection)
                .await?;
            Ok(())
        })
    }
}

/// A record's life in milliseconds, at least one (Redis refuses zero).
fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn store_error(e: redis::RedisError) -> RevocationError {
    RevocationError::Store(Box::new(e))
}
