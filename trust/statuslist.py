"""Bitstring Status List v1.0: how the platform publishes which attestations are revoked.

Each attestation carries a ``credentialStatus`` entry pointing at a position
(``statusListIndex``) in a list the platform publishes as a signed credential.
The list is one long string of bits, one per issued attestation; a set bit means
the status named by the list's ``statusPurpose`` applies (for ``revocation``:
revoked).  Choices made here, with the reason for each:

* **Bit order.**  Position 0 is the *most* significant bit of the first byte, so
  index 0 set gives ``0x80`` as byte 0; positions run left to right as written.
* **Encoding.**  The bytes are GZIP-compressed and written as Multibase base64url
  without padding (prefix ``u``).  Encoding is deterministic (GZIP ``mtime`` 0), so
  the same list always gives the same string.  Decoding accepts only that form:
  no other prefix, no padding or foreign characters, no trailing data after the
  GZIP member.
* **Size.**  A list holds at least 131,072 bits (16 KiB): with that many
  positions, one revoked credential cannot be told apart from the others by
  watching which list it is in (group privacy).  Shorter lists are refused.
  Decompression stops at 16 MiB, so a small hostile download cannot expand
  into gigabytes (a "GZIP bomb").
* **Entries.**  ``statusListIndex`` is a base-10 string, as the spec requires; a
  sign, leading zeros or anything but ASCII digits are refused rather than
  guessed at.  Only one bit per entry is supported (``statusSize`` 1, the
  default); multi-bit "message" lists are not used by the platform.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterable
from typing import Any

from trust.dataintegrity import parse_datetime_stamp
from trust.did import parse_did
from trust.encoding import b64url_decode, b64url_encode
from trust.errors import StatusListError, TrustError

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_TYPE = "BitstringStatusList"
ENTRY_TYPE = "BitstringStatusListEntry"

#: The purposes the spec defines.  The platform issues ``revocation`` lists.
STATUS_PURPOSES = ("revocation", "suspension", "refresh", "message")

#: The smallest list the spec allows: 16 KiB of bits.
MIN_BITS = 131_072
#: Decompression stops here; no honest list comes near it.
MAX_DECODED_BYTES = 16 * 1024 * 1024
#: Base64url of 16 MiB of incompressible data is about 22.4 M characters.
MAX_ENCODED_CHARS = 23_000_000
MULTIBASE_BASE64URL = "u"

_INDEX_RE = re.compile(r"0|[1-9][0-9]{0,11}")


def _check_size(size: Any) -> int:
    if not isinstance(size, int) or isinstance(size, bool):
        raise StatusListError(f"size: must be an integer, got {size!r}", "status_list_size")
    if size < MIN_BITS:
        raise StatusListError(
            f"size: {size} bits is below the minimum of {MIN_BITS} (16 KiB)", "status_list_size"
        )
    if size % 8:
        raise StatusListError(
            f"size: {size} bits is not a whole number of bytes", "status_list_size"
        )
    if size > MAX_DECODED_BYTES * 8:
        raise StatusListError(
            f"size: {size} bits is above the maximum of {MAX_DECODED_BYTES * 8}",
            "status_list_size",
        )
    return size


def encode_list(revoked_indexes: Iterable[int], size: int = MIN_BITS) -> str:
    """The ``encodedList`` value of a list of ``size`` bits with ``revoked_indexes`` set.

    Raises :class:`StatusListError` for a size below the minimum or not a multiple
    of 8, and for an index that is not an integer in ``range(size)``.
    """
    _check_size(size)
    bits = bytearray(size // 8)
    for index in revoked_indexes:
        if not isinstance(index, int) or isinstance(index, bool):
            raise StatusListError(
                f"revoked index {index!r}: must be an integer", "status_index_range"
            )
        if not 0 <= index < size:
            raise StatusListError(
                f"revoked index {index}: outside the list (0 to {size - 1})", "status_index_range"
            )
        bits[index // 8] |= 0x80 >> (index % 8)
    return MULTIBASE_BASE64URL + b64url_encode(gzip.compress(bytes(bits), mtime=0))


def decode_list(encoded: Any) -> bytes:
    """The uncompressed bitstring of an ``encodedList`` value, checked strictly.

    Refuses a prefix other than ``u``, bad base64url, data that is not exactly one
    GZIP member, more than :data:`MAX_DECODED_BYTES` once expanded, and lists
    shorter than :data:`MIN_BITS`.  Every refusal is a :class:`StatusListError`
    whose message starts with ``encodedList:``.
    """
    if not isinstance(encoded, str):
        raise StatusListError(
            f"encodedList: must be a string, got {type(encoded).__name__}", "status_list_encoding"
        )
    if not encoded.startswith(MULTIBASE_BASE64URL):
        raise StatusListError(
            f"encodedList: must be Multibase base64url (prefix 'u'), got prefix {encoded[:1]!r}",
            "status_list_encoding",
        )
    if len(encoded) > MAX_ENCODED_CHARS:
        raise StatusListError(
            f"encodedList: {len(encoded)} characters is more than any accepted list",
            "status_list_too_large",
        )
    try:
        compressed = b64url_decode(encoded[1:])
    except TrustError as exc:
        raise StatusListError(f"encodedList: {exc.message}", "status_list_encoding") from exc
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # GZIP framing only
    try:
        bitstring = inflater.decompress(compressed, MAX_DECODED_BYTES + 1)
    except zlib.error as exc:
        raise StatusListError(
            f"encodedList: not valid GZIP data ({exc})", "status_list_encoding"
        ) from exc
    if len(bitstring) > MAX_DECODED_BYTES or inflater.unconsumed_tail:
        raise StatusListError(
            f"encodedList: expands to more than {MAX_DECODED_BYTES} bytes; refused"
            " (decompression bomb?)",
            "status_list_too_large",
        )
    if not inflater.eof:
        raise StatusListError("encodedList: the GZIP data is truncated", "status_list_encoding")
    if inflater.unused_data:
        raise StatusListError(
            "encodedList: unexpected data after the GZIP member", "status_list_encoding"
        )
    if len(bitstring) * 8 < MIN_BITS:
        raise StatusListError(
            f"encodedList: the list has {len(bitstring) * 8} bits, fewer than the minimum"
            f" {MIN_BITS}",
            "status_list_size",
        )
    return bitstring


def bit_is_set(bitstring: bytes, index: int) -> bool:
    """Whether position ``index`` is set (index 0 = most significant bit of byte 0)."""
    if not isinstance(index, int) or isinstance(index, bool):
        raise StatusListError(
            f"status index: must be an integer, got {index!r}", "status_index_range"
        )
    if not 0 <= index < len(bitstring) * 8:
        raise StatusListError(
            f"status index {index}: outside the list of {len(bitstring) * 8} bits",
            "status_index_range",
        )
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def parse_status_index(value: Any, where: str = "statusListIndex") -> int:
    """An entry's ``statusListIndex``: a base-10 string of ASCII digits, no sign or padding."""
    if not isinstance(value, str):
        raise StatusListError(
            f'{where}: must be a decimal string (e.g. "94567"), got {type(value).__name__}',
            "status_index_format",
        )
    if not _INDEX_RE.fullmatch(value):
        raise StatusListError(
            f"{where}: {value!r} is not a non-negative decimal integer without leading zeros",
            "status_index_format",
        )
    return int(value)


