"""User journeys through the portal in a real browser (chromium via Playwright).

Each test starts from the shared cast (tests/factories.py) on a live server and checks
what the person sees on the page, plus the database where the page alone cannot prove
that nothing was stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from companies.models import ApiClient, Company, Membership, SigningKey
from tests.factories import PASSWORD, Cast
from trust import keys as trust_keys

pytestmark = pytest.mark.e2e

ACME = "Acme Lithium Co., Ltd."
HOME = re.compile(r"^https?://[^/]+/$")  # the home page, exactly


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a person would."""
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def form_headed(page: Page, heading: str) -> Locator:
    """The form whose heading is ``heading``."""
    return page.locator("form").filter(has=page.get_by_role("heading", name=heading))


def form_with_button(page: Page, button: str) -> Locator:
    """The form submitted by the button named exactly ``button``."""
    return page.locator("form").filter(has=page.get_by_role("button", name=button, exact=True))


def test_sign_in_shows_company_and_role_then_sign_out(cast: Cast, page: Page) -> None:
    sign_in(page, "acme_admin")

    expect(page).to_have_url(HOME)
    expect(page.get_by_role("heading", level=1)).to_have_text(ACME)
    expect(page.locator("header .acting")).to_have_text(f"{ACME} · admin")
    expect(page.locator("header .username")).to_have_text("acme_admin")
    expect(page.get_by_text("You are admin")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    # The session is really gone: the home page sends us back to sign in.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))


def test_wrong_password_shows_an_error_and_stays_on_login(cast: Cast, page: Page) -> None:
    sign_in(page, "acme_admin", password="not the password")

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator(".errorlist")).to_contain_text("correct username and password")
    expect(page.get_by_label("User name")).to_have_value("acme_admin")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(page.locator("header .acting")).to_have_count(0)


def test_keys_register_create_platform_key_revoke_and_refuse_x25519(
    cast: Cast, page: Page, screenshot: Callable[[Page, str], None]
) -> None:
    jwk = trust_keys.public_jwk(trust_keys.generate_private_key())
    kid = trust_keys.jwk_thumbprint(jwk)
    sign_in(page, "acme_admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Signing keys").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Signing keys")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)  # the cast's own key and platform key

    # Register a public key the company holds itself.
    register = form_headed(page, "Register your own public key")
    register.get_by_label("Public key (JWK)").fill(json.dumps(jwk))
    register.locator("input[name=label]").fill("ERP signer 2025")
    register.get_by_role("button", name="Register key").click()

    expect(page.locator(".messages")).to_contain_text(f"Key {kid} registered.")
    own_row = rows.filter(has_text=kid)
    expect(own_row).to_have_count(1)
    expect(own_row).to_contain_text("ERP signer 2025")
    expect(own_row).to_contain_text("Held by the company")
    expect(own_row).to_contain_text("active")

    # Let the platform hold a second key.
    platform = form_headed(page, "Let the platform hold a key")
    platform.locator("input[name=label]").fill("portal signing")
    platform.get_by_role("button", name="Create platform-held key").click()

    expect(page.locator(".messages")).to_contain_text("registered.")
    expect(rows).to_have_count(4)
    held_by_platform = rows.filter(has_text="Held by the platform")
    expect(held_by_platform).to_have_count(2)
    expect(held_by_platform.filter(has_text="portal signing")).to_contain_text("active")

    # Revoke the registered key, saying why.
    own_row.get_by_label(f"Reason for revoking {kid}").select_option(label="Compromised")
    page.once("dialog", lambda dialog: dialog.accept())  # "Revoke this key?" confirmation
    own_row.get_by_role("button", name="Revoke").click()

    expect(page.locator(".messages")).to_contain_text(f"Key {kid} revoked.")
    expect(own_row.locator(".status-revoked")).to_contain_text("revoked")
    expect(own_row).to_contain_text("(Compromised)")
    expect(own_row.get_by_role("button", name="Revoke")).to_have_count(0)
    expect(rows.filter(has_text="active")).to_have_count(3)

    screenshot(page, "keys-page")

    # An X25519 key (an OKP key, but for key agreement, not signing) is refused.
    x25519 = {"kty": "OKP", "crv": "X25519", "x": jwk["x"]}
    register = form_headed(page, "Register your own public key")
    register.get_by_label("Public key (JWK)").fill(json.dumps(x25519))
    register.get_by_role("button", name="Register key").click()

    error = register.locator(".errorlist")
    expect(error).to_be_visible()
    expect(error).to_contain_text("crv")
    expect(rows).to_have_count(4)
    assert SigningKey.objects.filter(company=cast.acme).count() == 4


