"""Writes of access: grants, zone publication, part numbers, data requests, auto-fulfil
rules, and the record of every cross-company read.

A footprint is seen by its owner; by a buyer through a live grant (one footprint, or a
product with its future versions), made directly or by fulfilling a request; or by
everyone when published to the zone. Every grant, revocation and pull is an audit
entry; a refusal changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit.services import audit_append, audit_record
from companies.access import Actor, system_actor
from companies.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from companies.identifiers import IdentifierError, normalize_identifier
from companies.models import Company, CompanyStatus, MemberRole

from .models import (
    AccessGrant,
    AutoFulfilRule,
    DataRequest,
    Footprint,
    FootprintStatus,
    PartNumber,
    Product,
    ProductIdentifier,
    RequestStatus,
    ZonePublication,
)

MAX_COMMENT = 5000
#: Request criteria keys: the PACT v3 ListFootprints filters.
CRITERIA_KEYS = (
    "productId",
    "companyId",
    "geography",
    "classification",
    "validOn",
    "validAfter",
    "validBefore",
    "status",
)

#: Called after a request is answered (fulfilled or rejected), inside its transaction:
#: the PACT event module registers the outbox writer here (requests that came as
#: events are answered with events). A list, so the layer above adds to it.
REQUEST_ANSWERED_HOOKS: list[Callable[[DataRequest], None]] = []


def _audit(actor: Actor, type: str, subject: str, **payload: Any) -> None:
    audit_append(
        type=type,
        actor=actor.audit_ref,
        company=actor.company.slug,
        subject=subject,
        payload=payload,
    )


def _editor(actor: Actor, to: str) -> None:
    actor.require_role(MemberRole.EDITOR, to=to)
    actor.require_writable()


def _other_company(slug_or_company: Company | str, field: str, *, buyer: bool) -> Company:
    if isinstance(slug_or_company, Company):
        company = slug_or_company
    else:
        found = Company.objects.filter(slug=slug_or_company).first()
        if found is None:
            raise ValidationFailed.single(field, f"no company {slug_or_company!r} in the zone")
        company = found
    if company.status != CompanyStatus.ACTIVE:
        raise ValidationFailed.single(field, f"{company.legal_name} is not active in the zone")
    if buyer and not company.is_buyer:
        raise ValidationFailed.single(field, f"{company.legal_name} is not a buyer of the zone")
    if not buyer and not company.is_supplier:
        raise ValidationFailed.single(field, f"{company.legal_name} is not a supplier of the zone")
    return company


def _own_footprint(actor: Actor, pf_id: Any, field: str) -> Footprint:
    try:
        key = uuid.UUID(str(pf_id))
    except ValueError:
        raise ValidationFailed.single(field, f"{pf_id!r} is not a footprint id (UUID)") from None
    footprint = (
        Footprint.objects.filter(company=actor.company, pf_id=key).select_related("product").first()
    )
    if footprint is None:
        raise ValidationFailed.single(field, f"no footprint {pf_id} in your company")
    return footprint


def _own_product(actor: Actor, product_id: Any, field: str) -> Product:
    product = Product.objects.filter(company=actor.company, pk=_int(product_id, field)).first()
    if product is None:
        raise ValidationFailed.single(field, f"no product {product_id} in your company")
    return product


def _int(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed.single(field, f"must be a number, got {value!r}") from None


# ------------------------------------------------------------------------------ grants


def _grant_payload(grant: AccessGrant) -> dict[str, Any]:
    return {
        "buyer": grant.buyer.slug,
        "footprint": str(grant.footprint.pf_id) if grant.footprint else None,
        "product": grant.product_id,
        "request": grant.request_id,
    }


def _grant(
    actor: Actor,
    buyer: Company,
    *,
    footprint: Footprint | None = None,
    product: Product | None = None,
    request: DataRequest | None = None,
) -> AccessGrant:
    """A live grant for the target, or the one that already exists."""
    existing = AccessGrant.objects.filter(
        supplier=actor.company,
        buyer=buyer,
        footprint=footprint,
        product=product,
        revoked_at__isnull=True,
    ).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin may win the race
            grant = AccessGrant.objects.create(
                supplier=actor.company,
                buyer=buyer,
                footprint=footprint,
                product=product,
                request=request,
                created_by=actor.user,
            )
    except IntegrityError:
        return AccessGrant.objects.get(
            buyer=buyer, footprint=footprint, product=product, revoked_at__isnull=True
        )
    subject = f"footprint:{footprint.pf_id}" if footprint else f"product:{grant.product_id}"
    _audit(actor, "grant.created", subject, **_grant_payload(grant))
    return grant


@transaction.atomic
def grant_create(
    *,
    actor: Actor,
    buyer: Company | str,
    footprint_id: Any = None,
    product_id: Any = None,
) -> AccessGrant:
    """Let a buyer see one footprint (``footprint_id``) or a product's versions."""
    _editor(actor, "grant access")
    buyer_company = _other_company(buyer, "buyer", buyer=True)
    if buyer_company.pk == actor.company.pk:
        raise ValidationFailed.single("buyer", "your company sees its own footprints already")
    if (footprint_id is None) == (product_id is None):
        raise ValidationFailed.single(
            "footprint_id", "give exactly one of footprint_id (one footprint) or product_id"
        )
    if footprint_id is not None:
        return _grant(
            actor, buyer_company, footprint=_own_footprint(actor, footprint_id, "footprint_id")
        )
    return _grant(actor, buyer_company, product=_own_product(actor, product_id, "product_id"))


