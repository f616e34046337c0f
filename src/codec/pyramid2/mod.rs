//! Pyramid 2's format, WebOb's `SignedSerializer` as Pyramid's
//! `SignedCookieSessionFactory` uses it ([`Format::pyramid2`](crate::Format::pyramid2)
//! has its bytes), and [`python_json`]: how long Pyramid's JSON for a
//! session is, which its size limit counts.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};

use super::{BASE64URL, KeyRing, WireFormat, push_base64};
use crate::{error::DecodeError, format::HashAlg};

pub(crate) mod python_json;

/// Pyramid 2's format, its secrets keyed as `salt || secret` for the
/// configured hash.
#[derive(Clone)]
pub(crate) enum Pyramid2 {
    Sha1(KeyRing<Hmac<Sha1>>),
    Sha256(KeyRing<Hmac<Sha256>>),
    Sha384(KeyRing<Hmac<Sha384>>),
    Sha512(KeyRing<Hmac<Sha512>>),
}

impl Pyramid2 {
    pub(crate) fn new<'s>(
        hashalg: HashAlg,
        salt: &[u8],
        primary: &[u8],
        fallbacks: impl IntoIterator<Item = &'s [u8]>,
    ) -> Self {
        match hashalg {
            HashAlg::Sha1 => Self::Sha1(KeyRing::new(salt, primary, fallbacks)),
            HashAlg::Sha256 => Self::Sha256(KeyRing::new(salt, primary, fallbacks)),
            HashAlg::Sha384 => Self::Sha384(KeyRing::new(salt, primary, fallbacks)),
            HashAlg::Sha512 => Self::Sha512(KeyRing::new(salt, primary, fallbacks)),
        }
    }

    fn digest_len(&self) -> usize {
        match self {
            Self::Sha1(_) => HashAlg::Sha1.digest_len(),
            Self::Sha256(_) => HashAlg::Sha256.digest_len(),
            Self::Sha384(_) => HashAlg::Sha384.digest_len(),
            Self::Sha512(_) => HashAlg::Sha512.digest_len(),
        }
    }
}

impl WireFormat for Pyramid2 {
    fn open(&self, value: &str, _cookie_name: &str) -> Result<(Vec<u8>, usize), DecodeError> {
        let decoded = BASE64URL
            .decode(value)
            .map_err(|_| DecodeError::InvalidBase64)?;
        match self {
            Self::Sha1(keys) => verify(decoded, keys),
            Self::Sha256(keys) => verify(decoded, keys),
            Self::Sha384(keys) => verify(decoded, keys),
            Self::Sha512(keys) => verify(decoded, keys),
        }
    }

    fn seal_into(&self, payload: &[u8], _cookie_name: &str, out: &mut Vec<u8>) {
        match self {
            Self::Sha1(keys) => sign_into(keys.primary(), payload, out),
            Self::Sha256(keys) => sign_into(keys.primary(), payload, out),
            Self::Sha384(keys) => sign_into(keys.primary(), payload, out),
            Self::Sha512(keys) => sign_into(keys.primary(), payload, out),
        }
    }

    /// The longer of this value and the value Pyramid would write for the
    /// same session (Python's JSON is longer), so that either side can
    /// write back what the other wrote.
    fn value_len(&self, payload: &[u8]) -> usize {
        let python = python_json::python_len(payload);
        signed_len(self.digest_len(), payload.len().max(python))
    }
}

/// Length of a value whose payload is `payload_len` bytes.
const fn signed_len(digest_len: usize, payload_len: usize) -> usize {
    ((digest_len + payload_len) * 4).div_ceil(3)
}

fn sign_into<M: Mac + Clone>(mac: &M, payload: &[u8], out: &mut Vec<u8>) {
    let tag = mac.clone().chain_update(payload).finalize().into_bytes();
    let mut signed = Vec::with_capacity(tag.len() + payload.len());
    signed.extend_from_slice(&tag);
    signed.extend_from_slice(payload);
    out.reserve(signed_len(tag.len(), payload.len()));
    push_base64(&BASE64URL, &signed, out);
}

