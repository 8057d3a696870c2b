"""Permission cases for products, footprints and uploads (portal and API)."""

from __future__ import annotations

from tests.access import ACME, SIGNED_IN, Case

EDITORS = frozenset({"editor", "admin", "outsider", "operator"})  # acting for their own company
FORM = "form"
BY_VALIDATION = frozenset({400, 401, 403, 404})

pf = lambda cast: {"pf_id": str(cast.footprint.pf_id)}  # noqa: E731
product = lambda cast: {"product_id": cast.footprint.product_id}  # noqa: E731
upload = lambda cast: {"upload_id": cast.upload.pk}  # noqa: E731


def acme_footprint_strings(cast):
    return [str(cast.footprint.pf_id), cast.footprint.sha256, "urn:pact:acme.example:product"]


def acme_upload_strings(cast):
    return ["acme-footprints.csv", "acme-secret-row-error"]


def json_upload(cast):
    import io

    from tests.exchange.helpers import signed_footprint

    data = io.BytesIO(f'[{{"jws": "{signed_footprint(cast)}"}}]'.encode())
    data.name = "signed.json"
    return {"file": data}


def new_signed(cast):
    """A fresh signed footprint of acme's; other companies' submissions fail their own
    checks (key, company), which the matrix counts as refused."""
    from tests.exchange.helpers import signed_footprint

    return {"jws": signed_footprint(cast)}


CASES = [
    # portal
    Case("exchange:footprints", SIGNED_IN, private=acme_footprint_strings),
    Case("exchange:footprint-new", SIGNED_IN),
    Case("exchange:products", SIGNED_IN, private=acme_footprint_strings),
    Case("exchange:product", ACME, kwargs=product),
    Case("exchange:footprint", ACME, kwargs=pf),
    Case(
        "exchange:footprint-deprecate",
        frozenset({"editor", "admin"}),
        kwargs=pf,
        method="post",
        data={"reason": "discontinued"},
        content_type=FORM,
    ),
    Case("exchange:uploads", SIGNED_IN, private=acme_upload_strings),
    Case("exchange:upload-template", SIGNED_IN, kwargs={"file_format": "xlsx"}),
    Case("exchange:upload", ACME, kwargs=upload),
    Case("exchange:upload-errors", ACME, kwargs=upload),
    # API
    Case("exchange-api:products", SIGNED_IN, private=acme_footprint_strings),
    Case(
        "exchange-api:products",
        EDITORS,
        method="post",
        data={"name": "Widget", "product_ids": ["urn:pact:example.test:product:widget"]},
    ),
    Case("exchange-api:product-history", ACME, kwargs=product),
    Case("exchange-api:footprints", SIGNED_IN, private=acme_footprint_strings),
    Case(
        "exchange-api:footprints",
        frozenset({"editor", "admin"}),
        method="post",
        data=new_signed,
        label="submit",
        refused=BY_VALIDATION,
    ),
    Case(
        "exchange-api:footprints-batch",
        frozenset({"editor", "admin"}),
        method="post",
        data=lambda cast: [new_signed(cast)],
        refused=BY_VALIDATION,
    ),
    Case(
        "exchange-api:footprints-sign",
        frozenset({"editor", "admin"}),
        method="post",
        data=lambda cast: {"footprint": cast.footprint_document},
        refused=BY_VALIDATION,
    ),
    Case("exchange-api:footprint", ACME, kwargs=pf),
    Case(
        "exchange-api:footprint-deprecate",
        frozenset({"editor", "admin"}),
        kwargs=pf,
        method="post",
        data={"reason": "discontinued"},
    ),
    Case("exchange-api:uploads", SIGNED_IN, private=acme_upload_strings),
    Case(
        "exchange-api:uploads",
        EDITORS,
        method="post",
        data=json_upload,
        content_type=FORM,
        label="json",
    ),
    Case("exchange-api:upload-template", SIGNED_IN, kwargs={"file_format": "csv"}),
    Case("exchange-api:upload", ACME, kwargs=upload),
    Case("exchange-api:upload-errors", ACME, kwargs=upload),
]


# --- PACT host API (/3, /2, auth) ---
# Only a Bearer token opens the PACT routes (a portal session does not); the matrix's test
# client speaks plain HTTP, which these routes answer only with PACT_ALLOW_HTTP on (its
# default follows DEBUG, which is on unless DJANGO_DEBUG says otherwise).
# v2.3 answers a missing token with 400 BadRequest, so 400 counts as refused there.
PACT_ANYONE = SIGNED_IN | {"anonymous", "client"}
PACT_V2_REFUSED = frozenset({400, 401, 403, 404})


def pact_basic(cast):
    import base64

    pair = f"{cast.client.client_id}:{cast.client_secret}".encode()
    return {"authorization": "Basic " + base64.b64encode(pair).decode()}


CASES += [
    Case("pact:openid-configuration", PACT_ANYONE),
    Case(
        "pact:token",
        PACT_ANYONE,  # whoever holds the client's credentials gets its token
        method="post",
        data={"grant_type": "client_credentials"},
        content_type="urlencoded",
        headers=pact_basic,
    ),
    Case(
        "pact:token",
        frozenset(),
        method="post",
        data={"grant_type": "client_credentials"},
        content_type="urlencoded",
        label="no-credentials",
        client=False,
        refused=frozenset({400, 401}),
    ),
    Case("pact:footprints", frozenset(), client=True, private=acme_footprint_strings),
    Case("pact:footprint", frozenset(), kwargs=pf, client=True, private=acme_footprint_strings),
    Case(
        "pact:events",
        frozenset(),
        method="post",
        data={"specversion": "1.0"},
        content_type="application/cloudevents+json",
        label="malformed",
        client=False,  # persons: 401; the client: 400 (the event is refused)
        refused=frozenset({400, 401}),
    ),
    Case(
        "pact:v2-footprints",
        frozenset(),
        client=True,
        refused=PACT_V2_REFUSED,
        private=acme_footprint_strings,
    ),
    Case(
        "pact:v2-footprint",
        frozenset(),
        kwargs=pf,
        client=True,
        refused=PACT_V2_REFUSED,
        private=acme_footprint_strings,
    ),
]
