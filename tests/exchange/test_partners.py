"""PACT partner hosts: registration, the encrypted client secret, which event sources
a partner covers, the management commands and the portal's set client credentials."""

from __future__ import annotations

import base64
import html
import io
import logging
import re

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django.test import Client
from oauth2_provider.models import get_application_model

from audit.models import AuditEntry
from companies.errors import Conflict, NotFound, ValidationFailed
from companies.models import ApiClient
from exchange import partners
from exchange.models import PartnerHost
from exchange.partners import (
    PartnerSecretError,
    clean_base_url,
    partner_add,
    partner_for_source,
    partner_remove,
    partner_secret,
    source_matches,
)
from tests.factories import make_company

pytestmark = pytest.mark.django_db

SECRET = "s3cret-Partner-Value-0123456789"


def state() -> tuple[int, int, int]:
    return (
        PartnerHost.objects.count(),
        AuditEntry.objects.count(),
        get_application_model().objects.count(),
    )


# ------------------------------------------------------------------------ base URLs


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://pact.example", "https://pact.example"),
        ("https://PACT.Example/", "https://pact.example"),
        ("HTTPS://pact.example:443/api/", "https://pact.example/api"),
        ("https://pact.example:8443/api", "https://pact.example:8443/api"),
    ],
)
def test_base_urls_are_normalised(raw, expected):
    assert clean_base_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("", "give the partner's base URL"),
        ("pact.example", "must be an https:// URL"),
        ("ftp://pact.example", "must be an https:// URL"),
        ("http://pact.example", "must use https://"),
        ("http://127.0.0.1:9000", "must use https://"),  # PACT_ALLOW_HTTP off (fixture)
        ("https://user:pw@pact.example", "must not hold credentials"),
        ("https://pact.example/?a=1", "must not have a query"),
        ("https://pact.example/#x", "must not have a query"),
        ("https://pact.example:99999", "is not a valid URL"),
        ("https://pact example", "without spaces"),
        ("https://" + "a" * 300 + ".example", "at most 300 characters"),
    ],
)
def test_bad_base_urls_are_refused_naming_the_field(raw, why, settings):
    settings.PACT_ALLOW_HTTP = False
    with pytest.raises(ValidationFailed) as caught:
        clean_base_url(raw)
    assert list(caught.value.errors) == ["base_url"]
    assert why in caught.value.message


def test_plain_http_only_on_loopback_and_only_when_allowed(settings):
    settings.PACT_ALLOW_HTTP = True
    assert clean_base_url("http://127.0.0.1:9000/") == "http://127.0.0.1:9000"
    assert clean_base_url("http://localhost:9000") == "http://localhost:9000"
    assert clean_base_url("http://[::1]:9000") == "http://[::1]:9000"
    with pytest.raises(ValidationFailed):
        clean_base_url("http://pact.example")
    with pytest.raises(ValidationFailed):
        clean_base_url("http://10.0.0.1")


@pytest.mark.parametrize(
    ("base", "source", "matches"),
    [
        ("https://h.example", "//h.example/3/events", True),
        ("https://h.example", "//H.EXAMPLE/3/events", True),
        ("https://h.example", "https://h.example/3/events", True),
        ("https://h.example", "//h.example:443/3/events", True),
        ("https://h.example", "//h.example", True),
        ("https://h.example", "http://h.example/3/events", False),
        ("https://h.example", "//h.example:8443/3/events", False),
        ("https://h.example", "//other.example/3/events", False),
        ("https://h.example", "//h.example.evil/3/events", False),
        ("https://h.example", "//x@h.example/3/events", False),
        ("https://h.example/pact", "//h.example/pact/3/events", True),
        ("https://h.example/pact", "//h.example/pact", True),
        ("https://h.example/pact", "//h.example/pactx/3/events", False),
        ("https://h.example/pact", "//h.example/3/events", False),
        ("https://h.example:8443", "//h.example:8443/3/events", True),
        ("https://h.example:8443", "//h.example/3/events", False),
        ("https://h.example", "urn:uuid:1234", False),
        ("https://h.example", "//h.example:bad/3", False),
    ],
)
def test_an_event_source_lies_under_a_base_url(base, source, matches):
    assert source_matches(base, source) is matches


