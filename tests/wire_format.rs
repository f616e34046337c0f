//! Fixed vectors pinning the wire format, made by an
//! independent implementation: `tests/vectors/make_vectors.py`, Python's
//! standard library only, writes `tests/vectors/vectors.json`.
//!
//! To regenerate the vectors (deterministic: the same file every run):
//!
//! ```text
//! python3 tests/vectors/make_vectors.py
//! ```
//!
//! The vectors go through the public API: `signed_serialize` must match
//! Python byte for byte, and a `SessionLayer` must read each Pyramid-style
//! session exactly and refuse each bad value with a fresh session. The
//! other direction, cookies written by the layer, is checked by a reference
//! decoder written here from the format's definition.

mod common;

use std::{
    collections::BTreeMap,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use http::{HeaderMap, Response, header};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tower_cookie_session::{Session, SessionLayer, signed_deserialize, signed_serialize};

use common::{
    cookies::{hmac_sha1_hex, now as unix_now, session_set_cookie},
    service,
};

#[derive(Deserialize)]
struct Vectors {
    signed_serialize: Vec<SignedVector>,
    sessions: Vec<SessionVector>,
    refusals: Vec<Refusal>,
}

#[derive(Deserialize)]
struct SignedVector {
    name: String,
    secret_hex: String,
    data: Value,
    payload: String,
    value: String,
}

#[derive(Deserialize)]
struct SessionVector {
    name: String,
    secret_hex: String,
    value: String,
    accessed: f64,
    created: f64,
    state: Map<String, Value>,
    keys: Vec<String>,
    flash: BTreeMap<String, Vec<Value>>,
    csrf_token: Option<String>,
}

#[derive(Deserialize)]
struct Refusal {
    name: String,
    secret_hex: String,
    value: String,
    /// The `DecodeError` variant `signed_deserialize` answers, or `None`
    /// when the value verifies and is JSON but not a session.
    signed_deserialize: Option<String>,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("vectors/vectors.json")).expect("vectors.json parses")
}

fn unhex(hex: &str) -> Vec<u8> {
    assert!(hex.len().is_multiple_of(2), "odd-length hex {hex:?}");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex secret"))
        .collect()
}

/// A layer that never expires the vectors' fixed, long-past timestamps
/// (and so never reissues: without a timeout there is no reissue time).
fn layer(secret: &[u8]) -> SessionLayer {
    SessionLayer::new(secret).timeout(None)
}

/// Sends one request through `layer`, with `cookie` as the `Cookie` header,
/// to a handler that runs `handler` on the session.
async fn call(
    layer: &SessionLayer,
    cookie: Option<&str>,
    handler: impl FnOnce(&Session),
) -> Response<()> {
    service::call(layer, cookie.map(str::as_bytes), handler)
        .await
        .1
}

/// The value of the `session` cookie the response sets, if any.
fn set_cookie_value(headers: &HeaderMap) -> Option<String> {
    session_set_cookie(headers).map(|cookie| cookie.value().to_owned())
}

/// A session cookie as the layer writes it, decoded from the format's
/// definition rather than through the crate.
#[derive(Debug)]
struct Written {
    accessed: u64,
    created: u64,
    state: Map<String, Value>,
    payload: String,
}

/// Reference decoder: 40 lowercase hex digits of HMAC-SHA1 over the
/// payload, then the payload in standard base64 with padding; the payload
/// is compact JSON `[int, int, {..}]`.
fn reference_decode(value: &str, secret: &[u8]) -> Written {
    let (signature, encoded) = value.split_at(40);
    assert!(
        signature
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)),
        "signature is lowercase hex: {signature}"
    );
    assert_eq!(encoded.len() % 4, 0, "base64 is padded: {encoded}");
    let payload = STANDARD.decode(encoded).expect("standard base64");
    let expected = hmac_sha1_hex(&payload, secret);
    assert_eq!(signature, expected, "HMAC-SHA1 of the payload");
    let payload = String::from_utf8(payload).expect("UTF-8 payload");
    let Ok(Value::Array(parts)) = serde_json::from_str::<Value>(&payload) else {
        panic!("payload is a JSON array: {payload}");
    };
    let [
        Value::Number(accessed),
        Value::Number(created),
        Value::Object(state),
    ] = &parts[..]
    else {
        panic!("payload is [int, int, {{..}}]: {payload}");
    };
    let (Some(accessed), Some(created)) = (accessed.as_u64(), created.as_u64()) else {
        panic!("timestamps are written as integers: {payload}");
    };
    // Compact: re-serializing the parsed payload gives it back (no spaces;
    // keys sorted, as a serde_json map writes them).
    assert_eq!(
        serde_json::to_string(&parts).expect("serializes"),
        payload,
        "compact JSON"
    );
    // The crate's own reader agrees.
    let back: Value = signed_deserialize(value, secret).expect("signed_deserialize reads it");
    assert_eq!(back, Value::Array(parts.clone()));
    Written {
        accessed,
        created,
        state: state.clone(),
        payload,
    }
}

