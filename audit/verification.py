"""The full-log verification walk behind ``manage.py audit_verify``.

It trusts nothing stored except the entry bytes themselves: every hash, chain link,
column, payload digest, stored tree node, the head row and every checkpoint is
recomputed or re-verified, and the walk stops at the first problem, naming the
first bad ``seq`` and why.

How it is fast enough for millions of entries (docs/audit.md, "Verification"):

* **Segments.**  The log is cut into segments of ``2**segment_bits`` entries
  (16,384 by default) that start at multiples of their size, so each full
  segment is exactly one perfect Merkle subtree.  A segment is verified on its
  own: its entries, the stored tree nodes inside it (levels 1 to
  ``segment_bits``) and its root.  The few nodes above the segments are then
  computed from the segment roots, and the root at any size (the head, each
  checkpoint) is the right edge of that upper tree followed by the right edge
  inside the last, partial segment.
* **Both cores.**  On PostgreSQL, segments are verified by a pool of processes
  (one per core by default), each with its own connection, all reading the same
  snapshot (``pg_export_snapshot``).  A segment needs only the hash of the entry
  before it: a worker starts from the stored ``entry_hash`` of that entry, and
  the main process checks afterwards that it equals the hash the previous
  segment recomputed, so the chain is still verified link by link.  Results
  are combined in ``seq`` order, so the first problem reported is the first
  problem in the log, as in a sequential walk.  SQLite, small logs and calls
  inside a caller's transaction use the same code in one process.
* **Cheap rows.**  PostgreSQL rows are read with a plain psycopg cursor in
  binary format, in ``seq`` order through the primary key: bytes arrive as
  bytes, and the time as the integer PostgreSQL stores (microseconds since
  2000-01-01 UTC, read by psycopg's C ``int8`` loader).  The walk formats it
  itself, reusing the ``YYYY-MM-DDTHH:MM:SS.`` text for entries of the same
  second: cheaper than having the server format every row (about 14% of the
  walk's CPU, server and client together, on the bench machine).
* **One comparison per entry.**  The expected canonical bytes are rebuilt from
  the columns and the previous hash with one format string and compared with
  the stored bytes: equality proves the seq, the prev link, the canonical form
  and every column at once.  Only a mismatch pays for the strict parse that
  says what exactly differs.
* **Tree nodes level by level.**  The perfect nodes of a segment are computed
  bottom-up (one list comprehension per level) and compared with the stored
  nodes of that level, fetched in index order, as whole lists.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time as clock
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NoReturn, Protocol

import psycopg
from django.conf import settings
from django.db import connection, transaction
from psycopg import sql
from psycopg.types.numeric import Int8BinaryLoader

from trust import keys, merkle, note
from trust.errors import TrustError
from trust.merkle import Frontier

from . import selectors
from .entry_format import (
    ENTRY_TEMPLATE,
    EntryFormatError,
    decode_entry,
    encode_entry,
    quote,
)
from .models import GENESIS_PREV, HEAD_ID, AuditEntry, Checkpoint, LogHead, TreeNode

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

#: Entries per segment, as a power of two (see the module docstring).
DEFAULT_SEGMENT_BITS = 14
#: Processes for the PostgreSQL walk; more than the machine's cores only adds
#: contention with the database server, which needs CPU time too.
DEFAULT_WORKERS = min(os.cpu_count() or 1, 8)


@dataclass
class VerificationReport:
    """What the walk found.  ``ok`` is False as soon as one problem was found;
    ``first_bad_seq`` names the first entry concerned (None when the problem is
    not tied to one entry, e.g. a bad signature) and ``reason`` says why."""

    ok: bool = True
    head_size: int = 0
    entries_checked: int = 0
    tree_nodes_checked: int = 0
    checkpoints_checked: int = 0
    root: bytes | None = None
    first_bad_seq: int | None = None
    reason: str = ""
    elapsed_seconds: float = 0.0
    processes: int = 1
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.ok:
            root = self.root.hex() if self.root is not None else "-"
            rate = ""
            if self.elapsed_seconds >= 1:  # a rate over fixed costs says nothing
                rate = f", {self.entries_checked / self.elapsed_seconds:,.0f} entries/s"
            if self.processes > 1:
                rate += f" in {self.processes} processes"
            return (
                f"OK: {self.entries_checked} entries, {self.tree_nodes_checked} tree nodes and "
                f"{self.checkpoints_checked} checkpoints verified; root {root} "
                f"({self.elapsed_seconds:.2f}s{rate})"
            )
        where = f"seq {self.first_bad_seq}" if self.first_bad_seq is not None else "log"
        return f"FAILED at {where}: {self.reason}"


class _Failure(Exception):
    def __init__(self, seq: int | None, reason: str) -> None:
        super().__init__(reason)
        self.seq = seq
        self.reason = reason


def _completing_seq(level: int, index: int) -> int:
    """The seq whose append completed perfect node ``(level, index)``."""
    return ((index + 1) << level) - 1


def _check_no_stray_nodes(head_size: int) -> None:
    """Every stored node must be one of the tree's perfect nodes (all of which the
    walk has verified), so any other stored node is a problem.  One beyond the
    log's size reveals a log that was truncated and had its head rolled back.

    A few index probes per level, instead of counting every stored node.
    """
    nodes = TreeNode.objects.order_by("level", "node_index").values_list("level", "node_index")
    top = head_size.bit_length()  # the tree's nodes have levels 1 .. top - 1
    for level in range(1, top):
        found = nodes.filter(level=level, node_index__gte=head_size >> level).first()
        if found is not None:
            _raise_beyond(*found, head_size)
    found = nodes.filter(level__gte=max(top, 1)).first()
    if found is not None:
        _raise_beyond(*found, head_size)
    strays = [nodes.filter(level__lt=1).first()]
    strays += [nodes.filter(level=level, node_index__lt=0).first() for level in range(1, top)]
    for stray in strays:
        if stray is not None:
            raise _Failure(
                None, f"stored tree node L{stray[0]}#{stray[1]} is not a node of the tree"
            )


def _raise_beyond(level: int, index: int, head_size: int) -> NoReturn:
    raise _Failure(
        head_size,
        f"stored tree node L{level}#{index} covers entries from seq {head_size} on, "
        "which are missing: the log was truncated or rolled back",
    )


# ------------------------------------------------------------------------ readers


#: What PostgreSQL's timestamps count from; rows carry ``time`` as microseconds
#: since then (the walk's own formatting: see the module docstring).
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _time_micros(moment: datetime) -> int:
    return (moment - _PG_EPOCH) // _MICROSECOND


def _second_text(second: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS.`` of ``second`` seconds after the epoch above
    (OverflowError beyond year 9999)."""
    return (_PG_EPOCH + timedelta(seconds=second)).replace(tzinfo=None).isoformat() + "."


