//! [`Session`]: the handle a handler uses, with Pyramid's dict, flash and
//! CSRF API.
//!
//! The session knows nothing of tower: it is given the request's `Cookie`
//! header values and decodes them on first use, and it tells the response
//! future what to write back.

use std::{
    borrow::Cow,
    collections::BTreeMap,
    fmt,
    sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use http::HeaderValue;
use serde::{Serialize, de::DeserializeOwned};
use serde_json::value::RawValue;
use subtle::ConstantTimeEq as _;

use crate::{
    codec::{
        Envelope, MAX_COOKIE_VALUE_LEN,
        payload::{self, State},
        signed,
    },
    config::Config,
    error::{DecodeError, SessionError},
};

const CSRF_KEY: &str = "_csrft_";
const FLASH_PREFIX: &str = "_f_";

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
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<Config>,
    cookies: RequestCookies,
    /// `None` until first use.
    data: Mutex<Option<Data>>,
}

/// The request's `Cookie` header values, kept undecoded.
enum RequestCookies {
    None,
    One(HeaderValue),
    Many(Vec<HeaderValue>),
}

impl RequestCookies {
    fn iter(&self) -> impl Iterator<Item = &HeaderValue> {
        let (one, many): (Option<&HeaderValue>, &[HeaderValue]) = match self {
            Self::None => (None, &[]),
            Self::One(v) => (Some(v), &[]),
            Self::Many(v) => (None, v),
        };
        one.into_iter().chain(many)
    }
}

/// The decoded session.
#[derive(Debug)]
struct Data {
    /// When this request first used the session, Unix seconds.
    now: f64,
    accessed: f64,
    created: f64,
    state: State,
    new: bool,
    changed: bool,
    invalidated: bool,
    /// Verified by a fallback secret: write it again with the primary one.
    resign: bool,
    /// The request carried a cookie of our name, valid or not.
    had_cookie: bool,
    /// The configured format's, for the size limit.
    envelope: Envelope,
}

/// What the response should do with the cookie.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CookieAction {
    /// Nothing to write.
    Keep,
    /// Write this value.
    Write(String),
    /// Expire the cookie.
    Remove,
}

