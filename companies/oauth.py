"""OAuth2 rules beyond django-oauth-toolkit's defaults: only live company clients."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


class CompanyOAuth2Validator(OAuth2Validator):
    """A token is issued only to an application that is a company's unrevoked API client."""

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        client = getattr(request.client, "api_client", None)
        return client is not None and client.revoked_at is None
