"""Submitting one signed footprint (exchange.services.footprint_submit): what is stored on
acceptance, and every kind of refusal, each of which stores nothing and writes no audit
entry."""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEntry
from companies import services as company_services
from companies.access import Actor
from companies.errors import CompanySuspended, PermissionDenied, ValidationFailed
from companies.models import Company, SigningKey
from exchange import services
from exchange.models import Footprint, Product, ProductIdentifier
from exchange.signing import FOOTPRINT_JWS_TYPE, sign_footprint
from tests.exchange.helpers import acme_document, signed_footprint
from tests.exchange.pact_examples import OMIT
from trust import jcs, jws, keys
from trust.encoding import b64url_decode, b64url_encode

pytestmark = pytest.mark.django_db

POSTGRES = connection.vendor == "postgresql"
BAD_SIGNATURE = {
    "jws": ["signature does not verify: jws: signature does not verify with the given key"]
}


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Footprint, Product, ProductIdentifier, AuditEntry)
    }


@contextmanager
def refused(exc_type=ValidationFailed):
    """The block raises ``exc_type`` and leaves footprints, products, product ids and the
    audit log exactly as they were."""
    before = counts()
    with pytest.raises(exc_type) as caught:
        yield caught
    assert counts() == before


def submit(cast, token, who: str = "editor", **kwargs):
    return services.footprint_submit(actor=cast.actor(who), jws=token, **kwargs)


def parts(token: str) -> tuple[str, str, str]:
    header, payload, signature = token.split(".")
    return header, payload, signature


def encode(value) -> str:
    return b64url_encode(jcs.canonicalize(value))


def own_kid(cast) -> str:
    return cast.own_key.kid


def sign_raw(cast, payload: bytes, **header) -> str:
    """A JWS over exactly ``payload`` with acme's own key (any bytes, canonical or not)."""
    return jws.sign_compact(
        payload,
        cast.own_private_key,
        kid=header.get("kid", own_kid(cast)),
        typ=header.get("typ", FOOTPRINT_JWS_TYPE),
    )


# --------------------------------------------------------------------------- accepted


def test_a_valid_footprint_signed_with_acmes_own_key_is_stored_exactly(cast):
    document = acme_document(cast)
    token = sign_footprint(document, cast.own_private_key)

    result = submit(cast, token)

    assert result.created is True
    footprint = Footprint.objects.get(pf_id=document["id"])
    canonical = jcs.canonicalize(document)
    assert bytes(footprint.canonical_bytes) == canonical
    assert footprint.sha256 == hashlib.sha256(canonical).hexdigest()
    assert footprint.jws == token
    assert footprint.signing_key == cast.own_key
    assert footprint.platform_signed is False
    assert footprint.company == cast.acme
    assert footprint.status == "Active"
    assert footprint.channel == "api"
    assert footprint.submitted_by == cast.editor.user
    assert footprint.submitted_by_client is None
    assert footprint.spec_version == "3.0.3"
    assert footprint.product_name == "MJ-LC995 battery-grade lithium carbonate"
    assert footprint.declared_unit == "kilogram"
    assert footprint.pcf_excluding_biogenic_uptake == "11.87"
    assert footprint.reference_period_start == datetime(2025, 1, 1, tzinfo=UTC)
    assert footprint.reference_period_end == datetime(2026, 1, 1, tzinfo=UTC)
    assert footprint.document_created == datetime(2026, 1, 20, 0, 30, tzinfo=UTC)
    assert footprint.deprecated_at is None


def test_the_product_is_created_from_the_footprints_product_ids(cast):
    document = acme_document(
        cast, productIds=["urn:pact:acme.example:product:li2co3", "urn:gtin:06901234567892"]
    )
    before = counts()

    footprint = submit(cast, sign_footprint(document, cast.own_private_key)).footprint

    product = footprint.product
    assert product.company == cast.acme
    assert product.name == document["productNameCompany"]
    assert product.description == document["productDescription"]
    assert product.classifications == ["urn:pact:wcoomdd.org:hs-code:283691"]
    assert sorted(i.urn for i in product.identifiers.all()) == sorted(document["productIds"])
    assert counts()["Product"] == before["Product"] + 1
    assert counts()["ProductIdentifier"] == before["ProductIdentifier"] + 2


