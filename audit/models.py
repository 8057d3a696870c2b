"""The audit log's tables.

The log is append-only: rows in ``AuditEntry`` and ``TreeNode`` are written once and
never changed (on PostgreSQL triggers refuse UPDATE and DELETE).  ``LogHead`` is the
single mutable row; every append locks it, which serialises writers and keeps the
Merkle frontier so the root is known without rereading the log.  See docs/audit.md.
"""

from __future__ import annotations

from django.db import models

#: ``prev`` of the very first entry: 32 zero bytes, written as 64 "0" in the entry.
GENESIS_PREV = bytes(32)

#: Primary key of the one ``LogHead`` row.
HEAD_ID = 1


class LogHead(models.Model):
    """The one row every append locks (``SELECT ... FOR UPDATE``).

    ``size`` is the number of entries (so the next ``seq``), ``last_hash`` the
    ``entry_hash`` of the newest entry (``GENESIS_PREV`` while empty) and
    ``frontier`` the RFC 9162 right-edge subtree hashes (``trust.merkle.Frontier``).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=HEAD_ID)
    size = models.BigIntegerField(default=0)
    last_hash = models.BinaryField(max_length=32, default=GENESIS_PREV)
    frontier = models.BinaryField(default=b"")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=HEAD_ID), name="audit_head_single_row"),
            models.CheckConstraint(condition=models.Q(size__gte=0), name="audit_head_size_gte_0"),
        ]

    def __str__(self) -> str:
        return f"audit log head (size {self.size})"


class AuditEntry(models.Model):
    """One event, stored as the exact RFC 8785 bytes that were hashed.

    ``entry_bytes`` is the record; the other columns repeat its fields so the
    portal can filter and display without parsing, and ``audit_verify`` checks that
    they still agree with the bytes.  ``payload`` holds the canonical payload whose
    SHA-256 the entry commits to.
    """

    seq = models.BigIntegerField(primary_key=True)
    prev = models.BinaryField(max_length=32, unique=True)
    entry_hash = models.BinaryField(max_length=32, unique=True)
    entry_bytes = models.BinaryField()
    time = models.DateTimeField()
    type = models.CharField(max_length=100)
    actor = models.CharField(max_length=200)
    company = models.CharField(max_length=100, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    payload_sha256 = models.CharField(max_length=64)
    payload = models.BinaryField()

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["company", "seq"], name="audit_entry_company_seq"),
            models.Index(fields=["type", "seq"], name="audit_entry_type_seq"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(seq__gte=0), name="audit_entry_seq_gte_0"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.type} {self.subject}"

    @property
    def entry_hash_hex(self) -> str:
        return bytes(self.entry_hash).hex()

    @property
    def prev_hex(self) -> str:
        return bytes(self.prev).hex()


class TreeNode(models.Model):
    """A completed perfect Merkle subtree at ``level >= 1``.

    Node ``(level, node_index)`` covers leaves ``[node_index * 2**level,
    (node_index + 1) * 2**level)``.  Level 0 (the leaf hashes) is not repeated
    here: it is ``AuditEntry.entry_hash`` of ``seq = node_index``.  Every proof is
    ``O(log n)`` primary-key lookups into these two tables.
    """

    pk = models.CompositePrimaryKey("level", "node_index")
    level = models.PositiveSmallIntegerField()
    node_index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(level__gte=1), name="audit_node_level_gte_1"),
        ]

    def __str__(self) -> str:
        return f"node L{self.level} #{self.node_index}"


class Checkpoint(models.Model):
    """A C2SP tlog-checkpoint signed by the platform's log key.

    ``note`` is the signed note exactly as signed (log signature only); witness
    cosignatures live in ``Cosignature`` and are appended when served.
    """

    size = models.BigIntegerField(unique=True)
    root = models.BinaryField(max_length=32)
    note = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["size"]

    def __str__(self) -> str:
        return f"checkpoint at size {self.size}"


class Witness(models.Model):
    """A party that cosigns checkpoints after checking they extend what it saw.

    ``name`` and ``verifier_key`` identify its cosignature key (a C2SP vkey).  With a
    ``url`` the platform pushes each new checkpoint to ``<url>/add-checkpoint``
    (C2SP tlog-witness); without one the witness pulls and pushes its cosignature.
    """

    name = models.CharField(max_length=200, unique=True)
    verifier_key = models.TextField(unique=True)
    url = models.URLField(blank=True)
    company = models.CharField(
        max_length=100, blank=True, help_text="slug of the company acting as witness, if any"
    )
    active = models.BooleanField(default=True)
    last_cosigned_size = models.BigIntegerField(default=0)
    last_contact_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "witnesses"

    def __str__(self) -> str:
        return self.name


class Cosignature(models.Model):
    """A witness's verified C2SP cosignature/v1 line on one checkpoint."""

    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, related_name="cosignatures"
    )
    witness = models.ForeignKey(Witness, on_delete=models.PROTECT, related_name="cosignatures")
    signature_line = models.TextField()
    timestamp = models.BigIntegerField(help_text="seconds since the epoch, as cosigned")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "witness"], name="audit_cosig_once"),
        ]

    def __str__(self) -> str:
        return f"{self.witness} on {self.checkpoint}"
