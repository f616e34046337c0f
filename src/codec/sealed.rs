//! The sealed format ([`Format::sealed`](crate::Format::sealed) has its
//! bytes): the payload encrypted and authenticated, and bound to its
//! cookie name. The nonce is 24 random bytes, fresh for every value: XChaCha20's nonce
//! is long enough for random nonces never to repeat in practice, which is
//! what keeps the key stream secret. Nothing is compressed
//! (compressed lengths would leak the secrets in a session).
//! `tests/vectors/make_sealed_vectors.py` is an independent implementation
//! of the format; `tests/vectors/sealed.json` its vectors.

use std::fmt;

use base64::Engine as _;
use chacha20poly1305::{AeadInPlace, Key, KeyInit, Tag, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;

use super::{BASE64URL, WireFormat, push_base64};
use crate::error::DecodeError;

/// The first byte of every value: the format version, authenticated too.
const VERSION: u8 = 0x01;
/// HKDF's `info`: keys for this format and version only, never the same
/// as a key the secret makes for anything else.
const INFO: &[u8] = b"tower-cookie-session/sealed/v1";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// The version byte and the nonce.
const HEADER_LEN: usize = 1 + NONCE_LEN;
/// What sealing adds to a payload, before base64.
const OVERHEAD: usize = HEADER_LEN + TAG_LEN;

/// The sealed format: a cipher for each secret, primary first, each keyed
/// once when the configuration is made, so that no request derives a key.
#[derive(Clone)]
pub(crate) struct Sealed {
    primary: XChaCha20Poly1305,
    fallbacks: Vec<XChaCha20Poly1305>,
}

impl Sealed {
    pub(crate) fn new<'s>(primary: &[u8], fallbacks: impl IntoIterator<Item = &'s [u8]>) -> Self {
        let keyed = |secret: &[u8]| XChaCha20Poly1305::new(&derive_key(secret));
        Self {
            primary: keyed(primary),
            fallbacks: fallbacks.into_iter().map(keyed).collect(),
        }
    }

    /// The primary, then the fallbacks, in the order they are tried.
    fn iter(&self) -> impl Iterator<Item = &XChaCha20Poly1305> {
        std::iter::once(&self.primary).chain(&self.fallbacks)
    }

    /// [`seal_into`](Self::seal_into) with a chosen nonce, for fixed
    /// vectors. Never outside tests: a nonce must not be used twice.
    #[cfg(test)]
    pub(crate) fn seal_into_with_nonce(
        &self,
        nonce: [u8; NONCE_LEN],
        payload: &[u8],
        cookie_name: &str,
        out: &mut Vec<u8>,
    ) {
        self.seal_with(nonce, payload, cookie_name, out);
    }

    fn seal_with(
        &self,
        nonce: [u8; NONCE_LEN],
        payload: &[u8],
        cookie_name: &str,
        out: &mut Vec<u8>,
    ) {
        let mut raw = Vec::with_capacity(OVERHEAD + payload.len());
        raw.push(VERSION);
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(payload);
        // `raw` holds the header, so the split is in bounds.
        let (_, plaintext) = raw.split_at_mut(HEADER_LEN);
        let tag = match self.primary.encrypt_in_place_detached(
            &XNonce::from(nonce),
            &aad(cookie_name),
            plaintext,
        ) {
            Ok(tag) => tag,
            #[allow(
                clippy::unreachable,
                reason = "a cookie is far below the 256 GiB XChaCha20-Poly1305 seals"
            )]
            Err(_) => unreachable!("XChaCha20-Poly1305 seals messages up to 256 GiB"),
        };
        raw.extend_from_slice(&tag);
        out.reserve(sealed_len(payload.len()));
        push_base64(&BASE64URL, &raw, out);
    }
}

