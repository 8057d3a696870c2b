"""The evidence bundle, ``GET /api/v1/footprints/<id>/bundle``: who gets it (the one
read rule: own, granted or published; "not found" otherwise), what it carries (exact
bytes, keys, credentials, DID documents, status lists, audit entries with inclusion
proofs to a signed checkpoint), when a checkpoint is signed for it, and that reading
another company's is recorded as a pull. ``carbonx verify-bundle`` over these bundles
is tested in tests/cli/test_verify_bundle.py.
"""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEntry, Checkpoint
from audit.services import (
    checkpoint_text,
    cosignature_record,
    log_verifier_key,
    witness_register,
)
from exchange import sharing
from tests.factories import actor_of
from tests.sharing.helpers import (
    API,
    attested,
    audit_payloads,
    bundle_of,
    session,
    third_buyer,
    verifiers_of,
)
from trust import keys, merkle, note
from trust.encoding import b64_std_decode, b64_std_encode
from verification import services
from verification.bundle import BUNDLE_FORMAT
from verification.models import Attestation, EngagementState

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def log_key_file(settings, tmp_path):
    settings.AUDIT_LOG_KEY_FILE = str(tmp_path / "audit-log-key.pem")
    settings.AUDIT_LOG_ORIGIN = "test.carbonx.example/audit-log"


def url(cast) -> str:
    return f"{API}/footprints/{cast.footprint.pf_id}/bundle"


def entries_by_subject(bundle) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for item in bundle["log"]["entries"]:
        entry = json.loads(b64_std_decode(item["entry"]))
        found.setdefault(entry["subject"], []).append(entry)
    return found


# ------------------------------------------------------------------------------ access


def test_the_owner_gets_the_bundle(cast):
    bundle = bundle_of(session(cast.viewer), cast.footprint.pf_id)
    assert bundle["format"] == BUNDLE_FORMAT
    footprint = bundle["footprint"]
    assert footprint["id"] == str(cast.footprint.pf_id)
    assert b64_std_decode(footprint["canonical_bytes"]) == bytes(cast.footprint.canonical_bytes)
    assert footprint["document"] == json.loads(bytes(cast.footprint.canonical_bytes))
    assert footprint["sha256"] == cast.footprint.sha256
    assert footprint["supplier"] == {"slug": "acme", "legal_name": cast.acme.legal_name}
    key = cast.footprint.signing_key
    assert bundle["signature"] == {
        "jws": cast.footprint.jws,
        "kid": key.kid,
        "jwk": key.public_jwk,
        "valid_from": bundle["signature"]["valid_from"],
        "revoked_at": None,
    }
    # the owner's own read is not a pull
    assert not AuditEntry.objects.filter(type="footprint.pulled").exists()


def test_a_buyer_without_a_grant_gets_not_found(cast):
    response = session(cast.outsider).get(url(cast))
    assert response.status_code == 404
    assert cast.footprint.sha256 not in response.content.decode()
    assert not AuditEntry.objects.filter(type="footprint.pulled").exists()
    assert session(cast.op_admin).get(url(cast)).status_code == 404


def test_a_granted_buyer_gets_it_and_the_read_is_a_pull(cast):
    sharing.grant_create(
        actor=cast.actor("editor"), buyer="other", footprint_id=str(cast.footprint.pf_id)
    )
    bundle = bundle_of(session(cast.outsider), cast.footprint.pf_id)
    assert bundle["footprint"]["sha256"] == cast.footprint.sha256
    assert audit_payloads("footprint.pulled") == [
        {"channel": "bundle", "footprints": [str(cast.footprint.pf_id)]}
    ]
    assert AuditEntry.objects.get(type="footprint.pulled").company == "other"


def test_a_product_grant_covers_the_bundle(cast):
    sharing.grant_create(
        actor=cast.actor("editor"), buyer="other", product_id=cast.footprint.product_id
    )
    assert session(cast.outsider).get(url(cast)).status_code == 200


def test_revoking_the_grant_ends_access_to_the_bundle(cast):
    grant = sharing.grant_create(
        actor=cast.actor("editor"), buyer="other", footprint_id=str(cast.footprint.pf_id)
    )
    assert session(cast.outsider).get(url(cast)).status_code == 200
    sharing.grant_revoke(actor=cast.actor("editor"), grant=grant)
    assert session(cast.outsider).get(url(cast)).status_code == 404


