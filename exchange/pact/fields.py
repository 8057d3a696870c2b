"""Value formats of the PACT v3 data model: decimals, timestamps, identifiers, code lists.

Pure functions over the parsed JSON, no Django: the ``carbonx validate`` CLI runs them
offline. Every ``parse_*`` function returns the parsed value, or raises ``FieldError``
whose message names the rule that the value breaks.

All patterns spell digits as ``[0-9]``: Python's ``\\d`` also matches other scripts'
digits (and ``decimal.Decimal`` would happily parse them), which the specification's
patterns do not mean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import MAXYEAR, UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

__all__ = [
    "CROSS_SECTORAL_STANDARDS",
    "DECLARED_UNITS",
    "ISO_3166_1_ALPHA_2",
    "REGIONS_OR_SUBREGIONS",
    "SPEC_VERSION_PATTERN",
    "DecimalRule",
    "FieldError",
    "default_validity_end",
    "describe",
    "json_type",
    "parse_datetime",
    "parse_decimal",
    "parse_semver",
    "parse_uri",
    "parse_urn",
    "parse_uuid",
    "urn_equivalence_key",
]


class FieldError(ValueError):
    """A value breaks a format rule; the message says which (without the pointer)."""


# --------------------------------------------------------------------------- code lists

#: ``CarbonFootprint.declaredUnitOfMeasurement`` values allowed by PACT v3.
DECLARED_UNITS: tuple[str, ...] = (
    "liter",
    "kilogram",
    "cubic meter",
    "kilowatt hour",
    "megajoule",
    "ton kilometer",
    "square meter",
    "piece",
    "hour",
    "megabit second",
)

#: Units for which the product mass is not relevant (energy, logistics, services); the
#: methodology wants ``productMassPerDeclaredUnit`` = 0 for them.
MASSLESS_UNITS: frozenset[str] = frozenset(
    {"kilowatt hour", "megajoule", "ton kilometer", "hour", "megabit second"}
)

#: Units for which ``productMassPerDeclaredUnit`` MUST be the mass of the declared unit.
MASS_REQUIRED_UNITS: frozenset[str] = frozenset({"piece", "liter"})

#: UN M49 regions and subregions accepted in ``geographyRegionOrSubregion``.
REGIONS_OR_SUBREGIONS: tuple[str, ...] = (
    "Africa",
    "Americas",
    "Asia",
    "Europe",
    "Oceania",
    "Australia and New Zealand",
    "Central Asia",
    "Eastern Asia",
    "Eastern Europe",
    "Latin America and the Caribbean",
    "Melanesia",
    "Micronesia",
    "Northern Africa",
    "Northern America",
    "Northern Europe",
    "Polynesia",
    "South-eastern Asia",
    "Southern Asia",
    "Southern Europe",
    "Sub-Saharan Africa",
    "Western Asia",
    "Western Europe",
)

#: The cross-sectoral standards PACT v3 names. Other values are accepted (later
#: revisions may add some) but draw a warning.
CROSS_SECTORAL_STANDARDS: tuple[str, ...] = (
    "ISO14067",
    "ISO14083",
    "ISO14040-44",
    "GHGP-Product",
    "PEF",
    "PACT-1.0",
    "PACT-2.0",
    "PACT-3.0",
    "PAS2050",
)

PRODUCT_OR_SECTOR_RULE_OPERATORS: tuple[str, ...] = ("PEF", "EPD International", "Other")
VERIFICATION_COVERAGES: tuple[str, ...] = ("PCF calculation model", "PCF program", "product level")
CCU_CALCULATION_APPROACHES: tuple[str, ...] = ("Cut-off", "Credit")
STATUSES: tuple[str, ...] = ("Active", "Deprecated")

# The officially assigned ISO 3166-1 alpha-2 codes (249), grouped by first letter.
_ALPHA_2_BY_LETTER = {
    "A": "DEFGILMOQRSTUWXZ",
    "B": "ABDEFGHIJLMNOQRSTVWYZ",
    "C": "ACDFGHIKLMNORUVWXYZ",
    "D": "EJKMOZ",
    "E": "CEGHRST",
    "F": "IJKMOR",
    "G": "ABDEFGHILMNPQRSTUWY",
    "H": "KMNRTU",
    "I": "DELMNOQRST",
    "J": "EMOP",
    "K": "EGHIMNPRWYZ",
    "L": "ABCIKRSTUVY",
    "M": "ACDEFGHKLMNOPQRSTUVWXYZ",
    "N": "ACEFGILOPRUZ",
    "O": "M",
    "P": "AEFGHKLMNRSTWY",
    "Q": "A",
    "R": "EOSUW",
    "S": "ABCDEGHIJKLMNORSTVXYZ",
    "T": "CDFGHJKLMNORTVWZ",
    "U": "AGMSYZ",
    "V": "ACEGINU",
    "W": "FS",
    "Y": "ET",
    "Z": "AMW",
}

#: ISO 3166-1 alpha-2 country codes (officially assigned; no user-assigned or reserved).
ISO_3166_1_ALPHA_2: frozenset[str] = frozenset(
    first + second for first, seconds in _ALPHA_2_BY_LETTER.items() for second in seconds
)

COUNTRY_RE = re.compile(r"[A-Z]{2}")
SUBDIVISION_RE = re.compile(r"([A-Z]{2})-[A-Z0-9]{1,3}")
IPCC_AR_RE = re.compile(r"AR([0-9]+)")

#: ``ProductFootprint.specVersion``: ``major.minor.patch`` with an optional ``-YYYYMMDD``.
#: Anchored; use ``fullmatch``.
#: The PACT Technical Specifications version of the documents this exchange writes
#: (portal form, spreadsheet rows, demo data); any 3.x.y is accepted on input.
SPEC_VERSION = "3.0.3"

SPEC_VERSION_PATTERN: re.Pattern[str] = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9]{8})?$")


# --------------------------------------------------------------------------- helpers


def json_type(value: object) -> str:
    """The JSON type name of a parsed value (``bool`` before ``int``: bool is an int)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def describe(value: object, limit: int = 60) -> str:
    """A short rendering of a value for a message: strings quoted, long ones cut."""
    if isinstance(value, str):
        text = value if len(value) <= limit else value[: limit - 1] + "…"
        return repr(text)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json_type(value)


