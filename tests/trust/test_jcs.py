"""Tests for trust.jcs: RFC 8785 canonicalisation and the strict parser."""

from __future__ import annotations

import json
import struct
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trust.vectors import VECTORS, require_vectors
from trust.errors import CanonicalizationError
from trust.jcs import (
    _NO_FAST_RESULT,
    MAX_SAFE_INTEGER,
    _loads_fast,
    _Parser,
    canonicalize,
    canonicalize_json,
    loads_strict,
)

# --------------------------------------------------------------------------- published vectors

_JCS_INPUTS = sorted((VECTORS / "jcs" / "testdata" / "input").glob("*.json"))


def test_jcs_vector_folder_is_complete() -> None:
    testdata = require_vectors("jcs/testdata")
    names = {p.name for p in (testdata / "input").glob("*.json")}
    assert names == {p.name for p in (testdata / "output").glob("*.json")}
    assert len(names) >= 6


@pytest.mark.parametrize("input_path", _JCS_INPUTS, ids=lambda p: p.name)
def test_jcs_vectors(input_path: Path) -> None:
    # cyberphone/json-canonicalization testdata (see ../shared/testvectors/jcs/SOURCE).
    testdata = require_vectors("jcs/testdata")
    expected = (testdata / "output" / input_path.name).read_bytes()
    assert canonicalize_json(input_path.read_bytes()) == expected
    outhex = testdata / "outhex" / (input_path.stem + ".txt")
    if outhex.exists():
        assert canonicalize_json(input_path.read_bytes()) == bytes.fromhex(outhex.read_text())


# --------------------------------------------------------------------------- numbers

# RFC 8785 Appendix B, "Number Serialization Samples": IEEE-754 bit pattern (hex)
# and the JSON text ECMAScript (and so JCS) must produce.  NaN and Infinity rows,
# which have no JSON form, are tested separately below.
RFC8785_APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


def _double(hex_bits: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(hex_bits))[0]
    return value


@pytest.mark.parametrize(("hex_bits", "expected"), RFC8785_APPENDIX_B)
def test_rfc8785_appendix_b_numbers(hex_bits: str, expected: str) -> None:
    assert canonicalize(_double(hex_bits)) == expected.encode()


@pytest.mark.parametrize("hex_bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_non_finite_doubles_are_refused(hex_bits: str) -> None:
    with pytest.raises(CanonicalizationError, match="not a valid JSON number") as info:
        canonicalize(_double(hex_bits))
    assert info.value.code == "canonicalization"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (1.5, "1.5"),
        (-0.0, "0"),
        (100.0, "100"),
        (123456789.0, "123456789"),
        (0.1, "0.1"),
        (-1.25e-10, "-1.25e-10"),
        (2.0**60, "1152921504606847000"),
        (1e16, "10000000000000000"),
    ],
)
def test_float_layout(value: float, expected: str) -> None:
    assert canonicalize(value) == expected.encode()


def test_integers_inside_double_range() -> None:
    assert canonicalize([0, -1, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]) == (
        b"[0,-1,9007199254740992,-9007199254740992]"
    )


@pytest.mark.parametrize("value", [MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, 10**30])
def test_integers_beyond_2_53_are_refused(value: int) -> None:
    with pytest.raises(CanonicalizationError, match="not exactly representable as an IEEE-754"):
        canonicalize({"n": value})


def test_bool_is_not_a_number() -> None:
    assert canonicalize([True, False, None]) == b"[true,false,null]"


# --------------------------------------------------------------------------- types, strings, keys


@pytest.mark.parametrize(
    ("value", "type_name"),
    [(Decimal("1.5"), "Decimal"), (b"x", "bytes"), ({1, 2}, "set"), (object(), "object")],
)
def test_unsupported_types_are_named(value: Any, type_name: str) -> None:
    with pytest.raises(CanonicalizationError, match=f"type {type_name} "):
        canonicalize({"a": [value]})


def test_non_string_keys_are_refused() -> None:
    with pytest.raises(CanonicalizationError, match="object keys must be strings, got int"):
        canonicalize({1: "a"})


def test_string_escapes() -> None:
    text = '"\\/\b\f\n\r\t\x00\x1f\x7f\u2028é€😀'
    assert canonicalize(text) == ('"\\"\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f\x7f\u2028é€😀"'.encode())


def test_lone_surrogate_string_is_refused() -> None:
    with pytest.raises(CanonicalizationError, match="lone surrogate U\\+D800"):
        canonicalize("a\ud800")
    with pytest.raises(CanonicalizationError, match="lone surrogate"):
        canonicalize({"\udc00": 1})


