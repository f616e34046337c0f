//! What Python's `json.dumps` writes for a session: Pyramid 2 serializes
//! with it, and a format that lets Pyramid write back what the layer
//! wrote counts that spelling against the size limit as well.
//!
//! Written here from Python's definition (`json.loads`, then `json.dumps`
//! with its defaults: `ensure_ascii=True`, `", "` and `": "` between
//! items, `allow_nan=True`), not from the crate's count, so that the
//! targets can check that count.

use std::collections::{BTreeMap, HashMap};

/// Python's spelling of a JSON text.
#[derive(Debug)]
pub struct Dumped {
    /// What `json.dumps(json.loads(text))` writes.
    pub json: String,
    /// Whether the text spells everything as long as Python writes it: no
    /// escape that Python writes shorter (`\/`, `\u0041`, `\u000a`), no
    /// `-0` integer (Python writes `0`) and no key twice in one object
    /// (Python keeps the last). Python and `serde_json` never write those.
    /// A count taken from the text itself may be longer than Python's
    /// where this is false, never shorter.
    pub spelled_as_python: bool,
}

/// Python's spelling of the payload `[now, created, {state}]` (values as
/// JSON text), with both timestamps as floats, as Pyramid writes
/// `created` (and `accessed` until the session is used). `None` if Python
/// cannot read a value (an integer of more than 4300 digits).
pub fn payload(now: u64, created: u64, state: &BTreeMap<String, String>) -> Option<Dumped> {
    let mut json = String::from("[");
    // Exact: timestamps are far below 2^53.
    json.push_str(&float_repr(now as f64));
    json.push_str(", ");
    json.push_str(&float_repr(created as f64));
    json.push_str(", {");
    let mut spelled_as_python = true;
    for (i, (key, value)) in state.iter().enumerate() {
        if i > 0 {
            json.push_str(", ");
        }
        let key: Vec<u32> = key.chars().map(u32::from).collect();
        write_str(&key, &mut json);
        json.push_str(": ");
        let value = dumps(value)?;
        json.push_str(&value.json);
        spelled_as_python &= value.spelled_as_python;
    }
    json.push_str("}]");
    Some(Dumped {
        json,
        spelled_as_python,
    })
}

/// Python's spelling of one JSON text; `None` if Python cannot read it.
pub fn dumps(text: &str) -> Option<Dumped> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        at: 0,
        spelled_as_python: true,
    };
    let mut json = String::new();
    reader.value(&mut json)?;
    reader.skip_whitespace();
    if reader.at != reader.bytes.len() {
        return None;
    }
    Some(Dumped {
        json,
        spelled_as_python: reader.spelled_as_python,
    })
}

