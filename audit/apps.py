"""The audit app: tamper-evident, hash-chained, Merkle-checkpointed event log."""

from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"
    verbose_name = "Audit log"
