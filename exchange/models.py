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
    # The newest attestation's outcome, whatever it is now ({state: verified / revoked /
    # expired, provider, standard, coverage, assurance, completed_at, until}), for
    # buyers' lists and exports; kept by the verification app.
    verification_record = models.JSONField(null=True, blank=True, editable=False)

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


# --- access: grants, zone publication, data requests ----------------------------------


class AccessGrant(models.Model):
    """A supplier lets a buyer company see one footprint, or every version of a product.

    A product grant covers the product's footprints present and future. Revoking ends
    the access from then on (what was pulled before is in the audit log).
    """

    supplier = models.ForeignKey(
        "companies.Company", on_delete=models.PROTECT, related_name="grants_given"
    )
    buyer = models.ForeignKey(
        "companies.Company", on_delete=models.PROTECT, related_name="grants_received"
    )
    footprint = models.ForeignKey(
        Footprint, null=True, blank=True, on_delete=models.PROTECT, related_name="grants"
    )
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="grants"
    )
    request = models.ForeignKey(
        "DataRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="grants"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["buyer", "revoked_at"]),
            models.Index(fields=["supplier", "buyer"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(footprint__isnull=False, product__isnull=True)
                | models.Q(footprint__isnull=True, product__isnull=False),
                name="grant_footprint_xor_product",
            ),
            models.CheckConstraint(
                condition=~models.Q(supplier=models.F("buyer")), name="grant_not_self"
            ),
            # One live grant per buyer and target: two concurrent grants cannot leave a
            # second row that outlives the revocation of the first.
            models.UniqueConstraint(
                fields=["buyer", "footprint"],
                condition=models.Q(revoked_at__isnull=True, footprint__isnull=False),
                name="grant_live_footprint_unique",
            ),
            models.UniqueConstraint(
                fields=["buyer", "product"],
                condition=models.Q(revoked_at__isnull=True, product__isnull=False),
                name="grant_live_product_unique",
            ),
        ]

    def __str__(self) -> str:
        target = (
            f"footprint {self.footprint_id}" if self.footprint_id else f"product {self.product_id}"
        )
        return f"{self.supplier_id} → {self.buyer_id}: {target}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ZonePublication(models.Model):
    """A footprint the supplier made visible to every company of the zone."""

    footprint = models.OneToOneField(
        Footprint, on_delete=models.PROTECT, related_name="zone_publication"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"zone: {self.footprint_id}"


class PartNumber(models.Model):
    """A buyer's own part number for a supplier's product (kept by the supplier)."""

    supplier = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+")
    buyer = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+")
    part_number = models.CharField(max_length=100)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="part_numbers")

    class Meta:
        ordering = ["part_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "buyer", "part_number"], name="part_number_unique"
            )
        ]

    def __str__(self) -> str:
        return self.part_number


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    FULFILLED = "fulfilled", "Fulfilled"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


class DataRequest(models.Model):
    """A buyer's request to a supplier for footprints.

    What is asked: product ids (URNs), a part number of the buyer's, and/or PACT filter
    criteria (``criteria``: productId, companyId, geography, classification, validOn,
    validAfter, validBefore, status, each a list). A request that came as a PACT
    RequestCreatedEvent keeps the event's id and source for the answer.
    """

    buyer = models.ForeignKey(
        "companies.Company", on_delete=models.PROTECT, related_name="requests_made"
    )
    supplier = models.ForeignKey(
        "companies.Company", on_delete=models.PROTECT, related_name="requests_received"
    )
    product_ids = models.JSONField(default=list, blank=True)
    part_number = models.CharField(max_length=100, blank=True)
    criteria = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True)
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    reason = models.TextField(blank=True)
    footprints = models.ManyToManyField(Footprint, blank=True, related_name="requests")
    event_id = models.CharField(max_length=200, blank=True)
    event_source = models.CharField(max_length=500, blank=True)
    answered_by_rule = models.ForeignKey(
        "AutoFulfilRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["supplier", "status"]),
            models.Index(fields=["buyer", "status"]),
        ]

    def __str__(self) -> str:
        return f"Request {self.pk} ({self.status})"


class AutoFulfilRule(models.Model):
    """The supplier answers this buyer's requests for these products by itself.

    No products: all of the supplier's products. ``only_verified``: only footprints
    with an attestation in force are given.
    """

    supplier = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+")
    buyer = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+")
    products = models.ManyToManyField(Product, blank=True, related_name="+")
    only_verified = models.BooleanField(default=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Auto-fulfil {self.supplier_id} → {self.buyer_id}"


# --- PACT partners and the outbox -------------------------------------------------------


class PartnerHost(models.Model):
    """An outside PACT host acting for a zone company: events from its ``base_url`` are
    accepted, and answers go to its ``/3/events`` with a token from its ``/auth/token``.

    The client secret the exchange uses there is kept encrypted under the
    key-encryption key (like platform-held signing keys) and never shown.
    """

    company = models.ForeignKey(
        "companies.Company", on_delete=models.PROTECT, related_name="partner_hosts"
    )
    base_url = models.URLField(max_length=300, unique=True)
    client_id = models.CharField(max_length=200)
    encrypted_client_secret = models.BinaryField(editable=False)
    wrapping_key_id = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)
    disabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["base_url"]

    def __str__(self) -> str:
        return self.base_url


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class OutboxMessage(models.Model):
    """A PACT event to deliver to a partner, written in the transaction that caused it
    (so a broker outage loses nothing) and retried with backoff until ``give_up_at``."""

    partner = models.ForeignKey(PartnerHost, on_delete=models.PROTECT, related_name="outbox")
    event_type = models.CharField(max_length=120)
    event = models.JSONField()  # the CloudEvent as it will be sent
    request = models.ForeignKey(
        DataRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox"
    )
    status = models.CharField(
        max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    give_up_at = models.DateTimeField()
    last_error = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.partner_id} ({self.status})"
