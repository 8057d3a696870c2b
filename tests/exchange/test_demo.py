"""The demo zone's footprints (exchange.demo via ``manage.py seed_demo``): seeded once
however often the command runs, some deprecated by newer versions, all verifiable."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from audit.models import AuditEntry
from exchange.demo import DEMO, demo_pf_id
from exchange.models import Footprint, Product, ProductIdentifier
from exchange.pact.validation import validate_product_footprint
from exchange.selectors import footprint_document
from exchange.signing import parse_signed_footprint, verify_signed_footprint
from trust import jws, keys

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _throwaway_audit_log_key(settings, tmp_path):
    settings.AUDIT_LOG_KEY_FILE = str(tmp_path / "audit-log-key.pem")


@pytest.fixture
def seeded(db):
    call_command("seed_demo", "--quiet", stdout=io.StringIO())


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Footprint, Product, ProductIdentifier, AuditEntry)
    }


def test_seeding_twice_gives_the_same_eight_footprints(seeded):
    first = counts()
    assert first["Footprint"] == len(DEMO) == 8

    call_command("seed_demo", "--quiet", stdout=io.StringIO())

    assert counts() == first


def test_two_demo_footprints_are_deprecated_by_newer_versions(seeded):
    deprecated = Footprint.objects.filter(status="Deprecated")
    assert {f.pf_id for f in deprecated} == {demo_pf_id("li2co3-v1"), demo_pf_id("al-v1")}
    for old_key, new_key in (("li2co3-v1", "li2co3-v2"), ("al-v1", "al-v2")):
        old = Footprint.objects.get(pf_id=demo_pf_id(old_key))
        new = Footprint.objects.get(pf_id=demo_pf_id(new_key))
        assert list(new.preceding.all()) == [old]
        assert old.deprecation_reason == f"superseded by {new.pf_id}"
        assert footprint_document(old)["status"] == "Deprecated"
        assert new.status == "Active"
    assert Footprint.objects.filter(status="Active").count() == 6


def test_every_demo_footprint_verifies_against_its_signing_key(seeded):
    for footprint in Footprint.objects.select_related("signing_key", "company"):
        canonical = bytes(footprint.canonical_bytes)
        public_key = keys.public_key_from_jwk(footprint.signing_key.public_jwk)

        parsed = jws.verify_compact(footprint.jws, public_key)  # the JWS alone verifies
        assert parsed.payload == canonical
        signed = parse_signed_footprint(footprint.jws)
        verify_signed_footprint(signed, footprint.signing_key.public_jwk)
        assert signed.canonical == canonical
        assert footprint.sha256 == hashlib.sha256(canonical).hexdigest()
        assert footprint.signing_key.company_id == footprint.company_id
        assert footprint.signing_key.revoked_at is None
        assert footprint.platform_signed is True


def test_every_demo_footprint_is_valid_pact_of_its_company(seeded):
    for footprint in Footprint.objects.select_related("company"):
        document = json.loads(bytes(footprint.canonical_bytes))
        assert validate_product_footprint(document) == [], footprint.pf_id
        assert document["companyName"] == footprint.company.legal_name
        assert document["companyIds"] == [
            i.urn for i in footprint.company.identifiers.order_by("id")
        ]
        assert document["status"] == "Active"  # as signed


def test_demo_values_are_of_a_realistic_order_of_magnitude(seeded):
    expected = {  # kg CO2e per declared unit, cradle to gate
        "li2co3-v2": (Decimal(5), Decimal(25)),
        "ncm811-v1": (Decimal(10), Decimal(50)),
        "cell-v1": (Decimal(40), Decimal(150)),  # per kWh
        "al-v2": (Decimal(4), Decimal(20)),
        "hrc-v1": (Decimal("0.3"), Decimal(3)),
    }
    for key, (low, high) in expected.items():
        footprint = Footprint.objects.get(pf_id=demo_pf_id(key))
        assert low <= Decimal(footprint.pcf_excluding_biogenic_uptake) <= high, key


def test_demo_reference_periods_reach_into_2025(seeded):
    for footprint in Footprint.objects.filter(status="Active"):
        assert footprint.reference_period_end > datetime(2025, 1, 1, tzinfo=UTC)
        assert footprint.reference_period_start >= datetime(2024, 1, 1, tzinfo=UTC)
