#!/usr/bin/env python3
"""Writes sealed.json, the fixed vectors that pin tower-cookie-session's
"sealed" cookie format (feature `sealed`), and opens sealed values.

This implementation shares no code with the Rust crate. The AEAD is
libsodium's, through PyNaCl (the Rust side uses RustCrypto's
`chacha20poly1305`); HKDF is written here from RFC 5869 on `hmac` and
`hashlib`:

    value = base64url_nopad(0x01 || nonce || ciphertext_and_tag)
    key   = HKDF-SHA256(ikm = secret, salt = none, info = "tower-cookie-session/sealed/v1"), 32 bytes
    nonce = 24 random bytes, fresh for every write (fixed here, for the vectors)
    ciphertext_and_tag = XChaCha20-Poly1305(key, nonce, plaintext = payload, aad = 0x01 || cookie name)
    payload = UTF-8 JSON [accessed, created, {state}]

Needs PyNaCl (tests/vectors/requirements-sealed.txt):

    python3 -m venv venv && venv/bin/pip install -r tests/vectors/requirements-sealed.txt
    venv/bin/python tests/vectors/make_sealed_vectors.py            # rewrite sealed.json
    venv/bin/python tests/vectors/make_sealed_vectors.py --check    # fail if it differs
    venv/bin/python tests/vectors/make_sealed_vectors.py --open NAME SECRET_HEX [FALLBACK_HEX...]

Deterministic (fixed secrets, nonces and timestamps), so running it again
writes the identical file. Before writing, it opens every vector with the
opener below and checks each refusal is refused for its stated reason.

`--open` reads one cookie value per line on stdin and prints one JSON
object per line: {"key": INDEX, "payload": TEXT} when the value opens with
the secret (INDEX 0) or a fallback (INDEX 1, 2, ...) and the payload is a
session's [number, number, object], else {"error": VARIANT}, where VARIANT
names the Rust `DecodeError` the crate gives for it. Its exit status is 0
either way.
"""

import base64
import hashlib
import hmac
import json
import math
import os
import re
import sys

try:
    from nacl.bindings import (
        crypto_aead_xchacha20poly1305_ietf_ABYTES,
        crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
        crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
        crypto_aead_xchacha20poly1305_ietf_decrypt,
        crypto_aead_xchacha20poly1305_ietf_encrypt,
    )
    from nacl.exceptions import CryptoError
except ImportError:
    sys.exit(
        "PyNaCl is missing: python3 -m venv VENV && "
        "VENV/bin/pip install -r tests/vectors/requirements-sealed.txt, "
        "then run this script with VENV/bin/python"
    )

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sealed.json")

VERSION = 0x01
INFO = b"tower-cookie-session/sealed/v1"
KEY_LEN = 32
NONCE_LEN = 24
TAG_LEN = 16
HEADER_LEN = 1 + NONCE_LEN
# The layer never writes a longer value (Pyramid's limit).
MAX_COOKIE_VALUE_LEN = 4064
# The largest timestamp the crate accepts (year 9999).
MAX_TIMESTAMP = 253402300799.0

assert crypto_aead_xchacha20poly1305_ietf_KEYBYTES == KEY_LEN
assert crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == NONCE_LEN
assert crypto_aead_xchacha20poly1305_ietf_ABYTES == TAG_LEN

# Session secrets are at least 32 bytes (SessionLayer refuses less).
SECRET = b"tower-cookie-session sealed vectors, secret #1"
OTHER_SECRET = b"tower-cookie-session sealed vectors, secret #2"
OLD_SECRET = b"tower-cookie-session sealed vectors, an old one"
# Longer than SHA-256's 64-byte block: HMAC hashes such keys first.
LONG_SECRET = bytes(range(100))

# Fixed Unix times: floats as Pyramid writes them (time.time()), integers
# as the Rust layer writes them.
ACCESSED = 1700000000.5
CREATED = 1699990000.25
ACCESSED_INT = 1700000000
CREATED_INT = 1699990000


