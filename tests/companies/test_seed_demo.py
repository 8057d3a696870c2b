"""The demo zone: seeded idempotently, every company usable from the start."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from audit.models import AuditEntry
from companies.identifiers import normalize_identifier
from companies.management.commands.seed_demo import DEMO_PASSWORD, ZONE
from companies.models import Company, Membership, SigningKey
from tests.companies.helpers import row_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):
    call_command("seed_demo", "--quiet", stdout=io.StringIO())


def test_seeding_twice_changes_nothing(seeded):
    first = row_counts()
    assert first["Company"] == len(ZONE)
    out = io.StringIO()
    call_command("seed_demo", "--quiet", stdout=out)
    assert row_counts() == first
    assert out.getvalue() == ""


def test_every_demo_company_is_active_with_a_valid_identifier(seeded):
    for company in Company.objects.prefetch_related("identifiers"):
        assert company.status == "active", company.slug
        urns = [identifier.urn for identifier in company.identifiers.all()]
        assert urns, company.slug
        for urn in urns:
            scheme, normalised = normalize_identifier(urn)
            assert scheme in ("uscc", "lei") and normalised == urn


def test_every_demo_company_has_an_admin(seeded):
    for company in Company.objects.all():
        assert Membership.objects.filter(company=company, role="admin").exists(), company.slug


def test_every_supplier_has_an_active_signing_key(seeded):
    suppliers = Company.objects.filter(is_supplier=True)
    assert suppliers.count() >= 6
    for company in suppliers:
        assert SigningKey.objects.filter(company=company, revoked_at__isnull=True).exists(), (
            company.slug
        )


def test_the_zone_has_every_role(seeded):
    assert Company.objects.filter(is_operator=True).count() == 1
    assert Company.objects.filter(is_verifier=True).exists()
    assert Company.objects.filter(is_buyer=True, is_supplier=False).exists()


def test_one_person_belongs_to_two_companies(seeded):
    memberships = Membership.objects.filter(user__username="consultant")
    assert {m.company.slug for m in memberships} == {"li-refinery", "al-smelter"}


def test_seeding_is_audited_once(seeded):
    onboarded = AuditEntry.objects.filter(type="company.onboarded").count()
    assert onboarded == len(ZONE)
    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    assert AuditEntry.objects.filter(type="company.onboarded").count() == onboarded


def test_the_demo_logins_work(seeded):
    client = Client()
    response = client.post("/accounts/login/", {"username": "li.admin", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    me = client.get("/api/v1/me").json()
    assert (me["company"]["slug"], me["role"]) == ("li-refinery", "admin")


def test_without_quiet_it_prints_the_logins(db):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert DEMO_PASSWORD in text
    assert "li.admin" in text and "consultant" in text


def test_the_demo_log_has_a_checkpoint_over_everything_seeded(seeded):
    from audit.models import Checkpoint, LogHead

    assert Checkpoint.objects.order_by("-size").first().size == LogHead.objects.get().size
