"""``carbonx verify-bundle``: check a footprint's evidence bundle offline.

The bundle (``GET /api/v1/footprints/<id>/bundle``) is checked trusting nothing but
the pinned audit-log key (``--log-key``, a C2SP verifier key) and, if given,
witness keys (``--witness-key``).  Nothing is fetched; only ``trust`` and the
standard library are used.  What is checked:

* the checkpoint's signature by the log key (and the cosignature of every pinned
  witness; other cosignatures are listed, unchecked);
* every audit entry: strict canonical form, its hash, its payload's SHA-256 and its
  RFC 9162 inclusion proof to the checkpoint's root.  Only entries that pass are
  used below;
* the footprint: the bytes are the RFC 8785 form of the document, their SHA-256,
  and a ``footprint.submitted`` entry of the log recording that digest;
* the supplier's JWS verifies with the bundled key, whose JWK and kid match the
  ``signing_key.registered`` entry of the supplier in the log, and the key was
  registered and not revoked when the footprint was submitted;
* each attestation: the credential verifies offline (``trust.vc.check_credential``
  with the bundled DID documents and status lists, whose signing keys must match
  ``signing_key.registered`` entries of the companies the DIDs name), names this
  footprint's id and digest, is recorded in its engagement's ``engagement.attested``
  entry, and its revocation and validity window at ``--now``.

Exit codes: 0 everything holds and an attestation is in force; 1 something is
forged, broken or missing (each problem is printed); 2 usage error (unreadable
file, malformed key); 3 everything is genuine, but no attestation is in force
(revoked, expired, not yet valid, status unknown, or none at all).
"""

from __future__ import annotations

import argparse
import hmac
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trust import jcs, jws, keys, merkle, note
from trust.dataintegrity import parse_datetime_stamp
from trust.did import key_resolver, parse_did_web
from trust.encoding import b64_std_decode, b64_std_encode, sha256
from trust.errors import DidError, StatusListUnavailable, TrustError
from trust.vc import CredentialCheck, check_credential

BUNDLE_FORMAT = "carbonx-evidence-bundle/1"
FOOTPRINT_JWS_TYPE = "pact-footprint+jws"
ENTRY_FIELDS = ("actor", "company", "payload_sha256", "prev", "seq", "subject", "time", "type")
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_IN_FORCE = 0, 1, 2, 3

OK, FAIL, NOTE, OFF = "ok", "FAIL", "note", "not in force"


class UsageError(Exception):
    """Bad arguments or an unreadable file: exit code 2."""


# ------------------------------------------------------------------------------ report


@dataclass
class Line:
    section: str
    status: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"section": self.section, "status": self.status, "message": self.message}


@dataclass
class Report:
    """What was checked, in order; ``problems`` are the FAIL lines."""

    lines: list[Line] = field(default_factory=list)
    section: str = ""

    def start(self, section: str) -> None:
        self.section = section

    def add(self, status: str, message: str) -> None:
        self.lines.append(Line(self.section, status, message))

    def ok(self, message: str) -> None:
        self.add(OK, message)

    def fail(self, message: str) -> None:
        self.add(FAIL, message)

    def note(self, message: str) -> None:
        self.add(NOTE, message)

    @property
    def problems(self) -> list[str]:
        return [f"{line.section}: {line.message}" for line in self.lines if line.status == FAIL]


class Broken(Exception):
    """A check of one part failed; the part's remaining checks are skipped."""