def _micros_text(micros: int) -> str:
    """The entry time string of a row's ``time`` (an impossible value, e.g. a
    column set to infinity, as a description that cannot match an entry)."""
    second, micro = divmod(micros, 1_000_000)
    try:
        return f"{_second_text(second)}{micro:06d}Z"
    except OverflowError:
        return f"<out of range: {micros} µs since 2000-01-01>"


class _Reader(Protocol):
    """Where a segment walk reads the log from (one snapshot of it)."""

    def entries(self, start: int, end: int) -> Sequence[tuple[Any, ...]]:
        """Entries ``start <= seq < end`` in seq order, as tuples in
        ``_ENTRY_COLUMNS`` order with bytes as ``bytes`` and ``time`` as
        microseconds since 2000-01-01 UTC."""

    def node_hashes(self, level: int, low: int, high: int) -> list[bytes]:
        """Stored hashes of nodes ``(level, low <= index < high)`` in index order."""

    def node_rows(self, level: int, low: int, high: int) -> list[tuple[int, bytes]]:
        """Same as ``(index, hash)`` pairs (only used to say what is wrong)."""

    def next_seq(self, seq: int, end: int) -> int | None:
        """The smallest stored seq in ``[seq, end)``, if any."""

    def entry_hash(self, seq: int) -> bytes | None:
        """The stored ``entry_hash`` of ``seq``, if the entry exists."""


_TABLE_ENTRIES = AuditEntry._meta.db_table
_TABLE_NODES = TreeNode._meta.db_table
_PG_ENTRY_SELECT = (
    f"SELECT {', '.join(_ENTRY_COLUMNS)} "  # noqa: S608 - model table and column names only
    f"FROM {_TABLE_ENTRIES} WHERE seq >= %s AND seq < %s ORDER BY seq"
)
#: The walk must read in primary-key order whatever the planner statistics say
#: (a freshly loaded table has none, and a sort of wide rows spills to disk).
_PG_PLANNER_SETTINGS = ("enable_seqscan", "enable_bitmapscan", "enable_sort")


