"""Footprint journeys through the supplier portal in a real browser (issue 4, "Show").

A supplier's editor fills in the footprint form, previews exactly what will be signed
(checking the digest against the canonical text on the page), signs with the company's
platform-held key and sees the footprint; makes a new version; uploads a spreadsheet made
from the template. What the person sees is checked on the page; what only the database can
prove (nothing stored, the JWS verifies) is checked there.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import FilePayload, Page, expect

from exchange import bulk
from exchange.models import BulkUpload, Footprint, Product, SubmissionChannel, UploadStatus
from exchange.signing import parse_signed_footprint, verify_signed_footprint
from tests.factories import PASSWORD, Cast
from trust import jcs

pytestmark = pytest.mark.e2e

ACME = "Acme Lithium Co., Ltd."
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
FOOTPRINT_URL = re.compile(rf"/footprints/({UUID})/$")
UPLOAD_URL = re.compile(r"/footprints/uploads/(\d+)/$")
PRODUCT_NAME = "Battery-grade lithium carbonate 99.5% (Yichun plant)"
PRODUCT_URN = "urn:pact:acme.example:product:li2co3-yichun"
SLOW_MS = 60_000  # a request that stores hundreds of footprints (the job runs eagerly in it)


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("header .username")).to_have_text(username)


def open_new_footprint_form(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Footprints").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Footprints of {ACME}")
    page.get_by_role("link", name="New footprint").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New product carbon footprint")


def fill_figures(page: Page, **overrides: str) -> None:
    """The fields every footprint needs, as a supplier of lithium carbonate fills them."""
    values = {
        "Product description": "Li2CO3 ≥ 99.5 %, from spodumene concentrate, 25 kg bags",
        "Amount of the declared unit": "1",
        "Product mass per declared unit (kg)": "1",
        "Reference period start": "2025-01-01",
        "Reference period end": "2026-01-01",
        "Country of production (optional)": "CN",
        "Footprint excluding biogenic CO₂ uptake": "9.7",
        "Footprint including biogenic CO₂ uptake": "9.65",
        "Fossil GHG emissions": "9.62",
        "Fossil carbon content": "0",
        "Exempted emissions (%)": "0.5",
    }
    values.update(overrides)
    page.get_by_label("Declared unit:", exact=True).select_option(label="kilogram (kg)")
    for label, value in values.items():
        page.get_by_label(label).fill(value)
    page.get_by_label("AR6 (IPCC 2021, current)").check()
    page.get_by_label("ISO 14067 (product carbon footprint)").check()


def fill_new_product(page: Page) -> None:
    product = page.get_by_label("Product:", exact=True)
    expect(product.locator("option:checked")).to_have_text("— a new product (fill in below) —")
    page.get_by_label("New product: name").fill(PRODUCT_NAME)
    page.get_by_label("New product: id (URN)").fill(PRODUCT_URN)


def preview(page: Page) -> tuple[str, str]:
    """Ask for the preview; return (digest shown, canonical text shown)."""
    page.get_by_role("button", name="Preview what will be signed").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check, then sign")
    page.get_by_text("The canonical bytes that are signed (RFC 8785)").click()  # open <details>
    canonical = page.locator("#canonical")
    expect(canonical).to_be_visible()
    return page.locator("#digest").inner_text().strip(), canonical.text_content() or ""


def sign_and_submit(page: Page) -> str:
    """Sign the previewed document; return the new footprint's id (from the page's URL)."""
    page.get_by_role("button", name="Sign and submit").click()
    expect(page).to_have_url(FOOTPRINT_URL)
    expect(page.locator(".messages")).to_contain_text(
        "Footprint signed with your platform-held key and submitted."
    )
    match = FOOTPRINT_URL.search(page.url)
    assert match is not None
    return match.group(1)


def template_sheet() -> tuple[list[str], list[str]]:
    """The CSV template's header row and its example row, as a spreadsheet shows them."""
    header, example = csv.reader(io.StringIO(bulk.template_csv().decode("utf-8-sig")))
    return header, example


def column(header: list[str], key: str) -> int:
    """Where the column filling PACT field ``key`` is in the template's header row."""
    return header.index(next(c.header for c in bulk.COLUMNS if c.key == key))


def csv_file(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows([header, *rows])
    return out.getvalue().encode("utf-8-sig")


def upload(page: Page, name: str, data: bytes) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Upload").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload many footprints")
    payload: FilePayload = {"name": name, "mimeType": "text/csv", "buffer": data}
    page.get_by_label("File").set_input_files(files=[payload])
    expect(page.get_by_label("All or nothing")).to_be_checked()
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page).to_have_url(UPLOAD_URL, timeout=SLOW_MS)
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


