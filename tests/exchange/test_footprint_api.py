"""The footprint API over HTTP (/api/v1/): submit one or many, list, get, deprecate, sign
with the platform key, products and their history, bulk uploads and their templates;
as a signed-in person (session) and as acme's OAuth2 client (Bearer token)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from audit.models import AuditEntry
from companies import services as company_services
from exchange import bulk
from exchange.models import BulkUpload, Footprint, Product, ProductIdentifier
from exchange.signing import parse_signed_footprint, sign_footprint, verify_signed_footprint
from tests.exchange import bulk_files as bf
from tests.exchange.helpers import acme_document, signed_footprint
from trust import jcs, keys

pytestmark = pytest.mark.django_db

FOOTPRINTS = "/api/v1/footprints"
BATCH = "/api/v1/footprints/batch"
SIGN = "/api/v1/footprints/sign"
PRODUCTS = "/api/v1/products"
UPLOADS = "/api/v1/uploads"


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Footprint, Product, ProductIdentifier, AuditEntry)
    }


def stored_counts() -> dict[str, int]:
    """Like counts(), without the audit log (an upload itself is audited)."""
    return {k: v for k, v in counts().items() if k != "AuditEntry"}


def session(membership) -> APIClient:
    api = APIClient()
    api.force_login(membership.user)
    return api


def bearer(cast) -> APIClient:
    basic = base64.b64encode(f"{cast.client.client_id}:{cast.client_secret}".encode()).decode()
    response = APIClient().post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert response.status_code == 200, response.content
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    return api


def post_json(api: APIClient, url: str, body) -> object:
    return api.post(url, data=json.dumps(body), content_type="application/json")


def post_raw(api: APIClient, url: str, text: str) -> object:
    return api.post(url, data=text, content_type="application/json")


@pytest.fixture
def editor(cast) -> APIClient:
    return session(cast.editor)


# --------------------------------------------------------------------------- submit one


def test_a_client_submits_a_footprint_and_gets_201_with_the_stored_footprint(cast):
    document = acme_document(cast)
    token = sign_footprint(document, cast.own_private_key)

    response = post_json(bearer(cast), FOOTPRINTS, {"jws": token})

    assert response.status_code == 201, response.content
    body = response.json()
    canonical = jcs.canonicalize(document)
    assert body["id"] == document["id"]
    assert body["status"] == "Active"
    assert body["sha256"] == hashlib.sha256(canonical).hexdigest()
    assert body["kid"] == cast.own_key.kid
    assert body["platform_signed"] is False
    assert body["channel"] == "api"
    assert body["jws"] == token
    assert body["document"] == document
    assert body["product_name"] == document["productNameCompany"]
    assert body["declared_unit"] == "kilogram"
    assert body["pcf_excluding_biogenic_uptake"] == "11.87"
    assert body["reference_period_start"] == "2025-01-01T00:00:00Z"
    assert body["preceding"] == [] and body["successors"] == []
    assert body["deprecated_at"] is None
    footprint = Footprint.objects.get(pf_id=document["id"])
    assert body["product"] == footprint.product_id
    assert footprint.submitted_by_client == cast.client


def test_a_person_submits_through_the_session(cast, editor):
    response = post_json(editor, FOOTPRINTS, {"jws": signed_footprint(cast)})
    assert response.status_code == 201
    assert Footprint.objects.get(pf_id=response.json()["id"]).submitted_by == cast.editor.user


def test_a_detached_jws_is_sent_with_the_footprint(cast, editor):
    document = acme_document(cast)
    header, _, signature = sign_footprint(document, cast.own_private_key).split(".")
    response = post_json(
        editor, FOOTPRINTS, {"jws": f"{header}..{signature}", "footprint": document}
    )
    assert response.status_code == 201, response.content
    assert response.json()["jws"] == f"{header}..{signature}"


def test_sending_the_same_footprint_again_answers_200(cast, editor):
    token = signed_footprint(cast)
    first = post_json(editor, FOOTPRINTS, {"jws": token})
    before = counts()

    again = post_json(editor, FOOTPRINTS, {"jws": token})

    assert again.status_code == 200
    assert again.json() == first.json()
    assert counts() == before


def test_the_same_id_with_other_content_answers_409(cast, editor):
    document = acme_document(cast)
    post_json(editor, FOOTPRINTS, {"jws": sign_footprint(document, cast.own_private_key)})
    changed = dict(document, comment="changed")
    before = counts()

    response = post_json(editor, FOOTPRINTS, {"jws": sign_footprint(changed, cast.own_private_key)})

    assert response.status_code == 409
    assert response.json() == {
        "code": "conflict",
        "message": f"/id: footprint {document['id']} already exists with other content; a "
        "change needs a new id that lists the old one in precedingPfIds",
        "field": "/id",
    }
    assert counts() == before


def test_a_bad_document_answers_400_with_errors_keyed_by_json_pointer(cast, editor):
    token = signed_footprint(cast, pcf={"geographyCountry": "XX", "fossilGhgEmissions": "-1"})
    before = counts()

    response = post_json(editor, FOOTPRINTS, {"jws": token})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert body["errors"] == {
        "/pcf/fossilGhgEmissions": ["must be a decimal >= 0, got '-1'"],
        "/pcf/geographyCountry": [
            "must be an ISO 3166-1 alpha-2 country code (e.g. 'CN'), got 'XX'"
        ],
    }
    assert "/pcf/geographyCountry: must be an ISO 3166-1" in body["message"]
    assert counts() == before


def test_a_bad_signature_answers_400_naming_jws(cast, editor):
    header, payload, signature = signed_footprint(cast).split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    before = counts()
    response = post_json(editor, FOOTPRINTS, {"jws": f"{header}.{payload}.{flipped}"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["jws"]
    assert counts() == before


def test_duplicate_keys_in_the_request_body_are_refused(cast, editor):
    token = signed_footprint(cast)
    before = counts()

    response = post_raw(editor, FOOTPRINTS, f'{{"jws": "{token}", "jws": "{token}"}}')

    assert response.status_code == 400
    offset = len(f'{{"jws": "{token}", ')
    assert response.json() == {
        "code": "parse_error",
        "message": f'JSON: duplicate key "jws" at offset {offset} (path $)',
    }
    assert counts() == before


def test_nan_in_the_request_body_is_refused(cast, editor):
    before = counts()
    response = post_raw(editor, FOOTPRINTS, '{"jws": NaN}')
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "NaN is not valid JSON" in response.json()["message"]
    assert counts() == before


def test_a_body_that_is_not_an_object_is_refused(cast, editor):
    before = counts()
    response = post_json(editor, FOOTPRINTS, [{"jws": signed_footprint(cast)}])
    assert response.status_code == 400
    assert response.json()["errors"] == {"request": ['must be a JSON object {"jws": …}']}
    assert counts() == before


def test_a_viewer_may_not_submit(cast):
    before = counts()
    response = post_json(session(cast.viewer), FOOTPRINTS, {"jws": signed_footprint(cast)})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert counts() == before


def test_anonymous_may_not_submit(cast):
    response = post_json(APIClient(), FOOTPRINTS, {"jws": signed_footprint(cast)})
    assert response.status_code in (401, 403)
    assert not Footprint.objects.exists()


# --------------------------------------------------------------------------- batch


def test_a_batch_is_stored_whole(cast):
    documents = [acme_document(cast) for _ in range(3)]
    items = [{"jws": sign_footprint(d, cast.own_private_key)} for d in documents]

    response = post_json(bearer(cast), BATCH, items)

    assert response.status_code == 200, response.content
    assert [item["id"] for item in response.json()] == [d["id"] for d in documents]
    assert Footprint.objects.filter(pf_id__in=[d["id"] for d in documents]).count() == 3


def test_a_batch_with_one_bad_item_stores_nothing(cast, editor):
    items = [
        {"jws": signed_footprint(cast)},
        {"jws": signed_footprint(cast, pcf={"geographyCountry": "XX"})},
        {"jws": signed_footprint(cast)},
    ]
    before = counts()

    response = post_json(editor, BATCH, items)

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "/1/pcf/geographyCountry": [
            "must be an ISO 3166-1 alpha-2 country code (e.g. 'CN'), got 'XX'"
        ]
    }
    assert counts() == before


def test_a_batch_names_every_bad_item_and_field(cast, editor):
    items = [
        {"jws": "not a jws"},
        {"jws": signed_footprint(cast)},
        "just a string",
    ]
    before = counts()
    response = post_json(editor, BATCH, items)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "/0/jws": ["jws: must have exactly 3 dot-separated parts, got 1"],
        "/2": ['must be an object {"jws": …, "footprint"?: …}'],
    }
    assert counts() == before


def test_a_batch_with_the_same_id_twice_is_refused(cast, editor):
    document = acme_document(cast)
    token = sign_footprint(document, cast.own_private_key)
    before = counts()

    response = post_json(editor, BATCH, [{"jws": token}, {"jws": token}])

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "/1/id": [f"{document['id']} also appears as item 0 of the batch"]
    }
    assert counts() == before


def test_a_batch_must_be_an_array(cast, editor):
    before = counts()
    response = post_json(editor, BATCH, {"jws": signed_footprint(cast)})
    assert response.status_code == 400
    assert response.json()["errors"] == {"request": ["must be a JSON array of {jws, footprint?}"]}
    assert counts() == before


def test_a_batch_over_the_limit_is_refused(cast, editor, settings):
    settings.FOOTPRINT_BATCH_MAX = 2
    items = [{"jws": signed_footprint(cast)} for _ in range(3)]
    before = counts()
    response = post_json(editor, BATCH, items)
    assert response.status_code == 400
    assert response.json()["errors"] == {"items": ["3 footprints; a batch may hold at most 2"]}
    assert counts() == before


# --------------------------------------------------------------------------- read


def submit(cast, **overrides) -> Footprint:
    from exchange import services

    token = signed_footprint(cast, **overrides)
    return services.footprint_submit(actor=cast.actor("editor"), jws=token).footprint


def test_list_and_filters(cast):
    first = submit(cast)
    second = submit(cast, precedingPfIds=[str(first.pf_id)])
    other_product = submit(cast, productIds=["urn:pact:acme.example:product:naoh"])
    api = session(cast.viewer)

    def ids(query: str = "") -> set[str]:
        response = api.get(FOOTPRINTS + query)
        assert response.status_code == 200
        return {item["id"] for item in response.json()["results"]}

    assert ids() == {str(first.pf_id), str(second.pf_id), str(other_product.pf_id)}
    assert ids("?status=Deprecated") == {str(first.pf_id)}
    assert ids("?status=Active") == {str(second.pf_id), str(other_product.pf_id)}
    assert ids(f"?product={other_product.product_id}") == {str(other_product.pf_id)}
    assert ids("?product_id=urn:pact:acme.example:product:li2co3") == {
        str(first.pf_id),
        str(second.pf_id),
    }
    assert ids("?product_id=urn:pact:acme.example:product:nothing") == set()
    assert api.get(FOOTPRINTS).json()["count"] == 3


def test_the_list_shows_only_the_companys_own_footprints(cast):
    cast.footprint
    response = session(cast.outsider).get(FOOTPRINTS)
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert cast.footprint.sha256 not in response.content.decode()


def test_get_one_footprint_with_its_versions(cast):
    first = cast.footprint
    second = submit(cast, precedingPfIds=[str(first.pf_id)])

    body = session(cast.viewer).get(f"{FOOTPRINTS}/{second.pf_id}").json()
    old = session(cast.viewer).get(f"{FOOTPRINTS}/{first.pf_id}").json()

    assert body["preceding"] == [str(first.pf_id)]
    assert old["successors"] == [str(second.pf_id)]
    assert old["status"] == "Deprecated"
    assert old["document"]["status"] == "Deprecated"
    assert old["deprecation_reason"] == f"superseded by {second.pf_id}"


def test_another_companys_footprint_is_not_found_and_not_leaked(cast):
    footprint = cast.footprint
    response = session(cast.outsider).get(f"{FOOTPRINTS}/{footprint.pf_id}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    text = response.content.decode()
    assert footprint.sha256 not in text
    assert footprint.product_name not in text


@pytest.mark.parametrize("pf_id", ["not-a-uuid", "07b9624b-922f-457b-b4f0-678b49d6c821"])
def test_an_unknown_footprint_is_not_found(cast, pf_id):
    response = session(cast.viewer).get(f"{FOOTPRINTS}/{pf_id}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found" and pf_id in response.json()["message"]


# --------------------------------------------------------------------------- deprecate


def test_deprecate_through_the_api(cast, editor):
    footprint = cast.footprint
    response = post_json(
        editor, f"{FOOTPRINTS}/{footprint.pf_id}/deprecate", {"reason": "recalled"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "Deprecated"
    assert body["deprecation_reason"] == "recalled"
    assert body["deprecated_at"] is not None
    assert body["document"]["status"] == "Deprecated"
    assert AuditEntry.objects.filter(type="footprint.deprecated").count() == 1


def test_deprecate_needs_a_reason(cast, editor):
    footprint = cast.footprint
    before = counts()
    response = post_json(editor, f"{FOOTPRINTS}/{footprint.pf_id}/deprecate", {})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reason"]
    assert Footprint.objects.get(pk=footprint.pk).status == "Active"
    assert counts() == before


def test_deprecating_twice_answers_409(cast, editor):
    footprint = cast.footprint
    url = f"{FOOTPRINTS}/{footprint.pf_id}/deprecate"
    post_json(editor, url, {"reason": "recalled"})
    before = counts()
    response = post_json(editor, url, {"reason": "again"})
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert counts() == before


def test_another_company_cannot_deprecate(cast):
    footprint = cast.footprint
    url = f"{FOOTPRINTS}/{footprint.pf_id}/deprecate"
    before = counts()
    response = post_json(session(cast.outsider), url, {"reason": "sabotage"})
    assert response.status_code == 404
    assert Footprint.objects.get(pk=footprint.pk).status == "Active"
    assert counts() == before


def test_a_viewer_cannot_deprecate(cast):
    footprint = cast.footprint
    url = f"{FOOTPRINTS}/{footprint.pf_id}/deprecate"
    before = counts()
    assert post_json(session(cast.viewer), url, {"reason": "x"}).status_code == 403
    assert Footprint.objects.get(pk=footprint.pk).status == "Active"
    assert counts() == before


# --------------------------------------------------------------------------- sign


def test_sign_returns_the_jws_canonical_bytes_digest_and_kid_and_stores_nothing(cast, editor):
    document = acme_document(cast)
    before = counts()

    response = post_json(editor, SIGN, {"footprint": document})

    assert response.status_code == 200, response.content
    body = response.json()
    canonical = jcs.canonicalize(document)
    assert body["canonical"] == canonical.decode()
    assert body["sha256"] == hashlib.sha256(canonical).hexdigest()
    assert body["kid"] == cast.platform_key.kid
    signed = parse_signed_footprint(body["jws"])
    assert signed.canonical == canonical
    verify_signed_footprint(signed, cast.platform_key.public_jwk)
    assert counts() == before

    stored = post_json(editor, FOOTPRINTS, {"jws": body["jws"]})
    assert stored.status_code == 201
    assert stored.json()["platform_signed"] is True
    assert stored.json()["sha256"] == body["sha256"]


def test_sign_without_a_platform_key_is_refused(cast, editor):
    company_services.signing_key_revoke(
        actor=cast.actor("admin"), key=cast.platform_key, reason="retired"
    )
    before = counts()
    response = post_json(editor, SIGN, {"footprint": acme_document(cast)})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["signing_key"]
    assert counts() == before


def test_a_viewer_may_not_sign(cast):
    before = counts()
    response = post_json(session(cast.viewer), SIGN, {"footprint": acme_document(cast)})
    assert response.status_code == 403
    assert counts() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "footprint"), ({"footprint": {"a": 1}}, "/id")],
    ids=["missing", "not-pact"],
)
def test_sign_refuses_what_is_not_a_valid_footprint(cast, editor, body, field):
    response = post_json(editor, SIGN, body)
    assert response.status_code == 400
    assert field in response.json()["errors"]


# --------------------------------------------------------------------------- products


def test_products_list_and_create(cast, editor):
    response = post_json(
        editor,
        PRODUCTS,
        {
            "name": "Lithium hydroxide monohydrate",
            "description": "Battery grade",
            "product_ids": ["urn:pact:acme.example:product:lioh"],
            "classifications": ["urn:pact:cpc:34290"],
        },
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["name"] == "Lithium hydroxide monohydrate"
    assert created["product_ids"] == ["urn:pact:acme.example:product:lioh"]
    assert created["classifications"] == ["urn:pact:cpc:34290"]
    assert created["footprint_count"] == 0

    submit(cast, productIds=["urn:pact:acme.example:product:lioh"])
    listed = session(cast.viewer).get(PRODUCTS).json()
    assert [(p["id"], p["footprint_count"]) for p in listed["results"]] == [(created["id"], 1)]
    assert session(cast.outsider).get(PRODUCTS).json()["count"] == 0


def test_a_product_id_that_is_not_a_urn_is_refused(cast, editor):
    before = counts()
    response = post_json(editor, PRODUCTS, {"name": "X", "product_ids": ["LIOH-01"]})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "product_ids[0]": ["must be a URN (urn:<namespace>:<id>), got 'LIOH-01'"]
    }
    assert counts() == before


def test_a_product_id_already_used_is_refused(cast, editor):
    urn = "urn:pact:acme.example:product:lioh"
    post_json(editor, PRODUCTS, {"name": "A", "product_ids": [urn]})
    before = counts()
    response = post_json(editor, PRODUCTS, {"name": "B", "product_ids": [urn]})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "product_ids[0]": [f"{urn} already names another of your products"]
    }
    assert counts() == before


def test_a_viewer_may_not_create_products(cast):
    before = counts()
    response = post_json(
        session(cast.viewer), PRODUCTS, {"name": "X", "product_ids": ["urn:pact:a.example:p:x"]}
    )
    assert response.status_code == 403
    assert counts() == before


def test_product_history_is_newest_first(cast):
    first = cast.footprint
    second = submit(cast, precedingPfIds=[str(first.pf_id)])

    response = session(cast.viewer).get(f"{PRODUCTS}/{first.product_id}/history")

    assert response.status_code == 200
    assert [(v["id"], v["status"]) for v in response.json()["results"]] == [
        (str(second.pf_id), "Active"),
        (str(first.pf_id), "Deprecated"),
    ]


def test_another_companys_product_history_is_not_found(cast):
    footprint = cast.footprint
    response = session(cast.outsider).get(f"{PRODUCTS}/{footprint.product_id}/history")
    assert response.status_code == 404
    assert str(footprint.pf_id) not in response.content.decode()


# --------------------------------------------------------------------------- uploads


def file(data: bytes, name: str) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """POST a file to /api/v1/uploads; the job runs (eagerly) when the request commits."""

    def post(api: APIClient, data: bytes, name: str, **fields):
        with django_capture_on_commit_callbacks(execute=True):
            return api.post(UPLOADS, {"file": file(data, name), **fields}, format="multipart")

    return post


def test_a_signed_json_array_is_processed(cast, upload):
    documents = [acme_document(cast) for _ in range(2)]
    data = json.dumps([{"jws": sign_footprint(d, cast.own_private_key)} for d in documents])
    api = bearer(cast)

    response = upload(api, data.encode(), "signed.json")

    assert response.status_code == 202, response.content
    assert response.json()["file_format"] == "json"
    result = api.get(f"{UPLOADS}/{response.json()['id']}").json()
    assert result["status"] == "succeeded"
    assert result["footprint_ids"] == [d["id"] for d in documents]
    assert result["rows_done"] == result["rows_total"] == 2
    assert result["percent"] == 100
    assert result["errors"] == [] and result["error_count"] == 0
    stored = Footprint.objects.filter(pf_id__in=[d["id"] for d in documents])
    assert {f.channel for f in stored} == {"bulk"}
    assert {f.submitted_by_client for f in stored} == {cast.client}


def test_the_template_csv_is_processed_and_signed_with_the_platform_key(cast, editor, upload):
    response = upload(editor, bulk.template_csv(), "footprints.csv")

    assert response.status_code == 202
    result = editor.get(f"{UPLOADS}/{response.json()['id']}").json()
    assert result["status"] == "succeeded", result
    [pf_id] = result["footprint_ids"]
    footprint = Footprint.objects.get(pf_id=pf_id)
    assert footprint.platform_signed is True
    assert footprint.signing_key == cast.platform_key
    assert footprint.channel == "bulk"
    assert footprint.submitted_by == cast.editor.user
    assert footprint.product_name == bulk.EXAMPLE_ROW["productNameCompany"]


def test_a_csv_with_one_bad_row_stores_nothing_and_reports_the_row(cast, editor, upload):
    data = bf.csv_bytes(
        [
            bf.headers(),
            bf.example_row(),
            bf.example_row(pcf__declaredUnitAmount="-2"),
            bf.example_row(),
        ]
    )
    before = stored_counts()

    response = upload(editor, data, "footprints.csv")

    upload_id = response.json()["id"]
    result = editor.get(f"{UPLOADS}/{upload_id}").json()
    assert result["status"] == "failed"
    assert result["message"] == "1 row(s) have errors; nothing was stored"
    assert result["errors"] == [
        {"row": 3, "column": "Declared unit amount", "message": "must be a decimal > 0, got '-2'"}
    ]
    assert result["footprint_ids"] == []
    assert stored_counts() == before

    report = editor.get(f"{UPLOADS}/{upload_id}/errors.csv")
    assert report.status_code == 200
    assert report["Content-Type"].startswith("text/csv")
    assert f'filename="upload-{upload_id}-errors.csv"' in report["Content-Disposition"]
    header, *rows = csv.reader(io.StringIO(report.content.decode("utf-8-sig")))
    assert [name.split(" / ")[0].lower() for name in header] == ["row", "column", "message"]
    assert rows == [["3", "Declared unit amount", "must be a decimal > 0, got '-2'"]]


def test_without_all_or_nothing_the_good_rows_are_stored(cast, editor, upload):
    data = bf.csv_bytes(
        [
            bf.headers(),
            bf.example_row(),
            bf.example_row(productIds="LC-BG-995"),
            bf.example_row(),
        ]
    )
    before = stored_counts()

    response = upload(editor, data, "footprints.csv", all_or_nothing="false")

    result = editor.get(f"{UPLOADS}/{response.json()['id']}").json()
    assert result["all_or_nothing"] is False
    assert len(result["footprint_ids"]) == 2
    assert result["errors"] == [
        {
            "row": 3,
            "column": "Product IDs",
            "message": "must be a URN (RFC 8141); it must start with 'urn:', got 'LC-BG-995'",
        }
    ]
    assert result["message"] == "2 footprint(s) stored, 1 error(s)"
    assert result["status"] == "partial"  # some rows stored, some refused
    assert Footprint.objects.count() == before["Footprint"] + 2


def test_a_file_over_the_size_limit_is_refused(cast, editor, upload, settings):
    settings.BULK_UPLOAD_MAX_BYTES = 100
    data = bulk.template_csv()
    before = counts()
    response = upload(editor, data, "footprints.csv")
    assert response.status_code == 400
    assert response.json()["errors"] == {"file": [f"is {len(data)} bytes; the limit is 100"]}
    assert not BulkUpload.objects.exists()
    assert counts() == before


@pytest.mark.parametrize("name", ["footprints.txt", "footprints.xls", "footprints"])
def test_a_file_of_another_type_is_refused(cast, editor, upload, name):
    before = counts()
    response = upload(editor, b"some bytes", name)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "file": [f"must be a .csv, .xlsx or .json file (signed array); got {name!r}"]
    }
    assert not BulkUpload.objects.exists()
    assert counts() == before


def test_an_empty_file_is_refused(cast, editor, upload):
    before = counts()
    response = upload(editor, b"", "footprints.csv")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["file"]
    assert not BulkUpload.objects.exists()
    assert counts() == before


def test_a_spreadsheet_needs_a_platform_key(cast, editor, upload):
    company_services.signing_key_revoke(
        actor=cast.actor("admin"), key=cast.platform_key, reason="retired"
    )
    before = counts()
    response = upload(editor, bulk.template_csv(), "footprints.csv")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["signing_key"]
    assert not BulkUpload.objects.exists()
    assert counts() == before


def test_a_signed_json_array_needs_no_platform_key(cast, editor, upload):
    company_services.signing_key_revoke(
        actor=cast.actor("admin"), key=cast.platform_key, reason="retired"
    )
    response = upload(editor, json.dumps([{"jws": signed_footprint(cast)}]).encode(), "a.json")
    assert response.status_code == 202
    assert editor.get(f"{UPLOADS}/{response.json()['id']}").json()["status"] == "succeeded"


def test_a_viewer_may_not_upload(cast, upload):
    before = counts()
    response = upload(session(cast.viewer), bulk.template_csv(), "footprints.csv")
    assert response.status_code == 403
    assert not BulkUpload.objects.exists()
    assert counts() == before


def test_another_companys_upload_is_not_found(cast):
    upload_id = cast.upload.pk
    outsider = session(cast.outsider)
    assert outsider.get(f"{UPLOADS}/{upload_id}").status_code == 404
    response = outsider.get(f"{UPLOADS}/{upload_id}/errors.csv")
    assert response.status_code == 404
    assert "acme-secret-row-error" not in response.content.decode()


def test_uploads_are_listed_for_the_company(cast, editor, upload):
    upload(editor, bulk.template_csv(), "mine.csv")
    names = [u["file_name"] for u in editor.get(UPLOADS).json()["results"]]
    assert names == ["mine.csv"]
    assert session(cast.outsider).get(UPLOADS).json()["count"] == 0


def test_the_csv_template_is_served(cast, editor):
    response = editor.get(f"{UPLOADS}/template.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="footprints-template.csv"' in response["Content-Disposition"]
    assert response.content == bulk.template_csv()
    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header == [column.header for column in bulk.COLUMNS]
    assert header[0] == "PCF id / 碳足迹编号"


def test_the_xlsx_template_opens_with_bilingual_headers(cast, editor):
    response = editor.get(f"{UPLOADS}/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook["Footprints"]
    headers = [cell.value for cell in sheet[1]]
    assert headers == [column.header for column in bulk.COLUMNS]
    for column, header in zip(bulk.COLUMNS, headers, strict=True):
        assert column.header_en in header and column.header_zh in header
    assert "Help - 说明" in workbook.sheetnames


def test_another_template_format_is_not_found(cast, editor):
    response = editor.get(f"{UPLOADS}/template.pdf")
    assert response.status_code == 404
    assert "template.csv or template.xlsx" in response.json()["message"]


# --------------------------------------------------------------------------- schema


def test_the_footprint_endpoints_are_in_the_openapi_schema(cast):
    response = session(cast.viewer).get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    for path in (
        "/api/v1/footprints",
        "/api/v1/footprints/batch",
        "/api/v1/footprints/sign",
        "/api/v1/footprints/{pf_id}",
        "/api/v1/footprints/{pf_id}/deprecate",
        "/api/v1/products",
        "/api/v1/products/{product_id}/history",
        "/api/v1/uploads",
        "/api/v1/uploads/{upload_id}",
        "/api/v1/uploads/{upload_id}/errors.csv",
    ):
        assert path in paths, path


def test_a_key_registered_for_acme_signs_footprints_accepted_by_the_api(cast, editor):
    """A supplier's second own key (registered through the API) is usable at once."""
    private_key = keys.generate_private_key()
    registered = post_json(
        session(cast.admin), "/api/v1/keys", {"jwk": keys.public_jwk(private_key), "label": "erp"}
    )
    assert registered.status_code == 201, registered.content
    token = sign_footprint(acme_document(cast), private_key)
    response = post_json(editor, FOOTPRINTS, {"jws": token})
    assert response.status_code == 201
    assert response.json()["kid"] == keys.jwk_thumbprint(private_key.public_key())
