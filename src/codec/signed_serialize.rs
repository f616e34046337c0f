//! The default format, Pyramid's `signed_serialize` with JSON
//! ([`Format::signed_serialize`](crate::Format::signed_serialize) has its
//! bytes), and the free functions that make and read its values by hand.

use base64::{
    Engine as _,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use hmac::{Hmac, Mac};
use serde::{Serialize, de::DeserializeOwned};
use sha1::Sha1;

use super::{KeyRing, WireFormat, ascii_string, push_base64};
use crate::error::DecodeError;

type HmacSha1 = Hmac<Sha1>;

/// Length of the hex signature that opens every value.
const SIGNATURE_HEX_LEN: usize = 40;

/// Standard alphabet; writes padding, reads it or its absence.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The default format, keyed.
#[derive(Clone)]
pub(crate) struct SignedSerialize(KeyRing<HmacSha1>);

impl SignedSerialize {
    pub(crate) fn new<'s>(primary: &[u8], fallbacks: impl IntoIterator<Item = &'s [u8]>) -> Self {
        Self(KeyRing::new(b"", primary, fallbacks))
    }
}

impl WireFormat for SignedSerialize {
    fn open(&self, value: &str, _cookie_name: &str) -> Result<(Vec<u8>, usize), DecodeError> {
        verify(value, self.0.iter())
    }

    fn seal_into(&self, payload: &[u8], _cookie_name: &str, out: &mut Vec<u8>) {
        sign_into(self.0.primary(), payload, out);
    }

    fn value_len(&self, payload: &[u8]) -> usize {
        signed_len(payload.len())
    }
}

/// A MAC keyed once with `secret`.
fn keyed(secret: &[u8]) -> HmacSha1 {
    KeyRing::<HmacSha1>::new(b"", secret, []).primary
}

/// Length of a signed value whose payload is `payload_len` bytes.
const fn signed_len(payload_len: usize) -> usize {
    SIGNATURE_HEX_LEN + payload_len.div_ceil(3) * 4
}

/// Appends `hex(mac(payload)) || base64(payload)` to `out`.
fn sign_into(mac: &HmacSha1, payload: &[u8], out: &mut Vec<u8>) {
    let mut mac = mac.clone();
    mac.update(payload);
    out.reserve(signed_len(payload.len()));
    push_hex(&mac.finalize().into_bytes(), out);
    push_base64(&BASE64, payload, out);
}

/// `hex(mac(payload)) || base64(payload)`.
fn sign(mac: &HmacSha1, payload: &[u8]) -> String {
    let mut out = Vec::new();
    sign_into(mac, payload, &mut out);
    ascii_string(&out)
}

/// Appends `bytes` as lowercase hexadecimal.
pub(crate) fn push_hex(bytes: &[u8], out: &mut Vec<u8>) {
    let digit = |n: u8| if n < 10 { b'0' + n } else { b'a' + n - 10 };
    // A chunk at a time through a buffer: a `push` per digit costs more
    // than the digits.
    let mut buffer = [0u8; 64];
    for chunk in bytes.chunks(buffer.len() / 2) {
        for (pair, byte) in buffer.chunks_exact_mut(2).zip(chunk) {
            pair.copy_from_slice(&[digit(byte >> 4), digit(byte & 0x0f)]);
        }
        out.extend_from_slice(buffer.get(..2 * chunk.len()).unwrap_or_default());
    }
}

/// Verifies `value` against each MAC in order; returns the payload and the
/// index of the MAC that verified it.
fn verify<'k>(
    value: &str,
    macs: impl IntoIterator<Item = &'k HmacSha1>,
) -> Result<(Vec<u8>, usize), DecodeError> {
    if value.len() < SIGNATURE_HEX_LEN {
        return Err(DecodeError::TooShort);
    }
    // Not a char boundary means a non-ASCII byte inside the signature.
    let (sig_hex, encoded) = value
        .split_at_checked(SIGNATURE_HEX_LEN)
        .ok_or(DecodeError::InvalidHex)?;
    let mut sig = [0u8; SIGNATURE_HEX_LEN / 2];
    for (out, pair) in sig.iter_mut().zip(sig_hex.as_bytes().chunks_exact(2)) {
        let [hi, lo] = pair else {
            return Err(DecodeError::InvalidHex);
        };
        *out = (hex_digit(*hi)? << 4) | hex_digit(*lo)?;
    }
    let payload = BASE64
        .decode(encoded)
        .map_err(|_| DecodeError::InvalidBase64)?;
    for (index, mac) in macs.into_iter().enumerate() {
        let mut mac = mac.clone();
        mac.update(&payload);
        if mac.verify_slice(&sig).is_ok() {
            return Ok((payload, index));
        }
    }
    Err(DecodeError::BadSignature)
}

fn hex_digit(c: u8) -> Result<u8, DecodeError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(DecodeError::InvalidHex),
    }
}

