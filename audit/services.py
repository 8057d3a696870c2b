"""Writes to the audit log: appends, checkpoints and witness cosignatures.

Every other app records its events through :func:`audit_append` inside its own
``transaction.atomic()``, so a business change and its entry commit or roll back
together; an event that changes nothing else (data pulled, a document downloaded)
is recorded by :func:`audit_record`, outside any atomic block, in a transaction of
its own.  Appends are serialised by locking the one ``LogHead`` row; that row also
carries the Merkle frontier, so the tree root is known after every append and the
perfect subtree nodes each append completes are stored at once (proofs are then
``O(log n)`` lookups).  Formats and rationale: docs/audit.md.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from psycopg.types.numeric import Int2, Int8

from trust import keys, note
from trust.errors import TrustError
from trust.merkle import Frontier

from . import selectors
from .entry_format import ENTRY_TEMPLATE, PayloadFloatError, encode_payload, format_time, quote
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
#: A string with no C0 control character and no lone surrogate (checked in one go).
_PLAIN_TEXT_RE = re.compile("[^\x00-\x1f\ud800-\udfff]*")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
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


class _Prepared(NamedTuple):
    """An entry's validated fields and canonical payload, before it gets a seq.
    (A named tuple: a batch makes thousands, and it is the cheapest to build.)"""

    type: str
    actor: str
    company: str
    subject: str
    payload: bytes
    payload_sha256: str


def _check_text(name: str, value: object, *, max_length: int, required: bool) -> str:
    if (
        isinstance(value, str)
        and (value or not required)
        and len(value) <= max_length
        and _PLAIN_TEXT_RE.fullmatch(value)
    ):
        return value  # the common case, in one regex call
    if not isinstance(value, str):
        raise AuditInputError(f"{name}: must be a string, got {type(value).__name__}")
    if required and not value:
        raise AuditInputError(f"{name}: must not be empty")
    if len(value) > max_length:
        raise AuditInputError(f"{name}: at most {max_length} characters, got {len(value)}")
    if _SURROGATE_RE.search(value):
        raise AuditInputError(f"{name}: contains a lone surrogate")
    raise AuditInputError(f"{name}: must not contain control characters")


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
    if payload.__class__ is not dict:  # (``type`` is a parameter here)
        if not isinstance(payload, Mapping):
            raise AuditInputError(f"payload: must be a mapping, got {payload.__class__.__name__}")
        payload = dict(payload)
    try:
        # Floats are refused: one would be signed in its JCS double spelling; the
        # platform carries decimals as strings everywhere, so a float is a caller bug.
        payload_bytes = encode_payload(payload)
    except PayloadFloatError as exc:
        raise AuditInputError(f"payload: {exc}") from exc
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


@dataclass(frozen=True)
class _Head:
    """The head row's content: ``size`` (the next seq), ``last_hash``, ``frontier``."""

    size: int
    last_hash: bytes
    frontier: bytes


@dataclass
class _Built:
    """Entries built on top of a head: the rows to insert, the perfect tree nodes
    they complete and the new head.  ``base`` is the head they were built on."""

    base: _Head
    rows: list[tuple[Any, ...]]
    nodes: list[tuple[int, int, bytes]]
    head: _Head
    updated_at: datetime


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


