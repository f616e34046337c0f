//! Writes the seed corpus, `seeds/<target>/`, from real cookies: sessions
//! signed by the crate's own `signed_serialize`, and the sessions and
//! refusals that the independent Python implementation wrote into
//! `tests/vectors/vectors.json`. Payloads and whole cookies are also
//! written for every format in `FORMATS`, signed (or sealed) by the
//! targets themselves. Deterministic: fixed timestamps, no randomness (the
//! targets' sealer takes its nonce from what it seals), so running it
//! again rewrites the same files.
//!
//! ```text
//! cd fuzz && cargo run --example make_seeds
//! ```

use std::{fs, path::Path};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde_json::{Value, json};
use tower_cookie_session::signed_serialize;
use tower_cookie_session_fuzz::{
    COOKIE_NAME, FORMATS, FuzzFormat, OLD_SECRET, OTHER_NAMES, OTHER_SECRET, SECRET, sign_default,
};

/// A past time; the targets run most seeds without a timeout, so they
/// stay valid. One seed is dated far in the future with the timeout on:
/// the layer treats a cookie more than `MAX_CLOCK_SKEW` ahead as absent,
/// so it starts a fresh session rather than passing the timeout.
const ACCESSED: u64 = 1_700_000_300;
const CREATED: u64 = 1_700_000_000;
const FUTURE: u64 = 4_000_000_000;

/// The default format's selector byte: cookies made by
/// `signed_serialize` are of that format.
const DEFAULT_FORMAT: u8 = 0;

/// decode_cookie flags: mode in bits 0-1, timeout bit 2, rewrite bit 3,
/// a `Max-Age` bit 4, the cookie a payload is made for in bits 5-6 (0:
/// ours, else `OTHER_NAMES[n - 1]`).
const RAW_HEADER: u8 = 0;
const SIGN_PRIMARY: u8 = 1;
const SIGN_FALLBACK: u8 = 2;
const SIGN_UNKNOWN: u8 = 3;
const TIMEOUT: u8 = 0b100;
const REWRITE: u8 = 0b1000;
const MAX_AGE: u8 = 0b1_0000;
/// Made for `OTHER_NAMES[i]`.
const FOR_OTHER_NAME: [u8; 3] = [0b010_0000, 0b100_0000, 0b110_0000];

/// layer_ops flags: timeout bit 0, `cookie_on_exception` bit 1, a
/// `Max-Age` bit 2.
const LAYER_FLAGS: [u8; 4] = [0b010, 0b000, 0b110, 0b100];

/// Session states as real applications store them.
fn states() -> Vec<(&'static str, Value)> {
    vec![
        ("empty", json!({})),
        ("counter", json!({"visits": 3})),
        (
            "logged-in",
            json!({
                "user": "ada",
                "visits": 7,
                "_csrft_": "5f1c0e7a9b3d2c4e6f8a0b1c2d3e4f5a6b7c8d9e",
                "_f_": ["Welcome, ada!"],
                "_f_error": [{"text": "Try again.", "level": 2}],
            }),
        ),
        (
            "unicode",
            json!({"naïve": "日本語 🎉", "esc": "quote\" backslash\\ nl\n tab\t", "": "empty key"}),
        ),
        (
            "nested",
            json!({
                "cart": [{"id": 1, "qty": 2.5, "tags": ["a", null, true]}],
                "prefs": {"theme": "dark", "sizes": [[1, 2], [3, [4, [5]]]]},
            }),
        ),
        (
            "numbers",
            json!({"u": u64::MAX, "i": i64::MIN, "f": 1.5e300, "z": -0.0, "small": 1e-300}),
        ),
        ("near-limit", json!({"big": "x".repeat(2900)})),
        // `set_expiry`: a browser-session cookie; "keep me signed in" for
        // 30 days, timed out long since (a fresh session); and for a
        // century, still on.
        ("browser-session", json!({"user": "ada", "_exp_": 0})),
        (
            "remembered-timed-out",
            json!({"user": "ada", "_exp_": 2_592_000}),
        ),
        (
            "remembered",
            json!({"user": "ada", "_exp_": 3_155_760_000_u64}),
        ),
    ]
}

/// The names of the [`states`] that hold an expiry.
const EXPIRY_STATES: [&str; 3] = ["browser-session", "remembered-timed-out", "remembered"];

fn session_value(state: &Value, secret: &[u8]) -> String {
    signed_serialize(&(ACCESSED, CREATED, state), secret).expect("JSON")
}

fn payload(state: &Value) -> Vec<u8> {
    serde_json::to_vec(&(ACCESSED, CREATED, state)).expect("JSON")
}

