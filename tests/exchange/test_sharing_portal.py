"""The portal's sharing pages (django test Client).

Buyer ("other", the outsider's company): supply-chain coverage, requests made (new,
tracking, cancel), received footprints (list, filters, detail). Supplier (acme):
incoming requests (fulfil, reject), grants (grant, revoke), zone publication, part
numbers, auto-fulfil rules.

Each page is checked for the people who may use it and refused to the others; every
refused form names its field and stores nothing; a buyer never sees a footprint that
was not granted to it (nor published) on any page.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from exchange import services as exchange_services
from exchange import sharing
from exchange.models import (
    AccessGrant,
    AutoFulfilRule,
    DataRequest,
    Footprint,
    PartNumber,
    RequestStatus,
    ZonePublication,
)
from tests.exchange.helpers import signed_footprint
from tests.factories import add_member
from tests.sharing.helpers import attested, third_buyer
from verification.models import EngagementState

pytestmark = pytest.mark.django_db

PRODUCT_URN = "urn:pact:acme.example:product:li2co3"
NICKEL_URN = "urn:pact:acme.example:product:nickel-sulfate"


# ---------------------------------------------------------------------------- helpers


def portal(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def url(name: str, **kwargs: Any) -> str:
    return reverse(f"exchange:{name}", kwargs=kwargs)


def page_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def submit(cast, urn: str = PRODUCT_URN, **overrides: Any) -> Footprint:
    """A new acme footprint (signed with acme's own key) for the product ``urn``."""
    token = signed_footprint(cast, productIds=[urn], **overrides)
    return exchange_services.footprint_submit(actor=cast.actor("editor"), jws=token).footprint


def grant(cast, footprint: Footprint, buyer=None) -> AccessGrant:
    return sharing.grant_create(
        actor=cast.actor("admin"), buyer=buyer or cast.other, footprint_id=str(footprint.pf_id)
    )


def ask(cast, **what: Any) -> DataRequest:
    """The outsider's company asks acme."""
    what.setdefault("product_ids", [PRODUCT_URN])
    return sharing.request_create(actor=cast.actor("outsider"), supplier=cast.acme, **what)


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            DataRequest,
            AccessGrant,
            PartNumber,
            AutoFulfilRule,
            ZonePublication,
            AuditEntry,
        )
    }


def pulls(company: str) -> list[dict[str, Any]]:
    entries = AuditEntry.objects.filter(type="footprint.pulled", company=company)
    return [json.loads(bytes(e.payload)) for e in entries.order_by("seq")]


@pytest.fixture
def buyer(cast) -> Client:
    return portal(cast.outsider)


@pytest.fixture
def supplier(cast) -> Client:
    return portal(cast.editor)


@pytest.fixture
def buyer_viewer(cast):
    return add_member(cast.other, "other_viewer", "viewer")


@pytest.fixture
def secret(cast) -> Footprint:
    """An acme footprint granted to a third buyer only: the outsider must never see it."""
    footprint = submit(cast, NICKEL_URN, productNameCompany="Secret nickel sulfate NS-99")
    third, _ = third_buyer(cast)
    grant(cast, footprint, buyer=third)
    return footprint


# ======================================================================== buyer: requests