def _check_purpose(purpose: Any, where: str) -> str:
    if purpose not in STATUS_PURPOSES:
        raise StatusListError(
            f"{where}: {purpose!r} is not one of {', '.join(STATUS_PURPOSES)}",
            "status_purpose",
        )
    return str(purpose)


def _check_list_url(list_url: Any) -> str:
    if not isinstance(list_url, str) or not list_url.startswith(("https://", "http://")):
        raise StatusListError(
            f"list_url: must be an http(s) URL, got {list_url!r}", "status_list_url"
        )
    if "#" in list_url:
        raise StatusListError(f"list_url: {list_url!r} must not have a fragment", "status_list_url")
    return list_url


def status_list_credential(
    *,
    list_url: str,
    issuer: str,
    purpose: str,
    encoded_list: str,
    valid_from: str,
    valid_until: str | None,
) -> dict[str, Any]:
    """An unsigned ``BitstringStatusListCredential`` (VC 2.0) to be secured with a proof.

    ``list_url`` is both the credential's ``id`` and where it is published;
    the subject is ``list_url#list``.  The encoded list is decoded once here, so a
    broken list is never signed.
    """
    _check_list_url(list_url)
    parse_did(issuer)
    _check_purpose(purpose, "purpose")
    decode_list(encoded_list)
    start = parse_datetime_stamp(valid_from, "valid_from")
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": valid_from,
    }
    if valid_until is not None:
        if parse_datetime_stamp(valid_until, "valid_until") <= start:
            raise StatusListError(
                f"valid_until: {valid_until} is not after valid_from {valid_from}",
                "status_list_validity",
            )
        credential["validUntil"] = valid_until
    credential["credentialSubject"] = {
        "id": f"{list_url}#list",
        "type": LIST_TYPE,
        "statusPurpose": purpose,
        "encodedList": encoded_list,
    }
    return credential


def status_entry(list_url: str, index: int, purpose: str = "revocation") -> dict[str, Any]:
    """The ``credentialStatus`` entry pointing at position ``index`` of ``list_url``."""
    _check_list_url(list_url)
    _check_purpose(purpose, "purpose")
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise StatusListError(
            f"index: must be a non-negative integer, got {index!r}", "status_index_range"
        )
    if index >= MAX_DECODED_BYTES * 8:
        raise StatusListError(
            f"index: {index} is beyond the largest list accepted", "status_index_range"
        )
    return {
        "id": f"{list_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }
