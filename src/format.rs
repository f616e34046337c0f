//! [`Format`]: which wire format the session cookie is written in.

use std::fmt;

/// The wire format of the session cookie, set with
/// [`SessionLayer::format`](crate::SessionLayer::format). This is where
/// each format's bytes are described.
///
/// Every format carries the same payload and follows the same rules
/// (timeouts, reissue, flash, CSRF, fallback secrets, the size limit):
///
/// ```text
/// payload = UTF-8 JSON: [accessed, created, {state}]
/// ```
///
/// `accessed` and `created` are Unix seconds, written as integers and read
/// as any JSON number (Pyramid writes floats); `state` is the session's
/// keys and values, written with sorted keys and no spaces. A value whose
/// payload is not `[number, number, object]` is refused.
///
/// # [`Format::signed_serialize`] (the default)
///
/// Pyramid's `signed_serialize`, as `UnencryptedCookieSessionFactoryConfig`
/// uses it, with JSON in place of pickle:
///
/// ```text
/// value = hex_lower(HMAC-SHA1(secret, payload)) || base64_standard_padded(payload)
/// ```
///
/// Reading accepts the hex digits in either case and the base64 with or
/// without its padding. [`signed_serialize`](crate::signed_serialize) and
/// [`signed_deserialize`](crate::signed_deserialize) make and read such
/// values by hand.
///
/// # `Format::pyramid2` (feature `pyramid2`)
///
/// Pyramid 1.5 to 2.1's `SignedCookieSessionFactory` with its JSON
/// serializer (WebOb's `SignedSerializer`):
///
/// ```text
/// value = base64url_nopad(HMAC-<hashalg>(salt || secret, payload) || payload)
/// ```
///
/// `hashalg` is SHA-512 and `salt` is `"pyramid.session."` unless
/// `Format::pyramid2_with` says otherwise. Reading accepts padded
/// values too. (Python's decoder is more lenient still, skipping characters
/// outside the alphabet; Pyramid never writes such values, and the layer
/// refuses them.) The size limit counts the longer of the value the
/// layer writes and the value Pyramid would write for the same session
/// (`json.dumps` adds spaces and escapes non-ASCII), so that either side
/// can write back what the other wrote.
///
/// # `Format::sealed` (feature `sealed`)
///
/// The session encrypted and authenticated, so that the user can neither
/// read nor change it, and bound to its cookie name, so that a value
/// cannot be moved to another cookie that shares the secret:
///
/// ```text
/// value = base64url_nopad(0x01 || nonce || ciphertext_and_tag)
/// key   = HKDF-SHA256(ikm = secret, salt = none, info = "tower-cookie-session/sealed/v1"), 32 bytes
/// nonce = 24 random bytes, fresh for every write
/// ciphertext_and_tag = XChaCha20-Poly1305(key, nonce, plaintext = payload, aad = 0x01 || cookie name)
/// ```
///
/// `0x01` is the format version; a value of another version is refused
/// ([`DecodeError::UnknownVersion`](crate::DecodeError::UnknownVersion)).
/// Each fallback secret derives its own key; they are tried in order, and
/// a session opened by one is sealed again with the primary. Reading
/// accepts padded values too. Nothing is compressed: the length of
/// compressed data gives away what it holds. The size limit counts the
/// encoded value, so a sealed session holds about 3,000 bytes of JSON.
///
/// # Examples
///
/// ```
/// use tower_cookie_session::{Format, SessionLayer};
///
/// let layer = SessionLayer::new([7; 32]).format(Format::signed_serialize());
/// assert_eq!(Format::default(), Format::signed_serialize());
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Format {
    pub(crate) kind: Kind,
}

#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) enum Kind {
    #[default]
    SignedSerialize,
    #[cfg(feature = "pyramid2")]
    Pyramid2 { hashalg: HashAlg, salt: Vec<u8> },
    #[cfg(feature = "sealed")]
    Sealed,
}

impl Format {
    /// Pyramid's `signed_serialize` with JSON, the default (its bytes are
    /// on [`Format`]).
    ///
    /// ```
    /// use tower_cookie_session::Format;
    ///
    /// assert_eq!(Format::signed_serialize(), Format::default());
    /// ```
    #[must_use]
    pub const fn signed_serialize() -> Self {
        Self {
            kind: Kind::SignedSerialize,
        }
    }

    /// Pyramid's `SignedCookieSessionFactory` with its defaults:
    /// HMAC-SHA512 and the salt `"pyramid.session."` (its bytes are on
    /// [`Format`]). A layer in this format reads and writes the sessions
    /// of a Pyramid application that shares its secret and cookie name.
    /// The secret's bytes are the ones Pyramid uses: see the README's
    /// "Migrating from Pyramid" for non-ASCII secrets.
    ///
    /// ```
    /// use tower_cookie_session::{Format, HashAlg, SessionLayer};
    ///
    /// let layer = SessionLayer::new(b"the secret the Pyramid app is configured with")
    ///     .format(Format::pyramid2());
    /// assert_eq!(Format::pyramid2(), Format::pyramid2_with(HashAlg::Sha512, "pyramid.session."));
    /// ```
    #[cfg(feature = "pyramid2")]
    #[cfg_attr(docsrs, doc(cfg(feature = "pyramid2")))]
    #[must_use]
    pub fn pyramid2() -> Self {
        Self::pyramid2_with(HashAlg::Sha512, PYRAMID_SALT)
    }

