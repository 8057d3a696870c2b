"""PACT v3 events: received from partner hosts, and sent to them through an outbox.

Received (``receive_event``, called by the ``POST /3/events`` view with the actor of
the API client that sent the event; its company is the sender):

* ``RequestCreatedEvent``: a data request is made to every zone supplier whose
  products match the criteria (``productId``: a product with that id; otherwise an
  active footprint matching all criteria), answered later through the portal, the
  API or an auto-fulfil rule. When no supplier matches, a ``RequestRejectedEvent``
  (code NotFound) is queued back at once.
* ``PublishedEvent``, ``RequestFulfilledEvent``, ``RequestRejectedEvent``: accepted
  and recorded in the audit log; the exchange is not a data recipient of outside
  hosts, so there is nothing else to do with them.

The ``source`` of an event must lie under a partner host registered for the sending
company (``exchange.partners``); answers go to that partner.

Sent (``OutboxMessage`` rows written in the transaction that causes them, delivered by
the ``exchange.tasks.deliver_outbox`` task with retries and exponential backoff for at
most 72 hours):

* when a request that came as an event is answered: one ``RequestFulfilledEvent``
  (the footprints as served) or ``RequestRejectedEvent`` per received
  ``RequestCreatedEvent``. An event that reached several suppliers is answered by the
  first fulfilment; later fulfilments go out as ``PublishedEvent``; it is rejected
  only when every supplier has rejected it.
* when a footprint a buyer had a live grant of is replaced by a new version: a
  ``PublishedEvent`` to that buyer's partner hosts naming the deprecated footprint
  and, if the buyer may see it, its successor.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_append
from companies.access import Actor
from companies.errors import ValidationFailed
from companies.models import Company, CompanyIdentifier, CompanyStatus, MemberRole

from . import sharing
from .models import (
    AccessGrant,
    DataRequest,
    Footprint,
    FootprintStatus,
    OutboxMessage,
    OutboxStatus,
    PartnerHost,
    ProductIdentifier,
    RequestStatus,
)
from .partners import PartnerSecretError, partner_for_source, partner_secret

logger = logging.getLogger(__name__)

_PREFIX = "org.wbcsd.pact.ProductFootprint."
PUBLISHED = _PREFIX + "PublishedEvent.3"
REQUEST_CREATED = _PREFIX + "RequestCreatedEvent.3"
REQUEST_FULFILLED = _PREFIX + "RequestFulfilledEvent.3"
REQUEST_REJECTED = _PREFIX + "RequestRejectedEvent.3"
EVENT_TYPES = (PUBLISHED, REQUEST_CREATED, REQUEST_FULFILLED, REQUEST_REJECTED)
CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"

#: Filter criteria of a RequestCreatedEvent: lists of strings, or one date-time / status.
LIST_CRITERIA = ("productId", "companyId", "geography", "classification")
TIME_CRITERIA = ("validOn", "validAfter", "validBefore")
MAX_CRITERION_VALUES = 100
MAX_EVENT_ID = DataRequest._meta.get_field("event_id").max_length or 200
MAX_SOURCE = DataRequest._meta.get_field("event_source").max_length or 500
MAX_LAST_ERROR = OutboxMessage._meta.get_field("last_error").max_length or 1000

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


# ------------------------------------------------------------------ envelope checks


def _parse_time(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValidationFailed.single(
            field,
            f"must be an RFC 3339 date-time with offset, e.g. 2025-03-05T17:31:00Z; got {value!r}",
        )
    text = value[:10] + "T" + value[11:]
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed.single(field, f"{value!r} is not a valid date-time") from None


def _text(event: Mapping[str, Any], name: str, *, max_length: int) -> str:
    if name not in event:
        raise ValidationFailed.single(name, "is required")
    value = event[name]
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed.single(name, "must be a non-empty string")
    if len(value) > max_length:
        raise ValidationFailed.single(name, f"must be at most {max_length} characters")
    if any(ord(ch) < 0x20 for ch in value):
        raise ValidationFailed.single(name, "must not contain control characters")
    return value


@dataclass(frozen=True)
class Envelope:
    type: str
    id: str
    source: str
    time: datetime
    data: dict[str, Any]


def validate_envelope(event: Any) -> Envelope:
    """The CloudEvents members PACT requires (specversion 1.0, id, source, time, type,
    data); a missing or wrong one is refused naming it."""
    if not isinstance(event, Mapping):
        raise ValidationFailed.single("event", "must be a JSON object (a CloudEvent)")
    if "specversion" not in event:
        raise ValidationFailed.single("specversion", "is required")
    if event["specversion"] != "1.0":
        raise ValidationFailed.single(
            "specversion", f'must be "1.0" (CloudEvents 1.0), got {event["specversion"]!r}'
        )
    type_ = _text(event, "type", max_length=200)
    if type_ not in EVENT_TYPES:
        raise ValidationFailed.single(
            "type", f"unknown event type {type_!r}; accepted: {', '.join(EVENT_TYPES)}"
        )
    event_id = _text(event, "id", max_length=MAX_EVENT_ID)
    source = _text(event, "source", max_length=MAX_SOURCE)
    if "time" not in event:
        raise ValidationFailed.single("time", "is required")
    when = _parse_time(event["time"], "time")
    if "data" not in event:
        raise ValidationFailed.single("data", "is required")
    if not isinstance(event["data"], Mapping):
        raise ValidationFailed.single("data", "must be a JSON object")
    return Envelope(type=type_, id=event_id, source=source, time=when, data=dict(event["data"]))


def _string_list(data: Mapping[str, Any], key: str) -> list[str] | None:
    if key not in data:
        return None
    value = data[key]
    values = [value] if isinstance(value, str) else value
    field = f"data.{key}"
    if not isinstance(values, list) or not values:
        raise ValidationFailed.single(field, "must be a non-empty list of strings")
    if len(values) > MAX_CRITERION_VALUES:
        raise ValidationFailed.single(field, f"may hold at most {MAX_CRITERION_VALUES} values")
    for index, item in enumerate(values):
        if not isinstance(item, str) or not item.strip():
            raise ValidationFailed.single(f"{field}[{index}]", "must be a non-empty string")
        if len(item) > 255:
            raise ValidationFailed.single(f"{field}[{index}]", "must be at most 255 characters")
    return [item.strip() for item in values]


def request_criteria(data: Mapping[str, Any]) -> tuple[dict[str, list[str]], str]:
    """The filter criteria and comment of a RequestCreatedEvent's ``data``.

    Unknown members are ignored (PACT lets a host ignore what it does not support),
    but at least one known criterion must be given.
    """
    criteria: dict[str, list[str]] = {}
    for key in LIST_CRITERIA:
        values = _string_list(data, key)
        if values is not None:
            criteria[key] = values
    for key in TIME_CRITERIA:
        if key in data:
            _parse_time(data[key], f"data.{key}")
            criteria[key] = [data[key]]
    if "status" in data:
        status = data["status"]
        if not isinstance(status, str) or status.lower() not in ("active", "deprecated"):
            raise ValidationFailed.single("data.status", 'must be "Active" or "Deprecated"')
        criteria["status"] = [status.capitalize()]
    comment = data.get("comment", "")
    if not isinstance(comment, str):
        raise ValidationFailed.single("data.comment", "must be a string")
    if len(comment) > sharing.MAX_COMMENT:
        raise ValidationFailed.single(
            "data.comment", f"must be at most {sharing.MAX_COMMENT} characters"
        )
    if not criteria:
        raise ValidationFailed.single(
            "data",
            "give at least one criterion: " + ", ".join((*LIST_CRITERIA, *TIME_CRITERIA, "status")),
        )
    return criteria, comment.strip()


def _request_event_id(data: Mapping[str, Any]) -> str:
    value = data.get("requestEventId")
    if not isinstance(value, str) or not value:
        raise ValidationFailed.single("data.requestEventId", "is required (a string)")
    return value


def _check_answer_data(type_: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The data members of the events the exchange only records; a summary for the log."""
    if type_ == PUBLISHED:
        ids = data.get("pfIds")
        if not isinstance(ids, list) or not ids:
            raise ValidationFailed.single("data.pfIds", "must be a non-empty list of footprint ids")
        for index, pf_id in enumerate(ids):
            try:
                uuid.UUID(pf_id if isinstance(pf_id, str) else "")
            except ValueError:
                raise ValidationFailed.single(
                    f"data.pfIds[{index}]", f"must be a footprint id (UUID), got {pf_id!r}"
                ) from None
        return {"pf_ids": [str(pf_id) for pf_id in ids][:MAX_CRITERION_VALUES]}
    request_event_id = _request_event_id(data)
    if type_ == REQUEST_FULFILLED:
        pfs = data.get("pfs")
        if not isinstance(pfs, list) or not pfs:
            raise ValidationFailed.single("data.pfs", "must be a non-empty list of footprints")
        for index, pf in enumerate(pfs):
            if not isinstance(pf, Mapping) or not isinstance(pf.get("id"), str):
                raise ValidationFailed.single(
                    f"data.pfs[{index}]", "must be a ProductFootprint object with an id"
                )
        return {
            "request_event_id": request_event_id,
            "pf_ids": [str(pf["id"])[:64] for pf in pfs][:MAX_CRITERION_VALUES],
        }
    error = data.get("error")
    if not isinstance(error, Mapping):
        raise ValidationFailed.single("data.error", "is required (an object with code and message)")
    for key in ("code", "message"):
        if not isinstance(error.get(key), str):
            raise ValidationFailed.single(f"data.error.{key}", "is required (a string)")
    return {"request_event_id": request_event_id, "error_code": error["code"][:100]}


