"""Tests for trust.dataintegrity: Data Integrity proofs with eddsa-jcs-2022.

The W3C vc-di-eddsa test vectors are reproduced byte for byte (canonical
forms, hashes, signature, the signed credential); then every way of tampering
with a secured credential must be refused with a message that says what is
wrong.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trust.vectors import require_vectors
from trust.dataintegrity import (
    CRYPTOSUITE,
    PROOF_TYPE,
    ProofOptions,
    VerifiedProof,
    add_proof,
    canonical_document,
    canonical_proof_config,
    hash_data,
    parse_datetime_stamp,
    resolve_did_key,
    verify_proof,
)
from trust.encoding import sha256
from trust.errors import CanonicalizationError, KeyFormatError, ProofError, SignatureError
from trust.jcs import loads_strict
from trust.keys import generate_private_key
from trust.multibase import (
    base58btc_encode,
    ed25519_multikey,
    multibase_decode,
    multibase_encode_base58btc,
    private_key_from_multikey,
    public_key_from_multikey,
)

SUITE_FILES = {
    "canonDocJCS.txt",
    "combinedHashJCS.txt",
    "docHashJCS.txt",
    "proofCanonJCS.txt",
    "proofConfigJCS.json",
    "proofHashJCS.txt",
    "sigBTC58JCS.txt",
    "sigHexJCS.txt",
    "signedJCS.json",
}


class Vectors:
    """The files of vc-di-eddsa/TestVectors used for eddsa-jcs-2022."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.suite = folder / "eddsa-jcs-2022"
        pair = json.loads((folder / "keyPair.json").read_text())
        self.public_multikey: str = pair["publicKeyMultibase"]
        self.private_key = private_key_from_multikey(pair["privateKeyMultibase"])
        self.unsigned: dict[str, Any] = json.loads((folder / "unsigned.json").read_text())
        self.proof_config: dict[str, Any] = json.loads(self.read("proofConfigJCS.json"))
        self.signed: dict[str, Any] = json.loads(self.read("signedJCS.json"))

    def read(self, name: str) -> str:
        return (self.suite / name).read_text(encoding="utf-8")

    def read_bytes(self, name: str) -> bytes:
        return (self.suite / name).read_bytes()

    def options(self) -> ProofOptions:
        return ProofOptions(
            verification_method=self.proof_config["verificationMethod"],
            proof_purpose=self.proof_config["proofPurpose"],
            created=self.proof_config["created"],
        )

    def resolve(self, verification_method: str) -> Ed25519PublicKey:
        """A resolver that knows only the vector key, under its did:key URL."""
        if verification_method != self.proof_config["verificationMethod"]:
            raise LookupError(f"unknown verification method {verification_method}")
        return public_key_from_multikey(self.public_multikey)


@pytest.fixture(scope="module")
def vectors() -> Vectors:
    return Vectors(require_vectors("vc-di-eddsa/TestVectors"))


# --------------------------------------------------------------------------- published vectors


def test_vector_folder_is_complete(vectors: Vectors) -> None:
    assert {p.name for p in vectors.folder.iterdir() if p.is_file()} == {
        "keyPair.json",
        "unsigned.json",
    }
    assert {p.name for p in vectors.suite.iterdir()} == SUITE_FILES


def test_vector_key_pair_is_the_did_key_of_the_proof(vectors: Vectors) -> None:
    method = vectors.proof_config["verificationMethod"]
    assert method == f"did:key:{vectors.public_multikey}#{vectors.public_multikey}"
    assert ed25519_multikey(vectors.private_key) == vectors.public_multikey


def test_vector_unsigned_is_the_signed_without_proof(vectors: Vectors) -> None:
    without_proof = {k: v for k, v in vectors.signed.items() if k != "proof"}
    assert without_proof == vectors.unsigned
    assert {k: v for k, v in vectors.signed["proof"].items() if k != "proofValue"} == (
        vectors.proof_config
    )