/// `(name, value, payload)` of each session and refusal of the Python
/// vectors: the value as Python signed it, and its payload bytes.
fn python_vectors() -> Vec<(String, String, Vec<u8>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/vectors.json");
    let vectors: Value = serde_json::from_slice(&fs::read(&path).expect("vectors.json"))
        .expect("vectors.json is JSON");
    let mut out = Vec::new();
    for section in ["sessions", "refusals", "signed_serialize"] {
        for v in vectors[section].as_array().expect("a list") {
            let name = v["name"].as_str().expect("name");
            let value = v["value"].as_str().expect("value");
            // Refusals may have no valid payload; keep what decodes.
            let encoded = value.get(40..).unwrap_or("");
            let bytes = STANDARD
                .decode(encoded)
                .or_else(|_| {
                    STANDARD.decode(format!(
                        "{encoded}{}",
                        "=".repeat((4 - encoded.len() % 4) % 4)
                    ))
                })
                .unwrap_or_default();
            out.push((format!("python-{section}-{name}"), value.to_owned(), bytes));
        }
    }
    out
}

/// Seed files that a fuzzing run found rather than this program made
/// start with this; regenerating the seeds leaves them as they are.
const FINDING_PREFIX: &str = "finding-";

struct Seeds {
    dir: &'static str,
    files: Vec<(String, Vec<u8>)>,
}

impl Seeds {
    fn new(dir: &'static str) -> Self {
        Self {
            dir,
            files: Vec::new(),
        }
    }

    fn add(&mut self, name: impl Into<String>, bytes: Vec<u8>) {
        self.files.push((name.into(), bytes));
    }

    /// Replaces the generated seeds in `seeds/<dir>/`; inputs kept from
    /// fuzzing runs (`finding-*`, see [`FINDING_PREFIX`]) stay.
    fn write(self) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("seeds")
            .join(self.dir);
        fs::create_dir_all(&dir).expect("seed directory");
        let mut kept = 0;
        for entry in fs::read_dir(&dir).expect("seed directory") {
            let path = entry.expect("seed directory entry").path();
            let finding = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(FINDING_PREFIX));
            if finding {
                kept += 1;
            } else {
                fs::remove_file(&path).expect("remove old seed");
            }
        }
        let count = self.files.len();
        for (name, bytes) in self.files {
            assert!(
                !name.starts_with(FINDING_PREFIX),
                "generated seed names do not start with {FINDING_PREFIX}"
            );
            fs::write(dir.join(name), bytes).expect("write seed");
        }
        println!(
            "{count} seeds and {kept} kept findings in {}",
            dir.display()
        );
    }
}

fn decode_seed(flags: u8, data: &[u8]) -> Vec<u8> {
    decode_seed_in(DEFAULT_FORMAT, flags, data)
}

fn decode_seed_in(selector: u8, flags: u8, data: &[u8]) -> Vec<u8> {
    [&[selector, flags][..], data].concat()
}

/// Each format with its selector byte and a file-name prefix (none for
/// the default format).
fn formats() -> impl Iterator<Item = (u8, String, &'static FuzzFormat)> {
    FORMATS.iter().enumerate().map(|(i, f)| {
        let prefix = if i == 0 {
            String::new()
        } else {
            format!("{}-", f.name)
        };
        (u8::try_from(i).expect("few formats"), prefix, f)
    })
}

