"""RFC 8785 JSON Canonicalization Scheme (JCS) and a strict JSON parser.

Signatures over JSON are only meaningful if every party serialises the same
value to the same bytes.  JCS pins that down: object members sorted by UTF-16
code units, minimal string escaping, and numbers written the way ECMAScript's
``Number.prototype.toString`` writes IEEE-754 doubles.

The parser (:func:`loads_strict`) is deliberately stricter than :func:`json.loads`:
duplicate keys, ``NaN``/``Infinity``, lone surrogates and integers that a double
cannot hold exactly are all refused, because each of them lets two parties read
different values out of the same signed bytes.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn

from trust.errors import CanonicalizationError

#: Integers with a magnitude above this are not all exactly representable as
#: IEEE-754 doubles, so JCS (which models numbers as doubles) cannot carry them.
MAX_SAFE_INTEGER = 2**53

#: Nesting limit for both parsing and canonicalisation; keeps recursion bounded.
MAX_DEPTH = 256

_ESCAPE_RE = re.compile(r'[\x00-\x1f"\\]')
_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


# --------------------------------------------------------------------------- serialise


def canonicalize(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``value``.

    ``value`` may consist of ``dict`` (``str`` keys), ``list``/``tuple``, ``str``,
    ``int``, ``float``, ``bool`` and ``None``.  Anything else, including
    :class:`decimal.Decimal`, raises :class:`CanonicalizationError`: JCS numbers
    are doubles, so decimals that must survive exactly belong in strings.
    """
    if _json_compatible(value, 0):
        # Same bytes as the general serialiser (see _json_compatible), at C speed.
        try:
            return json.dumps(
                value, ensure_ascii=False, sort_keys=True, separators=(",", ":")
            ).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: the general serialiser explains it
    parts: list[str] = []
    _serialize(value, parts, 0)
    text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # pragma: no cover - strings are checked earlier
        raise CanonicalizationError(f"cannot encode as UTF-8: {exc}") from exc


def _json_compatible(value: Any, depth: int) -> bool:
    """Whether the standard library writes ``value`` exactly as RFC 8785 does.

    It does when there are no floats (ES6 number formatting differs from repr), every
    int is within ±2**53, every key is ASCII (code-point order = UTF-16 order), the
    types are plain JSON ones, and nesting stays within MAX_DEPTH: its string escaping
    (short escapes, lowercase \\u00xx for other controls, nothing else escaped with
    ensure_ascii=False) is JCS's. Lone surrogates fail the UTF-8 encoding afterwards.
    """
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    if depth >= MAX_DEPTH:
        return False
    if kind is dict:
        return all(
            type(key) is str and key.isascii() and _json_compatible(item, depth + 1)
            for key, item in value.items()
        )
    if kind is list or kind is tuple:
        return all(_json_compatible(item, depth + 1) for item in value)
    return False


def _serialize(value: Any, out: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise CanonicalizationError(f"nesting deeper than {MAX_DEPTH} levels")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_serialize_string(value))
    elif isinstance(value, int):
        out.append(_serialize_int(value))
    elif isinstance(value, float):
        out.append(serialize_number(value))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalizationError(
                    f"object keys must be strings, got {type(key).__name__} key {key!r}"
                )
        out.append("{")
        for i, key in enumerate(sorted(value, key=_utf16_sort_key)):
            if i:
                out.append(",")
            out.append(_serialize_string(key))
            out.append(":")
            _serialize(value[key], out, depth + 1)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _serialize(item, out, depth + 1)
        out.append("]")
    else:
        raise CanonicalizationError(
            f"cannot canonicalize values of type {type(value).__name__}"
            " (allowed: dict, list, tuple, str, int, float, bool, None;"
            " carry decimals as strings)"
        )


def _utf16_sort_key(key: str) -> bytes:
    # Big-endian UTF-16 bytes compare exactly like sequences of UTF-16 code units.
    try:
        return key.encode("utf-16-be")
    except UnicodeEncodeError as exc:
        raise CanonicalizationError(f"object key {key!r} contains a lone surrogate") from exc


