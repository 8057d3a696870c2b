"""Writes to the audit log: appends, checkpoints and witness cosignatures.

Every other app records its events through :func:`audit_append` inside its own
``transaction.atomic()``, so a business change and its entry commit or roll back
together.  Appends are serialised by locking the one ``LogHead`` row; that row also
carries the Merkle frontier, so the tree root is known after every append and the
perfect subtree nodes each append completes are stored at once (proofs are then
``O(log n)`` lookups).  Formats and rationale: docs/audit.md.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from trust import jcs, keys, note
from trust.errors import TrustError
from trust.merkle import Frontier, leaf_hash

from .entry_format import encode_entry, format_time
from .models import (
    GENESIS_PREV,
    HEAD_ID,
    AuditEntry,
    Checkpoint,
    Cosignature,
    LogHead,
    TreeNode,
    Witness,
)

logger = logging.getLogger(__name__)

_TYPE_RE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_CONTROL_RE = re.compile(r"[\x00-\x1f]")
_BULK_BATCH = 2000


class AuditError(Exception):
    """A refused audit operation; ``code`` is stable, the message says what to fix."""

    code = "audit_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class AuditInputError(AuditError, ValueError):
    """An entry that cannot be recorded as given (bad type, field, payload)."""

    code = "audit_invalid_entry"


class CosignatureRejected(AuditError):
    """A cosignature that names no registered witness or does not verify."""

    code = "cosignature_rejected"


# --------------------------------------------------------------------------- appends


@dataclass(frozen=True)
class _Prepared:
    """An entry's validated fields and canonical payload, before it gets a seq."""

    type: str
    actor: str
    company: str
    subject: str
    payload: bytes
    payload_sha256: str


