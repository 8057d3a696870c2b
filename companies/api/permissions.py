"""The default permission of the platform API: a signed-in person or a machine client."""

from __future__ import annotations

from typing import Any

from oauth2_provider.models import AccessToken
from rest_framework.permissions import BasePermission
from rest_framework.request import Request


class IsPersonOrClient(BasePermission):
    """A signed-in person, or an OAuth2 client-credentials token (which has no user).

    Which company and role the request acts with, and whether the client is still
    valid, is decided once in ``actor_from_request``.
    """

    message = "sign in, or send a Bearer token from /o/token/"

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, AccessToken):
            return True
        return bool(request.user and request.user.is_authenticated)