impl Session {
    pub(crate) fn new(config: Arc<Config>, headers: &http::HeaderMap) -> Self {
        let mut values = headers.get_all(http::header::COOKIE).iter();
        let cookies = match (values.next(), values.next()) {
            (None, _) => RequestCookies::None,
            (Some(one), None) => RequestCookies::One(one.clone()),
            (Some(first), Some(second)) => {
                RequestCookies::Many([first, second].into_iter().chain(values).cloned().collect())
            }
        };
        Self {
            inner: Arc::new(Inner {
                config,
                cookies,
                data: Mutex::new(None),
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

    fn lock(&self) -> MutexGuard<'_, Option<Data>> {
        // Only this module's code runs under the lock, and it does not
        // panic; a poisoned lock still holds consistent data.
        self.inner
            .data
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn with<R>(&self, f: impl FnOnce(&mut Data) -> R) -> R {
        let mut guard = self.lock();
        let data = guard.get_or_insert_with(|| self.load());
        f(data)
    }

    /// Finds the first cookie of our name that verifies and parses.
    fn load(&self) -> Data {
        let config = &self.inner.config;
        let now = unix_now();
        let mut had_cookie = false;
        let mut refused = Refused::default();
        let values = self
            .inner
            .cookies
            .iter()
            .flat_map(|header| cookie_values(header.as_bytes(), config.cookie_name.as_bytes()));
        for value in values {
            had_cookie = true;
            // Our values are ASCII; anything else fails to verify below.
            let value = String::from_utf8_lossy(value);
            let decoded = config
                .keys
                .verify(&value)
                .and_then(|(bytes, index)| Ok((payload::decode(bytes)?, index)));
            let (payload, index) = match decoded {
                Ok(decoded) => decoded,
                Err(why) => {
                    refused.add(why);
                    continue;
                }
            };
            refused.report(config);
            // The first verified cookie is the session, expired or not,
            // whichever `Cookie` header line the others are on.
            return match expired(config, now, payload.accessed, payload.created) {
                Some(_why) => {
                    #[cfg(feature = "tracing")]
                    tracing::debug!(cookie = %config.cookie_name, why = _why, "session cookie expired; starting fresh");
                    Data::fresh(now, had_cookie, config.keys.envelope())
                }
                // Within the allowed skew, a time ahead of ours is taken as
                // now, so that no future time is written back.
                None => Data {
                    now,
                    accessed: payload.accessed.min(now),
                    created: payload.created.min(now),
                    state: payload.state,
                    new: false,
                    changed: false,
                    invalidated: false,
                    resign: index > 0,
                    had_cookie,
                    envelope: config.keys.envelope(),
                },
            };
        }
        refused.report(config);
        Data::fresh(now, had_cookie, config.keys.envelope())
    }

    pub(crate) fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Whether a handler used the session during this request.
    pub(crate) fn was_used(&self) -> bool {
        self.lock().is_some()
    }

    /// What the response should do with the cookie: remove it after
    /// `invalidate` (if one was sent); write it when changed, new and
    /// holding something, verified by a fallback secret or due for
    /// reissue, and only if it fits.
    pub(crate) fn cookie_action(&self) -> CookieAction {
        let guard = self.lock();
        let Some(data) = guard.as_ref() else {
            return CookieAction::Keep;
        };
        let config = &self.inner.config;
        if data.invalidated && data.state.is_empty() {
            return if data.had_cookie {
                CookieAction::Remove
            } else {
                CookieAction::Keep
            };
        }
        let reissue_due = config
            .reissue_time()
            .is_some_and(|r| data.now - data.accessed >= r.as_secs_f64());
        // A new session is written once it holds something: reading one
        // sets no cookie (none before there is something to keep, and
        // anonymous pages stay cacheable); `changed()` still forces it.
        let new_and_kept = data.new && !data.state.is_empty();
        if !(data.changed || new_and_kept || data.resign || reissue_due) {
            return CookieAction::Keep;
        }
        let (accessed, created) = data.timestamps();
        let mut json = Vec::new();
        payload::encode_into(accessed, created, &data.state, &mut json);
        let size = config.keys.envelope().value_len(&json);
        if size > MAX_COOKIE_VALUE_LEN {
            #[cfg(feature = "tracing")]
            tracing::error!(
                cookie = %config.cookie_name,
                size,
                limit = MAX_COOKIE_VALUE_LEN,
                "session no longer fits its cookie; the previous cookie is kept"
            );
            return CookieAction::Keep;
        }
        let mut value = String::new();
        config.keys.sign_into(&json, &mut value);
        CookieAction::Write(value)
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
        self.with(|data| data.state.get(key).map(|raw| from_raw(raw)).transpose())
    }

    /// Stores `value` under `key`, replacing any earlier value.
    ///
    /// # Errors
    ///
    /// [`SessionError::Serialize`] if `value` cannot be JSON;
    /// [`SessionError::TooLarge`] if the cookie would exceed
    /// [`MAX_COOKIE_VALUE_LEN`]. On error the session is left as it was.
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
        self.with(|data| data.set(key.into(), raw))
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
        self.with(|data| {
            let Some(raw) = data.state.get(key) else {
                return Ok(None);
            };
            let value = from_raw(raw)?;
            data.state.remove(key);
            data.changed = true;
            Ok(Some(value))
        })
    }

    /// The value stored under `key` as a [`serde_json::Value`]; `None` if
    /// `key` is absent or its JSON cannot be read as a `Value` (a number
    /// beyond `f64`, nesting deeper than 128). Use `get::<serde_json::Value>`
    /// to see the error.
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.insert("prefs", serde_json::json!({"theme": "dark"}))?;
    /// assert_eq!(session.get_value("prefs").unwrap()["theme"], "dark");
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    #[must_use]
    pub fn get_value(&self, key: &str) -> Option<serde_json::Value> {
        self.get(key).ok().flatten()
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
        self.with(|data| data.state.contains_key(key))
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
        self.with(|data| data.state.keys().map(str::to_owned).collect())
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
        self.with(|data| data.state.len())
    }

    /// Whether the session holds no keys.
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// assert!(Session::detached().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.with(|data| data.state.is_empty())
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
        self.with(|data| {
            if !data.state.is_empty() {
                data.state.clear();
                data.changed = true;
            }
        });
    }

    /// Whether the session was created by this request: there was no
    /// valid, unexpired cookie, or it was invalidated.
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// assert!(Session::detached().is_new());
    /// ```
    #[must_use]
    pub fn is_new(&self) -> bool {
        self.with(|data| data.new)
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
        self.with(|data| system_time(data.created))
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
        self.with(|data| system_time(data.accessed))
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
        self.with(|data| data.changed = true);
    }

    /// Ends the session: every key is dropped and, unless something is
    /// inserted afterwards, the response removes the session cookie
    /// (`Max-Age=0`, same attributes; sent only if the request carried
    /// one). Anything inserted afterwards in the same request starts a
    /// brand-new session with a fresh `created` time. Call it at login and
    /// logout, so that a session planted in the browser before login does
    /// not carry over.
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
        self.with(|data| {
            *data = Data {
                invalidated: true,
                ..Data::fresh(data.now, data.had_cookie, data.envelope)
            };
        });
    }

    /// Appends `message` to the default flash queue (`""`), duplicates
    /// allowed. Same as `flash_to("", message, true)`.
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert).
    ///
    /// # Examples
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.flash("Saved.")?;
    /// assert_eq!(session.pop_flash::<String>("")?, ["Saved."]);
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    pub fn flash<T: Serialize>(&self, message: T) -> Result<(), SessionError> {
        self.flash_to("", message, true)
    }

