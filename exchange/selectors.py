"""Reads of products and footprints, scoped to the acting company.

Issue 6 adds the buyer's view (grants, zone publication) here, so that every read of
a footprint by anyone goes through this module.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from audit.models import AuditEntry
from companies.access import Actor
from companies.errors import NotFound
from companies.models import Company

from .bulk import RowError, error_report_csv
from .models import (
    AccessGrant,
    AutoFulfilRule,
    BulkUpload,
    DataRequest,
    Footprint,
    FootprintStatus,
    OutboxMessage,
    PartNumber,
    Product,
    ProductIdentifier,
    ZonePublication,
)


def products_of(*, actor: Actor) -> QuerySet[Product]:
    return (
        Product.objects.filter(company=actor.company)
        .prefetch_related(
            Prefetch("identifiers", queryset=ProductIdentifier.objects.order_by("id"))
        )
        .annotate(footprint_count=Count("footprints"))
    )


def product_get(*, actor: Actor, product_id: int) -> Product:
    product = products_of(actor=actor).filter(pk=product_id).first()
    if product is None:
        raise NotFound("no such product in your company")
    return product


def footprints_of(*, actor: Actor) -> QuerySet[Footprint]:
    """The company's own footprints; the bytes and JWS are deferred for lists."""
    return (
        Footprint.objects.filter(company=actor.company)
        .select_related("product", "signing_key")
        .defer("canonical_bytes", "jws")
    )


def footprint_get(*, actor: Actor, pf_id: Any) -> Footprint:
    try:
        key = uuid.UUID(str(pf_id))
    except ValueError as exc:
        raise NotFound(f"no footprint {pf_id!r}") from exc
    footprint = (
        Footprint.objects.filter(company=actor.company, pf_id=key)
        .select_related("product", "signing_key")
        .first()
    )
    if footprint is None:
        raise NotFound(f"no footprint {pf_id} in your company")
    return footprint


def footprint_versions(*, actor: Actor, product: Product) -> QuerySet[Footprint]:
    """All footprints of a product, newest first: its version history."""
    return (
        footprints_of(actor=actor)
        .filter(product=product)
        .prefetch_related("preceding", "successors")
    )


def visible_footprints(company: Company) -> QuerySet[Footprint]:
    """Every footprint ``company`` may see: its own, those granted to it (one footprint,
    or every version of a product) and those published to the zone.

    The one rule of access for reads: the portal, the platform API, the PACT API (/3 and
    /2) and evidence bundles all start from here.
    """
    live = AccessGrant.objects.filter(buyer=company, revoked_at__isnull=True)
    return Footprint.objects.filter(
        Q(company=company)
        | Exists(live.filter(footprint=OuterRef("pk")))
        | Exists(live.filter(product=OuterRef("product_id")))
        | Exists(ZonePublication.objects.filter(footprint=OuterRef("pk")))
    )


def visible_footprint_get(*, actor: Actor, pf_id: Any) -> Footprint:
    """One footprint the actor's company may see; "not found" for any other, so an
    existing but ungranted footprint cannot be told from a missing one."""
    try:
        key = uuid.UUID(str(pf_id))
    except ValueError as exc:
        raise NotFound(f"no footprint {pf_id!r}") from exc
    footprint = (
        visible_footprints(actor.company)
        .filter(pf_id=key)
        .select_related("product", "signing_key", "company")
        .first()
    )
    if footprint is None:
        raise NotFound(f"no footprint {pf_id} you may see")
    return footprint


def received_footprints(*, actor: Actor) -> QuerySet[Footprint]:
    """Footprints of other companies the actor's company may see (its purchases)."""
    return (
        visible_footprints(actor.company)
        .exclude(company=actor.company)
        .select_related("product", "company")
        .defer("canonical_bytes", "jws")
    )


def grants_given(*, actor: Actor) -> QuerySet[AccessGrant]:
    return AccessGrant.objects.filter(supplier=actor.company).select_related(
        "buyer", "footprint", "product"
    )


