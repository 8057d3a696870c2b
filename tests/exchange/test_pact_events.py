"""PACT events: the envelope and data checks of received events, requests made from a
RequestCreatedEvent, answers and PublishedEvents written to the outbox in the causing
transaction, and delivery (token, POST, backoff, give-up) against a fake transport."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEntry
from companies import services as company_services
from companies.access import Actor
from companies.errors import PermissionDenied, ValidationFailed
from exchange import pact_events, services, sharing
from exchange.models import (
    DataRequest,
    Footprint,
    OutboxMessage,
    PartnerHost,
    RequestStatus,
)
from exchange.pact_events import (
    PUBLISHED,
    REQUEST_CREATED,
    REQUEST_FULFILLED,
    REQUEST_REJECTED,
    backoff,
    deliver_due,
    receive_event,
)
from exchange.partners import partner_add, partner_remove
from exchange.selectors import footprint_document
from exchange.signing import sign_footprint
from tests.exchange.helpers import acme_document
from tests.exchange.pact_examples import valid_footprint
from tests.factories import actor_of, add_member, make_company
from trust import keys as trust_keys

pytestmark = pytest.mark.django_db

PRODUCT = "urn:pact:acme.example:product:li2co3"
SOURCE = "//buyer-host.example/3/events"
SECRET = "partner-secret-0123456789abcdef"


@pytest.fixture
def partner(cast) -> PartnerHost:
    return partner_add(cast.other, "https://buyer-host.example", "exchange-at-buyer", SECRET)


@pytest.fixture
def buyer(cast) -> Actor:
    """The API client the buyer's PACT host calls the exchange with."""
    client, _ = company_services.api_client_create(actor=cast.actor("outsider"), name="PACT host")
    return Actor(company=cast.other, role=client.role, client=client)


def event(type_: str = REQUEST_CREATED, data: dict | None = None, **members: Any) -> dict:
    body = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": SOURCE,
        "time": "2025-03-05T17:31:00Z",
        "type": type_,
        "data": {"productId": [PRODUCT]} if data is None else data,
    }
    body.update(members)
    return body


def counts() -> tuple[int, int, int]:
    return DataRequest.objects.count(), OutboxMessage.objects.count(), AuditEntry.objects.count()


def data_of(message: OutboxMessage) -> dict:
    return message.event["data"]


def submit(cast, document: dict) -> Footprint:
    token = sign_footprint(document, cast.own_private_key)
    return services.footprint_submit(actor=cast.actor("editor"), jws=token).footprint


def second_supplier(urn: str = PRODUCT):
    beta = make_company("Beta Cells", roles=("supplier",), slug="beta")
    editor = actor_of(add_member(beta, "beta_editor", "editor"))
    services.product_create(actor=editor, name="Cells", product_ids=[urn])
    return beta, editor


# ------------------------------------------------------------------ envelope checks


def _without(name: str):
    def change(body: dict) -> None:
        del body[name]

    return change


def _set(name: str, value: Any):
    def change(body: dict) -> None:
        body[name] = value

    return change


def _data(**values: Any):
    def change(body: dict) -> None:
        body["data"] = values

    return change


ENVELOPE_CASES = [
    ("specversion", _without("specversion")),
    ("specversion", _set("specversion", "0.3")),
    ("specversion", _set("specversion", 1.0)),
    ("type", _without("type")),
    ("type", _set("type", "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.2")),
    ("type", _set("type", "")),
    ("id", _without("id")),
    ("id", _set("id", "")),
    ("id", _set("id", 42)),
    ("id", _set("id", "x" * 201)),
    ("source", _without("source")),
    ("source", _set("source", "")),
    ("source", _set("source", ["//buyer-host.example"])),
    ("source", _set("source", "//buyer-host.example/\n")),
    ("time", _without("time")),
    ("time", _set("time", "yesterday")),
    ("time", _set("time", "2025-03-05T17:31:00")),  # no offset
    ("time", _set("time", "2025-02-30T17:31:00Z")),
    ("data", _without("data")),
    ("data", _set("data", [PRODUCT])),
    ("data", _data()),
    ("data", _data(comment="only a comment")),
    ("data.productId", _data(productId=[])),
    ("data.productId", _data(productId=7)),
    ("data.productId[1]", _data(productId=[PRODUCT, ""])),
    ("data.productId", _data(productId=[f"urn:x:{n}" for n in range(101)])),
    ("data.geography[0]", _data(geography=[3])),
    ("data.validOn", _data(validOn="2025-01-01")),
    ("data.validAfter", _data(validAfter=["2025-01-01T00:00:00Z"])),
    ("data.status", _data(productId=[PRODUCT], status="Gone")),
    ("data.comment", _data(productId=[PRODUCT], comment=5)),
    ("data.comment", _data(productId=[PRODUCT], comment="x" * 5001)),
]