def test_vector_canonical_document_byte_for_byte(vectors: Vectors) -> None:
    canonical = canonical_document(vectors.unsigned)
    assert canonical == vectors.read_bytes("canonDocJCS.txt")
    assert sha256(canonical).hex() == vectors.read("docHashJCS.txt")


def test_vector_proof_config_byte_for_byte(vectors: Vectors) -> None:
    canonical = canonical_proof_config(vectors.proof_config)
    assert canonical == vectors.read_bytes("proofCanonJCS.txt")
    assert sha256(canonical).hex() == vectors.read("proofHashJCS.txt")


def test_vector_proof_config_includes_the_document_context(vectors: Vectors) -> None:
    # The cryptosuite copies the document's @context into the proof (Create Proof step 2).
    assert vectors.proof_config["@context"] == vectors.unsigned["@context"]


def test_vector_hash_data_is_combined_hash(vectors: Vectors) -> None:
    data = hash_data(vectors.unsigned, vectors.proof_config)
    assert len(data) == 64
    assert data.hex() == vectors.read("combinedHashJCS.txt")
    assert data.hex() == vectors.read("proofHashJCS.txt") + vectors.read("docHashJCS.txt")


def test_vector_signature_reproduced(vectors: Vectors) -> None:
    signature = vectors.private_key.sign(hash_data(vectors.unsigned, vectors.proof_config))
    assert signature.hex() == vectors.read("sigHexJCS.txt")
    assert multibase_encode_base58btc(signature) == vectors.read("sigBTC58JCS.txt")


def test_vector_add_proof_reproduces_the_signed_credential(vectors: Vectors) -> None:
    secured = add_proof(vectors.unsigned, vectors.private_key, vectors.options())
    assert secured == vectors.signed
    assert secured["proof"]["proofValue"] == vectors.read("sigBTC58JCS.txt")
    # Even the file's layout: the proof members come out in the spec's order.
    assert json.dumps(secured, indent=2) == vectors.read("signedJCS.json")
    config = {k: v for k, v in secured["proof"].items() if k != "proofValue"}
    assert json.dumps(config, indent=2) == vectors.read("proofConfigJCS.json")


def test_vector_add_proof_does_not_touch_its_input(vectors: Vectors) -> None:
    before = copy.deepcopy(vectors.unsigned)
    secured = add_proof(vectors.unsigned, vectors.private_key, vectors.options())
    assert vectors.unsigned == before
    assert "proof" not in vectors.unsigned
    secured["@context"].append("https://example.org/other")
    assert vectors.unsigned == before  # a deep copy, not shared lists


def test_vector_signed_credential_verifies(vectors: Vectors) -> None:
    result = verify_proof(vectors.signed, vectors.resolve)
    assert result == VerifiedProof(
        verification_method=vectors.proof_config["verificationMethod"],
        created="2023-02-24T23:36:38Z",
        purpose="assertionMethod",
        document=vectors.unsigned,
    )


def test_vector_signed_credential_verifies_through_did_key(vectors: Vectors) -> None:
    result = verify_proof(vectors.signed, resolve_did_key)
    assert result.verification_method.startswith("did:key:z6Mk")


def test_vector_signed_credential_from_strict_json_bytes(vectors: Vectors) -> None:
    parsed = loads_strict((vectors.suite / "signedJCS.json").read_bytes())
    assert verify_proof(parsed, vectors.resolve).purpose == "assertionMethod"


# --------------------------------------------------------------------------- tampering


def _tampered(vectors: Vectors, path: list[str | int], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(vectors.signed)
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return doc


def _deleted(vectors: Vectors, path: list[str]) -> dict[str, Any]:
    doc = copy.deepcopy(vectors.signed)
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return doc


SIGNATURE_FAILS = "signature does not verify: the document or its proof options were changed"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["credentialSubject", "alumniOf"], "The School of Forgeries"),
        (["credentialSubject", "id"], "did:example:someone-else"),
        (["name"], "Alumni Credential "),
        (["validFrom"], "2023-01-01T00:00:01Z"),
        (["issuer"], "https://vc.example/issuers/5679"),
        (["type", 1], "DiplomaCredential"),
        (["extra"], "an added claim"),
    ],
)
def test_tampered_document_is_refused(vectors: Vectors, path: list[Any], value: Any) -> None:
    with pytest.raises(SignatureError) as info:
        verify_proof(_tampered(vectors, path, value), vectors.resolve)
    assert SIGNATURE_FAILS in info.value.message
    assert info.value.code == "signature_invalid"


