from django.urls import path

from . import views

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
]
