"""Checking a Verifiable Credential 2.0 (an attestation) completely, without Django.

:func:`check_credential` answers two different questions and keeps them apart:

1. **Is this credential authentic?**  Its shape follows the VC Data Model 2.0
   (``@context`` starting with the v2 context, ``type`` containing
   ``VerifiableCredential``, an ``issuer`` that is a DID, well-formed
   ``validFrom``/``validUntil``), and its eddsa-jcs-2022 proof verifies with a key
   the issuer's own DID document lists under ``assertionMethod``.  The proof's
   ``verificationMethod`` must be a key *of the issuer*: a valid signature by
   somebody else's key proves nothing about what the issuer said.  Any failure
   here raises a :class:`~trust.errors.TrustError` subclass whose message names
   the member and the broken rule; nothing is returned for a forgery.
2. **Is it in force now?**  Time and status are facts about an authentic
   credential, not defects, so they are *reported* in :class:`CredentialCheck`
   (``expired``, ``not_yet_valid``, ``revoked``, ``suspended`` and the
   ``reasons`` it is not valid now) instead of raised: an expired attestation
   that was also revoked says both.  The validity window is half-open: valid
   from ``validFrom`` inclusive until ``validUntil`` exclusive.

Status entries (``BitstringStatusListEntry``) are followed to their status list
credential, which is checked as completely as the credential itself: its own
proof through its own issuer's DID document, type
``BitstringStatusListCredential``, ``id`` equal to the URL the entry points at
(so a list published for another URL cannot be swapped in), a
``statusPurpose`` equal to the entry's, and an index inside the list.  Its
issuer may differ from the credential's (the platform signs the lists of every
verifier), but then it must be a did:web of the very host that serves the list;
otherwise anyone able to hand over a file could vouch that nothing is revoked.

A list that cannot be obtained (the loader raises
:class:`~trust.errors.StatusListUnavailable`), has no loader at all, or is
outside its own validity window leaves the status *unknown*: the credential is
then not reported valid now, but not as forged either.  One exception: a set
revocation bit in an authentic but stale list still means revoked, since
revocation cannot be undone.  Entries of another type, ``statusSize`` other than
1 and the ``message`` purpose are not supported and also leave the status unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from trust.dataintegrity import parse_datetime_stamp, verify_proof
from trust.did import key_resolver, parse_did, parse_did_web
from trust.errors import (
    CredentialError,
    DidError,
    ProofError,
    StatusListError,
    StatusListUnavailable,
    TrustError,
)
from trust.statuslist import (
    ENTRY_TYPE,
    LIST_CREDENTIAL_TYPE,
    LIST_TYPE,
    STATUS_PURPOSES,
    bit_is_set,
    decode_list,
    parse_status_index,
)

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
CREDENTIAL_TYPE = "VerifiableCredential"

#: Purposes whose set bit means the credential is not in force.
_BLOCKING_PURPOSES = {"revocation": "revoked", "suspension": "suspended"}


def _stamp(moment: datetime | None) -> str | None:
    """An aware datetime as RFC 3339, with ``Z`` for UTC."""
    if moment is None:
        return None
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class StatusCheck:
    """What one ``credentialStatus`` entry said.

    ``is_set`` is the bit (``None`` when it could not be established, with the
    reason in ``note``); ``list_issuer`` is the DID that signed the list.
    """

    purpose: str
    list_url: str
    index: int | None
    is_set: bool | None
    list_issuer: str | None = None
    note: str | None = None

    def describe(self) -> str:
        where = f"{self.list_url}, index {self.index}" if self.index is not None else self.list_url
        if self.is_set is None:
            state = "not checked"
        elif self.purpose in _BLOCKING_PURPOSES:
            word = _BLOCKING_PURPOSES[self.purpose]
            state = word if self.is_set else f"not {word}"
        else:
            state = "bit set" if self.is_set else "bit clear"
        text = f"{self.purpose}: {state} ({where}"
        text += f", list signed by {self.list_issuer})" if self.list_issuer else ")"
        return f"{text}; {self.note}" if self.note else text

    def as_dict(self) -> dict[str, Any]:
        return {
            "statusPurpose": self.purpose,
            "statusListCredential": self.list_url,
            "statusListIndex": self.index,
            "set": self.is_set,
            "listIssuer": self.list_issuer,
            "note": self.note,
        }


@dataclass(frozen=True)
class CredentialCheck:
    """The result of :func:`check_credential` for an authentic credential.

    ``valid_now`` is true only when the credential is inside its validity window
    and every status entry was checked and is clear; otherwise ``reasons`` says
    why not.  ``revoked``/``suspended`` are ``None`` when the credential has no
    such status entry or it could not be checked.
    """

    issuer: str
    verification_method: str
    subject: dict[str, Any]
    valid_from: datetime | None
    valid_until: datetime | None
    checked_at: datetime
    expired: bool
    not_yet_valid: bool
    revoked: bool | None
    suspended: bool | None
    statuses: tuple[StatusCheck, ...] = ()
    reasons: tuple[str, ...] = ()
    credential_id: str | None = None
    types: tuple[str, ...] = ()
    proof_created: str | None = None
    subjects: tuple[dict[str, Any], ...] = field(default=())

    @property
    def valid_now(self) -> bool:
        return not self.reasons

    @property
    def status_checked_at(self) -> datetime | None:
        """When the status lists were read, if any status entry was checked."""
        return self.checked_at if any(s.is_set is not None for s in self.statuses) else None

    def summary(self) -> str:
        """A few human-readable lines: verdict, issuer, key, validity, status."""
        if self.valid_now:
            head = "valid now"
        else:
            head = "signature valid, but NOT valid now: " + "; ".join(self.reasons)
        window = (
            f"from {_stamp(self.valid_from) or '(no validFrom)'}"
            f" until {_stamp(self.valid_until) or '(no validUntil)'}"
        )
        lines = [
            head,
            f"issuer: {self.issuer}",
            f"signed with: {self.verification_method}"
            + (f" (proof created {self.proof_created})" if self.proof_created else ""),
            f"validity: {window} (checked at {_stamp(self.checked_at)})",
        ]
        if not self.statuses:
            lines.append("status: no credentialStatus (the credential cannot be revoked)")
        for status in self.statuses:
            lines.append(f"status: {status.describe()}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready report."""
        return {
            "validNow": self.valid_now,
            "issuer": self.issuer,
            "verificationMethod": self.verification_method,
            "proofCreated": self.proof_created,
            "id": self.credential_id,
            "type": list(self.types),
            "credentialSubject": self.subject,
            "validFrom": _stamp(self.valid_from),
            "validUntil": _stamp(self.valid_until),
            "checkedAt": _stamp(self.checked_at),
            "expired": self.expired,
            "notYetValid": self.not_yet_valid,
            "revoked": self.revoked,
            "suspended": self.suspended,
            "status": [status.as_dict() for status in self.statuses],
            "statusCheckedAt": _stamp(self.status_checked_at),
            "reasons": list(self.reasons),
        }