def test_removed_claim_is_refused(vectors: Vectors) -> None:
    with pytest.raises(SignatureError, match="signature does not verify"):
        verify_proof(_deleted(vectors, ["description"]), vectors.resolve)


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("created", "2023-02-24T23:36:39Z"),
        ("created", "2023-02-24T23:36:38+00:00"),  # the same instant, other bytes
        ("proofPurpose", "authentication"),
        ("challenge", "added-after-signing"),
        ("expires", "2999-01-01T00:00:00Z"),
    ],
)
def test_tampered_proof_options_are_refused(vectors: Vectors, member: str, value: str) -> None:
    doc = _tampered(vectors, ["proof", member], value)
    with pytest.raises(SignatureError) as info:
        verify_proof(doc, vectors.resolve, expected_purpose=None)
    assert SIGNATURE_FAILS in info.value.message


def test_removed_created_is_refused(vectors: Vectors) -> None:
    with pytest.raises(SignatureError, match="signature does not verify"):
        verify_proof(_deleted(vectors, ["proof", "created"]), vectors.resolve)


def test_removed_proof_context_is_refused(vectors: Vectors) -> None:
    with pytest.raises(SignatureError, match="signature does not verify"):
        verify_proof(_deleted(vectors, ["proof", "@context"]), vectors.resolve)


def test_other_verification_method_is_a_wrong_key(vectors: Vectors) -> None:
    other = ed25519_multikey(generate_private_key())
    doc = _tampered(vectors, ["proof", "verificationMethod"], f"did:key:{other}#{other}")
    with pytest.raises(SignatureError) as info:
        verify_proof(doc, resolve_did_key)
    assert f"or 'did:key:{other}#{other}' is not the signing key" in info.value.message


def test_resolver_returning_another_key_is_refused(vectors: Vectors) -> None:
    stranger = generate_private_key().public_key()
    with pytest.raises(SignatureError, match="is not the signing key"):
        verify_proof(vectors.signed, lambda _method: stranger)


def test_unknown_verification_method_is_refused(vectors: Vectors) -> None:
    doc = _tampered(vectors, ["proof", "verificationMethod"], "https://vc.example/keys#1")
    with pytest.raises(ProofError) as info:
        verify_proof(doc, vectors.resolve)
    assert info.value.code == "proof_key_unknown"
    assert "'https://vc.example/keys#1' cannot be resolved" in info.value.message


def test_resolver_returning_a_small_order_key_is_refused(vectors: Vectors) -> None:
    neutral = Ed25519PublicKey.from_public_bytes(b"\x01" + b"\0" * 31)
    with pytest.raises(KeyFormatError, match="small-order point"):
        verify_proof(vectors.signed, lambda _method: neutral)


def test_resolver_returning_something_else_is_refused(vectors: Vectors) -> None:
    with pytest.raises(KeyFormatError, match="not an Ed25519 public key"):
        verify_proof(vectors.signed, lambda _method: "z6Mk")  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize("cryptosuite", ["eddsa-rdfc-2022", "ecdsa-jcs-2019", "", None, 7])
def test_wrong_cryptosuite_is_refused(vectors: Vectors, cryptosuite: Any) -> None:
    doc = _tampered(vectors, ["proof", "cryptosuite"], cryptosuite)
    with pytest.raises(ProofError) as info:
        verify_proof(doc, vectors.resolve)
    assert info.value.code == "proof_cryptosuite"
    assert f'proof.cryptosuite: must be "eddsa-jcs-2022", got {cryptosuite!r}' in (
        info.value.message
    )


