"""The audit app: tamper-evident, hash-chained, Merkle-checkpointed event log."""

from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        # The checkpoint cadence is a setting; the beat entry is derived from it here so
        # config/settings.py need not know the task's dotted name.
        schedule = getattr(settings, "CELERY_BEAT_SCHEDULE", None)
        if isinstance(schedule, dict):
            schedule.setdefault(
                "audit-checkpoint",
                {
                    "task": "audit.tasks.checkpoint_make",
                    "schedule": float(settings.AUDIT_CHECKPOINT_INTERVAL_SECONDS),
                },
            )
