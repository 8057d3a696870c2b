"""Outside PACT host systems acting for zone companies ("partner hosts").

A partner host is registered for one company with the base URL of its PACT API and
the client credentials the exchange uses there. Events whose ``source`` lies under a
partner's base URL are accepted from that company's API clients; answers go to
``<base_url>/3/events`` with a token from the partner's token endpoint.

The client secret is encrypted at rest with the current key-encryption key
(AES-256-GCM, the associated data binding it to the partner's base URL, so a blob
copied into another row does not decrypt). It is never logged, audited or returned,
except by ``partner_secret`` to the code that authenticates at the partner.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import audit_append
from companies.access import Actor
from companies.errors import Conflict, NotFound, ValidationFailed
from companies.models import Company, CompanyStatus

from .models import PartnerHost

_BLOB_VERSION = 1
_NONCE_SIZE = 12
MAX_BASE_URL = PartnerHost._meta.get_field("base_url").max_length or 300
MAX_CLIENT_ID = PartnerHost._meta.get_field("client_id").max_length or 200
MAX_CLIENT_SECRET = 1000


class PartnerSecretError(RuntimeError):
    """The stored secret cannot be decrypted (key-encryption key missing, tampering).
    The message never holds the secret."""


# ------------------------------------------------------------------------ base URLs


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _has_control(text: str) -> bool:
    return any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text)


def clean_base_url(raw: Any, field: str = "base_url") -> str:
    """A partner's base URL, normalised: https (http only on a loopback host when
    settings.PACT_ALLOW_HTTP), lower-case scheme and host, no trailing slash, no
    credentials, query or fragment."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationFailed.single(
            field, "give the partner's base URL, e.g. https://pact.example"
        )
    text = raw.strip()
    if len(text) > MAX_BASE_URL or _has_control(text) or " " in text:
        raise ValidationFailed.single(
            field, f"must be a URL of at most {MAX_BASE_URL} characters without spaces"
        )
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValidationFailed.single(field, f"is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("https", "http") or not host:
        raise ValidationFailed.single(field, f"must be an https:// URL, got {text!r}")
    if parts.username is not None or parts.password is not None:
        raise ValidationFailed.single(field, "must not hold credentials (user:password@)")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ValidationFailed.single(field, "must not have a query or fragment")
    if scheme == "http":
        allowed = getattr(settings, "PACT_ALLOW_HTTP", False)
        if not (allowed and _is_loopback(host)):
            raise ValidationFailed.single(
                field,
                "must use https:// (plain http is accepted only for loopback hosts when "
                "PACT_ALLOW_HTTP is on)",
            )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != {"https": 443, "http": 80}[scheme]:
        netloc = f"{netloc}:{port}"
    path = parts.path.rstrip("/")
    return f"{scheme}://{netloc}{path}"


def source_matches(base_url: str, source: str) -> bool:
    """Whether an event ``source`` lies at or under ``base_url``.

    PACT sources are URI references such as ``//api.example.com/3/events``; a full
    ``https://`` URL is accepted too (its scheme must be the partner's). Host names
    compare case-insensitively, paths by whole segments.
    """
    base = urlsplit(base_url)
    try:
        src = urlsplit(source)
        src_port = src.port
    except ValueError:
        return False
    if not source.startswith("//") and src.scheme.lower() != base.scheme:
        return False
    if src.username is not None or src.password is not None or src.query or src.fragment:
        return False
    default = {"https": 443, "http": 80}[base.scheme]
    if (src.hostname or "").lower() != (base.hostname or "").lower():
        return False
    if (src_port or default) != (base.port or default):
        return False
    base_path = base.path.rstrip("/")
    src_path = src.path
    return src_path.rstrip("/") == base_path or src_path.startswith(base_path + "/")


# --------------------------------------------------------------------------- secrets


def _current_kek() -> tuple[str, bytes]:
    key_id, key = next(iter(settings.KEY_ENCRYPTION_KEYS.items()))
    return key_id, key


def _associated_data(base_url: str) -> bytes:
    return f"carbonx:pact-partner-secret:{base_url}".encode()


def _encrypt(secret: str, base_url: str) -> tuple[bytes, str]:
    key_id, key = _current_kek()
    nonce = os.urandom(_NONCE_SIZE)
    ciphertext = AESGCM(key).encrypt(nonce, secret.encode(), _associated_data(base_url))
    return bytes([_BLOB_VERSION]) + nonce + ciphertext, key_id


def _decrypt(blob: bytes, key_id: str, base_url: str) -> str:
    key = settings.KEY_ENCRYPTION_KEYS.get(key_id)
    if key is None:
        raise PartnerSecretError(
            f"the partner's client secret is wrapped with key-encryption key {key_id!r}, "
            "which is not configured"
        )
    if len(blob) < 1 + _NONCE_SIZE + 16 or blob[0] != _BLOB_VERSION:
        raise PartnerSecretError("the partner's stored client secret is malformed")
    nonce, ciphertext = blob[1 : 1 + _NONCE_SIZE], blob[1 + _NONCE_SIZE :]
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, _associated_data(base_url)).decode()
    except (InvalidTag, UnicodeDecodeError):
        raise PartnerSecretError(
            "cannot decrypt the partner's client secret: wrong key-encryption key, "
            "wrong associated data or tampered blob"
        ) from None


def partner_secret(partner: PartnerHost) -> str:
    """The partner's client secret in clear, for authenticating there. Never log it."""
    return _decrypt(
        bytes(partner.encrypted_client_secret), partner.wrapping_key_id, partner.base_url
    )


