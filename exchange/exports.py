"""The buyer's received footprints as rows: for the portal's list, and as downloads
(CSV, XLSX, JSON).

Every row starts from ``selectors.received_footprints`` (the one read rule), so an
export holds exactly what the buyer's pages show. CSV and XLSX cells that a
spreadsheet would take for a formula are neutralised (an apostrophe in front, as in
the bulk module's error report); JSON holds the documents as served (the signed
document with its current status and verification).

The verification state of a footprint (verified, not verified, expired, revoked) comes
from the record of its newest attestation that the verification app keeps on the
footprint (``Footprint.verification_record``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from companies.access import Actor

from . import selectors
from .models import AccessGrant, Footprint, FootprintStatus, ZonePublication

VERIFIED = "verified"
NOT_VERIFIED = "not_verified"
EXPIRED = "expired"
REVOKED = "revoked"
VERIFICATION_LABELS = {
    VERIFIED: "verified",
    NOT_VERIFIED: "not verified",
    EXPIRED: "expired",
    REVOKED: "revoked",
}
ASSURANCE_LABELS = {"limited": "Limited assurance", "reasonable": "Reasonable assurance"}
FORMATS = ("csv", "xlsx", "json")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


# --------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Verification:
    """How a footprint stands with verifiers, as a buyer needs to know it."""

    state: str = NOT_VERIFIED
    provider: str = ""
    standard: str = ""
    coverage: str = ""
    completed_at: str = ""
    until: datetime | None = None
    assurance: str = ""  # "limited" / "reasonable"

    @property
    def label(self) -> str:
        return VERIFICATION_LABELS[self.state]

    @property
    def assurance_label(self) -> str:
        return ASSURANCE_LABELS.get(self.assurance, self.assurance)


def verification_of(
    footprints: Iterable[Footprint], *, now: datetime | None = None
) -> dict[int, Verification]:
    """The verification state of each footprint (by primary key), from the record the
    verification app keeps of its newest attestation; one in force that has since run
    out reads as expired."""
    moment = now or timezone.now()
    states: dict[int, Verification] = {}
    for fp in footprints:
        record: Mapping[str, Any] = fp.verification_record or {}
        if not record:
            states[fp.pk] = Verification()
            continue
        until = parse_datetime(str(record.get("until", "")))
        state = str(record.get("state", NOT_VERIFIED))
        if state == VERIFIED and until is not None and until <= moment:
            state = EXPIRED
        states[fp.pk] = Verification(
            state=state if state in VERIFICATION_LABELS else NOT_VERIFIED,
            provider=str(record.get("provider", "")),
            standard=str(record.get("standard", "")),
            coverage=str(record.get("coverage", "")),
            completed_at=str(record.get("completed_at", "")),
            until=until,
            assurance=str(record.get("assurance", "")),
        )
    return states


# ----------------------------------------------------------------------------- rows


@dataclass
class ReceivedRow:
    footprint: Footprint
    verification: Verification
    via: list[str] = field(default_factory=list)  # "grant", "product grant", "zone"

    @property
    def supplier(self) -> str:
        return self.footprint.company.legal_name

    @property
    def via_text(self) -> str:
        return ", ".join(self.via)


def access_routes(actor: Actor, footprints: Sequence[Footprint]) -> dict[int, list[str]]:
    """How the actor's company came to see each footprint: a footprint grant, a
    product grant (all versions), the zone publication."""
    ids = [fp.pk for fp in footprints]
    products = {fp.product_id for fp in footprints}
    live = AccessGrant.objects.filter(buyer=actor.company, revoked_at__isnull=True).filter(
        Q(footprint_id__in=ids) | Q(product_id__in=products)
    )
    by_footprint = {g.footprint_id for g in live if g.footprint_id}
    by_product = {g.product_id for g in live if g.product_id}
    zone = set(
        ZonePublication.objects.filter(footprint_id__in=ids).values_list("footprint_id", flat=True)
    )
    routes: dict[int, list[str]] = {}
    for fp in footprints:
        route = []
        if fp.pk in by_footprint:
            route.append("grant")
        if fp.product_id in by_product:
            route.append("product grant")
        if fp.pk in zone:
            route.append("zone")
        routes[fp.pk] = route
    return routes


def received_queryset(
    actor: Actor, filters: Mapping[str, Any], *, documents: bool = False
) -> QuerySet[Footprint]:
    footprints = selectors.received_footprints(actor=actor)
    if documents:
        footprints = footprints.defer(None).select_related("product", "company")
    if filters.get("supplier"):
        footprints = footprints.filter(company__slug=filters["supplier"])
    if filters.get("status") in FootprintStatus.values:
        footprints = footprints.filter(status=filters["status"])
    if filters.get("footprint"):
        footprints = footprints.filter(pf_id=filters["footprint"])
    if filters.get("q"):
        footprints = footprints.filter(product_name__icontains=filters["q"])
    return footprints.order_by("company__legal_name", "product_name", "-submitted_at", "-id")


def received_rows(
    actor: Actor,
    filters: Mapping[str, Any] | None = None,
    *,
    documents: bool = False,
    limit: int | None = None,
) -> list[ReceivedRow]:
    """The footprints of other companies the actor's company may see, filtered (supplier
    slug, status, product text ``q``, verification state)."""
    filters = filters or {}
    footprints = list(received_queryset(actor, filters, documents=documents))
    states = verification_of(footprints)
    routes = access_routes(actor, footprints)
    rows = [ReceivedRow(fp, states[fp.pk], routes[fp.pk]) for fp in footprints]
    if filters.get("verification") in VERIFICATION_LABELS:
        rows = [r for r in rows if r.verification.state == filters["verification"]]
    return rows[:limit] if limit is not None else rows


# -------------------------------------------------------------------------- exports

COLUMNS = (
    "Supplier",
    "Supplier id",
    "Product",
    "Product ids",
    "Footprint id",
    "Status",
    "PCF excl. biogenic uptake (kg CO2e)",
    "PCF incl. biogenic uptake (kg CO2e)",
    "Declared unit",
    "Declared unit amount",
    "Reference period start",
    "Reference period end",
    "Geography",
    "Primary data share (%)",
    "Verification",
    "Verifier",
    "Verification standard",
    "Assurance level",
    "Verified until",
    "Access",
    "Document created",
)
_NUMERIC = {
    "PCF excl. biogenic uptake (kg CO2e)",
    "PCF incl. biogenic uptake (kg CO2e)",
    "Declared unit amount",
    "Primary data share (%)",
}
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


def geography(pcf: Mapping[str, Any]) -> str:
    for name in ("geographyCountrySubdivision", "geographyCountry", "geographyRegionOrSubregion"):
        if pcf.get(name):
            return str(pcf[name])
    return "global"


def _record(row: ReceivedRow) -> dict[str, str]:
    fp = row.footprint
    document = selectors.footprint_document(fp)
    pcf = document.get("pcf", {})
    v = row.verification
    return {
        "Supplier": fp.company.legal_name,
        "Supplier id": fp.company.slug,
        "Product": fp.product_name,
        "Product ids": " ".join(str(p) for p in document.get("productIds", [])),
        "Footprint id": str(fp.pf_id),
        "Status": str(document.get("status", fp.status)),
        "PCF excl. biogenic uptake (kg CO2e)": str(pcf.get("pcfExcludingBiogenicUptake", "")),
        "PCF incl. biogenic uptake (kg CO2e)": str(pcf.get("pcfIncludingBiogenicUptake", "")),
        "Declared unit": str(pcf.get("declaredUnitOfMeasurement", fp.declared_unit)),
        "Declared unit amount": str(pcf.get("declaredUnitAmount", "")),
        "Reference period start": str(pcf.get("referencePeriodStart", "")),
        "Reference period end": str(pcf.get("referencePeriodEnd", "")),
        "Geography": geography(pcf),
        "Primary data share (%)": str(pcf.get("primaryDataShare", "")),
        "Verification": v.label,
        "Verifier": v.provider,
        "Verification standard": v.standard,
        "Assurance level": v.assurance_label,
        "Verified until": v.until.isoformat() if v.until and v.state == VERIFIED else "",
        "Access": row.via_text,
        "Document created": str(document.get("created", "")),
    }


def inert(text: str) -> str:
    """A cell a spreadsheet shows as text: formula-looking text gets an apostrophe in
    front (plain numbers, even negative ones, are left as they are)."""
    if _PLAIN_NUMBER.fullmatch(text):
        return text
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def export_csv(rows: Iterable[ReceivedRow]) -> bytes:
    """UTF-8 with a BOM (so spreadsheets read the Chinese names right), CRLF lines."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        record = _record(row)
        writer.writerow([inert(record[column]) for column in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def _number(text: str) -> Decimal | None:
    if not _PLAIN_NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def export_xlsx(rows: Iterable[ReceivedRow]) -> bytes:
    """One sheet, a header row, figures as numbers and every other cell as text."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Received footprints"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        record = _record(row)
        values: list[Any] = []
        for column in COLUMNS:
            text = ILLEGAL_CHARACTERS_RE.sub("", record[column])
            number = _number(text) if column in _NUMERIC else None
            values.append(number if number is not None else inert(text))
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = min(max(len(column) + 2, 12), 40)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_json(rows: Iterable[ReceivedRow]) -> bytes:
    """The documents as served, in a PACT list response's shape: ``{"data": [...]}``."""
    documents = [selectors.footprint_document(row.footprint) for row in rows]
    return json.dumps({"data": documents}, ensure_ascii=False, indent=2).encode()


def export(file_format: str, rows: Sequence[ReceivedRow]) -> bytes:
    writers = {"csv": export_csv, "xlsx": export_xlsx, "json": export_json}
    return writers[file_format](rows)
