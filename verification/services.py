"""Writes of the verification workflow: every transition is a service with its guards.

The state machine (``TRANSITIONS``) says which side moves an engagement from which
state to which; each service checks the acting company's side and role, the rules
of the step (accreditation, independence, rotation, open findings, site visit,
digests) and then changes the state and appends its audit entry in one transaction.
A refusal names the field and the rule and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_append
from companies.access import Actor, system_actor
from companies.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from companies.models import Company, CompanyStatus, KeyCustody, MemberRole, Membership, SigningKey
from companies.services import signing_key_create_platform, signing_key_private
from exchange.models import Footprint, FootprintStatus
from trust import did as trust_did
from trust import statuslist
from trust.dataintegrity import ProofOptions, add_proof
from trust.jcs import canonicalize

from .models import (
    OPEN_STATES,
    SITE_VISIT_STANDARDS,
    Accreditation,
    AssuranceLevel,
    Attestation,
    Coverage,
    Engagement,
    EngagementEvent,
    EngagementState,
    Evidence,
    Finding,
    FindingMessage,
    Materiality,
    Opinion,
    SiteVisit,
    Standard,
    StatusList,
    VisitMode,
    ZonePolicy,
)

S = EngagementState
SUPPLIER, VERIFIER = "supplier", "verifier"

#: (from state, action) → (side that may act, to state).
TRANSITIONS: dict[tuple[str, str], tuple[str, str]] = {
    (S.REQUESTED, "accept"): (VERIFIER, S.ACCEPTED),
    (S.REQUESTED, "decline"): (VERIFIER, S.DECLINED),
    (S.ACCEPTED, "start_review"): (VERIFIER, S.IN_REVIEW),
    (S.IN_REVIEW, "request_changes"): (VERIFIER, S.CHANGES_REQUESTED),
    (S.CHANGES_REQUESTED, "resubmit"): (SUPPLIER, S.IN_REVIEW),
    (S.IN_REVIEW, "attest"): (VERIFIER, S.ATTESTED),
    (S.IN_REVIEW, "refuse"): (VERIFIER, S.REFUSED),
    (S.ATTESTED, "revoke"): (VERIFIER, S.REVOKED),
    (S.ATTESTED, "expire"): ("system", S.EXPIRED),
}

ACTION_LABELS = {
    "accept": "accept",
    "decline": "decline",
    "start_review": "start the review of",
    "request_changes": "request changes to",
    "resubmit": "resubmit",
    "attest": "attest",
    "refuse": "refuse",
    "revoke": "revoke",
    "expire": "expire",
}

CREDENTIALS_CONTEXT = "https://www.w3.org/ns/credentials/v2"
CREDENTIAL_TYPE = "ProductFootprintVerificationCredential"
MAX_VALIDITY_DAYS = 3 * 366
MAX_TEXT = 5000


def _audit(actor: Actor, type: str, subject: str, **payload: Any) -> None:
    audit_append(
        type=type,
        actor=actor.audit_ref,
        company=actor.company.slug,
        subject=subject,
        payload=payload,
    )


def _text(value: Any, field: str, *, required: bool, max_length: int = MAX_TEXT) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise ValidationFailed.single(field, "must be text")
    if required and not text:
        raise ValidationFailed.single(field, "is required")
    if len(text) > max_length:
        raise ValidationFailed.single(field, f"must be at most {max_length} characters")
    return text


def _choice(value: Any, field: str, choices: type[Any]) -> str:
    if value not in choices.values:
        raise ValidationFailed.single(
            field, f"must be one of {', '.join(repr(v) for v in choices.values)}; got {value!r}"
        )
    return str(value)


# --------------------------------------------------------------------- accreditation


def _clean_sectors(sectors: Iterable[Any]) -> list[str]:
    cleaned = []
    for index, sector in enumerate(sectors):
        if not isinstance(sector, str) or not sector.strip().lower().startswith("urn:"):
            raise ValidationFailed.single(
                f"sectors[{index}]",
                "must be a classification URN or URN prefix, e.g. urn:pact:cpc:41",
            )
        cleaned.append(sector.strip())
    if not cleaned:
        raise ValidationFailed.single("sectors", "name at least one sector (classification prefix)")
    return cleaned


@transaction.atomic
def accreditation_grant(
    *,
    actor: Actor,
    verifier: Company,
    body: str,
    reference: str,
    standards: Sequence[str],
    sectors: Sequence[str],
    valid_from: date,
    valid_until: date,
) -> Accreditation:
    """The operator records a verifier's accreditation by a named body."""
    actor.require_operator(to="accredit verifiers")
    actor.require_role(MemberRole.ADMIN, to="accredit verifiers")
    actor.require_writable()
    if not verifier.is_verifier:
        raise ValidationFailed.single(
            "verifier", f"{verifier.legal_name} does not hold the verifier role in the zone"
        )
    body = _text(body, "body", required=True, max_length=200)
    reference = _text(reference, "reference", required=True, max_length=100)
    if not standards:
        raise ValidationFailed.single("standards", "name at least one standard")
    cleaned_standards = [
        _choice(s, f"standards[{i}]", Standard) for i, s in enumerate(dict.fromkeys(standards))
    ]
    cleaned_sectors = _clean_sectors(sectors)
    if valid_until < valid_from:
        raise ValidationFailed.single("valid_until", "must not be before valid_from")
    if Accreditation.objects.filter(body=body, reference=reference).exists():
        raise Conflict(f"reference: {body} {reference} is already recorded", field="reference")
    accreditation = Accreditation.objects.create(
        verifier=verifier,
        body=body,
        reference=reference,
        standards=cleaned_standards,
        sectors=cleaned_sectors,
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=actor.user,
    )
    _audit(
        actor,
        "accreditation.granted",
        f"accreditation:{accreditation.pk}",
        verifier=verifier.slug,
        body=body,
        reference=reference,
        standards=cleaned_standards,
        sectors=cleaned_sectors,
        valid_from=valid_from.isoformat(),
        valid_until=valid_until.isoformat(),
    )
    return accreditation


