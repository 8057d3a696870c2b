"""The PACT v3.0 ProductFootprint validator: every field, every rule, every problem.

One validator serves the platform API, the portal, bulk upload and the offline
``carbonx validate`` CLI, so this module imports no Django (only the standard library).

Input is the parsed JSON (as ``trust.jcs.loads_strict`` produces it). The walk collects
*all* problems, each with the RFC 6901 JSON Pointer of the offending value (or of the
missing property), and never stops at the first one.

Two kinds of finding:

- **problems** break the OpenAPI schema of PACT v3 or a MUST stated in its data model
  (required properties, types, formats, enums, decimal sign rules, the geography,
  validity-period, packaging and CCS/CCU rules, DQR and percentage ranges, …). A
  footprint with problems is refused.
- **warnings** are SHOULDs and PACT Methodology reporting rules (which the specification
  asks to surface to users, not to enforce between machines), plus properties PACT v3
  does not define (the schema allows them; several are v2 names that v3 removed).

"Undefined" follows the specification: a property that is absent or ``null``. A
required property that is ``null`` is therefore missing.

Choices where the specification leaves room (each also noted where it is made):

- Decimals: the ``Decimal`` pattern (no exponent, no NaN) is the grammar; sign rules are
  then checked on the ``Decimal`` value, so ``"-0"`` is a valid ``>= 0`` value and
  ``"+0"`` a valid ``<= 0`` one (the sub-type patterns of the OpenAPI file are
  unanchored or contradictory; the numeric reading is their evident intent).
- ``productMassPerDeclaredUnit`` is a plain Decimal in the schema; a negative mass is
  refused, and 0 is refused for ``piece`` and ``liter`` (the text says the mass MUST be
  given for them). ``primaryDataShare`` and ``exemptedEmissionsPercent`` are 0..100.
- date-time is RFC 3339 (OpenAPI ``format: date-time``): seconds and an offset are
  required, leap seconds are refused. A UUID is the 8-4-4-4-12 form without braces.
- ``specVersion`` must have major version 3: this is the v3 data model.
- Validity period: either bound may be given alone (v3 says "if specified" for each);
  a lone end must lie after ``referencePeriodEnd``, a lone start before the default end.
- ``productOrSectorSpecificRules``: the schema's ``minItems: 1`` wins over the text's
  "MUST be empty"; leave the property out when no rules apply. ``otherOperatorName``
  is required on a rule whose operator is ``Other``.
- CCS "false": capture and removals must be undefined; ``technologicalCO2CaptureOrigin``
  too unless CCU data is reported (the origin also serves CCU).
- ``dataSchema`` / ``documentation`` of an extension must be http(s) URLs ("publicly
  accessible URL"); ``ccuCreditCertification`` may be any absolute URI.
- Unknown properties are accepted (no ``additionalProperties: false``) with a warning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from .fields import (
    ANY,
    CCU_CALCULATION_APPROACHES,
    CROSS_SECTORAL_STANDARDS,
    DECLARED_UNITS,
    DQR,
    IPCC_AR_RE,
    ISO_3166_1_ALPHA_2,
    MASS_REQUIRED_UNITS,
    MASSLESS_UNITS,
    NEGATIVE_OR_ZERO,
    PERCENT,
    POSITIVE_NON_ZERO,
    POSITIVE_OR_ZERO,
    PRODUCT_OR_SECTOR_RULE_OPERATORS,
    REGIONS_OR_SUBREGIONS,
    SPEC_VERSION_PATTERN,
    STATUSES,
    VERIFICATION_COVERAGES,
    DecimalRule,
    FieldError,
    default_validity_end,
    describe,
    json_type,
    parse_datetime,
    parse_decimal,
    parse_semver,
    parse_uri,
    parse_urn,
    parse_uuid,
    urn_equivalence_key,
)

__all__ = [
    "DECLARED_UNITS",
    "SPEC_VERSION_PATTERN",
    "FootprintInvalid",
    "Problem",
    "Review",
    "check_product_footprint",
    "default_validity_end",
    "review_product_footprint",
    "validate_product_footprint",
]

#: The major version of the PACT Technical Specifications this validator implements.
SUPPORTED_MAJOR: Final = 3


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class Problem:
    """One finding: where (an RFC 6901 JSON Pointer into the footprint) and which rule."""

    pointer: str  # RFC 6901 JSON Pointer, e.g. "/pcf/geographyCountry"
    message: str  # names the rule, e.g. "must be an ISO 3166-1 alpha-2 country code, got 'XX'"

    def __str__(self) -> str:
        return f"{self.pointer}: {self.message}"


class FootprintInvalid(ValueError):
    """A footprint breaks PACT v3; ``problems`` lists every broken rule, sorted by pointer."""

    problems: list[Problem]

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sort_problems(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(
            f"the footprint breaks {count} rule{'s' if count != 1 else ''} of PACT v3:\n{lines}"
        )


@dataclass(frozen=True)
class Review:
    """The full result: refusing ``problems`` and advisory ``warnings``, both sorted."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


