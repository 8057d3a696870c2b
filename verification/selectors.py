"""Reads of the verification workflow, scoped to the acting company.

An engagement is visible to its two parties only; its evidence never leaves them.
The registry of accredited verifiers and the public documents (DID documents,
status lists, credentials by id for their parties) are the only wider reads.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from companies.access import Actor
from companies.errors import NotFound
from companies.models import Company, CompanyStatus

from .models import (
    Accreditation,
    Attestation,
    Engagement,
    EngagementState,
    Evidence,
    Finding,
    StatusList,
)


def accreditations_in_force() -> QuerySet[Accreditation]:
    today = timezone.localdate()
    return Accreditation.objects.filter(
        suspended_at__isnull=True, valid_from__lte=today, valid_until__gte=today
    )


def verifier_registry(*, standard: str = "", sector: str = "") -> QuerySet[Company]:
    """Active verifier companies with an accreditation in force, optionally for a
    standard and a sector (a classification URN their accreditation covers)."""
    accreditations = accreditations_in_force().filter(verifier=OuterRef("pk"))
    verifiers = Company.objects.filter(is_verifier=True, status=CompanyStatus.ACTIVE).annotate(
        accredited=Exists(accreditations)
    )
    verifiers = verifiers.filter(accredited=True)
    if standard or sector:
        matching = [
            a.verifier_id
            for a in accreditations_in_force()
            if (not standard or standard in a.standards)
            and (not sector or any(sector.startswith(s) for s in a.sectors))
        ]
        verifiers = verifiers.filter(pk__in=matching)
    return verifiers.prefetch_related("identifiers").order_by("legal_name")


def accreditations_for_operator(*, actor: Actor) -> QuerySet[Accreditation]:
    actor.require_operator(to="see all accreditations")
    return Accreditation.objects.select_related("verifier")


def accreditation_get_for_operator(*, actor: Actor, accreditation_id: int) -> Accreditation:
    accreditation = accreditations_for_operator(actor=actor).filter(pk=accreditation_id).first()
    if accreditation is None:
        raise NotFound("no such accreditation")
    return accreditation


def engagements_of(*, actor: Actor, side: str = "") -> QuerySet[Engagement]:
    """Engagements the acting company is a party to (``side``: supplier / verifier)."""
    company = actor.company
    if side == "supplier":
        scope = Q(supplier=company)
    elif side == "verifier":
        scope = Q(verifier=company)
    else:
        scope = Q(supplier=company) | Q(verifier=company)
    return Engagement.objects.filter(scope).select_related("supplier", "verifier")


def engagement_get(*, actor: Actor, engagement_id: Any) -> Engagement:
    try:
        pk = int(engagement_id)
    except (TypeError, ValueError):
        raise NotFound(f"no engagement {engagement_id!r}") from None
    engagement = engagements_of(actor=actor).filter(pk=pk).first()
    if engagement is None:
        raise NotFound(f"no engagement {pk} involving your company")
    return engagement


def engagement_footprints(engagement: Engagement) -> QuerySet[Any]:
    return engagement.footprints.select_related("product", "signing_key").order_by("product_name")


def evidence_of(engagement: Engagement) -> QuerySet[Evidence]:
    return engagement.evidence.defer("content")


def evidence_get(*, actor: Actor, engagement: Engagement, evidence_id: Any) -> Evidence:
    engagement_get(actor=actor, engagement_id=engagement.pk)  # the parties only
    try:
        pk = int(evidence_id)
    except (TypeError, ValueError):
        raise NotFound(f"no evidence {evidence_id!r}") from None
    evidence = Evidence.objects.filter(engagement=engagement, pk=pk).first()
    if evidence is None:
        raise NotFound(f"no evidence {pk} in engagement {engagement.pk}")
    return evidence


def findings_of(engagement: Engagement) -> QuerySet[Finding]:
    return engagement.findings.prefetch_related("messages__by_company", "messages__by_user")


def finding_get(*, engagement: Engagement, number: Any) -> Finding:
    try:
        value = int(number)
    except (TypeError, ValueError):
        raise NotFound(f"no finding {number!r}") from None
    finding = engagement.findings.filter(number=value).first()
    if finding is None:
        raise NotFound(f"no finding {value} in engagement {engagement.pk}")
    return finding


def attestations_of(*, actor: Actor) -> QuerySet[Attestation]:
    """Credentials the company issued (as verifier) or received (as supplier)."""
    company = actor.company
    return Attestation.objects.filter(
        Q(verifier=company) | Q(engagement__supplier=company)
    ).select_related("engagement", "footprint", "verifier", "engagement__supplier")


def attestation_get(*, actor: Actor, credential_id: str) -> Attestation:
    attestation = attestations_of(actor=actor).filter(credential_id=credential_id).first()
    if attestation is None:
        raise NotFound(f"no credential {credential_id} issued by or for your company")
    return attestation


def attestation_state(attestation: Attestation) -> str:
    if attestation.revoked_at is not None:
        return "revoked"
    if attestation.valid_until <= timezone.now():
        return "expired"
    return "valid"


def status_list_get(list_id: Any) -> StatusList:
    try:
        pk = int(list_id)
    except (TypeError, ValueError):
        raise NotFound(f"no status list {list_id!r}") from None
    status_list = StatusList.objects.filter(pk=pk).first()
    if status_list is None:
        raise NotFound(f"no status list {pk}")
    return status_list


def company_for_did(slug: str) -> Company:
    company = Company.objects.filter(slug=slug).exclude(status=CompanyStatus.PENDING).first()
    if company is None:
        raise NotFound(f"no company {slug!r}")
    return company


def inbox_counts(*, actor: Actor) -> dict[str, int]:
    """Engagements per state on the verifier side (the workspace's tabs)."""
    counts = dict.fromkeys(EngagementState.values, 0)
    for state in engagements_of(actor=actor, side="verifier").values_list("state", flat=True):
        counts[state] += 1
    return counts