@transaction.atomic
def accreditation_suspend(
    *, actor: Actor, accreditation: Accreditation, reason: str
) -> Accreditation:
    """Suspend at once: the verifier can attest nothing under it from now on."""
    actor.require_operator(to="suspend accreditations")
    actor.require_role(MemberRole.ADMIN, to="suspend accreditations")
    actor.require_writable()
    reason = _text(reason, "reason", required=True, max_length=500)
    updated = Accreditation.objects.filter(pk=accreditation.pk, suspended_at__isnull=True).update(
        suspended_at=timezone.now(), suspension_reason=reason
    )
    if not updated:
        raise Conflict("the accreditation is already suspended", field="accreditation")
    accreditation.refresh_from_db()
    _audit(
        actor,
        "accreditation.suspended",
        f"accreditation:{accreditation.pk}",
        verifier=accreditation.verifier.slug,
        reason=reason,
    )
    return accreditation


@transaction.atomic
def accreditation_reinstate(*, actor: Actor, accreditation: Accreditation) -> Accreditation:
    actor.require_operator(to="reinstate accreditations")
    actor.require_role(MemberRole.ADMIN, to="reinstate accreditations")
    actor.require_writable()
    updated = Accreditation.objects.filter(pk=accreditation.pk, suspended_at__isnull=False).update(
        suspended_at=None, suspension_reason=""
    )
    if not updated:
        raise Conflict("the accreditation is not suspended", field="accreditation")
    accreditation.refresh_from_db()
    _audit(
        actor,
        "accreditation.reinstated",
        f"accreditation:{accreditation.pk}",
        verifier=accreditation.verifier.slug,
    )
    return accreditation


@transaction.atomic
def zone_policy_set(*, actor: Actor, max_consecutive_years: int | None) -> ZonePolicy:
    """The operator's rotation rule: at most N consecutive years with one supplier."""
    actor.require_operator(to="set the zone's verification policy")
    actor.require_role(MemberRole.ADMIN, to="set the zone's verification policy")
    actor.require_writable()
    if max_consecutive_years is not None and not 1 <= max_consecutive_years <= 50:
        raise ValidationFailed.single(
            "max_consecutive_years", "must be between 1 and 50, or empty for no rotation rule"
        )
    policy = zone_policy()
    policy.max_consecutive_years = max_consecutive_years
    policy.save()
    _audit(actor, "zone_policy.changed", "zone_policy", max_consecutive_years=max_consecutive_years)
    return policy


def zone_policy() -> ZonePolicy:
    policy, _ = ZonePolicy.objects.get_or_create(pk=1)
    return policy


def _sectors_of(footprints: Sequence[Footprint]) -> list[list[str]]:
    return [list(fp.product.classifications or []) for fp in footprints]


def _in_sector(classifications: Sequence[str], sectors: Sequence[str]) -> bool:
    return any(c.startswith(s) for c in classifications for s in sectors)


def accreditation_covering(
    verifier: Company, standard: str, footprints: Sequence[Footprint], *, on: date | None = None
) -> Accreditation | None:
    """The verifier's accreditation in force ``on`` that covers the standard and the
    sector of every footprint's product; None if there is none."""
    day = on or timezone.localdate()
    candidates = Accreditation.objects.filter(
        verifier=verifier, suspended_at__isnull=True, valid_from__lte=day, valid_until__gte=day
    ).order_by("-valid_until", "-id")
    sectors = _sectors_of(footprints)
    for accreditation in candidates:
        if standard in accreditation.standards and all(
            _in_sector(product_sectors, accreditation.sectors) for product_sectors in sectors
        ):
            return accreditation
    return None


def _require_accreditation(
    verifier: Company, standard: str, footprints: Sequence[Footprint], *, field: str
) -> Accreditation:
    accreditation = accreditation_covering(verifier, standard, footprints)
    if accreditation is not None:
        return accreditation
    unclassified = [str(fp.product_name) for fp in footprints if not fp.product.classifications]
    if unclassified:
        raise ValidationFailed.single(
            "footprint_ids",
            f"the product(s) {', '.join(unclassified)} have no classification, so no "
            "verifier's sector accreditation can cover them: add a classification "
            "(e.g. urn:pact:cpc:…) to the product",
        )
    raise ValidationFailed.single(
        field,
        f"{verifier.legal_name} holds no accreditation in force (not suspended, not "
        f"expired) for {standard} in the sector of these products",
    )


# ---------------------------------------------------------------------- independence


def shares_members(supplier: Company, verifier: Company) -> bool:
    supplier_people = Membership.objects.filter(company=supplier).values("user_id")
    return Membership.objects.filter(company=verifier, user_id__in=supplier_people).exists()