/// Python's `repr` of a float, as `json.dumps` writes it: the shortest
/// digits that read back as `x`, in fixed notation (with `.0` if whole)
/// for decimal exponents -4 to 15, otherwise as `d.ddde±XX`; `Infinity`
/// for infinities.
pub fn float_repr(x: f64) -> String {
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x.is_infinite() {
        return format!("{sign}Infinity");
    }
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    // Rust writes the same shortest round-trip digits.
    let scientific = format!("{:e}", x.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` writes an exponent");
    let exponent: i32 = exponent.parse().expect("a decimal exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let body = if (-4..16).contains(&exponent) {
        if exponent >= 0 {
            let whole = exponent as usize + 1;
            if digits.len() <= whole {
                format!("{digits}{}.0", "0".repeat(whole - digits.len()))
            } else {
                format!("{}.{}", &digits[..whole], &digits[whole..])
            }
        } else {
            let zeros = "0".repeat((-exponent - 1) as usize);
            format!("0.{zeros}{digits}")
        }
    } else {
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{exponent_sign}{:02}", exponent.unsigned_abs())
    };
    format!("{sign}{body}")
}

/// Writes a Python string (code points, lone surrogates included) as
/// `json.dumps` does with `ensure_ascii`.
fn write_str(chars: &[u32], out: &mut String) {
    out.push('"');
    for &c in chars {
        write_char(c, out);
    }
    out.push('"');
}

fn write_char(c: u32, out: &mut String) {
    match c {
        0x22 => out.push_str("\\\""),
        0x5c => out.push_str("\\\\"),
        0x08 => out.push_str("\\b"),
        0x0c => out.push_str("\\f"),
        0x0a => out.push_str("\\n"),
        0x0d => out.push_str("\\r"),
        0x09 => out.push_str("\\t"),
        0x20..=0x7e => out.push(char::from(c as u8)),
        0..=0xffff => out.push_str(&format!("\\u{c:04x}")),
        _ => {
            let v = c - 0x1_0000;
            let high = 0xd800 | (v >> 10);
            let low = 0xdc00 | (v & 0x3ff);
            out.push_str(&format!("\\u{high:04x}\\u{low:04x}"));
        }
    }
}

fn char_len(c: u32) -> usize {
    let mut out = String::new();
    write_char(c, &mut out);
    out.len()
}

/// Python's `int` refuses to read more digits than this
/// (`sys.get_int_max_str_digits()`, Python 3.11 and later).
const INT_MAX_STR_DIGITS: usize = 4300;

/// Reads JSON as `json.loads` does and writes it as `json.dumps` does.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    spelled_as_python: bool,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        (self.next()? == b).then_some(())
    }

    fn value(&mut self, out: &mut String) -> Option<()> {
        self.skip_whitespace();
        match self.peek()? {
            b'{' => self.object(out),
            b'[' => self.array(out),
            b'"' => {
                let chars = self.string()?;
                write_str(&chars, out);
                Some(())
            }
            b'-' | b'0'..=b'9' => self.number(out),
            _ => {
                for literal in ["true", "false", "null"] {
                    if self.bytes[self.at..].starts_with(literal.as_bytes()) {
                        self.at += literal.len();
                        out.push_str(literal);
                        return Some(());
                    }
                }
                None
            }
        }
    }

    /// A dict: one entry per key, where the key first came, with the value
    /// it last had.
    fn object(&mut self, out: &mut String) -> Option<()> {
        self.expect(b'{')?;
        let mut entries: Vec<(Vec<u32>, String)> = Vec::new();
        let mut index: HashMap<Vec<u32>, usize> = HashMap::new();
        self.skip_whitespace();
        if self.peek()? == b'}' {
            self.at += 1;
        } else {
            loop {
                self.skip_whitespace();
                let key = self.string()?;
                self.skip_whitespace();
                self.expect(b':')?;
                let mut value = String::new();
                self.value(&mut value)?;
                match index.get(&key) {
                    Some(&i) => {
                        entries[i].1 = value;
                        self.spelled_as_python = false;
                    }
                    None => {
                        index.insert(key.clone(), entries.len());
                        entries.push((key, value));
                    }
                }
                self.skip_whitespace();
                match self.next()? {
                    b',' => {}
                    b'}' => break,
                    _ => return None,
                }
            }
        }
        out.push('{');
        for (i, (key, value)) in entries.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write_str(key, out);
            out.push_str(": ");
            out.push_str(value);
        }
        out.push('}');
        Some(())
    }

    fn array(&mut self, out: &mut String) -> Option<()> {
        self.expect(b'[')?;
        out.push('[');
        self.skip_whitespace();
        if self.peek()? == b']' {
            self.at += 1;
        } else {
            loop {
                self.value(out)?;
                self.skip_whitespace();
                match self.next()? {
                    b',' => out.push_str(", "),
                    b']' => break,
                    _ => return None,
                }
            }
        }
        out.push(']');
        Some(())
    }

    /// A string's code points. As Python's decoder does, `\uXXXX` escapes
    /// of a high and a low surrogate make one character; a lone surrogate
    /// stays one.
    fn string(&mut self) -> Option<Vec<u32>> {
        self.expect(b'"')?;
        let mut chars = Vec::new();
        loop {
            let b = self.next()?;
            match b {
                b'"' => return Some(chars),
                b'\\' => {
                    let (c, spelled) = match self.next()? {
                        b'"' => (0x22, 2),
                        b'\\' => (0x5c, 2),
                        b'/' => (0x2f, 2),
                        b'b' => (0x08, 2),
                        b'f' => (0x0c, 2),
                        b'n' => (0x0a, 2),
                        b'r' => (0x0d, 2),
                        b't' => (0x09, 2),
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    };
                    if char_len(c) != spelled {
                        self.spelled_as_python = false;
                    }
                    chars.push(c);
                }
                0x00..=0x1f => return None,
                0x20..=0x7f => chars.push(u32::from(b)),
                _ => {
                    let start = self.at - 1;
                    let len = match b {
                        0xc0..=0xdf => 2,
                        0xe0..=0xef => 3,
                        _ => 4,
                    };
                    let text = std::str::from_utf8(self.bytes.get(start..start + len)?).ok()?;
                    chars.push(u32::from(text.chars().next()?));
                    self.at = start + len;
                }
            }
        }
    }

    /// After `\u`: the code point and how many bytes spell it.
    fn unicode_escape(&mut self) -> Option<(u32, usize)> {
        let high = self.hex4()?;
        if (0xd800..0xdc00).contains(&high) && self.bytes[self.at..].starts_with(b"\\u") {
            let back = self.at;
            self.at += 2;
            let low = self.hex4()?;
            if (0xdc00..0xe000).contains(&low) {
                return Some((0x1_0000 + ((high - 0xd800) << 10) + (low - 0xdc00), 12));
            }
            self.at = back;
        }
        Some((high, 6))
    }

    fn hex4(&mut self) -> Option<u32> {
        let hex = std::str::from_utf8(self.bytes.get(self.at..self.at + 4)?).ok()?;
        let c = u32::from_str_radix(hex, 16).ok()?;
        self.at += 4;
        Some(c)
    }

    /// An integer keeps its digits (`int`); anything with a fraction or an
    /// exponent is a float.
    fn number(&mut self, out: &mut String) -> Option<()> {
        let start = self.at;
        while matches!(
            self.peek(),
            Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
        ) {
            self.at += 1;
        }
        let token = std::str::from_utf8(&self.bytes[start..self.at]).ok()?;
        if token.contains(['.', 'e', 'E']) {
            out.push_str(&float_repr(token.parse().ok()?));
        } else {
            let digits = token.strip_prefix('-').unwrap_or(token);
            if digits.is_empty() || digits.len() > INT_MAX_STR_DIGITS {
                return None;
            }
            if digits.bytes().all(|d| d == b'0') {
                // `-0` is the integer 0.
                if token != "0" {
                    self.spelled_as_python = false;
                }
                out.push('0');
            } else {
                out.push_str(token);
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Python 3.11 writes: `json.dumps(json.loads(text))`.
    #[test]
    fn agrees_with_python() {
        for (text, python, spelled_as_python) in [
            (r#""\u0041""#, r#""A""#, false),
            (r#""\/""#, r#""/""#, false),
            (r#""\ud83d\ude00""#, r#""\ud83d\ude00""#, true),
            ("\"\u{1f600}\"", r#""\ud83d\ude00""#, true),
            (r#""\ud800""#, r#""\ud800""#, true),
            (r#""\ud800\u0041""#, r#""\ud800A""#, false),
            ("\"\x7f\"", r#""\u007f""#, true),
            ("\"é\"", r#""\u00e9""#, true),
            (r#""\u00E9""#, r#""\u00e9""#, true),
            (r#""\u000a\n\t""#, r#""\n\n\t""#, false),
            ("-0", "0", false),
            ("0", "0", true),
            ("1e400", "Infinity", true),
            ("-1e400", "-Infinity", true),
            ("1e-400", "0.0", true),
            ("-1e-400", "-0.0", true),
            ("1E5", "100000.0", true),
            ("1e16", "1e+16", true),
            ("1234567890123456.0", "1234567890123456.0", true),
            ("0.0001", "0.0001", true),
            ("0.00001", "1e-05", true),
            ("1.5e300", "1.5e+300", true),
            ("1e-7", "1e-07", true),
            ("2.5", "2.5", true),
            ("-0.0", "-0.0", true),
            ("1e20", "1e+20", true),
            ("100000000000000000001", "100000000000000000001", true),
            (r#"{"a": 1, "a": [2, 3]}"#, r#"{"a": [2, 3]}"#, false),
            (
                r#"{"b":1,"a":{"c":[1,2]}}"#,
                r#"{"b": 1, "a": {"c": [1, 2]}}"#,
                true,
            ),
            ("[ ]", "[]", true),
            ("{ }", "{}", true),
            ("[true,false,null]", "[true, false, null]", true),
        ] {
            let dumped = dumps(text).unwrap_or_else(|| panic!("{text} reads"));
            assert_eq!(dumped.json, python, "{text}");
            assert_eq!(dumped.spelled_as_python, spelled_as_python, "{text}");
        }
        assert!(dumps(&"1".repeat(INT_MAX_STR_DIGITS + 1)).is_none());
    }

    #[test]
    fn payload_writes_timestamps_as_floats() {
        let state = BTreeMap::from([
            ("é".to_owned(), "[1,\"x\"]".to_owned()),
            ("a".to_owned(), "{}".to_owned()),
        ]);
        let dumped = payload(1_700_000_000, 0, &state).unwrap();
        assert_eq!(
            dumped.json,
            r#"[1700000000.0, 0.0, {"a": {}, "\u00e9": [1, "x"]}]"#
        );
        assert!(dumped.spelled_as_python);
    }
}
