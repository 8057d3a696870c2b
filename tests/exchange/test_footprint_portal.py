"""The supplier portal's footprint pages (django test Client): form → preview of the
canonical document and its digest → sign with the platform key → footprint page; new
versions; the bulk upload page and its progress JSON."""

from __future__ import annotations

import csv
import hashlib
import io

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils.html import escape

from audit.models import AuditEntry
from companies import services as company_services
from exchange import bulk
from exchange.models import BulkUpload, Footprint, Product, ProductIdentifier
from trust import jcs

pytestmark = pytest.mark.django_db

NEW = "/footprints/new/"
UPLOADS = "/footprints/uploads/"

FORM = {
    "action": "preview",
    "new_product_name": "Lithium carbonate, battery grade",
    "new_product_id": "urn:pact:acme.example:product:li2co3-bg",
    "product_description": "Battery-grade Li2CO3 (>= 99.5 %), 25 kg bags.",
    "declared_unit": "kilogram",
    "declared_unit_amount": "1",
    "product_mass_per_declared_unit": "1",
    "reference_period_start": "2025-01-01",
    "reference_period_end": "2026-01-01",
    "geography_country": "cn",
    "pcf_excluding_biogenic_uptake": "12.50",
    "pcf_including_biogenic_uptake": "12.5",
    "fossil_ghg_emissions": "12.4",
    "fossil_carbon_content": "0",
    "ipcc_characterization_factors": ["AR6"],
    "cross_sectoral_standards": ["ISO14067", "PACT-3.0"],
    "exempted_emissions_percent": "0.5",
    "primary_data_share": "60",
}


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Footprint, Product, ProductIdentifier, AuditEntry)
    }


