"""Helpers of the sharing and evidence-bundle tests: API clients, a second buyer, an
attested footprint, and the log key every test signs checkpoints with."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from rest_framework.test import APIClient

from audit.models import AuditEntry
from audit.services import log_verifier_key
from companies.middleware import SESSION_COMPANY_KEY
from companies.models import Company, Membership
from exchange import services as exchange_services
from exchange.models import Footprint
from exchange.signing import sign_footprint
from tests.exchange.helpers import acme_document
from tests.factories import add_member, make_company
from tests.verification.helpers import Verifiers, build_verifiers, engagement_in
from verification.models import Engagement, EngagementState

API = "/api/v1"


def session(membership: Membership) -> APIClient:
    """A person's session acting for the membership's company."""
    api = APIClient()
    api.force_login(membership.user)
    s = api.session
    s[SESSION_COMPANY_KEY] = membership.company_id
    s.save()
    return api


def bearer(cast: Any) -> APIClient:
    """acme's OAuth2 client (role editor) with a Bearer token."""
    basic = base64.b64encode(f"{cast.client.client_id}:{cast.client_secret}".encode()).decode()
    response = APIClient().post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert response.status_code == 200, response.content
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    return api


def third_buyer(cast: Any) -> tuple[Company, Membership]:
    """A second buyer company ("third") with an admin, made on first use."""
    store = cast.__dict__.setdefault("_sharing", {})
    if "third" not in store:
        company = make_company("Third Cars AG", roles=("buyer",), slug="third")
        store["third"] = (company, add_member(company, "third_admin", "admin"))
    return store["third"]


def verifiers_of(cast: Any) -> Verifiers:
    store = cast.__dict__.setdefault("_sharing", {})
    if "verifiers" not in store:
        store["verifiers"] = build_verifiers(cast)
    return store["verifiers"]


def attested(cast: Any, state: str = EngagementState.ATTESTED) -> Engagement:
    """An engagement of acme's footprint with verity, in ``state`` (attested, revoked…)."""
    return engagement_in(cast, verifiers_of(cast), state)


def bundle_of(api: APIClient, pf_id: Any) -> dict[str, Any]:
    response = api.get(f"{API}/footprints/{pf_id}/bundle")
    assert response.status_code == 200, response.content
    return response.json()


def write_bundle(path: Path, bundle: dict[str, Any]) -> str:
    path.write_text(json.dumps(bundle, ensure_ascii=False, indent=1))
    return str(path)


def log_key() -> str:
    return log_verifier_key()


PRODUCT_URN = "urn:pact:acme.example:product:li2co3"
OTHER_PRODUCT_URN = "urn:pact:acme.example:product:naso4"


def submit(cast: Any, **overrides: Any) -> Footprint:
    """A new footprint of acme's, signed with its own key (``precedingPfIds`` makes it
    a new version; another ``productIds`` another product)."""
    token = sign_footprint(acme_document(cast, **overrides), cast.own_private_key)
    return exchange_services.footprint_submit(actor=cast.actor("editor"), jws=token).footprint


def new_version(cast: Any, old: Footprint) -> Footprint:
    return submit(cast, precedingPfIds=[str(old.pf_id)])


def audit_payloads(type: str, subject: str | None = None) -> list[dict[str, Any]]:
    entries = AuditEntry.objects.filter(type=type)
    if subject is not None:
        entries = entries.filter(subject=subject)
    return [json.loads(bytes(entry.payload)) for entry in entries.order_by("seq")]