def test_a_buyer_requests_footprints_with_criteria(cast, buyer):
    due = timezone.localdate() + timedelta(days=14)
    response = buyer.post(
        url("request-new"),
        {
            "supplier": "acme",
            "product_ids": f"{PRODUCT_URN}\n\n  {NICKEL_URN}  \n",
            "part_number": "OM-4711",
            "geography": "cn, de",
            "classification": "urn:pact:cpc:34290",
            "valid_on": "2025-06-30",
            "comment": "For the 2026 battery passport.",
            "due_date": due.isoformat(),
        },
    )

    made = DataRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("request", request_id=made.pk)
    assert made.buyer == cast.other and made.supplier == cast.acme
    assert made.product_ids == [PRODUCT_URN, NICKEL_URN]
    assert made.part_number == "OM-4711"
    assert made.criteria == {
        "geography": ["CN", "DE"],
        "classification": ["urn:pact:cpc:34290"],
        "validOn": ["2025-06-30T00:00:00Z"],
    }
    assert made.due_date == due and made.status == RequestStatus.PENDING
    assert page_messages(response) == ["Request sent to Acme Lithium Co., Ltd."]
    page = buyer.get(url("request", request_id=made.pk))
    assert page.status_code == 200
    assert "For the 2026 battery passport." in page.content.decode()
    assert page.context["side"] == "buyer"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"product_ids": ""}, "product_ids", "say what you need"),
        ({"product_ids": f"{PRODUCT_URN}\nnot a urn"}, "product_ids", "line 2: identifier"),
        ({"supplier": "other"}, "supplier", "Select a valid choice"),  # itself
        ({"supplier": "newco"}, "supplier", "Select a valid choice"),  # not active
        ({"due_date": "2020-01-01"}, "due_date", "must not be in the past"),
        ({"valid_on": "30.06.2025"}, "valid_on", "Enter a valid date"),
        ({"part_number": "x" * 101}, "part_number", "at most 100 characters"),
    ],
)
def test_a_refused_request_names_its_field_and_stores_nothing(cast, buyer, changes, field, message):
    before = counts()
    data = {"supplier": "acme", "product_ids": PRODUCT_URN, **changes}

    response = buyer.post(url("request-new"), data)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert counts() == before
    label = response.context["form"][field].label
    assert f"{label}: " in response.content.decode()  # the message names the field


def test_only_buyer_editors_may_request(cast, buyer_viewer):
    before = counts()
    data = {"supplier": "acme", "product_ids": PRODUCT_URN}
    assert portal(buyer_viewer).post(url("request-new"), data).status_code == 403
    # acme is a supplier, not a buyer of the zone
    assert portal(cast.admin).post(url("request-new"), data).status_code == 403
    assert counts() == before
    page = portal(buyer_viewer).get(url("request-new")).content.decode()
    assert "Viewers cannot send requests." in page and "Send request" not in page


def test_the_buyer_tracks_its_requests_by_status(cast, buyer):
    footprint = cast.footprint
    pending = ask(cast, due_date=timezone.localdate() + timedelta(days=3))
    fulfilled = ask(cast)
    sharing.request_fulfil(
        actor=cast.actor("editor"), request=fulfilled, footprint_ids=[str(footprint.pf_id)]
    )
    rejected = ask(cast)
    sharing.request_reject(actor=cast.actor("editor"), request=rejected, reason="Not sold to you")

    response = buyer.get(url("requests"))

    assert response.status_code == 200
    tabs = {t["status"]: t["count"] for t in response.context["tabs"]}
    assert tabs == {"all": 3, "pending": 1, "fulfilled": 1, "rejected": 1, "cancelled": 0}
    text = response.content.decode()
    for r in (pending, fulfilled, rejected):
        assert url("request", request_id=r.pk) in text
    assert url("received-footprint", pf_id=footprint.pf_id) in text  # what was received
    assert "Not sold to you" in text
    only_pending = buyer.get(url("requests"), {"status": "pending"})
    assert [i["r"] for i in only_pending.context["items"]] == [pending]


def test_the_buyer_cancels_a_pending_request(cast, buyer, supplier):
    made = ask(cast)
    assert "Cancel request" in buyer.get(url("request", request_id=made.pk)).content.decode()
    # the supplier cannot cancel it
    assert supplier.post(url("request-cancel", request_id=made.pk)).status_code == 403

    response = buyer.post(url("request-cancel", request_id=made.pk))

    assert response.status_code == 302
    made.refresh_from_db()
    assert made.status == RequestStatus.CANCELLED
    again = buyer.post(url("request-cancel", request_id=made.pk))
    assert page_messages(again)[-1] == "status: the request is already cancelled"


def test_a_request_page_is_for_its_two_parties_only(cast):
    made = ask(cast)
    _, member = third_buyer(cast)
    assert portal(member).get(url("request", request_id=made.pk)).status_code == 404
    assert portal(cast.op_admin).get(url("request", request_id=made.pk)).status_code == 404
    assert portal(cast.viewer).get(url("request", request_id=made.pk)).status_code == 200


# ====================================================================== supplier: inbox


