//! The JSON a session cookie signs: `[accessed, created, {state}]`.
//!
//! Each top-level value is kept as raw JSON text until a handler reads it,
//! so an untouched value costs a scan on the way in and a copy on the way
//! out, never a tree. Decoding keeps the payload whole and indexes it:
//! keys and values are spans of it, so reading a cookie allocates the
//! index, not a string per key and value.

use std::{borrow::Cow, fmt, io};

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::DecodeError;

/// The largest timestamp accepted (year 9999): keeps arithmetic finite and
/// refuses nonsense such as `1e300`.
const MAX_TIMESTAMP: f64 = 253_402_300_799.0;

/// The session's top-level keys, in sorted order, and their values as JSON
/// text.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The decoded payload the spans point into; empty for a new session.
    text: String,
    /// Sorted by key; keys are unique.
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    /// The key, unescaped.
    key: Text,
    /// The value's JSON text, as it was read or written.
    value: Text,
}

#[derive(Debug)]
enum Text {
    /// `text[start..end]` of the [`State`].
    Span {
        start: usize,
        end: usize,
    },
    Owned(String),
}

impl Text {
    fn is_span(&self) -> bool {
        matches!(self, Self::Span { .. })
    }
}

impl State {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn resolve<'a>(&'a self, text: &'a Text) -> &'a str {
        resolve(&self.text, text)
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|entry| self.resolve(&entry.key).cmp(key))
    }

    /// The JSON text stored under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        let index = self.find(key).ok()?;
        self.entries
            .get(index)
            .map(|entry| self.resolve(&entry.value))
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Stores `value`, JSON text, under `key`, replacing any earlier value.
    pub(crate) fn insert(&mut self, key: String, value: String) {
        let value = Text::Owned(value);
        match self.find(&key) {
            Ok(index) => {
                if let Some(entry) = self.entries.get_mut(index) {
                    entry.value = value;
                }
            }
            Err(index) => self.entries.insert(
                index,
                Entry {
                    key: Text::Owned(key),
                    value,
                },
            ),
        }
    }

    /// Removes `key`; whether it was there.
    pub(crate) fn remove(&mut self, key: &str) -> bool {
        match self.find(key) {
            Ok(index) => {
                self.entries.remove(index);
                true
            }
            Err(_) => false,
        }
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|entry| self.resolve(&entry.key))
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.text.clear();
    }
}

fn resolve<'a>(text: &'a str, t: &'a Text) -> &'a str {
    match t {
        Text::Span { start, end } => text.get(*start..*end).unwrap_or_default(),
        Text::Owned(owned) => owned,
    }
}

/// A decoded payload: timestamps in Unix seconds, as written (Pyramid
/// writes floats).
#[derive(Debug)]
pub(crate) struct Payload {
    pub(crate) accessed: f64,
    pub(crate) created: f64,
    pub(crate) state: State,
}

/// Parses `[accessed, created, {state}]`; duplicate keys: the last wins.
pub(crate) fn decode(bytes: impl Into<Vec<u8>>) -> Result<Payload, DecodeError> {
    let bytes = bytes.into();
    let seed = PayloadSeed {
        start: bytes.as_ptr().addr(),
        len: bytes.len(),
    };
    // Checking the whole payload once spares serde_json checking each
    // string and value as it goes. Bytes that are not UTF-8 are parsed
    // as bytes, so that the refusal is the one serde_json gives.
    let parsed = match std::str::from_utf8(&bytes) {
        Ok(text) => seed.parse(serde_json::Deserializer::from_str(text)),
        Err(_) => seed.parse(serde_json::Deserializer::from_slice(&bytes)),
    };
    let (accessed, created, mut entries) = parsed.map_err(|e| {
        if e.is_data() {
            DecodeError::WrongShape
        } else {
            DecodeError::InvalidJson
        }
    })?;
    let timestamp = |n: serde_json::Number| {
        n.as_f64()
            .filter(|t| (0.0..=MAX_TIMESTAMP).contains(t))
            .ok_or(DecodeError::WrongShape)
    };
    let accessed = timestamp(accessed)?;
    let created = timestamp(created)?;
    // Checked above; a payload that is not UTF-8 never parses.
    let text = String::from_utf8(bytes).map_err(|_| DecodeError::InvalidJson)?;
    sort_last_wins(&text, &mut entries);
    Ok(Payload {
        accessed,
        created,
        state: State { text, entries },
    })
}

