"""Platform API for verification (``/api/v1/``): the verifier registry, accreditations
and the zone policy (operator), engagements from request to attestation, evidence,
findings, site visits and the signed credentials.

Every write is one service call; reads go through the selectors, so an engagement
is visible to its two parties only and a wrong side is refused as the services say.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from companies import selectors as company_selectors
from companies.access import Actor
from companies.api.base import ActorAPIView, choice_param
from companies.api.views import ERRORS, PagedActorView
from companies.errors import NotFound, PermissionDenied, ValidationFailed
from companies.models import Company
from exchange.api.parsers import StrictJSONParser
from verification import bundle, downloads, selectors, services
from verification.api import serializers as s
from verification.models import (
    Accreditation,
    Attestation,
    Engagement,
    EngagementState,
    Finding,
    Standard,
)

TAGS = ["verification"]
CONFLICT = {409: OpenApiResponse(description="Not possible in the engagement's current state.")}
NOT_FOUND = {404: ERRORS[404]}

#: What ``engagement_attest`` adds to each draft when it signs.
ASSIGNED_AT_SIGNING = {
    "id": "a fresh urn:uuid: identifier of the credential",
    "validFrom": "the moment of signing (UTC)",
    "credentialStatus": "a BitstringStatusListEntry: a slot in a revocation status list",
    "proof": "a DataIntegrityProof (eddsa-jcs-2022) by the verifier's platform-held key",
}


def _validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _detail(engagement: Engagement, actor: Actor) -> dict[str, Any]:
    """The engagement as its parties see it, read afresh after a change."""
    fresh = (
        selectors.engagements_of(actor=actor)
        .annotate(footprint_count=Count("footprints"))
        .prefetch_related(
            "events__by_company",
            "site_visits",
            Prefetch(
                "attestations",
                queryset=Attestation.objects.select_related("footprint").order_by(
                    "footprint__product_name", "id"
                ),
            ),
        )
        .get(pk=engagement.pk)
    )
    return dict(s.EngagementDetail(fresh).data)


def _engagement(view: ActorAPIView, engagement_id: int) -> Engagement:
    return selectors.engagement_get(actor=view.actor, engagement_id=engagement_id)


def _finding(view: ActorAPIView, engagement_id: int, number: int) -> Finding:
    engagement = _engagement(view, engagement_id)
    return selectors.finding_get(engagement=engagement, number=number)


def _finding_data(finding: Finding) -> dict[str, Any]:
    fresh = selectors.findings_of(finding.engagement).get(pk=finding.pk)
    return dict(s.FindingOutput(fresh).data)


# --------------------------------------------------------------------------- registry


class VerifiersView(PagedActorView):
    queryset = Company.objects.none()  # names the model for the schema; reads use selectors

    @extend_schema(
        summary="The zone's accredited verifiers, optionally for a standard and a sector",
        parameters=[
            OpenApiParameter("standard", str, enum=Standard.values),
            OpenApiParameter(
                "sector", str, description="A product classification URN the verifier covers."
            ),
        ],
        responses=s.VerifierOutput(many=True),
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        verifiers = selectors.verifier_registry(
            standard=params.get("standard", ""), sector=params.get("sector", "")
        ).prefetch_related(
            Prefetch(
                "accreditations",
                queryset=selectors.accreditations_in_force(),
                to_attr="accreditations_in_force",
            )
        )
        return self.paged(verifiers, s.VerifierOutput)


# ---------------------------------------------------------------------- accreditations


class AccreditationsView(PagedActorView):
    queryset = Accreditation.objects.none()

    @extend_schema(
        summary="All accreditations, suspended and expired too (operator)",
        parameters=[OpenApiParameter("verifier", str, description="a verifier's slug")],
        responses={200: s.AccreditationOutput(many=True), 403: ERRORS[403]},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        accreditations = selectors.accreditations_for_operator(actor=self.actor)
        if request.query_params.get("verifier"):
            accreditations = accreditations.filter(verifier__slug=request.query_params["verifier"])
        return self.paged(accreditations, s.AccreditationOutput)

    @extend_schema(
        summary="Record a verifier's accreditation by a named body (operator)",
        request=s.AccreditationInput,
        responses={201: s.AccreditationOutput, **ERRORS, **CONFLICT},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        self.actor.require_operator(to="accredit verifiers")
        data = _validated(s.AccreditationInput, request.data)
        slug = data.pop("verifier")
        try:
            verifier = company_selectors.company_get_for_operator(actor=self.actor, slug=slug)
        except NotFound:
            raise ValidationFailed.single("verifier", f"no company {slug!r} in the zone") from None
        accreditation = services.accreditation_grant(actor=self.actor, verifier=verifier, **data)
        return Response(s.AccreditationOutput(accreditation).data, status=status.HTTP_201_CREATED)


class AccreditationView(ActorAPIView):
    @extend_schema(
        summary="One accreditation (operator)",
        responses={200: s.AccreditationOutput, 403: ERRORS[403], **NOT_FOUND},
        tags=TAGS,
    )
    def get(self, request: Request, accreditation_id: int) -> Response:
        accreditation = selectors.accreditation_get_for_operator(
            actor=self.actor, accreditation_id=accreditation_id
        )
        return Response(s.AccreditationOutput(accreditation).data)


class AccreditationSuspendView(ActorAPIView):
    @extend_schema(
        summary="Suspend an accreditation at once (operator)",
        request=s.ReasonInput,
        responses={200: s.AccreditationOutput, **ERRORS, **CONFLICT},
        tags=TAGS,
    )
    def post(self, request: Request, accreditation_id: int) -> Response:
        accreditation = selectors.accreditation_get_for_operator(
            actor=self.actor, accreditation_id=accreditation_id
        )
        data = _validated(s.ReasonInput, request.data)
        accreditation = services.accreditation_suspend(
            actor=self.actor, accreditation=accreditation, reason=data["reason"]
        )
        return Response(s.AccreditationOutput(accreditation).data)


class AccreditationReinstateView(ActorAPIView):
    @extend_schema(
        summary="Lift an accreditation's suspension (operator)",
        request=None,
        responses={200: s.AccreditationOutput, **ERRORS, **CONFLICT},
        tags=TAGS,
    )
    def post(self, request: Request, accreditation_id: int) -> Response:
        accreditation = selectors.accreditation_get_for_operator(
            actor=self.actor, accreditation_id=accreditation_id
        )
        accreditation = services.accreditation_reinstate(
            actor=self.actor, accreditation=accreditation
        )
        return Response(s.AccreditationOutput(accreditation).data)


class ZonePolicyView(ActorAPIView):
    @extend_schema(
        summary="The zone's verification policy (operator)",
        responses={200: s.ZonePolicyOutput, 403: ERRORS[403]},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        self.actor.require_operator(to="see the zone's verification policy")
        return Response(s.ZonePolicyOutput(services.zone_policy()).data)

    @extend_schema(
        summary="Set the rotation rule (operator)",
        request=s.ZonePolicyInput,
        responses={200: s.ZonePolicyOutput, **ERRORS},
        tags=TAGS,
    )
    def put(self, request: Request) -> Response:
        self.actor.require_operator(to="set the zone's verification policy")
        data = _validated(s.ZonePolicyInput, request.data)
        policy = services.zone_policy_set(
            actor=self.actor, max_consecutive_years=data["max_consecutive_years"]
        )
        return Response(s.ZonePolicyOutput(policy).data)


# ------------------------------------------------------------------------ engagements


class EngagementsView(PagedActorView):
    queryset = Engagement.objects.none()

    @extend_schema(
        summary="Engagements your company is a party to",
        parameters=[
            OpenApiParameter("side", str, enum=["supplier", "verifier"]),
            OpenApiParameter("state", str, enum=EngagementState.values),
        ],
        responses={200: s.EngagementSummary(many=True), 400: ERRORS[400]},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        side = choice_param(request, "side", ["supplier", "verifier"])
        state = choice_param(request, "state", list(EngagementState.values))
        engagements = selectors.engagements_of(actor=self.actor, side=side)
        if state:
            engagements = engagements.filter(state=state)
        engagements = engagements.annotate(footprint_count=Count("footprints"))
        return self.paged(engagements, s.EngagementSummary)

    @extend_schema(
        summary="Ask an accredited verifier to verify some of your footprints (editor)",
        request=s.EngagementInput,
        responses={201: s.EngagementDetail, **ERRORS, **CONFLICT},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.EngagementInput, request.data)
        slug = data.pop("verifier")
        verifier = company_selectors.company_directory(actor=self.actor).filter(slug=slug).first()
        if verifier is None:
            raise ValidationFailed.single("verifier", f"no active company {slug!r} in the zone")
        engagement = services.engagement_request(actor=self.actor, verifier=verifier, **data)
        return Response(_detail(engagement, self.actor), status=status.HTTP_201_CREATED)


class EngagementView(ActorAPIView):
    @extend_schema(
        summary="One engagement: footprints, history, findings, visits, evidence, credentials",
        responses={200: s.EngagementDetail, **NOT_FOUND},
        tags=TAGS,
    )
    def get(self, request: Request, engagement_id: int) -> Response:
        return Response(_detail(_engagement(self, engagement_id), self.actor))


def _transition_view(
    name: str,
    service: Callable[..., Engagement],
    input_class: type[serializers.Serializer] | None,
    summary: str,
) -> type[ActorAPIView]:
    """A POST moving an engagement by one service; the body is the service's note/reason."""

    class TransitionView(ActorAPIView):
        @extend_schema(
            summary=summary,
            request=input_class,
            responses={200: s.EngagementDetail, **ERRORS, **CONFLICT},
            tags=TAGS,
        )
        def post(self, request: Request, engagement_id: int) -> Response:
            engagement = _engagement(self, engagement_id)
            fields = _validated(input_class, request.data) if input_class else {}
            engagement = service(actor=self.actor, engagement=engagement, **fields)
            return Response(_detail(engagement, self.actor))

    TransitionView.__name__ = TransitionView.__qualname__ = name
    return TransitionView