def test_a_known_product_id_files_the_footprint_under_that_product(cast):
    product = services.product_create(
        actor=cast.actor("editor"),
        name="Lithium carbonate, battery grade",
        product_ids=["urn:pact:acme.example:product:li2co3"],
    )
    document = acme_document(
        cast, productIds=["urn:pact:acme.example:product:li2co3", "urn:gtin:06901234567892"]
    )

    footprint = submit(cast, sign_footprint(document, cast.own_private_key)).footprint

    assert footprint.product == product
    assert Product.objects.filter(company=cast.acme).count() == 1
    product.refresh_from_db()
    assert product.name == "Lithium carbonate, battery grade"  # not renamed by the footprint
    assert sorted(i.urn for i in product.identifiers.all()) == [
        "urn:gtin:06901234567892",
        "urn:pact:acme.example:product:li2co3",
    ]


def test_product_ids_naming_two_different_products_are_refused(cast):
    editor = cast.actor("editor")
    services.product_create(actor=editor, name="A", product_ids=["urn:pact:acme.example:product:a"])
    services.product_create(actor=editor, name="B", product_ids=["urn:pact:acme.example:product:b"])
    token = signed_footprint(
        cast, productIds=["urn:pact:acme.example:product:a", "urn:pact:acme.example:product:b"]
    )

    with refused() as caught:
        submit(cast, token)

    assert caught.value.errors == {
        "/productIds": ["names more than one of your products; a footprint is for one product"]
    }


def test_the_submission_is_audited_with_its_digest(cast):
    document = acme_document(cast)
    footprint = submit(cast, sign_footprint(document, cast.own_private_key)).footprint

    entry = AuditEntry.objects.get(type="footprint.submitted")
    assert entry.subject == f"footprint:{document['id']}"
    assert entry.company == "acme"
    assert entry.actor == f"user:{cast.editor.user.pk}"
    payload = json.loads(bytes(entry.payload))
    assert payload == {
        "sha256": footprint.sha256,
        "kid": cast.own_key.kid,
        "platform_signed": False,
        "product_ids": document["productIds"],
        "preceding": [],
    }


