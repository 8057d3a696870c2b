"""Tests for trust.keys: Ed25519 keys, JWKs, thumbprints, PEM and key wrapping."""

from __future__ import annotations

import re
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from trust.encoding import b64_std_decode, b64_std_encode, b64url_decode, b64url_encode, sha256
from trust.errors import (
    CanonicalizationError,
    KeyFormatError,
    ProofError,
    SignatureError,
    TrustError,
)
from trust.keys import (
    decrypt_private_key,
    encrypt_private_key,
    generate_private_key,
    jwk_thumbprint,
    private_jwk,
    private_key_from_pem,
    private_key_to_pem,
    public_jwk,
    public_key_bytes,
    public_key_from_bytes,
    public_key_from_jwk,
)

# --------------------------------------------------------------------------- RFC 8032

# RFC 8032 §7.1 "Test Vectors for Ed25519", TEST 1, TEST 2 and TEST 3:
# (secret key, public key, message, signature), all hex.
RFC8032_TESTS = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032_TESTS)
def test_rfc8032_vectors(secret: str, public: str, message: str, signature: str) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    assert public_key_bytes(key).hex() == public
    assert key.sign(bytes.fromhex(message)).hex() == signature
    public_key = public_key_from_bytes(bytes.fromhex(public))
    public_key.verify(bytes.fromhex(signature), bytes.fromhex(message))
    # The JWK form carries exactly the same public key bytes.
    assert public_key_bytes(public_key_from_jwk(public_jwk(key))).hex() == public


# --------------------------------------------------------------------------- RFC 8037