def test_missing_cryptosuite_is_refused(vectors: Vectors) -> None:
    with pytest.raises(ProofError, match=r"proof\.cryptosuite: required member missing"):
        verify_proof(_deleted(vectors, ["proof", "cryptosuite"]), vectors.resolve)


@pytest.mark.parametrize("proof_type", ["Ed25519Signature2020", "DataIntegrityProof2", None])
def test_wrong_proof_type_is_refused(vectors: Vectors, proof_type: Any) -> None:
    doc = _tampered(vectors, ["proof", "type"], proof_type)
    with pytest.raises(ProofError) as info:
        verify_proof(doc, vectors.resolve)
    assert info.value.code == "proof_type"
    assert 'proof.type: must be "DataIntegrityProof"' in info.value.message


@pytest.mark.parametrize("member", ["type", "verificationMethod", "proofPurpose"])
def test_missing_required_members_are_refused(vectors: Vectors, member: str) -> None:
    with pytest.raises(ProofError, match=rf"proof\.{member}: required member missing"):
        verify_proof(_deleted(vectors, ["proof", member]), vectors.resolve)


def test_missing_proof_value_is_refused(vectors: Vectors) -> None:
    with pytest.raises(ProofError) as info:
        verify_proof(_deleted(vectors, ["proof", "proofValue"]), vectors.resolve)
    assert info.value.code == "proof_value"
    assert info.value.message == "proof.proofValue: required member missing"


def _flip_last_signature_byte(text: str) -> str:
    raw = bytearray(multibase_decode(text))
    raw[-1] ^= 0x01
    return multibase_encode_base58btc(bytes(raw))


@pytest.mark.parametrize(
    ("proof_value", "message"),
    [
        ("u" + "A" * 86, "prefix 'u' is not supported, only 'z' (base58btc)"),
        (
            "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51a0",
            "character '0' at position 87",
        ),
        ("", "empty string has no base prefix"),
        (multibase_encode_base58btc(b"\x01" * 63), "64-byte Ed25519 signature, got 63 bytes"),
        (multibase_encode_base58btc(b"\x01" * 65), "64-byte Ed25519 signature, got 65 bytes"),
        ("z" + "2" * 200, "far too long for a 64-byte signature"),
        (12, "must be a Multibase string, got int"),
    ],
)
def test_bad_proof_value_is_refused(vectors: Vectors, proof_value: Any, message: str) -> None:
    doc = _tampered(vectors, ["proof", "proofValue"], proof_value)
    with pytest.raises(ProofError) as info:
        verify_proof(doc, vectors.resolve)
    assert info.value.code == "proof_value"
    assert message in info.value.message


def test_altered_signature_is_refused(vectors: Vectors) -> None:
    value = _flip_last_signature_byte(vectors.signed["proof"]["proofValue"])
    with pytest.raises(SignatureError, match="signature does not verify"):
        verify_proof(_tampered(vectors, ["proof", "proofValue"], value), vectors.resolve)


def test_unexpected_purpose_is_refused_before_the_signature(vectors: Vectors) -> None:
    with pytest.raises(ProofError) as info:
        verify_proof(vectors.signed, vectors.resolve, expected_purpose="authentication")
    assert info.value.code == "proof_purpose"
    assert "'assertionMethod', but this proof is being checked for 'authentication'" in (
        info.value.message
    )


@pytest.mark.parametrize("created", ["2023-02-24 23:36:38Z", "2023-02-24T23:36:38", "yesterday", 5])
def test_malformed_created_is_refused(vectors: Vectors, created: Any) -> None:
    doc = _tampered(vectors, ["proof", "created"], created)
    with pytest.raises(ProofError) as info:
        verify_proof(doc, vectors.resolve)
    assert info.value.code == "proof_datetime"
    assert info.value.message.startswith("proof.created: ")


def test_document_context_changed_is_refused(vectors: Vectors) -> None:
    doc = _tampered(vectors, ["@context", 1], "https://evil.example/context")
    with pytest.raises(ProofError) as info:
        verify_proof(doc, vectors.resolve)
    assert info.value.code == "proof_context"
    assert "does not start with the proof's @context" in info.value.message


