"""Several processes appending at once never fork the chain or leave a gap, whether
they append inside transactions (audit_append) or mix in events recorded in their
own autocommit statement (audit_record)."""

from __future__ import annotations

import itertools
import multiprocessing
from typing import Any

import pytest
from django.db import connection, connections, transaction

from audit.models import AuditEntry
from audit.verification import verify_log

WORKERS = 4
APPENDS_EACH = 40


def _worker(worker: int, barrier, mixed: bool) -> int:
    """Runs in a child process: its own database connection, its own appends
    (with ``mixed``, every other one is an audit_record, starting at different
    points in different workers)."""
    import django

    django.setup()
    from audit import services

    connections.close_all()  # never reuse the parent's socket
    barrier.wait()
    for i in range(APPENDS_EACH):
        fields: dict[str, Any] = {
            "type": "load.test",
            "actor": f"worker:{worker}",
            "company": "",
            "subject": f"{worker}:{i}",
            "payload": {"i": i},
        }
        if mixed and (worker + i) % 2:
            services.audit_record(**fields)
        else:
            with transaction.atomic():
                services.audit_append(**fields)
    connections.close_all()
    return worker


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mixed", [False, True], ids=["audit_append", "mixed_with_audit_record"])
def test_concurrent_appends_keep_one_gapless_chain(mixed):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SQLite serialises writers by locking the file)")
    connections.close_all()  # children inherit no open connection
    context = multiprocessing.get_context("fork")
    barrier = context.Manager().Barrier(WORKERS)
    with context.Pool(WORKERS) as pool:
        results = pool.starmap(_worker, [(w, barrier, mixed) for w in range(WORKERS)])
    assert sorted(results) == list(range(WORKERS))
    total = WORKERS * APPENDS_EACH
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(total))
    subjects = AuditEntry.objects.values_list("subject", flat=True)
    assert sorted(subjects) == sorted(
        f"{w}:{i}" for w in range(WORKERS) for i in range(APPENDS_EACH)
    )
    # Interleaved, not one worker after another (the test really was concurrent).
    actors = list(AuditEntry.objects.order_by("seq").values_list("actor", flat=True))
    switches = sum(1 for a, b in itertools.pairwise(actors) if a != b)
    assert switches > WORKERS
    report = verify_log()
    assert report.ok, report.summary()
    assert report.entries_checked == total