# RFC 8037 Appendix A.1 (private key) and A.2 (its public key).
RFC8037_PRIVATE_JWK = {
    "kty": "OKP",
    "crv": "Ed25519",
    "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
RFC8037_PUBLIC_JWK = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
# RFC 8037 Appendix A.3 (JWK thumbprint of the A.2 key).
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def _rfc8037_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(b64url_decode(RFC8037_PRIVATE_JWK["d"]))


def test_rfc8037_a1_a2_jwks() -> None:
    key = _rfc8037_key()
    assert private_jwk(key) == RFC8037_PRIVATE_JWK
    assert public_jwk(key) == RFC8037_PUBLIC_JWK
    assert public_jwk(key.public_key()) == RFC8037_PUBLIC_JWK
    assert "d" not in public_jwk(key)


def test_rfc8037_a3_thumbprint() -> None:
    key = _rfc8037_key()
    assert jwk_thumbprint(RFC8037_PUBLIC_JWK) == RFC8037_THUMBPRINT
    assert jwk_thumbprint(key) == RFC8037_THUMBPRINT
    assert jwk_thumbprint(key.public_key()) == RFC8037_THUMBPRINT
    # A private JWK hashes only its required public members (RFC 7638 §3.2).
    assert jwk_thumbprint(RFC8037_PRIVATE_JWK) == RFC8037_THUMBPRINT
    assert jwk_thumbprint({**RFC8037_PUBLIC_JWK, "kid": "k1", "use": "sig"}) == RFC8037_THUMBPRINT


def test_thumbprint_validates_the_jwk() -> None:
    with pytest.raises(KeyFormatError, match=re.escape('jwk.crv: must be "Ed25519", got "X25519"')):
        jwk_thumbprint({**RFC8037_PUBLIC_JWK, "crv": "X25519"})


def test_public_key_from_jwk_accepts_unknown_members() -> None:
    key = public_key_from_jwk({**RFC8037_PUBLIC_JWK, "kid": "abc", "alg": "EdDSA"})
    assert b64url_encode(public_key_bytes(key)) == RFC8037_PUBLIC_JWK["x"]


_X = RFC8037_PUBLIC_JWK["x"]


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        (["OKP"], "jwk: must be a JSON object, got list"),
        ("{}", "jwk: must be a JSON object, got str"),
        (
            RFC8037_PRIVATE_JWK,
            "jwk.d: private key material must never be registered; send the public JWK only",
        ),
        ({"crv": "Ed25519", "x": _X}, "jwk.kty: required member missing"),
        ({"kty": "EC", "crv": "Ed25519", "x": _X}, 'jwk.kty: must be "OKP", got "EC"'),
        ({"kty": "okp", "crv": "Ed25519", "x": _X}, 'jwk.kty: must be "OKP", got "okp"'),
        ({"kty": "OKP", "x": _X}, "jwk.crv: required member missing"),
        ({"kty": "OKP", "crv": "X25519", "x": _X}, 'jwk.crv: must be "Ed25519", got "X25519"'),
        ({"kty": "OKP", "crv": None, "x": _X}, 'jwk.crv: must be "Ed25519", got null'),
        ({"kty": "OKP", "crv": "Ed25519"}, "jwk.x: required member missing"),
        ({"kty": "OKP", "crv": "Ed25519", "x": 7}, "jwk.x: must be a base64url string, got 7"),
        (
            {"kty": "OKP", "crv": "Ed25519", "x": _X + "="},
            "jwk.x: must be base64url without padding (base64url: padding '=' is not allowed)",
        ),
        (
            {"kty": "OKP", "crv": "Ed25519", "x": _X.replace("_", "/")},
            "jwk.x: must be base64url without padding"
            " (base64url: character outside the URL-safe alphabet)",
        ),
        (
            {"kty": "OKP", "crv": "Ed25519", "x": _X[:-1] + "p"},
            "jwk.x: must be base64url without padding (base64url: non-canonical trailing bits)",
        ),
        (
            {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(bytes(31))},
            "jwk.x: must decode to exactly 32 bytes, got 31",
        ),
        (
            {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(bytes(33))},
            "jwk.x: must decode to exactly 32 bytes, got 33",
        ),
        (
            {"kty": "OKP", "crv": "Ed25519", "x": ""},
            "jwk.x: must decode to exactly 32 bytes, got 0",
        ),
    ],
)
def test_malformed_jwks_are_refused(jwk: Any, message: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        public_key_from_jwk(jwk)
    assert info.value.message == message
    assert info.value.code == "key_format"


def test_raw_public_key_length_is_checked() -> None:
    with pytest.raises(KeyFormatError, match="public key: must be exactly 32 bytes, got 31"):
        public_key_from_bytes(bytes(31))


# --------------------------------------------------------------------------- PEM


def test_pem_is_unencrypted_pkcs8() -> None:
    key = _rfc8037_key()
    pem = private_key_to_pem(key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert private_key_from_pem(pem).private_bytes_raw() == key.private_bytes_raw()


def test_pem_of_another_algorithm_is_refused() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(KeyFormatError, match="private key PEM: must be Ed25519, got "):
        private_key_from_pem(pem)


def test_garbage_pem_is_refused() -> None:
    with pytest.raises(KeyFormatError, match="private key PEM: cannot load"):
        private_key_from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def test_encrypted_pem_is_refused() -> None:
    pem = _rfc8037_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    with pytest.raises(KeyFormatError, match="private key PEM: cannot load"):
        private_key_from_pem(pem)


_seeds = st.binary(min_size=32, max_size=32)


@given(_seeds)
@settings(max_examples=50)
def test_pem_round_trip(seed: bytes) -> None:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    assert private_key_from_pem(private_key_to_pem(key)).private_bytes_raw() == seed


@given(_seeds)
@settings(max_examples=50)
def test_jwk_round_trip(seed: bytes) -> None:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    jwk = public_jwk(key)
    assert set(jwk) == {"kty", "crv", "x"}
    assert public_key_bytes(public_key_from_jwk(jwk)) == public_key_bytes(key)
    assert b64url_decode(private_jwk(key)["d"]) == seed
    assert jwk_thumbprint(jwk) == jwk_thumbprint(key)


def test_generated_keys_are_distinct_and_usable() -> None:
    first, second = generate_private_key(), generate_private_key()
    assert public_key_bytes(first) != public_key_bytes(second)
    first.public_key().verify(first.sign(b"m"), b"m")


# --------------------------------------------------------------------------- wrapping

WRAPPING_KEY = bytes(range(32))
AAD = b"company:42|key:7"


def test_wrap_round_trip_and_layout() -> None:
    key = _rfc8037_key()
    blob = encrypt_private_key(key, wrapping_key=WRAPPING_KEY, associated_data=AAD)
    assert len(blob) == 1 + 12 + 32 + 16
    assert blob[0] == 0x01
    assert key.private_bytes_raw() not in blob
    restored = decrypt_private_key(blob, wrapping_key=WRAPPING_KEY, associated_data=AAD)
    assert restored.private_bytes_raw() == key.private_bytes_raw()


def test_wrap_uses_a_fresh_nonce() -> None:
    key = _rfc8037_key()
    first = encrypt_private_key(key, wrapping_key=WRAPPING_KEY, associated_data=AAD)
    second = encrypt_private_key(key, wrapping_key=WRAPPING_KEY, associated_data=AAD)
    assert first[1:13] != second[1:13]


def test_unwrap_with_wrong_key_or_aad_fails() -> None:
    blob = encrypt_private_key(_rfc8037_key(), wrapping_key=WRAPPING_KEY, associated_data=AAD)
    with pytest.raises(KeyFormatError, match=r"^cannot decrypt private key"):
        decrypt_private_key(blob, wrapping_key=bytes(32), associated_data=AAD)
    with pytest.raises(KeyFormatError, match=r"^cannot decrypt private key"):
        decrypt_private_key(blob, wrapping_key=WRAPPING_KEY, associated_data=b"company:43|key:7")


@pytest.mark.parametrize("index", [1, 12, 13, 44, 60])
def test_unwrap_of_tampered_blob_fails(index: int) -> None:
    blob = bytearray(
        encrypt_private_key(_rfc8037_key(), wrapping_key=WRAPPING_KEY, associated_data=AAD)
    )
    blob[index] ^= 0x01
    with pytest.raises(KeyFormatError, match=r"^cannot decrypt private key"):
        decrypt_private_key(bytes(blob), wrapping_key=WRAPPING_KEY, associated_data=AAD)


def test_unwrap_checks_version_and_length() -> None:
    blob = encrypt_private_key(_rfc8037_key(), wrapping_key=WRAPPING_KEY, associated_data=AAD)
    with pytest.raises(KeyFormatError, match="unknown version byte 0x02"):
        decrypt_private_key(b"\x02" + blob[1:], wrapping_key=WRAPPING_KEY, associated_data=AAD)
    with pytest.raises(KeyFormatError, match="must be exactly 61 bytes, got 60"):
        decrypt_private_key(blob[:-1], wrapping_key=WRAPPING_KEY, associated_data=AAD)


@pytest.mark.parametrize("bad_key", [bytes(16), bytes(31), bytes(33)])
def test_wrapping_key_must_be_32_bytes(bad_key: bytes) -> None:
    message = f"wrapping key: must be exactly 32 bytes \\(AES-256\\), got {len(bad_key)}"
    with pytest.raises(KeyFormatError, match=message):
        encrypt_private_key(_rfc8037_key(), wrapping_key=bad_key, associated_data=AAD)
    with pytest.raises(KeyFormatError, match=message):
        decrypt_private_key(bytes(61), wrapping_key=bad_key, associated_data=AAD)


# --------------------------------------------------------------------------- encoding and errors
# (trust.encoding underpins every JWK member above, so its strictness is tested here.)


def test_b64url_round_trip_without_padding() -> None:
    assert b64url_encode(b"\xfb\xff") == "-_8"
    assert b64url_decode("-_8") == b"\xfb\xff"
    assert b64url_decode("") == b""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-_8=", "base64url: padding '=' is not allowed"),
        ("+/8", "base64url: character outside the URL-safe alphabet"),
        ("ab c", "base64url: character outside the URL-safe alphabet"),
        ("abc\n", "base64url: character outside the URL-safe alphabet"),
        ("abcde", "base64url: impossible length 5"),
        ("-_9", "base64url: non-canonical trailing bits"),
        ("QR", "base64url: non-canonical trailing bits"),
    ],
)
def test_b64url_decode_is_strict(text: str, message: str) -> None:
    with pytest.raises(TrustError) as info:
        b64url_decode(text)
    assert info.value.message == message
    assert info.value.code == "base64url"


