from django.urls import path

from . import sharing_views, views

app_name = "exchange-api"

urlpatterns = [
    path("products", views.ProductsView.as_view(), name="products"),
    path(
        "products/<int:product_id>/history",
        views.ProductHistoryView.as_view(),
        name="product-history",
    ),
    path("footprints", views.FootprintsView.as_view(), name="footprints"),
    path("footprints/batch", views.FootprintBatchView.as_view(), name="footprints-batch"),
    path("footprints/sign", views.FootprintSignView.as_view(), name="footprints-sign"),
    path("footprints/<str:pf_id>", views.FootprintView.as_view(), name="footprint"),
    path(
        "footprints/<str:pf_id>/deprecate",
        views.FootprintDeprecateView.as_view(),
        name="footprint-deprecate",
    ),
    path("uploads", views.UploadsView.as_view(), name="uploads"),
    path(
        "uploads/template.<str:file_format>",
        views.UploadTemplateView.as_view(),
        name="upload-template",
    ),
    path("uploads/<int:upload_id>", views.UploadView.as_view(), name="upload"),
    path(
        "uploads/<int:upload_id>/errors.csv", views.UploadErrorsView.as_view(), name="upload-errors"
    ),
    # sharing: received footprints, grants, zone publication, part numbers, requests, rules
    path(
        "received-footprints",
        sharing_views.ReceivedFootprintsView.as_view(),
        name="received-footprints",
    ),
    path("grants", sharing_views.GrantsView.as_view(), name="grants"),
    path(
        "grants/<int:grant_id>/revoke",
        sharing_views.GrantRevokeView.as_view(),
        name="grant-revoke",
    ),
    path(
        "footprints/<str:pf_id>/publish",
        sharing_views.FootprintPublishView.as_view(),
        name="footprint-publish",
    ),
    path(
        "footprints/<str:pf_id>/unpublish",
        sharing_views.FootprintUnpublishView.as_view(),
        name="footprint-unpublish",
    ),
    path("part-numbers", sharing_views.PartNumbersView.as_view(), name="part-numbers"),
    path("requests", sharing_views.RequestsView.as_view(), name="requests"),
    path("requests/<int:request_id>", sharing_views.RequestView.as_view(), name="request"),
    path(
        "requests/<int:request_id>/fulfil",
        sharing_views.RequestFulfilView.as_view(),
        name="request-fulfil",
    ),
    path(
        "requests/<int:request_id>/reject",
        sharing_views.RequestRejectView.as_view(),
        name="request-reject",
    ),
    path(
        "requests/<int:request_id>/cancel",
        sharing_views.RequestCancelView.as_view(),
        name="request-cancel",
    ),
    path("auto-rules", sharing_views.AutoRulesView.as_view(), name="auto-rules"),
    path(
        "auto-rules/<int:rule_id>/disable",
        sharing_views.AutoRuleDisableView.as_view(),
        name="auto-rule-disable",
    ),
]