def consecutive_years_if_attested(supplier: Company, verifier: Company, year: int) -> int:
    """How many consecutive calendar years, ending this one, the verifier would have
    attested the supplier in if it attested again in ``year``."""
    years = {
        d.year
        for d in Engagement.objects.filter(
            supplier=supplier, verifier=verifier, attested_at__isnull=False
        ).dates("attested_at", "year")
    }
    years.add(year)
    run = 0
    while year - run in years:
        run += 1
    return run


def _require_independent(supplier: Company, verifier: Company) -> None:
    if supplier.pk == verifier.pk:
        raise ValidationFailed.single("verifier", "a company cannot verify its own footprints")
    if shares_members(supplier, verifier):
        raise ValidationFailed.single(
            "verifier",
            f"{verifier.legal_name} is not independent of {supplier.legal_name}: the two "
            "companies share members",
        )
    limit = zone_policy().max_consecutive_years
    if limit is not None:
        run = consecutive_years_if_attested(supplier, verifier, timezone.localdate().year)
        if run > limit:
            raise ValidationFailed.single(
                "verifier",
                f"rotation rule: {verifier.legal_name} has attested {supplier.legal_name} in "
                f"the last {run - 1} consecutive years; the zone allows at most {limit}",
            )


# ----------------------------------------------------------------------- engagements


def _require_side(actor: Actor, engagement: Engagement, side: str, *, to: str) -> None:
    company_id = engagement.supplier_id if side == SUPPLIER else engagement.verifier_id
    if actor.company.pk != company_id:
        if actor.company.pk in (engagement.supplier_id, engagement.verifier_id):
            raise PermissionDenied(f"only the {side} of the engagement may {to}", field="state")
        raise NotFound("no such engagement")
    actor.require_role(MemberRole.EDITOR, to=to)
    actor.require_writable()


def _locked(engagement: Engagement) -> Engagement:
    return Engagement.objects.select_for_update().get(pk=engagement.pk)


def _guard(actor: Actor, engagement: Engagement, action: str) -> tuple[str, str]:
    """Refuse ``action`` unless the actor's company may take it now: non-parties get
    "not found", then the state must allow the action, then the side and the role
    must be right. Returns (side, next state)."""
    step = TRANSITIONS.get((engagement.state, action))
    if step is not None and step[0] == "system":
        return step
    if actor.company.pk not in (engagement.supplier_id, engagement.verifier_id):
        raise NotFound("no such engagement")
    if step is None:
        allowed = sorted(a for (state, a) in TRANSITIONS if state == engagement.state)
        raise Conflict(
            f"state: cannot {ACTION_LABELS[action]} an engagement that is "
            f"{engagement.get_state_display().lower()}"
            + (f"; possible now: {', '.join(allowed)}" if allowed else ""),
            field="state",
        )
    _require_side(actor, engagement, step[0], to=f"{ACTION_LABELS[action]} this engagement")
    return step


def _transition(
    actor: Actor, engagement: Engagement, action: str, *, note: str = "", **payload: Any
) -> Engagement:
    """Move a (locked) engagement by ``action``, with its event and audit entry."""
    _, to_state = _guard(actor, engagement, action)
    from_state = engagement.state
    now = timezone.now()
    engagement.state = to_state
    engagement.state_changed_at = now
    if note:
        engagement.state_reason = note
    engagement.save(update_fields=["state", "state_changed_at", "state_reason"])
    EngagementEvent.objects.create(
        engagement=engagement,
        from_state=from_state,
        to_state=to_state,
        note=note,
        by_company=actor.company,
        by_user=actor.user,
    )
    _audit(
        actor,
        f"engagement.{to_state}",
        f"engagement:{engagement.pk}",
        supplier=engagement.supplier.slug,
        verifier=engagement.verifier.slug,
        from_state=from_state,
        note_sha256=hashlib.sha256(note.encode()).hexdigest() if note else None,
        **payload,
    )
    return engagement


@transaction.atomic
def engagement_request(
    *,
    actor: Actor,
    verifier: Company,
    footprint_ids: Sequence[Any],
    standard: str,
    assurance_level: str,
    coverage: str,
    message: str = "",
) -> Engagement:
    """The supplier asks ``verifier`` to verify some of its footprints."""
    actor.require_role(MemberRole.EDITOR, to="request verifications")
    actor.require_writable()
    supplier = actor.company
    errors: dict[str, list[str]] = {}
    for field, value, choices in (
        ("standard", standard, Standard),
        ("assurance_level", assurance_level, AssuranceLevel),
        ("coverage", coverage, Coverage),
    ):
        try:
            _choice(value, field, choices)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    message = _text(message, "message", required=False)
    if not verifier.is_verifier or verifier.status != CompanyStatus.ACTIVE:
        raise ValidationFailed.single(
            "verifier", f"{verifier.legal_name} is not an active verifier of the zone"
        )
    _require_independent(supplier, verifier)
    footprints = _own_active_footprints(supplier, footprint_ids)
    _require_accreditation(verifier, standard, footprints, field="verifier")
    duplicate = Engagement.objects.filter(
        verifier=verifier,
        supplier=supplier,
        standard=standard,
        state__in=OPEN_STATES,
        footprints__in=footprints,
    ).first()
    if duplicate is not None:
        raise Conflict(
            f"footprint_ids: engagement {duplicate.pk} with {verifier.legal_name} for "
            f"{standard} already covers one of these footprints and is still open",
            field="footprint_ids",
        )
    engagement = Engagement.objects.create(
        supplier=supplier,
        verifier=verifier,
        standard=standard,
        assurance_level=assurance_level,
        coverage=coverage,
        message=message,
        requested_by=actor.user,
    )
    engagement.footprints.set(footprints)
    EngagementEvent.objects.create(
        engagement=engagement,
        to_state=S.REQUESTED,
        note=message,
        by_company=supplier,
        by_user=actor.user,
    )
    _audit(
        actor,
        "engagement.requested",
        f"engagement:{engagement.pk}",
        supplier=supplier.slug,
        verifier=verifier.slug,
        standard=standard,
        assurance_level=assurance_level,
        coverage=coverage,
        footprints=[str(fp.pf_id) for fp in footprints],
    )
    return engagement


