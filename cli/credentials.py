"""``carbonx verify-credential``: check an attestation without trusting the platform.

The attestation (a W3C Verifiable Credential 2.0 with an eddsa-jcs-2022 proof) is
checked by :func:`trust.vc.check_credential`: its shape, its proof with a key the
issuer's DID document authorises for assertions, its validity window and its
revocation status through the signed Bitstring Status List it points at.

DID documents and status list credentials given with ``--did-document`` and
``--status-list`` (matched by their ``id``) are used first; anything else is
fetched over HTTPS (did:web documents from the URL the DID names; did:key needs
no network).  With ``--offline`` nothing is fetched: a missing DID document is
an error, a missing status list leaves the status unchecked.

Exit codes: 0 the credential is authentic and in force now; 1 it is invalid or
forged (or cannot be verified), the reason is printed; 2 usage error (bad
arguments, unreadable files); 3 the signature is valid but the credential is
revoked, suspended, expired, not yet valid, or its status could not be checked.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from trust import jcs
from trust.dataintegrity import parse_datetime_stamp, resolve_did_key
from trust.did import LOOPBACK_HOSTS, did_document, did_web_document_url, parse_did
from trust.errors import DidError, StatusListError, StatusListUnavailable, TrustError
from trust.vc import CredentialCheck, check_credential

EXIT_VALID, EXIT_INVALID, EXIT_USAGE, EXIT_NOT_IN_FORCE = 0, 1, 2, 3
HTTP_TIMEOUT = 15.0
#: A DID document with a handful of keys is a few KB.
MAX_DID_DOCUMENT_BYTES = 1024 * 1024
#: A status list credential holds at most 16 MiB of bits, base64url of GZIP.
MAX_STATUS_LIST_BYTES = 24 * 1024 * 1024
ACCEPT_DID = "application/did+json, application/json;q=0.8"
ACCEPT_VC = "application/vc+json, application/vc+ld+json;q=0.9, application/json;q=0.8"


class UsageError(Exception):
    """Bad arguments or unreadable files: exit code 2."""


def make_client() -> httpx.Client:
    """The HTTP client used for fetching; tests replace it with a mock transport.

    Redirects are not followed: a did:web document must be served at the URL the
    DID names, and a status list at the URL the credential names.
    """
    return httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False)


def _fetch_json(
    client: httpx.Client,
    url: str,
    *,
    what: str,
    accept: str,
    limit: int,
    unavailable: Callable[[str], TrustError],
    malformed: Callable[[str], TrustError],
) -> Any:
    """GET ``url`` and parse strict JSON; transport problems raise ``unavailable``."""
    chunks: list[bytes] = []
    try:
        with client.stream("GET", url, headers={"Accept": accept}) as response:
            if response.status_code != 200:
                hint = " (redirects are not followed)" if 300 <= response.status_code < 400 else ""
                raise unavailable(f"{what}: GET {url}: HTTP {response.status_code}{hint}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise unavailable(f"{what}: GET {url}: {declared} bytes is over the {limit} limit")
            total = 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > limit:
                    raise unavailable(f"{what}: GET {url}: more than {limit} bytes; refused")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise unavailable(f"{what}: GET {url}: {type(exc).__name__}: {exc}") from exc
    try:
        return jcs.loads_strict(b"".join(chunks))
    except TrustError as exc:
        raise malformed(f"{what}: {url} did not return strict JSON ({exc.message})") from exc


class Sources:
    """Where DID documents and status list credentials come from: files, then HTTPS."""

    def __init__(
        self,
        *,
        did_documents: dict[str, dict[str, Any]],
        status_lists: dict[str, dict[str, Any]],
        offline: bool,
        allow_http_loopback: bool,
        client_factory: Callable[[], httpx.Client] | None = None,
    ) -> None:
        self.did_documents = dict(did_documents)
        self.status_lists = dict(status_lists)
        self.offline = offline
        self.allow_http_loopback = allow_http_loopback
        self._client_factory = client_factory or make_client
        self._client: httpx.Client | None = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def resolve_did(self, did: str) -> dict[str, Any]:
        if did in self.did_documents:
            return self.did_documents[did]
        method, _ = parse_did(did)
        if method == "key":
            key = resolve_did_key(f"{did}#{did.removeprefix('did:key:')}")
            document = did_document(did, [(did.removeprefix("did:key:"), key)])
        elif method == "web":
            if self.offline:
                raise DidError(
                    f"DID document of {did}: not given with --did-document, and --offline"
                    " forbids fetching it",
                    "did_unresolved",
                )
            url = did_web_document_url(did, allow_http_loopback=self.allow_http_loopback)
            document = _fetch_json(
                self._http(),
                url,
                what=f"DID document of {did}",
                accept=ACCEPT_DID,
                limit=MAX_DID_DOCUMENT_BYTES,
                unavailable=lambda message: DidError(message, "did_unresolved"),
                malformed=lambda message: DidError(message, "did_document"),
            )
        else:
            raise DidError(
                f"DID {did}: the did:{method} method is not supported (did:web and did:key are);"
                " give its document with --did-document",
                "did_method_unsupported",
            )
        self.did_documents[did] = document
        return document

    def load_status_list(self, url: str) -> dict[str, Any]:
        if url in self.status_lists:
            return self.status_lists[url]
        if self.offline:
            raise StatusListUnavailable(
                f"status list {url} was not given with --status-list, and --offline forbids"
                " fetching it"
            )
        parts = urlsplit(url)
        loopback = (parts.hostname or "").lower() in {h.strip("[]") for h in LOOPBACK_HOSTS}
        if parts.scheme != "https" and not (
            parts.scheme == "http" and loopback and self.allow_http_loopback
        ):
            raise StatusListUnavailable(
                f"status list {url}: only https:// is fetched (http:// only for a loopback"
                " host with --allow-http-loopback)"
            )
        document = _fetch_json(
            self._http(),
            url,
            what=f"status list {url}",
            accept=ACCEPT_VC,
            limit=MAX_STATUS_LIST_BYTES,
            unavailable=StatusListUnavailable,
            malformed=lambda message: StatusListError(message, "status_list_malformed"),
        )
        if not isinstance(document, dict):
            raise StatusListError(
                f"status list {url}: expected a JSON object, got {type(document).__name__}",
                "status_list_malformed",
            )
        self.status_lists[url] = document
        return document


# ----------------------------------------------------------------------------- files


def _read_json(path: str, what: str) -> Any:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot read ({exc.strerror})") from exc
    try:
        return jcs.loads_strict(data)
    except TrustError as exc:
        raise UsageError(f"{what} {path}: not strict JSON ({exc.message})") from exc


def _by_id(paths: list[str], what: str) -> dict[str, dict[str, Any]]:
    """Supplied documents keyed by their ``id``; two different ones for an id are refused."""
    found: dict[str, dict[str, Any]] = {}
    for path in paths:
        document = _read_json(path, what)
        if not isinstance(document, dict) or not isinstance(document.get("id"), str):
            raise UsageError(f"{what} {path}: must be a JSON object with a string id")
        identifier = document["id"]
        if identifier in found and found[identifier] != document:
            raise UsageError(f"{what} {path}: a different document for {identifier} was given")
        found[identifier] = document
    return found


def _parse_now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        return parse_datetime_stamp(value, "--now")
    except TrustError as exc:
        raise UsageError(exc.message) from exc


# ---------------------------------------------------------------------------- output


def _human(path: str, check: CredentialCheck) -> str:
    verdict = "valid now" if check.valid_now else "signature valid, but NOT valid now"
    rows: list[tuple[str, str]] = [("reason", reason) for reason in check.reasons]
    rows.append(("issuer", check.issuer))
    signed = check.verification_method
    if check.proof_created:
        signed += f" (proof created {check.proof_created})"
    rows.append(("signed with", signed))
    if check.credential_id:
        rows.append(("credential", check.credential_id))
    for member, label in (("footprintId", "footprint"), ("footprintDigest", "digest")):
        if member in check.subject:
            rows.append((label, str(check.subject[member])))
    report = check.as_dict()
    rows.append(
        (
            "validity",
            f"from {report['validFrom'] or '(no validFrom)'}"
            f" until {report['validUntil'] or '(no validUntil)'}"
            f" (checked at {report['checkedAt']})",
        )
    )
    if not check.statuses:
        rows.append(("status", "no credentialStatus (cannot be revoked)"))
    rows.extend(("status", status.describe()) for status in check.statuses)
    width = max(len(label) for label, _ in rows) + 1
    lines = [f"{path}: {verdict}"]
    lines.extend(f"  {label + ':':<{width}} {value}" for label, value in rows)
    return "\n".join(lines)


def cmd_verify_credential(args: argparse.Namespace) -> int:
    try:
        now = _parse_now(args.now)
        try:
            data = Path(args.file).read_bytes()
        except OSError as exc:
            raise UsageError(f"{args.file}: cannot read ({exc.strerror})") from exc
        sources = Sources(
            did_documents=_by_id(args.did_document, "--did-document"),
            status_lists=_by_id(args.status_list, "--status-list"),
            offline=args.offline,
            allow_http_loopback=args.allow_http_loopback,
        )
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    try:
        credential = jcs.loads_strict(data)
        if not isinstance(credential, dict):
            raise TrustError(
                f"the file holds a JSON {type(credential).__name__}, not a credential object",
                "credential_malformed",
            )
        check = check_credential(
            credential,
            resolve_did=sources.resolve_did,
            load_status_list=sources.load_status_list,
            now=now,
        )
    except TrustError as exc:
        if args.json:
            report = {
                "file": args.file,
                "result": "invalid",
                "exitCode": EXIT_INVALID,
                "error": {"code": exc.code, "message": exc.message},
            }
            print(json.dumps(report, indent=2, ensure_ascii=False))
        else:
            print(f"{args.file}: INVALID")
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_INVALID
    finally:
        sources.close()

    code = EXIT_VALID if check.valid_now else EXIT_NOT_IN_FORCE
    if args.json:
        report = {
            "file": args.file,
            "result": "valid" if check.valid_now else "not_valid_now",
            "exitCode": code,
            **check.as_dict(),
        }
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(_human(args.file, check))
    return code


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``verify-credential`` to the ``carbonx`` command."""
    parser = subparsers.add_parser(
        "verify-credential",
        help="verify an attestation (VC 2.0, eddsa-jcs-2022) and its revocation status",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", help="the credential (JSON)")
    parser.add_argument(
        "--did-document",
        action="append",
        default=[],
        metavar="FILE",
        help="a DID document to use instead of fetching it (matched by its id; repeatable)",
    )
    parser.add_argument(
        "--status-list",
        action="append",
        default=[],
        metavar="FILE",
        help="a status list credential to use instead of fetching it (matched by its id;"
        " repeatable)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="fetch nothing; without the status list the status is reported unchecked (exit 3)",
    )
    parser.add_argument(
        "--allow-http-loopback",
        action="store_true",
        help="fetch from localhost / 127.0.0.1 / [::1] over plain http (a development server)",
    )
    parser.add_argument(
        "--now",
        metavar="RFC3339",
        help="check validity at this moment instead of the current time, e.g. 2026-01-01T00:00:00Z",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    parser.set_defaults(func=cmd_verify_credential)
