"""PACT events end to end with a real partner host (tests/pact/partner.py: an HTTPS
server in a thread): the partner's RequestCreatedEvent comes in over the PACT API with
a client token, the supplier answers, the outbox delivers the answer to the partner's
/3/events with a token from its /auth/token; a partner that is down is retried and
finally given up; a replaced footprint is published to the partner."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from companies import services as company_services
from companies.access import system_actor
from exchange import pact_events, sharing, tasks
from exchange.models import DataRequest, OutboxMessage
from exchange.pact_events import (
    PUBLISHED,
    REQUEST_CREATED,
    REQUEST_FULFILLED,
    REQUEST_REJECTED,
    deliver_due,
    event_source,
)
from exchange.partners import partner_add
from exchange.selectors import footprint_document
from exchange.services import footprint_submit
from exchange.signing import sign_footprint
from tests.exchange.helpers import acme_document
from tests.pact.partner import PartnerHostServer

PRODUCT = "urn:pact:acme.example:product:li2co3"
EXCHANGE_AT_PARTNER = ("exchange-at-buyer", "partner-issued-secret-0123456789")
PARTNER_AT_EXCHANGE = ("buyer-pact-host", "exchange-issued-secret-0123456789")


@pytest.fixture
def partner_host(tmp_path, settings):
    host = PartnerHostServer(
        client_id=EXCHANGE_AT_PARTNER[0], client_secret=EXCHANGE_AT_PARTNER[1], folder=tmp_path
    ).start()
    settings.PACT_TLS_CA_FILE = host.ca_file  # its self-signed certificate is trusted
    yield host
    host.stop()


@pytest.fixture
def registered(cast, partner_host):
    """The buyer ("other") has its own PACT host: registered as its partner, and given a
    client of the exchange to call it with."""
    partner = partner_add(cast.other, partner_host.base_url, *EXCHANGE_AT_PARTNER)
    company_services.api_client_create(
        actor=system_actor(cast.other),
        name="Buyer PACT host",
        client_id=PARTNER_AT_EXCHANGE[0],
        client_secret=PARTNER_AT_EXCHANGE[1],
    )
    return partner


def app() -> Client:
    return Client(enforce_csrf_checks=True)


def token() -> str:
    pair = f"{PARTNER_AT_EXCHANGE[0]}:{PARTNER_AT_EXCHANGE[1]}".encode()
    response = app().post(
        "/auth/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(pair).decode(),
        secure=True,
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def send(partner_host: PartnerHostServer, data: dict, type_: str = REQUEST_CREATED):
    """The partner posts an event to the exchange's /3/events; returns (event, response)."""
    body = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": partner_host.source,
        "time": "2025-03-05T17:31:00Z",
        "type": type_,
        "data": data,
    }
    response = app().post(
        "/3/events",
        data=json.dumps(body),
        content_type="application/cloudevents+json; charset=UTF-8",
        HTTP_AUTHORIZATION=f"Bearer {token()}",
        secure=True,
    )
    return body, response


def wait_for(condition, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.django_db
def test_a_request_over_the_api_is_fulfilled_by_a_callback(cast, partner_host, registered):
    footprint = cast.footprint
    sent, response = send(partner_host, {"productId": [PRODUCT], "comment": "Current PCF?"})
    assert response.status_code == 200 and response.content == b""
    request = DataRequest.objects.get()
    assert (request.buyer, request.supplier, request.event_id) == (
        cast.other,
        cast.acme,
        sent["id"],
    )

    sharing.request_fulfil(
        actor=cast.actor("editor"), request=request, footprint_ids=[str(footprint.pf_id)]
    )
    assert tasks.deliver_outbox.delay().get() == {"sent": 1, "retrying": 0, "failed": 0}

    [answer] = partner_host.events()
    assert answer["type"] == REQUEST_FULFILLED
    assert answer["specversion"] == "1.0"
    assert answer["source"] == event_source()
    assert answer["data"]["requestEventId"] == sent["id"]
    footprint.refresh_from_db()
    assert answer["data"]["pfs"] == [footprint_document(footprint)]
    token_call, event_call = [r for r in partner_host.received if r.method == "POST"]
    assert token_call.path == "/auth/token"
    assert token_call.headers["authorization"].startswith("Basic ")
    assert event_call.headers["content-type"] == "application/cloudevents+json; charset=UTF-8"
    assert event_call.headers["authorization"].removeprefix("Bearer ") in partner_host.tokens
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == ("sent", 1)


@pytest.mark.django_db
def test_a_request_for_nothing_gets_a_rejected_callback(cast, partner_host, registered):
    cast.footprint
    sent, response = send(partner_host, {"productId": ["urn:pact:null"]})
    assert response.status_code == 200
    assert not DataRequest.objects.exists()
    deliver_due()
    [answer] = partner_host.events()
    assert answer["type"] == REQUEST_REJECTED
    assert answer["data"]["requestEventId"] == sent["id"]
    assert answer["data"]["error"]["code"] == "NotFound"


@pytest.mark.django_db
def test_an_event_from_an_unregistered_source_is_a_bad_request(cast, partner_host, registered):
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "//stranger.example/3/events",
        "time": "2025-03-05T17:31:00Z",
        "type": REQUEST_CREATED,
        "data": {"productId": [PRODUCT]},
    }
    response = app().post(
        "/3/events",
        data=json.dumps(event),
        content_type="application/cloudevents+json",
        HTTP_AUTHORIZATION=f"Bearer {token()}",
        secure=True,
    )
    assert response.status_code == 400
    assert "is not a registered partner host" in response.json()["message"]
    assert not DataRequest.objects.exists() and not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_a_partner_that_is_down_is_retried_then_given_up(cast, partner_host, registered):
    cast.footprint
    send(partner_host, {"productId": ["urn:pact:null"]})
    partner_host.stop()
    message = OutboxMessage.objects.get()
    start = message.next_attempt_at

    assert deliver_due(now=start)["retrying"] == 1
    message.refresh_from_db()
    assert message.status == "pending" and message.attempts == 1
    assert message.next_attempt_at == start + timedelta(seconds=30)
    assert "ConnectError" in message.last_error
    assert deliver_due(now=start + timedelta(seconds=10))["retrying"] == 0  # not due yet

    assert deliver_due(now=start + timedelta(seconds=30))["retrying"] == 1
    message.refresh_from_db()
    assert message.attempts == 2 and message.next_attempt_at == start + timedelta(seconds=90)

    after = message.give_up_at + timedelta(seconds=1)
    assert deliver_due(now=after) == {"sent": 0, "retrying": 0, "failed": 1}
    message.refresh_from_db()
    assert message.status == "failed" and message.attempts == 3
    assert message.last_error.startswith("gave up after 3 attempt(s):")
    assert EXCHANGE_AT_PARTNER[1] not in message.last_error
    assert partner_host.events() == []


