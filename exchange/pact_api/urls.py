"""The PACT host routes, mounted at the site root (the specification fixes the paths:
``/auth/token``, ``/.well-known/openid-configuration``, ``/3/…``; ``/2/…`` for v2.3).
No trailing slashes, as in the specification."""

from django.urls import path

from . import v2, views

app_name = "pact"

urlpatterns = [
    path(
        ".well-known/openid-configuration",
        views.openid_configuration,
        name="openid-configuration",
    ),
    path("auth/token", views.token, name="token"),
    path("3/footprints", views.footprints, name="footprints"),
    path("3/footprints/<str:pf_id>", views.footprint, name="footprint"),
    path("3/events", views.events, name="events"),
    path("2/footprints", v2.footprints, name="v2-footprints"),
    path("2/footprints/<str:pf_id>", v2.footprint, name="v2-footprint"),
]