def test_the_inbox_shows_pending_requests_first_with_tabs(cast, supplier):
    pending = ask(cast, comment="Need it for the audit")
    done = ask(cast)
    sharing.request_reject(actor=cast.actor("editor"), request=done, reason="No")

    response = supplier.get(url("request-inbox"))

    assert response.status_code == 200
    assert response.context["status"] == "pending"
    assert [i["r"] for i in response.context["items"]] == [pending]
    assert "Need it for the audit" in response.content.decode()
    every = supplier.get(url("request-inbox"), {"status": "all"})
    assert {i["r"] for i in every.context["items"]} == {pending, done}
    # the buyer's inbox has none of acme's requests
    assert portal(cast.outsider).get(url("request-inbox")).context["items"] == []


def test_the_supplier_sees_the_candidates_and_fulfils_with_future_versions(cast, supplier):
    footprint = cast.footprint
    other_product = submit(cast, NICKEL_URN)
    made = ask(cast)

    page = supplier.get(url("request", request_id=made.pk))
    assert page.context["side"] == "supplier"
    assert [fp.pk for fp in page.context["candidates"]] == [footprint.pk]
    form = page.context["fulfil_form"]
    assert form.initial["footprints"] == [str(footprint.pf_id)]  # the match is ticked
    offered = dict(form.fields["footprints"].choices)
    assert str(other_product.pf_id) in offered  # the others may be chosen too
    assert "matches the request" in offered[str(footprint.pf_id)]

    response = supplier.post(
        url("request-fulfil", request_id=made.pk),
        {"footprints": [str(footprint.pf_id)], "whole_product": "on"},
    )

    assert response.status_code == 302
    made.refresh_from_db()
    assert made.status == RequestStatus.FULFILLED
    assert list(made.footprints.all()) == [footprint]
    created = AccessGrant.objects.get()
    assert created.product == footprint.product and created.footprint is None
    assert page_messages(response) == ["Sent 1 footprint to Other Motors."]
    # the buyer now sees it, and the next version of the product too
    newer = submit(cast)
    seen = portal(cast.outsider).get(url("received")).context["rows"]
    assert {r.footprint.pk for r in seen} == {footprint.pk, newer.pk}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "footprints"),
        ({"footprints": ["3f6d2a8e-5b1c-4e7f-9a0d-2c8b7e41f5a9"]}, "footprints"),
    ],
)
def test_a_refused_fulfilment_names_its_field_and_stores_nothing(cast, supplier, data, field):
    made = ask(cast)
    assert cast.footprint  # a footprint to choose
    before = counts()

    response = supplier.post(url("request-fulfil", request_id=made.pk), data)

    assert response.status_code == 400
    assert field in response.context["fulfil_form"].errors
    assert "Footprints to send: " in response.content.decode()
    assert counts() == before
    made.refresh_from_db()
    assert made.status == RequestStatus.PENDING


def test_a_deprecated_footprint_cannot_be_sent(cast, supplier):
    made = ask(cast)
    old = cast.footprint
    exchange_services.footprint_deprecate(actor=cast.actor("editor"), footprint=old, reason="x")
    before = counts()

    response = supplier.post(
        url("request-fulfil", request_id=made.pk), {"footprints": [str(old.pf_id)]}
    )

    assert response.status_code == 400  # not offered any more
    assert counts() == before


def test_only_the_suppliers_editors_answer(cast):
    made = ask(cast)
    pf = str(cast.footprint.pf_id)
    before = counts()
    for member in (cast.viewer, cast.outsider):
        client = portal(member)
        fulfil = client.post(url("request-fulfil", request_id=made.pk), {"footprints": [pf]})
        reject = client.post(url("request-reject", request_id=made.pk), {"reason": "no"})
        assert (fulfil.status_code, reject.status_code) == (403, 403), member
    operator = portal(cast.op_admin)
    assert (
        operator.post(url("request-reject", request_id=made.pk), {"reason": "no"}).status_code
        == 404
    )
    assert counts() == before
    viewer_page = portal(cast.viewer).get(url("request", request_id=made.pk)).content.decode()
    assert "Viewers cannot answer requests." in viewer_page
    assert "Send to" not in viewer_page


