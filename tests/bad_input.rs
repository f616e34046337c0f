//! The bad-input matrix: malformed, tampered and hostile `Cookie` headers
//! sent to a real server on a loopback port. Each must give a fresh
//! session and a 200, never an error response or a panic, and the server
//! must keep answering afterwards.
//!
//! Validly signed but malformed payloads are made with the server's
//! secret: raw JSON text through the public `signed_serialize` and a
//! `serde_json::value::RawValue`, and bytes that are not JSON at all with
//! HMAC-SHA1 computed here from the crate's own `hmac` and `sha1`
//! dependencies. Bytes that are not UTF-8 go over a raw `TcpStream`, since
//! HTTP clients may refuse to send them.

#![cfg(feature = "axum")]

mod common;

use std::net::SocketAddr;

use axum::{Json, Router, routing::get};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use reqwest::{
    StatusCode,
    header::{COOKIE, HeaderValue, SET_COOKIE},
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tower_cookie_session::{Session, SessionLayer, signed_serialize};

use common::{
    cookies::{hmac_sha1_hex, now},
    server::serve,
};

const SECRET: &[u8] = b"the bad-input server's secret, 32 bytes or more";
const OTHER_SECRET: &[u8] = b"some other server's secret, also 32+ bytes long";

/// What the handler saw: whether the session was new, its keys before the
/// handler touched it, and the counter it stored.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Seen {
    new: bool,
    keys: Vec<String>,
    count: u64,
}

impl Seen {
    fn fresh() -> Self {
        Self {
            new: true,
            keys: vec![],
            count: 1,
        }
    }

    /// A valid session holding `{"count": previous}`.
    fn continued(previous: u64) -> Self {
        Self {
            new: false,
            keys: vec!["count".to_owned()],
            count: previous + 1,
        }
    }
}

/// Reads a counter and stores it plus one; never fails, whatever the
/// session holds.
async fn counter(session: Session) -> Json<Seen> {
    let keys = session.keys();
    let count = session.get::<u64>("count").ok().flatten().unwrap_or(0) + 1;
    // A session too large to grow is still answered.
    let _ = session.insert("count", count);
    Json(Seen {
        new: session.is_new(),
        keys,
        count,
    })
}

struct Server {
    addr: SocketAddr,
    client: reqwest::Client,
}

impl Server {
    async fn start() -> Self {
        Self::start_with(SessionLayer::new(SECRET)).await
    }

    async fn start_with(layer: SessionLayer) -> Self {
        let app = Router::new().route("/", get(counter)).layer(layer);
        Self {
            addr: serve(app).await,
            client: reqwest::Client::new(),
        }
    }

    /// GET / with `cookie` as the one `Cookie` header.
    async fn get(&self, case: &str, cookie: &[u8]) -> Seen {
        let cookie = HeaderValue::from_bytes(cookie)
            .unwrap_or_else(|e| panic!("{case}: not a header value: {e}"));
        let response = self
            .client
            .get(format!("http://{}/", self.addr))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{case}: no answer: {e}"));
        assert_eq!(response.status(), StatusCode::OK, "{case}");
        assert!(
            response.headers().contains_key(SET_COOKIE),
            "{case}: the session is written"
        );
        let body = response.text().await.unwrap();
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{case}: {e}: {body}"))
    }