def grants_received(*, actor: Actor) -> QuerySet[AccessGrant]:
    return AccessGrant.objects.filter(buyer=actor.company).select_related(
        "supplier", "footprint", "product"
    )


def requests_received(*, actor: Actor) -> QuerySet[DataRequest]:
    return DataRequest.objects.filter(supplier=actor.company).select_related("buyer")


def requests_made(*, actor: Actor) -> QuerySet[DataRequest]:
    return DataRequest.objects.filter(buyer=actor.company).select_related("supplier")


def request_get(*, actor: Actor, request_id: Any) -> DataRequest:
    """A request the actor's company made or received."""
    try:
        pk = int(request_id)
    except (TypeError, ValueError):
        raise NotFound(f"no request {request_id!r}") from None
    found = (
        DataRequest.objects.filter(Q(buyer=actor.company) | Q(supplier=actor.company), pk=pk)
        .select_related("buyer", "supplier")
        .first()
    )
    if found is None:
        raise NotFound(f"no request {pk} made or received by your company")
    return found


def part_numbers_of(*, actor: Actor) -> QuerySet[PartNumber]:
    """The buyers' part numbers the supplier keeps for its products."""
    return (
        PartNumber.objects.filter(supplier=actor.company)
        .select_related("buyer", "product")
        .order_by("buyer__legal_name", "part_number")
    )


def auto_rules_of(*, actor: Actor) -> QuerySet[AutoFulfilRule]:
    return (
        AutoFulfilRule.objects.filter(supplier=actor.company)
        .select_related("buyer")
        .prefetch_related("products")
    )


def pact_deliveries(*, actor: Actor) -> QuerySet[OutboxMessage]:
    """PACT events the exchange sends that concern the actor's company: answers to
    requests it received and everything bound for its own partner hosts."""
    messages = OutboxMessage.objects.select_related("partner", "partner__company", "request")
    return messages.filter(Q(partner__company=actor.company) | Q(request__supplier=actor.company))


def footprint_document(footprint: Footprint) -> dict[str, Any]:
    """The footprint as served: the signed document with its current status and
    verification.

    The supplier's signature covers the document as submitted (status Active);
    deprecation is recorded in the audit log, and ``verification`` is derived from
    the verifier's attestation in force (a credential signed by the verifier, which
    a buyer checks on its own).
    """
    document: dict[str, Any] = json.loads(bytes(footprint.canonical_bytes))
    if footprint.status == FootprintStatus.DEPRECATED:
        document["status"] = FootprintStatus.DEPRECATED
    if footprint.verification and (
        footprint.verification_until is None or footprint.verification_until > timezone.now()
    ):
        pcf = document.get("pcf")
        if isinstance(pcf, dict):  # PACT v3 puts verification in the CarbonFootprint
            pcf["verification"] = footprint.verification
    return document


def footprint_audit_entries(*, actor: Actor, footprint: Footprint) -> QuerySet[AuditEntry]:
    """The company's audit entries about one footprint, oldest first."""
    return AuditEntry.objects.filter(
        company=actor.company.slug, subject=f"footprint:{footprint.pf_id}"
    ).order_by("seq")


def uploads_of(*, actor: Actor) -> QuerySet[BulkUpload]:
    return BulkUpload.objects.filter(company=actor.company).defer("content")


def upload_get(*, actor: Actor, upload_id: int) -> BulkUpload:
    upload = uploads_of(actor=actor).filter(pk=upload_id).first()
    if upload is None:
        raise NotFound("no such upload in your company")
    return upload


def upload_errors_csv(upload: BulkUpload) -> bytes:
    """The per-row error report the user downloads (UTF-8 with BOM, bilingual headers,
    formula-looking cells neutralised): the bulk module's one writer."""
    return error_report_csv(
        RowError(row=e["row"], column=e["column"], message=e["message"]) for e in upload.errors
    )
