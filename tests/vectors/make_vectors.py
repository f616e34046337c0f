#!/usr/bin/env python3
"""Writes vectors.json, the fixed vectors that pin tower-cookie-session's
wire format (tests/wire_format.rs reads them).

This is an implementation of the wire format that shares no code with the
Rust crate: Pyramid's `signed_serialize`, with JSON in place of pickle,

    value   = hex_lower(HMAC-SHA1(secret, payload)) + base64_standard_padded(payload)
    payload = UTF-8 JSON; for a session cookie [accessed, created, {state}]

Standard library only, and deterministic (fixed secrets, fixed timestamps,
no randomness), so running it again rewrites the identical file:

    python3 tests/vectors/make_vectors.py
"""

import base64
import hashlib
import hmac
import json
import sys
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors.json")

# Session secrets must be at least 32 bytes (SessionLayer::new refuses less).
SECRET = b"tower-cookie-session wire-format vectors, secret #1"
WRONG_SECRET = b"tower-cookie-session wire-format vectors, secret #2"
# Longer than SHA-1's 64-byte block: HMAC hashes such keys first.
LONG_SECRET = bytes(range(100))

# Fixed Unix times, as Pyramid writes them (time.time(): floats).
ACCESSED = 1700000000.5
CREATED = 1699990000.25

# A CSRF token as Pyramid makes one (40 lowercase hex digits), but fixed.
CSRF_TOKEN = hashlib.sha1(b"a fixed csrf token").hexdigest()


def sign(secret, payload, pad=True):
    """Pyramid's signed_serialize, given the payload bytes."""
    signature = hmac.new(secret, payload, hashlib.sha1).hexdigest()
    encoded = base64.b64encode(payload).decode("ascii")
    return signature + (encoded if pad else encoded.rstrip("="))