class _PostgresReader:
    """Reads through a psycopg connection with binary results.

    In the main process that is Django's own connection (same transaction); in a
    worker process it is the worker's connection, which imported the main
    process's snapshot.
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._cursor = psycopg.Cursor(conn)
        # A binary timestamptz is an int8 of microseconds since 2000-01-01 UTC.
        self._cursor.adapters.register_loader("timestamptz", Int8BinaryLoader)

    def entries(self, start: int, end: int) -> Sequence[tuple[Any, ...]]:
        self._cursor.execute(_PG_ENTRY_SELECT, (start, end), binary=True)
        return self._cursor.fetchall()

    def node_hashes(self, level: int, low: int, high: int) -> list[bytes]:
        self._cursor.execute(
            f"SELECT hash FROM {_TABLE_NODES} WHERE level = %s "  # noqa: S608
            "AND node_index >= %s AND node_index < %s ORDER BY node_index",
            (level, low, high),
            binary=True,
        )
        return [row[0] for row in self._cursor.fetchall()]

    def node_rows(self, level: int, low: int, high: int) -> list[tuple[int, bytes]]:
        self._cursor.execute(
            f"SELECT node_index, hash FROM {_TABLE_NODES} WHERE level = %s "  # noqa: S608
            "AND node_index >= %s AND node_index < %s ORDER BY node_index",
            (level, low, high),
            binary=True,
        )
        return [(index, node) for index, node in self._cursor.fetchall()]

    def next_seq(self, seq: int, end: int) -> int | None:
        self._cursor.execute(
            f"SELECT min(seq) FROM {_TABLE_ENTRIES} WHERE seq >= %s AND seq < %s",  # noqa: S608
            (seq, end),
        )
        row = self._cursor.fetchone()
        return None if row is None else row[0]

    def entry_hash(self, seq: int) -> bytes | None:
        self._cursor.execute(
            f"SELECT entry_hash FROM {_TABLE_ENTRIES} WHERE seq = %s",  # noqa: S608
            (seq,),
            binary=True,
        )
        row = self._cursor.fetchone()
        return None if row is None else row[0]


class _OrmReader:
    """The portable reader (SQLite and anything else Django supports)."""

    def entries(self, start: int, end: int) -> Sequence[tuple[Any, ...]]:
        rows = (
            AuditEntry.objects.filter(seq__gte=start, seq__lt=end)
            .order_by("seq")
            .values_list(*_ENTRY_COLUMNS)
        )
        return [
            (
                seq,
                bytes(prev),
                bytes(entry_hash),
                bytes(data),
                _time_micros(moment),
                type_,
                actor,
                company,
                subject,
                digest,
                bytes(payload),
            )
            for (
                seq,
                prev,
                entry_hash,
                data,
                moment,
                type_,
                actor,
                company,
                subject,
                digest,
                payload,
            ) in rows
        ]

    def node_rows(self, level: int, low: int, high: int) -> list[tuple[int, bytes]]:
        rows = (
            TreeNode.objects.filter(level=level, node_index__gte=low, node_index__lt=high)
            .order_by("node_index")
            .values_list("node_index", "hash")
        )
        return [(index, bytes(node)) for index, node in rows]

    def node_hashes(self, level: int, low: int, high: int) -> list[bytes]:
        return [node for _, node in self.node_rows(level, low, high)]

    def next_seq(self, seq: int, end: int) -> int | None:
        return (
            AuditEntry.objects.filter(seq__gte=seq, seq__lt=end)
            .order_by("seq")
            .values_list("seq", flat=True)
            .first()
        )

    def entry_hash(self, seq: int) -> bytes | None:
        found = AuditEntry.objects.filter(seq=seq).values_list("entry_hash", flat=True).first()
        return None if found is None else bytes(found)


# -------------------------------------------------------------------- one segment


@dataclass
class _SegmentJob:
    """What a segment walk needs.  ``prev`` is the hash of entry ``start - 1``
    (``None``: read the stored one, and let the caller check it later);
    ``sizes`` are tree sizes in ``(start, end]`` whose right edge is wanted."""

    start: int
    end: int
    head_size: int
    bits: int
    chunk_size: int
    prev: bytes | None
    sizes: tuple[int, ...]


@dataclass
class _SegmentResult:
    """What a segment walk found.  ``checked`` entries passed every check (all of
    them unless ``failure`` is set); ``edges`` maps each wanted size to the
    right-edge hashes inside the segment (largest first); ``root`` is the
    segment's perfect subtree when the segment is full and sound."""

    start: int
    prev: bytes
    checked: int = 0
    nodes_checked: int = 0
    last_hash: bytes | None = None
    root: bytes | None = None
    edges: dict[int, list[bytes]] = field(default_factory=dict)
    failure: tuple[int | None, str] | None = None


