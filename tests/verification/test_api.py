"""The verification API over HTTP (/api/v1/): the registry, accreditations and the zone
policy, engagements from request to revocation, evidence, findings, site visits, the
attestation draft and the signed credentials.

The supplier (acme) acts through its OAuth2 client (Bearer token) unless a test says
otherwise; the verifier (verity) through a person's session.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEntry
from companies.middleware import SESSION_COMPANY_KEY
from companies.models import Membership
from exchange import services as exchange_services
from exchange.models import Footprint
from exchange.signing import sign_footprint
from tests.exchange.helpers import acme_document
from tests.verification.helpers import (
    HS_SECTOR,
    build_verifiers,
    digests,
    engagement_in,
    request_engagement,
    terms,
)
from trust.dataintegrity import verify_proof
from trust.keys import public_key_from_jwk
from verification import services
from verification.models import (
    Accreditation,
    Attestation,
    Engagement,
    EngagementState,
    Evidence,
    Finding,
    SiteVisit,
    StatusList,
    ZonePolicy,
)

S = EngagementState
pytestmark = pytest.mark.django_db

API = "/api/v1"
PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


# ----------------------------------------------------------------------------- clients


def session(membership: Membership) -> APIClient:
    """A person's session, acting for the membership's company (the company switcher's
    session key, as the portal sets it)."""
    api = APIClient()
    api.force_login(membership.user)
    s = api.session
    s[SESSION_COMPANY_KEY] = membership.company_id
    s.save()
    return api


def bearer(cast) -> APIClient:
    basic = base64.b64encode(f"{cast.client.client_id}:{cast.client_secret}".encode()).decode()
    response = APIClient().post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert response.status_code == 200, response.content
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    return api


def post(api: APIClient, url: str, body: Any = None):
    return api.post(url, data=json.dumps(body or {}), content_type="application/json")


def put(api: APIClient, url: str, body: Any):
    return api.put(url, data=json.dumps(body), content_type="application/json")


def upload(api: APIClient, engagement_id: int, name: str, data: bytes, description: str = ""):
    from django.core.files.uploadedfile import SimpleUploadedFile

    file = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return api.post(
        f"{API}/engagements/{engagement_id}/evidence",
        {"file": file, "description": description},
        format="multipart",
    )


def url(engagement: Engagement | int, tail: str = "") -> str:
    pk = engagement if isinstance(engagement, int) else engagement.pk
    return f"{API}/engagements/{pk}{'/' + tail if tail else ''}"


def error(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.json()


def field_error(response, field: str) -> list[str]:
    body = error(response, 400)
    assert body["code"] == "validation_failed"
    assert field in body["errors"], body
    return body["errors"][field]


def audit_count() -> int:
    return AuditEntry.objects.count()


@pytest.fixture
def verifiers(cast):
    return build_verifiers(cast)


@pytest.fixture
def supplier(cast) -> APIClient:
    return bearer(cast)


@pytest.fixture
def verifier(verifiers) -> APIClient:
    return session(verifiers.verity_editor)


@pytest.fixture
def outsider(cast) -> APIClient:
    return session(cast.outsider)


@pytest.fixture
def operator(cast) -> APIClient:
    return session(cast.op_admin)


def request_body(cast, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "verifier": "verity",
        "footprint_ids": [str(cast.footprint.pf_id)],
        "standard": "ISO 14067",
        "assurance_level": "reasonable",
        "coverage": "product level",
        "message": "Our 2025 lithium carbonate PCF, please.",
    }
    body.update(overrides)
    return body


# -------------------------------------------------------------------------- happy path


def test_the_whole_workflow_over_the_api(cast, verifiers, supplier, verifier):
    footprint = cast.footprint
    pf_id = str(footprint.pf_id)

    # The supplier finds an accredited verifier for its product's standard and sector.
    registry = supplier.get(
        f"{API}/verifiers", {"standard": "ISO 14067", "sector": f"{HS_SECTOR}36.91"}
    )
    assert registry.status_code == 200, registry.content
    [entry] = registry.json()["results"]
    assert entry["slug"] == "verity"
    assert entry["legal_name"] == "Verity Assurance GmbH"
    assert entry["identifiers"] == [i.urn for i in verifiers.verity.identifiers.all()]
    [accreditation] = entry["accreditations"]
    assert accreditation["body"] == "DAkkS"
    assert accreditation["reference"] == "D-VS-12345-01"
    assert "ISO 14067" in accreditation["standards"]
    assert accreditation["sectors"] == [HS_SECTOR]
    assert accreditation["valid_until"] == verifiers.accreditation.valid_until.isoformat()

    # It asks for a verification.
    created = post(supplier, f"{API}/engagements", request_body(cast))
    assert created.status_code == 201, created.content
    body = created.json()
    engagement_id = body["id"]
    assert body["state"] == "requested"
    assert body["supplier"] == {"slug": "acme", "legal_name": cast.acme.legal_name}
    assert body["verifier"]["slug"] == "verity"
    assert body["standard"] == "ISO 14067"
    assert body["assurance_level"] == "reasonable"
    assert body["footprint_count"] == 1
    assert body["footprints"] == [
        {
            "pf_id": pf_id,
            "product_name": footprint.product_name,
            "sha256": footprint.sha256,
            "status": "Active",
        }
    ]
    assert [e["to_state"] for e in body["events"]] == ["requested"]
    assert body["events"][0]["by"] == "acme"
    assert Engagement.objects.get(pk=engagement_id).requested_by is None  # a machine client

    # The verifier sees it in its inbox, accepts and starts the review.
    inbox = verifier.get(f"{API}/engagements", {"side": "verifier", "state": "requested"})
    assert [e["id"] for e in inbox.json()["results"]] == [engagement_id]
    assert supplier.get(f"{API}/engagements", {"side": "verifier"}).json()["results"] == []
    accepted = post(verifier, url(engagement_id, "accept"), {"note": "Happy to."})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["state"] == "accepted"
    reviewing = post(verifier, url(engagement_id, "start-review"))
    assert reviewing.json()["state"] == "in_review"

    # The supplier hands over evidence; the verifier reads it.
    uploaded = upload(supplier, engagement_id, "invoices-2025.pdf", PDF, "Electricity invoices")
    assert uploaded.status_code == 201, uploaded.content
    evidence = uploaded.json()
    assert evidence["file_name"] == "invoices-2025.pdf"
    assert evidence["content_type"] == "application/pdf"
    assert evidence["size"] == len(PDF)
    assert evidence["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert evidence["description"] == "Electricity invoices"
    listed = verifier.get(url(engagement_id, "evidence")).json()
    assert [e["id"] for e in listed] == [evidence["id"]]
    assert "content" not in listed[0]
    download = verifier.get(url(engagement_id, f"evidence/{evidence['id']}"))
    assert download.status_code == 200
    assert download.content == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="invoices-2025.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download["Cache-Control"] and "private" in download["Cache-Control"]

    # A material finding, answered by the supplier, changes requested and resubmitted.
    raised = post(
        verifier,
        url(engagement_id, "findings"),
        {"title": "Grid factor", "materiality": "material", "body": "Use the 2025 grid factor."},
    )
    assert raised.status_code == 201, raised.content
    assert raised.json()["number"] == 1
    assert raised.json()["open"] is True
    assert raised.json()["messages"][0]["body"] == "Use the 2025 grid factor."
    assert raised.json()["messages"][0]["by"] == "verity"
    replied = post(supplier, url(engagement_id, "findings/1/replies"), {"body": "Recalculated."})
    assert replied.status_code == 201, replied.content
    assert [(m["by"], m["body"]) for m in replied.json()["messages"]] == [
        ("verity", "Use the 2025 grid factor."),
        ("acme", "Recalculated."),
    ]
    changes = post(verifier, url(engagement_id, "request-changes"), {"note": "Upload the new PCF"})
    assert changes.json()["state"] == "changes_requested"
    assert changes.json()["state_reason"] == "Upload the new PCF"
    resubmitted = post(supplier, url(engagement_id, "resubmit"), {"note": "Uploaded."})
    assert resubmitted.status_code == 200, resubmitted.content
    assert resubmitted.json()["state"] == "in_review"
    resolved = post(verifier, url(engagement_id, "findings/1/resolve"), {"note": "Fixed."})
    assert resolved.status_code == 200, resolved.content
    assert resolved.json()["open"] is False
    assert resolved.json()["resolved_at"]
    assert resolved.json()["messages"][-1]["body"] == "Fixed."
    assert [f["open"] for f in supplier.get(url(engagement_id, "findings")).json()] == [False]

    # A site visit.
    visit_day = (timezone.localdate() - timedelta(days=3)).isoformat()
    visited = post(
        verifier,
        url(engagement_id, "site-visits"),
        {"date": visit_day, "mode": "physical", "location": "Plant 1, Yichun", "notes": "ok"},
    )
    assert visited.status_code == 201, visited.content
    assert visited.json()["date"] == visit_day
    assert visited.json()["location"] == "Plant 1, Yichun"

    # The verifier previews the credentials, then attests.
    draft = verifier.get(url(engagement_id, "attestation-draft"), terms())
    assert draft.status_code == 200, draft.content
    draft_body = draft.json()
    assert draft_body["engagement"] == engagement_id
    assert draft_body["accreditation"]["reference"] == "D-VS-12345-01"
    assert set(draft_body["assigned_at_signing"]) == {
        "id",
        "validFrom",
        "credentialStatus",
        "proof",
    }
    [draft_credential] = draft_body["credentials"]
    assert draft_credential["footprint_id"] == pf_id
    assert draft_credential["footprint_sha256"] == footprint.sha256
    document = draft_credential["document"]
    assert document["credentialSubject"]["footprintDigest"] == footprint.sha256
    assert document["credentialSubject"]["siteVisits"] == [{"date": visit_day, "mode": "physical"}]
    assert not set(draft_body["assigned_at_signing"]) & set(document)

    attested = post(
        verifier,
        url(engagement_id, "attest"),
        {**terms(), "footprint_digests": {pf_id: footprint.sha256}, "kid": verifiers.key.kid},
    )
    assert attested.status_code == 201, attested.content
    attested_body = attested.json()
    assert attested_body["engagement"]["state"] == "attested"
    [issued] = attested_body["credentials"]
    assert issued["footprint_id"] == pf_id
    credential = issued["credential"]
    assert credential["id"] == issued["credential_id"]
    # What was signed is the draft plus the fields assigned at signing.
    assert {k: v for k, v in credential.items() if k in document} == document
    assert set(credential) - set(document) == set(draft_body["assigned_at_signing"])
    verified = verify_proof(credential, lambda _: public_key_from_jwk(verifiers.key.public_jwk))
    assert verified.verification_method.endswith(f"#{verifiers.key.kid}")

    # The supplier holds the credential: listed, and served exactly as stored.
    valid = supplier.get(f"{API}/attestations", {"state": "valid"}).json()["results"]
    assert [a["credential_id"] for a in valid] == [issued["credential_id"]]
    assert valid[0]["supplier"]["slug"] == "acme"
    assert valid[0]["verifier"]["slug"] == "verity"
    assert valid[0]["footprint_id"] == pf_id
    assert valid[0]["footprint_sha256"] == footprint.sha256
    assert valid[0]["state"] == "valid"
    stored = supplier.get(f"{API}/attestations/{issued['credential_id']}")
    assert stored.status_code == 200
    assert stored["Content-Type"] == "application/vc"
    attestation = Attestation.objects.get(credential_id=issued["credential_id"])
    assert stored.content == bytes(attestation.credential)
    assert json.loads(stored.content) == credential
    assert verifier.get(f"{API}/attestations").json()["count"] == 1  # issued

    detail = supplier.get(url(engagement_id)).json()
    assert detail["attestations"] == [
        {
            "credential_id": issued["credential_id"],
            "footprint_id": pf_id,
            "state": "valid",
            "issued_at": detail["attestations"][0]["issued_at"],
            "valid_until": detail["attestations"][0]["valid_until"],
            "revoked_at": None,
        }
    ]
    assert [(v["date"], v["mode"]) for v in detail["site_visits"]] == [(visit_day, "physical")]
    assert [e["id"] for e in detail["evidence"]] == [evidence["id"]]
    assert Footprint.objects.get(pk=footprint.pk).verification is not None

    # Revocation: the credential is revoked for both parties.
    revoked = post(verifier, url(engagement_id, "revoke"), {"reason": "Misstatement found"})
    assert revoked.status_code == 200, revoked.content
    assert revoked.json()["state"] == "revoked"
    assert revoked.json()["attestations"][0]["state"] == "revoked"
    assert supplier.get(f"{API}/attestations", {"state": "valid"}).json()["count"] == 0
    [gone] = supplier.get(f"{API}/attestations", {"state": "revoked"}).json()["results"]
    assert gone["revocation_reason"] == "Misstatement found"
    assert [e["to_state"] for e in supplier.get(url(engagement_id)).json()["events"]] == [
        "requested",
        "accepted",
        "in_review",
        "changes_requested",
        "in_review",
        "attested",
        "revoked",
    ]
    assert Footprint.objects.get(pk=footprint.pk).verification is None


def test_a_person_of_the_supplier_requests_through_the_session(cast, verifiers):
    response = post(session(cast.editor), f"{API}/engagements", request_body(cast))
    assert response.status_code == 201, response.content
    assert Engagement.objects.get(pk=response.json()["id"]).requested_by == cast.editor.user


def test_the_verifier_declines_and_refuses(cast, verifiers, verifier):
    requested = engagement_in(cast, verifiers, S.REQUESTED)
    declined = post(verifier, url(requested, "decline"), {"reason": "No capacity this quarter"})
    assert declined.status_code == 200, declined.content
    assert declined.json()["state"] == "declined"
    assert declined.json()["state_reason"] == "No capacity this quarter"

    reviewing = engagement_in(cast, verifiers, S.IN_REVIEW)
    refused = post(verifier, url(reviewing, "refuse"), {"reason": "The data is unusable"})
    assert refused.status_code == 200, refused.content
    assert refused.json()["state"] == "refused"


def test_engagement_lists_filter_by_side_and_state(cast, verifiers, supplier, verifier):
    requested = engagement_in(cast, verifiers, S.REQUESTED)
    as_supplier = supplier.get(f"{API}/engagements", {"side": "supplier"}).json()
    assert [e["id"] for e in as_supplier["results"]] == [requested.pk]
    assert supplier.get(f"{API}/engagements", {"state": "attested"}).json()["count"] == 0
    assert verifier.get(f"{API}/engagements").json()["count"] == 1
    field_error(supplier.get(f"{API}/engagements", {"side": "buyer"}), "side")
    field_error(supplier.get(f"{API}/engagements", {"state": "done"}), "state")


# ------------------------------------------------------------------- registry, operator


def test_the_registry_filters_by_standard_and_sector_and_hides_suspended(cast, verifiers, outsider):
    def slugs(**query: str) -> list[str]:
        response = outsider.get(f"{API}/verifiers", query)
        assert response.status_code == 200, response.content
        return [v["slug"] for v in response.json()["results"]]

    assert slugs() == ["verity"]
    assert slugs(standard="ISO 14067") == ["verity"]
    assert slugs(standard="ISAE 3410") == []
    assert slugs(sector="urn:pact:cpc:41") == []
    services.accreditation_suspend(
        actor=cast.actor("op_admin"), accreditation=verifiers.accreditation, reason="audit"
    )
    assert slugs() == []


def test_the_operator_manages_accreditations(cast, verifiers, operator):
    today = timezone.localdate()
    body = {
        "verifier": "verity",
        "body": "UKAS",
        "reference": "UKAS-0042",
        "standards": ["ISO 14064-3", "ISAE 3410"],
        "sectors": ["urn:pact:cpc:41"],
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=700)).isoformat(),
    }
    created = post(operator, f"{API}/accreditations", body)
    assert created.status_code == 201, created.content
    granted = created.json()
    assert granted["verifier"]["slug"] == "verity"
    assert granted["standards"] == ["ISO 14064-3", "ISAE 3410"]
    assert granted["suspended_at"] is None
    assert post(operator, f"{API}/accreditations", body).status_code == 409  # same reference

    listed = operator.get(f"{API}/accreditations", {"verifier": "verity"}).json()
    assert listed["count"] == 2
    assert operator.get(f"{API}/accreditations", {"verifier": "other"}).json()["count"] == 0
    one = operator.get(f"{API}/accreditations/{granted['id']}")
    assert one.json()["reference"] == "UKAS-0042"
    assert operator.get(f"{API}/accreditations/999999").status_code == 404

    path = f"{API}/accreditations/{granted['id']}"
    field_error(post(operator, f"{path}/suspend", {}), "reason")
    suspended = post(operator, f"{path}/suspend", {"reason": "Surveillance audit failed"})
    assert suspended.status_code == 200, suspended.content
    assert suspended.json()["suspension_reason"] == "Surveillance audit failed"
    assert suspended.json()["suspended_at"]
    assert error(post(operator, f"{path}/suspend", {"reason": "again"}), 409)["field"] == (
        "accreditation"
    )
    reinstated = post(operator, f"{path}/reinstate")
    assert reinstated.status_code == 200
    assert reinstated.json()["suspended_at"] is None
    assert post(operator, f"{path}/reinstate").status_code == 409


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"verifier": "nobody"}, "verifier"),
        ({"verifier": "other"}, "verifier"),  # not a verifier
        ({"standards": ["ISO 9001"]}, "standards[0]"),
        ({"standards": []}, "standards"),
        ({"sectors": ["cpc 41"]}, "sectors[0]"),
        ({"valid_from": "yesterday"}, "valid_from"),
        ({"valid_until": "2020-01-01"}, "valid_until"),
        ({"body": ""}, "body"),
    ],
)
def test_a_bad_accreditation_names_the_field(cast, verifiers, operator, overrides, field):
    body = {
        "verifier": "verity",
        "body": "UKAS",
        "reference": "UKAS-7",
        "standards": ["ISO 14067"],
        "sectors": ["urn:pact:cpc:41"],
        "valid_from": "2026-01-01",
        "valid_until": "2027-01-01",
        **overrides,
    }
    before = Accreditation.objects.count()
    field_error(post(operator, f"{API}/accreditations", body), field)
    assert Accreditation.objects.count() == before


def test_only_the_operator_touches_accreditations_and_the_policy(cast, verifiers, supplier):
    viewer = session(cast.admin)
    accreditation = f"{API}/accreditations/{verifiers.accreditation.pk}"
    for api in (supplier, viewer, session(verifiers.verity_admin)):
        assert api.get(f"{API}/accreditations").status_code == 403
        assert post(api, f"{API}/accreditations", {"verifier": "nobody"}).status_code == 403
        assert api.get(accreditation).status_code == 403
        assert post(api, f"{accreditation}/suspend", {"reason": "x"}).status_code == 403
        assert api.get(f"{API}/zone-policy").status_code == 403
        assert put(api, f"{API}/zone-policy", {"max_consecutive_years": 2}).status_code == 403
    assert Accreditation.objects.get().suspended_at is None


def test_the_operator_sets_the_rotation_rule(cast, operator):
    assert operator.get(f"{API}/zone-policy").json()["max_consecutive_years"] is None
    changed = put(operator, f"{API}/zone-policy", {"max_consecutive_years": 3})
    assert changed.status_code == 200, changed.content
    assert changed.json()["max_consecutive_years"] == 3
    assert ZonePolicy.objects.get().max_consecutive_years == 3
    cleared = put(operator, f"{API}/zone-policy", {"max_consecutive_years": None})
    assert cleared.json()["max_consecutive_years"] is None
    field_error(
        put(operator, f"{API}/zone-policy", {"max_consecutive_years": 60}),
        ("max_consecutive_years"),
    )
    field_error(put(operator, f"{API}/zone-policy", {}), "max_consecutive_years")
    field_error(
        put(operator, f"{API}/zone-policy", {"max_consecutive_years": "three"}),
        "max_consecutive_years",
    )


# -------------------------------------------------------------------- engagement request


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"verifier": "nobody"}, "verifier"),
        ({"verifier": "other"}, "verifier"),  # not a verifier
        ({"standard": "ISO 9001"}, "standard"),
        ({"assurance_level": "total"}, "assurance_level"),
        ({"coverage": "everything"}, "coverage"),
        ({"footprint_ids": "not-a-list"}, "footprint_ids"),
        ({"footprint_ids": []}, "footprint_ids"),
        ({"footprint_ids": ["not-a-uuid"]}, "footprint_ids[0]"),
        ({"footprint_ids": ["6f1c0c52-4e8a-4d8e-9f55-1a2b3c4d5e6f"]}, "footprint_ids[0]"),
        ({"standard": "ISAE 3410"}, "verifier"),  # verity is not accredited for it
    ],
)
def test_a_bad_request_names_the_field_and_stores_nothing(
    cast, verifiers, supplier, overrides, field
):
    field_error(post(supplier, f"{API}/engagements", request_body(cast, **overrides)), field)
    assert Engagement.objects.count() == 0


def test_a_request_without_fields_names_each(cast, verifiers, supplier):
    errors = error(post(supplier, f"{API}/engagements", {}), 400)["errors"]
    assert {"verifier", "footprint_ids", "standard", "assurance_level", "coverage"} <= set(errors)


def test_a_viewer_cannot_request_and_an_open_duplicate_conflicts(cast, verifiers, supplier):
    assert post(session(cast.viewer), f"{API}/engagements", request_body(cast)).status_code == 403
    assert post(supplier, f"{API}/engagements", request_body(cast)).status_code == 201
    duplicate = error(post(supplier, f"{API}/engagements", request_body(cast)), 409)
    assert duplicate["field"] == "footprint_ids"
    assert Engagement.objects.count() == 1


def test_a_verifier_sharing_members_with_the_supplier_is_refused(cast, verifiers, supplier):
    Membership.objects.create(user=cast.viewer.user, company=verifiers.verity, role="viewer")
    assert (
        "not independent"
        in field_error(post(supplier, f"{API}/engagements", request_body(cast)), "verifier")[0]
    )


# ----------------------------------------------------------------- sides, states, bodies


def test_the_wrong_side_is_refused_with_403_and_outsiders_get_404(
    cast, verifiers, supplier, verifier, outsider, operator
):
    requested = engagement_in(cast, verifiers, S.REQUESTED)
    assert error(post(supplier, url(requested, "accept")), 403)["code"] == "permission_denied"
    assert post(supplier, url(requested, "decline"), {"reason": "x"}).status_code == 403
    for api in (outsider, operator):
        assert api.get(url(requested)).status_code == 404
        assert post(api, url(requested, "accept")).status_code == 404
        assert api.get(url(requested, "findings")).status_code == 404
        assert api.get(url(requested, "evidence")).status_code == 404
    assert session(verifiers.verity_viewer).get(url(requested)).status_code == 200
    assert post(session(verifiers.verity_viewer), url(requested, "accept")).status_code == 403
    assert supplier.get(url(999999)).status_code == 404
    assert Engagement.objects.get().state == S.REQUESTED

    changes = engagement_in(cast, verifiers, S.CHANGES_REQUESTED, standard="PACT Methodology")
    assert post(verifier, url(changes, "resubmit"), {"note": "x"}).status_code == 403
    assert post(session(cast.viewer), url(changes, "resubmit"), {"note": "x"}).status_code == 403


@pytest.mark.parametrize(
    ("state", "action", "body"),
    [
        (S.ACCEPTED, "accept", {}),
        (S.REQUESTED, "start-review", {}),
        (S.ACCEPTED, "request-changes", {"note": "x"}),
        (S.IN_REVIEW, "resubmit", {"note": "x"}),
        (S.ACCEPTED, "refuse", {"reason": "x"}),
        (S.IN_REVIEW, "revoke", {"reason": "x"}),
        (S.DECLINED, "decline", {"reason": "x"}),
    ],
)
def test_a_step_in_the_wrong_state_is_a_409(
    cast, verifiers, supplier, verifier, state, action, body
):
    engagement = engagement_in(cast, verifiers, state)
    api = supplier if action == "resubmit" else verifier
    before = audit_count()
    refused = error(post(api, url(engagement, action), body), 409)
    assert refused["code"] == "conflict"
    assert refused["field"] == "state"
    engagement.refresh_from_db()
    assert engagement.state == state
    assert audit_count() == before


@pytest.mark.parametrize(
    ("state", "action", "field"),
    [
        (S.REQUESTED, "decline", "reason"),
        (S.IN_REVIEW, "request-changes", "note"),
        (S.IN_REVIEW, "refuse", "reason"),
        (S.ATTESTED, "revoke", "reason"),
    ],
)
def test_a_step_missing_its_reason_is_a_400(cast, verifiers, verifier, state, action, field):
    engagement = engagement_in(cast, verifiers, state)
    field_error(post(verifier, url(engagement, action), {}), field)
    field_error(post(verifier, url(engagement, action), {field: ""}), field)
    engagement.refresh_from_db()
    assert engagement.state == state


def test_resubmit_needs_a_note(cast, verifiers, supplier):
    engagement = engagement_in(cast, verifiers, S.CHANGES_REQUESTED)
    field_error(post(supplier, url(engagement, "resubmit"), {}), "note")


# -------------------------------------------------------------------------- evidence


@pytest.fixture
def reviewing(cast, verifiers) -> Engagement:
    return engagement_in(cast, verifiers, S.IN_REVIEW)


def test_evidence_of_each_accepted_type_is_stored(cast, reviewing, supplier, verifier):
    assert upload(supplier, reviewing.pk, "meter.png", PNG).status_code == 201
    csv = upload(supplier, reviewing.pk, "readings.csv", "kWh;Zähler\n12;A\n".encode())
    assert csv.status_code == 201, csv.content
    assert csv.json()["content_type"] == "text/csv"
    downloaded = verifier.get(url(reviewing, f"evidence/{csv.json()['id']}"))
    assert downloaded["Content-Type"] == "text/csv"


def test_evidence_over_the_limit_is_refused(cast, reviewing, supplier, settings):
    settings.EVIDENCE_MAX_BYTES = 16
    before = audit_count()
    message = field_error(upload(supplier, reviewing.pk, "big.pdf", PDF), "file")[0]
    assert "over the limit of 16 bytes" in message
    assert Evidence.objects.count() == 0
    assert audit_count() == before


def test_evidence_of_another_type_is_refused(cast, reviewing, supplier):
    message = field_error(upload(supplier, reviewing.pk, "tool.exe", b"MZ\x90\x00"), "file")[0]
    assert "not accepted" in message
    field_error(upload(supplier, reviewing.pk, "noextension", PDF), "file")
    assert Evidence.objects.count() == 0


def test_evidence_whose_bytes_do_not_match_the_extension_is_refused(cast, reviewing, supplier):
    message = field_error(upload(supplier, reviewing.pk, "invoice.pdf", b"MZ\x90\x00exe"), "file")[
        0
    ]
    assert "not a PDF" in message
    field_error(upload(supplier, reviewing.pk, "photo.png", PDF), "file")
    field_error(upload(supplier, reviewing.pk, "data.csv", b"a,b\x00c"), "file")
    assert Evidence.objects.count() == 0


def test_evidence_without_a_file_or_empty_is_refused(cast, reviewing, supplier):
    response = supplier.post(url(reviewing, "evidence"), {"description": "x"}, format="multipart")
    field_error(response, "file")
    field_error(upload(supplier, reviewing.pk, "empty.pdf", b""), "file")


def test_only_the_supplier_adds_evidence_while_open(cast, verifiers, reviewing, verifier, outsider):
    assert upload(verifier, reviewing.pk, "x.pdf", PDF).status_code == 403
    assert upload(session(cast.viewer), reviewing.pk, "x.pdf", PDF).status_code == 403
    assert upload(outsider, reviewing.pk, "x.pdf", PDF).status_code == 404
    services.engagement_refuse(actor=verifiers.actor(), engagement=reviewing, reason="no")
    closed = error(upload(bearer(cast), reviewing.pk, "x.pdf", PDF), 409)
    assert closed["field"] == "state"
    assert Evidence.objects.count() == 0


def test_evidence_is_downloaded_by_the_two_parties_only(
    cast, verifiers, reviewing, supplier, outsider, operator
):
    evidence = services.evidence_add(
        actor=cast.actor("editor"), engagement=reviewing, file_name="plan.pdf", data=PDF
    )
    path = url(reviewing, f"evidence/{evidence.pk}")
    assert session(cast.viewer).get(path).content == PDF
    assert supplier.get(path).status_code == 200
    assert session(verifiers.verity_viewer).get(path).content == PDF
    for api in (outsider, operator, APIClient()):
        response = api.get(path)
        assert response.status_code in (401, 403, 404)
        assert PDF not in response.content
    assert outsider.get(path).status_code == 404
    assert supplier.get(url(reviewing, "evidence/999999")).status_code == 404
    # Another engagement's id does not reach this evidence.
    other = engagement_in(cast, verifiers, S.REQUESTED, standard="PACT Methodology")
    assert supplier.get(url(other, f"evidence/{evidence.pk}")).status_code == 404


def test_an_evidence_download_ignores_the_accept_header(cast, reviewing, supplier):
    evidence = services.evidence_add(
        actor=cast.actor("editor"), engagement=reviewing, file_name="plan.pdf", data=PDF
    )
    response = supplier.get(
        url(reviewing, f"evidence/{evidence.pk}"), HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 200
    assert response.content == PDF


# -------------------------------------------------------------------------- findings


def test_finding_rules(cast, verifiers, reviewing, supplier, verifier, outsider):
    body = {"title": "Grid factor", "materiality": "immaterial", "body": "Check it."}
    assert post(supplier, url(reviewing, "findings"), body).status_code == 403
    assert post(outsider, url(reviewing, "findings"), body).status_code == 404
    field_error(
        post(verifier, url(reviewing, "findings"), {**body, "materiality": "big"}), ("materiality")
    )
    field_error(post(verifier, url(reviewing, "findings"), {**body, "title": ""}), "title")
    field_error(post(verifier, url(reviewing, "findings"), {"title": "t"}), "body")
    assert Finding.objects.count() == 0

    assert post(verifier, url(reviewing, "findings"), body).status_code == 201
    field_error(post(supplier, url(reviewing, "findings/1/replies"), {"body": ""}), "body")
    assert post(supplier, url(reviewing, "findings/2/replies"), {"body": "x"}).status_code == 404
    assert post(outsider, url(reviewing, "findings/1/replies"), {"body": "x"}).status_code == 404
    assert (
        post(session(cast.viewer), url(reviewing, "findings/1/replies"), {"body": "x"}).status_code
        == 403
    )
    assert post(supplier, url(reviewing, "findings/1/resolve")).status_code == 403
    assert post(verifier, url(reviewing, "findings/1/resolve")).status_code == 200
    assert error(post(verifier, url(reviewing, "findings/1/resolve")), 409)["field"] == "finding"


def test_findings_are_raised_only_in_review(cast, verifiers, verifier):
    accepted = engagement_in(cast, verifiers, S.ACCEPTED)
    body = {"title": "t", "materiality": "material", "body": "b"}
    assert error(post(verifier, url(accepted, "findings"), body), 409)["field"] == "state"


def test_an_open_material_finding_blocks_the_attestation(cast, verifiers, reviewing, verifier):
    services.finding_raise(
        actor=verifiers.actor(), engagement=reviewing, title="t", materiality="material", body="b"
    )
    body = {**terms(), "footprint_digests": digests(reviewing)}
    assert error(post(verifier, url(reviewing, "attest"), body), 409)["field"] == "findings"
    assert Attestation.objects.count() == 0


# ----------------------------------------------------------------------- site visits


def test_site_visit_rules(cast, verifiers, supplier, verifier):
    requested = engagement_in(cast, verifiers, S.REQUESTED)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    body = {"date": yesterday, "mode": "virtual"}
    assert error(post(verifier, url(requested, "site-visits"), body), 409)["field"] == "state"
    services.engagement_accept(actor=verifiers.actor(), engagement=requested)
    assert post(supplier, url(requested, "site-visits"), body).status_code == 403
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    field_error(post(verifier, url(requested, "site-visits"), {**body, "date": tomorrow}), "date")
    field_error(post(verifier, url(requested, "site-visits"), {**body, "date": "soon"}), "date")
    field_error(post(verifier, url(requested, "site-visits"), {**body, "mode": "phone"}), "mode")
    assert SiteVisit.objects.count() == 0
    created = post(verifier, url(requested, "site-visits"), body)
    assert created.status_code == 201, created.content
    assert created.json()["mode"] == "virtual"


def test_cbam_needs_a_site_visit_before_the_attestation(cast, verifiers, verifier):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW, standard="CBAM verification")
    body = {**terms(), "footprint_digests": digests(engagement)}
    assert error(post(verifier, url(engagement, "attest"), body), 409)["field"] == "site_visits"
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    post(verifier, url(engagement, "site-visits"), {"date": yesterday, "mode": "physical"})
    assert post(verifier, url(engagement, "attest"), body).status_code == 201


# ------------------------------------------------------------------------ attestation


def nothing_changed(engagement: Engagement, audit_before: int) -> None:
    assert Attestation.objects.count() == 0
    assert StatusList.objects.count() == 0
    engagement.refresh_from_db()
    assert engagement.state == S.IN_REVIEW
    assert engagement.attested_at is None
    assert audit_count() == audit_before


def test_attesting_with_a_wrong_digest_is_a_400_and_stores_nothing(
    cast, verifiers, reviewing, verifier
):
    pf_id = str(cast.footprint.pf_id)
    before = audit_count()
    body = {**terms(), "footprint_digests": {pf_id: "0" * 64}}
    message = field_error(
        post(verifier, url(reviewing, "attest"), body), (f"footprint_digests.{pf_id}")
    )[0]
    assert cast.footprint.sha256 in message
    nothing_changed(reviewing, before)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b, e: b.update(footprint_digests={}), "footprint_digests"),
        (
            lambda b, e: b.update(footprint_digests={**b["footprint_digests"], "x": "y"}),
            ("footprint_digests"),
        ),
        (lambda b, e: b.pop("footprint_digests"), "footprint_digests"),
        (lambda b, e: b.update(footprint_digests=["a"]), "footprint_digests"),
        (lambda b, e: b.update(opinion="adverse"), "opinion"),
        (lambda b, e: b.pop("boundary"), "boundary"),
        (lambda b, e: b.update(opinion_text=""), "opinion_text"),
        (lambda b, e: b.update(valid_until="next year"), "valid_until"),
        (lambda b, e: b.update(valid_until=date.today().isoformat()), "valid_until"),
        (
            lambda b, e: b.update(valid_until=(date.today() + timedelta(days=2000)).isoformat()),
            "valid_until",
        ),
        (lambda b, e: b.update(kid="no-such-key"), "kid"),
    ],
)
def test_a_bad_attestation_names_the_field_and_stores_nothing(
    cast, verifiers, reviewing, verifier, change, field
):
    before = audit_count()
    body = {**terms(), "footprint_digests": digests(reviewing)}
    change(body, reviewing)
    field_error(post(verifier, url(reviewing, "attest"), body), field)
    nothing_changed(reviewing, before)


def test_only_the_verifier_attests(cast, verifiers, reviewing, supplier, outsider):
    body = {**terms(), "footprint_digests": digests(reviewing)}
    before = audit_count()
    assert post(supplier, url(reviewing, "attest"), body).status_code == 403
    assert post(session(cast.admin), url(reviewing, "attest"), body).status_code == 403
    assert post(outsider, url(reviewing, "attest"), body).status_code == 404
    assert post(session(verifiers.verity_viewer), url(reviewing, "attest"), body).status_code == 403
    nothing_changed(reviewing, before)


def test_attesting_an_accepted_engagement_is_a_409(cast, verifiers, verifier):
    accepted = engagement_in(cast, verifiers, S.ACCEPTED)
    body = {**terms(), "footprint_digests": digests(accepted)}
    assert error(post(verifier, url(accepted, "attest"), body), 409)["field"] == "state"


def test_the_draft_is_for_the_verifier_and_needs_the_terms(
    cast, verifiers, reviewing, supplier, verifier, outsider
):
    assert supplier.get(url(reviewing, "attestation-draft"), terms()).status_code == 403
    assert outsider.get(url(reviewing, "attestation-draft"), terms()).status_code == 404
    errors = error(verifier.get(url(reviewing, "attestation-draft")), 400)["errors"]
    assert {"boundary", "materiality_threshold", "opinion", "opinion_text", "valid_until"} <= set(
        errors
    )
    field_error(
        verifier.get(url(reviewing, "attestation-draft"), terms(opinion="maybe")), ("opinion")
    )
    viewer_draft = session(verifiers.verity_viewer).get(
        url(reviewing, "attestation-draft"), terms()
    )
    assert viewer_draft.status_code == 200
    assert Attestation.objects.count() == 0


def test_the_draft_says_when_no_accreditation_covers_the_engagement(
    cast, verifiers, reviewing, verifier
):
    services.accreditation_suspend(
        actor=cast.actor("op_admin"), accreditation=verifiers.accreditation, reason="audit"
    )
    field_error(verifier.get(url(reviewing, "attestation-draft"), terms()), "accreditation")
    body = {**terms(), "footprint_digests": digests(reviewing)}
    field_error(post(verifier, url(reviewing, "attest"), body), "accreditation")
    assert Attestation.objects.count() == 0


# ----------------------------------------------------------------------- attestations


def test_attestations_are_listed_by_state_and_served_to_their_parties(
    cast, verifiers, supplier, verifier, outsider, operator
):
    attested = engagement_in(cast, verifiers, S.ATTESTED)
    attestation = attested.attestations.get()
    path = f"{API}/attestations/{attestation.credential_id}"
    assert verifier.get(path).content == bytes(attestation.credential)
    assert session(cast.viewer).get(path).status_code == 200
    assert supplier.get(path, HTTP_ACCEPT="application/vc").status_code == 200
    for api in (outsider, operator):
        assert api.get(path).status_code == 404
        assert api.get(f"{API}/attestations").json()["count"] == 0
    assert supplier.get(f"{API}/attestations/urn:uuid:nothing").status_code == 404
    field_error(supplier.get(f"{API}/attestations", {"state": "lost"}), "state")

    assert supplier.get(f"{API}/attestations", {"state": "expired"}).json()["count"] == 0
    Attestation.objects.update(valid_until=timezone.now() - timedelta(seconds=1))
    expired = supplier.get(f"{API}/attestations", {"state": "expired"}).json()["results"]
    assert [(a["credential_id"], a["state"]) for a in expired] == [
        (attestation.credential_id, "expired")
    ]
    assert supplier.get(f"{API}/attestations", {"state": "valid"}).json()["count"] == 0
    assert supplier.get(f"{API}/attestations", {"state": "revoked"}).json()["count"] == 0


def test_an_engagement_with_two_footprints_gets_two_credentials(cast, verifiers, verifier):
    document = acme_document(cast)
    second = exchange_services.footprint_submit(
        actor=cast.actor("editor"), jws=sign_footprint(document, cast.own_private_key)
    ).footprint
    engagement = request_engagement(cast, verifiers, footprints=[cast.footprint, second])
    services.engagement_accept(actor=verifiers.actor(), engagement=engagement)
    services.engagement_start_review(actor=verifiers.actor(), engagement=engagement)

    draft = verifier.get(url(engagement, "attestation-draft"), terms()).json()
    assert len(draft["credentials"]) == 2
    attested = post(
        verifier, url(engagement, "attest"), {**terms(), "footprint_digests": digests(engagement)}
    )
    assert attested.status_code == 201, attested.content
    credentials = attested.json()["credentials"]
    assert {c["footprint_id"] for c in credentials} == {
        str(cast.footprint.pf_id),
        str(second.pf_id),
    }
    assert len({c["credential_id"] for c in credentials}) == 2
    assert attested.json()["engagement"]["footprint_count"] == 2


def test_an_attestation_body_with_a_duplicate_key_is_refused(cast, verifiers, reviewing, verifier):
    before = audit_count()
    body = json.dumps({**terms(), "footprint_digests": digests(reviewing)})
    ambiguous = body[:-1] + ', "opinion": "qualified"}'
    response = verifier.post(
        url(reviewing, "attest"), data=ambiguous, content_type="application/json"
    )
    assert error(response, 400)["code"] == "parse_error"
    nothing_changed(reviewing, before)