def portal(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def preview(client: Client, **changes):
    response = client.post(NEW, {**FORM, **changes})
    assert response.status_code == 200
    return response


def sign_step(response) -> dict[str, str]:
    """The hidden fields of the preview's sign form."""
    return {
        "action": "sign",
        "document": response.context["canonical"],
        "digest": response.context["digest"],
    }


def page_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --------------------------------------------------------------------------- preview


def test_the_form_explains_each_field_with_its_unit(cast):
    response = portal(cast.editor).get(NEW)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Footprint excluding biogenic CO₂ uptake (kg CO₂e per declared unit)" in text
    assert "Fossil carbon content (kg C per declared unit)" in text
    assert "Two-letter ISO code, e.g. CN." in text


def test_the_preview_shows_the_canonical_document_and_its_digest(cast):
    before = counts()

    response = preview(portal(cast.editor))

    assert "exchange/footprint_preview.html" in [t.name for t in response.templates]
    document = response.context["document"]
    canonical = jcs.canonicalize(document)
    digest = hashlib.sha256(canonical).hexdigest()
    assert response.context["canonical"] == canonical.decode()
    assert response.context["digest"] == digest
    text = response.content.decode()
    assert f'<code id="digest">{digest}</code>' in text
    assert escape(canonical.decode()) in text
    assert f'name="digest" value="{digest}"' in text
    assert cast.platform_key.kid in text
    assert counts() == before  # nothing stored before signing


def test_the_previewed_document_is_the_pact_document_of_the_form(cast):
    document = preview(portal(cast.editor)).context["document"]

    assert document["companyName"] == cast.acme.legal_name
    assert document["companyIds"] == [cast.acme.identifiers.get().urn]
    assert document["productIds"] == ["urn:pact:acme.example:product:li2co3-bg"]
    assert document["productNameCompany"] == "Lithium carbonate, battery grade"
    assert document["status"] == "Active"
    pcf = document["pcf"]
    assert pcf["pcfExcludingBiogenicUptake"] == "12.5"  # normalised decimal
    assert pcf["geographyCountry"] == "CN"
    assert pcf["referencePeriodStart"] == "2025-01-01T00:00:00Z"
    assert pcf["referencePeriodEnd"] == "2026-01-01T00:00:00Z"
    assert pcf["crossSectoralStandards"] == ["ISO14067", "PACT-3.0"]
    assert pcf["primaryDataShare"] == "60"


def test_invalid_form_values_are_shown_on_their_fields(cast):
    before = counts()
    response = portal(cast.editor).post(
        NEW, {**FORM, "declared_unit_amount": "one", "new_product_id": "li2co3"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["declared_unit_amount"] == ["Enter a number."]
    assert form.errors["new_product_id"] == ["a new product needs an id that is a URN"]
    assert "exchange/footprint_form.html" in [t.name for t in response.templates]
    assert counts() == before


def test_a_broken_pact_rule_is_shown_on_its_field(cast):
    before = counts()
    response = portal(cast.editor).post(NEW, {**FORM, "reference_period_end": "2024-06-01"})
    assert response.status_code == 200
    assert "exchange/footprint_form.html" in [t.name for t in response.templates]
    [message] = response.context["form"].errors["reference_period_end"]
    assert message.startswith("must be after referencePeriodStart")
    assert escape(message) in response.content.decode()
    assert counts() == before


def test_without_a_platform_key_the_preview_says_how_to_sign(cast):
    company_services.signing_key_revoke(
        actor=cast.actor("admin"), key=cast.platform_key, reason="retired"
    )
    response = preview(portal(cast.editor))
    text = response.content.decode()
    assert "no platform-held signing key" in text
    assert 'name="action" value="sign"' not in text


# --------------------------------------------------------------------------- sign


def test_signing_stores_the_footprint_and_shows_its_page(cast):
    client = portal(cast.editor)
    step = sign_step(preview(client))

    response = client.post(NEW, step)

    footprint = Footprint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/footprints/{footprint.pf_id}/"
    assert bytes(footprint.canonical_bytes).decode() == step["document"]
    assert footprint.sha256 == step["digest"]
    assert footprint.channel == "portal"
    assert footprint.platform_signed is True
    assert footprint.signing_key == cast.platform_key
    assert footprint.submitted_by == cast.editor.user

    page = client.get(response["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    assert footprint.sha256 in text
    assert cast.platform_key.kid in text
    assert "platform-held key" in text
    assert '<p class="status-active">Active' in text
    assert "footprint.submitted" in text
    assert "Footprint signed with your platform-held key and submitted." in page_messages(page)


def test_the_footprint_page_shows_its_deprecation_and_versions(cast):
    first = cast.footprint
    client = portal(cast.editor)
    step = sign_step(
        preview(
            client,
            product=str(first.product_id),
            replaces=str(first.pf_id),
            new_product_name="",
            new_product_id="",
        )
    )
    client.post(NEW, step)
    second = Footprint.objects.exclude(pk=first.pk).get()

    text = client.get(f"/footprints/{first.pf_id}/").content.decode()

    assert "Deprecated" in text and f"superseded by {second.pf_id}" in text
    assert "footprint.deprecated" in text
    assert str(second.pf_id) in text  # listed among the versions


def test_replaces_makes_a_successor(cast):
    first = cast.footprint
    client = portal(cast.editor)
    response = preview(
        client,
        product=str(first.product_id),
        replaces=str(first.pf_id),
        new_product_name="",
        new_product_id="",
    )
    document = response.context["document"]
    assert document["precedingPfIds"] == [str(first.pf_id)]
    assert document["productIds"] == ["urn:pact:acme.example:product:li2co3"]

    client.post(NEW, sign_step(response))

    second = Footprint.objects.get(pf_id=document["id"])
    assert list(second.preceding.all()) == [first]
    assert second.product == first.product
    first.refresh_from_db()
    assert first.status == "Deprecated"


def test_the_new_version_link_prefills_the_form(cast):
    first = cast.footprint
    response = portal(cast.editor).get(f"{NEW}?product={first.product_id}&replaces={first.pf_id}")
    form = response.context["form"]
    assert form.initial["product"] == first.product_id
    assert form.initial["replaces"] == str(first.pf_id)


def test_a_document_changed_after_the_preview_is_not_signed(cast):
    client = portal(cast.editor)
    step = sign_step(preview(client))
    tampered = step["document"].replace(
        '"pcfExcludingBiogenicUptake":"12.5"', '"pcfExcludingBiogenicUptake":"1.25"'
    )
    assert tampered != step["document"]
    before = counts()

    response = client.post(NEW, {**step, "document": tampered})

    assert response.status_code == 302
    assert response["Location"] == NEW
    assert page_messages(response) == [
        "The document changed after the preview; nothing was signed."
    ]
    assert counts() == before


def test_a_digest_changed_after_the_preview_is_not_signed(cast):
    client = portal(cast.editor)
    step = sign_step(preview(client))
    before = counts()
    response = client.post(NEW, {**step, "digest": "0" * 64})
    assert response.status_code == 302
    assert counts() == before


def test_a_damaged_document_is_refused(cast):
    client = portal(cast.editor)
    step = sign_step(preview(client))
    before = counts()
    response = client.post(NEW, {**step, "document": step["document"][:-1]})
    assert response.status_code == 400
    assert "the previewed document is damaged" in response.content.decode()
    assert counts() == before


def test_a_previewed_document_refused_at_submission_stores_nothing(cast):
    """The sign step runs every check again: here the company name no longer matches."""
    client = portal(cast.editor)
    step = sign_step(preview(client))
    cast.acme.legal_name = "Acme Lithium Group Co., Ltd."
    cast.acme.save(update_fields=["legal_name"])
    before = counts()

    response = client.post(NEW, step)

    assert response.status_code == 302
    assert response["Location"] == NEW
    assert page_messages(response) == [
        "/companyName: must be the submitting company's legal name 'Acme Lithium Group Co., Ltd.'"
    ]
    assert counts() == before


def test_a_viewer_cannot_reach_the_sign_step(cast):
    editor_step = sign_step(preview(portal(cast.editor)))
    before = counts()

    response = portal(cast.viewer).post(NEW, editor_step)

    assert response.status_code == 403
    assert "only a company editor may sign footprints" in response.content.decode()
    assert counts() == before


def test_signing_the_same_preview_twice_stores_one_footprint(cast):
    client = portal(cast.editor)
    step = sign_step(preview(client))
    first = client.post(NEW, step)
    again = client.post(NEW, step)
    assert Footprint.objects.count() == 1
    assert again["Location"] == first["Location"]


# --------------------------------------------------------------------------- deprecate


def test_deprecating_from_the_footprint_page(cast):
    footprint = cast.footprint
    client = portal(cast.editor)
    response = client.post(f"/footprints/{footprint.pf_id}/deprecate/", {"reason": "recalled"})
    assert response.status_code == 302
    footprint.refresh_from_db()
    assert footprint.status == "Deprecated"
    assert footprint.deprecation_reason == "recalled"


def test_deprecating_without_a_reason_changes_nothing(cast):
    footprint = cast.footprint
    before = counts()
    response = portal(cast.editor).post(f"/footprints/{footprint.pf_id}/deprecate/", {"reason": ""})
    assert page_messages(response) == ["reason: say why the footprint is deprecated"]
    assert counts() == before
    footprint.refresh_from_db()
    assert footprint.status == "Active"


# --------------------------------------------------------------------------- uploads


def upload_file(data: bytes, name: str) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def test_an_upload_from_the_portal_shows_its_progress_as_json(
    cast, django_capture_on_commit_callbacks
):
    client = portal(cast.editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            UPLOADS, {"file": upload_file(bulk.template_csv(), "ours.csv"), "all_or_nothing": "on"}
        )
    upload = BulkUpload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/footprints/uploads/{upload.pk}/"

    progress = client.get(response["Location"], HTTP_ACCEPT="application/json")

    assert progress["Content-Type"] == "application/json"
    assert progress.json() == {
        "status": "succeeded",
        "phase": "done",
        "rows_done": 1,
        "rows_total": 1,
        "percent": 100,
        "message": "1 footprint(s) stored",
        "error_count": 0,
    }
    page = client.get(response["Location"])
    assert '<progress id="upload-progress" max="1" value="1"' in page.content.decode()


def test_the_progress_of_a_queued_upload(cast):
    upload = BulkUpload.objects.create(
        company=cast.acme,
        created_by=cast.editor.user,
        file_name="waiting.csv",
        file_format="csv",
        content=b"x",
        sha256="0" * 64,
        phase="waiting for a worker",
    )
    progress = portal(cast.viewer).get(
        f"/footprints/uploads/{upload.pk}/", HTTP_ACCEPT="application/json"
    )
    assert progress.json() == {
        "status": "queued",
        "phase": "waiting for a worker",
        "rows_done": 0,
        "rows_total": 0,
        "percent": 0,
        "message": "",
        "error_count": 0,
    }


def test_a_failed_upload_page_lists_the_errors_and_links_the_report(cast):
    upload = cast.upload
    client = portal(cast.viewer)
    text = client.get(f"/footprints/uploads/{upload.pk}/").content.decode()
    assert "acme-secret-row-error" in text
    assert f"/footprints/uploads/{upload.pk}/errors.csv" in text
    report = client.get(f"/footprints/uploads/{upload.pk}/errors.csv")
    header, *rows = csv.reader(io.StringIO(report.content.decode("utf-8-sig")))
    assert [name.split(" / ")[0].lower() for name in header] == ["row", "column", "message"]
    assert rows == [["2", "Declared unit", "acme-secret-row-error"]]


def test_a_wrong_file_type_is_shown_on_the_file_field(cast):
    response = portal(cast.editor).post(UPLOADS, {"file": upload_file(b"abc", "notes.txt")})
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "must be a .csv, .xlsx or .json file (signed array); got 'notes.txt'"
    ]
    assert not BulkUpload.objects.exists()


def test_another_companys_upload_progress_is_not_found(cast):
    response = portal(cast.outsider).get(
        f"/footprints/uploads/{cast.upload.pk}/", HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 404
    assert b"acme-secret-row-error" not in response.content  # nothing of acme's leaks


def test_a_new_version_starts_from_the_footprint_it_replaces(cast):
    old = cast.footprint
    pcf = cast.footprint_document["pcf"]
    page = portal(cast.editor).get(f"/footprints/new/?replaces={old.pf_id}")
    form = page.context["form"]
    assert form.initial["replaces"] == str(old.pf_id)
    assert form.initial["product"] == old.product_id
    assert form.initial["pcf_excluding_biogenic_uptake"] == pcf["pcfExcludingBiogenicUptake"]
    assert form.initial["reference_period_start"] == pcf["referencePeriodStart"][:10]
    assert form.initial["declared_unit"] == pcf["declaredUnitOfMeasurement"]


def test_another_companys_footprint_prefills_nothing(cast):
    old = cast.footprint
    page = portal(cast.outsider).get(f"/footprints/new/?replaces={old.pf_id}")
    form = page.context["form"]
    assert set(form.initial) == {"replaces"}  # no figures of acme's leak into the form
    assert cast.footprint_document["pcf"]["pcfExcludingBiogenicUptake"] not in page.content.decode()