/// Sorts entries by key, keeping the last of equal keys (as a map filled
/// in order would). Cookies this crate wrote are sorted already.
fn sort_last_wins(text: &str, entries: &mut Vec<Entry>) {
    if entries.windows(2).all(|w| match w {
        [a, b] => resolve(text, &a.key) < resolve(text, &b.key),
        _ => true,
    }) {
        return;
    }
    // Stable: equal keys stay in the order they came.
    entries.sort_by(|a, b| resolve(text, &a.key).cmp(resolve(text, &b.key)));
    entries.dedup_by(|later, kept| {
        let same = resolve(text, &later.key) == resolve(text, &kept.key);
        if same {
            std::mem::swap(&mut later.value, &mut kept.value);
        }
        same
    });
}

/// Deserializes the payload array, recording keys and values as spans of
/// the input, which starts at address `start` and is `len` bytes long.
#[derive(Clone, Copy)]
struct PayloadSeed {
    start: usize,
    len: usize,
}

impl PayloadSeed {
    /// Parses the whole input, as `from_slice` and `from_str` do: nothing
    /// but whitespace may follow the payload.
    fn parse<'de, R: serde_json::de::Read<'de>>(
        self,
        mut de: serde_json::Deserializer<R>,
    ) -> Result<<Self as DeserializeSeed<'de>>::Value, serde_json::Error> {
        let parsed = self.deserialize(&mut de)?;
        de.end()?;
        Ok(parsed)
    }
}

impl<'de> DeserializeSeed<'de> for PayloadSeed {
    type Value = (serde_json::Number, serde_json::Number, Vec<Entry>);

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_tuple(3, self)
    }
}

impl<'de> Visitor<'de> for PayloadSeed {
    type Value = (serde_json::Number, serde_json::Number, Vec<Entry>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[accessed, created, {state}]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let accessed = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let created = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        let entries = seq
            .next_element_seed(StateSeed(self))?
            .ok_or_else(|| de::Error::invalid_length(2, &self))?;
        Ok((accessed, created, entries))
    }
}

struct StateSeed(PayloadSeed);

impl StateSeed {
    /// `s` as a span of the input if it was borrowed from it, else a copy
    /// (a key with escapes, unescaped).
    fn text(&self, s: Cow<'_, str>) -> Text {
        if let Cow::Borrowed(b) = s
            && let Some(start) = b.as_ptr().addr().checked_sub(self.0.start)
            && start + b.len() <= self.0.len
        {
            return Text::Span {
                start,
                end: start + b.len(),
            };
        }
        Text::Owned(s.into_owned())
    }
}

impl<'de> DeserializeSeed<'de> for StateSeed {
    type Value = Vec<Entry>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for StateSeed {
    type Value = Vec<Entry>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value: &'de RawValue = map.next_value()?;
            entries.push(Entry {
                key: self.text(key),
                value: self.text(Cow::Borrowed(value.get())),
            });
        }
        Ok(entries)
    }
}

/// A key, borrowed from the input unless it has escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Writes `[accessed,created,{state}]` with integer timestamps.
pub(crate) fn encode_into(accessed: u64, created: u64, state: &State, out: &mut Vec<u8>) {
    out.reserve(encoded_len(accessed, created, state));
    // Writing to a Vec cannot fail, and every value is already valid JSON.
    out.push(b'[');
    let _ = serde_json::to_writer(&mut *out, &accessed);
    out.push(b',');
    let _ = serde_json::to_writer(&mut *out, &created);
    out.extend_from_slice(b",{");
    for (i, entry) in state.entries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_key(state.resolve(&entry.key), entry.key.is_span(), out);
        out.push(b':');
        out.extend_from_slice(state.resolve(&entry.value).as_bytes());
    }
    out.extend_from_slice(b"}]");
}