def compact(data):
    """JSON as serde_json writes a `serde_json::Value`: no spaces, non-ASCII
    unescaped, object keys sorted (Value's map is a BTreeMap unless the
    `preserve_order` feature is on; the inputs below are sorted too, so the
    vectors hold either way)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def sorted_keys(data):
    """`data` with every object's keys in sorted order, so that vectors.json
    lists the inputs in the order serde_json writes them."""
    return json.loads(json.dumps(data, sort_keys=True))


def signed_serialize_vectors():
    cases = [
        # The example in signed_serialize's rustdoc.
        ("doc_example_object", b"secret", {"a": 1}),
        ("empty_secret", b"", {"a": 1}),
        ("list_of_integers", b"secret", [1, 2, 3]),
        ("empty_object", SECRET, {}),
        ("empty_string", SECRET, ""),
        ("unicode_string", SECRET, "Zo\u00eb \u27e8\u65e5\u672c\u8a9e\u27e9 \U0001f980"),
        (
            "string_escapes",
            SECRET,
            'quote " backslash \\ slash / newline \n tab \t cr \r '
            "backspace \b formfeed \f bell \u0007 unit-sep \u001f del \u007f",
        ),
        (
            "scalars",
            SECRET,
            {
                "admin": False,
                "big": 9007199254740993,
                "count": 3,
                "negative": -42,
                "none": None,
                "ratio": 0.25,
                "whole_float": 100.0,
                "user": "ada",
            },
        ),
        (
            "nested",
            SECRET,
            {
                "cart": [
                    {"qty": 2, "sku": "A1"},
                    {"qty": 1, "sku": "B7", "tags": ["gift", "fragile"]},
                ],
                "prefs": {"lang": "fr", "theme": "dark", "caf\u00e9": {"\u00fcber": [[], {}]}},
            },
        ),
        # What the session layer writes: integer timestamps, compact, sorted.
        (
            "session_shaped",
            SECRET,
            [1700000000, 1699990000, {"count": 3, "user": "ada", "_f_": ["Saved."]}],
        ),
        ("secret_of_one_block", bytes(range(64)), {"block": 64}),
        ("secret_longer_than_a_block", LONG_SECRET, {"block": 100}),
    ]
    vectors = []
    for name, secret, data in cases:
        payload = compact(data)
        vectors.append(
            {
                "name": name,
                "secret_hex": secret.hex(),
                "data": sorted_keys(data),
                "payload": payload,
                "value": sign(secret, payload.encode("utf-8")),
            }
        )
    return vectors


def session_vector(name, state, secret=SECRET, accessed=ACCESSED, created=CREATED,
                   pad=True, payload=None):
    """A session cookie as Pyramid writes it: json.dumps's defaults (spaces
    after separators, \\u escapes for non-ASCII, keys in insertion order)."""
    if payload is None:
        payload = json.dumps([accessed, created, state])
    flash = {k[len("_f_"):]: v for k, v in state.items() if k.startswith("_f_")}
    return {
        "name": name,
        "secret_hex": secret.hex(),
        "payload": payload,
        "value": sign(secret, payload.encode("utf-8"), pad=pad),
        "accessed": accessed,
        "created": created,
        "state": state,
        "keys": sorted(state),
        "flash": flash,
        "csrf_token": state.get("_csrft_"),
    }


def session_vectors():
    return [
        session_vector("float_timestamps", {"user": "ada", "count": 3}),
        session_vector("empty_state", {}),
        session_vector(
            "unicode_escaped_keys_and_values",
            {
                "name": "Zo\u00eb",
                "caf\u00e9": "Z\u00fcrich \u65e5\u672c",
                "crab": "\U0001f980",
                "quote": 'say "hi"\n',
            },
        ),
        # Payload lengths that need one and two padding characters, sent
        # without them (Pyramid always pads; other writers do not).
        session_vector("unpadded_base64_one", {"a": "x"}, pad=False),
        session_vector("unpadded_base64_two", {"a": "xy"}, pad=False),
        session_vector(
            "flash_queues",
            {
                "_f_": ["Saved.", "Saved again."],
                "_f_error": ["Try again."],
                "_f_info": [{"text": "hi", "level": 2}, 7, None],
            },
        ),
        session_vector("csrf_token", {"_csrft_": CSRF_TOKEN, "user": "ada"}),
        session_vector(
            "flash_and_csrf",
            {"_csrft_": CSRF_TOKEN, "_f_": ["Welcome back."], "user_id": 42},
        ),
        session_vector(
            "nested_values",
            {
                "cart": [{"sku": "A1", "qty": 2}, {"sku": "B7", "qty": 1, "tags": ["gift"]}],
                "prefs": {"theme": "dark", "langs": ["fr", "en"]},
                "none": None,
                "flag": True,
                "ratio": 0.25,
                "big": 9007199254740993,
            },
        ),
        # Written the way the Rust layer writes: compact, integer timestamps.
        session_vector(
            "integer_timestamps_compact",
            {"count": 3, "user": "ada"},
            accessed=1700000000,
            created=1699990000,
            payload='[1700000000,1699990000,{"count":3,"user":"ada"}]',
        ),
        # json.dumps cannot write duplicate keys; other writers can: the last wins.
        session_vector(
            "duplicate_keys_last_wins",
            {"a": 2},
            payload='[1700000000.5, 1699990000.25, {"a": 1, "a": 2}]',
        ),
        session_vector("secret_longer_than_a_block", {"user": "ada"}, secret=LONG_SECRET),
    ]


def refusal(name, value, why, payload=None):
    """A value the layer must refuse (a fresh, empty session).

    `signed_deserialize` is what signed_deserialize::<serde_json::Value>
    answers: the DecodeError variant, or null when the value verifies and
    is JSON, only not a session's [number, number, object].
    """
    entry = {"name": name, "secret_hex": SECRET.hex(), "value": value}
    if payload is not None:
        entry["payload"] = payload
    entry["signed_deserialize"] = why
    return entry


def refusal_vectors():
    good = json.dumps([ACCESSED, CREATED, {"user": "ada"}]).encode("utf-8")
    good_value = sign(SECRET, good)

    def signed(payload, why):
        """A validly signed payload, named after itself."""
        return "signed " + payload, sign(SECRET, payload.encode("utf-8")), why, payload

    def flip_hex(value, index):
        digit = value[index]
        flipped = "0" if digit != "0" else "1"
        return value[:index] + flipped + value[index + 1:]

    def swap_base64(value, index):
        # Another letter of the alphabet: still base64, different payload.
        char = value[index]
        other = "A" if char != "A" else "B"
        return value[:index] + other + value[index + 1:]

    return [
        refusal("wrong_secret", sign(WRONG_SECRET, good), "BadSignature", good.decode()),
        refusal("flipped_signature_digit", flip_hex(good_value, 7), "BadSignature"),
        refusal("flipped_payload_byte", swap_base64(good_value, 45), "BadSignature"),
        refusal("too_short", good_value[:39], "TooShort"),
        refusal("not_hex", "g" + good_value[1:], "InvalidHex"),
        refusal("not_base64", good_value[:40] + "!!!!", "InvalidBase64"),
        refusal(*signed("not json at all", "InvalidJson")),
        refusal("non_utf8_payload", sign(SECRET, b"\x80\x81\xfe\xff"), "InvalidJson"),
        refusal("empty_payload", sign(SECRET, b""), "InvalidJson"),
        refusal(*signed(good.decode()[:-1], "InvalidJson")),
        # json.dumps writes these for float('nan') and float('inf').
        refusal(*signed("[NaN, 1699990000.25, {}]", "InvalidJson")),
        refusal(*signed("[Infinity, 1699990000.25, {}]", "InvalidJson")),
        refusal(*signed("[1, 2]", None)),
        refusal(*signed("[1, 2, []]", None)),
        refusal(*signed("{}", None)),
        refusal(*signed("[1700000000.5, 1699990000.25, {}, 4]", None)),
        refusal(*signed('["1700000000.5", 1699990000.25, {}]', None)),
        refusal(*signed("[1700000000.5, 1699990000.25, null]", None)),
        refusal(*signed("[-1.5, 1699990000.25, {}]", None)),
        refusal(*signed("[1700000000.5, 1e300, {}]", None)),
        refusal(*signed('"[1700000000.5, 1699990000.25, {}]"', None)),
    ]


def main():
    document = {
        "about": (
            "Generated by tests/vectors/make_vectors.py (Python standard library, "
            "independent of the Rust crate); do not edit by hand, run the script. "
            "value = hex_lower(HMAC-SHA1(secret, payload)) + base64_standard_padded(payload)."
        ),
        "signed_serialize": signed_serialize_vectors(),
        "sessions": session_vectors(),
        "refusals": refusal_vectors(),
    }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    # Readable UTF-8, but no invisible DEL character in the file.
    text = text.replace("\x7f", "\\u007f")
    if "--check" in sys.argv[1:]:
        with open(OUT, encoding="utf-8", newline="\n") as f:
            if f.read() != text:
                sys.exit(f"{OUT} differs from what this script makes; run it and commit the result")
        print(f"{OUT} is up to date")
        return
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


if __name__ == "__main__":
    main()
