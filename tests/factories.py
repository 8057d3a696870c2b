"""factory_boy factories and the cast used across the suite.

The cast: a zone operator, a supplier ("acme") with an admin, an editor and a viewer,
and another company ("other") whose admin is the outsider in every access test.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import factory
from django.contrib.auth.models import User

from companies import services
from companies.access import Actor
from companies.identifiers import USCC_ALPHABET, uscc_check_character
from companies.models import ApiClient, Company, Invitation, Membership, SigningKey
from trust import keys as trust_keys

PASSWORD = "correct horse battery staple"


def make_uscc(n: int) -> str:
    """A valid USCC numbered n (check character computed, so it passes validation)."""
    body = "91330100" + "".join(USCC_ALPHABET[(n // 31**i) % 31] for i in range(9))
    return body + uscc_check_character(body)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.django.Password(PASSWORD)


_company_counter = iter(range(1, 10**9))


def make_company(
    name: str, *, roles: tuple[str, ...] = ("supplier",), active: bool = True, slug: str = ""
) -> Company:
    return services.company_onboard(
        actor=None,
        legal_name=name,
        slug=slug,
        identifiers=[make_uscc(next(_company_counter))],
        roles=list(roles),
        activate=active,
    )


def add_member(company: Company, username: str, role: str) -> Membership:
    user = UserFactory.create(username=username)
    return Membership.objects.create(user=user, company=company, role=role)


def actor_of(membership: Membership) -> Actor:
    return Actor(company=membership.company, role=membership.role, user=membership.user)


@dataclass
class Cast:
    operator: Company
    acme: Company
    other: Company
    pending: Company
    op_admin: Membership
    admin: Membership
    editor: Membership
    viewer: Membership
    outsider: Membership
    own_key: SigningKey
    own_private_key: Any
    platform_key: SigningKey
    invitation: Invitation
    invitation_token: str
    client: ApiClient
    client_secret: str

    def actor(self, who: str) -> Actor:
        return actor_of(getattr(self, who))

    # The exchange part of the cast is made on first use, so tests that don't need a
    # footprint don't pay for one.
    @cached_property
    def footprint_document(self) -> dict[str, Any]:
        from tests.exchange.helpers import acme_document

        return acme_document(self)

    @cached_property
    def footprint(self) -> Any:
        from exchange import services as exchange_services
        from exchange.signing import sign_footprint

        token = sign_footprint(self.footprint_document, self.own_private_key)
        return exchange_services.footprint_submit(actor=self.actor("editor"), jws=token).footprint

    @cached_property
    def upload(self) -> Any:
        from exchange.models import BulkUpload, UploadStatus

        return BulkUpload.objects.create(
            company=self.acme,
            created_by=self.editor.user,
            file_name="acme-footprints.csv",
            file_format="csv",
            content=b"x",
            sha256="0" * 64,
            status=UploadStatus.FAILED,
            errors=[{"row": 2, "column": "Declared unit", "message": "acme-secret-row-error"}],
        )


def build_cast() -> Cast:
    operator = make_company("Zone Operator", roles=("operator",), slug="zone-operator")
    acme = make_company("Acme Lithium Co., Ltd.", roles=("supplier",), slug="acme")
    other = make_company("Other Motors", roles=("buyer",), slug="other")
    pending = make_company("Newly Registered Ltd", roles=("supplier",), slug="newco", active=False)
    op_admin = add_member(operator, "op_admin", "admin")
    admin = add_member(acme, "acme_admin", "admin")
    editor = add_member(acme, "acme_editor", "editor")
    viewer = add_member(acme, "acme_viewer", "viewer")
    outsider = add_member(other, "other_admin", "admin")
    acme_actor = actor_of(admin)
    own_private_key = trust_keys.generate_private_key()
    own_key = services.signing_key_register(
        actor=acme_actor, jwk=trust_keys.public_jwk(own_private_key), label="own"
    )
    platform_key = services.signing_key_create_platform(actor=acme_actor, label="platform")
    invitation, token = services.invitation_create(
        actor=acme_actor, email="newcomer@example.test", role="editor"
    )
    client, secret = services.api_client_create(actor=acme_actor, name="ERP")
    return Cast(
        operator=operator,
        acme=acme,
        other=other,
        pending=pending,
        op_admin=op_admin,
        admin=admin,
        editor=editor,
        viewer=viewer,
        outsider=outsider,
        own_key=own_key,
        own_private_key=own_private_key,
        platform_key=platform_key,
        invitation=invitation,
        invitation_token=token,
        client=client,
        client_secret=secret,
    )
