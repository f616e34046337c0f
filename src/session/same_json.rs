//! When two JSON texts hold the same value: what decides whether an
//! `insert` or a flash is a change.

use std::{borrow::Cow, collections::BTreeMap};

use serde::Deserialize;
use serde_json::value::RawValue;

/// Whether two JSON texts hold the same value: equal text, or equal once
/// read (values read from a cookie keep their text, which Python's
/// `json.dumps` writes with spaces). Numbers are equal only when exactly
/// equal: two integers beyond 64 bits that round to one float differ, as
/// they do in Python. Anything that does not parse differs, which at worst
/// writes a cookie that was not needed.
pub(super) fn same_json(a: &str, b: &str) -> bool {
    a == b || same_value(a.trim(), b.trim())
}

/// [`same_json`] of two values without surrounding whitespace, compared
/// level by level on their text, so that no number passes through `f64`
/// unless it is written as a float.
fn same_value(a: &str, b: &str) -> bool {
    match (a.as_bytes().first(), b.as_bytes().first()) {
        (Some(b'{'), Some(b'{')) => both_parse(a, b, |a: BTreeMap<Cow<'_, str>, &RawValue>, b| {
            a.len() == b.len()
                && a.iter()
                    .zip(&b)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_json(va.get(), vb.get()))
        }),
        (Some(b'['), Some(b'[')) => both_parse(a, b, |a: Vec<&RawValue>, b| {
            a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| same_json(x.get(), y.get()))
        }),
        (Some(b'"'), Some(b'"')) => both_parse(a, b, |a: Cow<'_, str>, b| a == b),
        (Some(x), Some(y)) if is_number_start(*x) && is_number_start(*y) => same_number(a, b),
        // `true`, `false`, `null`, or values of different kinds.
        _ => a == b,
    }
}

/// `same(a, b)` of both texts parsed as `T`; false if either does not parse.
fn both_parse<'a, T: Deserialize<'a>>(
    a: &'a str,
    b: &'a str,
    same: impl FnOnce(T, T) -> bool,
) -> bool {
    match (serde_json::from_str::<T>(a), serde_json::from_str::<T>(b)) {
        (Ok(a), Ok(b)) => same(a, b),
        _ => false,
    }
}

fn is_number_start(b: u8) -> bool {
    b == b'-' || b.is_ascii_digit()
}

/// Two JSON numbers: integers (no fraction, no exponent) are equal when
/// their digits are, whatever their size (`-0` is `0`); numbers written
/// as floats are read as `f64`, as every reader of them does; an integer
/// never equals a float (`1` and `1.0` read back as different types).
fn same_number(a: &str, b: &str) -> bool {
    let is_float = |n: &str| n.contains(['.', 'e', 'E']);
    match (is_float(a), is_float(b)) {
        (false, false) => {
            a == b || (a.trim_start_matches('-') == "0" && b.trim_start_matches('-') == "0")
        }
        (true, true) => matches!(
            (a.parse::<f64>(), b.parse::<f64>()),
            (Ok(x), Ok(y)) if x == y && x.is_finite()
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_json_compares_values_not_text() {
        for (a, b, same) in [
            ("1", "1", true),
            ("41", "42", false),
            ("1", " 1", true),
            ("1", "1.0", false),
            ("1e2", "100.0", true),
            ("-0", "0", true),
            ("-0.0", "0", false),
            ("12345678901234567890", "12345678901234567891", false),
            // Beyond 64 bits, integers that one `f64` holds are still different.
            ("100000000000000000000", "100000000000000000001", false),
            (
                "340282366920938463463374607431768211455",
                "340282366920938463463374607431768211454",
                false,
            ),
            (
                "-170141183460469231731687303715884105728",
                "-170141183460469231731687303715884105728",
                true,
            ),
            ("[100000000000000000000]", "[100000000000000000001]", false),
            (
                r#"{"n": 100000000000000000000}"#,
                r#"{"n":100000000000000000001}"#,
                false,
            ),
            ("1e400", "1e400", true),
            ("1e400", "2e400", false),
            ("\"a\"", "\"b\"", false),
            ("\"\\u0061\"", "\"a\"", true),
            ("\"é\"", "\"\\u00e9\"", true),
            ("\"1\"", "1", false),
            ("[1, 2]", "[1,2]", true),
            ("[1, 2]", "[1,2,3]", false),
            ("[]", "{}", false),
            (r#"{"a": 1, "b": 2}"#, r#"{"b":2,"a":1}"#, true),
            (r#"{"a": 1, "a": 2}"#, r#"{"a":2}"#, true),
            (r#"{"a": 1}"#, r#"{"a":1,"b":1}"#, false),
            (
                r#"{"a\u0062": [1, {"c": null}]}"#,
                r#"{"ab":[1,{"c":null}]}"#,
                true,
            ),
            ("null", "false", false),
            ("null", "null", true),
            ("true", "true ", true),
        ] {
            assert_eq!(same_json(a, b), same, "{a} {b}");
            assert_eq!(same_json(b, a), same, "{b} {a}");
        }
    }
}
