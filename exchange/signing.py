"""How footprints are signed and checked: pure functions over trust/ (no Django).

A footprint's signature is a JWS compact serialisation with an Ed25519 key whose
payload is the RFC 8785 canonical bytes of the ProductFootprint (DESIGN.md §5). The
payload may be attached or detached (RFC 7515 Appendix F); either way the bytes
verified are the canonical bytes, which is what the platform stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from trust import jcs, jws, keys
from trust.encoding import sha256
from trust.errors import TrustError

#: The JWS "typ" of a signed footprint; a token with another typ is not a footprint.
FOOTPRINT_JWS_TYPE = "pact-footprint+jws"


class SignatureProblem(ValueError):
    """A signed footprint cannot be accepted; ``field`` says where (jws, jws.header.kid…)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SignedFootprint:
    """A parsed, not yet verified, signed footprint."""

    token: str
    kid: str
    document: Any
    canonical: bytes
    parsed: jws.ParsedJws

    @property
    def sha256_hex(self) -> str:
        return sha256(self.canonical).hex()


def canonical_bytes(document: Any) -> bytes:
    """The RFC 8785 bytes of a footprint document (what is signed and stored)."""
    try:
        return jcs.canonicalize(document)
    except TrustError as exc:
        raise SignatureProblem("footprint", f"cannot be canonicalised: {exc}") from exc


def sign_footprint(document: Any, private_key: Ed25519PrivateKey) -> str:
    """Sign a footprint with an attached canonical payload; kid = the key's thumbprint."""
    kid = keys.jwk_thumbprint(private_key.public_key())
    return jws.sign_compact(canonical_bytes(document), private_key, kid=kid, typ=FOOTPRINT_JWS_TYPE)


def parse_signed_footprint(token: Any, document: Any = None) -> SignedFootprint:
    """Parse a JWS over a footprint: attached canonical payload, or detached + document.

    Refuses a payload that is not exactly the canonical bytes of the JSON it holds, so
    what is signed is byte for byte what is stored and served.
    """
    if not isinstance(token, str) or not token:
        raise SignatureProblem("jws", "a JWS compact serialisation (string) is required")
    try:
        parsed = jws.parse_compact(token)
    except TrustError as exc:
        raise SignatureProblem("jws", str(exc)) from exc
    kid = parsed.header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise SignatureProblem("jws.header.kid", "the key id (RFC 7638 thumbprint) is required")
    typ = parsed.header.get("typ")
    if typ != FOOTPRINT_JWS_TYPE:
        # The type binds the signature to its purpose: a JWS made for something else
        # with the same key cannot be passed off as a footprint.
        raise SignatureProblem("jws.header.typ", f"must be {FOOTPRINT_JWS_TYPE!r}, got {typ!r}")
    if parsed.payload:
        if document is not None:
            raise SignatureProblem(
                "footprint", "send either an attached payload or a detached JWS with the footprint"
            )
        try:
            document = jcs.loads_strict(parsed.payload)
        except TrustError as exc:
            raise SignatureProblem("jws.payload", f"is not valid JSON: {exc}") from exc
        canonical = canonical_bytes(document)
        if canonical != parsed.payload:
            raise SignatureProblem(
                "jws.payload", "must be the RFC 8785 canonical bytes of the footprint"
            )
    else:
        if document is None:
            raise SignatureProblem(
                "footprint", "the JWS payload is detached, so the footprint must be sent with it"
            )
        canonical = canonical_bytes(document)
    return SignedFootprint(
        token=token, kid=kid, document=document, canonical=canonical, parsed=parsed
    )


@lru_cache(maxsize=1024)
def _public_key(x: str) -> Ed25519PublicKey:
    # Importing a JWK checks the point (canonical, on the curve, not small order), which
    # costs more than a verification; registered keys never change, so cache them.
    return keys.public_key_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": x})


def verify_signed_footprint(signed: SignedFootprint, public_jwk: dict[str, Any]) -> None:
    """Check the signature over the canonical bytes with the given public key."""
    try:
        if public_jwk.get("kty") != "OKP" or public_jwk.get("crv") != "Ed25519":
            keys.public_key_from_jwk(public_jwk)  # raises, naming the member
        public_key = _public_key(public_jwk["x"])
        jws.verify_parsed(signed.parsed, public_key, expected_payload=signed.canonical)
    except TrustError as exc:
        raise SignatureProblem("jws", f"signature does not verify: {exc}") from exc