@transaction.atomic
def grant_revoke(*, actor: Actor, grant: AccessGrant, reason: str = "") -> AccessGrant:
    # No require_writable(): a suspended supplier must still be able to withdraw access.
    actor.require_role(MemberRole.EDITOR, to="revoke access")
    if grant.supplier_id != actor.company.pk:
        raise NotFound("no such grant")
    reason = (reason or "").strip()[:500]
    updated = AccessGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revocation_reason=reason
    )
    if not updated:
        raise Conflict("the grant is already revoked", field="grant")
    grant.refresh_from_db()
    subject = (
        f"footprint:{grant.footprint.pf_id}" if grant.footprint else f"product:{grant.product_id}"
    )
    _audit(actor, "grant.revoked", subject, reason=reason, **_grant_payload(grant))
    return grant


@transaction.atomic
def footprint_publish(*, actor: Actor, footprint_id: Any) -> ZonePublication:
    """Make a footprint visible to every company of the zone."""
    _editor(actor, "publish footprints to the zone")
    footprint = _own_footprint(actor, footprint_id, "footprint_id")
    if footprint.status != FootprintStatus.ACTIVE:
        raise ValidationFailed.single("footprint_id", "only an active footprint can be published")
    publication, created = ZonePublication.objects.get_or_create(
        footprint=footprint, defaults={"published_by": actor.user}
    )
    if created:
        _audit(actor, "footprint.published_to_zone", f"footprint:{footprint.pf_id}")
    return publication


@transaction.atomic
def footprint_unpublish(*, actor: Actor, footprint_id: Any) -> None:
    _editor(actor, "withdraw footprints from the zone")
    footprint = _own_footprint(actor, footprint_id, "footprint_id")
    deleted, _ = ZonePublication.objects.filter(footprint=footprint).delete()
    if not deleted:
        raise Conflict("the footprint is not published to the zone", field="footprint_id")
    _audit(actor, "footprint.withdrawn_from_zone", f"footprint:{footprint.pf_id}")


@transaction.atomic
def part_number_set(
    *, actor: Actor, buyer: Company | str, part_number: str, product_id: Any
) -> PartNumber:
    """Record the buyer's own part number for one of the supplier's products."""
    _editor(actor, "map part numbers")
    buyer_company = _other_company(buyer, "buyer", buyer=True)
    if buyer_company.pk == actor.company.pk:
        raise ValidationFailed.single("buyer", "part numbers are kept for other companies")
    part_number = (part_number or "").strip()
    if not part_number or len(part_number) > 100:
        raise ValidationFailed.single(
            "part_number", "give the buyer's part number (1-100 characters)"
        )
    product = _own_product(actor, product_id, "product_id")
    mapping, _ = PartNumber.objects.update_or_create(
        supplier=actor.company,
        buyer=buyer_company,
        part_number=part_number,
        defaults={"product": product},
    )
    _audit(
        actor,
        "part_number.mapped",
        f"product:{product.pk}",
        buyer=buyer_company.slug,
        part_number=part_number,
    )
    return mapping


# ----------------------------------------------------------------------------- pulls


