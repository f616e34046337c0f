//! Session cookies made the way the layer makes them, at chosen times, and
//! read back from responses.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cookie::Cookie;
use hmac::{Hmac, Mac};
use http::{HeaderMap, header::SET_COOKIE};
use serde::Serialize;
use sha1::Sha1;
use tower_cookie_session::signed_serialize;

/// `time` in whole Unix seconds, as the layer counts time.
pub(crate) fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

pub(crate) fn now() -> u64 {
    unix(SystemTime::now())
}

/// The time `secs` Unix seconds, as the vectors give times.
pub(crate) fn system_time(secs: f64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs_f64(secs)
}

/// A cookie value as the layer would have written it at `accessed`, for a
/// session created at `created`.
pub(crate) fn cookie_at(
    accessed: u64,
    created: u64,
    state: impl Serialize,
    secret: &[u8],
) -> String {
    signed_serialize(&(accessed, created, state), secret).unwrap()
}

/// The signature that opens a value of the default format, computed here
/// from the format's definition: HMAC-SHA1 of the payload, lowercase hex.
pub(crate) fn hmac_sha1_hex(payload: &[u8], secret: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("any key length");
    mac.update(payload);
    hex(&mac.finalize().into_bytes())
}

/// The `name=value` part of a `Set-Cookie` value: what a browser sends back.
pub(crate) fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().trim().to_owned()
}

/// The session cookie a response sets, if any: one `Set-Cookie` at most,
/// and that one for the `session` cookie.
pub(crate) fn session_set_cookie(headers: &HeaderMap) -> Option<Cookie<'static>> {
    set_cookie(headers, "session")
}

/// The cookie a response sets, if any: one `Set-Cookie` at most, and that
/// one for the cookie `name`.
pub(crate) fn set_cookie(headers: &HeaderMap, name: &str) -> Option<Cookie<'static>> {
    let mut lines = headers.get_all(SET_COOKIE).iter();
    let line = lines.next()?;
    assert!(lines.next().is_none(), "one Set-Cookie at most");
    let line = line.to_str().expect("ASCII Set-Cookie").to_owned();
    let cookie = Cookie::parse(line).expect("Set-Cookie");
    assert_eq!(cookie.name(), name);
    Some(cookie)
}

/// `bytes` in lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes that `hex` (of even length, either case) spells.
pub(crate) fn unhex(hex: &str) -> Vec<u8> {
    assert!(hex.len().is_multiple_of(2), "odd-length hex {hex:?}");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}
