"""Tampering behind the application's back is found by the verification walk,
which names the first bad seq."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit import services, verification
from audit.models import Checkpoint, LogHead
from audit.verification import verify_log
from tests.audit.conftest import append, head_for_prefix, tampering

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=[None, 2], ids=["one-segment", "segments-of-4"])
def segment_bits(request, monkeypatch):
    """Every tamper test runs twice: with the default segment size (the whole test
    log is one segment) and with segments of 4 entries, so that detection at and
    across segment boundaries, and in the tree nodes above the segments, is held
    to the same first bad seq."""
    if request.param is not None:
        monkeypatch.setattr(verification, "DEFAULT_SEGMENT_BITS", request.param)
    return request.param


def _bytes_of(cursor, seq: int) -> bytes:
    cursor.execute("SELECT entry_bytes FROM audit_auditentry WHERE seq = %s", [seq])
    return bytes(cursor.fetchone()[0])


def test_untouched_log_verifies():
    append(40)
    services.checkpoint_create()
    append(9)
    services.checkpoint_create()
    report = verify_log(chunk_size=7)
    assert report.ok, report.summary()
    assert report.entries_checked == 49
    assert report.checkpoints_checked == 2


def test_edited_entry_bytes_are_found_at_their_seq():
    append(20)
    with tampering() as cursor:
        edited = _bytes_of(cursor, 13).replace(b"user:alice", b"user:mallo")
        cursor.execute("UPDATE audit_auditentry SET entry_bytes = %s WHERE seq = 13", [edited])
    report = verify_log(chunk_size=5)
    assert not report.ok
    assert report.first_bad_seq == 13
    assert "bytes edited" in report.reason


def test_edited_column_is_found():
    append(8)
    with tampering() as cursor:
        cursor.execute("UPDATE audit_auditentry SET company = 'other' WHERE seq = 5")
    report = verify_log()
    assert (report.first_bad_seq, "column 'company'" in report.reason) == (5, True)


@pytest.mark.parametrize("change", ["1 microsecond later", "1 day later", "infinity"])
def test_edited_time_column_is_found(change):
    if change == "infinity" and connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL timestamps can be infinite")
    append(8)
    with tampering() as cursor:
        cursor.execute("SELECT time FROM audit_auditentry WHERE seq = 6")
        (moment,) = cursor.fetchone()
        later = {"1 microsecond later": timedelta(microseconds=1), "1 day later": timedelta(days=1)}
        new = "infinity" if change == "infinity" else moment + later[change]
        cursor.execute("UPDATE audit_auditentry SET time = %s WHERE seq = 6", [new])
    report = verify_log()
    assert report.first_bad_seq == 6
    assert "column 'time'" in report.reason


def test_edited_payload_is_found():
    append(8)
    with tampering() as cursor:
        cursor.execute("UPDATE audit_auditentry SET payload = %s WHERE seq = 2", [b'{"n":99}'])
    report = verify_log()
    assert report.first_bad_seq == 2
    assert "payload" in report.reason


def test_deleted_entry_is_found():
    append(12)
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq = 4")
    report = verify_log(chunk_size=3)
    assert report.first_bad_seq == 4
    assert "missing" in report.reason


def test_swapped_entries_are_found_at_the_first_of_them():
    append(10)
    columns = ", ".join(
        (
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
    )
    with tampering() as cursor:
        cursor.execute(f"SELECT {columns} FROM audit_auditentry WHERE seq IN (3, 6) ORDER BY seq")
        three, six = cursor.fetchall()
        # Move both rows out of the way of the unique constraints, then swap.
        cursor.execute("DELETE FROM audit_auditentry WHERE seq IN (3, 6)")
        for seq, row in ((3, six), (6, three)):
            cursor.execute(
                f"INSERT INTO audit_auditentry (seq, {columns}) VALUES (%s{', %s' * 10})",
                [seq, *row],
            )
    report = verify_log()
    assert report.first_bad_seq == 3
    assert "chain broken" in report.reason


def test_truncated_log_with_head_left_alone_is_found():
    append(10)
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq >= 7")
    report = verify_log(chunk_size=4)
    assert report.first_bad_seq == 7
    assert "truncated" in report.reason


def test_truncated_log_with_head_rolled_back_is_found_by_the_checkpoint():
    append(10)
    services.checkpoint_create()
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq >= 7")
        cursor.execute("DELETE FROM audit_treenode")
        cursor.execute(
            "UPDATE audit_loghead SET size = %s, last_hash = %s, frontier = %s",
            head_for_prefix(7),
        )
    report = verify_log()
    assert report.first_bad_seq == 7
    assert "truncated" in report.reason


def test_rolled_back_copy_is_found_at_the_first_lost_seq():
    """Restore entries, nodes and head to the copy taken at size 6, keeping the
    checkpoint made at size 10: a perfect-looking log that lost 4 entries."""
    append(10)
    services.checkpoint_create()
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq >= 6")
        cursor.execute("DELETE FROM audit_treenode")
        cursor.execute(
            "UPDATE audit_loghead SET size = %s, last_hash = %s, frontier = %s",
            head_for_prefix(6),
        )
    report = verify_log()
    assert report.first_bad_seq == 6
    assert "rolled back" in report.reason


def test_rolled_back_and_rewritten_log_is_found_by_its_checkpoint():
    append(6)
    services.checkpoint_create()
    append(4)
    services.checkpoint_create()
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq >= 6")
        cursor.execute("DELETE FROM audit_treenode")
        cursor.execute(
            "UPDATE audit_loghead SET size = %s, last_hash = %s, frontier = %s",
            head_for_prefix(6),
        )
    append(4, type="rewritten.history")  # a different history of the same length
    report = verify_log()
    assert report.first_bad_seq == 6
    assert "rewritten" in report.reason


def test_whole_database_restored_is_found_with_an_external_checkpoint(tmp_path):
    append(5)
    services.checkpoint_create()
    held_elsewhere = Checkpoint.objects.get().note  # e.g. kept by a witness
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_cosignature")
        cursor.execute("DELETE FROM audit_checkpoint")
        cursor.execute("DELETE FROM audit_auditentry WHERE seq >= 3")
        cursor.execute("DELETE FROM audit_treenode")
        cursor.execute(
            "UPDATE audit_loghead SET size = %s, last_hash = %s, frontier = %s",
            head_for_prefix(3),
        )
    assert verify_log().ok  # nothing inside the database can tell...
    report = verify_log(external_checkpoints=[held_elsewhere])  # ...a held checkpoint can
    assert report.first_bad_seq == 3


def test_tampered_tree_node_is_found():
    append(16)
    with tampering() as cursor:
        cursor.execute(
            "UPDATE audit_treenode SET hash = %s WHERE level = 2 AND node_index = 1", [b"\x07" * 32]
        )
    report = verify_log()
    assert report.first_bad_seq == 7  # the entry whose append completed node L2#1
    assert "L2#1" in report.reason


def test_tampered_tree_node_above_a_segment_is_found():
    append(16)
    with tampering() as cursor:
        cursor.execute(
            "UPDATE audit_treenode SET hash = %s WHERE level = 3 AND node_index = 0", [b"\x07" * 32]
        )
    report = verify_log()
    assert report.first_bad_seq == 7  # the entry whose append completed node L3#0
    assert "L3#0" in report.reason


def test_missing_tree_node_is_found():
    append(12)
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_treenode WHERE level = 1 AND node_index = 4")
    report = verify_log()
    assert report.first_bad_seq == 9
    assert "L1#4 is missing" in report.reason


def test_forged_checkpoint_signature_is_found():
    append(3)
    checkpoint = services.checkpoint_create()
    forged = checkpoint.note.replace("\n3\n", "\n3\n", 1)[:-10] + "AAAAAAAAA\n"
    with tampering() as cursor:
        cursor.execute("UPDATE audit_checkpoint SET note = %s", [forged])
    report = verify_log()
    assert not report.ok and "signature or format invalid" in report.reason


def test_head_frontier_tampering_is_found():
    append(5)
    LogHead.objects.update(frontier=b"\x00" * 64)
    report = verify_log()
    assert not report.ok and "frontier" in report.reason


def test_management_command_exit_codes(capsys):
    append(4)
    call_command("audit_verify")
    assert "OK: 4 entries" in capsys.readouterr().out
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE seq = 2")
    with pytest.raises(CommandError, match="seq 2") as excinfo:
        call_command("audit_verify")
    assert excinfo.value.returncode == 1


def test_a_stray_tree_node_is_found():
    append(6)
    with tampering() as cursor:
        cursor.execute(
            "INSERT INTO audit_treenode (level, node_index, hash) VALUES (1, -1, %s)", [b"x" * 32]
        )
    report = verify_log()
    assert not report.ok
    assert "L1#-1 is not a node of the tree" in report.reason


def test_a_node_beyond_the_head_is_found_even_with_entries_intact():
    append(6)
    with tampering() as cursor:
        cursor.execute(
            "INSERT INTO audit_treenode (level, node_index, hash) VALUES (2, 1, %s)", [b"x" * 32]
        )
    report = verify_log()
    assert report.first_bad_seq == 6
    assert "L2#1 covers entries from seq 6 on" in report.reason