def _own_active_footprints(supplier: Company, footprint_ids: Sequence[Any]) -> list[Footprint]:
    if not footprint_ids:
        raise ValidationFailed.single("footprint_ids", "choose at least one footprint to verify")
    if len(footprint_ids) > 500:
        raise ValidationFailed.single("footprint_ids", "at most 500 footprints per engagement")
    wanted: list[uuid.UUID] = []
    for index, raw in enumerate(footprint_ids):
        try:
            wanted.append(uuid.UUID(str(raw)))
        except ValueError:
            raise ValidationFailed.single(
                f"footprint_ids[{index}]", f"{raw!r} is not a footprint id (UUID)"
            ) from None
    found = {
        fp.pf_id: fp
        for fp in Footprint.objects.filter(company=supplier, pf_id__in=wanted).select_related(
            "product"
        )
    }
    footprints = []
    for index, pf_id in enumerate(dict.fromkeys(wanted)):
        footprint = found.get(pf_id)
        if footprint is None:
            raise ValidationFailed.single(
                f"footprint_ids[{index}]", f"no footprint {pf_id} in your company"
            )
        if footprint.status != FootprintStatus.ACTIVE:
            raise ValidationFailed.single(
                f"footprint_ids[{index}]",
                f"footprint {pf_id} is deprecated; only active footprints can be verified",
            )
        footprints.append(footprint)
    return footprints


@transaction.atomic
def engagement_accept(*, actor: Actor, engagement: Engagement, note: str = "") -> Engagement:
    engagement = _locked(engagement)
    _guard(actor, engagement, "accept")
    footprints = list(engagement.footprints.select_related("product"))
    _require_independent(engagement.supplier, engagement.verifier)
    _require_accreditation(
        engagement.verifier, engagement.standard, footprints, field="accreditation"
    )
    return _transition(actor, engagement, "accept", note=_text(note, "note", required=False))


def _step(
    actor: Actor, engagement: Engagement, action: str, *, text: str = "", field: str = ""
) -> Engagement:
    """A step whose only input is a required reason or note (``field``), or none."""
    engagement = _locked(engagement)
    _guard(actor, engagement, action)
    note = _text(text, field, required=True) if field else ""
    return _transition(actor, engagement, action, note=note)


@transaction.atomic
def engagement_decline(*, actor: Actor, engagement: Engagement, reason: str) -> Engagement:
    return _step(actor, engagement, "decline", text=reason, field="reason")


@transaction.atomic
def engagement_start_review(*, actor: Actor, engagement: Engagement) -> Engagement:
    return _step(actor, engagement, "start_review")


@transaction.atomic
def engagement_request_changes(*, actor: Actor, engagement: Engagement, note: str) -> Engagement:
    return _step(actor, engagement, "request_changes", text=note, field="note")


@transaction.atomic
def engagement_resubmit(*, actor: Actor, engagement: Engagement, note: str) -> Engagement:
    return _step(actor, engagement, "resubmit", text=note, field="note")


@transaction.atomic
def engagement_refuse(*, actor: Actor, engagement: Engagement, reason: str) -> Engagement:
    return _step(actor, engagement, "refuse", text=reason, field="reason")


# -------------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class EvidenceType:
    content_type: str
    label: str


EVIDENCE_TYPES: Mapping[str, EvidenceType] = {
    ".pdf": EvidenceType("application/pdf", "PDF"),
    ".xlsx": EvidenceType(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel workbook"
    ),
    ".csv": EvidenceType("text/csv", "CSV"),
    ".png": EvidenceType("image/png", "PNG image"),
    ".jpg": EvidenceType("image/jpeg", "JPEG image"),
    ".jpeg": EvidenceType("image/jpeg", "JPEG image"),
}


def _content_matches(extension: str, data: bytes) -> bool:
    """Whether the bytes are what the extension says (a renamed executable is not a PDF)."""
    if extension == ".pdf":
        return data.startswith(b"%PDF-")
    if extension == ".xlsx":
        return data.startswith(b"PK\x03\x04") and b"[Content_Types].xml" in data[:65536]
    if extension == ".png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if extension in (".jpg", ".jpeg"):
        return data.startswith(b"\xff\xd8\xff")
    if extension == ".csv":
        if b"\x00" in data:
            return False
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return False
        return True
    return False