    /// Pyramid's `SignedCookieSessionFactory` with its `hashalg` and `salt`
    /// arguments.
    ///
    /// Pass the salt's bytes: for an ASCII salt (Pyramid's default
    /// `"pyramid.session."` and any other ASCII text) they are the text
    /// itself. Pyramid encodes a `str` salt and secret together: both in
    /// Latin-1 when every character of both has a Latin-1 code, otherwise
    /// both in UTF-8; a `&str` passed here is its UTF-8 bytes, so a
    /// non-ASCII salt must be given as the bytes that rule makes (the
    /// README's "Migrating from Pyramid" shows how).
    ///
    /// ```
    /// use tower_cookie_session::{Format, HashAlg, SessionLayer};
    ///
    /// // SignedCookieSessionFactory(secret, hashalg='sha256', salt='my_app.session.')
    /// let layer = SessionLayer::new(b"the secret the Pyramid app is configured with")
    ///     .format(Format::pyramid2_with(HashAlg::Sha256, "my_app.session."));
    /// ```
    ///
    /// Every argument of `SignedCookieSessionFactory`, at Pyramid's
    /// defaults, and the setting that matches it:
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_cookie_session::{Format, HashAlg, SameSite, SessionLayer};
    ///
    /// # let secret_bytes = b"the secret the Pyramid app is configured with";
    /// let layer = SessionLayer::new(secret_bytes)                            // secret
    ///     .format(Format::pyramid2_with(HashAlg::Sha512, "pyramid.session.")) // hashalg, salt
    ///     .cookie_name("session")                                            // cookie_name
    ///     .max_age(None)                                                     // max_age
    ///     .path("/")                                                         // path
    ///     .domain(None)                                                      // domain
    ///     .secure(false)                                                     // secure
    ///     .http_only(false)                                                  // httponly
    ///     .same_site(SameSite::Lax)                                          // samesite
    ///     .timeout(Some(Duration::from_secs(1200)))                          // timeout
    ///     .reissue_time(Some(Duration::ZERO))                                // reissue_time
    ///     .cookie_on_exception(true);                                        // set_on_exception
    /// layer.validate()?;
    /// # Ok::<(), tower_cookie_session::ConfigError>(())
    /// ```
    #[cfg(feature = "pyramid2")]
    #[cfg_attr(docsrs, doc(cfg(feature = "pyramid2")))]
    #[must_use]
    pub fn pyramid2_with(hashalg: HashAlg, salt: impl AsRef<[u8]>) -> Self {
        Self {
            kind: Kind::Pyramid2 {
                hashalg,
                salt: salt.as_ref().to_vec(),
            },
        }
    }
}

#[cfg(feature = "sealed")]
impl Format {
    /// Sealed sessions: encrypted, authenticated and bound to the cookie
    /// name (its bytes are on [`Format`]). For applications that keep
    /// anything personal in the session. Switching an application to it
    /// is this one line; cookies in another format then start fresh
    /// sessions (every user is signed out once).
    ///
    /// ```
    /// use tower_cookie_session::{Format, SessionLayer};
    ///
    /// let layer = SessionLayer::new([7; 32]).format(Format::sealed());
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "sealed")))]
    #[must_use]
    pub const fn sealed() -> Self {
        Self { kind: Kind::Sealed }
    }
}

impl fmt::Debug for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::SignedSerialize => f.write_str("Format::SignedSerialize"),
            #[cfg(feature = "pyramid2")]
            Kind::Pyramid2 { hashalg, salt } => f
                .debug_struct("Format::Pyramid2")
                .field("hashalg", hashalg)
                .field("salt", &String::from_utf8_lossy(salt))
                .finish(),
            #[cfg(feature = "sealed")]
            Kind::Sealed => f.write_str("Format::Sealed"),
        }
    }
}

/// Pyramid's default salt for `SignedCookieSessionFactory`.
#[cfg(feature = "pyramid2")]
const PYRAMID_SALT: &str = "pyramid.session.";

/// The hash of [`Format::pyramid2_with`]'s HMAC: Pyramid's `hashalg`.
///
/// It is written and parsed by the name Pyramid (and Python's `hashlib`)
/// gives it; parsing ignores case, as `hashlib` does, and refuses the
/// hashes this crate does not offer (`md5`, `sha224`, `sha3_*`, `blake2*`)
/// with [`ConfigError::UnknownHashAlg`](crate::ConfigError::UnknownHashAlg).
///
/// ```
/// use tower_cookie_session::HashAlg;
///
/// assert_eq!(HashAlg::default(), HashAlg::Sha512);
/// assert_eq!(HashAlg::Sha256.to_string(), "sha256");
/// assert_eq!("sha384".parse(), Ok(HashAlg::Sha384));
/// assert_eq!("SHA512".parse(), Ok(HashAlg::Sha512));
/// assert!("md5".parse::<HashAlg>().is_err());
/// ```
#[cfg(feature = "pyramid2")]
#[cfg_attr(docsrs, doc(cfg(feature = "pyramid2")))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlg {
    /// `hashalg='sha1'`.
    Sha1,
    /// `hashalg='sha256'`.
    Sha256,
    /// `hashalg='sha384'`.
    Sha384,
    /// `hashalg='sha512'`, Pyramid's default.
    #[default]
    Sha512,
}

#[cfg(feature = "pyramid2")]
impl HashAlg {
    const ALL: [Self; 4] = [Self::Sha1, Self::Sha256, Self::Sha384, Self::Sha512];

    /// The name Pyramid (and Python's `hashlib`) gives the hash.
    const fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Length of the signature in bytes (before base64).
    pub(crate) const fn digest_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

#[cfg(feature = "pyramid2")]
impl fmt::Display for HashAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(feature = "pyramid2")]
impl std::str::FromStr for HashAlg {
    type Err = crate::ConfigError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|h| h.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| crate::ConfigError::UnknownHashAlg {
                name: name.to_owned(),
            })
    }
}
