"""The verification portal pages (django test Client): the supplier's home, request form
and engagement page; the verifier's inbox, engagement page and attest page (terms →
preview of exactly what is signed → sign); credentials; the operator's accreditations.

Each page is checked for the people who may use it and refused to the others; every
refused form is checked to name its field and to have stored nothing.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from companies.models import KeyCustody, SigningKey
from tests.verification.helpers import build_verifiers, digests, engagement_in, terms
from verification import services
from verification.models import (
    Accreditation,
    Attestation,
    Engagement,
    EngagementState,
    Evidence,
    Finding,
    SiteVisit,
    ZonePolicy,
)

S = EngagementState
pytestmark = pytest.mark.django_db

HOME = "/verification/"
REQUEST = "/verification/request/"
INBOX = "/verification/inbox/"
CREDENTIALS = "/verification/credentials/"
ACCREDITATIONS = "/verification/operator/accreditations/"
PDF = b"%PDF-1.4\n% electricity invoices 2025\n%%EOF\n"


@pytest.fixture
def verifiers(cast):
    return build_verifiers(cast)


def portal(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def page(engagement: Engagement, rest: str = "") -> str:
    return f"/verification/engagements/{engagement.pk}/{rest}"


def page_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def text(response) -> str:
    return response.content.decode()


def request_form(cast, verifiers, **changes):
    data = {
        "footprints": [str(cast.footprint.pf_id)],
        "standard": "ISO 14067",
        "assurance_level": "limited",
        "coverage": "product level",
        "verifier": str(verifiers.verity.pk),
        "message": "Please verify our 2025 lithium carbonate PCF.",
    }
    data.update(changes)
    return data


def attest_form(key, **changes):
    data = {**terms(), "kid": key.kid}
    data.update(changes)
    return data


def sign_fields(engagement, key, **changes):
    fields = {**attest_form(key), "step": "sign"}
    fields.update({f"digest_{pf}": digest for pf, digest in digests(engagement).items()})
    fields.update(changes)
    return fields


def action_buttons(response) -> set[str]:
    """The steps offered on the engagement page (its step forms' hidden actions)."""
    return set(re.findall(r'name="action" value="([a-z_]+)"', text(response)))


# ------------------------------------------------------------------ who sees which page


def test_pages_render_for_the_parties_and_404_for_outsiders(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    services.evidence_add(
        actor=cast.actor("editor"), engagement=engagement, file_name="a.pdf", data=PDF
    )
    evidence = engagement.evidence.get()
    supplier, verifier = portal(cast.viewer), portal(verifiers.verity_viewer)
    outsider, operator = portal(cast.outsider), portal(cast.op_admin)

    for client in (supplier, verifier):
        response = client.get(page(engagement))
        assert response.status_code == 200
        assert cast.footprint.sha256 in text(response)
        assert str(cast.footprint.pf_id) in text(response)
        assert client.get(page(engagement, f"evidence/{evidence.pk}/")).status_code == 200
    for client in (outsider, operator):
        for url in (
            page(engagement),
            page(engagement, f"evidence/{evidence.pk}/"),
            page(engagement, "attest/"),
        ):
            response = client.get(url)
            assert response.status_code == 404, url
            assert cast.footprint.sha256 not in text(response)
    # The attest page is the verifier's; the supplier is told so.
    assert supplier.get(page(engagement, "attest/")).status_code == 403
    assert verifier.get(page(engagement, "attest/")).status_code == 200
    # Anonymous people are sent to sign in.
    response = Client().get(page(engagement))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_supplier_home_lists_engagements_with_their_state(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.CHANGES_REQUESTED)
    response = portal(cast.editor).get(HOME)
    assert response.status_code == 200
    body = text(response)
    assert f'href="{page(engagement)}"' in body
    assert 'class="badge state-changes_requested">Changes requested<' in body
    assert "Request verification" in body
    # A viewer sees the list but not the button; the outsider sees none of it.
    assert "Request verification</a>" not in text(portal(cast.viewer).get(HOME))
    assert page(engagement) not in text(portal(cast.outsider).get(HOME))


def test_inbox_groups_by_state_with_counts(cast, verifiers):
    requested = engagement_in(cast, verifiers, S.REQUESTED)
    client = portal(verifiers.verity_editor)
    response = client.get(INBOX)
    assert response.status_code == 200
    tabs = {tab["state"]: tab["count"] for tab in response.context["tabs"]}
    assert tabs["requested"] == 1 and tabs["in_review"] == 0
    assert page(requested) in text(response)
    assert page(requested) not in text(client.get(INBOX, {"state": "in_review"}))
    assert page(requested) in text(client.get(INBOX, {"state": "requested"}))
    # The supplier's inbox (it is no verifier) is empty and says why.
    supplier_inbox = portal(cast.editor).get(INBOX)
    assert page(requested) not in text(supplier_inbox)
    assert "does not hold the verifier role" in text(supplier_inbox)


def test_nav_links_follow_the_company_roles(cast, verifiers):
    acme = text(portal(cast.editor).get(HOME))
    verity = text(portal(verifiers.verity_editor).get(HOME))
    operator = text(portal(cast.op_admin).get(HOME))
    assert 'href="/verification/">Verification<' in acme
    assert 'href="/verification/inbox/">Inbox<' not in acme
    assert 'href="/verification/inbox/">Inbox<' in verity
    assert 'href="/verification/operator/accreditations/">Accreditations<' in operator
    assert "Accreditations<" not in acme


# ---------------------------------------------------------------------------- request


def test_request_form_lists_accredited_verifiers_and_prefills_the_footprint(cast, verifiers):
    client = portal(cast.editor)
    response = client.get(REQUEST, {"footprint": str(cast.footprint.pf_id)})
    assert response.status_code == 200
    body = text(response)
    assert f'value="{cast.footprint.pf_id}"' in body
    assert response.context["form"]["footprints"].value() == [str(cast.footprint.pf_id)]
    assert "Verity Assurance GmbH" in body
    assert "DAkkS" in body and "D-VS-12345-01" in body
    assert verifiers.accreditation.valid_until.isoformat() in body
    # Filtered by a standard verity holds no accreditation for: not listed.
    filtered = client.get(REQUEST, {"standard": "ISAE 3410"})
    assert "D-VS-12345-01" not in text(filtered)
    assert "No verifier is accredited for ISAE 3410" in text(filtered)
    # Filtered by the product's sector: listed.
    by_sector = client.get(
        REQUEST, {"standard": "ISO 14067", "sector": "urn:pact:wcoomdd.org:hs-code:283691"}
    )
    assert "D-VS-12345-01" in text(by_sector)


def test_request_happy_path(cast, verifiers):
    client = portal(cast.editor)
    response = client.post(REQUEST, request_form(cast, verifiers))
    engagement = Engagement.objects.get()
    assert response.status_code == 302 and response["Location"] == page(engagement)
    assert engagement.supplier == cast.acme and engagement.verifier == verifiers.verity
    assert list(engagement.footprints.all()) == [cast.footprint]
    assert (engagement.standard, engagement.assurance_level, engagement.coverage) == (
        "ISO 14067",
        "limited",
        "product level",
    )
    assert engagement.state == S.REQUESTED
    assert engagement.message == "Please verify our 2025 lithium carbonate PCF."
    assert "Verification requested from Verity Assurance GmbH" in page_messages(response)[0]
    shown = client.get(page(engagement))
    assert "Requested" in text(shown) and "Add evidence" in text(shown)


def test_request_for_an_unaccredited_standard_names_the_field_and_stores_nothing(cast, verifiers):
    response = portal(cast.editor).post(
        REQUEST, request_form(cast, verifiers, standard="ISAE 3410")
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "holds no accreditation in force" in errors["verifier"][0]
    assert "ISAE 3410" in errors["verifier"][0]
    assert escape("Verifier: Verity Assurance GmbH holds no accreditation") in text(response)
    assert not Engagement.objects.exists()


def test_request_form_errors_name_the_fields(cast, verifiers):
    response = portal(cast.editor).post(
        REQUEST, request_form(cast, verifiers, footprints=[], coverage="", verifier="")
    )
    assert response.status_code == 400
    body = text(response)
    assert "Footprints to verify: choose at least one footprint to verify" in body
    assert "Coverage: This field is required." in body
    assert "Verifier: choose a verifier from the list" in body
    assert not Engagement.objects.exists()


def test_request_refuses_a_viewer_and_other_companies_footprints(cast, verifiers):
    response = portal(cast.viewer).post(REQUEST, request_form(cast, verifiers))
    assert response.status_code == 403
    assert "only a company editor may request verifications" in text(response)
    # The outsider cannot pick acme's footprint: it is not among its choices.
    response = portal(cast.outsider).post(REQUEST, request_form(cast, verifiers))
    assert response.status_code == 400
    assert "footprints" in response.context["form"].errors
    assert not Engagement.objects.exists()


# --------------------------------------------------------------------- engagement page


@pytest.mark.parametrize(
    ("state", "supplier", "verifier", "attest_link"),
    [
        (S.REQUESTED, set(), {"accept", "decline"}, False),
        (S.ACCEPTED, set(), {"start_review"}, False),
        (S.IN_REVIEW, set(), {"request_changes", "refuse"}, True),
        (S.CHANGES_REQUESTED, {"resubmit"}, set(), False),
        (S.ATTESTED, set(), {"revoke"}, False),
        (S.REVOKED, set(), set(), False),
        (S.DECLINED, set(), set(), False),
    ],
)
def test_engagement_page_shows_only_allowed_actions(
    cast, verifiers, state, supplier, verifier, attest_link
):
    engagement = engagement_in(cast, verifiers, state)
    attest_url = page(engagement, "attest/")
    for who, expected in ((cast.editor, supplier), (verifiers.verity_editor, verifier)):
        response = portal(who).get(page(engagement))
        assert action_buttons(response) == expected, who
        assert (attest_url in text(response)) == (attest_link and who == verifiers.verity_editor)
    # Viewers of either side may look, not act.
    for who in (cast.viewer, verifiers.verity_viewer):
        response = portal(who).get(page(engagement))
        assert action_buttons(response) == set()
        assert attest_url not in text(response)
        assert "Add evidence" not in text(response)
        assert "Raise a finding" not in text(response)


def test_upload_and_findings_forms_only_where_allowed(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    supplier = text(portal(cast.editor).get(page(engagement)))
    verifier = text(portal(verifiers.verity_editor).get(page(engagement)))
    assert "Add evidence" in supplier and "Add evidence" not in verifier
    assert "Raise a finding" in verifier and "Raise a finding" not in supplier
    assert "Record a site visit" in verifier and "Record a site visit" not in supplier
    # The document as signed is shown to the verifier, readably and as JSON.
    assert "Excluding biogenic uptake" in verifier
    assert escape(json.dumps(json.loads(bytes(cast.footprint.canonical_bytes)), indent=2)) in (
        verifier
    )
    # The supplier gets a link to its own footprint page; the verifier does not.
    assert f"/footprints/{cast.footprint.pf_id}/" in supplier
    assert f"/footprints/{cast.footprint.pf_id}/" not in verifier


def test_steps_move_the_engagement_and_refuse_a_missing_reason(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.REQUESTED)
    client = portal(verifiers.verity_editor)
    response = client.post(page(engagement, "step/"), {"action": "decline", "note": ""})
    assert response.status_code == 400
    assert "Reason: is required" in text(response)
    engagement.refresh_from_db()
    assert engagement.state == S.REQUESTED

    response = client.post(page(engagement, "step/"), {"action": "accept", "note": "Glad to"})
    assert response.status_code == 302
    assert page_messages(response) == ["You accepted the engagement."]
    client.post(page(engagement, "step/"), {"action": "start_review"})
    client.post(page(engagement, "step/"), {"action": "request_changes", "note": "Add invoices"})
    engagement.refresh_from_db()
    assert engagement.state == S.CHANGES_REQUESTED
    response = portal(cast.editor).post(
        page(engagement, "step/"), {"action": "resubmit", "note": "Invoices added"}
    )
    assert response.status_code == 302
    engagement.refresh_from_db()
    assert engagement.state == S.IN_REVIEW
    timeline = text(portal(cast.editor).get(page(engagement)))
    assert "Changes requested → In review" in timeline and "Invoices added" in timeline


def test_a_step_that_is_no_longer_possible_is_explained(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.ACCEPTED)
    response = portal(verifiers.verity_editor).post(
        page(engagement, "step/"), {"action": "accept"}, follow=True
    )
    assert "cannot accept an engagement that is accepted" in text(response)


def test_viewer_cannot_post_any_step(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.CHANGES_REQUESTED)
    response = portal(cast.viewer).post(
        page(engagement, "step/"), {"action": "resubmit", "note": "x"}
    )
    assert response.status_code == 403
    assert "only a company editor may resubmit" in text(response)
    requested = Engagement.objects.get(pk=engagement.pk)
    assert requested.state == S.CHANGES_REQUESTED
    other = engagement_in(cast, verifiers, S.REQUESTED, standard="PACT Methodology")
    response = portal(verifiers.verity_viewer).post(page(other, "step/"), {"action": "accept"})
    assert response.status_code == 403
    # The supplier cannot take the verifier's steps; the outsider gets a 404.
    assert portal(cast.editor).post(page(other, "step/"), {"action": "accept"}).status_code == 403
    assert portal(cast.outsider).post(page(other, "step/"), {"action": "accept"}).status_code == 404
    assert Engagement.objects.get(pk=other.pk).state == S.REQUESTED


# ---------------------------------------------------------------------------- evidence


def test_evidence_upload_and_download(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.REQUESTED)
    client = portal(cast.editor)
    page_text = text(client.get(page(engagement)))
    assert "PDF (.pdf)" in page_text and "20 MB" in page_text  # types and size are shown
    file = _upload("invoices 2025.pdf", PDF)
    response = client.post(
        page(engagement, "evidence/"), {"file": file, "description": "Electricity invoices"}
    )
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    assert (evidence.file_name, evidence.content_type, evidence.size) == (
        "invoices 2025.pdf",
        "application/pdf",
        len(PDF),
    )
    listed = text(client.get(page(engagement)))
    assert "invoices 2025.pdf" in listed and evidence.sha256 in listed

    for who in (cast.viewer, verifiers.verity_viewer):
        download = portal(who).get(page(engagement, f"evidence/{evidence.pk}/"))
        assert download.status_code == 200
        assert download.content == PDF
        assert download["Content-Type"] == "application/pdf"
        assert download["Content-Disposition"] == 'attachment; filename="invoices 2025.pdf"'
        assert download["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in download["Cache-Control"]
    outsider = portal(cast.outsider).get(page(engagement, f"evidence/{evidence.pk}/"))
    assert outsider.status_code == 404
    # Evidence of another engagement is not reachable through this one.
    other = engagement_in(cast, verifiers, S.REQUESTED, standard="PACT Methodology")
    assert client.get(page(other, f"evidence/{evidence.pk}/")).status_code == 404


def _upload(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_evidence_of_a_wrong_type_is_refused_with_a_message(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.REQUESTED)
    client = portal(cast.editor)
    response = client.post(page(engagement, "evidence/"), {"file": _upload("tool.exe", b"MZ")})
    assert response.status_code == 400
    assert "The file was not added" in page_messages(response)[0]
    body = text(response)
    assert "File: tool.exe: files of type .exe are not accepted; use" in body
    # A renamed file whose bytes are not a PDF is refused too.
    response = client.post(page(engagement, "evidence/"), {"file": _upload("a.pdf", b"MZ...")})
    assert response.status_code == 400
    assert "the content is not a PDF file" in text(response)
    assert not Evidence.objects.exists()
    # The verifier cannot upload; a viewer cannot either.
    assert (
        portal(verifiers.verity_editor)
        .post(page(engagement, "evidence/"), {"file": _upload("a.pdf", PDF)})
        .status_code
        == 403
    )
    assert (
        portal(cast.viewer)
        .post(page(engagement, "evidence/"), {"file": _upload("a.pdf", PDF)})
        .status_code
        == 403
    )
    assert not Evidence.objects.exists()


def test_evidence_over_the_size_limit_is_refused(cast, verifiers, settings):
    settings.EVIDENCE_MAX_BYTES = 100
    engagement = engagement_in(cast, verifiers, S.REQUESTED)
    response = portal(cast.editor).post(
        page(engagement, "evidence/"), {"file": _upload("big.pdf", PDF + b"0" * 200)}
    )
    assert response.status_code == 400
    assert "is over the limit of 100 bytes" in text(response)
    assert not Evidence.objects.exists()


# ----------------------------------------------------------------- findings and visits


def test_findings_thread_raise_answer_resolve(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    verifier, supplier = portal(verifiers.verity_editor), portal(cast.editor)
    response = verifier.post(
        page(engagement, "findings/"),
        {"title": "Grid factor", "materiality": "material", "body": "Use the 2025 factor."},
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#finding-1")
    response = supplier.post(page(engagement, "findings/1/reply/"), {"f1-body": "Updated."})
    assert response.status_code == 302
    shown = text(supplier.get(page(engagement)))
    assert "Finding 1: Grid factor" in shown and "Updated." in shown
    assert "Resolve finding 1" not in shown  # the supplier cannot resolve
    assert "Resolve finding 1" in text(verifier.get(page(engagement)))
    # The supplier cannot resolve; an empty answer names its field.
    assert supplier.post(page(engagement, "findings/1/resolve/"), {}).status_code == 403
    response = supplier.post(page(engagement, "findings/1/reply/"), {"f1-body": ""})
    assert response.status_code == 400
    assert "Your answer: This field is required." in text(response)
    response = verifier.post(page(engagement, "findings/1/resolve/"), {"r1-note": "Fixed."})
    assert response.status_code == 302
    finding = Finding.objects.get()
    assert finding.resolved_at is not None
    assert [m.body for m in finding.messages.all()] == [
        "Use the 2025 factor.",
        "Updated.",
        "Fixed.",
    ]
    # A finding needs its materiality.
    response = verifier.post(page(engagement, "findings/"), {"title": "X", "body": "Y"})
    assert response.status_code == 400
    assert "Materiality: This field is required." in text(response)
    assert Finding.objects.count() == 1


def test_site_visit_recorded_by_the_verifier(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.ACCEPTED)
    client = portal(verifiers.verity_editor)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client.post(page(engagement, "site-visits/"), {"date": tomorrow, "mode": "physical"})
    assert response.status_code == 400
    assert "Date: a site visit is recorded once it has happened" in text(response)
    response = client.post(
        page(engagement, "site-visits/"),
        {"date": "2025-06-01", "mode": "virtual", "location": "Yichun plant"},
    )
    assert response.status_code == 302
    visit = SiteVisit.objects.get()
    assert (visit.date, visit.mode, visit.location) == (date(2025, 6, 1), "virtual", "Yichun plant")
    assert "Yichun plant" in text(portal(cast.viewer).get(page(engagement)))
    assert (
        portal(cast.editor)
        .post(page(engagement, "site-visits/"), {"date": "2025-06-01", "mode": "physical"})
        .status_code
        == 403
    )


# ------------------------------------------------------------------------------ attest


def test_attest_preview_shows_the_digest_and_the_draft_json(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    client = portal(verifiers.verity_editor)
    form_page = client.get(page(engagement, "attest/"))
    assert form_page.status_code == 200
    assert cast.footprint.sha256 in text(form_page)
    assert f'value="{verifiers.key.kid}"' in text(form_page)

    response = client.post(
        page(engagement, "attest/"), {**attest_form(verifiers.key), "step": "preview"}
    )
    assert response.status_code == 200
    body = text(response)
    assert cast.footprint.sha256 in body
    assert f'name="digest_{cast.footprint.pf_id}" value="{cast.footprint.sha256}"' in body
    assert "id</code> (a new urn:uuid), <code>validFrom</code>" in body
    assert "credentialStatus" in body and "proof" in body
    expected = services.credential_draft(
        engagement,
        cast.footprint,
        services.clean_terms(terms()),
        verifiers.accreditation,
    )
    [draft] = response.context["drafts"]
    assert json.loads(draft["json"]) == expected
    assert escape(draft["json"]) in body
    assert expected["credentialSubject"]["footprintDigest"] == cast.footprint.sha256
    assert not Attestation.objects.exists()  # a preview signs nothing


def test_attest_form_errors_name_the_fields(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    client = portal(verifiers.verity_editor)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = client.post(
        page(engagement, "attest/"),
        {**attest_form(verifiers.key, valid_until=yesterday, boundary=""), "step": "preview"},
    )
    assert response.status_code == 400
    body = text(response)
    assert "Boundary: This field is required." in body
    response = client.post(
        page(engagement, "attest/"),
        {**attest_form(verifiers.key, valid_until=yesterday), "step": "preview"},
    )
    assert response.status_code == 400
    assert "Valid until: must be after today" in text(response)


def test_confirm_signs_the_credential(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    client = portal(verifiers.verity_editor)
    response = client.post(page(engagement, "attest/"), sign_fields(engagement, verifiers.key))
    assert response.status_code == 302 and response["Location"] == page(engagement)
    attestation = Attestation.objects.get()
    assert attestation.engagement == engagement and attestation.signing_key == verifiers.key
    assert attestation.footprint_sha256 == cast.footprint.sha256
    engagement.refresh_from_db()
    assert engagement.state == S.ATTESTED
    assert attestation.credential_id in page_messages(response)[0]
    credential = json.loads(bytes(attestation.credential))
    assert credential["credentialSubject"]["opinionText"] == terms()["opinion_text"]
    assert credential["proof"]["verificationMethod"].endswith(f"#{verifiers.key.kid}")
    # The supplier sees it as valid and can download the exact bytes.
    listed = portal(cast.viewer).get(CREDENTIALS)
    assert [item["state"] for item in listed.context["received"]] == ["valid"]
    assert attestation.credential_id in text(listed)
    url = f"/verification/credentials/{attestation.credential_id}.json"
    download = portal(cast.viewer).get(url)
    assert download.status_code == 200
    assert download.content == bytes(attestation.credential)
    assert download["Content-Type"] == "application/json"
    assert download["Content-Disposition"].startswith("attachment;")
    assert portal(cast.outsider).get(url).status_code == 404
    # The verifier sees it as issued.
    issued = portal(verifiers.verity_viewer).get(CREDENTIALS)
    assert [item["state"] for item in issued.context["issued"]] == ["valid"]
    assert issued.context["received"] == []


def test_revoked_credentials_are_listed_as_revoked(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.ATTESTED)
    response = portal(verifiers.verity_editor).post(
        page(engagement, "step/"), {"action": "revoke", "note": "Error in the grid factor"}
    )
    assert response.status_code == 302
    listed = portal(cast.editor).get(CREDENTIALS)
    assert [item["state"] for item in listed.context["received"]] == ["revoked"]
    assert "Error in the grid factor" in text(listed)


def test_sign_refuses_a_digest_other_than_the_stored_one(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    fields = sign_fields(engagement, verifiers.key, **{f"digest_{cast.footprint.pf_id}": "0" * 64})
    response = portal(verifiers.verity_editor).post(page(engagement, "attest/"), fields)
    assert response.status_code == 400
    assert (
        f"footprint_digests.{cast.footprint.pf_id}: the digest {'0' * 64} does not match"
        in text(response)
    )
    assert not Attestation.objects.exists()


def test_attest_refusals_are_shown(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    services.finding_raise(
        actor=verifiers.actor(),
        engagement=engagement,
        title="Grid factor",
        materiality="material",
        body="Use the 2025 factor.",
    )
    client = portal(verifiers.verity_editor)
    response = client.get(page(engagement, "attest/"))
    assert "findings: 1 material finding(s) still open" in text(response)
    response = client.post(page(engagement, "attest/"), sign_fields(engagement, verifiers.key))
    assert response.status_code == 400
    assert "1 material finding(s) are still open" in text(response)
    assert not Attestation.objects.exists()

    services.accreditation_suspend(
        actor=cast.actor("op_admin"), accreditation=verifiers.accreditation, reason="audit"
    )
    response = client.get(page(engagement, "attest/"))
    assert "accreditation: Verity Assurance GmbH holds no accreditation in force" in text(response)


def test_cbam_without_a_site_visit_is_refused(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW, standard="CBAM verification")
    client = portal(verifiers.verity_editor)
    blockers = text(client.get(page(engagement, "attest/")))
    assert "CBAM verification requires a site visit" in blockers
    response = client.post(page(engagement, "attest/"), sign_fields(engagement, verifiers.key))
    assert response.status_code == 400
    assert "requires a site visit; record it first" in text(response)
    assert not Attestation.objects.exists()


def test_attest_is_refused_to_viewers_and_the_supplier(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    fields = sign_fields(engagement, verifiers.key)
    response = portal(verifiers.verity_viewer).post(page(engagement, "attest/"), fields)
    assert response.status_code == 403
    assert "Preview what will be signed" not in text(
        portal(verifiers.verity_viewer).get(page(engagement, "attest/"))
    )
    assert portal(cast.editor).post(page(engagement, "attest/"), fields).status_code == 403
    assert portal(cast.outsider).post(page(engagement, "attest/"), fields).status_code == 404
    assert not Attestation.objects.exists()


def test_only_platform_held_active_keys_are_offered(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    response = portal(verifiers.verity_editor).get(page(engagement, "attest/"))
    offered = [value for value, _ in response.context["form"].fields["kid"].choices]
    platform = SigningKey.objects.filter(
        company=verifiers.verity, custody=KeyCustody.PLATFORM, revoked_at__isnull=True
    )
    assert offered == [k.kid for k in platform.order_by("-valid_from")]
    assert cast.platform_key.kid not in offered  # acme's key is acme's


# ---------------------------------------------------------------------------- operator


def test_operator_grants_suspends_and_reinstates(cast, verifiers):
    client = portal(cast.op_admin)
    assert client.get(ACCREDITATIONS).status_code == 200
    grant = {
        "action": "grant",
        "verifier": str(verifiers.verity.pk),
        "body": "UKAS",
        "reference": "UKAS-0042",
        "standards": ["ISO 14064-3", "ISAE 3410"],
        "sectors": "urn:pact:cpc:41\n\nurn:pact:cpc:42\n",
        "valid_from": "2026-01-01",
        "valid_until": "2027-12-31",
    }
    response = client.post(ACCREDITATIONS, {**grant, "sectors": "urn:pact:cpc:41\nconstruction"})
    assert response.status_code == 400
    assert "Sectors: item 2: must be a classification URN" in text(response)
    response = client.post(ACCREDITATIONS, {**grant, "valid_until": "2025-01-01"})
    assert response.status_code == 400
    assert "Valid until: must not be before valid_from" in text(response)
    assert not Accreditation.objects.filter(body="UKAS").exists()
    response = client.post(ACCREDITATIONS, grant)
    assert response.status_code == 302
    granted = Accreditation.objects.get(body="UKAS")
    assert granted.sectors == ["urn:pact:cpc:41", "urn:pact:cpc:42"]
    assert granted.standards == ["ISO 14064-3", "ISAE 3410"]

    url = f"{ACCREDITATIONS}{granted.pk}/"
    response = client.post(f"{url}suspend/", {"reason": "surveillance audit failed"})
    assert response.status_code == 302
    granted.refresh_from_db()
    assert granted.suspended_at is not None
    assert "surveillance audit failed" in text(client.get(ACCREDITATIONS))
    client.post(f"{url}reinstate/")
    granted.refresh_from_db()
    assert granted.suspended_at is None


def test_operator_sets_the_rotation_rule(cast, verifiers):
    client = portal(cast.op_admin)
    response = client.post(ACCREDITATIONS, {"action": "policy", "max_consecutive_years": "0"})
    assert response.status_code == 400
    assert "Rotation rule: at most this many consecutive years:" in text(response)
    response = client.post(ACCREDITATIONS, {"action": "policy", "max_consecutive_years": "3"})
    assert response.status_code == 302
    assert ZonePolicy.objects.get().max_consecutive_years == 3
    client.post(ACCREDITATIONS, {"action": "policy", "max_consecutive_years": ""})
    assert ZonePolicy.objects.get().max_consecutive_years is None


def test_accreditations_are_the_operators(cast, verifiers):
    for who in (cast.admin, cast.outsider, verifiers.verity_admin):
        client = portal(who)
        assert client.get(ACCREDITATIONS).status_code == 403
        response = client.post(
            f"{ACCREDITATIONS}{verifiers.accreditation.pk}/suspend/", {"reason": "x"}
        )
        assert response.status_code == 403
    verifiers.accreditation.refresh_from_db()
    assert verifiers.accreditation.suspended_at is None


def test_go_back_and_change_keeps_the_terms(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    fields = {**attest_form(verifiers.key, boundary="gate-to-gate"), "step": "edit"}
    response = portal(verifiers.verity_editor).post(page(engagement, "attest/"), fields)
    assert response.status_code == 200
    assert 'value="gate-to-gate"' in text(response)
    assert not Attestation.objects.exists()


def test_forms_need_the_csrf_token(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.CHANGES_REQUESTED)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.editor.user)
    response = client.post(page(engagement, "step/"), {"action": "resubmit", "note": "x"})
    assert response.status_code == 403
    assert Engagement.objects.get(pk=engagement.pk).state == S.CHANGES_REQUESTED
    # The page's own form carries it.
    assert 'name="csrfmiddlewaretoken"' in text(client.get(page(engagement)))
