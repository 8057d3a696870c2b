"""The PACT v3 ProductFootprint validator: valid examples pass, each rule refused once."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.pact import (
    DECLARED_UNITS,
    SPEC_VERSION_PATTERN,
    FootprintInvalid,
    Problem,
    check_product_footprint,
    default_validity_end,
    review_product_footprint,
    validate_product_footprint,
)
from exchange.pact.fields import ISO_3166_1_ALPHA_2, REGIONS_OR_SUBREGIONS
from exchange.pact.validation import property_names, required_names
from tests.exchange.pact_examples import (
    FOOTPRINT_ID,
    OMIT,
    full_footprint,
    minimal_footprint,
    valid_footprint,
)

# --------------------------------------------------------------------------- helpers


def set_at(doc: Any, pointer: str, value: Any) -> Any:
    """Set (or with OMIT remove) the member at an RFC 6901 pointer; parents must exist."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    parent = doc
    for token in tokens[:-1]:
        parent = parent[int(token)] if isinstance(parent, list) else parent[token]
    last = tokens[-1]
    if isinstance(parent, list):
        if value is OMIT:
            del parent[int(last)]
        elif last == "-":
            parent.append(value)
        else:
            parent[int(last)] = value
    elif value is OMIT:
        parent.pop(last, None)
    else:
        parent[last] = value
    return doc


def edited(base, *edits: tuple[str, Any]) -> dict[str, Any]:
    doc = base()
    for pointer, value in edits:
        set_at(doc, pointer, value)
    return doc


def pointers(problems: list[Problem]) -> set[str]:
    return {p.pointer for p in problems}


# --------------------------------------------------------------------------- valid examples


@pytest.mark.parametrize("make", [valid_footprint, minimal_footprint, full_footprint])
def test_examples_are_valid(make):
    doc = make()
    assert validate_product_footprint(doc) == []
    check_product_footprint(doc)  # does not raise


def test_valid_and_full_examples_draw_no_warnings():
    assert review_product_footprint(valid_footprint()).warnings == []
    assert review_product_footprint(full_footprint()).warnings == []


def test_minimal_example_gets_reporting_warnings_but_no_problems():
    review = review_product_footprint(minimal_footprint())
    assert review.valid
    warned = pointers(review.warnings)
    assert {"/pcf/primaryDataShare", "/pcf/dqi", "/pcf/packagingEmissionsIncluded"} <= warned
    assert "/pcf/ccsTechnologicalCO2CaptureIncluded" in warned


def test_minimal_example_holds_exactly_the_required_properties():
    required = required_names()
    doc = minimal_footprint()
    assert set(doc) == set(required["ProductFootprint"])
    assert set(doc["pcf"]) == set(required["CarbonFootprint"])


def test_full_example_holds_every_property():
    names = property_names()
    doc = full_footprint()
    assert set(doc) == set(names["ProductFootprint"])
    geography = {"geographyRegionOrSubregion", "geographyCountry", "geographyCountrySubdivision"}
    assert set(doc["pcf"]) == set(names["CarbonFootprint"]) - (
        geography - {"geographyCountrySubdivision"}
    )
    assert set(doc["pcf"]["verification"]) == set(names["Verification"])
    assert set(doc["pcf"]["dqi"]) == set(names["DataQualityIndicators"])
    assert set(doc["extensions"][0]) == set(names["DataModelExtension"])
    assert set(doc["pcf"]["productOrSectorSpecificRules"][1]) == set(
        names["ProductOrSectorSpecificRule"]
    )
    assert set(doc["pcf"]["secondaryEmissionFactorSources"][0]) == set(
        names["EmissionFactorSource"]
    )


def test_property_tables_match_the_v3_data_model():
    names = property_names()
    assert len(names["ProductFootprint"]) == 16
    assert len(names["CarbonFootprint"]) == 45  # 12 required + 33 optional
    assert len(required_names()["CarbonFootprint"]) == 12


def test_valid_footprint_overrides():
    doc = valid_footprint(status="Deprecated", comment=OMIT, pcf={"geographyCountry": "AU"})
    assert doc["status"] == "Deprecated"
    assert "comment" not in doc
    assert doc["pcf"]["geographyCountry"] == "AU"
    assert doc["pcf"]["declaredUnitOfMeasurement"] == "kilogram"
    assert validate_product_footprint(doc) == []


def test_the_module_imports_no_django():
    for name in list(sys.modules):
        if name == "exchange.pact" or name.startswith("exchange.pact."):
            module = sys.modules[name]
            source = open(module.__file__, encoding="utf-8").read()  # noqa: SIM115
            assert not re.search(r"^\s*(from|import)\s+django", source, re.MULTILINE), name


# --------------------------------------------------------------------------- one rule each

V, F = valid_footprint, full_footprint
UUID2 = "0e9d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
PCR = "PCR 2019:14 Inorganic chemicals"
EPD_RULE = {"operator": "EPD International", "ruleNames": [PCR]}
NO_VALIDITY = {"/validityPeriodStart": OMIT, "/validityPeriodEnd": OMIT}


def case(name: str, edits: dict[str, Any], text: str, *, at: str | None = None, base=V) -> Any:
    """One rule broken once: edits (pointer -> value, OMIT removes) applied to ``base``
    must give problems at exactly ``at`` (default: the single edited pointer), one of
    whose messages contains ``text``."""
    if at is None:
        (at,) = edits
    return pytest.param(base, list(edits.items()), at, text, id=name)