/// Writes `key` as a JSON string. A key read from the payload without
/// escapes (`verbatim`) has no quote, backslash or control character,
/// which JSON allows only escaped, so it is what serde_json would write.
fn write_key(key: &str, verbatim: bool, out: &mut impl io::Write) {
    if verbatim {
        let _ = out.write_all(b"\"");
        let _ = out.write_all(key.as_bytes());
        let _ = out.write_all(b"\"");
    } else {
        let _ = serde_json::to_writer(out, key);
    }
}

/// Length of what [`encode_into`] would write, without writing it.
pub(crate) fn encoded_len(accessed: u64, created: u64, state: &State) -> usize {
    let entries: usize = state
        .entries
        .iter()
        .map(|entry| {
            key_len(state.resolve(&entry.key), entry.key.is_span())
                + 1
                + state.resolve(&entry.value).len()
        })
        .sum();
    let commas = state.entries.len().saturating_sub(1);
    digits(accessed) + digits(created) + "[,,{}]".len() + entries + commas
}

/// Length of what [`encode_into`] would write once `value` is stored under
/// `key`, which now holds `old` (`state.get(key)`).
pub(crate) fn encoded_len_with(
    accessed: u64,
    created: u64,
    state: &State,
    key: &str,
    old: Option<&str>,
    value: &str,
) -> usize {
    let len = encoded_len(accessed, created, state);
    match old {
        Some(old) => len - old.len() + value.len(),
        None => {
            let comma = usize::from(!state.is_empty());
            len + comma + key_len(key, false) + 1 + value.len()
        }
    }
}

fn key_len(key: &str, verbatim: bool) -> usize {
    if verbatim {
        return key.len() + 2;
    }
    let mut counter = Counter(0);
    write_key(key, verbatim, &mut counter);
    counter.0
}

/// Length of the JSON Python's `json.dumps` (Pyramid's serializer) writes
/// for the payload `json`, this module's compact encoding: a space after
/// every `,` and `:`, each non-ASCII character and DEL escaped as
/// `\uXXXX` (two escapes beyond the Basic Multilingual Plane), numbers as
/// Python's `repr` writes them (`1e-07`, `100.0`, `Infinity`), and both
/// timestamps as floats (`.0`, an allowance: Pyramid writes `accessed` as
/// an integer once the session is used).
#[cfg(feature = "pyramid2")]
pub(crate) fn python_len(json: &[u8]) -> usize {
    let mut counter = PythonCounter::default();
    counter.scan(json);
    counter.finish()
}

/// [`python_len`] of what [`encode_into`] would write.
#[cfg(feature = "pyramid2")]
pub(crate) fn python_encoded_len(accessed: u64, created: u64, state: &State) -> usize {
    let mut json = Vec::new();
    encode_into(accessed, created, state, &mut json);
    python_len(&json)
}

/// [`python_encoded_len`] of `state` with `value` stored under `key`
/// (where `old` is the value there now).
#[cfg(feature = "pyramid2")]
pub(crate) fn python_encoded_len_with(
    accessed: u64,
    created: u64,
    state: &State,
    key: &str,
    old: Option<&str>,
    value: &str,
) -> usize {
    let len = python_encoded_len(accessed, created, state);
    match old {
        Some(old) => len.saturating_sub(python_piece_len(old)) + python_piece_len(value),
        None => {
            let comma = if state.is_empty() { 0 } else { ", ".len() };
            let key = serde_json::to_string(key).unwrap_or_default();
            len + comma + python_piece_len(&key) + ": ".len() + python_piece_len(value)
        }
    }
}

/// What one key or value adds to [`python_len`].
#[cfg(feature = "pyramid2")]
fn python_piece_len(json: &str) -> usize {
    python_len(json.as_bytes()) - PYTHON_TIMESTAMPS_EXTRA
}

/// Python writes `created` (and, for a session nothing touched,
/// `accessed`) as floats.
#[cfg(feature = "pyramid2")]
const PYTHON_TIMESTAMPS_EXTRA: usize = 2 * ".0".len();

#[cfg(feature = "pyramid2")]
#[derive(Default)]
struct PythonCounter {
    len: usize,
    in_string: bool,
    escaped: bool,
    /// The number being read, outside strings.
    number: String,
}

