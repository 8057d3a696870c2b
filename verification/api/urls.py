from django.urls import path

from . import views

app_name = "verification-api"

E = "engagements/<int:engagement_id>"

urlpatterns = [
    path("verifiers", views.VerifiersView.as_view(), name="verifiers"),
    path("accreditations", views.AccreditationsView.as_view(), name="accreditations"),
    path(
        "accreditations/<int:accreditation_id>",
        views.AccreditationView.as_view(),
        name="accreditation",
    ),
    path(
        "accreditations/<int:accreditation_id>/suspend",
        views.AccreditationSuspendView.as_view(),
        name="accreditation-suspend",
    ),
    path(
        "accreditations/<int:accreditation_id>/reinstate",
        views.AccreditationReinstateView.as_view(),
        name="accreditation-reinstate",
    ),
    path("zone-policy", views.ZonePolicyView.as_view(), name="zone-policy"),
    path("engagements", views.EngagementsView.as_view(), name="engagements"),
    path(E, views.EngagementView.as_view(), name="engagement"),
    path(f"{E}/accept", views.EngagementAcceptView.as_view(), name="engagement-accept"),
    path(f"{E}/decline", views.EngagementDeclineView.as_view(), name="engagement-decline"),
    path(
        f"{E}/start-review",
        views.EngagementStartReviewView.as_view(),
        name="engagement-start-review",
    ),
    path(
        f"{E}/request-changes",
        views.EngagementRequestChangesView.as_view(),
        name="engagement-request-changes",
    ),
    path(f"{E}/resubmit", views.EngagementResubmitView.as_view(), name="engagement-resubmit"),
    path(f"{E}/refuse", views.EngagementRefuseView.as_view(), name="engagement-refuse"),
    path(f"{E}/revoke", views.EngagementRevokeView.as_view(), name="engagement-revoke"),
    path(
        f"{E}/attestation-draft",
        views.AttestationDraftView.as_view(),
        name="engagement-attestation-draft",
    ),
    path(f"{E}/attest", views.EngagementAttestView.as_view(), name="engagement-attest"),
    path(f"{E}/evidence", views.EvidenceListView.as_view(), name="engagement-evidence"),
    path(
        f"{E}/evidence/<int:evidence_id>",
        views.EvidenceDownloadView.as_view(),
        name="engagement-evidence-file",
    ),
    path(f"{E}/findings", views.FindingsView.as_view(), name="engagement-findings"),
    path(
        f"{E}/findings/<int:number>/replies",
        views.FindingReplyView.as_view(),
        name="engagement-finding-replies",
    ),
    path(
        f"{E}/findings/<int:number>/resolve",
        views.FindingResolveView.as_view(),
        name="engagement-finding-resolve",
    ),
    path(f"{E}/site-visits", views.SiteVisitsView.as_view(), name="engagement-site-visits"),
    path("attestations", views.AttestationsView.as_view(), name="attestations"),
    path("attestations/<str:credential_id>", views.AttestationView.as_view(), name="attestation"),
    path(
        "footprints/<str:pf_id>/bundle",
        views.FootprintBundleView.as_view(),
        name="footprint-bundle",
    ),
]
