"""Ed25519 keys: generation, JWK (RFC 8037) and PEM forms, thumbprints, wrapping.

Ed25519 is the only algorithm the platform signs with.  Parsing is strict so a
malformed or private JWK is refused with a message that names the member and
the rule, which is what an API client needs to fix its request.
"""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from trust.encoding import b64url_decode, b64url_encode, sha256
from trust.errors import KeyFormatError, TrustError
from trust.jcs import canonicalize

KEY_SIZE = 32
_WRAP_VERSION = 0x01
_NONCE_SIZE = 12
_TAG_SIZE = 16
_WRAPPED_SIZE = 1 + _NONCE_SIZE + KEY_SIZE + _TAG_SIZE


def generate_private_key() -> Ed25519PrivateKey:
    """Generate a fresh Ed25519 private key from the OS CSPRNG."""
    return Ed25519PrivateKey.generate()


def _public(key: Ed25519PublicKey | Ed25519PrivateKey) -> Ed25519PublicKey:
    if isinstance(key, Ed25519PrivateKey):
        return key.public_key()
    if isinstance(key, Ed25519PublicKey):
        return key
    raise KeyFormatError(f"expected an Ed25519 key, got {type(key).__name__}")


def public_key_bytes(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    """Return the raw 32-byte public key."""
    return _public(key).public_bytes_raw()


def public_key_from_bytes(raw: bytes) -> Ed25519PublicKey:
    """Load a raw 32-byte Ed25519 public key."""
    if not isinstance(raw, bytes) or len(raw) != KEY_SIZE:
        size = len(raw) if isinstance(raw, bytes) else type(raw).__name__
        raise KeyFormatError(f"public key: must be exactly {KEY_SIZE} bytes, got {size}")
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:  # pragma: no cover - OpenSSL accepts any 32 bytes today
        raise KeyFormatError(f"public key: not a valid Ed25519 key ({exc})") from exc


def public_jwk(key: Ed25519PublicKey | Ed25519PrivateKey) -> dict[str, str]:
    """Return the public JWK (RFC 8037 §2) of ``key``; never includes ``d``."""
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(public_key_bytes(key))}


def private_jwk(key: Ed25519PrivateKey) -> dict[str, str]:
    """Return the private JWK of ``key`` (the public JWK plus the seed as ``d``)."""
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFormatError(f"expected an Ed25519 private key, got {type(key).__name__}")
    return {**public_jwk(key), "d": b64url_encode(key.private_bytes_raw())}


def _show(value: Any) -> str:
    """Render a JWK member value for an error message, JSON style and short."""
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):
        text = type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _validated_x(jwk: Any, *, allow_private: bool) -> bytes:
    if not isinstance(jwk, dict):
        raise KeyFormatError(f"jwk: must be a JSON object, got {type(jwk).__name__}")
    if "d" in jwk and not allow_private:
        raise KeyFormatError(
            "jwk.d: private key material must never be registered; send the public JWK only"
        )
    for member, expected in (("kty", "OKP"), ("crv", "Ed25519")):
        if member not in jwk:
            raise KeyFormatError(f"jwk.{member}: required member missing")
        if jwk[member] != expected:
            raise KeyFormatError(f'jwk.{member}: must be "{expected}", got {_show(jwk[member])}')
    if "x" not in jwk:
        raise KeyFormatError("jwk.x: required member missing")
    x = jwk["x"]
    if not isinstance(x, str):
        raise KeyFormatError(f"jwk.x: must be a base64url string, got {_show(x)}")
    try:
        raw = b64url_decode(x)
    except TrustError as exc:
        raise KeyFormatError(f"jwk.x: must be base64url without padding ({exc.message})") from exc
    if len(raw) != KEY_SIZE:
        raise KeyFormatError(f"jwk.x: must decode to exactly {KEY_SIZE} bytes, got {len(raw)}")
    problem = public_point_problem(raw)
    if problem:
        raise KeyFormatError(f"jwk.x: {problem}")
    return raw


# Edwards25519 (RFC 8032 §5.1): -x^2 + y^2 = 1 + d x^2 y^2 over GF(p).
_P = 2**255 - 19
_D = (-121665 * pow(121666, -1, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _edwards_add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    (x1, y1), (x2, y2) = a, b
    t = _D * x1 * x2 * y1 * y2 % _P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, -1, _P) % _P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, -1, _P) % _P
    return x3, y3


