"""Helpers of the companies tests: row counts (for "nothing stored") and audit reads."""

from __future__ import annotations

import json
from typing import Any

from oauth2_provider.models import get_access_token_model, get_application_model

from audit.models import AuditEntry
from companies.access import Actor
from companies.models import (
    ApiClient,
    Company,
    CompanyIdentifier,
    Invitation,
    Membership,
    SigningKey,
)

COUNTED = (
    Company,
    CompanyIdentifier,
    Membership,
    Invitation,
    SigningKey,
    ApiClient,
    AuditEntry,
)


def row_counts() -> dict[str, int]:
    """How many rows each table of the companies app (and the audit log) holds."""
    counts = {model.__name__: model.objects.count() for model in COUNTED}
    counts["Application"] = get_application_model().objects.count()
    counts["AccessToken"] = get_access_token_model().objects.count()
    return counts


def audit_entries_since(seq: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(seq__gte=seq).order_by("seq"))


def next_seq() -> int:
    return AuditEntry.objects.count()


def payload_of(entry: AuditEntry) -> dict[str, Any]:
    return json.loads(bytes(entry.payload))


def fresh_actor(actor: Actor) -> Actor:
    """The same actor with its company re-read, as the next request would see it."""
    company = Company.objects.get(pk=actor.company.pk)
    return Actor(company=company, role=actor.role, user=actor.user, client=actor.client)
