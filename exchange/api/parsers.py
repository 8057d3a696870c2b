"""A JSON parser that refuses what RFC 8785 cannot canonicalise.

DRF's default parser accepts duplicate keys (the last wins) and NaN; a signed document
must not be ambiguous, so footprint endpoints parse with trust.jcs.loads_strict.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from trust import jcs
from trust.errors import TrustError


class StrictJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.API_MAX_BODY_BYTES
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise ParseError(f"request body is larger than {limit} bytes")
        try:
            return jcs.loads_strict(data)
        except TrustError as exc:
            raise ParseError(f"JSON: {exc}") from exc
