"""Appending: the transaction rule, the entry format, the chain, the stored tree."""

from __future__ import annotations

import hashlib
import itertools
import json

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from audit import selectors, services
from audit.entry_format import decode_entry
from audit.models import AuditEntry, LogHead, TreeNode
from audit.verification import verify_log
from tests.audit.conftest import append, tampering
from trust import jcs, merkle

pytestmark = pytest.mark.django_db


def _append_one(**overrides):
    fields = {
        "type": "signing_key.registered",
        "actor": "user:alice",
        "company": "acme",
        "subject": "signing_key:abc",
        "payload": {"kid": "abc", "alg": "Ed25519", "flags": [True, None, 3]},
    }
    fields.update(overrides)
    with transaction.atomic():
        return services.audit_append(**fields)


@pytest.mark.django_db(transaction=True)
def test_append_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match=r"transaction\.atomic"):
        services.audit_append(type="a.b", actor="system", company="", subject="", payload={})


def test_entry_bytes_fields_and_hash():
    entry = _append_one()
    fields = decode_entry(bytes(entry.entry_bytes))
    payload = {"kid": "abc", "alg": "Ed25519", "flags": [True, None, 3]}
    assert fields["seq"] == 0
    assert fields["prev"] == "0" * 64
    assert fields["type"] == "signing_key.registered"
    assert fields["actor"] == "user:alice"
    assert fields["company"] == "acme"
    assert fields["subject"] == "signing_key:abc"
    assert fields["payload_sha256"] == hashlib.sha256(jcs.canonicalize(payload)).hexdigest()
    assert fields["time"].endswith("Z") and len(fields["time"]) == 27
    assert bytes(entry.payload) == jcs.canonicalize(payload)
    assert bytes(entry.entry_hash) == hashlib.sha256(b"\x00" + bytes(entry.entry_bytes)).digest()
    stored = AuditEntry.objects.get(seq=0)
    assert bytes(stored.entry_bytes) == bytes(entry.entry_bytes)


def test_chain_is_gapless_and_linked():
    entries = append(6)
    assert [e.seq for e in entries] == list(range(6))
    for before, after in itertools.pairwise(entries):
        assert bytes(after.prev) == bytes(before.entry_hash)
        assert decode_entry(bytes(after.entry_bytes))["prev"] == bytes(before.entry_hash).hex()
    head = LogHead.objects.get()
    assert head.size == 6
    assert bytes(head.last_hash) == bytes(entries[-1].entry_hash)


def test_head_frontier_and_tree_nodes_match_an_in_memory_tree():
    entries = append(11)
    tree = merkle.MemoryTree()
    for entry in entries:
        tree.append_hash(bytes(entry.entry_hash))
    head = LogHead.objects.get()
    assert merkle.Frontier.from_bytes(head.size, bytes(head.frontier)).root() == tree.root()
    stored = {(n.level, n.node_index): bytes(n.hash) for n in TreeNode.objects.all()}
    assert stored == {key: h for key, h in tree._nodes.items() if key[0] >= 1}
    assert selectors.log_root(7) == tree.root(7)


def test_failed_business_transaction_leaves_no_entry():
    _append_one()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        services.audit_append(type="x.y", actor="system", company="", subject="", payload={})
        1 / 0  # the business change fails after its entry was appended
    assert AuditEntry.objects.count() == 1
    assert LogHead.objects.get().size == 1
    assert _append_one().seq == 1  # and the next append reuses seq 1: no gap


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"type": "NoDots"}, "type"),
        ({"type": ""}, "type"),
        ({"actor": ""}, "actor"),
        ({"company": "x" * 101}, "company"),
        ({"subject": "bad\nline"}, "subject"),
        ({"payload": {"amount": 1.5}}, "floats"),
        ({"payload": {"n": 2**60}}, "payload"),
        ({"payload": ["not", "a", "mapping"]}, "mapping"),
    ],
)
def test_bad_entries_are_refused_and_change_nothing(overrides, message):
    with pytest.raises(services.AuditInputError, match=message):
        _append_one(**overrides)
    assert AuditEntry.objects.count() == 0


