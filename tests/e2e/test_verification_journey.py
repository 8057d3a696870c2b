"""A verification from request to revocation in a real browser.

The supplier asks an accredited verifier to verify a footprint and adds a PDF of
evidence; the verifier accepts, reviews and raises a material finding; the supplier
answers; the verifier resolves it, previews exactly what it will sign (the footprint's
digest in the credential), signs; the supplier sees a valid credential; the verifier
revokes it and the list says revoked. What people see is checked on the page; what
only the database can prove (the credential names the reviewed digest, the evidence
is stored as uploaded) is checked there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.factories import PASSWORD, Cast
from tests.verification.helpers import build_verifiers
from verification.models import Attestation, Engagement, EngagementState, Evidence

pytestmark = pytest.mark.e2e

ENGAGEMENT_URL = re.compile(r"/verification/engagements/(\d+)/$")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% electricity invoices 2025\n%%EOF\n"
VERITY = "Verity Assurance GmbH"


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("header .username")).to_have_text(username)


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def form(page: Page, label: str):
    return page.get_by_role("form", name=label, exact=True)


def expect_message(page: Page, text: str) -> None:
    expect(page.locator(".messages")).to_contain_text(text)


def expect_state(page: Page, label: str) -> None:
    expect(page.locator("h1 .badge")).to_have_text(label)


def test_request_review_attest_and_revoke(
    cast: Cast, new_page: Callable[[], Page], screenshot: Callable[[Page, str], None]
) -> None:
    verifiers = build_verifiers(cast)
    footprint = cast.footprint

    # The supplier asks for verification from its footprint's page.
    supplier = new_page()
    sign_in(supplier, "acme_editor")
    supplier.goto(f"/footprints/{footprint.pf_id}/")
    supplier.get_by_role("link", name="Request verification").click()
    expect(supplier.get_by_role("heading", level=1)).to_have_text("Request verification")
    request = form(supplier, "Request verification")
    expect(request.get_by_role("checkbox", name=str(footprint.pf_id))).to_be_checked()
    # Narrow the registry to the standard: verity is listed with its accreditation.
    filters = form(supplier, "Find verifiers")
    filters.get_by_label("Accredited for standard").select_option("ISO 14067")
    filters.get_by_role("button", name="Show verifiers").click()
    request = form(supplier, "Request verification")
    expect(request.get_by_role("checkbox", name=str(footprint.pf_id))).to_be_checked()
    verity_row = request.locator("tr").filter(has_text=VERITY)
    expect(verity_row).to_contain_text("DAkkS")
    expect(verity_row).to_contain_text("D-VS-12345-01")
    expect(verity_row).to_contain_text(verifiers.accreditation.valid_until.isoformat())
    expect(request.get_by_label("Standard")).to_have_value("ISO 14067")
    request.get_by_label("Assurance level").select_option("limited")
    request.get_by_label("Coverage").select_option("product level")
    request.get_by_role("radio", name=VERITY).check()
    request.get_by_label("Message to the verifier").fill("Our 2025 PCF for the customer audit.")
    screenshot(supplier, "verification-request")
    request.get_by_role("button", name="Request verification").click()

    expect(supplier).to_have_url(ENGAGEMENT_URL)
    match = ENGAGEMENT_URL.search(supplier.url)
    assert match is not None
    engagement_id = int(match.group(1))
    engagement_path = f"/verification/engagements/{engagement_id}/"
    expect_message(supplier, f"Verification requested from {VERITY}")
    expect_state(supplier, "Requested")

    # ... and adds a PDF of evidence.
    evidence_form = form(supplier, "Add evidence")
    expect(evidence_form).to_contain_text("PDF (.pdf)")
    pdf: FilePayload = {"name": "invoices-2025.pdf", "mimeType": "application/pdf", "buffer": PDF}
    evidence_form.get_by_label("File").set_input_files(files=[pdf])
    evidence_form.get_by_label("Description").fill("Electricity invoices 2025")
    evidence_form.get_by_role("button", name="Upload evidence").click()
    expect_message(supplier, "invoices-2025.pdf added to the evidence.")
    expect(supplier.get_by_role("table", name="Evidence")).to_contain_text("invoices-2025.pdf")
    assert bytes(Evidence.objects.get().content) == PDF

    # The verifier finds the request in its inbox, accepts and starts the review.
    verifier = new_page()
    sign_in(verifier, "verity_editor")
    nav(verifier, "Inbox")
    expect(verifier.get_by_role("heading", level=1)).to_have_text("Verifier inbox")
    expect(verifier.get_by_role("link", name=re.compile(r"^Requested"))).to_contain_text("1")
    verifier.get_by_role("link", name=f"Engagement {engagement_id}").click()
    expect_state(verifier, "Requested")
    expect(verifier.get_by_role("table", name="Evidence")).to_contain_text("invoices-2025.pdf")
    with verifier.expect_download() as download_info:
        verifier.get_by_role("link", name="invoices-2025.pdf").click()
    assert download_info.value.suggested_filename == "invoices-2025.pdf"
    # The document the supplier signed is shown to the verifier, with its digest.
    expect(verifier.locator(f"#footprint-{footprint.pf_id}")).to_contain_text(footprint.sha256)
    form(verifier, "Accept").get_by_role("button", name="Accept").click()
    expect_message(verifier, "You accepted the engagement.")
    expect_state(verifier, "Accepted")
    form(verifier, "Start review").get_by_role("button", name="Start review").click()
    expect_state(verifier, "In review")

    # ... and raises a material finding.
    finding_form = form(verifier, "Raise a finding")
    finding_form.get_by_label("Title").fill("Grid emission factor")
    finding_form.get_by_label("Materiality").select_option("material")
    finding_form.get_by_label("Details").fill("Use the 2025 provincial grid factor.")
    finding_form.get_by_role("button", name="Raise finding").click()
    expect_message(verifier, "Finding 1 raised.")
    finding = verifier.locator("#finding-1")
    expect(finding).to_contain_text("Finding 1: Grid emission factor")
    expect(finding).to_contain_text("Material")
    screenshot(verifier, "verification-engagement-verifier")
    # While it is open the attest page says why signing is not possible.
    verifier.get_by_role("link", name="Attest…").click()
    expect(verifier.locator("#blockers")).to_contain_text("1 material finding(s) still open")
    verifier.goto(engagement_path)

    # The supplier answers the finding.
    supplier.goto(engagement_path)
    expect_state(supplier, "In review")
    answer = form(supplier, "Answer finding 1")
    answer.get_by_label("Your answer").fill("Recalculated with the 2025 factor; see invoices.")
    answer.get_by_role("button", name="Send answer").click()
    expect_message(supplier, "Answer to finding 1 sent.")
    expect(supplier.get_by_role("form", name="Resolve finding 1")).to_have_count(0)
    screenshot(supplier, "verification-engagement-supplier")

    # The verifier resolves it, then attests.
    verifier.reload()
    expect(verifier.locator("#finding-1")).to_contain_text("Recalculated with the 2025 factor")
    resolve = form(verifier, "Resolve finding 1")
    resolve.get_by_label("Closing note").fill("Accepted.")
    resolve.get_by_role("button", name="Resolve finding 1").click()
    expect_message(verifier, "Finding 1 resolved.")
    expect(verifier.locator("#finding-1")).to_contain_text("resolved")

    verifier.get_by_role("link", name="Attest…").click()
    expect(verifier.get_by_role("heading", level=1)).to_have_text(
        f"Attest engagement {engagement_id}"
    )
    expect(verifier.locator("#blockers")).to_have_count(0)
    terms = form(verifier, "Attestation terms")
    terms.get_by_label("Boundary").fill("cradle-to-gate")
    terms.get_by_label("Materiality threshold").fill("5% of the total")
    terms.get_by_label("Opinion:", exact=True).select_option("unqualified")
    terms.get_by_label("Opinion statement").fill(
        "No material misstatement in the PCF of battery-grade lithium carbonate."
    )
    expect(terms.get_by_label("Signing key")).to_have_value(verifiers.key.kid)
    terms.get_by_role("button", name="Preview what will be signed").click()

    expect(verifier.get_by_role("heading", level=1)).to_have_text("Check, then sign")
    expect(verifier.locator(f"#digest-{footprint.pf_id}")).to_have_text(footprint.sha256)
    expect(verifier.get_by_text("credentialStatus", exact=True)).to_be_visible()
    draft = json.loads(verifier.locator("pre.draft-json").inner_text())
    assert draft["credentialSubject"]["footprintDigest"] == footprint.sha256
    assert draft["credentialSubject"]["footprintId"] == str(footprint.pf_id)
    assert draft["credentialSubject"]["opinion"] == "unqualified"
    assert "id" not in draft and "proof" not in draft
    sign_form = form(verifier, "Sign")
    expect(sign_form.locator(f"input[name='digest_{footprint.pf_id}']")).to_have_value(
        footprint.sha256
    )
    assert not Attestation.objects.exists()
    screenshot(verifier, "verification-attest-preview")
    sign_form.get_by_role("button", name="Confirm and sign").click()

    expect(verifier).to_have_url(ENGAGEMENT_URL)
    expect_message(verifier, f"Signed 1 credential(s) with key {verifiers.key.kid}")
    expect_state(verifier, "Attested")
    attestation = Attestation.objects.get()
    signed = json.loads(bytes(attestation.credential))
    # What was signed is the draft shown, plus only id, validFrom, credentialStatus, proof.
    assert {k: v for k, v in signed.items() if k not in draft}.keys() == {
        "id",
        "validFrom",
        "credentialStatus",
        "proof",
    }
    assert {k: signed[k] for k in draft} == draft

    # The supplier sees the credential as valid.
    supplier.goto("/verification/")
    supplier.get_by_role("link", name="Credentials").click()
    received = supplier.get_by_role("table", name="Credentials received")
    row = received.locator("tr").filter(has_text=attestation.credential_id)
    expect(row.locator(".credential-state")).to_have_text("valid")
    expect(row).to_contain_text(VERITY)
    screenshot(supplier, "verification-credentials-valid")

    # The verifier revokes; the list says revoked.
    verifier.goto(engagement_path)
    revoke = form(verifier, "Revoke")
    revoke.get_by_label("Reason").fill("The grid factor was misreported after all.")
    revoke.get_by_role("button", name="Revoke").click()
    expect_message(verifier, "The credentials are revoked")
    expect_state(verifier, "Revoked")

    supplier.reload()
    row = (
        supplier.get_by_role("table", name="Credentials received")
        .locator("tr")
        .filter(has_text=attestation.credential_id)
    )
    expect(row.locator(".credential-state")).to_contain_text("revoked")
    expect(row).to_contain_text("The grid factor was misreported after all.")
    assert Engagement.objects.get(pk=engagement_id).state == EngagementState.REVOKED
