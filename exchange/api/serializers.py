"""Input and output serializers of the footprint API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from exchange.models import BulkUpload, Footprint, Product
from exchange.selectors import footprint_document


class ProductOutput(serializers.ModelSerializer):
    product_ids = serializers.SerializerMethodField()
    footprint_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Product
        fields = ["id", "name", "description", "product_ids", "classifications", "footprint_count"]

    def get_product_ids(self, product: Product) -> list[str]:
        return [identifier.urn for identifier in product.identifiers.all()]


class ProductInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    product_ids = serializers.ListField(child=serializers.CharField(max_length=255), min_length=1)
    classifications = serializers.ListField(
        child=serializers.CharField(max_length=255), required=False, default=list
    )


class FootprintSummary(serializers.ModelSerializer):
    id = serializers.UUIDField(source="pf_id")
    product = serializers.IntegerField(source="product_id")
    kid = serializers.CharField(source="signing_key.kid")

    class Meta:
        model = Footprint
        fields = [
            "id",
            "product",
            "product_name",
            "status",
            "declared_unit",
            "pcf_excluding_biogenic_uptake",
            "reference_period_start",
            "reference_period_end",
            "sha256",
            "kid",
            "platform_signed",
            "channel",
            "submitted_at",
            "deprecated_at",
            "deprecation_reason",
        ]


class BatchReceipt(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=["Active", "Deprecated"])
    sha256 = serializers.CharField(help_text="SHA-256 of the stored canonical bytes")
    created = serializers.BooleanField(help_text="False when the footprint was already stored.")


class FootprintDetail(FootprintSummary):
    document = serializers.SerializerMethodField(help_text="The footprint as served (PACT v3).")
    jws = serializers.CharField(help_text="The supplier's JWS exactly as received.")
    preceding = serializers.SerializerMethodField()
    successors = serializers.SerializerMethodField()

    class Meta(FootprintSummary.Meta):
        fields = [*FootprintSummary.Meta.fields, "document", "jws", "preceding", "successors"]

    def get_document(self, footprint: Footprint) -> dict[str, Any]:
        return footprint_document(footprint)

    def get_preceding(self, footprint: Footprint) -> list[str]:
        return [str(p.pf_id) for p in footprint.preceding.all()]

    def get_successors(self, footprint: Footprint) -> list[str]:
        return [str(p.pf_id) for p in footprint.successors.all()]


class SubmitInput(serializers.Serializer):
    jws = serializers.CharField(
        help_text="JWS compact serialisation (Ed25519) over the footprint's RFC 8785 bytes; "
        "payload attached, or detached with `footprint` given."
    )
    footprint = serializers.JSONField(
        required=False, help_text="The ProductFootprint, when the JWS payload is detached."
    )


class DeprecateInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class SignInput(serializers.Serializer):
    footprint = serializers.JSONField(help_text="The ProductFootprint to sign.")


class SignOutput(serializers.Serializer):
    jws = serializers.CharField()
    canonical = serializers.CharField(help_text="The RFC 8785 bytes that are signed (UTF-8).")
    sha256 = serializers.CharField()
    kid = serializers.CharField()


class UploadOutput(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    error_count = serializers.SerializerMethodField()

    class Meta:
        model = BulkUpload
        fields = [
            "id",
            "file_name",
            "file_format",
            "sha256",
            "all_or_nothing",
            "status",
            "phase",
            "rows_total",
            "rows_done",
            "percent",
            "message",
            "error_count",
            "errors",
            "footprint_ids",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_error_count(self, upload: BulkUpload) -> int:
        return len(upload.errors)


class UploadInput(serializers.Serializer):
    file = serializers.FileField(help_text=".csv or .xlsx (template), or .json (signed array)")
    all_or_nothing = serializers.BooleanField(required=False, default=True)