# --------------------------------------------------------------------------- receipt


def _any_iexact(field: str, values: Iterable[str]) -> Q:
    query = Q()
    for value in values:
        query |= Q(**{f"{field}__iexact": value})
    return query


def _filter_footprints(footprints: Any, criteria: Mapping[str, list[str]]) -> Any:
    from .pact.filters import filter_footprints

    return filter_footprints(footprints, criteria)


def matching_suppliers(buyer: Company, criteria: Mapping[str, list[str]]) -> list[Company]:
    """Active zone suppliers (other than ``buyer``) a request with these criteria goes
    to: those named by ``companyId`` if given; with ``productId``, those having a
    product with one of the ids (its footprint may still have to be made); otherwise
    those with an active footprint matching every criterion."""
    candidates = Company.objects.filter(status=CompanyStatus.ACTIVE, is_supplier=True).exclude(
        pk=buyer.pk
    )
    if "companyId" in criteria:
        named = CompanyIdentifier.objects.filter(_any_iexact("urn", criteria["companyId"]))
        candidates = candidates.filter(pk__in=named.values("company_id"))
    if "productId" in criteria:
        products = ProductIdentifier.objects.filter(_any_iexact("urn", criteria["productId"]))
        candidates = candidates.filter(pk__in=products.values("company_id"))
    else:
        footprints = _filter_footprints(
            Footprint.objects.filter(status=FootprintStatus.ACTIVE, company__in=candidates),
            criteria,
        )
        candidates = candidates.filter(pk__in=footprints.values("company_id"))
    return list(candidates.order_by("pk"))


