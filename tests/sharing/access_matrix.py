"""Permission cases for sharing: the platform API (and the evidence bundle) here, the
portal pages in ``PORTAL_CASES``.

acme (the matrix's company) is the supplier; the outsider's company ("other") is a
buyer, so requests are made by the outsider and answered by acme. A second buyer
("third", made on first use) holds what nobody outside acme may see from the
outsider's seat: a grant, a part number, a request and a rule of acme's for it.
"""

from __future__ import annotations

from typing import Any

from exchange import sharing
from exchange.models import AccessGrant, AutoFulfilRule, DataRequest
from tests.access import ACME, ACME_ADMIN, SIGNED_IN, Case
from tests.factories import actor_of
from tests.sharing.helpers import third_buyer

ACME_EDITORS = frozenset({"editor", "admin"})
OUTSIDER = frozenset({"outsider"})
PARTIES = ACME | OUTSIDER
BY_VALIDATION = frozenset({400, 401, 403, 404})
PRODUCT_URN = "urn:pact:acme.example:product:li2co3"
SECRET_PART_NUMBER = "THIRD-SECRET-PN-42"
SECRET_COMMENT = "third-secret-request-comment"
API = "exchange-api"


def _store(cast: Any) -> dict[str, Any]:
    return cast.__dict__.setdefault("_sharing_matrix", {})


def _pf(cast: Any) -> str:
    return str(cast.footprint.pf_id)


def acme_delivery(cast: Any) -> str:
    """A failed PACT delivery to acme's partner host; returns its error text."""
    from datetime import timedelta

    from django.utils import timezone

    from exchange.models import OutboxMessage, OutboxStatus
    from exchange.partners import partner_add

    partner = partner_add(
        company=cast.acme,
        base_url="https://pact.acme-private.example",
        client_id="acme-at-partner",
        client_secret="s" * 24,
    )
    now = timezone.now()
    OutboxMessage.objects.create(
        partner=partner,
        event_type="org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
        event={"type": "x"},
        status=OutboxStatus.FAILED,
        attempts=9,
        next_attempt_at=now,
        give_up_at=now - timedelta(hours=1),
        last_error="acme-delivery-refused-by-partner",
    )
    return "acme-delivery-refused-by-partner"


def third_party_secrets(cast: Any) -> list[str]:
    """acme's dealings with the third buyer: a footprint grant, a part number, a
    request with a comment and a rule; none of it is the outsider's business."""
    store = _store(cast)
    if "third" not in store:
        third, member = third_buyer(cast)
        sharing.grant_create(actor=cast.actor("admin"), buyer=third, footprint_id=_pf(cast))
        sharing.part_number_set(
            actor=cast.actor("admin"),
            buyer=third,
            part_number=SECRET_PART_NUMBER,
            product_id=cast.footprint.product_id,
        )
        sharing.request_create(
            actor=actor_of(member), supplier=cast.acme, part_number="X", comment=SECRET_COMMENT
        )
        sharing.auto_rule_create(
            actor=cast.actor("admin"), buyer=third, product_ids=[cast.footprint.product_id]
        )
        store["third"] = third
    return [_pf(cast), cast.footprint.sha256, SECRET_PART_NUMBER, SECRET_COMMENT, "third"]


def grant(cast: Any) -> dict[str, int]:
    found: AccessGrant = sharing.grant_create(
        actor=cast.actor("admin"), buyer=cast.other, footprint_id=_pf(cast)
    )
    return {"grant_id": found.pk}


def published(cast: Any) -> dict[str, str]:
    sharing.footprint_publish(actor=cast.actor("admin"), footprint_id=_pf(cast))
    return {"pf_id": _pf(cast)}


def pending_request(cast: Any) -> dict[str, int]:
    """The outsider's request to acme for the footprint's product, pending."""
    store = _store(cast)
    if "request" not in store:
        _pf(cast)  # the footprint the request matches
        store["request"] = sharing.request_create(
            actor=cast.actor("outsider"), supplier=cast.acme, product_ids=[PRODUCT_URN]
        )
    found: DataRequest = store["request"]
    return {"request_id": found.pk}


