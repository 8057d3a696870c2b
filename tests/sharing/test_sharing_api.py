"""The sharing API over HTTP (/api/v1/): received footprints, grants, zone publication,
part numbers, data requests and auto-fulfil rules, with their refusals (400 naming
the field, 403 role or side, 404 not yours, 409 state).

acme (the supplier) acts through a person's session or its OAuth2 client; the buyer
"other" through its admin (the outsider); "third" is a second buyer.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from exchange import sharing
from exchange.models import AccessGrant, AutoFulfilRule, DataRequest, PartNumber
from tests.sharing.helpers import (
    API,
    OTHER_PRODUCT_URN,
    PRODUCT_URN,
    attested,
    audit_payloads,
    bearer,
    new_version,
    session,
    submit,
    third_buyer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(cast):
    return session(cast.editor)


@pytest.fixture
def buyer(cast):
    return session(cast.outsider)


def pf(cast) -> str:
    return str(cast.footprint.pf_id)


def grant(cast, **target):
    target = target or {"footprint_id": pf(cast)}
    return sharing.grant_create(actor=cast.actor("editor"), buyer=cast.other, **target)


def ask(cast, **fields):
    cast.footprint
    fields.setdefault("product_ids", [PRODUCT_URN])
    return sharing.request_create(actor=cast.actor("outsider"), supplier=cast.acme, **fields)


def ids(response) -> list:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def errors(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content
    return response.json().get("errors", {})


# ---------------------------------------------------------------- received footprints


def test_received_footprints_are_granted_or_published_only(cast, buyer):
    cast.footprint
    assert ids(buyer.get(f"{API}/received-footprints")) == []
    grant(cast)
    response = buyer.get(f"{API}/received-footprints")
    (item,) = response.json()["results"]
    assert item == {
        "id": pf(cast),
        "supplier": "acme",
        "supplier_name": cast.acme.legal_name,
        "product_name": cast.footprint.product_name,
        "product_ids": [PRODUCT_URN],
        "status": "Active",
        "declared_unit": cast.footprint.declared_unit,
        "pcf_excluding_biogenic_uptake": cast.footprint.pcf_excluding_biogenic_uptake,
        "reference_period_start": item["reference_period_start"],
        "reference_period_end": item["reference_period_end"],
        "sha256": cast.footprint.sha256,
        "verified": False,
        "submitted_at": item["submitted_at"],
        "deprecated_at": None,
    }


def test_received_footprints_filters(cast, buyer):
    grant(cast)
    elsewhere = submit(cast, productIds=[OTHER_PRODUCT_URN])
    sharing.footprint_publish(actor=cast.actor("editor"), footprint_id=elsewhere.pf_id)
    both = {pf(cast), str(elsewhere.pf_id)}
    assert set(ids(buyer.get(f"{API}/received-footprints"))) == both
    assert ids(buyer.get(f"{API}/received-footprints", {"product_id": OTHER_PRODUCT_URN})) == [
        str(elsewhere.pf_id)
    ]
    assert set(ids(buyer.get(f"{API}/received-footprints", {"supplier": "acme"}))) == both
    assert ids(buyer.get(f"{API}/received-footprints", {"supplier": "nobody"})) == []


def test_reading_received_footprints_is_audited_as_a_pull(cast, buyer):
    grant(cast)
    buyer.get(f"{API}/received-footprints")
    assert audit_payloads("footprint.pulled") == [{"channel": "api", "footprints": [pf(cast)]}]
    buyer.get(f"{API}/received-footprints", {"supplier": "nobody"})  # nothing read
    assert len(audit_payloads("footprint.pulled")) == 1


def test_received_footprints_show_verification(cast, buyer):
    attested(cast)
    grant(cast)
    (item,) = buyer.get(f"{API}/received-footprints").json()["results"]
    assert item["verified"] is True


def test_the_suppliers_own_footprints_are_not_received(cast, acme):
    cast.footprint
    assert ids(acme.get(f"{API}/received-footprints")) == []


def test_anonymous_callers_are_refused(client):
    for path in ("received-footprints", "grants", "requests", "part-numbers", "auto-rules"):
        assert client.get(f"{API}/{path}").status_code in (401, 403)


# ---------------------------------------------------------------------------- grants


def test_grant_a_footprint_then_again(cast, acme):
    body = {"buyer": "other", "footprint_id": pf(cast)}
    response = acme.post(f"{API}/grants", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data == {
        "id": data["id"],
        "supplier": "acme",
        "buyer": "other",
        "footprint": pf(cast),
        "product": None,
        "product_name": cast.footprint.product_name,
        "request": None,
        "active": True,
        "created_at": data["created_at"],
        "revoked_at": None,
        "revocation_reason": "",
    }
    again = acme.post(f"{API}/grants", body, format="json")
    assert again.status_code == 200 and again.json()["id"] == data["id"]


def test_grant_a_product_through_the_api_client(cast):
    response = bearer(cast).post(
        f"{API}/grants",
        {"buyer": "other", "product_id": cast.footprint.product_id},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["product"] == cast.footprint.product_id
    assert response.json()["footprint"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"buyer": "nobody", "footprint_id": "PF"}, "buyer"),
        ({"buyer": "other"}, "footprint_id"),
        ({"buyer": "other", "footprint_id": "PF", "product_id": 1}, "footprint_id"),
        ({"buyer": "other", "product_id": 999999}, "product_id"),
        ({"buyer": "other", "product_id": "seven"}, "product_id"),
        ({"footprint_id": "PF"}, "buyer"),
    ],
)
def test_grant_refusals(cast, acme, body, field):
    body = {k: (pf(cast) if v == "PF" else v) for k, v in body.items()}
    assert field in errors(acme.post(f"{API}/grants", body, format="json"))
    assert not AccessGrant.objects.exists()


def test_a_viewer_may_not_grant(cast):
    response = session(cast.viewer).post(
        f"{API}/grants", {"buyer": "other", "footprint_id": pf(cast)}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["field"] == "role"


def test_grants_list_both_sides(cast, acme, buyer):
    given = grant(cast)
    third, third_admin = third_buyer(cast)
    sharing.grant_create(actor=cast.actor("editor"), buyer=third, footprint_id=pf(cast))
    assert len(ids(acme.get(f"{API}/grants"))) == 2
    assert ids(buyer.get(f"{API}/grants")) == [given.pk]
    assert ids(buyer.get(f"{API}/grants", {"side": "received"})) == [given.pk]
    assert ids(buyer.get(f"{API}/grants", {"side": "given"})) == []
    assert ids(acme.get(f"{API}/grants", {"side": "received"})) == []
    assert "side" in errors(acme.get(f"{API}/grants", {"side": "both"}))
    assert len(ids(session(third_admin).get(f"{API}/grants"))) == 1


def test_revoke_a_grant(cast, acme, buyer):
    given = grant(cast)
    response = acme.post(f"{API}/grants/{given.pk}/revoke", {"reason": "ended"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["active"] is False
    assert response.json()["revocation_reason"] == "ended"
    assert ids(buyer.get(f"{API}/received-footprints")) == []
    again = acme.post(f"{API}/grants/{given.pk}/revoke", {}, format="json")
    assert again.status_code == 409
    assert len(audit_payloads("grant.revoked")) == 1


def test_only_the_supplier_revokes(cast, buyer):
    given = grant(cast)
    assert buyer.post(f"{API}/grants/{given.pk}/revoke").status_code == 404
    assert session(cast.viewer).post(f"{API}/grants/{given.pk}/revoke").status_code == 403
    assert session(cast.editor).post(f"{API}/grants/999999/revoke").status_code == 404
    given.refresh_from_db()
    assert given.is_active


# ------------------------------------------------------------------ zone publication


def test_publish_and_unpublish(cast, acme):
    _, third_admin = third_buyer(cast)
    url = f"{API}/footprints/{pf(cast)}"
    response = acme.post(f"{url}/publish")
    assert response.status_code == 200, response.content
    assert response.json()["published"] is True and response.json()["footprint"] == pf(cast)
    assert acme.post(f"{url}/publish").status_code == 200  # again: no change
    assert ids(session(third_admin).get(f"{API}/received-footprints")) == [pf(cast)]
    response = acme.post(f"{url}/unpublish")
    assert response.status_code == 200
    assert response.json() == {"footprint": pf(cast), "published": False, "published_at": None}
    assert ids(session(third_admin).get(f"{API}/received-footprints")) == []
    assert acme.post(f"{url}/unpublish").status_code == 409


def test_publication_refusals(cast, buyer):
    url = f"{API}/footprints/{pf(cast)}"
    assert buyer.post(f"{url}/publish").status_code == 404
    assert session(cast.viewer).post(f"{url}/publish").status_code == 403
    assert session(cast.editor).post(f"{API}/footprints/not-an-id/publish").status_code == 404
    old = cast.footprint
    new_version(cast, old)
    assert "footprint_id" in errors(session(cast.editor).post(f"{url}/publish"))


# ---------------------------------------------------------------------- part numbers


def test_part_numbers(cast, acme):
    elsewhere = submit(cast, productIds=[OTHER_PRODUCT_URN])
    body = {"buyer": "other", "part_number": "OM-4711", "product_id": cast.footprint.product_id}
    created = acme.post(f"{API}/part-numbers", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json() == {
        "id": created.json()["id"],
        "buyer": "other",
        "part_number": "OM-4711",
        "product": cast.footprint.product_id,
        "product_name": cast.footprint.product.name,
    }
    moved = acme.post(
        f"{API}/part-numbers", {**body, "product_id": elsewhere.product_id}, format="json"
    )
    assert moved.status_code == 200 and moved.json()["id"] == created.json()["id"]
    assert PartNumber.objects.get().product_id == elsewhere.product_id
    assert ids(acme.get(f"{API}/part-numbers")) == [created.json()["id"]]
    assert ids(acme.get(f"{API}/part-numbers", {"buyer": "third"})) == []
    assert ids(session(cast.outsider).get(f"{API}/part-numbers")) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"buyer": "other", "part_number": "", "product_id": "P"}, "part_number"),
        ({"buyer": "other", "part_number": "x" * 101, "product_id": "P"}, "part_number"),
        ({"buyer": "other", "part_number": "OM-1", "product_id": 999999}, "product_id"),
        ({"buyer": "acme", "part_number": "OM-1", "product_id": "P"}, "buyer"),
        ({"buyer": "other", "part_number": "OM-1"}, "product_id"),
    ],
)
def test_part_number_refusals(cast, acme, body, field):
    body = {k: (cast.footprint.product_id if v == "P" else v) for k, v in body.items()}
    assert field in errors(acme.post(f"{API}/part-numbers", body, format="json"))
    assert not PartNumber.objects.exists()


# -------------------------------------------------------------------------- requests


def test_a_buyer_asks_and_the_supplier_answers(cast, acme, buyer):
    cast.footprint
    due = (timezone.localdate() + timedelta(days=7)).isoformat()
    response = buyer.post(
        f"{API}/requests",
        {
            "supplier": "acme",
            "product_ids": [PRODUCT_URN],
            "comment": "for our LCA",
            "due_date": due,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    made = response.json()
    assert made["status"] == "pending" and made["matches"] is None  # the buyer's view
    assert made["buyer"] == "other" and made["supplier"] == "acme" and made["due_date"] == due
    detail = acme.get(f"{API}/requests/{made['id']}").json()
    assert [m["id"] for m in detail["matches"]] == [pf(cast)]
    assert detail["matches"][0]["sha256"] == cast.footprint.sha256
    answered = acme.post(
        f"{API}/requests/{made['id']}/fulfil", {"footprint_ids": [pf(cast)]}, format="json"
    )
    assert answered.status_code == 200, answered.content
    assert answered.json()["status"] == "fulfilled"
    assert answered.json()["footprints"] == [pf(cast)]
    assert ids(buyer.get(f"{API}/received-footprints")) == [pf(cast)]
    seen = buyer.get(f"{API}/requests/{made['id']}").json()
    assert seen["footprints"] == [pf(cast)] and seen["matches"] is None


def test_the_buyer_no_longer_sees_a_sent_footprint_after_revocation(cast, acme, buyer):
    request = ask(cast)
    sharing.request_fulfil(actor=cast.actor("editor"), request=request, footprint_ids=[pf(cast)])
    sharing.grant_revoke(actor=cast.actor("editor"), grant=AccessGrant.objects.get())
    assert buyer.get(f"{API}/requests/{request.pk}").json()["footprints"] == []
    assert [r["footprints"] for r in buyer.get(f"{API}/requests").json()["results"]] == [[]]
    assert acme.get(f"{API}/requests/{request.pk}").json()["footprints"] == [pf(cast)]


def test_matches_never_show_the_buyer_anything(cast, buyer):
    request = ask(cast)
    body = buyer.get(f"{API}/requests/{request.pk}").content.decode()
    assert cast.footprint.sha256 not in body and pf(cast) not in body


def test_an_auto_rule_answers_at_once(cast, buyer):
    cast.footprint
    sharing.auto_rule_create(actor=cast.actor("admin"), buyer="other", only_verified=False)
    response = buyer.post(
        f"{API}/requests", {"supplier": "acme", "product_ids": [PRODUCT_URN]}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["status"] == "fulfilled"
    assert response.json()["footprints"] == [pf(cast)]
    assert response.json()["answered_by_rule"] == AutoFulfilRule.objects.get().pk


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"product_ids": [PRODUCT_URN]}, "supplier"),
        ({"supplier": "nobody", "product_ids": [PRODUCT_URN]}, "supplier"),
        ({"supplier": "acme"}, "product_ids"),
        ({"supplier": "acme", "product_ids": ["no urn"]}, "product_ids[0]"),
        ({"supplier": "acme", "product_ids": "urn:x"}, "product_ids"),
        ({"supplier": "acme", "criteria": {"colour": ["red"]}}, "criteria.colour"),
        ({"supplier": "acme", "criteria": ["geography"]}, "criteria"),
        ({"supplier": "acme", "part_number": "1", "due_date": "2020-01-01"}, "due_date"),
        ({"supplier": "acme", "part_number": "1", "due_date": "soon"}, "due_date"),
    ],
)
def test_request_refusals(cast, buyer, body, field):
    assert field in errors(buyer.post(f"{API}/requests", body, format="json"))
    assert not DataRequest.objects.exists()


def test_the_supplier_cannot_request(cast, acme):
    response = acme.post(
        f"{API}/requests", {"supplier": "acme", "product_ids": [PRODUCT_URN]}, format="json"
    )
    assert response.status_code == 403
    assert not DataRequest.objects.exists()


def test_request_lists(cast, acme, buyer):
    pending = ask(cast)
    done = ask(cast)
    sharing.request_reject(actor=cast.actor("editor"), request=done, reason="no")
    _, third_admin = third_buyer(cast)
    assert set(ids(acme.get(f"{API}/requests"))) == {pending.pk, done.pk}
    assert set(ids(acme.get(f"{API}/requests", {"side": "received"}))) == {pending.pk, done.pk}
    assert ids(acme.get(f"{API}/requests", {"side": "made"})) == []
    assert set(ids(buyer.get(f"{API}/requests", {"side": "made"}))) == {pending.pk, done.pk}
    assert ids(buyer.get(f"{API}/requests", {"status": "rejected"})) == [done.pk]
    assert ids(session(third_admin).get(f"{API}/requests")) == []
    assert "status" in errors(buyer.get(f"{API}/requests", {"status": "open"}))
    assert "side" in errors(buyer.get(f"{API}/requests", {"side": "sent"}))
    listed = acme.get(f"{API}/requests", {"status": "pending"}).json()["results"]
    assert listed[0]["matches"] is None  # lists never carry matches


def test_a_request_is_the_parties_only(cast):
    request = ask(cast)
    _, third_admin = third_buyer(cast)
    assert session(third_admin).get(f"{API}/requests/{request.pk}").status_code == 404
    assert session(cast.op_admin).get(f"{API}/requests/{request.pk}").status_code == 404
    assert session(cast.editor).get(f"{API}/requests/999999").status_code == 404


def test_request_steps_and_their_refusals(cast, acme, buyer):
    request = ask(cast)
    url = f"{API}/requests/{request.pk}"
    assert (
        buyer.post(f"{url}/fulfil", {"footprint_ids": [pf(cast)]}, format="json").status_code == 403
    )
    assert acme.post(f"{url}/cancel").status_code == 403
    assert session(cast.viewer).post(f"{url}/reject", {"reason": "no"}).status_code == 403
    assert "footprint_ids" in errors(acme.post(f"{url}/fulfil", {}, format="json"))
    assert "footprint_ids" in errors(
        acme.post(f"{url}/fulfil", {"footprint_ids": []}, format="json")
    )
    assert "footprint_ids[0]" in errors(
        acme.post(f"{url}/fulfil", {"footprint_ids": ["nope"]}, format="json")
    )
    assert "reason" in errors(acme.post(f"{url}/reject", {"reason": ""}, format="json"))
    rejected = acme.post(f"{url}/reject", {"reason": "not for sale"}, format="json")
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected" and rejected.json()["reason"] == "not for sale"
    conflict = acme.post(f"{url}/fulfil", {"footprint_ids": [pf(cast)]}, format="json")
    assert conflict.status_code == 409 and conflict.json()["field"] == "status"
    assert buyer.post(f"{url}/cancel").status_code == 409


def test_the_buyer_cancels(cast, acme, buyer):
    request = ask(cast)
    response = buyer.post(f"{API}/requests/{request.pk}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    response = acme.post(
        f"{API}/requests/{request.pk}/fulfil", {"footprint_ids": [pf(cast)]}, format="json"
    )
    assert response.status_code == 409
    assert not AccessGrant.objects.exists()


def test_fulfil_the_whole_product_through_the_api_client(cast, buyer):
    request = ask(cast)
    response = bearer(cast).post(
        f"{API}/requests/{request.pk}/fulfil",
        {"footprint_ids": [pf(cast)], "whole_product": True},
        format="json",
    )
    assert response.status_code == 200, response.content
    successor = new_version(cast, cast.footprint)
    assert str(successor.pf_id) in ids(buyer.get(f"{API}/received-footprints"))


# ------------------------------------------------------------------------ auto rules


def test_auto_rules(cast):
    admin = session(cast.admin)
    response = admin.post(
        f"{API}/auto-rules",
        {"buyer": "other", "product_ids": [cast.footprint.product_id], "only_verified": False},
        format="json",
    )
    assert response.status_code == 201, response.content
    rule = response.json()
    assert rule == {
        "id": rule["id"],
        "buyer": "other",
        "products": [cast.footprint.product_id],
        "only_verified": False,
        "active": True,
        "created_at": rule["created_at"],
    }
    assert ids(session(cast.viewer).get(f"{API}/auto-rules")) == [rule["id"]]
    assert ids(session(cast.outsider).get(f"{API}/auto-rules")) == []
    disabled = admin.post(f"{API}/auto-rules/{rule['id']}/disable")
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert admin.post(f"{API}/auto-rules/{rule['id']}/disable").status_code == 409


def test_auto_rule_refusals(cast):
    admin, editor = session(cast.admin), session(cast.editor)
    assert editor.post(f"{API}/auto-rules", {"buyer": "other"}, format="json").status_code == 403
    assert (
        bearer(cast).post(f"{API}/auto-rules", {"buyer": "other"}, format="json").status_code == 403
    )
    assert "buyer" in errors(admin.post(f"{API}/auto-rules", {"buyer": "acme"}, format="json"))
    assert "product_ids[0]" in errors(
        admin.post(f"{API}/auto-rules", {"buyer": "other", "product_ids": [999999]}, format="json")
    )
    assert "product_ids" in errors(
        admin.post(f"{API}/auto-rules", {"buyer": "other", "product_ids": "all"}, format="json")
    )
    assert not AutoFulfilRule.objects.exists()
    rule = sharing.auto_rule_create(actor=cast.actor("admin"), buyer="other")
    assert session(cast.outsider).post(f"{API}/auto-rules/{rule.pk}/disable").status_code == 404
    assert editor.post(f"{API}/auto-rules/{rule.pk}/disable").status_code == 403
    assert AuditEntry.objects.filter(type="auto_rule.disabled").count() == 0
