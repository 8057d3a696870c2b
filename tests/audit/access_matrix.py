"""Who may call each audit URL.

The public log API is open to everyone (anonymous included); the company audit page
needs an acting company and shows only that company's entries; the whole-log page is
the zone operator's.  Resolvers below make sure the log has entries, a checkpoint
and a registered witness, so "allowed" requests can really succeed.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit import services
from audit.models import Checkpoint
from tests.access import ALL, OPERATOR, SIGNED_IN, Case
from trust import keys, note


def _log_with_checkpoint(cast: Any) -> Checkpoint:
    _log_grown(cast)
    services.checkpoint_create()
    checkpoint = Checkpoint.objects.order_by("-size").first()
    assert checkpoint is not None
    return checkpoint


def _log_grown(cast: Any) -> dict[str, Any]:
    """An entry no checkpoint covers yet, so that signing one can succeed."""
    with transaction.atomic():
        services.audit_append(
            type="test.matrix", actor="system", company="acme", subject="matrix", payload={}
        )
    return {}


def _no_kwargs_with_checkpoint(cast: Any) -> dict[str, Any]:
    _log_with_checkpoint(cast)
    return {}


def _checkpoint_size(cast: Any) -> dict[str, Any]:
    return {"size": _log_with_checkpoint(cast).size}


def _first_entry(cast: Any) -> dict[str, Any]:
    _log_with_checkpoint(cast)
    return {"seq": 0}


def _valid_cosignature(cast: Any) -> dict[str, Any]:
    checkpoint = _log_with_checkpoint(cast)
    signer = note.CosignatureSigner("witness.example/matrix", keys.generate_private_key())
    services.witness_register(name=signer.name, verifier_key=signer.verifier_key())
    text = services.checkpoint_text(checkpoint)
    return {"size": checkpoint.size, "cosignature": signer.cosign(text, timestamp=1_700_000_000)}


def _acme_secrets(cast: Any) -> list[str]:
    return [cast.own_key.kid] if getattr(cast.own_key, "kid", "") else []


CASES = [
    Case("audit:company", allowed=SIGNED_IN, private=_acme_secrets),
    Case("audit:operator", allowed=OPERATOR),
    Case("audit:checkpoint-sign", allowed=OPERATOR, method="post", kwargs=_log_grown),
    Case("audit-api:log-key", allowed=ALL),
    Case("audit-api:checkpoint-latest", allowed=ALL, kwargs=_no_kwargs_with_checkpoint),
    Case("audit-api:checkpoint-detail", allowed=ALL, kwargs=_checkpoint_size),
    Case("audit-api:entry-list", allowed=ALL, kwargs=_no_kwargs_with_checkpoint),
    Case("audit-api:entry-detail", allowed=ALL, kwargs=_first_entry),
    Case(
        "audit-api:consistency",
        allowed=ALL,
        kwargs=_no_kwargs_with_checkpoint,
        query={"first": 1, "second": 1},
    ),
    Case("audit-api:cosignature-submit", allowed=ALL, method="post", data=_valid_cosignature),
]
