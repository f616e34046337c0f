//! Properties of the layer, checked with generated inputs: every request
//! goes through a real `SessionLayer` around a handler, and every
//! `Set-Cookie` is fed back the way a browser does.
//!
//! - any JSON state round-trips unchanged;
//! - a changed, truncated or extended cookie value is refused, unless it
//!   only spells the same signature and payload another way (hex digits in
//!   either case, base64 padding left off in whole or in part): then it is
//!   the same session;
//! - a value signed with any other secret is refused; with that secret as a
//!   fallback it is accepted and re-signed with the primary;
//! - any sequence of dict and flash operations, over several requests,
//!   leaves what a `BTreeMap` driven by the same calls holds;
//! - with revocation on, too, and then a session keeps its id until it is
//!   invalidated, and every cookie written before an invalidation is
//!   refused after it.

mod common;

use std::{
    collections::BTreeMap,
    future::Future,
    pin::pin,
    task::{Context, Poll, Waker},
    time::Duration,
};

use base64::{Engine as _, engine::general_purpose::STANDARD_NO_PAD};
use cookie::Cookie;
use http::{HeaderValue, Response};
use proptest::prelude::*;
use serde_json::{Value, value::RawValue};
use tower_cookie_session::{
    Expiry, MAX_COOKIE_VALUE_LEN, MemoryRevocations, Session, SessionError, SessionLayer,
    signed_deserialize,
};

use common::{
    cookies::{cookie_at, now, session_set_cookie},
    service::call,
};

const SECRET: &[u8] = b"the property tests' primary secret, 32+ bytes";

/// Runs a future that never waits: the layer around a plain handler
/// finishes on its first poll.
fn block_on<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the layer waited on nothing"),
    }
}

/// Sends one request carrying `cookie` (a whole `Cookie` header) through
/// `layer` around `handler`, here and now: [`call`] never waits.
fn send<R>(
    layer: &SessionLayer,
    cookie: Option<&[u8]>,
    handler: impl FnOnce(&Session) -> R,
) -> (R, Response<()>) {
    block_on(call(layer, cookie, handler))
}

/// What a response did to the session cookie.
#[derive(Debug, PartialEq)]
enum Written {
    Nothing,
    Value(String),
    Removed,
}

fn written(response: &Response<()>) -> Written {
    let Some(cookie) = session_set_cookie(response.headers()) else {
        return Written::Nothing;
    };
    assert!(cookie.value().len() <= MAX_COOKIE_VALUE_LEN);
    if cookie.max_age() == Some(cookie::time::Duration::ZERO) {
        Written::Removed
    } else {
        Written::Value(cookie.value().to_owned())
    }
}

/// A browser's cookie jar, for the session cookie only.
#[derive(Default)]
struct Browser {
    value: Option<String>,
}

impl Browser {
    fn send<R>(&mut self, layer: &SessionLayer, handler: impl FnOnce(&Session) -> R) -> R {
        let header = self.value.as_ref().map(|v| format!("session={v}"));
        let (out, response) = send(layer, header.as_deref().map(str::as_bytes), handler);
        match written(&response) {
            Written::Nothing => {}
            Written::Value(v) => self.value = Some(v),
            Written::Removed => self.value = None,
        }
        out
    }
}

/// Everything in the session, as `Value`s.
fn contents(session: &Session) -> BTreeMap<String, Value> {
    session
        .keys()
        .into_iter()
        .map(|k| {
            let v = session.get::<Value>(&k).unwrap().unwrap();
            (k, v)
        })
        .collect()
}

/// `(is_new, contents)` of the session a request with `cookie` sees.
fn seen(layer: &SessionLayer, cookie: &[u8]) -> (bool, BTreeMap<String, Value>) {
    send(layer, Some(cookie), |s| (s.is_new(), contents(s))).0
}

/// A real cookie: what the layer writes for a new session holding `state`.
fn cookie_for(layer: &SessionLayer, state: &BTreeMap<String, Value>) -> String {
    let (_, response) = send(layer, None, |s| {
        assert!(s.is_new());
        // An empty new session is written only when marked changed.
        s.changed();
        for (k, v) in state {
            s.insert(k.clone(), v).unwrap();
        }
    });
    match written(&response) {
        Written::Value(v) => v,
        other => panic!("a new session is written, not {other:?}"),
    }
}

