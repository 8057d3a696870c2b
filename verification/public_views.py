"""Public documents anyone checking a credential needs, without logging in:
the companies' did:web documents and the signed revocation status lists."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from companies.errors import NotFound

from . import selectors, services


def _json(document: dict[str, Any], content_type: str, max_age: int) -> HttpResponse:
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2).encode(), content_type=content_type
    )
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _not_found(exc: NotFound) -> HttpResponse:
    return HttpResponse(
        json.dumps(exc.as_dict()).encode(), status=404, content_type="application/json"
    )


@require_GET
def company_did_document(request: HttpRequest, slug: str) -> HttpResponse:
    """``did:web:<host>:companies:<slug>`` resolves here (W3C did:web method)."""
    try:
        company = selectors.company_for_did(slug)
    except NotFound as exc:
        return _not_found(exc)
    return _json(services.company_did_document(company), "application/did+json", 300)


@require_GET
def status_list(request: HttpRequest, list_id: int) -> HttpResponse:
    """A signed BitstringStatusListCredential, made fresh (cached a minute)."""
    try:
        found = selectors.status_list_get(list_id)
    except NotFound as exc:
        return _not_found(exc)
    return _json(services.status_list_credential(found), "application/vc", 60)
