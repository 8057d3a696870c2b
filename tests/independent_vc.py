"""A second eddsa-jcs-2022 verifier that shares no code with ``trust/``.

The platform signs attestations with :func:`trust.dataintegrity.add_proof` and
checks them with :func:`trust.dataintegrity.verify_proof`; if both had the same
mistake (a wrong hash order, a wrong canonical form), they would happily agree
with each other.  This module re-implements verification from the VC DI EdDSA
cryptosuite text with other building blocks: the ``rfc8785`` package for JSON
canonicalisation, ``base58`` for base58btc and ``cryptography`` for Ed25519.  It
deliberately imports nothing from ``trust``.

It answers one question, "did the holder of this Ed25519 key sign this document
under eddsa-jcs-2022?", and ignores everything a full verifier also checks
(key resolution, purpose, dates).
"""

from __future__ import annotations

import hashlib
from typing import Any

import base58
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

_ED25519_PUB_MULTICODEC = bytes([0xED, 0x01])


def _base58btc_multibase(text: str) -> bytes:
    if not text.startswith("z"):
        raise ValueError(f"not a base58btc Multibase value (prefix {text[:1]!r})")
    return base58.b58decode(text[1:], alphabet=base58.BITCOIN_ALPHABET)


def public_key_from_multibase(public_key_multibase: str) -> Ed25519PublicKey:
    """An Ed25519 public key from its Multikey form: ``z`` + base58btc(0xed01 ‖ 32 bytes)."""
    raw = _base58btc_multibase(public_key_multibase)
    if raw[:2] != _ED25519_PUB_MULTICODEC or len(raw) != 34:
        raise ValueError("not an Ed25519 public Multikey (0xed01 followed by 32 bytes)")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def _jcs_sha256(value: Any) -> bytes:
    return hashlib.sha256(rfc8785.dumps(value)).digest()


def independent_verify(credential: dict[str, Any], public_key_multibase: str) -> bool:
    """True when ``credential`` carries a valid eddsa-jcs-2022 proof by this key.

    Following the cryptosuite's "Verify Proof (eddsa-jcs-2022)":

    1. the unsecured document is the credential without ``proof``; the proof
       options are the proof without ``proofValue``;
    2. if the options carry ``@context``, the document's ``@context`` must start
       with it, and the document is hashed with the options' ``@context``;
    3. hashData = SHA-256(JCS(proof options)) ‖ SHA-256(JCS(unsecured document));
    4. ``proofValue`` is base58btc (``z``) of a 64-byte Ed25519 signature over it.

    Returns False for a proof that is malformed or does not verify; raises
    :class:`ValueError` only for an unusable ``public_key_multibase``.
    """
    key = public_key_from_multibase(public_key_multibase)
    proof = credential.get("proof")
    if not isinstance(proof, dict):
        return False
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != "eddsa-jcs-2022":
        return False
    proof_value = proof.get("proofValue")
    if not isinstance(proof_value, str):
        return False
    options = {name: value for name, value in proof.items() if name != "proofValue"}
    document = {name: value for name, value in credential.items() if name != "proof"}
    if "@context" in options:
        wanted = (
            options["@context"] if isinstance(options["@context"], list) else [options["@context"]]
        )
        have = document.get("@context")
        have = have if isinstance(have, list) else [have]
        if have[: len(wanted)] != wanted:
            return False
        document["@context"] = options["@context"]
    try:
        signature = _base58btc_multibase(proof_value)
        hash_data = _jcs_sha256(options) + _jcs_sha256(document)
    except (ValueError, rfc8785.CanonicalizationError):
        return False
    if len(signature) != 64:
        return False
    try:
        key.verify(signature, hash_data)
    except InvalidSignature:
        return False
    return True