def test_document_context_reordered_or_removed_is_refused(vectors: Vectors) -> None:
    reordered = _tampered(vectors, ["@context"], list(reversed(vectors.signed["@context"])))
    with pytest.raises(ProofError, match="does not start with the proof's @context"):
        verify_proof(reordered, vectors.resolve)
    with pytest.raises(ProofError, match="does not start with the proof's @context"):
        verify_proof(_deleted(vectors, ["@context"]), vectors.resolve)


def test_document_context_extended_after_signing_still_verifies(vectors: Vectors) -> None:
    # The cryptosuite's rule: the document's @context only has to *start with*
    # the proof's (a proof set may add contexts); the signed part is the proof's.
    extended = [*vectors.signed["@context"], "https://example.org/more/v1"]
    doc = _tampered(vectors, ["@context"], extended)
    result = verify_proof(doc, vectors.resolve)
    assert result.document["@context"] == vectors.unsigned["@context"]


def test_proof_sets_chains_and_missing_proofs_are_refused(vectors: Vectors) -> None:
    proof = vectors.signed["proof"]
    with pytest.raises(ProofError, match=r"proof sets .* are not supported"):
        verify_proof(_tampered(vectors, ["proof"], [proof]), vectors.resolve)
    with pytest.raises(ProofError, match="proof chains are not supported"):
        verify_proof(_tampered(vectors, ["proof", "previousProof"], "urn:x"), vectors.resolve)
    with pytest.raises(ProofError) as info:
        verify_proof(vectors.unsigned, vectors.resolve)
    assert info.value.code == "proof_missing"
    with pytest.raises(ProofError, match="proof: must be a JSON object, got str"):
        verify_proof(_tampered(vectors, ["proof"], "z2Hn"), vectors.resolve)
    with pytest.raises(ProofError, match="document: must be a JSON object"):
        verify_proof([vectors.signed], vectors.resolve)  # type: ignore[arg-type]


def test_verify_does_not_modify_its_input(vectors: Vectors) -> None:
    doc = _tampered(vectors, ["@context"], [*vectors.signed["@context"], "https://x.example/v1"])
    before = copy.deepcopy(doc)
    result = verify_proof(doc, vectors.resolve)
    assert doc == before
    result.document["name"] = "changed"
    assert doc == before


# --------------------------------------------------------------------------- own proofs

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEY_MULTIKEY = ed25519_multikey(KEY)
METHOD = f"did:web:exchange.example:verifiers:acme#{KEY_MULTIKEY}"


def _resolve(method: str) -> Ed25519PublicKey:
    if method != METHOD:
        raise LookupError(method)
    return KEY.public_key()


ATTESTATION: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential", "CarbonFootprintAttestation"],
    "issuer": "did:web:exchange.example:verifiers:acme",
    "validFrom": "2025-01-01T00:00:00Z",
    "credentialSubject": {
        "footprint": "urn:uuid:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        "digestSha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "assurance": "limited",
        "materialityPercent": "5",
    },
}


def test_created_defaults_to_now_in_utc_seconds() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    secured = add_proof(ATTESTATION, KEY, ProofOptions(verification_method=METHOD))
    created = secured["proof"]["created"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created)
    assert before <= parse_datetime_stamp(created, "created") <= datetime.now(UTC)
    assert verify_proof(secured, _resolve).created == created


def test_add_proof_shape() -> None:
    secured = add_proof(
        ATTESTATION, KEY, ProofOptions(verification_method=METHOD, created="2025-03-01T12:00:00Z")
    )
    proof = secured["proof"]
    assert list(proof) == [
        "type",
        "cryptosuite",
        "created",
        "verificationMethod",
        "proofPurpose",
        "@context",
        "proofValue",
    ]
    assert proof["type"] == PROOF_TYPE and proof["cryptosuite"] == CRYPTOSUITE
    assert proof["@context"] == ATTESTATION["@context"]
    assert re.fullmatch(r"z[1-9A-HJ-NP-Za-km-z]{86,88}", proof["proofValue"])
    assert {k: v for k, v in secured.items() if k != "proof"} == ATTESTATION