/// Checks the leading signature of `decoded` against each key in order.
fn verify<M: Mac + Clone>(
    mut decoded: Vec<u8>,
    keys: &KeyRing<M>,
) -> Result<(Vec<u8>, usize), DecodeError> {
    let digest_len = <M as hmac::digest::OutputSizeUser>::output_size();
    let (tag, payload) = decoded
        .split_at_checked(digest_len)
        .ok_or(DecodeError::TooShort)?;
    let index = keys
        .iter()
        .position(|mac| mac.clone().chain_update(payload).verify_slice(tag).is_ok())
        .ok_or(DecodeError::BadSignature)?;
    decoded.drain(..digest_len);
    Ok((decoded, index))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::seal_to_string;

    fn keys(hashalg: HashAlg, secret: &[u8]) -> Pyramid2 {
        Pyramid2::new(hashalg, b"pyramid.session.", secret, [])
    }

    #[test]
    fn value_is_unpadded_urlsafe_base64_of_salted_hmac_then_json() {
        // RFC 4231 test case 2 (key "Jefe"), split as salt "Je" + secret "fe".
        let keys = Pyramid2::new(HashAlg::Sha256, b"Je", b"fe", []);
        let out = seal_to_string(&keys, b"what do ya want for nothing?", "session");
        let raw = BASE64URL.decode(&out).unwrap();
        let hex: String = raw[..32].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(&raw[32..], b"what do ya want for nothing?");
        assert!(!out.contains(['=', '+', '/']), "{out}");
        assert_eq!(out.len(), signed_len(32, 28));
    }

    #[test]
    fn every_hash_round_trips_and_padding_is_optional() {
        for hashalg in [
            HashAlg::Sha1,
            HashAlg::Sha256,
            HashAlg::Sha384,
            HashAlg::Sha512,
        ] {
            let k = keys(hashalg, &[9; 32]);
            assert_eq!(k.digest_len(), hashalg.digest_len());
            for payload in [&b"[1,2,{}]"[..], b"[1,2,{\"a\":1}]", b"[1,2,{\"ab\":1}]"] {
                let out = seal_to_string(&k, payload, "session");
                assert_eq!(out.len(), signed_len(hashalg.digest_len(), payload.len()));
                let padded = format!("{out}{}", "=".repeat((4 - out.len() % 4) % 4));
                for v in [&out, &padded] {
                    assert_eq!(
                        k.open(v, "session"),
                        Ok((payload.to_vec(), 0)),
                        "{hashalg:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_salt_and_the_hash_are_part_of_the_key() {
        let out = seal_to_string(&keys(HashAlg::Sha512, &[9; 32]), b"[]", "session");
        let other_salt = Pyramid2::new(HashAlg::Sha512, b"other.", &[9; 32], []);
        assert_eq!(
            other_salt.open(&out, "session"),
            Err(DecodeError::BadSignature)
        );
        let other_hash = keys(HashAlg::Sha384, &[9; 32]);
        assert_eq!(
            other_hash.open(&out, "session"),
            Err(DecodeError::BadSignature)
        );
    }

    #[test]
    fn fallbacks_are_tried_in_order() {
        let out = seal_to_string(&keys(HashAlg::Sha256, b"old"), b"{}", "session");
        let k = Pyramid2::new(
            HashAlg::Sha256,
            b"pyramid.session.",
            b"new",
            [&b"older"[..], b"old"],
        );
        assert_eq!(k.open(&out, "session"), Ok((b"{}".to_vec(), 2)));
    }

    #[test]
    fn refusals_say_why() {
        let k = keys(HashAlg::Sha512, b"k");
        assert_eq!(k.open("!!", "session"), Err(DecodeError::InvalidBase64));
        // Standard-alphabet characters are not URL-safe base64.
        assert_eq!(k.open("ab+/", "session"), Err(DecodeError::InvalidBase64));
        assert_eq!(k.open("", "session"), Err(DecodeError::TooShort));
        let short = BASE64URL.encode([0u8; 63]);
        assert_eq!(k.open(&short, "session"), Err(DecodeError::TooShort));
        let forged = BASE64URL.encode([0u8; 70]);
        assert_eq!(k.open(&forged, "session"), Err(DecodeError::BadSignature));
    }
}