def rule(cast: Any) -> dict[str, int]:
    found: AutoFulfilRule = sharing.auto_rule_create(actor=cast.actor("admin"), buyer=cast.other)
    return {"rule_id": found.pk}


def matches(cast: Any) -> list[str]:
    """What only the supplier sees of a request: its matching footprints."""
    pending_request(cast)
    return [cast.footprint.sha256]


API_CASES = [
    Case(f"{API}:received-footprints", SIGNED_IN, private=third_party_secrets),
    Case(f"{API}:grants", SIGNED_IN, private=third_party_secrets),
    Case(
        f"{API}:grants",
        ACME_EDITORS,
        method="post",
        data=lambda cast: {"buyer": "other", "footprint_id": _pf(cast)},
        # the outsider granting to itself / the operator granting acme's footprint
        refused=BY_VALIDATION,
    ),
    Case(
        f"{API}:grant-revoke",
        ACME_EDITORS,
        kwargs=grant,
        method="post",
        data={"reason": "contract ended"},
    ),
    Case(
        f"{API}:footprint-publish",
        ACME_EDITORS,
        kwargs=lambda cast: {"pf_id": _pf(cast)},
        method="post",
    ),
    Case(f"{API}:footprint-unpublish", ACME_EDITORS, kwargs=published, method="post"),
    Case(f"{API}:part-numbers", SIGNED_IN, private=third_party_secrets),
    Case(
        f"{API}:part-numbers",
        ACME_EDITORS,
        method="post",
        data=lambda cast: {
            "buyer": "other",
            "part_number": "OM-4711",
            "product_id": cast.footprint.product_id,
        },
        refused=BY_VALIDATION,
    ),
    Case(f"{API}:requests", SIGNED_IN, private=third_party_secrets),
    Case(
        f"{API}:requests",
        OUTSIDER,
        method="post",
        data=lambda cast: {"supplier": "acme", "product_ids": [PRODUCT_URN], "comment": "please"},
        # acme asking itself
        refused=BY_VALIDATION,
    ),
    Case(f"{API}:request", PARTIES, kwargs=pending_request, private=matches),
    Case(
        f"{API}:request-fulfil",
        ACME_EDITORS,
        kwargs=pending_request,
        method="post",
        data=lambda cast: {"footprint_ids": [_pf(cast)]},
    ),
    Case(
        f"{API}:request-reject",
        ACME_EDITORS,
        kwargs=pending_request,
        method="post",
        data={"reason": "not for sale"},
    ),
    Case(f"{API}:request-cancel", OUTSIDER, kwargs=pending_request, method="post"),
    Case(f"{API}:auto-rules", SIGNED_IN, private=third_party_secrets),
    Case(
        f"{API}:auto-rules",
        ACME_ADMIN,
        method="post",
        data=lambda cast: {"buyer": "other", "product_ids": [cast.footprint.product_id]},
        refused=BY_VALIDATION,
    ),
    Case(f"{API}:auto-rule-disable", ACME_ADMIN, kwargs=rule, method="post"),
    # the evidence bundle: the footprint's owner here; granted buyers in test_bundle.py
    Case(
        "verification-api:footprint-bundle",
        ACME,
        kwargs=lambda cast: {"pf_id": _pf(cast)},
        private=lambda cast: [cast.footprint.sha256],
    ),
]

