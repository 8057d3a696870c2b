"""The multi-process verification walk (PostgreSQL) finds exactly what the
single-process walk finds: the same first bad seq, for the same reason.

These tests commit their data (``transaction=True``): the worker processes read
through their own connections, which see only committed rows.
"""

from __future__ import annotations

import pytest
from django.db import connection

from audit import services
from audit.models import LogHead
from audit.verification import VerificationWorkerError, verify_log
from tests.audit.conftest import append, head_for_prefix, tampering

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SEGMENT_BITS = 3  # segments of 8 entries: a 50-entry log has 7 of them


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the multi-process walk runs on PostgreSQL only")


def _both():
    """Verify in 2 processes and in 1; both must agree.  Returns the parallel report."""
    parallel = verify_log(workers=2, segment_bits=SEGMENT_BITS, chunk_size=5)
    single = verify_log(workers=1, segment_bits=SEGMENT_BITS, chunk_size=5)
    assert parallel.processes == 2
    assert single.processes == 1
    assert (parallel.ok, parallel.first_bad_seq, parallel.reason) == (
        single.ok,
        single.first_bad_seq,
        single.reason,
    )
    assert parallel.root == single.root
    assert parallel.entries_checked == single.entries_checked
    return parallel


def test_untouched_log_verifies_with_checkpoints_inside_and_at_segment_edges():
    append(16)
    services.checkpoint_create()  # size 16: a segment boundary
    append(21)
    services.checkpoint_create()  # size 37: inside a segment
    append(13)
    report = _both()
    assert report.ok, report.summary()
    assert report.entries_checked == 50
    assert report.checkpoints_checked == 2
    assert report.tree_nodes_checked == 50 - (50).bit_count()
    assert report.root == verify_log(workers=1).root  # one big segment: same root


@pytest.mark.parametrize(
    ("statement", "seq", "words"),
    [
        (
            "UPDATE audit_auditentry SET entry_bytes = convert_to(replace(convert_from("
            "entry_bytes, 'UTF8'), 'user:alice', 'user:mallo'), 'UTF8') WHERE seq = 29",
            29,
            "bytes edited",
        ),
        ("UPDATE audit_auditentry SET company = 'other' WHERE seq = 21", 21, "column 'company'"),
        ("DELETE FROM audit_auditentry WHERE seq = 24", 24, "missing"),  # a segment's first
        ("DELETE FROM audit_auditentry WHERE seq = 23", 23, "missing"),  # a segment's last
        ("DELETE FROM audit_auditentry WHERE seq >= 40", 40, "truncated"),
        ("UPDATE audit_treenode SET hash = 'x' WHERE level = 2 AND node_index = 5", 23, "L2#5"),
        ("UPDATE audit_treenode SET hash = 'x' WHERE level = 4 AND node_index = 1", 31, "L4#1"),
    ],
)
def test_tampering_is_found_at_the_same_seq(statement, seq, words):
    append(45)
    with tampering() as cursor:
        cursor.execute(statement)
    report = _both()
    assert not report.ok
    assert report.first_bad_seq == seq, report.reason
    assert words in report.reason


def test_two_problems_in_different_segments_report_the_earlier():
    append(45)
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq = 38")
        cursor.execute("UPDATE audit_auditentry SET actor = 'user:bob' WHERE seq = 12")
    report = _both()
    assert report.first_bad_seq == 12


def test_rewritten_history_is_found_by_the_checkpoint():
    append(20)
    services.checkpoint_create()
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq >= 12")
        cursor.execute("DELETE FROM audit_treenode")
        cursor.execute(
            "UPDATE audit_loghead SET size = %s, last_hash = %s, frontier = %s",
            head_for_prefix(12),
        )
    append(8, type="rewritten.history")
    assert LogHead.objects.get().size == 20
    report = _both()
    assert report.first_bad_seq == 0
    assert "rewritten" in report.reason


def test_a_worker_that_cannot_connect_is_an_error_not_a_finding(monkeypatch):
    append(20)
    params = {**connection.get_connection_params(), "dbname": "carbonx_no_such_database"}
    monkeypatch.setattr(connection, "get_connection_params", lambda: params)
    with pytest.raises(VerificationWorkerError, match="could not start"):
        verify_log(workers=2, segment_bits=SEGMENT_BITS)