def test_the_supplier_rejects_with_a_reason_the_buyer_reads(cast, supplier, buyer):
    made = ask(cast)
    before = counts()
    empty = supplier.post(url("request-reject", request_id=made.pk), {"reason": "  "})
    assert empty.status_code == 400
    assert "Reason for the buyer: This field is required." in empty.content.decode()
    assert counts() == before

    response = supplier.post(
        url("request-reject", request_id=made.pk), {"reason": "Being re-verified until May."}
    )

    assert response.status_code == 302
    made.refresh_from_db()
    assert (made.status, made.reason) == (RequestStatus.REJECTED, "Being re-verified until May.")
    assert (
        "Being re-verified until May."
        in buyer.get(url("request", request_id=made.pk)).content.decode()
    )
    assert "Being re-verified until May." in buyer.get(url("supply-chain")).content.decode()
    late = supplier.post(
        url("request-fulfil", request_id=made.pk), {"footprints": [str(cast.footprint.pf_id)]}
    )
    assert late.status_code == 302
    assert "status: the request is already rejected" in page_messages(late)


# ============================================================= buyer: received footprints


def test_received_footprints_with_derived_verification_and_filters(cast, buyer):
    verified = cast.footprint
    attested(cast)  # verity attests acme's footprint
    revoked = submit(cast, NICKEL_URN, productNameCompany="Nickel sulfate")
    plain = submit(cast, "urn:pact:acme.example:product:cobalt", productNameCompany="Cobalt")
    for footprint in (verified, revoked, plain):
        grant(cast, footprint)
    from tests.sharing.helpers import verifiers_of
    from tests.verification.helpers import engagement_in

    engagement_in(cast, verifiers_of(cast), EngagementState.REVOKED, footprints=[revoked])

    response = buyer.get(url("received"))

    assert response.status_code == 200
    states = {r.footprint.pk: r.verification.state for r in response.context["rows"]}
    assert states == {verified.pk: "verified", revoked.pk: "revoked", plain.pk: "not_verified"}
    text = response.content.decode()
    assert "Acme Lithium Co., Ltd." in text and "Cobalt" in text
    assert "Limited assurance" in text

    def shown(**filters: str) -> set[int]:
        return {r.footprint.pk for r in buyer.get(url("received"), filters).context["rows"]}

    assert shown(verification="verified") == {verified.pk}
    assert shown(verification="revoked") == {revoked.pk}
    assert shown(q="cobalt") == {plain.pk}
    assert shown(supplier="acme") == {verified.pk, revoked.pk, plain.pk}
    assert shown(supplier="third") == set()  # not a supplier of the buyer's: nothing
    assert shown(status="Deprecated") == set()
    # the page is a pull of acme's footprints, in the audit log
    assert pulls("other")[0]["channel"] == "portal"
    assert set(pulls("other")[0]["footprints"]) == {
        str(fp.pf_id) for fp in (verified, revoked, plain)
    }


def test_an_expired_attestation_shows_as_expired(cast, buyer):
    attested(cast, EngagementState.EXPIRED)
    grant(cast, cast.footprint)
    row = buyer.get(url("received")).context["rows"][0]
    assert row.verification.state == "expired"


def test_the_received_detail_page_reads_like_a_document(cast, buyer):
    footprint = cast.footprint
    attested(cast)
    grant(cast, footprint)

    response = buyer.get(url("received-footprint", pf_id=footprint.pf_id))

    assert response.status_code == 200
    text = response.content.decode()
    assert "MJ-LC995 battery-grade lithium carbonate" in text
    assert "Verity Assurance GmbH" in text and "Limited assurance" in text
    assert "11.87 kg CO₂e per 1 kilogram" in text
    assert footprint.sha256 in text
    bundle = reverse("verification-api:footprint-bundle", kwargs={"pf_id": footprint.pf_id})
    assert f'href="{bundle}?format=json"' in text and "Download evidence bundle" in text
    assert pulls("other")[-1] == {"channel": "portal", "footprints": [str(footprint.pf_id)]}
    # the button's link answers with the bundle as JSON
    assert buyer.get(f"{bundle}?format=json").json()["footprint"]["id"] == str(footprint.pf_id)


