"""Tests for trust.multibase: base58btc, Multibase and Ed25519 Multikeys."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from tests.trust.vectors import require_vectors
from trust.errors import KeyFormatError, TrustError
from trust.keys import generate_private_key, public_key_bytes
from trust.multibase import (
    BASE58BTC_ALPHABET,
    base58btc_decode,
    base58btc_encode,
    ed25519_multikey,
    ed25519_secret_multikey,
    multibase_decode,
    multibase_encode_base58btc,
    private_key_from_multikey,
    public_key_from_multikey,
)

# --------------------------------------------------------------------------- base58btc

# The three examples of the IETF draft "The Base58 Encoding Scheme"
# (draft-msporny-base58-03, §5), as (input bytes, base58btc).
DRAFT_VECTORS = [
    (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
    (
        b"The quick brown fox jumps over the lazy dog.",
        "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z",
    ),
    (bytes.fromhex("0000287fb4cd"), "11233QC4"),
]

# A selection from Bitcoin Core's src/test/data/base58_encode_decode.json (hex, base58).
BITCOIN_VECTORS = [
    ("", ""),
    ("61", "2g"),
    ("626262", "a3gV"),
    ("636363", "aPEr"),
    ("73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"),
    ("00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"),
    ("bf4f89001e670274dd", "3SEo3LWLoPntC"),
    ("00000000000000000000", "1111111111"),
    (
        "000111d38e5fc9071ffcd20b4a763cc9ae4f252bb4e48fd66a835e252ada93ff480d6dd43dc62a641155a5",
        "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz",
    ),
]


@pytest.mark.parametrize(("data", "text"), DRAFT_VECTORS)
def test_base58btc_draft_vectors(data: bytes, text: str) -> None:
    assert base58btc_encode(data) == text
    assert base58btc_decode(text) == data


@pytest.mark.parametrize(("hex_data", "text"), BITCOIN_VECTORS)
def test_base58btc_bitcoin_vectors(hex_data: str, text: str) -> None:
    assert base58btc_encode(bytes.fromhex(hex_data)) == text
    assert base58btc_decode(text).hex() == hex_data


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"", ""),
        (b"\0", "1"),
        (b"\0\0\0", "111"),
        (b"\0\0\x01", "112"),
        (b"\x01", "2"),
        (b"\x39", "z"),  # 57, the last digit
        (b"\x3a", "21"),  # 58 needs two digits
    ],
)
def test_base58btc_leading_zeros_and_edges(data: bytes, text: str) -> None:
    assert base58btc_encode(data) == text
    assert base58btc_decode(text) == data


@given(st.binary(max_size=80), st.integers(min_value=0, max_value=5))
def test_base58btc_round_trip(data: bytes, zeros: int) -> None:
    padded = b"\0" * zeros + data
    encoded = base58btc_encode(padded)
    assert set(encoded) <= set(BASE58BTC_ALPHABET)
    assert base58btc_decode(encoded) == padded


@given(st.text(alphabet=BASE58BTC_ALPHABET, max_size=80))
def test_base58btc_every_alphabet_string_has_one_spelling(text: str) -> None:
    # Decoding then encoding gives the string back: no two strings share bytes.
    assert base58btc_encode(base58btc_decode(text)) == text


@pytest.mark.parametrize(
    ("text", "bad", "position"),
    [
        ("2NEpo7TZRRrLZSi20", "0", 16),
        ("O2NEpo", "O", 0),
        ("2NIpo", "I", 2),
        ("2lEpo", "l", 1),
        ("2NE po", " ", 3),
        ("2NE+", "+", 3),
        ("2NÉ", "É", 2),
    ],
)
def test_base58btc_refuses_foreign_characters(text: str, bad: str, position: int) -> None:
    with pytest.raises(TrustError) as info:
        base58btc_decode(text)
    assert info.value.code == "base58btc"
    assert f"{bad!r} at position {position} is not in the alphabet" in info.value.message


def test_base58btc_refuses_non_strings_and_non_bytes() -> None:
    with pytest.raises(TrustError, match="expected a string"):
        base58btc_decode(b"2g")  # type: ignore[arg-type]
    with pytest.raises(TrustError, match="expected bytes"):
        base58btc_encode("a")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- multibase


def test_multibase_base58btc_round_trip() -> None:
    assert multibase_encode_base58btc(b"Hello World!") == "z2NEpo7TZRRrLZSi2U"
    assert multibase_decode("z2NEpo7TZRRrLZSi2U") == b"Hello World!"
    assert multibase_decode("z") == b""
    assert multibase_decode("z11") == b"\0\0"


@pytest.mark.parametrize(
    ("text", "prefix"),
    [
        ("uSGVsbG8", "u"),  # base64url
        ("f48656c6c6f", "f"),  # base16
        ("mSGVsbG8", "m"),  # base64
        ("Z2NEpo7", "Z"),  # base58flickr, differs from z only in case
        ("2NEpo7TZRRrLZSi2U", "2"),  # base58 without any prefix
    ],
)
def test_multibase_refuses_other_bases(text: str, prefix: str) -> None:
    with pytest.raises(TrustError) as info:
        multibase_decode(text)
    assert info.value.code == "multibase"
    assert f"prefix {prefix!r} is not supported, only 'z' (base58btc)" in info.value.message


def test_multibase_refuses_empty_and_bad_payload() -> None:
    with pytest.raises(TrustError, match="empty string has no base prefix"):
        multibase_decode("")
    with pytest.raises(TrustError, match="multibase: base58btc: character '0'"):
        multibase_decode("z0")
    with pytest.raises(TrustError, match="expected a string"):
        multibase_decode(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Multikey


def test_vector_key_pair_multikeys() -> None:
    """The W3C vc-di-eddsa key pair: the secret Multikey derives the public one."""
    folder = require_vectors("vc-di-eddsa/TestVectors")
    pair = json.loads((folder / "keyPair.json").read_text())
    private_key = private_key_from_multikey(pair["privateKeyMultibase"])
    assert ed25519_multikey(private_key) == pair["publicKeyMultibase"]
    assert ed25519_secret_multikey(private_key) == pair["privateKeyMultibase"]
    public_key = public_key_from_multikey(pair["publicKeyMultibase"])
    assert public_key_bytes(public_key) == public_key_bytes(private_key)
    raw = multibase_decode(pair["publicKeyMultibase"])
    assert raw[:2] == b"\xed\x01" and len(raw) == 34
    assert multibase_decode(pair["privateKeyMultibase"])[:2] == b"\x80\x26"


def test_spec_example_multikey_loads() -> None:
    # The Multikey example of VC DI EdDSA §2.1.1.
    key = public_key_from_multikey("z6Mkf5rGMoatrSj1f4CyvuHBeXJELe9RPdzo2PKGNCKVtZxP")
    assert isinstance(key, Ed25519PublicKey)
    assert ed25519_multikey(key) == "z6Mkf5rGMoatrSj1f4CyvuHBeXJELe9RPdzo2PKGNCKVtZxP"


def test_rfc8032_key_as_multikey() -> None:
    # RFC 8032 §7.1 TEST 1: the Multikey is 0xed01 + the published public key.
    key = Ed25519PrivateKey.from_private_bytes(
        bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    )
    public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    text = ed25519_multikey(key)
    assert text.startswith("z6Mk")
    assert multibase_decode(text) == bytes.fromhex("ed01" + public)
    assert ed25519_multikey(key.public_key()) == text


def test_multikey_round_trip_fresh_keys() -> None:
    for _ in range(20):
        key = generate_private_key()
        public_text = ed25519_multikey(key)
        assert public_text.startswith("z6Mk")
        assert public_key_bytes(public_key_from_multikey(public_text)) == public_key_bytes(key)
        secret_text = ed25519_secret_multikey(key)
        assert secret_text.startswith("z3u2")
        assert private_key_from_multikey(secret_text).private_bytes_raw() == key.private_bytes_raw()


def _public_multikey(raw: bytes, header: bytes = b"\xed\x01") -> str:
    return multibase_encode_base58btc(header + raw)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_public_multikey(b"\x07" * 32, b"\xe7\x01"), "multicodec header e701 is not ed01"),
        (_public_multikey(b"\x07" * 32, b"\xec\x01"), "multicodec header ec01 is not ed01"),
        ("z", "multicodec header (none) is not ed01"),
        (_public_multikey(b"\x07" * 31), "exactly 32 key bytes after the header, got 31"),
        (_public_multikey(b"\x07" * 33), "exactly 32 key bytes after the header, got 33"),
        ("u7QE", "prefix 'u' is not supported"),
        ("z6Mk0", "character '0'"),
        ("z" + "2" * 80, "far too long"),
        # The neutral element (y = 1): a small-order point that every signature fools.
        (_public_multikey(b"\x01" + b"\0" * 31), "small-order point"),
        # y = p (2**255 - 19) is not a canonical encoding.
        (
            _public_multikey((2**255 - 19).to_bytes(32, "little")),
            "not a canonical curve point encoding",
        ),
    ],
)
def test_public_multikey_refusals(text: str, message: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        public_key_from_multikey(text)
    assert message in info.value.message


def test_secret_multikey_where_public_belongs_is_called_a_leak() -> None:
    secret = ed25519_secret_multikey(generate_private_key())
    with pytest.raises(KeyFormatError, match=r"secret key .* treat it as leaked"):
        public_key_from_multikey(secret)


def test_public_multikey_where_secret_belongs() -> None:
    public = ed25519_multikey(generate_private_key())
    with pytest.raises(KeyFormatError, match="multicodec header ed01 is not 8026"):
        private_key_from_multikey(public)


def test_multikey_refuses_non_strings_and_wrong_keys() -> None:
    with pytest.raises(KeyFormatError, match="expected a string"):
        public_key_from_multikey(b"z6Mk")  # type: ignore[arg-type]
    with pytest.raises(KeyFormatError, match="expected an Ed25519 private key"):
        ed25519_secret_multikey(generate_private_key().public_key())  # type: ignore[arg-type]
    with pytest.raises(KeyFormatError, match="expected an Ed25519 key"):
        ed25519_multikey("z6Mk")  # type: ignore[arg-type]