    /// Appends `message` to the flash queue `queue` (stored under
    /// `"_f_" + queue`, as Pyramid does). With `allow_duplicate == false`,
    /// a message already queued is not added again.
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert); also [`SessionError::Deserialize`] if
    /// the key holds something other than a list.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.flash_to("error", "Try again.", false)?;
    /// session.flash_to("error", "Try again.", false)?;
    /// assert_eq!(session.peek_flash::<String>("error")?.len(), 1);
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    pub fn flash_to<T: Serialize>(
        &self,
        queue: &str,
        message: T,
        allow_duplicate: bool,
    ) -> Result<(), SessionError> {
        let message = serde_json::value::to_raw_value(&message).map_err(SessionError::Serialize)?;
        let key = flash_key(queue);
        self.with(|data| {
            // Queued messages stay as their JSON text, so that what another
            // app queued (a Python integer beyond 64 bits, say) is kept as
            // it was.
            let mut messages: Vec<Box<RawValue>> = match data.state.get(&key) {
                Some(raw) => from_raw(raw)?,
                None => Vec::new(),
            };
            if !allow_duplicate && messages.iter().any(|m| same_json(m.get(), message.get())) {
                return Ok(());
            }
            messages.push(message);
            data.set(key, to_raw(&messages)?)
        })
    }

    /// Removes and returns the messages of flash queue `queue`.
    ///
    /// # Errors
    ///
    /// [`SessionError::Deserialize`] if the messages do not fit `T`; they
    /// then stay queued.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.flash("one")?;
    /// session.flash("two")?;
    /// assert_eq!(session.pop_flash::<String>("")?, ["one", "two"]);
    /// assert!(session.pop_flash::<String>("")?.is_empty());
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    pub fn pop_flash<T: DeserializeOwned>(&self, queue: &str) -> Result<Vec<T>, SessionError> {
        Ok(self.remove(&flash_key(queue))?.unwrap_or_default())
    }

    /// Returns the messages of flash queue `queue`, leaving them queued.
    ///
    /// # Errors
    ///
    /// [`SessionError::Deserialize`] if the messages do not fit `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.flash("hello")?;
    /// assert_eq!(session.peek_flash::<String>("")?, ["hello"]);
    /// assert_eq!(session.peek_flash::<String>("")?, ["hello"]);
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    pub fn peek_flash<T: DeserializeOwned>(&self, queue: &str) -> Result<Vec<T>, SessionError> {
        Ok(self.get(&flash_key(queue))?.unwrap_or_default())
    }

    /// Makes, stores and returns a new CSRF token: 40 lowercase hex
    /// characters from 20 random bytes, under `"_csrft_"`.
    ///
    /// The token is stored without the size check of
    /// [`insert`](Self::insert): if it pushes the session over
    /// [`MAX_COOKIE_VALUE_LEN`], the response keeps the previous cookie
    /// (reported by the `tracing` feature).
    ///
    /// # Panics
    ///
    /// If the operating system's random number generator fails, which no
    /// supported platform does once booted.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// let token = session.new_csrf_token();
    /// assert_eq!(token.len(), 40);
    /// assert_eq!(session.get_csrf_token(), token);
    /// ```
    #[must_use = "the token is what the form must send back"]
    pub fn new_csrf_token(&self) -> String {
        self.with(Data::new_csrf_token)
    }

    /// The session's CSRF token, made (as by
    /// [`new_csrf_token`](Self::new_csrf_token)) on first use.
    ///
    /// # Panics
    ///
    /// As [`new_csrf_token`](Self::new_csrf_token).
    ///
    /// # Examples
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// let token = session.get_csrf_token();
    /// assert_eq!(session.get_csrf_token(), token, "stable within a session");
    /// ```
    #[must_use = "the token is what the form must send back"]
    pub fn get_csrf_token(&self) -> String {
        // One lock for the look-up and the store, so that clones of the
        // session on other threads cannot each make a different token.
        self.with(|data| {
            if let Some(Ok(token)) = data.state.get(CSRF_KEY).map(from_raw::<String>) {
                return token;
            }
            data.new_csrf_token()
        })
    }

    /// Whether `token` equals the session's CSRF token, compared in
    /// constant time. Without a stored token it returns `false` and stores
    /// nothing.
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// assert!(!session.check_csrf_token("anything"));
    /// let token = session.get_csrf_token();
    /// assert!(session.check_csrf_token(&token));
    /// assert!(!session.check_csrf_token("0000000000000000000000000000000000000000"));
    /// ```
    #[must_use]
    pub fn check_csrf_token(&self, token: &str) -> bool {
        match self.get::<String>(CSRF_KEY) {
            Ok(Some(stored)) => bool::from(stored.as_bytes().ct_eq(token.as_bytes())),
            _ => false,
        }
    }
}