fn system_time(secs: f64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs_f64(secs)
}

#[test]
fn vectors_cover_every_kind() {
    let v = vectors();
    assert!(v.signed_serialize.len() >= 10);
    assert!(v.sessions.len() >= 10);
    assert!(v.refusals.len() >= 15);
    assert!(v.sessions.iter().any(|s| !s.value.ends_with('=')));
    assert!(v.sessions.iter().any(|s| !s.flash.is_empty()));
    assert!(v.sessions.iter().any(|s| s.csrf_token.is_some()));
}

#[test]
fn signed_serialize_matches_python_byte_for_byte() {
    for v in vectors().signed_serialize {
        let secret = unhex(&v.secret_hex);
        assert_eq!(
            serde_json::to_string(&v.data).expect("serializes"),
            v.payload,
            "{}: serde_json writes the same JSON as Python",
            v.name
        );
        assert_eq!(
            signed_serialize(&v.data, &secret).expect("serializes"),
            v.value,
            "{}",
            v.name
        );
    }
}

#[test]
fn signed_deserialize_reads_python_values() {
    for v in vectors().signed_serialize {
        let secret = unhex(&v.secret_hex);
        let back: Value = signed_deserialize(&v.value, &secret)
            .unwrap_or_else(|e| panic!("{}: refused: {e}", v.name));
        assert_eq!(back, v.data, "{}", v.name);
        let unpadded = v.value.trim_end_matches('=');
        let back: Value = signed_deserialize(unpadded, &secret)
            .unwrap_or_else(|e| panic!("{} without padding: refused: {e}", v.name));
        assert_eq!(back, v.data, "{} without padding", v.name);
    }
}

#[test]
fn signed_deserialize_reads_pyramid_session_payloads() {
    for v in vectors().sessions {
        let secret = unhex(&v.secret_hex);
        let (accessed, created, state): (f64, f64, Map<String, Value>) =
            signed_deserialize(&v.value, &secret)
                .unwrap_or_else(|e| panic!("{}: refused: {e}", v.name));
        assert_eq!((accessed, created), (v.accessed, v.created), "{}", v.name);
        assert_eq!(state, v.state, "{}", v.name);
    }
}

#[tokio::test]
async fn layer_reads_pyramid_sessions_exactly() {
    for v in vectors().sessions {
        let name = v.name.clone();
        let cookie = format!("session={}", v.value);
        let response = call(&layer(&unhex(&v.secret_hex)), Some(&cookie), |session| {
            assert!(!session.is_new(), "{name}: the cookie is the session");
            assert_eq!(session.keys(), v.keys, "{name}: keys");
            assert_eq!(session.len(), v.state.len(), "{name}: len");
            for (key, expected) in &v.state {
                assert_eq!(
                    session.get_value(key).unwrap().as_ref(),
                    Some(expected),
                    "{name}: {key}"
                );
            }
            assert_eq!(
                session.accessed(),
                system_time(v.accessed),
                "{name}: accessed"
            );
            assert_eq!(session.created(), system_time(v.created), "{name}: created");
            for (queue, messages) in &v.flash {
                let peeked: Vec<Value> = session.peek_flash(queue).expect("a list");
                assert_eq!(&peeked, messages, "{name}: flash queue {queue:?}");
            }
            match &v.csrf_token {
                Some(token) => {
                    assert_eq!(&session.get_csrf_token(), token, "{name}: CSRF token");
                    assert!(session.check_csrf_token(token), "{name}: CSRF check");
                    assert!(!session.check_csrf_token(&"0".repeat(40)), "{name}");
                }
                None => {
                    assert!(!session.check_csrf_token(&"0".repeat(40)), "{name}");
                    assert!(!session.contains_key("_csrft_"), "{name}");
                }
            }
        })
        .await;
        assert_eq!(
            set_cookie_value(response.headers()),
            None,
            "{}: reading does not rewrite the cookie",
            v.name
        );
        assert!(response.headers().contains_key(header::VARY), "{}", v.name);
    }
}