def test_the_audit_entry_is_written_in_the_same_transaction(cast, monkeypatch):
    """If the audit log cannot take the entry, the footprint is not stored either."""

    def broken(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    token = signed_footprint(cast)
    appenders = [name for name in ("audit_append", "audit_append_many") if hasattr(services, name)]
    assert appenders
    for name in appenders:
        monkeypatch.setattr(services, name, broken)

    with refused(RuntimeError):
        submit(cast, token)


def test_a_footprint_signed_with_the_platform_key_is_marked_platform_signed(cast):
    document = acme_document(cast)
    token = services.footprint_sign_with_platform_key(actor=cast.actor("editor"), document=document)

    footprint = submit(cast, token).footprint

    assert footprint.signing_key == cast.platform_key
    assert footprint.platform_signed is True
    assert json.loads(b64url_decode(parts(token)[0]))["kid"] == cast.platform_key.kid
    entry = AuditEntry.objects.get(type="footprint.submitted")
    assert json.loads(bytes(entry.payload))["platform_signed"] is True


def test_the_newest_platform_key_signs(cast):
    newer = company_services.signing_key_create_platform(actor=cast.actor("admin"), label="2026")
    assert newer.valid_from > cast.platform_key.valid_from
    document = acme_document(cast)

    token = services.footprint_sign_with_platform_key(actor=cast.actor("editor"), document=document)

    assert json.loads(b64url_decode(parts(token)[0]))["kid"] == newer.kid
    assert submit(cast, token).footprint.signing_key == newer


def test_signing_with_the_platform_key_needs_one(cast):
    company_services.signing_key_revoke(
        actor=cast.actor("admin"), key=cast.platform_key, reason="retired"
    )
    with refused() as caught:
        services.footprint_sign_with_platform_key(
            actor=cast.actor("editor"), document=acme_document(cast)
        )
    assert list(caught.value.errors) == ["signing_key"]


def test_an_api_client_submission_records_the_client(cast):
    actor = Actor(company=cast.acme, role=cast.client.role, client=cast.client)

    footprint = services.footprint_submit(actor=actor, jws=signed_footprint(cast)).footprint

    assert footprint.submitted_by_client == cast.client
    assert footprint.submitted_by is None
    entry = AuditEntry.objects.get(type="footprint.submitted")
    assert entry.actor == f"client:{cast.client.client_id}"


def test_a_detached_payload_with_the_footprint_is_accepted(cast):
    document = acme_document(cast)
    header, _, signature = parts(sign_footprint(document, cast.own_private_key))
    detached = f"{header}..{signature}"

    footprint = submit(cast, detached, document=document).footprint

    assert footprint.jws == detached  # stored exactly as sent
    assert bytes(footprint.canonical_bytes) == jcs.canonicalize(document)
    assert footprint.sha256 == hashlib.sha256(jcs.canonicalize(document)).hexdigest()


def test_a_detached_payload_is_checked_against_the_footprint_sent(cast):
    document = acme_document(cast)
    header, _, signature = parts(sign_footprint(document, cast.own_private_key))
    changed = dict(document, comment="changed after signing")

    with refused() as caught:
        submit(cast, f"{header}..{signature}", document=changed)

    assert caught.value.errors == BAD_SIGNATURE


def test_a_detached_payload_without_the_footprint_is_refused(cast):
    header, _, signature = parts(signed_footprint(cast))
    with refused() as caught:
        submit(cast, f"{header}..{signature}")
    assert caught.value.errors == {
        "footprint": ["the JWS payload is detached, so the footprint must be sent with it"]
    }


def test_an_attached_payload_and_a_footprint_as_well_are_refused(cast):
    document = acme_document(cast)
    with refused() as caught:
        submit(cast, sign_footprint(document, cast.own_private_key), document=document)
    assert caught.value.errors == {
        "footprint": ["send either an attached payload or a detached JWS with the footprint"]
    }


# --------------------------------------------------------------------------- PACT rules

RULES = [
    pytest.param(
        {"pcf": {"geographyCountry": "XX"}},
        {
            "/pcf/geographyCountry": [
                "must be an ISO 3166-1 alpha-2 country code (e.g. 'CN'), got 'XX'"
            ]
        },
        id="country-code",
    ),
    pytest.param(
        {"id": "not-a-uuid"},
        {
            "/id": [
                "must be a UUID in 8-4-4-4-12 hex form, e.g. "
                "'0b5e3c57-6f2c-4a55-9d1e-3a0c2f6b7d10', got 'not-a-uuid'"
            ]
        },
        id="uuid",
    ),
    pytest.param(
        {"productDescription": OMIT},
        {"/productDescription": ["is required (a ProductFootprint property)"]},
        id="required",
    ),
    pytest.param(
        {"productIds": ["li2co3"]},
        {"/productIds/0": ["must be a URN (RFC 8141); it must start with 'urn:', got 'li2co3'"]},
        id="urn",
    ),
    pytest.param(
        {"specVersion": "2.0.0"},
        {"/specVersion": ["must be a 3.x.y version (this is the PACT v3 data model), got '2.0.0'"]},
        id="spec-version",
    ),
    pytest.param(
        {"pcf": {"pcfExcludingBiogenicUptake": 11.87}},
        {
            "/pcf/pcfExcludingBiogenicUptake": [
                'must be a decimal string, got number (write it as a string, e.g. "11.87")'
            ]
        },
        id="decimal-as-number",
    ),
    pytest.param(
        {"pcf": {"fossilGhgEmissions": "-1"}},
        {"/pcf/fossilGhgEmissions": ["must be a decimal >= 0, got '-1'"]},
        id="sign-rule",
    ),
    pytest.param(
        {"pcf": {"dqi": {"technologicalDQR": "6", "geographicalDQR": "1.5", "temporalDQR": "1.2"}}},
        {"/pcf/dqi/technologicalDQR": ["must be a decimal between 1 and 5 inclusive, got '6'"]},
        id="dqr-range",
    ),
    pytest.param(
        {"pcf": {"packagingEmissionsIncluded": False}},
        {
            "/pcf/packagingGhgEmissions": [
                "must be undefined when packagingEmissionsIncluded is false"
            ]
        },
        id="packaging",
    ),
    pytest.param(
        {"pcf": {"referencePeriodEnd": "2024-01-01T00:00:00Z"}},
        {
            "/pcf/referencePeriodEnd": [
                "must be after referencePeriodStart (the reference period runs from its start, "
                "inclusive, to its end, exclusive), got '2024-01-01T00:00:00Z' <= "
                "'2025-01-01T00:00:00Z'"
            ]
        },
        id="reference-period",
    ),
    pytest.param(
        {"validityPeriodEnd": "2025-01-01T00:00:00Z"},
        {
            "/validityPeriodEnd": [
                "must be after validityPeriodStart (2026-01-01T00:00:00Z), got "
                "'2025-01-01T00:00:00Z'"
            ]
        },
        id="validity-period",
    ),
]


@pytest.mark.parametrize(("overrides", "errors"), RULES)
def test_a_broken_pact_rule_is_refused_with_its_json_pointer(cast, overrides, errors):
    token = signed_footprint(cast, **overrides)
    with refused() as caught:
        submit(cast, token)
    assert caught.value.errors == errors


def test_the_geography_rule_names_both_members(cast):
    token = signed_footprint(cast, pcf={"geographyRegionOrSubregion": "Africa"})
    with refused() as caught:
        submit(cast, token)
    assert sorted(caught.value.errors) == [
        "/pcf/geographyCountry",
        "/pcf/geographyRegionOrSubregion",
    ]
    assert caught.value.errors["/pcf/geographyCountry"][0].startswith(
        "must be undefined when geographyRegionOrSubregion is defined"
    )


def test_every_broken_rule_is_reported_at_once(cast):
    token = signed_footprint(cast, productDescription=OMIT, pcf={"fossilGhgEmissions": "-1"})
    with refused() as caught:
        submit(cast, token)
    assert sorted(caught.value.errors) == ["/pcf/fossilGhgEmissions", "/productDescription"]


def test_a_document_that_is_not_an_object_is_refused(cast):
    with refused() as caught:
        submit(cast, sign_raw(cast, b"[]"))
    assert list(caught.value.errors) == ["/"]


# --------------------------------------------------------------------------- signature


def test_a_payload_changed_after_signing_is_refused(cast):
    document = acme_document(cast)
    header, _, signature = parts(sign_footprint(document, cast.own_private_key))
    changed = encode(valid_copy(document, pcf_value="1.87"))
    with refused() as caught:
        submit(cast, f"{header}.{changed}.{signature}")
    assert caught.value.errors == BAD_SIGNATURE


def valid_copy(document, *, pcf_value: str) -> dict:
    copy = json.loads(json.dumps(document))
    copy["pcf"]["pcfExcludingBiogenicUptake"] = pcf_value
    copy["pcf"]["pcfIncludingBiogenicUptake"] = pcf_value
    return copy


def test_a_header_changed_after_signing_is_refused(cast):
    header, payload, signature = parts(signed_footprint(cast))
    changed = encode(dict(json.loads(b64url_decode(header)), cty="json"))
    with refused() as caught:
        submit(cast, f"{changed}.{payload}.{signature}")
    assert caught.value.errors == BAD_SIGNATURE


def test_a_kid_swapped_for_another_acme_key_is_refused(cast):
    header, payload, signature = parts(signed_footprint(cast))
    swapped = encode(dict(json.loads(b64url_decode(header)), kid=cast.platform_key.kid))
    with refused() as caught:
        submit(cast, f"{swapped}.{payload}.{signature}")
    assert caught.value.errors == BAD_SIGNATURE


def test_flipped_signature_bytes_are_refused(cast):
    header, payload, signature = parts(signed_footprint(cast))
    raw = bytearray(b64url_decode(signature))
    raw[17] ^= 0x01
    with refused() as caught:
        submit(cast, f"{header}.{payload}.{b64url_encode(bytes(raw))}")
    assert caught.value.errors == BAD_SIGNATURE


def test_a_truncated_signature_is_refused(cast):
    header, payload, signature = parts(signed_footprint(cast))
    short = b64url_encode(b64url_decode(signature)[:63])
    with refused() as caught:
        submit(cast, f"{header}.{payload}.{short}")
    assert caught.value.errors == {"jws": ["jws.signature: must be 64 bytes, got 63"]}


def test_a_key_nobody_registered_is_refused(cast):
    stranger = keys.generate_private_key()
    token = sign_footprint(acme_document(cast), stranger)
    with refused() as caught:
        submit(cast, token)
    assert caught.value.errors == {
        "jws.header.kid": [
            f"{keys.jwk_thumbprint(stranger.public_key())} is not a signing key of "
            "Acme Lithium Co., Ltd."
        ]
    }


def test_another_companys_key_is_refused_for_acme(cast):
    outsider_key = keys.generate_private_key()
    registered = company_services.signing_key_register(
        actor=cast.actor("outsider"), jwk=keys.public_jwk(outsider_key), label="other's"
    )
    token = sign_footprint(acme_document(cast), outsider_key)

    with refused() as caught:
        submit(cast, token)

    assert caught.value.errors == {
        "jws.header.kid": [f"{registered.kid} is not a signing key of Acme Lithium Co., Ltd."]
    }


def test_another_company_cannot_submit_acmes_footprint_with_its_own_key(cast):
    outsider_key = keys.generate_private_key()
    company_services.signing_key_register(
        actor=cast.actor("outsider"), jwk=keys.public_jwk(outsider_key), label="other's"
    )
    token = sign_footprint(acme_document(cast), outsider_key)

    with refused() as caught:
        submit(cast, token, who="outsider")

    assert caught.value.errors == {
        "/companyName": ["must be the submitting company's legal name 'Other Motors'"]
    }


def test_another_company_cannot_submit_acmes_signed_footprint(cast):
    with refused() as caught:
        submit(cast, signed_footprint(cast), who="outsider")
    assert caught.value.errors == {
        "jws.header.kid": [f"{own_kid(cast)} is not a signing key of Other Motors"]
    }


def test_a_revoked_key_is_refused(cast):
    token = signed_footprint(cast)  # signed before the revocation
    company_services.signing_key_revoke(
        actor=cast.actor("admin"), key=cast.own_key, reason="compromised"
    )
    with refused() as caught:
        submit(cast, token)
    assert caught.value.errors == {
        "jws.header.kid": [f"the key {own_kid(cast)} is revoked (compromised)"]
    }


def test_a_key_not_yet_valid_is_refused(cast):
    SigningKey.objects.filter(pk=cast.own_key.pk).update(
        valid_from=timezone.now() + timedelta(hours=1)
    )
    with refused() as caught:
        submit(cast, signed_footprint(cast))
    assert caught.value.errors == {"jws.header.kid": [f"the key {own_kid(cast)} is not yet valid"]}


def test_a_missing_key_id_is_refused(cast):
    payload = jcs.canonicalize(acme_document(cast))
    header = encode({"alg": "Ed25519", "typ": FOOTPRINT_JWS_TYPE})
    token = jws.sign_compact_with_header(payload, cast.own_private_key, header)
    with refused() as caught:
        submit(cast, token)
    assert caught.value.errors == {
        "jws.header.kid": ["the key id (RFC 7638 thumbprint) is required"]
    }


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_another_algorithm_is_refused(cast, alg):
    header, payload, signature = parts(signed_footprint(cast))
    forged = encode(dict(json.loads(b64url_decode(header)), alg=alg))
    with refused() as caught:
        submit(cast, f"{forged}.{payload}.{signature}")
    assert caught.value.errors == {
        "jws": [f'header.alg: must be "Ed25519" or "EdDSA", got "{alg}"']
    }


def test_alg_none_with_an_empty_signature_is_refused(cast):
    _, payload, _ = parts(signed_footprint(cast))
    forged = encode({"alg": "none", "kid": own_kid(cast), "typ": FOOTPRINT_JWS_TYPE})
    with refused() as caught:
        submit(cast, f"{forged}.{payload}.")
    assert caught.value.errors == {"jws": ['header.alg: must be "Ed25519" or "EdDSA", got "none"']}


def test_the_eddsa_alg_name_is_accepted(cast):
    payload = jcs.canonicalize(acme_document(cast))
    token = jws.sign_compact(
        payload, cast.own_private_key, kid=own_kid(cast), typ=FOOTPRINT_JWS_TYPE, alg="EdDSA"
    )
    assert submit(cast, token).created is True


def test_another_typ_is_refused(cast):
    token = sign_raw(cast, jcs.canonicalize(acme_document(cast)), typ="JWT")
    with refused() as caught:
        submit(cast, token)
    assert caught.value.errors == {"jws.header.typ": ["must be 'pact-footprint+jws', got 'JWT'"]}


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "a JWS compact serialisation (string) is required"),
        ("", "a JWS compact serialisation (string) is required"),
        (42, "a JWS compact serialisation (string) is required"),
        ("not a jws", "jws: must have exactly 3 dot-separated parts, got 1"),
    ],
)
def test_something_that_is_not_a_jws_is_refused(cast, token, message):
    with refused() as caught:
        submit(cast, token)
    assert caught.value.errors == {"jws": [message]}


