//! The sealed format (`Format::sealed()`) through a real `SessionLayer`:
//!
//! - the fixed vectors of `tests/vectors/sealed.json`, made by the
//!   independent Python implementation `tests/vectors/make_sealed_vectors.py`,
//!   are read exactly, or refused with a fresh session;
//! - cookies the layer writes are opened by that Python implementation;
//! - a written value shows nothing of the session, and is never written
//!   twice the same;
//! - cookies of another format, or of another cookie name, start fresh
//!   sessions.
//!
//! The Python implementation runs from a virtual environment under the
//! target directory (`target/sealed-venv`), made from
//! `tests/vectors/requirements-sealed.txt` on first use; `SEALED_PYTHON`
//! names another interpreter that has PyNaCl.

#![cfg(feature = "sealed")]

use std::{
    convert::Infallible,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::OnceLock,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use base64::{
    Engine as _,
    engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD},
};
use cookie::Cookie;
use http::{Request, Response, header};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tower::{Layer, ServiceExt, service_fn};
use tower_cookie_session::{
    Format, MAX_CLOCK_SKEW, MAX_COOKIE_VALUE_LEN, Session, SessionError, SessionLayer,
};

// ---------------------------------------------------------------------------
// The vectors.

#[derive(Deserialize)]
struct Vectors {
    sealed: Vec<SealedVector>,
    refusals: Vec<Refusal>,
}

#[derive(Deserialize)]
struct SealedVector {
    name: String,
    cookie_name: String,
    secrets_hex: Vec<String>,
    sealed_with: usize,
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
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("vectors/sealed.json")).expect("sealed.json parses")
}