def test_b64_std_round_trip_with_padding() -> None:
    assert b64_std_encode(b"\xfb\xff") == "+/8="
    assert b64_std_decode("+/8=") == b"\xfb\xff"
    assert b64_std_decode("") == b""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("+/8", "base64: not canonical padded standard base64"),
        ("-_8=", "base64: not canonical padded standard base64"),
        ("+/8=\n", "base64: not canonical padded standard base64"),
        ("Zg=", "base64: not canonical padded standard base64"),
        ("+/9=", "base64: non-canonical trailing bits"),
        ("Zh==", "base64: non-canonical trailing bits"),
    ],
)
def test_b64_std_decode_is_strict(text: str, message: str) -> None:
    with pytest.raises(TrustError) as info:
        b64_std_decode(text)
    assert info.value.message == message
    assert info.value.code == "base64"


def test_sha256_known_answer() -> None:
    # FIPS 180-2 example "abc".
    assert sha256(b"abc").hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_error_codes() -> None:
    assert TrustError("m").code == "trust_error"
    assert TrustError("m", "custom").code == "custom"
    assert CanonicalizationError("m").code == "canonicalization"
    assert KeyFormatError("m").code == "key_format"
    assert SignatureError("m").code == "signature_invalid"
    assert ProofError("m").code == "proof_invalid"
    assert ProofError("m", "other").code == "other"
    assert str(SignatureError("bad sig")) == "bad sig"
    assert isinstance(ProofError("m"), TrustError)


