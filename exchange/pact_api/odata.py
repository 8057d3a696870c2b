"""The ``$filter`` of PACT v2.3 ListFootprints: the small OData subset the v2 text lists.

The v2.3 specification makes filtering optional; a host that filters may do so on a
best-effort basis, and must answer NotImplemented for a statement it refuses. This
module understands exactly what v2.3 lists:

* ``eq``, ``lt``, ``le``, ``gt``, ``ge`` on ``created``, ``updated``,
  ``productCategoryCpc``, ``pcf/geographyCountry``, ``pcf/referencePeriodStart`` and
  ``pcf/referencePeriodEnd`` (the ``pcf/`` prefix may be left out), with a quoted
  string (``'…'``, ``''`` for a quote) or a bare date-time on the right;
* ``and``, and parentheses;
* ``productIds/any(x:(x eq '…'))`` and the same on ``companyIds``.

Anything else (``or``, ``not``, other properties or functions) is refused with
NotImplemented; a statement that does not parse is a BadRequest. Dates compare as
instants; strings compare as OData does, case-sensitively. A property the footprint
does not have (``updated`` of a footprint never changed) makes its comparison false.
The statement is evaluated on the v2.3 form of each footprint (``v2.to_v2``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from exchange.pact.filters import parse_moment

from .errors import PactError, Problem

OPERATORS = ("eq", "lt", "le", "gt", "ge")
DATE_PROPERTIES = ("created", "updated", "pcf/referencePeriodStart", "pcf/referencePeriodEnd")
TEXT_PROPERTIES = ("productCategoryCpc", "pcf/geographyCountry")
COLLECTIONS = ("productIds", "companyIds")
_SHORT = {"geographyCountry", "referencePeriodStart", "referencePeriodEnd"}

_TOKEN_RE = re.compile(
    r"\s*(?:"
    r"(?P<string>'(?:[^']|'')*')"
    r"|(?P<punct>[()/:,])"
    r"|(?P<bare>[0-9][0-9A-Za-z:.+\-]*)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r")"
)


@dataclass(frozen=True)
class Comparison:
    """``property op value`` (property in its ``pcf/…`` form)."""

    prop: str
    op: str
    value: str
    moment: datetime | None = None


@dataclass(frozen=True)
class AnyEqual:
    """``collection/any(x: x eq value)``."""

    collection: str
    value: str


Atom = Comparison | AnyEqual


def _refuse(message: str) -> PactError:
    return PactError(Problem.NOT_IMPLEMENTED, f"$filter: {message}")


def _malformed(message: str) -> PactError:
    return PactError(Problem.BAD_REQUEST, f"$filter: {message}")


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN_RE.match(text, position)
        if match is None or match.end() == position:
            raise _malformed(f"cannot read {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        at = self.index + offset
        return self.tokens[at] if at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _malformed("the statement ends too early")
        self.index += 1
        return token

    def expect(self, value: str) -> None:
        _kind, text = self.take()
        if text != value:
            raise _malformed(f"expected {value!r}, found {text!r}")

    def parse(self) -> list[Atom]:
        atoms = self.conjunction()
        if self.peek() is not None:
            kind, text = self.peek()  # type: ignore[misc]
            if kind == "name" and text in ("or", "not"):
                raise _refuse(f"'{text}' is not supported; only 'and' is")
            raise _malformed(f"unexpected {text!r}")
        return atoms

    def conjunction(self) -> list[Atom]:
        atoms = self.primary()
        while self.peek() == ("name", "and"):
            self.take()
            atoms.extend(self.primary())
        return atoms

    def primary(self) -> list[Atom]:
        token = self.peek()
        if token == ("punct", "("):
            self.take()
            atoms = self.conjunction()
            self.expect(")")
            return atoms
        return [self.atom()]

    def path(self) -> list[str]:
        kind, text = self.take()
        if kind != "name":
            raise _malformed(f"expected a property, found {text!r}")
        parts = [text]
        while self.peek() == ("punct", "/"):
            self.take()
            kind, text = self.take()
            if kind != "name":
                raise _malformed(f"expected a property after '/', found {text!r}")
            parts.append(text)
        return parts

    def literal(self) -> str:
        kind, text = self.take()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "bare":
            return text
        raise _malformed(f"expected a value, found {text!r}")

    def atom(self) -> Atom:
        parts = self.path()
        if parts[-1] == "any" and self.peek() == ("punct", "("):
            return self.lambda_any("/".join(parts[:-1]))
        prop = "/".join(parts)
        if prop in _SHORT:
            prop = f"pcf/{prop}"
        if prop not in DATE_PROPERTIES + TEXT_PROPERTIES:
            raise _refuse(f"filtering on {prop!r} is not supported")
        kind, op = self.take()
        if kind != "name" or op not in OPERATORS:
            raise _refuse(f"operator {op!r} is not supported; use {', '.join(OPERATORS)}")
        value = self.literal()
        if prop in DATE_PROPERTIES:
            moment = parse_moment(value)
            if moment is None:
                raise _malformed(f"{value!r} is not a date-time")
            return Comparison(prop, op, value, moment)
        return Comparison(prop, op, value)

    def lambda_any(self, collection: str) -> Atom:
        if collection not in COLLECTIONS:
            raise _refuse(f"any() on {collection!r} is not supported")
        self.expect("(")
        kind, variable = self.take()
        if kind != "name":
            raise _malformed("any() needs a variable name")
        self.expect(":")
        depth = 0
        while self.peek() == ("punct", "("):
            self.take()
            depth += 1
        _kind, name = self.take()
        if name != variable:
            raise _refuse("inside any() only '<variable> eq <value>' is supported")
        _kind, op = self.take()
        if op != "eq":
            raise _refuse("inside any() only 'eq' is supported")
        value = self.literal()
        for _ in range(depth):
            self.expect(")")
        self.expect(")")
        return AnyEqual(collection, value)


def parse_filter(text: str) -> list[Atom]:
    """The conjunction of comparisons a ``$filter`` statement states."""
    if not text.strip():
        return []
    return _Parser(text).parse()


def _lookup(document: Mapping[str, Any], prop: str) -> Any:
    value: Any = document
    for part in prop.split("/"):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "eq":
        return bool(left == right)
    if op == "lt":
        return bool(left < right)
    if op == "le":
        return bool(left <= right)
    if op == "gt":
        return bool(left > right)
    return bool(left >= right)


def holds(atoms: list[Atom], document: Mapping[str, Any]) -> bool:
    """Whether the (v2.3) ``document`` satisfies every atom."""
    for atom in atoms:
        if isinstance(atom, AnyEqual):
            values = document.get(atom.collection)
            if not isinstance(values, list) or atom.value not in values:
                return False
            continue
        found = _lookup(document, atom.prop)
        if not isinstance(found, str):
            return False
        if atom.moment is not None:
            moment = parse_moment(found)
            if moment is None or not _compare(moment, atom.op, atom.moment):
                return False
        elif not _compare(found, atom.op, atom.value):
            return False
    return True
