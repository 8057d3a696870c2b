"""Register, list and remove PACT partner hosts (outside PACT hosts acting for a zone
company). The client secret is stored encrypted and never printed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from companies.errors import DomainError, ValidationFailed
from companies.models import Company
from exchange import partners


def _command_error(exc: DomainError) -> CommandError:
    """The service's message with field names spelled as the command's options."""
    if isinstance(exc, ValidationFailed):
        text = "; ".join(
            f"--{field.replace('_', '-')}: {' '.join(messages)}"
            for field, messages in exc.errors.items()
        )
        return CommandError(text)
    if exc.field:
        option = f"--{exc.field.replace('_', '-')}"
        message = exc.message
        if message.startswith(f"{exc.field}: "):
            message = message[len(exc.field) + 2 :]
        return CommandError(f"{option}: {message}")
    return CommandError(exc.message)


class Command(BaseCommand):
    help = (
        "Manage PACT partner hosts: `add` one for a company (its base URL and the client "
        "credentials the exchange uses there), `list` them, `remove` one, or `rewrap` "
        "their secrets after a new key-encryption key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = actions.add_parser("add", help="register a partner host for a company")
        add.add_argument("--company", required=True, help="slug of the zone company")
        add.add_argument("--base-url", required=True, help="https:// base URL of its PACT API")
        add.add_argument("--client-id", required=True, help="client id the partner issued")
        add.add_argument("--client-secret", required=True, help="client secret (stored encrypted)")
        listing = actions.add_parser("list", help="list partner hosts")
        listing.add_argument("--company", help="only this company's (slug)")
        listing.add_argument("--all", action="store_true", help="include removed ones")
        remove = actions.add_parser("remove", help="stop exchanging events with a partner")
        remove.add_argument("--base-url", required=True)
        actions.add_parser("rewrap", help="re-encrypt secrets with the current KEK")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "add":
                self._add(options)
            elif action == "list":
                self._list(options)
            elif action == "remove":
                partner = partners.partner_remove(options["base_url"])
                self.stdout.write(f"Partner host {partner.base_url} removed.")
            else:
                moved = partners.partner_secrets_rewrap()
                self.stdout.write(f"{moved} partner secret(s) re-encrypted.")
        except DomainError as exc:
            raise _command_error(exc) from exc

    def _add(self, options: dict[str, Any]) -> None:
        partner = partners.partner_add(
            options["company"],
            options["base_url"],
            options["client_id"],
            options["client_secret"],
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Partner host {partner.base_url} registered for {partner.company.slug} "
                f"(client id {partner.client_id})."
            )
        )

    def _list(self, options: dict[str, Any]) -> None:
        company = None
        if options.get("company"):
            company = Company.objects.filter(slug=options["company"]).first()
            if company is None:
                raise CommandError(f"--company: no company {options['company']!r} in the zone")
        rows = partners.partners_of(company, include_removed=options["all"]).order_by(
            "company__slug", "base_url"
        )
        for partner in rows:
            state = "removed" if partner.disabled_at else "active"
            self.stdout.write(
                f"{partner.company.slug}\t{partner.base_url}\t{partner.client_id}\t{state}"
            )