def _check_text(name: str, value: object, *, max_length: int, required: bool) -> str:
    if not isinstance(value, str):
        raise AuditInputError(f"{name}: must be a string, got {type(value).__name__}")
    if required and not value:
        raise AuditInputError(f"{name}: must not be empty")
    if len(value) > max_length:
        raise AuditInputError(f"{name}: at most {max_length} characters, got {len(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise AuditInputError(f"{name}: contains a lone surrogate") from exc
    if _CONTROL_RE.search(value):
        raise AuditInputError(f"{name}: must not contain control characters")
    return value


def _prepare(
    *, type: str, actor: str, company: str, subject: str, payload: Mapping[str, Any]
) -> _Prepared:
    _check_text("type", type, max_length=100, required=True)
    if not _TYPE_RE.fullmatch(type):
        raise AuditInputError(
            f"type: {type!r} must be dotted lowercase words such as 'signing_key.registered'"
        )
    _check_text("actor", actor, max_length=200, required=True)
    _check_text("company", company, max_length=100, required=False)
    _check_text("subject", subject, max_length=300, required=False)
    if not isinstance(payload, Mapping):
        raise AuditInputError(f"payload: must be a mapping, got {payload.__class__.__name__}")
    if any(isinstance(v, float) for v in _leaves(payload)):
        # A float would be signed in its JCS double spelling; the platform carries
        # decimals as strings everywhere, so a float here is a caller bug.
        raise AuditInputError("payload: floats are not allowed; carry numbers as strings")
    try:
        payload_bytes = jcs.canonicalize(dict(payload))
    except TrustError as exc:
        raise AuditInputError(f"payload: {exc.message}") from exc
    return _Prepared(
        type=type,
        actor=actor,
        company=company,
        subject=subject,
        payload=payload_bytes,
        payload_sha256=hashlib.sha256(payload_bytes).hexdigest(),
    )


def _leaves(value: Any) -> list[Any]:
    out: list[Any] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        else:
            out.append(item)
    return out


def _lock_head() -> LogHead:
    """Lock the head row for this transaction; create it only for an empty log.

    The data migration creates the row.  It can only be missing after a test
    suite flushed the tables; re-creating it is safe only while no entry exists
    (with entries, a fresh head would restart at seq 0 and the unique seq/prev
    constraints refuse the append anyway).
    """
    head = LogHead.objects.select_for_update().filter(pk=HEAD_ID).first()
    if head is not None:
        return head
    if AuditEntry.objects.exists():
        raise AuditError("the audit log head row is missing while entries exist", "audit_head_lost")
    LogHead.objects.get_or_create(pk=HEAD_ID)
    return LogHead.objects.select_for_update().get(pk=HEAD_ID)


#: Column order of entry rows, shared by the ORM and the raw PostgreSQL writers.
_ENTRY_COLUMNS = (
    "seq",
    "prev",
    "entry_hash",
    "entry_bytes",
    "time",
    "type",
    "actor",
    "company",
    "subject",
    "payload_sha256",
    "payload",
)
_NODE_COLUMNS = ("level", "node_index", "hash")
#: Up to this many entries go in one combined INSERT...INSERT...UPDATE statement.
_SINGLE_STATEMENT_MAX = 16


def _append_locked(prepared: Sequence[_Prepared]) -> list[AuditEntry]:
    head = _lock_head()
    frontier = Frontier.from_bytes(head.size, bytes(head.frontier))
    prev = bytes(head.last_hash)
    seq = head.size
    rows: list[tuple[Any, ...]] = []
    nodes: list[tuple[int, int, bytes]] = []
    for item in prepared:
        moment = timezone.now()
        entry_bytes = encode_entry(
            seq=seq,
            prev=prev,
            time=format_time(moment),
            type=item.type,
            actor=item.actor,
            company=item.company,
            subject=item.subject,
            payload_sha256=item.payload_sha256,
        )
        entry_hash = leaf_hash(entry_bytes)
        rows.append(
            (
                seq,
                prev,
                entry_hash,
                entry_bytes,
                moment,
                item.type,
                item.actor,
                item.company,
                item.subject,
                item.payload_sha256,
                item.payload,
            )
        )
        # Level 0 is the entry's own hash; only interior perfect nodes get rows.
        nodes.extend(frontier.append(entry_hash)[1:])
        prev = entry_hash
        seq += 1
    head_values = (seq, prev, frontier.to_bytes(), timezone.now(), head.size)
    if connection.vendor == "postgresql":
        _write_postgresql(rows, nodes, head_values)
    else:
        _write_orm(rows, nodes, head_values)
    return [AuditEntry.from_db(connection.alias, _ENTRY_COLUMNS, row) for row in rows]


def _write_orm(
    rows: list[tuple[Any, ...]], nodes: list[tuple[int, int, bytes]], head: tuple[Any, ...]
) -> None:
    """Portable writer (SQLite): bulk inserts through the ORM."""
    AuditEntry.objects.bulk_create(
        [AuditEntry(**dict(zip(_ENTRY_COLUMNS, row, strict=True))) for row in rows],
        batch_size=_BULK_BATCH,
    )
    if nodes:
        TreeNode.objects.bulk_create(
            [TreeNode(level=level, node_index=index, hash=h) for level, index, h in nodes],
            batch_size=_BULK_BATCH,
        )
    size, last_hash, frontier, now, old_size = head
    updated = LogHead.objects.filter(pk=HEAD_ID, size=old_size).update(
        size=size, last_hash=last_hash, frontier=frontier, updated_at=now
    )
    if updated != 1:  # pragma: no cover - the row lock makes this impossible
        raise AuditError("the audit log head moved during an append", "audit_head_moved")


def _write_postgresql(
    rows: list[tuple[Any, ...]], nodes: list[tuple[int, int, bytes]], head: tuple[Any, ...]
) -> None:
    """PostgreSQL writer: the append is dominated by round trips, so a few entries
    go in one statement (entries, nodes and head together) and a batch is streamed
    with COPY.  Same rows, same constraints as the ORM writer.

    Only table and column names (from the models, never from input) are formatted
    into the SQL; every value is a bound parameter.
    """
    entry_table = AuditEntry._meta.db_table
    node_table = TreeNode._meta.db_table
    head_table = LogHead._meta.db_table
    entry_cols = ", ".join(_ENTRY_COLUMNS)
    node_cols = ", ".join(_NODE_COLUMNS)
    head_sql = (
        f"UPDATE {head_table} SET size = %s, last_hash = %s, frontier = %s, "  # noqa: S608
        f"updated_at = %s WHERE id = {HEAD_ID} AND size = %s"
    )
    entry_placeholders = "(" + ", ".join(["%s"] * len(_ENTRY_COLUMNS)) + ")"
    with connection.cursor() as cursor:
        if len(rows) <= _SINGLE_STATEMENT_MAX:
            sql = (
                f"WITH new_entries AS (INSERT INTO {entry_table} ({entry_cols}) "  # noqa: S608
                f"VALUES {', '.join([entry_placeholders] * len(rows))})"
            )
            params: list[Any] = [value for row in rows for value in row]
            if nodes:
                sql += (
                    f", new_nodes AS (INSERT INTO {node_table} ({node_cols}) "  # noqa: S608
                    f"VALUES {', '.join(['(%s, %s, %s)'] * len(nodes))})"
                )
                params.extend(value for node in nodes for value in node)
            cursor.execute(f"{sql} {head_sql}", [*params, *head])
        else:
            raw = cursor.cursor  # the psycopg cursor, inside the same transaction
            with raw.copy(f"COPY {entry_table} ({entry_cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            if nodes:
                with raw.copy(f"COPY {node_table} ({node_cols}) FROM STDIN") as copy:
                    for node in nodes:
                        copy.write_row(node)
            cursor.execute(head_sql, list(head))
        if cursor.rowcount != 1:  # pragma: no cover - the row lock makes this impossible
            raise AuditError("the audit log head moved during an append", "audit_head_moved")


def _require_atomic() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError(
            "audit_append must run inside the caller's transaction.atomic() so the change "
            "and its audit entry commit or roll back together"
        )


def audit_append(
    *, type: str, actor: str, company: str, subject: str, payload: Mapping[str, Any]
) -> AuditEntry:
    """Record one event in the caller's transaction and return its entry.

    ``type`` is a dotted event name ("signing_key.registered"), ``actor`` who did it
    ("user:alice", "client:abc", "system"), ``company`` the company slug or "" for
    zone-wide events, ``subject`` what it concerns ("signing_key:<kid>"), ``payload``
    JSON-able details (str/int/bool/None/list/dict) committed to by their SHA-256.
    Raises ``RuntimeError`` outside ``transaction.atomic()`` and ``AuditInputError``
    for a malformed entry.
    """
    _require_atomic()
    prepared = _prepare(type=type, actor=actor, company=company, subject=subject, payload=payload)
    return _append_locked([prepared])[0]


def audit_append_many(entries: Sequence[Mapping[str, Any]]) -> list[AuditEntry]:
    """Record several events in one lock and one bulk insert, in the given order.

    Each item has the keyword arguments of :func:`audit_append`.  Same transaction
    rule; all are validated before anything is written.
    """
    _require_atomic()
    prepared = []
    for i, item in enumerate(entries):
        unknown = set(item) - {"type", "actor", "company", "subject", "payload"}
        if unknown:
            raise AuditInputError(f"entries[{i}]: unknown keys {sorted(unknown)}")
        try:
            prepared.append(
                _prepare(
                    type=item.get("type"),  # type: ignore[arg-type]
                    actor=item.get("actor"),  # type: ignore[arg-type]
                    company=item.get("company", ""),
                    subject=item.get("subject", ""),
                    payload=item.get("payload", {}),
                )
            )
        except AuditInputError as exc:
            raise AuditInputError(f"entries[{i}].{exc.message}") from exc
    if not prepared:
        return []
    return _append_locked(prepared)


# ------------------------------------------------------------------------ log key

_key_lock = threading.Lock()
_signers: dict[tuple[str, str], note.NoteSigner] = {}


def _load_or_create_key(path: Path) -> bytes:
    """The PEM at ``path``, generated (mode 0600, never overwritten) if missing."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    if Checkpoint.objects.exists():
        # Checkpoints were signed with a key that is now missing: a new key would
        # silently fork the log's identity for every witness and auditor.
        raise ImproperlyConfigured(
            f"AUDIT_LOG_KEY_FILE {path} is missing but checkpoints exist: restore the log "
            "key from backup (see docs/operations.md) instead of generating a new one"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = keys.private_key_to_pem(keys.generate_private_key())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_bytes()
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    logger.warning("generated a new audit log key at %s", path)
    return pem


def log_signer() -> note.NoteSigner:
    """The platform's checkpoint signer: key from AUDIT_LOG_KEY_FILE, named after
    AUDIT_LOG_ORIGIN (C2SP convention: the log key's name is its origin)."""
    cache_key = (str(settings.AUDIT_LOG_KEY_FILE), settings.AUDIT_LOG_ORIGIN)
    with _key_lock:
        signer = _signers.get(cache_key)
        if signer is None:
            pem = _load_or_create_key(Path(settings.AUDIT_LOG_KEY_FILE))
            signer = note.NoteSigner(settings.AUDIT_LOG_ORIGIN, keys.private_key_from_pem(pem))
            _signers[cache_key] = signer
        return signer


def log_verifier_key() -> str:
    """The public verifier key string of the log (what verifiers and witnesses pin)."""
    return log_signer().verifier_key()


# ------------------------------------------------------------------------ checkpoints


def checkpoint_create() -> Checkpoint | None:
    """Sign the current tree head as a C2SP checkpoint; ``None`` if the log is
    empty or has not grown since the last checkpoint.

    The head is locked while signing (a few microseconds) so size and root belong
    together; witnesses are notified after commit.
    """
    signer = log_signer()
    with transaction.atomic():
        head = _lock_head()
        last = Checkpoint.objects.order_by("-size").only("size").first()
        if head.size == 0 or (last is not None and last.size >= head.size):
            return None
        root = Frontier.from_bytes(head.size, bytes(head.frontier)).root()
        text = note.format_checkpoint(settings.AUDIT_LOG_ORIGIN, head.size, root)
        checkpoint = Checkpoint.objects.create(size=head.size, root=root, note=signer.sign(text))
        checkpoint_id = checkpoint.pk
        transaction.on_commit(lambda: _enqueue_witness_requests(checkpoint_id))
    return checkpoint


def _enqueue_witness_requests(checkpoint_id: int) -> None:
    from .tasks import witness_request_cosignature  # tasks import services

    for witness_id in (
        Witness.objects.filter(active=True).exclude(url="").values_list("pk", flat=True)
    ):
        witness_request_cosignature.delay(witness_id, checkpoint_id)


def checkpoint_text(checkpoint: Checkpoint) -> str:
    """The checkpoint body (what the log and the witnesses sign)."""
    text, _ = note.parse_note(checkpoint.note)
    return text


def checkpoint_note_with_cosignatures(checkpoint: Checkpoint) -> str:
    """The log-signed note with every stored witness cosignature appended."""
    lines = [c.signature_line for c in checkpoint.cosignatures.order_by("witness__name")]
    return checkpoint.note + "".join(f"{line}\n" for line in lines)


# ----------------------------------------------------------------------- witnesses


def witness_register(
    *, name: str, verifier_key: str, url: str = "", company: str = "", active: bool = True
) -> Witness:
    """Register a witness by its cosignature verifier key (C2SP vkey, type 0x04).

    The key's name must equal ``name`` so cosignature lines can be matched to it.
    """
    try:
        verifier = note.CosignatureVerifier.from_key_string(verifier_key)
    except TrustError as exc:
        raise AuditInputError(f"verifier_key: {exc.message}") from exc
    if verifier.name != name:
        raise AuditInputError(f"verifier_key: names {verifier.name!r}, expected {name!r}")
    return Witness.objects.create(
        name=name, verifier_key=verifier_key, url=url, company=company, active=active
    )


def cosignature_record(*, checkpoint: Checkpoint, witness: Witness, line: str) -> Cosignature:
    """Verify ``line`` as ``witness``'s cosignature on ``checkpoint`` and store it.

    Idempotent: a witness's second cosignature on the same checkpoint keeps the
    first.  Advances the witness's ``last_cosigned_size``.
    """
    verifier = note.CosignatureVerifier.from_key_string(witness.verifier_key)
    try:
        timestamp = verifier.verify_line(checkpoint_text(checkpoint), line.rstrip("\n"))
    except TrustError as exc:
        raise CosignatureRejected(f"cosignature: {exc.message}") from exc
    with transaction.atomic():
        try:
            with transaction.atomic():
                cosignature = Cosignature.objects.create(
                    checkpoint=checkpoint,
                    witness=witness,
                    signature_line=line.rstrip("\n"),
                    timestamp=timestamp,
                )
        except IntegrityError:
            cosignature = Cosignature.objects.get(checkpoint=checkpoint, witness=witness)
        Witness.objects.filter(pk=witness.pk, last_cosigned_size__lt=checkpoint.size).update(
            last_cosigned_size=checkpoint.size
        )
        Witness.objects.filter(pk=witness.pk).update(last_contact_at=timezone.now(), last_error="")
    return cosignature


def cosignature_submit(*, size: int, line: str) -> Cosignature:
    """Accept a cosignature pushed by a witness (pull-mode ``carbonx witness``).

    The signature is the authentication: the line must name an active registered
    witness and verify against its key over the checkpoint of ``size``.
    """
    try:
        parsed = note.parse_signature_line(line.rstrip("\n"))
    except TrustError as exc:
        raise CosignatureRejected(f"cosignature: {exc.message}") from exc
    witness = Witness.objects.filter(name=parsed.name, active=True).first()
    if witness is None:
        raise CosignatureRejected(
            f"cosignature: no active witness named {parsed.name!r} is registered"
        )
    checkpoint = Checkpoint.objects.filter(size=size).first()
    if checkpoint is None:
        raise CosignatureRejected(f"size: no checkpoint of size {size}", "checkpoint_not_found")
    return cosignature_record(checkpoint=checkpoint, witness=witness, line=line)


def witness_record_error(*, witness_id: int, message: str) -> None:
    """Remember why the last exchange with a witness failed (shown to the operator)."""
    Witness.objects.filter(pk=witness_id).update(
        last_error=message[:2000], last_contact_at=timezone.now()
    )


def witness_record_size(*, witness_id: int, size: int) -> None:
    """Adopt the size a witness reports it last cosigned (a 409 from add-checkpoint)."""
    Witness.objects.filter(pk=witness_id).update(last_cosigned_size=size)


__all__ = [
    "GENESIS_PREV",
    "AuditError",
    "AuditInputError",
    "CosignatureRejected",
    "audit_append",
    "audit_append_many",
    "checkpoint_create",
    "checkpoint_note_with_cosignatures",
    "checkpoint_text",
    "cosignature_record",
    "cosignature_submit",
    "log_signer",
    "log_verifier_key",
    "witness_record_error",
    "witness_record_size",
    "witness_register",
]
