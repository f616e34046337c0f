//! The layer end to end: arbitrary `Cookie` header bytes on the first
//! request, then a few requests, each running an arbitrary sequence of
//! session operations, with every `Set-Cookie` fed back the way a browser
//! does.
//!
//! Input: byte 0 picks the wire format (`FORMATS`), byte 1 the settings
//! (bit 0: default timeouts, else none; bit 1: `cookie_on_exception`),
//! bytes 2 and 3 the length of the first request's `Cookie` header (big
//! endian), then that header (one line per `\n`), then the requests and
//! their operations, read with `arbitrary`. Seeds put real cookies in the
//! header.
//!
//! A model (a map from key to JSON text) is driven by the same operations.
//! Invariants: no panic; after every operation the session equals the
//! model, and each return value is what the model predicts; `TooLarge`
//! exactly when the cookie would not fit; every written cookie fits the
//! limit, decodes with the crate's public API, and the next request sees
//! exactly the state the handler left: nothing lost, nothing added.

#![no_main]

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use http::StatusCode;
use libfuzzer_sys::{Corpus, fuzz_target};
use serde_json::{Map, Value};
use tower_cookie_session::SessionError;
use tower_cookie_session_fuzz::{
    FuzzFormat, Jar, SECRET, Session, Written, check_response, fits, header_lines, layer, request,
    same_json, size_modelled_format, snapshot,
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
}

/// Mostly a few fixed names, so that operations meet; any string too.
#[derive(Arbitrary, Debug)]
enum Key {
    A,
    B,
    Empty,
    FlashQueue,
    Csrf,
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
    invalidated: bool,
}

impl Model {
    fn parse<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<Result<T, ()>> {
        self.state
            .get(key)
            .map(|raw| serde_json::from_str(raw).map_err(|_| ()))
    }

    /// Whether `state` fits the cookie for this session; known exactly
    /// for the formats this target runs.
    fn fits(format: &FuzzFormat, session: &Session, state: &BTreeMap<String, String>) -> bool {
        fits(format, session, state).expect("this format's size rule is modelled exactly")
    }

    /// Applies a store of `raw` under `key` as `Data::set` does, given
    /// what the session answered.
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
                assert!(Self::fits(format, session, &next), "stored past the limit");
                self.state = next;
            }
            Err(SessionError::TooLarge { .. }) => {
                assert!(
                    !Self::fits(format, session, &next),
                    "refused a value that fits"
                );
            }
            Err(e) => panic!("unexpected error storing a value: {e}"),
        }
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
            match model.parse::<Value>(key.name()) {
                None => assert!(matches!(result, Ok(None))),
                Some(Ok(v)) => {
                    assert_eq!(result.expect("a Value reads"), Some(v));
                    model.state.remove(key.name());
                }
                Some(Err(())) => assert!(matches!(result, Err(SessionError::Deserialize(_)))),
            }
        }
        Op::Clear => {
            session.clear();
            model.state.clear();
        }
        Op::Invalidate => {
            session.invalidate();
            model.state.clear();
            model.invalidated = true;
            assert!(session.is_new());
        }
        Op::Changed => session.changed(),
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
                }
            }
        }
        Op::NewCsrf => {
            let token = session.new_csrf_token();
            model
                .state
                .insert("_csrft_".to_owned(), format!("\"{token}\""));
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
    }
    assert_eq!(snapshot(session), model.state, "after {op:?}");
}

fuzz_target!(|data: &[u8]| -> Corpus {
    let [selector, flags, hi, lo, rest @ ..] = data else {
        return Corpus::Reject;
    };
    let (header, rest) = rest.split_at(usize::from(u16::from_be_bytes([*hi, *lo])).min(rest.len()));
    let Ok(requests) = Vec::<Req>::arbitrary_take_rest(Unstructured::new(rest)) else {
        return Corpus::Reject;
    };
    let format = size_modelled_format(*selector);
    let cookie_on_exception = flags & 0b10 != 0;
    let layer = layer(format, flags & 0b1 != 0, cookie_on_exception);
    let mut jar = Jar::new(header_lines(header));
    // What the browser's cookie holds, once known (before the first
    // request: whatever the arbitrary header holds).
    let mut committed: Option<BTreeMap<String, String>> = None;

    for req in requests.iter().take(MAX_REQUESTS) {
        let mut end = None;
        let response = request(&layer, &jar.lines, |session| {
            let mut model = Model {
                state: snapshot(session),
                invalidated: false,
            };
            if let Some(committed) = &committed {
                assert_eq!(&model.state, committed, "the session lost or gained values");
            }
            let before = model.state.clone();
            for op in req.ops.iter().take(MAX_OPS) {
                run(format, session, &mut model, op);
            }
            let fits = Model::fits(format, session, &model.state);
            end = Some((before, model, fits));
            if req.server_error {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::OK
            }
        });
        let (before, model, fits) = end.expect("the handler ran");
        let written = check_response(&response);
        let saved = !req.server_error || cookie_on_exception;
        let expected = if !saved {
            assert_eq!(written, Written::Nothing, "a 5xx wrote a cookie");
            before
        } else if model.invalidated && model.state.is_empty() {
            BTreeMap::new()
        } else if !fits {
            // Only a CSRF token stored past the limit gets here: the
            // previous cookie is kept and this request's changes are lost.
            assert_eq!(written, Written::Nothing, "a cookie over the limit");
            before
        } else {
            model.state
        };
        if let (Written::Value(value), Some(decode)) = (&written, format.decode) {
            let (_, _, state) = decode(value, SECRET).expect("the written cookie decodes");
            let state: BTreeMap<String, String> = state
                .into_iter()
                .map(|(k, v)| (k, v.get().to_owned()))
                .collect();
            assert_eq!(state, expected, "the written cookie holds other values");
        }
        jar.store(&written);
        committed = Some(expected);
    }

    // One more request sees what the last response left.
    if let Some(committed) = committed {
        let mut seen = None;
        let _ = request(&layer, &jar.lines, |session| {
            seen = Some(snapshot(session));
            StatusCode::OK
        });
        assert_eq!(
            seen.expect("the handler ran"),
            committed,
            "lost on the last write"
        );
    }
    Corpus::Keep
});