# --------------------------------------------------------------------------- canonical form

NOT_CANONICAL = {"jws.payload": ["must be the RFC 8785 canonical bytes of the footprint"]}


def test_a_payload_with_another_key_order_is_refused(cast):
    document = acme_document(cast)
    reordered = json.dumps(
        dict(reversed(list(document.items()))), separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert json.loads(reordered) == document
    with refused() as caught:
        submit(cast, sign_raw(cast, reordered))
    assert caught.value.errors == NOT_CANONICAL


def test_a_payload_with_whitespace_is_refused(cast):
    document = acme_document(cast)
    spaced = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False).encode()
    with refused() as caught:
        submit(cast, sign_raw(cast, spaced))
    assert caught.value.errors == NOT_CANONICAL


def test_a_payload_with_escaped_unicode_is_refused(cast):
    document = acme_document(cast, comment="CO₂ captured")
    escaped = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()  # \u2082
    assert escaped != jcs.canonicalize(document)
    with refused() as caught:
        submit(cast, sign_raw(cast, escaped))
    assert caught.value.errors == NOT_CANONICAL


def appended(cast, member: bytes) -> bytes:
    """The canonical bytes of a fresh document with ``member`` added at the end."""
    return jcs.canonicalize(acme_document(cast))[:-1] + b"," + member + b"}"