def test_a_published_footprint_is_anyones_bundle(cast):
    _, third_admin = third_buyer(cast)
    sharing.footprint_publish(actor=cast.actor("editor"), footprint_id=cast.footprint.pf_id)
    assert session(third_admin).get(url(cast)).status_code == 200


def test_refusals(cast, client):
    assert client.get(url(cast)).status_code in (401, 403)
    assert session(cast.viewer).get(f"{API}/footprints/not-a-uuid/bundle").status_code == 404
    missing = "00000000-0000-4000-8000-000000000000"
    assert session(cast.viewer).get(f"{API}/footprints/{missing}/bundle").status_code == 404


# ----------------------------------------------------------------------------- content


def test_attestations_keys_and_documents(cast):
    engagement = attested(cast)
    verity = verifiers_of(cast)
    bundle = bundle_of(session(cast.admin), cast.footprint.pf_id)
    attestation = Attestation.objects.get()
    assert bundle["attestations"] == [
        {
            "credential_id": attestation.credential_id,
            "engagement": engagement.pk,
            "verifier": "verity",
            "kid": verity.key.kid,
            "state": "valid",
            "credential": b64_std_encode(bytes(attestation.credential)),  # exactly as stored
        }
    ]
    status_key = services.status_signing_key()
    dids = {document["id"]: document for document in bundle["did_documents"]}
    assert dids == {
        services.company_did(verity.verity): services.company_did_document(verity.verity),
        services.company_did(cast.operator): services.company_did_document(status_key.company),
    }
    (status_list,) = bundle["status_lists"]
    assert status_list["id"] == services.status_list_url(attestation.status_list)
    assert status_list["proof"]["verificationMethod"].endswith(f"#{status_key.kid}")


def test_the_audit_entries_tie_keys_footprint_and_engagement(cast):
    engagement = attested(cast)
    verity = verifiers_of(cast)
    status_key = services.status_signing_key()
    third, _ = third_buyer(cast)
    # Events that must not travel in a bundle: other buyers' grants and pulls, evidence.
    sharing.grant_create(
        actor=cast.actor("editor"), buyer=third, footprint_id=str(cast.footprint.pf_id)
    )
    sharing.grant_create(
        actor=cast.actor("editor"), buyer="other", footprint_id=str(cast.footprint.pf_id)
    )
    bundle_of(session(cast.outsider), cast.footprint.pf_id)  # a pull by "other"
    bundle = bundle_of(session(cast.admin), cast.footprint.pf_id)
    subjects = entries_by_subject(bundle)
    types = {subject: [e["type"] for e in found] for subject, found in subjects.items()}
    assert types == {
        f"signing_key:{cast.footprint.signing_key.kid}": ["signing_key.registered"],
        f"signing_key:{verity.key.kid}": ["signing_key.registered"],
        f"signing_key:{status_key.kid}": ["signing_key.registered"],
        f"footprint:{cast.footprint.pf_id}": ["footprint.submitted"],
        f"engagement:{engagement.pk}": [
            "engagement.requested",
            "engagement.accepted",
            "engagement.in_review",
            "engagement.attested",
        ],
    }
    text = json.dumps(bundle)
    assert "third" not in text and '"other"' not in text  # no other buyer is named
    companies = {e["company"] for found in subjects.values() for e in found}
    assert companies == {"acme", "verity", "zone-operator"}


def test_every_entry_is_proved_into_the_signed_checkpoint(cast):
    attested(cast)
    bundle = bundle_of(session(cast.admin), cast.footprint.pf_id)
    verifier = note.NoteVerifier.from_key_string(log_verifier_key())
    signed = bundle["log"]["checkpoint"]["note"]
    checkpoint = note.parse_checkpoint(note.open_note(signed, [verifier]).text)
    assert checkpoint.size == bundle["log"]["checkpoint"]["size"]
    assert b64_std_encode(checkpoint.root) == bundle["log"]["checkpoint"]["root"]
    assert bundle["log"]["origin"] == "test.carbonx.example/audit-log"
    for item in bundle["log"]["entries"]:
        stored = AuditEntry.objects.get(seq=item["seq"])
        data = b64_std_decode(item["entry"])
        assert data == bytes(stored.entry_bytes)
        assert b64_std_decode(item["payload"]) == bytes(stored.payload)
        assert item["entry_hash"] == bytes(stored.entry_hash).hex()
        merkle.verify_inclusion(
            leaf_hash=merkle.leaf_hash(data),
            index=item["seq"],
            size=checkpoint.size,
            proof=[b64_std_decode(p) for p in item["inclusion_proof"]],
            root=checkpoint.root,
        )


