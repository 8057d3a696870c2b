"""Action Events (PACT v3) over HTTPS: the CloudEvents envelope is checked, a valid
event goes to ``exchange.pact_events.receive_event``, and its refusals become PACT
errors. (Answers sent back to partner hosts are tested in test_event_callbacks.)"""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from companies.errors import PermissionDenied, ValidationFailed

CLOUDEVENTS = "application/cloudevents+json; charset=UTF-8"


def event(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
        "specversion": "1.0",
        "id": "1934405d-4f9b-4b3b-9c05-bc3568f8aa01",
        "source": "//buyer-host.example/3/events",
        "time": "2026-03-05T17:31:00Z",
        "data": {"productId": ["urn:pact:acme.example:product:alpha"], "geography": ["DE"]},
    }
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def post(client, body: Any, content_type: str = CLOUDEVENTS):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/3/events", content=raw, headers={"Content-Type": content_type})


@pytest.fixture
def received(monkeypatch):
    """Replace the receiver with one that records its calls (and can be told to refuse)."""
    import exchange.pact_events as pact_events

    calls: list[tuple[Any, dict[str, Any]]] = []
    refusal: list[Exception] = []

    def receive_event(actor, event):
        calls.append((actor, event))
        if refusal:
            raise refusal[0]

    monkeypatch.setattr(pact_events, "receive_event", receive_event)
    return calls, refusal


def test_a_valid_event_is_handed_to_the_receiver(buyer, world, received):
    calls, _ = received
    response = post(buyer, event())
    assert response.status_code == 200
    assert response.content == b""
    [(actor, sent)] = calls
    assert actor.company == world.cast.other
    assert actor.client is not None
    assert sent == event()


@pytest.mark.parametrize(
    "type_",
    [
        "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
        "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3",
        "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3",
    ],
)
def test_every_v3_event_type_is_accepted(buyer, world, received, type_):
    assert post(buyer, event(type=type_)).status_code == 200


def test_plain_json_content_type_is_accepted_too(buyer, world, received):
    assert post(buyer, event(), content_type="application/json").status_code == 200


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "not an object"),
        (event(specversion=None), "no specversion"),
        (event(specversion="0.3"), "wrong specversion"),
        (event(id=None), "no id"),
        (event(id=""), "empty id"),
        (event(id=42), "id not a string"),
        (event(source=None), "no source"),
        (event(type=None), "no type"),
        (event(time=None), "no time"),
        (event(time="yesterday"), "time not RFC 3339"),
        (event(data=None), "no data"),
        (event(data=["x"]), "data not an object"),
        (b'{"specversion": NaN}', "not strict JSON"),
    ],
)
def test_a_malformed_event_is_a_bad_request(buyer, world, received, body, why):
    calls, _ = received
    response = post(buyer, body)
    assert response.status_code == 400, why
    assert response.json()["code"] == "BadRequest"
    assert response.json()["message"]
    assert calls == []


def test_an_unknown_event_type_is_not_implemented(buyer, world, received):
    calls, _ = received
    response = post(buyer, event(type="org.wbcsd.pathfinder.ProductFootprint.Published.v1"))
    assert response.status_code == 400
    assert response.json()["code"] == "NotImplemented"
    assert calls == []


def test_events_must_be_cloudevents_json(buyer, world, received):
    response = post(buyer, event(), content_type="text/plain")
    assert response.status_code == 400
    assert response.json()["code"] == "BadRequest"
    batch = post(buyer, [event()], content_type="application/cloudevents-batch+json")
    assert batch.status_code == 400
    assert batch.json()["code"] == "NotImplemented"


def test_a_refusal_of_the_receiver_is_a_bad_request(buyer, world, received):
    _, refusal = received
    refusal.append(ValidationFailed.single("source", "not a registered partner host"))
    response = post(buyer, event())
    assert response.status_code == 400
    assert response.json() == {
        "code": "BadRequest",
        "message": "source: not a registered partner host",
    }


def test_a_permission_refusal_of_the_receiver_is_access_denied(buyer, world, received):
    _, refusal = received
    refusal.append(PermissionDenied("only a company editor may request footprints"))
    response = post(buyer, event())
    assert response.status_code == 403
    assert response.json()["code"] == "AccessDenied"


def test_an_event_from_an_unregistered_source_is_refused_by_the_exchange(buyer, world):
    # The real receiver: the buyer has no partner host registered for this source.
    response = post(buyer, event(type="org.wbcsd.pact.ProductFootprint.PublishedEvent.3"))
    assert response.status_code == 400
    assert response.json()["code"] == "BadRequest"
    assert "source" in response.json()["message"]


def test_without_an_event_receiver_events_are_not_implemented(buyer, world, monkeypatch):
    monkeypatch.setitem(sys.modules, "exchange.pact_events", None)
    response = post(buyer, event())
    assert response.status_code == 400
    assert response.json()["code"] == "NotImplemented"


def test_events_are_posted(buyer, world):
    response = buyer.get("/3/events")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