# --------------------------------------------------------------------------- authenticity


@dataclass(frozen=True)
class _Authentic:
    """What :func:`_check_secured` established about one secured credential."""

    issuer: str
    verification_method: str
    types: tuple[str, ...]
    subjects: tuple[dict[str, Any], ...]
    valid_from: datetime | None
    valid_until: datetime | None
    proof_created: str | None


def _issuer_did(value: Any, where: str) -> str:
    if isinstance(value, dict):
        if "id" not in value:
            raise CredentialError(
                f"{where}.id: an issuer object must have an id (the issuer's DID)",
                "credential_issuer",
            )
        value, where = value["id"], f"{where}.id"
    if not isinstance(value, str):
        raise CredentialError(
            f"{where}: must be a DID string or an object with an id, got {type(value).__name__}",
            "credential_issuer",
        )
    try:
        parse_did(value)
    except DidError as exc:
        raise CredentialError(
            f"{where}: the issuer must be a DID whose document holds its keys ({exc.message})",
            "credential_issuer",
        ) from exc
    return value


def _types(value: Any, where: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise CredentialError(
            f"{where}: must be a non-empty string or list of non-empty strings, got {value!r}",
            "credential_type",
        )
    return tuple(items)


def _datetime(document: dict[str, Any], member: str, where: str) -> datetime | None:
    if member not in document:
        return None
    try:
        return parse_datetime_stamp(document[member], where)
    except ProofError as exc:
        raise CredentialError(exc.message, "credential_datetime") from exc


def _subjects(value: Any, where: str) -> tuple[dict[str, Any], ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, dict) and item for item in items):
        raise CredentialError(
            f"{where}: must be a non-empty object or a non-empty list of them",
            "credential_subject",
        )
    return tuple(items)


