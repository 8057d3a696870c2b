"""``manage.py run_periodic``: make run's scheduler for the beat schedule."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from audit import services as audit_services
from audit.models import Checkpoint
from companies.management.commands.run_periodic import Job, due_jobs, jobs_from_schedule


def test_jobs_run_at_their_turns_and_once_after_a_long_sleep():
    often, rarely = Job("often", "t.often", every=10), Job("rarely", "t.rarely", every=30)
    jobs = [often, rarely]
    assert due_jobs(jobs, 0) == [often, rarely]
    assert due_jobs(jobs, 5) == []
    assert due_jobs(jobs, 10.5) == [often]
    assert (often.due, rarely.due) == (20, 30)
    assert due_jobs(jobs, 95) == [often, rarely]  # asleep for several turns: once each
    assert (often.due, rarely.due) == (100, 120)
    assert due_jobs(jobs, 99) == []


def test_a_schedule_that_is_not_a_number_of_seconds_is_refused():
    with pytest.raises(CommandError, match="crontab-ish: schedule must be a positive number"):
        jobs_from_schedule({"crontab-ish": {"task": "t", "schedule": "0 * * * *"}})


@pytest.mark.django_db
def test_once_runs_every_job_of_the_schedule(settings):
    with transaction.atomic():
        audit_services.audit_append(
            type="test.periodic", actor="system", company="", subject="s", payload={}
        )
    out = io.StringIO()
    call_command("run_periodic", "--once", stdout=out, stderr=io.StringIO())
    for name in settings.CELERY_BEAT_SCHEDULE:
        assert f"{name}: done" in out.getvalue()
    assert Checkpoint.objects.count() == 1  # the checkpoint job signed the grown log


@pytest.mark.django_db
def test_a_failing_job_is_reported_and_the_others_still_run(monkeypatch):
    def broken() -> None:
        raise RuntimeError("signing key unreadable")

    monkeypatch.setattr(audit_services, "checkpoint_create", broken)
    out, err = io.StringIO(), io.StringIO()
    call_command("run_periodic", "--once", stdout=out, stderr=err)
    assert "audit-checkpoint: failed" in err.getvalue()
    assert "RuntimeError: signing key unreadable" in err.getvalue()
    assert "verification-expire: done" in out.getvalue()


def test_an_unknown_task_is_refused_before_anything_runs(settings):
    settings.CELERY_BEAT_SCHEDULE = {"typo": {"task": "audit.tasks.no_such_task", "schedule": 5}}
    with pytest.raises(CommandError, match="unknown tasks in CELERY_BEAT_SCHEDULE"):
        call_command("run_periodic", "--once", stdout=io.StringIO())
