"""A verifier for the cast: an accredited company with people, a platform key and
engagements in any state, made through the services (so every guard runs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from companies import services as company_services
from companies.access import Actor
from companies.models import Company, Membership, SigningKey
from tests.factories import actor_of, add_member, make_company
from verification import services
from verification.models import Accreditation, Engagement, EngagementState

HS_SECTOR = "urn:pact:wcoomdd.org:hs-code:28"  # inorganic chemicals: the cast's Li2CO3


@dataclass
class Verifiers:
    verity: Company
    verity_admin: Membership
    verity_editor: Membership
    verity_viewer: Membership
    key: SigningKey
    accreditation: Accreditation

    def actor(self, who: str = "verity_editor") -> Actor:
        return actor_of(getattr(self, who))


def build_verifiers(cast: Any) -> Verifiers:
    verity = make_company("Verity Assurance GmbH", roles=("verifier",), slug="verity")
    admin = add_member(verity, "verity_admin", "admin")
    editor = add_member(verity, "verity_editor", "editor")
    viewer = add_member(verity, "verity_viewer", "viewer")
    key = company_services.signing_key_create_platform(actor=actor_of(admin), label="attest")
    today = timezone.localdate()
    accreditation = services.accreditation_grant(
        actor=cast.actor("op_admin"),
        verifier=verity,
        body="DAkkS",
        reference="D-VS-12345-01",
        standards=["ISO 14067", "PACT Methodology", "CBAM verification"],
        sectors=[HS_SECTOR],
        valid_from=today - timedelta(days=30),
        valid_until=today + timedelta(days=365),
    )
    return Verifiers(verity, admin, editor, viewer, key, accreditation)


def terms(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "boundary": "cradle-to-gate",
        "materiality_threshold": "5%",
        "opinion": "unqualified",
        "opinion_text": "No material misstatement found in the PCF of lithium carbonate.",
        "valid_until": (timezone.localdate() + timedelta(days=365)).isoformat(),
    }
    values.update(overrides)
    return values


def request_engagement(cast: Any, verifiers: Verifiers, *, footprints=None, **fields: Any):
    footprints = footprints if footprints is not None else [cast.footprint]
    values: dict[str, Any] = {
        "standard": "ISO 14067",
        "assurance_level": "limited",
        "coverage": "product level",
        "message": "Please verify our 2025 lithium carbonate PCF.",
    }
    values.update(fields)
    return services.engagement_request(
        actor=cast.actor("editor"),
        verifier=verifiers.verity,
        footprint_ids=[str(fp.pf_id) for fp in footprints],
        **values,
    )


def digests(engagement: Engagement) -> dict[str, str]:
    return {str(fp.pf_id): fp.sha256 for fp in engagement.footprints.all()}


def engagement_in(cast: Any, verifiers: Verifiers, state: str, **fields: Any) -> Engagement:
    """An engagement brought to ``state`` by the legal path."""
    engagement = request_engagement(cast, verifiers, **fields)
    v = verifiers.actor()
    if state == EngagementState.REQUESTED:
        return engagement
    if state == EngagementState.DECLINED:
        return services.engagement_decline(actor=v, engagement=engagement, reason="No capacity")
    engagement = services.engagement_accept(actor=v, engagement=engagement)
    if state == EngagementState.ACCEPTED:
        return engagement
    engagement = services.engagement_start_review(actor=v, engagement=engagement)
    if state == EngagementState.IN_REVIEW:
        return engagement
    if state == EngagementState.CHANGES_REQUESTED:
        return services.engagement_request_changes(
            actor=v, engagement=engagement, note="Add the electricity invoices"
        )
    if state == EngagementState.REFUSED:
        return services.engagement_refuse(actor=v, engagement=engagement, reason="Data unusable")
    if engagement.standard == "CBAM verification":
        services.site_visit_record(
            actor=v, engagement=engagement, date=date.today(), mode="physical"
        )
    services.engagement_attest(
        actor=v,
        engagement=engagement,
        terms=services.clean_terms(terms()),
        footprint_digests=digests(engagement),
    )
    engagement.refresh_from_db()
    if state == EngagementState.ATTESTED:
        return engagement
    if state == EngagementState.REVOKED:
        return services.engagement_revoke(actor=v, engagement=engagement, reason="Error found")
    if state == EngagementState.EXPIRED:
        assert engagement.valid_until is not None
        services.engagements_expire(now=engagement.valid_until + timedelta(seconds=1))
        engagement.refresh_from_db()
        return engagement
    raise ValueError(state)
