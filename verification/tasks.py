"""Scheduled work of the verification app."""

from __future__ import annotations

from celery import shared_task

from .services import engagements_expire


@shared_task(name="verification.tasks.expire_engagements")
def expire_engagements() -> int:
    """Expire attested engagements whose credentials have passed their validity."""
    return engagements_expire()