def _clean_file_name(file_name: str) -> str:
    name = PurePath((file_name or "").replace("\\", "/")).name.strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?')
    if not name:
        raise ValidationFailed.single("file", "the file has no name")
    return name[-200:]


@transaction.atomic
def evidence_add(
    *, actor: Actor, engagement: Engagement, file_name: str, data: bytes, description: str = ""
) -> Evidence:
    """The supplier adds an evidence file while the engagement is open."""
    engagement = _locked(engagement)
    _require_side(actor, engagement, SUPPLIER, to="add evidence")
    if not engagement.is_open:
        raise Conflict(
            f"state: evidence can be added only while the engagement is open; it is "
            f"{engagement.get_state_display().lower()}",
            field="state",
        )
    name = _clean_file_name(file_name)
    extension = PurePath(name.lower()).suffix
    kind = EVIDENCE_TYPES.get(extension)
    if kind is None:
        allowed = ", ".join(sorted({e.lstrip(".").upper() for e in EVIDENCE_TYPES}))
        raise ValidationFailed.single(
            "file", f"{name}: files of type {extension or '(none)'} are not accepted; use {allowed}"
        )
    limit = settings.EVIDENCE_MAX_BYTES
    if len(data) > limit:
        raise ValidationFailed.single(
            "file", f"{name}: {len(data):,} bytes is over the limit of {limit:,} bytes"
        )
    if not data:
        raise ValidationFailed.single("file", f"{name}: the file is empty")
    if not _content_matches(extension, data):
        raise ValidationFailed.single(
            "file", f"{name}: the content is not a {kind.label} file (its bytes do not match)"
        )
    digest = hashlib.sha256(data).hexdigest()
    evidence = Evidence.objects.create(
        engagement=engagement,
        file_name=name,
        content_type=kind.content_type,
        size=len(data),
        sha256=digest,
        content=data,
        description=_text(description, "description", required=False, max_length=500),
        uploaded_by=actor.user,
    )
    _audit(
        actor,
        "evidence.added",
        f"engagement:{engagement.pk}",
        evidence=evidence.pk,
        sha256=digest,
        size=len(data),
        content_type=kind.content_type,
    )
    return evidence


# -------------------------------------------------------------------------- findings


def _require_party(actor: Actor, engagement: Engagement, *, to: str) -> str:
    if actor.company.pk == engagement.verifier_id:
        side = VERIFIER
    elif actor.company.pk == engagement.supplier_id:
        side = SUPPLIER
    else:
        raise NotFound("no such engagement")
    actor.require_role(MemberRole.EDITOR, to=to)
    actor.require_writable()
    return side


def _require_reviewing(engagement: Engagement, what: str) -> None:
    if engagement.state not in (S.IN_REVIEW, S.CHANGES_REQUESTED):
        raise Conflict(
            f"state: {what} only while the engagement is in review or changes are requested; "
            f"it is {engagement.get_state_display().lower()}",
            field="state",
        )


@transaction.atomic
def finding_raise(
    *, actor: Actor, engagement: Engagement, title: str, materiality: str, body: str
) -> Finding:
    engagement = _locked(engagement)
    _require_side(actor, engagement, VERIFIER, to="raise findings")
    _require_reviewing(engagement, "findings can be raised")
    title = _text(title, "title", required=True, max_length=200)
    materiality = _choice(materiality, "materiality", Materiality)
    body = _text(body, "body", required=True)
    number = engagement.findings.count() + 1
    finding = Finding.objects.create(
        engagement=engagement, number=number, title=title, materiality=materiality
    )
    FindingMessage.objects.create(
        finding=finding, body=body, by_company=actor.company, by_user=actor.user
    )
    _audit(
        actor,
        "finding.raised",
        f"engagement:{engagement.pk}",
        finding=number,
        materiality=materiality,
    )
    return finding


@transaction.atomic
def finding_reply(*, actor: Actor, finding: Finding, body: str) -> FindingMessage:
    engagement = _locked(finding.engagement)
    _require_party(actor, engagement, to="answer findings")
    if not engagement.is_open:
        raise Conflict("state: the engagement is closed; the thread is read-only", field="state")
    body = _text(body, "body", required=True)
    message = FindingMessage.objects.create(
        finding=finding, body=body, by_company=actor.company, by_user=actor.user
    )
    _audit(actor, "finding.answered", f"engagement:{engagement.pk}", finding=finding.number)
    return message


@transaction.atomic
def finding_resolve(*, actor: Actor, finding: Finding, note: str = "") -> Finding:
    engagement = _locked(finding.engagement)
    _require_side(actor, engagement, VERIFIER, to="resolve findings")
    _require_reviewing(engagement, "findings can be resolved")
    updated = Finding.objects.filter(pk=finding.pk, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )
    if not updated:
        raise Conflict(f"finding {finding.number} is already resolved", field="finding")
    note = _text(note, "note", required=False)
    if note:
        FindingMessage.objects.create(
            finding=finding, body=note, by_company=actor.company, by_user=actor.user
        )
    finding.refresh_from_db()
    _audit(actor, "finding.resolved", f"engagement:{engagement.pk}", finding=finding.number)
    return finding