def _diagnose(data: bytes, seq: int, prev: bytes, row: tuple[Any, ...]) -> str | None:
    """Why stored entry bytes differ from the bytes rebuilt from the columns;
    None if they are in fact equivalent (then nothing is wrong)."""
    try:
        value = decode_entry(data)
    except EntryFormatError as exc:
        return str(exc)
    if value["seq"] != seq:
        return f"entry bytes carry seq {value['seq']} in the row of seq {seq} (rows moved?)"
    if value["prev"] != prev.hex():
        return "entry's prev is not the hash of the previous entry (chain broken)"
    _, _, _, _, micros, type_, actor, company, subject, payload_sha256, _ = row
    columns = {
        "time": _micros_text(micros),
        "type": type_,
        "actor": actor,
        "company": company,
        "subject": subject,
        "payload_sha256": payload_sha256,
    }
    for name, column in columns.items():
        if value[name] != column:
            return f"column {name!r} ({column!r}) disagrees with the entry bytes ({value[name]!r})"
    return None


def _entry_problem(row: tuple[Any, ...], expected: int, prev: bytes) -> tuple[int, str] | None:
    """The careful check of one row, run only when the fast check refused it:
    the checks in their documented order, with a message for the first that
    fails.  ``None`` if the row is fine after all."""
    seq, prev_col, hash_col, data, micros, type_, actor, company, subject, digest, payload = row
    if seq != expected:
        return expected, f"entry missing (the next stored entry is seq {seq})"
    if hashlib.sha256(b"\x00" + data).digest() != hash_col:
        return seq, "stored bytes do not hash to the stored entry_hash (bytes edited)"
    if prev_col != prev:
        return seq, "prev column is not the hash of the previous entry (chain broken)"
    try:
        rebuilt = encode_entry(
            seq=seq,
            prev=prev,
            time=_micros_text(micros),
            type=type_,
            actor=actor,
            company=company,
            subject=subject,
            payload_sha256=digest,
        )
    except (UnicodeEncodeError, ValueError):
        rebuilt = b""
    if rebuilt != data:
        reason = _diagnose(data, seq, prev, row)
        if reason is not None:
            return seq, reason
    if hashlib.sha256(payload).hexdigest() != digest:
        return seq, "payload does not match its payload_sha256"
    return None


#: ENTRY_TEMPLATE with the time as its second's text and the microseconds.
_WALK_TEMPLATE = ENTRY_TEMPLATE.replace('"time":"%s"', '"time":"%s%06dZ"')
assert _WALK_TEMPLATE.count("%06dZ") == 1


def _check_entries(
    reader: _Reader, job: _SegmentJob, prev: bytes, leaves: list[bytes]
) -> tuple[int, str] | None:
    """Check the segment's entries in seq order, appending each verified entry
    hash to ``leaves``; return the first problem, if any.

    The per-entry test is one expression so that CPython does as little as
    possible per entry (this loop is where verification spends its time).  Its
    order matters in one place: the digest is compared before the rebuild, so
    the template may place the digest unquoted (it is then 64 hex digits).
    The time is formatted here (digits and separators, nothing to escape), its
    ``YYYY-MM-DDTHH:MM:SS.`` part once per second per chunk.
    """
    sha256 = hashlib.sha256
    template = _WALK_TEMPLATE
    append = leaves.append
    expected = job.start
    while expected < job.end:
        limit = min(expected + job.chunk_size, job.end)
        rows = reader.entries(expected, limit)
        seconds: dict[int, str] = {}  # per chunk: bounded by the chunk size
        for row in rows:
            (
                seq,
                prev_col,
                hash_col,
                data,
                micros,
                type_,
                actor,
                company,
                subject,
                digest,
                payload,
            ) = row
            entry_hash = sha256(b"\x00" + data).digest()
            try:
                second, micro = divmod(micros, 1_000_000)
                second_text = seconds.get(second)
                if second_text is None:
                    second_text = seconds[second] = _second_text(second)
                sound = (
                    seq == expected
                    and entry_hash == hash_col
                    and prev_col == prev
                    and sha256(payload).hexdigest() == digest
                    and (
                        template
                        % (
                            quote(actor),
                            quote(company),
                            digest,
                            prev.hex(),
                            seq,
                            quote(subject),
                            second_text,
                            micro,
                            quote(type_),
                        )
                    ).encode("utf-8")
                    == data
                )
            except (UnicodeEncodeError, TypeError, ValueError, OverflowError):
                sound = False
            if not sound:
                problem = _entry_problem(row, expected, prev)
                if problem is not None:
                    return problem
            append(entry_hash)
            prev = entry_hash
            expected += 1
        if expected < limit:  # the rows ran out before the range did
            found = reader.next_seq(expected, job.head_size)
            if found is None:
                return expected, (
                    f"entry missing: the head says {job.head_size} entries but the log ends "
                    f"before seq {expected} (truncated)"
                )
            return expected, f"entry missing (the next stored entry is seq {found})"
    return None


