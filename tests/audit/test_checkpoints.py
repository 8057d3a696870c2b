"""Checkpoints: signed C2SP notes over the current tree head, made only on growth."""

from __future__ import annotations

import stat

import pytest
from django.conf import settings
from django.core.management import call_command

from audit import selectors, services
from audit.models import Checkpoint
from tests.audit.conftest import append
from trust import note

pytestmark = pytest.mark.django_db


def test_no_checkpoint_for_an_empty_or_unchanged_log():
    assert services.checkpoint_create() is None
    append(3)
    assert services.checkpoint_create() is not None
    assert services.checkpoint_create() is None
    assert Checkpoint.objects.count() == 1


def test_checkpoint_is_a_signed_note_over_origin_size_root():
    append(5)
    checkpoint = services.checkpoint_create()
    verifier = note.NoteVerifier.from_key_string(services.log_verifier_key())
    opened = note.open_note(checkpoint.note, [verifier])
    parsed = note.parse_checkpoint(opened.text)
    assert parsed.origin == settings.AUDIT_LOG_ORIGIN == verifier.name
    assert parsed.size == 5
    assert parsed.root == selectors.log_root(5) == bytes(checkpoint.root)


def test_a_checkpoint_signed_by_another_key_does_not_verify():
    append(2)
    checkpoint = services.checkpoint_create()
    from trust import keys

    stranger = note.NoteSigner(settings.AUDIT_LOG_ORIGIN, keys.generate_private_key())
    with pytest.raises(Exception, match="trusted key"):
        note.open_note(checkpoint.note, [stranger.verifier()])


def test_log_key_file_is_created_private_and_reused(log_key_file):
    assert not log_key_file.exists()
    first = services.log_verifier_key()
    assert stat.S_IMODE(log_key_file.stat().st_mode) == 0o600
    services._signers.clear()  # a new process reads the same file
    assert services.log_verifier_key() == first


def test_beat_schedule_runs_the_checkpoint_task():
    entry = settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]
    assert entry["task"] == "audit.tasks.checkpoint_make"
    assert entry["schedule"] == float(settings.AUDIT_CHECKPOINT_INTERVAL_SECONDS)


def test_checkpoint_task_and_command(capsys):
    from audit.tasks import checkpoint_make

    assert checkpoint_make() is None
    append(2)
    assert checkpoint_make() == 2
    append(1)
    call_command("audit_checkpoint")
    assert "\n3\n" in capsys.readouterr().out
    call_command("audit_checkpoint")
    assert "nothing signed" in capsys.readouterr().out