def _build(
    prepared: Sequence[_Prepared],
    base: _Head,
    emit: Callable[[tuple[Any, ...]], None] | None = None,
) -> _Built:
    """Give each prepared entry its seq, prev and time, encode and hash it, and
    extend the Merkle frontier.  Nothing is written here, except that each row is
    also handed to ``emit`` as soon as it is built (a batch streams rows into COPY
    this way, so the database inserts while Python builds the next ones)."""
    frontier = Frontier.from_bytes(base.size, base.frontier)
    prev = base.last_hash
    seq = base.size
    sha256 = hashlib.sha256
    rows: list[tuple[Any, ...]] = []
    nodes: list[tuple[int, int, bytes]] = []
    now = timezone.now
    for item in prepared:
        moment = now()
        # The template leaves the digest (our own hexdigest) and the time (our own
        # format) unquoted; the four free-text fields are quoted like JCS does.
        entry_bytes = (
            ENTRY_TEMPLATE
            % (
                quote(item.actor),
                quote(item.company),
                item.payload_sha256,
                prev.hex(),
                seq,
                quote(item.subject),
                format_time(moment),
                quote(item.type),
            )
        ).encode("utf-8")
        entry_hash = sha256(b"\x00" + entry_bytes).digest()
        row = (
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
        rows.append(row)
        if emit is not None:
            emit(row)
        # Level 0 is the entry's own hash; only interior perfect nodes get rows.
        completed = frontier.append(entry_hash)
        if len(completed) > 1:
            nodes.extend(completed[1:])
        prev = entry_hash
        seq += 1
    head = _Head(size=seq, last_hash=prev, frontier=frontier.to_bytes())
    return _Built(base=base, rows=rows, nodes=nodes, head=head, updated_at=now())


def _append_locked(prepared: Sequence[_Prepared]) -> list[AuditEntry]:
    # ``connection`` is a proxy that looks the thread's connection up on every
    # attribute access; on the hot path, look it up once.
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor == "postgresql":
        rows = _append_postgresql(db, prepared)
        assert rows is not None  # (only ``guess_only`` returns None)
    else:
        rows = _append_orm(prepared)
    return _entries(db, rows)


def _entries(db: BaseDatabaseWrapper, rows: list[tuple[Any, ...]]) -> list[AuditEntry]:
    alias = db.alias
    return [AuditEntry.from_db(alias, _ENTRY_COLUMNS, row) for row in rows]


# ---- portable writer (SQLite) ----------------------------------------------------


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
    # Several writers can find the row missing at once: create it (or find the one
    # another writer just created), lock it, and only then judge.  A head still at
    # size 0 while entries exist means it was really lost (checking for entries
    # before locking would race with a writer that created the row and appended).
    LogHead.objects.get_or_create(pk=HEAD_ID)
    head = LogHead.objects.select_for_update().get(pk=HEAD_ID)
    if head.size == 0 and AuditEntry.objects.exists():
        raise AuditError("the audit log head row is missing while entries exist", "audit_head_lost")
    return head


def _append_orm(prepared: Sequence[_Prepared]) -> list[tuple[Any, ...]]:
    """Portable writer (SQLite): lock the head, bulk inserts through the ORM."""
    row = _lock_head()
    built = _build(prepared, _Head(row.size, bytes(row.last_hash), bytes(row.frontier)))
    AuditEntry.objects.bulk_create(
        [AuditEntry(**dict(zip(_ENTRY_COLUMNS, r, strict=True))) for r in built.rows],
        batch_size=_BULK_BATCH,
    )
    if built.nodes:
        TreeNode.objects.bulk_create(
            [TreeNode(level=level, node_index=index, hash=h) for level, index, h in built.nodes],
            batch_size=_BULK_BATCH,
        )
    updated = LogHead.objects.filter(pk=HEAD_ID, size=row.size).update(
        size=built.head.size,
        last_hash=built.head.last_hash,
        frontier=built.head.frontier,
        updated_at=built.updated_at,
    )
    if updated != 1:  # pragma: no cover - the row lock makes this impossible
        raise AuditError("the audit log head moved during an append", "audit_head_moved")
    return built.rows


# ---- PostgreSQL writer -----------------------------------------------------------
#
# A single append is bounded by round trips and by the commit, not by Python
# work: on a small machine one round trip to a local server costs about as much as
# all the Python an append runs.  So the hot path talks to psycopg directly (no ORM
# query compilation), sends binary parameters, and writes the entry, its tree
# nodes and the head in ONE statement.
#
# That statement is conditional: it updates the head row only if the row still
# holds the head the entry was built on (size, last hash and frontier), and
# inserts the entry and nodes only if that update happened.  Taking the row lock
# (the UPDATE) and checking the row are one step, so the statement can be sent
# *before* reading the head, built on this thread's copy of the head it last
# wrote or read.  If nobody else appended in between (the common case for a
# process appending on its own) the append is that one round trip; otherwise the
# statement changes nothing, and the append does what it always may: lock the row
# with SELECT ... FOR UPDATE, read it, build again and write.  A thread whose
# guess missed goes straight to the lock until a locked read shows its copy would
# have been right again, so busy concurrent writers do not pay a wasted round trip
# each.  Correctness never depends on the copy: a write built on a wrong head
# cannot match the row, and the row lock serialises writers exactly as before.
#
# Inside the caller's transaction.atomic() (audit_append) that statement still
# costs BEGIN and COMMIT round trips around it.  audit_record sends it in
# autocommit instead, where PostgreSQL runs one statement as one transaction:
# the entry, its nodes and the head commit together or not at all, in one round
# trip.  Only a miss there opens a transaction (atomic(): lock, build, write).


class _HeadGuess(threading.local):
    """This thread's copy of the head row as it last wrote or read it."""

    head: _Head | None = None
    trusted: bool = True  # False after a miss, until a locked read matches again


_head_guess = _HeadGuess()

_ENTRY_TABLE = AuditEntry._meta.db_table
_NODE_TABLE = TreeNode._meta.db_table
_HEAD_TABLE = LogHead._meta.db_table

# Only model table and column names are formatted into SQL; every value is a
# bound parameter.
_SQL_LOCK_HEAD = (
    f"SELECT size, last_hash, frontier FROM {_HEAD_TABLE} "  # noqa: S608
    f"WHERE id = {HEAD_ID} FOR UPDATE"
)
_SQL_WRITE_HEAD = f"""
WITH head AS (
    UPDATE {_HEAD_TABLE}
    SET size = %(seq)b + 1, last_hash = %(entry_hash)b, frontier = %(frontier)b,
        updated_at = %(time)b
    WHERE id = {HEAD_ID} AND size = %(seq)b AND last_hash = %(prev)b
        AND frontier = %(base_frontier)b
    RETURNING 1
)"""  # noqa: S608
_SQL_WRITE_NODES = f"""
, nodes AS (
    INSERT INTO {_NODE_TABLE} (level, node_index, hash)
    SELECT node.* FROM head, (VALUES {{}}) AS node
)"""  # noqa: S608
_SQL_WRITE_ENTRY = f"""
INSERT INTO {_ENTRY_TABLE} ({", ".join(_ENTRY_COLUMNS)})
SELECT {", ".join(f"%({name})b" for name in _ENTRY_COLUMNS)} FROM head
"""  # noqa: S608


@functools.lru_cache(maxsize=64)
def _sql_write_one(nodes: int) -> str:
    """One entry, the ``nodes`` tree nodes it completes and the new head, in one
    statement conditional on the old head (see above); the entry is inserted (row
    count 1) only if the head row was the one the entry was built on.

    The head the entry was built on is the entry's own ``seq`` and ``prev``, plus
    the old frontier; the new head is ``seq + 1``, the entry's hash and the new
    frontier (and the entry's time as ``updated_at``): each value is sent once.
    An append completes one node per level ``1..k`` (k = trailing one bits of
    ``seq``) with ``index = seq >> level``, so only the nodes' hashes are sent.
    Half of all appends complete no node, and inserting nothing still costs the
    server a plan node, so the statement has one text per number of nodes.
    """
    sql = _SQL_WRITE_HEAD
    if nodes:
        rows = ", ".join(
            f"({level}::int2, %(seq)b::int8 >> {level}, %(node{level})b::bytea)"
            for level in range(1, nodes + 1)
        )
        sql += _SQL_WRITE_NODES.format(rows)
    return sql + _SQL_WRITE_ENTRY


_COPY_ENTRIES = f"COPY {_ENTRY_TABLE} ({', '.join(_ENTRY_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_COPY_NODES = f"COPY {_NODE_TABLE} ({', '.join(_NODE_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_SQL_HEAD_UPDATE = (
    f"UPDATE {_HEAD_TABLE} SET size = %b, last_hash = %b, frontier = %b, "  # noqa: S608
    f"updated_at = %b WHERE id = {HEAD_ID} AND size = %b"
)


def _append_postgresql(
    db: BaseDatabaseWrapper, prepared: Sequence[_Prepared], *, guess_only: bool = False
) -> list[tuple[Any, ...]] | None:
    """Write ``prepared`` on Django's connection and return the rows.

    With ``guess_only`` (one entry, in autocommit: :func:`audit_record`) only the
    write conditional on this thread's copy of the head is tried: it is then one
    statement, so one transaction of its own; ``None`` means it was not tried or
    missed, and nothing was written.
    """
    db.ensure_connection()
    raw = db.connection
    if guess_only and (raw.info.transaction_status != _IDLE or not raw.autocommit):
        # Django's autocommit is on and no atomic block is open, yet a transaction
        # is (raw SQL "BEGIN", or autocommit turned off on the psycopg connection
        # itself): the statement would join it instead of committing on its own.
        raise RuntimeError(
            "audit_record needs the connection in autocommit with no transaction open; "
            "inside a transaction use audit_append"
        )
    # A psycopg cursor on Django's own connection, so inside the caller's
    # transaction (if any); errors are mapped to django.db's exceptions as usual.
    with (
        db.wrap_database_errors,
        _statements_prepared(raw),
        psycopg.Cursor(raw) as cursor,
    ):
        if len(prepared) > 1:
            built = _write_copy(cursor, prepared, _lock_head_pg(cursor))
        else:
            guessed = _write_guessed(cursor, prepared[0])
            if guessed is None and guess_only:
                return None
            built = guessed or _write_locked(cursor, prepared[0])
    _head_guess.head = built.head
    return built.rows


_IDLE = psycopg.pq.TransactionStatus.IDLE


@contextmanager
def _statements_prepared(raw: psycopg.Connection[Any]) -> Iterator[None]:
    """Let psycopg prepare the statements executed with ``prepare=True`` inside.

    Parsing and planning the write statement is about a third of the server's
    work for an append, and a prepared statement skips it.  Django turns
    psycopg's automatic preparing off (``prepare_threshold=None``) so that
    transaction-pooling proxies keep working; this turns it on only for the
    audit statements, only while they run, unless AUDIT_PREPARED_STATEMENTS is
    False (for a proxy older than PgBouncer 1.21).  psycopg forgets its prepared
    statements on ROLLBACK and deallocates them, and prepares again on next use.
    """
    if raw.prepare_threshold is not None or not getattr(
        settings, "AUDIT_PREPARED_STATEMENTS", True
    ):
        yield  # already preparing (OPTIONS["prepare_threshold"]) or not wanted
        return
    raw.prepare_threshold = _PREPARE_ONLY_WHEN_ASKED
    try:
        yield
    finally:
        raw.prepare_threshold = None


#: A threshold no statement reaches by count: only ``prepare=True`` prepares.
_PREPARE_ONLY_WHEN_ASKED = 2**31


def _write_guessed(cursor: psycopg.Cursor[Any], item: _Prepared) -> _Built | None:
    """Write ``item`` on this thread's copy of the head if it is trusted; ``None``
    if it is not, or if the head has moved (then nothing was written)."""
    guess = _head_guess
    if guess.trusted and guess.head is not None:
        built = _build([item], guess.head)
        if _write_statement(cursor, built):
            return built
        guess.trusted = False  # another writer: lock first from now on
    return None


def _write_locked(cursor: psycopg.Cursor[Any], item: _Prepared) -> _Built:
    """Lock and read the head, then write ``item`` on it (inside a transaction)."""
    guess = _head_guess
    head = _lock_head_pg(cursor)
    guess.trusted = head == guess.head  # nobody else wrote since our last append
    built = _build([item], head)
    if not _write_statement(cursor, built):  # pragma: no cover - the row is locked
        raise AuditError("the audit log head moved during an append", "audit_head_moved")
    return built


def _lock_head_pg(cursor: psycopg.Cursor[Any]) -> _Head:
    """SELECT ... FOR UPDATE the head row (see :func:`_lock_head` on a missing row)."""
    cursor.execute(_SQL_LOCK_HEAD, binary=True, prepare=True)
    row = cursor.fetchone()
    if row is None:
        _lock_head()  # creates the row, or refuses if entries exist
        cursor.execute(_SQL_LOCK_HEAD, binary=True, prepare=True)
        row = cursor.fetchone()
        assert row is not None
    size, last_hash, frontier = row
    return _Head(size, last_hash, frontier)


def _write_statement(cursor: psycopg.Cursor[Any], built: _Built) -> bool:
    """Run the one-entry conditional write; False if the head was not ``built.base``."""
    (row,) = built.rows
    params = dict(zip(_ENTRY_COLUMNS, row, strict=True))
    params["frontier"] = built.head.frontier
    params["base_frontier"] = built.base.frontier
    for level, (node_level, index, node) in enumerate(built.nodes, 1):
        # What the statement derives must be what the frontier computed.
        assert (node_level, index) == (level, row[0] >> level)
        params[f"node{level}"] = node
    cursor.execute(_sql_write_one(len(built.nodes)), params, prepare=True)
    return cursor.rowcount == 1


def _write_copy(cursor: psycopg.Cursor[Any], prepared: Sequence[_Prepared], base: _Head) -> _Built:
    """Build a batch and stream it with binary COPY (the head row is locked).

    A batch pays a few round trips (lock, two COPYs, head update) once; what
    matters is the cost per row, and there the database's inserts (five indexes
    on entries) take longer than building the row.  So rows go into COPY as they
    are built, and the server works while Python builds.  Integers are wrapped
    in their exact binary types (a binary COPY needs them; C dumpers do the rest).
    """
    with cursor.copy(_COPY_ENTRIES) as copy:
        write = copy.write_row
        built = _build(prepared, base, lambda row: write((Int8(row[0]), *row[1:])))
    if built.nodes:
        with cursor.copy(_COPY_NODES) as copy:
            for level, index, node in built.nodes:
                copy.write_row((Int2(level), Int8(index), node))
    head = built.head
    cursor.execute(
        _SQL_HEAD_UPDATE,
        (head.size, head.last_hash, head.frontier, built.updated_at, base.size),
    )
    if cursor.rowcount != 1:  # pragma: no cover - the row lock makes this impossible
        raise AuditError("the audit log head moved during an append", "audit_head_moved")
    return built


def _require_atomic() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError(
            "audit_append must run inside the caller's transaction.atomic() so the change "
            "and its audit entry commit or roll back together"
        )


def audit_record(
    *, type: str, actor: str, company: str, subject: str, payload: Mapping[str, Any]
) -> AuditEntry:
    """Record an event that changes nothing else, in its own transaction.

    For audited events with no business write of their own (data pulled, a
    document downloaded, a credential checked): the entry is the whole
    transaction.  Same arguments and checks as :func:`audit_append`, but it must
    be called *outside* any ``transaction.atomic()`` (``RuntimeError`` inside one:
    there, use :func:`audit_append`, so the entry commits with the change).  It
    returns once the entry is committed.

    On PostgreSQL the write conditional on this thread's copy of the head runs in
    autocommit: one statement is one transaction, so the append is one round trip
    and the commit's WAL flush.  If another writer moved the head, that statement
    changed nothing, and the append is done under the head lock in a transaction
    of its own (as :func:`audit_append` would).
    """
    db = connections[DEFAULT_DB_ALIAS]
    # Durable atomic()'s rule: the atomic blocks a Django test case wraps each test in
    # stand for autocommit (there the record is a savepoint of the test's transaction).
    in_test_case = any(getattr(b, "_from_testcase", False) for b in db.atomic_blocks[-1:])
    if not in_test_case and (db.in_atomic_block or not db.get_autocommit()):
        raise RuntimeError(
            "audit_record commits its entry in a transaction of its own, so it must run "
            "outside transaction.atomic() (with autocommit on); to record an event with the "
            "change it belongs to, call audit_append inside that change's transaction.atomic()"
        )
    prepared = _prepare(type=type, actor=actor, company=company, subject=subject, payload=payload)
    if db.vendor == "postgresql" and not in_test_case:
        rows = _append_postgresql(db, [prepared], guess_only=True)
        if rows is not None:
            return _entries(db, rows)[0]
    with transaction.atomic(using=db.alias, durable=True):
        return _append_locked([prepared])[0]


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


_ENTRY_KEYS = frozenset({"type", "actor", "company", "subject", "payload"})


def audit_append_many(entries: Sequence[Mapping[str, Any]]) -> list[AuditEntry]:
    """Record several events in one lock and one bulk insert, in the given order.

    Each item has the keyword arguments of :func:`audit_append`.  Same transaction
    rule; all are validated before anything is written.
    """
    _require_atomic()
    prepared = []
    for i, item in enumerate(entries):
        if not item.keys() <= _ENTRY_KEYS:
            unknown = sorted(set(item) - _ENTRY_KEYS)
            raise AuditInputError(f"entries[{i}]: unknown keys {unknown}")
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


def checkpoint_on_demand(*, actor: selectors.ActorLike | None) -> Checkpoint | None:
    """The operator's "sign now" (portal): :func:`checkpoint_create` for a member
    of the zone operator.  Any member may: it publishes a signature over the head
    as it is, which the scheduled task would sign within a minute anyway."""
    selectors.require_operator(actor, to="sign a checkpoint")
    return checkpoint_create()


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
    "audit_record",
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
