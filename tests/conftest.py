"""Shared fixtures: fast password hashing, Celery mode, the cast of companies and people."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.factories import Cast, build_cast

# CI runs on a shared 2-core machine: a property test must fail for a wrong answer,
# never because one example was slow (speed is measured in bench/, not in tests).
settings.register_profile("carbonx", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("carbonx")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _celery_mode(request):
    """Tasks run eagerly unless a test asks for the real worker (``celery_worker`` marker).

    With REDIS_URL set the settings turn eager mode off for the real stack; most tests
    still want a task to finish inside the test, so they get eager mode back here.
    """
    from config.celery import app

    if request.node.get_closest_marker("celery_worker"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


@pytest.fixture
def celery_worker_or_eager(request, transactional_db):
    """A real Celery worker consuming from Redis when REDIS_URL is set (CI's PostgreSQL +
    Redis run); eager in-process execution otherwise. Use with ``@pytest.mark.celery_worker``.
    """
    from config.celery import app

    if not os.environ.get("REDIS_URL"):
        previous = app.conf.task_always_eager
        app.conf.task_always_eager = True
        yield None
        app.conf.task_always_eager = previous
        return
    from celery.contrib.testing.worker import start_worker

    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
        yield worker


@pytest.fixture
def cast(db) -> Cast:
    return build_cast()