EngagementAcceptView = _transition_view(
    "EngagementAcceptView",
    services.engagement_accept,
    s.NoteInput,
    "Accept a requested engagement (verifier editor)",
)
EngagementDeclineView = _transition_view(
    "EngagementDeclineView",
    services.engagement_decline,
    s.ReasonInput,
    "Decline a requested engagement (verifier editor)",
)
EngagementStartReviewView = _transition_view(
    "EngagementStartReviewView",
    services.engagement_start_review,
    None,
    "Start the review of an accepted engagement (verifier editor)",
)
EngagementRequestChangesView = _transition_view(
    "EngagementRequestChangesView",
    services.engagement_request_changes,
    s.RequiredNoteInput,
    "Ask the supplier for changes or more evidence (verifier editor)",
)
EngagementResubmitView = _transition_view(
    "EngagementResubmitView",
    services.engagement_resubmit,
    s.RequiredNoteInput,
    "Hand the engagement back for review after changes (supplier editor)",
)
EngagementRefuseView = _transition_view(
    "EngagementRefuseView",
    services.engagement_refuse,
    s.ReasonInput,
    "Conclude the review without an attestation (verifier editor)",
)
EngagementRevokeView = _transition_view(
    "EngagementRevokeView",
    services.engagement_revoke,
    s.ReasonInput,
    "Revoke the engagement's credentials (verifier editor)",
)


