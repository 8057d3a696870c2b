"""The one way an evidence file leaves the platform (portal and API alike)."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header

from audit.services import audit_record
from companies.access import Actor

from . import selectors
from .models import Engagement


def evidence_download(*, actor: Actor, engagement: Engagement, evidence_id: int) -> HttpResponse:
    """The file as an attachment, to the engagement's parties only: never cached,
    never sniffed or run by the browser, and every download is an audit entry."""
    evidence = selectors.evidence_get(actor=actor, engagement=engagement, evidence_id=evidence_id)
    response = HttpResponse(bytes(evidence.content), content_type=evidence.content_type)
    response["Content-Disposition"] = content_disposition_header(True, evidence.file_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    add_never_cache_headers(response)
    response["Cache-Control"] = "private, no-store, no-cache, must-revalidate, max-age=0"
    audit_record(
        type="evidence.downloaded",
        actor=actor.audit_ref,
        company=actor.company.slug,
        subject=f"engagement:{engagement.pk}",
        payload={"evidence": evidence.pk, "sha256": evidence.sha256},
    )
    return response
