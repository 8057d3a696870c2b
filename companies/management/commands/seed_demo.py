"""Seed the demo pilot zone: companies in a battery and metals supply chain, people, keys.

Idempotent: running it again changes nothing that already exists. Later features
extend the zone (footprints, attestations, requests) from their own apps.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from audit import services as audit_services
from companies import services
from companies.access import Actor
from companies.identifiers import USCC_ALPHABET, uscc_check_character
from companies.models import Company, KeyCustody, Membership

DEMO_PASSWORD = "demo-zone-2026"


def demo_uscc(region: str, serial: int) -> str:
    """A well-formed USCC (valid check character) for a fictional demo company."""
    body = "9" + "1" + region + "".join(USCC_ALPHABET[(serial * 7 + i) % 31] for i in range(9))
    return body[:17] + uscc_check_character(body[:17])


@dataclass(frozen=True)
class DemoCompany:
    slug: str
    legal_name: str
    roles: tuple[str, ...]
    identifiers: tuple[str, ...]
    people: tuple[tuple[str, str], ...]  # (username, role)
    key: str | None = KeyCustody.PLATFORM


ZONE = (
    DemoCompany(
        "zone-operator",
        "Pilot Zone Carbon Data Administration Office",
        ("operator",),
        (demo_uscc("360100", 1),),
        (("operator", "admin"),),
        key=None,
    ),
    DemoCompany(
        "li-refinery",
        "Yichun Lithium Carbonate Refining Co., Ltd.",
        ("supplier",),
        (demo_uscc("360900", 2),),
        (("li.admin", "admin"), ("li.editor", "editor")),
    ),
    DemoCompany(
        "cathode-maker",
        "Ningbo NCM Cathode Materials Co., Ltd.",
        ("supplier", "buyer"),
        (demo_uscc("330200", 3),),
        (("cathode.admin", "admin"), ("cathode.viewer", "viewer")),
    ),
    DemoCompany(
        "cell-maker",
        "Changzhou Power Cell Technology Co., Ltd.",
        ("supplier", "buyer"),
        (demo_uscc("320400", 4),),
        (("cell.admin", "admin"), ("cell.editor", "editor")),
    ),
    DemoCompany(
        "pack-maker",
        "Hefei Battery Pack Systems Co., Ltd.",
        ("supplier", "buyer"),
        (demo_uscc("340100", 5),),
        (("pack.admin", "admin"),),
    ),
    DemoCompany(
        "europa-auto",
        "Europa Automotive AG",
        ("buyer",),
        ("5493001KJTIIGC8Y1R12",),
        (("auto.buyer", "admin"),),
        key=KeyCustody.OWN,
    ),
    DemoCompany(
        "al-smelter",
        "Baotou Low-Carbon Aluminium Smelting Co., Ltd.",
        ("supplier",),
        (demo_uscc("150200", 6),),
        (("al.admin", "admin"),),
    ),
    DemoCompany(
        "steel-mill",
        "Tangshan Green Steel Co., Ltd.",
        ("supplier",),
        (demo_uscc("130200", 7),),
        (("steel.admin", "admin"),),
    ),
    DemoCompany(
        "verifier",
        "Zone Carbon Verification Services Co., Ltd.",
        ("verifier",),
        (demo_uscc("310100", 8),),
        (("verifier.lead", "admin"), ("verifier.auditor", "editor")),
    ),
)

# A consultant who works for two companies: shows the company switcher.
SHARED_PERSON = ("consultant", (("li-refinery", "editor"), ("al-smelter", "viewer")))


class Command(BaseCommand):
    help = "Create the demo pilot zone (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Do not print the logins.")

    @transaction.atomic
    def handle(self, *args, quiet: bool = False, **options):
        operator = self._company(ZONE[0], operator_actor=None)
        operator_admin = self._person(operator, "operator", "admin")
        operator_actor = Actor(company=operator, role="admin", user=operator_admin.user)
        for spec in ZONE:
            company = self._company(spec, operator_actor=operator_actor)
            for username, role in spec.people:
                self._person(company, username, role)
            self._key(company, spec)
        username, roles = SHARED_PERSON
        for slug, role in roles:
            self._person(Company.objects.get(slug=slug), username, role)
        # Apps above companies (footprints, verification, requests) add their part of
        # the zone through an optional ``<app>.demo.seed(stdout)``, in INSTALLED_APPS
        # order; companies never imports them directly.
        for app in apps.get_app_configs():
            try:
                module = import_module(f"{app.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app.name}.demo":
                    raise
                continue
            module.seed(stdout=None if quiet else self.stdout)
        # A signed checkpoint over everything seeded, so the public log endpoints and
        # the operator's page show one from the start (None: nothing new since the last).
        checkpoint = audit_services.checkpoint_create()
        if checkpoint is not None and not quiet:
            self.stdout.write(f"Audit log checkpoint signed at tree size {checkpoint.size}.")
        if not quiet:
            self._print_logins()

    def _company(self, spec: DemoCompany, operator_actor: Actor | None) -> Company:
        existing = Company.objects.filter(slug=spec.slug).first()
        if existing:
            return existing
        return services.company_onboard(
            actor=operator_actor,
            legal_name=spec.legal_name,
            slug=spec.slug,
            identifiers=list(spec.identifiers),
            roles=list(spec.roles),
            contact_email=f"carbon@{spec.slug}.example",
            activate=True,
        )

    def _person(self, company: Company, username: str, role: str) -> Membership:
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is None:
            user = user_model.objects.create_user(
                username=username,
                email=f"{username}@{company.slug}.example",
                password=DEMO_PASSWORD,
            )
        membership, _ = Membership.objects.get_or_create(
            user=user, company=company, defaults={"role": role}
        )
        return membership

    def _key(self, company: Company, spec: DemoCompany) -> None:
        if spec.key is None or company.signing_keys.exists():
            return
        admin = company.memberships.filter(role="admin").select_related("user").first()
        actor = Actor(company=company, role="admin", user=admin.user if admin else None)
        if spec.key == KeyCustody.PLATFORM:
            services.signing_key_create_platform(actor=actor, label="demo platform-held key")
        else:
            from trust import keys as trust_keys

            # The private half of an "own" key lives with the company, not here: the demo
            # discards it, as a real company keeps it in its own systems.
            public = trust_keys.public_jwk(trust_keys.generate_private_key())
            services.signing_key_register(actor=actor, jwk=public, label="ERP signing key")

    def _print_logins(self) -> None:
        self.stdout.write(self.style.SUCCESS("Demo zone ready. Sign in at http://127.0.0.1:8000/"))
        self.stdout.write(f"Every demo login uses the password: {DEMO_PASSWORD}")
        rows = Membership.objects.select_related("user", "company").order_by(
            "company__slug", "user__username"
        )
        for membership in rows:
            user, company = membership.user.username, membership.company.legal_name
            self.stdout.write(f"  {user:<18} {membership.role:<7} {company}")