/// `state` as the session gives it back: each value is stored as its JSON
/// text, byte for byte, and read with serde_json, whose default float
/// parsing may be one ulp off the value that was written.
fn as_read(state: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    state
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::from_str(&v.to_string()).unwrap()))
        .collect()
}

/// The first keys of `state` that fit comfortably in a cookie.
fn within_limit(state: BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    let mut kept = BTreeMap::new();
    for (k, v) in state {
        kept.insert(k.clone(), v);
        if serde_json::to_string(&kept).unwrap().len() > 2500 {
            kept.remove(&k);
            break;
        }
    }
    kept
}

/// Any JSON value: strings with any Unicode, integers, floats, nesting.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinities", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A small session state.
fn state() -> impl Strategy<Value = BTreeMap<String, Value>> {
    prop::collection::btree_map(".{0,10}", json(), 0..5)
}

/// The signature and payload bytes a cookie value stands for, decoded by
/// the format's definition and nothing more lenient: 40 hex digits of
/// either case, then standard base64 whose padding may be left off in
/// whole or in part (as the crate reads it), with no stray bits.
fn meaning(value: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    let (hex, b64) = (value.get(..40)?, value.get(40..)?);
    let signature = (0..40)
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let unpadded = b64.trim_end_matches('=');
    let padding = b64.len() - unpadded.len();
    if padding > (4 - unpadded.len() % 4) % 4 {
        return None;
    }
    Some((signature, STANDARD_NO_PAD.decode(unpadded).ok()?))
}

/// The session cookie's value as the server reads it from a header: the
/// first cookie of that name, surrounding quotes removed, bytes that are
/// not UTF-8 replaced.
fn value_in_header(header: &[u8]) -> Option<String> {
    let header = String::from_utf8_lossy(header);
    Cookie::split_parse(header.as_ref())
        .flatten()
        .find(|c| c.name() == "session")
        .map(|c| c.value_trimmed().to_owned())
}

/// A change to a cookie value, as bytes.
#[derive(Debug, Clone)]
enum Tamper {
    FlipBit { index: usize, bit: u8 },
    SetByte { index: usize, byte: u8 },
    Truncate { len: usize },
    Extend { tail: Vec<u8> },
}

impl Tamper {
    fn apply(&self, value: &[u8]) -> Vec<u8> {
        let mut out = value.to_vec();
        match self {
            Tamper::FlipBit { index, bit } => out[index % value.len()] ^= 1 << (bit % 8),
            Tamper::SetByte { index, byte } => out[index % value.len()] = *byte,
            Tamper::Truncate { len } => out.truncate(len % value.len()),
            Tamper::Extend { tail } => out.extend_from_slice(tail),
        }
        out
    }
}

fn tamper() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(index, bit)| Tamper::FlipBit { index, bit }),
        (any::<usize>(), any::<u8>()).prop_map(|(index, byte)| Tamper::SetByte { index, byte }),
        any::<usize>().prop_map(|len| Tamper::Truncate { len }),
        prop_oneof![
            prop::collection::vec(any::<u8>(), 1..6),
            // Characters a value may already contain.
            "[A-Za-z0-9+/=]{1,6}".prop_map(String::into_bytes),
        ]
        .prop_map(|tail| Tamper::Extend { tail }),
    ]
}

/// Stores `state` through `layer`, then reads it back in the next request,
/// as a browser would: the JSON text comes back byte for byte, so the
/// values are the originals. States over the size limit are discarded.
fn round_trips(layer: &SessionLayer, state: &BTreeMap<String, Value>) -> Result<(), TestCaseError> {
    let mut browser = Browser::default();
    let fits = browser.send(layer, |s| {
        state.iter().all(|(k, v)| match s.insert(k.as_str(), v) {
            Ok(()) => true,
            Err(SessionError::TooLarge { .. }) => false,
            Err(e) => panic!("{e}"),
        })
    });
    prop_assume!(fits, "the state is over the size limit");
    let (seen, raw) = browser.send(layer, |s| {
        let raw: BTreeMap<String, String> = s
            .keys()
            .into_iter()
            .map(|k| {
                let raw: Box<RawValue> = s.get(&k).unwrap().unwrap();
                (k, raw.get().to_owned())
            })
            .collect();
        (contents(s), raw)
    });
    let written: BTreeMap<String, String> = state
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::to_string(v).unwrap()))
        .collect();
    prop_assert_eq!(raw, written);
    prop_assert_eq!(seen, as_read(state));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_json_state_round_trips_unchanged(state in state()) {
        round_trips(&SessionLayer::new(SECRET), &state)?;
    }
}

