"""The PACT v3 host actions: Authenticate, ListFootprints, GetFootprint, Events.

Plain Django views (not DRF): the shapes are the PACT specification's, and these
routes are left out of the platform's OpenAPI schema on purpose (the specification
publishes its own). Every route refuses plain HTTP (see ``auth``), answers errors with
the PACT error body (see ``errors``) and never caches.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.views import TokenView

from companies.access import Actor
from companies.errors import DomainError, PermissionDenied
from exchange.models import Footprint
from exchange.pact.fields import FieldError, parse_datetime
from exchange.pact.filters import Criteria
from exchange.selectors import footprint_document, visible_footprints
from exchange.sharing import record_pull

from .auth import absolute_url, authenticate, base_url, https_allowed
from .errors import PactError, Problem, error_response, json_response, oauth_error
from .pagination import SERVED_FIELDS, fetch_page, next_link, read_page_request
from .querysets import narrow_columns, narrow_content

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]

HTTPS_REQUIRED = "HTTPS is required: this API does not accept plain HTTP"
#: The CloudEvents ``type`` of each v3 event a host must handle.
EVENT_TYPES = (
    "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
    "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
    "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3",
    "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3",
)
EVENT_CONTENT_TYPES = ("application/cloudevents+json", "application/json")


def pact_endpoint(version: str, methods: tuple[str, ...]) -> Callable[[View], View]:
    """Wrap a PACT action: HTTPS first, then the method, then the handler; any
    ``PactError`` becomes the version's error response, anything unexpected an
    InternalError (logged)."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def handler(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if not https_allowed(request):
                    raise PactError(Problem.ACCESS_DENIED, HTTPS_REQUIRED)
                if request.method not in methods:
                    raise PactError(
                        Problem.METHOD_NOT_ALLOWED,
                        f"{request.method} is not supported here; use {' or '.join(methods)}",
                        allow=", ".join(methods),
                    )
                return view(request, *args, **kwargs)
            except PactError as error:
                return error_response(error, version=version)
            except SuspiciousOperation as exc:
                return error_response(PactError(Problem.BAD_REQUEST, str(exc)), version=version)
            except Exception:
                logger.exception("PACT %s %s failed", request.method, request.path)
                return error_response(
                    PactError(Problem.INTERNAL, "an internal or unexpected error has occurred"),
                    version=version,
                )

        return handler

    return decorate


# ------------------------------------------------------------------- authentication


@pact_endpoint("3", ("GET",))
def openid_configuration(request: HttpRequest) -> HttpResponse:
    """The OpenID Provider Configuration Document: where the token endpoint is.

    The specification uses only ``token_endpoint``; the other members say what the
    endpoint supports. This is not a full OpenID provider (no ID tokens, no JWKS): the
    access tokens are opaque.
    """
    return json_response(
        {
            "issuer": base_url(request),
            "token_endpoint": absolute_url(request, reverse("pact:token")),
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": ["token"],
            "scopes_supported": ["read", "write"],
        }
    )


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """Action Authenticate: OAuth 2.0 client credentials (RFC 6749 section 4.4).

    Credentials in HTTP Basic (as the specification shows) or in the form body; only
    ``grant_type=client_credentials``. django-oauth-toolkit issues the token (the
    project's validator gives tokens only to live company API clients), so the answer
    is RFC 6749's: ``{"access_token", "token_type": "Bearer", "expires_in", "scope"}``,
    or ``{"error", "error_description"}`` with 400 (or 401 for bad client credentials).
    """
    if not https_allowed(request):
        return oauth_error("invalid_request", HTTPS_REQUIRED)
    if request.method != "POST":
        response = oauth_error("invalid_request", "use POST", status=405)
        response["Allow"] = "POST"
        return response
    try:
        request.body  # noqa: B018 - read (and keep) the body before the form parser
        grant_type = request.POST.get("grant_type", "")
    except SuspiciousOperation:
        return oauth_error("invalid_request", "the request body could not be read")
    if not grant_type:
        return oauth_error("invalid_request", "grant_type is required (client_credentials)")
    if grant_type != "client_credentials":
        return oauth_error(
            "unsupported_grant_type", "only the client_credentials grant is supported"
        )
    response = TokenView.as_view()(request)
    return _describe_oauth_error(response)


_OAUTH_DESCRIPTIONS = {
    "invalid_client": "client authentication failed",
    "invalid_request": "the token request is malformed",
    "invalid_scope": "the requested scope is not available to this client",
    "unauthorized_client": "this client may not use the client_credentials grant",
}


def _describe_oauth_error(response: HttpResponse) -> HttpResponse:
    """Give every token error an ``error_description`` (as the specification's example
    has); the error code and status stay oauthlib's."""
    if response.status_code < 400:
        return response
    try:
        body = json.loads(response.content)
    except ValueError:
        return response
    if isinstance(body, dict) and "error" in body and not body.get("error_description"):
        body["error_description"] = _OAUTH_DESCRIPTIONS.get(body["error"], "the request failed")
        response.content = json.dumps(body).encode()
        response["Content-Length"] = str(len(response.content))
    return response


# ----------------------------------------------------------------------- footprints


def served(footprint: Footprint) -> dict[str, Any]:
    """The document a client receives: as signed, with current status and verification."""
    return footprint_document(footprint)


def v3_criteria(query: Any) -> dict[str, list[str]]:
    """The v3 filter criteria of a query string (known names, any case)."""
    return Criteria.parse(query).as_params()


def _criteria_accept(criteria: Criteria) -> Callable[[Footprint, Any], bool] | None:
    if not criteria.needs_python:
        return None

    def accept(footprint: Footprint, document: Any) -> bool:
        return criteria.matches(document, footprint.reference_period_end)

    return accept