def _check_secured(
    document: Any,
    *,
    resolve_did: Callable[[str], dict[str, Any]],
    now: datetime,
    prefix: str,
) -> _Authentic:
    """Shape and proof of one secured VC 2.0; raises, naming members after ``prefix``."""
    if not isinstance(document, dict):
        raise CredentialError(
            f"{prefix}credential: must be a JSON object, got {type(document).__name__}",
            "credential_malformed",
        )
    if "@context" not in document:
        raise CredentialError(f"{prefix}@context: required member missing", "credential_context")
    context = document["@context"]
    contexts = context if isinstance(context, list) else [context]
    if not contexts or contexts[0] != VC_V2_CONTEXT:
        raise CredentialError(
            f"{prefix}@context: the first item must be {VC_V2_CONTEXT!r} (VC Data Model 2.0),"
            f" got {contexts[0] if contexts else None!r}",
            "credential_context",
        )
    if not all(isinstance(item, (str, dict)) for item in contexts):
        raise CredentialError(
            f"{prefix}@context: items must be URLs or objects", "credential_context"
        )
    if "type" not in document:
        raise CredentialError(f"{prefix}type: required member missing", "credential_type")
    types = _types(document["type"], f"{prefix}type")
    if CREDENTIAL_TYPE not in types:
        raise CredentialError(
            f"{prefix}type: must include {CREDENTIAL_TYPE!r}, got {list(types)}",
            "credential_type",
        )
    if "id" in document and (not isinstance(document["id"], str) or ":" not in document["id"]):
        raise CredentialError(
            f"{prefix}id: must be a URL, got {document['id']!r}", "credential_malformed"
        )
    if "issuer" not in document:
        raise CredentialError(f"{prefix}issuer: required member missing", "credential_issuer")
    issuer = _issuer_did(document["issuer"], f"{prefix}issuer")
    if "credentialSubject" not in document:
        raise CredentialError(
            f"{prefix}credentialSubject: required member missing", "credential_subject"
        )
    subjects = _subjects(document["credentialSubject"], f"{prefix}credentialSubject")
    valid_from = _datetime(document, "validFrom", f"{prefix}validFrom")
    valid_until = _datetime(document, "validUntil", f"{prefix}validUntil")
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise CredentialError(
            f"{prefix}validUntil: {document['validUntil']} is not after validFrom"
            f" {document['validFrom']}",
            "credential_datetime",
        )

    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise CredentialError(
            f"{prefix}proof: a credential must carry exactly one proof object"
            f" ({'missing' if proof is None else type(proof).__name__})",
            "credential_proof",
        )
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise CredentialError(
            f"{prefix}proof.verificationMethod: must be the issuer's key ({issuer}#…),"
            f" got {method!r}",
            "credential_issuer_key",
        )
    if method.partition("#")[0] != issuer:
        raise CredentialError(
            f"{prefix}proof.verificationMethod: {method!r} is not a key of the issuer {issuer};"
            " only the issuer's own keys can sign its credentials",
            "credential_issuer_key",
        )
    try:
        try:
            did_document = resolve_did(issuer)
        except LookupError as exc:
            raise DidError(
                f"issuer {issuer}: its DID document cannot be resolved ({exc})", "did_unresolved"
            ) from exc
        verified = verify_proof(
            document,
            key_resolver(did_document, did=issuer),
            expected_purpose="assertionMethod",
            now=now,
        )
    except TrustError as exc:
        if not prefix:
            raise
        raise type(exc)(f"{prefix}{exc.message}", exc.code) from exc
    return _Authentic(
        issuer=issuer,
        verification_method=verified.verification_method,
        types=types,
        subjects=subjects,
        valid_from=valid_from,
        valid_until=valid_until,
        proof_created=verified.created,
    )


# --------------------------------------------------------------------------- status


@dataclass(frozen=True)
class _StatusList:
    """An authentic status list credential, decoded."""

    url: str
    issuer: str
    purpose: str
    bitstring: bytes
    stale: str | None  # why the list is outside its validity window, if it is


def _window_problem(
    valid_from: datetime | None, valid_until: datetime | None, now: datetime
) -> str | None:
    if valid_from is not None and now < valid_from:
        return f"not valid until {_stamp(valid_from)}"
    if valid_until is not None and now >= valid_until:
        return f"expired at {_stamp(valid_until)}"
    return None


def _status_issuer_problem(list_issuer: str, credential_issuer: str, url: str) -> str | None:
    if list_issuer == credential_issuer:
        return None
    served_by = urlsplit(url).netloc.lower()
    try:
        authority = parse_did_web(list_issuer).authority.lower()
    except DidError:
        authority = None
    if authority == served_by:
        return None
    return (
        f"issuer {list_issuer} is neither the credential's issuer ({credential_issuer}) nor a"
        f" did:web of the host serving the list ({served_by}), so it cannot vouch for it"
    )


