"""The base every platform API view stands on: it resolves the acting company."""

from __future__ import annotations

from typing import Any

from oauth2_provider.models import AccessToken
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.views import APIView

from companies.access import Actor


def actor_from_request(request: Request) -> Actor:
    """The actor behind an API request: an OAuth2 client's company, or a person's
    session-chosen company."""
    token = request.auth
    if isinstance(token, AccessToken):
        client = getattr(token.application, "api_client", None) if token.application else None
        if client is None or client.revoked_at is not None:
            raise exceptions.AuthenticationFailed("this API client is revoked or unknown")
        return Actor(company=client.company, role=client.role, client=client)
    actor = getattr(request._request, "actor", None)
    if actor is None:
        raise exceptions.PermissionDenied("you are not a member of any company")
    return actor


class ActorAPIView(APIView):
    """An API view acting for one company; ``self.actor`` is set before the handler runs."""

    actor: Actor

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.actor = actor_from_request(request)


def choice_param(request: Request, name: str, choices: list[str]) -> str:
    """A query parameter that must be one of ``choices`` (or absent: "")."""
    from companies.errors import ValidationFailed

    value = request.query_params.get(name, "")
    if value and value not in choices:
        raise ValidationFailed.single(name, f"must be one of {', '.join(choices)}; got {value!r}")
    return value
