//! The sealed format ([`Format::sealed`](crate::Format::sealed) has its
//! bytes): the payload encrypted and authenticated, and bound to its
//! cookie name. The nonce is 24 random bytes, fresh for every value: XChaCha20's nonce
//! is long enough for random nonces never to repeat in practice, which is
//! what keeps the key stream secret. Nothing is compressed
//! (compressed lengths would leak the secrets in a session).
//! `tests/vectors/make_sealed_vectors.py` is an independent implementation
//! of the format; `tests/vectors/sealed.json` its vectors.
//!
//! # How, and why so
//!
//! XChaCha20-Poly1305 is computed as its definition builds it
//! (draft-irtf-cfrg-xchacha, section 2.3): HChaCha20 of the key and the
//! nonce's first 16 bytes gives a subkey, and the value is the
//! ChaCha20-Poly1305 of RFC 8439 under that subkey, with the 12-byte nonce
//! `0u32 || nonce[16..24]`. HChaCha20 is one ChaCha block without the final
//! addition, written below in safe code (a few hundred instructions a
//! value); the AEAD is `ring`'s, whose assembly (from BoringSSL) is several
//! times faster on a cookie than the portable and AVX2 Rust of
//! `chacha20poly1305` 0.10 and 0.11, whose `poly1305` backends call their
//! vector helpers out of line. The bytes are the same: the vectors prove it.
//!
//! Nonces come from a ChaCha20 generator per thread (`rand_chacha`), seeded
//! with 32 bytes from the operating system and seeded again after every
//! 64 KiB of output ([`RESEED_AFTER`]), instead of a system call for each:
//! the nonce is still 24 bytes that nobody can predict, from a generator as
//! strong as the operating system's own (Linux's is ChaCha20 too), so the
//! argument above holds unchanged. Each thread's generator has its own
//! seed, so threads never share a stream. A forked child inherits its
//! parent's generator: `rand`'s `ReseedingRng` counts forks with a
//! `pthread_atfork` handler and seeds the generator again, in parent and
//! child alike, before the first block it makes after one. Every nonce is
//! a block of its own ([`NonceCore`]), so no byte made before a fork is
//! drawn after it. This costs no system call; checking the process id on
//! every nonce, the other way to see a fork, cost a `getpid` call, which
//! on the benchmarks' machine was most of what a sealed write cost over a
//! signed one.
//!
//! Sealing writes the version, nonce, ciphertext and tag into one buffer
//! kept per thread, then base64 into the output.
//! Opening decrypts in the decoded buffer, which becomes the payload. The
//! associated data is built on the stack for names up to
//! [`AAD_STACK_LEN`] bytes.

use std::{
    cell::{Cell, RefCell},
    fmt,
};

use base64::Engine as _;
use hkdf::Hkdf;
use rand::rngs::{OsRng, adapter::ReseedingRng};
use rand_chacha::{
    ChaCha20Rng,
    rand_core::{RngCore, SeedableRng, block::BlockRngCore},
};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use sha2::Sha256;

use super::{BASE64URL, WireFormat, push_base64};
use crate::error::DecodeError;

/// The first byte of every value: the format version, authenticated too.
const VERSION: u8 = 0x01;
/// HKDF's `info`: keys for this format and version only, never the same
/// as a key the secret makes for anything else.
const INFO: &[u8] = b"tower-cookie-session/sealed/v1";
const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// The version byte and the nonce.
const HEADER_LEN: usize = 1 + NONCE_LEN;
/// What sealing adds to a payload, before base64.
const OVERHEAD: usize = HEADER_LEN + TAG_LEN;
/// The longest associated data (version and cookie name) built on the
/// stack; a longer name takes a `Vec`.
const AAD_STACK_LEN: usize = 128;
/// Bytes a thread's nonce generator gives before it is seeded again from
/// the operating system: 64 KiB (2,731 nonces), as `rand`'s `ThreadRng`
/// reseeds. Not needed for uniqueness (the generator never repeats), but
/// it bounds how many nonces one leaked generator state would tell.
const RESEED_AFTER: u64 = 64 * 1024;

