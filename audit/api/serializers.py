"""Serializers of the public audit API: query-parameter inputs, response outputs.

Hashes in proofs and roots are standard base64 (as in C2SP checkpoints); entry
bytes are standard base64 of the exact stored bytes; entry hashes are hex (as in
the entries' ``prev`` field).
"""

from __future__ import annotations

from rest_framework import serializers

#: Most entries one page of the range endpoint returns.
MAX_PAGE = 1000
DEFAULT_PAGE = 100


class EntryRangeQuery(serializers.Serializer):
    start = serializers.IntegerField(min_value=0, default=0, help_text="first seq (inclusive)")
    end = serializers.IntegerField(
        min_value=1, required=False, help_text="last seq + 1 (exclusive); default: log size"
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE, default=DEFAULT_PAGE, help_text="entries per page"
    )


class InclusionQuery(serializers.Serializer):
    tree_size = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="tree size to prove inclusion in; default: the latest checkpoint's size "
        "(or the log size if the entry is newer)",
    )


class ConsistencyQuery(serializers.Serializer):
    first = serializers.IntegerField(min_value=1, help_text="older tree size (>= 1)")
    second = serializers.IntegerField(min_value=1, help_text="newer tree size (<= log size)")


class CosignatureSubmitInput(serializers.Serializer):
    size = serializers.IntegerField(min_value=1, help_text="size of the cosigned checkpoint")
    cosignature = serializers.CharField(
        max_length=500, trim_whitespace=False, help_text="one C2SP cosignature/v1 note line"
    )


class LogKeyOutput(serializers.Serializer):
    origin = serializers.CharField()
    verifier_key = serializers.CharField(help_text="C2SP signed-note verifier key of the log")
    checkpoint_interval_seconds = serializers.IntegerField()


class CosignatureOutput(serializers.Serializer):
    witness = serializers.CharField(source="witness.name")
    signature_line = serializers.CharField()
    timestamp = serializers.IntegerField()


class CheckpointOutput(serializers.Serializer):
    origin = serializers.CharField()
    size = serializers.IntegerField()
    root = serializers.CharField(help_text="base64 Merkle root")  # type: ignore[assignment]
    note = serializers.CharField(help_text="signed note: log signature then cosignatures")
    created_at = serializers.DateTimeField()
    cosignatures = CosignatureOutput(many=True)


class EntryOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    entry = serializers.CharField(help_text="base64 of the exact RFC 8785 entry bytes")
    entry_hash = serializers.CharField(help_text="hex SHA-256(0x00 || entry bytes)")


class EntryRangeOutput(serializers.Serializer):
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    log_size = serializers.IntegerField()
    next = serializers.CharField(allow_null=True, help_text="URL of the next page, or null")
    entries = EntryOutput(many=True)


class InclusionOutput(EntryOutput):
    tree_size = serializers.IntegerField()
    root = serializers.CharField(help_text="base64 Merkle root at tree_size")  # type: ignore[assignment]
    inclusion_proof = serializers.ListField(child=serializers.CharField(), help_text="base64")
    checkpoint = serializers.CharField(
        allow_null=True, help_text="signed checkpoint of tree_size, if one was made"
    )


class ConsistencyOutput(serializers.Serializer):
    first = serializers.IntegerField()
    second = serializers.IntegerField()
    proof = serializers.ListField(child=serializers.CharField(), help_text="base64 hashes")


class CosignatureAccepted(serializers.Serializer):
    size = serializers.IntegerField(source="checkpoint.size")
    witness = serializers.CharField(source="witness.name")
    timestamp = serializers.IntegerField()
