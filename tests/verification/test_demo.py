"""The demo zone's verification story (verification.demo via ``manage.py seed_demo``)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from exchange.demo import demo_pf_id
from exchange.models import Footprint
from exchange.selectors import footprint_document
from verification.models import Attestation, Engagement, EngagementState

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _throwaway_audit_log_key(settings, tmp_path):
    settings.AUDIT_LOG_KEY_FILE = str(tmp_path / "audit-log-key.pem")


def test_the_demo_zone_has_a_verified_an_in_review_and_a_revoked_footprint():
    call_command("seed_demo", quiet=True, stdout=io.StringIO())
    call_command("seed_demo", quiet=True, stdout=io.StringIO())  # idempotent
    states = {
        engagement.footprints.get().pf_id: engagement.state
        for engagement in Engagement.objects.all()
    }
    assert states == {
        demo_pf_id("li2co3-v2"): EngagementState.ATTESTED,
        demo_pf_id("ncm811-v1"): EngagementState.IN_REVIEW,
        demo_pf_id("al-v2"): EngagementState.REVOKED,
    }
    in_review = Engagement.objects.get(state=EngagementState.IN_REVIEW)
    assert in_review.findings.get().is_open
    assert Attestation.objects.filter(revoked_at__isnull=False).count() == 1

    verified = footprint_document(Footprint.objects.get(pf_id=demo_pf_id("li2co3-v2")))
    assert verified["pcf"]["verification"]["providerName"].startswith("Zone Carbon Verification")
    revoked = footprint_document(Footprint.objects.get(pf_id=demo_pf_id("al-v2")))
    assert "verification" not in revoked["pcf"]
    credential = json.loads(Attestation.objects.get(revoked_at__isnull=True).credential)
    assert credential["credentialSubject"]["siteVisits"][0]["mode"] == "physical"
