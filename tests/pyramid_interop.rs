//! Sessions shared with real Pyramid 2.1: cookies made by Pyramid's
//! `SignedCookieSessionFactory` are read by the layer, cookies made by the
//! layer are read by Pyramid, and a Pyramid app and the axum example share
//! a login through one browser-like cookie jar.
//!
//! Pyramid runs from a virtual environment under the target directory
//! (`target/pyramid-venv`), made from `tests/pyramid/requirements.txt` on
//! first use; `PYRAMID_PYTHON` names another interpreter that has Pyramid.

#![cfg(all(feature = "axum", feature = "pyramid2"))]

#[path = "../examples/axum/app.rs"]
pub mod app;
mod common;
#[path = "../examples/axum/settings.rs"]
pub mod settings;

use std::{
    ffi::OsString,
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::Duration,
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use cookie::Cookie;
use hmac::{Hmac, Mac};
use http::header;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tower_cookie_session::{Format, HashAlg, Session, SessionError, SessionLayer};

use common::{
    cookies::{now, unix},
    pages::{cookie_jar_client, csrf_token, visits},
    server::serve,
    service::call,
    target::target_dir,
};

const HASHALGS: [HashAlg; 4] = [
    HashAlg::Sha512,
    HashAlg::Sha384,
    HashAlg::Sha256,
    HashAlg::Sha1,
];

/// Secrets as a Pyramid app is configured with them (Python `str`): ASCII,
/// Latin-1 only (Pyramid signs with its Latin-1 bytes) and beyond Latin-1
/// (Pyramid signs with its UTF-8 bytes).
const SECRETS: [&str; 3] = [
    "an ASCII secret that is long enough for both",
    "un secret déjà assez long, signé en Latin-1 pâr Pyramid",
    "a secret with a € sign, which Pyramid signs as UTF-8",
];

const SALT: &str = "pyramid.session.";

/// The bytes a Rust user passes for Pyramid's `str` secret with the
/// default salt, as the README says: Latin-1 if every character has a
/// Latin-1 code, else UTF-8.
fn secret_bytes(secret: &str) -> Vec<u8> {
    settings::pyramid_key_bytes(SALT, secret).1
}

fn layer(hashalg: HashAlg, secret: &str) -> SessionLayer {
    SessionLayer::new(secret_bytes(secret)).format(Format::pyramid2_with(hashalg, SALT))
}

// ---------------------------------------------------------------------------
// Pyramid, from a virtual environment.

/// A Python interpreter with Pyramid 2.1, making the virtual environment
/// the first time.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        if let Some(python) = std::env::var_os("PYRAMID_PYTHON") {
            return PathBuf::from(python);
        }
        let venv = target_dir().join("pyramid-venv");
        let python = venv.join("bin").join("python");
        let has_pyramid = |python: &Path| {
            Command::new(python)
                .args(["-c", "import pyramid"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !has_pyramid(&python) {
            let requirements =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyramid/requirements.txt");
            run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
            run(Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", "-r"])
                .arg(&requirements));
        }
        let version = Command::new(&python)
            .args([
                "-c",
                "import importlib.metadata as m; print(m.version('pyramid'))",
            ])
            .output()
            .expect("run the venv's python");
        assert_eq!(
            String::from_utf8_lossy(&version.stdout).trim(),
            "2.1",
            "these tests pin Pyramid 2.1 ({})",
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
        "{command:?} failed ({status}); Pyramid is needed for these tests"
    );
}

/// Runs `jobs` through `tests/pyramid/cookies.py` (real Pyramid) and
/// returns its results, one per job.
fn pyramid(jobs: &[Value]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyramid/cookies.py");
    let mut child = Command::new(python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start python");
    let input = serde_json::to_vec(jobs).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "cookies.py failed");
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(results.len(), jobs.len());
    results
}

fn job(op: &str, hashalg: HashAlg, secret: &str, fields: Value) -> Value {
    let mut job = json!({"op": op, "secret": secret, "hashalg": hashalg.to_string(), "salt": SALT});
    job.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    job
}

// ---------------------------------------------------------------------------
// The layer, in process.

/// Sends one request with `cookie` through `layer` to a handler that runs
/// `f` on the session; returns what `f` returned and the `Set-Cookie`
/// value, if any (`Some("")` for a removal).
async fn through<T>(
    layer: &SessionLayer,
    cookie: Option<&str>,
    f: impl FnOnce(&Session) -> T,
) -> (T, Option<String>) {
    let cookie = cookie.map(|value| format!("session={value}"));
    let (value, response) = call(layer, cookie.as_deref().map(str::as_bytes), f).await;
    let set_cookie = response.headers().get(header::SET_COOKIE).map(|v| {
        let cookie = Cookie::parse(v.to_str().unwrap().to_owned()).unwrap();
        assert_eq!(cookie.name(), "session");
        cookie.value().to_owned()
    });
    (value, set_cookie)
}

// ---------------------------------------------------------------------------
// Cookies each way.

fn sample_state() -> Value {
    json!({
        "user": "alice",
        "numbers": [1, 2.5, -3, 1e20],
        "nested": {"a": [null, true, false, {}], "é": "ü — 🦀"},
        "quote\"d": "line\nbreak\t\\",
    })
}

#[tokio::test]
async fn pyramid_cookies_are_read_by_the_layer_for_every_hash_and_secret() {
    let mut jobs = Vec::new();
    for hashalg in HASHALGS {
        for secret in SECRETS {
            jobs.push(job(
                "make",
                hashalg,
                secret,
                json!({
                    "set": sample_state(),
                    "flash": [["", "Welcome!"], ["", "Second"], ["error", "Oops"]],
                    "csrf": true,
                }),
            ));
        }
    }
    let made = pyramid(&jobs);
    let mut back = Vec::new();
    let combinations = HASHALGS.iter().flat_map(|h| SECRETS.map(|s| (*h, s)));
    for (made, (hashalg, secret)) in made.iter().zip(combinations) {
        let cookie = made["cookie"].as_str().unwrap();
        let token = made["csrf_token"].as_str().unwrap().to_owned();
        let checked_token = token.clone();
        let ((state, flash, error, csrf_ok, new), written) =
            through(&layer(hashalg, secret), Some(cookie), move |s| {
                let state: Value = ["user", "numbers", "nested", "quote\"d"]
                    .into_iter()
                    .map(|k| (k.to_owned(), s.get_value(k).unwrap().unwrap_or(Value::Null)))
                    .collect::<serde_json::Map<_, _>>()
                    .into();
                (
                    state,
                    s.pop_flash::<String>("").unwrap(),
                    s.pop_flash::<String>("error").unwrap(),
                    s.check_csrf_token(&checked_token),
                    s.is_new(),
                )
            })
            .await;
        let what = format!("{} with {secret:?}", hashalg);
        assert!(!new, "{what}: Pyramid's cookie was refused");
        assert_eq!(state, sample_state(), "{what}");
        assert_eq!(flash, ["Welcome!", "Second"], "{what}");
        assert_eq!(error, ["Oops"], "{what}");
        assert!(csrf_ok, "{what}: Pyramid's CSRF token");
        let written = written.expect("popping flashes writes the cookie");
        back.push(json!({"cookie": written, "csrf_token": token}));
    }
    // ... and what the layer wrote back is Pyramid's session, flashes gone.
    let reads: Vec<Value> = jobs
        .iter()
        .zip(&back)
        .map(|(made, back)| {
            let mut read = made.clone();
            let fields = read.as_object_mut().unwrap();
            fields.insert("op".into(), "read".into());
            fields.insert("cookie".into(), back["cookie"].clone());
            fields.insert("csrf_token".into(), back["csrf_token"].clone());
            fields.insert("pop_flash".into(), json!(["", "error"]));
            read
        })
        .collect();
    for (read, back) in pyramid(&reads).iter().zip(&back) {
        assert_eq!(read["new"], false, "Pyramid refused the layer's cookie");
        assert_eq!(read["csrf_ok"], true);
        assert_eq!(read["flash"], json!({"": [], "error": []}));
        let mut expected = sample_state();
        expected["_csrft_"] = back["csrf_token"].clone();
        assert_eq!(read["state"], expected);
    }
}

#[tokio::test]
async fn layer_cookies_are_read_by_pyramid_for_every_hash_and_secret() {
    let mut made = Vec::new();
    for hashalg in HASHALGS {
        for secret in SECRETS {
            let ((token, created), cookie) = through(&layer(hashalg, secret), None, |s| {
                for (key, value) in sample_state().as_object().unwrap() {
                    s.insert(key, value).unwrap();
                }
                s.flash("Saved.").unwrap();
                s.flash_to("error", json!({"code": 7}), true).unwrap();
                (s.get_csrf_token(), unix(s.created()))
            })
            .await;
            let cookie = cookie.expect("a new session is written");
            made.push((hashalg, secret, cookie, token, created));
        }
    }
    let jobs: Vec<Value> = made
        .iter()
        .map(|(hashalg, secret, cookie, token, _)| {
            job(
                "read",
                *hashalg,
                secret,
                json!({"cookie": cookie, "csrf_token": token, "pop_flash": ["", "error"]}),
            )
        })
        .collect();
    let reads = pyramid(&jobs);
    for (read, (hashalg, secret, _, token, created)) in reads.iter().zip(&made) {
        let what = format!("{} with {secret:?}", hashalg);
        assert_eq!(read["new"], false, "{what}: Pyramid refused the cookie");
        assert_eq!(read["csrf_ok"], true, "{what}: the layer's CSRF token");
        assert_eq!(
            read["flash"],
            json!({"": ["Saved."], "error": [{"code": 7}]}),
            "{what}"
        );
        let mut expected = sample_state();
        expected["_f_"] = json!(["Saved."]);
        expected["_f_error"] = json!([{"code": 7}]);
        expected["_csrft_"] = json!(token);
        assert_eq!(read["state"], expected, "{what}");
        assert_eq!(read["created"].as_f64().unwrap() as u64, *created, "{what}");
        // Pyramid writes back its session with the flashes popped; the
        // layer reads that too.
        let cookie = read["cookie"].as_str().expect("Pyramid wrote the cookie");
        let ((flash, csrf_ok), _) = through(&layer(*hashalg, secret), Some(cookie), {
            let token = token.clone();
            move |s| {
                (
                    s.peek_flash::<Value>("").unwrap(),
                    s.check_csrf_token(&token),
                )
            }
        })
        .await;
        assert!(flash.is_empty(), "{what}: the flash was shown once");
        assert!(csrf_ok, "{what}");
    }
}

#[tokio::test]
async fn a_different_hash_salt_or_secret_is_refused_both_ways() {
    let secret = SECRETS[0];
    let made = pyramid(&[
        job("make", HashAlg::Sha512, secret, json!({"set": {"a": 1}})),
        {
            let mut j = job("make", HashAlg::Sha512, secret, json!({"set": {"a": 1}}));
            j["salt"] = json!("other.salt.");
            j
        },
    ]);
    let sha512 = made[0]["cookie"].as_str().unwrap();
    let other_salt = made[1]["cookie"].as_str().unwrap();
    for (layer, cookie, what) in [
        (layer(HashAlg::Sha384, secret), sha512, "another hash"),
        (layer(HashAlg::Sha512, SECRETS[1]), sha512, "another secret"),
        (layer(HashAlg::Sha512, secret), other_salt, "another salt"),
        (
            SessionLayer::new(secret_bytes(secret)),
            sha512,
            "the signed_serialize format",
        ),
    ] {
        let ((new, a), _) = through(&layer, Some(cookie), |s| {
            (s.is_new(), s.get_value("a").unwrap())
        })
        .await;
        assert!(new && a.is_none(), "accepted with {what}");
    }
    // And Pyramid refuses the layer's cookies signed with another hash.
    let (_, cookie) = through(&layer(HashAlg::Sha256, secret), None, |s| {
        s.insert("a", 1).unwrap()
    })
    .await;
    let read = pyramid(&[job(
        "read",
        HashAlg::Sha512,
        secret,
        json!({"cookie": cookie.unwrap()}),
    )]);
    assert_eq!(read[0]["new"], true);
    assert_eq!(read[0]["state"], json!({}));
}

/// Fills one value until the layer refuses it; returns how many units fitted.
fn fill(session: &Session, unit: &Value) -> usize {
    let mut n = 0;
    loop {
        let value = match unit {
            Value::String(s) => Value::String(s.repeat(n + 1)),
            other => Value::Array(vec![other.clone(); n + 1]),
        };
        match session.insert("blob", value) {
            Ok(()) => n += 1,
            Err(SessionError::TooLarge { .. }) => return n,
            Err(e) => panic!("{e}"),
        }
    }
}

#[tokio::test]
async fn pyramid_can_write_back_the_largest_session_the_layer_writes() {
    // Pyramid refuses to write a cookie over the limit, and its JSON is
    // longer than the layer's: spaces, `\uXXXX` for non-ASCII and DEL,
    // `1e-07` for `1e-7`. The layer must leave room for all of it.
    let units = [
        json!("x"),
        json!("\u{7f}"),
        json!("é"),
        json!("€"),
        json!("🦀"),
        json!(1e-7),
        json!(0.1),
    ];
    let limit = tower_cookie_session::MAX_COOKIE_VALUE_LEN;
    let secret = SECRETS[0];
    let mut jobs = Vec::new();
    for hashalg in [HashAlg::Sha512, HashAlg::Sha1] {
        for unit in &units {
            let unit = unit.clone();
            let (fitted, cookie) =
                through(&layer(hashalg, secret), None, move |s| fill(s, &unit)).await;
            let cookie = cookie.unwrap();
            assert!(cookie.len() <= limit, "{}: {}", hashalg, cookie.len());
            jobs.push((
                fitted,
                job(
                    "read",
                    hashalg,
                    secret,
                    json!({"cookie": cookie, "touch": true}),
                ),
            ));
        }
    }
    let reads = pyramid(&jobs.iter().map(|(_, j)| j.clone()).collect::<Vec<_>>());
    let mut tightest = 0;
    for ((fitted, job), read) in jobs.iter().zip(&reads) {
        let what = format!("{} filled with {}", job["hashalg"], read["state"]["blob"]);
        assert_eq!(read["new"], false, "{what}");
        let blob = &read["state"]["blob"];
        let len = blob
            .as_str()
            .map_or_else(|| blob.as_array().unwrap().len(), |s| s.chars().count());
        assert_eq!(len, *fitted, "{what}");
        let rewritten = read["cookie"]
            .as_str()
            .unwrap_or_else(|| panic!("Pyramid wrote no cookie for {what}"))
            .len();
        assert!(
            rewritten <= limit,
            "{what}: Pyramid wrote {rewritten} bytes"
        );
        tightest = tightest.max(rewritten);
    }
    // And the room left is no more than it needs to be.
    assert!(tightest > limit - 8, "the closest came to {tightest} bytes");
}

#[tokio::test]
async fn salt_and_secret_are_encoded_together_as_pyramid_does() {
    // Latin-1 for both when both can be, else UTF-8 for both.
    let cases = [
        ("app.séssion.", SECRETS[1]),
        ("app.€.", SECRETS[1]),
        ("app.séssion.", SECRETS[2]),
        ("pyramid.session.", SECRETS[2]),
    ];
    let jobs: Vec<Value> = cases
        .iter()
        .map(|(salt, secret)| {
            let mut j = job("make", HashAlg::Sha256, secret, json!({"set": {"a": 1}}));
            j["salt"] = json!(salt);
            j
        })
        .collect();
    let made = pyramid(&jobs);
    let mut reads = Vec::new();
    for ((salt, secret), made) in cases.iter().zip(&made) {
        let (salt_bytes, secret_bytes) = settings::pyramid_key_bytes(salt, secret);
        let layer = SessionLayer::new(&secret_bytes)
            .format(Format::pyramid2_with(HashAlg::Sha256, &salt_bytes));
        let cookie = made["cookie"].as_str().unwrap();
        let ((new, a), written) = through(&layer, Some(cookie), |s| {
            let seen = (s.is_new(), s.get_value("a").unwrap());
            s.insert("b", 2).unwrap();
            seen
        })
        .await;
        assert_eq!(
            (new, a),
            (false, Some(json!(1))),
            "salt {salt:?}, secret {secret:?}"
        );
        let mut read = job(
            "read",
            HashAlg::Sha256,
            secret,
            json!({"cookie": written.unwrap()}),
        );
        read["salt"] = json!(salt);
        reads.push(read);
    }
    for (read, (salt, secret)) in pyramid(&reads).iter().zip(&cases) {
        assert_eq!(
            read["state"],
            json!({"a": 1, "b": 2}),
            "salt {salt:?}, secret {secret:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Integers beyond 64 bits, which Python keeps exact.

/// Python integers beyond 64 bits, by key, each with a neighbour that
/// rounds to the same `f64`: 2^70, and 10^20 (a balance in wei).
const BIG: [(&str, u128, u128); 2] = [
    ("pow", 1 << 70, (1 << 70) + 1),
    (
        "wei",
        100_000_000_000_000_000_000,
        100_000_000_000_000_000_001,
    ),
];

#[tokio::test]
async fn integers_beyond_64_bits_from_pyramid_are_changed_exactly() {
    for (key, old, new) in BIG {
        assert_eq!(old as f64, new as f64, "{key}: one f64 for both");
    }
    let hashalg = HashAlg::Sha512;
    let secret = SECRETS[0];
    // Pyramid stores the integers, and queues 10^20 as a flash message.
    let set: String = BIG
        .iter()
        .map(|(key, old, _)| format!("\"{key}\": {old}"))
        .collect::<Vec<_>>()
        .join(", ");
    let made = pyramid(&[job(
        "make",
        hashalg,
        secret,
        json!({
            "set_json": format!("{{{set}}}"),
            "flash_json": format!("[[\"\", {}]]", BIG[1].1),
        }),
    )]);
    let cookie = made[0]["cookie"].as_str().unwrap().to_owned();

    // The layer reads them exactly; storing the same numbers again (and
    // flashing the queued one without duplicates) is no change.
    let (seen, written) = through(&layer(hashalg, secret), Some(&cookie), |s| {
        let seen: Vec<_> = BIG
            .iter()
            .map(|(key, _, _)| s.get::<u128>(key).unwrap())
            .collect();
        for (key, old, _) in BIG {
            s.insert(key, old).unwrap();
        }
        s.flash_to("", BIG[1].1, false).unwrap();
        (s.is_new(), seen)
    })
    .await;
    assert_eq!(seen, (false, BIG.map(|(_, old, _)| Some(old)).to_vec()));
    assert_eq!(written, None, "equal numbers are no change");

    // Their neighbours are a change: written, and queued as a new message.
    let ((), written) = through(&layer(hashalg, secret), Some(&cookie), |s| {
        for (key, _, new) in BIG {
            s.insert(key, new).unwrap();
        }
        s.flash_to("", BIG[1].2, false).unwrap();
    })
    .await;
    let written = written.expect("a different integer is a change, so written");

    // Pyramid reads exactly the new values (Python's repr of an int is
    // its digits), and both messages.
    let read = pyramid(&[job(
        "read",
        hashalg,
        secret,
        json!({"cookie": written, "pop_flash": [""]}),
    )]);
    assert_eq!(read[0]["new"], false, "Pyramid refused the layer's cookie");
    for (key, _, new) in BIG {
        assert_eq!(read[0]["repr"][key], new.to_string(), "{key}");
    }
    assert_eq!(
        read[0]["flash_repr"][""],
        json!([BIG[1].1.to_string(), BIG[1].2.to_string()])
    );
}

#[tokio::test]
async fn integers_beyond_64_bits_from_the_layer_are_exact_in_pyramid() {
    let hashalg = HashAlg::Sha512;
    let secret = SECRETS[0];
    let ((), cookie) = through(&layer(hashalg, secret), None, |s| {
        s.insert("max", u128::MAX).unwrap();
        s.insert("min", i128::MIN).unwrap();
        s.insert("wei", BIG[1].2).unwrap();
    })
    .await;
    let read = pyramid(&[job(
        "read",
        hashalg,
        secret,
        json!({"cookie": cookie.unwrap(), "touch": true}),
    )]);
    assert_eq!(read[0]["new"], false, "Pyramid refused the layer's cookie");
    assert_eq!(
        read[0]["repr"],
        json!({
            "max": u128::MAX.to_string(),
            "min": i128::MIN.to_string(),
            "wei": BIG[1].2.to_string(),
        })
    );
    // And what Pyramid writes back holds them exactly for the layer.
    let cookie = read[0]["cookie"].as_str().unwrap().to_owned();
    let (seen, _) = through(&layer(hashalg, secret), Some(&cookie), |s| {
        (
            s.get::<u128>("max").unwrap(),
            s.get::<i128>("min").unwrap(),
            s.get::<u128>("wei").unwrap(),
        )
    })
    .await;
    assert_eq!(seen, (Some(u128::MAX), Some(i128::MIN), Some(BIG[1].2)));
}

// ---------------------------------------------------------------------------
// The same rules as the default format, checked against a reference signer
// written here from the format's definition.

/// `base64url_nopad(HMAC-SHA512(salt || secret, payload) || payload)`.
fn reference_value(secret: &[u8], payload: &Value) -> String {
    let payload = payload.to_string();
    let mut mac =
        Hmac::<sha2::Sha512>::new_from_slice(&[SALT.as_bytes(), secret].concat()).unwrap();
    mac.update(payload.as_bytes());
    let mut signed = mac.finalize().into_bytes().to_vec();
    signed.extend_from_slice(payload.as_bytes());
    URL_SAFE_NO_PAD.encode(signed)
}

fn reference_payload(value: &str, secret: &[u8]) -> Value {
    let raw = URL_SAFE_NO_PAD.decode(value).unwrap();
    let (tag, payload) = raw.split_at(64);
    let mut mac =
        Hmac::<sha2::Sha512>::new_from_slice(&[SALT.as_bytes(), secret].concat()).unwrap();
    mac.update(payload);
    mac.verify_slice(tag).expect("signed with this secret");
    serde_json::from_slice(payload).unwrap()
}

#[tokio::test]
async fn timeout_reissue_and_fallback_secrets_follow_the_same_rules() {
    let secret = b"the primary secret, long enough for the layer";
    let old = b"the previous secret, long enough for the layer";
    let layer = SessionLayer::new(secret)
        .fallback_secrets([old])
        .format(Format::pyramid2());
    let t = now();
    let read = |s: &Session| (s.is_new(), s.get_value("n").unwrap());

    // Recent: read, not rewritten.
    let fresh = reference_value(secret, &json!([t, t - 5, {"n": 1}]));
    assert_eq!(
        through(&layer, Some(&fresh), read).await,
        ((false, Some(json!(1))), None)
    );
    // Due for reissue (default: a tenth of the 1200 s timeout): rewritten
    // with accessed = now.
    let due = reference_value(secret, &json!([t - 600, t - 600, {"n": 1}]));
    let ((new, _), written) = through(&layer, Some(&due), read).await;
    assert!(!new);
    let payload = reference_payload(&written.unwrap(), secret);
    assert!(payload[0].as_u64().unwrap() >= t);
    assert_eq!(payload[1], json!(t - 600));
    // Past the timeout: a fresh session.
    let expired = reference_value(secret, &json!([t - 1201, t - 1201, {"n": 1}]));
    assert_eq!(through(&layer, Some(&expired), read).await.0, (true, None));
    // Float timestamps, as Pyramid writes `created`, are read too.
    let python = reference_value(secret, &json!([t as f64 + 0.25, t as f64 - 9.5, {"n": 1}]));
    assert_eq!(
        through(&layer, Some(&python), read).await.0,
        (false, Some(json!(1)))
    );
    // Signed with the fallback: accepted and re-signed with the primary.
    let rotated = reference_value(old, &json!([t, t, {"n": 2}]));
    let ((new, n), written) = through(&layer, Some(&rotated), read).await;
    assert_eq!((new, n), (false, Some(json!(2))));
    assert_eq!(
        reference_payload(&written.unwrap(), secret)[2],
        json!({"n": 2})
    );
}

#[tokio::test]
async fn invalidate_removes_the_cookie_in_this_format_too() {
    let secret = b"the primary secret, long enough for the layer";
    let layer = SessionLayer::new(secret).format(Format::pyramid2());
    let t = now();
    let cookie = reference_value(secret, &json!([t, t, {"user": "alice"}]));
    let (_, written) = through(&layer, Some(&cookie), |s| s.invalidate()).await;
    assert_eq!(written.as_deref(), Some(""), "a removal cookie");
}

// ---------------------------------------------------------------------------
// Live: a Pyramid app and the axum example, one cookie jar.

/// The Pyramid twin of the example (`examples/pyramid/app.py`), stopped
/// when dropped.
struct PyramidServer {
    child: Child,
    base: String,
}

impl PyramidServer {
    fn start(env: &[(&str, &str)]) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pyramid/app.py");
        let mut child = Command::new(python())
            .arg(script)
            .envs(env.iter().copied())
            .env("PORT", "0")
            .env("PYTHONUNBUFFERED", "1")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the Pyramid app");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the Pyramid app did not start");
        let base = line
            .trim()
            .strip_prefix("Listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the Pyramid app: {line:?}"))
            .to_owned();
        Self { child, base }
    }
}

impl Drop for PyramidServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_pyramid_app_and_the_axum_example_share_a_login() {
    // The README's recipe: one secret (non-ASCII here, to exercise the
    // encoding rule), one hash, for both apps.
    let secret = "the shared sécret, at least thirty-two bytes long";
    let env = [
        ("SESSION_SECRET", secret),
        ("SESSION_FORMAT", "pyramid2"),
        ("SESSION_HASHALG", "sha256"),
    ];
    let pyramid = PyramidServer::start(&env);
    let layer = settings::session_layer(|name| {
        env.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| OsString::from(v))
    })
    .unwrap();
    let rust = format!("http://{}", serve(app::app_with(layer)).await);

    let client = cookie_jar_client();
    let get = |url: String| {
        let client = client.clone();
        async move {
            let response = client.get(&url).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    let post = |url: String, form: Vec<(&'static str, String)>| {
        let client = client.clone();
        async move {
            let response = client.post(&url).form(&form).send().await.unwrap();
            // Pyramid writes absolute URLs, axum what it was given.
            let location = response.headers().get(header::LOCATION).map(|l| {
                let l = l.to_str().unwrap();
                let path = l.find("://").map_or(l, |i| {
                    let rest = &l[i + 3..];
                    &rest[rest.find('/').unwrap_or(rest.len())..]
                });
                path.to_owned()
            });
            (response.status(), location)
        }
    };
    let p = &pyramid.base;

    let login = |user: &str, password: &str, token: &str| {
        vec![
            ("username", user.to_owned()),
            ("password", password.to_owned()),
            ("csrf_token", token.to_owned()),
        ]
    };
    let see_other = |to: &str| (StatusCode::SEE_OTHER, Some(to.to_owned()));
    let forged = "0".repeat(40);

    // Log in on Pyramid.
    let (_, page) = get(format!("{p}/login")).await;
    let token = csrf_token(&page);
    let answer = post(format!("{p}/login"), login("alice", "secret", &token)).await;
    assert_eq!(answer, see_other("/"));

    // Recognised on Rust, with the flash Pyramid queued, shown once.
    let (status, page) = get(format!("{rust}/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Signed in as <strong>alice</strong>"),
        "{page}"
    );
    assert!(page.contains("Welcome, alice!"), "{page}");
    let rust_visits = visits(&page);
    let rust_token = csrf_token(&page);
    // Pyramid sees the same session: the counter goes on, the flash is
    // gone, the CSRF token is the one Rust issued.
    let (_, page) = get(format!("{p}/")).await;
    assert!(
        page.contains("Signed in as <strong>alice</strong>"),
        "{page}"
    );
    assert!(!page.contains("Welcome, alice!"), "shown twice:\n{page}");
    assert_eq!(visits(&page), rust_visits + 1, "the counter is shared");
    assert_eq!(csrf_token(&page), rust_token);

    // The token Rust issued checks on Pyramid (a refused password, not a
    // 403), and the flash Pyramid queues for it is shown on Rust.
    let answer = post(format!("{p}/login"), login("alice", "wrong", &rust_token)).await;
    assert_eq!(answer, see_other("/login"));
    let (_, page) = get(format!("{rust}/login")).await;
    assert!(page.contains("Wrong username or password."), "{page}");
    // And the other way: a flash queued on Rust is shown on Pyramid, once.
    let answer = post(
        format!("{rust}/login"),
        login("alice", "wrong", &rust_token),
    )
    .await;
    assert_eq!(answer, see_other("/login"));
    let (_, page) = get(format!("{p}/login")).await;
    assert!(page.contains("Wrong username or password."), "{page}");
    let (_, page) = get(format!("{p}/login")).await;
    assert!(!page.contains("Wrong username"), "shown twice:\n{page}");
    // A forged token is refused on both sides, and changes nothing.
    for base in [p, &rust] {
        let answer = post(
            format!("{base}/logout"),
            vec![("csrf_token", forged.clone())],
        )
        .await;
        assert_eq!(answer, (StatusCode::FORBIDDEN, None), "{base}");
    }

    // Log out on Rust: logged out on Pyramid.
    let answer = post(format!("{rust}/logout"), vec![("csrf_token", rust_token)]).await;
    assert_eq!(answer, see_other("/?logged_out=1"));
    let (_, page) = get(format!("{p}/")).await;
    assert!(page.contains("You are not signed in."), "{page}");
    assert_eq!(visits(&page), 1, "a new session");

    // A token Pyramid issued checks on Rust: log in on Rust with it; the
    // welcome flash Rust queues is shown on Pyramid.
    let (_, page) = get(format!("{p}/login")).await;
    let pyramid_token = csrf_token(&page);
    let answer = post(
        format!("{rust}/login"),
        login("bob", "secret", &pyramid_token),
    )
    .await;
    assert_eq!(answer, see_other("/"));
    let (_, page) = get(format!("{p}/")).await;
    assert!(page.contains("Signed in as <strong>bob</strong>"), "{page}");
    assert!(page.contains("Welcome, bob!"), "{page}");

    drop(pyramid);
}
