"""Platform API for sharing (``/api/v1/``, tag "sharing"): the footprints your company
received, grants, zone publication, part numbers, data requests and auto-fulfil rules.

Every write is one call of ``exchange.sharing``; reads go through ``exchange.selectors``
(``visible_footprints`` is the one rule of access). Whatever a request names that is
not your company's, or not a party's, is "not found"; a wrong role or side is 403,
a wrong state 409, a bad field 400 naming it. A response that carries other
companies' footprints is recorded as a pull (``record_pull``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from companies.access import Actor
from companies.api.base import ActorAPIView, choice_param
from companies.api.views import ERRORS, PagedActorView
from companies.errors import NotFound
from exchange import selectors, sharing
from exchange.api import sharing_serializers as s
from exchange.models import (
    AccessGrant,
    AutoFulfilRule,
    DataRequest,
    Footprint,
    PartNumber,
    ZonePublication,
)

TAGS = ["sharing"]
NOT_FOUND = {404: ERRORS[404]}
CONFLICT = {409: OpenApiResponse(description="Not possible in the current state.")}
#: The ``record_pull`` channel of the platform API.
PULL_CHANNEL = "api"


def _validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# Reads the selectors do not offer (yet): the supplier-kept part numbers and rules,
# and one grant or rule of the acting company.


def _grant_given(actor: Actor, grant_id: int) -> AccessGrant:
    grant = selectors.grants_given(actor=actor).filter(pk=grant_id).first()
    if grant is None:
        raise NotFound(f"no grant {grant_id} given by your company")
    return grant


def _rule_of(actor: Actor, rule_id: int) -> AutoFulfilRule:
    rule = selectors.auto_rules_of(actor=actor).filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(f"no auto-fulfil rule {rule_id} of your company")
    return rule


def _with_footprints(requests: QuerySet[DataRequest]) -> QuerySet[DataRequest]:
    return requests.select_related("buyer", "supplier").prefetch_related(
        Prefetch("footprints", queryset=Footprint.objects.only("pk", "pf_id"))
    )


def _request_context(actor: Actor, requests: list[DataRequest]) -> dict[str, Any]:
    """What RequestOutput needs to show a buyer only the footprints it may still see."""
    sent = {fp.pk for request in requests for fp in request.footprints.all()}
    visible = set(
        selectors.visible_footprints(actor.company).filter(pk__in=sent).values_list("pk", flat=True)
    )
    return {"company_id": actor.company.pk, "visible": visible}


def _request_detail(actor: Actor, request: DataRequest) -> dict[str, Any]:
    request = _with_footprints(DataRequest.objects.filter(pk=request.pk)).get()
    context = _request_context(actor, [request])
    if request.supplier_id == actor.company.pk:
        context["matches"] = sharing.request_matches(request).select_related(
            "product", "signing_key"
        )
    return dict(s.RequestOutput(request, context=context).data)


# ---------------------------------------------------------------- received footprints


class ReceivedFootprintsView(PagedActorView):
    queryset = Footprint.objects.none()  # names the model for the schema; reads use selectors

    @extend_schema(
        summary="Other companies' footprints your company may see (granted or published)",
        description="Reading them is recorded in the audit log as a pull.",
        parameters=[
            OpenApiParameter("product_id", str, description="a product id URN"),
            OpenApiParameter("supplier", str, description="a supplier's slug"),
        ],
        responses=s.ReceivedFootprintOutput(many=True),
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        footprints = selectors.received_footprints(actor=self.actor).prefetch_related(
            "product__identifiers"
        )
        params = request.query_params
        if params.get("product_id"):
            footprints = footprints.filter(product__identifiers__urn=params["product_id"])
        if params.get("supplier"):
            footprints = footprints.filter(company__slug=params["supplier"])
        page = self.paginate_queryset(footprints) or []
        data = s.ReceivedFootprintOutput(page, many=True).data
        sharing.record_pull(actor=self.actor, footprints=page, channel=PULL_CHANNEL)
        return self.get_paginated_response(data)


# ---------------------------------------------------------------------------- grants


class GrantsView(PagedActorView):
    queryset = AccessGrant.objects.none()

    @extend_schema(
        summary="Grants your company gave (supplier) or received (buyer)",
        parameters=[OpenApiParameter("side", str, enum=["given", "received"])],
        responses={200: s.GrantOutput(many=True), 400: ERRORS[400]},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        side = choice_param(request, "side", ["given", "received"])
        given = selectors.grants_given(actor=self.actor)
        received = selectors.grants_received(actor=self.actor)
        grants = {"given": given, "received": received}.get(side, given | received)
        grants = grants.select_related("supplier", "buyer", "footprint", "product")
        return self.paged(grants, s.GrantOutput)

    @extend_schema(
        summary="Let a buyer see one footprint or every version of a product (editor)",
        description="Give `footprint_id` or `product_id`. A live grant for the same target "
        "is answered as it is (200).",
        request=s.GrantInput,
        responses={201: s.GrantOutput, 200: s.GrantOutput, **ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.GrantInput, request.data)
        asked_at = timezone.now()
        grant = sharing.grant_create(actor=self.actor, **data)
        # An existing live grant is answered as it is: created before this request.
        code = status.HTTP_201_CREATED if grant.created_at >= asked_at else status.HTTP_200_OK
        return Response(s.GrantOutput(grant).data, status=code)


class GrantRevokeView(ActorAPIView):
    @extend_schema(
        summary="Revoke a grant from now on (supplier editor)",
        request=s.GrantRevokeInput,
        responses={200: s.GrantOutput, **ERRORS, **CONFLICT},
        tags=TAGS,
    )
    def post(self, request: Request, grant_id: int) -> Response:
        grant = _grant_given(self.actor, grant_id)
        data = _validated(s.GrantRevokeInput, request.data)
        grant = sharing.grant_revoke(actor=self.actor, grant=grant, reason=data["reason"])
        return Response(s.GrantOutput(grant).data)


# -------------------------------------------------------------------- zone publication


def _publication(footprint: Footprint) -> dict[str, Any]:
    publication = ZonePublication.objects.filter(footprint=footprint).first()
    body = {
        "footprint": footprint.pf_id,
        "published": publication is not None,
        "published_at": publication.published_at if publication else None,
    }
    return dict(s.PublicationOutput(body).data)


class FootprintPublishView(ActorAPIView):
    @extend_schema(
        summary="Publish one of your footprints to every company of the zone (editor)",
        description="Only an active footprint; publishing it again changes nothing.",
        request=None,
        responses={200: s.PublicationOutput, **ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pf_id: str) -> Response:
        footprint = selectors.footprint_get(actor=self.actor, pf_id=pf_id)
        sharing.footprint_publish(actor=self.actor, footprint_id=footprint.pf_id)
        return Response(_publication(footprint))


class FootprintUnpublishView(ActorAPIView):
    @extend_schema(
        summary="Withdraw one of your footprints from the zone (editor)",
        description="Grants are not touched: buyers granted it keep seeing it.",
        request=None,
        responses={200: s.PublicationOutput, **ERRORS, **CONFLICT},
        tags=TAGS,
    )
    def post(self, request: Request, pf_id: str) -> Response:
        footprint = selectors.footprint_get(actor=self.actor, pf_id=pf_id)
        sharing.footprint_unpublish(actor=self.actor, footprint_id=footprint.pf_id)
        return Response(_publication(footprint))


# ---------------------------------------------------------------------- part numbers


class PartNumbersView(PagedActorView):
    queryset = PartNumber.objects.none()

    @extend_schema(
        summary="Your buyers' part numbers for your products",
        parameters=[OpenApiParameter("buyer", str, description="a buyer's slug")],
        responses=s.PartNumberOutput(many=True),
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        mappings = selectors.part_numbers_of(actor=self.actor)
        if request.query_params.get("buyer"):
            mappings = mappings.filter(buyer__slug=request.query_params["buyer"])
        return self.paged(mappings, s.PartNumberOutput)

    @extend_schema(
        summary="Record a buyer's part number for one of your products (editor)",
        description="Creates the mapping (201) or points an existing part number of that "
        "buyer at another product (200).",
        request=s.PartNumberInput,
        responses={201: s.PartNumberOutput, 200: s.PartNumberOutput, **ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.PartNumberInput, request.data)
        mappings = selectors.part_numbers_of(actor=self.actor)
        # The buyer's part number (trimmed by the serializer) is the key: set
        # before means re-pointed (200).
        existed = mappings.filter(
            buyer__slug=data["buyer"], part_number=data["part_number"]
        ).exists()
        mapping = sharing.part_number_set(actor=self.actor, **data)
        mapping = mappings.get(pk=mapping.pk)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(s.PartNumberOutput(mapping).data, status=code)


# -------------------------------------------------------------------------- requests


class RequestsView(PagedActorView):
    queryset = DataRequest.objects.none()

    @extend_schema(
        summary="Data requests your company made (buyer) or received (supplier)",
        parameters=[
            OpenApiParameter("side", str, enum=["made", "received"]),
            OpenApiParameter("status", str, enum=s.STATUS_CHOICES),
        ],
        responses={200: s.RequestOutput(many=True), 400: ERRORS[400]},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        side = choice_param(request, "side", ["made", "received"])
        state = choice_param(request, "status", s.STATUS_CHOICES)
        made = selectors.requests_made(actor=self.actor)
        received = selectors.requests_received(actor=self.actor)
        requests = {"made": made, "received": received}.get(side, made | received)
        if state:
            requests = requests.filter(status=state)
        page = self.paginate_queryset(_with_footprints(requests)) or []
        context = _request_context(self.actor, page)
        return self.get_paginated_response(s.RequestOutput(page, many=True, context=context).data)

    @extend_schema(
        summary="Ask a supplier for footprints (buyer editor)",
        description="Say what you need: product ids, your part number and/or PACT filter "
        "criteria. A rule of the supplier may answer it at once (status `fulfilled`).",
        request=s.RequestInput,
        responses={201: s.RequestOutput, **ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.RequestInput, request.data)
        made = sharing.request_create(actor=self.actor, **data)
        return Response(_request_detail(self.actor, made), status=status.HTTP_201_CREATED)


class RequestView(ActorAPIView):
    @extend_schema(
        summary="One request your company made or received",
        description="The supplier also gets `matches`: its footprints that answer it.",
        responses={200: s.RequestOutput, **NOT_FOUND},
        tags=TAGS,
    )
    def get(self, request: Request, request_id: int) -> Response:
        found = selectors.request_get(actor=self.actor, request_id=request_id)
        return Response(_request_detail(self.actor, found))


class RequestFulfilView(ActorAPIView):
    @extend_schema(
        summary="Answer a pending request with footprints, granting them (supplier editor)",
        request=s.FulfilInput,
        responses={200: s.RequestOutput, **ERRORS, **CONFLICT},
        tags=TAGS,
    )
    def post(self, request: Request, request_id: int) -> Response:
        found = selectors.request_get(actor=self.actor, request_id=request_id)
        data = _validated(s.FulfilInput, request.data)
        found = sharing.request_fulfil(actor=self.actor, request=found, **data)
        return Response(_request_detail(self.actor, found))


class RequestRejectView(ActorAPIView):
    @extend_schema(
        summary="Decline a pending request, telling the buyer why (supplier editor)",
        request=s.RequestRejectInput,
        responses={200: s.RequestOutput, **ERRORS, **CONFLICT},
        tags=TAGS,
    )
    def post(self, request: Request, request_id: int) -> Response:
        found = selectors.request_get(actor=self.actor, request_id=request_id)
        data = _validated(s.RequestRejectInput, request.data)
        found = sharing.request_reject(actor=self.actor, request=found, reason=data["reason"])
        return Response(_request_detail(self.actor, found))


class RequestCancelView(ActorAPIView):
    @extend_schema(
        summary="Withdraw a pending request (buyer editor)",
        request=None,
        responses={200: s.RequestOutput, **ERRORS, **CONFLICT},
        tags=TAGS,
    )
    def post(self, request: Request, request_id: int) -> Response:
        found = selectors.request_get(actor=self.actor, request_id=request_id)
        found = sharing.request_cancel(actor=self.actor, request=found)
        return Response(_request_detail(self.actor, found))


# ------------------------------------------------------------------------ auto rules


class AutoRulesView(PagedActorView):
    queryset = AutoFulfilRule.objects.none()

    @extend_schema(
        summary="Your auto-fulfil rules",
        responses=s.AutoRuleOutput(many=True),
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        return self.paged(selectors.auto_rules_of(actor=self.actor), s.AutoRuleOutput)

    @extend_schema(
        summary="Answer a buyer's requests for these products without a person (admin)",
        description="No products: all of them. `only_verified`: only footprints with an "
        "attestation in force are sent.",
        request=s.AutoRuleInput,
        responses={201: s.AutoRuleOutput, **ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.AutoRuleInput, request.data)
        rule = sharing.auto_rule_create(actor=self.actor, **data)
        return Response(
            s.AutoRuleOutput(_rule_of(self.actor, rule.pk)).data, status=status.HTTP_201_CREATED
        )


class AutoRuleDisableView(ActorAPIView):
    @extend_schema(
        summary="Stop an auto-fulfil rule (admin)",
        request=None,
        responses={200: s.AutoRuleOutput, **ERRORS, **CONFLICT},
        tags=TAGS,
    )
    def post(self, request: Request, rule_id: int) -> Response:
        rule = sharing.auto_rule_disable(actor=self.actor, rule=_rule_of(self.actor, rule_id))
        return Response(s.AutoRuleOutput(_rule_of(self.actor, rule.pk)).data)