def _audit_received(actor: Actor, envelope: Envelope, **payload: Any) -> None:
    audit_append(
        type="pact.event.received",
        actor=actor.audit_ref,
        company=actor.company.slug,
        subject=f"pact_event:{envelope.id}"[:300],
        payload={
            "event_type": envelope.type,
            "event_id": envelope.id,
            "source": envelope.source,
            **payload,
        },
    )


@transaction.atomic
def receive_event(actor: Actor, event: dict[str, Any]) -> None:
    """Accept a PACT event sent by ``actor`` (an API client of a zone company).

    Raises ValidationFailed naming the member for a malformed event, an unknown type,
    or a ``source`` that is not a registered partner host of the sender; nothing is
    stored then. A repeated event (same id and source) is accepted and changes nothing.
    """
    envelope = validate_envelope(event)
    company = actor.company
    partner = partner_for_source(company, envelope.source)
    if partner is None:
        raise ValidationFailed.single(
            "source",
            f"{envelope.source} is not a registered partner host of {company.legal_name}",
        )
    if envelope.type != REQUEST_CREATED:
        summary = _check_answer_data(envelope.type, envelope.data)
        _audit_received(actor, envelope, partner=partner.base_url, **summary)
        return
    _receive_request(actor, envelope, partner)


def _receive_request(actor: Actor, envelope: Envelope, partner: PartnerHost) -> None:
    actor.require_role(MemberRole.EDITOR, to="request footprints")
    actor.require_writable()
    criteria, comment = request_criteria(envelope.data)
    # Answers to one partner are written one at a time (see _on_request_answered).
    PartnerHost.objects.select_for_update().filter(pk=partner.pk).values_list("pk").first()
    made = DataRequest.objects.filter(
        buyer=actor.company, event_id=envelope.id, event_source=envelope.source
    )
    if made.exists() or _rejection_queued(partner, envelope.id):
        return  # a repeat of an event already handled
    suppliers = matching_suppliers(actor.company, criteria)
    requests = [
        sharing.request_create(
            actor=actor,
            supplier=supplier,
            criteria=criteria,
            comment=comment,
            event_id=envelope.id,
            event_source=envelope.source,
        )
        for supplier in suppliers
    ]
    if not requests:
        outbox_write(
            partner,
            REQUEST_REJECTED,
            {
                "requestEventId": envelope.id,
                "error": {
                    "code": "NotFound",
                    "message": "No supplier of the zone has a product or footprint matching "
                    "the request.",
                },
            },
        )
    _audit_received(
        actor,
        envelope,
        partner=partner.base_url,
        requests=[r.pk for r in requests],
        rejected=None if requests else "NotFound",
    )


