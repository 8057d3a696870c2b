"""Accreditation, verification engagements, evidence, findings and attestations.

An *engagement* is a supplier asking an accredited verifier to verify one or more of
its footprints against a standard at an assurance level. Its life is a state machine
(``verification.services`` holds every transition and its guards); the verifier's
conclusion is an *attestation*: a W3C Verifiable Credential per footprint, signed by
a key of the verifier company, whose revocation is published in a Bitstring Status
List the platform signs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Standard(models.TextChoices):
    ISO_14067 = "ISO 14067", "ISO 14067 (product carbon footprint)"
    ISO_14064_3 = "ISO 14064-3", "ISO 14064-3 (verification of GHG statements)"
    ISAE_3410 = "ISAE 3410", "ISAE 3410 (assurance on GHG statements)"
    PACT = "PACT Methodology", "PACT Methodology"
    CATENA_X = "Catena-X PCF Rulebook", "Catena-X / TfS PCF verification"
    CBAM = "CBAM verification", "EU CBAM verification (Reg. 2025/2546)"


#: Standards whose verification rules want a site visit before an attestation.
SITE_VISIT_STANDARDS = frozenset({Standard.CBAM})


class AssuranceLevel(models.TextChoices):
    LIMITED = "limited", "Limited assurance"
    REASONABLE = "reasonable", "Reasonable assurance"


class Coverage(models.TextChoices):
    """What a verification statement covers (PACT's verification.coverage values)."""

    CALCULATION_MODEL = "PCF calculation model", "PCF calculation model"
    PROGRAM = "PCF program", "PCF program"
    PRODUCT = "product level", "Product level"


class Opinion(models.TextChoices):
    UNQUALIFIED = "unqualified", "Unqualified (no material misstatement)"
    QUALIFIED = "qualified", "Qualified (with exceptions stated)"


class Accreditation(models.Model):
    """A verifier accredited by a named body for standards and sectors, for a window.

    ``sectors`` are classification prefixes (``urn:pact:cpc:41``): a product is in the
    sector when one of its classification URNs starts with one of them.
    """

    verifier = models.ForeignKey(
        "companies.Company", on_delete=models.PROTECT, related_name="accreditations"
    )
    body = models.CharField(max_length=200)
    reference = models.CharField(max_length=100)
    standards = models.JSONField(default=list)
    sectors = models.JSONField(default=list)
    valid_from = models.DateField()
    valid_until = models.DateField()
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-valid_until", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["body", "reference"], name="accreditation_unique_ref"),
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")),
                name="accreditation_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.body} {self.reference}"


class ZonePolicy(models.Model):
    """Zone-wide verification rules the operator sets (one row)."""

    #: A verifier may attest the same supplier in at most this many consecutive
    #: calendar years; None: no rotation rule.
    max_consecutive_years = models.PositiveSmallIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"max {self.max_consecutive_years} consecutive years"


class EngagementState(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    ATTESTED = "attested", "Attested"
    REFUSED = "refused", "Refused"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


#: States in which the engagement is still being worked on.
OPEN_STATES = frozenset(
    {
        EngagementState.REQUESTED,
        EngagementState.ACCEPTED,
        EngagementState.IN_REVIEW,
        EngagementState.CHANGES_REQUESTED,
    }
)


class Engagement(models.Model):
    supplier = models.ForeignKey(
        "companies.Company", on_delete=models.PROTECT, related_name="engagements_as_supplier"
    )
    verifier = models.ForeignKey(
        "companies.Company", on_delete=models.PROTECT, related_name="engagements_as_verifier"
    )
    footprints = models.ManyToManyField("exchange.Footprint", related_name="engagements")
    standard = models.CharField(max_length=32, choices=Standard.choices)
    assurance_level = models.CharField(max_length=12, choices=AssuranceLevel.choices)
    coverage = models.CharField(max_length=24, choices=Coverage.choices)
    message = models.TextField(blank=True)
    state = models.CharField(
        max_length=20, choices=EngagementState.choices, default=EngagementState.REQUESTED
    )
    state_reason = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    state_changed_at = models.DateTimeField(auto_now_add=True)
    attested_at = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-state_changed_at", "-id"]
        indexes = [
            models.Index(fields=["verifier", "state"]),
            models.Index(fields=["supplier", "state"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(supplier=models.F("verifier")), name="engagement_not_self"
            )
        ]

    def __str__(self) -> str:
        return f"Engagement {self.pk} ({self.standard}, {self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class EngagementEvent(models.Model):
    """One step of an engagement's history, as the parties see it (the audit log has
    the same steps, pseudonymous and hash-chained)."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20)
    note = models.TextField(blank=True)
    by_company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="+")
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.engagement_id}: {self.from_state} -> {self.to_state}"


class Evidence(models.Model):
    """A file the supplier gives the verifier; served only to the engagement's parties."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="evidence")
    file_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    description = models.CharField(max_length=500, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.file_name


class Materiality(models.TextChoices):
    MATERIAL = "material", "Material"
    IMMATERIAL = "immaterial", "Immaterial"


class Finding(models.Model):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="findings")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    materiality = models.CharField(max_length=12, choices=Materiality.choices)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "number"], name="finding_number_unique")
        ]

    def __str__(self) -> str:
        return f"Finding {self.number}: {self.title}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class FindingMessage(models.Model):
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="messages")
    body = models.TextField()
    by_company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="+")
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"Message on finding {self.finding_id}"


class VisitMode(models.TextChoices):
    PHYSICAL = "physical", "Physical"
    VIRTUAL = "virtual", "Virtual"


class SiteVisit(models.Model):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="site_visits")
    date = models.DateField()
    mode = models.CharField(max_length=8, choices=VisitMode.choices)
    location = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "id"]

    def __str__(self) -> str:
        return f"{self.mode} visit on {self.date}"


class StatusList(models.Model):
    """One Bitstring Status List (revocation): ``size`` bits, handed out in order."""

    purpose = models.CharField(max_length=16, default="revocation")
    size = models.PositiveIntegerField()
    next_index = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Status list {self.pk} ({self.purpose})"


class Attestation(models.Model):
    """A signed credential for one footprint of an attested engagement.

    ``credential`` holds the exact JSON bytes that were signed and are served; the
    columns beside it are copies for queries.
    """

    credential_id = models.CharField(max_length=64, unique=True)  # urn:uuid:…
    engagement = models.ForeignKey(
        Engagement, on_delete=models.PROTECT, related_name="attestations"
    )
    footprint = models.ForeignKey(
        "exchange.Footprint", on_delete=models.PROTECT, related_name="attestations"
    )
    verifier = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="+")
    signing_key = models.ForeignKey(
        "companies.SigningKey", on_delete=models.PROTECT, related_name="attestations"
    )
    credential = models.BinaryField()
    footprint_sha256 = models.CharField(max_length=64)
    issued_at = models.DateTimeField()
    valid_until = models.DateTimeField()
    status_list = models.ForeignKey(StatusList, on_delete=models.PROTECT, related_name="+")
    status_index = models.PositiveIntegerField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status_list", "status_index"], name="attestation_status_slot_unique"
            ),
            models.UniqueConstraint(
                fields=["engagement", "footprint"], name="attestation_one_per_footprint"
            ),
        ]

    def __str__(self) -> str:
        return self.credential_id