# fmt: off
CASES = [
    case("id-missing", {"/id": OMIT}, "is required"),
    case("id-null", {"/id": None}, "must not be null"),
    case("id-not-uuid", {"/id": "li2co3-2025"}, "UUID"),
    case("id-braces", {"/id": "{3f6d2a8e-5b1c-4e7f-9a0d-2c8b7e41f5a9}"}, "UUID"),
    case("id-short", {"/id": "3f6d2a8e-5b1c-4e7f-9a0d-2c8b7e41f5a"}, "UUID"),
    case("id-number", {"/id": 42}, "got number"),
    case("spec-missing", {"/specVersion": OMIT}, "is required"),
    case("spec-two-parts", {"/specVersion": "3.0"}, "major.minor.patch"),
    case("spec-bad-suffix", {"/specVersion": "3.0.0-beta"}, "YYYYMMDD"),
    case("spec-v2", {"/specVersion": "2.3.0"}, "must be a 3.x.y"),
    case("spec-number", {"/specVersion": 3}, "string"),
    case("preceding-empty", {"/precedingPfIds": []}, "non-empty array"),
    case("preceding-string", {"/precedingPfIds": "0e9d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"},
         "got string"),
    case("preceding-bad-item", {"/precedingPfIds": [UUID2, "x"]}, "UUID", at="/precedingPfIds/1"),
    case("preceding-dup", {"/precedingPfIds": [UUID2, UUID2]}, "unique", at="/precedingPfIds/1"),
    case("created-missing", {"/created": OMIT}, "is required"),
    case("created-date-only", {"/created": "2026-01-20"}, "RFC 3339"),
    case("created-no-offset", {"/created": "2026-01-20T08:30:00"}, "RFC 3339"),
    case("created-no-seconds", {"/created": "2026-01-20T08:30Z"}, "RFC 3339"),
    case("created-space", {"/created": "2026-01-20 08:30:00Z"}, "RFC 3339"),
    case("created-30-feb", {"/created": "2026-02-30T00:00:00Z"}, "not a real date"),
    case("created-hour-24", {"/created": "2026-01-20T24:00:00Z"}, "not a real date"),
    case("created-offset", {"/created": "2026-01-20T08:30:00+24:00"}, "offset"),
    case("created-leap-s", {"/created": "2016-12-31T23:59:60Z"}, "leap seconds"),
    case("created-number", {"/created": 1768868000}, "got number"),
    case("status-missing", {"/status": OMIT}, "is required"),
    case("status-case", {"/status": "active"}, "'Active', 'Deprecated'"),
    case("status-other", {"/status": "Draft"}, "must be one of"),
    case("company-name-empty", {"/companyName": ""}, "non-empty string"),
    case("company-name-missing", {"/companyName": OMIT}, "is required"),
    case("company-name-number", {"/companyName": 7}, "must be a string"),
    case("name-empty", {"/productNameCompany": ""}, "non-empty"),
    case("name-null", {"/productNameCompany": None}, "not be null"),
    case("description-missing", {"/productDescription": OMIT}, "required"),
    case("description-list", {"/productDescription": ["a"]}, "string"),
    case("comment-number", {"/comment": 1}, "must be a string"),
    case("company-ids-missing", {"/companyIds": OMIT}, "is required"),
    case("company-ids-empty", {"/companyIds": []}, "non-empty array"),
    case("company-ids-string", {"/companyIds": "urn:x-a:b"}, "got string"),
    case("company-id-no-urn", {"/companyIds/0": "91350100M000100Y43"}, "'urn:'"),
    case("company-id-nid", {"/companyIds/0": "urn:x:abc"}, "namespace id"),
    case("company-id-nid-dash", {"/companyIds/0": "urn:-ab:c"}, "namespace id"),
    case("company-id-no-nss", {"/companyIds/0": "urn:pact:"}, "namespace-specific"),
    case("company-id-space", {"/companyIds/0": "urn:pact:a b"}, "whitespace"),
    case("company-id-cjk", {"/companyIds/0": "urn:pact:x.cn:name:闽江锂业"}, "ASCII"),
    case("company-id-number", {"/companyIds/0": 9135}, "URN string"),
    case("company-id-dup", {"/companyIds/-": "urn:pact:samr.gov.cn:uscc:91350100M000100Y43"},
         "unique", at="/companyIds/1"),
    case("product-ids-empty", {"/productIds": []}, "non-empty array"),
    case("product-id-percent", {"/productIds/0": "urn:gtin:%zz1"}, "'%'"),
    case("product-id-bad-char", {"/productIds/0": "urn:pact:a<b>"}, "RFC 8141"),
    case("product-ids-missing", {"/productIds": OMIT}, "is required"),
    case("classif-empty", {"/productClassifications": []}, "leave the property out"),
    case("classif-not-urn", {"/productClassifications/0": "cpc:34240"}, "URN"),
    case("pcf-missing", {"/pcf": OMIT}, "is required"),
    case("pcf-string", {"/pcf": "12.4 kgCO2e"}, "CarbonFootprint object"),
    case("pcf-null", {"/pcf": None}, "must not be null"),
    case("extensions-empty", {"/extensions": []}, "non-empty array", base=F),
    case("extensions-object", {"/extensions": {}}, "got object", base=F),
    case("extension-not-object", {"/extensions/0": "x"}, "DataModelExtension object", base=F),
    case("extension-no-spec", {"/extensions/0/specVersion": OMIT}, "required", base=F),
    case("extension-semver", {"/extensions/0/specVersion": "2.0"}, "Semantic Versioning", base=F),
    case("extension-semver-0", {"/extensions/0/specVersion": "02.0.0"}, "Semantic", base=F),
    case("extension-no-schema", {"/extensions/0/dataSchema": OMIT}, "required", base=F),
    case("extension-schema-rel", {"/extensions/0/dataSchema": "shipment/1.0.0/data-model.json"},
         "absolute URI", base=F),
    case("extension-schema-ftp", {"/extensions/0/dataSchema": "ftp://files.example.zone/s.json"},
         "http or https", base=F),
    case("extension-schema-nohost", {"/extensions/0/dataSchema": "https:/s.json"},
         "with a host", base=F),
    case("extension-doc-space", {"/extensions/0/documentation": "https://example.zone/a b"},
         "no spaces", base=F),
    case("extension-no-data", {"/extensions/0/data": OMIT}, "required", base=F),
    case("extension-data-array", {"/extensions/0/data": [1]}, "JSON object", base=F),
    case("validity-start-early", {"/validityPeriodStart": "2025-12-31T23:59:59Z"},
         "at or after pcf.referencePeriodEnd"),
    case("validity-start-offset", {"/validityPeriodStart": "2026-01-01T07:59:59+08:00"},
         "at or after"),
    case("validity-end-eq-start", {"/validityPeriodEnd": "2026-01-01T00:00:00Z"},
         "after validityPeriodStart"),
    case("validity-end-late", {"/validityPeriodEnd": "2029-01-01T00:00:01Z"}, "at most 3 years"),
    case("validity-end-only-early",
        {"/validityPeriodStart": OMIT, "/validityPeriodEnd": "2025-06-01T00:00:00Z"},
        "after pcf.referencePeriodEnd",
        at="/validityPeriodEnd",
    ),
    case("validity-start-only-late",
        {"/validityPeriodEnd": OMIT, "/validityPeriodStart": "2029-01-01T00:00:00Z"},
        "default validity",
        at="/validityPeriodStart",
    ),
    case("validity-start-format", {"/validityPeriodStart": "01/01/2026"}, "RFC 3339"),
    case("validity-end-format", {"/validityPeriodEnd": True}, "date-time string"),
    case("unit-abbrev", {"/pcf/declaredUnitOfMeasurement": "kg"}, "'kilogram'"),
    case("unit-case", {"/pcf/declaredUnitOfMeasurement": "Kilogram"}, "must be one of"),
    case("amount-zero", {"/pcf/declaredUnitAmount": "0"}, "> 0"),
    case("amount-zero-frac", {"/pcf/declaredUnitAmount": "0.000"}, "> 0"),
    case("amount-negative", {"/pcf/declaredUnitAmount": "-1"}, "> 0"),
    case("amount-number", {"/pcf/declaredUnitAmount": 1}, "decimal string, got number"),
    case("amount-float", {"/pcf/declaredUnitAmount": 1.5}, "got number"),
    case("amount-exponent", {"/pcf/declaredUnitAmount": "1e3"}, "no exponent"),
    case("amount-exponent2", {"/pcf/declaredUnitAmount": "1.2345E+6"}, "no exponent"),
    case("amount-leading-dot", {"/pcf/declaredUnitAmount": ".5"}, "decimal string"),
    case("amount-trailing-dot", {"/pcf/declaredUnitAmount": "5."}, "decimal string"),
    case("amount-nan", {"/pcf/declaredUnitAmount": "NaN"}, "NaN"),
    case("amount-infinity", {"/pcf/declaredUnitAmount": "Infinity"}, "decimal string"),
    case("amount-comma", {"/pcf/declaredUnitAmount": "1,5"}, "decimal string"),
    case("amount-space", {"/pcf/declaredUnitAmount": " 1"}, "spaces"),
    case("amount-empty", {"/pcf/declaredUnitAmount": ""}, "decimal string"),
    case("amount-arabic-digits", {"/pcf/declaredUnitAmount": "١٢"}, "decimal string"),
    case("amount-underscore", {"/pcf/declaredUnitAmount": "1_000"}, "decimal string"),
    case("mass-negative", {"/pcf/productMassPerDeclaredUnit": "-0.5"}, ">= 0"),
    case("mass-piece-zero",
        {"/pcf/declaredUnitOfMeasurement": "piece", "/pcf/productMassPerDeclaredUnit": "0"},
        "mass in kg",
        at="/pcf/productMassPerDeclaredUnit",
    ),
    case("mass-liter-zero",
        {"/pcf/declaredUnitOfMeasurement": "liter", "/pcf/productMassPerDeclaredUnit": "0.0"},
        "'liter'",
        at="/pcf/productMassPerDeclaredUnit",
    ),
    case("ref-end-before-start", {"/pcf/referencePeriodEnd": "2024-12-31T00:00:00Z", **NO_VALIDITY},
         "after referencePeriodStart", at="/pcf/referencePeriodEnd"),
    case("ref-end-equals-start",
        {"/pcf/referencePeriodEnd": "2025-01-01T08:00:00+08:00", **NO_VALIDITY},
        "after referencePeriodStart",
        at="/pcf/referencePeriodEnd",
    ),
    case("ref-start-format", {"/pcf/referencePeriodStart": "2025-01-01"}, "RFC 3339"),
    case("ref-end-missing", {"/pcf/referencePeriodEnd": OMIT}, "is required"),
    case("region-unknown",
        {"/pcf/geographyCountry": OMIT, "/pcf/geographyRegionOrSubregion": "Asia Pacific"},
        "must be one of",
        at="/pcf/geographyRegionOrSubregion",
    ),
    case("country-unknown", {"/pcf/geographyCountry": "XX"}, "ISO 3166-1 alpha-2"),
    case("country-lower", {"/pcf/geographyCountry": "cn"}, "ISO 3166-1"),
    case("country-alpha3", {"/pcf/geographyCountry": "CHN"}, "ISO 3166-1"),
    case("country-user-assigned", {"/pcf/geographyCountry": "XK"}, "ISO 3166-1"),
    case("country-number", {"/pcf/geographyCountry": 156}, "got 156"),
    case("subdivision-long",
        {"/pcf/geographyCountry": OMIT, "/pcf/geographyCountrySubdivision": "CN-FUJI"},
        "ISO 3166-2",
        at="/pcf/geographyCountrySubdivision",
    ),
    case("subdivision-lower",
        {"/pcf/geographyCountry": OMIT, "/pcf/geographyCountrySubdivision": "cn-fj"},
        "ISO 3166-2",
        at="/pcf/geographyCountrySubdivision",
    ),
    case("subdivision-country",
        {"/pcf/geographyCountry": OMIT, "/pcf/geographyCountrySubdivision": "XX-FJ"},
        "start with an ISO 3166-1",
        at="/pcf/geographyCountrySubdivision",
    ),
    case("pcf-excl-number", {"/pcf/pcfExcludingBiogenicUptake": 11.87}, "decimal string"),
    case("pcf-incl-text", {"/pcf/pcfIncludingBiogenicUptake": "about 12"}, "decimal string"),
    case("fossil-negative", {"/pcf/fossilGhgEmissions": "-0.01"}, ">= 0"),
    case("fossil-c-negative", {"/pcf/fossilCarbonContent": "-0.1626"}, ">= 0"),
    case("biogenic-c-negative", {"/pcf/biogenicCarbonContent": "-1"}, ">= 0"),
    case("recycled-c-negative", {"/pcf/recycledCarbonContent": "-1.5"}, ">= 0", base=F),
    case("luc-negative", {"/pcf/landUseChangeGhgEmissions": "-0.03"}, ">= 0"),
    case("leakage-negative", {"/pcf/landCarbonLeakage": "-1"}, ">= 0", base=F),
    case("lm-fossil-negative", {"/pcf/landManagementFossilGhgEmissions": "-4"}, ">= 0", base=F),
    case("lm-bio-em-negative", {"/pcf/landManagementBiogenicCO2Emissions": "-10"}, ">= 0", base=F),
    case("lm-bio-rem-positive", {"/pcf/landManagementBiogenicCO2Removals": "10"}, "<= 0", base=F),
    case("uptake-positive", {"/pcf/biogenicCO2Uptake": "0.5"}, "<= 0"),
    case("uptake-plus", {"/pcf/biogenicCO2Uptake": "+0.01"}, "<= 0"),
    case("bio-non-co2-negative", {"/pcf/biogenicNonCO2Emissions": "-10"}, ">= 0", base=F),
    case("land-area-negative", {"/pcf/landAreaOccupation": "-0.35"}, ">= 0", base=F),
    case("aircraft-negative", {"/pcf/aircraftGhgEmissions": "-1"}, ">= 0", base=F),
    case("outbound-negative", {"/pcf/outboundLogisticsGhgEmissions": "-18.2"}, ">= 0", base=F),
    case("boundary-number", {"/pcf/boundaryProcessesDescription": 1}, "string"),
    case("packaging-flag-string", {"/pcf/packagingEmissionsIncluded": "true"}, "true or false"),
    case("packaging-flag-int", {"/pcf/packagingEmissionsIncluded": 1}, "true or false"),
    case("packaging-negative", {"/pcf/packagingGhgEmissions": "-0.06"}, ">= 0"),
    case("packaging-bio-c-negative", {"/pcf/packagingBiogenicCarbonContent": "-13.6"},
         ">= 0", base=F),
    case("packaging-excluded-but-given",
        {"/pcf/packagingEmissionsIncluded": False},
        "must be undefined when packagingEmissionsIncluded is false",
        at="/pcf/packagingGhgEmissions",
    ),
    case("ccs-flag-string", {"/pcf/ccsTechnologicalCO2CaptureIncluded": "no"}, "true or false"),
    case("ccs-capture-positive", {"/pcf/ccsTechnologicalCO2Capture": "400"}, "<= 0", base=F),
    case("ccs-removals-positive", {"/pcf/technologicalCO2Removals": "20"}, "<= 0", base=F),
    case("ccs-origin-number", {"/pcf/technologicalCO2CaptureOrigin": 5}, "string", base=F),
    case("ccs-off-capture", {"/pcf/ccsTechnologicalCO2Capture": "-1"},
         "must be undefined when ccsTechnologicalCO2CaptureIncluded is false"),
    case("ccs-off-removals", {"/pcf/technologicalCO2Removals": "-1"}, "must be undefined when ccs"),
    case("ccs-off-origin", {"/pcf/technologicalCO2CaptureOrigin": "kiln flue gas"}, "no CCU"),
    case("ccu-content-negative", {"/pcf/ccuCarbonContent": "-2.5"}, ">= 0", base=F),
    case("ccu-approach-unknown", {"/pcf/ccuCalculationApproach": "Cutoff"},
         "'Cut-off', 'Credit'", base=F),
    case("ccu-cert-not-uri", {"/pcf/ccuCreditCertification": "certificate 2025-0173"},
         "URI", base=F),
    case("ccu-cutoff-with-cert", {"/pcf/ccuCalculationApproach": "Cut-off"},
         "only for the Credit approach", at="/pcf/ccuCreditCertification", base=F),
    case("ipcc-missing", {"/pcf/ipccCharacterizationFactors": OMIT}, "is required"),
    case("ipcc-empty", {"/pcf/ipccCharacterizationFactors": []}, "non-empty array"),
    case("ipcc-string", {"/pcf/ipccCharacterizationFactors": "AR6"}, "got string"),
    case("ipcc-space", {"/pcf/ipccCharacterizationFactors/0": "AR 6"}, "'AR' followed"),
    case("ipcc-lower", {"/pcf/ipccCharacterizationFactors/0": "ar6"}, "'AR6'"),
    case("ipcc-roman", {"/pcf/ipccCharacterizationFactors/0": "ARVI"}, "IPCC"),
    case("ipcc-dup", {"/pcf/ipccCharacterizationFactors/-": "AR6"},
         "unique", at="/pcf/ipccCharacterizationFactors/1"),
    case("css-empty", {"/pcf/crossSectoralStandards": []}, "non-empty array"),
    case("css-number", {"/pcf/crossSectoralStandards/0": 14067}, "string"),
    case("css-dup", {"/pcf/crossSectoralStandards/-": "ISO14067"},
         "unique", at="/pcf/crossSectoralStandards/3"),
    case("rules-empty", {"/pcf/productOrSectorSpecificRules": []}, "non-empty array", base=F),
    case("rule-not-object", {"/pcf/productOrSectorSpecificRules/0": "PEF"},
         "ProductOrSectorSpecificRule object", base=F),
    case("rule-operator", {"/pcf/productOrSectorSpecificRules/0/operator": "ISO"},
         "'EPD International'", base=F),
    case("rule-operator-missing", {"/pcf/productOrSectorSpecificRules/0/operator": OMIT},
         "is required", base=F),
    case("rule-names-missing", {"/pcf/productOrSectorSpecificRules/0/ruleNames": OMIT},
         "is required", base=F),
    case("rule-names-empty", {"/pcf/productOrSectorSpecificRules/0/ruleNames": []},
         "non-empty array", base=F),
    case("rule-name-empty", {"/pcf/productOrSectorSpecificRules/0/ruleNames/0": ""},
         "non-empty string", base=F),
    case("rule-names-dup", {"/pcf/productOrSectorSpecificRules/0/ruleNames/-": PCR},
         "unique", at="/pcf/productOrSectorSpecificRules/0/ruleNames/1", base=F),
    case("rule-other-unnamed", {"/pcf/productOrSectorSpecificRules/1/otherOperatorName": OMIT},
         "required when operator is 'Other'", base=F),
    case("rule-other-empty", {"/pcf/productOrSectorSpecificRules/1/otherOperatorName": ""},
         "non-empty", base=F),
    case("rules-dup", {"/pcf/productOrSectorSpecificRules/-": EPD_RULE},
         "unique", at="/pcf/productOrSectorSpecificRules/2", base=F),
    case("exempted-over-100", {"/pcf/exemptedEmissionsPercent": "100.01"}, "between 0 and 100"),
    case("exempted-negative", {"/pcf/exemptedEmissionsPercent": "-0.1"}, "between 0 and 100"),
    case("exempted-number", {"/pcf/exemptedEmissionsPercent": 0}, "decimal string"),
    case("exempted-missing", {"/pcf/exemptedEmissionsPercent": OMIT}, "is required"),
    case("exempted-desc-number", {"/pcf/exemptedEmissionsDescription": 0}, "string"),
    case("allocation-list", {"/pcf/allocationRulesDescription": ["mass"]}, "string"),
    case("pds-over-100", {"/pcf/primaryDataShare": "101"}, "between 0 and 100"),
    case("pds-negative", {"/pcf/primaryDataShare": "-1"}, "between 0 and 100"),
    case("sources-empty", {"/pcf/secondaryEmissionFactorSources": []}, "non-empty array"),
    case("source-no-version", {"/pcf/secondaryEmissionFactorSources/0/version": OMIT},
         "is required"),
    case("source-empty-name", {"/pcf/secondaryEmissionFactorSources/0/name": ""}, "non-empty"),
    case("source-version-number", {"/pcf/secondaryEmissionFactorSources/0/version": 3.1}, "string"),
    case("source-not-object", {"/pcf/secondaryEmissionFactorSources/0": "ecoinvent 3.10"},
         "EmissionFactorSource object"),
    case("dqi-string", {"/pcf/dqi": "good"}, "DataQualityIndicators object"),
    case("dqi-tech-missing", {"/pcf/dqi/technologicalDQR": OMIT}, "is required"),
    case("dqi-geo-missing", {"/pcf/dqi/geographicalDQR": OMIT}, "is required"),
    case("dqi-temporal-null", {"/pcf/dqi/temporalDQR": None}, "must not be null"),
    case("dqi-tech-low", {"/pcf/dqi/technologicalDQR": "0.99"}, "between 1 and 5"),
    case("dqi-geo-high", {"/pcf/dqi/geographicalDQR": "5.01"}, "between 1 and 5"),
    case("dqi-temporal-zero", {"/pcf/dqi/temporalDQR": "0"}, "between 1 and 5"),
    case("dqi-temporal-number", {"/pcf/dqi/temporalDQR": 3}, "decimal string"),
    case("verification-array", {"/pcf/verification": []}, "Verification object", base=F),
    case("verification-coverage", {"/pcf/verification/coverage": "product"},
         "'product level'", base=F),
    case("verification-provider-empty", {"/pcf/verification/providerName": ""},
         "non-empty", base=F),
    case("verification-completed", {"/pcf/verification/completedAt": "15 Jan 2026"},
         "RFC 3339", base=F),
    case("verification-standard", {"/pcf/verification/standardName": 14067}, "string", base=F),
    case("verification-comments", {"/pcf/verification/comments": False}, "string", base=F),
]
# fmt: on

