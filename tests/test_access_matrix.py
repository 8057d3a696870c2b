"""The permission matrix: every URL pattern by every principal.

A URL pattern without a case fails ``test_every_url_has_a_case``, so nothing can be
added to the URL map without saying who may call it.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import tests
from tests.access import PRINCIPALS, Case, resolve

LOGIN_PATH = "/accounts/login/"


def _collect_cases() -> list[Case]:
    cases: list[Case] = []
    for module_info in pkgutil.iter_modules(tests.__path__):
        if not module_info.ispkg:
            continue
        try:
            module = importlib.import_module(f"tests.{module_info.name}.access_matrix")
        except ModuleNotFoundError:
            continue
        cases.extend(module.CASES)
    return cases


CASES = _collect_cases()


def _url_names(resolver: URLResolver, namespace: str = "") -> list[str]:
    names = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names.extend(_url_names(pattern, inner))
        elif isinstance(pattern, URLPattern):
            names.append(
                f"{namespace}{pattern.name}" if pattern.name else f"<unnamed {pattern.pattern}>"
            )
    return names


def test_every_url_has_a_case():
    covered = {case.name for case in CASES}
    missing = sorted(set(_url_names(get_resolver())) - covered)
    assert not missing, f"URL patterns with no permission case: {missing}"


def test_cases_name_real_urls():
    known = set(_url_names(get_resolver()))
    unknown = sorted({case.name for case in CASES} - known)
    assert not unknown, f"cases for URLs that do not exist: {unknown}"


def _client_for(principal: str, cast) -> Client:
    client = Client()
    members = {
        "outsider": cast.outsider,
        "viewer": cast.viewer,
        "editor": cast.editor,
        "admin": cast.admin,
        "operator": cast.op_admin,
    }
    if principal == "client":
        response = client.post(
            reverse("oauth2:token"),
            {"grant_type": "client_credentials"},
            headers={"authorization": _basic(cast.client.client_id, cast.client_secret)},
        )
        assert response.status_code == 200, response.content
        return Client(headers={"authorization": f"Bearer {response.json()['access_token']}"})
    if principal != "anonymous":
        client.force_login(members[principal].user)
    return client


def _basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _request(client: Client, case: Case, cast):
    url = reverse(case.name, kwargs=resolve(case.kwargs, cast))
    query = resolve(case.query, cast)
    if query:
        url = f"{url}?{urlencode(query, doseq=True)}"
    data = resolve(case.data, cast)
    method = getattr(client, case.method)
    headers = resolve(case.headers, cast)
    if case.method == "get":
        return method(url, headers=headers)
    if case.content_type == "form":
        return method(url, data, headers=headers)
    if case.content_type == "urlencoded":
        return method(
            url,
            urlencode(data, doseq=True),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )
    return method(url, json.dumps(data), content_type=case.content_type, headers=headers)


def _sent_to_login(response) -> bool:
    location = response.headers.get("Location", "")
    return (
        response.status_code in (301, 302)
        and location.startswith(LOGIN_PATH)
        and "next=" in location
    )


@pytest.mark.django_db
@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_access(case: Case, principal: str, cast):
    client = _client_for(principal, cast)
    # Evaluated first: it may create the objects (a footprint…) whose leak is checked.
    private = case.private(cast) if case.private else []
    response = _request(client, case, cast)
    status = response.status_code
    if case.allows(principal):
        assert status < 400 and not _sent_to_login(response), (
            f"{principal} should be able to {case.method.upper()} {case.name}; got {status} "
            f"{getattr(response, 'content', b'')[:300]!r}"
        )
    else:
        assert status in case.refused or _sent_to_login(response), (
            f"{principal} must be refused {case.method.upper()} {case.name}; got {status}"
        )
    if case.private and principal in ("anonymous", "outsider", "operator"):
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode(errors="replace")
        leaked = [secret for secret in private if secret in text]
        assert not leaked, f"{principal} saw acme's {leaked} at {case.name}"