def test_a_non_object_event_is_refused(cast, partner, buyer):
    with pytest.raises(ValidationFailed) as caught:
        receive_event(buyer, [event()])
    assert list(caught.value.errors) == ["event"]


@pytest.mark.parametrize(("member", "change"), ENVELOPE_CASES)
def test_a_bad_envelope_or_request_is_refused_naming_the_member(
    cast, partner, buyer, member, change
):
    body = event()
    change(body)
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        receive_event(buyer, body)
    assert list(caught.value.errors) == [member], caught.value.errors
    assert counts() == before


@pytest.mark.parametrize(
    ("type_", "data", "member"),
    [
        (PUBLISHED, {}, "data.pfIds"),
        (PUBLISHED, {"pfIds": []}, "data.pfIds"),
        (PUBLISHED, {"pfIds": ["not-a-uuid"]}, "data.pfIds[0]"),
        (REQUEST_FULFILLED, {"pfs": [{"id": "x"}]}, "data.requestEventId"),
        (REQUEST_FULFILLED, {"requestEventId": "r", "pfs": []}, "data.pfs"),
        (REQUEST_FULFILLED, {"requestEventId": "r", "pfs": ["x"]}, "data.pfs[0]"),
        (REQUEST_REJECTED, {"requestEventId": "r"}, "data.error"),
        (REQUEST_REJECTED, {"requestEventId": "r", "error": {"message": "m"}}, "data.error.code"),
        (REQUEST_REJECTED, {"requestEventId": "r", "error": {"code": "c"}}, "data.error.message"),
        (
            REQUEST_REJECTED,
            {"requestEventId": 4, "error": {"code": "c", "message": "m"}},
            "data.requestEventId",
        ),
    ],
)
def test_bad_data_of_the_other_events_is_refused(cast, partner, buyer, type_, data, member):
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        receive_event(buyer, event(type_, data))
    assert list(caught.value.errors) == [member]
    assert counts() == before


# ---------------------------------------------------------------------- the source


@pytest.mark.parametrize(
    "source",
    [
        "//stranger.example/3/events",
        "https://stranger.example/3/events",
        "//buyer-host.example:8443/3/events",
        "http://buyer-host.example/3/events",
        "//buyer-host.example.evil/3/events",
    ],
)
def test_an_event_from_an_unregistered_source_is_refused(cast, partner, buyer, source):
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        receive_event(buyer, event(source=source))
    assert list(caught.value.errors) == ["source"]
    assert f"source: {source} is not a registered partner host of Other Motors" == (
        caught.value.message
    )
    assert counts() == before


def test_a_partner_of_another_company_is_not_a_source_for_this_one(cast, buyer):
    partner_add(cast.acme, "https://buyer-host.example", "x", SECRET)  # acme's, not other's
    before = counts()
    with pytest.raises(ValidationFailed, match=r"source: .* is not a registered partner host"):
        receive_event(buyer, event())
    assert counts() == before


def test_a_removed_partner_is_no_source(cast, partner, buyer):
    partner_remove(partner)
    with pytest.raises(ValidationFailed, match="not a registered partner host"):
        receive_event(buyer, event())


# ------------------------------------------------------------ RequestCreatedEvent


