//! The JSON a session cookie signs: `[accessed, created, {state}]`.
//!
//! Each top-level value is kept as raw JSON text until a handler reads it,
//! so an untouched value costs a scan on the way in and a copy on the way
//! out, never a tree.

use std::{collections::BTreeMap, io};

use serde_json::value::RawValue;

use crate::error::DecodeError;

/// The session's top-level keys and their values as JSON text.
pub(crate) type State = BTreeMap<String, Box<RawValue>>;

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
pub(crate) fn decode(bytes: &[u8]) -> Result<Payload, DecodeError> {
    let (accessed, created, state): (serde_json::Number, serde_json::Number, State) =
        serde_json::from_slice(bytes).map_err(|e| {
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
    Ok(Payload {
        accessed: timestamp(accessed)?,
        created: timestamp(created)?,
        state,
    })
}

/// Writes `[accessed,created,{state}]` with integer timestamps.
pub(crate) fn encode_into(accessed: u64, created: u64, state: &State, out: &mut Vec<u8>) {
    // Writing to a Vec cannot fail, and every value is already valid JSON.
    let _ = serde_json::to_writer(out, &(accessed, created, state));
}

/// Length of what [`encode_into`] would write, without writing it.
pub(crate) fn encoded_len(accessed: u64, created: u64, state: &State) -> usize {
    let mut counter = Counter(0);
    let _ = serde_json::to_writer(&mut counter, &(accessed, created, state));
    counter.0
}

/// Length of the JSON Python's `json.dumps` (Pyramid's serializer) writes
/// for the payload `json`, this module's compact encoding: a space after
/// every `,` and `:`, each non-ASCII character escaped as `\uXXXX` (two
/// escapes beyond the Basic Multilingual Plane), and both timestamps as
/// floats (`.0`). Numbers are counted as written here; Python may write
/// an exponent differently (`1e+20` for `1e20`).
#[cfg(feature = "pyramid2")]
pub(crate) fn python_len(json: &[u8]) -> usize {
    let mut counter = PythonCounter::default();
    counter.scan(json);
    counter.len + PYTHON_TIMESTAMPS_EXTRA
}

/// [`python_len`] of what [`encode_into`] would write, without writing it.
#[cfg(feature = "pyramid2")]
pub(crate) fn python_encoded_len(accessed: u64, created: u64, state: &State) -> usize {
    let mut counter = PythonCounter::default();
    let _ = serde_json::to_writer(&mut counter, &(accessed, created, state));
    counter.len + PYTHON_TIMESTAMPS_EXTRA
}

/// Python writes `created` (and, after `changed()`, `accessed`) as floats.
#[cfg(feature = "pyramid2")]
const PYTHON_TIMESTAMPS_EXTRA: usize = 2 * ".0".len();

#[cfg(feature = "pyramid2")]
#[derive(Default)]
struct PythonCounter {
    len: usize,
    in_string: bool,
    escaped: bool,
}

#[cfg(feature = "pyramid2")]
impl PythonCounter {
    fn scan(&mut self, json: &[u8]) {
        for &b in json {
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
                        0x00..=0x7f => 1,
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
                    _ => 1,
                }
            };
        }
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
    use super::*;

    fn state(json: &str) -> State {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn encodes_compact_json_with_integer_timestamps_and_raw_values() {
        let s = state(r#"{"b": [1, 2], "a": "é\u00e9"}"#);
        let mut out = Vec::new();
        encode_into(10, 5, &s, &mut out);
        // Values are written back verbatim, keys in sorted order.
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            r#"[10,5,{"a":"é\u00e9","b":[1, 2]}]"#
        );
        assert_eq!(encoded_len(10, 5, &s), out.len());
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
        assert_eq!(p.state["a"].get(), "2", "the last duplicate wins");
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