def test_the_owner_is_sent_to_its_own_footprint_page(cast, supplier):
    response = supplier.get(url("received-footprint", pf_id=cast.footprint.pf_id))
    assert response.status_code == 302
    assert response["Location"] == url("footprint", pf_id=cast.footprint.pf_id)


def test_an_ungranted_or_revoked_footprint_is_not_found(cast, buyer):
    footprint = cast.footprint
    assert buyer.get(url("received-footprint", pf_id=footprint.pf_id)).status_code == 404
    given = grant(cast, footprint)
    assert buyer.get(url("received-footprint", pf_id=footprint.pf_id)).status_code == 200
    sharing.grant_revoke(actor=cast.actor("admin"), grant=given, reason="contract ended")
    assert buyer.get(url("received-footprint", pf_id=footprint.pf_id)).status_code == 404
    assert buyer.get(url("received-footprint", pf_id="not-a-uuid")).status_code == 404


# ================================================================== buyer: the dashboard


def test_the_dashboard_covers_requested_and_granted_products(cast, buyer):
    verified = cast.footprint
    attested(cast)
    first = ask(cast)
    sharing.request_fulfil(
        actor=cast.actor("editor"), request=first, footprint_ids=[str(verified.pf_id)]
    )
    nickel = submit(
        cast, NICKEL_URN, productNameCompany="Nickel sulfate", pcf={"primaryDataShare": "44"}
    )
    grant(cast, nickel)  # shared without a request
    ask(cast, product_ids=["urn:pact:acme.example:product:unknown"], due_date=None)
    refused = ask(cast, part_number="OM-0001", product_ids=[])
    sharing.request_reject(actor=cast.actor("editor"), request=refused, reason="No such part")

    response = buyer.get(url("supply-chain"))

    assert response.status_code == 200
    totals = response.context["totals"]
    assert (totals["products"], totals["received"], totals["verified"], totals["pending"]) == (
        4,
        2,
        1,
        1,
    )
    text = response.content.decode()
    assert "4 products: 2 received, 1 verified" in text
    assert 'aria-label="2 of 4 received, 1 verified"' in text
    rows = {r.label: r for g in response.context["groups"] for r in g["rows"]}
    lithium = rows["MJ-LC995 battery-grade lithium carbonate"]
    assert lithium.verified and lithium.verification.assurance == "limited"
    assert lithium.primary_data_share == "62.5"
    assert rows["Nickel sulfate"].granted and rows["Nickel sulfate"].primary_data_share == "44"
    assert rows["Nickel sulfate"].latest_request is None
    assert rows["urn:pact:acme.example:product:unknown"].footprint is None
    assert rows["part number OM-0001"].latest_request == refused
    assert "No such part" in text
    assert {p["channel"] for p in pulls("other")} == {"portal"}


def test_a_revoked_grant_shows_on_the_dashboard_without_the_footprint(cast, buyer):
    made = ask(cast)
    sharing.request_fulfil(
        actor=cast.actor("editor"), request=made, footprint_ids=[str(cast.footprint.pf_id)]
    )
    sharing.grant_revoke(
        actor=cast.actor("admin"), grant=AccessGrant.objects.get(), reason="contract ended"
    )

    response = buyer.get(url("supply-chain"))

    text = response.content.decode()
    assert response.context["totals"]["received"] == 0
    assert "access revoked" in text and "contract ended" in text
    assert "MJ-LC995" not in text and cast.footprint.sha256 not in text
    assert str(cast.footprint.pf_id) not in buyer.get(url("requests")).content.decode()


def test_an_empty_dashboard_says_what_to_do(cast, buyer):
    response = buyer.get(url("supply-chain"))
    assert response.context["totals"]["products"] == 0
    assert "No purchased products yet" in response.content.decode()


# =============================================================== never an ungranted footprint