def test_document_without_context_gets_a_proof_without_context() -> None:
    document = {"myWebsite": "https://hello.world.example/"}
    secured = add_proof(document, KEY, ProofOptions(verification_method=METHOD))
    assert "@context" not in secured["proof"]
    assert verify_proof(secured, _resolve).document == document


def test_string_context_is_copied_and_checked() -> None:
    document = {"@context": "https://www.w3.org/ns/credentials/v2", "name": "x"}
    secured = add_proof(document, KEY, ProofOptions(verification_method=METHOD))
    assert secured["proof"]["@context"] == "https://www.w3.org/ns/credentials/v2"
    assert verify_proof(secured, _resolve).document == document
    secured["@context"] = ["https://www.w3.org/ns/credentials/v2", "https://x.example/v1"]
    verify_proof(secured, _resolve)  # a string counts as a one-element list


def test_explicit_context_must_prefix_the_document_context() -> None:
    options = ProofOptions(verification_method=METHOD, context=["https://other.example/v1"])
    with pytest.raises(ProofError) as info:
        add_proof(ATTESTATION, KEY, options)
    assert info.value.code == "proof_context"
    good = ProofOptions(
        verification_method=METHOD, context=["https://www.w3.org/ns/credentials/v2"]
    )
    verify_proof(add_proof(ATTESTATION, KEY, good), _resolve)


def test_expiry_is_enforced() -> None:
    options = ProofOptions(
        verification_method=METHOD, created="2025-01-01T00:00:00Z", expires="2026-01-01T00:00:00Z"
    )
    secured = add_proof(ATTESTATION, KEY, options)
    assert secured["proof"]["expires"] == "2026-01-01T00:00:00Z"
    inside = datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert verify_proof(secured, _resolve, now=inside).expires == "2026-01-01T00:00:00Z"
    with pytest.raises(ProofError) as info:
        verify_proof(secured, _resolve, now=inside + timedelta(seconds=1))
    assert info.value.code == "proof_expired"
    assert info.value.message == "proof.expires: the proof expired at 2026-01-01T00:00:00Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_proof(secured, _resolve, now=datetime(2025, 6, 1))  # naive
    past = ProofOptions(
        verification_method=METHOD, created="2020-01-01T00:00:00Z", expires="2021-01-01T00:00:00Z"
    )
    with pytest.raises(ProofError, match="the proof expired"):
        verify_proof(add_proof(ATTESTATION, KEY, past), _resolve)  # against the real clock


def test_expires_must_follow_created() -> None:
    options = ProofOptions(
        verification_method=METHOD, created="2025-01-01T00:00:00Z", expires="2025-01-01T00:00:00Z"
    )
    with pytest.raises(ProofError, match="is not after created"):
        add_proof(ATTESTATION, KEY, options)


