//! The layer's decode path: a whole `Cookie` header, or a payload behind a
//! valid signature, through a `SessionLayer` around a handler that reads
//! everything in the session.
//!
//! Input: byte 0 picks the wire format (`FORMATS`), byte 1 the mode and
//! settings, the rest is the data.
//!
//! - mode (bits 0-1) 0: the data is the `Cookie` header, one line per `\n`;
//! - mode 1, 2, 3: the data is a payload, signed (or sealed) with the
//!   layer's secret, its fallback secret or an unknown secret, sent as
//!   `session=<value>`; bits 5-6 say for which cookie it was made: ours
//!   (0) or one of `OTHER_NAMES`.
//!
//! Bit 2 turns the default timeout on, bit 3 marks the session changed,
//! bit 4 gives the layer a `Max-Age`.
//!
//! Invariants: no panic; a value signed with an unknown secret, or made
//! for another cookie in a format that binds the name, is never accepted;
//! a validly signed payload is accepted exactly when it is
//! `[number, number, {object}]` with timestamps in range, none more than
//! `MAX_CLOCK_SKEW` ahead and `accessed` within the session's timeout (its
//! own `Expiry`'s, else the layer's); the handler then sees exactly its
//! values and expiry, and no time ahead of the clock. The layer writes a
//! cookie exactly when the session was marked changed, verified by the
//! fallback secret or due for reissue, and fits the size limit: a new
//! session that is only read writes none. What it writes decodes with the
//! primary secret (never the fallback one), for our cookie only where the
//! format binds the name, to what the handler saw, with the `Max-Age` of
//! the session's expiry.

#![no_main]

use std::{collections::BTreeMap, time::SystemTime};

use http::StatusCode;
use libfuzzer_sys::{Corpus, fuzz_target};
use serde_json::{Number, value::RawValue};
use tower_cookie_session_fuzz::{
    COOKIE_NAME, Expiry, FuzzFormat, MAX_CLOCK_SKEW, OLD_SECRET, OTHER_NAMES, OTHER_SECRET, SECRET,
    Session, Written, check_response, expiry_of, fits, format, header_lines, known_at, layer,
    max_age_of, reissue_secs, request, snapshot, timeout_secs, unix_f64, unix_now, written_created,
};

/// The largest timestamp the crate accepts (the end of year 9999).
const MAX_TIMESTAMP: f64 = 253_402_300_799.0;

/// What the handler saw.
struct Seen {
    new: bool,
    state: BTreeMap<String, String>,
    expiry: Expiry,
    accessed: SystemTime,
    created: SystemTime,
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
    let _ = session.len();
    let _ = session.check_csrf_token("0000000000000000000000000000000000000000");
    if rewrite {
        session.changed();
    }
    Seen {
        new: session.is_new(),
        expiry: session.expiry(),
        accessed: session.accessed(),
        created: session.created(),
        fits: fits(format, session, &state),
        state,
    }
}

/// What the handler must see for a validly signed payload.
enum Expected {
    /// The payload's session: its values and timestamps.
    Session {
        state: BTreeMap<String, String>,
        accessed: f64,
        created: f64,
    },
    /// Not a session, or one that is over: a new, empty session.
    Fresh,
    /// Depends on the second the layer's clock read: a timestamp at the
    /// edge of the allowed skew or of the timeout.
    Unknown,
}

/// By the format's definition: a session is `[accessed, created, {state}]`
/// with timestamps within 0 ..= year 9999; it is over (treated as absent)
/// when a timestamp lies more than `MAX_CLOCK_SKEW` ahead of the clock,
/// or when `accessed` is older than its timeout: that of the expiry it
/// holds (`_exp_`) if persistent, else the layer's (if `timeout`).
fn expected(payload: &[u8], timeout: bool, now: (u64, u64)) -> Expected {
    let Ok((accessed, created, state)) =
        serde_json::from_slice::<(Number, Number, BTreeMap<String, Box<RawValue>>)>(payload)
    else {
        return Expected::Fresh;
    };
    let (Some(accessed), Some(created)) = (accessed.as_f64(), created.as_f64()) else {
        return Expected::Fresh;
    };
    if ![accessed, created]
        .iter()
        .all(|t| (0.0..=MAX_TIMESTAMP).contains(t))
    {
        return Expected::Fresh;
    }
    let skew = MAX_CLOCK_SKEW.as_secs_f64();
    let mut over = vec![
        known_at(now, accessed, |now, t| t - now > skew),
        known_at(now, created, |now, t| t - now > skew),
    ];
    let state: BTreeMap<String, String> = state
        .into_iter()
        .map(|(k, v)| (k, v.get().to_owned()))
        .collect();
    if let Some(limit) = timeout_secs(expiry_of(&state), timeout) {
        over.push(known_at(now, accessed, |now, t| now - t > limit));
    }
    if over.contains(&Some(true)) {
        Expected::Fresh
    } else if over.contains(&None) {
        Expected::Unknown
    } else {
        Expected::Session {
            state,
            accessed,
            created,
        }
    }
}

/// A time the handler saw for the payload time `t`: a time ahead of the
/// clock is taken as now, so it lies within `min(t, now)` for the clock
/// readings in `now`.
fn check_time(seen: SystemTime, t: f64, now: (u64, u64), what: &str) {
    let seen = unix_f64(seen);
    let (low, high) = (t.min(now.0 as f64), t.min(now.1 as f64));
    assert!(
        seen >= low - 1e-3 && seen <= high + 1e-3,
        "the handler saw {what} {seen}, for {t} in the cookie at clock {now:?}"
    );
}

