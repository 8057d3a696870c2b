"""The PACT v3 ListFootprints filters, applied to stored footprints.

What the specification asks (Action ListFootprints, "Filtering", and the query
parameters of the OpenAPI document), in our words:

* ``productId``, ``companyId``, ``classification``: the footprint's ``productIds``,
  ``companyIds`` or ``productClassifications`` contain the value;
* ``geography``: the value is the footprint's ``pcf.geographyCountry``,
  ``pcf.geographyRegionOrSubregion`` or ``pcf.geographyCountrySubdivision``;
* ``validOn``: validity start <= value <= validity end; ``validAfter``: validity start
  > value; ``validBefore``: validity end < value. Without ``validityPeriodStart`` the
  validity period starts at ``pcf.referencePeriodEnd``; without ``validityPeriodEnd``
  it ends 3 years after it (the specification's "Validity Period" section);
* ``status``: ``Active`` or ``Deprecated`` (the current status, as served);
* several values of one criterion match when any one does (OR); several criteria must
  all match (AND); strings match case-insensitively.

Choices where the text leaves room (also in docs of the PACT API):

* A criterion may be repeated (``?geography=DE&geography=FR``, the OpenAPI ``explode``
  form) and a value may be a comma list (``?geography=DE,FR``). Commas are legal inside
  URNs, so each value is tried whole and also split at its commas.
* Parameter names are matched case-insensitively (the specification's own example
  writes ``productid`` and ``validon``); ``x-…`` extension parameters and unknown names
  are ignored; empty values are ignored.
* A value that cannot match anything (an unparseable date, an unknown status, a
  non-ASCII identifier) simply matches nothing: the result may be empty, never an
  error.
* Dates are RFC 3339 date-times; a bare date means midnight UTC, a missing offset means
  UTC, seconds may be left out, and a space in place of the ``+`` of an offset (a ``+``
  sent unencoded in a query string) is read as ``+``.
* Geography matches the declared geography exactly (one of the three properties); a
  region is not taken to contain its countries, nor a country its subdivisions.

This module holds the rules themselves and no Django (like the rest of
``exchange.pact``, it runs offline): parsing (``Criteria.parse``) and the exact check
of one document (``Criteria.matches``). The database side, ``filter_footprints``, is
carried out by ``exchange.pact_api.querysets``: columns where they are the truth
(``status``), joins and case-insensitive ``LIKE`` on the canonical JSON that only
narrow, then the exact check on each survivor, so the result never depends on those
shortcuts being exact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from .fields import STATUSES, FieldError, default_validity_end, parse_datetime

if TYPE_CHECKING:
    from exchange.pact_api.querysets import FootprintQuerySet

__all__ = ["FILTER_NAMES", "Criteria", "filter_footprints", "parse_moment", "validity_period"]

#: The ListFootprints filter parameters of PACT v3 (also the RequestCreatedEvent criteria).
FILTER_NAMES: tuple[str, ...] = (
    "productId",
    "companyId",
    "geography",
    "classification",
    "validOn",
    "validAfter",
    "validBefore",
    "status",
)
_BY_FOLDED_NAME = {name.casefold(): name for name in FILTER_NAMES}
#: The properties of ``pcf`` that declare its geography (at most one is present).
GEOGRAPHY_KEYS = ("geographyCountry", "geographyRegionOrSubregion", "geographyCountrySubdivision")
_STATUSES = {status.casefold(): status for status in STATUSES}


# ------------------------------------------------------------------------------ parsing

_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME_RE = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]+))?)?"
    r"(?P<offset>[Zz]|[+\- ][0-9]{2}:?[0-9]{2})?"
)


def parse_moment(text: str) -> datetime | None:
    """A filter date: an RFC 3339 date-time, leniently (see the module text); None when
    it is not one."""
    text = text.strip()
    if _DATE_RE.fullmatch(text):
        try:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            return None
    match = _DATETIME_RE.fullmatch(text)
    if match is None:
        return None
    fraction = (match.group("fraction") or "")[:6].ljust(6, "0")
    offset_text = match.group("offset") or "Z"
    if offset_text in ("Z", "z"):
        tz: timezone = UTC
    else:
        sign = -1 if offset_text[0] == "-" else 1
        digits = offset_text[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            return None
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        year, month, day = (int(part) for part in match.group("date").split("-"))
        return datetime(
            year,
            month,
            day,
            int(match.group("hour")),
            int(match.group("minute")),
            int(match.group("second") or 0),
            int(fraction),
            tzinfo=tz,
        )
    except ValueError:
        return None


def _alternatives(values: Iterable[Any]) -> list[str]:
    """Each value whole and split at its commas, stripped, without empties, in order."""
    seen: dict[str, None] = {}
    for raw in values:
        if not isinstance(raw, str):
            continue
        for candidate in (raw, *raw.split(",")):
            candidate = candidate.strip()
            if candidate:
                seen.setdefault(candidate, None)
    return list(seen)


def _text_key(value: str) -> str | None:
    """The case-folded form a stored value is compared with, or None when no stored
    value can equal it (identifiers and geography codes are ASCII without quotes,
    backslashes or control characters, by validation)."""
    key = value.casefold()
    if not key.isascii() or any(c in key for c in '"\\') or any(ord(c) < 32 for c in key):
        return None
    return key


def _as_lists(params: Mapping[str, Any]) -> dict[str, list[str]]:
    """The known criteria of a query (a QueryDict or a plain mapping of lists)."""
    criteria: dict[str, list[str]] = {}
    getlist = getattr(params, "getlist", None)
    for key in params:
        name = _BY_FOLDED_NAME.get(str(key).casefold())
        if name is None:
            continue
        raw = getlist(key) if getlist is not None else params[key]
        values = [raw] if isinstance(raw, str) else list(raw or [])
        criteria.setdefault(name, []).extend(v for v in values if isinstance(v, str))
    return criteria


# ------------------------------------------------------------------------------ criteria


@dataclass
class Criteria:
    """Parsed filter criteria: what each criterion can still match.

    For each criterion given, the set of alternatives that can match something; a
    criterion given with only alternatives that cannot match makes ``impossible``.
    """

    product_ids: set[str] | None = None
    company_ids: set[str] | None = None
    classifications: set[str] | None = None
    geographies: set[str] | None = None
    valid_on: list[datetime] | None = None
    valid_after: list[datetime] | None = None
    valid_before: list[datetime] | None = None
    statuses: set[str] | None = None
    impossible: bool = False
    given: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> Criteria:
        given = {
            name: values
            for name, values in _as_lists(params).items()
            if _alternatives(values)  # a criterion with only empty values is not given
        }
        criteria = cls(given=given)
        text_attributes = {
            "productId": "product_ids",
            "companyId": "company_ids",
            "classification": "classifications",
            "geography": "geographies",
        }
        moment_attributes = {
            "validOn": "valid_on",
            "validAfter": "valid_after",
            "validBefore": "valid_before",
        }
        for name, values in given.items():
            alternatives = _alternatives(values)
            possible: set[str] | list[datetime]
            if name in text_attributes:
                possible = {key for key in map(_text_key, alternatives) if key is not None}
                setattr(criteria, text_attributes[name], possible)
            elif name in moment_attributes:
                possible = [m for m in map(parse_moment, alternatives) if m is not None]
                setattr(criteria, moment_attributes[name], possible)
            else:  # status
                possible = {
                    _STATUSES[a.casefold()] for a in alternatives if a.casefold() in _STATUSES
                }
                criteria.statuses = possible
            if not possible:
                criteria.impossible = True
        return criteria

    # --- which checks the stored columns cannot settle ---------------------------------

    @property
    def needs_document(self) -> bool:
        """Whether a criterion is about the document's content (identifiers, geography,
        classifications): those are verified on the parsed document."""
        return any(
            value is not None
            for value in (
                self.product_ids,
                self.company_ids,
                self.classifications,
                self.geographies,
            )
        )

    @property
    def has_validity(self) -> bool:
        return any(v is not None for v in (self.valid_on, self.valid_after, self.valid_before))

    @property
    def needs_python(self) -> bool:
        """Whether the SQL side alone is not exact: anything but ``status``."""
        return self.needs_document or self.has_validity

    # --- Python: the exact rule --------------------------------------------------------

    def matches(self, document: Mapping[str, Any] | None, reference_period_end: datetime) -> bool:
        """Whether a footprint matches every criterion except ``status`` (which
        the SQL side settles exactly from the column).

        ``document`` is the parsed stored document; it may be None only when
        ``needs_document`` is false and the document gives no validity period.
        """
        if self.impossible:
            return False
        doc: Mapping[str, Any] = document or {}
        if self.product_ids is not None and not _any_in(doc.get("productIds"), self.product_ids):
            return False
        if self.company_ids is not None and not _any_in(doc.get("companyIds"), self.company_ids):
            return False
        if self.classifications is not None and not _any_in(
            doc.get("productClassifications"), self.classifications
        ):
            return False
        if self.geographies is not None:
            pcf = doc.get("pcf")
            declared = [pcf.get(key) for key in GEOGRAPHY_KEYS] if isinstance(pcf, dict) else []
            if not _any_in(declared, self.geographies):
                return False
        if self.has_validity:
            start, end = validity_period(doc, reference_period_end)
            if self.valid_on is not None and not any(start <= m <= end for m in self.valid_on):
                return False
            if self.valid_after is not None and not any(start > m for m in self.valid_after):
                return False
            if self.valid_before is not None and not any(end < m for m in self.valid_before):
                return False
        return True

    def as_params(self) -> dict[str, list[str]]:
        """The criteria as given (known names, non-empty), e.g. to carry in a page link."""
        return {name: list(values) for name, values in self.given.items()}


def _any_in(values: Any, keys: set[str]) -> bool:
    if not isinstance(values, list):
        return False
    return any(isinstance(value, str) and value.casefold() in keys for value in values)


def validity_period(
    document: Mapping[str, Any], reference_period_end: datetime
) -> tuple[datetime, datetime]:
    """The footprint's validity period: the declared one, with the specification's
    default for a missing bound (start: the reference period's end; end: 3 years
    after it)."""
    start: datetime = reference_period_end
    end: datetime | None = None
    for key in ("validityPeriodStart", "validityPeriodEnd"):
        raw = document.get(key)
        if raw is None:
            continue
        try:
            moment = parse_datetime(raw)
        except FieldError:
            continue
        if key == "validityPeriodStart":
            start = moment
        else:
            end = moment
    if end is None:
        try:
            end = default_validity_end(reference_period_end)
        except ValueError:
            end = datetime.max.replace(tzinfo=UTC)
    return start, end


# ------------------------------------------------------------------------------ the entry


def filter_footprints(
    queryset: FootprintQuerySet, params: Mapping[str, Sequence[str]]
) -> FootprintQuerySet:
    """``queryset`` filtered by the PACT v3 ListFootprints criteria in ``params``.

    ``params`` maps criterion names to lists of values (a ``QueryDict`` or a plain
    dict; a bare string counts as one value). Unknown names are ignored. The result is
    a queryset of the same footprints as ``queryset``, to be ordered and sliced by the
    caller; a criterion no value of which can match makes it empty (never an error).
    """
    from exchange.pact_api import querysets  # the database side (Django)

    return querysets.filter_footprints(queryset, Criteria.parse(params))
