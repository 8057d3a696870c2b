"""Example PACT v3 ProductFootprints written for this project (own values, not the spec's).

The product is battery-grade lithium carbonate refined from spodumene concentrate in
Fujian, declared per kilogram, reference period calendar year 2025. Figures are of a
realistic order of magnitude (about 12 kgCO2e per kg Li2CO3, cradle to gate).

- ``valid_footprint(**overrides)``: a complete, valid footprint that draws no warnings.
  Top-level overrides replace members; ``pcf={...}`` merges into the pcf. A value of
  ``OMIT`` removes the member.
- ``minimal_footprint()``: only the required properties.
- ``full_footprint()``: every optional property present and valid (one geography, as
  the geography rule allows no more).
"""

from __future__ import annotations

import copy
from typing import Any


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"

    def __copy__(self) -> _Omit:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Omit:
        return self


#: Override value that removes a member instead of setting it.
OMIT: Any = _Omit()

FOOTPRINT_ID = "3f6d2a8e-5b1c-4e7f-9a0d-2c8b7e41f5a9"
PREVIOUS_ID = "b0c4e1d2-7a39-4f65-8e21-9d6c3a5f0e47"
COMPANY_ID = "urn:pact:samr.gov.cn:uscc:91350100M000100Y43"
PRODUCT_ID = "urn:pact:example.zone:product:li2co3-bg"

_VALID: dict[str, Any] = {
    "id": FOOTPRINT_ID,
    "specVersion": "3.0.3",
    "created": "2026-01-20T08:30:00+08:00",
    "status": "Active",
    "validityPeriodStart": "2026-01-01T00:00:00Z",
    "validityPeriodEnd": "2027-01-01T00:00:00Z",
    "companyName": "Minjiang Lithium Materials Co., Ltd.",
    "companyIds": [COMPANY_ID],
    "productDescription": (
        "Battery-grade lithium carbonate (Li2CO3 >= 99.5 %), refined from spodumene "
        "concentrate by sulfuric-acid roasting, leaching and carbonation; 1 t bulk bags."
    ),
    "productIds": [PRODUCT_ID],
    "productClassifications": ["urn:pact:wcoomdd.org:hs-code:283691"],
    "productNameCompany": "MJ-LC995 battery-grade lithium carbonate",
    "comment": (
        "Cradle to gate. Concentrate shipped from Western Australia to Fuzhou; East China "
        "grid electricity factor 2024; mass allocation to the sodium sulfate co-product."
    ),
    "pcf": {
        "declaredUnitOfMeasurement": "kilogram",
        "declaredUnitAmount": "1",
        "productMassPerDeclaredUnit": "1",
        "referencePeriodStart": "2025-01-01T00:00:00Z",
        "referencePeriodEnd": "2026-01-01T00:00:00Z",
        "geographyCountry": "CN",
        "boundaryProcessesDescription": (
            "Mining and flotation of spodumene, sea freight, roasting at 1050 C, acid "
            "roasting, leaching, purification, carbonation with soda ash, drying, packing."
        ),
        "pcfExcludingBiogenicUptake": "11.87",
        "pcfIncludingBiogenicUptake": "11.87",
        "fossilGhgEmissions": "11.84",
        "fossilCarbonContent": "0.1626",
        "biogenicCarbonContent": "0",
        "landUseChangeGhgEmissions": "0.03",
        "biogenicCO2Uptake": "0",
        "packagingEmissionsIncluded": True,
        "packagingGhgEmissions": "0.06",
        "ccsTechnologicalCO2CaptureIncluded": False,
        "ipccCharacterizationFactors": ["AR6"],
        "crossSectoralStandards": ["ISO14067", "GHGP-Product", "PACT-3.0"],
        "exemptedEmissionsPercent": "0.8",
        "exemptedEmissionsDescription": "Laboratory consumables and office energy (cut-off).",
        "allocationRulesDescription": "Mass allocation between Li2CO3 and anhydrous Na2SO4.",
        "secondaryEmissionFactorSources": [{"name": "ecoinvent", "version": "3.10"}],
        "primaryDataShare": "62.5",
        "dqi": {"technologicalDQR": "1.8", "geographicalDQR": "1.5", "temporalDQR": "1.2"},
    },
}

_MINIMAL: dict[str, Any] = {
    "id": "6a1f0c3e-92d4-4b7a-b5e8-0f3d7c2a9e16",
    "specVersion": "3.0.0",
    "created": "2026-02-03T02:15:00Z",
    "status": "Active",
    "companyName": "Minjiang Lithium Materials Co., Ltd.",
    "companyIds": [COMPANY_ID],
    "productDescription": "Battery-grade lithium carbonate, bulk bags.",
    "productIds": [PRODUCT_ID],
    "productNameCompany": "MJ-LC995",
    "pcf": {
        "declaredUnitOfMeasurement": "kilogram",
        "declaredUnitAmount": "1",
        "productMassPerDeclaredUnit": "1",
        "referencePeriodStart": "2025-01-01T00:00:00Z",
        "referencePeriodEnd": "2026-01-01T00:00:00Z",
        "pcfExcludingBiogenicUptake": "12.4",
        "pcfIncludingBiogenicUptake": "12.4",
        "fossilGhgEmissions": "12.4",
        "fossilCarbonContent": "0.1626",
        "ipccCharacterizationFactors": ["AR6"],
        "crossSectoralStandards": ["ISO14067"],
        "exemptedEmissionsPercent": "0",
    },
}