def test_domain_and_challenge() -> None:
    options = ProofOptions(
        verification_method=METHOD,
        proof_purpose="authentication",
        domain=["exchange.example", "verifier.example"],
        challenge="c-1234",
    )
    secured = add_proof(ATTESTATION, KEY, options)
    result = verify_proof(
        secured,
        _resolve,
        expected_purpose="authentication",
        expected_domain=["verifier.example", "exchange.example"],
        expected_challenge="c-1234",
    )
    assert (result.domain, result.challenge) == (["exchange.example", "verifier.example"], "c-1234")
    with pytest.raises(ProofError) as info:
        verify_proof(secured, _resolve, expected_purpose=None, expected_domain="exchange.example")
    assert info.value.code == "proof_domain"
    with pytest.raises(ProofError) as info:
        verify_proof(secured, _resolve, expected_purpose=None, expected_challenge="c-9999")
    assert info.value.code == "proof_challenge"
    unbound = add_proof(ATTESTATION, KEY, ProofOptions(verification_method=METHOD))
    with pytest.raises(ProofError, match="does not match the expected domain"):
        verify_proof(unbound, _resolve, expected_domain="exchange.example")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (ProofOptions(verification_method=""), "options.verification_method: must be a non-empty"),
        (ProofOptions(verification_method=METHOD, proof_purpose=""), "options.proof_purpose"),
        (ProofOptions(verification_method=METHOD, created="2025-02-30T00:00:00Z"), "not a real"),
        (ProofOptions(verification_method=METHOD, created="2025-01-01T00:00:00"), "dateTimeStamp"),
        (ProofOptions(verification_method=METHOD, expires="soon"), "options.expires"),
        (ProofOptions(verification_method=METHOD, domain=[]), "options.domain"),
        (ProofOptions(verification_method=METHOD, domain=["a", 1]), "options.domain"),  # type: ignore[list-item]
        (ProofOptions(verification_method=METHOD, challenge=""), "options.challenge"),
    ],
)
def test_bad_options_are_refused(options: ProofOptions, message: str) -> None:
    with pytest.raises(ProofError) as info:
        add_proof(ATTESTATION, KEY, options)
    assert message in info.value.message


def test_add_proof_refusals() -> None:
    options = ProofOptions(verification_method=METHOD)
    secured = add_proof(ATTESTATION, KEY, options)
    with pytest.raises(ProofError, match="already has a proof"):
        add_proof(secured, KEY, options)
    with pytest.raises(ProofError, match="document: must be a JSON object"):
        add_proof(["not", "an", "object"], KEY, options)  # type: ignore[arg-type]
    with pytest.raises(KeyFormatError, match="expected an Ed25519 private key"):
        add_proof(ATTESTATION, KEY.public_key(), options)  # type: ignore[arg-type]
    with pytest.raises(ProofError, match="expected ProofOptions"):
        add_proof(ATTESTATION, KEY, {"verification_method": METHOD})  # type: ignore[arg-type]
    with pytest.raises(CanonicalizationError, match="outside ±2\\*\\*53"):
        add_proof({"n": 2**60}, KEY, options)


def test_hash_data_guards() -> None:
    config = {"type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE, "proofValue": "z1"}
    with pytest.raises(ProofError, match="must not contain proofValue"):
        hash_data(ATTESTATION, config)
    with pytest.raises(ProofError, match=r"proof\.cryptosuite"):
        hash_data(ATTESTATION, {"type": PROOF_TYPE})
    # Member order never matters: JCS sorts.
    config = {"cryptosuite": CRYPTOSUITE, "type": PROOF_TYPE}
    reordered = dict(reversed(list(ATTESTATION.items())))
    assert hash_data(ATTESTATION, config) == hash_data(reordered, dict(reversed(config.items())))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-02-24T23:36:38Z", datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)),
        ("2023-02-25T01:36:38+02:00", datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)),
        ("2023-02-24T23:36:38.1234567Z", datetime(2023, 2, 24, 23, 36, 38, 123456, tzinfo=UTC)),
        ("2024-02-29T00:00:00-14:00", datetime(2024, 2, 29, 14, 0, 0, tzinfo=UTC)),
    ],
)
def test_datetime_stamps_accepted(text: str, expected: datetime) -> None:
    assert parse_datetime_stamp(text, "t") == expected


@pytest.mark.parametrize(
    "text",
    [
        "2023-02-24T23:36:38",  # no time zone
        "2023-02-24t23:36:38Z",
        "2023-02-24T23:36Z",
        "2023-02-29T00:00:00Z",  # not a leap year
        "2023-13-01T00:00:00Z",
        "2023-02-24T24:00:01Z",
        "2023-02-24T23:36:38+14:30",
        "2023-02-24T23:36:38+15:00",
        "2023-02-24T23:36:38+0200",
        " 2023-02-24T23:36:38Z",
        "\u0662023-02-24T23:36:38Z",  # an Arabic-Indic digit two
    ],
)
def test_datetime_stamps_refused(text: str) -> None:
    with pytest.raises(ProofError) as info:
        parse_datetime_stamp(text, "proof.created")
    assert info.value.code == "proof_datetime"