def test_a_request_event_becomes_a_data_request_to_the_supplier(cast, partner, buyer):
    cast.footprint  # acme has the product
    body = event(data={"productId": [PRODUCT], "geography": ["DE"], "comment": " Please. "})
    receive_event(buyer, body)
    request = DataRequest.objects.get()
    assert (request.buyer, request.supplier) == (cast.other, cast.acme)
    assert request.criteria == {"productId": [PRODUCT], "geography": ["DE"]}
    assert request.comment == "Please."
    assert (request.event_id, request.event_source) == (body["id"], SOURCE)
    assert request.status == RequestStatus.PENDING
    assert not OutboxMessage.objects.exists()  # answered later
    received = AuditEntry.objects.get(type="pact.event.received")
    assert received.actor == buyer.audit_ref
    payload = json.loads(bytes(received.payload))
    assert payload["requests"] == [request.pk]
    assert payload["event_type"] == REQUEST_CREATED
    assert AuditEntry.objects.filter(type="request.created", company="other").exists()


def test_product_ids_match_case_insensitively_and_without_a_footprint_yet(cast, partner, buyer):
    beta, _ = second_supplier("urn:pact:beta.example:cell")
    receive_event(buyer, event(data={"productId": ["URN:PACT:BETA.EXAMPLE:CELL"]}))
    assert DataRequest.objects.get().supplier == beta


def test_every_supplier_with_the_product_gets_a_request(cast, partner, buyer):
    cast.footprint
    second_supplier()
    receive_event(buyer, event())
    assert set(DataRequest.objects.values_list("supplier__slug", flat=True)) == {"acme", "beta"}


def test_company_ids_narrow_the_suppliers(cast, partner, buyer):
    cast.footprint
    second_supplier()
    acme_id = cast.acme.identifiers.first().urn
    receive_event(buyer, event(data={"productId": [PRODUCT], "companyId": [acme_id.upper()]}))
    assert list(DataRequest.objects.values_list("supplier__slug", flat=True)) == ["acme"]


def test_without_a_product_id_suppliers_with_a_matching_footprint_are_asked(cast, partner, buyer):
    cast.footprint  # acme's footprint: geography CN, HS code 283691
    second_supplier()  # beta: the product, no footprint
    receive_event(
        buyer,
        event(
            data={"geography": ["cn"], "classification": ["urn:pact:wcoomdd.org:hs-code:283691"]}
        ),
    )
    request = DataRequest.objects.get()
    assert request.supplier == cast.acme
    assert request.criteria == {
        "geography": ["cn"],
        "classification": ["urn:pact:wcoomdd.org:hs-code:283691"],
    }
    receive_event(buyer, event(data={"geography": ["DE"]}))
    assert DataRequest.objects.count() == 1
    assert OutboxMessage.objects.get().event_type == REQUEST_REJECTED


def test_a_repeated_event_changes_nothing(cast, partner, buyer):
    cast.footprint
    body = event()
    receive_event(buyer, body)
    before = counts()
    receive_event(buyer, dict(body))
    assert counts() == before


def test_no_matching_supplier_queues_a_rejection_at_once(cast, partner, buyer):
    cast.footprint
    body = event(data={"productId": ["urn:pact:null"]})
    receive_event(buyer, body)
    assert not DataRequest.objects.exists()
    message = OutboxMessage.objects.get()
    assert message.partner == partner and message.request is None
    assert message.event_type == REQUEST_REJECTED
    sent = message.event
    assert sent["specversion"] == "1.0" and sent["type"] == REQUEST_REJECTED
    assert uuid.UUID(sent["id"]) and sent["id"] != body["id"]
    assert sent["source"] == pact_events.event_source()
    assert sent["time"].endswith("Z")
    assert sent["data"]["requestEventId"] == body["id"]
    assert sent["data"]["error"]["code"] == "NotFound"
    assert sent["data"]["error"]["message"]
    assert message.status == "pending" and message.attempts == 0
    assert message.give_up_at - message.next_attempt_at == timedelta(hours=72)
    receive_event(buyer, dict(body))  # a repeat
    assert OutboxMessage.objects.count() == 1