def test_append_many_is_one_batch_in_order():
    _append_one()
    items = [
        {
            "type": "bulk.item",
            "actor": "system",
            "company": "acme",
            "subject": f"i:{i}",
            "payload": {"i": i},
        }
        for i in range(300)
    ]
    with transaction.atomic():
        entries = services.audit_append_many(items)
    assert [e.seq for e in entries] == list(range(1, 301))
    assert [json.loads(bytes(e.payload))["i"] for e in entries] == list(range(300))
    assert LogHead.objects.get().size == 301


def test_append_many_names_the_bad_item():
    with pytest.raises(services.AuditInputError, match=r"entries\[1\]"), transaction.atomic():
        services.audit_append_many(
            [{"type": "a.b", "actor": "s"}, {"type": "a.b", "actor": "s", "colour": "red"}]
        )


def test_a_fork_is_refused_by_the_unique_prev():
    first = _append_one()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.create(
            seq=99,
            prev=first.prev,
            entry_hash=b"\x01" * 32,
            entry_bytes=b"{}",
            time=first.time,
            type="x.y",
            actor="a",
            payload_sha256="0" * 64,
            payload=b"{}",
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="triggers exist on PostgreSQL")
def test_postgres_refuses_update_and_delete_of_entries_nodes_and_head_rollback():
    append(4)
    for statement in (
        "UPDATE audit_auditentry SET actor = 'mallory' WHERE seq = 1",
        "DELETE FROM audit_auditentry WHERE seq = 3",
        "UPDATE audit_treenode SET hash = hash WHERE level = 1",
        "DELETE FROM audit_treenode",
        "UPDATE audit_loghead SET size = 1",
        "DELETE FROM audit_loghead",
    ):
        with (
            pytest.raises(DatabaseError, match="audit log"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AuditEntry.objects.filter(actor="mallory").count() == 0
    assert AuditEntry.objects.count() == 4


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the head guess is PostgreSQL's")
def test_a_stale_head_guess_is_never_written():
    """A single append on PostgreSQL first tries a write conditional on the head it
    last saw.  When another writer moved the head, that write must change nothing,
    and the append must fall back to locking and reading the head."""

    def current():
        head = LogHead.objects.get()
        return services._Head(head.size, bytes(head.last_hash), bytes(head.frontier))

    append(2)
    older = current()
    append(1)
    stale_guesses = [
        lambda real: older,  # another writer appended since
        lambda real: services._Head(real.size, b"\x01" * 32, real.frontier),  # other history
        lambda real: services._Head(real.size, real.last_hash, b"\x02" * len(real.frontier)),
    ]
    for stale in stale_guesses:
        real = current()
        services._head_guess.head = stale(real)
        services._head_guess.trusted = True
        entry = append(1)[0]
        assert (entry.seq, bytes(entry.prev)) == (real.size, real.last_hash)
        assert services._head_guess.trusted is False  # missed: lock first next time
        assert services._head_guess.head == current()
        append(1)  # a locked append that finds its copy right trusts it again
        assert services._head_guess.trusted is True
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == list(range(9))
    assert verify_log().ok


def test_head_after_a_rolled_back_append_is_not_reused():
    append(2)
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        append(1)
        1 / 0
    entries = append(2)
    assert [e.seq for e in entries] == [2, 3]
    assert verify_log().ok


def test_a_lost_head_row_is_refused_not_recreated_over_entries():
    append(3)
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_loghead")
    with pytest.raises(services.AuditError, match="head row is missing"):
        append(1)
    assert AuditEntry.objects.count() == 3
    assert not LogHead.objects.exists()  # the refused append created nothing


def test_a_missing_head_row_is_created_for_an_empty_log():
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_loghead")
    assert [e.seq for e in append(2)] == [0, 1]
    assert LogHead.objects.get().size == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_appends_prepare_only_their_own_statements(settings):
    """The write statement is prepared (it saves the server a third of its work),
    but Django's connection is left as configured: nothing else gets prepared."""
    connection.ensure_connection()
    raw = connection.connection
    assert raw.prepare_threshold is None  # Django's default
    append(3)
    assert raw.prepare_threshold is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert statements and all("audit_loghead" in s for s in statements)
    settings.AUDIT_PREPARED_STATEMENTS = False  # e.g. behind an old PgBouncer
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    raw._prepared.clear()
    append(2)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] == 0
    assert verify_log().ok
