"""Admin: the log is read-only here; only witnesses are managed."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEntry, Checkpoint, Witness


class ReadOnlyAdmin(admin.ModelAdmin):
    """Entries and checkpoints are written only by services, never by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "time", "type", "company", "actor", "subject")
    list_filter = ("type",)
    search_fields = ("subject", "company", "actor")
    exclude = ("entry_bytes", "payload", "prev", "entry_hash")


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ("size", "created_at")


@admin.register(Witness)
class WitnessAdmin(admin.ModelAdmin):
    list_display = ("name", "company", "url", "active", "last_cosigned_size", "last_contact_at")
    readonly_fields = ("last_cosigned_size", "last_contact_at", "last_error", "created_at")
