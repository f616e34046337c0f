//! Session cookies made the way the layer makes them, at chosen times, and
//! read back from responses.

use std::time::{SystemTime, UNIX_EPOCH};

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
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `name=value` part of a `Set-Cookie` value: what a browser sends back.
pub(crate) fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().trim().to_owned()
}

/// The session cookie a response sets, if any: one `Set-Cookie` at most,
/// and that one for the `session` cookie.
pub(crate) fn session_set_cookie(headers: &HeaderMap) -> Option<Cookie<'static>> {
    let mut lines = headers.get_all(SET_COOKIE).iter();
    let line = lines.next()?;
    assert!(lines.next().is_none(), "one Set-Cookie at most");
    let line = line.to_str().expect("ASCII Set-Cookie").to_owned();
    let cookie = Cookie::parse(line).expect("Set-Cookie");
    assert_eq!(cookie.name(), "session");
    Some(cookie)
}
