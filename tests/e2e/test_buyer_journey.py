"""A buyer's journey in a real browser: from a request to the data in hand.

The buyer (Other Motors) asks acme for its lithium carbonate footprint; acme's editor
finds the request in the inbox, sees the matching footprint ticked and sends it with
its future versions; the buyer sees the product received and verified on the
supply-chain dashboard, opens it, downloads the evidence bundle and the JSON export of
everything received. What people see is checked on the page; the downloads are
opened and read; what only the database can prove (the grant, the pulls in the audit
log) is checked there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from audit.models import AuditEntry
from exchange.models import AccessGrant, DataRequest, RequestStatus
from tests.factories import PASSWORD, Cast
from tests.sharing.helpers import attested

pytestmark = pytest.mark.e2e

PRODUCT_URN = "urn:pact:acme.example:product:li2co3"
PRODUCT = "MJ-LC995 battery-grade lithium carbonate"
ACME = "Acme Lithium Co., Ltd."
REQUEST_URL = re.compile(r"/footprints/requests/(\d+)/$")


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("header .username")).to_have_text(username)


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def tab(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Purchasing").get_by_role("link", name=name).click()


def form(page: Page, label: str):
    return page.get_by_role("form", name=label, exact=True)


def expect_message(page: Page, text: str) -> None:
    expect(page.locator(".messages")).to_contain_text(text)


def downloaded_json(page: Page, link) -> tuple[str, object]:
    with page.expect_download() as info:
        link.click()
    download = info.value
    return download.suggested_filename, json.loads(Path(download.path()).read_text())


def test_request_fulfil_and_download(
    cast: Cast, new_page: Callable[[], Page], screenshot: Callable[[Page, str], None]
) -> None:
    footprint = cast.footprint
    attested(cast)  # an accredited verifier attested acme's footprint

    # The buyer starts from an empty supply chain and asks acme for the footprint.
    buyer = new_page()
    sign_in(buyer, "other_admin")
    nav(buyer, "Supply chain")
    expect(buyer.get_by_role("heading", level=1)).to_have_text("Supply-chain coverage")
    expect(buyer.locator("#coverage-totals")).to_have_text("0 products: 0 received, 0 verified")
    tab(buyer, "New request")
    request = form(buyer, "Request footprints")
    request.get_by_label("Supplier:", exact=True).select_option(label=ACME)
    request.get_by_label("Product ids").fill(PRODUCT_URN)
    request.get_by_label("Message to the supplier").fill("For the 2026 battery passport.")
    due = timezone.localdate() + timedelta(days=14)
    request.get_by_label("Needed by (optional)").fill(due.isoformat())
    request.get_by_role("button", name="Send request").click()

    expect(buyer).to_have_url(REQUEST_URL)
    match = REQUEST_URL.search(buyer.url)
    assert match is not None
    request_id = int(match.group(1))
    expect_message(buyer, f"Request sent to {ACME}")
    expect(buyer.locator("h1 .badge")).to_have_text("Pending")
    nav(buyer, "Supply chain")
    expect(buyer.locator("#coverage-totals")).to_have_text("1 product: 0 received, 0 verified")
    expect(buyer.get_by_role("table", name="Purchased products")).to_contain_text("Pending")

    # acme's editor finds it in the inbox: the matching footprint is ticked.
    supplier = new_page()
    sign_in(supplier, "acme_editor")
    nav(supplier, "Incoming requests")
    expect(supplier.get_by_role("heading", level=1)).to_have_text("Incoming requests")
    pending_tab = supplier.get_by_role("navigation", name="Request status").get_by_role(
        "link", name=re.compile(r"^Pending")
    )
    expect(pending_tab).to_contain_text("1")
    inbox = supplier.get_by_role("table", name="Incoming requests")
    expect(inbox).to_contain_text("Other Motors")
    expect(inbox).to_contain_text(due.isoformat())
    inbox.get_by_role("link", name=f"Request {request_id}").click()
    expect(supplier.get_by_role("table", name="What was asked")).to_contain_text(
        "For the 2026 battery passport."
    )
    fulfil = form(supplier, "Fulfil request")
    match_box = fulfil.get_by_role("checkbox", name=re.compile(re.escape(PRODUCT)))
    expect(match_box).to_be_checked()
    expect(fulfil).to_contain_text("matches the request")
    fulfil.get_by_label("Also future versions of these products").check()
    screenshot(supplier, "sharing-fulfil")
    fulfil.get_by_role("button", name="Send to Other Motors").click()
    expect_message(supplier, "Sent 1 footprint to Other Motors.")
    expect(supplier.locator("h1 .badge")).to_have_text("Fulfilled")

    made = DataRequest.objects.get(pk=request_id)
    assert made.status == RequestStatus.FULFILLED
    assert AccessGrant.objects.get(request=made).product_id == footprint.product_id

    # The buyer sees the product received and verified on the dashboard.
    nav(buyer, "Supply chain")
    expect(buyer.locator("#coverage-totals")).to_have_text("1 product: 1 received, 1 verified")
    coverage = buyer.get_by_role("table", name="Purchased products")
    expect(coverage).to_contain_text(PRODUCT)
    expect(coverage).to_contain_text("Fulfilled")
    expect(coverage).to_contain_text("Limited assurance")
    expect(coverage).to_contain_text("62.5 %")
    screenshot(buyer, "sharing-supply-chain")

    # ... opens it and downloads the evidence bundle.
    coverage.get_by_role("link", name=re.compile(r"11\.87 kg CO₂e")).click()
    expect(buyer.get_by_role("heading", level=1)).to_have_text(PRODUCT)
    expect(buyer.get_by_role("table", name="Verification")).to_contain_text("Verity Assurance GmbH")
    name, bundle = downloaded_json(
        buyer, buyer.get_by_role("link", name="Download evidence bundle")
    )
    assert name == f"evidence-bundle-{footprint.pf_id}.json"
    assert isinstance(bundle, dict)
    assert bundle["footprint"]["document"]["id"] == str(footprint.pf_id)

    # ... and everything received as JSON (the documents as served).
    tab(buyer, "Received footprints")
    received = buyer.get_by_role("table", name="Received footprints")
    expect(received).to_contain_text(ACME)
    expect(received).to_contain_text("verified")
    name, exported = downloaded_json(buyer, buyer.get_by_role("link", name="JSON (PACT documents)"))
    assert name.startswith("received-footprints-") and name.endswith(".json")
    assert isinstance(exported, dict)
    [document] = exported["data"]
    assert document["id"] == str(footprint.pf_id)
    assert document["pcf"]["verification"]["providerName"] == "Verity Assurance GmbH"

    channels = [
        json.loads(bytes(e.payload))["channel"]
        for e in AuditEntry.objects.filter(type="footprint.pulled", company="other")
    ]
    assert "portal" in channels and "portal:json" in channels