PCF_REQUIRED = [
    "declaredUnitOfMeasurement",
    "declaredUnitAmount",
    "productMassPerDeclaredUnit",
    "referencePeriodStart",
    "referencePeriodEnd",
    "pcfExcludingBiogenicUptake",
    "pcfIncludingBiogenicUptake",
    "fossilGhgEmissions",
    "fossilCarbonContent",
    "ipccCharacterizationFactors",
    "crossSectoralStandards",
    "exemptedEmissionsPercent",
]


@pytest.mark.parametrize(("base", "edits", "pointer", "text"), CASES)
def test_each_rule_is_refused_with_its_pointer(base, edits, pointer, text):
    doc = edited(base, *edits)
    problems = validate_product_footprint(doc)
    assert pointers(problems) == {pointer}, problems
    assert any(text in p.message for p in problems), problems
    with pytest.raises(FootprintInvalid) as info:
        check_product_footprint(doc)
    assert info.value.problems == problems
    assert f"{pointer}: " in str(info.value)


def test_case_names_are_unique_and_plentiful():
    names = [param.id for param in CASES]
    assert len(names) == len(set(names))
    assert len(names) >= 80


@pytest.mark.parametrize("name", PCF_REQUIRED)
@pytest.mark.parametrize("how", ["absent", "null"])
def test_each_required_pcf_property(name, how):
    doc = minimal_footprint()
    if how == "absent":
        del doc["pcf"][name]
    else:
        doc["pcf"][name] = None
    problems = validate_product_footprint(doc)
    assert pointers(problems) == {f"/pcf/{name}"}
    assert "is required" in problems[0].message


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        (("geographyRegionOrSubregion", "geographyCountry"), 2),
        (("geographyCountry", "geographyCountrySubdivision"), 2),
        (("geographyRegionOrSubregion", "geographyCountrySubdivision"), 2),
        (("geographyRegionOrSubregion", "geographyCountry", "geographyCountrySubdivision"), 3),
    ],
)
def test_geography_is_none_or_exactly_one(present, expected):
    values = {
        "geographyRegionOrSubregion": "Eastern Asia",
        "geographyCountry": "CN",
        "geographyCountrySubdivision": "CN-FJ",
    }
    doc = valid_footprint(pcf={"geographyCountry": OMIT, **{n: values[n] for n in present}})
    problems = validate_product_footprint(doc)
    assert pointers(problems) == {f"/pcf/{n}" for n in present}
    assert len(problems) == expected
    assert all("must be undefined when" in p.message for p in problems)
    assert all("exactly one of" in p.message for p in problems)


