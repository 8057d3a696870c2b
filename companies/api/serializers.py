"""Input and output serializers of the companies API (one pair per endpoint family)."""

from __future__ import annotations

from rest_framework import serializers

from companies.models import (
    ApiClient,
    Company,
    Invitation,
    MemberRole,
    Membership,
    RevocationReason,
    SigningKey,
)
from companies.services import COMPANY_ROLES


class CompanyOutput(serializers.ModelSerializer):
    identifiers = serializers.SerializerMethodField()
    roles = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Company
        fields = [
            "slug",
            "legal_name",
            "identifiers",
            "roles",
            "status",
            "contact_email",
            "website",
            "address",
            "created_at",
        ]

    def get_identifiers(self, company: Company) -> list[str]:
        return [identifier.urn for identifier in company.identifiers.all()]


class CompanyOperatorOutput(CompanyOutput):
    class Meta(CompanyOutput.Meta):
        fields = [*CompanyOutput.Meta.fields, "suspension_reason", "status_changed_at"]


class CompanyProfileInput(serializers.Serializer):
    contact_email = serializers.EmailField(allow_blank=True)
    website = serializers.URLField(allow_blank=True)
    address = serializers.CharField(allow_blank=True, max_length=300)


class CompanyOnboardInput(serializers.Serializer):
    legal_name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=60, required=False, allow_blank=True)
    identifiers = serializers.ListField(child=serializers.CharField(max_length=255), min_length=1)
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=COMPANY_ROLES), min_length=1
    )
    contact_email = serializers.EmailField(required=False, allow_blank=True, default="")
    website = serializers.URLField(required=False, allow_blank=True, default="")
    address = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    activate = serializers.BooleanField(required=False, default=False)


class SuspendInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class MembershipOutput(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    email = serializers.EmailField(source="user.email")

    class Meta:
        model = Membership
        fields = ["id", "username", "email", "role", "created_at"]


class MembershipRoleInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=MemberRole.choices)


class InvitationInput(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=MemberRole.choices)


class InvitationOutput(serializers.ModelSerializer):
    state = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "created_at", "expires_at", "accepted_at", "state"]

    def get_state(self, invitation: Invitation) -> str:
        if invitation.accepted_at:
            return "accepted"
        if invitation.revoked_at:
            return "withdrawn"
        from django.utils import timezone

        return "expired" if invitation.expires_at <= timezone.now() else "open"


class InvitationCreatedOutput(InvitationOutput):
    link = serializers.CharField(help_text="The invitation link; shown only now.")

    class Meta(InvitationOutput.Meta):
        fields = [*InvitationOutput.Meta.fields, "link"]


class SigningKeyOutput(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()

    class Meta:
        model = SigningKey
        fields = [
            "kid",
            "label",
            "public_jwk",
            "custody",
            "valid_from",
            "revoked_at",
            "revocation_reason",
            "status",
        ]

    def get_status(self, key: SigningKey) -> str:
        return "revoked" if key.is_revoked else "active"


class JwkField(serializers.JSONField):
    """A JWK object; its rules are checked by the service, which names the member."""


class SigningKeyRegisterInput(serializers.Serializer):
    jwk = JwkField(help_text='Ed25519 public key as a JWK: {"kty":"OKP","crv":"Ed25519","x":…}')
    label = serializers.CharField(  # type: ignore[assignment]  # "label" is also a Field attribute
        required=False, allow_blank=True, max_length=100, default=""
    )


class SigningKeyPlatformInput(serializers.Serializer):
    label = serializers.CharField(  # type: ignore[assignment]  # "label" is also a Field attribute
        required=False, allow_blank=True, max_length=100, default=""
    )


class SigningKeyRevokeInput(serializers.Serializer):
    reason = serializers.ChoiceField(choices=RevocationReason.choices)


class SigningKeyRotateInput(serializers.Serializer):
    jwk = JwkField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The new public JWK; omit it for a new platform-held key.",
    )
    label = serializers.CharField(  # type: ignore[assignment]  # "label" is also a Field attribute
        required=False, allow_blank=True, max_length=100, default=""
    )


class ApiClientOutput(serializers.ModelSerializer):
    client_id = serializers.CharField(read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = ApiClient
        fields = ["client_id", "name", "role", "created_at", "revoked_at", "status"]

    def get_status(self, client: ApiClient) -> str:
        return "revoked" if client.revoked_at else "active"


class ApiClientCreatedOutput(ApiClientOutput):
    client_secret = serializers.CharField(help_text="Shown only now; stored hashed.")

    class Meta(ApiClientOutput.Meta):
        fields = [*ApiClientOutput.Meta.fields, "client_secret"]


class ApiClientInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    role = serializers.ChoiceField(
        choices=[(MemberRole.EDITOR, "editor"), (MemberRole.VIEWER, "viewer")],
        default=MemberRole.EDITOR,
    )


class MeOutput(serializers.Serializer):
    actor = serializers.CharField()
    role = serializers.CharField()
    company = CompanyOutput()
    memberships = serializers.ListField(child=serializers.DictField(), required=False)
