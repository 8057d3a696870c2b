"""Celery tasks of the audit log: periodic checkpoints and witness requests.

Both are idempotent: a checkpoint is only made when the log grew, and a witness is
only asked to cosign a checkpoint larger than the last one it cosigned.
"""

from __future__ import annotations

import logging

import httpx
from celery import shared_task

from trust.encoding import b64_std_encode

from . import selectors, services
from .models import Checkpoint, Witness

logger = logging.getLogger(__name__)

#: How long the platform waits for a witness to answer add-checkpoint.
WITNESS_TIMEOUT_SECONDS = 10.0


@shared_task(name="audit.tasks.checkpoint_make")
def checkpoint_make() -> int | None:
    """Beat task (every AUDIT_CHECKPOINT_INTERVAL_SECONDS): sign a checkpoint if the
    log grew.  Returns the new checkpoint's size, or None."""
    checkpoint = services.checkpoint_create()
    return checkpoint.size if checkpoint is not None else None


def add_checkpoint_body(*, old_size: int, proof: list[bytes], note: str) -> str:
    """The C2SP tlog-witness add-checkpoint request body."""
    lines = [f"old {old_size}", *(b64_std_encode(p) for p in proof)]
    return "".join(f"{line}\n" for line in lines) + "\n" + note


def _proof_from(old_size: int, new_size: int) -> list[bytes]:
    if old_size == 0 or old_size == new_size:
        return []
    return selectors.consistency_proof(first=old_size, second=new_size)


@shared_task(
    name="audit.tasks.witness_request_cosignature",
    autoretry_for=(httpx.TransportError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def witness_request_cosignature(witness_id: int, checkpoint_id: int) -> bool:
    """Send a checkpoint with a consistency proof from the witness's last cosigned
    size to ``<witness url>/add-checkpoint``; store the verified cosignature.

    A 409 with the witness's own size (it remembers a different one than we do) is
    adopted and the request retried once; other refusals are recorded on the
    witness for the operator.  Returns whether a cosignature was stored.
    """
    witness = Witness.objects.filter(pk=witness_id, active=True).exclude(url="").first()
    checkpoint = Checkpoint.objects.filter(pk=checkpoint_id).first()
    if witness is None or checkpoint is None:
        return False
    if witness.last_cosigned_size >= checkpoint.size:
        return False
    old_size = witness.last_cosigned_size
    url = witness.url.rstrip("/") + "/add-checkpoint"
    with httpx.Client(timeout=WITNESS_TIMEOUT_SECONDS) as client:
        for _attempt in range(2):
            body = add_checkpoint_body(
                old_size=old_size,
                proof=_proof_from(old_size, checkpoint.size),
                note=checkpoint.note,
            )
            response = client.post(url, content=body.encode("utf-8"))
            if response.status_code == 409 and response.text.strip().isdigit():
                reported = int(response.text.strip())
                if reported > checkpoint.size or reported == old_size:
                    break
                old_size = reported
                services.witness_record_size(witness_id=witness.pk, size=reported)
                continue
            if response.status_code != 200:
                break
            stored = False
            for line in response.text.splitlines():
                if line.startswith(f"— {witness.name} "):
                    try:
                        services.cosignature_record(
                            checkpoint=checkpoint, witness=witness, line=line
                        )
                        stored = True
                    except services.CosignatureRejected as exc:
                        services.witness_record_error(witness_id=witness.pk, message=exc.message)
                        return False
            if not stored:
                services.witness_record_error(
                    witness_id=witness.pk,
                    message="witness answered without a cosignature of its key",
                )
            return stored
    message = f"add-checkpoint for size {checkpoint.size} refused: HTTP {response.status_code}"
    detail = response.text.strip()[:500]
    services.witness_record_error(witness_id=witness.pk, message=f"{message} {detail}".strip())
    logger.warning("witness %s: %s", witness.name, message)
    return False


__all__ = ["add_checkpoint_body", "checkpoint_make", "witness_request_cosignature"]
