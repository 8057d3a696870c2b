"""``manage.py audit_checkpoint``: sign a checkpoint now (if the log grew)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from audit import services


class Command(BaseCommand):
    help = "Sign a C2SP checkpoint of the audit log now, if it grew since the last one."

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = services.checkpoint_create()
        if checkpoint is None:
            self.stdout.write("log has not grown since the last checkpoint; nothing signed")
            return
        self.stdout.write(checkpoint.note, ending="")