def review_product_footprint(doc: object) -> Review:
    """Validate ``doc`` as a PACT v3 ProductFootprint; return problems and warnings."""
    run = _Run()
    if not isinstance(doc, dict):
        run.error("", f"a ProductFootprint must be a JSON object, got {json_type(doc)}")
    else:
        _walk_object(run, doc, "", PRODUCT_FOOTPRINT)
    return Review(sort_problems(run.problems), sort_problems(run.warnings))


def validate_product_footprint(doc: object) -> list[Problem]:
    """All problems that make ``doc`` an invalid PACT v3 ProductFootprint; [] when valid."""
    return review_product_footprint(doc).problems


def check_product_footprint(doc: object) -> None:
    """Raise ``FootprintInvalid`` (listing every problem) unless ``doc`` is valid."""
    problems = validate_product_footprint(doc)
    if problems:
        raise FootprintInvalid(problems)


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Sort by pointer, array indexes numerically (``/a/2`` before ``/a/10``); stable."""
    return sorted(problems, key=lambda p: _pointer_key(p.pointer))


def _pointer_key(pointer: str) -> tuple[tuple[int, int, str], ...]:
    tokens = pointer.split("/")[1:] if pointer else []
    return tuple((0, int(t), "") if t.isascii() and t.isdigit() else (1, 0, t) for t in tokens)


# --------------------------------------------------------------------------- walk machinery


def _join(pointer: str, token: str | int) -> str:
    """Append one RFC 6901 reference token (escaping ``~`` and ``/``)."""
    text = str(token)
    if "~" in text or "/" in text:
        text = text.replace("~", "~0").replace("/", "~1")
    return f"{pointer}/{text}"


class _Invalid:
    """Marker for a value that failed its check (its problem is already recorded)."""


INVALID: Final = _Invalid()


class _Run:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, pointer: str, message: str) -> None:
        self.problems.append(Problem(pointer, message))

    def warn(self, pointer: str, message: str) -> None:
        self.warnings.append(Problem(pointer, message))

    def check(self, value: object, pointer: str, check: Check) -> Any:
        try:
            return check(self, value, pointer)
        except FieldError as exc:
            self.error(pointer, str(exc))
            return INVALID


#: A check gets the run, the (non-null) value and its pointer; it returns the parsed
#: value, raises ``FieldError`` for a simple failure, or records problems itself (and
#: returns ``INVALID`` or a partial result) for nested values.
Check = Callable[[_Run, Any, str], Any]


@dataclass
class _Obj:
    """A walked object: its raw members, the parsed valid ones, and the defined names."""

    raw: dict[str, Any]
    parsed: dict[str, Any]
    defined: set[str]

    def get(self, name: str) -> Any:
        """The parsed value, or None when undefined or invalid."""
        return self.parsed.get(name)


Rule = Callable[[_Run, _Obj, str], None]


@dataclass(frozen=True)
class _ObjectSpec:
    name: str
    props: Mapping[str, Check]
    required: tuple[str, ...] = ()
    obsolete: Mapping[str, str] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()


def _walk_object(run: _Run, value: object, pointer: str, spec: _ObjectSpec) -> _Obj | _Invalid:
    if not isinstance(value, dict):
        run.error(pointer, f"must be {_a(spec.name)} object, got {json_type(value)}")
        return INVALID
    for name in spec.required:
        if name not in value:
            run.error(_join(pointer, name), f"is required ({_a(spec.name)} property)")
        elif value[name] is None:
            run.error(_join(pointer, name), "is required and must not be null")
    obj = _Obj(raw=value, parsed={}, defined=set())
    for key, item in value.items():
        where = _join(pointer, key)
        check = spec.props.get(key)
        if check is None:
            hint = spec.obsolete.get(key)
            run.warn(
                where,
                f"is not defined by PACT v3 ({hint})"
                if hint
                else f"is not a {spec.name} property of PACT v3 (accepted, ignored)",
            )
            continue
        if item is None:  # null = undefined; a required null is reported above
            continue
        obj.defined.add(key)
        result = run.check(item, where, check)
        if result is not INVALID:
            obj.parsed[key] = result
    for rule in spec.rules:
        rule(run, obj, pointer)
    return obj


def _a(name: str) -> str:
    return f"{'an' if name[0] in 'AEIOU' else 'a'} {name}"


def _when(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _object(spec: Callable[[], _ObjectSpec]) -> Check:
    # The spec is looked up lazily so that specs can refer to specs defined later.
    def check(run: _Run, value: Any, pointer: str) -> Any:
        return _walk_object(run, value, pointer, spec())

    return check


def _string(*, non_empty: bool = False, blank_warning: bool = False) -> Check:
    def check(run: _Run, value: Any, pointer: str) -> str:
        if not isinstance(value, str):
            raise FieldError(f"must be a string, got {json_type(value)}")
        if non_empty and not value:
            raise FieldError("must be a non-empty string")
        if blank_warning and not value.strip():
            run.warn(pointer, "is blank; it should say something to the data recipient")
        return value

    return check


def _enum(values: tuple[str, ...]) -> Check:
    def check(run: _Run, value: Any, pointer: str) -> str:
        if not isinstance(value, str) or value not in values:
            choices = ", ".join(repr(v) for v in values)
            raise FieldError(f"must be one of {choices}; got {describe(value)}")
        return value

    return check


def _boolean(run: _Run, value: Any, pointer: str) -> bool:
    if not isinstance(value, bool):
        raise FieldError(f"must be true or false, got {json_type(value)}")
    return value


def _decimal(rule: DecimalRule) -> Check:
    def check(run: _Run, value: Any, pointer: str) -> Decimal:
        return parse_decimal(value, rule)

    return check


def _datetime(run: _Run, value: Any, pointer: str) -> datetime:
    return parse_datetime(value)


def _uuid(run: _Run, value: Any, pointer: str) -> str:
    return parse_uuid(value)


def _urn(run: _Run, value: Any, pointer: str) -> str:
    urn = parse_urn(value)
    _pact_urn_warnings(run, urn, pointer)
    return urn


def _uri(*, web: bool = False) -> Check:
    def check(run: _Run, value: Any, pointer: str) -> str:
        return parse_uri(value, web=web)

    return check


def _array(item: Check, *, unique: bool, optional: bool, urns: bool = False) -> Check:
    """A non-empty JSON array (every array of the v3 model has minItems 1)."""

    def check(run: _Run, value: Any, pointer: str) -> Any:
        if not isinstance(value, list):
            raise FieldError(f"must be a non-empty array, got {json_type(value)}")
        if not value:
            raise FieldError(
                "must be a non-empty array"
                + (" (leave the property out when there is nothing to list)" if optional else "")
            )
        parsed: list[Any] = []
        seen: dict[str, int] = {}
        equivalent: dict[str, int] = {}
        for index, element in enumerate(value):
            where = _join(pointer, index)
            result = run.check(element, where, item)
            parsed.append(result)
            key = _json_key(element)
            if key in seen:
                if unique:
                    run.error(where, f"repeats item {seen[key]}; the items must be unique")
                else:
                    run.warn(where, f"repeats item {seen[key]}")
                continue
            seen[key] = index
            if urns and isinstance(result, str):
                canon = urn_equivalence_key(result)
                if canon in equivalent:
                    run.warn(where, f"is the same URN as item {equivalent[canon]} (RFC 8141 §3)")
                equivalent.setdefault(canon, index)
        return [p for p in parsed if p is not INVALID]

    return check


def _json_key(value: object) -> str:
    if isinstance(value, str):
        return "s" + value
    return "j" + json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)


# --------------------------------------------------------------------------- field checks


def _spec_version(run: _Run, value: Any, pointer: str) -> str:
    if not isinstance(value, str):
        raise FieldError(f"must be a version string, got {json_type(value)}")
    if not SPEC_VERSION_PATTERN.fullmatch(value):
        raise FieldError(
            "must be major.minor.patch with an optional -YYYYMMDD suffix, e.g. '3.0.3', "
            f"got {describe(value)}"
        )
    if int(value.split(".")[0]) != SUPPORTED_MAJOR:
        raise FieldError(
            f"must be a {SUPPORTED_MAJOR}.x.y version (this is the PACT v3 data model), "
            f"got {describe(value)}"
        )
    return value


def _country(run: _Run, value: Any, pointer: str) -> str:
    if not isinstance(value, str) or value not in ISO_3166_1_ALPHA_2:
        raise FieldError(
            f"must be an ISO 3166-1 alpha-2 country code (e.g. 'CN'), got {describe(value)}"
        )
    return value


_SUBDIVISION_RE = re.compile(r"([A-Z]{2})-[A-Z0-9]{1,3}")


def _subdivision(run: _Run, value: Any, pointer: str) -> str:
    match = _SUBDIVISION_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise FieldError(
            "must be an ISO 3166-2 subdivision code CC-XXX (country code, '-', 1-3 capital "
            f"letters or digits, e.g. 'CN-FJ'), got {describe(value)}"
        )
    if match.group(1) not in ISO_3166_1_ALPHA_2:
        raise FieldError(
            f"must start with an ISO 3166-1 alpha-2 country code, got {describe(value)}"
        )
    return value


def _ipcc_report(run: _Run, value: Any, pointer: str) -> str:
    if not isinstance(value, str) or not IPCC_AR_RE.fullmatch(value):
        raise FieldError(
            "must be 'AR' followed by the IPCC Assessment Report number, e.g. 'AR6', "
            f"got {describe(value)}"
        )
    return value


def _cross_sectoral_standard(run: _Run, value: Any, pointer: str) -> str:
    if not isinstance(value, str):
        raise FieldError(f"must be a string, got {json_type(value)}")
    if value == "PAS2050":
        run.warn(pointer, "PAS2050 is permitted but not recommended by PACT v3")
    elif value not in CROSS_SECTORAL_STANDARDS:
        run.warn(
            pointer,
            f"{describe(value)} is not one of the standards PACT v3 names "
            f"({', '.join(CROSS_SECTORAL_STANDARDS)}); accepted, as later revisions may add some",
        )
    return value


def _rule_name(run: _Run, value: Any, pointer: str) -> str:
    if not isinstance(value, str) or not value:
        raise FieldError(f"must be a non-empty string, got {describe(value)}")
    return value


def _extension_data(run: _Run, value: Any, pointer: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError(f"must be a JSON object, got {json_type(value)}")
    return value


# --------------------------------------------------------------------------- URN advice

_FQDN_RE = re.compile(
    r"(?=.{4,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]"
    r"(?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_PREFIX = "urn:pact:samr.gov.cn:uscc:"


def _pact_urn_warnings(run: _Run, urn: str, pointer: str) -> None:
    """Advice on ``urn:pact:`` identifiers (SHOULD be urn:pact:<domain>:<type>:<id>)."""
    if not urn.lower().startswith("urn:pact:"):
        return
    parts = urn[len("urn:pact:") :].split(":", 2)
    if len(parts) < 3 or not all(parts) or not _FQDN_RE.fullmatch(parts[0]):
        run.warn(
            pointer,
            "a urn:pact: identifier should read urn:pact:<issuer domain name>:<type>:<id>, "
            f"got {describe(urn)}",
        )
        return
    if urn.startswith(_USCC_PREFIX):
        code = urn[len(_USCC_PREFIX) :]
        if not _uscc_ok(code):
            run.warn(
                pointer,
                "is not a valid Unified Social Credit Code (GB 32100-2015: 18 characters, "
                f"correct check character), got {describe(code)}",
            )


def _uscc_ok(code: str) -> bool:
    if len(code) != 18 or any(c not in _USCC_ALPHABET for c in code):
        return False
    total = sum(_USCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(code[:17]))
    return code[17] == _USCC_ALPHABET[(31 - total % 31) % 31]


# --------------------------------------------------------------------------- cross-field rules

GEOGRAPHY: Final = ("geographyRegionOrSubregion", "geographyCountry", "geographyCountrySubdivision")
CCS_VALUES: Final = ("ccsTechnologicalCO2Capture", "technologicalCO2Removals")
CCU_VALUES: Final = ("ccuCarbonContent", "ccuCalculationApproach", "ccuCreditCertification")
CO2_ORIGIN: Final = "technologicalCO2CaptureOrigin"


def _rule_geography(run: _Run, pcf: _Obj, pointer: str) -> None:
    """None (global) or exactly one of region / country / subdivision may be defined."""
    defined = [name for name in GEOGRAPHY if name in pcf.defined]
    if len(defined) > 1:
        for name in defined:
            others = " and ".join(n for n in defined if n != name)
            run.error(
                _join(pointer, name),
                f"must be undefined when {others} is defined: the geography is global (none) "
                "or exactly one of geographyRegionOrSubregion, geographyCountry, "
                "geographyCountrySubdivision",
            )
    elif not defined:
        run.warn(
            _join(pointer, "geographyCountry"),
            "no geography given, so the footprint reads as global; a region, country or "
            "subdivision should be reported when the data is more specific",
        )


def _rule_reference_period(run: _Run, pcf: _Obj, pointer: str) -> None:
    start, end = pcf.get("referencePeriodStart"), pcf.get("referencePeriodEnd")
    if start is not None and end is not None and end <= start:
        run.error(
            _join(pointer, "referencePeriodEnd"),
            "must be after referencePeriodStart (the reference period runs from its start, "
            f"inclusive, to its end, exclusive), got {pcf.raw['referencePeriodEnd']!r} <= "
            f"{pcf.raw['referencePeriodStart']!r}",
        )


def _rule_packaging(run: _Run, pcf: _Obj, pointer: str) -> None:
    included = pcf.get("packagingEmissionsIncluded")
    where = _join(pointer, "packagingGhgEmissions")
    if included is False and "packagingGhgEmissions" in pcf.defined:
        run.error(where, "must be undefined when packagingEmissionsIncluded is false")
    elif included is True and "packagingGhgEmissions" not in pcf.defined:
        run.warn(where, "should be reported when packagingEmissionsIncluded is true")
    if "packagingEmissionsIncluded" not in pcf.defined:
        run.warn(
            _join(pointer, "packagingEmissionsIncluded"),
            "should be reported (PACT Methodology SHALL): say whether packaging is included",
        )


def _rule_ccs(run: _Run, pcf: _Obj, pointer: str) -> None:
    flag = pcf.get("ccsTechnologicalCO2CaptureIncluded")
    ccu_reported = any(name in pcf.defined for name in CCU_VALUES)
    if flag is False:
        for name in CCS_VALUES:
            if name in pcf.defined:
                run.error(
                    _join(pointer, name),
                    "must be undefined when ccsTechnologicalCO2CaptureIncluded is false",
                )
        if CO2_ORIGIN in pcf.defined and not ccu_reported:
            run.error(
                _join(pointer, CO2_ORIGIN),
                "must be undefined when ccsTechnologicalCO2CaptureIncluded is false "
                "(and no CCU is reported)",
            )
    elif flag is True:
        for name in (*CCS_VALUES, CO2_ORIGIN):
            if name not in pcf.defined:
                run.warn(
                    _join(pointer, name),
                    "should be reported (if known) when ccsTechnologicalCO2CaptureIncluded is true",
                )
    if "ccsTechnologicalCO2CaptureIncluded" not in pcf.defined:
        run.warn(
            _join(pointer, "ccsTechnologicalCO2CaptureIncluded"),
            "should be reported (PACT Methodology SHALL): say whether CCS takes place",
        )


def _rule_ccu(run: _Run, pcf: _Obj, pointer: str) -> None:
    approach = pcf.get("ccuCalculationApproach")
    certification = "ccuCreditCertification" in pcf.defined
    if approach == "Cut-off" and certification:
        run.error(
            _join(pointer, "ccuCreditCertification"),
            "is only for the Credit approach: must be undefined when ccuCalculationApproach "
            "is 'Cut-off'",
        )
    elif approach == "Credit" and not certification:
        run.warn(
            _join(pointer, "ccuCreditCertification"),
            "should link the certification of the credit when ccuCalculationApproach is 'Credit'",
        )
    if "ccuCalculationApproach" not in pcf.defined and (
        certification or "ccuCarbonContent" in pcf.defined
    ):
        run.warn(
            _join(pointer, "ccuCalculationApproach"),
            "should be reported ('Cut-off' or 'Credit') when CCU data is given",
        )


def _rule_declared_unit_mass(run: _Run, pcf: _Obj, pointer: str) -> None:
    unit, mass = pcf.get("declaredUnitOfMeasurement"), pcf.get("productMassPerDeclaredUnit")
    amount = pcf.get("declaredUnitAmount")
    if unit is None or mass is None:
        return
    where = _join(pointer, "productMassPerDeclaredUnit")
    if unit in MASS_REQUIRED_UNITS and mass == 0:
        run.error(
            where,
            f"must be the mass in kg of the declared unit (> 0) when declaredUnitOfMeasurement "
            f"is {unit!r}, got {pcf.raw['productMassPerDeclaredUnit']!r}",
        )
    elif unit in MASSLESS_UNITS and mass != 0:
        run.warn(
            where,
            f"should be 0 for a {unit!r} footprint (energy, logistics or service: the "
            "product mass is not relevant)",
        )
    elif unit == "kilogram" and amount is not None and mass != amount:
        run.warn(where, "should equal declaredUnitAmount when the declared unit is 'kilogram'")


def _rule_totals(run: _Run, pcf: _Obj, pointer: str) -> None:
    """Advisory arithmetic: including = excluding + biogenic uptake; parts within wholes."""
    excluding, including = (
        pcf.get("pcfExcludingBiogenicUptake"),
        pcf.get("pcfIncludingBiogenicUptake"),
    )
    uptake = pcf.get("biogenicCO2Uptake")
    if excluding is not None and including is not None and uptake is not None:
        expected = excluding + uptake
        if not _close(including, expected):
            run.warn(
                _join(pointer, "pcfIncludingBiogenicUptake"),
                "should equal pcfExcludingBiogenicUptake + biogenicCO2Uptake "
                f"({expected}), got {pcf.raw['pcfIncludingBiogenicUptake']!r}",
            )
    fossil, land = pcf.get("fossilGhgEmissions"), pcf.get("landManagementFossilGhgEmissions")
    if fossil is not None and land is not None and land > fossil:
        run.warn(
            _join(pointer, "landManagementFossilGhgEmissions"),
            "is larger than fossilGhgEmissions, which already includes it",
        )


def _close(a: Decimal, b: Decimal) -> bool:
    scale = max(abs(a), abs(b))
    return abs(a - b) <= max(scale / 100, Decimal("0.001"))


def _rule_reporting(run: _Run, pcf: _Obj, pointer: str) -> None:
    """PACT Methodology reporting rules and SHOULDs: advice, never refusal."""
    for name, rule in (
        ("primaryDataShare", "SHALL"),
        ("dqi", "SHALL from 2027"),
        ("boundaryProcessesDescription", "SHOULD"),
        ("allocationRulesDescription", "SHOULD"),
    ):
        if name not in pcf.defined:
            run.warn(_join(pointer, name), f"should be reported (PACT Methodology {rule})")
    reports = pcf.get("ipccCharacterizationFactors")
    if reports:
        latest = max(int(r[2:]) for r in reports)
        if latest < 6:
            run.warn(
                _join(pointer, "ipccCharacterizationFactors"),
                "should include the latest IPCC characterization factors (AR6)",
            )
    percent = pcf.get("exemptedEmissionsPercent")
    description = pcf.raw.get("exemptedEmissionsDescription")
    if percent and percent > 0 and not (isinstance(description, str) and description.strip()):
        run.warn(
            _join(pointer, "exemptedEmissionsDescription"),
            "should explain why emissions were exempted (exemptedEmissionsPercent > 0)",
        )


def _rule_other_operator(run: _Run, rule: _Obj, pointer: str) -> None:
    operator = rule.get("operator")
    if operator == "Other" and "otherOperatorName" not in rule.defined:
        run.error(_join(pointer, "otherOperatorName"), "is required when operator is 'Other'")
    elif operator is not None and operator != "Other" and "otherOperatorName" in rule.defined:
        run.warn(
            _join(pointer, "otherOperatorName"),
            f"is only meant for operator 'Other' (operator is {operator!r})",
        )


def _rule_validity_period(run: _Run, pf: _Obj, pointer: str) -> None:
    """validityPeriodStart >= referencePeriodEnd; start < end <= referencePeriodEnd + 3 years."""
    pcf = pf.get("pcf")
    reference_end = pcf.get("referencePeriodEnd") if isinstance(pcf, _Obj) else None
    start, end = pf.get("validityPeriodStart"), pf.get("validityPeriodEnd")
    start_at, end_at = _join(pointer, "validityPeriodStart"), _join(pointer, "validityPeriodEnd")
    latest = None
    if reference_end is not None:
        try:
            latest = default_validity_end(reference_end)
        except ValueError:  # beyond year 9999: no date can be later
            latest = None
    if ("validityPeriodStart" in pf.defined) != ("validityPeriodEnd" in pf.defined):
        given = (
            "validityPeriodStart" if "validityPeriodStart" in pf.defined else "validityPeriodEnd"
        )
        run.warn(
            _join(pointer, given),
            "a validity period should give both validityPeriodStart and validityPeriodEnd",
        )
    if reference_end is not None and start is not None and start < reference_end:
        run.error(
            start_at,
            "must be at or after pcf.referencePeriodEnd "
            f"({pcf.raw['referencePeriodEnd']}), got {pf.raw['validityPeriodStart']!r}",
        )
    if end is not None:
        if start is not None and end <= start:
            run.error(
                end_at,
                f"must be after validityPeriodStart ({pf.raw['validityPeriodStart']}), "
                f"got {pf.raw['validityPeriodEnd']!r}",
            )
        elif start is None and reference_end is not None and end <= reference_end:
            run.error(
                end_at,
                "must be after pcf.referencePeriodEnd "
                f"({pcf.raw['referencePeriodEnd']}), where the validity period starts, "
                f"got {pf.raw['validityPeriodEnd']!r}",
            )
        if latest is not None and end > latest:
            run.error(
                end_at,
                "must be at most 3 years after pcf.referencePeriodEnd "
                f"(<= {_when(latest)}), got {pf.raw['validityPeriodEnd']!r}",
            )
    elif start is not None and latest is not None and start >= latest:
        run.error(
            start_at,
            "must be before the end of the default validity period, 3 years after "
            f"pcf.referencePeriodEnd ({_when(latest)}), got {pf.raw['validityPeriodStart']!r}",
        )


def _rule_product_footprint(run: _Run, pf: _Obj, pointer: str) -> None:
    own_id = pf.get("id")
    for index, preceding in enumerate(pf.raw.get("precedingPfIds") or []):
        if (
            own_id is not None
            and isinstance(preceding, str)
            and preceding.lower() == own_id.lower()
        ):
            run.warn(
                _join(_join(pointer, "precedingPfIds"), index),
                "names this footprint's own id; a footprint cannot precede itself",
            )
    if "comment" not in pf.defined:
        run.warn(
            _join(pointer, "comment"),
            "should say how the footprint was calculated (PACT Methodology SHOULD)",
        )


# --------------------------------------------------------------------------- object specs

_V2_PF: Final = {
    "version": "removed in v3: a change is a new footprint with a new id",
    "updated": "removed in v3: footprints are immutable",
    "statusComment": "removed in v3: use comment",
    "productCategoryCpc": "removed in v3: use productClassifications, e.g. urn:cpc:…",
}
_V2_PCF: Final = {
    "declaredUnit": "removed in v3: use declaredUnitOfMeasurement",
    "unitaryProductAmount": "removed in v3: use declaredUnitAmount",
    "pCfExcludingBiogenic": "removed in v3: use pcfExcludingBiogenicUptake",
    "pCfIncludingBiogenic": "removed in v3: use pcfIncludingBiogenicUptake",
    "dLucGhgEmissions": "removed in v3: use landUseChangeGhgEmissions",
    "iLucGhgEmissions": "removed in v3",
    "landManagementGhgEmissions": "removed in v3: use the landManagement* properties",
    "biogenicCarbonWithdrawal": "removed in v3: use biogenicCO2Uptake",
    "otherBiogenicGhgEmissions": "removed in v3: use biogenicNonCO2Emissions",
    "crossSectoralStandardsUsed": "removed in v3: use crossSectoralStandards",
    "characterizationFactors": "removed in v3: use ipccCharacterizationFactors",
    "ipccCharacterizationFactorsSources": "removed in v3: use ipccCharacterizationFactors",
    "biogenicAccountingMethodology": "removed in v3: use crossSectoralStandards and comment",
    "uncertaintyAssessmentDescription": "removed in v3",
    "assurance": "renamed in v3: use verification",
}
_V2_DQI: Final = {
    "coveragePercent": "removed in v3",
    "reliabilityDQR": "removed in v3",
    "completenessDQR": "removed in v3",
}
_V2_VERIFICATION: Final = {
    "assurance": "removed in v3: the presence of verification says it",
    "level": "removed in v3",
    "boundary": "removed in v3",
}


def _pcf_spec() -> _ObjectSpec:
    return CARBON_FOOTPRINT


def _dqi_spec() -> _ObjectSpec:
    return DATA_QUALITY_INDICATORS


def _verification_spec() -> _ObjectSpec:
    return VERIFICATION


def _ef_source_spec() -> _ObjectSpec:
    return EMISSION_FACTOR_SOURCE


def _rule_spec() -> _ObjectSpec:
    return PRODUCT_OR_SECTOR_SPECIFIC_RULE


def _extension_spec() -> _ObjectSpec:
    return DATA_MODEL_EXTENSION


_non_negative = _decimal(POSITIVE_OR_ZERO)
_non_positive = _decimal(NEGATIVE_OR_ZERO)

DATA_QUALITY_INDICATORS: Final = _ObjectSpec(
    name="DataQualityIndicators",
    props={
        "technologicalDQR": _decimal(DQR),
        "geographicalDQR": _decimal(DQR),
        "temporalDQR": _decimal(DQR),
    },
    required=("technologicalDQR", "geographicalDQR", "temporalDQR"),
    obsolete=_V2_DQI,
)

VERIFICATION: Final = _ObjectSpec(
    name="Verification",
    props={
        "coverage": _enum(VERIFICATION_COVERAGES),
        "providerName": _string(non_empty=True),
        "completedAt": _datetime,
        "standardName": _string(),
        "comments": _string(),
    },
    obsolete=_V2_VERIFICATION,
)

EMISSION_FACTOR_SOURCE: Final = _ObjectSpec(
    name="EmissionFactorSource",
    props={"name": _string(non_empty=True), "version": _string(non_empty=True)},
    required=("name", "version"),
)

PRODUCT_OR_SECTOR_SPECIFIC_RULE: Final = _ObjectSpec(
    name="ProductOrSectorSpecificRule",
    props={
        "operator": _enum(PRODUCT_OR_SECTOR_RULE_OPERATORS),
        "ruleNames": _array(_rule_name, unique=True, optional=False),
        "otherOperatorName": _string(non_empty=True),
    },
    required=("operator", "ruleNames"),
    rules=(_rule_other_operator,),
)

DATA_MODEL_EXTENSION: Final = _ObjectSpec(
    name="DataModelExtension",
    props={
        "specVersion": lambda run, value, pointer: parse_semver(value),
        "dataSchema": _uri(web=True),
        "documentation": _uri(web=True),
        "data": _extension_data,
    },
    required=("specVersion", "dataSchema", "data"),
)

CARBON_FOOTPRINT: Final = _ObjectSpec(
    name="CarbonFootprint",
    props={
        "declaredUnitOfMeasurement": _enum(DECLARED_UNITS),
        "declaredUnitAmount": _decimal(POSITIVE_NON_ZERO),
        # Plain Decimal in the schema; a mass cannot be negative (see module docs).
        "productMassPerDeclaredUnit": _decimal(POSITIVE_OR_ZERO),
        "referencePeriodStart": _datetime,
        "referencePeriodEnd": _datetime,
        "geographyRegionOrSubregion": _enum(REGIONS_OR_SUBREGIONS),
        "geographyCountry": _country,
        "geographyCountrySubdivision": _subdivision,
        "boundaryProcessesDescription": _string(),
        "pcfExcludingBiogenicUptake": _decimal(ANY),
        "pcfIncludingBiogenicUptake": _decimal(ANY),
        "fossilCarbonContent": _non_negative,
        "biogenicCarbonContent": _non_negative,
        "recycledCarbonContent": _non_negative,
        "fossilGhgEmissions": _non_negative,
        "landUseChangeGhgEmissions": _non_negative,
        "landCarbonLeakage": _non_negative,
        "landManagementFossilGhgEmissions": _non_negative,
        "landManagementBiogenicCO2Emissions": _non_negative,
        "landManagementBiogenicCO2Removals": _non_positive,
        "biogenicCO2Uptake": _non_positive,
        "biogenicNonCO2Emissions": _non_negative,
        "landAreaOccupation": _non_negative,
        "aircraftGhgEmissions": _non_negative,
        "packagingEmissionsIncluded": _boolean,
        "packagingGhgEmissions": _non_negative,
        "packagingBiogenicCarbonContent": _non_negative,
        "outboundLogisticsGhgEmissions": _non_negative,
        "ccsTechnologicalCO2CaptureIncluded": _boolean,
        "ccsTechnologicalCO2Capture": _non_positive,
        "technologicalCO2CaptureOrigin": _string(),
        "technologicalCO2Removals": _non_positive,
        "ccuCarbonContent": _non_negative,
        "ccuCalculationApproach": _enum(CCU_CALCULATION_APPROACHES),
        "ccuCreditCertification": _uri(),
        "ipccCharacterizationFactors": _array(_ipcc_report, unique=True, optional=False),
        "crossSectoralStandards": _array(_cross_sectoral_standard, unique=True, optional=False),
        "productOrSectorSpecificRules": _array(_object(_rule_spec), unique=True, optional=True),
        "exemptedEmissionsPercent": _decimal(PERCENT),
        "exemptedEmissionsDescription": _string(),
        "allocationRulesDescription": _string(),
        "secondaryEmissionFactorSources": _array(
            _object(_ef_source_spec), unique=False, optional=True
        ),
        "primaryDataShare": _decimal(PERCENT),
        "dqi": _object(_dqi_spec),
        "verification": _object(_verification_spec),
    },
    required=(
        "declaredUnitOfMeasurement",
        "declaredUnitAmount",
        "productMassPerDeclaredUnit",
        "referencePeriodStart",
        "referencePeriodEnd",
        "pcfExcludingBiogenicUptake",
        "pcfIncludingBiogenicUptake",
        "fossilGhgEmissions",
        "fossilCarbonContent",
        "ipccCharacterizationFactors",
        "crossSectoralStandards",
        "exemptedEmissionsPercent",
    ),
    obsolete=_V2_PCF,
    rules=(
        _rule_geography,
        _rule_reference_period,
        _rule_packaging,
        _rule_ccs,
        _rule_ccu,
        _rule_declared_unit_mass,
        _rule_totals,
        _rule_reporting,
    ),
)

PRODUCT_FOOTPRINT: Final = _ObjectSpec(
    name="ProductFootprint",
    props={
        "id": _uuid,
        "specVersion": _spec_version,
        "precedingPfIds": _array(_uuid, unique=True, optional=True),
        "created": _datetime,
        "status": _enum(STATUSES),
        "validityPeriodStart": _datetime,
        "validityPeriodEnd": _datetime,
        "companyName": _string(non_empty=True, blank_warning=True),
        "companyIds": _array(_urn, unique=True, optional=False, urns=True),
        "productDescription": _string(blank_warning=True),
        "productIds": _array(_urn, unique=True, optional=False, urns=True),
        "productClassifications": _array(_urn, unique=True, optional=True, urns=True),
        "productNameCompany": _string(non_empty=True, blank_warning=True),
        "comment": _string(),
        "pcf": _object(_pcf_spec),
        "extensions": _array(_object(_extension_spec), unique=False, optional=True),
    },
    required=(
        "id",
        "specVersion",
        "created",
        "status",
        "companyName",
        "companyIds",
        "productDescription",
        "productIds",
        "productNameCompany",
        "pcf",
    ),
    obsolete=_V2_PF,
    rules=(_rule_validity_period, _rule_product_footprint),
)


def property_names() -> dict[str, tuple[str, ...]]:
    """The v3 property names of each data type (for forms, templates and tests)."""
    specs: Iterable[_ObjectSpec] = (
        PRODUCT_FOOTPRINT,
        CARBON_FOOTPRINT,
        DATA_QUALITY_INDICATORS,
        VERIFICATION,
        EMISSION_FACTOR_SOURCE,
        PRODUCT_OR_SECTOR_SPECIFIC_RULE,
        DATA_MODEL_EXTENSION,
    )
    return {spec.name: tuple(spec.props) for spec in specs}


def required_names() -> dict[str, tuple[str, ...]]:
    """The required property names of each data type."""
    specs: Iterable[_ObjectSpec] = (
        PRODUCT_FOOTPRINT,
        CARBON_FOOTPRINT,
        DATA_QUALITY_INDICATORS,
        VERIFICATION,
        EMISSION_FACTOR_SOURCE,
        PRODUCT_OR_SECTOR_SPECIFIC_RULE,
        DATA_MODEL_EXTENSION,
    )
    return {spec.name: spec.required for spec in specs}
