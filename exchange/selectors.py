"""Reads of products and footprints, scoped to the acting company.

Issue 6 adds the buyer's view (grants, zone publication) here, so that every read of
a footprint by anyone goes through this module.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from audit.models import AuditEntry
from companies.access import Actor
from companies.errors import NotFound

from .bulk import RowError, error_report_csv
from .models import BulkUpload, Footprint, FootprintStatus, Product, ProductIdentifier


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
        document["verification"] = footprint.verification
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