def _rejection_queued(partner: PartnerHost, request_event_id: str) -> bool:
    return OutboxMessage.objects.filter(
        partner=partner,
        event_type=REQUEST_REJECTED,
        request__isnull=True,
        event__data__requestEventId=request_event_id,
    ).exists()


# ------------------------------------------------------------------- outbound events


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_source() -> str:
    """The ``source`` of the exchange's events: PACT_EVENT_SOURCE, or the events
    endpoint of the PACT API under PUBLIC_BASE_URL (``//host/3/events``)."""
    configured = _setting("PACT_EVENT_SOURCE", "")
    if configured:
        return str(configured)
    base = urlsplit(settings.PUBLIC_BASE_URL)
    prefix = str(_setting("PACT_API_PREFIX", "")).strip("/")
    path = base.path.rstrip("/") + (f"/{prefix}" if prefix else "")
    return f"//{base.netloc}{path}/3/events"


def make_event(type_: str, data: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """A CloudEvent in PACT's structured JSON form."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": event_source(),
        "time": _rfc3339(now or timezone.now()),
        "type": type_,
        "data": data,
    }


def give_up_after() -> timedelta:
    return timedelta(hours=float(_setting("PACT_OUTBOX_GIVE_UP_HOURS", 72)))


def outbox_write(
    partner: PartnerHost,
    type_: str,
    data: dict[str, Any],
    *,
    request: DataRequest | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    """Queue an event for a partner in the caller's transaction; delivery is enqueued
    when it commits (and the beat task picks up whatever that misses)."""
    now = now or timezone.now()
    message = OutboxMessage.objects.create(
        partner=partner,
        event_type=type_,
        event=make_event(type_, data, now=now),
        request=request,
        next_attempt_at=now,
        give_up_at=now + give_up_after(),
    )
    transaction.on_commit(_enqueue_delivery, robust=True)
    return message


def _enqueue_delivery() -> None:
    from .tasks import deliver_outbox

    try:
        deliver_outbox.delay()
    except Exception:  # the broker is down: the beat task delivers later
        logger.warning("could not enqueue outbox delivery; the periodic run will send it")


def _lock_partner(partner: PartnerHost) -> None:
    PartnerHost.objects.select_for_update().filter(pk=partner.pk).values_list("pk").first()


def on_request_answered(request: DataRequest) -> None:
    """REQUEST_ANSWERED_HOOKS: queue the PACT answer to a request that came as an event
    (in the answering transaction). See the module docstring for the rules."""
    if not request.event_source:
        return
    partner = partner_for_source(request.buyer, request.event_source)
    if partner is None:
        logger.warning(
            "request %s came from %s, which is no longer a partner host of %s: no answer sent",
            request.pk,
            request.event_source,
            request.buyer.slug,
        )
        return
    # Serialises the answers of the requests one event made, so that exactly one of
    # them writes the Fulfilled (or Rejected) answer.
    _lock_partner(partner)
    siblings = DataRequest.objects.filter(
        buyer=request.buyer, event_id=request.event_id, event_source=request.event_source
    )
    fulfilled_sent = OutboxMessage.objects.filter(
        request__in=siblings, event_type=REQUEST_FULFILLED
    ).exists()
    if request.status == RequestStatus.FULFILLED:
        footprints = list(request.footprints.order_by("pk"))
        if fulfilled_sent:
            outbox_write(
                partner,
                PUBLISHED,
                {"pfIds": [str(fp.pf_id) for fp in footprints]},
                request=request,
            )
            return
        from .selectors import footprint_document

        outbox_write(
            partner,
            REQUEST_FULFILLED,
            {
                "requestEventId": request.event_id,
                "pfs": [footprint_document(fp) for fp in footprints],
            },
            request=request,
        )
        return
    if request.status != RequestStatus.REJECTED:
        return
    others = siblings.exclude(pk=request.pk)
    if fulfilled_sent or others.filter(status=RequestStatus.PENDING).exists():
        return  # answered already, or another supplier may still fulfil it
    rejected = list(siblings.filter(status=RequestStatus.REJECTED).select_related("supplier"))
    if len(rejected) == 1:
        message = rejected[0].reason
    else:
        message = "; ".join(f"{r.supplier.legal_name}: {r.reason}" for r in rejected)
    outbox_write(
        partner,
        REQUEST_REJECTED,
        {
            "requestEventId": request.event_id,
            "error": {"code": "AccessDenied", "message": message[:2000]},
        },
        request=request,
    )


def on_footprint_replaced(old: Footprint, new: Footprint) -> None:
    """FOOTPRINT_REPLACED_HOOKS (exchange.services): a PublishedEvent to the partner
    hosts of every buyer with a live grant of ``old`` (the footprint, or its product),
    naming ``old`` (now Deprecated) and ``new`` if the buyer may see it."""
    buyers = (
        AccessGrant.objects.filter(revoked_at__isnull=True)
        .filter(Q(footprint_id=old.pk) | Q(product_id=old.product_id))
        .values("buyer_id")
    )
    partners = list(
        PartnerHost.objects.filter(company_id__in=buyers, disabled_at__isnull=True)
        .select_related("company")
        .order_by("pk")
    )
    if not partners:
        return
    from .selectors import visible_footprints

    for partner in partners:
        pf_ids = [str(old.pf_id)]
        if visible_footprints(partner.company).filter(pk=new.pk).exists():
            pf_ids.append(str(new.pf_id))
        outbox_write(partner, PUBLISHED, {"pfIds": pf_ids})


def register_hooks() -> None:
    """Called from ExchangeConfig.ready(); idempotent."""
    if on_request_answered not in sharing.REQUEST_ANSWERED_HOOKS:
        sharing.REQUEST_ANSWERED_HOOKS.append(on_request_answered)
    from . import services

    hooks = getattr(services, "FOOTPRINT_REPLACED_HOOKS", None)
    if hooks is not None and on_footprint_replaced not in hooks:
        hooks.append(on_footprint_replaced)


# -------------------------------------------------------------------------- delivery


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 s doubling, at most 1 h."""
    base = float(_setting("PACT_OUTBOX_BACKOFF_SECONDS", 30))
    cap = float(_setting("PACT_OUTBOX_BACKOFF_MAX_SECONDS", 3600))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


class DeliveryError(Exception):
    """A partner did not take the event; the message says why (never a secret)."""


def _lease() -> timedelta:
    # Longer than one delivery can take (discovery, token and event, each timing out).
    return timedelta(seconds=4 * float(_setting("PACT_HTTP_TIMEOUT_SECONDS", 10)) + 60)


def http_client() -> httpx.Client:
    """The client for partner hosts: timeouts, no redirects (credentials must not be
    sent on), TLS verified (PACT_TLS_CA_FILE adds a private CA, e.g. in tests)."""
    ca_file = _setting("PACT_TLS_CA_FILE", "")
    verify: Any = True
    if ca_file:  # trusted besides the usual roots
        import ssl

        import certifi

        verify = ssl.create_default_context(cafile=certifi.where())
        verify.load_verify_locations(cafile=str(ca_file))
    return httpx.Client(
        timeout=httpx.Timeout(float(_setting("PACT_HTTP_TIMEOUT_SECONDS", 10))),
        follow_redirects=False,
        verify=verify,
        headers={"user-agent": "carbonx-pact/1"},
    )


@dataclass
class _Run:
    http: httpx.Client
    now: datetime
    tokens: dict[int, str] = field(default_factory=dict)
    unreachable: set[int] = field(default_factory=set)
    report: dict[str, int] = field(default_factory=lambda: {"sent": 0, "retrying": 0, "failed": 0})


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


def _excerpt(response: httpx.Response) -> str:
    body = response.text[:200].strip() if response.content else ""
    return f": {body}" if body else ""


def _allowed_url(url: str, partner: PartnerHost) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return partner.base_url.startswith("http://") and parts.scheme == "http"


def token_endpoint(http: httpx.Client, partner: PartnerHost) -> str:
    """The partner's token endpoint: ``token_endpoint`` of its OpenID configuration
    at ``<base_url>/.well-known/openid-configuration`` if it offers one, otherwise
    ``<base_url>/auth/token`` (PACT v3, Action Authenticate)."""
    fallback = f"{partner.base_url}/auth/token"
    try:
        response = http.get(f"{partner.base_url}/.well-known/openid-configuration")
    except httpx.HTTPError:
        return fallback
    if response.status_code != 200:
        return fallback
    try:
        endpoint = response.json().get("token_endpoint")
    except (ValueError, AttributeError):
        return fallback
    if isinstance(endpoint, str) and _allowed_url(endpoint, partner):
        return endpoint
    return fallback


def _basic(client_id: str, secret: str) -> str:
    # RFC 6749 2.3.1: both form-urlencoded, then HTTP Basic.
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def fetch_token(http: httpx.Client, partner: PartnerHost) -> str:
    """An access token from the partner (client credentials with HTTP Basic)."""
    endpoint = token_endpoint(http, partner)
    secret = partner_secret(partner)
    basic = _basic(partner.client_id, secret)
    try:
        response = http.post(
            endpoint,
            data={"grant_type": "client_credentials"},
            headers={"authorization": basic, "accept": "application/json"},
        )
    except httpx.HTTPError as exc:
        raise DeliveryError(
            _scrub(f"token endpoint {endpoint}: {type(exc).__name__}: {exc}", [secret, basic])
        ) from None
    if response.status_code != 200:
        raise DeliveryError(
            _scrub(
                f"token endpoint {endpoint} answered HTTP {response.status_code}"
                f"{_excerpt(response)}",
                [secret, basic],
            )
        )
    try:
        token = response.json()["access_token"]
    except (ValueError, KeyError, TypeError):
        token = None
    if not isinstance(token, str) or not token:
        raise DeliveryError(f"token endpoint {endpoint} answered without an access_token")
    return token


def _post_event(run: _Run, message: OutboxMessage) -> None:
    partner = message.partner
    url = f"{partner.base_url}/3/events"
    body = json.dumps(message.event, ensure_ascii=False, separators=(",", ":")).encode()
    for fresh in (False, True):
        token = None if fresh else run.tokens.get(partner.pk)
        cached = token is not None
        if token is None:
            token = fetch_token(run.http, partner)
            run.tokens[partner.pk] = token
        try:
            response = run.http.post(
                url,
                content=body,
                headers={"content-type": CONTENT_TYPE, "authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(
                _scrub(f"POST {url}: {type(exc).__name__}: {exc}", [token])
            ) from None
        if 200 <= response.status_code < 300:
            return
        if response.status_code == 401 and cached:
            run.tokens.pop(partner.pk, None)
            continue  # the token of this run expired: once more with a new one
        raise DeliveryError(
            _scrub(f"POST {url} answered HTTP {response.status_code}{_excerpt(response)}", [token])
        )


def _claim(run: _Run) -> OutboxMessage | None:
    """The next due message, leased to this run (another run skips it meanwhile)."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=OutboxStatus.PENDING, next_attempt_at__lte=run.now)
            .exclude(partner_id__in=run.unreachable)
            .order_by("next_attempt_at", "pk")
            .first()
        )
        if message is None:
            return None
        OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=run.now + _lease())
    return OutboxMessage.objects.select_related("partner").get(pk=message.pk)


def _finish(message: OutboxMessage, **fields: Any) -> None:
    OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.PENDING).update(**fields)


def record_failure(message: OutboxMessage, error: str, *, now: datetime) -> str:
    """Count a failed attempt: retry after the backoff (never later than give_up_at),
    or mark the message failed once give_up_at has passed. Returns the new status."""
    attempts = message.attempts + 1
    if now >= message.give_up_at:
        _finish(
            message,
            status=OutboxStatus.FAILED,
            attempts=attempts,
            last_error=f"gave up after {attempts} attempt(s): {error}"[:MAX_LAST_ERROR],
        )
        return OutboxStatus.FAILED
    _finish(
        message,
        attempts=attempts,
        next_attempt_at=min(now + backoff(attempts), message.give_up_at),
        last_error=error[:MAX_LAST_ERROR],
    )
    return OutboxStatus.PENDING


def _deliver(run: _Run, message: OutboxMessage) -> None:
    partner = message.partner
    if partner.disabled_at is not None:
        _finish(
            message,
            status=OutboxStatus.FAILED,
            last_error="the partner host was removed; not sent"[:MAX_LAST_ERROR],
        )
        run.report["failed"] += 1
        return
    try:
        _post_event(run, message)
    except (DeliveryError, PartnerSecretError) as exc:
        run.unreachable.add(partner.pk)
        status = record_failure(message, str(exc), now=run.now)
        run.report["failed" if status == OutboxStatus.FAILED else "retrying"] += 1
        logger.info("PACT event %s to %s not delivered: %s", message.pk, partner.base_url, exc)
        return
    _finish(
        message,
        status=OutboxStatus.SENT,
        attempts=message.attempts + 1,
        sent_at=run.now,
        last_error="",
    )
    run.report["sent"] += 1


def deliver_due(
    *, now: datetime | None = None, limit: int = 100, client: httpx.Client | None = None
) -> dict[str, int]:
    """Deliver up to ``limit`` due messages; returns counts sent / retrying / failed.

    A partner that fails once is not tried again in the same run. ``now`` and
    ``client`` are for tests (a frozen clock, a fake transport).
    """
    http = client or http_client()
    run = _Run(http=http, now=now or timezone.now())
    try:
        for _ in range(limit):
            message = _claim(run)
            if message is None:
                break
            _deliver(run, message)
    finally:
        if client is None:
            http.close()
    return run.report