fn unhex(hex: &str) -> Vec<u8> {
    assert!(hex.len().is_multiple_of(2), "odd-length hex {hex:?}");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn system_time(secs: f64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs_f64(secs)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

// ---------------------------------------------------------------------------
// The layer.

const SECRET: &[u8] = b"the sealed layer tests' primary secret, 32+ bytes";
const OLD_SECRET: &[u8] = b"the sealed layer tests' old secret, kept as a fallback";

/// A sealed layer with `secrets` (the primary first), for the cookie
/// `name`. No timeout and no `max_lifetime`, so that the vectors' fixed,
/// long-past times are not expired (and nothing is reissued).
fn layer(secrets: &[Vec<u8>], name: &str) -> SessionLayer {
    SessionLayer::new(&secrets[0])
        .fallback_secrets(&secrets[1..])
        .cookie_name(name)
        // The `__Host-` prefix requires it.
        .secure(name.starts_with("__Host-"))
        .timeout(None)
        .max_lifetime(None)
        .format(Format::sealed())
}

fn layer_of(secrets_hex: &[String], name: &str) -> SessionLayer {
    let secrets: Vec<Vec<u8>> = secrets_hex.iter().map(|s| unhex(s)).collect();
    layer(&secrets, name)
}

/// Sends one request through `layer`, with `cookie` (a whole `Cookie`
/// header) if any, to a handler that runs `handler` on the session.
async fn call<R>(
    layer: &SessionLayer,
    cookie: Option<&str>,
    handler: impl FnOnce(&Session) -> R,
) -> (R, Response<()>) {
    let mut handler = Some(handler);
    let mut out = None;
    let service = layer.layer(service_fn(|req: Request<()>| {
        let session = req
            .extensions()
            .get::<Session>()
            .expect("the layer puts a Session into the request")
            .clone();
        out = handler.take().map(|handler| handler(&session));
        std::future::ready(Ok::<_, Infallible>(Response::new(())))
    }));
    let mut request = Request::builder().uri("/");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = service
        .oneshot(request.body(()).expect("request"))
        .await
        .expect("infallible");
    (out.expect("the handler ran"), response)
}

/// The value of the cookie `name` that the response sets, if any.
fn written(response: &Response<()>, name: &str) -> Option<String> {
    let mut lines = response.headers().get_all(header::SET_COOKIE).iter();
    let line = lines.next()?;
    assert!(lines.next().is_none(), "one Set-Cookie at most");
    let cookie = Cookie::parse(line.to_str().expect("ASCII Set-Cookie")).expect("Set-Cookie");
    assert_eq!(cookie.name(), name);
    assert_ne!(
        cookie.max_age(),
        Some(cookie::time::Duration::ZERO),
        "a value, not a removal"
    );
    assert!(cookie.value().len() <= MAX_COOKIE_VALUE_LEN);
    Some(cookie.value().to_owned())
}

/// Everything the session holds, as `Value`s.
fn contents(session: &Session) -> Map<String, Value> {
    session
        .keys()
        .into_iter()
        .map(|k| {
            let v = session.get_value(&k).unwrap().expect("a listed key");
            (k, v)
        })
        .collect()
}

/// What a request carrying `value` as the cookie `name` sees: whether the
/// session is new, its contents, and its times.
struct Seen {
    new: bool,
    state: Map<String, Value>,
    accessed: SystemTime,
    created: SystemTime,
}

async fn send_cookie(layer: &SessionLayer, name: &str, value: &str) -> (Seen, Response<()>) {
    call(layer, Some(&format!("{name}={value}")), |s| Seen {
        new: s.is_new(),
        state: contents(s),
        accessed: s.accessed(),
        created: s.created(),
    })
    .await
}

/// What the layer writes for a new session holding `state`.
async fn write_session(layer: &SessionLayer, name: &str, state: &Map<String, Value>) -> String {
    let (_, response) = call(layer, None, |s| {
        assert!(s.is_new());
        for (k, v) in state {
            s.insert(k.as_str(), v).expect("fits");
        }
        // An empty new session is written only when marked changed.
        s.changed();
    })
    .await;
    written(&response, name).expect("a new session is written")
}

// ---------------------------------------------------------------------------
// 1. The vectors, through the layer.

#[tokio::test]
async fn layer_reads_every_sealed_vector_with_exactly_its_state_and_times() {
    let vectors = vectors().sealed;
    for name in [
        "ascii",
        "unicode_utf8",
        "nested_json",
        "largest_that_fits",
        "cookie_name_host_prefix",
        "sealed_with_a_fallback_secret",
        "padding_is_optional",
    ] {
        assert!(vectors.iter().any(|v| v.name == name), "no vector {name}");
    }
    let latest = SystemTime::now() + MAX_CLOCK_SKEW;
    for v in vectors {
        // A cookie further ahead than the allowed skew would be refused.
        assert!(system_time(v.accessed) <= latest && system_time(v.created) <= latest);
        let layer = layer_of(&v.secrets_hex, &v.cookie_name);
        for value in std::iter::once(&v.value).chain(&v.also_accepted) {
            let (seen, response) = send_cookie(&layer, &v.cookie_name, value).await;
            let what = format!("{} ({value})", v.name);
            assert!(!seen.new, "{what}: refused");
            assert_eq!(seen.state, v.state, "{what}: every key and value");
            assert_eq!(seen.accessed, system_time(v.accessed), "{what}: accessed");
            assert_eq!(seen.created, system_time(v.created), "{what}: created");
            if v.sealed_with == 0 {
                assert_eq!(
                    written(&response, &v.cookie_name),
                    None,
                    "{what}: reading does not write"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_vector_sealed_with_a_fallback_secret_is_sealed_again_with_the_primary() {
    let v = vectors()
        .sealed
        .into_iter()
        .find(|v| v.name == "sealed_with_a_fallback_secret")
        .expect("the vector");
    assert!(v.sealed_with > 0);
    let secrets: Vec<Vec<u8>> = v.secrets_hex.iter().map(|s| unhex(s)).collect();
    let before = unix_now();
    let (seen, response) =
        send_cookie(&layer(&secrets, &v.cookie_name), &v.cookie_name, &v.value).await;
    assert!(!seen.new);
    assert_eq!(seen.state, v.state);
    let resealed = written(&response, &v.cookie_name).expect("written back");
    assert_ne!(resealed, v.value);

    // The new value opens with the primary alone, the same session...
    let primary = layer(&secrets[..1], &v.cookie_name);
    let (again, response) = send_cookie(&primary, &v.cookie_name, &resealed).await;
    assert!(!again.new, "the primary opens it");
    assert_eq!(again.state, v.state);
    assert_eq!(again.created, system_time(v.created), "created is kept");
    assert!(
        again.accessed >= system_time(before as f64),
        "accessed is now"
    );
    assert_eq!(written(&response, &v.cookie_name), None, "and stays");
    // ...and with no other secret.
    for (i, secret) in secrets.iter().enumerate().skip(1) {
        let other = layer(std::slice::from_ref(secret), &v.cookie_name);
        let (refused, _) = send_cookie(&other, &v.cookie_name, &resealed).await;
        assert!(
            refused.new && refused.state.is_empty(),
            "secret {i} opens it"
        );
    }
}

#[tokio::test]
async fn layer_refuses_every_refusal_vector_with_a_fresh_session() {
    let refusals = vectors().refusals;
    for name in [
        "wrong_version_byte",
        "future_version",
        "flipped_tag_byte",
        "flipped_nonce_byte",
        "flipped_ciphertext_byte",
        "other_cookie_name",
        "other_secret",
        "truncated",
        "shorter_than_version_nonce_and_tag",
        "version_byte_only",
        "standard_alphabet",
        "wrong_shape_state_is_a_list",
    ] {
        assert!(refusals.iter().any(|r| r.name == name), "no refusal {name}");
    }
    let started = system_time(unix_now() as f64);
    for r in refusals {
        let layer = layer_of(&r.secrets_hex, &r.cookie_name);
        let cookie = format!("{}={}", r.cookie_name, r.value);
        let ((new, state, created), response) = call(&layer, Some(&cookie), |s| {
            let seen = (s.is_new(), contents(s), s.created());
            s.changed();
            seen
        })
        .await;
        assert!(new, "{}: accepted", r.name);
        assert!(state.is_empty(), "{}: {state:?}", r.name);
        assert!(created >= started, "{}: created now", r.name);
        // The fresh session replaces the refused cookie, and is one the
        // layer reads.
        let value = written(&response, &r.cookie_name).expect("a new session is written");
        assert_ne!(value, r.value);
        let (fresh, _) = send_cookie(&layer, &r.cookie_name, &value).await;
        assert!(!fresh.new && fresh.state.is_empty(), "{}", r.name);
    }
}

// ---------------------------------------------------------------------------
// 2. The Python implementation opens what the layer writes.

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

/// A Python interpreter with PyNaCl, at the version the requirements pin,
/// making the virtual environment the first time. The `OnceLock` makes
/// the test threads wait for one another rather than build it twice.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let requirements = vectors_dir().join("requirements-sealed.txt");
        let python = match std::env::var_os("SEALED_PYTHON") {
            Some(python) => PathBuf::from(python),
            None => {
                let venv = target_dir().join("sealed-venv");
                let python = venv.join("bin").join("python");
                let has_nacl = Command::new(&python)
                    .args(["-c", "import nacl"])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                if !has_nacl {
                    run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
                    run(Command::new(&python)
                        .args(["-m", "pip", "install", "--quiet", "-r"])
                        .arg(&requirements));
                }
                python
            }
        };
        let pinned = std::fs::read_to_string(&requirements)
            .expect("requirements-sealed.txt")
            .lines()
            .find_map(|line| line.trim().strip_prefix("pynacl==").map(str::to_owned))
            .expect("requirements-sealed.txt pins pynacl");
        let version = Command::new(&python)
            .args([
                "-c",
                "import importlib.metadata as m; print(m.version('pynacl'))",
            ])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
        assert_eq!(
            String::from_utf8_lossy(&version.stdout).trim(),
            pinned,
            "these tests pin PyNaCl {pinned} ({})",
            python.display()
        );
        python
    })
}

fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        status.success(),
        "{command:?} failed ({status}); PyNaCl is needed for these tests"
    );
}

/// Opens `values` (cookies named `name`) with the Python implementation,
/// trying `secrets` in order; one answer per value:
/// `{"key": INDEX, "payload": TEXT}` or `{"error": VARIANT}`.
fn python_open(name: &str, secrets: &[&[u8]], values: &[String]) -> Vec<Value> {
    let mut child = Command::new(python())
        .arg(vectors_dir().join("make_sealed_vectors.py"))
        .arg("--open")
        .arg(name)
        .args(secrets.iter().map(|s| hex(s)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start python");
    let mut input = values.join("\n");
    input.push('\n');
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write to python");
    let output = child.wait_with_output().expect("python ran");
    assert!(
        output.status.success(),
        "make_sealed_vectors.py --open failed"
    );
    let answers: Vec<Value> = String::from_utf8(output.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(answers.len(), values.len());
    answers
}

/// Inserts the longest `blob` of `x`s with which the session still fits
/// its cookie; returns it.
fn fill_to_the_limit(session: &Session) -> String {
    for len in (0..=MAX_COOKIE_VALUE_LEN).rev() {
        let blob = "x".repeat(len);
        match session.insert("blob", &blob) {
            Ok(()) => return blob,
            Err(SessionError::TooLarge { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    panic!("not even an empty blob fits");
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// A session the layer writes, and what Python must find in it.
struct Written {
    name: &'static str,
    state: Map<String, Value>,
    value: String,
    /// The Unix seconds around the write.
    between: (u64, u64),
}

#[tokio::test]
async fn python_opens_what_the_layer_writes_to_exactly_the_stored_state() {
    // The layer has a fallback secret too; it seals with the primary.
    let secrets = [SECRET.to_vec(), OLD_SECRET.to_vec()];
    let nested = json!({
        "cart": [{"qty": 2, "sku": "A1"}, {"qty": 1, "sku": "B7", "tags": ["gift"]}],
        "prefs": {"langs": ["fr", "en"], "theme": {"dark": true, "contrast": null}},
        "ratio": 0.25,
        "big": 9_007_199_254_740_993_u64,
        "negative": -42,
        "_f_": ["Saved."],
    });
    // (cookie name, state, whether to fill the session to the size limit)
    let cases = [
        (
            "session",
            json!({"user": "ada", "count": 3, "admin": false}),
            false,
        ),
        (
            "session",
            json!({"café": "Zürich 日本", "crab 🦀": "🦀", "name": "Zoë", "quote": "say \"hi\"\n"}),
            false,
        ),
        ("session", nested, false),
        ("session", json!({"user": "ada"}), true),
        ("session", json!({}), false),
        ("__Host-s", json!({"user": "ada", "n": [1, 2, 3]}), false),
    ];
    let mut made = Vec::new();
    for (name, state, fill) in cases {
        let mut state = object(state);
        let before = unix_now();
        let (blob, response) = call(&layer(&secrets, name), None, |s| {
            for (k, v) in &state {
                s.insert(k.as_str(), v).expect("fits");
            }
            s.changed();
            fill.then(|| fill_to_the_limit(s))
        })
        .await;
        let value = written(&response, name).expect("a new session is written");
        if let Some(blob) = blob {
            assert_eq!(
                value.len(),
                MAX_COOKIE_VALUE_LEN,
                "as large as a value gets"
            );
            state.insert("blob".to_owned(), Value::String(blob));
        }
        made.push(Written {
            name,
            state,
            value,
            between: (before, unix_now()),
        });
    }

    for name in ["session", "__Host-s"] {
        let made: Vec<&Written> = made.iter().filter(|w| w.name == name).collect();
        let values: Vec<String> = made.iter().map(|w| w.value.clone()).collect();
        let answers = python_open(name, &[SECRET], &values);
        for (w, answer) in made.iter().zip(&answers) {
            assert_eq!(answer["key"], 0, "{name}: {answer}");
            let payload = answer["payload"].as_str().expect("a payload");
            let parsed: Value = serde_json::from_str(payload).expect("the payload is JSON");
            let [accessed, created, state] = parsed.as_array().expect("an array").as_slice() else {
                panic!("not [accessed, created, state]: {payload}");
            };
            let (Some(accessed), Some(created)) = (accessed.as_u64(), created.as_u64()) else {
                panic!("timestamps are written as integers: {payload}");
            };
            assert!((w.between.0..=w.between.1).contains(&accessed), "{payload}");
            assert_eq!(created, accessed, "a new session is created now");
            assert_eq!(
                state.as_object(),
                Some(&w.state),
                "{name}: the state stored"
            );
        }
        // Sealed with the primary: after another secret, it is the second
        // one tried.
        for answer in python_open(name, &[OLD_SECRET, SECRET], &values) {
            assert_eq!(answer["key"], 1, "{name}: {answer}");
        }
    }

    // Python binds the value to its cookie name too.
    let answers = python_open("other", &[SECRET], std::slice::from_ref(&made[0].value));
    assert_eq!(answers[0], json!({"error": "BadSignature"}));
}

// ---------------------------------------------------------------------------
// 3. Nothing of the session shows, and no value is written twice.

#[tokio::test]
async fn a_written_value_contains_neither_the_plaintext_nor_its_base64() {
    const MARKER: &str = "plaintext-marker: the password is hunter2hunter2hunter2";
    let layer = layer(&[SECRET.to_vec()], "session");
    let state = json!({"marker": MARKER, MARKER: [MARKER, {"nested": MARKER}]});
    let value = write_session(&layer, "session", state.as_object().unwrap()).await;
    assert!(!value.contains(MARKER));
    assert!(!value.contains("hunter2"));
    // Wherever the marker falls in the payload, base64 encodes the part of
    // it from the next multiple of 3 bytes on in whole groups of 4: one of
    // these 3 strings, in either alphabet.
    for skip in 0..3 {
        let part = &MARKER.as_bytes()[skip..];
        let whole_groups = part.len() / 3 * 4;
        for encoded in [URL_SAFE_NO_PAD.encode(part), STANDARD_NO_PAD.encode(part)] {
            assert!(
                !value.contains(&encoded[..whole_groups]),
                "the marker's base64, skipping {skip} bytes"
            );
        }
    }
    // It is the session all the same.
    let (seen, _) = send_cookie(&layer, "session", &value).await;
    assert!(!seen.new);
    assert_eq!(Value::Object(seen.state), state);
}

#[tokio::test]
async fn two_writes_of_the_same_session_in_the_same_second_differ() {
    let layer = layer(&[SECRET.to_vec()], "session");
    let state = json!({"user": "ada", "count": 3});
    let state = state.as_object().unwrap();
    // Both within one second, so that both payloads are the same bytes.
    let (first, second) = loop {
        let start = unix_now();
        let first = write_session(&layer, "session", state).await;
        let second = write_session(&layer, "session", state).await;
        if unix_now() == start {
            break (first, second);
        }
    };
    let (a, _) = send_cookie(&layer, "session", &first).await;
    let (b, _) = send_cookie(&layer, "session", &second).await;
    assert!(!a.new && !b.new);
    assert_eq!(&a.state, state);
    assert_eq!(
        (&a.state, a.accessed, a.created),
        (&b.state, b.accessed, b.created)
    );
    assert_ne!(
        first, second,
        "the same session sealed twice gives one value"
    );
    // The nonces differ, not only what follows them.
    let nonce = |value: &str| URL_SAFE_NO_PAD.decode(value).expect("base64url")[1..25].to_vec();
    assert_ne!(nonce(&first), nonce(&second));
}

// ---------------------------------------------------------------------------
// 4. Switching an application's format.

/// The other formats a sealed layer may meet, with the same secret.
fn other_formats() -> Vec<Format> {
    vec![
        Format::signed_serialize(),
        #[cfg(feature = "pyramid2")]
        Format::pyramid2(),
    ]
}

#[tokio::test]
async fn cookies_of_another_format_start_fresh_sessions_both_ways() {
    let state = json!({"user": "ada"});
    let state = state.as_object().unwrap();
    let sealed = SessionLayer::new(SECRET).format(Format::sealed());
    let sealed_value = write_session(&sealed, "session", state).await;
    for format in other_formats() {
        let other = SessionLayer::new(SECRET).format(format.clone());
        let other_value = write_session(&other, "session", state).await;
        // Each layer reads its own cookie...
        let (own, _) = send_cookie(&other, "session", &other_value).await;
        assert!(!own.new, "{format:?}");
        let (own, _) = send_cookie(&sealed, "session", &sealed_value).await;
        assert!(!own.new);
        // ...and neither reads the other's.
        let (seen_sealed, _) = send_cookie(&sealed, "session", &other_value).await;
        assert!(
            seen_sealed.new && seen_sealed.state.is_empty(),
            "a sealed layer read a {format:?} cookie"
        );
        let (seen_other, _) = send_cookie(&other, "session", &sealed_value).await;
        assert!(
            seen_other.new && seen_other.state.is_empty(),
            "a {format:?} layer read a sealed cookie"
        );
    }
}

// ---------------------------------------------------------------------------
// 5. A value belongs to its cookie name.

#[tokio::test]
async fn a_value_moved_to_another_cookie_name_starts_a_fresh_session() {
    let secrets = [SECRET.to_vec()];
    let a = layer(&secrets, "a");
    let b = layer(&secrets, "b");
    let state = json!({"user": "ada", "admin": true});
    let value = write_session(&a, "a", state.as_object().unwrap()).await;
    let (under_a, _) = send_cookie(&a, "a", &value).await;
    assert!(!under_a.new, "read under its own name");
    assert_eq!(Value::Object(under_a.state), state);
    let (under_b, _) = send_cookie(&b, "b", &value).await;
    assert!(under_b.new, "read under another name");
    assert!(under_b.state.is_empty());
    // Sent under both names, only the one it was sealed for counts.
    let both = format!("b={value}; a={value}");
    let (seen_a, _) = call(&a, Some(&both), |s| s.is_new()).await;
    let (seen_b, _) = call(&b, Some(&both), |s| s.is_new()).await;
    assert_eq!((seen_a, seen_b), (false, true));
}