    /// GET / with `lines` as `Cookie` header lines, over a raw TCP stream,
    /// byte for byte.
    async fn raw_get(&self, case: &str, lines: &[&[u8]]) -> Seen {
        let mut request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".to_vec();
        for line in lines {
            request.extend_from_slice(b"Cookie: ");
            request.extend_from_slice(line);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"\r\n");
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        stream.write_all(&request).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        let response = String::from_utf8(response).unwrap();
        let (head, body) = response
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("{case}: no complete response: {response:?}"));
        assert!(head.starts_with("HTTP/1.1 200 "), "{case}: {head}");
        let head = head.to_ascii_lowercase();
        assert!(!head.contains("transfer-encoding"), "{case}: {head}");
        assert!(head.contains("\r\nset-cookie: session="), "{case}: {head}");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{case}: {e}: {body:?}"))
    }

    /// Asserts that each case gives a fresh session, and that the server
    /// still continues a valid session after it.
    async fn assert_fresh(&self, cases: &[(String, Vec<u8>)]) {
        assert!(!cases.is_empty());
        for (case, cookie) in cases {
            assert_eq!(self.get(case, cookie).await, Seen::fresh(), "{case}");
            self.assert_alive(case).await;
        }
    }

    /// The server still answers, and still reads a valid cookie.
    async fn assert_alive(&self, after: &str) {
        let cookie = format!("session={}", session_cookie(41));
        let seen = self
            .get(&format!("valid cookie after {after}"), cookie.as_bytes())
            .await;
        assert_eq!(seen, Seen::continued(41), "after {after}");
    }
}

/// Raw JSON text, signed with the server's secret through the public API.
fn sign_json(json: &str) -> String {
    let raw = RawValue::from_string(json.to_owned())
        .unwrap_or_else(|e| panic!("not JSON, use sign_bytes: {e}: {json}"));
    signed_serialize(&raw, SECRET).unwrap()
}

/// Any bytes, signed with `secret`: hex HMAC-SHA1, then padded base64.
fn sign_bytes(payload: &[u8], secret: &[u8]) -> String {
    let mut value = hmac_sha1_hex(payload, secret);
    value.push_str(&STANDARD.encode(payload));
    value
}