def _serialize_string(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalizationError(
            f"string contains a lone surrogate U+{ord(text[exc.start]):04X} at index {exc.start}"
        ) from exc
    return '"' + _ESCAPE_RE.sub(_escape_char, text) + '"'


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _serialize_int(value: int) -> str:
    number = int(value)  # normalises int subclasses such as IntEnum
    if abs(number) > MAX_SAFE_INTEGER:
        raise CanonicalizationError(
            f"integer {number} is outside ±2**53 and is not exactly representable"
            " as an IEEE-754 double; carry it as a string"
        )
    return str(number)


def serialize_number(value: float) -> str:
    """Serialise a double exactly like ECMAScript ``Number.prototype.toString``.

    RFC 8785 §3.2.2.3 defers to ECMA-262 §7.1.12.1.  Python's ``repr`` already
    yields the shortest digit string that round-trips (the same digits
    ECMAScript picks); only the layout (where the point goes, when to switch to
    exponent form) differs, and that is what this function reproduces.
    """
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise CanonicalizationError(f"{number!r} is not a valid JSON number")
    if number == 0:
        return "0"  # also for -0.0
    sign = "-" if number < 0 else ""
    mantissa, _, exp_text = repr(abs(number)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    # value = 0.digits * 10**n in ECMAScript's terms (k = len(digits)).
    n = len(int_part) + int(exp_text or "0")
    if int_part == "0":
        n -= len(frac_part) - len(frac_part.lstrip("0")) + 1
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        exponent = n - 1
        exp_sign = "+" if exponent >= 0 else "-"
        head = digits if k == 1 else digits[0] + "." + digits[1:]
        body = f"{head}e{exp_sign}{abs(exponent)}"
    return sign + body


# --------------------------------------------------------------------------- parse


def loads_strict(data: bytes | str) -> Any:
    """Parse JSON (RFC 8259) strictly.

    Refuses, with a message naming what and where: invalid UTF-8, a byte order
    mark, duplicate object keys, ``NaN``/``Infinity`` literals, lone surrogates
    (raw or escaped), integers beyond ±2**53 that a double cannot hold exactly,
    numbers that overflow a double, and trailing data.

    Integers within ±2**53 parse to ``int``, other numbers to ``float``.  An
    integer literal beyond ±2**53 is accepted (as ``float``) only when it is the
    exact JCS spelling of a double, so canonical output always parses back.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CanonicalizationError(f"invalid UTF-8 at byte offset {exc.start}") from exc
    elif isinstance(data, str):
        text = data
    else:
        raise CanonicalizationError(f"expected bytes or str, got {type(data).__name__}")
    if text.startswith("\ufeff"):
        raise CanonicalizationError("byte order mark at offset 0 is not allowed")
    fast = _loads_fast(text)
    if fast is not _NO_FAST_RESULT:
        return fast
    parser = _Parser(text)
    value = parser.parse_value(0)
    parser.skip_ws()
    if parser.pos != len(text):
        parser.fail("unexpected trailing data")
    return value


class _NeedsStrictParser(Exception):
    """The fast path met something the strict parser must judge (and explain)."""


_NO_FAST_RESULT = object()
_MAX_SAFE = 2**53


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _NeedsStrictParser
    return obj


def _refuse_constant(name: str) -> Any:
    raise _NeedsStrictParser


def _safe_int(text: str) -> int:
    value = int(text)
    if -_MAX_SAFE <= value <= _MAX_SAFE:
        return value
    raise _NeedsStrictParser


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _NeedsStrictParser
    return value


def _loads_fast(text: str) -> Any:
    """The common case at C speed: the standard library's parser with hooks that give
    up on anything the strict parser refuses or treats specially (duplicate keys,
    NaN/Infinity, unsafe integers, overflowing numbers, surrogate escapes, deep nesting,
    any syntax error). Giving up means the strict parser runs and decides, so results
    and messages are always the strict parser's; only valid, ordinary JSON is faster.
    """
    if "\\u" in text and _SURROGATE_ESCAPE_RE.search(text):
        return _NO_FAST_RESULT
    if text.count("{") + text.count("[") > MAX_DEPTH:
        return _NO_FAST_RESULT  # nesting could exceed MAX_DEPTH: let the strict parser count
    try:
        text.encode("utf-8")  # a str argument may hold raw lone surrogates
        return json.loads(
            text,
            object_pairs_hook=_unique_pairs,
            parse_constant=_refuse_constant,
            parse_int=_safe_int,
            parse_float=_finite_float,
        )
    except (_NeedsStrictParser, ValueError, RecursionError):
        return _NO_FAST_RESULT


_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F]")


def canonicalize_json(data: bytes | str) -> bytes:
    """Strictly parse JSON text and return its RFC 8785 canonical bytes."""
    return canonicalize(loads_strict(data))


_WS_RE = re.compile(r"[ \t\n\r]*")
_NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_PLAIN_CHARS_RE = re.compile(r'[^"\\\x00-\x1f]*')
_SIMPLE_ESCAPES = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_HEX4_RE = re.compile(r"[0-9a-fA-F]{4}")
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}
_NON_FINITE = ("NaN", "Infinity", "-Infinity")


class _Parser:
    """Recursive-descent JSON parser that tracks the JSON path for messages."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.path: list[str | int] = []

    def fail(self, what: str, pos: int | None = None) -> NoReturn:
        where = self.pos if pos is None else pos
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path)
        raise CanonicalizationError(f"{what} at offset {where} (path {path})")

    def skip_ws(self) -> None:
        match = _WS_RE.match(self.text, self.pos)
        assert match is not None
        self.pos = match.end()

    def parse_value(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            self.fail(f"nesting deeper than {MAX_DEPTH} levels")
        self.skip_ws()
        if self.pos >= len(self.text):
            self.fail("unexpected end of input, expected a value")
        char = self.text[self.pos]
        if char == "{":
            return self.parse_object(depth)
        if char == "[":
            return self.parse_array(depth)
        if char == '"':
            return self.parse_string()
        for word, literal in _LITERALS.items():
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return literal
        for word in _NON_FINITE:
            if self.text.startswith(word, self.pos):
                self.fail(f"{word} is not valid JSON")
        if char == "-" or "0" <= char <= "9":
            return self.parse_number()
        self.fail(f"unexpected character {char!r}")

    def parse_object(self, depth: int) -> dict[str, Any]:
        self.pos += 1  # "{"
        result: dict[str, Any] = {}
        self.skip_ws()
        if self.text.startswith("}", self.pos):
            self.pos += 1
            return result
        while True:
            self.skip_ws()
            key_pos = self.pos
            if not self.text.startswith('"', self.pos):
                self.fail("expected a string object key")
            key = self.parse_string()
            if key in result:
                self.fail(f"duplicate key {_quote(key)}", key_pos)
            self.skip_ws()
            if not self.text.startswith(":", self.pos):
                self.fail("expected ':' after object key")
            self.pos += 1
            self.path.append(key)
            result[key] = self.parse_value(depth + 1)
            self.path.pop()
            self.skip_ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif self.text.startswith("}", self.pos):
                self.pos += 1
                return result
            else:
                self.fail("expected ',' or '}' in object")

    def parse_array(self, depth: int) -> list[Any]:
        self.pos += 1  # "["
        result: list[Any] = []
        self.skip_ws()
        if self.text.startswith("]", self.pos):
            self.pos += 1
            return result
        while True:
            self.path.append(len(result))
            result.append(self.parse_value(depth + 1))
            self.path.pop()
            self.skip_ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif self.text.startswith("]", self.pos):
                self.pos += 1
                return result
            else:
                self.fail("expected ',' or ']' in array")

    def parse_string(self) -> str:
        start = self.pos
        self.pos += 1  # opening quote
        chunks: list[str] = []
        text = self.text
        while True:
            match = _PLAIN_CHARS_RE.match(text, self.pos)
            assert match is not None
            chunks.append(match.group())
            self.pos = match.end()
            if self.pos >= len(text):
                self.fail("unterminated string", start)
            char = text[self.pos]
            if char == '"':
                self.pos += 1
                break
            if char == "\\":
                chunks.append(self.parse_escape())
            else:
                self.fail(f"unescaped control character U+{ord(char):04X} in string")
        value = "".join(chunks)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            self.fail(f"lone surrogate U+{ord(value[exc.start]):04X} in string", start)
        return value

    def parse_escape(self) -> str:
        escape_pos = self.pos
        char = self.text[self.pos + 1 : self.pos + 2]
        if char in _SIMPLE_ESCAPES:
            self.pos += 2
            return _SIMPLE_ESCAPES[char]
        if char != "u":
            self.fail(f"invalid escape \\{char}")
        code = self.read_hex4()
        if 0xD800 <= code <= 0xDBFF:
            if self.text.startswith("\\u", self.pos):
                low_pos = self.pos
                low = self.read_hex4()
                if 0xDC00 <= low <= 0xDFFF:
                    return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
                self.pos = low_pos
            self.fail(f"lone surrogate \\u{code:04x} in string", escape_pos)
        if 0xDC00 <= code <= 0xDFFF:
            self.fail(f"lone surrogate \\u{code:04x} in string", escape_pos)
        return chr(code)

    def read_hex4(self) -> int:
        match = _HEX4_RE.match(self.text, self.pos + 2)
        if match is None:
            self.fail("invalid \\u escape: expected 4 hex digits")
        self.pos = match.end()
        return int(match.group(), 16)

    def parse_number(self) -> int | float:
        start = self.pos
        match = _NUMBER_RE.match(self.text, start)
        if match is None:
            self.fail("invalid number")
        literal = match.group()
        self.pos = match.end()
        if match.group(1) is None and match.group(2) is None:
            digits = literal.lstrip("-")
            # Compare lengths first so that huge literals never reach int().
            if len(digits) < 16 or (len(digits) == 16 and int(digits) <= MAX_SAFE_INTEGER):
                return int(literal)
            # Beyond 2**53 only the exact JCS spelling of a double is accepted
            # (e.g. "10000000000000000", the canonical form of 1e16); anything
            # else would be silently rounded, so two readers could disagree.
            number = float(literal)
            if math.isinf(number) or serialize_number(number) != literal:
                self.fail(
                    f"integer {literal} is outside ±2**53 and is not exactly representable"
                    " as an IEEE-754 double",
                    start,
                )
            return number
        number = float(literal)
        if math.isinf(number):
            self.fail(f"number {literal} overflows an IEEE-754 double", start)
        return number


def _quote(text: str) -> str:
    return '"' + _ESCAPE_RE.sub(_escape_char, text) + '"'
