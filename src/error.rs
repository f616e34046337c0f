//! The crate's errors: bad configuration, failed session operations and
//! refused cookie values.
//!
//! Request-side decode failures never reach a handler as errors: a cookie
//! that is refused becomes a fresh session. [`DecodeError`] is what the
//! public [`signed_deserialize`](crate::signed_deserialize) returns, and
//! what the `tracing` feature reports.

use std::{error::Error, fmt, time::Duration};

/// A [`SessionLayer`](crate::SessionLayer) configuration that cannot work.
///
/// Returned by [`SessionLayer::try_new`](crate::SessionLayer::try_new) and
/// [`SessionLayer::validate`](crate::SessionLayer::validate); the message
/// says what to change.
///
/// ```
/// use tower_cookie_session::{ConfigError, SessionLayer};
///
/// let err = SessionLayer::try_new(b"too short").unwrap_err();
/// assert!(matches!(err, ConfigError::SecretTooShort { len: 9, .. }));
/// assert!(err.to_string().contains("at least 32 bytes"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The signing secret is shorter than [`MIN_SECRET_LEN`](crate::MIN_SECRET_LEN).
    SecretTooShort {
        /// Length of the secret that was given, in bytes.
        len: usize,
        /// `None` for the primary secret, `Some(i)` for the `i`-th fallback secret.
        fallback: Option<usize>,
    },
    /// The cookie name is empty or contains a character that a cookie name
    /// may not contain (RFC 6265: a token, no separators or controls).
    InvalidCookieName {
        /// The name that was refused.
        name: String,
    },
    /// A cookie attribute (path or domain) contains a control character or
    /// a `;`, which would break the `Set-Cookie` header.
    InvalidAttribute {
        /// `"path"` or `"domain"`.
        attribute: &'static str,
    },
    /// A `__Host-` cookie needs `secure(true)`, path `/` and no domain.
    HostPrefix {
        /// Which of the three requirements is not met.
        requirement: &'static str,
    },
    /// A `__Secure-` cookie needs `secure(true)`.
    SecurePrefixWithoutSecure,
    /// `partitioned(true)` needs `secure(true)`: browsers drop partitioned
    /// cookies that are not secure.
    PartitionedWithoutSecure,
    /// `SameSite=None` needs `secure(true)`: browsers reject such cookies
    /// otherwise.
    SameSiteNoneWithoutSecure,
    /// An explicit `reissue_time` is not shorter than the `timeout`, so the
    /// session would expire before it is ever reissued.
    ReissueTimeNotBelowTimeout {
        /// The configured reissue time.
        reissue_time: Duration,
        /// The configured inactivity timeout.
        timeout: Duration,
    },
    /// A Pyramid `hashalg` name that `HashAlg` does not offer (parsing a
    /// `HashAlg` from a string).
    UnknownHashAlg {
        /// The name that was given.
        name: String,
    },
    /// Revocation is on without `max_lifetime`: a session in use is
    /// renewed for ever, so a record revoking it could never expire.
    RevocationWithoutMaxLifetime,
    /// [`SessionLayer::revoker`](crate::SessionLayer::revoker) was asked
    /// of a layer without revocation.
    RevocationOff,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SecretTooShort {
                len,
                fallback: None,
            } => write!(
                f,
                "session secret is {len} bytes; use at least {} bytes of random data \
                 (e.g. `openssl rand -hex 32`)",
                crate::MIN_SECRET_LEN
            ),
            Self::SecretTooShort {
                len,
                fallback: Some(i),
            } => write!(
                f,
                "fallback secret #{i} is {len} bytes; every secret needs at least {} bytes",
                crate::MIN_SECRET_LEN
            ),
            Self::InvalidCookieName { name } => write!(
                f,
                "session cookie name {name:?} is not a valid cookie name; use a non-empty \
                 token of letters, digits and `!#$%&'*+-.^_`|~`"
            ),
            Self::InvalidAttribute { attribute } => write!(
                f,
                "session cookie {attribute} contains `;` or a control character; \
                 remove it"
            ),
            Self::HostPrefix { requirement } => write!(
                f,
                "a `__Host-` session cookie needs {requirement}: browsers reject it otherwise"
            ),
            Self::SecurePrefixWithoutSecure => f.write_str(
                "a `__Secure-` session cookie needs `.secure(true)`: browsers reject it otherwise",
            ),
            Self::PartitionedWithoutSecure => f.write_str(
                "`.partitioned(true)` needs `.secure(true)`: browsers reject partitioned \
                 cookies that are not secure",
            ),
            Self::SameSiteNoneWithoutSecure => f.write_str(
                "`.same_site(SameSite::None)` needs `.secure(true)`: browsers reject \
                 `SameSite=None` cookies that are not secure",
            ),
            Self::ReissueTimeNotBelowTimeout {
                reissue_time,
                timeout,
            } => write!(
                f,
                "reissue_time ({reissue_time:?}) must be shorter than timeout ({timeout:?}), \
                 or sessions expire before they are reissued; lower reissue_time or set it to None"
            ),
            Self::UnknownHashAlg { name } => write!(
                f,
                "hashalg {name:?} is not offered; use sha512 (Pyramid's default), sha384, \
                 sha256 or sha1"
            ),
            Self::RevocationWithoutMaxLifetime => f.write_str(
                "revocation needs `.max_lifetime(...)`: a session in use is renewed for ever \
                 without it, so a revocation record could never expire; set the longest a \
                 session may live (e.g. 30 days)",
            ),
            Self::RevocationOff => f.write_str(
                "`revoker()` needs revocation: add `.revocation(MemoryRevocations::new())` \
                 or `.revocation(RedisRevocations::open(url)?)` to the layer",
            ),
        }
    }
}