@transaction.atomic
def site_visit_record(
    *,
    actor: Actor,
    engagement: Engagement,
    date: date,
    mode: str,
    location: str = "",
    notes: str = "",
) -> SiteVisit:
    engagement = _locked(engagement)
    _require_side(actor, engagement, VERIFIER, to="record site visits")
    if engagement.state not in (S.ACCEPTED, S.IN_REVIEW, S.CHANGES_REQUESTED):
        raise Conflict(
            "state: site visits are recorded between acceptance and the decision", field="state"
        )
    mode = _choice(mode, "mode", VisitMode)
    if date > timezone.localdate():
        raise ValidationFailed.single("date", "a site visit is recorded once it has happened")
    visit = SiteVisit.objects.create(
        engagement=engagement,
        date=date,
        mode=mode,
        location=_text(location, "location", required=False, max_length=300),
        notes=_text(notes, "notes", required=False),
        recorded_by=actor.user,
    )
    _audit(
        actor,
        "site_visit.recorded",
        f"engagement:{engagement.pk}",
        date=date.isoformat(),
        mode=mode,
    )
    return visit


# ----------------------------------------------------------------------- attestations


@dataclass(frozen=True)
class AttestationTerms:
    """What the verifier states, beside what the engagement fixes."""

    boundary: str
    materiality_threshold: str
    opinion: str
    opinion_text: str
    valid_until: date


def clean_terms(data: Mapping[str, Any]) -> AttestationTerms:
    errors: dict[str, list[str]] = {}

    def take(field: str, fn: Any) -> Any:
        try:
            return fn()
        except ValidationFailed as exc:
            errors.update(exc.errors)
            return None

    boundary = take(
        "boundary", lambda: _text(data.get("boundary"), "boundary", required=True, max_length=200)
    )
    threshold = take(
        "materiality_threshold",
        lambda: _text(
            data.get("materiality_threshold"), "materiality_threshold", required=True, max_length=50
        ),
    )
    opinion = take("opinion", lambda: _choice(data.get("opinion"), "opinion", Opinion))
    opinion_text = take(
        "opinion_text", lambda: _text(data.get("opinion_text"), "opinion_text", required=True)
    )
    valid_until = data.get("valid_until")
    if isinstance(valid_until, str):
        try:
            valid_until = date.fromisoformat(valid_until)
        except ValueError:
            valid_until = None
    if not isinstance(valid_until, date):
        errors["valid_until"] = ["must be a date (YYYY-MM-DD)"]
    else:
        today = timezone.localdate()
        if valid_until <= today:
            errors["valid_until"] = ["must be after today"]
        elif valid_until > today + timedelta(days=MAX_VALIDITY_DAYS):
            errors["valid_until"] = ["must be at most three years ahead"]
    if errors:
        raise ValidationFailed(errors)
    assert isinstance(valid_until, date)
    return AttestationTerms(boundary, threshold, opinion, opinion_text, valid_until)