@pytest.mark.parametrize(
    "geography",
    [
        {},
        {"geographyRegionOrSubregion": "Eastern Asia"},
        {"geographyCountry": "CN"},
        {"geographyCountrySubdivision": "CN-FJ"},
        {"geographyCountry": "CN", "geographyCountrySubdivision": None},
    ],
)
def test_geography_global_or_one_is_valid(geography):
    doc = valid_footprint(pcf={"geographyCountry": OMIT, **geography})
    assert validate_product_footprint(doc) == []


# --------------------------------------------------------------------------- several at once


def test_all_problems_are_reported_sorted_by_pointer():
    doc = valid_footprint(
        id="nope",
        status="Live",
        companyIds=[f"urn:pact:example.zone:site:{i}" for i in range(11)] + ["bad"],
        pcf={
            "declaredUnitAmount": "0",
            "fossilGhgEmissions": "-1",
            "geographyCountrySubdivision": "CN-FJ",
            "dqi": {"technologicalDQR": "9"},
            "packagingEmissionsIncluded": False,
        },
    )
    problems = validate_product_footprint(doc)
    assert [p.pointer for p in problems] == [
        "/companyIds/11",
        "/id",
        "/pcf/declaredUnitAmount",
        "/pcf/dqi/geographicalDQR",
        "/pcf/dqi/technologicalDQR",
        "/pcf/dqi/temporalDQR",
        "/pcf/fossilGhgEmissions",
        "/pcf/geographyCountry",
        "/pcf/geographyCountrySubdivision",
        "/pcf/packagingGhgEmissions",
        "/status",
    ]
    with pytest.raises(FootprintInvalid) as info:
        check_product_footprint(doc)
    assert info.value.problems == problems
    text = str(info.value)
    assert "11 rules" in text
    assert all(str(p) in text for p in problems)


