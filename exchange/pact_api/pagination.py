"""ListFootprints pagination: ``limit``, and ``Link: <…>; rel="next"``.

What the specification asks: no more footprints than ``limit``; a ``Link`` header
(RFC 8288, ``rel="next"``, an absolute URL on the host the request named) whenever
more are ready; a pagination link valid for at least 180 seconds, which may be called
more than once and answers the same footprints each time.

How: footprints are listed newest first by primary key, and a next link carries a
signed, self-contained cursor (``django.core.signing``): the criteria, the page size,
the last primary key served, the client's company and when it was issued. Nothing is
stored on the server, so a link can be called any number of times until it expires
(``PACT_PAGE_LINK_SECONDS``, never less than 180). Footprints submitted after the
first page have larger keys and so never shift later pages; a revoked grant or a
changed status takes effect at once (access beats stability). With a cursor, the other
query parameters of the link are ignored: the cursor holds the whole request.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet
from django.http import HttpRequest

from exchange.models import Footprint

from .auth import absolute_url
from .errors import PactError, Problem

CURSOR_PARAM = "cursor"
_DIGITS = re.compile(r"[0-9]{1,12}")
_SALT = "exchange.pact_api.page"
#: The specification's minimum life of a pagination link.
MIN_LINK_SECONDS = 180
#: Columns a served footprint needs (the document, its current status and
#: verification, and what the filters and the v2 mapping read); the JWS is not read.
SERVED_FIELDS = (
    "pk",
    "pf_id",
    "company",
    "canonical_bytes",
    "status",
    "verification",
    "verification_until",
    "reference_period_end",
    "deprecated_at",
    "deprecation_reason",
)


def _now() -> float:
    return time.time()


def link_lifetime() -> int:
    return max(int(settings.PACT_PAGE_LINK_SECONDS), MIN_LINK_SECONDS)


@dataclass(frozen=True)
class PageRequest:
    """What one ListFootprints call asks: criteria, page size, where to continue."""

    params: dict[str, list[str]]
    limit: int
    after: int | None = None


def _limit(raw: str | None) -> int:
    default = int(settings.PACT_PAGE_SIZE_DEFAULT)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not _DIGITS.fullmatch(text) or int(text) < 1:
        raise PactError(Problem.BAD_REQUEST, f"limit must be a positive integer, got {raw!r}")
    value = int(text)
    # The host may return fewer than asked; a page never exceeds the configured maximum.
    return min(value, int(settings.PACT_PAGE_SIZE_MAX))


def read_page_request(
    request: HttpRequest,
    *,
    version: str,
    company_id: int,
    criteria_params: Callable[[Any], dict[str, list[str]]],
) -> PageRequest:
    """The page a ListFootprints request asks for: from its cursor, or from its query
    (``criteria_params`` extracts the criteria the version understands)."""
    token = request.GET.get(CURSOR_PARAM)
    if token is None:
        return PageRequest(
            params=criteria_params(request.GET), limit=_limit(request.GET.get("limit"))
        )
    try:
        payload = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        raise PactError(Problem.BAD_REQUEST, "the pagination link is not valid") from None
    if not isinstance(payload, dict) or payload.get("v") != version:
        raise PactError(Problem.BAD_REQUEST, "the pagination link is not valid")
    if payload.get("c") != company_id:
        raise PactError(Problem.BAD_REQUEST, "the pagination link belongs to another client")
    if _now() - float(payload.get("t", 0)) > link_lifetime():
        raise PactError(
            Problem.BAD_REQUEST, "the pagination link has expired: list the footprints again"
        )
    return PageRequest(params=payload["p"], limit=int(payload["l"]), after=int(payload["a"]))


def next_link(
    request: HttpRequest, page: PageRequest, *, version: str, company_id: int, last_pk: int
) -> str:
    """The ``Link`` header value pointing at the page after ``last_pk``."""
    token = signing.dumps(
        {
            "v": version,
            "c": company_id,
            "p": page.params,
            "l": page.limit,
            "a": last_pk,
            "t": int(_now()),
        },
        salt=_SALT,
        compress=True,
    )
    url = absolute_url(request, request.path) + "?" + urlencode({CURSOR_PARAM: token})
    return f'<{url}>; rel="next"'


Accept = Callable[[Footprint, Mapping[str, Any]], bool]
Serve = Callable[[Footprint], dict[str, Any]]
Refine = Callable[[QuerySet[Footprint]], QuerySet[Footprint]]


def _chunks(
    queryset: QuerySet[Footprint], after: int | None, first: int, refine: Refine | None
) -> Iterator[Footprint]:
    """The footprints of ``queryset`` below ``after``, newest key first, read in chunks
    (the first of ``first`` rows, later ones larger): most pages need one query.

    With ``refine`` (conditions costly per row, such as a scan of the document text),
    each chunk's keys are found first and ``refine`` applies to those rows only, so the
    database never weighs it against the cheap conditions of ``queryset``.
    """
    size = first
    while True:
        candidates = queryset if after is None else queryset.filter(pk__lt=after)
        candidates = candidates.order_by("-pk")
        if refine is None:
            rows = list(candidates.only(*SERVED_FIELDS)[:size])
            yield from rows
            keys = [row.pk for row in rows]
        else:
            keys = list(candidates.values_list("pk", flat=True)[:size])
            if keys:
                chosen = refine(queryset.model.objects.filter(pk__in=keys))
                yield from chosen.order_by("-pk").only(*SERVED_FIELDS)
        if len(keys) < size:
            return
        after = keys[-1]
        size = min(size * 4, 4000)


def fetch_page(
    queryset: QuerySet[Footprint],
    page: PageRequest,
    *,
    serve: Serve,
    accept: Accept | None = None,
    refine: Refine | None = None,
) -> tuple[list[tuple[Footprint, dict[str, Any]]], bool]:
    """One page: up to ``page.limit`` served documents of ``queryset`` (``refine``d, see
    ``_chunks``) after the cursor, those ``accept`` takes (all without it), and whether
    more follow."""
    found: list[tuple[Footprint, dict[str, Any]]] = []
    for footprint in _chunks(queryset, page.after, page.limit + 1, refine):
        document = serve(footprint)
        if accept is not None and not accept(footprint, document):
            continue
        if len(found) == page.limit:
            return found, True
        found.append((footprint, document))
    return found, False
