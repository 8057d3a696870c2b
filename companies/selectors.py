"""Reads for companies, people, keys and clients, always scoped to the acting company.

No view or serializer queries these models directly: a tenant leak has one place to
be fixed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet

from .access import Actor
from .errors import NotFound
from .models import (
    ApiClient,
    Company,
    CompanyIdentifier,
    CompanyStatus,
    Invitation,
    Membership,
    SigningKey,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    """The companies a person belongs to (for the company switcher)."""
    return Membership.objects.filter(user=user).select_related("company")


def membership_for(*, user: User, company_id: int | None) -> Membership | None:
    """The person's membership in ``company_id``, or their first one if none is chosen."""
    memberships = memberships_of_user(user=user)
    if company_id is not None:
        chosen = memberships.filter(company_id=company_id).first()
        if chosen is not None:
            return chosen
    return memberships.first()


def _with_identifiers(queryset: QuerySet[Company]) -> QuerySet[Company]:
    return queryset.prefetch_related(
        Prefetch("identifiers", queryset=CompanyIdentifier.objects.order_by("id"))
    )


def company_directory(*, actor: Actor) -> QuerySet[Company]:
    """The zone registry every member can browse: active companies and their public data."""
    return _with_identifiers(Company.objects.filter(status=CompanyStatus.ACTIVE))


def companies_for_operator(*, actor: Actor) -> QuerySet[Company]:
    """Every company in any state: the operator's view."""
    actor.require_operator(to="list all companies")
    return _with_identifiers(Company.objects.all())


def company_get_for_operator(*, actor: Actor, slug: str) -> Company:
    company = companies_for_operator(actor=actor).filter(slug=slug).first()
    if company is None:
        raise NotFound(f"no company {slug!r}")
    return company


def company_public_keys(*, actor: Actor, slug: str) -> QuerySet[SigningKey]:
    """Another company's public keys (with validity windows), to check its signatures."""
    company = company_directory(actor=actor).filter(slug=slug).first()
    if company is None and actor.company.slug == slug:
        company = actor.company
    if company is None:
        raise NotFound(f"no active company {slug!r}")
    return SigningKey.objects.filter(company=company).only(
        "kid", "public_jwk", "custody", "valid_from", "revoked_at", "revocation_reason", "company"
    )


def members_of(*, actor: Actor) -> QuerySet[Membership]:
    return Membership.objects.filter(company=actor.company).select_related("user")


def member_get(*, actor: Actor, membership_id: int) -> Membership:
    membership = members_of(actor=actor).filter(pk=membership_id).first()
    if membership is None:
        raise NotFound("no such member")
    return membership


def invitations_of(*, actor: Actor) -> QuerySet[Invitation]:
    return Invitation.objects.filter(company=actor.company).select_related("invited_by")


def invitation_get(*, actor: Actor, invitation_id: int) -> Invitation:
    invitation = invitations_of(actor=actor).filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound("no such invitation")
    return invitation


def signing_keys_of(*, actor: Actor) -> QuerySet[SigningKey]:
    # The encrypted private half is never loaded by reads.
    return SigningKey.objects.filter(company=actor.company).defer("encrypted_private_key")


def signing_key_get(*, actor: Actor, kid: str) -> SigningKey:
    key = signing_keys_of(actor=actor).filter(kid=kid).first()
    if key is None:
        raise NotFound(f"no signing key {kid!r} in your company", field="kid")
    return key


def api_clients_of(*, actor: Actor) -> QuerySet[ApiClient]:
    return ApiClient.objects.filter(company=actor.company).select_related("application")


def api_client_get(*, actor: Actor, client_id: str) -> ApiClient:
    client = api_clients_of(actor=actor).filter(application__client_id=client_id).first()
    if client is None:
        raise NotFound(f"no API client {client_id!r} in your company", field="client_id")
    return client