def test_array_indexes_sort_numerically():
    doc = valid_footprint(companyIds=[f"x{i}" for i in range(12)])
    problems = validate_product_footprint(doc)
    assert [p.pointer for p in problems] == [f"/companyIds/{i}" for i in range(12)]


def test_non_object_documents_are_refused_at_the_root():
    for doc in ([], "footprint", 3, None, True):
        problems = validate_product_footprint(doc)
        assert len(problems) == 1
        assert problems[0].pointer == ""
        assert "must be a JSON object" in problems[0].message
    assert str(Problem("/pcf", "x")) == "/pcf: x"


def test_an_empty_object_lists_every_required_property():
    problems = validate_product_footprint({})
    assert pointers(problems) == {f"/{name}" for name in required_names()["ProductFootprint"]}


def test_required_pcf_properties_all_missing():
    problems = validate_product_footprint(valid_footprint(pcf={}))
    # pcf={} merges nothing; replace the pcf outright instead
    assert problems == []
    doc = valid_footprint()
    doc["pcf"] = {}
    problems = validate_product_footprint(doc)
    assert pointers(problems) == {f"/pcf/{name}" for name in PCF_REQUIRED}


# --------------------------------------------------------------------------- accepted edge cases


INCHI = "urn:pact:inchi-trust.org:substance-key:1S/CHO3.2Li/c2-1(3)4;;/h(H2,2,3,4);;/q;2*+1/p-2"


