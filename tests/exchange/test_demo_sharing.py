"""The demo zone's sharing story (exchange.demo.seed_sharing via ``manage.py seed_demo``):
europa-auto's supply chain is partly covered, every supplier's side of it is there, and
seeding again changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from audit.models import AuditEntry
from companies.models import Company, Membership
from exchange.demo import CATHODE_PART_NUMBER, REJECTION, demo_pf_id
from exchange.models import (
    AccessGrant,
    AutoFulfilRule,
    DataRequest,
    PartNumber,
    RequestStatus,
    ZonePublication,
)
from exchange.selectors import visible_footprints

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
        for model in (
            DataRequest,
            AccessGrant,
            AutoFulfilRule,
            PartNumber,
            ZonePublication,
            AuditEntry,
        )
    }


def requests_of(buyer: str) -> dict[str, DataRequest]:
    return {
        r.supplier.slug: r
        for r in DataRequest.objects.filter(buyer__slug=buyer).select_related("supplier")
    }


def test_seeding_twice_changes_nothing(seeded):
    first = counts()
    assert first["DataRequest"] == 6

    call_command("seed_demo", "--quiet", stdout=io.StringIO())

    assert counts() == first


def test_europa_autos_supply_chain_is_partly_covered(seeded):
    made = requests_of("europa-auto")
    assert {slug: r.status for slug, r in made.items()} == {
        "li-refinery": RequestStatus.FULFILLED,
        "steel-mill": RequestStatus.FULFILLED,
        "cell-maker": RequestStatus.FULFILLED,
        "cathode-maker": RequestStatus.PENDING,
        "al-smelter": RequestStatus.REJECTED,
    }
    assert made["al-smelter"].reason == REJECTION
    assert made["cathode-maker"].part_number == CATHODE_PART_NUMBER
    assert made["cathode-maker"].due_date is not None
    # li-refinery sent the one footprint; steel-mill the whole product (future versions).
    lithium = AccessGrant.objects.get(buyer__slug="europa-auto", supplier__slug="li-refinery")
    assert lithium.footprint is not None and lithium.footprint.pf_id == demo_pf_id("li2co3-v2")
    steel = AccessGrant.objects.get(buyer__slug="europa-auto", supplier__slug="steel-mill")
    assert steel.footprint is None and steel.product is not None
    assert steel.request == made["steel-mill"]
    # cell-maker's rule answered without a person.
    rule = AutoFulfilRule.objects.get(supplier__slug="cell-maker", buyer__slug="europa-auto")
    assert made["cell-maker"].answered_by_rule == rule
    assert made["cell-maker"].answered_by is None


def test_what_europa_auto_sees(seeded):
    europa = Company.objects.get(slug="europa-auto")
    seen = {fp.pf_id for fp in visible_footprints(europa)}
    for key in ("li2co3-v2", "hrc-v1", "cell-v1", "pack-v1"):  # pack-v1: zone
        assert demo_pf_id(key) in seen, key
    for key in ("li2co3-v1", "ncm811-v1", "al-v1", "al-v2"):
        assert demo_pf_id(key) not in seen, key
    assert ZonePublication.objects.get().footprint.pf_id == demo_pf_id("pack-v1")


def test_the_part_number_is_on_file_and_matches_the_pending_request(seeded):
    from exchange.sharing import request_matches

    mapping = PartNumber.objects.get(supplier__slug="cathode-maker", buyer__slug="europa-auto")
    assert mapping.part_number == CATHODE_PART_NUMBER
    pending = requests_of("europa-auto")["cathode-maker"]
    assert [fp.pf_id for fp in request_matches(pending)] == [demo_pf_id("ncm811-v1")]


def test_li_refinery_has_a_pending_request_in_its_inbox(seeded):
    made = requests_of("cathode-maker")
    assert made["li-refinery"].status == RequestStatus.PENDING


def test_europa_autos_dashboard_tells_the_story(seeded):
    client = Client()
    client.force_login(Membership.objects.get(user__username="auto.buyer").user)
    response = client.get("/footprints/supply-chain/")
    assert response.status_code == 200
    totals = response.context["totals"]
    # li-refinery's footprint was verified by the verification demo (seeded after).
    assert (totals["products"], totals["received"], totals["verified"], totals["pending"]) == (
        5,
        3,
        1,
        1,
    )
    text = response.content.decode()
    assert "5 products: 3 received, 1 verified" in text
    assert "Our 2025 aluminium PCF is being re-verified" in text
    assert f"part number {CATHODE_PART_NUMBER}" in text
