"""Input and output serializers of the sharing API: received footprints, grants, zone
publication, part numbers, data requests and auto-fulfil rules.

Inputs check shapes only (types, lengths a column imposes); every business rule
(who may, which company, which state) is the services' (``exchange.sharing``), so
the portal, the API and PACT events refuse the same things with the same messages.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers

from exchange.api.serializers import FootprintSummary
from exchange.models import (
    AccessGrant,
    AutoFulfilRule,
    DataRequest,
    Footprint,
    PartNumber,
    RequestStatus,
)

# ----------------------------------------------------------------------------- outputs


class ReceivedFootprintOutput(serializers.ModelSerializer):
    """Another company's footprint your company may see (granted or published)."""

    id = serializers.UUIDField(source="pf_id")
    supplier = serializers.CharField(source="company.slug", help_text="the supplier's slug")
    supplier_name = serializers.CharField(source="company.legal_name")
    product_ids = serializers.SerializerMethodField()
    verified = serializers.SerializerMethodField(
        help_text="Whether an attestation is in force (the document's `verification`)."
    )

    class Meta:
        model = Footprint
        fields = [
            "id",
            "supplier",
            "supplier_name",
            "product_name",
            "product_ids",
            "status",
            "declared_unit",
            "pcf_excluding_biogenic_uptake",
            "reference_period_start",
            "reference_period_end",
            "sha256",
            "verified",
            "submitted_at",
            "deprecated_at",
        ]

    def get_product_ids(self, footprint: Footprint) -> list[str]:
        return [identifier.urn for identifier in footprint.product.identifiers.all()]

    def get_verified(self, footprint: Footprint) -> bool:
        until = footprint.verification_until
        return bool(footprint.verification) and (until is None or until > timezone.now())


class GrantOutput(serializers.ModelSerializer):
    supplier = serializers.CharField(source="supplier.slug")
    buyer = serializers.CharField(source="buyer.slug")
    footprint = serializers.SerializerMethodField(
        help_text="the footprint id, for a footprint grant"
    )
    product = serializers.IntegerField(
        source="product_id", allow_null=True, help_text="the product id, for a product grant"
    )
    product_name = serializers.SerializerMethodField()
    request = serializers.IntegerField(source="request_id", allow_null=True)
    active = serializers.BooleanField(source="is_active")

    class Meta:
        model = AccessGrant
        fields = [
            "id",
            "supplier",
            "buyer",
            "footprint",
            "product",
            "product_name",
            "request",
            "active",
            "created_at",
            "revoked_at",
            "revocation_reason",
        ]

    def get_footprint(self, grant: AccessGrant) -> str | None:
        return str(grant.footprint.pf_id) if grant.footprint else None

    def get_product_name(self, grant: AccessGrant) -> str:
        if grant.footprint is not None:
            return grant.footprint.product_name
        return grant.product.name if grant.product else ""


class PublicationOutput(serializers.Serializer):
    footprint = serializers.UUIDField()
    published = serializers.BooleanField(help_text="Whether every company of the zone sees it.")
    published_at = serializers.DateTimeField(allow_null=True)


class PartNumberOutput(serializers.ModelSerializer):
    buyer = serializers.CharField(source="buyer.slug")
    product = serializers.IntegerField(source="product_id")
    product_name = serializers.CharField(source="product.name")

    class Meta:
        model = PartNumber
        fields = ["id", "buyer", "part_number", "product", "product_name"]


class RequestOutput(serializers.ModelSerializer):
    buyer = serializers.CharField(source="buyer.slug")
    buyer_name = serializers.CharField(source="buyer.legal_name")
    supplier = serializers.CharField(source="supplier.slug")
    supplier_name = serializers.CharField(source="supplier.legal_name")
    footprints = serializers.SerializerMethodField(
        help_text="Footprints sent in answer; the buyer sees those it may still see."
    )
    answered_by_rule = serializers.IntegerField(source="answered_by_rule_id", allow_null=True)
    matches = serializers.SerializerMethodField(
        help_text="The supplier's active footprints answering the request (newest version "
        "of each product): in the supplier's view of one request only; null otherwise."
    )

    class Meta:
        model = DataRequest
        fields = [
            "id",
            "buyer",
            "buyer_name",
            "supplier",
            "supplier_name",
            "product_ids",
            "part_number",
            "criteria",
            "comment",
            "due_date",
            "status",
            "reason",
            "footprints",
            "answered_by_rule",
            "created_at",
            "answered_at",
            "matches",
        ]

    def get_matches(self, request: DataRequest) -> list[dict[str, Any]] | None:
        matches = self.context.get("matches")
        if matches is None:
            return None
        return list(FootprintSummary(matches, many=True).data)

    def get_footprints(self, request: DataRequest) -> list[str]:
        # The supplier sees what it sent; the buyer only what it may still see (a
        # revoked grant ends that), given as ``visible`` (footprint pks) by the view.
        company_id = self.context.get("company_id")
        visible: set[int] = self.context.get("visible", set())
        return [
            str(fp.pf_id)
            for fp in request.footprints.all()
            if request.supplier_id == company_id or fp.pk in visible
        ]


class AutoRuleOutput(serializers.ModelSerializer):
    buyer = serializers.CharField(source="buyer.slug")
    products = serializers.SerializerMethodField(help_text="product ids; empty: every product")

    class Meta:
        model = AutoFulfilRule
        fields = ["id", "buyer", "products", "only_verified", "active", "created_at"]

    def get_products(self, rule: AutoFulfilRule) -> list[int]:
        return sorted(product.pk for product in rule.products.all())


# ------------------------------------------------------------------------------ inputs


class GrantInput(serializers.Serializer):
    buyer = serializers.CharField(max_length=100, help_text="the buyer company's slug")
    footprint_id = serializers.CharField(
        required=False, allow_null=True, default=None, help_text="one footprint (its id)"
    )
    product_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="a product: every version, present and future",
    )


class GrantRevokeInput(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="kept with the grant"
    )


class RequestRejectInput(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="why, for the buyer"
    )


class PartNumberInput(serializers.Serializer):
    buyer = serializers.CharField(max_length=100, help_text="the buyer company's slug")
    part_number = serializers.CharField(allow_blank=True, help_text="the buyer's part number")
    product_id = serializers.IntegerField(help_text="your product it stands for")


class RequestInput(serializers.Serializer):
    supplier = serializers.CharField(max_length=100, help_text="the supplier company's slug")
    product_ids = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text="product URNs"
    )
    part_number = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="your own part number"
    )
    criteria = serializers.DictField(
        required=False,
        default=dict,
        help_text="PACT ListFootprints filters: productId, companyId, geography, "
        "classification, validOn, validAfter, validBefore, status (each a list of strings)",
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    due_date = serializers.DateField(required=False, allow_null=True, default=None)


class FulfilInput(serializers.Serializer):
    footprint_ids = serializers.ListField(child=serializers.CharField())
    whole_product = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Grant the footprints' products, so later versions follow.",
    )


class AutoRuleInput(serializers.Serializer):
    buyer = serializers.CharField(max_length=100, help_text="the buyer company's slug")
    product_ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, help_text="none: all"
    )
    only_verified = serializers.BooleanField(required=False, default=True)


STATUS_CHOICES = list(RequestStatus.values)
