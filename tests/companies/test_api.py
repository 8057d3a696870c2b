"""The platform API over HTTP: session and OAuth2 client-credentials access, the error
body shape, pagination, the directory's query count and the OpenAPI schema."""

from __future__ import annotations

import base64
import json

import pytest
from django.contrib.auth.hashers import check_password
from django.db import connection
from django.test.utils import CaptureQueriesContext
from oauth2_provider.models import get_access_token_model, get_application_model
from rest_framework.test import APIClient

from companies import services
from companies.models import Company, SigningKey
from tests.companies.helpers import row_counts
from tests.factories import make_company
from trust import keys as trust_keys

pytestmark = pytest.mark.django_db

TOKEN_URL = "/o/token/"

OAUTH_BUG = (
    "BUG: a client-credentials token authenticates with user None, and the default "
    "IsAuthenticated permission (config/settings.py REST_FRAMEWORK) refuses it with 403, "
    "so no machine client can call any /api/v1 endpoint"
)


def session_client(membership) -> APIClient:
    client = APIClient()
    client.force_login(membership.user)
    return client


def basic_auth(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def request_token(client_id: str, secret: str, *, basic: bool = True):
    api = APIClient()
    if basic:
        return api.post(
            TOKEN_URL,
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=basic_auth(client_id, secret),
        )
    return api.post(
        TOKEN_URL,
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


def bearer_client(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def access_token(cast) -> str:
    response = request_token(cast.client.client_id, cast.client_secret)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


# --------------------------------------------------------------------------- who am I


def test_session_me_shows_the_person_and_their_company(cast):
    body = session_client(cast.admin).get("/api/v1/me").json()
    assert body["actor"] == f"user:{cast.admin.user.pk}"  # pseudonymous
    assert body["role"] == "admin"
    assert body["company"]["slug"] == "acme"
    assert body["company"]["identifiers"] == [cast.acme.identifiers.get().urn]
    assert body["memberships"] == [
        {"company": "acme", "legal_name": "Acme Lithium Co., Ltd.", "role": "admin"}
    ]


def test_anonymous_me_is_401_with_the_error_body(db):
    response = APIClient().get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
    }


# --------------------------------------------------------------------------- OAuth2


def test_client_credentials_with_http_basic_give_a_bearer_token(cast):
    response = request_token(cast.client.client_id, cast.client_secret)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert len(body["access_token"]) >= 20
    tokens = get_access_token_model().objects.filter(application=cast.client.application)
    assert tokens.count() == 1
    assert tokens.get().user is None  # a machine client, not a person


def test_client_credentials_in_the_form_give_a_bearer_token(cast):
    response = request_token(cast.client.client_id, cast.client_secret, basic=False)
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


def test_bearer_token_acts_for_the_clients_company(cast):
    response = bearer_client(access_token(cast)).get("/api/v1/me")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["actor"] == f"client:{cast.client.client_id}"
    assert body["role"] == "editor"
    assert body["company"]["slug"] == "acme"
    assert body["memberships"] == []


def test_bearer_token_lists_the_clients_company_keys(cast):
    response = bearer_client(access_token(cast)).get("/api/v1/keys")
    assert response.status_code == 200, response.content
    assert {k["kid"] for k in response.json()["results"]} == {
        cast.own_key.kid,
        cast.platform_key.kid,
    }


def test_an_editor_client_cannot_do_admin_writes(cast):
    api = bearer_client(access_token(cast))
    before = row_counts()
    response = api.post("/api/v1/keys/platform", {"label": "x"}, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "role: only a company admin may create signing keys; you are editor",
        "field": "role",
    }
    assert row_counts() == before


def test_wrong_secret_is_invalid_client(cast):
    response = request_token(cast.client.client_id, "not-the-secret-at-all")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert not get_access_token_model().objects.exists()


def test_unknown_client_is_invalid_client(cast):
    response = request_token("no-such-client", cast.client_secret, basic=False)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_revoked_client_gets_no_token(cast):
    services.api_client_revoke(actor=cast.actor("admin"), client=cast.client)
    response = request_token(cast.client.client_id, cast.client_secret)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert not get_access_token_model().objects.exists()


def test_a_revoked_clients_existing_token_stops_working(cast):
    api = bearer_client(access_token(cast))
    tokens = get_access_token_model().objects.filter(application=cast.client.application)
    assert tokens.exists()
    services.api_client_revoke(actor=cast.actor("admin"), client=cast.client)
    assert not tokens.exists()
    response = api.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_revoking_a_client_through_the_api(cast):
    token = access_token(cast)
    admin = session_client(cast.admin)
    response = admin.post(f"/api/v1/clients/{cast.client.client_id}/revoke")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert bearer_client(token).get("/api/v1/me").status_code == 401


def test_the_client_secret_is_stored_hashed(cast):
    application = get_application_model().objects.get(client_id=cast.client.client_id)
    assert application.client_secret != cast.client_secret
    assert cast.client_secret not in application.client_secret
    assert check_password(cast.client_secret, application.client_secret)


def test_the_client_secret_is_shown_once_at_creation(cast):
    admin = session_client(cast.admin)
    created = admin.post("/api/v1/clients", {"name": "SAP", "role": "viewer"}, format="json")
    assert created.status_code == 201
    body = created.json()
    secret = body["client_secret"]
    assert (body["name"], body["role"], body["status"]) == ("SAP", "viewer", "active")
    listing = admin.get("/api/v1/clients")
    assert secret not in listing.content.decode()
    assert "client_secret" not in listing.json()["results"][0]
    assert request_token(body["client_id"], secret).status_code == 200


# --------------------------------------------------------------------------- errors


def test_a_bad_jwk_is_400_with_the_member_named(cast):
    before = row_counts()
    response = session_client(cast.admin).post(
        "/api/v1/keys",
        {
            "jwk": {
                "kty": "OKP",
                "crv": "X25519",
                "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            }
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "errors"}
    assert body["code"] == "validation_failed"
    assert body["errors"] == {"jwk": ['jwk.crv: must be "Ed25519", got "X25519"']}
    assert body["message"] == 'jwk: jwk.crv: must be "Ed25519", got "X25519"'
    assert row_counts() == before


def test_a_missing_jwk_is_400_naming_the_field(cast):
    response = session_client(cast.admin).post("/api/v1/keys", {"label": "x"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert body["errors"] == {"jwk": ["This field is required."]}


def test_registering_a_key_over_the_api(cast):
    jwk = trust_keys.public_jwk(trust_keys.generate_private_key())
    response = session_client(cast.admin).post(
        "/api/v1/keys", {"jwk": jwk, "label": "ERP"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["kid"] == trust_keys.jwk_thumbprint(jwk)
    assert (body["custody"], body["status"], body["public_jwk"]) == ("own", "active", jwk)
    assert SigningKey.objects.get(kid=body["kid"]).company == cast.acme


def test_a_duplicate_key_is_409(cast):
    response = session_client(cast.admin).post(
        "/api/v1/keys", {"jwk": cast.own_key.public_jwk}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {
        "code": "conflict",
        "message": f"jwk: the key {cast.own_key.kid} is already registered",
        "field": "jwk",
    }


def test_an_unknown_kid_is_404_naming_kid(cast):
    response = session_client(cast.admin).get("/api/v1/keys/no-such-kid")
    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "no signing key 'no-such-kid' in your company",
        "field": "kid",
    }


def test_operator_onboarding_with_a_bad_uscc_is_400_naming_identifiers(cast):
    before = row_counts()
    response = session_client(cast.op_admin).post(
        "/api/v1/operator/companies",
        {
            "legal_name": "Newcomer Steel",
            "identifiers": ["91350100M000100Y44"],
            "roles": ["supplier"],
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    [message] = body["errors"]["identifiers"]
    assert message.startswith("[0] ")
    assert "check character" in message
    assert row_counts() == before


def test_operator_onboarding_over_the_api(cast):
    response = session_client(cast.op_admin).post(
        "/api/v1/operator/companies",
        {
            "legal_name": "Newcomer Steel",
            "identifiers": ["5493001KJTIIGC8Y1R12"],
            "roles": ["supplier", "buyer"],
            "activate": True,
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "newcomer-steel"
    assert body["identifiers"] == ["urn:pact:gleif.org:lei:5493001KJTIIGC8Y1R12"]
    assert (body["roles"], body["status"]) == (["supplier", "buyer"], "active")


def test_operator_onboarding_with_an_unknown_role_names_roles(cast):
    before = row_counts()
    response = session_client(cast.op_admin).post(
        "/api/v1/operator/companies",
        {
            "legal_name": "Newcomer Steel",
            "identifiers": ["5493001KJTIIGC8Y1R12"],
            "roles": ["miner"],
        },
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [field for field in errors if field.startswith("roles")] == list(errors)
    assert "miner" in json.dumps(errors)
    assert row_counts() == before


def test_a_suspended_companys_admin_gets_403_naming_company_status(cast):
    services.company_suspend(actor=cast.actor("op_admin"), company=cast.acme, reason="audit")
    before = row_counts()
    response = session_client(cast.admin).post("/api/v1/keys/platform", {}, format="json")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "company_suspended"
    assert body["field"] == "company.status"
    assert body["message"].startswith("company.status: Acme Lithium Co., Ltd. is suspended")
    assert row_counts() == before


def test_a_bad_profile_website_is_400_naming_website(cast):
    response = session_client(cast.admin).patch(
        "/api/v1/company", {"website": "not a url"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"website": ["Enter a valid URL."]}
    assert Company.objects.get(pk=cast.acme.pk).website == ""


def test_a_malformed_json_body_is_400_parse_error(cast):
    before = row_counts()
    response = session_client(cast.admin).post(
        "/api/v1/keys", "{bad", content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "parse_error"
    assert body["message"].startswith("JSON parse error")
    assert row_counts() == before


def test_a_too_long_label_is_400_naming_label(cast):
    response = session_client(cast.admin).post(
        "/api/v1/keys/platform", {"label": "x" * 101}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "label": ["Ensure this field has no more than 100 characters."]
    }


def test_serializer_errors_in_list_items_name_the_index(cast):
    before = row_counts()
    response = session_client(cast.op_admin).post(
        "/api/v1/operator/companies",
        {"legal_name": "Newcomer", "identifiers": ["x" * 300, "y" * 300], "roles": ["supplier"]},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"identifiers[0]", "identifiers[1]"}
    assert row_counts() == before


# --------------------------------------------------------------------------- lists


def test_lists_paginate_with_limit_and_offset(cast):
    for n in range(5):
        services.signing_key_create_platform(actor=cast.actor("admin"), label=f"k{n}")
    api = session_client(cast.admin)
    everything = api.get("/api/v1/keys").json()
    assert everything["count"] == 7
    all_kids = [k["kid"] for k in everything["results"]]

    page = api.get("/api/v1/keys", {"limit": 2, "offset": 3}).json()

    assert page["count"] == 7
    assert [k["kid"] for k in page["results"]] == all_kids[3:5]
    assert "limit=2" in page["next"] and "offset=5" in page["next"]
    assert "limit=2" in page["previous"] and "offset=1" in page["previous"]


def test_the_directory_uses_a_constant_number_of_queries(cast, django_assert_num_queries):
    api = session_client(cast.admin)
    api.get("/api/v1/directory/companies")  # warm up (session, content types)
    with CaptureQueriesContext(connection) as few:
        small = api.get("/api/v1/directory/companies", {"limit": 100})
    for n in range(20):
        make_company(f"Directory Filler {n}")
    with django_assert_num_queries(len(few.captured_queries)):
        large = api.get("/api/v1/directory/companies", {"limit": 100})
    assert large.json()["count"] == small.json()["count"] + 20
    assert all(row["identifiers"] for row in large.json()["results"])


def test_the_directory_lists_only_active_companies(cast):
    body = session_client(cast.admin).get("/api/v1/directory/companies").json()
    slugs = {row["slug"] for row in body["results"]}
    assert slugs == {"zone-operator", "acme", "other"}
    assert "newco" not in slugs


# --------------------------------------------------------------------------- schema


def test_the_openapi_schema_lists_the_keys_endpoint(db):
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/keys" in schema["paths"]
    assert "post" in schema["paths"]["/api/v1/keys"]
    assert "/api/v1/operator/companies" in schema["paths"]
