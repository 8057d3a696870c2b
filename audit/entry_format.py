"""The exact byte formats of the audit log: entries and payloads (no Django here).

An entry is the RFC 8785 (JCS) serialisation of an object with exactly the keys in
``ENTRY_FIELDS``.  Its fields are all ASCII-keyed strings plus one small integer, so
its JCS form is the keys in fixed order with each string quoted by the json module's
C escaper (no ASCII escaping).  ``encode_entry`` builds it that way for speed (appends
and the verification walk run it once per entry); a property test holds it equal to
``trust.jcs.canonicalize``.  Decoding always goes through the strict parser.

Why the json module may stand in for JCS here: with ``ensure_ascii=False`` it escapes
exactly what RFC 8785 escapes (``"``, ``\\``, the C0 controls, with the same short
forms and lowercase ``\\u00xx``) and nothing else.  The one thing it cannot represent
is a lone surrogate, which it passes through and which ``str.encode("utf-8")`` then
refuses, as JCS does.  ``encode_payload`` adds the conditions under which a whole
``json.dumps`` equals JCS (see there); tests hold both claims with hypothesis.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from trust import jcs
from trust.errors import TrustError

ENTRY_FIELDS = ("actor", "company", "payload_sha256", "prev", "seq", "subject", "time", "type")

#: ``time`` in entries: ISO 8601 UTC, always with microseconds and a ``Z``.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_HEX64_RE = re.compile(r"[0-9a-f]{64}")

#: JSON string quoting that equals RFC 8785's for any str without lone surrogates.
quote = encode_basestring

#: An entry's bytes with the fields %-substituted, keys in JCS order.  The
#: arguments are, in order: actor, company (quoted with :func:`quote`), the
#: payload digest (64 lowercase hex digits: no quoting needed), prev as hex, seq,
#: subject (quoted), time (a formatted timestamp: no quoting needed), type (quoted).
#: Hot loops use it directly once they know the two unquoted values are what they
#: claim to be; everyone else calls :func:`encode_entry`.
ENTRY_TEMPLATE = (
    '{"actor":%s,"company":%s,"payload_sha256":"%s","prev":"%s","seq":%d,'
    '"subject":%s,"time":"%s","type":%s}'
)
_GENERAL_TEMPLATE = (
    '{"actor":%s,"company":%s,"payload_sha256":%s,"prev":"%s","seq":%d,'
    '"subject":%s,"time":%s,"type":%s}'
)


class EntryFormatError(ValueError):
    """Entry bytes that are not a well-formed, canonical audit entry."""


def format_time(moment: datetime) -> str:
    """``moment`` (aware) as the entry's time string, in UTC with microseconds."""
    if moment.tzinfo is None:
        raise ValueError("entry time must be timezone-aware")
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # isoformat is several times faster than strftime and gives the same text
    # (always 6 fractional digits with timespec="microseconds").
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def encode_entry(
    *,
    seq: int,
    prev: bytes,
    time: str,
    type: str,
    actor: str,
    company: str,
    subject: str,
    payload_sha256: str,
) -> bytes:
    """The canonical bytes of an entry (see the module docstring on why this
    is not a call to ``trust.jcs.canonicalize``).

    Raises ``UnicodeEncodeError`` for strings holding lone surrogates, which JCS
    cannot represent either.
    """
    return (
        _GENERAL_TEMPLATE
        % (
            quote(actor),
            quote(company),
            quote(payload_sha256),
            prev.hex(),
            int(seq),
            quote(subject),
            quote(time),
            quote(type),
        )
    ).encode("utf-8")


class PayloadFloatError(ValueError):
    """A payload holding a float: the platform carries decimals as strings."""


#: ``json.dumps`` arguments that give JCS layout (no spaces, sorted keys, UTF-8 text).
_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode


_MAX_INT = jcs.MAX_SAFE_INTEGER


def _json_is_jcs(container: Any, depth: int) -> bool:
    """Whether ``json.dumps`` of this dict/list/tuple equals its JCS bytes (see
    :func:`encode_payload`); raises ``PayloadFloatError`` for a float anywhere.

    Written for the common payload, a small flat dict of strings and integers:
    leaves are judged by exact type first, without a call per leaf.
    """
    if depth >= jcs.MAX_DEPTH:
        return False  # jcs refuses it with its message (this also stops cycles)
    fast = True
    if isinstance(container, dict):
        for key in container:
            if type(key) is not str or not (key.isascii() or max(key) < "\ud800"):
                fast = False
        items: Any = container.values()
    elif isinstance(container, list | tuple):
        items = container
    else:
        return False  # jcs names the unsupported type
    for item in items:
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is int or (isinstance(item, int) and not isinstance(item, bool)):
            if not -_MAX_INT <= item <= _MAX_INT:
                fast = False
        elif isinstance(item, float):
            raise PayloadFloatError("floats are not allowed; carry numbers as strings")
        elif isinstance(item, str):
            continue
        elif not _json_is_jcs(item, depth + 1):
            fast = False
    return fast


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    """The RFC 8785 bytes of an entry's payload.

    Floats are refused anywhere in it (``PayloadFloatError``).  Values JCS cannot
    represent raise ``trust.errors.TrustError`` from ``trust.jcs``.

    Fast path: ``json.dumps`` gives exactly the JCS bytes when the value holds only
    dicts with str keys, lists/tuples, str, bool, None and integers within ±2**53,
    and when sorting keys by code point equals JCS's sort by UTF-16 code unit (true
    unless a key holds a character at or above U+D800, so such keys take the slow
    path).  One scan checks that (and refuses floats); anything else, including
    lone surrogates (refused by the final ``encode``), goes through ``trust.jcs``.
    """
    fast = _json_is_jcs(payload, 0)
    if fast:
        try:
            return _DUMPS(payload).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: jcs says where
    try:
        return jcs.canonicalize(payload)
    except RecursionError as exc:  # pragma: no cover - jcs stops at MAX_DEPTH first
        raise TrustError("payload nests too deeply", "canonicalization") from exc


def decode_entry(data: bytes) -> dict[str, Any]:
    """Parse entry bytes strictly and check shape and canonical form.

    Raises ``EntryFormatError`` naming the first rule broken.
    """
    try:
        value = jcs.loads_strict(data)
    except TrustError as exc:
        raise EntryFormatError(f"entry bytes are not strict JSON: {exc.message}") from exc
    if not isinstance(value, dict):
        raise EntryFormatError("entry bytes are not a JSON object")
    keys = tuple(sorted(value))
    if keys != ENTRY_FIELDS:
        raise EntryFormatError(f"entry has keys {list(keys)}, expected {list(ENTRY_FIELDS)}")
    seq = value["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise EntryFormatError("entry seq is not a non-negative integer")
    for name in ("actor", "company", "payload_sha256", "prev", "subject", "time", "type"):
        if not isinstance(value[name], str):
            raise EntryFormatError(f"entry {name} is not a string")
    if not _HEX64_RE.fullmatch(value["prev"]):
        raise EntryFormatError("entry prev is not 64 lowercase hex digits")
    if not _HEX64_RE.fullmatch(value["payload_sha256"]):
        raise EntryFormatError("entry payload_sha256 is not 64 lowercase hex digits")
    if not _TIME_RE.fullmatch(value["time"]):
        raise EntryFormatError("entry time is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
    if jcs.canonicalize(value) != bytes(data):
        raise EntryFormatError("entry bytes are not in RFC 8785 canonical form")
    return value