def _tree_levels(leaves: list[bytes], bits: int) -> list[list[bytes]]:
    """Every perfect node over ``leaves`` up to level ``bits``: ``levels[k][i]``
    covers leaves ``[i * 2**k, (i + 1) * 2**k)``; level 0 is ``leaves``."""
    sha256 = hashlib.sha256
    levels = [leaves]
    for _ in range(bits):
        below = iter(levels[-1])
        level = [
            sha256(b"\x01" + left + right).digest()
            for left, right in zip(below, below, strict=False)
        ]
        if not level:
            break
        levels.append(level)
    return levels


def _check_nodes(reader: _Reader, start: int, levels: list[list[bytes]]) -> tuple[int, str] | None:
    """Compare the computed nodes of a segment with the stored ones, a level at
    a time; return the problem whose completing seq comes first, if any."""
    problems: list[tuple[int, str]] = []
    for level in range(1, len(levels)):
        computed = levels[level]
        low = start >> level
        if reader.node_hashes(level, low, low + len(computed)) == computed:
            continue
        # Say which node: the first missing or different one on this level.
        stored = dict(reader.node_rows(level, low, low + len(computed)))
        for offset, node in enumerate(computed):
            index = low + offset
            found = stored.get(index)
            if found is None or found != node:
                what = "is missing" if found is None else "has a wrong hash"
                problems.append(
                    (_completing_seq(level, index), f"stored tree node L{level}#{index} {what}")
                )
                break
    return min(problems) if problems else None


def _walk_segment(reader: _Reader, job: _SegmentJob) -> _SegmentResult:
    """Verify one segment: its entries, the stored nodes inside it, its edges."""
    prev = job.prev
    if prev is None:
        prev = GENESIS_PREV if job.start == 0 else reader.entry_hash(job.start - 1)
        # A missing predecessor is reported by the segment before this one.
        prev = prev if prev is not None else GENESIS_PREV
    result = _SegmentResult(start=job.start, prev=prev)
    leaves: list[bytes] = []
    entry_problem = _check_entries(reader, job, prev, leaves)
    result.checked = len(leaves)
    # The nodes computed from the sound prefix were all completed before any bad
    # entry, so a wrong stored node among them is the earlier problem.
    levels = _tree_levels(leaves, job.bits)
    node_problem = _check_nodes(reader, job.start, levels)
    result.nodes_checked = sum(len(level) for level in levels[1:])
    problems = [p for p in (entry_problem, node_problem) if p is not None]
    if problems:
        result.failure = min(problems)
        return result
    result.last_hash = leaves[-1] if leaves else prev
    if len(leaves) == 1 << job.bits:
        result.root = levels[job.bits][0]
    for size in job.sizes:
        relative = size - job.start
        result.edges[size] = [
            levels[level][(relative >> level) - 1]
            for level in reversed(range(len(levels)))
            if (relative >> level) & 1
        ]
    return result


# --------------------------------------------------------------------- the walk


@dataclass
class _WalkOutcome:
    frontier: bytes  # the head's expected frontier (right-edge hashes, largest first)
    last_hash: bytes
    roots: dict[int, bytes]  # root at each wanted size


def _segment_jobs(
    head_size: int, bits: int, chunk_size: int, sizes: Iterable[int]
) -> list[_SegmentJob]:
    span = 1 << bits
    inside: dict[int, list[int]] = {}
    for size in sizes:
        if 0 < size <= head_size and size % span:
            inside.setdefault(size >> bits, []).append(size)
    return [
        _SegmentJob(
            start=start,
            end=min(start + span, head_size),
            head_size=head_size,
            bits=bits,
            chunk_size=chunk_size,
            prev=None,
            sizes=tuple(sorted(inside.get(start >> bits, ()))),
        )
        for start in range(0, head_size, span)
    ]


def _upper_nodes(bits: int) -> dict[tuple[int, int], bytes]:
    """Stored nodes above segment level (a handful: one per 2**bits entries)."""
    rows = TreeNode.objects.filter(level__gt=bits).values_list("level", "node_index", "hash")
    return {(level, index): bytes(node) for level, index, node in rows}


