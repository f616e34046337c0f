//! [`Session`]: the handle a handler uses, and its dict API. Pyramid's
//! attributes (`is_new`, `created`, `changed`, `invalidate`...), flash
//! queues, CSRF tokens, the per-session lifetime and the revocation id
//! and subject are in [`attributes`], [`flash`], [`csrf`], [`expiry`] and
//! [`revocation`]; the session's
//! life in a request (loading the cookie, the timeout rules, what to
//! write) is [`lifecycle`], and the request's `Cookie` headers it reads
//! are [`cookies`].
//!
//! The session knows nothing of tower: it is given the request's `Cookie`
//! header values and decodes them on first use, and it tells the response
//! future what to write back.

use std::{
    fmt,
    sync::{
        Arc, Mutex, MutexGuard, OnceLock, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
};

use serde::{Serialize, de::DeserializeOwned};

use crate::{config::Config, error::SessionError};

mod attributes;
mod cookies;
mod csrf;
mod expiry;
mod flash;
mod lifecycle;
mod revocation;
mod same_json;

pub use expiry::Expiry;
pub(crate) use lifecycle::CookieAction;
pub use lifecycle::MAX_CLOCK_SKEW;
use lifecycle::{Loaded, Stage};

/// A session: a small JSON dictionary kept in a signed cookie.
///
/// The [`SessionLayer`](crate::SessionLayer) puts one into each request's
/// extensions; with the `axum` feature it is also an extractor. Cloning is
/// cheap and every clone is the same session. All methods are synchronous.
///
/// Nothing is decoded until the first method call, so handlers that never
/// touch the session cost nothing. Values are stored as JSON; a method
/// counts as a change only when the state really changes, and only then
/// (or when the session is new and holds something, was verified by a fallback secret, or is
/// due for reissue) is the cookie written.
///
/// ```
/// use tower_cookie_session::Session;
///
/// let session = Session::detached();
/// session.insert("user", "ada")?;
/// let user: Option<String> = session.get("user")?;
/// assert_eq!(user.as_deref(), Some("ada"));
/// # Ok::<(), tower_cookie_session::SessionError>(())
/// ```
///
/// `get` returns a copy: to change a stored value, read it, change it and
/// `insert` it again. [`changed`](Self::changed) only forces the cookie to
/// be rewritten.
#[derive(Clone)]
pub struct Session {
    shared: Arc<Shared>,
}

/// What every clone of one request's session shares.
struct Shared {
    config: Arc<Config>,
    /// The cookies until first use, then the session they held.
    stage: Mutex<Stage>,
    /// Set on the handler's first use, under the lock: the response of a
    /// request that never used the session reads this, and takes no lock.
    /// (The layer's revocation check loads the session without using it.)
    used: AtomicBool,
}

impl Session {
    #[inline]
    pub(crate) fn new(config: Arc<Config>, headers: &http::HeaderMap) -> Self {
        Self {
            shared: Arc::new(Shared {
                config,
                stage: Mutex::new(Stage::new(headers)),
                used: AtomicBool::new(false),
            }),
        }
    }

    /// A new, empty session that belongs to no request, for testing
    /// handlers and for examples. It follows the same rules, with the size
    /// limit of the default format ([`Format::signed_serialize`]), but
    /// nothing ever writes it to a cookie.
    ///
    /// [`Format::signed_serialize`]: crate::Format::signed_serialize
    ///
    /// ```
    /// use tower_cookie_session::Session;
    ///
    /// let session = Session::detached();
    /// assert!(session.is_new());
    /// assert!(session.is_empty());
    /// ```
    #[must_use]
    pub fn detached() -> Self {
        static CONFIG: OnceLock<Arc<Config>> = OnceLock::new();
        let config = CONFIG.get_or_init(|| Arc::new(Config::new(&[0; crate::MIN_SECRET_LEN])));
        Self::new(Arc::clone(config), &http::HeaderMap::new())
    }

    fn lock(&self) -> MutexGuard<'_, Stage> {
        // Only this module's code runs under the lock, and it does not
        // panic; a poisoned lock still holds consistent data.
        self.shared
            .stage
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the session, loading it on first use.
    fn with<R>(&self, f: impl FnOnce(&mut Loaded) -> R) -> R {
        self.peek(|loaded| {
            self.shared.used.store(true, Ordering::Relaxed);
            f(loaded)
        })
    }

    /// [`with`](Self::with), for the layer: not a use by the handler.
    fn peek<R>(&self, f: impl FnOnce(&mut Loaded) -> R) -> R {
        f(self.lock().load(&self.shared.config))
    }

    /// Whether a handler used the session.
    #[inline]
    pub(crate) fn used(&self) -> bool {
        self.shared.used.load(Ordering::Relaxed)
    }

    /// Stores the JSON text `raw` under `key`, within the size limit.
    fn set(&self, key: String, raw: String) -> Result<(), SessionError> {
        let config = &self.shared.config;
        self.with(|loaded| loaded.set(config, key, raw))
    }

    pub(crate) fn config(&self) -> &Config {
        &self.shared.config
    }

    /// What the response should do with the cookie; `None` if no handler
    /// used the session. With `may_write` false (a server error without
    /// `cookie_on_exception`) the answer is at most `Keep`.
    #[inline]
    pub(crate) fn cookie_action(&self, may_write: bool) -> Option<CookieAction> {
        // The handler has returned: its writes happened before this.
        if !self.used() {
            return None;
        }
        self.decide(may_write)
    }

    fn decide(&self, may_write: bool) -> Option<CookieAction> {
        let mut guard = self.lock();
        let loaded = guard.loaded()?;
        Some(if may_write {
            loaded.decide(&self.shared.config)
        } else {
            CookieAction::Keep
        })
    }

    /// The value stored under `key`, deserialized as `T`.
    ///
    /// # Errors
    ///
    /// [`SessionError::Deserialize`] if the stored JSON does not fit `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.insert("count", 3)?;
    /// assert_eq!(session.get::<u32>("count")?, Some(3));
    /// assert_eq!(session.get::<u32>("missing")?, None);
    /// assert!(session.get::<String>("count").is_err());
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        self.with(|loaded| loaded.state.get(key).map(|raw| from_raw(raw)).transpose())
    }

    /// Stores `value` under `key`, replacing any earlier value.
    ///
    /// # Errors
    ///
    /// [`SessionError::Serialize`] if `value` cannot be JSON;
    /// [`SessionError::TooLarge`] if the cookie would exceed
    /// [`MAX_COOKIE_VALUE_LEN`](crate::MAX_COOKIE_VALUE_LEN). On error the session is left as it was.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.insert("cart", vec!["apple", "pear"])?;
    /// assert_eq!(session.get::<Vec<String>>("cart")?.unwrap().len(), 2);
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    pub fn insert<T: Serialize>(
        &self,
        key: impl Into<String>,
        value: T,
    ) -> Result<(), SessionError> {
        let raw = to_raw(&value)?;
        self.set(key.into(), raw)
    }

    /// Removes `key` and returns its value, deserialized as `T`.
    ///
    /// # Errors
    ///
    /// [`SessionError::Deserialize`] if the stored JSON does not fit `T`;
    /// the value then stays in the session.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.insert("next", "/account")?;
    /// assert_eq!(session.remove::<String>("next")?.as_deref(), Some("/account"));
    /// assert_eq!(session.remove::<String>("next")?, None);
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    pub fn remove<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        self.with(|loaded| {
            let Some(raw) = loaded.state.get(key) else {
                return Ok(None);
            };
            let value = from_raw(raw)?;
            loaded.state.remove(key);
            loaded.changed = true;
            Ok(Some(value))
        })
    }

    /// The value stored under `key` as a [`serde_json::Value`], whatever
    /// its JSON holds; the same as `get::<serde_json::Value>(key)`.
    ///
    /// # Errors
    ///
    /// [`SessionError::Deserialize`] if the JSON cannot be read as a
    /// `Value`: a number beyond `f64`, or nesting deeper than 128.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.insert("prefs", serde_json::json!({"theme": "dark"}))?;
    /// assert_eq!(session.get_value("prefs")?.unwrap()["theme"], "dark");
    /// assert_eq!(session.get_value("missing")?, None);
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    pub fn get_value(&self, key: &str) -> Result<Option<serde_json::Value>, SessionError> {
        self.get(key)
    }

    /// Whether `key` is in the session.
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.insert("a", 1)?;
    /// assert!(session.contains_key("a"));
    /// assert!(!session.contains_key("b"));
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    #[must_use]
    pub fn contains_key(&self, key: &str) -> bool {
        self.with(|loaded| loaded.state.contains_key(key))
    }

    /// The keys in the session, in sorted order (flash queues and the CSRF
    /// token included).
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.insert("b", 1)?;
    /// session.insert("a", 2)?;
    /// assert_eq!(session.keys(), ["a", "b"]);
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    #[must_use]
    pub fn keys(&self) -> Vec<String> {
        self.with(|loaded| loaded.state.keys().map(str::to_owned).collect())
    }

    /// How many keys the session holds.
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.insert("a", 1)?;
    /// assert_eq!(session.len(), 1);
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.with(|loaded| loaded.state.len())
    }

    /// Whether the session holds no keys.
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// assert!(Session::detached().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.with(|loaded| loaded.state.is_empty())
    }

    /// Removes every key. The session keeps its identity (`created`); use
    /// [`invalidate`](Self::invalidate) to end it.
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.insert("a", 1)?;
    /// session.clear();
    /// assert!(session.is_empty());
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    pub fn clear(&self) {
        self.with(|loaded| {
            if !loaded.state.is_empty() {
                loaded.state.clear();
                loaded.changed = true;
            }
        });
    }
}

