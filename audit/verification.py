"""The full-log verification walk behind ``manage.py audit_verify``.

It trusts nothing stored except the entry bytes themselves: every hash, chain link,
column, payload digest, stored tree node, the head row and every checkpoint is
recomputed or re-verified, and the walk stops at the first problem, naming the
first bad ``seq`` and why.  It reads the log in ``seq`` order in chunks, so memory
stays flat whatever the size.

Speed: for each entry the expected canonical bytes are rebuilt from the columns and
the previous hash and compared with the stored bytes in one step (equality proves
the seq, the prev link, the canonical form and every column at once); only a
mismatch pays for the strict parse that says what exactly differs.
"""

from __future__ import annotations

import hashlib
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from trust import keys, merkle, note
from trust.errors import TrustError
from trust.merkle import Frontier

from . import selectors
from .entry_format import EntryFormatError, decode_entry, encode_entry, format_time
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
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.ok:
            root = self.root.hex() if self.root is not None else "-"
            return (
                f"OK: {self.entries_checked} entries, {self.tree_nodes_checked} tree nodes and "
                f"{self.checkpoints_checked} checkpoints verified; root {root} "
                f"({self.elapsed_seconds:.2f}s)"
            )
        where = f"seq {self.first_bad_seq}" if self.first_bad_seq is not None else "log"
        return f"FAILED at {where}: {self.reason}"


class _Failure(Exception):
    def __init__(self, seq: int | None, reason: str) -> None:
        super().__init__(reason)
        self.seq = seq
        self.reason = reason


def _time_text(moment: datetime) -> str:
    text = moment.isoformat(timespec="microseconds")
    if text.endswith("+00:00"):
        return text[:-6] + "Z"
    return format_time(moment)


def _diagnose(data: bytes, seq: int, prev: bytes, row: tuple) -> str | None:
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
    _, _, _, _, time_text, type_, actor, company, subject, payload_sha256, _ = row
    columns = {
        "time": time_text,
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


def _completing_seq(level: int, index: int) -> int:
    """The seq whose append completed perfect node ``(level, index)``."""
    return ((index + 1) << level) - 1


def _check_nodes(expected: list[tuple[int, int, bytes]]) -> int:
    """Compare freshly computed perfect nodes with the stored ones; raise at the
    first missing or different one.  Returns how many were checked."""
    if not expected:
        return 0
    by_level: dict[int, list[tuple[int, bytes]]] = {}
    for level, index, node in expected:
        by_level.setdefault(level, []).append((index, node))
    problems: list[tuple[int, str]] = []
    for level, items in by_level.items():
        low, high = items[0][0], items[-1][0]
        stored = dict(
            TreeNode.objects.filter(level=level, node_index__gte=low, node_index__lte=high)
            .values_list("node_index", "hash")
            .iterator(chunk_size=10000)
        )
        for index, node in items:
            found = stored.get(index)
            if found is None:
                problems.append(
                    (_completing_seq(level, index), f"stored tree node L{level}#{index} is missing")
                )
                break
            if bytes(found) != node:
                problems.append(
                    (
                        _completing_seq(level, index),
                        f"stored tree node L{level}#{index} has a wrong hash",
                    )
                )
                break
    if problems:
        seq, reason = min(problems)
        raise _Failure(seq, reason)
    return len(expected)


def _expected_node_count(size: int) -> int:
    total, level = 0, 1
    while (size >> level) > 0:
        total += size >> level
        level += 1
    return total


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


def _fetch_chunk(start: int, end: int, limit: int) -> list[tuple[Any, ...]]:
    """Entries ``start <= seq < end`` (at most ``limit``) as tuples in
    ``_ENTRY_COLUMNS`` order, with ``time`` already as the entry's time string.

    On PostgreSQL the database formats the time (parsing a datetime per row and
    printing it again would cost more than everything else the walk does).
    """
    if connection.vendor == "postgresql":
        columns = ", ".join(
            "to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
            if name == "time"
            else name
            for name in _ENTRY_COLUMNS
        )
        table = AuditEntry._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {columns} FROM {table} WHERE seq >= %s AND seq < %s "  # noqa: S608
                "ORDER BY seq LIMIT %s",
                [start, end, limit],
            )
            return cursor.fetchall()
    rows = (
        AuditEntry.objects.filter(seq__gte=start, seq__lt=end)
        .order_by("seq")
        .values_list(*_ENTRY_COLUMNS)[:limit]
    )
    return [(*row[:4], _time_text(row[4]), *row[5:]) for row in rows]


