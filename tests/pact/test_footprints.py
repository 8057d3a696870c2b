"""ListFootprints and GetFootprint (PACT v3) over HTTPS: what a client may see, the
filters, pagination, and errors. Written from the specification: the assertions are
about what a data recipient observes."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from tests.pact.conftest import (
    BETA_PRODUCT,
    CPC,
    HS,
    PRODUCT,
    collect,
    get_token,
    ids_of,
)

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


# ----------------------------------------------------------------- what a client sees


def test_list_returns_exactly_what_the_buyer_may_see(buyer, world):
    response = buyer.get("/3/footprints")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"data"}
    assert isinstance(body["data"], list)
    ids = ids_of(body["data"])
    assert len(ids) == len(set(ids))
    assert set(ids) == world.visible_to_buyer
    assert not set(ids) & world.hidden_from_buyer


def test_the_supplier_sees_its_own_footprints(connect, world):
    supplier = connect(world.supplier)
    listing = collect(supplier, "/3/footprints")
    assert set(ids_of(listing)) == world.ids("A1", "A2", "B", "C", "D", "E")
    assert supplier.get(f"/3/footprints/{world.id('D')}").status_code == 200
    assert supplier.get(f"/3/footprints/{world.id('F')}").status_code == 404


def test_documents_are_served_as_stored_with_current_status(buyer, world):
    from exchange.models import Footprint
    from exchange.selectors import footprint_document

    documents = {d["id"]: d for d in buyer.get("/3/footprints").json()["data"]}
    for letter in ("A1", "A2", "B", "C", "G"):
        footprint = Footprint.objects.get(pk=world.footprints[letter].pk)
        assert documents[world.id(letter)] == footprint_document(footprint)
    assert documents[world.id("A1")]["status"] == "Deprecated"  # replaced by A2
    assert documents[world.id("A2")]["status"] == "Active"


def test_verification_in_force_is_served_and_an_ended_one_is_not(buyer, world):
    from exchange.models import Footprint
    from exchange.selectors import footprint_document

    verification = {"coverage": "product level", "providerName": "Verifier Ltd"}
    b = world.footprints["B"]
    Footprint.objects.filter(pk=b.pk).update(
        verification=verification, verification_until=timezone.now() + timedelta(days=30)
    )
    served = buyer.get(f"/3/footprints/{world.id('B')}").json()["data"]
    assert served == footprint_document(Footprint.objects.get(pk=b.pk))
    assert verification in (served.get("verification"), served["pcf"].get("verification"))
    Footprint.objects.filter(pk=b.pk).update(
        verification_until=timezone.now() - timedelta(seconds=1)
    )
    served = buyer.get(f"/3/footprints/{world.id('B')}").json()["data"]
    assert verification not in (served.get("verification"), served["pcf"].get("verification"))


def test_get_each_visible_footprint(buyer, world):
    for pf_id in world.visible_to_buyer:
        response = buyer.get(f"/3/footprints/{pf_id}")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"data"}
        assert body["data"]["id"] == pf_id


def test_a_deprecated_footprint_is_returned_as_deprecated(buyer, world):
    body = buyer.get(f"/3/footprints/{world.id('A1')}").json()
    assert body["data"]["status"] == "Deprecated"


def _not_found_shape(response, pf_id: str) -> tuple[int, dict[str, str], dict[str, str]]:
    body = response.json()
    body["message"] = body["message"].replace(pf_id, "<id>")
    headers = {k: v for k, v in response.headers.items() if k not in ("date", "content-length")}
    return response.status_code, body, headers


def test_unknown_id_is_not_found(buyer, world):
    response = buyer.get(f"/3/footprints/{UNKNOWN_ID}")
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


@pytest.mark.parametrize("letter", ["D", "E", "F"])
def test_a_footprint_the_buyer_may_not_see_is_indistinguishable_from_an_unknown_one(
    buyer, world, letter
):
    hidden = world.id(letter)
    unknown = buyer.get(f"/3/footprints/{UNKNOWN_ID}")
    response = buyer.get(f"/3/footprints/{hidden}")
    assert _not_found_shape(response, hidden) == _not_found_shape(unknown, UNKNOWN_ID)
    assert world.footprints[letter].product_name not in response.text


def test_a_malformed_id_is_a_bad_request(buyer, world):
    response = buyer.get("/3/footprints/not-a-uuid")
    assert response.status_code == 400
    assert response.json()["code"] == "BadRequest"


def test_revoking_a_grant_takes_effect_at_once(buyer, world):
    from exchange import sharing
    from exchange.models import AccessGrant

    assert buyer.get(f"/3/footprints/{world.id('B')}").status_code == 200
    grant = AccessGrant.objects.get(footprint=world.footprints["B"], revoked_at__isnull=True)
    sharing.grant_revoke(actor=world.cast.actor("admin"), grant=grant, reason="ended")
    assert buyer.get(f"/3/footprints/{world.id('B')}").status_code == 404
    assert world.id("B") not in ids_of(buyer.get("/3/footprints").json()["data"])


def test_other_methods_are_not_allowed(buyer, world):
    response = buyer.post("/3/footprints", json={})
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
    assert buyer.delete(f"/3/footprints/{world.id('B')}").status_code == 405


def test_reads_of_other_companies_footprints_are_recorded(buyer, world):
    import json

    from audit.models import AuditEntry

    before = AuditEntry.objects.filter(type="footprint.pulled").count()
    buyer.get("/3/footprints")
    buyer.get(f"/3/footprints/{world.id('G')}")
    entries = list(AuditEntry.objects.filter(type="footprint.pulled").order_by("seq"))[before:]
    payloads = [json.loads(bytes(entry.payload)) for entry in entries]
    assert [p["channel"] for p in payloads] == ["pact-v3", "pact-v3"]
    assert set(payloads[0]["footprints"]) == world.visible_to_buyer
    assert payloads[1]["footprints"] == [world.id("G")]


# ---------------------------------------------------------------------------- filters


def _ids(buyer, **params) -> set[str]:
    return set(ids_of(collect(buyer, "/3/footprints", **params)))


def test_filter_product_id(buyer, world):
    assert _ids(buyer, productId=PRODUCT + "alpha") == world.ids("A1", "A2")
    assert _ids(buyer, productId=(PRODUCT + "BETA").upper()) == world.ids("B")
    assert _ids(buyer, productId="urn:bogus:product:x") == set()
    # Another company's product the buyer was not given access to.
    assert _ids(buyer, productId=PRODUCT + "delta") == set()
    assert _ids(buyer, productId=BETA_PRODUCT + "zeta") == set()


def test_filter_company_id(buyer, world):
    acme = world.cast.acme.identifiers.first().urn
    beta = world.beta.identifiers.first().urn
    assert _ids(buyer, companyId=acme) == world.ids("A1", "A2", "B", "C")
    assert _ids(buyer, companyId=beta.lower()) == world.ids("G")
    assert _ids(buyer, companyId=[acme, beta]) == world.visible_to_buyer
    assert _ids(buyer, companyId="urn:bogus:company:x") == set()
    assert _ids(buyer, companyId=["urn:bogus:company:x", "urn:bogus:company:y"]) == set()


def test_filter_geography(buyer, world):
    assert _ids(buyer, geography="DE") == world.ids("A1", "A2")  # not beta's hidden F
    assert _ids(buyer, geography="fr") == world.ids("B", "G")
    assert _ids(buyer, geography="Europe") == world.ids("C")
    assert _ids(buyer, geography="DE-BY") == set()  # D exists but is not the buyer's
    assert _ids(buyer, geography="XX") == set()
    assert _ids(buyer, geography=["DE", "Europe"]) == world.ids("A1", "A2", "C")
    assert _ids(buyer, geography="DE,Europe") == world.ids("A1", "A2", "C")


def test_filter_classification(buyer, world):
    assert _ids(buyer, classification=CPC) == world.ids("B")
    assert _ids(buyer, classification=HS.upper()) == world.ids("A1", "A2", "G")
    assert _ids(buyer, classification="urn:bogus:classification:x") == set()


def test_filter_validity(buyer, world):
    # A1 and G 2026-01-01..2027-01-01, A2 2026-06-01..2028-01-01, C 2027-06-01..2028-01-01,
    # B without a period: 2026-01-01..2029-01-01 (3 years from its reference period end).
    assert _ids(buyer, validOn="2026-03-01T00:00:00Z") == world.ids("A1", "B", "G")
    assert _ids(buyer, validOn="2027-08-01T00:00:00Z") == world.ids("A2", "B", "C")
    assert _ids(buyer, validOn="2028-12-31T00:00:00Z") == world.ids("B")
    assert _ids(buyer, validOn="1900-01-01T00:00:00Z") == set()
    assert _ids(buyer, validAfter="2026-03-01T00:00:00Z") == world.ids("A2", "C")
    assert _ids(buyer, validAfter="2099-12-31T23:59:59Z") == set()
    assert _ids(buyer, validBefore="2027-06-01T00:00:00Z") == world.ids("A1", "G")
    assert _ids(buyer, validBefore="2028-06-01T00:00:00Z") == world.ids("A1", "A2", "C", "G")
    assert _ids(buyer, validBefore="1900-01-01T00:00:00Z") == set()


def test_filter_status(buyer, world):
    assert _ids(buyer, status="Deprecated") == world.ids("A1")
    assert _ids(buyer, status="active") == world.ids("A2", "B", "C", "G")
    assert _ids(buyer, status="BogusStatus") == set()


def test_filters_combine(buyer, world):
    assert _ids(buyer, status="Active", productId=PRODUCT + "alpha") == world.ids("A2")
    assert _ids(buyer, geography="FR", classification=CPC) == world.ids("B")
    assert _ids(buyer, companyId="urn:bogus:company:x", productId=PRODUCT + "alpha") == set()


@pytest.mark.parametrize(
    "params",
    [
        {"validOn": "soon"},
        {"validAfter": "2026-02-30T00:00:00Z"},
        {"status": "Retired"},
        {"geography": "not a place"},
    ],
)
def test_bogus_filter_values_give_an_empty_list(buyer, world, params):
    response = buyer.get("/3/footprints", params=params)
    assert response.status_code == 200
    assert response.json() == {"data": []}
    assert "link" not in response.headers


def test_extension_and_unknown_parameters_are_ignored(buyer, world):
    assert _ids(buyer, **{"x-acme-invoice-id": "42", "productid": PRODUCT + "beta"}) == world.ids(
        "B"
    )


# ------------------------------------------------------------------------- pagination


def test_following_next_links_lists_everything_once(buyer, world):
    seen: list[str] = []
    response = buyer.get("/3/footprints", params={"limit": 2})
    pages = 0
    while True:
        assert response.status_code == 200
        page = ids_of(response.json()["data"])
        assert 1 <= len(page) <= 2
        seen.extend(page)
        pages += 1
        link = response.links.get("next")
        if link is None:
            break
        assert link["rel"] == "next"
        response = buyer.get(link["url"])
    assert pages == 3
    assert len(seen) == len(set(seen))
    assert set(seen) == world.visible_to_buyer


def test_the_link_header_is_an_absolute_url_on_the_requested_host(buyer, server, world):
    response = buyer.get("/3/footprints", params={"limit": 1})
    header = response.headers["link"]
    assert header.startswith("<https://") and header.endswith('>; rel="next"')
    url = response.links["next"]["url"]
    assert urlsplit(url).netloc == urlsplit(server.url).netloc
    assert urlsplit(url).path == "/3/footprints"


def test_a_next_link_can_be_called_more_than_once(buyer, world):
    first = buyer.get("/3/footprints", params={"limit": 2})
    link = first.links["next"]["url"]
    again = [buyer.get(link) for _ in range(3)]
    assert all(r.status_code == 200 for r in again)
    assert len({tuple(ids_of(r.json()["data"])) for r in again}) == 1
    assert len({r.headers.get("link") is None for r in again}) == 1
    # Going on from the second page does not break the first link either.
    second_next = again[0].links["next"]["url"]
    assert buyer.get(second_next).status_code == 200
    assert ids_of(buyer.get(link).json()["data"]) == ids_of(again[0].json()["data"])


def test_pagination_keeps_the_filters(buyer, world):
    found = collect(buyer, "/3/footprints", status="Active", limit=1)
    assert set(ids_of(found)) == world.ids("A2", "B", "C", "G")
    assert len(found) == 4


def test_pagination_keeps_content_filters(buyer, world):
    found = collect(buyer, "/3/footprints", geography=["FR", "Europe"], limit=1)
    assert ids_of(found) and len(found) == 3
    assert set(ids_of(found)) == world.ids("B", "C", "G")
    found = collect(buyer, "/3/footprints", classification=HS, validOn="2026-03-01", limit=1)
    assert set(ids_of(found)) == world.ids("A1", "G")


def test_no_link_when_everything_fits(buyer, world):
    response = buyer.get("/3/footprints", params={"limit": 5})
    assert len(response.json()["data"]) == 5
    assert "link" not in response.headers
    response = buyer.get("/3/footprints", params={"limit": 4})
    assert "link" in response.headers


def test_new_footprints_do_not_shift_a_listing_in_progress(buyer, world):
    from exchange import sharing

    first = buyer.get("/3/footprints", params={"limit": 2})
    link = first.links["next"]["url"]
    before = ids_of(buyer.get(link).json()["data"])
    # A footprint granted after the listing started appears on a fresh listing only.
    sharing.grant_create(
        actor=world.cast.actor("admin"), buyer=world.cast.other, footprint_id=world.id("D")
    )
    assert ids_of(buyer.get(link).json()["data"]) == before
    assert world.id("D") in _ids(buyer)


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "1.5", ""])
def test_limit_must_be_a_positive_integer(buyer, world, limit):
    response = buyer.get("/3/footprints", params={"limit": limit})
    if limit == "":
        assert response.status_code == 200  # no limit given
        return
    assert response.status_code == 400
    assert response.json()["code"] == "BadRequest"


def test_a_large_limit_is_capped_with_a_link(buyer, world, settings):
    settings.PACT_PAGE_SIZE_MAX = 3
    response = buyer.get("/3/footprints", params={"limit": 1000})
    assert len(response.json()["data"]) == 3
    assert "next" in response.links


def _with_cursor(link: str, token: str) -> str:
    parts = urlsplit(link)
    return f"{parts.scheme}://{parts.netloc}{parts.path}?cursor={token}"


def test_a_tampered_link_is_refused(buyer, world):
    link = buyer.get("/3/footprints", params={"limit": 1}).links["next"]["url"]
    token = parse_qs(urlsplit(link).query)["cursor"][0]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = buyer.get(_with_cursor(link, tampered))
    assert response.status_code == 400
    assert response.json()["code"] == "BadRequest"


def test_a_link_works_for_its_own_client_only(buyer, https, world):
    link = buyer.get("/3/footprints", params={"limit": 1}).links["next"]["url"]
    other = get_token(https, world.supplier)
    response = https.get(link, headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 400


def test_a_link_lives_at_least_180_seconds_then_expires(buyer, world, monkeypatch, settings):
    from exchange.pact_api import pagination

    settings.PACT_PAGE_LINK_SECONDS = 60  # raised to the specification's minimum
    before = int(pagination._now())
    link = buyer.get("/3/footprints", params={"limit": 1}).links["next"]["url"]
    after = int(pagination._now()) + 1
    monkeypatch.setattr(pagination, "_now", lambda: before + 179)
    response = buyer.get(link)
    assert response.status_code == 200, response.text
    monkeypatch.setattr(pagination, "_now", lambda: after + 181)
    response = buyer.get(link)
    assert response.status_code == 400
    assert "expired" in response.json()["message"]