# --------------------------------------------------------------------------- the form


def test_fill_preview_sign_and_see_the_footprint(
    cast: Cast, page: Page, screenshot: Callable[[Page, str], None]
) -> None:
    sign_in(page, "acme_editor")
    open_new_footprint_form(page)
    fill_new_product(page)
    fill_figures(page)
    screenshot(page, "footprint-form")

    digest, canonical = preview(page)

    # The digest shown is the SHA-256 of the canonical text shown, which is RFC 8785 JSON
    # of the footprint the form describes.
    assert re.fullmatch(r"[0-9a-f]{64}", digest), digest
    assert hashlib.sha256(canonical.encode()).hexdigest() == digest
    document = json.loads(canonical)
    assert jcs.canonicalize(document) == canonical.encode()
    assert document["productNameCompany"] == PRODUCT_NAME
    assert document["productIds"] == [PRODUCT_URN]
    assert document["companyName"] == ACME
    assert document["companyIds"] == [i.urn for i in cast.acme.identifiers.all()]
    pcf = document["pcf"]
    assert pcf["declaredUnitOfMeasurement"] == "kilogram"
    assert (pcf["declaredUnitAmount"], pcf["productMassPerDeclaredUnit"]) == ("1", "1")
    assert pcf["referencePeriodStart"] == "2025-01-01T00:00:00Z"
    assert pcf["referencePeriodEnd"] == "2026-01-01T00:00:00Z"
    assert pcf["geographyCountry"] == "CN"
    assert pcf["pcfExcludingBiogenicUptake"] == "9.7"
    assert pcf["pcfIncludingBiogenicUptake"] == "9.65"
    assert pcf["fossilGhgEmissions"] == "9.62"
    assert pcf["fossilCarbonContent"] == "0"
    assert pcf["ipccCharacterizationFactors"] == ["AR6"]
    assert pcf["crossSectoralStandards"] == ["ISO14067"]
    assert pcf["exemptedEmissionsPercent"] == "0.5"
    # What the form will post is what was shown, and the summary line says it in words.
    sign_form = page.locator("form").filter(has=page.get_by_role("button", name="Sign and submit"))
    expect(sign_form.locator("input[name=document]")).to_have_value(canonical)
    expect(sign_form.locator("input[name=digest]")).to_have_value(digest)
    expect(sign_form).to_contain_text(cast.platform_key.kid)
    expect(page.locator(".card").first).to_contain_text(
        f"{PRODUCT_NAME}: 9.7 kg CO₂e per 1 kilogram, 2025-01-01 to 2026-01-01"
    )
    assert not Footprint.objects.exists()  # a preview stores nothing
    screenshot(page, "footprint-preview")

    pf_id = sign_and_submit(page)

    assert pf_id == document["id"]
    expect(page.get_by_role("heading", level=1)).to_have_text(PRODUCT_NAME)
    expect(page.locator("p.status-active")).to_have_text("Active")
    signature = page.locator(".card").filter(has=page.get_by_role("heading", name="Signature"))
    expect(signature).to_contain_text(digest)
    expect(signature).to_contain_text(pf_id)
    expect(signature).to_contain_text(f"{cast.platform_key.kid} (platform-held key)")
    expect(signature).to_contain_text("via Portal")
    audit_rows = page.locator("table").filter(has_text="event").locator("tbody tr")
    expect(audit_rows.filter(has_text="footprint.submitted")).to_have_count(1)
    expect(audit_rows.filter(has_text="footprint.submitted")).to_contain_text(
        f"user:{cast.editor.user.pk}"
    )
    screenshot(page, "footprint-detail")

    footprint = Footprint.objects.select_related("signing_key", "product").get(pf_id=pf_id)
    assert footprint.channel == SubmissionChannel.PORTAL
    assert footprint.platform_signed is True
    assert footprint.signing_key == cast.platform_key
    assert footprint.submitted_by == cast.editor.user
    assert footprint.sha256 == digest
    assert bytes(footprint.canonical_bytes) == canonical.encode()
    assert footprint.product.name == PRODUCT_NAME
    signed = parse_signed_footprint(footprint.jws)
    assert signed.kid == footprint.signing_key.kid
    assert signed.canonical == canonical.encode()
    verify_signed_footprint(signed, footprint.signing_key.public_jwk)  # raises if it fails