# ------------------------------------------------------------------------------ inputs


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise Broken(f"{what}: expected a base64 string, got {type(value).__name__}")
    try:
        return b64_std_decode(value)
    except TrustError as exc:
        raise Broken(f"{what}: {exc.message}") from exc


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Broken(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise Broken(f"{what}: expected a JSON array, got {type(value).__name__}")
    return value


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------- log part


@dataclass(frozen=True)
class Entry:
    """An audit entry that passed every check: in the signed tree, payload matching."""

    seq: int
    type: str
    company: str
    subject: str
    time: datetime
    payload: dict[str, Any]

    def label(self) -> str:
        return f"#{self.seq} {self.type}"


@dataclass
class Log:
    entries: list[Entry] = field(default_factory=list)
    size: int | None = None

    def find(self, type: str, subject: str) -> list[Entry]:
        return [e for e in self.entries if e.type == type and e.subject == subject]


def check_checkpoint(
    report: Report,
    log_part: dict[str, Any],
    verifier: note.NoteVerifier,
    witnesses: list[note.CosignatureVerifier],
) -> note.Checkpoint | None:
    report.start("checkpoint")
    data = log_part.get("checkpoint")
    if not isinstance(data, dict) or not isinstance(data.get("note"), str):
        report.fail("the bundle has no signed checkpoint; no audit entry can be trusted")
        return None
    signed = data["note"]
    try:
        opened = note.open_note(signed, [verifier])
        checkpoint = note.parse_checkpoint(opened.text)
    except TrustError as exc:
        report.fail(f"does not verify with the pinned log key {verifier.name}: {exc.message}")
        return None
    if checkpoint.origin != verifier.name:
        report.fail(f"origin {checkpoint.origin!r} is not the pinned log key's {verifier.name!r}")
        return None
    report.ok(
        f"signed by the pinned log key {verifier.name}: size {checkpoint.size},"
        f" root {b64_std_encode(checkpoint.root)}"
    )
    stated = (data.get("size"), data.get("root"))
    if stated != (checkpoint.size, b64_std_encode(checkpoint.root)):
        report.note("the size/root stated beside the note differ from the signed ones; ignored")
    cosigners = []
    for line in opened.other_lines:
        try:
            cosigners.append(note.parse_signature_line(line).name)
        except TrustError:  # pragma: no cover - open_note parsed it already
            continue
    pinned = {w.name for w in witnesses}
    unchecked = [name for name in cosigners if name not in pinned]
    if unchecked:
        report.note(
            "other signatures present, not checked (no --witness-key for them): "
            + ", ".join(unchecked)
        )
    elif not witnesses:
        report.note("no witness cosignatures")
    for witness in witnesses:
        lines = [
            line
            for line in opened.other_lines
            if (sig := note.parse_signature_line(line)).name == witness.name
            and sig.key_id == witness.key_id
        ]
        if not lines:
            report.fail(f"no cosignature by the pinned witness {witness.name}")
            continue
        try:
            timestamp = witness.verify_line(opened.text, lines[0])
        except TrustError as exc:
            report.fail(f"cosignature by {witness.name} does not verify: {exc.message}")
            continue
        when = _stamp(datetime.fromtimestamp(timestamp, UTC))
        report.ok(f"cosigned by the pinned witness {witness.name} at {when}")
    return checkpoint


def _check_entry(item: Any, index: int, checkpoint: note.Checkpoint | None) -> Entry:
    item = _object(item, f"entries[{index}]")
    seq = item.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise Broken(f"entries[{index}]: seq must be a non-negative integer, got {seq!r}")
    where = f"#{seq}"
    data = _b64(item.get("entry"), f"{where} entry")
    try:
        value = jcs.loads_strict(data)
    except TrustError as exc:
        raise Broken(f"{where}: entry is not strict JSON ({exc.message})") from exc
    if not isinstance(value, dict) or tuple(sorted(value)) != ENTRY_FIELDS:
        raise Broken(f"{where}: entry does not have exactly the fields {list(ENTRY_FIELDS)}")
    if jcs.canonicalize(value) != data:
        raise Broken(f"{where}: entry bytes are not RFC 8785 canonical")
    if value["seq"] != seq:
        raise Broken(f"{where}: the entry's bytes carry seq {value['seq']!r}")
    leaf = merkle.leaf_hash(data)
    if "entry_hash" in item and item["entry_hash"] != leaf.hex():
        raise Broken(f"{where}: stated entry_hash is not SHA-256(0x00 || entry bytes)")
    payload = _b64(item.get("payload"), f"{where} payload")
    if sha256(payload).hex() != value["payload_sha256"]:
        raise Broken(f"{where}: payload does not hash to the entry's payload_sha256")
    try:
        payload_value = jcs.loads_strict(payload)
    except TrustError as exc:
        raise Broken(f"{where}: payload is not strict JSON ({exc.message})") from exc
    if not isinstance(payload_value, dict):
        raise Broken(f"{where}: payload is not a JSON object")
    moment = _time(value["time"])
    if moment is None:
        raise Broken(f"{where}: time {value['time']!r} is not an RFC 3339 UTC time")
    if checkpoint is None:
        raise Broken(f"{where}: no verified checkpoint to prove its inclusion against")
    proof = [
        _b64(node, f"{where} inclusion_proof[{i}]")
        for i, node in enumerate(_list(item.get("inclusion_proof"), f"{where} inclusion_proof"))
    ]
    try:
        merkle.verify_inclusion(
            leaf_hash=leaf, index=seq, size=checkpoint.size, proof=proof, root=checkpoint.root
        )
    except TrustError as exc:
        raise Broken(
            f"{where}: not in the signed tree of size {checkpoint.size}: {exc.message}"
        ) from exc
    return Entry(seq, value["type"], value["company"], value["subject"], moment, payload_value)


def check_entries(report: Report, log_part: dict[str, Any], checkpoint: Any) -> Log:
    report.start("log entries")
    log = Log(size=checkpoint.size if checkpoint else None)
    try:
        items = _list(log_part.get("entries"), "log.entries")
    except Broken as exc:
        report.fail(str(exc))
        return log
    seen: set[int] = set()
    for index, item in enumerate(items):
        try:
            entry = _check_entry(item, index, checkpoint)
        except Broken as exc:
            report.fail(str(exc))
            continue
        if entry.seq in seen:
            report.fail(f"#{entry.seq}: listed twice")
            continue
        seen.add(entry.seq)
        log.entries.append(entry)
        company = f" ({entry.company})" if entry.company else ""
        report.ok(f"{entry.label()} {entry.subject}{company}: hash, payload, inclusion proof")
    if not items:
        report.fail("the bundle carries no audit entries")
    return log


# ---------------------------------------------------------------------------- keys


def _company_of_did(did: str) -> str:
    """The company slug a platform DID (did:web:<host>:companies:<slug>) names."""
    try:
        parts = parse_did_web(did)
    except DidError as exc:
        raise Broken(f"{did}: not a did:web ({exc.message})") from exc
    path = list(parts.path)
    if len(path) != 2 or path[0] != "companies":
        raise Broken(f"{did}: not a company DID of the exchange (…:companies:<slug>)")
    return path[1]


def _registration(
    log: Log, kid: str, public_raw: bytes, company: str, what: str, at: datetime | None
) -> Entry:
    """The log's registration of ``kid`` for ``company`` with this very key; and the key
    was in force at ``at`` (registered before, not revoked before)."""
    found = log.find("signing_key.registered", f"signing_key:{kid}")
    if not found:
        raise Broken(f"{what}: no signing_key.registered entry for {kid} in the log")
    entry = found[0]
    try:
        registered = keys.public_key_bytes(keys.public_key_from_jwk(entry.payload.get("jwk")))  # type: ignore[arg-type]
    except TrustError as exc:
        raise Broken(f"{what}: the JWK in {entry.label()} is unusable ({exc.message})") from exc
    if not hmac.compare_digest(registered, public_raw):
        raise Broken(f"{what}: the key is not the one registered as {kid} in {entry.label()}")
    if keys.jwk_thumbprint(keys.public_key_from_bytes(public_raw)) != kid:
        raise Broken(f"{what}: {kid} is not the RFC 7638 thumbprint of the key")
    if entry.company != company:
        raise Broken(
            f"{what}: {kid} was registered by {entry.company or '(no company)'}"
            f" ({entry.label()}), not by {company}"
        )
    if at is not None:
        # A proof's ``created`` has whole seconds: compare at that precision.
        registered_at = entry.time if at.microsecond else entry.time.replace(microsecond=0)
        if at < registered_at:
            raise Broken(
                f"{what}: used at {_stamp(at)}, before the key was registered"
                f" ({_stamp(entry.time)}, {entry.label()})"
            )
        for revoked in log.find("signing_key.revoked", f"signing_key:{kid}"):
            if revoked.time <= at:
                raise Broken(
                    f"{what}: the key was revoked at {_stamp(revoked.time)}"
                    f" ({revoked.label()}, reason {revoked.payload.get('reason')!r}),"
                    f" before it was used at {_stamp(at)}"
                )
    return entry


# ---------------------------------------------------------------------- footprint part


@dataclass
class Footprint:
    id: str
    sha256: str
    supplier: str
    submitted: Entry | None = None


def check_footprint(report: Report, bundle: dict[str, Any], log: Log) -> Footprint | None:
    report.start("footprint")
    try:
        part = _object(bundle.get("footprint"), "footprint")
        canonical = _b64(part.get("canonical_bytes"), "footprint.canonical_bytes")
        document = part.get("document")
        try:
            expected = jcs.canonicalize(document)
        except TrustError as exc:
            raise Broken(f"the document cannot be canonicalised: {exc.message}") from exc
        if expected != canonical:
            raise Broken("the bytes are not the RFC 8785 (JCS) form of the document")
        pf_id = document.get("id") if isinstance(document, dict) else None
        if not isinstance(pf_id, str) or pf_id != part.get("id"):
            raise Broken(f"the document's id {pf_id!r} is not the bundle's {part.get('id')!r}")
        digest = sha256(canonical).hex()
        report.ok(f"{pf_id}: the bytes are the RFC 8785 form of the document")
        if part.get("sha256") != digest:
            raise Broken(f"stated SHA-256 {part.get('sha256')!r} is not the bytes' {digest}")
        report.ok(f"SHA-256 {digest}")
    except Broken as exc:
        report.fail(str(exc))
        return None
    submitted = log.find("footprint.submitted", f"footprint:{pf_id}")
    result = Footprint(pf_id, digest, "")
    if not submitted:
        report.fail(f"no footprint.submitted entry for footprint:{pf_id} in the log")
        return result
    entry = submitted[0]
    if entry.payload.get("sha256") != digest:
        report.fail(
            f"{entry.label()} records the SHA-256 {entry.payload.get('sha256')!r},"
            " not this document's"
        )
        return result
    result.supplier, result.submitted = entry.company, entry
    report.ok(
        f"{entry.label()} records this SHA-256, submitted by {entry.company}"
        f" at {_stamp(entry.time)}"
    )
    for deprecated in log.find("footprint.deprecated", f"footprint:{pf_id}"):
        reason = deprecated.payload.get("reason") or ""
        report.note(f"deprecated at {_stamp(deprecated.time)} ({deprecated.label()}): {reason}")
    return result


def check_signature(report: Report, bundle: dict[str, Any], footprint: Footprint, log: Log) -> None:
    report.start("supplier signature")
    try:
        part = _object(bundle.get("signature"), "signature")
        canonical = _b64(
            _object(bundle.get("footprint"), "footprint").get("canonical_bytes"), "footprint"
        )
        token = part.get("jws")
        try:
            parsed = jws.parse_compact(token)  # type: ignore[arg-type]
        except TrustError as exc:
            raise Broken(f"the JWS is malformed: {exc.message}") from exc
        kid = parsed.header.get("kid")
        if parsed.header.get("typ") != FOOTPRINT_JWS_TYPE:
            raise Broken(f"the JWS typ is {parsed.header.get('typ')!r}, not {FOOTPRINT_JWS_TYPE}")
        if not isinstance(kid, str) or kid != part.get("kid"):
            raise Broken(f"the JWS names key {kid!r}, the bundle {part.get('kid')!r}")
        try:
            public = keys.public_key_from_jwk(part.get("jwk"))  # type: ignore[arg-type]
            jws.verify_parsed(parsed, public, expected_payload=canonical)
        except TrustError as exc:
            raise Broken(f"the JWS does not verify over the bytes: {exc.message}") from exc
        report.ok(f"the JWS verifies over the footprint bytes with key {kid}")
        if footprint.submitted is None:
            raise Broken(f"cannot tie key {kid} to the supplier: no submission entry")
        if footprint.submitted.payload.get("kid") != kid:
            raise Broken(
                f"{footprint.submitted.label()} records key"
                f" {footprint.submitted.payload.get('kid')!r}, not {kid}"
            )
        entry = _registration(
            log,
            kid,
            keys.public_key_bytes(public),
            footprint.supplier,
            f"key {kid}",
            footprint.submitted.time,
        )
        report.ok(f"key {kid} is registered for {footprint.supplier} in {entry.label()}")
        report.ok(
            f"the key was in force when the footprint was submitted (registered"
            f" {_stamp(entry.time)}, not revoked before {_stamp(footprint.submitted.time)})"
        )
    except Broken as exc:
        report.fail(str(exc))


# ----------------------------------------------------------------------- attestations


@dataclass
class Attested:
    credential_id: str
    issuer: str
    in_force: bool
    reasons: list[str]
    check: CredentialCheck | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "credentialId": self.credential_id,
            "issuer": self.issuer,
            "inForce": self.in_force,
            "reasons": self.reasons,
        }
        if self.check is not None:
            data["check"] = self.check.as_dict()
        return data


