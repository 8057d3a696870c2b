from django.urls import path

from . import public_views

app_name = "verification-public"

urlpatterns = [
    path(
        "companies/<slug:slug>/did.json",
        public_views.company_did_document,
        name="did-document",
    ),
    path("credentials/status/<int:list_id>", public_views.status_list, name="status-list"),
]
