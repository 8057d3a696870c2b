"""Sets ``request.actor`` for portal requests from the person's chosen company."""

from __future__ import annotations

from collections.abc import Callable

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