/// Changes the value `layer` writes for `state` by `tamper`: a fresh
/// session unless `same(read, written)` says the changed value is another
/// spelling of the written one, which must then give the same session.
fn refuses_tampering(
    layer: &SessionLayer,
    state: BTreeMap<String, Value>,
    tamper: &Tamper,
    same: impl Fn(&str, &str) -> bool,
) -> Result<(), TestCaseError> {
    let original = within_limit(state);
    let value = cookie_for(layer, &original);
    let tampered = [b"session=".as_slice(), &tamper.apply(value.as_bytes())].concat();
    // A header an HTTP stack would not carry cannot reach the layer.
    prop_assume!(HeaderValue::from_bytes(&tampered).is_ok());
    let (new, seen) = seen(layer, &tampered);
    if value_in_header(&tampered).is_some_and(|read| same(&read, &value)) {
        prop_assert!(!new);
        prop_assert_eq!(seen, as_read(&original));
    } else {
        prop_assert!(
            new && seen.is_empty(),
            "accepted after {:?}: {:?} from {:?}",
            tamper,
            String::from_utf8_lossy(&tampered),
            value
        );
    }
    Ok(())
}

proptest! {
    // About one change in ten makes bytes no HTTP stack would send; those
    // cases are discarded.
    #![proptest_config(ProptestConfig {
        cases: 1024,
        max_global_rejects: 4096,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_tampered_value_is_refused(state in state(), tamper in tamper()) {
        // Lenient decoding accepts other spellings of the very same bytes
        // (hex case, base64 padding): the same session.
        let same_bytes = |read: &str, value: &str| {
            meaning(read).is_some_and(|m| Some(m) == meaning(value))
        };
        refuses_tampering(&SessionLayer::new(SECRET), state, &tamper, same_bytes)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn a_value_signed_with_another_secret_is_refused_unless_a_fallback(
        other in prop::collection::vec(any::<u8>(), 0..80),
        state in state(),
    ) {
        prop_assume!(other != SECRET);
        let small = within_limit(state);
        // An attacker may sign with a key of any length.
        let now = now();
        let value = cookie_at(now, now, &small, &other);
        let header = format!("session={value}");

        let (new, seen_state) = seen(&SessionLayer::new(SECRET), header.as_bytes());
        prop_assert!(new && seen_state.is_empty(), "accepted a foreign signature");

        // A fallback secret needs 32 bytes, as the primary does.
        if other.len() < 32 {
            return Ok(());
        }

        let rotating = SessionLayer::new(SECRET).fallback_secrets([&other]);
        let ((new, seen_state), response) =
            send(&rotating, Some(header.as_bytes()), |s| (s.is_new(), contents(s)));
        prop_assert!(!new);
        prop_assert_eq!(seen_state, as_read(&small));
        let Written::Value(resigned) = written(&response) else {
            panic!("a fallback-signed session is written again");
        };
        let (_, _, state): (u64, u64, BTreeMap<String, Value>) =
            signed_deserialize(&resigned, SECRET).expect("re-signed with the primary secret");
        prop_assert_eq!(state, as_read(&small));
        prop_assert!(signed_deserialize::<Value>(&resigned, &other).is_err());
    }
}

/// A short key, mostly from a few names so that operations meet.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["a", "b", "c", ""]).prop_map(str::to_owned),
        1 => ".{0,6}",
    ]
}

fn small_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i32>().prop_map(Value::from),
        ".{0,8}".prop_map(Value::String),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Insert(String, Value),
    Remove(String),
    Clear,
    Invalidate,
    Flash(String, Value),
    PopFlash(String),
    SetExpiry(Expiry),
}