_FULL: dict[str, Any] = {
    "id": FOOTPRINT_ID,
    "specVersion": "3.0.3",
    "precedingPfIds": [PREVIOUS_ID],
    "created": "2026-01-20T00:30:00Z",
    "status": "Active",
    "validityPeriodStart": "2026-01-01T00:00:00+08:00",
    "validityPeriodEnd": "2029-01-01T00:00:00+08:00",
    "companyName": "Minjiang Lithium Materials Co., Ltd.",
    "companyIds": [COMPANY_ID, "urn:pact:gleif.org:lei:5493001KJTIIGC8Y1R12"],
    "productDescription": (
        "Battery-grade lithium carbonate (Li2CO3 >= 99.5 %, D50 3-6 um), 1 t bulk bags on "
        "wooden pallets."
    ),
    "productIds": [PRODUCT_ID, "urn:gtin:06901234567892"],
    "productClassifications": ["urn:pact:wcoomdd.org:hs-code:283691", "urn:cpc:34240"],
    "productNameCompany": "MJ-LC995 battery-grade lithium carbonate",
    "comment": "Replaces the 2024 footprint: new kiln with flue-gas CO2 capture since March.",
    "pcf": {
        "declaredUnitOfMeasurement": "kilogram",
        "declaredUnitAmount": "1000",
        "productMassPerDeclaredUnit": "1000",
        "referencePeriodStart": "2025-01-01T00:00:00+08:00",
        "referencePeriodEnd": "2026-01-01T00:00:00+08:00",
        "geographyCountrySubdivision": "CN-FJ",
        "boundaryProcessesDescription": "Mining to packed product at the Fuzhou plant gate.",
        "pcfExcludingBiogenicUptake": "11460",
        "pcfIncludingBiogenicUptake": "11410",
        "fossilCarbonContent": "162.6",
        "biogenicCarbonContent": "0",
        "recycledCarbonContent": "1.5",
        "fossilGhgEmissions": "11840",
        "landUseChangeGhgEmissions": "30",
        "landCarbonLeakage": "0",
        "landManagementFossilGhgEmissions": "4",
        "landManagementBiogenicCO2Emissions": "10",
        "landManagementBiogenicCO2Removals": "-10",
        "biogenicCO2Uptake": "-50",
        "biogenicNonCO2Emissions": "10",
        "landAreaOccupation": "0.35",
        "aircraftGhgEmissions": "0",
        "packagingEmissionsIncluded": True,
        "packagingGhgEmissions": "61.5",
        "packagingBiogenicCarbonContent": "13.6",
        "outboundLogisticsGhgEmissions": "18.2",
        "ccsTechnologicalCO2CaptureIncluded": True,
        "ccsTechnologicalCO2Capture": "-400",
        "technologicalCO2CaptureOrigin": (
            "Fossil CO2 from the roasting kiln, Fuzhou plant; injected at a saline aquifer "
            "site in the East China Sea shelf basin."
        ),
        "technologicalCO2Removals": "-20",
        "ccuCarbonContent": "2.5",
        "ccuCalculationApproach": "Credit",
        "ccuCreditCertification": "https://registry.example.zone/ccu/certificates/2025-0173",
        "ipccCharacterizationFactors": ["AR5", "AR6"],
        "crossSectoralStandards": ["ISO14067", "ISO14040-44", "GHGP-Product", "PACT-3.0"],
        "productOrSectorSpecificRules": [
            {"operator": "EPD International", "ruleNames": ["PCR 2019:14 Inorganic chemicals"]},
            {
                "operator": "Other",
                "ruleNames": ["Battery materials PCF rules v1.2"],
                "otherOperatorName": "China Battery Materials Alliance",
            },
        ],
        "exemptedEmissionsPercent": "1.2",
        "exemptedEmissionsDescription": "Laboratory consumables, office energy, spare parts.",
        "allocationRulesDescription": "Mass allocation between Li2CO3 and anhydrous Na2SO4.",
        "secondaryEmissionFactorSources": [
            {"name": "ecoinvent", "version": "3.10"},
            {"name": "CLCD", "version": "0.8"},
        ],
        "primaryDataShare": "71.25",
        "dqi": {"technologicalDQR": "1.6", "geographicalDQR": "1.4", "temporalDQR": "1"},
        "verification": {
            "coverage": "product level",
            "providerName": "Haixi Certification & Verification Co.",
            "completedAt": "2026-01-15T10:00:00+08:00",
            "standardName": "ISO 14067:2018",
            "comments": "Limited assurance; site visit to the Fuzhou plant in December 2025.",
        },
    },
    "extensions": [
        {
            "specVersion": "2.0.0",
            "dataSchema": "https://schemas.example.zone/battery-passport/1.0.0/data-model.json",
            "documentation": "https://schemas.example.zone/battery-passport/1.0.0/",
            "data": {"lithiumContentPercent": "18.79", "recycledLithiumPercent": "0"},
        }
    ],
}


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if value is OMIT:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def valid_footprint(**overrides: Any) -> dict[str, Any]:
    """A complete, valid, warning-free footprint; ``pcf={...}`` merges into the pcf."""
    doc = copy.deepcopy(_VALID)
    pcf_overrides = overrides.pop("pcf", None)
    _merge(doc, overrides)
    if pcf_overrides is not None:
        if isinstance(pcf_overrides, dict) and isinstance(doc.get("pcf"), dict):
            _merge(doc["pcf"], copy.deepcopy(pcf_overrides))
        else:
            doc["pcf"] = pcf_overrides
    return doc


def minimal_footprint() -> dict[str, Any]:
    """Only the properties PACT v3 requires."""
    return copy.deepcopy(_MINIMAL)


def full_footprint() -> dict[str, Any]:
    """Every optional property present and valid."""
    return copy.deepcopy(_FULL)
