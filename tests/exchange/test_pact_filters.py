"""The PACT v3 ListFootprints filters (exchange.pact.filters) over stored footprints.

Each criterion positive and negative, OR within a criterion (repeated values and comma
lists), AND across criteria, case-insensitivity, the validity-period fallback, and
values that cannot match (an empty result, never an error).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from django.http import QueryDict
from hypothesis import given
from hypothesis import strategies as st

from exchange import services
from exchange.models import Footprint
from exchange.pact.filters import Criteria, filter_footprints, parse_moment, validity_period
from tests.exchange.helpers import signed_footprint
from tests.exchange.pact_examples import OMIT

PRODUCT = "urn:pact:acme.example:product:"
HS = "urn:pact:wcoomdd.org:hs-code:283691"
CPC = "urn:cpc:3421"


def _submit(cast: Any, **overrides: Any) -> Footprint:
    return services.footprint_submit(
        actor=cast.actor("editor"), jws=signed_footprint(cast, **overrides)
    ).footprint


@dataclass
class World:
    de: Footprint  # DE, explicit validity 2026-01-01 .. 2027-01-01, HS classification
    fr: Footprint  # FR, no validity period: 2026-01-01 .. 2029-01-01 by default, CPC
    region: Footprint  # Europe, validity 2027-06-01 .. 2028-01-01, no classification
    sub: Footprint  # DE-BY, deprecated, validity start only (2026-03-01)
    de_v2: Footprint  # successor of ``de`` naming one more product id; default validity

    def names(self, queryset: Any) -> set[str]:
        by_pk = {
            self.de.pk: "de",
            self.fr.pk: "fr",
            self.region.pk: "region",
            self.sub.pk: "sub",
            self.de_v2.pk: "de_v2",
        }
        return {by_pk[pk] for pk in queryset.values_list("pk", flat=True)}


@pytest.fixture
def world(cast) -> World:
    de = _submit(
        cast,
        productIds=[PRODUCT + "alpha"],
        productClassifications=[HS],
        validityPeriodStart="2026-01-01T00:00:00Z",
        validityPeriodEnd="2027-01-01T00:00:00Z",
        pcf={"geographyCountry": "DE"},
    )
    fr = _submit(
        cast,
        productIds=[PRODUCT + "beta"],
        productClassifications=[CPC],
        validityPeriodStart=OMIT,
        validityPeriodEnd=OMIT,
        pcf={"geographyCountry": "FR"},
    )
    region = _submit(
        cast,
        productIds=[PRODUCT + "gamma"],
        productClassifications=OMIT,
        validityPeriodStart="2027-06-01T00:00:00Z",
        validityPeriodEnd="2028-01-01T00:00:00Z",
        pcf={"geographyCountry": OMIT, "geographyRegionOrSubregion": "Europe"},
    )
    sub = _submit(
        cast,
        productIds=[PRODUCT + "delta"],
        productClassifications=OMIT,
        validityPeriodStart="2026-03-01T00:00:00+01:00",
        validityPeriodEnd=OMIT,
        pcf={"geographyCountry": OMIT, "geographyCountrySubdivision": "DE-BY"},
    )
    services.footprint_deprecate(actor=cast.actor("editor"), footprint=sub, reason="gone")
    de_v2 = _submit(
        cast,
        productIds=[PRODUCT + "alpha", PRODUCT + "alpha-2"],
        productClassifications=[HS],
        precedingPfIds=[str(de.pf_id)],
        validityPeriodStart=OMIT,
        validityPeriodEnd=OMIT,
        pcf={"geographyCountry": "DE"},
    )
    de.refresh_from_db()
    return World(de=de, fr=fr, region=region, sub=sub, de_v2=de_v2)


def run(world: World, **params: Any) -> set[str]:
    return world.names(filter_footprints(Footprint.objects.all(), params))


pytestmark = pytest.mark.django_db


def test_no_criteria_is_everything(world):
    assert run(world) == {"de", "fr", "region", "sub", "de_v2"}


# ---------------------------------------------------------------------- productId


def test_product_id(world):
    assert run(world, productId=[PRODUCT + "beta"]) == {"fr"}
    assert run(world, productId=[PRODUCT + "omega"]) == set()


def test_product_id_is_case_insensitive(world):
    assert run(world, productId=[(PRODUCT + "beta").upper()]) == {"fr"}


def test_product_id_matches_the_document_not_the_product(world):
    # Both versions are of the same product; only the second names "alpha-2".
    assert run(world, productId=[PRODUCT + "alpha-2"]) == {"de_v2"}
    assert run(world, productId=[PRODUCT + "alpha"]) == {"de", "de_v2"}


def test_product_id_or_by_repetition_and_by_comma(world):
    assert run(world, productId=[PRODUCT + "beta", PRODUCT + "gamma"]) == {"fr", "region"}
    assert run(world, productId=[f"{PRODUCT}beta,{PRODUCT}gamma"]) == {"fr", "region"}
    assert run(world, productId=[PRODUCT + "beta", "urn:bogus:x"]) == {"fr"}


# ---------------------------------------------------------------------- companyId


def test_company_id(world, cast):
    urn = cast.acme.identifiers.first().urn
    assert run(world, companyId=[urn]) == {"de", "fr", "region", "sub", "de_v2"}
    assert run(world, companyId=[urn.lower()]) == {"de", "fr", "region", "sub", "de_v2"}
    assert run(world, companyId=["urn:bogus:company:x"]) == set()
    other = cast.other.identifiers.first().urn
    assert run(world, companyId=[other]) == set()
    assert run(world, companyId=[other, urn]) == {"de", "fr", "region", "sub", "de_v2"}


# ---------------------------------------------------------------------- geography


def test_geography_country(world):
    assert run(world, geography=["FR"]) == {"fr"}
    assert run(world, geography=["fr"]) == {"fr"}
    # A country does not take in its subdivisions, nor a region its countries.
    assert run(world, geography=["DE"]) == {"de", "de_v2"}


def test_geography_region_and_subdivision(world):
    assert run(world, geography=["Europe"]) == {"region"}
    assert run(world, geography=["EUROPE"]) == {"region"}
    assert run(world, geography=["de-by"]) == {"sub"}


def test_geography_negative_and_or(world):
    assert run(world, geography=["XX"]) == set()
    assert run(world, geography=["CN"]) == set()
    assert run(world, geography=["FR", "Europe"]) == {"fr", "region"}
    assert run(world, geography=["FR,DE-BY"]) == {"fr", "sub"}


# ----------------------------------------------------------------- classification


def test_classification(world):
    assert run(world, classification=[CPC]) == {"fr"}
    assert run(world, classification=[HS.upper()]) == {"de", "de_v2"}
    assert run(world, classification=["urn:cpc:9999"]) == set()
    assert run(world, classification=[CPC, HS]) == {"fr", "de", "de_v2"}


# ------------------------------------------------------------------------ validity


def test_valid_on(world):
    # de: 2026-01-01..2027-01-01; fr and de_v2: default 2026-01-01..2029-01-01;
    # region: 2027-06-01..2028-01-01; sub: from 2026-02-28T23:00Z to 2029-01-01.
    assert run(world, validOn=["2026-06-01T00:00:00Z"]) == {"de", "fr", "sub", "de_v2"}
    assert run(world, validOn=["2027-07-01T00:00:00Z"]) == {"fr", "region", "sub", "de_v2"}
    assert run(world, validOn=["2025-06-01T00:00:00Z"]) == set()
    assert run(world, validOn=["1900-01-01T00:00:00Z"]) == set()


def test_valid_on_bounds_are_inclusive(world):
    assert "de" in run(world, validOn=["2027-01-01T00:00:00Z"])
    assert "de" in run(world, validOn=["2026-01-01T00:00:00Z"])
    assert "de" not in run(world, validOn=["2027-01-01T00:00:01Z"])


def test_valid_on_uses_the_default_period_without_a_declared_one(world):
    # fr declares none: valid from referencePeriodEnd (2026-01-01) for 3 years.
    assert "fr" in run(world, validOn=["2028-12-31T23:59:59Z"])
    assert "fr" in run(world, validOn=["2029-01-01T00:00:00Z"])
    assert "fr" not in run(world, validOn=["2029-01-01T00:00:01Z"])
    assert "fr" not in run(world, validOn=["2025-12-31T23:59:59Z"])


def test_valid_after(world):
    assert run(world, validAfter=["2026-12-31T00:00:00Z"]) == {"region"}
    assert run(world, validAfter=["2026-02-01T00:00:00Z"]) == {"region", "sub"}
    assert run(world, validAfter=["2099-12-31T23:59:59Z"]) == set()
    # Strictly after: a period starting exactly then does not count.
    assert run(world, validAfter=["2027-06-01T00:00:00Z"]) == set()


def test_valid_before(world):
    assert run(world, validBefore=["2027-02-01T00:00:00Z"]) == {"de"}
    assert run(world, validBefore=["2029-01-01T00:00:01Z"]) == {
        "de",
        "fr",
        "region",
        "sub",
        "de_v2",
    }
    assert run(world, validBefore=["1900-01-01T00:00:00Z"]) == set()
    assert run(world, validBefore=["2027-01-01T00:00:00Z"]) == set()  # strictly before


def test_dates_are_read_leniently(world):
    assert run(world, validBefore=["2027-02-01"]) == {"de"}
    assert run(world, validBefore=["2027-02-01T00:00"]) == {"de"}
    assert run(world, validBefore=["2027-02-01T01:00:00 01:00"]) == {"de"}  # "+" as space
    assert run(world, validOn=["2027-01-01T01:00:00+01:00"]) >= {"de"}


# -------------------------------------------------------------------------- status


def test_status(world):
    assert run(world, status=["Deprecated"]) == {"sub", "de"}
    assert run(world, status=["active"]) == {"fr", "region", "de_v2"}
    assert run(world, status=["Active,Deprecated"]) == {"de", "fr", "region", "sub", "de_v2"}


# ---------------------------------------------------------------- AND, names, bogus


def test_criteria_combine_with_and(world):
    assert run(world, geography=["DE"], status=["Active"]) == {"de_v2"}
    assert run(world, geography=["DE-BY"], status=["Deprecated"]) == {"sub"}
    assert run(world, geography=["FR"], status=["Deprecated"]) == set()
    assert run(world, productId=[PRODUCT + "beta"], classification=[HS]) == set()
    assert run(
        world,
        classification=[HS],
        validOn=["2026-06-01T00:00:00Z"],
        status=["Deprecated"],
    ) == {"de"}


def test_parameter_names_are_case_insensitive_and_others_ignored(world):
    query = QueryDict(mutable=True)
    query.setlist("productid", [PRODUCT + "beta"])
    query.setlist("x-acme-invoice-id", ["42"])
    query.setlist("limit", ["1"])
    assert world.names(filter_footprints(Footprint.objects.all(), query)) == {"fr"}


def test_a_bare_string_is_one_value_and_empty_values_are_ignored(world):
    assert run(world, geography="FR") == {"fr"}
    assert run(world, geography=["", " "]) == {"de", "fr", "region", "sub", "de_v2"}


@pytest.mark.parametrize(
    "params",
    [
        {"validOn": ["not a date"]},
        {"validAfter": ["2026-13-01T00:00:00Z"]},
        {"validBefore": ["yesterday"]},
        {"status": ["Bogus"]},
        {"status": ["Retired"], "geography": ["FR"]},
        {"productId": ["urn:pact:ünïcode"]},
        {"geography": ['"DE"']},
    ],
)
def test_values_that_cannot_match_give_an_empty_result(world, params):
    assert run(world, **params) == set()


def test_filtering_stays_within_the_given_queryset(world):
    only_fr = Footprint.objects.filter(pk=world.fr.pk)
    assert world.names(filter_footprints(only_fr, {"geography": ["DE"]})) == set()
    assert world.names(filter_footprints(only_fr, {"status": ["Active"]})) == {"fr"}
    narrowed = filter_footprints(Footprint.objects.all(), {"geography": ["DE"]})
    assert world.names(narrowed.filter(status="Active")) == {"de_v2"}


def test_extension_data_does_not_fool_the_filters(cast):
    # A document whose extension happens to contain the searched text matches only by
    # what its own properties say.
    decoy = _submit(
        cast,
        productIds=[PRODUCT + "decoy"],
        pcf={"geographyCountry": "CN"},
        extensions=[
            {
                "specVersion": "2.0.0",
                "dataSchema": "https://example.test/schema.json",
                "data": {"geographyCountry": "DE", "productIds": [PRODUCT + "beta"]},
            }
        ],
    )
    found = filter_footprints(Footprint.objects.all(), {"geography": ["DE"]})
    assert decoy.pk not in set(found.values_list("pk", flat=True))
    found = filter_footprints(Footprint.objects.all(), {"productId": [PRODUCT + "beta"]})
    assert decoy.pk not in set(found.values_list("pk", flat=True))


# ------------------------------------------------------------------ pure functions


def test_parse_moment_forms():
    assert parse_moment("2025-04-01") == datetime(2025, 4, 1, tzinfo=UTC)
    assert parse_moment("2025-04-01T00:00Z") == datetime(2025, 4, 1, tzinfo=UTC)
    assert parse_moment("2025-04-01t02:00:00.5+02:00") == datetime(
        2025, 4, 1, 0, 0, 0, 500000, tzinfo=UTC
    )
    for bogus in ("", "2025-02-30", "2025-04-01T25:00:00Z", "01/04/2025", "2025-04-01T00:00+24:00"):
        assert parse_moment(bogus) is None


def test_validity_period_fallbacks():
    end = datetime(2024, 2, 29, tzinfo=UTC)
    assert validity_period({}, end) == (end, datetime(2027, 2, 28, tzinfo=UTC))
    start, stop = validity_period({"validityPeriodEnd": "2025-01-01T00:00:00Z"}, end)
    assert (start, stop) == (end, datetime(2025, 1, 1, tzinfo=UTC))


@given(
    st.lists(
        st.sampled_from(
            ["productId", "ProductID", "geography", "status", "validOn", "x-foo", "classification"]
        ),
        max_size=4,
    ),
    st.lists(
        st.sampled_from(["DE", "", "Active", "2026-01-01", "urn:a:b,urn:c:d", "é"]), min_size=1
    ),
)
def test_parse_never_fails(names, values):
    criteria = Criteria.parse({name: values for name in names})
    assert isinstance(criteria.impossible, bool)


def test_random_criteria_agree_with_a_plain_evaluation(world, cast):
    """filter_footprints against a direct evaluation of the rules on each document."""
    import json

    documents = {
        fp.pk: (json.loads(bytes(fp.canonical_bytes)), fp) for fp in Footprint.objects.all()
    }
    pool = {
        "productId": [PRODUCT + "alpha", PRODUCT + "beta", PRODUCT + "alpha-2", "urn:x:y"],
        "geography": ["DE", "fr", "Europe", "DE-BY", "XX"],
        "classification": [HS, CPC, "urn:cpc:1"],
        "validOn": ["2026-06-01T00:00:00Z", "2027-07-01T00:00:00Z", "2028-12-31T00:00:00Z"],
        "validAfter": ["2026-02-01T00:00:00Z", "2027-01-01T00:00:00Z"],
        "validBefore": ["2027-02-01T00:00:00Z", "2028-06-01T00:00:00Z"],
        "status": ["Active", "Deprecated"],
    }
    rng = random.Random(20260101)

    def check(doc: dict[str, Any], fp: Footprint, name: str, value: str) -> bool:
        start, end = validity_period(doc, fp.reference_period_end)
        moment = parse_moment(value)
        pcf = doc["pcf"]
        if name == "productId":
            return value.lower() in [v.lower() for v in doc["productIds"]]
        if name == "classification":
            return value.lower() in [v.lower() for v in doc.get("productClassifications", [])]
        if name == "geography":
            keys = ("geographyCountry", "geographyRegionOrSubregion", "geographyCountrySubdivision")
            return value.lower() in [str(pcf.get(k, "")).lower() for k in keys]
        if name == "status":
            return fp.status == value
        assert moment is not None
        if name == "validOn":
            return start <= moment <= end
        if name == "validAfter":
            return start > moment
        return end < moment

    def expected(params: dict[str, list[str]]) -> set[int]:
        return {
            pk
            for pk, (doc, fp) in documents.items()
            if all(any(check(doc, fp, n, v) for v in vs) for n, vs in params.items())
        }

    for _ in range(40):
        names = rng.sample(sorted(pool), rng.randint(1, 3))
        params = {n: rng.sample(pool[n], rng.randint(1, 2)) for n in names}
        found = set(filter_footprints(Footprint.objects.all(), params).values_list("pk", flat=True))
        assert found == expected(params), params
