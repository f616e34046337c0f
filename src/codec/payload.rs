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

/// [`python_len`] of what [`encode_into`] would write, without writing it.
#[cfg(feature = "pyramid2")]
pub(crate) fn python_encoded_len(accessed: u64, created: u64, state: &State) -> usize {
    let mut counter = PythonCounter::default();
    let _ = serde_json::to_writer(&mut counter, &(accessed, created, state));
    counter.finish()
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