def _load_status_list(
    url: str,
    *,
    credential_issuer: str,
    resolve_did: Callable[[str], dict[str, Any]],
    load_status_list: Callable[[str], dict[str, Any]],
    now: datetime,
) -> _StatusList:
    prefix = f"status list credential {url}: "
    document = load_status_list(url)
    authentic = _check_secured(document, resolve_did=resolve_did, now=now, prefix=prefix)
    if LIST_CREDENTIAL_TYPE not in authentic.types:
        raise StatusListError(
            f"{prefix}type: must include {LIST_CREDENTIAL_TYPE!r}, got {list(authentic.types)}",
            "status_list_type",
        )
    if document.get("id") != url:
        raise StatusListError(
            f"{prefix}id: is {document.get('id')!r}, but the credential points at {url};"
            " a list published for another URL cannot stand in",
            "status_list_id",
        )
    problem = _status_issuer_problem(authentic.issuer, credential_issuer, url)
    if problem:
        raise StatusListError(f"{prefix}{problem}", "status_list_issuer")
    if len(authentic.subjects) != 1:
        raise StatusListError(
            f"{prefix}credentialSubject: must be one BitstringStatusList object",
            "status_list_subject",
        )
    subject = authentic.subjects[0]
    if subject.get("type") != LIST_TYPE:
        raise StatusListError(
            f"{prefix}credentialSubject.type: must be {LIST_TYPE!r}, got {subject.get('type')!r}",
            "status_list_subject",
        )
    purpose = subject.get("statusPurpose")
    if not isinstance(purpose, str) or not purpose:
        raise StatusListError(
            f"{prefix}credentialSubject.statusPurpose: must be a non-empty string, got {purpose!r}",
            "status_list_subject",
        )
    try:
        bitstring = decode_list(subject.get("encodedList"))
    except StatusListError as exc:
        raise StatusListError(f"{prefix}credentialSubject.{exc.message}", exc.code) from exc
    stale = _window_problem(authentic.valid_from, authentic.valid_until, now)
    return _StatusList(
        url=url,
        issuer=authentic.issuer,
        purpose=purpose,
        bitstring=bitstring,
        stale=f"the status list is {stale}" if stale else None,
    )


def _check_status_entry(
    entry: Any,
    where: str,
    *,
    credential_issuer: str,
    resolve_did: Callable[[str], dict[str, Any]],
    load_status_list: Callable[[str], dict[str, Any]] | None,
    now: datetime,
    cache: dict[str, _StatusList | StatusListUnavailable],
) -> StatusCheck:
    if not isinstance(entry, dict):
        raise StatusListError(
            f"{where}: must be an object, got {type(entry).__name__}", "status_entry"
        )
    purpose = entry.get("statusPurpose")
    url = entry.get("statusListCredential")
    entry_type = entry.get("type")
    if entry_type != ENTRY_TYPE:
        return StatusCheck(
            purpose=str(purpose),
            list_url=str(url or entry.get("id")),
            index=None,
            is_set=None,
            note=f"{where}.type {entry_type!r} is not supported (only {ENTRY_TYPE})",
        )
    if purpose not in STATUS_PURPOSES:
        raise StatusListError(
            f"{where}.statusPurpose: must be one of {', '.join(STATUS_PURPOSES)}, got {purpose!r}",
            "status_purpose",
        )
    index = parse_status_index(entry.get("statusListIndex"), f"{where}.statusListIndex")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")) or "#" in url:
        raise StatusListError(
            f"{where}.statusListCredential: must be an http(s) URL without fragment, got {url!r}",
            "status_entry",
        )
    if "id" in entry and not isinstance(entry["id"], str):
        raise StatusListError(f"{where}.id: must be a string", "status_entry")

    def unknown(note: str, issuer: str | None = None) -> StatusCheck:
        return StatusCheck(purpose, url, index, None, issuer, note)

    size = entry.get("statusSize", 1)
    if size != 1 or isinstance(size, bool):
        return unknown(f"{where}.statusSize {size!r} is not supported (only 1)")
    if purpose == "message":
        return unknown(f"{where}: status messages are not supported")
    if load_status_list is None:
        return unknown("no way to load status lists was given")

    loaded = cache.get(url)
    if loaded is None:
        try:
            loaded = _load_status_list(
                url,
                credential_issuer=credential_issuer,
                resolve_did=resolve_did,
                load_status_list=load_status_list,
                now=now,
            )
        except StatusListUnavailable as exc:
            loaded = exc
        cache[url] = loaded
    if isinstance(loaded, StatusListUnavailable):
        return unknown(loaded.message)

    if loaded.purpose != purpose:
        raise StatusListError(
            f"{where}.statusPurpose: is {purpose!r}, but the status list at {url} is for"
            f" {loaded.purpose!r}",
            "status_purpose_mismatch",
        )
    size_bits = len(loaded.bitstring) * 8
    if index >= size_bits:
        raise StatusListError(
            f"{where}.statusListIndex: {index} is outside the status list of {size_bits} bits",
            "status_index_range",
        )
    is_set = bit_is_set(loaded.bitstring, index)
    if loaded.stale is not None:
        if purpose == "revocation" and is_set:
            return StatusCheck(
                purpose, url, index, True, loaded.issuer, f"{loaded.stale}; revocation is final"
            )
        return unknown(loaded.stale, loaded.issuer)
    return StatusCheck(purpose, url, index, is_set, loaded.issuer)