def test_duplicate_keys_in_the_payload_are_refused(cast):
    payload = appended(cast, b'"id":"3f6d2a8e-5b1c-4e7f-9a0d-2c8b7e41f5a9"')
    offset = payload.rindex(b'"id"')
    with refused() as caught:
        submit(cast, sign_raw(cast, payload))
    assert caught.value.errors == {
        "jws.payload": [f'is not valid JSON: duplicate key "id" at offset {offset} (path $)']
    }


def test_nan_in_the_payload_is_refused(cast):
    payload = appended(cast, b'"zz":NaN')
    offset = payload.index(b"NaN")
    with refused() as caught:
        submit(cast, sign_raw(cast, payload))
    assert caught.value.errors == {
        "jws.payload": [f"is not valid JSON: NaN is not valid JSON at offset {offset} (path $.zz)"]
    }


def test_a_huge_integer_in_the_payload_is_refused(cast):
    payload = appended(cast, b'"zz":123456789012345678901234567890')
    offset = payload.index(b"1234567890123")
    with refused() as caught:
        submit(cast, sign_raw(cast, payload))
    assert caught.value.errors == {
        "jws.payload": [
            "is not valid JSON: integer 123456789012345678901234567890 is outside ±2**53 and is "
            f"not exactly representable as an IEEE-754 double at offset {offset} (path $.zz)"
        ]
    }


