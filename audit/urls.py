"""Portal pages of the audit log, mounted at /audit/ (namespace "audit")."""

from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.company_log, name="company"),
    path("operator/", views.operator_log, name="operator"),
    path("operator/checkpoint", views.checkpoint_sign, name="checkpoint-sign"),
]