impl WireFormat for Sealed {
    /// Appends the value sealing `payload` for the cookie `cookie_name`
    /// with the primary secret, under a fresh random nonce.
    fn seal_into(&self, payload: &[u8], cookie_name: &str, out: &mut Vec<u8>) {
        let mut nonce = [0u8; NONCE_LEN];
        // Sealing without a fresh nonce would give away the key stream:
        // better no response than that.
        #[allow(
            clippy::panic,
            reason = "documented: the OS random source failing is fatal"
        )]
        if let Err(e) = getrandom::fill(&mut nonce) {
            panic!("the operating system's random number generator failed: {e}");
        }
        self.seal_with(nonce, payload, cookie_name, out);
    }

    /// Opens `value` for the cookie `cookie_name` with each secret in
    /// order; returns the payload and the index of the secret that opened
    /// it (0: primary). The payload is not parsed here.
    fn open(&self, value: &str, cookie_name: &str) -> Result<(Vec<u8>, usize), DecodeError> {
        let mut raw = BASE64URL
            .decode(value)
            .map_err(|_| DecodeError::InvalidBase64)?;
        let (version, rest) = raw.split_first_mut().ok_or(DecodeError::TooShort)?;
        // The version first: another version may be laid out otherwise.
        if *version != VERSION {
            return Err(DecodeError::UnknownVersion);
        }
        let (nonce, rest) = rest
            .split_at_mut_checked(NONCE_LEN)
            .ok_or(DecodeError::TooShort)?;
        let payload_len = rest
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(DecodeError::TooShort)?;
        let (sealed, tag) = rest
            .split_at_mut_checked(payload_len)
            .ok_or(DecodeError::TooShort)?;
        let nonce =
            XNonce::from(<[u8; NONCE_LEN]>::try_from(&*nonce).map_err(|_| DecodeError::TooShort)?);
        let tag = Tag::from(<[u8; TAG_LEN]>::try_from(&*tag).map_err(|_| DecodeError::TooShort)?);
        let aad = aad(cookie_name);
        // Each try checks the tag before it decrypts, so a failed try
        // leaves `sealed` as it was for the next key.
        let index = self
            .iter()
            .position(|cipher| {
                cipher
                    .decrypt_in_place_detached(&nonce, &aad, sealed, &tag)
                    .is_ok()
            })
            .ok_or(DecodeError::BadSignature)?;
        raw.truncate(HEADER_LEN + payload_len);
        raw.drain(..HEADER_LEN);
        Ok((raw, index))
    }

    fn value_len(&self, payload: &[u8]) -> usize {
        sealed_len(payload.len())
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealed([redacted])")
    }
}

/// Length of a value whose payload is `payload_len` bytes.
const fn sealed_len(payload_len: usize) -> usize {
    payload_len
        .saturating_add(OVERHEAD)
        .saturating_mul(4)
        .div_ceil(3)
}

/// The 32-byte key of `secret`.
fn derive_key(secret: &[u8]) -> Key {
    let mut key = Key::default();
    // HKDF refuses only outputs longer than 255 hashes.
    if Hkdf::<Sha256>::new(None, secret)
        .expand(INFO, &mut key)
        .is_err()
    {
        #[allow(
            clippy::unreachable,
            reason = "HKDF refuses only outputs longer than 255 hashes"
        )]
        {
            unreachable!("HKDF-SHA256 makes 32-byte keys");
        }
    }
    key
}