impl fmt::Debug for Session {
    /// Shows the state of the session's life, never its values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut guard = self.lock();
        let mut d = f.debug_struct("Session");
        match guard.loaded() {
            None => d.field("loaded", &false),
            Some(loaded) => d
                .field("loaded", &true)
                .field("new", &loaded.new)
                .field("changed", &loaded.changed)
                .field("keys", &loaded.state.len()),
        };
        d.finish_non_exhaustive()
    }
}

/// `value` as JSON text.
fn to_raw<T: Serialize + ?Sized>(value: &T) -> Result<String, SessionError> {
    serde_json::to_string(value).map_err(SessionError::Serialize)
}

fn from_raw<T: DeserializeOwned>(raw: &str) -> Result<T, SessionError> {
    serde_json::from_str(raw).map_err(SessionError::Deserialize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MAX_COOKIE_VALUE_LEN;

    #[test]
    fn equal_insert_is_not_a_change() {
        let s = Session::detached();
        s.insert("a", 1).unwrap();
        s.with(|d| d.changed = false);
        s.insert("a", 1).unwrap();
        assert!(!s.with(|d| d.changed));
        s.insert("a", 2).unwrap();
        assert!(s.with(|d| d.changed));
    }

    #[test]
    fn no_op_mutations_are_not_changes() {
        let s = Session::detached();
        s.clear();
        assert_eq!(s.remove::<u8>("x").unwrap(), None);
        assert!(s.pop_flash::<String>("").unwrap().is_empty());
        assert!(!s.check_csrf_token("x"));
        assert!(!s.with(|d| d.changed));
        assert!(s.is_empty(), "check_csrf_token stores nothing");
    }

    #[test]
    fn too_large_leaves_the_session_as_it_was() {
        let s = Session::detached();
        s.insert("a", "small").unwrap();
        let err = s.insert("a", "x".repeat(3100)).unwrap_err();
        assert!(matches!(err, SessionError::TooLarge { size, limit: 4064 } if size > 4064));
        assert_eq!(s.get::<String>("a").unwrap().as_deref(), Some("small"));
        let err = s.flash("y".repeat(3100)).unwrap_err();
        assert!(matches!(err, SessionError::TooLarge { .. }));
        assert!(!s.contains_key("_f_"));
    }

    /// A session of a layer with revocation on, so that every write
    /// carries an id.
    fn with_revocation() -> Session {
        let config = Config {
            revocation: Some(Arc::new(crate::MemoryRevocations::new())),
            max_lifetime: Some(std::time::Duration::from_secs(3600)),
            ..Config::new(&[0; crate::MIN_SECRET_LEN])
        };
        Session::new(Arc::new(config), &http::HeaderMap::new())
    }

    #[test]
    fn too_large_with_revocation_rolls_back_the_value_and_the_id() {
        // A new key that sorts before `_id_`: nothing is left.
        let s = with_revocation();
        assert!(s.insert("A", "x".repeat(4000)).is_err());
        assert!(s.is_empty(), "{:?}", s.keys());
        assert_eq!(s.id(), None);
        // Replacing a stored value: the old value and the id stay.
        let s = with_revocation();
        s.insert("k", "small").unwrap();
        let id = s.id().unwrap();
        assert!(s.insert("k", "x".repeat(4000)).is_err());
        assert_eq!(s.get::<String>("k").unwrap().as_deref(), Some("small"));
        assert_eq!(s.id().as_deref(), Some(id.as_str()));
        assert_eq!(s.keys().len(), 2);
        // A value stored under `_id_` itself is a value like any other.
        let s = with_revocation();
        assert!(s.insert("_id_", "x".repeat(4000)).is_err());
        assert!(s.is_empty(), "{:?}", s.keys());
    }

    #[test]
    fn the_size_limit_is_exact() {
        let s = Session::detached();
        // Find the longest string that fits, then check one more byte fails.
        let (mut lo, mut hi) = (0usize, 4064usize);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if s.insert("k", "x".repeat(mid)).is_ok() {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        s.insert("k", "x".repeat(lo)).unwrap();
        let Some(CookieAction::Write { pair, .. }) = s.cookie_action(true) else {
            panic!("new session writes")
        };
        let v = pair.strip_prefix(b"session=").unwrap();
        assert!(
            v.len() <= MAX_COOKIE_VALUE_LEN && v.len() > MAX_COOKIE_VALUE_LEN - 4,
            "{}",
            v.len()
        );
        assert!(s.insert("k", "x".repeat(lo + 1)).is_err());
    }

    #[test]
    fn failed_typed_remove_keeps_the_value() {
        let s = Session::detached();
        s.insert("n", "not a number").unwrap();
        assert!(s.remove::<u32>("n").is_err());
        assert!(s.contains_key("n"));
        s.flash("text").unwrap();
        assert!(s.pop_flash::<u32>("").is_err());
        assert_eq!(s.peek_flash::<String>("").unwrap(), ["text"]);
    }

    #[test]
    fn the_response_writes_the_state_as_it_is_not_as_the_last_insert_left_it() {
        let s = Session::detached();
        s.insert("a", 1).unwrap();
        s.insert("b", 2).unwrap();
        assert_eq!(s.remove::<u8>("a").unwrap(), Some(1));
        let token = s.get_csrf_token();
        let Some(CookieAction::Write { pair, .. }) = s.cookie_action(true) else {
            panic!("changed, so written")
        };
        let value = std::str::from_utf8(&pair).unwrap().strip_prefix("session=");
        let (_, _, state): (u64, u64, serde_json::Value) =
            crate::signed_deserialize(value.unwrap(), [0; crate::MIN_SECRET_LEN]).unwrap();
        assert_eq!(state, serde_json::json!({"_csrft_": token, "b": 2}));
    }

    #[test]
    fn debug_shows_no_values() {
        let s = Session::detached();
        s.insert("password", "hunter2").unwrap();
        let d = format!("{s:?}");
        assert!(!d.contains("hunter2") && !d.contains("password"), "{d}");
    }
}
