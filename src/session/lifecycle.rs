//! The session's life in one request, in the order it happens: the
//! `Cookie` header values kept undecoded ([`RequestCookies`]); on first
//! use, the cookie found, opened and checked against the clock
//! ([`Loaded::load`]); the handler's changes, each checked against the
//! size limit ([`Loaded::set`]); and at the response, what to write
//! ([`Loaded::decide`]), which the response future carries out. The
//! timeout, reissue time and `Max-Age` are the layer's unless the session
//! chose its own [`Expiry`].

use std::{
    borrow::Cow,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use http::HeaderMap;

use super::{
    cookies::{RequestCookies, cookie_values},
    expiry::Expiry,
    revocation::Revocable,
    same_json::same_json,
};
use crate::{
    codec::{
        MAX_COOKIE_VALUE_LEN, WireFormat,
        payload::{self, Payload},
        state::State,
    },
    config::Config,
    error::{DecodeError, SessionError},
    rare::Rare,
};

/// The session's stage in a request: the `Cookie` header values, kept
/// undecoded until first use, then what they held. One enum, so that a
/// request that never uses the session drops one value.
pub(super) enum Stage {
    Unread(RequestCookies),
    Loaded(Loaded),
}

impl Stage {
    #[inline]
    pub(super) fn new(headers: &HeaderMap) -> Self {
        Self::Unread(RequestCookies::new(headers))
    }

    /// The session, loaded from the cookies on first use.
    pub(super) fn load(&mut self, config: &Config) -> &mut Loaded {
        loop {
            match self {
                Self::Loaded(loaded) => return loaded,
                Self::Unread(cookies) => *self = Self::Loaded(Loaded::load(config, cookies)),
            }
        }
    }

    /// The session, if it was loaded.
    pub(super) fn loaded(&mut self) -> Option<&mut Loaded> {
        match self {
            Self::Loaded(loaded) => Some(loaded),
            Self::Unread(_) => None,
        }
    }

    /// Whether the request had no `Cookie` header at all, so that there is
    /// no session cookie to load.
    pub(super) fn without_cookies(&self) -> bool {
        matches!(self, Self::Unread(RequestCookies::None))
    }
}

/// The session as this request sees it: what the cookie held, and what
/// has happened to it since.
#[derive(Debug)]
pub(super) struct Loaded {
    /// When this request first used the session, Unix seconds.
    pub(super) now: f64,
    pub(super) accessed: f64,
    pub(super) created: f64,
    pub(super) state: State,
    pub(super) new: bool,
    pub(super) changed: bool,
    pub(super) invalidated: bool,
    /// Opened with a fallback secret: write it again with the primary one.
    resign: bool,
    /// The request carried a cookie of our name, valid or not.
    had_cookie: bool,
    /// The payload as the last successful `set` encoded it, and the state's
    /// generation then: the response reuses it if nothing changed since.
    encoded: Option<(u64, Vec<u8>)>,
    /// With revocation on: the id, subject and creation time the cookie
    /// carried, and, once `invalidate` dropped them, what the response
    /// must revoke.
    pub(super) revocable: Rare<Revocable>,
}

/// What the response should do with the cookie.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CookieAction {
    /// Nothing to write.
    Keep,
    /// Write the cookie `pair`, `name=value` in ASCII, with this `Max-Age`
    /// (`None`: a browser-session cookie).
    Write {
        pair: Vec<u8>,
        max_age: Option<Duration>,
    },
    /// Expire the cookie.
    Remove,
}

impl Loaded {
    /// Finds the first cookie of our name that verifies and parses.
    pub(super) fn load(config: &Config, cookies: &RequestCookies) -> Self {
        let now = unix_now();
        if let RequestCookies::None = cookies {
            return Self::fresh(now, false);
        }
        let mut had_cookie = false;
        let mut refused = Refused::default();
        for header in cookies.iter() {
            // Bytes that are not UTF-8 can only damage other cookies'
            // values (ours are ASCII), so decode lossily and carry on. The
            // lossy decoder goes byte by byte; checking first takes the
            // word-at-a-time path for the usual all-ASCII header.
            let header = match std::str::from_utf8(header.as_bytes()) {
                Ok(header) => Cow::Borrowed(header),
                Err(_) => String::from_utf8_lossy(header.as_bytes()),
            };
            for value in cookie_values(&header, &config.cookie_name) {
                had_cookie = true;
                let decoded = config
                    .codec
                    .open(value, &config.cookie_name)
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
                return match expired(config, now, &payload) {
                    Some(_why) => {
                        #[cfg(feature = "tracing")]
                        tracing::debug!(cookie = %config.cookie_name, why = _why, "session cookie expired; starting fresh");
                        Self::fresh(now, had_cookie)
                    }
                    // Within the allowed skew, a time ahead of ours is taken
                    // as now, so that no future time is written back.
                    None => {
                        let mut loaded = Self {
                            now,
                            accessed: payload.accessed.min(now),
                            created: payload.created.min(now),
                            state: payload.state,
                            new: false,
                            changed: false,
                            invalidated: false,
                            resign: index > 0,
                            had_cookie,
                            encoded: None,
                            revocable: Rare::none(),
                        };
                        if config.revocation.is_some() {
                            loaded.revocable.set(Revocable::of_cookie(&loaded));
                        }
                        loaded
                    }
                };
            }
        }
        refused.report(config);
        Self::fresh(now, had_cookie)
    }