/// A 256-bit key, derived from one secret.
type Key = [u8; KEY_LEN];

/// The sealed format: a key for each secret, primary first, each derived
/// once when the configuration is made, so that no request runs HKDF.
#[derive(Clone)]
pub(crate) struct Sealed {
    primary: Key,
    fallbacks: Vec<Key>,
}

impl Sealed {
    pub(crate) fn new<'s>(primary: &[u8], fallbacks: impl IntoIterator<Item = &'s [u8]>) -> Self {
        Self {
            primary: derive_key(primary),
            fallbacks: fallbacks.into_iter().map(derive_key).collect(),
        }
    }

    /// The primary, then the fallbacks, in the order they are tried.
    fn iter(&self) -> impl Iterator<Item = &Key> {
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
        // The thread's buffer, taken out of its cell and put back after,
        // or a new one while the thread's locals are being dropped.
        let mut raw = SCRATCH.try_with(Cell::take).unwrap_or_default();
        raw.clear();
        raw.reserve(OVERHEAD.saturating_add(payload.len()));
        raw.push(VERSION);
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(payload);
        // `raw` holds the header, so the split is in bounds.
        let (_, plaintext) = raw.split_at_mut(HEADER_LEN);
        let tag = with_aad(cookie_name, |aad| {
            subkey(&self.primary, &nonce).seal_in_place_separate_tag(
                chacha_nonce(&nonce),
                Aad::from(aad),
                plaintext,
            )
        });
        match tag {
            Ok(tag) => raw.extend_from_slice(tag.as_ref()),
            #[allow(
                clippy::unreachable,
                reason = "a cookie is far below the 256 GiB ChaCha20-Poly1305 seals"
            )]
            Err(_) => unreachable!("ChaCha20-Poly1305 seals messages up to 256 GiB"),
        }
        out.reserve(sealed_len(payload.len()));
        push_base64(&BASE64URL, &raw, out);
        // Only the value's own bytes stay in it: the payload was
        // encrypted in place.
        _ = SCRATCH.try_with(|scratch| scratch.set(raw));
    }
}

impl WireFormat for Sealed {
    /// Appends the value sealing `payload` for the cookie `cookie_name`
    /// with the primary secret, under a fresh random nonce.
    fn seal_into(&self, payload: &[u8], cookie_name: &str, out: &mut Vec<u8>) {
        self.seal_with(fresh_nonce(), payload, cookie_name, out);
    }

    /// Opens `value` for the cookie `cookie_name` with each secret in
    /// order; returns the payload and the index of the secret that opened
    /// it (0: primary). The payload is not parsed here.
    fn open(&self, value: &str, cookie_name: &str) -> Result<(Vec<u8>, usize), DecodeError> {
        let mut raw = BASE64URL
            .decode(value)
            .map_err(|_| DecodeError::InvalidBase64)?;
        let (&version, rest) = raw.split_first().ok_or(DecodeError::TooShort)?;
        // The version first: another version may be laid out otherwise.
        if version != VERSION {
            return Err(DecodeError::UnknownVersion);
        }
        let nonce: [u8; NONCE_LEN] = rest
            .get(..NONCE_LEN)
            .and_then(|nonce| nonce.try_into().ok())
            .ok_or(DecodeError::TooShort)?;
        let payload_len = raw
            .len()
            .checked_sub(OVERHEAD)
            .ok_or(DecodeError::TooShort)?;
        with_aad(cookie_name, |aad| {
            for (index, key) in self.iter().enumerate() {
                if index > 0 {
                    // A failed try wipes the plaintext it made: decode
                    // the value again for the next key. Only values that
                    // the primary does not open pay this, and they are
                    // rare (a secret being rotated out) or forged.
                    raw.clear();
                    BASE64URL
                        .decode_vec(value, &mut raw)
                        .map_err(|_| DecodeError::InvalidBase64)?;
                }
                // Decrypts in place, moving the payload to the front.
                let opened = subkey(key, &nonce)
                    .open_within(chacha_nonce(&nonce), Aad::from(aad), &mut raw, HEADER_LEN..)
                    .is_ok();
                if opened {
                    raw.truncate(payload_len);
                    return Ok(index);
                }
            }
            Err(DecodeError::BadSignature)
        })
        .map(|index| (raw, index))
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

/// XChaCha20-Poly1305's ChaCha20-Poly1305 key for `key` and `nonce`:
/// HChaCha20 of the key and the nonce's first 16 bytes.
fn subkey(key: &Key, nonce: &[u8; NONCE_LEN]) -> LessSafeKey {
    let mut input = [0u8; 16];
    input.copy_from_slice(&nonce[..16]);
    match UnboundKey::new(&CHACHA20_POLY1305, &hchacha20(key, &input)) {
        Ok(key) => LessSafeKey::new(key),
        #[allow(
            clippy::unreachable,
            reason = "ring refuses only keys of the wrong length"
        )]
        Err(_) => unreachable!("ChaCha20-Poly1305 takes 32-byte keys"),
    }
}