# --- public key point checks (small order, off curve, non-canonical) -------------------

SMALL_ORDER_ENCODINGS = [
    "0100000000000000000000000000000000000000000000000000000000000000",  # identity
    "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
    "0000000000000000000000000000000000000000000000000000000000000080",  # order 4, -x
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  # order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  # order 8
]


@pytest.mark.parametrize("encoding", SMALL_ORDER_ENCODINGS)
def test_small_order_points_are_refused(encoding):
    from trust.keys import public_point_problem

    assert "small-order" in public_point_problem(bytes.fromhex(encoding))


def test_a_small_order_key_really_lets_one_signature_verify_any_message():
    # Why the check matters: with the identity as public key, R = identity and S = 0
    # satisfy the verification equation for every message in OpenSSL.
    identity = Ed25519PublicKey.from_public_bytes(bytes.fromhex(SMALL_ORDER_ENCODINGS[0]))
    forged = bytes.fromhex(SMALL_ORDER_ENCODINGS[0]) + bytes(32)
    identity.verify(forged, b"any message at all")
    identity.verify(forged, b"and another")


def test_non_canonical_y_is_refused():
    from trust.keys import public_point_problem

    y_equals_p = (2**255 - 19).to_bytes(32, "little")
    assert "canonical" in public_point_problem(y_equals_p)


def test_a_point_off_the_curve_is_refused():
    from trust.keys import public_point_problem

    assert public_point_problem((2).to_bytes(32, "little")) == "is not a point on the Ed25519 curve"


@settings(max_examples=50)
@given(st.binary(min_size=32, max_size=32))
def test_generated_keys_always_pass_and_the_check_matches_openssl_on_real_points(seed):
    from trust.keys import public_point_problem

    key = Ed25519PrivateKey.from_private_bytes(seed)
    assert public_point_problem(key.public_key().public_bytes_raw()) is None


def test_jwk_with_a_small_order_x_is_refused_naming_x():
    jwk = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url_encode(bytes.fromhex(SMALL_ORDER_ENCODINGS[4])),
    }
    with pytest.raises(KeyFormatError, match=r"^jwk\.x: is a small-order point"):
        public_key_from_jwk(jwk)
