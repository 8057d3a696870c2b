"""JWS compact serialisation (RFC 7515) restricted to Ed25519 (RFC 8037).

Only what the platform needs, and strictly: a fixed algorithm family (so
"none"/HMAC confusion is impossible), no critical extensions, no unencoded
payloads, canonical base64url everywhere so that one signature has exactly one
token spelling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from trust.encoding import b64url_decode, b64url_encode
from trust.errors import CanonicalizationError, SignatureError, TrustError
from trust.jcs import canonicalize, loads_strict

#: "EdDSA" is the RFC 8037 name; "Ed25519" the fully-specified one (RFC 9864).
ALLOWED_ALGS = ("Ed25519", "EdDSA")
SIGNATURE_SIZE = 64


@dataclass(frozen=True)
class ParsedJws:
    """A structurally valid JWS; ``signing_input`` is what the signature covers."""

    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes


def sign_compact(
    payload: bytes,
    key: Ed25519PrivateKey,
    *,
    kid: str,
    typ: str | None = None,
    alg: str = "Ed25519",
) -> str:
    """Sign ``payload`` and return a compact JWS.

    The protected header is the JCS form of ``{"alg", "kid", "typ"?}`` so the
    same inputs always give the same token (Ed25519 is deterministic too).
    """
    if alg not in ALLOWED_ALGS:
        raise SignatureError(f'alg: must be "Ed25519" or "EdDSA", got {alg!r}')
    header: dict[str, str] = {"alg": alg, "kid": kid}
    if typ is not None:
        header["typ"] = typ
    return sign_compact_with_header(payload, key, b64url_encode(canonicalize(header)))


def sign_compact_with_header(payload: bytes, key: Ed25519PrivateKey, header_b64: str) -> str:
    """Sign with an exact, already encoded protected header.

    Exists to reproduce published examples byte for byte (RFC 8037 A.4);
    use :func:`sign_compact` otherwise.  The header must pass the same checks
    as :func:`parse_compact`, so this never produces a token we would refuse.
    """
    _parse_header(header_b64)
    signing_input = f"{header_b64}.{b64url_encode(payload)}".encode("ascii")
    signature = key.sign(signing_input)
    return f"{signing_input.decode('ascii')}.{b64url_encode(signature)}"


def _decode_part(name: str, text: str) -> bytes:
    try:
        return b64url_decode(text)
    except TrustError as exc:
        raise SignatureError(f"jws.{name}: {exc.message}") from exc


def _parse_header(header_b64: str) -> dict[str, Any]:
    if not header_b64:
        raise SignatureError("jws.header: empty protected header")
    raw = _decode_part("header", header_b64)
    try:
        header = loads_strict(raw)
    except CanonicalizationError as exc:
        raise SignatureError(f"jws.header: not strict JSON: {exc.message}") from exc
    if not isinstance(header, dict):
        raise SignatureError("jws.header: must be a JSON object")
    if "alg" not in header:
        raise SignatureError("header.alg: required member missing")
    alg = header["alg"]
    if not isinstance(alg, str) or alg not in ALLOWED_ALGS:
        shown = canonicalize(alg).decode("utf-8")
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise SignatureError(f'header.alg: must be "Ed25519" or "EdDSA", got {shown}')
    if "crit" in header:
        raise SignatureError("header.crit: no header extensions are understood, refusing crit")
    if "b64" in header and header["b64"] is not True:
        raise SignatureError("header.b64: unencoded payloads (RFC 7797) are not supported")
    for member in ("kid", "typ", "cty"):
        if member in header and not isinstance(header[member], str):
            raise SignatureError(f"header.{member}: must be a string")
    return header


def parse_compact(token: str) -> ParsedJws:
    """Parse a compact JWS without verifying it, refusing anything irregular.

    Checks: exactly three parts; canonical unpadded base64url; the header is a
    strict-JSON object whose ``alg`` is "Ed25519" or "EdDSA" (never "none" or
    anything else); no ``crit``; no ``b64: false``; a 64-byte signature.
    """
    if not isinstance(token, str):
        raise SignatureError(f"jws: must be a string, got {type(token).__name__}")
    parts = token.split(".")
    if len(parts) != 3:
        raise SignatureError(f"jws: must have exactly 3 dot-separated parts, got {len(parts)}")
    header_b64, payload_b64, signature_b64 = parts
    header = _parse_header(header_b64)
    payload = _decode_part("payload", payload_b64)
    signature = _decode_part("signature", signature_b64)
    if len(signature) != SIGNATURE_SIZE:
        raise SignatureError(f"jws.signature: must be {SIGNATURE_SIZE} bytes, got {len(signature)}")
    return ParsedJws(
        header=header,
        payload=payload,
        signing_input=f"{header_b64}.{payload_b64}".encode("ascii"),
        signature=signature,
    )


def verify_compact(
    token: str, public_key: Ed25519PublicKey, *, expected_payload: bytes | None = None
) -> ParsedJws:
    """Parse and verify a compact JWS with ``public_key``.

    With ``expected_payload`` the token's payload must equal it byte for byte;
    a token with an empty payload part is then treated as detached (RFC 7515
    Appendix F) and verified over ``expected_payload``.  The returned
    :class:`ParsedJws` always carries the payload that was actually verified.
    """
    return verify_parsed(parse_compact(token), public_key, expected_payload=expected_payload)


def verify_parsed(
    parsed: ParsedJws, public_key: Ed25519PublicKey, *, expected_payload: bytes | None = None
) -> ParsedJws:
    """Verify an already parsed JWS (same rules as :func:`verify_compact`), so a caller
    that had to parse the token to find its key does not parse it twice."""
    if expected_payload is not None and parsed.signing_input.endswith(b"."):
        header_b64 = parsed.signing_input[:-1].decode("ascii")
        signing_input = f"{header_b64}.{b64url_encode(expected_payload)}".encode("ascii")
        parsed = ParsedJws(parsed.header, expected_payload, signing_input, parsed.signature)
    try:
        public_key.verify(parsed.signature, parsed.signing_input)
    except InvalidSignature as exc:
        raise SignatureError("jws: signature does not verify with the given key") from exc
    if expected_payload is not None and parsed.payload != expected_payload:
        raise SignatureError("jws: payload does not match the expected payload")
    return parsed
