//! The session layer the demo's environment asks for: `SESSION_SECRET`,
//! `SESSION_FORMAT`, `SESSION_HASHALG` and `SESSION_REVOCATION` (see
//! `main.rs`).
//!
//! `tests/pyramid_interop.rs` includes this file too, so that the settings
//! the README's Pyramid recipe uses are the ones tested.

use std::{ffi::OsString, time::Duration};

#[cfg(feature = "pyramid2")]
use tower_cookie_session::HashAlg;
use tower_cookie_session::{
    Format, MIN_SECRET_LEN, MemoryRevocations, SessionLayer, WhenUnavailable,
};

/// The layer for the settings `var` returns (e.g. `std::env::var_os`).
///
/// # Errors
///
/// A message saying which setting is wrong and how to fix it.
pub fn session_layer(var: impl Fn(&str) -> Option<OsString>) -> Result<SessionLayer, String> {
    let format = format(&var)?;
    let secret = secret(&var, &format)?;
    let layer = SessionLayer::try_new(&secret)
        .map_err(|e| e.to_string())?
        .format(format);
    let layer = revocation(&var, layer)?;
    layer.validate().map_err(|e| e.to_string())?;
    Ok(layer)
}

/// The cookie format from `SESSION_FORMAT` and `SESSION_HASHALG`.
fn format(var: impl Fn(&str) -> Option<OsString>) -> Result<Format, String> {
    let name = var("SESSION_FORMAT").map(|name| name.to_string_lossy().into_owned());
    match name.as_deref() {
        None | Some("signed_serialize") => Ok(Format::signed_serialize()),
        #[cfg(feature = "pyramid2")]
        Some("pyramid2") => {
            let hashalg = match var("SESSION_HASHALG") {
                None => HashAlg::Sha512,
                Some(name) => name
                    .to_string_lossy()
                    .parse()
                    .map_err(|e| format!("SESSION_HASHALG: {e}"))?,
            };
            Ok(Format::pyramid2_with(hashalg, PYRAMID_SALT))
        }
        #[cfg(not(feature = "pyramid2"))]
        Some("pyramid2") => Err("SESSION_FORMAT=pyramid2 needs the pyramid2 feature: \
             cargo run --example axum --features axum,pyramid2"
            .to_owned()),
        #[cfg(feature = "sealed")]
        Some("sealed") => Ok(Format::sealed()),
        #[cfg(not(feature = "sealed"))]
        Some("sealed") => Err("SESSION_FORMAT=sealed needs the sealed feature: \
             cargo run --example axum --features axum,sealed"
            .to_owned()),
        Some(other) => Err(format!(
            "SESSION_FORMAT must be signed_serialize, pyramid2 or sealed, not {other:?}"
        )),
    }
}

/// The longest a session lives with revocation on: a revocation record
/// lasts this long at most.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 86_400);

/// Revocation from `SESSION_REVOCATION` (`memory`, or a `redis://` URL
/// with the `redis` feature), with `SESSION_REVOCATION_TIMEOUT_MS` and
/// `SESSION_REVOCATION_UNAVAILABLE` (`revoked` or `valid`).
fn revocation(
    var: impl Fn(&str) -> Option<OsString>,
    layer: SessionLayer,
) -> Result<SessionLayer, String> {
    let Some(store) = var("SESSION_REVOCATION") else {
        return Ok(layer);
    };
    let store = store.to_string_lossy().into_owned();
    let when_unavailable = match var("SESSION_REVOCATION_UNAVAILABLE").as_deref() {
        None => WhenUnavailable::Revoked,
        Some(v) if v == "revoked" => WhenUnavailable::Revoked,
        Some(v) if v == "valid" => WhenUnavailable::Valid,
        Some(v) => {
            return Err(format!(
                "SESSION_REVOCATION_UNAVAILABLE must be revoked or valid, not {v:?}"
            ));
        }
    };
    let layer = layer
        .max_lifetime(MAX_LIFETIME)
        .when_revocations_unavailable(when_unavailable);
    if store == "memory" {
        return Ok(layer.revocation(MemoryRevocations::new()));
    }
    if store.starts_with("redis://") {
        return redis(&var, layer, &store);
    }
    Err(format!(
        "SESSION_REVOCATION must be memory or a redis:// URL, not {store:?}"
    ))
}

#[cfg(feature = "redis")]
fn redis(
    var: impl Fn(&str) -> Option<OsString>,
    layer: SessionLayer,
    url: &str,
) -> Result<SessionLayer, String> {
    let mut store = tower_cookie_session::RedisRevocations::open(url)
        .map_err(|e| format!("SESSION_REVOCATION: {e}"))?;
    if let Some(ms) = var("SESSION_REVOCATION_TIMEOUT_MS") {
        let ms = ms.to_string_lossy().parse::<u64>().map_err(|_| {
            "SESSION_REVOCATION_TIMEOUT_MS must be a number of milliseconds".to_owned()
        })?;
        store = store.timeout(Duration::from_millis(ms));
    }
    Ok(layer.revocation(store))
}

#[cfg(not(feature = "redis"))]
fn redis(
    _var: impl Fn(&str) -> Option<OsString>,
    _layer: SessionLayer,
    _url: &str,
) -> Result<SessionLayer, String> {
    Err("SESSION_REVOCATION=redis://... needs the redis feature: \
         cargo run --example axum --features axum,redis"
        .to_owned())
}

/// Pyramid's default salt, which the demo keeps.
const PYRAMID_SALT: &str = "pyramid.session.";

/// The bytes Pyramid keys its HMAC with for the texts `salt` and `secret`:
/// both in Latin-1 when every character of both has a Latin-1 code
/// (U+0000 to U+00FF), otherwise both in UTF-8.
pub fn pyramid_key_bytes(salt: &str, secret: &str) -> (Vec<u8>, Vec<u8>) {
    let latin1 = |text: &str| {
        text.chars()
            .map(|c| u8::try_from(c).ok())
            .collect::<Option<Vec<u8>>>()
    };
    match (latin1(salt), latin1(secret)) {
        (Some(salt), Some(secret)) => (salt, secret),
        _ => (salt.as_bytes().to_vec(), secret.as_bytes().to_vec()),
    }
}

/// The secret from `SESSION_SECRET` (encoded as Pyramid encodes it, in
/// Pyramid's format), or a random one.
fn secret(var: impl Fn(&str) -> Option<OsString>, format: &Format) -> Result<Vec<u8>, String> {
    if let Some(secret) = var("SESSION_SECRET") {
        let secret = if *format == Format::signed_serialize() {
            secret.into_encoded_bytes()
        } else {
            let text = secret
                .into_string()
                .map_err(|_| "SESSION_SECRET must be UTF-8 text for Pyramid".to_owned())?;
            pyramid_key_bytes(PYRAMID_SALT, &text).1
        };
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!(
                "SESSION_SECRET is {} bytes; it needs at least {MIN_SECRET_LEN} bytes of \
                 random data, e.g. SESSION_SECRET=$(openssl rand -hex 32)",
                secret.len()
            ));
        }
        return Ok(secret);
    }
    let mut secret = vec![0; MIN_SECRET_LEN];
    getrandom::fill(&mut secret)
        .map_err(|e| format!("cannot make a random secret ({e}); set SESSION_SECRET"))?;
    println!(
        "note: SESSION_SECRET is not set; using a random secret, so sessions \
         will not survive a restart"
    );
    Ok(secret)
}
