"""Base58btc, Multibase and Multikey: how Data Integrity proofs spell bytes and keys.

W3C Data Integrity (eddsa-jcs-2022) writes the 64-byte signature as a Multibase
string, and the Controlled Identifiers spec writes Ed25519 keys as Multikeys
(``z6Mk…`` for a public key, ``z3u2…`` for a secret key).  Only the one base
the spec allows, base58btc (prefix ``z``), is accepted: a verifier that took any
base would let the same signature travel under many spellings.

Base58btc has no padding and no alternative characters, so with the
"one leading ``1`` per leading zero byte" rule every byte string has exactly one
encoding; the decoder still refuses any character outside the alphabet instead
of skipping it.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from trust.errors import KeyFormatError, TrustError
from trust.keys import KEY_SIZE, public_key_bytes, public_key_from_bytes, public_point_problem

#: The Bitcoin alphabet: no 0, O, I or l, so no two characters look alike.
BASE58BTC_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: value for value, char in enumerate(BASE58BTC_ALPHABET)}

#: Multibase prefix of base58btc, the only base the Data Integrity specs allow.
MULTIBASE_BASE58BTC = "z"

#: Multicodec ``ed25519-pub`` (0xed) as an unsigned varint.
ED25519_PUB_HEADER = b"\xed\x01"
#: Multicodec ``ed25519-priv`` (0x1300) as an unsigned varint.
ED25519_PRIV_HEADER = b"\x80\x26"

#: A Multikey is a header of two bytes plus 32 key bytes, at most 47 base58
#: characters and the prefix; anything far longer is refused before decoding, so
#: an attacker cannot make the quadratic base conversion chew on megabytes.
_MAX_MULTIKEY_CHARS = 64


def base58btc_encode(data: bytes) -> str:
    """Encode ``data`` in base58btc; each leading zero byte becomes a ``1``."""
    if not isinstance(data, (bytes, bytearray)):
        raise TrustError(f"base58btc: expected bytes, got {type(data).__name__}", "base58btc")
    zeros = len(data) - len(bytes(data).lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(BASE58BTC_ALPHABET[remainder])
    return "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    """Decode base58btc, refusing any character outside the alphabet.

    Raises :class:`TrustError` with code ``"base58btc"`` naming the first bad
    character and its position (``0``, ``O``, ``I`` and ``l`` are the usual
    culprits when a value was retyped by hand).
    """
    if not isinstance(text, str):
        raise TrustError(f"base58btc: expected a string, got {type(text).__name__}", "base58btc")
    number = 0
    for position, char in enumerate(text):
        value = _INDEX.get(char)
        if value is None:
            raise TrustError(
                f"base58btc: character {char!r} at position {position} is not in the alphabet",
                "base58btc",
            )
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_encode_base58btc(data: bytes) -> str:
    """Encode ``data`` as a Multibase base58btc string (``z`` + base58btc)."""
    return MULTIBASE_BASE58BTC + base58btc_encode(data)


def multibase_decode(text: str) -> bytes:
    """Decode a Multibase string; only base58btc (``z``) is supported.

    Other Multibase bases exist (``u`` base64url, ``f`` hex, …) but the Data
    Integrity and Multikey specs say any other encoding MUST NOT be allowed, so
    they are refused with a message naming the prefix that was found.
    """
    if not isinstance(text, str):
        raise TrustError(f"multibase: expected a string, got {type(text).__name__}", "multibase")
    if not text:
        raise TrustError("multibase: empty string has no base prefix", "multibase")
    if text[0] != MULTIBASE_BASE58BTC:
        raise TrustError(
            f"multibase: prefix {text[0]!r} is not supported, only 'z' (base58btc) is allowed",
            "multibase",
        )
    try:
        return base58btc_decode(text[1:])
    except TrustError as exc:
        raise TrustError(f"multibase: {exc.message}", "multibase") from exc


def _multikey_body(text: str, header: bytes, what: str) -> bytes:
    """The 32 key bytes of a Multikey after checking prefix, header and length."""
    if not isinstance(text, str):
        raise KeyFormatError(f"{what}: expected a string, got {type(text).__name__}")
    if len(text) > _MAX_MULTIKEY_CHARS:
        raise KeyFormatError(
            f"{what}: {len(text)} characters is far too long for an Ed25519 Multikey"
        )
    try:
        raw = multibase_decode(text)
    except TrustError as exc:
        raise KeyFormatError(f"{what}: {exc.message}") from exc
    if raw[: len(header)] != header:
        raise KeyFormatError(
            f"{what}: multicodec header {raw[:2].hex() or '(none)'} is not"
            f" {header.hex()}, so this is not an Ed25519 {what}"
        )
    body = raw[len(header) :]
    if len(body) != KEY_SIZE:
        raise KeyFormatError(
            f"{what}: must hold exactly {KEY_SIZE} key bytes after the header, got {len(body)}"
        )
    return body


def ed25519_multikey(public_key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """Return the ``publicKeyMultibase`` (``z6Mk…``) of an Ed25519 key.

    Accepts a private key too and encodes only its public half, so a caller
    can never publish secret material through this function by mistake.
    """
    return multibase_encode_base58btc(ED25519_PUB_HEADER + public_key_bytes(public_key))


def public_key_from_multikey(text: str) -> Ed25519PublicKey:
    """Load an Ed25519 public key from its ``publicKeyMultibase`` form, strictly.

    Besides the base, multicodec header (0xed01) and length, the 32 bytes must
    be a safe curve point: a small-order "key" would accept forged signatures.
    A secret-key Multikey (``z3u2…``) is refused with a message saying so,
    since pasting it where a public key belongs means it has leaked.
    """
    if isinstance(text, str) and text.startswith("z3u2"):
        raise KeyFormatError(
            "publicKeyMultibase: this is an Ed25519 secret key (z3u2…), not a public key;"
            " treat it as leaked"
        )
    raw = _multikey_body(text, ED25519_PUB_HEADER, "public key Multikey")
    problem = public_point_problem(raw)
    if problem:
        raise KeyFormatError(f"public key Multikey: {problem}")
    return public_key_from_bytes(raw)


def ed25519_secret_multikey(private_key: Ed25519PrivateKey) -> str:
    """Return the ``secretKeyMultibase`` (``z3u2…``) form of an Ed25519 private key.

    Exists for key files and test vectors; never put this value in a DID
    document or any other published place.
    """
    if not isinstance(private_key, Ed25519PrivateKey):
        raise KeyFormatError(f"expected an Ed25519 private key, got {type(private_key).__name__}")
    return multibase_encode_base58btc(ED25519_PRIV_HEADER + private_key.private_bytes_raw())


def private_key_from_multikey(text: str) -> Ed25519PrivateKey:
    """Load an Ed25519 private key from its ``secretKeyMultibase`` (``z3u2…``) form.

    The 32 bytes after the 0x1300 header are the RFC 8032 seed, the same bytes
    as a JWK's ``d``; this is how the W3C test vectors publish their key pair.
    """
    seed = _multikey_body(text, ED25519_PRIV_HEADER, "secret key Multikey")
    return Ed25519PrivateKey.from_private_bytes(seed)