#[tokio::test]
async fn popping_pyramid_flashes_rewrites_the_cookie_in_the_seed_format() {
    let with_flash = vectors()
        .sessions
        .into_iter()
        .filter(|v| !v.flash.is_empty());
    let mut seen = 0;
    for v in with_flash {
        seen += 1;
        let secret = unhex(&v.secret_hex);
        let layer = layer(&secret);
        let name = v.name.clone();
        let before = unix_now();
        let response = call(&layer, Some(&format!("session={}", v.value)), |session| {
            for (queue, messages) in &v.flash {
                let popped: Vec<Value> = session.pop_flash(queue).expect("a list");
                assert_eq!(&popped, messages, "{name}: flash queue {queue:?}");
            }
        })
        .await;
        let value = set_cookie_value(response.headers())
            .unwrap_or_else(|| panic!("{}: popping a flash rewrites the cookie", v.name));
        let written = reference_decode(&value, &secret);
        assert!(
            (before..=unix_now()).contains(&written.accessed),
            "{}: accessed is now: {}",
            v.name,
            written.payload
        );
        assert_eq!(
            written.created, v.created as u64,
            "{}: created is kept, in whole seconds",
            v.name
        );
        let mut rest = v.state.clone();
        rest.retain(|key, _| !key.starts_with("_f_"));
        assert_eq!(
            written.state, rest,
            "{}: the rest of the state is kept",
            v.name
        );

        // Fed back, the way a browser does: the flashes are gone.
        let cookie = format!("session={value}");
        call(&layer, Some(&cookie), |session| {
            for queue in v.flash.keys() {
                let left: Vec<Value> = session.peek_flash(queue).expect("a list");
                assert!(left.is_empty(), "{}: queue {queue:?} was popped", v.name);
            }
            if let Some(token) = &v.csrf_token {
                assert!(
                    session.check_csrf_token(token),
                    "{}: CSRF token kept",
                    v.name
                );
            }
        })
        .await;
    }
    assert!(seen >= 2, "the vectors hold sessions with flash queues");
}

#[tokio::test]
async fn layer_refuses_bad_values_with_a_fresh_session() {
    let started = unix_now();
    for v in vectors().refusals {
        let secret = unhex(&v.secret_hex);
        let refused = signed_deserialize::<Value>(&v.value, &secret)
            .err()
            .map(|e| format!("{e:?}"));
        assert_eq!(
            refused, v.signed_deserialize,
            "{}: signed_deserialize",
            v.name
        );

        let name = v.name.clone();
        let cookie = format!("session={}", v.value);
        let response = call(&layer(&secret), Some(&cookie), |session| {
            assert!(session.is_new(), "{name}: refused, so a new session");
            // Written only when it holds something or is marked changed.
            session.changed();
            assert!(session.is_empty(), "{name}: and an empty one");
            assert!(session.keys().is_empty(), "{name}");
            assert!(
                session.created() >= system_time(started as f64),
                "{name}: created now, not at a time from the refused cookie"
            );
        })
        .await;
        // A new session is written, replacing the refused cookie.
        let value = set_cookie_value(response.headers())
            .unwrap_or_else(|| panic!("{}: a new session is written", v.name));
        let written = reference_decode(&value, &secret);
        assert_eq!(written.accessed, written.created, "{}", v.name);
        assert!(written.created >= started, "{}", v.name);
        assert_eq!(written.state, Map::new(), "{}", v.name);
    }
}

#[tokio::test]
async fn layer_writes_compact_sorted_json_with_integer_timestamps() {
    let secret = b"a secret for the writing direction, 32+ bytes";
    let layer = layer(secret);
    let before = unix_now();
    let response = call(&layer, None, |session| {
        session.insert("name", "Zoë 🦀").expect("fits");
        session.insert("count", 3).expect("fits");
        session
            .insert("cart", json!([{"sku": "A1", "qty": 2}]))
            .expect("fits");
        session.flash("Saved.").expect("fits");
    })
    .await;
    let value = set_cookie_value(response.headers()).expect("a new session is written");
    let written = reference_decode(&value, secret);
    let now = written.accessed;
    assert!((before..=unix_now()).contains(&now), "{}", written.payload);
    assert_eq!(written.created, now, "a new session is created now");
    assert_eq!(
        written.payload,
        format!(
            r#"[{now},{now},{{"_f_":["Saved."],"cart":[{{"qty":2,"sku":"A1"}}],"count":3,"name":"Zoë 🦀"}}]"#
        ),
        "keys sorted, no spaces, non-ASCII as UTF-8"
    );
}