# --------------------------------------------------------------------------- decimals

#: PACT's ``Decimal`` pattern: optional sign, digits, optional fraction. No exponent,
#: no leading or trailing dot, no spaces, no NaN/Infinity.
DECIMAL_RE = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


@dataclass(frozen=True)
class DecimalRule:
    """A numeric constraint on a decimal field: optional bounds, each open or closed."""

    low: Decimal | None = None
    high: Decimal | None = None
    low_open: bool = False
    high_open: bool = False

    def admits(self, value: Decimal) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return not (
            self.high is not None and (value >= self.high if self.high_open else value > self.high)
        )

    def text(self) -> str:
        if self.low is not None and self.high is not None:
            return f"between {self.low} and {self.high} inclusive"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {self.low}"
        if self.high is not None:
            return f"{'<' if self.high_open else '<='} {self.high}"
        return "any decimal"


ANY = DecimalRule()
POSITIVE_NON_ZERO = DecimalRule(low=Decimal(0), low_open=True)
POSITIVE_OR_ZERO = DecimalRule(low=Decimal(0))
NEGATIVE_OR_ZERO = DecimalRule(high=Decimal(0))
NEGATIVE_NON_ZERO = DecimalRule(high=Decimal(0), high_open=True)
PERCENT = DecimalRule(low=Decimal(0), high=Decimal(100))
DQR = DecimalRule(low=Decimal(1), high=Decimal(5))