def ok(name: str, edits: dict[str, Any]) -> Any:
    return pytest.param(list(edits.items()), id=name)


# fmt: off
ACCEPTED = [
    ok("start-eq-ref-end", {"/validityPeriodStart": "2026-01-01T08:00:00+08:00"}),
    ok("end-exactly-3y", {"/validityPeriodEnd": "2029-01-01T00:00:00Z"}),
    ok("end-3y-offset", {"/validityPeriodEnd": "2028-12-31T19:00:00-05:00"}),
    ok("no-validity", NO_VALIDITY),
    ok("null-validity", {"/validityPeriodStart": None, "/validityPeriodEnd": None}),
    ok("lowercase-t-z-nanos", {"/created": "2026-01-20t00:30:00.123456789z"}),
    ok("unknown-offset", {"/created": "2026-01-20T00:30:00-00:00"}),
    ok("leap-day", {"/created": "2024-02-29T00:00:00Z"}),
    ok("uppercase-uuid", {"/id": "3F6D2A8E-5B1C-4E7F-9A0D-2C8B7E41F5A9"}),
    ok("spec-date-suffix", {"/specVersion": "3.0.0-20251118"}),
    ok("spec-later-minor", {"/specVersion": "3.1.12"}),
    ok("empty-description", {"/productDescription": ""}),
    ok("null-comment", {"/comment": None}),
    ok("null-dqi", {"/pcf/dqi": None}),
    ok("dqr-bounds", {"/pcf/dqi/technologicalDQR": "1", "/pcf/dqi/temporalDQR": "5.000"}),
    ok("pct-bounds", {"/pcf/primaryDataShare": "100", "/pcf/exemptedEmissionsPercent": "0"}),
    ok("pct-100", {"/pcf/exemptedEmissionsPercent": "100.0"}),
    ok("small-amount", {"/pcf/declaredUnitAmount": "0.001",
                        "/pcf/productMassPerDeclaredUnit": "0.001"}),
    ok("plus-sign", {"/pcf/declaredUnitAmount": "+12.50"}),
    ok("leading-zeros", {"/pcf/declaredUnitAmount": "007"}),
    ok("minus-zero-nonpositive", {"/pcf/biogenicCO2Uptake": "-0"}),
    ok("minus-zero-nonnegative", {"/pcf/fossilCarbonContent": "-0.000"}),
    ok("negative-pcf", {"/pcf/pcfExcludingBiogenicUptake": "-3.5",
                        "/pcf/pcfIncludingBiogenicUptake": "-3.5"}),
    ok("unknown-standards", {"/pcf/crossSectoralStandards": ["ISO14067", "TfS-PCF-2.0"]}),
    ok("future-ar", {"/pcf/ipccCharacterizationFactors": ["AR6", "AR7"]}),
    ok("packaging-excluded", {"/pcf/packagingEmissionsIncluded": False,
                              "/pcf/packagingGhgEmissions": OMIT}),
    ok("packaging-null", {"/pcf/packagingEmissionsIncluded": False,
                          "/pcf/packagingGhgEmissions": None}),
    ok("ccu-origin-without-ccs", {"/pcf/technologicalCO2CaptureOrigin": "bioethanol plant, Jilin",
                                  "/pcf/ccuCarbonContent": "0.2",
                                  "/pcf/ccuCalculationApproach": "Cut-off"}),
    ok("uppercase-urn", {"/companyIds/-": "URN:EPC:id:sgln:6901234.00000.0"}),
    ok("inchi-urn", {"/productIds/-": INCHI}),
    ok("pct-encoded-urn", {"/productIds/-": "urn:pact:example.zone:name:%E7%A2%B3%E9%85%B8"}),
    ok("urn-rq-f", {"/productIds/-": "urn:example:a?+res?=q#frag/x"}),
    ok("piece", {"/pcf/declaredUnitOfMeasurement": "piece",
                 "/pcf/productMassPerDeclaredUnit": "1000"}),
    ok("energy", {"/pcf/declaredUnitOfMeasurement": "megajoule",
                  "/pcf/productMassPerDeclaredUnit": "0"}),
]
# fmt: on