def public_point_problem(raw: bytes) -> str | None:
    """Why 32 bytes are not a safe Ed25519 public key, or None if they are.

    OpenSSL loads any 32 bytes, but a key that is not a canonical curve point, or a
    point of small order (8·P is the neutral element), is worthless: for small-order
    keys one signature verifies for every message, so anyone could "sign" as the
    key's owner and the owner could deny its own signatures (RFC 8032 §5.1.3 decoding,
    the small-order check of libsodium's crypto_sign_verify_detached).
    """
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    sign = raw[31] >> 7
    if y >= _P:
        return "is not a canonical curve point encoding (y >= p)"
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    if v * x * x % _P == (-u) % _P:
        x = x * _SQRT_M1 % _P
    elif v * x * x % _P != u:
        return "is not a point on the Ed25519 curve"
    if x == 0 and sign:
        return "is not a canonical curve point encoding (x = 0 with the sign bit set)"
    if x & 1 != sign:
        x = _P - x
    point = (x, y)
    for _ in range(3):
        point = _edwards_add(point, point)
    if point == (0, 1):
        return "is a small-order point: signatures under it prove nothing, use a real key"
    return None


def public_key_from_jwk(jwk: dict[str, Any]) -> Ed25519PublicKey:
    """Load an Ed25519 public key from a JWK, strictly.

    Requires ``kty`` "OKP", ``crv`` "Ed25519" and ``x`` decoding to 32 bytes.
    A JWK carrying ``d`` is refused outright: a private key sent to the
    platform is compromised, and accepting it would hide that mistake.
    Other unknown members are ignored, as RFC 7517 §4 asks.
    """
    return public_key_from_bytes(_validated_x(jwk, allow_private=False))


def jwk_thumbprint(jwk_or_key: dict[str, Any] | Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """Return the RFC 7638 thumbprint, base64url of SHA-256 over JCS({crv, kty, x}).

    Accepts a key object or a JWK; a private JWK gives the same thumbprint as
    its public half (only the required public members are hashed).
    """
    if isinstance(jwk_or_key, dict):
        members = public_jwk(public_key_from_bytes(_validated_x(jwk_or_key, allow_private=True)))
    else:
        members = public_jwk(jwk_or_key)
    return b64url_encode(sha256(canonicalize(members)))


def private_key_to_pem(key: Ed25519PrivateKey) -> bytes:
    """Serialise ``key`` as unencrypted PKCS#8 PEM (for files the operator protects)."""
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFormatError(f"expected an Ed25519 private key, got {type(key).__name__}")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def private_key_from_pem(data: bytes) -> Ed25519PrivateKey:
    """Load an unencrypted PEM private key, refusing anything that is not Ed25519."""
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(f"private key PEM: cannot load ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFormatError(f"private key PEM: must be Ed25519, got {type(key).__name__}")
    return key


def _check_wrapping_key(wrapping_key: bytes) -> AESGCM:
    if not isinstance(wrapping_key, bytes) or len(wrapping_key) != 32:
        size = len(wrapping_key) if isinstance(wrapping_key, bytes) else type(wrapping_key).__name__
        raise KeyFormatError(f"wrapping key: must be exactly 32 bytes (AES-256), got {size}")
    return AESGCM(wrapping_key)


def encrypt_private_key(
    key: Ed25519PrivateKey, *, wrapping_key: bytes, associated_data: bytes
) -> bytes:
    """Wrap ``key`` with AES-256-GCM for storage at rest.

    The blob is ``0x01 || nonce(12) || ciphertext+tag``.  ``associated_data``
    should bind the blob to its owner (e.g. the company and key id), so a blob
    copied into another row fails to decrypt.
    """
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFormatError(f"expected an Ed25519 private key, got {type(key).__name__}")
    aead = _check_wrapping_key(wrapping_key)
    nonce = os.urandom(_NONCE_SIZE)
    ciphertext = aead.encrypt(nonce, key.private_bytes_raw(), associated_data)
    return bytes([_WRAP_VERSION]) + nonce + ciphertext


def decrypt_private_key(
    blob: bytes, *, wrapping_key: bytes, associated_data: bytes
) -> Ed25519PrivateKey:
    """Unwrap a blob made by :func:`encrypt_private_key`.

    Raises :class:`KeyFormatError` for a malformed blob, and "cannot decrypt"
    for a wrong key, wrong associated data or any tampering (GCM cannot tell
    these apart, by design).
    """
    aead = _check_wrapping_key(wrapping_key)
    if not isinstance(blob, bytes) or len(blob) != _WRAPPED_SIZE:
        size = len(blob) if isinstance(blob, bytes) else type(blob).__name__
        raise KeyFormatError(f"wrapped key: must be exactly {_WRAPPED_SIZE} bytes, got {size}")
    if blob[0] != _WRAP_VERSION:
        raise KeyFormatError(f"wrapped key: unknown version byte 0x{blob[0]:02x}")
    nonce, ciphertext = blob[1 : 1 + _NONCE_SIZE], blob[1 + _NONCE_SIZE :]
    try:
        seed = aead.decrypt(nonce, ciphertext, associated_data)
    except InvalidTag as exc:
        raise KeyFormatError(
            "cannot decrypt private key: wrong wrapping key, wrong associated data or tampered blob"
        ) from exc
    return Ed25519PrivateKey.from_private_bytes(seed)