fn op() -> impl Strategy<Value = Op> {
    let queue = prop::sample::select(vec!["", "info", "a"]).prop_map(str::to_owned);
    prop_oneof![
        4 => (key(), small_value()).prop_map(|(k, v)| Op::Insert(k, v)),
        2 => key().prop_map(Op::Remove),
        1 => Just(Op::Clear),
        1 => Just(Op::Invalidate),
        2 => (queue.clone(), small_value()).prop_map(|(q, m)| Op::Flash(q, m)),
        2 => queue.prop_map(Op::PopFlash),
        1 => prop_oneof![
            Just(Expiry::Default),
            Just(Expiry::BrowserSession),
            (0u64..100_000_000).prop_map(|ms| Expiry::Persistent(Duration::from_millis(ms))),
        ]
        .prop_map(Op::SetExpiry),
    ]
}

/// Runs `op` on the session and on the model, checking that both answer
/// the same.
fn apply(session: &Session, model: &mut BTreeMap<String, Value>, op: &Op) {
    match op {
        Op::Insert(k, v) => {
            session.insert(k.as_str(), v).unwrap();
            model.insert(k.clone(), v.clone());
        }
        Op::Remove(k) => assert_eq!(session.remove::<Value>(k).unwrap(), model.remove(k)),
        Op::Clear => {
            session.clear();
            model.clear();
        }
        Op::Invalidate => {
            session.invalidate();
            model.clear();
        }
        Op::Flash(queue, message) => {
            let key = format!("_f_{queue}");
            let result = session.flash_to(queue, message, true);
            match model.get_mut(&key) {
                Some(Value::Array(messages)) => {
                    result.unwrap();
                    messages.push(message.clone());
                }
                // Something else was inserted under the flash key.
                Some(_) => assert!(matches!(result, Err(SessionError::Deserialize(_)))),
                None => {
                    result.unwrap();
                    model.insert(key, Value::Array(vec![message.clone()]));
                }
            }
        }
        Op::PopFlash(queue) => {
            let key = format!("_f_{queue}");
            let result = session.pop_flash::<Value>(queue);
            match model.get(&key) {
                Some(Value::Array(messages)) => {
                    assert_eq!(&result.unwrap(), messages);
                    model.remove(&key);
                }
                Some(_) => assert!(result.is_err()),
                None => assert!(result.unwrap().is_empty()),
            }
        }
        Op::SetExpiry(expiry) => {
            session.set_expiry(*expiry).unwrap();
            // Kept in the session as whole seconds (at least one; 0 for a
            // browser session), and read back as set.
            let stored = match expiry {
                Expiry::Persistent(d) => Some(d.as_secs().max(1)),
                Expiry::BrowserSession => Some(0),
                _ => None,
            };
            match stored {
                Some(secs) => model.insert("_exp_".to_owned(), Value::from(secs)),
                None => model.remove("_exp_"),
            };
            let expected = match stored {
                Some(0) => Expiry::BrowserSession,
                Some(secs) => Expiry::Persistent(Duration::from_secs(secs)),
                None => Expiry::Default,
            };
            assert_eq!(session.expiry(), expected);
        }
    }
}

/// Runs `requests` of operations through `layer`, a browser feeding each
/// response's cookie to the next request, against a `BTreeMap` model: the
/// first request sees an empty session, every later one exactly what the
/// one before left.
fn matches_the_model(layer: &SessionLayer, requests: &[Vec<Op>]) -> Result<(), TestCaseError> {
    let mut browser = Browser::default();
    let mut model = BTreeMap::new();
    for ops in requests {
        let before = model.clone();
        let seen = browser.send(layer, |s| {
            let seen = contents(s);
            for op in ops {
                apply(s, &mut model, op);
            }
            seen
        });
        prop_assert_eq!(seen, before);
    }
    let seen = browser.send(layer, contents);
    prop_assert_eq!(seen, model);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn operations_over_requests_match_a_btreemap(
        requests in prop::collection::vec(prop::collection::vec(op(), 0..8), 1..5),
    ) {
        matches_the_model(&SessionLayer::new(SECRET), &requests)?;
    }
}