/// XChaCha20-Poly1305's ChaCha20-Poly1305 nonce for `nonce`: four zero
/// bytes and the nonce's last 8 bytes.
fn chacha_nonce(nonce: &[u8; NONCE_LEN]) -> Nonce {
    let mut chacha = [0u8; 12];
    chacha[4..].copy_from_slice(&nonce[16..]);
    Nonce::assume_unique_for_key(chacha)
}

/// HChaCha20 (draft-irtf-cfrg-xchacha, section 2.2): the ChaCha20 state of
/// `key` with `input` in place of the counter and nonce, 20 rounds, and
/// the first and last rows, without ChaCha20's final addition.
fn hchacha20(key: &Key, input: &[u8; 16]) -> Key {
    /// ChaCha's quarter round.
    fn quarter(a: &mut u32, b: &mut u32, c: &mut u32, d: &mut u32) {
        *a = a.wrapping_add(*b);
        *d = (*d ^ *a).rotate_left(16);
        *c = c.wrapping_add(*d);
        *b = (*b ^ *c).rotate_left(12);
        *a = a.wrapping_add(*b);
        *d = (*d ^ *a).rotate_left(8);
        *c = c.wrapping_add(*d);
        *b = (*b ^ *c).rotate_left(7);
    }
    let [k0, k1, k2, k3, k4, k5, k6, k7] = le_words(key);
    let [i0, i1, i2, i3] = le_words(input);
    // "expand 32-byte k", the key, the input.
    let mut state = [
        0x6170_7865,
        0x3320_646e,
        0x7962_2d32,
        0x6b20_6574,
        k0,
        k1,
        k2,
        k3,
        k4,
        k5,
        k6,
        k7,
        i0,
        i1,
        i2,
        i3,
    ];
    let [
        x0,
        x1,
        x2,
        x3,
        x4,
        x5,
        x6,
        x7,
        x8,
        x9,
        x10,
        x11,
        x12,
        x13,
        x14,
        x15,
    ] = &mut state;
    for _ in 0..10 {
        // A column round, then a diagonal round.
        quarter(x0, x4, x8, x12);
        quarter(x1, x5, x9, x13);
        quarter(x2, x6, x10, x14);
        quarter(x3, x7, x11, x15);
        quarter(x0, x5, x10, x15);
        quarter(x1, x6, x11, x12);
        quarter(x2, x7, x8, x13);
        quarter(x3, x4, x9, x14);
    }
    let mut out = Key::default();
    let words = [*x0, *x1, *x2, *x3, *x12, *x13, *x14, *x15];
    for (bytes, word) in out.chunks_exact_mut(4).zip(words) {
        bytes.copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// `bytes` as little-endian 32-bit words (`N` of them, from `4 * N` bytes).
fn le_words<const N: usize>(bytes: &[u8]) -> [u32; N] {
    let mut words = [0; N];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
        if let &[b0, b1, b2, b3] = chunk {
            *word = u32::from_le_bytes([b0, b1, b2, b3]);
        }
    }
    words
}

/// Calls `f` with the associated data: the version and the cookie name,
/// so that a value opens under this version and name only.
fn with_aad<R>(cookie_name: &str, f: impl FnOnce(&[u8]) -> R) -> R {
    let name = cookie_name.as_bytes();
    let mut stack = [0u8; AAD_STACK_LEN];
    if let Some(aad) = stack.get_mut(..=name.len()) {
        if let Some((version, rest)) = aad.split_first_mut() {
            *version = VERSION;
            rest.copy_from_slice(name);
        }
        f(aad)
    } else {
        f(&[&[VERSION], name].concat())
    }
}

thread_local! {
    /// Each thread's buffer for the raw value being sealed (version,
    /// nonce, ciphertext, tag), kept from one value to the next so that
    /// sealing allocates nothing once it has grown to the largest value.
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    /// Each thread's nonce generator, made at its first nonce.
    static NONCES: RefCell<Option<NonceRng>> = const { RefCell::new(None) };
}

/// A thread's nonce generator: ChaCha20 under `rand`'s reseeding adapter,
/// which seeds it again from the operating system after
/// [`RESEED_AFTER`] bytes of output and, in both processes, after a
/// `fork` (a `pthread_atfork` handler counts forks; every block the
/// adapter asks for checks the count first).
type NonceRng = ReseedingRng<NonceCore, OsRng>;

/// ChaCha20 giving one nonce per block, so that every nonce is a block
/// of its own and so checked against forks: a buffered part of a block
/// made before a fork would be drawn again by the child.
struct NonceCore(ChaCha20Rng);

impl BlockRngCore for NonceCore {
    type Item = u32;
    type Results = [u32; NONCE_LEN / 4];

    fn generate(&mut self, results: &mut Self::Results) {
        for word in results {
            *word = self.0.next_u32();
        }
    }
}

impl SeedableRng for NonceCore {
    type Seed = <ChaCha20Rng as SeedableRng>::Seed;

    fn from_seed(seed: Self::Seed) -> Self {
        Self(ChaCha20Rng::from_seed(seed))
    }
}

/// 24 fresh random bytes from this thread's generator (one block of
/// [`NonceCore`], so one fork check), or straight from the operating
/// system while the thread's locals are being dropped.
fn fresh_nonce() -> [u8; NONCE_LEN] {
    let drawn = NONCES.try_with(|cell| {
        let mut rng = cell.try_borrow_mut().ok()?;
        let rng = rng.get_or_insert_with(|| {
            ReseedingRng::new(
                NonceCore::from_seed(crate::random::bytes()),
                RESEED_AFTER,
                OsRng,
            )
        });
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        Some(nonce)
    });
    drawn.ok().flatten().unwrap_or_else(crate::random::bytes)
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
    fn hchacha20_gives_the_drafts_vector() {
        // draft-irtf-cfrg-xchacha-03, section 2.2.1.
        let key: Key = std::array::from_fn(|i| u8::try_from(i).unwrap());
        let input = unhex("000000090000004a0000000031415927")
            .try_into()
            .unwrap();
        assert_eq!(
            hchacha20(&key, &input).to_vec(),
            unhex("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc")
        );
    }

    #[test]
    fn nonces_differ_across_reseeds_and_threads() {
        // Past two reseeds.
        let count = 2 * RESEED_AFTER as usize / NONCE_LEN + 2;
        let mut seen: std::collections::HashSet<[u8; NONCE_LEN]> =
            (0..count).map(|_| fresh_nonce()).collect();
        assert_eq!(seen.len(), count);
        let other = std::thread::spawn(|| (0..100).map(|_| fresh_nonce()).collect::<Vec<_>>())
            .join()
            .unwrap();
        for nonce in other {
            assert!(seen.insert(nonce));
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
