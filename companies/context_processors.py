"""Template context shared by every portal page: the acting company and the switcher."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .selectors import memberships_of_user


def acting_company(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    context: dict[str, Any] = {"actor": actor, "zone_name": settings.ZONE_NAME}
    if actor is not None and actor.user is not None:
        context["my_memberships"] = memberships_of_user(user=actor.user)
    return context
