"""Domain errors with stable codes; one exception handler maps them to HTTP.

Every later app raises these (or subclasses) from its services, so the API, the portal
and the CLI report the same message for the same broken rule.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request that breaks a business rule. ``field`` names what to fix, if one thing."""

    code = "invalid"
    http_status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body


class ValidationFailed(DomainError):
    """One or more fields are invalid: ``errors`` maps field name to messages."""

    code = "validation_failed"

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        summary = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
        super().__init__(summary, field=next(iter(errors), None))

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "errors": self.errors}

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        return cls({field: [message]})


class PermissionDenied(DomainError):
    code = "permission_denied"
    http_status = 403


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class CompanySuspended(PermissionDenied):
    code = "company_suspended"

    def __init__(self, company_name: str):
        super().__init__(
            f"company.status: {company_name} is suspended; it cannot make changes until the "
            "zone operator reinstates it",
            field="company.status",
        )
