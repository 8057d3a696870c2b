"""Credentials the platform issues, checked by code that did not sign them: a separate
eddsa-jcs-2022 implementation (tests/independent_vc.py), trust.vc over HTTP from the
served DID documents and status lists, and the ``carbonx verify-credential`` CLI."""

from __future__ import annotations

import copy
import json
from urllib.parse import urlsplit

import pytest
from django.test import Client

from cli.main import main as carbonx
from tests.independent_vc import independent_verify
from tests.verification.helpers import build_verifiers, engagement_in
from trust import did as trust_did
from trust.errors import TrustError
from trust.vc import check_credential
from verification import services
from verification.models import Attestation, EngagementState

pytestmark = pytest.mark.django_db
S = EngagementState


@pytest.fixture
def verifiers(cast):
    return build_verifiers(cast)


@pytest.fixture
def attested(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.ATTESTED)
    attestation = Attestation.objects.get(engagement=engagement)
    return engagement, json.loads(attestation.credential)


def _get_json(url: str) -> dict:
    """GET a public document from the platform, anonymously, as an outsider would."""
    response = Client().get(urlsplit(url).path)
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def _resolve_did(did: str) -> dict:
    return _get_json(trust_did.did_web_document_url(did, allow_http_loopback=True))


def _method_key(document: dict, method_id: str) -> str:
    (method,) = [m for m in document["verificationMethod"] if m["id"] == method_id]
    return method["publicKeyMultibase"]


def test_an_independent_implementation_verifies_the_credential(attested):
    _, credential = attested
    method = credential["proof"]["verificationMethod"]
    public_key = _method_key(_resolve_did(credential["issuer"]["id"]), method)
    assert independent_verify(credential, public_key)
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["footprintDigest"] = "0" * 64
    assert not independent_verify(tampered, public_key)


def test_the_status_list_is_signed_by_the_zone_operator_and_verifies_independently(attested):
    _, credential = attested
    status_list = _get_json(credential["credentialStatus"]["statusListCredential"])
    assert status_list["issuer"] == "did:web:127.0.0.1%3A8000:companies:zone-operator"
    method = status_list["proof"]["verificationMethod"]
    assert independent_verify(status_list, _method_key(_resolve_did(status_list["issuer"]), method))


def test_the_credential_checks_out_over_http_and_revocation_shows_in_the_status_list(
    cast, verifiers, attested
):
    engagement, credential = attested
    check = check_credential(credential, resolve_did=_resolve_did, load_status_list=_get_json)
    assert check.revoked is False
    assert check.valid_now
    assert check.subject["footprintId"] == str(cast.footprint.pf_id)

    services.engagement_revoke(actor=verifiers.actor(), engagement=engagement, reason="wrong")
    check = check_credential(credential, resolve_did=_resolve_did, load_status_list=_get_json)
    assert check.revoked is True
    assert not check.valid_now


def test_a_tampered_credential_is_refused(attested):
    _, credential = attested
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["assuranceLevel"] = "reasonable"
    with pytest.raises(TrustError):
        check_credential(tampered, resolve_did=_resolve_did, load_status_list=_get_json)


def test_a_credential_claiming_another_issuer_is_refused(cast, verifiers, attested):
    _, credential = attested
    forged = copy.deepcopy(credential)
    forged["issuer"]["id"] = services.company_did(cast.acme)
    with pytest.raises(TrustError):
        check_credential(forged, resolve_did=_resolve_did, load_status_list=_get_json)


def test_a_compromised_key_leaves_the_did_document(cast, verifiers, attested):
    from companies import services as company_services

    _, credential = attested
    company_services.signing_key_revoke(
        actor=verifiers.actor("verity_admin"), key=verifiers.key, reason="compromised"
    )
    with pytest.raises(TrustError):
        check_credential(credential, resolve_did=_resolve_did, load_status_list=_get_json)


def test_the_cli_checks_a_credential_offline(tmp_path, capsys, cast, verifiers, attested):
    engagement, credential = attested
    files = {
        "credential.json": credential,
        "verifier-did.json": _resolve_did(credential["issuer"]["id"]),
        "status.json": _get_json(credential["credentialStatus"]["statusListCredential"]),
    }
    files["operator-did.json"] = _resolve_did(files["status.json"]["issuer"])
    for name, document in files.items():
        (tmp_path / name).write_text(json.dumps(document))
    args = [
        "verify-credential",
        str(tmp_path / "credential.json"),
        "--offline",
        "--did-document",
        str(tmp_path / "verifier-did.json"),
        "--did-document",
        str(tmp_path / "operator-did.json"),
        "--status-list",
        str(tmp_path / "status.json"),
    ]
    assert carbonx(args) == 0
    assert str(cast.footprint.pf_id) in capsys.readouterr().out

    services.engagement_revoke(actor=verifiers.actor(), engagement=engagement, reason="wrong")
    (tmp_path / "status.json").write_text(
        json.dumps(_get_json(credential["credentialStatus"]["statusListCredential"]))
    )
    assert carbonx(args) == 3
    assert "revoked" in capsys.readouterr().out.lower()

    credential["credentialSubject"]["opinion"] = "qualified"
    (tmp_path / "credential.json").write_text(json.dumps(credential))
    assert carbonx(args) == 1


def test_did_documents_and_status_lists_are_public_and_unknown_ones_404():
    client = Client()
    assert client.get("/companies/nobody/did.json").status_code == 404
    assert client.get("/credentials/status/999").status_code == 404
