"""Platform API for companies, people, keys and machine clients (``/api/v1/``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from companies import selectors, services
from companies.api import serializers as s
from companies.api.base import ActorAPIView
from companies.models import ApiClient, Company, Invitation, Membership, SigningKey
from companies.views import invitation_link

ERRORS = {
    400: OpenApiResponse(description="A field breaks a rule; `errors` names it."),
    403: OpenApiResponse(description="Your role or company may not do this."),
    404: OpenApiResponse(description="Not found in your company."),
}


class PagedActorView(ActorAPIView, GenericAPIView):
    """A list endpoint: the selector's queryset, paginated with limit/offset."""

    def paged(self, queryset: Any, serializer_class: type[serializers.Serializer]) -> Response:
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)


class MeView(ActorAPIView):
    @extend_schema(
        summary="Who am I acting as",
        responses=s.MeOutput,
        tags=["companies"],
    )
    def get(self, request: Request) -> Response:
        actor = self.actor
        memberships = []
        if actor.user is not None:
            memberships = [
                {"company": m.company.slug, "legal_name": m.company.legal_name, "role": m.role}
                for m in selectors.memberships_of_user(user=actor.user)
            ]
        return Response(
            {
                "actor": actor.audit_ref,
                "role": actor.role,
                "company": s.CompanyOutput(actor.company).data,
                "memberships": memberships,
            }
        )


class CompanyProfileView(ActorAPIView):
    @extend_schema(summary="Your company's profile", responses=s.CompanyOutput, tags=["companies"])
    def get(self, request: Request) -> Response:
        return Response(s.CompanyOutput(self.actor.company).data)

    @extend_schema(
        summary="Update contact details (admin)",
        request=s.CompanyProfileInput,
        responses={200: s.CompanyOutput, **ERRORS},
        tags=["companies"],
    )
    def patch(self, request: Request) -> Response:
        data = s.CompanyProfileInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        current = s.CompanyProfileInput(self.actor.company).data
        company = services.company_update_profile(
            actor=self.actor, **{**current, **data.validated_data}
        )
        return Response(s.CompanyOutput(company).data)


class DirectoryView(PagedActorView):
    queryset = Company.objects.none()  # names the model for the schema; reads use selectors

    @extend_schema(
        summary="The zone registry: active companies",
        responses=s.CompanyOutput(many=True),
        tags=["directory"],
    )
    def get(self, request: Request) -> Response:
        return self.paged(selectors.company_directory(actor=self.actor), s.CompanyOutput)


class DirectoryKeysView(PagedActorView):
    queryset = SigningKey.objects.none()  # names the model for the schema; reads use selectors

    @extend_schema(
        summary="A company's public signing keys with their validity windows",
        responses={200: s.SigningKeyOutput(many=True), 404: ERRORS[404]},
        tags=["directory"],
    )
    def get(self, request: Request, slug: str) -> Response:
        return self.paged(
            selectors.company_public_keys(actor=self.actor, slug=slug), s.SigningKeyOutput
        )


class MembersView(PagedActorView):
    queryset = Membership.objects.none()  # names the model for the schema; reads use selectors

    @extend_schema(
        summary="Members of your company",
        responses=s.MembershipOutput(many=True),
        tags=["members"],
    )
    def get(self, request: Request) -> Response:
        return self.paged(selectors.members_of(actor=self.actor), s.MembershipOutput)