#[cfg(feature = "pyramid2")]
impl PythonCounter {
    fn scan(&mut self, json: &[u8]) {
        for &b in json {
            if !self.number.is_empty() {
                if matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                    self.number.push(char::from(b));
                    continue;
                }
                self.end_number();
            }
            self.len += if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    1
                } else {
                    match b {
                        b'\\' => {
                            self.escaped = true;
                            1
                        }
                        b'"' => {
                            self.in_string = false;
                            1
                        }
                        0x7f => 6,
                        0x00..=0x7e => 1,
                        // A UTF-8 lead byte: `\uXXXX`, or a surrogate pair
                        // for four-byte characters; continuation bytes add
                        // nothing.
                        0xc0..=0xef => 6,
                        0xf0..=0xff => 12,
                        0x80..=0xbf => 0,
                    }
                }
            } else {
                match b {
                    b'"' => {
                        self.in_string = true;
                        1
                    }
                    b',' | b':' => 2,
                    b' ' | b'\t' | b'\n' | b'\r' => 0,
                    b'0'..=b'9' | b'-' => {
                        self.number.push(char::from(b));
                        0
                    }
                    _ => 1,
                }
            };
        }
    }

    fn end_number(&mut self) {
        self.len += python_number_len(&self.number);
        self.number.clear();
    }

    fn finish(mut self) -> usize {
        if !self.number.is_empty() {
            self.end_number();
        }
        self.len + PYTHON_TIMESTAMPS_EXTRA
    }
}

#[cfg(feature = "pyramid2")]
impl io::Write for PythonCounter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.scan(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Length of Python's `repr` of the JSON number `token`, as `json.loads`
/// reads it: an integer keeps its digits, anything with a fraction or an
/// exponent becomes a float.
#[cfg(feature = "pyramid2")]
fn python_number_len(token: &str) -> usize {
    if !token.contains(['.', 'e', 'E']) {
        return token.len();
    }
    match token.parse::<f64>() {
        Ok(x) if x.is_finite() => python_float_len(x),
        Ok(x) => usize::from(x.is_sign_negative()) + "Infinity".len(),
        Err(_) => token.len(),
    }
}

/// Length of Python's `repr(x)` for a finite `x`: the shortest digits that
/// round-trip, fixed notation for exponents from -4 to 15 (with `.0` when
/// there is no fraction), otherwise `d.ddde±XX` with at least two exponent
/// digits.
#[cfg(feature = "pyramid2")]
fn python_float_len(x: f64) -> usize {
    let sign = usize::from(x.is_sign_negative());
    if x == 0.0 {
        return sign + "0.0".len();
    }
    // Rust's `{:e}` also writes the shortest digits that round-trip.
    let scientific = format!("{:e}", x.abs());
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return scientific.len() + 4;
    };
    let digits = mantissa.len() - usize::from(mantissa.contains('.'));
    let Ok(exponent) = exponent.parse::<i32>() else {
        return scientific.len() + 4;
    };
    let body = match usize::try_from(exponent) {
        Ok(e) if e < 16 => {
            let integer_digits = e + 1;
            if digits <= integer_digits {
                integer_digits + ".0".len()
            } else {
                digits + ".".len()
            }
        }
        Err(_) if exponent >= -4 => {
            let zeros = exponent.unsigned_abs() as usize - 1;
            "0.".len() + zeros + digits
        }
        _ => {
            let mantissa = if digits == 1 { 1 } else { digits + 1 };
            let exponent_digits = exponent.unsigned_abs().to_string().len().max(2);
            mantissa + "e+".len() + exponent_digits
        }
    };
    sign + body
}

fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