    pub(super) fn fresh(now: f64, had_cookie: bool) -> Self {
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
            encoded: None,
            revocable: Rare::none(),
        }
    }

    /// Drops everything and starts a brand-new session; with revocation
    /// on, the cookie's id is to be revoked.
    pub(super) fn invalidate(&mut self) {
        let mut revocable = std::mem::replace(&mut self.revocable, Rare::none());
        if let Some(revocable) = revocable.as_deref_mut() {
            revocable.invalidate();
        }
        *self = Self {
            invalidated: true,
            revocable,
            ..Self::fresh(self.now, self.had_cookie)
        };
    }

    /// The cookie's session was revoked: a fresh one, as for a bad cookie.
    pub(super) fn refuse(&mut self) {
        *self = Self::fresh(self.now, self.had_cookie);
    }

    /// Stores `raw` under `key` unless the cookie would grow too large.
    pub(super) fn set(
        &mut self,
        config: &Config,
        key: String,
        raw: String,
    ) -> Result<(), SessionError> {
        let Some(previous) = self.state.insert_changed(key, raw, same_json) else {
            return Ok(());
        };
        // Measured with the id it will be written with.
        let id = self.ensure_id(config);
        let json = self.encode();
        let size = config.codec.value_len(&json);
        if size > MAX_COOKIE_VALUE_LEN {
            // The last change first.
            if let Some(id) = id {
                self.state.restore(id);
            }
            self.state.restore(previous);
            return Err(SessionError::TooLarge {
                size,
                limit: MAX_COOKIE_VALUE_LEN,
            });
        }
        self.encoded = Some((self.state.generation(), json));
        self.changed = true;
        Ok(())
    }

    /// What the response should do with the cookie: remove it after
    /// `invalidate` (if one was sent); write it when changed, new and
    /// holding something, opened with a fallback secret or due for
    /// reissue, and only if it fits.
    pub(super) fn decide(&mut self, config: &Config) -> CookieAction {
        if self.invalidated && self.state.is_empty() {
            return if self.had_cookie {
                CookieAction::Remove
            } else {
                CookieAction::Keep
            };
        }
        let expiry = Expiry::of(&self.state);
        // A new session is written once it holds something: reading one
        // sets no cookie (none before there is something to keep, and
        // anonymous pages stay cacheable); `changed()` still forces it.
        let new_and_kept = self.new && !self.state.is_empty();
        let reissue_due = || {
            expiry
                .reissue_time(config)
                .is_some_and(|r| self.now - self.accessed >= r.as_secs_f64())
        };
        if !(self.changed || new_and_kept || self.resign || reissue_due()) {
            return CookieAction::Keep;
        }
        // A session written without an id (by Pyramid, or before
        // revocation was turned on) gets one now.
        self.ensure_id(config);
        let json = match &self.encoded {
            Some((generation, json)) if *generation == self.state.generation() => {
                Cow::Borrowed(json.as_slice())
            }
            _ => Cow::Owned(self.encode()),
        };
        let size = config.codec.value_len(&json);
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
        // `name=value`, with room for the attributes once formatted, so
        // that the response writes the `Set-Cookie` header in this buffer.
        let name = config.cookie_name.as_bytes();
        let room = config.set_cookie_attributes.get().map_or(0, String::len);
        let mut pair = Vec::with_capacity(name.len() + 1 + size + room);
        pair.extend_from_slice(name);
        pair.push(b'=');
        config
            .codec
            .seal_into(&json, &config.cookie_name, &mut pair);
        CookieAction::Write {
            pair,
            max_age: expiry.max_age(config),
        }
    }

    /// The payload as it would be written now.
    fn encode(&self) -> Vec<u8> {
        // Both times are finite and within 0..=year 9999 (see
        // payload::decode), so the casts cannot saturate.
        let (accessed, created) = (self.now as u64, self.created as u64);
        payload::encode(accessed, created, &self.state)
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
/// future, idle longer than its timeout (the layer's, or its own
/// [`Expiry`]'s), or older than `max_lifetime`.
fn expired(config: &Config, now: f64, payload: &Payload) -> Option<&'static str> {
    let (accessed, created) = (payload.accessed, payload.created);
    let timeout = Expiry::of(&payload.state).timeout(config);
    let skew = MAX_CLOCK_SKEW.as_secs_f64();
    if accessed - now > skew || created - now > skew {
        Some("timestamps in the future")
    } else if timeout.is_some_and(|t| now - accessed > t.as_secs_f64()) {
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

/// Whole seconds, as they are written: what a handler sees of a new
/// session's times is what the next request will read back.
pub(super) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs() as f64)
}

pub(super) fn system_time(secs: f64) -> SystemTime {
    UNIX_EPOCH + Duration::try_from_secs_f64(secs).unwrap_or_default()
}