def test_keys_forms_label_their_own_fields(cast: Cast, page: Page) -> None:
    sign_in(page, "acme_admin")
    page.goto("/company/keys/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Signing keys")

    platform = form_headed(page, "Let the platform hold a key")
    platform.locator("label", has_text="Label").click()  # a label focuses its own field
    assert platform.locator("input[name=label]").evaluate("e => e === document.activeElement")
    ids = page.evaluate("() => [...document.querySelectorAll('[id]')].map(e => e.id)")
    assert sorted({i for i in ids if ids.count(i) > 1}) == []


def test_invitation_link_creates_a_login_acting_as_editor(
    cast: Cast, page: Page, new_page: Callable[[], Page]
) -> None:
    sign_in(page, "acme_admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Members of {ACME}")

    invite = form_with_button(page, "Create invitation link")
    invite.get_by_label("Email").fill("newcomer@example.test")
    invite.get_by_label("Role").select_option(label="Editor")
    invite.get_by_role("button", name="Create invitation link").click()

    expect(page.locator(".messages")).to_contain_text("Invitation for newcomer@example.test")
    link = page.locator("#invitation-link").inner_text().strip()
    assert re.fullmatch(r"http://[^/]+/invitations/[\w-]{20,}/", link), link

    guest = new_page()  # fresh context: not signed in
    guest.goto(link)
    expect(guest.get_by_role("heading", level=1)).to_have_text(f"Join {ACME}")
    expect(guest.get_by_text("You are invited as editor")).to_be_visible()
    guest.get_by_label("Username").fill("newcomer")
    guest.get_by_label("Password").fill("Plum-orchard-velvet-42")
    guest.get_by_role("button", name="Create login and join").click()

    expect(guest).to_have_url(HOME)
    expect(guest.locator(".messages")).to_contain_text(f"Welcome to {ACME}.")
    expect(guest.locator("header .acting")).to_have_text(f"{ACME} · editor")
    expect(guest.locator("header .username")).to_have_text("newcomer")
    membership = Membership.objects.get(user__username="newcomer")
    assert (membership.company_id, membership.role) == (cast.acme.pk, "editor")
    assert membership.user.email == "newcomer@example.test"


def test_api_client_secret_is_shown_once(cast: Cast, page: Page) -> None:
    sign_in(page, "acme_admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API clients").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API clients")

    new_client = form_headed(page, "New client")
    new_client.get_by_label("Name").fill("SAP connector")
    new_client.get_by_role("button", name="Create client").click()

    expect(page.get_by_text("will not be shown again")).to_be_visible()
    secret = page.locator("#client-secret").inner_text().strip()
    client_id = page.locator("#client-id").inner_text().strip()
    assert len(secret) >= 32
    expect(page.locator("table tbody tr").filter(has_text="SAP connector")).to_contain_text(
        client_id
    )

    page.reload()  # waits for the load event, so the checks below need no retrying

    expect(page.get_by_role("heading", level=1)).to_have_text("API clients")
    # Reloading must not have created another client (a resubmitted form) ...
    assert ApiClient.objects.filter(company=cast.acme, name="SAP connector").count() == 1
    # ... and neither the secret nor any fresh one is on the page any more.
    assert page.locator("#client-secret").count() == 0
    assert secret not in page.content()


def test_company_switcher_changes_the_acting_company(cast: Cast, page: Page) -> None:
    Membership.objects.create(user=cast.editor.user, company=cast.other, role="viewer")
    sign_in(page, "acme_editor")

    switcher = page.get_by_label("Acting for")
    expect(switcher).to_have_value(str(cast.acme.pk))
    expect(page.get_by_role("heading", level=1)).to_have_text(ACME)

    switcher.select_option(label="Other Motors (viewer)")  # submits on change

    expect(page.locator(".messages")).to_contain_text("You now act for Other Motors.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Other Motors")
    expect(page.get_by_text("You are viewer")).to_be_visible()
    switcher = page.get_by_label("Acting for")
    expect(switcher).to_have_value(str(cast.other.pk))
    expect(switcher.locator("option:checked")).to_have_text("Other Motors (viewer)")

    # The choice sticks: other pages act for Other Motors too.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Members of Other Motors")