def _walk(
    head_size: int, chunk_size: int, root_sizes: set[int], report: VerificationReport
) -> tuple[Frontier, bytes, dict[int, bytes]]:
    frontier = Frontier()
    prev = GENESIS_PREV
    roots: dict[int, bytes] = {}
    expected_seq = 0
    sha256 = hashlib.sha256
    while expected_seq < head_size:
        rows = _fetch_chunk(expected_seq, head_size, chunk_size)
        pending_nodes: list[tuple[int, int, bytes]] = []
        seen = 0
        try:
            for row in rows:
                seen += 1
                (
                    seq,
                    prev_col,
                    hash_col,
                    data,
                    time_text,
                    type_,
                    actor,
                    company,
                    subject,
                    digest,
                    payload,
                ) = row
                if seq != expected_seq:
                    raise _Failure(
                        expected_seq, f"entry missing (the next stored entry is seq {seq})"
                    )
                data = bytes(data)
                entry_hash = sha256(b"\x00" + data).digest()
                if entry_hash != bytes(hash_col):
                    raise _Failure(
                        seq, "stored bytes do not hash to the stored entry_hash (bytes edited)"
                    )
                if bytes(prev_col) != prev:
                    raise _Failure(
                        seq, "prev column is not the hash of the previous entry (chain broken)"
                    )
                try:
                    rebuilt = encode_entry(
                        seq=seq,
                        prev=prev,
                        time=time_text,
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
                        raise _Failure(seq, reason)
                if sha256(bytes(payload)).hexdigest() != digest:
                    raise _Failure(seq, "payload does not match its payload_sha256")
                completed = frontier.append(entry_hash)
                if len(completed) > 1:
                    pending_nodes.extend(completed[1:])
                prev = entry_hash
                expected_seq += 1
                if expected_seq in root_sizes:
                    roots[expected_seq] = frontier.root()
        except _Failure as failure:
            # A stored node completed before the bad entry would be an earlier problem.
            try:
                bad_seq = failure.seq if failure.seq is not None else expected_seq
                _check_nodes([n for n in pending_nodes if _completing_seq(n[0], n[1]) < bad_seq])
            except _Failure as earlier:
                raise earlier from failure
            raise
        finally:
            report.entries_checked = expected_seq
        if seen == 0:
            raise _Failure(
                expected_seq,
                f"entry missing: the head says {head_size} entries but the log ends before "
                f"seq {expected_seq} (truncated)",
            )
        report.tree_nodes_checked += _check_nodes(pending_nodes)
    return frontier, prev, roots


def _verify(
    *,
    chunk_size: int,
    log_key: str | None,
    external_checkpoints: Sequence[str],
    report: VerificationReport,
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
    frontier, last_hash, roots = _walk(head_size, chunk_size, {c.size for c in checkpoints}, report)
    if AuditEntry.objects.filter(seq__gte=head_size).exists():
        raise _Failure(head_size, f"entries exist beyond the head's size {head_size}")
    stored_nodes = TreeNode.objects.count()
    if stored_nodes != _expected_node_count(head_size):
        beyond = TreeNode.objects.order_by("level").values_list("level", "node_index")
        for level, index in beyond.iterator(chunk_size=10000):
            if _completing_seq(level, index) >= head_size:
                raise _Failure(
                    head_size,
                    f"stored tree node L{level}#{index} covers entries from seq {head_size} on, "
                    "which are missing: the log was truncated or rolled back",
                )
        raise _Failure(
            None, f"{stored_nodes} tree nodes stored, {_expected_node_count(head_size)} expected"
        )
    if bytes(head.last_hash) != last_hash:
        raise _Failure(None, "head row's last_hash is not the hash of the last entry")
    if bytes(head.frontier) != frontier.to_bytes():
        raise _Failure(None, "head row's frontier does not match the recomputed tree")
    report.root = frontier.root()

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


def verify_log(
    *, chunk_size: int = 20000, log_key: str | None = None, external_checkpoints: Sequence[str] = ()
) -> VerificationReport:
    """Walk and check the whole log; see the module docstring.

    ``log_key`` pins the checkpoint verifier key (default: derived from
    AUDIT_LOG_KEY_FILE); ``external_checkpoints`` are signed notes held outside the
    database (from a witness, an auditor) that the log must also match: the only way
    to catch a restore of the whole database to an older copy.
    """
    report = VerificationReport()
    started = clock.perf_counter()
    try:
        if connection.in_atomic_block:
            _verify(
                chunk_size=chunk_size,
                log_key=log_key,
                external_checkpoints=external_checkpoints,
                report=report,
            )
        else:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    # One snapshot for the whole walk: appends committing meanwhile
                    # are simply not seen, instead of looking like extra rows.
                    with connection.cursor() as cursor:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                _verify(
                    chunk_size=chunk_size,
                    log_key=log_key,
                    external_checkpoints=external_checkpoints,
                    report=report,
                )
    except _Failure as failure:
        report.ok = False
        report.first_bad_seq = failure.seq
        report.reason = failure.reason
    report.elapsed_seconds = clock.perf_counter() - started
    return report