PORTAL_CASES: list = [
    # The portal's sharing pages (exchange.sharing_views). Lists are every company's
    # own; pages with a buyer picker list the zone's buyers by slug, so "third" itself
    # is no secret there (its dealings with acme are).
    Case("exchange:supply-chain", SIGNED_IN, private=third_party_secrets),
    Case("exchange:pact-deliveries", SIGNED_IN, private=lambda cast: [acme_delivery(cast)]),
    Case("exchange:requests", SIGNED_IN, private=third_party_secrets),
    Case("exchange:request-new", SIGNED_IN),
    Case(
        "exchange:request-new",
        OUTSIDER,
        method="post",
        data={"supplier": "acme", "product_ids": PRODUCT_URN, "comment": "please"},
        content_type="form",
        # acme asking itself (not a choice), the operator (not a buyer)
        refused=BY_VALIDATION,
    ),
    Case("exchange:request-inbox", SIGNED_IN, private=third_party_secrets),
    Case("exchange:request", PARTIES, kwargs=pending_request, private=matches),
    Case(
        "exchange:request-fulfil",
        ACME_EDITORS,
        kwargs=pending_request,
        method="post",
        data=lambda cast: {"footprints": [_pf(cast)], "whole_product": "on"},
        content_type="form",
    ),
    Case(
        "exchange:request-reject",
        ACME_EDITORS,
        kwargs=pending_request,
        method="post",
        data={"reason": "not for sale"},
        content_type="form",
    ),
    Case(
        "exchange:request-cancel",
        OUTSIDER,
        kwargs=pending_request,
        method="post",
        content_type="form",
    ),
    Case("exchange:received", SIGNED_IN, private=third_party_secrets),
    *(
        Case(
            "exchange:received-export",
            SIGNED_IN,
            kwargs={"file_format": file_format},
            label=file_format,
            private=third_party_secrets if file_format != "xlsx" else None,
        )
        for file_format in ("csv", "xlsx", "json")
    ),
    Case(
        "exchange:received-footprint",
        PARTIES,  # acme is sent to its own footprint page
        kwargs=lambda cast: (grant(cast), {"pf_id": _pf(cast)})[1],
        label="granted",
    ),
    Case(
        "exchange:received-footprint",
        ACME,
        kwargs=lambda cast: {"pf_id": _pf(cast)},
        label="not-granted",
        private=lambda cast: [cast.footprint.sha256],
    ),
    Case(
        "exchange:grants",
        SIGNED_IN,
        private=lambda cast: [s for s in third_party_secrets(cast) if s != "third"],
    ),
    Case(
        "exchange:grants",
        ACME_EDITORS,
        method="post",
        data=lambda cast: {"buyer": "other", "footprint": _pf(cast)},
        content_type="form",
        refused=BY_VALIDATION,
    ),
    Case(
        "exchange:grant-revoke",
        ACME_EDITORS,
        kwargs=grant,
        method="post",
        data=lambda cast: {f"g{AccessGrant.objects.latest('pk').pk}-reason": "contract ended"},
        content_type="form",
    ),
    Case(
        "exchange:footprint-zone",
        ACME_EDITORS,
        kwargs=lambda cast: {"pf_id": _pf(cast)},
        method="post",
        data={"action": "publish"},
        content_type="form",
    ),
    Case(
        "exchange:part-numbers",
        SIGNED_IN,
        private=lambda cast: [s for s in third_party_secrets(cast) if s != "third"],
    ),
    Case(
        "exchange:part-numbers",
        ACME_EDITORS,
        method="post",
        data=lambda cast: {
            "buyer": "other",
            "part_number": "OM-4711",
            "product": cast.footprint.product_id,
        },
        content_type="form",
        refused=BY_VALIDATION,
    ),
    Case(
        "exchange:auto-rules",
        SIGNED_IN,
        private=lambda cast: [s for s in third_party_secrets(cast) if s != "third"],
    ),
    Case(
        "exchange:auto-rules",
        ACME_ADMIN,
        method="post",
        data=lambda cast: {"buyer": "other", "products": [cast.footprint.product_id]},
        content_type="form",
        refused=BY_VALIDATION,
    ),
    Case("exchange:auto-rule-disable", ACME_ADMIN, kwargs=rule, method="post", content_type="form"),
]

CASES = API_CASES + PORTAL_CASES