def company_did(company: Company) -> str:
    return trust_did.did_web(settings.DID_WEB_HOST, "companies", company.slug)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _end_of_day(day: date) -> datetime:
    """A credential is valid to the end of its last day, in UTC."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def _public_url(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}"


def status_list_url(status_list: StatusList) -> str:
    return _public_url(f"/credentials/status/{status_list.pk}")


def credential_draft(
    engagement: Engagement,
    footprint: Footprint,
    terms: AttestationTerms,
    accreditation: Accreditation,
) -> dict[str, Any]:
    """The credential as it will be signed, but for ``id``, ``validFrom`` and
    ``credentialStatus`` (assigned when signing) and the proof."""
    verifier = engagement.verifier
    supplier = engagement.supplier
    subject: dict[str, Any] = {
        "type": "ProductFootprintVerification",
        "footprintId": str(footprint.pf_id),
        "footprintDigest": footprint.sha256,
        "digestAlgorithm": "sha-256 of the RFC 8785 (JCS) bytes",
        "productName": footprint.product_name,
        "supplier": {"name": supplier.legal_name, "ids": sorted(supplier_ids(supplier))},
        "standard": engagement.standard,
        "assuranceLevel": engagement.assurance_level,
        "coverage": engagement.coverage,
        "boundary": terms.boundary,
        "materialityThreshold": terms.materiality_threshold,
        "opinion": terms.opinion,
        "opinionText": terms.opinion_text,
        "accreditation": {"body": accreditation.body, "reference": accreditation.reference},
        "engagement": str(engagement.pk),
    }
    visits = list(engagement.site_visits.all())
    if visits:
        subject["siteVisits"] = [{"date": v.date.isoformat(), "mode": v.mode} for v in visits]
    return {
        "@context": [CREDENTIALS_CONTEXT],
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "issuer": {"id": company_did(verifier), "name": verifier.legal_name},
        "validUntil": _stamp(_end_of_day(terms.valid_until)),
        "credentialSubject": subject,
    }


def supplier_ids(company: Company) -> list[str]:
    return [identifier.urn for identifier in company.identifiers.all()]


def _attest_key(actor: Actor, kid: str | None) -> SigningKey:
    keys = SigningKey.objects.filter(
        company=actor.company, custody=KeyCustody.PLATFORM, revoked_at__isnull=True
    ).order_by("-valid_from")
    if kid:
        key = SigningKey.objects.filter(kid=kid).first()
        if key is None or key.company_id != actor.company.pk:
            raise ValidationFailed.single("kid", f"{kid} is not a signing key of your company")
        if key.revoked_at is not None:
            raise ValidationFailed.single("kid", f"the key {kid} is revoked")
        if key.custody != KeyCustody.PLATFORM:
            raise ValidationFailed.single(
                "kid",
                f"the key {kid} is held by your company, not the platform; the platform can "
                "sign only with a platform-held key",
            )
        return key
    key = keys.first()
    if key is None:
        raise ValidationFailed.single(
            "kid",
            "your company has no active platform-held signing key: create one under Signing keys",
        )
    return key


def _allocate_status_slot() -> tuple[StatusList, int]:
    """A random unused index of a revocation list (random, so that an index says
    nothing about when or by whom a credential was issued)."""
    size = settings.STATUS_LIST_SIZE
    status_list = (
        StatusList.objects.select_for_update()
        .filter(purpose="revocation", next_index__lt=size // 2)
        .order_by("id")
        .first()
    )
    if status_list is None:
        status_list = StatusList.objects.create(purpose="revocation", size=size)
        status_list = StatusList.objects.select_for_update().get(pk=status_list.pk)
    used = set(
        Attestation.objects.filter(status_list=status_list).values_list("status_index", flat=True)
    )
    generator = secrets.SystemRandom()
    while True:
        index = generator.randrange(status_list.size)
        if index not in used:
            break
    status_list.next_index += 1
    status_list.save(update_fields=["next_index"])
    return status_list, index


@transaction.atomic
def engagement_attest(
    *,
    actor: Actor,
    engagement: Engagement,
    terms: AttestationTerms,
    footprint_digests: Mapping[str, str],
    kid: str | None = None,
) -> list[Attestation]:
    """Sign one credential per footprint of the engagement and mark it attested.

    ``footprint_digests`` maps each footprint id to the SHA-256 the verifier reviewed:
    it must be exactly the engagement's footprints with their stored digests, so a
    verifier never attests a document other than the one it saw.
    """
    engagement = _locked(engagement)
    _guard(actor, engagement, "attest")
    footprints = list(engagement.footprints.select_related("product"))
    accreditation = _require_accreditation(
        engagement.verifier, engagement.standard, footprints, field="accreditation"
    )
    _check_digests(footprints, footprint_digests)
    for footprint in footprints:
        if footprint.status != FootprintStatus.ACTIVE:
            raise ValidationFailed.single(
                "footprint_digests",
                f"footprint {footprint.pf_id} was deprecated during the review; a deprecated "
                "footprint cannot be attested",
            )
    open_material = engagement.findings.filter(
        materiality=Materiality.MATERIAL, resolved_at__isnull=True
    ).count()
    if open_material:
        raise Conflict(
            f"findings: {open_material} material finding(s) are still open; resolve them or "
            "refuse the engagement",
            field="findings",
        )
    if engagement.standard in SITE_VISIT_STANDARDS and not engagement.site_visits.exists():
        raise Conflict(
            f"site_visits: {engagement.standard} requires a site visit; record it first",
            field="site_visits",
        )
    key = _attest_key(actor, kid)
    private_key = signing_key_private(key)
    verification_method = f"{company_did(actor.company)}#{key.kid}"
    now = timezone.now().replace(microsecond=0)
    valid_until = _end_of_day(terms.valid_until)
    attestations = []
    for footprint in footprints:
        status_list, index = _allocate_status_slot()
        credential_id = f"urn:uuid:{uuid.uuid4()}"
        document = {
            **credential_draft(engagement, footprint, terms, accreditation),
            "id": credential_id,
            "validFrom": _stamp(now),
            "credentialStatus": statuslist.status_entry(status_list_url(status_list), index),
        }
        signed = add_proof(
            document,
            private_key,
            ProofOptions(verification_method=verification_method, created=_stamp(now)),
        )
        attestations.append(
            Attestation.objects.create(
                credential_id=credential_id,
                engagement=engagement,
                footprint=footprint,
                verifier=actor.company,
                signing_key=key,
                credential=json.dumps(signed, ensure_ascii=False, indent=None).encode(),
                footprint_sha256=footprint.sha256,
                issued_at=now,
                valid_until=valid_until,
                status_list=status_list,
                status_index=index,
            )
        )
    engagement.attested_at = now
    engagement.valid_until = valid_until
    engagement.save(update_fields=["attested_at", "valid_until"])
    _transition(
        actor,
        engagement,
        "attest",
        credentials=[a.credential_id for a in attestations],
        credential_sha256=[
            hashlib.sha256(canonicalize(json.loads(bytes(a.credential)))).hexdigest()
            for a in attestations
        ],
        signing_key=key.kid,
        valid_until=_stamp(valid_until),
    )
    for footprint in footprints:
        refresh_footprint_verification(footprint)
    return attestations


def _check_digests(footprints: Sequence[Footprint], given: Mapping[str, str]) -> None:
    expected = {str(fp.pf_id): fp.sha256 for fp in footprints}
    if not isinstance(given, Mapping) or set(given) != set(expected):
        raise ValidationFailed.single(
            "footprint_digests",
            "must give the SHA-256 you reviewed for exactly the engagement's footprints: "
            + ", ".join(sorted(expected)),
        )
    for pf_id, digest in given.items():
        if str(digest).lower() != expected[pf_id]:
            raise ValidationFailed.single(
                f"footprint_digests.{pf_id}",
                f"the digest {digest} does not match the stored footprint ({expected[pf_id]}); "
                "the attestation must name the exact document reviewed",
            )


@transaction.atomic
def engagement_revoke(*, actor: Actor, engagement: Engagement, reason: str) -> Engagement:
    """Revoke the engagement's credentials: their status-list bits are set at once."""
    engagement = _locked(engagement)
    _guard(actor, engagement, "revoke")
    reason = _text(reason, "reason", required=True, max_length=500)
    _transition(actor, engagement, "revoke", note=reason)
    now = timezone.now()
    engagement.attestations.filter(revoked_at__isnull=True).update(
        revoked_at=now, revocation_reason=reason
    )
    for footprint in engagement.footprints.all():
        refresh_footprint_verification(footprint)
    return engagement