def test_keys_sorted_by_utf16_code_units() -> None:
    # U+1F600 is the surrogate pair D83D DE00, which sorts *before* U+FB01 in
    # UTF-16 although its code point is larger.
    value = {"\ufb01": 1, "\U0001f600": 2, "b": 3, "a": 4, "": 5, "aa": 6}
    assert canonicalize(value) == ('{"":5,"a":4,"aa":6,"b":3,"😀":2,"ﬁ":1}'.encode())


def test_nested_structures_and_tuples() -> None:
    assert canonicalize({"z": (1, [2, {"y": None, "x": "s"}]), "a": {}}) == (
        b'{"a":{},"z":[1,[2,{"x":"s","y":null}]]}'
    )


def test_excessive_nesting_is_refused() -> None:
    value: Any = 1
    for _ in range(300):
        value = [value]
    with pytest.raises(CanonicalizationError, match="nesting deeper than"):
        canonicalize(value)
    with pytest.raises(CanonicalizationError, match="nesting deeper than"):
        loads_strict("[" * 300 + "]" * 300)


# --------------------------------------------------------------------------- strict parser


def test_loads_strict_parses_types() -> None:
    value = loads_strict(
        b' {"i": -12, "f": 1.5e2, "s": "\\u00e9\\ud83d\\ude00", "l": [true, null]} '
    )
    assert value == {"i": -12, "f": 150.0, "s": "é😀", "l": [True, None]}
    assert type(value["i"]) is int
    assert type(value["f"]) is float


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"x": 1, "x": 2}', 'duplicate key "x" at offset 9 (path $)'),
        ('{"a": {"b": [0, {"x": 1, "x": 1}]}}', 'duplicate key "x" at offset 25 (path $.a.b[1])'),
        ('{"v": NaN}', "NaN is not valid JSON at offset 6 (path $.v)"),
        ("[Infinity]", "Infinity is not valid JSON at offset 1 (path $[0])"),
        ("[1, -Infinity]", "-Infinity is not valid JSON at offset 4 (path $[1])"),
        ('["\\ud800"]', "lone surrogate \\ud800 in string at offset 2 (path $[0])"),
        ('"\\udc00x"', "lone surrogate \\udc00 in string at offset 1 (path $)"),
        ('"\\ud800\\u0041"', "lone surrogate \\ud800 in string at offset 1 (path $)"),
        ("9007199254740993", "integer 9007199254740993 is outside ±2**53"),
        ("-9007199254740993", "integer -9007199254740993 is outside ±2**53"),
        ("1" * 5000, "is outside ±2**53"),
        ("295147905179352830001", "integer 295147905179352830001 is outside ±2**53"),
        ("10000000000000001", "integer 10000000000000001 is outside ±2**53"),
        ("1e400", "number 1e400 overflows an IEEE-754 double at offset 0"),
        ("[1,]", "unexpected character ']' at offset 3 (path $[1])"),
        ('{"a":1,}', "expected a string object key at offset 7"),
        ("01", "unexpected trailing data at offset 1"),
        ("1.", "unexpected trailing data at offset 1"),
        ("[1 2]", "expected ',' or ']' in array at offset 3"),
        ('{"a" 1}', "expected ':' after object key at offset 5"),
        ('"abc', "unterminated string at offset 0"),
        ('"a\tb"', "unescaped control character U+0009 in string at offset 2"),
        ('"\\x"', "invalid escape \\x at offset 1"),
        ('"\\u12G4"', "invalid \\u escape: expected 4 hex digits at offset 1"),
        ("", "unexpected end of input, expected a value at offset 0"),
        ("\ufeff{}", "byte order mark at offset 0 is not allowed"),
        ("tru", "unexpected character 't' at offset 0"),
        ("'a'", 'unexpected character "\'" at offset 0'),
    ],
)
def test_loads_strict_refusals(text: str, message: str) -> None:
    with pytest.raises(CanonicalizationError) as info:
        loads_strict(text.encode("utf-8"))
    assert message in info.value.message
    assert info.value.code == "canonicalization"


@pytest.mark.parametrize(
    ("data", "offset"),
    [(b'"\xff"', 1), (b'["a", "\xc3"]', 7), (b'"\xed\xa0\x80"', 1), (b'"\xc0\xaf"', 1)],
)
def test_loads_strict_invalid_utf8(data: bytes, offset: int) -> None:
    with pytest.raises(CanonicalizationError, match=f"invalid UTF-8 at byte offset {offset}$"):
        loads_strict(data)


@pytest.mark.parametrize(
    "literal",
    ["9007199254740992", "9007199254740994", "10000000000000000", "295147905179352830000"],
)
def test_large_integer_literals_that_are_canonical_doubles_parse(literal: str) -> None:
    # Canonical output of doubles >= 2**53 looks like an integer; it must parse back.
    value = loads_strict(literal)
    assert value == float(literal)
    assert canonicalize(value) == literal.encode()