/// Serializes `data` as JSON and signs it with `secret`, as Pyramid's
/// `signed_serialize` does (with JSON in place of pickle): the bytes of
/// [`Format::signed_serialize`](crate::Format::signed_serialize), for any
/// JSON, not only a session's payload.
///
/// The session layer signs its cookies this way; use this function to make
/// or inspect values by hand, e.g. in tests.
///
/// # Errors
///
/// serde_json's error when `data` cannot be represented as JSON (a map
/// with keys that are not strings, say).
///
/// # Examples
///
/// ```
/// use tower_cookie_session::{signed_deserialize, signed_serialize};
///
/// let value = signed_serialize(&serde_json::json!({"a": 1}), b"secret")?;
/// assert_eq!(&value[40..], "eyJhIjoxfQ==");
/// let back: serde_json::Value = signed_deserialize(&value, b"secret")?;
/// assert_eq!(back["a"], 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn signed_serialize<T: Serialize + ?Sized>(
    data: &T,
    secret: impl AsRef<[u8]>,
) -> Result<String, serde_json::Error> {
    let payload = serde_json::to_vec(data)?;
    Ok(sign(&keyed(secret.as_ref()), &payload))
}

/// Verifies a value made by [`signed_serialize`] and deserializes it.
///
/// The signature is checked in constant time before the payload is parsed.
/// Base64 with or without padding is accepted.
///
/// # Errors
///
/// A [`DecodeError`] saying why the value was refused: too short, bad hex,
/// bad base64, a signature that does not match, or JSON that does not fit
/// `T`.
///
/// # Examples
///
/// ```
/// use tower_cookie_session::{signed_deserialize, signed_serialize, DecodeError};
///
/// let value = signed_serialize(&[1, 2, 3], b"secret")?;
/// let v: Vec<u8> = signed_deserialize(&value, b"secret")?;
/// assert_eq!(v, [1, 2, 3]);
/// assert_eq!(
///     signed_deserialize::<Vec<u8>>(&value, b"other secret"),
///     Err(DecodeError::BadSignature),
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn signed_deserialize<T: DeserializeOwned>(
    value: &str,
    secret: impl AsRef<[u8]>,
) -> Result<T, DecodeError> {
    let (payload, _) = verify(value, [&keyed(secret.as_ref())])?;
    serde_json::from_slice(&payload).map_err(|_| DecodeError::InvalidJson)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha1_hex_of_the_json() {
        // RFC 2202 test case 2: HMAC-SHA1("Jefe", "what do ya want for nothing?").
        let out = sign(&keyed(b"Jefe"), b"what do ya want for nothing?");
        assert_eq!(&out[..40], "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        assert_eq!(&out[40..], "d2hhdCBkbyB5YSB3YW50IGZvciBub3RoaW5nPw==");
        assert_eq!(out.len(), signed_len(28));
    }

    #[test]
    fn unpadded_and_uppercase_signatures_verify() {
        let out = sign(&keyed(b"k"), b"[1]");
        assert!(!out.ends_with('='), "3 bytes need no padding");
        let out = sign(&keyed(b"k"), b"[12]");
        let unpadded = out.trim_end_matches('=').to_owned();
        let upper = format!("{}{}", out[..40].to_uppercase(), &out[40..]);
        for v in [&out, &unpadded, &upper] {
            assert_eq!(verify(v, [&keyed(b"k")]), Ok((b"[12]".to_vec(), 0)));
        }
    }

    #[test]
    fn later_keys_are_tried_in_order() {
        let out = sign(&keyed(b"old"), b"{}");
        let keys = [keyed(b"new"), keyed(b"older"), keyed(b"old")];
        assert_eq!(verify(&out, &keys).map(|(_, i)| i), Ok(2));
    }

    #[test]
    fn refusals_say_why() {
        let good = sign(&keyed(b"k"), b"{}");
        let k = [keyed(b"k")];
        assert_eq!(verify("", &k), Err(DecodeError::TooShort));
        assert_eq!(verify(&good[..39], &k), Err(DecodeError::TooShort));
        assert_eq!(
            verify(&format!("g{}", &good[1..]), &k),
            Err(DecodeError::InvalidHex)
        );
        assert_eq!(
            verify(&format!("{}!!", &good[..40]), &k),
            Err(DecodeError::InvalidBase64)
        );
        let flipped = format!(
            "{}{}",
            if good.starts_with('0') { "1" } else { "0" },
            &good[1..]
        );
        assert_eq!(verify(&flipped, &k), Err(DecodeError::BadSignature));
        // Multi-byte UTF-8 straddling the signature boundary is refused, not split.
        assert_eq!(
            verify(&format!("{}é{}", &good[..39], &good[40..]), &k),
            Err(DecodeError::InvalidHex)
        );
    }
}