def test_a_buyer_never_sees_an_ungranted_footprint_on_any_page(cast, buyer, secret):
    shared = cast.footprint
    grant(cast, shared)
    made = ask(cast)
    hidden = [str(secret.pf_id), secret.sha256, "Secret nickel sulfate", "NS-99"]
    pages = [
        url("supply-chain"),
        url("requests"),
        url("request", request_id=made.pk),
        url("received"),
        url("received") + "?supplier=acme&q=nickel",
        url("received-footprint", pf_id=shared.pf_id),
        url("received-export", file_format="csv"),
        url("received-export", file_format="json"),
        url("request-new"),
        url("request-inbox"),
        url("grants"),
        url("part-numbers"),
        url("auto-rules"),
    ]
    for page in pages:
        response = buyer.get(page)
        assert response.status_code == 200, page
        text = response.content.decode("utf-8-sig")
        assert not [h for h in hidden if h in text], page
    assert buyer.get(url("received-footprint", pf_id=secret.pf_id)).status_code == 404
    for payload in pulls("other"):
        assert str(secret.pf_id) not in payload["footprints"]


def test_a_zone_published_footprint_is_seen_by_every_buyer(cast, buyer, supplier):
    footprint = cast.footprint
    assert buyer.get(url("received")).context["rows"] == []
    page = supplier.get(url("footprint", pf_id=footprint.pf_id)).content.decode()
    assert "Publish to the zone" in page

    response = supplier.post(url("footprint-zone", pf_id=footprint.pf_id), {"action": "publish"})

    assert response.status_code == 302
    assert ZonePublication.objects.filter(footprint=footprint).exists()
    rows = buyer.get(url("received")).context["rows"]
    assert [(r.footprint.pk, r.via) for r in rows] == [(footprint.pk, ["zone"])]
    assert (
        "Withdraw from the zone"
        in supplier.get(url("footprint", pf_id=footprint.pf_id)).content.decode()
    )
    supplier.post(url("footprint-zone", pf_id=footprint.pf_id), {"action": "withdraw"})
    assert not ZonePublication.objects.exists()
    assert buyer.get(url("received")).context["rows"] == []


def test_the_zone_toggle_is_for_the_suppliers_editors(cast):
    footprint = cast.footprint
    before = counts()
    target = url("footprint-zone", pf_id=footprint.pf_id)
    assert portal(cast.viewer).post(target, {"action": "publish"}).status_code == 403
    assert portal(cast.outsider).post(target, {"action": "publish"}).status_code == 404
    assert counts() == before
    assert (
        "Publish to the zone"
        not in portal(cast.viewer).get(url("footprint", pf_id=footprint.pf_id)).content.decode()
    )
    exchange_services.footprint_deprecate(
        actor=cast.actor("editor"), footprint=footprint, reason="x"
    )
    refused = portal(cast.editor).post(target, {"action": "publish"})
    assert "footprint_id: only an active footprint can be published" in page_messages(refused)
    assert not ZonePublication.objects.exists()


# ============================================================================== grants


def test_the_supplier_grants_a_footprint_or_a_product(cast, supplier, buyer):
    footprint = cast.footprint
    response = supplier.post(url("grants"), {"buyer": "other", "footprint": str(footprint.pf_id)})
    assert response.status_code == 302
    assert page_messages(response) == [
        "Other Motors can now see the footprint of MJ-LC995 battery-grade lithium carbonate."
    ]
    one = AccessGrant.objects.get()
    assert (one.buyer, one.footprint, one.product) == (cast.other, footprint, None)

    response = supplier.post(url("grants"), {"buyer": "other", "product": footprint.product_id})
    assert response.status_code == 302
    assert AccessGrant.objects.filter(product=footprint.product).exists()
    page = supplier.get(url("grants"))
    assert [g["buyer"] for g in page.context["groups"]] == [cast.other]
    assert len(page.context["groups"][0]["active"]) == 2
    assert buyer.get(url("received-footprint", pf_id=footprint.pf_id)).status_code == 200


