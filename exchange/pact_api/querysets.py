"""The database side of the PACT v3 filters (``exchange.pact.filters``).

``narrow`` turns parsed ``Criteria`` into SQL conditions that every matching footprint
meets: exact for ``status`` (the column is the served status); a superset for the rest,
which ``Criteria.matches`` then settles on the parsed document:

* ``productId``: the footprint's product has that identifier (every productId of a
  stored document is a ``ProductIdentifier`` row of the footprint's product, and those
  rows are never removed), and the canonical JSON contains the quoted value;
* ``companyId``: the footprint's company has that identifier (submission accepts only
  the company's own identifiers), and the JSON contains the quoted value;
* ``classification``: the JSON contains the quoted value;
* ``geography``: the JSON contains ``"geographyCountry":"<value>"`` (or the region or
  subdivision property): the document is canonical JSON (RFC 8785), so a property
  and its value appear exactly so, with no space between;
* ``validOn``/``validAfter``/``validBefore``: bounds on ``reference_period_end``
  (a validity period lies between the reference period's end and 3 years later).

Identifiers compare case-insensitively (``UPPER``), the document text through
``lower(…) LIKE`` (values are ASCII by validation). ``narrow_columns`` is the cheap
part (columns, indexed lookups, hashed subqueries); ``narrow_content`` scans each row's
JSON and is meant for few rows: the list views apply it per chunk of candidate keys,
so the planner never runs it over rows the client may not even see.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import (
    BinaryField,
    BooleanField,
    Case,
    Func,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Upper

from companies.models import CompanyIdentifier
from exchange.models import Footprint, ProductIdentifier
from exchange.pact.filters import GEOGRAPHY_KEYS, Criteria

FootprintQuerySet = QuerySet[Footprint]

# A validity period ends at most 3 years after the reference period (3 calendar years
# are at most 1097 days); the bounds below only narrow, so they keep a margin.
_THREE_YEARS_AT_MOST = timedelta(days=3 * 366 + 2)


class DocumentText(Func):
    """The canonical JSON bytes as text: they are UTF-8 by construction."""

    output_field = TextField()
    template = "CAST(%(expressions)s AS TEXT)"

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="convert_from(%(expressions)s, 'UTF8')", **extra
        )


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class DocumentContains(Func):
    """True when the canonical JSON contains one of ``needles`` (ASCII, lower case),
    ignoring ASCII case: ``lower(text) LIKE ANY (…)`` on PostgreSQL (the text lowered
    once per row), ``LIKE`` (ASCII case-insensitive there) on SQLite."""

    output_field = BooleanField()

    def __init__(self, needles: Iterable[str]) -> None:
        self.needles = [f"%{_like_escape(needle)}%" for needle in needles]
        super().__init__(DocumentText("canonical_bytes"))

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra: Any,
    ) -> Any:
        text, params = compiler.compile(self.source_expressions[0])
        likes = " OR ".join([f"{text} LIKE %s ESCAPE '\\'"] * len(self.needles))
        return f"({likes})", [*params * len(self.needles), *self.needles]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        text, params = compiler.compile(self.source_expressions[0])
        return f"(lower({text}) LIKE ANY (%s))", [*params, self.needles]


def _needles(criteria: Criteria) -> list[list[str]]:
    """For each content criterion, the texts one of which a matching document holds."""
    groups: list[list[str]] = []
    for keys in (criteria.product_ids, criteria.company_ids, criteria.classifications):
        if keys:
            groups.append([json.dumps(key) for key in sorted(keys)])
    if criteria.geographies:
        groups.append(
            [
                f"{json.dumps(prop)}:{json.dumps(key)}".lower()
                for key in sorted(criteria.geographies)
                for prop in GEOGRAPHY_KEYS
            ]
        )
    return groups


def narrow_columns(criteria: Criteria, queryset: FootprintQuerySet) -> FootprintQuerySet:
    """The cheap part of ``narrow``: columns and identifier tables (indexed lookups and
    hashed subqueries), no document text."""
    if criteria.impossible:
        return queryset.none()
    if criteria.statuses is not None:
        queryset = queryset.filter(status__in=sorted(criteria.statuses))
    if criteria.product_ids:
        products = (
            ProductIdentifier.objects.annotate(_urn=Upper("urn"))
            .filter(_urn__in=sorted(key.upper() for key in criteria.product_ids))
            .values("product_id")
        )
        queryset = queryset.filter(product_id__in=products)
    if criteria.company_ids:
        companies = (
            CompanyIdentifier.objects.annotate(_urn=Upper("urn"))
            .filter(_urn__in=sorted(key.upper() for key in criteria.company_ids))
            .values("company_id")
        )
        queryset = queryset.filter(company_id__in=companies)
    return _narrow_validity(criteria, queryset)


def narrow_content(criteria: Criteria, queryset: FootprintQuerySet) -> FootprintQuerySet:
    """The document-text part of ``narrow`` (a scan of each row's JSON: apply it to
    few rows)."""
    if criteria.impossible:
        return queryset.none()
    for needles in _needles(criteria):
        queryset = queryset.filter(DocumentContains(needles))
    return queryset


def narrow(criteria: Criteria, queryset: FootprintQuerySet) -> FootprintQuerySet:
    """``queryset`` restricted by conditions every footprint matching ``criteria``
    meets (see the module text)."""
    return narrow_content(criteria, narrow_columns(criteria, queryset))


def _narrow_validity(criteria: Criteria, queryset: FootprintQuerySet) -> FootprintQuerySet:
    # referencePeriodEnd <= validity start < validity end <= referencePeriodEnd + 3 years.
    if criteria.valid_on:
        condition = Q()
        for moment in criteria.valid_on:
            condition |= Q(
                reference_period_end__lte=moment,
                reference_period_end__gte=moment - _THREE_YEARS_AT_MOST,
            )
        queryset = queryset.filter(condition)
    if criteria.valid_after:
        earliest = min(criteria.valid_after)
        queryset = queryset.filter(reference_period_end__gt=earliest - _THREE_YEARS_AT_MOST)
    if criteria.valid_before:
        latest = max(criteria.valid_before)
        queryset = queryset.filter(reference_period_end__lt=latest)
    return queryset


def _candidates(
    queryset: FootprintQuerySet, criteria: Criteria
) -> Iterable[tuple[int, datetime, Any]]:
    """(pk, referencePeriodEnd, bytes or None) of each candidate: the document only where
    the exact check needs it (content criteria; a declared validity period)."""
    if criteria.needs_document:
        document: Any = "canonical_bytes"
    else:
        # Only documents that may declare a validity period are read.
        document = Case(
            When(DocumentContains(['"validityperiod']), then="canonical_bytes"),
            default=Value(None),
            output_field=BinaryField(),
        )
    rows = queryset.order_by().values_list("pk", "reference_period_end", document)
    return rows.iterator(chunk_size=2000)


def filter_footprints(queryset: FootprintQuerySet, criteria: Criteria) -> FootprintQuerySet:
    """``queryset`` restricted to the footprints matching ``criteria`` (what
    ``exchange.pact.filters.filter_footprints`` returns)."""
    narrowed = narrow(criteria, queryset)
    if criteria.impossible or not criteria.needs_python:
        return narrowed
    matching = [
        pk
        for pk, reference_end, raw in _candidates(narrowed, criteria)
        if criteria.matches(json.loads(bytes(raw)) if raw is not None else None, reference_end)
    ]
    return queryset.filter(pk__in=matching)