# ----------------------------------------------------------------------- attestation


def _require_verifier(actor: Actor, engagement: Engagement, *, to: str) -> None:
    if actor.company.pk != engagement.verifier_id:
        raise PermissionDenied(f"only the verifier of the engagement may {to}")


class AttestationDraftView(ActorAPIView):
    @extend_schema(
        summary="The credentials exactly as they will be signed (verifier)",
        description="One document per footprint, from the terms given as query parameters; "
        "`assigned_at_signing` names the fields added when signing. Nothing is stored.",
        parameters=[
            OpenApiParameter("boundary", str, required=True),
            OpenApiParameter("materiality_threshold", str, required=True),
            OpenApiParameter("opinion", str, required=True, enum=["unqualified", "qualified"]),
            OpenApiParameter("opinion_text", str, required=True),
            OpenApiParameter("valid_until", OpenApiTypes.DATE, required=True),
        ],
        responses={200: s.DraftOutput, **ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, engagement_id: int) -> Response:
        engagement = _engagement(self, engagement_id)
        _require_verifier(self.actor, engagement, to="preview its attestation")
        terms = services.clean_terms(request.query_params)
        footprints = list(selectors.engagement_footprints(engagement))
        accreditation = services.accreditation_covering(
            engagement.verifier, engagement.standard, footprints
        )
        if accreditation is None:
            raise ValidationFailed.single(
                "accreditation",
                f"{engagement.verifier.legal_name} holds no accreditation in force for "
                f"{engagement.standard} in the sector of these products",
            )
        credentials = [
            {
                "footprint_id": footprint.pf_id,
                "footprint_sha256": footprint.sha256,
                "document": services.credential_draft(engagement, footprint, terms, accreditation),
            }
            for footprint in footprints
        ]
        body = {
            "engagement": engagement.pk,
            "accreditation": s.AccreditationSummary(accreditation).data,
            "assigned_at_signing": ASSIGNED_AT_SIGNING,
            "credentials": credentials,
        }
        return Response(s.DraftOutput(body).data)


class EngagementAttestView(ActorAPIView):
    # What is signed must not be ambiguous: duplicate keys are refused, not last-wins.
    parser_classes = [StrictJSONParser]

    @extend_schema(
        summary="Sign one credential per footprint and mark the engagement attested "
        "(verifier editor)",
        request=s.AttestInput,
        responses={201: s.AttestedOutput, **ERRORS, **CONFLICT},
        tags=TAGS,
    )
    def post(self, request: Request, engagement_id: int) -> Response:
        engagement = _engagement(self, engagement_id)
        data = _validated(s.AttestInput, request.data)
        digests = data.pop("footprint_digests")
        kid = data.pop("kid") or None
        attestations = services.engagement_attest(
            actor=self.actor,
            engagement=engagement,
            terms=services.clean_terms(data),
            footprint_digests=digests,
            kid=kid,
        )
        engagement = (
            selectors.engagements_of(actor=self.actor)
            .annotate(footprint_count=Count("footprints"))
            .get(pk=engagement.pk)
        )
        body = {
            "engagement": engagement,
            "credentials": [
                {
                    "credential_id": a.credential_id,
                    "footprint_id": a.footprint.pf_id,
                    "credential": json.loads(bytes(a.credential)),
                }
                for a in attestations
            ],
        }
        return Response(s.AttestedOutput(body).data, status=status.HTTP_201_CREATED)


# -------------------------------------------------------------------------- evidence


class EvidenceListView(ActorAPIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="The engagement's evidence files (metadata)",
        responses={200: s.EvidenceOutput(many=True), **NOT_FOUND},
        tags=TAGS,
    )
    def get(self, request: Request, engagement_id: int) -> Response:
        engagement = _engagement(self, engagement_id)
        return Response(s.EvidenceOutput(selectors.evidence_of(engagement), many=True).data)

    @extend_schema(
        summary="Add an evidence file while the engagement is open (supplier editor)",
        request={"multipart/form-data": s.EvidenceInput},
        responses={201: s.EvidenceOutput, **ERRORS, **CONFLICT},
        tags=TAGS,
    )
    def post(self, request: Request, engagement_id: int) -> Response:
        engagement = _engagement(self, engagement_id)
        data = _validated(s.EvidenceInput, request.data)
        file = data["file"]
        limit = settings.EVIDENCE_MAX_BYTES
        if file.size is not None and file.size > limit:
            # Refused before reading, so an oversized upload is never held in memory.
            raise ValidationFailed.single(
                "file", f"{file.name}: {file.size:,} bytes is over the limit of {limit:,} bytes"
            )
        evidence = services.evidence_add(
            actor=self.actor,
            engagement=engagement,
            file_name=file.name or "",
            data=file.read(limit + 1),
            description=data["description"],
        )
        return Response(s.EvidenceOutput(evidence).data, status=status.HTTP_201_CREATED)


class EvidenceDownloadView(ActorAPIView):
    @extend_schema(
        summary="Download an evidence file (the engagement's parties only)",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, with its stored content type."
            ),
            **NOT_FOUND,
        },
        tags=TAGS,
    )
    def get(self, request: Request, engagement_id: int, evidence_id: int) -> HttpResponse:
        engagement = _engagement(self, engagement_id)
        return downloads.evidence_download(
            actor=self.actor, engagement=engagement, evidence_id=evidence_id
        )

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The answer is the file, whatever the client says it accepts.
        return super().perform_content_negotiation(request, force=True)


