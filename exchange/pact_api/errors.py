"""PACT error responses: ``{"code", "message"}`` with the HTTP status of the code.

The specification (section "Error Handling" and the ``Error`` schema of the v3 OpenAPI
document) fixes the codes; v2.3 has its own table. Where the two differ, each version
answers as its own text says:

================  ==========================  ==========================
what happened     /3 (PACT v3)                /2 (PACT v2.3)
================  ==========================  ==========================
bad request       BadRequest 400              BadRequest 400
no/invalid token  BadRequest **401**          BadRequest 400
expired token     TokenExpired 401            TokenExpired 401
not allowed       AccessDenied 403            AccessDenied 403
unknown id        NotFound 404                NoSuchFootprint 404
not supported     NotImplemented 400          NotImplemented 400
unexpected        InternalError 500           InternalError 500
================  ==========================  ==========================

v3 requires a 401 for an invalid or expired token but its code list has no code for
"invalid"; the PACT conformance suite expects ``BadRequest`` there, so that is the
code. Every 401 carries an RFC 6750 ``WWW-Authenticate: Bearer`` challenge.
``NotImplemented`` is a 4xx because the v3 events action must answer an invalid event
with a 4xx (the v2.3 table says 400).

The token endpoint does not use these: it answers in OAuth 2.0's own error format
(RFC 6749 section 5.2), see ``oauth_error``.
"""

from __future__ import annotations

import enum
import json
from typing import Any

from django.http import HttpResponse


class Problem(enum.Enum):
    BAD_REQUEST = "bad_request"
    TOKEN_INVALID = "token_invalid"
    TOKEN_EXPIRED = "token_expired"
    ACCESS_DENIED = "access_denied"
    NOT_FOUND = "not_found"
    NOT_IMPLEMENTED = "not_implemented"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    INTERNAL = "internal"


#: (code, HTTP status) per problem, for each API version.
_TABLE: dict[str, dict[Problem, tuple[str, int]]] = {
    "3": {
        Problem.BAD_REQUEST: ("BadRequest", 400),
        Problem.TOKEN_INVALID: ("BadRequest", 401),
        Problem.TOKEN_EXPIRED: ("TokenExpired", 401),
        Problem.ACCESS_DENIED: ("AccessDenied", 403),
        Problem.NOT_FOUND: ("NotFound", 404),
        Problem.NOT_IMPLEMENTED: ("NotImplemented", 400),
        Problem.METHOD_NOT_ALLOWED: ("NotImplemented", 405),
        Problem.INTERNAL: ("InternalError", 500),
    },
    "2": {
        Problem.BAD_REQUEST: ("BadRequest", 400),
        Problem.TOKEN_INVALID: ("BadRequest", 400),
        Problem.TOKEN_EXPIRED: ("TokenExpired", 401),
        Problem.ACCESS_DENIED: ("AccessDenied", 403),
        Problem.NOT_FOUND: ("NoSuchFootprint", 404),
        Problem.NOT_IMPLEMENTED: ("NotImplemented", 400),
        Problem.METHOD_NOT_ALLOWED: ("NotImplemented", 405),
        Problem.INTERNAL: ("InternalError", 500),
    },
}

REALM = "pact"


class PactError(Exception):
    """A request the PACT API refuses; rendered per version by ``error_response``."""

    def __init__(
        self, problem: Problem, message: str, *, allow: str = "", no_credentials: bool = False
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message
        self.allow = allow
        # RFC 6750 section 3.1: a request without credentials gets a bare challenge.
        self.no_credentials = no_credentials


def json_response(body: Any, *, status: int = 200) -> HttpResponse:
    """A compact UTF-8 JSON response that no cache keeps (the bodies are per client)."""
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
    )
    response["Cache-Control"] = "no-store"
    return response


def error_response(error: PactError, *, version: str) -> HttpResponse:
    """The PACT error body and status for ``error`` in API ``version`` ("3" or "2")."""
    code, status = _TABLE[version][error.problem]
    response = json_response({"code": code, "message": error.message}, status=status)
    if status == 401:
        challenge = f'Bearer realm="{REALM}"'
        if not error.no_credentials:
            detail = error.message.replace('"', "'")
            challenge += f', error="invalid_token", error_description="{detail}"'
        response["WWW-Authenticate"] = challenge
    if error.allow:
        response["Allow"] = error.allow
    return response


def oauth_error(error: str, description: str, *, status: int = 400) -> HttpResponse:
    """An RFC 6749 section 5.2 error of the token endpoint."""
    response = json_response({"error": error, "error_description": description}, status=status)
    response["Pragma"] = "no-cache"
    return response
