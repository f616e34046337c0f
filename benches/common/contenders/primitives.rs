//! The codec work alone, written directly on the crates every signed
//! cookie session needs: verify and sign with HMAC-SHA1 (a pre-keyed
//! MAC), hex, base64, and JSON into and out of a `serde_json::Value`.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha1::Sha1;

use super::ours;
use crate::common::{
    Scenario,
    scenario::{COUNTER, NEW_KEY, NEW_VALUE, READ_KEY},
};

/// The codec work of one request of a scenario: what ours does, without
/// HTTP.
pub(crate) struct Primitives {
    scenario: Scenario,
    mac: Hmac<Sha1>,
    /// The value of our cookie for the scenario (no `name=`).
    value: String,
}

impl Primitives {
    pub(crate) fn new(scenario: Scenario) -> Self {
        let value = ours::cookie(scenario)
            .map(|cookie| {
                let pair = cookie.to_str().expect("ASCII cookie");
                pair.split_once('=').expect("name=value").1.to_owned()
            })
            .unwrap_or_default();
        Self {
            scenario,
            mac: Hmac::new_from_slice(&ours::SECRET).expect("any key length"),
            value,
        }
    }

    #[inline]
    pub(crate) fn run(&self) -> usize {
        match self.scenario {
            Scenario::Untouched => 0,
            Scenario::Read => self.read() as usize,
            Scenario::Write | Scenario::Write3k => self.write().len(),
            Scenario::New => self.new_session().len(),
        }
    }

    fn decode(&self) -> Value {
        let (hex, encoded) = self.value.split_at(40);
        let mut signature = [0u8; 20];
        for (out, pair) in signature.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            *out = (hex_value(pair[0]) << 4) | hex_value(pair[1]);
        }
        let payload = BASE64.decode(encoded).expect("base64");
        let mut mac = self.mac.clone();
        mac.update(&payload);
        mac.verify_slice(&signature).expect("signature verifies");
        serde_json::from_slice(&payload).expect("JSON")
    }

    fn encode(&self, value: &Value) -> String {
        let payload = serde_json::to_vec(value).expect("JSON");
        let mut mac = self.mac.clone();
        mac.update(&payload);
        let signature = mac.finalize().into_bytes();
        let mut out = String::with_capacity(40 + payload.len().div_ceil(3) * 4);
        for byte in signature {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        BASE64.encode_string(&payload, &mut out);
        out
    }

    fn read(&self) -> u64 {
        self.decode()[2][READ_KEY].as_u64().expect("a number")
    }

    fn write(&self) -> String {
        let mut session = self.decode();
        let n = session[2][COUNTER].as_u64().expect("a number") + 1;
        session[2][COUNTER] = n.into();
        session[0] = unix_now().into();
        self.encode(&session)
    }

    fn new_session(&self) -> String {
        let now = unix_now();
        self.encode(&json!([now, now, { NEW_KEY: NEW_VALUE }]))
    }

    pub(crate) fn check(&self) {
        let what = format!("{}/primitives", self.scenario.name());
        match self.scenario {
            Scenario::Untouched => {}
            Scenario::Read => assert_eq!(self.read(), 12345, "{what}"),
            Scenario::Write | Scenario::Write3k | Scenario::New => {
                let written = if self.scenario == Scenario::New {
                    self.new_session()
                } else {
                    self.write()
                };
                let back: Value =
                    tower_cookie_session::signed_deserialize(&written, ours::SECRET).expect(&what);
                let key = if self.scenario == Scenario::New {
                    NEW_KEY
                } else {
                    COUNTER
                };
                assert_eq!(back[2][key], 42, "{what}");
            }
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("not lowercase hex"),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