# -------------------------------------------------------------------------- findings


class FindingsView(ActorAPIView):
    @extend_schema(
        summary="The engagement's findings with their threads",
        responses={200: s.FindingOutput(many=True), **NOT_FOUND},
        tags=TAGS,
    )
    def get(self, request: Request, engagement_id: int) -> Response:
        engagement = _engagement(self, engagement_id)
        return Response(s.FindingOutput(selectors.findings_of(engagement), many=True).data)

    @extend_schema(
        summary="Raise a finding during the review (verifier editor)",
        request=s.FindingInput,
        responses={201: s.FindingOutput, **ERRORS, **CONFLICT},
        tags=TAGS,
    )
    def post(self, request: Request, engagement_id: int) -> Response:
        engagement = _engagement(self, engagement_id)
        data = _validated(s.FindingInput, request.data)
        finding = services.finding_raise(actor=self.actor, engagement=engagement, **data)
        return Response(_finding_data(finding), status=status.HTTP_201_CREATED)


class FindingReplyView(ActorAPIView):
    @extend_schema(
        summary="Answer in a finding's thread (either party's editor)",
        request=s.ReplyInput,
        responses={201: s.FindingOutput, **ERRORS, **CONFLICT},
        tags=TAGS,
    )
    def post(self, request: Request, engagement_id: int, number: int) -> Response:
        finding = _finding(self, engagement_id, number)
        data = _validated(s.ReplyInput, request.data)
        services.finding_reply(actor=self.actor, finding=finding, body=data["body"])
        return Response(_finding_data(finding), status=status.HTTP_201_CREATED)


