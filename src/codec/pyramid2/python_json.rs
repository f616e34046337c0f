//! How long the JSON is that Pyramid (Python's `json.dumps`) writes for a
//! session: Pyramid 2's format counts it against the size limit, so that a
//! session the layer writes can be written back by Pyramid.

/// Length of the JSON Python's `json.dumps` (Pyramid's serializer) writes
/// for the payload `json` (the compact JSON the layer writes): a space after
/// every `,` and `:`, each non-ASCII character and DEL escaped as
/// `\uXXXX` (two escapes beyond the Basic Multilingual Plane), numbers as
/// Python's `repr` writes them (`1e-07`, `100.0`, `Infinity`), and both
/// timestamps as floats (`.0`, an allowance: Pyramid writes `accessed` as
/// an integer once the session is used).
pub(crate) fn python_len(json: &[u8]) -> usize {
    let mut counter = PythonCounter::default();
    counter.scan(json);
    counter.finish()
}

/// Python writes `created` (and, for a session nothing touched,
/// `accessed`) as floats.
const PYTHON_TIMESTAMPS_EXTRA: usize = 2 * ".0".len();

#[derive(Default)]
struct PythonCounter {
    len: usize,
    in_string: bool,
    escaped: bool,
    /// The number being read, outside strings.
    number: String,
}

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

/// Length of Python's `repr` of the JSON number `token`, as `json.loads`
/// reads it: an integer keeps its digits, anything with a fraction or an
/// exponent becomes a float.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::payload::{decode, encode};

    fn python_encoded_len(json: &str) -> usize {
        let state = decode(format!("[0, 0, {json}]")).unwrap().state;
        python_len(&encode(10, 5, &state))
    }

    #[test]
    fn python_len_is_what_json_dumps_writes() {
        // json.dumps([10, 5.0, {"a": "\u00e9\U0001f980\u20ac", "b": [1, 2]}])
        let python = r#"[10, 5.0, {"a": "\u00e9\ud83e\udd80\u20ac", "b": [1, 2]}]"#;
        // Plus ".0" for `accessed`, which Python may write as a float too.
        assert_eq!(
            python_encoded_len(r#"{"b":[1,2],"a":"é🦀€"}"#),
            python.len() + 2
        );
        // DEL (written raw here) is escaped; numbers are Python's `repr` (`json.dumps` of each
        // of these, from Python 3.11).
        let s = python_encoded_len(
            "{\"d\":\"\u{7f}\",\"n\":[1e-7,1e-5,0.0001,1e16,1e15,123.0,-0.0,2.5,1e400,-1e400,1.5e300,12345678901234567890,0.30000000000000004,5e-324,100,1E2,-0]}",
        );
        let python = r#"[10, 5.0, {"d": "\u007f", "n": [1e-07, 1e-05, 0.0001, 1e+16, 1000000000000000.0, 123.0, -0.0, 2.5, Infinity, -Infinity, 1.5e+300, 12345678901234567890, 0.30000000000000004, 5e-324, 100, 100.0, 0]}]"#;
        // `-0` is an integer Python writes as `0`: one byte over, at most.
        assert_eq!(s, python.len() + 2 + 1);
        // Separators already spaced (values read from Python) count once;
        // a comma or colon inside a string is not a separator.
        let s = python_encoded_len(r#"{"k": [1, 2], "s": "a, b: \"c\""}"#);
        let python = r#"[10, 5.0, {"k": [1, 2], "s": "a, b: \"c\""}]"#;
        assert_eq!(s, python.len() + 2);
    }
}