/// The associated data: the version and the cookie name, so that a value
/// opens under this version and name only.
fn aad(cookie_name: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(1 + cookie_name.len());
    aad.push(VERSION);
    aad.extend_from_slice(cookie_name.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::{Map, Value};

    use super::*;
    use crate::codec::{MAX_COOKIE_VALUE_LEN, payload};

    #[derive(Deserialize)]
    struct Vectors {
        info: String,
        keys: Vec<DerivedKey>,
        sealed: Vec<SealedVector>,
        refusals: Vec<Refusal>,
    }

    #[derive(Deserialize)]
    struct DerivedKey {
        secret_hex: String,
        key_hex: String,
    }

    #[derive(Deserialize)]
    struct SealedVector {
        name: String,
        cookie_name: String,
        secrets_hex: Vec<String>,
        sealed_with: usize,
        nonce_hex: String,
        payload: String,
        value: String,
        accessed: f64,
        created: f64,
        state: Map<String, Value>,
        #[serde(default)]
        also_accepted: Vec<String>,
    }

    #[derive(Deserialize)]
    struct Refusal {
        name: String,
        cookie_name: String,
        secrets_hex: Vec<String>,
        value: String,
        /// The `DecodeError` variant, by name.
        error: String,
        /// Whether the value opens, and the payload parser refuses it.
        opens: bool,
    }

    fn vectors() -> Vectors {
        serde_json::from_str(include_str!("../../tests/vectors/sealed.json")).unwrap()
    }

    fn unhex(hex: &str) -> Vec<u8> {
        assert!(hex.len().is_multiple_of(2), "{hex}");
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    fn keys_of(secrets_hex: &[String]) -> super::Sealed {
        let secrets: Vec<Vec<u8>> = secrets_hex.iter().map(|s| unhex(s)).collect();
        Sealed::new(&secrets[0], secrets[1..].iter().map(Vec::as_slice))
    }

    fn seal(keys: &Sealed, payload: &[u8], cookie_name: &str) -> String {
        crate::codec::seal_to_string(keys, payload, cookie_name)
    }

    const SECRET: &[u8] = b"a primary secret of at least 32 bytes";
    const OLD: &[u8] = b"an old secret, kept as a fallback";
    const OLDER: &[u8] = b"an older secret, still kept as a fallback";

    #[test]
    fn keys_are_hkdf_sha256_of_each_secret() {
        let v = vectors();
        assert_eq!(v.info.as_bytes(), INFO);
        assert!(!v.keys.is_empty());
        for k in &v.keys {
            let key = derive_key(&unhex(&k.secret_hex));
            assert_eq!(key.as_slice(), unhex(&k.key_hex), "{}", k.secret_hex);
        }
    }

    #[test]
    fn sealing_with_the_vector_nonce_writes_the_vector_value() {
        for v in vectors().sealed {
            let secret = unhex(&v.secrets_hex[v.sealed_with]);
            let nonce = unhex(&v.nonce_hex).try_into().unwrap();
            let mut out = b"kept|".to_vec();
            Sealed::new(&secret, []).seal_into_with_nonce(
                nonce,
                v.payload.as_bytes(),
                &v.cookie_name,
                &mut out,
            );
            assert_eq!(out, format!("kept|{}", v.value).into_bytes(), "{}", v.name);
            assert_eq!(v.value.len(), sealed_len(v.payload.len()), "{}", v.name);
        }
    }

    #[test]
    fn every_vector_opens_to_its_payload_and_state() {
        for v in vectors().sealed {
            let keys = keys_of(&v.secrets_hex);
            let padded = format!("{}{}", v.value, "=".repeat((4 - v.value.len() % 4) % 4));
            for value in [&v.value, &padded].into_iter().chain(&v.also_accepted) {
                let (payload, index) = keys.open(value, &v.cookie_name).unwrap();
                assert_eq!(payload, v.payload.as_bytes(), "{}", v.name);
                assert_eq!(index, v.sealed_with, "{}", v.name);
            }
            let decoded = payload::decode(v.payload.as_bytes()).unwrap();
            assert_eq!(decoded.accessed, v.accessed, "{}", v.name);
            assert_eq!(decoded.created, v.created, "{}", v.name);
            let state: Map<String, Value> = decoded
                .state
                .keys()
                .map(|k| {
                    let value = decoded.state.get(k).unwrap();
                    (k.to_owned(), serde_json::from_str(value).unwrap())
                })
                .collect();
            assert_eq!(state, v.state, "{}", v.name);
        }
    }

    #[test]
    fn every_refusal_is_refused_for_its_reason() {
        for r in vectors().refusals {
            let keys = keys_of(&r.secrets_hex);
            let refused = match keys.open(&r.value, &r.cookie_name) {
                Err(e) => {
                    assert!(!r.opens, "{} did not open: {e:?}", r.name);
                    e
                }
                Ok((payload, _)) => {
                    assert!(r.opens, "{} opened", r.name);
                    payload::decode(payload).unwrap_err()
                }
            };
            assert_eq!(format!("{refused:?}"), r.error, "{}", r.name);
        }
    }

    #[test]
    fn fallbacks_are_tried_in_order() {
        let value = seal(&Sealed::new(OLD, []), b"[1,2,{}]", "session");
        let keys = Sealed::new(SECRET, [OLDER, OLD]);
        assert_eq!(keys.open(&value, "session"), Ok((b"[1,2,{}]".to_vec(), 2)));
        // The first secret that opens it wins.
        let keys = Sealed::new(SECRET, [OLD, OLDER, OLD]);
        assert_eq!(keys.open(&value, "session"), Ok((b"[1,2,{}]".to_vec(), 1)));
        // The primary seals, whatever opened the value.
        let resealed = seal(&keys, b"[1,2,{}]", "session");
        assert_eq!(keys.open(&resealed, "session").unwrap().1, 0);
        assert_eq!(
            Sealed::new(OLD, []).open(&resealed, "session"),
            Err(DecodeError::BadSignature)
        );
        assert_eq!(
            Sealed::new(SECRET, [OLDER]).open(&value, "session"),
            Err(DecodeError::BadSignature)
        );
    }

    #[test]
    fn a_value_opens_under_its_own_cookie_name_only() {
        let keys = Sealed::new(SECRET, []);
        let value = seal(&keys, b"[1,2,{}]", "session");
        assert!(keys.open(&value, "session").is_ok());
        for other in ["", "Session", "session ", "__Host-session", "other"] {
            assert_eq!(keys.open(&value, other), Err(DecodeError::BadSignature));
        }
    }

    #[test]
    fn two_seals_of_one_payload_differ() {
        let keys = Sealed::new(SECRET, []);
        let a = seal(&keys, b"[1,2,{}]", "session");
        let b = seal(&keys, b"[1,2,{}]", "session");
        assert_ne!(a, b);
        // Different nonces, not merely different tags.
        let nonce = |v: &str| BASE64URL.decode(v).unwrap()[1..HEADER_LEN].to_vec();
        assert_ne!(nonce(&a), nonce(&b));
        assert_eq!(keys.open(&a, "session"), keys.open(&b, "session"));
    }

    #[test]
    fn the_value_never_contains_the_plaintext() {
        let keys = Sealed::new(SECRET, []);
        let payload = br#"[1700000000,1699990000,{"password":"hunter2hunter2hunter2"}]"#;
        let value = seal(&keys, payload, "session");
        let raw = BASE64URL.decode(&value).unwrap();
        assert!(!raw.windows(7).any(|w| w == b"hunter2"));
        assert!(!value.contains("hunter2"));
        // Nor its base64, at any of the three alignments.
        for skip in 0..3 {
            let encoded = BASE64URL.encode(&payload[skip..]);
            assert!(!value.contains(&encoded[4..24]), "{skip}");
        }
    }

    #[test]
    fn value_length_is_sealed_len_up_to_the_cookie_limit() {
        let keys = Sealed::new(SECRET, []);
        for len in (0..100).chain([3006, 3007, 3008]) {
            let payload = vec![b'x'; len];
            assert_eq!(seal(&keys, &payload, "s").len(), sealed_len(len), "{len}");
        }
        assert_eq!(sealed_len(3007), MAX_COOKIE_VALUE_LEN);
        assert!(sealed_len(3008) > MAX_COOKIE_VALUE_LEN);
        assert_eq!(sealed_len(usize::MAX), usize::MAX.div_ceil(3));
    }

    #[test]
    fn every_truncation_and_bit_flip_is_refused() {
        let keys = Sealed::new(SECRET, [OLD]);
        let raw = BASE64URL
            .decode(seal(&keys, b"[1,2,{\"a\":1}]", "session"))
            .unwrap();
        for len in 0..raw.len() {
            let cut = BASE64URL.encode(&raw[..len]);
            assert!(keys.open(&cut, "session").is_err(), "{len}");
        }
        for bit in 0..raw.len() * 8 {
            let mut flipped = raw.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            let refused = keys.open(&BASE64URL.encode(&flipped), "session");
            let expected = if bit < 8 {
                DecodeError::UnknownVersion
            } else {
                DecodeError::BadSignature
            };
            assert_eq!(refused, Err(expected), "bit {bit}");
        }
    }

    #[test]
    fn debug_shows_no_key() {
        let keys = Sealed::new(SECRET, [OLD]);
        assert_eq!(format!("{keys:?}"), "Sealed([redacted])");
    }
}