def test_the_grant_form_is_prefilled_from_the_footprint_page(cast, supplier):
    pf = str(cast.footprint.pf_id)
    page = supplier.get(url("footprint", pf_id=pf)).content.decode()
    assert f"{url('grants')}?footprint={pf}" in page
    form = supplier.get(url("grants"), {"footprint": pf}).context["form"]
    assert form["footprint"].value() == pf


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"buyer": "other"}, "footprint", "choose either one footprint or a whole product"),
        ({"buyer": "other", "footprint": "PF", "product": "PRODUCT"}, "footprint", "either"),
        ({"buyer": "acme", "footprint": "PF"}, "buyer", "Select a valid choice"),
        ({"buyer": "newco", "footprint": "PF"}, "buyer", "Select a valid choice"),
        (
            {"buyer": "other", "footprint": "3f6d2a8e-5b1c-4e7f-9a0d-2c8b7e41f5a9"},
            "footprint",
            "valid choice",
        ),
    ],
)
def test_a_refused_grant_names_its_field_and_stores_nothing(cast, supplier, data, field, message):
    values = {
        k: str(cast.footprint.pf_id)
        if v == "PF"
        else cast.footprint.product_id
        if v == "PRODUCT"
        else v
        for k, v in data.items()
    }
    before = counts()

    response = supplier.post(url("grants"), values)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert message in " ".join(errors[field])
    assert counts() == before


def test_viewers_and_other_companies_cannot_grant(cast):
    pf = str(cast.footprint.pf_id)
    before = counts()
    assert (
        portal(cast.viewer).post(url("grants"), {"buyer": "other", "footprint": pf}).status_code
        == 403
    )
    outsider = portal(cast.outsider).post(url("grants"), {"buyer": "other", "footprint": pf})
    assert outsider.status_code == 400  # neither a buyer to choose nor acme's footprint
    assert counts() == before
    assert "Grant access" not in portal(cast.viewer).get(url("grants")).content.decode()


def test_the_supplier_revokes_a_grant_with_a_reason(cast, supplier, buyer):
    given = grant(cast, cast.footprint)
    before = counts()
    target = url("grant-revoke", grant_id=given.pk)

    empty = supplier.post(target, {f"g{given.pk}-reason": ""})
    assert empty.status_code == 400
    assert "Reason: This field is required." in empty.content.decode()
    assert counts() == before
    assert portal(cast.viewer).post(target, {f"g{given.pk}-reason": "x"}).status_code == 403
    assert buyer.post(target, {f"g{given.pk}-reason": "x"}).status_code == 404

    response = supplier.post(target, {f"g{given.pk}-reason": "contract ended"})

    assert response.status_code == 302
    given.refresh_from_db()
    assert given.revoked_at is not None and given.revocation_reason == "contract ended"
    assert buyer.get(url("received")).context["rows"] == []
    again = supplier.post(target, {f"g{given.pk}-reason": "twice"})
    assert page_messages(again)[-1] == "grant: the grant is already revoked"
    page = supplier.get(url("grants")).content.decode()
    assert "1 revoked" in page and "contract ended" in page


# ============================================================ part numbers and auto rules


def test_part_numbers_map_a_buyers_number_to_a_product(cast, supplier):
    product = cast.footprint.product
    response = supplier.post(
        url("part-numbers"), {"buyer": "other", "part_number": "OM-4711", "product": product.pk}
    )
    assert response.status_code == 302
    mapping = PartNumber.objects.get()
    assert (mapping.buyer, mapping.part_number, mapping.product) == (cast.other, "OM-4711", product)
    assert "OM-4711" in supplier.get(url("part-numbers")).content.decode()
    # a request by that part number finds the product's footprint
    made = ask(cast, product_ids=[], part_number="OM-4711")
    page = supplier.get(url("request", request_id=made.pk))
    assert [fp.pk for fp in page.context["candidates"]] == [cast.footprint.pk]
    assert page.context["mapped"] == mapping


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"buyer": "other", "part_number": "", "product": "P"}, "part_number"),
        ({"buyer": "other", "part_number": "x" * 101, "product": "P"}, "part_number"),
        ({"buyer": "other", "part_number": "OM-1", "product": "999999"}, "product"),
        ({"buyer": "third", "part_number": "OM-1", "product": "P"}, "buyer"),
    ],
)
def test_a_refused_part_number_names_its_field(cast, supplier, data, field):
    values = {k: cast.footprint.product_id if v == "P" else v for k, v in data.items()}
    before = counts()
    response = supplier.post(url("part-numbers"), values)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert counts() == before


def test_part_numbers_are_for_the_suppliers_editors(cast):
    data = {"buyer": "other", "part_number": "OM-1", "product": cast.footprint.product_id}
    assert portal(cast.viewer).post(url("part-numbers"), data).status_code == 403
    assert portal(cast.outsider).post(url("part-numbers"), data).status_code == 400
    assert not PartNumber.objects.exists()


