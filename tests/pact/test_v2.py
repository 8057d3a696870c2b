"""PACT v2.3 reads (``/2/footprints``) over HTTPS: the same footprints as ``/3`` in the
v2.3 data model, v2.3 errors, pagination, and the optional ``$filter``."""

from __future__ import annotations

import pytest

from tests.pact.conftest import BETA_PRODUCT, PRODUCT, collect, ids_of

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
V3_ONLY = {
    "declaredUnitOfMeasurement",
    "declaredUnitAmount",
    "pcfExcludingBiogenicUptake",
    "pcfIncludingBiogenicUptake",
    "landUseChangeGhgEmissions",
    "biogenicCO2Uptake",
    "ipccCharacterizationFactors",
}


def test_v2_list_is_the_same_footprints_as_v3(buyer, world):
    v2 = collect(buyer, "/2/footprints")
    assert set(ids_of(v2)) == world.visible_to_buyer
    assert set(ids_of(v2)) == set(ids_of(collect(buyer, "/3/footprints")))


def test_v2_documents_use_v2_names(buyer, world):
    v3 = buyer.get(f"/3/footprints/{world.id('B')}").json()["data"]
    v2 = buyer.get(f"/2/footprints/{world.id('B')}").json()["data"]
    assert v2["id"] == v3["id"]
    assert v2["specVersion"] == "2.3.0"
    assert v2["version"] == 1
    assert v2["status"] == "Active"
    assert "updated" not in v2
    for key in ("created", "companyName", "companyIds", "productIds", "productNameCompany"):
        assert v2[key] == v3[key]
    assert v2["productCategoryCpc"] == "46410"  # from the urn:cpc: classification
    pcf2, pcf3 = v2["pcf"], v3["pcf"]
    assert not V3_ONLY & set(pcf2)
    assert pcf2["declaredUnit"] == pcf3["declaredUnitOfMeasurement"]
    assert pcf2["unitaryProductAmount"] == pcf3["declaredUnitAmount"]
    assert pcf2["pCfExcludingBiogenic"] == pcf3["pcfExcludingBiogenicUptake"]
    assert pcf2["pCfIncludingBiogenic"] == pcf3["pcfIncludingBiogenicUptake"]
    assert pcf2["dLucGhgEmissions"] == pcf3["landUseChangeGhgEmissions"]
    assert pcf2["biogenicCarbonWithdrawal"] == pcf3["biogenicCO2Uptake"]
    assert pcf2["ipccCharacterizationFactorsSources"] == pcf3["ipccCharacterizationFactors"]
    assert pcf2["characterizationFactors"] == "AR6"
    assert pcf2["crossSectoralStandards"] == ["ISO14067", "GHGP Product", "PACT Methodology 3.0"]
    assert pcf2["crossSectoralStandardsUsed"] == [
        "ISO Standard 14067",
        "GHG Protocol Product standard",
    ]
    assert pcf2["exemptedEmissionsPercent"] == 0.8  # a JSON number in v2
    assert pcf2["primaryDataShare"] == 62.5
    assert pcf2["dqi"] == {"technologicalDQR": 1.8, "geographicalDQR": 1.5, "temporalDQR": 1.2}
    assert pcf2["geographyCountry"] == "FR"
    assert pcf2["referencePeriodEnd"] == pcf3["referencePeriodEnd"]


def test_a_deprecated_footprint_is_a_later_v2_version(buyer, world):
    v2 = buyer.get(f"/2/footprints/{world.id('A1')}").json()["data"]
    assert v2["status"] == "Deprecated"
    assert v2["version"] == 2
    assert v2["updated"].endswith("Z")
    assert world.id("A2") in v2["statusComment"]


def test_verification_becomes_assurance(buyer, world):
    from datetime import timedelta

    from django.utils import timezone

    from exchange.models import Footprint

    Footprint.objects.filter(pk=world.footprints["G"].pk).update(
        verification={"coverage": "product level", "providerName": "Verifier Ltd"},
        verification_until=timezone.now() + timedelta(days=1),
    )
    v2 = buyer.get(f"/2/footprints/{world.id('G')}").json()["data"]
    assert v2["pcf"]["assurance"] == {
        "assurance": True,
        "coverage": "product level",
        "providerName": "Verifier Ltd",
    }
    assert "verification" not in v2 and "verification" not in v2["pcf"]


