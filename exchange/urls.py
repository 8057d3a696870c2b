from django.urls import path

from . import views

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
    path("<str:pf_id>/", views.footprint_detail, name="footprint"),
    path("<str:pf_id>/deprecate/", views.footprint_deprecate, name="footprint-deprecate"),
]
