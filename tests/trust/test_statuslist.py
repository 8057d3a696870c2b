"""Tests for trust.statuslist: Bitstring Status List encoding, decoding and documents.

The bit order, the minimum length and the encoding (GZIP, then Multibase
base64url without padding) are the spec's; every way a downloaded list can be
broken or hostile must be refused with an ``encodedList:`` message.
"""

from __future__ import annotations

import base64
import gzip
import io
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trust.errors import ProofError, StatusListError, TrustError
from trust.statuslist import (
    MAX_DECODED_BYTES,
    MIN_BITS,
    bit_is_set,
    decode_list,
    encode_list,
    parse_status_index,
    status_entry,
    status_list_credential,
)

LIST_URL = "https://exchange.example/credentials/status/1"
PLATFORM = "did:web:exchange.example"


def _multibase(raw: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _raw(encoded: str) -> bytes:
    text = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


# --------------------------------------------------------------------------- bits


def test_index_zero_is_the_most_significant_bit_of_the_first_byte():
    raw = _raw(encode_list([0]))
    assert raw[0] == 0x80 and not any(raw[1:])
    assert _raw(encode_list([7]))[0] == 0x01
    assert _raw(encode_list([8]))[:2] == b"\x00\x80"
    assert _raw(encode_list([MIN_BITS - 1]))[-1] == 0x01


def test_bit_is_set_reads_the_same_order():
    bits = bytes([0b1010_0000, 0b0000_0001]) + bytes(MIN_BITS // 8 - 2)
    assert [bit_is_set(bits, i) for i in range(8)] == [1, 0, 1, 0, 0, 0, 0, 0]
    assert bit_is_set(bits, 15) and not bit_is_set(bits, 14)


def test_round_trip_and_default_size():
    revoked = {0, 1, 42, 1000, MIN_BITS - 1}
    encoded = encode_list(revoked)
    assert encoded.startswith("u") and "=" not in encoded
    bits = decode_list(encoded)
    assert len(bits) == MIN_BITS // 8 == 16 * 1024
    assert {i for i in range(MIN_BITS) if bit_is_set(bits, i)} == revoked


def test_a_larger_list_round_trips():
    size = MIN_BITS * 2
    bits = decode_list(encode_list([size - 1], size=size))
    assert len(bits) * 8 == size and bit_is_set(bits, size - 1)


def test_encoding_is_deterministic_and_compact():
    assert encode_list([3, 5]) == encode_list([5, 3, 3])
    # 16 KiB of mostly zeros compresses to a few dozen bytes.
    assert len(encode_list([])) < 100


@given(st.sets(st.integers(min_value=0, max_value=MIN_BITS - 1), max_size=40))
def test_round_trip_property(revoked):
    bits = decode_list(encode_list(revoked))
    assert {i for i, byte in enumerate(bits) if byte} == {i // 8 for i in revoked}
    assert all(bit_is_set(bits, i) for i in revoked)


def test_decodes_a_list_made_by_another_gzip_writer():
    raw = bytearray(MIN_BITS // 8)
    raw[12] = 0x10  # index 99
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=1_700_000_000) as handle:
        handle.write(bytes(raw))
    bits = decode_list(_multibase(buffer.getvalue()))
    assert bit_is_set(bits, 99) and not bit_is_set(bits, 98)


@pytest.mark.parametrize(
    ("size", "fragment"),
    [
        (MIN_BITS - 8, "below the minimum"),
        (8, "below the minimum"),
        (MIN_BITS + 1, "whole number of bytes"),
        (MAX_DECODED_BYTES * 8 + 8, "above the maximum"),
        (True, "must be an integer"),
        ("131072", "must be an integer"),
    ],
)
def test_encode_refuses_bad_sizes(size, fragment):
    with pytest.raises(StatusListError, match=fragment):
        encode_list([], size=size)


@pytest.mark.parametrize("index", [-1, MIN_BITS, True, 1.0, "3"])
def test_encode_refuses_indexes_outside_the_list(index):
    with pytest.raises(StatusListError) as caught:
        encode_list([index])
    assert caught.value.code == "status_index_range"


@pytest.mark.parametrize("index", [-1, MIN_BITS, True])
def test_bit_is_set_refuses_out_of_range(index):
    with pytest.raises(StatusListError) as caught:
        bit_is_set(bytes(MIN_BITS // 8), index)
    assert caught.value.code == "status_index_range"


# --------------------------------------------------------------------------- hostile lists


def test_decode_refuses_lists_below_the_minimum():
    short = _multibase(gzip.compress(bytes(MIN_BITS // 8 - 1)))
    with pytest.raises(StatusListError, match="fewer than the minimum 131072"):
        decode_list(short)


@pytest.mark.parametrize(
    ("encoded", "fragment"),
    [
        ("z" + "1" * 20, "prefix 'u'"),
        ("", "prefix ''"),
        ("H4sIAAAAAAAA", "prefix 'H'"),  # base64 GZIP without the Multibase prefix
        ("uH4sI+AAA", "outside the URL-safe alphabet"),
        ("uH4sIAA==", "padding"),
        ("uAAAA", "not valid GZIP"),
        (None, "must be a string"),
    ],
)
def test_decode_refuses_bad_encodings(encoded, fragment):
    with pytest.raises(StatusListError) as caught:
        decode_list(encoded)
    assert caught.value.message.startswith("encodedList: ")
    assert fragment in caught.value.message


def test_decode_refuses_zlib_or_raw_deflate_instead_of_gzip():
    with pytest.raises(StatusListError, match="not valid GZIP"):
        decode_list(_multibase(zlib.compress(bytes(MIN_BITS // 8))))


def test_decode_refuses_truncated_gzip():
    data = gzip.compress(bytes(range(256)) * (MIN_BITS // 8 // 256))
    with pytest.raises(StatusListError, match="truncated"):
        decode_list(_multibase(data[:-10]))


def test_decode_refuses_a_corrupted_checksum():
    data = bytearray(gzip.compress(bytes(MIN_BITS // 8)))
    data[-8] ^= 0xFF  # CRC-32 in the trailer
    with pytest.raises(StatusListError, match="not valid GZIP"):
        decode_list(_multibase(bytes(data)))


def test_decode_refuses_trailing_data_and_a_second_member():
    member = gzip.compress(bytes(MIN_BITS // 8))
    with pytest.raises(StatusListError, match="after the GZIP member"):
        decode_list(_multibase(member + b"junk"))
    with pytest.raises(StatusListError, match="after the GZIP member"):
        decode_list(_multibase(member + member))


def test_decode_refuses_a_gzip_bomb():
    # 64 MiB of zeros compress to about 64 KiB; only 16 MiB may come out.
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1024 * 1024)
    bomb = b"".join(compressor.compress(chunk) for _ in range(64)) + compressor.flush()
    assert len(bomb) < 100_000
    with pytest.raises(StatusListError) as caught:
        decode_list(_multibase(bomb))
    assert caught.value.code == "status_list_too_large"
    assert "decompression bomb" in caught.value.message


def test_decode_accepts_exactly_the_cap():
    bits = decode_list(encode_list([MAX_DECODED_BYTES * 8 - 1], size=MAX_DECODED_BYTES * 8))
    assert len(bits) == MAX_DECODED_BYTES and bit_is_set(bits, MAX_DECODED_BYTES * 8 - 1)


# --------------------------------------------------------------------------- indexes


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("7", 7), ("94567", 94567)])
def test_parse_status_index(text, value):
    assert parse_status_index(text) == value


@pytest.mark.parametrize("value", [7, "", "-1", "+1", "007", "1e3", " 1", "٣", "0x10", None])
def test_parse_status_index_refuses(value):
    with pytest.raises(StatusListError) as caught:
        parse_status_index(value, "credentialStatus.statusListIndex")
    assert caught.value.message.startswith("credentialStatus.statusListIndex: ")
    assert caught.value.code == "status_index_format"


# --------------------------------------------------------------------------- documents


def test_status_list_credential_shape():
    encoded = encode_list([5])
    credential = status_list_credential(
        list_url=LIST_URL,
        issuer=PLATFORM,
        purpose="revocation",
        encoded_list=encoded,
        valid_from="2025-01-01T00:00:00Z",
        valid_until="2026-01-01T00:00:00Z",
    )
    assert credential == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": PLATFORM,
        "validFrom": "2025-01-01T00:00:00Z",
        "validUntil": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": f"{LIST_URL}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded,
        },
    }


def test_status_list_credential_without_valid_until():
    credential = status_list_credential(
        list_url=LIST_URL,
        issuer=PLATFORM,
        purpose="suspension",
        encoded_list=encode_list([]),
        valid_from="2025-01-01T00:00:00Z",
        valid_until=None,
    )
    assert "validUntil" not in credential
    assert credential["credentialSubject"]["statusPurpose"] == "suspension"


@pytest.mark.parametrize(
    ("changes", "error", "fragment"),
    [
        ({"list_url": "ftp://x/list"}, StatusListError, "http(s) URL"),
        ({"list_url": LIST_URL + "#list"}, StatusListError, "fragment"),
        ({"issuer": "exchange.example"}, TrustError, "did:<method>:<id>"),
        ({"purpose": "revoked"}, StatusListError, "'revoked' is not one of"),
        ({"encoded_list": "uAAAA"}, StatusListError, "encodedList: not valid GZIP"),
        ({"valid_from": "2025-01-01"}, ProofError, "valid_from"),
        ({"valid_until": "2024-01-01T00:00:00Z"}, StatusListError, "is not after valid_from"),
    ],
)
def test_status_list_credential_refuses_bad_values(changes, error, fragment):
    arguments = {
        "list_url": LIST_URL,
        "issuer": PLATFORM,
        "purpose": "revocation",
        "encoded_list": encode_list([]),
        "valid_from": "2025-01-01T00:00:00Z",
        "valid_until": None,
        **changes,
    }
    with pytest.raises(error, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        status_list_credential(**arguments)


def test_status_entry_shape():
    assert status_entry(LIST_URL, 94567) == {
        "id": f"{LIST_URL}#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": LIST_URL,
    }
    assert status_entry(LIST_URL, 0, "suspension")["statusPurpose"] == "suspension"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((LIST_URL, -1), "non-negative integer"),
        ((LIST_URL, True), "non-negative integer"),
        ((LIST_URL, "5"), "non-negative integer"),
        ((LIST_URL, MAX_DECODED_BYTES * 8), "beyond the largest list"),
        ((LIST_URL, 1, "deleted"), "'deleted' is not one of"),
        (("exchange.example/status", 1), "http(s) URL"),
    ],
)
def test_status_entry_refuses(args, fragment):
    with pytest.raises(StatusListError) as caught:
        status_entry(*args)
    assert fragment in caught.value.message
