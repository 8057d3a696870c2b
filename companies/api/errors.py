"""The one exception handler of the platform API: domain errors become JSON bodies
``{"code", "message", "errors"?, "field"?}`` with the error's HTTP status."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from companies.errors import DomainError


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                name = f"{prefix}[{key}]"  # an item of a list field: identifiers[0]
            elif key == "non_field_errors":
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(_flatten(value, name))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "request": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            flat.update(_flatten(item, f"{prefix}[{index}]"))
        return flat
    return {prefix or "request": [str(detail)]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.http_status)
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        message = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
        return Response(
            {"code": "validation_failed", "message": message, "errors": errors}, status=400
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        detail = exc.detail
        response.data = {
            "code": exc.get_codes() if isinstance(exc.get_codes(), str) else "error",
            "message": str(detail),
        }
    return response
