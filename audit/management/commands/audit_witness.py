"""``manage.py audit_witness``: register, list, enable or disable checkpoint witnesses."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit import services
from audit.models import Witness


class Command(BaseCommand):
    help = "Manage audit-log witnesses (parties that cosign checkpoints)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="register a witness by its cosignature verifier key")
        add.add_argument("verifier_key", help="C2SP cosignature/v1 vkey (name+id+base64)")
        add.add_argument("--url", default="", help="submission prefix for add-checkpoint pushes")
        add.add_argument("--company", default="", help="slug of the company acting as witness")
        sub.add_parser("list", help="list witnesses and their state")
        for name in ("enable", "disable"):
            toggle = sub.add_parser(name)
            toggle.add_argument("name")
        self._sub = sub

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "add":
            key = options["verifier_key"]
            name = key.split("+", 1)[0]
            try:
                witness = services.witness_register(
                    name=name, verifier_key=key, url=options["url"], company=options["company"]
                )
            except services.AuditInputError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(f"registered witness {witness.name}")
        elif action == "list":
            for w in Witness.objects.order_by("name"):
                state = "active" if w.active else "inactive"
                self.stdout.write(
                    f"{w.name}\t{state}\tcosigned up to {w.last_cosigned_size}\t"
                    f"{w.url or 'pull'}\t{w.last_error}"
                )
        else:
            updated = Witness.objects.filter(name=options["name"]).update(active=action == "enable")
            if not updated:
                raise CommandError(f"no witness named {options['name']!r}")
            self.stdout.write(f"{options['name']} {action}d")
