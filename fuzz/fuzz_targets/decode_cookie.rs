//! The layer's decode path: a whole `Cookie` header, or a payload behind a
//! valid signature, through a `SessionLayer` around a handler that reads
//! everything in the session.
//!
//! Input: byte 0 picks the wire format (`FORMATS`), byte 1 the mode and
//! settings, the rest is the data.
//!
//! - mode 0: the data is the `Cookie` header, one line per `\n`;
//! - mode 1, 2, 3: the data is a payload, signed with the layer's secret,
//!   its fallback secret or an unknown secret, sent as `session=<value>`.
//!
//! Invariants: no panic; a value signed with an unknown secret is never
//! accepted; a signed payload is accepted exactly when it is
//! `[number, number, {object}]` with timestamps in range, and then the
//! handler sees exactly its values; whatever the layer writes back fits the
//! size limit and decodes to what the handler saw.

#![no_main]

use std::collections::BTreeMap;

use http::StatusCode;
use libfuzzer_sys::{Corpus, fuzz_target};
use serde_json::{Number, value::RawValue};
use tower_cookie_session_fuzz::{
    COOKIE_NAME, FuzzFormat, OLD_SECRET, OTHER_SECRET, SECRET, Session, Written, check_response,
    fits, format, header_lines, layer, request, snapshot,
};

/// The largest timestamp the crate accepts (the end of year 9999).
const MAX_TIMESTAMP: f64 = 253_402_300_799.0;

/// What the handler saw.
struct Seen {
    new: bool,
    state: BTreeMap<String, String>,
    /// Whether the layer can write this state back within the size limit
    /// (`None`: the model cannot know; see `fits_at`).
    fits: Option<bool>,
}

fn read_everything(format: &FuzzFormat, session: &Session, rewrite: bool) -> Seen {
    let state = snapshot(session);
    for key in state.keys() {
        let _ = session.get_value(key);
        if let Some(queue) = key.strip_prefix("_f_") {
            let _ = session.peek_flash::<serde_json::Value>(queue);
        }
    }
    let _ = (session.created(), session.accessed(), session.len());
    let _ = session.check_csrf_token("0000000000000000000000000000000000000000");
    if rewrite {
        session.changed();
    }
    Seen {
        new: session.is_new(),
        fits: fits(format, session, &state),
        state,
    }
}

/// The session a payload holds if the crate must accept it, by the
/// format's definition: `[accessed, created, {state}]`, timestamps within
/// 0 ..= year 9999.
fn expected_state(payload: &[u8]) -> Option<BTreeMap<String, String>> {
    let (accessed, created, state): (Number, Number, BTreeMap<String, Box<RawValue>>) =
        serde_json::from_slice(payload).ok()?;
    for n in [accessed, created] {
        let t = n.as_f64()?;
        if !(0.0..=MAX_TIMESTAMP).contains(&t) {
            return None;
        }
    }
    Some(
        state
            .into_iter()
            .map(|(k, v)| (k, v.get().to_owned()))
            .collect(),
    )
}

fuzz_target!(|data: &[u8]| -> Corpus {
    let [selector, flags, data @ ..] = data else {
        return Corpus::Reject;
    };
    let format = format(*selector);
    let mode = flags & 0b11;
    let timeout = flags & 0b100 != 0;
    let rewrite = flags & 0b1000 != 0;
    let layer = layer(format, timeout, true);

    let lines = match mode {
        0 => header_lines(data),
        _ => {
            let secret = [SECRET, OLD_SECRET, OTHER_SECRET][usize::from(mode - 1)];
            let value = (format.sign)(secret, data);
            header_lines(format!("{COOKIE_NAME}={value}").as_bytes())
        }
    };

    let mut seen = None;
    let response = request(&layer, &lines, |session| {
        seen = Some(read_everything(format, session, rewrite));
        StatusCode::OK
    });
    let seen = seen.expect("the handler ran");

    match mode {
        3 => assert!(
            seen.new && seen.state.is_empty(),
            "a value signed with an unknown secret was accepted"
        ),
        1 | 2 if !timeout => match expected_state(data) {
            Some(state) => {
                assert!(!seen.new, "a validly signed session was refused");
                assert_eq!(seen.state, state, "the handler saw other values");
            }
            None => assert!(
                seen.new && seen.state.is_empty(),
                "a signed payload that is not a session was accepted"
            ),
        },
        _ => {}
    }

    match check_response(&response) {
        Written::Removed => panic!("a removal cookie without invalidate()"),
        // Too large to write back: the browser keeps the cookie it has.
        Written::Nothing => assert!(
            seen.fits != Some(true) || (!seen.new && !rewrite && mode != 2),
            "a new, changed or re-signed session was not written"
        ),
        Written::Value(value) => {
            assert_ne!(
                seen.fits,
                Some(false),
                "written though the session does not fit the size limit"
            );
            if let Some(decode) = format.decode {
                let (_, _, state) =
                    decode(&value, SECRET).expect("the written cookie decodes with the secret");
                let state: BTreeMap<String, String> = state
                    .into_iter()
                    .map(|(k, v)| (k, v.get().to_owned()))
                    .collect();
                assert_eq!(state, seen.state, "the written cookie holds other values");
            }
        }
    }
    Corpus::Keep
});
