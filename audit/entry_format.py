"""The exact byte format of an audit entry (no Django here).

An entry is the RFC 8785 (JCS) serialisation of an object with exactly the keys in
``ENTRY_FIELDS``.  Its fields are all ASCII-keyed strings plus one small integer, so
its JCS form is the keys in fixed order with each string quoted by the json module's
C escaper (no ASCII escaping).  ``encode_entry`` builds it that way for speed (appends
and the verification walk run it once per entry); a property test holds it equal to
``trust.jcs.canonicalize``.  Decoding always goes through the strict parser.
"""

from __future__ import annotations

import re
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

_quote = encode_basestring


class EntryFormatError(ValueError):
    """Entry bytes that are not a well-formed, canonical audit entry."""


def format_time(moment: datetime) -> str:
    """``moment`` (aware) as the entry's time string, in UTC with microseconds."""
    if moment.tzinfo is None:
        raise ValueError("entry time must be timezone-aware")
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


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
    # Keys in JCS order; strings quoted by the json module's C escaper, which
    # escapes exactly what JCS escapes (quote, backslash, C0 controls).
    return (
        '{"actor":' + _quote(actor)
        + ',"company":' + _quote(company)
        + ',"payload_sha256":' + _quote(payload_sha256)
        + ',"prev":"' + prev.hex()
        + '","seq":' + str(int(seq))
        + ',"subject":' + _quote(subject)
        + ',"time":' + _quote(time)
        + ',"type":' + _quote(type)
        + "}"
    ).encode("utf-8")  # fmt: skip


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