def test_an_auto_rule_answers_the_next_request_at_once(cast, buyer):
    footprint = cast.footprint
    admin = portal(cast.admin)
    response = admin.post(url("auto-rules"), {"buyer": "other", "products": [footprint.product_id]})
    assert response.status_code == 302
    rule = AutoFulfilRule.objects.get()
    assert rule.only_verified is False  # the box was not ticked
    assert list(rule.products.all()) == [footprint.product]

    made = buyer.post(url("request-new"), {"supplier": "acme", "product_ids": PRODUCT_URN})

    request = DataRequest.objects.get()
    assert request.status == RequestStatus.FULFILLED and request.answered_by_rule == rule
    assert "request answered at once" in page_messages(made)[0]
    assert buyer.get(url("received-footprint", pf_id=footprint.pf_id)).status_code == 200

    admin.post(url("auto-rule-disable", rule_id=rule.pk))
    rule.refresh_from_db()
    assert rule.active is False
    again = admin.post(url("auto-rule-disable", rule_id=rule.pk))
    assert "the rule is already disabled" in page_messages(again)


def test_only_verified_rules_wait_for_a_verified_footprint(cast, buyer):
    assert cast.footprint
    sharing.auto_rule_create(actor=cast.actor("admin"), buyer=cast.other, only_verified=True)
    buyer.post(url("request-new"), {"supplier": "acme", "product_ids": PRODUCT_URN})
    assert DataRequest.objects.get().status == RequestStatus.PENDING


def test_auto_rules_are_for_the_suppliers_admins(cast):
    data = {"buyer": "other", "products": [cast.footprint.product_id]}
    before = counts()
    assert portal(cast.editor).post(url("auto-rules"), data).status_code == 403
    refused = portal(cast.admin).post(url("auto-rules"), {"buyer": "", "products": ["999999"]})
    assert refused.status_code == 400
    assert set(refused.context["form"].errors) == {"buyer", "products"}
    assert counts() == before
    rule = sharing.auto_rule_create(actor=cast.actor("admin"), buyer=cast.other)
    assert portal(cast.editor).post(url("auto-rule-disable", rule_id=rule.pk)).status_code == 403
    assert portal(cast.outsider).post(url("auto-rule-disable", rule_id=rule.pk)).status_code == 404
    rule.refresh_from_db()
    assert rule.active
    page = portal(cast.editor).get(url("auto-rules")).content.decode()
    assert "Create rule" not in page and "Disable" not in page


# ============================================================================ navigation


def test_the_main_navigation_offers_each_side_its_pages(cast):
    buyer_nav = portal(cast.outsider).get(url("supply-chain")).content.decode()
    supplier_nav = portal(cast.editor).get(url("request-inbox")).content.decode()
    assert f'href="{url("supply-chain")}">Supply chain</a>' in buyer_nav
    assert "Incoming requests</a>" not in buyer_nav.split("</nav>")[0]
    assert f'href="{url("request-inbox")}">Incoming requests</a>' in supplier_nav
    assert f'href="{url("grants")}">Sharing</a>' in supplier_nav
    assert ">Supply chain</a>" not in supplier_nav.split("</nav>")[0]


def test_the_buyer_pages_say_when_the_company_is_no_buyer(cast):
    page = portal(cast.editor).get(url("supply-chain")).content.decode()
    assert "does not hold the buyer role" in page


def test_anonymous_people_are_sent_to_sign_in():
    for name in ("supply-chain", "received", "request-inbox", "grants"):
        response = Client().get(url(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_failed_pact_deliveries_are_shown_to_the_company_concerned(cast):
    from tests.sharing.access_matrix import acme_delivery

    error = acme_delivery(cast)
    page = portal(cast.admin).get(url("pact-deliveries") + "?status=failed")
    assert page.status_code == 200
    text = page.content.decode()
    assert error in text and "https://pact.acme-private.example" in text
    assert "gave up" in text
    assert error not in portal(cast.outsider).get(url("pact-deliveries")).content.decode()
    sent = portal(cast.admin).get(url("pact-deliveries") + "?status=sent")
    assert error not in sent.content.decode()
