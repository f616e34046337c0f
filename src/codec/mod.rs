//! Wire formats: how a session becomes a cookie value and back.
//!
//! The codec knows nothing of HTTP. [`payload`] is the JSON every format
//! signs, `[accessed, created, {state}]`; [`signed`] is Pyramid's
//! `signed_serialize` (hex HMAC-SHA1 followed by standard base64), and
//! `pyramid2` is Pyramid 2's `SignedCookieSessionFactory` (unpadded
//! URL-safe base64 of a salted HMAC followed by the JSON). [`Keys`] holds
//! the secrets keyed for the configured format.

use std::fmt;

use hmac::{Mac, digest::KeyInit};

use crate::{
    error::DecodeError,
    format::{Format, Kind},
};

pub(crate) mod payload;
#[cfg(feature = "pyramid2")]
pub(crate) mod pyramid2;
pub(crate) mod signed;

/// The longest cookie value the layer writes, in bytes (Pyramid's limit).
///
/// Browsers guarantee at least 4096 bytes for the name, value and
/// attributes together; this leaves room for the name and attributes.
///
/// ```
/// assert_eq!(tower_cookie_session::MAX_COOKIE_VALUE_LEN, 4064);
/// ```
pub const MAX_COOKIE_VALUE_LEN: usize = 4064;

/// The primary secret and the fallbacks, each keyed into its MAC once, so
/// that signing and verifying never rehash a key.
#[derive(Clone)]
pub(crate) struct KeyRing<M> {
    primary: M,
    fallbacks: Vec<M>,
}

impl<M: Mac + KeyInit + Clone> KeyRing<M> {
    /// Keys every secret as `prefix || secret` (Pyramid 2 salts its keys).
    pub(crate) fn new<'s>(
        prefix: &[u8],
        primary: &[u8],
        fallbacks: impl IntoIterator<Item = &'s [u8]>,
    ) -> Self {
        let keyed = |secret: &[u8]| {
            let key = [prefix, secret].concat();
            // HMAC takes keys of any length; the error type only exists
            // for fixed-size MACs.
            match <M as KeyInit>::new_from_slice(&key) {
                Ok(mac) => mac,
                #[allow(
                    clippy::unreachable,
                    reason = "HMAC keys of any length; the error exists for fixed-size MACs"
                )]
                Err(_) => unreachable!("HMAC accepts keys of any length"),
            }
        };
        Self {
            primary: keyed(primary),
            fallbacks: fallbacks.into_iter().map(keyed).collect(),
        }
    }
}

impl<M> KeyRing<M> {
    /// The MAC that signs.
    pub(crate) fn primary(&self) -> &M {
        &self.primary
    }

    /// The primary, then the fallbacks, in the order they are tried.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &M> {
        std::iter::once(&self.primary).chain(&self.fallbacks)
    }
}

/// The configured format with its keys: what signs and verifies values.
#[derive(Clone)]
pub(crate) enum Keys {
    SignedSerialize(KeyRing<signed::HmacSha1>),
    #[cfg(feature = "pyramid2")]
    Pyramid2(pyramid2::Keys),
}

impl Keys {
    pub(crate) fn new<'s>(
        format: &Format,
        primary: &[u8],
        fallbacks: impl IntoIterator<Item = &'s [u8]>,
    ) -> Self {
        match &format.kind {
            Kind::SignedSerialize => Self::SignedSerialize(KeyRing::new(b"", primary, fallbacks)),
            #[cfg(feature = "pyramid2")]
            Kind::Pyramid2 { hashalg, salt } => {
                Self::Pyramid2(pyramid2::Keys::new(*hashalg, salt, primary, fallbacks))
            }
        }
    }

    /// Verifies `value` with each secret in order; returns the signed
    /// payload and the index of the secret that verified it (0: primary).
    pub(crate) fn verify(&self, value: &str) -> Result<(Vec<u8>, usize), DecodeError> {
        match self {
            Self::SignedSerialize(keys) => signed::verify(value, keys.iter()),
            #[cfg(feature = "pyramid2")]
            Self::Pyramid2(keys) => keys.verify(value),
        }
    }

    /// Appends the value that carries `payload`, signed with the primary
    /// secret.
    pub(crate) fn sign_into(&self, payload: &[u8], out: &mut String) {
        match self {
            Self::SignedSerialize(keys) => signed::sign_into(keys.primary(), payload, out),
            #[cfg(feature = "pyramid2")]
            Self::Pyramid2(keys) => keys.sign_into(payload, out),
        }
    }

    /// How long values are, for the size limit.
    pub(crate) fn envelope(&self) -> Envelope {
        match self {
            Self::SignedSerialize(_) => Envelope::SignedSerialize,
            #[cfg(feature = "pyramid2")]
            Self::Pyramid2(keys) => Envelope::Pyramid2 {
                digest_len: keys.digest_len(),
            },
        }
    }
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys([redacted])")
    }
}

/// What a format adds around a payload; enough to know a value's length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Envelope {
    SignedSerialize,
    #[cfg(feature = "pyramid2")]
    Pyramid2 {
        digest_len: usize,
    },
}

impl Envelope {
    /// The length that counts against [`MAX_COOKIE_VALUE_LEN`] for the
    /// payload `json`: the value's length, and in Pyramid 2's format the
    /// longer of that and the value Pyramid would write for the same
    /// session (its JSON is longer), so that either side can write back
    /// what the other wrote.
    pub(crate) fn value_len(self, json: &[u8]) -> usize {
        match self {
            Self::SignedSerialize => signed::signed_len(json.len()),
            #[cfg(feature = "pyramid2")]
            Self::Pyramid2 { digest_len } => {
                pyramid2::signed_len(digest_len, json.len().max(payload::python_len(json)))
            }
        }
    }

    /// [`value_len`](Self::value_len) of the payload for this session with
    /// `value` stored under `key` (where `old` is the value there now),
    /// without encoding it.
    pub(crate) fn session_len_with(
        self,
        accessed: u64,
        created: u64,
        state: &payload::State,
        key: &str,
        old: Option<&str>,
        value: &str,
    ) -> usize {
        let compact = payload::encoded_len_with(accessed, created, state, key, old, value);
        match self {
            Self::SignedSerialize => signed::signed_len(compact),
            #[cfg(feature = "pyramid2")]
            Self::Pyramid2 { digest_len } => pyramid2::signed_len(
                digest_len,
                compact.max(payload::python_encoded_len_with(
                    accessed, created, state, key, old, value,
                )),
            ),
        }
    }
}