@pytest.mark.django_db
def test_a_partner_answering_an_error_is_retried_and_then_reached(cast, partner_host, registered):
    cast.footprint
    send(partner_host, {"productId": ["urn:pact:null"]})
    partner_host.events_status = 503
    message = OutboxMessage.objects.get()
    deliver_due(now=message.next_attempt_at)
    message.refresh_from_db()
    assert "answered HTTP 503" in message.last_error
    partner_host.events_status = 200
    assert deliver_due(now=message.next_attempt_at)["sent"] == 1
    assert [e["type"] for e in partner_host.events()] == [REQUEST_REJECTED]


@pytest.mark.django_db
def test_a_replaced_footprint_is_published_to_the_partner(cast, partner_host, registered):
    old = cast.footprint
    sharing.grant_create(actor=cast.actor("admin"), buyer=cast.other, product_id=old.product_id)
    document = acme_document(cast, precedingPfIds=[str(old.pf_id)])
    new = footprint_submit(
        actor=cast.actor("editor"), jws=sign_footprint(document, cast.own_private_key)
    ).footprint
    deliver_due()
    [published] = partner_host.events()
    assert published["type"] == PUBLISHED
    assert published["data"] == {"pfIds": [str(old.pf_id), str(new.pf_id)]}
    # What it names can be fetched by the partner's client (GetFootprint).
    response = app().get(
        f"/3/footprints/{new.pf_id}", HTTP_AUTHORIZATION=f"Bearer {token()}", secure=True
    )
    assert response.status_code == 200, response.content
    assert response.json()["data"]["id"] == str(new.pf_id)


@pytest.mark.celery_worker
def test_the_callback_is_delivered_by_the_worker_after_commit(
    celery_worker_or_eager, cast, partner_host, registered, monkeypatch
):
    """The RequestCreatedEvent's transaction commits, which enqueues delivery: a real
    worker (CI: PostgreSQL + Redis) or eagerly in the request's thread."""
    threads: set[str] = set()
    real = pact_events.deliver_due

    def recording(**kwargs):
        threads.add(threading.current_thread().name)
        return real(**kwargs)

    monkeypatch.setattr(pact_events, "deliver_due", recording)
    cast.footprint
    sharing.auto_rule_create(actor=cast.actor("admin"), buyer=cast.other, only_verified=False)
    sent, response = send(partner_host, {"productId": [PRODUCT]})
    assert response.status_code == 200
    wait_for(lambda: partner_host.events())
    [answer] = partner_host.events()
    assert answer["type"] == REQUEST_FULFILLED
    assert answer["data"]["requestEventId"] == sent["id"]
    assert [pf["id"] for pf in answer["data"]["pfs"]] == [str(cast.footprint.pf_id)]
    wait_for(lambda: OutboxMessage.objects.get().status == "sent")
    assert OutboxMessage.objects.get().sent_at <= timezone.now()
    main = threading.main_thread().name
    if celery_worker_or_eager is None:
        assert threads == {main}  # eager: delivered in the request's thread at commit
    else:
        assert threads and main not in threads  # the worker delivered it
