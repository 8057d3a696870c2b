"""Public, read-only audit endpoints (no login) plus the witness cosignature push.

Everything served here is either public by design (entry bytes, proofs, signed
checkpoints) or self-authenticating (a cosignature is accepted only if it verifies
against a registered witness key).  Payloads are not served: entries commit to
their SHA-256 only, and the payload is shown to its own company in the portal.
Immutable answers (fixed ranges, proofs for a given size) are cacheable forever.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trust.encoding import b64_std_encode

from .. import selectors, services
from ..models import AuditEntry, Checkpoint
from . import serializers as s

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=5"
HOUR = "public, max-age=3600"


def _cached(data: Any, cache_control: str, code: int = status.HTTP_200_OK) -> Response:
    response = Response(data, status=code)
    response["Cache-Control"] = cache_control
    return response


def _validated(serializer_class: type[s.serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _bad(param: str, rule: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({param: [rule]})


def _entry_data(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "entry": b64_std_encode(bytes(entry.entry_bytes)),
        "entry_hash": bytes(entry.entry_hash).hex(),
    }


def _checkpoint_data(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "origin": settings.AUDIT_LOG_ORIGIN,
        "size": checkpoint.size,
        "root": b64_std_encode(bytes(checkpoint.root)),
        "note": services.checkpoint_note_with_cosignatures(checkpoint),
        "created_at": checkpoint.created_at,
        "cosignatures": checkpoint.cosignatures.select_related("witness").order_by("witness__name"),
    }


class PublicView(APIView):
    """No authentication (so no CSRF either), anyone may read."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]


class LogKeyView(PublicView):
    @extend_schema(
        operation_id="audit_log_key",
        tags=["audit"],
        summary="The log's origin and public key",
        responses=s.LogKeyOutput,
    )
    def get(self, request: Request) -> Response:
        data = {
            "origin": settings.AUDIT_LOG_ORIGIN,
            "verifier_key": services.log_verifier_key(),
            "checkpoint_interval_seconds": settings.AUDIT_CHECKPOINT_INTERVAL_SECONDS,
        }
        return _cached(s.LogKeyOutput(data).data, HOUR)


class CheckpointLatestView(PublicView):
    @extend_schema(
        operation_id="audit_checkpoint_latest",
        tags=["audit"],
        summary="Latest signed checkpoint with witness cosignatures",
        responses={200: s.CheckpointOutput, 404: OpenApiResponse(description="no checkpoint yet")},
    )
    def get(self, request: Request) -> Response:
        checkpoint = selectors.checkpoint_latest()
        if checkpoint is None:
            raise exceptions.NotFound("no checkpoint has been made yet")
        return _cached(s.CheckpointOutput(_checkpoint_data(checkpoint)).data, SHORT)


class CheckpointDetailView(PublicView):
    @extend_schema(
        operation_id="audit_checkpoint_detail",
        tags=["audit"],
        summary="The signed checkpoint of one tree size",
        responses={200: s.CheckpointOutput, 404: OpenApiResponse(description="no such checkpoint")},
    )
    def get(self, request: Request, size: int) -> Response:
        checkpoint = selectors.checkpoint_at(size)
        if checkpoint is None:
            raise exceptions.NotFound(f"size: no checkpoint of size {size}")
        # Cosignatures can still arrive, so not immutable.
        return _cached(s.CheckpointOutput(_checkpoint_data(checkpoint)).data, SHORT)


