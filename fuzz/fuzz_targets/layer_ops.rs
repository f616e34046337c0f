//! The layer end to end: arbitrary `Cookie` header bytes on the first
//! request, then a few requests, each running an arbitrary sequence of
//! session operations, with every `Set-Cookie` fed back the way a browser
//! does.
//!
//! Input: byte 0 picks the wire format (`FORMATS`), byte 1 the settings
//! (bit 0: default timeouts, else none; bit 1: `cookie_on_exception`;
//! bit 2: a `Max-Age`, else none), bytes 2 and 3 the length of the first
//! request's `Cookie` header (big endian), then that header (one line per
//! `\n`), then the requests and their operations, read with `arbitrary`.
//! Seeds put real cookies in the header.
//!
//! A model (a map from key to JSON text, whether the session is new and
//! whether it was marked changed) is driven by the same operations; the
//! session's `Expiry` is what the map holds under `_exp_`.
//! Invariants: no panic; after every operation the session equals the
//! model, its `expiry()` is the model's, and each return value is what the
//! model predicts; `TooLarge` exactly when the cookie would not fit; each
//! response writes the cookie exactly when the model says (changed, new and
//! holding something, re-signed or due for reissue by the session's own
//! timeout, and fitting the limit; a removal after `invalidate` when the
//! browser sent one; nothing for a new session that stays empty and
//! unchanged, nor on a 5xx without `cookie_on_exception`); every written
//! cookie fits the limit, has the `Max-Age` of the session's expiry and
//! decodes (with the crate's public API, or by the format's definition);
//! and the next request sees exactly the state the handler left, nothing
//! lost, nothing added, unless the session's timeout passed in between
//! (a persistent session's own timeout may be a second): then a new,
//! empty session. The browser here keeps sending a cookie past its
//! `Max-Age`, as a stolen one would be: the layer's timeout must end it.

#![no_main]

use std::{collections::BTreeMap, time::Duration};

use arbitrary::{Arbitrary, Unstructured};
use http::StatusCode;
use libfuzzer_sys::{Corpus, fuzz_target};
use serde_json::{Map, Value};
use tower_cookie_session::SessionError;
use tower_cookie_session_fuzz::{
    COOKIE_NAME, EXPIRY_KEY, Expiry, FuzzFormat, Jar, OLD_SECRET, SECRET, Session, Written,
    carries_session_cookie, check_response, expiry_of, fits, format, header_lines, known_at, layer,
    max_age_of, reissue_secs, request, same_json, snapshot, stored_expiry, timeout_secs, unix_f64,
    unix_now, written_created,
};

const MAX_REQUESTS: usize = 4;
const MAX_OPS: usize = 24;
const MAX_DEPTH: usize = 6;

#[derive(Arbitrary, Debug)]
struct Req {
    ops: Vec<Op>,
    server_error: bool,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Get(Key),
    Insert(Key, Json),
    Remove(Key),
    Clear,
    Invalidate,
    Changed,
    Flash(Key, Json, bool),
    PopFlash(Key),
    PeekFlash(Key),
    GetCsrf,
    NewCsrf,
    CheckCsrf(Option<String>),
    SetExpiry(ExpiryOp),
}

/// An argument of `set_expiry`.
#[derive(Arbitrary, Debug)]
enum ExpiryOp {
    Default,
    BrowserSession,
    /// Up to a minute, to the millisecond: a timeout (and a tenth of it,
    /// the reissue time) that can pass between two requests, and less
    /// than a second, stored as one.
    Millis(u16),
    Persistent(Duration),
}

impl ExpiryOp {
    fn expiry(&self) -> Expiry {
        match self {
            ExpiryOp::Default => Expiry::Default,
            ExpiryOp::BrowserSession => Expiry::BrowserSession,
            ExpiryOp::Millis(ms) => Expiry::Persistent(Duration::from_millis(u64::from(*ms))),
            ExpiryOp::Persistent(d) => Expiry::Persistent(*d),
        }
    }
}

