"""Platform API for products and footprints (``/api/v1/``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from companies.api.base import ActorAPIView
from companies.api.views import ERRORS, PagedActorView
from companies.errors import NotFound
from exchange import bulk, selectors, services
from exchange.api import serializers as s
from exchange.api.parsers import StrictJSONParser
from exchange.models import BulkUpload, Footprint, FootprintStatus, Product, SubmissionChannel
from exchange.signing import canonical_bytes
from trust.encoding import sha256

CONFLICT = {409: OpenApiResponse(description="The id exists with other content, or is deprecated.")}


class ProductsView(PagedActorView):
    queryset = Product.objects.none()

    @extend_schema(summary="Your products", responses=s.ProductOutput(many=True), tags=["products"])
    def get(self, request: Request) -> Response:
        return self.paged(selectors.products_of(actor=self.actor), s.ProductOutput)

    @extend_schema(
        summary="Add a product (editor)",
        request=s.ProductInput,
        responses={201: s.ProductOutput, **ERRORS},
        tags=["products"],
    )
    def post(self, request: Request) -> Response:
        data = s.ProductInput(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_create(actor=self.actor, **data.validated_data)
        product = selectors.product_get(actor=self.actor, product_id=product.pk)
        return Response(s.ProductOutput(product).data, status=status.HTTP_201_CREATED)


class ProductHistoryView(PagedActorView):
    queryset = Footprint.objects.none()

    @extend_schema(
        summary="A product's footprints, newest first (its version history)",
        responses={200: s.FootprintSummary(many=True), 404: ERRORS[404]},
        tags=["products"],
    )
    def get(self, request: Request, product_id: int) -> Response:
        product = selectors.product_get(actor=self.actor, product_id=product_id)
        versions = selectors.footprint_versions(actor=self.actor, product=product)
        return self.paged(versions, s.FootprintSummary)


class FootprintsView(PagedActorView):
    queryset = Footprint.objects.none()
    parser_classes = [StrictJSONParser]

    @extend_schema(
        summary="Your footprints",
        parameters=[
            OpenApiParameter("status", str, enum=FootprintStatus.values),
            OpenApiParameter("product", int, description="product id"),
            OpenApiParameter("product_id", str, description="a product id URN"),
        ],
        responses=s.FootprintSummary(many=True),
        tags=["footprints"],
    )
    def get(self, request: Request) -> Response:
        footprints = selectors.footprints_of(actor=self.actor)
        params = request.query_params
        if params.get("status"):
            footprints = footprints.filter(status=params["status"])
        if params.get("product", "").isdigit():
            footprints = footprints.filter(product_id=int(params["product"]))
        if params.get("product_id"):
            footprints = footprints.filter(product__identifiers__urn=params["product_id"])
        return self.paged(footprints, s.FootprintSummary)

    @extend_schema(
        summary="Submit one signed footprint (editor)",
        description="Idempotent: the same id with the same bytes answers 200 with the stored "
        "footprint; the same id with other bytes is a 409.",
        request=s.SubmitInput,
        responses={201: s.FootprintDetail, 200: s.FootprintDetail, **ERRORS, **CONFLICT},
        tags=["footprints"],
    )
    def post(self, request: Request) -> Response:
        body = _object(request.data)
        result = services.footprint_submit(
            actor=self.actor,
            jws=body.get("jws"),
            document=body.get("footprint"),
            channel=SubmissionChannel.API,
        )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(s.FootprintDetail(result.footprint).data, status=code)


def _object(data: Any) -> dict[str, Any]:
    from companies.errors import ValidationFailed

    if not isinstance(data, dict):
        raise ValidationFailed.single("request", 'must be a JSON object {"jws": …}')
    return data


class FootprintBatchView(ActorAPIView):
    parser_classes = [StrictJSONParser]

    @extend_schema(
        summary="Submit many signed footprints at once, all or nothing (editor)",
        description="Body: a JSON array of {jws, footprint?}. Errors name the item: "
        "`/3/pcf/geographyCountry`.",
        request=s.SubmitInput(many=True),
        responses={200: s.BatchReceipt(many=True), **ERRORS},
        tags=["footprints"],
    )
    def post(self, request: Request) -> Response:
        from companies.errors import ValidationFailed

        if not isinstance(request.data, list):
            raise ValidationFailed.single("request", "must be a JSON array of {jws, footprint?}")
        results = services.footprint_submit_many(actor=self.actor, items=request.data)
        # A receipt per item, built directly: serialising full summaries cost more than
        # storing the footprints (GET /footprints/{id} has the rest).
        return Response(
            [
                {
                    "id": str(r.footprint.pf_id),
                    "status": r.footprint.status,
                    "sha256": r.footprint.sha256,
                    "created": r.created,
                }
                for r in results
            ]
        )


class FootprintView(ActorAPIView):
    @extend_schema(
        summary="One of your footprints with its document, signature and versions",
        responses={200: s.FootprintDetail, 404: ERRORS[404]},
        tags=["footprints"],
    )
    def get(self, request: Request, pf_id: str) -> Response:
        return Response(
            s.FootprintDetail(selectors.footprint_get(actor=self.actor, pf_id=pf_id)).data
        )


class FootprintDeprecateView(ActorAPIView):
    @extend_schema(
        summary="Deprecate a footprint without a successor (editor)",
        request=s.DeprecateInput,
        responses={200: s.FootprintDetail, **ERRORS, **CONFLICT},
        tags=["footprints"],
    )
    def post(self, request: Request, pf_id: str) -> Response:
        data = s.DeprecateInput(data=request.data)
        data.is_valid(raise_exception=True)
        footprint = selectors.footprint_get(actor=self.actor, pf_id=pf_id)
        footprint = services.footprint_deprecate(
            actor=self.actor, footprint=footprint, reason=data.validated_data["reason"]
        )
        return Response(s.FootprintDetail(footprint).data)


class FootprintSignView(ActorAPIView):
    parser_classes = [StrictJSONParser]

    @extend_schema(
        summary="Sign a footprint with your platform-held key (editor); nothing is stored",
        description="Returns the JWS, the canonical bytes and their SHA-256, to check before "
        "submitting.",
        request=s.SignInput,
        responses={200: s.SignOutput, **ERRORS},
        tags=["footprints"],
    )
    def post(self, request: Request) -> Response:
        document = _object(request.data).get("footprint")
        token = services.footprint_sign_with_platform_key(actor=self.actor, document=document)
        canonical = canonical_bytes(document)
        key = services.platform_signing_key(self.actor)
        return Response(
            {
                "jws": token,
                "canonical": canonical.decode(),
                "sha256": sha256(canonical).hex(),
                "kid": key.kid,
            }
        )


class UploadsView(PagedActorView):
    queryset = BulkUpload.objects.none()
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Your bulk uploads", responses=s.UploadOutput(many=True), tags=["uploads"]
    )
    def get(self, request: Request) -> Response:
        return self.paged(selectors.uploads_of(actor=self.actor), s.UploadOutput)

    @extend_schema(
        summary="Upload a spreadsheet or signed JSON array; processed as a job (editor)",
        request={"multipart/form-data": s.UploadInput},
        responses={202: s.UploadOutput, **ERRORS},
        tags=["uploads"],
    )
    def post(self, request: Request) -> Response:
        data = s.UploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        file = data.validated_data["file"]
        upload = services.upload_create(
            actor=self.actor,
            file_name=file.name,
            data=file.read(),
            all_or_nothing=data.validated_data["all_or_nothing"],
        )
        upload = selectors.upload_get(actor=self.actor, upload_id=upload.pk)
        return Response(s.UploadOutput(upload).data, status=status.HTTP_202_ACCEPTED)


class UploadView(ActorAPIView):
    @extend_schema(
        summary="An upload's progress and result",
        responses={200: s.UploadOutput, 404: ERRORS[404]},
        tags=["uploads"],
    )
    def get(self, request: Request, upload_id: int) -> Response:
        return Response(
            s.UploadOutput(selectors.upload_get(actor=self.actor, upload_id=upload_id)).data
        )


class UploadErrorsView(ActorAPIView):
    @extend_schema(
        summary="An upload's per-row error report as CSV (row, column, message)",
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV report"),
            404: ERRORS[404],
        },
        tags=["uploads"],
    )
    def get(self, request: Request, upload_id: int) -> HttpResponse:
        return upload_errors_response(selectors.upload_get(actor=self.actor, upload_id=upload_id))


class UploadTemplateView(ActorAPIView):
    @extend_schema(
        summary="The bulk-upload template (columns in English and Chinese)",
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV template"),
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiResponse(OpenApiTypes.BINARY, description="XLSX template"),
            404: ERRORS[404],
        },
        tags=["uploads"],
    )
    def get(self, request: Request, file_format: str) -> HttpResponse:
        if file_format not in ("csv", "xlsx"):
            raise NotFound("the template is available as template.csv or template.xlsx")
        return template_response(file_format)


def upload_errors_response(upload: BulkUpload) -> HttpResponse:
    """The per-row error report as a CSV download (portal and API)."""
    response = HttpResponse(
        selectors.upload_errors_csv(upload), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="upload-{upload.pk}-errors.csv"'
    return response


def template_response(file_format: str) -> HttpResponse:
    if file_format == "xlsx":
        response = HttpResponse(
            bulk.template_xlsx(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(bulk.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="footprints-template.{file_format}"'
    return response
