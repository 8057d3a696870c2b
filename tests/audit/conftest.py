"""Shared fixtures of the audit tests: a throwaway log key and helpers to append
entries and to tamper with the database behind the application's back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection, transaction

from audit import services
from audit.models import AuditEntry
from trust.merkle import Frontier


@pytest.fixture(autouse=True)
def log_key_file(settings: Any, tmp_path: Any) -> Any:
    """Every test signs with its own fresh log key, never var/audit-log-key.pem."""
    path = tmp_path / "keys" / "audit-log-key.pem"
    settings.AUDIT_LOG_KEY_FILE = str(path)
    settings.AUDIT_LOG_ORIGIN = "test.carbonx.example/audit-log"
    return path


def append(n: int, *, company: str = "acme", type: str = "test.event") -> list[AuditEntry]:
    """Append ``n`` entries, one transaction each."""
    out = []
    for i in range(n):
        with transaction.atomic():
            out.append(
                services.audit_append(
                    type=type,
                    actor="user:alice",
                    company=company,
                    subject=f"thing:{AuditEntry.objects.count()}",
                    payload={"n": i, "note": "ünïcode ✓"},
                )
            )
    return out


@contextmanager
def tampering() -> Iterator[Any]:
    """A raw cursor with the append-only triggers out of the way (PostgreSQL:
    ``session_replication_role = replica`` skips ordinary triggers; SQLite has none)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")


def head_for_prefix(size: int) -> list[Any]:
    """Head values and tree nodes as they were at ``size`` (rebuilt from the entries)."""
    frontier = Frontier()
    last = bytes(32)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT entry_hash FROM audit_auditentry WHERE seq < %s ORDER BY seq", [size]
        )
        for (entry_hash,) in cursor.fetchall():
            last = bytes(entry_hash)
            for level, index, node in frontier.append(last)[1:]:
                cursor.execute(
                    "INSERT INTO audit_treenode (level, node_index, hash) VALUES (%s, %s, %s)",
                    [level, index, node],
                )
    return [size, last, frontier.to_bytes()]
