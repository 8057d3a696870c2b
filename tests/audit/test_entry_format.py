"""The entry byte format: the fast encoder must equal RFC 8785, and the strict
decoder must refuse anything but the one canonical form."""

from __future__ import annotations

from datetime import UTC

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.entry_format import (
    ENTRY_TEMPLATE,
    EntryFormatError,
    PayloadFloatError,
    decode_entry,
    encode_entry,
    encode_payload,
    format_time,
    quote,
)
from trust import jcs
from trust.errors import TrustError

# Any text JCS can carry: every code point except lone surrogates.
text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)


@given(
    seq=st.integers(min_value=0, max_value=2**53),
    prev=st.binary(min_size=32, max_size=32),
    type_=text,
    actor=text,
    company=text,
    subject=text,
)
def test_fast_encoder_equals_jcs(seq, prev, type_, actor, company, subject):
    fields = {
        "seq": seq,
        "prev": prev.hex(),
        "time": "2026-01-02T03:04:05.000006Z",
        "type": type_,
        "actor": actor,
        "company": company,
        "subject": subject,
        "payload_sha256": "ab" * 32,
    }
    expected = jcs.canonicalize(fields)
    got = encode_entry(
        seq=seq,
        prev=prev,
        time=fields["time"],
        type=type_,
        actor=actor,
        company=company,
        subject=subject,
        payload_sha256=fields["payload_sha256"],
    )
    assert got == expected
    assert decode_entry(got)["subject"] == subject


def _entry(**overrides):
    fields = {
        "seq": 1,
        "prev": "00" * 32,
        "time": "2026-01-02T03:04:05.000006Z",
        "type": "a.b",
        "actor": "system",
        "company": "",
        "subject": "",
        "payload_sha256": "ab" * 32,
    }
    fields.update(overrides)
    return fields


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"seq": 1}', "keys"),
        (jcs.canonicalize(_entry()).replace(b'{"actor"', b'{ "actor"'), "canonical"),
        (jcs.canonicalize(_entry(seq="1")), "seq"),
        (jcs.canonicalize(_entry(prev="AB" * 32)), "prev"),
        (jcs.canonicalize(_entry(time="2026-01-02T03:04:05Z")), "time"),
        (jcs.canonicalize({**_entry(), "extra": 1}), "keys"),
        (b"[]", "object"),
        (b"\xff", "strict JSON"),
    ],
)
def test_decoder_refuses_non_canonical_or_malformed(data, message):
    with pytest.raises(EntryFormatError, match=message):
        decode_entry(data)


# --- the json module standing in for JCS (audit.entry_format's docstring) ---------

# Strings JCS can carry, weighted towards what needs escaping or sorts differently
# in UTF-16 (controls, quotes, backslashes, U+E000..U+FFFF, astral characters).
tricky_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(['"', "\\", "\x00", "\x1f", "\x7f", "\u2028", "\ue000", "\uffff"]),
        st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF),
        st.characters(exclude_categories=["Cs"]),
    ),
    max_size=12,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**53), max_value=2**53) | tricky_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(tricky_text, children, max_size=4)
    ),
    max_leaves=20,
)


@given(tricky_text)
def test_json_string_quoting_is_jcs_string_quoting(value):
    """The claim the fast paths rest on: for any string without lone surrogates,
    json's quoting (ensure_ascii=False) is RFC 8785's, byte for byte."""
    assert quote(value).encode("utf-8") == jcs.canonicalize(value)


@given(st.dictionaries(tricky_text, json_values, max_size=6))
def test_fast_payload_encoder_equals_jcs(payload):
    assert encode_payload(payload) == jcs.canonicalize(payload)


@pytest.mark.parametrize(
    "payload",
    [
        {"big": 2**53 + 1},  # beyond what a double holds exactly
        {"lone": "\ud800"},  # a lone surrogate in a value
        {"\udc00": 1},  # ... and in a key
        {"set": {1, 2}},  # not JSON at all
        {1: "non-string key"},
    ],
)
def test_payloads_jcs_refuses_are_refused_alike(payload):
    try:
        expected: bytes | None = jcs.canonicalize(payload)
    except TrustError:
        expected = None
    if expected is None:
        with pytest.raises(TrustError):
            encode_payload(payload)
    else:
        assert encode_payload(payload) == expected


def test_payload_nesting_beyond_the_jcs_limit_is_refused():
    deep: list = []
    for _ in range(jcs.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(TrustError, match="nesting"):
        encode_payload({"deep": deep})


@pytest.mark.parametrize("payload", [{"f": 1.5}, {"nested": [{"f": 0.0}]}, {"ok": "1.5", "x": 2.0}])
def test_floats_are_refused_anywhere_in_a_payload(payload):
    with pytest.raises(PayloadFloatError, match="floats"):
        encode_payload(payload)


@given(
    seq=st.integers(min_value=0, max_value=2**53),
    prev=st.binary(min_size=32, max_size=32),
    digest=st.binary(min_size=32, max_size=32),
    moment=st.datetimes(timezones=st.just(UTC)),
    type_=text,
    actor=text,
    company=text,
    subject=text,
)
def test_entry_template_equals_the_encoder(
    seq, prev, digest, moment, type_, actor, company, subject
):
    """ENTRY_TEMPLATE (used by appends and the verification walk) leaves the digest
    and the time unquoted; for a hex digest and a formatted time that is exact."""
    time = format_time(moment)
    fast = (
        ENTRY_TEMPLATE
        % (
            quote(actor),
            quote(company),
            digest.hex(),
            prev.hex(),
            seq,
            quote(subject),
            time,
            quote(type_),
        )
    ).encode("utf-8")
    assert fast == encode_entry(
        seq=seq,
        prev=prev,
        time=time,
        type=type_,
        actor=actor,
        company=company,
        subject=subject,
        payload_sha256=digest.hex(),
    )
    assert decode_entry(fast)["time"] == time


def test_format_time_is_utc_with_microseconds():
    from datetime import datetime, timedelta, timezone

    moment = datetime(2026, 5, 1, 10, 30, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    assert format_time(moment) == "2026-05-01T08:30:00.000000Z"
    assert format_time(moment.astimezone(UTC)) == "2026-05-01T08:30:00.000000Z"
    with pytest.raises(ValueError, match="aware"):
        format_time(datetime(2026, 5, 1))


@given(st.datetimes(timezones=st.just(UTC)))
def test_the_walk_formats_stored_times_as_entries_do(moment):
    """The verification walk reads a time as PostgreSQL's microseconds since
    2000-01-01 and formats it itself; that text must be what appends wrote."""
    from audit.verification import _micros_text, _time_micros

    assert _micros_text(_time_micros(moment)) == format_time(moment)
