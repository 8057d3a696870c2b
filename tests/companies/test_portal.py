"""Portal pages with Django's test client: sign-in and lockout, the company switcher,
keys, members and the operator's onboarding form."""

from __future__ import annotations

import hashlib
import html
import json
import re

import pytest
from django.contrib.auth.hashers import check_password
from django.contrib.sessions.models import Session
from django.test import Client
from oauth2_provider.models import get_application_model

from companies import services
from companies.middleware import SESSION_COMPANY_KEY
from companies.models import Company, Invitation, Membership, SigningKey
from tests.companies.helpers import row_counts
from tests.factories import PASSWORD
from trust import keys as trust_keys

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def text_of(response) -> str:
    return html.unescape(response.content.decode())


# --------------------------------------------------------------------------- sign-in


def test_the_login_page_renders_its_form(db):
    response = Client().get(LOGIN)
    assert response.status_code == 200
    text = response.content.decode()
    assert 'name="username"' in text
    assert 'name="password"' in text
    assert "Sign in" in text


def test_signing_in_with_the_right_password(cast):
    client = Client()
    response = client.post(LOGIN, {"username": "acme_admin", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert int(client.session["_auth_user_id"]) == cast.admin.user.pk
    assert "Acme Lithium Co., Ltd." in client.get("/").content.decode()


def test_a_wrong_password_is_refused_on_the_form(cast):
    client = Client()
    response = client.post(LOGIN, {"username": "acme_admin", "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].errors["__all__"]
    assert "_auth_user_id" not in client.session


def test_five_wrong_passwords_lock_the_account_out(cast):
    client = Client()
    for attempt in range(5):
        response = client.post(LOGIN, {"username": "acme_admin", "password": f"wrong-{attempt}"})
        assert "_auth_user_id" not in client.session
    response = client.post(LOGIN, {"username": "acme_admin", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # still sent to sign in


def test_the_lockout_is_per_account(cast):
    client = Client()
    for attempt in range(5):
        client.post(LOGIN, {"username": "acme_admin", "password": f"wrong-{attempt}"})
    response = client.post(LOGIN, {"username": "acme_editor", "password": PASSWORD})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == cast.editor.user.pk


# --------------------------------------------------------------------------- switcher


def test_a_person_in_two_companies_switches_the_acting_company(cast):
    Membership.objects.create(user=cast.editor.user, company=cast.other, role="viewer")
    client = signed_in(cast.editor)
    assert client.get("/api/v1/me").json()["company"]["slug"] == "acme"

    response = client.post("/switch-company/", {"company_id": cast.other.pk})

    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.session[SESSION_COMPANY_KEY] == cast.other.pk
    me = client.get("/api/v1/me").json()
    assert (me["company"]["slug"], me["role"]) == ("other", "viewer")
    home = client.get("/").content.decode()
    assert "You now act for Other Motors." in home


def test_the_switcher_refuses_a_company_the_person_is_not_in(cast):
    client = signed_in(cast.editor)
    response = client.post("/switch-company/", {"company_id": cast.operator.pk})
    assert response.status_code == 404
    assert SESSION_COMPANY_KEY not in client.session
    assert client.get("/api/v1/me").json()["company"]["slug"] == "acme"


def test_the_switcher_refuses_a_non_numeric_company(cast):
    client = signed_in(cast.editor)
    response = client.post("/switch-company/", {"company_id": "acme"})
    assert response.status_code == 404
    assert "acting_company_id" not in client.session  # nothing was switched


# --------------------------------------------------------------------------- keys


def test_registering_a_jwk_with_the_form(cast):
    jwk = trust_keys.public_jwk(trust_keys.generate_private_key())
    kid = trust_keys.jwk_thumbprint(jwk)
    client = signed_in(cast.admin)
    response = client.post(
        "/company/keys/", {"action": "register", "jwk": json.dumps(jwk), "label": "ERP"}
    )
    assert response.status_code == 302
    assert SigningKey.objects.get(kid=kid).custody == "own"
    page = text_of(client.get("/company/keys/"))
    assert kid in page
    assert f"Key {kid} registered." in page


def test_creating_a_platform_key_with_the_form(cast):
    client = signed_in(cast.admin)
    before = set(SigningKey.objects.values_list("kid", flat=True))
    response = client.post("/company/keys/", {"action": "platform", "label": "portal signing"})
    assert response.status_code == 302
    [kid] = set(SigningKey.objects.values_list("kid", flat=True)) - before
    assert SigningKey.objects.get(kid=kid).custody == "platform"
    page = text_of(client.get("/company/keys/"))
    row = page[page.index(f"<code>{kid}</code>") :].split("</tr>")[0]
    assert "portal signing" in row and "Held by the platform" in row and "active" in row


def test_revoking_a_key_with_the_form(cast):
    client = signed_in(cast.admin)
    kid = cast.own_key.kid
    response = client.post(f"/company/keys/{kid}/revoke/", {"reason": "compromised"})
    assert response.status_code == 302
    assert SigningKey.objects.get(kid=kid).revocation_reason == "compromised"
    page = text_of(client.get("/company/keys/"))
    row = page[page.index(f"<code>{kid}</code>") :].split("</tr>")[0]
    assert "revoked" in row and "(Compromised)" in row
    assert f"Key {kid} revoked." in page


def test_a_json_syntax_error_in_the_jwk_field_shows_the_form_error(cast):
    before = row_counts()
    response = signed_in(cast.admin).post(
        "/company/keys/", {"action": "register", "jwk": '{"kty": "OKP",', "label": ""}
    )
    assert response.status_code == 200
    [error] = response.context["register_form"].errors["jwk"]
    assert error.startswith("not valid JSON: ")
    assert error in text_of(response)
    assert row_counts() == before


def test_a_wrong_curve_in_the_jwk_field_shows_the_member(cast):
    before = row_counts()
    jwk = {"kty": "OKP", "crv": "X25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    response = signed_in(cast.admin).post(
        "/company/keys/", {"action": "register", "jwk": json.dumps(jwk)}
    )
    assert response.status_code == 200
    assert response.context["register_form"].errors["jwk"] == [
        'jwk.crv: must be "Ed25519", got "X25519"'
    ]
    assert 'jwk.crv: must be "Ed25519", got "X25519"' in text_of(response)
    assert row_counts() == before


def test_a_viewer_sees_keys_without_the_forms(cast):
    page = text_of(signed_in(cast.viewer).get("/company/keys/"))
    assert cast.own_key.kid in page
    assert "Register your own public key" not in page
    assert "Revoke" not in page


# --------------------------------------------------------------------------- members


def test_the_invitation_link_is_shown_once(cast):
    client = signed_in(cast.admin)
    response = client.post(
        "/company/members/", {"email": "li.wei@acme.example", "role": "viewer"}, follow=True
    )
    match = re.search(r'id="invitation-link">([^<]+)<', response.content.decode())
    assert match, "the page shows the new link"
    link = match.group(1)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert link.startswith("http://testserver/invitations/")
    invitation = Invitation.objects.get(email="li.wei@acme.example")
    assert invitation.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert "no-store" in response.headers.get("Cache-Control", "")

    again = client.get("/company/members/").content.decode()
    assert token not in again
    assert "li.wei@acme.example" in again  # listed, without its link


def test_the_client_secret_is_shown_once(cast):
    client = signed_in(cast.admin)
    response = client.post("/company/clients/", {"name": "SAP", "role": "viewer"}, follow=True)
    secret = re.search(r'id="client-secret">([^<]+)<', response.content.decode()).group(1)
    client_id = re.search(r'id="client-id">([^<]+)<', response.content.decode()).group(1)
    application = get_application_model().objects.get(client_id=client_id)
    assert check_password(secret, application.client_secret)
    assert secret not in application.client_secret
    assert "no-store" in response.headers.get("Cache-Control", "")
    assert secret not in client.get("/company/clients/").content.decode()


def test_the_client_secret_is_not_kept_in_the_session_table(cast, monkeypatch):
    created = []
    real_create = services.api_client_create

    def recording_create(**kwargs):
        result = real_create(**kwargs)
        created.append(result)
        return result

    monkeypatch.setattr(services, "api_client_create", recording_create)
    client = signed_in(cast.admin)
    client.post("/company/clients/", {"name": "SAP", "role": "viewer"})
    [(_, secret)] = created
    stored = [json.dumps(session.get_decoded()) for session in Session.objects.all()]
    assert not [data for data in stored if secret in data]


def test_an_invitation_form_error_names_the_field(cast):
    before = row_counts()
    response = signed_in(cast.admin).post(
        "/company/members/", {"email": "acme_viewer@example.test", "role": "viewer"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "acme_viewer@example.test is already a member of Acme Lithium Co., Ltd."
    ]
    assert row_counts() == before


def test_demoting_the_last_admin_in_the_portal_shows_why(cast):
    client = signed_in(cast.admin)
    response = client.post(
        f"/company/members/{cast.admin.pk}/role/", {"role": "viewer"}, follow=True
    )
    assert "role: a company must keep at least one admin" in text_of(response)
    assert Membership.objects.get(pk=cast.admin.pk).role == "admin"


# --------------------------------------------------------------------------- operator


def test_operator_onboarding_with_a_bad_uscc_shows_the_error_on_identifiers(cast):
    before = row_counts()
    response = signed_in(cast.op_admin).post(
        "/operator/companies/",
        {
            "legal_name": "Newcomer Steel",
            "identifiers": "91350100M000100Y44",
            "roles": ["supplier"],
            "activate": "on",
        },
    )
    assert response.status_code == 200
    [error] = response.context["form"].errors["identifiers"]
    assert error.startswith("[0] USCC check character is wrong")
    assert error in text_of(response)
    assert row_counts() == before


def test_operator_onboarding_in_the_portal(cast):
    response = signed_in(cast.op_admin).post(
        "/operator/companies/",
        {
            "legal_name": "Newcomer Steel",
            "identifiers": "5493001KJTIIGC8Y1R12\n\n urn:epc:id:sgln:0614141.12345.0 \n",
            "roles": ["supplier", "buyer"],
            "activate": "on",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/operator/companies/newcomer-steel/"
    company = Company.objects.get(slug="newcomer-steel")
    assert company.status == "active"
    assert list(company.identifiers.values_list("urn", flat=True)) == [
        "urn:pact:gleif.org:lei:5493001KJTIIGC8Y1R12",
        "urn:epc:id:sgln:0614141.12345.0",
    ]