@pact_endpoint("3", ("GET",))
def footprints(request: HttpRequest) -> HttpResponse:
    """Action ListFootprints: ``{"data": [ProductFootprint, …]}`` of the footprints the
    client's company may see, filtered (``exchange.pact.filters``), newest first,
    paginated (``pagination``). Deprecated footprints are listed unless ``status``
    asks otherwise, as the specification recommends."""
    actor = authenticate(request)
    page = read_page_request(
        request, version="3", company_id=actor.company.pk, criteria_params=v3_criteria
    )
    criteria = Criteria.parse(page.params)
    rows, more = fetch_page(
        narrow_columns(criteria, visible_footprints(actor.company)),
        page,
        serve=served,
        accept=_criteria_accept(criteria),
        refine=(lambda rows: narrow_content(criteria, rows)) if criteria.needs_document else None,
    )
    response = json_response({"data": [document for _, document in rows]})
    if more:
        response["Link"] = next_link(
            request, page, version="3", company_id=actor.company.pk, last_pk=rows[-1][0].pk
        )
    record_pull(actor=actor, footprints=[footprint for footprint, _ in rows], channel="pact-v3")
    return response


def visible_footprint(actor: Actor, pf_id: str) -> Footprint:
    """The footprint ``pf_id`` if the actor's company may see it; NOT_FOUND otherwise,
    the same for an id that does not exist and one it may not see."""
    try:
        key = uuid.UUID(pf_id)
    except ValueError:
        raise PactError(Problem.BAD_REQUEST, f"{pf_id!r} is not a footprint id (UUID)") from None
    found: QuerySet[Footprint] = visible_footprints(actor.company).filter(pf_id=key)
    footprint = next(iter(found.order_by().only(*SERVED_FIELDS)[:1]), None)
    if footprint is None:
        raise PactError(Problem.NOT_FOUND, f"no footprint {key}")
    return footprint


@pact_endpoint("3", ("GET",))
def footprint(request: HttpRequest, pf_id: str) -> HttpResponse:
    """Action GetFootprint: ``{"data": ProductFootprint}``; a deprecated footprint is
    returned as such. A footprint the client may not see is reported exactly like an
    id that does not exist (404 NotFound), so its existence does not leak."""
    actor = authenticate(request)
    found = visible_footprint(actor, pf_id)
    response = json_response({"data": served(found)})
    record_pull(actor=actor, footprints=[found], channel="pact-v3")
    return response


# --------------------------------------------------------------------------- events


def _event_receiver() -> Callable[[Actor, dict[str, Any]], None]:
    """``exchange.pact_events.receive_event``, looked up per call."""
    try:
        module = importlib.import_module("exchange.pact_events")
    except ModuleNotFoundError as exc:
        if exc.name != "exchange.pact_events":
            raise
        raise PactError(Problem.NOT_IMPLEMENTED, "this host does not process events yet") from None
    receiver: Callable[[Actor, dict[str, Any]], None] = module.receive_event
    return receiver


def _non_empty_string(event: dict[str, Any], name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value.strip():
        raise PactError(Problem.BAD_REQUEST, f"the event's {name} must be a non-empty string")
    return value


def parse_event(request: HttpRequest) -> dict[str, Any]:
    """The CloudEvent of the request, its envelope checked.

    The specification: a JSON CloudEvent in structured content mode
    (``application/cloudevents+json``; ``application/json`` is accepted too) with
    ``specversion`` "1.0", ``id``, ``source``, ``type``, ``time`` (RFC 3339) and a
    ``data`` object. An event that is not one is a BadRequest; one of a type this host
    does not know is NotImplemented. What ``data`` must hold is the receiver's to check.
    """
    content_type = request.content_type or ""
    if content_type == "application/cloudevents-batch+json":
        raise PactError(Problem.NOT_IMPLEMENTED, "batched events are not supported")
    if content_type not in EVENT_CONTENT_TYPES:
        raise PactError(
            Problem.BAD_REQUEST,
            "send the event as application/cloudevents+json (structured content mode)",
        )
    try:
        event = json.loads(request.body, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError):
        raise PactError(Problem.BAD_REQUEST, "the body is not JSON") from None
    if not isinstance(event, dict):
        raise PactError(Problem.BAD_REQUEST, "the event must be a JSON object")
    if event.get("specversion") != "1.0":
        raise PactError(Problem.BAD_REQUEST, 'the event\'s specversion must be "1.0"')
    for name in ("id", "source", "type"):
        _non_empty_string(event, name)
    try:
        parse_datetime(event.get("time"))
    except FieldError as exc:
        raise PactError(Problem.BAD_REQUEST, f"the event's time {exc}") from None
    if not isinstance(event.get("data"), dict):
        raise PactError(Problem.BAD_REQUEST, "the event's data must be a JSON object")
    if event["type"] not in EVENT_TYPES:
        raise PactError(
            Problem.NOT_IMPLEMENTED,
            f"unknown event type {event['type']!r}; this host handles {', '.join(EVENT_TYPES)}",
        )
    return event


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@pact_endpoint("3", ("POST",))
def events(request: HttpRequest) -> HttpResponse:
    """Action Events: a valid event is handed to ``exchange.pact_events.receive_event``
    and answered with 200 and an empty body. The receiver refuses a bad or unregistered
    event with a domain error: a refusal of permission becomes AccessDenied (403),
    anything else BadRequest (400)."""
    actor = authenticate(request)
    event = parse_event(request)
    receive = _event_receiver()
    try:
        receive(actor, event)
    except PermissionDenied as exc:
        raise PactError(Problem.ACCESS_DENIED, exc.message) from None
    except DomainError as exc:
        raise PactError(Problem.BAD_REQUEST, exc.message) from None
    return HttpResponse(status=200)