fn decode_cookie_seeds() -> Seeds {
    let mut seeds = Seeds::new("decode_cookie");
    for (name, state) in states() {
        let value = session_value(&state, SECRET);
        // The independent signer agrees with the crate's.
        assert_eq!(value, sign_default(SECRET, &payload(&state)));
        seeds.add(
            format!("crate-{name}"),
            decode_seed(RAW_HEADER, format!("session={value}").as_bytes()),
        );
        for (selector, prefix, _) in formats() {
            seeds.add(
                format!("{prefix}crate-{name}-payload"),
                decode_seed_in(selector, SIGN_PRIMARY, &payload(&state)),
            );
            if EXPIRY_STATES.contains(&name) {
                // Written back, on a layer with a `Max-Age` of its own.
                seeds.add(
                    format!("{prefix}crate-{name}-rewrite-max-age-payload"),
                    decode_seed_in(selector, SIGN_PRIMARY | REWRITE | MAX_AGE, &payload(&state)),
                );
            }
        }
    }
    let login = states()
        .into_iter()
        .find(|(n, _)| *n == "logged-in")
        .expect("a logged-in state")
        .1;
    let value = session_value(&login, SECRET);
    let unpadded = value.trim_end_matches('=');
    let upper = format!("{}{}", value[..40].to_uppercase(), &value[40..]);
    for (name, flags, header) in [
        ("rewrite", REWRITE, format!("session={value}")),
        (
            "among-others",
            RAW_HEADER,
            format!("theme=dark; session={value}; lang=en"),
        ),
        (
            "second-line",
            RAW_HEADER,
            format!("a=1; b=2\nsession={value}"),
        ),
        (
            "duplicate",
            RAW_HEADER,
            format!("session=junk; session={value}"),
        ),
        ("quoted", RAW_HEADER, format!("session=\"{value}\"")),
        ("unpadded", RAW_HEADER, format!("session={unpadded}")),
        (
            "uppercase-signature",
            RAW_HEADER,
            format!("session={upper}"),
        ),
        (
            "fallback-secret",
            RAW_HEADER,
            format!("session={}", session_value(&login, OLD_SECRET)),
        ),
        (
            "unknown-secret",
            RAW_HEADER,
            format!("session={}", session_value(&login, OTHER_SECRET)),
        ),
        (
            "future-with-timeout",
            TIMEOUT,
            format!(
                "session={}",
                signed_serialize(&(FUTURE, FUTURE, &login), SECRET).expect("JSON")
            ),
        ),
        ("no-session", RAW_HEADER, "theme=dark; lang=en".to_owned()),
    ] {
        seeds.add(
            format!("crate-{name}"),
            decode_seed(flags, header.as_bytes()),
        );
    }
    seeds.add(
        "crate-fallback-payload",
        decode_seed(SIGN_FALLBACK, &payload(&login)),
    );
    seeds.add(
        "crate-unknown-payload",
        decode_seed(SIGN_UNKNOWN, &payload(&login)),
    );
    // The other formats' cookies, made by the targets' own signers: whole
    // headers, and payloads signed with the fallback or an unknown secret
    // or made for another cookie (which a format that binds the name
    // refuses).
    for (selector, prefix, format) in formats().skip(1) {
        let value = |secret: &[u8], name: &str| (format.sign)(secret, name, &payload(&login));
        let primary = value(SECRET, COOKIE_NAME);
        let padded = format!("{primary}{}", "=".repeat((4 - primary.len() % 4) % 4));
        for (name, header) in [
            ("logged-in", format!("session={primary}")),
            ("padded", format!("session={padded}")),
            (
                "among-others",
                format!("theme=dark; session={primary}; lang=en"),
            ),
            (
                "fallback-secret",
                format!("session={}", value(OLD_SECRET, COOKIE_NAME)),
            ),
            (
                "unknown-secret",
                format!("session={}", value(OTHER_SECRET, COOKIE_NAME)),
            ),
            (
                "other-name",
                format!("session={}", value(SECRET, OTHER_NAMES[0])),
            ),
        ] {
            seeds.add(
                format!("{prefix}crate-{name}"),
                decode_seed_in(selector, RAW_HEADER, header.as_bytes()),
            );
        }
        for (name, flags) in [
            ("fallback", SIGN_FALLBACK),
            ("fallback-rewrite", SIGN_FALLBACK | REWRITE),
            ("unknown", SIGN_UNKNOWN),
            ("other-name", SIGN_PRIMARY | FOR_OTHER_NAME[0]),
            ("fallback-other-name", SIGN_FALLBACK | FOR_OTHER_NAME[1]),
        ] {
            seeds.add(
                format!("{prefix}crate-{name}-payload"),
                decode_seed_in(selector, flags, &payload(&login)),
            );
        }
    }
    for (name, value, bytes) in python_vectors() {
        seeds.add(
            name.clone(),
            decode_seed(RAW_HEADER, format!("session={value}").as_bytes()),
        );
        for (selector, prefix, _) in formats() {
            seeds.add(
                format!("{prefix}{name}-payload"),
                decode_seed_in(selector, SIGN_PRIMARY, &bytes),
            );
        }
    }
    seeds
}

/// Deterministic bytes for the operations part of a layer_ops seed.
fn op_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn layer_seed(selector: u8, flags: u8, header: &[u8], ops: &[u8]) -> Vec<u8> {
    let len = u16::try_from(header.len()).expect("a short header");
    [&[selector, flags][..], &len.to_be_bytes(), header, ops].concat()
}

fn layer_ops_seeds() -> Seeds {
    let mut seeds = Seeds::new("layer_ops");
    for (selector, prefix, format) in formats() {
        let cookie = |secret: &[u8], payload: &[u8]| {
            format!("session={}", (format.sign)(secret, COOKIE_NAME, payload))
        };
        let mut headers = vec![
            ("no-cookie".to_owned(), String::new()),
            ("junk".to_owned(), "session=junk; other=1".to_owned()),
        ];
        for (name, state) in states() {
            headers.push((format!("crate-{name}"), cookie(SECRET, &payload(&state))));
        }
        headers.push((
            "crate-fallback".to_owned(),
            cookie(OLD_SECRET, &payload(&json!({"user": "ada"}))),
        ));
        for (name, _, bytes) in python_vectors() {
            if name.starts_with("python-sessions-") {
                headers.push((name, cookie(SECRET, &bytes)));
            }
        }
        for (i, (name, header)) in headers.iter().enumerate() {
            // No timeout; cookie_on_exception and a Max-Age on or off by
            // turns.
            let flags = LAYER_FLAGS[i % LAYER_FLAGS.len()];
            let ops = op_bytes(i as u64 + 1, 160);
            seeds.add(
                format!("{prefix}{name}"),
                layer_seed(selector, flags, header.as_bytes(), &ops),
            );
        }
    }
    seeds
}

fn main() {
    decode_cookie_seeds().write();
    layer_ops_seeds().write();
}
