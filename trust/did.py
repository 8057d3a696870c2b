"""did:web identifiers, the DID documents the platform serves, and resolving their keys.

A verifier company's attestations name it by a ``did:web`` DID that the platform
serves, e.g. ``did:web:exchange.example:companies:acme-verification``.  The DID
is a web address in disguise: the first part after ``did:web:`` is the host,
further parts are path segments, and the document lives at
``https://exchange.example/companies/acme-verification/did.json`` (or at
``/.well-known/did.json`` when there is no path).  The choices made here:

* **Host.**  A DID cannot hold a bare ``:`` inside a part, so a port is written
  ``%3A`` (``127.0.0.1%3A8000``); for an IPv6 literal the brackets and colons are
  percent-encoded the same way.  The did:web method forbids IP addresses, because
  TLS certificates name hosts; only the loopback addresses ``127.0.0.1`` and
  ``[::1]`` are let through, for a development server.  :func:`did_web` writes host
  names in lower case, so one company cannot end up with two spellings of its DID.
* **Path.**  Segments are kept percent-encoded as they appear in the DID; a segment
  that is empty, or decodes to ``.``, ``..`` or something holding a slash, is
  refused, since it would point the URL at another place than the DID says.
* **Scheme.**  Always ``https``; ``http`` only when the caller explicitly allows it
  and the host is a loopback address (``localhost``, ``127.0.0.1``, ``[::1]``).
* **Keys.**  Documents list each key once under ``verificationMethod`` as a
  ``Multikey`` (``publicKeyMultibase`` = ``z6Mk…``), with the company's JWK
  thumbprint as the fragment, and reference it from ``assertionMethod``: that is
  the relationship a credential proof (purpose ``assertionMethod``) must find.
  :func:`key_resolver` hands a key to :func:`trust.dataintegrity.verify_proof` only
  when all of that holds for *this* DID; a method of another DID, a key listed but
  not authorised for assertions, another key type or controller are refused with
  the reason.  References may be relative (``#fragment``), as DID Core allows;
  keys embedded directly in ``assertionMethod`` are not accepted.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from trust.errors import DidError, KeyFormatError
from trust.multibase import ed25519_multikey, public_key_from_multikey

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
MULTIKEY_TYPE = "Multikey"

#: Hosts for which ``allow_http_loopback`` may downgrade the scheme to ``http``.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})

#: Far longer than any DID the platform makes; refused before any parsing.
MAX_DID_LENGTH = 2048

_METHOD_NAME_RE = re.compile(r"[a-z0-9]+")
_ID_SEGMENT_RE = re.compile(r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*")
_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_PORT_RE = re.compile(r"[1-9][0-9]{0,4}")
_FRAGMENT_RE = re.compile(r"[A-Za-z0-9._~-]+")
_IDCHAR_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_")
_HOST_ESCAPES = {"%3A": ":", "%5B": "[", "%5D": "]"}


# --------------------------------------------------------------------------- DID syntax


def parse_did(did: Any) -> tuple[str, str]:
    """Split a DID into ``(method, method-specific id)``, checking DID Core syntax.

    A DID URL (with ``#fragment``, ``?query`` or ``/path``) is not a DID and is
    refused, as are empty parts and characters outside the DID alphabet.
    """
    if not isinstance(did, str):
        raise DidError(f"DID: must be a string, got {type(did).__name__}", "did_syntax")
    if len(did) > MAX_DID_LENGTH:
        raise DidError(
            f"DID: {len(did)} characters is longer than the {MAX_DID_LENGTH} accepted",
            "did_syntax",
        )
    scheme, _, rest = did.partition(":")
    method, sep, specific = rest.partition(":")
    if scheme != "did" or not sep:
        raise DidError(f"DID: {did!r} does not have the form did:<method>:<id>", "did_syntax")
    if not _METHOD_NAME_RE.fullmatch(method):
        raise DidError(
            f"DID: method name {method!r} of {did!r} must be lower-case letters and digits",
            "did_syntax",
        )
    for char in "#?/":
        if char in specific:
            raise DidError(
                f"DID: {did!r} contains {char!r}; that is a DID URL, not a DID", "did_syntax"
            )
    segments = specific.split(":")
    for segment in segments:
        if not _ID_SEGMENT_RE.fullmatch(segment):
            raise DidError(
                f"DID: {did!r} has a character outside letters, digits, '.', '-', '_' and"
                " %-escapes",
                "did_syntax",
            )
    if not segments[-1]:
        raise DidError(f"DID: {did!r} must not end with ':'", "did_syntax")
    return method, specific


# --------------------------------------------------------------------------- did:web


@dataclass(frozen=True)
class DidWebParts:
    """A did:web DID taken apart: host (``[::1]`` keeps its brackets), port, path."""

    host: str
    port: int | None
    path: tuple[str, ...]

    @property
    def authority(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"


def _check_host(host: str, port: str | None, where: str) -> tuple[str, int | None]:
    """Validate a decoded host and port; returns the host and the port number."""
    if host.startswith("["):
        if not host.endswith("]"):
            raise DidError(f"{where}: IPv6 address {host!r} is missing its ']'", "did_web_host")
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError as exc:
            raise DidError(
                f"{where}: {host!r} is not an IPv6 address ({exc})", "did_web_host"
            ) from exc
        if not address.is_loopback:
            raise DidError(
                f"{where}: did:web must name a host, not an IP address ({host}); only loopback"
                " addresses are accepted, for development",
                "did_web_host",
            )
        host = "[::1]"
    else:
        if not host:
            raise DidError(f"{where}: the host is empty", "did_web_host")
        if len(host) > 253:
            raise DidError(f"{where}: host name is longer than 253 characters", "did_web_host")
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            labels = host.split(".")
            for label in labels:
                if not _LABEL_RE.fullmatch(label):
                    raise DidError(
                        f"{where}: {host!r} is not a host name (label {label!r} must be 1-63"
                        " letters, digits or inner hyphens)",
                        "did_web_host",
                    ) from None
            if labels[-1].isdigit():
                raise DidError(
                    f"{where}: {host!r} is not a host name (its last label is a number)",
                    "did_web_host",
                ) from None
        else:
            if host != "127.0.0.1":
                raise DidError(
                    f"{where}: did:web must name a host, not an IP address ({host}); only"
                    " 127.0.0.1 is accepted, for development",
                    "did_web_host",
                )
    number: int | None = None
    if port is not None:
        if not _PORT_RE.fullmatch(port) or int(port) > 65535:
            raise DidError(
                f"{where}: port {port!r} must be a number from 1 to 65535 without leading zeros",
                "did_web_host",
            )
        number = int(port)
    return host, number


def _split_host_port(decoded: str, where: str) -> tuple[str, str | None]:
    if decoded.startswith("["):
        end = decoded.find("]")
        if end < 0:
            raise DidError(f"{where}: IPv6 address is missing its ']'", "did_web_host")
        host, rest = decoded[: end + 1], decoded[end + 1 :]
        if not rest:
            return host, None
        if not rest.startswith(":"):
            raise DidError(f"{where}: unexpected {rest!r} after the IPv6 address", "did_web_host")
        return host, rest[1:]
    host, sep, port = decoded.partition(":")
    if ":" in port:
        raise DidError(
            f"{where}: {decoded!r} has more than one ':' (an IPv6 address needs brackets)",
            "did_web_host",
        )
    return host, (port if sep else None)


def _check_path_segment(segment: str, where: str) -> None:
    if not segment:
        raise DidError(f"{where}: empty path segment ('::' in the DID)", "did_web_path")
    decoded = unquote(segment, errors="strict") if "%" in segment else segment
    if decoded in (".", ".."):
        raise DidError(
            f"{where}: path segment {segment!r} would leave the DID's directory", "did_web_path"
        )
    if any(char in "/\\" or ord(char) < 0x20 or ord(char) == 0x7F for char in decoded):
        raise DidError(
            f"{where}: path segment {segment!r} decodes to a slash or a control character",
            "did_web_path",
        )


def parse_did_web(did: Any) -> DidWebParts:
    """Take a ``did:web`` DID apart and check every part; raises :class:`DidError`."""
    method, specific = parse_did(did)
    if method != "web":
        raise DidError(f"DID: {did!r} is a did:{method}, not a did:web", "did_web_method")
    host_part, *path = specific.split(":")
    where = f"did:web host {host_part!r}"
    decoded = host_part
    for match in re.finditer(r"%[0-9A-Fa-f]{2}", host_part):
        escape = match.group().upper()
        if escape not in _HOST_ESCAPES:
            raise DidError(
                f"{where}: only ':' (%3A) and IPv6 brackets may be percent-encoded in the host,"
                f" not {match.group()}",
                "did_web_host",
            )
    for escape, char in _HOST_ESCAPES.items():
        decoded = decoded.replace(escape, char).replace(escape.lower(), char)
    host, port = _check_host(*_split_host_port(decoded, where), where)
    try:
        for segment in path:
            _check_path_segment(segment, f"did:web path of {did!r}")
    except UnicodeDecodeError as exc:
        raise DidError(
            f"did:web path of {did!r}: a %-escape is not UTF-8 ({exc.reason})", "did_web_path"
        ) from exc
    return DidWebParts(host=host, port=port, path=tuple(path))


def _encode_segment(segment: str) -> str:
    return "".join(
        char if char in _IDCHAR_SAFE else "".join(f"%{byte:02X}" for byte in char.encode())
        for char in segment
    )


def did_web(host: str, *path: str) -> str:
    """The ``did:web`` DID for ``host`` (optionally ``host:port``) and path segments.

    ``did_web("127.0.0.1:8000")`` is ``did:web:127.0.0.1%3A8000`` and
    ``did_web("exchange.example", "companies", "verifier")`` is
    ``did:web:exchange.example:companies:verifier``.  The host name is lower-cased;
    characters of a path segment outside letters, digits, ``.``, ``-`` and ``_``
    are percent-encoded (UTF-8).  Raises :class:`DidError` for anything that would
    not resolve to the intended URL.
    """
    if not isinstance(host, str):
        raise DidError(f"did:web host: must be a string, got {type(host).__name__}", "did_web_host")
    where = f"did:web host {host!r}"
    name, port = _check_host(*_split_host_port(host.lower(), where), where)
    authority = name if port is None else f"{name}:{port}"
    encoded_host = authority.replace(":", "%3A").replace("[", "%5B").replace("]", "%5D")
    segments: list[str] = []
    for segment in path:
        if not isinstance(segment, str) or not segment:
            raise DidError(
                f"did:web path: segments must be non-empty strings, got {segment!r}",
                "did_web_path",
            )
        if segment in (".", ".."):
            raise DidError(
                f"did:web path: segment {segment!r} would leave the DID's directory",
                "did_web_path",
            )
        segments.append(_encode_segment(segment))
    did = ":".join(["did", "web", encoded_host, *segments])
    parse_did_web(did)  # the same rules a resolver applies, so what we make resolves
    return did


def did_web_document_url(did: str, *, allow_http_loopback: bool = False) -> str:
    """Where the DID document of a ``did:web`` DID is served.

    ``did:web:host`` → ``https://host/.well-known/did.json``;
    ``did:web:host:a:b`` → ``https://host/a/b/did.json``; a ``%3A`` in the host is
    the port's colon.  With ``allow_http_loopback`` a loopback host gets ``http://``
    (a local development server); every other host always gets ``https://``.
    """
    parts = parse_did_web(did)
    scheme = "http" if allow_http_loopback and parts.host.lower() in LOOPBACK_HOSTS else "https"
    path = "/".join(parts.path) + "/did.json" if parts.path else ".well-known/did.json"
    return f"{scheme}://{parts.authority}/{path}"


# --------------------------------------------------------------------------- DID documents


def did_document(did: str, keys: Sequence[tuple[str, Ed25519PublicKey]]) -> dict[str, Any]:
    """A DID document for ``did`` publishing ``keys`` as Multikeys for assertions.

    ``keys`` are ``(fragment, public key)`` pairs; the platform uses the key's JWK
    thumbprint as the fragment.  Every key becomes ``did#fragment`` in
    ``verificationMethod`` and is referenced from ``assertionMethod``.
    """
    parse_did(did)
    methods: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in keys:
        if not isinstance(item, tuple) or len(item) != 2:
            raise DidError(
                f"keys: expected (fragment, public key) pairs, got {item!r}", "did_document"
            )
        fragment, key = item
        if not isinstance(fragment, str) or not _FRAGMENT_RE.fullmatch(fragment):
            raise DidError(
                f"keys: fragment {fragment!r} must be letters, digits, '.', '_', '~' or '-'",
                "did_document",
            )
        if fragment in seen:
            raise DidError(f"keys: fragment {fragment!r} is listed twice", "did_document")
        if not isinstance(key, Ed25519PublicKey):
            raise KeyFormatError(
                f"keys[{fragment!r}]: expected an Ed25519 public key, got {type(key).__name__}"
            )
        seen.add(fragment)
        methods.append(
            {
                "id": f"{did}#{fragment}",
                "type": MULTIKEY_TYPE,
                "controller": did,
                "publicKeyMultibase": ed25519_multikey(key),
            }
        )
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


def _absolute(reference: str, did: str) -> str:
    """A verification method reference as an absolute DID URL (``#x`` → ``did#x``)."""
    return did + reference if reference.startswith("#") else reference


def key_resolver(
    document: Any, *, did: str, relationship: str = "assertionMethod"
) -> Callable[[str], Ed25519PublicKey]:
    """A ``resolve_key`` for :func:`~trust.dataintegrity.verify_proof` from a DID document.

    The document itself is checked now (it must be an object whose ``id`` is
    ``did``; ``verificationMethod`` and ``relationship`` must be lists); each
    method is checked when asked for: it must be ``did#fragment`` of this very DID,
    listed in ``verificationMethod`` exactly once and referenced from
    ``relationship`` (default ``assertionMethod``), with type ``Multikey``,
    ``controller`` equal to the DID and a valid Ed25519 ``publicKeyMultibase``.
    Every refusal is a :class:`DidError` (or :class:`KeyFormatError` for the key
    itself) saying which rule failed.
    """
    parse_did(did)
    if not isinstance(document, dict):
        raise DidError(
            f"DID document of {did}: must be a JSON object, got {type(document).__name__}",
            "did_document",
        )
    if document.get("id") != did:
        raise DidError(
            f"DID document id: is {document.get('id')!r}, but the document was fetched for {did}",
            "did_document_id",
        )
    listed = document.get("verificationMethod", [])
    if not isinstance(listed, list):
        raise DidError(f"DID document of {did}: verificationMethod must be a list", "did_document")
    methods: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(listed):
        where = f"DID document of {did}: verificationMethod[{index}]"
        if not isinstance(entry, dict):
            raise DidError(f"{where}: must be an object", "did_document")
        method_id = entry.get("id")
        if not isinstance(method_id, str) or not method_id:
            raise DidError(f"{where}.id: must be a non-empty string", "did_document")
        method_id = _absolute(method_id, did)
        if method_id in methods:
            raise DidError(f"{where}.id: {method_id!r} is listed twice", "did_document")
        methods[method_id] = entry
    references = document.get(relationship, [])
    if not isinstance(references, list):
        raise DidError(f"DID document of {did}: {relationship} must be a list", "did_document")
    authorised = {_absolute(ref, did) for ref in references if isinstance(ref, str)}

    def resolve(verification_method: str) -> Ed25519PublicKey:
        if not isinstance(verification_method, str):
            raise DidError(
                f"verification method: must be a string, got {type(verification_method).__name__}",
                "did_method",
            )
        base, sep, fragment = verification_method.partition("#")
        if base != did:
            raise DidError(
                f"verification method {verification_method!r} is not a key of {did}"
                f" (it belongs to {base!r})",
                "did_method_foreign",
            )
        if not sep or not fragment:
            raise DidError(
                f"verification method {verification_method!r}: must be {did}#<key fragment>",
                "did_method",
            )
        entry = methods.get(verification_method)
        if entry is None:
            raise DidError(
                f"verification method {verification_method!r} is not in the DID document's"
                " verificationMethod list (unknown or retired key)",
                "did_method_unknown",
            )
        if verification_method not in authorised:
            raise DidError(
                f"verification method {verification_method!r} is not referenced from"
                f" {relationship} in the DID document, so it may not be used for that",
                "did_method_relationship",
            )
        if entry.get("type") != MULTIKEY_TYPE:
            raise DidError(
                f"verification method {verification_method!r}: type must be"
                f" {MULTIKEY_TYPE!r}, got {entry.get('type')!r}",
                "did_method_type",
            )
        if entry.get("controller") != did:
            raise DidError(
                f"verification method {verification_method!r}: controller must be {did},"
                f" got {entry.get('controller')!r}",
                "did_method_controller",
            )
        multikey = entry.get("publicKeyMultibase")
        if not isinstance(multikey, str):
            raise KeyFormatError(
                f"verification method {verification_method!r}: publicKeyMultibase must be a"
                f" z6Mk… string, got {type(multikey).__name__}"
            )
        try:
            return public_key_from_multikey(multikey)
        except KeyFormatError as exc:
            raise KeyFormatError(
                f"verification method {verification_method!r}: publicKeyMultibase: {exc.message}"
            ) from exc

    return resolve
