"""Tests for trust.jws: compact JWS with Ed25519."""

from __future__ import annotations

import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from trust.encoding import b64url_decode, b64url_encode
from trust.errors import SignatureError, TrustError
from trust.jcs import canonicalize
from trust.jws import parse_compact, sign_compact, sign_compact_with_header, verify_compact
from trust.keys import public_key_from_jwk

# RFC 8037 Appendix A.1 private key and A.2 public key.
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_PUBLIC_JWK = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
# RFC 8037 Appendix A.4: protected header {"alg":"EdDSA"}, payload and the JWS.
RFC8037_HEADER_B64 = "eyJhbGciOiJFZERTQSJ9"
RFC8037_PAYLOAD = b"Example of Ed25519 signing"
RFC8037_JWS = (
    "eyJhbGciOiJFZERTQSJ9"
    ".RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)

KEY = Ed25519PrivateKey.from_private_bytes(b64url_decode(RFC8037_D))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def _header(header: dict[str, object]) -> str:
    return b64url_encode(canonicalize(header))


def _token(header: dict[str, object], payload: bytes = b"p", signature: bytes = bytes(64)) -> str:
    return f"{_header(header)}.{b64url_encode(payload)}.{b64url_encode(signature)}"


def _raw_header_token(raw_header: bytes) -> str:
    return f"{b64url_encode(raw_header)}.cA.{b64url_encode(bytes(64))}"


# --------------------------------------------------------------------------- RFC 8037


def test_rfc8037_a4_signing_is_reproduced_byte_for_byte() -> None:
    assert b64url_decode(RFC8037_HEADER_B64) == b'{"alg":"EdDSA"}'
    assert sign_compact_with_header(RFC8037_PAYLOAD, KEY, RFC8037_HEADER_B64) == RFC8037_JWS


def test_rfc8037_a5_verification() -> None:
    public_key = public_key_from_jwk(RFC8037_PUBLIC_JWK)
    parsed = verify_compact(RFC8037_JWS, public_key, expected_payload=RFC8037_PAYLOAD)
    assert parsed.header == {"alg": "EdDSA"}
    assert parsed.payload == RFC8037_PAYLOAD
    assert parsed.signing_input == RFC8037_JWS.rsplit(".", 1)[0].encode()
    assert parsed.signature == b64url_decode(RFC8037_JWS.rsplit(".", 1)[1])


# --------------------------------------------------------------------------- signing


def test_sign_compact_header_is_jcs() -> None:
    token = sign_compact(b'{"a":1}', KEY, kid="key-1", typ="pcf+jws")
    header_b64, payload_b64, _ = token.split(".")
    assert b64url_decode(header_b64) == b'{"alg":"Ed25519","kid":"key-1","typ":"pcf+jws"}'
    assert b64url_decode(payload_b64) == b'{"a":1}'
    parsed = verify_compact(token, KEY.public_key())
    assert parsed.header == {"alg": "Ed25519", "kid": "key-1", "typ": "pcf+jws"}
    # Deterministic: same inputs, same token.
    assert sign_compact(b'{"a":1}', KEY, kid="key-1", typ="pcf+jws") == token


def test_sign_compact_without_typ_and_with_eddsa() -> None:
    token = sign_compact(b"x", KEY, kid="k", alg="EdDSA")
    assert b64url_decode(token.split(".")[0]) == b'{"alg":"EdDSA","kid":"k"}'
    assert verify_compact(token, KEY.public_key()).payload == b"x"


def test_sign_compact_refuses_other_algs() -> None:
    with pytest.raises(SignatureError, match='alg: must be "Ed25519" or "EdDSA", got \'ES256\''):
        sign_compact(b"x", KEY, kid="k", alg="ES256")


def test_sign_with_header_refuses_a_header_we_would_not_parse() -> None:
    with pytest.raises(
        SignatureError, match=re.escape('header.alg: must be "Ed25519" or "EdDSA", got "none"')
    ):
        sign_compact_with_header(b"x", KEY, _header({"alg": "none"}))


# --------------------------------------------------------------------------- verification failures


def test_wrong_key_is_refused() -> None:
    token = sign_compact(b"payload", KEY, kid="k")
    with pytest.raises(
        SignatureError, match=r"^jws: signature does not verify with the given key$"
    ):
        verify_compact(token, OTHER_KEY.public_key())


def test_tampered_payload_is_refused() -> None:
    header, _, signature = sign_compact(b"payload", KEY, kid="k").split(".")
    token = f"{header}.{b64url_encode(b'paYload')}.{signature}"
    with pytest.raises(
        SignatureError, match=r"^jws: signature does not verify with the given key$"
    ):
        verify_compact(token, KEY.public_key())


def test_tampered_header_is_refused() -> None:
    _, payload, signature = sign_compact(b"payload", KEY, kid="k").split(".")
    token = f"{_header({'alg': 'Ed25519', 'kid': 'k2'})}.{payload}.{signature}"
    with pytest.raises(
        SignatureError, match=r"^jws: signature does not verify with the given key$"
    ):
        verify_compact(token, KEY.public_key())


def test_tampered_signature_is_refused() -> None:
    header, payload, signature = sign_compact(b"payload", KEY, kid="k").split(".")
    raw = bytearray(b64url_decode(signature))
    raw[10] ^= 0x80
    token = f"{header}.{payload}.{b64url_encode(bytes(raw))}"
    with pytest.raises(
        SignatureError, match=r"^jws: signature does not verify with the given key$"
    ):
        verify_compact(token, KEY.public_key())


def test_payload_mismatch_is_refused() -> None:
    token = sign_compact(b"payload", KEY, kid="k")
    with pytest.raises(SignatureError, match=r"^jws: payload does not match the expected payload$"):
        verify_compact(token, KEY.public_key(), expected_payload=b"payload ")


def test_detached_payload_rfc7515_appendix_f() -> None:
    header, _, signature = sign_compact(b"detached body", KEY, kid="k").split(".")
    token = f"{header}..{signature}"
    parsed = verify_compact(token, KEY.public_key(), expected_payload=b"detached body")
    assert parsed.payload == b"detached body"
    assert parsed.signing_input == f"{header}.{b64url_encode(b'detached body')}".encode()
    with pytest.raises(SignatureError, match="signature does not verify"):
        verify_compact(token, KEY.public_key(), expected_payload=b"other body")
    # Without the expected payload the token is a JWS over the empty payload: invalid.
    with pytest.raises(SignatureError, match="signature does not verify"):
        verify_compact(token, KEY.public_key())


def test_empty_payload_round_trip() -> None:
    token = sign_compact(b"", KEY, kid="k")
    assert token.split(".")[1] == ""
    assert verify_compact(token, KEY.public_key()).payload == b""
    assert verify_compact(token, KEY.public_key(), expected_payload=b"").payload == b""


# --------------------------------------------------------------------------- parsing failures


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (_token({"alg": "none"}), 'header.alg: must be "Ed25519" or "EdDSA", got "none"'),
        (_token({"alg": "HS256"}), 'header.alg: must be "Ed25519" or "EdDSA", got "HS256"'),
        (_token({"alg": "eddsa"}), 'header.alg: must be "Ed25519" or "EdDSA", got "eddsa"'),
        (_token({"alg": 1}), 'header.alg: must be "Ed25519" or "EdDSA", got 1'),
        (_token({"kid": "k"}), "header.alg: required member missing"),
        (
            _token({"alg": "Ed25519", "crit": ["exp"], "exp": 1}),
            "header.crit: no header extensions are understood, refusing crit",
        ),
        (
            _token({"alg": "Ed25519", "b64": False, "crit": []}),
            "header.crit: no header extensions are understood, refusing crit",
        ),
        (
            _token({"alg": "Ed25519", "b64": False}),
            "header.b64: unencoded payloads (RFC 7797) are not supported",
        ),
        (_token({"alg": "Ed25519", "kid": 5}), "header.kid: must be a string"),
        (
            _token({"alg": "Ed25519"}) + ".x",
            "jws: must have exactly 3 dot-separated parts, got 4",
        ),
        ("a.b", "jws: must have exactly 3 dot-separated parts, got 2"),
        ("", "jws: must have exactly 3 dot-separated parts, got 1"),
        (
            _token({"alg": "Ed25519"}) + "==",
            "jws.signature: base64url: padding '=' is not allowed",
        ),
        (
            f"{_header({'alg': 'Ed25519'})}.cA==.{b64url_encode(bytes(64))}",
            "jws.payload: base64url: padding '=' is not allowed",
        ),
        (
            f"{_header({'alg': 'Ed25519'})}.p+/.{b64url_encode(bytes(64))}",
            "jws.payload: base64url: character outside the URL-safe alphabet",
        ),
        (_token({"alg": "Ed25519"}, signature=b""), "jws.signature: must be 64 bytes, got 0"),
        (
            _token({"alg": "Ed25519"}, signature=bytes(63)),
            "jws.signature: must be 64 bytes, got 63",
        ),
        (f".cA.{b64url_encode(bytes(64))}", "jws.header: empty protected header"),
        (
            _raw_header_token(b"[1]"),
            "jws.header: must be a JSON object",
        ),
        (
            _raw_header_token(b'{"alg":"EdDSA","alg":"none"}'),
            'jws.header: not strict JSON: duplicate key "alg" at offset 15 (path $)',
        ),
        (
            _raw_header_token(b'{"alg":"EdDSA"'),
            "jws.header: not strict JSON: expected ',' or '}' in object at offset 14",
        ),
    ],
)
def test_malformed_tokens_are_refused(token: str, message: str) -> None:
    with pytest.raises(SignatureError) as info:
        verify_compact(token, KEY.public_key())
    assert info.value.message.startswith(message)
    assert info.value.code == "signature_invalid"
    with pytest.raises(SignatureError):
        parse_compact(token)


def test_non_string_token_is_refused() -> None:
    with pytest.raises(SignatureError, match="jws: must be a string, got bytes"):
        parse_compact(b"a.b.c")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- properties


@given(st.binary(max_size=300), st.text(min_size=1, max_size=20))
@settings(max_examples=100)
def test_sign_verify_round_trip(payload: bytes, kid: str) -> None:
    token = sign_compact(payload, KEY, kid=kid, typ="t")
    parsed = verify_compact(token, KEY.public_key(), expected_payload=payload)
    assert parsed.payload == payload
    assert parsed.header["kid"] == kid
    assert parse_compact(token) == parsed


_TOKEN = sign_compact(b'{"pcf":"example","value":"1.25"}', KEY, kid="key-1", typ="pcf+jws")


@given(st.integers(min_value=0, max_value=len(_TOKEN) - 1), st.characters(max_codepoint=0x7E))
@settings(max_examples=400)
def test_any_single_character_change_is_refused(index: int, replacement: str) -> None:
    # Strict base64url (no non-canonical trailing bits) makes every spelling
    # change a change of the signed bytes or a parse error.
    if replacement == _TOKEN[index]:
        replacement = "A" if _TOKEN[index] != "A" else "B"
    token = _TOKEN[:index] + replacement + _TOKEN[index + 1 :]
    with pytest.raises(TrustError):
        verify_compact(token, KEY.public_key())


@pytest.mark.parametrize("index", range(len(_TOKEN)))
def test_every_position_bit_flip_is_refused(index: int) -> None:
    # Exhaustive over positions, flipping the lowest bit of the character.
    token = _TOKEN[:index] + chr(ord(_TOKEN[index]) ^ 0x01) + _TOKEN[index + 1 :]
    with pytest.raises(SignatureError):
        verify_compact(token, KEY.public_key())
