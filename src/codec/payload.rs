//! The JSON every format carries, `[accessed, created, {state}]`: parsed
//! in one pass into a [`State`] that indexes the payload, and written back
//! with integer timestamps.

use std::{borrow::Cow, fmt};

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::state::{Entry, State, Text};
use crate::error::DecodeError;

/// The largest timestamp accepted (year 9999): keeps arithmetic finite and
/// refuses nonsense such as `1e300`.
const MAX_TIMESTAMP: f64 = 253_402_300_799.0;

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
    let (accessed, created, entries) = parsed.map_err(|e| {
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
    Ok(Payload {
        accessed,
        created,
        state: State::from_parts(text, entries),
    })
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

/// `[accessed,created,{state}]` with integer timestamps.
pub(crate) fn encode(accessed: u64, created: u64, state: &State) -> Vec<u8> {
    // Two timestamps of at most 20 digits and the brackets around them.
    let mut out = Vec::with_capacity(state.len_hint() + 48);
    // Writing to a Vec cannot fail.
    out.push(b'[');
    let _ = serde_json::to_writer(&mut out, &accessed);
    out.push(b',');
    let _ = serde_json::to_writer(&mut out, &created);
    out.push(b',');
    state.write_into(&mut out);
    out.push(b']');
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn state(json: &str) -> State {
        decode(format!("[0, 0, {json}]")).unwrap().state
    }

    fn encode(state: &State) -> String {
        String::from_utf8(super::encode(10, 5, state)).unwrap()
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
            // Inserted keys and values are written alike.
            for (key, value) in [("new\"key", "[1,2]"), ("a", "\"x\""), ("ü", "{}")] {
                s.insert(key.to_owned(), raw(value));
                map.insert(key.to_owned(), RawValue::from_string(raw(value)).unwrap());
                let written = encode(&s);
                assert_eq!(written, serde_json::to_string(&(10, 5, &map)).unwrap());
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
        let previous = s.insert("b".into(), raw("4"));
        assert!(s.keys().eq(["aA", "b", "c"]));
        assert_eq!(s.get("b"), Some("4"));
        // An insert is undone exactly, span or not.
        s.restore(previous);
        assert_eq!(s.get("b"), Some("2"));
        let previous = s.insert("d".into(), raw("5"));
        s.restore(previous);
        assert!(s.keys().eq(["aA", "b", "c"]));
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
