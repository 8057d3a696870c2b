"""Reads of the audit log: entries, proofs, checkpoints, witnesses.

The public log (entry bytes, proofs, checkpoints) is readable by anyone; payloads and
the filtered portal views are scoped to the acting company, and the whole-log
portal view to the zone operator.  Proofs read stored perfect nodes: ``trust.merkle``
asks for ``O(log n)`` of them, which are fetched in one round trip (see
:func:`_with_prefetched_nodes`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Protocol, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from trust import merkle

from .models import HEAD_ID, AuditEntry, Checkpoint, LogHead, TreeNode, Witness

T = TypeVar("T")


class _Company(Protocol):
    slug: str
    is_operator: bool


class ActorLike(Protocol):
    """What the portal's ``request.actor`` offers (duck-typed: audit never imports
    companies)."""

    company: _Company
    role: str


# ---------------------------------------------------------------------- log state


def log_size() -> int:
    """Number of entries in the log (committed, as seen by this transaction)."""
    return LogHead.objects.filter(pk=HEAD_ID).values_list("size", flat=True).first() or 0


def log_root(size: int) -> bytes:
    """The Merkle root of the first ``size`` entries (``size`` <= log size)."""
    return _with_prefetched_nodes(lambda node: merkle.root(size, node))


def checkpoint_latest() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size").first()


def checkpoint_at(size: int) -> Checkpoint | None:
    return Checkpoint.objects.filter(size=size).first()


def checkpoints_recent(limit: int = 20) -> QuerySet[Checkpoint]:
    return Checkpoint.objects.order_by("-size").prefetch_related("cosignatures__witness")[:limit]


def witnesses_all() -> QuerySet[Witness]:
    return Witness.objects.order_by("name")


def entry_at(seq: int) -> AuditEntry | None:
    return AuditEntry.objects.filter(seq=seq).first()


def entries_range(*, start: int, end: int) -> list[AuditEntry]:
    """Entries with ``start <= seq < end`` in seq order (the public range read)."""
    return list(
        AuditEntry.objects.filter(seq__gte=start, seq__lt=end)
        .order_by("seq")
        .only("seq", "entry_bytes", "entry_hash")
    )


# ------------------------------------------------------------------------- proofs


def _load_nodes(wanted: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    leaves = [index for level, index in wanted if level == 0]
    interior = [(level, index) for level, index in wanted if level > 0]
    found: dict[tuple[int, int], bytes] = {}
    if leaves:
        for seq, entry_hash in AuditEntry.objects.filter(seq__in=leaves).values_list(
            "seq", "entry_hash"
        ):
            found[(0, seq)] = bytes(entry_hash)
    if interior:
        for level, index, node in TreeNode.objects.filter(pk__in=interior).values_list(
            "level", "node_index", "hash"
        ):
            found[(level, index)] = bytes(node)
    return found


def _with_prefetched_nodes(compute: Callable[[merkle.SubtreeHash], T]) -> T:
    """Run a ``trust.merkle`` computation with all its node reads in one query.

    Which perfect nodes a proof needs depends only on sizes and indexes, never on
    hash values, so a first dry run with placeholder hashes lists them; they are
    then fetched together and the computation runs for real.
    """
    wanted: list[tuple[int, int]] = []

    def record(level: int, index: int) -> bytes:
        wanted.append((level, index))
        return bytes(32)

    compute(record)
    nodes = _load_nodes(wanted)
    missing = [key for key in wanted if key not in nodes]
    if missing:
        raise LookupError(f"stored tree nodes missing: {missing[:5]}")
    return compute(lambda level, index: nodes[(level, index)])


def inclusion_proof(*, seq: int, tree_size: int) -> list[bytes]:
    """RFC 9162 audit path of entry ``seq`` in the tree of ``tree_size`` entries."""
    return _with_prefetched_nodes(lambda node: merkle.inclusion_proof(seq, tree_size, node))


def consistency_proof(*, first: int, second: int) -> list[bytes]:
    """RFC 9162 proof that the tree of ``first`` entries is a prefix of ``second``."""
    return _with_prefetched_nodes(lambda node: merkle.consistency_proof(first, second, node))


@dataclass(frozen=True)
class InclusionAnswer:
    entry: AuditEntry
    tree_size: int
    root: bytes
    proof: list[bytes]
    checkpoint: Checkpoint | None


def entry_with_proof(*, seq: int, tree_size: int) -> InclusionAnswer | None:
    """Entry ``seq`` with its inclusion proof and root at ``tree_size``; ``None``
    if there is no such entry.  The caller checks ``seq < tree_size <= log size``."""
    entry = entry_at(seq)
    if entry is None:
        return None
    proof = inclusion_proof(seq=seq, tree_size=tree_size)
    return InclusionAnswer(
        entry=entry,
        tree_size=tree_size,
        root=log_root(tree_size),
        proof=proof,
        checkpoint=checkpoint_at(tree_size),
    )


# ------------------------------------------------------------------ portal listings


@dataclass(frozen=True)
class EntryFilters:
    """Filters of the portal's audit pages; all optional."""

    type: str = ""
    date_from: date | None = None
    date_to: date | None = None
    company: str = ""


def _filtered(queryset: QuerySet[AuditEntry], filters: EntryFilters) -> QuerySet[AuditEntry]:
    if filters.type:
        queryset = queryset.filter(type=filters.type)
    if filters.date_from:
        start = datetime.combine(filters.date_from, time.min, tzinfo=UTC)
        queryset = queryset.filter(time__gte=start)
    if filters.date_to:
        end = datetime.combine(filters.date_to, time.max, tzinfo=UTC)
        queryset = queryset.filter(time__lte=end)
    return queryset.order_by("-seq")


def entries_of_company(*, actor: ActorLike, filters: EntryFilters) -> QuerySet[AuditEntry]:
    """The acting company's own entries (``company`` == its slug), newest first."""
    base = AuditEntry.objects.filter(company=actor.company.slug)
    return _filtered(base, EntryFilters(filters.type, filters.date_from, filters.date_to))


def entry_types_of_company(*, actor: ActorLike) -> list[str]:
    return list(
        AuditEntry.objects.filter(company=actor.company.slug)
        .order_by("type")
        .values_list("type", flat=True)
        .distinct()
    )


def require_operator(actor: ActorLike | None, *, to: str = "read the whole audit log") -> None:
    """Refuse anyone but a member of the zone operator; ``to`` says what for."""
    if actor is None or not actor.company.is_operator:
        raise PermissionDenied(f"only the zone operator may {to}")


def entries_whole_log(*, actor: ActorLike | None, filters: EntryFilters) -> QuerySet[AuditEntry]:
    """Every entry, for the zone operator only, newest first."""
    require_operator(actor)
    base = AuditEntry.objects.all()
    if filters.company:
        base = base.filter(company=filters.company)
    return _filtered(base, filters)


def entry_types_all(*, actor: ActorLike | None) -> list[str]:
    require_operator(actor)
    return list(AuditEntry.objects.order_by("type").values_list("type", flat=True).distinct())


def payload_display(entry: AuditEntry) -> Any:
    """The entry's payload as JSON data, for display."""
    return json.loads(bytes(entry.payload))
