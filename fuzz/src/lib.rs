//! What the fuzz targets share: the wire formats under test, a one-request
//! driver for a `SessionLayer` around a plain handler, and a browser's
//! cookie jar for the session cookie.
//!
//! Every target takes its wire format from one input byte through
//! [`format`], so a new format is one more entry in [`FORMATS`].

pub mod python;

use std::{
    cell::RefCell,
    collections::BTreeMap,
    convert::Infallible,
    future::{Future, Ready, ready},
    pin::pin,
    rc::Rc,
    task::{Context, Poll, Waker},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use base64::{
    Engine as _,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use chacha20poly1305::{AeadInPlace, Tag, XChaCha20Poly1305, XNonce};
use cookie::Cookie;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use http::{HeaderValue, Request, Response, StatusCode, header};
use serde_json::value::RawValue;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tower_layer::Layer;
use tower_service::Service;

pub use tower_cookie_session::{
    Expiry, MAX_CLOCK_SKEW, MAX_COOKIE_VALUE_LEN, Session, SessionLayer,
};

/// The secret the layer signs with.
pub const SECRET: &[u8] = b"tower-cookie-session fuzzing secret, primary";
/// A fallback secret the layer still accepts (key rotation).
pub const OLD_SECRET: &[u8] = b"tower-cookie-session fuzzing secret, previous";
/// A secret the layer does not know.
pub const OTHER_SECRET: &[u8] = b"tower-cookie-session fuzzing secret, unknown";
/// The session cookie's name.
pub const COOKIE_NAME: &str = "session";
/// Names of other cookies, for values made for another cookie than ours
/// (a format that [binds the name](FuzzFormat::binds_name) refuses them).
pub const OTHER_NAMES: [&str; 3] = ["Session", "session2", ""];
/// The `Max-Age` of a layer with one: a week.
pub const MAX_AGE: Duration = Duration::from_secs(7 * 86_400);

/// A wire format, as the targets see it.
pub struct FuzzFormat {
    pub name: &'static str,
    /// Puts the format on a layer.
    pub configure: fn(SessionLayer) -> SessionLayer,
    /// Signs (or seals) raw payload bytes as the value of the cookie
    /// `cookie_name` in this format, so that a target can reach the payload
    /// parser behind a valid signature.
    pub sign: fn(secret: &[u8], cookie_name: &str, payload: &[u8]) -> String,
    /// Decodes the value of the cookie `cookie_name` into `(accessed,
    /// created, state as raw JSON)`: with the crate's public API where it
    /// has one, else from the format's definition.
    pub decode: Option<Decode>,
    /// Whether a value is bound to its cookie's name: one made for another
    /// cookie never opens as ours.
    pub binds_name: bool,
    /// Length of the cookie value for a payload of `n` bytes.
    pub value_len: fn(n: usize) -> usize,
    /// Whether the size limit also counts the value for the payload Python's
    /// `json.dumps` would write for the same session ([`python`]), so that
    /// Pyramid can write back what the layer wrote: the longer of the two
    /// counts. `tests/pyramid_interop.rs` checks the rule against real
    /// Pyramid.
    pub counts_python: bool,
}

/// A session as decoded from a cookie: timestamps and each value's JSON text.
pub type SessionJson = (f64, f64, BTreeMap<String, Box<RawValue>>);

/// Decodes the value of the cookie `cookie_name` signed (or sealed) with
/// a secret, or refuses it.
pub type Decode = fn(value: &str, secret: &[u8], cookie_name: &str) -> Option<SessionJson>;

/// The formats under test; a format-selector byte picks one (modulo the
/// length), so seeds stay valid when formats are added.
pub const FORMATS: &[FuzzFormat] = &[
    FuzzFormat {
        name: "default",
        configure: |layer| layer,
        sign: |secret, _, payload| sign_default(secret, payload),
        decode: Some(|value, secret, _| {
            tower_cookie_session::signed_deserialize(value, secret).ok()
        }),
        binds_name: false,
        value_len: |n| 40 + n.div_ceil(3) * 4,
        counts_python: false,
    },
    FuzzFormat {
        name: "pyramid2",
        configure: |layer| layer.format(tower_cookie_session::Format::pyramid2()),
        sign: |secret, _, payload| sign_pyramid2(secret, payload),
        decode: Some(|value, secret, _| decode_pyramid2(value, secret)),
        binds_name: false,
        value_len: |n| (4 * (64 + n)).div_ceil(3),
        counts_python: true,
    },
    FuzzFormat {
        name: "sealed",
        configure: |layer| layer.format(tower_cookie_session::Format::sealed()),
        sign: seal,
        decode: Some(open_sealed),
        binds_name: true,
        // The version byte, the 24-byte nonce and the 16-byte tag, in
        // unpadded base64.
        value_len: |n| ((n + 41) * 4).div_ceil(3),
        counts_python: false,
    },
];

/// The format chosen by `selector`.
pub fn format(selector: u8) -> &'static FuzzFormat {
    &FORMATS[usize::from(selector) % FORMATS.len()]
}

/// Pyramid 2's format, written here from its definition:
/// `base64url_nopad(HMAC-SHA512("pyramid.session." || secret, payload) || payload)`.
pub fn sign_pyramid2(secret: &[u8], payload: &[u8]) -> String {
    let key = [b"pyramid.session.".as_slice(), secret].concat();
    let mut mac = Hmac::<sha2::Sha512>::new_from_slice(&key).expect("HMAC takes any key");
    mac.update(payload);
    let mut bytes = mac.finalize().into_bytes().to_vec();
    bytes.extend_from_slice(payload);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Reads a value of Pyramid 2's format as Pyramid writes it (unpadded),
/// from its definition: the payload after the 64-byte HMAC-SHA512 tag, if
/// the tag is that of `secret`.
pub fn decode_pyramid2(value: &str, secret: &[u8]) -> Option<SessionJson> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .ok()?;
    let (tag, payload) = bytes.split_at_checked(64)?;
    let key = [b"pyramid.session.".as_slice(), secret].concat();
    let mut mac = Hmac::<sha2::Sha512>::new_from_slice(&key).expect("HMAC takes any key");
    mac.update(payload);
    mac.verify_slice(tag).ok()?;
    serde_json::from_slice(payload).ok()
}

/// The sealed format's cipher for `secret`, from the format's definition
/// (on `Format`): the key is HKDF-SHA256 of the secret, without salt, with
/// the format's `info`.
fn sealed_cipher(secret: &[u8]) -> XChaCha20Poly1305 {
    let mut key = [0; 32];
    Hkdf::<Sha256>::new(None, secret)
        .expand(b"tower-cookie-session/sealed/v1", &mut key)
        .expect("HKDF-SHA256 makes 32-byte keys");
    // Named in full: with `KeyInit` in scope, `Hmac::new_from_slice` would be
    // ambiguous.
    <XChaCha20Poly1305 as chacha20poly1305::KeyInit>::new(&key.into())
}

/// The sealed format's associated data: the version byte and the cookie
/// name.
fn sealed_aad(cookie_name: &str) -> Vec<u8> {
    [&[0x01][..], cookie_name.as_bytes()].concat()
}

/// The sealed format, written here from its definition rather than with
/// the crate: `base64url_nopad(0x01 || nonce || XChaCha20-Poly1305(key,
/// nonce, payload, aad = 0x01 || cookie name))`. The layer takes a fresh
/// random nonce for every value; this one is a hash of what is sealed, so
/// that a fuzzing input (and a seed) always makes the same value.
pub fn seal(secret: &[u8], cookie_name: &str, payload: &[u8]) -> String {
    let digest = Sha256::new()
        .chain_update(secret)
        .chain_update([0])
        .chain_update(cookie_name)
        .chain_update([0])
        .chain_update(payload)
        .finalize();
    let nonce: [u8; 24] = digest[..24].try_into().expect("24 of 32 bytes");
    let mut sealed = payload.to_vec();
    let tag = sealed_cipher(secret)
        .encrypt_in_place_detached(&XNonce::from(nonce), &sealed_aad(cookie_name), &mut sealed)
        .expect("XChaCha20-Poly1305 seals a cookie");
    URL_SAFE_NO_PAD.encode([&[0x01][..], &nonce, &sealed, &tag].concat())
}

/// Opens a value of the sealed format as the layer writes it (unpadded),
/// from the format's definition: the payload, if the value is of version
/// 1 and sealed with `secret` for the cookie `cookie_name`.
pub fn open_sealed(value: &str, secret: &[u8], cookie_name: &str) -> Option<SessionJson> {
    let raw = URL_SAFE_NO_PAD.decode(value).ok()?;
    let (header, rest) = raw.split_at_checked(25)?;
    let (sealed, tag) = rest.split_at_checked(rest.len().checked_sub(16)?)?;
    if header[0] != 0x01 {
        return None;
    }
    let nonce = <[u8; 24]>::try_from(&header[1..]).ok()?;
    let mut payload = sealed.to_vec();
    sealed_cipher(secret)
        .decrypt_in_place_detached(
            &XNonce::from(nonce),
            &sealed_aad(cookie_name),
            &mut payload,
            Tag::from_slice(tag),
        )
        .ok()?;
    serde_json::from_slice(&payload).ok()
}

/// The default format, written here from its definition rather than with
/// the crate: `hex_lower(HMAC-SHA1(secret, payload)) || base64(payload)`.
pub fn sign_default(secret: &[u8], payload: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(payload);
    let mut value: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    value.push_str(&STANDARD.encode(payload));
    value
}

/// The layer under test: `format`, the secret with one fallback, either
/// the default timeouts or none (so that old seed cookies still verify
/// and reach the session), and [`MAX_AGE`] or no `Max-Age`.
pub fn layer(
    format: &FuzzFormat,
    timeout: bool,
    cookie_on_exception: bool,
    max_age: bool,
) -> SessionLayer {
    let mut layer = (format.configure)(SessionLayer::new(SECRET))
        .fallback_secrets([OLD_SECRET])
        .cookie_on_exception(cookie_on_exception)
        .max_age(max_age.then_some(MAX_AGE));
    if !timeout {
        layer = layer.timeout(None);
    }
    layer
        .validate()
        .expect("the fuzzing configuration is valid");
    layer
}

/// A service that hands the request's session to `F` and answers with the
/// status `F` returns. Its clones share `F`, as the layer needs a `Clone`
/// service.
pub struct Handler<F>(pub Rc<RefCell<F>>);

impl<F> Clone for Handler<F> {
    fn clone(&self) -> Self {
        Self(Rc::clone(&self.0))
    }
}

impl<F: FnMut(&Session) -> StatusCode> Service<Request<()>> for Handler<F> {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<Response<()>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<()>) -> Self::Future {
        let session = req
            .extensions()
            .get::<Session>()
            .expect("the layer puts a Session into every request")
            .clone();
        let status = (self.0.borrow_mut())(&session);
        let mut response = Response::new(());
        *response.status_mut() = status;
        ready(Ok(response))
    }
}

