"""The entry byte format: the fast encoder must equal RFC 8785, and the strict
decoder must refuse anything but the one canonical form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.entry_format import EntryFormatError, decode_entry, encode_entry
from trust import jcs

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