# --------------------------------------------------------------------------- service


def test_a_partner_is_registered_with_its_secret_encrypted(cast):
    partner = partner_add("other", "https://Buyer-Host.example/", "exchange-client", SECRET)
    assert partner.company == cast.other
    assert partner.base_url == "https://buyer-host.example"
    assert partner.client_id == "exchange-client"
    blob = bytes(partner.encrypted_client_secret)
    assert SECRET.encode() not in blob
    assert base64.b64encode(SECRET.encode()) not in blob
    assert partner.wrapping_key_id == "dev" or partner.wrapping_key_id
    assert partner_secret(PartnerHost.objects.get(pk=partner.pk)) == SECRET
    entry = AuditEntry.objects.get(type="pact_partner.added")
    assert entry.company == "other"
    assert SECRET not in bytes(entry.payload).decode()


def test_the_secret_is_bound_to_its_base_url(cast):
    one = partner_add(cast.other, "https://one.example", "a", SECRET)
    two = partner_add(cast.other, "https://two.example", "b", "another-secret-value")
    two.encrypted_client_secret = one.encrypted_client_secret  # swapped into another row
    with pytest.raises(PartnerSecretError) as caught:
        partner_secret(two)
    assert SECRET not in str(caught.value)


def test_a_missing_key_encryption_key_is_a_clear_error(cast, settings):
    partner = partner_add(cast.other, "https://one.example", "a", SECRET)
    settings.KEY_ENCRYPTION_KEYS = {"new": b"\x01" * 32}
    with pytest.raises(PartnerSecretError, match=r"'dev'.*not configured"):
        partner_secret(partner)


def test_secrets_move_to_a_new_key_encryption_key(cast, settings):
    partner = partner_add(cast.other, "https://one.example", "a", SECRET)
    old = dict(settings.KEY_ENCRYPTION_KEYS)
    settings.KEY_ENCRYPTION_KEYS = {"k2": b"\x02" * 32, **old}
    assert partners.partner_secrets_rewrap() == 1
    partner.refresh_from_db()
    assert partner.wrapping_key_id == "k2"
    settings.KEY_ENCRYPTION_KEYS = {"k2": b"\x02" * 32}
    assert partner_secret(partner) == SECRET
    assert partners.partner_secrets_rewrap() == 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("nobody", "https://h.example", "id", SECRET), "company"),
        (("other", "http://h.example", "id", SECRET), "base_url"),
        (("other", "https://h.example", "", SECRET), "client_id"),
        (("other", "https://h.example", "x" * 201, SECRET), "client_id"),
        (("other", "https://h.example", "id", ""), "client_secret"),
        (("other", "https://h.example", "id", f" {SECRET}"), "client_secret"),
        (("other", "https://h.example", "id", SECRET + "\n"), "client_secret"),
        (("newco", "https://h.example", "id", SECRET), "company"),  # pending company
    ],
)
def test_bad_input_is_refused_and_changes_nothing(cast, args, field):
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        partner_add(*args)
    assert field in caught.value.errors
    assert SECRET not in caught.value.message
    assert state() == before


def test_a_base_url_is_registered_once(cast):
    partner_add(cast.other, "https://h.example", "a", SECRET)
    before = state()
    with pytest.raises(Conflict, match="already registered"):
        partner_add(cast.acme, "https://h.example/", "b", SECRET)
    assert state() == before


def test_a_removed_partner_stops_matching_and_can_be_added_again(cast):
    partner = partner_add(cast.other, "https://h.example", "a", SECRET)
    assert partner_for_source(cast.other, "//h.example/3/events") == partner
    partner_remove("https://h.example")
    assert partner_for_source(cast.other, "//h.example/3/events") is None
    with pytest.raises(Conflict, match="already removed"):
        partner_remove(partner)
    with pytest.raises(NotFound):
        partner_remove("https://nothing.example")
    again = partner_add(cast.other, "https://h.example", "b", "a-new-secret-value")
    assert again.pk == partner.pk and again.disabled_at is None
    assert partner_secret(again) == "a-new-secret-value"
    assert list(
        AuditEntry.objects.filter(type__startswith="pact_partner.").values_list("type", flat=True)
    ) == ["pact_partner.added", "pact_partner.removed", "pact_partner.added"]