def test_the_buyer_itself_is_not_asked(cast, partner, buyer):
    cast.other.is_supplier = True
    cast.other.save()
    services.product_create(
        actor=Actor(company=cast.other, role="admin"), name="Own", product_ids=["urn:pact:own:1"]
    )
    receive_event(buyer, event(data={"productId": ["urn:pact:own:1"]}))
    assert not DataRequest.objects.exists()
    assert OutboxMessage.objects.get().event_type == REQUEST_REJECTED


def test_a_viewer_client_may_not_request(cast, partner):
    client, _ = company_services.api_client_create(
        actor=cast.actor("outsider"), name="Reader", role="viewer"
    )
    viewer = Actor(company=cast.other, role="viewer", client=client)
    before = counts()
    with pytest.raises(PermissionDenied):
        receive_event(viewer, event())
    assert counts() == before


def test_an_auto_fulfil_rule_answers_at_once(cast, partner, buyer):
    footprint = cast.footprint
    sharing.auto_rule_create(actor=cast.actor("admin"), buyer=cast.other, only_verified=False)
    body = event()
    receive_event(buyer, body)
    request = DataRequest.objects.get()
    assert request.status == RequestStatus.FULFILLED
    message = OutboxMessage.objects.get()
    assert message.event_type == REQUEST_FULFILLED and message.request == request
    assert data_of(message)["requestEventId"] == body["id"]
    assert [pf["id"] for pf in data_of(message)["pfs"]] == [str(footprint.pf_id)]


# --------------------------------------------------- the other events: recorded only


@pytest.mark.parametrize(
    ("type_", "data"),
    [
        (PUBLISHED, {"pfIds": [str(uuid.uuid4())]}),
        (REQUEST_FULFILLED, {"requestEventId": "r-1", "pfs": [{"id": str(uuid.uuid4())}]}),
        (
            REQUEST_REJECTED,
            {"requestEventId": "r-1", "error": {"code": "NotFound", "message": "m"}},
        ),
    ],
)
def test_published_fulfilled_and_rejected_events_are_accepted_and_recorded(
    cast, partner, buyer, type_, data
):
    requests, messages, entries = counts()
    receive_event(buyer, event(type_, data))
    assert counts() == (requests, messages, entries + 1)
    entry = AuditEntry.objects.get(type="pact.event.received")
    payload = json.loads(bytes(entry.payload))
    assert payload["event_type"] == type_
    assert payload["partner"] == "https://buyer-host.example"


# ---------------------------------------------------------------- answers queued


def received_request(cast, buyer, **data) -> DataRequest:
    cast.footprint
    receive_event(buyer, event(data=data or None))
    return DataRequest.objects.get(supplier=cast.acme)


def test_fulfilling_queues_a_fulfilled_event_with_the_footprints_as_served(cast, partner, buyer):
    request = received_request(cast, buyer)
    footprint = cast.footprint
    sharing.request_fulfil(
        actor=cast.actor("editor"), request=request, footprint_ids=[str(footprint.pf_id)]
    )
    message = OutboxMessage.objects.get()
    assert message.event_type == REQUEST_FULFILLED
    assert message.request_id == request.pk and message.partner == partner
    assert data_of(message) == {
        "requestEventId": request.event_id,
        "pfs": [footprint_document(Footprint.objects.get(pk=footprint.pk))],
    }


def test_the_fulfilled_event_is_written_in_the_answering_transaction(cast, partner, buyer):
    request = received_request(cast, buyer)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        sharing.request_fulfil(
            actor=cast.actor("editor"), request=request, footprint_ids=[str(cast.footprint.pf_id)]
        )
        assert OutboxMessage.objects.count() == 1
        raise Abort
    assert not OutboxMessage.objects.exists()
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


def test_delivery_is_enqueued_when_the_answer_commits(
    cast, partner, buyer, monkeypatch, django_capture_on_commit_callbacks
):
    from exchange import tasks

    calls = []
    monkeypatch.setattr(tasks.deliver_outbox, "delay", lambda *a, **k: calls.append(a))
    request = received_request(cast, buyer)
    with django_capture_on_commit_callbacks(execute=True):
        sharing.request_fulfil(
            actor=cast.actor("editor"), request=request, footprint_ids=[str(cast.footprint.pf_id)]
        )
    assert calls == [()]