def engagements_expire(*, now: datetime | None = None) -> int:
    """Move attested engagements past their validity to expired (a beat task)."""
    moment = now or timezone.now()
    count = 0
    due = Engagement.objects.filter(state=S.ATTESTED, valid_until__lt=moment).select_related(
        "verifier"
    )
    for engagement in due:
        with transaction.atomic():
            locked = _locked(engagement)
            if locked.state != S.ATTESTED:
                continue
            _transition(system_actor(locked.verifier), locked, "expire")
            for footprint in locked.footprints.all():
                refresh_footprint_verification(footprint, now=moment)
            count += 1
    return count


def refresh_footprint_verification(footprint: Footprint, *, now: datetime | None = None) -> None:
    """Derive the footprint's PACT ``verification`` from its newest attestation in force,
    and keep the newest attestation's outcome (in force, revoked or expired) beside it."""
    moment = now or timezone.now()
    attestations = Attestation.objects.filter(footprint=footprint).select_related(
        "engagement", "verifier"
    )
    current = (
        attestations.filter(revoked_at__isnull=True, valid_until__gt=moment)
        .order_by("-issued_at", "-id")
        .first()
    )
    newest = current or attestations.order_by("-issued_at", "-id").first()
    verification = None
    until = None
    if current is not None:
        engagement = current.engagement
        verification = {
            "coverage": engagement.coverage,
            "providerName": current.verifier.legal_name,
            "completedAt": _stamp(current.issued_at),
            "standardName": engagement.standard,
            "comments": (
                f"{engagement.get_assurance_level_display()} "
                f"({engagement.assurance_level}); credential {current.credential_id}"
            ),
        }
        until = current.valid_until
    record = None
    if newest is not None:
        if newest.revoked_at is not None:
            state = "revoked"
        elif newest.valid_until <= moment:
            state = "expired"
        else:
            state = "verified"
        record = {
            "state": state,
            "credential": newest.credential_id,
            "provider": newest.verifier.legal_name,
            "standard": newest.engagement.standard,
            "coverage": newest.engagement.coverage,
            "assurance": newest.engagement.assurance_level,
            "completed_at": _stamp(newest.issued_at),
            "until": _stamp(newest.valid_until),
        }
    Footprint.objects.filter(pk=footprint.pk).update(
        verification=verification, verification_until=until, verification_record=record
    )


# -------------------------------------------------------------- status list credential


def status_signing_key() -> SigningKey:
    """The zone operator's platform-held key that signs the status lists (made on
    first use, audited like any key)."""
    operator = Company.objects.filter(is_operator=True).order_by("id").first()
    if operator is None:
        raise NotFound("the zone has no operator company to sign status lists")
    key = (
        SigningKey.objects.filter(
            company=operator, custody=KeyCustody.PLATFORM, revoked_at__isnull=True
        )
        .order_by("-valid_from")
        .first()
    )
    if key is None:
        with transaction.atomic():
            key = signing_key_create_platform(
                actor=system_actor(operator), label="status lists (made on first use)"
            )
    return key


def status_list_credential(
    status_list: StatusList, *, now: datetime | None = None
) -> dict[str, Any]:
    """The signed Bitstring Status List credential as served now."""
    moment = (now or timezone.now()).replace(microsecond=0)
    revoked = Attestation.objects.filter(
        status_list=status_list, revoked_at__isnull=False
    ).values_list("status_index", flat=True)
    key = status_signing_key()
    issuer = company_did(key.company)
    document = statuslist.status_list_credential(
        list_url=status_list_url(status_list),
        issuer=issuer,
        purpose=status_list.purpose,
        encoded_list=statuslist.encode_list(revoked, status_list.size),
        valid_from=_stamp(moment),
        valid_until=_stamp(moment + timedelta(seconds=settings.STATUS_LIST_TTL_SECONDS)),
    )
    return add_proof(
        document,
        signing_key_private(key),
        ProofOptions(verification_method=f"{issuer}#{key.kid}", created=_stamp(moment)),
    )


def company_did_document(company: Company) -> dict[str, Any]:
    """The company's did:web document: its keys as Multikey verification methods.

    Keys revoked as compromised are left out (nothing they signed is to be trusted);
    superseded and retired keys stay, so credentials they signed remain checkable.
    """
    from trust.keys import public_key_from_jwk

    keys = (
        SigningKey.objects.filter(company=company)
        .exclude(Q(revocation_reason="compromised"))
        .order_by("valid_from", "id")
    )
    did = company_did(company)
    return trust_did.did_document(
        did, [(key.kid, public_key_from_jwk(key.public_jwk)) for key in keys]
    )
