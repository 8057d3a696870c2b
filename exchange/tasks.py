"""Celery tasks of the exchange: processing bulk uploads; delivering PACT events from
the outbox and reminding suppliers of requests coming due (both periodic, see
CELERY_BEAT_SCHEDULE).

The task takes the upload's id, claims it with a conditional update (so a redelivered
message does nothing twice), commits progress as it goes, and stores the footprints in
one transaction at the end: all of them, or (if the upload asked for it) all the good
ones.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from companies.access import Actor
from companies.errors import DomainError, ValidationFailed
from companies.models import Membership
from trust import jcs
from trust.errors import TrustError

from . import bulk, services
from .models import BulkUpload, SubmissionChannel, UploadStatus

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 200  # rows between progress commits


def _progress(upload: BulkUpload, **fields: Any) -> None:
    """Commit progress at once (the task runs outside a transaction)."""
    BulkUpload.objects.filter(pk=upload.pk).update(**fields)
    for name, value in fields.items():
        setattr(upload, name, value)


def _actor_for(upload: BulkUpload) -> Actor:
    """The uploader as they are now: a person who left the company, or a revoked client,
    cannot have their upload processed."""
    if upload.created_by_client is not None:
        client = upload.created_by_client
        if client.revoked_at is not None:
            raise ValidationFailed.single("client", "the API client that uploaded was revoked")
        return Actor(company=upload.company, role=client.role, client=client)
    membership = Membership.objects.filter(user=upload.created_by, company=upload.company).first()
    if membership is None:
        raise ValidationFailed.single("user", "the uploader is no longer a member of the company")
    return Actor(company=upload.company, role=membership.role, user=membership.user)


def _row_errors(row: int, exc: ValidationFailed, *, sheet: bool) -> list[dict[str, Any]]:
    """A row's errors; spreadsheet rows name the column, JSON items the pointer."""
    return [
        {
            "row": row,
            "column": (bulk.column_for_pointer(field) or field) if sheet else field,
            "message": message,
        }
        for field, messages in exc.errors.items()
        for message in messages
    ]


def _items_from_sheet(
    upload: BulkUpload, actor: Actor
) -> tuple[list[tuple[int, dict]], list[dict]]:
    """Spreadsheet rows → documents signed with the platform-held key."""
    company = upload.company
    rows, errors = bulk.parse_upload(
        bytes(upload.content),
        file_name=upload.file_name,
        company_name=company.legal_name,
        company_ids=list(company.identifiers.values_list("urn", flat=True)),
        now=timezone.now(),
        max_rows=settings.BULK_UPLOAD_MAX_ROWS,
    )
    found = [{"row": e.row, "column": e.column, "message": e.message} for e in errors]
    sign = services.platform_signer(actor=actor)
    items = []
    for row in rows:
        try:
            items.append((row.row, {"jws": sign(row.document)}))
        except ValidationFailed as exc:  # the platform signs only valid footprints
            found.extend(_row_errors(row.row, exc, sheet=True))
    return items, found


def _items_from_json(upload: BulkUpload) -> list[tuple[int, dict]]:
    """A JSON array of {"jws": …} objects (``carbonx sign`` output); row = index + 1."""
    try:
        items = jcs.loads_strict(bytes(upload.content))
    except TrustError as exc:
        raise ValidationFailed.single("file", f"is not valid JSON: {exc}") from exc
    if not isinstance(items, list):
        raise ValidationFailed.single("file", 'must be a JSON array of {"jws": …} objects')
    if len(items) > settings.BULK_UPLOAD_MAX_ROWS:
        raise ValidationFailed.single(
            "file", f"holds {len(items)} footprints; the limit is {settings.BULK_UPLOAD_MAX_ROWS}"
        )
    return [
        (index + 1, item if isinstance(item, dict) else {"jws": item})
        for index, item in enumerate(items)
    ]


