"""HTTPS and Bearer tokens for the PACT routes.

The specification: a host system offers its actions over HTTPS only, authenticates
every client first (OAuth 2.0 client credentials), and answers an expired or invalid
access token with a 401.

HTTPS is decided from the connection itself, or, behind ``TRUSTED_PROXY_COUNT``
proxies, from the ``X-Forwarded-Proto`` value the outermost trusted proxy wrote (as
``companies.middleware.client_ip`` does for addresses). Django's own
``request.is_secure()`` is not used: ``SECURE_PROXY_SSL_HEADER`` trusts that header
from anyone, also when no proxy is configured. Plain HTTP is refused unless
``PACT_ALLOW_HTTP`` (environment ``PACT_ALLOW_HTTP``, for development) is on; the
refusal is an error, never a redirect (a redirect comes after the client has already
sent its secret in clear).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpRequest
from oauth2_provider.models import get_access_token_model
from oauthlib.common import Request as OAuthRequest

from companies.access import Actor
from companies.models import ApiClient

from .errors import PactError, Problem


def request_scheme(request: HttpRequest) -> str:
    """``https`` or ``http``: how the client reached us (see the module text)."""
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_PROTO") if hops > 0 else None
    if forwarded:
        values = [part.strip().lower() for part in forwarded.split(",") if part.strip()]
        if values:
            value = values[-hops] if len(values) >= hops else values[0]
            return "https" if value == "https" else "http"
    return "https" if request.META.get("wsgi.url_scheme") == "https" else "http"


def https_allowed(request: HttpRequest) -> bool:
    """Whether the request may be served: HTTPS, or plain HTTP where allowed."""
    return request_scheme(request) == "https" or bool(settings.PACT_ALLOW_HTTP)


def base_url(request: HttpRequest) -> str:
    """``scheme://host`` as the client addressed us (the ``Host`` header, validated
    against ALLOWED_HOSTS), plus the script prefix when mounted under a subpath."""
    prefix = request.META.get("SCRIPT_NAME", "").rstrip("/")
    return f"{request_scheme(request)}://{request.get_host()}{prefix}"


def absolute_url(request: HttpRequest, path: str) -> str:
    """An absolute URL for a path made by ``reverse`` (which includes the prefix)."""
    return f"{request_scheme(request)}://{request.get_host()}{path}"


def _bearer_token(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        raise PactError(
            Problem.TOKEN_INVALID,
            "no access token: send 'Authorization: Bearer <token>' from /auth/token",
            no_credentials=True,
        )
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise PactError(
            Problem.TOKEN_INVALID, "the Authorization header must be 'Bearer <access token>'"
        )
    return token


def authenticate(request: HttpRequest) -> Actor:
    """The company (as its API client) behind the request's Bearer token.

    Raises ``PactError``: TOKEN_INVALID for a missing or unknown token, a token of
    another kind of application, or one of a revoked client; TOKEN_EXPIRED for a
    token past its expiry. Tokens are django-oauth-toolkit's: looked up as it stores
    them (by SHA-256) and judged by its own model checks (expiry, RFC 8707 audience,
    ``Application.is_usable``), as its validator does for the platform API, in one
    query with the client and its company.
    """
    token = _bearer_token(request)
    checksum = hashlib.sha256(token.encode()).hexdigest()
    access_token = (
        get_access_token_model()
        .objects.select_related(
            "application", "application__api_client", "application__api_client__company"
        )
        .filter(token_checksum=checksum)
        .first()
    )
    if access_token is None or access_token.application is None:
        raise PactError(Problem.TOKEN_INVALID, "invalid access token")
    if access_token.is_expired():
        raise PactError(Problem.TOKEN_EXPIRED, "the access token has expired")
    application = access_token.application
    core = OAuthRequest(absolute_url(request, request.path))
    usable = application.is_usable(core) and (
        not access_token.resource or access_token.allows_audience(core.uri)
    )
    client: ApiClient | None = getattr(application, "api_client", None)
    if not usable or client is None or client.revoked_at is not None:
        raise PactError(Problem.TOKEN_INVALID, "invalid access token")
    return Actor(company=client.company, role=client.role, client=client)