class Documents:
    """The bundled DID documents and status lists, by id (the only sources)."""

    def __init__(self, bundle: dict[str, Any], report: Report) -> None:
        self.dids: dict[str, dict[str, Any]] = {}
        self.lists: dict[str, dict[str, Any]] = {}
        for name, target in (("did_documents", self.dids), ("status_lists", self.lists)):
            items = bundle.get(name, [])
            if not isinstance(items, list):
                report.fail(f"{name}: expected a JSON array")
                continue
            for index, item in enumerate(items):
                if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                    report.fail(f"{name}[{index}]: must be an object with a string id")
                    continue
                if item["id"] in target and target[item["id"]] != item:
                    report.fail(f"{name}[{index}]: a different document for {item['id']}")
                    continue
                target[item["id"]] = item

    def resolve_did(self, did: str) -> dict[str, Any]:
        if did not in self.dids:
            raise LookupError(f"the bundle has no DID document for {did}")
        return self.dids[did]

    def load_status_list(self, url: str) -> dict[str, Any]:
        if url not in self.lists:
            raise StatusListUnavailable(f"status list {url} is not in the bundle")
        return self.lists[url]

    def method_key(self, method: str) -> bytes:
        did = method.partition("#")[0]
        resolve = key_resolver(self.resolve_did(did), did=did)
        return keys.public_key_bytes(resolve(method))


