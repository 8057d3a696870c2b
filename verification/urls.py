"""Portal pages of the verification workflow (mounted at /verification/)."""

from django.urls import path

from . import views

app_name = "verification"

urlpatterns = [
    path("", views.home, name="home"),
    path("request/", views.request_verification, name="request"),
    path("inbox/", views.inbox, name="inbox"),
    path("engagements/<int:engagement_id>/", views.engagement_detail, name="engagement"),
    path("engagements/<int:engagement_id>/step/", views.engagement_step, name="step"),
    path(
        "engagements/<int:engagement_id>/evidence/", views.evidence_upload, name="evidence-upload"
    ),
    path(
        "engagements/<int:engagement_id>/evidence/<int:evidence_id>/",
        views.evidence_download,
        name="evidence",
    ),
    path("engagements/<int:engagement_id>/findings/", views.finding_raise, name="finding-raise"),
    path(
        "engagements/<int:engagement_id>/findings/<int:number>/reply/",
        views.finding_reply,
        name="finding-reply",
    ),
    path(
        "engagements/<int:engagement_id>/findings/<int:number>/resolve/",
        views.finding_resolve,
        name="finding-resolve",
    ),
    path(
        "engagements/<int:engagement_id>/site-visits/",
        views.site_visit_record,
        name="site-visit",
    ),
    path("engagements/<int:engagement_id>/attest/", views.attest, name="attest"),
    path("credentials/", views.credentials, name="credentials"),
    path(
        "credentials/<str:credential_id>.json",
        views.credential_download,
        name="credential",
    ),
    path(
        "operator/accreditations/",
        views.operator_accreditations,
        name="operator-accreditations",
    ),
    path(
        "operator/accreditations/<int:accreditation_id>/suspend/",
        views.accreditation_suspend,
        name="accreditation-suspend",
    ),
    path(
        "operator/accreditations/<int:accreditation_id>/reinstate/",
        views.accreditation_reinstate,
        name="accreditation-reinstate",
    ),
]
