"""The bulk-upload job itself (exchange.tasks.bulk_upload_process): claiming, progress,
a 10,000-row file, malformed files, uploaders who lost their right to upload, and one
upload through a real Celery worker when REDIS_URL is set."""

from __future__ import annotations

import itertools
import json
import threading
import time

import pytest
from django.db import connection

from audit.models import AuditEntry
from companies import services as company_services
from exchange import services, tasks
from exchange.models import BulkUpload, Footprint, Product, ProductIdentifier
from exchange.signing import sign_footprint
from tests.exchange import bulk_files as bf
from tests.exchange.helpers import acme_document

pytestmark = pytest.mark.django_db


def stored() -> dict[str, int]:
    counts = {m.__name__: m.objects.count() for m in (Footprint, Product, ProductIdentifier)}
    counts["footprint audit entries"] = AuditEntry.objects.filter(
        type__startswith="footprint."
    ).count()
    return counts


def create(cast, data: bytes, name: str, who: str = "editor", **kwargs) -> BulkUpload:
    """An upload as the portal or API makes it (its job is not started: the test's
    transaction never commits, so the on_commit hook never fires)."""
    return services.upload_create(actor=cast.actor(who), file_name=name, data=data, **kwargs)


def process(upload: BulkUpload) -> BulkUpload:
    tasks.bulk_upload_process(upload.pk)
    upload.refresh_from_db()
    return upload


def csv_of(*rows) -> bytes:
    return bf.csv_bytes([bf.headers(), *rows])


@pytest.fixture
def progress_calls(monkeypatch):
    """Every call of exchange.tasks._progress, as the fields it wrote."""
    calls: list[dict] = []
    original = tasks._progress

    def record(upload, **fields):
        original(upload, **fields)
        stored_row = BulkUpload.objects.get(pk=upload.pk)  # written, not only in memory
        if "rows_done" in fields:
            assert stored_row.rows_done == fields["rows_done"]
        calls.append({**fields, "in_transaction": connection.in_atomic_block})

    monkeypatch.setattr(tasks, "_progress", record)
    return calls


# --------------------------------------------------------------------------- claiming


def test_running_the_job_twice_processes_the_upload_once(cast):
    upload = create(cast, csv_of(bf.example_row(), bf.example_row()), "two.csv")

    assert tasks.bulk_upload_process(upload.pk) == "succeeded"
    after_first = stored()
    assert tasks.bulk_upload_process(upload.pk) == "not queued"

    assert stored() == after_first
    assert after_first["Footprint"] == 2
    upload.refresh_from_db()
    assert upload.status == "succeeded"
    assert len(upload.footprint_ids) == 2


def test_a_job_already_running_is_not_claimed_again(cast):
    upload = create(cast, csv_of(bf.example_row()), "one.csv")
    BulkUpload.objects.filter(pk=upload.pk).update(status="running")
    before = stored()

    assert tasks.bulk_upload_process(upload.pk) == "not queued"

    assert stored() == before
    assert BulkUpload.objects.get(pk=upload.pk).status == "running"


def test_an_upload_that_no_longer_exists_is_ignored(cast):
    assert tasks.bulk_upload_process(999_999) == "not queued"


# --------------------------------------------------------------------------- progress


def test_at_the_end_all_rows_are_done(cast, progress_calls):
    upload = process(create(cast, csv_of(*bf.many_rows(3)), "three.csv"))

    assert upload.status == "succeeded"
    assert upload.rows_total == 3
    assert upload.rows_done == 3
    assert upload.percent == 100
    assert upload.phase == "done"
    assert upload.started_at is not None and upload.finished_at >= upload.started_at
    assert upload.message == "3 footprint(s) stored"
    assert progress_calls[0]["rows_total"] == 3
    assert progress_calls[-1]["status"] == "succeeded"


def test_at_the_end_all_rows_are_done_also_when_a_row_has_cell_errors(cast):
    data = bf.xlsx_bytes(
        [
            bf.headers(),
            bf.example_row(),
            bf.example_row(pcf__pcfExcludingBiogenicUptake="=1+2"),
        ]
    )
    upload = process(create(cast, data, "formula.xlsx"))
    assert upload.status == "failed"
    assert upload.rows_done == upload.rows_total == 2


