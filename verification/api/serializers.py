"""Input and output serializers of the verification API.

Inputs check shapes only (types, required fields, enumerations); the rules of the
workflow (accreditation, independence, states, digests, limits) are the services'.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from companies.models import Company
from exchange.models import Footprint, FootprintStatus
from verification import selectors
from verification.models import (
    Accreditation,
    AssuranceLevel,
    Attestation,
    Coverage,
    Engagement,
    EngagementEvent,
    Evidence,
    Finding,
    FindingMessage,
    Materiality,
    Opinion,
    SiteVisit,
    Standard,
    VisitMode,
    ZonePolicy,
)

ATTESTATION_STATES = [("valid", "Valid"), ("revoked", "Revoked"), ("expired", "Expired")]


# ---------------------------------------------------------------------------- shared


class CompanyRef(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = ["slug", "legal_name"]


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(help_text="Why; shown to the other party.")


class NoteInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class RequiredNoteInput(serializers.Serializer):
    note = serializers.CharField(help_text="What to change, or what was changed.")


# ---------------------------------------------------------------------- accreditation


class AccreditationSummary(serializers.ModelSerializer):
    """An accreditation as the zone registry shows it."""

    standards = serializers.ListField(child=serializers.CharField())
    sectors = serializers.ListField(
        child=serializers.CharField(), help_text="Classification URN prefixes covered."
    )

    class Meta:
        model = Accreditation
        fields = ["body", "reference", "standards", "sectors", "valid_from", "valid_until"]


class AccreditationOutput(AccreditationSummary):
    verifier = CompanyRef()

    class Meta(AccreditationSummary.Meta):
        fields = [
            "id",
            "verifier",
            *AccreditationSummary.Meta.fields,
            "suspended_at",
            "suspension_reason",
            "created_at",
        ]


class AccreditationInput(serializers.Serializer):
    verifier = serializers.CharField(help_text="The verifier company's slug.")
    body = serializers.CharField(help_text="The accreditation body, e.g. DAkkS.")
    reference = serializers.CharField(help_text="The body's reference of the accreditation.")
    standards = serializers.ListField(
        child=serializers.CharField(),
        help_text="Standards covered: " + "; ".join(Standard.values) + ".",
    )
    sectors = serializers.ListField(
        child=serializers.CharField(),
        help_text="Classification URN prefixes, e.g. urn:pact:cpc:41.",
    )
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()


class VerifierOutput(serializers.ModelSerializer):
    identifiers = serializers.SerializerMethodField()
    accreditations = serializers.SerializerMethodField(help_text="Accreditations in force.")

    class Meta:
        model = Company
        fields = ["slug", "legal_name", "identifiers", "accreditations"]

    def get_identifiers(self, company: Company) -> list[str]:
        return [identifier.urn for identifier in company.identifiers.all()]

    def get_accreditations(self, company: Company) -> list[dict[str, Any]]:
        in_force = getattr(company, "accreditations_in_force", None)
        if in_force is None:
            in_force = list(selectors.accreditations_in_force().filter(verifier=company))
        return list(AccreditationSummary(in_force, many=True).data)


class ZonePolicyOutput(serializers.ModelSerializer):
    class Meta:
        model = ZonePolicy
        fields = ["max_consecutive_years", "updated_at"]


class ZonePolicyInput(serializers.Serializer):
    max_consecutive_years = serializers.IntegerField(
        allow_null=True,
        help_text="A verifier may attest the same supplier in at most this many "
        "consecutive calendar years; null: no rotation rule.",
    )


# ------------------------------------------------------------------------ engagements


class EngagementInput(serializers.Serializer):
    verifier = serializers.CharField(help_text="The verifier company's slug (see /verifiers).")
    footprint_ids = serializers.ListField(
        child=serializers.CharField(), help_text="Ids of your active footprints to verify."
    )
    standard = serializers.ChoiceField(choices=Standard.choices)
    assurance_level = serializers.ChoiceField(choices=AssuranceLevel.choices)
    coverage = serializers.ChoiceField(choices=Coverage.choices)
    message = serializers.CharField(required=False, allow_blank=True, default="")


class EngagementSummary(serializers.ModelSerializer):
    supplier = CompanyRef()
    verifier = CompanyRef()
    footprint_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Engagement
        fields = [
            "id",
            "supplier",
            "verifier",
            "standard",
            "assurance_level",
            "coverage",
            "state",
            "state_reason",
            "footprint_count",
            "requested_at",
            "state_changed_at",
            "attested_at",
            "valid_until",
        ]


class EngagementFootprint(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=FootprintStatus.choices)

    class Meta:
        model = Footprint
        fields = ["pf_id", "product_name", "sha256", "status"]


class EventOutput(serializers.ModelSerializer):
    by = serializers.CharField(source="by_company.slug", help_text="The acting company.")

    class Meta:
        model = EngagementEvent
        fields = ["from_state", "to_state", "note", "by", "at"]


class FindingMessageOutput(serializers.ModelSerializer):
    by = serializers.CharField(source="by_company.slug", help_text="The writing company.")

    class Meta:
        model = FindingMessage
        fields = ["body", "by", "at"]


class FindingOutput(serializers.ModelSerializer):
    open = serializers.BooleanField(source="is_open")
    messages = FindingMessageOutput(many=True)

    class Meta:
        model = Finding
        fields = ["number", "title", "materiality", "open", "resolved_at", "created_at", "messages"]


class FindingInput(serializers.Serializer):
    title = serializers.CharField()
    materiality = serializers.ChoiceField(choices=Materiality.choices)
    body = serializers.CharField(help_text="The finding itself: what is wrong and why.")


class ReplyInput(serializers.Serializer):
    body = serializers.CharField()


class SiteVisitOutput(serializers.ModelSerializer):
    class Meta:
        model = SiteVisit
        fields = ["date", "mode", "location", "notes", "recorded_at"]


class SiteVisitInput(serializers.Serializer):
    date = serializers.DateField()
    mode = serializers.ChoiceField(choices=VisitMode.choices)
    location = serializers.CharField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class EvidenceOutput(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = [
            "id",
            "file_name",
            "content_type",
            "size",
            "sha256",
            "description",
            "uploaded_at",
        ]


class EvidenceInput(serializers.Serializer):
    file = serializers.FileField(help_text="PDF, XLSX, CSV, PNG or JPEG.")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class AttestationRef(serializers.ModelSerializer):
    footprint_id = serializers.UUIDField(source="footprint.pf_id")
    state = serializers.SerializerMethodField(help_text="valid, revoked or expired")

    class Meta:
        model = Attestation
        fields = [
            "credential_id",
            "footprint_id",
            "state",
            "issued_at",
            "valid_until",
            "revoked_at",
        ]

    def get_state(self, attestation: Attestation) -> str:
        return selectors.attestation_state(attestation)


class EngagementDetail(EngagementSummary):
    footprints = serializers.SerializerMethodField()
    events = EventOutput(many=True)
    findings = serializers.SerializerMethodField()
    site_visits = SiteVisitOutput(many=True)
    evidence = serializers.SerializerMethodField(help_text="Metadata only; download by id.")
    attestations = AttestationRef(many=True)

    class Meta(EngagementSummary.Meta):
        fields = [
            *EngagementSummary.Meta.fields,
            "message",
            "footprints",
            "events",
            "findings",
            "site_visits",
            "evidence",
            "attestations",
        ]

    def get_footprints(self, engagement: Engagement) -> list[dict[str, Any]]:
        footprints = selectors.engagement_footprints(engagement)
        return list(EngagementFootprint(footprints, many=True).data)

    def get_findings(self, engagement: Engagement) -> list[dict[str, Any]]:
        return list(FindingOutput(selectors.findings_of(engagement), many=True).data)

    def get_evidence(self, engagement: Engagement) -> list[dict[str, Any]]:
        return list(EvidenceOutput(selectors.evidence_of(engagement), many=True).data)


# ---------------------------------------------------------------------- attestations


class AttestInput(serializers.Serializer):
    boundary = serializers.CharField(help_text="e.g. cradle-to-gate")
    materiality_threshold = serializers.CharField(help_text="e.g. 5%")
    opinion = serializers.ChoiceField(choices=Opinion.choices)
    opinion_text = serializers.CharField()
    valid_until = serializers.DateField(help_text="The credentials' last valid day (UTC).")
    footprint_digests = serializers.DictField(
        child=serializers.CharField(),
        help_text="Footprint id → the SHA-256 you reviewed, for exactly the engagement's "
        "footprints.",
    )
    kid = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="The platform-held key to sign with; the newest active one if empty.",
    )


class CredentialOutput(serializers.Serializer):
    credential_id = serializers.CharField()
    footprint_id = serializers.UUIDField()
    credential = serializers.JSONField(help_text="The signed Verifiable Credential.")


class AttestedOutput(serializers.Serializer):
    engagement = EngagementSummary()
    credentials = CredentialOutput(many=True)


class DraftCredential(serializers.Serializer):
    footprint_id = serializers.UUIDField()
    footprint_sha256 = serializers.CharField()
    document = serializers.JSONField(
        help_text="The credential as it will be signed, but for the fields assigned at signing."
    )


class DraftOutput(serializers.Serializer):
    engagement = serializers.IntegerField()
    accreditation = AccreditationSummary()
    assigned_at_signing = serializers.DictField(
        child=serializers.CharField(),
        help_text="The fields added when signing, with what each will hold.",
    )
    credentials = DraftCredential(many=True)


class AttestationOutput(serializers.ModelSerializer):
    engagement = serializers.IntegerField(source="engagement_id")
    footprint_id = serializers.UUIDField(source="footprint.pf_id")
    product_name = serializers.CharField(source="footprint.product_name")
    verifier = CompanyRef()
    supplier = CompanyRef(source="engagement.supplier")
    state = serializers.SerializerMethodField(help_text="valid, revoked or expired")

    class Meta:
        model = Attestation
        fields = [
            "credential_id",
            "engagement",
            "footprint_id",
            "product_name",
            "footprint_sha256",
            "verifier",
            "supplier",
            "state",
            "issued_at",
            "valid_until",
            "revoked_at",
            "revocation_reason",
        ]

    def get_state(self, attestation: Attestation) -> str:
        return selectors.attestation_state(attestation)
