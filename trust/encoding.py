"""Strict base64 / base64url codecs and hashing helpers.

Python's :mod:`base64` is lenient by default (it silently drops characters
outside the alphabet and accepts non-canonical trailing bits).  For signed
data that leniency would let several different strings decode to the same
bytes, so every decoder here refuses anything but the one canonical form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from trust.errors import TrustError

_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
_B64STD_RE = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def b64url_encode(data: bytes) -> str:
    """Encode bytes as base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url, refusing padding, foreign characters,
    impossible lengths and non-zero trailing bits.

    Raises :class:`TrustError` with code ``"base64url"``.
    """
    if not isinstance(text, str):
        raise TrustError(f"base64url: expected a string, got {type(text).__name__}", "base64url")
    if _B64URL_RE.fullmatch(text) is None:
        if "=" in text:
            raise TrustError("base64url: padding '=' is not allowed", "base64url")
        raise TrustError("base64url: character outside the URL-safe alphabet", "base64url")
    if len(text) % 4 == 1:
        raise TrustError(f"base64url: impossible length {len(text)}", "base64url")
    padded = text + "=" * (-len(text) % 4)
    data = base64.urlsafe_b64decode(padded)
    if b64url_encode(data) != text:
        raise TrustError("base64url: non-canonical trailing bits", "base64url")
    return data


def b64_std_encode(data: bytes) -> str:
    """Encode bytes as standard base64 with padding (RFC 4648 §4)."""
    return base64.b64encode(data).decode("ascii")


def b64_std_decode(text: str) -> bytes:
    """Decode padded standard base64, refusing anything non-canonical.

    Raises :class:`TrustError` with code ``"base64"``.
    """
    if not isinstance(text, str):
        raise TrustError(f"base64: expected a string, got {type(text).__name__}", "base64")
    if _B64STD_RE.fullmatch(text) is None:
        raise TrustError("base64: not canonical padded standard base64", "base64")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - regex already guards
        raise TrustError(f"base64: {exc}", "base64") from exc
    if b64_std_encode(data) != text:
        raise TrustError("base64: non-canonical trailing bits", "base64")
    return data


def sha256(data: bytes) -> bytes:
    """Return the raw 32-byte SHA-256 digest of ``data``."""
    return hashlib.sha256(data).digest()
