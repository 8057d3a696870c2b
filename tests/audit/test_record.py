"""audit_record: an event that changes nothing else, recorded in its own transaction.

On PostgreSQL it is one conditional statement in autocommit (one statement is one
transaction there); when another writer moved the head it falls back to the locked
append in a transaction of its own.  On SQLite it is the locked append in atomic().
"""

from __future__ import annotations

import itertools
import os
import tempfile
import threading
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from audit import services
from audit.models import AuditEntry, LogHead, TreeNode
from audit.verification import verify_log
from tests.audit.conftest import append, tampering

pytestmark = pytest.mark.django_db(transaction=True)  # audit_record needs autocommit

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the autocommit statement is PostgreSQL's"
)


def record(i: int = 0, **overrides) -> AuditEntry:
    fields: dict[str, Any] = {
        "type": "footprint.pulled",
        "actor": "client:buyer",
        "company": "acme",
        "subject": f"footprint:{i}",
        "payload": {"i": i, "note": "ünïcode ✓"},
    }
    fields.update(overrides)
    return services.audit_record(**fields)


def head() -> tuple[int, bytes, bytes]:
    row = LogHead.objects.get()
    return row.size, bytes(row.last_hash), bytes(row.frontier)


def seqs() -> list[int]:
    return list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))


def append_from_another_thread(n: int) -> None:
    """Another writer: its own connection and its own copy of the head."""

    def work() -> None:
        try:
            append(n, company="other")
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()


@pytest.fixture(autouse=True)
def fresh_guess():
    """Each test starts like a new process (the copy of the head is per thread)."""
    services._head_guess.head = None
    services._head_guess.trusted = True


def test_record_inside_atomic_is_refused_and_writes_nothing():
    with (
        pytest.raises(RuntimeError, match=r"outside transaction\.atomic.*audit_append"),
        transaction.atomic(),
    ):
        record()
    assert AuditEntry.objects.count() == 0


@pytest.mark.django_db  # the test runs inside the atomic blocks of a Django test case
def test_record_in_a_test_case_transaction_works_like_durable_atomic():
    """As for ``atomic(durable=True)``, the test case's own atomic blocks stand for
    autocommit, so code calling audit_record is testable without transaction=True;
    an atomic block opened inside the test is still refused."""
    assert [record(0).seq, record(1).seq] == [0, 1]
    assert append(1)[0].seq == 2
    with pytest.raises(RuntimeError, match="audit_append"), transaction.atomic():
        record(2)
    assert seqs() == [0, 1, 2]
    assert verify_log().ok


def test_record_with_autocommit_off_is_refused():
    transaction.set_autocommit(False)
    try:
        with pytest.raises(RuntimeError, match="autocommit"):
            record()
    finally:
        transaction.rollback()
        transaction.set_autocommit(True)
    assert AuditEntry.objects.count() == 0


@postgresql_only
def test_record_in_a_transaction_opened_by_raw_sql_is_refused():
    """Django's autocommit is on and no atomic block is open, but a BEGIN sent as
    SQL opened a transaction: the statement would join it, so it is refused."""
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        try:
            with pytest.raises(RuntimeError, match="no transaction open"):
                record()
        finally:
            cursor.execute("ROLLBACK")
    assert AuditEntry.objects.count() == 0


def test_records_and_appends_share_one_verifying_chain():
    entries = [record(0), record(1)]
    entries += append(2)
    entries += [record(2), record(3), record(4)]
    entries += append(1)
    assert [e.seq for e in entries] == list(range(8))
    assert seqs() == list(range(8))
    for earlier, later in itertools.pairwise(entries):
        assert bytes(later.prev) == bytes(earlier.entry_hash)
    stored = AuditEntry.objects.get(seq=2)
    assert bytes(stored.entry_bytes) == bytes(entries[2].entry_bytes)
    assert head()[0] == 8
    report = verify_log()
    assert report.ok, report.summary()
    assert report.entries_checked == 8


def test_a_bad_record_is_refused_like_an_append():
    with pytest.raises(services.AuditInputError, match="payload"):
        record(payload={"x": 1.5})
    assert AuditEntry.objects.count() == 0