/// [`matches_the_model`] with revocation on: the same answers (the id
/// aside), one id per session until `invalidate`, and every cookie of a
/// session refused once it has been invalidated.
fn matches_the_model_with_revocation(requests: &[Vec<Op>]) -> Result<(), TestCaseError> {
    let layer = SessionLayer::new(SECRET)
        .max_lifetime(Duration::from_secs(3600))
        .revocation(MemoryRevocations::new());
    let without_id = |s: &Session| {
        let mut seen = contents(s);
        seen.remove("_id_");
        seen
    };
    let mut browser = Browser::default();
    let mut model = BTreeMap::new();
    let mut revoked = Vec::new();
    for ops in requests {
        let (before, cookie) = (model.clone(), browser.value.clone());
        let (seen, id_before, id_after) = browser.send(&layer, |s| {
            let (seen, id) = (without_id(s), s.id());
            for op in ops {
                apply(s, &mut model, op);
            }
            (seen, id, s.id())
        });
        prop_assert_eq!(seen, before);
        let invalidated = ops.iter().any(|op| matches!(op, Op::Invalidate));
        if let (Some(id), Some(cookie)) = (&id_before, cookie) {
            if invalidated {
                prop_assert_ne!(id_after.as_ref(), Some(id));
                revoked.push(cookie);
            } else {
                prop_assert_eq!(id_after.as_ref(), Some(id), "the id is kept");
            }
        }
    }
    let seen = browser.send(&layer, without_id);
    prop_assert_eq!(seen, model);
    for cookie in revoked {
        let header = format!("session={cookie}");
        let (fresh, _) = send(&layer, Some(header.as_bytes()), |s| {
            s.is_new() && s.is_empty()
        });
        prop_assert!(fresh, "a cookie from before an invalidation is refused");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn with_revocation_operations_match_a_btreemap_and_invalidation_revokes(
        requests in prop::collection::vec(prop::collection::vec(op(), 0..8), 1..5),
    ) {
        matches_the_model_with_revocation(&requests)?;
    }
}

/// The same properties for the sealed format (feature `sealed`). It is
/// stricter than the signed one: a value is the same session only when it
/// is the very value written, with or without its base64 padding; every
/// other change, truncation or extension is refused.
#[cfg(feature = "sealed")]
mod sealed {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use chacha20poly1305::{AeadInPlace, KeyInit, Tag, XChaCha20Poly1305, XNonce};
    use hkdf::Hkdf;
    use sha2::Sha256;
    use tower_cookie_session::Format;

    use super::*;

    fn sealed_layer(secret: &[u8]) -> SessionLayer {
        SessionLayer::new(secret).format(Format::sealed())
    }

    /// The cipher of `secret`, from the format's definition (on `Format`):
    /// HKDF-SHA256 without salt, with the format's `info`.
    fn cipher(secret: &[u8]) -> XChaCha20Poly1305 {
        let mut key = [0; 32];
        Hkdf::<Sha256>::new(None, secret)
            .expand(b"tower-cookie-session/sealed/v1", &mut key)
            .unwrap();
        XChaCha20Poly1305::new(&key.into())
    }

    /// `base64url_nopad(0x01 || nonce || ciphertext_and_tag)`, sealed for
    /// the cookie `session`, written here rather than by the crate.
    fn reference_seal(secret: &[u8], nonce: [u8; 24], payload: &[u8]) -> String {
        let mut sealed = payload.to_vec();
        let tag = cipher(secret)
            .encrypt_in_place_detached(&XNonce::from(nonce), b"\x01session", &mut sealed)
            .unwrap();
        let raw = [&[0x01][..], &nonce, &sealed, &tag].concat();
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The payload of a value sealed with `secret` for the cookie
    /// `session`, if it opens.
    fn reference_open(value: &str, secret: &[u8]) -> Option<Vec<u8>> {
        let raw = URL_SAFE_NO_PAD.decode(value).ok()?;
        let (header, rest) = raw.split_at_checked(25)?;
        let (sealed, tag) = rest.split_at_checked(rest.len().checked_sub(16)?)?;
        let nonce = <[u8; 24]>::try_from(header.get(1..)?).ok()?;
        if header[0] != 0x01 {
            return None;
        }
        let mut payload = sealed.to_vec();
        cipher(secret)
            .decrypt_in_place_detached(
                &XNonce::from(nonce),
                b"\x01session",
                &mut payload,
                Tag::from_slice(tag),
            )
            .ok()?;
        Some(payload)
    }

    /// Whether `read` (the value as the server reads it) spells `value`,
    /// as the layer wrote it: the same characters, then no more padding
    /// than the length needs.
    fn same_spelling(read: &str, value: &str) -> bool {
        let unpadded = read.trim_end_matches('=');
        unpadded == value && read.len() - unpadded.len() <= (4 - value.len() % 4) % 4
    }

    /// Any [`Tamper`], or an extension with characters of the value's
    /// alphabet, or with padding alone.
    fn sealed_tamper() -> impl Strategy<Value = Tamper> {
        prop_oneof![
            tamper(),
            prop_oneof!["[A-Za-z0-9_=-]{1,6}", "={1,3}"].prop_map(|tail| Tamper::Extend {
                tail: tail.into_bytes()
            }),
        ]
    }

    /// The characters of a sealed value.
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_json_state_round_trips_unchanged(state in state()) {
            round_trips(&sealed_layer(SECRET), &state)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 1024,
            max_global_rejects: 4096,
            ..ProptestConfig::default()
        })]

        #[test]
        fn a_tampered_value_is_refused(state in state(), tamper in sealed_tamper()) {
            refuses_tampering(&sealed_layer(SECRET), state, &tamper, same_spelling)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Where a random change seldom lands in a long value, every
        /// character in turn: the first two characters spell the version
        /// byte; the last two the end of the tag and, when the length is
        /// not a multiple of 3 bytes, unused bits that must be zero.
        #[test]
        fn every_other_character_at_either_end_is_refused(state in state()) {
            let layer = sealed_layer(SECRET);
            let value = cookie_for(&layer, &within_limit(state));
            let len = value.len();
            for index in [0, 1, len - 2, len - 1] {
                for &c in ALPHABET.iter().filter(|&&c| c != value.as_bytes()[index]) {
                    let mut changed = value.clone().into_bytes();
                    changed[index] = c;
                    let (new, seen) = seen(&layer, &[b"session=".as_slice(), &changed].concat());
                    prop_assert!(
                        new && seen.is_empty(),
                        "accepted {:?} at {} of {:?}",
                        char::from(c),
                        index,
                        value
                    );
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn a_value_sealed_with_another_secret_is_refused_unless_a_fallback(
            other in prop::collection::vec(any::<u8>(), 0..80),
            state in state(),
            nonce in any::<[u8; 24]>(),
        ) {
            prop_assume!(other != SECRET);
            let small = within_limit(state);
            let now = now();
            let payload = serde_json::to_vec(&(now, now, &small)).unwrap();
            let layer = sealed_layer(SECRET);

            // Sealed the same way with the layer's own secret, it opens: the
            // refusal below is the secret's doing.
            let own = format!("session={}", reference_seal(SECRET, nonce, &payload));
            let (new, seen_state) = seen(&layer, own.as_bytes());
            prop_assert!(!new);
            prop_assert_eq!(seen_state, as_read(&small));

            // An attacker may seal with a key of any length.
            let header = format!("session={}", reference_seal(&other, nonce, &payload));
            let (new, seen_state) = seen(&layer, header.as_bytes());
            prop_assert!(new && seen_state.is_empty(), "accepted a foreign seal");

            // A fallback secret needs 32 bytes, as the primary does.
            if other.len() < 32 {
                return Ok(());
            }

            let rotating = sealed_layer(SECRET).fallback_secrets([&other]);
            let ((new, seen_state), response) =
                send(&rotating, Some(header.as_bytes()), |s| (s.is_new(), contents(s)));
            prop_assert!(!new);
            prop_assert_eq!(seen_state, as_read(&small));
            let Written::Value(resealed) = written(&response) else {
                panic!("a session opened with a fallback secret is written again");
            };
            let payload = reference_open(&resealed, SECRET).expect("sealed with the primary");
            let (_, _, state): (u64, u64, BTreeMap<String, Value>) =
                serde_json::from_slice(&payload).unwrap();
            prop_assert_eq!(state, as_read(&small));
            prop_assert!(reference_open(&resealed, &other).is_none());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn operations_over_requests_match_a_btreemap(
            requests in prop::collection::vec(prop::collection::vec(op(), 0..8), 1..5),
        ) {
            matches_the_model(&sealed_layer(SECRET), &requests)?;
        }
    }
}
