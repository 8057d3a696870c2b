from django.urls import path

from . import sharing_views, views

app_name = "exchange"

urlpatterns = [
    path("", views.footprint_list, name="footprints"),
    path("new/", views.footprint_new, name="footprint-new"),
    path("products/", views.product_list, name="products"),
    path("products/<int:product_id>/", views.product_detail, name="product"),
    path("uploads/", views.uploads, name="uploads"),
    path("uploads/template.<str:file_format>", views.upload_template, name="upload-template"),
    path("uploads/<int:upload_id>/", views.upload_detail, name="upload"),
    path("uploads/<int:upload_id>/errors.csv", views.upload_errors, name="upload-errors"),
    # sharing: the buyer's side
    path("supply-chain/", sharing_views.supply_chain, name="supply-chain"),
    path("requests/", sharing_views.requests_made, name="requests"),
    path("requests/new/", sharing_views.request_new, name="request-new"),
    path("requests/inbox/", sharing_views.request_inbox, name="request-inbox"),
    path("requests/<int:request_id>/", sharing_views.request_detail, name="request"),
    path("requests/<int:request_id>/cancel/", sharing_views.request_cancel, name="request-cancel"),
    path("requests/<int:request_id>/fulfil/", sharing_views.request_fulfil, name="request-fulfil"),
    path("requests/<int:request_id>/reject/", sharing_views.request_reject, name="request-reject"),
    path("received/", sharing_views.received_list, name="received"),
    path(
        "received/export.<str:file_format>",
        sharing_views.received_export,
        name="received-export",
    ),
    path("received/<str:pf_id>/", sharing_views.received_detail, name="received-footprint"),
    # sharing: the supplier's side
    path("sharing/grants/", sharing_views.grants, name="grants"),
    path("sharing/grants/<int:grant_id>/revoke/", sharing_views.grant_revoke, name="grant-revoke"),
    path("sharing/part-numbers/", sharing_views.part_numbers, name="part-numbers"),
    path("sharing/pact-deliveries/", sharing_views.pact_deliveries, name="pact-deliveries"),
    path("sharing/auto-rules/", sharing_views.auto_rules, name="auto-rules"),
    path(
        "sharing/auto-rules/<int:rule_id>/disable/",
        sharing_views.auto_rule_disable,
        name="auto-rule-disable",
    ),
    path("<str:pf_id>/zone/", sharing_views.footprint_zone, name="footprint-zone"),
    path("<str:pf_id>/", views.footprint_detail, name="footprint"),
    path("<str:pf_id>/deprecate/", views.footprint_deprecate, name="footprint-deprecate"),
]