impl fmt::Debug for Session {
    /// Shows the state of the session's life, never its values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guard = self.lock();
        let mut d = f.debug_struct("Session");
        match guard.as_ref() {
            None => d.field("loaded", &false),
            Some(data) => d
                .field("loaded", &true)
                .field("new", &data.new)
                .field("changed", &data.changed)
                .field("keys", &data.state.len()),
        };
        d.finish_non_exhaustive()
    }
}

impl Data {
    fn fresh(now: f64, had_cookie: bool, envelope: Envelope) -> Self {
        Self {
            now,
            accessed: now,
            created: now,
            state: State::new(),
            new: true,
            changed: false,
            invalidated: false,
            resign: false,
            had_cookie,
            envelope,
        }
    }

    /// `accessed` and `created` as they are written: whole seconds.
    fn timestamps(&self) -> (u64, u64) {
        // Both are finite and within 0..=year 9999 (see payload::decode),
        // so the casts cannot saturate.
        (self.now as u64, self.created as u64)
    }

    /// Stores `raw` under `key` unless the cookie would grow too large.
    fn set(&mut self, key: String, raw: String) -> Result<(), SessionError> {
        let old = self.state.get(&key);
        if old.is_some_and(|old| same_json(old, &raw)) {
            return Ok(());
        }
        let (accessed, created) = self.timestamps();
        let size = self
            .envelope
            .session_len_with(accessed, created, &self.state, &key, old, &raw);
        if size > MAX_COOKIE_VALUE_LEN {
            return Err(SessionError::TooLarge {
                size,
                limit: MAX_COOKIE_VALUE_LEN,
            });
        }
        self.state.insert(key, raw);
        self.changed = true;
        Ok(())
    }