/// `a || b` where either may be unknown.
fn any(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| -> Corpus {
    let [selector, flags, data @ ..] = data else {
        return Corpus::Reject;
    };
    let format = format(*selector);
    let mode = flags & 0b11;
    let timeout = flags & 0b100 != 0;
    let rewrite = flags & 0b1000 != 0;
    let max_age = flags & 0b1_0000 != 0;
    // The cookie the value was made for: ours, or another.
    let made_for = match (flags >> 5) & 0b11 {
        0 => COOKIE_NAME,
        other => OTHER_NAMES[usize::from(other - 1)],
    };
    let layer = layer(format, timeout, true, max_age);

    let lines = match mode {
        0 => header_lines(data),
        _ => {
            let secret = [SECRET, OLD_SECRET, OTHER_SECRET][usize::from(mode - 1)];
            let value = (format.sign)(secret, made_for, data);
            header_lines(format!("{COOKIE_NAME}={value}").as_bytes())
        }
    };
    // A value made for another cookie, in a format that binds the name.
    let foreign = mode != 0 && made_for != COOKIE_NAME && format.binds_name;

    let mut seen = None;
    let before = unix_now();
    let response = request(&layer, &lines, |session| {
        seen = Some(read_everything(format, session, rewrite));
        StatusCode::OK
    });
    let now = (before, unix_now());
    let seen = seen.expect("the handler ran");

    assert_eq!(
        seen.expiry,
        expiry_of(&seen.state),
        "expiry() is not what the session holds"
    );
    match mode {
        3 => assert!(
            seen.new && seen.state.is_empty(),
            "a value signed with an unknown secret was accepted"
        ),
        1 | 2 if foreign => assert!(
            seen.new && seen.state.is_empty(),
            "a value made for the cookie {made_for:?} was accepted as {COOKIE_NAME:?}"
        ),
        1 | 2 => match expected(data, timeout, now) {
            Expected::Session {
                state,
                accessed,
                created,
            } => {
                assert!(!seen.new, "a validly signed session was refused");
                assert_eq!(seen.state, state, "the handler saw other values");
                check_time(seen.accessed, accessed, now, "accessed");
                check_time(seen.created, created, now, "created");
            }
            Expected::Fresh => assert!(
                seen.new && seen.state.is_empty(),
                "a signed payload that is not a live session was accepted"
            ),
            Expected::Unknown => {}
        },
        _ => {}
    }
    if seen.new {
        assert!(seen.state.is_empty(), "a new session holds values");
    }

    // Why the layer would write the session back. The handler only reads,
    // so a new session stays empty: unless marked changed, it writes
    // nothing (there is nothing to keep yet).
    let resign = match mode {
        1 | 3 => Some(false),
        2 => Some(true),
        // The header may hold a cookie signed with the fallback secret.
        _ => None,
    };
    // Due once the last write is a tenth of the session's timeout old.
    let reissue = match reissue_secs(seen.expiry, timeout) {
        Some(after) => known_at(now, unix_f64(seen.accessed), |now, accessed| {
            now - accessed >= after
        }),
        None => Some(false),
    };
    let reason = if rewrite {
        Some(true)
    } else if seen.new {
        Some(false)
    } else {
        any(resign, reissue)
    };
    let must_write = match (reason, seen.fits) {
        (Some(true), Some(true)) => Some(true),
        (Some(false), _) | (_, Some(false)) => Some(false),
        _ => None,
    };

    match check_response(&response) {
        Written::Removed => panic!("a removal cookie without invalidate()"),
        // Too large to write back: the browser keeps the cookie it has.
        Written::Nothing => assert_ne!(
            must_write,
            Some(true),
            "a changed, re-signed or reissued session that fits was not written"
        ),
        Written::Value(value, written_max_age) => {
            assert!(
                !(seen.new && reason == Some(false)),
                "a new session that was only read set a cookie"
            );
            assert_ne!(reason, Some(false), "an unchanged session was written");
            assert_ne!(
                seen.fits,
                Some(false),
                "written though the session does not fit the size limit"
            );
            assert_eq!(
                written_max_age,
                max_age_of(seen.expiry, max_age),
                "Max-Age for {:?} on a layer with{} Max-Age",
                seen.expiry,
                if max_age { "" } else { "out" }
            );
            if let Some(decode) = format.decode {
                let (accessed, created, state) = decode(&value, SECRET, COOKIE_NAME)
                    .expect("the written cookie decodes with the secret");
                // Written again with the primary secret, whichever opened it.
                assert!(
                    decode(&value, OLD_SECRET, COOKIE_NAME).is_none(),
                    "the written cookie opens with the fallback secret"
                );
                if format.binds_name {
                    for other in OTHER_NAMES {
                        assert!(
                            decode(&value, SECRET, other).is_none(),
                            "the written cookie opens as the cookie {other:?}"
                        );
                    }
                }
                let state: BTreeMap<String, String> = state
                    .into_iter()
                    .map(|(k, v)| (k, v.get().to_owned()))
                    .collect();
                assert_eq!(state, seen.state, "the written cookie holds other values");
                assert!(
                    (now.0 as f64..=now.1 as f64).contains(&accessed),
                    "written accessed {accessed}, not the clock {now:?}"
                );
                assert!(
                    written_created(seen.created).contains(&(created as u64))
                        && created.fract() == 0.0,
                    "written created {created}, the handler saw {:?}",
                    seen.created
                );
            }
        }
    }
    Corpus::Keep
});