impl Error for ConfigError {}

/// A session operation that could not be carried out; the session is left
/// as it was.
///
/// ```
/// use tower_cookie_session::{Session, SessionError};
///
/// let session = Session::detached();
/// let err = session.insert("big", "x".repeat(5000)).unwrap_err();
/// assert!(matches!(err, SessionError::TooLarge { .. }));
/// assert!(!session.contains_key("big"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionError {
    /// The value could not be serialized to JSON (e.g. a map with
    /// non-string keys).
    Serialize(serde_json::Error),
    /// The stored value does not deserialize into the requested type.
    Deserialize(serde_json::Error),
    /// The cookie value would exceed the size limit.
    TooLarge {
        /// Length the cookie value would have had, in bytes.
        size: usize,
        /// The limit, [`MAX_COOKIE_VALUE_LEN`](crate::MAX_COOKIE_VALUE_LEN).
        limit: usize,
    },
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Serialize(e) => write!(f, "session value cannot be serialized to JSON: {e}"),
            Self::Deserialize(e) => write!(
                f,
                "session value does not deserialize into the requested type: {e}"
            ),
            Self::TooLarge { size, limit } => write!(
                f,
                "session cookie would be {size} bytes, over the {limit}-byte limit; \
                 store less in the session (keep large data server-side and an id here)"
            ),
        }
    }
}

impl Error for SessionError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Serialize(e) | Self::Deserialize(e) => Some(e),
            Self::TooLarge { .. } => None,
        }
    }
}

/// Why a signed value was refused. It never carries the value or the secret.
///
/// ```
/// use tower_cookie_session::{signed_deserialize, DecodeError};
///
/// let err = signed_deserialize::<serde_json::Value>("nonsense", b"secret").unwrap_err();
/// assert_eq!(err, DecodeError::TooShort);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Shorter than a signature.
    TooShort,
    /// The signature is not lowercase or uppercase hexadecimal.
    InvalidHex,
    /// The payload is not base64.
    InvalidBase64,
    /// The signature does not match the payload under any configured secret.
    BadSignature,
    /// The payload is not JSON of the expected type.
    InvalidJson,
    /// The payload is JSON but not `[accessed, created, {state}]` with
    /// valid timestamps.
    WrongShape,
    /// The value starts with a format version this release does not know
    /// (the sealed format's first byte), e.g. one written by a newer
    /// release during a rolling upgrade.
    UnknownVersion,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooShort => "value is shorter than its signature",
            Self::InvalidHex => "signature is not hexadecimal",
            Self::InvalidBase64 => "payload is not base64",
            Self::BadSignature => "signature does not match",
            Self::InvalidJson => "payload is not valid JSON of the expected type",
            Self::WrongShape => "payload is not [accessed, created, {state}]",
            Self::UnknownVersion => "value is of a format version this release does not know",
        })
    }
}

impl Error for DecodeError {}
