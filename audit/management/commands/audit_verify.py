"""``manage.py audit_verify``: check the whole audit log; non-zero exit on the first problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.verification import verify_log


class Command(BaseCommand):
    help = (
        "Walk the whole audit log: recompute every entry hash, chain link, column, payload "
        "digest, stored tree node, the head and the root; verify every checkpoint's signature "
        "and consistency. Exits 1 naming the first bad seq and why."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=20000, help="entries per read")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="processes for the walk on PostgreSQL (default: one per core; 1 = this "
            "process only)",
        )
        parser.add_argument(
            "--log-key", help="pin the log's verifier key (default: from AUDIT_LOG_KEY_FILE)"
        )
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            type=Path,
            help="a signed checkpoint held outside the database (repeatable); log must match it",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        external = [path.read_text(encoding="utf-8") for path in options["checkpoint"]]
        report = verify_log(
            chunk_size=options["chunk_size"],
            workers=options["workers"],
            log_key=options["log_key"],
            external_checkpoints=external,
        )
        if not report.ok:
            raise CommandError(report.summary(), returncode=1)
        self.stdout.write(self.style.SUCCESS(report.summary()))