struct Counter(usize);

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn state(json: &str) -> State {
        decode(format!("[0, 0, {json}]")).unwrap().state
    }

    fn encode(state: &State) -> String {
        let mut out = Vec::new();
        encode_into(10, 5, state, &mut out);
        assert_eq!(encoded_len(10, 5, state), out.len());
        String::from_utf8(out).unwrap()
    }

    fn raw(json: &str) -> String {
        json.to_owned()
    }

    #[test]
    fn encodes_compact_json_with_integer_timestamps_and_raw_values() {
        let s = state(r#"{"b": [1, 2], "a": "é\u00e9"}"#);
        // Values are written back verbatim, keys in sorted order.
        assert_eq!(encode(&s), r#"[10,5,{"a":"é\u00e9","b":[1, 2]}]"#);
    }

    #[test]
    fn writes_what_serde_json_writes_for_a_sorted_map() {
        for json in [
            r#"{}"#,
            r#"{"a": 1}"#,
            r#"{"z": {"nested": [1, {"x": null}]}, "a": "text", "m": 1.5e3}"#,
            r#"{"k\u00e9": 1, "k\"q": 2, "k\\b": 3, "tab\t": 4, "\u0001": 5, "ü": 6}"#,
            r#"{"b": 1, "a": 2, "b": 3}"#,
        ] {
            let mut map: BTreeMap<String, Box<RawValue>> = serde_json::from_str(json).unwrap();
            let mut s = state(json);
            assert_eq!(encode(&s), serde_json::to_string(&(10, 5, &map)).unwrap());
            assert!(s.keys().eq(map.keys().map(String::as_str)), "{json}");
            // Inserted keys and values are written, and counted, alike.
            for (key, value) in [("new\"key", "[1,2]"), ("a", "\"x\""), ("ü", "{}")] {
                let size = encoded_len_with(10, 5, &s, key, s.get(key), value);
                s.insert(key.to_owned(), raw(value));
                map.insert(key.to_owned(), RawValue::from_string(raw(value)).unwrap());
                let written = encode(&s);
                assert_eq!(written, serde_json::to_string(&(10, 5, &map)).unwrap());
                assert_eq!(size, written.len(), "{json} + {key}");
            }
        }
    }

    #[test]
    fn the_map_api_reads_spans_and_insertions_alike() {
        let mut s = state(r#"{"b": 2, "a\u0041": 1}"#);
        assert_eq!(s.get("aA"), Some("1"));
        assert_eq!(s.get("b"), Some("2"));
        assert!(s.contains_key("b") && !s.contains_key("c"));
        s.insert("c".into(), raw("3"));
        s.insert("b".into(), raw("4"));
        assert!(s.keys().eq(["aA", "b", "c"]));
        assert_eq!(s.get("b"), Some("4"));
        assert!(s.remove("aA") && !s.remove("aA"));
        assert_eq!(s.len(), 2);
        s.clear();
        assert!(s.is_empty());
        assert_eq!(encode(&s), "[10,5,{}]");
    }

    /// What `decode` must agree with: the plain serde_json parse of the
    /// payload into a map.
    fn reference(bytes: &[u8]) -> Result<BTreeMap<String, String>, DecodeError> {
        type Shape = (
            serde_json::Number,
            serde_json::Number,
            BTreeMap<String, Box<RawValue>>,
        );
        let (a, c, map) = serde_json::from_slice::<Shape>(bytes).map_err(|e| {
            if e.is_data() {
                DecodeError::WrongShape
            } else {
                DecodeError::InvalidJson
            }
        })?;
        for n in [a, c] {
            n.as_f64()
                .filter(|t| (0.0..=MAX_TIMESTAMP).contains(t))
                .ok_or(DecodeError::WrongShape)?;
        }
        Ok(map
            .into_iter()
            .map(|(k, v)| (k, v.get().to_owned()))
            .collect())
    }

    #[test]
    fn decode_agrees_with_a_plain_serde_json_parse() {
        let inputs: &[&[u8]] = &[
            br#"[1, 2, {}]"#,
            br#" [1,2,{"a":1}] "#,
            br#"[1, 2, {"a": 1, "a": 2, "b": [1, {"c": "d"}]}]"#,
            br#"[1, 2, {"b": 1, "a": 2, "b": 3, "a": 4, "c": 5}]"#,
            br#"[1, 2, {"\u00e9": "\ud83d\ude00", "e\\u": "\n"}]"#,
            br#"[1.5, 2e3, {"x": 1}]"#,
            b"[1, 2, {}, 3]",
            b"[1, 2, {},]",
            b"[1, 2]",
            b"[1]",
            b"[]",
            b"{}",
            b"",
            br#"[1, 2, {"a": 1,}]"#,
            br#"[1, 2, {"a" 1}]"#,
            b"[1, 2, {1: 2}]",
            b"[\"\xff\", 2, {}]",
            b"[1, 2, {\"a\": \"\xff\"}]",
            b"[1, 2, {\"\xff\": 1}]",
            b"[1, 2, {}]\xff",
            b"[1, 2, {\"a\": \"\x01\"}]",
            b"[1, 2, \"{}\"]",
            b"[true, 2, {}]",
            b"[1e400, 2, {}]",
            b"[-1, 2, {}]",
        ];
        for &input in inputs {
            let ours = decode(input).map(|p| {
                p.state
                    .keys()
                    .map(|k| (k.to_owned(), p.state.get(k).unwrap().to_owned()))
                    .collect::<BTreeMap<_, _>>()
            });
            assert_eq!(
                ours,
                reference(input),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[cfg(feature = "pyramid2")]
    #[test]
    fn python_len_is_what_json_dumps_writes() {
        // json.dumps([10, 5.0, {"a": "\u00e9\U0001f980\u20ac", "b": [1, 2]}])
        let python = r#"[10, 5.0, {"a": "\u00e9\ud83e\udd80\u20ac", "b": [1, 2]}]"#;
        let s = state(r#"{"b":[1,2],"a":"é🦀€"}"#);
        let mut out = Vec::new();
        encode_into(10, 5, &s, &mut out);
        // Plus ".0" for `accessed`, which Python may write as a float too.
        assert_eq!(python_len(&out), python.len() + 2);
        assert_eq!(python_encoded_len(10, 5, &s), python.len() + 2);
        // DEL (written raw here) is escaped; numbers are Python's `repr` (`json.dumps` of each
        // of these, from Python 3.11).
        let s = state(
            "{\"d\":\"\u{7f}\",\"n\":[1e-7,1e-5,0.0001,1e16,1e15,123.0,-0.0,2.5,1e400,-1e400,1.5e300,12345678901234567890,0.30000000000000004,5e-324,100,1E2,-0]}",
        );
        let python = r#"[10, 5.0, {"d": "\u007f", "n": [1e-07, 1e-05, 0.0001, 1e+16, 1000000000000000.0, 123.0, -0.0, 2.5, Infinity, -Infinity, 1.5e+300, 12345678901234567890, 0.30000000000000004, 5e-324, 100, 100.0, 0]}]"#;
        // `-0` is an integer Python writes as `0`: one byte over, at most.
        assert_eq!(python_encoded_len(10, 5, &s), python.len() + 2 + 1);
        // Separators already spaced (values read from Python) count once;
        // a comma or colon inside a string is not a separator.
        let s = state(r#"{"k": [1, 2], "s": "a, b: \"c\""}"#);
        let python = r#"[10, 5.0, {"k": [1, 2], "s": "a, b: \"c\""}]"#;
        assert_eq!(python_encoded_len(10, 5, &s), python.len() + 2);
    }

    #[test]
    fn decodes_python_json_with_floats_and_spaces() {
        let p =
            decode(br#"[1700000000.25, 1699999999.0, {"a": 1, "a": 2, "k\u00e9": null}]"#).unwrap();
        assert_eq!(p.accessed, 1_700_000_000.25);
        assert_eq!(p.created, 1_699_999_999.0);
        assert_eq!(p.state.get("a"), Some("2"), "the last duplicate wins");
        assert!(p.state.contains_key("ké"));
    }

    #[test]
    fn refuses_anything_but_number_number_object() {
        for bad in [
            &b"{}"[..],
            b"[]",
            b"[1, 2]",
            b"[1, 2, {}, 3]",
            b"[\"1\", 2, {}]",
            b"[1, 2, []]",
            b"[1, 2, null]",
            b"[-1, 2, {}]",
            b"[1e300, 2, {}]",
            b"[1, 2, {\"a\": }]",
            b"[1, 2, {}] x",
            b"\xff",
        ] {
            assert!(decode(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(decode(b"[1, 2, {}").unwrap_err(), DecodeError::InvalidJson);
        assert_eq!(decode(b"[1, 2, 3]").unwrap_err(), DecodeError::WrongShape);
    }
}
