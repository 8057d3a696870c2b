"""Companies, the people in them, their signing keys and their machine clients."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class CompanyStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"


class Company(models.Model):
    """A legal entity in the zone, acting in one or more roles.

    ``slug`` is its stable handle (URLs, audit entries); it never changes after creation.
    """

    slug = models.SlugField(max_length=60, unique=True)
    legal_name = models.CharField(max_length=200)
    contact_email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    address = models.CharField(max_length=300, blank=True)
    is_supplier = models.BooleanField(default=False)
    is_buyer = models.BooleanField(default=False)
    is_verifier = models.BooleanField(default=False)
    is_operator = models.BooleanField(default=False)
    status = models.CharField(
        max_length=16, choices=CompanyStatus.choices, default=CompanyStatus.PENDING
    )
    suspension_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["legal_name"]
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return self.legal_name

    @property
    def roles(self) -> list[str]:
        """The company's roles in a stable order, as used by the API."""
        flags = {
            "supplier": self.is_supplier,
            "buyer": self.is_buyer,
            "verifier": self.is_verifier,
            "operator": self.is_operator,
        }
        return [role for role, held in flags.items() if held]

    @property
    def is_suspended(self) -> bool:
        return self.status == CompanyStatus.SUSPENDED


class IdentifierScheme(models.TextChoices):
    USCC = "uscc", "Unified Social Credit Code"
    LEI = "lei", "Legal Entity Identifier"
    URN = "urn", "Other URN"


class CompanyIdentifier(models.Model):
    """One identifier of a company, stored as a URN (PACT ``companyIds``).

    The URN is unique across the zone: two companies cannot claim the same identifier.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="identifiers")
    scheme = models.CharField(max_length=8, choices=IdentifierScheme.choices)
    urn = models.CharField(max_length=255, unique=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.urn


class MemberRole(models.TextChoices):
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


# Higher rank includes every right of a lower rank.
ROLE_RANK = {MemberRole.VIEWER: 1, MemberRole.EDITOR: 2, MemberRole.ADMIN: 3}


class Membership(models.Model):
    """A person's role inside one company; a person may belong to several companies."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=8, choices=MemberRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["company__legal_name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "company"], name="one_membership_per_company")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company} ({self.role})"


class Invitation(models.Model):
    """An invitation by link to join a company with a role.

    Only the SHA-256 of the link's token is stored; the link itself is shown once to
    the person who made it.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=8, choices=MemberRole.choices)
    token_sha256 = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.company}"


class KeyCustody(models.TextChoices):
    OWN = "own", "Held by the company"
    PLATFORM = "platform", "Held by the platform"


class RevocationReason(models.TextChoices):
    SUPERSEDED = "superseded", "Superseded by a newer key"
    COMPROMISED = "compromised", "Compromised"
    RETIRED = "retired", "No longer used"


class SigningKey(models.Model):
    """An Ed25519 key a company signs with; ``kid`` is the RFC 7638 thumbprint.

    A key verifies data signed from ``valid_from`` until ``revoked_at``. Platform-held
    keys keep their private half encrypted (AES-256-GCM) under a key-encryption key from
    the environment, named by ``wrapping_key_id`` so that key can be rotated.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="signing_keys")
    kid = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=100, blank=True)
    public_jwk = models.JSONField()
    custody = models.CharField(max_length=8, choices=KeyCustody.choices)
    encrypted_private_key = models.BinaryField(null=True, blank=True, editable=False)
    wrapping_key_id = models.CharField(max_length=32, blank=True)
    valid_from = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(
        max_length=16, choices=RevocationReason.choices, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(custody="own", encrypted_private_key__isnull=True)
                | Q(custody="platform", encrypted_private_key__isnull=False),
                name="private_key_only_for_platform_custody",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revocation_reason=""),
                name="revocation_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company.slug}:{self.kid}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class ApiClient(models.Model):
    """A machine client (OAuth2 client credentials) acting for exactly one company.

    The OAuth2 application row (django-oauth-toolkit) holds the client id and the hashed
    secret; this row ties it to the company and the role it acts with.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="api_clients")
    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="api_client",
    )
    name = models.CharField(max_length=100)
    role = models.CharField(
        max_length=8,
        choices=[(MemberRole.EDITOR, "Editor"), (MemberRole.VIEWER, "Viewer")],
        default=MemberRole.EDITOR,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.company.slug})"

    @property
    def client_id(self) -> str:
        return self.application.client_id