def test_a_payload_that_is_not_utf8_is_refused(cast):
    payload = appended(cast, b'"zz":"\xff"')
    with refused() as caught:
        submit(cast, sign_raw(cast, payload))
    assert list(caught.value.errors) == ["jws.payload"]
    assert caught.value.errors["jws.payload"][0].startswith("is not valid JSON: invalid UTF-8")


# --------------------------------------------------------------------------- size


def test_a_token_over_the_size_limit_is_refused_before_parsing(cast, settings):
    token = signed_footprint(cast)
    settings.FOOTPRINT_MAX_BYTES = 1000
    with refused() as caught:
        submit(cast, token)
    assert caught.value.errors == {
        "jws": [f"is {len(token)} characters; a signed footprint may be at most 1000 bytes"]
    }


def test_a_document_over_the_size_limit_is_refused(cast, settings):
    document = acme_document(cast)
    token = sign_footprint(document, cast.own_private_key)
    size = len(jcs.canonicalize(document))
    settings.FOOTPRINT_MAX_BYTES = size - 1
    assert len(token) <= 2 * settings.FOOTPRINT_MAX_BYTES  # passes the token check
    with refused() as caught:
        submit(cast, token)
    assert caught.value.errors == {"footprint": [f"is {size} bytes; the limit is {size - 1}"]}