@pytest.mark.parametrize("edits", ACCEPTED)
def test_accepted_edge_cases(edits):
    doc = edited(valid_footprint, *edits)
    assert validate_product_footprint(doc) == []


def test_unknown_properties_are_accepted_with_a_warning():
    doc = valid_footprint(**{"x-erp/ref~1": "A-17", "updated": "2026-01-21T00:00:00Z"})
    doc["pcf"]["assurance"] = {"assurance": True}
    doc["pcf"]["dqi"]["coveragePercent"] = 90
    review = review_product_footprint(doc)
    assert review.problems == []
    warned = {w.pointer: w.message for w in review.warnings}
    assert "/x-erp~1ref~01" in warned
    assert "removed in v3" in warned["/updated"]
    assert "use verification" in warned["/pcf/assurance"]
    assert "removed in v3" in warned["/pcf/dqi/coveragePercent"]


def test_unknown_cross_sectoral_standard_is_a_warning_not_a_problem():
    doc = valid_footprint(pcf={"crossSectoralStandards": ["ISO14067", "CX-PCF-3.0", "PAS2050"]})
    review = review_product_footprint(doc)
    assert review.problems == []
    assert pointers(review.warnings) == {
        "/pcf/crossSectoralStandards/1",
        "/pcf/crossSectoralStandards/2",
    }


# --------------------------------------------------------------------------- warnings (SHOULD)

# fmt: off
WARNING_CASES = [
    case("packaging-included-no-value", {"/pcf/packagingGhgEmissions": OMIT}, "should be reported"),
    case("packaging-flag-missing", {"/pcf/packagingEmissionsIncluded": OMIT}, "SHALL"),
    case("ccs-flag-missing", {"/pcf/ccsTechnologicalCO2CaptureIncluded": OMIT}, "SHALL"),
    case("ccs-on-no-capture", {"/pcf/ccsTechnologicalCO2Capture": OMIT}, "if known", base=F),
    case("ccu-credit-no-cert", {"/pcf/ccuCreditCertification": OMIT}, "'Credit'", base=F),
    case("ccu-no-approach", {"/pcf/ccuCalculationApproach": OMIT}, "CCU data", base=F),
    case("no-primary-data-share", {"/pcf/primaryDataShare": OMIT}, "SHALL"),
    case("no-dqi", {"/pcf/dqi": OMIT}, "2027"),
    case("no-comment", {"/comment": OMIT}, "SHOULD"),
    case("no-geography", {"/pcf/geographyCountry": OMIT}, "global"),
    case("old-ipcc", {"/pcf/ipccCharacterizationFactors": ["AR5"]}, "AR6"),
    case("exempted-no-reason", {"/pcf/exemptedEmissionsDescription": " "}, "explain"),
    case("kg-mass-differs", {"/pcf/productMassPerDeclaredUnit": "2"}, "declaredUnitAmount"),
    case("energy-with-mass", {"/pcf/declaredUnitOfMeasurement": "kilowatt hour"},
         "should be 0", at="/pcf/productMassPerDeclaredUnit"),
    case("incl-not-excl-plus-uptake", {"/pcf/pcfIncludingBiogenicUptake": "10"},
         "biogenicCO2Uptake"),
    case("land-fossil-above-fossil", {"/pcf/landManagementFossilGhgEmissions": "20000"},
         "already includes", base=F),
    case("rule-other-name-not-other", {"/pcf/productOrSectorSpecificRules/1/operator": "PEF"},
         "only meant", at="/pcf/productOrSectorSpecificRules/1/otherOperatorName", base=F),
    case("preceding-self", {"/precedingPfIds": [FOOTPRINT_ID]}, "itself", at="/precedingPfIds/0"),
    case("validity-one-bound", {"/validityPeriodEnd": OMIT}, "both", at="/validityPeriodStart"),
    case("pact-urn-shape", {"/productIds/0": "urn:pact:li2co3-bg"},
         "urn:pact:<issuer domain name>"),
    case("uscc-check", {"/companyIds/0": "urn:pact:samr.gov.cn:uscc:91350100M000100Y44"},
         "Unified Social Credit Code"),
    case("urn-equivalent", {"/productIds/-": "URN:PACT:example.zone:product:li2co3-bg"},
         "same URN", at="/productIds/1"),
    case("blank-company-name", {"/companyName": "  "}, "blank"),
    case("source-dup",
        {"/pcf/secondaryEmissionFactorSources/-": {"name": "ecoinvent", "version": "3.10"}},
        "repeats",
        at="/pcf/secondaryEmissionFactorSources/1",
    ),
]
# fmt: on