def test_a_source_must_be_a_partner_of_the_sending_company(cast):
    partner_add(cast.other, "https://h.example", "a", SECRET)
    third = make_company("Third Buyer", roles=("buyer",), slug="third")
    general = partner_add(third, "https://shared.example", "c", SECRET)
    specific = partner_add(cast.other, "https://shared.example/other", "d", SECRET)
    assert partner_for_source(cast.acme, "//h.example/3/events") is None
    assert partner_for_source(cast.other, "//h.example/3/events").company == cast.other
    assert partner_for_source(cast.other, "//shared.example/other/3/events") == specific
    assert partner_for_source(cast.other, "//shared.example/3/events") is None
    assert partner_for_source(third, "//shared.example/other/3/events") == general
    assert partner_for_source(cast.other, None) is None
    assert partner_for_source(cast.other, "//h.example/\n") is None


def test_the_secret_is_never_logged(cast, caplog):
    caplog.set_level(logging.DEBUG)
    partner = partner_add(cast.other, "https://h.example", "a", SECRET)
    partner_secret(partner)
    partner_remove(partner)
    assert SECRET not in caplog.text


# ------------------------------------------------------------------------ commands


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_pact_partner_add_list_remove(cast):
    out = run(
        "pact_partner",
        "add",
        "--company",
        "other",
        "--base-url",
        "https://buyer-host.example",
        "--client-id",
        "exchange-at-buyer",
        "--client-secret",
        SECRET,
    )
    assert "https://buyer-host.example registered for other" in out
    assert SECRET not in out
    partner = PartnerHost.objects.get()
    assert partner_secret(partner) == SECRET

    listing = run("pact_partner", "list")
    assert "other\thttps://buyer-host.example\texchange-at-buyer\tactive" in listing
    assert SECRET not in listing
    assert run("pact_partner", "list", "--company", "acme") == ""

    assert "removed" in run("pact_partner", "remove", "--base-url", "https://buyer-host.example")
    assert run("pact_partner", "list") == ""
    assert "\tremoved" in run("pact_partner", "list", "--all")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"--company": "nobody"}, "--company: no company 'nobody'"),
        ({"--company": "newco"}, "--company: Newly Registered Ltd is not active"),
        ({"--base-url": "http://h.example"}, "--base-url: must use https://"),
        ({"--base-url": "h.example"}, "--base-url: must be an https:// URL"),
        ({"--client-id": " "}, "--client-id: give the client id"),
        ({"--client-secret": ""}, "--client-secret: give the client secret"),
    ],
)
def test_pact_partner_add_names_the_bad_option(cast, options, message):
    arguments = {
        "--company": "other",
        "--base-url": "https://h.example",
        "--client-id": "id",
        "--client-secret": SECRET,
        **options,
    }
    before = state()
    with pytest.raises(CommandError) as caught:
        run("pact_partner", "add", *[item for pair in arguments.items() for item in pair])
    assert message in str(caught.value)
    assert SECRET not in str(caught.value)
    assert state() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pact_partner"], "ACTION"),
        (["pact_partner", "add", "--company", "other"], "--base-url"),
        (["pact_partner", "remove"], "--base-url"),
        (["pact_partner", "frobnicate"], "invalid choice"),
        (
            ["pact_partner", "remove", "--base-url", "https://none.example"],
            "--base-url: no partner",
        ),
        (["pact_partner", "list", "--company", "nobody"], "--company: no company"),
    ],
)
def test_pact_partner_usage_errors(cast, args, message):
    before = state()
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert message in str(caught.value)
    assert state() == before


def test_pact_partner_refuses_a_second_registration_and_a_second_removal(cast):
    partner_add(cast.other, "https://h.example", "a", SECRET)
    before = state()
    with pytest.raises(CommandError, match=r"--base-url: https://h\.example is already registered"):
        run(
            "pact_partner",
            "add",
            "--company=acme",
            "--base-url=https://h.example",
            "--client-id=x",
            f"--client-secret={SECRET}",
        )
    assert state() == before
    run("pact_partner", "remove", "--base-url=https://h.example")
    with pytest.raises(CommandError, match=r"--base-url: https://h\.example is already removed"):
        run("pact_partner", "remove", "--base-url=https://h.example")


