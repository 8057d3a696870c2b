"""PACT v2.3 reads: ``GET /2/footprints`` and ``GET /2/footprints/<id>``.

The same footprints as ``/3`` (same token, same access rule, same pagination), each
written in the v2.3 data model (``to_v2``), with the v2.3 error codes (see
``errors``), and the optional v2.3 ``$filter`` (see ``odata``). v3 filter parameters
are not part of v2.3 and are ignored here.

The mapping renames what v3 renamed and derives what v2.3 still requires:

* ``specVersion`` "2.3.0"; ``version`` 1, or 2 once the footprint is deprecated, with
  ``updated`` (when it was deprecated) and ``statusComment`` (why): in v2 a status
  change is a new version of the same id, in v3 it is the one change allowed;
* ``productCategoryCpc`` from a ``urn:cpc:<code>`` classification (empty if none);
* ``comment``, ``boundaryProcessesDescription``, ``exemptedEmissionsDescription``:
  empty strings when v3 left them out (v2.3 requires them; empty is allowed for the
  last one and means "nothing said");
* pcf: ``declaredUnit`` ← ``declaredUnitOfMeasurement``, ``unitaryProductAmount`` ←
  ``declaredUnitAmount``, ``pCfExcludingBiogenic`` ← ``pcfExcludingBiogenicUptake``,
  ``pCfIncludingBiogenic`` ← ``pcfIncludingBiogenicUptake``, ``dLucGhgEmissions`` ←
  ``landUseChangeGhgEmissions``, ``iLucGhgEmissions`` ← ``landCarbonLeakage``,
  ``otherBiogenicGhgEmissions`` ← ``biogenicNonCO2Emissions``,
  ``biogenicCarbonWithdrawal`` ← ``biogenicCO2Uptake``,
  ``ipccCharacterizationFactorsSources`` ← ``ipccCharacterizationFactors`` and
  ``characterizationFactors`` its earliest report, ``crossSectoralStandards`` in v2
  spelling and the deprecated ``crossSectoralStandardsUsed`` where v2 has a name,
  ``assurance`` ← ``verification`` (``assurance: true``; coverage where v2 has the
  same level);
* v2 numbers (``exemptedEmissionsPercent``, ``primaryDataShare``, the DQRs) from v3
  decimal strings;
* v3-only properties are left out; nothing is invented (a v2 property with no v3
  source stays absent). A v3 declared unit v2 does not list (piece, hour, megabit
  second) is passed through as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse

from exchange.models import Footprint, FootprintStatus
from exchange.pact.filters import Criteria
from exchange.selectors import visible_footprints
from exchange.sharing import record_pull

from . import odata
from .auth import authenticate
from .errors import json_response
from .pagination import fetch_page, next_link, read_page_request
from .querysets import narrow_columns, narrow_content
from .views import pact_endpoint, served, visible_footprint

V2_SPEC_VERSION = "2.3.0"
FILTER_PARAM = "$filter"

_CPC_RE = re.compile(r"[uU][rR][nN]:cpc:(.+)")
_STANDARDS_V2 = {"GHGP-Product": "GHGP Product"}
_STANDARDS_USED_V2 = {
    "GHGP-Product": "GHG Protocol Product standard",
    "ISO14067": "ISO Standard 14067",
    "ISO14040-44": "ISO Standard 14044",
}
_COVERAGE_V2 = {"product level": "product level", "PCF program": "PCF system"}
# v3 pcf property → v2 property, value unchanged.
_PCF_RENAMED = {
    "declaredUnitOfMeasurement": "declaredUnit",
    "declaredUnitAmount": "unitaryProductAmount",
    "productMassPerDeclaredUnit": "productMassPerDeclaredUnit",
    "pcfExcludingBiogenicUptake": "pCfExcludingBiogenic",
    "pcfIncludingBiogenicUptake": "pCfIncludingBiogenic",
    "fossilGhgEmissions": "fossilGhgEmissions",
    "fossilCarbonContent": "fossilCarbonContent",
    "biogenicCarbonContent": "biogenicCarbonContent",
    "landUseChangeGhgEmissions": "dLucGhgEmissions",
    "landCarbonLeakage": "iLucGhgEmissions",
    "biogenicNonCO2Emissions": "otherBiogenicGhgEmissions",
    "biogenicCO2Uptake": "biogenicCarbonWithdrawal",
    "aircraftGhgEmissions": "aircraftGhgEmissions",
    "productOrSectorSpecificRules": "productOrSectorSpecificRules",
    "referencePeriodStart": "referencePeriodStart",
    "referencePeriodEnd": "referencePeriodEnd",
    "geographyCountrySubdivision": "geographyCountrySubdivision",
    "geographyCountry": "geographyCountry",
    "geographyRegionOrSubregion": "geographyRegionOrSubregion",
    "secondaryEmissionFactorSources": "secondaryEmissionFactorSources",
    "packagingEmissionsIncluded": "packagingEmissionsIncluded",
    "packagingGhgEmissions": "packagingGhgEmissions",
    "allocationRulesDescription": "allocationRulesDescription",
}


def _number(value: Any) -> Any:
    """A v3 decimal string as the JSON number v2 has (unchanged if not a decimal)."""
    if not isinstance(value, str):
        return value
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    return int(number) if number == number.to_integral_value() else float(number)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _report_number(report: str) -> int:
    digits = report[2:] if report.upper().startswith("AR") else ""
    return int(digits) if digits.isdigit() else 10**6


def _assurance(verification: Any) -> dict[str, Any] | None:
    if not isinstance(verification, Mapping):
        return None
    assurance: dict[str, Any] = {"assurance": True}
    coverage = _COVERAGE_V2.get(str(verification.get("coverage")))
    if coverage:
        assurance["coverage"] = coverage
    for key in ("providerName", "completedAt", "standardName", "comments"):
        if isinstance(verification.get(key), str):
            assurance[key] = verification[key]
    return assurance


def _pcf_v2(pcf: Mapping[str, Any], verification: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        v2: pcf[v3] for v3, v2 in _PCF_RENAMED.items() if pcf.get(v3) is not None
    }
    factors = [f for f in pcf.get("ipccCharacterizationFactors") or [] if isinstance(f, str)]
    if factors:
        out["characterizationFactors"] = min(factors, key=_report_number)
        out["ipccCharacterizationFactorsSources"] = factors
    standards = [s for s in pcf.get("crossSectoralStandards") or [] if isinstance(s, str)]
    out["crossSectoralStandardsUsed"] = [
        _STANDARDS_USED_V2[s] for s in standards if s in _STANDARDS_USED_V2
    ]
    out["crossSectoralStandards"] = [
        f"PACT Methodology {s[5:]}" if s.startswith("PACT-") else _STANDARDS_V2.get(s, s)
        for s in standards
    ]
    out["boundaryProcessesDescription"] = pcf.get("boundaryProcessesDescription") or ""
    if pcf.get("exemptedEmissionsPercent") is not None:
        out["exemptedEmissionsPercent"] = _number(pcf["exemptedEmissionsPercent"])
    out["exemptedEmissionsDescription"] = pcf.get("exemptedEmissionsDescription") or ""
    if pcf.get("primaryDataShare") is not None:
        out["primaryDataShare"] = _number(pcf["primaryDataShare"])
    dqi = pcf.get("dqi")
    if isinstance(dqi, Mapping):
        out["dqi"] = {key: _number(value) for key, value in dqi.items()}
    assurance = _assurance(verification)
    if assurance is not None:
        out["assurance"] = assurance
    return out


def to_v2(document: Mapping[str, Any], footprint: Footprint) -> dict[str, Any]:
    """The served v3 ``document`` of ``footprint`` in the v2.3 data model."""
    pcf = document.get("pcf") if isinstance(document.get("pcf"), Mapping) else {}
    assert isinstance(pcf, Mapping)
    deprecated = document.get("status") == FootprintStatus.DEPRECATED
    out: dict[str, Any] = {
        "id": document["id"],
        "specVersion": V2_SPEC_VERSION,
    }
    if document.get("precedingPfIds"):
        out["precedingPfIds"] = document["precedingPfIds"]
    out["version"] = 2 if deprecated else 1
    out["created"] = document["created"]
    if deprecated and footprint.deprecated_at is not None:
        out["updated"] = _stamp(footprint.deprecated_at)
    out["status"] = document["status"]
    if deprecated and footprint.deprecation_reason:
        out["statusComment"] = footprint.deprecation_reason
    for key in ("validityPeriodStart", "validityPeriodEnd", "companyName", "companyIds"):
        if key in document:
            out[key] = document[key]
    out["productDescription"] = document.get("productDescription", "")
    out["productIds"] = document["productIds"]
    classifications = document.get("productClassifications") or []
    if classifications:
        out["productClassifications"] = classifications
    cpc = next(
        (m.group(1) for c in classifications if isinstance(c, str) and (m := _CPC_RE.fullmatch(c))),
        "",
    )
    out["productCategoryCpc"] = cpc
    out["productNameCompany"] = document["productNameCompany"]
    out["comment"] = document.get("comment") or ""
    # The served v3 document may carry the current verification at the top level.
    out["pcf"] = _pcf_v2(pcf, pcf.get("verification") or document.get("verification"))
    if document.get("extensions"):
        out["extensions"] = document["extensions"]
    return out


# --------------------------------------------------------------------------- filtering


def _narrow(queryset: QuerySet[Footprint], atoms: list[odata.Atom]) -> QuerySet[Footprint]:
    """Column conditions every footprint satisfying ``atoms`` meets (a superset; the
    statement is then checked on each v2 document)."""
    columns = {
        "created": "document_created",
        "pcf/referencePeriodStart": "reference_period_start",
        "pcf/referencePeriodEnd": "reference_period_end",
        "updated": "deprecated_at",
    }
    lookups = {"eq": "exact", "lt": "lt", "le": "lte", "gt": "gt", "ge": "gte"}
    for atom in atoms:
        if isinstance(atom, odata.Comparison) and atom.moment is not None:
            queryset = queryset.filter(
                Q(**{f"{columns[atom.prop]}__{lookups[atom.op]}": atom.moment})
            )
    for criteria in _as_criteria(atoms):
        queryset = narrow_columns(criteria, queryset)
    return queryset


def _as_criteria(atoms: list[odata.Atom]) -> list[Criteria]:
    """The v3 criteria implied by ``any(… eq …)`` on ids and by a country equality."""
    implied = []
    for atom in atoms:
        if isinstance(atom, odata.AnyEqual):
            name = "productId" if atom.collection == "productIds" else "companyId"
            implied.append(Criteria.parse({name: [atom.value]}))
        elif atom.prop == "pcf/geographyCountry" and atom.op == "eq":
            implied.append(Criteria.parse({"geography": [atom.value]}))
    return implied


def _refine(atoms: list[odata.Atom]) -> Any:
    implied = _as_criteria(atoms)
    if not implied:
        return None

    def refine(candidates: QuerySet[Footprint]) -> QuerySet[Footprint]:
        for criteria in implied:
            candidates = narrow_content(criteria, candidates)
        return candidates

    return refine


def v2_criteria(query: Any) -> dict[str, list[str]]:
    """What a v2 list request filters by: its ``$filter`` statement, if any."""
    statement = query.get(FILTER_PARAM, "")
    return {FILTER_PARAM: [statement]} if statement.strip() else {}


# ------------------------------------------------------------------------------ views


@pact_endpoint("2", ("GET",))
def footprints(request: HttpRequest) -> HttpResponse:
    """v2.3 ListFootprints: ``{"data": [v2.3 ProductFootprint, …]}``, paginated like
    ``/3`` (a ``Link`` header with a signed cursor), filtered by ``$filter``."""
    actor = authenticate(request)
    page = read_page_request(
        request, version="2", company_id=actor.company.pk, criteria_params=v2_criteria
    )
    atoms = odata.parse_filter((page.params.get(FILTER_PARAM) or [""])[0])
    rows, more = fetch_page(
        _narrow(visible_footprints(actor.company), atoms),
        page,
        serve=lambda footprint: to_v2(served(footprint), footprint),
        accept=(lambda _footprint, document: odata.holds(atoms, document)) if atoms else None,
        refine=_refine(atoms),
    )
    response = json_response({"data": [document for _, document in rows]})
    if more:
        response["Link"] = next_link(
            request, page, version="2", company_id=actor.company.pk, last_pk=rows[-1][0].pk
        )
    record_pull(actor=actor, footprints=[footprint for footprint, _ in rows], channel="pact-v2")
    return response


@pact_endpoint("2", ("GET",))
def footprint(request: HttpRequest, pf_id: str) -> HttpResponse:
    """v2.3 GetFootprint: ``{"data": v2.3 ProductFootprint}``; NoSuchFootprint (404) for
    an unknown id and for one the client may not see alike."""
    actor = authenticate(request)
    found = visible_footprint(actor, pf_id)
    response = json_response({"data": to_v2(served(found), found)})
    record_pull(actor=actor, footprints=[found], channel="pact-v2")
    return response
