"""Verification in the demo zone (called by ``manage.py seed_demo`` after the footprints).

The zone's verifier is accredited; the lithium carbonate footprint is verified, the
cathode footprint is in review with an open material finding, and the aluminium
footprint's attestation was revoked. Everything goes through the services, so the
audit log and the status list tell the same story. Seeding twice changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from companies.access import Actor
from companies.models import Company, Membership
from exchange.demo import demo_pf_id

from . import services
from .models import Accreditation, Engagement

ACCREDITATION = ("CNAS", "CNAS-GHG-V-0042")


def _actor(slug: str, role: str = "admin") -> Actor:
    company = Company.objects.get(slug=slug)
    member = (
        Membership.objects.filter(company=company, role=role).select_related("user").first()
        or Membership.objects.filter(company=company).select_related("user").first()
    )
    return Actor(
        company=company,
        role=member.role if member else "admin",
        user=member.user if member else None,
    )


def _engage(supplier: str, footprint_key: str, message: str) -> Engagement:
    supplier_actor = _actor(supplier)
    engagement = services.engagement_request(
        actor=supplier_actor,
        verifier=Company.objects.get(slug="verifier"),
        footprint_ids=[str(demo_pf_id(footprint_key))],
        standard="ISO 14067",
        assurance_level="limited",
        coverage="product level",
        message=message,
    )
    verifier = _actor("verifier", "editor")
    engagement = services.engagement_accept(actor=verifier, engagement=engagement)
    return services.engagement_start_review(actor=verifier, engagement=engagement)


def _attest(engagement: Engagement, opinion_text: str) -> None:
    verifier = _actor("verifier", "editor")
    services.engagement_attest(
        actor=verifier,
        engagement=engagement,
        terms=services.clean_terms(
            {
                "boundary": "cradle-to-gate",
                "materiality_threshold": "5% of the PCF",
                "opinion": "unqualified",
                "opinion_text": opinion_text,
                "valid_until": (timezone.localdate() + timedelta(days=365)).isoformat(),
            }
        ),
        footprint_digests={str(fp.pf_id): fp.sha256 for fp in engagement.footprints.all()},
    )


@transaction.atomic
def seed(stdout: Any = None) -> int:
    if Accreditation.objects.filter(body=ACCREDITATION[0], reference=ACCREDITATION[1]).exists():
        return 0
    today = timezone.localdate()
    services.accreditation_grant(
        actor=_actor("zone-operator"),
        verifier=Company.objects.get(slug="verifier"),
        body=ACCREDITATION[0],
        reference=ACCREDITATION[1],
        standards=["ISO 14067", "ISO 14064-3", "PACT Methodology", "CBAM verification"],
        sectors=["urn:pact:cpc:34", "urn:pact:cpc:41", "urn:pact:cpc:46"],
        valid_from=today - timedelta(days=200),
        valid_until=today + timedelta(days=3 * 365),
    )
    verifier = _actor("verifier", "editor")

    verified = _engage(
        "li-refinery", "li2co3-v2", "Please verify the 2025 PCF of battery-grade Li2CO3."
    )
    services.site_visit_record(
        actor=verifier,
        engagement=verified,
        date=today - timedelta(days=20),
        mode="physical",
        location="Yichun refinery, kiln line 2",
    )
    _attest(verified, "Nothing came to our attention that the PCF is materially misstated.")

    in_review = _engage(
        "cathode-maker", "ncm811-v1", "Verification of our NCM811 cathode PCF for 2025."
    )
    services.finding_raise(
        actor=verifier,
        engagement=in_review,
        title="Electricity emission factor out of date",
        materiality="material",
        body=(
            "The PCF uses the 2019 East China grid factor; the 2023 factor published by the "
            "Ministry of Ecology and Environment applies to the 2025 reference period."
        ),
    )

    revoked = _engage("al-smelter", "al-v2", "Verification of our hydro-powered aluminium PCF.")
    _attest(revoked, "The PCF is fairly stated under the disclosed PPA evidence.")
    revoked.refresh_from_db()
    services.engagement_revoke(
        actor=verifier,
        engagement=revoked,
        reason="The power purchase agreement covered only 60% of the smelter's 2025 load.",
    )
    if stdout is not None:
        stdout.write("Verification: 1 verified footprint, 1 in review, 1 revoked attestation.")
    return 3