def _tie_method(
    report: Report, log: Log, documents: Documents, method: str, at: datetime | None, what: str
) -> None:
    """The key behind a DID verification method is the one the log registered for the
    company the DID names, and was in force at ``at``."""
    did, _, kid = method.partition("#")
    company = _company_of_did(did)
    try:
        raw = documents.method_key(method)
    except (TrustError, LookupError) as exc:
        raise Broken(f"{what}: {exc}") from exc
    entry = _registration(log, kid, raw, company, f"{what} key {kid}", at)
    report.ok(f"{what} key {kid} is registered for {company} in {entry.label()}")


def _status_methods(
    documents: Documents, check: CredentialCheck
) -> list[tuple[str, str, datetime | None]]:
    """(list URL, verification method, proof created) of each status list checked."""
    methods = []
    for status in check.statuses:
        listed = documents.lists.get(status.list_url)
        proof = listed.get("proof") if listed else None
        if not status.list_issuer or not isinstance(proof, dict):
            continue
        method = proof.get("verificationMethod")
        if isinstance(method, str):
            methods.append((status.list_url, method, _time(proof.get("created"))))
    return methods


def check_attestation(
    report: Report,
    item: Any,
    index: int,
    *,
    footprint: Footprint,
    log: Log,
    documents: Documents,
    now: datetime,
) -> Attested | None:
    label = item.get("credential_id") if isinstance(item, dict) else None
    report.start(f"attestation {label or index}")
    try:
        item = _object(item, f"attestations[{index}]")
        raw = _b64(item.get("credential"), "credential")
        try:
            credential = jcs.loads_strict(raw)
        except TrustError as exc:
            raise Broken(f"the credential is not strict JSON ({exc.message})") from exc
        credential = _object(credential, "credential")
        try:
            check = check_credential(
                credential,
                resolve_did=documents.resolve_did,
                load_status_list=documents.load_status_list,
                now=now,
            )
        except TrustError as exc:
            raise Broken(f"the credential does not verify: {exc.message}") from exc
        report.ok(f"the credential's proof verifies ({check.verification_method})")
        subject = check.subject
        digest = str(subject.get("footprintDigest", "")).removeprefix("sha256:")
        if subject.get("footprintId") != footprint.id or digest != footprint.sha256:
            raise Broken(
                f"the credential is about footprint {subject.get('footprintId')!r} with digest"
                f" {subject.get('footprintDigest')!r}, not this one"
            )
        report.ok("it names this footprint's id and SHA-256")
        created = _time(check.proof_created) if check.proof_created else None
        _tie_method(report, log, documents, check.verification_method, created, "verifier")
        for url, method, signed_at in _status_methods(documents, check):
            _tie_method(report, log, documents, method, signed_at, f"status list {url}")
        engagement = f"engagement:{subject.get('engagement')}"
        credential_digest = sha256(jcs.canonicalize(credential)).hex()
        recorded = [
            e
            for e in log.find("engagement.attested", engagement)
            if credential_digest in (e.payload.get("credential_sha256") or [])
        ]
        if not recorded:
            raise Broken(f"no engagement.attested entry of {engagement} records this credential")
        report.ok(f"recorded by {recorded[0].label()} ({engagement})")
    except Broken as exc:
        report.fail(str(exc))
        return None

    reasons = list(check.reasons)
    for revoked in log.find("engagement.revoked", engagement):
        if check.revoked is False:
            report.fail(
                f"{revoked.label()} records the revocation of {engagement} at"
                f" {_stamp(revoked.time)}, but the status list says not revoked"
            )
        elif check.revoked is None:
            reasons.append(f"revoked: {revoked.label()} at {_stamp(revoked.time)}")
    window = f"valid from {check.as_dict()['validFrom']} until {check.as_dict()['validUntil']}"
    for status in check.statuses:
        report.note(f"status: {status.describe()}")
    if reasons:
        for reason in reasons:
            report.add(OFF, reason)
    else:
        report.ok(f"in force at {_stamp(now)} ({window})")
    return Attested(
        check.credential_id or str(label), check.issuer, not reasons, reasons, check=check
    )