# ------------------------------------------------------------------------ services


def _company(value: Company | str, field: str = "company") -> Company:
    if isinstance(value, Company):
        return value
    found = Company.objects.filter(slug=value).first()
    if found is None:
        raise ValidationFailed.single(field, f"no company {value!r} in the zone")
    return found


def _clean_client_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed.single("client_id", "give the client id the partner issued")
    value = value.strip()
    if len(value) > MAX_CLIENT_ID or _has_control(value):
        raise ValidationFailed.single(
            "client_id", f"must be at most {MAX_CLIENT_ID} characters without control characters"
        )
    return value


def _clean_client_secret(value: Any) -> str:
    # The message names the rule, never the value.
    if not isinstance(value, str) or not value:
        raise ValidationFailed.single("client_secret", "give the client secret the partner issued")
    if len(value) > MAX_CLIENT_SECRET or _has_control(value) or value != value.strip():
        raise ValidationFailed.single(
            "client_secret",
            f"must be at most {MAX_CLIENT_SECRET} characters, without control characters or "
            "surrounding spaces",
        )
    return value


def _audit(actor: Actor | None, type: str, partner: PartnerHost, **payload: Any) -> None:
    audit_append(
        type=type,
        actor=actor.audit_ref if actor is not None else "system",
        company=partner.company.slug,
        subject=f"pact_partner:{partner.pk}",
        payload={"base_url": partner.base_url, **payload},
    )


@transaction.atomic
def partner_add(
    company: Company | str,
    base_url: str,
    client_id: str,
    client_secret: str,
    *,
    actor: Actor | None = None,
) -> PartnerHost:
    """Register an outside PACT host for ``company`` (an operator task: the management
    command ``pact_partner add``). A removed partner with the same base URL is
    registered again with the new credentials."""
    errors: dict[str, list[str]] = {}
    found: dict[str, Any] = {}
    for field, clean, value in (
        ("company", _company, company),
        ("base_url", clean_base_url, base_url),
        ("client_id", _clean_client_id, client_id),
        ("client_secret", _clean_client_secret, client_secret),
    ):
        try:
            found[field] = clean(value)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    owner: Company = found["company"]
    if owner.status != CompanyStatus.ACTIVE:
        raise ValidationFailed.single("company", f"{owner.legal_name} is not active in the zone")
    url = found["base_url"]
    blob, key_id = _encrypt(found["client_secret"], url)
    existing = PartnerHost.objects.select_for_update().filter(base_url=url).first()
    if existing is not None and existing.disabled_at is None:
        raise Conflict(
            f"base_url: {url} is already registered (for {existing.company.slug})", field="base_url"
        )
    if existing is not None:
        partner = existing
        partner.company = owner
        partner.client_id = found["client_id"]
        partner.encrypted_client_secret = blob
        partner.wrapping_key_id = key_id
        partner.disabled_at = None
        partner.save()
    else:
        partner = PartnerHost.objects.create(
            company=owner,
            base_url=url,
            client_id=found["client_id"],
            encrypted_client_secret=blob,
            wrapping_key_id=key_id,
        )
    _audit(actor, "pact_partner.added", partner, client_id=partner.client_id)
    return partner


@transaction.atomic
def partner_remove(partner: PartnerHost | str, *, actor: Actor | None = None) -> PartnerHost:
    """Stop accepting events from a partner and sending to it (its pending messages are
    given up at the next delivery run). The row stays for the outbox history."""
    if isinstance(partner, str):
        url = clean_base_url(partner)
        found = PartnerHost.objects.filter(base_url=url).first()
        if found is None:
            raise NotFound(f"base_url: no partner host {url} is registered", field="base_url")
        partner = found
    updated = PartnerHost.objects.filter(pk=partner.pk, disabled_at__isnull=True).update(
        disabled_at=timezone.now()
    )
    if not updated:
        raise Conflict(f"base_url: {partner.base_url} is already removed", field="base_url")
    partner.refresh_from_db()
    _audit(actor, "pact_partner.removed", partner)
    return partner


def partners_of(company: Company | None = None, *, include_removed: bool = False):
    partners = PartnerHost.objects.select_related("company")
    if company is not None:
        partners = partners.filter(company=company)
    if not include_removed:
        partners = partners.filter(disabled_at__isnull=True)
    return partners


def partner_for_source(company: Company, source: Any) -> PartnerHost | None:
    """The active partner host of ``company`` (the sending company) whose base URL the
    event ``source`` lies under; the most specific one if several do."""
    if not isinstance(source, str) or not source or _has_control(source):
        return None
    matches = [p for p in partners_of(company) if source_matches(p.base_url, source)]
    return max(matches, key=lambda p: len(p.base_url), default=None)


@transaction.atomic
def partner_secrets_rewrap() -> int:
    """Re-encrypt every partner secret under the current key-encryption key (after a
    new first entry of KEY_ENCRYPTION_KEYS); returns how many moved."""
    current_id, _ = _current_kek()
    moved = 0
    for partner in (
        PartnerHost.objects.select_for_update().exclude(wrapping_key_id=current_id).order_by("pk")
    ):
        secret = partner_secret(partner)
        partner.encrypted_client_secret, partner.wrapping_key_id = _encrypt(
            secret, partner.base_url
        )
        partner.save(update_fields=["encrypted_client_secret", "wrapping_key_id"])
        moved += 1
    return moved