def test_a_broker_outage_does_not_break_the_answer(
    cast, partner, buyer, monkeypatch, django_capture_on_commit_callbacks
):
    from exchange import tasks

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.deliver_outbox, "delay", down)
    request = received_request(cast, buyer)
    with django_capture_on_commit_callbacks(execute=True):
        sharing.request_reject(actor=cast.actor("editor"), request=request, reason="No.")
    assert OutboxMessage.objects.get().status == "pending"  # the beat task sends it later


def test_rejecting_queues_a_rejected_event_with_the_reason(cast, partner, buyer):
    request = received_request(cast, buyer)
    sharing.request_reject(actor=cast.actor("editor"), request=request, reason="Not for sale.")
    message = OutboxMessage.objects.get()
    assert message.event_type == REQUEST_REJECTED
    assert data_of(message) == {
        "requestEventId": request.event_id,
        "error": {"code": "AccessDenied", "message": "Not for sale."},
    }


def test_a_request_made_in_the_portal_sends_no_event(cast, partner):
    cast.footprint
    request = sharing.request_create(
        actor=cast.actor("outsider"), supplier=cast.acme, product_ids=[PRODUCT]
    )
    sharing.request_reject(actor=cast.actor("editor"), request=request, reason="No.")
    assert not OutboxMessage.objects.exists()


def test_after_a_fulfilment_a_rejection_by_another_supplier_sends_nothing(cast, partner, buyer):
    cast.footprint
    beta, beta_editor = second_supplier()
    receive_event(buyer, event())
    sharing.request_fulfil(
        actor=cast.actor("editor"),
        request=DataRequest.objects.get(supplier=cast.acme),
        footprint_ids=[str(cast.footprint.pf_id)],
    )
    sharing.request_reject(
        actor=beta_editor, request=DataRequest.objects.get(supplier=beta), reason="Later."
    )
    types = list(OutboxMessage.objects.order_by("pk").values_list("event_type", flat=True))
    assert types == [REQUEST_FULFILLED]  # one answer per RequestCreatedEvent


def beta_footprint(beta, editor) -> Footprint:
    private_key = trust_keys.generate_private_key()
    company_services.signing_key_register(
        actor=Actor(company=beta, role="admin"), jwk=trust_keys.public_jwk(private_key)
    )
    document = valid_footprint(
        id=str(uuid.uuid4()),
        companyName=beta.legal_name,
        companyIds=[i.urn for i in beta.identifiers.all()],
        productIds=[PRODUCT],
    )
    token = sign_footprint(document, private_key)
    return services.footprint_submit(actor=editor, jws=token).footprint


def test_a_second_fulfilment_goes_out_as_a_published_event(cast, partner, buyer):
    cast.footprint
    beta, beta_editor = second_supplier()
    beta_pf = beta_footprint(beta, beta_editor)
    body = event()
    receive_event(buyer, body)
    sharing.request_fulfil(
        actor=cast.actor("editor"),
        request=DataRequest.objects.get(supplier=cast.acme),
        footprint_ids=[str(cast.footprint.pf_id)],
    )
    sharing.request_fulfil(
        actor=beta_editor,
        request=DataRequest.objects.get(supplier=beta),
        footprint_ids=[str(beta_pf.pf_id)],
    )
    first, second = OutboxMessage.objects.order_by("pk")
    assert first.event_type == REQUEST_FULFILLED
    assert data_of(first)["requestEventId"] == body["id"]
    assert second.event_type == PUBLISHED
    assert data_of(second) == {"pfIds": [str(beta_pf.pf_id)]}


def test_an_event_to_several_suppliers_is_rejected_when_all_reject(cast, partner, buyer):
    cast.footprint
    beta, beta_editor = second_supplier()
    receive_event(buyer, event())
    sharing.request_reject(
        actor=cast.actor("editor"),
        request=DataRequest.objects.get(supplier=cast.acme),
        reason="Not for sale.",
    )
    assert not OutboxMessage.objects.exists()  # beta may still fulfil it
    sharing.request_reject(
        actor=beta_editor, request=DataRequest.objects.get(supplier=beta), reason="No data yet."
    )
    message = OutboxMessage.objects.get()
    assert message.event_type == REQUEST_REJECTED
    text = data_of(message)["error"]["message"]
    assert "Acme Lithium Co., Ltd.: Not for sale." in text and "Beta Cells: No data yet." in text


