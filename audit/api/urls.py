"""Public audit API, mounted at /api/v1/audit/ (namespace "audit-api")."""

from django.urls import path

from . import views

app_name = "audit-api"

urlpatterns = [
    path("log-key", views.LogKeyView.as_view(), name="log-key"),
    path("checkpoint", views.CheckpointLatestView.as_view(), name="checkpoint-latest"),
    path("checkpoints/<int:size>", views.CheckpointDetailView.as_view(), name="checkpoint-detail"),
    path("entries", views.EntryRangeView.as_view(), name="entry-list"),
    path("entries/<int:seq>", views.EntryProofView.as_view(), name="entry-detail"),
    path("consistency", views.ConsistencyView.as_view(), name="consistency"),
    path("cosignatures", views.CosignatureSubmitView.as_view(), name="cosignature-submit"),
]