class EntryRangeView(PublicView):
    @extend_schema(
        operation_id="audit_entries_list",
        tags=["audit"],
        summary="Entries by seq range, paginated (keyset: follow `next`)",
        parameters=[s.EntryRangeQuery],
        responses=s.EntryRangeOutput,
    )
    def get(self, request: Request) -> Response:
        query = _validated(s.EntryRangeQuery, request.query_params)
        size = selectors.log_size()
        start: int = query["start"]
        explicit_end = "end" in query
        end: int = query.get("end", size)
        if start > size:
            raise _bad("start", f"must be at most the log size ({size})")
        if end > size:
            raise _bad("end", f"must be at most the log size ({size})")
        if explicit_end and end <= start:
            raise _bad("end", "must be greater than start")
        page_end = min(end, start + query["limit"])
        entries = selectors.entries_range(start=start, end=page_end)
        next_url = None
        if page_end < end:
            params = {"start": page_end, "limit": query["limit"]}
            if explicit_end:
                params["end"] = end
            next_url = request.build_absolute_uri(f"{request.path}?{urlencode(params)}")
        data = {
            "start": start,
            "end": page_end,
            "log_size": size,
            "next": next_url,
            "entries": [_entry_data(e) for e in entries],
        }
        # A page whose bounds were fixed by the client never changes.
        return _cached(s.EntryRangeOutput(data).data, IMMUTABLE if explicit_end else SHORT)


class EntryProofView(PublicView):
    @extend_schema(
        operation_id="audit_entry_proof",
        tags=["audit"],
        summary="One entry with its inclusion proof for a tree size",
        parameters=[s.InclusionQuery],
        responses={200: s.InclusionOutput, 404: OpenApiResponse(description="no such entry")},
    )
    def get(self, request: Request, seq: int) -> Response:
        query = _validated(s.InclusionQuery, request.query_params)
        size = selectors.log_size()
        if seq >= size:
            raise exceptions.NotFound(f"seq: no entry {seq}; the log has {size} entries")
        tree_size = query.get("tree_size")
        if tree_size is None:
            latest = selectors.checkpoint_latest()
            tree_size = latest.size if latest is not None and latest.size > seq else size
        elif tree_size <= seq:
            raise _bad("tree_size", f"must be greater than seq ({seq})")
        elif tree_size > size:
            raise _bad("tree_size", f"must be at most the log size ({size})")
        answer = selectors.entry_with_proof(seq=seq, tree_size=tree_size)
        if answer is None:
            raise exceptions.NotFound(f"seq: no entry {seq}")
        data = {
            **_entry_data(answer.entry),
            "tree_size": answer.tree_size,
            "root": b64_std_encode(answer.root),
            "inclusion_proof": [b64_std_encode(p) for p in answer.proof],
            "checkpoint": answer.checkpoint.note if answer.checkpoint else None,
        }
        cache = IMMUTABLE if "tree_size" in query else SHORT
        return _cached(s.InclusionOutput(data).data, cache)


class ConsistencyView(PublicView):
    @extend_schema(
        operation_id="audit_consistency_proof",
        tags=["audit"],
        summary="Consistency proof between two tree sizes",
        parameters=[s.ConsistencyQuery],
        responses=s.ConsistencyOutput,
    )
    def get(self, request: Request) -> Response:
        query = _validated(s.ConsistencyQuery, request.query_params)
        first, second = query["first"], query["second"]
        size = selectors.log_size()
        if second > size:
            raise _bad("second", f"must be at most the log size ({size})")
        if first > second:
            raise _bad("first", f"must be at most second ({second})")
        proof = selectors.consistency_proof(first=first, second=second)
        data = {"first": first, "second": second, "proof": [b64_std_encode(p) for p in proof]}
        return _cached(s.ConsistencyOutput(data).data, IMMUTABLE)


class CosignatureSubmitView(PublicView):
    @extend_schema(
        operation_id="audit_cosignature_submit",
        tags=["audit"],
        summary="A witness submits its cosignature on a checkpoint",
        request=s.CosignatureSubmitInput,
        responses={
            201: s.CosignatureAccepted,
            400: OpenApiResponse(description="cosignature malformed, unknown or invalid"),
            404: OpenApiResponse(description="no checkpoint of that size"),
        },
    )
    def post(self, request: Request) -> Response:
        data = _validated(s.CosignatureSubmitInput, request.data)
        try:
            cosignature = services.cosignature_submit(size=data["size"], line=data["cosignature"])
        except services.CosignatureRejected as exc:
            if exc.code == "checkpoint_not_found":
                raise exceptions.NotFound(exc.message) from exc
            raise _bad("cosignature", exc.message) from exc
        response = Response(s.CosignatureAccepted(cosignature).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response
