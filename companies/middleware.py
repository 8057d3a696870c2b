"""Sets ``request.actor`` for portal requests from the person's chosen company."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .access import Actor
from .selectors import membership_for

SESSION_COMPANY_KEY = "acting_company_id"


def actor_for_session(request: HttpRequest) -> Actor | None:
    user = request.user
    if not user.is_authenticated:
        return None
    membership = membership_for(user=user, company_id=request.session.get(SESSION_COMPANY_KEY))
    if membership is None:
        return None
    return Actor(company=membership.company, role=membership.role, user=user)


class ActingCompanyMiddleware:
    """Resolves the acting company lazily-cheaply once per request (one indexed query)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = actor_for_session(request)  # type: ignore[attr-defined]
        return self.get_response(request)


def client_ip(request: HttpRequest) -> str:
    """The client's address for login throttling, trusting only our own proxies.

    Addresses further left in X-Forwarded-For were written by the client and can be
    forged; the one added by the outermost trusted proxy cannot.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    return forwarded[-hops] if len(forwarded) >= hops else remote