/// Mostly a few fixed names, so that operations meet; any string too.
#[derive(Arbitrary, Debug)]
enum Key {
    A,
    B,
    Empty,
    FlashQueue,
    Csrf,
    Expiry,
    Any(String),
}

impl Key {
    fn name(&self) -> &str {
        match self {
            Key::A => "a",
            Key::B => "b",
            Key::Empty => "",
            Key::FlashQueue => "_f_",
            Key::Csrf => "_csrft_",
            Key::Expiry => EXPIRY_KEY,
            Key::Any(s) => s,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Json {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(String),
    Long(u16),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn value(&self, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::I64(n) => Value::from(*n),
            Json::U64(n) => Value::from(*n),
            // Non-finite floats become null, as serde_json writes them.
            Json::F64(f) => Value::from(*f),
            Json::Str(s) => Value::String(s.clone()),
            // Long strings reach the size limit quickly.
            Json::Long(n) => Value::String("x".repeat(usize::from(*n) % 4500)),
            Json::Arr(items) => Value::Array(items.iter().map(|j| j.value(depth + 1)).collect()),
            Json::Obj(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, j)| (k.clone(), j.value(depth + 1)))
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

/// The session as the model sees it.
struct Model {
    state: BTreeMap<String, String>,
    /// The session is new: no cookie was read, or it was invalidated.
    new: bool,
    /// Something marked the session changed: a store of another value, a
    /// removal, a clear of something, a CSRF token, `changed()`.
    changed: bool,
    invalidated: bool,
}

impl Model {
    fn parse<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<Result<T, ()>> {
        self.state
            .get(key)
            .map(|raw| serde_json::from_str(raw).map_err(|_| ()))
    }

    /// Applies a store of `raw` under `key` as `Data::set` does, given
    /// what the session answered: an equal value is no change; another
    /// is stored exactly when the session then fits the size limit.
    fn set(
        &mut self,
        format: &FuzzFormat,
        session: &Session,
        key: &str,
        raw: String,
        result: Result<(), SessionError>,
    ) {
        let same = self.state.get(key).is_some_and(|old| same_json(old, &raw));
        if same {
            assert!(result.is_ok(), "storing an equal value failed: {result:?}");
            return;
        }
        let mut next = self.state.clone();
        next.insert(key.to_owned(), raw);
        match result {
            Ok(()) => {
                assert_ne!(
                    fits(format, session, &next),
                    Some(false),
                    "stored past the limit"
                );
                self.state = next;
                self.changed = true;
            }
            Err(SessionError::TooLarge { .. }) => {
                assert_ne!(
                    fits(format, session, &next),
                    Some(true),
                    "refused a value that fits"
                );
            }
            Err(e) => panic!("unexpected error storing a value: {e}"),
        }
    }

    /// Applies a removal of `key` as `Session::remove::<Value>` does, and
    /// returns what it answers: a value that reads is removed and
    /// returned; one that does not (a number beyond `f64` from a cookie)
    /// stays, and the removal fails.
    fn remove(&mut self, key: &str) -> Result<Option<Value>, ()> {
        match self.parse::<Value>(key) {
            None => Ok(None),
            Some(Ok(v)) => {
                self.state.remove(key);
                self.changed = true;
                Ok(Some(v))
            }
            Some(Err(())) => Err(()),
        }
    }
}

/// `a || b` where either may be unknown.
fn any(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

fn run(format: &FuzzFormat, session: &Session, model: &mut Model, op: &Op) {
    match op {
        Op::Get(key) => {
            let raw: Option<Box<serde_json::value::RawValue>> =
                session.get(key.name()).expect("raw JSON always reads");
            assert_eq!(
                raw.map(|r| r.get().to_owned()).as_ref(),
                model.state.get(key.name())
            );
        }
        Op::Insert(key, json) => {
            let value = json.value(0);
            let raw = serde_json::to_string(&value).expect("a Value is JSON");
            let result = session.insert(key.name(), &value);
            model.set(format, session, key.name(), raw, result);
        }
        Op::Remove(key) => {
            let result = session.remove::<Value>(key.name());
            match model.remove(key.name()) {
                Ok(v) => assert_eq!(result.expect("a Value reads"), v),
                Err(()) => assert!(matches!(result, Err(SessionError::Deserialize(_)))),
            }
        }
        Op::Clear => {
            session.clear();
            model.changed |= !model.state.is_empty();
            model.state.clear();
        }
        Op::Invalidate => {
            // A brand-new session, unchanged so far.
            session.invalidate();
            model.state.clear();
            model.invalidated = true;
            model.new = true;
            model.changed = false;
        }
        Op::Changed => {
            session.changed();
            model.changed = true;
        }
        Op::Flash(queue, json, allow_duplicate) => {
            let message = json.value(0);
            let key = format!("_f_{}", queue.name());
            let result = session.flash_to(queue.name(), &message, *allow_duplicate);
            // Queued messages keep their JSON text; the new one is
            // appended as serde_json writes it.
            match model.parse::<Vec<Box<serde_json::value::RawValue>>>(&key) {
                Some(Err(())) => assert!(matches!(result, Err(SessionError::Deserialize(_)))),
                parsed => {
                    let mut messages = match parsed {
                        Some(Ok(messages)) => messages,
                        _ => Vec::new(),
                    };
                    // Queued messages keep the text they came with (a
                    // Python integer beyond 64 bits, say): equal by the
                    // layer's rule, not as `Value`s, which read such an
                    // integer as the float it rounds to.
                    let text = serde_json::to_string(&message).expect("JSON");
                    let duplicate = messages.iter().any(|m| same_json(m.get(), &text));
                    if !*allow_duplicate && duplicate {
                        assert!(result.is_ok());
                    } else {
                        messages.push(serde_json::value::to_raw_value(&message).expect("JSON"));
                        let raw = serde_json::to_string(&messages).expect("JSON");
                        model.set(format, session, &key, raw, result);
                    }
                }
            }
        }
        Op::PopFlash(queue) => {
            let key = format!("_f_{}", queue.name());
            let result = session.pop_flash::<Value>(queue.name());
            match model.parse::<Vec<Value>>(&key) {
                None => assert!(result.expect("an empty queue pops").is_empty()),
                Some(Ok(messages)) => {
                    assert_eq!(result.expect("messages read"), messages);
                    model.state.remove(&key);
                    model.changed = true;
                }
                Some(Err(())) => assert!(result.is_err()),
            }
        }
        Op::PeekFlash(queue) => {
            let key = format!("_f_{}", queue.name());
            let result = session.peek_flash::<Value>(queue.name());
            match model.parse::<Vec<Value>>(&key) {
                None => assert!(result.expect("an empty queue peeks").is_empty()),
                Some(Ok(messages)) => assert_eq!(result.expect("messages read"), messages),
                Some(Err(())) => assert!(result.is_err()),
            }
        }
        Op::GetCsrf => {
            let token = session.get_csrf_token();
            match model.parse::<String>("_csrft_") {
                Some(Ok(stored)) => assert_eq!(token, stored),
                _ => {
                    // Stored without a size check; see the end of the request.
                    model
                        .state
                        .insert("_csrft_".to_owned(), format!("\"{token}\""));
                    model.changed = true;
                }
            }
        }
        Op::NewCsrf => {
            let token = session.new_csrf_token();
            model
                .state
                .insert("_csrft_".to_owned(), format!("\"{token}\""));
            model.changed = true;
        }
        Op::CheckCsrf(token) => {
            let stored = model.parse::<String>("_csrft_").and_then(Result::ok);
            let token = match token {
                Some(t) => t.clone(),
                None => stored.clone().unwrap_or_default(),
            };
            assert_eq!(
                session.check_csrf_token(&token),
                stored.is_some_and(|s| s == token)
            );
        }
        Op::SetExpiry(op) => {
            let expiry = op.expiry();
            let result = session.set_expiry(expiry);
            let ok = result.is_ok();
            // Whole seconds, as a store of that number (an equal one is no
            // change; one that does not fit is `TooLarge`), or, for the
            // default, a removal.
            match stored_expiry(expiry) {
                Some(secs) => model.set(format, session, EXPIRY_KEY, secs.to_string(), result),
                None => match model.remove(EXPIRY_KEY) {
                    Ok(_) => assert!(result.is_ok(), "resetting the expiry: {result:?}"),
                    Err(()) => assert!(matches!(result, Err(SessionError::Deserialize(_)))),
                },
            }
            if ok {
                // Read back as set, to the whole second (at least one).
                let expected = match stored_expiry(expiry) {
                    Some(0) => Expiry::BrowserSession,
                    Some(secs) => Expiry::Persistent(Duration::from_secs(secs)),
                    None => Expiry::Default,
                };
                assert_eq!(session.expiry(), expected, "expiry() after {op:?}");
            }
        }
    }
    assert_eq!(snapshot(session), model.state, "after {op:?}");
    assert_eq!(
        session.expiry(),
        expiry_of(&model.state),
        "expiry() after {op:?}"
    );
    assert_eq!(session.is_new(), model.new, "is_new() after {op:?}");
}

/// What a response did to the cookie, without the value.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Nothing,
    Value,
    Removed,
}

impl Kind {
    fn of(written: &Written) -> Self {
        match written {
            Written::Nothing => Kind::Nothing,
            Written::Value(..) => Kind::Value,
            Written::Removed => Kind::Removed,
        }
    }
}

/// The `accessed` time the browser's cookie carries, as far as the model
/// knows it.
#[derive(Clone, Copy)]
enum JarAccessed {
    /// The layer wrote it: exactly this.
    Exactly(f64),
    /// The first request's cookie: at least the time its handler saw (a
    /// time ahead of the clock is seen as now).
    AtLeast(f64),
}

/// Whether the session the browser's cookie holds (`committed`, written
/// `accessed`) has timed out at the layer's clock `now`: idle longer than
/// its timeout, its own expiry's or the layer's (if `timeout`). `None`
/// where the model cannot tell.
fn timed_out(
    committed: &BTreeMap<String, String>,
    accessed: Option<JarAccessed>,
    timeout: bool,
    now: (u64, u64),
) -> Option<bool> {
    let (Some(limit), Some(accessed)) = (timeout_secs(expiry_of(committed), timeout), accessed)
    else {
        // No timeout, or no session in the cookie to time out.
        return Some(false);
    };
    let (time, exact) = match accessed {
        JarAccessed::Exactly(t) => (t, true),
        JarAccessed::AtLeast(t) => (t, false),
    };
    match known_at(now, time, |now, t| now - t > limit) {
        // Idle at most that long: within the timeout either way.
        Some(true) if !exact => None,
        answer => answer,
    }
}

/// Checks the session a request loaded (`state`, `new`) against what the
/// browser's cookie holds: `committed` and, if known, `new_expected`,
/// unless it timed out (then a new, empty session).
fn check_loaded(
    state: &BTreeMap<String, String>,
    new: bool,
    committed: &BTreeMap<String, String>,
    new_expected: Option<bool>,
    timed_out: Option<bool>,
) {
    let fresh = new && state.is_empty();
    match timed_out {
        Some(true) => assert!(
            fresh,
            "a session past its timeout was loaded: new {new}, {} keys",
            state.len()
        ),
        None if fresh => {}
        _ => {
            assert_eq!(state, committed, "the session lost or gained values");
            if let Some(expected) = new_expected {
                assert_eq!(new, expected, "is_new() of the cookie the browser sent");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| -> Corpus {
    let [selector, flags, hi, lo, rest @ ..] = data else {
        return Corpus::Reject;
    };
    let (header, rest) = rest.split_at(usize::from(u16::from_be_bytes([*hi, *lo])).min(rest.len()));
    let Ok(requests) = Vec::<Req>::arbitrary_take_rest(Unstructured::new(rest)) else {
        return Corpus::Reject;
    };
    let format = format(*selector);
    let timeout = flags & 0b1 != 0;
    let cookie_on_exception = flags & 0b10 != 0;
    let max_age = flags & 0b100 != 0;
    let layer = layer(format, timeout, cookie_on_exception, max_age);
    let mut jar = Jar::new(header_lines(header));
    // What the browser's cookie holds, once known (before the first
    // request: whatever the arbitrary header holds).
    let mut committed: Option<BTreeMap<String, String>> = None;

    // The jar holds a cookie this layer wrote, signed with the primary
    // secret (not one from the first header, which may be signed with the
    // fallback secret and so be re-signed).
    let mut jar_ours = false;
    // Whether the next request's session is new, once known: not after a
    // cookie was written, new after it was removed.
    let mut next_new: Option<bool> = None;
    // When the session in the browser's cookie was last written, if it
    // holds one the layer accepted.
    let mut jar_accessed: Option<JarAccessed> = None;

    for req in requests.iter().take(MAX_REQUESTS) {
        let had_cookie = carries_session_cookie(&jar.lines);
        let mut end = None;
        let clock_before = unix_now();
        let response = request(&layer, &jar.lines, |session| {
            let mut model = Model {
                state: snapshot(session),
                new: session.is_new(),
                changed: false,
                invalidated: false,
            };
            // The layer read its clock when the handler first used the
            // session (the snapshot).
            let loaded_at = (clock_before, unix_now());
            if let Some(committed) = &committed {
                let timed_out = timed_out(committed, jar_accessed, timeout, loaded_at);
                check_loaded(&model.state, model.new, committed, next_new, timed_out);
            }
            let new_at_start = model.new;
            let accessed_at_start = unix_f64(session.accessed());
            let before = model.state.clone();
            for op in req.ops.iter().take(MAX_OPS) {
                run(format, session, &mut model, op);
            }
            let fits = fits(format, session, &model.state);
            let times = (session.accessed(), session.created());
            end = Some((before, new_at_start, accessed_at_start, model, fits, times));
            if req.server_error {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::OK
            }
        });
        let now = (clock_before, unix_now());
        let (before, new_at_start, accessed_at_start, model, fits, (accessed, created)) =
            end.expect("the handler ran");
        let written = check_response(&response);
        let saved = !req.server_error || cookie_on_exception;
        let expiry = expiry_of(&model.state);

        // Why the layer would write the session: it was marked changed, it
        // is new and holds something, it was verified by the fallback
        // secret, or its last write is a reissue interval old (a tenth of
        // its timeout: its own expiry's, else the layer's). A new session
        // that stays empty and unchanged has nothing to keep and writes
        // nothing: not a lost write, there was nothing to write.
        let resign = if model.new || jar_ours {
            Some(false)
        } else {
            None
        };
        let reissue = match reissue_secs(expiry, timeout) {
            Some(after) if !model.new => known_at(now, unix_f64(accessed), |now, accessed| {
                now - accessed >= after
            }),
            _ => Some(false),
        };
        let kept = model.changed || (model.new && !model.state.is_empty());
        let reason = any(Some(kept), any(resign, reissue));
        let allowed: &[Kind] = if !saved {
            &[Kind::Nothing]
        } else if model.invalidated && model.state.is_empty() {
            // Removed, if the browser sent one.
            if had_cookie {
                &[Kind::Removed]
            } else {
                &[Kind::Nothing]
            }
        } else {
            match (reason, fits) {
                // Only a CSRF token stored past the limit, or a cookie too
                // large to re-sign, gets to `Some(false)`: the previous
                // cookie is kept and this request's changes are lost.
                (Some(false), _) | (_, Some(false)) => &[Kind::Nothing],
                (Some(true), Some(true)) => &[Kind::Value],
                _ => &[Kind::Nothing, Kind::Value],
            }
        };
        if saved && model.new && !model.invalidated && !kept {
            assert_eq!(
                written,
                Written::Nothing,
                "a new session that stayed empty and unchanged set a cookie"
            );
        }
        assert!(
            allowed.contains(&Kind::of(&written)),
            "wrote {written:?} where the model allows {allowed:?}: saved {saved}, new {}, \
             changed {}, holds {} keys, invalidated {}, had a cookie {had_cookie}, \
             re-signed {resign:?}, reissue due {reissue:?}, fits {fits:?}",
            model.new,
            model.changed,
            model.state.len(),
            model.invalidated,
        );
        // What the next request reads: what was written, or, with nothing
        // written, the cookie the browser kept.
        let expected = match &written {
            Written::Value(..) => model.state,
            Written::Removed => BTreeMap::new(),
            Written::Nothing => before,
        };
        if let Written::Value(value, written_max_age) = &written {
            assert_eq!(
                *written_max_age,
                max_age_of(expiry, max_age),
                "Max-Age for {expiry:?} on a layer with{} Max-Age",
                if max_age { "" } else { "out" }
            );
            jar_accessed = Some(JarAccessed::AtLeast(now.0 as f64));
            if let Some(decode) = format.decode {
                let (written_accessed, written_created_at, state) =
                    decode(value, SECRET, COOKIE_NAME).expect("the written cookie decodes");
                assert!(
                    decode(value, OLD_SECRET, COOKIE_NAME).is_none(),
                    "the written cookie opens with the fallback secret"
                );
                let state: BTreeMap<String, String> = state
                    .into_iter()
                    .map(|(k, v)| (k, v.get().to_owned()))
                    .collect();
                assert_eq!(state, expected, "the written cookie holds other values");
                assert!(
                    (now.0 as f64..=now.1 as f64).contains(&written_accessed),
                    "written accessed {written_accessed}, not the clock {now:?}"
                );
                assert!(
                    written_created(created).contains(&(written_created_at as u64))
                        && written_created_at.fract() == 0.0,
                    "written created {written_created_at}, the handler saw {created:?}"
                );
                jar_accessed = Some(JarAccessed::Exactly(written_accessed));
            }
        }
        jar.store(&written);
        (jar_ours, next_new) = match &written {
            Written::Value(..) => (true, Some(false)),
            Written::Removed => (false, Some(true)),
            Written::Nothing => (jar_ours, Some(new_at_start)),
        };
        match &written {
            Written::Value(..) => {}
            Written::Removed => jar_accessed = None,
            // The browser keeps its cookie: on the first request, the
            // header's, whose session (if the layer accepted it) the
            // handler saw.
            Written::Nothing if committed.is_none() => {
                jar_accessed = (!new_at_start).then_some(JarAccessed::AtLeast(accessed_at_start));
            }
            Written::Nothing => {}
        }
        committed = Some(expected);
    }

    // One more request sees what the last response left.
    if let Some(committed) = committed {
        let mut seen = None;
        let clock_before = unix_now();
        let _ = request(&layer, &jar.lines, |session| {
            seen = Some((snapshot(session), session.is_new()));
            StatusCode::OK
        });
        let loaded_at = (clock_before, unix_now());
        let (state, new) = seen.expect("the handler ran");
        let timed_out = timed_out(&committed, jar_accessed, timeout, loaded_at);
        check_loaded(&state, new, &committed, next_new, timed_out);
    }
    Corpus::Keep
});