@pytest.mark.parametrize(("base", "edits", "pointer", "text"), WARNING_CASES)
def test_should_rules_are_warnings(base, edits, pointer, text):
    review = review_product_footprint(edited(base, *edits))
    assert review.problems == []
    assert any(w.pointer == pointer and text in w.message for w in review.warnings), review.warnings


# --------------------------------------------------------------------------- helpers of the API


def test_default_validity_end_is_three_years_later():
    end = datetime(2026, 1, 1, tzinfo=UTC)
    assert default_validity_end(end) == datetime(2029, 1, 1, tzinfo=UTC)
    leap = datetime(2024, 2, 29, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    assert default_validity_end(leap) == datetime(2027, 2, 28, 12, 0, tzinfo=leap.tzinfo)


def test_declared_units_and_spec_version_pattern():
    assert DECLARED_UNITS == (
        "liter",
        "kilogram",
        "cubic meter",
        "kilowatt hour",
        "megajoule",
        "ton kilometer",
        "square meter",
        "piece",
        "hour",
        "megabit second",
    )
    assert SPEC_VERSION_PATTERN.fullmatch("3.0.3")
    assert SPEC_VERSION_PATTERN.fullmatch("3.0.0-20250430")
    for bad in ("3.0", "v3.0.0", "3.0.0-2025", "3.0.0\n", "\uff13.0.0"):
        assert not SPEC_VERSION_PATTERN.fullmatch(bad)


def test_country_list_is_iso_3166_1():
    assert len(ISO_3166_1_ALPHA_2) == 249
    assert {"CN", "HK", "MO", "TW", "DE", "US", "SS", "BQ"} <= ISO_3166_1_ALPHA_2
    assert not {"UK", "EU", "XK", "AN", "ZZ"} & ISO_3166_1_ALPHA_2


# --------------------------------------------------------------------------- properties

DECIMAL_STRINGS = st.from_regex(r"\A[+-]?[0-9]{1,25}(\.[0-9]{1,25})?\Z", fullmatch=True)
ALMOST_DECIMALS = st.one_of(
    DECIMAL_STRINGS,
    st.text(alphabet="0123456789+-.eE ,_InfNa", max_size=12),
    DECIMAL_STRINGS.map(lambda s: s + "e1"),
)

SIGN_FIELDS = {
    "/pcf/declaredUnitAmount": lambda d: d > 0,
    "/pcf/fossilGhgEmissions": lambda d: d >= 0,
    "/pcf/biogenicCO2Uptake": lambda d: d <= 0,
    "/pcf/pcfExcludingBiogenicUptake": lambda d: True,
    "/pcf/primaryDataShare": lambda d: 0 <= d <= 100,
    "/pcf/exemptedEmissionsPercent": lambda d: 0 <= d <= 100,
    "/pcf/dqi/geographicalDQR": lambda d: 1 <= d <= 5,
}
GRAMMAR = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(sorted(SIGN_FIELDS)), text=ALMOST_DECIMALS)
def test_decimal_rules_agree_with_decimal_comparison(field, text):
    doc = edited(valid_footprint, (field, text))
    problems = [p for p in validate_product_footprint(doc) if p.pointer == field]
    expected_ok = bool(GRAMMAR.fullmatch(text)) and SIGN_FIELDS[field](Decimal(text))
    assert (problems == []) == expected_ok, (text, problems)


@settings(max_examples=100)
@given(st.sampled_from(sorted(ISO_3166_1_ALPHA_2)))
def test_any_iso_country_passes(country):
    doc = valid_footprint(pcf={"geographyCountry": country})
    assert validate_product_footprint(doc) == []


@settings(max_examples=100)
@given(
    st.sampled_from(sorted(ISO_3166_1_ALPHA_2)),
    st.from_regex(r"\A[A-Z0-9]{1,3}\Z", fullmatch=True),
)
def test_any_subdivision_pattern_passes(country, code):
    doc = valid_footprint(
        pcf={"geographyCountry": OMIT, "geographyCountrySubdivision": f"{country}-{code}"}
    )
    assert validate_product_footprint(doc) == []


@given(st.sampled_from(REGIONS_OR_SUBREGIONS), st.sampled_from(DECLARED_UNITS))
def test_any_region_and_unit_pass(region, unit):
    doc = valid_footprint(
        pcf={
            "geographyCountry": OMIT,
            "geographyRegionOrSubregion": region,
            "declaredUnitOfMeasurement": unit,
        }
    )
    assert validate_product_footprint(doc) == []


@given(st.uuids())
def test_any_uuid_passes(value):
    assert validate_product_footprint(valid_footprint(id=str(value))) == []


_PCHAR = st.sampled_from("abcXYZ019-._~!$&'()*+,;=:@")
URNS = st.builds(
    lambda nid, nss: f"urn:{nid}:{nss}",
    st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,30}[a-z0-9]\Z", fullmatch=True),
    st.lists(_PCHAR, min_size=1, max_size=20).map("".join),
)


@given(st.lists(URNS, min_size=1, max_size=5, unique=True))
def test_any_rfc8141_urns_pass(urns):
    doc = valid_footprint(productIds=urns, productClassifications=urns)
    assert validate_product_footprint(doc) == []


@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
    length=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=400)),
)
def test_validity_period_rule_matches_date_arithmetic(start, length):
    end = start + length
    doc = valid_footprint(
        validityPeriodStart=start.isoformat().replace("+00:00", "Z"),
        validityPeriodEnd=end.isoformat().replace("+00:00", "Z"),
    )
    problems = validate_product_footprint(doc)
    within = end <= datetime(2029, 1, 1, tzinfo=UTC)
    assert (problems == []) == within, problems
