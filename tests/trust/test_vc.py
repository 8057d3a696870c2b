"""Tests for trust.vc: checking an attestation and its revocation status completely.

The cast: a verifier company with a did:web DID served by the platform signs an
attestation; the platform, under its own did:web DID, signs the status list the
attestation points at.  Forgeries must raise with a message naming the member;
time and status facts must be reported, never hidden behind one another.  The
independent verifier in tests/independent_vc.py must agree with the signer.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.independent_vc import independent_verify, public_key_from_multibase
from tests.trust.vectors import require_vectors
from trust.dataintegrity import ProofOptions, add_proof
from trust.did import did_document, did_web
from trust.errors import (
    CredentialError,
    DidError,
    KeyFormatError,
    ProofError,
    SignatureError,
    StatusListError,
    StatusListUnavailable,
)
from trust.keys import generate_private_key, jwk_thumbprint
from trust.multibase import ed25519_multikey
from trust.statuslist import encode_list, status_entry, status_list_credential
from trust.vc import CredentialCheck, check_credential

V2 = "https://www.w3.org/ns/credentials/v2"
VERIFIER = did_web("exchange.example", "companies", "verifier")
PLATFORM = did_web("exchange.example")
LIST_URL = "https://exchange.example/credentials/status/1"
SUSPENSION_URL = "https://exchange.example/credentials/status/2"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
FOOTPRINT_ID = "urn:uuid:3b5b4b4e-9a1e-4c57-9a55-6f0d4c7f0b11"
DIGEST = "sha256:" + "ab" * 32


@dataclass
class Party:
    """A DID with one signing key and the DID document that publishes it."""

    did: str
    key: Any = field(default_factory=generate_private_key)

    @property
    def method(self) -> str:
        return f"{self.did}#{jwk_thumbprint(self.key.public_key())}"

    @property
    def document(self) -> dict[str, Any]:
        return did_document(
            self.did, [(jwk_thumbprint(self.key.public_key()), self.key.public_key())]
        )

    def sign(self, document: dict[str, Any], method: str | None = None) -> dict[str, Any]:
        options = ProofOptions(
            verification_method=method or self.method, created="2025-01-01T00:00:00Z"
        )
        return add_proof(document, self.key, options)


class World:
    """The verifier, the platform, one attestation and the status lists it points at."""

    def __init__(self) -> None:
        self.verifier = Party(VERIFIER)
        self.platform = Party(PLATFORM)
        self.documents = {VERIFIER: self.verifier.document, PLATFORM: self.platform.document}
        self.lists: dict[str, dict[str, Any]] = {}
        self.loads: list[str] = []
        self.publish_list(LIST_URL, revoked=[7])

    def publish_list(
        self,
        url: str,
        *,
        revoked: list[int],
        purpose: str = "revocation",
        signer: Party | None = None,
        valid_until: str | None = "2026-01-01T00:00:00Z",
    ) -> dict[str, Any]:
        signer = signer or self.platform
        unsigned = status_list_credential(
            list_url=url,
            issuer=signer.did,
            purpose=purpose,
            encoded_list=encode_list(revoked),
            valid_from="2025-01-01T00:00:00Z",
            valid_until=valid_until,
        )
        self.lists[url] = signer.sign(unsigned)
        return self.lists[url]

    def unsigned(self, **changes: Any) -> dict[str, Any]:
        credential: dict[str, Any] = {
            "@context": [V2],
            "id": "urn:uuid:0b0c5a1e-32a8-4d4f-8d5c-1f6a3b9e7d21",
            "type": ["VerifiableCredential", "FootprintVerificationCredential"],
            "issuer": VERIFIER,
            "validFrom": "2025-01-01T00:00:00Z",
            "validUntil": "2027-01-01T00:00:00Z",
            "credentialSubject": {
                "footprintId": FOOTPRINT_ID,
                "footprintDigest": DIGEST,
                "assuranceLevel": "limited",
            },
            "credentialStatus": status_entry(LIST_URL, 42),
        }
        credential.update(changes)
        return {key: value for key, value in credential.items() if value is not None}

    def credential(self, **changes: Any) -> dict[str, Any]:
        return self.verifier.sign(self.unsigned(**changes))

    def resolve_did(self, did: str) -> dict[str, Any]:
        if did not in self.documents:
            raise LookupError(f"no DID document for {did}")
        return self.documents[did]

    def load_status_list(self, url: str) -> dict[str, Any]:
        self.loads.append(url)
        if url not in self.lists:
            raise StatusListUnavailable(f"status list {url}: HTTP 404")
        return self.lists[url]

    def check(self, credential: dict[str, Any], *, now: datetime = NOW) -> CredentialCheck:
        return check_credential(
            credential,
            resolve_did=self.resolve_did,
            load_status_list=self.load_status_list,
            now=now,
        )


@pytest.fixture
def world() -> World:
    return World()


# --------------------------------------------------------------------------- valid


def test_a_valid_attestation(world):
    credential = world.credential()
    result = world.check(credential)
    assert result.valid_now
    assert result.reasons == ()
    assert result.issuer == VERIFIER
    assert result.verification_method == world.verifier.method
    assert result.subject == credential["credentialSubject"]
    assert result.valid_from == datetime(2025, 1, 1, tzinfo=UTC)
    assert result.valid_until == datetime(2027, 1, 1, tzinfo=UTC)
    assert (result.expired, result.not_yet_valid, result.revoked, result.suspended) == (
        False,
        False,
        False,
        None,
    )
    assert result.status_checked_at == NOW
    [status] = result.statuses
    assert (status.purpose, status.list_url, status.index, status.is_set) == (
        "revocation",
        LIST_URL,
        42,
        False,
    )
    assert status.list_issuer == PLATFORM
    assert result.summary().splitlines() == [
        "valid now",
        f"issuer: {VERIFIER}",
        f"signed with: {world.verifier.method} (proof created 2025-01-01T00:00:00Z)",
        "validity: from 2025-01-01T00:00:00Z until 2027-01-01T00:00:00Z"
        " (checked at 2025-06-01T00:00:00Z)",
        f"status: revocation: not revoked ({LIST_URL}, index 42, list signed by {PLATFORM})",
    ]


def test_the_report_is_json_ready(world):
    report = world.check(world.credential()).as_dict()
    assert json.loads(json.dumps(report)) == report
    assert report["validNow"] is True and report["revoked"] is False
    assert report["credentialSubject"]["footprintId"] == FOOTPRINT_ID
    assert report["statusCheckedAt"] == "2025-06-01T00:00:00Z"


def test_issuer_as_an_object_with_id(world):
    credential = world.credential(issuer={"id": VERIFIER, "name": "Verifier GmbH"})
    assert world.check(credential).issuer == VERIFIER


def test_without_credential_status_nothing_is_revoked_or_unknown(world):
    result = world.check(world.credential(credentialStatus=None))
    assert result.valid_now and result.revoked is None and result.statuses == ()
    assert result.status_checked_at is None
    assert world.loads == []
    assert "no credentialStatus" in result.summary()


def test_without_validity_dates(world):
    result = world.check(world.credential(validFrom=None, validUntil=None))
    assert result.valid_now and result.valid_from is None and result.valid_until is None


def test_status_list_issued_by_the_credential_issuer_elsewhere_is_accepted(world):
    url = "https://status.verifier.example/list/1"
    world.publish_list(url, revoked=[], signer=world.verifier)
    result = world.check(world.credential(credentialStatus=status_entry(url, 3)))
    assert result.valid_now and result.statuses[0].list_issuer == VERIFIER


def test_a_list_shared_by_several_entries_is_loaded_once(world):
    entries = [status_entry(LIST_URL, 42), status_entry(LIST_URL, 43)]
    result = world.check(world.credential(credentialStatus=entries))
    assert result.valid_now and len(result.statuses) == 2
    assert world.loads == [LIST_URL]


# --------------------------------------------------------------------------- forged


def test_tampered_subject_fails_the_signature(world):
    credential = world.credential()
    credential["credentialSubject"]["footprintDigest"] = "sha256:" + "cd" * 32
    with pytest.raises(SignatureError, match="signature does not verify"):
        world.check(credential)


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("validUntil", "2099-01-01T00:00:00Z"),
        ("issuer", {"id": VERIFIER}),
        ("credentialStatus", status_entry(LIST_URL, 43)),
        ("type", ["VerifiableCredential"]),
    ],
)
def test_any_tampered_member_fails_the_signature(world, member, value):
    credential = world.credential()
    credential[member] = value
    with pytest.raises(SignatureError):
        world.check(credential)


def test_signed_by_a_key_the_did_document_does_not_hold(world):
    intruder = generate_private_key()
    credential = add_proof(
        world.unsigned(),
        intruder,
        ProofOptions(verification_method=world.verifier.method, created="2025-01-01T00:00:00Z"),
    )
    with pytest.raises(SignatureError):
        world.check(credential)


def test_signed_under_a_fragment_the_did_document_does_not_list(world):
    intruder = generate_private_key()
    method = f"{VERIFIER}#{jwk_thumbprint(intruder.public_key())}"
    credential = add_proof(
        world.unsigned(),
        intruder,
        ProofOptions(verification_method=method, created="2025-01-01T00:00:00Z"),
    )
    with pytest.raises(DidError) as caught:
        world.check(credential)
    assert caught.value.code == "did_method_unknown"


def test_signed_with_a_method_of_another_did(world):
    # A perfectly valid signature by the platform's key, on a credential naming the verifier.
    credential = world.platform.sign(world.unsigned())
    with pytest.raises(CredentialError) as caught:
        world.check(credential)
    assert caught.value.code == "credential_issuer_key"
    assert caught.value.message.startswith("proof.verificationMethod: ")
    assert f"is not a key of the issuer {VERIFIER}" in caught.value.message


def test_issuer_changed_to_the_signer_fails_the_signature(world):
    credential = world.platform.sign(world.unsigned())
    credential["issuer"] = PLATFORM
    # Now the method belongs to the issuer, but the signed issuer was the verifier.
    with pytest.raises(SignatureError):
        world.check(credential)


def test_key_not_authorised_for_assertions(world):
    world.documents[VERIFIER]["assertionMethod"] = []
    with pytest.raises(DidError, match="not referenced from assertionMethod"):
        world.check(world.credential())


def test_did_document_of_another_did(world):
    world.documents[VERIFIER] = world.platform.document
    with pytest.raises(DidError, match="DID document id"):
        world.check(world.credential())


def test_unresolvable_issuer(world):
    del world.documents[VERIFIER]
    with pytest.raises(DidError, match="cannot be resolved"):
        world.check(world.credential())


def test_proof_for_another_purpose(world):
    credential = add_proof(
        world.unsigned(),
        world.verifier.key,
        ProofOptions(verification_method=world.verifier.method, proof_purpose="authentication"),
    )
    with pytest.raises(ProofError, match=r"proof\.proofPurpose"):
        world.check(credential)


def test_a_bad_key_in_the_did_document(world):
    world.documents[VERIFIER]["verificationMethod"][0]["publicKeyMultibase"] = "z6Mk"
    with pytest.raises(KeyFormatError, match="publicKeyMultibase"):
        world.check(world.credential())


# --------------------------------------------------------------------------- shape


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"@context": ["https://www.w3.org/2018/credentials/v1"]}, "@context: the first item"),
        ({"@context": [V2, 5]}, "@context: items must be"),
        ({"@context": None}, "@context: required member missing"),
        ({"type": ["FootprintVerificationCredential"]}, "type: must include"),
        ({"type": []}, "type: must be a non-empty"),
        ({"type": None}, "type: required member missing"),
        ({"issuer": "https://verifier.example"}, "issuer: the issuer must be a DID"),
        ({"issuer": {"name": "x"}}, "issuer.id: an issuer object must have an id"),
        ({"issuer": 5}, "issuer: must be a DID string"),
        ({"issuer": None}, "issuer: required member missing"),
        ({"id": 5}, "id: must be a URL"),
        ({"credentialSubject": None}, "credentialSubject: required member missing"),
        ({"credentialSubject": {}}, "credentialSubject: must be a non-empty object"),
        ({"credentialSubject": []}, "credentialSubject: must be a non-empty object"),
        ({"validFrom": "2025-01-01"}, "validFrom: '2025-01-01' is not an XML Schema"),
        ({"validUntil": "2025-13-01T00:00:00Z"}, "validUntil: '2025-13-01T00:00:00Z' is not a"),
        ({"validUntil": "2024-01-01T00:00:00Z"}, "validUntil: 2024-01-01T00:00:00Z is not after"),
    ],
)
def test_malformed_credentials_name_the_member(world, changes, fragment):
    credential = world.credential(**changes)
    with pytest.raises(CredentialError) as caught:
        world.check(credential)
    assert caught.value.message.startswith(fragment)


def test_a_credential_without_proof_or_with_a_proof_set(world):
    unsigned = world.unsigned()
    with pytest.raises(CredentialError, match="proof: a credential must carry exactly one"):
        world.check(unsigned)
    credential = world.credential()
    credential["proof"] = [credential["proof"]]
    with pytest.raises(CredentialError, match=r"proof: .*\(list\)"):
        world.check(credential)


def test_a_proof_without_verification_method(world):
    credential = world.credential()
    del credential["proof"]["verificationMethod"]
    with pytest.raises(CredentialError, match=r"^proof\.verificationMethod: must be the issuer's"):
        world.check(credential)


def test_not_an_object(world):
    with pytest.raises(CredentialError, match="must be a JSON object"):
        world.check([])


def test_now_must_be_aware(world):
    with pytest.raises(ValueError, match="timezone-aware"):
        world.check(world.credential(), now=datetime(2025, 6, 1))


# --------------------------------------------------------------------------- time


def test_expired_is_reported_not_raised(world):
    world.publish_list(LIST_URL, revoked=[], valid_until=None)
    result = world.check(world.credential(), now=datetime(2027, 1, 1, tzinfo=UTC))
    assert result.expired and not result.valid_now and not result.not_yet_valid
    assert result.reasons == ("expired: validUntil was 2027-01-01T00:00:00Z",)


def test_valid_until_is_exclusive_and_valid_from_inclusive(world):
    credential = world.credential(validUntil="2025-06-01T00:00:00Z")
    assert world.check(credential).expired
    world.publish_list(LIST_URL, revoked=[], valid_until=None)
    credential = world.credential(validFrom="2025-06-01T00:00:00Z")
    assert world.check(credential).valid_now
    assert world.check(credential, now=NOW - timedelta(microseconds=1)).not_yet_valid


def test_not_yet_valid_is_reported(world):
    result = world.check(world.credential(validFrom="2025-09-01T00:00:00+02:00"))
    assert result.not_yet_valid and not result.expired and not result.valid_now
    assert result.reasons == ("not yet valid: validFrom is 2025-09-01T00:00:00+02:00",)


def test_expired_and_revoked_are_both_reported(world):
    world.publish_list(LIST_URL, revoked=[42], valid_until=None)
    result = world.check(world.credential(), now=datetime(2027, 6, 1, tzinfo=UTC))
    assert result.expired and result.revoked is True
    assert result.reasons == (
        "expired: validUntil was 2027-01-01T00:00:00Z",
        f"revoked: bit 42 of {LIST_URL} is set",
    )


# --------------------------------------------------------------------------- status


def test_revoked_bit(world):
    world.publish_list(LIST_URL, revoked=[41, 42])
    result = world.check(world.credential())
    assert result.revoked is True and not result.valid_now
    assert result.reasons == (f"revoked: bit 42 of {LIST_URL} is set",)
    assert "revocation: revoked" in result.summary()
    assert result.summary().startswith("signature valid, but NOT valid now: revoked")


def test_neighbouring_bits_do_not_count(world):
    world.publish_list(LIST_URL, revoked=[41, 43])
    assert world.check(world.credential()).revoked is False


def test_suspension_next_to_revocation(world):
    world.publish_list(SUSPENSION_URL, revoked=[5], purpose="suspension")
    entries = [status_entry(LIST_URL, 42), status_entry(SUSPENSION_URL, 5, "suspension")]
    result = world.check(world.credential(credentialStatus=entries))
    assert (result.revoked, result.suspended, result.valid_now) == (False, True, False)
    assert result.reasons == (f"suspended: bit 5 of {SUSPENSION_URL} is set",)


def test_status_list_with_another_purpose_is_refused(world):
    world.publish_list(LIST_URL, revoked=[], purpose="suspension")
    with pytest.raises(StatusListError) as caught:
        world.check(world.credential())
    assert caught.value.code == "status_purpose_mismatch"
    assert caught.value.message.startswith("credentialStatus.statusPurpose: is 'revocation'")


def test_tampered_status_list_is_refused(world):
    world.publish_list(LIST_URL, revoked=[42])
    world.lists[LIST_URL]["credentialSubject"]["encodedList"] = encode_list([])  # un-revoke
    with pytest.raises(SignatureError) as caught:
        world.check(world.credential())
    assert caught.value.message.startswith(f"status list credential {LIST_URL}: proof.proofValue")


def test_status_list_published_for_another_url_is_refused(world):
    world.lists[LIST_URL] = world.publish_list(SUSPENSION_URL, revoked=[])
    with pytest.raises(StatusListError) as caught:
        world.check(world.credential())
    assert caught.value.code == "status_list_id"
    assert f"id: is '{SUSPENSION_URL}', but the credential points at {LIST_URL}" in (
        caught.value.message
    )


def test_status_list_signed_by_a_stranger_is_refused(world):
    stranger = Party("did:web:evil.example")
    world.documents[stranger.did] = stranger.document
    world.publish_list(LIST_URL, revoked=[], signer=stranger)
    with pytest.raises(StatusListError) as caught:
        world.check(world.credential())
    assert caught.value.code == "status_list_issuer"
    assert "issuer did:web:evil.example is neither the credential's issuer" in caught.value.message


def test_status_list_signed_by_the_platform_with_the_wrong_key(world):
    intruder = generate_private_key()
    unsigned = copy.deepcopy(world.lists[LIST_URL])
    del unsigned["proof"]
    world.lists[LIST_URL] = add_proof(
        unsigned, intruder, ProofOptions(verification_method=world.platform.method)
    )
    with pytest.raises(SignatureError, match=f"^status list credential {LIST_URL}: "):
        world.check(world.credential())


@pytest.mark.parametrize(
    ("path", "value", "error", "fragment"),
    [
        (("type",), ["VerifiableCredential"], StatusListError, "type: must include"),
        (
            ("credentialSubject", "type"),
            "StatusList2021",
            StatusListError,
            "credentialSubject.type",
        ),
        (("credentialSubject", "statusPurpose"), 5, StatusListError, "statusPurpose: must be"),
        (("credentialSubject", "encodedList"), "uAAAA", StatusListError, "encodedList: not valid"),
        (("@context",), ["x"], CredentialError, "@context: the first item"),
    ],
)
def test_malformed_status_lists_are_refused_with_the_member(world, path, value, error, fragment):
    unsigned = copy.deepcopy(world.lists[LIST_URL])
    del unsigned["proof"]
    target = unsigned
    for name in path[:-1]:
        target = target[name]
    target[path[-1]] = value
    world.lists[LIST_URL] = world.platform.sign(unsigned)
    with pytest.raises(error) as caught:
        world.check(world.credential())
    assert caught.value.message.startswith(f"status list credential {LIST_URL}: ")
    assert fragment in caught.value.message


def test_expired_status_list_leaves_the_status_unknown(world):
    result = world.check(world.credential(), now=datetime(2026, 1, 1, tzinfo=UTC))
    assert result.revoked is None and not result.valid_now and not result.expired
    assert result.reasons == (
        "status not checked: the status list is expired at 2026-01-01T00:00:00Z",
    )


def test_expired_status_list_still_proves_a_revocation(world):
    world.publish_list(LIST_URL, revoked=[42])
    result = world.check(world.credential(), now=datetime(2026, 2, 1, tzinfo=UTC))
    assert result.revoked is True
    assert "revocation is final" in (result.statuses[0].note or "")


def test_unavailable_status_list_leaves_the_status_unknown(world):
    del world.lists[LIST_URL]
    result = world.check(world.credential())
    assert result.revoked is None and not result.valid_now
    assert result.reasons == (f"status not checked: status list {LIST_URL}: HTTP 404",)
    assert result.status_checked_at is None


def test_no_status_loader_means_status_not_checked(world):
    result = check_credential(
        world.credential(), resolve_did=world.resolve_did, load_status_list=None, now=NOW
    )
    assert result.revoked is None and not result.valid_now
    assert result.reasons == ("status not checked: no way to load status lists was given",)


@pytest.mark.parametrize(
    ("entry_changes", "fragment"),
    [
        ({"statusListIndex": 42}, "credentialStatus.statusListIndex: must be a decimal string"),
        ({"statusListIndex": "042"}, "credentialStatus.statusListIndex: '042' is not"),
        ({"statusListIndex": "-1"}, "credentialStatus.statusListIndex: '-1' is not"),
        ({"statusListIndex": "131072"}, "credentialStatus.statusListIndex: 131072 is outside"),
        ({"statusPurpose": "revoked"}, "credentialStatus.statusPurpose: must be one of"),
        ({"statusListCredential": "ftp://x/1"}, "credentialStatus.statusListCredential: must be"),
    ],
)
def test_malformed_status_entries_name_the_member(world, entry_changes, fragment):
    entry = {**status_entry(LIST_URL, 42), **entry_changes}
    with pytest.raises(StatusListError) as caught:
        world.check(world.credential(credentialStatus=entry))
    assert caught.value.message.startswith(fragment)


def test_entries_in_a_list_are_named_by_position(world):
    entries = [status_entry(LIST_URL, 1), {**status_entry(LIST_URL, 2), "statusListIndex": "x"}]
    with pytest.raises(StatusListError, match=r"^credentialStatus\[1\]\.statusListIndex"):
        world.check(world.credential(credentialStatus=entries))
    with pytest.raises(StatusListError, match="must not be an empty list"):
        world.check(world.credential(credentialStatus=[]))
    with pytest.raises(StatusListError, match=r"^credentialStatus\[0\]: must be an object"):
        world.check(world.credential(credentialStatus=["x"]))


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"type": "StatusList2021Entry", "statusListCredential": LIST_URL}, "not supported"),
        ({**status_entry(LIST_URL, 1), "statusSize": 2}, "statusSize 2 is not supported"),
        (status_entry(LIST_URL, 1, "message"), "status messages are not supported"),
    ],
)
def test_unsupported_status_mechanisms_leave_the_status_unknown(world, entry, fragment):
    result = world.check(world.credential(credentialStatus=entry))
    assert not result.valid_now and result.revoked is None
    assert fragment in result.reasons[0]


# --------------------------------------------------------------------------- independent verifier


def test_independent_verifier_agrees_with_the_signer(world):
    credential = world.credential()
    key = ed25519_multikey(world.verifier.key.public_key())
    assert independent_verify(credential, key)
    assert independent_verify(world.lists[LIST_URL], ed25519_multikey(world.platform.key))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c["credentialSubject"].update(footprintDigest="sha256:" + "00" * 32),
        lambda c: c["proof"].update(created="2025-01-01T00:00:01Z"),
        lambda c: c["proof"].update(proofPurpose="authentication"),
        lambda c: c.update({"@context": ["https://example.org/other", V2]}),
        lambda c: c["proof"].update(proofValue="z" + "1" * 80),
        lambda c: c["proof"].update(cryptosuite="eddsa-rdfc-2022"),
        lambda c: c.pop("proof"),
    ],
)
def test_independent_verifier_rejects_tampering(world, tamper):
    credential = world.credential()
    tamper(credential)
    assert not independent_verify(credential, ed25519_multikey(world.verifier.key))


def test_independent_verifier_rejects_another_key(world):
    other = ed25519_multikey(generate_private_key().public_key())
    assert not independent_verify(world.credential(), other)


def test_independent_verifier_accepts_contexts_added_after_signing(world):
    credential = world.credential()
    credential["@context"] = [*credential["@context"], "https://example.org/extra"]
    assert independent_verify(credential, ed25519_multikey(world.verifier.key))


def test_independent_verifier_on_the_w3c_vectors():
    folder = require_vectors("vc-di-eddsa/TestVectors")
    signed = json.loads((folder / "eddsa-jcs-2022" / "signedJCS.json").read_text())
    key = json.loads((folder / "keyPair.json").read_text())["publicKeyMultibase"]
    assert independent_verify(signed, key)
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "Other University"
    assert not independent_verify(tampered, key)


def test_independent_verifier_refuses_a_malformed_key():
    with pytest.raises(ValueError, match="prefix"):
        public_key_from_multibase("u" + "A" * 40)
    with pytest.raises(ValueError, match="0xed01"):
        public_key_from_multibase("z" + "1" * 40)