/// Cookies made by Pyramid 2.1's `SignedCookieSessionFactory(secret,
/// hashalg=...)` (through `tests/pyramid/cookies.py`), one per hash: the
/// Pyramid 2 format pinned without Python. `tests/pyramid_interop.rs`
/// checks the same against live Pyramid, both ways.
#[cfg(feature = "pyramid2")]
const PYRAMID_2_1_COOKIES: [(tower_cookie_session::HashAlg, &str); 4] = {
    use tower_cookie_session::HashAlg::{Sha1, Sha256, Sha384, Sha512};
    [
        (
            Sha512,
            "gOkESgUELd0cdk8YgjcVDDYHZpmevYc-kGYHzSj0-XiOCRBhOyQGG8b4pSSIjMU6Ytt_xNgq2WQooSPw2ZlmiVsxNzk1NDQwOTQ1LCAxNzk1NDQwOTQ1LjIxMDQ5MTQsIHsidXNlciI6ICJhZGEiLCAibiI6IFsxLCAyLjVdLCAiXHUwMGU5IjogIlx1MDBmY1x1ZDgzZVx1ZGQ4MCIsICJfZl8iOiBbImhpIl19XQ",
        ),
        (
            Sha384,
            "Z6ZW14iKHSexWd5tQoepMH0St0sBAK99gA5o1Svwo9n9tmx1gbPXqkoBy5MjyU4GWzE3OTU0NDA5NDUsIDE3OTU0NDA5NDUuMjM0NzM3OSwgeyJ1c2VyIjogImFkYSIsICJuIjogWzEsIDIuNV0sICJcdTAwZTkiOiAiXHUwMGZjXHVkODNlXHVkZDgwIiwgIl9mXyI6IFsiaGkiXX1d",
        ),
        (
            Sha256,
            "QLWBfspH9iCHX76hek47aZoAdZkVWp9jy4Ct5Lq86xlbMTc5NTQ0MDk0NSwgMTc5NTQ0MDk0NS4yNzEyMzc0LCB7InVzZXIiOiAiYWRhIiwgIm4iOiBbMSwgMi41XSwgIlx1MDBlOSI6ICJcdTAwZmNcdWQ4M2VcdWRkODAiLCAiX2ZfIjogWyJoaSJdfV0",
        ),
        (
            Sha1,
            "-zSumr2J4Ge0YWoJ0SnB1tm2BcpbMTc5NTQ0MDk0NSwgMTc5NTQ0MDk0NS4zNDIzMzI2LCB7InVzZXIiOiAiYWRhIiwgIm4iOiBbMSwgMi41XSwgIlx1MDBlOSI6ICJcdTAwZmNcdWQ4M2VcdWRkODAiLCAiX2ZfIjogWyJoaSJdfV0",
        ),
    ]
};

#[cfg(feature = "pyramid2")]
#[tokio::test]
async fn pyramid_2_1_cookies_are_read_exactly_padded_or_not() {
    use tower_cookie_session::Format;
    const SECRET: &[u8] = b"a secret of at least thirty-two bytes, for vectors";
    for (hashalg, value) in PYRAMID_2_1_COOKIES {
        let padded = format!("{value}{}", "=".repeat((4 - value.len() % 4) % 4));
        for cookie in [value.to_owned(), padded] {
            let layer = layer(SECRET).format(Format::pyramid2_with(hashalg, "pyramid.session."));
            let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
            let slot = std::sync::Arc::clone(&seen);
            call(&layer, Some(&format!("session={cookie}")), move |s| {
                *slot.lock().unwrap() = Some((
                    s.is_new(),
                    s.get_value("user").unwrap(),
                    s.get_value("n").unwrap(),
                    s.get_value("é").unwrap(),
                    s.peek_flash::<String>("").unwrap(),
                    s.created(),
                    s.accessed(),
                ));
            })
            .await;
            let (new, user, n, accented, flash, created, accessed) =
                seen.lock().unwrap().take().unwrap();
            assert!(!new, "{hashalg:?} {cookie}");
            assert_eq!(user, Some(json!("ada")));
            assert_eq!(n, Some(json!([1, 2.5])));
            assert_eq!(
                accented,
                Some(json!("ü🦀")),
                "\\u escapes and surrogate pairs"
            );
            assert_eq!(flash, ["hi"]);
            assert_eq!(accessed, system_time(1_795_440_945.0));
            // Pyramid writes `created` as a float.
            assert!(created > accessed && created < system_time(1_795_440_946.0));
        }
        // The same value under another hash, salt or format is refused.
        for format in [
            Format::pyramid2_with(tower_cookie_session::HashAlg::Sha512, "other.salt."),
            Format::signed_serialize(),
        ] {
            let layer = layer(SECRET).format(format);
            let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
            let slot = std::sync::Arc::clone(&seen);
            call(&layer, Some(&format!("session={value}")), move |s| {
                *slot.lock().unwrap() = Some(s.is_new());
            })
            .await;
            assert_eq!(*seen.lock().unwrap(), Some(true));
        }
    }
}