def _combine(
    results: Iterator[_SegmentResult],
    *,
    head_size: int,
    bits: int,
    sizes: set[int],
    report: VerificationReport,
) -> _WalkOutcome:
    """Fold segment results, in seq order, into the whole log's answer: check the
    links between segments and the nodes above them, and assemble the roots.
    Raises at the first problem (in seq order)."""
    span = 1 << bits
    upper = Frontier()  # over segment roots: level k here is level k + bits
    stored_upper = _upper_nodes(bits) if head_size >= 2 * span else {}
    prev = GENESIS_PREV
    roots: dict[int, bytes] = {}
    edge_of_head: list[bytes] = []

    def root_at(size: int, inside: list[bytes]) -> bytes:
        return Frontier.from_bytes(size, b"".join([*upper.hashes, *inside])).root()

    if 0 in sizes:
        roots[0] = merkle.EMPTY_ROOT
    for result in results:
        if result.prev != prev:
            # Only possible when the segment before failed (it checks its last
            # stored entry_hash), which was reported already; kept as a guard.
            raise _Failure(result.start, "prev of the segment's first entry is not the hash "
                           "of the previous entry (chain broken)")  # fmt: skip
        report.entries_checked += result.checked
        report.tree_nodes_checked += result.nodes_checked
        if result.failure is not None:
            raise _Failure(*result.failure)
        assert result.last_hash is not None
        prev = result.last_hash
        for size, inside in result.edges.items():
            roots[size] = root_at(size, inside)
            if size == head_size:
                edge_of_head = inside
        if result.root is not None:
            for level, index, node in upper.append(result.root)[1:]:
                key = (level + bits, index)
                if stored_upper.get(key) != node:
                    what = "is missing" if key not in stored_upper else "has a wrong hash"
                    raise _Failure(
                        _completing_seq(*key), f"stored tree node L{key[0]}#{index} {what}"
                    )
                report.tree_nodes_checked += 1
            end = result.start + span
            if end in sizes:
                roots[end] = root_at(end, [])
    frontier = b"".join([*upper.hashes, *edge_of_head])
    return _WalkOutcome(frontier=frontier, last_hash=prev, roots=roots)


def _walk_here(reader: _Reader, jobs: list[_SegmentJob]) -> Iterator[_SegmentResult]:
    """Segments one after another in this process, each starting from the hash
    the previous one computed."""
    prev = GENESIS_PREV
    for job in jobs:
        job.prev = prev
        result = _walk_segment(reader, job)
        yield result
        if result.failure is not None or result.last_hash is None:
            return
        prev = result.last_hash


# Worker processes (PostgreSQL).  Forked, so they inherit Django's state, but
# they never touch the parent's database connection: each opens its own and
# imports the parent's snapshot, so every process reads the very same log.
# Worker k verifies segments k, k + n, k + 2n, ... and sends each result down its
# own pipe; the parent reads the results in seq order from the pipes in turn.
# (No multiprocessing.Pool: leaving early means terminating workers, which a
# Pool's handler threads do not always survive.)


class VerificationWorkerError(RuntimeError):
    """A worker process could not read the log (connection, snapshot): an
    operational problem, not a finding about the log."""


def _worker_main(
    params: dict[str, Any], snapshot: str, jobs: list[_SegmentJob], channel: Connection
) -> None:
    try:
        conn = psycopg.connect(**params, autocommit=True)
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
        for name in _PG_PLANNER_SETTINGS:
            conn.execute(sql.SQL("SET LOCAL {} = off").format(sql.Identifier(name)))
        reader = _PostgresReader(conn)
    except Exception as exc:  # sent to the parent, which raises it
        channel.send(f"verification worker could not start: {type(exc).__name__}: {exc}")
        return
    for job in jobs:
        try:
            result = _walk_segment(reader, job)
        except Exception as exc:  # sent to the parent, which raises it
            channel.send(
                f"verification worker failed on seq {job.start}..{job.end - 1}: "
                f"{type(exc).__name__}: {exc}"
            )
            return
        channel.send(result)
        if result.failure is not None:
            return  # the parent stops here: later segments are not needed


def _walk_in_processes(
    jobs: list[_SegmentJob], workers: int, snapshot: str
) -> Iterator[_SegmentResult]:
    """Segments verified by ``workers`` processes, results yielded in seq order.
    Leaving early (a failure found) terminates the workers."""
    params = {
        key: value
        for key, value in connection.get_connection_params().items()
        if key not in ("cursor_factory", "context", "prepare_threshold")
    }
    context = multiprocessing.get_context("fork")
    channels: list[Connection] = []
    processes = []
    try:
        for k in range(workers):
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(
                target=_worker_main,
                args=(params, snapshot, jobs[k::workers], writer),
                name=f"audit-verify-{k}",
                daemon=True,
            )
            process.start()
            writer.close()  # only the worker writes: a dead worker is then EOF here
            channels.append(reader)
            processes.append(process)
        for index in range(len(jobs)):
            try:
                message = channels[index % workers].recv()
            except EOFError:
                raise VerificationWorkerError(
                    "a verification worker process ended unexpectedly"
                ) from None
            if isinstance(message, str):
                raise VerificationWorkerError(message)
            yield message
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join()
        for channel in channels:
            channel.close()