@pytest.mark.django_db(transaction=True)
def test_ten_thousand_rows_are_stored_with_progress_along_the_way(cast, progress_calls, capsys):
    rows = 10_000
    data = bf.big_csv(rows)

    started = time.perf_counter()
    # A transactional test commits, so the job runs (eagerly) as soon as the upload is made.
    upload = process(create(cast, data, "ten-thousand.csv"))
    elapsed = time.perf_counter() - started

    assert upload.status == "succeeded", upload.errors[:5]
    assert upload.rows_done == upload.rows_total == rows
    assert len(upload.footprint_ids) == rows
    assert Footprint.objects.filter(company=cast.acme, channel="bulk").count() == rows
    assert AuditEntry.objects.filter(type="footprint.submitted").count() == rows

    done = [call["rows_done"] for call in progress_calls if "rows_done" in call]
    assert len(done) >= rows // tasks.PROGRESS_EVERY
    assert done[0] == 0 and done[-1] == rows
    assert all(b >= a for a, b in itertools.pairwise(done))  # never goes back
    assert len(set(done)) >= rows // tasks.PROGRESS_EVERY  # many distinct steps
    # Progress is committed as it goes: the job writes it outside any transaction.
    assert not any(call["in_transaction"] for call in progress_calls)
    with capsys.disabled():
        print(f"\n  bulk upload of {rows} CSV rows: {elapsed:.1f} s ({rows / elapsed:.0f} rows/s)")


# --------------------------------------------------------------------------- malformed files


def test_a_csv_that_is_not_utf8_fails_with_a_hint_and_stores_nothing(cast):
    before = stored()
    upload = process(
        create(cast, bf.csv_bytes([bf.headers(), bf.example_row()], encoding="gbk"), "gbk.csv")
    )

    assert upload.status == "failed"
    message = (
        "the file is not UTF-8 text (an undecodable byte on line 1). It looks like "
        "GBK/GB18030, the default of Chinese Windows. In Excel use Save As and choose "
        "'CSV UTF-8 (Comma delimited) (*.csv)'"
    )
    assert upload.errors == [{"row": 1, "column": "", "message": message}]
    assert upload.message == f"row 1: {message}"
    assert stored() == before


def test_unknown_headers_fail_the_upload(cast):
    headers = bf.headers()
    headers[0] = "Mystery"
    before = stored()
    upload = process(create(cast, bf.csv_bytes([headers, bf.example_row()]), "headers.csv"))
    assert upload.status == "failed"
    assert upload.errors == [
        {"row": 1, "column": "", "message": "unknown column header 'Mystery' in column A"}
    ]
    assert stored() == before


def test_a_file_without_the_header_row_fails(cast):
    before = stored()
    upload = process(create(cast, bf.csv_bytes([["foo", "bar"], ["1", "2"]]), "noheader.csv"))
    assert upload.status == "failed"
    assert upload.errors == [
        {
            "row": 1,
            "column": "",
            "message": "the header row is missing: row 1 must hold the column headers of the "
            "template, but none is known (first value: 'foo')",
        }
    ]
    assert stored() == before


def test_a_formula_in_an_xlsx_fails_its_row_and_stores_nothing(cast):
    data = bf.xlsx_bytes(
        [bf.headers(), bf.example_row(), bf.example_row(pcf__pcfExcludingBiogenicUptake="=1+2")]
    )
    before = stored()
    upload = process(create(cast, data, "formula.xlsx"))
    assert upload.status == "failed"
    assert upload.errors == [
        {
            "row": 3,
            "column": "PCF excluding biogenic uptake",
            "message": "formulas are not accepted, paste values (found '=1+2')",
        }
    ]
    assert upload.message == "1 row(s) have errors; nothing was stored"
    assert upload.footprint_ids == []
    assert stored() == before


def test_a_file_that_is_not_a_workbook_fails(cast):
    before = stored()
    upload = process(create(cast, b"PK\x03\x04 not really a zip", "broken.xlsx"))
    assert upload.status == "failed"
    assert upload.errors == [
        {
            "row": 0,
            "column": "",
            "message": "the file is not a valid .xlsx workbook (it is not a zip archive)",
        }
    ]
    assert stored() == before


@pytest.mark.parametrize("name", ["empty-rows.csv", "empty-rows.xlsx"])
def test_empty_rows_are_ignored(cast, name):
    rows = [bf.headers(), bf.example_row(), [""] * len(bf.headers()), [], bf.example_row()]
    data = bf.csv_bytes(rows) if name.endswith(".csv") else bf.xlsx_bytes(rows)
    upload = process(create(cast, data, name))
    assert upload.status == "succeeded", upload.errors
    assert upload.rows_total == 2
    assert len(upload.footprint_ids) == 2


def test_a_header_row_and_nothing_else_fails(cast):
    upload = process(create(cast, csv_of(), "only-headers.csv"))
    assert upload.status == "failed"
    assert upload.errors == [
        {"row": 0, "column": "", "message": "the file has a header row but no footprint rows"}
    ]


def test_too_many_rows_fail_the_upload(cast, settings):
    settings.BULK_UPLOAD_MAX_ROWS = 2
    before = stored()
    upload = process(create(cast, csv_of(*bf.many_rows(3)), "three.csv"))
    assert upload.status == "failed"
    assert upload.errors == [
        {
            "row": 4,
            "column": "",
            "message": "too many rows: at most 2 footprints per upload; split the file",
        }
    ]
    assert stored() == before