def record_pull(*, actor: Actor, footprints: Iterable[Footprint], channel: str) -> None:
    """Audit a read of other companies' footprints (the owner's own reads are not pulls).

    Runs in a transaction of its own after the response is made (``audit_record``);
    inside a caller's transaction it joins it.
    """
    ids = sorted(str(fp.pf_id) for fp in footprints if fp.company_id != actor.company.pk)
    if not ids:
        return
    entry: dict[str, Any] = {
        "type": "footprint.pulled",
        "actor": actor.audit_ref,
        "company": actor.company.slug,
        "subject": f"footprint:{ids[0]}" if len(ids) == 1 else "footprints",
        "payload": {"channel": channel, "footprints": ids},
    }
    from django.db import connection

    if connection.in_atomic_block:
        audit_append(**entry)
    else:
        audit_record(**entry)


# -------------------------------------------------------------------------- requests


def _clean_product_ids(values: Sequence[Any]) -> list[str]:
    cleaned = []
    for index, raw in enumerate(values or []):
        try:
            _, urn = normalize_identifier(str(raw))
        except IdentifierError as exc:
            raise ValidationFailed.single(f"product_ids[{index}]", str(exc)) from None
        cleaned.append(urn)
    return cleaned


def clean_criteria(criteria: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """PACT filter criteria: each key one of CRITERIA_KEYS, each value a list of strings."""
    cleaned: dict[str, list[str]] = {}
    for key, value in (criteria or {}).items():
        if key not in CRITERIA_KEYS:
            raise ValidationFailed.single(
                f"criteria.{key}", f"unknown filter; use {', '.join(CRITERIA_KEYS)}"
            )
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise ValidationFailed.single(f"criteria.{key}", "must be a list of non-empty strings")
        if values:
            cleaned[key] = values
    return cleaned


@transaction.atomic
def request_create(
    *,
    actor: Actor,
    supplier: Company | str,
    product_ids: Sequence[str] = (),
    part_number: str = "",
    criteria: Mapping[str, Any] | None = None,
    comment: str = "",
    due_date: date | None = None,
    event_id: str = "",
    event_source: str = "",
) -> DataRequest:
    """A buyer asks a supplier for footprints; an auto-fulfil rule may answer at once."""
    _editor(actor, "request footprints")
    if not actor.company.is_buyer:
        raise PermissionDenied(
            f"company: {actor.company.legal_name} is not a buyer of the zone", field="company"
        )
    supplier_company = _other_company(supplier, "supplier", buyer=False)
    if supplier_company.pk == actor.company.pk:
        raise ValidationFailed.single("supplier", "ask another company, not your own")
    ids = _clean_product_ids(product_ids)
    part_number = (part_number or "").strip()
    if len(part_number) > 100:
        raise ValidationFailed.single("part_number", "must be at most 100 characters")
    cleaned_criteria = clean_criteria(criteria)
    if not ids and not part_number and not cleaned_criteria:
        raise ValidationFailed.single(
            "product_ids", "say what you need: product ids, your part number, or filter criteria"
        )
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed.single("comment", f"must be at most {MAX_COMMENT} characters")
    if due_date is not None and due_date < timezone.localdate():
        raise ValidationFailed.single("due_date", "must not be in the past")
    request = DataRequest.objects.create(
        buyer=actor.company,
        supplier=supplier_company,
        product_ids=ids,
        part_number=part_number,
        criteria=cleaned_criteria,
        comment=comment,
        due_date=due_date,
        event_id=event_id,
        event_source=event_source,
        created_by=actor.user,
    )
    _audit(
        actor,
        "request.created",
        f"request:{request.pk}",
        supplier=supplier_company.slug,
        product_ids=ids,
        part_number=part_number,
        criteria=cleaned_criteria,
        due_date=due_date.isoformat() if due_date else None,
        event_id=event_id or None,
    )
    _apply_auto_rules(request)
    request.refresh_from_db()  # a rule may have fulfilled it (through another instance)
    return request


def request_matches(request: DataRequest, *, verified_only: bool = False) -> QuerySet[Footprint]:
    """The supplier's active footprints that answer the request (by product id, the
    buyer's part number, and the PACT filter criteria, all that are given)."""
    from .pact.filters import filter_footprints

    footprints = Footprint.objects.filter(company=request.supplier, status=FootprintStatus.ACTIVE)
    if request.product_ids:
        products = ProductIdentifier.objects.filter(
            company=request.supplier, urn__in=request.product_ids
        ).values("product_id")
        footprints = footprints.filter(product_id__in=products)
    if request.part_number:
        mapped = PartNumber.objects.filter(
            supplier=request.supplier, buyer=request.buyer, part_number=request.part_number
        ).values("product_id")
        footprints = footprints.filter(product_id__in=mapped)
    if request.criteria:
        footprints = filter_footprints(footprints, request.criteria)
    if verified_only:
        footprints = footprints.filter(
            verification__isnull=False, verification_until__gt=timezone.now()
        )
    # The newest version of each product only.
    newest: dict[int, Footprint] = {}
    for footprint in footprints.order_by("product_id", "-submitted_at", "-id"):
        newest.setdefault(footprint.product_id, footprint)
    return Footprint.objects.filter(pk__in=[fp.pk for fp in newest.values()])


def _answered(request: DataRequest) -> None:
    for hook in REQUEST_ANSWERED_HOOKS:
        hook(request)


def _lock_pending(request: DataRequest, actor: Actor, side: str) -> DataRequest:
    company_id = request.supplier_id if side == "supplier" else request.buyer_id
    if actor.company.pk != company_id:
        if actor.company.pk in (request.supplier_id, request.buyer_id):
            raise PermissionDenied(f"only the {side} of the request may do this", field="status")
        raise NotFound("no such request")
    locked = DataRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != RequestStatus.PENDING:
        raise Conflict(
            f"status: the request is already {locked.get_status_display().lower()}",
            field="status",
        )
    return locked


@transaction.atomic
def request_fulfil(
    *,
    actor: Actor,
    request: DataRequest,
    footprint_ids: Sequence[Any],
    whole_product: bool = False,
    rule: AutoFulfilRule | None = None,
) -> DataRequest:
    """The supplier answers with footprints; each is granted to the buyer (with
    ``whole_product``, their products, so later versions follow)."""
    _editor(actor, "answer requests")
    request = _lock_pending(request, actor, "supplier")
    if not footprint_ids:
        raise ValidationFailed.single("footprint_ids", "choose at least one footprint to send")
    footprints = []
    for index, pf_id in enumerate(footprint_ids):
        footprint = _own_footprint(actor, pf_id, f"footprint_ids[{index}]")
        if footprint.status != FootprintStatus.ACTIVE:
            raise ValidationFailed.single(
                f"footprint_ids[{index}]", f"footprint {pf_id} is deprecated; send its successor"
            )
        footprints.append(footprint)
    for footprint in footprints:
        if whole_product:
            _grant(actor, request.buyer, product=footprint.product, request=request)
        else:
            _grant(actor, request.buyer, footprint=footprint, request=request)
    request.footprints.set(footprints)
    request.status = RequestStatus.FULFILLED
    request.answered_at = timezone.now()
    request.answered_by = actor.user
    request.answered_by_rule = rule
    request.save()
    _audit(
        actor,
        "request.fulfilled",
        f"request:{request.pk}",
        buyer=request.buyer.slug,
        footprints=[str(fp.pf_id) for fp in footprints],
        whole_product=whole_product,
        rule=rule.pk if rule else None,
    )
    _answered(request)
    return request


@transaction.atomic
def request_reject(*, actor: Actor, request: DataRequest, reason: str) -> DataRequest:
    _editor(actor, "answer requests")
    request = _lock_pending(request, actor, "supplier")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.single("reason", "tell the buyer why")
    if len(reason) > MAX_COMMENT:
        raise ValidationFailed.single("reason", f"must be at most {MAX_COMMENT} characters")
    request.status = RequestStatus.REJECTED
    request.reason = reason
    request.answered_at = timezone.now()
    request.answered_by = actor.user
    request.save()
    _audit(actor, "request.rejected", f"request:{request.pk}", buyer=request.buyer.slug)
    _answered(request)
    return request


@transaction.atomic
def request_cancel(*, actor: Actor, request: DataRequest) -> DataRequest:
    _editor(actor, "cancel requests")
    request = _lock_pending(request, actor, "buyer")
    request.status = RequestStatus.CANCELLED
    request.answered_at = timezone.now()
    request.save()
    _audit(actor, "request.cancelled", f"request:{request.pk}", supplier=request.supplier.slug)
    return request


# ---------------------------------------------------------------------- auto rules


@transaction.atomic
def auto_rule_create(
    *,
    actor: Actor,
    buyer: Company | str,
    product_ids: Sequence[Any] = (),
    only_verified: bool = True,
) -> AutoFulfilRule:
    """Answer this buyer's requests for these products (none: all) without a person."""
    actor.require_role(MemberRole.ADMIN, to="set auto-fulfil rules")
    actor.require_writable()
    if not actor.company.is_supplier:
        raise PermissionDenied("only a supplier sets auto-fulfil rules", field="company")
    buyer_company = _other_company(buyer, "buyer", buyer=True)
    if buyer_company.pk == actor.company.pk:
        raise ValidationFailed.single("buyer", "a rule answers another company's requests")
    products = [_own_product(actor, pid, f"product_ids[{i}]") for i, pid in enumerate(product_ids)]
    rule = AutoFulfilRule.objects.create(
        supplier=actor.company,
        buyer=buyer_company,
        only_verified=only_verified,
        created_by=actor.user,
    )
    rule.products.set(products)
    _audit(
        actor,
        "auto_rule.created",
        f"auto_rule:{rule.pk}",
        buyer=buyer_company.slug,
        products=[p.pk for p in products],
        only_verified=only_verified,
    )
    return rule


@transaction.atomic
def auto_rule_disable(*, actor: Actor, rule: AutoFulfilRule) -> AutoFulfilRule:
    actor.require_role(MemberRole.ADMIN, to="change auto-fulfil rules")
    if rule.supplier_id != actor.company.pk:
        raise NotFound("no such rule")
    if not rule.active:
        raise Conflict("the rule is already disabled", field="rule")
    rule.active = False
    rule.save(update_fields=["active"])
    _audit(actor, "auto_rule.disabled", f"auto_rule:{rule.pk}")
    return rule


def _apply_auto_rules(request: DataRequest) -> None:
    """Fulfil a new request by the first active rule of its supplier for its buyer
    that finds footprints; otherwise it waits for a person."""
    rules = AutoFulfilRule.objects.filter(
        supplier=request.supplier, buyer=request.buyer, active=True
    ).prefetch_related("products")
    for rule in rules:
        matches = request_matches(request, verified_only=rule.only_verified)
        allowed = {p.pk for p in rule.products.all()}
        if allowed:
            matches = matches.filter(product_id__in=allowed)
        found = list(matches)
        if found:
            request_fulfil(
                actor=system_actor(request.supplier),
                request=request,
                footprint_ids=[str(fp.pf_id) for fp in found],
                rule=rule,
            )
            return


def request_reminders_due(*, days: int = 3) -> list[DataRequest]:
    """Pending requests due within ``days`` whose supplier was not reminded yet."""
    horizon = timezone.localdate().toordinal() + days
    return [
        r
        for r in DataRequest.objects.filter(
            status=RequestStatus.PENDING, due_date__isnull=False, reminder_sent_at__isnull=True
        ).select_related("supplier", "buyer")
        if r.due_date is not None and r.due_date.toordinal() <= horizon
    ]


def requests_remind(*, days: int = 3) -> int:
    """Remind suppliers of requests coming due (e-mail to the supplier's admins and
    editors); each request is reminded once. Returns how many were reminded."""
    from django.core.mail import send_mail

    from companies.models import Membership

    count = 0
    for request in request_reminders_due(days=days):
        with transaction.atomic():
            claimed = DataRequest.objects.filter(
                pk=request.pk, reminder_sent_at__isnull=True, status=RequestStatus.PENDING
            ).update(reminder_sent_at=timezone.now())
            if not claimed:
                continue
            emails = list(
                Membership.objects.filter(
                    company=request.supplier, role__in=[MemberRole.ADMIN, MemberRole.EDITOR]
                )
                .exclude(user__email="")
                .values_list("user__email", flat=True)
            )
            audit_append(
                type="request.reminded",
                actor="system",
                company=request.supplier.slug,
                subject=f"request:{request.pk}",
                payload={"due_date": request.due_date.isoformat() if request.due_date else None},
            )
        if emails:
            send_mail(
                subject=f"Footprint request {request.pk} from {request.buyer.legal_name} is due",
                message=(
                    f"{request.buyer.legal_name} asked for footprints (request {request.pk}); "
                    f"it is due on {request.due_date}. Answer it under Requests in the portal."
                ),
                from_email=None,
                recipient_list=emails,
                fail_silently=True,
            )
        count += 1
    return count