# ---------------------------------------------------------------------------
# The format.


def hkdf_sha256(ikm, info, length, salt=None):
    """RFC 5869. Without a salt, the salt is HashLen zero bytes (section 2.2)."""
    hash_len = hashlib.sha256().digest_size
    if salt is None:
        salt = bytes(hash_len)
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, block = b"", b""
    for counter in range(1, -(-length // hash_len) + 1):
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
    return okm[:length]


# RFC 5869 appendix A.3: SHA-256 with neither salt nor info, the case
# "salt = none" relies on.
assert hkdf_sha256(bytes([0x0B] * 22), b"", 42).hex() == (
    "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
)
# RFC 5869 appendix A.1: with a salt and info.
assert hkdf_sha256(
    bytes([0x0B] * 22), bytes(range(0xF0, 0xFA)), 42, salt=bytes(range(13))
).hex() == (
    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
)


def derive_key(secret):
    return hkdf_sha256(secret, INFO, KEY_LEN)


def aad(cookie_name, version=VERSION):
    return bytes([version]) + cookie_name.encode("utf-8")


def b64url_nopad(raw):
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def seal_raw(key, nonce, plaintext, associated_data, version=VERSION):
    """0x01 || nonce || ciphertext_and_tag, before base64."""
    assert len(nonce) == NONCE_LEN
    sealed = crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, associated_data, nonce, key)
    return bytes([version]) + nonce + sealed


def seal(secret, nonce, payload, cookie_name):
    key = derive_key(secret)
    return b64url_nopad(seal_raw(key, nonce, payload, aad(cookie_name)))


class Refused(Exception):
    """A value refused; `args[0]` names the Rust DecodeError variant."""

    @property
    def variant(self):
        return self.args[0]


B64URL_PADDED_OR_NOT = re.compile(r"\A[A-Za-z0-9_-]*=*\Z")


def b64url_decode(value):
    """URL-safe base64, with or without padding, as the Rust crate reads it
    (the `base64` crate's DecodePaddingMode::Indifferent): no more padding
    than the length needs (fewer is fine), and the unused bits of the last
    character are zero."""
    if not B64URL_PADDED_OR_NOT.match(value):
        raise Refused("InvalidBase64")
    data = value.rstrip("=")
    if len(data) % 4 == 1:
        raise Refused("InvalidBase64")
    padding = -len(data) % 4
    if len(value) - len(data) > padding:
        raise Refused("InvalidBase64")
    raw = base64.urlsafe_b64decode(data + "=" * padding)
    if b64url_nopad(raw) != data:
        raise Refused("InvalidBase64")
    return raw


def open_value(value, cookie_name, secrets):
    """The payload bytes and the index of the secret that opened `value`."""
    raw = b64url_decode(value)
    if not raw:
        raise Refused("TooShort")
    # The version first: a later version may be laid out differently.
    if raw[0] != VERSION:
        raise Refused("UnknownVersion")
    if len(raw) < HEADER_LEN + TAG_LEN:
        raise Refused("TooShort")
    nonce, sealed = raw[1:HEADER_LEN], raw[HEADER_LEN:]
    for index, secret in enumerate(secrets):
        try:
            payload = crypto_aead_xchacha20poly1305_ietf_decrypt(
                sealed, aad(cookie_name), nonce, derive_key(secret)
            )
        except CryptoError:
            continue
        return payload, index
    raise Refused("BadSignature")


def _refuse_constant(name):
    raise ValueError(name)


def check_payload(payload):
    """`payload` parsed, if it is a session's [accessed, created, {state}]."""
    try:
        data = json.loads(payload.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError):
        raise Refused("InvalidJson")

    def timestamp(t):
        return (
            isinstance(t, (int, float))
            and not isinstance(t, bool)
            and math.isfinite(t)
            and 0 <= t <= MAX_TIMESTAMP
        )

    if not (
        isinstance(data, list)
        and len(data) == 3
        and timestamp(data[0])
        and timestamp(data[1])
        and isinstance(data[2], dict)
    ):
        raise Refused("WrongShape")
    return data


def open_session(value, cookie_name, secrets):
    payload, index = open_value(value, cookie_name, secrets)
    check_payload(payload)
    return payload, index


# ---------------------------------------------------------------------------
# The vectors.


def fixed_nonce(label):
    """A nonce that looks random but is the same every run."""
    digest = hashlib.sha256(b"tower-cookie-session sealed vector nonce: " + label.encode())
    return digest.digest()[:NONCE_LEN]


def pyramid_json(accessed, created, state):
    """What Pyramid's JSON serializer writes: json.dumps's defaults."""
    return json.dumps([accessed, created, state])


def rust_json(accessed, created, state):
    """What the Rust layer writes: compact, keys sorted, non-ASCII as UTF-8."""
    return json.dumps(
        [accessed, created, state], separators=(",", ":"), ensure_ascii=False, sort_keys=True
    )


def sealed_vector(name, payload, state, accessed, created, cookie_name="session",
                  secrets=(SECRET,), sealed_with=0, also_accepted=()):
    nonce = fixed_nonce(name)
    value = seal(secrets[sealed_with], nonce, payload.encode("utf-8"), cookie_name)
    vector = {
        "name": name,
        "cookie_name": cookie_name,
        "secrets_hex": [s.hex() for s in secrets],
        "sealed_with": sealed_with,
        "nonce_hex": nonce.hex(),
        "payload": payload,
        "value": value,
        "accessed": accessed,
        "created": created,
        "state": state,
    }
    accepted = [spell(value) for spell in also_accepted]
    if accepted:
        vector["also_accepted"] = accepted
    return vector


def padded(value):
    return value + "=" * (-len(value) % 4)


def large_state(payload_len):
    """A state whose Rust-style payload is exactly `payload_len` bytes."""
    state = {"blob": "", "user": "ada"}
    state["blob"] = "x" * (payload_len - len(rust_json(ACCESSED_INT, CREATED_INT, state)))
    assert len(rust_json(ACCESSED_INT, CREATED_INT, state)) == payload_len
    return state


def largest_payload_len():
    """The longest payload whose sealed value still fits the limit."""
    raw = MAX_COOKIE_VALUE_LEN * 3 // 4
    return raw - HEADER_LEN - TAG_LEN


def sealed_vectors():
    vectors = []

    def add(name, state, style, **kwargs):
        if style == "rust":
            accessed, created = ACCESSED_INT, CREATED_INT
            payload = rust_json(accessed, created, state)
        else:
            accessed, created = ACCESSED, CREATED
            payload = pyramid_json(accessed, created, state)
        vectors.append(sealed_vector(name, payload, state, accessed, created, **kwargs))

    add("ascii", {"count": 3, "user": "ada"}, "rust")
    add("empty_state", {}, "rust")
    add(
        "unicode_utf8",
        {"caf\u00e9": "Z\u00fcrich \u65e5\u672c", "crab": "\U0001f980", "name": "Zo\u00eb"},
        "rust",
    )
    add(
        "unicode_escaped_by_python",
        {"name": "Zo\u00eb", "caf\u00e9": "Z\u00fcrich \u65e5\u672c", "crab": "\U0001f980",
         "quote": 'say "hi"\n'},
        "pyramid",
    )
    add(
        "nested_json",
        {
            "_csrft_": hashlib.sha1(b"a fixed csrf token").hexdigest(),
            "_f_": ["Saved."],
            "cart": [{"qty": 2, "sku": "A1"}, {"qty": 1, "sku": "B7", "tags": ["gift"]}],
            "prefs": {"langs": ["fr", "en"], "theme": {"dark": True, "contrast": None}},
            "ratio": 0.25,
            "big": 9007199254740993,
        },
        "rust",
    )
    add("float_timestamps_as_pyramid_writes", {"user": "ada", "count": 3}, "pyramid")
    add("largest_that_fits", large_state(largest_payload_len()), "rust")
    add("cookie_name_host_prefix", {"user": "ada"}, "rust", cookie_name="__Host-session")
    add("cookie_name_with_token_symbols", {"user": "ada"}, "rust",
        cookie_name="my.app!#$%&'*+-^_`|~1")
    add("secret_longer_than_a_block", {"user": "ada"}, "rust", secrets=(LONG_SECRET,))
    add(
        "sealed_with_a_fallback_secret",
        {"user": "ada"},
        "rust",
        secrets=(SECRET, OTHER_SECRET, OLD_SECRET),
        sealed_with=2,
    )
    # Padded, or padded with one '=' of the two the length needs.
    add("padding_is_optional", {"a": ""}, "rust",
        also_accepted=[padded, lambda value: padded(value)[:-1]])
    for vector in vectors:
        if vector["name"] == "padding_is_optional":
            assert vector["also_accepted"][0].endswith("=="), "pick a state that needs padding"
        if vector["name"] == "largest_that_fits":
            assert len(vector["value"]) == MAX_COOKIE_VALUE_LEN
    return vectors


def refusal(name, why, value, error, cookie_name="session", secrets=(SECRET,)):
    """A value the layer must refuse. `error` is the Rust DecodeError
    variant; InvalidJson and WrongShape are refused by the payload parser,
    after the value opened."""
    return {
        "name": name,
        "why": why,
        "cookie_name": cookie_name,
        "secrets_hex": [s.hex() for s in secrets],
        "value": value,
        "error": error,
        "opens": error in ("InvalidJson", "WrongShape"),
    }


def refusal_vectors():
    key = derive_key(SECRET)
    nonce = fixed_nonce("refusals")
    payload = rust_json(ACCESSED_INT, CREATED_INT, {"user": "ada"}).encode("utf-8")
    good_raw = seal_raw(key, nonce, payload, aad("session"))
    good = b64url_nopad(good_raw)
    # The value all refusals are made from must open; otherwise they prove nothing.
    assert open_session(good, "session", [SECRET]) == (payload, 0)

    def flip(raw, index):
        changed = bytearray(raw)
        changed[index] ^= 0x01
        return b64url_nopad(bytes(changed))

    # Every seal below has a nonce of its own, as real ones would: no two
    # vectors share a (key, nonce) pair.
    def sealed_but_refused(name, why, plaintext, error):
        """A value that opens; its payload is refused."""
        value = b64url_nopad(seal_raw(key, fixed_nonce(name), plaintext, aad("session")))
        return refusal(name, why, value, error)

    # A value with '-' or '_' in it, to spell with the standard alphabet.
    urlsafe = next(
        value
        for value in (
            b64url_nopad(seal_raw(key, fixed_nonce(f"urlsafe {i}"), payload, aad("session")))
            for i in range(100)
        )
        if "-" in value or "_" in value
    )
    # The last character carries unused bits when the length is not a
    # multiple of 3; setting one spells the same bytes another way.
    assert len(good_raw) % 3 != 0
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(good[-1])
    non_canonical = good[:-1] + alphabet[last | 1]
    assert non_canonical != good
    assert base64.urlsafe_b64decode(padded(non_canonical)) == good_raw

    # Two characters over a multiple of 4 need "==", three need "=".
    assert len(good) % 4 in (2, 3)
    too_much_padding = good + "=" * (4 - len(good) % 4 + 1)

    return [
        refusal("wrong_version_byte", "the version byte is 0x02; the rest is a good v1 value",
                b64url_nopad(bytes([0x02]) + good_raw[1:]), "UnknownVersion"),
        refusal("version_zero", "the version byte is 0x00",
                b64url_nopad(bytes([0x00]) + good_raw[1:]), "UnknownVersion"),
        refusal("future_version", "sealed as v1 is, but as version 2 (version byte and aad)",
                b64url_nopad(seal_raw(key, fixed_nonce("future_version"), payload,
                                      aad("session", 2), version=2)),
                "UnknownVersion"),
        refusal("flipped_tag_byte", "one bit of the last tag byte flipped",
                flip(good_raw, len(good_raw) - 1), "BadSignature"),
        refusal("flipped_nonce_byte", "one bit of the first nonce byte flipped",
                flip(good_raw, 1), "BadSignature"),
        refusal("flipped_ciphertext_byte", "one bit of the first ciphertext byte flipped",
                flip(good_raw, HEADER_LEN), "BadSignature"),
        refusal("other_cookie_name", "sealed for cookie `session`, presented as `other`",
                good, "BadSignature", cookie_name="other"),
        refusal("cookie_name_in_other_case", "sealed for `session`, presented as `Session`",
                good, "BadSignature", cookie_name="Session"),
        refusal("other_secret", "sealed with another secret",
                good, "BadSignature", secrets=(OTHER_SECRET,)),
        refusal("aad_without_version", "sealed with aad = cookie name alone",
                b64url_nopad(seal_raw(key, fixed_nonce("aad_without_version"), payload,
                                      b"session")), "BadSignature"),
        refusal("key_without_hkdf", "sealed with the secret's first 32 bytes as the key",
                b64url_nopad(seal_raw(SECRET[:KEY_LEN], fixed_nonce("key_without_hkdf"), payload,
                                      aad("session"))),
                "BadSignature"),
        refusal("truncated", "the last byte cut off", b64url_nopad(good_raw[:-1]), "BadSignature"),
        refusal("byte_appended", "a zero byte appended", b64url_nopad(good_raw + b"\x00"),
                "BadSignature"),
        refusal("shorter_than_version_nonce_and_tag", "40 bytes: version, nonce, 15 tag bytes",
                b64url_nopad(good_raw[:HEADER_LEN + TAG_LEN - 1]), "TooShort"),
        refusal("version_and_nonce_only", "no ciphertext, no tag",
                b64url_nopad(good_raw[:HEADER_LEN]), "TooShort"),
        refusal("version_byte_only", "one byte, 0x01", b64url_nopad(bytes([VERSION])), "TooShort"),
        refusal("empty", "no value at all", "", "TooShort"),
        refusal("forged_empty_ciphertext", "version, nonce and a zero tag, nothing sealed",
                b64url_nopad(good_raw[:HEADER_LEN] + bytes(TAG_LEN)), "BadSignature"),
        refusal("bad_base64_character", "a '!' in place of a character",
                "!" + good[1:], "InvalidBase64"),
        refusal("standard_alphabet", "'+' and '/' in place of '-' and '_'",
                urlsafe.replace("-", "+").replace("_", "/"), "InvalidBase64"),
        refusal("non_canonical_last_character", "the unused low bits of the last character set",
                non_canonical, "InvalidBase64"),
        refusal("too_much_padding", "one '=' more than the length needs",
                too_much_padding, "InvalidBase64"),
        refusal("padding_alone", "'=' where the length needs none",
                good[:len(good) // 4 * 4] + "=", "InvalidBase64"),
        refusal("padding_inside", "'==' in the middle",
                good[:20] + "==" + good[20:], "InvalidBase64"),
        refusal("whitespace", "a space in the middle",
                good[:20] + " " + good[20:], "InvalidBase64"),
        sealed_but_refused("empty_plaintext", "a good seal of zero bytes", b"", "InvalidJson"),
        sealed_but_refused("not_json", "a good seal of text that is not JSON", b"user=ada",
                           "InvalidJson"),
        sealed_but_refused("not_utf8", "a good seal of bytes that are not UTF-8",
                           b"\x80\x81\xfe\xff", "InvalidJson"),
        sealed_but_refused("wrong_shape_state_is_a_list",
                           "a good seal of [1700000000, 1699990000, []]",
                           b"[1700000000,1699990000,[]]", "WrongShape"),
        sealed_but_refused("wrong_shape_object", 'a good seal of {"user": "ada"}',
                           b'{"user":"ada"}', "WrongShape"),
        sealed_but_refused("wrong_shape_timestamp_out_of_range",
                           "a good seal of [1e300, 1699990000, {}]",
                           b"[1e300,1699990000,{}]", "WrongShape"),
    ]


def derived_keys(vectors):
    """Each secret used, with its HKDF key: pins the key derivation alone."""
    secrets = []
    for vector in vectors:
        for secret in vector["secrets_hex"]:
            if secret not in secrets:
                secrets.append(secret)
    return [
        {"secret_hex": s, "key_hex": derive_key(bytes.fromhex(s)).hex()} for s in secrets
    ]


def self_check(sealed, refusals):
    """Opens every vector with the opener above: the file says nothing it
    does not do."""
    for v in sealed:
        secrets = [bytes.fromhex(s) for s in v["secrets_hex"]]
        for value in [v["value"], *v.get("also_accepted", [])]:
            payload, index = open_session(value, v["cookie_name"], secrets)
            assert (payload.decode("utf-8"), index) == (v["payload"], v["sealed_with"]), v["name"]
        data = check_payload(payload)
        assert data == [v["accessed"], v["created"], v["state"]], v["name"]
        assert len(v["value"]) <= MAX_COOKIE_VALUE_LEN, v["name"]
    for r in refusals:
        secrets = [bytes.fromhex(s) for s in r["secrets_hex"]]
        try:
            payload, _ = open_value(r["value"], r["cookie_name"], secrets)
        except Refused as e:
            assert not r["opens"] and e.variant == r["error"], (r["name"], e.variant)
            continue
        assert r["opens"], r["name"]
        try:
            check_payload(payload)
        except Refused as e:
            assert e.variant == r["error"], (r["name"], e.variant)
            continue
        raise AssertionError(f"{r['name']} was not refused")


def document():
    sealed = sealed_vectors()
    refusals = refusal_vectors()
    self_check(sealed, refusals)
    doc = {
        "about": (
            "Generated by tests/vectors/make_sealed_vectors.py (PyNaCl's libsodium "
            "XChaCha20-Poly1305 and an RFC 5869 HKDF on Python's standard library, "
            "independent of the Rust crate); do not edit by hand, run the script. "
            "value = base64url_nopad(0x01 || nonce || XChaCha20-Poly1305(key, nonce, payload, "
            "aad = 0x01 || cookie name)); key = HKDF-SHA256(secret, salt none, "
            "info \"tower-cookie-session/sealed/v1\"); padded base64url is accepted too."
        ),
        "info": INFO.decode("ascii"),
        "keys": derived_keys(sealed + refusals),
        "sealed": sealed,
        "refusals": refusals,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------
# Command line.


def open_lines(cookie_name, secrets):
    for line in sys.stdin:
        value = line.rstrip("\r\n")
        try:
            payload, index = open_session(value, cookie_name, secrets)
        except Refused as e:
            print(json.dumps({"error": e.variant}), flush=True)
            continue
        print(json.dumps({"key": index, "payload": payload.decode("utf-8")},
                         ensure_ascii=False), flush=True)


USAGE = "usage: make_sealed_vectors.py [--check | --open COOKIE_NAME SECRET_HEX [FALLBACK_HEX...]]"


def main(args):
    if args[:1] == ["--open"]:
        if len(args) < 3:
            sys.exit(USAGE)
        open_lines(args[1], [bytes.fromhex(s) for s in args[2:]])
        return
    text = document()
    if args == ["--check"]:
        with open(OUT, encoding="utf-8", newline="\n") as f:
            if f.read() != text:
                sys.exit(f"{OUT} differs from what this script makes; "
                         "run it and commit the result")
        print(f"{OUT} is up to date")
        return
    if args:
        sys.exit(USAGE)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