@pytest.mark.parametrize(
    ("overrides", "pointer", "rule"),
    [
        pytest.param(
            {"Country of production (optional)": "XX"},
            "/pcf/geographyCountry",
            "must be an ISO 3166-1 alpha-2 country code",
            id="unknown-country",
        ),
        pytest.param(
            {"Reference period end": "2024-06-01"},
            "/pcf/referencePeriodEnd",
            "must be after referencePeriodStart",
            id="end-before-start",
        ),
    ],
)
def test_a_broken_rule_is_named_and_nothing_is_stored(
    cast: Cast,
    page: Page,
    screenshot: Callable[[Page, str], None],
    overrides: dict[str, str],
    pointer: str,
    rule: str,
) -> None:
    sign_in(page, "acme_editor")
    open_new_footprint_form(page)
    fill_new_product(page)
    fill_figures(page, **overrides)
    page.get_by_role("button", name="Preview what will be signed").click()

    # Still the form, with the broken rule named, and no way to sign.
    expect(page.get_by_role("heading", level=1)).to_have_text("New product carbon footprint")
    expect(page.locator(".errorlist-box")).to_contain_text("Please correct these:")
    # The rule is shown at the field it concerns (the pointer maps to the form field).
    (label,) = overrides
    field = page.locator("div.field").filter(has=page.get_by_label(label))
    expect(field.locator(".errorlist")).to_contain_text(rule)
    expect(page.get_by_role("button", name="Sign and submit")).to_have_count(0)
    # What was typed is still there to correct.
    for label, value in overrides.items():
        expect(page.get_by_label(label)).to_have_value(value)
    expect(page.get_by_label("New product: name")).to_have_value(PRODUCT_NAME)
    screenshot(page, f"footprint-form-error-{pointer.rsplit('/', 1)[-1]}")
    assert not Footprint.objects.exists()
    assert not Product.objects.exists()


def test_each_field_is_described_by_its_help_text(cast: Cast, page: Page) -> None:
    sign_in(page, "acme_editor")
    open_new_footprint_form(page)
    expect(page.get_by_label("Amount of the declared unit")).to_be_visible()
    # Every aria-describedby on the form names an element that exists ...
    dangling = page.evaluate(
        """() => [...document.querySelectorAll('[aria-describedby]')]
            .filter(e => !document.getElementById(e.getAttribute('aria-describedby')))
            .map(e => e.name)"""
    )
    assert dangling == []
    # ... so assistive technology reads each field's help text with it.
    expect(page.get_by_label("Amount of the declared unit")).to_have_accessible_description(
        "Usually 1 (the footprint is per 1 kg, 1 kWh …)."
    )


# --------------------------------------------------------------------------- versions