def test_a_json_upload_that_is_not_json_fails_naming_the_file(cast):
    upload = process(create(cast, b"not json", "signed.json"))
    assert upload.status == "failed"
    assert upload.errors == [
        {
            "row": 0,
            "column": "file",
            "message": "is not valid JSON: unexpected character 'n' at offset 0 (path $)",
        }
    ]


def test_a_json_upload_that_is_not_an_array_fails(cast):
    upload = process(create(cast, b'{"jws": "a.b.c"}', "signed.json"))
    assert upload.status == "failed"
    assert upload.errors == [
        {"row": 0, "column": "file", "message": 'must be a JSON array of {"jws": …} objects'}
    ]


def test_a_json_upload_with_a_bad_item_stores_nothing(cast):
    good = sign_footprint(acme_document(cast), cast.own_private_key)
    bad = sign_footprint(acme_document(cast, pcf={"geographyCountry": "XX"}), cast.own_private_key)
    before = stored()
    upload = process(create(cast, json.dumps([{"jws": good}, {"jws": bad}]).encode(), "a.json"))
    assert upload.status == "failed"
    assert upload.errors == [
        {
            "row": 2,
            "column": "/pcf/geographyCountry",  # JSON items are named by pointer, not column
            "message": "must be an ISO 3166-1 alpha-2 country code (e.g. 'CN'), got 'XX'",
        }
    ]
    assert stored() == before


def test_a_row_whose_id_exists_with_other_content_is_reported_with_its_row(cast):
    existing = cast.footprint
    data = csv_of(bf.example_row(), bf.example_row(id=str(existing.pf_id)))
    before = stored()
    upload = process(create(cast, data, "conflict.csv"))
    assert upload.status == "failed"
    assert [(e["row"], e["message"].split(":")[0]) for e in upload.errors] == [(3, "/id")]
    assert stored() == before


# --------------------------------------------------------------------------- the uploader


def test_an_uploader_who_left_the_company_gets_a_failed_upload(cast):
    upload = create(cast, csv_of(bf.example_row()), "left.csv")
    company_services.membership_remove(actor=cast.actor("admin"), membership=cast.editor)
    before = stored()

    upload = process(upload)

    assert upload.status == "failed"
    assert upload.message == "user: the uploader is no longer a member of the company"
    assert upload.errors == [
        {"row": 0, "column": "user", "message": "the uploader is no longer a member of the company"}
    ]
    assert stored() == before


def test_an_uploader_now_a_viewer_gets_a_failed_upload(cast):
    upload = create(cast, csv_of(bf.example_row()), "demoted.csv")
    company_services.membership_change_role(
        actor=cast.actor("admin"), membership=cast.editor, role="viewer"
    )
    before = stored()

    upload = process(upload)

    assert upload.status == "failed"
    assert upload.message == "role: only a company editor may sign footprints; you are viewer"
    assert stored() == before


def test_a_revoked_clients_upload_fails(cast):
    from companies.access import Actor

    actor = Actor(company=cast.acme, role=cast.client.role, client=cast.client)
    upload = services.upload_create(actor=actor, file_name="erp.csv", data=csv_of(bf.example_row()))
    company_services.api_client_revoke(actor=cast.actor("admin"), client=cast.client)
    before = stored()

    upload = process(upload)

    assert upload.status == "failed"
    assert upload.message == "client: the API client that uploaded was revoked"
    assert stored() == before


def test_a_spreadsheet_fails_if_the_platform_key_was_revoked_meanwhile(cast):
    upload = create(cast, csv_of(bf.example_row()), "keyless.csv")
    company_services.signing_key_revoke(
        actor=cast.actor("admin"), key=cast.platform_key, reason="compromised"
    )
    before = stored()
    upload = process(upload)
    assert upload.status == "failed"
    assert upload.errors[0]["column"] == "signing_key"
    assert stored() == before


# --------------------------------------------------------------------------- real worker


@pytest.mark.celery_worker
def test_an_upload_is_processed_by_the_worker(celery_worker_or_eager, cast, monkeypatch):
    """Through the real worker and Redis when REDIS_URL is set (CI), eagerly otherwise."""
    threads: set[str] = set()
    original = tasks._progress

    def record(upload, **fields):
        threads.add(threading.current_thread().name)
        original(upload, **fields)

    monkeypatch.setattr(tasks, "_progress", record)

    upload = create(cast, csv_of(*bf.many_rows(3)), "worker.csv")  # commits: the job starts

    deadline = time.monotonic() + 60
    while True:
        upload.refresh_from_db()
        if upload.status in ("succeeded", "partial", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.1)

    assert upload.status == "succeeded", (upload.status, upload.phase, upload.errors)
    assert upload.rows_done == upload.rows_total == 3
    assert Footprint.objects.filter(pf_id__in=upload.footprint_ids, channel="bulk").count() == 3
    main = threading.main_thread().name
    if celery_worker_or_eager is None:
        assert threads == {main}  # eager: ran inside the request's thread
    else:
        assert threads and main not in threads  # the worker's thread did the work
