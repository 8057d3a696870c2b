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