def test_no_answer_when_the_partner_was_removed(cast, partner, buyer, caplog):
    request = received_request(cast, buyer)
    partner_remove(partner)
    caplog.set_level(logging.WARNING)
    sharing.request_reject(actor=cast.actor("editor"), request=request, reason="No.")
    assert not OutboxMessage.objects.exists()
    assert "no longer a partner host" in caplog.text


# ------------------------------------------------------- PublishedEvent on replacement


def successor(cast, old: Footprint) -> Footprint:
    return submit(cast, acme_document(cast, precedingPfIds=[str(old.pf_id)]))


def test_replacing_a_granted_footprint_publishes_the_change(cast, partner):
    old = cast.footprint
    sharing.grant_create(actor=cast.actor("admin"), buyer=cast.other, footprint_id=str(old.pf_id))
    new = successor(cast, old)
    message = OutboxMessage.objects.get()
    assert message.event_type == PUBLISHED and message.partner == partner
    # The buyer was granted the old version only: the new one is not named to it.
    assert data_of(message) == {"pfIds": [str(old.pf_id)]}
    assert new.pf_id


def test_a_product_grant_names_the_successor_too(cast, partner):
    old = cast.footprint
    sharing.grant_create(actor=cast.actor("admin"), buyer=cast.other, product_id=old.product_id)
    new = successor(cast, old)
    assert data_of(OutboxMessage.objects.get()) == {"pfIds": [str(old.pf_id), str(new.pf_id)]}


def test_no_published_event_without_a_live_grant(cast, partner):
    old = cast.footprint
    grant = sharing.grant_create(
        actor=cast.actor("admin"), buyer=cast.other, footprint_id=str(old.pf_id)
    )
    sharing.grant_revoke(actor=cast.actor("admin"), grant=grant)
    successor(cast, old)
    assert not OutboxMessage.objects.exists()


def test_the_published_event_rolls_back_with_the_submission(cast, partner):
    old = cast.footprint
    sharing.grant_create(actor=cast.actor("admin"), buyer=cast.other, footprint_id=str(old.pf_id))
    with pytest.raises(RuntimeError), transaction.atomic():
        successor(cast, old)
        assert OutboxMessage.objects.count() == 1
        raise RuntimeError
    assert not OutboxMessage.objects.exists()


# ------------------------------------------------------------------------ delivery


def test_backoff_doubles_from_30_seconds_up_to_an_hour():
    assert [backoff(n).total_seconds() for n in range(1, 10)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]
    assert backoff(50) == timedelta(hours=1)


class FakePartner:
    """An httpx transport standing in for the partner host."""

    def __init__(self, *, events_status: int = 200, token_status: int = 200, discovery=None):
        self.events_status = events_status
        self.token_status = token_status
        self.discovery = discovery
        self.requests: list[httpx.Request] = []
        self.tokens = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            if self.discovery is None:
                return httpx.Response(404)
            return httpx.Response(200, json=self.discovery)
        if path in ("/auth/token", "/oauth/token"):
            self.tokens += 1
            if self.token_status != 200:
                # A careless host echoing what it got:
                return httpx.Response(self.token_status, text=request.headers["authorization"])
            return httpx.Response(
                200, json={"access_token": f"tok-{self.tokens}", "token_type": "Bearer"}
            )
        if path == "/3/events":
            return httpx.Response(
                self.events_status, text="" if self.events_status < 300 else "down"
            )
        return httpx.Response(404)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def posted(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == "/3/events"]


def queued(cast, partner, buyer) -> OutboxMessage:
    receive_event(buyer, event(data={"productId": ["urn:pact:null"]}))
    return OutboxMessage.objects.get()