def _aggregate(statuses: list[StatusCheck], purpose: str) -> bool | None:
    relevant = [status.is_set for status in statuses if status.purpose == purpose]
    if any(value is True for value in relevant):
        return True
    if relevant and all(value is False for value in relevant):
        return False
    return None


# --------------------------------------------------------------------------- entry point


def check_credential(
    credential: dict[str, Any],
    *,
    resolve_did: Callable[[str], dict[str, Any]],
    load_status_list: Callable[[str], dict[str, Any]] | None,
    now: datetime | None = None,
) -> CredentialCheck:
    """Check ``credential`` completely; raise for anything forged, report the rest.

    ``resolve_did(did)`` returns the DID document of a DID (the credential's issuer
    and each status list's issuer); ``load_status_list(url)`` returns the status
    list credential published at ``url``, or raises
    :class:`~trust.errors.StatusListUnavailable` when it cannot be had (``None``
    as loader: status is not checked).  ``now`` defaults to the current time and
    must be timezone-aware.

    Raises :class:`~trust.errors.CredentialError` (shape),
    :class:`~trust.errors.ProofError`/:class:`~trust.errors.SignatureError`
    (proof), :class:`~trust.errors.DidError`/:class:`~trust.errors.KeyFormatError`
    (issuer keys) and :class:`~trust.errors.StatusListError` (status entries and
    lists).  Returns a :class:`CredentialCheck` otherwise.
    """
    moment = now if now is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("check_credential: now must be timezone-aware (use datetime.now(UTC))")
    authentic = _check_secured(credential, resolve_did=resolve_did, now=moment, prefix="")
    reasons: list[str] = []
    not_yet_valid = authentic.valid_from is not None and moment < authentic.valid_from
    expired = authentic.valid_until is not None and moment >= authentic.valid_until
    if not_yet_valid:
        reasons.append(f"not yet valid: validFrom is {_stamp(authentic.valid_from)}")
    if expired:
        reasons.append(f"expired: validUntil was {_stamp(authentic.valid_until)}")

    statuses: list[StatusCheck] = []
    if "credentialStatus" in credential:
        raw = credential["credentialStatus"]
        entries = raw if isinstance(raw, list) else [raw]
        if not entries:
            raise StatusListError("credentialStatus: must not be an empty list", "status_entry")
        cache: dict[str, _StatusList | StatusListUnavailable] = {}
        for position, entry in enumerate(entries):
            where = f"credentialStatus[{position}]" if isinstance(raw, list) else "credentialStatus"
            statuses.append(
                _check_status_entry(
                    entry,
                    where,
                    credential_issuer=authentic.issuer,
                    resolve_did=resolve_did,
                    load_status_list=load_status_list,
                    now=moment,
                    cache=cache,
                )
            )
    for status in statuses:
        if status.is_set is None:
            reasons.append(f"status not checked: {status.note}")
        elif status.is_set and status.purpose in _BLOCKING_PURPOSES:
            reasons.append(
                f"{_BLOCKING_PURPOSES[status.purpose]}: bit {status.index} of"
                f" {status.list_url} is set"
            )
    credential_id = credential.get("id")
    return CredentialCheck(
        issuer=authentic.issuer,
        verification_method=authentic.verification_method,
        subject=authentic.subjects[0],
        subjects=authentic.subjects,
        valid_from=authentic.valid_from,
        valid_until=authentic.valid_until,
        checked_at=moment,
        expired=expired,
        not_yet_valid=not_yet_valid,
        revoked=_aggregate(statuses, "revocation"),
        suspended=_aggregate(statuses, "suspension"),
        statuses=tuple(statuses),
        reasons=tuple(reasons),
        credential_id=credential_id if isinstance(credential_id, str) else None,
        types=authentic.types,
        proof_created=authentic.proof_created,
    )