# ------------------------------------------------------------------------------ whole


@dataclass
class Outcome:
    report: Report
    footprint: Footprint | None
    attestations: list[Attested]
    checkpoint: note.Checkpoint | None

    @property
    def exit_code(self) -> int:
        if self.report.problems:
            return EXIT_FAILED
        if not any(a.in_force for a in self.attestations):
            return EXIT_NOT_IN_FORCE
        return EXIT_OK

    def verdict(self) -> str:
        code = self.exit_code
        if code == EXIT_FAILED:
            count = len(self.report.problems)
            return f"FAILED: {count} problem{'s' if count != 1 else ''} (see FAIL lines above)"
        in_force = [a for a in self.attestations if a.in_force]
        if code == EXIT_NOT_IN_FORCE:
            if not self.attestations:
                return "GENUINE, but NOT VERIFIED: the bundle carries no attestation"
            why = "; ".join(f"{a.credential_id}: {', '.join(a.reasons)}" for a in self.attestations)
            return f"GENUINE, but no attestation in force: {why}"
        names = ", ".join(f"{a.credential_id} by {a.issuer}" for a in in_force)
        return f"OK: the footprint is genuine and verified ({names})"


def verify_bundle(
    bundle: Any,
    *,
    log_key: note.NoteVerifier,
    witnesses: list[note.CosignatureVerifier] | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Check a parsed bundle; never raises for anything wrong in it (see the report)."""
    report = Report()
    moment = now or datetime.now(UTC).replace(microsecond=0)
    report.start("bundle")
    if not isinstance(bundle, dict):
        report.fail("the file is not a JSON object")
        return Outcome(report, None, [], None)
    if bundle.get("format") != BUNDLE_FORMAT:
        report.fail(f"format {bundle.get('format')!r} is not {BUNDLE_FORMAT!r}")
        return Outcome(report, None, [], None)
    log_part = bundle.get("log") if isinstance(bundle.get("log"), dict) else {}
    assert isinstance(log_part, dict)
    checkpoint = check_checkpoint(report, log_part, log_key, witnesses or [])
    log = check_entries(report, log_part, checkpoint)
    footprint = check_footprint(report, bundle, log)
    attested: list[Attested] = []
    if footprint is not None:
        check_signature(report, bundle, footprint, log)
        report.start("documents")
        documents = Documents(bundle, report)
        items = bundle.get("attestations", [])
        if not isinstance(items, list):
            report.fail("attestations: expected a JSON array")
            items = []
        if not items:
            report.start("attestations")
            report.add(OFF, "the bundle carries no attestation of this footprint")
        for index, item in enumerate(items):
            result = check_attestation(
                report,
                item,
                index,
                footprint=footprint,
                log=log,
                documents=documents,
                now=moment,
            )
            if result is not None:
                attested.append(result)
    return Outcome(report, footprint, attested, checkpoint)


# ---------------------------------------------------------------------------- command


def _human(path: str, outcome: Outcome) -> str:
    lines = [f"{path}: evidence bundle ({BUNDLE_FORMAT})"]
    if outcome.footprint is not None:
        lines[0] += f" of footprint {outcome.footprint.id}"
    section = None
    width = max((len(line.status) for line in outcome.report.lines), default=4)
    for line in outcome.report.lines:
        if line.section != section:
            section = line.section
            lines.append(section)
        lines.append(f"  {line.status:<{width}}  {line.message}")
    lines.append(outcome.verdict())
    return "\n".join(lines)


def _json(path: str, outcome: Outcome) -> str:
    result = {EXIT_OK: "valid", EXIT_FAILED: "invalid", EXIT_NOT_IN_FORCE: "not_in_force"}
    report: dict[str, Any] = {
        "file": path,
        "result": result[outcome.exit_code],
        "exitCode": outcome.exit_code,
        "verdict": outcome.verdict(),
        "footprint": (
            {"id": outcome.footprint.id, "sha256": outcome.footprint.sha256}
            if outcome.footprint
            else None
        ),
        "checkpoint": (
            {
                "origin": outcome.checkpoint.origin,
                "size": outcome.checkpoint.size,
                "root": b64_std_encode(outcome.checkpoint.root),
            }
            if outcome.checkpoint
            else None
        ),
        "problems": outcome.report.problems,
        "attestations": [a.as_dict() for a in outcome.attestations],
        "checks": [line.as_dict() for line in outcome.report.lines],
    }
    return json.dumps(report, indent=2, ensure_ascii=False)


def _load(path: str) -> Any:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        return jcs.loads_strict(data)
    except TrustError as exc:
        raise UsageError(f"{path}: not strict JSON ({exc.message})") from exc


def _parse(
    parse: Callable[[str], Any], value: str, option: str
) -> Any:  # a key string or RFC 3339 time
    try:
        return parse(value)
    except TrustError as exc:
        raise UsageError(f"{option}: {exc.message}") from exc


def cmd_verify_bundle(args: argparse.Namespace) -> int:
    try:
        log_key = _parse(note.NoteVerifier.from_key_string, args.log_key, "--log-key")
        witnesses = [
            _parse(note.CosignatureVerifier.from_key_string, key, "--witness-key")
            for key in args.witness_key
        ]
        now = (
            _parse(lambda v: parse_datetime_stamp(v, "--now"), args.now, "--now")
            if args.now
            else None
        )
        bundle = _load(args.file)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    outcome = verify_bundle(bundle, log_key=log_key, witnesses=witnesses, now=now)
    print(_json(args.file, outcome) if args.json else _human(args.file, outcome))
    return outcome.exit_code


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``verify-bundle`` to the ``carbonx`` command."""
    parser = subparsers.add_parser(
        "verify-bundle",
        help="check a footprint's evidence bundle offline against the pinned log key",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", help="the bundle (JSON, from GET /api/v1/footprints/<id>/bundle)")
    parser.add_argument(
        "--log-key", required=True, help="the audit log's verifier key (C2SP vkey) to trust"
    )
    parser.add_argument(
        "--witness-key",
        action="append",
        default=[],
        metavar="VKEY",
        help="a witness cosignature key (C2SP vkey); its cosignature must be present and valid"
        " (repeatable)",
    )
    parser.add_argument(
        "--now",
        metavar="RFC3339",
        help="check validity at this moment instead of the current time, e.g. 2026-01-01T00:00:00Z",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    parser.set_defaults(func=cmd_verify_bundle)