    /// Stores and returns a new CSRF token. A token is 42 bytes of JSON;
    /// if it no longer fits, the response keeps the old cookie and reports
    /// it (see `cookie_action`).
    fn new_csrf_token(&mut self) -> String {
        let token = random_hex_token();
        self.state.insert(CSRF_KEY.to_owned(), string_raw(&token));
        self.changed = true;
        token
    }
}

/// Whether two JSON texts hold the same value: equal text, or equal once
/// read (values read from a cookie keep their text, which Python's
/// `json.dumps` writes with spaces). Numbers are equal only when exactly
/// equal: two integers beyond 64 bits that round to one float differ, as
/// they do in Python. Anything that does not parse differs, which at worst
/// writes a cookie that was not needed.
fn same_json(a: &str, b: &str) -> bool {
    a == b || same_value(a.trim(), b.trim())
}

/// [`same_json`] of two values without surrounding whitespace, compared
/// level by level on their text, so that no number passes through `f64`
/// unless it is written as a float.
fn same_value(a: &str, b: &str) -> bool {
    match (a.as_bytes().first(), b.as_bytes().first()) {
        (Some(b'{'), Some(b'{')) => {
            match (
                serde_json::from_str::<BTreeMap<Cow<'_, str>, &RawValue>>(a),
                serde_json::from_str::<BTreeMap<Cow<'_, str>, &RawValue>>(b),
            ) {
                (Ok(a), Ok(b)) => {
                    a.len() == b.len()
                        && a.iter()
                            .zip(&b)
                            .all(|((ka, va), (kb, vb))| ka == kb && same_json(va.get(), vb.get()))
                }
                _ => false,
            }
        }
        (Some(b'['), Some(b'[')) => {
            match (
                serde_json::from_str::<Vec<&RawValue>>(a),
                serde_json::from_str::<Vec<&RawValue>>(b),
            ) {
                (Ok(a), Ok(b)) => {
                    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| same_json(x.get(), y.get()))
                }
                _ => false,
            }
        }
        (Some(b'"'), Some(b'"')) => matches!(
            (
                serde_json::from_str::<Cow<'_, str>>(a),
                serde_json::from_str::<Cow<'_, str>>(b),
            ),
            (Ok(a), Ok(b)) if a == b
        ),
        (Some(x), Some(y)) if is_number_start(*x) && is_number_start(*y) => same_number(a, b),
        // `true`, `false`, `null`, or values of different kinds.
        _ => a == b,
    }
}

fn is_number_start(b: u8) -> bool {
    b == b'-' || b.is_ascii_digit()
}

/// Two JSON numbers: integers (no fraction, no exponent) are equal when
/// their digits are, whatever their size (`-0` is `0`); numbers written
/// as floats are read as `f64`, as every reader of them does; an integer
/// never equals a float (`1` and `1.0` read back as different types).
fn same_number(a: &str, b: &str) -> bool {
    let is_float = |n: &str| n.contains(['.', 'e', 'E']);
    match (is_float(a), is_float(b)) {
        (false, false) => {
            a == b || (a.trim_start_matches('-') == "0" && b.trim_start_matches('-') == "0")
        }
        (true, true) => matches!(
            (a.parse::<f64>(), b.parse::<f64>()),
            (Ok(x), Ok(y)) if x == y && x.is_finite()
        ),
        _ => false,
    }
}

/// How far ahead of this server's clock a cookie's `accessed` and
/// `created` times may be: enough for the skew between the clocks of
/// servers that share the secret. A cookie further ahead (minted while a
/// clock ran fast, or by a peer whose clock is wrong) would never time
/// out, so it is treated as absent; within the allowance, a time ahead is
/// taken as now.
///
/// ```
/// # use std::time::Duration;
/// assert_eq!(tower_cookie_session::MAX_CLOCK_SKEW, Duration::from_secs(60));
/// ```
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(60);

/// Why a verified cookie's session is over, if it is: too far in the
/// future, idle longer than the timeout, or older than `max_lifetime`.
fn expired(config: &Config, now: f64, accessed: f64, created: f64) -> Option<&'static str> {
    let skew = MAX_CLOCK_SKEW.as_secs_f64();
    if accessed - now > skew || created - now > skew {
        Some("timestamps in the future")
    } else if config
        .timeout
        .is_some_and(|t| now - accessed > t.as_secs_f64())
    {
        Some("timed out")
    } else if config
        .max_lifetime
        .is_some_and(|t| now - created > t.as_secs_f64())
    {
        Some("outlived max_lifetime")
    } else {
        None
    }
}