@pytest.mark.parametrize("letter", ["D", "E", "F"])
def test_v2_hidden_footprints_are_indistinguishable_from_unknown_ones(buyer, world, letter):
    hidden = buyer.get(f"/2/footprints/{world.id(letter)}")
    unknown = buyer.get(f"/2/footprints/{UNKNOWN_ID}")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["code"] == unknown.json()["code"] == "NoSuchFootprint"
    assert hidden.json()["message"].replace(world.id(letter), "<id>") == unknown.json()[
        "message"
    ].replace(UNKNOWN_ID, "<id>")


def test_v2_pagination_follows_links(buyer, world):
    found = collect(buyer, "/2/footprints", limit=2)
    assert len(found) == len(world.visible_to_buyer)
    assert set(ids_of(found)) == world.visible_to_buyer
    first = buyer.get("/2/footprints", params={"limit": 2})
    assert first.links["next"]["url"].startswith("https://")
    # A v3 link is not a v2 link.
    v3_link = buyer.get("/3/footprints", params={"limit": 2}).links["next"]["url"]
    assert buyer.get(v3_link.replace("/3/", "/2/")).status_code == 400


def test_v3_filter_parameters_are_not_v2_and_are_ignored(buyer, world):
    assert set(ids_of(collect(buyer, "/2/footprints", geography="DE"))) == world.visible_to_buyer


# ---------------------------------------------------------------------------- $filter


def _filtered(buyer, statement: str, **params) -> set[str]:
    return set(ids_of(collect(buyer, "/2/footprints", **{"$filter": statement}, **params)))


def test_filter_created(buyer, world):
    assert _filtered(buyer, "created ge '2026-02-01T00:00:00Z'") == world.ids("A2", "B")
    assert _filtered(buyer, "created lt 2026-01-15T00:00:00Z") == world.ids("A1")
    assert _filtered(buyer, "created eq '2026-05-01T00:00:00Z'") == world.ids("A2")
    assert _filtered(buyer, "created gt '2030-01-01T00:00:00Z'") == set()


def test_filter_updated_only_matches_changed_footprints(buyer, world):
    assert _filtered(buyer, "updated ge '2000-01-01T00:00:00Z'") == world.ids("A1")


def test_filter_ids_geography_and_cpc(buyer, world):
    alpha = PRODUCT + "alpha"
    assert _filtered(buyer, f"productIds/any(p:(p eq '{alpha}'))") == world.ids("A1", "A2")
    beta = world.beta.identifiers.first().urn
    assert _filtered(buyer, f"companyIds/any(c: c eq '{beta}')") == world.ids("G")
    assert _filtered(buyer, "pcf/geographyCountry eq 'FR'") == world.ids("B", "G")
    assert _filtered(buyer, "productCategoryCpc eq '46410'") == world.ids("B")
    # The hidden footprints stay hidden.
    zeta = BETA_PRODUCT + "zeta"
    assert _filtered(buyer, f"productIds/any(p:(p eq '{zeta}'))") == set()
    assert _filtered(buyer, "pcf/geographyCountry eq 'XX'") == set()


def test_filter_conjunction_and_pagination(buyer, world):
    statement = "(pcf/geographyCountry eq 'FR') and (created ge '2026-02-01T00:00:00Z')"
    assert _filtered(buyer, statement) == world.ids("B")
    assert _filtered(buyer, "pcf/geographyCountry eq 'FR'", limit=1) == world.ids("B", "G")


@pytest.mark.parametrize(
    "statement",
    [
        "created ge '2026-01-01T00:00:00Z' or created lt '2020-01-01T00:00:00Z'",
        "not (created ge '2026-01-01T00:00:00Z')",
        "companyName eq 'Acme'",
        "created ne '2026-01-01T00:00:00Z'",
        "productIds/any(p:(p ne 'x'))",
        "contains(productNameCompany, 'x')",
    ],
)
def test_unsupported_filters_are_not_implemented(buyer, world, statement):
    response = buyer.get("/2/footprints", params={"$filter": statement})
    assert response.status_code == 400
    assert response.json()["code"] == "NotImplemented"


@pytest.mark.parametrize(
    "statement",
    ["created ge", "(created ge '2026-01-01T00:00:00Z'", "created ge 'never'", "created ge '2026"],
)
def test_malformed_filters_are_bad_requests(buyer, world, statement):
    response = buyer.get("/2/footprints", params={"$filter": statement})
    assert response.status_code == 400
    assert response.json()["code"] == "BadRequest"


def test_v2_reads_are_recorded(buyer, world):
    import json

    from audit.models import AuditEntry

    buyer.get(f"/2/footprints/{world.id('B')}")
    entry = AuditEntry.objects.filter(type="footprint.pulled").order_by("-seq").first()
    payload = json.loads(bytes(entry.payload))
    assert payload == {"channel": "pact-v2", "footprints": [world.id("B")]}