def test_pact_partner_rewrap(cast, settings):
    partner_add(cast.other, "https://h.example", "a", SECRET)
    settings.KEY_ENCRYPTION_KEYS = {"k2": b"\x02" * 32, **settings.KEY_ENCRYPTION_KEYS}
    assert "1 partner secret(s) re-encrypted" in run("pact_partner", "rewrap")


def test_create_pact_client_makes_a_client_with_the_given_credentials(cast):
    out = run(
        "create_pact_client",
        "--company",
        "other",
        "--client-id",
        "buyer-host-at-exchange",
        "--client-secret",
        SECRET,
        "--name",
        "Buyer PACT host",
    )
    assert "buyer-host-at-exchange" in out
    assert SECRET not in out
    client = ApiClient.objects.get(application__client_id="buyer-host-at-exchange")
    assert client.company == cast.other and client.name == "Buyer PACT host"
    assert client.role == "editor"
    assert check_password(SECRET, client.application.client_secret)
    token = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION="Basic "
        + base64.b64encode(f"buyer-host-at-exchange:{SECRET}".encode()).decode(),
    )
    assert token.status_code == 200, token.content
    assert token.json()["access_token"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"--company": "nobody"}, "--company: no company 'nobody'"),
        ({"--company": "newco"}, "--company: Newly Registered Ltd is not active"),
        ({"--client-id": " "}, "--client-id: must not be empty"),
        ({"--client-id": "has space"}, "--client-id: at most 255 characters, without spaces"),
        ({"--client-secret": "short"}, "--client-secret: must be at least 16 characters"),
        ({"--name": " "}, "--name: give the client a name"),
    ],
)
def test_create_pact_client_names_the_bad_option(cast, options, message):
    arguments = {
        "--company": "other",
        "--client-id": "buyer-host",
        "--client-secret": SECRET,
        **options,
    }
    before = state()
    with pytest.raises(CommandError) as caught:
        run("create_pact_client", *[item for pair in arguments.items() for item in pair])
    assert message in str(caught.value)
    assert SECRET not in str(caught.value)
    assert state() == before


def test_create_pact_client_refuses_a_client_id_in_use_and_missing_options(cast):
    before = state()
    with pytest.raises(CommandError, match=r"--client-id: .* is already in use"):
        run(
            "create_pact_client",
            "--company=other",
            f"--client-id={cast.client.client_id}",
            f"--client-secret={SECRET}",
        )
    with pytest.raises(CommandError, match="--client-secret"):
        run("create_pact_client", "--company=other", "--client-id=x")
    assert state() == before


# -------------------------------------------------------------------------- portal


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def test_an_admin_may_set_the_client_id_and_secret(cast):
    response = signed_in(cast.admin).post(
        "/company/clients/",
        {"name": "PACT host", "role": "editor", "client_id": "acme-pact", "client_secret": SECRET},
        follow=True,
    )
    page = html.unescape(response.content.decode())
    assert re.search(r'id="client-id">acme-pact<', page)
    application = get_application_model().objects.get(client_id="acme-pact")
    assert check_password(SECRET, application.client_secret)
    assert ApiClient.objects.get(application=application).company == cast.acme


def test_set_client_credentials_are_checked(cast):
    before = state()
    page = html.unescape(
        signed_in(cast.admin)
        .post(
            "/company/clients/",
            {"name": "PACT host", "role": "editor", "client_id": "x", "client_secret": "short"},
        )
        .content.decode()
    )
    assert "must be at least 16 characters" in page
    assert 'value="short"' not in page  # a secret is never rendered back
    page = html.unescape(
        signed_in(cast.admin)
        .post(
            "/company/clients/",
            {"name": "PACT host", "role": "editor", "client_id": "a b", "client_secret": SECRET},
        )
        .content.decode()
    )
    assert "must not contain spaces" in page
    assert SECRET not in page
    assert state() == before


def test_without_set_credentials_they_are_generated(cast):
    signed_in(cast.admin).post("/company/clients/", {"name": "ERP 2", "role": "viewer"})
    client = ApiClient.objects.get(name="ERP 2")
    assert len(client.client_id) >= 20