def test_a_message_is_delivered_with_a_token_from_the_partner(cast, partner, buyer):
    message = queued(cast, partner, buyer)
    fake = FakePartner()
    assert deliver_due(client=fake.client()) == {"sent": 1, "retrying": 0, "failed": 0}
    token_request = next(r for r in fake.requests if r.url.path == "/auth/token")
    assert token_request.method == "POST"
    assert (
        token_request.headers["authorization"]
        == "Basic " + base64.b64encode(f"exchange-at-buyer:{SECRET}".encode()).decode()
    )
    assert token_request.content == b"grant_type=client_credentials"
    [post] = fake.posted()
    assert str(post.url) == "https://buyer-host.example/3/events"
    assert post.headers["authorization"] == "Bearer tok-1"
    assert post.headers["content-type"] == "application/cloudevents+json; charset=UTF-8"
    assert json.loads(post.content) == message.event
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 1, "")
    assert message.sent_at is not None
    assert deliver_due(client=fake.client()) == {"sent": 0, "retrying": 0, "failed": 0}


def test_the_token_endpoint_is_discovered_when_offered(cast, partner, buyer):
    queued(cast, partner, buyer)
    fake = FakePartner(discovery={"token_endpoint": "https://buyer-host.example/oauth/token"})
    deliver_due(client=fake.client())
    assert [r.url.path for r in fake.requests] == [
        "/.well-known/openid-configuration",
        "/oauth/token",
        "/3/events",
    ]


def test_a_plain_http_token_endpoint_is_not_followed(cast, partner, buyer):
    queued(cast, partner, buyer)
    fake = FakePartner(discovery={"token_endpoint": "http://buyer-host.example/oauth/token"})
    deliver_due(client=fake.client())
    assert "/auth/token" in [r.url.path for r in fake.requests]
    assert "/oauth/token" not in [r.url.path for r in fake.requests]


def test_a_failure_is_retried_with_backoff_and_given_up_after_72_hours(cast, partner, buyer):
    message = queued(cast, partner, buyer)
    created = message.next_attempt_at
    fake = FakePartner(events_status=503)

    now = created
    assert deliver_due(now=now, client=fake.client())["retrying"] == 1
    message.refresh_from_db()
    assert message.status == "pending" and message.attempts == 1
    assert message.next_attempt_at == now + timedelta(seconds=30)
    assert "answered HTTP 503" in message.last_error

    assert deliver_due(now=now + timedelta(seconds=29), client=fake.client())["retrying"] == 0
    now += timedelta(seconds=30)
    deliver_due(now=now, client=fake.client())
    message.refresh_from_db()
    assert message.attempts == 2 and message.next_attempt_at == now + timedelta(seconds=60)

    # Close to the end the next attempt is put at give_up_at, not after it.
    now = message.give_up_at - timedelta(minutes=10)
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=now, attempts=8)
    deliver_due(now=now, client=fake.client())
    message.refresh_from_db()
    assert message.status == "pending" and message.next_attempt_at == message.give_up_at

    now = message.give_up_at
    assert deliver_due(now=now, client=fake.client()) == {"sent": 0, "retrying": 0, "failed": 1}
    message.refresh_from_db()
    assert message.status == "failed" and message.attempts == 10
    assert message.last_error.startswith("gave up after 10 attempt(s): POST https://buyer-host")
    assert deliver_due(now=now + timedelta(days=1), client=fake.client())["failed"] == 0


def test_a_late_message_gets_one_last_attempt(cast, partner, buyer):
    message = queued(cast, partner, buyer)
    later = message.give_up_at + timedelta(days=2)
    assert deliver_due(now=later, client=FakePartner().client())["sent"] == 1


def test_errors_hold_no_secret_even_if_the_partner_echoes_it(cast, partner, buyer, caplog):
    caplog.set_level(logging.DEBUG)
    message = queued(cast, partner, buyer)
    deliver_due(client=FakePartner(token_status=401).client())
    message.refresh_from_db()
    assert "token endpoint https://buyer-host.example/auth/token answered HTTP 401" in (
        message.last_error
    )
    basic = base64.b64encode(f"exchange-at-buyer:{SECRET}".encode()).decode()
    for text in (message.last_error, caplog.text):
        assert SECRET not in text and basic not in text
    assert "[redacted]" in message.last_error