/// A valid, current session value holding `{"count": count}`.
fn session_cookie(count: u64) -> String {
    let now = now();
    sign_json(&format!(r#"[{now},{now},{{"count":{count}}}]"#))
}

/// `session=<value>` cases, named.
fn session_cases<N: Into<String>, V: AsRef<[u8]>>(
    cases: impl IntoIterator<Item = (N, V)>,
) -> Vec<(String, Vec<u8>)> {
    cases
        .into_iter()
        .map(|(name, value)| {
            let mut cookie = b"session=".to_vec();
            cookie.extend_from_slice(value.as_ref());
            (name.into(), cookie)
        })
        .collect()
}

fn replace_byte(value: &str, index: usize, with: u8) -> Vec<u8> {
    let mut bytes = value.as_bytes().to_vec();
    bytes[index] = with;
    bytes
}

#[tokio::test]
async fn crafted_valid_cookies_continue_the_session() {
    // The controls: the helpers that sign malformed payloads below do sign.
    let server = Server::start().await;
    let now = now();
    let json = format!(r#"[{now},{now},{{"count":5}}]"#);
    assert_eq!(sign_bytes(json.as_bytes(), SECRET), sign_json(&json));
    let floats = format!(r#"[{now}.75, {now}.5, {{"count": 5}}]"#);
    for (case, value) in [
        ("signed_serialize of raw JSON", sign_json(&json)),
        ("HMAC computed here", sign_bytes(json.as_bytes(), SECRET)),
        ("float timestamps", sign_bytes(floats.as_bytes(), SECRET)),
        (
            "unpadded",
            sign_json(&json).trim_end_matches('=').to_owned(),
        ),
    ] {
        let seen = server
            .get(case, format!("session={value}").as_bytes())
            .await;
        assert_eq!(seen, Seen::continued(5), "{case}");
    }
}

#[tokio::test]
async fn empty_and_nameless_cookies_start_fresh() {
    let server = Server::start().await;
    let valid = session_cookie(5);
    server
        .assert_fresh(&[
            ("empty header".to_owned(), b"".to_vec()),
            ("empty value".to_owned(), b"session=".to_vec()),
            ("quoted empty value".to_owned(), b"session=\"\"".to_vec()),
            ("blank value".to_owned(), b"session=   ".to_vec()),
            ("only the name".to_owned(), b"session".to_vec()),
            ("only the name and a ;".to_owned(), b"session;".to_vec()),
            ("only separators".to_owned(), b";;; ;".to_vec()),
            (
                "nameless value".to_owned(),
                format!("={valid}").into_bytes(),
            ),
        ])
        .await;
}

#[tokio::test]
async fn truncated_cookies_start_fresh() {
    let server = Server::start().await;
    let valid = session_cookie(5);
    // Cut inside the data, never only the padding: unpadded base64 is valid.
    let data_len = valid.trim_end_matches('=').len();
    let cuts = [
        1,
        2,
        20,
        39,
        40,
        41,
        42,
        44,
        data_len / 2,
        data_len - 2,
        data_len - 1,
    ];
    server
        .assert_fresh(&session_cases(cuts.map(|cut| {
            (
                format!("cut to {cut} of {} bytes", valid.len()),
                &valid[..cut],
            )
        })))
        .await;
}

#[tokio::test]
async fn non_hex_signatures_start_fresh() {
    let server = Server::start().await;
    let valid = session_cookie(5);
    server
        .assert_fresh(&session_cases([
            ("g first", replace_byte(&valid, 0, b'g')),
            ("z in the middle", replace_byte(&valid, 20, b'z')),
            ("- last", replace_byte(&valid, 39, b'-')),
            ("space inside", replace_byte(&valid, 10, b' ')),
            ("+ sign", replace_byte(&valid, 5, b'+')),
            (
                "40 x",
                format!("{}{}", "x".repeat(40), &valid[40..]).into_bytes(),
            ),
            ("0x prefix", format!("0x{}", &valid[2..]).into_bytes()),
            (
                "é inside",
                format!("{}é{}", &valid[..20], &valid[22..]).into_bytes(),
            ),
            (
                "é across the end",
                format!("{}é{}", &valid[..39], &valid[40..]).into_bytes(),
            ),
        ]))
        .await;
}

#[tokio::test]
async fn bad_base64_starts_fresh() {
    let server = Server::start().await;
    let valid = session_cookie(5);
    let (signature, encoded) = valid.split_at(40);
    server
        .assert_fresh(&session_cases([
            ("!!!!", format!("{signature}!!!!")),
            (
                "* inside",
                format!("{signature}{}*{}", &encoded[..8], &encoded[8..]),
            ),
            (
                "space inside",
                format!("{signature}{} {}", &encoded[..8], &encoded[8..]),
            ),
            ("one character", format!("{signature}A")),
            ("five characters", format!("{signature}AAAAA")),
            ("only padding", format!("{signature}====")),
            (
                "padding inside",
                format!("{signature}{}=={}", &encoded[..4], &encoded[4..]),
            ),
            ("extra padding", format!("{valid}====")),
            (
                "URL-safe character",
                format!("{signature}-{}", &encoded[1..]),
            ),
            (
                "percent-encoded padding",
                format!("{signature}{}%3D", encoded.trim_end_matches('=')),
            ),
        ]))
        .await;
}

#[tokio::test]
async fn tampered_signature_is_ignored() {
    let server = Server::start().await;
    let valid = session_cookie(5);
    let flip = |i: usize| replace_byte(&valid, i, if &valid[i..=i] == "0" { b'1' } else { b'0' });
    let other_payload = {
        let now = now();
        STANDARD.encode(format!(r#"[{now},{now},{{"count":999}}]"#))
    };
    server
        .assert_fresh(&session_cases([
            ("first digit flipped", flip(0)),
            ("middle digit flipped", flip(20)),
            ("last digit flipped", flip(39)),
            (
                "signature of another payload",
                format!("{}{other_payload}", &valid[..40]).into_bytes(),
            ),
            (
                "all-zero signature",
                format!("{}{}", "0".repeat(40), &valid[40..]).into_bytes(),
            ),
            ("no signature", valid.as_bytes()[40..].to_vec()),
            (
                "signature twice",
                format!("{}{valid}", &valid[..40]).into_bytes(),
            ),
        ]))
        .await;
}

#[tokio::test]
async fn cookie_signed_with_another_secret_is_ignored() {
    let server = Server::start().await;
    let now = now();
    let json = format!(r#"[{now},{now},{{"count":5}}]"#);
    let raw = RawValue::from_string(json.clone()).unwrap();
    server
        .assert_fresh(&session_cases([
            (
                "other secret",
                signed_serialize(&raw, OTHER_SECRET).unwrap(),
            ),
            ("empty secret", sign_bytes(json.as_bytes(), b"")),
            ("secret prefix", sign_bytes(json.as_bytes(), &SECRET[..31])),
        ]))
        .await;
}

#[tokio::test]
async fn validly_signed_non_json_is_ignored() {
    let server = Server::start().await;
    let now = now();
    let truncated = format!(r#"[{now},{now},{{"count":5}}"#);
    let trailing = format!(r#"[{now},{now},{{"count":5}}] x"#);
    let as_string = serde_json::to_string(&format!(r#"[{now},{now},{{"count":5}}]"#)).unwrap();
    let byte_payloads: [(&str, &[u8]); 8] = [
        ("empty payload", b""),
        ("plain text", b"not json at all"),
        ("not UTF-8", b"\xff\xfe\x80"),
        ("NUL", b"\0"),
        ("NaN", b"[NaN, 1, {}]"),
        ("Infinity", b"[Infinity, 1, {}]"),
        ("truncated JSON", truncated.as_bytes()),
        ("trailing garbage", trailing.as_bytes()),
    ];
    let mut cases =
        session_cases(byte_payloads.map(|(name, payload)| (name, sign_bytes(payload, SECRET))));
    // A JSON string holding the session's text: JSON, but not a session.
    cases.extend(session_cases([("JSON string", sign_json(&as_string))]));
    server.assert_fresh(&cases).await;
}

#[tokio::test]
async fn validly_signed_wrong_shapes_are_ignored() {
    let server = Server::start().await;
    let n = now();
    let shapes = [
        "{}".to_owned(),
        "[]".to_owned(),
        "null".to_owned(),
        "5".to_owned(),
        "[1,2]".to_owned(),
        "[1,2,3]".to_owned(),
        r#"["a",2,{}]"#.to_owned(),
        "[1,2,[]]".to_owned(),
        "[1,2,{},4]".to_owned(),
        // With current timestamps and a count, so that only the shape can
        // be what refuses them (not the timeout).
        format!(r#"[{n},{n}]"#),
        format!(r#"[{n},{n},{{"count":5}},4]"#),
        format!(r#"[{n},{n},{{"count":5}},{{}}]"#),
        format!(r#"["{n}",{n},{{"count":5}}]"#),
        format!(r#"[{n},"{n}",{{"count":5}}]"#),
        format!(r#"[true,{n},{{"count":5}}]"#),
        format!(r#"[null,{n},{{"count":5}}]"#),
        format!(r#"[[{n}],{n},{{"count":5}}]"#),
        format!(r#"[{n},{n},[["count",5]]]"#),
        format!(r#"[{n},{n},null]"#),
        format!(r#"[{n},{n},"count"]"#),
        format!(r#"{{"0":{n},"1":{n},"2":{{"count":5}}}}"#),
    ];
    server
        .assert_fresh(&session_cases(
            shapes
                .iter()
                .map(|json| (format!("signed {json}"), sign_json(json))),
        ))
        .await;
}

#[tokio::test]
async fn out_of_range_timestamps_are_ignored() {
    let server = Server::start().await;
    let n = now();
    let digits = "9".repeat(400);
    let payloads = [
        "[1e999,1,{}]".to_owned(),
        "[1e300,1,{}]".to_owned(),
        "[-5,1,{}]".to_owned(),
        // The other timestamp is current: if the huge one were accepted,
        // the session (count 5) would be.
        format!(r#"[1e999,{n},{{"count":5}}]"#),
        format!(r#"[{n},1e999,{{"count":5}}]"#),
        format!(r#"[-1e999,{n},{{"count":5}}]"#),
        format!(r#"[1e300,{n},{{"count":5}}]"#),
        format!(r#"[{n},1e300,{{"count":5}}]"#),
        format!(r#"[{n},-5,{{"count":5}}]"#),
        format!(r#"[{n},-0.5,{{"count":5}}]"#),
        format!(r#"[{digits},{n},{{"count":5}}]"#),
        format!(r#"[{n},{digits},{{"count":5}}]"#),
        format!(r#"[{n},-{digits},{{"count":5}}]"#),
        format!(r#"[{n},{digits}.5e10,{{"count":5}}]"#),
        format!(r#"[{n},18446744073709551616,{{"count":5}}]"#),
    ];
    server
        .assert_fresh(&session_cases(payloads.iter().map(|json| {
            let name = format!("signed {}", json.replace(&digits, "<400 nines>"));
            (name, sign_json(json))
        })))
        .await;
}

#[tokio::test]
async fn deeply_nested_json_does_not_overflow_the_stack() {
    let server = Server::start().await;
    let depth = 10_000;
    let open = "[".repeat(depth);
    let balanced = format!("{open}{}", "]".repeat(depth));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    server
        .assert_fresh(&session_cases([
            ("signed balanced [[[...]]]", sign_json(&balanced)),
            (
                "signed unbalanced [[[...",
                sign_bytes(open.as_bytes(), SECRET),
            ),
            ("signed nested objects", sign_json(&objects)),
            (
                "signed nesting as a timestamp",
                sign_json(&format!(r#"[{balanced},{},{{"count":5}}]"#, now())),
            ),
            ("unsigned [[[... as the value", open.clone()),
            (
                "unsigned [[[... after a signature",
                format!("{}{}", "0".repeat(40), STANDARD.encode(&balanced)),
            ),
        ]))
        .await;
}

#[tokio::test]
async fn unreadable_state_values_keep_the_session() {
    // A verified session stays the session even when a value in it cannot
    // be read as the handler asks; the handler's `get` gets the error.
    let server = Server::start().await;
    let n = now();
    let depth = 10_000;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    for (case, count) in [
        ("count 1e999", "1e999".to_owned()),
        ("count -1", "-1".to_owned()),
        ("count 400 digits", "9".repeat(400)),
        ("count a string", r#""five""#.to_owned()),
        ("count nested 10 000 deep", deep),
    ] {
        let value = sign_json(&format!(r#"[{n},{n},{{"count":{count}}}]"#));
        let seen = server
            .get(case, format!("session={value}").as_bytes())
            .await;
        let expected = Seen {
            new: false,
            keys: vec!["count".to_owned()],
            count: 1,
        };
        assert_eq!(seen, expected, "{case}");
        server.assert_alive(case).await;
    }
}

#[tokio::test]
async fn huge_cookie_value_starts_fresh() {
    let server = Server::start().await;
    let valid = session_cookie(5);
    let kb20 = 20 * 1024;
    server
        .assert_fresh(&session_cases([
            ("20 KB of A", "A".repeat(kb20)),
            (
                "20 KB after a signature",
                format!("{}{}", &valid[..40], "A".repeat(kb20)),
            ),
            (
                "valid cookie padded to 20 KB",
                format!("{valid}{}", "=".repeat(kb20)),
            ),
            (
                "20 KB signed but not a session",
                sign_bytes("x".repeat(kb20).as_bytes(), SECRET),
            ),
        ]))
        .await;
}

#[tokio::test]
async fn non_utf8_bytes_in_the_cookie_header_are_survived() {
    let server = Server::start().await;
    let valid = session_cookie(5);
    let with = |prefix: &[u8], value: &[u8], suffix: &[u8]| [prefix, value, suffix].concat();
    let fresh: [(&str, Vec<u8>); 6] = [
        ("only non-UTF-8", b"session=\xff\xfe\xfd".to_vec()),
        (
            "in the signature",
            with(b"session=", &replace_byte(&valid, 10, 0xff), b""),
        ),
        (
            "in the base64",
            with(b"session=", &replace_byte(&valid, 50, 0x80), b""),
        ),
        (
            "after the value",
            with(b"session=", valid.as_bytes(), b"\xc3"),
        ),
        (
            "before the value",
            with(b"session=\xc3", valid.as_bytes(), b""),
        ),
        ("in the name", with(b"sess\xffion=", valid.as_bytes(), b"")),
    ];
    for (case, line) in &fresh {
        let seen = server.raw_get(case, &[line.as_slice()]).await;
        assert_eq!(seen, Seen::fresh(), "{case}");
        server.assert_alive(case).await;
    }
    // Bytes that are not UTF-8 in another cookie do not hide ours.
    let case = "in another cookie before ours";
    let line = with(b"other=\xff\xfe; session=", valid.as_bytes(), b"");
    assert_eq!(
        server.raw_get(case, &[line.as_slice()]).await,
        Seen::continued(5),
        "{case}"
    );
    let case = "in another cookie after ours";
    let line = with(b"session=", valid.as_bytes(), b"; other=\x80\x81");
    assert_eq!(
        server.raw_get(case, &[line.as_slice()]).await,
        Seen::continued(5),
        "{case}"
    );
}

#[tokio::test]
async fn invalid_duplicate_before_a_valid_one_is_skipped() {
    let server = Server::start().await;
    let valid = session_cookie(5);
    let tampered = String::from_utf8(replace_byte(&valid, 0, b'x')).unwrap();
    let cookie = format!("session={tampered}; session={valid}");
    let seen = server.get("tampered, then valid", cookie.as_bytes()).await;
    assert_eq!(seen, Seen::continued(5));
    let cookie = format!("session=; session; session={valid}");
    let seen = server
        .get("empty, nameless, then valid", cookie.as_bytes())
        .await;
    assert_eq!(seen, Seen::continued(5));
}

#[tokio::test]
async fn first_valid_duplicate_wins() {
    let server = Server::start().await;
    let (five, nine) = (session_cookie(5), session_cookie(9));
    let cookie = format!("session={five}; session={nine}");
    assert_eq!(
        server.get("5 then 9", cookie.as_bytes()).await,
        Seen::continued(5)
    );
    let cookie = format!("session={nine}; session={five}");
    assert_eq!(
        server.get("9 then 5", cookie.as_bytes()).await,
        Seen::continued(9)
    );
    let cookie = format!("session={nine}; session=garbage");
    assert_eq!(
        server.get("9 then garbage", cookie.as_bytes()).await,
        Seen::continued(9)
    );
}

#[tokio::test]
async fn expired_first_cookie_is_the_session_despite_a_valid_duplicate() {
    // The first cookie that verifies is the session, and the timeout
    // applies to it alone: an old, expired cookie left
    // beside a fresh one does not resurrect anything.
    let server = Server::start().await;
    let old = now() - 5_000;
    let expired = sign_json(&format!(r#"[{old},{old},{{"count":5}}]"#));
    let valid = session_cookie(9);
    let cookie = format!("session={expired}; session={valid}");
    assert_eq!(
        server.get("expired then valid", cookie.as_bytes()).await,
        Seen::fresh()
    );
}

#[tokio::test]
async fn expired_first_cookie_is_the_session_across_split_cookie_headers() {
    let server = Server::start().await;
    let old = now() - 5_000;
    let expired = sign_json(&format!(r#"[{old},{old},{{"count":5}}]"#));
    let valid = session_cookie(9);
    let (expired, valid) = (format!("session={expired}"), format!("session={valid}"));
    let lines = [expired.as_bytes(), valid.as_bytes()];
    let seen = server
        .raw_get("expired, then valid on the next line", &lines)
        .await;
    assert_eq!(seen, Seen::fresh(), "as when both are on one line");
}

#[tokio::test]
async fn cookies_of_other_names_are_ignored() {
    let server = Server::start().await;
    let valid = session_cookie(5);
    server
        .assert_fresh(&[
            (
                "other name".to_owned(),
                format!("other={valid}").into_bytes(),
            ),
            (
                "capitalised name".to_owned(),
                format!("Session={valid}").into_bytes(),
            ),
            (
                "longer name".to_owned(),
                format!("session2={valid}").into_bytes(),
            ),
            (
                "prefixed name".to_owned(),
                format!("__Host-session={valid}").into_bytes(),
            ),
            (
                "several others".to_owned(),
                format!("a=1; b={valid}; c=").into_bytes(),
            ),
        ])
        .await;
}

#[tokio::test]
async fn names_behind_unicode_whitespace_are_other_cookies() {
    // A browser stores "\u{2000}__Host-session" as an ordinary cookie,
    // without the prefix's rules (plain HTTP, a sibling's Domain=): it must
    // never stand in for the real `__Host-session`.
    let server = Server::start_with(
        SessionLayer::new(SECRET)
            .cookie_name("__Host-session")
            .secure(true),
    )
    .await;
    let planted = session_cookie(666);
    let victim = session_cookie(5);
    for space in ['\u{2000}', '\u{00A0}', '\u{0085}', '\u{3000}', '\u{200A}'] {
        let case = format!("U+{:04X}", u32::from(space));
        let alone = format!("{space}__Host-session={planted}");
        let seen = server.get(&format!("{case} alone"), alone.as_bytes()).await;
        assert_eq!(seen, Seen::fresh(), "{case} alone");
        let ahead = format!("{space}__Host-session={planted}; __Host-session={victim}");
        let seen = server.get(&format!("{case} ahead"), ahead.as_bytes()).await;
        assert_eq!(
            seen,
            Seen::continued(5),
            "{case}: the victim's session is kept"
        );
        let behind = format!("__Host-session{space}={planted}; __Host-session={victim}");
        let seen = server
            .get(&format!("{case} behind"), behind.as_bytes())
            .await;
        assert_eq!(seen, Seen::continued(5), "{case} after the name");
    }
    // Spaces and tabs around a pair are what RFC 6265bis trims.
    let padded = format!(" \t__Host-session \t= \t{victim} \t;x=1");
    let seen = server.get("spaces and tabs", padded.as_bytes()).await;
    assert_eq!(seen, Seen::continued(5));
}

#[tokio::test]
async fn cookie_header_split_across_lines_is_read_whole() {
    let server = Server::start().await;
    let valid = session_cookie(5);
    let ours = format!("session={valid}");
    let ours = ours.as_bytes();
    let cases: [(&str, Vec<&[u8]>, Seen); 5] = [
        ("ours last", vec![b"a=1", b"b=2", ours], Seen::continued(5)),
        (
            "ours in the middle",
            vec![b"a=1", ours, b"b=2"],
            Seen::continued(5),
        ),
        (
            "garbage line first",
            vec![b"session=xyz", ours],
            Seen::continued(5),
        ),
        ("empty line first", vec![b"", ours], Seen::continued(5)),
        ("only others", vec![b"a=1", b"b=2"], Seen::fresh()),
    ];
    for (case, lines, expected) in cases {
        assert_eq!(server.raw_get(case, &lines).await, expected, "{case}");
    }
    let nine = format!("session={}", session_cookie(9));
    let lines = [ours, nine.as_bytes()];
    let seen = server.raw_get("two valid lines", &lines).await;
    assert_eq!(seen, Seen::continued(5), "the first line's cookie wins");
}
