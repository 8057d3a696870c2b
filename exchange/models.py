"""Products and their signed PACT v3 product carbon footprints."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Product(models.Model):
    """A supplier's product; footprints are declared for it."""

    company = models.ForeignKey(
        "companies.Company", on_delete=models.PROTECT, related_name="products"
    )
    name = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    classifications = models.JSONField(default=list, blank=True)  # URNs, e.g. urn:pact:cpc:…
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProductIdentifier(models.Model):
    """One product id (URN) of a product; unique within the company."""

    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="identifiers")
    urn = models.CharField(max_length=255)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "urn"], name="product_urn_unique_per_company"
            )
        ]

    def __str__(self) -> str:
        return self.urn


class FootprintStatus(models.TextChoices):
    ACTIVE = "Active", "Active"
    DEPRECATED = "Deprecated", "Deprecated"


class SubmissionChannel(models.TextChoices):
    API = "api", "API"
    PORTAL = "portal", "Portal form"
    BULK = "bulk", "Bulk upload"


class Footprint(models.Model):
    """A PACT v3 ProductFootprint as the supplier signed it.

    ``canonical_bytes`` are the exact RFC 8785 bytes the JWS signs, never rewritten;
    the only change after acceptance is ``status`` becoming Deprecated (recorded in the
    audit log). Columns beside the bytes are copies for queries.
    """

    pf_id = models.UUIDField(unique=True)
    company = models.ForeignKey(
        "companies.Company", on_delete=models.PROTECT, related_name="footprints"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="footprints")
    canonical_bytes = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    jws = models.TextField()
    signing_key = models.ForeignKey(
        "companies.SigningKey", on_delete=models.PROTECT, related_name="footprints"
    )
    platform_signed = models.BooleanField(default=False)
    status = models.CharField(
        max_length=12, choices=FootprintStatus.choices, default=FootprintStatus.ACTIVE
    )
    spec_version = models.CharField(max_length=16)
    product_name = models.CharField(max_length=500)
    declared_unit = models.CharField(max_length=32)
    pcf_excluding_biogenic_uptake = models.CharField(max_length=64)
    reference_period_start = models.DateTimeField()
    reference_period_end = models.DateTimeField()
    document_created = models.DateTimeField()
    preceding = models.ManyToManyField(
        "self", symmetrical=False, related_name="successors", blank=True
    )
    deprecated_at = models.DateTimeField(null=True, blank=True)
    deprecation_reason = models.CharField(max_length=500, blank=True)
    channel = models.CharField(max_length=8, choices=SubmissionChannel.choices)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_by_client = models.ForeignKey(
        "companies.ApiClient", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    # The PACT ``verification`` object served with the footprint, derived by the
    # verification app from the newest attestation in force, and when that one ends.
    verification = models.JSONField(null=True, blank=True, editable=False)
    verification_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["company", "status"]),
            models.Index(fields=["product", "-submitted_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.product_name} ({self.pf_id})"


class UploadStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partly stored"
    FAILED = "failed", "Failed"


class BulkUpload(models.Model):
    """A spreadsheet or signed JSON array of footprints, processed as a job.

    Progress (``rows_done`` of ``rows_total``) is committed as the job goes so the
    portal and API can show it; the footprints themselves are stored all at once.
    """

    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_client = models.ForeignKey(
        "companies.ApiClient", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=8)  # csv, xlsx, json
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    all_or_nothing = models.BooleanField(default=True)
    status = models.CharField(
        max_length=12, choices=UploadStatus.choices, default=UploadStatus.QUEUED
    )
    phase = models.CharField(max_length=40, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row", "column", "message"}]
    footprint_ids = models.JSONField(default=list, blank=True)
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"

    @property
    def percent(self) -> int:
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0