/// The values of the cookies named `name` in one `Cookie` header, in
/// order. A cookie is ours only when its name is `name` byte for byte:
/// only spaces and tabs around a pair are trimmed (RFC 6265bis), so that
/// a name behind other whitespace (U+2000, U+00A0: another cookie to a
/// browser, free of the `__Host-` prefix's rules) is not taken for ours.
/// RFC 6265 allows a value in double quotes; WebOb strips them.
fn cookie_values<'a>(header: &'a [u8], name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
    const SP_HTAB: &[u8] = b" \t";
    let trim = |s: &'a [u8]| {
        let start = s
            .iter()
            .position(|b| !SP_HTAB.contains(b))
            .unwrap_or(s.len());
        let end = s
            .iter()
            .rposition(|b| !SP_HTAB.contains(b))
            .map_or(start, |i| i + 1);
        s.get(start..end).unwrap_or_default()
    };
    header.split(|&b| b == b';').filter_map(move |pair| {
        let eq = pair.iter().position(|&b| b == b'=')?;
        let (n, v) = pair.split_at_checked(eq)?;
        if trim(n) != name {
            return None;
        }
        let v = trim(v.get(1..).unwrap_or_default());
        Some(match v {
            [b'"', inner @ .., b'"'] => inner,
            _ => v,
        })
    })
}

/// The cookies of our name that a request's session refused: reported as
/// one event, however many there were.
#[derive(Default)]
struct Refused {
    count: usize,
    first: Option<DecodeError>,
}

impl Refused {
    fn add(&mut self, why: DecodeError) {
        self.count += 1;
        self.first.get_or_insert(why);
    }

    /// One `debug!` event for all of them (with the `tracing` feature).
    fn report(&mut self, _config: &Config) {
        if let Some(_first) = self.first.take() {
            #[cfg(feature = "tracing")]
            tracing::debug!(
                cookie = %_config.cookie_name,
                refused = self.count,
                first = %_first,
                "session cookies refused"
            );
            self.count = 0;
        }
    }
}

fn flash_key(queue: &str) -> String {
    [FLASH_PREFIX, queue].concat()
}

/// `value` as JSON text.
fn to_raw<T: Serialize + ?Sized>(value: &T) -> Result<String, SessionError> {
    serde_json::to_string(value).map_err(SessionError::Serialize)
}

fn from_raw<T: DeserializeOwned>(raw: &str) -> Result<T, SessionError> {
    serde_json::from_str(raw).map_err(SessionError::Deserialize)
}

/// A hex string as JSON: quoted, with nothing to escape.
fn string_raw(s: &str) -> String {
    format!("\"{s}\"")
}

fn random_hex_token() -> String {
    let mut bytes = [0u8; 20];
    #[allow(
        clippy::panic,
        reason = "documented: the OS random source failing is fatal"
    )]
    if let Err(e) = getrandom::fill(&mut bytes) {
        panic!("the operating system's random number generator failed: {e}");
    }
    let mut token = String::with_capacity(40);
    signed::push_hex(&bytes, &mut token);
    token
}

/// Whole seconds, as they are written: what a handler sees of a new
/// session's times is what the next request will read back.
fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs() as f64)
}