def test_operator_onboards_and_suspends_then_company_is_read_only(
    cast: Cast,
    page: Page,
    new_page: Callable[[], Page],
    screenshot: Callable[[Page, str], None],
) -> None:
    sign_in(page, "op_admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Zone companies").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Companies in "))

    onboard = form_with_button(page, "Onboard")
    onboard.get_by_label("Legal name").fill("Nordic Cathode Materials AB")
    onboard.get_by_label("Identifiers").fill("5493001KJTIIGC8Y1R12")
    onboard.get_by_label("Supplier").check()
    onboard.get_by_role("button", name="Onboard").click()

    expect(page).to_have_url(re.compile(r"/operator/companies/nordic-cathode-materials-ab/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Nordic Cathode Materials AB")
    expect(page.locator(".messages")).to_contain_text("Nordic Cathode Materials AB onboarded.")
    details = page.locator(".card table")
    expect(details).to_contain_text("urn:pact:gleif.org:lei:5493001KJTIIGC8Y1R12")
    expect(details.locator("tr").filter(has_text="Roles")).to_contain_text("supplier")

    page.get_by_role("link", name="All companies").click()
    expect(page.get_by_role("link", name="Nordic Cathode Materials AB")).to_be_visible()
    screenshot(page, "operator-companies")

    # Suspend acme.
    page.get_by_role("link", name=ACME).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ACME)
    suspend = form_headed(page, "Suspend")
    suspend.get_by_label("Reason").fill("Verification body reported falsified data")
    suspend.get_by_role("button", name="Suspend").click()

    expect(page.locator(".messages")).to_contain_text(f"{ACME} is suspended.")
    status = page.locator(".card table tr").filter(has_text="Status")
    expect(status).to_contain_text("Suspended")
    expect(status).to_contain_text("Verification body reported falsified data")
    assert Company.objects.get(pk=cast.acme.pk).status == "suspended"

    # acme's admin may look, not change.
    acme = new_page()
    sign_in(acme, "acme_admin")
    banner = acme.locator(".banner.warning")
    expect(banner).to_contain_text(f"{ACME} is suspended")
    expect(banner).to_contain_text("Verification body reported falsified data")

    acme.get_by_role("navigation", name="Main").get_by_role("link", name="Signing keys").click()
    with acme.expect_response(re.compile(r"/company/keys/$")) as answer:
        form_headed(acme, "Let the platform hold a key").get_by_role(
            "button", name="Create platform-held key"
        ).click()
    assert answer.value.status == 403
    expect(acme.get_by_role("heading", level=1)).to_have_text("That is not possible")
    expect(acme.locator("main")).to_contain_text("suspended")
    assert SigningKey.objects.filter(company=cast.acme).count() == 2


def test_viewer_sees_keys_read_only_and_no_operator_pages(cast: Cast, page: Page) -> None:
    sign_in(page, "acme_viewer")
    expect(page.locator("header .acting")).to_have_text(f"{ACME} · viewer")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Zone companies")).to_have_count(0)

    nav.get_by_role("link", name="Signing keys").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Signing keys")
    expect(page.locator("table tbody tr")).to_have_count(2)
    expect(page.locator("table tbody tr").filter(has_text=cast.own_key.kid)).to_be_visible()
    expect(page.get_by_role("heading", name="Register your own public key")).to_have_count(0)
    expect(page.locator("textarea")).to_have_count(0)
    expect(page.get_by_role("button", name="Revoke")).to_have_count(0)
    expect(page.get_by_role("button", name="Create platform-held key")).to_have_count(0)

    answer = page.goto("/operator/companies/")
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("That is not possible")
    expect(page.locator("main")).to_contain_text("only the zone operator")
    expect(page.get_by_text(cast.other.legal_name)).to_have_count(0)
