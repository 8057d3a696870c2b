"""Action Authenticate, the OpenID configuration, access tokens on every route, and
HTTPS only (PACT v3 "Authentication Flow", "Host System", "Error Handling")."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from tests.pact.conftest import get_token

V3_ROUTES = ["/3/footprints", "/3/footprints/{id}"]
V2_ROUTES = ["/2/footprints", "/2/footprints/{id}"]
EVENT = {
    "specversion": "1.0",
    "id": "a4f5b3e0-0b0e-4a0a-9d35-6a3b8c6d2e11",
    "source": "//buyer.example/3/events",
    "time": "2026-03-05T17:31:00Z",
    "type": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
    "data": {"pfIds": ["079e425a-464f-528d-341d-4a944a1dfd70"]},
}


def _call(client: httpx.Client, route: str, world, headers: dict[str, str]) -> httpx.Response:
    if route == "/3/events":
        return client.post(
            route,
            json=EVENT,
            headers={**headers, "Content-Type": "application/cloudevents+json; charset=UTF-8"},
        )
    return client.get(route.format(id=world.id("B")), headers=headers)


# -------------------------------------------------------------------------- discovery


def test_openid_configuration_names_the_token_endpoint(https, server, world):
    response = https.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["issuer"] == server.url
    assert document["token_endpoint"] == f"{server.url}/auth/token"
    assert "client_credentials" in document["grant_types_supported"]
    assert "client_secret_basic" in document["token_endpoint_auth_methods_supported"]
    # The discovered endpoint works.
    token = https.post(
        document["token_endpoint"], data={"grant_type": "client_credentials"}, auth=world.buyer
    )
    assert token.status_code == 200


# ----------------------------------------------------------------------------- tokens


def test_token_with_basic_credentials(https, world):
    response = https.post(
        "/auth/token",
        data={"grant_type": "client_credentials"},
        auth=world.buyer,
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"].lower() == "bearer"
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0


def test_token_with_credentials_in_the_body(https, world):
    client_id, secret = world.buyer
    response = https.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200
    assert response.json()["access_token"]


@pytest.mark.parametrize("known", [True, False], ids=["wrong secret", "unknown client"])
def test_token_with_bad_credentials(https, world, known):
    client_id = world.buyer[0] if known else "no-such-client"
    response = https.post(
        "/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, "not-the-secret-0123456789"),
    )
    assert response.status_code in (400, 401)
    body = response.json()
    assert body["error"] == "invalid_client"
    assert body["error_description"]
    assert "access_token" not in body


def test_token_with_bad_credentials_in_the_body(https, world):
    response = https.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": world.buyer[0],
            "client_secret": "not-the-secret",
        },
    )
    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"


def test_token_without_credentials(https, world):
    response = https.post("/auth/token", data={"grant_type": "client_credentials"})
    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password", "username": "x", "password": "y"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type"),
        ({}, "invalid_request"),
    ],
)
def test_token_other_grants_are_refused(https, world, form, error):
    response = https.post("/auth/token", data=form, auth=world.buyer)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.json()["error_description"]


def test_token_must_be_posted(https, world):
    response = https.get("/auth/token", auth=world.buyer)
    assert response.status_code == 405
    assert response.json()["error"] == "invalid_request"


def test_revoked_client_gets_no_token_and_its_tokens_stop_working(https, world):
    from companies import services
    from companies.models import ApiClient

    token = get_token(https, world.buyer)
    client = ApiClient.objects.get(application__client_id=world.buyer[0])
    services.api_client_revoke(actor=world.cast.actor("outsider"), client=client)
    response = https.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=world.buyer
    )
    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"
    listing = https.get("/3/footprints", headers={"Authorization": f"Bearer {token}"})
    assert listing.status_code == 401


# ------------------------------------------------------------- tokens on every route


def _expired_token(https: httpx.Client, world) -> str:
    from oauth2_provider.models import AccessToken

    token = get_token(https, world.buyer)
    AccessToken.objects.filter(application__client_id=world.buyer[0]).update(
        expires=timezone.now() - timedelta(seconds=1)
    )
    return token


BAD_HEADERS = {
    "missing": {},
    "unknown token": {"Authorization": "Bearer very-invalid-access-token-0123456789"},
    "not bearer": {"Authorization": "Basic " + base64.b64encode(b"a:b").decode()},
    "bearer without token": {"Authorization": "Bearer"},
}


@pytest.mark.parametrize("route", [*V3_ROUTES, "/3/events"])
@pytest.mark.parametrize("case", sorted(BAD_HEADERS))
def test_v3_routes_answer_401_to_a_missing_or_invalid_token(https, world, route, case):
    response = _call(https, route, world, BAD_HEADERS[case])
    assert response.status_code == 401
    assert response.json()["code"] == "BadRequest"
    assert response.json()["message"]
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "data" not in response.json()


@pytest.mark.parametrize("route", [*V3_ROUTES, "/3/events"])
def test_v3_routes_answer_token_expired(https, world, route):
    token = _expired_token(https, world)
    response = _call(https, route, world, {"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["code"] == "TokenExpired"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize("route", V2_ROUTES)
@pytest.mark.parametrize("case", sorted(BAD_HEADERS))
def test_v2_routes_answer_bad_request_to_a_missing_or_invalid_token(https, world, route, case):
    response = _call(https, route, world, BAD_HEADERS[case])
    assert response.status_code == 400
    assert response.json()["code"] == "BadRequest"
    assert "data" not in response.json()


@pytest.mark.parametrize("route", V2_ROUTES)
def test_v2_routes_answer_token_expired(https, world, route):
    token = _expired_token(https, world)
    response = _call(https, route, world, {"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["code"] == "TokenExpired"


def test_a_token_from_the_platform_token_endpoint_works_too(https, world):
    response = https.post("/o/token/", data={"grant_type": "client_credentials"}, auth=world.buyer)
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert https.get("/3/footprints", headers={"Authorization": f"Bearer {token}"}).status_code == (
        200
    )


def test_session_login_is_not_a_pact_credential(https, world):
    # A person's portal session does not open the PACT API: only Bearer tokens do.
    from django.test import Client

    client = Client()
    client.force_login(world.cast.outsider.user)
    response = client.get("/3/footprints", secure=True)
    assert response.status_code == 401


# ------------------------------------------------------------------------ HTTPS only


PLAIN_ROUTES = [
    ("get", "/.well-known/openid-configuration"),
    ("post", "/auth/token"),
    ("get", "/3/footprints"),
    ("get", "/3/footprints/{id}"),
    ("post", "/3/events"),
    ("get", "/2/footprints"),
    ("get", "/2/footprints/{id}"),
]


@pytest.fixture
def plain(live_server, settings, world) -> Iterator[httpx.Client]:
    """A client of the same application over plain HTTP (pytest-django's live server)."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost", "127.0.0.1"]
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield client


def _plain_call(plain: httpx.Client, method: str, route: str, world, token: str, **headers: str):
    path = route.format(id=world.id("B"))
    if route == "/auth/token":
        return plain.post(
            path, data={"grant_type": "client_credentials"}, auth=world.buyer, headers=headers
        )
    headers = {"Authorization": f"Bearer {token}", **headers}
    if method == "post":
        return plain.post(
            path,
            json=EVENT,
            headers={**headers, "Content-Type": "application/cloudevents+json"},
        )
    return plain.get(path, headers=headers)


@pytest.mark.parametrize(("method", "route"), PLAIN_ROUTES)
def test_plain_http_is_refused(plain, settings, https, world, method, route):
    settings.PACT_ALLOW_HTTP = False
    token = get_token(https, world.buyer)
    response = _plain_call(plain, method, route, world, token)
    assert response.status_code in (400, 403)
    assert not response.is_redirect
    body = response.json()
    assert "access_token" not in body and "data" not in body
    if route == "/auth/token":
        assert body["error"] == "invalid_request"
    else:
        assert body["code"] == "AccessDenied"
        assert "HTTPS" in body["message"]


@pytest.mark.parametrize(("method", "route"), PLAIN_ROUTES)
def test_a_forwarded_proto_header_is_not_trusted_without_a_proxy(
    plain, settings, https, world, method, route
):
    settings.PACT_ALLOW_HTTP = False
    settings.TRUSTED_PROXY_COUNT = 0
    token = get_token(https, world.buyer)
    response = _plain_call(plain, method, route, world, token, **{"X-Forwarded-Proto": "https"})
    assert response.status_code in (400, 403)


def test_behind_a_trusted_proxy_its_forwarded_proto_counts(plain, settings, https, world):
    settings.PACT_ALLOW_HTTP = False
    settings.TRUSTED_PROXY_COUNT = 1
    token = get_token(https, world.buyer)
    headers = {"Authorization": f"Bearer {token}"}
    refused = plain.get("/3/footprints", headers={**headers, "X-Forwarded-Proto": "http"})
    assert refused.status_code == 403
    # A client-written value further left does not count; the proxy's (rightmost) does.
    spoofed = plain.get("/3/footprints", headers={**headers, "X-Forwarded-Proto": "https, http"})
    assert spoofed.status_code == 403
    response = plain.get(
        "/3/footprints", params={"limit": 1}, headers={**headers, "X-Forwarded-Proto": "https"}
    )
    assert response.status_code == 200
    assert response.links["next"]["url"].startswith("https://")


def test_plain_http_is_served_when_allowed(plain, settings, https, world):
    settings.PACT_ALLOW_HTTP = True
    token = get_token(https, world.buyer)
    response = plain.get(
        "/3/footprints", params={"limit": 1}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.links["next"]["url"].startswith("http://")