def test_resolve_did_key_refusals() -> None:
    with pytest.raises(KeyFormatError, match="not a did:key URL"):
        resolve_did_key("did:web:example.com#key-1")
    with pytest.raises(KeyFormatError, match="fragment must repeat the key identifier"):
        resolve_did_key(f"did:key:{KEY_MULTIKEY}#key-1")
    with pytest.raises(KeyFormatError, match="fragment must repeat"):
        resolve_did_key(f"did:key:{KEY_MULTIKEY}")
    assert resolve_did_key(f"did:key:{KEY_MULTIKEY}#{KEY_MULTIKEY}").public_bytes_raw() == (
        KEY.public_key().public_bytes_raw()
    )


# --------------------------------------------------------------------------- properties

_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.text(max_size=20)
)
_JSON = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_DOCUMENTS = st.dictionaries(
    st.text(max_size=10).filter(lambda key: key != "proof"), _JSON, max_size=6
)


@settings(max_examples=150, deadline=None)
@given(_DOCUMENTS)
def test_round_trip_arbitrary_documents(document: dict[str, Any]) -> None:
    secured = add_proof(document, KEY, ProofOptions(verification_method=METHOD))
    result = verify_proof(secured, _resolve)
    assert result.document == document
    # Through the wire: serialised, parsed strictly, verified again.
    wire = json.dumps(secured, ensure_ascii=False).encode("utf-8")
    assert verify_proof(loads_strict(wire), _resolve).verification_method == METHOD


@settings(max_examples=100, deadline=None)
@given(_DOCUMENTS, st.text(min_size=1, max_size=10), _JSON)
def test_any_added_member_breaks_the_signature(
    document: dict[str, Any], key: str, value: Any
) -> None:
    secured = add_proof(document, KEY, ProofOptions(verification_method=METHOD))
    if key in ("proof", "@context") or (key in document and document[key] == value):
        return
    secured[key] = value
    with pytest.raises(SignatureError):
        verify_proof(secured, _resolve)


# An independent check of what add_proof produces, using neither trust.jcs nor
# trust.multibase: with ASCII keys, no floats and safe integers, the standard
# library's sorted compact JSON *is* RFC 8785, and base58 is a plain base change.
_ASCII_KEYS = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=8)
_ASCII_JSON = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_ASCII_KEYS, inner, max_size=4),
    max_leaves=20,
)


def _independent_verify(secured: dict[str, Any], public_key: Ed25519PublicKey) -> None:
    def jcs(value: Any) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    proof = dict(secured["proof"])
    value = proof.pop("proofValue")
    assert value[0] == "z"
    number = 0
    for char in value[1:]:
        number = number * 58 + "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".index(
            char
        )
    signature = number.to_bytes(64, "big")
    document = {k: v for k, v in secured.items() if k != "proof"}
    data = hashlib.sha256(jcs(proof)).digest() + hashlib.sha256(jcs(document)).digest()
    public_key.verify(signature, data)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_ASCII_KEYS.filter(lambda key: key != "proof"), _ASCII_JSON, max_size=6))
def test_independent_verifier_accepts_our_proofs(document: dict[str, Any]) -> None:
    secured = add_proof(document, KEY, ProofOptions(verification_method=METHOD))
    _independent_verify(secured, KEY.public_key())
    secured["tampered"] = True
    with pytest.raises(InvalidSignature):
        _independent_verify(secured, KEY.public_key())


def test_independent_verifier_accepts_the_vector(vectors: Vectors) -> None:
    _independent_verify(vectors.signed, public_key_from_multikey(vectors.public_multikey))


def test_base58_signature_spelling_matches_the_vector_hex(vectors: Vectors) -> None:
    signature = bytes.fromhex(vectors.read("sigHexJCS.txt"))
    assert "z" + base58btc_encode(signature) == vectors.read("sigBTC58JCS.txt")
