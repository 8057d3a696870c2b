"""``manage.py run_periodic``: the periodic jobs of ``CELERY_BEAT_SCHEDULE``, in this
process.

``make run`` has no broker and no Celery beat, so nothing would sign checkpoints,
retry PACT deliveries, expire engagements or send reminders.  This command is its
scheduler: it runs every job once at start and then every ``schedule`` seconds, each
in-process (the task's own code, as the worker would run it), and logs one line per
run.  A job that fails is logged and tried again at its next turn; the others carry
on.  It does not reload when code changes (restart ``make run`` after changing a
task).  With a broker and beat (``docker compose``) it is not needed, and must not
run beside beat: every job would run twice as often.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from config.celery import app


@dataclass
class Job:
    name: str
    task: str
    every: float  # seconds
    due: float = 0.0  # on the monotonic clock


def jobs_from_schedule(schedule: dict[str, dict[str, Any]]) -> list[Job]:
    """The beat schedule's entries as jobs (interval schedules only: all ours are)."""
    jobs = []
    for name, entry in schedule.items():
        every = entry.get("schedule")
        if not isinstance(every, int | float) or every <= 0:
            raise CommandError(f"{name}: schedule must be a positive number of seconds")
        jobs.append(Job(name=name, task=str(entry["task"]), every=float(every)))
    return jobs


def due_jobs(jobs: list[Job], now: float) -> list[Job]:
    """The jobs due at ``now``, each moved to its next turn after ``now`` (a
    scheduler that was asleep runs a job once, not once per missed turn)."""
    due = [job for job in jobs if job.due <= now]
    for job in due:
        job.due += job.every * (1 + (now - job.due) // job.every)
    return due


class Command(BaseCommand):
    help = "Run the periodic jobs of CELERY_BEAT_SCHEDULE in this process (make run's beat)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="run every job once and exit")

    def handle(self, *args: Any, once: bool = False, **options: Any) -> None:
        jobs = jobs_from_schedule(settings.CELERY_BEAT_SCHEDULE)
        app.loader.import_default_modules()  # registers every app's tasks, as a worker does
        unknown = [job.task for job in jobs if job.task not in app.tasks]
        if unknown:
            raise CommandError(f"unknown tasks in CELERY_BEAT_SCHEDULE: {', '.join(unknown)}")
        if once:
            for job in jobs:
                self._run(job)
            return
        self.stdout.write(
            "periodic jobs: "
            + ", ".join(f"{job.name} every {job.every:g}s" for job in jobs)
            + " (Ctrl-C stops)"
        )
        start = time.monotonic()
        for job in jobs:
            job.due = start
        try:
            while True:
                for job in due_jobs(jobs, time.monotonic()):
                    close_old_connections()  # as a worker does between tasks
                    self._run(job)
                time.sleep(max(0.0, min(min(job.due for job in jobs) - time.monotonic(), 1.0)))
        except KeyboardInterrupt:
            self.stdout.write("periodic jobs stopped")

    def _run(self, job: Job) -> None:
        started = time.monotonic()
        result = app.tasks[job.task].apply(throw=False)
        took = time.monotonic() - started
        if result.failed():
            error = result.result
            self.stderr.write(
                f"{job.name}: failed after {took:.2f}s: {type(error).__name__}: {error}"
            )
        else:
            self.stdout.write(f"{job.name}: done in {took:.2f}s ({result.result!r})")