def parse_decimal(value: object, rule: DecimalRule = ANY) -> Decimal:
    """Parse a PACT decimal string and check its numeric rule (never via float)."""
    if not isinstance(value, str):
        hint = ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            shown = format(Decimal(repr(value)), "f") if isinstance(value, float) else str(value)
            hint = f' (write it as a string, e.g. "{shown}")'
        raise FieldError(f"must be a decimal string, got {json_type(value)}{hint}")
    if not DECIMAL_RE.fullmatch(value):
        raise FieldError(
            "must be a decimal string of digits with an optional sign and fraction "
            f"(no exponent, spaces or NaN), got {describe(value)}"
        )
    try:
        number = Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only finite numbers
        raise FieldError(f"is not a decimal number: {describe(value)}") from exc
    if not rule.admits(number):
        raise FieldError(f"must be a decimal {rule.text()}, got {describe(value)}")
    return number


# --------------------------------------------------------------------------- date-time

# RFC 3339 ``date-time`` (the OpenAPI ``format: date-time``): full date, "T", full time
# with seconds, optional fraction, and a mandatory offset ("Z" or ±hh:mm).
_DATETIME_RE = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})[Tt]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]+))?"
    r"(?P<offset>[Zz]|(?P<sign>[+-])(?P<oh>[0-9]{2}):(?P<om>[0-9]{2}))"
)


def parse_datetime(value: object) -> datetime:
    """Parse an RFC 3339 date-time into an aware ``datetime``."""
    if not isinstance(value, str):
        raise FieldError(f"must be a date-time string, got {json_type(value)}")
    match = _DATETIME_RE.fullmatch(value)
    if match is None:
        raise FieldError(
            "must be an RFC 3339 date-time with seconds and a UTC offset, "
            f"e.g. '2025-01-01T00:00:00Z', got {describe(value)}"
        )
    parts = {k: int(v) for k, v in match.groupdict().items() if v and k not in {"sign", "offset"}}
    if parts["second"] == 60:
        raise FieldError(f"leap seconds are not supported, got {describe(value)}")
    if parts.get("oh", 0) > 23 or parts.get("om", 0) > 59:
        raise FieldError(f"has an out-of-range UTC offset: {describe(value)}")
    offset = timedelta(hours=parts.get("oh", 0), minutes=parts.get("om", 0))
    if match.group("sign") == "-":
        offset = -offset
    fraction = (match.group("fraction") or "")[:6].ljust(6, "0")
    try:
        return datetime(
            parts["year"],
            parts["month"],
            parts["day"],
            parts["hour"],
            parts["minute"],
            parts["second"],
            int(fraction),
            tzinfo=UTC if not offset else timezone(offset),
        )
    except ValueError as exc:
        raise FieldError(f"is not a real date and time ({exc}): {describe(value)}") from exc


def default_validity_end(reference_period_end: datetime) -> datetime:
    """The end of the default validity period: 3 calendar years after the reference period.

    29 February maps to 28 February (the latest day that is not past three years).
    Raises ``ValueError`` when that is beyond the year 9999.
    """
    year = reference_period_end.year + 3
    if year > MAXYEAR:
        raise ValueError(
            f"3 years after {reference_period_end.isoformat()} is beyond year {MAXYEAR}"
        )
    try:
        return reference_period_end.replace(year=year)
    except ValueError:  # 29 February into a non-leap year
        return reference_period_end.replace(year=year, day=28)


# --------------------------------------------------------------------------- identifiers

_UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def parse_uuid(value: object) -> str:
    """A UUID in its RFC 4122 string form (8-4-4-4-12 hex digits, no braces)."""
    if not isinstance(value, str):
        raise FieldError(f"must be a UUID string, got {json_type(value)}")
    if not _UUID_RE.fullmatch(value):
        raise FieldError(
            "must be a UUID in 8-4-4-4-12 hex form, e.g. "
            f"'0b5e3c57-6f2c-4a55-9d1e-3a0c2f6b7d10', got {describe(value)}"
        )
    return value


