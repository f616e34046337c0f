//! Wire formats: how a session's payload becomes a cookie value and back.
//!
//! The codec knows nothing of HTTP. [`payload`] is the JSON every format
//! carries, `[accessed, created, {state}]`, and [`state`] the session's
//! keys and values within it; each format is one file, implementing
//! [`WireFormat`], with its entry in [`Codec`] and in [`Format`]. The
//! exact bytes of each format are documented once, on [`Format`].

use std::fmt;

use base64::{Engine, engine::Config as _};
use hmac::{Mac, digest::KeyInit};

use crate::{
    error::DecodeError,
    format::{Format, Kind},
};

pub(crate) mod payload;
#[cfg(feature = "pyramid2")]
pub(crate) mod pyramid2;
#[cfg(feature = "sealed")]
pub(crate) mod sealed;
pub(crate) mod signed_serialize;
pub(crate) mod state;

/// The longest cookie value the layer writes, in bytes (Pyramid's limit).
///
/// Browsers guarantee at least 4096 bytes for the name, value and
/// attributes together; this leaves room for the name and attributes.
///
/// ```
/// assert_eq!(tower_cookie_session::MAX_COOKIE_VALUE_LEN, 4064);
/// ```
pub const MAX_COOKIE_VALUE_LEN: usize = 4064;

/// URL-safe base64 as Pyramid 2's and the sealed format use it: writes
/// no padding, reads it or its absence (WebOb strips the padding and adds
/// it back before decoding), and refuses a final character whose unused
/// bits are set.
#[cfg(any(feature = "pyramid2", feature = "sealed"))]
const BASE64URL: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    base64::engine::GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Appends `bytes` in base64 as `engine` writes it: into zeroes the
/// encoding then overwrites, since a `String` would be checked for UTF-8.
#[inline]
fn push_base64(engine: &impl Engine, bytes: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    let len = base64::encoded_len(bytes.len(), engine.config().encode_padding()).unwrap_or(0);
    out.resize(start + len, 0);
    let written = out
        .get_mut(start..)
        .map_or(0, |tail| engine.encode_slice(bytes, tail).unwrap_or(0));
    out.truncate(start + written);
}

/// A value made by [`WireFormat::seal_into`] as a string: its bytes are
/// ASCII, so each is a char.
pub(crate) fn ascii_string(bytes: &[u8]) -> String {
    bytes.iter().copied().map(char::from).collect()
}

/// The value sealing `payload`, as a string, for tests.
#[cfg(all(test, any(feature = "pyramid2", feature = "sealed")))]
pub(crate) fn seal_to_string(
    format: &impl WireFormat,
    payload: &[u8],
    cookie_name: &str,
) -> String {
    let mut out = Vec::new();
    format.seal_into(payload, cookie_name, &mut out);
    String::from_utf8(out).unwrap()
}

/// What each wire format does, with its keys made once per configuration.
pub(crate) trait WireFormat {
    /// Checks `value` (the cookie named `cookie_name`) with each secret in
    /// order; returns the payload it carries and the index of the secret
    /// that opened it (0: the primary).
    fn open(&self, value: &str, cookie_name: &str) -> Result<(Vec<u8>, usize), DecodeError>;

    /// Appends the value that carries `payload` in the cookie named
    /// `cookie_name`, made with the primary secret. The value is ASCII,
    /// kept as bytes because the response takes bytes: a `String` would
    /// check each piece for UTF-8 on the way.
    fn seal_into(&self, payload: &[u8], cookie_name: &str, out: &mut Vec<u8>);

    /// The length that counts against [`MAX_COOKIE_VALUE_LEN`] for
    /// `payload`.
    fn value_len(&self, payload: &[u8]) -> usize;
}

/// The configured format with its keys.
#[derive(Clone)]
pub(crate) enum Codec {
    SignedSerialize(signed_serialize::SignedSerialize),
    #[cfg(feature = "pyramid2")]
    Pyramid2(pyramid2::Pyramid2),
    #[cfg(feature = "sealed")]
    Sealed(sealed::Sealed),
}

impl Codec {
    pub(crate) fn new<'s>(
        format: &Format,
        primary: &[u8],
        fallbacks: impl IntoIterator<Item = &'s [u8]>,
    ) -> Self {
        match &format.kind {
            Kind::SignedSerialize => {
                Self::SignedSerialize(signed_serialize::SignedSerialize::new(primary, fallbacks))
            }
            #[cfg(feature = "pyramid2")]
            Kind::Pyramid2 { hashalg, salt } => {
                Self::Pyramid2(pyramid2::Pyramid2::new(*hashalg, salt, primary, fallbacks))
            }
            #[cfg(feature = "sealed")]
            Kind::Sealed => Self::Sealed(sealed::Sealed::new(primary, fallbacks)),
        }
    }

    fn format(&self) -> &dyn WireFormat {
        match self {
            Self::SignedSerialize(format) => format,
            #[cfg(feature = "pyramid2")]
            Self::Pyramid2(format) => format,
            #[cfg(feature = "sealed")]
            Self::Sealed(format) => format,
        }
    }
}

impl WireFormat for Codec {
    fn open(&self, value: &str, cookie_name: &str) -> Result<(Vec<u8>, usize), DecodeError> {
        self.format().open(value, cookie_name)
    }

    fn seal_into(&self, payload: &[u8], cookie_name: &str, out: &mut Vec<u8>) {
        self.format().seal_into(payload, cookie_name, out);
    }

    fn value_len(&self, payload: &[u8]) -> usize {
        self.format().value_len(payload)
    }
}

impl fmt::Debug for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Codec([redacted])")
    }
}

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
            match <M as KeyInit>::new_from_slice(&key) {
                Ok(mac) => mac,
                #[allow(
                    clippy::unreachable,
                    reason = "HMAC takes keys of any length; the error exists for fixed-size MACs"
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