def test_record_misses_after_another_writer_and_falls_back_to_the_lock():
    record(0)
    record(1)  # now this thread's copy of the head is set and trusted
    append_from_another_thread(2)
    entry = record(2)  # the copy is stale: the conditional write misses
    assert entry.seq == 4
    assert bytes(entry.prev) == bytes(AuditEntry.objects.get(seq=3).entry_hash)
    if connection.vendor == "postgresql":
        assert services._head_guess.trusted is False  # lock first next time
        assert services._head_guess.head == services._Head(*head())
    record(3)  # a locked record that finds its copy right trusts it again
    if connection.vendor == "postgresql":
        assert services._head_guess.trusted is True
    record(4)
    assert seqs() == list(range(7))
    assert verify_log().ok


@pytest.mark.parametrize("stale", ["older", "other-history", "other-frontier"])
def test_a_stale_guess_is_never_written_by_record(stale):
    append(2)
    older = services._Head(*head())
    append(1)
    real = services._Head(*head())
    services._head_guess.head = {
        "older": older,  # another writer appended since
        "other-history": services._Head(real.size, b"\x01" * 32, real.frontier),
        "other-frontier": services._Head(real.size, real.last_hash, b"\x02" * 64),
    }[stale]
    services._head_guess.trusted = True
    entry = record()
    assert (entry.seq, bytes(entry.prev)) == (real.size, real.last_hash)
    assert seqs() == list(range(4))
    assert verify_log().ok


@pytest.mark.parametrize("guess", ["trusted", "stale"])
def test_a_failed_record_leaves_no_entry_and_no_moved_head(guess):
    """The statement moves the head, inserts two tree nodes and then fails on the
    entry (a planted row holds its seq): nothing of it may stay, whether it ran on
    its own in autocommit (trusted copy) or under the lock in atomic() (stale)."""
    record(0)
    record(1)
    record(2)  # seq 3 completes two tree nodes
    before, nodes = head(), TreeNode.objects.count()
    with tampering():
        AuditEntry.objects.create(
            seq=3,
            prev=b"\xaa" * 32,
            entry_hash=b"\xbb" * 32,
            entry_bytes=b"{}",
            time=AuditEntry.objects.get(seq=2).time,
            type="planted.row",
            actor="mallory",
            payload_sha256="0" * 64,
            payload=b"{}",
        )
    if guess == "stale":
        services._head_guess.head = services._Head(0, bytes(32), b"")
    with pytest.raises(IntegrityError):
        record(3)
    assert head() == before
    assert TreeNode.objects.count() == nodes
    assert seqs() == [0, 1, 2, 3]  # only the planted row
    if connection.vendor == "postgresql":
        assert connection.connection.info.transaction_status == services._IDLE
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq = 3")
    assert record(3).seq == 3
    assert record(4).seq == 4
    assert verify_log().ok


@postgresql_only
def test_record_is_one_round_trip_in_autocommit():
    """With a trusted copy of the head and the statement prepared, a record sends
    one statement (one Sync) and no BEGIN or COMMIT: it commits on its own."""
    from psycopg.pq import Trace

    record(0)  # sets the copy of the head
    record(1)  # prepares the statement
    connection.ensure_connection()
    raw = connection.connection
    assert connection.get_autocommit() and raw.autocommit  # Django's default
    with tempfile.TemporaryFile("w+") as trace:
        raw.pgconn.trace(trace.fileno())
        raw.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
        try:
            entry = record(2)
        finally:
            raw.pgconn.untrace()
        trace.seek(0, os.SEEK_SET)
        messages = trace.read()
    sent = [line.split("\t")[2].split(" ")[0] for line in messages.splitlines() if line[:1] == "F"]
    assert sent.count("Sync") == 1, messages
    assert "Parse" not in sent  # prepared
    assert "BEGIN" not in messages and "COMMIT" not in messages
    assert raw.info.transaction_status == services._IDLE
    assert entry.seq == 2
    # Committed: another connection sees it.
    other = connection.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT max(seq) FROM audit_auditentry")
            assert cursor.fetchone()[0] == 2
    finally:
        other.close()
