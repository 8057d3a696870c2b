"""What the application believes of proxy headers: only what a trusted proxy wrote."""

from __future__ import annotations

import importlib

import pytest
from django.test import RequestFactory

from companies.middleware import client_ip


def test_without_a_trusted_proxy_a_client_cannot_claim_https(settings):
    assert settings.TRUSTED_PROXY_COUNT == 0
    assert not hasattr(settings, "SECURE_PROXY_SSL_HEADER") or (
        settings.SECURE_PROXY_SSL_HEADER is None
    )
    request = RequestFactory().get("/", HTTP_X_FORWARDED_PROTO="https")
    assert request.is_secure() is False


def test_behind_a_trusted_proxy_its_header_is_read(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "1")
    import config.settings as module

    try:
        reloaded = importlib.reload(module)
        assert reloaded.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    finally:
        monkeypatch.delenv("TRUSTED_PROXY_COUNT")
        importlib.reload(module)


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.2"),  # no proxy: the header is ignored
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the client's own claim is skipped
    ],
)
def test_the_client_address_is_taken_from_trusted_proxies_only(
    settings, count, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.2")
    assert client_ip(request) == expected