class MemberView(ActorAPIView):
    @extend_schema(
        summary="Change a member's role (admin)",
        request=s.MembershipRoleInput,
        responses={200: s.MembershipOutput, **ERRORS},
        tags=["members"],
    )
    def patch(self, request: Request, membership_id: int) -> Response:
        data = s.MembershipRoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = selectors.member_get(actor=self.actor, membership_id=membership_id)
        membership = services.membership_change_role(
            actor=self.actor, membership=membership, role=data.validated_data["role"]
        )
        return Response(s.MembershipOutput(membership).data)

    @extend_schema(
        summary="Remove a member (admin)", responses={204: None, **ERRORS}, tags=["members"]
    )
    def delete(self, request: Request, membership_id: int) -> Response:
        membership = selectors.member_get(actor=self.actor, membership_id=membership_id)
        services.membership_remove(actor=self.actor, membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationsView(PagedActorView):
    queryset = Invitation.objects.none()  # names the model for the schema; reads use selectors

    @extend_schema(
        summary="Invitations of your company",
        responses=s.InvitationOutput(many=True),
        tags=["members"],
    )
    def get(self, request: Request) -> Response:
        return self.paged(selectors.invitations_of(actor=self.actor), s.InvitationOutput)

    @extend_schema(
        summary="Invite someone by link (admin); the link is returned once",
        request=s.InvitationInput,
        responses={201: s.InvitationCreatedOutput, **ERRORS},
        tags=["members"],
    )
    def post(self, request: Request) -> Response:
        data = s.InvitationInput(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, token = services.invitation_create(actor=self.actor, **data.validated_data)
        body = {**s.InvitationOutput(invitation).data, "link": invitation_link(request, token)}
        return Response(body, status=status.HTTP_201_CREATED)


class InvitationRevokeView(ActorAPIView):
    @extend_schema(
        summary="Withdraw an open invitation (admin)",
        request=None,
        responses={200: s.InvitationOutput, **ERRORS},
        tags=["members"],
    )
    def post(self, request: Request, invitation_id: int) -> Response:
        invitation = selectors.invitation_get(actor=self.actor, invitation_id=invitation_id)
        services.invitation_revoke(actor=self.actor, invitation=invitation)
        return Response(s.InvitationOutput(invitation).data)


class KeysView(PagedActorView):
    queryset = SigningKey.objects.none()  # names the model for the schema; reads use selectors

    @extend_schema(
        summary="Your company's signing keys",
        responses=s.SigningKeyOutput(many=True),
        tags=["keys"],
    )
    def get(self, request: Request) -> Response:
        return self.paged(selectors.signing_keys_of(actor=self.actor), s.SigningKeyOutput)

    @extend_schema(
        summary="Register a public key the company holds (admin)",
        request=s.SigningKeyRegisterInput,
        responses={201: s.SigningKeyOutput, **ERRORS},
        tags=["keys"],
    )
    def post(self, request: Request) -> Response:
        data = s.SigningKeyRegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        key = services.signing_key_register(actor=self.actor, **data.validated_data)
        return Response(s.SigningKeyOutput(key).data, status=status.HTTP_201_CREATED)


class PlatformKeyView(ActorAPIView):
    @extend_schema(
        summary="Create a key the platform holds for the company (admin)",
        request=s.SigningKeyPlatformInput,
        responses={201: s.SigningKeyOutput, **ERRORS},
        tags=["keys"],
    )
    def post(self, request: Request) -> Response:
        data = s.SigningKeyPlatformInput(data=request.data)
        data.is_valid(raise_exception=True)
        key = services.signing_key_create_platform(actor=self.actor, **data.validated_data)
        return Response(s.SigningKeyOutput(key).data, status=status.HTTP_201_CREATED)


class KeyView(ActorAPIView):
    @extend_schema(
        summary="One signing key",
        responses={200: s.SigningKeyOutput, 404: ERRORS[404]},
        tags=["keys"],
    )
    def get(self, request: Request, kid: str) -> Response:
        return Response(
            s.SigningKeyOutput(selectors.signing_key_get(actor=self.actor, kid=kid)).data
        )


class KeyRevokeView(ActorAPIView):
    @extend_schema(
        summary="Revoke a key from now on (admin)",
        request=s.SigningKeyRevokeInput,
        responses={200: s.SigningKeyOutput, **ERRORS},
        tags=["keys"],
    )
    def post(self, request: Request, kid: str) -> Response:
        data = s.SigningKeyRevokeInput(data=request.data)
        data.is_valid(raise_exception=True)
        key = selectors.signing_key_get(actor=self.actor, kid=kid)
        key = services.signing_key_revoke(actor=self.actor, key=key, **data.validated_data)
        return Response(s.SigningKeyOutput(key).data)


class KeyRotateView(ActorAPIView):
    @extend_schema(
        summary="Replace a key: new key valid now, old one revoked as superseded (admin)",
        request=s.SigningKeyRotateInput,
        responses={201: s.SigningKeyOutput, **ERRORS},
        tags=["keys"],
    )
    def post(self, request: Request, kid: str) -> Response:
        data = s.SigningKeyRotateInput(data=request.data)
        data.is_valid(raise_exception=True)
        key = selectors.signing_key_get(actor=self.actor, kid=kid)
        new_key = services.signing_key_rotate(
            actor=self.actor,
            key=key,
            new_jwk=data.validated_data["jwk"],
            label=data.validated_data["label"],
        )
        return Response(s.SigningKeyOutput(new_key).data, status=status.HTTP_201_CREATED)


class ClientsView(PagedActorView):
    queryset = ApiClient.objects.none()  # names the model for the schema; reads use selectors

    @extend_schema(
        summary="Your company's API clients",
        responses=s.ApiClientOutput(many=True),
        tags=["clients"],
    )
    def get(self, request: Request) -> Response:
        return self.paged(selectors.api_clients_of(actor=self.actor), s.ApiClientOutput)

    @extend_schema(
        summary="Create an OAuth2 client-credentials client (admin); the secret is shown once",
        request=s.ApiClientInput,
        responses={201: s.ApiClientCreatedOutput, **ERRORS},
        tags=["clients"],
    )
    def post(self, request: Request) -> Response:
        data = s.ApiClientInput(data=request.data)
        data.is_valid(raise_exception=True)
        client, secret = services.api_client_create(actor=self.actor, **data.validated_data)
        body = {**s.ApiClientOutput(client).data, "client_secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class ClientRevokeView(ActorAPIView):
    @extend_schema(
        summary="Revoke an API client; its tokens stop working at once (admin)",
        request=None,
        responses={200: s.ApiClientOutput, **ERRORS},
        tags=["clients"],
    )
    def post(self, request: Request, client_id: str) -> Response:
        client = selectors.api_client_get(actor=self.actor, client_id=client_id)
        client = services.api_client_revoke(actor=self.actor, client=client)
        return Response(s.ApiClientOutput(client).data)


class OperatorCompaniesView(PagedActorView):
    queryset = Company.objects.none()  # names the model for the schema; reads use selectors

    @extend_schema(
        summary="All companies in the zone (operator)",
        responses=s.CompanyOperatorOutput(many=True),
        tags=["operator"],
    )
    def get(self, request: Request) -> Response:
        return self.paged(
            selectors.companies_for_operator(actor=self.actor), s.CompanyOperatorOutput
        )

    @extend_schema(
        summary="Onboard a company (operator admin)",
        request=s.CompanyOnboardInput,
        responses={201: s.CompanyOperatorOutput, **ERRORS},
        tags=["operator"],
    )
    def post(self, request: Request) -> Response:
        self.actor.require_operator(to="onboard companies")
        data = s.CompanyOnboardInput(data=request.data)
        data.is_valid(raise_exception=True)
        company = services.company_onboard(actor=self.actor, **data.validated_data)
        return Response(s.CompanyOperatorOutput(company).data, status=status.HTTP_201_CREATED)


class OperatorCompanyView(ActorAPIView):
    @extend_schema(
        summary="One company (operator)",
        responses={200: s.CompanyOperatorOutput, 404: ERRORS[404]},
        tags=["operator"],
    )
    def get(self, request: Request, slug: str) -> Response:
        company = selectors.company_get_for_operator(actor=self.actor, slug=slug)
        return Response(s.CompanyOperatorOutput(company).data)


class OperatorActivateView(ActorAPIView):
    @extend_schema(
        summary="Activate a pending company or reinstate a suspended one (operator admin)",
        request=None,
        responses={200: s.CompanyOperatorOutput, **ERRORS},
        tags=["operator"],
    )
    def post(self, request: Request, slug: str) -> Response:
        company = selectors.company_get_for_operator(actor=self.actor, slug=slug)
        company = services.company_activate(actor=self.actor, company=company)
        return Response(s.CompanyOperatorOutput(company).data)


class OperatorSuspendView(ActorAPIView):
    @extend_schema(
        summary="Suspend a company (operator admin)",
        request=s.SuspendInput,
        responses={200: s.CompanyOperatorOutput, **ERRORS},
        tags=["operator"],
    )
    def post(self, request: Request, slug: str) -> Response:
        data = s.SuspendInput(data=request.data)
        data.is_valid(raise_exception=True)
        company = selectors.company_get_for_operator(actor=self.actor, slug=slug)
        company = services.company_suspend(
            actor=self.actor, company=company, reason=data.validated_data["reason"]
        )
        return Response(s.CompanyOperatorOutput(company).data)


class OperatorInviteView(ActorAPIView):
    @extend_schema(
        summary="Invite a person into a company, e.g. its first admin (operator admin)",
        request=s.InvitationInput,
        responses={201: s.InvitationCreatedOutput, **ERRORS},
        tags=["operator"],
    )
    def post(self, request: Request, slug: str) -> Response:
        data = s.InvitationInput(data=request.data)
        data.is_valid(raise_exception=True)
        company = selectors.company_get_for_operator(actor=self.actor, slug=slug)
        invitation, token = services.invitation_create(
            actor=self.actor, company=company, **data.validated_data
        )
        body = {**s.InvitationOutput(invitation).data, "link": invitation_link(request, token)}
        return Response(body, status=status.HTTP_201_CREATED)