def test_a_partner_failing_once_is_not_tried_again_in_the_same_run(cast, partner, buyer):
    queued(cast, partner, buyer)
    receive_event(buyer, event(data={"productId": ["urn:pact:null:2"]}))
    fake = FakePartner(events_status=500)
    assert deliver_due(client=fake.client()) == {"sent": 0, "retrying": 1, "failed": 0}
    assert len(fake.posted()) == 1
    assert sorted(OutboxMessage.objects.values_list("attempts", flat=True)) == [0, 1]


def test_an_expired_token_is_renewed_once_within_a_run(cast, partner, buyer):
    queued(cast, partner, buyer)
    receive_event(buyer, event(data={"productId": ["urn:pact:null:2"]}))
    fake = FakePartner()
    seen: list[str] = []
    inner = fake.__call__

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/3/events":
            seen.append(request.headers["authorization"])
            if request.headers["authorization"] == "Bearer tok-1" and len(seen) > 1:
                fake.requests.append(request)
                return httpx.Response(401)
        return inner(request)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    assert deliver_due(client=client)["sent"] == 2
    assert seen == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]


def test_a_message_to_a_removed_partner_fails_without_sending(cast, partner, buyer):
    message = queued(cast, partner, buyer)
    partner_remove(partner)
    fake = FakePartner()
    assert deliver_due(client=fake.client())["failed"] == 1
    assert fake.requests == []
    message.refresh_from_db()
    assert message.status == "failed" and "removed" in message.last_error


def test_a_secret_that_cannot_be_decrypted_is_a_failed_attempt(cast, partner, buyer, settings):
    message = queued(cast, partner, buyer)
    settings.KEY_ENCRYPTION_KEYS = {"other": b"\x03" * 32}
    deliver_due(client=FakePartner().client())
    message.refresh_from_db()
    assert message.attempts == 1 and "key-encryption key 'dev'" in message.last_error


def test_the_task_runs_the_delivery(cast, partner, buyer, monkeypatch):
    from exchange import tasks

    calls = []
    monkeypatch.setattr(pact_events, "deliver_due", lambda **kw: calls.append(kw) or {"sent": 0})
    tasks.deliver_outbox.delay()
    assert calls == [{"limit": 100}]


def test_the_reminder_task_reminds(cast, monkeypatch):
    from exchange import tasks

    monkeypatch.setattr(sharing, "requests_remind", lambda: 3)
    assert tasks.requests_remind.delay().get() == 3


def test_the_beat_schedule_has_both_tasks(settings):
    tasks = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks["exchange.tasks.deliver_outbox"] == 30.0
    assert "exchange.tasks.requests_remind" in tasks


def test_the_hooks_are_registered():
    assert pact_events.on_request_answered in sharing.REQUEST_ANSWERED_HOOKS
    assert pact_events.on_footprint_replaced in services.FOOTPRINT_REPLACED_HOOKS
    pact_events.register_hooks()  # idempotent
    assert sharing.REQUEST_ANSWERED_HOOKS.count(pact_events.on_request_answered) == 1


def test_the_exchange_names_itself_as_source(settings):
    settings.PUBLIC_BASE_URL = "https://exchange.example/zone"
    settings.PACT_EVENT_SOURCE = ""
    assert pact_events.event_source() == "//exchange.example/zone/3/events"
    settings.PACT_EVENT_SOURCE = "//pact.exchange.example/3/events"
    assert pact_events.event_source() == "//pact.exchange.example/3/events"


def test_due_messages_go_oldest_first(cast, partner, buyer):
    first = queued(cast, partner, buyer)
    receive_event(buyer, event(data={"productId": ["urn:pact:null:2"]}))
    second = OutboxMessage.objects.exclude(pk=first.pk).get()
    OutboxMessage.objects.filter(pk=second.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    fake = FakePartner()
    deliver_due(client=fake.client(), limit=1)
    assert json.loads(fake.posted()[0].content)["id"] == second.event["id"]