def _walk(
    *,
    head_size: int,
    chunk_size: int,
    sizes: set[int],
    report: VerificationReport,
    bits: int,
    workers: int,
    snapshot: str | None,
) -> _WalkOutcome:
    jobs = _segment_jobs(head_size, bits, chunk_size, sizes | {head_size})
    # A daemonic process (a Celery prefork worker, say) may not start processes.
    forkable = not multiprocessing.current_process().daemon
    if snapshot is not None and workers > 1 and len(jobs) > 1 and forkable:
        report.processes = min(workers, len(jobs))
        results = _walk_in_processes(jobs, report.processes, snapshot)
    else:
        reader: _Reader
        if connection.vendor == "postgresql":
            connection.ensure_connection()
            reader = _PostgresReader(connection.connection)
        else:
            reader = _OrmReader()
        results = _walk_here(reader, jobs)
    try:
        return _combine(results, head_size=head_size, bits=bits, sizes=sizes, report=report)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()  # stop the pool at once if we left early


# -------------------------------------------------------------------- checkpoints


def _log_verifier(pinned_key: str | None) -> note.NoteVerifier | None:
    if pinned_key:
        return note.NoteVerifier.from_key_string(pinned_key)
    path = Path(settings.AUDIT_LOG_KEY_FILE)
    if not path.exists():
        return None
    private = keys.private_key_from_pem(path.read_bytes())
    return note.NoteSigner(settings.AUDIT_LOG_ORIGIN, private).verifier()


@dataclass(frozen=True)
class _SignedCheckpoint:
    label: str
    size: int
    root: bytes
    note: str


def _open_checkpoints(
    stored: Sequence[Checkpoint], external: Sequence[str], verifier: note.NoteVerifier | None
) -> list[_SignedCheckpoint]:
    """Verify each checkpoint's signature and parse it; raise at the first bad one."""
    items: list[tuple[str, str, Checkpoint | None]] = [
        (f"stored checkpoint #{c.pk} (size {c.size})", c.note, c) for c in stored
    ]
    items += [(f"external checkpoint {i + 1}", text, None) for i, text in enumerate(external)]
    opened: list[_SignedCheckpoint] = []
    if items and verifier is None:
        raise _Failure(None, "checkpoints exist but the log key file is missing; pass --log-key")
    for label, text, row in items:
        assert verifier is not None
        try:
            body = note.open_note(text, [verifier]).text
            parsed = note.parse_checkpoint(body)
        except TrustError as exc:
            raise _Failure(None, f"{label}: signature or format invalid ({exc.message})") from exc
        if parsed.origin != settings.AUDIT_LOG_ORIGIN:
            raise _Failure(None, f"{label}: origin {parsed.origin!r} is not this log's")
        if row is not None and (row.size != parsed.size or bytes(row.root) != parsed.root):
            raise _Failure(None, f"{label}: size/root columns disagree with the signed note")
        opened.append(_SignedCheckpoint(label, parsed.size, parsed.root, text))
    return sorted(opened, key=lambda c: c.size)


def _check_checkpoints(
    checkpoints: list[_SignedCheckpoint],
    head_size: int,
    roots: dict[int, bytes],
    report: VerificationReport,
) -> None:
    previous: _SignedCheckpoint | None = None
    for checkpoint in checkpoints:
        if checkpoint.size > head_size:
            raise _Failure(
                head_size,
                f"{checkpoint.label} covers {checkpoint.size} entries but the log has "
                f"{head_size}: entries from seq {head_size} on were removed (truncated or "
                "rolled back to an older copy)",
            )
        if roots.get(checkpoint.size) != checkpoint.root:
            since = previous.size if previous is not None else 0
            raise _Failure(
                since,
                f"{checkpoint.label}: its signed root differs from the root recomputed from the "
                f"entries, so entries in seq {since}..{checkpoint.size - 1} were rewritten "
                "(first possibly bad seq named)",
            )
        if previous is not None and previous.size < checkpoint.size:
            try:
                proof = selectors.consistency_proof(first=previous.size, second=checkpoint.size)
                merkle.verify_consistency(
                    old_size=previous.size,
                    new_size=checkpoint.size,
                    old_root=previous.root,
                    new_root=checkpoint.root,
                    proof=proof,
                )
            except (TrustError, LookupError) as exc:
                raise _Failure(
                    previous.size,
                    f"{checkpoint.label} is not consistent with {previous.label}: {exc}",
                ) from exc
        report.checkpoints_checked += 1
        previous = checkpoint