def test_a_detached_document_over_the_size_limit_is_refused(cast, settings):
    document = acme_document(cast, comment="x" * 5000)
    header, _, signature = parts(sign_footprint(document, cast.own_private_key))
    size = len(jcs.canonicalize(document))
    settings.FOOTPRINT_MAX_BYTES = 4000
    with refused() as caught:
        submit(cast, f"{header}..{signature}", document=document)
    assert caught.value.errors == {"footprint": [f"is {size} bytes; the limit is 4000"]}


def test_a_document_at_the_size_limit_is_accepted(cast, settings):
    document = acme_document(cast)
    settings.FOOTPRINT_MAX_BYTES = len(jcs.canonicalize(document))
    assert submit(cast, sign_footprint(document, cast.own_private_key)).created is True


# --------------------------------------------------------------------------- company


def test_another_company_name_is_refused(cast):
    with refused() as caught:
        submit(cast, signed_footprint(cast, companyName="Acme Lithium Trading Ltd."))
    assert caught.value.errors == {
        "/companyName": ["must be the submitting company's legal name 'Acme Lithium Co., Ltd.'"]
    }


def test_a_company_id_that_is_not_acmes_is_refused(cast):
    foreign = "urn:pact:samr.gov.cn:uscc:91350100M000100Y43"
    with refused() as caught:
        submit(cast, signed_footprint(cast, companyIds=[foreign]))
    assert caught.value.errors == {
        "/companyIds/0": [f"{foreign} is not an identifier of Acme Lithium Co., Ltd."]
    }


def test_each_foreign_company_id_is_named(cast):
    own = cast.acme.identifiers.get().urn
    foreign = cast.other.identifiers.get().urn
    with refused() as caught:
        submit(cast, signed_footprint(cast, companyIds=[own, foreign]))
    assert caught.value.errors == {
        "/companyIds/1": [f"{foreign} is not an identifier of Acme Lithium Co., Ltd."]
    }


def test_a_deprecated_status_at_submission_is_refused(cast):
    with refused() as caught:
        submit(cast, signed_footprint(cast, status="Deprecated"))
    assert caught.value.errors == {"/status": ["a new footprint must be Active"]}


# --------------------------------------------------------------------------- who may submit


def test_a_viewer_may_not_submit(cast):
    with refused(PermissionDenied) as caught:
        submit(cast, signed_footprint(cast), who="viewer")
    assert (
        caught.value.message == "role: only a company editor may submit footprints; you are viewer"
    )


def test_a_suspended_company_may_not_submit(cast):
    token = signed_footprint(cast)
    company_services.company_suspend(
        actor=cast.actor("op_admin"), company=cast.acme, reason="unpaid fees"
    )
    actor = Actor(
        company=Company.objects.get(pk=cast.acme.pk), role="editor", user=cast.editor.user
    )
    with refused(CompanySuspended) as caught:
        services.footprint_submit(actor=actor, jws=token)
    assert caught.value.message.startswith("company.status: Acme Lithium Co., Ltd. is suspended")


# --------------------------------------------------------------------------- edge values


def test_a_lower_case_utc_designator_is_accepted(cast):
    token = signed_footprint(cast, pcf={"referencePeriodStart": "2025-01-01T00:00:00z"})
    footprint = submit(cast, token).footprint
    assert footprint.reference_period_start == datetime(2025, 1, 1, tzinfo=UTC)


def test_a_large_utc_offset_is_accepted(cast):
    token = signed_footprint(cast, pcf={"referencePeriodEnd": "2026-01-01T16:00:00+16:00"})
    footprint = submit(cast, token).footprint
    assert footprint.reference_period_end == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"productNameCompany": "N" * 300}, id="product-name-300"),
        pytest.param({"productIds": ["urn:pact:acme.example:product:" + "x" * 300]}, id="urn-330"),
        pytest.param({"pcf": {"pcfExcludingBiogenicUptake": "11." + "8" * 80}}, id="decimal-83"),
    ],
)
def test_long_values_are_stored_or_refused_by_name(cast, overrides):
    token = signed_footprint(cast, **overrides)
    try:
        result = submit(cast, token)
    except ValidationFailed as exc:  # refusing with a pointer is as good as storing
        assert all(key.startswith("/") for key in exc.errors)
    else:
        assert result.created is True