def test_a_checkpoint_is_signed_only_when_the_newest_entry_needs_one(cast):
    engagement = attested(cast)
    admin = session(cast.admin)
    first = bundle_of(admin, cast.footprint.pf_id)
    assert Checkpoint.objects.count() == 1
    sharing.grant_create(
        actor=cast.actor("editor"), buyer="other", footprint_id=str(cast.footprint.pf_id)
    )  # a new entry, but not one a bundle carries
    second = bundle_of(admin, cast.footprint.pf_id)
    assert Checkpoint.objects.count() == 1
    assert second["log"]["checkpoint"] == first["log"]["checkpoint"]
    services.engagement_revoke(
        actor=verifiers_of(cast).actor(), engagement=engagement, reason="Error found"
    )
    third = bundle_of(admin, cast.footprint.pf_id)
    assert Checkpoint.objects.count() == 2
    assert third["log"]["checkpoint"]["size"] > first["log"]["checkpoint"]["size"]
    assert entries_by_subject(third)[f"engagement:{engagement.pk}"][-1]["type"] == (
        "engagement.revoked"
    )
    assert third["attestations"][0]["state"] == "revoked"


def test_the_checkpoint_carries_witness_cosignatures(cast):
    admin = session(cast.admin)
    bundle_of(admin, cast.footprint.pf_id)
    signer = note.CosignatureSigner("witness.example/w1", keys.generate_private_key())
    witness = witness_register(name=signer.name, verifier_key=signer.verifier_key())
    checkpoint = Checkpoint.objects.get()
    line = signer.cosign(checkpoint_text(checkpoint), timestamp=1_800_000_000)
    cosignature_record(checkpoint=checkpoint, witness=witness, line=line)
    bundle = bundle_of(admin, cast.footprint.pf_id)
    assert bundle["log"]["checkpoint"]["note"].endswith(f"{line}\n")


def test_a_bundle_without_attestations(cast):
    bundle = bundle_of(session(cast.admin), cast.footprint.pf_id)
    assert bundle["attestations"] == []
    assert bundle["did_documents"] == [] and bundle["status_lists"] == []
    assert set(entries_by_subject(bundle)) == {
        f"signing_key:{cast.footprint.signing_key.kid}",
        f"footprint:{cast.footprint.pf_id}",
    }


def test_every_attestation_is_bundled_revoked_ones_too(cast):
    attested(cast, EngagementState.REVOKED)
    attested(cast)
    bundle = bundle_of(session(cast.admin), cast.footprint.pf_id)
    assert [a["state"] for a in bundle["attestations"]] == ["revoked", "valid"]
    assert len({a["engagement"] for a in bundle["attestations"]}) == 2


def test_a_deprecated_footprint_keeps_its_signed_document(cast):
    from tests.sharing.helpers import new_version

    old = cast.footprint
    new_version(cast, old)
    bundle = bundle_of(session(cast.admin), old.pf_id)
    assert bundle["footprint"]["status"] == "Deprecated"
    assert bundle["footprint"]["document"]["status"] == "Active"  # as signed
    assert [e["type"] for e in entries_by_subject(bundle)[f"footprint:{old.pf_id}"]] == [
        "footprint.submitted",
        "footprint.deprecated",
    ]


def test_the_service_answers_the_same_to_a_granted_buyer(cast):
    from verification.bundle import bundle_create

    attested(cast)
    sharing.grant_create(
        actor=cast.actor("editor"), buyer="other", product_id=cast.footprint.product_id
    )
    bundle = bundle_create(actor=actor_of(cast.outsider), pf_id=cast.footprint.pf_id)
    assert len(bundle["attestations"]) == 1
    assert len(bundle["did_documents"]) == 2