class FindingResolveView(ActorAPIView):
    @extend_schema(
        summary="Resolve a finding, with an optional closing note (verifier editor)",
        request=s.NoteInput,
        responses={200: s.FindingOutput, **ERRORS, **CONFLICT},
        tags=TAGS,
    )
    def post(self, request: Request, engagement_id: int, number: int) -> Response:
        finding = _finding(self, engagement_id, number)
        data = _validated(s.NoteInput, request.data)
        finding = services.finding_resolve(actor=self.actor, finding=finding, note=data["note"])
        return Response(_finding_data(finding))


class SiteVisitsView(ActorAPIView):
    @extend_schema(
        summary="Record a site visit that has happened (verifier editor)",
        request=s.SiteVisitInput,
        responses={201: s.SiteVisitOutput, **ERRORS, **CONFLICT},
        tags=TAGS,
    )
    def post(self, request: Request, engagement_id: int) -> Response:
        engagement = _engagement(self, engagement_id)
        data = _validated(s.SiteVisitInput, request.data)
        visit = services.site_visit_record(actor=self.actor, engagement=engagement, **data)
        return Response(s.SiteVisitOutput(visit).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------- attestations


class AttestationsView(PagedActorView):
    queryset = Attestation.objects.none()

    @extend_schema(
        summary="Credentials your company issued (verifier) or received (supplier)",
        parameters=[OpenApiParameter("state", str, enum=["valid", "revoked", "expired"])],
        responses={200: s.AttestationOutput(many=True), 400: ERRORS[400]},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        state = choice_param(request, "state", ["valid", "revoked", "expired"])
        attestations = selectors.attestations_of(actor=self.actor)
        now = timezone.now()
        if state == "valid":
            attestations = attestations.filter(revoked_at__isnull=True, valid_until__gt=now)
        elif state == "revoked":
            attestations = attestations.filter(revoked_at__isnull=False)
        elif state == "expired":
            attestations = attestations.filter(Q(revoked_at__isnull=True) & Q(valid_until__lte=now))
        return self.paged(attestations, s.AttestationOutput)


class AttestationView(ActorAPIView):
    @extend_schema(
        summary="A credential exactly as signed and stored",
        responses={
            (200, "application/vc"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="The Verifiable Credential's stored bytes."
            ),
            **NOT_FOUND,
        },
        tags=TAGS,
    )
    def get(self, request: Request, credential_id: str) -> HttpResponse:
        attestation = selectors.attestation_get(actor=self.actor, credential_id=credential_id)
        response = HttpResponse(bytes(attestation.credential), content_type="application/vc")
        response["Cache-Control"] = "private, no-cache"
        return response

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(request, force=True)


# --------------------------------------------------------------------- evidence bundle


class FootprintBundleView(ActorAPIView):
    @extend_schema(
        summary="A footprint's evidence bundle, to check offline with `carbonx verify-bundle`",
        description=(
            "One JSON document (`format`: `carbonx-evidence-bundle/1`): the footprint's "
            "canonical bytes (base64) and document; the supplier's JWS with its key (JWK, "
            "kid, validity); every attestation (`credential`: the stored bytes, base64) with "
            "the verifiers' and the status-list signer's DID documents and the status list "
            "credentials as signed now; and `log`: a signed checkpoint (with witness "
            "cosignatures) and the audit entries tying the keys, the footprint and the "
            "engagements together, each with its bytes, payload and RFC 9162 inclusion "
            "proof. Any footprint your company may see (its own, granted, or published to "
            "the zone); reading another company's is recorded as a pull."
        ),
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The evidence bundle."),
            **NOT_FOUND,
        },
        tags=TAGS,
    )
    def get(self, request: Request, pf_id: str) -> Response:
        response = Response(bundle.bundle_create(actor=self.actor, pf_id=pf_id))
        response["Cache-Control"] = "private, no-store"
        return response