/// Runs `future` to completion on this thread. Nothing in the layer waits
/// on anything, so the first poll must finish it.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the session layer's future waited on nothing"),
    }
}

/// Sends one request with `cookie_lines` as its `Cookie` header lines
/// through `layer` around `handler`.
pub fn request(
    layer: &SessionLayer,
    cookie_lines: &[HeaderValue],
    handler: impl FnMut(&Session) -> StatusCode,
) -> Response<()> {
    let mut service = layer.layer(Handler(Rc::new(RefCell::new(handler))));
    let mut req = Request::new(());
    for line in cookie_lines {
        req.headers_mut().append(header::COOKIE, line.clone());
    }
    match block_on(service.call(req)) {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// The `Cookie` header lines in `bytes`, one per `\n`; lines that are not
/// valid header values (an HTTP stack would refuse them) are dropped.
pub fn header_lines(bytes: &[u8]) -> Vec<HeaderValue> {
    bytes
        .split(|&b| b == b'\n')
        .filter_map(|line| HeaderValue::from_bytes(line).ok())
        .collect()
}

/// Each key of `session` with its value's JSON text, as stored.
pub fn snapshot(session: &Session) -> BTreeMap<String, String> {
    session
        .keys()
        .into_iter()
        .map(|key| {
            let raw: Box<RawValue> = session
                .get(&key)
                .expect("any stored value reads as raw JSON")
                .expect("a listed key has a value");
            (key, raw.get().to_owned())
        })
        .collect()
}

/// What a response did to the session cookie.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    Nothing,
    /// A value, with the cookie's `Max-Age` in seconds, if any.
    Value(String, Option<i64>),
    Removed,
}

/// Checks what every response that used the session must satisfy, and
/// returns what it wrote: `Vary: Cookie`, at most one `Set-Cookie`, of our
/// name, never over [`MAX_COOKIE_VALUE_LEN`].
pub fn check_response(response: &Response<()>) -> Written {
    let headers = response.headers();
    assert!(
        headers
            .get_all(header::VARY)
            .iter()
            .any(|v| v.as_bytes().eq_ignore_ascii_case(b"cookie")),
        "a response that used the session has Vary: Cookie"
    );
    let mut set_cookies = headers.get_all(header::SET_COOKIE).iter();
    let Some(line) = set_cookies.next() else {
        return Written::Nothing;
    };
    assert!(set_cookies.next().is_none(), "one Set-Cookie at most");
    let cookie =
        Cookie::parse(line.to_str().expect("Set-Cookie is ASCII")).expect("Set-Cookie parses");
    assert_eq!(cookie.name(), COOKIE_NAME);
    assert!(
        cookie.value().len() <= MAX_COOKIE_VALUE_LEN,
        "cookie value of {} bytes, over the limit",
        cookie.value().len()
    );
    if cookie.max_age() == Some(cookie::time::Duration::ZERO) {
        assert!(
            cookie.value().is_empty(),
            "a removal cookie carries no value"
        );
        Written::Removed
    } else {
        Written::Value(
            cookie.value().to_owned(),
            cookie.max_age().map(|d| d.whole_seconds()),
        )
    }
}

/// A browser's cookie jar as far as the session cookie goes: after the
/// first `Set-Cookie`, our cookie is the only one it sends.
pub struct Jar {
    pub lines: Vec<HeaderValue>,
}

impl Jar {
    pub fn new(lines: Vec<HeaderValue>) -> Self {
        Self { lines }
    }

    pub fn store(&mut self, written: &Written) {
        match written {
            Written::Nothing => {}
            Written::Removed => self.lines.clear(),
            Written::Value(value, _) => {
                self.lines = vec![
                    HeaderValue::try_from(format!("{COOKIE_NAME}={value}"))
                        .expect("the layer writes header-safe values"),
                ];
            }
        }
    }
}

/// Length of the payload `[now,created,{state}]` the layer writes for
/// `state` (values as their JSON text, written verbatim).
pub fn payload_len(now: u64, created: u64, state: &BTreeMap<String, String>) -> usize {
    let raw: BTreeMap<&str, &RawValue> = state
        .iter()
        .map(|(k, v)| {
            let v: &RawValue = serde_json::from_str(v).expect("stored values are JSON");
            (k.as_str(), v)
        })
        .collect();
    serde_json::to_vec(&(now, created, raw))
        .expect("JSON to memory")
        .len()
}

/// Whether the layer can write `state` as a cookie of `format` within the
/// size limit, with the timestamps `now` and `created` it writes: `Some`
/// where the model knows, `None` where it cannot. The value for the compact
/// payload counts; for a format that [`counts_python`](FuzzFormat::counts_python),
/// so does the value for Python's spelling. The layer counts Python's
/// spelling from the payload's text, so where the text spells something
/// longer than Python does (an escape such as `\u0041`, which neither
/// Python nor `serde_json` writes) it may count more: a session that
/// fits in Python's spelling is then `None`, one that does not is still
/// `Some(false)`.
pub fn fits_at(
    format: &FuzzFormat,
    now: u64,
    created: u64,
    state: &BTreeMap<String, String>,
) -> Option<bool> {
    if (format.value_len)(payload_len(now, created, state)) > MAX_COOKIE_VALUE_LEN {
        return Some(false);
    }
    if !format.counts_python {
        return Some(true);
    }
    // Python cannot read the payload (an integer of 4301 digits): one
    // that long never fits anyway.
    let python = python::payload(now, created, state)?;
    if (format.value_len)(python.json.len()) > MAX_COOKIE_VALUE_LEN {
        return Some(false);
    }
    python.spelled_as_python.then_some(true)
}

/// [`fits_at`] for `session` with `state`, written now.
pub fn fits(
    format: &FuzzFormat,
    session: &Session,
    state: &BTreeMap<String, String>,
) -> Option<bool> {
    let now = unix_now();
    let [a, b] =
        written_created(session.created()).map(|created| fits_at(format, now, created, state));
    // Known only if both readings of `created` agree.
    if a == b { a } else { None }
}

/// The whole seconds the layer may write for a session's `created` time,
/// as `created()` gives it: the layer truncates the time it keeps
/// (seconds as `f64`), which `created()` rounds to a nanosecond, so a time
/// a hair below a whole second reads as that second.
pub fn written_created(created: SystemTime) -> [u64; 2] {
    let since = created.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    if since.subsec_nanos() == 0 {
        [secs, secs.saturating_sub(1)]
    } else {
        [secs, secs]
    }
}

/// Seconds since the Unix epoch of `time`, as a float.
pub fn unix_f64(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The layer's defaults with the timeout on (`SessionLayer` documents
/// them): 20 minutes idle, written again once the last write is a tenth
/// of that old.
pub const DEFAULT_TIMEOUT_SECS: f64 = 1200.0;
pub const DEFAULT_REISSUE_SECS: f64 = 120.0;

/// The answer of `test(now, time)`, a test on the layer's clock `now` and
/// a time `time`, monotonic in each, where the model knows only that the
/// clock the layer read lies in `now` (whole seconds, read before and
/// after the request) and `time` to within a millisecond (a session's
/// times are read back through nanoseconds): `Some` if every such pair
/// gives the same answer, else `None`.
pub fn known_at(now: (u64, u64), time: f64, test: impl Fn(f64, f64) -> bool) -> Option<bool> {
    let answers = [now.0, now.1]
        .into_iter()
        .flat_map(|n| [time - 1e-3, time + 1e-3].map(|t| test(n as f64, t)));
    let answers: Vec<bool> = answers.collect();
    answers
        .iter()
        .all(|a| *a == answers[0])
        .then_some(answers[0])
}

/// Whether the `Cookie` header lines carry a cookie named [`COOKIE_NAME`]
/// byte for byte, as a browser sees it (RFC 6265bis): pairs split at `;`,
/// the name up to the first `=`, only spaces and tabs around it trimmed.
pub fn carries_session_cookie(lines: &[HeaderValue]) -> bool {
    lines.iter().any(|line| {
        line.as_bytes().split(|&b| b == b';').any(|pair| {
            pair.iter().position(|&b| b == b'=').is_some_and(|eq| {
                let name = &pair[..eq];
                let trimmed: &[u8] = {
                    let start = name.iter().position(|b| !b" \t".contains(b));
                    let end = name.iter().rposition(|b| !b" \t".contains(b));
                    match (start, end) {
                        (Some(s), Some(e)) => &name[s..=e],
                        _ => &[],
                    }
                };
                trimmed == COOKIE_NAME.as_bytes()
            })
        })
    })
}

/// Whether two JSON texts hold the same value, by the layer's rule: an
/// equal store is no change, so this decides whether a cookie is written.
/// Values are compared read, not as text: an integer (no fraction, no
/// exponent) by its digits, whatever its size, `-0` being `0`; a float as
/// the `f64` it reads as; an integer never equals a float. A part that
/// cannot be read as such (a float beyond `f64`, a string or key with a
/// lone surrogate) equals only the same text.
pub fn same_json(a: &str, b: &str) -> bool {
    Json::read(a) == Json::read(b)
}

#[derive(Debug, PartialEq)]
enum Json {
    /// `true`, `false`, `null`, or what cannot be read: compared as text.
    Text(String),
    /// An integer's digits, without the sign of zero.
    Int(String),
    Float(f64),
    Str(String),
    Arr(Vec<Json>),
    /// Duplicate keys: the last wins.
    Obj(BTreeMap<String, Json>),
}

impl Json {
    fn read(text: &str) -> Self {
        let text = text.trim_matches([' ', '\t', '\n', '\r']);
        let unread = || Json::Text(text.to_owned());
        match text.as_bytes().first() {
            Some(b'{') => serde_json::from_str::<BTreeMap<String, &RawValue>>(text).map_or_else(
                |_| unread(),
                |map| {
                    Json::Obj(
                        map.into_iter()
                            .map(|(k, v)| (k, Json::read(v.get())))
                            .collect(),
                    )
                },
            ),
            Some(b'[') => serde_json::from_str::<Vec<&RawValue>>(text).map_or_else(
                |_| unread(),
                |items| Json::Arr(items.iter().map(|v| Json::read(v.get())).collect()),
            ),
            Some(b'"') => serde_json::from_str::<String>(text).map_or_else(|_| unread(), Json::Str),
            Some(b'-' | b'0'..=b'9') if text.contains(['.', 'e', 'E']) => match text.parse::<f64>()
            {
                Ok(x) if x.is_finite() => Json::Float(x),
                _ => unread(),
            },
            Some(b'-' | b'0'..=b'9') => {
                let digits = text.strip_prefix('-').unwrap_or(text);
                if digits.bytes().all(|d| d == b'0') {
                    Json::Int("0".to_owned())
                } else {
                    Json::Int(text.to_owned())
                }
            }
            _ => unread(),
        }
    }
}

/// The key under which a session keeps its [`Expiry`].
pub const EXPIRY_KEY: &str = "_exp_";

/// The expiry a session holding `state` has, by `Session::set_expiry`'s
/// rule: `_exp_` holds whole seconds, 0 for a browser session; anything
/// else there (or nothing) is the default.
pub fn expiry_of(state: &BTreeMap<String, String>) -> Expiry {
    match state.get(EXPIRY_KEY).map(|raw| raw.parse::<u64>()) {
        Some(Ok(0)) => Expiry::BrowserSession,
        Some(Ok(secs)) => Expiry::Persistent(Duration::from_secs(secs)),
        _ => Expiry::Default,
    }
}

/// What `set_expiry(expiry)` stores under `_exp_` (`None`: removes it):
/// whole seconds, at least one, and 0 for a browser session.
pub fn stored_expiry(expiry: Expiry) -> Option<u64> {
    match expiry {
        Expiry::Persistent(d) => Some(d.as_secs().max(1)),
        Expiry::BrowserSession => Some(0),
        _ => None,
    }
}

/// The inactivity timeout in seconds of a session of `expiry` on a layer
/// with the default timeout (`timeout`) or none: a persistent session's
/// own, else the layer's.
pub fn timeout_secs(expiry: Expiry, timeout: bool) -> Option<f64> {
    match expiry {
        Expiry::Persistent(d) => Some(d.as_secs_f64()),
        _ => timeout.then_some(DEFAULT_TIMEOUT_SECS),
    }
}

/// The reissue time in seconds of a session of `expiry` (the layers under
/// test set none of their own): a tenth of its timeout.
pub fn reissue_secs(expiry: Expiry, timeout: bool) -> Option<f64> {
    match expiry {
        Expiry::Persistent(d) => Some((d / 10).as_secs_f64()),
        _ => timeout.then_some(DEFAULT_REISSUE_SECS),
    }
}

/// The `Max-Age` in seconds of a cookie written for a session of `expiry`
/// on a layer with [`MAX_AGE`] (`max_age`) or none: a persistent session's
/// own (as far as `Max-Age` goes), none for a browser session, else the
/// layer's.
pub fn max_age_of(expiry: Expiry, max_age: bool) -> Option<i64> {
    match expiry {
        Expiry::Persistent(d) => Some(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        Expiry::BrowserSession => None,
        _ => max_age.then(|| MAX_AGE.as_secs().try_into().expect("a week")),
    }
}

/// Unix seconds now, as the layer writes them.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// Whole Unix seconds of `time`, as the layer writes them.
pub fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
#[cfg(test)]
mod tests {
    use super::*;

    /// Each format's signer, decoder and length rule against the layer: a
    /// value the target signs is accepted, and one the layer writes
    /// decodes, is as long as the rule says and is refused for another
    /// cookie where the format binds the name.
    #[test]
    fn every_format_agrees_with_the_layer() {
        let payload = br#"[1700000300,1700000000,{"user":"ada"}]"#;
        for format in FORMATS {
            let layer = layer(format, false, true, false);
            for (secret, name, accepted) in [
                (SECRET, COOKIE_NAME, true),
                (OLD_SECRET, COOKIE_NAME, true),
                (OTHER_SECRET, COOKIE_NAME, false),
                (SECRET, OTHER_NAMES[0], !format.binds_name),
            ] {
                let value = (format.sign)(secret, name, payload);
                assert_eq!(
                    value.len(),
                    (format.value_len)(payload.len()),
                    "{}",
                    format.name
                );
                let header = HeaderValue::try_from(format!("{COOKIE_NAME}={value}")).unwrap();
                let response = request(&layer, &[header], |session| {
                    assert_eq!(!session.is_new(), accepted, "{} {name:?}", format.name);
                    session.insert("visits", 1).unwrap();
                    StatusCode::OK
                });
                let Written::Value(written, None) = check_response(&response) else {
                    panic!("{}: no cookie written", format.name);
                };
                let decode = format.decode.expect("every format decodes");
                let (_, _, state) = decode(&written, SECRET, COOKIE_NAME).expect("decodes");
                assert_eq!(state.contains_key("user"), accepted, "{}", format.name);
                assert!(decode(&written, OLD_SECRET, COOKIE_NAME).is_none());
                for other in OTHER_NAMES {
                    let opens = decode(&written, SECRET, other).is_some();
                    assert_eq!(opens, !format.binds_name, "{} {other:?}", format.name);
                }
            }
        }
    }

    #[test]
    fn same_json_compares_numbers_exactly() {
        for (a, b, same) in [
            ("1", "1", true),
            ("1", "1.0", false),
            ("1e2", "100.0", true),
            ("-0", "0", true),
            ("-0.0", "0.0", true),
            ("-0.0", "0", false),
            ("100000000000000000000", "100000000000000000001", false),
            ("100000000000000000000", "1e20", false),
            ("[100000000000000000000]", "[ 100000000000000000000 ]", true),
            ("1e400", "1e400", true),
            ("1e400", "2e400", false),
            (r#""\u0061""#, r#""a""#, true),
            (r#""\ud800""#, r#""\ud800""#, true),
            (r#""\ud800""#, r#""\uD800""#, false),
            (r#"{"a": 1, "b": 2}"#, r#"{"b":2,"a":1}"#, true),
            (r#"{"a": 1, "a": 2}"#, r#"{"a":2}"#, true),
            (r#"{"a": 1}"#, r#"{"a":1,"b":1}"#, false),
            ("[]", "{}", false),
            ("null", "false", false),
            ("\"1\"", "1", false),
        ] {
            assert_eq!(same_json(a, b), same, "{a} {b}");
            assert_eq!(same_json(b, a), same, "{b} {a}");
        }
    }
}