# ------------------------------------------------------------------------- driver


def _verify(
    *,
    chunk_size: int,
    log_key: str | None,
    external_checkpoints: Sequence[str],
    report: VerificationReport,
    bits: int,
    workers: int,
    snapshot: str | None,
) -> None:
    head = LogHead.objects.filter(pk=HEAD_ID).first()
    if head is None:
        if AuditEntry.objects.exists():
            raise _Failure(0, "the head row is missing while entries exist")
        return
    head_size = report.head_size = head.size
    try:
        verifier = _log_verifier(log_key)
    except TrustError as exc:
        raise _Failure(None, f"log key unusable: {exc.message}") from exc
    checkpoints = _open_checkpoints(
        list(Checkpoint.objects.order_by("size")), external_checkpoints, verifier
    )
    outcome = _walk(
        head_size=head_size,
        chunk_size=chunk_size,
        sizes={c.size for c in checkpoints},
        report=report,
        bits=bits,
        workers=workers,
        snapshot=snapshot,
    )
    if AuditEntry.objects.filter(seq__gte=head_size).exists():
        raise _Failure(head_size, f"entries exist beyond the head's size {head_size}")
    _check_no_stray_nodes(head_size)
    if bytes(head.last_hash) != outcome.last_hash:
        raise _Failure(None, "head row's last_hash is not the hash of the last entry")
    if bytes(head.frontier) != outcome.frontier:
        raise _Failure(None, "head row's frontier does not match the recomputed tree")
    report.root = Frontier.from_bytes(head_size, outcome.frontier).root()
    _check_checkpoints(checkpoints, head_size, outcome.roots, report)


def _in_snapshot(body: Callable[[str | None], None]) -> None:
    """Run ``body`` in one read-only view of the log, passing it a snapshot id
    other processes can import (None where that is not possible).

    On PostgreSQL, outside a caller's transaction, that is one ``REPEATABLE
    READ`` transaction: appends committing meanwhile are simply not seen,
    instead of looking like extra rows.  Inside a caller's transaction (tests,
    a caller that wants its own uncommitted entries checked) the walk stays in
    that transaction and in this process, since no other connection can see
    what it has not committed.  Either way the block ends in a rollback: the
    walk writes nothing, and its planner settings (SET LOCAL) end with it.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        snapshot = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                if outermost:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    cursor.execute("SELECT pg_export_snapshot()")
                    snapshot = cursor.fetchone()[0]
                for name in _PG_PLANNER_SETTINGS:
                    cursor.execute(f"SET LOCAL {name} = off")
        body(snapshot)
        transaction.set_rollback(True)


def verify_log(
    *,
    chunk_size: int = 20000,
    log_key: str | None = None,
    external_checkpoints: Sequence[str] = (),
    workers: int | None = None,
    segment_bits: int | None = None,
) -> VerificationReport:
    """Walk and check the whole log; see the module docstring.

    ``log_key`` pins the checkpoint verifier key (default: derived from
    AUDIT_LOG_KEY_FILE); ``external_checkpoints`` are signed notes held outside the
    database (from a witness, an auditor) that the log must also match: the only way
    to catch a restore of the whole database to an older copy.  ``chunk_size`` is
    entries per read; ``workers`` the processes for a PostgreSQL walk (default: one
    per core, 1 = in this process); ``segment_bits`` the segment size (tests make it
    small to exercise the combination of segments).
    """
    report = VerificationReport()
    bits = DEFAULT_SEGMENT_BITS if segment_bits is None else segment_bits
    if not 1 <= bits <= 40:
        raise ValueError(f"segment_bits must be within 1..40, got {bits}")
    processes = DEFAULT_WORKERS if workers is None else max(1, workers)
    started = clock.perf_counter()
    try:
        _in_snapshot(
            lambda snapshot: _verify(
                chunk_size=max(1, chunk_size),
                log_key=log_key,
                external_checkpoints=external_checkpoints,
                report=report,
                bits=bits,
                workers=processes,
                snapshot=snapshot,
            )
        )
    except _Failure as failure:
        report.ok = False
        report.first_bad_seq = failure.seq
        report.reason = failure.reason
    report.elapsed_seconds = clock.perf_counter() - started
    return report