def test_loads_strict_raw_lone_surrogate_in_str_input() -> None:
    with pytest.raises(CanonicalizationError, match="lone surrogate U\\+D800 in string"):
        loads_strict('"a\ud800"')


def test_loads_strict_rejects_other_types() -> None:
    with pytest.raises(CanonicalizationError, match="expected bytes or str, got int"):
        loads_strict(1)  # type: ignore[arg-type]


def test_canonicalize_json_normalises_numbers_and_order() -> None:
    assert canonicalize_json('{"b": 1.0E2, "a": -0.0, "c": 1e-7}') == b'{"a":0,"b":100,"c":1e-7}'


# --------------------------------------------------------------------------- properties

_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_json_values = st.recursive(
    _json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


@given(_json_values)
def test_canonicalize_is_idempotent_through_loads_strict(value: Any) -> None:
    canonical = canonicalize(value)
    assert canonicalize(loads_strict(canonical)) == canonical
    assert canonicalize_json(canonical) == canonical


def _stdlib_loads(data: bytes) -> Any:
    # JCS numbers are doubles: an integer literal beyond 2**53 (such as the
    # canonical "50530199928274590" for 5.053019992827459e16) denotes a double,
    # while json.loads would read it as an exact, different int.
    def parse_int(text: str) -> int | float:
        number = int(text)
        return number if abs(number) <= MAX_SAFE_INTEGER else float(text)

    return json.loads(data, parse_int=parse_int)


@given(_json_values)
def test_canonical_json_round_trips_through_stdlib(value: Any) -> None:
    assert _stdlib_loads(canonicalize(value)) == value


@given(_json_values)
def test_loads_strict_agrees_with_stdlib_on_canonical_text(value: Any) -> None:
    canonical = canonicalize(value)
    assert loads_strict(canonical) == _stdlib_loads(canonical)


@given(st.dictionaries(st.text(max_size=8), _json_scalars, max_size=8), st.randoms())
def test_key_order_does_not_matter(value: dict[str, Any], rnd: Any) -> None:
    items = list(value.items())
    rnd.shuffle(items)
    assert canonicalize(dict(items)) == canonicalize(value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_serialisation_round_trips_exactly(value: float) -> None:
    assert float(canonicalize(value)) == value


# --- the fast path of loads_strict must agree with the strict parser exactly ----------


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


def _strict(text: str):
    parser = _Parser(text)
    try:
        value = parser.parse_value(0)
        parser.skip_ws()
        if parser.pos != len(text):
            parser.fail("unexpected trailing data")
    except CanonicalizationError as exc:
        return ("error", str(exc))
    return ("ok", value)


@settings(max_examples=400)
@given(_json_values, st.sampled_from(["", " ", "\n", "x", ",", "]", "}"]), st.booleans())
def test_fast_path_agrees_with_the_strict_parser(value, suffix, ascii_only):
    text = json.dumps(value, ensure_ascii=ascii_only) + suffix
    fast = _loads_fast(text)
    strict = _strict(text)
    if fast is _NO_FAST_RESULT:
        return  # the strict parser decides; nothing to compare
    assert strict[0] == "ok", f"fast path accepted what the strict parser refuses: {strict}"
    assert fast == strict[1] and type(fast) is type(strict[1])


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        "[NaN]",
        "[Infinity]",
        "[-Infinity]",
        "[9007199254740993]",
        "[1e400]",
        '["\\ud800"]',
        "[" * 300 + "]" * 300,
        "[1] x",
        "[01]",
    ],
)
def test_fast_path_leaves_every_special_case_to_the_strict_parser(text):
    assert _loads_fast(text) is _NO_FAST_RESULT


@settings(max_examples=500)
@given(_json_values)
def test_the_stdlib_fast_path_writes_exactly_the_general_serialiser_bytes(value):
    from trust.jcs import _serialize

    parts: list[str] = []
    try:
        _serialize(value, parts, 0)
        expected = "".join(parts).encode("utf-8")
    except (CanonicalizationError, UnicodeEncodeError):
        with pytest.raises(CanonicalizationError):
            canonicalize(value)
        return
    assert canonicalize(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        {"\U0001f600": 1, "\ue000": 2},  # astral vs BMP-private keys: UTF-16 order differs
        {"a": 1.5},
        {"a": 2**60},
        {"a": "\x7f\x1f\u2028"},
        ["\ud800"],
    ],
)
def test_cases_where_the_fast_path_must_not_decide_alone(value):
    from trust.jcs import _serialize

    parts: list[str] = []
    try:
        _serialize(value, parts, 0)
    except CanonicalizationError:
        with pytest.raises(CanonicalizationError):
            canonicalize(value)
        return
    assert canonicalize(value) == "".join(parts).encode("utf-8")