# RFC 3986 / RFC 8141 character classes.
_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
_URN_RE = re.compile(
    r"(?P<scheme>[uU][rR][nN]):(?P<nid>[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9]):"
    rf"(?P<nss>{_PCHAR}(?:{_PCHAR}|/)*)"
    rf"(?P<rq>(?:\?\+{_PCHAR}(?:{_PCHAR}|[/?])*)?(?:\?={_PCHAR}(?:{_PCHAR}|[/?])*)?)"
    rf"(?P<f>#(?:{_PCHAR}|[/?])*)?"
)
_URN_PREFIX_RE = re.compile(r"[uU][rR][nN]:")
_NID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9]")
_BAD_PERCENT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def parse_urn(value: object) -> str:
    """A URN as RFC 8141 defines it: ``urn:<NID>:<NSS>`` in ASCII."""
    if not isinstance(value, str):
        raise FieldError(f"must be a URN string, got {json_type(value)}")
    if _URN_RE.fullmatch(value):
        return value
    if not _URN_PREFIX_RE.match(value):
        reason = "it must start with 'urn:'"
    elif any(ord(c) > 127 for c in value):
        reason = "it must be ASCII (percent-encode other characters as UTF-8, RFC 3986)"
    elif any(c.isspace() for c in value):
        reason = "it must not contain whitespace"
    elif _BAD_PERCENT_RE.search(value):
        reason = "it has a '%' not followed by two hex digits"
    else:
        nid, _, nss = value[4:].partition(":")
        if not _NID_RE.fullmatch(nid):
            reason = "it needs a namespace id of 2-32 letters, digits or '-' (not at the ends)"
        elif not nss:
            reason = "it needs a non-empty namespace-specific string after the namespace id"
        else:
            reason = "it contains a character that RFC 8141 does not allow"
    raise FieldError(f"must be a URN (RFC 8141); {reason}, got {describe(value)}")


def urn_equivalence_key(urn: str) -> str:
    """RFC 8141 §3 lexical equivalence: case-fold ``urn`` and the NID, upper-case %HH."""
    match = _URN_RE.fullmatch(urn)
    if match is None:
        return urn
    nss = re.sub(r"%[0-9A-Fa-f]{2}", lambda m: m.group(0).upper(), match.group("nss"))
    return f"urn:{match.group('nid').lower()}:{nss}"


# RFC 3986 absolute URI, checked by character class and component shape.
_URI_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(.*)", re.DOTALL)
_URI_CHARS_RE = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
_HTTP_RE = re.compile(r"//(?P<authority>[^/?#]+)(?P<rest>.*)", re.DOTALL)


def parse_uri(value: object, *, web: bool = False) -> str:
    """An absolute URI (RFC 3986); with ``web`` it must be an http(s) URL with a host."""
    if not isinstance(value, str):
        raise FieldError(f"must be a URI string, got {json_type(value)}")
    match = _URI_SCHEME_RE.fullmatch(value)
    if match is None:
        raise FieldError(
            f"must be an absolute URI with a scheme, e.g. https://…, got {describe(value)}"
        )
    if not _URI_CHARS_RE.fullmatch(match.group(2)):
        raise FieldError(
            "must be a URI (RFC 3986): no spaces or non-ASCII characters (percent-encode "
            f"them), got {describe(value)}"
        )
    scheme = match.group(1).lower()
    if scheme in {"http", "https"} and not _HTTP_RE.fullmatch(match.group(2)):
        raise FieldError(f"must be an http(s) URL with a host, got {describe(value)}")
    if web and scheme not in {"http", "https"}:
        raise FieldError(f"must be an http or https URL, got {describe(value)}")
    return value


_SEMVER_RE = re.compile(
    r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)"
    r"(?:-(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*)?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?"
)


def parse_semver(value: object) -> str:
    """A Semantic Versioning 2.0.0 version string (``major.minor.patch`` …)."""
    if not isinstance(value, str):
        raise FieldError(f"must be a version string, got {json_type(value)}")
    if not _SEMVER_RE.fullmatch(value):
        raise FieldError(
            "must be a Semantic Versioning 2.0.0 version (major.minor.patch), "
            f"got {describe(value)}"
        )
    return value
