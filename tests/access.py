"""The vocabulary of the permission matrix.

Each app lists one ``Case`` per URL pattern (tests/<app>/access_matrix.py); the matrix
test runs every case as every principal and fails when a URL pattern has no case, so
a new endpoint cannot ship unguarded.

Principals: "anonymous"; "admin", "editor", "viewer" of the cast's supplier (acme);
"outsider" (admin of another company); "operator" (admin of the zone operator);
"client" (acme's OAuth2 client-credentials client, role editor, Bearer token).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PRINCIPALS = ("anonymous", "outsider", "viewer", "editor", "admin", "operator", "client")
ALL = frozenset(PRINCIPALS)
SIGNED_IN = ALL - {"anonymous", "client"}
ACME = frozenset({"viewer", "editor", "admin"})
ACME_ADMIN = frozenset({"admin"})
ADMINS = frozenset({"admin", "outsider", "operator"})
OPERATOR = frozenset({"operator"})

Value = dict[str, Any] | Callable[[Any], Any] | None


@dataclass(frozen=True)
class Case:
    """One request, and who may make it successfully.

    ``allowed``: principals for whom it succeeds (status < 400, no redirect to sign-in).
    Everyone else must be refused: 401, 403, 404 or a redirect to the sign-in page.
    ``private``: strings of acme's (key ids, e-mails…) that must never appear in a
    response to anyone outside acme, whatever the status.
    The "client" principal need not be listed: by default it may do what an editor may
    do on the API (``api:`` names) and whatever anonymous callers may do; portal pages
    refuse it. ``client`` overrides that default.
    """

    name: str
    allowed: frozenset[str]
    kwargs: Value = None
    method: str = "get"
    data: Value = None
    query: Value = None
    content_type: str = "application/json"
    private: Callable[[Any], list[str]] | None = None
    label: str = ""
    headers: Value = field(default=None)
    client: bool | None = None
    # Statuses that count as a refusal. A write whose body belongs to acme (a footprint
    # signed with acme's key) is refused by validation (400) for anyone acting for
    # another company; such cases add 400 here.
    refused: frozenset[int] = frozenset({401, 403, 404})

    def allows(self, principal: str) -> bool:
        if principal == "client" and self.client is not None:
            return self.client
        if principal == "client":
            on_api = self.name.split(":")[0].endswith("api")
            api_editor = on_api and "editor" in self.allowed
            return api_editor or "anonymous" in self.allowed
        return principal in self.allowed

    @property
    def id(self) -> str:
        return f"{self.name}:{self.method}{':' + self.label if self.label else ''}"


def resolve(value: Value, cast: Any) -> Any:
    if value is None:
        return {}
    if callable(value):
        return value(cast)
    return value
