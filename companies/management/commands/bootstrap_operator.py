"""Create the zone operator company and its first admin on a new installation."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from companies import services
from companies.errors import DomainError
from companies.models import Company, Membership


class Command(BaseCommand):
    help = "Create the zone operator company and its first admin (prints a one-time password)."

    def add_arguments(self, parser):
        parser.add_argument("--legal-name", required=True)
        parser.add_argument(
            "--identifier",
            required=True,
            action="append",
            dest="identifiers",
            help="USCC, LEI or URN; repeat for several",
        )
        parser.add_argument("--slug", default="zone-operator")
        parser.add_argument("--admin-username", required=True)
        parser.add_argument("--admin-email", required=True)

    @transaction.atomic
    def handle(self, *args, **options):
        if Company.objects.filter(is_operator=True).exists():
            raise CommandError("a zone operator already exists; add admins from the portal")
        try:
            company = services.company_onboard(
                actor=None,
                legal_name=options["legal_name"],
                slug=options["slug"],
                identifiers=options["identifiers"],
                roles=["operator"],
                activate=True,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        password = secrets.token_urlsafe(16)
        user_model = get_user_model()
        if user_model.objects.filter(username=options["admin_username"]).exists():
            raise CommandError(f"user {options['admin_username']!r} already exists")
        user = user_model.objects.create_user(
            username=options["admin_username"], email=options["admin_email"], password=password
        )
        Membership.objects.create(user=user, company=company, role="admin")
        self.stdout.write(self.style.SUCCESS(f"Operator {company.legal_name} created."))
        self.stdout.write(f"Admin {user.username}, one-time password (change it): {password}")
