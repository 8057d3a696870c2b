"""URL map: portal pages, the platform API (/api/v1/), OAuth2 and the API docs."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from oauth2_provider import views as oauth2_views


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for the container healthcheck."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


oauth2_patterns = (
    [
        path("token/", oauth2_views.TokenView.as_view(), name="token"),
        path("revoke_token/", oauth2_views.RevokeTokenView.as_view(), name="revoke-token"),
    ],
    "oauth2",
)

urlpatterns = [
    path("", include("companies.urls")),
    path("audit/", include("audit.urls")),
    path("api/v1/audit/", include("audit.api.urls")),
    path("api/v1/", include("companies.api.urls")),
    path("api/v1/", include("exchange.api.urls")),
    path("footprints/", include("exchange.urls")),
    path("verification/", include("verification.urls")),
    path("api/v1/", include("verification.api.urls")),
    path("", include("verification.public_urls")),
    path("o/", include(oauth2_patterns)),
    path("", include("exchange.pact_api.urls")),  # PACT host API: /auth/token, /3/…, /2/…
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz", healthz, name="healthz"),
]
