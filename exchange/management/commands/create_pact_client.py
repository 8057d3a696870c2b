"""Create the API client an outside PACT host uses to call the exchange for a company,
with the client id and secret agreed with that host. Prints the client id only."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from companies import services
from companies.access import system_actor
from companies.errors import DomainError, ValidationFailed
from companies.models import Company, CompanyStatus


class Command(BaseCommand):
    help = (
        "Create an OAuth2 client-credentials client for a company's PACT partner host, "
        "with a set client id and secret (the secret is stored hashed and not printed)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", required=True, help="slug of the zone company")
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret", required=True, help="at least 16 characters")
        parser.add_argument("--name", default="PACT partner host", help="shown in the portal")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        company = Company.objects.filter(slug=options["company"]).first()
        if company is None:
            raise CommandError(f"--company: no company {options['company']!r} in the zone")
        if company.status != CompanyStatus.ACTIVE:
            raise CommandError(f"--company: {company.legal_name} is not active in the zone")
        client_id = options["client_id"].strip()
        if not client_id:
            raise CommandError("--client-id: must not be empty")
        if len(client_id) > 255 or any(ord(ch) < 0x21 for ch in client_id):
            raise CommandError("--client-id: at most 255 characters, without spaces")
        try:
            client, _ = services.api_client_create(
                actor=system_actor(company),
                name=options["name"],
                client_id=client_id,
                client_secret=options["client_secret"],
            )
        except ValidationFailed as exc:
            raise CommandError(
                "; ".join(
                    f"--{field.replace('_', '-')}: {' '.join(messages)}"
                    for field, messages in exc.errors.items()
                )
            ) from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(f"API client {client.client_id} created for {company.slug}.")
        )