@shared_task(name="exchange.tasks.bulk_upload_process", acks_late=True)
def bulk_upload_process(upload_id: int) -> str:
    """Validate, sign (spreadsheets) and store an upload's footprints, with progress."""
    claimed = BulkUpload.objects.filter(pk=upload_id, status=UploadStatus.QUEUED).update(
        status=UploadStatus.RUNNING, started_at=timezone.now(), phase="reading the file"
    )
    if not claimed:
        return "not queued"  # already processed or being processed: nothing to do
    upload = BulkUpload.objects.select_related("company", "created_by", "created_by_client").get(
        pk=upload_id
    )
    try:
        return _process(upload)
    except DomainError as exc:
        errors = (
            _row_errors(0, exc, sheet=False)
            if isinstance(exc, ValidationFailed)
            else [{"row": 0, "column": "", "message": exc.message}]
        )
        _finish(upload, UploadStatus.FAILED, errors=errors, message=exc.message)
        return UploadStatus.FAILED
    except bulk.SheetError as exc:
        errors = [{"row": e.row, "column": e.column, "message": e.message} for e in exc.errors]
        _finish(upload, UploadStatus.FAILED, errors=errors, message=str(exc))
        return UploadStatus.FAILED
    except Exception:
        logger.exception("bulk upload %s failed unexpectedly", upload_id)
        _finish(
            upload,
            UploadStatus.FAILED,
            errors=[{"row": 0, "column": "", "message": "internal error; nothing was stored"}],
            message="internal error; nothing was stored",
        )
        raise


def _process(upload: BulkUpload) -> str:
    actor = _actor_for(upload)
    errors: list[dict[str, Any]] = []
    if upload.file_format == "json":
        items = _items_from_json(upload)
    else:
        items, errors = _items_from_sheet(upload, actor)
    total = len(items) + len({e["row"] for e in errors})
    _progress(upload, rows_total=total, rows_done=0, phase="checking rows")

    submitter = services.Submitter(actor)
    prepared: list[tuple[int, Any]] = []
    for position, (row, item) in enumerate(items, start=1):
        try:
            signed = submitter.prepare(jws=item.get("jws"), document=item.get("footprint"))
            prepared.append((row, signed))
        except ValidationFailed as exc:
            errors.extend(_row_errors(row, exc, sheet=upload.file_format != "json"))
        if position % PROGRESS_EVERY == 0:
            _progress(upload, rows_done=position)
    _progress(upload, rows_done=total, phase="storing")  # rows with cell errors are done too

    errors.sort(key=lambda e: (e["row"], e["column"]))
    if errors and upload.all_or_nothing:
        message = f"{len({e['row'] for e in errors})} row(s) have errors; nothing was stored"
        _finish(upload, UploadStatus.FAILED, errors=errors, message=message)
        return UploadStatus.FAILED
    stored: list[str] = []
    pending = prepared
    while pending:
        # One transaction for the whole file. Without all-or-nothing, an item refused
        # at storing time (an id stored meanwhile…) is reported and the rest retried.
        try:
            with transaction.atomic():
                results = submitter.store(
                    [signed for _, signed in pending], channel=SubmissionChannel.BULK
                )
        except services.ItemRefused as exc:
            row = pending[exc.index][0]
            errors.append({"row": row, "column": "", "message": exc.error.message})
            if upload.all_or_nothing:
                message = f"row {row}: {exc.error.message}; nothing was stored"
                _finish(upload, UploadStatus.FAILED, errors=errors, message=message)
                return UploadStatus.FAILED
            pending = pending[: exc.index] + pending[exc.index + 1 :]
            continue
        stored = [str(result.footprint.pf_id) for result in results]
        break
    if not errors:
        status = UploadStatus.SUCCEEDED
    else:
        status = UploadStatus.PARTIAL if stored else UploadStatus.FAILED
    message = f"{len(stored)} footprint(s) stored" + (f", {len(errors)} error(s)" if errors else "")
    _finish(upload, status, errors=errors, message=message, footprint_ids=stored)
    return status


def _finish(upload: BulkUpload, status: str, **fields: Any) -> None:
    _progress(upload, status=status, finished_at=timezone.now(), phase="done", **fields)


# --- PACT events and request reminders -------------------------------------------------


@shared_task(name="exchange.tasks.deliver_outbox", acks_late=True, ignore_result=True)
def deliver_outbox(limit: int = 100) -> dict[str, int]:
    """Send due PACT events to partner hosts (every 30 s, and after each commit that
    queues one); failures are retried with backoff until the message gives up."""
    from .pact_events import deliver_due

    return deliver_due(limit=limit)


@shared_task(name="exchange.tasks.requests_remind", acks_late=True, ignore_result=True)
def requests_remind() -> int:
    """E-mail suppliers about requests coming due (each request once)."""
    from .sharing import requests_remind as remind

    return remind()