def test_make_a_new_version_deprecates_the_old_one(cast: Cast, page: Page) -> None:
    old = cast.footprint  # acme's, signed with its own key
    old_id = str(old.pf_id)
    sign_in(page, "acme_editor")
    page.goto(f"/footprints/{old_id}/")
    expect(page.locator("p.status-active")).to_have_text("Active")

    page.get_by_role("link", name="Make a new version").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("New product carbon footprint")
    expect(page).to_have_url(re.compile(rf"replaces={old_id}"))
    expect(page.get_by_label("Replaces footprint (optional)")).to_have_value(old_id)
    expect(page.get_by_label("Product:", exact=True)).to_have_value(str(old.product_id))
    fill_figures(
        page,
        **{
            "Footprint excluding biogenic CO₂ uptake": "8.9",
            "Footprint including biogenic CO₂ uptake": "8.9",
            "Fossil GHG emissions": "8.8",
        },
    )
    page.get_by_label("Comment").fill("Green electricity contract since March 2025")
    digest, canonical = preview(page)
    assert hashlib.sha256(canonical.encode()).hexdigest() == digest
    assert json.loads(canonical)["precedingPfIds"] == [old_id]
    new_id = sign_and_submit(page)

    expect(page.locator("p.status-active")).to_have_text("Active")
    versions = page.locator("h2:text-is('Versions of this product') + table tbody tr")
    expect(versions).to_have_count(2)
    expect(versions.filter(has_text="this one")).to_contain_text("Active")
    versions.get_by_role("link", name=old_id).click()

    expect(page).to_have_url(re.compile(rf"/footprints/{old_id}/$"))
    status = page.locator("p.status-deprecated")
    expect(status).to_contain_text("Deprecated since")
    expect(status).to_contain_text(f"superseded by {new_id}")
    expect(page.get_by_role("link", name="Make a new version")).to_have_count(0)
    audit_rows = page.locator("table").filter(has_text="event").locator("tbody tr")
    expect(audit_rows.filter(has_text="footprint.deprecated")).to_have_count(1)

    page.get_by_role("link", name=old.product_name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(old.product.name)
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    new_row, old_row = rows.filter(has_text=new_id), rows.filter(has_text=old_id)
    expect(new_row.locator(".status-active")).to_have_text("Active")
    expect(new_row).to_contain_text("8.9")
    expect(new_row.locator("td").nth(4)).to_contain_text(old_id[:12])  # "Replaces"
    expect(old_row.locator(".status-deprecated")).to_have_text("Deprecated")

    old.refresh_from_db()
    assert old.status == "Deprecated"
    new = Footprint.objects.get(pf_id=new_id)
    assert list(new.preceding.all()) == [old]
    assert (new.channel, new.platform_signed) == (SubmissionChannel.PORTAL, True)


# --------------------------------------------------------------------------- bulk upload


def test_bulk_upload_of_300_rows_from_the_template(
    cast: Cast, page: Page, screenshot: Callable[[Page, str], None]
) -> None:
    sign_in(page, "acme_editor")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Upload").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Template (.csv, UTF-8)").click()
    download = download_info.value
    assert download.suggested_filename == "footprints-template.csv"
    downloaded = download.path().read_bytes()
    assert downloaded == bulk.template_csv()

    # The example row is valid: copy it 300 times, half with an id of our own, half with
    # the id left blank (the platform makes one).
    header, example = csv.reader(io.StringIO(downloaded.decode("utf-8-sig")))
    id_column = column(header, "id")
    assert example[id_column] == ""
    own_ids = [str(uuid.uuid4()) for _ in range(150)]
    rows = [list(example) for _ in range(300)]
    for row, pf_id in zip(rows[::2], own_ids, strict=True):
        row[id_column] = pf_id

    upload(page, "footprints-2025.csv", csv_file(header, rows))

    # Eager tasks: the job already ran inside the upload request.
    expect(page.locator("#upload-status")).to_have_text("Succeeded")
    bar = page.locator("#upload-progress")
    expect(bar).to_be_visible()
    expect(bar).to_have_attribute("max", "300")
    expect(bar).to_have_attribute("value", "300")
    expect(page.locator("#upload-rows")).to_have_text("300 / 300")
    expect(page.locator("#upload-percent")).to_have_text("100")
    expect(page.locator("#upload-message")).to_have_text("300 footprint(s) stored")
    expect(page.get_by_text("300 footprint(s) stored. See them.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^Errors"))).to_have_count(0)
    screenshot(page, "upload-succeeded")

    stored = Footprint.objects.filter(company=cast.acme, channel=SubmissionChannel.BULK)
    assert stored.count() == 300
    assert stored.filter(platform_signed=True, signing_key=cast.platform_key).count() == 300
    assert set(own_ids) <= {str(pf_id) for pf_id in stored.values_list("pf_id", flat=True)}
    assert BulkUpload.objects.get().status == UploadStatus.SUCCEEDED


def test_bulk_upload_with_a_bad_row_fails_with_a_report(
    cast: Cast, page: Page, screenshot: Callable[[Page, str], None]
) -> None:
    header, example = template_sheet()
    rows = [list(example) for _ in range(3)]
    rows[1][column(header, "pcf.declaredUnitAmount")] = "12,5"  # sheet row 3 (header = 1)
    sign_in(page, "acme_editor")

    upload(page, "footprints-bad.csv", csv_file(header, rows))

    expect(page.locator("#upload-status")).to_have_text("Failed")
    expect(page.locator("#upload-message")).to_contain_text(
        "1 row(s) have errors; nothing was stored"
    )
    expect(page.get_by_role("heading", name="Errors (1)")).to_be_visible()
    error_rows = page.locator("table").filter(has_text="Problem").locator("tbody tr")
    expect(error_rows).to_have_count(1)
    cells = error_rows.first.locator("td")
    expect(cells.nth(0)).to_have_text("3")
    expect(cells.nth(1)).to_have_text("Declared unit amount")
    expect(cells.nth(2)).to_contain_text("'12,5' is not a decimal number")
    screenshot(page, "upload-failed")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the error report (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.endswith("-errors.csv")
    report = list(csv.reader(io.StringIO(download.path().read_text(encoding="utf-8-sig"))))
    assert len(report) == 2, report
    row, column_name, message = report[1]
    assert (row, column_name) == ("3", "Declared unit amount")
    assert "'12,5' is not a decimal number" in message

    assert not Footprint.objects.exists()
    assert BulkUpload.objects.get().status == UploadStatus.FAILED
