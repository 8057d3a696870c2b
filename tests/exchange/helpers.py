"""Footprints for tests: valid PACT v3 documents of the cast's supplier, signed."""

from __future__ import annotations

import uuid
from typing import Any

from exchange.signing import sign_footprint
from tests.exchange.pact_examples import valid_footprint


def acme_document(cast: Any, **overrides: Any) -> dict[str, Any]:
    """A valid footprint of acme's (its name and identifiers), with a fresh id."""
    fields: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "companyName": cast.acme.legal_name,
        "companyIds": [i.urn for i in cast.acme.identifiers.all()],
        "productIds": ["urn:pact:acme.example:product:li2co3"],
    }
    fields.update(overrides)
    return valid_footprint(**fields)


def signed_footprint(cast: Any, **overrides: Any) -> str:
    """A JWS over a new acme footprint, signed with acme's own key."""
    return sign_footprint(acme_document(cast, **overrides), cast.own_private_key)