fn system_time(secs: f64) -> SystemTime {
    UNIX_EPOCH + Duration::try_from_secs_f64(secs).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn same_json_compares_values_not_text() {
        for (a, b, same) in [
            ("1", "1", true),
            ("41", "42", false),
            ("1", " 1", true),
            ("1", "1.0", false),
            ("1e2", "100.0", true),
            ("-0", "0", true),
            ("-0.0", "0", false),
            ("12345678901234567890", "12345678901234567891", false),
            // Beyond 64 bits, integers that one `f64` holds are still different.
            ("100000000000000000000", "100000000000000000001", false),
            (
                "340282366920938463463374607431768211455",
                "340282366920938463463374607431768211454",
                false,
            ),
            (
                "-170141183460469231731687303715884105728",
                "-170141183460469231731687303715884105728",
                true,
            ),
            ("[100000000000000000000]", "[100000000000000000001]", false),
            (
                r#"{"n": 100000000000000000000}"#,
                r#"{"n":100000000000000000001}"#,
                false,
            ),
            ("1e400", "1e400", true),
            ("1e400", "2e400", false),
            ("\"a\"", "\"b\"", false),
            ("\"\\u0061\"", "\"a\"", true),
            ("\"é\"", "\"\\u00e9\"", true),
            ("\"1\"", "1", false),
            ("[1, 2]", "[1,2]", true),
            ("[1, 2]", "[1,2,3]", false),
            ("[]", "{}", false),
            (r#"{"a": 1, "b": 2}"#, r#"{"b":2,"a":1}"#, true),
            (r#"{"a": 1, "a": 2}"#, r#"{"a":2}"#, true),
            (r#"{"a": 1}"#, r#"{"a":1,"b":1}"#, false),
            (
                r#"{"a\u0062": [1, {"c": null}]}"#,
                r#"{"ab":[1,{"c":null}]}"#,
                true,
            ),
            ("null", "false", false),
            ("null", "null", true),
            ("true", "true ", true),
        ] {
            assert_eq!(same_json(a, b), same, "{a} {b}");
            assert_eq!(same_json(b, a), same, "{b} {a}");
        }
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
        let CookieAction::Write(v) = s.cookie_action() else {
            panic!("new session writes")
        };
        assert!(
            v.len() <= MAX_COOKIE_VALUE_LEN && v.len() > MAX_COOKIE_VALUE_LEN - 4,
            "{}",
            v.len()
        );
        assert!(s.insert("k", "x".repeat(lo + 1)).is_err());
    }

    #[test]
    fn csrf_tokens_are_40_lowercase_hex_and_differ() {
        let s = Session::detached();
        let a = s.new_csrf_token();
        let b = s.new_csrf_token();
        assert_ne!(a, b);
        for t in [&a, &b] {
            assert_eq!(t.len(), 40);
            assert!(
                t.bytes()
                    .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
            );
        }
        assert!(s.check_csrf_token(&b));
        assert!(!s.check_csrf_token(&a));
        assert!(!s.check_csrf_token(&b[..39]));
        assert_eq!(
            s.get_value("_csrft_").unwrap(),
            serde_json::Value::String(b)
        );
    }

    #[test]
    fn flash_messages_keep_pyramid_keys_and_types() {
        let s = Session::detached();
        s.flash_to("info", serde_json::json!({"text": "hi", "level": 2}), true)
            .unwrap();
        s.flash_to("info", 7, true).unwrap();
        assert_eq!(s.keys(), ["_f_info"]);
        let raw = s.with(|d| d.state.get("_f_info").unwrap().to_owned());
        assert_eq!(raw, r#"[{"level":2,"text":"hi"},7]"#);
        let popped: Vec<serde_json::Value> = s.pop_flash("info").unwrap();
        assert_eq!(popped.len(), 2);
    }

    #[test]
    fn flashing_keeps_queued_messages_as_they_were_written() {
        let session = Session::detached();
        let queued = RawValue::from_string("[123456789012345678901234, 1.50]".to_owned()).unwrap();
        session.insert("_f_", &queued).unwrap();
        session.flash("next").unwrap();
        let raw: Box<RawValue> = session.get("_f_").unwrap().unwrap();
        assert_eq!(raw.get(), r#"[123456789012345678901234,1.50,"next"]"#);
        // A duplicate is recognised by value, whatever its text.
        session.flash_to("", 1.5, false).unwrap();
        assert_eq!(
            session.peek_flash::<serde_json::Value>("").unwrap().len(),
            3
        );
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
    fn debug_shows_no_values() {
        let s = Session::detached();
        s.insert("password", "hunter2").unwrap();
        let d = format!("{s:?}");
        assert!(!d.contains("hunter2") && !d.contains("password"), "{d}");
    }
}
